# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Planner node: symbolic state + goal (words or JSON) -> validated plan.

Subscribes ``symbolic_state`` and ``goal`` (std_msgs/String), serves ``~/plan``
(std_srvs/Trigger: the plan JSON in ``message``, or the error) and publishes every planning
result on ``plan`` (std_msgs/String, ``nsvla/plan/1``, with a ``status``). A new goal triggers
planning at once when a known state is there (``plan_on_goal``). Bad input is logged and
answered, never fatal.
"""

import sys
import threading
from typing import Any, Dict, Optional

from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.node import Node
from std_msgs.msg import String
from std_srvs.srv import Trigger

from nsvla_common import envelope
from nsvla_common.errors import ConfigError, NsvlaError, ValidationError
from nsvla_common.spin import run_node
from nsvla_planner import domain
from nsvla_planner.language import parse_instruction
from nsvla_planner.planning import ENGINES, Planner, PLAN_SCHEMA, PlanResult
from nsvla_planner.scene_words import colours_from_scene
from nsvla_planner.state import Goal, SymbolicState


def _descriptor(text: str, **kwargs: Any) -> ParameterDescriptor:
    return ParameterDescriptor(description=text, **kwargs)


class PlannerNode(Node):
    """Thin ROS 2 wrapper around :class:`nsvla_planner.planning.Planner`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('planner', **kwargs)
        self.declare_parameter('engine', 'fast-downward', _descriptor(
            'unified-planning engine: %s' % ', '.join(sorted(ENGINES))))
        self.declare_parameter('timeout_s', 30.0, _descriptor(
            'wall-clock bound per plan, seconds',
            floating_point_range=[FloatingPointRange(from_value=0.1, to_value=3600.0)]))
        self.declare_parameter('num_pegs', 3, _descriptor(
            'pegs in the scene; a state with another count is refused',
            integer_range=[IntegerRange(from_value=3, to_value=9)]))
        self.declare_parameter('plan_form', 'pick_place', _descriptor(
            'plan form: pick_place (pick + place actions) or move (one action per move)'))
        self.declare_parameter('scene_config', 'scene_default.yaml', _descriptor(
            'scene YAML giving block colour names for instructions'))
        self.declare_parameter('plan_on_goal', True, _descriptor(
            'plan and publish as soon as a goal arrives and a known state is there'))
        self.declare_parameter('min_confidence', 0.5, _descriptor(
            'refuse to plan from a state whose least confident fact is below this',
            floating_point_range=[FloatingPointRange(from_value=0.0, to_value=1.0)]))
        self._planner = self._make_planner(self.get_parameter('engine').value,
                                           self.get_parameter('timeout_s').value,
                                           self.get_parameter('plan_form').value)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self._lock = threading.Lock()
        self._state: Optional[SymbolicState] = None
        self._goal_raw: Optional[str] = None
        self._pending = False   # a goal waits for the first known state
        self._requests = 0
        io_group = MutuallyExclusiveCallbackGroup()
        work_group = ReentrantCallbackGroup()
        self._pub = self.create_publisher(String, 'plan', 10)
        self.create_subscription(String, 'symbolic_state', self._on_state, 10,
                                 callback_group=io_group)
        self.create_subscription(String, 'goal', self._on_goal, 10, callback_group=work_group)
        self.create_service(Trigger, '~/plan', self._on_plan_srv, callback_group=work_group)
        self.get_logger().info('planner ready: engine=%s form=%s timeout=%.1fs'
                               % (self._planner.engine, self._planner.form,
                                  self._planner.timeout_s))

    # ----------------------------------------------------------------- parameters
    def _make_planner(self, engine: str, timeout_s: float, form: str) -> Planner:
        try:
            return Planner(engine, timeout_s, form)
        except ValidationError as exc:
            raise ConfigError('bad parameter: %s' % exc) from None

    def _on_set_parameters(self, params: Any) -> SetParametersResult:
        values = {p.name: p.value for p in params}
        engine = values.get('engine', self._planner.engine)
        timeout_s = values.get('timeout_s', self._planner.timeout_s)
        form = values.get('plan_form', self._planner.form)
        try:
            planner = Planner(engine, timeout_s, form)
        except ValidationError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        self._planner = planner
        return SetParametersResult(successful=True)

    # ----------------------------------------------------------------- inputs
    def _on_state(self, msg: String) -> None:
        try:
            state = SymbolicState.from_json(msg.data)
            if state.num_pegs != self.get_parameter('num_pegs').value:
                raise ValidationError('state has %d pegs, this planner is set for %d'
                                      % (state.num_pegs, self.get_parameter('num_pegs').value))
        except NsvlaError as exc:
            self.get_logger().warning('dropped symbolic_state: %s' % exc,
                                      throttle_duration_sec=2.0)
            return
        with self._lock:
            self._state = state
            pending = self._pending and state.known
            if pending:
                self._pending = False
        if pending:
            self.get_logger().info('first known symbolic_state: planning for the waiting goal')
            self._plan_and_publish()

    def _on_goal(self, msg: String) -> None:
        with self._lock:
            self._goal_raw = msg.data
            state = self._state
        self.get_logger().info('goal received: %s' % msg.data[:200])
        if state is None or not state.known:
            with self._lock:
                self._pending = bool(self.get_parameter('plan_on_goal').value)
            self.get_logger().info('no known symbolic_state yet: will plan %s'
                                   % ('when one arrives' if self._pending else 'on request'))
            return
        try:
            self._parse_goal(msg.data, state)
        except NsvlaError as exc:
            self.get_logger().error('goal refused: %s' % exc)
            self._publish(PlanResult(exc.status, [], self._planner.engine, 0.0, reason=str(exc),
                                     form=self._planner.form), None, state)
            return
        if self.get_parameter('plan_on_goal').value:
            self._plan_and_publish()

    def _parse_goal(self, raw: str, state: SymbolicState) -> Goal:
        if raw.lstrip().startswith('{'):
            goal = Goal.from_json(raw, state.num_blocks, state.num_pegs)
        else:
            colours = colours_from_scene(self.get_parameter('scene_config').value,
                                         state.num_blocks, missing_ok=True)
            goal = parse_instruction(raw, state.num_blocks, state.num_pegs, colours)
        goal.check_against(state)
        return goal

    # ----------------------------------------------------------------- planning
    def _plan_and_publish(self) -> Dict[str, Any]:
        with self._lock:
            state, raw = self._state, self._goal_raw
        goal = None
        try:
            if state is None:
                raise ValidationError('no symbolic_state received yet')
            if not state.known:
                raise ValidationError('the latest symbolic_state is unknown: %s' % state.reason)
            floor = self.get_parameter('min_confidence').value
            if state.min_confidence() < floor:
                raise ValidationError('the latest symbolic_state is not confident enough '
                                      '(%.2f < %.2f)' % (state.min_confidence(), floor))
            if raw is None:
                raise ValidationError('no goal received yet')
            goal = self._parse_goal(raw, state)
            result = self._planner.plan(state, goal)
        except NsvlaError as exc:
            result = PlanResult(exc.status, [], self._planner.engine, 0.0, reason=str(exc),
                                form=self._planner.form)
        except Exception as exc:  # noqa: BLE001 - a planner bug must not take the node down
            self.get_logger().error('planning raised %s: %s' % (type(exc).__name__, exc))
            result = PlanResult('error', [], self._planner.engine, 0.0,
                                reason='internal error: %s: %s' % (type(exc).__name__, exc),
                                form=self._planner.form)
        return self._publish(result, goal, state)

    def _publish(self, result: PlanResult, goal: Optional[Goal],
                 state: Optional[SymbolicState]) -> Dict[str, Any]:
        self._requests += 1
        body = result.to_dict()
        body['request_id'] = self._requests
        body['goal'] = goal.to_dict() if goal else None
        body['state'] = state.to_dict() if state and state.known else None
        if state and state.known and result.ok:
            body['optimal_tower_moves'] = domain.optimal_tower_moves(state.num_blocks)
        data = envelope.make(PLAN_SCHEMA, body)
        self._pub.publish(String(data=envelope.dumps(data)))
        if result.ok:
            self.get_logger().info('plan #%d: %d moves by %s in %.2f s'
                                   % (self._requests, result.moves, result.engine,
                                      result.seconds))
        else:
            self.get_logger().warning('plan #%d failed (%s): %s'
                                      % (self._requests, result.status, result.reason))
        return data

    def _on_plan_srv(self, request: Trigger.Request, response: Trigger.Response) -> Any:
        data = self._plan_and_publish()
        response.success = data['status'] == 'solved'
        response.message = envelope.dumps(data)
        return response


def main(args: Any = None) -> int:
    """Run the planner node until Ctrl-C; exit 2 when its parameters are refused."""
    return run_node(PlannerNode, 'planner', args, threads=3)


if __name__ == '__main__':
    sys.exit(main())
