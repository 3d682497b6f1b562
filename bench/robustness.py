# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Robustness benchmark: bad input and overload against the launched embedded graph.

Sends malformed states, malformed and impossible plan requests, 30 concurrent get_plan calls and
plan_task goals, 50 execute_task goals in 5 s, a 30 rad/s trajectory and malformed ones, and
malformed episode events; prints what was answered, refused (with reasons) and whether any node
went down, then whether the graph still solves a tower. Writes bench/results/robustness.json.

    .venv/bin/python bench/robustness.py
"""

import json
import os
import sys

from nsvla_common.rosenv import localhost_env

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')


def main() -> int:
    localhost_env()
    from nsvla_eval.robustness import run_attacks
    print('[robustness] launching the embedded graph and attacking it ...', flush=True)
    report = run_attacks()
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, 'robustness.json'), 'w') as f:
        json.dump(report, f, indent=1, default=str)
    print(json.dumps(report, indent=1, default=str))
    ok = report.get('nodes_down_at_end') is None and \
        report.get('final_episode', {}).get('result') == 'solved'
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
