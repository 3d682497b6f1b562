# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The report of ``nsvla replay-eval``: the one-line JSON summary, Markdown, a PNG and the files.

Takes the report dict :func:`nsvla_eval.replay.evaluate` returns; reads no bag.
"""

import json
import os
from typing import Any, Dict, List, Optional


def summary_line(report: Dict[str, Any]) -> Dict[str, Any]:
    """Return the one-line JSON of ``nsvla replay-eval --json`` (the contract's keys first)."""
    keys = ('frames', 'state_accuracy', 'plans_valid', 'plans_optimal', 'evaluated',
            'outcomes', 'states_seen', 'plans', 'goal', 'backend', 'time_base', 'malformed',
            'energy_per_frame', 'energy_recorded', 'report')
    out = {k: report.get(k) for k in keys if k in report}
    energy = dict(out.get('energy_per_frame') or {})
    out['energy_per_frame'] = {k: energy.get(k) for k in ('joules_mean', 'cpu_s_mean',
                                                          'estimated')}
    rec = out.get('energy_recorded') or {}
    out['energy_recorded'] = rec.get('monitor')
    return out


# ----------------------------------------------------------------------------- report files
def _pct(x: Optional[float]) -> str:
    return '-' if x is None else '%.1f %%' % (100 * x)


def to_markdown(report: Dict[str, Any]) -> str:
    """Return the report as Markdown."""
    o = report['outcomes']
    e = report['energy_per_frame']
    lines = [
        '# Replay evaluation: %s' % report['bag'], '',
        '| | |', '|---|---|',
        '| bag | `%s` (%s) |' % (report['bag'], report['storage']),
        '| camera topic | `%s`, %d frames in the bag, every %d evaluated |'
        % (report['image_topic'], report['frames_in_bag'], report['every']),
        '| perception backend | %s |' % report.get('backend', '?'),
        '| truth | %s (time base: %s) |' % (report['truth'], report['time_base']),
        '| blocks / pegs | %s / %s |' % (report['num_blocks'], report['num_pegs']),
        '| goal | %s (%s) |' % (report['goal'], report['goal_source']), '',
        '## Perception', '',
        '| frames | compared | correct | wrong | missed (unknown) | no truth | skipped '
        '| state accuracy | accuracy when known |',
        '|---|---|---|---|---|---|---|---|---|',
        '| %d | %d | %d | %d | %d | %d | %d | %s | %s |'
        % (report['frames'], report['evaluated'], o['correct'], o['wrong'], o['missed'],
           o['no_truth'], o['skipped'], _pct(report['state_accuracy']),
           _pct(report['accuracy_when_known'])), '']
    if report['no_truth_reasons']:
        lines += ['Frames without a truth to compare with (not errors): %s.' % ', '.join(
            '%s %d' % kv for kv in sorted(report['no_truth_reasons'].items())), '']
    if report['skipped_reasons']:
        lines += ['Skipped frames: %s.' % ', '.join(
            '%s %d' % kv for kv in sorted(report['skipped_reasons'].items())), '']
    if report['malformed']:
        lines += ['Malformed messages (counted and skipped): %s.' % ', '.join(
            '%s %d (%s)' % (t, c, report['malformed_examples'].get(t, ''))
            for t, c in sorted(report['malformed'].items())), '']
    pc = report['plan_counts']
    lines += ['## Plans from the observed states', '',
              '%d distinct known states seen; %d planned: %d valid (%s), %d of %d checked '
              'optimal (%s).' % (report['states_seen'], pc['planned'], pc['valid'],
                                 _pct(report['plans_valid']), pc['optimal'],
                                 pc['optimal_checked'], _pct(report['plans_optimal'])), '',
              '| state | frames | status | moves | optimal moves (reference) | valid | optimal '
              '| planning s | planning J (estimated) |',
              '|---|---|---|---|---|---|---|---|---|']
    for p in report['plan_details']:
        lines.append('| %s | %d | %s | %s | %s (%s) | %s | %s | %.2f | %.2f |' % (
            ' '.join('%s:%s' % (k, ','.join(v) or '-') for k, v in p['state'].items()),
            p['frames'], p['status'], p['moves'], p['optimal_moves'], p['reference'] or '-',
            'yes' if p['valid'] else 'no: %s' % p['reason'],
            '-' if p['optimal'] is None else 'yes' if p['optimal'] else 'no', p['wall_s'],
            p['joules']))
    lines += ['', '## Energy', '',
              '- per frame: %s J mean (%s CPU s), **estimated**: %s.' % (
                  e['joules_mean'], e['cpu_s_mean'], e['method']),
              '- planning: %.2f J over all plans, **estimated** (CPU seconds of this process '
              'and the planner subprocesses x %.1f W per core).' % (report['plan_energy_j'],
                                                                    e['watts_per_core'])]
    rec = report.get('energy_recorded') or {}
    mon = rec.get('monitor')
    if mon:
        lines.append('- recorded by the power monitor (`energy` topic, as published): %s J '
                     'total, source %s%s; per node %s.' % (
                         _num(mon.get('joules')), mon.get('source'),
                         ', estimated' if mon.get('estimated') else '',
                         ', '.join('%s %s' % (k, _num(v))
                                   for k, v in sorted((mon.get('per_node') or {}).items()))))
        if 'live_perception_j_per_state' in rec:
            lines.append('- live perception node: %s J per published state (%d states).' % (
                rec['live_perception_j_per_state'], rec['live_perception_states']))
    for ep in rec.get('episodes', []):
        lines.append('- episode %s: %s J in %s s, success %s (source %s%s).' % (
            ep.get('episode_id'), _num(ep.get('joules')), _num(ep.get('duration_s')),
            ep.get('success'), ep.get('source'), ', estimated' if ep.get('estimated') else ''))
    if not mon and not rec.get('episodes'):
        lines.append('- no `energy` records in the bag.')
    return '\n'.join(lines) + '\n'


def _num(x: Any) -> str:
    return '%.1f' % x if isinstance(x, (int, float)) and not isinstance(x, bool) else str(x)


def plot(report: Dict[str, Any], path: str) -> str:
    """Draw per-frame outcomes, the running accuracy and the CPU time per frame into a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    recs = report['per_frame']
    colours = {'correct': 'tab:green', 'wrong': 'tab:red', 'missed': 'tab:orange',
               'no_truth': 'tab:gray', 'skipped': 'black'}
    fig, (ax0, ax1, ax2) = plt.subplots(3, 1, figsize=(8, 6), sharex=True,
                                        gridspec_kw={'height_ratios': [1.2, 2, 1]})
    ts = [r['t'] for r in recs]
    good = total = 0
    running: List[float] = []
    for r in recs:
        if r['outcome'] in ('correct', 'wrong', 'missed'):
            total += 1
            good += r['outcome'] == 'correct'
        running.append(100.0 * good / total if total else float('nan'))
    for row, (outcome, colour) in enumerate(colours.items()):
        pts = [t for t, r in zip(ts, recs) if r['outcome'] == outcome]
        ax0.scatter(pts, [row] * len(pts), s=14, color=colour, marker='|' if len(recs) > 200
                    else 'o')
    ax0.set_yticks(range(len(colours)))
    ax0.set_yticklabels(['%s (%d)' % (k, report['outcomes'][k]) for k in colours], fontsize=7)
    ax0.set_ylim(len(colours) - 0.5, -0.5)
    ax0.set_title('%s perception on %s: state accuracy %s' % (
        report.get('backend', '?'), '/'.join(report['bag'].rstrip('/').split('/')[-2:]),
        _pct(report['state_accuracy'])), fontsize=9)
    ax1.plot(ts, running, color='tab:blue')
    ax1.set_ylim(-5, 105)
    ax1.set_ylabel('running state\naccuracy %')
    ms = [(t, 1000.0 * r['cpu_s']) for t, r in zip(ts, recs) if 'cpu_s' in r]
    ax2.plot([t for t, _ in ms], [m for _, m in ms], '.', color='tab:purple', ms=3)
    ax2.set_ylabel('perception\nCPU ms / frame')
    ax2.set_xlabel('seconds since the first frame (%s time)' % report['time_base'])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(report: Dict[str, Any], out_dir: str) -> Dict[str, str]:
    """Write ``replay.md``, ``replay.json`` and ``replay.png`` into ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {'markdown': os.path.join(out_dir, 'replay.md'),
             'json': os.path.join(out_dir, 'replay.json'),
             'png': os.path.join(out_dir, 'replay.png')}
    with open(paths['markdown'], 'w') as f:
        f.write(to_markdown(report))
    with open(paths['json'], 'w') as f:
        json.dump(report, f, indent=1, default=str)
    plot(report, paths['png'])
    return paths
