# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""``nsvla launch NAME``: start a node graph without launch_ros (the launch files' graph)."""

import argparse
import sys

from nsvla_common.errors import ConfigError
from nsvla_eval.graph import GRAPHS, graph, installed_tf_nodes, MOTION_BACKENDS, params_file
from nsvla_eval.graph import parse_use_sim_time, PERCEPTION_BACKENDS, scene_of
from nsvla_eval.launcher import Launcher, NodeDied


def _sim_time(text: str) -> object:
    try:
        return parse_use_sim_time(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nsvla launch`` (the same names as the launch files' arguments)."""
    parser.add_argument('graph', choices=GRAPHS, help='which node graph to start')
    parser.add_argument('--params-file', default=None,
                        help='stack-wide parameters YAML (default config/nsvla_params.yaml)')
    parser.add_argument('--namespace', default='', help='namespace for every node')
    parser.add_argument('--log-level', default='info',
                        choices=['debug', 'info', 'warn', 'error', 'fatal'])
    parser.add_argument('--use-sim-time', type=_sim_time, default=None,
                        metavar='{true,false,auto}',
                        help='true/True/1, false/False/0 or auto (default: auto = true for '
                        'embedded and gazebo)')
    parser.add_argument('--perception', choices=PERCEPTION_BACKENDS, default='classic',
                        help='perception backend (ground_truth: the simulator stands in)')
    parser.add_argument('--motion', choices=MOTION_BACKENDS, default='builtin',
                        help='motion backend of the executor')
    parser.add_argument('--duration', type=float, default=None,
                        help='stop after this many seconds (default: run until Ctrl-C)')
    parser.add_argument('--log-dir', default=None, help='also write each node\'s output here')


def run(args: argparse.Namespace) -> int:
    """Start the graph, wait for Ctrl-C, a dead node or the duration."""
    nodes = graph(args.graph, args.use_sim_time, args.perception, args.motion)
    launcher = Launcher(nodes, params_file(args.params_file), args.namespace, args.log_level,
                        log_dir=args.log_dir)
    try:
        tf_specs, notes = installed_tf_nodes(args.graph, scene_of(args.params_file),
                                             args.use_sim_time)
    except ConfigError as exc:   # no Panda model, a bad rig file: the nodes will say so too
        tf_specs, notes = [], ['no TF publishers: %s' % exc]
    for spec in tf_specs:   # this launcher runs nsvla's Python nodes only
        notes.append('%s/%s not started here: use `ros2 launch nsvla nsvla.launch.py` for TF'
                     % (spec.package, spec.executable))
    for note in notes:
        print('[launch] note: %s' % note, file=sys.stderr)
    launcher.start()
    try:
        launcher.wait(args.duration)
        code = 0
    except NodeDied as exc:
        print('[launch] %s' % exc, file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print('[launch] Ctrl-C: stopping every node', file=sys.stderr)
        code = 0
    finally:
        codes = launcher.stop()
        print('[launch] stopped: %s' % ', '.join('%s=%s' % kv for kv in codes.items()),
              file=sys.stderr)
    return code
