# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Conversions between the power monitor's dicts and the ``nsvla_interfaces`` energy messages.

The monitor's logic keeps producing the dicts it always did (``PowerMonitor.power_message``,
``PowerMonitor.energy_message``, :func:`~nsvla_energy.episodes.make_record`); the node publishes
them as ``PowerReading`` (``power``), ``EnergyReading`` (``energy``) and ``EpisodeEnergy``
(``energy/episode``). Each ``*_from_msg`` gives back the dict a client of the JSON topics read:
``record_from_msg(msg)`` is the ``nsvla/energy_episode/1`` record the monitor built.

Named numbers (joules or watts per node role, per source) travel as ``NamedValue[]``: the node
roles in the order of :data:`~nsvla_energy.attribution.ROLES`, other names after them by name;
sources in the order of the dict (the primary meter first).

What the messages do not carry: the ``parts`` of a source (GPUs, RAPL zones) in ``energy``; a
null ``success`` other than through ``result`` (a record whose result is a known outcome word
gets its success back from the flag, any other record null unless the flag is true, see
:func:`record_from_msg`); a result that is not text (an object in an old JSON record) travels
as its JSON text.

Needs the generated ``nsvla_interfaces`` Python package, not ``rclpy.init``.
"""

from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence

from nsvla_common import envelope
from nsvla_common.errors import ValidationError
from nsvla_energy.attribution import ROLES
from nsvla_energy.episodes import parse_record, RECORD_NAME, result_text, success_of
from nsvla_energy.monitor import ENERGY_NAME, POWER_NAME
from nsvla_planner.messages import stamp_to_time, time_to_stamp


def _guard(what: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run a conversion; any failure becomes a ValidationError naming ``what``."""
    try:
        return fn(*args)
    except ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - a message from outside: any failure is a refusal
        raise ValidationError('%s is malformed: %s: %s'
                              % (what, type(exc).__name__, exc)) from None


# ----------------------------------------------------------------------------- named values
def _ordered(names: Iterable[str], first: Sequence[str]) -> List[str]:
    names = list(names)
    known = [n for n in first if n in names]
    return known + sorted(n for n in names if n not in first)


def named_values(values: Optional[Mapping[str, Any]],
                 order: Optional[Sequence[str]] = ROLES) -> List[Any]:
    """
    Turn ``{name: number}`` into NamedValue[].

    Names of ``order`` come first, in that order, then the others by name; ``order=None``
    keeps the mapping's own order.
    """
    from nsvla_interfaces.msg import NamedValue
    if not values:
        return []
    names = list(values) if order is None else _ordered(values, order)
    return [NamedValue(name=str(n), value=float(values[n])) for n in names]


def named_dict(values: Sequence[Any]) -> Dict[str, float]:
    """Return ``{name: number}`` of a NamedValue[], in the message's order."""
    return {v.name: float(v.value) for v in values}


def _header(msg: Any, stamp: Any) -> None:
    msg.header.stamp = stamp_to_time(stamp if isinstance(stamp, (int, float))
                                     and not isinstance(stamp, bool) else None)


def _source_readings(sources: Optional[Mapping[str, Mapping[str, Any]]],
                     joules: Optional[Mapping[str, float]] = None) -> List[Any]:
    from nsvla_interfaces.msg import SourceReading
    out = []
    for name, r in (sources or {}).items():
        j = r.get('joules', 0.0) if joules is None else joules.get(name, 0.0)
        out.append(SourceReading(name=str(name), estimated=bool(r.get('estimated', False)),
                                 watts=float(r.get('watts', 0.0)), joules=float(j)))
    return out


# ----------------------------------------------------------------------------- power
def power_to_msg(power: Mapping[str, Any],
                 source_joules: Optional[Mapping[str, float]] = None) -> Any:
    """
    Turn the ``nsvla/power/1`` dict into a PowerReading.

    The dict has no joules per source; ``source_joules`` (``EnergySnapshot.source_joules()``)
    fills ``sources[].joules`` when given, else they are 0.
    """
    from nsvla_interfaces.msg import PowerReading
    msg = PowerReading(source=str(power.get('source', '')),
                       estimated=bool(power.get('estimated', False)),
                       watts=float(power.get('watts', 0.0)))
    _header(msg, power.get('stamp'))
    msg.sources = _source_readings(power.get('sources'), source_joules or {})
    msg.per_node = named_values(power.get('per_node'))
    return msg


def _power_from_msg(msg: Any) -> Dict[str, Any]:
    return envelope.make(POWER_NAME, {
        'source': msg.source, 'estimated': bool(msg.estimated), 'watts': float(msg.watts),
        'sources': {s.name: {'watts': float(s.watts), 'estimated': bool(s.estimated)}
                    for s in msg.sources},
        'per_node': named_dict(msg.per_node),
    }, stamp=time_to_stamp(msg.header.stamp))


def power_from_msg(msg: Any) -> Dict[str, Any]:
    """Return the ``nsvla/power/1`` dict of a PowerReading; ValidationError if malformed."""
    return _guard('power reading', _power_from_msg, msg)


