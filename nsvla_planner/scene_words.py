# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Words a scene gives the instruction parser: the colour name of each block."""

from typing import Dict

import yaml

from nsvla_common.errors import ConfigError
from nsvla_common.paths import config_path


def colours_from_spec(spec: Dict, num_blocks: int) -> Dict[str, str]:
    """``{colour word: block name}`` from a scene spec (``blocks.colours``: list, b1 first)."""
    blocks = spec.get('blocks', {}) if isinstance(spec, dict) else {}
    entries = blocks.get('colours', []) if isinstance(blocks, dict) else []
    out: Dict[str, str] = {}
    for i, entry in enumerate(entries[:num_blocks], 1):
        name = entry.get('name') if isinstance(entry, dict) else entry
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
