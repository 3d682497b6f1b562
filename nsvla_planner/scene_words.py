# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Words a scene gives the instruction parser: the colour name of each block."""

from typing import Dict

import yaml

from nsvla_common.errors import ConfigError
from nsvla_common.paths import config_path


def colours_from_spec(spec: Dict, num_blocks: int) -> Dict[str, str]:
    """Return ``{colour word: block name}`` from ``blocks.colour_names`` (b1 first) of a spec."""
    blocks = spec.get('blocks', {}) if isinstance(spec, dict) else {}
    entries = blocks.get('colour_names', []) if isinstance(blocks, dict) else []
    if not isinstance(entries, list):
        raise ConfigError('scene blocks.colour_names must be a list of words, got %r' % entries)
    out: Dict[str, str] = {}
    for i, name in enumerate(entries[:num_blocks], 1):
        if not isinstance(name, str) or not name.isalpha():
            raise ConfigError('scene colour #%d must have a one-word name, got %r' % (i, name))
        if name.lower() in out:
            raise ConfigError('scene colour %r is used twice' % name)
        out[name.lower()] = 'b%d' % i
    return out


def colours_from_scene(path: str, num_blocks: int, missing_ok: bool = False) -> Dict[str, str]:
    """Load a scene YAML and return its colour words; ``{}`` when missing and ``missing_ok``."""
    try:
        with open(config_path(path)) as f:
            spec = yaml.safe_load(f) or {}
    except (ConfigError, OSError) as exc:
        if missing_ok:
            return {}
        raise ConfigError('cannot read scene config %s: %s' % (path, exc)) from None
    except yaml.YAMLError as exc:
        raise ConfigError('scene config %s is not valid YAML: %s' % (path, exc)) from None
    return colours_from_spec(spec, num_blocks)
