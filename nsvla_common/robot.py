# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Facts of the Franka Panda every layer shares: joint and link names, limits, the TCP, grasp frames.

Pure Python and numpy (no MuJoCo, no rclpy): the executor, the motion backends, the simulation
and the Gazebo export all name the same joints and respect the same limits, from here.
"""

import math
from typing import Dict, Tuple

import numpy as np

ARM_JOINTS = tuple('panda_joint%d' % i for i in range(1, 8))
FINGER_JOINTS = ('panda_finger_joint1', 'panda_finger_joint2')
TCP_SITE = 'tcp'                 # between the finger pads
TCP_OFFSET = 0.1034              # m from the flange (panda_link8) along its z axis
HAND_BODY = 'panda_hand'
HAND_YAW = -math.pi / 4          # the hand is mounted on the flange turned by -45 degrees about z
GRIPPER_MAX_OPENING = 0.04       # per finger (m): the Panda hand opens to 80 mm
# Joint velocity (rad/s) and acceleration (rad/s^2) limits of the arm, Franka datasheet
# (franka_ros / libfranka); the sim refuses arm trajectories beyond them.
ARM_MOTION_LIMITS: Dict[str, Tuple[float, float]] = {
    'panda_joint1': (2.175, 15.0), 'panda_joint2': (2.175, 7.5), 'panda_joint3': (2.175, 10.0),
    'panda_joint4': (2.175, 12.5), 'panda_joint5': (2.61, 15.0), 'panda_joint6': (2.61, 20.0),
    'panda_joint7': (2.61, 20.0),
}


def mat_to_quat(mat: np.ndarray) -> np.ndarray:
    """Return the unit quaternion (w, x, y, z), w >= 0, of a 3x3 rotation matrix."""
    m = np.asarray(mat, float).reshape(3, 3)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * math.sqrt(1.0 + trace)
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s]
    else:
        s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s]
    quat = np.array(q) / np.linalg.norm(q)
    return -quat if quat[0] < 0 else quat


def top_down_quat(yaw: float) -> np.ndarray:
    """
    Quaternion (w, x, y, z) of a TCP pointing straight down with fingers closing along ``yaw``.

    The TCP z axis (approach) is world -z; its y axis (the direction the fingers move) is
    ``(cos yaw, sin yaw, 0)``. With the scene's octagonal blocks at yaw 0, any ``yaw`` that is a
    multiple of 45 degrees puts two flat faces against the fingers.
    """
    c, s = math.cos(yaw), math.sin(yaw)
    return mat_to_quat(np.array([[-s, c, 0.0],
                                 [c, s, 0.0],
                                 [0.0, 0.0, -1.0]]))
