# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The recorder's type store: nsvla_interfaces registered from the .msg files, hashes as rosidl's.

A bag written with it carries each definition (mcap schemas, the sqlite3 message_definitions
table) and decodes from that alone. No ROS graph: messages are built and serialised with the
generated classes and ``rclpy.serialization``, which need no ``rclpy.init``.
"""

import glob
import json
import os

import pytest

from nsvla_common.errors import ConfigError
from nsvla_eval import recorder
from nsvla_eval.recorder import TOPIC_TYPES

NSVLA_TYPES = sorted({t for t in TOPIC_TYPES.values() if t.startswith('nsvla_interfaces/')})
NESTED = ['nsvla_interfaces/msg/%s' % n for n in ('Fact', 'Stack', 'LooseBlock', 'PlanStep',
                                                  'Goal', 'NamedValue', 'SourceReading',
                                                  'StepEnergy')]


def _rosidl_hashes():
    """RIHS01 hash per type from the rosidl type descriptions installed next to the .msg."""
    for folder in recorder.interface_msg_dirs():
        files = glob.glob(os.path.join(folder, '*.json'))
        if files:
            out = {}
            for path in files:
                with open(path) as f:
                    entry = json.load(f)['type_hashes'][0]
                out[entry['type_name']] = entry['hash_string']
            return out
    pytest.skip('nsvla_interfaces is not built here (no rosidl type descriptions installed)')


def test_every_interface_message_is_registered_with_its_nested_types():
    store = recorder.typestore()
    msg_files = set()
    for folder in recorder.interface_msg_dirs():
        msg_files = {os.path.basename(p)[:-4] for p in glob.glob(os.path.join(folder, '*.msg'))}
        if msg_files:
            break
    assert {'nsvla_interfaces/msg/%s' % n for n in msg_files} <= set(store.fielddefs)
    for name in NESTED:
        assert name in store.fielddefs
    msgdef, _ = store.generate_msgdef('nsvla_interfaces/msg/SymbolicState', ros_version=2)
    for dep in ('MSG: std_msgs/Header', 'MSG: geometry_msgs/Point',
                'MSG: nsvla_interfaces/LooseBlock', 'MSG: builtin_interfaces/Time'):
        assert dep in msgdef
    msgdef, _ = store.generate_msgdef('nsvla_interfaces/msg/Plan', ros_version=2)
    assert 'MSG: nsvla_interfaces/SymbolicState' in msgdef and 'MSG: nsvla_interfaces/Goal' \
        in msgdef


def test_the_type_hashes_equal_rosidl_s():
    store = recorder.typestore()
    hashes = _rosidl_hashes()
    assert set(NSVLA_TYPES + NESTED) <= set(hashes)
    for name, expected in sorted(hashes.items()):
        assert store.hash_rihs01(name) == expected, name


def test_the_repository_sources_are_the_fallback(monkeypatch, tmp_path):
    repo_dir = recorder.interface_msg_dirs()[-1]
    assert repo_dir.endswith(os.path.join('nsvla_interfaces', 'msg'))
    assert glob.glob(os.path.join(repo_dir, '*.msg'))
    monkeypatch.setattr(recorder, 'interface_msg_dirs', lambda: [str(tmp_path), repo_dir])
    assert 'nsvla_interfaces/msg/SymbolicState' in recorder.interface_types()
    monkeypatch.setattr(recorder, 'interface_msg_dirs', lambda: [str(tmp_path)])
    with pytest.raises(ConfigError, match='cannot find the nsvla_interfaces .msg files'):
        recorder.interface_types()


def test_python_type_and_unknown_topics(tmp_path):
    from nsvla_interfaces.msg import SymbolicState
    assert recorder.python_type('nsvla_interfaces/msg/SymbolicState') is SymbolicState
    with pytest.raises(ConfigError, match='cannot import the message type'):
        recorder.python_type('nsvla_nothing/msg/Nothing')
    assert 'goal' not in TOPIC_TYPES       # goals travel in actions now
    with pytest.raises(ConfigError, match="no message type known for topic 'goal'"):
        recorder.BagRecorder(None, str(tmp_path / 'bag'), ['plan', 'goal'])
    assert not (tmp_path / 'bag').exists()


def _typed_messages():
    """One rclpy message per nsvla topic type, with content in the nested fields."""
    from nsvla_interfaces.msg import (EnergyReading, EpisodeEnergy, NamedValue, PowerReading,
                                      SimEvent, SourceReading, StepEnergy)

    from nsvla_planner import messages
    from nsvla_planner.planning import PlanResult
    from nsvla_planner.state import Goal, LoosePose, SymbolicState
    state = SymbolicState.tower(3, 3, 1, stamp=12.5, source='ground_truth')
    with_loose = SymbolicState(3, 3, {'b3': 'p1', 'b2': 'b3'}, loose={'b1': 'table'},
                               poses={'b1': LoosePose(0.1, -0.2, 0.0, 0.5, False)},
                               confidence={('loose', ('b1', 'table')): 0.75}, stamp=12.5)
    plan = PlanResult('solved', [{'action': 'move', 'args': ['b1', 'b2', 'p3']}],
                      'fast-downward', 0.25, form='move', moves=1)
    event = {'episode_id': 'e1', 'event': 'episode_start', 'stamp': 3.0,
             'goal': Goal.tower(3, 3).to_dict(), 'state': state.to_dict()}
    per_node = [NamedValue(name='perception', value=1.5)]
    return {
        'nsvla_interfaces/msg/SymbolicState': messages.state_to_msg(with_loose),
        'nsvla_interfaces/msg/Plan': messages.plan_to_msg(plan, Goal.tower(3, 3), state, 7),
        'nsvla_interfaces/msg/EpisodeEvent': messages.event_to_msg(event),
        'nsvla_interfaces/msg/PowerReading': PowerReading(
            source='estimate', estimated=True, watts=20.0, per_node=per_node,
            sources=[SourceReading(name='estimate', estimated=True, watts=20.0, joules=3.0)]),
        'nsvla_interfaces/msg/EnergyReading': EnergyReading(
            source='estimate', estimated=True, joules=3.0, watts=20.0, elapsed_s=1.5,
            per_node=per_node, why=['no RAPL here']),
        'nsvla_interfaces/msg/EpisodeEnergy': EpisodeEnergy(
            episode_id='e1', joules=2.0, per_step=[StepEnergy(step=0, joules=1.0,
                                                              joules_per_node=per_node)]),
        'nsvla_interfaces/msg/SimEvent': SimEvent(event='reset', controller='arm', points=3),
    }


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_a_bag_carries_the_definitions_and_hashes_and_decodes_from_them(tmp_path, storage):
    from rclpy.serialization import serialize_message
    from rosbags.rosbag2 import Reader, StoragePlugin, Writer
    from rosbags.typesys import get_typestore, get_types_from_msg, Stores
    store = recorder.typestore()
    typed = _typed_messages()
    assert sorted(typed) == NSVLA_TYPES
    path = tmp_path / 'bag'
    writer = Writer(path, version=9, storage_plugin={'mcap': StoragePlugin.MCAP,
                                                     'sqlite3': StoragePlugin.SQLITE3}[storage])
    writer.open()
    for k, (msgtype, msg) in enumerate(sorted(typed.items())):
        conn = writer.add_connection('/topic%d' % k, msgtype, typestore=store)
        writer.write(conn, 10 + k, serialize_message(msg))
    writer.close()
    hashes = {name: store.hash_rihs01(name) for name in NSVLA_TYPES}
    with Reader(path) as reader:
        conns = {c.msgtype: c for c in reader.connections}
        assert sorted(conns) == NSVLA_TYPES
        for msgtype, conn in conns.items():
            assert conn.digest == hashes[msgtype]
            assert conn.msgdef.data.startswith(store.generate_msgdef(msgtype, ros_version=2)[0])
        # a reader that never saw nsvla_interfaces decodes from the bag's definitions alone
        fresh = get_typestore(Stores.ROS2_KILTED)
        for msgtype, conn in conns.items():
            types = get_types_from_msg(conn.msgdef.data, msgtype)
            fresh.register({k: v for k, v in types.items() if k not in fresh.fielddefs})
        got = {c.msgtype: fresh.deserialize_cdr(raw, c.msgtype)
               for c, _t, raw in reader.messages()}
    state = got['nsvla_interfaces/msg/SymbolicState']
    assert state.header.stamp.sec == 12 and state.header.stamp.nanosec == 500000000
    assert [(s.peg, list(s.blocks)) for s in state.stacks] == [('p1', ['b3', 'b2']),
                                                               ('p2', []), ('p3', [])]
    assert state.loose[0].block == 'b1' and state.loose[0].position.y == pytest.approx(-0.2)
    assert state.loose[0].confidence == pytest.approx(0.75) and not state.loose[0].upright
    plan = got['nsvla_interfaces/msg/Plan']
    assert plan.steps[0].args == ['b1', 'b2', 'p3'] and plan.state.num_blocks == 3
    assert plan.goal.facts[0].predicate == 'on' and plan.optimal_tower_moves == 7
    assert got['nsvla_interfaces/msg/EpisodeEvent'].state.stacks[0].blocks == ['b3', 'b2', 'b1']
    assert got['nsvla_interfaces/msg/EpisodeEnergy'].per_step[0].joules_per_node[0].value == 1.5
    assert got['nsvla_interfaces/msg/EnergyReading'].why == ['no RAPL here']
    assert got['nsvla_interfaces/msg/SimEvent'].points == 3
    if storage == 'mcap':
        _check_with_mcap_ros2(path)


def _check_with_mcap_ros2(path):
    """Decode with mcap-ros2-support, which knows only the schemas in the file, when installed."""
    try:
        from mcap_ros2.reader import read_ros2_messages
    except ImportError:
        return
    files = glob.glob(os.path.join(str(path), '*.mcap'))
    decoded = {m.channel.topic: m.ros_msg for m in read_ros2_messages(files[0])}
    assert len(decoded) == len(NSVLA_TYPES)
