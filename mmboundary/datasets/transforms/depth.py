# Copyright (c) mmboundary contributors. All rights reserved.
"""Cityscapes depth: loading it and keeping it aligned through pipelines.

Which host transforms move which keys (mmcv 2.1 / mmseg 1.2 / mmdet 3.3):

* mmseg ``Resize`` (also inside ``RandomResize``), ``RandomFlip`` and
  ``RandomCrop`` move every key listed in ``results['seg_fields']``; mmcv's
  ``Pad`` pads only ``gt_seg_map``.
* mmdet ``Resize``, ``RandomFlip``, ``RandomCrop`` and ``Pad`` move only
  ``img``, ``gt_bboxes``, ``gt_masks`` and ``gt_seg_map``.

So a ``gt_depth_map`` key is not moved by mmdet at all, nor padded by
``Pad`` in either host. :class:`AlignDepth` wraps the geometric transforms
and applies each of them, with the same random parameters, to the depth map
stored (encoded) as ``gt_seg_map`` of a second, light results dict: every
transform of both hosts moves ``gt_seg_map``, with nearest interpolation,
so depth values are copied, never blended. :class:`LoadCityscapesDepth`
does not add the map to ``seg_fields``, so the same pipeline works in both
hosts and nothing moves the depth twice.
"""
import json
from typing import Optional, Sequence, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmcv.transforms.utils import cache_random_params
from mmengine import fileio

from mmboundary.registry import TRANSFORMS
from mmboundary.utils.validation import check_number, check_str

__all__ = [
    'LoadCityscapesDepth', 'AlignDepth', 'disparity_to_depth',
    'ResizeFlipDepth'
]


def disparity_to_depth(png: np.ndarray,
                       baseline: float,
                       fx: float,
                       max_depth: Optional[float] = None) -> np.ndarray:
    """Cityscapes disparity PNG values to metric depth.

    Cityscapes stores ``p = d * 256 + 1`` (uint16) for a disparity of ``d``
    pixels and ``p = 0`` for invalid pixels; ``depth = baseline * fx / d``.
    ``p = 1`` (zero disparity, infinitely far) is invalid too.

    Args:
        png (np.ndarray): (H, W) uint16 disparity PNG values.
        baseline (float): stereo baseline in metres.
        fx (float): focal length in pixels.
        max_depth (float | None): depths beyond it are set invalid.

    Returns:
        np.ndarray: (H, W) float32 depth in metres, 0 where invalid; finite.
    """
    valid = png > 1
    depth = np.zeros(png.shape, np.float32)
    disparity = (png[valid].astype(np.float64) - 1.0) / 256.0
    depth[valid] = baseline * fx / disparity
    if max_depth is not None:
        depth[depth > max_depth] = 0
    return depth


