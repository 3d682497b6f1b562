# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Gazebo export: the SDF world matches the scene spec; launch and YAML files are consistent."""

import ast
import math
import os
import shutil
import xml.etree.ElementTree as ET

import mujoco
import numpy as np
import pytest
import yaml

from nsvla_common.errors import ValidationError
from nsvla_common.paths import config_path
from nsvla_sim import mjcf
from nsvla_sim.gazebo import (add_gz_ros2_control, layout_to_sdf, look_at_rpy, ring_inertia,
                              rpy_forward, scene_to_sdf)
from nsvla_sim.scene import load_scene, make_layout

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope='module')
def spec():
    return load_scene()


def _pose(el):
    return [float(v) for v in el.find('pose').text.split()]


@pytest.mark.parametrize('n, start', [(3, 'tower'), (5, 'random')])
def test_sdf_is_well_formed_and_matches_the_spec(spec, n, start):
    layout = make_layout(spec, n, seed=2, start=start)
    root = ET.fromstring(layout_to_sdf(spec, layout))
    assert root.tag == 'sdf' and root.get('version') == '1.9'
    world = root.find('world')
    models = {m.get('name'): m for m in world.findall('model')}
    blocks = sorted(k for k in models if k.startswith('b'))
    pegs = sorted(k for k in models if k.startswith('peg_'))
    assert blocks == ['b%d' % i for i in range(1, n + 1)]
    assert pegs == ['peg_p%d' % k for k in range(1, spec.num_pegs + 1)]
    assert set(models) == set(blocks) | set(pegs) | {'table', 'scene_camera'}
    for k in range(1, spec.num_pegs + 1):
        x, y, z = _pose(models['peg_p%d' % k])[:3]
        assert (x, y) == pytest.approx(spec.peg_xy(k)) and z == pytest.approx(spec.peg_height / 2)
        cyl = models['peg_p%d' % k].find('link/collision/geometry/cylinder')
        assert float(cyl.find('length').text) == pytest.approx(spec.peg_height)
    apothems = spec.block_apothems(n)
    for b in layout.blocks:
        pose = _pose(models[b.name])
        x, y = spec.peg_xy(b.peg)
        assert pose[:3] == pytest.approx([x, y, spec.block_centre_z(b.level)])
        collisions = models[b.name].findall('link/collision')
        assert len(collisions) == spec.segments
        # outer faces of the segments sit at the block's apothem
        for col in collisions:
            cx, cy = [float(v) for v in col.find('pose').text.split()[:2]]
            sx = float(col.find('geometry/box/size').text.split()[0])
            want = apothems[int(b.name[1:]) - 1]
            assert math.hypot(cx, cy) + sx / 2 == pytest.approx(want, abs=1e-5)
    light = world.find('light')
    assert light.find('cast_shadows').text == 'false'
    assert world.find('scene/shadows').text == 'false'


def test_camera_pose_and_intrinsics_match(spec):
    root = ET.fromstring(scene_to_sdf(spec, 3))
    cam = next(m for m in root.iter('model') if m.get('name') == 'scene_camera')
    pose = _pose(cam)
    assert pose[:3] == pytest.approx(list(spec.camera.position))
    want = np.subtract(spec.camera.look_at, spec.camera.position)
    assert rpy_forward(pose[3:]) == pytest.approx(want / np.linalg.norm(want), abs=1e-5)
    sensor = cam.find('link/sensor')
    assert sensor.get('type') == 'camera' and sensor.find('topic').text == 'camera/image_raw'
    hfov = float(sensor.find('camera/horizontal_fov').text)
    fovy = 2 * math.atan(math.tan(hfov / 2) * spec.camera.height / spec.camera.width)
    assert math.degrees(fovy) == pytest.approx(spec.camera.fovy_deg, abs=1e-3)
    assert int(sensor.find('camera/image/width').text) == spec.camera.width
    assert look_at_rpy((0, 0, 1), (1, 0, 1)) == pytest.approx((0, 0, 0))


def test_block_mass_matches_mujoco(spec):
    layout = make_layout(spec, 4)
    model = mujoco.MjModel.from_xml_string(mjcf.build_mjcf(spec, layout))
    for i, apothem in enumerate(spec.block_apothems(4), start=1):
        mass, inertia = ring_inertia(spec, apothem)
        body = model.body('b%d' % i)
        assert mass == pytest.approx(model.body_mass[body.id], rel=1e-4)
        assert sorted(np.linalg.eigvalsh(inertia)) == pytest.approx(
            sorted(model.body_inertia[body.id]), rel=1e-4)


def test_shipped_example_world_is_up_to_date(spec):
    with open(config_path('gazebo/hanoi_3_blocks.sdf')) as f:
        assert f.read() == scene_to_sdf(spec, 3), \
            'regenerate: python -m nsvla_sim.gazebo --blocks 3 --out ' \
            'config/gazebo/hanoi_3_blocks.sdf'


