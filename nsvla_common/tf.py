# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Static transforms of a rig: where the camera's optical frame sits in ``world``.

The camera of a rig file (``nsvla_common.rig.CameraSpec``: ``position``, ``look_at``,
``frame_id``) has its optical frame (x right, y down, z forward, the frame of its images and
camera_info) at ``position`` with the rotation of :func:`nsvla_common.camera.look_at_rotation`.
:func:`optical_frame_transform` gives it as a translation and a quaternion;
:func:`static_transform_arguments` as the arguments of tf2_ros' ``static_transform_publisher``;
:func:`tf_message` as a ``tf2_msgs/TFMessage`` for ``/tf_static`` where tf2_msgs is importable
(:func:`tf_available`). Pure numpy apart from that lazy import.
"""

import importlib.util
from dataclasses import dataclass
from typing import Any, List, Sequence, Tuple

import numpy as np

from nsvla_common.camera import look_at_rotation
from nsvla_common.robot import mat_to_quat

WORLD_FRAME = 'world'
TF_STATIC_TOPIC = '/tf_static'   # absolute, as tf2_ros' static broadcaster and listener use


@dataclass(frozen=True)
class StaticTransform:
    """One transform: ``child`` in ``parent``, translation (m) and quaternion (w, x, y, z)."""

    parent: str
    child: str
    translation: Tuple[float, float, float]
    rotation: Tuple[float, float, float, float]

    def matrix(self) -> np.ndarray:
        """Return the 4x4 pose of the child frame in the parent."""
        w, x, y, z = self.rotation
        out = np.eye(4)
        out[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                       [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                       [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]]
        out[:3, 3] = self.translation
        return out


def pose_transform(position: Sequence[float], rotation: np.ndarray, child: str,
                   parent: str = WORLD_FRAME) -> StaticTransform:
    """Return the transform of a frame at ``position`` with 3x3 ``rotation`` in ``parent``."""
    quat = mat_to_quat(rotation)
    return StaticTransform(parent, child, tuple(float(v) for v in position),  # type: ignore
                           tuple(float(v) for v in quat))  # type: ignore[arg-type]


def optical_frame_transform(camera: Any, parent: str = WORLD_FRAME) -> StaticTransform:
    """Return the camera's optical frame in ``parent`` from a rig camera (position, look_at)."""
    rot = look_at_rotation(camera.position, camera.look_at)
    return pose_transform(camera.position, rot, camera.frame_id, parent)


def static_transform_arguments(tf: StaticTransform) -> List[str]:
    """Return the command-line arguments of ``ros2 run tf2_ros static_transform_publisher``."""
    (x, y, z), (qw, qx, qy, qz) = tf.translation, tf.rotation
    args: List[str] = []
    for key, value in (('x', x), ('y', y), ('z', z), ('qx', qx), ('qy', qy), ('qz', qz),
                       ('qw', qw)):
        args += ['--' + key, repr(float(value))]
    return args + ['--frame-id', tf.parent, '--child-frame-id', tf.child]


def tf_available() -> bool:
    """Tell whether ``tf2_msgs`` can be imported (not from the PyPI ROS wheels)."""
    return importlib.util.find_spec('tf2_msgs') is not None


def tf_message(transforms: Sequence[StaticTransform], stamp: Any) -> Any:
    """Return a ``tf2_msgs/TFMessage`` of ``transforms`` stamped ``stamp``; needs tf2_msgs."""
    from geometry_msgs.msg import TransformStamped
    from tf2_msgs.msg import TFMessage
    out = TFMessage()
    for tf in transforms:
        msg = TransformStamped()
        msg.header.stamp = stamp
        msg.header.frame_id = tf.parent
        msg.child_frame_id = tf.child
        msg.transform.translation.x, msg.transform.translation.y, \
            msg.transform.translation.z = tf.translation
        (msg.transform.rotation.w, msg.transform.rotation.x, msg.transform.rotation.y,
         msg.transform.rotation.z) = tf.rotation
        out.transforms.append(msg)
    return out
