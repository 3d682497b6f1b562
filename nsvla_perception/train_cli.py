# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla train-perception``: generate data, train, evaluate, save the learned backend's model.

Progress bars (tqdm, on stderr) follow the stages: render the training and held-out scenes,
train, evaluate on the held-out scenes; then the model is saved (weights + metadata) and the
held-out confusion matrix is written as a PNG. The summary gives the held-out whole-state
accuracy and the training energy, labelled ``estimated`` (CPU seconds x watts per core).
"""

import argparse
import json
import os
import sys
from typing import Any, Dict

from nsvla_common.errors import ConfigError
from nsvla_common.paths import model_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``nsvla train-perception``."""
    parser.add_argument('--scene-config', default='scene_default.yaml',
                        help='scene YAML the images are rendered from (default %(default)s)')
    parser.add_argument('--perception-config', default='perception.yaml',
                        help='perception settings YAML: crop geometry, energy estimate')
    parser.add_argument('--images', type=int, default=1500,
                        help='training scenes (seeds SEED..SEED+IMAGES-1; default %(default)s)')
    parser.add_argument('--held-out', type=int, default=300,
                        help='held-out scenes, seeds from SEED+500000 (default %(default)s)')
    parser.add_argument('--epochs', type=int, default=25, help='default %(default)s')
    parser.add_argument('--batch', type=int, default=64, help='default %(default)s')
    parser.add_argument('--lr', type=float, default=3e-3, help='peak learning rate')
    parser.add_argument('--seed', type=int, default=0, help='first training seed')
    parser.add_argument('--arm-fraction', type=float, default=0.3,
                        help='fraction of scenes with the arm posed in front of a peg')
    parser.add_argument('--max-blocks', type=int, default=0,
                        help='colour slots the network knows (0: the settings value, 6)')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch CPU threads (default 1: two threads on a shared 2-core '
                        'machine can be 30x slower)')
    parser.add_argument('--out', default='',
                        help='model file (default: models/perception_cnn.pt of this install)')
    parser.add_argument('--confusion', default=os.path.join('out', 'perception_confusion.png'),
                        help='confusion-matrix PNG (default %(default)s)')
    parser.add_argument('--json', action='store_true', help='print the summary as one JSON line')
    parser.add_argument('--quiet', action='store_true', help='no progress bars')


def _check(args: argparse.Namespace) -> None:
    for name, low in (('images', 10), ('held_out', 10), ('epochs', 1), ('batch', 1),
                      ('threads', 1)):
        if getattr(args, name) < low:
            raise ConfigError('--%s must be at least %d' % (name.replace('_', '-'), low))
    if not 0.0 <= args.arm_fraction <= 1.0:
        raise ConfigError('--arm-fraction must be in [0, 1]')
    if args.lr <= 0:
        raise ConfigError('--lr must be positive')


def _given(argv) -> list:
    """Return the options given after ``train-perception`` on the command line, if any."""
    return list(argv[argv.index('train-perception') + 1:]) if 'train-perception' in argv else []


def run(args: argparse.Namespace) -> int:
    """Train and save; return 0."""
    import dataclasses

    import torch
    from tqdm import tqdm

    from nsvla_perception.learned import DEFAULT_MODEL
    from nsvla_perception.settings import load_settings
    from nsvla_perception.training import plot_confusion, train
    from nsvla_sim.scene import load_scene

    _check(args)
    spec = load_scene(args.scene_config)
    settings = load_settings(args.perception_config)
    if args.max_blocks:
        if not 1 <= args.max_blocks <= 16:
            raise ConfigError('--max-blocks must be in 1..16')
        settings = dataclasses.replace(settings, learned=dataclasses.replace(
            settings.learned, max_blocks=args.max_blocks))
    bars: Dict[str, Any] = {}
    labels = {'data': 'render scenes', 'train': 'train', 'evaluate': 'evaluate'}

    def progress(stage: str, total: int):
        for bar in bars.values():
            bar.close()
        bars[stage] = tqdm(total=total, desc=labels.get(stage, stage), disable=args.quiet,
                           unit='scene' if stage == 'data' else 'step', file=sys.stderr)
        return bars[stage].update

    try:
        ckpt = train(spec, settings, images=args.images, held_out=args.held_out,
                     epochs=args.epochs, seed=args.seed, batch=args.batch, lr=args.lr,
                     arm_fraction=args.arm_fraction, threads=args.threads, progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
    out = args.out or model_path(DEFAULT_MODEL)
    meta = ckpt['meta']
    meta['command'] = ' '.join(['nsvla', 'train-perception'] + _given(sys.argv))
    with tqdm(total=2, desc='save', disable=args.quiet, file=sys.stderr) as bar:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        torch.save(ckpt, out)
        bar.update(1)
        if args.confusion:
            os.makedirs(os.path.dirname(os.path.abspath(args.confusion)), exist_ok=True)
            held = meta['held_out']
            plot_confusion(held['confusion'], args.confusion,
                           'held-out blocks (%d scenes); exact state %.2f %%\n'
                           '(%d scenes with the arm out of view)'
                           % (held['scenes'], 100 * held['exact_state_accuracy'],
                              held['scenes_arm_out_of_view']))
        bar.update(1)
    summary = {
        'model': out, 'bytes': os.path.getsize(out), 'parameters': meta['parameters'],
        'train_seeds': meta['train_seeds'], 'held_out_seeds': meta['held_out_seeds'],
        'held_out_exact_state_accuracy': meta['held_out']['exact_state_accuracy'],
        'held_out_exact_state_accuracy_with_arm': meta['held_out']['exact_state_accuracy_all'],
        'held_out_block_accuracy': meta['held_out']['block_accuracy'],
        'seconds': meta['seconds'], 'energy': meta['energy'], 'confusion_png': args.confusion,
    }
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        e = meta['energy']
        print('saved %s (%d bytes, %d parameters)'
              % (out, summary['bytes'], meta['parameters']))
        print('held-out exact state accuracy: %.2f %% (arm out of view, %d scenes), '
              '%.2f %% (all %d scenes)' % (100 * meta['held_out']['exact_state_accuracy'],
                                           meta['held_out']['scenes_arm_out_of_view'],
                                           100 * meta['held_out']['exact_state_accuracy_all'],
                                           meta['held_out']['scenes']))
        print('time: %.0f s (data %.0f s, training %.0f s)' % (
            meta['seconds']['total'], meta['seconds']['data'], meta['seconds']['train']))
        print('energy (estimated): %.0f J = %.1f Wh from %.0f CPU s (%s)' % (
            e['joules'], e['joules'] / 3600.0, e['cpu_seconds'], e['method']))
        if args.confusion:
            print('confusion matrix: %s' % args.confusion)
    return 0
