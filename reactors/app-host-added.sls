{#- A web host published (or changed) its `app` mine entry: salt/mine/<id>/app/changed, sent by
    agents with `mine_change_events: true`; data {id, fun, stamp, first, value}, value being what
    the mine now holds, e.g. {addr: 10.0.0.5:8081, url: http://10.0.0.5:8081/, dir: /srv/app}.
    A key is accepted before its agent runs anything, so this is how a newly accepted host joins:
    orch/app-host-added.sls puts it behind haproxy once it answers. -#}
{% if data['value'] is mapping and data['value'].get('addr') and data['value'].get('url') %}
add_{{ data['id'] }}:
  runner.state.orchestrate:
    - args:
      - mods: orch/app-host-added.sls
      - pillar:
          id: {{ data['id'] | json }}
          app: {{ data['value'] | json }}
{% endif %}
