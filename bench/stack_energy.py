# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The stack's own energy: CPU seconds and estimated joules of each node per solved episode.

For every block count and seed, runs one launched episode (``nsvla demo --blocks N --seed S
--json --no-bag``: the embedded graph as separate processes over loopback DDS) and reads from
its summary each node's CPU seconds over the episode (``cpu_s``, read by the demo from the
node's process) and the power monitor's per-role joules (``energy_j``). Then, in this process
and in the same run, the same seeds as in-process episodes under the decision meter of
``nsvla bench`` (:class:`nsvla_eval.bench_cli.DecisionMeter`): the CPU seconds of the
perception and planning calls alone, the floor of what deciding costs. Joules are estimates:
CPU seconds x ``--watts-per-core`` (10 W, the stack's default), labelled so. The nodes a real
rig runs are all but the simulation. Writes ``<label>.md``, ``<label>.json`` and
``<label>.png`` to ``--out`` (default bench/results/, not committed), and every episode as it
ends to ``<label>.jsonl`` (``--resume`` keeps those of a run that stopped); ``--baseline`` puts
an earlier JSON beside this run in the table and the picture. Run it from the checkout to
measure: the demo and its nodes run with ``python -m`` from there.

    .venv/bin/python bench/stack_energy.py [--blocks 3,5] [--episodes 5] [--seed 0]
        [--label stack_energy] [--baseline bench/results/before.json]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

from tqdm import tqdm

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from nsvla_common.rosenv import localhost_env  # noqa: E402
from nsvla_energy.meters import DEFAULT_WATTS_PER_CORE  # noqa: E402

RESULTS = os.path.join(REPO, 'bench', 'results')
# node name in the embedded graph -> energy role (nsvla_energy.attribution.ROLES)
NODES = (('perception', 'perception'), ('planner', 'planning'), ('executor', 'control'),
         ('power_monitor', 'monitor'), ('sim', 'simulation'))
RIG = ('perception', 'planner', 'executor', 'power_monitor')    # what a real rig runs
TARGET_J = {3: 30.0, 5: 100.0}


def _nsvla_command() -> List[str]:
    # ``-m`` from this tree: the demo and the nodes it starts run this checkout's code
    return [sys.executable, '-m', 'nsvla_common.cli']


def run_demo(blocks: int, seed: int, args: argparse.Namespace, out_dir: str) -> Dict[str, Any]:
    """Run one launched episode; return its summary (``solved`` False with a reason on error)."""
    cmd = _nsvla_command() + [
        'demo', '--blocks', str(blocks), '--seed', str(seed), '--json', '--no-bag',
        '--perception', args.perception, '--faults', str(args.faults),
        '--speed', str(args.speed), '--timeout', str(args.timeout), '--out', out_dir]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=localhost_env(os.environ.copy()),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=args.timeout + 240.0)
        lines = [s for s in proc.stdout.splitlines() if s.startswith('{')]
        summary = json.loads(lines[-1]) if lines else {
            'solved': False, 'reason': 'no JSON summary (exit %d): %s'
            % (proc.returncode, proc.stdout[-400:])}
    except subprocess.TimeoutExpired:
        summary = {'solved': False, 'reason': 'demo did not finish in time'}
    except ValueError as exc:
        summary = {'solved': False, 'reason': 'unreadable summary: %s' % exc}
    summary.update(blocks=blocks, seed=seed, run_wall_s=round(time.monotonic() - t0, 1))
    return summary


def episode_row(summary: Dict[str, Any], watts: float) -> Dict[str, Any]:
    """Return the per-node CPU seconds and joules of one launched episode."""
    cpu = summary.get('cpu_s') or {}
    monitor = summary.get('energy_j') or {}
    row = {'blocks': summary['blocks'], 'seed': summary['seed'],
           'solved': bool(summary.get('solved')), 'moves': summary.get('moves'),
           'episode_wall_s': summary.get('episode_wall_s'), 'reason': summary.get('reason'),
           'cpu_s': {}, 'joules': {}, 'monitor_j': {}}
    for name, role in NODES:
        seconds = cpu.get(name)
        if seconds is None and monitor.get(role) is not None:   # an older demo: no cpu_s
            seconds = monitor[role] / watts
        row['cpu_s'][name] = seconds
        row['joules'][name] = None if seconds is None else seconds * watts
        row['monitor_j'][name] = monitor.get(role)
    known = [row['joules'][n] for n in RIG]
    row['rig_j'] = sum(known) if all(j is not None for j in known) else None
    mon = [row['monitor_j'][n] for n in RIG]
    row['rig_monitor_j'] = sum(mon) if all(j is not None for j in mon) else None
    if row['moves'] and row['episode_wall_s']:
        row['wall_s_per_move'] = row['episode_wall_s'] / row['moves']
    else:
        row['wall_s_per_move'] = None
    return row


