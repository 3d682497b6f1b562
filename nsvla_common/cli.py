# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The ``nsvla`` command-line tool: one entry point, one module per subcommand.

Each subcommand module defines ``add_arguments(parser)`` and ``run(args) -> int`` and is imported
only when its subcommand is called, so ``nsvla plan`` does not pay for MuJoCo or torch.
"""

import argparse
import importlib
import signal
import sys
from typing import List, Optional

from nsvla_common.errors import NsvlaError

# name -> (module, one-line help). Keep sorted by the order a new user meets them.
SUBCOMMANDS = {
    'demo': ('nsvla_eval.demo_cli', 'run the whole loop once and print a summary'),
    'plan': ('nsvla_planner.cli', 'plan a Hanoi problem (state + instruction) and print the plan'),
    'pddl': ('nsvla_planner.cli_pddl', 'export the PDDL domain/problem, or plan from PDDL files'),
    'sim-render': ('nsvla_sim.cli', 'render the embedded scene camera to a PNG'),
    'sim-check': ('nsvla_sim.cli_check', 'scripted pick-and-place of the top block in physics'),
    'train-perception': ('nsvla_perception.train_cli', 'generate data, train, evaluate, save'),
    'eval-perception': ('nsvla_perception.eval_cli', 'accuracy of a perception backend'),
    'calibrate': ('nsvla_perception.calibrate_cli',
                  'camera pose, white balance, block colours from images into a new rig file'),
    'calibrate-check': ('nsvla_perception.calibrate_check',
                        'move the sim camera, tint the light, calibrate, measure accuracy'),
    'run-episode': ('nsvla_control.episode_cli', 'execute one instruction end to end'),
    'bench-episodes': ('nsvla_control.bench_cli', 'seeded episodes with success statistics'),
    'energy-probe': ('nsvla_energy.cli', 'sample the energy meter for a few seconds'),
    'launch': ('nsvla_eval.launch_cli', 'start a node graph (embedded, real, gazebo, replay)'),
    'record': ('nsvla_eval.record_cli', 'record the nsvla topics of a running graph to a bag'),
    'replay-eval': ('nsvla_eval.replay_cli', 'evaluate perception and planning on a bag'),
    'bench': ('nsvla_eval.bench_cli', 'the benchmark table: blocks x perception x faults'),
}


def _top_parser() -> argparse.ArgumentParser:
    lines = ['  %-18s %s' % (name, hlp) for name, (_mod, hlp) in SUBCOMMANDS.items()]
    return argparse.ArgumentParser(
        prog='nsvla', formatter_class=argparse.RawDescriptionHelpFormatter,
        description='nsvla: neuro-symbolic manipulation tools.',
        epilog='subcommands:\n' + '\n'.join(lines) + '\n\n`nsvla SUBCOMMAND --help` for details.')


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Optional[List[str]] = None) -> int:
    """Dispatch ``nsvla SUBCOMMAND ...``; errors of the NsvlaError family exit with status 2."""
    from nsvla_common.rosenv import localhost_env
    localhost_env()
    signal.signal(signal.SIGTERM, _terminate)   # clean up (stop child nodes) as on Ctrl-C
    argv = list(sys.argv[1:] if argv is None else argv)
    top = _top_parser()
    if not argv or argv[0] in ('-h', '--help'):
        top.print_help()
        return 0 if argv else 1
    name = argv[0]
    if name not in SUBCOMMANDS:
        top.error('unknown subcommand %r (choose from %s)' % (name, ', '.join(SUBCOMMANDS)))
    module_name, hlp = SUBCOMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        print('nsvla %s is not available: %s' % (name, exc), file=sys.stderr)
        return 3
    parser = argparse.ArgumentParser(prog='nsvla ' + name, description=hlp)
    module.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    try:
        return int(module.run(args) or 0)
    except NsvlaError as exc:
        print('nsvla %s: %s: %s' % (name, exc.status, exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == '__main__':
    sys.exit(main())
