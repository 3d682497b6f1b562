# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The sim node over DDS (loopback): camera, joint states, clock, trajectories, reset."""

import math

import pytest

from nsvla_planner.messages import state_from_msg, time_to_stamp
from nsvla_planner.state import SymbolicState

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

MODULE = 'nsvla_sim.sim_node'
ARM = ['panda_joint%d' % i for i in range(1, 8)]


def _collect(node, msg_type, topic, store, qos=10):
    return node.create_subscription(msg_type, topic, store.append, qos)


def _trajectory(names, positions, seconds):
    from builtin_interfaces.msg import Duration
    from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint
    msg = JointTrajectory()
    msg.joint_names = list(names)
    point = JointTrajectoryPoint()
    point.positions = [float(p) for p in positions]
    sec = math.floor(seconds)
    point.time_from_start = Duration(sec=int(sec), nanosec=int(round((seconds - sec) * 1e9)))
    msg.points = [point]
    return msg


def _rejections(events):
    return [e for e in events if e.event == 'trajectory_rejected']


def test_sim_event_messages_carry_the_world_and_node_events():
    from nsvla_sim.sim_node import sim_event_msg
    lift = sim_event_msg({'time': 12.5, 'event': 'lift', 'block': 'b1', 'drop_at': 12.9}, 13.0)
    assert (lift.event, lift.block, lift.sim_time) == ('lift', 'b1', 12.5)
    assert lift.reason == 'drop_at=12.9'
    assert time_to_stamp(lift.header.stamp) == pytest.approx(12.5)
    reset = sim_event_msg({'event': 'reset', 'seed': 4, 'num_blocks': 5}, 3.25)
    assert reset.reason == 'num_blocks=5 seed=4' and reset.sim_time == 3.25
    rejected = sim_event_msg({'event': 'trajectory_rejected', 'controller': 'arm_controller',
                              'reason': 'too fast', 'points': 3}, 1.0)
    assert (rejected.controller, rejected.reason, rejected.points, rejected.block) == \
        ('arm_controller', 'too fast', 3, '')


def test_publishes_camera_joint_states_clock_and_ground_truth(node_process, ros_node):
    from rosgraph_msgs.msg import Clock
    from nsvla_interfaces.msg import SymbolicState as StateMsg
    from sensor_msgs.msg import CameraInfo, Image, JointState
    proc = node_process(MODULE, ['-p', 'camera_rate:=10.0', '-p', 'image_width:=320',
                                 '-p', 'image_height:=240', '-p', 'num_blocks:=4'])
    images, infos, joints, clocks, truths = [], [], [], [], []
    _collect(ros_node, Image, 'camera/image_raw', images)
    _collect(ros_node, CameraInfo, 'camera/camera_info', infos)
    _collect(ros_node, JointState, 'joint_states', joints)
    _collect(ros_node, Clock, '/clock', clocks)
    _collect(ros_node, StateMsg, 'sim/ground_truth', truths)
    ok = ros_node.spin_until(lambda: len(images) >= 3 and len(joints) >= 10 and infos
                             and len(clocks) >= 10 and truths, timeout=30.0)
    assert ok, 'missing messages (images %d, joints %d, clock %d, truth %d)\n%s' % (
        len(images), len(joints), len(clocks), len(truths), proc.log())
    img = images[-1]
    assert (img.width, img.height, img.encoding, img.step) == (320, 240, 'rgb8', 960)
    assert len(img.data) == 320 * 240 * 3 and len(set(img.data[::97])) > 5
    info = infos[-1]
    assert info.width == 320 and info.k[0] > 0 and info.k[2] == pytest.approx(159.5)
    assert info.header.frame_id == img.header.frame_id != ''
    # the K the sim publishes is the camera model perception uses (at this image size)
    from dataclasses import replace

    from nsvla_common.camera import camera_from_info, camera_from_spec, intrinsics_change
    from nsvla_common.rig import load_scene
    rig = load_scene().camera
    assert list(info.k) == pytest.approx(list(camera_from_spec(load_scene()).scaled(320, 240).k))
    seen = camera_from_info(rig, info.width, info.height, info.k, info.d, info.distortion_model)
    half = replace(rig, width=320, height=240)   # the same field of view, half the pixels
    assert intrinsics_change(half, seen) == '' and not any(info.d)
    js = joints[-1]
    assert list(js.name[:7]) == ARM and len(js.position) == 9
    assert js.position[3] == pytest.approx(-2.3, abs=0.02)   # the scene's home pose
    stamps = [c.clock.sec + c.clock.nanosec * 1e-9 for c in clocks]
    assert all(b >= a for a, b in zip(stamps, stamps[1:])) and stamps[-1] > stamps[0]
    truth = truths[-1]
    state = state_from_msg(truth)
    assert state.known and state.stacks()['p1'] == ['b4', 'b3', 'b2', 'b1']
    assert state.source == 'ground_truth' and truth.header.frame_id == 'world'
    # stamped with sim time: never ahead of the clock, and after the start-up settling
    assert 0.0 < time_to_stamp(truth.header.stamp) <= stamps[-1] + 1.0
    assert [(s.peg, list(s.blocks)) for s in truth.stacks][0] == ('p1', ['b4', 'b3', 'b2', 'b1'])
    # robot_description is latched: a late subscriber (robot_state_publisher, RViz) still gets
    # the URDF, and it names every joint of joint_states
    import xml.etree.ElementTree as ET

    from std_msgs.msg import String

    from nsvla_sim.robot_model import latched_qos
    models = []
    _collect(ros_node, String, 'robot_description', models, latched_qos())
    assert ros_node.spin_until(lambda: models, timeout=10.0), proc.log()
    urdf = ET.fromstring(models[-1].data)
    assert set(js.name) <= {j.get('name') for j in urdf.iter('joint')}
    assert proc.alive()


