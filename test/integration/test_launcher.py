# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Graph descriptions, the project's launcher, and the launch files that read the same graphs."""

import importlib.util
import io
import os

import pytest

from nsvla_common.errors import ConfigError
from nsvla_eval.graph import graph, GRAPHS, NodeSpec, params_file, parse_use_sim_time
from nsvla_eval.launcher import Launcher, NodeDied

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_graph_descriptions_are_consistent():
    for name in GRAPHS:
        nodes = graph(name)
        names = [n.name for n in nodes]
        assert len(names) == len(set(names)) and 'planner' in names
    embedded = {n.name: n for n in graph('embedded')}
    assert list(embedded) == ['sim', 'perception', 'planner', 'executor', 'power_monitor']
    assert embedded['sim'].parameters['use_sim_time'] is True
    # only the sim keeps ROS time: the others take no /clock (100 Hz of callbacks)
    for name in ('perception', 'planner', 'executor', 'power_monitor'):
        assert 'use_sim_time' not in embedded[name].parameters, name
    assert not any(n.parameters.get('use_sim_time') for n in graph('real'))
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
    assert '--params-file /x/params.yaml' in text and 'use_sim_time' not in text
    assert 'use_sim_time:=true' in ' '.join(graph('embedded')[0].ros_args(None))   # the sim
    assert 'symbolic_state:=sim/ground_truth' in text and '--log-level debug' in text


def test_params_file_has_a_key_for_the_planner():
    with open(params_file()) as f:
        assert '/**/planner:' in f.read()
    with pytest.raises(ConfigError):
        params_file('/nonexistent/params.yaml')


@pytest.mark.parametrize('text, value', [
    ('true', True), ('True', True), ('1', True), ('false', False), ('False', False), ('0', False),
    ('auto', None), ('', None), (True, True), (None, None)])
def test_use_sim_time_reads_the_words_launch_reads(text, value):
    assert parse_use_sim_time(text) is value


def test_use_sim_time_refuses_other_words_with_the_reason():
    with pytest.raises(ConfigError, match="use_sim_time must be true, false"):
        parse_use_sim_time('yes please')


def test_nsvla_launch_takes_use_sim_time_as_launch_arguments_do():
    import argparse
    from nsvla_eval.launch_cli import add_arguments
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(['embedded', '--use-sim-time', 'True']).use_sim_time is True
    assert parser.parse_args(['embedded', '--use-sim-time', '0']).use_sim_time is False
    assert parser.parse_args(['embedded']).use_sim_time is None
    with pytest.raises(SystemExit):
        parser.parse_args(['embedded', '--use-sim-time', 'maybe'])


@pytest.mark.parametrize('text, value', [('True', True), ('true', True), ('1', True),
                                         ('False', False), ('0', False)])
def test_the_launch_file_takes_use_sim_time_as_users_write_it(launch_file, text, value):
    module, defaults = launch_file
    context = dict(defaults, graph='embedded', namespace='rig', use_sim_time=text)
    nodes = module.nodes_for(context)
    assert [n['name'] for n in nodes] == [n.name for n in graph('embedded')]
    assert all(n['namespace'] == 'rig' for n in nodes)
    for node in nodes:
        if node['name'] == 'sim':
            assert node['parameters'][1]['use_sim_time'] is value, node['name']
        else:
            assert 'use_sim_time' not in node['parameters'][1], node['name']


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
        # the service exists before the action server: stop only a node that is all up
        assert ros_node.spin_until(lambda: 'planner ready' in out.getvalue(), 20.0)
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
