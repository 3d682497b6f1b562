# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""run_node tells rcl's refusal after a shutdown from a node's own errors."""

from nsvla_common.spin import _shutdown_race


class RCLError(RuntimeError):
    """Stands in for rclpy._rclpy_pybind11.RCLError (same name, as rcl raises it)."""


def test_a_publish_into_a_shut_down_context_is_the_shutdown_race():
    exc = RCLError("Failed to publish: publisher's context is invalid, at "
                   "/project/src/rcl/publisher.c:427")
    assert _shutdown_race(exc)


def test_other_errors_are_not():
    assert not _shutdown_race(RCLError('failed to create subscription: topic name invalid'))
    assert not _shutdown_race(RuntimeError("publisher's context is invalid"))
    assert not _shutdown_race(ValueError('bad'))
