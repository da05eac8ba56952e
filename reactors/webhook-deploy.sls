{#- A webhook starts an orchestration: POST /hook/deploy {"target": "web*", "version": "1.2.3"}
    becomes salt/netapi/hook/deploy {body, post, headers}. The body is passed as pillar data with
    `| json`, so whatever it holds stays data. A request without a version does nothing. -#}
{% if data['post'].get('version') %}
deploy:
  runner.state.orchestrate:
    - args:
      - mods: orch/deploy.sls
      - pillar:
          target: {{ data['post'].get('target', 'web*') | json }}
          version: {{ data['post']['version'] | json }}
{% endif %}
