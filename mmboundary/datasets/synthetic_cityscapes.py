# Copyright (c) mmboundary contributors. All rights reserved.
"""A small, deterministic, synthetic dataset in the Cityscapes layout.

The logic of ``tools/dataset_converters/generate_synthetic_cityscapes.py``
(a thin command line over :func:`generate`).

Every file the real dataset has for a ``gtFine`` frame is written, with the
real encodings::

    ROOT/leftImg8bit/{split}/{city}/{city}_{seq}_{frame}_leftImg8bit.png
    ROOT/gtFine/{split}/{city}/{city}_{seq}_{frame}_gtFine_labelIds.png
                                                    _gtFine_instanceIds.png
                                                    _gtFine_color.png
                                                    _gtFine_polygons.json
    ROOT/disparity/{split}/{city}/{city}_{seq}_{frame}_disparity.png
    ROOT/camera/{split}/{city}/{city}_{seq}_{frame}_camera.json

* ``labelIds``: uint8, the ``id`` of ``cityscapesscripts.helpers.labels``.
* ``instanceIds``: uint16, the class id for stuff and ``id * 1000 + k`` for
  the k-th object of an instance class (in polygon order, as
  ``json2instanceImg`` numbers them).
* ``color``: RGBA, the label colours.
* ``polygons.json``: ``imgHeight``, ``imgWidth`` and ``objects`` (``label``,
  ``polygon``) listed back to front. The label PNGs are rasterised *from*
  these polygons with PIL in list order, as ``json2labelImg`` does, so
  cityscapesscripts reproduces them.
* ``disparity``: uint16, ``p = d * 256 + 1`` for a disparity ``d`` in pixels,
  ``0`` = invalid (sky, ego vehicle and random drop-outs).
* ``camera.json``: ``extrinsic`` (``baseline`` in metres, ...) and
  ``intrinsic`` (``fx``, ``fy``, ``u0``, ``v0`` in pixels).

A scene is a ground plane (road and sidewalks) seen from a camera at height
``z`` with its horizon at row ``v0``; everything that stands on the ground
(buildings, trees, poles with signs and lights, cars, people, riders on
bicycles) is a fronto-parallel polygon at depth ``Z`` whose foot is at row
``v0 + fy * z / Z``. Objects are listed far to near, so the polygon order,
the occlusions in the label maps and the disparity agree.

Images (data version :data:`DATA_VERSION` = 2) have the structure of a
photograph after a camera's processing: every object has a colour jittered
around its class mean (classes overlap, so a colour does not give the
label), shaded by spatially correlated (smooth) texture and a smooth
illumination field; buildings carry windows, trees leaves, the road lane
marks; the optics blur edges slightly (``EDGE_BLUR_SIGMA``), so pixels on
an object edge take intermediate values; sensor noise after the ISP is
small (``SENSOR_NOISE_SIGMA`` grey levels). Version 1 added per-pixel noise
(sigma 9 plus a texture of 5-pixel cells) after the blur, which made
neighbouring pixels of one object as different as pixels of two objects
and defeated BoxInst's colour affinity (issue 19).

Each image depends only on ``(seed, split, index)``; the same command writes
byte-identical files. A marker file identifies the root as synthetic and
records the settings; an existing root without the marker (a real dataset,
say) is never touched. The marker records the data version; a
root written by another version counts as other settings. Re-running into
a synthetic root:

* with the same settings, a complete root is left as it is (its converted
  labels, annotations and lists stay valid) and an interrupted one is
  completed;
* with other settings (sizes, counts, seed, data version) it is refused,
  because the converted labels, the instance JSONs and
  ``train.txt``/``val.txt`` would no longer match; ``--overwrite`` removes
  all of them and rewrites the root, and converts it again when it had
  been converted.

Progress (with an ETA) goes to stdout (``verbose``).
"""
import glob
import json
import os
import os.path as osp
import shutil
from typing import Callable, Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image, ImageDraw

from mmboundary.utils.cli import UserError
from mmboundary.utils.progress import track

__all__ = [
    'MARKER', 'DATA_VERSION', 'EDGE_BLUR_SIGMA', 'SENSOR_NOISE_SIGMA',
    'TEXTURE', 'OWNED_DIRS', 'LIST_FILES', 'SETTING_KEYS', 'CITIES', 'FRAME',
    'clip_polygon', 'Scene', 'build_scene', 'rasterise', 'smooth_noise',
    'render_image', 'render_disparity', 'camera_json', 'write_png',
    'generate_frame', 'read_marker', 'data_version', 'data_versions',
    'prepare_root', 'frame_stem', 'generate', 'colour_lookup_accuracy',
    'read_frames'
]

