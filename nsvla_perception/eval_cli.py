# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla eval-perception``: accuracy of a backend on freshly rendered randomised scenes.

Renders ``--scenes`` scenes with ``--blocks`` blocks (seeds ``--seed`` on, by default far from
the training seeds; a learned model's own seed ranges are checked) and prints, with ``--json``,
one line ``{"backend", "blocks", "scenes", "exact_state_accuracy", "fact_accuracy",
"median_ms", ...}`` (see ``nsvla_perception.evaluation``).
"""

import argparse
import json
import sys

from nsvla_common.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``nsvla eval-perception``."""
    from nsvla_perception.backend import BACKENDS
    from nsvla_perception.training import EVAL_SEED_DEFAULT
    parser.add_argument('--backend', choices=BACKENDS, default='classic')
    parser.add_argument('--blocks', type=int, default=3, help='blocks per scene (default 3)')
    parser.add_argument('--scenes', type=int, default=100, help='scenes (default 100)')
    parser.add_argument('--seed', type=int, default=EVAL_SEED_DEFAULT,
                        help='first scene seed (default %(default)s: unused in training)')
    parser.add_argument('--arm', action='store_true',
                        help='pose the arm in front of or above a peg (occlusions)')
    parser.add_argument('--scene-config', default='scene_default.yaml')
    parser.add_argument('--perception-config', default='perception.yaml')
    parser.add_argument('--model', default='perception_cnn.pt',
                        help='learned backend weights (models/ file or path)')
    parser.add_argument('--min-confidence', type=float, default=0.5)
    parser.add_argument('--json', action='store_true', help='print one JSON line')
    parser.add_argument('--quiet', action='store_true', help='no progress bar')


def _seed_overlap(model: str, seed: int, scenes: int) -> str:
    from nsvla_common.paths import model_path
    from nsvla_perception.learned import load_checkpoint
    meta = load_checkpoint(model_path(model))['meta']
    for key in ('train_seeds', 'held_out_seeds'):
        low, high = meta.get(key, [0, -1])
        if seed <= high and seed + scenes - 1 >= low:
            return '%s %d..%d' % (key.replace('_', ' '), low, high)
    return ''


def run(args: argparse.Namespace) -> int:
    """Evaluate and print; return 0."""
    from tqdm import tqdm

    from nsvla_perception.evaluation import evaluate_backend
    from nsvla_perception.settings import load_settings
    from nsvla_sim.scene import load_scene

    if args.scenes < 1:
        raise ConfigError('--scenes must be at least 1')
    if not 0.0 <= args.min_confidence <= 1.0:
        raise ConfigError('--min-confidence must be in [0, 1]')
    spec = load_scene(args.scene_config)
    spec.check_blocks(args.blocks)
    if args.backend == 'learned':
        overlap = _seed_overlap(args.model, args.seed, args.scenes)
        if overlap:
            print('warning: seeds %d..%d overlap the model\'s %s: not fresh scenes'
                  % (args.seed, args.seed + args.scenes - 1, overlap), file=sys.stderr)
    with tqdm(total=args.scenes, desc='%s N=%d' % (args.backend, args.blocks), unit='scene',
              disable=args.quiet, file=sys.stderr) as bar:
        result = evaluate_backend(args.backend, spec, args.blocks, args.scenes, args.seed,
                                  args.model, load_settings(args.perception_config), args.arm,
                                  args.min_confidence, progress=bar.update)
    if args.json:
        print(json.dumps(result))
    else:
        print('%s, %d blocks, %d scenes%s: exact state %.2f %%, facts %.2f %%, unknown %.2f %%, '
              'wrong %.2f %%, median %.1f ms (p90 %.1f ms)'
              % (args.backend, args.blocks, args.scenes, ' (arm in view)' if args.arm else '',
                 100 * result['exact_state_accuracy'], 100 * result['fact_accuracy'],
                 100 * result['unknown_rate'], 100 * result['wrong_rate'],
                 result['median_ms'], result['p90_ms']))
    return 0
