# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/analysis_tools/gpu_check.py: the comparison fails on a perturbed
result, the CPU smoke run writes the whole JSON, bad input gives one line,
the mmcv-lite shim and its references agree with mmcv's compiled ops."""
import importlib.util
import json
import os.path as osp
import re
import sys

import pytest
import torch

from mmboundary.testing._utils import REPO_ROOT, import_tool
from tests.conftest import run_tool

TOOL = 'tools/analysis_tools/gpu_check.py'
PARITY_CASES = {
    'edge_agreement_sobel_l2', 'edge_agreement_magnitude', 'semeda',
    'inverseform_euclidean', 'inverseform_geodesic', 'inverse_distances',
    'boundary_bce', 'dvis_binary', 'dvis_pair', 'dvis_regularisers',
    'asymmetric_affinity', 'affinity_maps', 'asyinst_preprocessor',
    'dvis_mean_shift', 'gt_targets_on_tensors', 'boundary_metrics',
    'boundary_metric_class'
}


@pytest.fixture(scope='module')
def gc():
    return import_tool(TOOL)


def test_compare_outputs_tolerance_by_hand(gc):

    def t(*v):
        return torch.tensor(v, dtype=torch.float64)

    ref = dict(a=t(1.0, 2.0), n=torch.tensor([3, 4]))
    n = torch.tensor([3, 4])
    # allowed at 2.0: 1e-5 + 1e-4 * 2 = 2.1e-4
    ok = gc.compare_outputs(ref, dict(a=t(1.0, 2.0 + 1e-4), n=n), 1e-4, 1e-5)
    assert ok['ok'] and ok['problems'] == []
    assert ok['max_abs_diff'] == pytest.approx(1e-4, rel=1e-6)
    bad = gc.compare_outputs(ref, dict(a=t(1.0, 2.0 + 3e-4), n=n), 1e-4, 1e-5)
    assert not bad['ok'] and bad['worst'] == 'a'
    assert bad['problems'] == [
        'a: 1 of 2 elements beyond the tolerance (max |diff| 0.0003)'
    ]
    # the absolute part: 0.9e-5 passes at 0 with atol 1e-5, 2e-5 does not
    zero = dict(z=t(0.0))
    assert gc.compare_outputs(zero, dict(z=t(0.9e-5)), 1e-4, 1e-5)['ok']
    assert not gc.compare_outputs(zero, dict(z=t(2e-5)), 1e-4, 1e-5)['ok']
    # the relative part at 100: 1e-5 + 1e-2 allowed
    big = dict(b=t(100.0))
    assert gc.compare_outputs(big, dict(b=t(100.0099)), 1e-4, 1e-5)['ok']
    assert not gc.compare_outputs(big, dict(b=t(100.0102)), 1e-4, 1e-5)['ok']


@pytest.mark.parametrize('out, message', [
    (dict(a=torch.tensor([1.0, float('nan')])), 'not finite'),
    (dict(a=torch.tensor([1.0, float('inf')])), 'not finite'),
    (dict(a=torch.tensor([1.0])), 'shape (1,) on the device'),
    (dict(b=torch.tensor([1.0, 2.0])), 'only in the'),
    (dict(a=torch.tensor([1.0, 2.0]), n=torch.tensor(
        [3, 5])), '1 of 2 integer elements differ'),
    (dict(a=torch.tensor([float('nan'), float('nan')])), 'not finite'),
])
def test_compare_outputs_flags(gc, out, message):
    ref = dict(a=torch.tensor([1.0, 2.0]))
    if 'n' in out:
        ref['n'] = torch.tensor([3, 4])
    res = gc.compare_outputs(ref, out, 1e-4, 1e-5)
    assert not res['ok']
    assert any(message in p for p in res['problems']), res['problems']


def test_compare_outputs_nan_alike(gc):
    nan, inf = float('nan'), float('inf')
    ref = dict(a=torch.tensor([nan, 1.0, inf]))
    assert gc.compare_outputs(ref, dict(a=torch.tensor([nan, 1.0, inf])), 1e-4,
                              1e-5)['ok']
    for bad, message in (([1.0, 1.0, inf], 'CPU reference is not finite'),
                         ([nan, 1.0, -inf], 'NaN and inf differ'),
                         ([nan, 1.1, inf], 'beyond the tolerance')):
        res = gc.compare_outputs(ref, dict(a=torch.tensor(bad)), 1e-4, 1e-5)
        assert not res['ok'] and message in res['problems'][0], res


