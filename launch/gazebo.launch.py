# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Run the Hanoi scene in Gazebo (gz-sim) with a ros2_control Panda.

``ros2 launch nsvla gazebo.launch.py [blocks:=4 seed:=1 start:=random nsvla:=false]``.
Needs a full ROS 2 install with ros_gz_sim, ros_gz_bridge, gz_ros2_control, the ros2_controllers
(joint_state_broadcaster, joint_trajectory_controller), robot_state_publisher, xacro and
franka_description (or any Panda URDF given as ``robot_description_file``). Starts:

1. ``gz sim`` on the SDF world exported from the scene (``nsvla_sim.gazebo.scene_to_sdf``: same
   table, pegs, ring blocks, light and camera as the embedded MuJoCo world), unless ``world``
   names an SDF file;
2. ``robot_state_publisher`` with the Panda URDF, to which ``add_gz_ros2_control`` adds the
   gz_ros2_control hardware + plugin (``config/gazebo/controllers.yaml``) when it lacks them;
3. ``ros_gz_sim create`` spawning the robot at the scene's base pose;
4. ``ros_gz_bridge`` (``config/gazebo/bridge.yaml``): ``clock``, ``camera/image_raw``,
   ``camera/camera_info``;
5. controller spawners: joint_state_broadcaster, arm_controller, gripper_controller (the topic
   interface the nsvla executor drives: ``*_controller/joint_trajectory``);
6. with ``nsvla:=true``, the nsvla nodes of graph ``gazebo`` (``launch/nsvla.launch.py``).
"""

import os
import tempfile

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

ARGUMENTS = [
    ('scene', 'scene_default.yaml', 'scene specification YAML (config/ file or path)'),
    ('blocks', '3', 'number of blocks in the exported world'),
    ('seed', '0', 'seed of the start configuration and randomisation'),
    ('start', 'tower', 'start configuration: tower, tower:K, random or JSON stacks'),
    ('randomise', 'false', 'apply the scene\'s seeded domain randomisation'),
    ('world', '', 'SDF world file to run instead of exporting the scene'),
    ('robot_description_file', '', 'Panda URDF file; empty = xacro of franka_description'),
    ('franka_xacro', 'robots/panda/panda.urdf.xacro',
     'xacro file inside franka_description used when robot_description_file is empty'),
    ('franka_xacro_args', 'hand:=true', 'space-separated name:=value mappings for that xacro'),
    ('gz_args', '-r', 'extra `gz sim` arguments (-r: run at once; add -s for no GUI)'),
    ('camera_rate', '10.0', 'Hz of the camera sensor'),
    ('nsvla', 'true', 'also start the nsvla nodes of graph gazebo'),
    ('perception', 'classic', 'perception backend of the nsvla nodes'),
    ('motion', 'builtin', 'motion backend of the executor: builtin or moveit'),
    ('log_level', 'info', 'log level of the nsvla nodes'),
]


def _robot_description(arg) -> str:
    path = arg('robot_description_file')
    if path:
        with open(path) as f:
            return f.read()
    import xacro
    from ament_index_python.packages import get_package_share_directory
    xacro_file = os.path.join(get_package_share_directory('franka_description'),
                              arg('franka_xacro'))
    mappings = dict(item.split(':=', 1) for item in arg('franka_xacro_args').split() if item)
    return xacro.process_file(xacro_file, mappings=mappings).toxml()


def setup(context):
    """Export the world, prepare the URDF and return the actions (runs once args are known)."""
    from nsvla_common.paths import config_path, share_dir
    from nsvla_sim.gazebo import add_gz_ros2_control, scene_to_sdf
    from nsvla_sim.scene import load_scene, start_spec_from_text

    def arg(name):
        return LaunchConfiguration(name).perform(context)

    spec = load_scene(arg('scene'))
    world = arg('world')
    if not world:
        text = scene_to_sdf(spec, int(arg('blocks')), int(arg('seed')),
                            start_spec_from_text(arg('start')),
                            arg('randomise').lower() == 'true', float(arg('camera_rate')))
        handle, world = tempfile.mkstemp(prefix='nsvla_hanoi_', suffix='.sdf')
        with os.fdopen(handle, 'w') as f:
            f.write(text)
    controllers = os.path.abspath(config_path('gazebo/controllers.yaml'))
    bridge = os.path.abspath(config_path('gazebo/bridge.yaml'))
    urdf = add_gz_ros2_control(_robot_description(arg), controllers, initial=spec.home,
                               gripper_initial=spec.gripper_home)
    from ament_index_python.packages import get_package_share_directory
    gz_launch = os.path.join(get_package_share_directory('ros_gz_sim'), 'launch',
                             'gz_sim.launch.py')
    bx, by, bz = spec.robot_base
    actions = [
        IncludeLaunchDescription(PythonLaunchDescriptionSource(gz_launch),
                                 launch_arguments={'gz_args': '%s %s' % (arg('gz_args'), world)
                                                   }.items()),
        Node(package='robot_state_publisher', executable='robot_state_publisher',
             parameters=[{'robot_description': urdf, 'use_sim_time': True}], output='screen'),
        Node(package='ros_gz_sim', executable='create', output='screen',
             arguments=['-topic', 'robot_description', '-name', 'panda',
                        '-x', str(bx), '-y', str(by), '-z', str(bz)]),
        Node(package='ros_gz_bridge', executable='parameter_bridge', output='screen',
             parameters=[{'config_file': bridge, 'use_sim_time': True}]),
        Node(package='controller_manager', executable='spawner', output='screen',
             arguments=['joint_state_broadcaster', 'arm_controller', 'gripper_controller',
                        '--controller-manager', '/controller_manager']),
    ]
    if arg('nsvla').lower() == 'true':
        main = os.path.join(share_dir(), 'launch', 'nsvla.launch.py')
        actions.append(IncludeLaunchDescription(
            PythonLaunchDescriptionSource(main),
            launch_arguments={'graph': 'gazebo', 'perception': arg('perception'),
                              'motion': arg('motion'), 'log_level': arg('log_level'),
                              'use_sim_time': 'true'}.items()))
    return actions


def generate_launch_description():
    """Declare the arguments, then build the actions once they are known."""
    declared = [DeclareLaunchArgument(name, default_value=default, description=text)
                for name, default, text in ARGUMENTS]
    return LaunchDescription(declared + [OpaqueFunction(function=setup)])
