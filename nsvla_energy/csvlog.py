# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The power monitor's CSV log: one row per tick, one row per ``execution_status`` event.

Columns: ``t`` (s since the monitor started), ``stamp`` (epoch s), ``event``, ``episode_id``,
``step``, ``result`` (empty on tick rows), ``source``, ``estimated``, ``watts``, ``joules`` (all
sources), then ``joules_<source>`` / ``watts_<source>`` per meter and ``joules_<role>`` per node
role. Joules are cumulative since the monitor started, so any window's energy is a difference.
An existing log with the same columns is appended to.
"""

import csv
import json
import os
from typing import Any, Dict, List, Optional, Sequence

from nsvla_common.errors import ConfigError, ValidationError
from nsvla_energy.attribution import ROLES
from nsvla_energy.episodes import EnergySnapshot, EpisodeAccountant, result_text

BASE_COLUMNS = ['t', 'stamp', 'event', 'episode_id', 'step', 'result', 'source', 'estimated',
                'watts', 'joules']


def columns_for(sources: Sequence[str], roles: Sequence[str] = ROLES) -> List[str]:
    """Return the header of a log for these sources and roles."""
    cols = list(BASE_COLUMNS)
    for src in sources:
        cols += ['joules_%s' % src, 'watts_%s' % src]
    cols += ['joules_%s' % role for role in roles]
    return cols


class CsvLog:
    """Append snapshots (and events) to a CSV file; rows are flushed every ``flush_every``."""

    def __init__(self, path: str, sources: Sequence[str], roles: Sequence[str] = ROLES,
                 flush_every: int = 10) -> None:
        self.path = path
        self.sources = list(sources)
        self.roles = list(roles)
        self.columns = columns_for(self.sources, self.roles)
        self.flush_every = max(1, int(flush_every))
        self._pending = 0
        append = False
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path, newline='') as f:
                header = next(csv.reader(f), [])
            if header != self.columns:
                raise ConfigError('CSV log %s has other columns (%s); choose another path'
                                  % (path, ','.join(header[:12])))
            append = True
        folder = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(folder, exist_ok=True)
            self._file = open(path, 'a' if append else 'w', newline='')
        except OSError as exc:
            raise ConfigError('cannot open CSV log %s: %s' % (path, exc)) from None
        self._writer = csv.writer(self._file)
        if not append:
            self._writer.writerow(self.columns)
            self._file.flush()

    def write(self, snap: EnergySnapshot, event: Optional[Dict[str, Any]] = None) -> None:
        """Write one row; an event row (``event`` = parsed status) is flushed at once."""
        ev = event or {}
        step = ev.get('step')
        row = ['%.4f' % snap.t, '%.4f' % snap.stamp, ev.get('event', ''), ev.get('episode_id', ''),
               '' if step is None else step, result_text(ev.get('result')), snap.source,
               int(bool(snap.estimated)), '%.4f' % snap.watts, '%.6f' % snap.joules]
        for src in self.sources:
            reading = snap.sources.get(src, {})
            row += ['%.6f' % reading.get('joules', 0.0), '%.4f' % reading.get('watts', 0.0)]
        row += ['%.6f' % snap.per_node.get(role, 0.0) for role in self.roles]
        self._writer.writerow(row)
        self._pending += 1
        if event is not None or self._pending >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Push buffered rows to the file."""
        self._file.flush()
        self._pending = 0

    def close(self) -> None:
        """Flush and close."""
        if not self._file.closed:
            self._file.flush()
            self._file.close()


def _num(text: str) -> Any:
    if text == '':
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_rows(path: str) -> List[Dict[str, Any]]:
    """
    Read a log: one dict per row, numbers parsed; a repeated header (appended runs) is skipped.

    Raise ValidationError when the file is not a power-monitor log.
    """
    try:
        f = open(path, newline='')
    except OSError as exc:
        raise ValidationError('cannot read CSV log %s: %s' % (path, exc)) from None
    with f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header or header[:len(BASE_COLUMNS)] != BASE_COLUMNS:
            raise ValidationError('%s is not a power-monitor CSV log (header %r)'
                                  % (path, (header or [])[:4]))
        rows = []
        for raw in reader:
            if not raw or raw == header:
                continue
            row: Dict[str, Any] = {}
            for key, text in zip(header, raw):
                row[key] = text if key in ('event', 'episode_id', 'result', 'source') \
                    else _num(text)
            rows.append(row)
    return rows


def snapshot_from_row(row: Dict[str, Any]) -> EnergySnapshot:
    """Rebuild the snapshot a row was written from."""
    sources = {}
    per_node = {}
    for key, value in row.items():
        if key.startswith('joules_'):
            name = key[len('joules_'):]
            if name in ROLES:
                per_node[name] = float(value or 0.0)
            else:
                sources.setdefault(name, {})['joules'] = float(value or 0.0)
        elif key.startswith('watts_'):
            sources.setdefault(key[len('watts_'):], {})['watts'] = float(value or 0.0)
    return EnergySnapshot(t=float(row.get('t') or 0.0), stamp=float(row.get('stamp') or 0.0),
                          source=str(row.get('source') or ''),
                          estimated=bool(row.get('estimated')),
                          joules=float(row.get('joules') or 0.0),
                          watts=float(row.get('watts') or 0.0), per_node=per_node,
                          sources=sources)


def _result_from_text(text: Any) -> Any:
    if not isinstance(text, str) or text == '':
        return text if text != '' else None
    if text[0] in '{["' or text in ('true', 'false', 'null'):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def records_from_csv(path: str) -> List[Dict[str, Any]]:
    """
    Replay the event rows of a log through the accountant: the episode records again.

    Events that do not fit (an end without a start) are skipped, as the node skipped them. A
    log appended to by several monitor runs (``t`` going back) is replayed run by run.
    """
    accountant = EpisodeAccountant(max_open=1000)
    records = []
    last_t = None
    for row in read_rows(path):
        t = float(row.get('t') or 0.0)
        if last_t is not None and t < last_t:
            accountant = EpisodeAccountant(max_open=1000)
        last_t = t
        if not row.get('event'):
            continue
        status = {'episode_id': str(row.get('episode_id') or ''), 'event': row['event'],
                  'step': row.get('step'), 'result': _result_from_text(row.get('result'))}
        try:
            record = accountant.handle(status, snapshot_from_row(row))
        except ValidationError:
            continue
        if record is not None:
            records.append(record)
    return records
