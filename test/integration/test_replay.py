# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla record`` and ``nsvla replay-eval``: bags recorded in the test, evaluated, bad input.

Bags written here with rosbags from rendered frames of seeded worlds and their ground truth
(mcap and sqlite3, with a malformed message, an unknown truth and an unusable frame mixed in),
in the old form (JSON in ``std_msgs/String``) and typed (``nsvla_interfaces`` messages
serialised by rclpy, written raw as the recorder writes them): the same content gives the same
evaluation. Bags recorded over DDS by :class:`~nsvla_eval.recorder.BagRecorder` from publishers
in the test, and by ``nsvla record`` from a running sim node.
"""

import json
import os
import subprocess
import sys

import pytest

from nsvla_common import envelope
from nsvla_common.cli import main
from nsvla_eval import recorder
from nsvla_planner import messages
from nsvla_planner.state import SymbolicState

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SEEDS = (1, 2, 3, 4)


@pytest.fixture(scope='module')
def scenes():
    """Render frames of a few seeded random 3-block worlds, with their ground truth."""
    from nsvla_sim.world import HanoiWorld
    world = HanoiWorld(num_blocks=3, seed=SEEDS[0], start='random')
    try:
        out = []
        for seed in SEEDS:
            truth = world.reset(seed=seed, start='random')
            out.append((truth, world.render()))
        return out
    finally:
        world.close()


GOAL_TEXT = 'move the tower to the middle peg'
STATE_TYPE = 'nsvla_interfaces/msg/SymbolicState'


def _write_bag(path, storage, scenes, truth=True, goal=GOAL_TEXT, extras=True, ns='',
               kind='json'):
    """
    Write a bag as ``ros2 bag record`` would; return the states in frame order.

    ``kind`` json: the ground truth and the goal instruction as JSON Strings (bags recorded
    before the typed interfaces); typed: SymbolicState messages and the goal in a Plan, as
    ``nsvla record`` writes them now.
    """
    from rclpy.serialization import serialize_message
    from rosbags.rosbag2 import StoragePlugin, Writer
    store = recorder.typestore()
    Image = store.types['sensor_msgs/msg/Image']
    Header = store.types['std_msgs/msg/Header']
    Time = store.types['builtin_interfaces/msg/Time']
    String = store.types['std_msgs/msg/String']
    plugin = {'mcap': StoragePlugin.MCAP, 'sqlite3': StoragePlugin.SQLITE3}[storage]
    writer = Writer(path, version=9, storage_plugin=plugin)
    writer.open()
    typed = kind == 'typed'
    cam = writer.add_connection(ns + '/camera/image_raw', 'sensor_msgs/msg/Image',
                                typestore=store)
    gt = writer.add_connection(ns + '/sim/ground_truth',
                               STATE_TYPE if typed else 'std_msgs/msg/String',
                               typestore=store) if truth else None
    if typed:
        goal_conn = writer.add_connection(ns + '/plan', 'nsvla_interfaces/msg/Plan',
                                          typestore=store)
    else:
        goal_conn = writer.add_connection(ns + '/goal', 'std_msgs/msg/String', typestore=store)
    t_ns = 1_700_000_000 * 10 ** 9

    def image(rgb, t, encoding='rgb8'):
        import numpy as np
        h, w = rgb.shape[:2]
        ch = 1 if encoding == 'mono8' else 3
        data = np.ascontiguousarray(rgb[:, :, 0] if ch == 1 else rgb).reshape(-1)
        msg = Image(Header(Time(int(t), int(round((t % 1) * 1e9))), 'camera'), h, w, encoding,
                    0, w * ch, data)
        return store.serialize_cdr(msg, 'sensor_msgs/msg/Image')

    def string(text):
        return store.serialize_cdr(String(text), 'std_msgs/msg/String')

    def truth_msg(state, t):
        data = state.to_dict()
        data['stamp'] = t
        if typed:
            return serialize_message(messages.state_to_msg(SymbolicState.from_json(data)))
        return string(envelope.dumps(data))

    def malformed_truth():
        if not typed:
            return string('{"schema": not json')
        from nsvla_interfaces.msg import Fact
        msg = messages.state_to_msg(SymbolicState.tower(3))
        msg.facts = [Fact(predicate='on', args=['b1', 'b2']),
                     Fact(predicate='on', args=['b1', 'b3'])]
        msg.stacks = []
        return serialize_message(msg)     # one block in two places

    if typed:
        from nsvla_planner.language import parse_instruction
        from nsvla_planner.planning import PlanResult
        plan = PlanResult('solved', [], 'fast-downward', 0.1)
        writer.write(goal_conn, t_ns, serialize_message(messages.plan_to_msg(
            plan, parse_instruction(goal, 3, 3), scenes[0][0])))
    else:
        writer.write(goal_conn, t_ns, string(goal))
    states = []
    t = 1.0
    for k, (state, rgb) in enumerate(scenes):
        if gt:   # the sim's rate: 5 Hz
            for j in range(5):
                writer.write(gt, t_ns + int((t + 0.2 * j) * 1e9), truth_msg(state, t + 0.2 * j))
            if extras and k == 1:
                writer.write(gt, t_ns + int((t + 0.05) * 1e9), malformed_truth())
        writer.write(cam, t_ns + int((t + 0.1) * 1e9), image(rgb, t + 0.1))
        states.append(state)
        t += 1.0
    if extras:
        # the truth is unknown (a block falling): the next frame is not an error
        unknown = SymbolicState.unknown(3, 3, 'b1 is falling', source='ground_truth')
        if gt:
            writer.write(gt, t_ns + int(t * 1e9), truth_msg(unknown, t))
        writer.write(cam, t_ns + int((t + 0.1) * 1e9), image(scenes[0][1], t + 0.1))
        states.append(None)
        t += 1.0
        # a frame of an encoding perception does not take: skipped with the reason
        writer.write(cam, t_ns + int((t + 0.1) * 1e9), image(scenes[0][1], t + 0.1, 'mono8'))
        states.append(None)
    writer.close()
    return states


def _replay(capsys, *args):
    rc = main(['replay-eval'] + [str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_replay_eval_on_a_written_bag(tmp_path, capsys, scenes, storage):
    bag = tmp_path / 'bag'
    _write_bag(str(bag), storage, scenes, ns='/rig')
    rc, out, err = _replay(capsys, bag, '--json', '--report', tmp_path / 'report')
    assert rc == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary['frames'] == len(SEEDS) + 2
    assert summary['outcomes'] == {'correct': len(SEEDS), 'wrong': 0, 'missed': 0,
                                   'no_truth': 1, 'skipped': 1}
    assert summary['state_accuracy'] == 1.0
    assert summary['plans_valid'] == 1.0 and summary['plans_optimal'] == 1.0
    assert summary['states_seen'] == len({s for s, _ in scenes})
    assert summary['goal'] == 'Goal(on(b3, p2) & on(b1, b2) & on(b2, b3))'
    assert summary['malformed'] == {'/rig/sim/ground_truth': 1}
    assert summary['time_base'] == 'header'
    assert summary['energy_per_frame']['estimated'] is True
    assert summary['energy_per_frame']['joules_mean'] > 0
    report = json.load(open(tmp_path / 'report' / 'replay.json'))
    assert report['storage'] == storage and report['image_topic'] == '/rig/camera/image_raw'
    assert report['no_truth_reasons'] == {'truth unknown': 1}
    assert list(report['skipped_reasons']) == ["encoding 'mono8' not supported (use rgb8 or "
                                               "bgr8)"]
    for plan in report['plan_details']:
        assert plan['valid'] and plan['optimal'] and plan['moves'] == plan['optimal_moves']
    md = open(tmp_path / 'report' / 'replay.md').read()
    n = len(SEEDS)
    assert '| %d | %d | %d | 0 | 0 | 1 | 1 | 100.0 %% |' % (n + 2, n, n) in md
    assert os.path.getsize(tmp_path / 'report' / 'replay.png') > 5000


def _same_numbers(report):
    """Return what the evaluation found, less CPU times, paths and the goal's wording."""
    keep = ('frames', 'frames_in_bag', 'evaluated', 'state_accuracy', 'accuracy_when_known',
            'outcomes', 'no_truth_reasons', 'skipped_reasons', 'num_blocks', 'num_pegs',
            'malformed', 'time_base', 'goal', 'states_seen', 'plans', 'plans_valid',
            'plans_optimal', 'plan_counts', 'energy_recorded')
    out = {k: report[k] for k in keep}
    out['per_frame'] = [{k: r.get(k) for k in ('frame', 't', 'outcome', 'reason', 'truth',
                                               'perceived')} for r in report['per_frame']]
    out['plan_details'] = [{k: p[k] for k in ('state', 'frames', 'status', 'moves', 'valid',
                                              'optimal', 'optimal_moves')}
                           for p in report['plan_details']]
    return out


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_a_typed_bag_evaluates_as_the_json_bag_of_the_same_content(tmp_path, capsys, scenes,
                                                                   storage):
    reports = {}
    for kind in ('json', 'typed'):
        bag = tmp_path / kind
        _write_bag(str(bag), storage, scenes, ns='/rig', kind=kind)
        rc, out, err = _replay(capsys, bag, '--json', '--report', tmp_path / ('r-' + kind))
        assert rc == 0, err
        reports[kind] = json.load(open(tmp_path / ('r-' + kind) / 'replay.json'))
        assert json.loads(out.strip().splitlines()[-1])['state_accuracy'] == 1.0
    typed, old = reports['typed'], reports['json']
    assert _same_numbers(typed) == _same_numbers(old)
    assert typed['outcomes'] == {'correct': len(SEEDS), 'wrong': 0, 'missed': 0, 'no_truth': 1,
                                 'skipped': 1}
    assert typed['malformed'] == {'/rig/sim/ground_truth': 1}
    assert 'two places' in typed['malformed_examples']['/rig/sim/ground_truth']
    assert typed['goal_source'] == 'plan topic' and old['goal_source'].startswith('goal topic')
    from rosbags.rosbag2 import Reader
    with Reader(tmp_path / 'typed') as reader:
        types = {c.topic: c.msgtype for c in reader.connections}
    assert types['/rig/sim/ground_truth'] == STATE_TYPE
    assert types['/rig/plan'] == 'nsvla_interfaces/msg/Plan'