@TRANSFORMS.register_module()
class LoadCityscapesDepth(BaseTransform):
    """Load Cityscapes disparity and camera, and write depth in metres.

    The files are found from the image path, as in the Cityscapes layout::

        ROOT/leftImg8bit/{split}/{city}/{stem}_leftImg8bit.png
        ROOT/disparity/{split}/{city}/{stem}_disparity.png   (uint16)
        ROOT/camera/{split}/{city}/{stem}_camera.json

    ``depth = extrinsic.baseline * intrinsic.fx / d`` with
    ``d = (p - 1) / 256`` for ``p > 1``; invalid pixels are 0. Wrap the
    geometric transforms that follow in :class:`AlignDepth` to keep the map
    aligned with the image. mmseg's ``PackSegInputs`` packs ``gt_depth_map``
    as ``data_sample.gt_depth_map``.

    Required Keys:

    - img_path
    - ori_shape (optional): checked against the disparity map

    Added Keys:

    - gt_depth_map (np.float32): (H, W) depth in metres, 0 = invalid
    - disparity_path (str)
    - camera_path (str)

    Args:
        img_dir (str): image folder name in the root. Defaults to
            'leftImg8bit'.
        disparity_dir (str): Defaults to 'disparity'.
        camera_dir (str): Defaults to 'camera'.
        max_depth (float | None): depths beyond it are invalid. Defaults to
            None.
        backend_args (dict | None): mmengine file backend arguments.
    """

    def __init__(self,
                 img_dir: str = 'leftImg8bit',
                 disparity_dir: str = 'disparity',
                 camera_dir: str = 'camera',
                 max_depth: Optional[float] = None,
                 backend_args: Optional[dict] = None) -> None:
        owner = 'LoadCityscapesDepth'
        self.img_dir = check_str(img_dir, 'img_dir', owner)
        self.disparity_dir = check_str(disparity_dir, 'disparity_dir', owner)
        self.camera_dir = check_str(camera_dir, 'camera_dir', owner)
        self.max_depth = check_number(
            max_depth, 'max_depth', owner, low=0, low_open=True, optional=True)
        if backend_args is not None and not isinstance(backend_args, dict):
            raise TypeError(f'{owner}: `backend_args` must be a dict or None,'
                            f' got {backend_args!r}')
        self.backend_args = backend_args

    def _sibling(self, img_path: str, folder: str, suffix: str) -> str:
        img_suffix = f'_{self.img_dir}.png'
        norm = img_path.replace('\\', '/')
        marker = f'/{self.img_dir}/'
        pos = norm.rfind(marker)
        if not norm.endswith(img_suffix) or (pos < 0 and
                                             not norm.startswith(marker[1:])):
            raise ValueError(
                f'{img_path} is not in the Cityscapes layout: expected '
                f'ROOT/{self.img_dir}/<split>/<city>/<stem>{img_suffix}')
        if pos < 0:  # relative path starting with the image folder
            head, tail = '', norm[len(marker) - 1:]
        else:
            head, tail = norm[:pos + 1], norm[pos + len(marker):]
        tail = tail[:-len(img_suffix)] + suffix
        return f'{head}{folder}/{tail}'

    def _get(self, path: str, what: str, img_path: str) -> bytes:
        if not fileio.exists(path, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'{path} not found: expected the {what} of {img_path}')
        return fileio.get(path, backend_args=self.backend_args)

    def transform(self, results: dict) -> dict:
        img_path = results['img_path']
        disp_path = self._sibling(img_path, self.disparity_dir,
                                  '_disparity.png')
        cam_path = self._sibling(img_path, self.camera_dir, '_camera.json')
        png = mmcv.imfrombytes(
            self._get(disp_path, 'disparity PNG', img_path),
            flag='unchanged',
            backend='cv2')
        if png is None or png.ndim != 2 or png.dtype != np.uint16:
            got = 'undecodable' if png is None else \
                f'{png.dtype} with shape {png.shape}'
            raise ValueError(
                f'{disp_path} is {got}: expected a single-channel 16-bit '
                'PNG (Cityscapes disparity, p = d * 256 + 1, 0 = invalid)')
        try:
            camera = json.loads(
                self._get(cam_path, 'camera JSON', img_path).decode())
            baseline = float(camera['extrinsic']['baseline'])
            fx = float(camera['intrinsic']['fx'])
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(
                f'{cam_path}: expected a Cityscapes camera JSON with '
                'extrinsic.baseline and intrinsic.fx (numbers); '
                f'{type(e).__name__}: {e}') from None
        if not (baseline > 0 and fx > 0 and np.isfinite(baseline * fx)):
            raise ValueError(f'{cam_path}: baseline ({baseline}) and fx '
                             f'({fx}) must be positive')
        shape = results.get('ori_shape', None)
        if shape is None and results.get('img', None) is not None:
            shape = results['img'].shape[:2]
        if shape is not None and tuple(shape[:2]) != png.shape:
            raise ValueError(f'{disp_path} has shape {png.shape} but the '
                             f'image {img_path} has {tuple(shape[:2])}')
        results['gt_depth_map'] = disparity_to_depth(png, baseline, fx,
                                                     self.max_depth)
        results['disparity_path'] = disp_path
        results['camera_path'] = cam_path
        return results

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(img_dir='{self.img_dir}', "
                f"disparity_dir='{self.disparity_dir}', "
                f"camera_dir='{self.camera_dir}', "
                f'max_depth={self.max_depth}, '
                f'backend_args={self.backend_args})')


