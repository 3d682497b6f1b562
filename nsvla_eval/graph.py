# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The node graphs of nsvla, described once.

Both ``launch/*.launch.py`` (full ROS 2 installs, ``ros2 launch``) and the project's own
launcher (``nsvla launch NAME``, wheel-only machines) read :func:`graph`, so the two start the
same nodes with the same parameters file, remappings and arguments.

Uses:

- ``embedded``: the MuJoCo world (sim node) + perception + planner + executor + power monitor.
- ``real``: a real Panda under ros2_control and a real camera publish ``joint_states`` and
  ``camera/image_raw``; nsvla adds perception + planner + executor + power monitor.
- ``gazebo``: like ``real``, with Gazebo (``launch/gazebo.launch.py``) providing arm and camera.
- ``replay``: a recorded bag provides the camera; perception + planner + power monitor.
- ``planner``: the planner node alone.
"""

import json
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from nsvla_common.errors import ConfigError
from nsvla_common.paths import DEFAULT_PARAMS, params_path  # noqa: F401 - re-exported

PERCEPTION_BACKENDS = ('ground_truth', 'classic', 'learned')
MOTION_BACKENDS = ('builtin', 'moveit')


@dataclass
class NodeSpec:
    """One node of a graph: how to start it and what to give it."""

    name: str
    module: str          # ``python -m <module>`` on wheel-only machines
    executable: str      # console script for ``ros2 run`` / launch_ros
    parameters: Dict[str, object] = field(default_factory=dict)
    remappings: Dict[str, str] = field(default_factory=dict)
    required: bool = True

    def ros_args(self, params_file: Optional[str], namespace: str = '',
                 log_level: str = 'info') -> List[str]:
        """Command-line ``--ros-args`` for this node (the same the launch files produce)."""
        args = ['--ros-args', '-r', '__node:=%s' % self.name]
        if namespace:
            ns = namespace if namespace.startswith('/') else '/' + namespace
            args += ['-r', '__ns:=%s' % ns]
        if params_file:
            args += ['--params-file', params_file]
        for key, value in sorted(self.parameters.items()):
            args += ['-p', '%s:=%s' % (key, _param_text(value))]
        for src, dst in sorted(self.remappings.items()):
            args += ['-r', '%s:=%s' % (src, dst)]
        args += ['--log-level', log_level]
        return args


def _param_text(value: object) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, str):
        # a YAML double-quoted string: '5' stays a string, '' is not a parse error
        return json.dumps(value)
    return str(value)


GRAPHS = ('embedded', 'real', 'gazebo', 'replay', 'planner')
# use_sim_time as launch arguments write it (the words ROS 2 launch reads as booleans); auto =
# the graph's default (true for embedded and gazebo)
SIM_TIME_WORDS = {'true': True, '1': True, 'false': False, '0': False, 'auto': None, '': None}


def parse_use_sim_time(text: object) -> Optional[bool]:
    """Read use_sim_time: true/True/1, false/False/0 or auto (None); ConfigError otherwise."""
    if text is None or isinstance(text, bool):
        return text
    key = str(text).strip().lower()
    if key not in SIM_TIME_WORDS:
        raise ConfigError('use_sim_time must be true, false (True/False, 1/0) or auto, got %r'
                          % (text,))
    return SIM_TIME_WORDS[key]


def graph(name: str, use_sim_time: Optional[bool] = None, perception: str = 'classic',
          motion: str = 'builtin') -> List[NodeSpec]:
    """Return the node list of graph ``name``; raise ConfigError on an unknown choice."""
    if name not in GRAPHS:
        raise ConfigError('unknown graph %r (choose from %s)' % (name, ', '.join(GRAPHS)))
    if perception not in PERCEPTION_BACKENDS:
        raise ConfigError('unknown perception backend %r (choose from %s)'
                          % (perception, ', '.join(PERCEPTION_BACKENDS)))
    if motion not in MOTION_BACKENDS:
        raise ConfigError('unknown motion backend %r (choose from %s)'
                          % (motion, ', '.join(MOTION_BACKENDS)))
    if use_sim_time is None:
        use_sim_time = name in ('embedded', 'gazebo')
    common = {'use_sim_time': use_sim_time}
    # Only the sim keeps ROS time (it makes /clock). The planner, perception, the executor and
    # the monitor take no /clock: their times are the stamps of what they receive (images,
    # joint_states) or the wall clock (energy), and /clock callbacks, 100 Hz from the sim, would
    # only cost CPU (an idle executor spent 19 % of a core on them, the monitor 4 %).
    planner = NodeSpec('planner', 'nsvla_planner.planner_node', 'planner_node', {})
    if name == 'planner':
        return [planner]
    monitor = NodeSpec('power_monitor', 'nsvla_energy.power_monitor_node', 'power_monitor_node',
                       {})
    nodes: List[NodeSpec] = []
    if name == 'embedded':
        nodes.append(NodeSpec('sim', 'nsvla_sim.sim_node', 'sim_node', dict(common)))
    if perception != 'ground_truth':
        nodes.append(NodeSpec('perception', 'nsvla_perception.perception_node',
                              'perception_node', {'backend': perception}))
    nodes.append(planner)
    if name != 'replay':
        executor = NodeSpec('executor', 'nsvla_control.executor_node', 'executor_node',
                            {'motion_backend': motion})
        nodes.append(executor)
    nodes.append(monitor)
    if perception == 'ground_truth':
        if name != 'embedded':
            raise ConfigError('perception ground_truth needs the embedded simulation')
        # the simulator's ground truth stands in for perception on the same topic
        for node in nodes:
            if node.name in ('planner', 'executor'):
                node.remappings['symbolic_state'] = 'sim/ground_truth'
    return nodes


def params_file(path: Optional[str] = None) -> str:
    """Absolute path of the stack-wide parameters YAML (one key per node)."""
    return params_path(path)
