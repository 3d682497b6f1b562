# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Dropped rings do not sink into each other, the table or the pegs.

With MuJoCo's default soft contact (solref 0.02 s) a ring falling a few centimetres sank 6-12 mm
into the ring below and the pair stayed interlocked (moving as one). Seeded drops from 2-15 cm:
onto the table, onto a larger ring on a peg, onto a smaller one, onto a three-ring stack, onto a
ring off the pegs, tilted; the stack below asleep or awake. After the rings settle, the deepest
penetration between geoms of different rings (``mj_geomDistance``, negative = overlap) must stay
under ``TOLERANCE``. Run this file with Python to print the numbers for the scene's contact
settings and for MuJoCo's defaults (the settings before the fix).
"""

import dataclasses
import math
import random
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import mujoco
import numpy as np
import pytest
import yaml

from nsvla_common.errors import ConfigError
from nsvla_common.paths import config_path
from nsvla_sim import mjcf
from nsvla_sim.scene import load_scene, scene_from_dict, SceneSpec
from nsvla_sim.world import HanoiWorld

TOLERANCE = 0.002            # m of overlap allowed between two rings after they settle
SETTLE_S = 1.5               # s of physics after the release
BASE_SETTLE_S = 1.0          # s for the rings below to come to rest (and fall asleep)
NUM_BLOCKS = 6               # b1 (18 mm) .. b6 (34 mm apothem): every size pairing
NUM_DROPS = 40
FREE_SPOT = (0.72, 0.25)     # on the table, clear of the pegs and the arm
PARK_SPOTS = [(x, y) for y in (0.38, -0.38) for x in (0.30, 0.42, 0.54, 0.66)]
KINDS = ('table', 'on_larger', 'on_smaller', 'on_stack', 'off_pegs', 'tilted')
# MuJoCo's default contact: what the scene's table, peg and block geoms had before the fix.
MUJOCO_DEFAULT_CONTACT = {'contact_solref': (0.02, 1.0), 'contact_solimp': (0.9, 0.95, 0.001)}


@dataclass(frozen=True)
class Drop:
    """One seeded drop: ``dropper`` released ``height`` above what lies at ``site``."""

    index: int
    kind: str
    dropper: str
    below: Tuple[str, ...]      # rings resting at the site, bottom to top ('' = none)
    site: str                   # 'p1'..'p3' or 'free' (on the table off the pegs)
    height: float               # m between the lowest point of the ring and the top below
    yaw: float
    tilt: float                 # rad about a horizontal axis at ``tilt_axis``
    tilt_axis: float
    offset: Tuple[float, float]
    base_asleep: bool


def make_drops(count: int = NUM_DROPS, seed: int = 0,
               num_blocks: int = NUM_BLOCKS) -> List[Drop]:
    """Return ``count`` seeded drops, cycling through :data:`KINDS`."""
    rng = random.Random('drops-%d' % seed)
    names = ['b%d' % i for i in range(1, num_blocks + 1)]
    out = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        a, b = sorted(rng.sample(range(num_blocks), 2))   # a smaller than b
        site = 'p%d' % rng.randint(1, 3)
        tilt = math.radians(rng.uniform(0.0, 4.0))
        offset = (rng.uniform(-0.003, 0.003), rng.uniform(-0.003, 0.003))
        if kind == 'table':
            dropper, below, site = names[b], (), 'free'
        elif kind == 'on_larger':
            dropper, below = names[a], (names[b],)
        elif kind == 'on_smaller':
            dropper, below = names[b], (names[a],)
        elif kind == 'on_stack':
            small = rng.randrange(num_blocks - 3)
            dropper, below = names[small], tuple(names[-1:-4:-1])
        elif kind == 'off_pegs':
            dropper, below, site = rng.choice([(names[a], (names[b],)), (names[b], (names[a],))]) \
                + ('free',)
            offset = (rng.uniform(-0.006, 0.006), rng.uniform(-0.006, 0.006))
        else:
            dropper, below = names[a], (names[b],)
            site = rng.choice([site, 'free'])
            tilt = math.radians(rng.uniform(10.0, 35.0))
        out.append(Drop(i, kind, dropper, below, site, rng.uniform(0.02, 0.15),
                        rng.uniform(-0.4, 0.4), tilt, rng.uniform(0.0, 2 * math.pi), offset,
                        base_asleep=i % 2 == 0))
    return out


def _tilted_quat(yaw: float, tilt: float, axis: float) -> np.ndarray:
    turn = np.r_[math.cos(tilt / 2), math.sin(tilt / 2) * math.cos(axis),
                 math.sin(tilt / 2) * math.sin(axis), 0.0]
    out = np.zeros(4)
    mujoco.mju_mulQuat(out, turn, np.asarray(mjcf.yaw_quat(yaw)))
    return out


class DropRig:
    """A Hanoi world whose rings are placed by hand, released and measured."""

    def __init__(self, spec: SceneSpec, num_blocks: int = NUM_BLOCKS) -> None:
        self.world = HanoiWorld(spec, num_blocks=num_blocks, seed=0)
        m = self.world.model
        self.names = list(self.world.block_names)
        self.body = {b: int(m.body(b).id) for b in self.names}
        self.qpos = {b: int(m.joint('%s_joint' % b).qposadr[0]) for b in self.names}
        self.dof = {b: int(m.joint('%s_joint' % b).dofadr[0]) for b in self.names}
        self.geoms = {b: [g for g in range(m.ngeom) if m.geom_bodyid[g] == self.body[b]]
                      for b in self.names}
        pegs = ['peg_p%d' % k for k in range(1, spec.num_pegs + 1)]
        self.fixed = [int(m.geom(g).id) for g in ['table'] + pegs]
        self.block_of_geom = np.full(m.ngeom, -1)
        for i, b in enumerate(self.names):
            self.block_of_geom[self.geoms[b]] = i

    def close(self) -> None:
        self.world.close()

    # ------------------------------------------------------------ placing
    def _wake(self, names: Sequence[str]) -> None:
        """Wake sleeping rings (a tiny applied force for one step) so that moving them sticks."""
        d = self.world.data
        for b in names:
            d.xfrc_applied[self.body[b], 2] = 1e-6
        self.world.step(1)
        d.xfrc_applied[:] = 0.0

    def _put(self, name: str, pos: Sequence[float], quat: Sequence[float]) -> None:
        d = self.world.data
        adr, dof = self.qpos[name], self.dof[name]
        d.qpos[adr:adr + 3] = pos
        d.qpos[adr + 3:adr + 7] = quat
        d.qvel[dof:dof + 6] = 0.0

    def _z_range(self, name: str) -> Tuple[float, float]:
        """Lowest and highest z of a ring's segment corners (after mj_forward)."""
        m, d = self.world.model, self.world.data
        signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
        zs = []
        for g in self.geoms[name]:
            corners = (signs * m.geom_size[g]) @ d.geom_xmat[g].reshape(3, 3).T + d.geom_xpos[g]
            zs.extend(corners[:, 2])
        return min(zs), max(zs)

    # ------------------------------------------------------------ measuring
    def ring_overlap(self) -> float:
        """Deepest overlap (m, >= 0) between segments of two different rings."""
        m, d = self.world.model, self.world.data
        worst = 0.0
        for i, a in enumerate(self.names):
            for b in self.names[i + 1:]:
                if np.linalg.norm(d.xpos[self.body[a]] - d.xpos[self.body[b]]) > 0.1:
                    continue
                for ga in self.geoms[a]:
                    for gb in self.geoms[b]:
                        worst = max(worst, -mujoco.mj_geomDistance(m, d, ga, gb, 0.01, None))
        return worst

    def fixed_overlap(self) -> float:
        """Deepest overlap (m, >= 0) of a ring with the table or a peg."""
        m, d = self.world.model, self.world.data
        worst = 0.0
        for b in self.names:
            for ga in self.geoms[b]:
                for gf in self.fixed:
                    worst = max(worst, -mujoco.mj_geomDistance(m, d, ga, gf, 0.01, None))
        return worst

    def _contact_overlap(self) -> float:
        """Deepest ring-ring contact this step (what the impact does, before it settles)."""
        d = self.world.data
        n = d.ncon
        if not n:
            return 0.0
        a = self.block_of_geom[d.contact.geom1[:n]]
        b = self.block_of_geom[d.contact.geom2[:n]]
        both = (a >= 0) & (b >= 0) & (a != b)
        return float(max(0.0, -d.contact.dist[:n][both].min())) if both.any() else 0.0

    # ------------------------------------------------------------ one drop
    def run(self, drop: Drop) -> Dict[str, float]:
        w = self.world
        spec, m, d = w.spec, w.model, w.data
        w.reset(seed=0)
        self._wake(self.names)
        xy = FREE_SPOT if drop.site == 'free' else spec.peg_xy(int(drop.site[1:]))
        parks = iter(PARK_SPOTS)
        for b in self.names:
            if b in drop.below:
                level = drop.below.index(b)
                self._put(b, (xy[0], xy[1], spec.block_centre_z(level) + 0.0003),
                          mjcf.yaw_quat(0.0))
            else:
                px, py = next(parks)
                self._put(b, (px, py, spec.block_centre_z(0) + 0.0003), mjcf.yaw_quat(0.0))
        mujoco.mj_forward(m, d)
        if drop.base_asleep:
            w.advance(BASE_SETTLE_S)
            self._wake([drop.dropper])   # wakes the dropper (alone at its spot), not the stack
        top = self._z_range(drop.below[-1])[1] if drop.below else 0.0
        quat = _tilted_quat(drop.yaw, drop.tilt, drop.tilt_axis)
        self._put(drop.dropper, (0.0, 0.0, 1.0), quat)
        mujoco.mj_forward(m, d)
        low = self._z_range(drop.dropper)[0] - 1.0
        self._put(drop.dropper, (xy[0] + drop.offset[0], xy[1] + drop.offset[1],
                                 top + drop.height - low), quat)
        mujoco.mj_forward(m, d)
        peak = 0.0
        for _ in range(int(round(SETTLE_S / w.timestep))):
            w.step(1)
            peak = max(peak, self._contact_overlap())
        rest = {}
        if drop.below:
            rest['gap_above'] = (float(d.xpos[self.body[drop.dropper]][2]
                                       - d.xpos[self.body[drop.below[-1]]][2]))
        return dict(ring=self.ring_overlap(), fixed=self.fixed_overlap(), impact=peak, **rest)


