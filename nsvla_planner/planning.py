# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Planning with unified-planning: build the problem, run a named engine, validate the plan.

The engine is always named (never "whatever is installed"); see :data:`ENGINES`. Every engine
runs under a wall-clock bound: subprocess engines get unified-planning's ``timeout`` and a
watchdog thread; in-process engines (pyperplan) run in a separate process that is killed when
the bound passes. Every plan is checked by unified-planning's sequential plan validator and
replayed through :mod:`nsvla_planner.domain` before it is returned.
"""

import multiprocessing
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Set, Tuple

from nsvla_common.errors import (NsvlaError, PlanningCancelled, PlanningError, PlanningTimeout,
                                 UnsolvableError, ValidationError)
from nsvla_planner import domain
from nsvla_planner.state import Goal, SymbolicState, TABLE

PLAN_SCHEMA = 'plan'
# unified-planning's global environment (expression manager, factory) is not thread-safe: two
# threads building problems at once fail with "Expression has a different environment".
_UP_LOCK = threading.RLock()
Cancelled = Callable[[], bool]


@dataclass(frozen=True)
class EngineSpec:
    """How to call one unified-planning engine."""

    up_name: str
    params: Dict[str, Any] = field(default_factory=dict)
    optimal: bool = False
    in_process: bool = False
    note: str = ''


ENGINES: Dict[str, EngineSpec] = {
    'fast-downward': EngineSpec('fast-downward', {'fast_downward_search_config': 'astar(blind())'},
                                optimal=True, note='A* with the blind heuristic (default)'),
    'fast-downward-opt': EngineSpec('fast-downward-opt', optimal=True, note='A* with LM-cut'),
    'fast-downward-lama': EngineSpec('fast-downward', {'fast_downward_alias': 'lama-first'},
                                     note='LAMA first solution: fast, not optimal'),
    'symk-opt': EngineSpec('symk-opt', optimal=True, note='symbolic search, optimal'),
    'enhsp': EngineSpec('enhsp', note='ENHSP (needs Java)'),
    'pyperplan': EngineSpec('pyperplan', in_process=True,
                            note='pure Python, small n only; STRIPS: not with loose blocks'),
    'pyperplan-opt': EngineSpec('pyperplan-opt', optimal=True, in_process=True,
                                note='pure Python BFS-like, small n only'),
}
DEFAULT_ENGINE = 'fast-downward'


@dataclass
class PlanResult:
    """What a planning request returns, success or not; ``to_dict`` is the wire format."""

    status: str
    plan: List[Dict[str, Any]]
    engine: str
    seconds: float
    reason: str = ''
    form: str = 'pick_place'
    optimal: bool = False
    moves: int = 0
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 'solved'

    def to_dict(self) -> Dict[str, Any]:
        out = {'status': self.status, 'plan': self.plan, 'engine': self.engine,
               'seconds': round(self.seconds, 6), 'reason': self.reason, 'form': self.form,
               'optimal': self.optimal, 'moves': self.moves}
        out.update(self.extra)
        return out


# ----------------------------------------------------------------------------- problem model
def build_problem(state: SymbolicState, goal: Goal, form: str = 'pick_place') -> Any:
    """Return the unified-planning Problem for ``state`` -> ``goal`` in the given plan form."""
    from unified_planning.shortcuts import (And, BoolType, Forall, InstantaneousAction, Not,
                                            Object, Problem, UserType, Variable)
    if form not in domain.FORMS:
        raise ValidationError('plan form must be one of %s, got %r' % (domain.FORMS, form))
    if not state.known:
        raise ValidationError('cannot plan from an unknown state: %s' % state.reason)
    goal.check_against(state)
    place_t = UserType('location')
    block_t = UserType('block', place_t)
    peg_t = UserType('peg', place_t)
    from unified_planning.model import Fluent
    on = Fluent('on', BoolType(), x=block_t, y=place_t)
    clear = Fluent('clear', BoolType(), x=place_t)
    smaller = Fluent('smaller', BoolType(), x=block_t, y=place_t)
    holding = Fluent('holding', BoolType(), x=block_t)
    hand_empty = Fluent('hand_empty', BoolType())
    loose = Fluent('loose', BoolType(), x=block_t, y=place_t)
    problem = Problem('hanoi_%d_%d' % (state.num_blocks, state.num_pegs))
    fluents = [on, clear, smaller, holding, hand_empty]
    if state.loose:     # the loose actions exist only when a block is loose: same plans else
        fluents.append(loose)
    for f in fluents:
        problem.add_fluent(f, default_initial_value=False)
    # Loose blocks go back first: nothing on a peg is picked while one lies about (it may be
    # in the fingers' way, and the arm could knock it). A quantified precondition, so only
    # when a block is loose: the tower problem stays STRIPS (pyperplan) and 2^n - 1.
    tidy = []
    if state.loose:
        z, w = Variable('z', block_t), Variable('w', place_t)
        tidy.append(Forall(Not(loose(z, w)), z, w))
    if form == 'pick_place':
        pick = InstantaneousAction('pick', x=block_t, y=place_t)
        x, y = pick.parameters
        pick.add_precondition(And(on(x, y), clear(x), hand_empty(), *tidy))
        pick.add_effect(holding(x), True)
        pick.add_effect(clear(y), True)
        pick.add_effect(on(x, y), False)
        pick.add_effect(clear(x), False)
        pick.add_effect(hand_empty(), False)
        place = InstantaneousAction('place', x=block_t, y=place_t)
        x, y = place.parameters
        place.add_precondition(And(holding(x), clear(y), smaller(x, y)))
        place.add_effect(on(x, y), True)
        place.add_effect(clear(x), True)
        place.add_effect(hand_empty(), True)
        place.add_effect(holding(x), False)
        place.add_effect(clear(y), False)
        problem.add_actions([pick, place])
        if state.loose:
            # a loose block (off the pegs, on the table or resting where it must not) is taken
            # into the hand from where it lies; the ordinary place puts it on a peg
            pick_loose = InstantaneousAction('pick_loose', x=block_t, y=place_t)
            x, y = pick_loose.parameters
            pick_loose.add_precondition(And(loose(x, y), hand_empty()))
            pick_loose.add_effect(holding(x), True)
            pick_loose.add_effect(clear(y), True)
            pick_loose.add_effect(loose(x, y), False)
            pick_loose.add_effect(hand_empty(), False)
            problem.add_action(pick_loose)
    else:
        move = InstantaneousAction('move', x=block_t, f=place_t, t=place_t)
        x, f, t = move.parameters
        # t == f cannot happen: on(x, f) makes f not clear. No negative precondition is
        # needed, so STRIPS-only engines (pyperplan) accept the move form too.
        move.add_precondition(And(on(x, f), clear(x), clear(t), smaller(x, t), hand_empty(),
                                  *tidy))
        move.add_effect(on(x, t), True)
        move.add_effect(clear(f), True)
        move.add_effect(on(x, f), False)
        move.add_effect(clear(t), False)
        problem.add_action(move)
        if state.loose:
            move_loose = InstantaneousAction('move_loose', x=block_t, f=place_t, t=place_t)
            x, f, t = move_loose.parameters
            move_loose.add_precondition(And(loose(x, f), clear(t), smaller(x, t),
                                            hand_empty()))
            move_loose.add_effect(on(x, t), True)
            move_loose.add_effect(clear(x), True)
            move_loose.add_effect(clear(f), True)
            move_loose.add_effect(loose(x, f), False)
            move_loose.add_effect(clear(t), False)
            problem.add_action(move_loose)
    objs = {b: Object(b, block_t) for b in state.blocks()}
    objs.update({p: Object(p, peg_t) for p in state.pegs()})
    if any(v == TABLE for v in state.loose.values()):
        objs[TABLE] = Object(TABLE, place_t)   # a place, but no block is smaller than it
    problem.add_objects(list(objs.values()))
    for b in state.blocks():
        for y in state.blocks() + state.pegs():
            if domain.smaller(b, y):
                problem.set_initial_value(smaller(objs[b], objs[y]), True)
    names = {'on': on, 'clear': clear, 'holding': holding, 'hand_empty': hand_empty,
             'loose': loose}
    for pred, args in state.fact_keys():
        fl = names[pred]
        problem.set_initial_value(fl(*[objs[a] for a in args]), True)
    for pred, args in goal.facts:
        fl = names[pred]
        problem.add_goal(fl(*[objs[a] for a in args]))
    return problem


def plan_to_steps(up_plan: Any) -> List[Dict[str, Any]]:
    """Turn a unified-planning SequentialPlan into ``[{"action": ..., "args": [...]}, ...]``."""
    return [{'action': ai.action.name, 'args': [str(p) for p in ai.actual_parameters]}
            for ai in up_plan.actions]


def steps_to_plan(problem: Any, steps: List[Dict[str, Any]]) -> Any:
    """Turn ``[{"action", "args"}]`` into a unified-planning SequentialPlan over ``problem``."""
    from unified_planning.plans import ActionInstance, SequentialPlan
    try:
        return SequentialPlan([ActionInstance(problem.action(s['action']),
                                              [problem.object(a) for a in s['args']])
                               for s in steps])
    except Exception as exc:  # noqa: BLE001 - unified-planning raises several kinds here
        raise PlanningError('plan does not fit the problem: %s' % exc) from None


def validate_up(problem: Any, steps: List[Dict[str, Any]]) -> Tuple[bool, str]:
    """Check a plan with unified-planning's sequential plan validator."""
    from unified_planning.engines import ValidationResultStatus
    from unified_planning.shortcuts import PlanValidator
    plan = steps_to_plan(problem, steps)
    with PlanValidator(name='sequential_plan_validator') as validator:
        res = validator.validate(problem, plan)
    ok = res.status == ValidationResultStatus.VALID
    return ok, '' if ok else str(res.reason or res.log_messages)