def test_labels_replace_the_ground_truth_and_a_wrong_label_counts(tmp_path, capsys, scenes):
    bag = tmp_path / 'bag'
    states = _write_bag(str(bag), 'mcap', scenes, truth=False, extras=False)
    labels = {str(i): s.stacks() for i, s in enumerate(states)}
    labels['0'] = {'p1': [], 'p2': ['b3', 'b2', 'b1'], 'p3': []}   # wrong on purpose
    if states[0].stacks() == labels['0']:
        labels['0'] = {'p1': [], 'p2': [], 'p3': ['b3', 'b2', 'b1']}
    labels_path = tmp_path / 'labels.json'
    labels_path.write_text(json.dumps(labels))
    rc, out, err = _replay(capsys, bag, '--labels', labels_path, '--json', '--no-plans',
                           '--report', tmp_path / 'r')
    assert rc == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary['outcomes']['wrong'] == 1 and summary['outcomes']['correct'] == len(SEEDS) - 1
    assert summary['state_accuracy'] == pytest.approx((len(SEEDS) - 1) / len(SEEDS))
    assert summary['plans'] == 0 and summary['plans_valid'] is None
    # without labels this bag has no truth at all: a clear error, not a traceback
    rc, out, err = _replay(capsys, bag, '--report', tmp_path / 'r2')
    assert rc == 2 and 'no ground truth' in err and 'Traceback' not in err


