# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
One message of a bag turned into what the replay evaluation works on.

Every role a topic plays in the evaluation (ground truth, perception states, plans, episode
events, energy records, the old goal instruction) comes either as its typed
``nsvla_interfaces`` message (bags recorded since the switch) or as JSON in a
``std_msgs/String`` (bags recorded before). :func:`decode` dispatches on the connection's
message type; both forms give the same objects and follow the same rules: typed fields through
:mod:`nsvla_planner.messages` and :mod:`nsvla_energy.messages`, JSON through the schema readers
the nodes use.

=========  ==========================  ==================================================
role       typed message               result
=========  ==========================  ==================================================
truth      SymbolicState               :class:`~nsvla_planner.state.SymbolicState`
state      SymbolicState               :class:`~nsvla_planner.state.SymbolicState`
plan       Plan                        the goal planned for (a goal dict) or None
status     EpisodeEvent                the event dict (``nsvla/execution_status/1``)
energy     EnergyReading               the ``nsvla/energy/1`` record
episode    EpisodeEnergy               the ``nsvla/energy_episode/1`` record
goal       (String only: old bags)     the instruction text
=========  ==========================  ==================================================

Messages are plain attribute objects (rosbags' ``deserialize_cdr`` or rclpy's): nothing here
needs rclpy. Whatever is wrong raises :class:`~nsvla_common.errors.ValidationError`.
"""

import json
from typing import Any, Callable, Dict, Tuple

from nsvla_common import envelope
from nsvla_common.errors import NsvlaError, ValidationError
from nsvla_energy import messages as energy_messages
from nsvla_energy.episodes import parse_record, parse_status
from nsvla_energy.monitor import ENERGY_NAME
from nsvla_eval.recorder import TOPIC_TYPES
from nsvla_planner import messages
from nsvla_planner.state import SymbolicState

CAMERA_TOPIC = 'camera/image_raw'
TRUTH_TOPIC = 'sim/ground_truth'
STATE_TOPIC = 'symbolic_state'
PLAN_TOPIC = 'plan'
STATUS_TOPIC = 'execution_status'
ENERGY_TOPIC = 'energy'
EPISODE_ENERGY_TOPIC = 'energy/episode'
GOAL_TOPIC = 'goal'            # gone since goals travel in actions; old bags have it
IMAGE_TYPE = TOPIC_TYPES[CAMERA_TOPIC]
STRING_TYPE = 'std_msgs/msg/String'

# role -> the topic it is read from by default
ROLE_TOPICS: Dict[str, str] = {
    'truth': TRUTH_TOPIC, 'state': STATE_TOPIC, 'plan': PLAN_TOPIC, 'status': STATUS_TOPIC,
    'energy': ENERGY_TOPIC, 'episode': EPISODE_ENERGY_TOPIC, 'goal': GOAL_TOPIC}


def _text(msg: Any) -> str:
    data = msg.data
    return data.decode('utf-8', 'replace') if isinstance(data, (bytes, bytearray)) else str(data)


# ----------------------------------------------------------------------------- JSON (old bags)
def _plan_goal_json(text: str) -> Any:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValidationError('a plan must be a JSON object')
    return data['goal'] if isinstance(data.get('goal'), dict) else None


_JSON: Dict[str, Callable[[str], Any]] = {
    'truth': SymbolicState.from_json,
    'state': SymbolicState.from_json,
    'plan': _plan_goal_json,
    'status': parse_status,
    'energy': lambda text: envelope.parse(text, ENERGY_NAME),
    'episode': parse_record,
    'goal': lambda text: text,
}


# ----------------------------------------------------------------------------- typed messages
def _plan_goal(msg: Any) -> Any:
    messages.plan_from_msg(msg)          # validates the plan itself
    return messages.goal_from_msg(msg.goal).to_dict() if msg.goal.facts else None


# role -> (typed message type, reader)
_TYPED: Dict[str, Tuple[str, Callable[[Any], Any]]] = {
    'truth': (TOPIC_TYPES[TRUTH_TOPIC], messages.state_from_msg),
    'state': (TOPIC_TYPES[STATE_TOPIC], messages.state_from_msg),
    'plan': (TOPIC_TYPES[PLAN_TOPIC], _plan_goal),
    'status': (TOPIC_TYPES[STATUS_TOPIC], messages.event_from_msg),
    'energy': (TOPIC_TYPES[ENERGY_TOPIC], energy_messages.energy_from_msg),
    'episode': (TOPIC_TYPES[EPISODE_ENERGY_TOPIC], energy_messages.record_from_msg),
}


def role_types(role: str) -> Tuple[str, ...]:
    """Return the message types ``role`` may come as: the typed one, then the old String."""
    typed = _TYPED.get(role)
    return ((typed[0],) if typed else ()) + (STRING_TYPE,)


def decode(role: str, msgtype: str, msg: Any) -> Any:
    """
    Return what one deserialised message of ``role`` means (see the table above).

    ``msgtype`` is the bag connection's type: the String's JSON or the typed fields are read
    accordingly. Raises ValidationError naming what is wrong.
    """
    if role not in ROLE_TOPICS:
        raise ValueError('unknown role %r' % role)
    if msgtype == STRING_TYPE:
        reader: Callable[[Any], Any] = _JSON[role]
        arg: Any = _text(msg)
    elif role in _TYPED and msgtype == _TYPED[role][0]:
        reader, arg = _TYPED[role][1], msg
    else:
        raise ValidationError('%s messages must be %s, not %s'
                              % (role, ' or '.join(role_types(role)), msgtype))
    try:
        return reader(arg)
    except ValidationError:
        raise
    except NsvlaError as exc:
        raise ValidationError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - outside input: any failure is a rejection
        raise ValidationError('malformed %s message: %s: %s'
                              % (role, type(exc).__name__, exc)) from None
