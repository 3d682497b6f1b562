# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Perception settings read from ``config/perception.yaml`` (schema ``nsvla/perception/1``).

Every key is optional: a missing file section keeps the defaults below, which are those shipped
in the YAML. Unknown keys and values of the wrong type or out of range raise ConfigError.
"""

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping, Optional

import yaml

from nsvla_common.errors import ConfigError
from nsvla_common.paths import config_path

PERCEPTION_SCHEMA = 'nsvla/perception/1'
DEFAULT_SETTINGS = 'perception.yaml'


@dataclass(frozen=True)
class ClassicSettings:
    """Thresholds of the colour-segmentation backend (see config/perception.yaml)."""

    min_saturation: float = 70.0
    min_value: float = 40.0
    hue_scale: float = 6.0
    saturation_scale: float = 60.0
    max_colour_distance: float = 2.5
    roi_margin: float = 0.03
    open_kernel: int = 3
    min_visible: float = 0.12
    full_visible: float = 0.30
    column_sigma: float = 0.03
    column_ok: float = 0.015
    column_max: float = 0.035
    level_tolerance: float = 1.5


@dataclass(frozen=True)
class LearnedSettings:
    """Input geometry of the network backend (fixed at training time, stored in the model)."""

    crop_width: int = 48
    crop_height: int = 64
    crop_margin: float = 0.015
    max_blocks: int = 6


@dataclass(frozen=True)
class EnergySettings:
    """The CPU energy estimate used where no meter exists."""

    watts_per_core: float = 10.0


@dataclass(frozen=True)
class PerceptionSettings:
    """All perception settings."""

    classic: ClassicSettings = field(default_factory=ClassicSettings)
    learned: LearnedSettings = field(default_factory=LearnedSettings)
    energy: EnergySettings = field(default_factory=EnergySettings)
    source: str = '<defaults>'


def _section(cls, raw: Any, where: str):
    if raw is None:
        return cls()
    if not isinstance(raw, Mapping):
        raise ConfigError('%s must be a mapping, got %r' % (where, raw))
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError('%s.%s is not a known setting (known: %s)'
                              % (where, key, ', '.join(sorted(known))))
        default = getattr(cls(), key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError('%s.%s must be a number, got %r' % (where, key, value))
        if not math.isfinite(value) or value < 0:
            raise ConfigError('%s.%s must be a finite number >= 0, got %r' % (where, key, value))
        if isinstance(default, int) and not isinstance(default, bool):
            if int(value) != value or value < 1:
                raise ConfigError('%s.%s must be a positive integer, got %r'
                                  % (where, key, value))
            value = int(value)
        values[key] = type(default)(value)
    return replace(cls(), **values)


def settings_from_dict(data: Mapping[str, Any], source: str = '<dict>') -> PerceptionSettings:
    """Validate a settings mapping (the YAML content)."""
    if not isinstance(data, Mapping):
        raise ConfigError('perception settings %s: expected a mapping' % source)
    if data.get('schema', PERCEPTION_SCHEMA) != PERCEPTION_SCHEMA:
        raise ConfigError('perception settings %s: schema is %r, expected %r'
                          % (source, data.get('schema'), PERCEPTION_SCHEMA))
    extra = set(data) - {'schema', 'classic', 'learned', 'energy'}
    if extra:
        raise ConfigError('perception settings %s: unknown section(s) %s'
                          % (source, ', '.join(sorted(extra))))
    out = PerceptionSettings(
        classic=_section(ClassicSettings, data.get('classic'), 'classic'),
        learned=_section(LearnedSettings, data.get('learned'), 'learned'),
        energy=_section(EnergySettings, data.get('energy'), 'energy'),
        source=source)
    c = out.classic
    if not c.min_visible < c.full_visible <= 1.0:
        raise ConfigError('classic: need min_visible < full_visible <= 1')
    if not c.column_ok < c.column_max:
        raise ConfigError('classic: need column_ok < column_max')
    return out


def load_settings(name: Optional[str] = DEFAULT_SETTINGS) -> PerceptionSettings:
    """Read settings from a file in config/ or a path; an empty name gives the defaults."""
    if not name:
        return PerceptionSettings()
    path = config_path(name)
    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError('cannot read perception settings %s: %s' % (path, exc)) from None
    return settings_from_dict(data, source=path)
