# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The Panda's kinematic tree as MJCF, from the model shipped in ``dm-robotics-panda``.

The arm and hand come from ``dm_robotics/panda/assets/panda`` (Apache-2.0, from franka_ros;
nothing is downloaded): :func:`panda_tree` returns the arm body ``panda_link0`` at the robot's
base with the hand on the flange turned by -45 degrees about z (as on the real robot) and the TCP
site between the finger pads. The simulation builds its world around this tree
(``nsvla_sim.mjcf``); :func:`kinematic_mjcf` is the same tree alone, without meshes, which the
built-in motion backend compiles as its kinematics library (``nsvla_control.kinematics``). Both
are plain XML: nothing here imports MuJoCo.
"""

import importlib.util
import math
import os
import xml.etree.ElementTree as ET
from typing import Iterable, Sequence

from nsvla_common.errors import ConfigError
from nsvla_common.robot import HAND_YAW, TCP_OFFSET, TCP_SITE


def panda_assets_dir() -> str:
    """Folder of the Panda MJCF + meshes from ``dm-robotics-panda``; ConfigError if missing."""
    base = ''
    spec = importlib.util.find_spec('dm_robotics')
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            if os.path.isdir(os.path.join(loc, 'panda')):
                base = os.path.join(loc, 'panda')
    path = os.path.join(base, 'assets', 'panda')
    if not base or not os.path.isfile(os.path.join(path, 'panda.xml')):
        raise ConfigError('Panda model not found: install it with '
                          '`pip install --no-deps dm-robotics-panda` (scripts/setup.sh does)')
    return path


def _f(values: Iterable[float]) -> str:
    return ' '.join('%.6g' % v for v in values)


def panda_tree(robot_base: Sequence[float], assets: str = '') -> ET.Element:
    """
    Return the ``panda_link0`` body element: the arm at ``robot_base`` with the hand and TCP.

    The hand's own sites are replaced by the TCP site (``nsvla_common.robot.TCP_SITE``,
    ``TCP_OFFSET`` from the flange); geoms, joints and inertias are the package's, for the
    caller to adjust (contacts, groups, damping).
    """
    assets = assets or panda_assets_dir()
    arm = ET.parse(os.path.join(assets, 'panda.xml')).getroot()
    hand = ET.parse(os.path.join(assets, 'panda_hand.xml')).getroot()
    link0 = arm.find('worldbody/body')
    hand_body = hand.find('worldbody/body')
    if link0 is None or link0.get('name') != 'panda_link0' or hand_body is None:
        raise ConfigError('unexpected panda.xml / panda_hand.xml layout in %s' % assets)
    link0.set('pos', _f(robot_base))
    flange = next((b for b in link0.iter('body') if b.get('name') == 'panda_link8'), None)
    if flange is None:
        raise ConfigError('panda.xml in %s has no flange body panda_link8' % assets)
    hand_body.set('quat', _f((math.cos(HAND_YAW / 2), 0.0, 0.0, math.sin(HAND_YAW / 2))))
    for site in list(hand_body.findall('site')):
        hand_body.remove(site)
    ET.SubElement(hand_body, 'site', name=TCP_SITE, pos='0 0 %g' % TCP_OFFSET, size='0.004',
                  rgba='1 0 0 0.5', group='4')
    flange.append(hand_body)
    return link0


def kinematic_mjcf(robot_base: Sequence[float], assets: str = '') -> str:
    """Return the MJCF text of the Panda alone (no meshes, no actuators): for IK and FK."""
    link0 = panda_tree(robot_base, assets)
    for body in link0.iter('body'):
        for geom in list(body.findall('geom')):
            body.remove(geom)
    root = ET.Element('mujoco', model='nsvla_panda_kinematics')
    ET.SubElement(root, 'compiler', angle='radian', autolimits='true')
    world = ET.SubElement(root, 'worldbody')
    world.append(link0)
    return ET.tostring(root, encoding='unicode')
