# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla bench``: the benchmark table, blocks x perception x fault injection, beside the paper.

Every setting runs seeded closed-loop episodes in the embedded physics world, in this process
(:func:`nsvla_control.bench_cli.run_one`: THE executor class the executor node serves, with the
parameters of ``config/nsvla_params.yaml``; only the arm and camera I/O are in-process),
seeds ``--seed`` .. ``--seed + episodes - 1`` for every setting, so settings are compared
on the same worlds. The decision work of each episode (the perception calls and the planning
calls) is metered in the process: CPU seconds, planner subprocesses included, times
watts per busy core, labelled ``estimated``; where a hardware meter (RAPL, NVML) is available
its joules over the same calls are reported next to it, labelled ``measured``. The training
energy of the learned perception is read from the record next to the weights or from
``models/README.md``, with the label it carries there. The paper's published figures are set
beside ours and labelled "quoted, not measured". Writes ``bench.md``, ``bench.json`` and
``bench.png``; with ``--json`` the last line printed is one JSON object.
"""

import argparse
import datetime
import functools
import json
import os
import platform
import sys
import time
from typing import Any, Callable, Dict, List, Optional

from tqdm import tqdm

from nsvla_common.errors import ConfigError, NsvlaError
from nsvla_eval import bench_table

PERCEPTION = ('ground_truth', 'classic', 'learned')
WEIGHTS = 'perception_cnn.pt'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nsvla bench``."""
    parser.add_argument('--blocks', default='3,4,5', help='block counts, comma-separated')
    parser.add_argument('--perception', default='ground_truth,classic,learned',
                        help='perception backends, comma-separated (%s)' % ', '.join(PERCEPTION))
    parser.add_argument('--faults', default='0,0.2',
                        help='grasp slip probabilities, comma-separated (0: no fault injection)')
    parser.add_argument('--episodes', type=int, default=5, help='episodes per setting')
    parser.add_argument('--seed', type=int, default=0, help='seed of the first episode')
    parser.add_argument('--goal-peg', type=int, default=3, help='peg the tower must end on')
    parser.add_argument('--random-share', type=float, default=0.0,
                        help='fraction of each setting\'s episodes (every k-th seed) that start '
                             'from a random legal configuration and must reach a random legal '
                             'configuration instead of the tower (0.5: every other one)')
    parser.add_argument('--engine', default=None,
                        help='planning engine (default: the planner key of the params file)')
    parser.add_argument('--max-replans', type=int, default=None,
                        help='override the executor\'s max_replans (default: the params file)')
    parser.add_argument('--params-file', default=None,
                        help='stack params YAML (default config/nsvla_params.yaml)')
    parser.add_argument('--watts-per-core', type=float, default=None,
                        help='watts of one busy core for the estimate (default: '
                             'config/perception.yaml)')
    parser.add_argument('--out', default=None, help='report folder (default out/bench-<time>)')
    parser.add_argument('--json', action='store_true', help='last line printed is JSON')


def _list(text: str, kind: Callable[[str], Any], what: str) -> List[Any]:
    try:
        values = [kind(v.strip()) for v in str(text).split(',') if v.strip()]
    except ValueError:
        raise ConfigError('%s must be a comma-separated list, got %r' % (what, text)) from None
    if not values:
        raise ConfigError('%s is empty' % what)
    return values


