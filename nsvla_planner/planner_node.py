# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Planner node: a goal (words or facts) + a state -> a validated plan. Planning never moves.

Serves the ``plan_task`` action (nsvla_interfaces/PlanTask: cancellable, feedback per stage)
and the ``~/get_plan`` service (nsvla_interfaces/GetPlan: the same answer, no side effects at
all). Both plan from the request's ``start`` state when it has one, else from the latest fresh
``symbolic_state`` (waiting up to ``state_timeout_s`` for the first). Every ``plan_task`` result
is also published on ``plan`` (nsvla_interfaces/Plan) for bags and people watching; nothing
acts on it. Requests beyond ``max_concurrent`` are answered at once with status ``busy`` and
the reason; bad input of any kind is answered with the reason, logged and counted, never fatal.
"""

import sys
import threading
import time
from typing import Any, Callable, Optional, Tuple

from rcl_interfaces.msg import SetParametersResult
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.node import Node
from rclpy.qos import QoSProfile

from nsvla_common.errors import ConfigError, NsvlaError, ValidationError
from nsvla_common.params import declare, Param
from nsvla_common.qos import alive_qos
from nsvla_common.spin import run_node
from nsvla_interfaces.action import PlanTask
from nsvla_interfaces.msg import Plan as PlanMsg, SymbolicState as StateMsg
from nsvla_interfaces.srv import GetPlan
from nsvla_planner import domain, messages
from nsvla_planner.language import describe_goal, parse_instruction
from nsvla_planner.planning import ENGINES, Planner, PlanResult
from nsvla_planner.scene_words import colours_from_scene
from nsvla_planner.state import Goal, SymbolicState

# finished goals' results are kept this long for clients that ask late (rclpy keeps 10 s)
RESULT_KEEP_S = 900
THREADS = 5

PARAMETERS = (
    Param('engine', 'fast-downward', 'unified-planning engine', choices=tuple(sorted(ENGINES))),
    Param('timeout_s', 30.0, 'wall-clock bound per plan, seconds', 0.1, 3600.0),
    Param('num_pegs', 3, 'pegs in the scene; a state with another count is refused', 3, 9),
    Param('plan_form', 'pick_place',
          'plan form: pick_place (pick + place actions) or move (one action per move)',
          choices=domain.FORMS),
    Param('scene_config', 'scene_default.yaml',
          'scene YAML giving block colour names for instructions', read_only=True),
    Param('min_confidence', 0.5,
          'refuse to plan from a state whose least confident fact is below this', 0.0, 1.0),
    Param('state_timeout_s', 10.0,
          'seconds a request without a start state waits for the first known symbolic_state',
          0.0, 600.0),
    Param('max_concurrent', THREADS - 2,
          'requests planned or waiting at once; more are answered busy', 1, THREADS - 2,
          read_only=True),
    Param('warm_up', True,
          'plan a 2-block tower once at start-up, so that the first request does not pay the '
          'engine\'s one-time start (about 1 CPU second with fast-downward)', read_only=True),
)


class PlannerNode(Node):
    """Thin ROS 2 wrapper around :class:`nsvla_planner.planning.Planner`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('planner', **kwargs)
        self.params = declare(self, PARAMETERS)
        self._planner = self._make_planner(self.params['engine'], self.params['timeout_s'],
                                           self.params['plan_form'])
        if self.params['warm_up']:     # before serving: a client that sees us is answered fast
            self._warm_up()
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self._lock = threading.Lock()
        self._state_cond = threading.Condition(self._lock)
        self._state: Optional[SymbolicState] = None
        self._active = 0
        self.requests = 0
        self.rejected_states = 0
        io_group = MutuallyExclusiveCallbackGroup()
        work_group = ReentrantCallbackGroup()
        deep = QoSProfile(depth=100)
        # short liveliness lease: a client hears within seconds when this process is gone
        self._pub = self.create_publisher(PlanMsg, 'plan', alive_qos(10))
        self.create_subscription(StateMsg, 'symbolic_state', self._on_state, 10,
                                 callback_group=io_group)
        self.create_service(GetPlan, '~/get_plan', self._on_get_plan, qos_profile=deep,
                            callback_group=work_group)
        self._server = ActionServer(
            self, PlanTask, 'plan_task', execute_callback=self._on_plan_task,
            goal_callback=lambda _req: GoalResponse.ACCEPT,
            cancel_callback=lambda _handle: CancelResponse.ACCEPT, callback_group=work_group,
            goal_service_qos_profile=deep, result_service_qos_profile=deep,
            cancel_service_qos_profile=deep,
            result_timeout=RESULT_KEEP_S)
        self.get_logger().info('planner ready: engine=%s form=%s timeout=%.1fs; serving '
                               'plan_task and ~/get_plan'
                               % (self._planner.engine, self._planner.form,
                                  self._planner.timeout_s))

    def _warm_up(self) -> None:
        """Plan once now: the engine's imports and first start are paid at start-up."""
        pegs = self.params['num_pegs']
        try:
            result = self._planner.plan(SymbolicState.tower(2, pegs), Goal.tower(2, pegs))
        except Exception as exc:  # noqa: BLE001 - a request will report what is wrong
            self.get_logger().warning('warm-up plan raised %s: %s' % (type(exc).__name__, exc))
            return
        if not result.ok:
            self.get_logger().warning('warm-up plan failed: %s: %s'
                                      % (result.status, result.reason))

    # ----------------------------------------------------------------- parameters
    def _make_planner(self, engine: str, timeout_s: float, form: str) -> Planner:
        try:
            return Planner(engine, timeout_s, form)
        except ValidationError as exc:
            raise ConfigError('bad parameter: %s' % exc) from None

    def _on_set_parameters(self, params: Any) -> SetParametersResult:
        values = {p.name: p.value for p in params}
        try:
            checked = {p.name: p.check(values[p.name]) for p in PARAMETERS
                       if p.name in values}
            planner = Planner(checked.get('engine', self._planner.engine),
                              checked.get('timeout_s', self._planner.timeout_s),
                              checked.get('plan_form', self._planner.form))
        except NsvlaError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        self.params.update(checked)
        self._planner = planner
        return SetParametersResult(successful=True)

    # ----------------------------------------------------------------- inputs
    def _on_state(self, msg: StateMsg) -> None:
        try:
            if msg.remembered:
                return    # not an observation: keep planning from the last fresh one
            state = messages.state_from_msg(msg)
            if state.num_pegs != self.params['num_pegs']:
                raise ValidationError('state has %d pegs, this planner is set for %d'
                                      % (state.num_pegs, self.params['num_pegs']))
        except Exception as exc:  # noqa: BLE001 - outside input: count, log, stay up
            self.rejected_states += 1
            self.get_logger().warning('dropped symbolic_state (%d so far): %s'
                                      % (self.rejected_states, exc),
                                      throttle_duration_sec=2.0)
            return
        with self._state_cond:
            self._state = state
            self._state_cond.notify_all()

    # ----------------------------------------------------------------- planning
    def _start_state(self, start: Any, cancelled: Callable[[], bool]) -> SymbolicState:
        if start:
            return messages.state_from_msg(start[0])
        end = time.monotonic() + self.params['state_timeout_s']
        with self._state_cond:
            while (self._state is None or not self._state.known) and not cancelled() \
                    and self.context.ok():
                left = end - time.monotonic()
                if left <= 0:
                    break
                self._state_cond.wait(min(0.2, left))
            state = self._state
        if state is None:
            raise ValidationError('no symbolic_state received within %.1f s'
                                  % self.params['state_timeout_s'])
        return state

    def _goal(self, instruction: str, goal: Any, state: SymbolicState) -> Goal:
        if goal:
            out = messages.goal_from_msg(goal[0], state.num_blocks, state.num_pegs)
        elif instruction.strip():
            colours = colours_from_scene(self.params['scene_config'], state.num_blocks,
                                         missing_ok=True)
            out = parse_instruction(instruction, state.num_blocks, state.num_pegs, colours,
                                    state)
            self.get_logger().info('instruction %r understood as: %s'
                                   % (instruction, describe_goal(out, colours)))
        else:
            raise ValidationError('the request has neither an instruction nor goal facts')
        out.check_against(state)
        return out

    def solve(self, instruction: str, goal_msgs: Any, start: Any,
              cancelled: Callable[[], bool] = lambda: False
              ) -> Tuple[PlanResult, Optional[Goal], Optional[SymbolicState]]:
        """Answer one request; never raises (the result's status and reason say what failed)."""
        planner = self._planner
        with self._lock:
            busy = self._active >= self.params['max_concurrent']
            if not busy:
                self._active += 1
                self.requests += 1
        if busy:
            return PlanResult('busy', [], planner.engine, 0.0, form=planner.form,
                              reason='%d requests are being planned: try again shortly'
                              % self.params['max_concurrent']), None, None
        goal = state = None
        try:
            if len(goal_msgs) > 1 or len(start) > 1:
                raise ValidationError('at most one goal and one start state per request')
            state = self._start_state(start, cancelled)
            if not state.known:
                raise ValidationError('the state is unknown: %s' % state.reason)
            floor = self.params['min_confidence']
            if state.min_confidence() < floor:
                raise ValidationError('the state is not confident enough (%.2f < %.2f)'
                                      % (state.min_confidence(), floor))
            goal = self._goal(str(instruction), goal_msgs, state)
            result = planner.plan(state, goal, cancelled)
        except NsvlaError as exc:
            result = PlanResult(exc.status, [], planner.engine, 0.0, reason=str(exc),
                                form=planner.form)
        except Exception as exc:  # noqa: BLE001 - bad input or a bug: answer, stay up
            self.get_logger().error('planning raised %s: %s' % (type(exc).__name__, exc))
            result = PlanResult('error', [], planner.engine, 0.0, form=planner.form,
                                reason='internal error: %s: %s' % (type(exc).__name__, exc))
        finally:
            with self._lock:
                self._active -= 1
        return result, goal, state if state is not None and state.known else None

    def _plan_msg(self, result: PlanResult, goal: Optional[Goal],
                  state: Optional[SymbolicState]) -> PlanMsg:
        tower = domain.optimal_tower_moves(state.num_blocks) if state and result.ok else 0
        return messages.plan_to_msg(result, goal, state, tower)

    def _log(self, kind: str, result: PlanResult) -> None:
        if result.ok:
            self.get_logger().info('%s: %d moves by %s in %.2f s'
                                   % (kind, result.moves, result.engine, result.seconds))
        else:
            self.get_logger().warning('%s: %s: %s' % (kind, result.status, result.reason))

    def _on_get_plan(self, request: GetPlan.Request, response: GetPlan.Response) -> Any:
        result, goal, state = self.solve(request.instruction, request.goal, request.start)
        self._log('get_plan', result)
        response.plan = self._plan_msg(result, goal, state)
        return response

    def _on_plan_task(self, goal_handle: Any) -> Any:
        t0 = time.monotonic()

        def cancelled() -> bool:
            return goal_handle.is_cancel_requested

        goal_handle.publish_feedback(PlanTask.Feedback(stage='planning', elapsed_s=0.0))
        req = goal_handle.request
        result, goal, state = self.solve(req.instruction, req.goal, req.start, cancelled)
        self._log('plan_task', result)
        msg = self._plan_msg(result, goal, state)
        goal_handle.publish_feedback(PlanTask.Feedback(stage='done',
                                                       elapsed_s=time.monotonic() - t0))
        if result.status == 'cancelled' or goal_handle.is_cancel_requested:
            goal_handle.canceled()
        elif result.ok:
            goal_handle.succeed()
        else:
            goal_handle.abort()
        self._pub.publish(msg)
        return PlanTask.Result(plan=msg)


def main(args: Any = None) -> int:
    """Run the planner node until Ctrl-C; exit 2 when its parameters are refused."""
    return run_node(PlannerNode, 'planner', args, threads=THREADS)


if __name__ == '__main__':
    sys.exit(main())
