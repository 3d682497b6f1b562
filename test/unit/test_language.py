# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Instructions in words -> goals: every word understood, or the sentence refused with why."""

import os
import statistics

import pytest

from nsvla_common.errors import InstructionError
from nsvla_planner.language import describe_goal, InstructionParser, parse_instruction
from nsvla_planner.language_eval import judge, load_cases, tally
from nsvla_planner.state import Goal, SymbolicState

COLOURS = {'red': 'b1', 'green': 'b2', 'blue': 'b3', 'yellow': 'b4'}
SET = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'data',
                   'instructions.yaml')


# ----------------------------------------------------------------------------- the sentence set
@pytest.fixture(scope='module')
def judged():
    cases, colours = load_cases(SET)
    judge(cases[0], colours)      # warm-up: first-call costs are not parse time
    return [judge(c, colours) for c in cases]


def test_the_set_is_large_and_covers_every_scene(judged):
    cases = [o.case for o in judged]
    assert len(cases) >= 150
    assert sum(not c.clear for c in cases) >= 40
    assert {c.blocks for c in cases} >= {3, 4, 5} and {c.pegs for c in cases} >= {3, 4}
    cats = {c.cat for c in cases}
    assert cats >= {'position', 'ordinal', 'relative', 'named-peg', 'what-moves', 'colour',
                    'size', 'number', 'place', 'relation', 'several', 'harmless',
                    'constraint', 'reference', 'unknown'}
    for cat in cats:      # every category has sentences to understand or to refuse
        assert any(c.cat == cat for c in cases)


def test_no_wrong_goal_and_95_percent_of_the_clear_ones_understood(judged):
    wrong = [(o.case.text, o.goal) for o in judged if o.outcome == 'wrong']
    assert not wrong
    counts = tally(judged)['all']
    clear = counts['correct'] + counts['missed']
    assert counts['correct'] >= 0.95 * clear, [(o.case.text, o.reason) for o in judged
                                               if o.outcome == 'missed']


def test_every_sentence_meant_to_be_refused_is_refused_naming_the_word(judged):
    refuse = [o for o in judged if not o.case.clear]
    assert all(o.outcome == 'refused_as_meant' for o in refuse)
    assert [(o.case.text, o.reason) for o in refuse if not o.says_ok] == []
    assert all(o.reason for o in judged if o.goal is None)


def test_parse_time_is_at_most_5_ms_per_sentence(judged):
    times = sorted(o.seconds for o in judged)
    assert statistics.mean(times) < 0.005
    assert times[int(0.95 * len(times))] < 0.005


# ----------------------------------------------------------------------------- single sentences
@pytest.mark.parametrize('text, n, k, dst', [
    ('move the tower to the right peg', 3, 3, 3),
    ('Move the tower to the right peg.', 3, 3, 3),
    ('stack everything on peg 3', 3, 3, 3),
    ('stack everything on peg three', 4, 3, 3),
    ('solve the 4-block puzzle onto the middle peg', 4, 3, 2),
    ('move the tower from the left peg to the middle peg', 3, 3, 2),
    ('transfer all blocks to p1', 5, 3, 1),
    ('move the tower to the rightmost peg', 3, 5, 5),
    ('please move the whole stack to the second peg', 3, 3, 2),
    ('move the tower to the first peg from the right', 3, 4, 4),
    ('move the tower to the third peg from the right', 3, 3, 1),
    ('move the tower to peg C', 3, 3, 3),
    ('move the tower to the second to last peg', 3, 5, 4),
])
def test_tower_instructions(text, n, k, dst):
    goal = parse_instruction(text, n, k, COLOURS)
    assert goal.facts == Goal.tower(n, dst).facts
    assert goal.text == text


