{#- Code release (started by release.sls), one web host at a time:
      out_<host>     take it out of the haproxy backend (haproxy.disable_server on the roles:lb hosts)
      deploy_<host>  run the deploy command in the app's folder (cmd.run deploy.mjs VERSION)
      restart_<host> restart the app (service.restart app)
      check_<host>   from the load balancer, wait until it answers with the new version
      in_<host>      put it back (haproxy.enable_server)
    Each step is failhard: the first failure stops the run, and the host it failed on stays out of
    rotation while the others keep serving. Hosts come from the mine (`app` entries of roles:web,
    {addr, url, dir}), in id order; host N+1 starts after host N is back in.
    pillar: version (required), backend (default app).
    `reactor orchestrate reactors/orch/release.sls --pillar '{"version": "2.0.0"}' --dry-run` shows the plan. -#}
{% set version = pillar['version'] %}
{% set backend = pillar.get('backend', 'app') %}
{% set hosts = mine('roles:web', 'app', tgt_type='grain') %}
{% set lb = {'tgt': 'roles:lb', 'tgt_type': 'grain'} %}
{% if not hosts %}
no_web_hosts:
  test.fail_without_changes:
    - name: no host with an `app` mine entry and grain roles:web
    - failhard: True
{% endif %}
{% for id in hosts | sort %}
{% set app = hosts[id] %}
out_{{ id }}:
  salt.function:
    - name: haproxy.disable_server
    - tgt: {{ lb['tgt'] | json }}
    - tgt_type: {{ lb['tgt_type'] | json }}
    - arg: [ {{ id | json }}, {{ backend | json }} ]
    - failhard: True
{% if loop.previtem %}
    - require:
      - salt: in_{{ loop.previtem }}
{% endif %}

deploy_{{ id }}:
  salt.function:
    - name: cmd.run
    - tgt: [ {{ id | json }} ]
    - tgt_type: list
    - arg:
      - [ node, deploy.mjs, {{ version | json }} ]
    - kwarg:
        cwd: {{ app['dir'] | json }}
    - failhard: True
    - require:
      - salt: out_{{ id }}

restart_{{ id }}:
  salt.function:
    - name: service.restart
    - tgt: [ {{ id | json }} ]
    - tgt_type: list
    - arg: [ app ]
    - failhard: True
    - require:
      - salt: deploy_{{ id }}

check_{{ id }}:
  salt.function:
    - name: http.wait_for_successful_query
    - tgt: {{ lb['tgt'] | json }}
    - tgt_type: {{ lb['tgt_type'] | json }}
    - arg: [ {{ app['url'] | json }} ]
    - kwarg:
        status: 200
        match: {{ (id ~ ' ' ~ version) | json }}
        wait_for: 30
        request_interval: 0.5
    - failhard: True
    - require:
      - salt: restart_{{ id }}

in_{{ id }}:
  salt.function:
    - name: haproxy.enable_server
    - tgt: {{ lb['tgt'] | json }}
    - tgt_type: {{ lb['tgt_type'] | json }}
    - arg: [ {{ id | json }}, {{ backend | json }} ]
    - failhard: True
    - require:
      - salt: check_{{ id }}
{% endfor %}
