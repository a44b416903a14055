# Copyright (c) mmboundary contributors. All rights reserved.
"""GenerateSemanticEdge / GenerateSobelBoundary on hand-made label maps."""
import numpy as np
import pytest

from mmboundary.datasets.transforms import (GenerateSemanticEdge,
                                            GenerateSobelBoundary,
                                            semantic_edge_map,
                                            sobel_boundary_map)

I = 255  # noqa: E741  (ignore)
LABEL = np.array([[0, 0, 0, 0],
                  [0, 0, 1, 1],
                  [0, 0, 1, 1],
                  [I, I, 1, 1]], np.uint8)  # yapf: disable


def test_edges_8_neighbours_two_sided_exact():
    expected = np.array([[0, 1, 1, 1],
                         [0, 1, 1, 1],
                         [0, 1, 1, 0],
                         [I, I, 1, 0]])  # yapf: disable
    out = semantic_edge_map(LABEL)
    assert out.dtype == np.uint8 and out.shape == (4, 4)
    np.testing.assert_array_equal(out, expected)


def test_edges_4_neighbours_exact():
    expected = np.array([[0, 0, 1, 1],
                         [0, 1, 1, 1],
                         [0, 1, 1, 0],
                         [I, I, 0, 0]])  # yapf: disable
    np.testing.assert_array_equal(
        semantic_edge_map(LABEL, connectivity=4), expected)


def test_edges_width_2_exact():
    # every valid pixel has a differing valid label within Chebyshev 2
    expected = np.array([[1, 1, 1, 1],
                         [1, 1, 1, 1],
                         [1, 1, 1, 1],
                         [I, I, 1, 1]])  # yapf: disable
    np.testing.assert_array_equal(semantic_edge_map(LABEL, width=2), expected)
    # 4-connectivity, radius 2 (|dy| + |dx| <= 2): (0, 0) reaches only
    # zeros; (2, 3) reaches (2, 1) = 0; (3, 3) reaches only ones and ignore;
    # (1, 0) reaches (1, 2) = 1
    out4 = semantic_edge_map(LABEL, connectivity=4, width=2)
    assert out4[0, 0] == 0 and out4[2, 3] == 1 and out4[3, 3] == 0
    assert out4[1, 0] == 1  # (1, 2) = 1 is two columns away


def test_per_class_edges_exact():
    label = np.array([[0, 1, 1], [0, 2, 2]], np.uint8)
    out8 = semantic_edge_map(label, num_classes=4)
    assert out8.shape == (4, 2, 3) and out8.dtype == np.uint8
    np.testing.assert_array_equal(out8[0], [[1, 1, 0], [1, 1, 0]])
    np.testing.assert_array_equal(out8[1], [[1, 1, 1], [1, 1, 1]])
    np.testing.assert_array_equal(out8[2], [[1, 1, 1], [1, 1, 1]])
    np.testing.assert_array_equal(out8[3], np.zeros((2, 3)))  # absent
    out4 = semantic_edge_map(label, connectivity=4, num_classes=3)
    np.testing.assert_array_equal(out4[0], [[1, 1, 0], [1, 1, 0]])
    np.testing.assert_array_equal(out4[1], [[1, 1, 1], [0, 1, 1]])
    np.testing.assert_array_equal(out4[2], [[0, 1, 1], [1, 1, 1]])
    # the binary map is the union of the channels
    np.testing.assert_array_equal(
        out4.max(0), semantic_edge_map(label, connectivity=4))


def test_per_class_marks_ignore_in_every_channel():
    out = semantic_edge_map(LABEL, num_classes=2)
    assert (out[:, 3, :2] == I).all()
    np.testing.assert_array_equal(
        out.max(0, where=out != I, initial=0),
        np.where(LABEL == I, 0, semantic_edge_map(LABEL)))