# ----------------------------------------------------------------------------- energy
def energy_to_msg(energy: Mapping[str, Any]) -> Any:
    """Turn the ``nsvla/energy/1`` dict into an EnergyReading (the ``parts`` stay behind)."""
    from nsvla_interfaces.msg import EnergyReading
    msg = EnergyReading(source=str(energy.get('source', '')),
                        estimated=bool(energy.get('estimated', False)),
                        joules=float(energy.get('joules', 0.0)),
                        watts=float(energy.get('watts', 0.0)),
                        elapsed_s=float(energy.get('elapsed_s', 0.0)),
                        why=[str(w) for w in energy.get('why') or ()])
    _header(msg, energy.get('stamp'))
    msg.sources = _source_readings(energy.get('sources'))
    msg.per_node = named_values(energy.get('per_node'))
    return msg


def _energy_from_msg(msg: Any) -> Dict[str, Any]:
    return envelope.make(ENERGY_NAME, {
        'source': msg.source, 'estimated': bool(msg.estimated), 'joules': float(msg.joules),
        'watts': float(msg.watts), 'elapsed_s': float(msg.elapsed_s),
        'sources': {s.name: {'source': s.name, 'joules': float(s.joules),
                             'watts': float(s.watts), 'estimated': bool(s.estimated)}
                    for s in msg.sources},
        'per_node': named_dict(msg.per_node),
        'why': list(msg.why),
    }, stamp=time_to_stamp(msg.header.stamp))


def energy_from_msg(msg: Any) -> Dict[str, Any]:
    """Return the ``nsvla/energy/1`` dict of an EnergyReading, without the sources' parts."""
    return _guard('energy reading', _energy_from_msg, msg)


# ----------------------------------------------------------------------------- episode records
def _step_to_msg(step: Mapping[str, Any]) -> Any:
    from nsvla_interfaces.msg import StepEnergy
    index = step.get('step')
    return StepEnergy(
        step=int(index) if isinstance(index, int) and not isinstance(index, bool) else -1,
        joules=float(step.get('joules', 0.0)), duration_s=float(step.get('duration_s', 0.0)),
        result=result_text(step.get('result')),
        joules_per_node=named_values(step.get('joules_per_node')))


def _step_from_msg(msg: Any) -> Dict[str, Any]:
    return {'step': int(msg.step) if msg.step >= 0 else None, 'joules': float(msg.joules),
            'duration_s': float(msg.duration_s), 'result': msg.result or None,
            'joules_per_node': named_dict(msg.joules_per_node)}


def record_to_msg(record: Mapping[str, Any]) -> Any:
    """
    Turn an ``nsvla/energy_episode/1`` record into an EpisodeEnergy.

    The record is what :func:`~nsvla_energy.episodes.make_record` builds. ``success`` null
    (no known outcome) travels as false, ``result`` null as ''.
    """
    from nsvla_interfaces.msg import EpisodeEnergy
    msg = EpisodeEnergy(
        episode_id=str(record['episode_id']), joules=float(record['joules']),
        duration_s=float(record['duration_s']), watts_avg=float(record.get('watts_avg', 0.0)),
        steps=int(record.get('steps', 0)), replans=int(record.get('replans', 0)),
        success=record.get('success') is True, result=result_text(record.get('result')),
        source=str(record.get('source', '')), estimated=bool(record.get('estimated', False)),
        start_stamp=float(record.get('start_stamp', 0.0)),
        end_stamp=float(record.get('end_stamp', 0.0)))
    _header(msg, record.get('stamp'))
    msg.joules_per_node = named_values(record.get('joules_per_node'))
    msg.joules_per_source = named_values(record.get('joules_per_source'), order=None)
    msg.per_step = [_step_to_msg(s) for s in record.get('per_step') or ()]
    return msg


def _record_from_msg(msg: Any) -> Dict[str, Any]:
    if not msg.episode_id:
        raise ValidationError('energy record has no episode_id')
    known = success_of({'result': msg.result}) is not None
    return parse_record(envelope.make(RECORD_NAME, {
        'episode_id': msg.episode_id,
        'joules': float(msg.joules),
        'joules_per_node': named_dict(msg.joules_per_node),
        'joules_per_source': named_dict(msg.joules_per_source),
        'duration_s': float(msg.duration_s),
        'watts_avg': float(msg.watts_avg),
        'steps': int(msg.steps),
        'replans': int(msg.replans),
        'per_step': [_step_from_msg(s) for s in msg.per_step],
        'success': bool(msg.success) if msg.success or known else None,
        'result': msg.result or None,
        'source': msg.source,
        'estimated': bool(msg.estimated),
        'start_stamp': float(msg.start_stamp),
        'end_stamp': float(msg.end_stamp),
    }, stamp=time_to_stamp(msg.header.stamp)))


def record_from_msg(msg: Any) -> Dict[str, Any]:
    """
    Return the ``nsvla/energy_episode/1`` record an EpisodeEnergy was built from.

    ``success`` is true when the message says so, false when it says false and its ``result``
    is a known outcome word (solved, failed, cancelled ...), else null (no known outcome).
    Raise ValidationError for a message that is not a record.
    """
    return _guard('energy record', _record_from_msg, msg)
