# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""launch/nsvla.launch.py adds the TF publishers where installed and notes the missing ones."""

import os

import pytest

from nsvla_eval import graph as graph_mod

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytest.importorskip('dm_robotics', reason='the Panda model (dm-robotics-panda) is not installed')


def test_tf_publishers_start_where_installed_and_are_a_note_otherwise(monkeypatch, launch_file):
    module, defaults = launch_file
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