@TRANSFORMS.register_module()
class AlignDepth(BaseTransform):
    """Apply geometric transforms to the sample and, identically, to depth.

    mmdet's geometric transforms move only ``img``, ``gt_bboxes``,
    ``gt_masks`` and ``gt_seg_map``, and ``Pad`` pads only ``gt_seg_map`` in
    both hosts, so a depth map would fall out of alignment. This wrapper
    runs ``transforms`` on the results (pass 1) and then, under
    ``mmcv.transforms.utils.cache_random_params`` (the same random draws:
    scale, flip, crop offset), on a second dict holding the image, the
    metadata and each map of ``keys`` encoded as ``gt_seg_map`` (pass 2).
    The encoding ``-v - 1`` maps valid depths to values < -1 and invalid
    (0) to -1, so the non-negative fill of ``Pad`` (``seg`` pad value) or
    any label swap of a flip is told apart and decoded to 0.

    Use it in mmseg and mmdet pipelines alike::

        dict(type='LoadCityscapesDepth'),
        dict(type='AlignDepth', transforms=[
            dict(type='RandomResize', scale=(512, 256),
                 ratio_range=(0.5, 2.0), keep_ratio=True),
            dict(type='RandomCrop', crop_size=(256, 256)),
            dict(type='RandomFlip', prob=0.5),
        ]),

    The wrapped transforms must draw their randomness in methods decorated
    with ``cache_randomness`` (all geometric transforms of mmcv, mmseg and
    mmdet do) and must move ``gt_seg_map`` with nearest interpolation. The
    image is transformed twice (cheap for geometric transforms).

    Required Keys:

    - img
    - gt_depth_map (or each of ``keys``): (H, W) float, >= 0, 0 = invalid

    Modified Keys:

    - whatever ``transforms`` modify
    - gt_depth_map (or each of ``keys``): moved like the image, float32

    Args:
        transforms (list[dict | callable]): the geometric transforms.
        keys (Sequence[str]): maps to align. Defaults to
            ``('gt_depth_map', )``.
    """

    def __init__(
        self,
        transforms: Sequence[Union[dict, callable]],
        keys: Sequence[str] = ('gt_depth_map', )
    ) -> None:
        if isinstance(keys, str):
            keys = (keys, )
        if not isinstance(keys, (list, tuple)) or not keys or not all(
                isinstance(k, str) and k for k in keys):
            raise TypeError('AlignDepth: `keys` must be a results key or a '
                            f'non-empty list of keys, got {keys!r}')
        if not isinstance(transforms, (list, tuple)) or not all(
                isinstance(t, dict) or callable(t) for t in transforms):
            raise TypeError('AlignDepth: `transforms` must be a list of '
                            'transform configs (dicts) or callables, got '
                            f'{transforms!r}')
        self.keys = tuple(keys)
        self.transforms = Compose(transforms)

    def transform(self, results: dict) -> Optional[dict]:
        maps = {k: results[k] for k in self.keys if results.get(k) is not None}
        if not maps:
            raise KeyError(f'AlignDepth: none of {list(self.keys)} is in '
                           'the results; load depth first '
                           '(LoadCityscapesDepth) or set keys')
        for key, value in maps.items():
            if not (isinstance(value, np.ndarray) and value.ndim == 2):
                raise ValueError(f"AlignDepth: results['{key}'] must be an "
                                 '(H, W) array, got '
                                 f'{getattr(value, "shape", type(value))}')
            if (value < 0).any():
                raise ValueError(f"AlignDepth: results['{key}'] has "
                                 'negative values; expected >= 0 with 0 = '
                                 'invalid')
        # pass 2 input: no annotations (some are changed in place, e.g.
        # mmdet's boxes), only the image, the metadata and one encoded map
        shadow = {k: v for k, v in results.items() if not k.startswith('gt_')}
        seg_fields = results.get('seg_fields', None)
        if seg_fields is not None:
            results['seg_fields'] = [f for f in seg_fields if f not in maps]

        steps = list(self.transforms.transforms)
        with cache_random_params(steps):
            out = self.transforms(results)
            if out is None:  # e.g. a crop without objects
                return None
            if seg_fields is not None:
                out['seg_fields'] = list(
                    out['seg_fields']) + [f for f in seg_fields if f in maps]
            for key, value in maps.items():
                moved = dict(
                    shadow,
                    gt_seg_map=-value.astype(np.float32) - 1,
                    seg_fields=['gt_seg_map'])
                moved = self.transforms(moved)
                if moved is None:
                    raise RuntimeError(f'AlignDepth: {self.transforms} '
                                       f'dropped the sample for {key}')
                enc = moved['gt_seg_map']
                if enc.shape[:2] != out['img'].shape[:2]:
                    raise RuntimeError(
                        f'AlignDepth: {key} has shape {enc.shape} after '
                        f'the transforms but the image {out["img"].shape}; '
                        'a wrapped transform does not move gt_seg_map')
                out[key] = np.where(enc < 0, -enc - 1, 0).astype(np.float32)
        return out

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(transforms={self.transforms}, '
                f'keys={self.keys})')