# ----------------------------------------------------------------------------- engines
def _private_sas_file(engine: Any) -> None:
    """
    Make Fast Downward-based engines write their ``output.sas`` next to the plan file.

    By default the translator writes ``output.sas`` in the current directory, so two planners
    started from one folder (two nodes, a node and a benchmark) overwrite each other's task and
    return plans for the wrong problem. unified-planning puts the plan file in a private
    temporary folder; the SAS file goes there too.
    """
    base = getattr(engine, '_base_cmd', None)
    if base is None:
        return

    def base_cmd(plan_filename: str) -> List[str]:
        cmd = base(plan_filename)
        sas = os.path.join(os.path.dirname(plan_filename), 'output.sas')
        return cmd[:2] + ['--sas-file', sas] + cmd[2:]

    engine._base_cmd = base_cmd


def _solve_up(problem: Any, spec: EngineSpec, timeout_s: float) -> Tuple[str, List[Dict]]:
    """Run a unified-planning engine; return (status word, steps)."""
    import unified_planning.shortcuts as ups
    from unified_planning.engines import PlanGenerationResultStatus as S
    ups.get_environment().credits_stream = None
    with ups.OneshotPlanner(name=spec.up_name, params=dict(spec.params)) as planner:
        planner.error_on_failed_checks = False
        _private_sas_file(planner)
        kwargs = {} if spec.in_process else {'timeout': float(timeout_s)}
        res = planner.solve(problem, **kwargs)
    if res.status in (S.SOLVED_SATISFICING, S.SOLVED_OPTIMALLY):
        return 'solved', plan_to_steps(res.plan)
    if res.status in (S.UNSOLVABLE_PROVEN, S.UNSOLVABLE_INCOMPLETELY):
        return 'unsolvable', []
    if res.status == S.TIMEOUT:
        return 'timeout', []
    logs = ' '.join(str(m.message) for m in (res.log_messages or []))[-400:]
    return 'error', [{'reason': '%s %s' % (res.status.name, logs)}]


