# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Read a recorded rosbag2 (mcap or sqlite3) for the replay evaluation, without ROS.

A bag written by ``ros2 bag record``, by ``nsvla record`` or by ``nsvla demo`` is read with the
pure-Python ``rosbags`` package in two passes:

1. :func:`scan_bag` reads the small topics: the ground truth (``sim/ground_truth``), the goal
   (the ``plan`` results, the ``execution_status`` episode starts, the ``goal`` instruction of
   old bags), the power monitor's ``energy`` and ``energy/episode`` records, the perception
   states (``symbolic_state``, counted) and the camera frames' stamps. Topics are matched by name
   with any namespace in front (``/ns/camera/image_raw`` is a camera topic).
2. :func:`iter_frames` decodes each ``sensor_msgs/Image`` frame (``rgb8`` or ``bgr8``).

Each topic may be typed (``nsvla_interfaces``, recorded since the switch) or JSON in
``std_msgs/String`` (older bags): the connection's type decides
(:func:`nsvla_eval.replay_decode.decode`). Typed messages are deserialised with a type store
made of ROS 2 Kilted's types, the definitions the bag carries and, for types the bag has no
definition of, the installed ``nsvla_interfaces`` ``.msg`` files. Malformed messages are
counted per topic and skipped.
"""

from collections import Counter
from dataclasses import dataclass, field
import os
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from nsvla_common.errors import NsvlaError, ValidationError
from nsvla_eval.recorder import interface_types
from nsvla_eval.replay_decode import (CAMERA_TOPIC, decode, IMAGE_TYPE, ROLE_TOPICS,
                                      role_types, TRUTH_TOPIC)
from nsvla_planner.state import SymbolicState


class BagError(ValidationError):
    """A bag that cannot be read or lacks what the evaluation needs."""

    status = 'bad_bag'


# ----------------------------------------------------------------------------- topics, types
def topic_matches(name: str, wanted: str) -> bool:
    """Return true when topic ``name`` is ``wanted`` (relative) under any namespace."""
    name = '/' + name.strip('/')
    wanted = wanted.strip('/')
    return name == '/' + wanted or name.endswith('/' + wanted)


def _types_of(conn: Any) -> Dict[str, Any]:
    """Parse trees of the message definition a connection carries (empty when none)."""
    from rosbags.interfaces import MessageDefinitionFormat
    from rosbags.typesys import get_types_from_idl, get_types_from_msg
    msgdef = getattr(conn, 'msgdef', None)
    if msgdef is None or not msgdef.data:
        return {}
    if msgdef.format == MessageDefinitionFormat.IDL:
        return get_types_from_idl(msgdef.data)
    return get_types_from_msg(msgdef.data, conn.msgtype)


def bag_typestore(connections: Sequence[Any]) -> Tuple[Any, Dict[str, str]]:
    """
    Return a type store that decodes ``connections``, and why a type could not be added.

    Kilted's types first; a type it lacks comes from the definition in the bag (what the bytes
    were written with), else from the installed ``nsvla_interfaces`` sources.
    """
    from rosbags.typesys import get_typestore, Stores
    store = get_typestore(Stores.ROS2_KILTED)
    problems: Dict[str, str] = {}
    for conn in connections:
        if conn.msgtype in store.fielddefs:
            continue
        try:
            types = _types_of(conn)
            store.register({k: v for k, v in types.items() if k not in store.fielddefs})
        except Exception as exc:  # noqa: BLE001 - a bad definition: try the installed one
            problems[conn.msgtype] = 'the definition in the bag is unusable: %s' % exc
    missing = {c.msgtype for c in connections} - set(store.fielddefs)
    if missing:
        try:
            installed = interface_types()
            store.register({k: v for k, v in installed.items() if k not in store.fielddefs})
        except Exception as exc:  # noqa: BLE001 - ConfigError or a parse error: reported below
            for name in missing:
                problems.setdefault(name, str(exc))
    for name in {c.msgtype for c in connections} - set(store.fielddefs):
        problems.setdefault(name, 'no definition in the bag or installed')
    return store, problems


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


def _pick_topic(connections: Sequence[Any], wanted: str, msgtypes: Sequence[str],
                required: bool = False) -> Optional[str]:
    """Return the bag topic that is ``wanted`` (exact name first, else any namespace)."""
    names: Dict[str, Tuple[Set[str], int]] = {}
    for c in connections:
        types, count = names.get(c.topic, (set(), 0))
        names[c.topic] = (types | {c.msgtype}, count + int(getattr(c, 'msgcount', 0) or 0))
    exact = [n for n in names if '/' + n.strip('/') == '/' + wanted.strip('/')]
    candidates = exact or [n for n in names if topic_matches(n, wanted)]
    if not candidates:
        if required:
            raise BagError('the bag has no %s topic (topics: %s)'
                           % (wanted, ', '.join(sorted(names)) or 'none'))
        return None
    best = max(candidates, key=lambda n: names[n][1])
    wrong = sorted(names[best][0] - set(msgtypes))
    if wrong:
        raise BagError('topic %s is %s, expected %s'
                       % (best, ' and '.join(wrong), ' or '.join(msgtypes)))
    return best


# ----------------------------------------------------------------------------- the scan
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
    truth_header: List[Truth] = field(default_factory=list)     # by the state's own stamp
    truth_receive: List[Truth] = field(default_factory=list)    # by the bag's receive time
    frame_header: List[float] = field(default_factory=list)
    frame_receive: List[float] = field(default_factory=list)
    goal_texts: List[str] = field(default_factory=list)
    plan_goals: List[Dict[str, Any]] = field(default_factory=list)
    episode_goals: List[Dict[str, Any]] = field(default_factory=list)
    energy: List[Dict[str, Any]] = field(default_factory=list)
    energy_episodes: List[Dict[str, Any]] = field(default_factory=list)
    symbolic_states: int = 0
    episode_events: int = 0
    malformed: Dict[str, int] = field(default_factory=dict)
    malformed_examples: Dict[str, str] = field(default_factory=dict)
    num_blocks: Optional[int] = None
    num_pegs: Optional[int] = None
    roles: Dict[str, str] = field(default_factory=dict)    # role -> topic in the bag

    def bad(self, topic: str, why: str) -> None:
        """Count a malformed message of ``topic``."""
        self.malformed[topic] = self.malformed.get(topic, 0) + 1
        self.malformed_examples.setdefault(topic, why[:200])

    def add(self, role: str, value: Any, t: float, sizes: Counter) -> None:
        """Take in what one message of ``role`` meant (see :func:`replay_decode.decode`)."""
        if role == 'truth':
            sizes[(value.num_blocks, value.num_pegs)] += 1
            self.truth_header.append(Truth(float(value.stamp or 0.0), value))
            self.truth_receive.append(Truth(t, value))
        elif role == 'state':
            self.symbolic_states += 1
        elif role == 'plan':
            if value is not None:
                self.plan_goals.append(value)
        elif role == 'status':
            self.episode_events += 1
            if value.get('event') == 'episode_start' and isinstance(value.get('goal'), dict):
                self.episode_goals.append(value['goal'])
        elif role == 'energy':
            self.energy.append(value)
        elif role == 'episode':
            self.energy_episodes.append(value)
        elif role == 'goal':
            self.goal_texts.append(value)


def _ns_to_s(ns: int) -> float:
    return ns * 1e-9


def _header_s(msg: Any) -> float:
    stamp = msg.header.stamp
    return float(stamp.sec) + float(stamp.nanosec) * 1e-9


def scan_bag(path: str, image_topic: str = CAMERA_TOPIC,
             truth_topic: str = TRUTH_TOPIC) -> BagScan:
    """First pass: read every topic but the camera's pixels; raise BagError on a bad bag."""
    reader = open_reader(path)
    try:
        conns = list(reader.connections)
        topics: Dict[str, Dict[str, Any]] = {}
        for c in conns:
            entry = topics.setdefault(c.topic, {'type': c.msgtype, 'messages': 0})
            entry['messages'] += int(getattr(c, 'msgcount', 0) or 0)
        image = _pick_topic(conns, image_topic, (IMAGE_TYPE,), required=True)
        scan = BagScan(path, _storage_name(path), topics, image or '', 0)
        wanted = {role: _pick_topic(conns, truth_topic if role == 'truth' else topic,
                                    role_types(role))
                  for role, topic in ROLE_TOPICS.items()}
        scan.truth_topic = wanted['truth']
        scan.roles = {role: name for role, name in wanted.items() if name}
        role_of = {name: role for role, name in wanted.items() if name}
        read = [c for c in conns if c.topic in role_of or c.topic == image]
        store, problems = bag_typestore(read)
        sizes: Counter = Counter()
        for conn, t_ns, raw in _messages(reader, read):
            topic = conn.topic
            try:
                msg = store.deserialize_cdr(raw, conn.msgtype)
            except Exception as exc:  # noqa: BLE001 - a corrupt message is counted
                msg = None
                why = problems.get(conn.msgtype, exc)
                scan.bad(topic, 'undecodable %s: %s' % (conn.msgtype, why))
            if topic == image:
                scan.frame_header.append(_header_s(msg) if msg is not None else 0.0)
                scan.frame_receive.append(_ns_to_s(t_ns))
                continue
            if msg is None:
                continue
            role = role_of[topic]
            try:
                value = decode(role, conn.msgtype, msg)
            except NsvlaError as exc:
                scan.bad(topic, str(exc))
                continue
            scan.add(role, value, _ns_to_s(t_ns), sizes)
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


# ----------------------------------------------------------------------------- frames
def iter_frames(path: str, scan: BagScan) -> Iterator[Tuple[int, Any, str]]:
    """Second pass: yield ``(index, rgb array or None, reason when None)`` per camera frame."""
    from nsvla_perception.image import image_from_fields
    reader = open_reader(path)
    try:
        conns = [c for c in reader.connections if c.topic == scan.image_topic]
        store, _problems = bag_typestore(conns)
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
