# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Shared test fixtures: loopback-only DDS, node processes, an rclpy context for the test."""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from nsvla_common.rosenv import localhost_env

# Every test process and every node it starts keeps DDS on this machine.
localhost_env()
# A domain id per test session so parallel runs on one host do not see each other's topics.
os.environ.setdefault('ROS_DOMAIN_ID', str(10 + (os.getpid() % 90)))   # demos use 100..199

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _has_rclpy():
    try:
        import rclpy  # noqa: F401
        return True
    except ImportError:
        return False


def load_bench(name):
    """Import ``bench/<name>.py`` (bench scripts are not a package) and return the module."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('bench_' + name,
                                                  os.path.join(REPO, 'bench', name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


requires_rclpy = pytest.mark.skipif(not _has_rclpy(), reason='rclpy is not importable here')


class NodeProcess:
    """A ROS 2 node run as its own process (``python -m module --ros-args ...``)."""

    def __init__(self, module, ros_args=(), env=None, log_dir=None):
        self.module = module
        self.log_path = os.path.join(log_dir or '/tmp', '%s-%s.log'
                                     % (module.rsplit('.', 1)[-1], uuid.uuid4().hex[:8]))
        self._log = open(self.log_path, 'w')
        cmd = [sys.executable, '-m', module, '--ros-args'] + list(ros_args)
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=env or os.environ.copy(), cwd=REPO,
                                     start_new_session=True)

    def alive(self):
        return self.proc.poll() is None

    def log(self):
        if not self._log.closed:
            self._log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self, timeout=10.0):
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture
def node_process(tmp_path):
    """Start node modules as processes; all are stopped (SIGINT, then SIGKILL) at teardown."""
    started = []

    def start(module, ros_args=(), env=None):
        proc = NodeProcess(module, ros_args, env, str(tmp_path))
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def ros_node():
    """Provide an rclpy node in the test process, with ``node.spin_until(condition)``."""
    rclpy = pytest.importorskip('rclpy', reason='rclpy is not importable here')
    from rclpy.executors import SingleThreadedExecutor
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('nsvla_test_%s' % uuid.uuid4().hex[:8], context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)

    def spin_until(condition, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if condition():
                return True
            executor.spin_once(timeout_sec=0.05)
        return condition()

    def settle(seconds=1.0):
        # A client sees a server before the server has matched the client's reply reader; a
        # request sent at once can lose its answer ('failed to send response (timeout)' in
        # the server's log; seen in a fresh-clone run under load). Spin a moment first.
        spin_until(lambda: False, seconds)

    node.spin_until = spin_until
    node.settle = settle
    node.executor = executor
    yield node
    executor.shutdown()
    node.destroy_node()
    rclpy.try_shutdown(context=context)


@pytest.fixture
def launch_file(monkeypatch):
    """
    Load launch/nsvla.launch.py over minimal stand-ins of launch and launch_ros.

    Returns ``(module, defaults)``: the loaded launch file and its launch arguments' defaults.
    Stand-ins: ``LaunchDescription`` a list, ``DeclareLaunchArgument`` a (name, kwargs) tuple,
    ``LogInfo`` a ('log', msg) tuple, ``Node`` its kwargs.
    """
    import importlib.util
    import types

    class LaunchConfiguration:
        def __init__(self, name):
            self.name = name

        def perform(self, context):
            return context[self.name]

    modules = {name: types.ModuleType(name) for name in (
        'launch', 'launch.actions', 'launch.substitutions', 'launch_ros', 'launch_ros.actions')}
    modules['launch'].LaunchDescription = list
    modules['launch.actions'].DeclareLaunchArgument = lambda name, **kw: (name, kw)
    modules['launch.actions'].OpaqueFunction = lambda function: function
    modules['launch.actions'].LogInfo = lambda msg: ('log', msg)
    modules['launch.substitutions'].LaunchConfiguration = LaunchConfiguration
    modules['launch_ros.actions'].Node = lambda **kw: kw
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location(
        'nsvla_launch_stand_in', os.path.join(REPO, 'launch', 'nsvla.launch.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    defaults = {entity[0]: entity[1]['default_value']
                for entity in module.generate_launch_description() if isinstance(entity, tuple)}
    return module, defaults