def test_rejects_a_bad_trajectory_keeps_running_and_follows_a_good_one(node_process, ros_node):
    from nsvla_interfaces.msg import SimEvent
    from sensor_msgs.msg import JointState
    from trajectory_msgs.msg import JointTrajectory
    proc = node_process(MODULE, ['-p', 'camera_rate:=0.0', '-p', 'real_time_factor:=2.0'])
    joints, events = [], []
    _collect(ros_node, JointState, 'joint_states', joints)
    _collect(ros_node, SimEvent, 'sim/events', events)
    arm = ros_node.create_publisher(JointTrajectory, 'arm_controller/joint_trajectory', 10)
    grip = ros_node.create_publisher(JointTrajectory, 'gripper_controller/joint_trajectory', 10)
    assert ros_node.spin_until(lambda: joints and arm.get_subscription_count() > 0
                               and grip.get_subscription_count() > 0, timeout=30.0), proc.log()
    home = list(joints[-1].position[:7])

    def event_count(kind):
        return sum(e.event == kind for e in events)

    bad_name = _trajectory(['elbow'] + ARM[1:], home, 1.0)
    nan = _trajectory(ARM, [home[0], math.nan] + home[2:], 1.0)
    beyond = _trajectory(ARM, [home[0] + 5.0] + home[1:], 1.0)
    for msg in (bad_name, nan, beyond):
        arm.publish(msg)
    grip.publish(_trajectory(['panda_finger_joint1'], [0.2], 1.0))
    assert ros_node.spin_until(lambda: event_count('trajectory_rejected') >= 4, timeout=10.0), \
        proc.log()
    reasons = [e.reason for e in _rejections(events)]
    assert any("unknown joint name(s) 'elbow'" in r for r in reasons)
    assert any('NaN' in r for r in reasons)
    assert any('panda_joint1' in r and 'outside its limits' in r for r in reasons)
    assert any('panda_finger_joint1' in r for r in reasons)
    # still alive and holding still
    n = len(joints)
    assert ros_node.spin_until(lambda: len(joints) > n + 10, timeout=10.0) and proc.alive()
    assert max(abs(a - b) for a, b in zip(joints[-1].position[:7], home)) < 1e-3
    assert 'rejected trajectory' in proc.log()

    goal = list(home)
    goal[0] += 0.3
    arm.publish(_trajectory(ARM, goal, 1.0))
    assert ros_node.spin_until(lambda: abs(joints[-1].position[0] - goal[0]) < 5e-3,
                               timeout=15.0), proc.log()
    assert event_count('trajectory_accepted') == 1
    accepted = next(e for e in events if e.event == 'trajectory_accepted')
    assert accepted.controller == 'arm_controller' and accepted.points == 1
    assert accepted.duration == pytest.approx(1.0)
    assert time_to_stamp(accepted.header.stamp) == pytest.approx(accepted.sim_time, abs=1e-6)


