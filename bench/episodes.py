# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Episode benchmark: closed-loop success in the embedded physics world.

For 3, 4 and 5 blocks, with and without fault injection (grasps that slip mid-transport),
runs seeded episodes from the standard tower to the right peg and reports success rate, plan
completion, moves against the optimum 2^n - 1, replans, recoveries and wall time. Writes a
Markdown table, JSON and a PNG to bench/results/.

    .venv/bin/python bench/episodes.py [--episodes 20] [--blocks 3,4,5] [--faults 0.2]
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

from tqdm import tqdm

from nsvla_common.rosenv import localhost_env
from nsvla_control.bench_cli import run_one, summarise

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--episodes', type=int, default=20)
    ap.add_argument('--blocks', default='3,4,5')
    ap.add_argument('--faults', type=float, default=0.2,
                    help='slip probability per grasp in the fault runs')
    ap.add_argument('--perception', default='ground_truth')
    ap.add_argument('--seed', type=int, default=1000)
    args = ap.parse_args(argv)
    localhost_env()
    sizes = [int(b) for b in args.blocks.split(',')]
    settings = [(n, f) for n in sizes for f in (0.0, args.faults)]
    rows, records = [], []
    t0 = time.monotonic()
    with tqdm(total=len(settings) * args.episodes, desc='episodes', unit='ep') as bar:
        for n, faults in settings:
            results = []
            for i in range(args.episodes):
                bar.set_postfix_str('%d blocks, faults %.2f' % (n, faults))
                # THE executor with config/nsvla_params.yaml: no overrides
                res = run_one(n, args.seed + i, faults, args.perception, 'tower', 3)
                results.append(res)
                records.append(dict(res.to_dict(), blocks=n, faults=faults, steps=None))
                bar.update(1)
            row = summarise(results, n, faults, args.perception)
            row['recoveries'] = sum(r.recoveries for r in results)
            solved = [r for r in results if r.solved]
            row['moves_over_optimal'] = (statistics.mean(r.moves for r in solved)
                                         / (2 ** n - 1)) if solved else None
            rows.append(row)
    os.makedirs(RESULTS, exist_ok=True)
    meta = {'machine': platform.platform(), 'cpus': os.cpu_count(),
            'python': sys.version.split()[0], 'episodes_per_setting': args.episodes,
            'perception': args.perception, 'seed': args.seed,
            'total_wall_s': time.monotonic() - t0}
    with open(os.path.join(RESULTS, 'episodes.json'), 'w') as f:
        json.dump({'meta': meta, 'rows': rows, 'episodes': records}, f, indent=1, default=str)
    lines = ['| blocks | faults | episodes | success | plan completion | mean moves '
             '(optimal) | moves / optimal (solved) | replans | recoveries | mean wall s |',
             '|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        lines.append('| %d | %.2f | %d | %.0f %% | %.0f %% | %.1f (%d) | %s | %d | %d | %.1f |'
                     % (r['blocks'], r['faults'], r['episodes'], 100 * r['success_rate'],
                        100 * r['plan_completion'], r['mean_moves'], r['optimal_moves'],
                        '%.2f' % r['moves_over_optimal'] if r['moves_over_optimal'] else '-',
                        r['replans'], r['recoveries'], r['mean_wall_s']))
    table = '\n'.join(lines)
    with open(os.path.join(RESULTS, 'episodes.md'), 'w') as f:
        f.write(table + '\n')
    print(table)
    failures = [(r['blocks'], r['faults'], why) for r in rows for why in r['failures']]
    for n, f, why in failures:
        print('failure (%d blocks, faults %.2f): %s' % (n, f, why))
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4))
        width = 0.35
        for j, faults in enumerate((0.0, args.faults)):
            sub = [r for r in rows if r['faults'] == faults]
            ax.bar([s + (j - 0.5) * width for s in range(len(sub))],
                   [100 * r['success_rate'] for r in sub], width,
                   label='faults %.2f' % faults)
        ax.set_xticks(range(len(sizes)))
        ax.set_xticklabels(['%d blocks' % n for n in sizes])
        ax.set_ylabel('success %')
        ax.set_ylim(0, 105)
        ax.set_title('closed-loop episodes (%s perception)' % args.perception)
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(RESULTS, 'episodes.png'), dpi=100)
    except ImportError:
        pass
    print('saved %s/episodes.{md,json,png}' % RESULTS)
    return 0


if __name__ == '__main__':
    sys.exit(main())
