# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Train the learned backend: generate data, train, evaluate on held-out scenes, save, plot.

:func:`train` renders ``images`` training scenes (seeds ``seed .. seed + images - 1``) and
``held_out`` scenes from a disjoint seed range, trains :func:`nsvla_perception.learned.
build_network` with Adam and a cosine learning-rate schedule on the column crops (with
brightness, contrast and noise augmentation), evaluates whole-state exact accuracy on the
held-out scenes (arm in view or not), and returns the checkpoint (weights + metadata: crop
geometry, rig fingerprint, seed ranges, accuracy, the estimated training energy).
"""

import datetime
import json
import os
import time
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from nsvla_perception.dataset import ColumnData, generate, IGNORE
from nsvla_perception.energy import CpuEnergyEstimate
from nsvla_perception.learned import (build_network, combine_columns, count_parameters,
                                      MODEL_FORMAT, rig_fingerprint, to_tensor)
from nsvla_perception.settings import PerceptionSettings

HELD_OUT_SEED_OFFSET = 500_000   # held-out seeds start here (training seeds start at --seed)
EVAL_SEED_DEFAULT = 1_000_000    # eval-perception's default: never used in training


def _augment(x, gen):
    """Brightness, contrast, per-channel gain and noise on a (B, 3, H, W) batch in [-0.5, 0.5]."""
    import torch
    b = x.shape[0]
    gain = 1.0 + (torch.rand(b, 1, 1, 1, generator=gen) - 0.5) * 0.3
    chan = 1.0 + (torch.rand(b, 3, 1, 1, generator=gen) - 0.5) * 0.1
    shift = (torch.rand(b, 1, 1, 1, generator=gen) - 0.5) * 0.15
    noise = torch.randn(x.shape, generator=gen) * 0.012
    return ((x + 0.5) * gain * chan - 0.5 + shift + noise).clamp(-0.5, 0.5)


def predict(net, crops: np.ndarray, batch: int = 256) -> np.ndarray:
    """Return logits (M, K, S, L + 1) for crops (M, K, H, W, 3)."""
    import torch
    m, k = crops.shape[:2]
    flat = crops.reshape((m * k,) + crops.shape[2:])
    outs = []
    net.eval()
    with torch.inference_mode():
        for i in range(0, flat.shape[0], batch):
            outs.append(net(to_tensor(flat[i:i + batch])).numpy())
    logits = np.concatenate(outs).astype(np.float64)
    return logits.reshape((m, k) + logits.shape[1:])


def evaluate(logits: np.ndarray, data: ColumnData) -> Dict[str, Any]:
    """
    Score held-out predictions: exact whole-state accuracy, per-block peg accuracy, confusion.

    A scene is exact when every block is on the right peg in the right stack order. With the
    arm in view, a block the arm hides or holds is right when predicted "not seen" (a block
    hidden only partly may also be placed right). ``exact_state_accuracy`` covers the scenes
    with the arm out of view, ``exact_state_accuracy_all`` every scene. The confusion matrix
    (rows: truth, columns: prediction; index 0 = hidden or held / not seen, k = peg k) covers
    every block of every scene.
    """
    m, k = logits.shape[:2]
    conf = np.zeros((k + 1, k + 1), np.int64)
    exact_clear, n_clear, exact_all, blocks_ok, blocks = 0, 0, 0, 0, 0
    for j in range(m):
        n = int(data.num_blocks[j])
        combined = combine_columns(logits[j], n)
        ok = True
        for i in range(n):
            truth = 0 if data.hidden[j, i] else int(data.pegs[j, i])
            pred = combined[i]['peg']
            conf[truth, pred] += 1
            blocks += 1
            good = pred == truth or (data.hidden[j, i] and pred in (0, int(data.pegs[j, i])))
            blocks_ok += int(good)
            ok = ok and good
        if ok:   # stack order: the expected levels must sort each column by size
            for p in range(1, k + 1):
                on = [i for i in range(n) if combined[i]['peg'] == p]
                order = sorted(on, key=lambda i: combined[i]['level'])
                ok = ok and order == sorted(on, reverse=True)
        exact_all += int(ok)
        if not data.arm[j]:
            n_clear += 1
            exact_clear += int(ok)
    return {'scenes': m, 'exact_state_accuracy': round(exact_clear / max(n_clear, 1), 4),
            'scenes_arm_out_of_view': n_clear,
            'exact_state_accuracy_all': round(exact_all / max(m, 1), 4),
            'block_accuracy': round(blocks_ok / max(blocks, 1), 4),
            'confusion': conf.tolist()}


def plot_confusion(confusion: List[List[int]], path: str, title: str) -> None:
    """Write the confusion matrix (truth x prediction) as a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    mat = np.asarray(confusion)
    names = ['hidden'] + ['p%d' % k for k in range(1, mat.shape[0])]
    fig, ax = plt.subplots(figsize=(4.2, 3.8), dpi=110)
    norm = mat / np.maximum(mat.sum(axis=1, keepdims=True), 1)
    ax.imshow(norm, cmap='Blues', vmin=0, vmax=1)
    for r in range(mat.shape[0]):
        for c in range(mat.shape[1]):
            ax.text(c, r, str(mat[r, c]), ha='center', va='center',
                    color='white' if norm[r, c] > 0.5 else 'black', fontsize=9)
    ax.set_xticks(range(len(names)), ['not seen'] + names[1:])
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel('predicted')
    ax.set_ylabel('true')
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def train(spec, settings: PerceptionSettings, images: int = 1500, held_out: int = 300,
          epochs: int = 25, seed: int = 0, batch: int = 64, lr: float = 3e-3,
          arm_fraction: float = 0.3, threads: int = 1,
          progress: Optional[Callable[[str, int], Callable[[int], None]]] = None,
          log: Callable[[str], None] = lambda _msg: None) -> Dict[str, Any]:
    """
    Run the whole training (module docstring); return ``{'format', 'state_dict', 'meta'}``.

    ``progress(stage, total)`` returns a callable advancing that stage by a count (tqdm bars in
    the CLI); stages are ``data``, ``train`` and ``evaluate``.
    """
    import torch
    from torch import nn
    torch.set_num_threads(max(1, int(threads)))
    torch.manual_seed(seed)
    ls = settings.learned
    meter = CpuEnergyEstimate(settings.energy.watts_per_core)
    tick = progress or (lambda _stage, _total: (lambda _n: None))
    t0 = time.perf_counter()
    step = tick('data', images + held_out)
    train_data = generate(spec, images, seed, ls, arm_fraction, 3.0, progress=step)
    held_seed = seed + HELD_OUT_SEED_OFFSET
    test_data = generate(spec, held_out, held_seed, ls, arm_fraction, 0.0, progress=step)
    data_s = time.perf_counter() - t0
    log('rendered %d + %d scenes in %.0f s' % (images, held_out, data_s))

    levels = ls.max_blocks
    net = build_network(ls.max_blocks, levels)
    x_all = train_data.crops.reshape((-1,) + train_data.crops.shape[2:])
    y_all = torch.from_numpy(train_data.labels.reshape(-1, ls.max_blocks))
    count = x_all.shape[0]
    steps_per_epoch = (count + batch - 1) // batch
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, epochs=epochs,
                                                steps_per_epoch=steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss(ignore_index=IGNORE)
    gen = torch.Generator().manual_seed(seed)
    step = tick('train', epochs * steps_per_epoch)
    t1 = time.perf_counter()
    losses = []
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(count, generator=gen).numpy()
        total = 0.0
        for b in range(steps_per_epoch):
            idx = order[b * batch:(b + 1) * batch]
            x = _augment(to_tensor(x_all[idx]), gen)
            y = y_all[idx]
            logits = net(x)
            loss = loss_fn(logits.reshape(-1, levels + 1), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
            step(1)
        losses.append(total / count)
        log('epoch %d/%d: loss %.4f' % (epoch + 1, epochs, losses[-1]))
    train_s = time.perf_counter() - t1

    step = tick('evaluate', 1)
    held = evaluate(predict(net, test_data.crops), test_data)
    step(1)
    energy = meter.read()
    meta = {
        'settings': {'crop_width': ls.crop_width, 'crop_height': ls.crop_height,
                     'crop_margin': ls.crop_margin, 'max_blocks': ls.max_blocks},
        'levels': levels, 'num_pegs': spec.num_pegs,
        'rig': rig_fingerprint(spec, ls.max_blocks),
        'scene': os.path.basename(spec.source),
        'parameters': count_parameters(net),
        'train_seeds': [seed, seed + images - 1],
        'held_out_seeds': [held_seed, held_seed + held_out - 1],
        'images': images, 'held_out_images': held_out, 'epochs': epochs, 'batch': batch,
        'lr': lr, 'arm_fraction': arm_fraction, 'final_loss': round(losses[-1], 5),
        'held_out': held,
        'seconds': {'data': round(data_s, 1), 'train': round(train_s, 1),
                    'total': round(time.perf_counter() - t0, 1)},
        'energy': energy,
        'torch': str(torch.__version__),
        'created': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
    }
    # Plain JSON types only: the model file is read back with torch.load(weights_only=True).
    return {'format': MODEL_FORMAT, 'state_dict': net.state_dict(),
            'meta': json.loads(json.dumps(meta))}