@TRANSFORMS.register_module()
class ResizeFlipDepth(BaseTransform):
    """Give depth maps the resize and flip the image already went through.

    For pipelines whose ``Resize``/``RandomResize`` and ``RandomFlip`` stay
    at the top level (e.g. rows of the main job, whose protocol compares
    the size arguments of top-level transforms) instead of inside
    :class:`AlignDepth`. No host transform moves ``gt_depth_map`` (see the
    module doc), so the map still has the original size ``ori_shape``;
    placed after the geometric transforms, this resizes it to
    ``img_shape`` with nearest interpolation (values copied, never blended:
    invalid zeros stay zeros) and flips it as ``flip``/``flip_direction``
    say. For these transforms the result equals :class:`AlignDepth`'s.
    Crops and pads are not recorded in a way it can replay: an image whose
    ``img_shape`` is not ``ori_shape`` times ``scale_factor`` is refused
    (wrap the transforms in ``AlignDepth`` then).

    Required Keys:

    - img_shape, ori_shape
    - scale_factor (optional): (w_scale, h_scale); 1 when absent
    - flip, flip_direction (optional)
    - gt_depth_map (or each of ``keys``): (ori_h, ori_w) float, >= 0

    Modified Keys:

    - gt_depth_map (or each of ``keys``): (img_h, img_w) float32

    Args:
        keys (Sequence[str]): maps to move. Defaults to
            ``('gt_depth_map', )``.
    """

    def __init__(self, keys: Sequence[str] = ('gt_depth_map', )) -> None:
        if isinstance(keys, str):
            keys = (keys, )
        if not isinstance(keys, (list, tuple)) or not keys or not all(
                isinstance(k, str) and k for k in keys):
            raise TypeError('ResizeFlipDepth: `keys` must be a results key '
                            f'or a non-empty list of keys, got {keys!r}')
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        ori_h, ori_w = results['ori_shape'][:2]
        img_h, img_w = results['img_shape'][:2]
        w_scale, h_scale = results.get('scale_factor', (1.0, 1.0))[:2]
        if abs(ori_w * w_scale - img_w) > 0.5 or \
                abs(ori_h * h_scale - img_h) > 0.5:
            raise ValueError(
                f'ResizeFlipDepth: the image is {(img_h, img_w)} but '
                f'ori_shape {(ori_h, ori_w)} x scale_factor '
                f'{(w_scale, h_scale)} gives '
                f'{(ori_h * h_scale, ori_w * w_scale)}: a crop or pad '
                'happened, which it cannot replay; wrap the geometric '
                "transforms in dict(type='AlignDepth', transforms=[...]) "
                'instead')
        direction = results.get('flip_direction') if results.get(
            'flip', False) else None
        if direction not in (None, 'horizontal', 'vertical', 'diagonal'):
            raise ValueError(f'ResizeFlipDepth: unknown flip_direction '
                             f'{direction!r}')
        for key in self.keys:
            if key not in results:
                raise KeyError(f'ResizeFlipDepth: no {key!r} in the results;'
                               " load depth first (dict(type='LoadCityscapes"
                               "Depth')) or set keys")
            value = results[key]
            if not (isinstance(value, np.ndarray)
                    and value.shape == (ori_h, ori_w)):
                raise ValueError(
                    f"ResizeFlipDepth: results['{key}'] has shape "
                    f'{getattr(value, "shape", type(value))}, expected the '
                    f'original size {(ori_h, ori_w)} (a map some transform '
                    'already moved; use AlignDepth for it)')
            out = value.astype(np.float32)
            if out.shape != (img_h, img_w):
                out = mmcv.imresize(
                    out, (img_w, img_h), interpolation='nearest')
            if direction in ('horizontal', 'diagonal'):
                out = out[:, ::-1]
            if direction in ('vertical', 'diagonal'):
                out = out[::-1]
            results[key] = np.ascontiguousarray(out)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(keys={self.keys})'
