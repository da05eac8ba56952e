{#- Restart a stopped service, in Salt's form. The service beacon sends
    salt/beacon/<id>/service/<name> with {service_name: <name>, <name>: {running: true|false}}.
    A running service (the beacon fires every interval) renders nothing. -#}
{% set svc = data['service_name'] %}
{% if data[svc]['running'] == False %}
restart_{{ svc }}:
  local.service.restart:
    - tgt: {{ data['id'] }}
    - args:
      - name: {{ svc }}
{% endif %}
