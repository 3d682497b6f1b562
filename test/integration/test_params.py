# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""config/nsvla_params.yaml: a key for every node, every value declared, described and in range."""

import pytest
import yaml

from nsvla_common.errors import ConfigError
from nsvla_common.params import load_yaml, Param, resolve
from nsvla_eval.graph import graph, params_file

NODES = {
    'sim': 'nsvla_sim.sim_node:SimNode',
    'perception': 'nsvla_perception.perception_node:PerceptionNode',
    'planner': 'nsvla_planner.planner_node:PlannerNode',
    'executor': 'nsvla_control.executor_node:ExecutorNode',
    'power_monitor': 'nsvla_energy.power_monitor_node:PowerMonitorNode',
}


def test_every_node_of_every_graph_has_a_key():
    with open(params_file()) as f:
        keys = {k.rsplit('/', 1)[-1] for k in yaml.safe_load(f)}
    names = {n.name for g in ('embedded', 'real', 'replay', 'planner') for n in graph(g)}
    assert names <= keys, names - keys
    assert set(NODES) == keys


@pytest.mark.parametrize('name', sorted(NODES))
def test_the_node_declares_every_value_with_a_description(name):
    rclpy = pytest.importorskip('rclpy', reason='rclpy is not importable here')
    module_name, cls_name = NODES[name].split(':')
    module = __import__(module_name, fromlist=[cls_name])
    values = load_yaml(params_file(), name)
    context = rclpy.Context()
    rclpy.init(context=context, args=['--ros-args', '--params-file', params_file(),
                                      '-r', '__node:=%s' % name])
    node = None
    try:
        node = getattr(module, cls_name)(context=context)
        for key, value in values.items():
            assert node.has_parameter(key), '%s: %s is not a parameter' % (name, key)
            got = node.get_parameter(key).value
            assert got == value, '%s.%s: %r != %r' % (name, key, got, value)
        for pname, param in node._parameters.items():
            if pname == 'use_sim_time':
                continue
            desc = node.describe_parameter(pname)
            assert desc.description.strip(), '%s.%s has no description' % (name, pname)
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown(context=context)


def test_an_out_of_range_or_unknown_value_is_a_one_line_refusal():
    from nsvla_control.executor import PARAMETERS
    with pytest.raises(ConfigError, match='grasp_squeeze'):
        resolve(PARAMETERS, {'grasp_squeeze': 0.5})
    with pytest.raises(ConfigError, match='unknown parameter'):
        resolve(PARAMETERS, {'max_replan': 3})
    with pytest.raises(ConfigError, match='choose one of'):
        resolve(PARAMETERS, {'motion_backend': 'teleport'})
    assert resolve((Param('x', 1.0, 'a float', 0.0, 2.0),), {'x': 2})['x'] == 2.0


def test_the_bench_and_the_node_run_the_executor_with_the_same_parameters():
    rclpy = pytest.importorskip('rclpy', reason='rclpy is not importable here')
    from nsvla_control.executor_node import ExecutorNode
    from nsvla_control.sim_robot import make_sim_executor
    from nsvla_sim.world import HanoiWorld
    context = rclpy.Context()
    rclpy.init(context=context, args=['--ros-args', '--params-file', params_file()])
    node = None
    world = HanoiWorld(num_blocks=3)
    try:
        node = ExecutorNode(context=context)
        bench = make_sim_executor(world, 'classic')
        assert type(bench) is type(node.core)
        assert bench.params == node.core.params
        assert bench.eyes.filter.stability_frames == load_yaml(
            params_file(), 'perception')['stability_frames']
    finally:
        world.close()
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown(context=context)