def test_ignore_frame_at_image_border_creates_no_edge():
    label = np.full((5, 5), I, np.uint8)
    label[1:4, 1:4] = [[0, 0, 1], [0, 0, 1], [0, 0, 1]]
    out = semantic_edge_map(label)
    expected = np.full((5, 5), I)
    expected[1:4, 1:4] = [[0, 1, 1], [0, 1, 1], [0, 1, 1]]
    np.testing.assert_array_equal(out, expected)
    # the image border itself creates no edge either
    np.testing.assert_array_equal(
        semantic_edge_map(np.zeros((3, 4), np.uint8)), np.zeros((3, 4)))
    # all-ignore input
    np.testing.assert_array_equal(
        semantic_edge_map(np.full((2, 2), I, np.uint8)), np.full((2, 2), I))


def _brute_force(label, ignore, conn, width):
    h, w = label.shape
    out = np.zeros((h, w), np.int64)
    for y in range(h):
        for x in range(w):
            if label[y, x] == ignore:
                out[y, x] = ignore
                continue
            for dy in range(-width, width + 1):
                for dx in range(-width, width + 1):
                    if conn == 4 and abs(dy) + abs(dx) > width:
                        continue
                    yy, xx = y + dy, x + dx
                    if 0 <= yy < h and 0 <= xx < w and \
                            label[yy, xx] != ignore and \
                            label[yy, xx] != label[y, x]:
                        out[y, x] = 1
    return out


@pytest.mark.parametrize('dtype,ignore', [(np.uint8, 255), (np.int64, -1),
                                          (np.int32, 300), (np.uint16, 0)])
def test_matches_brute_force_definition(dtype, ignore):
    rng = np.random.default_rng(0)
    for _ in range(5):
        label = rng.integers(0, 4, (9, 11)).astype(dtype)
        label[rng.random(label.shape) < 0.2] = ignore
        for conn in (4, 8):
            for width in (1, 2):
                out = semantic_edge_map(label, ignore, conn, width)
                np.testing.assert_array_equal(
                    out, _brute_force(label, ignore, conn, width))
                assert out.dtype == (
                    np.uint8 if 0 <= ignore <= 255 else np.int64)


def test_large_and_negative_ids_without_ignore():
    label = np.array([[-7, -7, 70000], [-7, -7, 70000]], np.int64)
    np.testing.assert_array_equal(
        semantic_edge_map(label, ignore_index=None), [[0, 1, 1], [0, 1, 1]])


def test_bad_label_input_raises():
    with pytest.raises(TypeError, match='integer dtype'):
        semantic_edge_map(LABEL.astype(np.float32))
    with pytest.raises(ValueError, match=r'shape \(H, W\)'):
        semantic_edge_map(LABEL[None])
    with pytest.raises(ValueError, match='connectivity'):
        semantic_edge_map(LABEL, connectivity=6)
    with pytest.raises(ValueError, match='width'):
        semantic_edge_map(LABEL, width=0)
    with pytest.raises(ValueError, match=r'outside \[0, 1\)'):
        semantic_edge_map(LABEL, num_classes=1)
    t = GenerateSemanticEdge()
    with pytest.raises(KeyError, match='gt_seg_map'):
        t(dict(img=np.zeros((4, 4, 3), np.uint8)))
    with pytest.raises(TypeError, match=r"results\['gt_seg_map'\].*a\.png"):
        t(dict(gt_seg_map=LABEL.astype(float), seg_map_path='a.png'))
    with pytest.raises(ValueError, match='shape'):
        t(dict(gt_seg_map=np.zeros((2, 2, 3), np.uint8)))


def test_generate_semantic_edge_transform_and_packing():
    t = GenerateSemanticEdge(connectivity=4)
    results = t(dict(gt_seg_map=LABEL.copy()))
    np.testing.assert_array_equal(results['gt_edge_map'],
                                  semantic_edge_map(LABEL, connectivity=4))
    np.testing.assert_array_equal(results['gt_seg_map'], LABEL)  # unchanged
    assert repr(t) == ('GenerateSemanticEdge(ignore_index=255, '
                       'connectivity=4, width=1, num_classes=None, '
                       "seg_key='gt_seg_map', out_key='gt_edge_map')")
    per_class = GenerateSemanticEdge(
        num_classes=2, out_key='edges')(
            dict(gt_seg_map=LABEL.copy()))
    assert per_class['edges'].shape == (2, 4, 4)

    from mmseg.datasets.transforms import PackSegInputs
    packed = PackSegInputs()(
        dict(
            img=np.zeros((4, 4, 3), np.uint8),
            gt_seg_map=LABEL.copy(),
            gt_edge_map=results['gt_edge_map']))
    edge = packed['data_samples'].gt_edge_map.data
    assert tuple(edge.shape) == (1, 4, 4)
    np.testing.assert_array_equal(edge[0].numpy(), results['gt_edge_map'])


