# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""``nsvla train-perception`` and ``nsvla eval-perception`` end to end (tiny sizes)."""

import json
import os

import pytest

pytest.importorskip('torch')
pytest.importorskip('mujoco')

from nsvla_common.cli import main  # noqa: E402

KEYS = {'backend', 'blocks', 'scenes', 'exact_state_accuracy', 'fact_accuracy', 'median_ms'}


def _last_json(out):
    return json.loads(out.strip().splitlines()[-1])


def test_train_then_eval_a_tiny_model(tmp_path, capsys):
    model = str(tmp_path / 'tiny.pt')
    png = str(tmp_path / 'confusion.png')
    rc = main(['train-perception', '--images', '12', '--held-out', '10', '--epochs', '1',
               '--seed', '7', '--out', model, '--confusion', png, '--json', '--quiet'])
    assert rc == 0
    summary = _last_json(capsys.readouterr().out)
    assert os.path.getsize(model) == summary['bytes'] > 10_000
    assert os.path.getsize(png) > 1000
    assert summary['train_seeds'] == [7, 18] and summary['held_out_seeds'] == [500007, 500016]
    assert summary['energy']['estimated'] is True and summary['energy']['joules'] > 0
    assert 0.0 <= summary['held_out_exact_state_accuracy'] <= 1.0

    rc = main(['eval-perception', '--backend', 'learned', '--model', model, '--blocks', '3',
               '--scenes', '2', '--seed', '10', '--json', '--quiet'])
    captured = capsys.readouterr()
    assert rc == 0
    result = _last_json(captured.out)
    assert KEYS <= set(result) and result['backend'] == 'learned' and result['scenes'] == 2
    assert 'overlap' in captured.err          # seeds 10..11 were training seeds


def test_eval_classic_json(capsys):
    rc = main(['eval-perception', '--backend', 'classic', '--blocks', '4', '--scenes', '3',
               '--json', '--quiet'])
    assert rc == 0
    result = _last_json(capsys.readouterr().out)
    assert KEYS <= set(result)
    assert result['exact_state_accuracy'] == 1.0 and result['fact_accuracy'] == 1.0
    assert result['blocks'] == 4 and result['median_ms'] > 0


def test_bad_arguments_exit_2(capsys):
    assert main(['eval-perception', '--scenes', '0']) == 2
    assert 'at least 1' in capsys.readouterr().err
    assert main(['train-perception', '--images', '1']) == 2