#: The file the generator writes into a dataset it made (its settings).
MARKER = '.mmboundary_synthetic_cityscapes.json'
#: Version of the generated data; bump it whenever the same settings would
#: write other files. Recorded in the marker (a marker without it is
#: version 1) and in every cache key that depends on the data (edge-net
#: and InverseNet pretraining, the main job's shared start).
DATA_VERSION = 2
#: Sigma (pixels) of the optics' blur applied to the rendered scene.
EDGE_BLUR_SIGMA = 0.7
#: Sigma (grey levels) of the sensor noise left after the ISP.
SENSOR_NOISE_SIGMA = 1.5
#: Spatially correlated texture of every object, scaled by its ``texture``:
#: ``(cell as a fraction of the image width, amplitude in grey levels,
#: channels)``; a colour drift (3 channels) and a luminance grain (1).
TEXTURE = ((1 / 4, 10.0, 1), (1 / 4, 4.0, 3), (1 / 16, 4.0, 1))
OWNED_DIRS = ('leftImg8bit', 'gtFine', 'disparity', 'camera', 'annotations')
# written by tools/dataset_converters/cityscapes.py into the root
LIST_FILES = ('train.txt', 'val.txt', 'test.txt')
SETTING_KEYS = ('version', 'seed', 'num_train', 'num_val', 'height', 'width')
CITIES = dict(
    train=('aachen', 'bochum', 'bremen', 'cologne'),
    val=('frankfurt', 'lindau', 'munster'))
FRAME = 19  # gtFine annotates the 20th frame of each snippet

# Real Cityscapes camera (aachen), scaled with the image width.
FX_FULL, U0_FULL = 2262.52, 1096.98
CAM_HEIGHT = 1.22  # metres

# Mean colour (RGB) of each class in the *image*; objects jitter around it.
BASE_RGB = {
    'sky': (150, 175, 205),
    'building': (125, 110, 100),
    'vegetation': (85, 115, 60),
    'road': (105, 100, 105),
    'sidewalk': (130, 120, 118),
    'pole': (110, 110, 110),
    'traffic sign': (185, 170, 60),
    'traffic light': (50, 55, 50),
    'person': (110, 90, 85),
    'rider': (100, 85, 110),
    'car': (120, 110, 115),
    'bicycle': (70, 70, 80),
    'ego vehicle': (35, 35, 40),
}

# Outlines in object units: x in [-0.5, 0.5] * width, y in [0, 1] * height
# measured upwards from the foot point.
PERSON = np.array([(-0.35, 0), (-0.1, 0), (0, 0.42), (0.1, 0), (0.35, 0),
                   (0.25, 0.5), (0.45, 0.8), (0.18, 0.86), (0.16, 0.92),
                   (0.1, 1.0), (-0.1, 1.0), (-0.16, 0.92), (-0.18, 0.86),
                   (-0.45, 0.8), (-0.25, 0.5)])
BICYCLE = np.array([(-0.5, 0), (-0.2, 0), (-0.1, 0.3), (0.1, 0.3), (0.2, 0),
                    (0.5, 0), (0.5, 0.45), (0.3, 0.6), (0.25, 1.0),
                    (0.12, 1.0), (0.08, 0.6), (-0.12, 0.6), (-0.3, 0.8),
                    (-0.38, 0.7), (-0.5, 0.45)])
CAR = np.array([(-0.5, 0), (0.5, 0), (0.5, 0.55), (0.32, 0.62), (0.2, 1.0),
                (-0.22, 1.0), (-0.35, 0.62), (-0.5, 0.55)])


def clip_polygon(points, width, height):
    """Clip a polygon to the image rectangle (Sutherland-Hodgman).

    Args:
        points (np.ndarray): (N, 2) float ``(x, y)`` vertices.
        width (int): image width W; x is clipped to ``[0, W - 1]``.
        height (int): image height H; y is clipped to ``[0, H - 1]``.

    Returns:
        list[list[int]]: the clipped polygon with integer vertices and
        consecutive duplicates removed; empty when fewer than 3 remain.
    """
    bounds = ((0, 0.0, 1), (0, width - 1.0, -1), (1, 0.0, 1), (1, height - 1.0,
                                                               -1))
    poly = [tuple(p) for p in np.asarray(points, dtype=np.float64)]
    for axis, limit, sign in bounds:
        if not poly:
            break
        out = []
        for i, cur in enumerate(poly):
            prev = poly[i - 1]
            cur_in = sign * (cur[axis] - limit) >= 0
            prev_in = sign * (prev[axis] - limit) >= 0
            if cur_in != prev_in:
                t = (limit - prev[axis]) / (cur[axis] - prev[axis])
                out.append(
                    tuple(prev[k] + t * (cur[k] - prev[k]) for k in range(2)))
            if cur_in:
                out.append(cur)
        poly = out
    result = []
    for x, y in poly:
        pt = [int(round(x)), int(round(y))]
        if not result or result[-1] != pt:
            result.append(pt)
    while len(result) > 1 and result[0] == result[-1]:
        result.pop()
    return result if len(result) >= 3 else []


