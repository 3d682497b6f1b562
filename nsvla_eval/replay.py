# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Evaluate perception and planning on a recorded rosbag2 (mcap or sqlite3), without ROS.

A bag written by ``ros2 bag record``, by ``nsvla record`` or by ``nsvla demo`` is read with the
pure-Python ``rosbags`` package in two passes:

1. :func:`scan_bag` reads the small topics: the ground truth (``sim/ground_truth``,
   ``nsvla/symbolic_state/1`` JSON), the goal (``plan`` and ``goal``), the power monitor's
   ``energy`` and ``energy/episode`` records, and the camera frames' stamps. Topics are matched
   by name with any namespace in front (``/ns/camera/image_raw`` is a camera topic).
2. :func:`evaluate` decodes each ``sensor_msgs/Image`` frame (``rgb8`` or ``bgr8``), runs a
   perception function on it and compares the state with the truth of the frame.

The truth of a frame is the latest ground-truth message at or before it (by header stamps when
frames and truth share a clock, else by the time the recorder received them), or a labels file.
Frames whose truth is not a resting state are counted apart, never as errors: the truth is
unknown (a block falling, tilted, off the pegs), a block is in the hand, the state changed
between two truth samples around the frame, or no truth is recent enough. ``state_accuracy``
is correct / (correct + wrong + missed), where *missed* means perception answered "unknown"
for a resting state it should have seen.

For every distinct known state perception saw, a plan is made for the bag's goal (the goal the
planner published on ``plan``, else the ``goal`` instruction, else the tower on the last peg),
replayed through the domain rules (valid: every step legal and the goal reached) and compared
with the shortest plan (``domain.recursive_to_tower`` for a tower goal on three pegs, else
``domain.bfs_plan`` for up to :data:`BFS_MAX_BLOCKS` blocks).

