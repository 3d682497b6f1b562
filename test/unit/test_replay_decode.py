# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Replay on typed bags and on the JSON-in-String bags recorded before: same content, same numbers.

Bags are written here with rosbags (typed messages built with the generated classes and
serialised by ``rclpy.serialization``, raw, as the recorder writes them) and evaluated with a
stand-in perception that reads the frame's index from its pixels, so no renderer and no ROS
graph is needed.
"""

import pytest

from nsvla_common import envelope
from nsvla_common.errors import ConfigError, ValidationError
from nsvla_eval import recorder, replay, replay_bag, replay_decode
from nsvla_planner import domain, messages
from nsvla_planner.planning import PlanResult
from nsvla_planner.state import Goal, SymbolicState

T0 = 1_700_000_000 * 10 ** 9
STATES = [SymbolicState.tower(3, 3, 1, source='ground_truth'),
          SymbolicState.from_stacks({'p1': ['b3', 'b2'], 'p3': ['b1']}, 3, 3,
                                    source='ground_truth'),
          SymbolicState.from_stacks({'p1': ['b3'], 'p2': ['b1'], 'p3': ['b2']}, 3, 3,
                                    source='ground_truth')]
GOAL = Goal.tower(3, 2, text='move the tower to the middle peg')
ENERGY = {'source': 'estimate', 'estimated': True, 'joules': 42.5, 'watts': 12.0,
          'elapsed_s': 3.5, 'why': ['no RAPL counters'],
          'sources': {'estimate': {'source': 'estimate', 'watts': 12.0, 'joules': 42.5,
                                   'estimated': True}},
          'per_node': {'perception': 10.0, 'planning': 2.5, 'control': 30.0}}
EPISODE = {'episode_id': 'ep-1', 'joules': 20.25, 'duration_s': 4.0, 'watts_avg': 5.0625,
           'joules_per_node': {'perception': 4.0, 'control': 16.25},
           'joules_per_source': {'estimate': 20.25}, 'steps': 1, 'replans': 0,
           'per_step': [{'step': 0, 'joules': 9.5, 'duration_s': 2.0, 'result': 'ok',
                         'joules_per_node': {'control': 9.5}}],
           'success': True, 'result': 'solved', 'source': 'estimate', 'estimated': True,
           'start_stamp': 1.0, 'end_stamp': 5.0}


# ----------------------------------------------------------------------------- messages
def _energy_msg(record, stamp):
    from nsvla_energy.messages import energy_to_msg
    return energy_to_msg(envelope.make('energy', record, stamp=stamp))


def _episode_msg(record, stamp):
    from nsvla_energy.messages import record_to_msg
    return record_to_msg(envelope.make('energy_episode', record, stamp=stamp))


def _event():
    return {'schema': 'nsvla/execution_status/1', 'stamp': 2.0, 'episode_id': 'ep-1',
            'event': 'episode_start', 'goal': GOAL.to_dict(), 'state': STATES[0].to_dict()}


def _illegal_state_msg():
    """Return a SymbolicState message whose facts put one block in two places."""
    from nsvla_interfaces.msg import Fact
    msg = messages.state_to_msg(STATES[0])
    msg.facts = [Fact(predicate='on', args=['b1', 'b2']), Fact(predicate='on', args=['b1', 'b3'])]
    msg.stacks = []
    return msg


def _roundtrip(msg, msgtype):
    """Serialise with rclpy, deserialise with the recorder's rosbags type store."""
    from rclpy.serialization import serialize_message
    return recorder.typestore().deserialize_cdr(serialize_message(msg), msgtype)


class _Text:
    def __init__(self, data):
        self.data = data


