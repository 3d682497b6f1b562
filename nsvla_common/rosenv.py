# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Environment that keeps DDS on this machine; set before rclpy is imported or a node starts."""

import os
from typing import Dict, MutableMapping, Optional

from nsvla_common.paths import config_path

FASTDDS_PROFILE = 'fastdds_localhost.xml'


def localhost_env(env: Optional[MutableMapping[str, str]] = None,
                  force: bool = False) -> MutableMapping[str, str]:
    """
    Fill ``env`` (default ``os.environ``) with loopback-only DDS settings and headless MuJoCo.

    Values a user already set are kept unless ``force`` is true.
    """
    env = os.environ if env is None else env
    profile = os.path.abspath(config_path(FASTDDS_PROFILE))
    wanted: Dict[str, str] = {
        'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST',
        'RMW_IMPLEMENTATION': 'rmw_fastrtps_cpp',
        'FASTDDS_DEFAULT_PROFILES_FILE': profile,
        'PYTHONUNBUFFERED': '1',
    }
    if not env.get('DISPLAY'):
        wanted['MUJOCO_GL'] = 'egl'
        wanted['PYOPENGL_PLATFORM'] = 'egl'
    for key, value in wanted.items():
        if force or not env.get(key):
            env[key] = value
    return env
