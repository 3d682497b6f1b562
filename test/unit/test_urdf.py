# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The generated Panda URDF and the camera's static transform agree with the project's models."""

import math
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from nsvla_common.rig import load_scene
from nsvla_common.robot import ARM_JOINTS, ARM_MOTION_LIMITS, FINGER_JOINTS
from nsvla_common.tf import optical_frame_transform, pose_transform, static_transform_arguments

pytest.importorskip('dm_robotics', reason='the Panda model (dm-robotics-panda) is not installed')

from nsvla_control.urdf import BASE_JOINT, link_poses, mat_to_rpy, panda_urdf  # noqa: E402
from nsvla_control.urdf import rpy_to_mat, TCP_LINK, WORLD_LINK  # noqa: E402

BASE = (0.1, -0.2, 0.05)
CONFIGS = [
    (0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785),
    (0.5, 0.3, -0.4, -1.8, 0.6, 2.2, -1.0),
    (-1.2, -0.9, 1.1, -2.6, -1.5, 0.8, 2.3),
    (2.0, 1.2, -2.0, -0.5, 2.5, 3.0, -2.5),
]


@pytest.fixture(scope='module')
def urdf():
    return panda_urdf(BASE)


def test_urdf_is_well_formed_and_names_the_joints_the_sim_publishes(urdf):
    robot = ET.fromstring(urdf)
    assert robot.tag == 'robot'
    links = {link.get('name') for link in robot.findall('link')}
    joints = {j.get('name'): j for j in robot.findall('joint')}
    moving = {name for name, j in joints.items() if j.get('type') != 'fixed'}
    assert moving == set(ARM_JOINTS + FINGER_JOINTS)   # exactly the sim's joint_states names
    assert {'panda_link%d' % i for i in range(9)} | {'panda_hand', WORLD_LINK, TCP_LINK} <= links
    for j in joints.values():   # every joint connects two declared links
        assert j.find('parent').get('link') in links and j.find('child').get('link') in links
    assert len({j.find('child').get('link') for j in joints.values()}) == len(joints)
    for name in ARM_JOINTS:
        limit = joints[name].find('limit')
        assert float(limit.get('velocity')) == ARM_MOTION_LIMITS[name][0]
        assert float(limit.get('lower')) < float(limit.get('upper'))
    assert joints['panda_joint4'].find('limit').get('upper') == '-0.0698'
    assert joints[BASE_JOINT].find('origin').get('xyz') == '0.1 -0.2 0.05'
    meshes = [m.get('filename') for m in robot.iter('mesh')]
    assert len(meshes) >= 10 and all(m.startswith('file:///') for m in meshes)
    assert not list(ET.fromstring(panda_urdf(BASE, meshes=False)).iter('mesh'))


def test_urdf_module_does_not_import_mujoco():
    code = ('import sys, nsvla_control.urdf as u; u.panda_urdf(); '
            'sys.exit(int("mujoco" in sys.modules))')
    assert subprocess.run([sys.executable, '-c', code], timeout=60).returncode == 0


def test_rpy_round_trip():
    rng = np.random.default_rng(3)
    for rpy in rng.uniform(-3.0, 3.0, size=(20, 3)):
        rpy[1] /= 2.0     # pitch inside (-pi/2, pi/2)
        assert np.allclose(mat_to_rpy(rpy_to_mat(rpy)), rpy, atol=1e-9)
    assert np.allclose(rpy_to_mat(mat_to_rpy(rpy_to_mat((0.3, math.pi / 2, -0.2)))),
                       rpy_to_mat((0.3, math.pi / 2, -0.2)), atol=1e-9)


def test_urdf_forward_kinematics_agrees_with_the_ik_solver(urdf):
    pytest.importorskip('mujoco')
    from nsvla_control.kinematics import panda_solver
    from nsvla_control.urdf import quat_to_mat
    solver = panda_solver(robot_base=BASE)
    for q in CONFIGS:
        positions = dict(zip(ARM_JOINTS, q), panda_finger_joint1=0.02, panda_finger_joint2=0.02)
        pose = link_poses(urdf, positions)[TCP_LINK]
        pos, quat = solver.forward(q)
        assert np.linalg.norm(pose[:3, 3] - pos) < 1e-3          # < 1 mm
        assert np.linalg.norm(pose[:3, 3] - pos) < 1e-5          # in fact the same numbers
        rot_err = pose[:3, :3].T @ quat_to_mat(quat)
        angle = math.acos(max(-1.0, min(1.0, (np.trace(rot_err) - 1) / 2)))
        assert angle < 1e-4


