{#- The seed demo: a code release rolled out one web host at a time behind haproxy.
    POST /hook/release {"version": "2.0.0"} (or `reactor event send salt/netapi/hook/release
    '{"post": {"version": "2.0.0"}}'`) starts orch/release.sls with the version as pillar data
    (`| json`: whatever the body holds stays data). A body without a version does nothing. -#}
{% if data['post'] is mapping and data['post'].get('version') %}
release:
  runner.state.orchestrate:
    - args:
      - mods: orch/release.sls
      - pillar:
          version: {{ data['post']['version'] | json }}
          backend: {{ data['post'].get('backend', 'app') | json }}
{% endif %}
