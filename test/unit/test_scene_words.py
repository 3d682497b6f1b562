# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Colour words from the scene config."""

import pytest

from nsvla_common.errors import ConfigError
from nsvla_planner.scene_words import colours_from_scene, colours_from_spec


def test_colour_names_map_to_blocks_in_order():
    spec = {'blocks': {'colour_names': ['red', 'Orange', 'yellow'], 'colours': [[1, 0, 0]]}}
    assert colours_from_spec(spec, 2) == {'red': 'b1', 'orange': 'b2'}


@pytest.mark.parametrize('names, words', [
    (['red', 'red'], 'used twice'),
    (['dark red'], 'one-word name'),
    ('red', 'must be a list'),
])
def test_bad_colour_names_are_refused(names, words):
    with pytest.raises(ConfigError, match=words):
        colours_from_spec({'blocks': {'colour_names': names}}, 3)


def test_missing_scene_file():
    assert colours_from_scene('/nonexistent/scene.yaml', 3, missing_ok=True) == {}
    with pytest.raises(ConfigError, match='cannot read scene config'):
        colours_from_scene('/nonexistent/scene.yaml', 3)


def test_default_scene_names_every_block_colour():
    words = colours_from_scene('scene_default.yaml', 6)
    assert sorted(words.values()) == ['b%d' % i for i in range(1, 7)]