def test_each_role_decodes_the_same_from_typed_and_json():
    stamp = 7.25
    state = SymbolicState.from_stacks({'p2': ['b3', 'b2', 'b1']}, 3, 3, stamp=stamp,
                                      source='classic')
    plan = PlanResult('solved', [{'action': 'move', 'args': ['b1', 'p1', 'p3']}],
                      'fast-downward', 0.2, form='move', moves=1)
    cases = [
        ('truth', messages.state_to_msg(state), state.to_json()),
        ('state', messages.state_to_msg(state), state.to_json()),
        ('plan', messages.plan_to_msg(plan, GOAL, state),
         envelope.dumps(dict(plan.to_dict(), goal=GOAL.to_dict()))),
        ('status', messages.event_to_msg(_event()), envelope.dumps(_event())),
        ('energy', _energy_msg(ENERGY, stamp),
         envelope.dumps(envelope.make('energy', ENERGY, stamp=stamp))),
        ('episode', _episode_msg(EPISODE, stamp),
         envelope.dumps(envelope.make('energy_episode', EPISODE, stamp=stamp))),
    ]
    for role, msg, text in cases:
        msgtype = replay_decode.role_types(role)[0]
        typed = replay_decode.decode(role, msgtype, _roundtrip(msg, msgtype))
        old = replay_decode.decode(role, replay_decode.STRING_TYPE, _Text(text))
        if role in ('truth', 'state'):
            assert typed == old == state and typed.stamp == old.stamp == stamp
            assert typed.source == 'classic'
        elif role == 'plan':
            assert Goal.from_json(typed, 3, 3).facts == Goal.from_json(old, 3, 3).facts \
                == GOAL.facts
        elif role == 'status':
            assert typed['goal']['facts'] == old['goal']['facts']
            assert typed['event'] == old['event'] == 'episode_start'
        else:
            assert typed == old, role
    assert replay_decode.decode('goal', replay_decode.STRING_TYPE, _Text('stack them')) == \
        'stack them'


def test_malformed_messages_raise_validation_errors():
    state_type = replay_decode.role_types('truth')[0]
    with pytest.raises(ValidationError, match='b1'):
        replay_decode.decode('truth', state_type, _roundtrip(_illegal_state_msg(), state_type))
    with pytest.raises(ValidationError, match='malformed JSON'):
        replay_decode.decode('truth', replay_decode.STRING_TYPE, _Text('{"schema": not json'))
    with pytest.raises(ValidationError, match='must be nsvla_interfaces/msg/EnergyReading or '
                                              'std_msgs/msg/String'):
        replay_decode.decode('energy', state_type, object())
    with pytest.raises(ValidationError, match='energy reading is malformed: AttributeError'):
        replay_decode.decode('energy', replay_decode.role_types('energy')[0], object())
    from nsvla_interfaces.msg import EpisodeEvent
    with pytest.raises(ValidationError, match="event is 'bogus'"):
        replay_decode.decode('status', replay_decode.role_types('status')[0],
                             EpisodeEvent(episode_id='e', event='bogus'))
    assert replay_decode.role_types('goal') == (replay_decode.STRING_TYPE,)


# ----------------------------------------------------------------------------- bags
def _write_bag(path, kind, storage='mcap', extras=True):
    """
    Write the same content as typed messages or as the old JSON Strings.

    Frame i's pixels hold i. Returns the truth per frame (None: no truth to compare with).
    """
    import numpy as np
    from rclpy.serialization import serialize_message
    from rosbags.rosbag2 import StoragePlugin, Writer
    store = recorder.typestore()
    Image = store.types['sensor_msgs/msg/Image']
    Header = store.types['std_msgs/msg/Header']
    Time = store.types['builtin_interfaces/msg/Time']
    String = store.types['std_msgs/msg/String']
    writer = Writer(path, version=9, storage_plugin={'mcap': StoragePlugin.MCAP,
                                                     'sqlite3': StoragePlugin.SQLITE3}[storage])
    writer.open()
    conns = {}

    def put(topic, t, msg=None, text=None, role=None, raw=None):
        role = role or next(r for r, n in replay_decode.ROLE_TOPICS.items() if n == topic)
        msgtype = replay_decode.role_types(role)[0] if kind == 'typed' and text is None \
            else replay_decode.STRING_TYPE
        if topic not in conns:
            conns[topic] = writer.add_connection('/' + topic, msgtype, typestore=store)
        if raw is None:
            raw = (serialize_message(msg) if msgtype != replay_decode.STRING_TYPE else
                   store.serialize_cdr(String(text), replay_decode.STRING_TYPE))
        writer.write(conns[topic], T0 + int(t * 1e9), raw)

    def frame(index, t, encoding='rgb8'):
        data = np.full(4 * 4 * 3, index, np.uint8)
        msg = Image(Header(Time(int(t), int(round((t % 1) * 1e9))), 'camera'), 4, 4, encoding,
                    0, 12, data)
        if 'camera/image_raw' not in conns:
            conns['camera/image_raw'] = writer.add_connection(
                '/camera/image_raw', replay_decode.IMAGE_TYPE, typestore=store)
        writer.write(conns['camera/image_raw'], T0 + int(t * 1e9),
                     store.serialize_cdr(msg, replay_decode.IMAGE_TYPE))

    def state(topic, s, t):
        s = SymbolicState.from_json(dict(s.to_dict(), stamp=t))
        if kind == 'typed':
            put(topic, t, messages.state_to_msg(s))
        else:
            put(topic, t, text=s.to_json())

    def record(topic, name, body, t, to_msg):
        if kind == 'typed':
            put(topic, t, to_msg(body, t))
        else:
            put(topic, t, text=envelope.dumps(envelope.make(name, body, stamp=t)))

    event = dict(_event(), stamp=0.5)
    if kind == 'typed':
        put('execution_status', 0.5, messages.event_to_msg(event))
        put('plan', 0.6, messages.plan_to_msg(PlanResult('solved', [], 'fd', 0.1), GOAL,
                                              STATES[0]))
    else:
        put('execution_status', 0.5, text=envelope.dumps(event))
        put('goal', 0.6, text='move the tower to the middle peg')
    truths = []
    t = 1.0
    for k, s in enumerate(STATES):
        for j in range(5):
            state('sim/ground_truth', s, t + 0.2 * j)
        state('symbolic_state', s, t + 0.15)
        if extras and k == 1:
            if kind == 'typed':
                put('sim/ground_truth', t + 0.05, _illegal_state_msg())
            else:
                put('sim/ground_truth', t + 0.05, text='{"schema": not json')
        frame(k, t + 0.1)
        truths.append(s)
        t += 1.0
    record('energy', 'energy', ENERGY, t, _energy_msg)
    record('energy/episode', 'energy_episode', EPISODE, t, _episode_msg)
    if extras:
        state('sim/ground_truth', SymbolicState.unknown(3, 3, 'b1 is falling',
                                                        source='ground_truth'), t)
        frame(0, t + 0.1)
        truths.append(None)
        frame(0, t + 1.1, 'mono8')
        truths.append(None)
    writer.close()
    return truths


