{#- Orchestration started by webhook-deploy.sls: pillar {target, version}.
    Rolling: one host at a time (batch: 1), check it answers, run the deploy command, restart
    the service; a failure stops the run (failhard). `reactor orchestrate reactors/orch/deploy.sls
    --dry-run` shows the plan. -#}
{% set target = pillar.get('target', 'web*') %}
{% set version = pillar.get('version', 'latest') %}
ping:
  salt.function:
    - name: test.ping
    - tgt: {{ target | json }}
    - failhard: True

deploy:
  salt.function:
    - name: cmd.run
    - tgt: {{ target | json }}
    - batch: 1
    - arg:
      - [ "echo", "deploying version", {{ version | json }} ]
    - failhard: True
    - require:
      - salt: ping

restart:
  salt.function:
    - name: service.restart
    - tgt: {{ target | json }}
    - batch: 1
    - arg:
      - demo-web
    - require:
      - salt: deploy