class Scene:
    """Objects of one frame, collected back to front.

    Each object is ``(label, polygon, depth, colour, texture)`` where
    ``depth`` is a float (metres, fronto-parallel), ``'ground'`` (depth from
    the row) or ``None`` (invalid disparity).
    """

    def __init__(self, rng, height, width):
        self.rng = rng
        self.h, self.w = height, width
        scale = width / 2048.0
        self.fx = FX_FULL * scale
        self.u0 = U0_FULL * scale + rng.uniform(-2, 2)
        self.v0 = height * 0.42 + rng.uniform(-0.03, 0.03) * height
        self.baseline = 0.209313 + rng.uniform(-0.005, 0.005)
        self.objects = []
        self.standing = []  # (depth, tie, label, poly, colour, texture)

    def colour(self, label, jitter=25):
        base = np.array(BASE_RGB[label], dtype=np.float64)
        return np.clip(base + self.rng.uniform(-jitter, jitter, 3), 0, 255)

    def add(self, label, points, depth, colour=None, texture=1.0):
        poly = clip_polygon(points, self.w, self.h)
        if poly:
            if colour is None:
                colour = self.colour(label)
            self.objects.append((label, poly, depth, colour, texture))

    def stand(self,
              label,
              outline,
              x_c,
              depth,
              width_m,
              height_m,
              lift_m=0.0,
              tie=0.0,
              colour=None,
              texture=1.0):
        """Queue an upright object whose foot is on the ground at depth."""
        k = self.fx / depth  # pixels per metre at this depth
        foot = self.v0 + self.fx * CAM_HEIGHT / depth
        pts = np.stack([
            x_c + outline[:, 0] * width_m * k, foot -
            (outline[:, 1] * height_m + lift_m) * k
        ], 1)
        self.standing.append((depth, tie, label, pts, colour, texture))

    def foot_x(self, margin=0.1):
        return self.rng.uniform(-margin, 1 + margin) * self.w

    def flush_standing(self):
        # far to near; ties broken by 'tie' (a rider after its bicycle)
        for depth, tie, label, pts, colour, texture in sorted(
                self.standing, key=lambda s: (-s[0], s[1])):
            self.add(label, pts, depth, colour, texture)
        self.standing = []


