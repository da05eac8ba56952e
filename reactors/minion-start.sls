{#- Salt's "highstate on start" example, with what our agents can run today.
    There is no state.apply (no state system on agents yet): instead, when an agent starts we
    check it answers, collect its grains into the job returns, and refresh its mine data.
    Event: salt/minion/<id>/start {id, data: "Minion <id> started at ..."} -#}
ping_{{ data['id'] }}:
  local.test.ping:
    - tgt: {{ data['id'] }}

grains_{{ data['id'] }}:
  local.grains.items:
    - tgt: {{ data['id'] }}

mine_{{ data['id'] }}:
  local.mine.update:
    - tgt: {{ data['id'] }}
