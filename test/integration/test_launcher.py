# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Graph descriptions, the project's launcher, and the launch files that read the same graphs."""

import importlib.util
import io
import os

import pytest

from nsvla_common.errors import ConfigError
from nsvla_eval.graph import graph, GRAPHS, NodeSpec, params_file
from nsvla_eval.launcher import Launcher, NodeDied

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_graph_descriptions_are_consistent():
    for name in GRAPHS:
        nodes = graph(name)
        names = [n.name for n in nodes]
        assert len(names) == len(set(names)) and 'planner' in names
    embedded = {n.name: n for n in graph('embedded')}
    assert list(embedded) == ['sim', 'perception', 'planner', 'executor', 'power_monitor']
    assert embedded['executor'].parameters['use_sim_time'] is True
    assert 'use_sim_time' not in embedded['planner'].parameters
    assert graph('real')[0].parameters['use_sim_time'] is False
    assert 'sim' not in [n.name for n in graph('real')]
    gt = {n.name: n for n in graph('embedded', perception='ground_truth')}
    assert 'perception' not in gt
    assert gt['planner'].remappings == {'symbolic_state': 'sim/ground_truth'}
    assert 'executor' not in [n.name for n in graph('replay')]


@pytest.mark.parametrize('kwargs, words', [
    ({'name': 'moon'}, "unknown graph 'moon'"),
    ({'name': 'embedded', 'perception': 'telepathy'}, 'unknown perception backend'),
    ({'name': 'embedded', 'motion': 'teleport'}, 'unknown motion backend'),
    ({'name': 'real', 'perception': 'ground_truth'}, 'needs the embedded simulation'),
])
def test_bad_graph_choices_are_refused(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        graph(**kwargs)


def test_ros_args_carry_params_file_namespace_and_remaps():
    spec = graph('embedded', perception='ground_truth')[2]
    args = spec.ros_args('/x/params.yaml', 'lab', 'debug')
    text = ' '.join(args)
    assert args[0] == '--ros-args' and '__node:=executor' in text and '__ns:=/lab' in text
    assert '--params-file /x/params.yaml' in text and 'use_sim_time:=true' in text
    assert 'symbolic_state:=sim/ground_truth' in text and '--log-level debug' in text


def test_params_file_has_a_key_for_the_planner():
    with open(params_file()) as f:
        assert '/**/planner:' in f.read()
    with pytest.raises(ConfigError):
        params_file('/nonexistent/params.yaml')


def test_unavailable_module_is_refused():
    with pytest.raises(ConfigError, match='not available'):
        Launcher([NodeSpec('ghost', 'nsvla_planner.no_such_node', 'ghost_node')])


@pytest.mark.integration
def test_launcher_starts_and_stops_the_planner_graph(ros_node):
    from nsvla_interfaces.srv import GetPlan
    out = io.StringIO()
    launcher = Launcher(graph('planner'), params_file(), output=out)
    launcher.start()
    try:
        client = ros_node.create_client(GetPlan, 'planner/get_plan')
        assert ros_node.spin_until(client.service_is_ready, 20.0), out.getvalue()
        assert launcher.dead() is None
    finally:
        codes = launcher.stop()
    assert codes['planner'] == 0, out.getvalue()
    assert '[planner]' in out.getvalue() and 'planner ready' in out.getvalue()


@pytest.mark.integration
def test_launcher_reports_a_crashed_node():
    out = io.StringIO()
    bad = NodeSpec('planner', 'nsvla_planner.planner_node', 'planner_node',
                   {'engine': 'no-such-engine'})
    launcher = Launcher([bad], params_file(), output=out)
    launcher.start()
    try:
        with pytest.raises(NodeDied) as err:
            launcher.wait(timeout=30.0)
    finally:
        launcher.stop()
    assert 'node planner exited' in str(err.value)
    assert 'no-such-engine' in str(err.value)


def _has_launch_ros():
    return importlib.util.find_spec('launch_ros') is not None


@pytest.mark.skipif(not _has_launch_ros(), reason='launch_ros is not installed here (no PyPI '
                    'wheel); the graph descriptions it reads are tested above')
@pytest.mark.parametrize('graph_name', ['embedded', 'real', 'replay'])
def test_launch_files_start_the_described_nodes(graph_name):
    from launch import LaunchContext
    from launch.actions import OpaqueFunction
    spec = importlib.util.spec_from_file_location(
        'nsvla_launch', os.path.join(REPO, 'launch', 'nsvla.launch.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    context = LaunchContext()
    for entity in description.entities:
        if not isinstance(entity, OpaqueFunction):
            entity.visit(context)
    context.launch_configurations['graph'] = graph_name
    actions = module.nodes_for(context)
    assert [a.node_executable for a in actions] == [n.executable for n in graph(graph_name)]
