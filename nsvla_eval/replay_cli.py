# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla replay-eval BAG``: perception and planning evaluated on a recorded bag.

Reads a rosbag2 (mcap or sqlite3, from ``ros2 bag record``, ``nsvla record`` or ``nsvla demo``;
typed ``nsvla_interfaces`` topics or the JSON ``std_msgs/String`` of older bags), runs a
perception backend on every camera frame, compares with the ground truth (the bag's
``sim/ground_truth`` topic or ``--labels``), plans from every distinct state seen and checks the
plans (see :mod:`nsvla_eval.replay`). Writes ``replay.md``, ``replay.json`` and ``replay.png``
into the report folder. With ``--json`` the last line printed is
``{"frames": ..., "state_accuracy": ..., "plans_valid": ..., "plans_optimal": ..., ...}``.
"""

import argparse
import json
import os
import sys
from typing import Any, Dict

from tqdm import tqdm

from nsvla_common.errors import ValidationError
from nsvla_eval import replay, replay_bag, replay_labels, replay_report
from nsvla_eval.replay_decode import CAMERA_TOPIC, TRUTH_TOPIC


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nsvla replay-eval``."""
    parser.add_argument('bag', help='rosbag2 folder (or a single .mcap / .db3 file)')
    parser.add_argument('--backend', choices=['classic', 'learned'], default='classic',
                        help='perception backend to evaluate (default classic)')
    parser.add_argument('--labels', default=None,
                        help='JSON file: frame index or stamp -> state (instead of the '
                             'ground-truth topic)')
    parser.add_argument('--blocks', type=int, default=None,
                        help='number of blocks (default: from the ground truth or labels)')
    parser.add_argument('--scene', default='scene_default.yaml',
                        help='scene file the bag was recorded in (camera, pegs, blocks)')
    parser.add_argument('--model', default=None, help='weights of the learned backend')
    parser.add_argument('--image-topic', default=CAMERA_TOPIC,
                        help='camera topic (any namespace matches; default %(default)s)')
    parser.add_argument('--truth-topic', default=TRUTH_TOPIC,
                        help='ground-truth topic (default %(default)s)')
    parser.add_argument('--every', type=int, default=1, help='evaluate every N-th frame')
    parser.add_argument('--time-base', choices=['auto', 'header', 'receive'], default='auto',
                        help='match frames to truth by header stamps or receive time')
    parser.add_argument('--max-truth-age', type=float, default=1.0,
                        help='seconds a ground-truth sample stays valid for a frame')
    parser.add_argument('--engine', default='fast-downward', help='planning engine')
    parser.add_argument('--no-plans', action='store_true', help='skip the planning checks')
    parser.add_argument('--watts-per-core', type=float, default=None,
                        help='watts of one busy core for the energy estimate '
                             '(default: config/perception.yaml)')
    parser.add_argument('--report', default=None,
                        help='folder for replay.{md,json,png} (default: replay-BACKEND next '
                             'to the bag)')
    parser.add_argument('--json', action='store_true', help='last line printed is JSON')


def _default_report_dir(bag: str, backend: str) -> str:
    bag = os.path.abspath(bag.rstrip('/'))
    return os.path.join(os.path.dirname(bag), 'replay-%s' % backend)


