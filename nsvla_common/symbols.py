# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The names of the symbols and how many there may be: blocks ``b1..bN``, pegs ``p1..pK``."""

MAX_BLOCKS = 16
MAX_PEGS = 9


def block(i: int) -> str:
    """Name of block ``i`` (1-based; 1 is the smallest)."""
    return 'b%d' % i


def peg(i: int) -> str:
    """Name of peg ``i`` (1-based, left to right)."""
    return 'p%d' % i
