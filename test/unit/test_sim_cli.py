# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""``nsvla sim-render`` and ``nsvla sim-check`` through the project's CLI dispatcher."""

import json

import numpy as np
from PIL import Image

from nsvla_common.cli import main
from nsvla_planner.state import SymbolicState


def test_sim_render_writes_the_camera_png(tmp_path, capsys):
    out = tmp_path / 'scene.png'
    rc = main(['sim-render', '--blocks', '4', '--seed', '3', '--start', 'random', '--json',
               '--out', str(out)])
    assert rc == 0
    line = json.loads(capsys.readouterr().out.strip())
    img = np.asarray(Image.open(out))
    assert img.shape == (480, 640, 3) and img.std() > 5
    assert line['width'] == 640
    state = SymbolicState.from_json(line['ground_truth'])
    assert state.known and state.num_blocks == 4


def test_sim_render_refuses_a_non_png(tmp_path, capsys):
    assert main(['sim-render', '--out', str(tmp_path / 'x.jpg')]) == 2
    assert 'png' in capsys.readouterr().err


def test_sim_check_moves_the_top_block_and_prints_one_json_line(capsys):
    rc = main(['sim-check', '--blocks', '3', '--json'])
    lines = capsys.readouterr().out.strip().splitlines()
    assert rc == 0 and len(lines) == 1
    data = json.loads(lines[0])
    assert data['moved'] is True
    before = SymbolicState.from_json(data['ground_truth_before'])
    after = SymbolicState.from_json(data['ground_truth_after'])
    assert before.stacks()['p1'] == ['b3', 'b2', 'b1']
    assert after.peg_of('b1') == data['to'] != 'p1'
    assert data['real_time_factor'] > 1.0


def test_sim_check_exits_1_when_the_block_is_dropped(capsys):
    rc = main(['sim-check', '--blocks', '3', '--drop-probability', '1', '--json'])
    data = json.loads(capsys.readouterr().out.strip())
    assert rc == 1 and data['moved'] is False and data['reason']
    assert any(e['event'] == 'drop_injected' for e in data['events'])
