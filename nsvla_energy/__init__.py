# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Energy of every decision: meters (NVML, RAPL, estimate), attribution, episode accounting.

Pure modules (no rclpy): :mod:`meters`, :mod:`attribution`, :mod:`episodes`, :mod:`monitor`,
:mod:`csvlog`, :mod:`plot`, :mod:`summary`, and :mod:`messages` (dicts <-> the
``nsvla_interfaces`` energy messages, no ``rclpy.init``). The only ROS module is
:mod:`power_monitor_node`.
"""
