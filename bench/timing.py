# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Timing benchmark: the trapezoid against toppra on the arm segments of seeded episodes.

Each episode is a seeded random start of ``--blocks`` blocks solved to the tower on peg 3 by
the shortest plan; every move's waypoints come from the executor's skills and every segment's
joint path from the builtin backend's IK (``BuiltinMotion.joint_path``), without physics. The
same path is then timed by each method under the shipped scaling (the ``executor`` key of the
params file). Per segment: duration, max |v| / v_lim and max |a| / a_lim (the sim's lower
bounds, ``nsvla_sim.trajectory.motion_limit_usage``, against the scaled limits), the demand
before the stretch of ``within_limits``, whether the sim's check (full Panda limits) accepts
it, and the CPU time of the timing. Writes timing.md, timing.json and timing.png to --out.

    .venv/bin/python bench/timing.py [--episodes 20] [--blocks 3] [--out bench/results/timing]
"""

import argparse
import json
import os
import platform
import random
import sys
import time
from typing import Any, Dict, List

import numpy as np
from tqdm import tqdm

from nsvla_common.rig import load_scene
from nsvla_common.robot import ARM_JOINTS
from nsvla_control.executor import load_parameters
from nsvla_control.motion import BuiltinMotion, PANDA_AMAX, PANDA_VMAX
from nsvla_control.skills import move_of, Skills, steps_to_moves
from nsvla_control.timing import (limit_demand, time_parameterise, TIME_PARAMETERIZATIONS,
                                  within_limits)
from nsvla_planner.domain import apply, bfs_plan
from nsvla_planner.state import Goal, SymbolicState
from nsvla_sim.trajectory import (check_motion_limits, ControllerSpec, motion_limit_usage,
                                  MotionLimitError, Trajectory, TrajectoryPoint)

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results', 'timing')


def raw_timing(method: str, path: np.ndarray, vmax: np.ndarray, amax: np.ndarray) -> Any:
    """Time ``path`` with ``method`` before the stretch of ``within_limits``."""
    if method == 'trapezoid':
        return time_parameterise(path, vmax, amax)
    from nsvla_control.timing_toppra import time_parameterise_toppra
    return time_parameterise_toppra(path, vmax, amax)


def trajectory(timed: Any) -> Trajectory:
    """Build the sim's validated trajectory of a timed path (cubic: with velocities)."""
    return Trajectory('arm_controller', tuple(
        TrajectoryPoint(float(t), tuple(map(float, q)), tuple(map(float, v)))
        for t, q, v in zip(timed.times, timed.positions, timed.velocities)))


def episode_paths(motion: BuiltinMotion, skills: Skills, blocks: int, seed: int
                  ) -> List[Dict[str, Any]]:
    """Return the joint path of every arm segment of one seeded episode (no physics)."""
    state = SymbolicState.random(blocks, rng=random.Random(seed))
    plan = bfs_plan(state, Goal.tower(blocks, 3)) or []
    q = np.asarray(motion.q_rest, float)
    out = []
    for k, (step, (block, _src, onto)) in enumerate(zip(plan, steps_to_moves(plan))):
        for wp in skills.move_waypoints(move_of(state, block, onto), blocks):
            path = motion.joint_path(q, wp)
            if np.max(np.abs(path[-1] - path[0])) > 1e-6:
                label = 'above block' if wp.label.startswith('above b') else wp.label
                out.append({'seed': seed, 'move': k, 'label': label, 'path': path})
            q = path[-1]
        state = apply(state, step)
    return out


def measure(method: str, path: np.ndarray, vmax: np.ndarray, amax: np.ndarray,
            scaled: ControllerSpec, full: ControllerSpec) -> Dict[str, Any]:
    """Time one path with ``method``; return its figures."""
    t0 = time.process_time()
    raw = raw_timing(method, path, vmax, amax)
    timed = within_limits(raw, vmax, amax)
    cpu = time.process_time() - t0
    traj = trajectory(timed)
    usage = motion_limit_usage(scaled, traj, timed.positions[0])
    try:
        check_motion_limits(full, traj, timed.positions[0])
        sim_ok = True
    except MotionLimitError:
        sim_ok = False
    return {'duration': timed.duration, 'raw_demand': limit_demand(raw, vmax, amax),
            'stretched': timed is not raw, 'v_ratio': usage['velocity'],
            'a_ratio': usage['acceleration'], 'sim_ok': sim_ok, 'cpu_s': cpu,
            'samples': len(timed.times)}


def summary(rows: List[Dict[str, Any]], method: str) -> Dict[str, Any]:
    """Aggregate one method's figures over every segment."""
    m = [r[method] for r in rows]
    return {'segments': len(m), 'total_s': sum(x['duration'] for x in m),
            'max_raw_demand': max(x['raw_demand'] for x in m),
            'stretched': sum(x['stretched'] for x in m),
            'max_v_ratio': max(x['v_ratio'] for x in m),
            'max_a_ratio': max(x['a_ratio'] for x in m),
            'sim_refused': sum(not x['sim_ok'] for x in m),
            'cpu_ms_mean': 1e3 * float(np.mean([x['cpu_s'] for x in m])),
            'cpu_ms_max': 1e3 * max(x['cpu_s'] for x in m)}