# ----------------------------------------------------------------------------- decision meter
def _cpu_seconds() -> float:
    """CPU seconds of this process and its waited-for children (planner subprocesses)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class DecisionMeter:
    """
    Meter the decision work done in this process: perception and planning calls.

    While entered, ``Perceiver.perceive`` and ``Planner.plan`` are wrapped (and restored on
    exit) so that every call, wherever it is made, adds its CPU seconds to its role. ``meters``
    (an ``nsvla_energy.meters.MeterSet``) adds the joules of its non-estimated meters over the
    same calls.
    """

    def __init__(self, watts_per_core: float, meters: Any = None) -> None:
        self.watts_per_core = float(watts_per_core)
        self._hw = [m for m in (meters.meters if meters else []) if not m.estimated]
        self._depth = 0
        self._saved: List[Any] = []
        self.reset()

    def reset(self) -> None:
        """Start a new episode's account."""
        self.cpu = {'perception': 0.0, 'planning': 0.0}
        self.calls = {'perception': 0, 'planning': 0}
        self.measured_j: Optional[float] = 0.0 if self._hw else None

    def _joules(self) -> float:
        return sum(m.read().joules for m in self._hw)

    def _wrap(self, role: str, fn: Callable) -> Callable:
        meter = self

        @functools.wraps(fn)
        def metered(*args: Any, **kwargs: Any) -> Any:
            if meter._depth:      # a decision call inside another: counted by the outer one
                return fn(*args, **kwargs)
            meter._depth += 1
            j0 = meter._joules() if meter._hw else 0.0
            c0 = _cpu_seconds()
            try:
                return fn(*args, **kwargs)
            finally:
                meter.cpu[role] += _cpu_seconds() - c0
                meter.calls[role] += 1
                if meter.measured_j is not None:
                    meter.measured_j += meter._joules() - j0
                meter._depth -= 1
        return metered

    def __enter__(self) -> 'DecisionMeter':
        from nsvla_planner.planning import Planner
        targets = [(Planner, 'plan', 'planning')]
        try:
            from nsvla_perception.backend import Perceiver
            targets.append((Perceiver, 'perceive', 'perception'))
        except ImportError:     # perception not installed: ground truth only
            pass
        for cls, name, role in targets:
            original = cls.__dict__[name]
            self._saved.append((cls, name, original))
            setattr(cls, name, self._wrap(role, original))
        return self

    def __exit__(self, *exc: object) -> None:
        while self._saved:
            cls, name, original = self._saved.pop()
            setattr(cls, name, original)

    def account(self) -> Dict[str, Any]:
        """Return this episode's decision CPU seconds and joules."""
        cpu = self.cpu['perception'] + self.cpu['planning']
        return {'perception_cpu_s': round(self.cpu['perception'], 4),
                'planning_cpu_s': round(self.cpu['planning'], 4),
                'perception_calls': self.calls['perception'],
                'planning_calls': self.calls['planning'],
                'decision_cpu_s': round(cpu, 4),
                'decision_j': round(cpu * self.watts_per_core, 3),
                'measured_j': None if self.measured_j is None else round(self.measured_j, 3)}


# ----------------------------------------------------------------------------- training energy
def training_energy(models_dir: Optional[str] = None) -> Optional[Dict[str, Any]]:
    """
    Return the learned perception's training energy with its source and label.

    Looked for in order: a JSON next to the weights (``perception_cnn.json``, the same
    ``energy`` record the weights carry), then ``models/README.md``, then the weights' metadata.
    """
    from nsvla_common.paths import model_path
    weights = model_path(WEIGHTS) if models_dir is None else os.path.join(models_dir, WEIGHTS)
    folder = os.path.dirname(weights)
    side = os.path.splitext(weights)[0] + '.json'
    if os.path.exists(side):
        try:
            with open(side) as f:
                found = bench_table.training_from_meta(json.load(f), os.path.relpath(side))
            if found:
                return found
        except (OSError, ValueError):
            pass
    readme = os.path.join(folder, 'README.md')
    if os.path.exists(readme):
        with open(readme) as f:
            found = bench_table.training_from_readme(f.read(), os.path.relpath(readme))
        if found:
            return found
    if os.path.exists(weights):
        try:
            import torch
            data = torch.load(weights, map_location='cpu', weights_only=True)
            return bench_table.training_from_meta(data.get('meta', {}),
                                                  os.path.relpath(weights) + ' (meta)')
        except Exception:  # noqa: BLE001 - no torch, or a file of another format
            return None
    return None


# ----------------------------------------------------------------------------- running
def _check_backend(perception: str, blocks: int) -> None:
    """Fail before the first episode when a perception backend cannot be built."""
    if perception == 'ground_truth':
        return
    from nsvla_perception.backend import make_perceiver
    from nsvla_sim.scene import load_scene
    try:
        make_perceiver(perception, load_scene(), blocks)
    except NsvlaError as exc:
        raise ConfigError('perception %s cannot run: %s' % (perception, exc)) from None


def _warm_up(perceptions: List[str], engine: Optional[str]) -> None:
    """Pay one-time costs (imports, first planner and network calls) before metering."""
    import numpy as np

    from nsvla_planner.planning import Planner
    from nsvla_planner.state import Goal, SymbolicState
    Planner(engine or 'fast-downward', 60.0).plan(SymbolicState.tower(2), Goal.tower(2, 3))
    learned = [p for p in perceptions if p != 'ground_truth']
    if learned:
        from nsvla_perception.backend import make_perceiver
        from nsvla_sim.scene import load_scene
        spec = load_scene()
        for p in learned:
            perceiver = make_perceiver(p, spec, 3)
            width, height = perceiver.image_size
            perceiver.perceive(np.zeros((height, width, 3), np.uint8))


