# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla run-episode``: send one instruction to a running graph's ``execute_task`` action.

With the simulation (or a real arm), perception, planner and executor up (``nsvla launch
embedded``), this sends the instruction as an ExecuteTask goal, prints every feedback event as
it arrives and ends with the episode's outcome. Exit 0 only when the goal was reached; a refusal
(an instruction that cannot be understood or is illegal), a failure, or a node of the graph
leaving (noticed within a few seconds) exits non-zero with the reason.
"""

import argparse
import json
import sys
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Sequence

from nsvla_common.errors import NsvlaError, PlanningError

GRAPH_NODES = ('executor', 'planner')
# After this long without an answer to the goal, a goal the server is seen running (its status
# or its feedback) is followed without that answer. DDS can lose a service response when the
# server has not yet matched the client's reader ("failed to send response (timeout)" in the
# executor's log): one launched demo in 20 ran its episode to the end while the CLI waited for
# the answer until its timeout.
GOAL_RESPONSE_S = 5.0


class NodeLeft(NsvlaError):
    """A node the episode needs left the graph."""

    status = 'node_died'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nsvla run-episode``."""
    parser.add_argument('--instruction', default='move the tower to the right peg',
                        help='the goal in words')
    parser.add_argument('--timeout', type=float, default=600.0,
                        help='seconds to wait for the episode to end')
    parser.add_argument('--namespace', default='', help='namespace of the graph')
    parser.add_argument('--json', action='store_true', help='last line printed is JSON')
    parser.add_argument('--quiet', action='store_true', help='do not print every event')


def describe(event: Dict[str, Any]) -> str:
    """One readable line per episode event."""
    kind = event.get('event')
    if kind == 'step_end':
        args = event.get('action', {}).get('args', [])
        return 'move %d: %s from %s to %s: %s (%.1f s)' % (
            event.get('step', -1) + 1, *(args + ['?'] * 3)[:3], event.get('result'),
            event.get('seconds', 0.0))
    if kind == 'replan':
        return 'replan #%s: %s' % (event.get('replan'), event.get('reason'))
    if kind == 'recover':
        return 'recovery: %s' % event.get('reason')
    if kind == 'episode_end':
        return 'episode %s: %s (%s)' % (event.get('episode_id'), event.get('result'),
                                        event.get('reason'))
    if kind == 'episode_start':
        return 'episode %s started' % event.get('episode_id')
    return ''


class GraphWatch:
    """
    Raise NodeLeft when a node of ``names`` that was seen leaves the graph or stops living.

    Two signs, whichever comes first: the node is gone from the graph (a clean shutdown), or the
    liveliness of its topic lapses (``nsvla_common.qos``: a process killed hard was noticed
    3.5 s after SIGKILL here, where DDS discovery takes about twenty).
    """

    TOPICS = {'executor': 'execution_status', 'planner': 'plan'}

    def __init__(self, node: Any, names: Sequence[str], period_s: float = 0.5) -> None:
        from rclpy.event_handler import SubscriptionEventCallbacks

        from nsvla_common.qos import watch_qos
        from nsvla_interfaces.msg import EpisodeEvent, Plan
        self.node = node
        self.names = tuple(names)
        self.period_s = period_s
        self.seen: set = set()
        self.lapsed: set = set()
        self._next = 0.0
        types = {'execution_status': EpisodeEvent, 'plan': Plan}
        for name in self.names:
            topic = self.TOPICS.get(name)
            if topic is None:
                continue
            callbacks = SubscriptionEventCallbacks(
                liveliness=lambda event, who=name: self._on_liveliness(who, event))
            node.create_subscription(types[topic], topic, lambda _msg: None, watch_qos(),
                                     event_callbacks=callbacks)

    def _on_liveliness(self, name: str, event: Any) -> None:
        if event.alive_count_change < 0 and event.alive_count == 0:
            self.lapsed.add(name)

    def present(self) -> set:
        """Return the watched nodes in the graph now (in this node's namespace)."""
        ns = self.node.get_namespace().rstrip('/') or '/'
        return {name for name, space in self.node.get_node_names_and_namespaces()
                if name in self.names and (space.rstrip('/') or '/') == ns}

    def __call__(self) -> None:
        if self.lapsed:
            raise NodeLeft('node %s stopped living (its liveliness lapsed)'
                           % ', '.join(sorted(self.lapsed)))
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.period_s
        here = self.present()
        gone = sorted(self.seen - here)
        self.seen |= here
        if gone:
            raise NodeLeft('node %s left the graph' % ', '.join(gone))