def build_scene(rng, height, width):
    """Compose one frame. Returns the :class:`Scene` with its objects."""
    s = Scene(rng, height, width)
    h, w, v0 = height, width, s.v0
    # background: sky over everything, then the ground plane below v0
    s.add(
        'sky', [(0, 0), (w - 1, 0), (w - 1, h - 1), (0, h - 1)],
        None,
        texture=0.5)
    s.add('sidewalk', [(0, v0), (w - 1, v0), (w - 1, h - 1), (0, h - 1)],
          'ground')
    vx = s.u0 + rng.uniform(-0.1, 0.1) * w  # vanishing point of the road
    half = rng.uniform(0.004, 0.02) * w
    spread_l, spread_r = rng.uniform(1.6, 3.0, 2)
    depth_rows = h - 1 - v0
    s.add(
        'road', [(vx - half, v0), (vx + half, v0),
                 (vx + half + spread_r * depth_rows, h - 1),
                 (vx - half - spread_l * depth_rows, h - 1)],
        'ground',
        colour=s.colour('road', 20) + rng.uniform(-5, 25))

    # buildings: a row of blocks, some low so that sky shows
    x = rng.uniform(-0.1, 0.05) * w
    while x < w:
        depth = rng.uniform(30, 70)
        k = s.fx / depth
        bw = rng.uniform(8, 30) * k
        bh = rng.uniform(6, 25)
        if rng.random() < 0.2:  # gap
            x += bw * 0.5
            continue
        outline = np.array([(0, 0), (1, 0), (1, 1), (0, 1)], float)
        if rng.random() < 0.3:  # gabled roof
            outline = np.array([(0, 0), (1, 0), (1, 0.85), (0.5, 1),
                                (0, 0.85)])
        outline = outline - [0.5, 0]
        s.stand('building', outline, x + bw / 2, depth, bw / k, bh)
        x += bw * rng.uniform(0.7, 1.0)

    # trees (crown and trunk are both vegetation)
    for _ in range(rng.integers(2, 6)):
        depth = rng.uniform(12, 28)
        x_c = s.foot_x()
        radius = rng.uniform(1.5, 3.5)
        n = 14
        ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
        r = radius * rng.uniform(0.7, 1.15, n)
        trunk_h = rng.uniform(1.5, 3.0)
        crown = np.stack(
            [np.cos(ang) * r, trunk_h + radius + np.sin(ang) * r * 0.9], 1)
        trunk = np.array([(-0.2, 0), (0.2, 0), (0.2, trunk_h + 0.5),
                          (-0.2, trunk_h + 0.5)])
        s.stand('vegetation', trunk, x_c, depth, 1, 1, tie=0)
        s.stand('vegetation', crown, x_c, depth, 1, 1, tie=0.1)

    # poles, some carrying a traffic sign or a traffic light
    for _ in range(rng.integers(2, 5)):
        depth = rng.uniform(7, 25)
        x_c = s.foot_x(0)
        pole_h = rng.uniform(3.5, 6.5)
        k = s.fx / depth
        pole_w = max(2.0, rng.uniform(0.12, 0.25) * k) / k  # >= 2 px
        rect = np.array([(-0.5, 0), (0.5, 0), (0.5, 1), (-0.5, 1)])
        s.stand('pole', rect, x_c, depth, pole_w, pole_h, tie=0)
        kind = rng.random()
        if kind < 0.45:
            side = rng.uniform(0.5, 0.8)
            if rng.random() < 0.5:  # diamond
                shape = np.array([(0, 0), (0.5, 0.5), (0, 1), (-0.5, 0.5)])
            else:
                shape = rect
            s.stand(
                'traffic sign',
                shape,
                x_c,
                depth - 0.05,
                side,
                side,
                lift_m=pole_h - side * 0.6,
                tie=1)
        elif kind < 0.75:
            s.stand(
                'traffic light',
                rect,
                x_c,
                depth - 0.05,
                0.35,
                0.95,
                lift_m=pole_h - 0.7,
                tie=1)

    # instances: cars, people, riders on bicycles, parked bicycles
    for _ in range(rng.integers(2, 6)):
        depth = rng.uniform(8, 28)
        # mostly seen from behind, some from the side
        width_m = (
            rng.uniform(1.7, 2.0) if rng.random() < 0.7 else rng.uniform(
                3.8, 4.6))
        s.stand(
            'car',
            CAR,
            s.foot_x(),
            depth,
            width_m,
            rng.uniform(1.4, 1.7),
            colour=s.colour('car', 50))
    for _ in range(rng.integers(2, 6)):
        depth = rng.uniform(7, 25)
        s.stand(
            'person',
            PERSON,
            s.foot_x(),
            depth,
            rng.uniform(0.45, 0.6),
            rng.uniform(1.55, 1.9),
            colour=s.colour('person', 50))
    for _ in range(rng.integers(1, 3)):
        depth = rng.uniform(7, 25)
        x_c = s.foot_x()
        s.stand('bicycle', BICYCLE, x_c, depth, 1.7, 1.0, tie=0)
        s.stand(
            'rider',
            PERSON,
            x_c + rng.uniform(-0.2, 0.2) * s.fx / depth,
            depth - 0.1,
            0.5,
            1.3,
            lift_m=0.55,
            tie=1,
            colour=s.colour('rider', 50))
    for _ in range(rng.integers(0, 3)):
        depth = rng.uniform(7, 25)
        s.stand('bicycle', BICYCLE, s.foot_x(), depth, rng.uniform(1.6, 1.8),
                1.0)
    s.flush_standing()

    # ego vehicle: the bonnet along the bottom border (ignored in eval)
    y = h - 1 - rng.uniform(0.03, 0.06) * h
    s.add('ego vehicle', [(0, h - 1), (0, y + 0.02 * h), (0.3 * w, y),
                          (0.7 * w, y), (w - 1, y + 0.02 * h), (w - 1, h - 1)],
          None)
    return s