def test_nonfinite_outputs(gc):
    out = dict(
        loss=torch.tensor(1.0),
        grad=torch.tensor([0.0, float('inf')], dtype=torch.float16),
        ids=torch.tensor([1, 2]))
    assert gc.nonfinite_outputs(out) == ['grad']


@pytest.fixture(scope='module')
def cases(gc):
    return {c.name: c for c in gc._cases(quick=True)}


def test_every_case_is_listed(cases):
    assert set(cases) == PARITY_CASES


def test_parity_flags_a_perturbed_device_result(gc, cases):
    """A real case (the DVIS pair loss, a custom autograd Function) whose
    'device' run is off by 1e-3 in the loss is a mismatch; unperturbed, the
    same case is equal."""
    case = cases['dvis_pair']
    rows = gc.run_parity([case], torch.device('cpu'), [], lambda r: None, True)
    assert rows[0]['fp32']['ok'], rows[0]
    calls = []
    real = case.run

    def perturbed(device, **kw):
        out = real(device, **kw)
        calls.append(1)
        if len(calls) == 2:  # the second run is the 'device' run
            out['loss'] = out['loss'] + 1e-3
        return out

    bad = gc.Case(case.name, case.what, case.make, perturbed, case.grad)
    rows = gc.run_parity([bad], torch.device('cpu'), [], lambda r: None, True)
    fp32 = rows[0]['fp32']
    assert not fp32['ok'] and fp32['worst'] == 'loss'
    assert fp32['max_abs_diff'] == pytest.approx(1e-3, rel=1e-3)
    # the gradient is unchanged by a constant shift: only the loss differs
    assert len(fp32['problems']) == 1


def test_execute_differentiates_and_casts(gc, cases):
    out = gc.execute(cases['boundary_bce'], torch.device('cpu'))
    assert set(out) == {'loss', 'grad_pred'}
    assert out['grad_pred'].shape == (2, 1, 32, 48)
    assert out['grad_pred'].abs().sum() > 0
    half = gc.execute(cases['boundary_bce'], torch.device('cpu'),
                      torch.bfloat16)
    assert half['grad_pred'].dtype == torch.bfloat16  # the input was cast


def test_brute_roi_align_equals_mmcv(gc):
    """The shim's reference is mmcv's RoIAlign (avg, aligned): checked
    against mmcv's compiled op, output and gradient."""
    if not gc.has_compiled_mmcv_ops():
        pytest.skip('needs mmcv with compiled ops')
    from mmcv.ops import roi_align
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 12, 16, generator=gen, dtype=torch.float64)
    rois = torch.tensor([[0, 1.3, 0.7, 10.2, 9.9], [1, -2.0, 3.5, 8.0, 20.0],
                         [1, 4.1, 4.3, 4.9, 5.0]],
                        dtype=torch.float64)
    x1 = x.clone().requires_grad_()
    x2 = x.clone().requires_grad_()
    ref = gc.brute_roi_align(x1, rois, 4, 0.5, 2)
    got = roi_align(x2, rois, (4, 4), 0.5, 2, 'avg', True)
    torch.testing.assert_close(ref, got, rtol=1e-10, atol=1e-12)
    w = torch.randn(ref.shape, generator=gen, dtype=torch.float64)
    (ref * w).sum().backward()
    (got * w).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-10, atol=1e-12)


def test_greedy_nms_equals_mmcv(gc):
    if not gc.has_compiled_mmcv_ops():
        pytest.skip('needs mmcv with compiled ops')
    from mmcv.ops import batched_nms
    gen = torch.Generator().manual_seed(1)
    xy = torch.rand(40, 2, generator=gen) * 40
    boxes = torch.cat([xy, xy + 5 + torch.rand(40, 2, generator=gen) * 15], 1)
    scores = torch.rand(40, generator=gen)
    idxs = torch.randint(0, 3, (40, ), generator=gen)
    _, keep = batched_nms(boxes, scores, idxs,
                          dict(type='nms', iou_threshold=0.4))
    ref = gc._greedy_nms(boxes, scores, idxs, 0.4)
    assert 0 < len(ref) < 40
    assert sorted(keep.tolist()) == sorted(ref)