@pytest.mark.parametrize('text, facts', [
    ('put the red block on peg 2', [('on', ('b1', 'p2'))]),
    ('move the blue disk to the right peg', [('on', ('b3', 'p3'))]),
    ('place the smallest block on the left peg', [('on', ('b1', 'p1'))]),
    ('move the largest block to peg 2', [('on', ('b4', 'p2'))]),
    ('put block 2 on peg 3', [('on', ('b2', 'p3'))]),
    ('put the red block on the blue block', [('on', ('b1', 'b3'))]),
    ('put the red block and the blue block on peg 2',
     [('on', ('b3', 'p2')), ('on', ('b1', 'b3'))]),
    ('put the red block on peg 2 and the green block on peg 3',
     [('on', ('b1', 'p2')), ('on', ('b2', 'p3'))]),
    ('pick up the green block', [('holding', ('b2',))]),
])
def test_block_instructions(text, facts):
    assert parse_instruction(text, 4, 3, COLOURS).facts == facts


@pytest.mark.parametrize('text, words', [
    ('move the tower to the moon', "'moon'"),
    ('fly the tower to the right peg', "'fly'"),
    ('move the tower', 'not where'),
    ('move the tower to peg 4', 'there is no peg 4'),
    ('move the tower to the left peg and the right peg', 'more than one target'),
    ('solve the 5-block puzzle onto the middle peg', 'the scene has 3 blocks, not 5'),
    ('put the purple block on peg 2', "no block is purple"),
    ('', 'empty instruction'),
    ('   ', 'empty instruction'),
    ('do not move the tower to the right peg', "'not'"),
    ('move the tower to the right peg in one move', "'in one move'"),
    ('move the tower to peg 3 using only two moves', "'using only two moves'"),
    ('move the tower to peg 2 then to peg 3', "'then'"),
    ('move the tower to peg 2 or peg 3', "'or'"),
    ('move everything except the red block to peg 3', "'except'"),
    ('stack it on peg 2', "'it' refers to nothing"),
    ('put the blue block on the red block', 'larger block never goes on a smaller one'),
    ('move the tower to the peg between the left and middle pegs', 'no peg lies between'),
])
def test_errors_say_what_was_not_understood(text, words):
    with pytest.raises(InstructionError) as err:
        parse_instruction(text, 3, 3, COLOURS)
    assert words in str(err.value)


def test_middle_is_ambiguous_with_four_pegs():
    with pytest.raises(InstructionError, match='4 pegs have no middle one'):
        parse_instruction('move the tower to the middle peg', 3, 4)


def test_the_start_state_resolves_references():
    start = SymbolicState.from_stacks({'p1': ['b3', 'b2'], 'p2': ['b1']}, 3, 3)
    parser = InstructionParser(3, 3, COLOURS, start)
    assert parser.parse('move the top block of the left peg to peg 3').facts == [
        ('on', ('b2', 'p3'))]
    assert parser.parse('move the tower to the empty peg').facts == Goal.tower(3, 3).facts
    # b1 already on the middle peg: "the top block" is the one that is not there
    assert parser.parse('move the top block to the middle peg').facts == [('on', ('b2', 'p2'))]
    # onto the blocks already on the target peg when they are larger
    assert parser.parse('move the red block to the left peg').facts == [('on', ('b1', 'b2'))]
    with pytest.raises(InstructionError, match='2 pegs have a top block'):
        parser.parse('move the top block to peg 3')


def test_references_to_the_start_state_need_one():
    for text in ('move the top block to peg 3', 'move the tower one peg to the right',
                 'move the tower to the empty peg'):
        with pytest.raises(InstructionError, match='no start state was given'):
            parse_instruction(text, 3, 3, COLOURS)


def test_a_start_state_for_another_scene_is_refused():
    with pytest.raises(InstructionError, match='4 blocks'):
        InstructionParser(3, 3, COLOURS, SymbolicState.tower(4))


@pytest.mark.parametrize('facts, words', [
    (Goal.tower(3, 3), 'b1..b3 as a tower on p3'),
    ([('on', ('b1', 'p2'))], 'b1 (red) directly on p2'),
    ([('on', ('b1', 'b3'))], 'b1 (red) on b3 (blue)'),
    ([('on', ('b2', 'p3')), ('on', ('b1', 'b2'))], 'b2 (green), b1 (red) as a stack on p3'),
    ([('holding', ('b1',))], 'b1 (red) in the gripper'),
    ([('clear', ('p2',))], 'clear(p2)'),
])
def test_describe_goal_says_it_back(facts, words):
    goal = facts if isinstance(facts, Goal) else Goal(facts)
    assert describe_goal(goal, COLOURS) == words
