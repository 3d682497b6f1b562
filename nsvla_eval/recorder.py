# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Record topics into a rosbag2 (mcap or sqlite3) without the ``ros2 bag`` CLI.

Subscriptions are raw (the CDR bytes as they arrive), written with the ``rosbags`` package, so
the bag is the same a ``ros2 bag record`` would write and readable anywhere. High-rate topics
can be thinned (``every``: keep one message in N) to keep bags small.
"""

import os
import threading
from typing import Any, Dict, Optional, Sequence, Tuple

from nsvla_common.errors import ConfigError

# topic -> (ROS type string, python type import path)
TOPIC_TYPES: Dict[str, Tuple[str, str]] = {
    'camera/image_raw': ('sensor_msgs/msg/Image', 'sensor_msgs.msg.Image'),
    'camera/camera_info': ('sensor_msgs/msg/CameraInfo', 'sensor_msgs.msg.CameraInfo'),
    'joint_states': ('sensor_msgs/msg/JointState', 'sensor_msgs.msg.JointState'),
    'symbolic_state': ('std_msgs/msg/String', 'std_msgs.msg.String'),
    'sim/ground_truth': ('std_msgs/msg/String', 'std_msgs.msg.String'),
    'goal': ('std_msgs/msg/String', 'std_msgs.msg.String'),
    'plan': ('std_msgs/msg/String', 'std_msgs.msg.String'),
    'execution_status': ('std_msgs/msg/String', 'std_msgs.msg.String'),
    'power': ('std_msgs/msg/String', 'std_msgs.msg.String'),
    'energy': ('std_msgs/msg/String', 'std_msgs.msg.String'),
    'energy/episode': ('std_msgs/msg/String', 'std_msgs.msg.String'),
    'arm_controller/joint_trajectory': ('trajectory_msgs/msg/JointTrajectory',
                                        'trajectory_msgs.msg.JointTrajectory'),
    'gripper_controller/joint_trajectory': ('trajectory_msgs/msg/JointTrajectory',
                                            'trajectory_msgs.msg.JointTrajectory'),
}
DEFAULT_TOPICS = tuple(TOPIC_TYPES)


def _import(path: str) -> Any:
    module, name = path.rsplit('.', 1)
    return getattr(__import__(module, fromlist=[name]), name)


class BagRecorder:
    """Record ``topics`` of ``node`` into ``path`` until :meth:`close`."""

    def __init__(self, node: Any, path: str, topics: Sequence[str] = DEFAULT_TOPICS,
                 storage: str = 'mcap', every: Optional[Dict[str, int]] = None) -> None:
        from rosbags.rosbag2 import StoragePlugin, Writer
        from rosbags.typesys import get_typestore, Stores
        plugins = {'mcap': StoragePlugin.MCAP, 'sqlite3': StoragePlugin.SQLITE3}
        if storage not in plugins:
            raise ConfigError('bag storage must be mcap or sqlite3, got %r' % storage)
        self.path = path
        if os.path.exists(path):
            raise ConfigError('bag %s exists already: choose another path' % path)
        self._writer = Writer(path, version=9, storage_plugin=plugins[storage])
        self._writer.open()
        self._lock = threading.Lock()
        self._open = True
        self.counts: Dict[str, int] = {}
        self._seen: Dict[str, int] = {}
        self._every = dict(every or {})
        typestore = get_typestore(Stores.ROS2_KILTED)
        self._conns = {}
        for topic in topics:
            if topic not in TOPIC_TYPES:
                raise ConfigError('no message type known for topic %r' % topic)
            ros_type, py_type = TOPIC_TYPES[topic]
            name = node.resolve_topic_name(topic)
            self._conns[topic] = self._writer.add_connection(name, ros_type, typestore=typestore)
            node.create_subscription(_import(py_type), topic,
                                     lambda data, t=topic: self._write(t, data), 50, raw=True)

    def _write(self, topic: str, data: bytes) -> None:
        import time
        n = self._seen.get(topic, 0)
        self._seen[topic] = n + 1
        if n % self._every.get(topic, 1):
            return
        with self._lock:
            if not self._open:
                return
            self._writer.write(self._conns[topic], time.time_ns(), data)
            self.counts[topic] = self.counts.get(topic, 0) + 1

    def close(self) -> Dict[str, int]:
        """Finish the bag; return messages written per topic."""
        with self._lock:
            if self._open:
                self._open = False
                self._writer.close()
        return dict(self.counts)
