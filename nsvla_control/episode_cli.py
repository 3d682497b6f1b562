# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla run-episode``: send one instruction to a running graph and follow the episode.

With the simulation (or a real arm), planner and executor up (``nsvla launch embedded``), this
publishes the instruction on ``goal``, prints every ``execution_status`` event as it arrives
and ends with the episode's outcome. Exit 0 when the goal was reached.
"""

import argparse
import json
import sys
import time
from typing import Any, Dict, List, Optional

from nsvla_common.errors import NsvlaError, PlanningError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nsvla run-episode``."""
    parser.add_argument('--instruction', default='move the tower to the right peg',
                        help='the goal in words (or a JSON goal)')
    parser.add_argument('--timeout', type=float, default=600.0,
                        help='seconds to wait for the episode to end')
    parser.add_argument('--namespace', default='', help='namespace of the graph')
    parser.add_argument('--json', action='store_true', help='last line printed is JSON')
    parser.add_argument('--quiet', action='store_true', help='do not print every event')


def describe(event: Dict[str, Any]) -> str:
    """One readable line per execution_status event."""
    kind = event.get('event')
    if kind == 'step_end':
        args = event.get('action', {}).get('args', [])
        return 'move %d: %s from %s to %s: %s (%.1f s)' % (
            event.get('step', -1) + 1, *(args + ['?'] * 3)[:3], event.get('result'),
            event.get('seconds', 0.0))
    if kind == 'replan':
        return 'replan #%s: %s' % (event.get('replan'), event.get('reason'))
    if kind == 'recover':
        return 'recovery: %s -> %s' % (event.get('unknown_reason'), event.get('reason'))
    if kind == 'episode_end':
        return 'episode %s: %s (%s)' % (event.get('episode_id'), event.get('result'),
                                        event.get('reason'))
    if kind == 'episode_start':
        return 'episode %s started' % event.get('episode_id')
    return ''


def follow_episode(node: Any, executor: Any, instruction: str, timeout: float,
                   on_event: Any = None, plans: Optional[List[Dict]] = None,
                   check: Any = None) -> Dict[str, Any]:
    """
    Publish ``instruction`` on ``goal`` and return the episode_end event (or raise).

    ``check()`` is called about ten times a second (e.g. to raise when a node died).
    """
    from std_msgs.msg import String
    events: List[Dict[str, Any]] = []
    plans = plans if plans is not None else []

    def on_status(msg: String) -> None:
        try:
            event = json.loads(msg.data)
        except ValueError:
            return
        events.append(event)
        if on_event:
            on_event(event)

    node.create_subscription(String, 'execution_status', on_status, 50)
    node.create_subscription(String, 'plan', lambda m: plans.append(json.loads(m.data)), 10)
    goal_pub = node.create_publisher(String, 'goal', 10)
    deadline = time.monotonic() + timeout
    while goal_pub.get_subscription_count() == 0:
        executor.spin_once(timeout_sec=0.1)
        if check:
            check()
        if time.monotonic() > deadline:
            raise PlanningError('no planner subscribes to goal: is the graph running?')
    # our side matched the planner's subscription; give its side a moment to match ours, or
    # the first message can be dropped. Then publish, and once more if no plan answers it.
    end_grace = time.monotonic() + 0.5
    while time.monotonic() < end_grace:
        executor.spin_once(timeout_sec=0.05)
    goal_pub.publish(String(data=instruction))
    sent, resent = time.monotonic(), 0
    while time.monotonic() < deadline:
        if not plans and not events and resent < 3 and time.monotonic() - sent > 5.0:
            goal_pub.publish(String(data=instruction))
            sent, resent = time.monotonic(), resent + 1
        executor.spin_once(timeout_sec=0.1)
        if check:
            check()
        ends = [e for e in events if e.get('event') == 'episode_end']
        if ends:
            ends[-1]['events'] = events
            return ends[-1]
        failed = [p for p in plans if p.get('status') != 'solved']
        if failed and not any(e.get('event') == 'episode_start' for e in events):
            return {'event': 'episode_end', 'result': 'failed', 'events': events,
                    'reason': 'planner: %s: %s' % (failed[-1].get('status'),
                                                   failed[-1].get('reason'))}
    raise PlanningError('the episode did not end within %.0f s' % timeout)


def run(args: argparse.Namespace) -> int:
    """Send the instruction and follow the episode."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('nsvla_run_episode', namespace=args.namespace or None,
                             context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)

    def show(event: Dict[str, Any]) -> None:
        line = describe(event)
        if line and not args.quiet:
            print('[episode] ' + line, flush=True)

    try:
        end = follow_episode(node, executor, args.instruction, args.timeout, show)
    except NsvlaError as exc:
        end = {'result': 'failed', 'reason': str(exc)}
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
    solved = end.get('result') == 'solved'
    if args.json:
        print(json.dumps({'solved': solved, 'moves': end.get('moves'),
                          'optimal_moves': end.get('optimal_moves'),
                          'replans': end.get('replans'), 'wall_s': end.get('wall_s'),
                          'reason': end.get('reason')}))
    elif not solved:
        print('episode failed: %s' % end.get('reason'), file=sys.stderr)
    return 0 if solved else 1