def main(argv: Any = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--episodes', type=int, default=20)
    ap.add_argument('--blocks', type=int, default=3)
    ap.add_argument('--seed', type=int, default=0, help='first seed')
    ap.add_argument('--params-file', default=None)
    ap.add_argument('--out', default=RESULTS)
    args = ap.parse_args(argv)
    params = load_parameters(args.params_file)
    scene = load_scene(params['scene_config'])
    motion = BuiltinMotion.for_scene(scene, velocity_scaling=params['velocity_scaling'],
                                     acceleration_scaling=params['acceleration_scaling'])
    skills = Skills(scene)
    vmax, amax = motion.vmax, motion.amax
    inf = (-1e9,) * len(ARM_JOINTS), (1e9,) * len(ARM_JOINTS)
    scaled = ControllerSpec('arm_controller', ARM_JOINTS, *inf, max_velocity=tuple(vmax),
                            max_acceleration=tuple(amax))
    full = ControllerSpec('arm_controller', ARM_JOINTS, *inf, max_velocity=PANDA_VMAX,
                          max_acceleration=PANDA_AMAX)
    methods = list(TIME_PARAMETERIZATIONS)
    import nsvla_control.timing_toppra  # noqa: F401  (the import is not planning time)
    rows: List[Dict[str, Any]] = []
    seeds = range(args.seed, args.seed + args.episodes)
    with tqdm(total=args.episodes, desc='timing bench', unit='episode') as bar:
        for seed in seeds:
            for seg in episode_paths(motion, skills, args.blocks, seed):
                path = seg.pop('path')
                seg['path_samples'] = len(path)
                for method in methods:
                    seg[method] = measure(method, path, vmax, amax, scaled, full)
                rows.append(seg)
            bar.set_postfix_str('%d segments' % len(rows))
            bar.update(1)
    sums = {m: summary(rows, m) for m in methods}
    ratio = sums['toppra']['total_s'] / sums['trapezoid']['total_s']
    per_seg = np.array([r['toppra']['duration'] / r['trapezoid']['duration'] for r in rows])
    labels = sorted({r['label'] for r in rows})
    by_label = {lab: float(sum(r['toppra']['duration'] for r in rows if r['label'] == lab)
                           / sum(r['trapezoid']['duration'] for r in rows
                                 if r['label'] == lab)) for lab in labels}
    os.makedirs(args.out, exist_ok=True)
    meta = {'machine': platform.platform(), 'cpus': os.cpu_count(),
            'python': sys.version.split()[0], 'episodes': args.episodes,
            'blocks': args.blocks, 'first_seed': args.seed,
            'velocity_scaling': params['velocity_scaling'],
            'acceleration_scaling': params['acceleration_scaling']}
    with open(os.path.join(args.out, 'timing.json'), 'w') as f:
        json.dump({'meta': meta, 'summary': sums, 'toppra_over_trapezoid_total': ratio,
                   'by_label': by_label, 'rows': rows}, f, indent=1)
    head = ('%d episodes of %d blocks, %d arm segments; limits: velocity x %.2f, acceleration '
            'x %.2f of the Panda\'s')
    head %= (args.episodes, args.blocks, len(rows), params['velocity_scaling'],
             params['acceleration_scaling'])
    lines = [head, '',
             '| method | total s | max demand before stretch | segments stretched | '
             'max v/v_lim | max a/a_lim | refused by the sim | CPU ms/segment (mean, max) |',
             '|---|---|---|---|---|---|---|---|']
    for m in methods:
        s = sums[m]
        lines.append('| %s | %.1f | %.2f | %d | %.3f | %.3f | %d | %.1f, %.1f |'
                     % (m, s['total_s'], s['max_raw_demand'], s['stretched'],
                        s['max_v_ratio'], s['max_a_ratio'], s['sim_refused'],
                        s['cpu_ms_mean'], s['cpu_ms_max']))
    lines += ['', 'toppra / trapezoid total duration: **%.3f**; per segment: median %.3f, '
              'min %.3f, max %.3f' % (ratio, float(np.median(per_seg)), float(per_seg.min()),
                                      float(per_seg.max())), '',
              '| segment | toppra / trapezoid duration |', '|---|---|']
    lines += ['| %s | %.3f |' % (lab, by_label[lab]) for lab in labels]
    table = '\n'.join(lines)
    with open(os.path.join(args.out, 'timing.md'), 'w') as f:
        f.write(table + '\n')
    print(table)
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
        trap = [r['trapezoid']['duration'] for r in rows]
        top = [r['toppra']['duration'] for r in rows]
        ax1.scatter(trap, top, s=8, alpha=0.6)
        lim = max(trap + top) * 1.05
        ax1.plot([0, lim], [0, lim], 'k--', lw=0.8, label='equal')
        ax1.set_xlabel('trapezoid duration (s)')
        ax1.set_ylabel('toppra duration (s)')
        ax1.set_title('per arm segment')
        ax1.legend(fontsize=8)
        ax1.grid(True, alpha=0.3)
        ax2.hist(per_seg, bins=30)
        ax2.set_xlabel('toppra / trapezoid duration')
        ax2.set_ylabel('segments')
        ax2.set_title('total: %.3f' % ratio)
        ax2.grid(True, alpha=0.3)
        fig.tight_layout()
        fig.savefig(os.path.join(args.out, 'timing.png'), dpi=100)
    except ImportError:
        pass
    print('saved %s/timing.{md,json,png}' % args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
