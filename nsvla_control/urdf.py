# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The Panda arm + hand as URDF, generated from the same kinematic tree the project uses.

:func:`panda_urdf` walks :func:`nsvla_control.panda_model.panda_tree` (the MJCF of
``dm-robotics-panda`` with the hand turned by -45 degrees and the TCP site) and writes one URDF
link per body and one joint per body joint: the same names (``panda_link0..8``, ``panda_hand``,
``panda_leftfinger`` / ``panda_rightfinger``; ``panda_joint1..7``, ``panda_finger_joint1..2``),
origins, axes and ranges, velocity limits from ``nsvla_common.robot.ARM_MOTION_LIMITS``,
efforts from the Franka datasheet. The root is the ``world`` link with a fixed joint to
``panda_link0`` at the rig's ``robot.base``; ``panda_hand_tcp`` is a fixed link at the TCP.
Visuals point at the package's ``.obj`` meshes (``file://``), so RViz and Foxglove draw the arm
on the machine that runs the sim; ``meshes=False`` leaves them out.

Both finger joints are ordinary prismatic joints (no ``mimic``): the sim publishes both in
``joint_states``, and robot_state_publisher needs nothing else. Plain XML and numpy: nothing
here imports MuJoCo or rclpy.
"""

import math
import os
import xml.etree.ElementTree as ET
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from nsvla_common.errors import ConfigError
from nsvla_common.robot import ARM_MOTION_LIMITS, FINGER_JOINTS, TCP_SITE
from nsvla_common.tf import WORLD_FRAME
from nsvla_control.panda_model import panda_assets_dir, panda_tree

WORLD_LINK = WORLD_FRAME         # the root link: the frame of the rig file, markers, TF
BASE_JOINT = 'panda_base_joint'   # fixed: world -> panda_link0 at the rig's robot.base
TCP_LINK = 'panda_hand_tcp'
# Joint torque limits (N m), Franka datasheet (franka_description); finger force (N) and speed.
ARM_EFFORT = (87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0)
FINGER_EFFORT = 20.0
FINGER_VELOCITY = 0.2


def quat_to_mat(quat: Sequence[float]) -> np.ndarray:
    """Return the 3x3 rotation of a quaternion (w, x, y, z); it need not be normalised."""
    w, x, y, z = np.asarray(quat, float) / np.linalg.norm(quat)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def mat_to_rpy(mat: np.ndarray) -> Tuple[float, float, float]:
    """Return URDF roll, pitch, yaw (fixed axes x, y, z: R = Rz(yaw) Ry(pitch) Rx(roll))."""
    m = np.asarray(mat, float)
    pitch = math.asin(max(-1.0, min(1.0, -m[2, 0])))
    if abs(m[2, 0]) > 1.0 - 1e-12:      # gimbal lock: roll and yaw share one axis
        return 0.0, pitch, math.atan2(-m[0, 1], m[1, 1])
    return math.atan2(m[2, 1], m[2, 2]), pitch, math.atan2(m[1, 0], m[0, 0])


def rpy_to_mat(rpy: Sequence[float]) -> np.ndarray:
    """Return the 3x3 rotation of URDF roll, pitch, yaw."""
    r, p, y = rpy
    rx = np.array([[1, 0, 0], [0, math.cos(r), -math.sin(r)], [0, math.sin(r), math.cos(r)]])
    ry = np.array([[math.cos(p), 0, math.sin(p)], [0, 1, 0], [-math.sin(p), 0, math.cos(p)]])
    rz = np.array([[math.cos(y), -math.sin(y), 0], [math.sin(y), math.cos(y), 0], [0, 0, 1]])
    return rz @ ry @ rx


def _vec(text: Optional[str], n: int, default: float = 0.0) -> np.ndarray:
    if not text:
        return np.full(n, default)
    values = [float(v) for v in text.split()]
    if len(values) != n:
        raise ConfigError('Panda MJCF: expected %d numbers, got %r' % (n, text))
    return np.array(values)


def _f(values: Sequence[float]) -> str:
    return ' '.join('%.12g' % (0.0 if abs(v) < 1e-12 else v) for v in values)


def _origin(parent: ET.Element, pos: np.ndarray, rot: np.ndarray) -> None:
    ET.SubElement(parent, 'origin', xyz=_f(pos), rpy=_f(mat_to_rpy(rot)))


def _body_frame(body: ET.Element) -> Tuple[np.ndarray, np.ndarray]:
    if body.get('euler') or body.get('axisangle') or body.get('xyaxes') or body.get('zaxis'):
        raise ConfigError('Panda MJCF: body %s orientation must be a quat' % body.get('name'))
    return _vec(body.get('pos'), 3), quat_to_mat(_vec(body.get('quat'), 4) if body.get('quat')
                                                 else (1.0, 0.0, 0.0, 0.0))


def _inertial(link: ET.Element, body: ET.Element) -> None:
    inertial = body.find('inertial')
    if inertial is None:
        return
    if inertial.get('quat'):
        raise ConfigError('Panda MJCF: rotated inertial of %s' % body.get('name'))
    node = ET.SubElement(link, 'inertial')
    ET.SubElement(node, 'origin', xyz=_f(_vec(inertial.get('pos'), 3)), rpy='0 0 0')
    ET.SubElement(node, 'mass', value='%.9g' % float(inertial.get('mass', '0')))
    if inertial.get('fullinertia'):
        ixx, iyy, izz, ixy, ixz, iyz = _vec(inertial.get('fullinertia'), 6)
    else:
        ixx, iyy, izz = _vec(inertial.get('diaginertia'), 3)
        ixy = ixz = iyz = 0.0
    ET.SubElement(node, 'inertia', ixx='%.9g' % ixx, ixy='%.9g' % ixy, ixz='%.9g' % ixz,
                  iyy='%.9g' % iyy, iyz='%.9g' % iyz, izz='%.9g' % izz)


def _visuals(link: ET.Element, body: ET.Element, mesh_files: Dict[str, str]) -> None:
    for geom in body.findall('geom'):
        mesh = geom.get('mesh')
        if geom.get('type') != 'mesh' or mesh not in mesh_files:
            continue
        visual = ET.SubElement(link, 'visual')
        pos, rot = _body_frame(geom)
        _origin(visual, pos, rot)
        shape = ET.SubElement(visual, 'geometry')
        ET.SubElement(shape, 'mesh', filename='file://' + mesh_files[mesh])


def _limits(joint: ET.Element, name: str, lo: float, hi: float) -> None:
    if name in ARM_MOTION_LIMITS:
        effort = ARM_EFFORT[int(name[-1]) - 1]
        velocity = ARM_MOTION_LIMITS[name][0]
    elif name in FINGER_JOINTS:
        effort, velocity = FINGER_EFFORT, FINGER_VELOCITY
    else:
        raise ConfigError('Panda MJCF: joint %s is neither an arm nor a finger joint' % name)
    ET.SubElement(joint, 'limit', lower='%.9g' % lo, upper='%.9g' % hi, effort='%.9g' % effort,
                  velocity='%.9g' % velocity)


def _add_body(robot: ET.Element, body: ET.Element, parent: str,
              mesh_files: Dict[str, str]) -> None:
    name = body.get('name') or ''
    link = ET.SubElement(robot, 'link', name=name)
    _inertial(link, body)
    _visuals(link, body, mesh_files)
    pos, rot = _body_frame(body)
    joints = body.findall('joint')
    if len(joints) > 1:
        raise ConfigError('Panda MJCF: body %s has %d joints' % (name, len(joints)))
    if joints:
        mj = joints[0]
        if np.any(_vec(mj.get('pos'), 3)):
            raise ConfigError('Panda MJCF: joint %s is off its body origin' % mj.get('name'))
        kind = {'hinge': 'revolute', 'slide': 'prismatic'}.get(mj.get('type', 'hinge'))
        if kind is None:
            raise ConfigError('Panda MJCF: joint %s of type %s' % (mj.get('name'), mj.get('type')))
        joint = ET.SubElement(robot, 'joint', name=mj.get('name') or '', type=kind)
        axis = _vec(mj.get('axis'), 3, 0.0) if mj.get('axis') else np.array([0.0, 0.0, 1.0])
        lo, hi = _vec(mj.get('range'), 2)
        if hi <= lo:
            raise ConfigError('Panda MJCF: joint %s has no range' % mj.get('name'))
    else:
        joint = ET.SubElement(robot, 'joint', name='%s_joint' % name, type='fixed')
    ET.SubElement(joint, 'parent', link=parent)
    ET.SubElement(joint, 'child', link=name)
    _origin(joint, pos, rot)
    if joints:
        ET.SubElement(joint, 'axis', xyz=_f(axis / np.linalg.norm(axis)))
        _limits(joint, joint.get('name') or '', float(lo), float(hi))
    for site in body.findall('site'):
        if site.get('name') == TCP_SITE:
            ET.SubElement(robot, 'link', name=TCP_LINK)
            tcp = ET.SubElement(robot, 'joint', name=TCP_LINK + '_joint', type='fixed')
            ET.SubElement(tcp, 'parent', link=name)
            ET.SubElement(tcp, 'child', link=TCP_LINK)
            _origin(tcp, *_body_frame(site))
    for child in body.findall('body'):
        _add_body(robot, child, name, mesh_files)


def panda_urdf(robot_base: Sequence[float] = (0.0, 0.0, 0.0), assets: str = '',
               meshes: bool = True, world_link: str = WORLD_LINK) -> str:
    """
    Return the URDF text of the Panda with its hand, ``panda_link0`` at ``robot_base``.

    ``assets`` is the folder of the Panda MJCF and meshes (default: ``dm-robotics-panda``'s;
    ConfigError when it is not installed); ``world_link`` names the root link.
    """
    assets = os.path.abspath(assets or panda_assets_dir())
    link0 = panda_tree(robot_base, assets)
    mesh_files: Dict[str, str] = {}
    if meshes:
        for xml_name in ('panda.xml', 'panda_hand.xml'):
            for mesh in ET.parse(os.path.join(assets, xml_name)).getroot().iter('mesh'):
                mesh_files[mesh.get('name') or ''] = os.path.join(assets, mesh.get('file') or '')
    robot = ET.Element('robot', name='panda')
    ET.SubElement(robot, 'link', name=world_link)
    _add_body(robot, link0, world_link, mesh_files)
    for joint in robot.iter('joint'):
        if joint.get('name') == 'panda_link0_joint':
            joint.set('name', BASE_JOINT)
    ET.indent(robot)
    return '<?xml version="1.0"?>\n' + ET.tostring(robot, encoding='unicode') + '\n'


def link_poses(urdf: str, positions: Dict[str, float]) -> Dict[str, np.ndarray]:
    """
    Return every link's 4x4 pose in the root link, at joint ``positions`` (default 0).

    Composes each joint's origin and its motion about / along its axis, as
    robot_state_publisher does: a plain check of a URDF against another kinematics.
    """
    robot = ET.fromstring(urdf)
    children: Dict[str, list] = {}
    parents = set()
    for joint in robot.findall('joint'):
        parent = joint.find('parent').get('link')   # type: ignore[union-attr]
        children.setdefault(parent, []).append(joint)
        parents.add(joint.find('child').get('link'))  # type: ignore[union-attr]
    roots = [link.get('name') for link in robot.findall('link') if link.get('name') not in parents]
    if len(roots) != 1:
        raise ConfigError('URDF: expected one root link, found %r' % roots)
    poses = {roots[0]: np.eye(4)}
    stack = [roots[0]]
    while stack:
        link = stack.pop()
        for joint in children.get(link, []):
            origin = joint.find('origin')
            t = np.eye(4)
            if origin is not None:
                t[:3, :3] = rpy_to_mat(_vec(origin.get('rpy'), 3))
                t[:3, 3] = _vec(origin.get('xyz'), 3)
            q = float(positions.get(joint.get('name') or '', 0.0))
            axis_el = joint.find('axis')
            axis = _vec(axis_el.get('xyz') if axis_el is not None else '1 0 0', 3)
            motion = np.eye(4)
            if joint.get('type') in ('revolute', 'continuous'):
                k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]],
                              [-axis[1], axis[0], 0]])
                motion[:3, :3] = np.eye(3) + math.sin(q) * k + (1 - math.cos(q)) * (k @ k)
            elif joint.get('type') == 'prismatic':
                motion[:3, 3] = q * axis
            child = joint.find('child').get('link')   # type: ignore[union-attr]
            poses[child] = poses[link] @ t @ motion
            stack.append(child)
    return poses
