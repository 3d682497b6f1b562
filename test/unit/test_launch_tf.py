# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""launch/nsvla.launch.py adds the TF publishers where installed and notes the missing ones."""

import importlib.util
import os
import sys
import types

import pytest

from nsvla_eval import graph as graph_mod

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytest.importorskip('dm_robotics', reason='the Panda model (dm-robotics-panda) is not installed')


def _launch_module(monkeypatch):
    class LaunchConfiguration:
        def __init__(self, name):
            self.name = name

        def perform(self, context):
            return context[self.name]

    modules = {name: types.ModuleType(name) for name in (
        'launch', 'launch.actions', 'launch.substitutions', 'launch_ros', 'launch_ros.actions')}
    modules['launch'].LaunchDescription = list
    modules['launch.actions'].DeclareLaunchArgument = lambda name, **kw: (name, kw)
    modules['launch.actions'].OpaqueFunction = lambda function: function
    modules['launch.actions'].LogInfo = lambda msg: ('log', msg)
    modules['launch.substitutions'].LaunchConfiguration = LaunchConfiguration
    modules['launch_ros.actions'].Node = lambda **kw: kw
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location(
        'nsvla_launch_tf_stand_in', os.path.join(REPO, 'launch', 'nsvla.launch.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    defaults = {entity[0]: entity[1]['default_value']
                for entity in module.generate_launch_description() if isinstance(entity, tuple)}
    return module, defaults


def test_tf_publishers_start_where_installed_and_are_a_note_otherwise(monkeypatch):
    module, defaults = _launch_module(monkeypatch)
    context = dict(defaults, graph='embedded', namespace='rig')
    monkeypatch.setattr(graph_mod, 'package_installed', lambda package: False)
    (note,) = module.tf_nodes_for(context)
    assert note[0] == 'log' and 'robot_state_publisher' in note[1]
    monkeypatch.setattr(graph_mod, 'package_installed', lambda package: True)
    (rsp,) = module.tf_nodes_for(context)
    assert (rsp['package'], rsp['executable'], rsp['namespace']) == \
        ('robot_state_publisher', 'robot_state_publisher', 'rig')
    assert '<robot name="panda">' in rsp['parameters'][0]['robot_description']
    assert rsp['parameters'][0]['use_sim_time'] is True
    (camera,) = module.tf_nodes_for(dict(context, graph='real'))
    assert camera['package'] == 'tf2_ros' and '--child-frame-id' in camera['arguments']
    assert camera['parameters'][0]['use_sim_time'] is False
    assert module.tf_nodes_for(dict(context, graph='planner')) == []
