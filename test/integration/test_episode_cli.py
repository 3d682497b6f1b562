# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""execute_task (nsvla run-episode, nsvla demo) when DDS loses the answer to the goal."""

import pytest

from conftest import requires_rclpy

pytestmark = [pytest.mark.integration, requires_rclpy]


class _DropGoalResponses:
    """The action server's handle with every goal response lost on the way, as DDS can."""

    def __init__(self, handle):
        self._real = handle
        self.dropped = 0

    def send_goal_response(self, *args):
        self.dropped += 1

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __enter__(self):
        return self._real.__enter__()

    def __exit__(self, *exc):
        return self._real.__exit__(*exc)


def _server(ros_node, lose_response):
    from rclpy.action import ActionServer

    from nsvla_interfaces.action import ExecuteTask
    from nsvla_interfaces.msg import EpisodeEvent
    ran = []

    def execute(handle):
        ran.append(handle.request.instruction)
        handle.publish_feedback(ExecuteTask.Feedback(event=EpisodeEvent(
            episode_id='ep-test', event='step_end', step=0, result='ok')))
        handle.succeed()
        return ExecuteTask.Result(success=True, reason='goal reached', episode_id='ep-test',
                                  moves=1, optimal_moves=1)
    server = ActionServer(ros_node, ExecuteTask, 'execute_task', execute)
    if lose_response:
        server._handle = _DropGoalResponses(server._handle)
    return server, ran


@pytest.mark.parametrize('lose_response', [False, True])
def test_a_goal_whose_answer_is_lost_is_followed_to_its_result(ros_node, lose_response):
    from nsvla_control.episode_cli import GOAL_RESPONSE_S, execute_task
    server, ran = _server(ros_node, lose_response)
    try:
        out = execute_task(ros_node, ros_node.executor, 'move the tower to the right peg',
                           timeout=GOAL_RESPONSE_S + 20.0)
    finally:
        server.destroy()
    assert ran == ['move the tower to the right peg']    # one goal, sent once
    assert out['result'] == 'solved', out
    assert out['moves'] == 1 and out['episode_id'] == 'ep-test'
    if lose_response:
        assert server._handle.dropped == 1


def test_a_goal_nobody_takes_still_times_out(ros_node):
    from nsvla_common.errors import PlanningError
    from nsvla_control.episode_cli import execute_task
    # a server that never calls execute: the goal is refused by its goal callback, and its
    # answer lost, so nothing says the goal was taken
    from rclpy.action import ActionServer, GoalResponse

    from nsvla_interfaces.action import ExecuteTask
    server = ActionServer(ros_node, ExecuteTask, 'execute_task', lambda h: None,
                          goal_callback=lambda g: GoalResponse.REJECT)
    server._handle = _DropGoalResponses(server._handle)
    try:
        with pytest.raises(PlanningError, match='did not take the goal'):
            execute_task(ros_node, ros_node.executor, 'move the tower', timeout=8.0)
    finally:
        server.destroy()
