# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla pddl``: PDDL text for users who run their own planner, and planning from PDDL text.

    nsvla pddl export --blocks N [--instruction TEXT] [--state FILE] [--form F] [--out DIR]
    nsvla pddl solve DOMAIN.pddl PROBLEM.pddl [--engine NAME] [--json]
"""

import argparse
import json
import os
import sys

from nsvla_common.errors import ValidationError
from nsvla_planner import cli as plan_cli
from nsvla_planner.planning import DEFAULT_ENGINE, ENGINES, export_pddl, plan_pddl


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nsvla pddl``."""
    sub = parser.add_subparsers(dest='action', required=True)
    exp = sub.add_parser('export', help='write the PDDL domain and problem')
    plan_cli.add_arguments(exp)
    exp.add_argument('--out', default=None,
                     help='folder for domain.pddl and problem.pddl (default: print both)')
    solve = sub.add_parser('solve', help='plan from a PDDL domain + problem pair')
    solve.add_argument('domain')
    solve.add_argument('problem')
    solve.add_argument('--engine', default=DEFAULT_ENGINE,
                       choices=sorted(e for e, s in ENGINES.items() if not s.in_process))
    solve.add_argument('--timeout', type=float, default=60.0)
    solve.add_argument('--json', action='store_true')


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError as exc:
        raise ValidationError('cannot read %s: %s' % (path, exc.strerror)) from None


def run(args: argparse.Namespace) -> int:
    """Export or solve."""
    if args.action == 'export':
        state = plan_cli._load_state(args)
        goal = plan_cli._goal(args, state)
        domain_text, problem_text = export_pddl(state, goal, args.form)
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            for name, text in (('domain.pddl', domain_text), ('problem.pddl', problem_text)):
                with open(os.path.join(args.out, name), 'w') as f:
                    f.write(text)
            print('wrote %s/domain.pddl and %s/problem.pddl' % (args.out, args.out))
        else:
            print(domain_text)
            print(problem_text)
        return 0
    result = plan_pddl(_read(args.domain), _read(args.problem), args.engine, args.timeout)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(plan_cli.format_listing(result), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1
