# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The embedded MuJoCo world of nsvla: a Franka Panda, K pegs, N ring blocks and an RGB camera.

Modules (only ``sim_node`` imports rclpy):

- ``scene``: load and validate the scene specification (``config/scene_default.yaml``) and draw
  seeded domain randomisation and start layouts from it.
- ``mjcf``: turn a scene and a layout into MJCF (Panda meshes from ``dm-robotics-panda``).
- ``world``: :class:`nsvla_sim.world.HanoiWorld`, the simulation other packages use without ROS.
- ``ground_truth``: the symbolic state (``SymbolicState``) read off body poses.
- ``trajectory``: joint-trajectory validation and following, like ``joint_trajectory_controller``.
- ``kinematics``: damped-least-squares inverse kinematics over ``mj_jacSite``.
- ``pick_place``: the scripted pick-and-place used by ``nsvla sim-check``, tests and the bench.
- ``gazebo``: export of the same scene as an SDF world for Gazebo.
- ``sim_node``: the ROS 2 node; ``cli`` and ``cli_check``: ``nsvla sim-render`` / ``sim-check``.

Importing the package picks headless rendering (``MUJOCO_GL=egl``) when no display is set and the
user chose nothing: MuJoCo reads it when it is first imported, so it is set here, first.
"""

import os

if not os.environ.get('DISPLAY'):
    os.environ.setdefault('MUJOCO_GL', 'egl')
    os.environ.setdefault('PYOPENGL_PLATFORM', 'egl')
