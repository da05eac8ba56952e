{#- Disk nearly full: delete cache files older than a day on that host. The diskusage beacon sends
    salt/beacon/<id>/diskusage/ with {mount, diskusage} (percent). The map entry's `when:` already
    keeps usage >= 90; the command is an argv list, so no shell ever sees event data. -#}
clean_cache:
  local.cmd.run:
    - tgt: {{ data['id'] }}
    - args:
      - cmd: [ "find", "/tmp/nats-reactor-demo/cache", "-type", "f", "-mtime", "+1", "-delete" ]

drop_marker:
  local.file.remove:
    - tgt: {{ data['id'] }}
    - args:
      - path: /tmp/nats-reactor-demo/cache/.full
