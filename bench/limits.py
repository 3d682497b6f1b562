# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The arm's motion against the Panda's limits, per move, from a recorded episode.

Reads a rosbag2 of one episode (``nsvla demo`` records one; ``nsvla record`` on a real rig
does too) and, for each move (``execution_status`` ``step_start`` .. ``step_end``), reports:

- **commanded**: every ``arm_controller/joint_trajectory`` the executor sent in that move, the
  largest |velocity| and |acceleration| any joint needs along it, as a fraction of the Panda's
  limits (``nsvla_common.robot.ARM_MOTION_LIMITS``, the Franka datasheet values), from the
  points' velocities and the differences between points (the cubic between two points
  reaches at most 1.5 x that mean acceleration; the column says which);
- **executed**: what the arm did, from ``joint_states`` (their velocities where the robot
  sends them, else differences of positions), acceleration from velocity differences over
  ``--window`` seconds (a contact's spike in one 20 ms sample is not the arm's acceleration).

The limit fractions are against the full limits; the executor plans to ``velocity_scaling``
and ``acceleration_scaling`` of them (0.4 and 0.3 in ``config/nsvla_params.yaml``). Writes
``limits.md``, ``limits.json`` and ``limits.png`` (per move, per joint: max |v| and |a| over
the limit) to ``--out``.

    .venv/bin/nsvla demo --out out/demo3           # records out/demo3/bag
    .venv/bin/python bench/limits.py out/demo3/bag [--out bench/results/limits]
"""

import argparse
import json
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from nsvla_common.robot import ARM_JOINTS, ARM_MOTION_LIMITS  # noqa: E402
from nsvla_common.topics import ARM_COMMAND  # noqa: E402
from nsvla_eval.replay_bag import _messages, bag_typestore, open_reader, topic_matches  # noqa: E402,E501

V_LIM = np.array([ARM_MOTION_LIMITS[j][0] for j in ARM_JOINTS])
A_LIM = np.array([ARM_MOTION_LIMITS[j][1] for j in ARM_JOINTS])


def _stamp(msg: Any, t_ns: int) -> float:
    s = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
    return s if s > 0 else t_ns * 1e-9


def read_bag(path: str) -> Dict[str, Any]:
    """Return the episode's events, arm commands and joint samples (recording time, s)."""
    reader = open_reader(path)
    try:
        want = ('execution_status', 'joint_states', ARM_COMMAND)
        conns = [c for c in reader.connections if any(topic_matches(c.topic, w) for w in want)]
        store, problems = bag_typestore(conns)
        events: List[Tuple[float, str, int, str]] = []
        commands: List[Tuple[float, List[str], List[Tuple[float, List[float], List[float]]]]] = []
        joints: List[Tuple[float, float, np.ndarray, Optional[np.ndarray]]] = []
        for conn, t_ns, raw in _messages(reader, conns):
            if conn.msgtype in problems:
                continue
            msg = store.deserialize_cdr(raw, conn.msgtype)
            t = t_ns * 1e-9
            if topic_matches(conn.topic, 'execution_status'):
                step = msg.action
                action = '%s %s' % (step.action, ' '.join(step.args)) if step.action else ''
                events.append((t, str(msg.event), int(msg.step), action))
            elif topic_matches(conn.topic, ARM_COMMAND):
                pts = [(p.time_from_start.sec + p.time_from_start.nanosec * 1e-9,
                        list(p.positions), list(p.velocities)) for p in msg.points]
                commands.append((t, list(msg.joint_names), pts))
            elif topic_matches(conn.topic, 'joint_states'):
                names = list(msg.name)
                if not all(j in names for j in ARM_JOINTS):
                    continue
                idx = [names.index(j) for j in ARM_JOINTS]
                pos = np.array([msg.position[i] for i in idx], float)
                vel = (np.array([msg.velocity[i] for i in idx], float)
                       if len(msg.velocity) == len(names) else None)
                joints.append((t, _stamp(msg, t_ns), pos, vel))
    finally:
        reader.close()
    return {'events': events, 'commands': commands, 'joints': joints}


def command_demand(names: Sequence[str], points: Sequence[Tuple[float, list, list]]
                   ) -> Tuple[np.ndarray, np.ndarray]:
    """Return per joint: max |v| / v_lim and max mean |a| / a_lim between points."""
    v_frac, a_frac = np.zeros(len(ARM_JOINTS)), np.zeros(len(ARM_JOINTS))
    if not points or any(j not in names for j in ARM_JOINTS):
        return v_frac, a_frac
    idx = [list(names).index(j) for j in ARM_JOINTS]
    t = np.array([p[0] for p in points])
    q = np.array([[p[1][i] for i in idx] for p in points])
    if all(len(p[2]) == len(names) for p in points):
        v = np.array([[p[2][i] for i in idx] for p in points])
    else:                                 # positions only: the mean speed between points
        v = np.vstack([np.zeros(len(idx)), np.diff(q, axis=0) / np.diff(t)[:, None]])
    v_frac = np.max(np.abs(v), axis=0) / V_LIM
    if len(t) > 1:
        dt = np.diff(t)
        ok = dt > 1e-6
        if ok.any():
            a = np.abs(np.diff(v, axis=0)[ok] / dt[ok][:, None])
            a_frac = np.max(a, axis=0) / A_LIM
    return v_frac, a_frac


