# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The planner node as its own process over loopback DDS."""

import json

import pytest

from nsvla_planner import domain
from nsvla_planner.state import Goal, SymbolicState

pytestmark = pytest.mark.integration


def _setup(ros_node, node_process, *params):
    from std_msgs.msg import String
    from std_srvs.srv import Trigger
    args = []
    for p in params:
        args += ['-p', p]
    proc = node_process('nsvla_planner.planner_node', args)
    plans = []
    ros_node.create_subscription(String, 'plan', lambda m: plans.append(json.loads(m.data)), 10)
    state_pub = ros_node.create_publisher(String, 'symbolic_state', 10)
    goal_pub = ros_node.create_publisher(String, 'goal', 10)
    client = ros_node.create_client(Trigger, 'planner/plan')
    assert ros_node.spin_until(lambda: client.service_is_ready()
                               and state_pub.get_subscription_count() > 0
                               and goal_pub.get_subscription_count() > 0, 20.0), proc.log()
    return proc, plans, state_pub, goal_pub, client


def _call(ros_node, client):
    from std_srvs.srv import Trigger
    future = client.call_async(Trigger.Request())
    assert ros_node.spin_until(future.done, 60.0)
    return future.result()


def test_state_and_instruction_give_a_valid_plan(ros_node, node_process):
    from std_msgs.msg import String
    proc, plans, state_pub, goal_pub, client = _setup(ros_node, node_process,
                                                      'plan_on_goal:=true')
    start = SymbolicState.from_stacks({'p1': ['b3', 'b1'], 'p2': ['b2']}, 3, 3)
    state_pub.publish(String(data=start.to_json()))
    ros_node.spin_until(lambda: False, 0.5)
    goal_pub.publish(String(data='stack everything on peg 3'))
    assert ros_node.spin_until(lambda: plans, 60.0), proc.log()
    published = plans[-1]
    assert published['schema'] == 'nsvla/plan/1' and published['status'] == 'solved'
    response = _call(ros_node, client)
    assert response.success, response.message
    data = json.loads(response.message)
    final = domain.replay(start, data['plan'])
    assert Goal.tower(3, 3).satisfied_by(final)
    assert data['moves'] == len(domain.bfs_plan(start, Goal.tower(3, 3)))
    assert proc.alive()


def test_bad_input_is_answered_and_the_node_survives(ros_node, node_process):
    from std_msgs.msg import String
    proc, plans, state_pub, goal_pub, client = _setup(ros_node, node_process,
                                                      'plan_on_goal:=false')
    response = _call(ros_node, client)
    assert not response.success and 'no symbolic_state received yet' in response.message
    state_pub.publish(String(data='{this is not json'))
    state_pub.publish(String(data=json.dumps({
        'schema': 'nsvla/symbolic_state/1', 'stamp': 0, 'num_blocks': 2, 'num_pegs': 3,
        'facts': [{'predicate': 'on', 'args': ['b2', 'b1']},
                  {'predicate': 'on', 'args': ['b1', 'p1']}]})))
    ros_node.spin_until(lambda: False, 0.5)
    response = _call(ros_node, client)
    assert not response.success and 'no symbolic_state' in response.message
    state_pub.publish(String(data=SymbolicState.tower(3).to_json()))
    goal_pub.publish(String(data='move the tower to the moon'))
    ros_node.spin_until(lambda: False, 0.5)
    response = _call(ros_node, client)
    assert not response.success
    assert json.loads(response.message)['status'] == 'unknown_instruction'
    goal_pub.publish(String(data=Goal.tower(3, 2).to_json()))
    ros_node.spin_until(lambda: False, 0.5)
    response = _call(ros_node, client)
    assert response.success and json.loads(response.message)['moves'] == 7
    assert proc.alive()
    assert 'dropped symbolic_state' in proc.log()
