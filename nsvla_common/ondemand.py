# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Subscriptions read when the node needs them, not each time a message comes (rclpy)."""

from typing import Any, List

from rclpy.callback_groups import CallbackGroup
from rclpy.exceptions import InvalidHandle


class OnDemand(CallbackGroup):
    """
    A callback group the executor never runs: its messages are taken when they are needed.

    A subscription in it is not in the executor's wait set, so its messages wake nothing; they
    wait in the middleware's queue (its QoS depth: the newest ones) until :func:`take_queued`.
    """

    def can_execute(self, entity: Any) -> bool:
        """Return False: the executor neither waits for nor runs these entities."""
        return False

    def beginning_execution(self, entity: Any) -> bool:
        """Return False (never executed)."""
        return False

    def ending_execution(self, entity: Any) -> None:
        """Do nothing (never executed)."""


def take_queued(subscription: Any, limit: int) -> List[Any]:
    """Take the messages queued on ``subscription`` (oldest first, at most ``limit``)."""
    out: List[Any] = []
    for _ in range(max(0, int(limit))):
        try:
            with subscription.handle:
                taken = subscription.handle.take_message(subscription.msg_type,
                                                         subscription.raw)
        except InvalidHandle:     # the node is going away
            break
        if taken is None:
            break
        out.append(taken[0])
    return out
