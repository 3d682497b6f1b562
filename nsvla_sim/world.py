# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``HanoiWorld``: the embedded MuJoCo Towers of Hanoi world, usable without ROS.

Build, drive and observe it from plain Python::

    from nsvla_sim.world import HanoiWorld
    world = HanoiWorld(num_blocks=3, seed=0, start='tower')   # or start='random' / {peg: [...]}
    world.set_trajectory('arm', world.arm_joint_names, [RawPoint(2.0, q_goal)])
    world.set_trajectory('gripper', ['panda_finger_joint1'], [RawPoint(0.5, [0.0])])
    world.advance(2.5)                      # physics, seconds of simulated time
    rgb = world.render(640, 480)            # (480, 640, 3) uint8, shadows off
    state = world.ground_truth()            # nsvla_planner.state.SymbolicState
    world.reset(seed=1, start='random')

Public API (all lengths in metres, angles in radians, the world frame has z up with z = 0 on the
table top and the robot base at the origin):

- construction and life cycle: ``HanoiWorld(scene='scene_default.yaml', num_blocks=3, seed=0,
  start='tower', randomise=False, weld_assist=False, drop_probability=0.0, start_time=0.0,
  limit_tolerance=0.05, calibration_board=False)`` (``calibration_board`` lays the scene's
  printed calibration board on the table, for ``nsvla calibrate-check``),
  ``reset(seed=None, num_blocks=None, start=None, randomise=None) -> SymbolicState``,
  ``close()``. ``spec`` (the ``SceneSpec``), ``layout`` (the ``Layout`` of the last reset),
  ``block_names``. The sim clock (``time``) starts at ``start_time`` and never runs backwards,
  also not across resets.
- time: ``time``, ``timestep``, ``step(n=1)``, ``advance(seconds)``, ``run_until_idle(timeout)``.
- control (like joint_trajectory_controller, see ``nsvla_sim.trajectory``):
  ``set_trajectory(controller, joint_names, points)`` with ``controller`` ``'arm'`` or
  ``'gripper'``; raises ``TrajectoryError`` (a ``ValidationError``) with the reason and changes
  nothing when it is malformed. Arm trajectories must also keep within the Panda's joint
  velocity and acceleration limits (``nsvla_sim.mjcf.ARM_MOTION_LIMITS``, ``limit_tolerance``
  over them accepted; ``check_motion_limits``): one that does not raises ``MotionLimitError``
  and, like the Franka controller's reflex, stops the arm where its set-point is.
  ``hold()`` stops both controllers where they are;
  ``busy()`` is true while a trajectory is running; ``arm`` / ``gripper`` are the
  set-point generators (``TrajectoryFollower``: ``sample(t)`` gives the commanded position).
- joints: ``arm_joint_names`` (7), ``gripper_joint_names`` (2 coupled fingers, opening of one
  finger 0..0.04), ``joint_names``, ``joint_limits() -> {name: (low, high)}``,
  ``controllers`` (``{'arm': ControllerSpec, 'gripper': ControllerSpec}``),
  ``motion_limits() -> {arm joint: (max velocity, max acceleration)}``, ``home``,
  ``arm_positions()``, ``gripper_opening()``, ``joint_state() -> (names, pos, vel, effort)``.
- for inverse kinematics: ``model`` / ``data`` (``mujoco.MjModel`` / ``MjData``; treat ``data``
  as read-only), ``tcp_site`` (site between the finger pads), ``ik_solver()`` (an
  ``nsvla_control.kinematics.IKSolver``), ``tcp_pose()``, ``peg_position(k)`` (peg base
  on the table, 1-based), ``peg_top(k)``, ``block_grasp_height(level)`` and
  ``block_place_height(level)`` (TCP height to grasp / release a block at stack ``level``,
  0 = on the table), ``grasp_yaw(block)`` (TCP yaw putting two flat faces against the fingers),
  ``block_pose(name) -> (pos, quat)``, ``blocks_on_peg(k)`` (bottom to top, from geometry),
  ``held_block()``.
- observation: ``render(width=None, height=None, camera=None) -> uint8 (h, w, 3)`` (the scene
  camera, or ``'overview'``), ``camera_info(width, height)`` (ROS CameraInfo fields as a dict),
  ``camera_pose()`` (optical frame: x right, y down, z forward), ``project(points, width,
  height)`` (world points to pixels), ``ground_truth() -> SymbolicState``
  (``nsvla_sim.ground_truth``), ``observations()`` (pose, tilt, yaw, speed and contacts of
  each block), ``visible_share(names) -> {block: 0..1}`` (the share of each block's silhouette
  the scene camera sees, from segmentation renders).
- faults: ``drop_probability`` (a grasp slips mid-transport, seeded by the reset seed),
  ``weld_assist`` (a weld constraint holds a gripped block; off by default: the fingers hold
  it by friction), ``events`` (recent grasp / drop / weld / ``fell_off_table`` events as
  dicts), ``fallen`` (block -> simulated time it fell off the table, since the reset).

