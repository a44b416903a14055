# Copyright (c) mmboundary contributors. All rights reserved.
"""LoadCityscapesDepth and AlignDepth (depth through host pipelines)."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.registry import DefaultScope

from mmboundary.datasets.transforms import (AlignDepth, LoadCityscapesDepth,
                                            ResizeFlipDepth,
                                            disparity_to_depth)

STEM = 'aachen_000000_000019'


def _write_frame(root, disparity, camera=None, img_shape=None):
    paths = {
        'img':
        osp.join(root, 'leftImg8bit', 'train', 'aachen',
                 STEM + '_leftImg8bit.png'),
        'disp':
        osp.join(root, 'disparity', 'train', 'aachen',
                 STEM + '_disparity.png'),
        'cam':
        osp.join(root, 'camera', 'train', 'aachen', STEM + '_camera.json'),
    }
    for p in paths.values():
        os.makedirs(osp.dirname(p), exist_ok=True)
    shape = img_shape or disparity.shape
    cv2.imwrite(paths['img'], np.zeros((*shape, 3), np.uint8))
    if disparity is not None:
        cv2.imwrite(paths['disp'], disparity)
    if camera is not False:
        camera = camera or dict(
            extrinsic=dict(
                baseline=0.2,
                pitch=0.0,
                roll=0.0,
                x=1.7,
                y=0.1,
                yaw=0.0,
                z=1.2),
            intrinsic=dict(fx=1000.0, fy=1000.0, u0=1.0, v0=1.0))
        with open(paths['cam'], 'w') as f:
            json.dump(camera, f)
    return paths


PNG = np.array([[0, 1, 257], [513, 1025, 65535]], np.uint16)
# d = (p - 1) / 256 -> [-, 0, 1, 2, 4, 255.99609375]; depth = 0.2*1000 / d
EXPECTED = np.array([[0, 0, 200.0], [100.0, 50.0, 200 / (65534 / 256)]],
                    np.float32)


def test_disparity_to_depth_exact():
    depth = disparity_to_depth(PNG, 0.2, 1000.0)
    assert depth.dtype == np.float32 and depth.shape == (2, 3)
    np.testing.assert_allclose(depth, EXPECTED, rtol=1e-6)
    assert np.isfinite(depth).all()
    np.testing.assert_array_equal(
        disparity_to_depth(PNG, 0.2, 1000.0, max_depth=150),
        np.where(EXPECTED > 150, 0, EXPECTED))


def test_load_cityscapes_depth_exact(tmp_path):
    paths = _write_frame(str(tmp_path), PNG)
    t = LoadCityscapesDepth()
    out = t(dict(img_path=paths['img'], img=np.zeros((2, 3, 3), np.uint8)))
    depth = out['gt_depth_map']
    assert depth.dtype == np.float32 and depth.shape == (2, 3)
    np.testing.assert_allclose(depth, EXPECTED, rtol=1e-6)
    assert out['disparity_path'] == paths['disp']
    assert out['camera_path'] == paths['cam']
    assert repr(t) == ("LoadCityscapesDepth(img_dir='leftImg8bit', "
                       "disparity_dir='disparity', camera_dir='camera', "
                       'max_depth=None, backend_args=None)')


def test_load_cityscapes_depth_bad_input(tmp_path):
    t = LoadCityscapesDepth()
    root = str(tmp_path / 'missing_disp')
    paths = _write_frame(root, None, img_shape=(2, 3))
    with pytest.raises(FileNotFoundError) as e:
        t(dict(img_path=paths['img']))
    assert paths['disp'] in str(e.value) and 'disparity PNG' in str(e.value)

    root = str(tmp_path / 'missing_cam')
    paths = _write_frame(root, PNG, camera=False)
    with pytest.raises(FileNotFoundError) as e:
        t(dict(img_path=paths['img']))
    assert paths['cam'] in str(e.value) and 'camera JSON' in str(e.value)

    root = str(tmp_path / 'eight_bit')
    paths = _write_frame(root, PNG.astype(np.uint8))
    with pytest.raises(ValueError) as e:
        t(dict(img_path=paths['img']))
    assert paths['disp'] in str(e.value) and '16-bit' in str(e.value)

    root = str(tmp_path / 'bad_cam')
    paths = _write_frame(root, PNG, camera=dict(intrinsic=dict(fx=1.0)))
    with pytest.raises(ValueError) as e:
        t(dict(img_path=paths['img']))
    assert paths['cam'] in str(e.value)
    assert 'extrinsic.baseline' in str(e.value)

    root = str(tmp_path / 'shape')
    paths = _write_frame(root, PNG)
    with pytest.raises(ValueError, match=r'has shape \(2, 3\)'):
        t(dict(img_path=paths['img'], ori_shape=(4, 3)))

    with pytest.raises(ValueError, match='not in the Cityscapes layout'):
        t(dict(img_path=str(tmp_path / 'images' / 'a.png')))


# ----------------------------------------------------------------------------
# alignment: depth = 1 + x + 1000 * y encodes each pixel's source position;
# the image holds (x, y, 1) and the label (x + y) % 7 for the same pixel.
H, W = 40, 60
INVALID = (5, 7)


def _sample(with_boxes=False):
    yy, xx = np.mgrid[0:H, 0:W]
    img = np.stack([xx, yy, np.ones_like(xx)], -1).astype(np.uint8)
    depth = (1 + xx + 1000 * yy).astype(np.float32)
    depth[INVALID] = 0
    results = dict(
        img=img,
        img_shape=(H, W),
        ori_shape=(H, W),
        img_path='x.png',
        gt_seg_map=((xx + yy) % 7).astype(np.uint8),
        seg_fields=['gt_seg_map'],
        gt_depth_map=depth)
    if with_boxes:
        from mmdet.structures.bbox import HorizontalBoxes
        results['gt_bboxes'] = HorizontalBoxes(
            np.array([[5, 5, 30, 30], [20, 10, 55, 38]], np.float32))
        results['gt_bboxes_labels'] = np.array([0, 1])
        results['gt_ignore_flags'] = np.array([False, False])
    return results


def _check_aligned(out):
    img, depth, seg = out['img'], out['gt_depth_map'], out['gt_seg_map']
    assert depth.dtype == np.float32
    assert depth.shape == img.shape[:2] == seg.shape[:2]
    assert np.isfinite(depth).all()
    padded = img[..., 2] == 0
    assert (depth[padded] == 0).all()
    assert (seg[padded] == 255).all()
    valid = depth > 0
    src = depth[valid].astype(np.int64) - 1
    x, y = src % 1000, src // 1000
    np.testing.assert_array_equal(img[..., 0][valid], x)
    np.testing.assert_array_equal(img[..., 1][valid], y)
    np.testing.assert_array_equal(seg[valid], (x + y) % 7)
    # the only other zeros are copies of the invalid source pixel
    hole = ~valid & ~padded
    assert (img[..., 0][hole] == INVALID[1]).all()
    assert (img[..., 1][hole] == INVALID[0]).all()
    return valid.sum()


SEG_STEPS = [
    dict(
        type='Resize',
        scale=(90, 50),
        keep_ratio=True,
        interpolation='nearest'),
    dict(
        type='Resize',
        scale=(45, 33),
        keep_ratio=False,
        interpolation='nearest'),
    dict(
        type='RandomResize',
        scale=(60, 40),
        ratio_range=(0.5, 2.0),
        keep_ratio=True,
        interpolation='nearest'),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='RandomCrop', crop_size=(24, 32), cat_max_ratio=0.75),
    dict(type='Pad', size=(64, 48), pad_val=dict(img=0, seg=255)),
]
DET_STEPS = [
    dict(
        type='Resize',
        scale=(90, 50),
        keep_ratio=True,
        interpolation='nearest'),
    dict(
        type='RandomResize',
        scale=[(40, 30), (100, 70)],
        keep_ratio=True,
        interpolation='nearest'),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='RandomCrop', crop_size=(24, 32), allow_negative_crop=True),
    dict(type='Pad', size_divisor=32, pad_val=dict(img=0, seg=255)),
]


def _run(scope, steps, seed, wrap=True, with_boxes=False, results=None):
    from mmengine.dataset import Compose
    with DefaultScope.overwrite_default_scope(scope):
        pipeline = Compose(
            [dict(type='AlignDepth', transforms=steps)] if wrap else steps)
        np.random.seed(seed)
        return pipeline(results or _sample(with_boxes))


@pytest.mark.parametrize(
    'scope,step',
    [('mmseg', s) for s in SEG_STEPS] + [('mmdet', s) for s in DET_STEPS],
    ids=lambda v: v if isinstance(v, str) else v['type'])
def test_depth_aligned_after_each_transform(scope, step):
    for seed in range(6):
        out = _run(scope, [step], seed)
        assert _check_aligned(out) > 0


@pytest.mark.parametrize('scope,steps', [('mmseg', SEG_STEPS[2:]),
                                         ('mmdet', DET_STEPS[1:])])
def test_depth_aligned_through_a_training_pipeline(scope, steps):
    shapes = set()
    flips = set()
    scales = set()
    for seed in range(10):
        out = _run(scope, steps, seed, with_boxes=scope == 'mmdet')
        assert _check_aligned(out) > 0
        shapes.add(out['img'].shape)
        flips.add(out.get('flip_direction'))
        scales.add(tuple(np.round(out['scale_factor'], 6)))
    assert len(flips) >= 2 and len(scales) >= 2  # the random draws varied
    # every sample ends padded to the pipeline's fixed size: mmseg's Pad to
    # 64x48 (w, h); mmdet's 24x32 crop padded to multiples of 32
    assert shapes == ({(48, 64, 3)} if scope == 'mmseg' else {(32, 32, 3)})


@pytest.mark.parametrize('scope,steps', [('mmseg', SEG_STEPS[2:]),
                                         ('mmdet', DET_STEPS[1:])])
def test_wrapper_does_not_change_what_the_host_does(scope, steps):
    with_boxes = scope == 'mmdet'
    for seed in range(4):
        plain = _sample(with_boxes)
        del plain['gt_depth_map']
        ref = _run(scope, steps, seed, wrap=False, results=plain)
        out = _run(scope, steps, seed, with_boxes=with_boxes)
        np.testing.assert_array_equal(out['img'], ref['img'])
        np.testing.assert_array_equal(out['gt_seg_map'], ref['gt_seg_map'])
        assert out['seg_fields'] == ref['seg_fields']
        if with_boxes:
            np.testing.assert_array_equal(out['gt_bboxes'].numpy(),
                                          ref['gt_bboxes'].numpy())


def test_mmdet_alone_does_not_move_depth():
    """Why AlignDepth exists: mmdet's RandomFlip ignores gt_depth_map."""
    step = dict(type='RandomFlip', prob=1.0)
    out = _run('mmdet', [step], 0, wrap=False)
    np.testing.assert_array_equal(out['gt_depth_map'],
                                  _sample()['gt_depth_map'])
    assert out['img'][0, 0, 0] == W - 1
    _check_aligned(_run('mmdet', [step], 0))


