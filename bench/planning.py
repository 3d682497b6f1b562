# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Planning benchmark: seconds per plan per engine for n = 3..10 blocks.

Each figure is also given as a ratio to the in-process optimal recursive solver measured in the
same run (the floor: no PDDL, no process start-up). Writes a Markdown table, JSON and a PNG
plot to bench/results/.

    .venv/bin/python bench/planning.py [--min 3] [--max 10] [--engines a,b] [--timeout 60]
"""

import argparse
import json
import os
import platform
import sys
import time
import timeit

from tqdm import tqdm

from nsvla_planner import domain
from nsvla_planner.planning import Planner
from nsvla_planner.state import Goal, SymbolicState

DEFAULT_ENGINES = ['fast-downward', 'fast-downward-opt', 'symk-opt', 'fast-downward-lama',
                   'enhsp', 'pyperplan-opt']
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')


def recursive_seconds(n: int) -> float:
    """Median seconds of the recursive solver (several repeats of many calls)."""
    number = max(1, 20000 // (2 ** n))
    times = timeit.repeat(lambda: domain.recursive_tower_plan(n), number=number, repeat=5)
    return sorted(times)[2] / number


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--min', type=int, default=3)
    ap.add_argument('--max', type=int, default=10)
    ap.add_argument('--engines', default=','.join(DEFAULT_ENGINES))
    ap.add_argument('--timeout', type=float, default=60.0, help='per plan, seconds')
    ap.add_argument('--form', default='move', choices=['move', 'pick_place'])
    args = ap.parse_args(argv)
    engines = [e for e in args.engines.split(',') if e]
    sizes = list(range(args.min, args.max + 1))
    rows = []
    given_up = set()
    floor = {n: recursive_seconds(n) for n in sizes}
    with tqdm(total=len(engines) * len(sizes), desc='planning bench', unit='plan') as bar:
        for engine in engines:
            planner = Planner(engine, args.timeout, args.form)
            planner.plan(SymbolicState.tower(2), Goal.tower(2, 3))   # warm-up: imports, caches
            for n in sizes:
                bar.set_postfix_str('%s n=%d' % (engine, n))
                if engine in given_up:
                    rows.append({'engine': engine, 'n': n, 'status': 'skipped (smaller n '
                                 'timed out)', 'seconds': None, 'moves': None, 'ratio': None})
                    bar.update(1)
                    continue
                t0 = time.perf_counter()
                res = planner.plan(SymbolicState.tower(n), Goal.tower(n, 3))
                wall = time.perf_counter() - t0
                ok = res.ok
                rows.append({'engine': engine, 'n': n, 'status': res.status,
                             'seconds': wall if ok else None,
                             'moves': res.moves if ok else None,
                             'optimal_moves': 2 ** n - 1,
                             'ratio': wall / floor[n] if ok else None})
                if not ok:
                    given_up.add(engine)
                bar.update(1)
    os.makedirs(RESULTS, exist_ok=True)
    meta = {'machine': platform.platform(), 'cpus': os.cpu_count(),
            'python': sys.version.split()[0],
            'form': args.form, 'timeout_s': args.timeout,
            'recursive_seconds': {str(n): floor[n] for n in sizes}}
    with open(os.path.join(RESULTS, 'planning.json'), 'w') as f:
        json.dump({'meta': meta, 'rows': rows}, f, indent=1)
    lines = ['| engine | n | status | moves (optimal) | seconds | x recursive solver |',
             '|---|---|---|---|---|---|']
    for n in sizes:
        lines.append('| recursive (in-process floor) | %d | solved | %d (%d) | %.2e | 1 |'
                     % (n, 2 ** n - 1, 2 ** n - 1, floor[n]))
    for r in rows:
        if r['seconds'] is None:
            lines.append('| %s | %d | %s | - | - | - |' % (r['engine'], r['n'], r['status']))
        else:
            lines.append('| %s | %d | %s | %d (%d) | %.3f | %.0f |'
                         % (r['engine'], r['n'], r['status'], r['moves'], r['optimal_moves'],
                            r['seconds'], r['ratio']))
    table = '\n'.join(lines)
    with open(os.path.join(RESULTS, 'planning.md'), 'w') as f:
        f.write(table + '\n')
    print(table)
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4.5))
        ax.semilogy(sizes, [floor[n] for n in sizes], 'k--', label='recursive (floor)')
        for engine in engines:
            pts = [(r['n'], r['seconds']) for r in rows
                   if r['engine'] == engine and r['seconds'] is not None]
            if pts:
                ax.semilogy(*zip(*pts), 'o-', label=engine)
        ax.set_xlabel('blocks')
        ax.set_ylabel('seconds per plan')
        ax.set_title('Hanoi planning time (%s form)' % args.form)
        ax.legend(fontsize=8)
        ax.grid(True, which='both', alpha=0.3)
        fig.tight_layout()
        fig.savefig(os.path.join(RESULTS, 'planning.png'), dpi=100)
    except ImportError:
        pass
    print('saved %s/planning.{md,json,png}' % RESULTS)
    return 0


if __name__ == '__main__':
    sys.exit(main())