def test_fingers_open_symmetrically_along_the_hand_y_axis(urdf):
    poses = link_poses(urdf, {'panda_finger_joint1': 0.03, 'panda_finger_joint2': 0.03})
    left = poses['panda_leftfinger'][:3, 3]
    right = poses['panda_rightfinger'][:3, 3]
    assert abs(np.linalg.norm(left - right) - 0.06) < 1e-9
    hand = poses['panda_hand']
    assert np.allclose(np.linalg.inv(hand)[:3, :3] @ (left - right), [0.0, -0.06, 0.0])


def test_camera_optical_frame_looks_at_look_at():
    cam = load_scene().camera
    tf = optical_frame_transform(cam)
    assert tf.parent == 'world' and tf.child == cam.frame_id
    pose = tf.matrix()
    assert np.allclose(pose[:3, 3], cam.position)
    z_axis = pose[:3, 2]
    to_target = np.asarray(cam.look_at, float) - np.asarray(cam.position, float)
    assert np.allclose(z_axis, to_target / np.linalg.norm(to_target), atol=1e-9)
    assert abs(pose[2, 0]) < 1e-9       # x (image right) is horizontal
    assert pose[2, 1] < 0               # y (image down) points down in the world
    assert np.allclose(pose[:3, :3].T @ pose[:3, :3], np.eye(3), atol=1e-9)
    args = static_transform_arguments(tf)
    values = dict(zip(args[0::2], args[1::2]))
    assert values['--frame-id'] == 'world' and values['--child-frame-id'] == cam.frame_id
    assert np.allclose([float(values['--' + k]) for k in ('x', 'y', 'z')], cam.position)
    quat = [float(values['--' + k]) for k in ('qw', 'qx', 'qy', 'qz')]
    assert np.allclose(pose_transform((0, 0, 0), pose[:3, :3], 'c').rotation, quat)


def test_rendered_camera_pose_is_the_rig_files():
    pytest.importorskip('mujoco')
    from nsvla_sim.world import HanoiWorld
    spec = load_scene()
    world = HanoiWorld(spec, num_blocks=3)
    try:
        position, rotation = world.camera_pose()
    finally:
        world.close()
    tf = optical_frame_transform(spec.camera)
    assert np.allclose(position, tf.translation, atol=1e-6)
    assert np.allclose(rotation, tf.matrix()[:3, :3], atol=1e-6)


def test_launch_graphs_add_robot_state_publisher_or_the_camera_where_installed(monkeypatch):
    from nsvla_eval import graph as graph_mod
    embedded = graph_mod.tf_nodes('embedded')
    assert [n.package for n in embedded] == ['robot_state_publisher']
    assert ET.fromstring(embedded[0].parameters['robot_description']).tag == 'robot'
    assert embedded[0].parameters['use_sim_time'] is True
    real = graph_mod.tf_nodes('real')
    assert [(n.package, n.executable) for n in real] == [('tf2_ros', 'static_transform_publisher')]
    assert real[0].arguments == static_transform_arguments(
        optical_frame_transform(load_scene().camera))
    assert graph_mod.tf_nodes('planner') == []
    assert graph_mod.scene_of() == 'scene_default.yaml'
    monkeypatch.setattr(graph_mod, 'package_installed', lambda package: False)
    kept, notes = graph_mod.installed_tf_nodes('embedded')
    assert kept == [] and 'robot_state_publisher' in notes[0] and 'skipped' in notes[0]
    monkeypatch.setattr(graph_mod, 'package_installed', lambda package: True)
    assert graph_mod.installed_tf_nodes('replay')[0] == graph_mod.tf_nodes('replay')


def test_tf_message_carries_the_camera_transform(monkeypatch):
    pytest.importorskip('geometry_msgs')
    import types

    class TFMessage:
        def __init__(self):
            self.transforms = []

    fake = types.ModuleType('tf2_msgs.msg')
    fake.TFMessage = TFMessage
    monkeypatch.setitem(sys.modules, 'tf2_msgs', types.ModuleType('tf2_msgs'))
    monkeypatch.setitem(sys.modules, 'tf2_msgs.msg', fake)
    from nsvla_common.tf import tf_message
    tf = optical_frame_transform(load_scene().camera)
    from builtin_interfaces.msg import Time
    msg = tf_message([tf], stamp=Time(sec=3))
    (out,) = msg.transforms
    assert (out.header.frame_id, out.child_frame_id) == ('world', tf.child)
    assert out.header.stamp.sec == 3
    t, r = out.transform.translation, out.transform.rotation
    assert (t.x, t.y, t.z) == tf.translation and (r.w, r.x, r.y, r.z) == tf.rotation
