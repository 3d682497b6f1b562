# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla bench-episodes``: seeded closed-loop episodes in the embedded world, with statistics.

Runs THE executor (:class:`nsvla_control.executor.Executor`, the class the executor node
serves ``execute_task`` with) with the parameters of ``config/nsvla_params.yaml`` (the
``executor``, ``planner``, ``perception`` and ``sim`` keys), in one process (no DDS) so that many
episodes fit in minutes; only the arm and camera I/O are the world's instead of topics.
Prints one JSON object with ``--json``:
``{"blocks", "episodes", "success_rate", "plan_completion", "mean_moves", "replans",
"mean_wall_s", ...}``.
"""

import argparse
import json
import random
import statistics
import time
from typing import Any, Callable, Dict, List, Optional

from tqdm import tqdm

from nsvla_common.errors import ValidationError
from nsvla_control.episode import EpisodeResult

PERCEPTION = ('ground_truth', 'classic', 'learned')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nsvla bench-episodes``."""
    parser.add_argument('--blocks', type=int, default=3, help='blocks per episode')
    parser.add_argument('--episodes', type=int, default=5, help='number of seeded episodes')
    parser.add_argument('--faults', type=float, default=0.0,
                        help='probability that a grasp slips mid-transport (0..1)')
    parser.add_argument('--perception', choices=PERCEPTION, default='ground_truth',
                        help='how the executor sees the blocks')
    parser.add_argument('--seed', type=int, default=0, help='seed of the first episode')
    parser.add_argument('--start', default='tower', help='start: tower, random')
    parser.add_argument('--goal-peg', type=int, default=3, help='peg the tower must end on')
    parser.add_argument('--engine', default=None,
                        help='planning engine (default: the planner key of the params file)')
    parser.add_argument('--max-replans', type=int, default=None,
                        help='replans per episode (default: the executor key of the params '
                        'file); a value here is an override, reported as such')
    parser.add_argument('--params-file', default=None,
                        help='stack params YAML (default config/nsvla_params.yaml)')
    parser.add_argument('--json', action='store_true', help='print one JSON object')
    parser.add_argument('--out', default=None, help='also write per-episode records (JSON)')


def random_goal(start: Any, seed: int) -> Any:
    """
    Draw a seeded random legal configuration other than ``start``, as a Goal of on-facts.

    Every block's support is named (the block below, or the peg), so the goal is the whole
    configuration.
    """
    from nsvla_planner.state import Goal, SymbolicState
    rng = random.Random('goal-%d' % seed)
    while True:
        target = SymbolicState.random(start.num_blocks, start.num_pegs, rng=rng)
        if target.assignment() != start.assignment():
            break
    facts = [('on', (b, target.support[b])) for b in target.blocks()]
    return Goal(facts, num_blocks=start.num_blocks, num_pegs=start.num_pegs,
                text='configuration %s' % target.stacks())


