# Copyright (c) mmboundary contributors. All rights reserved.
"""Tests of the Edge Agreement Loss (Zimmermann and Siems).

Expected values are computed by hand in the comments, or by an independent
numpy re-derivation (explicit loops over a zero-padded array).
"""
import math

import numpy as np
import pytest
import torch

from mmboundary.models.losses import (EDGE_FILTERS, EdgeAgreementLoss,
                                      edge_agreement_loss, edge_kernels)
from mmboundary.models.losses.edge_agreement_loss import (STEP_GAINS,
                                                          edge_maps,
                                                          gaussian_kernel3x3)

# The kernels as written in the paper (eq. 3 for the 4-neighbour Laplacian)
# and in the reference implementation, as plain lists.
DEFINITIONS = {
    'sobel': [[[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
              [[1, 0, -1], [2, 0, -2], [1, 0, -1]]],
    'prewitt': [[[1, 0, -1], [1, 0, -1], [1, 0, -1]],
                [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]],
    'kayyali': [[[6, 0, -6], [0, 0, 0], [-6, 0, 6]],
                [[-6, 0, 6], [0, 0, 0], [6, 0, -6]]],
    # 2x2 kernels sit in the bottom-right corner of the 3x3 footprint.
    'roberts': [[[0, 0, 0], [0, 1, 0], [0, 0, -1]],
                [[0, 0, 0], [0, 0, -1], [0, 1, 0]]],
    'laplace': [[[0, 1, 0], [1, -4, 1], [0, 1, 0]]],
    'laplace8': [[[1, 1, 1], [1, -8, 1], [1, 1, 1]]],
}


def _probs(*masks):
    return torch.tensor(np.array(masks), dtype=torch.float32)


# Case A: a 3x3 target with only its centre pixel set, prediction all zero.
# With one pixel of zero padding, the response to a centred impulse is the
# (flipped) kernel itself, so mean_pixels |e|^p = sum(|k|^p) / 9 for every
# channel. Per filter (channels have equal sums here):
#   sobel    entries 1,2,1,1,2,1 -> (4 + 2 * 2^p) / 9
#   prewitt  six ones           -> 6 / 9
#   kayyali  four 6s            -> 4 * 6^p / 9
#   roberts  1 and -1           -> 2 / 9
#   laplace  four 1s and -4     -> (4 + 4^p) / 9
#   laplace8 eight 1s and -8    -> (8 + 8^p) / 9
CASE_A = {
    'sobel': {
        1: 8 / 9,
        2: 12 / 9,
        3: 20 / 9,
        4: 36 / 9
    },
    'prewitt': {
        1: 6 / 9,
        2: 6 / 9,
        3: 6 / 9,
        4: 6 / 9
    },
    'kayyali': {
        1: 24 / 9,
        2: 144 / 9,
        3: 864 / 9,
        4: 5184 / 9
    },
    'roberts': {
        1: 2 / 9,
        2: 2 / 9,
        3: 2 / 9,
        4: 2 / 9
    },
    'laplace': {
        1: 8 / 9,
        2: 20 / 9,
        3: 68 / 9,
        4: 260 / 9
    },
    'laplace8': {
        1: 16 / 9,
        2: 72 / 9,
        3: 520 / 9,
        4: 4104 / 9
    },
}

# Case B: a 2x2 target of ones touching every border, prediction all zero.
# With zero padding every pixel sees the mask edge:
#   sobel    |e| = 1 + 2 = 3 at every pixel, both channels -> 3^p
#   prewitt  |e| = 1 + 1 = 2                               -> 2^p
#   kayyali  one corner weight 6 inside the mask           -> 6^p
#   laplace  two inside neighbours: 2 - 4 = -2             -> 2^p
#   laplace8 three inside neighbours: 3 - 8 = -5           -> 5^p
#   roberts  x[i,j] - x[i+1,j+1] = 0,1,1,1 -> 3/4;
#            x[i+1,j] - x[i,j+1] = 0,1,-1,0 -> 2/4; mean 5/8 for all p
CASE_B = {
    'sobel': lambda p: 3.0**p,
    'prewitt': lambda p: 2.0**p,
    'kayyali': lambda p: 6.0**p,
    'roberts': lambda p: 5 / 8,
    'laplace': lambda p: 2.0**p,
    'laplace8': lambda p: 5.0**p,
}


def _np_correlate_same(x, k):
    """Zero-padded 3x3 cross-correlation with explicit loops."""
    h, w = x.shape
    pad = np.zeros((h + 2, w + 2))
    pad[1:-1, 1:-1] = x
    out = np.zeros((h, w))
    for i in range(h):
        for j in range(w):
            out[i, j] = (pad[i:i + 3, j:j + 3] * k).sum()
    return out


def _np_gauss(sigma=1.0):
    g = np.exp(-np.array([1.0, 0.0, 1.0]) / (2 * sigma**2))
    k = np.outer(g, g)
    return k / k.sum()


def _np_edge_loss(pred,
                  gt,
                  filters,
                  p,
                  smooth_pred=False,
                  smooth_gt=False,
                  mode='lp',
                  exp_divisor=4.0):
    """Numpy re-derivation of the per-pixel loss, averaged over pixels."""
    kernels = [np.array(k, float) for f in filters for k in DEFINITIONS[f]]
    sp = _np_correlate_same(pred, _np_gauss()) if smooth_pred else pred
    sg = _np_correlate_same(gt, _np_gauss()) if smooth_gt else gt
    per_pixel = np.mean([
        np.abs(_np_correlate_same(sp, k) - _np_correlate_same(sg, k))**p
        for k in kernels
    ],
                        axis=0)
    if mode != 'lp':
        q = np.clip(pred, 1e-6, 1 - 1e-6)
        bce = -(gt * np.log(q) + (1 - gt) * np.log(1 - q))
        if mode == 'bce_mul':
            per_pixel = bce * per_pixel
        else:
            per_pixel = bce * np.exp(per_pixel / exp_divisor)
    return per_pixel.mean()


# --------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------
@pytest.mark.parametrize('name', EDGE_FILTERS)
def test_kernels_match_definitions(name):
    kernels, names = edge_kernels(name)
    expected = torch.tensor(DEFINITIONS[name], dtype=torch.float32)
    assert kernels.shape == (len(expected), 1, 3, 3)
    assert len(names) == len(expected)
    assert torch.equal(kernels[:, 0], expected)


def test_kernel_properties():
    # Every edge kernel sums to zero: a constant mask has no edges.
    for name in EDGE_FILTERS:
        assert edge_kernels(name)[0].sum(dim=(1, 2, 3)).abs().max() == 0
    # Mixed 2x2 and 3x3 filters stack into one bank, in the given order.
    kernels, names = edge_kernels(['roberts', 'sobel', 'laplace'])
    assert kernels.shape == (5, 1, 3, 3)
    assert names == ['roberts_d', 'roberts_a', 'sobel_v', 'sobel_h', 'laplace']
    # The 3x3 Gaussian is normalised and separable with ratio exp(-1/2).
    g = gaussian_kernel3x3(1.0)[0, 0]
    assert g.sum().item() == pytest.approx(1.0)
    assert (g[1, 0] / g[1, 1]).item() == pytest.approx(math.exp(-0.5))
    assert (g[0, 0] / g[1, 1]).item() == pytest.approx(math.exp(-1.0))
    assert g[1, 1].item() == pytest.approx(0.2042, abs=1e-4)


@pytest.mark.parametrize('padding_mode', ['zeros', 'replicate'])
def test_filtering_equals_conv2d_on_padded_input(padding_mode):
    torch.manual_seed(0)
    x = torch.rand(3, 7, 6)
    kernels = edge_kernels(list(EDGE_FILTERS))[0]
    mode = 'constant' if padding_mode == 'zeros' else 'replicate'
    expected = torch.nn.functional.conv2d(
        torch.nn.functional.pad(x[:, None], (1, 1, 1, 1), mode=mode), kernels)
    out = edge_maps(x, kernels, padding_mode=padding_mode)
    assert out.shape == (3, kernels.shape[0], 7, 6)
    assert torch.allclose(out, expected, atol=1e-5)
    # A 2x2 kernel with zero padding equals PyTorch's 'same' padding (0
    # before, 1 after), which is also TensorFlow's 'SAME'.
    if padding_mode == 'zeros':
        roberts = torch.tensor([[[[1., 0.], [0., -1.]]]])
        same = torch.nn.functional.conv2d(x[:, None], roberts, padding='same')
        assert torch.allclose(
            edge_maps(x,
                      edge_kernels('roberts')[0])[:, :1], same, atol=1e-6)


def _unit_steps(n=9):
    """Binary half-planes in the 8 principal orientations, all offsets."""
    ii, jj = np.meshgrid(
        np.arange(n) - n // 2, np.arange(n) - n // 2, indexing='ij')
    steps = []
    for a, b in [(1, 0), (0, 1), (1, 1), (1, -1), (-1, 0), (0, -1), (-1, -1),
                 (-1, 1)]:
        for c in range(-3, 4):
            steps.append((a * ii + b * jj > c).astype(float))
    return steps


@pytest.mark.parametrize('name', EDGE_FILTERS)
def test_normalize_gives_unit_step_response_one(name):
    # Independent check of STEP_GAINS: the largest |response| of the raw
    # kernels to any unit step (read away from the zero-padded border).
    peak_raw, peak_norm = 0.0, 0.0
    raw = [np.array(k, float) for k in DEFINITIONS[name]]
    norm = edge_kernels(name, normalize=True)[0][:, 0].numpy()
    for step in _unit_steps():
        for k_raw, k_norm in zip(raw, norm):
            peak_raw = max(
                peak_raw,
                np.abs(_np_correlate_same(step, k_raw))[2:-2, 2:-2].max())
            peak_norm = max(
                peak_norm,
                np.abs(_np_correlate_same(step, k_norm))[2:-2, 2:-2].max())
    assert peak_raw == pytest.approx(STEP_GAINS[name])
    assert peak_norm == pytest.approx(1.0, rel=1e-6)


# --------------------------------------------------------------------------
# Hand-computed values
# --------------------------------------------------------------------------
@pytest.mark.parametrize('p', [1, 2, 3, 4])
@pytest.mark.parametrize('name', EDGE_FILTERS)
def test_hand_values_impulse(name, p):
    target = _probs([[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    pred = torch.zeros_like(target)
    loss = EdgeAgreementLoss(filters=[name], p=p)(pred, target)
    assert loss.item() == pytest.approx(CASE_A[name][p], rel=1e-6)
    # Symmetric in pred/target for the L_p formulation.
    loss_swapped = EdgeAgreementLoss(filters=[name], p=p)(target, pred)
    assert loss_swapped.item() == pytest.approx(CASE_A[name][p], rel=1e-6)


@pytest.mark.parametrize('p', [1, 2, 3, 4])
@pytest.mark.parametrize('name', EDGE_FILTERS)
def test_hand_values_border_block(name, p):
    target = _probs([[1, 1], [1, 1]])
    pred = torch.zeros_like(target)
    loss = EdgeAgreementLoss(filters=[name], p=p)(pred, target)
    assert loss.item() == pytest.approx(CASE_B[name](p), rel=1e-6)
    # Replicate padding sees a constant mask: no edges, no loss.
    loss_rep = EdgeAgreementLoss(
        filters=[name], p=p, padding_mode='replicate')(pred, target)
    assert loss_rep.item() == 0


def test_hand_values_combinations_weight_and_normalize():
    target = _probs([[1, 1], [1, 1]])
    pred = torch.zeros_like(target)
    # Mixed 2x2 + 3x3: mean over 4 channels, sobel 9 and 9 (p=2), roberts
    # 3/4 and 2/4 -> (18 + 1.25) / 4.
    loss = EdgeAgreementLoss(filters=['sobel', 'roberts'])(pred, target)
    assert loss.item() == pytest.approx((18 + 1.25) / 4)
    # Sobel & Laplace (paper's S&L): (9 + 9 + 4) / 3.
    loss = EdgeAgreementLoss(filters=['sobel', 'laplace'])(pred, target)
    assert loss.item() == pytest.approx(22 / 3)
    # loss_weight is a plain factor (the paper's alpha; 1/16 for L4).
    loss = EdgeAgreementLoss(p=4, loss_weight=1 / 16)(pred, target)
    assert loss.item() == pytest.approx(81 / 16)
    # normalize: sobel divided by 4 -> |e| = 3/4 -> (3/4)^2.
    loss = EdgeAgreementLoss(normalize=True)(pred, target)
    assert loss.item() == pytest.approx(9 / 16)
    # Non-integer p is the same power mean: 3^1.5.
    loss = EdgeAgreementLoss(p=1.5)(pred, target)
    assert loss.item() == pytest.approx(3**1.5, rel=1e-6)


def test_magnitude_channel():
    target = _probs([[1, 1], [1, 1]])
    pred = torch.zeros_like(target)
    # gx = gy = 3 on the target; sqrt(eps) = 1e-3 on the empty prediction.
    mag_gt = math.sqrt(18 + 1e-6)
    only_mag = EdgeAgreementLoss(filters=[], magnitude=True)(pred, target)
    assert only_mag.item() == pytest.approx((mag_gt - 1e-3)**2, rel=1e-6)
    # Sobel plus magnitude: mean over three channels.
    both = EdgeAgreementLoss(magnitude=True)(pred, target)
    assert both.item() == pytest.approx(
        (9 + 9 + (mag_gt - 1e-3)**2) / 3, rel=1e-6)


@pytest.mark.parametrize('mode', ['lp', 'bce_mul', 'bce_exp'])
@pytest.mark.parametrize('smooth', [(False, False), (True, False),
                                    (False, True), (True, True)])
def test_against_numpy_rederivation(mode, smooth):
    rng = np.random.default_rng(0)
    pred = rng.uniform(0.05, 0.95, size=(2, 5, 5))
    gt = (rng.uniform(size=(2, 5, 5)) > 0.5).astype(float)
    filters = ['sobel', 'roberts', 'laplace8']
    for p in (1, 2, 3):
        expected = np.mean([
            _np_edge_loss(pred[i], gt[i], filters, p, *smooth, mode=mode)
            for i in range(2)
        ])
        loss = edge_agreement_loss(
            torch.tensor(pred, dtype=torch.float32),
            torch.tensor(gt, dtype=torch.float32),
            filters=filters,
            p=p,
            smooth_pred=smooth[0],
            smooth_gt=smooth[1],
            mode=mode)
        assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_bce_modes_by_hand():
    # A 1x1 mask, pred 0.5, target 1: BCE = ln 2. With zero padding the
    # Laplacian of a single pixel is -4x, so e_pred - e_gt = -2 + 4 = 2 and
    # the pixel-wise L2 edge loss is 4.
    pred = _probs([[0.5]])
    target = _probs([[1.0]])
    lp = EdgeAgreementLoss(filters=['laplace'])(pred, target)
    assert lp.item() == pytest.approx(4.0)
    mul = EdgeAgreementLoss(filters=['laplace'], mode='bce_mul')(pred, target)
    assert mul.item() == pytest.approx(math.log(2) * 4.0, rel=1e-5)
    exp = EdgeAgreementLoss(filters=['laplace'], mode='bce_exp')(pred, target)
    assert exp.item() == pytest.approx(math.log(2) * math.exp(1.0), rel=1e-5)
    exp16 = EdgeAgreementLoss(
        filters=['laplace'], mode='bce_exp', exp_divisor=16)(pred, target)
    assert exp16.item() == pytest.approx(
        math.log(2) * math.exp(0.25), rel=1e-5)


# --------------------------------------------------------------------------
# Logits, channel selection and gradients
# --------------------------------------------------------------------------
def test_logits_select_label_channel_then_sigmoid():
    torch.manual_seed(0)
    logits = torch.randn(3, 4, 6, 6)
    target = (torch.rand(3, 6, 6) > 0.5).float()
    label = torch.tensor([2, 0, 3])
    loss = EdgeAgreementLoss()(logits, target, label=label)
    probs = logits[torch.arange(3), label].sigmoid()
    assert loss.item() == pytest.approx(
        EdgeAgreementLoss()(probs, target).item(), rel=1e-6)
    # One channel (class-agnostic) needs no label.
    agn = EdgeAgreementLoss()(logits[:, :1], target)
    assert agn.item() == pytest.approx(
        EdgeAgreementLoss()(logits[:, 0].sigmoid(), target).item(), rel=1e-6)


@pytest.mark.parametrize('mode', ['lp', 'bce_mul', 'bce_exp'])
def test_gradient_reaches_selected_class_only(mode):
    torch.manual_seed(0)
    logits = torch.randn(3, 4, 6, 6, requires_grad=True)
    target = (torch.rand(3, 6, 6) > 0.5).float().requires_grad_()
    label = torch.tensor([2, 0, 3])
    loss = EdgeAgreementLoss(
        filters=['sobel', 'roberts'], mode=mode)(
            logits, target, label=label)
    loss.backward()
    grad = logits.grad.abs().sum(dim=(2, 3))
    selected = torch.zeros(3, 4, dtype=torch.bool)
    selected[torch.arange(3), label] = True
    assert (grad[selected] > 0).all()
    assert (grad[~selected] == 0).all()
    assert target.grad is None  # targets are constants
    assert torch.isfinite(logits.grad).all()


@pytest.mark.parametrize('name', EDGE_FILTERS)
def test_zero_loss_and_gradient_at_optimum(name):
    torch.manual_seed(1)
    logits = torch.randn(2, 3, 7, 7, requires_grad=True)
    label = torch.tensor([1, 2])
    target = logits[torch.arange(2), label].detach().sigmoid()
    loss = EdgeAgreementLoss(
        filters=[name], magnitude=True)(
            logits, target, label=label)
    loss.backward()
    assert loss.item() == pytest.approx(0.0, abs=1e-10)
    assert logits.grad.abs().max().item() < 1e-5
    # Probabilities equal to a binary target: exactly zero.
    gt = (torch.rand(2, 7, 7) > 0.5).float()
    assert EdgeAgreementLoss(filters=[name])(gt.clone(), gt).item() == 0


@pytest.mark.parametrize('p', [1, 2, 3, 4])
def test_loss_falls_as_prediction_moves_to_target(p):
    torch.manual_seed(2)
    target = (torch.rand(2, 8, 8) > 0.5).float()
    start = torch.rand(2, 8, 8)
    loss_fn = EdgeAgreementLoss(filters=['sobel', 'laplace'], p=p)
    l0 = loss_fn(start, target).item()
    values = []
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        values.append(loss_fn((1 - t) * start + t * target, target).item())
        # The filters are linear, so the L_p loss scales as (1 - t)^p.
        assert values[-1] == pytest.approx(l0 * (1 - t)**p, rel=1e-5, abs=1e-9)
    assert all(a > b for a, b in zip(values, values[1:]))


def test_gradient_descent_on_logits_reduces_loss():
    torch.manual_seed(3)
    logits = torch.randn(2, 1, 8, 8, requires_grad=True)
    target = torch.zeros(2, 8, 8)
    target[:, 2:6, 2:6] = 1
    loss_fn = EdgeAgreementLoss()
    # The loss is a mean over 64 pixels, so per-logit gradients are small.
    opt = torch.optim.SGD([logits], lr=2.0)
    history = []
    for _ in range(30):
        opt.zero_grad()
        loss = loss_fn(logits, target)
        loss.backward()
        opt.step()
        history.append(loss.item())
    assert all(a >= b for a, b in zip(history, history[1:]))
    assert history[-1] < 0.5 * history[0]


def test_no_rois_gives_zero_loss_with_graph():
    logits = torch.zeros(0, 5, 28, 28, requires_grad=True)
    target = torch.zeros(0, 28, 28)
    loss_fn = EdgeAgreementLoss()
    loss = loss_fn(logits, target, label=torch.zeros(0, dtype=torch.long))
    assert loss.shape == () and loss.item() == 0
    assert loss.requires_grad
    loss.backward()
    assert logits.grad is not None and logits.grad.shape == logits.shape
    per_roi = loss_fn(
        logits, target, label=torch.zeros(0), reduction_override='none')
    assert per_roi.shape == (0, ) and per_roi.requires_grad


# --------------------------------------------------------------------------
# Reductions, weights, ignore_index, module contract
# --------------------------------------------------------------------------
def test_reduction_weight_avg_factor():
    target = _probs([[1, 1], [1, 1]], [[0, 0], [0, 0]])
    pred = torch.zeros_like(target)
    loss_fn = EdgeAgreementLoss(loss_weight=2.0)
    per_roi = loss_fn(pred, target, reduction_override='none')
    assert per_roi.tolist() == pytest.approx([18.0, 0.0])  # 2 * 9, 2 * 0
    assert loss_fn(pred, target).item() == pytest.approx(9.0)
    assert loss_fn(
        pred, target, reduction_override='sum').item() == pytest.approx(18.0)
    assert loss_fn(
        pred, target, weight=torch.tensor([0.5, 1.0])).item() == \
        pytest.approx(4.5)
    assert loss_fn(pred, target, avg_factor=4).item() == pytest.approx(4.5)


def test_ignore_index_excludes_footprint():
    # 1x5 strip: target [1, 1, 255, 0, 0]; every pixel within one pixel of
    # the ignored one is dropped, leaving pixels 0 and 4.
    target = _probs([[1, 1, 255, 0, 0]])
    pred = _probs([[0, 1, 0.3, 0, 1]])
    loss = EdgeAgreementLoss(filters=['laplace'])(
        pred, target, ignore_index=255)
    # pixel 0: pred laplace = -4*0 + 1 = 1, gt = -4*1 + 1 = -3 -> 16
    # pixel 4: pred laplace = -4*1 + 0 = -4, gt = 0 -> 16
    assert loss.item() == pytest.approx(16.0)


def test_module_has_no_parameters_or_state():
    loss_fn = EdgeAgreementLoss(
        filters=['sobel', 'roberts', 'laplace8'],
        magnitude=True,
        smooth_gt=True)
    assert list(loss_fn.parameters()) == []
    assert loss_fn.state_dict() == {}
    assert loss_fn.kernels.shape == (5, 1, 3, 3)
    assert loss_fn.loss_name == 'loss_mask_edge'
    assert 'sobel' in repr(loss_fn)


def test_registered_in_root_and_resolves_from_hosts():
    from mmengine.registry import MODELS
    cfg = dict(type='EdgeAgreementLoss', filters=['prewitt'], p=3)
    assert isinstance(MODELS.build(cfg), EdgeAgreementLoss)
    mmdet_registry = pytest.importorskip('mmdet.registry')
    assert isinstance(mmdet_registry.MODELS.build(cfg), EdgeAgreementLoss)
    mmseg_registry = pytest.importorskip('mmseg.registry')
    assert isinstance(mmseg_registry.MODELS.build(cfg), EdgeAgreementLoss)


def test_mmseg_style_call_binary_segmentation():
    # mmseg's loss_decode calls loss(seg_logits, seg_label, weight=None,
    # ignore_index=255): a one-channel head with 0/1/255 labels works.
    logits = torch.zeros(1, 1, 3, 3, requires_grad=True)
    label = torch.tensor([[[0, 0, 0], [0, 1, 0], [0, 0, 0]]])
    loss = EdgeAgreementLoss(filters=['laplace'])(
        logits, label, weight=None, ignore_index=255)
    # sigmoid(0) = 0.5 everywhere: pred edges are the zero-padded border
    # response of a constant 0.5 (laplace: corners -1, edges -0.5,
    # centre 0); gt edges: impulse (centre -4, 4-neighbours 1).
    pred_e = np.array([[-1, -0.5, -1], [-0.5, 0, -0.5], [-1, -0.5, -1]])
    gt_e = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    assert loss.item() == pytest.approx(((pred_e - gt_e)**2).mean())
    loss.backward()


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------
def test_bad_input_messages():
    with pytest.raises(
            ValueError,
            match=r"unknown filter.*'sobol'.*"
            r"valid filters are \['sobel', 'prewitt'"):
        EdgeAgreementLoss(filters=['sobol'])
    with pytest.raises(ValueError, match='`filters`'):
        EdgeAgreementLoss(filters=[])
    for bad_p in (0, -1, float('nan')):
        with pytest.raises(ValueError, match='`p`'):
            EdgeAgreementLoss(p=bad_p)
    with pytest.raises(ValueError, match='`p`'):
        edge_agreement_loss(torch.zeros(1, 2, 2), torch.zeros(1, 2, 2), p=0)
    with pytest.raises(ValueError, match='`mode`'):
        EdgeAgreementLoss(mode='bce')
    with pytest.raises(ValueError, match='`loss_name`'):
        EdgeAgreementLoss(loss_name='edge')
    loss_fn = EdgeAgreementLoss()
    with pytest.raises(ValueError, match='size mismatch.*`target`'):
        loss_fn(torch.zeros(2, 1, 28, 28), torch.zeros(2, 56, 56))
    with pytest.raises(ValueError, match='`target` must hold mask values'):
        loss_fn(torch.zeros(1, 2, 2), torch.full((1, 2, 2), 2.0))
    with pytest.raises(ValueError, match='`target` must hold mask values'):
        loss_fn(torch.zeros(1, 2, 2), torch.full((1, 2, 2), -0.5))
    with pytest.raises(ValueError, match='`label`'):
        loss_fn(torch.zeros(2, 3, 4, 4), torch.zeros(2, 4, 4))
    with pytest.raises(ValueError, match='`label`'):
        loss_fn(
            torch.zeros(2, 3, 4, 4),
            torch.zeros(2, 4, 4),
            label=torch.tensor([0, 3]))
    with pytest.raises(ValueError, match='`pred`'):
        loss_fn(torch.zeros(4, 4), torch.zeros(4, 4))


# --------------------------------------------------------------------------
# Semantic form (mmseg loss_decode): per-class edges of the softmax against
# the one-hot label map
# --------------------------------------------------------------------------
def test_semantic_form_hand_values():
    # 1x3 map, 2 classes, logits 0 -> softmax 0.5 everywhere. The 4-neighbour
    # Laplacian of a row with zero padding is x[j-1] + x[j+1] - 4 x[j]:
    #   pred (both classes) [.5, .5, .5] -> [-1.5, -1, -1.5]
    #   class 0, gt [1, 1, 0]            -> [-3, -3, 1]
    #   class 1, gt [0, 0, 1]            -> [0, 1, -4]
    # squared differences are [2.25, 4, 6.25] for both classes -> 25 / 6.
    loss_fn = EdgeAgreementLoss(filters=['laplace'])
    logits = torch.zeros(1, 2, 1, 3)
    label = torch.tensor([[[0, 0, 1]]])
    loss = loss_fn(logits, label, weight=None, ignore_index=255)
    assert loss.item() == pytest.approx(25 / 6)
    # With an ignored pixel 3 in [0, 0, 1, 255, 0] only pixels 0 and 1 keep
    # a footprint free of it (so nothing at pixel 3 is read):
    #   pred [-1.5, -1]; class 0 gt [1, 1, 0, ., .] -> [-3, -3];
    #   class 1 gt [0, 0, 1, ., .] -> [0, 1]
    # squared differences [2.25, 4] in both classes -> 3.125.
    logits = torch.zeros(1, 2, 1, 5, requires_grad=True)
    label = torch.tensor([[[0, 0, 1, 255, 0]]])
    loss = loss_fn(logits, label, weight=None, ignore_index=255)
    assert loss.item() == pytest.approx(3.125)
    loss.backward()
    grad = logits.grad[0].abs().sum(0)[0]
    # pixels 0-2 reach a valid response; 3 (ignored) and 4 do not
    assert (grad[:3] > 0).all() and (grad[3:] == 0).all()
    # the ignored pixel's prediction does not matter
    other = torch.zeros(1, 2, 1, 5)
    other[0, 0, 0, 3] = 7.0
    assert loss_fn(
        other, label, ignore_index=255).item() == pytest.approx(3.125)
    # 'none' gives the per-pixel map, 0 at invalid pixels
    none = loss_fn(logits, label, ignore_index=255, reduction_override='none')
    assert none.shape == (1, 1, 5)
    assert none[0, 0].tolist() == pytest.approx([2.25, 4, 0, 0, 0])


def _np_semantic(logits, label, filters, p, smooth_pred, smooth_gt, ignore):
    """Numpy re-derivation: (N, H, W) per-pixel losses and validity."""
    n, c, h, w = logits.shape
    e = np.exp(logits - logits.max(1, keepdims=True))
    prob = e / e.sum(1, keepdims=True)
    kernels = [np.array(k, float) for f in filters for k in DEFINITIONS[f]]
    radius = 2 if (smooth_pred or smooth_gt) else 1
    out = np.zeros((n, h, w))
    valid = np.zeros((n, h, w), bool)
    for b in range(n):
        for i in range(h):
            for j in range(w):
                win = label[b,
                            max(i - radius, 0):i + radius + 1,
                            max(j - radius, 0):j + radius + 1]
                valid[b, i, j] = not (win == ignore).any()
        terms = np.zeros((c, len(kernels), h, w))
        for k in range(c):
            gt = ((label[b] == k) & (label[b] != ignore)).astype(float)
            pr = prob[b, k]
            if smooth_pred:
                pr = _np_correlate_same(pr, _np_gauss())
            if smooth_gt:
                gt = _np_correlate_same(gt, _np_gauss())
            for d, ker in enumerate(kernels):
                terms[k, d] = np.abs(
                    _np_correlate_same(pr, ker) -
                    _np_correlate_same(gt, ker))**p
        out[b] = terms.mean(axis=(0, 1))
    return out, valid


@pytest.mark.parametrize('smooth', [(False, False), (True, False),
                                    (False, True)])
@pytest.mark.parametrize('p', [1, 2, 3])
def test_semantic_form_against_numpy_rederivation(smooth, p):
    rng = np.random.default_rng(4)
    logits = rng.normal(scale=2.0, size=(2, 3, 6, 7))
    label = rng.integers(0, 3, size=(2, 6, 7))
    label[0, 0, 0] = label[1, 3, 4] = label[1, 5, 6] = 255
    filters = ['sobel', 'laplace']
    per_pixel, valid = _np_semantic(logits, label, filters, p, *smooth, 255)
    loss_fn = EdgeAgreementLoss(
        filters=filters,
        p=p,
        smooth_pred=smooth[0],
        smooth_gt=smooth[1],
        loss_weight=0.5)
    x = torch.tensor(logits, dtype=torch.float32)
    y = torch.tensor(label)
    got = loss_fn(x, y, weight=None, ignore_index=255)
    assert 0 < valid.sum() < valid.size
    assert got.item() == pytest.approx(
        0.5 * (per_pixel * valid).sum() / valid.sum(), rel=1e-5)
    none = loss_fn(x, y, ignore_index=255, reduction_override='none')
    np.testing.assert_allclose(
        none.numpy(), 0.5 * per_pixel * valid, rtol=1e-5, atol=1e-6)
    weight = rng.uniform(size=(2, 6, 7))
    summed = loss_fn(
        x,
        y,
        weight=torch.tensor(weight, dtype=torch.float32),
        ignore_index=255,
        reduction_override='sum')
    assert summed.item() == pytest.approx(
        0.5 * (per_pixel * valid * weight).sum(), rel=1e-5)
    assert loss_fn(
        x, y, ignore_index=255, avg_factor=10.0).item() == pytest.approx(
            0.5 * (per_pixel * valid).sum() / 10, rel=1e-5)
    # the functional core gives the same
    from mmboundary.models.losses import semantic_edge_agreement_loss
    assert semantic_edge_agreement_loss(
        x, y, filters=filters, p=p, smooth_pred=smooth[0],
        smooth_gt=smooth[1]).item() == pytest.approx(
            got.item() / 0.5, rel=1e-6)


def test_semantic_form_gradient_contract():
    torch.manual_seed(5)
    label = torch.randint(0, 4, (2, 8, 8))
    label[0, 2, 3] = 255
    logits = torch.randn(2, 4, 8, 8, requires_grad=True)
    loss_fn = EdgeAgreementLoss(filters=['sobel'], magnitude=True)
    loss = loss_fn(logits, label, weight=None, ignore_index=255)
    loss.backward()
    # reaches the logits, finite, nothing at the ignored pixel
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    assert (logits.grad[0, :, 2, 3] == 0).all()
    assert not label.is_floating_point()  # targets are constants
    # the one-hot prediction is the minimum: as the logits of the correct
    # class grow, the softmax tends to the one-hot target and the loss and
    # its gradient tend to 0
    onehot = torch.nn.functional.one_hot(label.clamp(max=3), 4)
    onehot = onehot.permute(0, 3, 1, 2).float()
    values = []
    for scale in (1.0, 3.0, 10.0, 40.0):
        x = (scale * (2 * onehot - 1)).requires_grad_()
        out = loss_fn(x, label, ignore_index=255)
        out.backward()
        values.append(out.item())
    assert all(a > b for a, b in zip(values, values[1:]))
    assert values[0] > 0.05 and values[-1] < 1e-6
    assert x.grad.abs().max().item() < 1e-6
    # a gradient step on the logits lowers the loss
    x = logits.detach().clone().requires_grad_()
    opt = torch.optim.SGD([x], lr=1.0)
    history = []
    for _ in range(5):
        opt.zero_grad()
        out = loss_fn(x, label, ignore_index=255)
        out.backward()
        opt.step()
        history.append(out.item())
    assert all(a > b for a, b in zip(history, history[1:]))


def test_semantic_form_all_ignored_and_bad_input():
    loss_fn = EdgeAgreementLoss()
    x = torch.randn(2, 3, 4, 5, requires_grad=True)
    out = loss_fn(x, torch.full((2, 4, 5), 255), ignore_index=255)
    assert out.item() == 0 and torch.isfinite(out) and out.requires_grad
    out.backward()
    assert torch.equal(x.grad, torch.zeros_like(x))
    with pytest.raises(ValueError, match=r'holds 3, outside the 3 classes'):
        loss_fn(x, torch.full((2, 4, 5), 3), ignore_index=255)
    with pytest.raises(ValueError, match='`seg_label` must have shape'):
        loss_fn(x, torch.zeros(2, 4, 6, dtype=torch.long))
    zeros = torch.zeros(2, 4, 5, dtype=torch.long)
    with pytest.raises(ValueError, match="needs mode='lp'"):
        EdgeAgreementLoss(mode='bce_mul')(x, zeros)
    with pytest.raises(ValueError, match='`weight` must have one entry'):
        loss_fn(x, zeros, weight=torch.ones(2))


def _seg_sample(label):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=label[None])
    sample.set_metainfo(
        dict(img_shape=tuple(label.shape), pad_shape=tuple(label.shape)))
    return sample


def test_semantic_form_in_an_mmseg_encoder_decoder_train_step():
    pytest.importorskip('mmseg')
    from mmengine.optim import OptimWrapper
    from mmengine.registry import DefaultScope
    from mmseg.models.utils import resize
    from mmseg.registry import MODELS as SEG_MODELS

    from mmboundary.models.losses import semantic_edge_agreement_loss
    cfg = dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor', size=(16, 16), seg_pad_val=255),
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            num_stages=2,
            base_channels=4,
            stem_channels=4,
            out_indices=(1, ),
            strides=(1, 2),
            dilations=(1, 1)),
        decode_head=dict(
            type='FCNHead',
            in_channels=8,
            channels=4,
            num_convs=1,
            num_classes=3,
            loss_decode=[
                dict(type='CrossEntropyLoss', loss_weight=1.0),
                dict(
                    type='EdgeAgreementLoss',
                    filters=['sobel'],
                    loss_weight=0.5,
                    loss_name='loss_edge')
            ]))
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = SEG_MODELS.build(cfg)
    label = torch.zeros(16, 16, dtype=torch.long)
    label[:, 8:] = 2
    label[4:10, 2:6] = 1
    label[0, :3] = 255
    samples = [_seg_sample(label), _seg_sample(label.flip(1))]
    # the head's loss equals the functional core on the resized logits
    head = model.decode_head
    feats = [torch.randn(2, 8, 8, 8)]
    seg_logits = head.forward(feats)
    losses = head.loss_by_feat(seg_logits, samples)
    up = resize(seg_logits, (16, 16), mode='bilinear', align_corners=False)
    ref = semantic_edge_agreement_loss(
        up,
        torch.stack([s.gt_sem_seg.data[0] for s in samples]),
        ignore_index=255)
    assert losses['loss_edge'].item() == pytest.approx(
        0.5 * ref.item(), rel=1e-5)
    # one training iteration of the whole segmentor
    data = dict(
        inputs=[torch.randint(0, 256, (3, 16, 16), dtype=torch.uint8)] * 2,
        data_samples=samples)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    before = head.conv_seg.weight.detach().clone()
    model.train()
    log_vars = model.train_step(data, optim)
    assert {'decode.loss_ce', 'decode.loss_edge'} <= set(log_vars)
    assert np.isfinite(float(log_vars['decode.loss_edge']))
    assert float(log_vars['decode.loss_edge']) > 0
    assert not torch.equal(head.conv_seg.weight, before)
