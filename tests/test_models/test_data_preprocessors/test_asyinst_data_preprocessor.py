# Copyright (c) mmboundary contributors. All rights reserved.
"""AsyInstDataPreprocessor against mmdet 3.3's BoxInstDataPreprocessor, and
its depth-gradient edges."""
import copy

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.structures import InstanceData

from mmboundary.models.data_preprocessors import AsyInstDataPreprocessor
from mmboundary.registry import MMDET_MODELS

NORM = dict(
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_size_divisor=32)


def _batch(seed=0, shapes=((60, 90), (64, 80)), num_boxes=(3, 2), depth=None):
    rng = np.random.default_rng(seed)
    inputs, samples = [], []
    for (h, w), n in zip(shapes, num_boxes):
        # blocks of a few colours plus noise: edges on both sides of the
        # colour threshold
        palette = rng.integers(0, 256, (5, 3))
        blocks = rng.integers(0, 5, (h // 6 + 1, w // 6 + 1))
        img = palette[np.kron(blocks, np.ones((6, 6), int))[:h, :w]]
        img = np.clip(img + rng.integers(-6, 7, img.shape), 0, 255)
        inputs.append(torch.from_numpy(img.astype(np.uint8)).permute(2, 0, 1))
        x1 = rng.uniform(0, w - 20, n)
        y1 = rng.uniform(0, h - 20, n)
        boxes = np.stack(
            [x1, y1, x1 + rng.uniform(4, 19, n), y1 + rng.uniform(4, 19, n)],
            1)
        meta = dict(img_shape=(h, w), ori_shape=(h, w))
        if depth is not None:
            meta['gt_depth_map'] = depth(h, w)
        sample = DetDataSample(metainfo=meta)
        sample.gt_instances = InstanceData(
            bboxes=HorizontalBoxes(torch.tensor(boxes, dtype=torch.float32)),
            labels=torch.zeros(n, dtype=torch.long))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('stride', [4, 2])
@pytest.mark.parametrize('seed', [0, 1])
def test_same_masks_as_mmdet(stride, seed):
    pytest.importorskip(
        'skimage',
        reason='mmdet BoxInstDataPreprocessor needs scikit-image '
        '(requirements/tests.txt)')
    args = dict(NORM, mask_stride=stride)
    ref_pre = MMDET_MODELS.build(dict(type='BoxInstDataPreprocessor', **args))
    pre = AsyInstDataPreprocessor(**args)
    data = _batch(seed)
    ref = ref_pre(copy.deepcopy(data), training=True)
    got = pre(copy.deepcopy(data), training=True)
    assert torch.equal(ref['inputs'], got['inputs'])
    positives = 0
    for r, g in zip(ref['data_samples'], got['data_samples']):
        rm, gm = r.gt_instances.masks, g.gt_instances.masks
        assert (rm.height, rm.width) == (gm.height, gm.width)
        assert np.array_equal(rm.masks.astype(bool), gm.masks.astype(bool))
        rp, gp = r.gt_instances.pairwise_masks, g.gt_instances.pairwise_masks
        assert rp.shape == gp.shape
        assert torch.equal(rp, gp)
        positives += rp.sum().item()
        assert 0 < rp[0].mean() < 1  # both kinds of edges are present
        assert 'depth_pairwise_masks' not in g.gt_instances
    assert positives > 0
    # inference is untouched
    ref = ref_pre(copy.deepcopy(data), training=False)
    got = pre(copy.deepcopy(data), training=False)
    assert torch.equal(ref['inputs'], got['inputs'])
    assert 'masks' not in got['data_samples'][0].gt_instances


def _plane_with_step(h, w):
    xx = np.arange(w, dtype=np.float32)[None].repeat(h, 0)
    depth = 10 + 0.01 * xx
    depth[:, 24:] += 2.0
    depth[1, 1] = 0  # one invalid pixel in cell (0, 0)
    return depth


def test_depth_edges_by_hand():
    pre = AsyInstDataPreprocessor(**NORM, mask_stride=4, depth_thresh=0.01)
    data = _batch(shapes=((32, 64), ), num_boxes=(2, ), depth=_plane_with_step)
    out = pre(data, training=True)
    gt = out['data_samples'][0].gt_instances
    edges = gt.depth_pairwise_masks
    assert edges.shape == (2, 8, 8, 16)
    assert torch.equal(edges[0], edges[1])
    right = edges[0, 4]  # the edge (p, p + (0, 2)) through p + (0, 1)
    # bottom 10 of 32 rows removed: cells of rows 20-31 are invalid
    assert right[5:].eq(0).all()
    row = [1.] * 4 + [0.] * 2 + [1.] * 8 + [0.] * 2  # step at cell 6
    assert right[1].tolist() == row
    assert right[0].tolist() == [0.] + row[1:]  # cell (0, 0) is invalid
    assert edges[0, 3, 0, 2] == 0 and edges[0, 3, 1, 2] == 1
    assert gt.pairwise_masks.shape == (2, 8, 8, 16)
    # the depth map stays in the metainfo of the input and output samples
    # (the very array: it skips cast_data's deep copy)
    source = data['data_samples'][0].gt_depth_map
    assert out['data_samples'][0].gt_depth_map is source
    assert 'gt_depth_map' in data['data_samples'][0].metainfo_keys()
    assert out['data_samples'][0].img_shape == (32, 64)


def test_depth_is_padded_and_sized_with_the_batch():
    pre = AsyInstDataPreprocessor(**NORM, depth_thresh=0.5)
    data = _batch(
        shapes=((40, 50), (64, 64)),
        depth=lambda h, w: np.full((h, w), 7.0, np.float32))
    out = pre(data, training=True)
    small = out['data_samples'][0].gt_instances.depth_pairwise_masks[0]
    assert small.shape == (8, 16, 16)
    # cells beyond the 40 x 50 image (padding) or in its 10 * 40 / 64 = 6
    # removed rows never take part: rows 34-63 -> cells >= 8 are invalid
    assert small[:, 8:].eq(0).all() and small[:, :, 12:].eq(0).all()
    assert small[6, :6, :12].eq(1).all()  # (p, p + (2, 0)) inside


def test_zero_boxes():
    pre = AsyInstDataPreprocessor(**NORM, depth_thresh=0.1)
    data = _batch(
        shapes=((32, 32), ),
        num_boxes=(0, ),
        depth=lambda h, w: np.ones((h, w), np.float32))
    gt = pre(data, training=True)['data_samples'][0].gt_instances
    assert gt.masks.masks.shape == (0, 32, 32)
    assert gt.pairwise_masks.shape == (0, 8, 8, 8)
    assert gt.depth_pairwise_masks.shape == (0, 8, 8, 8)


def test_bad_inputs_are_named():
    pre = AsyInstDataPreprocessor(**NORM, depth_thresh=0.01)
    with pytest.raises(KeyError, match='LoadCityscapesDepth'):
        pre(_batch(), training=True)
    with pytest.raises(ValueError, match=r'\(30, 45\) but the image has'):
        pre(_batch(
            shapes=((60, 90), ),
            num_boxes=(1, ),
            depth=lambda h, w: np.ones((h // 2, w // 2), np.float32)),
            training=True)
    data = _batch()
    del data['data_samples'][1].gt_instances.bboxes
    with pytest.raises(KeyError, match=r'with_bbox=True'):
        AsyInstDataPreprocessor(**NORM)(data, training=True)
    with pytest.raises(ValueError, match='pairwise_dilation=3 is odd'):
        AsyInstDataPreprocessor(**NORM, pairwise_dilation=3, depth_thresh=0.01)
    AsyInstDataPreprocessor(**NORM, pairwise_dilation=3)  # colour only
    with pytest.raises(ValueError, match='pad_size_divisor=30'):
        AsyInstDataPreprocessor(**dict(NORM, pad_size_divisor=30))
    with pytest.raises(ValueError, match='needs mean and std'):
        AsyInstDataPreprocessor(pad_size_divisor=32)


@pytest.mark.parametrize('bgr_to_rgb', [True, False])
@pytest.mark.parametrize('pad_value', [0, 7.5])
@pytest.mark.parametrize('as_float', [False, True])
def test_batched_normalisation_equals_mmengine(bgr_to_rgb, pad_value,
                                               as_float):
    """The uint8 fast path (and the fallback for other inputs) gives
    mmengine's normalised, padded batch bit for bit, with its metainfo."""
    args = dict(NORM, bgr_to_rgb=bgr_to_rgb, pad_value=pad_value)
    ref_pre = MMDET_MODELS.build(dict(type='DetDataPreprocessor', **args))
    pre = AsyInstDataPreprocessor(**args)
    data = _batch(shapes=((60, 90), (33, 100), (64, 64)), num_boxes=(1, 1, 1))
    if as_float:  # not uint8: mmengine's own path
        data['inputs'] = [t.float() for t in data['inputs']]
    for training in (False, True):
        ref = ref_pre(copy.deepcopy(data), training)
        got = pre(copy.deepcopy(data), training)
        assert got['inputs'].shape == (3, 3, 64, 128)
        assert got['inputs'].dtype == torch.float32
        assert torch.equal(ref['inputs'], got['inputs'])
        for r, g in zip(ref['data_samples'], got['data_samples']):
            assert g.batch_input_shape == r.batch_input_shape == (64, 128)
            assert g.pad_shape == r.pad_shape
    # the padding holds pad_value, the image its normalised pixels
    img = data['inputs'][1].float()
    if bgr_to_rgb:
        img = img[[2, 1, 0]]
    expect = (img - pre.mean) / pre.std
    assert torch.equal(got['inputs'][1, :, :33, :100], expect)
    assert (got['inputs'][1, :, 33:] == pad_value).all()
    assert (got['inputs'][1, :, :, 100:] == pad_value).all()