def random_episode(index: int, share: float) -> bool:
    """Whether episode ``index`` of a setting gets a random start and goal (``share`` of them)."""
    if share <= 0.0:
        return False
    return int((index + 1) * share) > int(index * share)


# what a bench's outcomes depend on beyond the code: the physics, the images, the plans
VERSIONED = ('mujoco', 'numpy', 'opencv-python-headless', 'scipy', 'pillow', 'torch',
             'unified-planning', 'up-fast-downward')


def package_versions() -> Dict[str, Optional[str]]:
    """
    Return the installed version of each package of ``VERSIONED`` (None when not installed).

    A slipped ring's path is chaotic: another MuJoCo or OpenCV build can turn a seed's episode
    the other way, so a bench's figures name the versions they were measured with.
    """
    from importlib import metadata
    out: Dict[str, Optional[str]] = {}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def progress_line(n: int, total: int, rec: Dict[str, Any], solved: int, run: int) -> str:
    """
    One line per episode for a log that is not a terminal (tqdm draws no bar there).

    ``n`` of ``total`` episodes are done; ``solved`` of the setting's ``run`` so far.
    """
    what = ('solved in %d moves (optimal %s)' % (rec.get('moves', 0), rec.get('optimal_moves'))
            if rec.get('solved') else 'FAILED: %s' % (rec.get('reason') or '?'))
    what += bench_table.world_text(rec)
    return ('[bench] %d/%d  %d blocks, %s, faults %.2f, seed %d: %s, %.0f s  (setting: %d/%d '
            'solved)' % (n, total, rec.get('blocks', 0), rec.get('perception', '?'),
                         rec.get('faults', 0.0), rec.get('seed', -1), what,
                         rec.get('wall_s') or 0.0, solved, run))


def run_episode_record(blocks: int, perception: str, faults: float, seed: int,
                       args: argparse.Namespace, meter: DecisionMeter) -> Dict[str, Any]:
    """Run one seeded episode under the decision meter and return its record."""
    from nsvla_control.bench_cli import run_one, summarise
    meter.reset()
    t0 = time.monotonic()
    mixed = random_episode(seed - args.seed, getattr(args, 'random_share', 0.0))
    try:
        res = run_one(blocks, seed, faults, perception, 'random' if mixed else 'tower',
                      args.goal_peg, args.engine, args.max_replans,
                      params_file=args.params_file, random_target=mixed)
    except NsvlaError as exc:
        rec = {'solved': False, 'reason': '%s: %s' % (exc.status, exc), 'moves': 0,
               'replans': 0, 'recoveries': 0, 'wall_s': time.monotonic() - t0,
               'plan_completion': 0.0, 'optimal_moves': None}
    else:
        rec = {'solved': res.solved, 'reason': res.reason, 'moves': res.moves,
               'replans': res.replans, 'recoveries': res.recoveries, 'wall_s': res.wall_s,
               'plan_completion': summarise([res], blocks, faults, perception)[
                   'plan_completion'], 'optimal_moves': res.optimal_moves}
        audit = getattr(res, 'perception_audit', None)
        if audit:
            rec.update(audit)
        if getattr(res, 'world_faults', None):
            rec['world_faults'] = list(res.world_faults)
    rec.update(blocks=blocks, perception=perception, faults=faults, seed=seed,
               start='random' if mixed else 'tower', goal='random' if mixed else 'tower')
    rec.update(meter.account())
    return rec


