# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Evaluate perception and planning on a recorded rosbag2 (mcap or sqlite3), without ROS.

The bag is read by :mod:`nsvla_eval.replay_bag` (typed ``nsvla_interfaces`` topics and the JSON
of older bags alike); this module aligns truth with frames, runs perception and checks plans;
:mod:`nsvla_eval.replay_report` writes the report files.

:func:`evaluate` runs a perception function on each ``sensor_msgs/Image`` frame and compares
the state with the truth of the frame. The truth of a frame is the latest ground-truth message
at or before it (by header stamps when frames and truth share a clock, else by the time the
recorder received them), or a labels file (:mod:`nsvla_eval.replay_labels`). Frames whose truth
is not a resting state are counted apart, never as errors: the truth is unknown (a block
falling, tilted, off the pegs), a block is in the hand, the state changed between two truth
samples around the frame, or no truth is recent enough. ``state_accuracy`` is correct /
(correct + wrong + missed), where *missed* means perception answered "unknown" for a resting
state it should have seen.

For every distinct known state perception saw, a plan is made for the bag's goal (the goal the
planner published on ``plan``, else the goal of an ``execution_status`` episode start, else the
``goal`` instruction of old bags, else the tower on the last peg), replayed through the domain
rules (valid: every step legal and the goal reached) and compared with the shortest plan
(``domain.recursive_to_tower`` for a tower goal on three pegs, else ``domain.bfs_plan`` for up
to :data:`BFS_MAX_BLOCKS` blocks).