def rasterise(scene, name2label):
    """Draw the polygons in list order, as cityscapesscripts does.

    Returns:
        tuple: ``index`` (H, W) int32 (position of the topmost object in
        ``scene.objects``), ``label_ids`` (H, W) uint8 and ``instance_ids``
        (H, W) uint16.
    """
    size = (scene.w, scene.h)
    index_img = Image.new('I', size, -1)
    draw = ImageDraw.Draw(index_img)
    label_lut = np.zeros(len(scene.objects), np.int64)
    inst_lut = np.zeros(len(scene.objects), np.int64)
    counts = {}
    for i, (label, poly, *_) in enumerate(scene.objects):
        draw.polygon([tuple(p) for p in poly], fill=i)
        info = name2label[label]
        label_lut[i] = info.id
        inst_lut[i] = info.id
        if info.hasInstances:
            inst_lut[i] = info.id * 1000 + counts.get(label, 0)
            counts[label] = counts.get(label, 0) + 1
    index = np.asarray(index_img, dtype=np.int32)
    if (index < 0).any():
        raise RuntimeError('internal error: a pixel is not covered')
    return (index, label_lut[index].astype(np.uint8),
            inst_lut[index].astype(np.uint16))


def smooth_noise(rng, height, width, cell, channels=1):
    """(H, W, C) float32 low-frequency noise in about [-1, 1]: a coarse
    uniform random grid with ``cell``-pixel spacing, cubic-resized."""
    gh, gw = max(2, height // cell + 2), max(2, width // cell + 2)
    grid = rng.uniform(-1, 1, (gh, gw, channels)).astype(np.float32)
    out = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return out.reshape(height, width, channels)


def render_image(rng, scene, index):
    """The camera image of the scene, piecewise smooth like a photograph.

    Each object's colour (jittered around its class mean) is shaded by
    spatially correlated texture (:data:`TEXTURE`: a colour drift and a
    luminance grain, smooth noise scaled by the object's ``texture``),
    windows, leaves and lane marks, and a smooth illumination field; then
    the optics blur it (``EDGE_BLUR_SIGMA``: object edges get intermediate
    values) and the sensor adds small noise (``SENSOR_NOISE_SIGMA`` grey
    levels, the same on the three channels, as luminance noise after
    demosaicing and denoising).

    Args:
        rng (np.random.Generator): The frame's generator.
        scene (Scene): The frame.
        index (np.ndarray): (H, W) int, the topmost object per pixel.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB.
    """
    h, w = scene.h, scene.w
    colours = np.array([o[3] for o in scene.objects], np.float32)
    textures = np.array([o[4] for o in scene.objects], np.float32)
    labels = [o[0] for o in scene.objects]
    img = colours[index]
    tex = textures[index][..., None]
    for frac, amplitude, channels in TEXTURE:
        cell = max(4, int(round(w * frac)))
        img += tex * amplitude * smooth_noise(rng, h, w, cell, channels)
    # windows on buildings, leaves on trees, lane marks on the road
    ys, xs = np.mgrid[0:h, 0:w]
    is_label = {
        name: np.isin(index, [i for i, n in enumerate(labels) if n == name])
        for name in ('building', 'vegetation', 'road')
    }
    period = max(4, w // 64)
    windows = ((ys // period) % 2 == 0) & ((xs // period) % 3 != 0)
    img[is_label['building'] & windows] *= 0.7
    leaves = smooth_noise(rng, h, w, max(3, w // 128), 1)[..., 0] > 0.3
    img[is_label['vegetation'] & leaves] *= 0.8
    lane = (np.abs(xs - scene.u0 - (ys - scene.v0) * 0.05) < 1 +
            (ys - scene.v0) / h * 3) & ((ys // 8) % 2 == 0)
    img[is_label['road'] & lane] = 200
    # illumination field, the optics' blur and the sensor's noise
    img *= 0.85 + 0.15 * (smooth_noise(rng, h, w, max(8, w // 2), 1) + 1)
    img = cv2.GaussianBlur(img, (0, 0), EDGE_BLUR_SIGMA)
    img += rng.normal(0, SENSOR_NOISE_SIGMA, (h, w, 1)).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def render_disparity(rng, scene, index):
    """uint16 disparity PNG content (``p = d * 256 + 1``, 0 = invalid)."""
    h, w = scene.h, scene.w
    n = len(scene.objects)
    const = np.zeros(n, np.float64)  # fronto-parallel depth, 0 = not
    ground = np.zeros(n, bool)
    for i, obj in enumerate(scene.objects):
        if obj[2] == 'ground':
            ground[i] = True
        elif obj[2] is not None:
            const[i] = obj[2]
    rows = np.arange(h, dtype=np.float64)[:, None] - scene.v0
    with np.errstate(divide='ignore'):
        ground_depth = np.where(rows > 0.5, scene.fx * CAM_HEIGHT / rows, 0.0)
    depth = np.where(ground[index], np.broadcast_to(ground_depth, (h, w)),
                     const[index])
    disp = np.zeros((h, w), np.float64)
    valid = depth > 0
    disp[valid] = scene.baseline * scene.fx / depth[valid]
    disp[valid] *= 1 + rng.normal(0, 0.01, int(valid.sum()))
    p = np.round(disp * 256 + 1)
    p[~valid] = 0
    # drop-outs: isolated pixels and a few rectangles (stereo failures)
    p[rng.random((h, w)) < 0.01] = 0
    for _ in range(rng.integers(2, 6)):
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        p[y0:y0 + rng.integers(3, 12), x0:x0 + rng.integers(3, 20)] = 0
    p[(p > 0) & (p < 2)] = 0  # d < 1/256 px would be beyond any range
    return np.clip(p, 0, 65535).astype(np.uint16)


def camera_json(scene):
    return dict(
        extrinsic=dict(
            baseline=round(scene.baseline, 6),
            pitch=0.0,
            roll=0.0,
            x=1.7,
            y=0.1,
            yaw=0.0,
            z=CAM_HEIGHT),
        intrinsic=dict(
            fx=round(scene.fx, 6),
            fy=round(scene.fx, 6),
            u0=round(scene.u0, 6),
            v0=round(scene.v0, 6)))


def write_png(path, array):
    if not cv2.imwrite(path, array):
        raise OSError(f'could not write {path}')


def generate_frame(root, split, idx, seed, height, width, labels_module):
    """Write every file of frame ``idx`` of ``split``. Returns its stem."""
    split_id = {'train': 0, 'val': 1}[split]
    rng = np.random.default_rng([seed, split_id, idx])
    cities = CITIES[split]
    city = cities[idx % len(cities)]
    stem = f'{city}_{idx // len(cities):06d}_{FRAME:06d}'
    scene = build_scene(rng, height, width)
    index, label_ids, inst_ids = rasterise(scene, labels_module.name2label)
    image = render_image(rng, scene, index)
    disparity = render_disparity(rng, scene, index)
    colour_lut = np.zeros((256, 4), np.uint8)
    for lab in labels_module.labels:
        if lab.id >= 0:
            colour_lut[lab.id] = (*lab.color, 255)
    colour = colour_lut[label_ids]

    dirs = {
        name: osp.join(root, name, split, city)
        for name in ('leftImg8bit', 'gtFine', 'disparity', 'camera')
    }
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    write_png(
        osp.join(dirs['leftImg8bit'], stem + '_leftImg8bit.png'),
        image[..., ::-1])
    gt = osp.join(dirs['gtFine'], stem + '_gtFine_')
    write_png(gt + 'labelIds.png', label_ids)
    write_png(gt + 'instanceIds.png', inst_ids)
    write_png(gt + 'color.png', colour[..., [2, 1, 0, 3]])
    polygons = dict(
        imgHeight=height,
        imgWidth=width,
        objects=[dict(label=o[0], polygon=o[1]) for o in scene.objects])
    with open(gt + 'polygons.json', 'w') as f:
        json.dump(polygons, f, indent=1)
    write_png(osp.join(dirs['disparity'], stem + '_disparity.png'), disparity)
    with open(osp.join(dirs['camera'], stem + '_camera.json'), 'w') as f:
        json.dump(camera_json(scene), f, indent=4)
    return f'{split}/{city}/{stem}'


def read_marker(root):
    """The settings recorded in a synthetic root's marker (None: none);
    ``version`` is 1 where the marker predates it."""
    marker = osp.join(root, MARKER)
    if not osp.isfile(marker):
        return None
    try:
        with open(marker) as f:
            settings = json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f'{marker} cannot be read ({e}); remove the root '
                        f'{root} or pass another --out') from None
    if not isinstance(settings, dict):
        raise UserError(f'{marker} holds no settings; remove the root '
                        f'{root} or pass another --out')
    settings.setdefault('version', 1)
    return settings


def _marker_version(folder: str) -> Optional[int]:
    """The data version of the marker in ``folder`` (None: no marker)."""
    marker = osp.join(folder, MARKER)
    if not osp.isfile(marker):
        return None
    try:
        with open(marker) as f:
            return int(json.load(f).get('version', 1))
    except (OSError, ValueError, TypeError, AttributeError):
        return -1  # unreadable: a version of its own (never a match)


def _synthetic_root(path: str) -> Tuple[Optional[str], Optional[int]]:
    """The nearest folder at or above ``path`` with a marker and its
    version; ``(None, None)`` when there is none."""
    folder = osp.abspath(path)
    if not osp.isdir(folder):
        folder = osp.dirname(folder)
    while True:
        version = _marker_version(folder)
        if version is not None:
            return folder, version
        parent = osp.dirname(folder)
        if parent == folder:
            return None, None
        folder = parent


def data_version(path: str) -> Optional[int]:
    """The synthetic data version of the root that holds ``path``.

    Looks for :data:`MARKER` in ``path`` (a folder) and in every folder
    above it, nearest first (read afresh on every call: another process
    may have regenerated the root).

    Args:
        path (str): A file or folder, e.g. a label map of the dataset.

    Returns:
        int | None: The marker's ``version`` (1 for a marker without one,
        -1 for an unreadable one); None when no folder above ``path`` has
        a marker (not generated data, e.g. real Cityscapes).
    """
    return _synthetic_root(path)[1]


def data_versions(paths: Sequence[str]) -> str:
    """The data versions of the synthetic roots holding ``paths``, as text
    for a cache key: ``'root=version'`` joined by ``;``, sorted by root
    (empty when none of them is generated data)."""
    by_folder: Dict[str, Tuple[Optional[str], Optional[int]]] = {}
    found = {}
    for path in paths:
        folder = osp.dirname(osp.abspath(path))
        if folder not in by_folder:
            by_folder[folder] = _synthetic_root(folder)
        root, version = by_folder[folder]
        if root is not None:
            found[root] = version
    return ';'.join(f'{root}={v}' for root, v in sorted(found.items()))


def _write_marker(root, settings, complete):
    with open(osp.join(root, MARKER), 'w') as f:
        json.dump(
            dict(settings, complete=complete), f, indent=2, sort_keys=True)


def _was_converted(root):
    return osp.isdir(osp.join(root, 'annotations')) or any(
        osp.isfile(osp.join(root, name)) for name in LIST_FILES)


def prepare_root(root, settings, overwrite=False):
    """Create ``root``, or check a previous synthetic one against
    ``settings``; refuse anything else.

    Returns:
        str: ``'new'`` (empty or created), ``'complete'`` (same settings,
        all frames written: nothing to do), ``'resume'`` (same settings,
        interrupted: frames are written again in place, nothing removed),
        ``'overwrite'`` or ``'overwrite-converted'`` (other settings with
        ``overwrite``: everything owned was removed; the second when the
        old root had been converted).

    Raises:
        FileExistsError: ``root`` is not empty and has no marker.
        NotADirectoryError: ``root`` is a file.
        UserError: a synthetic root with other settings, without
            ``overwrite``.
    """
    marker = osp.join(root, MARKER)
    if osp.exists(root) and not osp.isdir(root):
        raise NotADirectoryError(f'--out {root} is a file, not a directory')
    if osp.isdir(root) and os.listdir(root) and not osp.isfile(marker):
        raise FileExistsError(
            f'{root} exists and has no {MARKER} marker, so it is not a '
            'synthetic dataset written by this tool (it may be a real '
            'Cityscapes root). Refusing to overwrite it: pass an empty or '
            'new directory with --out.')
    old = read_marker(root)
    state = 'new'
    if old is not None:
        same = all(old.get(k) == settings[k] for k in SETTING_KEYS)
        if same:
            state = 'complete' if old.get('complete', True) else 'resume'
        elif not overwrite:
            was = ', '.join(f'{k}={old.get(k)}' for k in SETTING_KEYS)
            now = ', '.join(f'{k}={settings[k]}' for k in SETTING_KEYS)
            if old.get('version') != settings['version']:
                was += (f' (data version {old.get("version")}; this '
                        f'generator writes version {settings["version"]})')
            raise UserError(
                f'{root} holds a synthetic dataset generated with {was}; '
                f'generating {now} there would leave its converted labels, '
                'instance JSONs and split lists (train.txt, val.txt) stale. '
                'Pass --overwrite to remove and rewrite all of it (it is '
                'converted again if it was), or choose another --out')
        else:
            state = ('overwrite-converted'
                     if _was_converted(root) else 'overwrite')
            for name in OWNED_DIRS:
                shutil.rmtree(osp.join(root, name), ignore_errors=True)
            for name in LIST_FILES:
                if osp.isfile(osp.join(root, name)):
                    os.remove(osp.join(root, name))
    if state == 'complete':
        return state
    os.makedirs(root, exist_ok=True)
    _write_marker(root, settings, complete=False)
    return state


def frame_stem(split, idx):
    """``split/city/stem`` of frame ``idx`` of ``split``."""
    cities = CITIES[split]
    city = cities[idx % len(cities)]
    return f'{split}/{city}/{city}_{idx // len(cities):06d}_{FRAME:06d}'


def generate(out,
             seed=0,
             num_train=48,
             num_val=16,
             height=256,
             width=512,
             verbose=True,
             overwrite=False,
             convert: Optional[Callable[[str, bool], None]] = None):
    """Generate the dataset; returns the list of ``split/city/stem``.

    See the module docstring for what happens in an existing root
    (``overwrite``). ``verbose``: progress with an ETA per split.
    ``convert(root, quiet)``: converts a root again after ``overwrite``
    removed its conversion (the tool passes the Cityscapes converter);
    required only then.
    """
    try:
        import cityscapesscripts.helpers.labels as cs_labels
    except ImportError as e:  # pragma: no cover
        raise ImportError('generate_synthetic_cityscapes needs '
                          'cityscapesscripts: pip install '
                          'cityscapesscripts') from e
    settings = dict(
        generator='mmboundary tools/dataset_converters/'
        'generate_synthetic_cityscapes.py',
        version=DATA_VERSION,
        seed=seed,
        num_train=num_train,
        num_val=num_val,
        height=height,
        width=width)
    old = read_marker(out) if osp.isdir(out) else None
    if overwrite and convert is None and old is not None and any(
            old.get(k) != settings[k]
            for k in SETTING_KEYS) and _was_converted(out):
        raise ValueError('generate(overwrite=True) rewriting a converted '
                         'root needs convert= to convert it again')
    state = prepare_root(out, settings, overwrite)
    frames = [
        frame_stem(split, idx)
        for split, num in (('train', num_train), ('val', num_val))
        for idx in range(num)
    ]
    if state == 'complete':
        if verbose:
            print(f'[synthetic cityscapes] {out} already holds these '
                  f'{len(frames)} frames (same settings): nothing written')
        return frames
    for split, num in (('train', num_train), ('val', num_val)):
        for idx in track(
                range(num),
                desc=f'[synthetic cityscapes] {split}',
                quiet=not verbose):
            generate_frame(out, split, idx, seed, height, width, cs_labels)
    _write_marker(out, settings, complete=True)
    if state == 'overwrite-converted':
        convert(out, not verbose)
    return frames


def colour_lookup_accuracy(
    train: Sequence[Tuple[np.ndarray, np.ndarray]],
    val: Sequence[Tuple[np.ndarray, np.ndarray]],
    ignore: Sequence[int] = (0, 1, 2, 3, 4)
) -> Dict[str, float]:
    """How far a pixel's colour alone gives its label: a nearest-class-mean
    colour classifier.

    The mean RGB of every label over the ``train`` pixels is the model; each
    ``val`` pixel gets the label of the nearest mean (Euclidean RGB).
    Labels in ``ignore`` (Cityscapes' void ids: unlabeled, ego vehicle,
    rectification border, out of roi, static) are left out of both.

    Args:
        train (Sequence[tuple]): ``(image, label)`` pairs, image (H, W, 3)
            uint8, label (H, W) int ids.
        val (Sequence[tuple]): the same, to classify.
        ignore (Sequence[int]): label ids left out.

    Returns:
        dict: ``accuracy`` (share of the val pixels classified right),
        ``majority`` (share of the val pixels of its most frequent label:
        the accuracy of a constant guess) and ``classes`` (labels
        modelled).
    """

    def pixels(pairs):
        cols, labs = [], []
        for image, label in pairs:
            keep = ~np.isin(label, ignore)
            cols.append(image[keep].reshape(-1, 3).astype(np.float64))
            labs.append(label[keep].reshape(-1))
        return np.concatenate(cols), np.concatenate(labs)

    x_train, y_train = pixels(train)
    x_val, y_val = pixels(val)
    classes = np.unique(y_train)
    means = np.stack([x_train[y_train == c].mean(0) for c in classes])
    # squared distances without an (N, C, 3) array
    dist = (means**2).sum(1)[None] - 2 * x_val @ means.T
    pred = classes[dist.argmin(1)]
    counts = np.unique(y_val, return_counts=True)[1]
    return dict(
        accuracy=float((pred == y_val).mean()),
        majority=float(counts.max() / len(y_val)),
        classes=int(len(classes)))


def read_frames(root: str, split: str, step: int = 1):
    """``(image RGB, labelIds)`` of every frame of ``split`` in ``root``,
    subsampled by ``step`` in both axes (sorted by file name)."""
    pattern = osp.join(root, 'leftImg8bit', split, '*', '*_leftImg8bit.png')
    out = []
    for path in sorted(glob.glob(pattern)):
        label_path = path.replace(
            osp.join(root, 'leftImg8bit'), osp.join(root, 'gtFine'),
            1)[:-len('leftImg8bit.png')] + 'gtFine_labelIds.png'
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        label = cv2.imread(label_path, cv2.IMREAD_UNCHANGED)
        if image is None or label is None:
            raise FileNotFoundError(f'{path} or {label_path} cannot be read')
        out.append((image[::step, ::step, ::-1], label[::step, ::step]))
    return out
