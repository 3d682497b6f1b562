# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Conversions between nsvla's plain objects and the ``nsvla_interfaces`` messages.

States, goals, plans and episode events cross the graph as typed messages; the logic keeps
working on :class:`~nsvla_planner.state.SymbolicState`, :class:`~nsvla_planner.state.Goal`,
:class:`~nsvla_planner.planning.PlanResult` and the episode's event dicts. Every ``*_from_msg``
validates exactly as the JSON readers do (the same rules, the same messages) and raises only
:class:`~nsvla_common.errors.ValidationError`, whatever is wrong with the message: a caller at
a node boundary catches that one family.

Needs the generated ``nsvla_interfaces`` Python package, not ``rclpy.init``.
"""

import math
import time
from typing import Any, Dict, List, Optional, Sequence

from nsvla_common import envelope
from nsvla_common.errors import NsvlaError, ValidationError
from nsvla_common.tf import WORLD_FRAME   # the frame of states, markers and TF
from nsvla_planner.planning import PlanResult
from nsvla_planner.state import GOAL_SCHEMA, Goal, STATE_SCHEMA, SymbolicState, TABLE

EPISODE_EVENTS = ('episode_start', 'step_start', 'step_end', 'replan', 'recover', 'episode_end')
STATUS_SCHEMA = 'execution_status'


# ----------------------------------------------------------------------------- time
def stamp_to_time(seconds: Optional[float]) -> Any:
    """Return the builtin_interfaces/Time of ``seconds`` (now, wall clock, when None)."""
    from builtin_interfaces.msg import Time
    t = time.time() if seconds is None else float(seconds)
    if not math.isfinite(t) or t < 0:
        t = 0.0
    sec = int(t)
    return Time(sec=sec, nanosec=min(999999999, int(round((t - sec) * 1e9))))


def time_to_stamp(msg: Any) -> float:
    """Return the seconds of a builtin_interfaces/Time."""
    return int(msg.sec) + int(msg.nanosec) * 1e-9


def _guard(what: str, fn: Any, *args: Any) -> Any:
    """Run a conversion; anything but a ValidationError becomes one naming ``what``."""
    try:
        return fn(*args)
    except ValidationError:
        raise
    except NsvlaError as exc:
        raise ValidationError('%s: %s' % (what, exc)) from None
    except Exception as exc:  # noqa: BLE001 - outside input: any failure is a rejection
        raise ValidationError('%s is malformed: %s: %s'
                              % (what, type(exc).__name__, exc)) from None


# ----------------------------------------------------------------------------- facts, stacks
def _facts_to_msgs(facts: Sequence[Dict[str, Any]]) -> List[Any]:
    from nsvla_interfaces.msg import Fact
    return [Fact(predicate=str(f['predicate']), args=[str(a) for a in f.get('args', [])],
                 confidence=float(f.get('confidence', 1.0))) for f in facts]


def _facts_from_msgs(facts: Sequence[Any]) -> List[Dict[str, Any]]:
    return [{'predicate': f.predicate, 'args': list(f.args), 'confidence': float(f.confidence)}
            for f in facts]


def stacks_to_msgs(stacks: Optional[Dict[str, Sequence[str]]]) -> List[Any]:
    """Convert ``{peg: [bottom, ..., top]}`` to Stack[] (pegs in name order)."""
    from nsvla_interfaces.msg import Stack
    if not stacks:
        return []
    return [Stack(peg=str(p), blocks=[str(b) for b in blocks])
            for p, blocks in sorted(stacks.items(), key=lambda kv: (len(kv[0]), kv[0]))]


def stacks_from_msgs(stacks: Sequence[Any]) -> Dict[str, List[str]]:
    """Convert Stack[] to ``{peg: [bottom, ..., top]}``."""
    return {s.peg: list(s.blocks) for s in stacks}


# ----------------------------------------------------------------------------- states
def _loose_to_msgs(state: SymbolicState) -> List[Any]:
    from geometry_msgs.msg import Point

    from nsvla_interfaces.msg import LooseBlock
    out = []
    for b in sorted(state.loose, key=lambda name: int(name[1:])):
        on = state.loose[b]
        pose = state.poses.get(b)
        msg = LooseBlock(block=b, resting_on='' if on == TABLE else on,
                         confidence=float(state.confidence(('loose', (b, on)))))
        if pose is not None:
            msg.position = Point(x=float(pose.x), y=float(pose.y), z=float(pose.z))
            msg.yaw = float(pose.yaw)
            msg.upright = bool(pose.upright)
            msg.tilt = float(pose.tilt)
        else:
            msg.position = Point(x=math.nan, y=math.nan, z=math.nan)
            msg.yaw = math.nan
            msg.tilt = math.nan
        out.append(msg)
    return out


def state_to_msg(state: SymbolicState, frame_id: str = WORLD_FRAME,
                 remembered: bool = False) -> Any:
    """Convert a SymbolicState to nsvla_interfaces/SymbolicState (stamp: the state's, else now)."""
    from nsvla_interfaces.msg import SymbolicState as StateMsg
    data = state.to_dict()
    msg = StateMsg()
    msg.header.stamp = stamp_to_time(state.stamp)
    msg.header.frame_id = frame_id
    msg.status = state.status
    msg.reason = state.reason
    msg.source = str(state.source)
    msg.num_blocks = int(state.num_blocks)
    msg.num_pegs = int(state.num_pegs)
    msg.facts = _facts_to_msgs(data['facts'])
    msg.stacks = stacks_to_msgs(data.get('stacks'))
    msg.loose = _loose_to_msgs(state) if state.known else []
    msg.remembered = bool(remembered)
    return msg


def _state_from_msg(msg: Any) -> SymbolicState:
    body: Dict[str, Any] = {
        'schema': envelope.schema_name(STATE_SCHEMA), 'stamp': time_to_stamp(msg.header.stamp),
        'source': msg.source, 'num_blocks': int(msg.num_blocks),
        'num_pegs': int(msg.num_pegs), 'status': msg.status or 'known', 'reason': msg.reason,
        'facts': _facts_from_msgs(msg.facts)}
    poses = []
    for item in msg.loose:
        entry: Dict[str, Any] = {'block': item.block}
        p = item.position
        if all(math.isfinite(v) for v in (p.x, p.y, p.z)):
            entry.update(x=float(p.x), y=float(p.y), z=float(p.z), upright=bool(item.upright),
                         yaw=float(item.yaw) if math.isfinite(item.yaw) else None,
                         tilt=float(item.tilt) if math.isfinite(item.tilt) else None)
        poses.append(entry)
    if poses:
        body['loose'] = poses
    if msg.stacks and body['status'] == 'known':
        stacks = {p: [] for p in ('p%d' % k for k in range(1, body['num_pegs'] + 1))}
        stacks.update(stacks_from_msgs(msg.stacks))
        body['stacks'] = stacks
    return SymbolicState.from_json(body)


def state_from_msg(msg: Any) -> SymbolicState:
    """Convert nsvla_interfaces/SymbolicState to a SymbolicState (ValidationError naming why)."""
    return _guard('symbolic_state', _state_from_msg, msg)


# ----------------------------------------------------------------------------- goals
def goal_to_msg(goal: Goal) -> Any:
    """Convert a Goal to nsvla_interfaces/Goal."""
    from nsvla_interfaces.msg import Goal as GoalMsg
    return GoalMsg(text=goal.text, num_blocks=int(goal.num_blocks or 0),
                   num_pegs=int(goal.num_pegs or 0),
                   facts=_facts_to_msgs([{'predicate': p, 'args': list(a)}
                                         for p, a in goal.facts]))


def _goal_from_msg(msg: Any, num_blocks: int, num_pegs: int) -> Goal:
    body: Dict[str, Any] = {
        'schema': envelope.schema_name(GOAL_SCHEMA), 'stamp': 0.0, 'text': msg.text,
        'facts': [{'predicate': f.predicate, 'args': list(f.args)} for f in msg.facts]}
    if msg.num_blocks:
        body['num_blocks'] = int(msg.num_blocks)
    if msg.num_pegs:
        body['num_pegs'] = int(msg.num_pegs)
    return Goal.from_json(body, num_blocks, num_pegs)


def goal_from_msg(msg: Any, num_blocks: int = 16, num_pegs: int = 9) -> Goal:
    """Convert nsvla_interfaces/Goal to a Goal, objects range-checked against the sizes given."""
    return _guard('goal', _goal_from_msg, msg, num_blocks, num_pegs)


# ----------------------------------------------------------------------------- plans
def steps_to_msgs(steps: Sequence[Dict[str, Any]]) -> List[Any]:
    """Convert plan steps ``{'action', 'args'}`` to PlanStep[]."""
    from nsvla_interfaces.msg import PlanStep
    return [PlanStep(action=str(s['action']), args=[str(a) for a in s.get('args', [])])
            for s in steps]


def steps_from_msgs(steps: Sequence[Any]) -> List[Dict[str, Any]]:
    """Convert PlanStep[] to plan steps."""
    return [{'action': s.action, 'args': list(s.args)} for s in steps]


def plan_to_msg(result: PlanResult, goal: Optional[Goal] = None,
                state: Optional[SymbolicState] = None, optimal_tower_moves: int = 0) -> Any:
    """Convert a PlanResult (+ the goal and state it was planned for) to nsvla_interfaces/Plan."""
    from nsvla_interfaces.msg import Plan
    msg = Plan(status=result.status, reason=result.reason, engine=result.engine,
               form=result.form, seconds=float(result.seconds), moves=int(result.moves),
               optimal_tower_moves=int(optimal_tower_moves))
    msg.steps = steps_to_msgs(result.plan)
    if goal is not None:
        msg.goal = goal_to_msg(goal)
    if state is not None:
        msg.state = state_to_msg(state)
    return msg


def _plan_from_msg(msg: Any) -> PlanResult:
    if not isinstance(msg.status, str) or not msg.status:
        raise ValidationError('plan has no status')
    return PlanResult(msg.status, steps_from_msgs(msg.steps), msg.engine, float(msg.seconds),
                      reason=msg.reason, form=msg.form or 'pick_place', moves=int(msg.moves))


def plan_from_msg(msg: Any) -> PlanResult:
    """Convert nsvla_interfaces/Plan to a PlanResult (goal_from_msg, planned_state: the rest)."""
    return _guard('plan', _plan_from_msg, msg)


def planned_state(msg: Any) -> Optional[SymbolicState]:
    """Return the state a Plan message was planned from, or None when it carries none."""
    if not msg.state.num_blocks:
        return None
    return state_from_msg(msg.state)


# ----------------------------------------------------------------------------- episode events
def _num(value: Any, default: float = 0.0) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else default


def event_to_msg(event: Dict[str, Any], frame_id: str = '') -> Any:
    """Convert an episode's event dict (see :mod:`nsvla_control.episode`) -> EpisodeEvent."""
    from nsvla_interfaces.msg import EpisodeEvent
    msg = EpisodeEvent(episode_id=str(event.get('episode_id', '')),
                       event=str(event.get('event', '')))
    msg.header.stamp = stamp_to_time(event.get('stamp'))
    msg.header.frame_id = frame_id
    step = event.get('step')
    msg.step = int(step) if isinstance(step, int) and not isinstance(step, bool) else -1
    action = event.get('action')
    if isinstance(action, dict):
        msg.action = steps_to_msgs([action])[0]
    msg.expected = stacks_to_msgs(event.get('expected'))
    observed = event.get('observed')
    msg.observed_known = observed is not None
    msg.observed = stacks_to_msgs(observed)
    msg.result = str(event.get('result') or '')
    msg.motion_ok = bool(event.get('motion_ok', True))
    msg.reason = str(event.get('reason') or event.get('motion_reason') or '')
    msg.seconds = _num(event.get('seconds'))
    msg.moves = int(_num(event.get('moves')))
    msg.replans = int(_num(event.get('replans', event.get('replan'))))
    msg.recoveries = int(_num(event.get('recoveries')))
    optimal = event.get('optimal_moves')
    msg.optimal_moves = int(optimal) if isinstance(optimal, int) else -1
    msg.wall_s = _num(event.get('wall_s'))
    goal = event.get('goal')
    if isinstance(goal, dict):
        msg.goal = goal_to_msg(Goal.from_json(goal))
    state = event.get('state')
    if isinstance(state, dict):
        msg.state = state_to_msg(SymbolicState.from_json(state))
    return msg


def _event_from_msg(msg: Any) -> Dict[str, Any]:
    if msg.event not in EPISODE_EVENTS:
        raise ValidationError('event is %r, expected one of %s'
                              % (msg.event, ', '.join(EPISODE_EVENTS)))
    if not msg.episode_id:
        raise ValidationError('episode_id must be a non-empty string')
    out: Dict[str, Any] = {
        'schema': envelope.schema_name(STATUS_SCHEMA), 'stamp': time_to_stamp(msg.header.stamp),
        'episode_id': msg.episode_id, 'event': msg.event}
    if msg.step >= 0:
        out['step'] = int(msg.step)
    if msg.action.action:
        out['action'] = steps_from_msgs([msg.action])[0]
    if msg.event in ('step_start', 'step_end'):
        out['expected'] = stacks_from_msgs(msg.expected)
    if msg.event == 'step_end':
        out['observed'] = stacks_from_msgs(msg.observed) if msg.observed_known else None
        out['motion_ok'] = bool(msg.motion_ok)
        out['motion_reason'] = msg.reason
        out['seconds'] = float(msg.seconds)
    if msg.result:
        out['result'] = msg.result
    if msg.event in ('replan', 'recover', 'episode_end'):
        out['reason'] = msg.reason
    if msg.event == 'replan':
        out['replan'] = int(msg.replans)
    if msg.event == 'episode_end':
        out.update(moves=int(msg.moves), replans=int(msg.replans),
                   recoveries=int(msg.recoveries), wall_s=float(msg.wall_s),
                   optimal_moves=int(msg.optimal_moves) if msg.optimal_moves >= 0 else None)
    if msg.goal.facts:
        out['goal'] = goal_from_msg(msg.goal).to_dict()
    if msg.state.num_blocks:
        out['state'] = state_from_msg(msg.state).to_dict()
    return out


def event_from_msg(msg: Any) -> Dict[str, Any]:
    """Convert an EpisodeEvent to the event dict the episode emitted (execution_status/1)."""
    return _guard('episode event', _event_from_msg, msg)