def test_depth_listed_in_seg_fields_is_moved_once():
    results = _sample()
    results['seg_fields'] = ['gt_seg_map', 'gt_depth_map']
    steps = [
        dict(type='RandomFlip', prob=1.0),
        dict(
            type='Resize',
            scale=(120, 80),
            keep_ratio=True,
            interpolation='nearest')
    ]
    out = _run('mmseg', steps, 0, results=results)
    _check_aligned(out)
    assert out['seg_fields'] == ['gt_seg_map', 'gt_depth_map']


def test_align_depth_errors_and_repr():
    t = AlignDepth(transforms=[])
    with pytest.raises(KeyError, match='gt_depth_map'):
        t(dict(img=np.zeros((2, 2, 3), np.uint8)))
    with pytest.raises(ValueError, match='negative'):
        t(
            dict(
                img=np.zeros((2, 2, 3), np.uint8),
                gt_depth_map=-np.ones((2, 2), np.float32)))
    with pytest.raises(ValueError, match=r'\(H, W\)'):
        t(
            dict(
                img=np.zeros((2, 2, 3), np.uint8),
                gt_depth_map=np.ones((2, 2, 1), np.float32)))
    assert repr(t).startswith('AlignDepth(transforms=Compose(')
    assert repr(t).endswith("keys=('gt_depth_map',))")


