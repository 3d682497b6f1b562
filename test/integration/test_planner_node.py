# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The planner node as its own process over loopback DDS: plan_task, ~/get_plan, bad input."""

import time

import pytest

from nsvla_planner import domain
from nsvla_planner.state import Goal, SymbolicState

pytestmark = pytest.mark.integration


def _setup(ros_node, node_process, *params):
    from rclpy.action import ActionClient

    from nsvla_interfaces.action import PlanTask
    from nsvla_interfaces.msg import Plan, SymbolicState as StateMsg
    from nsvla_interfaces.srv import GetPlan
    args = []
    for p in params:
        args += ['-p', p]
    proc = node_process('nsvla_planner.planner_node', args)
    plans = []
    ros_node.create_subscription(Plan, 'plan', plans.append, 50)
    state_pub = ros_node.create_publisher(StateMsg, 'symbolic_state', 10)
    client = ros_node.create_client(GetPlan, 'planner/get_plan')
    action = ActionClient(ros_node, PlanTask, 'plan_task')
    parts = {'~/get_plan': client.service_is_ready, 'plan_task': action.server_is_ready,
             'symbolic_state subscriber': lambda: state_pub.get_subscription_count() > 0}
    # discovery is fast here (under 1 s); the long bound is for a loaded CI machine
    ready = ros_node.spin_until(lambda: all(f() for f in parts.values()), 60.0)
    assert ready, 'not discovered in 60 s: %s; planner log:\n%s' % (
        [k for k, f in parts.items() if not f()], proc.log())
    ros_node.settle()
    return proc, plans, state_pub, client, action


def _get_plan(ros_node, client, instruction='', goal=None, start=None):
    from nsvla_interfaces.srv import GetPlan
    from nsvla_planner import messages
    req = GetPlan.Request(instruction=instruction)
    if goal is not None:
        req.goal = [messages.goal_to_msg(goal)]
    if start is not None:
        req.start = [messages.state_to_msg(start)]
    future = client.call_async(req)
    assert ros_node.spin_until(future.done, 60.0)
    return future.result().plan


def _plan_task(ros_node, action, instruction='', start=None, cancel_after=None):
    from nsvla_interfaces.action import PlanTask
    from nsvla_planner import messages
    req = PlanTask.Goal(instruction=instruction)
    if start is not None:
        req.start = [messages.state_to_msg(start)]
    send = action.send_goal_async(req)
    assert ros_node.spin_until(send.done, 30.0)
    handle = send.result()
    assert handle.accepted
    if cancel_after is not None:
        ros_node.spin_until(lambda: False, cancel_after)
        handle.cancel_goal_async()
    res = handle.get_result_async()
    assert ros_node.spin_until(res.done, 90.0)
    return res.result()


def test_plan_task_and_get_plan_plan_from_the_state(ros_node, node_process):
    from nsvla_planner import messages
    proc, plans, state_pub, client, action = _setup(ros_node, node_process)
    start = SymbolicState.from_stacks({'p1': ['b3', 'b1'], 'p2': ['b2']}, 3, 3)
    for _ in range(3):
        state_pub.publish(messages.state_to_msg(start))
        ros_node.spin_until(lambda: False, 0.2)
    out = _plan_task(ros_node, action, 'stack everything on peg 3')
    plan = out.result.plan
    assert plan.status == 'solved', plan.reason
    steps = messages.steps_from_msgs(plan.steps)
    assert Goal.tower(3, 3).satisfied_by(domain.replay(start, steps))
    assert plan.moves == len(domain.bfs_plan(start, Goal.tower(3, 3)))
    assert messages.planned_state(plan) == start
    assert ros_node.spin_until(lambda: plans, 10.0)     # plan_task results are published
    published = len(plans)
    # get_plan: same answer, from a given start state, and nothing published
    other = SymbolicState.tower(3)
    answer = _get_plan(ros_node, client, 'move the tower to the middle peg', start=other)
    assert answer.status == 'solved' and answer.moves == 7
    ros_node.spin_until(lambda: False, 1.0)
    assert len(plans) == published
    assert proc.alive()


