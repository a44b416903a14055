# Copyright (c) mmboundary contributors. All rights reserved.
"""The protocol: what the rows of one table share, checked before anything
trains, and how a row's config is resolved for the table.

The rows of one table share data, crop, batch, iterations, seed and start.
:func:`check_rows` refuses a row that differs from its baseline outside its
declared ``method_keys`` with a message naming it; :func:`resolve_config`
applies the table's budget, seed, data root and shared start.
"""
import hashlib
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

from .common import REPO_ROOT
from .rows import TASKS, Row, baseline_of


def load_config(path: str):
    """The ``Config`` at ``path`` (relative to the repository root unless
    absolute)."""
    from mmengine.config import Config
    full = path if osp.isabs(path) else osp.join(REPO_ROOT, path)
    if not osp.isfile(full):
        raise FileNotFoundError(f'config {path!r} does not exist')
    return Config.fromfile(full)


def innermost_dataset(loader):
    """The dataset a loader reads (inside wrappers such as RepeatDataset)."""
    dataset = loader['dataset']
    while 'dataset' in dataset and 'data_root' not in dataset:
        dataset = dataset['dataset']
    return dataset


def as_list(value) -> list:
    """None -> ``[]``, a list/tuple -> a list, anything else -> ``[it]``."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def plain(value):
    """ConfigDicts/tuples to plain dicts/lists (comparable, JSON-able)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


#: Transform arguments that set the crop and the image scale.
SIZE_KEYS = ('scale', 'scales', 'img_scale', 'crop_size', 'ratio_range',
             'keep_ratio')


def protocol_of(cfg) -> Dict[str, object]:
    """What every row of a table must share: the budget, batch, data (roots,
    files, evaluator annotations), crop (sizes in the pipelines), seed and
    start (``load_from`` and the backbone)."""
    data, crop = {}, {}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if not cfg.get(loader):
            continue
        ds = innermost_dataset(cfg[loader])
        data[loader] = {
            k: plain(ds.get(k))
            for k in ('type', 'data_root', 'data_prefix', 'ann_file')
        }
        crop[loader] = [{
            k: plain(t[k])
            for k in SIZE_KEYS if k in t
        } for t in ds.get('pipeline', []) if any(k in t for k in SIZE_KEYS)]
    for name in ('val_evaluator', 'test_evaluator'):
        data[name] = [plain(e.get('ann_file')) for e in as_list(cfg.get(name))]
    train_cfg = cfg.get('train_cfg') or {}
    return OrderedDict(
        budget=dict(
            loop=train_cfg.get('type'), max_iters=train_cfg.get('max_iters')),
        batch=cfg.train_dataloader.get('batch_size'),
        data=data,
        crop=crop,
        seed=(cfg.get('randomness') or {}).get('seed'),
        start=dict(
            load_from=cfg.get('load_from'),
            backbone=plain(cfg.model.get('backbone'))))


