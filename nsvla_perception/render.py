# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Fast rendering of scene layouts for training, evaluation, tests and the bench (no physics).

:class:`SceneRenderer` compiles the MJCF of ``nsvla_sim.mjcf`` once per block count and then
places blocks, colours, light and camera of each :class:`nsvla_sim.scene.Layout` in the compiled
model, as ``nsvla_sim.world.HanoiWorld`` does, so a new scene costs one ``mj_forward`` and one
render (tens of milliseconds) rather than a model compile. Blocks sit where the layout puts them
(no settling); the arm is at its home pose unless ``arm_q`` is given. A segmentation render gives
the pixels of each block for automatic labels (visible or occluded).
"""

import math
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from nsvla_common.errors import ConfigError


class SceneRenderer:
    """Render layouts of one scene spec with a fixed number of blocks (one compiled model)."""

    def __init__(self, spec, num_blocks: int, width: Optional[int] = None,
                 height: Optional[int] = None, board: bool = False) -> None:
        """Compile the scene once; ``board`` lays its calibration board on the table."""
        from nsvla_common.rosenv import mujoco_for_rendering
        from nsvla_sim.mjcf import build_mjcf, yaw_quat
        mujoco = mujoco_for_rendering()
        from nsvla_sim.scene import make_layout
        self._mj = mujoco
        self._yaw_quat = yaw_quat
        self.spec = spec
        self.num_blocks = int(num_blocks)
        self.width = int(width or spec.camera.width)
        self.height = int(height or spec.camera.height)
        template = make_layout(spec, self.num_blocks, seed=0, start='tower', randomise=False)
        xml = build_mjcf(spec, template, offscreen=(max(self.width, 64), max(self.height, 64)),
                         board=board)
        try:
            self.model = mujoco.MjModel.from_xml_string(xml)
        except ValueError as exc:
            raise ConfigError('scene MJCF does not compile: %s' % exc) from None
        self.data = mujoco.MjData(self.model)
        m = self.model
        self._cam = int(m.camera(spec.camera.name).id)
        names = ['b%d' % i for i in range(1, self.num_blocks + 1)]
        self._qpos = {b: int(m.joint('%s_joint' % b).qposadr[0]) for b in names}
        self._arm_qpos = [int(m.joint('panda_joint%d' % j).qposadr[0]) for j in range(1, 8)]
        self._finger_qpos = [int(m.joint(j).qposadr[0])
                             for j in ('panda_finger_joint1', 'panda_finger_joint2')]
        # Body id -> block index (1-based), 0 for anything else: for segmentation labels.
        self._body_block = np.zeros(m.nbody, np.int32)
        for i, b in enumerate(names, start=1):
            self._body_block[int(m.body(b).id)] = i
        self._geom_block = self._body_block[m.geom_bodyid]
        self._renderer = mujoco.Renderer(m, self.height, self.width)
        self._seg_renderer = None
        self.layout = None

    # ------------------------------------------------------------------ scene set-up
    def set_layout(self, layout, arm_q: Optional[Sequence[float]] = None,
                   gripper: Optional[float] = None,
                   block_poses: Optional[Dict[str, Tuple[Sequence[float], float]]] = None
                   ) -> None:
        """
        Place the blocks, colours, light and camera of ``layout`` (and the arm) in the model.

        ``block_poses`` overrides the position (x, y, z centre) and yaw of named blocks, e.g. a
        block lifted by the gripper or lying off the pegs.
        """
        if layout.num_blocks != self.num_blocks:
            raise ConfigError('layout has %d blocks, this renderer %d'
                              % (layout.num_blocks, self.num_blocks))
        m, d, spec = self.model, self.data, self.spec
        block_poses = block_poses or {}
        # Model fields first: MuJoCo 4 computes the poses of world-fixed cameras and lights when
        # the data is reset, not in mj_forward, so reset after changing them.
        from nsvla_sim.world import apply_layout_appearance
        apply_layout_appearance(m, layout, spec.camera.name, spec.light_colour)
        self._mj.mj_resetData(m, d)
        for b in layout.blocks:
            adr = self._qpos[b.name]
            if b.name in block_poses:
                pos, yaw = block_poses[b.name]
                d.qpos[adr:adr + 3] = pos
            else:
                x, y = spec.peg_xy(b.peg)
                d.qpos[adr:adr + 3] = (x + b.offset[0], y + b.offset[1],
                                       spec.block_centre_z(b.level) + 0.0005)
                yaw = b.yaw
            d.qpos[adr + 3:adr + 7] = self._yaw_quat(yaw)
        d.qpos[self._arm_qpos] = spec.home if arm_q is None else arm_q
        d.qpos[self._finger_qpos] = spec.gripper_home if gripper is None else gripper
        self._mj.mj_forward(m, d)
        self.layout = layout

    # ------------------------------------------------------------------ images
    def render(self) -> np.ndarray:
        """Return the RGB image (height, width, 3) uint8 of the current layout."""
        r = self._renderer
        r.update_scene(self.data, camera=self._cam)
        r.scene.flags[self._mj.mjtRndFlag.mjRND_SHADOW] = False
        r.scene.flags[self._mj.mjtRndFlag.mjRND_REFLECTION] = False
        return r.render().copy()

    def block_mask(self) -> np.ndarray:
        """Return an int32 image: the block index (1..N) seen at each pixel, 0 elsewhere."""
        if self._seg_renderer is None:
            self._seg_renderer = self._mj.Renderer(self.model, self.height, self.width)
            self._seg_renderer.enable_segmentation_rendering()
        r = self._seg_renderer
        r.update_scene(self.data, camera=self._cam)
        seg = r.render()
        ids, types = seg[:, :, 0], seg[:, :, 1]
        out = np.zeros(ids.shape, np.int32)
        is_geom = (types == int(self._mj.mjtObj.mjOBJ_GEOM)) & (ids >= 0)
        out[is_geom] = self._geom_block[ids[is_geom]]
        return out

    def block_centres(self) -> np.ndarray:
        """Return the world centre (N, 3) of each block as placed."""
        return np.array([self.data.qpos[self._qpos['b%d' % i]:self._qpos['b%d' % i] + 3]
                         for i in range(1, self.num_blocks + 1)])

    def close(self) -> None:
        """Free the render contexts."""
        for r in (self._renderer, self._seg_renderer):
            if r is not None:
                try:
                    r.close()
                except Exception:  # noqa: BLE001 - a context already gone is fine at close
                    pass
        self._renderer = self._seg_renderer = None

    def __enter__(self) -> 'SceneRenderer':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def render_layout(spec, layout, arm_q: Optional[Sequence[float]] = None) -> np.ndarray:
    """Render one layout with a throw-away renderer (tests, one-off images)."""
    with SceneRenderer(spec, layout.num_blocks) as r:
        r.set_layout(layout, arm_q=arm_q)
        return r.render()


def lift_top_block(renderer: SceneRenderer, poser: 'ArmPoser', layout, arm_q, rng
                   ) -> Dict[str, object]:
    """
    Put the top block of a random non-empty peg in the gripper posed at ``arm_q``.

    Leaves the renderer showing the arm with that block at its TCP (fingers closed on it) and
    returns ``{'name', 'block_poses', 'gripper'}`` to set the same scene again.
    """
    renderer.set_layout(layout, arm_q=arm_q)
    tcp = poser.tcp()
    tops = [column[-1] for column in layout.stacks.values() if column]
    name = tops[rng.randrange(len(tops))]
    spec = renderer.spec
    apothem = spec.block_apothems(layout.num_blocks)[int(name[1:]) - 1]
    poses = {name: ((tcp[0], tcp[1], tcp[2] - spec.grasp_above_centre), 0.0)}
    gripper = min(apothem, 0.04)
    renderer.set_layout(layout, arm_q=arm_q, gripper=gripper, block_poses=poses)
    return {'name': name, 'block_poses': poses, 'gripper': gripper}


class ArmPoser:
    """Joint positions that put the gripper in front of / above the pegs (occlusion scenes)."""

    def __init__(self, renderer: SceneRenderer) -> None:
        from nsvla_control.kinematics import IKSolver
        from nsvla_sim.mjcf import ARM_JOINTS, TCP_SITE
        self.renderer = renderer
        self.ik = IKSolver(renderer.model, site=TCP_SITE, joints=ARM_JOINTS)

    def pose(self, target: Sequence[float], yaw: float = math.pi / 2) -> Optional[np.ndarray]:
        """Return arm joint positions with the TCP at ``target`` pointing down, or None."""
        from nsvla_common.robot import top_down_quat
        res = self.ik.solve(target, top_down_quat(yaw),
                            q_init=np.asarray(self.renderer.spec.home, float))
        return np.asarray(res.q, float) if res.success else None

    def tcp(self) -> np.ndarray:
        """Return the TCP position in the renderer's current scene."""
        from nsvla_sim.mjcf import TCP_SITE
        return self.renderer.data.site(TCP_SITE).xpos.copy()

    def random_pose(self, rng) -> Optional[np.ndarray]:
        """Return a pose with the TCP near a random peg, in front of it or above it."""
        spec = self.renderer.spec
        k = rng.randint(1, spec.num_pegs)
        x, y = spec.peg_xy(k)
        target = (x + rng.uniform(-0.02, 0.16), y + rng.uniform(-0.06, 0.06),
                  rng.uniform(0.02, 0.16))
        return self.pose(target, yaw=rng.uniform(0.0, math.pi))
