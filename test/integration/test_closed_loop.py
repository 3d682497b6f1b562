# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Simulation + planner + executor over DDS solve the tower from an instruction, in physics."""

import io

import pytest

from nsvla_control.episode_cli import follow_episode
from nsvla_eval.graph import graph, params_file
from nsvla_eval.launcher import Launcher

pytestmark = pytest.mark.integration


def _run(ros_node, drop_grasps=''):
    nodes = [n for n in graph('embedded', perception='ground_truth')
             if n.name != 'power_monitor']
    for node in nodes:
        if node.name == 'sim':
            node.parameters.update({'real_time_factor': 4.0, 'camera_rate': 0.0,
                                    'drop_grasps': drop_grasps, 'num_blocks': 3})
    out = io.StringIO()
    launcher = Launcher(nodes, params_file(), output=out)
    launcher.start()
    plans = []
    try:
        end = follow_episode(ros_node, ros_node.executor, 'move the tower to the right peg',
                             240.0, None, plans, check=launcher.check)
    except Exception:
        print(out.getvalue()[-4000:])
        raise
    finally:
        launcher.stop()
    return end, plans, out.getvalue()


def test_three_block_tower_from_an_instruction(ros_node):
    end, plans, log = _run(ros_node)
    assert end['result'] == 'solved', (end.get('reason'), log[-3000:])
    assert end['moves'] == 7 and end['replans'] == 0
    steps = [e for e in end['events'] if e['event'] == 'step_end']
    assert len(steps) == 7 and all(s['result'] == 'ok' for s in steps)
    assert plans[0]['status'] == 'solved' and plans[0]['moves'] == 7


def test_a_dropped_block_is_recovered_by_replanning(ros_node):
    # the fifth grasp slips (b1 on its way onto b2): the block falls, the executor sees a
    # state it did not expect and asks the planner again
    end, plans, log = _run(ros_node, drop_grasps='5')
    assert end['result'] == 'solved', (end.get('reason'), log[-3000:])
    replans = [e for e in end['events'] if e['event'] == 'replan']
    assert len(replans) >= 1 and end['replans'] == len(replans)
    assert any(s['result'] == 'mismatch' for s in end['events'] if s['event'] == 'step_end')
    assert end['moves'] > 7
