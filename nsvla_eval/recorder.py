# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Record topics into a rosbag2 (mcap or sqlite3) without the ``ros2 bag`` CLI.

Subscriptions are raw (the CDR bytes as they arrive), written with the ``rosbags`` package, so
the bag is the same a ``ros2 bag record`` would write and readable anywhere. High-rate topics
can be thinned (``every``: keep one message in N) to keep bags small.

The ``nsvla_interfaces`` types are registered in the rosbags type store from their ``.msg``
files (:func:`interface_types`), so every connection carries its message definition (mcap
schemas; the sqlite3 ``message_definitions`` table of rosbag2 version 9) and the RIHS01 type
hash rosidl computes: a bag decodes without nsvla installed.
"""

import functools
import glob
import os
import sys
import threading
from typing import Any, Dict, List, Optional, Sequence

from nsvla_common.errors import ConfigError

INTERFACES_PACKAGE = 'nsvla_interfaces'
_SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# topic -> ROS message type; the Python class is the type's module path (pkg.msg.Name)
TOPIC_TYPES: Dict[str, str] = {
    'camera/image_raw': 'sensor_msgs/msg/Image',
    'camera/camera_info': 'sensor_msgs/msg/CameraInfo',
    'joint_states': 'sensor_msgs/msg/JointState',
    'symbolic_state': 'nsvla_interfaces/msg/SymbolicState',
    'sim/ground_truth': 'nsvla_interfaces/msg/SymbolicState',
    'sim/events': 'nsvla_interfaces/msg/SimEvent',
    'plan': 'nsvla_interfaces/msg/Plan',
    'execution_status': 'nsvla_interfaces/msg/EpisodeEvent',
    'power': 'nsvla_interfaces/msg/PowerReading',
    'energy': 'nsvla_interfaces/msg/EnergyReading',
    'energy/episode': 'nsvla_interfaces/msg/EpisodeEnergy',
    'arm_controller/joint_trajectory': 'trajectory_msgs/msg/JointTrajectory',
    'gripper_controller/joint_trajectory': 'trajectory_msgs/msg/JointTrajectory',
}
DEFAULT_TOPICS = tuple(TOPIC_TYPES)


def interface_msg_dirs() -> List[str]:
    """
    Return the folders that may hold the ``nsvla_interfaces`` ``.msg`` files, best first.

    The installed share folder (ament index, else this interpreter's prefix, where ``setup.sh``
    installs the package) holds what rclpy was generated from; the repository's sources last.
    """
    dirs = []
    try:
        from ament_index_python.packages import get_package_share_directory
        dirs.append(os.path.join(get_package_share_directory(INTERFACES_PACKAGE), 'msg'))
    except Exception:  # noqa: BLE001 - no ament index (AMENT_PREFIX_PATH unset, pip install)
        pass
    dirs.append(os.path.join(sys.prefix, 'share', INTERFACES_PACKAGE, 'msg'))
    dirs.append(os.path.join(_SOURCE_ROOT, INTERFACES_PACKAGE, 'msg'))
    return dirs


@functools.lru_cache(maxsize=None)
def _interface_types(folder: str) -> Dict[str, Any]:
    from rosbags.typesys import get_types_from_msg
    types: Dict[str, Any] = {}
    for path in sorted(glob.glob(os.path.join(folder, '*.msg'))):
        name = '%s/msg/%s' % (INTERFACES_PACKAGE, os.path.basename(path)[:-len('.msg')])
        with open(path) as f:
            types.update(get_types_from_msg(f.read(), name))
    return types


def interface_types() -> Dict[str, Any]:
    """Return the rosbags parse trees of the ``nsvla_interfaces`` messages; ConfigError if none."""
    tried = interface_msg_dirs()
    for folder in tried:
        if glob.glob(os.path.join(folder, '*.msg')):
            return dict(_interface_types(folder))
    raise ConfigError('cannot find the %s .msg files (looked in %s)'
                      % (INTERFACES_PACKAGE, ', '.join(tried)))


def typestore() -> Any:
    """Return a rosbags type store of ROS 2 Kilted plus the ``nsvla_interfaces`` messages."""
    from rosbags.typesys import get_typestore, Stores
    store = get_typestore(Stores.ROS2_KILTED)
    store.register(interface_types())
    return store


def python_type(ros_type: str) -> Any:
    """Return the Python message class of ``pkg/msg/Name`` (imports ``pkg.msg``)."""
    package, kind, name = ros_type.split('/')
    module = '%s.%s' % (package, kind)
    try:
        return getattr(__import__(module, fromlist=[name]), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError('cannot import the message type %s (%s); is %s built into this '
                          'environment (setup.sh)?' % (ros_type, exc, package)) from None


class BagRecorder:
    """Record ``topics`` of ``node`` into ``path`` until :meth:`close`."""

    def __init__(self, node: Any, path: str, topics: Sequence[str] = DEFAULT_TOPICS,
                 storage: str = 'mcap', every: Optional[Dict[str, int]] = None) -> None:
        from rosbags.rosbag2 import StoragePlugin, Writer
        plugins = {'mcap': StoragePlugin.MCAP, 'sqlite3': StoragePlugin.SQLITE3}
        if storage not in plugins:
            raise ConfigError('bag storage must be mcap or sqlite3, got %r' % storage)
        unknown = [t for t in topics if t not in TOPIC_TYPES]
        if unknown:
            raise ConfigError('no message type known for topic %s' % ', '.join(map(repr, unknown)))
        self.path = path
        if os.path.exists(path):
            raise ConfigError('bag %s exists already: choose another path' % path)
        store = typestore()
        classes = {t: python_type(TOPIC_TYPES[t]) for t in topics}
        self._writer = Writer(path, version=9, storage_plugin=plugins[storage])
        self._writer.open()
        self._lock = threading.Lock()
        self._open = True
        self.counts: Dict[str, int] = {}
        self._seen: Dict[str, int] = {}
        self._every = dict(every or {})
        self._conns = {}
        for topic in topics:
            name = node.resolve_topic_name(topic)
            self._conns[topic] = self._writer.add_connection(name, TOPIC_TYPES[topic],
                                                             typestore=store)
            node.create_subscription(classes[topic], topic,
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