def _child_solve(state_json: str, goal_json: str, form: str, engine: str, out: Any) -> None:
    """Process entry point for in-process engines: rebuild the problem and solve it."""
    try:
        state = SymbolicState.from_json(state_json)
        goal = Goal.from_json(goal_json, state.num_blocks, state.num_pegs)
        problem = build_problem(state, goal, form)
        out.put(_solve_up(problem, ENGINES[engine], 0.0))
    except Exception as exc:  # noqa: BLE001 - report anything to the parent
        out.put(('error', [{'reason': '%s: %s' % (type(exc).__name__, exc)}]))


def _children() -> Set[int]:
    try:
        import psutil
        return {c.pid for c in psutil.Process().children(recursive=True)}
    except Exception:  # noqa: BLE001 - no psutil / process gone: nothing to stop
        return set()


def _kill(pids: Set[int]) -> None:
    """Kill the engine processes ``pids`` (started for the plan being cancelled)."""
    import psutil
    for pid in pids:
        try:
            psutil.Process(pid).kill()
        except Exception:  # noqa: BLE001 - it ended on its own meanwhile
            pass


def _wait(out_q: Any, timeout_s: float, cancelled: Cancelled, before: Set[int]) -> Any:
    """Wait for the engine's answer; on cancel kill the processes it started."""
    end = time.monotonic() + timeout_s
    while True:
        try:
            return out_q.get(timeout=max(0.0, min(0.05, end - time.monotonic())))
        except queue.Empty:
            pass
        if cancelled():
            _kill(_children() - before)
            return 'cancelled', []
        if time.monotonic() >= end:
            return 'timeout', []


