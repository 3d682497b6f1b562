# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The embedded MuJoCo world of nsvla: a Franka Panda, K pegs, N ring blocks and an RGB camera.

Modules (only ``sim_node`` imports rclpy):

- ``scene``: seeded domain randomisation and start layouts drawn from the rig specification
  (``nsvla_common.rig``, ``config/scene_default.yaml``).
- ``mjcf``: turn a scene and a layout into MJCF (Panda meshes from ``dm-robotics-panda``).
- ``world``: :class:`nsvla_sim.world.HanoiWorld`, the simulation other packages use without ROS.
- ``ground_truth``: the symbolic state (``SymbolicState``) read off body poses.
- ``trajectory``: joint-trajectory validation and following, like ``joint_trajectory_controller``.
- ``pick_place``: the scripted pick-and-place used by ``nsvla sim-check``, tests and the bench.
- ``gazebo``: export of the same scene as an SDF world for Gazebo.
- ``sim_node``: the ROS 2 node; ``cli`` and ``cli_check``: ``nsvla sim-render`` / ``sim-check``.

Importing the package changes nothing in the environment: MuJoCo picks its OpenGL backend when
it is first imported, so the modules that render import it through
``nsvla_common.rosenv.mujoco_for_rendering`` (EGL when there is no display and the user chose
nothing), and the ``nsvla`` command and the launcher set ``MUJOCO_GL`` for what they start.
"""
