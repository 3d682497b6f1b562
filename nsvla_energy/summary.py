# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
'Intelligence per watt': what a list of episode energy records bought.

``tasks_per_kj`` = solved episodes / kilojoules spent on all episodes (failures cost energy too);
``success_rate_per_watt`` = success rate / average power over all episodes. Episodes without a
known outcome count in the energy and time but not in the success rate.
"""

from typing import Any, Dict, Iterable, List, Optional


def _ratio(num: float, den: float) -> Optional[float]:
    return num / den if den > 0 else None


def intelligence_per_watt(records: Iterable[Dict[str, Any]]) -> Dict[str, Any]:
    """Summarise ``nsvla/energy_episode/1`` records (dicts with joules, duration_s, success)."""
    recs: List[Dict[str, Any]] = list(records)
    known = [r for r in recs if isinstance(r.get('success'), bool)]
    solved = sum(1 for r in known if r['success'])
    joules = sum(float(r.get('joules', 0.0)) for r in recs)
    duration = sum(float(r.get('duration_s', 0.0)) for r in recs)
    per_node: Dict[str, float] = {}
    for r in recs:
        for role, j in (r.get('joules_per_node') or {}).items():
            per_node[role] = per_node.get(role, 0.0) + float(j)
    success_rate = _ratio(solved, len(known))
    watts_avg = _ratio(joules, duration)
    return {
        'episodes': len(recs),
        'episodes_with_outcome': len(known),
        'solved': solved,
        'success_rate': success_rate,
        'joules': joules,
        'kilojoules': joules / 1000.0,
        'duration_s': duration,
        'watts_avg': watts_avg,
        'tasks_per_kj': _ratio(solved, joules / 1000.0),
        'success_rate_per_watt': (None if success_rate is None or not watts_avg
                                  else success_rate / watts_avg),
        'joules_per_solved': _ratio(joules, solved),
        'joules_per_node': per_node,
        'estimated': any(bool(r.get('estimated')) for r in recs),
        'sources': sorted({str(r.get('source')) for r in recs if r.get('source')}),
    }


def format_summary(summary: Dict[str, Any]) -> str:
    """Return the summary as a small aligned text table."""
    def num(value: Any, fmt: str) -> str:
        return 'n/a' if value is None else fmt % value

    lines = [
        ('episodes', '%d (%d with an outcome)'
         % (summary['episodes'], summary['episodes_with_outcome'])),
        ('solved', '%d' % summary['solved']),
        ('success rate', num(summary['success_rate'], '%.3f')),
        ('energy', '%.3f kJ%s' % (summary['kilojoules'],
                                  ' (estimated)' if summary['estimated'] else '')),
        ('average power', num(summary['watts_avg'], '%.2f W')),
        ('tasks per kJ', num(summary['tasks_per_kj'], '%.3f')),
        ('success rate per W', num(summary['success_rate_per_watt'], '%.5f')),
        ('J per solved task', num(summary['joules_per_solved'], '%.2f')),
    ]
    for role, j in sorted(summary['joules_per_node'].items()):
        lines.append(('  %s' % role, '%.2f J' % j))
    width = max(len(k) for k, _ in lines)
    return '\n'.join('%-*s  %s' % (width, k, v) for k, v in lines)
