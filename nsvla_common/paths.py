# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Find the package's shared files (config/, models/, launch/) wherever nsvla is installed."""

import os
import sys
from typing import Optional

from nsvla_common.errors import ConfigError

_SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def share_dir() -> str:
    """Return the folder holding config/ and models/: source checkout, colcon or pip install."""
    candidates = [_SOURCE_ROOT]
    try:
        from ament_index_python.packages import get_package_share_directory
        candidates.append(get_package_share_directory('nsvla'))
    except Exception:  # noqa: BLE001 - no ament index (plain pip install): try sys.prefix
        pass
    candidates.append(os.path.join(sys.prefix, 'share', 'nsvla'))
    for cand in candidates:
        if os.path.isdir(os.path.join(cand, 'config')):
            return cand
    raise ConfigError('cannot find the nsvla share folder (looked in %s)' % ', '.join(candidates))


def config_path(name: str) -> str:
    """Return the path of a file in config/; an absolute or existing relative path is kept."""
    if os.path.isabs(name) or os.path.exists(name):
        return name
    path = os.path.join(share_dir(), 'config', name)
    if not os.path.exists(path):
        raise ConfigError('config file %r not found (looked for %s)' % (name, path))
    return path


def model_path(name: str) -> str:
    """Return the path of a file in models/."""
    if os.path.isabs(name) or os.path.exists(name):
        return name
    return os.path.join(share_dir(), 'models', name)


DEFAULT_PARAMS = 'nsvla_params.yaml'


def params_path(path: Optional[str] = None) -> str:
    """Absolute path of the stack-wide parameters YAML (one key per node)."""
    resolved = os.path.abspath(config_path(path or DEFAULT_PARAMS))
    if not os.path.isfile(resolved):
        raise ConfigError('parameters file %s does not exist' % resolved)
    return resolved
