# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The benchmark table: aggregate episode records, set them beside the paper's published figures.

Pure logic (no ROS, no simulation): :func:`aggregate` turns one record per episode into one row
per setting (blocks x perception x faults) with success %, plan completion %, moves against
2^n - 1, replans, wall time and decision energy per episode and per solved task;
:func:`comparison` builds the side-by-side table with the figures of Duggan et al., "The Price
Is Not Right" (ICRA 2026), which are **quoted, not measured** here, and says so in every cell
that holds one. :func:`write_report` writes Markdown, JSON and a PNG.

An episode record holds ``blocks``, ``perception``, ``faults``, ``seed``, ``solved``, ``reason``,
``moves``, ``replans``, ``wall_s``, ``plan_completion`` (0..1) and the decision work measured in
the process: ``perception_cpu_s``, ``planning_cpu_s``, ``decision_j`` (and ``measured_j`` when a
hardware meter was read around the same calls); ``world_faults`` (sentences) where the
simulator saw something no plan can undo, such as a block falling off the table.
"""

import json
import os
import re
import statistics
from typing import Any, Dict, List, Optional, Sequence, Tuple

QUOTED = 'quoted, not measured'
PAPER: Dict[str, Any] = {
    'citation': ('Duggan, Lorang, Lu, Scheutz, "The Price Is Not Right", ICRA 2026, '
                 'arXiv 2602.19260'),
    'label': QUOTED,
    'setup': ('Towers of Hanoi, Franka Panda in simulation; ground-truth predicates, Metric-FF, '
              'one diffusion policy per skill; energy from W&B power samples'),
    'neuro_symbolic': {'name': 'neuro-symbolic', 'success_3': 0.95, 'success_4': 0.78,
                       'training_mj': 0.85, 'training_time': '34 min',
                       'execution_energy': 'about 5 % of the VLA\'s'},
    'vla': {'name': 'fine-tuned pi0 VLA', 'success_3': 0.34, 'success_4': 0.0,
            'training_mj': 68.5, 'training_time': '36 h', 'execution_energy': '100 % (reference)'},
}
ROW_KEYS = ('blocks', 'perception', 'faults')


def _mean(values: Sequence[float]) -> Optional[float]:
    vals = [float(v) for v in values if v is not None]
    return statistics.mean(vals) if vals else None


def _perception_audit(recs: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """
    Sum the episodes' camera-frame audits (none with ground-truth perception).

    ``loose_in_view`` / ``loose_found_in_view`` are None when no record has them (records
    written before the audit counted them); a record without them adds 0.
    ``loose_within_tolerance`` (found loose blocks placed within 1 cm) is None unless every
    record that found one has it.
    """
    audited = [r for r in recs if r.get('frames') is not None]
    if not audited:
        return {'judged_frames': None}
    viewed = [r for r in audited if r.get('loose_in_view') is not None]
    read = [r for r in viewed if r.get('loose_read_in_view') is not None]
    errors = [r['loose_error_max_m'] for r in audited if r.get('loose_error_max_m') is not None]
    found = sum(int(r.get('loose_found') or 0) for r in audited)
    means = [(r['loose_error_mean_m'], r['loose_found']) for r in audited
             if r.get('loose_error_mean_m') is not None]
    finding = [r for r in audited if r.get('loose_found')]
    return {
        'frames': sum(int(r['frames']) for r in audited),
        'judged_frames': sum(int(r.get('judged_frames') or 0) for r in audited),
        'wrong_states': sum(int(r.get('wrong_states') or 0) for r in audited),
        'wrong_examples': [e for r in audited for e in r.get('wrong_examples') or []][:5],
        'loose_seen': sum(int(r.get('loose_seen') or 0) for r in audited),
        'loose_found': found,
        'loose_in_view': (sum(int(r['loose_in_view']) for r in viewed) if viewed else None),
        'loose_found_in_view': (sum(int(r.get('loose_found_in_view') or 0) for r in viewed)
                                if viewed else None),
        'loose_read_in_view': (sum(int(r['loose_read_in_view']) for r in read)
                               if read and len(read) == len(viewed) else None),
        'loose_error_max_m': max(errors) if errors else None,
        'loose_error_mean_m': (sum(m * n for m, n in means) / found) if found else None,
        'loose_within_tolerance': (sum(int(r['loose_within_tolerance']) for r in finding)
                                   if all(r.get('loose_within_tolerance') is not None
                                          for r in finding) else None),
    }


def perception_markdown(rows: Sequence[Dict[str, Any]]) -> str:
    """Return the camera-frame audit per setting as Markdown ('' when none was audited)."""
    audited = [r for r in rows if r.get('judged_frames') is not None]
    if not audited:
        return ''
    lines = ['| blocks | perception | faults | frames | published known, judged | '
             'confidently wrong | loose blocks in truth (frames) | found loose | '
             'found loose when in view (>= 90 % visible); by its own reading | '
             'position error mean / max (share within 1 cm) |',
             '|---|---|---|---|---|---|---|---|---|---|']
    for r in audited:
        err = ('%.1f / %.1f mm' % (1000 * r['loose_error_mean_m'], 1000 * r['loose_error_max_m'])
               if r.get('loose_error_max_m') is not None else '-')
        if r.get('loose_error_max_m') is not None and r.get('loose_within_tolerance') is not None:
            err += ' (%.1f %%)' % (100.0 * r['loose_within_tolerance'] / r['loose_found'])
        found = ('%d (%s)' % (r['loose_found'], _pct(r['loose_found'] / r['loose_seen']))
                 if r['loose_seen'] else '-')
        in_view = r.get('loose_in_view')
        found_in_view = ('%d (%s)' % (r['loose_found_in_view'],
                                      _pct(r['loose_found_in_view'] / in_view))
                         if in_view else '-')
        if in_view and r.get('loose_read_in_view') is not None:
            read = r['loose_read_in_view']
            found_in_view += '; %d (%s)' % (read, _pct(read / in_view))
        lines.append('| %d | %s | %.2f | %d | %d | %d | %d | %s | %s | %s |' % (
            r['blocks'], r['perception'], float(r['faults']), r['frames'], r['judged_frames'],
            r['wrong_states'], r['loose_seen'], found, found_in_view, err))
    return '\n'.join(lines)


def failure_text(rec: Dict[str, Any]) -> str:
    """
    Say a failed episode in one line: its seed, the executor's reason, what the world did.

    ``world_faults`` (a block that fell off the table) are the simulator's, not anything the
    executor saw; they are added in brackets so that a failure the robot could not have undone
    reads apart from one it could have.
    """
    text = str(rec.get('reason', ''))
    if rec.get('seed') is not None:
        text = 'seed %s: %s' % (rec['seed'], text)
    return text + world_text(rec)


def world_text(rec: Dict[str, Any]) -> str:
    """Return `` [the world: ...]`` for a record with ``world_faults``, else ''."""
    faults = rec.get('world_faults')
    return ' [the world: %s]' % '; '.join(faults) if faults else ''


def aggregate(records: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """
    Return one row per (blocks, perception, faults), in the order the settings first appear.

    ``decision_j_per_solved`` is the decision energy of all the setting's episodes divided by
    the tasks solved (None when none was), so failed attempts are charged to the successes.
    An episode's optimum is its record's ``optimal_moves`` (the shortest plan from its start to
    its goal), else ``2^n - 1`` (a tower moved); ``optimal_solved`` counts the solved episodes
    that took exactly that many moves.
    """
    groups: Dict[Tuple[Any, ...], List[Dict[str, Any]]] = {}
    for rec in records:
        missing = [k for k in ROW_KEYS + ('solved', 'moves') if k not in rec]
        if missing:
            raise ValueError('episode record without %s: %r' % (', '.join(missing), rec))
        groups.setdefault(tuple(rec[k] for k in ROW_KEYS), []).append(rec)
    rows = []
    for (blocks, perception, faults), recs in groups.items():
        n = len(recs)
        solved = [r for r in recs if r['solved']]

        def best(r: Dict[str, Any]) -> int:
            given = r.get('optimal_moves')
            return int(given) if given is not None else 2 ** int(blocks) - 1
        optimal = _mean([best(r) for r in recs])
        ratios = [r['moves'] / best(r) for r in solved if best(r)]
        decision = [float(r.get('decision_j') or 0.0) for r in recs]
        mean_solved_moves = _mean([r['moves'] for r in solved])
        measured = [r['measured_j'] for r in recs if r.get('measured_j') is not None]
        rows.append({
            'blocks': blocks, 'perception': perception, 'faults': faults, 'episodes': n,
            'solved': len(solved), 'success_rate': len(solved) / n,
            'plan_completion': _mean([r.get('plan_completion', 1.0 if r['solved'] else 0.0)
                                      for r in recs]),
            'mean_moves': _mean([r['moves'] for r in recs]),
            'mean_moves_solved': mean_solved_moves, 'optimal_moves': optimal,
            'moves_over_optimal': _mean(ratios) if ratios else None,
            'optimal_solved': sum(1 for r in solved if r['moves'] == best(r)),
            'replans': sum(int(r.get('replans') or 0) for r in recs),
            'recoveries': sum(int(r.get('recoveries') or 0) for r in recs),
            'replans_per_episode': _mean([r.get('replans') or 0 for r in recs]),
            'mean_wall_s': _mean([r.get('wall_s') for r in recs]),
            'perception_cpu_s': _mean([r.get('perception_cpu_s') or 0.0 for r in recs]),
            'planning_cpu_s': _mean([r.get('planning_cpu_s') or 0.0 for r in recs]),
            'decision_j_per_episode': _mean(decision),
            'decision_j_per_solved': sum(decision) / len(solved) if solved else None,
            'measured_j_per_episode': _mean(measured) if measured else None,
            'failures': [failure_text(r) for r in recs if not r['solved']],
        })
        rows[-1].update(_perception_audit(recs))
    return rows


# ----------------------------------------------------------------------------- training energy
def training_from_meta(meta: Dict[str, Any], source: str) -> Optional[Dict[str, Any]]:
    """Return the training energy stored in a model's metadata (``meta['energy']``)."""
    energy = meta.get('energy') if isinstance(meta, dict) else None
    if not isinstance(energy, dict) or not isinstance(energy.get('joules'), (int, float)):
        return None
    seconds = meta.get('seconds') if isinstance(meta.get('seconds'), dict) else {}
    wall = seconds.get('total', energy.get('wall_seconds'))
    return {'joules': float(energy['joules']), 'estimated': bool(energy.get('estimated', True)),
            'method': str(energy.get('method', '')), 'wall_s': wall, 'source': source}


