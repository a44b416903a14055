# Copyright (c) mmboundary contributors. All rights reserved.
"""DVIS detector, mask head and verification head."""
import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from mmboundary.engine.hooks import InstanceMaskCheckHook
from mmboundary.registry import MMDET_MODELS

H, W = 64, 96  # input; map 16 x 24
CLASSES = ('person', 'car')


def model_cfg(**head):
    cfg = dict(
        type='DVIS',
        data_preprocessor=dict(
            type='DetDataPreprocessor',
            mean=[0, 0, 0],
            std=[1, 1, 1],
            pad_size_divisor=32,
            pad_mask=True),
        backbone=dict(
            type='ResNet',
            depth=18,
            base_channels=8,
            stem_channels=8,
            out_indices=(0, 1, 2, 3),
            norm_eval=False),
        neck=dict(
            type='FPN',
            in_channels=[8, 16, 32, 64],
            out_channels=16,
            start_level=1,
            num_outs=3),
        mask_head=dict(
            type='DVISHead',
            num_classes=2,
            in_channels=16,
            feat_channels=16,
            loss_pi=dict(
                type='PermutationInvariantLoss',
                window=17,
                dense_radius=4,
                dilation=4),
            discretizer=dict(
                type='MeanShiftDiscretizer', spatial_radii=(2, 3)),
            verify_head=dict(
                type='DVISVerifyHead',
                extractor_channels=16,
                conv_channels=(16, 16),
                fc_channels=32,
                head_fc_channels=16,
                roi_size=4)),
        train_cfg=dict(add_gt_as_candidates=True, max_candidates=4),
        test_cfg=dict(score_thr=0.0, nms=dict(filter_thr=0.0)))
    cfg['mask_head'].update(head)
    return cfg


def build(**head):
    init_default_scope('mmdet')
    torch.manual_seed(0)
    return MMDET_MODELS.build(model_cfg(**head))


def sample(boxes, labels, crowd_box=None, img_shape=(H, W)):
    s = DetDataSample()
    s.set_metainfo(
        dict(
            img_shape=img_shape,
            ori_shape=img_shape,
            batch_input_shape=(H, W),
            pad_shape=(H, W),
            scale_factor=(1.0, 1.0),
            img_id=1))
    masks = np.zeros((len(boxes), *img_shape), dtype=np.uint8)
    for m, (x0, y0, x1, y1) in zip(masks, boxes):
        m[y0:y1, x0:x1] = 1
    gt = InstanceData()
    gt.bboxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    gt.labels = torch.tensor(labels, dtype=torch.long)
    gt.masks = BitmapMasks(masks, *img_shape)
    s.gt_instances = gt
    if crowd_box is not None:
        ign = InstanceData()
        ign.bboxes = torch.tensor([crowd_box], dtype=torch.float32)
        ign.labels = torch.tensor([0])
        s.ignored_instances = ign
    return s


def batch():
    samples = [
        sample([(8, 8, 40, 40), (44, 8, 88, 32)], [0, 1]),
        sample([(16, 20, 48, 56)], [1], crowd_box=(60, 0, 96, 32))
    ]
    return torch.rand(2, 3, H, W) * 255, samples


