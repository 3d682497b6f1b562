# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Per-episode energy accounting from ``execution_status`` events (pure, no rclpy).

The executor publishes episode events (``nsvla_interfaces/EpisodeEvent``; the node turns each
into the ``nsvla/execution_status/1`` dict with :func:`nsvla_planner.messages.event_from_msg`)
with ``episode_id``, ``event`` (``episode_start``, ``step_start``, ``step_end``, ``replan``,
``recover``, ``episode_end``), ``step``, ``result`` and ``stamp``. :func:`parse_status`
validates one; :class:`EpisodeAccountant` turns the events, each paired with the energy
:class:`EnergySnapshot` taken when it arrived, into one ``nsvla/energy_episode/1`` record per
finished episode: joules in total, per node and per source, duration, steps (with the energy of
each step), replans, success. :mod:`nsvla_energy.messages` turns a record into the
``nsvla_interfaces/EpisodeEnergy`` message and back.
"""

from collections import OrderedDict
from dataclasses import dataclass, field
import json
from typing import Any, Dict, List, Optional

from nsvla_common import envelope
from nsvla_common.errors import ValidationError
from nsvla_planner.messages import EPISODE_EVENTS

STATUS_NAME = 'execution_status'
RECORD_NAME = 'energy_episode'
EVENTS = EPISODE_EVENTS        # ``recover`` is accepted and costs nothing to account
_TRUE_WORDS = {'success', 'succeeded', 'ok', 'done', 'solved', 'goal_reached', 'true'}
_FALSE_WORDS = {'failure', 'failed', 'fail', 'aborted', 'abort', 'cancelled', 'canceled',
                'timeout', 'timed_out', 'error', 'unsolvable', 'false'}


@dataclass
class EnergySnapshot:
    """Cumulative energy at one instant, as the monitor saw it."""

    t: float                                   # monotonic seconds since the monitor started
    stamp: float                               # wall-clock seconds since the epoch
    source: str                                # primary source: nvml, rapl or estimate
    estimated: bool
    joules: float                              # all sources, since the monitor started
    watts: float                               # all sources, over the last interval
    per_node: Dict[str, float] = field(default_factory=dict)        # joules per role
    per_node_watts: Dict[str, float] = field(default_factory=dict)  # watts per role
    sources: Dict[str, Dict[str, Any]] = field(default_factory=dict)  # name -> reading dict

    def source_joules(self) -> Dict[str, float]:
        """Return joules since start per source."""
        return {name: float(r.get('joules', 0.0)) for name, r in self.sources.items()}


def parse_status(text: Any) -> Dict[str, Any]:
    """Validate one ``execution_status`` message (JSON text or dict); raise ValidationError."""
    data = envelope.parse(text, STATUS_NAME)
    episode = data.get('episode_id')
    if isinstance(episode, bool) or not isinstance(episode, (str, int)) or episode == '':
        raise ValidationError('episode_id must be a non-empty string, got %r' % (episode,))
    event = data.get('event')
    if event not in EVENTS:
        raise ValidationError('event is %r, expected one of %s' % (event, ', '.join(EVENTS)))
    step = data.get('step')
    if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
        raise ValidationError('step must be an integer or null, got %r' % (step,))
    success = data.get('success')
    if success is not None and not isinstance(success, bool):
        raise ValidationError('success must be true, false or null, got %r' % (success,))
    out = dict(data)
    out['episode_id'] = str(episode)
    return out


def success_of(status: Dict[str, Any]) -> Optional[bool]:
    """Return the episode outcome from ``success`` or ``result`` (bool, word, or object)."""
    if isinstance(status.get('success'), bool):
        return status['success']
    result = status.get('result')
    if isinstance(result, bool):
        return result
    if isinstance(result, dict):
        for key in ('success', 'solved', 'ok'):
            if isinstance(result.get(key), bool):
                return result[key]
        result = result.get('status', result.get('result'))
    if isinstance(result, str):
        word = result.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    return None


def result_text(result: Any) -> str:
    """Return a result as short text for logs and CSV ('' for None)."""
    if result is None:
        return ''
    if isinstance(result, str):
        return result
    return json.dumps(result, sort_keys=True, separators=(',', ':'))


class _Episode:
    def __init__(self, episode_id: str, snap: EnergySnapshot) -> None:
        self.episode_id = episode_id
        self.start = snap
        self.steps = 0
        self.replans = 0
        self.open_steps: 'OrderedDict[Any, EnergySnapshot]' = OrderedDict()
        self.per_step: List[Dict[str, Any]] = []


def _diff(new: Dict[str, float], old: Dict[str, float]) -> Dict[str, float]:
    keys = sorted(set(new) | set(old))
    return {k: float(new.get(k, 0.0)) - float(old.get(k, 0.0)) for k in keys}


class EpisodeAccountant:
    """
    Open episodes by id; ``handle(status, snapshot)`` returns a record at ``episode_end``.

    Episodes may overlap (keyed by ``episode_id``). At most ``max_open`` stay open: the oldest is
    dropped (counted in ``dropped``) when an executor never ended it. Events that do not fit
    (an end without a start, a second start) raise ValidationError: the caller logs and drops.
    """

    def __init__(self, max_open: int = 16, max_steps: int = 10000) -> None:
        self.max_open = int(max_open)
        self.max_steps = int(max_steps)
        self._open: 'OrderedDict[str, _Episode]' = OrderedDict()
        self.finished = 0
        self.dropped = 0

    @property
    def open_episodes(self) -> List[str]:
        """Return the ids of the episodes started and not yet ended."""
        return list(self._open)

    def handle(self, status: Dict[str, Any], snap: EnergySnapshot) -> Optional[Dict[str, Any]]:
        """Account one parsed status event; return the episode record at ``episode_end``."""
        episode_id = str(status['episode_id'])
        event = status['event']
        if event == 'episode_start':
            if episode_id in self._open:
                raise ValidationError('episode %r started twice; keeping the first start'
                                      % episode_id)
            self._open[episode_id] = _Episode(episode_id, snap)
            while len(self._open) > self.max_open:
                self._open.popitem(last=False)
                self.dropped += 1
            return None
        ep = self._open.get(episode_id)
        if ep is None:
            raise ValidationError('%s for unknown episode %r (no episode_start seen)'
                                  % (event, episode_id))
        step = status.get('step')
        if event == 'step_start':
            ep.open_steps[step] = snap
        elif event == 'step_end':
            ep.steps += 1
            begun = ep.open_steps.pop(step, None)
            if begun is None and step is None and ep.open_steps:
                _key, begun = ep.open_steps.popitem(last=True)
            if begun is not None and len(ep.per_step) < self.max_steps:
                ep.per_step.append({
                    'step': step, 'joules': snap.joules - begun.joules,
                    'duration_s': snap.t - begun.t, 'result': status.get('result'),
                    'joules_per_node': _diff(snap.per_node, begun.per_node)})
        elif event == 'replan':
            ep.replans += 1
        elif event == 'episode_end':
            del self._open[episode_id]
            self.finished += 1
            return make_record(ep, snap, status)
        return None


def make_record(ep: _Episode, end: EnergySnapshot, status: Dict[str, Any]) -> Dict[str, Any]:
    """Build the ``nsvla/energy_episode/1`` record of a finished episode."""
    start = ep.start
    joules = end.joules - start.joules
    duration = end.t - start.t
    return envelope.make(RECORD_NAME, {
        'episode_id': ep.episode_id,
        'joules': joules,
        'joules_per_node': _diff(end.per_node, start.per_node),
        'joules_per_source': _diff(end.source_joules(), start.source_joules()),
        'duration_s': duration,
        'watts_avg': joules / duration if duration > 0 else 0.0,
        'steps': ep.steps,
        'replans': ep.replans,
        'per_step': ep.per_step,
        'success': success_of(status),
        'result': status.get('result'),
        'source': end.source,
        'estimated': end.estimated,
        'start_stamp': start.stamp,
        'end_stamp': end.stamp,
    }, stamp=end.stamp)


def parse_record(text: Any) -> Dict[str, Any]:
    """Validate an ``nsvla/energy_episode/1`` record (JSON text or dict)."""
    data = envelope.parse(text, RECORD_NAME)
    for key in ('joules', 'duration_s'):
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError('%s must be a number, got %r' % (key, value))
    return data
