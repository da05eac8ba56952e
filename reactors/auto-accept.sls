{#- Salt's auto-accept example, unchanged: a pending key of an agent whose id starts with
    "web" or matches "db-*.example.com" is accepted. Any other pending key stays pending for
    `reactor key accept ID`.
    Event: salt/auth {id, act: pend|accept|reject|denied, pub, result} -#}
{% if 'act' in data and data['act'] == 'pend' %}
{% if data['id'].startswith('web') or data['id'] is match('db-[0-9]+\.example\.com$') %}
accept_{{ data['id'] }}:
  wheel.key.accept:
    - args:
      - match: {{ data['id'] }}
{% endif %}
{% endif %}
