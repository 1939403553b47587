"""SynthVIS: a deterministic synthetic video instance segmentation dataset.

The generator writes the official YouTube-VIS 2019 json layout plus JPEG
frames, so the very same dataset class, metric and tools that read YouTube-VIS
read SynthVIS. It exists for tests, the CPU quickstart and benchmarks: it needs
no download and has a known ground truth.

What a video contains:

* a textured background (a smooth two-colour gradient with static noise, or
  soft stripes);
* 1-6 objects, each a SHAPE (the class, see :data:`SYNTHVIS_CLASSES`) with a
  random colour and a random texture (solid / stripes / checker / noise), so
  colour carries no class information;
* constant-velocity motion plus small positional noise, smooth periodic
  scaling, rotation, a mild aspect ratio; some objects enter or leave the
  frame, appear later or disappear earlier;
* occlusion by z-order: every object has a distinct depth and its annotation is
  its *visible* mask (its shape minus the union of the shapes in front of it);
  a frame where nothing of the object is visible is ``null`` in
  ``bboxes``/``segmentations``/``areas``;
* per-frame sensor noise, and some frames degraded by a strong Gaussian blur
  and/or strong noise, so temporal context helps.

Everything is a deterministic function of ``(seed, split, video index)`` (and
the frame index for per-frame randomness), hence the output does not depend on
``num_workers``.

This module depends on numpy, OpenCV and pycocotools only (no torch, mmengine
or mmdet, so it does not import the ``projects.cico`` package: every rendering
process would pay for importing it). It is the data-tools side of SynthVIS; the
runtime package only knows the class names
(``projects/cico/datasets/synthvis_meta.py``). CLI:
``tools/dataset_converters/make_synthvis.py``.
"""

import json
import math
import multiprocessing as mp
import os
import os.path as osp
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from pycocotools import mask as mask_utils

__all__ = ['SYNTHVIS_CLASSES', 'generate_synthvis', 'render_video']

#: Class names; category ids are 1..6 in this order. The class is the shape,
#: never the colour. The same as
#: ``projects.cico.datasets.synthvis_meta.SYNTHVIS_CLASSES`` (the dataset's
#: classes; not imported, see the module docstring; tests check that they
#: agree).
SYNTHVIS_CLASSES: Tuple[str, ...] = ('circle', 'square', 'triangle', 'star',
                                     'hexagon', 'ring')
SUPERCATEGORY = 'shape'

#: Split name -> number mixed into the seed, and the json file name of each
#: split.
SPLIT_SEED_IDS: Dict[str, int] = {'train': 0, 'valid': 1}
SPLIT_ANN_FILES: Dict[str, str] = {
    'train': 'train.json',
    'valid': 'valid.json'
}
VIDEO_NAME_TEMPLATE = 'synth_{split}_{index:04d}'  # index starts at 1
FRAME_NAME_TEMPLATE = '{frame:05d}.jpg'
MAX_FRAMES_PER_VIDEO = 100000  # frame file names have 5 digits
JPEG_QUALITY = 92

# Seed-sequence stream tags, so the video spec and each frame draw independent
# random numbers.
_SPEC_STREAM = 0
_FRAME_STREAM = 1

# ---- scene ------------------------------------------------------------------
MIN_OBJECTS, MAX_OBJECTS = 1, 6
MIN_IMAGE_SIDE = 32  # below this the objects (radius >= 8% of the side) vanish
OBJ_RADIUS_RANGE = (0.08, 0.22)  # circumradius, fraction of min(H, W)
OBJ_ASPECT_RANGE = (0.8, 1.25
                    )  # anisotropic stretch of the shape along its own x axis
SPEED_RANGE = (0.0, 0.015)  # pixels per frame, fraction of min(H, W)
ENTER_SPEED_RANGE = (0.008, 0.025
                     )  # same, for objects entering or leaving the frame