def _perceive(rgb):
    """Perceive rightly: the frame index is in the pixels."""
    class Perception:
        state = STATES[int(rgb[0, 0, 0])]
    return Perception()


def _plan(state, goal):
    return PlanResult('solved', domain.bfs_plan(state, goal), 'bfs', 0.0)


def _evaluate(path):
    scan = replay_bag.scan_bag(str(path))
    goal, source = replay.find_goal(scan, scan.num_blocks, scan.num_pegs)
    report = replay.evaluate(scan, _perceive, _plan, goal=goal, goal_source=source)
    return scan, report


def _numbers(report):
    """Return the report less what differs between runs and forms (CPU times, paths, wording)."""
    drop = ('bag', 'storage', 'energy_per_frame', 'goal_source', 'per_frame', 'plan_details',
            'plan_energy_j', 'malformed_examples')
    out = {k: v for k, v in report.items() if k not in drop}
    out['per_frame'] = [{k: v for k, v in r.items() if k not in ('cpu_s', 'wall_s', 'joules')}
                        for r in report['per_frame']]
    out['plan_details'] = [{k: v for k, v in p.items() if k not in ('wall_s', 'cpu_s', 'joules')}
                           for p in report['plan_details']]
    return out


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_a_typed_bag_and_a_json_bag_of_the_same_content_evaluate_the_same(tmp_path, storage):
    _write_bag(str(tmp_path / 'typed'), 'typed', storage)
    _write_bag(str(tmp_path / 'json'), 'json', storage)
    scan_t, typed = _evaluate(tmp_path / 'typed')
    scan_j, old = _evaluate(tmp_path / 'json')
    assert scan_t.topics['/sim/ground_truth']['type'] == 'nsvla_interfaces/msg/SymbolicState'
    assert scan_j.topics['/sim/ground_truth']['type'] == 'std_msgs/msg/String'
    assert _numbers(typed) == _numbers(old)
    assert typed['outcomes'] == {'correct': 3, 'wrong': 0, 'missed': 0, 'no_truth': 1,
                                 'skipped': 1}
    assert typed['state_accuracy'] == 1.0 and typed['time_base'] == 'header'
    assert typed['plans_valid'] == 1.0 and typed['plans_optimal'] == 1.0
    assert typed['states_seen'] == 3 and typed['goal'] == repr(GOAL)
    assert typed['goal_source'] == 'plan topic'
    assert old['goal_source'] == "goal topic: 'move the tower to the middle peg'"
    assert typed['malformed'] == old['malformed'] == {'/sim/ground_truth': 1}
    assert 'two places' in typed['malformed_examples']['/sim/ground_truth']
    assert 'malformed JSON' in old['malformed_examples']['/sim/ground_truth']
    assert typed['energy_recorded'] == old['energy_recorded'] == {
        'monitor': {k: ENERGY[k] for k in ('joules', 'per_node', 'source', 'estimated',
                                           'elapsed_s')},
        'live_perception_j_per_state': round(10.0 / 3, 4), 'live_perception_states': 3,
        'episodes': [{k: EPISODE[k] for k in ('episode_id', 'joules', 'joules_per_node',
                                              'duration_s', 'success', 'source',
                                              'estimated')}]}
    assert scan_t.episode_goals and scan_t.episode_events == scan_j.episode_events == 1


