# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""JSON envelopes: every nsvla JSON payload carries ``schema`` and ``stamp``."""

import json
import time
from typing import Any, Dict, Optional

from nsvla_common.errors import ValidationError

SCHEMA_PREFIX = 'nsvla/'


def schema_name(name: str, version: int = 1) -> str:
    """Return the schema string ``nsvla/<name>/<version>``."""
    return '%s%s/%d' % (SCHEMA_PREFIX, name, version)


def make(name: str, body: Dict[str, Any], version: int = 1,
         stamp: Optional[float] = None) -> Dict[str, Any]:
    """Wrap ``body`` with its schema name and a stamp (seconds since the epoch by default)."""
    out = {'schema': schema_name(name, version),
           'stamp': float(time.time() if stamp is None else stamp)}
    out.update(body)
    return out


def parse(text: Any, name: str, version: int = 1) -> Dict[str, Any]:
    """Parse JSON text (or accept a dict) and check its ``schema`` field; raise ValidationError."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode('utf-8', errors='replace')
    if isinstance(text, str):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError('malformed JSON (%s at line %d column %d)'
                                  % (exc.msg, exc.lineno, exc.colno)) from None
    else:
        data = text
    if not isinstance(data, dict):
        raise ValidationError('expected a JSON object, got %s' % type(data).__name__)
    want = schema_name(name, version)
    got = data.get('schema')
    if got != want:
        raise ValidationError('schema is %r, expected %r' % (got, want))
    stamp = data.get('stamp', 0.0)
    if not isinstance(stamp, (int, float)) or isinstance(stamp, bool):
        raise ValidationError('stamp must be a number of seconds, got %r' % (stamp,))
    return data


def dumps(data: Dict[str, Any]) -> str:
    """Serialise compactly with sorted keys (stable for bags and tests)."""
    return json.dumps(data, sort_keys=True, separators=(',', ':'))
