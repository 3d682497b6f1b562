# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Subscriptions read when the node needs them, not each time a message comes (rclpy)."""

from typing import Any, List

from rclpy.callback_groups import CallbackGroup
from rclpy.exceptions import InvalidHandle


class Gate(CallbackGroup):
    """
    A callback group the executor waits for and runs only while it is open.

    While it is closed its subscriptions are not in the wait set: their messages wake nothing
    and wait in the middleware's queue (the newest ones, up to the QoS depth), where taking a
    camera frame costs what it always costs but not taking it costs nearly nothing. rclpy's
    executors build the wait set anew each time they wait, so opening it from a callback (a
    timer, a request) counts from the next wait on.
    """

    def __init__(self) -> None:
        super().__init__()
        self.is_open = True

    def can_execute(self, entity: Any) -> bool:
        """Return whether the gate is open."""
        return self.is_open

    def beginning_execution(self, entity: Any) -> bool:
        """Return whether the gate is open (a callback found ready just before it closed waits)."""
        return self.is_open

    def ending_execution(self, entity: Any) -> None:
        """Do nothing."""


class OnDemand(Gate):
    """
    A callback group the executor never runs: its messages are taken when they are needed.

    A :class:`Gate` that stays closed: a subscription in it is not in the executor's wait set,
    so its messages wake nothing; they wait in the middleware's queue (its QoS depth: the
    newest ones) until :func:`take_queued`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.is_open = False


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
