# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Generate the MJCF (MuJoCo XML) of a Hanoi world from a scene spec and a layout.

The Franka Panda arm and hand come from the meshes and kinematics shipped in the PyPI package
``dm-robotics-panda`` (``dm_robotics/panda/assets/panda``, Apache-2.0, from franka_ros); nothing
is downloaded. The arm is re-actuated with joint position servos (``biastype="affine"``), the hand
is mounted on the flange turned by -45 degrees about z (as on the real robot), and its finger
collision boxes become the finger pads. Blocks are free bodies made of ``segments`` box segments
forming an octagonal ring; pegs are fixed cylinders. Shadows are off (3-6x faster rendering).

Contacts of the table, pegs and blocks are stiff (``physics.contact_solref``, by default a time
constant of two timesteps, and ``contact_solimp``): with MuJoCo's default soft contact (0.02 s) a
ring falling a few centimetres sinks ``v * 0.02 s / e`` (6-12 mm) into the ring below before the
contact stops it; the box-box contacts of two segments sunk that deep push sideways, not up, and
the pair stays interlocked. The finger pads keep their own contact (they have priority).

Names other modules rely on (exported as constants): the arm joints ``panda_joint1..7``, the
finger joints ``panda_finger_joint1/2``, the TCP site ``tcp`` (between the finger pads, 103.4 mm
from the flange), block bodies ``b1..bN`` with free joints ``bI_joint``, peg geoms ``peg_pK`` and
the camera named in the scene (``scene_camera``).
"""

import math
import xml.etree.ElementTree as ET
from typing import Dict, Iterable, Optional, Sequence, Tuple

from nsvla_common.errors import ConfigError
# The Panda's names and limits are the rig's (nsvla_common.robot); the sim's modules and tests
# read them from here too.
from nsvla_common.robot import ARM_JOINTS, ARM_MOTION_LIMITS, FINGER_JOINTS  # noqa: F401
from nsvla_common.robot import HAND_BODY, TCP_SITE  # noqa: F401
from nsvla_control.panda_model import panda_assets_dir, panda_tree
from nsvla_sim.scene import CameraSpec, Layout, SceneSpec

# Position-servo gains (stiffness N m/rad, damping N m s/rad) and effort limits of the arm joints.
ARM_KP = (4500.0, 4500.0, 3500.0, 3500.0, 2000.0, 2000.0, 2000.0)
ARM_KV = (450.0, 450.0, 350.0, 350.0, 200.0, 200.0, 200.0)
ARM_EFFORT = (87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0)
FINGER_PAD_GEOMS = ('panda_leftfinger_pad', 'panda_rightfinger_pad')
GRIPPER_ACTUATOR = 'actuator_gripper'
GRIPPER_KP = 1000.0   # N per metre of finger opening error
GRIPPER_KV = 100.0
GRIPPER_FORCE = 100.0
OVERVIEW_CAMERA = ((1.3, 1.0, 0.95), (0.3, 0.0, 0.28))  # position, look-at
HEADLIGHT_DIFFUSE = 0.25   # grey level of the light at the camera (tinted by lighting.colour)
BOARD_GEOM = 'calibration_board'
# Contact groups: bit 1 = world objects (table, pegs, blocks, finger pads), bit 2 = the arm.
# The arm collides with the world but not with itself.
_WORLD = {'contype': '1', 'conaffinity': '3'}
_ARM = {'contype': '2', 'conaffinity': '0'}


def _f(values: Iterable[float]) -> str:
    return ' '.join('%.6g' % v for v in values)


def yaw_quat(yaw: float) -> Tuple[float, float, float, float]:
    """Quaternion (w, x, y, z) of a rotation by ``yaw`` about z."""
    return (math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))


def look_at_axes(position: Sequence[float], target: Sequence[float],
                 up: Sequence[float] = (0.0, 0.0, 1.0)) -> Tuple[Tuple[float, ...], ...]:
    """
    Camera x (right) and y (up) axes in the world for a camera at ``position`` facing target.

    MuJoCo cameras look along their -z axis; return ``(x_axis, y_axis)`` for ``xyaxes``.
    """
    fwd = [t - p for t, p in zip(target, position)]
    n = math.sqrt(sum(c * c for c in fwd))
    if n < 1e-9:
        raise ConfigError('camera position and look_at coincide')
    fwd = [c / n for c in fwd]
    right = [fwd[1] * up[2] - fwd[2] * up[1], fwd[2] * up[0] - fwd[0] * up[2],
             fwd[0] * up[1] - fwd[1] * up[0]]
    n = math.sqrt(sum(c * c for c in right))
    if n < 1e-9:
        raise ConfigError('camera looks straight along the up vector; move it')
    right = [c / n for c in right]
    upv = [right[1] * fwd[2] - right[2] * fwd[1], right[2] * fwd[0] - right[0] * fwd[2],
           right[0] * fwd[1] - right[1] * fwd[0]]
    return tuple(right), tuple(upv)


def camera_intrinsics(cam: CameraSpec) -> Dict[str, str]:
    """
    Return the MJCF camera attributes rendering the rig camera's intrinsics.

    A plain field of view is ``fovy``; intrinsics ``fx, fy, cx, cy`` become ``resolution``,
    ``focalpixel`` and ``principalpixel`` (for MuJoCo, the image centre minus the principal
    point, in pixels, both axes: measured by rendering) over a nominal ``sensorsize`` of 10 um
    pixels. MuJoCo renders no lens distortion.
    """
    if cam.is_ideal:
        return {'fovy': '%.12g' % cam.fovy_deg}
    fx, fy, cx, cy = cam.intrinsics
    return {'resolution': '%d %d' % (cam.width, cam.height),
            'focalpixel': '%.12g %.12g' % (fx, fy),
            'principalpixel': '%.12g %.12g' % ((cam.width - 1) / 2.0 - cx,
                                               (cam.height - 1) / 2.0 - cy),
            'sensorsize': '%.12g %.12g' % (cam.width * 1e-5, cam.height * 1e-5)}


Box = Tuple[Tuple[float, float, float], Tuple[float, float, float], float]


def block_segments(apothem: float, hole_apothem: float, height: float,
                   segments: int) -> Iterable[Box]:
    """
    Yield ``(centre, half_sizes, angle)`` of each box of a ring in the block's frame.

    Box ``k`` sits at angle ``k * 2 pi / segments`` with its x axis radial; its outer face lies at
    ``apothem``, so the outer outline is a regular polygon whose flat faces are normal to those
    angles (opposite flats face each other: what the fingers grasp).
    """
    half_t = apothem * math.tan(math.pi / segments)
    half_r = (apothem - hole_apothem) / 2
    r_c = (apothem + hole_apothem) / 2
    for k in range(segments):
        ang = 2 * math.pi * k / segments
        yield ((r_c * math.cos(ang), r_c * math.sin(ang), 0.0), (half_r, half_t, height / 2), ang)


class _Builder:
    """Assemble one MJCF document."""

    def __init__(self, spec: SceneSpec, layout: Layout, offscreen: Tuple[int, int],
                 board: bool = False) -> None:
        self.spec = spec
        self.board = bool(board)
        self.layout = layout
        self.assets = panda_assets_dir()
        self.root = ET.Element('mujoco', model='nsvla_hanoi_%s' % spec.name)
        self.offscreen = offscreen

    def build(self) -> str:
        spec = self.spec
        ET.SubElement(self.root, 'compiler', angle='radian', meshdir=self.assets,
                      texturedir=self.assets, autolimits='true')
        opt = ET.SubElement(self.root, 'option', timestep='%g' % spec.timestep,
                            integrator=spec.integrator, cone=spec.cone,
                            impratio='%g' % spec.impratio, gravity=_f(spec.gravity),
                            iterations=str(spec.solver_iterations))
        if spec.sleep:
            # Blocks at rest go to sleep: resting stacks cost nothing (10x faster with 6 blocks);
            # anything touching them (fingers, a falling block) wakes them.
            ET.SubElement(opt, 'flag', sleep='enable')
        vis = ET.SubElement(self.root, 'visual')
        ET.SubElement(vis, 'global', offwidth=str(self.offscreen[0]),
                      offheight=str(self.offscreen[1]))
        ET.SubElement(vis, 'quality', shadowsize='0')
        ET.SubElement(vis, 'headlight', ambient=_f([self.layout.light_ambient] * 3),
                      diffuse=_f([HEADLIGHT_DIFFUSE] * 3), specular='0.05 0.05 0.05')
        self._assets()
        world = ET.SubElement(self.root, 'worldbody')
        self._environment(world)
        if self.board:
            self._board(world)
        self._panda(world)
        self._pegs(world)
        self._blocks(world)
        self._camera(world)
        self._equality_tendon_actuators()
        ET.indent(self.root)
        return ET.tostring(self.root, encoding='unicode')

    def _contact(self) -> Dict[str, str]:
        """Contact parameters of the table, peg and block geoms (stiff: see the docstring)."""
        return {'solref': _f(self.spec.contact_solref), 'solimp': _f(self.spec.contact_solimp)}

    # ---------------------------------------------------------------- parts
    def _assets(self) -> None:
        asset = ET.SubElement(self.root, 'asset')
        for name in ['link%d' % i for i in range(8)] + ['hand', 'finger']:
            ET.SubElement(asset, 'mesh', name=name, file='%s.obj' % name)
        ET.SubElement(asset, 'texture', name='panda', file='panda.png', type='2d')
        ET.SubElement(asset, 'material', name='panda', texture='panda', shininess='.4',
                      specular='.4')
        ET.SubElement(asset, 'material', name='panda_white', rgba='1 1 1 1', shininess='.4',
                      specular='.4')
        ET.SubElement(asset, 'texture', name='sky', type='skybox', builtin='gradient',
                      rgb1='.62 .66 .72', rgb2='.18 .19 .22', width='256', height='256')
        ET.SubElement(asset, 'texture', name='grid', type='2d', builtin='checker',
                      rgb1='.32 .33 .35', rgb2='.28 .29 .31', width='256', height='256')
        ET.SubElement(asset, 'material', name='floor', texture='grid', texrepeat='6 6',
                      reflectance='0')
        ET.SubElement(asset, 'material', name='table', rgba=_f(self.spec.table_colour + (1,)),
                      specular='0.05', shininess='0.1')
        ET.SubElement(asset, 'material', name='peg', rgba=_f(self.spec.peg_colour + (1,)),
                      specular='0.1')
        for b in self.layout.blocks:
            ET.SubElement(asset, 'material', name='%s_material' % b.name,
                          rgba=_f(b.colour + (1,)), specular='0.05', shininess='0.05')

    def _environment(self, world: ET.Element) -> None:
        spec, lay = self.spec, self.layout
        ET.SubElement(world, 'light', name='sun', directional='true', castshadow='false',
                      pos='0 0 3', dir=_f(lay.light_direction),
                      diffuse=_f([lay.light_diffuse] * 3), specular='0.1 0.1 0.1')
        sx, sy, sz = spec.table_size
        cx, cy = spec.table_centre
        ET.SubElement(world, 'geom', name='floor', type='plane', size='3 3 0.1',
                      pos='0 0 %g' % (-0.75), material='floor', contype='0', conaffinity='0')
        ET.SubElement(world, 'geom', name='table', type='box', size=_f((sx / 2, sy / 2, sz / 2)),
                      pos=_f((cx, cy, -sz / 2)), material='table', **_WORLD, **self._contact())

    def _board(self, world: ET.Element) -> None:
        """Lay the rig's printed calibration board on the table (a textured plane, no contact)."""
        from nsvla_perception.calibration import board_texture_file
        board = self.spec.board
        if board is None:
            raise ConfigError('the scene has no calibration_board section to draw')
        asset = self.root.find('asset')
        ET.SubElement(asset, 'texture', name=BOARD_GEOM, type='2d',
                      file=board_texture_file(board))
        ET.SubElement(asset, 'material', name=BOARD_GEOM, texture=BOARD_GEOM, texrepeat='1 1',
                      specular='0', shininess='0', reflectance='0')
        w, h = board.size
        ET.SubElement(world, 'geom', name=BOARD_GEOM, type='plane', size=_f((w / 2, h / 2, 0.01)),
                      pos=_f(tuple(board.centre) + (board.z,)),
                      quat=_f(yaw_quat(math.radians(board.yaw_deg))), material=BOARD_GEOM,
                      contype='0', conaffinity='0', group='2')

    def _panda(self, world: ET.Element) -> None:
        link0 = panda_tree(self.spec.robot_base, self.assets)
        hand_body = next(b for b in link0.iter('body') if b.get('name') == HAND_BODY)
        hand = set(hand_body.iter())
        for geom in link0.iter('geom'):
            if geom not in hand:
                geom.attrib.update(_ARM)
                geom.set('group', '1')
        for joint in link0.iter('joint'):
            if joint not in hand:
                joint.set('armature', '0.1')
                # panda.xml carries one negative damping (joint 6); servos supply the damping.
                joint.set('damping', '%g' % max(1.0, float(joint.get('damping', '0'))))
        for geom in hand_body.findall('geom'):
            geom.attrib.update(_ARM)
            geom.set('group', '1')
        for finger, pad in zip(('panda_leftfinger', 'panda_rightfinger'), FINGER_PAD_GEOMS):
            body = next(b for b in hand_body.iter('body') if b.get('name') == finger)
            for geom in body.findall('geom'):
                if geom.get('type') == 'box':
                    # The collision box becomes the finger pad: grippy, soft-ish, world-colliding.
                    geom.set('name', pad)
                    geom.set('friction', '1.5 0.02 0.0005')
                    geom.set('condim', '4')
                    # Priority: pad-block contacts use the pad's friction (fault injection
                    # takes it away to make a block slip).
                    geom.set('priority', '1')
                    geom.set('solref', '0.004 1')
                    geom.set('solimp', '0.95 0.99 0.001')
                    geom.attrib.update(_WORLD)
                    geom.set('conaffinity', '1')
                    geom.set('group', '3')
                else:
                    geom.set('group', '1')
            for joint in body.findall('joint'):
                joint.attrib.pop('solreflimit', None)
        world.append(link0)

    def _pegs(self, world: ET.Element) -> None:
        spec = self.spec
        for k in range(1, spec.num_pegs + 1):
            x, y = spec.peg_xy(k)
            ET.SubElement(world, 'geom', name='peg_p%d' % k, type='cylinder',
                          size=_f((spec.peg_radius, spec.peg_height / 2)),
                          pos=_f((x, y, spec.peg_height / 2)), material='peg', **_WORLD,
                          **self._contact())
            ET.SubElement(world, 'site', name='peg_p%d_top' % k, pos=_f((x, y, spec.peg_height)),
                          size='0.003', rgba='0 0 0 0', group='4')

    def _blocks(self, world: ET.Element) -> None:
        spec, lay = self.spec, self.layout
        apothems = spec.block_apothems(lay.num_blocks)
        for b in lay.blocks:
            i = int(b.name[1:])
            x, y = spec.peg_xy(b.peg)
            pos = (x + b.offset[0], y + b.offset[1], spec.block_centre_z(b.level) + 0.0005)
            body = ET.SubElement(world, 'body', name=b.name, pos=_f(pos),
                                 quat=_f(yaw_quat(b.yaw)))
            ET.SubElement(body, 'freejoint', name='%s_joint' % b.name)
            for k, (centre, half, ang) in enumerate(block_segments(
                    apothems[i - 1], spec.hole_apothem, spec.block_height, spec.segments)):
                ET.SubElement(body, 'geom', name='%s_seg%d' % (b.name, k), type='box',
                              pos=_f(centre), size=_f(half), quat=_f(yaw_quat(ang)),
                              density='%g' % spec.block_density,
                              friction=_f(spec.block_friction), condim='4',
                              material='%s_material' % b.name, **_WORLD, **self._contact())
            ET.SubElement(body, 'site', name='%s_centre' % b.name, size='0.003',
                          rgba='0 0 0 0', group='4')

    def _camera(self, world: ET.Element) -> None:
        cam = self.spec.camera
        x_axis, y_axis = look_at_axes(self.layout.camera_position, self.layout.camera_look_at)
        ET.SubElement(world, 'camera', name=cam.name, mode='fixed',
                      pos=_f(self.layout.camera_position), xyaxes=_f(x_axis + y_axis),
                      **camera_intrinsics(cam))
        # A wide view of the whole robot, for documentation (not randomised).
        x_axis, y_axis = look_at_axes(OVERVIEW_CAMERA[0], OVERVIEW_CAMERA[1])
        ET.SubElement(world, 'camera', name='overview', mode='fixed',
                      pos=_f(OVERVIEW_CAMERA[0]), xyaxes=_f(x_axis + y_axis), fovy='45')

    def _equality_tendon_actuators(self) -> None:
        eq = ET.SubElement(self.root, 'equality')
        ET.SubElement(eq, 'joint', name='couple_fingers', joint1=FINGER_JOINTS[0],
                      joint2=FINGER_JOINTS[1], solimp='0.95 0.99 0.001', solref='0.005 1')
        for b in self.layout.blocks:
            # Weld-assist grasp: off at start, switched on by HanoiWorld when enabled.
            ET.SubElement(eq, 'weld', name='assist_%s' % b.name, body1=HAND_BODY, body2=b.name,
                          active='false', solref='0.01 1')
        tendon = ET.SubElement(self.root, 'tendon')
        split = ET.SubElement(tendon, 'fixed', name='split')
        for j in FINGER_JOINTS:
            ET.SubElement(split, 'joint', joint=j, coef='0.5')
        act = ET.SubElement(self.root, 'actuator')
        for j, kp, kv, eff in zip(ARM_JOINTS, ARM_KP, ARM_KV, ARM_EFFORT):
            ET.SubElement(act, 'general', name='actuator_%s' % j, joint=j, biastype='affine',
                          gainprm='%g' % kp, biasprm=_f((0, -kp, -kv)),
                          forcerange=_f((-eff, eff)), ctrlrange=self._joint_range(j))
        ET.SubElement(act, 'general', name=GRIPPER_ACTUATOR, tendon='split', biastype='affine',
                      gainprm='%g' % GRIPPER_KP, biasprm=_f((0, -GRIPPER_KP, -GRIPPER_KV)),
                      forcerange=_f((-GRIPPER_FORCE, GRIPPER_FORCE)), ctrlrange='0 0.04')

    def _joint_range(self, joint: str) -> str:
        for j in self.root.iter('joint'):
            if j.get('name') == joint:
                return j.get('range')
        raise ConfigError('joint %s not found in the Panda model' % joint)


def build_mjcf(spec: SceneSpec, layout: Layout,
               offscreen: Optional[Tuple[int, int]] = None, board: bool = False) -> str:
    """
    Return the MJCF text of the world; ``offscreen`` is the largest render size (w, h).

    ``board`` lays the scene's calibration board on the table (off by default: normal scenes,
    and what models were trained on, have none).
    """
    size = offscreen or (max(1280, spec.camera.width), max(960, spec.camera.height))
    return _Builder(spec, layout, size, board).build()


def summary(xml: str) -> Dict[str, int]:
    """Count bodies, geoms and joints in an MJCF text (for checks and the bench)."""
    root = ET.fromstring(xml)
    return {tag: sum(1 for _ in root.iter(tag)) for tag in ('body', 'geom', 'joint', 'camera')}
