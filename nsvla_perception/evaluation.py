# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Accuracy of a backend on freshly rendered randomised scenes (``nsvla eval-perception``).

Scene ``j`` is ``make_layout(spec, N, seed + j, start='random', randomise=True)`` rendered with
the arm at home (out of view) unless ``arm`` asks for random arm poses in front of or above a
peg, half of them holding the top block of a stack (then no resting state is true and the only
right answer is unknown). Metrics, one frame per scene, no temporal filter:

- ``exact_state_accuracy``: the state is known and equal to the ground truth (no block held);
- ``fact_accuracy``: true facts reported / true facts (an unknown state reports none; scenes
  with a held block are left out);
- ``unknown_rate``: frames answered unknown (safe); ``wrong_rate``: known but wrong (unsafe),
  ``wrong_with_held_block`` of them in scenes where the gripper holds a block;
- ``median_ms`` / ``p90_ms``: time of ``perceive`` per frame (no rendering).
"""

import random
from typing import Any, Callable, Dict, Optional

import numpy as np

from nsvla_perception.backend import make_perceiver
from nsvla_perception.render import ArmPoser, lift_top_block, SceneRenderer


def evaluate_backend(backend: str, spec, num_blocks: int, scenes: int, seed: int,
                     model_path: Optional[str] = None, settings=None, arm: bool = False,
                     min_confidence: float = 0.5,
                     progress: Optional[Callable[[int], None]] = None,
                     perceiver=None) -> Dict[str, Any]:
    """
    Return the metrics of the module docstring for ``scenes`` scenes from ``seed`` on.

    ``spec`` is the world rendered; ``perceiver`` (default: one built for ``spec``) may know
    another rig, e.g. the nominal or a calibrated one where the world's camera was moved.
    """
    from nsvla_sim.scene import make_layout
    if perceiver is None:
        perceiver = make_perceiver(backend, spec, num_blocks, min_confidence, model_path,
                                   settings)
    exact = unknown = wrong = facts_ok = facts_total = lifted_count = wrong_held = 0
    times = []
    rng = random.Random('eval-arm-%d' % seed)
    with SceneRenderer(spec, num_blocks) as renderer:
        poser = ArmPoser(renderer) if arm else None
        for j in range(scenes):
            layout = make_layout(spec, num_blocks, seed=seed + j, start='random',
                                 randomise=True)
            arm_q = poser.random_pose(rng) if poser else None
            lifted = None
            if arm_q is not None and rng.random() < 0.5:
                lifted = lift_top_block(renderer, poser, layout, arm_q, rng)
                lifted_count += 1
            else:
                renderer.set_layout(layout, arm_q=arm_q)
            result = perceiver.perceive(renderer.render())
            times.append(result.seconds)
            truth = layout.start_state(spec.num_pegs)
            true_facts = set(truth.fact_keys())
            if not lifted:
                facts_total += len(true_facts)
                facts_ok += len(true_facts & set(result.state.fact_keys()))
            if not result.state.known:
                unknown += 1
            elif result.state == truth and not lifted:
                exact += 1
            else:
                wrong += 1
                wrong_held += int(bool(lifted))
            if progress:
                progress(1)
    ms = np.array(times) * 1000.0
    return {'backend': backend, 'blocks': num_blocks, 'scenes': scenes,
            'exact_state_accuracy': round(exact / max(scenes, 1), 4),
            'fact_accuracy': round(facts_ok / max(facts_total, 1), 4),
            'median_ms': round(float(np.median(ms)), 2) if scenes else None,
            'p90_ms': round(float(np.percentile(ms, 90)), 2) if scenes else None,
            'unknown_rate': round(unknown / max(scenes, 1), 4),
            'wrong_rate': round(wrong / max(scenes, 1), 4),
            'seed': seed, 'arm_in_view': bool(arm), 'held_block_scenes': lifted_count,
            'wrong_with_held_block': wrong_held}
