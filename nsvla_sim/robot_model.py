# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
What the sim node says about the robot model and its frames, for RViz and Foxglove.

:class:`RobotModelPublisher` publishes ``robot_description`` (std_msgs/String, transient local:
a late subscriber such as robot_state_publisher's or RViz's still gets it) with the Panda URDF of
:func:`nsvla_control.urdf.panda_urdf` at the scene's robot base, and, where tf2_msgs is
importable (a full ROS install; not the PyPI wheels), the camera's optical frame in ``world`` on
``/tf_static`` (the frame of the sim's images and camera_info, at the rendered camera's pose, so
a randomised camera is where the images were taken). With robot_state_publisher running on
``joint_states`` the arm, the camera, perception's markers (``world``) and its debug images
(the camera's frame) line up.
"""

from typing import Any, Sequence

from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

from nsvla_common.tf import pose_transform, TF_STATIC_TOPIC, tf_available, tf_message
from nsvla_common.tf import WORLD_FRAME
from nsvla_control.urdf import panda_urdf
from nsvla_planner.messages import stamp_to_time

ROBOT_DESCRIPTION = 'robot_description'


def latched_qos() -> QoSProfile:
    """Return the QoS of robot_description and /tf_static: reliable, transient local, depth 1."""
    return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


class RobotModelPublisher:
    """The latched ``robot_description`` and (where tf2_msgs exists) the camera on /tf_static."""

    def __init__(self, node: Any, robot_base: Sequence[float]) -> None:
        self._node = node
        self.urdf = panda_urdf(robot_base)
        self._pub_model = node.create_publisher(String, ROBOT_DESCRIPTION, latched_qos())
        self._pub_tf = None
        if tf_available():
            from tf2_msgs.msg import TFMessage
            self._pub_tf = node.create_publisher(TFMessage, TF_STATIC_TOPIC, latched_qos())
        else:
            node.get_logger().info('tf2_msgs not installed: the camera frame is not published '
                                   'on %s (robot_description is)' % TF_STATIC_TOPIC)
        self._pub_model.publish(String(data=self.urdf))

    def publish_camera(self, world: Any) -> None:
        """Publish the rendered camera's optical frame of a HanoiWorld (no-op without tf2)."""
        if self._pub_tf is None:
            return
        position, rotation = world.camera_pose()
        tf = pose_transform(position, rotation, world.spec.camera.frame_id, WORLD_FRAME)
        self._pub_tf.publish(tf_message([tf], stamp_to_time(world.time)))
