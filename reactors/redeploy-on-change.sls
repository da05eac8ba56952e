{#- Redeploy when a config file changes. The inotify beacon (examples/beacons.yaml watches
    /tmp/nats-reactor-demo/) sends salt/beacon/<id>/inotify/<dir> with {path, change}.
    Only *.conf files that were written or created count; a deleted file or a swap file does not. -#}
{% if data['path'].endswith('.conf') and data['change'] in ['IN_MODIFY', 'IN_CLOSE_WRITE', 'IN_CREATE', 'IN_MOVED_TO'] %}
redeploy_demo_web:
  local.service.restart:
    - tgt: {{ data['id'] }}
    - args:
      - name: demo-web
{% endif %}
