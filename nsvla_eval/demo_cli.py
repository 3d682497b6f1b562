# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla demo``: the README's main command.

Today it starts the planner node as its own process, publishes the start state and the
instruction over (loopback) DDS, calls ``~/plan`` and prints the plan it answers. Later stages
replace the published start state by the simulation and add execution and energy.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any, Dict

from nsvla_common import envelope
from nsvla_common.errors import NsvlaError, PlanningError
from nsvla_planner.cli import DEFAULT_INSTRUCTION, format_listing
from nsvla_planner.planning import PlanResult
from nsvla_planner.state import SymbolicState


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nsvla demo``."""
    parser.add_argument('--blocks', type=int, default=3, help='number of blocks (default 3)')
    parser.add_argument('--instruction', default=DEFAULT_INSTRUCTION,
                        help='what to do, in words (default: %(default)r)')
    parser.add_argument('--seed', type=int, default=0, help='seed (start state when --random)')
    parser.add_argument('--random-start', action='store_true',
                        help='start from a random legal configuration instead of a tower')
    parser.add_argument('--engine', default='fast-downward', help='planning engine')
    parser.add_argument('--timeout', type=float, default=60.0, help='seconds to wait overall')
    parser.add_argument('--json', action='store_true', help='last line printed is JSON')


def _plan_through_node(state: SymbolicState, instruction: str, engine: str,
                       timeout: float) -> Dict[str, Any]:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from std_msgs.msg import String
    from std_srvs.srv import Trigger
    cmd = [sys.executable, '-m', 'nsvla_planner.planner_node', '--ros-args',
           '-p', 'engine:=%s' % engine, '-p', 'plan_on_goal:=false']
    planner = subprocess.Popen(cmd, env=os.environ.copy(), start_new_session=True)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('nsvla_demo', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        state_pub = node.create_publisher(String, 'symbolic_state', 10)
        goal_pub = node.create_publisher(String, 'goal', 10)
        client = node.create_client(Trigger, 'planner/plan')
        deadline = time.monotonic() + timeout
        print('[demo] waiting for the planner node ...', flush=True)
        while not client.wait_for_service(timeout_sec=0.2):
            if planner.poll() is not None:
                raise PlanningError('the planner node exited with status %d' % planner.returncode)
            if time.monotonic() > deadline:
                raise PlanningError('the planner node did not come up within %.0f s' % timeout)
        while state_pub.get_subscription_count() == 0 or goal_pub.get_subscription_count() == 0:
            executor.spin_once(timeout_sec=0.05)
        print('[demo] start state: %r' % state, flush=True)
        print('[demo] instruction: %r' % instruction, flush=True)
        while True:
            state_pub.publish(String(data=state.to_json()))
            goal_pub.publish(String(data=instruction))
            future = client.call_async(Trigger.Request())
            while not future.done():
                executor.spin_once(timeout_sec=0.1)
                if time.monotonic() > deadline:
                    raise PlanningError('no answer from planner/plan within %.0f s' % timeout)
            data = json.loads(future.result().message)
            if 'received yet' not in data.get('reason', ''):
                return data
            time.sleep(0.1)
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
        if planner.poll() is None:
            os.killpg(planner.pid, signal.SIGINT)
            try:
                planner.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(planner.pid, signal.SIGKILL)


def run(args: argparse.Namespace) -> int:
    """Start the planner node, ask it for a plan, print it."""
    import random
    t0 = time.monotonic()
    if args.random_start:
        state = SymbolicState.random(args.blocks, 3, rng=random.Random(args.seed),
                                     source='demo')
    else:
        state = SymbolicState.tower(args.blocks, 3, source='demo')
    try:
        data = envelope.parse(json.dumps(_plan_through_node(state, args.instruction,
                                                            args.engine, args.timeout)), 'plan')
    except NsvlaError as exc:
        data = {'status': exc.status, 'reason': str(exc), 'plan': [], 'engine': args.engine,
                'seconds': 0.0}
    result = PlanResult(data['status'], data.get('plan', []), data.get('engine', ''),
                        data.get('seconds', 0.0), reason=data.get('reason', ''),
                        optimal=data.get('optimal', False), moves=data.get('moves', 0))
    print(format_listing(result), flush=True)
    summary = {'solved': False, 'planned': result.ok, 'moves': result.moves,
               'optimal_moves': 2 ** args.blocks - 1 if not args.random_start else None,
               'replans': 0, 'wall_s': round(time.monotonic() - t0, 3),
               'stage': 'planning only (no execution yet)', 'status': result.status}
    if args.json:
        print(json.dumps(summary))
    return 0 if result.ok else 1