_UNITS = {'j': 1.0, 'kj': 1e3, 'mj': 1e6, 'wh': 3600.0, 'kwh': 3.6e6}


def training_from_readme(text: str, source: str = 'models/README.md') -> Optional[Dict[str, Any]]:
    """Parse the ``| training energy | ... |`` (and ``training time``) rows of models/README.md."""
    row = re.search(r'^\|\s*training energy\s*\|(.+?)\|?\s*$', text, re.M | re.I)
    if not row:
        return None
    cell = row.group(1)
    m = re.search(r'([\d][\d,]*(?:\.\d+)?)\s*(kwh|wh|mj|kj|j)\b', cell, re.I)
    if not m:
        return None
    joules = float(m.group(1).replace(',', '')) * _UNITS[m.group(2).lower()]
    out: Dict[str, Any] = {'joules': joules,
                           'estimated': 'estimat' in cell.lower() or 'not a measurement' in cell,
                           'method': re.sub(r'[*`]', '', cell).strip(), 'wall_s': None,
                           'source': source}
    t = re.search(r'^\|\s*training time\s*\|\s*([\d.]+)\s*s\b', text, re.M | re.I)
    if t:
        out['wall_s'] = float(t.group(1))
    return out


# ----------------------------------------------------------------------------- comparison
def _pct(x: Optional[float]) -> str:
    return '-' if x is None else '%.0f %%' % (100.0 * x)