def test_bad_input_gives_a_clear_error(tmp_path, capsys, scenes):
    rc, _out, err = _replay(capsys, tmp_path / 'missing')
    assert rc == 2 and 'does not exist' in err and 'Traceback' not in err
    (tmp_path / 'empty').mkdir()
    rc, _out, err = _replay(capsys, tmp_path / 'empty')
    assert rc == 2 and 'not a rosbag2 folder' in err
    broken = tmp_path / 'broken'
    _write_bag(str(broken), 'mcap', scenes[:1], extras=False)
    mcap = broken / 'broken.mcap'
    mcap.write_bytes(mcap.read_bytes()[:300])
    rc, _out, err = _replay(capsys, broken)
    assert rc == 2 and 'bag' in err and 'Traceback' not in err
    # a bag without a camera topic
    from rosbags.rosbag2 import Writer
    from rosbags.typesys import get_typestore, Stores
    store = get_typestore(Stores.ROS2_KILTED)
    no_cam = tmp_path / 'no_cam'
    writer = Writer(str(no_cam), version=9)
    writer.open()
    conn = writer.add_connection('/sim/ground_truth', 'std_msgs/msg/String', typestore=store)
    writer.write(conn, 1, store.serialize_cdr(store.types['std_msgs/msg/String']('{}'),
                                              'std_msgs/msg/String'))
    writer.close()
    rc, _out, err = _replay(capsys, no_cam)
    assert rc == 2 and 'has no camera/image_raw topic' in err and '/sim/ground_truth' in err
    labels = tmp_path / 'labels.json'
    labels.write_text('{"0": {"p1": ["b1", "b2"]}')
    good = tmp_path / 'good'
    _write_bag(str(good), 'mcap', scenes[:1], extras=False)
    rc, _out, err = _replay(capsys, good, '--labels', labels)
    assert rc == 2 and 'malformed JSON' in err


