# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Instructions in words -> goals: every word understood, or the sentence refused with the reason.

Three steps, each in its own module:

1. words (:mod:`language_words`): tokens; harmless words ("please", "as fast as you can") are
   dropped; a word that asks for what the planner cannot honour (a number of moves, "then", "or",
   a negation, "except", "without", "slowly") or a word nobody defined refuses the sentence and is
   named in the reason;
2. grammar (:mod:`language_grammar`): the first reading that uses every word, as clauses of
   references ("the top block", "one peg to the right of the tower");
3. resolution (here): references against the scene (blocks, pegs, colour words) and the state
   the robot starts from, then the goal.

What a goal means::

    the tower / everything / all 3 blocks -> to peg K    every block in order on peg K
    a block (or several: "the top two blocks") to peg K  those blocks, largest lowest, on peg K:
                       on the peg's base, or on the top of the blocks already there that are
                       larger (the start state says which; without one, on the base)
    a block on another block                             directly on it; larger on smaller is
                                                         refused
    pick up a block                                      holding(block)

References to the start state ("the top block", "the block on the left peg", "one peg to the
right", "the empty peg") need it: pass ``state``; without one they are refused. A goal is never
guessed: "middle" with an even number of pegs, "the block", "the other peg", a peg or block that
does not exist, a count that does not match the scene, two targets for one block, and "it" that
refers to nothing are refused with what was not clear. :func:`describe_goal` says a goal back
in words ("b1..b3 as a tower on p3").
"""

from typing import Dict, List, Optional, Sequence, Tuple

from nsvla_common.errors import InstructionError
from nsvla_planner.language_grammar import (Clause, GrammarError, ObjRef, PegRef, Place,
                                            read)
from nsvla_planner.language_words import (COLOUR_WORDS, constraint_reasons, known_word,
                                          object_name, PEG_LETTERS, strip_harmless, tokens)
from nsvla_planner.state import block, block_index, FactKey, fact_str, Goal, peg, SymbolicState

__all__ = ['InstructionParser', 'parse_instruction', 'describe_goal']


def _q(said: str) -> str:
    return "'%s'" % said


def _list(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) < 2:
        return ''.join(items)
    return '%s and %s' % (', '.join(items[:-1]), items[-1])


class InstructionParser:
    """
    Parse instructions for a scene of ``num_blocks`` blocks and ``num_pegs`` pegs.

    ``colours`` maps a colour word to a block name (``{'red': 'b1'}``, one word per colour);
    ``state`` is the state the robot starts from, against which "the top block", "the block on
    the left peg", "one peg to the right" and "the empty peg" are resolved.
    """

    def __init__(self, num_blocks: int, num_pegs: int = 3,
                 colours: Optional[Dict[str, str]] = None,
                 state: Optional[SymbolicState] = None) -> None:
        for label, value in (('num_blocks', num_blocks), ('num_pegs', num_pegs)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InstructionError('%s must be a positive integer, got %r' % (label, value))
        self.num_blocks = num_blocks
        self.num_pegs = num_pegs
        self.colours = {k.lower(): v for k, v in (colours or {}).items()
                        if 1 <= block_index(v) <= num_blocks}
        self.colour_of = {v: k for k, v in self.colours.items()}
        self.stacks: Optional[Dict[int, List[str]]] = None
        if state is not None and state.known:
            if (state.num_blocks, state.num_pegs) != (num_blocks, num_pegs):
                raise InstructionError('the start state has %d blocks and %d pegs, the scene %d '
                                       'and %d' % (state.num_blocks, state.num_pegs, num_blocks,
                                                   num_pegs))
            self.stacks = {int(p[1:]): list(s) for p, s in state.stacks().items()}

    # ----------------------------------------------------------------- entry point
    def parse(self, text: str) -> Goal:
        """Return the goal the instruction asks for, or raise InstructionError with the reason."""
        if not isinstance(text, str) or not text.strip():
            raise InstructionError('empty instruction: say what to move and where')
        toks, verbless = strip_harmless(tokens(text))
        if not toks:
            raise InstructionError('%r says nothing to do: say what to move and where' % text)
        reasons = constraint_reasons(toks)
        if reasons:
            raise InstructionError('cannot honour %r: %s' % (text, '; '.join(reasons)))
        absent = list(dict.fromkeys(t for t in toks
                                    if t in COLOUR_WORDS and t not in self.colours))
        if absent:
            have = ('the %d blocks are %s' % (self.num_blocks, _list(
                [self.colour_of[block(i)] for i in range(1, self.num_blocks + 1)]))
                if len(self.colour_of) == self.num_blocks else 'the scene names no colours')
            raise InstructionError('no block is %s here (%s), in %r'
                                   % (' or '.join(absent), have, text))
        unknown = list(dict.fromkeys(t for t in toks if not known_word(t, self.colours)))
        if unknown:
            raise InstructionError('did not understand %s in %r'
                                   % (', '.join(_q(u) for u in unknown), text))
        try:
            readings = read(toks, sorted(self.colours), verbless)
        except GrammarError as exc:
            before = ' '.join(toks[max(0, exc.position - 3):exc.position])
            rest = ' '.join(toks[exc.position:exc.position + 4])
            raise InstructionError('could not make sense of %s%s in %r' % (
                _q(rest), ' (after %s)' % _q(before) if before else '', text)) from None
        first_error: Optional[InstructionError] = None
        for group in readings:          # the best-ranked readings first; see language_grammar
            goals: List[Goal] = []
            for clauses in group:
                try:
                    goal = self._goal(clauses, text)
                except InstructionError as exc:
                    first_error = first_error or exc
                    continue
                if all(set(goal.facts) != set(g.facts) for g in goals):
                    goals.append(goal)
            if len(goals) > 1:
                raise InstructionError('%r can be read as %s: say it another way' % (
                    text, ' or as '.join(_q(describe_goal(g, self.colours)) for g in goals[:3])))
            if goals:
                return goals[0]
        assert first_error is not None
        raise InstructionError('%s, in %r' % (first_error, text))

    # ----------------------------------------------------------------- names and the state
    def name(self, b: str) -> str:
        """Return ``b1 (red)``, or ``b1`` when the scene has no colour for it."""
        return '%s (%s)' % (b, self.colour_of[b]) if b in self.colour_of else b

    def _need_state(self, said: str) -> Dict[int, List[str]]:
        if self.stacks is None:
            raise InstructionError('%s depends on where the blocks are now, and no start state '
                                   'was given' % _q(said))
        return self.stacks

    def _peg_of(self, b: str) -> Optional[int]:
        assert self.stacks is not None
        for p, column in self.stacks.items():
            if b in column:
                return p
        return None

    def _peg_of_blocks(self, blocks: Sequence[str], said: str) -> int:
        self._need_state(said)
        pegs = {self._peg_of(b) for b in blocks}
        if len(pegs) != 1 or None in pegs:
            where = ', '.join('%s on %s' % (self.name(b), peg(p) if p else 'no peg')
                              for b, p in ((b, self._peg_of(b)) for b in blocks))
            raise InstructionError('%s: the blocks are not on one peg (%s)' % (_q(said), where))
        return pegs.pop()    # type: ignore[return-value]

    # ----------------------------------------------------------------- pegs
    def _base_peg(self, ref: PegRef, moving: Optional[Sequence[str]], missing: str) -> int:
        """Return the peg a relative reference counts from: its named place, else what moves."""
        if ref.base is not None:
            return self.place_peg(ref.base)
        if moving is None:
            raise InstructionError('%s: %s' % (_q(ref.said), missing))
        return self._peg_of_blocks(moving, ref.said)

    def peg_number(self, ref: PegRef, moving: Optional[Sequence[str]] = None) -> int:
        """Resolve a peg reference to its number (1 = leftmost); ``moving``: what moves."""
        k = self.num_pegs
        if ref.kind == 'index':
            if 1 <= ref.n <= k:
                return ref.n
            if ref.style == 'ordinal':
                raise InstructionError('%s: there are only %d pegs' % (_q(ref.said), k))
            if ref.style == 'letter':
                raise InstructionError('%s: there is no peg %s (pegs are A..%s)'
                                       % (_q(ref.said), PEG_LETTERS[ref.n - 1].upper(),
                                          PEG_LETTERS[k - 1].upper()))
            if ref.style == 'name':
                raise InstructionError('%s: there is no peg p%d (pegs are p1..p%d)'
                                       % (_q(ref.said), ref.n, k))
            raise InstructionError('%s: there is no peg %d (pegs are 1..%d)'
                                   % (_q(ref.said), ref.n, k))
        if ref.kind == 'from_right':
            if 1 <= ref.n <= k:
                return k + 1 - ref.n
            raise InstructionError('%s: there are only %d pegs' % (_q(ref.said), k))
        if ref.kind == 'side':
            if ref.side == 'left':
                return 1
            if ref.side == 'right':
                return k
            if k % 2 == 0:
                raise InstructionError('%s: %d pegs have no middle one: name the peg (e.g. '
                                       "'peg 2')" % (_q(ref.said), k))
            return (k + 1) // 2
        if ref.kind == 'offset':
            base = self._base_peg(ref, moving, 'of what?')
            target = base + ref.n
            if not 1 <= target <= k:
                raise InstructionError('%s: no peg is %d to the %s of %s (pegs are p1..p%d)'
                                       % (_q(ref.said), abs(ref.n),
                                          'right' if ref.n > 0 else 'left', peg(base), k))
            return target
        if ref.kind == 'between':
            assert isinstance(ref.base, PegRef) and ref.other is not None
            a, b = sorted((self.peg_number(ref.base), self.peg_number(ref.other)))
            inner = list(range(a + 1, b))
            if len(inner) == 1:
                return inner[0]
            if not inner:
                raise InstructionError('%s: no peg lies between %s and %s'
                                       % (_q(ref.said), peg(a), peg(b)))
            raise InstructionError('%s: %d pegs lie between %s and %s (%s): name one'
                                   % (_q(ref.said), len(inner), peg(a), peg(b),
                                      ', '.join(peg(p) for p in inner)))
        if ref.kind == 'empty':
            stacks = self._need_state(ref.said)
            empty = [p for p in range(1, k + 1) if not stacks[p]]
            if len(empty) == 1:
                return empty[0]
            if not empty:
                raise InstructionError('%s: no peg is empty' % _q(ref.said))
            raise InstructionError('%s: %d pegs are empty (%s): say which'
                                   % (_q(ref.said), len(empty), ', '.join(peg(p) for p in empty)))
        if ref.kind == 'base':
            assert isinstance(ref.base, PegRef)
            return self.peg_number(ref.base)
        if ref.kind == 'next_to':
            b = self._base_peg(ref, moving, 'next to what?')
            beside = [p for p in (b - 1, b + 1) if 1 <= p <= k]
            if len(beside) == 1:
                return beside[0]
            raise InstructionError('%s: %s or %s? say which'
                                   % (_q(ref.said), peg(b - 1), peg(b + 1)))
        if ref.kind == 'other':
            raise InstructionError("%s: which other peg? name it (e.g. 'the right peg' or "
                                   "'peg 3')" % _q(ref.said))
        if ref.kind == 'bare_dir':
            raise InstructionError("%s: to the %s peg, or one peg to the %s? say 'the %s peg' "
                                   "or 'one peg to the %s'" % ((_q(ref.said),) + (ref.side,) * 4))
        raise InstructionError("%s: which peg? name it (e.g. 'the right peg' or 'peg 3')"
                               % _q(ref.said))

    def place_peg(self, place: Place) -> int:
        """Return the peg a place names: a peg, or the peg of the blocks an object names."""
        if isinstance(place, PegRef):
            return self.peg_number(place)
        return self._peg_of_blocks(self.blocks_of(place), place.said)

    # ----------------------------------------------------------------- blocks
    def _stack_under(self, ref: ObjRef, hint: Optional[int]) -> List[str]:
        """Return the stack (bottom first) whose top or bottom ``ref`` names."""
        stacks = self._need_state(ref.said)
        if isinstance(ref.where, PegRef):
            p = self.peg_number(ref.where)
            if not stacks[p]:
                raise InstructionError('%s: nothing is on %s' % (_q(ref.said), peg(p)))
            return stacks[p]
        if isinstance(ref.where, ObjRef):
            inner = self.blocks_of(ref.where)
            p = self._peg_of_blocks(inner, ref.where.said)
            return [b for b in stacks[p] if b in inner]
        full = [p for p in sorted(stacks) if stacks[p]]
        if len(full) > 1 and hint is not None and hint in full:
            full.remove(hint)      # what moves to peg K is not already on peg K
        if len(full) == 1:
            return stacks[full[0]]
        if not full:
            raise InstructionError('%s: no block is on a peg' % _q(ref.said))
        end = -1 if ref.kind == 'top' else 0
        tops = ', '.join('%s: %s' % (peg(p), stacks[p][end]) for p in full)
        raise InstructionError("%s: %d pegs have a %s block (%s): say which, e.g. 'the %s block "
                               "of the left peg'" % (_q(ref.said), len(full), ref.kind, tops,
                                                     ref.kind))

    def blocks_of(self, ref: ObjRef, hint: Optional[int] = None,
                  src: Optional[int] = None) -> List[str]:
        """Resolve what an object names to block names, largest first."""
        out = self._blocks_of(ref, hint, src)
        if (ref.kind in ('colour', 'size', 'number') and isinstance(ref.where, PegRef)
                and self.stacks is not None):       # "the red block on the left peg": a check
            p = self.peg_number(ref.where)
            for b in out:
                at = self._peg_of(b)
                if at != p:
                    raise InstructionError('%s is on %s, not on %s' % (
                        self.name(b), peg(at) if at else 'no peg', _q(ref.where.said)))
        return out

    def _blocks_of(self, ref: ObjRef, hint: Optional[int], src: Optional[int]) -> List[str]:
        n = self.num_blocks
        every = [block(i) for i in range(n, 0, -1)]
        said = _q(ref.said)
        if ref.kind == 'all':
            qual = self.peg_number(ref.where) if isinstance(ref.where, PegRef) else None
            if qual is not None and src is not None and qual != src:
                raise InstructionError('%s: on %s or from %s?' % (said, peg(qual), peg(src)))
            where = qual if qual is not None else src
            if where is None or self.stacks is None:
                if ref.n and ref.n != n:
                    raise InstructionError('%s: the scene has %d blocks, not %d'
                                           % (said, n, ref.n))
                return every
            column = self.stacks[where]
            if not column:
                raise InstructionError('%s: nothing is on %s' % (said, peg(where)))
            if ref.n and ref.n != len(column):
                raise InstructionError('%s: %d blocks are on %s, not %d'
                                       % (said, len(column), peg(where), ref.n))
            return list(column)
        if ref.kind == 'some':
            if ref.n == n:
                return every
            raise InstructionError("%s: which %s? name them (e.g. 'the top two blocks', 'the "
                                   "red block and the orange block')"
                                   % (said, 'one' if ref.n == 1 else str(ref.n)))
        if ref.kind == 'colour':
            b = self.colours[ref.word]
            if ref.n:    # "the small red block": the size said must fit
                half = (n + 1) // 2
                fits = block_index(b) > n // 2 if ref.from_large else block_index(b) <= half
                if not fits:
                    raise InstructionError('%s: %s is one of the %s blocks' % (
                        said, self.name(b), 'larger' if not ref.from_large else 'smaller'))
            return [b]
        if ref.kind == 'size':
            if ref.n > n:
                raise InstructionError('%s: there are only %d blocks' % (said, n))
            return [block(n + 1 - ref.n) if ref.from_large else block(ref.n)]
        if ref.kind == 'number':
            if 1 <= ref.n <= n:
                return [block(ref.n)]
            if object_name(ref.said) is not None:
                raise InstructionError('%s: there is no block %s (blocks are b1..b%d)'
                                       % (said, ref.said, n))
            raise InstructionError('%s: there is no block %d (blocks are 1..%d)'
                                   % (said, ref.n, n))
        if ref.kind in ('top', 'bottom'):
            column = self._stack_under(ref, hint)
            if ref.n > len(column):
                raise InstructionError('%s: only %d blocks are there' % (said, len(column)))
            part = column[-ref.n:] if ref.kind == 'top' else column[:ref.n]
            return sorted(part, key=block_index, reverse=True)
        if ref.kind == 'on_peg':
            stacks = self._need_state(ref.said)
            assert isinstance(ref.where, PegRef)
            p = self.peg_number(ref.where)
            if len(stacks[p]) == 1:
                return list(stacks[p])
            if not stacks[p]:
                raise InstructionError('%s: nothing is on %s' % (said, peg(p)))
            raise InstructionError('%s: %d blocks are on %s (%s): which one?'
                                   % (said, len(stacks[p]), peg(p),
                                      ', '.join(self.name(b) for b in stacks[p])))
        if ref.kind in ('smallest', 'largest'):
            if ref.n > n:
                raise InstructionError('%s: there are only %d blocks' % (said, n))
            chosen = every[:ref.n] if ref.kind == 'largest' else every[-ref.n:]
            return chosen
        if ref.kind == 'union':
            out: List[str] = []
            for part in ref.parts:
                for b in self.blocks_of(part, hint):
                    if b in out:
                        raise InstructionError('%s names %s twice' % (said, self.name(b)))
                    out.append(b)
            return sorted(out, key=block_index, reverse=True)
        if ref.kind == 'ordinal':
            raise InstructionError("%s: second from the top, or second smallest? say 'the "
                                   "second smallest block' or 'block 2'" % said
                                   if ref.n == 2 else
                                   "%s: which block? say 'the %s smallest block' or 'block %d'"
                                   % (said, ref.said.split()[-2], ref.n))
        if ref.kind == 'pronoun':
            raise InstructionError("%s refers to nothing said before it: name the block (e.g. "
                                   "'the red block') or say 'the tower'" % said)
        raise InstructionError("%s: which block? name it by colour, size, number or place "
                               "(e.g. 'the red block', 'the smallest block', 'block 2', 'the "
                               "top block')" % said)

    # ----------------------------------------------------------------- goals
    def _clauses(self, clauses: List[Clause]) -> List[Clause]:
        """Join "pick up X and put it on Y" into one clause; refuse "it" with no antecedent."""
        out: List[Clause] = []
        for c in clauses:
            if c.obj.kind == 'pronoun':
                if not out or out[-1].kind != 'hold' or not c.dests:
                    raise InstructionError("%s refers to nothing said before it: name the block "
                                           "(e.g. 'the red block') or say 'the tower'"
                                           % _q(c.obj.said))
                held = out.pop()
                c = Clause('move', c.verb, held.obj, c.dests, held.srcs + c.srcs,
                           held.said + ' and ' + c.said)
            out.append(c)
        return out

    def _placement(self, c: Clause) -> Tuple[List[FactKey], Optional[int]]:
        """Return the facts one clause asks for, and the peg when it asks for the whole tower."""
        if len(c.dests) > 1:
            raise InstructionError('more than one target (%s) for %s: one place at a time'
                                   % (', '.join(_q(d.said) for d in c.dests), _q(c.obj.said)))
        srcs = [s for s in c.srcs if not (isinstance(s, ObjRef) and s.kind == 'all')]
        if len(srcs) > 1:
            raise InstructionError('more than one source (%s)'
                                   % ', '.join(_q(s.said) for s in srcs))
        src = None
        if srcs:
            if not isinstance(srcs[0], PegRef):
                raise InstructionError("%s: say which peg it comes from" % _q(srcs[0].said))
            src = self.peg_number(srcs[0])
        dest = c.dests[0] if c.dests else None
        hint = None
        if isinstance(dest, PegRef) and not (dest.kind in ('offset', 'next_to')
                                             and dest.base is None):
            hint = self.peg_number(dest)
        blocks = self.blocks_of(c.obj, hint, src if c.obj.kind == 'all' else None)
        if src is not None and c.obj.kind != 'all' and self.stacks is not None:
            for b in blocks:
                if self._peg_of(b) != src:
                    at = self._peg_of(b)
                    raise InstructionError('%s is on %s, not on %s' % (
                        self.name(b), peg(at) if at else 'no peg', _q(srcs[0].said)))
        if c.kind == 'hold':
            if len(blocks) != 1:
                raise InstructionError('%s: the gripper holds one block at a time'
                                       % _q(c.obj.said))
            return [('holding', (blocks[0],))], None
        if dest is None:
            raise InstructionError("%s says what to move but not where: add a peg (e.g. 'to "
                                   "the right peg' or 'to peg 3')" % _q(c.said))
        if isinstance(dest, PegRef):
            k = hint if hint is not None else self.peg_number(dest, blocks)
            if len(blocks) == self.num_blocks:
                return Goal.tower(self.num_blocks, k).facts, k
            base = peg(k)
            if self.stacks is not None and dest.kind != 'base':
                larger = [b for b in self.stacks[k]
                          if b not in blocks and block_index(b) > block_index(blocks[0])]
                if larger:
                    base = larger[-1]
        else:
            under = self.blocks_of(dest)
            if len(under) != 1:
                raise InstructionError('%s: put it on a peg or on one block' % _q(dest.said))
            base = under[0]
            if base in blocks:
                raise InstructionError('%s: a block cannot go on itself' % _q(c.said))
            if block_index(base) < block_index(blocks[0]):
                raise InstructionError('%s: %s is larger than %s, and a larger block never goes '
                                       'on a smaller one' % (_q(c.said), self.name(blocks[0]),
                                                             self.name(base)))
        facts: List[FactKey] = [('on', (blocks[0], base))]
        facts += [('on', (b, below)) for below, b in zip(blocks, blocks[1:])]
        return facts, None

    def _goal(self, clauses: List[Clause], text: str) -> Goal:
        parts = [self._placement(c) for c in self._clauses(clauses)]
        if len(parts) == 1 and parts[0][1] is not None:
            return Goal.tower(self.num_blocks, parts[0][1], text=text)
        facts: List[FactKey] = []
        where: Dict[str, str] = {}
        under: Dict[str, str] = {}
        for part, _tower in parts:
            for key in part:
                if key in facts:
                    continue
                pred, args = key
                b = args[0]
                if b in where:
                    raise InstructionError('%s is asked to be in two places (%s and %s)'
                                           % (self.name(b), where[b], fact_str(key)))
                where[b] = fact_str(key)
                if pred == 'on':
                    if args[1] in under:
                        raise InstructionError('%s and %s cannot both rest directly on %s'
                                               % (self.name(under[args[1]]), self.name(b),
                                                  args[1]))
                    under[args[1]] = b
                facts.append(key)
        return Goal(facts, text=text)


def parse_instruction(text: str, num_blocks: int, num_pegs: int = 3,
                      colours: Optional[Dict[str, str]] = None,
                      state: Optional[SymbolicState] = None) -> Goal:
    """Shortcut for ``InstructionParser(num_blocks, num_pegs, colours, state).parse(text)``."""
    return InstructionParser(num_blocks, num_pegs, colours, state).parse(text)


def describe_goal(goal: Goal, colours: Optional[Dict[str, str]] = None) -> str:
    """Say a goal back in words: ``b1..b3 as a tower on p3``, ``b1 (red) on b3 (yellow)``."""
    colour_of = {v: k.lower() for k, v in (colours or {}).items()}

    def name(x: str) -> str:
        return '%s (%s)' % (x, colour_of[x]) if x in colour_of else x

    on = [args for pred, args in goal.facts if pred == 'on']
    n = len(on)
    if n and n == len(goal.facts) and goal.num_blocks == n:     # every block of the scene
        base = on[0][1]
        if base.startswith('p') and goal.facts == Goal.tower(n, int(base[1:])).facts:
            return 'b1..b%d as a tower on %s' % (n, base) if n > 1 else 'b1 on %s' % base
    sup = {a: b for a, b in on}
    above = {b: a for a, b in on}
    words: List[str] = []
    for pred, args in goal.facts:
        if pred == 'on' and args[1] not in sup:
            chain = [args[0]]
            while chain[-1] in above:
                chain.append(above[chain[-1]])
            if len(chain) == 1:
                words.append('%s %son %s' % (name(args[0]),
                                             'directly ' if args[1].startswith('p') else '',
                                             name(args[1])))
            else:
                words.append('%s as a stack on %s' % (', '.join(name(b) for b in chain),
                                                      name(args[1])))
        elif pred == 'on' and args[1] in sup:
            continue
        elif pred == 'holding':
            words.append('%s in the gripper' % name(args[0]))
        else:
            words.append(fact_str((pred, args)))
    if not words:     # a cycle of on facts: say them as they are
        words = [fact_str(k) for k in goal.facts]
    return '; '.join(words)