POS_NOISE = 0.003  # std of per-frame positional jitter, fraction of min(H, W)
SCALE_AMPLITUDE_MAX = 0.25  # s(t) = 1 + a * sin(2 pi f t / L + phi), a <= this
SCALE_CYCLES_RANGE = (0.2, 1.0)  # f: scale cycles per video
ROT_SPEED_MAX = 0.05  # radians per frame
MOTION_MODE_PROBS = {'inside': 0.6, 'enter': 0.2, 'leave': 0.2}
# velocity direction off the border normal (radians)
ENTER_DIRECTION_JITTER = math.pi / 6
OUTSIDE_MARGIN_RANGE = (
    1.05, 1.35)  # start/end distance outside the border, x max radius
P_APPEAR_LATE = 0.15
P_DISAPPEAR_EARLY = 0.15
CIRCLE_VERTICES = 48
STAR_POINTS = 5
STAR_INNER_RATIO = 0.45
RING_INNER_RATIO = 0.55
POLY_SHIFT_BITS = 4  # sub-pixel precision of cv2.fillPoly

# ---- appearance -------------------------------------------------------------
TEXTURES = ('solid', 'stripes', 'checker', 'noise')
TEXTURE_PERIOD_RANGE = (3, 9)  # stripe period / checker cell, pixels
NOISE_TEXTURE_CELL = 4  # low-res cell of the 'noise' texture, pixels
NOISE_TEXTURE_FINE_STD = 10.0
BACKGROUNDS = ('gradient', 'stripes')
BG_STATIC_NOISE_STD = 8.0
BG_STRIPE_PERIOD_RANGE = (0.05, 0.2)  # fraction of max(H, W)
FRAME_NOISE_STD = 3.0  # sensor noise of every frame
P_DEGRADE = 0.15  # probability that a frame is degraded
DEGRADE_KINDS = ('blur', 'noise', 'both')
DEGRADE_BLUR_SIGMA_RANGE = (1.5, 3.0)
DEGRADE_NOISE_STD_RANGE = (20.0, 40.0)


@dataclass
class _ObjectSpec:
    """Everything needed to render one object in every frame of its video."""
    category: int  # 0-based index into SYNTHVIS_CLASSES
    depth: int  # larger = farther; distinct within a video
    radius: float  # circumradius in pixels at scale 1
    aspect: float
    centers: np.ndarray  # (L, 2) float, x/y in pixels
    scales: np.ndarray  # (L,) float
    angles: np.ndarray  # (L,) float, radians
    first: int  # first frame where the object exists
    last: int  # last frame where the object exists (inclusive)
    # (P, P, 3) uint8, local coordinates, centre at (P // 2, P // 2)
    texture: np.ndarray


@dataclass
class _VideoSpec:
    """A whole video: its background, objects and per-video constants."""
    name: str
    length: int
    height: int
    width: int
    background: np.ndarray  # (H, W, 3) uint8
    objects: List[_ObjectSpec]


# -----------------------------------------------------------------------------
# shapes and textures
# -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SceneSettings:
    """What a video holds: ``objects`` (min, max) objects per video and
    their circumradius ``radius`` (min, max) as a fraction of min(H, W).
    The defaults are the dataset's historical settings; the SynthVIS
    protocol (``configs/synthvis/README.md``) uses larger, fewer objects."""
    objects: Tuple[int, int] = (MIN_OBJECTS, MAX_OBJECTS)
    radius: Tuple[float, float] = OBJ_RADIUS_RANGE
    #: every object is wholly inside the frame in every frame of its video
    #: (no entering, leaving, late or early objects; occlusion stays): an
    #: easy target for overfitting checks
    always_visible: bool = False

    def __post_init__(self) -> None:
        lo, hi = self.objects
        if not 1 <= lo <= hi:
            raise ValueError(f'objects: need 1 <= min <= max, got '
                             f'{tuple(self.objects)}')
        rlo, rhi = self.radius
        if not 0 < rlo <= rhi <= 0.5:
            raise ValueError(f'radius: need 0 < min <= max <= 0.5 (fraction '
                             f'of the short side), got {tuple(self.radius)}')


def _regular_polygon(n: int, phase: float = 0.0) -> np.ndarray:
    """(n, 2) vertices of a regular n-gon with unit circumradius."""
    t = phase + 2 * np.pi * np.arange(n) / n
    return np.stack([np.cos(t), np.sin(t)], axis=1)