def test_bridge_and_controllers_yaml_match_the_embedded_interfaces():
    with open(config_path('gazebo/bridge.yaml')) as f:
        bridge = yaml.safe_load(f)
    topics = {b['ros_topic_name']: b for b in bridge}
    assert set(topics) == {'/clock', 'camera/image_raw', 'camera/camera_info'}
    assert all(b['direction'] == 'GZ_TO_ROS' for b in bridge)
    assert topics['camera/image_raw']['ros_type_name'] == 'sensor_msgs/msg/Image'
    with open(config_path('gazebo/controllers.yaml')) as f:
        ctrl = yaml.safe_load(f)
    manager = ctrl['controller_manager']['ros__parameters']
    assert manager['arm_controller']['type'].startswith('joint_trajectory_controller/')
    assert tuple(ctrl['arm_controller']['ros__parameters']['joints']) == mjcf.ARM_JOINTS
    assert ctrl['gripper_controller']['ros__parameters']['joints'] == ['panda_finger_joint1']


# The parameters joint_trajectory_controller declares (ros2_controllers, Kilted:
# joint_trajectory_controller/src/joint_trajectory_controller_parameters.yaml), top level and
# under constraints; use_sim_time is every node's. state_publish_rate is not one (any more).
JTC_PARAMETERS = {
    'joints', 'command_joints', 'command_interfaces', 'state_interfaces', 'speed_scaling',
    'allow_partial_joints_goal', 'interpolate_from_desired_state',
    'allow_integration_in_goal_trajectories',
    'set_last_command_interface_value_as_state_on_activation', 'action_monitor_rate',
    'interpolation_method', 'allow_nonzero_velocity_at_trajectory_end', 'cmd_timeout', 'gains',
    'constraints', 'use_sim_time'}
JTC_CONSTRAINTS = {'stopped_velocity_tolerance', 'goal_time', 'decelerate_on_cancel'}


def test_the_controllers_carry_only_joint_trajectory_controller_parameters():
    with open(config_path('gazebo/controllers.yaml')) as f:
        ctrl = yaml.safe_load(f)
    for name in ('arm_controller', 'gripper_controller'):
        params = ctrl[name]['ros__parameters']
        assert set(params) <= JTC_PARAMETERS, (name, set(params) - JTC_PARAMETERS)
        joints = set(params['joints'])
        extra = set(params.get('constraints', {})) - JTC_CONSTRAINTS - joints
        assert not extra, (name, extra)


MINI_URDF = '<robot name="panda">%s</robot>' % ''.join(
    '<joint name="%s" type="revolute"/>' % j for j in mjcf.ARM_JOINTS + mjcf.FINGER_JOINTS)


def test_add_gz_ros2_control_to_a_urdf(spec):
    out = ET.fromstring(add_gz_ros2_control(MINI_URDF, '/cfg/controllers.yaml', spec.home))
    ctrl = out.find('ros2_control')
    assert ctrl.find('hardware/plugin').text == 'gz_ros2_control/GazeboSimSystem'
    joints = [j.get('name') for j in ctrl.findall('joint')]
    assert joints == list(mjcf.ARM_JOINTS) + ['panda_finger_joint1']
    first = ctrl.find('joint/state_interface/param')
    assert float(first.text) == pytest.approx(spec.home[0])
    assert out.find('gazebo/plugin/parameters').text == '/cfg/controllers.yaml'
    # idempotent: a URDF that has them is left alone
    again = ET.fromstring(add_gz_ros2_control(ET.tostring(out, encoding='unicode'), '/x.yaml'))
    assert len(again.findall('ros2_control')) == 1 and len(again.findall('gazebo')) == 1
    with pytest.raises(ValidationError, match='lacks joint'):
        add_gz_ros2_control('<robot name="x"/>', '/x.yaml')
    with pytest.raises(ValidationError, match='well-formed'):
        add_gz_ros2_control('<robot', '/x.yaml')


def test_launch_file_declares_its_arguments():
    path = os.path.join(REPO, 'launch', 'gazebo.launch.py')
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert {'generate_launch_description', 'setup'} <= funcs
    args = next(n for n in tree.body if isinstance(n, ast.Assign)
                and getattr(n.targets[0], 'id', '') == 'ARGUMENTS')
    names = [t.elts[0].value for t in args.value.elts]
    assert {'blocks', 'seed', 'start', 'scene', 'world', 'nsvla'} <= set(names)
    assert all(len(t.elts) == 3 and t.elts[2].value for t in args.value.elts)  # described


def test_gazebo_itself():
    if shutil.which('gz') is None:
        pytest.skip('Gazebo (gz sim) is not installed on this machine; the SDF is checked above')
    import subprocess
    world = os.path.join(REPO, 'config', 'gazebo', 'hanoi_3_blocks.sdf')
    out = subprocess.run(['gz', 'sdf', '-k', world], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