def run_drops(spec: SceneSpec, drops: Sequence[Drop], show: bool = True
              ) -> List[Dict[str, float]]:
    """Run the drops in one world; print one line per drop when ``show``."""
    rig = DropRig(spec)
    try:
        results = []
        for drop in drops:
            res = rig.run(drop)
            results.append(res)
            if show:
                print('%2d %-10s %s -> %-12s %-4s h %.3f tilt %4.1f %-6s ring %5.2f mm  '
                      'table/peg %5.2f mm  impact %5.2f mm%s'
                      % (drop.index, drop.kind, drop.dropper, '+'.join(drop.below) or 'table',
                         drop.site, drop.height, math.degrees(drop.tilt),
                         'asleep' if drop.base_asleep else 'awake', res['ring'] * 1e3,
                         res['fixed'] * 1e3, res['impact'] * 1e3,
                         '  centre gap %.1f mm' % (res['gap_above'] * 1e3)
                         if 'gap_above' in res else ''))
        return results
    finally:
        rig.close()


def _worst(results: Sequence[Dict[str, float]], key: str) -> float:
    return max(r[key] for r in results)


@pytest.fixture(scope='module')
def spec() -> SceneSpec:
    return load_scene()


def test_dropped_rings_do_not_sink_into_each_other(spec, capsys):
    drops = make_drops()
    results = run_drops(spec, drops)
    worst_ring, worst_fixed = _worst(results, 'ring'), _worst(results, 'fixed')
    summary = ('%d drops: deepest ring-ring overlap %.2f mm, ring-table/peg %.2f mm, during '
               'impact %.2f mm' % (len(drops), worst_ring * 1e3, worst_fixed * 1e3,
                                   _worst(results, 'impact') * 1e3))
    with capsys.disabled():
        print('\n' + summary)
    assert worst_ring < TOLERANCE, summary
    assert worst_fixed < TOLERANCE, summary
    # A ring that lands flat on another rests a block height above it, not inside it.
    for drop, res in zip(drops, results):
        if drop.kind in ('on_larger', 'on_smaller', 'on_stack') and 'gap_above' in res:
            assert res['gap_above'] > spec.block_height - TOLERANCE, (drop, res)