One world per thread: MuJoCo data and the render context are not shared between threads.
"""

import math
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from nsvla_common.camera import camera_info_fields
from nsvla_common.errors import ValidationError
from nsvla_common.rosenv import mujoco_for_rendering
from nsvla_control.kinematics import IKSolver
from nsvla_planner.state import SymbolicState
from nsvla_sim import mjcf
from nsvla_sim.faults import DropInjector
from nsvla_sim.ground_truth import BlockObservation, symbolic_from_observations
from nsvla_sim.scene import DEFAULT_SCENE, Layout, load_scene, make_layout, SceneSpec, StartSpec
from nsvla_sim.trajectory import (check_motion_limits, ControllerSpec, LIMIT_TOLERANCE,
                                  MotionLimitError, RawPoint, Trajectory, TrajectoryError,
                                  TrajectoryFollower, validate_trajectory)

# The world renders: MuJoCo is imported with headless OpenGL when there is no display.
mujoco = mujoco_for_rendering()

MONITOR_EVERY = 10          # physics steps between grasp / fault checks (20 ms at 2 ms steps)
RELEASE_CLEARANCE = 0.002   # release a block this far above where it comes to rest
MAX_EVENTS = 200
HELD_DEBOUNCE = 3            # monitor checks a lift / release must last to count
LIFT_RISE = 0.002            # m a gripped block must rise above where the fingers closed on it
FALLEN_DEPTH = 0.05          # m under the table's top (z = 0) at which a block has fallen off


def _mat_to_quat(mat: Sequence[float]) -> np.ndarray:
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.asarray(mat, float).flatten())
    return quat


def apply_layout_appearance(model: mujoco.MjModel, layout: Layout, camera: str,
                            light_colour: Sequence[float] = (1.0, 1.0, 1.0)) -> None:
    """
    Set the block colours, light and camera pose of ``layout`` in a compiled Hanoi model.

    ``light_colour`` tints every light (the scene's ``lighting.colour``; white by default).

    Model fields only: MuJoCo computes the poses of world-fixed cameras and lights when the data
    is reset, so call ``mj_resetData`` afterwards. Shared by the world and perception's renderer.
    """
    m = model
    for b in layout.blocks:
        m.mat_rgba[m.material('%s_material' % b.name).id] = tuple(b.colour) + (1.0,)
    light = m.light('sun').id
    direction = np.asarray(layout.light_direction, float)
    m.light_dir[light] = direction / max(np.linalg.norm(direction), 1e-9)
    tint = np.asarray(light_colour, float)
    m.light_diffuse[light] = layout.light_diffuse * tint
    m.vis.headlight.ambient[:] = layout.light_ambient * tint
    m.vis.headlight.diffuse[:] = mjcf.HEADLIGHT_DIFFUSE * tint
    x_axis, y_axis = mjcf.look_at_axes(layout.camera_position, layout.camera_look_at)
    rot = np.column_stack([x_axis, y_axis, np.cross(x_axis, y_axis)])
    cam = m.camera(camera).id
    m.cam_pos[cam] = layout.camera_position
    m.cam_quat[cam] = _mat_to_quat(rot)


def _plain(renderer: mujoco.Renderer) -> mujoco.Renderer:
    """Turn off shadows and reflections in ``renderer``'s updated scene; return it."""
    renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
    renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
    return renderer


class HanoiWorld:
    """A Franka Panda, pegs, ring blocks and a camera in MuJoCo (see the module docstring)."""

    def __init__(self, scene: Union[str, SceneSpec] = DEFAULT_SCENE, num_blocks: int = 3,
                 seed: int = 0, start: StartSpec = 'tower', randomise: bool = False,
                 weld_assist: bool = False, drop_probability: float = 0.0,
                 start_time: float = 0.0, drop_grasps: Sequence[int] = (),
                 limit_tolerance: float = LIMIT_TOLERANCE,
                 calibration_board: bool = False) -> None:
        self.spec = scene if isinstance(scene, SceneSpec) else load_scene(scene)
        self.calibration_board = bool(calibration_board)
        if not 0.0 <= float(limit_tolerance) <= 1.0:
            raise ValidationError('limit_tolerance must be in [0, 1], got %r' % limit_tolerance)
        self.limit_tolerance = float(limit_tolerance)
        self.weld_assist = bool(weld_assist)
        self.drop_probability = float(drop_probability)
        self.drop_grasps = tuple(int(g) for g in drop_grasps)
        self.model: Optional[mujoco.MjModel] = None
        self.data: Optional[mujoco.MjData] = None
        self.layout: Optional[Layout] = None
        self.events: List[Dict[str, Any]] = []
        self._renderers: Dict[Tuple[int, int], mujoco.Renderer] = {}
        self._seed = int(seed)
        self._start: StartSpec = start
        self._randomise = bool(randomise)
        self._num_blocks = num_blocks
        self._debt = 0.0
        self._event_total = 0
        self._t_offset = float(start_time)
        self.reset(seed, num_blocks, start, randomise)

    # ================================================================ life cycle
    def reset(self, seed: Optional[int] = None, num_blocks: Optional[int] = None,
              start: StartSpec = None, randomise: Optional[bool] = None) -> SymbolicState:
        """
        Rebuild the start layout (same arguments as the constructor; None keeps the last).

        Returns the ground truth after the blocks have settled. The model is recompiled only
        when the number of blocks changes; colours, light and camera are set in place.
        """
        seed = self._seed if seed is None else int(seed)
        n = self._num_blocks if num_blocks is None else num_blocks
        start = self._start if start is None else start
        randomise = self._randomise if randomise is None else bool(randomise)
        layout = make_layout(self.spec, n, seed, start, randomise)
        # validated before anything changes
        drops = DropInjector(self.drop_probability, seed, forced=self.drop_grasps)
        keep_time = self.time if self.data is not None else self._t_offset
        if self.model is None or self.layout is None or self.layout.num_blocks != n:
            self._compile(layout)
        self._seed, self._num_blocks, self._start, self._randomise = seed, n, start, randomise
        self.layout = layout
        m, d = self.model, self.data
        # Model fields first: MuJoCo computes the poses of world-fixed cameras and lights when
        # the data is reset, not in mj_forward.
        self._apply_model_layout(layout)
        mujoco.mj_resetData(m, d)
        self._place_blocks(layout)
        home = np.array(self.spec.home)
        d.qpos[self._arm_qpos] = home
        d.qpos[self._finger_qpos] = self.spec.gripper_home
        self.arm = TrajectoryFollower(self.controllers['arm'], home)
        self.gripper = TrajectoryFollower(self.controllers['gripper'], [self.spec.gripper_home])
        d.time = 0.0
        self._t_offset = keep_time
        self._drops = drops
        self._pending_drop: Optional[Tuple[str, float]] = None
        self._slipping: Optional[Tuple[str, float]] = None
        self._held: Optional[str] = None
        self._held_seen: Optional[str] = None
        self._held_votes = 0
        self._grip_z: Dict[str, float] = {}
        self._weld_on: Optional[str] = None
        self._weld_armed = True
        self._steps = 0
        self._debt = 0.0
        self.events = []
        self.fallen: Dict[str, float] = {}
        m.geom_friction[self._pad_geoms] = self._pad_friction
        d.eq_active[:] = m.eq_active0
        self._apply_controls()
        mujoco.mj_forward(m, d)
        self.step(int(round(0.2 / m.opt.timestep)))   # let the blocks settle
        return self.ground_truth()

    def _compile(self, layout: Layout) -> None:
        self.close()
        xml = mjcf.build_mjcf(self.spec, layout, board=self.calibration_board)
        self.model = mujoco.MjModel.from_xml_string(xml)
        self.data = mujoco.MjData(self.model)
        m = self.model
        self.arm_joint_names: Tuple[str, ...] = mjcf.ARM_JOINTS
        self.gripper_joint_names: Tuple[str, ...] = mjcf.FINGER_JOINTS
        self.joint_names = self.arm_joint_names + self.gripper_joint_names
        self.tcp_site = mjcf.TCP_SITE
        self._arm_qpos = [int(m.joint(j).qposadr[0]) for j in self.arm_joint_names]
        self._arm_dof = [int(m.joint(j).dofadr[0]) for j in self.arm_joint_names]
        self._finger_qpos = [int(m.joint(j).qposadr[0]) for j in self.gripper_joint_names]
        self._finger_dof = [int(m.joint(j).dofadr[0]) for j in self.gripper_joint_names]
        self._arm_act = [int(m.actuator('actuator_%s' % j).id) for j in self.arm_joint_names]
        self._grip_act = int(m.actuator(mjcf.GRIPPER_ACTUATOR).id)
        self._ff = np.array([kv / kp for kp, kv in zip(mjcf.ARM_KP, mjcf.ARM_KV)])
        self._grip_ff = mjcf.GRIPPER_KV / mjcf.GRIPPER_KP
        self._limits = {j: (float(m.jnt_range[m.joint(j).id][0]),
                            float(m.jnt_range[m.joint(j).id][1])) for j in self.joint_names}
        arm_lo = tuple(self._limits[j][0] for j in self.arm_joint_names)
        arm_hi = tuple(self._limits[j][1] for j in self.arm_joint_names)
        g_lo, g_hi = self._limits[self.gripper_joint_names[0]]
        self.controllers = {
            'arm': ControllerSpec(
                'arm_controller', self.arm_joint_names, arm_lo, arm_hi,
                max_velocity=tuple(mjcf.ARM_MOTION_LIMITS[j][0] for j in self.arm_joint_names),
                max_acceleration=tuple(mjcf.ARM_MOTION_LIMITS[j][1]
                                       for j in self.arm_joint_names)),
            'gripper': ControllerSpec('gripper_controller', self.gripper_joint_names[:1],
                                      (g_lo,), (g_hi,),
                                      mimic=((self.gripper_joint_names[1],
                                              self.gripper_joint_names[0]),)),
        }
        self.block_names = [b.name for b in layout.blocks]
        self._block_body = {b: int(m.body(b).id) for b in self.block_names}
        self._body_block = {v: k for k, v in self._block_body.items()}
        self._block_qpos = {b: int(m.joint('%s_joint' % b).qposadr[0]) for b in self.block_names}
        self._pad_geoms = [int(m.geom(g).id) for g in mjcf.FINGER_PAD_GEOMS]
        self._block_index = np.full(m.nbody, -1, int)
        for i, b in enumerate(self.block_names):
            self._block_index[self._block_body[b]] = i
        self._pad_index = np.full(m.ngeom, -1, int)
        self._pad_index[self._pad_geoms] = np.arange(len(self._pad_geoms))
        self._pad_friction = m.geom_friction[self._pad_geoms].copy()
        self._hand_body = int(m.body(mjcf.HAND_BODY).id)
        self._weld_eq = {b: int(m.equality('assist_%s' % b).id) for b in self.block_names}
        self._cam_id = int(m.camera(self.spec.camera.name).id)
        self._tcp_id = int(m.site(self.tcp_site).id)

    def _place_blocks(self, layout: Layout) -> None:
        """Put the blocks of ``layout`` at their start poses (0.5 mm above their rest)."""
        d, spec = self.data, self.spec
        for b in layout.blocks:
            x, y = spec.peg_xy(b.peg)
            adr = self._block_qpos[b.name]
            d.qpos[adr:adr + 3] = (x + b.offset[0], y + b.offset[1],
                                   spec.block_centre_z(b.level) + 0.0005)
            d.qpos[adr + 3:adr + 7] = mjcf.yaw_quat(b.yaw)

    def _apply_model_layout(self, layout: Layout) -> None:
        """Set the colours, light and camera of ``layout`` in the compiled model."""
        apply_layout_appearance(self.model, layout, self.spec.camera.name,
                                self.spec.light_colour)

    def close(self) -> None:
        """Free the render contexts (the world stays usable; renderers are made again)."""
        for r in self._renderers.values():
            try:
                r.close()
            except Exception:  # noqa: BLE001 - a context already gone is fine at close
                pass
        self._renderers = {}

    # ================================================================ time
    @property
    def time(self) -> float:
        """Return simulated seconds since the world was first built (monotonic over resets)."""
        return self._t_offset + self.data.time

    @property
    def timestep(self) -> float:
        return float(self.model.opt.timestep)

    @property
    def num_blocks(self) -> int:
        return self._num_blocks

    @property
    def num_pegs(self) -> int:
        return self.spec.num_pegs

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def home(self) -> Tuple[float, ...]:
        return self.spec.home

    def step(self, n: int = 1) -> None:
        """Advance the physics by ``n`` steps, following the trajectories."""
        m, d = self.model, self.data
        for _ in range(int(n)):
            self._apply_controls()
            mujoco.mj_step(m, d)
            self._steps += 1
            if self._steps % MONITOR_EVERY == 0:
                self._monitor()

    def advance(self, seconds: float) -> int:
        """Advance by ``seconds`` of simulated time (remainders carried over); return steps."""
        self._debt += max(0.0, float(seconds))
        n = int(self._debt / self.timestep + 1e-9)
        self._debt -= n * self.timestep
        self.step(n)
        return n

    def run_until_idle(self, timeout: float = 30.0, settle: float = 0.3) -> bool:
        """Advance until both trajectories are done, then ``settle`` s more; False on timeout."""
        end = self.time + timeout
        while self.busy() and self.time < end:
            self.step(MONITOR_EVERY)
        self.advance(settle)
        return not self.busy()

    def busy(self) -> bool:
        """Tell whether either controller is still following a trajectory."""
        now = self.data.time
        return self.arm.active(now) or self.gripper.active(now)

    # ================================================================ control
    def set_trajectory(self, controller: str, joint_names: Sequence[str],
                       points: Sequence[RawPoint]) -> Trajectory:
        """
        Validate and start a trajectory on ``'arm'`` or ``'gripper'``; raise TrajectoryError.

        A malformed trajectory changes nothing; one over the motion limits (MotionLimitError)
        stops the controller where its set-point is now.
        """
        if controller not in self.controllers:
            raise TrajectoryError('unknown controller %r (arm or gripper)' % (controller,))
        spec = self.controllers[controller]
        traj = validate_trajectory(spec, joint_names, points)
        follower = self.arm if controller == 'arm' else self.gripper
        now = self.data.time
        q, v = follower.sample(now)
        try:
            check_motion_limits(spec, traj, q, v, self.limit_tolerance,
                                actual=self.arm_positions() if controller == 'arm' else None)
        except MotionLimitError:
            follower.hold(q)
            raise
        follower.set_trajectory(traj, now)
        return traj

    def hold(self) -> None:
        """Stop both controllers at their current set-points."""
        for f in (self.arm, self.gripper):
            f.hold(f.sample(self.data.time)[0])

    def _apply_controls(self) -> None:
        d = self.data
        q, v = self.arm.sample(d.time)
        # Position servo with velocity feed-forward: kp (q_des - q) + kv (v_des - v).
        d.ctrl[self._arm_act] = q + self._ff * v
        g, gv = self.gripper.sample(d.time)
        d.ctrl[self._grip_act] = min(max(g[0] + self._grip_ff * gv[0], 0.0), 0.04)

    # ================================================================ joints
    def joint_limits(self) -> Dict[str, Tuple[float, float]]:
        """``{joint: (low, high)}`` of the 7 arm joints and the 2 finger joints."""
        return dict(self._limits)

    def motion_limits(self) -> Dict[str, Tuple[float, float]]:
        """``{arm joint: (max velocity rad/s, max acceleration rad/s^2)}`` the arm keeps to."""
        return {j: (float(mjcf.ARM_MOTION_LIMITS[j][0]), float(mjcf.ARM_MOTION_LIMITS[j][1]))
                for j in self.arm_joint_names}

    def arm_positions(self) -> np.ndarray:
        return self.data.qpos[self._arm_qpos].copy()

    def gripper_opening(self) -> float:
        """Return the opening of one finger (m); the two fingers are coupled."""
        return float(np.mean(self.data.qpos[self._finger_qpos]))

    def joint_state(self) -> Tuple[List[str], np.ndarray, np.ndarray, np.ndarray]:
        """Names, positions, velocities and actuator efforts of the 9 robot joints."""
        d = self.data
        dofs = self._arm_dof + self._finger_dof
        pos = np.concatenate([d.qpos[self._arm_qpos], d.qpos[self._finger_qpos]])
        return list(self.joint_names), pos, d.qvel[dofs].copy(), d.qfrc_actuator[dofs].copy()

    # ================================================================ geometry for IK
    def ik_solver(self) -> IKSolver:
        """Return a new IK solver for the TCP over the arm joints, pulled towards home."""
        return IKSolver(self.model, self.tcp_site, self.arm_joint_names, q_rest=self.spec.home)

    def tcp_pose(self) -> Tuple[np.ndarray, np.ndarray]:
        """TCP position and quaternion (w, x, y, z) in the world."""
        d = self.data
        return d.site_xpos[self._tcp_id].copy(), _mat_to_quat(d.site_xmat[self._tcp_id])

    def peg_position(self, k: int) -> np.ndarray:
        """Return the base of peg ``k`` (1-based) on the table: ``(x, y, 0)``."""
        x, y = self.spec.peg_xy(k)
        return np.array([x, y, 0.0])

    def peg_top(self, k: int) -> np.ndarray:
        """Tip of peg ``k``."""
        x, y = self.spec.peg_xy(k)
        return np.array([x, y, self.spec.peg_height])

    def block_grasp_height(self, level: int) -> float:
        """TCP height that grasps a block resting at stack ``level`` (0 = on the table)."""
        return self.spec.grasp_z(level)

    def block_place_height(self, level: int) -> float:
        """TCP height at which to open the fingers so a held block comes to rest at ``level``."""
        return self.spec.grasp_z(level) + RELEASE_CLEARANCE

    def block_apothem(self, name: str) -> float:
        """Half width of a block across its flat faces."""
        return self.spec.block_apothems(self.num_blocks)[int(name[1:]) - 1]

    def block_pose(self, name: str) -> Tuple[np.ndarray, np.ndarray]:
        """Centre position and quaternion (w, x, y, z) of block ``name``."""
        if name not in self._block_body:
            raise ValidationError('no block %r in this world (b1..b%d)' % (name, self.num_blocks))
        bid = self._block_body[name]
        return self.data.xpos[bid].copy(), self.data.xquat[bid].copy()

    def grasp_yaw(self, name: Optional[str] = None, preferred: float = -math.pi / 2) -> float:
        """
        TCP yaw (``nsvla_common.robot.top_down_quat``) with two flats of ``name`` on the fingers.

        The flats of a ring repeat every ``2 pi / segments``; of those yaws, the one closest to
        ``preferred`` (the home orientation) is returned; without a block, ``preferred``.
        """
        if name is None:
            return preferred
        mat = self.data.xmat[self._block_body[name]].reshape(3, 3)
        block_yaw = math.atan2(mat[1, 0], mat[0, 0])
        step = 2 * math.pi / self.spec.segments
        k = round((preferred - block_yaw) / step)
        return block_yaw + k * step

    def blocks_on_peg(self, k: int) -> List[str]:
        """Blocks whose centres lie within the capture radius of peg ``k``, bottom to top."""
        x, y = self.spec.peg_xy(k)
        found = []
        for b, bid in self._block_body.items():
            px, py, pz = self.data.xpos[bid]
            if math.hypot(px - x, py - y) <= self.spec.hole_apothem and b != self._held:
                found.append((pz, b))
        return [b for _, b in sorted(found)]

    def held_block(self) -> Optional[str]:
        """
        Return the block lifted in the gripper (both pads, nothing else), if any.

        This is the debounced value the physics monitor tracks every 20 ms of sim time.
        """
        return self._held

    # ================================================================ contacts, grasps, faults
    def _contacts(self) -> Tuple[Dict[str, int], Dict[str, bool]]:
        """
        Finger pads touching each block, and whether anything else supports it.

        Sleeping bodies have no contacts: a block at rest reads as unsupported, which only
        matters together with two finger contacts, and a touched block wakes up.
        """
        m, d = self.model, self.data
        nb = len(self.block_names)
        n = d.ncon
        pads = np.zeros((nb, 2), bool)
        support = np.zeros(nb, bool)
        if n:
            geoms = np.stack([d.contact.geom1[:n], d.contact.geom2[:n]])
            bodies = m.geom_bodyid[geoms]
            idx = self._block_index[bodies]            # block index or -1, per side
            pad = self._pad_index[geoms]               # pad index or -1, per side
            for me, other in ((0, 1), (1, 0)):
                mine = idx[me] >= 0
                hit = mine & (pad[other] >= 0)
                pads[idx[me][hit], pad[other][hit]] = True
                rest = mine & ((bodies[other] == 0) | (idx[other] >= 0))
                support[idx[me][rest]] = True
        count = pads.sum(axis=1)
        return ({b: int(count[i]) for i, b in enumerate(self.block_names)},
                {b: bool(support[i]) for i, b in enumerate(self.block_names)})

    def _monitor(self) -> None:
        """Track the held block; start/stop weld assist; carry out scheduled slips."""
        m, d = self.model, self.data
        pads, support = self._contacts()
        # A block is lifted once it has risen off where the fingers closed on it: squeezing a
        # ring can part it from the ring below for a few checks before the arm moves.
        for b in self.block_names:
            if pads[b] >= 2:
                self._grip_z.setdefault(b, float(d.xpos[self._block_body[b], 2]))
            else:
                self._grip_z.pop(b, None)

        def lifted(b: str) -> bool:
            if support[b]:
                return False
            if b == self._held:
                return True
            rise = float(d.xpos[self._block_body[b], 2]) - self._grip_z.get(b, math.inf)
            return rise >= LIFT_RISE
        held = [b for b in self.block_names if pads[b] >= 2 and lifted(b)]
        if self._weld_on is not None:
            held = [self._weld_on] if lifted(self._weld_on) else []
        now = self.time
        seen = held[0] if len(held) == 1 else None
        # Debounce: a lift or release counts once it has lasted HELD_DEBOUNCE checks.
        if seen == self._held:
            self._held_votes = 0
        else:
            self._held_votes = self._held_votes + 1 if seen == self._held_seen else 1
            self._held_seen = seen
        if self._held_votes >= HELD_DEBOUNCE:
            self._held_votes = 0
            if seen is not None:
                drop_at = self._drops.on_lift(seen, now)
                self._event('lift', seen, drop_at=drop_at)
                self._pending_drop = (seen, drop_at) if drop_at is not None else None
            else:
                self._event('release', self._held)
                self._pending_drop = None
            self._held = seen
        # Weld assist: hold a block the closing fingers touch; let go when they open.
        if self.weld_assist:
            cmd = float(d.ctrl[self._grip_act])
            opening = self.gripper_opening()
            if cmd > opening + 0.001:
                self._weld_armed = True
            if self._weld_on is None and self._weld_armed and cmd < opening - 0.002:
                for b in self.block_names:
                    if pads[b] >= 2:
                        self._weld(b, True)
                        self._weld_armed = False
                        break
            elif self._weld_on is not None and cmd > opening + 0.001:
                self._weld(self._weld_on, False)
        if self._pending_drop is not None and now >= self._pending_drop[1]:
            b = self._pending_drop[0]
            self._pending_drop = None
            if self._weld_on == b:
                self._weld(b, False)
            m.geom_friction[self._pad_geoms] = 0.0
            self._weld_armed = False
            self._slipping = (b, now)
            self._event('drop_injected', b)
        if self._slipping is not None:
            b, since = self._slipping
            if pads[b] == 0 or now - since > 1.5:
                m.geom_friction[self._pad_geoms] = self._pad_friction
                self._slipping = None
        for b in self.block_names:
            # its centre FALLEN_DEPTH under the table's top: it went over the edge (5
            # blocks with slips, seed 20020: b3 dropped mid-transport, bounced off p2's
            # stack and rolled on its edge off the table), not anything a camera frame shows
            if b not in self.fallen and float(d.xpos[self._block_body[b], 2]) < -FALLEN_DEPTH:
                self.fallen[b] = now
                x, y, _ = (float(v) for v in d.xpos[self._block_body[b]])
                self._event('fell_off_table', b, x=round(x, 3), y=round(y, 3))

    def _weld(self, name: str, on: bool) -> None:
        m, d = self.model, self.data
        eq = self._weld_eq[name]
        if on:
            # Weld at the current relative pose: body2 (block) expressed in body1 (hand).
            hand, blk = self._hand_body, self._block_body[name]
            rot_h = d.xmat[hand].reshape(3, 3)
            rel_pos = rot_h.T @ (d.xpos[blk] - d.xpos[hand])
            neg = np.zeros(4)
            mujoco.mju_negQuat(neg, d.xquat[hand])
            rel_quat = np.zeros(4)
            mujoco.mju_mulQuat(rel_quat, neg, d.xquat[blk])
            m.eq_data[eq, 0:3] = 0.0
            m.eq_data[eq, 3:6] = rel_pos
            m.eq_data[eq, 6:10] = rel_quat
            d.eq_active[eq] = 1
            self._weld_on = name
            self._event('weld_on', name)
        else:
            d.eq_active[eq] = 0
            self._weld_on = None
            self._event('weld_off', name)

    def _event(self, kind: str, block: str, **extra: Any) -> None:
        self.events.append(dict(time=round(self.time, 4), event=kind, block=block, **extra))
        self._event_total += 1
        del self.events[:-MAX_EVENTS]

    def events_since(self, count: int) -> Tuple[List[Dict[str, Any]], int]:
        """
        Return the events after the first ``count`` ever recorded, and the new total.

        Counting runs on across resets, so a caller that keeps the total sees every event once
        (at most the last ``MAX_EVENTS`` if it falls far behind).
        """
        new = max(0, self._event_total - int(count))
        return (list(self.events[-new:]) if new else []), self._event_total

    # ================================================================ observation
    def observations(self) -> List[BlockObservation]:
        """
        One :class:`BlockObservation` per block (pose, tilt, yaw, speed, contacts).

        A sleeping block has no contacts but lies at rest where it fell asleep: it reads as
        supported, with speed 0.
        """
        m, d = self.model, self.data
        pads, support = self._contacts()
        out = []
        for b in self.block_names:
            bid = self._block_body[b]
            mat = d.xmat[bid]
            asleep = bool(d.tree_asleep[m.body_treeid[bid]] >= 0)
            dof = int(m.body_dofadr[bid])   # free joint: linear (world), then angular velocity
            speed = float(np.linalg.norm(d.qvel[dof:dof + 3])
                          + np.linalg.norm(d.qvel[dof + 3:dof + 6]) * self.block_apothem(b))
            out.append(BlockObservation(b, tuple(d.xpos[bid]), float(mat[8]), pads[b],
                                        support[b] or asleep, yaw=math.atan2(mat[3], mat[0]),
                                        speed=speed, axis_yaw=math.atan2(mat[5], mat[2])))
        return out

    def ground_truth(self) -> SymbolicState:
        """Return the symbolic state now (``source: ground_truth``, stamp = sim time)."""
        obs = self.observations()
        if self._weld_on is not None:
            obs = [BlockObservation(o.name, o.position, o.up_z, 2, False)
                   if o.name == self._weld_on and not o.supported else o for o in obs]
        return symbolic_from_observations(self.spec, self.num_blocks, obs, stamp=self.time)

    def _renderer(self, width: int, height: int) -> mujoco.Renderer:
        key = (int(width), int(height))
        if key not in self._renderers:
            vis = self.model.vis.global_
            if not (16 <= key[0] <= vis.offwidth and 16 <= key[1] <= vis.offheight):
                raise ValidationError('render size %dx%d outside 16x16..%dx%d'
                                      % (key[0], key[1], vis.offwidth, vis.offheight))
            self._renderers[key] = mujoco.Renderer(self.model, key[1], key[0])
        return self._renderers[key]

    def render(self, width: Optional[int] = None, height: Optional[int] = None,
               camera: Optional[str] = None) -> np.ndarray:
        """
        RGB image (height, width, 3) uint8 of the scene camera (or ``camera``); no shadows.

        ``camera='overview'`` is a wide documentation view of the whole robot.
        """
        w = self.spec.camera.width if width is None else int(width)
        h = self.spec.camera.height if height is None else int(height)
        cam = self._cam_id
        if camera is not None:
            try:
                cam = int(self.model.camera(camera).id)
            except KeyError:
                raise ValidationError('no camera %r (scene: %s, overview)'
                                      % (camera, self.spec.camera.name)) from None
        r = self._renderer(w, h)
        r.update_scene(self.data, camera=cam)
        return _plain(r).render()

    def visible_share(self, names: Sequence[str]) -> Dict[str, float]:
        """
        Return the share of each named block's silhouette that the scene camera sees now.

        For each block: its pixels in a segmentation render of the whole scene divided by its
        pixels in one where every other geom is left out (the block alone, its own segments still
        hiding each other); 0.0 when it has no pixels alone (out of the picture). 1.0 is fully
        in sight, less is hidden by what stands between it and the camera (a stack, a peg, the
        arm). Same camera, image size and flags as :meth:`render`; one whole-scene render per
        call plus one per block. The frame's edge crops both renders alike: a block cut by the
        image border reads by its part in the picture. Neither the physics state nor what
        :meth:`render` returns changes.
        """
        names = list(names)
        for b in names:
            if b not in self._block_body:
                raise ValidationError('no block %r (blocks: %s)'
                                      % (b, ', '.join(self.block_names)))
        if not names:
            return {}
        r = self._renderer(self.spec.camera.width, self.spec.camera.height)
        geom_body = np.asarray(self.model.geom_bodyid)
        geom_type = int(mujoco.mjtObj.mjOBJ_GEOM)

        def bodies() -> np.ndarray:
            """Return the body of the geom seen at each pixel (-1: none) of a fresh render."""
            seg = _plain(r).render()
            ids = seg[..., 0]
            return np.where((seg[..., 1] == geom_type) & (ids >= 0),
                            geom_body[np.clip(ids, 0, None)], -1)

        out: Dict[str, float] = {}
        r.enable_segmentation_rendering()
        try:
            r.update_scene(self.data, camera=self._cam_id)
            whole = bodies()
            for b in names:
                bid = self._block_body[b]
                r.update_scene(self.data, camera=self._cam_id)
                scn = r.scene
                for g in scn.geoms[:scn.ngeom]:
                    if g.objtype != geom_type or geom_body[g.objid] != bid:
                        g.mat[:] = 0.0          # collapsed to a point: draws no pixel
                        g.pos[:] = 1e6
                alone = int(np.count_nonzero(bodies() == bid))
                seen = int(np.count_nonzero(whole == bid))
                out[b] = min(1.0, seen / alone) if alone else 0.0
        finally:
            r.disable_segmentation_rendering()
        return out

    def camera_info(self, width: Optional[int] = None,
                    height: Optional[int] = None) -> Dict[str, Any]:
        """
        Pinhole intrinsics of the rendered camera at ``width`` x ``height`` (CameraInfo fields).

        Read from the compiled model (its ``fovy``, or ``focalpixel`` / ``principalpixel`` when
        the rig gives fx, fy, cx, cy; see ``mjcf.camera_intrinsics``) and scaled to the image
        size; D is zeros: MuJoCo renders no lens distortion.
        """
        w = self.spec.camera.width if width is None else int(width)
        h = self.spec.camera.height if height is None else int(height)
        m, cam = self.model, self._cam_id
        sensor = m.cam_sensorsize[cam]
        if sensor[0] > 0 and sensor[1] > 0:
            (rw, rh), intr = m.cam_resolution[cam], m.cam_intrinsic[cam]
            fx, fy = intr[0] / sensor[0] * rw, intr[1] / sensor[1] * rh
            cx = (rw - 1) / 2.0 - intr[2] / sensor[0] * rw
            cy = (rh - 1) / 2.0 - intr[3] / sensor[1] * rh
            sx, sy = w / rw, h / rh
            fx, fy, cx, cy = fx * sx, fy * sy, (cx + 0.5) * sx - 0.5, (cy + 0.5) * sy - 0.5
        else:
            fx = fy = h / (2.0 * math.tan(math.radians(float(m.cam_fovy[cam])) / 2.0))
            cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
        info = camera_info_fields(w, h, (fx, fy, cx, cy))
        info['frame_id'] = self.spec.camera.frame_id
        return info

    def camera_pose(self) -> Tuple[np.ndarray, np.ndarray]:
        """Camera position and 3x3 rotation of its optical frame (x right, y down, z forward)."""
        d = self.data
        mat = d.cam_xmat[self._cam_id].reshape(3, 3)
        return d.cam_xpos[self._cam_id].copy(), mat @ np.diag([1.0, -1.0, -1.0])

    def project(self, points: Sequence[Sequence[float]], width: Optional[int] = None,
                height: Optional[int] = None) -> np.ndarray:
        """Pixel coordinates (u, v) of world points in an image of the given size."""
        info = self.camera_info(width, height)
        pos, rot = self.camera_pose()
        pts = (np.asarray(points, float).reshape(-1, 3) - pos) @ rot
        k = info['k']
        u = k[0] * pts[:, 0] / pts[:, 2] + k[2]
        v = k[4] * pts[:, 1] / pts[:, 2] + k[5]
        return np.stack([u, v], axis=1)