def flatten(value, prefix='') -> Dict[str, object]:
    """Nested dicts to ``{'a.b.c': leaf}``; lists are leaves."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(flatten(v, f'{prefix}{k}.'))
        return out if out or not prefix else {prefix[:-1]: {}}
    return {prefix[:-1]: plain(value)}


def under(key: str, paths: Sequence[str]) -> bool:
    """Whether dotted ``key`` is one of ``paths`` or inside one of them
    (``model.neck.x`` is under ``model.neck``; ``model.neck_aux`` is not)."""
    return any(key == p or key.startswith(p + '.') for p in paths)


def config_differences(cfg, ref) -> List[str]:
    """Dotted keys where two configs differ (missing counts as different)."""
    a, b = flatten(plain(cfg._cfg_dict)), flatten(plain(ref._cfg_dict))
    missing = object()
    return sorted(
        k for k in set(a) | set(b) if a.get(k, missing) != b.get(k, missing))


def check_rows(rows: Sequence[Row], configs: Dict[str, object]) -> None:
    """Refuse rows that do not follow their table's protocol.

    For every task, the first row is the table's baseline. Every other row
    must share its :func:`protocol_of` entries (budget, batch, data, crop,
    seed, start), declare ``method_keys`` that really differ from its own
    baseline (:func:`baseline_of`) and differ from it nowhere else.

    Args:
        rows: The rows (all of a task's rows, baseline first).
        configs: Row name -> its Config (as written or resolved).

    Raises:
        ValueError: The message names the row, the config, the keys and
            both values.
    """
    names = [r.name for r in rows]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f'ROWS: row names {dup} are declared twice')
    for row in rows:
        if row.task not in TASKS:
            raise ValueError(f'row {row.name!r}: unknown task {row.task!r}; '
                             f'choose from {list(TASKS)}')
    for task in TASKS:
        group = [r for r in rows if r.task == task]
        if not group:
            continue
        base = group[0]
        if base.method_keys:
            raise ValueError(
                f'row {base.name!r} is the {task} baseline (first {task} '
                f'row) and must not declare method_keys {base.method_keys}')
        ref = configs[base.name]
        ref_protocol = protocol_of(ref)
        for row in group[1:]:
            cfg = configs[row.name]
            where = f'row {row.name!r} ({row.config})'
            if row.baseline == row.name:
                raise ValueError(f'{where}: a row cannot be its own baseline')
            own = baseline_of(row, rows)
            if group.index(own) > group.index(row):
                raise ValueError(
                    f'{where}: its baseline {own.name!r} must be declared '
                    'before it in ROWS')
            if not row.method_keys:
                raise ValueError(
                    f'{where}: declare method_keys, the config paths where '
                    f'it differs from its baseline {own.name!r}')
            protocol = protocol_of(cfg)
            for item, value in protocol.items():
                if value != ref_protocol[item]:
                    raise ValueError(
                        f'{where}: its {item} differs from the {task} '
                        f"table's (baseline {base.name!r}, {base.config}): "
                        f'{value} vs {ref_protocol[item]}. Every row of a '
                        'table shares data, crop, batch, budget, seed and '
                        'start; fix the config.')
            diff = config_differences(cfg, configs[own.name])
            stray = [k for k in diff if not under(k, row.method_keys)]
            if stray:
                raise ValueError(
                    f'{where} differs from its baseline {own.name!r} at '
                    f'{stray}, outside its method_keys {row.method_keys}; '
                    'only the method may differ (add the key to '
                    'method_keys if it is part of the method)')
            unused = [
                p for p in row.method_keys
                if not any(under(k, [p]) or under(p, [k]) for k in diff)
            ]
            if unused:
                raise ValueError(
                    f'{where}: method_keys {unused} do not differ from its '
                    f'baseline {own.name!r}; remove them or fix the config')


def instance_backbone(seg_backbone: Dict,
                      checkpoint: Optional[str]) -> Tuple[Dict, List[int]]:
    """The instance rows' backbone: the shared segmentor's, as an mmdet
    ``ResNet`` for an FPN.

    The segmentor's ``ResNetV1c`` (deep stem, ``num_stages`` stages,
    dilated last stage for output stride 8) maps one to one onto mmdet's
    ``ResNet(deep_stem=True)`` with the same depth and widths: the same
    parameter names and shapes, every stage strided instead of dilated
    (dilation changes no weight), all stages out for the FPN. Its weights
    are the segmentor's ``backbone.*`` (``Pretrained`` init, ``prefix``).

    Args:
        seg_backbone (dict): ``model.backbone`` of the start's config.
        checkpoint (str, optional): The start's checkpoint.

    Returns:
        tuple[dict, list[int]]: The backbone config and the channels of its
        outputs (the FPN's ``in_channels``).
    """
    seg = dict(plain(seg_backbone))
    kind = seg.get('type')
    if kind not in ('ResNetV1c', 'ResNetV1d', 'ResNet'):
        raise ValueError(
            f'instance_backbone: the start backbone {kind!r} has no mmdet '
            'counterpart here; use a ResNet(V1c/V1d) or extend the mapping')
    depth = seg['depth']
    stages = seg.get('num_stages', 4)
    base = seg.get('base_channels', 64)
    expansion = 1 if depth in (18, 34) else 4
    backbone = dict(
        type='ResNet',
        depth=depth,
        num_stages=stages,
        stem_channels=seg.get('stem_channels', base),
        base_channels=base,
        deep_stem=kind in ('ResNetV1c', 'ResNetV1d')
        or bool(seg.get('deep_stem')),
        avg_down=kind == 'ResNetV1d' or bool(seg.get('avg_down')),
        strides=(1, ) + (2, ) * (stages - 1),
        dilations=(1, ) * stages,
        out_indices=tuple(range(stages)),
        frozen_stages=-1,
        norm_cfg=seg.get('norm_cfg', dict(type='BN', requires_grad=True)),
        norm_eval=False,
        style='pytorch',
        init_cfg=None if checkpoint is None else dict(
            type='Pretrained', checkpoint=checkpoint, prefix='backbone.'))
    return backbone, [base * expansion * 2**i for i in range(stages)]


def resolve_config(cfg, task: str, iters: Optional[int], data_root: str,
                   seed: int, start: Optional[Dict]):
    """Apply the table's protocol to a row's config (in place).

    Sets the data root (loaders and evaluator annotations), the budget
    (``iters``; the LR schedule and loss-weight warm-ups scaled to it), the
    seed, the start and
    turns validation during training off (``tools/test.py`` evaluates the
    final checkpoint). Semantic configs get ``BoundaryMetric`` if they lack
    it.

    Args:
        cfg (Config): The row's config.
        task (str): Its task.
        iters (int, optional): Training iterations; None keeps the config's.
        data_root (str): Dataset root.
        seed (int): ``randomness.seed``.
        start (dict, optional): ``{'checkpoint_path': path, 'backbone':
            dict}`` of the shared start; None trains from scratch (the start
            itself).

    Returns:
        Config: ``cfg``.
    """
    root = data_root.rstrip('/') + '/'
    old_roots = set()
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = innermost_dataset(cfg[loader])
        old_roots.add(str(dataset.get('data_root') or ''))
        dataset['data_root'] = root
    for name in ('val_evaluator', 'test_evaluator'):
        for evaluator in as_list(cfg.get(name)):
            ann = evaluator.get('ann_file')
            if ann:
                for old in sorted(old_roots, key=len, reverse=True):
                    if old and ann.startswith(old):
                        ann = root + ann[len(old):]
                        break
                evaluator['ann_file'] = ann
    old = cfg.train_cfg['max_iters']
    iters = iters or old
    cfg.train_cfg['max_iters'] = iters
    cfg.train_cfg['val_interval'] = iters
    cfg.default_hooks['checkpoint']['interval'] = iters
    schedulers = as_list(cfg.get('param_scheduler'))
    for sched in schedulers:
        if sched.get('by_epoch', True) is False:
            for key in ('begin', 'end'):
                if key in sched:
                    sched[key] = int(round(sched[key] * iters / old))
            # a tiny budget must not round a phase away (mmengine refuses
            # end <= begin): it keeps at least one iteration
            if 'begin' in sched and 'end' in sched and \
                    sched['end'] <= sched['begin']:
                sched['end'] = sched['begin'] + 1
            if 'milestones' in sched:
                sched['milestones'] = [
                    int(round(m * iters / old)) for m in sched['milestones']
                ]
    # warm-ups of loss weights (AsyInst's LossWeightWarmupHook) keep their
    # share of the schedule, like the LR schedulers
    for hook in as_list(cfg.get('custom_hooks')):
        if 'warmup_iters' in hook:
            hook['warmup_iters'] = max(
                1, int(round(hook['warmup_iters'] * iters / old)))
    cfg.randomness = dict(seed=seed)
    # the final checkpoint is evaluated by tools/test.py, once
    cfg.val_cfg = None
    cfg.val_dataloader = None
    cfg.val_evaluator = None
    if task == 'semantic':
        evaluator = as_list(cfg.test_evaluator)
        if not any(e.get('type') == 'BoundaryMetric' for e in evaluator):
            evaluator.append(dict(type='BoundaryMetric', trimap_widths=[1, 3]))
        cfg.test_evaluator = evaluator
    if start is not None:
        if TASKS[task]['start'] == 'segmentor':
            cfg.load_from = start['checkpoint_path']
        else:
            backbone, channels = instance_backbone(start['backbone'],
                                                   start['checkpoint_path'])
            if 'backbone' not in cfg.model:
                raise KeyError(f'{task} row config has no model.backbone to '
                               'initialise from the shared start')
            cfg.model.backbone = backbone
            neck = cfg.model.get('neck')
            if neck is not None and 'in_channels' in neck:
                neck['in_channels'] = channels
    return cfg


def config_sha(cfg) -> str:
    """sha256 of a config's text (what a cached run was made from)."""
    return hashlib.sha256(cfg.pretty_text.encode()).hexdigest()