def test_depth_base_configs_load_depth(tmp_path):
    """The depth dataset bases deliver aligned depth on generated data."""
    import importlib.util

    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmboundary.testing._utils import REPO_ROOT
    tools = osp.join(REPO_ROOT, 'tools', 'dataset_converters')
    mods = {}
    for name in ('generate_synthetic_cityscapes', 'cityscapes'):
        spec = importlib.util.spec_from_file_location(
            f'_t_{name}', osp.join(tools, name + '.py'))
        mods[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mods[name])
    root = str(tmp_path / 'cs')
    mods['generate_synthetic_cityscapes'].generate(
        root, seed=1, num_train=2, num_val=1, verbose=False)
    mods['cityscapes'].convert(root, verbose=False)

    base = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets')
    from mmengine.registry import DATASETS
    from mmseg.datasets.transforms import RandomCrop
    crops = []
    # the crop drawn for each sample (a cache_randomness method: patch the
    # function it wraps)
    crop_bbox = RandomCrop.__dict__['crop_bbox']
    real_crop_bbox = crop_bbox.func

    def spy_crop_bbox(self, results):
        crops.append(real_crop_bbox(self, results))
        return crops[-1]

    for name, scope in (('cityscapes_semantic_depth_256x512.py', 'mmseg'),
                        ('cityscapes_instance_depth_256x512.py', 'mmdet')):
        cfg = Config.fromfile(osp.join(base, name))
        init_default_scope(scope)
        flips = set()
        for loader, seed in (('train_dataloader', 0), ('train_dataloader', 1),
                             ('train_dataloader', 2), ('val_dataloader', 0)):
            ds_cfg = cfg[loader]['dataset']
            ds_cfg['data_root'] = root
            crops.clear()
            crop_bbox.func = spy_crop_bbox
            try:
                dataset = DATASETS.build(ds_cfg)
                np.random.seed(seed)
                item = dataset[0]
            finally:
                crop_bbox.func = real_crop_bbox
            sample = item['data_samples']
            if scope == 'mmseg':
                depth = sample.gt_depth_map.data[0].numpy()
            else:
                depth = sample.gt_depth_map
            # the disparity PNG and camera the transform read, converted
            # independently of the pipeline ...
            info = dataset.get_data_info(0)
            img_path = info['img_path']
            stem = img_path.replace('/leftImg8bit/',
                                    '/{}/')[:-len('_leftImg8bit.png')]
            disp_path = stem.format('disparity') + '_disparity.png'
            cam_path = stem.format('camera') + '_camera.json'
            png = cv2.imread(disp_path, cv2.IMREAD_UNCHANGED)
            with open(cam_path) as f:
                cam = json.load(f)
            full = disparity_to_depth(png, cam['extrinsic']['baseline'],
                                      cam['intrinsic']['fx'])
            # ... and moved as the pipeline moved the image
            expected = full
            if loader == 'train_dataloader':
                h, w = full.shape
                sx, sy = sample.scale_factor
                size = (int(w * sx + 0.5), int(h * sy + 0.5))
                expected = cv2.resize(
                    full, size, interpolation=cv2.INTER_NEAREST)
                if scope == 'mmseg':  # the crop drawn for this sample
                    y1, y2, x1, x2 = crops[-1]
                    expected = expected[y1:y2, x1:x2]
                flips.add(bool(sample.flip))
                if sample.flip:
                    assert sample.flip_direction == 'horizontal'
                    expected = expected[:, ::-1]
            elif scope == 'mmdet':  # Resize to (512, 256): the same size
                assert tuple(sample.img_shape) == full.shape
            assert depth.dtype == np.float32
            assert depth.shape == expected.shape
            assert 0 < (depth > 0).mean() < 1
            np.testing.assert_allclose(depth, expected, rtol=1e-6, atol=0)
        assert flips == {True, False}  # both cases were checked


