# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""``nsvla plan`` input: bad counts, empty words, missing files or stamps -> one line, exit 1."""

import json

import pytest

from nsvla_common.cli import main

STATE = {'schema': 'nsvla/symbolic_state/1', 'num_blocks': 3, 'num_pegs': 3,
         'facts': [{'predicate': 'on', 'args': ['b3', 'p1']},
                   {'predicate': 'on', 'args': ['b2', 'b3']},
                   {'predicate': 'on', 'args': ['b1', 'b2']}]}
GOAL = {'schema': 'nsvla/goal/1', 'facts': [{'predicate': 'on', 'args': ['b1', 'p2']}]}


def _plan(capsys, *args):
    rc = main(['plan'] + list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.parametrize('args, words', [
    (['--blocks', '0'], 'num_blocks must be an integer in 1..16, got 0'),
    (['--pegs', '0'], 'num_pegs must be an integer in 1..9, got 0'),
    (['--blocks', '3', '--instruction', ''], 'empty instruction'),
    (['--goal', 'no/such/goal.json'], 'cannot read goal file no/such/goal.json'),
    (['--state', 'no/such/state.json'], 'cannot read state file no/such/state.json'),
])
def test_bad_input_is_one_line_and_exit_1(capsys, args, words):
    rc, out, err = _plan(capsys, *args)
    assert rc == 1 and out == ''
    assert err.count('\n') == 1 and words in err and 'Traceback' not in err


@pytest.mark.parametrize('what', ['state', 'goal'])
def test_a_file_without_a_stamp_is_refused_by_name(capsys, tmp_path, what):
    path = _write(tmp_path, what + '.json', STATE if what == 'state' else GOAL)
    rc, out, err = _plan(capsys, '--' + what, path, '--json')
    data = json.loads(out)
    assert rc == 1 and data['status'] == 'invalid' and data['understood'] is None
    assert 'has no "stamp"' in data['reason'] and what in data['reason']


def test_the_empty_instruction_does_not_fall_back_to_the_default_goal(capsys):
    rc, out, _err = _plan(capsys, '--instruction', '', '--json')
    data = json.loads(out)
    assert rc == 1 and data['status'] == 'unknown_instruction' and data['plan'] == []


def test_the_goal_is_said_back_and_resolved_against_the_start_state(capsys, tmp_path):
    start = _write(tmp_path, 'start.json', dict(STATE, stamp=1.0, facts=[
        {'predicate': 'on', 'args': ['b3', 'p1']}, {'predicate': 'on', 'args': ['b2', 'b3']},
        {'predicate': 'on', 'args': ['b1', 'p2']}]))
    rc, out, err = _plan(capsys, '--state', start, '--instruction',
                         'move the top block of the left peg to the right peg', '--form', 'move',
                         '--json')
    data = json.loads(out)
    assert rc == 0, err
    assert data['understood'] == 'b2 (orange) directly on p3'
    assert data['moves'] == 1 and data['plan'][0]['args'] == ['b2', 'b3', 'p3']
    rc, out, _err = _plan(capsys, '--blocks', '3', '--instruction',
                          'move the tower to the middle peg', '--form', 'move')
    assert rc == 0 and out.splitlines()[0] == 'understood as: b1..b3 as a tower on p2'
