# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Start the ``replay`` graph with ``ros2 launch nsvla replay.launch.py``."""

import os

from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource


def generate_launch_description():
    """Include nsvla.launch.py with graph:=replay."""
    main = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'nsvla.launch.py')
    return LaunchDescription([IncludeLaunchDescription(
        PythonLaunchDescriptionSource(main), launch_arguments={'graph': 'replay'}.items())])
