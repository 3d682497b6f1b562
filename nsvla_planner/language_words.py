# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The words of instructions: tokens, the vocabulary, harmless words and what cannot be honoured.

Every word of an instruction is one of: a word the grammar (:mod:`language_grammar`) uses, a
harmless word that changes nothing ("please", "as fast as you can"), a word that asks for what the
planner cannot honour (a move count, a sequence, a choice, a negation, an exception, a condition on
the way there, a speed), or an unknown word. The last two make a refusal that names them.
"""

import re
from typing import Dict, List, Optional, Sequence, Tuple

NUMBER_WORDS = {'one': 1, 'two': 2, 'three': 3, 'four': 4, 'five': 5, 'six': 6, 'seven': 7,
                'eight': 8, 'nine': 9, 'ten': 10, 'eleven': 11, 'twelve': 12}
ORDINAL_WORDS = {'first': 1, 'second': 2, 'third': 3, 'fourth': 4, 'fifth': 5, 'sixth': 6,
                 'seventh': 7, 'eighth': 8, 'ninth': 9, 'tenth': 10}
PEG_LETTERS = 'abcdefghi'          # peg A is the leftmost
# colour words a person may use; the scene says which of them name its blocks
COLOUR_WORDS = {'red', 'orange', 'yellow', 'green', 'blue', 'purple', 'violet', 'pink',
                'black', 'white', 'grey', 'gray', 'brown', 'cyan', 'magenta', 'teal', 'gold',
                'silver', 'indigo', 'turquoise', 'beige', 'maroon', 'navy', 'lime'}

DETERMINERS = {'the', 'a', 'an'}
MOVE_VERBS = {'move', 'put', 'place', 'stack', 'transfer', 'shift', 'bring', 'carry',
              'relocate', 'set', 'get', 'drop', 'lay', 'slide', 'send', 'restack', 'pile',
              'arrange', 'gather', 'collect', 'stick', 'take', 'rebuild', 'build', 'solve'}
HOLD_VERBS = {'pick', 'lift', 'grab', 'grasp', 'hold', 'take'}
PEG_NOUNS = {'peg', 'pole', 'rod', 'post'}
PEG_PLURALS = {'pegs', 'poles', 'rods', 'posts'}
BLOCK_NOUNS = {'block', 'disk', 'disc', 'ring', 'piece', 'cube'}
BLOCK_PLURALS = {'blocks', 'disks', 'discs', 'rings', 'pieces', 'cubes'}
TOWER_NOUNS = {'tower', 'stack', 'pile', 'puzzle'}
WHOLE = {'whole', 'entire', 'complete', 'full'}
SMALL = {'smallest', 'tiniest', 'littlest'}
LARGE = {'largest', 'biggest', 'heaviest', 'widest'}
SIZE_ADJECTIVES = {'small', 'little', 'tiny', 'big', 'large', 'huge'}
LARGE_ADJECTIVES = {'big', 'large', 'huge'}
SIDES = {'left': 'left', 'leftmost': 'left', 'right': 'right', 'rightmost': 'right',
         'middle': 'middle', 'centre': 'middle', 'center': 'middle', 'central': 'middle'}
PRONOUNS = {'it', 'them', 'this', 'that', 'these', 'those'}
GRAMMAR_WORDS = (DETERMINERS | MOVE_VERBS | HOLD_VERBS | PEG_NOUNS | PEG_PLURALS | BLOCK_NOUNS
                 | BLOCK_PLURALS | TOWER_NOUNS | WHOLE | SMALL | LARGE | set(SIDES) | PRONOUNS
                 | SIZE_ADJECTIVES
                 | set(NUMBER_WORDS) | set(ORDINAL_WORDS) | {
                     'up', 'down', 'back', 'over', 'across', 'to', 'onto', 'on', 'in', 'at',
                     'of', 'from', 'off', 'towards', 'toward', 'top', 'topmost', 'bottom',
                     'bottommost', 'last', 'number', 'far', 'hand', 'side', 'between', 'and',
                     'empty', 'other', 'everything', 'all', 'every', 'each', 'towers', 'hanoi',
                     'next', 'which', 'is', 'with', 'holding', 'furthest', 'farthest', 'by',
                     'but', "'s", 'where', 'are', ','})

# harmless words: they change nothing the planner does
ANYWHERE = {'please', 'kindly', 'quickly', 'carefully', 'just', 'now', 'thanks'}
PHRASES: Sequence[Tuple[str, ...]] = sorted([
    ('thank', 'you'), ('for', 'me'), ('as', 'fast', 'as', 'you', 'can'),
    ('as', 'fast', 'as', 'possible'), ('as', 'quickly', 'as', 'you', 'can'),
    ('as', 'quickly', 'as', 'possible'), ('as', 'soon', 'as', 'possible'), ('right', 'away'),
    ('if', 'possible'), ('if', 'you', 'can'), ('when', 'you', 'can'), ('as', 'a', 'tower'),
    ('as', 'a', 'stack'), ('in', 'the', 'same', 'order'), ('in', 'order'),
    ('in', 'the', 'right', 'order'), ('one', 'by', 'one')], key=len, reverse=True)
LEADS: Sequence[Tuple[str, ...]] = sorted([
    ('hey', 'robot'), ('hey',), ('robot',), ('ok',), ('okay',), ('alright',), ('so',),
    ('could', 'you'), ('can', 'you'), ('would', 'you'), ('will', 'you'),
    ('go', 'ahead', 'and'), ('i', 'want', 'you', 'to'), ('i', 'would', 'like', 'you', 'to'),
    ('i', 'need', 'you', 'to')], key=len, reverse=True)
VERBLESS_LEADS: Sequence[Tuple[str, ...]] = [('i', 'would', 'like'), ('i', 'want'),
                                             ('i', 'need')]
CONNECTORS = {'and', ',', ';', '.', '!', '?', ':'}
HARMLESS_WORDS = ANYWHERE | {w for p in list(PHRASES) + list(LEADS) + list(VERBLESS_LEADS)
                             for w in p}

# what cannot be honoured, and why
_NEGATION = {'not', 'never', 'no', 'nothing', 'none', 'neither', 'nor'}
_EXCEPTION = {'except', 'but', 'besides', 'excluding', 'apart'}
_CHOICE = {'or', 'either', 'whichever', 'any'}
_SEQUENCE = {'then', 'after', 'afterwards', 'before', 'finally', 'later'}
_PATH = {'without', 'keep', 'keeping', 'leave', 'leaving', 'avoid', 'avoiding', 'while',
         'unless', 'until', 'if', 'only', 'touch', 'touching', 'twice', 'via',
         'through'}
_SPEED = {'slowly', 'slow', 'gently', 'faster', 'slower'}
_MOVE_NOUNS = {'move', 'moves', 'step', 'steps'}
_COUNTING = set(NUMBER_WORDS) | {'a', 'single', 'few', 'fewer', 'fewest', 'least', 'most',
                                 'minimum', 'maximum', 'many', 'optimal'}
_BUT_ONE = {'last', 'rightmost', 'leftmost', 'first'} | PEG_NOUNS   # "the last but one peg"
_MOVE_COUNT_LEADS = {'in', 'using', 'with', 'within', 'only', 'than', 'at', 'under', 'exactly',
                     'more', 'less'}
REASONS = {
    'moves': 'the planner chooses the moves (the default engine finds the fewest); '
             'a number of moves cannot be imposed',
    'negation': 'a negation says what must not happen, but a goal says what is true at the '
                'end: say that instead',
    'exception': "an exception ('all but ...') is not understood: name the blocks that move",
    'choice': "'or' leaves the choice open: name one goal",
    'sequence': 'a sequence of goals cannot be planned as one: give one instruction, then '
                'the next',
    'path': 'a condition on the way there cannot be honoured: the planner only guarantees '
            'the end state',
    'speed': 'the planner does not set the speed of the arm',
}
CONSTRAINT_WORDS = (_NEGATION | _EXCEPTION | _CHOICE | _SEQUENCE | _PATH | _SPEED
                    | {'moves', 'steps', 'step', 'moving'})

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[,.!?;:]|\S")
_MOST = re.compile(r'\b(left|right|top|bottom)[- ]most\b')
_GLUED = re.compile(r'\b(peg|pole|rod|post|block|disk|disc|ring|number)(\d+)\b')
_HASH = re.compile(r'#\s*(\d+)')
_NAME = re.compile(r'^([bp])(\d+)$')
_ORD_DIGITS = re.compile(r'^(\d+)(st|nd|rd|th)$')
CONTRACTIONS = {"i'd": ('i', 'would'), "i'm": ('i', 'am'), "i'll": ('i', 'will'),
                "let's": ('let', 'us'), "it's": ('it', 'is'), "that's": ('that', 'is')}


def tokens(text: str) -> List[str]:
    """Split an instruction into lower-case words, numbers, names and punctuation."""
    text = text.lower().replace('\u2019', "'")
    text = _MOST.sub(r'\1most', text).replace('-', ' ').replace('_', ' ')
    text = _GLUED.sub(r'\1 \2', _HASH.sub(r' number \1', text))
    out: List[str] = []
    for tok in _TOKEN.findall(text):
        if tok in CONTRACTIONS:
            out.extend(CONTRACTIONS[tok])
        elif tok.endswith("'s"):
            out.extend((tok[:-2], "'s"))
        else:
            out.append(tok)
    return out


def number(tok: str) -> Optional[int]:
    """Return the value of ``3`` or ``three``, else None."""
    if tok.isdigit():
        return int(tok)
    return NUMBER_WORDS.get(tok)


def ordinal(tok: str) -> Optional[int]:
    """Return the value of ``third`` or ``3rd``, else None."""
    m = _ORD_DIGITS.match(tok)
    if m:
        return int(m.group(1))
    return ORDINAL_WORDS.get(tok)


def object_name(tok: str) -> Optional[Tuple[str, int]]:
    """Return ``('b', 2)`` for ``b2`` and ``('p', 3)`` for ``p3``, else None."""
    m = _NAME.match(tok)
    return (m.group(1), int(m.group(2))) if m else None


def strip_harmless(toks: List[str]) -> Tuple[List[str], bool]:
    """
    Drop the words that change nothing: "please", "could you", "as fast as you can", ...

    A connector ("and", a comma, a full stop) goes with them when only harmless words stand
    between it and an end of the sentence, or when harmless words stand on both sides of it
    ("quickly and carefully"). Return the remaining tokens and whether a lead such as "I want"
    means the instruction names a goal without a verb ("I want the tower on peg 3").
    """
    n = len(toks)
    harmless = [t in ANYWHERE for t in toks]
    i = 0
    while i < n:
        for phrase in PHRASES:
            if tuple(toks[i:i + len(phrase)]) == phrase:
                harmless[i:i + len(phrase)] = [True] * len(phrase)
                i += len(phrase) - 1
                break
        i += 1
    start = 0
    changed = True
    while changed:
        changed = False
        while start < n and (harmless[start] or toks[start] in CONNECTORS):
            start += 1
        for lead in LEADS:
            if tuple(toks[start:start + len(lead)]) == lead:
                harmless[start:start + len(lead)] = [True] * len(lead)
                changed = True
                break
    keep = []
    for i, t in enumerate(toks):
        if harmless[i]:
            continue
        if t in CONNECTORS:
            before = [j for j in range(i) if not harmless[j] and toks[j] not in CONNECTORS]
            after = [j for j in range(i + 1, n) if not harmless[j] and toks[j] not in CONNECTORS]
            beside = (i > 0 and harmless[i - 1]) and (i + 1 < n and harmless[i + 1])
            if not before or not after or beside:
                continue
        keep.append(t)
    for lead in VERBLESS_LEADS:
        if tuple(keep[:len(lead)]) == lead:
            return keep[len(lead):], True
    return keep, False


def _quote(words: Sequence[str]) -> str:
    return "'%s'" % ' '.join(words)


def constraint_reasons(toks: Sequence[str]) -> List[str]:
    """Return why each word that asks for what cannot be honoured is refused (empty: none)."""
    found: Dict[str, List[str]] = {}
    used = set()
    for i, t in enumerate(toks):      # a number of moves: "in one move", "using only two moves"
        if t in ('moves', 'steps') or (t in _MOVE_NOUNS and i > 0 and (
                toks[i - 1] in _COUNTING or toks[i - 1].isdigit())):
            start = i
            while start > 0 and (toks[start - 1] in _COUNTING or toks[start - 1].isdigit()):
                start -= 1            # the count: "two", "a single", "7"
            while start > 0 and toks[start - 1] in _MOVE_COUNT_LEADS:
                start -= 1            # what leads it: "in", "using only"
            found.setdefault('moves', []).append(_quote(toks[start:i + 1]))
            used.update(range(start, i + 1))
    for i, t in enumerate(toks):
        kind = None
        if i in used:
            continue
        if t in _NEGATION or t.endswith("n't"):
            kind = 'negation'
        elif t in _EXCEPTION and not (t == 'but' and 0 < i < len(toks) - 1
                                      and toks[i + 1] == 'one' and toks[i - 1] in _BUT_ONE):
            kind = 'exception'
        elif t in _CHOICE:
            kind = 'choice'
        elif t in _SEQUENCE:
            kind = 'sequence'
        elif t in _PATH or t == 'moving':
            kind = 'path'
        elif t in _SPEED:
            kind = 'speed'
        if kind:
            found.setdefault(kind, []).append(_quote([t]))
    return ['%s: %s' % (', '.join(dict.fromkeys(said)), REASONS[kind])
            for kind, said in found.items()]


def known_word(tok: str, colours: Sequence[str]) -> bool:
    """Whether the grammar, the harmless words or the scene's colours account for ``tok``."""
    return (tok in GRAMMAR_WORDS or tok in HARMLESS_WORDS or tok in colours
            or tok in CONSTRAINT_WORDS or tok.isdigit() or object_name(tok) is not None
            or ordinal(tok) is not None or (len(tok) == 1 and tok in PEG_LETTERS))