Energy per frame is the perception call's CPU time x watts per busy core, an estimate; the
figures the power monitor recorded in the bag are reported next to it as they were published.
"""

import bisect
from collections import Counter
import os
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np

from nsvla_common.errors import NsvlaError, ValidationError
from nsvla_eval.replay_bag import BagError, BagScan, iter_frames, Truth
from nsvla_eval.replay_decode import GOAL_TOPIC, PLAN_TOPIC, STATUS_TOPIC, TRUTH_TOPIC
from nsvla_eval.replay_labels import Labels
from nsvla_planner import domain
from nsvla_planner.state import Goal, SymbolicState

BFS_MAX_BLOCKS = 7
STAMP_EPS = 1e-3          # s: a truth stamped this much after a frame still counts as "at"
OUTCOMES = ('correct', 'wrong', 'missed', 'no_truth', 'skipped')

PerceiveFn = Callable[[np.ndarray], Any]     # rgb -> object with ``.state`` (a Perception)
PlanFn = Callable[[SymbolicState, Goal], Any]  # -> nsvla_planner.planning.PlanResult


# ----------------------------------------------------------------------------- truth per frame
def choose_time_base(scan: BagScan) -> str:
    """Return ``header`` when frames and truth carry stamps of one clock, else ``receive``."""
    frames = [t for t in scan.frame_header if t > 0]
    truths = [tr.t for tr in scan.truth_header if tr.t > 0]
    if len(frames) < len(scan.frame_header) or not frames or not truths:
        return 'receive'
    lo, hi = min(frames), max(frames)
    if min(truths) > hi + 2.0 or max(truths) < lo - 2.0:
        return 'receive'   # e.g. images stamped by a camera clock, truth by wall time
    return 'header'


def truth_at(samples: List[Truth], times: List[float], t: float,
             max_age: Optional[float]) -> Tuple[Optional[SymbolicState], str]:
    """
    Return the truth of a frame at ``t`` from sorted ``samples`` (``times`` their ``t``).

    ``(state, '')`` when the truth is a resting known state, else ``(None, why)``.
    """
    i = bisect.bisect_right(times, t + STAMP_EPS) - 1
    if i < 0:
        return None, 'no truth before the frame'
    prev = samples[i]
    if max_age is not None and t - prev.t > max_age:
        return None, 'truth older than %.1f s' % max_age
    if prev.state is None:
        return None, prev.why or 'unknown'
    if max_age is not None and i + 1 < len(samples):
        nxt = samples[i + 1]
        if nxt.t - t <= max_age and nxt.state != prev.state:
            return None, 'state changing between truth samples'
    return _resting(prev.state)


def _resting(state: SymbolicState) -> Tuple[Optional[SymbolicState], str]:
    if not state.known:
        return None, 'truth unknown: %s' % (state.reason or 'no reason given')
    if state.holding is not None:
        return None, 'block %s in the hand' % state.holding
    return state, ''


# ----------------------------------------------------------------------------- goal, plans
def find_goal(scan: BagScan, num_blocks: int, num_pegs: int,
              colours: Optional[Dict[str, str]] = None) -> Tuple[Goal, str]:
    """
    Return the bag's goal and where it came from.

    The last goal planned for (``plan``), else the last ``goal`` instruction (old bags), else
    the goal of the last ``execution_status`` episode start, else the tower on the last peg.
    """
    goal = _goal_of(scan, scan.plan_goals, 'plan', PLAN_TOPIC, num_blocks, num_pegs)
    if goal is not None:
        return goal, 'plan topic'
    for text in reversed(scan.goal_texts):
        try:
            if text.lstrip().startswith('{'):
                return Goal.from_json(text, num_blocks, num_pegs), 'goal topic (JSON)'
            from nsvla_planner.language import parse_instruction
            goal = parse_instruction(text, num_blocks, num_pegs, colours)
            return goal, 'goal topic: %r' % text
        except NsvlaError as exc:
            scan.bad(scan.roles.get('goal', GOAL_TOPIC), str(exc))
    goal = _goal_of(scan, scan.episode_goals, 'status', STATUS_TOPIC, num_blocks, num_pegs)
    if goal is not None:
        return goal, 'execution_status episode_start'
    return (Goal.tower(num_blocks, num_pegs, text='default: the tower on the last peg'),
            'default: tower on p%d' % num_pegs)


def _goal_of(scan: BagScan, raws: List[Dict[str, Any]], role: str, topic: str,
             num_blocks: int, num_pegs: int) -> Optional[Goal]:
    """Return the last valid goal of ``raws``; count the invalid ones after it as malformed."""
    for raw in reversed(raws):
        try:
            goal = Goal.from_json(raw, num_blocks, num_pegs)
            goal.num_blocks = goal.num_blocks or num_blocks
            return goal
        except NsvlaError as exc:
            scan.bad(scan.roles.get(role, topic), 'goal: %s' % exc)
    return None


def tower_peg(goal: Goal, num_blocks: int) -> Optional[int]:
    """Return the peg of a goal that asks for the whole tower on one peg, else None."""
    facts = set(goal.facts)
    for (pred, args) in facts:
        if pred == 'on' and args[0] == 'b%d' % num_blocks and args[1].startswith('p'):
            k = int(args[1][1:])
            if facts == set(Goal.tower(num_blocks, k).facts):
                return k
    return None


def optimal_moves(state: SymbolicState, goal: Goal) -> Tuple[Optional[int], str]:
    """Return the fewest moves from ``state`` to ``goal`` and how it was found (None: not)."""
    if state.holding is not None:
        return None, 'not checked: a block in the hand'
    k = tower_peg(goal, state.num_blocks)
    if k is not None and state.num_pegs == 3:
        return len(domain.recursive_to_tower(state, k)), 'recursive_to_tower'
    if state.num_blocks <= BFS_MAX_BLOCKS:
        plan = domain.bfs_plan(state, goal)
        return (None, 'unreachable (bfs)') if plan is None else (len(plan), 'bfs_plan')
    return None, 'not checked: %d blocks is too many for bfs' % state.num_blocks


def _cpu_with_children() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def check_plan(state: SymbolicState, goal: Goal, plan_fn: PlanFn,
               watts_per_core: float) -> Dict[str, Any]:
    """Plan from ``state``; check validity (domain replay) and optimality; return a record."""
    c0, w0 = _cpu_with_children(), time.perf_counter()
    result = plan_fn(state, goal)
    cpu = _cpu_with_children() - c0
    rec: Dict[str, Any] = {
        'state': state.stacks(), 'status': result.status, 'reason': result.reason,
        'engine': result.engine, 'moves': None, 'valid': False, 'optimal': None,
        'optimal_moves': None, 'reference': '', 'wall_s': round(time.perf_counter() - w0, 4),
        'cpu_s': round(cpu, 4), 'joules': round(cpu * watts_per_core, 3)}
    if not result.ok:
        return rec
    rec['moves'] = domain.count_moves(result.plan)
    try:
        final = domain.replay(state, result.plan)
        rec['valid'] = goal.satisfied_by(final)
        if not rec['valid']:
            rec['reason'] = 'the plan ends in %s, not at the goal' % final.stacks()
    except NsvlaError as exc:
        rec['reason'] = 'illegal plan: %s' % exc
    best, how = optimal_moves(state, goal)
    rec['optimal_moves'], rec['reference'] = best, how
    if best is not None:
        rec['optimal'] = bool(rec['valid'] and rec['moves'] == best)
    return rec


# ----------------------------------------------------------------------------- evaluation
def _ratio(num: int, den: int) -> Optional[float]:
    return round(num / den, 4) if den else None


def recorded_energy(scan: BagScan) -> Dict[str, Any]:
    """Summarise the power monitor's records in the bag, as they were published."""
    out: Dict[str, Any] = {}
    if scan.energy:
        last = scan.energy[-1]
        keys = ('joules', 'per_node', 'source', 'estimated', 'elapsed_s')
        out['monitor'] = {k: last.get(k) for k in keys}
        per_node = last.get('per_node') or {}
        live = per_node.get('perception') if isinstance(per_node, dict) else None
        if isinstance(live, (int, float)) and scan.symbolic_states:
            out['live_perception_j_per_state'] = round(live / scan.symbolic_states, 4)
            out['live_perception_states'] = scan.symbolic_states
    if scan.energy_episodes:
        out['episodes'] = [{k: r.get(k) for k in ('episode_id', 'joules', 'joules_per_node',
                                                  'duration_s', 'success', 'source',
                                                  'estimated')}
                           for r in scan.energy_episodes]
    return out