def _star_polygon() -> np.ndarray:
    """(2 * STAR_POINTS, 2) vertices of a star with unit outer radius."""
    n = 2 * STAR_POINTS
    t = -np.pi / 2 + 2 * np.pi * np.arange(n) / n
    r = np.where(np.arange(n) % 2 == 0, 1.0, STAR_INNER_RATIO)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def _shape_polygons(
        category: int) -> Tuple[List[np.ndarray], List[np.ndarray]]:
    """Unit-size polygons of a class: (filled polygons, holes), each an (n, 2)
    array."""
    name = SYNTHVIS_CLASSES[category]
    if name == 'circle':
        return [_regular_polygon(CIRCLE_VERTICES)], []
    if name == 'square':
        return [_regular_polygon(4, np.pi / 4)], []
    if name == 'triangle':
        return [_regular_polygon(3, -np.pi / 2)], []
    if name == 'star':
        return [_star_polygon()], []
    if name == 'hexagon':
        return [_regular_polygon(6)], []
    if name == 'ring':
        circle = _regular_polygon(CIRCLE_VERTICES)
        return [circle], [circle * RING_INNER_RATIO]
    raise ValueError(f'unknown SynthVIS class {name!r}')


_SHAPES = [_shape_polygons(c) for c in range(len(SYNTHVIS_CLASSES))]


def _random_color(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, size=3).astype(np.float32)


