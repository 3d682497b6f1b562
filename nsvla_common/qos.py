# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
QoS of nsvla's own topics that say a node is alive.

A node killed hard (SIGKILL, a segfault) leaves the ROS graph only when DDS discovery gives up
on it, about 20 s later with Fast DDS's defaults. The executor's ``execution_status`` and the
planner's ``plan`` publishers therefore offer AUTOMATIC liveliness with a short lease
(:data:`ALIVE_LEASE_S`): a client that subscribes with :func:`watch_qos` (lease
:data:`WATCH_LEASE_S`) is told within that lease when the publishing process is gone.
Subscribers with default QoS (infinite lease) stay compatible.
"""

from typing import Any

ALIVE_LEASE_S = 0.25
WATCH_LEASE_S = 0.5


def _qos(depth: int, lease_s: float) -> Any:
    from rclpy.duration import Duration
    from rclpy.qos import LivelinessPolicy, QoSProfile
    return QoSProfile(depth=depth, liveliness=LivelinessPolicy.AUTOMATIC,
                      liveliness_lease_duration=Duration(seconds=lease_s))


def alive_qos(depth: int = 100) -> Any:
    """Return the publisher QoS asserting the node's liveliness within ALIVE_LEASE_S."""
    return _qos(depth, ALIVE_LEASE_S)


def watch_qos(depth: int = 100) -> Any:
    """Return the subscriber QoS told within WATCH_LEASE_S when such a publisher is gone."""
    return _qos(depth, WATCH_LEASE_S)