Energy per frame is the perception call's CPU time x watts per busy core, an estimate; the
figures the power monitor recorded in the bag are reported next to it as they were published.
Malformed messages are counted per topic and skipped.
"""

import bisect
from collections import Counter
from dataclasses import dataclass, field
import json
import os
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from nsvla_common import envelope
from nsvla_common.errors import NsvlaError, ValidationError
from nsvla_planner import domain
from nsvla_planner.state import Goal, SymbolicState

CAMERA_TOPIC = 'camera/image_raw'
TRUTH_TOPIC = 'sim/ground_truth'
GOAL_TOPIC = 'goal'
PLAN_TOPIC = 'plan'
ENERGY_TOPIC = 'energy'
EPISODE_ENERGY_TOPIC = 'energy/episode'
STATE_TOPIC = 'symbolic_state'
IMAGE_TYPE = 'sensor_msgs/msg/Image'
STRING_TYPE = 'std_msgs/msg/String'
BFS_MAX_BLOCKS = 7
STAMP_EPS = 1e-3          # s: a truth stamped this much after a frame still counts as "at"
OUTCOMES = ('correct', 'wrong', 'missed', 'no_truth', 'skipped')

PerceiveFn = Callable[[np.ndarray], Any]     # rgb -> object with ``.state`` (a Perception)
PlanFn = Callable[[SymbolicState, Goal], Any]  # -> nsvla_planner.planning.PlanResult


class BagError(ValidationError):
    """A bag that cannot be read or lacks what the evaluation needs."""

    status = 'bad_bag'


# ----------------------------------------------------------------------------- reading
def topic_matches(name: str, wanted: str) -> bool:
    """Return true when topic ``name`` is ``wanted`` (relative) under any namespace."""
    name = '/' + name.strip('/')
    wanted = wanted.strip('/')
    return name == '/' + wanted or name.endswith('/' + wanted)


def _typestore() -> Any:
    from rosbags.typesys import get_typestore, Stores
    return get_typestore(Stores.ROS2_KILTED)


def open_reader(path: str) -> Any:
    """Open a rosbag2 folder (or a single .mcap / .db3 file); raise BagError with the reason."""
    from rosbags.rosbag2 import Reader, ReaderError
    if not os.path.exists(path):
        raise BagError('bag %s does not exist' % path)
    if os.path.isdir(path) and not os.path.exists(os.path.join(path, 'metadata.yaml')):
        inside = sorted(f for f in os.listdir(path) if f.endswith(('.mcap', '.db3')))
        if len(inside) == 1:     # a folder with one storage file and no metadata
            path = os.path.join(path, inside[0])
        else:
            raise BagError('%s is not a rosbag2 folder (no metadata.yaml%s)'
                           % (path, ', %d storage files' % len(inside) if inside else ''))
    try:
        reader = Reader(path)
        reader.open()
    except (ReaderError, OSError, KeyError, ValueError, TypeError) as exc:
        raise BagError('cannot read bag %s: %s' % (path, exc or type(exc).__name__)) from None
    except Exception as exc:  # noqa: BLE001 - storage libraries raise many kinds (sqlite3, mcap)
        raise BagError('cannot read bag %s: %s: %s' % (path, type(exc).__name__, exc)) from None
    return reader


def _pick_topic(connections: Sequence[Any], wanted: str, msgtype: str,
                required: bool = False) -> Optional[str]:
    """Return the bag topic that is ``wanted`` (exact name first, else any namespace)."""
    names: Dict[str, Tuple[str, int]] = {}
    for c in connections:
        count = names.get(c.topic, (c.msgtype, 0))[1] + int(getattr(c, 'msgcount', 0) or 0)
        names[c.topic] = (c.msgtype, count)
    exact = [n for n in names if '/' + n.strip('/') == '/' + wanted.strip('/')]
    candidates = exact or [n for n in names if topic_matches(n, wanted)]
    if not candidates:
        if required:
            raise BagError('the bag has no %s topic (topics: %s)'
                           % (wanted, ', '.join(sorted(names)) or 'none'))
        return None
    best = max(candidates, key=lambda n: names[n][1])
    if names[best][0] != msgtype:
        raise BagError('topic %s is %s, expected %s' % (best, names[best][0], msgtype))
    return best


@dataclass
class Truth:
    """One ground-truth (or label) sample: when, and the state (None: no truth)."""

    t: float
    state: Optional[SymbolicState]
    why: str = ''


@dataclass
class BagScan:
    """What the first pass found: topics, truth, goal, energy records, frame count."""

    path: str
    storage: str
    topics: Dict[str, Dict[str, Any]]
    image_topic: str
    frames: int
    truth_topic: Optional[str] = None
    truth_header: List[Truth] = field(default_factory=list)     # by the JSON ``stamp``
    truth_receive: List[Truth] = field(default_factory=list)    # by the bag's receive time
    frame_header: List[float] = field(default_factory=list)
    frame_receive: List[float] = field(default_factory=list)
    goal_texts: List[str] = field(default_factory=list)
    plan_goals: List[Dict[str, Any]] = field(default_factory=list)
    energy: List[Dict[str, Any]] = field(default_factory=list)
    energy_episodes: List[Dict[str, Any]] = field(default_factory=list)
    symbolic_states: int = 0
    malformed: Dict[str, int] = field(default_factory=dict)
    malformed_examples: Dict[str, str] = field(default_factory=dict)
    num_blocks: Optional[int] = None
    num_pegs: Optional[int] = None
    roles: Dict[str, str] = field(default_factory=dict)    # role -> topic in the bag

    def bad(self, topic: str, why: str) -> None:
        """Count a malformed message of ``topic``."""
        self.malformed[topic] = self.malformed.get(topic, 0) + 1
        self.malformed_examples.setdefault(topic, why[:200])


def _ns_to_s(ns: int) -> float:
    return ns * 1e-9


def _header_s(msg: Any) -> float:
    stamp = msg.header.stamp
    return float(stamp.sec) + float(stamp.nanosec) * 1e-9


def _text(msg: Any) -> str:
    data = msg.data
    return data.decode('utf-8', 'replace') if isinstance(data, (bytes, bytearray)) else str(data)


def scan_bag(path: str, image_topic: str = CAMERA_TOPIC,
             truth_topic: str = TRUTH_TOPIC) -> BagScan:
    """First pass: read every topic but the camera's pixels; raise BagError on a bad bag."""
    store = _typestore()
    reader = open_reader(path)
    try:
        conns = list(reader.connections)
        topics = {}
        for c in conns:
            entry = topics.setdefault(c.topic, {'type': c.msgtype, 'messages': 0})
            entry['messages'] += int(getattr(c, 'msgcount', 0) or 0)
        image = _pick_topic(conns, image_topic, IMAGE_TYPE, required=True)
        scan = BagScan(path, _storage_name(path), topics, image or '', 0)
        wanted = {'truth': _pick_topic(conns, truth_topic, STRING_TYPE),
                  'goal': _pick_topic(conns, GOAL_TOPIC, STRING_TYPE),
                  'plan': _pick_topic(conns, PLAN_TOPIC, STRING_TYPE),
                  'energy': _pick_topic(conns, ENERGY_TOPIC, STRING_TYPE),
                  'episode': _pick_topic(conns, EPISODE_ENERGY_TOPIC, STRING_TYPE),
                  'state': _pick_topic(conns, STATE_TOPIC, STRING_TYPE)}
        scan.truth_topic = wanted['truth']
        scan.roles = {role: name for role, name in wanted.items() if name}
        role_of = {name: role for role, name in wanted.items() if name}
        read = [c for c in conns if c.topic in role_of or c.topic == image]
        sizes: Counter = Counter()
        for conn, t_ns, raw in _messages(reader, read):
            topic = conn.topic
            if topic == image:
                try:
                    msg = store.deserialize_cdr(raw, conn.msgtype)
                    scan.frame_header.append(_header_s(msg))
                except Exception as exc:  # noqa: BLE001 - a corrupt message is counted
                    scan.bad(topic, 'undecodable CDR: %s' % exc)
                    scan.frame_header.append(0.0)
                scan.frame_receive.append(_ns_to_s(t_ns))
                continue
            try:
                text = _text(store.deserialize_cdr(raw, conn.msgtype))
            except Exception as exc:  # noqa: BLE001
                scan.bad(topic, 'undecodable CDR: %s' % exc)
                continue
            _read_string(scan, role_of[topic], topic, text, _ns_to_s(t_ns), sizes)
    finally:
        reader.close()
    scan.frames = len(scan.frame_receive)
    if scan.frames == 0:
        raise BagError('the camera topic %s of %s holds no messages' % (image, path))
    for key in ('truth_header', 'truth_receive'):
        getattr(scan, key).sort(key=lambda tr: tr.t)
    if sizes:
        (nb, npeg), _count = sizes.most_common(1)[0]
        scan.num_blocks, scan.num_pegs = nb, npeg
    return scan