def test_registered_once_and_found_from_both_hosts():
    from mmdet.registry import TRANSFORMS as DET
    from mmengine.registry import TRANSFORMS as ROOT
    from mmseg.registry import TRANSFORMS as SEG
    for cls in (GenerateSemanticEdge, GenerateSobelBoundary):
        assert ROOT.get(cls.__name__) is cls
        assert SEG.get(cls.__name__) is cls
        assert DET.get(cls.__name__) is cls
        assert cls.__name__ not in SEG.module_dict
        assert cls.__name__ not in DET.module_dict
    built = SEG.build(dict(type='GenerateSemanticEdge', width=2))
    assert isinstance(built, GenerateSemanticEdge) and built.width == 2


def test_sobel_boundary_exact():
    # a one-pixel region: the Sobel responses cancel at its centre
    label = np.zeros((3, 3), np.uint8)
    label[1, 1] = 1
    np.testing.assert_array_equal(
        sobel_boundary_map(label), [[1, 1, 1], [1, 0, 1], [1, 1, 1]])
    # a vertical step 0 -> 1: |g| = 4 on both sides of it, 0 elsewhere
    step = np.tile(np.array([0, 0, 1, 1], np.uint8), (4, 1))
    np.testing.assert_array_equal(
        sobel_boundary_map(step), np.tile([0, 1, 1, 0], (4, 1)))
    np.testing.assert_array_equal(
        sobel_boundary_map(step, threshold=3.9), np.tile([0, 1, 1, 0], (4, 1)))
    np.testing.assert_array_equal(
        sobel_boundary_map(step, threshold=4.0), np.zeros((4, 4)))


def test_sobel_ignore_creates_no_boundary():
    label = np.tile(np.array([I, 0, 0, 1, 1], np.uint8), (3, 1))
    out = sobel_boundary_map(label)
    assert out.dtype == np.uint8
    # without filling the ignore column, column 1 (0 next to 255) would be
    # a boundary
    np.testing.assert_array_equal(out, np.tile([I, 0, 1, 1, 0], (3, 1)))


def test_generate_sobel_boundary_transform():
    t = GenerateSobelBoundary(threshold=1.0, out_key='gt_boundary')
    label = np.tile(np.array([I, 0, 0, 1, 1], np.uint8), (3, 1))
    out = t(dict(gt_seg_map=label))
    np.testing.assert_array_equal(out['gt_boundary'],
                                  np.tile([I, 0, 1, 1, 0], (3, 1)))
    assert repr(t) == ('GenerateSobelBoundary(threshold=1.0, '
                       "ignore_index=255, seg_key='gt_seg_map', "
                       "out_key='gt_boundary')")
    with pytest.raises(TypeError, match='integer dtype'):
        t(dict(gt_seg_map=label.astype(np.float64)))


def test_uint8_fast_path_at_the_top_labels():
    # uint8 labels with ignore 255 take the cv2-only path (label + 1 wraps
    # the ignore id to 0); 253 and 254 sit next to the wrap-around
    rng = np.random.default_rng(1)
    for _ in range(5):
        label = rng.choice(np.array([0, 1, 253, 254, 255], np.uint8), (10, 12))
        for conn in (4, 8):
            for width in (1, 2):
                out = semantic_edge_map(label, 255, conn, width)
                assert out.dtype == np.uint8
                np.testing.assert_array_equal(
                    out, _brute_force(label, 255, conn, width))
                # the general path (int16 labels) agrees
                np.testing.assert_array_equal(
                    out,
                    semantic_edge_map(
                        label.astype(np.int16), 255, conn, width))
