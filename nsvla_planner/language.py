# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Instructions in words -> goals, with a small deterministic parser.

Understood (any order of filler words, case-insensitive)::

    move the tower to the right peg          -> tower on the last peg
    stack everything on peg 3                -> tower on p3
    solve the 4-block puzzle onto the middle peg
    put the red block on peg 2               -> on(<red block>, p2): the red block rests
                                                directly on peg 2's base
    move the smallest block to the left peg

Colours come from the scene config (``colour name -> block``). Words outside the vocabulary,
two different targets, a block count that does not match the scene, or a peg that does not exist
raise :class:`InstructionError` with what was not understood; a goal is never guessed.
"""

import re
from typing import Dict, List, Optional, Tuple

from nsvla_common.errors import InstructionError
from nsvla_planner.state import block, FactKey, Goal, peg

FILLER = {
    'the', 'a', 'an', 'to', 'on', 'onto', 'into', 'over', 'please', 'of', 'whole', 'entire',
    'its', 'it', 'so', 'that', 'and', 'at', 'up', 'in', 'with', 'now', 'then', 'top', 'whole',
    'complete', 'full', 'all', 'every', 'one', 'can', 'you', 'could', 'would', 'kindly',
    'towers', 'hanoi', 'game',
}
VERBS = {'move', 'put', 'place', 'stack', 'transfer', 'shift', 'bring', 'solve', 'build',
         'carry', 'relocate', 'take', 'set', 'rebuild', 'restack', 'get'}
TOWER_NOUNS = {'tower', 'everything', 'blocks', 'disks', 'discs', 'stack', 'pile', 'puzzle',
               'them', 'rings', 'pieces'}
BLOCK_NOUNS = {'block', 'disk', 'disc', 'ring', 'piece'}
PEG_NOUNS = {'peg', 'pole', 'rod', 'post', 'pegs'}
NUMBERS = {'one': 1, 'two': 2, 'three': 3, 'four': 4, 'five': 5, 'six': 6, 'seven': 7,
           'eight': 8, 'nine': 9, 'ten': 10, 'eleven': 11, 'twelve': 12}
ORDINALS = {'first': 1, 'second': 2, 'third': 3, 'fourth': 4, 'fifth': 5, 'sixth': 6}
SIDES = {'left', 'leftmost', 'right', 'rightmost', 'middle', 'center', 'centre', 'last'}
SIZES = {'smallest', 'largest', 'biggest', 'tiniest'}
_OBJ = re.compile(r'^([bp])(\d+)$')


def _tokens(text: str) -> List[str]:
    text = text.lower().replace('-', ' ')
    return re.findall(r"\b[bp]\d+\b|[a-z]+|\d+", text)


def _number(tok: str) -> Optional[int]:
    if tok.isdigit():
        return int(tok)
    return NUMBERS.get(tok)


class InstructionParser:
    """
    Parse instructions for a scene of ``num_blocks`` blocks and ``num_pegs`` pegs.

    ``colours`` maps a colour word to a block name (``{'red': 'b1'}``); multi-word colours are
    not supported (use one word per colour in the scene config).
    """

    def __init__(self, num_blocks: int, num_pegs: int = 3,
                 colours: Optional[Dict[str, str]] = None) -> None:
        self.num_blocks = num_blocks
        self.num_pegs = num_pegs
        self.colours = {k.lower(): v for k, v in (colours or {}).items()}

    # ----------------------------------------------------------------- pegs
    def _side_peg(self, word: str) -> int:
        k = self.num_pegs
        if word in ('left', 'leftmost'):
            return 1
        if word in ('right', 'rightmost', 'last'):
            return k
        if k % 2 == 0:
            raise InstructionError('"%s" is ambiguous with %d pegs: name the peg by number'
                                   % (word, k))
        return (k + 1) // 2

    def _check_peg(self, n: int, said: str) -> int:
        if not 1 <= n <= self.num_pegs:
            raise InstructionError('"%s": there is no peg %d (pegs are 1..%d)'
                                   % (said, n, self.num_pegs))
        return n

    def _check_block(self, n: int, said: str) -> str:
        if not 1 <= n <= self.num_blocks:
            raise InstructionError('"%s": there is no block %d (blocks are 1..%d)'
                                   % (said, n, self.num_blocks))
        return block(n)

    # ----------------------------------------------------------------- parse
    def parse(self, text: str) -> Goal:
        """Return the goal the instruction asks for, or raise InstructionError."""
        if not isinstance(text, str) or not text.strip():
            raise InstructionError('empty instruction')
        toks = _tokens(text)
        used = [False] * len(toks)
        pegs: List[Tuple[int, bool, str]] = []   # (peg, is_source, words)
        blocks: List[Tuple[str, str]] = []
        declared_blocks: Optional[int] = None
        tower_words = False
        i = 0
        while i < len(toks):
            t = toks[i]
            nxt = toks[i + 1] if i + 1 < len(toks) else ''
            source = i > 0 and toks[i - 1] == 'from' or (
                i > 1 and toks[i - 2] == 'from' and toks[i - 1] == 'the')
            m = _OBJ.match(t)
            if m and m.group(1) == 'p':
                pegs.append((self._check_peg(int(m.group(2)), t), source, t))
                used[i] = True
            elif m and m.group(1) == 'b':
                blocks.append((self._check_block(int(m.group(2)), t), t))
                used[i] = True
            elif t in SIDES or t in ORDINALS:
                if nxt in PEG_NOUNS:
                    n = self._side_peg(t) if t in SIDES else self._check_peg(ORDINALS[t],
                                                                             t + ' ' + nxt)
                    pegs.append((n, source, t + ' ' + nxt))
                    used[i] = used[i + 1] = True
                    i += 1
                elif t in SIDES and not nxt:
                    pegs.append((self._side_peg(t), source, t))
                    used[i] = True
            elif t in PEG_NOUNS and _number(nxt) is not None:
                pegs.append((self._check_peg(_number(nxt), t + ' ' + nxt), source,
                             t + ' ' + nxt))
                used[i] = used[i + 1] = True
                i += 1
            elif _number(t) is not None and nxt in BLOCK_NOUNS | TOWER_NOUNS | {'tower'}:
                declared_blocks = _number(t)
                used[i] = used[i + 1] = True
                tower_words = True
                i += 1
            elif t in BLOCK_NOUNS and _number(nxt) is not None:
                blocks.append((self._check_block(_number(nxt), t + ' ' + nxt), t + ' ' + nxt))
                used[i] = used[i + 1] = True
                i += 1
            elif t in SIZES and nxt in BLOCK_NOUNS:
                b = block(1) if t in ('smallest', 'tiniest') else block(self.num_blocks)
                blocks.append((b, t + ' ' + nxt))
                used[i] = used[i + 1] = True
                i += 1
            elif t in self.colours and nxt in BLOCK_NOUNS:
                blocks.append((self.colours[t], t + ' ' + nxt))
                used[i] = used[i + 1] = True
                i += 1
            elif t in self.colours:
                blocks.append((self.colours[t], t))
                used[i] = True
            elif t in TOWER_NOUNS:
                tower_words = True
                used[i] = True
            elif t in FILLER or t in VERBS or t == 'from':
                used[i] = True
            i += 1
        unknown = [t for t, u in zip(toks, used) if not u]
        if unknown:
            raise InstructionError('did not understand %s in %r'
                                   % (', '.join(repr(u) for u in unknown), text))
        targets = sorted({p for p, is_src, _ in pegs if not is_src})
        if not targets:
            raise InstructionError('no target peg in %r: say e.g. "the right peg" or "peg 3"'
                                   % text)
        if len(targets) > 1:
            raise InstructionError('more than one target peg in %r (%s)' % (
                text, ', '.join(w for _p, s, w in pegs if not s)))
        dst = targets[0]
        if declared_blocks is not None and declared_blocks != self.num_blocks:
            raise InstructionError('%r asks for %d blocks but the scene has %d'
                                   % (text, declared_blocks, self.num_blocks))
        distinct = sorted({b for b, _ in blocks})
        if len(distinct) > 1:
            raise InstructionError('more than one block named in %r (%s): one block at a time'
                                   % (text, ', '.join(w for _b, w in blocks)))
        if distinct and tower_words:
            raise InstructionError('%r names both one block and the whole tower' % text)
        if distinct:
            facts: List[FactKey] = [('on', (distinct[0], peg(dst)))]
            return Goal(facts, text=text)
        if not tower_words and not any(t in ('solve', 'stack') for t in toks):
            raise InstructionError('%r does not say what to move (the tower, or which block)'
                                   % text)
        return Goal.tower(self.num_blocks, dst, text=text)


def parse_instruction(text: str, num_blocks: int, num_pegs: int = 3,
                      colours: Optional[Dict[str, str]] = None) -> Goal:
    """Shortcut for ``InstructionParser(num_blocks, num_pegs, colours).parse(text)``."""
    return InstructionParser(num_blocks, num_pegs, colours).parse(text)
