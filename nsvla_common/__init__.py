# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Shared pieces of nsvla, free of rclpy and MuJoCo: what a real rig and the simulation both use.

``rig`` (the rig / scene specification), ``camera`` (the pinhole camera model and camera_info),
``robot`` (the Panda's joint names, limits, TCP), ``symbols`` (block and peg names), errors,
JSON envelopes, paths, the DDS and rendering environment (``rosenv``) and the ``nsvla`` CLI.
"""