def _spin_until(executor: Any, done: Callable[[], bool], deadline: float,
                check: Optional[Callable[[], None]], what: str) -> None:
    while not done():
        executor.spin_once(timeout_sec=0.1)
        if check:
            check()
        if time.monotonic() > deadline:
            raise PlanningError('%s within the time allowed' % what)


def execute_task(node: Any, executor: Any, instruction: str, timeout: float,
                 on_event: Optional[Callable[[Dict[str, Any]], None]] = None,
                 check: Optional[Callable[[], None]] = None, goal: Any = None,
                 action: str = 'execute_task') -> Dict[str, Any]:
    """
    Send an ExecuteTask goal and return the outcome as a dict (``result``: solved/failed).

    ``on_event`` gets each feedback event as the episode's event dict; ``check()`` is called
    about ten times a second (it raises to stop waiting, e.g. when a node died).
    """
    from action_msgs.msg import GoalStatus, GoalStatusArray
    from rclpy.action import ActionClient
    from rclpy.action.client import ClientGoalHandle
    from rclpy.qos import qos_profile_action_status_default
    from unique_identifier_msgs.msg import UUID

    from nsvla_interfaces.action import ExecuteTask
    from nsvla_planner import messages
    events: List[Dict[str, Any]] = []

    def on_feedback(msg: Any) -> None:
        try:
            event = messages.event_from_msg(msg.feedback.event)
        except NsvlaError:
            return
        events.append(event)
        if on_event:
            on_event(event)

    client = ActionClient(node, ExecuteTask, action)
    # the goals the server has taken (accepted, running or ended), from its status topic
    taken: set = set()
    taken_states = (GoalStatus.STATUS_ACCEPTED, GoalStatus.STATUS_EXECUTING,
                    GoalStatus.STATUS_CANCELING, GoalStatus.STATUS_SUCCEEDED,
                    GoalStatus.STATUS_CANCELED, GoalStatus.STATUS_ABORTED)

    def on_status(msg: Any) -> None:
        taken.update(bytes(g.goal_info.goal_id.uuid) for g in msg.status_list
                     if g.status in taken_states)
    status = node.create_subscription(GoalStatusArray, action + '/_action/status', on_status,
                                      qos_profile_action_status_default)
    try:
        deadline = time.monotonic() + timeout
        _spin_until(executor, lambda: client.server_is_ready(), min(deadline,
                    time.monotonic() + 60.0), check,
                    'no %s action server (is the graph running?)' % action)
        request = ExecuteTask.Goal(instruction=instruction)
        if goal is not None:
            request.goal = [goal]
        goal_id = UUID(uuid=list(uuid.uuid4().bytes))
        send = client.send_goal_async(request, feedback_callback=on_feedback, goal_uuid=goal_id)
        answer_by = time.monotonic() + GOAL_RESPONSE_S

        def running() -> bool:
            return (time.monotonic() > answer_by
                    and (bool(events) or bytes(goal_id.uuid) in taken))
        _spin_until(executor, lambda: send.done() or running(), deadline, check,
                    'the executor did not take the goal')
        if send.done():
            handle = send.result()
        else:
            node.get_logger().warning(
                'no answer to the goal after %.0f s, but %s is running it: following it'
                % (GOAL_RESPONSE_S, action))
            handle = ClientGoalHandle(client, goal_id,
                                      ExecuteTask.Impl.SendGoalService.Response(accepted=True))
        if not handle.accepted:
            return {'result': 'failed', 'reason': 'the executor rejected the goal',
                    'events': events}
        res = handle.get_result_async()
        try:
            _spin_until(executor, res.done, deadline, check, 'the episode did not end')
        except BaseException:
            cancel = handle.cancel_goal_async()
            end = time.monotonic() + 3.0
            while not cancel.done() and time.monotonic() < end:
                executor.spin_once(timeout_sec=0.1)
            raise
        out = res.result().result
        return {'event': 'episode_end', 'result': 'solved' if out.success else 'failed',
                'reason': out.reason, 'episode_id': out.episode_id, 'moves': out.moves,
                'optimal_moves': out.optimal_moves if out.optimal_moves >= 0 else None,
                'replans': out.replans, 'recoveries': out.recoveries, 'wall_s': out.wall_s,
                'events': events}
    finally:
        client.destroy()
        node.destroy_subscription(status)


def run(args: argparse.Namespace) -> int:
    """Send the instruction and follow the episode."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    if not args.instruction.strip():
        print('nsvla run-episode: --instruction is empty: say what to do', file=sys.stderr)
        return 2
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
        end = execute_task(node, executor, args.instruction, args.timeout, show,
                           check=GraphWatch(node, GRAPH_NODES))
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
    if not solved:
        print('episode failed: %s' % end.get('reason'), file=sys.stderr)
    return 0 if solved else 1