def run_floor(blocks: int, seed: int, args: argparse.Namespace, meter: Any) -> Dict[str, Any]:
    """Run the same seed in-process under the decision meter; return its record."""
    from nsvla_eval.bench_cli import run_episode_record
    ns = argparse.Namespace(goal_peg=3, engine=None, max_replans=None, params_file=None,
                            seed=seed, random_share=0.0)
    try:
        return run_episode_record(blocks, args.perception, args.faults, seed, ns, meter)
    except Exception as exc:  # noqa: BLE001 - one broken episode must not lose the run
        return {'blocks': blocks, 'seed': seed, 'solved': False, 'decision_j': None,
                'reason': 'in-process episode raised %s: %s' % (type(exc).__name__, exc)}


def _mean(values: List[Optional[float]]) -> Optional[float]:
    values = [v for v in values if v is not None]
    return statistics.mean(values) if values else None


def _median(values: List[Optional[float]]) -> Optional[float]:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def aggregate(rows: List[Dict[str, Any]], floors: List[Dict[str, Any]],
              blocks: int) -> Dict[str, Any]:
    """Return the means per solved episode at one block count."""
    mine = [r for r in rows if r['blocks'] == blocks]
    solved = [r for r in mine if r['solved']]
    floor = [f for f in floors if f['blocks'] == blocks]
    out = {'blocks': blocks, 'episodes': len(mine), 'solved': len(solved),
           'mean_moves': _mean([r['moves'] for r in solved]),
           'wall_s_per_move': _mean([r['wall_s_per_move'] for r in solved]),
           'cpu_s': {n: _mean([r['cpu_s'][n] for r in solved]) for n, _ in NODES},
           'joules': {n: _mean([r['joules'][n] for r in solved]) for n, _ in NODES},
           'rig_j': _mean([r['rig_j'] for r in solved]),
           # the mean is what an owner pays; the median and the range show an episode that
           # went wrong (one 5-block episode of the old stack used 1.5 kJ, ten times the rest)
           'rig_j_median': _median([r['rig_j'] for r in solved]),
           'rig_j_range': ([min(r['rig_j'] for r in solved), max(r['rig_j'] for r in solved)]
                           if solved and all(r['rig_j'] is not None for r in solved) else None),
           'rig_monitor_j': _mean([r['rig_monitor_j'] for r in solved]),
           'target_j': TARGET_J.get(blocks),
           # median: one in-process episode that keeps looking (2 000 perception calls) must
           # not stand for the floor
           'floor_j': _median([f.get('decision_j') for f in floor if f['solved']]),
           'floor_j_mean': _mean([f.get('decision_j') for f in floor if f['solved']]),
           'floor_solved': sum(1 for f in floor if f['solved']), 'floor_episodes': len(floor),
           'failures': ['seed %d: %s' % (r['seed'], r['reason']) for r in mine
                        if not r['solved']]}
    return out


def _f(value: Optional[float], fmt: str = '%.1f') -> str:
    return '-' if value is None else fmt % value


