# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Symbolic states and goals of the Towers of Hanoi domain, with strict JSON (de)serialisation.

Objects are blocks ``b1..bN`` (``b1`` smallest) and pegs ``p1..pK``. A state is a set of facts
``on(x, y)``, ``clear(x)``, ``holding(x)`` and ``hand_empty``, each with a confidence in [0, 1].
The static ``smaller`` facts belong to the domain, not to the state. A legal state has every block
in exactly one place (on one support or in the hand), never a larger block on a smaller one, and
no cycles. Any legal configuration is a valid start, not only a full tower.

JSON form (``schema: nsvla/symbolic_state/1``)::

    {"schema": "nsvla/symbolic_state/1", "stamp": 1.7e9, "source": "ground_truth",
     "num_blocks": 3, "num_pegs": 3, "status": "known", "reason": "",
     "facts": [{"predicate": "on", "args": ["b3", "p1"], "confidence": 1.0}, ...]}

``status`` is ``unknown`` (with a ``reason``) when a perceiver could not tell; such a state carries
no facts the planner may use.

**Loose blocks.** A block off every peg — lying on the table, or resting where the rules forbid
(on a smaller block, across a peg tip) — is a fact too: ``loose(x, y)`` with ``y`` the
:data:`TABLE` or the block or peg it rests on (which is then not clear; a loose block is never
clear either: nothing may be stacked on it). Its estimated pose (table position from the camera,
yaw where seen, upright or not) travels with the state in ``loose`` so that a skill can grasp it
there; the planner's ``pick_loose`` / ``move_loose`` actions take it back to a peg.
"""

import math
import random
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from nsvla_common import envelope
from nsvla_common.errors import IllegalStateError, ValidationError
from nsvla_common.symbols import block, MAX_BLOCKS, MAX_PEGS, peg  # noqa: F401 - re-exported

STATE_SCHEMA = 'symbolic_state'
GOAL_SCHEMA = 'goal'
STATE_PREDICATES = {'on': 2, 'clear': 1, 'holding': 1, 'hand_empty': 0, 'loose': 2}
GOAL_PREDICATES = {'on': 2, 'clear': 1, 'holding': 1, 'hand_empty': 0}
_NAME = re.compile(r'^([bp])([1-9][0-9]*)$')
TABLE = 'table'   # where a loose block lies when it rests on no block or peg

FactKey = Tuple[str, Tuple[str, ...]]


def block_index(name: str) -> int:
    """Size rank of a block name (``b3`` -> 3)."""
    return int(name[1:])


def fact_str(key: FactKey) -> str:
    """Readable form of a fact: ``on(b1, b2)``."""
    pred, args = key
    return '%s(%s)' % (pred, ', '.join(args)) if args else pred


def _check_sizes(num_blocks: Any, num_pegs: Any) -> Tuple[int, int]:
    for label, value, high in (('num_blocks', num_blocks, MAX_BLOCKS),
                               ('num_pegs', num_pegs, MAX_PEGS)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
            raise ValidationError('%s must be an integer in 1..%d, got %r' % (label, high, value))
    if num_pegs < 3:
        raise ValidationError('num_pegs must be at least 3 (got %d)' % num_pegs)
    return num_blocks, num_pegs


@dataclass(frozen=True, eq=False)
class LoosePose:
    """
    Where a loose block is: centre (m, world frame), yaw (rad, NaN when not seen), upright.

    ``yaw`` of an upright block is the heading of its x axis (its flats every 2 pi / segments);
    of a tilted one (not upright: leaning, on its edge) the heading of the horizontal line in
    its plane, the line its tilt turns about: fingers closing along it meet its edges.
    ``tilt`` is the angle between its axis and the vertical (rad, 0 lying flat, pi/2 standing
    on its edge), NaN when the image does not say.
    """

    x: float
    y: float
    z: float
    yaw: float = float('nan')
    upright: bool = True
    tilt: float = float('nan')

    def __eq__(self, other: object) -> bool:
        """Field by field, an angle not seen (NaN) equal to one not seen."""
        if not isinstance(other, LoosePose):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> Tuple[Any, ...]:
        return (self.x, self.y, self.z, None if math.isnan(self.yaw) else self.yaw,
                self.upright, None if math.isnan(self.tilt) else self.tilt)

    def to_dict(self) -> Dict[str, Any]:
        return {'x': self.x, 'y': self.y, 'z': self.z,
                'yaw': None if math.isnan(self.yaw) else self.yaw, 'upright': self.upright,
                'tilt': None if math.isnan(self.tilt) else self.tilt}


def _parse_pose(raw: Any, where: str) -> LoosePose:
    if not isinstance(raw, dict):
        raise ValidationError('%s: a loose block pose must be an object, got %r' % (where, raw))
    vals = []
    for key in ('x', 'y', 'z'):
        v = raw.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValidationError('%s: %s must be a finite number, got %r' % (where, key, v))
        vals.append(float(v))
    yaw = raw.get('yaw')
    if yaw is None:
        yaw = float('nan')
    elif isinstance(yaw, bool) or not isinstance(yaw, (int, float)):
        raise ValidationError('%s: yaw must be a number or null, got %r' % (where, yaw))
    upright = raw.get('upright', True)
    if not isinstance(upright, bool):
        raise ValidationError('%s: upright must be true or false, got %r' % (where, upright))
    tilt = raw.get('tilt')
    if tilt is None:
        tilt = float('nan')
    elif (isinstance(tilt, bool) or not isinstance(tilt, (int, float))
          or not 0.0 <= tilt <= math.pi / 2 + 1e-6):   # float32 of pi/2 is above it
        raise ValidationError('%s: tilt must be an angle in 0..pi/2 (rad) or null, got %r'
                              % (where, tilt))
    return LoosePose(vals[0], vals[1], vals[2], float(yaw), upright,
                     min(float(tilt), math.pi / 2))


def _check_object(name: Any, num_blocks: int, num_pegs: int, where: str,
                  table: bool = False) -> str:
    if not isinstance(name, str):
        raise ValidationError('%s: object name must be a string, got %r' % (where, name))
    if table and name == TABLE:
        return name
    m = _NAME.match(name)
    if not m:
        raise ValidationError('%s: unknown object %r (blocks are b1..b%d, pegs p1..p%d)'
                              % (where, name, num_blocks, num_pegs))
    kind, idx = m.group(1), int(m.group(2))
    limit = num_blocks if kind == 'b' else num_pegs
    if idx > limit:
        raise ValidationError('%s: unknown object %r (blocks are b1..b%d, pegs p1..p%d)'
                              % (where, name, num_blocks, num_pegs))
    return name


def parse_facts(raw: Any, num_blocks: int, num_pegs: int, allowed: Dict[str, int],
                what: str) -> Dict[FactKey, float]:
    """Validate a JSON list of facts; return {(predicate, args): confidence}."""
    if not isinstance(raw, list):
        raise ValidationError('%s: "facts" must be a list, got %s' % (what, type(raw).__name__))
    out: Dict[FactKey, float] = {}
    for i, item in enumerate(raw):
        where = '%s fact #%d' % (what, i)
        if not isinstance(item, dict):
            raise ValidationError('%s must be an object, got %r' % (where, item))
        pred = item.get('predicate')
        if pred not in allowed:
            raise ValidationError('%s: unknown predicate %r (allowed: %s)'
                                  % (where, pred, ', '.join(sorted(allowed))))
        args = item.get('args', [])
        if not isinstance(args, list) or len(args) != allowed[pred]:
            raise ValidationError('%s: %s takes %d argument(s), got %r'
                                  % (where, pred, allowed[pred], args))
        args_t = tuple(_check_object(a, num_blocks, num_pegs, where,
                                     table=(pred == 'loose' and j == 1))
                       for j, a in enumerate(args))
        key = (pred, args_t)
        where = '%s %s' % (what, fact_str(key))
        if pred in ('on', 'holding', 'loose') and not args_t[0].startswith('b'):
            raise ValidationError('%s: the first argument must be a block' % where)
        conf = item.get('confidence', 1.0)
        if (not isinstance(conf, (int, float)) or isinstance(conf, bool)
                or not 0.0 <= float(conf) <= 1.0):
            raise ValidationError('%s: confidence must be a number in [0, 1], got %r'
                                  % (where, conf))
        if key in out:
            raise ValidationError('%s appears twice' % where)
        out[key] = float(conf)
    return out


class SymbolicState:
    """A legal (or explicitly unknown) Hanoi state with a confidence per fact."""

    def __init__(self, num_blocks: int, num_pegs: int, support: Dict[str, str],
                 holding: Optional[str] = None,
                 confidence: Optional[Dict[FactKey, float]] = None,
                 stamp: Optional[float] = None, source: str = 'unknown',
                 status: str = 'known', reason: str = '',
                 loose: Optional[Dict[str, str]] = None,
                 poses: Optional[Dict[str, LoosePose]] = None) -> None:
        self.num_blocks, self.num_pegs = _check_sizes(num_blocks, num_pegs)
        self.support = dict(support)
        self.holding = holding
        self.loose: Dict[str, str] = dict(loose or {})       # loose block -> what it rests on
        self.poses: Dict[str, LoosePose] = dict(poses or {})  # loose block -> estimated pose
        self.stamp = stamp
        self.source = source
        self.status = status
        self.reason = reason
        self._confidence = dict(confidence or {})
        if status == 'known':
            self.check_legal()
        elif status != 'unknown':
            raise ValidationError('status must be "known" or "unknown", got %r' % (status,))

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_stacks(cls, stacks: Dict[str, Sequence[str]], num_blocks: int, num_pegs: int,
                    holding: Optional[str] = None, confidence: float = 1.0,
                    **kwargs: Any) -> 'SymbolicState':
        """Build from ``{peg: [bottom, ..., top]}``; pegs not named are empty."""
        support: Dict[str, str] = {}
        for p, blocks in stacks.items():
            below = p
            for b in blocks:
                if b in support:
                    raise IllegalStateError('block %s is in two places' % b)
                support[b] = below
                below = b
        state = cls(num_blocks, num_pegs, support, holding, **kwargs)
        state._confidence = {k: float(confidence) for k in state.fact_keys()}
        return state

    @classmethod
    def tower(cls, num_blocks: int, num_pegs: int = 3, on_peg: int = 1,
              **kwargs: Any) -> 'SymbolicState':
        """Build the standard start: all blocks stacked on one peg, largest at the bottom."""
        blocks = [block(i) for i in range(num_blocks, 0, -1)]
        return cls.from_stacks({peg(on_peg): blocks}, num_blocks, num_pegs, **kwargs)

    @classmethod
    def from_assignment(cls, pegs_of_blocks: Sequence[int], num_pegs: int,
                        **kwargs: Any) -> 'SymbolicState':
        """Build the only legal state in which block ``i+1`` is on peg ``pegs_of_blocks[i]``."""
        n = len(pegs_of_blocks)
        stacks: Dict[str, List[str]] = {}
        for i in range(n, 0, -1):
            stacks.setdefault(peg(pegs_of_blocks[i - 1]), []).append(block(i))
        return cls.from_stacks(stacks, n, num_pegs, **kwargs)

    @classmethod
    def random(cls, num_blocks: int, num_pegs: int = 3, rng: Optional[random.Random] = None,
               **kwargs: Any) -> 'SymbolicState':
        """Draw a uniformly random legal configuration (every legal one is a peg per block)."""
        rng = rng or random.Random()
        return cls.from_assignment([rng.randint(1, num_pegs) for _ in range(num_blocks)],
                                   num_pegs, **kwargs)

    @classmethod
    def unknown(cls, num_blocks: int, num_pegs: int, reason: str,
                **kwargs: Any) -> 'SymbolicState':
        """Build a state a perceiver could not determine, with the reason."""
        return cls(num_blocks, num_pegs, {}, None, status='unknown', reason=reason, **kwargs)

    # ----------------------------------------------------------------- queries
    @property
    def known(self) -> bool:
        return self.status == 'known'

    def blocks(self) -> List[str]:
        return [block(i) for i in range(1, self.num_blocks + 1)]

    def pegs(self) -> List[str]:
        return [peg(i) for i in range(1, self.num_pegs + 1)]

    def above(self, x: str) -> Optional[str]:
        """Return the block resting directly on ``x``, if any."""
        for b, s in self.support.items():
            if s == x:
                return b
        return None

    def is_clear(self, x: str) -> bool:
        """Nothing on x, x not in the hand, not loose, and no loose block resting on it."""
        return (self.above(x) is None and self.holding != x and x not in self.loose
                and x not in self.loose.values())

    def peg_of(self, b: str) -> Optional[str]:
        """Return the peg whose stack holds block ``b`` (None when held)."""
        seen = 0
        x = b
        while x in self.support:
            x = self.support[x]
            seen += 1
            if seen > self.num_blocks:
                return None
        return x if x.startswith('p') else None

    def stacks(self) -> Dict[str, List[str]]:
        """``{peg: [bottom, ..., top]}`` for every peg (empty pegs give empty lists)."""
        out: Dict[str, List[str]] = {}
        for p in self.pegs():
            column = []
            x = self.above(p)
            while x is not None:
                column.append(x)
                x = self.above(x)
            out[p] = column
        return out

    def assignment(self) -> Tuple[int, ...]:
        """Peg number of each block b1..bN (0 held, -1 loose): a compact, hashable key."""
        out = []
        for b in self.blocks():
            p = self.peg_of(b)
            out.append(-1 if b in self.loose else int(p[1:]) if p else 0)
        return tuple(out)

    def fact_keys(self) -> List[FactKey]:
        """All true facts in a stable order."""
        if not self.known:
            return []
        keys: List[FactKey] = []
        for b in self.blocks():
            if b in self.support:
                keys.append(('on', (b, self.support[b])))
            elif b in self.loose:
                keys.append(('loose', (b, self.loose[b])))
        for x in self.blocks() + self.pegs():
            if self.is_clear(x):
                keys.append(('clear', (x,)))
        if self.holding:
            keys.append(('holding', (self.holding,)))
        else:
            keys.append(('hand_empty', ()))
        return keys

    def confidence(self, key: FactKey) -> float:
        return self._confidence.get(key, 1.0)

    def min_confidence(self) -> float:
        keys = self.fact_keys()
        return min((self.confidence(k) for k in keys), default=0.0)

    # ----------------------------------------------------------------- legality
    def check_legal(self) -> None:
        """Raise IllegalStateError naming the offending fact when the state breaks a rule."""
        blocks = set(self.blocks())
        objects = blocks | set(self.pegs())
        for b, s in self.support.items():
            if b not in blocks:
                raise IllegalStateError('on(%s, %s): %s is not a block of this %d-block problem'
                                        % (b, s, b, self.num_blocks))
            if s not in objects:
                raise IllegalStateError('on(%s, %s): unknown support %s' % (b, s, s))
            if s == b:
                raise IllegalStateError('on(%s, %s): a block cannot rest on itself' % (b, s))
            if s.startswith('b') and block_index(s) < block_index(b):
                raise IllegalStateError('on(%s, %s): %s is larger than %s (larger on smaller)'
                                        % (b, s, b, s))
        if self.holding is not None:
            if self.holding not in blocks:
                raise IllegalStateError('holding(%s): not a block' % self.holding)
            if self.holding in self.support:
                raise IllegalStateError('holding(%s) and on(%s, %s): a block in two places'
                                        % (self.holding, self.holding,
                                           self.support[self.holding]))
        for b, s_ in self.loose.items():
            if b not in blocks:
                raise IllegalStateError('loose(%s, %s): %s is not a block of this %d-block problem'
                                        % (b, s_, b, self.num_blocks))
            if s_ != TABLE and s_ not in objects or s_ == b:
                raise IllegalStateError('loose(%s, %s): it cannot rest on %s' % (b, s_, s_))
            if b in self.support or b == self.holding:
                raise IllegalStateError('loose(%s, %s) and %s elsewhere: a block in two places'
                                        % (b, s_, b))
            if s_ in self.loose:
                raise IllegalStateError('loose(%s, %s): %s is loose itself (pick it first)'
                                        % (b, s_, s_))
        leaning: Dict[str, str] = {}
        for b, s_ in sorted(self.loose.items()):
            if s_ != TABLE and s_ in leaning:
                raise IllegalStateError('loose(%s, %s) and loose(%s, %s): two loose blocks on %s'
                                        % (leaning[s_], s_, b, s_, s_))
            leaning[s_] = b
        for b in self.poses:
            if b not in self.loose:
                raise IllegalStateError('a pose is given for %s, which is not loose' % b)
        held = {self.holding} if self.holding else set()
        missing = sorted(blocks - set(self.support) - held - set(self.loose), key=block_index)
        if missing:
            raise IllegalStateError('block %s has no position (neither on something, held '
                                    'nor loose)' % missing[0])
        resting: Dict[str, str] = {}
        for b, s in sorted(self.support.items()):
            if s in self.loose:
                raise IllegalStateError('on(%s, %s): %s is loose: nothing rests on it legally'
                                        % (b, s, s))
            if s in resting:
                raise IllegalStateError('on(%s, %s) and on(%s, %s): two blocks on %s'
                                        % (resting[s], s, b, s, s))
            resting[s] = b
        for b in self.support:
            if self.peg_of(b) is None:
                raise IllegalStateError('on(%s, %s): the blocks under %s form a cycle'
                                        % (b, self.support[b], b))

    # ----------------------------------------------------------------- JSON
    def to_dict(self) -> Dict[str, Any]:
        body: Dict[str, Any] = {
            'source': self.source, 'num_blocks': self.num_blocks, 'num_pegs': self.num_pegs,
            'status': self.status, 'reason': self.reason,
            'facts': [{'predicate': p, 'args': list(a), 'confidence': self.confidence((p, a))}
                      for p, a in self.fact_keys()],
        }
        if self.known:
            body['stacks'] = self.stacks()
            if self.loose:
                body['loose'] = [dict({'block': b, 'on': self.loose[b],
                                       'confidence': self.confidence(('loose',
                                                                      (b, self.loose[b])))},
                                      **(self.poses[b].to_dict() if b in self.poses else {}))
                                 for b in sorted(self.loose, key=block_index)]
        return envelope.make(STATE_SCHEMA, body, stamp=self.stamp)

    def to_json(self) -> str:
        return envelope.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: Any) -> 'SymbolicState':
        """Parse and validate; raise ValidationError / IllegalStateError naming the fact."""
        data = envelope.parse(text, STATE_SCHEMA)
        num_blocks, num_pegs = _check_sizes(data.get('num_blocks'), data.get('num_pegs'))
        status = data.get('status', 'known')
        meta = {'stamp': float(data['stamp']), 'source': str(data.get('source', 'unknown')),
                'status': status, 'reason': str(data.get('reason', ''))}
        if status == 'unknown':
            return cls(num_blocks, num_pegs, {}, None, **meta)
        facts = parse_facts(data.get('facts'), num_blocks, num_pegs, STATE_PREDICATES, 'state')
        support: Dict[str, str] = {}
        holding = None
        loose: Dict[str, str] = {}
        for (pred, args) in facts:
            if pred == 'loose':
                if args[0] in loose:
                    raise IllegalStateError('loose(%s, %s) and loose(%s, %s): one block, two '
                                            'places' % (args[0], loose[args[0]], *args))
                loose[args[0]] = args[1]
            elif pred == 'on':
                b, s = args
                if b in support:
                    raise IllegalStateError('on(%s, %s) and on(%s, %s): block %s is in two places'
                                            % (b, support[b], b, s, b))
                support[b] = s
            elif pred == 'holding':
                if holding is not None:
                    raise IllegalStateError('holding(%s) and holding(%s): one hand, two blocks'
                                            % (holding, args[0]))
                holding = args[0]
        poses: Dict[str, LoosePose] = {}
        raw_loose = data.get('loose', [])
        if not isinstance(raw_loose, list):
            raise ValidationError('"loose" must be a list, got %s' % type(raw_loose).__name__)
        for item in raw_loose:
            if not isinstance(item, dict) or item.get('block') not in loose:
                raise ValidationError('"loose" entry %r names no block with a loose fact'
                                      % (item,))
            if any(k in item for k in ('x', 'y', 'z')):
                poses[item['block']] = _parse_pose(item, 'loose %s' % item['block'])
        state = cls(num_blocks, num_pegs, support, holding, confidence=facts, loose=loose,
                    poses=poses, **meta)
        derived = set(state.fact_keys())
        for key in facts:
            if key not in derived:
                raise IllegalStateError('%s contradicts the other facts' % fact_str(key))
        if ('hand_empty', ()) in facts and holding is not None:
            raise IllegalStateError('hand_empty contradicts holding(%s)' % holding)
        stacks = data.get('stacks')
        if stacks is not None and stacks != state.stacks():
            raise ValidationError('"stacks" %r does not match the facts (%r)'
                                  % (stacks, state.stacks()))
        return state

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SymbolicState):
            return NotImplemented
        return (self.num_blocks, self.num_pegs, self.status, self.support, self.holding,
                self.loose) == (other.num_blocks, other.num_pegs, other.status, other.support,
                                other.holding, other.loose)

    def __hash__(self) -> int:
        return hash((self.num_blocks, self.num_pegs, self.assignment(), self.holding))

    def __repr__(self) -> str:
        if not self.known:
            return 'SymbolicState(unknown: %s)' % self.reason
        cols = ' | '.join('%s:%s' % (p, ','.join(s)) for p, s in self.stacks().items())
        hand = ' hand:%s' % self.holding if self.holding else ''
        loose = ''.join(' loose:%s@%s' % (b, s) for b, s in sorted(self.loose.items()))
        return 'SymbolicState(%s%s%s)' % (cols, hand, loose)


class Goal:
    """A conjunction of goal facts, optionally with the block count the instruction asked for."""

    def __init__(self, facts: Iterable[FactKey], num_blocks: Optional[int] = None,
                 num_pegs: Optional[int] = None, text: str = '',
                 stamp: Optional[float] = None) -> None:
        self.facts: List[FactKey] = list(facts)
        self.num_blocks = num_blocks
        self.num_pegs = num_pegs
        self.text = text
        self.stamp = stamp
        if not self.facts:
            raise ValidationError('a goal needs at least one fact')

    @classmethod
    def tower(cls, num_blocks: int, on_peg: int, **kwargs: Any) -> 'Goal':
        """All blocks stacked in order on peg ``on_peg``."""
        facts: List[FactKey] = [('on', (block(num_blocks), peg(on_peg)))]
        facts += [('on', (block(i), block(i + 1))) for i in range(1, num_blocks)]
        return cls(facts, num_blocks=num_blocks, **kwargs)

    def check_against(self, state: SymbolicState) -> None:
        """Raise ValidationError when the goal names objects the state's problem lacks."""
        if self.num_blocks is not None and self.num_blocks != state.num_blocks:
            raise ValidationError('the goal is for %d blocks but the state has %d'
                                  % (self.num_blocks, state.num_blocks))
        if self.num_pegs is not None and self.num_pegs != state.num_pegs:
            raise ValidationError('the goal is for %d pegs but the state has %d'
                                  % (self.num_pegs, state.num_pegs))
        for pred, args in self.facts:
            for a in args:
                _check_object(a, state.num_blocks, state.num_pegs, 'goal %s'
                              % fact_str((pred, args)))
            if pred == 'on' and args[1].startswith('b') and (
                    block_index(args[1]) <= block_index(args[0])):
                raise ValidationError('goal %s asks for a larger block on a smaller one'
                                      % fact_str((pred, args)))

    def satisfied_by(self, state: SymbolicState) -> bool:
        return state.known and all(k in set(state.fact_keys()) for k in self.facts)

    def to_dict(self) -> Dict[str, Any]:
        body: Dict[str, Any] = {
            'text': self.text,
            'facts': [{'predicate': p, 'args': list(a)} for p, a in self.facts]}
        if self.num_blocks is not None:
            body['num_blocks'] = self.num_blocks
        if self.num_pegs is not None:
            body['num_pegs'] = self.num_pegs
        return envelope.make(GOAL_SCHEMA, body, stamp=self.stamp)

    def to_json(self) -> str:
        return envelope.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: Any, num_blocks: int = MAX_BLOCKS,
                  num_pegs: int = MAX_PEGS) -> 'Goal':
        """Parse and validate a JSON goal; objects are range-checked against the given sizes."""
        data = envelope.parse(text, GOAL_SCHEMA)
        nb = data.get('num_blocks')
        np_ = data.get('num_pegs')
        if nb is not None or np_ is not None:
            nb2, np2 = _check_sizes(nb if nb is not None else num_blocks,
                                    np_ if np_ is not None else num_pegs)
            num_blocks, num_pegs = nb2, np2
        facts = parse_facts(data.get('facts'), num_blocks, num_pegs, GOAL_PREDICATES, 'goal')
        return cls(list(facts), num_blocks=nb, num_pegs=np_, text=str(data.get('text', '')),
                   stamp=float(data['stamp']))

    def __repr__(self) -> str:
        return 'Goal(%s)' % ' & '.join(fact_str(k) for k in self.facts)