def _storage_name(path: str) -> str:
    if os.path.isdir(path):
        meta = os.path.join(path, 'metadata.yaml')
        if os.path.exists(meta):
            with open(meta) as f:
                for line in f:
                    if 'storage_identifier' in line:
                        return line.split(':', 1)[1].strip()
        if any(f.endswith('.db3') for f in os.listdir(path)):
            return 'sqlite3'
        return 'mcap'
    return 'sqlite3' if path.endswith('.db3') else 'mcap'


def _messages(reader: Any, connections: List[Any]) -> Iterator[Tuple[Any, int, bytes]]:
    try:
        yield from reader.messages(connections=connections)
    except NsvlaError:
        raise
    except Exception as exc:  # noqa: BLE001 - a truncated file or a broken index
        raise BagError('reading the bag failed: %s: %s' % (type(exc).__name__, exc)) from None


def _read_string(scan: BagScan, role: str, topic: str, text: str, t: float,
                 sizes: Counter) -> None:
    """Parse one String message of a known role into the scan; count malformed ones."""
    if role == 'goal':
        scan.goal_texts.append(text)
        return
    try:
        if role == 'truth':
            state = SymbolicState.from_json(text)
            sizes[(state.num_blocks, state.num_pegs)] += 1
            stamp = json.loads(text).get('stamp', 0.0)
            scan.truth_header.append(Truth(float(stamp), state))
            scan.truth_receive.append(Truth(t, state))
        elif role == 'plan':
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValidationError('a plan must be a JSON object')
            if isinstance(data.get('goal'), dict):
                scan.plan_goals.append(data['goal'])
        elif role == 'energy':
            scan.energy.append(envelope.parse(text, 'energy'))
        elif role == 'episode':
            scan.energy_episodes.append(envelope.parse(text, 'energy_episode'))
        elif role == 'state':
            envelope.parse(text, 'symbolic_state')
            scan.symbolic_states += 1
    except (NsvlaError, ValueError, TypeError) as exc:
        scan.bad(topic, str(exc))