def test_record_typed_topics_from_live_publishers_then_replay(tmp_path, capsys, scenes,
                                                              ros_node):
    import rclpy
    from rosbags.rosbag2 import Reader
    from sensor_msgs.msg import Image

    from nsvla_eval.recorder import BagRecorder
    from nsvla_interfaces.msg import EnergyReading, NamedValue
    from nsvla_planner.language import parse_instruction
    from nsvla_planner.planning import PlanResult
    topics = ['camera/image_raw', 'sim/ground_truth', 'plan', 'energy']
    rec_node = rclpy.create_node('nsvla_test_recorder', context=ros_node.context)
    ros_node.executor.add_node(rec_node)
    bag = tmp_path / 'live'
    rec = BagRecorder(rec_node, str(bag), topics, 'mcap')
    try:
        pubs = {t: ros_node.create_publisher(recorder.python_type(recorder.TOPIC_TYPES[t]), t,
                                             50) for t in topics}
        assert ros_node.spin_until(lambda: all(p.get_subscription_count() for p in
                                               pubs.values()), timeout=20.0)
        goal = parse_instruction(GOAL_TEXT, 3, 3)
        pubs['plan'].publish(messages.plan_to_msg(PlanResult('solved', [], 'fast-downward', 0.1),
                                                  goal, scenes[0][0]))
        t = 1.0
        for state, rgb in scenes:
            for j in range(5):
                pubs['sim/ground_truth'].publish(messages.state_to_msg(
                    SymbolicState.from_json(dict(state.to_dict(), stamp=t + 0.2 * j))))
                if j == 0:
                    img = Image(height=rgb.shape[0], width=rgb.shape[1], encoding='rgb8',
                                step=rgb.shape[1] * 3, data=rgb.tobytes())
                    img.header.stamp = messages.stamp_to_time(t + 0.1)
                    pubs['camera/image_raw'].publish(img)
                ros_node.executor.spin_once(timeout_sec=0.01)
            t += 1.0
        pubs['energy'].publish(EnergyReading(source='estimate', estimated=True, joules=12.5,
                                             per_node=[NamedValue(name='perception',
                                                                  value=2.0)]))
        wanted = {'camera/image_raw': len(SEEDS), 'sim/ground_truth': 5 * len(SEEDS),
                  'plan': 1, 'energy': 1}
        assert ros_node.spin_until(lambda: rec.counts == wanted, timeout=20.0), rec.counts
        hashes = {t: str(ros_node.get_publishers_info_by_topic('/' + t)[0].topic_type_hash)
                  for t in topics}
    finally:
        rec.close()
        ros_node.executor.remove_node(rec_node)
        rec_node.destroy_node()
    with Reader(bag) as reader:
        conns = {c.topic: c for c in reader.connections}
    for topic in topics:
        conn = conns['/' + topic]
        assert conn.msgtype == recorder.TOPIC_TYPES[topic]
        assert conn.digest == hashes[topic], topic    # the hash rosidl gave the publisher
        assert conn.msgdef.data
    assert 'MSG: nsvla_interfaces/Fact' in conns['/sim/ground_truth'].msgdef.data
    rc, out, err = _replay(capsys, bag, '--json', '--report', tmp_path / 'report')
    assert rc == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary['frames'] == len(SEEDS) and summary['state_accuracy'] == 1.0
    assert summary['outcomes']['correct'] == len(SEEDS) and summary['malformed'] == {}
    assert summary['time_base'] == 'header'
    assert summary['goal'] == 'Goal(on(b3, p2) & on(b1, b2) & on(b2, b3))'
    assert summary['plans_valid'] == 1.0 and summary['plans_optimal'] == 1.0
    assert summary['energy_recorded']['joules'] == 12.5
    assert summary['energy_recorded']['per_node'] == {'perception': 2.0}


