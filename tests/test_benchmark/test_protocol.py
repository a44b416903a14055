# Copyright (c) mmboundary contributors. All rights reserved.
"""mmboundary.benchmark.protocol: the rows of a table share the protocol
and differ from their baseline only under their method keys; resolved
configs get the table's budget, seed, data and start."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmboundary.benchmark import protocol as job
from mmboundary.benchmark.rows import (ROWS, TASKS, Row, baseline_of,
                                       select_rows, task_rows)
from mmboundary.testing._utils import REPO_ROOT
from ._helpers import START


def _written():
    return {r.name: job.load_config(r.config) for r in ROWS}


def _fake_start():
    base = task_rows('semantic')[0]
    return dict(
        checkpoint_path=START,
        backbone=job.load_config(base.config).model.backbone.to_dict())


def _resolved(seed=0, iters=None):
    return {
        r.name:
        job.resolve_config(
            job.load_config(r.config), r.task, (iters or {}).get(r.task),
            '/data/cs', seed, _fake_start())
        for r in ROWS
    }


def test_row_configs_share_the_protocol_as_written_and_resolved():
    written = _written()
    job.check_rows(ROWS, written)
    resolved = _resolved(seed=3, iters={'semantic': 40})
    job.check_rows(ROWS, resolved)
    for task in TASKS:
        rows = task_rows(task)
        ref = job.protocol_of(resolved[rows[0].name])
        for row in rows[1:]:
            assert job.protocol_of(resolved[row.name]) == ref
            base = baseline_of(row, ROWS)
            diff = job.config_differences(resolved[row.name],
                                          resolved[base.name])
            assert diff and all(job.under(k, row.method_keys) for k in diff)
    sem = resolved['FCN + SEMEDA']
    base = resolved['FCN (CE)']
    # only the method differs: SEMEDA adds its loss and its hook
    diff = job.config_differences(sem, base)
    assert diff[:2] == ['custom_hooks', 'model.decode_head.loss_decode']
    assert all(
        k.startswith('model.decode_head.loss_decode.') for k in diff[2:])
    assert [d['type'] for d in sem.model.decode_head.loss_decode] == \
        ['CrossEntropyLoss', 'SemedaLoss']
    assert base.model.decode_head.loss_decode['type'] == 'CrossEntropyLoss'
    for cfg in (sem, base):  # same budget, seed and start
        assert cfg.train_cfg.max_iters == 40
        assert cfg.randomness.seed == 3
        assert cfg.load_from == START
    ea = resolved['Mask R-CNN + Edge Agreement']
    mrcnn = resolved['Mask R-CNN']
    diff = job.config_differences(ea, mrcnn)
    assert 'model.roi_head.mask_head.type' in diff
    assert 'model.roi_head.mask_head.loss_edge.filters' in diff
    assert all(k.startswith('model.roi_head.mask_head.') for k in diff)
    for cfg in (ea, mrcnn):
        assert cfg.train_cfg.max_iters == \
            job.load_config(
                task_rows('instance')[0].config).train_cfg.max_iters
        assert cfg.load_from is None
        assert cfg.model.backbone.init_cfg == dict(
            type='Pretrained', checkpoint=START, prefix='backbone.')
        assert cfg.model.neck.in_channels == [16, 32, 64]


def _mutated(path, value):
    cfgs = _written()
    cfg = copy.deepcopy(cfgs['FCN + SEMEDA'])
    node = cfg
    keys = path.split('.')
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    node[keys[-1]] = value
    cfgs['FCN + SEMEDA'] = cfg
    return cfgs


@pytest.mark.parametrize('path, value, what', [
    ('train_cfg.max_iters', 301, 'budget'),
    ('train_dataloader.batch_size', 2, 'batch'),
    ('train_dataloader.dataset.data_root', 'data/other/', 'data'),
    ('test_dataloader.dataset.data_prefix.img_path', 'x', 'data'),
    ('train_dataloader.dataset.pipeline.3.crop_size', (128, 128), 'crop'),
    ('randomness.seed', 5, 'seed'),
    ('load_from', 'other.pth', 'start'),
    ('model.backbone.base_channels', 32, 'start'),
])
def test_a_row_off_its_tables_protocol_is_refused(path, value, what):
    with pytest.raises(ValueError) as e:
        job.check_rows(ROWS, _mutated(path, value))
    msg = str(e.value)
    assert "row 'FCN + SEMEDA'" in msg and f'its {what} differs' in msg
    assert 'semeda_r18-tiny' in msg and "baseline 'FCN (CE)'" in msg


def test_a_difference_outside_the_method_keys_is_refused():
    with pytest.raises(
            ValueError,
            match=r"at \['optim_wrapper.optimizer.lr'"
            r"\], outside its method_keys"):
        job.check_rows(ROWS, _mutated('optim_wrapper.optimizer.lr', 0.1))
    rows = list(ROWS)
    i = [r.name for r in rows].index('FCN + SEMEDA')
    rows[i] = rows[i]._replace(
        method_keys=('model.decode_head.loss_decode', 'custom_hooks',
                     'model.neck'))
    with pytest.raises(
            ValueError, match=r"method_keys \['model.neck'\] do "
            'not differ'):
        job.check_rows(rows, _written())
    rows[i] = rows[i]._replace(method_keys=())
    with pytest.raises(ValueError, match='declare method_keys'):
        job.check_rows(rows, _written())
    rows = list(ROWS)
    rows[0] = rows[0]._replace(method_keys=('model', ))
    with pytest.raises(
            ValueError, match="'FCN \\(CE\\)' is the semantic "
            'baseline'):
        job.check_rows(rows, _written())
    rows = list(ROWS) + [rows[i]]
    with pytest.raises(
            ValueError, match=r"\['FCN \+ SEMEDA'\] are declared "
            'twice'):
        job.check_rows(rows, _written())
    rows = [ROWS[0]._replace(task='panoptic')]
    with pytest.raises(ValueError, match="unknown task 'panoptic'"):
        job.check_rows(rows, _written())


def _pair(base_text, method_text, method_keys):
    """A two-row semantic table from two config texts."""
    rows = [
        Row('base', 'base.py', 'semantic'),
        Row('method', 'method.py', 'semantic', method_keys=method_keys)
    ]
    cfgs = {
        'base': Config.fromstring(base_text, '.py'),
        'method': Config.fromstring(method_text, '.py')
    }
    return rows, cfgs


_TABLE = ("train_dataloader = dict(batch_size=2, dataset=dict("
          "type='D', data_root='d/', pipeline=[]))\n"
          "model = dict(backbone=dict(type='B'), neck=dict(c=1){})\n")


def test_a_method_key_covers_its_subkeys_not_a_longer_name():
    """Issue 20 item 7: ``model.neck`` covers ``model.neck.c`` but not
    ``model.neck_aux`` (a bare string prefix would let it through)."""
    assert job.under('model.neck', ['model.neck'])
    assert job.under('model.neck.c', ['model.neck'])
    assert not job.under('model.neck_aux', ['model.neck'])
    assert not job.under('model.neck_aux.c', ['model.neck'])
    assert not job.under('model', ['model.neck'])
    # the method changes its neck and adds a neck_aux: stray
    rows, cfgs = _pair(
        _TABLE.format(''),
        _TABLE.format(', neck_aux=dict(c=2)').replace('neck=dict(c=1)',
                                                      'neck=dict(c=3)'),
        ('model.neck', ))
    with pytest.raises(
            ValueError,
            match=r"at \['model.neck_aux.c'\], outside its "
            r"method_keys \('model.neck',\)"):
        job.check_rows(rows, cfgs)
    # declared, it passes
    rows[1] = rows[1]._replace(method_keys=('model.neck', 'model.neck_aux'))
    job.check_rows(rows, cfgs)


def test_a_key_missing_on_one_side_differs_from_an_explicit_none():
    """Issue 20 item 7: ``neck_aux=None`` in one config and no ``neck_aux``
    in the other is a difference, not equality."""
    base = Config.fromstring(_TABLE.format(''), '.py')
    with_none = Config.fromstring(_TABLE.format(', neck_aux=None'), '.py')
    assert job.config_differences(with_none, base) == ['model.neck_aux']
    assert job.config_differences(base, with_none) == ['model.neck_aux']
    assert job.config_differences(base, copy.deepcopy(base)) == []
    rows, cfgs = _pair(
        _TABLE.format(''), _TABLE.format(', neck_aux=None'), ('model.neck', ))
    with pytest.raises(ValueError, match=r"at \['model.neck_aux'\]"):
        job.check_rows(rows, cfgs)
    # an empty dict on one side and none on the other differ too
    empty = Config.fromstring(_TABLE.format(', neck_aux=dict()'), '.py')
    assert job.config_differences(empty, base) == ['model.neck_aux']
    assert job.config_differences(empty, with_none) == ['model.neck_aux']


def test_flatten_keeps_lists_and_empty_dicts_as_leaves():
    assert job.flatten(dict(a=dict(b=1, c=[1, dict(d=2)]), e=dict())) == {
        'a.b': 1,
        'a.c': [1, dict(d=2)],
        'e': {}
    }


def test_a_row_compared_with_its_own_baseline():
    """A row may declare another row as its baseline (AsyInst is BoxInst
    plus its terms): its config is checked against that row, its protocol
    still against the table's."""
    cfgs = _written()
    semeda = ROWS[[r.name for r in ROWS].index('FCN + SEMEDA')]
    variant = copy.deepcopy(cfgs['FCN + SEMEDA'])
    variant.model.decode_head.loss_decode[1]['loss_weight'] = 7.0
    cfgs['SEMEDA w7'] = variant
    row = Row(
        'SEMEDA w7',
        semeda.config,
        'semantic',
        method_keys=('model.decode_head.loss_decode', ),
        baseline='FCN + SEMEDA')
    rows = list(ROWS) + [row]
    job.check_rows(rows, cfgs)
    assert baseline_of(row, rows) is semeda
    assert baseline_of(rows[0], rows) is None
    assert baseline_of(semeda, rows) is rows[0]
    # against the table's baseline, its hook would be a stray difference
    with pytest.raises(
            ValueError, match=r"its baseline 'FCN \(CE\)' at "
            r"\['custom_hooks'"):
        job.check_rows(rows[:-1] + [row._replace(baseline=None)], cfgs)
    with pytest.raises(
            ValueError, match="baseline 'nope' is not a "
            'semantic row'):
        job.check_rows(rows[:-1] + [row._replace(baseline='nope')], cfgs)
    with pytest.raises(ValueError, match='must be declared before it'):
        job.check_rows([rows[0], row] + rows[1:-1], cfgs)
    # --rows with the variant brings in its baseline and the table's
    picked = select_rows(['SEMEDA w7'], rows)
    assert [r.name
            for r in picked] == ['FCN (CE)', 'FCN + SEMEDA', 'SEMEDA w7']


