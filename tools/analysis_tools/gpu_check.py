# Copyright (c) mmboundary contributors. All rights reserved.
"""One device check: CUDA parity, AMP finiteness and the papers'-scale cost.

Two parts, one JSON (``--out``, default ``docs/results/gpu_check.json``):

* **parity**: every loss with its gradient, the AsyInst preprocessor, the
  affinity maps, the InverseForm distances, the DVIS mean shift, the GT
  targets computed on tensors and the boundary metrics, run on the same
  seeded inputs on the CPU (float32, the reference) and on ``--device``
  (float32), compared element by element with a stated tolerance
  (``|device - cpu| <= atol + rtol * |cpu|``); then on ``--device`` under
  fp16 and bf16 autocast (the floating inputs cast to that dtype, as a
  half-precision head hands them over), where every output and gradient
  must be finite (no NaN, no overflow);
* **cost**: iteration time (forward, losses, backward, SGD step; median of
  ``--reps`` after ``--warmup``) and peak device memory of each method next
  to its baseline, measured in one run, with and without AMP: DeepLabV3
  R50-D8 512x1024 with and without SEMEDA / InverseForm, Mask R-CNN R50
  1333x800 with and without Edge Agreement, BoxInst vs AsyInst R50
  512x1024, DVIS R50 at COCO-700. A case that cannot run here is listed as
  skipped with the reason, never dropped.

The OpenMMLab stack is imported only after a check: a missing package ends
the run with one line that says how to bring it (wheels, docs/gpu.md).
With mmcv-lite (mmcv without compiled ops, the route on a machine where
mmcv cannot be built) the script installs a shim for ``mmcv._ext``: RoIAlign
(avg, aligned) and NMS by torchvision and the sigmoid focal loss in torch,
each checked on the device against a brute-force reference; any other op
raises a clear error. ``--budget`` and ``--time-limit`` keep the run within
its device command; the JSON is rewritten after every parity case and cost
row, so a run cut short keeps what it measured (``status: partial``). Exit
status: 0, 1 when a parity case or shim check fails, 2 on bad input.

Examples::

    python tools/analysis_tools/gpu_check.py --device cuda      # the check
    python tools/analysis_tools/gpu_check.py --device cpu --quick \\
        --out /tmp/gpu_check.json                              # CI smoke

See docs/gpu.md for bringing the environment onto a GPU machine.
"""
import contextlib
import copy
import importlib.util
import json
import math
import os
import os.path as osp
import platform
import statistics
import sys
import time
import traceback
import types
from typing import Callable, Dict, List, Optional, Sequence

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
HERE = osp.dirname(osp.abspath(__file__))
OUT_JSON = 'docs/results/gpu_check.json'
#: (module, distribution(s)) the run needs beyond torch.
STACK = (('mmengine', ('mmengine', )), ('mmcv', ('mmcv', 'mmcv-lite')),
         ('mmdet', ('mmdet', )), ('mmseg', ('mmsegmentation', )),
         ('cityscapesscripts', ('cityscapesscripts', )))
BRING = ('bring it as a wheel: run `bash tools/misc/fetch_device_wheels.sh` '
         'where PyPI is reachable, carry `.whl` and install it there with '
         '`python3 -m pip install -q --no-index --no-deps --target /tmp/site '
         '.whl/*.whl && export PYTHONPATH=/tmp/site` (docs/gpu.md)')
AMP_DTYPES = {'fp16': torch.float16, 'bf16': torch.bfloat16}
#: seconds of timed repetitions after which a cost row stops repeating
ROW_CAP_S = 40.0
SHIM_OPS = ('nms', 'roi_align_forward', 'roi_align_backward',
            'sigmoid_focal_loss_forward', 'sigmoid_focal_loss_backward')


