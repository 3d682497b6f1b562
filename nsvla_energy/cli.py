# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla energy-probe``: sample the energy meter(s), plot an episode, or summarise a log.

- ``nsvla energy-probe [--seconds T] --json``: read the picked meter(s) at ``--rate`` Hz for T
  seconds and print one JSON line ``{"source", "estimated", "joules", "watts", "per_node",
  "sources", "why", "seconds"}`` (``watts`` = joules / seconds).
- ``nsvla energy-probe --plot LOG.csv [--episode ID] [--out episode.png]``: PNG of power over an
  episode with its steps marked, from the power monitor's CSV log.
- ``nsvla energy-probe --summary LOG.csv|RECORDS.jsonl [--json]``: tasks solved per kJ and success
  rate per average watt over the episodes of a log (or of ``nsvla/energy_episode/1`` records, one
  JSON object a line: what :func:`nsvla_energy.messages.record_from_msg` makes of each
  ``energy/episode`` message).

It reads no topic: the meters directly, or the files the monitor (or a client) wrote.
"""

import argparse
import json
import sys
import time
from typing import Any, Dict, List

from nsvla_common.errors import ConfigError, ValidationError
from nsvla_energy.meters import (DEFAULT_RAPL_ROOT, DEFAULT_WATTS_PER_CORE, ESTIMATE_MODELS,
                                 METER_CHOICES)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the energy-probe options."""
    parser.add_argument('--seconds', type=float, default=2.0,
                        help='how long to sample (default 2)')
    parser.add_argument('--json', action='store_true', help='print one JSON line')
    parser.add_argument('--rate', type=float, default=10.0, help='reads per second (default 10)')
    parser.add_argument('--meter', choices=METER_CHOICES, default='auto',
                        help='energy source; auto tries nvml, rapl, estimate (default auto)')
    parser.add_argument('--no-combine', dest='combine', action='store_false',
                        help='with nvml, do not add the CPU meter (rapl or estimate)')
    parser.add_argument('--rapl-root', default=DEFAULT_RAPL_ROOT,
                        help='powercap sysfs folder (default %s)' % DEFAULT_RAPL_ROOT)
    parser.add_argument('--estimate-model', choices=ESTIMATE_MODELS, default='cpu_seconds',
                        help='estimate model (default cpu_seconds)')
    parser.add_argument('--watts-per-core', type=float, default=DEFAULT_WATTS_PER_CORE,
                        help='estimate: watts of one busy core (default %.0f)'
                        % DEFAULT_WATTS_PER_CORE)
    parser.add_argument('--tdp-watts', type=float, default=0.0,
                        help='estimate, tdp model: full-load CPU watts '
                        '(0: watts-per-core x cores)')
    parser.add_argument('--plot', metavar='LOG_CSV',
                        help='draw an episode from a power-monitor CSV log instead of sampling')
    parser.add_argument('--episode', help='episode id to plot (default: the last one)')
    parser.add_argument('--out', default='episode_power.png', help='PNG path for --plot')
    parser.add_argument('--summary', metavar='LOG',
                        help='intelligence-per-watt summary of a CSV log or a JSONL of records')


def probe(seconds: float, rate: float = 10.0, **open_kwargs: Any) -> Dict[str, Any]:
    """Sample the meter(s) for ``seconds`` and return the energy-probe result object."""
    from nsvla_energy.monitor import PowerMonitor

    if not seconds > 0:
        raise ConfigError('--seconds must be > 0, got %r' % seconds)
    if not rate > 0:
        raise ConfigError('--rate must be > 0, got %r' % rate)
    monitor = PowerMonitor.open(include_self=True, rescan_period=min(2.0, seconds / 2.0),
                                **open_kwargs)
    try:
        period = 1.0 / rate
        start = time.monotonic()
        deadline = start + seconds
        next_t = start + period
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            time.sleep(max(0.0, min(next_t, deadline) - now))
            next_t += period
            snap = monitor.tick()
        snap = monitor.tick()
    finally:
        monitor.close()
    elapsed = max(snap.t, 1e-9)
    return {
        'source': snap.source,
        'estimated': snap.estimated,
        'joules': snap.joules,
        'watts': snap.joules / elapsed,
        'per_node': dict(snap.per_node),
        'sources': {name: {'joules': r['joules'], 'watts': r['joules'] / elapsed,
                           'estimated': r['estimated'], 'parts': r['parts']}
                    for name, r in snap.sources.items()},
        'why': list(monitor.meters.reasons),
        'seconds': elapsed,
    }


def _load_records(path: str) -> List[Dict[str, Any]]:
    from nsvla_energy.csvlog import records_from_csv
    from nsvla_energy.episodes import parse_record

    if path.endswith('.csv'):
        return records_from_csv(path)
    try:
        with open(path) as f:
            lines = [line for line in f if line.strip()]
    except OSError as exc:
        raise ValidationError('cannot read %s: %s' % (path, exc)) from None
    return [parse_record(line) for line in lines]


def run(args: argparse.Namespace) -> int:
    """Run energy-probe; errors of the NsvlaError family go to the dispatcher (exit 2)."""
    if args.plot:
        from nsvla_energy.plot import plot_episode
        result = plot_episode(args.plot, args.out, args.episode)
        if args.json:
            print(json.dumps(result, sort_keys=True))
        else:
            print('wrote %s: episode %s, %.2f J in %.2f s, %d steps%s' % (
                result['png'], result['episode_id'], result['joules'], result['duration_s'],
                result['steps'], ' (estimated)' if result['estimated'] else ''))
        return 0
    if args.summary:
        from nsvla_energy.summary import format_summary, intelligence_per_watt
        summary = intelligence_per_watt(_load_records(args.summary))
        print(json.dumps(summary, sort_keys=True) if args.json else format_summary(summary))
        return 0
    result = probe(args.seconds, args.rate, meter=args.meter, combine=args.combine,
                   rapl_root=args.rapl_root, estimate_model=args.estimate_model,
                   watts_per_core=args.watts_per_core, tdp_watts=args.tdp_watts)
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0
    print('source   %s (%s)' % ('+'.join(result['sources']),
                                'estimated' if result['estimated'] else 'measured'))
    for reason in result['why']:
        print('  %s' % reason)
    print('energy   %.3f J in %.2f s = %.3f W' % (result['joules'], result['seconds'],
                                                  result['watts']))
    for role, joules in result['per_node'].items():
        print('  %-11s %.3f J' % (role, joules))
    sys.stdout.flush()
    return 0