def test_resolve_config_applies_the_shared_budget():
    src = task_rows('semantic')[0].config
    original = job.load_config(src)
    cfg = job.resolve_config(
        job.load_config(src), 'semantic', 30, '/data/cs', 7, _fake_start())
    scale = 30 / original.train_cfg.max_iters
    assert cfg.train_cfg.max_iters == 30
    assert cfg.default_hooks.checkpoint.interval == 30
    for new, old in zip(cfg.param_scheduler, original.param_scheduler):
        assert new['end'] == int(round(old['end'] * scale))
        assert new['begin'] == int(round(old['begin'] * scale))
    for loader in ('train_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.data_root == '/data/cs/'
    assert cfg.val_dataloader is None and cfg.val_cfg is None
    assert cfg.randomness.seed == 7
    assert [e['type'] for e in cfg.test_evaluator].count('BoundaryMetric') == 1
    assert cfg.load_from == START
    # a tiny budget keeps every phase at least one iteration long (the
    # 20-iteration warm-up of 300 would round to 0 at 2 iterations)
    cfg = job.resolve_config(
        job.load_config(src), 'semantic', 2, '/data/cs', 7, None)
    assert [(s['begin'], s['end']) for s in cfg.param_scheduler] == [(0, 1),
                                                                     (0, 2)]
    # no budget given: the config's own; no start: from scratch
    cfg = job.resolve_config(
        job.load_config(src), 'semantic', None, '/data/cs', 0, None)
    assert cfg.train_cfg.max_iters == original.train_cfg.max_iters
    assert cfg.get('load_from') is None
    # instance: the evaluator's annotations follow the data root, the
    # MultiStepLR milestones the budget
    src = task_rows('instance')[0].config
    original = job.load_config(src)
    cfg = job.resolve_config(
        job.load_config(src), 'instance', 60, '/data/cs', 0, None)
    assert cfg.test_evaluator.ann_file == \
        '/data/cs/annotations/instancesonly_filtered_gtFine_val.json'
    milestones = [s for s in original.param_scheduler
                  if 'milestones' in s][0]['milestones']
    assert [
        s for s in cfg.param_scheduler if 'milestones' in s
    ][0]['milestones'] == [int(round(m * 60 / 120)) for m in milestones]
    # AsyInst's loss-weight warm-up keeps its share of the schedule
    asy = [r for r in ROWS if r.name == 'AsyInst'][0].config
    written = job.load_config(asy)
    hook = [
        h for h in written.custom_hooks if h['type'] == 'LossWeightWarmupHook'
    ][0]
    assert written.train_cfg.max_iters == 120 and hook['warmup_iters'] == 50
    cfg = job.resolve_config(
        job.load_config(asy), 'instance', 60, '/d', 0, None)
    assert [
        h['warmup_iters'] for h in cfg.custom_hooks
        if h['type'] == 'LossWeightWarmupHook'
    ] == [25]


def test_semantic_row_without_boundary_metric_gets_one(tmp_path):
    base = osp.join(REPO_ROOT, task_rows('semantic')[0].config)
    src = tmp_path / 'no_boundary.py'
    src.write_text(f'_base_ = {base!r}\n'
                   "test_evaluator = [dict(type='IoUMetric')]\n")
    cfg = job.resolve_config(
        job.load_config(str(src)), 'semantic', 30, '/d', 0, None)
    assert [e['type'] for e in cfg.test_evaluator] == \
        ['IoUMetric', 'BoundaryMetric']
    assert 1 in cfg.test_evaluator[1]['trimap_widths']


def test_instance_backbone_takes_the_segmentors_weights(tmp_path):
    """The mapping is exact: every backbone.* weight of the segmentor lands
    in the instance backbone, and the FPN gets its output channels."""
    from mmdet.registry import MODELS as DET_MODELS
    from mmseg.registry import MODELS as SEG_MODELS
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    import mmdet.models  # noqa: F401
    seg_cfg = job.load_config(
        task_rows('semantic')[0].config).model.backbone.to_dict()
    # explicit scopes: an earlier test may have left another default scope
    with SEG_MODELS.switch_scope_and_registry('mmseg') as registry:
        seg = registry.build(seg_cfg)
    torch.manual_seed(0)
    for p in seg.parameters():
        p.data.normal_()
    ckpt = str(tmp_path / 'seg.pth')
    torch.save(
        dict(state_dict={
            'backbone.' + k: v
            for k, v in seg.state_dict().items()
        }), ckpt)
    cfg, channels = job.instance_backbone(seg_cfg, ckpt)
    with DET_MODELS.switch_scope_and_registry('mmdet') as registry:
        det = registry.build(cfg)
    det.init_weights()
    det_state = det.state_dict()
    assert set(det_state) == set(seg.state_dict())
    for k, v in seg.state_dict().items():
        assert torch.equal(det_state[k], v), k
    det.eval()
    outs = det(torch.zeros(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == channels == [16, 32, 64]
    assert [o.shape[-1] for o in outs] == [16, 8, 4]  # strides 4, 8, 16
    with pytest.raises(ValueError, match="'MixVisionTransformer' has no"):
        job.instance_backbone(dict(type='MixVisionTransformer'), ckpt)


# ------------------------------- issue 19, item 5: the AsyInst ablation
def test_ablation_rows_differ_from_boxinst_only_under_their_keys():
    """Every ablation row is the compact BoxInst plus what its method_keys
    name (as written and resolved); the values under them are the paper's
    variants."""
    from mmboundary.benchmark.rows import ASYINST_ABLATION, TABLES
    rows = ASYINST_ABLATION
    assert TABLES['asyinst-ablation']['rows'] is rows
    written = {r.name: job.load_config(r.config) for r in rows}
    job.check_rows(rows, written)
    resolved = {
        r.name:
        job.resolve_config(
            job.load_config(r.config), r.task, 1500, '/data/cs', 0,
            _fake_start())
        for r in rows
    }
    job.check_rows(rows, resolved)
    base = written['BoxInst (sym. colour)']
    head = base.model.mask_head
    assert (head.loss_color.delta, head.loss_color.gamma,
            head.loss_depth) == (0.0, 0.0, None)

    def affinity(name):
        h = written[name].model.mask_head
        depth = None if h.loss_depth is None else (h.loss_depth.delta,
                                                   h.loss_depth.gamma)
        return (h.loss_color.delta, h.loss_color.gamma), depth

    assert affinity('asy. colour delta 2.5') == ((2.5, 1.5), None)
    assert affinity('asy. colour delta 1.5') == ((1.5, 1.5), None)
    assert affinity('asy. colour delta 0.5') == ((0.5, 1.5), None)
    assert affinity('asy. colour + asy. depth (AsyInst)') == ((2.5, 1.5),
                                                              (3.5, 2.5))
    assert affinity('sym. colour + sym. depth') == ((0.0, 0.0), (0.0, 0.0))
    assert written['sym. colour + sym. depth'].model.data_preprocessor \
        .depth_thresh == 0.01
    # only the colour key differs for the colour-only rows
    for name in ('asy. colour delta 2.5', 'asy. colour delta 0.5'):
        assert {
            k.split('.')[0] + '.' + k.split('.')[1] + '.' + k.split('.')[2]
            for k in job.config_differences(written[name], base)
        } == {'model.mask_head.loss_color'}
    # directions: Table 1 sym/sym is below BoxInst, the others above
    assert [r.direction for r in rows] == [None, 1, 1, -1, 1, 1]
    # the resolved budget and warm-ups are the ablation's
    assert {cfg.train_cfg.max_iters for cfg in resolved.values()} == {1500}
