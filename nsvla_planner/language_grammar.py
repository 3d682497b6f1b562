# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The grammar of instructions: words -> clauses of unresolved references (no scene, no state).

A recursive-descent parser with backtracking: each rule yields every way it can read the words
from a position, longest reading first, and the first reading that uses *every* word wins. A
sentence that no reading covers is refused at the farthest word any reading reached::

    sentence    := clause ((',' | 'and' | ', and') (clause | object modifier+))*
    clause      := MOVE-VERB ['down' | 'back'] object modifier*
                 | HOLD-VERB ['up'] object ['up'] modifier*          ("pick up the red block")
                 | object modifier+                                   (after "I want")
    modifier    := destination | source | 'down' | 'back' | 'and' (destination | peg)
    destination := [count [pegs]] [to the] (left | right) [of place]  ("one peg to the right")
                 | PREP place         (to, onto, on, on to, on top of, over to, at, in, ...)
    source      := ('from' | 'off' ['of']) place
    place       := peg | object
    peg         := p3 | peg 3 | peg number 3 | peg C | [the] ORD peg [from the left|right]
                 | the ORD (to) last peg | the last peg | the [far] SIDE [hand] [side] (peg | one)
                 | the SIDE | the peg on the SIDE [hand side] | the peg in the middle
                 | the peg [count [pegs]] [to the] (left | right) of place
                 | the peg between peg and peg | the empty peg | the other peg | the peg
    object      := everything | all [of] [the] [N] blocks | every block | [the] [whole] [N block]
                   (tower | stack | pile | puzzle) [of N blocks] | the towers of hanoi
                 | [the] N blocks | the top N blocks [of place] | the N smallest blocks
                 | [the] [ORD] smallest [block] | [the] COLOUR [block | one] | block [number] N
                 | b2 | the top [block] [of place] | the block on top | the bottom block
                 | the block on peg | the blocks on peg | it | them | object 'and' object
    (a qualifier "on peg" inside an object is read only when a destination follows it)