def iter_frames(path: str, scan: BagScan) -> Iterator[Tuple[int, Any, str]]:
    """Second pass: yield ``(index, rgb array or None, reason when None)`` per camera frame."""
    from nsvla_perception.image import image_from_fields
    store = _typestore()
    reader = open_reader(path)
    try:
        conns = [c for c in reader.connections if c.topic == scan.image_topic]
        for index, (conn, _t, raw) in enumerate(_messages(reader, conns)):
            try:
                msg = store.deserialize_cdr(raw, conn.msgtype)
                rgb = image_from_fields(msg.encoding, msg.width, msg.height, msg.step, msg.data)
            except NsvlaError as exc:
                yield index, None, str(exc)
                continue
            except Exception as exc:  # noqa: BLE001 - undecodable CDR
                yield index, None, 'undecodable image message: %s' % exc
                continue
            yield index, rgb, ''
    finally:
        reader.close()


# ----------------------------------------------------------------------------- labels
def _label_state(value: Any, num_blocks: Optional[int], num_pegs: int,
                 where: str) -> Optional[SymbolicState]:
    if value is None or value == 'unknown':
        return None
    if not isinstance(value, dict):
        raise ValidationError('%s: a label must be a state object, stacks or null' % where)
    if 'schema' in value:
        return SymbolicState.from_json(value)
    stacks = value.get('stacks', value)
    if not isinstance(stacks, dict) or not all(
            isinstance(k, str) and isinstance(v, list) for k, v in stacks.items()):
        raise ValidationError('%s: stacks must map pegs to lists of blocks, got %r'
                              % (where, stacks))
    n = sum(len(v) for v in stacks.values())
    if num_blocks is not None and n != num_blocks:
        raise ValidationError('%s: %d blocks in the label, the bag has %d'
                              % (where, n, num_blocks))
    try:
        return SymbolicState.from_stacks(stacks, n, num_pegs, source='label')
    except NsvlaError as exc:
        raise ValidationError('%s: %s' % (where, exc)) from None


@dataclass
class Labels:
    """Truth from a labels file: per frame index and/or from stamps on."""

    by_frame: Dict[int, Optional[SymbolicState]] = field(default_factory=dict)
    by_stamp: List[Truth] = field(default_factory=list)
    source: str = ''


