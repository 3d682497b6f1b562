# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Overhead of the power monitor: CPU use at 10 Hz as % of one core (target: under 1 %).

Four runs of ``--seconds`` each, measured by process CPU time (user + system, all threads):

1. ``baseline: sleep loop`` - this process waking at ``--rate`` Hz and doing nothing;
2. ``monitor logic`` - the same loop running :class:`nsvla_energy.monitor.PowerMonitor` (meter
   reads, process tracking, attribution, CSV log, JSON of both topics) in this process;
3. ``baseline: idle rclpy node`` - a node process that only spins (DDS threads, no timers);
4. ``power_monitor_node`` - the real node process at ``--rate`` Hz with a CSV log.

The overhead of the monitor is (2) - (1) in-process, and (4) - (3) as a ROS node. Prints a
table and writes JSON to ``bench/results/energy.json``. Run:
``.venv/bin/python bench/energy.py [--seconds 10] [--rate 10]``.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import psutil
from tqdm import tqdm

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from nsvla_common import envelope  # noqa: E402
from nsvla_common.rosenv import localhost_env  # noqa: E402
from nsvla_energy.monitor import PowerMonitor  # noqa: E402

TARGET_PERCENT = 1.0
WARMUP_S = 3.0
IDLE_NODE = ('import rclpy\n'
             'from rclpy.executors import ExternalShutdownException\n'
             'rclpy.init()\n'
             'node = rclpy.create_node("bench_idle")\n'
             'try:\n'
             '    rclpy.spin(node)\n'
             'except (KeyboardInterrupt, ExternalShutdownException):\n'
             '    pass\n')


def _loop(seconds, rate, work, bar):
    """Call ``work()`` at ``rate`` Hz for ``seconds``; return (cpu s, wall s) of this process."""
    period = 1.0 / rate
    c0, t0 = time.process_time(), time.monotonic()
    next_t, next_bar = t0 + period, t0 + 1.0
    end = t0 + seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        time.sleep(max(0.0, min(next_t, end) - now))
        next_t += period
        work()
        if time.monotonic() >= next_bar:
            bar.update(1)
            next_bar += 1.0
    return time.process_time() - c0, time.monotonic() - t0


def _proc_cpu(proc):
    t = proc.cpu_times()
    return t.user + t.system


def _measure_process(cmd, env, seconds, bar):
    """Start ``cmd``, let it warm up, then return its (cpu s, wall s) over ``seconds``."""
    popen = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, start_new_session=True)
    try:
        proc = psutil.Process(popen.pid)
        time.sleep(WARMUP_S)
        if popen.poll() is not None:
            raise RuntimeError('%s exited early: %s' % (cmd, popen.stderr.read().decode()[-800:]))
        c0, t0 = _proc_cpu(proc), time.monotonic()
        for _ in range(int(seconds)):
            time.sleep(1.0)
            bar.update(1)
        rest = seconds - int(seconds)
        if rest > 0:
            time.sleep(rest)
        return _proc_cpu(proc) - c0, time.monotonic() - t0
    finally:
        popen.terminate()
        try:
            popen.wait(10)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()


def _row(name, cpu, wall):
    return {'run': name, 'cpu_s': cpu, 'wall_s': wall, 'percent_of_one_core': 100.0 * cpu / wall}


def main(argv=None):
    """Run the benchmark; exit status 1 when an overhead is over the target."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--seconds', type=float, default=10.0, help='length of each run')
    parser.add_argument('--rate', type=float, default=10.0, help='monitor rate, Hz')
    parser.add_argument('--no-node', action='store_true', help='skip the two ROS node runs')
    parser.add_argument('--out', default=os.path.join(REPO, 'bench', 'results', 'energy.json'))
    args = parser.parse_args(argv)

    env = localhost_env(os.environ.copy())
    env.setdefault('ROS_DOMAIN_ID', str(100 + os.getpid() % 100))
    runs = 2 if args.no_node else 4
    rows = []
    with tempfile.TemporaryDirectory() as tmp, \
            tqdm(total=int(runs * args.seconds), unit='s', desc='energy bench') as bar:
        cpu, wall = _loop(args.seconds, args.rate, lambda: None, bar)
        rows.append(_row('baseline: sleep loop', cpu, wall))

        monitor = PowerMonitor.open(csv_path=os.path.join(tmp, 'bench.csv'), include_self=True)
        source = monitor.meters.describe()

        def work():
            snap = monitor.tick()
            envelope.dumps(monitor.power_message(snap))
            envelope.dumps(monitor.energy_message(snap))

        try:
            cpu, wall = _loop(args.seconds, args.rate, work, bar)
        finally:
            monitor.close()
        rows.append(_row('monitor logic (in-process)', cpu, wall))

        if not args.no_node:
            cpu, wall = _measure_process([sys.executable, '-c', IDLE_NODE], env, args.seconds,
                                         bar)
            rows.append(_row('baseline: idle rclpy node', cpu, wall))
            cmd = [sys.executable, '-m', 'nsvla_energy.power_monitor_node', '--ros-args',
                   '-p', 'rate_hz:=%.3f' % args.rate,
                   '-p', 'csv_log:=%s' % os.path.join(tmp, 'node.csv')]
            cpu, wall = _measure_process(cmd, env, args.seconds, bar)
            rows.append(_row('power_monitor_node', cpu, wall))

    pct = {r['run']: r['percent_of_one_core'] for r in rows}
    overhead = {'monitor_logic': pct['monitor logic (in-process)'] - pct['baseline: sleep loop']}
    if not args.no_node:
        overhead['node'] = pct['power_monitor_node'] - pct['baseline: idle rclpy node']
    ok = all(v < TARGET_PERCENT for v in overhead.values())

    print('\npower monitor overhead at %g Hz, %g s per run (%d CPUs, shared machine)'
          % (args.rate, args.seconds, psutil.cpu_count()))
    print('meter: %s' % source)
    print('%-30s %8s %8s %14s' % ('run', 'cpu s', 'wall s', '% of one core'))
    for r in rows:
        print('%-30s %8.3f %8.2f %14.3f' % (r['run'], r['cpu_s'], r['wall_s'],
                                            r['percent_of_one_core']))
    for name, value in overhead.items():
        print('overhead %-21s %+.3f %% of one core (target < %.1f %%): %s'
              % (name, value, TARGET_PERCENT, 'ok' if value < TARGET_PERCENT else 'OVER'))

    result = {'rate_hz': args.rate, 'seconds_per_run': args.seconds, 'runs': rows,
              'overhead_percent_of_one_core': overhead, 'target_percent': TARGET_PERCENT,
              'ok': ok, 'meter': source, 'cpus': psutil.cpu_count(),
              'python': platform.python_version(), 'machine': platform.platform(),
              'stamp': time.time()}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(result, f, indent=2, sort_keys=True)
    print('wrote %s' % args.out)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
