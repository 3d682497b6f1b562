# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""package.xml declares, with a rosdep key, every library the package's code imports."""

import ast
import glob
import os
import sys
import xml.etree.ElementTree as ET

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CODE = ['nsvla_common', 'nsvla_planner', 'nsvla_perception', 'nsvla_control', 'nsvla_energy',
        'nsvla_sim', 'nsvla_eval', 'launch']
# Python module -> rosdep key (ros/rosdistro: the ROS package names, rosdep/python.yaml for the
# python3-* keys, the -pip ones where no system package is mapped).
ROSDEP_KEYS = {
    'rclpy': 'rclpy', 'rcl_interfaces': 'rcl_interfaces', 'builtin_interfaces':
    'builtin_interfaces', 'action_msgs': 'action_msgs', 'rosgraph_msgs': 'rosgraph_msgs',
    'std_msgs': 'std_msgs', 'std_srvs': 'std_srvs', 'sensor_msgs': 'sensor_msgs',
    'trajectory_msgs': 'trajectory_msgs', 'geometry_msgs': 'geometry_msgs',
    'diagnostic_msgs': 'diagnostic_msgs', 'visualization_msgs': 'visualization_msgs',
    'ament_index_python': 'ament_index_python', 'launch': 'launch', 'launch_ros': 'launch_ros',
    'moveit': 'moveit_py', 'moveit_configs_utils': 'moveit_configs_utils',
    'control_msgs': 'control_msgs', 'xacro': 'xacro', 'nsvla_interfaces': 'nsvla_interfaces',
    'tf2_msgs': 'tf2_msgs', 'unique_identifier_msgs': 'unique_identifier_msgs',
    'numpy': 'python3-numpy', 'yaml': 'python3-yaml', 'cv2': 'python3-opencv',
    'psutil': 'python3-psutil', 'tqdm': 'python3-tqdm', 'matplotlib': 'python3-matplotlib',
    'PIL': 'python3-pil', 'pynvml': 'python3-pynvml', 'torch': 'python3-torch',
    'unified_planning': 'python3-unified-planning-pip', 'mujoco': 'python3-mujoco-pip',
    'rosbags': 'python3-rosbags-pip',
}

# Optional libraries: imported only when a parameter asks for them (the code refuses with a
# pip hint when they are missing), so package.xml does not make every user install them.
OPTIONAL = {'toppra': 'executor time_parameterization: toppra (pip install toppra)'}


def _imports():
    """Return {top-level module: first file importing it} over the package's code."""
    found = {}
    for folder in CODE:
        for path in sorted(glob.glob(os.path.join(REPO, folder, '**', '*.py'), recursive=True)):
            with open(path) as f:
                tree = ast.parse(f.read(), path)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split('.')[0], os.path.relpath(path, REPO))
    return found


def test_every_imported_library_is_an_exec_depend_with_a_rosdep_key():
    root = ET.parse(os.path.join(REPO, 'package.xml')).getroot()
    declared = {e.text.strip() for e in root.findall('exec_depend')}
    ours = {os.path.basename(d) for d in CODE} | {'nsvla_common'}
    missing = []
    for module, where in sorted(_imports().items()):
        if (module in sys.stdlib_module_names or module in ours or module == '__future__'
                or module in OPTIONAL):
            continue
        key = ROSDEP_KEYS.get(module)
        if key is None or key not in declared:
            missing.append('%s (imported by %s; rosdep key %s)' % (module, where, key))
    assert not missing, 'package.xml lacks: %s' % '; '.join(missing)


def test_package_xml_says_which_libraries_only_pip_installs():
    with open(os.path.join(REPO, 'package.xml')) as f:
        text = f.read()
    assert 'mujoco, torch, rosbags, nvidia-ml-py have no rosdep' not in text   # it was wrong
    for name in ('up-fast-downward', 'dm-robotics-panda', 'requirements/base.txt'):
        assert name in text, name