def test_shim_follows_mmcv_calling_conventions(gc):
    """The shim's RoIAlign forward / backward and NMS, given the reference
    computations as backends, equal mmcv's compiled ops (this checks the
    shim's plumbing; the run checks torchvision against the references)."""
    if not gc.has_compiled_mmcv_ops():
        pytest.skip('needs mmcv with compiled ops')
    from mmcv.ops import nms, roi_align

    def brute(inp, boxes, size, scale, sampling, aligned):
        assert aligned and size == (4, 4)
        return gc.brute_roi_align(inp, boxes, 4, scale, sampling).float()

    def greedy(boxes, scores, thr):
        return torch.tensor(
            gc._greedy_nms(boxes, scores, torch.zeros(len(boxes)), thr))

    shim = gc.make_mmcv_ext_shim(brute, greedy)
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(2, 3, 12, 16, generator=gen)
    rois = torch.tensor([[0, 1.3, 0.7, 10.2, 9.9], [1, -2.0, 3.5, 8.0, 20.0],
                         [1, 4.1, 4.3, 4.9, 5.0]])
    kw = dict(
        aligned_height=4,
        aligned_width=4,
        spatial_scale=0.5,
        sampling_ratio=2,
        pool_mode=1,
        aligned=True)
    empty = x.new_zeros(0)
    out = x.new_zeros(3, 3, 4, 4)
    shim.roi_align_forward(x, rois, out, empty, empty, **kw)
    xr = x.clone().requires_grad_()
    ref = roi_align(xr, rois, (4, 4), 0.5, 2, 'avg', True)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    grad_out = torch.randn(ref.shape, generator=gen)
    ref.backward(grad_out)
    grad_in = torch.zeros_like(x)
    shim.roi_align_backward(grad_out, rois, empty, empty, grad_in, **kw)
    torch.testing.assert_close(grad_in, xr.grad, rtol=1e-5, atol=1e-6)
    with pytest.raises(NotImplementedError, match='max'):
        shim.roi_align_forward(x, rois, out, empty, empty,
                               **dict(kw, pool_mode=0))
    xy = torch.rand(30, 2, generator=gen) * 30
    boxes = torch.cat([xy, xy + 5 + torch.rand(30, 2, generator=gen) * 10], 1)
    scores = torch.rand(30, generator=gen)
    keep = shim.nms(boxes, scores, iou_threshold=0.4, offset=0)
    _, ref_keep = nms(boxes, scores, 0.4)
    assert 0 < len(ref_keep) < 30
    assert sorted(keep.tolist()) == sorted(ref_keep.tolist())
    with pytest.raises(NotImplementedError, match='offset=1'):
        shim.nms(boxes, scores, iou_threshold=0.4, offset=1)


def test_missing_op_and_shim(gc):
    op = gc.MissingMMCVOp('deform_conv_forward')
    with pytest.raises(
            NotImplementedError, match="'deform_conv_forward'.*"
            'mmcv-lite'):
        op()
    if importlib.util.find_spec('torchvision') is None:
        with pytest.raises(ImportError):
            gc.make_mmcv_ext_shim()
        return
    shim = gc.make_mmcv_ext_shim()
    assert isinstance(shim.bias_act, gc.MissingMMCVOp)
    with pytest.raises(AttributeError):
        shim.__wrapped__


def test_version_check_accepts_mmcv_lite_only_when_asked(monkeypatch):
    from importlib import metadata

    from mmboundary.utils import version_check as vc

    def version(name):
        if name == 'mmcv-lite':
            return '2.1.0'
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(vc.metadata, 'version', version)
    monkeypatch.delenv('MMB_MMCV_LITE', raising=False)
    assert vc._installed_version('mmcv') is None
    monkeypatch.setenv('MMB_MMCV_LITE', '1')
    assert vc._installed_version('mmcv') == '2.1.0'
    assert vc._installed_version('mmdet') is None


