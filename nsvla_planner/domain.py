# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The Hanoi domain rules in plain Python: apply actions, replay plans, reference solvers.

Two plan forms exist, as in the published domain and its compact variant:

- ``pick_place``: ``pick(x, y)`` lifts clear block ``x`` off ``y`` into the empty hand;
  ``place(x, y)`` puts the held block ``x`` on clear ``y`` when ``x`` is smaller than ``y``
  (every block is smaller than every peg).
- ``move``: ``move(x, from, to)`` does both at once.

A loose block (``loose(x, y)``: off every peg, lying on the table or resting illegally on ``y``)
is taken back by ``pick_loose(x, y)`` (then an ordinary ``place``) or, in the move form,
``move_loose(x, y, to)``. Nothing else can touch it, and nothing may be stacked on it; while a
block is loose no block on a peg is picked (loose blocks go back first: one may lie in the
fingers' way). When no block is loose these rules never apply, so plans stay 2^n - 1 for the
tower.

These rules are the ground truth the tests replay plans through; the unified-planning model in
:mod:`nsvla_planner.planning` is written from the same text.
"""

from collections import deque
from typing import Dict, List, Optional, Sequence, Tuple

from nsvla_common.errors import NsvlaError, ValidationError
from nsvla_planner.state import block, block_index, Goal, peg, SymbolicState, TABLE

FORMS = ('pick_place', 'move')
LOOSE_ACTIONS = ('pick_loose', 'move_loose')
Step = Dict[str, object]


class IllegalActionError(NsvlaError):
    """An action whose preconditions do not hold in the state it is applied to."""

    status = 'illegal_action'


def smaller(x: str, y: str) -> bool:
    """Tell whether block x is smaller than y (a larger block, or any peg): static fact."""
    return y.startswith('p') or (y.startswith('b') and block_index(x) < block_index(y))


def _copy(state: SymbolicState, support: Dict[str, str],
          holding: Optional[str], loose: Optional[Dict[str, str]] = None) -> SymbolicState:
    loose = dict(state.loose) if loose is None else loose
    return SymbolicState(state.num_blocks, state.num_pegs, support, holding,
                         source=state.source, loose=loose,
                         poses={b: p for b, p in state.poses.items() if b in loose})


def apply(state: SymbolicState, step: Step) -> SymbolicState:
    """Return the successor state, or raise IllegalActionError saying which precondition failed."""
    name = step.get('action')
    args = list(step.get('args', []))  # type: ignore[call-overload]
    objects = set(state.blocks()) | set(state.pegs())
    for j, a in enumerate(args):
        if a not in objects and not (name in LOOSE_ACTIONS and j == 1 and a == TABLE):
            raise IllegalActionError('%s%s: unknown object %r' % (name, tuple(args), a))
    support = dict(state.support)
    label = '%s(%s)' % (name, ', '.join(args))
    if name in ('pick', 'move') and state.loose:
        raise IllegalActionError('%s: %s loose: loose blocks go back to a peg first'
                                 % (label, ', '.join(sorted(state.loose))))
    if name == 'pick' and len(args) == 2:
        x, y = args
        if state.holding is not None:
            raise IllegalActionError('%s: the hand already holds %s' % (label, state.holding))
        if support.get(x) != y:
            raise IllegalActionError('%s: %s is not on %s' % (label, x, y))
        if not state.is_clear(x):
            raise IllegalActionError('%s: %s is not clear' % (label, x))
        del support[x]
        return _copy(state, support, x)
    if name == 'place' and len(args) == 2:
        x, y = args
        if state.holding != x:
            raise IllegalActionError('%s: the hand does not hold %s' % (label, x))
        if not state.is_clear(y):
            raise IllegalActionError('%s: %s is not clear' % (label, y))
        if not smaller(x, y):
            raise IllegalActionError('%s: %s is not smaller than %s' % (label, x, y))
        support[x] = y
        return _copy(state, support, None)
    if name == 'pick_loose' and len(args) == 2:
        x, y = args
        if state.holding is not None:
            raise IllegalActionError('%s: the hand already holds %s' % (label, state.holding))
        if state.loose.get(x) != y:
            raise IllegalActionError('%s: %s is not loose on %s' % (label, x, y))
        loose = dict(state.loose)
        del loose[x]
        return _copy(state, support, x, loose)
    if name == 'move_loose' and len(args) == 3:
        x, f, t = args
        lifted = apply(state, {'action': 'pick_loose', 'args': [x, f]})
        try:
            return apply(lifted, {'action': 'place', 'args': [x, t]})
        except IllegalActionError as exc:
            raise IllegalActionError('%s: %s' % (label, str(exc).split(': ', 1)[1])) from None
    if name == 'move' and len(args) == 3:
        x, f, t = args
        lifted = apply(state, {'action': 'pick', 'args': [x, f]})
        try:
            return apply(lifted, {'action': 'place', 'args': [x, t]})
        except IllegalActionError as exc:
            raise IllegalActionError('%s: %s' % (label, str(exc).split(': ', 1)[1])) from None
    raise IllegalActionError('unknown action %s with %d argument(s)' % (name, len(args)))


def replay(state: SymbolicState, plan: Sequence[Step]) -> SymbolicState:
    """Apply every step in order; raise IllegalActionError naming the first bad step."""
    for i, step in enumerate(plan):
        try:
            state = apply(state, step)
        except IllegalActionError as exc:
            raise IllegalActionError('step %d: %s' % (i, exc)) from None
    return state


def count_moves(plan: Sequence[Step]) -> int:
    """Count the block moves in a plan of either form (a place or a move is one move)."""
    return sum(1 for s in plan if s.get('action') in ('place', 'move', 'move_loose'))


def to_form(plan: Sequence[Step], state: SymbolicState, form: str) -> List[Step]:
    """Convert a plan to ``form`` (``pick_place`` <-> ``move``) by replaying it from ``state``."""
    if form not in FORMS:
        raise ValidationError('plan form must be one of %s, got %r' % (FORMS, form))
    out: List[Step] = []
    pending: Optional[Tuple[str, str, str]] = None
    for step in plan:
        state = apply(state, step)
        args = list(step['args'])  # type: ignore[call-overload]
        if step['action'] in ('move', 'move_loose'):
            x, f, t = args
            pick = 'pick' if step['action'] == 'move' else 'pick_loose'
            out += ([{'action': step['action'], 'args': [x, f, t]}] if form == 'move' else
                    [{'action': pick, 'args': [x, f]}, {'action': 'place', 'args': [x, t]}])
        elif step['action'] in ('pick', 'pick_loose'):
            pending = (str(step['action']), args[0], args[1])
            if form == 'pick_place':
                out.append({'action': step['action'], 'args': args})
        else:
            if form == 'pick_place':
                out.append({'action': 'place', 'args': args})
            elif pending is None:
                raise ValidationError('a place without a pick cannot become a move')
            else:
                kind = 'move' if pending[0] == 'pick' else 'move_loose'
                out.append({'action': kind, 'args': [pending[1], pending[2], args[1]]})
                pending = None
    return out


def optimal_tower_moves(num_blocks: int) -> int:
    """2^n - 1: the fewest moves that transfer a full tower of n blocks (three or more pegs)."""
    return 2 ** num_blocks - 1


def recursive_tower_plan(num_blocks: int, src: int = 1, dst: int = 3, aux: int = 2) -> List[Step]:
    """Solve the standard tower by the classic recursion (move form); optimal on 3 pegs."""
    plan: List[Step] = []
    top: Dict[int, List[int]] = {src: list(range(num_blocks, 0, -1)), dst: [], aux: []}

    def go(n: int, s: int, d: int, a: int) -> None:
        if n == 0:
            return
        go(n - 1, s, a, d)
        moved = top[s].pop()
        below = peg(s) if not top[s] else block(top[s][-1])
        onto = peg(d) if not top[d] else block(top[d][-1])
        top[d].append(moved)
        plan.append({'action': 'move', 'args': [block(moved), below, onto]})
        go(n - 1, a, d, s)

    go(num_blocks, src, dst, aux)
    return plan


def recursive_to_tower(state: SymbolicState, dst: int) -> List[Step]:
    """
    Optimal plan (move form, three pegs) from any legal hand-empty state to a tower on ``dst``.

    Largest block first: if block k is not on the target peg, everything smaller goes to the
    third peg, then k moves. Optimal for three pegs from any configuration.
    """
    if state.holding is not None:
        raise ValidationError('recursive_to_tower needs an empty hand')
    if state.loose:
        raise ValidationError('recursive_to_tower needs every block on a peg (none loose)')
    if state.num_pegs != 3:
        raise ValidationError('recursive_to_tower is optimal only for three pegs')
    pos = list(state.assignment())
    plan: List[Step] = []
    current = state

    def move_to(k: int, target: int) -> None:
        nonlocal current
        # block k (1-based) must end on peg `target` with all smaller ones above it later.
        if k == 0:
            return
        if pos[k - 1] == target:
            move_to(k - 1, target)
            return
        other = 6 - pos[k - 1] - target
        move_to(k - 1, other)
        stacks = current.stacks()
        src = peg(pos[k - 1])
        below = stacks[src][-2] if len(stacks[src]) > 1 else src
        onto = stacks[peg(target)][-1] if stacks[peg(target)] else peg(target)
        step = {'action': 'move', 'args': [block(k), below, onto]}
        current = apply(current, step)
        plan.append(step)
        pos[k - 1] = target
        move_to(k - 1, target)

    move_to(state.num_blocks, dst)
    return plan


def bfs_plan(state: SymbolicState, goal: Goal,
             max_states: int = 2_000_000) -> Optional[List[Step]]:
    """Breadth-first search in move form: shortest plan or None when unreachable (small n only)."""
    if state.holding is not None:
        raise ValidationError('bfs_plan needs an empty hand')
    if state.loose:
        raise ValidationError('bfs_plan needs every block on a peg (none loose)')
    start = state
    if goal.satisfied_by(start):
        return []
    seen = {start.assignment(): None}
    parents: Dict[Tuple[int, ...], Tuple[Tuple[int, ...], Step]] = {}
    queue = deque([start])
    while queue:
        cur = queue.popleft()
        stacks = cur.stacks()
        for p_from, col in stacks.items():
            if not col:
                continue
            x = col[-1]
            below = col[-2] if len(col) > 1 else p_from
            for p_to, col_to in stacks.items():
                if p_to == p_from:
                    continue
                onto = col_to[-1] if col_to else p_to
                if not smaller(x, onto):
                    continue
                step = {'action': 'move', 'args': [x, below, onto]}
                nxt = apply(cur, step)
                key = nxt.assignment()
                if key in seen:
                    continue
                seen[key] = None
                parents[key] = (cur.assignment(), step)
                if goal.satisfied_by(nxt):
                    plan = [step]
                    k = cur.assignment()
                    while k in parents:
                        k, s = parents[k]
                        plan.append(s)
                    return plan[::-1]
                if len(seen) > max_states:
                    raise ValidationError('bfs_plan: more than %d states' % max_states)
                queue.append(nxt)
    return None