def _make_texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A (size, size, 3) uint8 texture patch of a random kind and random
    colours."""
    kind = TEXTURES[rng.integers(len(TEXTURES))]
    c1, c2 = _random_color(rng), _random_color(rng)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    if kind == 'solid':
        weight = np.zeros((size, size), np.float32)
    elif kind == 'stripes':
        period = rng.uniform(*TEXTURE_PERIOD_RANGE)
        phi = rng.uniform(0, np.pi)
        proj = xx * np.cos(phi) + yy * np.sin(phi)
        weight = (np.floor(proj / (period / 2)) % 2).astype(np.float32)
    elif kind == 'checker':
        cell = rng.uniform(*TEXTURE_PERIOD_RANGE)
        weight = ((np.floor(xx / cell) + np.floor(yy / cell)) % 2).astype(
            np.float32)
    else:  # 'noise': smooth random field between the two colours
        low = max(2, size // NOISE_TEXTURE_CELL)
        field = rng.random((low, low)).astype(np.float32)
        weight = cv2.resize(
            field, (size, size), interpolation=cv2.INTER_LINEAR)
    tex = c1[None, None] * (
        1 - weight[..., None]) + c2[None, None] * weight[..., None]
    if kind == 'noise':
        tex += rng.normal(0, NOISE_TEXTURE_FINE_STD,
                          tex.shape).astype(np.float32)
    return np.clip(tex, 0, 255).astype(np.uint8)


def _make_background(rng: np.random.Generator, height: int,
                     width: int) -> np.ndarray:
    """A (H, W, 3) uint8 background: gradient + static noise, or soft
    stripes."""
    kind = BACKGROUNDS[rng.integers(len(BACKGROUNDS))]
    c1, c2 = _random_color(rng), _random_color(rng)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    phi = rng.uniform(0, 2 * np.pi)
    proj = xx * np.cos(phi) + yy * np.sin(phi)
    if kind == 'gradient':
        weight = (proj - proj.min()) / max(float(np.ptp(proj)), 1.0)
    else:
        period = rng.uniform(*BG_STRIPE_PERIOD_RANGE) * max(height, width)
        weight = 0.5 + 0.5 * np.sin(2 * np.pi * proj / period +
                                    rng.uniform(0, 2 * np.pi))
    bg = c1[None, None] * (
        1 - weight[..., None]) + c2[None, None] * weight[..., None]
    bg += rng.normal(0, BG_STATIC_NOISE_STD, bg.shape).astype(np.float32)
    return np.clip(bg, 0, 255).astype(np.uint8)


# -----------------------------------------------------------------------------
# motion
# -----------------------------------------------------------------------------
def _border_point(rng: np.random.Generator, height: int,
                  width: int) -> Tuple[np.ndarray, np.ndarray]:
    """A uniform point on the frame border and the outward unit normal
    there."""
    pos = rng.uniform(0, 2 * (height + width))
    if pos < width:
        return np.array([pos, 0.0]), np.array([0.0, -1.0])
    pos -= width
    if pos < height:
        return np.array([float(width), pos]), np.array([1.0, 0.0])
    pos -= height
    if pos < width:
        return np.array([pos, float(height)]), np.array([0.0, 1.0])
    pos -= width
    return np.array([0.0, pos]), np.array([-1.0, 0.0])


def _rotate(vec: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([c * vec[0] - s * vec[1], s * vec[0] + c * vec[1]])


def _trajectory(rng: np.random.Generator,
                length: int,
                height: int,
                width: int,
                max_extent: float,
                always_visible: bool = False) -> np.ndarray:
    """(L, 2) centres: constant velocity (+ jitter); the object may enter or
    leave the frame.

    ``max_extent`` is the largest distance from the centre to any point of the
    shape over the video, used to place entering/leaving objects fully outside
    the frame at the first/last frame. ``always_visible`` keeps every point of
    the shape inside the frame in every frame instead.
    """
    side = min(height, width)
    if always_visible:
        return _inside_trajectory(rng, length, height, width, max_extent)
    modes = list(MOTION_MODE_PROBS)
    mode = modes[rng.choice(len(modes), p=list(MOTION_MODE_PROBS.values()))]
    t = np.arange(length, dtype=np.float64)[:, None]
    if mode == 'inside' or length < 2:
        speed = rng.uniform(*SPEED_RANGE) * side
        direction = _rotate(np.array([1.0, 0.0]), rng.uniform(0, 2 * np.pi))
        anchor = rng.uniform([0.0, 0.0], [width, height])
        t_anchor = rng.integers(length)
        centers = anchor + direction * speed * (t - t_anchor)
    else:
        border, normal = _border_point(rng, height, width)
        margin = rng.uniform(*OUTSIDE_MARGIN_RANGE)
        outside = border + normal * max_extent * margin
        # fast enough to be (partly) inside the frame within the first/last
        # half of the video
        frames_outside = rng.integers(1, max(2, length // 2 + 1))
        speed = max(
            rng.uniform(*ENTER_SPEED_RANGE) * side,
            (margin - 1) * max_extent / frames_outside)
        jitter = rng.uniform(-ENTER_DIRECTION_JITTER, ENTER_DIRECTION_JITTER)
        if mode == 'enter':  # fully outside at frame 0, moving inwards
            centers = outside + _rotate(-normal, jitter) * speed * t
        else:  # 'leave': fully outside at the last frame, moving outwards
            centers = outside - _rotate(normal, jitter) * speed * (
                length - 1 - t)
    noise = rng.normal(0, POS_NOISE * side, centers.shape)
    return centers + noise


def _inside_trajectory(rng: np.random.Generator, length: int, height: int,
                       width: int, max_extent: float) -> np.ndarray:
    """(L, 2) centres of a constant-velocity path (+ jitter) along which a
    shape of extent ``max_extent`` stays wholly inside the frame (the path
    is clipped to the allowed region where it would leave it)."""
    side = min(height, width)
    lo = np.array([max_extent + 1.0, max_extent + 1.0])
    hi = np.array([width - 2.0 - max_extent, height - 2.0 - max_extent])
    if (hi < lo).any():
        raise ValueError(f'always_visible: an object of extent '
                         f'{max_extent:.1f} px does not fit a {width}x'
                         f'{height} frame; lower the radius')
    speed = rng.uniform(*SPEED_RANGE) * side
    direction = _rotate(np.array([1.0, 0.0]), rng.uniform(0, 2 * np.pi))
    start = rng.uniform(lo, hi)
    t = np.arange(length, dtype=np.float64)[:, None]
    centers = start + direction * speed * t
    centers = centers + rng.normal(0, POS_NOISE * side, centers.shape)
    return np.clip(centers, lo, hi)


def _make_object(rng: np.random.Generator,
                 length: int,
                 height: int,
                 width: int,
                 depth: int,
                 radius_range: Tuple[float, float] = OBJ_RADIUS_RANGE,
                 always_visible: bool = False) -> _ObjectSpec:
    side = min(height, width)
    category = int(rng.integers(len(SYNTHVIS_CLASSES)))
    radius = rng.uniform(*radius_range) * side
    aspect = rng.uniform(*OBJ_ASPECT_RANGE)
    amp = rng.uniform(0, SCALE_AMPLITUDE_MAX)
    cycles = rng.uniform(*SCALE_CYCLES_RANGE)
    t = np.arange(length, dtype=np.float64)
    scales = 1 + amp * np.sin(2 * np.pi * cycles * t / length +
                              rng.uniform(0, 2 * np.pi))
    angles = rng.uniform(
        0, 2 * np.pi) + rng.uniform(-ROT_SPEED_MAX, ROT_SPEED_MAX) * t
    local_extent = radius * max(aspect, 1.0)
    centers = _trajectory(rng, length, height, width, local_extent * (1 + amp),
                          always_visible)
    first, last = 0, length - 1
    may_vanish = length > 2 and not always_visible
    if may_vanish and rng.random() < P_APPEAR_LATE:
        first = int(rng.integers(1, length // 2 + 1))
    if may_vanish and rng.random() < P_DISAPPEAR_EARLY:
        last = int(rng.integers(max(first, length // 2), length - 1))
    half = int(math.ceil(local_extent)) + 2
    texture = _make_texture(rng, 2 * half + 1)
    return _ObjectSpec(category, depth, radius, aspect, centers, scales,
                       angles, first, last, texture)


def _make_video_spec(seed: int,
                     split: str,
                     index: int,
                     frames: Tuple[int, int],
                     size: Tuple[int, int],
                     scene: Optional[SceneSettings] = None) -> _VideoSpec:
    """The deterministic description of video ``index`` (0-based) of
    ``split``."""
    scene = scene or SceneSettings()
    rng = np.random.default_rng(
        [seed, SPLIT_SEED_IDS[split], index, _SPEC_STREAM])
    height, width = size
    length = int(rng.integers(frames[0], frames[1] + 1))
    background = _make_background(rng, height, width)
    num_objects = int(rng.integers(scene.objects[0], scene.objects[1] + 1))
    depths = rng.permutation(num_objects)
    objects = [
        _make_object(rng, length, height, width, int(d), scene.radius,
                     scene.always_visible) for d in depths
    ]
    name = VIDEO_NAME_TEMPLATE.format(split=split, index=index + 1)
    return _VideoSpec(name, length, height, width, background, objects)


# -----------------------------------------------------------------------------
# rendering
# -----------------------------------------------------------------------------
def _linear_map(obj: _ObjectSpec, t: int) -> np.ndarray:
    """2x2 matrix from local texture pixels to frame pixels (rotation and
    scale)."""
    c, s = math.cos(obj.angles[t]), math.sin(obj.angles[t])
    return obj.scales[t] * np.array([[c, -s], [s, c]])


def _object_mask(obj: _ObjectSpec, t: int, height: int,
                 width: int) -> np.ndarray:
    """(H, W) uint8 full (un-occluded) mask of ``obj`` in frame ``t``."""
    lin = _linear_map(obj, t) @ np.diag([obj.radius * obj.aspect, obj.radius])
    fills, holes = _SHAPES[obj.category]
    mask = np.zeros((height, width), np.uint8)
    factor = 1 << POLY_SHIFT_BITS

    def to_pts(poly: np.ndarray) -> np.ndarray:
        world = poly @ lin.T + obj.centers[t]
        return np.round(world * factor).astype(np.int32).reshape(-1, 1, 2)

    cv2.fillPoly(
        mask, [to_pts(p) for p in fills],
        1,
        lineType=cv2.LINE_8,
        shift=POLY_SHIFT_BITS)
    if holes:
        cv2.fillPoly(
            mask, [to_pts(p) for p in holes],
            0,
            lineType=cv2.LINE_8,
            shift=POLY_SHIFT_BITS)
    return mask


def _warp_texture(obj: _ObjectSpec, t: int, roi: Tuple[int, int, int,
                                                       int]) -> np.ndarray:
    """The object's texture placed in frame ``t``, cropped to ``roi`` = (x0,
    y0, x1, y1)."""
    x0, y0, x1, y1 = roi
    lin = _linear_map(obj, t)
    half = obj.texture.shape[0] // 2
    offset = obj.centers[t] - lin @ np.array([half, half],
                                             np.float64) - np.array([x0, y0])
    affine = np.concatenate([lin, offset[:, None]], axis=1)
    return cv2.warpAffine(
        obj.texture,
        affine, (x1 - x0, y1 - y0),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE)


def _mask_roi(mask: np.ndarray) -> Tuple[int, int, int, int]:
    """Tight (x0, y0, x1, y1) box (exclusive end) of a non-empty boolean
    mask."""
    cols = np.flatnonzero(mask.any(axis=0))
    rows = np.flatnonzero(mask.any(axis=1))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _degrade(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    kind = DEGRADE_KINDS[rng.integers(len(DEGRADE_KINDS))]
    out = img.astype(np.float32)
    if kind in ('blur', 'both'):
        out = cv2.GaussianBlur(out, (0, 0),
                               rng.uniform(*DEGRADE_BLUR_SIGMA_RANGE))
    if kind in ('noise', 'both'):
        std = rng.uniform(*DEGRADE_NOISE_STD_RANGE)
        out += std * rng.standard_normal(out.shape, dtype=np.float32)
    return out


def _render_frame(
    spec: _VideoSpec, t: int, frame_rng: np.random.Generator
) -> Tuple[np.ndarray, List[Optional[np.ndarray]]]:
    """Render frame ``t``: the BGR image and, per object (spec order), its
    visible mask or None."""
    h, w = spec.height, spec.width
    present = [i for i, o in enumerate(spec.objects) if o.first <= t <= o.last]
    full = {i: _object_mask(spec.objects[i], t, h, w) for i in present}
    visible: List[Optional[np.ndarray]] = [None] * len(spec.objects)
    covered = np.zeros((h, w), bool)
    for i in sorted(
            present, key=lambda k: spec.objects[k].depth):  # nearest first
        vis = full[i].astype(bool) & ~covered
        covered |= vis
        if vis.any():
            visible[i] = vis
    img = spec.background.copy()
    for i, vis in enumerate(
            visible):  # visible masks are disjoint: the order does not matter
        if vis is not None:
            x0, y0, x1, y1 = roi = _mask_roi(vis)
            tex = _warp_texture(spec.objects[i], t, roi)
            np.copyto(img[y0:y1, x0:x1], tex, where=vis[y0:y1, x0:x1, None])
    out = img.astype(np.float32)
    out += FRAME_NOISE_STD * frame_rng.standard_normal(
        out.shape, dtype=np.float32)
    if frame_rng.random() < P_DEGRADE:
        out = _degrade(out, frame_rng)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8), visible


def _encode(mask: np.ndarray) -> Tuple[Dict[str, Any], List[float], int]:
    """Compressed RLE (counts as str), [x, y, w, h] box and area of a binary
    mask."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    bbox = [float(v) for v in mask_utils.toBbox(rle)]
    area = int(mask_utils.area(rle))
    rle = {
        'size': [int(s) for s in rle['size']],
        'counts': rle['counts'].decode('ascii')
    }
    return rle, bbox, area