def test_the_drops_catch_the_soft_contact_that_sank_rings(spec):
    """With MuJoCo's default contact the same drops sink rings into each other (>5 mm)."""
    soft = dataclasses.replace(spec, **MUJOCO_DEFAULT_CONTACT)
    drops = [d for d in make_drops() if d.kind in ('on_larger', 'on_smaller', 'on_stack')
             and d.height > 0.08][:8]
    assert len(drops) == 8
    results = run_drops(soft, drops, show=False)
    assert _worst(results, 'ring') > 0.005
    assert sum(r['ring'] > TOLERANCE for r in results) >= 3


@pytest.mark.parametrize('key, value, words', [
    ('contact_solref', [0.003, 1.0], 'twice the timestep'),
    ('contact_solimp', [0.99, 0.95, 0.001], 'dmin <= dmax'),
    ('contact_solref', [0.004], 'physics.contact_solref'),
])
def test_the_scene_refuses_contact_settings_mujoco_would_not_keep(key, value, words):
    with open(config_path('scene_default.yaml')) as f:
        data = yaml.safe_load(f)
    data['physics'][key] = value
    with pytest.raises(ConfigError) as err:
        scene_from_dict(data)
    assert words in str(err.value)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Print the drops with the scene's contact settings and with MuJoCo's defaults."""
    spec = load_scene()
    drops = make_drops()
    for label, s in (('MuJoCo default contact (before)', dataclasses.replace(
            spec, **MUJOCO_DEFAULT_CONTACT)), ('scene contact settings (after)', spec)):
        print('== %s: solref %s solimp %s' % (label, s.contact_solref, s.contact_solimp))
        results = run_drops(s, drops)
        over = sum(r['ring'] >= TOLERANCE for r in results)
        print('== worst: ring-ring %.2f mm, ring-table/peg %.2f mm, impact %.2f mm; over %.0f '
              'mm: %d of %d' % (_worst(results, 'ring') * 1e3, _worst(results, 'fixed') * 1e3,
                                _worst(results, 'impact') * 1e3, TOLERANCE * 1e3, over,
                                len(results)))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