def _run_bounded(target: Any, args: Tuple, timeout_s: float, in_process: bool,
                 cancelled: Cancelled = lambda: False) -> Tuple[str, Any]:
    """
    Run ``target(*args, out_queue)`` in a thread or a spawned process under a wall bound.

    ``cancelled()`` is polled 20 times a second; when it turns true the engine's processes
    are killed and ('cancelled', []) is returned.
    """
    before = _children()
    if in_process:
        ctx = multiprocessing.get_context('spawn')
        out = ctx.Queue()
        proc = ctx.Process(target=target, args=args + (out,), daemon=True)
        proc.start()
        try:
            return _wait(out, timeout_s, cancelled, before)
        finally:
            if proc.is_alive():
                proc.kill()
            proc.join(1.0)
    out_q: 'queue.Queue[Tuple[str, Any]]' = queue.Queue()

    def work() -> None:
        try:
            out_q.put(target(*args))
        except Exception as exc:  # noqa: BLE001 - report anything to the caller
            out_q.put(('error', [{'reason': '%s: %s' % (type(exc).__name__, exc)}]))

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    # the engine has its own timeout; the grace covers process start-up and clean-up
    answer = _wait(out_q, timeout_s + 2.0, cancelled, before)
    if answer[0] == 'cancelled':
        worker.join(5.0)   # unified-planning is not thread-safe: let the engine call unwind
    return answer


