# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Start a node graph as separate processes, the way ``ros2 launch`` would, without launch_ros.

Each node runs as ``python -m <module> --ros-args ...`` with loopback-only DDS; its output is
prefixed with its name. When a required node dies the others are stopped and the launcher
reports which node died and its last lines. Ctrl-C stops every node (SIGINT, then SIGKILL
after a grace period).
"""

import collections
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Deque, Dict, List, Optional, TextIO

from nsvla_common.errors import ConfigError, NsvlaError
from nsvla_common.rosenv import localhost_env
from nsvla_eval.graph import NodeSpec


class NodeDied(NsvlaError):
    """A required node exited while the graph was running."""

    status = 'node_died'


class Launcher:
    """Run a list of :class:`NodeSpec` as processes and watch them."""

    def __init__(self, nodes: List[NodeSpec], params_file: Optional[str] = None,
                 namespace: str = '', log_level: str = 'info',
                 output: Optional[TextIO] = None, log_dir: Optional[str] = None) -> None:
        names = [n.name for n in nodes]
        if len(set(names)) != len(names):
            raise ConfigError('duplicate node names in the graph: %s' % names)
        for node in nodes:
            if importlib.util.find_spec(node.module.rsplit('.', 1)[0]) is None or \
                    importlib.util.find_spec(node.module) is None:
                raise ConfigError('node %s: module %s is not available in this install'
                                  % (node.name, node.module))
        self.nodes = nodes
        self.params_file = params_file
        self.namespace = namespace
        self.log_level = log_level
        self.output = output or sys.stdout
        self.log_dir = log_dir
        if log_dir:
            os.makedirs(log_dir, exist_ok=True)
        self.procs: Dict[str, subprocess.Popen] = {}
        self.tails: Dict[str, Deque[str]] = {}
        self._threads: List[threading.Thread] = []
        self._write_lock = threading.Lock()

    def command(self, node: NodeSpec) -> List[str]:
        """Full command line of one node."""
        return [sys.executable, '-m', node.module] + node.ros_args(
            self.params_file, self.namespace, self.log_level)

    def start(self) -> None:
        """Start every node (in graph order)."""
        env = localhost_env(os.environ.copy())
        for node in self.nodes:
            proc = subprocess.Popen(self.command(node), env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, bufsize=1,
                                    start_new_session=True)
            self.procs[node.name] = proc
            self.tails[node.name] = collections.deque(maxlen=20)
            t = threading.Thread(target=self._pump, args=(node.name, proc), daemon=True)
            t.start()
            self._threads.append(t)
            self._say('[launch] started %s (pid %d): %s' % (node.name, proc.pid,
                                                            ' '.join(self.command(node)[1:4])))

    def _say(self, line: str) -> None:
        with self._write_lock:
            self.output.write(line + '\n')
            self.output.flush()

    def _pump(self, name: str, proc: subprocess.Popen) -> None:
        log = open(os.path.join(self.log_dir, name + '.log'), 'w') if self.log_dir else None
        try:
            for line in proc.stdout:  # type: ignore[union-attr]
                line = line.rstrip('\n')
                self.tails[name].append(line)
                if log:
                    log.write(line + '\n')
                self._say('[%s] %s' % (name, line))
        finally:
            if log:
                log.close()

    def dead(self) -> Optional[str]:
        """Name of the first required node that has exited, if any."""
        for node in self.nodes:
            proc = self.procs.get(node.name)
            if node.required and proc is not None and proc.poll() is not None:
                return node.name
        return None

    def check(self) -> None:
        """Raise NodeDied (with the node's last output) when a required node has exited."""
        name = self.dead()
        if name:
            for t in self._threads:
                t.join(0.5)
            code = self.procs[name].returncode
            tail = '\n'.join('    ' + s for s in list(self.tails[name])[-8:])
            raise NodeDied('node %s exited with status %s; its last output:\n%s'
                           % (name, code, tail or '    (nothing)'))

    def cpu_seconds(self) -> Dict[str, Optional[float]]:
        """
        Return the CPU seconds each node's process has used so far (None once it is gone).

        User + system time of all its threads, plus that of its children it has waited for
        (the planner's Fast Downward runs), read from ``/proc`` by psutil.
        """
        import psutil
        out: Dict[str, Optional[float]] = {}
        for name, proc in self.procs.items():
            try:
                t = psutil.Process(proc.pid).cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                out[name] = None
                continue
            out[name] = t.user + t.system + t.children_user + t.children_system
        return out

    def wait(self, timeout: Optional[float] = None, poll_s: float = 0.2) -> None:
        """Block until a required node dies (raise NodeDied) or ``timeout`` passes."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            self.check()
            if end is not None and time.monotonic() >= end:
                return
            time.sleep(poll_s)

    def stop(self, grace_s: float = 10.0) -> Dict[str, int]:
        """SIGINT every node still running, SIGKILL what is left after ``grace_s``."""
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
        end = time.monotonic() + grace_s
        for name, proc in self.procs.items():
            try:
                proc.wait(max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                tail = '\n'.join('    ' + s for s in list(self.tails.get(name, ()))[-8:])
                self._say('[launch] %s did not stop within %.0f s: killing it; its last '
                          'output:\n%s' % (name, grace_s, tail or '    (nothing)'))
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for t in self._threads:
            t.join(1.0)
        return {name: proc.returncode for name, proc in self.procs.items()}

    def __enter__(self) -> 'Launcher':
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
