# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The executor node's eyes: fresh states only, and a look that ends on a blocked view."""

import threading
import time

import pytest

pytest.importorskip('rclpy')
pytest.importorskip('nsvla_interfaces')


class _Perception:
    """Publish symbolic_state at 20 Hz: remembered repeats, or fresh readings once ``fresh``."""

    def __init__(self, node):
        from nsvla_interfaces.msg import SymbolicState as StateMsg
        from nsvla_planner.messages import state_to_msg
        from nsvla_planner.state import SymbolicState
        self.pub = node.create_publisher(StateMsg, 'symbolic_state', 10)
        tower = SymbolicState.from_stacks({'p1': ['b3', 'b2', 'b1']}, 3, 3, source='classic')
        self.held = state_to_msg(tower, remembered=True)
        self.held.reason = 'held: last confident state (the tip of p3 is not seen above it)'
        self.read = state_to_msg(tower)
        self.fresh = False
        self.sent = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.wait(0.05):
            self.pub.publish(self.read if self.fresh else self.held)
            self.sent += 1


def test_a_look_ends_after_max_repeats_remembered_states_and_takes_only_fresh_ones(ros_node):
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from nsvla_control.executor_node import RosEyes
    node = rclpy.create_node('eyes_under_test', context=ros_node.context)
    eyes = RosEyes(node, None)
    spinner = SingleThreadedExecutor(context=ros_node.context)
    spinner.add_node(node)
    spinning = threading.Thread(target=spinner.spin, daemon=True)
    spinning.start()
    perception = _Perception(ros_node)
    never = (lambda: False)
    try:
        assert ros_node.spin_until(lambda: perception.pub.get_subscription_count() > 0, 10.0)
        t0 = time.monotonic()
        state = eyes.look(10.0, never, max_repeats=5)
        spent = time.monotonic() - t0
        assert not state.known
        assert 'in 5 frames in a row' in state.reason and 'tip of p3' in state.reason
        assert spent < 3.0, spent         # 5 messages at 20 Hz, not the 10 s timeout
        t0 = time.monotonic()
        state = eyes.look(0.8, never)    # no bound on repeats: the whole timeout
        spent = time.monotonic() - t0
        assert not state.known and 'within 0.8 s' in state.reason
        assert 'only repeated' in state.reason
        assert spent >= 0.75, spent
        perception.fresh = True
        state = eyes.look(5.0, never, max_repeats=5)
        assert state.known and state.stacks()['p1'] == ['b3', 'b2', 'b1'], state.reason
    finally:
        perception.stop.set()
        perception.thread.join(1.0)
        spinner.shutdown()
        spinning.join(2.0)
        node.destroy_node()