class Planner:
    """Plan Hanoi problems with a named engine; the one object a node or CLI needs."""

    def __init__(self, engine: str = DEFAULT_ENGINE, timeout_s: float = 30.0,
                 form: str = 'pick_place') -> None:
        if engine not in ENGINES:
            raise ValidationError('unknown engine %r (choose from %s)'
                                  % (engine, ', '.join(ENGINES)))
        if form not in domain.FORMS:
            raise ValidationError('plan form must be one of %s, got %r' % (domain.FORMS, form))
        if not timeout_s > 0:
            raise ValidationError('timeout_s must be positive, got %r' % (timeout_s,))
        self.engine = engine
        self.timeout_s = float(timeout_s)
        self.form = form

    def plan(self, state: SymbolicState, goal: Goal,
             cancelled: Cancelled = lambda: False) -> PlanResult:
        """
        Plan and validate; never raises for a bad problem, the status says what happened.

        ``cancelled()`` true while the engine runs stops it (status ``cancelled``).
        """
        with _UP_LOCK:
            return self._plan(state, goal, cancelled)

    def _plan(self, state: SymbolicState, goal: Goal, cancelled: Cancelled) -> PlanResult:
        t0 = time.perf_counter()
        spec = ENGINES[self.engine]
        try:
            problem = build_problem(state, goal, self.form)
            if goal.satisfied_by(state):
                status, steps = 'solved', []
            elif spec.in_process:
                status, steps = _run_bounded(_child_solve, (state.to_json(), goal.to_json(),
                                                            self.form, self.engine),
                                             self.timeout_s, True, cancelled)
            else:
                status, steps = _run_bounded(_solve_up, (problem, spec, self.timeout_s),
                                             self.timeout_s, False, cancelled)
            if status == 'cancelled':
                raise PlanningCancelled('cancelled while %s was planning' % self.engine)
            if status == 'timeout':
                raise PlanningTimeout('%s found no plan within %.1f s'
                                      % (self.engine, self.timeout_s))
            if status == 'unsolvable':
                raise UnsolvableError('%s proved the goal %r unreachable from %r'
                                      % (self.engine, goal, state))
            if status != 'solved':
                raise PlanningError('%s failed: %s' % (self.engine, steps[0]['reason']
                                                       if steps else status))
            ok, why = validate_up(problem, steps)
            if not ok:
                raise PlanningError('%s returned a plan the validator rejects: %s'
                                    % (self.engine, why))
            final = domain.replay(state, steps)
            if not goal.satisfied_by(final):
                raise PlanningError('%s returned a plan that does not reach the goal'
                                    % self.engine)
        except NsvlaError as exc:
            return PlanResult(exc.status, [], self.engine, time.perf_counter() - t0,
                              reason=str(exc), form=self.form)
        return PlanResult('solved', steps, self.engine, time.perf_counter() - t0,
                          form=self.form, optimal=spec.optimal, moves=domain.count_moves(steps))


# ----------------------------------------------------------------------------- PDDL text
def export_pddl(state: SymbolicState, goal: Goal, form: str = 'pick_place') -> Tuple[str, str]:
    """PDDL domain and problem text for users who run their own planner."""
    from unified_planning.io import PDDLWriter
    with _UP_LOCK:
        writer = PDDLWriter(build_problem(state, goal, form))
        return writer.get_domain(), writer.get_problem()


def plan_pddl(domain_text: str, problem_text: str, engine: str = DEFAULT_ENGINE,
              timeout_s: float = 30.0) -> PlanResult:
    """Plan from a PDDL domain + problem text pair (any domain the engine supports)."""
    with _UP_LOCK:
        return _plan_pddl(domain_text, problem_text, engine, timeout_s)


def _plan_pddl(domain_text: str, problem_text: str, engine: str,
               timeout_s: float) -> PlanResult:
    from unified_planning.io import PDDLReader
    t0 = time.perf_counter()
    if engine not in ENGINES:
        return PlanResult('invalid', [], engine, 0.0, reason='unknown engine %r' % engine)
    spec = ENGINES[engine]
    try:
        try:
            problem = PDDLReader().parse_problem_string(domain_text, problem_text)
        except Exception as exc:  # noqa: BLE001 - the PDDL parser raises many kinds
            raise ValidationError('PDDL does not parse: %s' % exc) from None
        if spec.in_process:
            raise ValidationError('engine %s runs in-process and is not offered for raw PDDL; '
                                  'use fast-downward or symk-opt' % engine)
        status, steps = _run_bounded(_solve_up, (problem, spec, timeout_s), timeout_s, False)
        if status == 'timeout':
            raise PlanningTimeout('%s found no plan within %.1f s' % (engine, timeout_s))
        if status == 'unsolvable':
            raise UnsolvableError('%s proved the PDDL problem unsolvable' % engine)
        if status != 'solved':
            raise PlanningError('%s failed: %s' % (engine, steps[0]['reason'] if steps else ''))
        ok, why = validate_up(problem, steps)
        if not ok:
            raise PlanningError('the validator rejects the plan: %s' % why)
    except NsvlaError as exc:
        return PlanResult(exc.status, [], engine, time.perf_counter() - t0, reason=str(exc),
                          form='pddl')
    return PlanResult('solved', steps, engine, time.perf_counter() - t0, form='pddl',
                      optimal=spec.optimal, moves=len(steps))