def _light(name: str):
    """Load ``mmboundary/utils/<name>.py`` by path.

    ``cli`` and ``progress`` need only the standard library; loading them
    without ``import mmboundary`` (which imports the whole OpenMMLab stack)
    lets this tool report a missing package in one line.
    """
    path = osp.join(REPO_ROOT, 'mmboundary', 'utils', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'_gpu_check_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cli = _light('cli')
progress = _light('progress')
UserError = cli.UserError

# --------------------------------------------------------------------------
# environment: the stack, the mmcv-lite shim
# --------------------------------------------------------------------------


def _dist_version(names: Sequence[str]) -> Optional[str]:
    from importlib import metadata
    for name in names:
        try:
            return f'{name} {metadata.version(name)}'
        except metadata.PackageNotFoundError:
            continue
    return None


def missing_packages() -> List[str]:
    """The stack's modules that cannot be found here (nothing imported)."""
    return [mod for mod, _ in STACK if importlib.util.find_spec(mod) is None]


def has_compiled_mmcv_ops() -> bool:
    """Whether ``mmcv._ext`` (mmcv's compiled ops) exists: False with
    mmcv-lite. Imports only ``mmcv`` (light)."""
    if 'mmcv._ext' in sys.modules:
        return sys.modules['mmcv._ext'] is not None
    return importlib.util.find_spec('mmcv._ext') is not None


class MissingMMCVOp:
    """Stands for a compiled mmcv op that mmcv-lite lacks: calling it
    raises one clear error (importing the module that names it works)."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(
            f"mmcv op '{self.name}' needs mmcv's compiled ops, which "
            "mmcv-lite lacks; gpu_check's shim provides only "
            f'{", ".join(SHIM_OPS)}. Install mmcv==2.1.0 built with ops for '
            'this torch to run it')


def focal_loss_elements(input: torch.Tensor, target: torch.Tensor,
                        weight: torch.Tensor, gamma: float,
                        alpha: float) -> torch.Tensor:
    """mmcv's ``sigmoid_focal_loss`` per element, in torch (fp32).

    Args:
        input (Tensor): (N, C) logits.
        target (Tensor): (N, ) labels in [0, C]; C is background.
        weight (Tensor): empty (per-class weights are not supported: mmdet
            passes none and weighs afterwards).
        gamma (float): focusing exponent.
        alpha (float): positive-class balance.

    Returns:
        Tensor: (N, C) ``-alpha (1-p)^gamma log p`` at the target class,
        ``-(1-alpha) p^gamma log(1-p)`` elsewhere (mmdet's
        ``py_sigmoid_focal_loss``, the op's formula with a stable log).
    """
    if weight is not None and weight.numel():
        raise NotImplementedError(
            "gpu_check's mmcv shim: sigmoid_focal_loss with per-class "
            'weights is not provided')
    x = input.float()
    num = x.shape[1]
    onehot = torch.nn.functional.one_hot(target.long(), num + 1)[:, :num]
    onehot = onehot.to(x.dtype)
    p = x.sigmoid()
    pt = (1 - p) * onehot + p * (1 - onehot)
    focal = (alpha * onehot + (1 - alpha) * (1 - onehot)) * pt.pow(gamma)
    return torch.nn.functional.binary_cross_entropy_with_logits(
        x, onehot, reduction='none') * focal


def make_mmcv_ext_shim(roi_align_fn: Optional[Callable] = None,
                       nms_fn: Optional[Callable] = None) -> types.ModuleType:
    """A stand-in for ``mmcv._ext`` (mmcv-lite has none).

    ``nms`` and ``roi_align_forward`` / ``roi_align_backward`` (avg pool)
    follow mmcv's calling conventions (in-place outputs, keyword names) and
    compute with torchvision's ops (mmcv's own
    ``RoIAlign(use_torchvision=True)`` relies on the same equivalence);
    ``sigmoid_focal_loss_forward`` / ``_backward`` (which mmdet's
    ``FocalLoss`` calls on CUDA tensors only) compute
    :func:`focal_loss_elements`. :func:`check_shim_ops` tests all three
    against brute-force references on the device; every other attribute is
    a :class:`MissingMMCVOp`.

    Args:
        roi_align_fn (callable, optional): ``(input, boxes, output_size,
            spatial_scale, sampling_ratio, aligned)``, torchvision's
            ``roi_align`` by default.
        nms_fn (callable, optional): ``(boxes, scores, iou_threshold)``,
            torchvision's ``nms`` by default.

    Raises:
        ImportError: torchvision is needed and missing.
    """
    if roi_align_fn is None or nms_fn is None:
        from torchvision import ops as tv_ops
        roi_align_fn = roi_align_fn or tv_ops.roi_align
        nms_fn = nms_fn or tv_ops.nms
    shim = types.ModuleType('mmcv._ext')
    shim.__doc__ = 'gpu_check shim for mmcv-lite: ' + ', '.join(SHIM_OPS)

    def roi_align(input, rois, height, width, spatial_scale, sampling_ratio,
                  pool_mode, aligned):
        if int(pool_mode) != 1:
            raise NotImplementedError(
                "gpu_check's mmcv shim: RoIAlign pool_mode='max' has no "
                'torchvision equivalent; only avg is provided')
        # float32 boxes: image coordinates lose pixels in fp16
        return roi_align_fn(input.float(), rois.float(),
                            (int(height), int(width)), float(spatial_scale),
                            int(sampling_ratio), bool(aligned))

    def nms(boxes, scores, iou_threshold, offset=0):
        if int(offset) != 0:
            raise NotImplementedError(
                "gpu_check's mmcv shim: nms with offset=1 (legacy boxes) "
                'has no torchvision equivalent')
        return nms_fn(boxes.float(), scores.float(), float(iou_threshold))

    def roi_align_forward(input, rois, output, argmax_y, argmax_x,
                          aligned_height, aligned_width, spatial_scale,
                          sampling_ratio, pool_mode, aligned):
        output.copy_(
            roi_align(input, rois, aligned_height, aligned_width,
                      spatial_scale, sampling_ratio, pool_mode, aligned))

    def roi_align_backward(grad_output, rois, argmax_y, argmax_x, grad_input,
                           aligned_height, aligned_width, spatial_scale,
                           sampling_ratio, pool_mode, aligned):
        # RoIAlign is linear in its input: the vector-Jacobian product at
        # zeros is the gradient at any input.
        with torch.enable_grad():
            x = torch.zeros(
                grad_input.shape,
                dtype=torch.float32,
                device=grad_input.device,
                requires_grad=True)
            y = roi_align(x, rois, aligned_height, aligned_width,
                          spatial_scale, sampling_ratio, pool_mode, aligned)
            grad, = torch.autograd.grad(y, x, grad_output.to(y.dtype))
        grad_input.add_(grad.to(grad_input.dtype))

    def sigmoid_focal_loss_forward(input, target, weight, output, gamma,
                                   alpha):
        output.copy_(focal_loss_elements(input, target, weight, gamma, alpha))

    def sigmoid_focal_loss_backward(input, target, weight, grad_input, gamma,
                                    alpha):
        # mmcv's op fills d(elementwise loss)/d(input); its Function then
        # multiplies by grad_output
        with torch.enable_grad():
            x = input.detach().float().requires_grad_()
            loss = focal_loss_elements(x, target, weight, gamma, alpha)
            grad, = torch.autograd.grad(loss.sum(), x)
        grad_input.copy_(grad)

    shim.nms = nms
    shim.roi_align_forward = roi_align_forward
    shim.roi_align_backward = roi_align_backward
    shim.sigmoid_focal_loss_forward = sigmoid_focal_loss_forward
    shim.sigmoid_focal_loss_backward = sigmoid_focal_loss_backward

    def __getattr__(name):
        if name.startswith('_'):
            raise AttributeError(name)
        return MissingMMCVOp(name)

    shim.__getattr__ = __getattr__
    return shim


def prepare_stack(use_shim: bool = True) -> Dict:
    """Import the OpenMMLab stack and mmboundary, with the mmcv-lite shim
    where mmcv has no compiled ops.

    Returns:
        dict: what was found (versions, ``mmcv_ops``: 'compiled', 'shim' or
        'none').

    Raises:
        UserError: a package is missing (one line: which, and how to bring
            it), or mmcv lacks its ops and the shim cannot be made.
    """
    missing = missing_packages()
    if missing:
        raise UserError(
            f'gpu_check: missing package(s) {", ".join(missing)} (the run '
            f'needs mmengine, mmcv or mmcv-lite, mmdet, mmsegmentation and '
            f'cityscapesscripts); {BRING}')
    info = dict(mmcv_ops='compiled')
    if not has_compiled_mmcv_ops():
        if not use_shim:
            raise UserError(
                "gpu_check: mmcv here has no compiled ops (mmcv-lite) and "
                '--no-shim was given; drop --no-shim to use the torchvision '
                'shim, or install mmcv==2.1.0 built with ops')
        try:
            sys.modules['mmcv._ext'] = make_mmcv_ext_shim()
        except ImportError as err:
            raise UserError(
                f'gpu_check: mmcv here has no compiled ops (mmcv-lite) and '
                f'the shim needs torchvision ({err}); install torchvision '
                f'matching torch {torch.__version__}') from None
        # mmboundary's version check accepts mmcv-lite only when asked to
        os.environ['MMB_MMCV_LITE'] = '1'
        info['mmcv_ops'] = 'shim'
    if REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)
    try:
        import mmboundary  # noqa: F401
    except ImportError as err:
        message = ' '.join(str(err).split())
        raise UserError(f'gpu_check: import mmboundary failed: {message}; '
                        f'{BRING}') from None
    return info


def environment(device: torch.device) -> Dict:
    """Versions and the device, for the record."""
    env = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        cuda=torch.version.cuda,
        cudnn=(torch.backends.cudnn.version()
               if torch.backends.cudnn.is_available() else None),
        device=str(device),
        device_name=(torch.cuda.get_device_name(device)
                     if device.type == 'cuda' else platform.processor()
                     or platform.machine()),
        threads=torch.get_num_threads())
    for mod, dists in STACK + (('numpy', ('numpy', )), ('torchvision',
                                                        ('torchvision', ))):
        env[mod] = _dist_version(dists)
    return env


# --------------------------------------------------------------------------
# parity: comparison
# --------------------------------------------------------------------------


def _as_float64(x) -> torch.Tensor:
    x = torch.as_tensor(x).detach().cpu()
    return x.double() if x.is_floating_point() else x.long()


def compare_outputs(ref: Dict[str, torch.Tensor], out: Dict[str, torch.Tensor],
                    rtol: float, atol: float) -> Dict:
    """Compare a device run with the CPU reference, element by element.

    Args:
        ref (dict): name -> tensor, the CPU float32 run.
        out (dict): name -> tensor, the device run.
        rtol (float): relative tolerance.
        atol (float): absolute tolerance; an element passes when
            ``|out - ref| <= atol + rtol * |ref|`` (integers: equality).

    Returns:
        dict: ``ok`` (bool), ``max_abs_diff`` (float, over all outputs),
        ``worst`` (the output with the largest excess over its tolerance)
        and ``problems`` (list of str, empty when ok). NaN and inf must
        sit at the same elements in both runs (a metric's NaN marks an
        absent class).
    """
    problems, max_diff, worst, worst_excess = [], 0.0, None, -math.inf
    for key in sorted(set(ref) | set(out)):
        if key not in out or key not in ref:
            problems.append(f'{key}: only in the '
                            f'{"CPU" if key in ref else "device"} run')
            continue
        a, b = _as_float64(ref[key]), _as_float64(out[key])
        if a.shape != b.shape:
            problems.append(f'{key}: shape {tuple(b.shape)} on the device, '
                            f'{tuple(a.shape)} on the CPU')
            continue
        if a.numel() == 0:
            continue
        if not a.is_floating_point():
            diff = (a != b).sum().item()
            if diff:
                problems.append(f'{key}: {diff} of {a.numel()} integer '
                                'elements differ')
                excess = math.inf
            else:
                excess = -1.0
            if excess > worst_excess:
                worst, worst_excess = key, excess
            continue
        fin_a, fin_b = torch.isfinite(a), torch.isfinite(b)
        if (fin_a & ~fin_b).any():
            problems.append(f'{key}: not finite on the device')
            continue
        if (~fin_a & fin_b).any():
            problems.append(f'{key}: the CPU reference is not finite')
            continue
        if not torch.equal(a[~fin_a].nan_to_num(), b[~fin_b].nan_to_num()):
            problems.append(f'{key}: NaN and inf differ')
            continue
        a, b = a[fin_a], b[fin_b]  # NaN (e.g. an absent class) alike
        if a.numel() == 0:
            continue
        diff = (a - b).abs()
        allowed = atol + rtol * a.abs()
        max_diff = max(max_diff, diff.max().item())
        excess = (diff - allowed).max().item()
        if excess > worst_excess:
            worst, worst_excess = key, excess
        if excess > 0:
            bad = (diff > allowed).sum().item()
            problems.append(f'{key}: {bad} of {a.numel()} elements beyond '
                            f'the tolerance (max |diff| '
                            f'{diff.max().item():.3g})')
    return dict(
        ok=not problems, max_abs_diff=max_diff, worst=worst, problems=problems)


def nonfinite_outputs(out: Dict[str, torch.Tensor]) -> List[str]:
    """Names of the floating outputs holding NaN or inf."""
    return [
        k for k, v in sorted(out.items())
        if torch.is_tensor(v) and v.is_floating_point()
        and not torch.isfinite(v.detach().float()).all()
    ]


# --------------------------------------------------------------------------
# parity: the cases
# --------------------------------------------------------------------------


class Case:
    """One parity case.

    Args:
        name (str): shown in the JSON.
        what (str): the module(s) it runs.
        make (callable): ``make(gen) -> dict`` of CPU inputs (seeded by the
            ``torch.Generator``); floating tensors named in ``grad`` get
            gradients.
        run (callable): ``run(device, **inputs) -> dict`` of outputs (the
            first key named ``loss`` is back-propagated when ``grad``).
        grad (tuple[str]): inputs to differentiate.
        rtol, atol (float): the tolerance of the float32 comparison.
        amp (bool): whether the autocast runs apply.
        amp_cast (tuple[str]): floating inputs cast to the autocast dtype
            (defaults to ``grad``).
    """

    def __init__(self,
                 name: str,
                 what: str,
                 make: Callable,
                 run: Callable,
                 grad: Sequence[str] = (),
                 rtol: float = 1e-4,
                 atol: float = 1e-5,
                 amp: bool = True,
                 amp_cast: Optional[Sequence[str]] = None):
        self.name, self.what, self.make, self.run = name, what, make, run
        self.grad, self.rtol, self.atol, self.amp = tuple(
            grad), rtol, atol, amp
        self.amp_cast = self.grad if amp_cast is None else tuple(amp_cast)


def autocast(device: torch.device, dtype: Optional[torch.dtype]):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def execute(case: Case,
            device: torch.device,
            amp: Optional[torch.dtype] = None,
            seed: int = 0) -> Dict[str, torch.Tensor]:
    """Run one case on ``device`` (under ``amp`` autocast if given).

    Returns:
        dict: the outputs and ``grad_<input>`` gradients, detached.
    """
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    inputs = case.make(gen)
    moved = {}
    for key, value in inputs.items():
        if torch.is_tensor(value):
            value = value.to(device)
            if amp is not None and key in case.amp_cast:
                value = value.to(amp)
            if key in case.grad:
                value = value.detach().requires_grad_()
        moved[key] = value
    with autocast(device, amp):
        out = case.run(device, **moved)
    out = dict(out)
    if case.grad:
        loss = out['loss']
        grads = torch.autograd.grad(
            loss.float().sum(), [moved[k] for k in case.grad],
            allow_unused=True)
        for key, g in zip(case.grad, grads):
            out[f'grad_{key}'] = (
                torch.zeros_like(moved[key]) if g is None else g)
    return {
        k: (v.detach() if torch.is_tensor(v) else torch.as_tensor(v))
        for k, v in out.items()
    }


def _ids_map(gen, b, h, w, n=4, ignore=True):
    """(b, h, w) int64 instance ids: n rectangles on background 0."""
    ids = torch.zeros(b, h, w, dtype=torch.long)
    for i in range(b):
        for k in range(1, n + 1):
            y0 = int(torch.randint(0, h - 8, (1, ), generator=gen))
            x0 = int(torch.randint(0, w - 8, (1, ), generator=gen))
            dy = int(torch.randint(6, h // 2, (1, ), generator=gen))
            dx = int(torch.randint(6, w // 2, (1, ), generator=gen))
            ids[i, y0:y0 + dy, x0:x0 + dx] = k
        if ignore:
            ids[i, :2, :] = -1
    return ids


def _blocky_labels(gen, b, h, w, num_classes, block=8, ignore=255):
    small = torch.randint(
        0, num_classes, (b, h // block + 1, w // block + 1), generator=gen)
    label = small.repeat_interleave(block, 1).repeat_interleave(block, 2)
    label = label[:, :h, :w].contiguous()
    label[:, -3:, :5] = ignore
    return label


def _cases(quick: bool) -> List[Case]:
    """Every parity case (inputs are small either way; ``quick`` trims the
    map sizes)."""
    from mmboundary.models.losses import (AsymmetricAffinityLoss,
                                          BoundaryBCELoss, DVISBinaryLoss,
                                          EdgeAgreementLoss, InverseFormLoss,
                                          MumfordShahLoss,
                                          PermutationInvariantLoss,
                                          QuantizationLoss, SemedaLoss)
    from mmboundary.models.utils.affinity import (color_affinity,
                                                  depth_grad_affinity,
                                                  srgb_bytes_to_lab)
    from mmboundary.models.utils.inverse_net import (euclidean_distance,
                                                     geodesic_distance,
                                                     params_to_matrix)
    from mmboundary.models.utils.mean_shift import (MeanShiftDiscretizer,
                                                    blurring_mean_shift)
    from mmboundary.utils.label_boundary import (edge_target, label_band_torch,
                                                 near_mask_torch,
                                                 sobel_boundary_target)
    h, w = (32, 48) if quick else (64, 96)
    cases = []

    # Edge Agreement: plain Sobel L2, and the magnitude (sqrt) of smoothed
    # Sobel + Laplace edges, the fp16-fragile path
    def ea(filters, **kw):

        def run(device, pred, target, label):
            loss = EdgeAgreementLoss(filters=filters, **kw).to(device)
            return dict(loss=loss(pred, target, label))

        return run

    def ea_make(gen):
        return dict(
            pred=torch.randn(6, 3, 28, 28, generator=gen) * 6,
            target=(torch.rand(6, 28, 28, generator=gen) > 0.5).float(),
            label=torch.randint(0, 3, (6, ), generator=gen))

    cases.append(
        Case(
            'edge_agreement_sobel_l2',
            'EdgeAgreementLoss (sobel, p=2)',
            ea_make,
            ea(('sobel', )),
            grad=('pred', )))
    cases.append(
        Case(
            'edge_agreement_magnitude',
            'EdgeAgreementLoss (sobel+laplace, magnitude, smoothed, p=1)',
            ea_make,
            ea(('sobel', 'laplace'),
               magnitude=True,
               smooth_pred=True,
               smooth_gt=True,
               p=1.0),
            grad=('pred', )))

    # SEMEDA: frozen edge net with seeded random weights, built on the CPU
    # so that both runs hold the same weights
    def semeda_run(device, pred, target):
        torch.manual_seed(1)
        loss = SemedaLoss(num_classes=5)
        loss.edge_net.net.pretrained.fill_(1)
        return dict(loss=loss.to(device)(pred, target))

    cases.append(
        Case(
            'semeda', 'SemedaLoss (frozen SemanticEdgeNet, L1 embeddings)',
            lambda g: dict(
                pred=torch.randn(2, 5, h, w, generator=g) * 4,
                target=_blocky_labels(g, 2, h, w, 5)), semeda_run, ('pred', )))

    # InverseForm: both distances (the geodesic one projects onto SO(3))
    def inverseform(distance):

        def run(device, pred, target):
            torch.manual_seed(2)
            loss = InverseFormLoss(
                distance=distance,
                inverse_net=dict(tile_size=32, hidden=(384, 64), in_pool=1))
            torch.nn.init.normal_(loss.inverse_net.net.fc3.weight, std=0.05)
            loss.inverse_net.net.pretrained.fill_(1)
            return dict(loss=loss.to(device)(pred, target))

        return run

    def if_make(g):
        label = _blocky_labels(g, 2, 64, 96, 3, block=16, ignore=0)
        target = sobel_boundary_target(label).long()
        target[:, :2, :4] = 255
        return dict(
            pred=torch.randn(2, 1, 64, 96, generator=g) * 3, target=target)

    for distance in ('euclidean', 'geodesic'):
        cases.append(
            Case(f'inverseform_{distance}',
                 f'InverseFormLoss (distance={distance}, random InverseNet)',
                 if_make, inverseform(distance), ('pred', )))

    def dist_make(g):
        r = torch.randn(5, 6, generator=g) * 0.2
        r[:, 0] += 1
        r[:, 4] += 1
        return dict(r=r)

    def dist_run(device, r):
        theta = params_to_matrix(r)
        euc = euclidean_distance(theta)
        geo = geodesic_distance(theta, lam=0.1)
        return dict(loss=euc.sum() + geo.sum(), euclidean=euc, geodesic=geo)

    cases.append(
        Case(
            'inverse_distances',
            'params_to_matrix, euclidean_distance, geodesic_distance',
            dist_make,
            dist_run, ('r', ),
            rtol=1e-4,
            atol=1e-5))

    cases.append(
        Case(
            'boundary_bce', 'BoundaryBCELoss (batch-balanced)', lambda g: dict(
                pred=torch.randn(2, 1, h, w, generator=g) * 5,
                target=torch.randint(0, 2, (2, h, w), generator=g)),
            lambda device, pred, target: dict(loss=BoundaryBCELoss().to(device)
                                              (pred, target)), ('pred', )))

    # DVIS: the binary loss, the pair loss (custom autograd Function), the
    # two map regularisers
    def dvis_make(g):
        return dict(
            pred=torch.randn(2, 1, h, w, generator=g).abs() * 3,
            ids=_ids_map(g, 2, h, w))

    cases.append(
        Case(
            'dvis_binary', 'DVISBinaryLoss', dvis_make,
            lambda device, pred, ids: dict(loss=DVISBinaryLoss().to(device)
                                           (pred, ids)), ('pred', )))

    def pair_run(device, pred, ids):
        loss = PermutationInvariantLoss(
            window=(17, 17), dense_radius=2, dilation=4).to(device)
        return dict(loss=loss(torch.relu(pred), ids))

    cases.append(
        Case('dvis_pair', 'PermutationInvariantLoss (_PairLossFunction)',
             dvis_make, pair_run, ('pred', )))

    def regular_run(device, pred, ids):
        valid = ids >= 0
        ms = MumfordShahLoss().to(device)(pred, valid)
        quant = QuantizationLoss().to(device)(pred, valid)
        return dict(loss=ms + quant, mumford_shah=ms, quantization=quant)

    cases.append(
        Case('dvis_regularisers', 'MumfordShahLoss + QuantizationLoss',
             dvis_make, regular_run, ('pred', )))

    # AsyInst: the loss, the affinity maps (exponentials), the preprocessor
    def asym_run(device, logits, edges):
        loss = AsymmetricAffinityLoss(
            delta=2.5, gamma=1.5, kernel_size=3, dilation=2).to(device)
        return dict(loss=loss(logits, edges))

    cases.append(
        Case(
            'asymmetric_affinity', 'AsymmetricAffinityLoss (delta 2.5, '
            'gamma 1.5)', lambda g: dict(
                logits=torch.randn(4, h, w, generator=g) * 8,
                edges=(torch.rand(4, 8, h, w, generator=g) > 0.3).float()),
            asym_run, ('logits', )))

    def affinity_make(g):
        rgb = torch.randint(
            0, 256, (2, 3, h, w), generator=g, dtype=torch.uint8)
        yy, xx = torch.meshgrid(
            torch.arange(h).float(), torch.arange(w).float(), indexing='ij')
        depth = (5 + 0.01 * xx + 0.02 * yy).expand(2, 1, h, w).clone()
        depth += 0.3 * (torch.rand(2, 1, h, w, generator=g) > 0.9)
        valid = torch.ones(2, 1, h, w)
        valid[:, :, -4:] = 0
        return dict(rgb=rgb, depth=depth, valid=valid)

    def affinity_run(device, rgb, depth, valid):
        lab = srgb_bytes_to_lab(rgb).float()
        color = color_affinity(lab, valid, 3, 2, 0.3)
        dep = depth_grad_affinity(depth, valid.bool(), 3, 2, 0.01)
        return dict(lab=lab, color=color, depth=dep)

    cases.append(
        Case(
            'affinity_maps',
            'srgb_bytes_to_lab, color_affinity, depth_grad_affinity',
            affinity_make,
            affinity_run,
            rtol=1e-4,
            atol=1e-4,
            amp_cast=('depth', )))
    cases.append(
        Case(
            'asyinst_preprocessor',
            'AsyInstDataPreprocessor (training, colour + depth)',
            lambda g: dict(
                seed=int(torch.randint(0, 1000, (1, ), generator=g))),
            _asyinst_preprocessor_run,
            rtol=1e-4,
            atol=1e-4))

    # DVIS mean shift on a piecewise-constant map with noise
    def ms_make(g):
        ids = _ids_map(g, 2, h, w, n=3, ignore=False)
        x = ids.float()[:, None] * 1.5 + 0.05 * torch.randn(
            2, 1, h, w, generator=g)
        valid = torch.ones(2, 1, h, w, dtype=torch.bool)
        valid[:, :, :, -3:] = False
        return dict(x=x.clamp(min=0), valid=valid)

    def ms_run(device, x, valid):
        shifted = blurring_mean_shift(x, 5, 0.9, 4, valid)
        found = MeanShiftDiscretizer(
            bandwidths=(0.4, 0.9), spatial_radii=(5, 7))(x, valid)
        out = dict(shifted=shifted.float())
        for b, inst in enumerate(found):
            order = torch.argsort(inst.means.float().cpu(), stable=True)
            out[f'img{b}_masks'] = inst.masks.cpu()[order].long()
            out[f'img{b}_areas'] = inst.areas.cpu()[order].long()
        return out

    cases.append(
        Case(
            'dvis_mean_shift',
            'blurring_mean_shift, MeanShiftDiscretizer',
            ms_make,
            ms_run,
            rtol=1e-4,
            atol=1e-4,
            amp_cast=('x', )))

    # GT targets computed on tensors (the losses' on-device transforms)
    def gt_run(device, label, mask):
        return dict(
            edge=edge_target(label),
            sobel=sobel_boundary_target(label),
            band=label_band_torch(label, 2),
            near=near_mask_torch(mask, 3))

    cases.append(
        Case(
            'gt_targets_on_tensors', 'edge_target, sobel_boundary_target, '
            'label_band_torch, near_mask_torch',
            lambda g: dict(
                label=_blocky_labels(g, 2, h, w, 6),
                mask=torch.rand(2, h, w, generator=g) > 0.8),
            gt_run,
            amp=False))

    cases.append(
        Case(
            'boundary_metrics', 'boundary_iou, boundary_f_score, '
            'mean_boundary_accuracy, semantic_boundary_stats (tensors on the '
            'device)',
            lambda g: dict(
                gt=_blocky_labels(g, 1, h, w, 4)[0],
                pred=_blocky_labels(g, 1, h, w, 4)[0]),
            _metrics_run,
            amp=False))
    cases.append(
        Case(
            'boundary_metric_class',
            'BoundaryMetric.process / compute_metrics (device tensors)',
            lambda g: dict(
                gt=_blocky_labels(g, 1, h, w, 4)[0],
                pred=_blocky_labels(g, 1, h, w, 4)[0]),
            _metric_class_run,
            amp=False))
    return cases


def _asyinst_preprocessor_run(device, seed):
    """AsyInstDataPreprocessor (training, colour + depth) on the batch of
    benchmark_asyinst (blocky images, boxes, a depth ramp with holes)."""
    import numpy as np
    sys.path.insert(0, HERE)
    import benchmark_asyinst as bench

    from mmboundary.registry import MMDET_MODELS
    args = types.SimpleNamespace(batch=2, height=160, width=256, boxes=3)
    data = bench.make_batch(args, np.random.default_rng(seed))
    pre = MMDET_MODELS.build(
        dict(
            type='AsyInstDataPreprocessor',
            mask_stride=4,
            depth_thresh=0.01,
            **bench.NORM)).to(device)
    out = pre(data, training=True)
    result = dict(inputs=out['inputs'].float())
    for i, s in enumerate(out['data_samples']):
        gt = s.gt_instances
        result[f'img{i}_color'] = gt.pairwise_masks.float()
        result[f'img{i}_depth'] = gt.depth_pairwise_masks.float()
        result[f'img{i}_box_masks'] = torch.as_tensor(gt.masks.masks).long()
    return result


def _metric_class_run(device, gt, pred):
    from mmboundary.evaluation.metrics import BoundaryMetric
    metric = BoundaryMetric()
    metric.dataset_meta = dict(classes=('a', 'b', 'c', 'd'))
    sample = dict(
        pred_sem_seg=dict(data=pred[None]), gt_sem_seg=dict(data=gt[None]))
    metric.process({}, [sample, sample])
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # no per-class table in the check's output
    try:
        scores = metric.compute_metrics(metric.results)
    finally:
        logger.setLevel(level)
    return {k: torch.tensor(float(v)) for k, v in scores.items()}


def _metrics_run(device, gt, pred):
    from mmboundary.evaluation.functional import (boundary_f_score,
                                                  boundary_iou,
                                                  mean_boundary_accuracy,
                                                  semantic_boundary_stats)
    out = dict(
        biou=torch.tensor(boundary_iou(gt == 1, pred == 1, width=2)),
        bf=torch.tensor(boundary_f_score(gt == 2, pred == 2, tolerance=2)),
        mba=torch.tensor(mean_boundary_accuracy(gt, pred)))
    stats = semantic_boundary_stats(gt, pred, num_classes=4)
    for key, value in stats.items():
        out[f'stats_{key}'] = torch.as_tensor(value)
    return out


def brute_roi_align(x: torch.Tensor, rois: torch.Tensor, size: int,
                    scale: float, sampling: int) -> torch.Tensor:
    """mmcv's RoIAlign (avg, aligned=True) by its definition, in loops:
    the mean of bilinear samples on a ``sampling x sampling`` grid per bin
    (zero outside the map, clamped within a pixel of it). Reference only.
    """
    n, c, hh, ww = x.shape
    out = torch.zeros(len(rois), c, size, size, dtype=torch.float64)
    xd = x.double()

    def bilinear(img, y, xx):
        if y < -1.0 or y > hh or xx < -1.0 or xx > ww:
            return torch.zeros(c, dtype=torch.float64)
        y, xx = max(y, 0.0), max(xx, 0.0)
        y0, x0 = int(y), int(xx)
        if y0 >= hh - 1:
            y0 = y1 = hh - 1
            y = float(y0)
        else:
            y1 = y0 + 1
        if x0 >= ww - 1:
            x0 = x1 = ww - 1
            xx = float(x0)
        else:
            x1 = x0 + 1
        ly, lx = y - y0, xx - x0
        return ((1 - ly) * (1 - lx) * img[:, y0, x0] +
                (1 - ly) * lx * img[:, y0, x1] + ly *
                (1 - lx) * img[:, y1, x0] + ly * lx * img[:, y1, x1])

    for k, (b, x1, y1, x2, y2) in enumerate(rois.double().tolist()):
        x1, y1 = x1 * scale - 0.5, y1 * scale - 0.5
        x2, y2 = x2 * scale - 0.5, y2 * scale - 0.5
        bh, bw = (y2 - y1) / size, (x2 - x1) / size
        for py in range(size):
            for px in range(size):
                acc = torch.zeros(c, dtype=torch.float64)
                for iy in range(sampling):
                    for ix in range(sampling):
                        yy = y1 + py * bh + (iy + 0.5) * bh / sampling
                        xx = x1 + px * bw + (ix + 0.5) * bw / sampling
                        acc += bilinear(xd[int(b)], yy, xx)
                out[k, :, py, px] = acc / sampling**2
    return out


def brute_focal(x: torch.Tensor, target: torch.Tensor, gamma: float,
                alpha: float):
    """mmcv's sigmoid focal loss kernel, per element, in float64: the loss
    and its analytic derivative (``log`` of ``max(p, FLT_MIN)``).
    Reference only.

    Returns:
        tuple[Tensor, Tensor]: (N, C) loss, (N, C) d loss / d x.
    """
    p = x.double().sigmoid()
    is_t = torch.arange(x.shape[1])[None] == target.cpu()[:, None]
    tiny = torch.finfo(torch.float32).tiny
    log_p, log_q = p.clamp(min=tiny).log(), (1 - p).clamp(min=tiny).log()
    pos = -alpha * (1 - p)**gamma
    neg = -(1 - alpha) * p**gamma
    loss = torch.where(is_t, pos * log_p, neg * log_q)
    grad = torch.where(is_t, pos * (1 - p - gamma * p * log_p),
                       neg * (gamma * (1 - p) * log_q - p))
    return loss, grad


def check_shim_ops(device: torch.device) -> Dict:
    """The shim's RoIAlign, NMS and sigmoid focal loss on ``device`` against
    brute-force references (RoIAlign by its definition, NMS by greedy
    suppression, the focal loss by the kernel's formulas)."""
    from mmcv.ops import batched_nms, roi_align, sigmoid_focal_loss
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(2, 3, 20, 24, generator=gen)
    rois = torch.tensor([[0, 2.3, 1.7, 15.2, 12.9], [1, 0.0, 0.0, 23.9, 19.9],
                         [1, -3.0, 5.5, 8.0, 30.0], [0, 10.1, 3.3, 10.9, 4.0]])
    ref = brute_roi_align(x, rois, 5, 0.5, 2)
    got = roi_align(
        x.to(device), rois.to(device), (5, 5), 0.5, 2, 'avg', True).cpu()
    # the gradient: autograd through the float64 reference
    xg = x.clone().to(device).requires_grad_()
    roi_align(xg, rois.to(device), (5, 5), 0.5, 2, 'avg',
              True).sum().backward()
    x64 = x.double().requires_grad_()
    brute_roi_align(x64, rois, 5, 0.5, 2).sum().backward()
    boxes = torch.rand(30, 2, generator=gen) * 50
    boxes = torch.cat(
        [boxes, boxes + 5 + torch.rand(30, 2, generator=gen) * 20], 1)
    scores = torch.rand(30, generator=gen)
    idxs = torch.randint(0, 2, (30, ), generator=gen)
    _, keep = batched_nms(
        boxes.to(device), scores.to(device), idxs.to(device),
        dict(type='nms', iou_threshold=0.5))
    keep_ref = _greedy_nms(boxes, scores, idxs, 0.5)
    logits = torch.randn(40, 6, generator=gen) * 4
    labels = torch.randint(0, 7, (40, ), generator=gen)  # 6: background
    xf = logits.to(device).requires_grad_()
    focal = sigmoid_focal_loss(xf, labels.to(device), 2.0, 0.25, None, 'none')
    focal.sum().backward()
    focal_ref, focal_grad = brute_focal(logits, labels, 2.0, 0.25)
    return dict(
        sigmoid_focal_loss=compare_outputs(
            dict(out=focal_ref, grad=focal_grad),
            dict(out=focal, grad=xf.grad), 1e-5, 1e-6),
        roi_align=compare_outputs(
            dict(out=ref, grad=x64.grad), dict(out=got, grad=xg.grad), 1e-5,
            1e-5),
        nms=dict(
            ok=sorted(keep.cpu().tolist()) == sorted(keep_ref),
            kept=len(keep_ref)))


def _greedy_nms(boxes, scores, idxs, thr) -> List[int]:
    order = torch.argsort(scores, descending=True).tolist()
    kept = []
    for i in order:
        ok = True
        for j in kept:
            if idxs[i] != idxs[j]:
                continue
            lt = torch.max(boxes[i, :2], boxes[j, :2])
            rb = torch.min(boxes[i, 2:], boxes[j, 2:])
            inter = (rb - lt).clamp(min=0).prod().item()
            area_i = (boxes[i, 2:] - boxes[i, :2]).prod().item()
            area_j = (boxes[j, 2:] - boxes[j, :2]).prod().item()
            if inter / (area_i + area_j - inter) > thr:
                ok = False
                break
        if ok:
            kept.append(i)
    return kept


def run_parity(cases: Sequence[Case], device: torch.device,
               amp_names: Sequence[str], record: Callable[[Dict], None],
               quiet: bool) -> List[Dict]:
    """Run every case; ``record`` is called after each with its row."""
    rows = []
    for case in progress.track(cases, desc='parity', quiet=quiet):
        row = dict(
            name=case.name,
            what=case.what,
            rtol=case.rtol,
            atol=case.atol,
            fp32=None,
            amp={})
        try:
            ref = execute(case, torch.device('cpu'))
            out = execute(case, device)
            row['fp32'] = compare_outputs(ref, out, case.rtol, case.atol)
        except Exception as err:  # recorded, the next case runs
            row['fp32'] = dict(ok=False, error=_error(err))
        for amp in amp_names:
            if not case.amp:
                row['amp'][amp] = dict(status='n/a (integer or boolean '
                                       'inputs)')
                continue
            try:
                got = execute(case, device, AMP_DTYPES[amp])
                bad = nonfinite_outputs(got)
                row['amp'][amp] = dict(
                    status='finite' if not bad else 'NOT finite',
                    nonfinite=bad)
            except Exception as err:
                row['amp'][amp] = dict(status='error', error=_error(err))
        rows.append(row)
        record(row)
    return rows


def _error(err: BaseException) -> str:
    where = traceback.extract_tb(err.__traceback__)[-1]
    return (f'{type(err).__name__}: {" ".join(str(err).split())[:300]} '
            f'({osp.basename(where.filename)}:{where.lineno})')


# --------------------------------------------------------------------------
# cost at the papers' scale
# --------------------------------------------------------------------------


def _freeze_bn(model):
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()


def _sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _deeplabv3(num_classes: int, quick: bool):
    """mmseg's DeepLabV3 R50-D8 (BN instead of SyncBN, no download); with
    ``quick`` a ResNet-18 backbone and thin heads (the CI smoke run)."""
    import mmseg
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = Config.fromfile(
        osp.join(
            osp.dirname(mmseg.__file__), '.mim', 'configs', '_base_', 'models',
            'deeplabv3_r50-d8.py'))
    model = cfg.model
    model.pretrained = None
    for part in (model.backbone, model.decode_head, model.auxiliary_head):
        part.norm_cfg = dict(type='BN', requires_grad=True)
    model.decode_head.num_classes = num_classes
    model.auxiliary_head.num_classes = num_classes
    if quick:
        model.backbone.depth = 18
        model.decode_head.update(in_channels=512, channels=32)
        model.auxiliary_head.update(in_channels=256, channels=32)
    return MODELS.build(model)


def _seg_variants(device, quick):
    """DeepLabV3 R50-D8 (mmseg, BN frozen): CE, CE + SEMEDA, and the
    InverseForm boundary head (BCE + InverseForm) as an auxiliary head."""
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample

    from mmboundary.models.losses import InverseFormLoss, SemedaLoss
    from mmboundary.utils.label_boundary import sobel_boundary_target
    h, w = (32, 64) if quick else (512, 1024)
    batch, classes = (1, 19) if quick else (2, 19)
    torch.manual_seed(0)
    model = _deeplabv3(classes, quick).to(device).train()
    _freeze_bn(model)
    semeda = SemedaLoss(classes)
    semeda.edge_net.net.pretrained.fill_(1)
    bhead = MODELS.build(
        dict(
            type='BoundaryHead',
            in_channels=64 if quick else 256,  # ResNet stage 1
            in_index=0,
            channels=64,
            num_convs=1,
            kernel_size=3,
            dropout_ratio=0.0,
            norm_cfg=dict(type='BN', requires_grad=True),
            align_corners=False,
            loss_decode=[
                dict(type='BoundaryBCELoss', loss_weight=0.3),
                dict(
                    type='InverseFormLoss',
                    inverse_net=dict(
                        tile_size=32 if quick else 224,
                        hidden=(384, 64),
                        in_pool=1 if quick else 2),
                    loss_weight=0.3)
            ]))
    for loss in bhead.loss_decode:
        if isinstance(loss, InverseFormLoss):
            torch.nn.init.normal_(loss.inverse_net.net.fc3.weight, std=0.01)
            loss.inverse_net.net.pretrained.fill_(1)
    semeda.to(device)
    bhead.to(device)
    _freeze_bn(bhead)
    ce, aux = model.decode_head.loss_decode, model.auxiliary_head
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randn(batch, 3, h, w, generator=gen).to(device)
    samples = []
    for _ in range(batch):
        label = _blocky_labels(gen, 1, h, w, classes, block=32)
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=label.to(device))
        s.gt_edge_map = PixelData(data=sobel_boundary_target(label).to(device))
        s.set_metainfo(
            dict(
                img_shape=(h, w),
                pad_shape=(h, w),
                ori_shape=(h, w),
                scale_factor=(1.0, 1.0)))
        samples.append(s)

    def variant(losses, aux_heads):

        def setup():
            model.decode_head.loss_decode = torch.nn.ModuleList(losses)
            model.auxiliary_head = torch.nn.ModuleList(aux_heads)

        return setup

    params = [p for p in model.parameters() if p.requires_grad]
    params += [p for p in bhead.parameters() if p.requires_grad]
    fcn_aux = aux
    net = 'DeepLabV3 ' + ('R18-D8' if quick else 'R50-D8')
    variants = {
        f'{net} (CE)': variant([ce], [fcn_aux]),
        f'{net} + SEMEDA': variant([ce, semeda], [fcn_aux]),
        f'{net} + InverseForm': variant([ce], [fcn_aux, bhead]),
    }

    def loss_fn():
        return model.loss(inputs, samples)

    return dict(
        family='seg',
        scale=f'{batch}x{h}x{w}',
        variants=variants,
        loss=loss_fn,
        params=params)


def _det_batch(batch, h, w, num_gts, seed, num_classes=80):
    """A random detection batch (images, boxes, bitmap masks) on the CPU;
    the data preprocessor moves it."""
    import numpy as np
    from mmdet.testing import demo_mm_inputs
    torch.manual_seed(seed)
    np.random.seed(seed)
    packed = demo_mm_inputs(
        batch_size=batch,
        image_shapes=[(3, h, w)] * batch,
        num_items=[num_gts] * batch,
        num_classes=num_classes,
        with_mask=True)
    return packed


def _num_classes(cfg) -> Optional[int]:
    """The smallest ``num_classes`` anywhere in a model config."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == 'num_classes' and isinstance(value, int):
                    found.append(value)
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(cfg)
    return min(found) if found else None


def _det_variants(device, quick, configs: Dict[str, str], batch, h, w,
                  num_gts):
    """Build each config's model (random weights) and one random batch
    whose labels fit every model."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmboundary.registry import MMDET_MODELS
    init_default_scope('mmdet')
    models, classes = {}, [80]
    for name, cfg_path in configs.items():
        cfg = Config.fromfile(osp.join(REPO_ROOT, cfg_path))
        model_cfg = copy.deepcopy(cfg.model)
        for part in ('backbone', 'neck'):
            if part in model_cfg:
                model_cfg[part].init_cfg = None  # no download
        classes.append(_num_classes(model_cfg.to_dict()) or 80)
        torch.manual_seed(0)
        models[name] = MMDET_MODELS.build(model_cfg).to(device).train()
    data = _det_batch(batch, h, w, num_gts, 0, num_classes=min(classes))
    return models, data


class TimeLimit(Exception):
    """The run's ``--time-limit`` passed before a measurement began."""


#: monotonic time after which no further iteration starts (see run_cost)
_STOP_AT = [math.inf]


def run_cost(device: torch.device,
             quick: bool,
             reps: int,
             warmup: int,
             amp_name: str,
             budget_s: float,
             record: Callable[[Dict], None],
             quiet: bool,
             stop_at: float = math.inf) -> List[Dict]:
    """Time each method next to its baseline, without and with AMP.

    No family starts once ``budget_s`` seconds have passed, and no
    iteration starts after ``stop_at`` (``time.monotonic()``): the rows
    left are recorded as skipped with that reason.
    """
    start = time.monotonic()
    _STOP_AT[0] = stop_at
    rows = []
    families = [
        ('DeepLabV3 R50 512x1024: CE vs + SEMEDA vs + InverseForm', _cost_seg),
        ('Mask R-CNN R50 1333x800: with and without Edge Agreement',
         _cost_edge_agreement),
        ('BoxInst vs AsyInst R50 512x1024', _cost_asyinst),
        ('DVIS R50 at COCO-700', _cost_dvis),
    ]
    for title, fn in families:
        if quick and fn is not _cost_seg:
            row = dict(
                family=title,
                status='skipped',
                reason='--quick times only the DeepLabV3 family, with '
                'ResNet-18 at 1x32x64 (the CI smoke run); run without '
                '--quick for all')
            rows.append(row)
            record(row)
            continue
        spent = time.monotonic() - start
        if spent > budget_s:
            row = dict(
                family=title,
                status='skipped',
                reason=f'time budget: {spent:.0f} s spent of --budget '
                f'{budget_s:.0f} s before it started')
            rows.append(row)
            record(row)
            continue
        try:
            for row in fn(device, quick, reps, warmup, amp_name, quiet):
                row.setdefault('family', title)
                rows.append(row)
                record(row)
        except Exception as err:
            row = dict(family=title, status='skipped', reason=_error(err))
            rows.append(row)
            record(row)
        finally:
            if device.type == 'cuda':
                torch.cuda.empty_cache()
    return rows


def _measure(device, name, scale, step, params, reps, warmup, amp_name, quiet):
    """Time training iterations of ``step`` (a closure returning the loss
    dict) without and with AMP.

    Timed repetitions stop early once a row has taken :data:`ROW_CAP_S`
    seconds (the row says so), so one slow method cannot eat the device
    run's time.

    Yields:
        dict: one row per precision, as soon as it is measured.
    """
    for amp in (None, amp_name):
        dtype = AMP_DTYPES[amp] if amp else None
        optim = torch.optim.SGD(params, lr=1e-5, momentum=0.9)
        use_scaler = dtype == torch.float16 and device.type == 'cuda'
        scaler = torch.amp.GradScaler('cuda') if use_scaler else None
        row = dict(
            method=name,
            scale=scale,
            precision=f'amp {amp}' if amp else 'fp32',
            status='ok')

        def one():
            _sync(device)
            t0 = time.perf_counter()
            with autocast(device, dtype):
                losses = step()
            total = sum(v.float().sum() if torch.is_tensor(v) else sum(
                x.float().sum() for x in v) for k, v in losses.items()
                        if 'loss' in k)
            optim.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(total).backward()
                scaler.step(optim)
                scaler.update()
            else:
                total.backward()
                optim.step()
            _sync(device)
            return time.perf_counter() - t0, float(total.detach())

        def checked():
            if time.monotonic() > _STOP_AT[0]:
                raise TimeLimit('time limit: --time-limit passed before '
                                'this measurement began')
            return one()

        try:
            row_start = time.monotonic()
            for _ in range(warmup):
                checked()
                if time.monotonic() - row_start > ROW_CAP_S / 2:
                    break  # a slow method: one warm-up is enough
            if device.type == 'cuda':
                torch.cuda.reset_peak_memory_stats(device)
            times, totals = [], []
            row_start = time.monotonic()
            for _ in range(reps):
                if times and time.monotonic() > _STOP_AT[0]:
                    break
                t, total = checked()
                times.append(t)
                totals.append(total)
                if time.monotonic() - row_start > ROW_CAP_S:
                    break
            row['reps'] = len(times)
            if len(times) < reps:
                row['note'] = (f'{len(times)} of {reps} repetitions (the '
                               f'{ROW_CAP_S:.0f} s cap per row or the time '
                               'limit)')
            row['iter_s_median'] = statistics.median(times)
            row['iter_s'] = times
            row['loss_finite'] = all(math.isfinite(v) for v in totals)
            row['peak_mem_mib'] = (
                torch.cuda.max_memory_allocated(device) /
                2**20 if device.type == 'cuda' else None)
        except TimeLimit as err:
            row['status'] = 'skipped'
            row['reason'] = str(err)
        except Exception as err:
            row['status'] = 'skipped'
            row['reason'] = _error(err)
        finally:
            optim.zero_grad(set_to_none=True)
        if not quiet:
            print(
                f'  cost: {name} [{row["precision"]}]: ' +
                (f'{row["iter_s_median"]:.3f} s/iter'
                 if row['status'] == 'ok' else row['reason']),
                flush=True)
        yield row


def _cost_seg(device, quick, reps, warmup, amp_name, quiet):
    spec = _seg_variants(device, quick)
    for name, setup in spec['variants'].items():
        setup()
        yield from _measure(device, name, spec['scale'], spec['loss'],
                            spec['params'], reps, warmup, amp_name, quiet)


def _det_step(model, data):

    def step():
        batch = model.data_preprocessor(copy.copy(data), True)
        return model.loss(batch['inputs'], batch['data_samples'])

    return step


#: (batch, height, width, boxes) of each detection family: the papers'
#: crops, and small ones for a CPU run of the same code (``quick``).
DET_SIZES = {
    'edge_agreement': dict(paper=(2, 800, 1333, 8), small=(1, 96, 128, 3)),
    'asyinst': dict(paper=(1, 512, 1024, 10), small=(1, 160, 256, 3)),
    'dvis': dict(paper=(8, 700, 933, 6), small=(2, 96, 128, 3)),
}


def _det_size(family: str, quick: bool):
    batch, h, w, boxes = DET_SIZES[family]['small' if quick else 'paper']
    return batch, h, w, boxes, f'{batch}x{h}x{w}'


def _cost_edge_agreement(device, quick, reps, warmup, amp_name, quiet):
    models, data = _det_variants(
        device, quick, {
            'Mask R-CNN R50-FPN':
            'configs/edge_agreement/'
            'mask-rcnn_r50-fpn_8xb2-1x_coco-1333x800.py',
            'Mask R-CNN R50-FPN + Edge Agreement (sobel L2)':
            'configs/edge_agreement/'
            'mask-rcnn-ea-sobel-l2_r50-fpn_8xb2-1x_coco-1333x800.py'
        },
        *_det_size('edge_agreement', quick)[:4])
    scale = _det_size('edge_agreement', quick)[4]
    for name, model in models.items():
        yield from _measure(device, name, scale, _det_step(model, data),
                            [p for p in model.parameters() if p.requires_grad],
                            reps, warmup, amp_name, quiet)
        del model


def _cost_asyinst(device, quick, reps, warmup, amp_name, quiet):
    import numpy as np
    from mmengine import MessageHub
    sys.path.insert(0, HERE)
    import benchmark_asyinst as bench
    batch, h, w, boxes, scale = _det_size('asyinst', quick)
    args = types.SimpleNamespace(
        batch=batch,
        iter_batch=batch,
        height=h,
        width=w,
        boxes=boxes,
        mask_stride=4)
    data = bench.make_batch(args, np.random.default_rng(0))
    sym = dict(type='AsymmetricAffinityLoss', delta=0.0, gamma=0.0)
    specs = {
        'BoxInst R50-FPN (symmetric colour affinity)':
        (dict(loss_color=sym, loss_depth=None),
         dict(type='AsyInstDataPreprocessor', **bench.NORM)),
        'AsyInst R50-FPN (asymmetric colour + depth)':
        (dict(
            loss_color=dict(sym, delta=2.5, gamma=1.5),
            loss_depth=dict(
                type='AsymmetricAffinityLoss',
                delta=3.5,
                gamma=2.5,
                loss_weight=0.1,
                loss_name='loss_mask_depth')),
         dict(type='AsyInstDataPreprocessor', depth_thresh=0.01,
              **bench.NORM)),
    }
    MessageHub.get_instance('gpu_check').update_info('iter', 10)
    for name, (head, pre) in specs.items():
        model = bench.build_model(head, pre, args).to(device)

        def step(model=model):
            batch = model.data_preprocessor(copy.deepcopy(data), True)
            return model.loss(batch['inputs'], batch['data_samples'])

        yield from _measure(device, name, scale, step,
                            [p for p in model.parameters() if p.requires_grad],
                            reps, warmup, amp_name, quiet)
        del model


def _cost_dvis(device, quick, reps, warmup, amp_name, quiet):
    batch, h, w, boxes, scale = _det_size('dvis', quick)
    models, data = _det_variants(
        device, quick,
        {'DVIS R50-FPN': 'configs/dvis/dvis_r50-fpn_1xb8-55e_coco-700.py'},
        batch, h, w, boxes)
    model = models['DVIS R50-FPN']
    yield from _measure(device, 'DVIS R50-FPN', scale, _det_step(model, data),
                        [p for p in model.parameters() if p.requires_grad],
                        reps, warmup, amp_name, quiet)


# --------------------------------------------------------------------------
# the JSON and the command line
# --------------------------------------------------------------------------


def tables_of(report: Dict) -> Dict[str, Dict]:
    """The README tables (results_doc layout) of a report."""
    parity_rows = []
    for row in report['parity']:
        fp32 = row['fp32'] or {}
        verdict = ('equal' if fp32.get('ok') else
                   'ERROR' if 'error' in fp32 else 'MISMATCH')
        parity_rows.append([
            row['name'], verdict,
            fp32.get('max_abs_diff'), f'{row["rtol"]:g} / {row["atol"]:g}'
        ] + [row['amp'].get(a, {}).get('status', '-') for a in AMP_DTYPES])
    for op, res in sorted((report.get('shim') or {}).items()):
        if op == 'error':
            parity_rows.append(['mmcv shim', 'ERROR', None, '-', '-', '-'])
            continue
        parity_rows.append([
            f'mmcv shim: {op} vs brute force',
            'equal' if res.get('ok') else 'MISMATCH',
            res.get('max_abs_diff'), '1e-05 / 1e-05' if op == 'roi_align' else
            '1e-05 / 1e-06' if op != 'nms' else 'same indices', '-', '-'
        ])
    cost_rows = []
    for row in report['cost']:
        if row.get('status') == 'ok':
            cost_rows.append([
                row['method'], row['scale'], row['precision'],
                row['iter_s_median'], row['peak_mem_mib'],
                row.get('note', '')
            ])
        else:
            cost_rows.append([
                row.get('method', row['family']),
                row.get('scale', '-'),
                row.get('precision', '-'), None, None,
                'skipped: ' + row.get('reason', '')
            ])
    return dict(
        parity=dict(
            columns=[
                'case', f'{report["device"]} vs cpu (fp32)', 'max |diff|',
                'rtol / atol', 'fp16 autocast', 'bf16 autocast'
            ],
            rows=parity_rows,
            digits=7,
            notes=[
                'an element passes when |device - cpu| <= atol + rtol * '
                '|cpu|; autocast runs must give finite outputs and '
                'gradients'
            ]),
        cost=dict(
            columns=[
                'method', 'batch x crop', 'precision', 'iteration (s, median)',
                'peak memory (MiB)', 'note'
            ],
            rows=cost_rows,
            digits=3,
            notes=[
                'one training iteration: forward, losses, backward, SGD '
                'step; random weights and inputs at the papers\' crops'
            ]))


def parse_args(argv=None):
    parser = strict_parser_with_quiet()
    return parser.parse_args(argv)


def strict_parser_with_quiet():
    parser = cli.strict_parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--device',
        default='cuda',
        help='where to run (cuda, cuda:1, cpu); default: %(default)s')
    parser.add_argument(
        '--out',
        default=OUT_JSON,
        help='the JSON written (rewritten after every case); default: '
        '%(default)s')
    parser.add_argument(
        '--parts',
        nargs='+',
        choices=['parity', 'cost'],
        default=['parity', 'cost'])
    parser.add_argument(
        '--quick',
        action='store_true',
        help='small parity maps and one small cost family (CI smoke run)')
    parser.add_argument(
        '--amp',
        choices=sorted(AMP_DTYPES),
        default=None,
        help='the AMP dtype of the cost part (default: fp16 on cuda, bf16 '
        'on cpu)')
    parser.add_argument('--reps', type=int, default=None)
    parser.add_argument('--warmup', type=int, default=None)
    parser.add_argument(
        '--budget',
        type=float,
        default=360.0,
        help='seconds of the cost part after which no further cost family '
        'starts; default: %(default)s')
    parser.add_argument(
        '--time-limit',
        type=float,
        default=450.0,
        help='seconds from the start after which no further timed iteration '
        'starts (the rest is recorded as skipped), so that the run ends '
        'within its device command; default: %(default)s')
    parser.add_argument(
        '--no-shim',
        action='store_true',
        help='do not stand in for mmcv ops when mmcv has none (mmcv-lite)')
    parser.add_argument('--debug', action='store_true', help='show tracebacks')
    cli.add_quiet(parser)
    return parser


