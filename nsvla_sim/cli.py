# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla sim-render``: render the embedded scene's camera image to a PNG.

Example: ``nsvla sim-render --blocks 4 --seed 3 --start random --out scene.png``. Prints one line
with the file written and the ground truth of the scene shown.
"""

import argparse
import json
import os

from nsvla_common.errors import ValidationError


def add_world_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options that choose a world: blocks, seed, start, randomisation, scene."""
    parser.add_argument('--blocks', type=int, default=3, help='number of blocks (default 3)')
    parser.add_argument('--seed', type=int, default=0, help='seed (default 0)')
    parser.add_argument('--start', default='tower',
                        help='tower, tower:K, random or JSON stacks (default tower)')
    parser.add_argument('--randomise', action='store_true',
                        help='apply the seeded domain randomisation of the scene')
    parser.add_argument('--scene', default='scene_default.yaml', help='scene specification')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``sim-render`` options."""
    add_world_arguments(parser)
    parser.add_argument('--width', type=int, default=0, help='image width (default: scene)')
    parser.add_argument('--height', type=int, default=0, help='image height (default: scene)')
    parser.add_argument('--camera', default='', help='camera name: the scene camera (default) '
                        'or "overview" (a wide view of the robot); several, comma-separated, '
                        'are put side by side')
    parser.add_argument('--settle', type=float, default=0.2,
                        help='simulated seconds to let the blocks settle first (default 0.2)')
    parser.add_argument('--out', required=True, help='PNG file to write')
    parser.add_argument('--json', action='store_true', help='print the summary as JSON')


def run(args: argparse.Namespace) -> int:
    """Build the world, render one frame, write the PNG; return 0."""
    import numpy as np
    from PIL import Image

    from nsvla_sim.scene import start_spec_from_text
    from nsvla_sim.world import HanoiWorld

    if not args.out.lower().endswith('.png'):
        raise ValidationError('--out must name a .png file, got %r' % args.out)
    world = HanoiWorld(args.scene, num_blocks=args.blocks, seed=args.seed,
                       start=start_spec_from_text(args.start), randomise=args.randomise)
    try:
        world.advance(max(0.0, args.settle))
        cameras = [c.strip() for c in args.camera.split(',') if c.strip()] or [None]
        rgb = np.hstack([world.render(args.width or None, args.height or None, camera=c)
                         for c in cameras])
        folder = os.path.dirname(os.path.abspath(args.out))
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(rgb).save(args.out)
        state = world.ground_truth()
    finally:
        world.close()
    if args.json:
        print(json.dumps({'out': args.out, 'width': int(rgb.shape[1]),
                          'height': int(rgb.shape[0]), 'ground_truth': state.to_dict()},
                         sort_keys=True))
    else:
        print('wrote %s (%dx%d): %r' % (args.out, rgb.shape[1], rgb.shape[0], state))
    return 0
