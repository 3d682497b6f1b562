# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Motion backends: built-in IK over the scene's Panda, and MoveIt through a stand-in MoveItPy."""

import math
import os

import numpy as np
import pytest

from nsvla_common.errors import ConfigError
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
        self.requests = []

    def set_start_state(self, robot_state):
        self.start = robot_state

    def set_goal_state(self, pose_stamped_msg=None, pose_link=None, robot_state=None):
        self.goal = (pose_stamped_msg, pose_link) if robot_state is None else robot_state

    def plan(self, single_plan_parameters=None):
        from builtin_interfaces.msg import Duration
        from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint
        self.calls.append(self.goal)
        self.requests.append(single_plan_parameters)
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


class _FakeRequest:
    """Stand-in for moveit.planning.PlanRequestParameters: the request set it was made from."""

    def __init__(self, moveit, namespace):
        self.namespace = namespace
        self.max_velocity_scaling_factor = 1.0
        self.max_acceleration_scaling_factor = 1.0


def _backend(comp, **kwargs):
    joints = ['panda_joint%d' % i for i in range(1, 8)]
    return MoveItMotion(joints, moveit=_FakeMoveItPy(comp), start_state=lambda q: q,
                        request_parameters=_FakeRequest, **kwargs)


def test_moveit_backend_through_the_shared_interface():
    pytest.importorskip('trajectory_msgs.msg', reason='trajectory_msgs not installed')
    joints = ['panda_joint%d' % i for i in range(1, 8)]
    comp = _FakeComponent(joints)
    backend = _backend(comp)
    wps = [Waypoint((0.5, 0.0, 0.2), 0.0, 'open', label='a'),
           Waypoint((0.5, 0.0, 0.1), 0.0, 'close', straight=True, label='b')]
    segments, q_end = backend.plan_move(np.zeros(7), wps, 0.015)
    kinds = [type(s).__name__ for s in segments]
    assert kinds == ['ArmSegment', 'GripperSegment', 'ArmSegment', 'GripperSegment']
    assert np.allclose(q_end, 0.4)            # second plan started where the first ended
    assert comp.calls[0][1] == 'panda_hand_tcp'
    assert comp.calls[1][0].pose.position.z == pytest.approx(0.1)
    failing = _backend(_FakeComponent(joints, fail_at=1))
    with pytest.raises(MotionError, match='no plan to b'):
        failing.plan_move(np.zeros(7), wps, 0.015)


def test_moveit_plans_straight_waypoints_with_pilz_lin_within_the_executor_scaling():
    pytest.importorskip('trajectory_msgs.msg', reason='trajectory_msgs not installed')
    import yaml
    from nsvla_common.paths import config_path
    from nsvla_control.moveit_backend import MOVEIT_CPP_FILE, STRAIGHT_REQUEST, FREE_REQUEST
    joints = ['panda_joint%d' % i for i in range(1, 8)]
    comp = _FakeComponent(joints)
    backend = _backend(comp, velocity_scaling=0.25, acceleration_scaling=0.2,
                       base_position=(0.1, -0.2, 0.05))
    wps = [Waypoint((0.5, 0.0, 0.3), 0.0, None, label='travel'),
           Waypoint((0.5, 0.0, 0.1), 0.0, 'close', straight=True, label='descend')]
    backend.plan_move(np.zeros(7), wps, 0.015)
    assert [r.namespace for r in comp.requests] == [FREE_REQUEST, STRAIGHT_REQUEST]
    assert all(r.max_velocity_scaling_factor == 0.25 for r in comp.requests)
    assert all(r.max_acceleration_scaling_factor == 0.2 for r in comp.requests)
    pose = comp.calls[1][0].pose.position        # world waypoint in panda_link0's frame
    assert (pose.x, pose.y, pose.z) == pytest.approx((0.4, 0.2, 0.05))
    with open(config_path(MOVEIT_CPP_FILE)) as f:   # the request sets the names point at
        cpp = yaml.safe_load(f)
    straight = cpp[STRAIGHT_REQUEST]['plan_request_params']
    assert (straight['planning_pipeline'], straight['planner_id']) == (
        'pilz_industrial_motion_planner', 'LIN')
    assert cpp[FREE_REQUEST]['plan_request_params']['planning_pipeline'] in \
        cpp['planning_pipelines']['pipeline_names']
    with pytest.raises(ConfigError, match='velocity_scaling'):
        _backend(comp, velocity_scaling=1.5)