def test_bad_requests_and_messages_are_answered_and_the_node_survives(ros_node, node_process):
    from nsvla_interfaces.msg import Fact, Goal as GoalMsg, SymbolicState as StateMsg
    from nsvla_planner import messages
    proc, plans, state_pub, client, action = _setup(ros_node, node_process)
    # malformed symbolic_state messages: unknown predicate, bad names, impossible counts
    bad = StateMsg(status='known', num_blocks=3, num_pegs=3,
                   facts=[Fact(predicate='on', args=['b9', 'p1'])])
    state_pub.publish(bad)
    state_pub.publish(StateMsg(status='known', num_blocks=0, num_pegs=3))
    state_pub.publish(StateMsg(status='weird', num_blocks=3, num_pegs=3))
    state_pub.publish(StateMsg(status='known', num_blocks=3, num_pegs=3,
                               facts=[Fact(predicate='[on]', args=[], confidence=-1.0)]))
    ros_node.spin_until(lambda: False, 0.5)
    assert proc.alive(), proc.log()
    tower = SymbolicState.tower(3)
    # nothing to plan for, an impossible goal, an unknown word, malformed goal facts
    assert _get_plan(ros_node, client, '', start=tower).status == 'invalid'
    illegal = _get_plan(ros_node, client, 'put the yellow block on the red block', start=tower)
    assert illegal.status != 'solved' and illegal.reason
    word = _get_plan(ros_node, client, 'frobnicate the tower', start=tower)
    assert word.status == 'unknown_instruction', word.reason
    from nsvla_interfaces.srv import GetPlan
    req = GetPlan.Request(goal=[GoalMsg(facts=[Fact(predicate='on', args=['b1'])])],
                          start=[messages.state_to_msg(tower)])
    future = client.call_async(req)
    assert ros_node.spin_until(future.done, 30.0)
    assert future.result().plan.status == 'invalid'
    # a start state that breaks the rules (larger on smaller)
    illegal_start = StateMsg(status='known', num_blocks=2, num_pegs=3, facts=[
        Fact(predicate='on', args=['b2', 'b1'], confidence=1.0),
        Fact(predicate='on', args=['b1', 'p1'], confidence=1.0)])
    req = GetPlan.Request(instruction='move the tower to the right peg', start=[illegal_start])
    future = client.call_async(req)
    assert ros_node.spin_until(future.done, 30.0)
    assert future.result().plan.status in ('illegal_state', 'invalid')
    assert proc.alive(), proc.log()
    # still plans afterwards
    assert _get_plan(ros_node, client, 'move the tower to the right peg',
                     start=tower).status == 'solved'


def test_thirty_concurrent_requests_are_all_answered(ros_node, node_process):
    from nsvla_interfaces.srv import GetPlan
    from nsvla_planner import messages
    from rclpy.qos import QoSProfile
    proc, plans, state_pub, client, action = _setup(ros_node, node_process)
    # a client's own request writer keeps only its QoS depth of unsent requests (10 by
    # default): a client sending 30 at once needs a deeper queue, the server has one
    client = ros_node.create_client(GetPlan, 'planner/get_plan',
                                    qos_profile=QoSProfile(depth=100))
    assert ros_node.spin_until(client.service_is_ready, 10.0)
    ros_node.settle()
    start = messages.state_to_msg(SymbolicState.tower(3))
    futures = [client.call_async(GetPlan.Request(instruction='move the tower to peg %d'
                                                 % (2 + i % 2), start=[start]))
               for i in range(30)]
    assert ros_node.spin_until(lambda: all(f.done() for f in futures), 120.0), \
        '%d of 30 answered' % sum(f.done() for f in futures)
    statuses = [f.result().plan.status for f in futures]
    assert set(statuses) <= {'solved', 'busy'}, statuses
    assert statuses.count('solved') >= 1
    busy = [f.result().plan.reason for f in futures if f.result().plan.status == 'busy']
    assert all(busy), 'a busy answer without a reason'
    assert proc.alive()


def test_cancel_stops_the_engine(ros_node, node_process):
    proc, plans, state_pub, client, action = _setup(ros_node, node_process, 'timeout_s:=120.0')
    t0 = time.monotonic()
    out = _plan_task(ros_node, action, 'move the tower to the right peg',
                     start=SymbolicState.tower(13), cancel_after=1.0)
    assert out.result.plan.status == 'cancelled', out.result.plan.reason
    assert time.monotonic() - t0 < 20.0
    assert proc.alive()
