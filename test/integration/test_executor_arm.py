# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The executor node's arm: joint_states read on demand, waits in the robot's (stamped) time."""

import threading
import time

import pytest

pytest.importorskip('rclpy')
pytest.importorskip('nsvla_interfaces')

JOINTS = ['panda_joint%d' % i for i in range(1, 8)]
RATE = 2.0          # robot seconds per wall second, as the demo's sim runs


class _Robot:
    """Publish joint_states at 50 Hz, stamped with a clock running RATE times the wall."""

    def __init__(self, node):
        from sensor_msgs.msg import JointState
        self.pub = node.create_publisher(JointState, 'joint_states', 10)
        self.msg_type = JointState
        self.position = 0.0
        self.t0 = time.monotonic()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def now(self):
        return 100.0 + RATE * (time.monotonic() - self.t0)

    def _run(self):
        while not self.stop.wait(0.02):
            t = self.now()
            msg = self.msg_type(name=JOINTS, position=[self.position] * 7)
            msg.header.stamp.sec = int(t)
            msg.header.stamp.nanosec = int((t - int(t)) * 1e9)
            self.pub.publish(msg)


def test_joint_states_are_read_on_demand_and_waits_follow_their_stamps(ros_node):
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from nsvla_control.executor_node import RosArm
    node = rclpy.create_node('arm_under_test', context=ros_node.context)
    arm = RosArm(node, JOINTS, None)
    robot = _Robot(ros_node)
    spinner = SingleThreadedExecutor(context=ros_node.context)
    spinner.add_node(node)
    calls = []
    original = arm._on_joints
    arm._on_joints = lambda msg: (calls.append(msg), original(msg))
    try:
        assert ros_node.spin_until(lambda: robot.pub.get_subscription_count() > 0, 10.0)
        for _ in range(20):           # the node's executor never runs the subscription
            spinner.spin_once(timeout_sec=0.02)
        assert calls == []
        robot.position = 0.25
        time.sleep(0.1)
        assert list(arm.joint_positions()) == pytest.approx([0.25] * 7)
        assert 0 < len(calls) <= 10     # the queue, read once
        arm.wait(0.4)                   # learns the rate (20 ms steps)
        for seconds in (0.6, 1.0):
            t0, w0 = robot.now(), time.monotonic()
            arm.wait(seconds)
            spent, wall = robot.now() - t0, time.monotonic() - w0
            # the arm's clock is the newest joint_states stamp it has taken, which lags the
            # robot's by up to one message period (20 ms) plus delivery: a wait may end that
            # much early by the robot's own clock (CI saw 0.977 s for 1.0 s)
            assert seconds - 0.05 <= spent < seconds + 0.15, spent
            assert wall < seconds / RATE + 0.5, wall     # not the 5x + 10 s wall bound
        assert arm._rate == pytest.approx(RATE, rel=0.1)
        arm.stop.set()                  # shutting down: a wait returns at once
        w0 = time.monotonic()
        arm.wait(5.0)
        assert time.monotonic() - w0 < 0.1
    finally:
        robot.stop.set()
        robot.thread.join(1.0)
        spinner.shutdown()
        node.destroy_node()