def test_record_from_a_running_sim_node_then_replay(tmp_path, capsys, node_process, ros_node):
    from nsvla_interfaces.msg import SymbolicState as StateMsg
    sim = node_process('nsvla_sim.sim_node', ['-p', 'camera_rate:=2.0', '-p', 'num_blocks:=3',
                                              '-p', 'start:=random', '-p', 'seed:=5'])
    truths = []
    ros_node.create_subscription(StateMsg, 'sim/ground_truth', truths.append, 10)
    assert ros_node.spin_until(lambda: truths, timeout=40.0), sim.log()
    bag = tmp_path / 'recorded'
    rec = subprocess.run([sys.executable, '-m', 'nsvla_common.cli', 'record', '--out', str(bag),
                          '--storage', 'sqlite3', '--duration', '6', '--camera-every', '1',
                          '--topics', 'camera/image_raw', 'sim/ground_truth', '--json'],
                         capture_output=True, text=True, timeout=60, env=os.environ.copy())
    assert rec.returncode == 0, rec.stdout + rec.stderr
    written = json.loads(rec.stdout.strip().splitlines()[-1])
    assert written['storage'] == 'sqlite3'
    # 2 Hz camera and 5 Hz truth, less discovery time on a busy machine
    assert written['messages']['camera/image_raw'] >= 3
    assert written['messages']['sim/ground_truth'] >= 5
    assert (bag / 'metadata.yaml').exists()
    rc, out, err = _replay(capsys, bag, '--json', '--report', tmp_path / 'report')
    assert rc == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary['frames'] == written['messages']['camera/image_raw']
    assert summary['evaluated'] >= summary['frames'] - 1
    assert summary['state_accuracy'] == 1.0
    assert summary['states_seen'] == 1 and summary['plans_valid'] == 1.0
    assert summary['plans_optimal'] == 1.0 and summary['goal'].startswith('Goal(on(b3, p3)')
