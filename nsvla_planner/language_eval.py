# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Judge the instruction parser on a set of sentences whose meanings were written down first.

The set is a YAML file (``test/data/instructions.yaml`` in the repository; its header says the
format). Each sentence is parsed with :func:`parse_instruction`, the same call the planner node
makes, against its scene and start state, and lands in one of four outcomes:

``correct``           meant a goal, got exactly that goal (the same facts)
``refused_as_meant``  meant to be refused, and was
``missed``            meant a goal, was refused (the reason says why)
``wrong``             got a goal other than the one meant, or a goal for a sentence to refuse
"""

import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Tuple

import yaml

from nsvla_common.errors import InstructionError, ValidationError
from nsvla_planner.language import parse_instruction
from nsvla_planner.state import FactKey, Goal, parse_facts, SymbolicState

OUTCOMES = ('correct', 'refused_as_meant', 'missed', 'wrong')


@dataclass(frozen=True)
class Case:
    """One sentence: its scene, start state and meaning (``facts`` None: to be refused)."""

    text: str
    cat: str
    blocks: int
    pegs: int
    start: Any
    facts: Optional[Tuple[FactKey, ...]]
    why: str = ''
    says: str = ''

    @property
    def clear(self) -> bool:
        return self.facts is not None


@dataclass
class Outcome:
    """How the parser did on one case."""

    case: Case
    outcome: str
    goal: Optional[Goal]
    reason: str
    seconds: float

    @property
    def says_ok(self) -> bool:
        """Whether a refusal quotes the word its meaning says it must (true when none)."""
        return not self.case.says or self.case.says.lower() in self.reason.lower()


def _fact(text: str, blocks: int, pegs: int) -> FactKey:
    pred, _, rest = text.partition('(')
    args = [a.strip() for a in rest.rstrip(')').split(',') if a.strip()]
    raw = [{'predicate': pred.strip(), 'args': args}]
    return next(iter(parse_facts(raw, blocks, pegs, {'on': 2, 'holding': 1}, 'meaning')))


def load_cases(path: str) -> Tuple[List[Case], Dict[str, str]]:
    """Read a sentence set; return its cases and its colour words (``{'red': 'b1'}``)."""
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationError('cannot read the sentence set %s: %s' % (path, exc)) from None
    colours = OrderedDict((str(c), 'b%d' % i) for i, c in enumerate(data.get('colours', []), 1))
    defaults = data.get('defaults', {})
    cases = []
    for i, raw in enumerate(data.get('sentences', [])):
        blocks = int(raw.get('blocks', defaults.get('blocks', 3)))
        pegs = int(raw.get('pegs', defaults.get('pegs', 3)))
        meanings = [k for k in ('tower', 'goal', 'refuse') if k in raw]
        if len(meanings) != 1:
            raise ValidationError('sentence #%d %r must have one of tower, goal, refuse'
                                  % (i, raw.get('text')))
        facts: Optional[Tuple[FactKey, ...]] = None
        if 'tower' in raw:
            facts = tuple(Goal.tower(blocks, int(raw['tower'])).facts)
        elif 'goal' in raw:
            facts = tuple(_fact(f, blocks, pegs) for f in raw['goal'])
        cases.append(Case(str(raw.get('text', '')), str(raw.get('cat', '?')), blocks, pegs,
                          raw.get('start', defaults.get('start', 'tower:1')), facts,
                          str(raw.get('refuse', '')), str(raw.get('says', ''))))
    return cases, dict(colours)


def start_state(case: Case) -> SymbolicState:
    """Build the state a case starts from: ``tower:K`` or ``{peg: [bottom, ..., top]}``."""
    if isinstance(case.start, str) and case.start.startswith('tower:'):
        return SymbolicState.tower(case.blocks, case.pegs, int(case.start.split(':')[1]))
    if isinstance(case.start, dict):
        return SymbolicState.from_stacks(case.start, case.blocks, case.pegs)
    raise ValidationError('start %r of %r is not tower:K or a mapping of stacks'
                          % (case.start, case.text))


def judge(case: Case, colours: Dict[str, str]) -> Outcome:
    """Parse one case as the planner would and say how it went."""
    state = start_state(case)
    scene_colours = {c: b for c, b in colours.items() if int(b[1:]) <= case.blocks}
    t0 = time.perf_counter()
    try:
        goal: Optional[Goal] = parse_instruction(case.text, case.blocks, case.pegs,
                                                 scene_colours, state)
        reason = ''
    except InstructionError as exc:
        goal, reason = None, str(exc)
    seconds = time.perf_counter() - t0
    if goal is None:
        outcome = 'missed' if case.clear else 'refused_as_meant'
    elif case.clear and set(goal.facts) == set(case.facts or ()):
        outcome = 'correct'
    else:
        outcome = 'wrong'
    return Outcome(case, outcome, goal, reason, seconds)


def tally(outcomes: Iterable[Outcome]) -> 'OrderedDict[str, Counter]':
    """Count outcomes per category (in the order met) and overall (key ``all``)."""
    table: 'OrderedDict[str, Counter]' = OrderedDict()
    for o in outcomes:
        for key in (o.case.cat, 'all'):
            table.setdefault(key, Counter())[o.outcome] += 1
    table.move_to_end('all')
    return table
