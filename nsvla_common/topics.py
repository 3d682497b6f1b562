# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Topic names shared by more than one node (relative names: they follow the namespace)."""

# trajectory_msgs/JointTrajectory commands of the joint_trajectory_controller topics
ARM_COMMAND = 'arm_controller/joint_trajectory'
GRIPPER_COMMAND = 'gripper_controller/joint_trajectory'
# std_msgs/Header: someone (the executor) wants a fresh look at the blocks now
LOOK_REQUEST = 'look_request'
