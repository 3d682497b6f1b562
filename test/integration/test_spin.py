# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""run_node's way out: Ctrl-C stops a node even when one of its callbacks never returns."""

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, requires_rclpy

pytestmark = [pytest.mark.integration, requires_rclpy]

# A node whose timer callback never returns, spun by a MultiThreadedExecutor as the
# executor and the planner are: without a bound the interpreter waits for that thread forever.
HUNG_NODE = r'''
import sys, threading, time
import rclpy.node
from rclpy.callback_groups import ReentrantCallbackGroup
from nsvla_common.spin import run_node

class Hung(rclpy.node.Node):
    def __init__(self):
        super().__init__('hung')
        self.create_timer(0.05, self.forever, callback_group=ReentrantCallbackGroup())
        self.started = threading.Event()

    def forever(self):
        if self.started.is_set():
            return
        self.started.set()
        print('callback entered', flush=True)
        while True:
            time.sleep(0.05)

sys.exit(run_node(Hung, 'hung', threads=%d, teardown_s=1.5))
'''


@pytest.mark.parametrize('threads', [1, 3])
def test_ctrl_c_leaves_in_bounded_time_and_says_where_it_hung(tmp_path, threads):
    log = tmp_path / 'hung.log'
    with open(log, 'w') as out:
        proc = subprocess.Popen([sys.executable, '-c', HUNG_NODE % threads], stdout=out,
                                stderr=subprocess.STDOUT, cwd=REPO, env=os.environ.copy(),
                                start_new_session=True)
        try:
            end = time.monotonic() + 30.0
            while 'callback entered' not in log.read_text() and time.monotonic() < end:
                time.sleep(0.1)
            assert 'callback entered' in log.read_text(), log.read_text()
            t0 = time.monotonic()
            os.killpg(proc.pid, signal.SIGINT)
            code = proc.wait(20.0)
            took = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    text = log.read_text()
    assert code == 0, text
    assert took < 10.0, (took, text)
    if threads == 1:
        # the callback runs on the main thread: Ctrl-C interrupts it, no watchdog needed
        assert 'teardown still running' not in text, text
    else:
        assert 'teardown still running' in text, text
        assert 'in forever' in text, text     # the stack names the callback that hung
