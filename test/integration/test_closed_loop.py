# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The launched graph (sim + planner + executor over DDS) solves towers through execute_task."""

import io

import pytest

from nsvla_control.episode_cli import execute_task
from nsvla_eval.graph import graph, params_file
from nsvla_eval.launcher import Launcher

pytestmark = pytest.mark.integration


def _launch(sim_params):
    nodes = [n for n in graph('embedded', perception='ground_truth')
             if n.name != 'power_monitor']
    for node in nodes:
        if node.name == 'sim':
            node.parameters.update(dict({'real_time_factor': 4.0, 'camera_rate': 0.0,
                                         'num_blocks': 3}, **sim_params))
    out = io.StringIO()
    launcher = Launcher(nodes, params_file(), output=out)
    launcher.start()
    return launcher, out


def _surprises(end):
    """List the steps that did not go as planned, and the replans, for an assertion message."""
    return ['%s %s %s: %s' % (e['event'], e.get('result', ''), e.get('action', ''),
                              e.get('reason', '')) for e in end['events']
            if e['event'] == 'replan' or (e['event'] == 'step_end' and e['result'] != 'ok')]


def _episode(ros_node, launcher, out, instruction):
    try:
        return execute_task(ros_node, ros_node.executor, instruction, 240.0,
                            check=launcher.check)
    except Exception:
        print(out.getvalue()[-4000:])
        raise


def test_three_instructions_on_one_graph_that_stays_up(ros_node):
    launcher, out = _launch({})
    try:
        first = _episode(ros_node, launcher, out, 'move the tower to the middle peg')
        assert first['result'] == 'solved', (first['reason'], out.getvalue()[-3000:])
        assert first['moves'] == 7 and first['replans'] == 0, _surprises(first)
        steps = [e for e in first['events'] if e['event'] == 'step_end']
        assert len(steps) == 7 and all(s['result'] == 'ok' for s in steps)
        illegal = _episode(ros_node, launcher, out, 'put the yellow block on the red block')
        assert illegal['result'] == 'failed' and illegal['moves'] == 0
        assert 'planner' in illegal['reason'], illegal['reason']
        third = _episode(ros_node, launcher, out, 'move the tower to the right peg')
        assert third['result'] == 'solved', (third['reason'], out.getvalue()[-3000:])
        assert third['moves'] == 7, (_surprises(third), out.getvalue()[-3000:])
        assert launcher.dead() is None
    finally:
        launcher.stop()


def test_the_bench_and_the_launched_graph_take_the_same_moves():
    """Same seed, same random start, no faults: the in-process bench and DDS agree move by move."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from nsvla_control.bench_cli import run_one
    seed = 3
    bench = run_one(3, seed, 0.0, 'ground_truth', 'random', 3)
    assert bench.solved, bench.reason
    bench_moves = [s['action']['args'] for s in bench.steps]
    launcher, out = _launch({'seed': seed, 'start': 'random'})
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('nsvla_test_same_moves', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        end = execute_task(node, executor, 'move the tower to the right peg', 240.0,
                           check=launcher.check)
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
        launcher.stop()
    assert end['result'] == 'solved', (end['reason'], out.getvalue()[-3000:])
    graph_moves = [e['action']['args'] for e in end['events'] if e['event'] == 'step_end']
    assert graph_moves == bench_moves
    assert end['moves'] == bench.moves and end['replans'] == bench.replans == 0


def test_a_dropped_block_is_replanned_for_in_physics():
    """The fifth grasp slips (in-process, deterministic): a surprise, a replan, solved."""
    from nsvla_control.sim_robot import make_sim_executor
    from nsvla_planner.state import Goal
    from nsvla_sim.world import HanoiWorld
    world = HanoiWorld(num_blocks=3, drop_grasps=(5,))
    try:
        end = make_sim_executor(world, 'ground_truth').run(Goal.tower(3, 3), 'drop')
    finally:
        world.close()
    assert end.solved, end.reason
    assert any(s['result'] == 'mismatch' for s in end.steps)
    assert end.replans >= 1 and end.moves > 7


def test_the_launched_graph_survives_a_dropped_block(ros_node):
    # over DDS the slip's timing depends on the machine's load: the block may fall where the
    # plan wanted it; either way the episode must end solved, replanning on any surprise
    launcher, out = _launch({'drop_grasps': '5'})
    try:
        end = _episode(ros_node, launcher, out, 'move the tower to the right peg')
    finally:
        launcher.stop()
    replans = [e for e in end['events'] if e['event'] == 'replan']
    mismatches = [s for s in end['events'] if s['event'] == 'step_end'
                  and s['result'] == 'mismatch']
    assert end['replans'] == len(replans) >= (1 if mismatches else 0)
    assert end['result'] == 'solved', (end.get('reason'), out.getvalue()[-3000:])


def test_run_episode_notices_a_dead_executor_within_five_seconds(ros_node):
    import os
    import signal
    import time

    from nsvla_control.episode_cli import GRAPH_NODES, GraphWatch, NodeLeft
    launcher, out = _launch({})
    killed = []

    def kill_on_first_step(event):
        if event['event'] == 'step_start' and not killed:
            os.killpg(launcher.procs['executor'].pid, signal.SIGKILL)
            killed.append(time.monotonic())

    try:
        with pytest.raises(NodeLeft, match='executor') as err:
            # the launcher's own check is not used: only what a separate client can see
            execute_task(ros_node, ros_node.executor, 'move the tower to the right peg', 240.0,
                         kill_on_first_step, check=GraphWatch(ros_node, GRAPH_NODES))
        assert killed
        elapsed = time.monotonic() - killed[0]
        print('executor death noticed after %.2f s: %s' % (elapsed, err.value))
        assert elapsed < 5.0, elapsed
    finally:
        launcher.stop()