"""

import dataclasses
from dataclasses import dataclass
import functools
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from nsvla_planner.language_words import (BLOCK_NOUNS, BLOCK_PLURALS, COLOUR_WORDS,
                                          DETERMINERS, HOLD_VERBS, LARGE, LARGE_ADJECTIVES,
                                          MOVE_VERBS, number, object_name, ordinal, PEG_LETTERS,
                                          PEG_NOUNS, PEG_PLURALS, PRONOUNS, SIDES,
                                          SIZE_ADJECTIVES, SMALL, TOWER_NOUNS, WHOLE)


@dataclass(frozen=True)
class PegRef:
    """
    A peg as said, not yet resolved against the scene.

    ``kind``: ``index`` (``n`` from the left; ``style`` number, letter, name or ordinal),
    ``from_right`` (``n`` from the right), ``side`` (``side`` left, right or middle), ``offset``
    (``n`` pegs right, negative left, of ``base``; no base: of what moves), ``between`` (``base``
    and ``other``), ``empty``, and the refused ``other``, ``vague`` ("the peg") and ``bare_dir``
    ("move the tower right").
    """

    kind: str
    said: str
    n: int = 0
    style: str = ''
    side: str = ''
    base: Optional['Place'] = None
    other: Optional['PegRef'] = None


@dataclass(frozen=True)
class ObjRef:
    """
    What moves (or what something goes on), as said.

    ``kind``: ``all`` (``n``: the count said, 0 none), ``some`` ("two blocks"), ``colour``
    (``word``), ``size`` (rank ``n``, ``from_large``), ``number``, ``top`` / ``bottom`` (``n``
    blocks of ``where`` or of the only stack), ``on_peg`` ("the block on the left peg"),
    ``smallest`` / ``largest`` (the ``n`` smallest), ``union`` (``parts``), and the refused
    ``pronoun`` (unless a "pick up X and ..." names it), ``vague`` ("the block") and ``ordinal``
    ("the second block"). ``where`` qualifies: "the tower on the left peg".
    """

    kind: str
    said: str
    n: int = 0
    word: str = ''
    where: Optional['Place'] = None
    parts: Tuple['ObjRef', ...] = ()
    from_large: bool = False


Place = Union[PegRef, ObjRef]


@dataclass(frozen=True)
class Clause:
    """One thing asked: ``kind`` move (to ``dests``) or hold; ``srcs`` where it comes from."""

    kind: str
    verb: str
    obj: ObjRef
    dests: Tuple[Place, ...]
    srcs: Tuple[Place, ...]
    said: str


BLOCKISH = {'colour', 'size', 'number', 'top', 'bottom', 'on_peg', 'union', 'smallest',
            'largest'}
_DEST_PREPS: Sequence[Tuple[str, ...]] = (
    ('on', 'top', 'of'), ('on', 'to'), ('over', 'to'), ('over', 'onto'), ('across', 'to'),
    ('onto',), ('to',), ('on',), ('at',), ('in',), ('towards',), ('toward',))
_DEST_STARTS = {p[0] for p in _DEST_PREPS} | {'back', 'down'}
_NOT_A_PLACE = {'vague', 'other', 'bare_dir'}
_Gen = Iterator[Tuple[PegRef, int]]
_OGen = Iterator[Tuple[ObjRef, int]]
_PGen = Iterator[Tuple[Place, int]]


class GrammarError(ValueError):
    """No reading uses every word; ``position`` is the farthest word any reading reached."""

    def __init__(self, position: int) -> None:
        super().__init__('no reading at word %d' % position)
        self.position = position


def _memo(rule: Callable) -> Callable:
    """Keep every reading a rule gives at a position (packrat parsing: no work done twice)."""
    @functools.wraps(rule)
    def cached(self: '_Reader', *args: Any) -> Iterator:
        key = (rule.__name__,) + args
        hit = self.memo.get(key)
        if hit is None:
            hit = self.memo[key] = list(rule(self, *args))
        return iter(hit)
    return cached


class _Reader:
    def __init__(self, toks: Sequence[str], colours: Sequence[str]) -> None:
        self.t = list(toks)
        self.n = len(self.t)
        self.far = 0
        self.colours = set(colours) | COLOUR_WORDS
        self.memo: Dict[Tuple[Any, ...], List[Any]] = {}

    # ----------------------------------------------------------------- terminals
    def is_(self, i: int, words: Union[set, frozenset, Sequence[str]]) -> bool:
        if i < self.n and self.t[i] in words:
            return True
        self.far = max(self.far, i)
        return False

    def said(self, i: int, j: int) -> str:
        return ' '.join(self.t[i:j])

    def num(self, i: int) -> Optional[int]:
        v = number(self.t[i]) if i < self.n else None
        if v is None:
            self.far = max(self.far, i)
        return v

    def ordn(self, i: int) -> Optional[int]:
        v = ordinal(self.t[i]) if i < self.n else None
        if v is None:
            self.far = max(self.far, i)
        return v

    def the(self, i: int) -> int:
        return i + 1 if self.is_(i, ('the',)) else i

    # ----------------------------------------------------------------- pegs
    def side(self, i: int) -> Iterator[Tuple[str, int]]:
        """Yield ``(left|right|middle, end)`` for "[far] right [hand] [side]"."""
        far = self.is_(i, ('far',))
        k = i + 1 if far else i
        if not self.is_(k, SIDES):
            return
        side = SIDES[self.t[k]]
        if far and side == 'middle':
            return
        m = k + 1
        if side != 'middle' and self.is_(m, ('hand',)):
            if self.is_(m + 1, ('side',)):
                yield side, m + 2
            yield side, m + 1
        if self.is_(m, ('side',)):
            yield side, m + 1
        yield side, m

    def direction(self, i: int, need_count: bool) -> Iterator[Tuple[int, int, bool]]:
        """Yield ``(signed pegs, end, counted)`` for "[by] [two [pegs]] [to the] right"."""
        k, count, counted = i, 1, False
        if self.is_(k, ('by',)):
            k += 1
        v = self.num(k)
        if v is None and self.is_(k, ('a',)) and self.is_(k + 1, PEG_NOUNS):
            v = 1
        if v is not None:
            count, counted, k = v, True, k + 1
            if self.is_(k, PEG_NOUNS | PEG_PLURALS):
                k += 1
        elif need_count or k > i:
            return
        starts = [k]
        if self.is_(k, ('to', 'towards', 'toward')) and self.is_(k + 1, ('the',)):
            starts.insert(0, k + 2)
        for m in starts:
            if self.is_(m, ('left', 'right')):
                sign = 1 if self.t[m] == 'right' else -1
                if not counted:                      # "right by one peg", "right one peg"
                    c = m + 2 if self.is_(m + 1, ('by',)) else m + 1
                    v = self.num(c)
                    if v is not None:
                        e = c + 2 if self.is_(c + 1, PEG_NOUNS | PEG_PLURALS) else c + 1
                        yield sign * v, e, True
                yield sign * count, m + 1, counted

    @_memo
    def peg(self, i: int) -> _Gen:
        """Yield every reading of a peg starting at word ``i``, longest first."""
        t = self.t
        name = object_name(t[i]) if i < self.n else None
        if name and name[0] == 'p':
            yield PegRef('index', t[i], name[1], style='name'), i + 1
        j = self.the(i)
        has_det = j > i
        if self.is_(j, PEG_NOUNS):
            k = j + 1
            if self.is_(k, ('number',)):
                k += 1
            v = self.num(k)
            if v is not None:
                yield PegRef('index', self.said(i, k + 1), v, style='number'), k + 1
            elif k == j + 1 and k < self.n and len(t[k]) == 1 and t[k] in PEG_LETTERS:
                yield (PegRef('index', self.said(i, k + 1), PEG_LETTERS.index(t[k]) + 1,
                              style='letter'), k + 1)
        o = self.ordn(j)
        if o is not None:
            k = j + 1
            if (self.is_(k, ('to', 'from')) and self.is_(k + 1, ('last',))
                    and self.is_(k + 2, PEG_NOUNS)):
                yield PegRef('from_right', self.said(i, k + 3), o, style='ordinal'), k + 3
            if self.is_(k, ('last',)) and self.is_(k + 1, PEG_NOUNS):
                yield PegRef('from_right', self.said(i, k + 2), o, style='ordinal'), k + 2
            if self.is_(k, PEG_NOUNS):
                m = k + 1
                if self.is_(m, ('from',)):
                    m2 = self.the(m + 1)
                    if self.is_(m2, ('left', 'right')):
                        kind = 'from_right' if t[m2] == 'right' else 'index'
                        yield PegRef(kind, self.said(i, m2 + 1), o, style='ordinal'), m2 + 1
                yield PegRef('index', self.said(i, m), o, style='ordinal'), m
        if self.is_(j, ('last',)) and self.is_(j + 1, PEG_NOUNS):
            yield PegRef('from_right', self.said(i, j + 2), 1, style='ordinal'), j + 2
        if self.is_(j, ('last', 'first')):           # "the last but one peg"
            kind = 'from_right' if self.t[j] == 'last' else 'index'
            for e in self._but_one(j + 1, noun_first=False):
                yield PegRef(kind, self.said(i, e), 2, style='ordinal'), e
        for side, k in self.side(j):
            if side != 'middle':                     # "the rightmost peg but one"
                for e in self._but_one(k, noun_first=True):
                    yield (PegRef('from_right' if side == 'right' else 'index',
                                  self.said(i, e), 2, style='ordinal'), e)
            if self.is_(k, PEG_NOUNS) or self.is_(k, ('one',)):
                yield PegRef('side', self.said(i, k + 1), side=side), k + 1
            if has_det and not self.is_(k, ('of',)):
                yield PegRef('side', self.said(i, k), side=side), k
        if self.is_(j, ('empty', 'other')) and self.is_(j + 1, PEG_NOUNS):
            yield PegRef(t[j], self.said(i, j + 2)), j + 2
        if self.is_(j, ('next',)) and self.is_(j + 1, PEG_NOUNS):
            yield PegRef('offset', self.said(i, j + 2), 1), j + 2
        if has_det and self.is_(j, PEG_NOUNS):
            yield from self._the_peg(i, j + 1)

    def _but_one(self, k: int, noun_first: bool) -> List[int]:
        """Return where "[peg] but one [peg]" ends (the second from that end), if it is there."""
        if noun_first:
            if (self.is_(k, PEG_NOUNS) and self.is_(k + 1, ('but',))
                    and self.is_(k + 2, ('one',))):
                return [k + 3]
            return []
        if self.is_(k, ('but',)) and self.is_(k + 1, ('one',)) and self.is_(k + 2, PEG_NOUNS):
            return [k + 3]
        if self.is_(k, PEG_NOUNS) and self.is_(k + 1, ('but',)) and self.is_(k + 2, ('one',)):
            return [k + 3]
        return []

    def _the_peg(self, i: int, k: int) -> _Gen:
        """Read "the peg ..." from the word after "peg"."""
        if self.is_(k, ('on',)) and self.is_(k + 1, ('the',)):
            for side, m in self.side(k + 2):
                if side != 'middle' and self.is_(m, ('of',)):    # "on the left of peg 2"
                    for base, m2 in self.place(m + 1):
                        yield (PegRef('offset', self.said(i, m2), 1 if side == 'right' else -1,
                                      base=base), m2)
                yield PegRef('side', self.said(i, m), side=side), m
        if (self.is_(k, ('in',)) and self.is_(k + 1, ('the',))
                and self.is_(k + 2, ('middle', 'centre', 'center'))):
            yield PegRef('side', self.said(i, k + 3), side='middle'), k + 3
        for delta, m, _counted in self.direction(k, need_count=False):
            if self.is_(m, ('of',)):
                for base, m2 in self.place(m + 1):
                    yield PegRef('offset', self.said(i, m2), delta, base=base), m2
        if self.is_(k, ('furthest', 'farthest')):
            m = k + 3 if self.is_(k + 1, ('to',)) and self.is_(k + 2, ('the',)) else k + 1
            if self.is_(m, ('left', 'right')):
                yield PegRef('side', self.said(i, m + 1), side=self.t[m]), m + 1
        o = self.ordn(k)
        if o is not None and self.is_(k + 1, ('from',)):
            m = self.the(k + 2)
            if self.is_(m, ('left', 'right')):
                kind = 'from_right' if self.t[m] == 'right' else 'index'
                yield PegRef(kind, self.said(i, m + 1), o, style='ordinal'), m + 1
        if self.is_(k, ('next',)) and self.is_(k + 1, ('to',)):
            if self.is_(k + 2, ('it', 'them')):
                yield PegRef('next_to', self.said(i, k + 3)), k + 3
            for base, m in self.place(k + 2):
                if not (isinstance(base, ObjRef) and base.kind == 'pronoun'):
                    yield PegRef('next_to', self.said(i, m), base=base), m
        if (self.is_(k, ('that', 'which')) and self.is_(k + 1, ('is',))
                and self.is_(k + 2, ('empty',))):
            yield PegRef('empty', self.said(i, k + 3)), k + 3
        if self.is_(k, ('where',)):                          # "the peg where X is"
            for o, m in self.obj(k + 1):
                if o.kind in BLOCKISH and self.is_(m, ('is', 'are')):
                    yield PegRef('offset', self.said(i, m + 1), 0, base=o), m + 1
        if self.is_(k, ('with', 'holding')):
            for o, m in self.obj(k + 1):
                if o.kind in BLOCKISH:
                    m2 = m + 2 if self.is_(m, ('on',)) and self.is_(m + 1, ('it',)) else m
                    yield PegRef('offset', self.said(i, m2), 0, base=o), m2
        if self.is_(k, ('between',)):
            for a, m in self._between_end(k + 1):
                if self.is_(m, ('and',)):
                    for b, m2 in self._between_end(m + 1):
                        yield PegRef('between', self.said(i, m2), base=a, other=b), m2
        yield PegRef('vague', self.said(i, k)), k

    def _between_end(self, i: int) -> _Gen:
        j = self.the(i)
        for side, k in self.side(j):
            if self.is_(k, PEG_PLURALS):
                yield PegRef('side', self.said(i, k + 1), side=side), k + 1
        yield from self.peg(i)
        if j == i:
            for side, k in self.side(j):
                yield PegRef('side', self.said(i, k), side=side), k

    # ----------------------------------------------------------------- objects
    @_memo
    def obj(self, i: int) -> _OGen:
        """Yield every reading of what moves from word ``i``; "A and B" first."""
        for a, j in self.obj1(i):
            if a.kind in BLOCKISH and self.is_(j, ('and',)):
                for b, k in self.obj(j + 1):
                    if b.kind in BLOCKISH:
                        parts = (a,) + (b.parts if b.kind == 'union' else (b,))
                        yield ObjRef('union', self.said(i, k), parts=parts), k
            yield a, j

    def _dest_follows(self, k: int) -> bool:
        return k < self.n and (self.t[k] in _DEST_STARTS or number(self.t[k]) is not None)

    def _on_peg(self, i: int) -> _Gen:
        """Read "on the left peg" inside an object, only when a destination follows it."""
        if self.is_(i, ('on',)):
            for p, k in self.peg(i + 1):
                if self._dest_follows(k) and p.kind not in _NOT_A_PLACE:
                    yield p, k

    def _with_on_peg(self, ref: ObjRef, start: int, k: int) -> _OGen:
        for p, m in self._on_peg(k):
            yield dataclasses.replace(ref, said=self.said(start, m), where=p), m
        yield ref, k

    @_memo
    def obj1(self, i: int) -> _OGen:
        """Yield the readings of one object phrase (no "and")."""
        t = self.t
        if self.is_(i, PRONOUNS):
            yield ObjRef('pronoun', t[i], word=t[i]), i + 1
            return
        if self.is_(i, ('everything',)):
            yield from self._with_on_peg(ObjRef('all', t[i]), i, i + 1)
        name = object_name(t[i]) if i < self.n else None
        if name and name[0] == 'b':
            yield ObjRef('number', t[i], name[1]), i + 1
        if self.is_(i, ('all',)):
            k = i + 1
            if self.is_(k, ('of',)):
                k += 1
            k = self.the(k)
            v = self.num(k)
            k2 = k + 1 if v is not None else k
            if self.is_(k2, BLOCK_PLURALS):
                yield from self._with_on_peg(ObjRef('all', self.said(i, k2 + 1), v or 0),
                                             i, k2 + 1)
        if self.is_(i, ('every', 'each')) and self.is_(i + 1, BLOCK_NOUNS):
            yield from self._with_on_peg(ObjRef('all', self.said(i, i + 2)), i, i + 2)
        yield from self._possessive(i)
        if self.is_(i, BLOCK_PLURALS):                 # "blocks 1 and 2"
            yield from self._numbers(i)
        j = i + 1 if self.is_(i, DETERMINERS) else i
        has_det = j > i
        yield from self._tower(i, j)
        yield from self._counted(i, j, has_det)
        yield from self._top_bottom(i, j)
        o = self.ordn(j)
        k = j + 1 if o is not None else j
        if self.is_(k, SMALL | LARGE):
            m = k + 2 if self.is_(k + 1, BLOCK_NOUNS | {'one'}) else k + 1
            yield from self._with_on_peg(ObjRef('size', self.said(i, m), o or 1,
                                                from_large=t[k] in LARGE), i, m)
        if o is not None and self.is_(j + 1, BLOCK_NOUNS):
            yield ObjRef('ordinal', self.said(i, j + 2), o), j + 2
        adj = j + 1 if self.is_(j, SIZE_ADJECTIVES) else j
        if adj < self.n and t[adj] in self.colours:
            m = adj + 2 if self.is_(adj + 1, BLOCK_NOUNS | {'one'}) else adj + 1
            yield from self._with_on_peg(ObjRef('colour', self.said(i, m), word=t[adj],
                                                from_large=adj > j and t[j] in LARGE_ADJECTIVES,
                                                n=1 if adj > j else 0), i, m)
            yield from self._colour_list(i, adj)
        if self.is_(j, BLOCK_NOUNS):
            k = j + 2 if self.is_(j + 1, ('number',)) else j + 1
            v = self.num(k)
            name = object_name(t[k]) if k == j + 1 and k < self.n else None
            if name and name[0] == 'b':                        # "block b2"
                v = name[1]
            if v is not None:
                yield from self._with_on_peg(ObjRef('number', self.said(i, k + 1), v), i, k + 1)
            for p, m in self._on_peg(j + 1):
                yield ObjRef('on_peg', self.said(i, m), where=p), m
            yield ObjRef('vague', self.said(i, j + 1)), j + 1
        if has_det and self.is_(j, BLOCK_PLURALS):
            yield from self._with_on_peg(ObjRef('all', self.said(i, j + 1)), i, j + 1)

    def _possessive(self, i: int) -> _OGen:
        """Read "the left peg's blocks", "peg 2's top block"."""
        for p, k in self.peg(i):
            if p.kind in _NOT_A_PLACE or not self.is_(k, ("'s",)):
                continue
            if self.is_(k + 1, BLOCK_PLURALS | TOWER_NOUNS):
                yield ObjRef('all', self.said(i, k + 2), where=p), k + 2
            if self.is_(k + 1, ('top', 'bottom')):
                kind = self.t[k + 1]
                m = k + 3 if self.is_(k + 2, BLOCK_NOUNS) else k + 2
                yield ObjRef(kind, self.said(i, m), 1, where=p), m

    def _numbers(self, i: int) -> _OGen:
        """Read "blocks 1 and 2", "blocks 1, 2 and 3"."""
        k, parts = i + 1, []
        while True:
            v = self.num(k)
            if v is None:
                return
            parts.append(ObjRef('number', self.said(k, k + 1), v))
            if self.is_(k + 1, (',',)) and k + 2 < self.n:
                k += 2
            elif self.is_(k + 1, ('and',)):
                v = self.num(k + 2)
                if v is not None and len(parts) >= 1:
                    parts.append(ObjRef('number', self.said(k + 2, k + 3), v))
                    yield ObjRef('union', self.said(i, k + 3), parts=tuple(parts)), k + 3
                return
            else:
                return

    def _colour_list(self, i: int, j: int) -> _OGen:
        """Read "the red and orange blocks", "the red, orange and yellow blocks"."""
        words, k = [self.t[j]], j + 1
        while k + 1 < self.n and self.t[k] in (',', 'and') and self.t[k + 1] in self.colours:
            words.append(self.t[k + 1])
            last_and = self.t[k] == 'and'
            k += 2
            if last_and and self.is_(k, BLOCK_PLURALS):
                parts = tuple(ObjRef('colour', w, word=w) for w in words)
                yield ObjRef('union', self.said(i, k + 1), parts=parts), k + 1
                return

    def _tower(self, i: int, j: int) -> _OGen:
        """Read "[the] [whole] [4 block] tower [of 4 blocks]", "the towers of hanoi"."""
        k = j + 1 if self.is_(j, WHOLE) else j
        count = 0
        v = self.num(k)
        if v is not None and self.is_(k + 1, BLOCK_NOUNS):
            count, k = v, k + 2
        if self.is_(k, TOWER_NOUNS | {'towers', 'hanoi'}):
            m = k + 1
            if self.t[k] == 'hanoi':
                if self.is_(m, ('tower', 'puzzle')):
                    m += 1
                yield ObjRef('all', self.said(i, m), count), m
                return
            if self.is_(m, ('of',)):
                v = self.num(m + 1)
                if v is not None and self.is_(m + 2, BLOCK_PLURALS):
                    yield from self._with_on_peg(ObjRef('all', self.said(i, m + 3), v), i, m + 3)
                if self.is_(m + 1, ('hanoi',)):
                    yield ObjRef('all', self.said(i, m + 2), count), m + 2
            if self.t[k] != 'towers':
                yield from self._with_on_peg(ObjRef('all', self.said(i, m), count), i, m)

    def _counted(self, i: int, j: int, has_det: bool) -> _OGen:
        """Read "the three blocks", "two blocks", "the two smallest blocks"."""
        v = self.num(j)
        if v is None:
            return
        if self.is_(j + 1, BLOCK_PLURALS) or (v == 1 and self.is_(j + 1, BLOCK_NOUNS)):
            ref = ObjRef('all' if has_det else 'some', self.said(i, j + 2), v)
            yield from self._with_on_peg(ref, i, j + 2)
        if self.is_(j + 1, SMALL | LARGE) and self.is_(j + 2, BLOCK_PLURALS):
            kind = 'largest' if self.t[j + 1] in LARGE else 'smallest'
            yield ObjRef(kind, self.said(i, j + 3), v), j + 3

    def _top_bottom(self, i: int, j: int) -> _OGen:
        """Read "the top (two) block(s) (of X)", "the block on top", "the bottom block"."""
        t = self.t
        if self.is_(j, ('top', 'topmost', 'bottom', 'bottommost')):
            kind = 'top' if t[j].startswith('top') else 'bottom'
            k, count, noun = j + 1, 1, False
            v = self.num(k)
            if v is not None and self.is_(k + 1, BLOCK_PLURALS | BLOCK_NOUNS):
                count, k, noun = v, k + 2, True
            elif self.is_(k, BLOCK_NOUNS | {'one'}):
                k, noun = k + 1, True
            yield from self._of_place(ObjRef(kind, '', count), i, k, require=not noun)
        if self.is_(j, BLOCK_NOUNS):
            k = j + 1
            ends = []
            if self.is_(k, ('on',)) and self.is_(k + 1, ('top',)):
                ends.append(('top', k + 2))
            if (self.is_(k, ('at',)) and self.is_(k + 1, ('the',))
                    and self.is_(k + 2, ('top', 'bottom'))):
                ends.append((t[k + 2], k + 3))
            for kind, m in ends:
                yield from self._of_place(ObjRef(kind, '', 1), i, m, require=False)

    def _of_place(self, ref: ObjRef, i: int, k: int, require: bool) -> _OGen:
        if self.is_(k, ('of', 'on', 'from')):
            for place, m in self.place(k + 1):
                if self.t[k] != 'of' and not (isinstance(place, PegRef)
                                              and self._dest_follows(m)):
                    continue
                yield ObjRef(ref.kind, self.said(i, m), ref.n, where=place), m
        if not require:
            yield ObjRef(ref.kind, self.said(i, k), ref.n), k

    # ----------------------------------------------------------------- places and clauses
    @_memo
    def place(self, i: int) -> _PGen:
        """Yield the readings of a peg, then of an object, at word ``i``."""
        yield from self.peg(i)
        for o, k in self.obj(i):
            if o.kind in BLOCKISH and self.is_(k, ("'s",)) and self.is_(k + 1, PEG_NOUNS):
                yield PegRef('offset', self.said(i, k + 2), 0, base=o), k + 2  # "red's peg"
            yield o, k

    @_memo
    def dest(self, i: int) -> _PGen:
        """Yield the readings of where something goes, from word ``i``."""
        for delta, k, counted in self.direction(i, need_count=False):
            if self.is_(k, ('of',)):
                for base, m in self.place(k + 1):
                    yield PegRef('offset', self.said(i, m), delta, base=base), m
            if counted:
                yield PegRef('offset', self.said(i, k), delta), k
            elif k == i + 1:
                yield PegRef('bare_dir', self.t[i], side=self.t[i]), k
        if (self.is_(i, ('at',)) and self.is_(i + 1, ('the',)) and self.is_(i + 2, ('bottom',))
                and self.is_(i + 3, ('of',))):
            for p, k in self.peg(i + 4):
                yield PegRef('base', self.said(i, k), base=p), k
        for prep in _DEST_PREPS:
            if tuple(self.t[i:i + len(prep)]) == prep:
                if prep == ('at',):
                    yield from self.peg(i + 1)
                else:
                    yield from self.place(i + len(prep))
            else:
                self.far = max(self.far, i)

    def src(self, i: int) -> _PGen:
        if self.is_(i, ('from', 'off')):
            k = i + 2 if self.t[i] == 'off' and self.is_(i + 1, ('of',)) else i + 1
            yield from self.place(k)

    @_memo
    def mods(self, i: int) -> Iterator[Tuple[List[Tuple[str, Optional[Place]]], int]]:
        """Yield every sequence of modifiers from word ``i``, longest first."""
        for mod, j in self._mod(i):
            for rest, k in self.mods(j):
                yield [mod] + rest, k
        yield [], i

    def _mod(self, i: int) -> Iterator[Tuple[Tuple[str, Optional[Place]], int]]:
        if self.is_(i, ('down', 'back')):
            yield ('adverb', None), i + 1
        for d, j in self.dest(i):
            yield ('dest', d), j
        for s, j in self.src(i):
            yield ('src', s), j
        if self.is_(i, ('and',)):
            for d, j in self.dest(i + 1):
                yield ('and_dest', d), j
            for p, j in self.peg(i + 1):
                yield ('and_dest', p), j

    def _finish(self, kind: str, verb: str, obj: ObjRef, start: int, k: int,
                need_dest: bool = False) -> Iterator[Tuple[Clause, int]]:
        for mods, m in self.mods(k):
            kinds = [what for what, _p in mods]
            if 'and_dest' in kinds and ('dest' not in kinds
                                        or kinds.index('dest') > kinds.index('and_dest')):
                continue            # "and on peg 3" only after a first destination
            dests = tuple(p for what, p in mods if what in ('dest', 'and_dest') and p is not None)
            srcs = tuple(p for what, p in mods if what == 'src' and p is not None)
            if need_dest and not dests:
                continue
            yield Clause('move' if dests else kind, verb, obj, dests, srcs,
                         self.said(start, m)), m

    @_memo
    def clause(self, i: int) -> Iterator[Tuple[Clause, int]]:
        """Yield the readings of one clause with a verb, from word ``i``."""
        t = self.t
        if self.is_(i, ('pick',)):
            if self.is_(i + 1, ('up',)):
                for o, k in self.obj(i + 2):
                    yield from self._finish('hold', 'pick up', o, i, k)
            for o, k in self.obj(i + 1):
                if self.is_(k, ('up',)):
                    yield from self._finish('hold', 'pick up', o, i, k + 1)
        elif self.is_(i, HOLD_VERBS):
            k = i + 2 if self.is_(i + 1, ('up',)) else i + 1
            for o, m in self.obj(k):
                m2 = m + 1 if self.is_(m, ('up',)) else m
                yield from self._finish('hold', t[i], o, i, m2)
        elif self.is_(i, MOVE_VERBS):
            k = i + 2 if self.is_(i + 1, ('down', 'back')) else i + 1
            for o, m in self.obj(k):
                yield from self._finish('move', t[i], o, i, m)

    @_memo
    def elliptic(self, i: int) -> Iterator[Tuple[Clause, int]]:
        """Yield the readings of a clause without a verb: an object and where it goes."""
        for o, k in self.obj(i):
            yield from self._finish('move', '', o, i, k, need_dest=True)

    @_memo
    def clauses(self, i: int, verbless: bool) -> Iterator[Tuple[List[Clause], int]]:
        first = self.elliptic(i) if verbless else self.clause(i)
        for c, j in first:
            for k in self._separators(j):
                for rest, m in self.clauses(k, False):
                    yield [c] + rest, m
                for rest, m in self.clauses(k, True):
                    yield [c] + rest, m
            yield [c], j

    def _separators(self, j: int) -> List[int]:
        out = []
        if self.is_(j, (',', ';')):
            out.append(j + 2 if self.is_(j + 1, ('and',)) else j + 1)
        elif self.is_(j, ('and',)):
            out.append(j + 1)
        return out


def rank(clauses: List[Clause]) -> Tuple[bool, int]:
    """
    Order readings: lower is preferred.

    First, every moving clause has exactly one destination ("the peg one to the right of
    peg 2" is one peg, not "peg one" and then "to the right of peg 2"); then, fewer phrases
    at clause level ("the third peg from the right" is one peg, not a peg and a source).
    """
    one_place = all(len(c.dests) == 1 or (c.kind == 'hold' and not c.dests) for c in clauses)
    return not one_place, len(clauses) + sum(len(c.dests) + len(c.srcs) for c in clauses)


def read(toks: Sequence[str], colours: Sequence[str], verbless: bool = False,
         max_readings: int = 32) -> List[List[List[Clause]]]:
    """
    Return the readings of ``toks`` that use every word, grouped by :func:`rank`, best first.

    Within a group the order is the rules' (longest phrase first). At most ``max_readings``
    are read; raise GrammarError when there is none.
    """
    reader = _Reader(toks, colours)
    readings: List[List[Clause]] = []
    for clauses, end in reader.clauses(0, verbless):
        if end != reader.n:
            reader.far = max(reader.far, end)
            continue
        readings.append(clauses)
        if len(readings) >= max_readings:
            break
    if not readings:
        raise GrammarError(min(reader.far, max(reader.n - 1, 0)))
    groups: Dict[Tuple[bool, int], List[List[Clause]]] = {}
    for r in readings:
        groups.setdefault(rank(r), []).append(r)
    return [groups[k] for k in sorted(groups)]
