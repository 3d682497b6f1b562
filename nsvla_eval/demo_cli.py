# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla demo``: the README's main command: the whole loop once, in the embedded world.

Starts the ``embedded`` graph (MuJoCo sim, perception, planner, executor, power monitor) as
separate processes over loopback DDS, sends the instruction, prints progress as the executor
reports it, and ends with a summary: solved or not, moves against the optimum, replans, time,
and energy per node with its source (an estimate unless NVML or RAPL is available). With
``--json`` the last line is the summary: ``energy_j`` has one key per role (perception, planning,
control, monitor, simulation, other) from the power monitor's episode record, ``cpu_s`` each
node's CPU seconds over the episode, read from its process by the demo itself. The run is
recorded as a rosbag2 (mcap) and drawn as a GIF of the camera and a PNG of power over time.
"""

import argparse
import datetime
import importlib.util
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional

from nsvla_common.errors import NsvlaError
from nsvla_control.episode_cli import describe, execute_task
from nsvla_eval.graph import graph, params_file
from nsvla_eval.launcher import Launcher, NodeDied

DEFAULT_INSTRUCTION = 'move the tower to the right peg'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nsvla demo``."""
    parser.add_argument('--blocks', type=int, default=3, help='number of blocks (default 3)')
    parser.add_argument('--instruction', default=DEFAULT_INSTRUCTION,
                        help='what to do, in words (default: %(default)r)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the world')
    parser.add_argument('--start', default='tower', help='start: tower, tower:K or random')
    parser.add_argument('--perception', default='classic',
                        choices=['ground_truth', 'classic', 'learned'],
                        help='how the blocks are seen (default: classic colour segmentation)')
    parser.add_argument('--faults', type=float, default=0.0,
                        help='probability that a grasp slips mid-transport')
    parser.add_argument('--speed', type=float, default=2.0,
                        help='simulated seconds per wall-clock second')
    parser.add_argument('--timeout', type=float, default=900.0, help='seconds for the episode')
    parser.add_argument('--out', default=None,
                        help='folder for the bag and pictures (default out/demo-<time>)')
    parser.add_argument('--no-bag', action='store_true', help='do not record a rosbag')
    parser.add_argument('--domain-id', type=int, default=None,
                        help='ROS_DOMAIN_ID of the demo graph (default: $ROS_DOMAIN_ID if set, '
                        'else a free one, so two demos on one machine do not mix)')
    parser.add_argument('--json', action='store_true', help='last line printed is JSON')


def _pick_domain(requested: Optional[int]) -> int:
    """Use the requested or configured domain, else one no other nsvla demo uses now."""
    if requested is not None:
        return requested
    if os.environ.get('ROS_DOMAIN_ID'):
        return int(os.environ['ROS_DOMAIN_ID'])
    import random
    import tempfile
    for _ in range(50):
        domain = random.randint(100, 199)   # 100..232 is valid for Fast DDS on loopback
        lock = os.path.join(tempfile.gettempdir(), 'nsvla-demo-domain-%d' % domain)
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:   # a stale lock of a demo that is gone
                with open(lock) as f:
                    os.kill(int(f.read() or 0), 0)
                continue
            except (OSError, ValueError):
                os.unlink(lock)
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return domain
    return random.randint(100, 199)


def _perception_available() -> bool:
    return importlib.util.find_spec('nsvla_perception.perception_node') is not None


def build_graph(args: argparse.Namespace, out_dir: str) -> List[Any]:
    """Return the embedded graph with the demo's world settings."""
    nodes = graph('embedded', None, args.perception, 'builtin')
    for node in nodes:
        if node.name == 'sim':
            node.parameters.update({'num_blocks': args.blocks, 'seed': args.seed,
                                    'start': args.start, 'drop_probability': args.faults,
                                    'real_time_factor': args.speed,
                                    'randomise': args.perception != 'ground_truth'})
        elif node.name == 'perception':
            node.parameters.update({'num_blocks': args.blocks})
        elif node.name == 'power_monitor':
            node.parameters.update({'csv_log': os.path.join(out_dir, 'power.csv')})
    return nodes