def executed_demand(samples: Sequence[Tuple[float, float, np.ndarray, Optional[np.ndarray]]],
                    window: float) -> Tuple[np.ndarray, np.ndarray]:
    """Return per joint: max |v| / v_lim and max |a| / a_lim of the joint samples."""
    n = len(ARM_JOINTS)
    if len(samples) < 3:
        return np.zeros(n), np.zeros(n)
    t = np.array([s[1] for s in samples])          # the robot's stamps
    q = np.array([s[2] for s in samples])
    if all(s[3] is not None for s in samples):
        v = np.array([s[3] for s in samples])
    else:
        v = np.gradient(q, t, axis=0)
    a_max = np.zeros(n)
    j = 0
    for i in range(len(t)):                       # velocity change over >= window seconds
        while j < len(t) and (j <= i or t[j] - t[i] < max(window, 1e-6)):
            j += 1
        if j >= len(t):
            break
        a_max = np.maximum(a_max, np.abs(v[j] - v[i]) / (t[j] - t[i]))
    return np.max(np.abs(v), axis=0) / V_LIM, a_max / A_LIM


def per_move(data: Dict[str, Any], window: float) -> List[Dict[str, Any]]:
    """Split commands and samples by move; return one row per move."""
    moves: List[Dict[str, Any]] = []
    open_: Dict[int, Tuple[float, str]] = {}
    for t, event, step, action in data['events']:
        if event == 'step_start':
            open_[step] = (t, action)
        elif event == 'step_end' and step in open_:
            t0, action = open_.pop(step)
            moves.append({'step': step, 'action': action, 't0': t0, 't1': t})
    rows = []
    for m in moves:
        cmds = [c for c in data['commands'] if m['t0'] <= c[0] <= m['t1']]
        cv, ca = np.zeros(len(ARM_JOINTS)), np.zeros(len(ARM_JOINTS))
        for _t, names, pts in cmds:
            v, a = command_demand(names, pts)
            cv, ca = np.maximum(cv, v), np.maximum(ca, a)
        samples = [s for s in data['joints'] if m['t0'] <= s[0] <= m['t1']]
        ev, ea = executed_demand(samples, window)
        rows.append({'step': m['step'], 'action': m['action'], 'seconds': m['t1'] - m['t0'],
                     'commands': len(cmds), 'samples': len(samples),
                     'commanded_v': cv.tolist(), 'commanded_a': ca.tolist(),
                     'executed_v': ev.tolist(), 'executed_a': ea.tolist()})
    return rows


def _worst(values: Sequence[float]) -> str:
    i = int(np.argmax(values))
    return '%.2f (j%d)' % (values[i], i + 1)


def table(rows: List[Dict[str, Any]]) -> List[str]:
    """Return the per-move Markdown table."""
    out = ['| move | action | s | commands | max v / v_lim, commanded | max a / a_lim, '
           'commanded (mean between points) | max v / v_lim, executed | max a / a_lim, '
           'executed |', '|---|---|---|---|---|---|---|---|']
    for r in rows:
        out.append('| %d | %s | %.1f | %d | %s | %s | %s | %s |' % (
            r['step'] + 1, r['action'] or '-', r['seconds'], r['commands'],
            _worst(r['commanded_v']), _worst(r['commanded_a']),
            _worst(r['executed_v']), _worst(r['executed_a'])))
    if rows:
        out.append('| all | | %.1f | %d | %s | %s | %s | %s |' % (
            sum(r['seconds'] for r in rows), sum(r['commands'] for r in rows),
            *(_worst(np.max([r[k] for r in rows], axis=0)) for k in (
                'commanded_v', 'commanded_a', 'executed_v', 'executed_a'))))
    return out


def plot(rows: List[Dict[str, Any]], path: str) -> None:
    """Write a PNG: per move, the largest fraction of each limit, commanded and executed."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    x = np.arange(1, len(rows) + 1)
    for ax, kind, label in ((axes[0], 'v', 'velocity'), (axes[1], 'a', 'acceleration')):
        ax.plot(x, [max(r['commanded_' + kind]) for r in rows], 'o-', label='commanded')
        ax.plot(x, [max(r['executed_' + kind]) for r in rows], 's-', label='executed')
        ax.axhline(1.0, color='r', lw=1, label='Panda limit')
        ax.set_ylabel('max %s / limit' % label)
        ax.set_ylim(0, max(1.1, ax.get_ylim()[1]))
        ax.grid(alpha=0.3)
        ax.legend(loc='upper right', fontsize=8)
    axes[1].set_xlabel('move')
    fig.suptitle('arm motion against the Panda limits, per move')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('bag', help='rosbag2 folder (or .mcap / .db3) of one episode')
    ap.add_argument('--out', default=os.path.join(REPO, 'bench', 'results', 'limits'))
    ap.add_argument('--window', type=float, default=0.1,
                    help='seconds over which executed acceleration is measured (default 0.1)')
    args = ap.parse_args(argv)
    data = read_bag(args.bag)
    rows = per_move(data, args.window)
    if not rows:
        print('no moves in %s (no execution_status step_start / step_end)' % args.bag)
        return 1
    os.makedirs(args.out, exist_ok=True)
    lines = ['%s: %d moves, %d arm commands, %d joint samples; fractions of the Panda\'s '
             'full limits (the executor plans to 0.4 of velocity, 0.3 of acceleration)'
             % (args.bag, len(rows), len(data['commands']), len(data['joints'])), ''] + table(rows)
    with open(os.path.join(args.out, 'limits.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    with open(os.path.join(args.out, 'limits.json'), 'w') as f:
        json.dump({'bag': args.bag, 'joints': list(ARM_JOINTS), 'v_lim': V_LIM.tolist(),
                   'a_lim': A_LIM.tolist(), 'window_s': args.window, 'moves': rows}, f,
                  indent=1)
    plot(rows, os.path.join(args.out, 'limits.png'))
    print('\n'.join(lines))
    print('wrote %s/limits.{md,json,png}' % args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
