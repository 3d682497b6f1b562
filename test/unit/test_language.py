# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Instructions in words -> goals; unknown or ambiguous words are errors, never guesses."""

import pytest

from nsvla_common.errors import InstructionError
from nsvla_planner.language import parse_instruction
from nsvla_planner.state import Goal

COLOURS = {'red': 'b1', 'green': 'b2', 'blue': 'b3', 'yellow': 'b4'}


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
])
def test_tower_instructions(text, n, k, dst):
    goal = parse_instruction(text, n, k, COLOURS)
    assert goal.facts == Goal.tower(n, dst).facts
    assert goal.text == text


@pytest.mark.parametrize('text, block, dst', [
    ('put the red block on peg 2', 'b1', 2),
    ('move the blue disk to the right peg', 'b3', 3),
    ('place the smallest block on the left peg', 'b1', 1),
    ('move the largest block to peg 2', 'b4', 2),
    ('put block 2 on peg 3', 'b2', 3),
])
def test_single_block_instructions(text, block, dst):
    goal = parse_instruction(text, 4, 3, COLOURS)
    assert goal.facts == [('on', (block, 'p%d' % dst))]


@pytest.mark.parametrize('text, words', [
    ('move the tower to the moon', "'moon'"),
    ('fly the tower to the right peg', "'fly'"),
    ('move the tower', 'no target peg'),
    ('move the tower to peg 4', 'there is no peg 4'),
    ('move the tower to the left peg and the right peg', 'more than one target peg'),
    ('solve the 5-block puzzle onto the middle peg', 'asks for 5 blocks but the scene has 3'),
    ('put the red block and the blue block on peg 2', 'more than one block'),
    ('put the purple block on peg 2', "'purple'"),
    ('', 'empty instruction'),
    ('do not move the tower to the right peg', "'do', 'not'"),
])
def test_errors_say_what_was_not_understood(text, words):
    with pytest.raises(InstructionError) as err:
        parse_instruction(text, 3, 3, COLOURS)
    assert words in str(err.value)


def test_middle_is_ambiguous_with_four_pegs():
    with pytest.raises(InstructionError, match='ambiguous with 4 pegs'):
        parse_instruction('move the tower to the middle peg', 3, 4)
