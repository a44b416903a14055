# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/analysis_tools/boxinst_mask_diagnosis.py on hand-made masks.

The training part is the main job's (tests/test_benchmark/); here
the numbers that tell a localised mask from an instance-agnostic one, on
8x8 images with hand-computed values.
"""
import json
import math
import os.path as osp
import pickle

import numpy as np
import pytest
import torch

from mmboundary.testing import import_tool
from mmboundary.testing._utils import REPO_ROOT

tool = import_tool('tools/analysis_tools/boxinst_mask_diagnosis.py')


def _mask(rows, cols, shape=(8, 8)):
    m = np.zeros(shape, bool)
    m[rows[0]:rows[1], cols[0]:cols[1]] = True
    return m


def test_box_mask_counts_pixel_centres():
    # centres 0.5..7.5; x in [1.6, 4.5] -> columns 2, 3, 4 (4.5 included);
    # y in [0, 2.4] -> rows 0, 1
    m = tool.box_mask((1.6, 0.0, 4.5, 2.4), (8, 8))
    assert m.sum() == 6
    assert m[0:2, 2:5].all()
    assert not m[:, 1].any() and not m[:, 5].any() and not m[2].any()


def test_box_ious_hand_computed():
    boxes = np.array([[0, 0, 2, 2], [1, 1, 3, 3], [5, 5, 6, 6]], float)
    # with (0, 0, 2, 2): 1, 1 / (4 + 4 - 1), 0
    np.testing.assert_allclose(
        tool.box_ious(boxes, (0, 0, 2, 2)), [1.0, 1 / 7, 0.0])
    # against several boxes: the (n, m) matrix
    np.testing.assert_allclose(
        tool.box_ious(boxes, boxes[:2]),
        [[1.0, 1 / 7], [1 / 7, 1.0], [0.0, 0.0]])


def _scene():
    # GT: a 4x2 bar, rows 2-5, columns 2-3, box (2, 2, 4, 6)
    gt = dict(bbox=(2, 2, 4, 6), mask=_mask((2, 6), (2, 4)))
    # A matches it (box IoU 1) with a 4x3 mask, rows 2-5, columns 2-4:
    # mask IoU 8 / 12, 8 of its 12 pixels inside its box.
    # B (box (5, 0, 8, 2), disjoint from A's) has A's mask: none inside its
    # box, cross-instance IoU 1. C scores below the threshold.
    a = _mask((2, 6), (2, 5))
    c = _mask((0, 8), (0, 8))
    pred = dict(
        img_id=7,
        bboxes=np.array([[2, 2, 4, 6], [5, 0, 8, 2], [0, 0, 8, 8]], float),
        scores=np.array([0.8, 0.9, 0.1]),
        masks=np.stack([a, a.copy(), c]))
    return [pred], {7: [gt]}


def test_mask_diagnosis_hand_computed():
    preds, gts = _scene()
    out = tool.mask_diagnosis(preds, gts, score_thr=0.3)
    assert out['num_gt'] == 1 and out['matched'] == 1
    assert out['mask_iou'] == pytest.approx(8 / 12)
    assert out['box_iou'] == pytest.approx(1.0)  # the box is the bar
    # median of A's 8/12 and B's 0
    assert out['inside'] == pytest.approx(4 / 12)
    assert out['cross_iou'] == pytest.approx(1.0)


def test_mask_diagnosis_overlapping_boxes_are_not_cross_pairs():
    preds, gts = _scene()
    # move B onto A's box: the pair overlaps, so no cross-instance pair
    preds[0]['bboxes'][1] = [3, 2, 5, 6]
    out = tool.mask_diagnosis(preds, gts, score_thr=0.3)
    assert math.isnan(out['cross_iou'])
    # B's mask (columns 2-4) has 8 of 12 pixels in columns 3-4 of its box
    assert out['inside'] == pytest.approx(8 / 12)


def test_mask_diagnosis_unmatched_and_threshold():
    preds, gts = _scene()
    # shift A's box off the bar: box IoU 1/3 <= 0.5, nothing matched
    preds[0]['bboxes'][0] = [3, 2, 5, 6]
    out = tool.mask_diagnosis(preds, gts, score_thr=0.3, match_iou=0.5)
    assert out['num_gt'] == 1 and out['matched'] == 0
    assert math.isnan(out['mask_iou']) and math.isnan(out['box_iou'])
    # C counted too (score 0.1 > 0.05): its whole-image mask lies in its
    # whole-image box; median of A's 8/12, B's 0 and C's 1
    out = tool.mask_diagnosis(preds, gts, score_thr=0.05)
    assert out['inside'] == pytest.approx(8 / 12)


def test_load_predictions_reads_test_out(tmp_path):
    mask = _mask((1, 3), (1, 3))
    samples = [
        dict(
            img_id=3,
            ori_shape=(8, 8),
            pred_instances=dict(
                bboxes=torch.tensor([[1.0, 1.0, 3.0, 3.0]]),
                scores=torch.tensor([0.5]),
                masks=torch.from_numpy(mask[None])))
    ]
    path = str(tmp_path / 'p.pkl')
    with open(path, 'wb') as f:
        pickle.dump(samples, f)
    preds = tool.load_predictions(path)
    assert preds[0]['img_id'] == 3
    np.testing.assert_array_equal(preds[0]['masks'][0], mask)
    np.testing.assert_allclose(preds[0]['bboxes'], [[1, 1, 3, 3]])


@pytest.mark.parametrize('argv, word', [(['--iters', '0'], '--iters'),
                                        (['--variants', 'Nope'], 'Nope'),
                                        (['--score-thr', '1.5'], '--score')])
def test_parse_args_refuses_bad_options(argv, word, capsys):
    with pytest.raises(SystemExit):
        tool.parse_args(argv)
    assert word in capsys.readouterr().err


def test_read_curve_steps_in_order(tmp_path):
    log = tmp_path / '20261201_000000' / 'vis_data'
    log.mkdir(parents=True)
    lines = [
        dict(loss=1.0, step=10),
        {
            'coco/segm_mAP': 0.01,
            'coco/bbox_mAP': 0.058,
            'step': 0
        },
        dict(loss=0.5, step=20),
        {
            'coco/segm_mAP': 0.021,
            'coco/bbox_mAP': 0.098,
            'step': 0
        },
        {
            'coco/segm_mAP': 0.03,
            'coco/bbox_mAP': 0.1,
            'step': 0
        },
    ]
    (log / 'scalars.json').write_text('\n'.join(json.dumps(d)
                                                for d in lines) + '\n')
    # validations at 250, 500 and the last iteration (600)
    assert tool.read_curve(str(tmp_path), 250, 600) == [[250, 1.0, 5.8],
                                                        [500, 2.1, 9.8],
                                                        [600, 3.0, 10.0]]
    with pytest.raises(ValueError, match='3 validations, expected 2'):
        tool.read_curve(str(tmp_path), 250, 500)
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        tool.read_curve(str(tmp_path / 'none'), 250, 500)


def test_with_validation_uses_the_test_split():
    from mmengine.config import Config
    cfg = Config(
        dict(
            train_cfg=dict(max_iters=600, val_interval=600),
            val_cfg=None,
            val_dataloader=None,
            val_evaluator=None,
            test_dataloader=dict(batch_size=1),
            test_evaluator=dict(type='BoundaryAPMetric')))
    tool.with_validation(cfg, 200)
    assert cfg.val_cfg == dict(type='ValLoop')
    assert cfg.val_dataloader == dict(batch_size=1)
    assert cfg.val_evaluator == dict(type='BoundaryAPMetric')
    assert cfg.train_cfg.val_interval == 200


def test_parse_args_val_interval_within_iters(capsys):
    assert tool.parse_args(['--iters', '600', '--val-interval',
                            '200']).val_interval == 200
    with pytest.raises(SystemExit):
        tool.parse_args(['--iters', '100', '--val-interval', '200'])
    assert '--val-interval 200' in capsys.readouterr().err


def test_as_mmdet_boxinst_swaps_in_mmdet_modules():
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    path = osp.join(REPO_ROOT, dict(tool.VARIANTS)['BoxInst'])
    cfg = Config.fromfile(path)
    cfg.custom_hooks[1]['warmup_iters'] = 125  # as the main job scales it
    tool.as_mmdet_boxinst(cfg)
    assert cfg.custom_hooks == []
    pre = MODELS.build(cfg.model.data_preprocessor)
    head = MODELS.build(cfg.model.mask_head)
    assert type(pre).__name__ == 'BoxInstDataPreprocessor'
    assert type(head).__name__ == 'BoxInstMaskHead'
    assert head.warmup_iters == 125
    assert (pre.mask_stride, head.mask_out_stride) == (4, 4)
    assert (head.pairwise_size, head.pairwise_dilation) == (3, 2)
    # AsyInst (asymmetric colour, depth term) has no mmdet counterpart
    asy = Config.fromfile(osp.join(REPO_ROOT, dict(tool.VARIANTS)['AsyInst']))
    with pytest.raises(ValueError, match='expected the BoxInst row'):
        tool.as_mmdet_boxinst(asy)
