# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Start an nsvla node graph with ``ros2 launch nsvla nsvla.launch.py graph:=embedded``.

The node list comes from :func:`nsvla_eval.graph.graph`, the same description ``nsvla launch``
uses on machines without launch_ros, so both start the same nodes. Where they are installed,
robot_state_publisher (graph embedded) and a static transform of the rig file's camera (real,
gazebo, replay) are added (:func:`nsvla_eval.graph.tf_nodes`); a missing one is a logged note.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

ARGUMENTS = [
    ('graph', 'embedded', 'node graph: embedded, real, gazebo, replay or planner'),
    ('namespace', '', 'namespace for every nsvla node'),
    ('use_sim_time', 'auto', 'true/True/1, false/False/0 or auto (true for embedded and gazebo)'),
    ('params_file', '', 'stack-wide parameters YAML (default: share/nsvla/config/'
     'nsvla_params.yaml)'),
    ('log_level', 'info', 'log level of every node'),
    ('perception', 'classic', 'perception backend: ground_truth, classic or learned'),
    ('motion', 'builtin', 'motion backend of the executor: builtin or moveit'),
]


def nodes_for(context):
    """Turn the graph description into launch_ros Node actions."""
    from nsvla_eval.graph import graph, params_file, parse_use_sim_time

    def arg(name):
        return LaunchConfiguration(name).perform(context)

    sim_time = parse_use_sim_time(arg('use_sim_time'))
    params = params_file(arg('params_file') or None)
    actions = []
    for spec in graph(arg('graph'), sim_time, arg('perception'), arg('motion')):
        actions.append(Node(
            package='nsvla', executable=spec.executable, name=spec.name,
            namespace=arg('namespace'), parameters=[params, spec.parameters],
            remappings=sorted(spec.remappings.items()),
            arguments=['--ros-args', '--log-level', arg('log_level')], output='screen'))
    return actions


def tf_nodes_for(context):
    """Add robot_state_publisher / the camera's static transform where they are installed."""
    from launch.actions import LogInfo
    from nsvla_eval.graph import installed_tf_nodes, params_file, parse_use_sim_time, scene_of

    def arg(name):
        return LaunchConfiguration(name).perform(context)

    sim_time = parse_use_sim_time(arg('use_sim_time'))
    params = params_file(arg('params_file') or None)
    tf_specs, notes = installed_tf_nodes(arg('graph'), scene_of(params), sim_time)
    actions = []
    for spec in tf_specs:
        actions.append(Node(
            package=spec.package, executable=spec.executable, name=spec.name,
            namespace=arg('namespace'), parameters=[spec.parameters],
            arguments=spec.arguments + ['--ros-args', '--log-level', arg('log_level')],
            output='screen'))
    actions += [LogInfo(msg='[nsvla] %s' % note) for note in notes]
    return actions


def generate_launch_description():
    """Declare the arguments, then build the node list once they are known."""
    declared = [DeclareLaunchArgument(name, default_value=default, description=text)
                for name, default, text in ARGUMENTS]
    return LaunchDescription(declared + [OpaqueFunction(function=nodes_for),
                                         OpaqueFunction(function=tf_nodes_for)])