def run(args: argparse.Namespace) -> int:
    """Evaluate the bag and write the report."""
    from nsvla_perception.backend import make_perceiver
    from nsvla_perception.settings import load_settings
    from nsvla_planner.scene_words import colours_from_scene
    from nsvla_sim.scene import load_scene

    if args.every < 1 or args.max_truth_age <= 0:
        raise ValidationError('need --every >= 1 and --max-truth-age > 0')
    if not os.path.exists(args.bag):
        raise replay_bag.BagError('bag %s does not exist' % args.bag)
    scan = replay_bag.scan_bag(args.bag, args.image_topic, args.truth_topic)
    spec = load_scene(args.scene)
    num_pegs = scan.num_pegs or spec.num_pegs
    labels = None
    if args.labels:
        labels = replay_labels.load_labels(args.labels, args.blocks or scan.num_blocks, num_pegs)
    num_blocks = args.blocks or scan.num_blocks or _label_blocks(labels)
    if not num_blocks:
        raise replay_bag.BagError('cannot tell the number of blocks: no ground truth in the '
                                  'bag; give --blocks or --labels')
    scan.num_blocks, scan.num_pegs = num_blocks, num_pegs
    settings = load_settings()
    watts = args.watts_per_core or settings.energy.watts_per_core
    perceiver = make_perceiver(args.backend, spec, num_blocks, model_path=args.model,
                               settings=settings)
    colours = colours_from_scene(args.scene, num_blocks, missing_ok=True)
    goal, goal_source = replay.find_goal(scan, num_blocks, num_pegs, colours)
    plan_fn = None
    if not args.no_plans:
        from nsvla_planner.planning import Planner
        plan_fn = Planner(args.engine, 60.0, 'pick_place').plan
    _warm_up(perceiver, plan_fn)
    log = sys.stderr if args.json else sys.stdout
    print('[replay] %s (%s): %d frames on %s, truth %s, %d blocks, %s backend'
          % (args.bag, scan.storage, scan.frames, scan.image_topic,
             args.labels or scan.truth_topic or 'none', num_blocks, args.backend),
          file=log, flush=True)
    frames_bar = tqdm(total=scan.frames, desc='frames', unit='frame', disable=None, file=log)
    plans_bar = tqdm(desc='plans', unit='plan', disable=None if plan_fn else True, file=log)
    try:
        report = replay.evaluate(scan, perceiver.perceive, plan_fn, labels, goal, goal_source,
                                 watts, args.every, args.max_truth_age, args.time_base,
                                 progress=frames_bar.update, plan_progress=plans_bar.update)
    finally:
        frames_bar.close()
        plans_bar.close()
    report['backend'] = args.backend
    out_dir = os.path.abspath(args.report or _default_report_dir(args.bag, args.backend))
    paths = replay_report.write_report(report, out_dir)
    report['report'] = paths
    with open(paths['json'], 'w') as f:
        json.dump(report, f, indent=1, default=str)
    _print_summary(report, log)
    if args.json:
        print(json.dumps(replay_report.summary_line(report), default=str))
    return 0


def _warm_up(perceiver: Any, plan_fn: Any) -> None:
    """Pay one-time costs (lazy imports, first calls) before anything is metered."""
    import numpy as np

    from nsvla_planner.state import Goal, SymbolicState
    width, height = perceiver.image_size
    perceiver.perceive(np.zeros((height, width, 3), np.uint8))
    if plan_fn is not None:
        plan_fn(SymbolicState.tower(2), Goal.tower(2, 3))


def _label_blocks(labels: Any) -> int:
    if labels is None:
        return 0
    states = [s for s in labels.by_frame.values() if s is not None]
    states += [tr.state for tr in labels.by_stamp if tr.state is not None]
    return states[0].num_blocks if states else 0


def _print_summary(report: Dict[str, Any], out: Any) -> None:
    o = report['outcomes']
    acc = report['state_accuracy']
    print('[replay] state accuracy %s over %d compared frames (correct %d, wrong %d, missed '
          '%d); %d without truth, %d skipped'
          % ('-' if acc is None else '%.1f %%' % (100 * acc), report['evaluated'], o['correct'],
             o['wrong'], o['missed'], o['no_truth'], o['skipped']), file=out)
    pc = report['plan_counts']
    print('[replay] plans from %d seen states for %s: %d/%d valid, %d/%d optimal'
          % (report['states_seen'], report['goal'], pc['valid'], pc['planned'], pc['optimal'],
             pc['optimal_checked']), file=out)
    e = report['energy_per_frame']
    print('[replay] energy per frame %s J (estimated, %s)' % (e['joules_mean'], e['method']),
          file=out)
    if report['malformed']:
        print('[replay] malformed messages skipped: %s' % report['malformed'], file=out)
    print('[replay] report: %s' % report['report']['markdown'], file=out, flush=True)