def evaluate(scan: BagScan, perceive: PerceiveFn, plan_fn: Optional[PlanFn] = None,
             labels: Optional[Labels] = None, goal: Optional[Goal] = None,
             goal_source: str = '', watts_per_core: float = 10.0, every: int = 1,
             max_truth_age: float = 1.0, time_base: str = 'auto',
             frames: Optional[Iterator[Tuple[int, Any, str]]] = None,
             progress: Any = None, plan_progress: Any = None) -> Dict[str, Any]:
    """
    Run ``perceive`` on every ``every``-th frame, compare with the truth, plan from what was seen.

    ``frames`` defaults to :func:`iter_frames` over the bag; ``progress(n)`` is called after
    each frame and ``plan_progress(n)`` after each plan (a tqdm ``update``). Returns the report
    (a JSON-ready dict).
    """
    if every < 1:
        raise ValidationError('every must be >= 1, got %r' % (every,))
    if time_base == 'auto':
        time_base = choose_time_base(scan)
    if time_base not in ('header', 'receive'):
        raise ValidationError('time base must be auto, header or receive, got %r' % time_base)
    frame_t = scan.frame_header if time_base == 'header' else scan.frame_receive
    truth = scan.truth_header if time_base == 'header' else scan.truth_receive
    truth_times = [tr.t for tr in truth]
    stamp_times = [tr.t for tr in labels.by_stamp] if labels else []
    if labels is None and not truth:
        raise BagError('no ground truth: the bag has no usable %s messages; give a labels '
                       'file (--labels)' % TRUTH_TOPIC)
    t_first = frame_t[0] if frame_t else 0.0
    records: List[Dict[str, Any]] = []
    seen: Dict[SymbolicState, int] = {}
    counts: Counter = Counter()
    no_truth: Counter = Counter()
    skipped: Counter = Counter()
    for index, rgb, why in (frames if frames is not None else iter_frames(scan.path, scan)):
        if index % every:
            if progress:
                progress(1)
            continue
        t = frame_t[index] if index < len(frame_t) else float('nan')
        rec: Dict[str, Any] = {'frame': index, 't': round(t - t_first, 3)}
        if rgb is None:
            rec.update(outcome='skipped', reason=why)
            skipped[why.split(':')[0]] += 1
        else:
            c0, w0 = time.process_time(), time.perf_counter()
            try:
                state = perceive(rgb).state
            except Exception as exc:  # noqa: BLE001 - one bad frame must not end the replay
                state = None
                rec.update(outcome='skipped', reason='perception failed: %s: %s'
                           % (type(exc).__name__, exc))
                skipped['perception failed'] += 1
            cpu = time.process_time() - c0
            rec.update(cpu_s=round(cpu, 5), wall_s=round(time.perf_counter() - w0, 5),
                       joules=round(cpu * watts_per_core, 5))
            if state is not None:
                rec['perceived'] = state.stacks() if state.known else None
                if state.known:
                    seen[state] = seen.get(state, 0) + 1
                else:
                    rec['perceived_reason'] = state.reason
                if labels is not None:
                    expected, why_not = _label_truth(labels, stamp_times, index, t)
                else:
                    expected, why_not = truth_at(truth, truth_times, t, max_truth_age)
                if expected is None:
                    rec.update(outcome='no_truth', reason=why_not)
                    no_truth[_kind(why_not)] += 1
                else:
                    rec['truth'] = expected.stacks()
                    rec['outcome'] = ('missed' if not state.known else
                                      'correct' if state == expected else 'wrong')
        counts[rec['outcome']] += 1
        records.append(rec)
        if progress:
            progress(1)
    if not records:
        raise BagError('no camera frame could be read from %s' % scan.path)
    evaluated = counts['correct'] + counts['wrong'] + counts['missed']
    cpu = [r['cpu_s'] for r in records if 'cpu_s' in r]
    n = scan.num_blocks
    if n is None and seen:
        n = next(iter(seen)).num_blocks
    report: Dict[str, Any] = {
        'bag': scan.path, 'storage': scan.storage, 'image_topic': scan.image_topic,
        'truth': labels.source if labels else scan.truth_topic, 'time_base': time_base,
        'frames': len(records), 'frames_in_bag': scan.frames, 'every': every,
        'evaluated': evaluated, 'state_accuracy': _ratio(counts['correct'], evaluated),
        'accuracy_when_known': _ratio(counts['correct'], counts['correct'] + counts['wrong']),
        'outcomes': {k: counts[k] for k in OUTCOMES},
        'no_truth_reasons': dict(no_truth), 'skipped_reasons': dict(skipped),
        'num_blocks': n, 'num_pegs': scan.num_pegs,
        'malformed': dict(scan.malformed), 'malformed_examples': dict(scan.malformed_examples),
        'energy_per_frame': {
            'joules_mean': round(float(np.mean(cpu)) * watts_per_core, 5) if cpu else None,
            'cpu_s_mean': round(float(np.mean(cpu)), 5) if cpu else None,
            'cpu_s_total': round(float(np.sum(cpu)), 4) if cpu else None,
            'watts_per_core': watts_per_core, 'estimated': True,
            'method': 'perception CPU seconds per frame (this process) x %.1f W per busy core'
                      % watts_per_core},
        'energy_recorded': recorded_energy(scan),
        'per_frame': records,
    }
    report.update(_plans_report(seen, goal, goal_source, plan_fn, watts_per_core,
                                plan_progress))
    return report