def test_quick_cpu_run_writes_the_json(tmp_path):
    out = tmp_path / 'gpu.json'
    proc = run_tool(
        [TOOL, '--device', 'cpu', '--quick', '--quiet', '--out',
         str(out)],
        timeout=300)
    assert re.search(r'gpu_check on cpu: 17 parity cases, 0 failing; '
                     r'6 cost rows measured, 3 skipped', proc.stdout), \
        proc.stdout
    data = json.loads(out.read_text())
    assert data['status'] == 'complete' and data['version'] == 1
    assert data['command'].startswith('python tools/analysis_tools/gpu_')
    assert {r['name'] for r in data['parity']} == PARITY_CASES
    for row in data['parity']:
        assert row['fp32']['ok'] and row['fp32']['max_abs_diff'] == 0.0
        assert set(row['amp']) == {'fp16', 'bf16'}
        for amp in row['amp'].values():
            assert amp['status'] in ('finite', 'n/a (integer or boolean '
                                     'inputs)'), (row['name'], amp)
    measured = [r for r in data['cost'] if r['status'] == 'ok']
    assert [(r['method'], r['precision']) for r in measured] == [
        (m, p) for m in ('DeepLabV3 R18-D8 (CE)', 'DeepLabV3 R18-D8 + SEMEDA',
                         'DeepLabV3 R18-D8 + InverseForm')
        for p in ('fp32', 'amp bf16')
    ]
    for r in measured:
        assert r['iter_s_median'] > 0 and r['loss_finite']
        assert r['peak_mem_mib'] is None  # measured on cuda only
    skipped = [r for r in data['cost'] if r['status'] != 'ok']
    assert len(skipped) == 3
    assert all('--quick' in r['reason'] for r in skipped)
    tables = data['tables']
    assert len(tables['parity']['rows']) == 17
    assert len(tables['cost']['rows']) == 9
    assert tables['parity']['rows'][0][1] == 'equal'


def test_cuda_without_gpu_is_one_line(tmp_path):
    if torch.cuda.is_available():
        pytest.skip('a GPU is present')
    out = tmp_path / 'x.json'
    proc = run_tool([TOOL, '--device', 'cuda', '--out', str(out)], check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith('error: --device cuda: torch ')
    assert 'sees no GPU here' in lines[0] and '--device cpu' in lines[0]
    assert not out.exists()


def _run_with_modules_hidden(tmp_path, hidden, extra_args=()):
    """Run the tool with ``sys.modules[name] = None`` for ``hidden`` (what
    a missing package or mmcv-lite look like to the import system)."""
    out = tmp_path / 'partial.json'
    code = ('import runpy, sys\n'
            f'for name in {list(hidden)!r}:\n'
            '    sys.modules[name] = None\n'
            f'sys.argv = [{TOOL!r}, "--device", "cpu", "--quick", '
            f'"--quiet", "--out", {str(out)!r}] + {list(extra_args)!r}\n'
            f'runpy.run_path({TOOL!r}, run_name="__main__")\n')
    return run_tool(['-c', code], check=False), out


def test_missing_package_is_one_line_and_json_kept(tmp_path):
    proc, out = _run_with_modules_hidden(tmp_path, ['mmdet'])
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith('error: gpu_check: missing package(s) mmdet ')
    assert 'tools/misc/fetch_device_wheels.sh' in lines[0]
    data = json.loads(out.read_text())
    assert data['status'] == 'partial'
    assert data['errors'] and 'mmdet' in data['errors'][0]
    assert data['environment']['torch'] == torch.__version__


def test_mmcv_lite_path(tmp_path):
    """Without ``mmcv._ext`` (mmcv-lite): --no-shim is one line; with the
    shim the run needs torchvision (one line without it)."""
    if 'mmcv' not in sys.modules and importlib.util.find_spec('mmcv') is None:
        pytest.skip('needs mmcv')
    proc, _ = _run_with_modules_hidden(tmp_path, ['mmcv._ext'], ['--no-shim'])
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        'error: gpu_check: mmcv here has no compiled ops (mmcv-lite) and '
        '--no-shim was given; drop --no-shim to use the torchvision shim, '
        'or install mmcv==2.1.0 built with ops'
    ]
    if importlib.util.find_spec('torchvision') is None:
        proc, _ = _run_with_modules_hidden(tmp_path, ['mmcv._ext'])
        assert proc.returncode == 2
        line, = proc.stderr.strip().splitlines()
        assert 'the shim needs torchvision' in line


