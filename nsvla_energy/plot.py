# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
PNG of power over one episode with its steps marked, from the power monitor's CSV log.

Uses matplotlib's object API with the Agg canvas (no pyplot, no global backend change), so it
can run inside any process.
"""

from typing import Any, Dict, List, Optional, Tuple

from nsvla_common.errors import ValidationError
from nsvla_energy.attribution import ROLES
from nsvla_energy.csvlog import read_rows

_COLOURS = {'perception': '#1f77b4', 'planning': '#2ca02c', 'control': '#ff7f0e',
            'simulation': '#9467bd', 'monitor': '#8c564b', 'other': '#7f7f7f'}


def _runs(rows: List[Dict[str, Any]]) -> List[List[Dict[str, Any]]]:
    """Split the rows of an appended log into monitor runs (``t`` goes back at a new run)."""
    runs: List[List[Dict[str, Any]]] = []
    last = None
    for row in rows:
        t = float(row.get('t') or 0.0)
        if last is None or t < last:
            runs.append([])
        runs[-1].append(row)
        last = t
    return runs


def episode_window(rows: List[Dict[str, Any]],
                   episode_id: Optional[str] = None) -> Tuple[List[Dict[str, Any]], str, bool]:
    """
    Return (rows of the episode, its id, finished) - the last matching episode in the log.

    A finished episode is preferred; an episode still open at the end of its run is returned
    with ``finished`` False. Raise ValidationError when the log has no such episode.
    """
    best = None
    for run in _runs(rows):
        starts: Dict[str, int] = {}
        for i, row in enumerate(run):
            ev, ep = row.get('event'), str(row.get('episode_id') or '')
            if episode_id is not None and ep != str(episode_id):
                continue
            if ev == 'episode_start':
                starts[ep] = i
            elif ev == 'episode_end' and ep in starts:
                best = (run[starts.pop(ep):i + 1], ep, True)
        if starts and (best is None or not best[2]):
            ep, i = max(starts.items(), key=lambda kv: kv[1])
            best = (run[i:], ep, False)
    if best is None:
        raise ValidationError('no episode %sin the CSV log' % (
            '%r ' % episode_id if episode_id is not None else ''))
    return best


def plot_episode(csv_path: str, out_png: str, episode_id: Optional[str] = None,
                 dpi: int = 100) -> Dict[str, Any]:
    """Draw power over an episode (total and per node) with steps shaded; return a summary."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows, ep, finished = episode_window(read_rows(csv_path), episode_id)
    t0 = float(rows[0]['t'])
    ticks = [r for r in rows if not r.get('event')]
    events = [r for r in rows if r.get('event') and str(r.get('episode_id') or '') == ep]
    joules = float(rows[-1]['joules']) - float(rows[0]['joules'])
    duration = float(rows[-1]['t']) - t0
    source = str(rows[-1].get('source') or '')
    estimated = bool(rows[-1].get('estimated'))

    fig = Figure(figsize=(10, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    xs = [float(r['t']) - t0 for r in ticks]
    # each row's power is the average over the interval that ends at its time: steps-pre
    ax.plot(xs, [float(r['watts']) for r in ticks], color='black', lw=1.6, label='total',
            drawstyle='steps-pre')
    for role in ROLES:
        key = 'joules_%s' % role
        if key not in rows[0]:
            continue
        px, py = [], []
        for a, b in zip(ticks, ticks[1:]):
            dt = float(b['t']) - float(a['t'])
            if dt > 0:
                px.append(float(b['t']) - t0)
                py.append((float(b[key] or 0.0) - float(a[key] or 0.0)) / dt)
        if any(abs(v) > 1e-9 for v in py):
            ax.plot(px, py, lw=1.0, color=_COLOURS.get(role), label=role, drawstyle='steps-pre')
    open_steps: Dict[Any, float] = {}
    n_steps = 0
    label_y = ax.get_xaxis_transform()     # x in data, y in axes fraction
    for row in events:
        x = float(row['t']) - t0
        ev = row['event']
        if ev == 'step_start':
            open_steps[row.get('step')] = x
            ax.axvline(x, color='#555555', lw=0.6, ls=':')
        elif ev == 'step_end':
            start = open_steps.pop(row.get('step'), None)
            if start is None:
                continue
            ax.axvspan(start, x, color='#4c72b0' if n_steps % 2 == 0 else '#dd8452',
                       alpha=0.12, lw=0)
            label = 'step %s' % row['step'] if row.get('step') is not None else 'step'
            ax.text((start + x) / 2, 0.98, label, transform=label_y, ha='center', va='top',
                    fontsize=8)
            n_steps += 1
        elif ev == 'replan':
            ax.axvline(x, color='red', lw=1.0, ls='--')
        elif ev in ('episode_start', 'episode_end'):
            ax.axvline(x, color='black', lw=1.0)
    ax.set_xlabel('time since episode start (s)')
    ax.set_ylabel('power (W)%s' % (', estimated' if estimated else ''))
    ax.set_title('episode %s: %.2f J in %.2f s, %d steps, %s%s%s' % (
        ep, joules, duration, n_steps, source, ' (estimated)' if estimated else '',
        '' if finished else ' - not finished'), fontsize=10)
    ax.set_xlim(left=0.0, right=max(duration, 1e-3))
    ax.set_ylim(bottom=0.0)
    ax.legend(loc='upper right', fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_png, dpi=dpi)
    return {'episode_id': ep, 'png': out_png, 'joules': joules, 'duration_s': duration,
            'steps': n_steps, 'finished': finished, 'source': source, 'estimated': estimated}
