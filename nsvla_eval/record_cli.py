# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla record``: record the nsvla topics of a running graph into a rosbag2.

Works without the ``ros2 bag`` CLI: :class:`nsvla_eval.recorder.BagRecorder` subscribes raw and
writes with the ``rosbags`` package (mcap or sqlite3), so ``ros2 bag info`` / ``ros2 bag play``
read the result on a full install. The nsvla topics are recorded with their ``nsvla_interfaces``
types; the bag carries their definitions and type hashes. The camera is thinned
(``--camera-every``, one frame in N is kept) to keep bags small. Recording stops after
``--duration`` seconds or on Ctrl-C; the bag is closed either way and the messages written per
topic are printed.
"""

import argparse
import datetime
import json
import os
import time
from typing import Dict

from tqdm import tqdm

from nsvla_common.errors import ConfigError
from nsvla_eval.recorder import DEFAULT_TOPICS, TOPIC_TYPES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nsvla record``."""
    parser.add_argument('--out', default=None,
                        help='bag folder to create (default out/bag-<time>); must not exist')
    parser.add_argument('--storage', choices=['mcap', 'sqlite3'], default='mcap',
                        help='rosbag2 storage plugin (default mcap)')
    parser.add_argument('--duration', type=float, default=0.0,
                        help='seconds to record (default 0: until Ctrl-C)')
    parser.add_argument('--topics', nargs='+', default=None, metavar='TOPIC',
                        help='topics to record (default: all nsvla topics: %s)'
                             % ' '.join(DEFAULT_TOPICS))
    parser.add_argument('--camera-every', type=int, default=10,
                        help='keep one camera frame in N (default 10: 1 Hz at the sim\'s '
                             '10 Hz; 1 keeps every frame)')
    parser.add_argument('--namespace', default='', help='namespace of the graph')
    parser.add_argument('--json', action='store_true', help='last line printed is JSON')


def _check(args: argparse.Namespace) -> None:
    if args.duration < 0:
        raise ConfigError('--duration must be >= 0 (0: until Ctrl-C), got %r' % args.duration)
    if args.camera_every < 1:
        raise ConfigError('--camera-every must be >= 1, got %r' % args.camera_every)
    unknown = [t for t in (args.topics or []) if t not in TOPIC_TYPES]
    if unknown:
        raise ConfigError('no message type known for %s (known: %s)'
                          % (', '.join(unknown), ', '.join(TOPIC_TYPES)))
    if os.path.exists(args.out):
        raise ConfigError('%s exists already: rosbag2 writes a new folder' % args.out)


def run(args: argparse.Namespace) -> int:
    """Subscribe, record until the duration passes or Ctrl-C, close the bag and report."""
    stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S')
    args.out = os.path.abspath(args.out or os.path.join('out', 'bag-' + stamp))
    _check(args)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

    from nsvla_eval.recorder import BagRecorder
    topics = list(args.topics or DEFAULT_TOPICS)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('nsvla_record', namespace=args.namespace or None, context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    recorder = None
    counts: Dict[str, int] = {}
    t0 = time.monotonic()
    reason = 'duration reached'
    bar = tqdm(total=args.duration or None, unit='s', disable=None,
               desc='recording %s' % os.path.basename(args.out),
               bar_format='{desc}: {n:.0f}/{total_fmt} s {postfix}' if args.duration else
               '{desc}: {n:.0f} s {postfix}')
    try:
        recorder = BagRecorder(node, args.out, topics, args.storage,
                               every={'camera/image_raw': args.camera_every})
        print('[record] %s (%s): %s%s' % (args.out, args.storage, ', '.join(topics),
                                          '' if args.duration else '; Ctrl-C stops'),
              flush=True)
        last = 0.0
        while not args.duration or time.monotonic() - t0 < args.duration:
            executor.spin_once(timeout_sec=0.1)
            now = time.monotonic() - t0
            if now - last >= 0.5:
                bar.update(now - last)
                last = now
                bar.set_postfix_str('%d messages' % sum(recorder.counts.values()))
    except (KeyboardInterrupt, ExternalShutdownException):
        reason = 'interrupted'
    finally:
        bar.close()
        if recorder is not None:
            counts = recorder.close()
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
    wall = time.monotonic() - t0
    print('[record] %s after %.1f s: %d messages in %s' % (reason, wall, sum(counts.values()),
                                                           args.out))
    for topic in topics:
        print('  %-40s %d' % (topic, counts.get(topic, 0)))
    if not counts:
        print('[record] nothing was published on these topics: is the graph running (same '
              'ROS_DOMAIN_ID, namespace %r)?' % (args.namespace or '/'), flush=True)
    if args.json:
        print(json.dumps({'bag': args.out, 'storage': args.storage, 'seconds': round(wall, 2),
                          'messages': counts, 'reason': reason}))
    return 0 if counts else 1