def test_wheel_pins_match_the_requirements():
    """The device wheels pin the versions the project installs (mmcv-lite
    at mmcv's version)."""
    with open(osp.join(REPO_ROOT, 'tools/misc/fetch_device_wheels.sh')) as f:
        script = f.read()
    with open(osp.join(REPO_ROOT, 'requirements/mminstall.txt')) as f:
        pins = dict(line.strip().split('==') for line in f
                    if '==' in line and not line.startswith('#'))
    for dist in ('mmengine', 'mmdet', 'mmsegmentation'):
        assert f'  {dist}=={pins[dist]}\n' in script, dist
    assert f'  mmcv-lite=={pins["mmcv"]}\n' in script
    names = re.findall(r'^  ([A-Za-z0-9_.-]+)==', script, re.M)
    assert len(names) == len(set(n.lower() for n in names))


SHIM_RUN = r'''
import importlib, json, os, sys
import torch
real = importlib.import_module('mmcv._ext')  # before mmcv.ops is imported
spec = importlib.util.spec_from_file_location('gc', sys.argv[1])
gc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gc)
calls = dict(roi_align=0, nms=0)


class RealRoIAlign(torch.autograd.Function):
    """torchvision's roi_align signature over mmcv's compiled op."""

    @staticmethod
    def forward(ctx, x, rois, size, scale, sampling, aligned):
        kw = dict(aligned_height=size[0], aligned_width=size[1],
                  spatial_scale=scale, sampling_ratio=sampling, pool_mode=1,
                  aligned=aligned)
        out = x.new_zeros(len(rois), x.shape[1], *size)
        empty = x.new_zeros(0)
        real.roi_align_forward(x, rois, out, empty, empty, **kw)
        ctx.save_for_backward(rois)
        ctx.kw, ctx.shape = kw, x.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        rois, = ctx.saved_tensors
        grad_in = grad.new_zeros(ctx.shape)
        empty = grad.new_zeros(0)
        real.roi_align_backward(grad.contiguous(), rois, empty, empty,
                                grad_in, **ctx.kw)
        return grad_in, None, None, None, None, None


def roi_align(*args):
    calls['roi_align'] += 1
    return RealRoIAlign.apply(*args)


def nms(boxes, scores, thr):
    calls['nms'] += 1
    return real.nms(boxes, scores, iou_threshold=thr, offset=0)


sys.modules['mmcv._ext'] = gc.make_mmcv_ext_shim(roi_align, nms)
gc.prepare_stack()
models, data = gc._det_variants(torch.device('cpu'), True, dict(
    ea='configs/edge_agreement/mask-rcnn-ea-sobel-l2_r18-fpn_1xb2-120iter_'
    'synthetic-cityscapes-128x256.py',
    dvis='configs/dvis/dvis_r18-fpn_1xb2-120iter_synthetic-cityscapes-'
    '128x256.py'), 1, 64, 96, 2)
finite = {}
for name, model in models.items():
    losses = gc._det_step(model, data)()
    total = sum(v.sum() if torch.is_tensor(v) else sum(x.sum() for x in v)
                for k, v in losses.items() if 'loss' in k)
    total.backward()
    finite[name] = bool(torch.isfinite(total))
checks = gc.check_shim_ops(torch.device('cpu'))
print(json.dumps(dict(calls=calls, finite=finite, checks=checks)))
'''


def test_mask_rcnn_and_dvis_train_on_the_shim_ops_alone(tmp_path):
    """With ``mmcv._ext`` replaced by the shim (its backends here mmcv's own
    compiled ops, torchvision on the device), Mask R-CNN with Edge
    Agreement and DVIS run a training step: RoIAlign and NMS are all the
    compiled ops they call (any other would raise MissingMMCVOp)."""
    if not importlib.util.find_spec('mmcv') or not import_tool(
            TOOL).has_compiled_mmcv_ops():
        pytest.skip('needs mmcv with compiled ops (the shim backends)')
    script = tmp_path / 'shim_run.py'
    script.write_text(SHIM_RUN)
    proc = run_tool([str(script), osp.join(REPO_ROOT, TOOL)], timeout=600)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result['finite'] == dict(ea=True, dvis=True)
    assert result['calls']['roi_align'] > 0 and result['calls']['nms'] > 0
    # the device run's checks of the shim, here with mmcv's compiled
    # RoIAlign and NMS behind it (and the shim's own focal loss)
    checks = result['checks']
    assert checks['roi_align']['ok'], checks
    assert checks['roi_align']['max_abs_diff'] < 1e-5
    assert checks['sigmoid_focal_loss']['ok'], checks
    assert checks['nms']['ok'] and checks['nms']['kept'] > 1