def render_video(img_root: str,
                 split: str,
                 index: int,
                 seed: int = 0,
                 frames: Tuple[int, int] = (10, 30),
                 size: Tuple[int, int] = (192, 320),
                 scene: Optional[SceneSettings] = None) -> Dict[str, Any]:
    """Render one video, write its JPEG frames and return its annotations.

    Args:
        img_root: the split's ``JPEGImages`` folder; frames go to
            ``img_root/<video_name>/``.
        split: ``'train'`` or ``'valid'``.
        index: 0-based video index within the split (the video is named
            ``index + 1``).
        seed: global seed; the video is a function of ``(seed, split, index)``
            only.
        frames: inclusive (min, max) number of frames.
        size: (height, width).
        scene: object count and size (``SceneSettings``; None: defaults).

    Returns:
        ``dict(name, length, file_names, objects)`` where ``objects`` is a list
        (objects visible in at least one frame, in generation order) of
        ``dict(category_id, bboxes, areas, segmentations)`` with one entry (or
        None) per frame.
    """
    spec = _make_video_spec(seed, split, index, frames, size, scene)
    video_dir = osp.join(img_root, spec.name)
    os.makedirs(video_dir, exist_ok=True)
    n_obj = len(spec.objects)
    tracks = [
        dict(
            category_id=o.category + 1,
            bboxes=[None] * spec.length,
            areas=[None] * spec.length,
            segmentations=[None] * spec.length) for o in spec.objects
    ]
    file_names = []
    for t in range(spec.length):
        frame_rng = np.random.default_rng(
            [seed, SPLIT_SEED_IDS[split], index, _FRAME_STREAM, t])
        img, visible = _render_frame(spec, t, frame_rng)
        fname = FRAME_NAME_TEMPLATE.format(frame=t)
        path = osp.join(video_dir, fname)
        if not cv2.imwrite(path, img,
                           [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
            raise OSError(f'could not write frame {path}')
        file_names.append(f'{spec.name}/{fname}')
        for i in range(n_obj):
            if visible[i] is not None:
                rle, bbox, area = _encode(visible[i])
                tracks[i]['segmentations'][t] = rle
                tracks[i]['bboxes'][t] = bbox
                tracks[i]['areas'][t] = area
    objects = [tr for tr in tracks if any(a is not None for a in tr['areas'])]
    return dict(
        name=spec.name,
        length=spec.length,
        file_names=file_names,
        objects=objects)


def _render_video_task(args: Tuple) -> Dict[str, Any]:
    cv2.setNumThreads(1)  # parallelism comes from the process pool
    return render_video(*args)


# -----------------------------------------------------------------------------
# public entry point
# -----------------------------------------------------------------------------
def _check_args(train_videos: int, val_videos: int, frames: Sequence[int],
                size: Sequence[int], seed: int, num_workers: int) -> None:
    for name, val in (('train_videos', train_videos), ('val_videos',
                                                       val_videos),
                      ('seed', seed), ('num_workers', num_workers)):
        if not isinstance(val, (int, np.integer)) or isinstance(val, bool):
            raise TypeError(f'{name} must be an int, got {val!r}')
        if val < 0:
            raise ValueError(f'{name} must be >= 0, got {val}')
    if len(frames) != 2:
        raise ValueError(
            f'frames must be an inclusive (min, max) pair, got {frames!r}')
    fmin, fmax = frames
    if fmin < 1:
        raise ValueError(
            f'frames: the minimum number of frames must be >= 1, got {fmin}')
    if fmin > fmax:
        raise ValueError(f'frames: min ({fmin}) must be <= max ({fmax})')
    if fmax > MAX_FRAMES_PER_VIDEO:
        raise ValueError(f'frames: at most {MAX_FRAMES_PER_VIDEO} frames per '
                         f'video, got {fmax}')
    if len(size) != 2:
        raise ValueError(f'size must be (height, width), got {size!r}')
    if min(size) < MIN_IMAGE_SIDE:
        raise ValueError(
            f'size {tuple(size)} is too small for the objects: height and '
            f'width must be >= {MIN_IMAGE_SIDE}')


def _build_json(split: str, videos: List[Dict[str, Any]], height: int,
                width: int, seed: int) -> Dict[str, Any]:
    """Assemble the official YouTube-VIS 2019 json of one split (ids start at
    1)."""
    json_videos, annotations = [], []
    for vid, video in enumerate(videos, start=1):
        json_videos.append(
            dict(
                id=vid,
                width=width,
                height=height,
                length=video['length'],
                file_names=video['file_names']))
        for obj in video['objects']:
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    video_id=vid,
                    category_id=obj['category_id'],
                    iscrowd=0,
                    height=height,
                    width=width,
                    length=video['length'],
                    bboxes=obj['bboxes'],
                    areas=obj['areas'],
                    segmentations=obj['segmentations']))
    categories = [
        dict(id=i, name=n, supercategory=SUPERCATEGORY)
        for i, n in enumerate(SYNTHVIS_CLASSES, start=1)
    ]
    info = dict(
        description=f'SynthVIS {split} split (synthetic shapes, CiCo-MMDet)',
        version='1.0',
        contributor='CiCo-MMDet '
        'tools/dataset_converters/synthvis_generator.py',
        seed=seed)
    return dict(
        info=info,
        licenses=[],
        videos=json_videos,
        annotations=annotations,
        categories=categories)


