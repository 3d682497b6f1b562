# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The launched graph under bad input and overload: every request answered, no node down."""

import io

import pytest

pytestmark = pytest.mark.integration


def test_bad_input_and_overload_leave_every_node_up():
    pytest.importorskip('rclpy', reason='rclpy is not importable here')
    from action_msgs.msg import GoalStatus

    from nsvla_eval.robustness import run_attacks
    log = io.StringIO()
    report = run_attacks(log=log)
    tail = log.getvalue()[-4000:]
    assert report['bad_plan_requests_answered'] == report['bad_plan_requests'], report
    assert report['bad_plan_requests_refused_with_reason'] == report['bad_plan_requests']
    for key in ('get_plan_concurrent', 'plan_task_concurrent'):
        counts = report[key]
        assert counts['answered'] == counts['sent'] == 30, (key, counts)
        assert counts['solved'] + counts['busy'] == 30 and counts['solved'] >= 1, counts
    goals = report['execute_goals']
    assert goals['running'] == 1, goals
    assert goals['answered_at_once'] == goals['refused_with_reason'] == 49, goals
    assert report['cancelled_status'] == GoalStatus.STATUS_CANCELED, report
    assert report['arm_stopped_after_cancel'], report
    bad = report['bad_trajectories']
    assert bad['rejected'] == bad['sent'] == 4, bad
    assert 'velocity limit' in bad['reasons'][0], bad['reasons']
    assert report['nodes_down'] is None and report['nodes_down_at_end'] is None, tail
    assert report['final_episode']['result'] == 'solved', (report['final_episode'], tail)
    codes = report['exit_codes']
    assert all(code == 0 for code in codes.values()), (codes, log.getvalue()[-8000:])
    assert 'Traceback' not in log.getvalue(), tail
