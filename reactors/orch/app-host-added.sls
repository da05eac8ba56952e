{#- A web host joins the haproxy backend (started by app-host-added.sls), on every load balancer
    (grain roles: lb): added in maintenance (haproxy.add_server; an existing entry keeps its place and
    gets the new address), enabled once the load balancer sees it answer.
    pillar: id, app {addr, url}, backend (default app). -#}
{% set id = pillar['id'] %}
{% set app = pillar['app'] %}
{% set backend = pillar.get('backend', 'app') %}
add:
  salt.function:
    - name: haproxy.add_server
    - tgt: 'roles:lb'
    - tgt_type: grain
    - arg: [ {{ id | json }}, {{ backend | json }}, {{ app['addr'] | json }} ]
    - failhard: True

answers:
  salt.function:
    - name: http.wait_for_successful_query
    - tgt: 'roles:lb'
    - tgt_type: grain
    - arg: [ {{ app['url'] | json }} ]
    - kwarg:
        status: 200
        wait_for: 45            # under the step's 60 s timeout
        request_interval: 0.5
    - failhard: True
    - require:
      - salt: add

enable:
  salt.function:
    - name: haproxy.enable_server
    - tgt: 'roles:lb'
    - tgt_type: grain
    - arg: [ {{ id | json }}, {{ backend | json }} ]
    - require:
      - salt: answers