def _joules(x: Optional[float]) -> str:
    if x is None:
        return '-'
    if abs(x) >= 1e5:
        return '%.2f MJ' % (x / 1e6)
    if abs(x) >= 1e3:
        return '%.2f kJ' % (x / 1e3)
    return '%.1f J' % x


def _find(rows: Sequence[Dict[str, Any]], blocks: int, perception: str,
          faults: float = 0.0) -> Optional[Dict[str, Any]]:
    for r in rows:
        if r['blocks'] == blocks and r['perception'] == perception and \
                abs(float(r['faults']) - faults) < 1e-9:
            return r
    return None


def comparison(rows: Sequence[Dict[str, Any]],
               training: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """
    Return the side-by-side table: our measured rows (no fault injection) next to the paper's.

    Every paper cell ends in ``(quoted, not measured)``; ours say ``measured`` or ``estimated``.
    """
    perceptions: List[str] = []
    for r in rows:
        if r['perception'] not in perceptions:
            perceptions.append(r['perception'])
    ns, vla = PAPER['neuro_symbolic'], PAPER['vla']
    header = ['metric'] + ['nsvla, %s perception (measured here)' % p for p in perceptions]
    header += ['paper: %s (%s)' % (paper['name'], QUOTED) for paper in (ns, vla)]
    table: List[List[str]] = []

    def success(blocks: int) -> List[str]:
        cells = []
        for p in perceptions:
            r = _find(rows, blocks, p)
            cells.append('%s (%d/%d)' % (_pct(r['success_rate']), r['solved'], r['episodes'])
                         if r else 'not run')
        return cells

    q = ' (%s)' % QUOTED
    table.append(['success, 3 blocks'] + success(3)
                 + [_pct(ns['success_3']) + q, _pct(vla['success_3']) + q])
    table.append(['success, 4 blocks (paper: unseen)'] + success(4)
                 + [_pct(ns['success_4']) + q, _pct(vla['success_4']) + q])
    train_cells = []
    for p in perceptions:
        if p == 'learned' and training:
            train_cells.append('%s = %.4f MJ (%s, %s)' % (
                _joules(training['joules']), training['joules'] / 1e6,
                'estimated' if training['estimated'] else 'measured', training['source']))
        elif p == 'learned':
            train_cells.append('unknown (no training record found)')
        else:
            train_cells.append('0 J (nothing trained)')
    table.append(['training energy'] + train_cells
                 + [_joules(ns['training_mj'] * 1e6) + q, _joules(vla['training_mj'] * 1e6) + q])
    time_cells = []
    for p in perceptions:
        wall = training.get('wall_s') if (p == 'learned' and training) else None
        time_cells.append('%.0f s' % wall if wall else '-' if p == 'learned' else '0 s')
    table.append(['training time'] + time_cells
                 + [ns['training_time'] + q, vla['training_time'] + q])
    exec_cells = []
    for p in perceptions:
        r = _find(rows, 3, p)
        exec_cells.append('%s per episode, %s per solved task (estimated, decision work only)'
                          % (_joules(r['decision_j_per_episode']),
                             _joules(r['decision_j_per_solved'])) if r else 'not run')
    table.append(['execution energy, 3 blocks'] + exec_cells
                 + [ns['execution_energy'] + q, vla['execution_energy'] + q])
    return {'header': header, 'rows': table, 'citation': PAPER['citation'],
            'label': QUOTED}


# ----------------------------------------------------------------------------- rendering
def rows_markdown(rows: Sequence[Dict[str, Any]], energy_label: str = 'estimated') -> str:
    """Return the measured table as Markdown."""
    lines = ['| blocks | perception | faults | episodes | success | plan completion | '
             'moves (optimal) | moves / optimal (solved; optimal count) | replans (recoveries) | '
             'wall s / episode | '
             'decision J / episode (%s) | decision J / solved task (%s) |'
             % (energy_label, energy_label),
             '|---|---|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        lines.append('| %d | %s | %.2f | %d | %s (%d/%d) | %s | %.1f (%.1f) | %s | %d (%d) | '
                     '%.1f | %s | %s |' % (
                         r['blocks'], r['perception'], float(r['faults']), r['episodes'],
                         _pct(r['success_rate']), r['solved'], r['episodes'],
                         _pct(r['plan_completion']), r['mean_moves'] or 0.0, r['optimal_moves'],
                         '%.2f (%d/%d)' % (r['moves_over_optimal'], r.get('optimal_solved', 0),
                                           r['solved']) if r['moves_over_optimal'] else '-',
                         r['replans'], r.get('recoveries', 0), r['mean_wall_s'] or 0.0,
                         _num(r['decision_j_per_episode']), _num(r['decision_j_per_solved'])))
    return '\n'.join(lines)


def _num(x: Optional[float]) -> str:
    return '-' if x is None else '%.2f' % x


def comparison_markdown(comp: Dict[str, Any]) -> str:
    """Return the comparison table as Markdown."""
    lines = ['| ' + ' | '.join(comp['header']) + ' |',
             '|' + '---|' * len(comp['header'])]
    lines += ['| ' + ' | '.join(row) + ' |' for row in comp['rows']]
    return '\n'.join(lines)


def to_markdown(rows: Sequence[Dict[str, Any]], comp: Dict[str, Any],
                meta: Dict[str, Any]) -> str:
    """Return the whole report: settings, measured table, comparison, notes."""
    energy = meta.get('energy', {})
    seed = int(meta.get('seed') or 0)
    label = 'estimated' if energy.get('estimated', True) else 'measured'
    lines = ['# nsvla bench', '',
             '%s episodes per setting, seeds %d..%d, %s; planner %s.' % (
                 meta.get('episodes'), seed, seed + int(meta.get('episodes') or 1) - 1,
                 meta.get('machine', ''), meta.get('engine', 'fast-downward')), '',
             *(['Packages: %s.' % ', '.join('%s %s' % kv for kv in meta['packages'].items()
                                            if kv[1]), '']
               if meta.get('packages') else []),
             '## Measured here', '', rows_markdown(rows, label), '',
             'Decision energy (%s): %s.' % (label, energy.get('method', 'not recorded')), '']
    audit = perception_markdown(rows)
    if audit:
        lines += ['Camera frames against the world\'s truth at the same instant (a loose block '
                  'the camera cannot see counts as not found; "when in view" counts only the '
                  'frames where the camera sees at least 90 % of its silhouette):', '', audit,
                  '']
        lines += ['- wrong (%d blocks, %s, faults %.2f): %s'
                  % (r['blocks'], r['perception'], float(r['faults']), e)
                  for r in rows for e in r.get('wrong_examples') or []]
        lines.append('')
    fails = [(r, why) for r in rows for why in r['failures']]
    if fails:
        lines += ['Failures:', '']
        lines += ['- %d blocks, %s, faults %.2f: %s'
                  % (r['blocks'], r['perception'], float(r['faults']), why) for r, why in fails]
        lines.append('')
    training = meta.get('training')
    lines += ['## Beside the paper (its figures are %s)' % QUOTED, '',
              comparison_markdown(comp), '',
              'Paper: %s. Its set-up: %s. The paper\'s figures are copied from the paper; '
              'nothing in those columns was measured here.'
              % (PAPER['citation'], PAPER['setup'])]
    if training:
        lines += ['', 'Training energy of the learned perception: %s, %s, from %s (%s).' % (
            _joules(training['joules']), 'estimated' if training['estimated'] else 'measured',
            training['source'], training.get('method', ''))]
    return '\n'.join(lines) + '\n'


def plot(rows: Sequence[Dict[str, Any]], path: str) -> str:
    """Bar chart: success % and decision energy per episode per setting, paper points quoted."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    blocks = sorted({r['blocks'] for r in rows})
    series: List[Tuple[str, float]] = []
    for r in rows:
        key = (r['perception'], float(r['faults']))
        if key not in series:
            series.append(key)
    paper_blocks = [n for n in blocks if n in (3, 4)]
    n_success = len(series) + (2 if paper_blocks else 0)
    width = 0.8 / max(1, n_success)

    def x(i: int, j: int, total: int) -> float:
        return i + (j - (total - 1) / 2.0) * width

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.8))
    for j, (perception, faults) in enumerate(series):
        label = '%s, faults %.2f' % (perception, faults)
        found = [(i, _find(rows, n, perception, faults)) for i, n in enumerate(blocks)]
        found = [(i, r) for i, r in found if r]
        ax1.bar([x(i, j, n_success) for i, _ in found],
                [100.0 * r['success_rate'] for _, r in found], width, label=label)
        ax2.bar([x(i, j, len(series)) for i, _ in found],
                [r['decision_j_per_episode'] or 0.0 for _, r in found], width, label=label)
    for k, (who, hatch) in enumerate((('neuro_symbolic', '//'), ('vla', 'xx'))):
        paper = PAPER[who]
        pts = [(i, n) for i, n in enumerate(blocks) if n in (3, 4)]
        if pts:
            ax1.bar([x(i, len(series) + k, n_success) for i, _ in pts],
                    [100.0 * paper['success_%d' % n] for _, n in pts], width, fill=False,
                    hatch=hatch, edgecolor='0.3',
                    label='paper: %s (%s)' % (paper['name'], QUOTED))
    for ax in (ax1, ax2):
        ax.set_xticks(range(len(blocks)))
        ax.set_xticklabels(['%d blocks' % n for n in blocks])
    ax1.set_ylabel('success %')
    ax1.set_ylim(0, 105)
    ax1.set_title('closed-loop success (measured here; hatched: paper, quoted)', fontsize=10)
    ax1.legend(fontsize=7, loc='upper center', bbox_to_anchor=(0.5, -0.08), ncol=2)
    ax2.set_ylabel('J per episode (estimated)')
    ax2.set_title('decision energy: perception + planning per episode (colours as left)',
                  fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(out_dir: str, rows: Sequence[Dict[str, Any]], meta: Dict[str, Any],
                 episodes: Sequence[Dict[str, Any]] = ()) -> Dict[str, str]:
    """Write ``bench.md``, ``bench.json`` and ``bench.png``; return their paths."""
    os.makedirs(out_dir, exist_ok=True)
    comp = comparison(rows, meta.get('training'))
    paths = {'markdown': os.path.join(out_dir, 'bench.md'),
             'json': os.path.join(out_dir, 'bench.json'),
             'png': os.path.join(out_dir, 'bench.png')}
    with open(paths['markdown'], 'w') as f:
        f.write(to_markdown(rows, comp, meta))
    with open(paths['json'], 'w') as f:
        json.dump({'meta': meta, 'rows': list(rows), 'comparison': comp,
                   'paper': PAPER, 'episodes': list(episodes)}, f, indent=1, default=str)
    plot(rows, paths['png'])
    return paths