def generate_synthvis(out_dir: str,
                      train_videos: int = 100,
                      val_videos: int = 20,
                      frames: Tuple[int, int] = (10, 30),
                      size: Tuple[int, int] = (192, 320),
                      seed: int = 0,
                      num_workers: int = 0,
                      scene: Optional[SceneSettings] = None) -> Dict[str, Any]:
    """Generate SynthVIS under ``out_dir`` in the official YouTube-VIS 2019
    layout.

    Writes ``annotations/train.json``, ``annotations/valid.json`` (the valid
    split keeps its annotations, so AP can be computed locally),
    ``train/JPEGImages/<video>/<frame:05d>.jpg`` and
    ``valid/JPEGImages/<video>/<frame:05d>.jpg``. Existing files of the same
    names are overwritten.

    Args:
        out_dir: output root.
        train_videos: number of training videos (>= 0).
        val_videos: number of validation videos (>= 0).
        frames: inclusive (min, max) number of frames per video.
        size: (height, width) of every frame; both >= ``MIN_IMAGE_SIDE``.
        seed: non-negative global seed. Each video depends on (seed, split,
            index) only.
        num_workers: processes used to render and write the videos; 0 renders
            in this process. The output is identical for any value.
        scene: object count and size per video (``SceneSettings``); None
            keeps the defaults (1-6 objects, radius 8-22% of the short side).

    Returns:
        ``dict(out_dir, classes, train=..., valid=...)`` where each split is
        ``dict(ann_file, img_dir, videos, frames, instances)``.
    """
    _check_args(train_videos, val_videos, frames, size, seed, num_workers)
    frames = (int(frames[0]), int(frames[1]))
    height, width = int(size[0]), int(size[1])
    seed = int(seed)
    counts = {'train': int(train_videos), 'valid': int(val_videos)}
    ann_dir = osp.join(out_dir, 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    tasks, split_of_task = [], []
    for split, count in counts.items():
        img_root = osp.join(out_dir, split, 'JPEGImages')
        os.makedirs(img_root, exist_ok=True)
        for index in range(count):
            tasks.append(
                (img_root, split, index, seed, frames, (height, width), scene))
            split_of_task.append(split)

    if num_workers > 0 and len(tasks) > 1:
        # spawn, not fork: a parent that already runs torch/OpenCV thread
        # pools (tests, the quickstart) can deadlock a forked child
        ctx = mp.get_context('spawn')
        with ctx.Pool(min(num_workers, len(tasks))) as pool:
            results = pool.map(_render_video_task, tasks, chunksize=1)
    else:
        results = [render_video(*task) for task in tasks]

    summary: Dict[str, Any] = dict(
        out_dir=osp.abspath(out_dir), classes=SYNTHVIS_CLASSES)
    for split in counts:
        videos = [r for r, s in zip(results, split_of_task) if s == split]
        data = _build_json(split, videos, height, width, seed)
        ann_file = osp.join(ann_dir, SPLIT_ANN_FILES[split])
        with open(ann_file, 'w') as f:
            json.dump(data, f)
        summary[split] = dict(
            ann_file=ann_file,
            img_dir=osp.join(out_dir, split, 'JPEGImages'),
            videos=len(videos),
            frames=sum(v['length'] for v in videos),
            instances=len(data['annotations']))
    return summary
