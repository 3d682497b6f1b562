# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Perception benchmark: per-frame latency and estimated energy of each backend.

Renders ``--frames`` fresh randomised scenes per block count (arm out of view), then times, on
the same images in the same run: a plain copy of the image (the floor: what any node pays to
touch a frame), the classical backend and the learned backend (``perceive``: checks, detection,
state with confidences). Latency is wall time per frame (median, p90); energy per frame is an
estimate, CPU seconds of this process x watts per busy core (``config/perception.yaml``), since
these machines have no RAPL/NVML. Each figure is also given as a ratio to the image copy.
Writes a Markdown table and JSON to bench/results/.

    .venv/bin/python bench/perception.py [--blocks 3,4,5] [--frames 100] [--seed 3000000]
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np
from tqdm import tqdm

from nsvla_common.rosenv import localhost_env

localhost_env()

from nsvla_perception.backend import make_perceiver  # noqa: E402
from nsvla_perception.render import SceneRenderer  # noqa: E402
from nsvla_perception.settings import load_settings  # noqa: E402
from nsvla_sim.scene import load_scene, make_layout  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')
WARM_UP = 5


def _measure(fn, images, bar):
    """Return per-frame wall and CPU seconds of ``fn(image)`` and how many were right."""
    for img in images[:WARM_UP]:
        fn(img)
    wall, cpu, right = [], [], 0
    for img in images:
        c0, t0 = time.process_time(), time.perf_counter()
        ok = fn(img)
        t1, c1 = time.perf_counter(), time.process_time()
        wall.append(t1 - t0)
        cpu.append(c1 - c0)
        right += int(bool(ok))
        bar.update(1)
    return np.array(wall), np.array(cpu), right


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--blocks', default='3,4,5', help='block counts, comma-separated')
    ap.add_argument('--frames', type=int, default=100, help='scenes per block count')
    ap.add_argument('--seed', type=int, default=3_000_000, help='first scene seed')
    ap.add_argument('--backends', default='classic,learned')
    args = ap.parse_args(argv)
    counts = [int(c) for c in args.blocks.split(',') if c]
    backends = [b for b in args.backends.split(',') if b]
    spec = load_scene('scene_default.yaml')
    settings = load_settings()
    watts = settings.energy.watts_per_core
    rows = []
    total = len(counts) * args.frames * (2 + len(backends))
    with tqdm(total=total, desc='perception bench', unit='frame') as bar:
        for n in counts:
            bar.set_postfix_str('render N=%d' % n)
            images, truths = [], []
            with SceneRenderer(spec, n) as renderer:
                for j in range(args.frames):
                    layout = make_layout(spec, n, seed=args.seed + 1000 * n + j,
                                         start='random', randomise=True)
                    renderer.set_layout(layout)
                    images.append(renderer.render())
                    truths.append(layout.start_state(spec.num_pegs))
                    bar.update(1)
            truth_of = {id(img): t for img, t in zip(images, truths)}
            methods = [('image copy', lambda img: img.copy() is not None)]
            for name in backends:
                perceiver = make_perceiver(name, spec, n, settings=settings)
                methods.append((name, lambda img, p=perceiver:
                                p.perceive(img).state == truth_of[id(img)]))
            floor = None
            for name, fn in methods:
                bar.set_postfix_str('%s N=%d' % (name, n))
                wall, cpu, right = _measure(fn, images, bar)
                row = {'method': name, 'blocks': n, 'frames': len(images),
                       'median_ms': float(np.median(wall) * 1e3),
                       'p90_ms': float(np.percentile(wall, 90) * 1e3),
                       'cpu_ms_per_frame': float(cpu.mean() * 1e3),
                       'energy_mj_per_frame': float(cpu.mean() * watts * 1e3),
                       'energy_estimated': True,
                       'exact_state_accuracy': (right / len(images)
                                                if name != 'image copy' else None)}
                if floor is None:
                    floor = row
                row['median_x_copy'] = row['median_ms'] / floor['median_ms']
                row['p90_x_copy'] = row['p90_ms'] / floor['p90_ms']
                row['energy_x_copy'] = (row['energy_mj_per_frame']
                                        / max(floor['energy_mj_per_frame'], 1e-9))
                rows.append(row)
    os.makedirs(RESULTS, exist_ok=True)
    meta = {'machine': platform.platform(), 'cpus': os.cpu_count(),
            'python': sys.version.split()[0],
            'image': '%dx%d rgb8' % (spec.camera.width, spec.camera.height),
            'energy_method': ('estimated: CPU seconds x %.1f W per busy core (no RAPL/NVML)'
                              % watts),
            'seed': args.seed, 'frames_per_block_count': args.frames}
    with open(os.path.join(RESULTS, 'perception.json'), 'w') as f:
        json.dump({'meta': meta, 'rows': rows}, f, indent=1)
    lines = ['| method | N | median ms | p90 ms | x copy (median) | CPU ms/frame | '
             'energy mJ/frame (est.) | x copy (energy) | exact state |',
             '|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        acc = '-' if r['exact_state_accuracy'] is None else '%.1f %%' % (
            100 * r['exact_state_accuracy'])
        lines.append('| %s | %d | %.3f | %.3f | %.0f | %.3f | %.2f | %.0f | %s |'
                     % (r['method'], r['blocks'], r['median_ms'], r['p90_ms'],
                        r['median_x_copy'], r['cpu_ms_per_frame'],
                        r['energy_mj_per_frame'], r['energy_x_copy'], acc))
    table = '\n'.join(lines)
    with open(os.path.join(RESULTS, 'perception.md'), 'w') as f:
        f.write(table + '\n\n' + meta['energy_method'] + '; ' + meta['machine'] + '\n')
    print(table)
    print('energy: %s' % meta['energy_method'])
    print('saved %s/perception.{md,json}' % RESULTS)
    return 0


if __name__ == '__main__':
    sys.exit(main())
