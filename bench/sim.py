# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Simulation benchmark: real-time factor with and without the camera, render ms per frame.

For each block count the scripted pick-and-place (``nsvla_sim.pick_place``: the arm moving, a
block gripped by friction, contacts everywhere) runs twice in a fresh world: physics only, and
with a 640x480 camera frame rendered every 0.1 s of simulated time (the sim node's default
10 Hz camera). The real-time factor is simulated seconds / wall seconds. Rendering is timed at
224x168 and 640x480 (shadows off). Writes bench/results/sim.{json,md}.

    .venv/bin/python bench/sim.py [--blocks 3,6] [--frames 40] [--camera-rate 10]
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

from tqdm import tqdm

from nsvla_sim.pick_place import PickPlaceScript
from nsvla_sim.world import HanoiWorld

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')
RENDER_SIZES = ((224, 168), (640, 480))


class CameraWorld(HanoiWorld):
    """A world that renders a camera frame every ``1 / camera_rate`` s of simulated time."""

    def __init__(self, *args, camera_rate: float = 10.0, size=(640, 480), **kwargs) -> None:
        self.camera_period = 1.0 / camera_rate
        self.camera_size = size
        self.frames = 0
        self._next_frame = 0.0
        super().__init__(*args, **kwargs)

    def step(self, n: int = 1) -> None:
        for _ in range(int(n)):
            super().step(1)
            if self.time >= self._next_frame:
                self.render(*self.camera_size)
                self.frames += 1
                self._next_frame = self.time + self.camera_period


def pick_place_rtf(num_blocks: int, camera_rate: float = 0.0) -> dict:
    """Run the scripted pick-and-place once; return sim/wall seconds and the outcome."""
    if camera_rate > 0:
        world = CameraWorld(num_blocks=num_blocks, camera_rate=camera_rate)
        world.render(640, 480)   # create the GL context outside the timed run
    else:
        world = HanoiWorld(num_blocks=num_blocks)
    try:
        t_sim, t0 = world.time, time.perf_counter()
        result = PickPlaceScript(world).run()
        wall = time.perf_counter() - t0
        sim = world.time - t_sim
        return {'sim_s': sim, 'wall_s': wall, 'rtf': sim / wall, 'moved': result.moved,
                'frames': getattr(world, 'frames', 0)}
    finally:
        world.close()


def idle_rtf(num_blocks: int, seconds: float = 2.0) -> dict:
    """Arm holding still, stacks at rest (asleep): the cheapest case."""
    world = HanoiWorld(num_blocks=num_blocks)
    try:
        t0 = time.perf_counter()
        world.advance(seconds)
        wall = time.perf_counter() - t0
        return {'sim_s': seconds, 'wall_s': wall, 'rtf': seconds / wall}
    finally:
        world.close()


def render_ms(num_blocks: int, frames: int) -> dict:
    """Median and 95th percentile milliseconds per frame at each render size."""
    world = HanoiWorld(num_blocks=num_blocks)
    out = {}
    try:
        for w, h in RENDER_SIZES:
            for _ in range(3):
                world.render(w, h)
            times = []
            for _ in range(frames):
                t0 = time.perf_counter()
                world.render(w, h)
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            out['%dx%d' % (w, h)] = {'median_ms': statistics.median(times),
                                     'p95_ms': times[min(len(times) - 1,
                                                         int(0.95 * len(times)))]}
    finally:
        world.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--blocks', default='3,6', help='comma-separated block counts')
    ap.add_argument('--frames', type=int, default=40, help='timed frames per render size')
    ap.add_argument('--camera-rate', type=float, default=10.0, help='Hz of simulated time')
    args = ap.parse_args(argv)
    sizes = [int(n) for n in args.blocks.split(',') if n]
    rows, renders = [], {}
    with tqdm(total=len(sizes) * 4, desc='sim bench', unit='run') as bar:
        for n in sizes:
            bar.set_postfix_str('n=%d idle' % n)
            rows.append(dict(blocks=n, scenario='idle (arm still, stacks asleep)',
                             camera='off', **idle_rtf(n)))
            bar.update(1)
            bar.set_postfix_str('n=%d pick-place' % n)
            rows.append(dict(blocks=n, scenario='scripted pick-and-place', camera='off',
                             **pick_place_rtf(n)))
            bar.update(1)
            bar.set_postfix_str('n=%d pick-place + camera' % n)
            rows.append(dict(blocks=n, scenario='scripted pick-and-place',
                             camera='640x480 @ %g Hz' % args.camera_rate,
                             **pick_place_rtf(n, args.camera_rate)))
            bar.update(1)
            bar.set_postfix_str('n=%d render' % n)
            renders[n] = render_ms(n, args.frames)
            bar.update(1)
    meta = {'machine': platform.platform(), 'cpus': os.cpu_count(),
            'python': sys.version.split()[0], 'mujoco_gl': os.environ.get('MUJOCO_GL', ''),
            'frames': args.frames, 'camera_rate_hz': args.camera_rate,
            'when': time.strftime('%Y-%m-%dT%H:%M:%S')}
    try:
        import mujoco
        meta['mujoco'] = mujoco.__version__
    except ImportError:
        pass
    lines = ['| blocks | scenario | camera | sim s | wall s | real-time factor | moved |',
             '|---|---|---|---|---|---|---|']
    for r in rows:
        lines.append('| %d | %s | %s | %.2f | %.2f | %.1fx | %s |'
                     % (r['blocks'], r['scenario'], r['camera'], r['sim_s'], r['wall_s'],
                        r['rtf'], {True: 'yes', False: 'NO'}.get(r.get('moved'), '-')))
    lines += ['', '| blocks | frame size | median ms/frame | p95 ms/frame |', '|---|---|---|---|']
    for n, sizes_ms in renders.items():
        for size, t in sizes_ms.items():
            lines.append('| %d | %s | %.1f | %.1f |' % (n, size, t['median_ms'], t['p95_ms']))
    table = '\n'.join(lines)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, 'sim.json'), 'w') as f:
        json.dump({'meta': meta, 'rtf': rows,
                   'render': {str(k): v for k, v in renders.items()}}, f, indent=1)
    with open(os.path.join(RESULTS, 'sim.md'), 'w') as f:
        f.write(table + '\n')
    print(table)
    print('saved %s/sim.{md,json}' % RESULTS)
    return 0


if __name__ == '__main__':
    sys.exit(main())
