# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Automatically labelled training data for the learned backend, rendered from the scene.

Each image is a seeded randomised layout (``make_layout(..., start='random', randomise=True)``:
block offsets and yaw, colour jitter, light, camera pose) with a random block count; in a
fraction of the images the arm is posed by inverse kinematics in front of or above a peg, so
some blocks are hidden, and in some of those it holds the top block of a stack (that block is
on no peg: labelled absent everywhere). The labels come from the layout and a segmentation
render: per peg column and colour slot, ``absent`` (0), ``at level L`` (1 + L), or ``ignore``
(-100) for a block that is neither clearly visible (>= 50 % of its pixels) nor clearly hidden
(< 15 %).
"""

import random
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Sequence

import numpy as np

from nsvla_perception.geometry import camera_from_spec
from nsvla_perception.learned import column_boxes, crop_columns
from nsvla_perception.render import ArmPoser, lift_top_block, SceneRenderer
from nsvla_perception.settings import LearnedSettings

IGNORE = -100
VISIBLE = 0.5
HIDDEN = 0.15
# How often each block count is drawn (the evaluation uses 3..5; 1, 2 and 6 add variety).
BLOCK_WEIGHTS = {1: 0.5, 2: 1.0, 3: 2.0, 4: 2.0, 5: 2.0, 6: 1.5}


@dataclass
class ColumnData:
    """Column crops and labels of ``M`` images with ``K`` pegs and ``S`` colour slots."""

    crops: np.ndarray        # (M, K, H, W, 3) uint8
    labels: np.ndarray       # (M, K, S) int64: 0 absent, 1 + level, IGNORE
    pegs: np.ndarray         # (M, S) int64: true peg 1..K, 0 for a slot not in the scene
    hidden: np.ndarray       # (M, S) bool: the block is present but (partly) hidden
    num_blocks: np.ndarray   # (M,) int64
    seeds: np.ndarray        # (M,) int64
    arm: np.ndarray          # (M,) bool: the arm is posed near the pegs (else at home)

    def __len__(self) -> int:
        return int(self.crops.shape[0])


def generate(spec, images: int, seed_base: int, settings: LearnedSettings,
             arm_fraction: float = 0.3, jitter_px: float = 3.0, lift_fraction: float = 0.4,
             block_weights: Optional[Dict[int, float]] = None,
             progress: Optional[Callable[[int], None]] = None) -> ColumnData:
    """Render ``images`` scenes with seeds ``seed_base + j`` and return their column data."""
    s = settings
    weights = {n: w for n, w in (block_weights or BLOCK_WEIGHTS).items() if n <= s.max_blocks}
    counts: Sequence[int] = sorted(weights)
    rng = random.Random('perception-data-%d' % seed_base)
    camera = camera_from_spec(spec)
    levels = s.max_blocks
    boxes = column_boxes(spec, camera, levels, s.crop_margin)
    k = spec.num_pegs
    data = ColumnData(np.zeros((images, k, s.crop_height, s.crop_width, 3), np.uint8),
                      np.zeros((images, k, s.max_blocks), np.int64),
                      np.zeros((images, s.max_blocks), np.int64),
                      np.zeros((images, s.max_blocks), bool),
                      np.zeros(images, np.int64), np.zeros(images, np.int64),
                      np.zeros(images, bool))
    renderers: Dict[int, SceneRenderer] = {}
    posers: Dict[int, ArmPoser] = {}
    from nsvla_sim.scene import make_layout
    try:
        for j in range(images):
            n = rng.choices(counts, [weights[c] for c in counts])[0]
            if n not in renderers:
                renderers[n] = SceneRenderer(spec, n)
                posers[n] = ArmPoser(renderers[n])
            r = renderers[n]
            seed = seed_base + j
            layout = make_layout(spec, n, seed=seed, start='random', randomise=True)
            arm_q = posers[n].random_pose(rng) if rng.random() < arm_fraction else None
            fraction = np.ones(n)
            lifted = None
            if arm_q is not None:
                if rng.random() < lift_fraction:
                    lifted = lift_top_block(r, posers[n], layout, arm_q, rng)
                poses = lifted['block_poses'] if lifted else None
                r.set_layout(layout, block_poses=poses)
                full = np.bincount(r.block_mask().ravel(), minlength=n + 1)[1:]
                r.set_layout(layout, arm_q=arm_q, block_poses=poses,
                             gripper=lifted['gripper'] if lifted else None)
                seen = np.bincount(r.block_mask().ravel(), minlength=n + 1)[1:]
                fraction = seen / np.maximum(full, 1)
            else:
                r.set_layout(layout)
            rgb = r.render()
            jitter = np.array([[rng.uniform(-jitter_px, jitter_px) for _ in range(4)]
                               for _ in range(k)]) if jitter_px > 0 else None
            data.crops[j] = crop_columns(rgb, boxes, s.crop_width, s.crop_height, jitter)
            for b in layout.blocks:
                i = int(b.name[1:]) - 1
                if lifted and b.name == lifted['name']:
                    data.hidden[j, i] = True          # in the gripper: on no peg, label absent
                    continue
                data.pegs[j, i] = b.peg
                if fraction[i] >= VISIBLE:
                    data.labels[j, b.peg - 1, i] = 1 + b.level
                elif fraction[i] >= HIDDEN:
                    data.labels[j, b.peg - 1, i] = IGNORE
                    data.hidden[j, i] = True
                else:
                    data.hidden[j, i] = True
            data.num_blocks[j], data.seeds[j], data.arm[j] = n, seed, arm_q is not None
            if progress:
                progress(1)
    finally:
        for r in renderers.values():
            r.close()
    return data