@pytest.mark.parametrize('scope,steps', [
    ('mmdet', [
        dict(
            type='Resize',
            scale=(90, 50),
            keep_ratio=True,
            interpolation='nearest'),
        dict(
            type='RandomFlip',
            prob=0.7,
            direction=['horizontal', 'vertical', 'diagonal'])
    ]),
    ('mmdet', [
        dict(
            type='RandomResize',
            scale=[(40, 30), (100, 70)],
            keep_ratio=True,
            interpolation='nearest'),
        dict(type='RandomFlip', prob=0.5)
    ]),
    ('mmseg', [
        dict(
            type='RandomResize',
            scale=(60, 40),
            ratio_range=(0.5, 2.0),
            keep_ratio=True,
            interpolation='nearest'),
        dict(type='RandomFlip', prob=0.5, direction=['horizontal'])
    ]),
])
def test_resize_flip_depth_equals_align_depth(scope, steps):
    """Geometric transforms at the top level, ResizeFlipDepth after them:
    the same depth map as AlignDepth wrapping them, bit for bit."""
    flips = set()
    for seed in range(8):
        ref = _run(scope, steps, seed)
        out = _run(
            scope, steps + [dict(type='ResizeFlipDepth')], seed, wrap=False)
        np.testing.assert_array_equal(out['img'], ref['img'])
        assert out['gt_depth_map'].dtype == np.float32
        np.testing.assert_array_equal(out['gt_depth_map'], ref['gt_depth_map'])
        assert _check_aligned(out) > 0
        flips.add(out.get('flip_direction') if out.get('flip') else None)
    assert len(flips) >= 2  # flipped and unflipped samples were compared