def parse_labels(data: Any, num_blocks: Optional[int] = None, num_pegs: int = 3,
                 source: str = 'labels') -> Labels:
    """
    Read labels: frame index or stamp -> state.

    Accepted forms: ``{"frames": {"0": S}, "stamps": {"1.5": S}}``; a flat object whose
    integer keys are frame indices and other numeric keys stamps (seconds); or a list of
    ``{"frame": i, "state": S}`` / ``{"stamp": t, "state": S}``. ``S`` is a symbolic_state
    object, a stacks object ``{"p1": ["b3", "b2", "b1"], ...}`` (bottom first) or null (the
    state is not known at that frame). A stamp label holds from its stamp to the next one.
    """
    labels = Labels(source=source)
    entries: List[Tuple[str, Any, Any]] = []
    if isinstance(data, list):
        for i, item in enumerate(data):
            if not isinstance(item, dict) or not ('frame' in item or 'stamp' in item):
                raise ValidationError('label %d must be {"frame": i or "stamp": t, "state": S}'
                                      % i)
            kind = 'frame' if 'frame' in item else 'stamp'
            entries.append((kind, item[kind], item.get('state', item.get('stacks'))))
    elif isinstance(data, dict):
        if 'frames' in data or 'stamps' in data:
            for kind, key in (('frame', 'frames'), ('stamp', 'stamps')):
                part = data.get(key, {})
                if not isinstance(part, dict):
                    raise ValidationError('"%s" must be an object' % key)
                entries += [(kind, k, v) for k, v in part.items()]
        else:
            for k, v in data.items():
                kind = 'frame' if str(k).strip().lstrip('-').isdigit() else 'stamp'
                entries.append((kind, k, v))
    else:
        raise ValidationError('labels must be a JSON object or list, got %s'
                              % type(data).__name__)
    for kind, key, value in entries:
        where = 'label %s %s' % (kind, key)
        try:
            number = int(key) if kind == 'frame' else float(key)
        except (TypeError, ValueError):
            raise ValidationError('%s: not a %s' % (where, 'frame index' if kind == 'frame'
                                                    else 'stamp in seconds')) from None
        if kind == 'frame' and number < 0:
            raise ValidationError('%s: frame indices start at 0' % where)
        state = _label_state(value, num_blocks, num_pegs, where)
        if kind == 'frame':
            labels.by_frame[int(number)] = state
        else:
            labels.by_stamp.append(Truth(float(number), state, 'labelled unknown'))
    labels.by_stamp.sort(key=lambda tr: tr.t)
    if not labels.by_frame and not labels.by_stamp:
        raise ValidationError('the labels file holds no labels')
    return labels


def load_labels(path: str, num_blocks: Optional[int] = None, num_pegs: int = 3) -> Labels:
    """Read a labels JSON file; raise ValidationError with the reason."""
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as exc:
        raise ValidationError('cannot read labels %s: %s' % (path, exc.strerror)) from None
    except json.JSONDecodeError as exc:
        raise ValidationError('labels %s: malformed JSON (%s at line %d)'
                              % (path, exc.msg, exc.lineno)) from None
    return parse_labels(data, num_blocks, num_pegs, source=path)


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
    """Return the bag's goal and where it came from (plan topic, goal topic or default)."""
    for raw in reversed(scan.plan_goals):
        try:
            goal = Goal.from_json(raw, num_blocks, num_pegs)
            goal.num_blocks = goal.num_blocks or num_blocks
            return goal, 'plan topic'
        except NsvlaError as exc:
            scan.bad(scan.roles.get('plan', PLAN_TOPIC), 'goal: %s' % exc)
    for text in reversed(scan.goal_texts):
        try:
            if text.lstrip().startswith('{'):
                return Goal.from_json(text, num_blocks, num_pegs), 'goal topic (JSON)'
            from nsvla_planner.language import parse_instruction
            goal = parse_instruction(text, num_blocks, num_pegs, colours)
            return goal, 'goal topic: %r' % text
        except NsvlaError as exc:
            scan.bad(scan.roles.get('goal', GOAL_TOPIC), str(exc))
    return (Goal.tower(num_blocks, num_pegs, text='default: the tower on the last peg'),
            'default: tower on p%d' % num_pegs)


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


def summary_line(report: Dict[str, Any]) -> Dict[str, Any]:
    """Return the one-line JSON of ``nsvla replay-eval --json`` (the contract's keys first)."""
    keys = ('frames', 'state_accuracy', 'plans_valid', 'plans_optimal', 'evaluated',
            'outcomes', 'states_seen', 'plans', 'goal', 'backend', 'time_base', 'malformed',
            'energy_per_frame', 'energy_recorded', 'report')
    out = {k: report.get(k) for k in keys if k in report}
    energy = dict(out.get('energy_per_frame') or {})
    out['energy_per_frame'] = {k: energy.get(k) for k in ('joules_mean', 'cpu_s_mean',
                                                          'estimated')}
    rec = out.get('energy_recorded') or {}
    out['energy_recorded'] = rec.get('monitor')
    return out


