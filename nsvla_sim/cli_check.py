# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla sim-check``: scripted joint-trajectory pick-and-place of a top block, physics only.

Example: ``nsvla sim-check --blocks 3 --json`` prints one JSON line
``{"moved": true, "ground_truth_before": {...}, "ground_truth_after": {...}, ...}`` and exits 0
when the block ended up on the target peg (1 when it did not). The move is chosen legally from
the start state unless ``--from`` / ``--to`` name the pegs.
"""

import argparse
import json

from nsvla_sim.cli import add_world_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``sim-check`` options."""
    add_world_arguments(parser)
    parser.add_argument('--from', dest='source', default=None, help='source peg, e.g. p1')
    parser.add_argument('--to', dest='target', default=None, help='target peg, e.g. p3')
    parser.add_argument('--weld-assist', action='store_true',
                        help='weld the gripped block to the hand (default: friction only)')
    parser.add_argument('--drop-probability', type=float, default=0.0,
                        help='probability that the grasp slips mid-transport (default 0)')
    parser.add_argument('--json', action='store_true', help='print one JSON line')


def run(args: argparse.Namespace) -> int:
    """Run the scripted move; return 0 when the block moved, 1 when it did not."""
    from nsvla_sim.pick_place import PickPlaceScript
    from nsvla_sim.scene import start_spec_from_text
    from nsvla_sim.world import HanoiWorld

    world = HanoiWorld(args.scene, num_blocks=args.blocks, seed=args.seed,
                       start=start_spec_from_text(args.start), randomise=args.randomise,
                       weld_assist=args.weld_assist, drop_probability=args.drop_probability)
    try:
        result = PickPlaceScript(world).run(args.source, args.target)
    finally:
        world.close()
    if args.json:
        print(json.dumps(result.to_dict(), sort_keys=True, separators=(',', ':')))
    else:
        print('%s %s from %s to %s in %.1f s simulated (%.2f s wall, %.1fx real time)%s'
              % ('moved' if result.moved else 'did NOT move', result.block, result.source,
                 result.target, result.sim_seconds, result.wall_seconds,
                 result.sim_seconds / max(result.wall_seconds, 1e-9),
                 '' if result.moved else ': ' + result.reason))
        print('before: %r' % result.before)
        print('after:  %r' % result.after)
    return 0 if result.moved else 1
