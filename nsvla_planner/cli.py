# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla plan``: plan one Hanoi problem from a state and an instruction, print the plan.

Contract: ``nsvla plan --blocks N [--pegs K] [--instruction TEXT] [--state FILE.json]
[--engine NAME] --json`` prints one JSON object ``{"status", "plan", "engine", "seconds", ...}``
and exits 0 when a plan was found; otherwise it prints the status and reason and exits 1.
"""

import argparse
import json
import sys
from typing import Optional

from nsvla_common.errors import NsvlaError, ValidationError
from nsvla_planner.language import parse_instruction
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


def _load_state(args: argparse.Namespace) -> SymbolicState:
    if args.state:
        try:
            with open(args.state) as f:
                text = f.read()
        except OSError as exc:
            raise ValidationError('cannot read state file %s: %s' % (args.state, exc.strerror))
        state = SymbolicState.from_json(text)
        if args.blocks is not None and args.blocks != state.num_blocks:
            raise ValidationError('--blocks %d but the state file has %d blocks'
                                  % (args.blocks, state.num_blocks))
        if args.pegs is not None and args.pegs != state.num_pegs:
            raise ValidationError('--pegs %d but the state file has %d pegs'
                                  % (args.pegs, state.num_pegs))
        return state
    return SymbolicState.tower(args.blocks or 3, args.pegs or 3)


def _goal(args: argparse.Namespace, state: SymbolicState) -> Goal:
    if args.goal:
        with open(args.goal) as f:
            return Goal.from_json(f.read(), state.num_blocks, state.num_pegs)
    colours = colours_from_scene(args.scene, state.num_blocks, missing_ok=True)
    return parse_instruction(args.instruction or DEFAULT_INSTRUCTION, state.num_blocks,
                             state.num_pegs, colours)


def format_listing(result: PlanResult) -> str:
    """Readable multi-line listing of a plan result."""
    if not result.ok:
        return 'status: %s\nreason: %s' % (result.status, result.reason)
    lines = ['status: solved by %s in %.3f s (%d moves%s)'
             % (result.engine, result.seconds, result.moves,
                ', optimal' if result.optimal else '')]
    for i, step in enumerate(result.plan, 1):
        lines.append('%3d. %s(%s)' % (i, step['action'], ', '.join(step['args'])))
    return '\n'.join(lines)


def run(args: argparse.Namespace) -> int:
    """Plan and print; exit 0 only when a plan was found."""
    result: Optional[PlanResult] = None
    try:
        state = _load_state(args)
        goal = _goal(args, state)
        result = Planner(args.engine, args.timeout, args.form).plan(state, goal)
    except NsvlaError as exc:
        result = PlanResult(exc.status, [], args.engine, 0.0, reason=str(exc), form=args.form)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(format_listing(result), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1