def test_loss_keys_values_and_backward():
    model = build()
    inputs, samples = batch()
    data = model.data_preprocessor(
        dict(inputs=list(inputs), data_samples=samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    for key in ('loss_binary', 'loss_pi', 'loss_ms', 'loss_quant',
                'loss_verify_cls', 'loss_verify_iou'):
        assert torch.isfinite(losses[key]) and losses[key].item() > 0, key
    # 3 GT candidates at least (add_gt_as_candidates), 3 positives
    assert losses['num_candidates'].item() >= 3
    assert losses['num_verify_pos'].item() >= 3
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    # only the FPN output convs of P4 and P5 are unused (DVIS reads P3)
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert sorted(unused) == [
        f'neck.fpn_convs.{i}.conv.{k}' for i in (1, 2)
        for k in ('bias', 'weight')
    ]


def test_verifier_does_not_train_the_map():
    model = build()
    inputs, samples = batch()
    data = model.data_preprocessor(
        dict(inputs=list(inputs), data_samples=samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    head = model.mask_head
    map_params = list(head.convs.parameters()) + list(
        head.convs_after.parameters()) + list(head.conv_map.parameters())
    neck_params = list(model.neck.parameters())
    verify = losses['loss_verify_cls'] + losses['loss_verify_iou']
    grads = torch.autograd.grad(
        verify, map_params + neck_params, retain_graph=True, allow_unused=True)
    assert all(g is None for g in grads[:len(map_params)])
    assert sum(
        float(g.abs().sum()) for g in grads[len(map_params):]
        if g is not None) > 0
    # the map losses do train the map branch
    g = torch.autograd.grad(losses['loss_binary'], head.conv_map.weight)[0]
    assert g.abs().sum() > 0
    # and the verifier head detaches a map that carries a gradient
    vh = head.verify_head
    feat = torch.rand(1, 16, 8, 12, requires_grad=True)
    inst_map = torch.rand(1, 1, 16, 24, requires_grad=True)
    rois = torch.tensor([[0, 4.0, 4.0, 60.0, 40.0]])
    cls, iou = vh(feat, inst_map, rois, torch.tensor([0.5]))
    (cls.sum() + iou.sum()).backward()
    assert inst_map.grad is None and feat.grad.abs().sum() > 0


def test_gt_id_map_painting_ignore_and_padding():
    head = build().mask_head
    s = sample([(0, 0, 40, 32), (8, 8, 16, 16)], [0, 1],
               crowd_box=(64, 0, 96, 8),
               img_shape=(56, 88))
    gt = s.gt_instances
    gt.masks = gt.masks.pad((H, W))
    ids = head.gt_id_map([gt], [s.metainfo], [s.ignored_instances])[0]
    assert ids.shape == (16, 24)
    # cell (i, j) samples pixel (4 i + 2, 4 j + 2)
    exp = torch.zeros(16, 24, dtype=torch.long)
    exp[0:8, 0:10] = 1  # 40x32 box -> rows 0..7, cols 0..9
    exp[2:4, 2:4] = 2  # the smaller instance wins
    exp[0:2, 16:24] = -1  # crowd box (on background only)
    exp[14:, :] = -1  # img_shape 56: rows 14, 15 are padding
    exp[:, 22:] = -1  # img_shape 88: cols 22, 23 are padding
    assert torch.equal(ids, exp)


def test_verify_targets_thresholds():
    head = build().mask_head
    ids = torch.zeros(10, 10, dtype=torch.long)
    ids[0:4, 0:5] = 1  # 20 px, class 1
    ids[6:10, 6:10] = 2  # 16 px, class 0
    ids[9, 0] = -1
    masks = torch.zeros(4, 10, 10, dtype=torch.bool)
    masks[0, 0:4, 0:5] = True  # IoU 1 with instance 1 -> positive
    masks[1, 6:8, 6:8] = True  # IoU 4/16 = 0.25 >= 0.2 -> positive
    masks[2, 6:7, 6:9] = True  # IoU 3/16 = 0.1875 in [0.1, 0.2) -> ignored
    masks[3, 4:6, 0:6] = True  # IoU 0 -> background
    cands = InstanceData(masks=masks)
    lab, iou, w = head.verify_targets(cands, ids, torch.tensor([1, 0]))
    assert lab.tolist() == [1, 0, 2, 2]
    torch.testing.assert_close(iou, torch.tensor([1.0, 0.25, 0.1875, 0.0]))
    assert w.tolist() == [2.0, 2.0, 0.0, 1.0]


def plateau_map():
    m = torch.full((1, 1, 16, 24), -1.0)
    m[0, 0, 2:6, 3:9] = 2.0  # -> input rows 8..23, cols 12..35
    m[0, 0, 9:14, 12:20] = 3.0  # -> rows 36..55, cols 48..79
    return m


def gt_json(tmp_path, anns, shape):
    h, w = shape
    images = [
        dict(id=i, width=w, height=h, file_name=f'{i}.png') for i in (1, 2)
    ]
    cats = [dict(id=i + 1, name=c) for i, c in enumerate(CLASSES)]
    out = []
    for k, (img, cat, x0, y0, x1, y1) in enumerate(anns):
        out.append(
            dict(
                id=k + 1,
                image_id=img,
                category_id=cat,
                segmentation=[[x0, y0, x1, y0, x1, y1, x0, y1]],
                area=float((x1 - x0) * (y1 - y0)),
                bbox=[x0, y0, x1 - x0, y1 - y0],
                iscrowd=0))
    path = tmp_path / 'gt.json'
    path.write_text(
        json.dumps(dict(images=images, categories=cats, annotations=out)))
    return str(path)


def interp(n_out, n_in):
    """(n_out, n_in) matrix of 1-D bilinear resizing, align_corners=False
    (source coordinate (i + 0.5) n_in / n_out - 0.5, clamped at 0)."""
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        src = max((i + 0.5) * n_in / n_out - 0.5, 0.0)
        i0 = min(int(np.floor(src)), n_in - 1)
        i1 = min(i0 + 1, n_in - 1)
        f = src - i0
        m[i, i0] += 1 - f
        m[i, i1] += f
    return m


@pytest.mark.parametrize('metric_type', ['CocoMetric', 'BoundaryAPMetric'])
def test_predict_output_accepted_by_metrics(tmp_path, metric_type):
    from mmdet.registry import METRICS
    head = build().mask_head
    head.eval()
    meta = dict(
        img_shape=(H, W),
        ori_shape=(2 * H, 2 * W),
        batch_input_shape=(H, W),
        scale_factor=(0.5, 0.5),
        img_id=1)
    feat = torch.rand(2, 16, 8, 12)
    maps = torch.cat([plateau_map(), torch.full((1, 1, 16, 24), -1.0)])
    with torch.no_grad():
        res = head.predict_by_feat(
            maps, feat, [meta, dict(meta, img_id=2)], rescale=True)
    full, empty = res
    assert full.masks.dtype == torch.bool
    assert full.masks.shape[1:] == (2 * H, 2 * W)
    assert full.labels.dtype == torch.long
    assert full.scores.dtype == torch.float32
    assert full.bboxes.shape == (len(full), 4)
    # the two plateaus, upsampled bilinearly x4 to the input, x2 to ori
    # and thresholded at 0.5 (numpy re-derivation)
    cells = np.zeros((2, 16, 24))
    cells[0, 2:6, 3:9] = 1
    cells[1, 9:14, 12:20] = 1
    up = np.einsum('ij,njk,lk->nil',
                   interp(2 * H, H) @ interp(H, 16), cells,
                   interp(2 * W, W) @ interp(W, 24))
    exp = torch.from_numpy(up > 0.5)
    # boxes of 32x48 and 40x64 pixels, minus the corners bilinear cuts
    assert exp[0].sum() < 32 * 48 and exp[0, 16:48, 24:72].all(0).sum() > 40
    found = [any(torch.equal(m, e) for m in full.masks) for e in exp]
    assert found == [True, True]
    i0 = [k for k, m in enumerate(full.masks) if torch.equal(m, exp[0])][0]
    torch.testing.assert_close(full.bboxes[i0],
                               torch.tensor([24.0, 16.0, 72.0, 48.0]))
    assert len(empty) == 0 and empty.masks.shape == (0, 2 * H, 2 * W)
    assert empty.bboxes.shape == (0, 4)
    # metrics: GT = the two plateaus with the predicted labels (image 1),
    # one object missed in image 2 (empty prediction)
    l0 = int(full.labels[i0])
    i1 = [k for k, m in enumerate(full.masks) if torch.equal(m, exp[1])][0]
    l1 = int(full.labels[i1])
    ann = gt_json(tmp_path, [(1, l0 + 1, 24, 16, 72, 48),
                             (1, l1 + 1, 96, 72, 160, 112),
                             (2, 1, 10, 10, 50, 50)], (2 * H, 2 * W))
    kwargs = dict(metric=['segm'])
    if metric_type == 'BoundaryAPMetric':
        kwargs['metric'] = ['segm', 'boundary']
    metric = METRICS.build(dict(type=metric_type, ann_file=ann, **kwargs))
    metric.dataset_meta = dict(classes=CLASSES)
    for img_id, r in ((1, full), (2, empty)):
        ds = DetDataSample()
        ds.set_metainfo(dict(img_id=img_id, ori_shape=(2 * H, 2 * W)))
        ds.pred_instances = r
        metric.process({}, [ds.to_dict()])
    out = metric.evaluate(2)
    # 2 of 3 GT found (recall 2/3), each at IoU 1 with the top score of
    # its class -> AP > 0; the missed GT keeps it below 1
    assert 0 < out['coco/segm_mAP'] < 1
    if metric_type == 'BoundaryAPMetric':
        assert 0 < out['coco/boundary_mAP'] < 1


def test_detector_predict_end_to_end():
    model = build()
    model.eval()
    inputs, samples = batch()
    data = model.data_preprocessor(
        dict(inputs=list(inputs), data_samples=samples), False)
    with torch.no_grad():
        out = model.predict(data['inputs'], data['data_samples'])
    for s in out:
        p = s.pred_instances
        assert p.masks.shape[1:] == (H, W)
        assert len(p.labels) == len(p.scores) == len(p.bboxes)


def test_bad_inputs():
    cfg = model_cfg()
    cfg['data_preprocessor']['pad_size_divisor'] = 4
    init_default_scope('mmdet')
    with pytest.raises(ValueError, match=r"\['pad_size_divisor'\]=4"):
        MMDET_MODELS.build(cfg)
    cfg = model_cfg()
    cfg['bbox_head'] = dict(type='SOLOHead')
    with pytest.raises(ValueError, match='bbox_head must be None'):
        MMDET_MODELS.build(cfg)
    with pytest.raises(ValueError, match='map_stride=4 must equal'):
        MMDET_MODELS.build(model_cfg(featmap_stride=16))
    head = build().mask_head
    # a map stride that does not divide the padded image
    meta = dict(img_shape=(30, 30), batch_input_shape=(30, 30))
    with pytest.raises(ValueError, match='does not divide the padded image'):
        head.loss_by_feat(
            torch.zeros(1, 1, 7, 7), torch.zeros(1, 16, 4, 4),
            [InstanceData()], [meta])
    # no instance masks in the ground truth
    gt = InstanceData(labels=torch.tensor([0]), bboxes=torch.zeros(1, 4))
    meta = dict(img_shape=(H, W), batch_input_shape=(H, W))
    with pytest.raises(KeyError, match='with_mask=True'):
        head.loss_by_feat(
            torch.zeros(1, 1, 16, 24), torch.zeros(1, 16, 8, 12), [gt], [meta])


def test_instance_mask_check_hook():
    init_default_scope('mmdet')
    model = build()

    def runner(with_mask, divisor=32):
        pipe = Compose([dict(type='LoadAnnotations', with_mask=with_mask)])
        ds = SimpleNamespace(pipeline=pipe, ann_file='train.json')
        m = SimpleNamespace(
            mask_head=model.mask_head,
            data_preprocessor=SimpleNamespace(pad_size_divisor=divisor))
        return SimpleNamespace(
            train_dataloader=SimpleNamespace(dataset=ds), model=m)

    hook = InstanceMaskCheckHook()
    hook.before_train(runner(True))
    with pytest.raises(ValueError, match='train.json.*with_mask=True'):
        hook.before_train(runner(False))
    with pytest.raises(ValueError, match='pad_size_divisor=12'):
        hook.before_train(runner(True, divisor=12))


def test_zero_size_images_at_test_time():
    model = build()
    model.eval()
    # a whole batch without pixels: empty predictions, no conv error
    s = sample([], [], img_shape=(0, 0))
    s.set_metainfo(dict(batch_input_shape=(0, 0), pad_shape=(0, 0)))
    with torch.no_grad():
        out = model.predict(torch.zeros(1, 3, 0, 0), [s])
    p = out[0].pred_instances
    assert p.masks.shape == (0, 0, 0) and p.bboxes.shape == (0, 4)
    # a zero-size image in a padded batch: no valid map pixel, no candidate
    inputs, samples = batch()
    samples[1].set_metainfo(dict(img_shape=(0, 0), ori_shape=(0, 0)))
    with torch.no_grad():
        out = model.predict(inputs, samples)
    assert len(out[1].pred_instances) == 0
    assert out[1].pred_instances.masks.shape == (0, 0, 0)


def test_verifier_macs_per_candidate_hand_counted():
    init_default_scope('mmdet')
    # r = 4, C_in 16, E 16, trunk (16, 16), F 32, G 16, 2 classes:
    # extractor 16 * 9 * 16 * 16 = 36864; 1x1 (16 + 1) -> 16: 16 * 17 * 16
    # = 4352; 3x3 16 -> 16: 16 * 9 * 16 * 16 = 36864; FC (2 * 2 * 16) ->
    # 32: 2048; two hidden FCs 2 * 32 * 16 = 1024; class 16 * 3 = 48;
    # IoU 16
    vh = build().mask_head.verify_head
    assert vh.macs_per_candidate() == (36864 + 4352 + 36864 + 2048 + 1024 +
                                       48 + 16)
    # the official code's refineNet widths on P3 (256 channels), RoI 14, 80
    # classes: 115,605,504 (extractor) + 12,895,232 (1x1, 257 -> 256) +
    # 2 x 115,605,504 + 231,211,008 + 462,422,016 (3x3 trunk) + 25,690,112
    # (FC 25088 -> 1024) + 1,048,576 + 41,472 + 512 (heads)
    ref = MMDET_MODELS.build(dict(type='DVISVerifyHead', num_classes=80))
    assert ref.macs_per_candidate() == 1080125440
    # the R50 configs' widths: 43,434,368 (see configs/dvis/README.md)
    light = MMDET_MODELS.build(
        dict(
            type='DVISVerifyHead',
            num_classes=80,
            extractor_channels=32,
            conv_channels=(32, 32, 64, 64, 128),
            fc_channels=256,
            head_fc_channels=128))
    assert light.macs_per_candidate() == 43434368


def test_dvis_configs_verifier_widths():
    """The R50 base model's light verifier (within the paper's Table 5
    budget) and the official code's widths in the refcode config."""
    from mmengine.config import Config

    from mmboundary.testing._utils import REPO_ROOT
    light = dict(
        extractor_channels=32,
        conv_channels=(32, 32, 64, 64, 128),
        fc_channels=256,
        head_fc_channels=128,
        roi_size=14,
        sampling_ratio=2)
    official = dict(
        extractor_channels=256,
        conv_channels=(256, 256, 256, 512, 512),
        fc_channels=1024,
        head_fc_channels=512,
        roi_size=14,
        sampling_ratio=0)
    for name, want in [
        ('dvis_r50-fpn_1xb8-55e_coco-700.py', light),
        ('dvis_r101-fpn_1xb8-55e_coco-700.py', light),
        ('dvis_r50-fpn_8xb1-64e_cityscapes-2048x1024.py', light),
        ('dvis-refcode_r50-fpn_1xb8-55e_coco-550.py', official)
    ]:
        cfg = Config.fromfile(f'{REPO_ROOT}/configs/dvis/{name}')
        vh = cfg.model.mask_head.verify_head
        got = {k: vh[k] for k in want}
        got['conv_channels'] = tuple(got['conv_channels'])
        assert got == want, name


@pytest.mark.parametrize('stride', [1, 2, 4, 8])
def test_box_upsampling_is_the_whole_image_path(stride, monkeypatch):
    """Masks up-sampled on their boxes are the whole-image path's bit for
    bit (masks touching every border, a pixel in the padding only, empty
    and full masks, odd image sizes, any threshold >= 0)."""
    from mmdet.structures.mask import mask2bbox
    head = build().mask_head
    head.map_stride = stride
    gen = torch.Generator().manual_seed(stride)
    real = head._upsample_crops
    for h, w, cut in [(7, 9, 1), (16, 24, 3), (1, 5, 0), (5, 1, 0)]:
        masks = torch.rand(8, h, w, generator=gen) > 0.7
        masks[0] = False
        masks[1] = True
        masks[2] = False
        masks[2, -1, -1] = True  # only in the padding when cut > 0
        masks[3] = False
        masks[3, 0, 0] = True
        ih, iw = max(1, h * stride - cut), max(1, w * stride - cut)
        meta = dict(
            batch_input_shape=(h * stride, w * stride),
            img_shape=(ih, iw),
            ori_shape=(ih, iw))
        for thr in (0.5, 0.0, 0.3, 0.9):
            head.test_cfg['mask_thr'] = thr
            calls = []
            monkeypatch.setattr(head, '_upsample_crops',
                                lambda *a: calls.append(a) or real(*a))
            full, boxes = head._upsample(masks, meta, True, (h, w))
            assert len(calls) == 1  # the box path ran
            ref = head._upsample_resize(masks, meta, True)
            assert full.shape == (8, ih, iw)
            assert torch.equal(full, ref)
            assert torch.equal(boxes, mask2bbox(ref).float())
            assert full[1].all() and not full[0].any()
    # a resize to ori_shape, or a negative threshold: the whole-image path
    meta = dict(
        batch_input_shape=(32, 32), img_shape=(32, 32), ori_shape=(20, 20))
    head.map_stride = 4
    head.test_cfg['mask_thr'] = 0.5
    masks = torch.rand(3, 8, 8, generator=gen) > 0.5
    monkeypatch.setattr(head, '_upsample_crops', None)  # must not be used
    full, boxes = head._upsample(masks, meta, True, (8, 8))
    assert full.shape == (3, 20, 20)
    assert torch.equal(full, head._upsample_resize(masks, meta, True))
    head.test_cfg['mask_thr'] = -0.1
    meta['ori_shape'] = (32, 32)
    full, _ = head._upsample(masks, meta, True, (8, 8))
    assert full.all()


def _roi_align_2x2(feat, box, out, scale):
    """numpy re-derivation of aligned RoIAlign with 2 x 2 samples per bin
    for a box inside the map (no border rule needed): (C, out, out)."""
    x1, y1, x2, y2 = [v * scale - 0.5 for v in box]
    bh, bw = (y2 - y1) / out, (x2 - x1) / out
    C, H, W = feat.shape
    res = np.zeros((C, out, out))
    for ph in range(out):
        for pw in range(out):
            acc = np.zeros(C)
            for iy in range(2):
                for ix in range(2):
                    y = y1 + ph * bh + (iy + 0.5) * bh / 2
                    x = x1 + pw * bw + (ix + 0.5) * bw / 2
                    y0, x0 = int(np.floor(y)), int(np.floor(x))
                    ly, lx = y - y0, x - x0
                    acc += (
                        feat[:, y0, x0] * (1 - ly) * (1 - lx) +
                        feat[:, y0, x0 + 1] * (1 - ly) * lx +
                        feat[:, y0 + 1, x0] * ly * (1 - lx) +
                        feat[:, y0 + 1, x0 + 1] * ly * lx)
            res[:, ph, pw] = acc / 4
    return res


def test_verifier_sampling_ratio_reaches_both_roi_aligns():
    """sampling_ratio=2 (the R50 configs): both RoIAligns take Mask R-CNN's
    2 x 2 samples per bin (a numpy re-derivation); 0 (adaptive) differs on
    a box larger than 2 feature pixels per bin; negative is refused."""
    init_default_scope('mmdet')
    kw = dict(
        type='DVISVerifyHead',
        num_classes=3,
        in_channels=4,
        roi_size=2,
        extractor_channels=4,
        conv_channels=(4, ),
        fc_channels=8,
        head_fc_channels=8)
    two = MMDET_MODELS.build(dict(kw, sampling_ratio=2))
    adaptive = MMDET_MODELS.build(dict(kw))
    assert (adaptive.feat_roi.sampling_ratio,
            adaptive.map_roi.sampling_ratio) == (0, 0)
    assert (two.feat_roi.sampling_ratio, two.map_roi.sampling_ratio) == (2, 2)
    rng = np.random.default_rng(0)
    feat = rng.normal(size=(4, 16, 16)).astype(np.float32)
    imap = rng.normal(size=(1, 32, 32)).astype(np.float32)
    box = (13.0, 21.0, 101.0, 77.0)  # input pixels; P3 stride 8, map 4
    rois = torch.tensor([(0.0, ) + box])
    got = two.feat_roi(torch.from_numpy(feat)[None], rois)[0].numpy()
    np.testing.assert_allclose(
        got, _roi_align_2x2(feat, box, 2, 1 / 8), rtol=1e-5, atol=1e-6)
    got = two.map_roi(torch.from_numpy(imap)[None], rois)[0].numpy()
    np.testing.assert_allclose(
        got, _roi_align_2x2(imap, box, 2, 1 / 4), rtol=1e-5, atol=1e-6)
    # adaptive: ceil(22 / 2) = 11 x 7 samples per bin on the map: not 2 x 2
    other = adaptive.map_roi(torch.from_numpy(imap)[None], rois)[0].numpy()
    assert np.abs(other - got).max() > 1e-3
    with pytest.raises(ValueError, match='sampling_ratio'):
        MMDET_MODELS.build(dict(kw, sampling_ratio=-1))
