# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Export the scene specification as a Gazebo (gz-sim) SDF world, plus the robot's ros2_control.

Pure Python (no Gazebo needed): :func:`scene_to_sdf` writes the same table, pegs, ring blocks
(8 box collisions each, same sizes, colours, friction and start poses as the MuJoCo world),
light and camera sensor as ``nsvla_sim.mjcf``, so a Gazebo run sees the scene the embedded
simulation sees. The Panda itself is not in the world: ``launch/gazebo.launch.py`` spawns it
from its URDF (``franka_description``) with ``gz_ros2_control``; :func:`add_gz_ros2_control`
adds the ``<ros2_control>`` block (position command interfaces for the 7 arm joints and the
finger joint) and the Gazebo plugin pointing at ``config/gazebo/controllers.yaml`` when the
URDF lacks them. ``config/gazebo/bridge.yaml`` bridges the clock and the camera to ROS with
the topic names of the embedded node.

Command line: ``python -m nsvla_sim.gazebo --blocks 3 [--seed S --start random] --out w.sdf``.
"""

import argparse
import math
import sys
import xml.etree.ElementTree as ET
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

from nsvla_common.errors import ValidationError
from nsvla_sim.mjcf import ARM_JOINTS, block_segments, FINGER_JOINTS
from nsvla_sim.scene import (DEFAULT_SCENE, Layout, load_scene, make_layout, SceneSpec,
                             start_spec_from_text, StartSpec)

SDF_VERSION = '1.9'
CAMERA_MODEL = 'scene_camera'
CAMERA_TOPIC = 'camera/image_raw'
CAMERA_INFO_TOPIC = 'camera/camera_info'
GZ_PLUGINS = (
    ('gz-sim-physics-system', 'gz::sim::systems::Physics'),
    ('gz-sim-user-commands-system', 'gz::sim::systems::UserCommands'),
    ('gz-sim-scene-broadcaster-system', 'gz::sim::systems::SceneBroadcaster'),
    ('gz-sim-sensors-system', 'gz::sim::systems::Sensors'),
    ('gz-sim-contact-system', 'gz::sim::systems::Contact'),
)


def _f(values: Iterable[float]) -> str:
    return ' '.join('%.6g' % v for v in values)


def _text(parent: ET.Element, tag: str, text: str, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, tag, **attrib)
    el.text = text
    return el


def look_at_rpy(position: Sequence[float], target: Sequence[float]) -> Tuple[float, float, float]:
    """Roll, pitch, yaw of a Gazebo camera (looking along its +x, z up) aimed at ``target``."""
    fwd = np.asarray(target, float) - np.asarray(position, float)
    n = float(np.linalg.norm(fwd))
    if n < 1e-9:
        raise ValidationError('camera position and look_at coincide')
    fwd /= n
    yaw = math.atan2(fwd[1], fwd[0])
    pitch = math.asin(max(-1.0, min(1.0, -fwd[2])))
    return 0.0, pitch, yaw


def rpy_forward(rpy: Sequence[float]) -> np.ndarray:
    """Return the +x axis of a frame with SDF roll/pitch/yaw ``rpy`` (Rz Ry Rx)."""
    _, pitch, yaw = rpy
    return np.array([math.cos(yaw) * math.cos(pitch), math.sin(yaw) * math.cos(pitch),
                     -math.sin(pitch)])


def ring_inertia(spec: SceneSpec, apothem: float) -> Tuple[float, np.ndarray]:
    """Mass (kg) and 3x3 inertia (kg m^2, about the centre) of a ring block, as MuJoCo sums it."""
    total = 0.0
    inertia = np.zeros((3, 3))
    for centre, half, ang in block_segments(apothem, spec.hole_apothem, spec.block_height,
                                            spec.segments):
        a, b, c = (2 * h for h in half)
        mass = spec.block_density * a * b * c
        local = np.diag([mass * (b * b + c * c) / 12, mass * (a * a + c * c) / 12,
                         mass * (a * a + b * b) / 12])
        rot = np.array([[math.cos(ang), -math.sin(ang), 0], [math.sin(ang), math.cos(ang), 0],
                        [0, 0, 1]])
        r = np.asarray(centre)
        inertia += rot @ local @ rot.T + mass * (np.dot(r, r) * np.eye(3) - np.outer(r, r))
        total += mass
    return total, inertia


def _material(parent: ET.Element, rgb: Sequence[float]) -> None:
    mat = ET.SubElement(parent, 'material')
    _text(mat, 'ambient', _f(tuple(rgb) + (1.0,)))
    _text(mat, 'diffuse', _f(tuple(rgb) + (1.0,)))
    _text(mat, 'specular', '0.05 0.05 0.05 1')


def _static_model(world: ET.Element, name: str, pose: Sequence[float]) -> ET.Element:
    model = ET.SubElement(world, 'model', name=name)
    _text(model, 'static', 'true')
    _text(model, 'pose', _f(pose))
    return ET.SubElement(model, 'link', name='link')


def _surface(collision: ET.Element, mu: float) -> None:
    surface = ET.SubElement(collision, 'surface')
    ode = ET.SubElement(ET.SubElement(surface, 'friction'), 'ode')
    _text(ode, 'mu', '%g' % mu)
    _text(ode, 'mu2', '%g' % mu)


def layout_to_sdf(spec: SceneSpec, layout: Layout, world_name: str = 'nsvla_hanoi',
                  camera_rate: float = 10.0) -> str:
    """Return the SDF world text of ``layout`` drawn from ``spec`` (no robot: it is spawned)."""
    sdf = ET.Element('sdf', version=SDF_VERSION)
    world = ET.SubElement(sdf, 'world', name=world_name)
    physics = ET.SubElement(world, 'physics', name='default', type='dart')
    _text(physics, 'max_step_size', '%g' % spec.timestep)
    _text(physics, 'real_time_factor', '1.0')
    for filename, name in GZ_PLUGINS:
        plugin = ET.SubElement(world, 'plugin', filename=filename, name=name)
        if name.endswith('Sensors'):
            _text(plugin, 'render_engine', 'ogre2')
    _text(world, 'gravity', _f(spec.gravity))
    scene = ET.SubElement(world, 'scene')
    _text(scene, 'ambient', _f([layout.light_ambient] * 3 + [1.0]))
    _text(scene, 'background', '0.62 0.66 0.72 1')
    _text(scene, 'shadows', 'false')
    light = ET.SubElement(world, 'light', type='directional', name='sun')
    _text(light, 'cast_shadows', 'false')
    _text(light, 'pose', '0 0 3 0 0 0')
    _text(light, 'diffuse', _f([layout.light_diffuse] * 3 + [1.0]))
    _text(light, 'specular', '0.1 0.1 0.1 1')
    _text(light, 'direction', _f(layout.light_direction))

    sx, sy, sz = spec.table_size
    cx, cy = spec.table_centre
    link = _static_model(world, 'table', (cx, cy, -sz / 2, 0, 0, 0))
    for tag in ('collision', 'visual'):
        el = ET.SubElement(link, tag, name=tag)
        _text(ET.SubElement(ET.SubElement(el, 'geometry'), 'box'), 'size', _f((sx, sy, sz)))
        if tag == 'visual':
            _material(el, spec.table_colour)

    for k in range(1, spec.num_pegs + 1):
        x, y = spec.peg_xy(k)
        link = _static_model(world, 'peg_p%d' % k, (x, y, spec.peg_height / 2, 0, 0, 0))
        for tag in ('collision', 'visual'):
            el = ET.SubElement(link, tag, name=tag)
            cyl = ET.SubElement(ET.SubElement(el, 'geometry'), 'cylinder')
            _text(cyl, 'radius', '%g' % spec.peg_radius)
            _text(cyl, 'length', '%g' % spec.peg_height)
            if tag == 'visual':
                _material(el, spec.peg_colour)

    apothems = spec.block_apothems(layout.num_blocks)
    for b in layout.blocks:
        i = int(b.name[1:])
        x, y = spec.peg_xy(b.peg)
        model = ET.SubElement(world, 'model', name=b.name)
        _text(model, 'pose', _f((x + b.offset[0], y + b.offset[1],
                                 spec.block_centre_z(b.level), 0, 0, b.yaw)))
        link = ET.SubElement(model, 'link', name='link')
        mass, inertia = ring_inertia(spec, apothems[i - 1])
        inertial = ET.SubElement(link, 'inertial')
        _text(inertial, 'mass', '%.6g' % mass)
        iner = ET.SubElement(inertial, 'inertia')
        for tag, (r, c) in (('ixx', (0, 0)), ('ixy', (0, 1)), ('ixz', (0, 2)), ('iyy', (1, 1)),
                            ('iyz', (1, 2)), ('izz', (2, 2))):
            _text(iner, tag, '%.6g' % inertia[r, c])
        for s, (centre, half, ang) in enumerate(block_segments(
                apothems[i - 1], spec.hole_apothem, spec.block_height, spec.segments)):
            pose = _f(tuple(centre) + (0.0, 0.0, ang))
            size = _f(2 * h for h in half)
            for tag in ('collision', 'visual'):
                el = ET.SubElement(link, tag, name='%s_seg%d' % (tag, s))
                _text(el, 'pose', pose)
                _text(ET.SubElement(ET.SubElement(el, 'geometry'), 'box'), 'size', size)
                if tag == 'collision':
                    _surface(el, spec.block_friction[0])
                else:
                    _material(el, b.colour)

    cam = spec.camera
    rpy = look_at_rpy(layout.camera_position, layout.camera_look_at)
    link = _static_model(world, CAMERA_MODEL, tuple(layout.camera_position) + rpy)
    sensor = ET.SubElement(link, 'sensor', name=cam.name, type='camera')
    camera = ET.SubElement(sensor, 'camera', name=cam.name)
    fx, fy, cx, cy = cam.intrinsics
    _text(camera, 'horizontal_fov', '%.6g' % (2 * math.atan(cam.width / (2 * fx))))
    if not cam.is_ideal:
        # fx, fy, cx, cy of the rig (gz-sensors renders them; a lens distortion it does not)
        intrinsics = ET.SubElement(ET.SubElement(camera, 'lens'), 'intrinsics')
        for tag, value in (('fx', fx), ('fy', fy), ('cx', cx), ('cy', cy), ('s', 0.0)):
            _text(intrinsics, tag, '%.9g' % value)
    image = ET.SubElement(camera, 'image')
    _text(image, 'width', str(cam.width))
    _text(image, 'height', str(cam.height))
    _text(image, 'format', 'R8G8B8')
    clip = ET.SubElement(camera, 'clip')
    _text(clip, 'near', '0.01')
    _text(clip, 'far', '10')
    _text(camera, 'camera_info_topic', CAMERA_INFO_TOPIC)
    _text(sensor, 'always_on', '1')
    _text(sensor, 'update_rate', '%g' % camera_rate)
    _text(sensor, 'visualize', 'false')
    _text(sensor, 'topic', CAMERA_TOPIC)
    _text(sensor, 'gz_frame_id', cam.frame_id)
    ET.indent(sdf)
    return '<?xml version="1.0"?>\n' + ET.tostring(sdf, encoding='unicode') + '\n'


def scene_to_sdf(spec: Optional[SceneSpec] = None, num_blocks: int = 3, seed: int = 0,
                 start: StartSpec = 'tower', randomise: bool = False,
                 camera_rate: float = 10.0) -> str:
    """Return the SDF world of a scene (default scene when ``spec`` is None)."""
    spec = spec or load_scene(DEFAULT_SCENE)
    return layout_to_sdf(spec, make_layout(spec, num_blocks, seed, start, randomise),
                         camera_rate=camera_rate)


# ---------------------------------------------------------------------- ros2_control in URDF
def add_gz_ros2_control(urdf: str, controllers_yaml: str,
                        initial: Optional[Sequence[float]] = None,
                        gripper_initial: float = 0.04) -> str:
    """
    Return ``urdf`` with a gz_ros2_control ``<ros2_control>`` block and plugin, if it has none.

    The arm joints get a position command interface and position/velocity/effort state
    interfaces; ``panda_finger_joint1`` likewise (``panda_finger_joint2`` mimics it in the
    Franka URDF). ``initial`` sets the arm's initial positions (the scene's home pose).
    """
    try:
        robot = ET.fromstring(urdf)
    except ET.ParseError as exc:
        raise ValidationError('robot description is not well-formed XML: %s' % exc) from None
    if robot.tag != 'robot':
        raise ValidationError('robot description root is <%s>, expected <robot>' % robot.tag)
    names = {j.get('name') for j in robot.iter('joint')}
    missing = [j for j in ARM_JOINTS + FINGER_JOINTS[:1] if j not in names]
    if missing:
        raise ValidationError('robot description lacks joint(s) %s' % ', '.join(missing))
    if robot.find('ros2_control') is None:
        ctrl = ET.SubElement(robot, 'ros2_control', name='GazeboSimSystem', type='system')
        hw = ET.SubElement(ctrl, 'hardware')
        _text(hw, 'plugin', 'gz_ros2_control/GazeboSimSystem')
        start: List[float] = list(initial) if initial is not None else [0.0] * 7
        for joint, q0 in list(zip(ARM_JOINTS, start)) + [(FINGER_JOINTS[0], gripper_initial)]:
            el = ET.SubElement(ctrl, 'joint', name=joint)
            ET.SubElement(el, 'command_interface', name='position')
            state = ET.SubElement(el, 'state_interface', name='position')
            _text(state, 'param', '%g' % q0, name='initial_value')
            ET.SubElement(el, 'state_interface', name='velocity')
            ET.SubElement(el, 'state_interface', name='effort')
    has_plugin = any('gz_ros2_control' in (p.get('filename') or '')
                     for p in robot.iter('plugin'))
    if not has_plugin:
        gz = ET.SubElement(robot, 'gazebo')
        plugin = ET.SubElement(gz, 'plugin', filename='gz_ros2_control-system',
                               name='gz_ros2_control::GazeboSimROS2ControlPlugin')
        _text(plugin, 'parameters', controllers_yaml)
    return ET.tostring(robot, encoding='unicode')


def main(argv: Optional[List[str]] = None) -> int:
    """Write the SDF world of a scene: ``python -m nsvla_sim.gazebo --blocks 3 --out w.sdf``."""
    parser = argparse.ArgumentParser(description='Export the nsvla scene as a Gazebo SDF world.')
    parser.add_argument('--scene', default=DEFAULT_SCENE)
    parser.add_argument('--blocks', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--start', default='tower')
    parser.add_argument('--randomise', action='store_true')
    parser.add_argument('--camera-rate', type=float, default=10.0)
    parser.add_argument('--out', default='-', help='file to write (default: stdout)')
    args = parser.parse_args(argv)
    text = scene_to_sdf(load_scene(args.scene), args.blocks, args.seed,
                        start_spec_from_text(args.start), args.randomise, args.camera_rate)
    if args.out == '-':
        sys.stdout.write(text)
    else:
        with open(args.out, 'w') as f:
            f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