def run(args: argparse.Namespace) -> int:
    """Run every setting with a progress bar, write and print the table."""
    blocks = _list(args.blocks, int, '--blocks')
    perceptions = _list(args.perception, str, '--perception')
    faults = _list(args.faults, float, '--faults')
    bad = [p for p in perceptions if p not in PERCEPTION]
    if bad:
        raise ConfigError('unknown perception %s (choose from %s)' % (', '.join(bad),
                                                                      ', '.join(PERCEPTION)))
    if args.episodes < 1 or min(blocks) < 1 or not all(0.0 <= f <= 1.0 for f in faults):
        raise ConfigError('need --episodes >= 1, --blocks >= 1 and faults in [0, 1]')
    if not 0.0 <= args.random_share <= 1.0:
        raise ConfigError('--random-share must be in [0, 1], got %r' % args.random_share)
    from nsvla_energy.meters import open_meters
    from nsvla_perception.settings import load_settings
    watts = args.watts_per_core or load_settings().energy.watts_per_core
    for p in perceptions:
        _check_backend(p, max(blocks))
    _warm_up(perceptions, args.engine)
    meters = open_meters('auto', watts_per_core=watts)
    stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S')
    out_dir = os.path.abspath(args.out or os.path.join('out', 'bench-' + stamp))
    settings = [(n, p, f) for n in blocks for p in perceptions for f in faults]
    records: List[Dict[str, Any]] = []
    t0 = time.monotonic()
    log = sys.stderr if args.json else sys.stdout
    print('[bench] %d settings x %d episodes; energy meters: %s'
          % (len(settings), args.episodes, meters.describe()), file=log, flush=True)
    os.makedirs(out_dir, exist_ok=True)
    partial = os.path.join(out_dir, 'episodes.jsonl')
    total = len(settings) * args.episodes
    try:
        with DecisionMeter(watts, meters) as meter, \
                tqdm(total=total, desc='bench', unit='episode', disable=None,
                     file=log) as bar, open(partial, 'w') as jsonl:
            for n, p, f in settings:
                done = 0
                for i in range(args.episodes):
                    bar.set_postfix_str('%d blocks, %s, faults %.2f, solved %d/%d'
                                        % (n, p, f, done, i))
                    rec = run_episode_record(n, p, f, args.seed + i, args, meter)
                    done += bool(rec['solved'])
                    records.append(rec)
                    jsonl.write(json.dumps(rec, default=str) + '\n')
                    jsonl.flush()
                    bar.update(1)
                    if bar.disable:
                        print(progress_line(len(records), total, rec, done, i + 1),
                              file=log, flush=True)
    finally:
        meters.close()
    hw = [m.source for m in meters.meters if not m.estimated]
    rows = bench_table.aggregate(records)
    from nsvla_common.params import load_yaml
    from nsvla_common.paths import params_path
    from nsvla_control.executor import load_parameters
    overrides = {} if args.max_replans is None else {'max_replans': args.max_replans}
    meta = {
        'machine': '%s, %d CPUs' % (platform.platform(), os.cpu_count() or 0),
        'python': sys.version.split()[0], 'packages': package_versions(),
        'episodes': args.episodes, 'seed': args.seed,
        'engine': args.engine or load_yaml(params_path(args.params_file), 'planner').get(
            'engine', 'fast-downward'), 'goal_peg': args.goal_peg, 'max_replans': args.max_replans,
        'params_file': params_path(args.params_file),
        'executor_params': load_parameters(args.params_file, overrides),
        'code_path': 'nsvla_control.executor.Executor (the executor node\'s class), in-process '
                     'arm and camera I/O',
        'total_wall_s': round(time.monotonic() - t0, 1),
        'energy': {'estimated': not hw, 'source': '+'.join(hw) if hw else 'estimate',
                   'watts_per_core': watts, 'meters': meters.describe(),
                   'method': ('CPU seconds of the perception and planning calls in this process '
                              '(os.times, planner subprocesses included) x %.1f W per busy core'
                              % watts) + ('' if not hw else '; %s joules over the same calls in '
                                          'measured_j_per_episode (machine-wide)'
                                          % '+'.join(hw))},
        'training': training_energy(),
        'created': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'random_share': args.random_share,
        'command': 'nsvla bench --blocks %s --perception %s --faults %s --episodes %d --seed %d'
                   ' --random-share %g' % (args.blocks, args.perception, args.faults,
                                           args.episodes, args.seed, args.random_share),
    }
    paths = bench_table.write_report(out_dir, rows, meta, records)
    comp = bench_table.comparison(rows, meta['training'])
    print(bench_table.rows_markdown(rows), file=log)
    print('', file=log)
    print(bench_table.comparison_markdown(comp), file=log)
    print('[bench] %d episodes in %.0f s; report %s'
          % (len(records), meta['total_wall_s'], paths['markdown']), file=log, flush=True)
    if args.json:
        keep = ('blocks', 'perception', 'faults', 'episodes', 'success_rate', 'plan_completion',
                'mean_moves', 'optimal_moves', 'replans', 'mean_wall_s',
                'decision_j_per_episode', 'decision_j_per_solved')
        print(json.dumps({'rows': [{k: r[k] for k in keep} for r in rows],
                          'energy_source': meta['energy']['source'],
                          'energy_estimated': meta['energy']['estimated'],
                          'training': meta['training'], 'paper': bench_table.QUOTED,
                          'report': paths}, default=str))
    return 0