def test_resize_flip_depth_on_hand_values():
    results = dict(
        img=np.zeros((2, 4, 3), np.uint8),
        ori_shape=(1, 2),
        img_shape=(2, 4),
        scale_factor=(2.0, 2.0),
        flip=True,
        flip_direction='horizontal',
        gt_depth_map=np.array([[0.0, 3.0]], np.float32))
    out = ResizeFlipDepth()(results)
    # nearest 2x: [[0, 0, 3, 3]] twice, then mirrored
    np.testing.assert_array_equal(out['gt_depth_map'],
                                  [[3, 3, 0, 0], [3, 3, 0, 0]])


def test_resize_flip_depth_refuses_what_it_cannot_replay():
    base = dict(
        img=np.zeros((4, 6, 3), np.uint8),
        ori_shape=(8, 12),
        img_shape=(4, 6),
        scale_factor=(0.5, 0.5),
        gt_depth_map=np.ones((8, 12), np.float32))
    ResizeFlipDepth()(dict(base))
    with pytest.raises(ValueError, match=r"crop or pad.*type='AlignDepth'"):
        ResizeFlipDepth()(dict(base, img_shape=(3, 6)))
    with pytest.raises(ValueError, match=r'has shape \(4, 6\).*\(8, 12\)'):
        ResizeFlipDepth()(dict(base, gt_depth_map=np.ones((4, 6))))
    with pytest.raises(KeyError, match='LoadCityscapesDepth'):
        ResizeFlipDepth()({k: v for k, v in base.items() if k[:3] != 'gt_'})
    with pytest.raises(ValueError, match="flip_direction 'up'"):
        ResizeFlipDepth()(dict(base, flip=True, flip_direction='up'))
    with pytest.raises(TypeError, match='keys'):
        ResizeFlipDepth(keys=[])
    assert repr(ResizeFlipDepth()) == "ResizeFlipDepth(keys=('gt_depth_map',))"