# ----------------------------------------------------------------------------- report files
def _pct(x: Optional[float]) -> str:
    return '-' if x is None else '%.1f %%' % (100 * x)


def to_markdown(report: Dict[str, Any]) -> str:
    """Return the report as Markdown."""
    o = report['outcomes']
    e = report['energy_per_frame']
    lines = [
        '# Replay evaluation: %s' % report['bag'], '',
        '| | |', '|---|---|',
        '| bag | `%s` (%s) |' % (report['bag'], report['storage']),
        '| camera topic | `%s`, %d frames in the bag, every %d evaluated |'
        % (report['image_topic'], report['frames_in_bag'], report['every']),
        '| perception backend | %s |' % report.get('backend', '?'),
        '| truth | %s (time base: %s) |' % (report['truth'], report['time_base']),
        '| blocks / pegs | %s / %s |' % (report['num_blocks'], report['num_pegs']),
        '| goal | %s (%s) |' % (report['goal'], report['goal_source']), '',
        '## Perception', '',
        '| frames | compared | correct | wrong | missed (unknown) | no truth | skipped '
        '| state accuracy | accuracy when known |',
        '|---|---|---|---|---|---|---|---|---|',
        '| %d | %d | %d | %d | %d | %d | %d | %s | %s |'
        % (report['frames'], report['evaluated'], o['correct'], o['wrong'], o['missed'],
           o['no_truth'], o['skipped'], _pct(report['state_accuracy']),
           _pct(report['accuracy_when_known'])), '']
    if report['no_truth_reasons']:
        lines += ['Frames without a truth to compare with (not errors): %s.' % ', '.join(
            '%s %d' % kv for kv in sorted(report['no_truth_reasons'].items())), '']
    if report['skipped_reasons']:
        lines += ['Skipped frames: %s.' % ', '.join(
            '%s %d' % kv for kv in sorted(report['skipped_reasons'].items())), '']
    if report['malformed']:
        lines += ['Malformed messages (counted and skipped): %s.' % ', '.join(
            '%s %d (%s)' % (t, c, report['malformed_examples'].get(t, ''))
            for t, c in sorted(report['malformed'].items())), '']
    pc = report['plan_counts']
    lines += ['## Plans from the observed states', '',
              '%d distinct known states seen; %d planned: %d valid (%s), %d of %d checked '
              'optimal (%s).' % (report['states_seen'], pc['planned'], pc['valid'],
                                 _pct(report['plans_valid']), pc['optimal'],
                                 pc['optimal_checked'], _pct(report['plans_optimal'])), '',
              '| state | frames | status | moves | optimal moves (reference) | valid | optimal '
              '| planning s | planning J (estimated) |',
              '|---|---|---|---|---|---|---|---|---|']
    for p in report['plan_details']:
        lines.append('| %s | %d | %s | %s | %s (%s) | %s | %s | %.2f | %.2f |' % (
            ' '.join('%s:%s' % (k, ','.join(v) or '-') for k, v in p['state'].items()),
            p['frames'], p['status'], p['moves'], p['optimal_moves'], p['reference'] or '-',
            'yes' if p['valid'] else 'no: %s' % p['reason'],
            '-' if p['optimal'] is None else 'yes' if p['optimal'] else 'no', p['wall_s'],
            p['joules']))
    lines += ['', '## Energy', '',
              '- per frame: %s J mean (%s CPU s), **estimated**: %s.' % (
                  e['joules_mean'], e['cpu_s_mean'], e['method']),
              '- planning: %.2f J over all plans, **estimated** (CPU seconds of this process '
              'and the planner subprocesses x %.1f W per core).' % (report['plan_energy_j'],
                                                                    e['watts_per_core'])]
    rec = report.get('energy_recorded') or {}
    mon = rec.get('monitor')
    if mon:
        lines.append('- recorded by the power monitor (`energy` topic, as published): %s J '
                     'total, source %s%s; per node %s.' % (
                         _num(mon.get('joules')), mon.get('source'),
                         ', estimated' if mon.get('estimated') else '',
                         ', '.join('%s %s' % (k, _num(v))
                                   for k, v in sorted((mon.get('per_node') or {}).items()))))
        if 'live_perception_j_per_state' in rec:
            lines.append('- live perception node: %s J per published state (%d states).' % (
                rec['live_perception_j_per_state'], rec['live_perception_states']))
    for ep in rec.get('episodes', []):
        lines.append('- episode %s: %s J in %s s, success %s (source %s%s).' % (
            ep.get('episode_id'), _num(ep.get('joules')), _num(ep.get('duration_s')),
            ep.get('success'), ep.get('source'), ', estimated' if ep.get('estimated') else ''))
    if not mon and not rec.get('episodes'):
        lines.append('- no `energy` records in the bag.')
    return '\n'.join(lines) + '\n'