def table(summary: List[Dict[str, Any]], baseline: Optional[List[Dict[str, Any]]],
          label: str, base_label: str) -> str:
    """Return the Markdown table: per node, CPU s and J per solved episode (and the baseline)."""
    base = {b['blocks']: b for b in baseline or []}
    lines = ['| blocks | run | solved | moves | wall s / move | '
             + ' | '.join('%s CPU s (J)' % n for n, _ in NODES)
             + ' | rig J (target) | rig J median (min-max) | rig J, monitor '
             '| decision floor J (median) |',
             '|---|---|---|---|---|' + '---|' * len(NODES) + '---|---|---|---|']

    def line(s: Dict[str, Any], name: str) -> str:
        nodes = ' | '.join('%s (%s)' % (_f(s['cpu_s'][n], '%.2f'), _f(s['joules'][n]))
                           for n, _ in NODES)
        spread = s.get('rig_j_range')
        median = '%s (%s)' % (_f(s.get('rig_j_median')), '-' if not spread else
                              '%.1f-%.1f' % tuple(spread))
        return ('| %d | %s | %d/%d | %s | %s | %s | %s (<= %s) | %s | %s | %s |'
                % (s['blocks'], name, s['solved'], s['episodes'], _f(s['mean_moves']),
                   _f(s['wall_s_per_move'], '%.2f'), nodes, _f(s['rig_j']),
                   _f(s['target_j'], '%.0f'), median, _f(s['rig_monitor_j']),
                   _f(s['floor_j'], '%.2f')))
    for s in summary:
        if s['blocks'] in base:
            lines.append(line(base[s['blocks']], base_label))
        lines.append(line(s, label))
    return '\n'.join(lines)