def test_refuses_what_a_panda_would_refuse_and_stays_up(node_process, ros_node):
    """30 rad/s stops the arm with a reason naming the velocity limit; NaN and co. are counted."""
    from builtin_interfaces.msg import Duration
    from nsvla_interfaces.msg import SimEvent
    from sensor_msgs.msg import JointState
    from trajectory_msgs.msg import JointTrajectory
    proc = node_process(MODULE, ['-p', 'camera_rate:=0.0', '-p', 'real_time_factor:=2.0',
                                 '-p', 'ground_truth_rate:=0.0'])
    joints, events = [], []
    _collect(ros_node, JointState, 'joint_states', joints)
    _collect(ros_node, SimEvent, 'sim/events', events)
    arm = ros_node.create_publisher(JointTrajectory, 'arm_controller/joint_trajectory', 10)
    assert ros_node.spin_until(lambda: joints and arm.get_subscription_count() > 0,
                               timeout=30.0), proc.log()
    home = list(joints[-1].position[:7])
    goal = list(home)
    goal[0] += 0.6
    arm.publish(_trajectory(ARM, goal, 3.0))     # 1.5 s of wall time at real-time factor 2
    assert ros_node.spin_until(lambda: joints[-1].position[0] > home[0] + 0.1, timeout=10.0), \
        proc.log()
    fast = list(joints[-1].position[:7])
    fast[1] += 0.3
    arm.publish(_trajectory(ARM, fast, 0.01))     # 30 rad/s on panda_joint2
    assert ros_node.spin_until(lambda: _rejections(events), timeout=10.0), proc.log()
    refusal = _rejections(events)[0]
    assert refusal.controller == 'arm_controller' and refusal.points == 1
    assert 'panda_joint2 velocity 30.0' in refusal.reason
    assert 'velocity limit 2.175 rad/s' in refusal.reason
    # the arm stopped where it was, short of the goal, and holds there
    n = len(joints)
    assert ros_node.spin_until(lambda: len(joints) > n + 50, timeout=10.0) and proc.alive()
    q = joints[-1].position
    assert home[0] + 0.1 < q[0] < goal[0] - 0.1, (home[0], q[0], goal[0])
    assert max(abs(a - b) for a, b in zip(joints[-20].position[:7], q[:7])) < 2e-3

    nan = _trajectory(ARM, [home[0], math.nan] + home[2:], 1.0)
    short = _trajectory(ARM, home[:5], 1.0)
    negative = _trajectory(ARM, home, 1.0)
    negative.points[0].time_from_start = Duration(sec=-1, nanosec=0)
    unnamed = _trajectory([''] * 7, home, 1.0)
    for msg in (nan, short, negative, unnamed):
        arm.publish(msg)
    assert ros_node.spin_until(lambda: len(_rejections(events)) >= 5, timeout=10.0), proc.log()
    reasons = [e.reason for e in _rejections(events)[1:]]
    assert any('NaN' in r for r in reasons)
    assert any('5 positions for 7 joint names' in r for r in reasons)
    assert any('negative' in r for r in reasons)
    assert any('empty joint name' in r for r in reasons), reasons
    n = len(joints)
    assert ros_node.spin_until(lambda: len(joints) > n + 10, timeout=10.0) and proc.alive()
    assert 'rejected trajectory (1 so far)' in proc.log()


def test_reset_service_uses_the_parameters(node_process, ros_node):
    from std_srvs.srv import Trigger
    proc = node_process(MODULE, ['-p', 'camera_rate:=0.0', '-p', 'num_blocks:=5',
                                 '-p', 'seed:=4', '-p', 'start:=random'])
    client = ros_node.create_client(Trigger, 'sim/reset')
    assert ros_node.spin_until(client.service_is_ready, timeout=30.0), proc.log()
    ros_node.settle()
    future = client.call_async(Trigger.Request())
    assert ros_node.spin_until(future.done, timeout=20.0), proc.log()
    response = future.result()
    assert response.success, response.message
    state = SymbolicState.from_json(response.message)
    assert state.known and state.num_blocks == 5
    from nsvla_sim.scene import load_scene, make_layout
    assert state == make_layout(load_scene(), 5, seed=4, start='random').start_state(3)
    # a parameter the reset cannot use: refused with the reason, the node stays up
    from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
    from rcl_interfaces.srv import SetParameters
    params = ros_node.create_client(SetParameters, 'sim/set_parameters')
    assert ros_node.spin_until(params.service_is_ready, timeout=10.0)
    ros_node.settle()
    value = ParameterValue(type=ParameterType.PARAMETER_STRING, string_value='one, two')
    done = params.call_async(SetParameters.Request(
        parameters=[Parameter(name='drop_grasps', value=value)]))
    assert ros_node.spin_until(done.done, timeout=10.0) and done.result().results[0].successful
    future = client.call_async(Trigger.Request())
    assert ros_node.spin_until(future.done, timeout=20.0), proc.log()
    response = future.result()
    assert not response.success
    assert 'reset refused: drop_grasps must be comma-separated integers' in response.message
    assert proc.alive() and 'reset (1 so far): reset refused' in proc.log()
