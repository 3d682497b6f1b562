# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The sim node over DDS (loopback): camera, joint states, clock, trajectories, reset."""

import json
import math

import pytest

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
    point.time_from_start = Duration(sec=int(seconds), nanosec=int((seconds % 1) * 1e9))
    msg.points = [point]
    return msg


def test_publishes_camera_joint_states_clock_and_ground_truth(node_process, ros_node):
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import CameraInfo, Image, JointState
    from std_msgs.msg import String
    proc = node_process(MODULE, ['-p', 'camera_rate:=10.0', '-p', 'image_width:=320',
                                 '-p', 'image_height:=240', '-p', 'num_blocks:=4'])
    images, infos, joints, clocks, truths = [], [], [], [], []
    _collect(ros_node, Image, 'camera/image_raw', images)
    _collect(ros_node, CameraInfo, 'camera/camera_info', infos)
    _collect(ros_node, JointState, 'joint_states', joints)
    _collect(ros_node, Clock, 'clock', clocks)
    _collect(ros_node, String, 'sim/ground_truth', truths)
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
    js = joints[-1]
    assert list(js.name[:7]) == ARM and len(js.position) == 9
    assert js.position[3] == pytest.approx(-2.3, abs=0.02)   # the scene's home pose
    stamps = [c.clock.sec + c.clock.nanosec * 1e-9 for c in clocks]
    assert all(b >= a for a, b in zip(stamps, stamps[1:])) and stamps[-1] > stamps[0]
    state = SymbolicState.from_json(truths[-1].data)
    assert state.known and state.stacks()['p1'] == ['b4', 'b3', 'b2', 'b1']
    assert proc.alive()


def test_rejects_a_bad_trajectory_keeps_running_and_follows_a_good_one(node_process, ros_node):
    from sensor_msgs.msg import JointState
    from std_msgs.msg import String
    from trajectory_msgs.msg import JointTrajectory
    proc = node_process(MODULE, ['-p', 'camera_rate:=0.0', '-p', 'real_time_factor:=2.0'])
    joints, events = [], []
    _collect(ros_node, JointState, 'joint_states', joints)
    _collect(ros_node, String, 'sim/events', events)
    arm = ros_node.create_publisher(JointTrajectory, 'arm_controller/joint_trajectory', 10)
    grip = ros_node.create_publisher(JointTrajectory, 'gripper_controller/joint_trajectory', 10)
    assert ros_node.spin_until(lambda: joints and arm.get_subscription_count() > 0
                               and grip.get_subscription_count() > 0, timeout=30.0), proc.log()
    home = list(joints[-1].position[:7])

    def event_count(kind):
        return sum(json.loads(e.data)['event'] == kind for e in events)

    bad_name = _trajectory(['elbow'] + ARM[1:], home, 1.0)
    nan = _trajectory(ARM, [home[0], math.nan] + home[2:], 1.0)
    beyond = _trajectory(ARM, [home[0] + 5.0] + home[1:], 1.0)
    for msg in (bad_name, nan, beyond):
        arm.publish(msg)
    grip.publish(_trajectory(['panda_finger_joint1'], [0.2], 1.0))
    assert ros_node.spin_until(lambda: event_count('trajectory_rejected') >= 4, timeout=10.0), \
        proc.log()
    reasons = [json.loads(e.data)['reason'] for e in events
               if json.loads(e.data)['event'] == 'trajectory_rejected']
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


def test_reset_service_uses_the_parameters(node_process, ros_node):
    from std_srvs.srv import Trigger
    proc = node_process(MODULE, ['-p', 'camera_rate:=0.0', '-p', 'num_blocks:=5',
                                 '-p', 'seed:=4', '-p', 'start:=random'])
    client = ros_node.create_client(Trigger, 'sim/reset')
    assert ros_node.spin_until(client.service_is_ready, timeout=30.0), proc.log()
    future = client.call_async(Trigger.Request())
    assert ros_node.spin_until(future.done, timeout=20.0), proc.log()
    response = future.result()
    assert response.success, response.message
    state = SymbolicState.from_json(response.message)
    assert state.known and state.num_blocks == 5
    from nsvla_sim.scene import load_scene, make_layout
    assert state == make_layout(load_scene(), 5, seed=4, start='random').start_state(3)