def test_shim_focal_loss_equals_the_kernel_formulas(gc):
    """The shim's focal loss, called as mmcv's Function calls the compiled
    op, equals the kernel's formulas (analytic gradient, float64) and
    mmdet's own CPU fallback."""
    from mmdet.models.losses.focal_loss import py_sigmoid_focal_loss
    shim = gc.make_mmcv_ext_shim(lambda *a: None, lambda *a: None)
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(50, 5, generator=gen) * 4
    t = torch.randint(0, 6, (50, ), generator=gen)  # 5 = background
    empty = x.new_empty(0)
    out = torch.zeros_like(x)
    shim.sigmoid_focal_loss_forward(x, t, empty, out, gamma=2.0, alpha=0.25)
    grad = torch.zeros_like(x)
    shim.sigmoid_focal_loss_backward(x, t, empty, grad, gamma=2.0, alpha=0.25)
    ref, ref_grad = gc.brute_focal(x, t, 2.0, 0.25)
    torch.testing.assert_close(out.double(), ref, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(grad.double(), ref_grad, rtol=1e-5, atol=1e-7)
    onehot = torch.nn.functional.one_hot(t, 6)[:, :5].float()
    mmdet = py_sigmoid_focal_loss(x, onehot, None, 2.0, 0.25, 'none')
    torch.testing.assert_close(out, mmdet, rtol=1e-6, atol=1e-7)
    # the positive and negative branches both occur
    assert (t < 5).any() and (t == 5).any()
    with pytest.raises(NotImplementedError, match='per-class'):
        shim.sigmoid_focal_loss_forward(x, t, torch.ones(5), out, 2.0, 0.25)


def test_measure_rows_and_the_time_limit(gc):
    lin = torch.nn.Linear(3, 1)
    x = torch.randn(4, 3)
    bias = dict(value=0.0)

    def step():
        return dict(loss=(lin(x)**2).mean() + bias['value'], acc=1.0)

    cpu = torch.device('cpu')
    try:
        rows = list(
            gc._measure(cpu, 'lin', '4x3', step, list(lin.parameters()), 3, 1,
                        'bf16', True))
        assert [r['precision'] for r in rows] == ['fp32', 'amp bf16']
        for r in rows:
            assert r['status'] == 'ok' and r['reps'] == 3
            assert len(r['iter_s']) == 3 and r['loss_finite']
            assert r['iter_s_median'] == sorted(r['iter_s'])[1]
        bias['value'] = float('nan')
        rows = list(
            gc._measure(cpu, 'lin', '4x3', step, list(lin.parameters()), 2, 0,
                        'bf16', True))
        assert [r['loss_finite'] for r in rows] == [False, False]
        gc._STOP_AT[0] = 0.0  # long passed
        rows = list(
            gc._measure(cpu, 'lin', '4x3', step, list(lin.parameters()), 2, 0,
                        'bf16', True))
        assert [r['status'] for r in rows] == ['skipped', 'skipped']
        assert all(r['reason'].startswith('time limit') for r in rows)
    finally:
        gc._STOP_AT[0] = float('inf')


def test_budget_skips_every_family_with_its_reason(tmp_path):
    out = tmp_path / 'b.json'
    run_tool([
        TOOL, '--device', 'cpu', '--parts', 'cost', '--budget', '-1',
        '--quiet', '--out',
        str(out)
    ])
    data = json.loads(out.read_text())
    assert data['status'] == 'complete' and data['parity'] == []
    assert len(data['cost']) == 4
    for row in data['cost']:
        assert row['status'] == 'skipped'
        assert row['reason'].startswith('time budget: ')
