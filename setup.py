# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""ament_python set-up of the nsvla package suite."""

from glob import glob
import os

from setuptools import find_packages, setup

PACKAGE = 'nsvla'
VERSION = '0.1.0'  # keep equal to package.xml


def _tree(folder):
    """Return data_files entries installing ``folder`` under share/nsvla, keeping sub-folders."""
    entries = []
    for root, _dirs, files in os.walk(folder):
        paths = [os.path.join(root, f) for f in files if not f.endswith('.pyc')]
        if paths:
            entries.append((os.path.join('share', PACKAGE, root), paths))
    return entries


setup(
    name=PACKAGE,
    version=VERSION,
    packages=find_packages(exclude=['test', 'test.*', 'bench', 'bench.*']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + PACKAGE]),
        ('share/' + PACKAGE, ['package.xml']),
        ('share/' + PACKAGE + '/launch', glob('launch/*.py')),
    ] + _tree('config') + _tree('models'),
    install_requires=['setuptools'],
    extras_require={'test': ['pytest', 'flake8', 'pydocstyle']},
    zip_safe=True,
    maintainer='nsvla maintainers',
    maintainer_email='nsvla@example.com',
    description='Neuro-symbolic vision-language-action manipulation for ROS 2.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'nsvla = nsvla_common.cli:main',
            'planner_node = nsvla_planner.planner_node:main',
            'sim_node = nsvla_sim.sim_node:main',
            'perception_node = nsvla_perception.perception_node:main',
            'executor_node = nsvla_control.executor_node:main',
            'power_monitor_node = nsvla_energy.power_monitor_node:main',
        ],
    },
)
