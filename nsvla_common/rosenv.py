# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Environment that keeps DDS on this machine (before rclpy starts) and MuJoCo headless."""

import os
import sys
import warnings
from types import ModuleType
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
    for key, value in wanted.items():
        if force or not env.get(key):
            env[key] = value
    headless_gl(env, force)
    return env


def headless_gl(env: Optional[MutableMapping[str, str]] = None,
                force: bool = False) -> MutableMapping[str, str]:
    """
    Pick headless OpenGL (EGL) for MuJoCo's renderer when there is no display.

    MuJoCo binds its OpenGL backend when it is first imported (``MUJOCO_GL``), so code that
    renders calls this before it imports MuJoCo (:func:`mujoco_for_rendering`); the ``nsvla``
    command and the launcher set it for the processes they start. A backend the user chose is
    kept unless ``force`` is true.
    """
    env = os.environ if env is None else env
    if not env.get('DISPLAY'):
        for key in ('MUJOCO_GL', 'PYOPENGL_PLATFORM'):
            if force or not env.get(key):
                env[key] = 'egl'
    return env


def mujoco_for_rendering() -> ModuleType:
    """Import MuJoCo for rendering: headless OpenGL first when there is no display."""
    if 'mujoco' not in sys.modules:
        headless_gl()
    elif not os.environ.get('DISPLAY') and not os.environ.get('MUJOCO_GL'):
        warnings.warn('mujoco was imported before MUJOCO_GL was chosen and there is no display: '
                      'rendering may fail; set MUJOCO_GL=egl', RuntimeWarning, stacklevel=2)
    import mujoco
    return mujoco
