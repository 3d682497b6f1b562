# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
One way to describe, declare, read and validate parameters, for nodes and for plain code.

A node's parameters are a tuple of :class:`Param`. The node declares them all at once with
:func:`declare` (``declare_parameters`` with descriptors: description, range, read-only) and
reads them back validated; a benchmark or test that runs the same logic without ROS reads the
same values from the stack-wide params YAML with :func:`load_yaml` and validates them with
:func:`resolve`. Both refuse an out-of-range or unknown value with one line naming it.
"""

import math
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple

import yaml

from nsvla_common.errors import ConfigError


@dataclass(frozen=True)
class Param:
    """One parameter: default (its type is the parameter's type), description, bounds."""

    name: str
    default: Any
    description: str
    low: Optional[float] = None
    high: Optional[float] = None
    read_only: bool = False
    choices: Tuple[str, ...] = ()

    def check(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type; ConfigError when it is wrong."""
        kind = type(self.default)
        if kind is bool:
            if not isinstance(value, bool):
                raise ConfigError('parameter %s must be true or false, got %r'
                                  % (self.name, value))
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError('parameter %s must be an integer, got %r' % (self.name, value))
        elif kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(float(value)):
                raise ConfigError('parameter %s must be a number, got %r' % (self.name, value))
            value = float(value)
        elif kind is str:
            if not isinstance(value, str):
                raise ConfigError('parameter %s must be a string, got %r' % (self.name, value))
        if self.low is not None and value < self.low or \
                self.high is not None and value > self.high:
            raise ConfigError('parameter %s = %r is out of range [%s, %s]'
                              % (self.name, value, self.low, self.high))
        if self.choices and value not in self.choices:
            raise ConfigError('parameter %s = %r: choose one of %s'
                              % (self.name, value, ', '.join(self.choices)))
        return value

    def descriptor(self) -> Any:
        """Return the rcl_interfaces ParameterDescriptor (description, range, read-only)."""
        from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
        text = self.description
        if self.choices:
            text += ' (one of: %s)' % ', '.join(self.choices)
        desc = ParameterDescriptor(description=text, read_only=self.read_only)
        if self.low is not None and self.high is not None:
            if type(self.default) is int:
                desc.integer_range = [IntegerRange(from_value=int(self.low),
                                                   to_value=int(self.high), step=1)]
            elif type(self.default) is float:
                desc.floating_point_range = [FloatingPointRange(from_value=float(self.low),
                                                                to_value=float(self.high))]
        return desc


def resolve(params: Sequence[Param], values: Optional[Mapping[str, Any]] = None,
            strict: bool = True) -> Dict[str, Any]:
    """
    Defaults overridden by ``values``, each validated; ConfigError on a bad or unknown one.

    ``strict`` refuses names that are not parameters of this set (a typo in the YAML), except
    the ROS-wide ``use_sim_time``.
    """
    known = {p.name: p for p in params}
    out = {p.name: p.default for p in params}
    for name, value in (values or {}).items():
        if name not in known:
            if strict and name != 'use_sim_time':
                raise ConfigError('unknown parameter %r (known: %s)'
                                  % (name, ', '.join(sorted(known))))
            continue
        out[name] = known[name].check(value)
    return out


def declare(node: Any, params: Sequence[Param]) -> Dict[str, Any]:
    """Declare ``params`` on ``node`` with descriptors; return the validated values."""
    node.declare_parameters('', [(p.name, p.default, p.descriptor()) for p in params])
    values = {p.name: node.get_parameter(p.name).value for p in params}
    return resolve(params, values)


def load_yaml(path: str, node_name: str) -> Dict[str, Any]:
    """
    Return the ``ros__parameters`` of ``node_name`` in a params YAML (``/**/name`` or ``name``).

    Wildcard keys (``/**``) and the node's own key are merged, the node's own last.
    """
    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError('cannot read parameters file %s: %s' % (path, exc)) from None
    if not isinstance(data, dict):
        raise ConfigError('parameters file %s is not a mapping of node names' % path)
    out: Dict[str, Any] = {}
    for key in ('/**', '**', '/**/' + node_name, node_name, '/' + node_name):
        block = data.get(key)
        if isinstance(block, dict):
            section = block.get('ros__parameters', {})
            if not isinstance(section, dict):
                raise ConfigError('%s: %s.ros__parameters is not a mapping' % (path, key))
            out.update(section)
    return out


def node_keys(path: str) -> Iterable[str]:
    """Return the node names that have a key in a params YAML (``/**/planner`` -> ``planner``)."""
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    return [str(k).rsplit('/', 1)[-1] for k in data]
