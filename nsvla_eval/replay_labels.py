# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Truth from a labels file, for bags without a ground-truth topic (``nsvla replay-eval --labels``).

A label gives the state at a frame index or from a stamp on; see :func:`parse_labels`.
"""

from dataclasses import dataclass, field
import json
from typing import Any, Dict, List, Optional, Tuple

from nsvla_common.errors import NsvlaError, ValidationError
from nsvla_eval.replay_bag import Truth
from nsvla_planner.state import SymbolicState


def _label_state(value: Any, num_blocks: Optional[int], num_pegs: int,
                 where: str) -> Optional[SymbolicState]:
    if value is None or value == 'unknown':
        return None
    if not isinstance(value, dict):
        raise ValidationError('%s: a label must be a state object, stacks or null' % where)
    if 'schema' in value:
        return SymbolicState.from_json(value)
    stacks = value.get('stacks', value)
    if not isinstance(stacks, dict) or not all(
            isinstance(k, str) and isinstance(v, list) for k, v in stacks.items()):
        raise ValidationError('%s: stacks must map pegs to lists of blocks, got %r'
                              % (where, stacks))
    n = sum(len(v) for v in stacks.values())
    if num_blocks is not None and n != num_blocks:
        raise ValidationError('%s: %d blocks in the label, the bag has %d'
                              % (where, n, num_blocks))
    try:
        return SymbolicState.from_stacks(stacks, n, num_pegs, source='label')
    except NsvlaError as exc:
        raise ValidationError('%s: %s' % (where, exc)) from None


@dataclass
class Labels:
    """Truth from a labels file: per frame index and/or from stamps on."""

    by_frame: Dict[int, Optional[SymbolicState]] = field(default_factory=dict)
    by_stamp: List[Truth] = field(default_factory=list)
    source: str = ''


def parse_labels(data: Any, num_blocks: Optional[int] = None, num_pegs: int = 3,
                 source: str = 'labels') -> Labels:
    """
    Read labels: frame index or stamp -> state.

    Accepted forms: ``{"frames": {"0": S}, "stamps": {"1.5": S}}``; a flat object whose
    integer keys are frame indices and other numeric keys stamps (seconds); or a list of
    ``{"frame": i, "state": S}`` / ``{"stamp": t, "state": S}``. ``S`` is a symbolic_state
    object, a stacks object ``{"p1": ["b3", "b2", "b1"], ...}`` (bottom first) or null (the
    state is not known at that frame). A stamp label holds from its stamp to the next one.
    """
    labels = Labels(source=source)
    entries: List[Tuple[str, Any, Any]] = []
    if isinstance(data, list):
        for i, item in enumerate(data):
            if not isinstance(item, dict) or not ('frame' in item or 'stamp' in item):
                raise ValidationError('label %d must be {"frame": i or "stamp": t, "state": S}'
                                      % i)
            kind = 'frame' if 'frame' in item else 'stamp'
            entries.append((kind, item[kind], item.get('state', item.get('stacks'))))
    elif isinstance(data, dict):
        if 'frames' in data or 'stamps' in data:
            for kind, key in (('frame', 'frames'), ('stamp', 'stamps')):
                part = data.get(key, {})
                if not isinstance(part, dict):
                    raise ValidationError('"%s" must be an object' % key)
                entries += [(kind, k, v) for k, v in part.items()]
        else:
            for k, v in data.items():
                kind = 'frame' if str(k).strip().lstrip('-').isdigit() else 'stamp'
                entries.append((kind, k, v))
    else:
        raise ValidationError('labels must be a JSON object or list, got %s'
                              % type(data).__name__)
    for kind, key, value in entries:
        where = 'label %s %s' % (kind, key)
        try:
            number = int(key) if kind == 'frame' else float(key)
        except (TypeError, ValueError):
            raise ValidationError('%s: not a %s' % (where, 'frame index' if kind == 'frame'
                                                    else 'stamp in seconds')) from None
        if kind == 'frame' and number < 0:
            raise ValidationError('%s: frame indices start at 0' % where)
        state = _label_state(value, num_blocks, num_pegs, where)
        if kind == 'frame':
            labels.by_frame[int(number)] = state
        else:
            labels.by_stamp.append(Truth(float(number), state, 'labelled unknown'))
    labels.by_stamp.sort(key=lambda tr: tr.t)
    if not labels.by_frame and not labels.by_stamp:
        raise ValidationError('the labels file holds no labels')
    return labels


def load_labels(path: str, num_blocks: Optional[int] = None, num_pegs: int = 3) -> Labels:
    """Read a labels JSON file; raise ValidationError with the reason."""
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as exc:
        raise ValidationError('cannot read labels %s: %s' % (path, exc.strerror)) from None
    except json.JSONDecodeError as exc:
        raise ValidationError('labels %s: malformed JSON (%s at line %d)'
                              % (path, exc.msg, exc.lineno)) from None
    return parse_labels(data, num_blocks, num_pegs, source=path)