def test_moveit_leaves_the_camera_view_with_a_joint_goal():
    pytest.importorskip('trajectory_msgs.msg', reason='trajectory_msgs not installed')
    joints = ['panda_joint%d' % i for i in range(1, 8)]
    comp = _FakeComponent(joints)
    home = np.full(7, 0.2)
    backend = _backend(comp, q_rest=home)
    assert backend.q_rest is not None and np.allclose(backend.q_rest, home)
    assert backend.joint_move(home, home) == []
    segments = backend.joint_move(np.zeros(7), home, 'out of the camera view')
    assert len(segments) == 1 and segments[0].label == 'out of the camera view'
    assert np.allclose(comp.calls[-1], home)     # the goal is the joint state, not a pose


def test_moveit_config_comes_from_the_config_package_and_nsvla_moveit_cpp(monkeypatch):
    import importlib.machinery
    import sys
    import types
    from nsvla_control import moveit_backend as mb
    monkeypatch.setitem(sys.modules, 'moveit_configs_utils', None)   # not importable
    with pytest.raises(MotionError, match='moveit_configs_utils'):
        mb.moveit_config_dict()
    seen = {}

    class Builder:
        def __init__(self, robot, package_name=None):
            seen['robot'], seen['package'] = robot, package_name

        def moveit_cpp(self, file_path):
            seen['cpp'] = file_path
            return self

        def planning_pipelines(self, pipelines):
            seen['pipelines'] = pipelines
            return self

        def to_moveit_configs(self):
            return types.SimpleNamespace(to_dict=lambda: {'robot_description': '<robot/>'})

    utils = types.ModuleType('moveit_configs_utils')
    utils.MoveItConfigsBuilder = Builder
    monkeypatch.setitem(sys.modules, 'moveit_configs_utils', utils)
    assert mb.moveit_config_dict() == {'robot_description': '<robot/>'}
    assert seen['robot'] == 'moveit_resources_panda'
    assert seen['package'] == 'moveit_resources_panda_moveit_config'
    assert seen['cpp'].endswith(os.path.join('config', 'moveit', 'moveit_cpp.yaml'))
    assert 'pilz_industrial_motion_planner' in seen['pipelines']
    with pytest.raises(ConfigError, match='moveit_config_package'):
        mb.moveit_config_dict('panda_description')
    # MoveItMotion without a MoveItPy given builds one with that configuration
    made = {}

    class MoveItPy:
        def __init__(self, node_name, config_dict):
            made['node'], made['config'] = node_name, config_dict

        def get_planning_component(self, group):
            return _FakeComponent(['panda_joint%d' % i for i in range(1, 8)])

    moveit = types.ModuleType('moveit')
    planning = types.ModuleType('moveit.planning')
    planning.MoveItPy = MoveItPy
    planning.__spec__ = importlib.machinery.ModuleSpec('moveit.planning', None)
    moveit.planning = planning
    monkeypatch.setitem(sys.modules, 'moveit', moveit)
    monkeypatch.setitem(sys.modules, 'moveit.planning', planning)
    MoveItMotion(['panda_joint%d' % i for i in range(1, 8)])
    assert made == {'node': 'nsvla_moveit_py', 'config': {'robot_description': '<robot/>'}}


@pytest.mark.parametrize('yaw', [-1.5, -0.8, -0.3, 0.0, 0.4, 0.9, 1.5])
def test_ik_reaches_a_loose_pick_and_its_place_at_any_grasp_yaw(scene, motion, yaw):
    """A loose ring carried at its grasp's yaw is placed on every peg at that yaw."""
    from nsvla_control.skills import LOOSE_PEG, MoveSpec
    from nsvla_planner.state import LoosePose
    skills = Skills(scene)
    for dst in range(1, scene.num_pegs + 1):
        pose = LoosePose(0.62, 0.08, scene.block_centre_z(0), yaw, False)   # tilted: its yaw
        wps = skills.loose_waypoints(MoveSpec('b1', LOOSE_PEG, 0, dst, 0), 3, pose)
        assert all(abs(math.remainder(w.yaw - yaw, math.pi)) < 1e-9 for w in wps)
        segments, q_end = motion.plan_move(scene.home, wps, 0.014)
        assert np.allclose(motion.ik.forward(q_end)[0], wps[-1].pos, atol=1e-3)


def test_a_free_move_is_found_from_where_the_local_search_runs_into_a_limit(scene, motion):
    """The arm as it was after a loose ring's recovery (4 blocks with slips, seed 20012)."""
    q = np.array([-0.4135, 0.2812, 0.7326, -2.2904, -0.306, 2.4791, -1.813])
    above = Waypoint((0.5, 0.0, 0.135), -math.pi / 2, 'open', label='above b1')
    assert not motion.ik.solve(above.pos, top_down_quat(above.yaw), q_init=q).success
    path = motion.joint_path(q, above)
    pos, quat = motion.ik.forward(path[-1])
    assert np.allclose(pos, above.pos, atol=1e-3)
    assert abs(abs(float(np.dot(quat, top_down_quat(above.yaw)))) - 1.0) < 1e-4
