# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Motion backends: built-in IK over the scene's Panda, and MoveIt through a stand-in MoveItPy."""

import numpy as np
import pytest

from nsvla_common.robot import top_down_quat
from nsvla_control.motion import ArmSegment, BuiltinMotion, GripperSegment, MotionError
from nsvla_control.moveit_backend import moveit_available, MoveItMotion
from nsvla_control.skills import move_of, SkillConfig, Skills, Waypoint
from nsvla_planner.state import SymbolicState
from nsvla_sim.scene import load_scene


@pytest.fixture(scope='module')
def scene():
    return load_scene('scene_default.yaml')


@pytest.fixture(scope='module')
def motion(scene):
    return BuiltinMotion.for_scene(scene)


def _all_moves(n, k=3):
    """Every (block, onto) move that occurs between a tower on p1 and states on the way."""
    states = [SymbolicState.tower(n, k, on_peg=p) for p in range(1, k + 1)]
    states.append(SymbolicState.from_assignment([1 + (i % k) for i in range(n)], k))
    for s in states:
        for src, col in s.stacks().items():
            if not col:
                continue
            for dst, col2 in s.stacks().items():
                onto = col2[-1] if col2 else dst
                if dst != src and (onto.startswith('p') or int(onto[1:]) > int(col[-1][1:])):
                    yield s, col[-1], onto


@pytest.mark.parametrize('n', [3, 4, 5])
def test_ik_reaches_every_grasp_and_place_pose(scene, motion, n):
    skills = Skills(scene)
    for state, block, onto in _all_moves(n):
        wps = skills.move_waypoints(move_of(state, block, onto), n)
        segments, q_end = motion.plan_move(scene.home, wps, 0.015)
        arm = [s for s in segments if isinstance(s, ArmSegment)]
        grip = [s for s in segments if isinstance(s, GripperSegment)]
        assert len(grip) == 3 and [g.label for g in grip] == ['open', 'close', 'open']
        # the TCP really ends at each waypoint, pointing down
        assert np.allclose(arm[-1].positions[-1], q_end)
        pos, quat = motion.ik.forward(q_end)
        assert np.allclose(pos, wps[-1].pos, atol=1e-3)
        assert abs(abs(np.dot(quat, top_down_quat(SkillConfig().grasp_yaw))) - 1) < 1e-3
        for seg in arm:
            assert np.all(seg.positions >= motion.ik.lower - 1e-9)
            assert np.all(seg.positions <= motion.ik.upper + 1e-9)
            fd = np.diff(seg.positions, axis=0) / np.diff(seg.times)[:, None]
            assert np.all(np.abs(fd) <= motion.vmax * 1.001)


def test_unreachable_pose_is_reported(motion, scene):
    far = [Waypoint((1.5, 0.0, 0.1), 0.0, None, label='too far')]
    with pytest.raises(MotionError, match='cannot reach too far'):
        motion.plan_move(scene.home, far, 0.015)


def test_moveit_backend_refuses_cleanly_without_moveit():
    if moveit_available():
        pytest.skip('MoveIt is installed here: the missing-MoveIt path cannot be shown')
    with pytest.raises(MotionError, match='needs MoveIt 2'):
        MoveItMotion(['panda_joint%d' % i for i in range(1, 8)])


class _FakePlanResult:
    def __init__(self, traj):
        self.trajectory = self
        self._traj = traj

    def get_robot_trajectory_msg(self):
        return self


class _FakeComponent:
    """Stand-in for a MoveItPy PlanningComponent: plans straight joint lines."""

    def __init__(self, joints, fail_at=None):
        self.joints, self.calls, self.fail_at = joints, [], fail_at

    def set_start_state(self, robot_state):
        self.start = robot_state

    def set_goal_state(self, pose_stamped_msg, pose_link):
        self.goal = (pose_stamped_msg, pose_link)

    def plan(self):
        from builtin_interfaces.msg import Duration
        from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint
        self.calls.append(self.goal)
        if self.fail_at is not None and len(self.calls) > self.fail_at:
            return None
        msg = JointTrajectory(joint_names=list(reversed(self.joints)))
        start = np.asarray(self.start, float)
        for k in range(3):
            pt = JointTrajectoryPoint(positions=list(reversed((start + 0.1 * k).tolist())),
                                      time_from_start=Duration(sec=k))
            msg.points.append(pt)
        res = _FakePlanResult(msg)
        res.joint_trajectory = msg
        return res


class _FakeMoveItPy:
    def __init__(self, component):
        self.component = component

    def get_planning_component(self, group):
        assert group == 'panda_arm'
        return self.component


def test_moveit_backend_through_the_shared_interface():
    pytest.importorskip('trajectory_msgs.msg', reason='trajectory_msgs not installed')
    joints = ['panda_joint%d' % i for i in range(1, 8)]
    comp = _FakeComponent(joints)
    backend = MoveItMotion(joints, moveit=_FakeMoveItPy(comp), start_state=lambda q: q)
    wps = [Waypoint((0.5, 0.0, 0.2), 0.0, 'open', label='a'),
           Waypoint((0.5, 0.0, 0.1), 0.0, 'close', straight=True, label='b')]
    segments, q_end = backend.plan_move(np.zeros(7), wps, 0.015)
    kinds = [type(s).__name__ for s in segments]
    assert kinds == ['ArmSegment', 'GripperSegment', 'ArmSegment', 'GripperSegment']
    assert np.allclose(q_end, 0.4)            # second plan started where the first ended
    assert comp.calls[0][1] == 'panda_hand_tcp'
    assert comp.calls[1][0].pose.position.z == pytest.approx(0.1)
    failing = MoveItMotion(joints, moveit=_FakeMoveItPy(_FakeComponent(joints, fail_at=1)),
                           start_state=lambda q: q)
    with pytest.raises(MotionError, match='no plan to b'):
        failing.plan_move(np.zeros(7), wps, 0.015)
