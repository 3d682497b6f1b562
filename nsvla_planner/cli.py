# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla plan``: plan one Hanoi problem from a state and an instruction, print the plan.

Contract: ``nsvla plan --blocks N [--pegs K] [--instruction TEXT] [--state FILE.json]
[--engine NAME] --json`` prints one JSON object ``{"status", "plan", "engine", "seconds",
"understood", ...}`` and exits 0 when a plan was found; otherwise it prints the status and the
reason on one line (or the JSON object) and exits 1. ``understood`` says the goal back in words
("b1..b3 as a tower on p3"), or is null when there is no goal. Instructions are resolved
against the start state (``--state``, or the full tower on peg 1).
"""

import argparse
import json
import sys
from typing import Any, Dict, Optional, Tuple

from nsvla_common.errors import NsvlaError, ValidationError
from nsvla_planner.language import describe_goal, parse_instruction
from nsvla_planner.planning import DEFAULT_ENGINE, ENGINES, Planner, PlanResult
from nsvla_planner.scene_words import colours_from_scene
from nsvla_planner.state import Goal, SymbolicState

DEFAULT_INSTRUCTION = 'move the tower to the right peg'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nsvla plan``."""
    parser.add_argument('--blocks', type=int, help='number of blocks (default: from --state, '
                        'else 3)')
    parser.add_argument('--pegs', type=int, default=None, help='number of pegs (default 3)')
    parser.add_argument('--instruction', default=None,
                        help='goal in words (default: %r)' % DEFAULT_INSTRUCTION)
    parser.add_argument('--goal', default=None, help='goal as a JSON file (nsvla/goal/1)')
    parser.add_argument('--state', default=None,
                        help='start state JSON file (nsvla/symbolic_state/1); default: the full '
                        'tower on peg 1')
    parser.add_argument('--engine', default=DEFAULT_ENGINE, choices=sorted(ENGINES),
                        help='planning engine (default %(default)s, optimal)')
    parser.add_argument('--form', default='pick_place', choices=['pick_place', 'move'],
                        help='plan form: pick/place pairs or single moves')
    parser.add_argument('--timeout', type=float, default=60.0, help='wall-clock bound, seconds')
    parser.add_argument('--scene', default='scene_default.yaml',
                        help='scene config giving block colour names')
    parser.add_argument('--json', action='store_true', help='print one JSON object')


def _read_json(path: str, what: str) -> Dict[str, Any]:
    """Read a JSON file of the nsvla envelope; any problem is one ValidationError line."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as exc:
        raise ValidationError('cannot read %s file %s: %s' % (what, path, exc.strerror)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError('%s file %s is not JSON (%s at line %d column %d)'
                              % (what, path, exc.msg, exc.lineno, exc.colno)) from None
    if not isinstance(data, dict):
        raise ValidationError('%s file %s must hold a JSON object, got %s'
                              % (what, path, type(data).__name__))
    if 'stamp' not in data:
        raise ValidationError('%s file %s has no "stamp" (seconds since the epoch): every '
                              'nsvla JSON file carries one' % (what, path))
    return data


def _load_state(args: argparse.Namespace) -> SymbolicState:
    if args.state:
        state = SymbolicState.from_json(_read_json(args.state, 'state'))
        if args.blocks is not None and args.blocks != state.num_blocks:
            raise ValidationError('--blocks %d but the state file has %d blocks'
                                  % (args.blocks, state.num_blocks))
        if args.pegs is not None and args.pegs != state.num_pegs:
            raise ValidationError('--pegs %d but the state file has %d pegs'
                                  % (args.pegs, state.num_pegs))
        return state
    return SymbolicState.tower(3 if args.blocks is None else args.blocks,
                               3 if args.pegs is None else args.pegs)


def _goal(args: argparse.Namespace, state: SymbolicState) -> Tuple[Goal, Dict[str, str]]:
    if args.goal:
        if args.instruction is not None:
            raise ValidationError('give --goal or --instruction, not both')
        goal = Goal.from_json(_read_json(args.goal, 'goal'), state.num_blocks, state.num_pegs)
        try:
            colours = colours_from_scene(args.scene, state.num_blocks, missing_ok=True)
        except NsvlaError:      # the colours only name the blocks in "understood"
            colours = {}
        return goal, colours
    colours = colours_from_scene(args.scene, state.num_blocks, missing_ok=True)
    text = DEFAULT_INSTRUCTION if args.instruction is None else args.instruction
    return parse_instruction(text, state.num_blocks, state.num_pegs, colours, state), colours


def format_listing(result: PlanResult) -> str:
    """Readable listing of a plan result: one line for a failure."""
    understood = result.extra.get('understood')
    if not result.ok:
        return 'status: %s: %s' % (result.status, result.reason)
    lines = ['understood as: %s' % understood] if understood else []
    lines.append('status: solved by %s in %.3f s (%d moves%s)'
                 % (result.engine, result.seconds, result.moves,
                    ', optimal' if result.optimal else ''))
    for i, step in enumerate(result.plan, 1):
        lines.append('%3d. %s(%s)' % (i, step['action'], ', '.join(step['args'])))
    return '\n'.join(lines)


def run(args: argparse.Namespace) -> int:
    """Plan and print; exit 0 only when a plan was found."""
    result: Optional[PlanResult] = None
    understood: Optional[str] = None
    try:
        state = _load_state(args)
        goal, colours = _goal(args, state)
        understood = describe_goal(goal, colours)
        result = Planner(args.engine, args.timeout, args.form).plan(state, goal)
    except NsvlaError as exc:
        result = PlanResult(exc.status, [], args.engine, 0.0, reason=str(exc), form=args.form)
    result.extra.setdefault('understood', understood)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(format_listing(result), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1
