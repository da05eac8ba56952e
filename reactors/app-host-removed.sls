{#- A key was deleted (salt/key {id, act: delete}): that host is gone for good, so it leaves the
    haproxy backend on every load balancer (grain roles: lb). haproxy.del_server drains it first and
    does nothing when the host was never there. -#}
{% if data.get('act') == 'delete' %}
remove_{{ data['id'] }}:
  local.haproxy.del_server:
    - tgt: 'roles:lb'
    - tgt_type: grain
    - args:
      - name: {{ data['id'] | json }}
      - backend: app
{% endif %}