def check_device(name: str) -> torch.device:
    """The device to run on, or a UserError naming what is missing."""
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise UserError(f'--device {name}: {err}') from None
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            built = torch.version.cuda or 'none (a CPU build)'
            raise UserError(
                f'--device {name}: torch {torch.__version__} (CUDA: '
                f'{built}) sees no GPU here; run the check on a GPU machine '
                '(docs/gpu.md) or pass --device cpu')
        if device.index is not None and \
                device.index >= torch.cuda.device_count():
            raise UserError(f'--device {name}: only '
                            f'{torch.cuda.device_count()} GPU(s) here')
    elif device.type != 'cpu':
        raise UserError(f'--device {name}: use cuda, cuda:N or cpu')
    return device


def main(argv=None) -> int:
    args = parse_args(argv)
    device = check_device(args.device)
    if args.reps is not None and args.reps < 1:
        raise UserError('--reps must be >= 1')
    reps = args.reps or (1 if args.quick else 5)
    warmup = args.warmup if args.warmup is not None else (
        0 if args.quick else 2)
    amp_cost = args.amp or ('fp16' if device.type == 'cuda' else 'bf16')
    out_dir = osp.dirname(osp.abspath(args.out))
    if osp.exists(args.out) and not osp.isfile(args.out):
        raise UserError(f'--out {args.out} is not a file')
    os.makedirs(out_dir, exist_ok=True)
    load_start = os.getloadavg()[0]
    report = dict(
        status='partial',
        device=str(device),
        quick=args.quick,
        environment=environment(device),
        parity=[],
        cost=[],
        shim=None,
        errors=[])
    started = time.monotonic()

    def write():
        report['elapsed_s'] = round(time.monotonic() - started, 1)
        if 'stack' in report:  # mmboundary imported
            from mmboundary.utils.results_doc import dump_results
            dump_results(
                args.out,
                tables_of(report),
                device=str(device),
                load_start=load_start,
                **{
                    k: v
                    for k, v in report.items() if k != 'device'
                })
        else:  # the stack did not import: plain JSON with the error
            with open(args.out, 'w') as f:
                json.dump(report, f, indent=1)
                f.write('\n')

    try:
        try:
            report['stack'] = prepare_stack(use_shim=not args.no_shim)
        except UserError as err:
            report['errors'].append(str(err))
            write()
            raise
        if report['stack']['mmcv_ops'] == 'shim':
            try:
                report['shim'] = check_shim_ops(device)
            except Exception as err:
                report['shim'] = dict(error=_error(err))
        if 'parity' in args.parts:
            amp_names = list(AMP_DTYPES)
            run_parity(
                _cases(args.quick), device, amp_names, lambda row:
                (report['parity'].append(row), write()), args.quiet)
        if 'cost' in args.parts:
            run_cost(
                device,
                args.quick,
                reps,
                warmup,
                amp_cost,
                args.budget,
                lambda row: (report['cost'].append(row), write()),
                args.quiet,
                stop_at=started + args.time_limit)
        report['status'] = 'complete'
    finally:
        write()
    bad = [
        r['name'] for r in report['parity']
        if not (r['fp32'] or {}).get('ok') or any(
            a.get('status') in ('NOT finite', 'error')
            for a in r['amp'].values())
    ]
    shim = report.get('shim') or {}
    bad += [
        f'mmcv shim {op}' for op, res in sorted(shim.items())
        if op == 'error' or not res.get('ok')
    ]
    skipped = [
        r.get('method', r['family']) for r in report['cost']
        if r.get('status') != 'ok'
    ]
    print(f'gpu_check on {device}: {len(report["parity"])} parity cases, '
          f'{len(bad)} failing{": " + ", ".join(bad) if bad else ""}; '
          f'{len(report["cost"]) - len(skipped)} cost rows measured, '
          f'{len(skipped)} skipped; wrote {args.out} '
          f'({report["elapsed_s"]:.0f} s)')
    return 1 if bad else 0


if __name__ == '__main__':
    cli.run_cli(main)