def run_one(blocks: int, seed: int, faults: float, perception: str, start: str,
            goal_peg: int, engine: Optional[str] = None, max_replans: Optional[int] = None,
            status: Optional[Callable[[Dict[str, Any]], None]] = None,
            params_file: Optional[str] = None, random_target: bool = False) -> EpisodeResult:
    """
    Build the world the sim node would build for ``seed`` and run one episode in it.

    The goal is the tower on ``goal_peg``, or with ``random_target`` a seeded random legal
    configuration (:func:`random_goal`). ``result.optimal_moves`` is the fewest moves from the
    world's start to the goal (breadth-first, ``nsvla_planner.domain.bfs_plan``), not the first
    plan's length; ``result.perception_audit`` the camera frames judged against the world's
    truth (``nsvla_control.sim_robot.FrameAudit``; None with ground-truth perception);
    ``result.world_faults`` what happened in the world that no plan can undo (a block that fell
    off the table), as sentences.
    """
    from nsvla_control.sim_robot import make_sim_executor, sim_parameters
    from nsvla_planner.domain import bfs_plan
    from nsvla_planner.planning import Planner
    from nsvla_planner.state import Goal
    from nsvla_sim.world import HanoiWorld
    from nsvla_sim.scene import start_spec_from_text
    sim = sim_parameters(params_file)['sim']
    world = HanoiWorld(sim.get('scene', 'scene_default.yaml'), num_blocks=blocks, seed=seed,
                       start=start_spec_from_text(start), randomise=perception != 'ground_truth',
                       weld_assist=bool(sim.get('weld_assist', False)),
                       drop_probability=faults)
    try:
        overrides = {} if max_replans is None else {'max_replans': max_replans}
        planner = None
        if engine is not None:
            plan = sim_parameters(params_file)['planner']
            planner = Planner(engine, float(plan.get('timeout_s', 30.0)),
                              plan.get('plan_form', 'pick_place'))
        executor = make_sim_executor(world, perception, params_file, overrides, planner)
        truth = world.ground_truth()
        goal = random_goal(truth, seed) if random_target else Goal.tower(blocks, goal_peg)
        shortest = bfs_plan(truth, goal)
        result = executor.run(goal, 'seed%d' % seed, status)
        result.steps = [dict(s, sim_time=world.time) for s in result.steps]
        result.optimal_moves = None if shortest is None else len(shortest)
        audit = getattr(executor.eyes, 'audit', None)
        result.perception_audit = audit.summary() if audit else None  # type: ignore
        result.world_faults = ['%s fell off the table at %.1f s' % (b, t)  # type: ignore
                               for b, t in sorted(world.fallen.items(), key=lambda kv: kv[1])]
        return result
    finally:
        world.close()


def summarise(results: List[EpisodeResult], blocks: int, faults: float,
              perception: str) -> Dict[str, Any]:
    """Aggregate episode results into the contract's statistics."""
    n = len(results)
    optimal = 2 ** blocks - 1
    solved = [r for r in results if r.solved]

    def completion(r: EpisodeResult) -> float:
        if r.solved:
            return 1.0
        ok = sum(1 for s in r.steps if s['result'] == 'ok')
        return min(1.0, ok / optimal)

    return {
        'blocks': blocks, 'episodes': n, 'faults': faults, 'perception': perception,
        'success_rate': len(solved) / n if n else 0.0,
        'plan_completion': statistics.mean(completion(r) for r in results) if n else 0.0,
        'mean_moves': statistics.mean(r.moves for r in results) if n else 0.0,
        'optimal_moves': optimal,
        'replans': sum(r.replans for r in results),
        'mean_wall_s': statistics.mean(r.wall_s for r in results) if n else 0.0,
        'failures': [r.reason for r in results if not r.solved],
    }


def run(args: argparse.Namespace) -> int:
    """Run the episodes with a progress bar and print the statistics."""
    if args.blocks < 1 or args.episodes < 1 or not 0.0 <= args.faults <= 1.0:
        raise ValidationError('need --blocks >= 1, --episodes >= 1 and 0 <= --faults <= 1')
    results = []
    t0 = time.monotonic()
    bar = tqdm(range(args.episodes), desc='%d blocks, faults %.2f, %s'
               % (args.blocks, args.faults, args.perception), unit='episode',
               disable=None)
    for i in bar:
        res = run_one(args.blocks, args.seed + i, args.faults, args.perception, args.start,
                      args.goal_peg, args.engine, args.max_replans,
                      params_file=args.params_file)
        results.append(res)
        bar.set_postfix(solved='%d/%d' % (sum(r.solved for r in results), len(results)))
    summary = summarise(results, args.blocks, args.faults, args.perception)
    summary['total_wall_s'] = time.monotonic() - t0
    if args.out:
        with open(args.out, 'w') as f:
            json.dump({'summary': summary, 'episodes': [r.to_dict() for r in results]}, f,
                      indent=1, default=str)
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            print('%-16s %s' % (key, value))
    return 0
