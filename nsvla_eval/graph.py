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

:func:`tf_nodes` adds the nodes of other ROS packages that put the robot and the camera into TF
(``robot_state_publisher`` with the Panda URDF of ``nsvla_control.urdf`` in ``embedded``; a
tf2_ros ``static_transform_publisher`` of the rig file's camera where no sim publishes it);
:func:`installed_tf_nodes` keeps those whose package is installed and says which it skipped
(all of them on a wheel-only machine, where ``nsvla launch`` starts only nsvla's own nodes).
"""

import json
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

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


@dataclass
class ExternalNodeSpec:
    """A node of another ROS package that the launch files start where it is installed."""

    package: str
    executable: str
    name: str
    parameters: Dict[str, object] = field(default_factory=dict)
    arguments: List[str] = field(default_factory=list)
    purpose: str = ''    # what is missing without it (the skip note)


def scene_of(params: Optional[str] = None) -> str:
    """Return the scene (rig) file the graph's nodes read: the sim's, else perception's."""
    from nsvla_common.params import load_yaml
    from nsvla_common.rig import DEFAULT_SCENE
    path = params_file(params)
    return str(load_yaml(path, 'sim').get('scene')
               or load_yaml(path, 'perception').get('scene_config') or DEFAULT_SCENE)


def tf_nodes(name: str, scene: str = '', use_sim_time: Optional[bool] = None
             ) -> List[ExternalNodeSpec]:
    """
    Return the TF publishers of graph ``name`` for the rig file ``scene`` (default scene).

    ``embedded``: robot_state_publisher on the sim's ``joint_states`` with the URDF the sim
    also publishes on ``robot_description`` (the sim puts its camera on /tf_static itself, at
    the rendered pose). ``real``, ``gazebo``, ``replay``: a static transform ``world`` -> the
    camera's optical frame from the rig file (the robot's own robot_state_publisher comes with
    its driver or, in Gazebo, from gazebo.launch.py). ``planner``: none.
    """
    if name not in GRAPHS:
        raise ConfigError('unknown graph %r (choose from %s)' % (name, ', '.join(GRAPHS)))
    from nsvla_common.rig import DEFAULT_SCENE, load_scene
    from nsvla_common.tf import optical_frame_transform, static_transform_arguments
    if name == 'planner':
        return []
    if use_sim_time is None:
        use_sim_time = name in ('embedded', 'gazebo')
    spec = load_scene(scene or DEFAULT_SCENE)
    if name == 'embedded':
        from nsvla_control.urdf import panda_urdf
        return [ExternalNodeSpec(
            'robot_state_publisher', 'robot_state_publisher', 'robot_state_publisher',
            {'robot_description': panda_urdf(spec.robot_base), 'use_sim_time': use_sim_time},
            purpose='no TF of the arm')]
    camera = optical_frame_transform(spec.camera)
    return [ExternalNodeSpec(
        'tf2_ros', 'static_transform_publisher', 'camera_static_tf',
        {'use_sim_time': use_sim_time}, static_transform_arguments(camera),
        purpose='no TF of the camera (%s)' % camera.child)]


def package_installed(package: str) -> bool:
    """Tell whether a ROS package is in the ament index (False without ament_index_python)."""
    try:
        from ament_index_python.packages import get_package_prefix, PackageNotFoundError
    except ImportError:
        return False
    try:
        get_package_prefix(package)
    except (PackageNotFoundError, ValueError, OSError):   # OSError: no AMENT_PREFIX_PATH
        return False
    return True


def installed_tf_nodes(name: str, scene: str = '', use_sim_time: Optional[bool] = None
                       ) -> Tuple[List[ExternalNodeSpec], List[str]]:
    """Return the :func:`tf_nodes` whose package is installed, and a note for each skipped."""
    kept: List[ExternalNodeSpec] = []
    notes: List[str] = []
    for node in tf_nodes(name, scene, use_sim_time):
        if package_installed(node.package):
            kept.append(node)
        else:
            notes.append('%s/%s not installed: skipped (%s)'
                         % (node.package, node.executable, node.purpose))
    return kept, notes