def _label_truth(labels: Labels, stamp_times: List[float], index: int,
                 t: float) -> Tuple[Optional[SymbolicState], str]:
    if index in labels.by_frame:
        state = labels.by_frame[index]
        return (None, 'labelled unknown') if state is None else _resting(state)
    if labels.by_stamp:
        return truth_at(labels.by_stamp, stamp_times, t, None)
    return None, 'no label for the frame'


def _kind(why: str) -> str:
    """Group no-truth reasons (``block b1 in the hand`` -> ``block in the hand``)."""
    if 'in the hand' in why:
        return 'block in the hand'
    if why.startswith('truth unknown'):
        return 'truth unknown'
    if why.startswith('truth older'):
        return 'truth too old'
    return why


def _plans_report(seen: Dict[SymbolicState, int], goal: Optional[Goal], goal_source: str,
                  plan_fn: Optional[PlanFn], watts_per_core: float,
                  progress: Any = None) -> Dict[str, Any]:
    plans: List[Dict[str, Any]] = []
    if plan_fn is not None and goal is not None:
        for state, frames in sorted(seen.items(), key=lambda kv: -kv[1]):
            rec = check_plan(state, goal, plan_fn, watts_per_core)
            rec['frames'] = frames
            plans.append(rec)
            if progress:
                progress(1)
    valid = sum(1 for p in plans if p['valid'])
    checked = [p for p in plans if p['optimal'] is not None]
    optimal = sum(1 for p in checked if p['optimal'])
    return {
        'goal': repr(goal) if goal is not None else None, 'goal_source': goal_source,
        'states_seen': len(seen), 'plans': len(plans),
        'plans_valid': _ratio(valid, len(plans)),
        'plans_optimal': _ratio(optimal, len(checked)),
        'plan_counts': {'planned': len(plans), 'valid': valid, 'optimal_checked': len(checked),
                        'optimal': optimal},
        'plan_energy_j': round(sum(p['joules'] for p in plans), 3),
        'plan_details': plans,
    }
