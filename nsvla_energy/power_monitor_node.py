# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Power monitor node: live energy of the nsvla nodes, per node and per episode.

Publishes ``power`` (nsvla_interfaces/PowerReading) and ``energy`` (EnergyReading) every
``1 / rate_hz`` seconds while they have subscribers (the meters are read and the CSV log written
at that rate in any case), ``/diagnostics`` (diagnostic_msgs/DiagnosticArray) every
``diagnostics_period_s``, and one ``energy/episode`` record (EpisodeEnergy, reliable and
transient local) at each ``episode_end`` seen on ``execution_status`` (EpisodeEvent). All the
work is done by :class:`nsvla_energy.monitor.PowerMonitor` on dicts; this module only converts
messages (:func:`nsvla_planner.messages.event_from_msg` in, :mod:`nsvla_energy.messages` out).
An event that cannot be read or does not fit its episode is logged (throttled) and counted in
the ``status_dropped`` diagnostic; the node goes on.

The meters are read by a sampling thread on the steady clock, not by an rclpy timer: power is a
wall-clock quantity (under ``use_sim_time`` a ROS timer would follow ``/clock``), and an rclpy
timer's executor wake-up alone costs ~0.7 % of a core at 10 Hz on these machines, more than the
whole budget of the monitor (measured in ``bench/energy.py``). The executor serves only the
``execution_status`` subscription and the 1 Hz diagnostics timer; a lock keeps the two threads
apart.
"""

import os
import sys
import threading
import time
from typing import Any, Optional

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
from rclpy.clock import Clock, ClockType
from rclpy.exceptions import ParameterException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from nsvla_common.errors import ConfigError, ValidationError
from nsvla_common.spin import run_node
from nsvla_common.params import declare, Param
from nsvla_energy.attribution import domain_id, ROLES
from nsvla_energy.messages import energy_to_msg, power_to_msg, record_to_msg
from nsvla_energy.meters import (DEFAULT_RAPL_ROOT, DEFAULT_WATTS_PER_CORE, ESTIMATE_MODELS,
                                 METER_CHOICES)
from nsvla_energy.monitor import PowerMonitor
from nsvla_interfaces.msg import EnergyReading, EpisodeEnergy, EpisodeEvent, PowerReading
from nsvla_planner.messages import event_from_msg

NODE_NAME = 'power_monitor'
PARAMETERS = (
    Param('same_domain_only', True, 'count only the nsvla processes of this node\'s '
          'ROS_DOMAIN_ID: the nodes of another graph on the machine (another demo, a test) are '
          'not this graph\'s energy', read_only=True),
)


def _descriptor(text: str, low: Optional[float] = None, high: Optional[float] = None,
                **kwargs: Any) -> ParameterDescriptor:
    if low is not None:
        kwargs['floating_point_range'] = [FloatingPointRange(from_value=low, to_value=high)]
    return ParameterDescriptor(description=text, read_only=True, **kwargs)


class PowerMonitorNode(Node):
    """Thin ROS 2 wrapper around :class:`nsvla_energy.monitor.PowerMonitor`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sampler: Optional[threading.Thread] = None
        self._monitor: Optional[PowerMonitor] = None
        self.declare_parameter('rate_hz', 10.0, _descriptor(
            'rate of meter reads and of the power / energy topics while they have subscribers '
            'or a meter integrates power samples, Hz', 0.1, 100.0))
        self.declare_parameter('idle_rate_hz', 2.0, _descriptor(
            'rate of meter reads otherwise (every meter a counter, nobody on power / energy): '
            'the meters are also read at each execution_status event, so episode and step '
            'energy are exact at any rate; this sets the CSV log\'s resolution, Hz',
            0.1, 100.0))
        self.declare_parameter('diagnostics_period_s', 1.0, _descriptor(
            'period of /diagnostics messages, seconds', 0.1, 60.0))
        self.declare_parameter('meter', 'auto', _descriptor(
            'energy source: %s (auto tries nvml, rapl, estimate in that order)'
            % ', '.join(METER_CHOICES)))
        self.declare_parameter('combine', True, _descriptor(
            'when nvml measures the GPUs, add the CPU meter (rapl, else estimate) to it'))
        self.declare_parameter('rapl_root', DEFAULT_RAPL_ROOT, _descriptor(
            'powercap sysfs folder holding the intel-rapl:N zones'))
        self.declare_parameter('estimate_model', 'cpu_seconds', _descriptor(
            'estimate model: cpu_seconds (nsvla CPU seconds x watts_per_core) or tdp '
            '(machine: tdp_watts x (0.1 + 0.9 load^3))'))
        self.declare_parameter('watts_per_core', DEFAULT_WATTS_PER_CORE, _descriptor(
            'estimate: watts of one fully busy core', 0.1, 1000.0))
        self.declare_parameter('tdp_watts', 0.0, _descriptor(
            'estimate (tdp model): CPU package power at full load, W; 0 = watts_per_core x cores',
            0.0, 10000.0))
        self.declare_parameter('rescan_period_s', 2.0, _descriptor(
            'how often to look for new nsvla processes (reads command lines), seconds',
            0.1, 60.0))
        self.declare_parameter('csv_log', '', _descriptor(
            'CSV log path (one row per read and per execution_status event); empty: no log'))
        p = {name: self.get_parameter(name).value for name in (
            'rate_hz', 'idle_rate_hz', 'diagnostics_period_s', 'meter', 'combine', 'rapl_root',
            'estimate_model', 'watts_per_core', 'tdp_watts', 'rescan_period_s', 'csv_log')}
        if p['meter'] not in METER_CHOICES:
            raise ConfigError('parameter meter is %r, expected one of %s'
                              % (p['meter'], ', '.join(METER_CHOICES)))
        if p['estimate_model'] not in ESTIMATE_MODELS:
            raise ConfigError('parameter estimate_model is %r, expected one of %s'
                              % (p['estimate_model'], ', '.join(ESTIMATE_MODELS)))
        p.update(declare(self, PARAMETERS))
        self._params = p
        self._monitor = PowerMonitor.open(
            meter=p['meter'], combine=p['combine'], csv_path=p['csv_log'] or None,
            rescan_period=p['rescan_period_s'], rapl_root=p['rapl_root'],
            domain=domain_id(os.environ) if p['same_domain_only'] else None,
            estimate_model=p['estimate_model'], watts_per_core=p['watts_per_core'],
            tdp_watts=p['tdp_watts'])
        self._tick_error = ''
        self._cpu_mark = (time.monotonic(), time.process_time())
        self._cpu_percent = 0.0
        self._pub_power = self.create_publisher(PowerReading, 'power', 10)
        self._pub_energy = self.create_publisher(EnergyReading, 'energy', 10)
        episode_qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE,
                                 durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self._pub_episode = self.create_publisher(EpisodeEnergy, 'energy/episode', episode_qos)
        self._pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.create_subscription(EpisodeEvent, 'execution_status', self._on_status, 50)
        self.create_timer(p['diagnostics_period_s'], self._on_diagnostics,
                          clock=Clock(clock_type=ClockType.STEADY_TIME))
        self._subscribed = False     # power or energy had subscribers at the last read
        self._sampler = threading.Thread(target=self._sample_loop, name='power_sampler',
                                         daemon=True)
        self._sampler.start()
        self.get_logger().info('energy source %s; %s%s' % (
            self._monitor.meters.describe(),
            '%.1f Hz' % p['rate_hz'] if self._monitor.meters.integrates_power else
            '%.1f Hz, %.1f Hz while nobody subscribes to power or energy' % (
                p['rate_hz'], min(p['rate_hz'], p['idle_rate_hz'])),
            '; CSV log %s' % p['csv_log'] if p['csv_log'] else ''))

    # ------------------------------------------------------------------ callbacks
    def read_period(self) -> float:
        """
        Return the seconds between meter reads now.

        ``rate_hz`` while ``power`` or ``energy`` have subscribers or a meter integrates power
        samples (their accuracy depends on it); ``idle_rate_hz`` otherwise: counters are exact
        between any two reads, and every execution_status event reads them too. At 10 Hz the
        reads were half of the monitor's 0.8 % of a core over a 5-block demo.
        """
        rate = self._params['rate_hz']
        if not (self._subscribed or self._monitor.meters.integrates_power):
            rate = min(rate, self._params['idle_rate_hz'])
        return 1.0 / rate

    def _sample_loop(self) -> None:
        """Read the meters every :meth:`read_period` s of the steady clock until it stops."""
        next_t = time.monotonic() + self.read_period()
        while not self._stop.wait(max(0.0, next_t - time.monotonic())):
            period = self.read_period()
            next_t += period
            if next_t < time.monotonic():          # fell behind (suspend, overload): resync
                next_t = time.monotonic() + period
            if not self.context.ok():
                return
            self.tick()

    def tick(self) -> None:
        """Read the meters once and publish ``power`` and ``energy`` (those with subscribers)."""
        try:
            # a message nobody subscribes to is not built (the meters and the CSV log are read
            # and written all the same): building and publishing both cost 4x the read
            want_power = self._pub_power.get_subscription_count() > 0
            want_energy = self._pub_energy.get_subscription_count() > 0
            self._subscribed = want_power or want_energy
            with self._lock:
                snap = self._monitor.tick()
                power = self._monitor.power_message(snap) if want_power else None
                energy = self._monitor.energy_message(snap) if want_energy else None
            power_msg = power_to_msg(power, snap.source_joules()) if want_power else None
            energy_msg = energy_to_msg(energy) if want_energy else None
        except Exception as exc:  # noqa: BLE001 - a failing meter must not stop the node
            self._tick_error = 'meter read failed: %s: %s' % (type(exc).__name__, exc)
            self.get_logger().error(self._tick_error, throttle_duration_sec=5.0)
            return
        try:
            if power_msg is not None:
                self._pub_power.publish(power_msg)
            if energy_msg is not None:
                self._pub_energy.publish(energy_msg)
        except Exception as exc:  # noqa: BLE001 - the sampler thread must not die
            if not self.context.ok():        # the context is going down under the sampler
                return
            self._tick_error = 'publish failed: %s: %s' % (type(exc).__name__, exc)
            self.get_logger().error(self._tick_error, throttle_duration_sec=5.0)
            return
        self._tick_error = ''

    def _on_status(self, msg: EpisodeEvent) -> None:
        """Account one episode event; publish the episode's record at its end."""
        try:
            with self._lock:       # any input error: counted by the monitor, ValidationError
                record = self._monitor.on_status(msg, convert=event_from_msg)
        except ValidationError as exc:
            self.get_logger().warning('dropped execution_status message: %s' % exc,
                                      throttle_duration_sec=1.0)
            return
        except Exception as exc:  # noqa: BLE001 - a failing meter must not stop the node
            self.get_logger().error('execution_status not accounted, meter read failed: %s: %s'
                                    % (type(exc).__name__, exc), throttle_duration_sec=5.0)
            return
        if record is None:
            return
        try:
            out = record_to_msg(record)
            self._pub_episode.publish(out)
        except Exception as exc:  # noqa: BLE001 - the record is lost, the node goes on
            self.get_logger().error('episode %s: record not published: %s: %s'
                                    % (record.get('episode_id'), type(exc).__name__, exc))
            return
        self.get_logger().info(
            'episode %s: %.2f J in %.2f s (%.2f W), %d steps, success=%s, %s%s' % (
                record['episode_id'], record['joules'], record['duration_s'],
                record['watts_avg'], record['steps'], record['success'], record['source'],
                ' (estimated)' if record['estimated'] else ''))

    def _on_diagnostics(self) -> None:
        now, cpu = time.monotonic(), time.process_time()
        t0, c0 = self._cpu_mark
        if now > t0:
            self._cpu_percent = 100.0 * (cpu - c0) / (now - t0)
        self._cpu_mark = (now, cpu)
        try:
            with self._lock:
                array = self.diagnostics()
            self._pub_diag.publish(array)
        except Exception as exc:  # noqa: BLE001 - a failing read must not stop the node
            if self.context.ok():   # else the node is going down under the timer
                self.get_logger().error('diagnostics not published: %s: %s'
                                        % (type(exc).__name__, exc), throttle_duration_sec=5.0)

    def diagnostics(self) -> DiagnosticArray:
        """Return the diagnostics of the monitor: source, why, power, energy, own CPU use."""
        mon = self._monitor
        snap = mon.last
        errors = mon.errors()
        status = DiagnosticStatus(name='%s: energy' % self.get_name(),
                                  hardware_id='+'.join(mon.meters.sources))
        if self._tick_error:
            status.level = DiagnosticStatus.ERROR
            status.message = self._tick_error
        elif errors:
            status.level = DiagnosticStatus.WARN
            status.message = 'meter read errors: %s' % '; '.join(errors)
        else:
            status.level = DiagnosticStatus.OK
            status.message = '%s %s: %.2f W, %.2f J' % (
                '+'.join(mon.meters.sources),
                'estimated' if snap.estimated else 'measured', snap.watts, snap.joules)
        values = {
            'source': snap.source,
            'sources': ','.join(mon.meters.sources),
            'estimated': str(snap.estimated).lower(),
            'why': '; '.join(mon.meters.reasons),
            'watts': '%.3f' % snap.watts,
            'joules': '%.3f' % snap.joules,
            'rate_hz': '%.2f' % self._params['rate_hz'],
            'reads': str(mon.ticks),
            'episodes_open': str(len(mon.accountant.open_episodes)),
            'episodes_finished': str(mon.accountant.finished),
            'status_dropped': str(mon.malformed),
            'monitor_cpu_percent': '%.2f' % self._cpu_percent,
            'nsvla_processes': str(len(mon.tracker.tracked())),
            'ros_domain': mon.tracker.domain if mon.tracker.domain is not None else 'any',
            'csv_log': self._params['csv_log'],
        }
        for role in ROLES:
            values['joules_%s' % role] = '%.3f' % snap.per_node.get(role, 0.0)
        status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        return array

    def destroy_node(self) -> None:
        """Close the CSV log and the meters, then the node."""
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join(timeout=5.0)
        if self._monitor is not None:
            with self._lock:
                self._monitor.close()
        super().destroy_node()


def main(args: Any = None) -> int:
    """Run the power monitor until Ctrl-C; exit status 2 when it cannot start."""
    return run_node(PowerMonitorNode, NODE_NAME, args, refuse=(ParameterException,))


if __name__ == '__main__':
    sys.exit(main())