def _empty_image():
    from rclpy.serialization import serialize_message
    from sensor_msgs.msg import Image
    return serialize_message(Image())


def test_the_episode_start_gives_the_goal_when_no_plan_was_recorded(tmp_path):
    from rclpy.serialization import serialize_message
    from rosbags.rosbag2 import Writer
    _write_bag(str(tmp_path / 'bag'), 'typed', extras=False)
    scan = replay_bag.scan_bag(str(tmp_path / 'bag'))
    scan.plan_goals.clear()
    goal, source = replay.find_goal(scan, 3, 3)
    assert goal.facts == GOAL.facts and source == 'execution_status episode_start'
    # a bag with a corrupt typed message and a topic of a type replay does not take
    store = recorder.typestore()
    path = tmp_path / 'odd'
    writer = Writer(str(path), version=9)
    writer.open()
    cam = writer.add_connection('/camera/image_raw', replay_decode.IMAGE_TYPE, typestore=store)
    gt = writer.add_connection('/sim/ground_truth', replay_decode.role_types('truth')[0],
                               typestore=store)
    writer.write(cam, T0, _empty_image())
    writer.write(gt, T0, b'\x00\x01\x00\x00\x07')
    writer.write(gt, T0 + 1, serialize_message(messages.state_to_msg(STATES[0])))
    writer.close()
    scan = replay_bag.scan_bag(str(path))
    assert scan.malformed == {'/sim/ground_truth': 1}
    assert scan.malformed_examples['/sim/ground_truth'].startswith(
        'undecodable nsvla_interfaces/msg/SymbolicState')
    assert len(scan.truth_receive) == 1 and scan.num_blocks == 3
    path = tmp_path / 'wrong'
    writer = Writer(str(path), version=9)
    writer.open()
    cam = writer.add_connection('/camera/image_raw', replay_decode.IMAGE_TYPE, typestore=store)
    writer.add_connection('/plan', 'nsvla_interfaces/msg/EnergyReading', typestore=store)
    writer.write(cam, T0, _empty_image())
    writer.close()
    wrong = ('topic /plan is nsvla_interfaces/msg/EnergyReading, expected '
             'nsvla_interfaces/msg/Plan or std_msgs/msg/String')
    with pytest.raises(replay_bag.BagError, match=wrong):
        replay_bag.scan_bag(str(path))


def test_a_typed_bag_decodes_from_its_own_definitions(tmp_path, monkeypatch):
    _write_bag(str(tmp_path / 'bag'), 'typed', extras=False)

    def nothing_installed():
        raise ConfigError('cannot find the nsvla_interfaces .msg files (looked nowhere)')
    monkeypatch.setattr(replay_bag, 'interface_types', nothing_installed)
    scan, report = _evaluate(tmp_path / 'bag')
    assert not scan.malformed and report['state_accuracy'] == 1.0
    assert report['energy_recorded']['monitor']['joules'] == ENERGY['joules']


def test_without_a_definition_in_the_bag_the_installed_one_is_used(tmp_path, monkeypatch):
    from rclpy.serialization import serialize_message
    from rosbags.rosbag2 import Writer
    store = recorder.typestore()
    msgtype = replay_decode.role_types('truth')[0]
    path = tmp_path / 'bag'
    writer = Writer(str(path), version=9)
    writer.open()
    cam = writer.add_connection('/camera/image_raw', replay_decode.IMAGE_TYPE, typestore=store)
    gt = writer.add_connection('/sim/ground_truth', msgtype, msgdef='', rihs01='RIHS01_00')
    writer.write(cam, T0, _empty_image())
    writer.write(gt, T0, serialize_message(messages.state_to_msg(STATES[1])))
    writer.close()
    scan = replay_bag.scan_bag(str(path))
    assert not scan.malformed and scan.truth_receive[0].state == STATES[1]

    def nothing_installed():
        raise ConfigError('cannot find the nsvla_interfaces .msg files (looked nowhere)')
    monkeypatch.setattr(replay_bag, 'interface_types', nothing_installed)
    scan = replay_bag.scan_bag(str(path))
    assert scan.malformed == {'/sim/ground_truth': 1}
    assert 'cannot find the nsvla_interfaces .msg files' in \
        scan.malformed_examples['/sim/ground_truth']
