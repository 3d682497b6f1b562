# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""A namespaced embedded graph solves an episode in its namespace; the sim time is on /clock."""

import io

import pytest

from nsvla_control.episode_cli import execute_task
from nsvla_eval.graph import graph, params_file
from nsvla_eval.launcher import Launcher

pytestmark = pytest.mark.integration
NAMESPACE = 'rig'


def test_a_namespaced_embedded_graph_solves_an_episode_on_sim_time(ros_node):
    from rosgraph_msgs.msg import Clock
    nodes = [n for n in graph('embedded', perception='ground_truth')
             if n.name != 'power_monitor']
    for node in nodes:
        if node.name == 'sim':
            node.parameters.update({'real_time_factor': 4.0, 'camera_rate': 0.0,
                                    'num_blocks': 2})
    out = io.StringIO()
    launcher = Launcher(nodes, params_file(), NAMESPACE, output=out)
    clocks = []
    ros_node.create_subscription(Clock, '/clock', clocks.append, 10)
    launcher.start()
    try:
        assert ros_node.spin_until(lambda: clocks, 60.0), out.getvalue()[-3000:]
        try:
            end = execute_task(ros_node, ros_node.executor, 'move the tower to the right peg',
                               180.0, check=launcher.check,
                               action='/%s/execute_task' % NAMESPACE)
        except Exception:
            print(out.getvalue()[-4000:])
            raise
        assert end['result'] == 'solved', (end['reason'], out.getvalue()[-3000:])
        assert end['moves'] == 3
        topics = dict(ros_node.get_topic_names_and_types())
        assert '/rig/joint_states' in topics and '/joint_states' not in topics
        assert '/rig/clock' not in topics and '/clock' in topics
        # the executor waited on sim time: the sim clock ran through the episode
        assert clocks[-1].clock.sec > 0
        assert launcher.dead() is None
    finally:
        launcher.stop()