def _frames_gif(images: List[Any], path: str) -> Optional[str]:
    if not images:
        return None
    from PIL import Image
    frames = [Image.fromarray(img).resize((320, 240)) for img in images]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=250, loop=0)
    return path


def _per_role(joules: Optional[Dict[str, float]]) -> Dict[str, Optional[float]]:
    """Return one key per role (None for every role when no energy record came)."""
    from nsvla_energy.attribution import ROLES
    if not joules:
        return {role: None for role in ROLES}
    return {role: float(joules.get(role, 0.0)) for role in ROLES}


def _cpu_delta(before: Dict[str, Optional[float]],
               after: Dict[str, Optional[float]]) -> Dict[str, Optional[float]]:
    """Return each node's CPU seconds between two readings (None when it was not readable)."""
    out: Dict[str, Optional[float]] = {}
    for name, end in after.items():
        start = before.get(name)
        out[name] = None if start is None or end is None else round(end - start, 3)
    return out


def run(args: argparse.Namespace) -> int:
    """Start the graph, run one episode, summarise, stop."""
    import numpy as np
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    from nsvla_energy.messages import record_from_msg
    from nsvla_interfaces.msg import EpisodeEnergy, SymbolicState as StateMsg

    t0 = time.monotonic()
    domain = _pick_domain(args.domain_id)
    os.environ['ROS_DOMAIN_ID'] = str(domain)
    if args.perception != 'ground_truth' and not _perception_available():
        print('[demo] perception nodes are not installed: using the simulator\'s ground truth',
              flush=True)
        args.perception = 'ground_truth'
    stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S')
    default_dir = os.path.join('out', 'demo-%s-%d' % (stamp, os.getpid()))
    out_dir = os.path.abspath(args.out or default_dir)
    os.makedirs(out_dir, exist_ok=True)
    launcher = Launcher(build_graph(args, out_dir), params_file(), log_dir=out_dir,
                        output=open(os.path.join(out_dir, 'nodes.log'), 'w'))
    print('[demo] %d blocks, perception %s, faults %.2f, seed %d, ROS_DOMAIN_ID=%d; node logs '
          'in %s' % (args.blocks, args.perception, args.faults, args.seed, domain, out_dir),
          flush=True)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('nsvla_demo', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    frames: List[Any] = []
    energy: List[Dict[str, Any]] = []
    recorder = None
    end: Dict[str, Any] = {}
    cpu_s: Dict[str, Optional[float]] = {}
    try:
        launcher.start()
        if not args.no_bag:
            from nsvla_eval.recorder import BagRecorder
            recorder = BagRecorder(node, os.path.join(out_dir, 'bag'),
                                   every={'camera/image_raw': 10, 'joint_states': 5})

        def on_image(msg: Image) -> None:
            if len(frames) < 2000 and msg.encoding == 'rgb8' and msg.height and msg.width:
                frames.append(np.frombuffer(msg.data, np.uint8).reshape(
                    msg.height, msg.width, 3).copy())
                del frames[:-400]

        node.create_subscription(Image, 'camera/image_raw', on_image, 2)
        episode_qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE,
                                 durability=DurabilityPolicy.TRANSIENT_LOCAL)

        def on_energy(msg: EpisodeEnergy) -> None:
            try:
                energy.append(record_from_msg(msg))
            except NsvlaError as exc:
                print('[demo] unreadable energy record: %s' % exc, file=sys.stderr)

        node.create_subscription(EpisodeEnergy, 'energy/episode', on_energy, episode_qos)
        ready_topic = 'sim/ground_truth' if args.perception == 'ground_truth' \
            else 'symbolic_state'
        seen: List[Any] = []
        node.create_subscription(StateMsg, ready_topic, seen.append, 10)
        print('[demo] waiting for the nodes ...', flush=True)
        deadline = time.monotonic() + 120.0
        while not seen:
            executor.spin_once(timeout_sec=0.1)
            launcher.check()
            if time.monotonic() > deadline:
                raise NodeDied('no %s after 120 s' % ready_topic)
        print('[demo] instruction: %r' % args.instruction, flush=True)

        def show(event: Dict[str, Any]) -> None:
            line = describe(event)
            if line:
                print('[demo] ' + line, flush=True)

        cpu0 = launcher.cpu_seconds()
        end = execute_task(node, executor, args.instruction, args.timeout, show,
                           check=launcher.check)
        cpu_s = _cpu_delta(cpu0, launcher.cpu_seconds())
        show(end)
        wait_energy = time.monotonic() + 5.0
        while not energy and time.monotonic() < wait_energy and end.get('episode_id'):
            executor.spin_once(timeout_sec=0.1)
    except (NsvlaError, KeyboardInterrupt) as exc:
        end = {'result': 'failed', 'reason': str(exc) or 'interrupted'}
    finally:
        counts = recorder.close() if recorder else {}
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
        launcher.stop()
    mine = [r for r in energy if r.get('episode_id') == end.get('episode_id')]
    record = mine[-1] if mine else {}
    plots: Dict[str, Optional[str]] = {'gif': _frames_gif(frames[::10] + frames[-1:],
                                                          os.path.join(out_dir, 'camera.gif'))}
    csv_path = os.path.join(out_dir, 'power.csv')
    if os.path.exists(csv_path):
        try:
            from nsvla_energy.plot import plot_episode
            plots['power_png'] = plot_episode(csv_path, os.path.join(out_dir, 'power.png'))
        except Exception as exc:  # noqa: BLE001 - a plot must not hide the result
            print('[demo] power plot failed: %s' % exc, file=sys.stderr)
    solved = end.get('result') == 'solved'
    summary = {
        'solved': solved, 'moves': end.get('moves'),
        'optimal_moves': 2 ** args.blocks - 1 if args.start == 'tower' else None,
        'replans': end.get('replans'), 'recoveries': end.get('recoveries'),
        'wall_s': round(time.monotonic() - t0, 2), 'episode_wall_s': end.get('wall_s'),
        'energy_j': _per_role(record.get('joules_per_node')),
        'cpu_s': cpu_s,
        'energy_total_j': record.get('joules'),
        'energy_source': record.get('source'), 'energy_estimated': record.get('estimated'),
        'perception': args.perception, 'reason': end.get('reason'), 'ros_domain_id': domain,
        'bag': os.path.join(out_dir, 'bag') if counts else None, 'bag_messages': counts,
        'pictures': plots,
    }
    with open(os.path.join(out_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    print('[demo] %s: %s moves (optimal %s), %s replans, %.1f s; energy %s J (%s%s)'
          % ('SOLVED' if solved else 'NOT SOLVED', summary['moves'], summary['optimal_moves'],
             summary['replans'], summary['wall_s'],
             '%.1f' % summary['energy_total_j'] if summary['energy_total_j'] else '?',
             summary['energy_source'],
             ', estimated' if summary['energy_estimated'] else ''), flush=True)
    if record:
        print('[demo] energy per node (J): %s' % ', '.join(
            '%s %.1f' % kv for kv in sorted(summary['energy_j'].items())), flush=True)
    if cpu_s:
        print('[demo] CPU seconds per node over the episode: %s' % ', '.join(
            '%s %s' % (name, '?' if s is None else '%.2f' % s)
            for name, s in sorted(cpu_s.items())), flush=True)
    if not solved:
        print('[demo] reason: %s' % end.get('reason'), flush=True)
    if args.json:
        print(json.dumps(summary))
    return 0 if solved else 1