def plot(summary: List[Dict[str, Any]], baseline: Optional[List[Dict[str, Any]]],
         label: str, base_label: str, path: str) -> Optional[str]:
    """Draw stacked bars of the rig nodes' joules per solved episode; return the path."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    base = {b['blocks']: b for b in baseline or []}
    bars = []
    for s in summary:
        if s['blocks'] in base:
            bars.append(('%d blocks\n%s' % (s['blocks'], base_label), base[s['blocks']]))
        bars.append(('%d blocks\n%s' % (s['blocks'], label), s))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(bars)), 4.5))
    bottoms = [0.0] * len(bars)
    for name in RIG:
        heights = [b[1]['joules'][name] or 0.0 for b in bars]
        ax.bar(range(len(bars)), heights, 0.6, bottom=bottoms, label=name)
        bottoms = [x + h for x, h in zip(bottoms, heights)]
    for i, (_name, s) in enumerate(bars):
        if s.get('target_j'):
            ax.plot([i - 0.35, i + 0.35], [s['target_j']] * 2, 'k--', lw=1)
        if s.get('floor_j') is not None:
            ax.plot([i], [s['floor_j']], 'kv')
    ax.plot([], [], 'k--', lw=1, label='target')
    ax.plot([], [], 'kv', label='decision floor (in-process)')
    ax.set_xticks(range(len(bars)))
    ax.set_xticklabels([b[0] for b in bars])
    ax.set_ylabel('J per solved episode (estimate: CPU s x W/core)')
    ax.set_title('energy of the nodes a real rig runs (simulation excluded)')
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _git() -> Dict[str, Any]:
    try:
        head = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=REPO, text=True,
                              capture_output=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'],
                               cwd=REPO, text=True, capture_output=True).stdout.split('\n')
        return {'commit': head, 'modified': [s[3:] for s in dirty if s.strip()]}
    except OSError:
        return {}


def main(argv: Optional[List[str]] = None) -> int:
    """Run the launched episodes and the in-process floor; write the table and the picture."""
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('--blocks', default='3,5', help='block counts, comma-separated')
    ap.add_argument('--episodes', type=int, default=5, help='seeds per block count')
    ap.add_argument('--seed', type=int, default=0, help='first seed')
    ap.add_argument('--perception', default='classic', choices=('classic', 'learned'))
    ap.add_argument('--faults', type=float, default=0.0, help='grasp slip probability')
    ap.add_argument('--speed', type=float, default=2.0, help='demo real-time factor')
    ap.add_argument('--timeout', type=float, default=900.0, help='seconds per episode')
    ap.add_argument('--watts-per-core', type=float, default=DEFAULT_WATTS_PER_CORE)
    ap.add_argument('--no-floor', action='store_true', help='skip the in-process floor')
    ap.add_argument('--label', default='stack_energy', help='name of this run\'s files')
    ap.add_argument('--baseline', default=None, help='an earlier run\'s JSON to set beside')
    ap.add_argument('--out', default=RESULTS, help='folder of the table, JSON and PNG')
    ap.add_argument('--resume', action='store_true',
                    help='keep the episodes already in <label>.jsonl (a run that stopped)')
    args = ap.parse_args(argv)
    localhost_env()
    sizes = [int(b) for b in args.blocks.split(',') if b.strip()]
    seeds = range(args.seed, args.seed + args.episodes)
    os.makedirs(args.out, exist_ok=True)
    base = os.path.join(args.out, args.label)
    done: Dict[tuple, Dict[str, Any]] = {}      # (kind, blocks, seed) -> row, as written
    if args.resume and os.path.exists(base + '.jsonl'):
        with open(base + '.jsonl') as f:
            for line in f:
                rec = json.loads(line)
                done[(rec['kind'], rec['row']['blocks'], rec['row']['seed'])] = rec['row']
    log = open(base + '.jsonl', 'a' if args.resume else 'w')

    def keep(kind: str, row: Dict[str, Any]) -> Dict[str, Any]:
        log.write(json.dumps({'kind': kind, 'row': row}, default=str) + '\n')
        log.flush()
        return row
    rows: List[Dict[str, Any]] = []
    floors: List[Dict[str, Any]] = []
    t0 = time.monotonic()
    total = len(sizes) * args.episodes * (1 if args.no_floor else 2)
    with tempfile.TemporaryDirectory() as tmp, \
            tqdm(total=total, desc='stack energy', unit='episode') as bar:
        for n in sizes:
            for seed in seeds:
                bar.set_postfix_str('launched, %d blocks, seed %d' % (n, seed))
                row = done.get(('launched', n, seed))
                if row is None:
                    summary = run_demo(n, seed, args,
                                       os.path.join(tmp, 'demo-%d-%d' % (n, seed)))
                    row = keep('launched', episode_row(summary, args.watts_per_core))
                rows.append(row)
                bar.update(1)
        if not args.no_floor:
            from nsvla_eval.bench_cli import _warm_up, DecisionMeter
            _warm_up([args.perception], None)
            with DecisionMeter(args.watts_per_core) as meter:
                for n in sizes:
                    for seed in seeds:
                        bar.set_postfix_str('in-process floor, %d blocks, seed %d' % (n, seed))
                        row = done.get(('floor', n, seed))
                        if row is None:
                            row = keep('floor', run_floor(n, seed, args, meter))
                        floors.append(row)
                        bar.update(1)
    log.close()
    summary = [aggregate(rows, floors, n) for n in sizes]
    baseline, base_label = None, 'baseline'
    if args.baseline:
        with open(args.baseline) as f:
            old = json.load(f)
        baseline, base_label = old['summary'], old['meta'].get('label', 'baseline')
    command = 'bench/stack_energy.py ' + ' '.join(argv if argv is not None else sys.argv[1:])
    meta = {'label': args.label, 'command': command.strip(), 'git': _git(),
            'machine': platform.platform(), 'cpus': os.cpu_count(),
            'python': platform.python_version(), 'watts_per_core': args.watts_per_core,
            'estimated': True, 'method': (
                'per node: CPU seconds of its process over the episode (nsvla demo cpu_s, from '
                '/proc) x %.1f W per busy core; rig = all nodes but the simulation; floor: CPU '
                's of the perception and planning calls of the same seeds run in-process '
                '(nsvla bench DecisionMeter) x the same watts' % args.watts_per_core),
            'perception': args.perception, 'faults': args.faults, 'speed': args.speed,
            'total_wall_s': round(time.monotonic() - t0, 1),
            'created': time.strftime('%Y-%m-%d %H:%M:%S')}
    text = table(summary, baseline, args.label, base_label)
    with open(base + '.json', 'w') as f:
        json.dump({'meta': meta, 'summary': summary, 'episodes': rows, 'floor': floors}, f,
                  indent=1, default=str)
    with open(base + '.md', 'w') as f:
        f.write('%s\n\n%s (estimate, %.0f W per busy core; J per solved episode)\n\n'
                '`%s`\n' % (text, meta['method'], args.watts_per_core, meta['command']))
    png = plot(summary, baseline, args.label, base_label, base + '.png')
    print(text)
    for s in summary:
        for why in s['failures']:
            print('failed (%d blocks): %s' % (s['blocks'], why))
    print('wrote %s.{md,json}%s' % (base, ', ' + png if png else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
