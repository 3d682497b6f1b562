# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Perception of nsvla: camera image -> symbolic Hanoi state with per-fact confidence.

Modules (only ``perception_node`` imports rclpy):

- ``backend``: the :class:`~nsvla_perception.backend.Perceiver` interface and
  :func:`~nsvla_perception.backend.make_perceiver` (``classic`` or ``learned``).
- ``classic``: OpenCV HSV colour segmentation + pinhole geometry of the scene camera.
- ``learned``: a small CNN per peg column (``models/perception_cnn.pt``) and its combination.
- ``symbols``: per-block readings -> known state with confidences, or unknown with the reason.
- ``filter``: temporal filter (stability, holding the last confident state through occlusion).
- ``geometry``: the pinhole camera of the scene file; ``image``: checked image conversion;
  ``overlay``: the debug image; ``settings``: ``config/perception.yaml``.
- ``render``: fast re-rendering of scene layouts (training, evaluation, tests, bench);
  ``dataset``, ``training``, ``evaluation``, ``energy``: data, training, accuracy, energy
  estimate; ``train_cli`` / ``eval_cli``: ``nsvla train-perception`` / ``eval-perception``.
- ``perception_node``: the ROS 2 node.
"""