def _num(x: Any) -> str:
    return '%.1f' % x if isinstance(x, (int, float)) and not isinstance(x, bool) else str(x)


def plot(report: Dict[str, Any], path: str) -> str:
    """Draw per-frame outcomes, the running accuracy and the CPU time per frame into a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    recs = report['per_frame']
    colours = {'correct': 'tab:green', 'wrong': 'tab:red', 'missed': 'tab:orange',
               'no_truth': 'tab:gray', 'skipped': 'black'}
    fig, (ax0, ax1, ax2) = plt.subplots(3, 1, figsize=(8, 6), sharex=True,
                                        gridspec_kw={'height_ratios': [1.2, 2, 1]})
    ts = [r['t'] for r in recs]
    good = total = 0
    running: List[float] = []
    for r in recs:
        if r['outcome'] in ('correct', 'wrong', 'missed'):
            total += 1
            good += r['outcome'] == 'correct'
        running.append(100.0 * good / total if total else float('nan'))
    for row, (outcome, colour) in enumerate(colours.items()):
        pts = [t for t, r in zip(ts, recs) if r['outcome'] == outcome]
        ax0.scatter(pts, [row] * len(pts), s=14, color=colour, marker='|' if len(recs) > 200
                    else 'o')
    ax0.set_yticks(range(len(colours)))
    ax0.set_yticklabels(['%s (%d)' % (k, report['outcomes'][k]) for k in colours], fontsize=7)
    ax0.set_ylim(len(colours) - 0.5, -0.5)
    ax0.set_title('%s perception on %s: state accuracy %s' % (
        report.get('backend', '?'), '/'.join(report['bag'].rstrip('/').split('/')[-2:]),
        _pct(report['state_accuracy'])), fontsize=9)
    ax1.plot(ts, running, color='tab:blue')
    ax1.set_ylim(-5, 105)
    ax1.set_ylabel('running state\naccuracy %')
    ms = [(t, 1000.0 * r['cpu_s']) for t, r in zip(ts, recs) if 'cpu_s' in r]
    ax2.plot([t for t, _ in ms], [m for _, m in ms], '.', color='tab:purple', ms=3)
    ax2.set_ylabel('perception\nCPU ms / frame')
    ax2.set_xlabel('seconds since the first frame (%s time)' % report['time_base'])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(report: Dict[str, Any], out_dir: str) -> Dict[str, str]:
    """Write ``replay.md``, ``replay.json`` and ``replay.png`` into ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {'markdown': os.path.join(out_dir, 'replay.md'),
             'json': os.path.join(out_dir, 'replay.json'),
             'png': os.path.join(out_dir, 'replay.png')}
    with open(paths['markdown'], 'w') as f:
        f.write(to_markdown(report))
    with open(paths['json'], 'w') as f:
        json.dump(report, f, indent=1, default=str)
    plot(report, paths['png'])
    return paths
