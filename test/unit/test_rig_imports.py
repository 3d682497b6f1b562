# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The nodes a real rig runs import without the simulator: ``mujoco`` and ``nsvla_sim`` blocked."""

import os
import subprocess
import sys
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RIG_NODES = ('nsvla_perception.perception_node', 'nsvla_planner.planner_node',
             'nsvla_control.executor_node', 'nsvla_energy.power_monitor_node',
             'nsvla_control.moveit_backend')

BLOCKER = '''
import importlib.abc
import sys

BLOCKED = %r


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            raise ImportError('%%s is blocked in this test' %% name)
        return None


sys.meta_path.insert(0, Blocker())
'''


def _run(blocked, body):
    code = BLOCKER % (tuple(blocked),) + textwrap.dedent(body)
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    for key in ('MUJOCO_GL', 'PYOPENGL_PLATFORM'):
        env.pop(key, None)
    return subprocess.run([sys.executable, '-c', code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=240)


def _has(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


@pytest.mark.skipif(not _has('rclpy'), reason='rclpy is not importable here')
def test_rig_nodes_import_and_perceive_without_mujoco_or_the_simulator():
    proc = _run(('mujoco', 'nsvla_sim'), '''
        import importlib
        import os
        for name in %r:
            importlib.import_module(name)
        from nsvla_common.rig import load_scene
        from nsvla_perception.backend import make_perceiver
        perceiver = make_perceiver('classic', load_scene(), 3)
        assert perceiver.image_size == (640, 480), perceiver.image_size
        # the MoveIt backend turns a waypoint into a pose goal with no kinematics library
        from nsvla_common.robot import ARM_JOINTS
        from nsvla_control.moveit_backend import MoveItMotion
        from nsvla_control.skills import Waypoint

        class FakeMoveItPy:
            def get_planning_component(self, group):
                return None

        moveit = MoveItMotion(ARM_JOINTS, moveit=FakeMoveItPy(), start_state=lambda q: q)
        pose = moveit._pose(Waypoint((0.5, 0.0, 0.2), 0.0))
        assert abs(pose.pose.orientation.x ** 2 + pose.pose.orientation.y ** 2 - 1.0) < 1e-9
        loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('mujoco', 'nsvla_sim'))
        assert not loaded, loaded
        assert 'MUJOCO_GL' not in os.environ, 'importing the rig nodes set MUJOCO_GL'
        print('rig nodes imported')
    ''' % (RIG_NODES,))
    assert proc.returncode == 0 and 'rig nodes imported' in proc.stdout, proc.stderr[-3000:]


@pytest.mark.skipif(not _has('mujoco'), reason='mujoco is not importable here')
def test_builtin_motion_uses_mujoco_as_a_library_not_the_simulator():
    proc = _run(('nsvla_sim',), '''
        import numpy as np
        from nsvla_common.rig import load_scene
        from nsvla_control.motion import BuiltinMotion
        from nsvla_control.skills import Waypoint
        spec = load_scene()
        motion = BuiltinMotion.for_scene(spec)
        goal = (0.45, 0.0, 0.25)
        segments, q = motion.plan_move(spec.home, [Waypoint(goal, 0.0, 'open', True, 'above')],
                                       0.02)
        assert np.linalg.norm(motion.tcp_position(q) - goal) < 1e-3
        assert 'nsvla_sim' not in sys.modules
        print('planned %d segments' % len(segments))
    ''')
    assert proc.returncode == 0 and 'planned' in proc.stdout, proc.stderr[-3000:]


def test_importing_the_simulator_package_leaves_the_environment_alone():
    proc = _run((), '''
        import os
        import nsvla_sim  # noqa: F401
        import nsvla_sim.scene  # noqa: F401
        assert 'MUJOCO_GL' not in os.environ and 'PYOPENGL_PLATFORM' not in os.environ
        print('environment unchanged')
    ''')
    assert proc.returncode == 0 and 'environment unchanged' in proc.stdout, proc.stderr[-3000:]
