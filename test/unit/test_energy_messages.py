# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The power monitor's dicts <-> nsvla_interfaces energy messages (no rclpy.init)."""

import pytest

from nsvla_common.errors import ValidationError
from nsvla_energy.attribution import ROLES
from nsvla_energy.episodes import EnergySnapshot, EpisodeAccountant
from nsvla_energy.messages import (energy_from_msg, energy_to_msg, named_dict, named_values,
                                   power_from_msg, power_to_msg, record_from_msg, record_to_msg)

pytest.importorskip('nsvla_interfaces.msg', reason='nsvla_interfaces is not built here')

STAMP = 1.7e9


def _wire(msg):
    """Serialise and read back: proves every field has the type the message declares."""
    serialization = pytest.importorskip('rclpy.serialization',
                                        reason='rclpy is not importable here')
    return serialization.deserialize_message(serialization.serialize_message(msg), type(msg))


def _snap(t, joules, planning=0.0, gpu=0.0):
    per_node = {role: 0.0 for role in ROLES}
    per_node.update(planning=planning, other=joules - planning)
    return EnergySnapshot(t=t, stamp=STAMP + t, source='nvml+rapl', estimated=False,
                          joules=joules + gpu, watts=0.0, per_node=per_node,
                          sources={'nvml': {'joules': gpu}, 'rapl': {'joules': joules}})


def _ev(event, episode='ep1', **fields):
    body = {'schema': 'nsvla/execution_status/1', 'stamp': 0.0, 'episode_id': episode,
            'event': event}
    body.update(fields)
    return body


def _record(result='solved'):
    acc = EpisodeAccountant()
    acc.handle(_ev('episode_start'), _snap(1.0, 10.0, 1.0, gpu=2.0))
    acc.handle(_ev('step_start', step=0), _snap(1.5, 12.0, 2.0, gpu=2.5))
    acc.handle(_ev('step_end', step=0, result='ok'), _snap(2.5, 15.0, 4.0, gpu=3.0))
    acc.handle(_ev('replan', reason='block dropped'), _snap(2.6, 15.5, 4.5, gpu=3.0))
    acc.handle(_ev('step_start'), _snap(3.0, 16.0, 5.0, gpu=3.0))
    acc.handle(_ev('step_end'), _snap(4.0, 20.0, 6.0, gpu=4.0))     # no step index, no result
    return acc.handle(_ev('episode_end', result=result), _snap(5.0, 25.0, 7.0, gpu=5.0))


def _same_record(got, want):
    """Float64 fields travel exactly; only the stamp goes through builtin_interfaces/Time."""
    assert got['stamp'] == pytest.approx(want['stamp'], abs=1e-6)
    assert got == dict(want, stamp=got['stamp'])


@pytest.mark.parametrize('result, success', [('solved', True), ('failed', False),
                                             ('cancelled', False), (None, None),
                                             ('halfway', None)])
def test_episode_record_round_trip(result, success):
    record = _record(result)
    assert record['success'] is success
    msg = _wire(record_to_msg(record))
    assert msg.episode_id == 'ep1' and msg.steps == 2 and msg.replans == 1
    assert [v.name for v in msg.joules_per_node] == list(ROLES)
    assert [v.name for v in msg.joules_per_source] == ['nvml', 'rapl']
    assert [s.step for s in msg.per_step] == [0, -1]
    assert msg.per_step[0].result == 'ok' and msg.per_step[1].result == ''
    assert msg.result == (result or '') and msg.success is bool(success)
    back = record_from_msg(msg)
    _same_record(back, record)
    assert back['schema'] == 'nsvla/energy_episode/1'
    assert back['per_step'][1]['step'] is None and back['per_step'][1]['result'] is None
    assert back['joules'] == pytest.approx(18.0)


def test_record_without_a_known_outcome_keeps_a_true_flag():
    record = dict(_record(None), success=True)          # an explicit success, no result word
    assert record_from_msg(record_to_msg(record))['success'] is True


def test_a_message_that_is_not_a_record_is_refused():
    from nsvla_interfaces.msg import EpisodeEnergy, PowerReading
    with pytest.raises(ValidationError, match='episode_id'):
        record_from_msg(EpisodeEnergy())
    with pytest.raises(ValidationError, match='energy record is malformed'):
        record_from_msg(PowerReading())
    with pytest.raises(ValidationError, match='power reading is malformed'):
        power_from_msg(object())


def test_named_values_follow_the_roles_then_the_names():
    values = named_values({'zeta': 1.0, 'other': 2.0, 'planning': 3, 'alpha': 4.0})
    assert [v.name for v in values] == ['planning', 'other', 'alpha', 'zeta']
    assert isinstance(values[0].value, float)
    assert named_dict(values) == {'planning': 3.0, 'other': 2.0, 'alpha': 4.0, 'zeta': 1.0}
    assert [v.name for v in named_values({'b': 1, 'a': 2}, order=None)] == ['b', 'a']
    assert named_values(None) == [] and named_values({}) == []


def test_power_and_energy_round_trip():
    power = {'schema': 'nsvla/power/1', 'stamp': STAMP, 'source': 'nvml', 'estimated': False,
             'watts': 120.5,
             'sources': {'nvml': {'watts': 100.0, 'estimated': False},
                         'rapl': {'watts': 20.5, 'estimated': False}},
             'per_node': {role: float(i) for i, role in enumerate(ROLES)}}
    msg = _wire(power_to_msg(power, {'nvml': 7.0, 'rapl': 3.0}))
    assert [(s.name, s.watts, s.joules) for s in msg.sources] == [('nvml', 100.0, 7.0),
                                                                  ('rapl', 20.5, 3.0)]
    assert [v.name for v in msg.per_node] == list(ROLES)
    back = power_from_msg(msg)
    assert back['stamp'] == pytest.approx(STAMP)
    assert dict(back, stamp=STAMP) == power
    assert [s.joules for s in power_to_msg(power).sources] == [0.0, 0.0]

    energy = {'schema': 'nsvla/energy/1', 'stamp': STAMP + 0.25, 'source': 'estimate',
              'estimated': True, 'joules': 42.0, 'watts': 10.0, 'elapsed_s': 4.2,
              'sources': {'estimate': {'source': 'estimate', 'joules': 42.0, 'watts': 10.0,
                                       'estimated': True, 'parts': {'cpu': 42.0}}},
              'per_node': {role: 7.0 for role in ROLES},
              'why': ['nvml: no GPU', 'rapl: not readable']}
    msg = _wire(energy_to_msg(energy))
    assert msg.why == energy['why'] and msg.estimated is True and msg.elapsed_s == 4.2
    back = energy_from_msg(msg)
    assert back['stamp'] == pytest.approx(STAMP + 0.25)
    want = dict(energy, stamp=back['stamp'])
    want['sources'] = {'estimate': {k: v for k, v in energy['sources']['estimate'].items()
                                    if k != 'parts'}}          # the parts do not travel
    assert back == want
