# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Closed-loop execution of a plan: execute a move, look, compare, replan on a surprise.

:func:`run_episode` is the executor's logic without ROS. It needs a *robot* that can execute
one block move and observe the symbolic state, and a *planner* function. After every move it
compares the observed state with the one the domain rules predict; on a mismatch (a dropped
block, a failed grasp, a block someone moved) it asks the planner for a new plan from what it
observed, at most ``max_replans`` times. Every event goes to ``status`` as a JSON-ready dict
(schema ``nsvla/execution_status/1``): ``episode_start``, ``step_start`` (with the expected
effects), ``step_end`` (result, timings, ``staged``), ``recover`` (a move that did only its
first step for a loose ring, as meant: see :class:`Robot`), ``replan`` (why), ``episode_end``
(solved or not and why).

Giving up: when more than ``max_stalled_replans`` replans in a row give a plan that is not
shorter, or past the replan budget, which grows with the first plan. A recovery counts toward
neither.
"""

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Protocol, Tuple

from nsvla_common import envelope
from nsvla_common.errors import NsvlaError
from nsvla_planner import domain
from nsvla_planner.planning import PlanResult
from nsvla_planner.state import Goal, SymbolicState
from nsvla_control.skills import HAND, steps_to_moves

STATUS_SCHEMA = 'execution_status'


class Robot(Protocol):
    """What the episode runner needs from an arm + a way of seeing the blocks."""

    def execute_move(self, state: SymbolicState, block: str, onto: str) -> Tuple[bool, str]:
        """Move ``block`` onto ``onto``; return (motion finished as commanded, reason)."""

    def observe(self) -> SymbolicState:
        """Return the current symbolic state (possibly unknown, with a reason)."""

    # Optional: ``staged(observed) -> str``. After a move that did only a deliberate first
    # step (a loose ring set down or pushed over so it can be grasped flat), the name of
    # that step when ``observed`` shows it done; '' otherwise. Such a step leaves the plan
    # as long as it was, and it is not counted as a replan without progress.


PlanFn = Callable[[SymbolicState, Goal], PlanResult]
StatusFn = Callable[[Dict[str, Any]], None]


@dataclass
class EpisodeConfig:
    """Bounds of one episode."""

    max_replans: int = 3            # replans always allowed
    max_moves: int = 2000
    observe_retries: int = 3
    replans_per_move: float = 0.0   # + this many per move of the first plan
    max_stalled_replans: int = 1000  # replans in a row whose plan is not shorter: give up

    def replan_budget(self, first_plan_moves: int) -> int:
        """Replans allowed in an episode whose first plan has ``first_plan_moves`` moves."""
        return max(self.max_replans, int(math.ceil(self.replans_per_move * first_plan_moves)))


@dataclass
class EpisodeResult:
    """Outcome of one episode."""

    episode_id: str
    solved: bool
    reason: str
    moves: int = 0
    replans: int = 0
    recoveries: int = 0
    planned_moves: int = 0
    optimal_moves: Optional[int] = None
    wall_s: float = 0.0
    plan_seconds: float = 0.0
    steps: List[Dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def _observe(robot: Robot, tries: int) -> SymbolicState:
    """Look up to ``tries`` times; between unknown looks the arm leaves the view if it can."""
    state = robot.observe()
    for _ in range(tries - 1):
        if state.known:
            break
        clear_view = getattr(robot, 'clear_view', None)
        if clear_view is not None:
            clear_view()      # the arm may be what hides the blocks
        state = robot.observe()
    return state


def run_episode(robot: Robot, plan_fn: PlanFn, goal: Goal, episode_id: str = 'episode',
                status: Optional[StatusFn] = None, config: EpisodeConfig = EpisodeConfig(),
                initial_plan: Optional[PlanResult] = None,
                cancelled: Callable[[], bool] = lambda: False) -> EpisodeResult:
    """Execute ``goal`` closed-loop; never raises for robot, planner or perception failures."""
    t0 = time.monotonic()
    emit = status or (lambda _event: None)
    result = EpisodeResult(episode_id, False, '')

    def event(kind: str, **body: Any) -> None:
        body.update({'episode_id': episode_id, 'event': kind})
        emit(envelope.make(STATUS_SCHEMA, body))

    def finish(solved: bool, reason: str) -> EpisodeResult:
        result.solved, result.reason = solved, reason
        result.wall_s = time.monotonic() - t0
        event('episode_end', result='solved' if solved else 'failed', reason=reason,
              moves=result.moves, replans=result.replans, recoveries=result.recoveries,
              wall_s=result.wall_s,
              optimal_moves=result.optimal_moves)
        return result

    state = _observe(robot, config.observe_retries)
    event('episode_start', goal=goal.to_dict(), state=state.to_dict())
    if not state.known:
        return finish(False, 'cannot see the start state: %s' % state.reason)
    plan = initial_plan
    if plan is not None and plan.ok:
        try:   # a plan made for another state than the one we see is planned again
            usable = goal.satisfied_by(domain.replay(state, plan.plan))
        except NsvlaError:
            usable = False
        if not usable:
            plan = None
    if plan is None or not plan.ok:
        plan = plan_fn(state, goal)
        result.plan_seconds += plan.seconds
    if plan.ok:
        result.optimal_moves = plan.moves
    budget = config.replan_budget(plan.moves if plan.ok else 0)
    last_plan_moves = plan.moves if plan.ok else None
    stalled = 0
    staged_fn = getattr(robot, 'staged', None)
    while True:
        staged = ''           # the interrupted move did only its first step, as meant
        if not plan.ok:
            return finish(False, 'no plan (%s): %s' % (plan.status, plan.reason))
        try:
            moves = steps_to_moves(plan.plan)
        except NsvlaError as exc:
            return finish(False, 'unusable plan: %s' % exc)
        result.planned_moves += len(moves)
        surprise = ''
        for block, _src, onto in moves:
            if cancelled():
                return finish(False, 'cancelled')
            if result.moves >= config.max_moves:
                return finish(False, 'move budget of %d exhausted' % config.max_moves)
            if _src == HAND:
                step = {'action': 'place', 'args': [block, onto]}
            elif state.loose.get(block) == _src:
                step = {'action': 'move_loose', 'args': [block, _src, onto]}
            else:
                step = {'action': 'move', 'args': [block, _src, onto]}
            try:
                expected = domain.apply(state, step)
            except NsvlaError as exc:
                surprise = 'plan step %s does not apply to the observed state: %s' % (
                    step['args'], exc)
                break
            index = result.moves
            event('step_start', step=index, action=step, expected=expected.stacks())
            ts = time.monotonic()
            ok, why = robot.execute_move(state, block, onto)
            observed = _observe(robot, config.observe_retries)
            if observed.known and observed != expected:
                # one more look before calling it a surprise: a block still settling (or
                # still between the opening fingers) is not a reason to replan
                observed = _observe(robot, config.observe_retries)
            looks = 0
            while observed.known and observed.holding and looks < config.observe_retries:
                # every move ends with the gripper open: a block still "in the hand" is
                # falling, and no plan may start from it
                looks += 1
                observed = _observe(robot, config.observe_retries)
            result.moves += 1
            match = observed.known and observed == expected
            if not match and observed.known and staged_fn is not None:
                staged = staged_fn(observed)
            record = {'step': index, 'action': step, 'motion_ok': ok, 'motion_reason': why,
                      'staged': staged, 'expected': expected.stacks(),
                      'observed': observed.stacks() if observed.known else None,
                      'result': 'ok' if match else 'mismatch', 'seconds': time.monotonic() - ts}
            result.steps.append(record)
            event('step_end', **record)
            if not observed.known and cancelled():
                return finish(False, 'cancelled')
            if not observed.known:
                return finish(False, 'lost sight of the blocks after step %d: %s'
                              % (index, observed.reason))
            state = observed
            if not match:
                surprise = ('after %s the world is %s, expected %s%s'
                            % (step['args'], observed.stacks(), expected.stacks(),
                               '' if ok else ' (motion: %s)' % why))
                break
        if not surprise:
            if goal.satisfied_by(state):
                return finish(True, 'goal reached')
            surprise = 'plan finished but the goal does not hold in %s' % state.stacks()
        if staged:
            # not a surprise: the executor's own first step for a loose ring, done. Bounded
            # without the budgets: a ring is set down or pushed over again only after a
            # grasp of it failed, which counts
            result.recoveries += 1
            event('recover', recoveries=result.recoveries, reason=surprise,
                  state=state.to_dict())
        elif result.replans - result.recoveries >= budget:
            return finish(False, 'gave up after %d replans (the budget of this plan): %s'
                          % (result.replans - result.recoveries, surprise))
        result.replans += 1
        event('replan', replan=result.replans, reason=surprise, state=state.to_dict())
        plan = plan_fn(state, goal)
        result.plan_seconds += plan.seconds
        if plan.ok:
            # progress: the new plan is shorter than the one the last surprise interrupted
            # (the moves done since count); a first step done as meant is neither progress
            # nor a stall. Judged on the new plan, so that moves done after a run of stalled
            # replans are not forgotten (5 blocks with slips, seed 20036: ten moves done, then
            # one slip ended the episode as "5 replans in a row made no progress")
            if last_plan_moves is None or plan.moves < last_plan_moves:
                stalled = 0
            elif not staged:
                stalled += 1
            last_plan_moves = plan.moves
            if stalled > config.max_stalled_replans:
                return finish(False, 'gave up: %d replans in a row made no progress: %s'
                              % (stalled, surprise))
