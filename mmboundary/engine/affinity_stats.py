# Copyright (c) mmboundary contributors. All rights reserved.
"""How many of the edges BoxInst / AsyInst train on are positive, and how
many of those join pixels of one instance (issue 19).

BoxInst's pairwise loss (Tian et al., CVPR 2021, Sec. 3.3) pulls the mask
predictions of the two ends of every *positive* edge together: an edge
joins a pixel ``p`` of the mask grid (the image average-pooled by the mask
stride ``s``) to a dilated neighbour ``q = p + D o``, and is positive when
its colour similarity ``S = exp(-||Lab(p) - Lab(q)|| / 2)`` reaches
``tau_c`` (0.3; eq. 12 of AsyInst). AsyInst (Yang et al., Sec. 3.1, eq. 1)
adds depth edges, positive when ``|d_p + d_q - 2 d_m| <= tau_d``. The loss
only learns from edges whose centre lies inside a box; it helps when many
of those are positive (the cue is there) and nearly all positive ones join
pixels of one instance (the cue is right).

For a config's train pipeline and its ``AsyInstDataPreprocessor`` (the
exact edges training uses), :func:`affinity_edge_stats` counts, among the
in-box edges whose ends are valid:

* ``colour``: the edges, the positive ones (``S >= tau_c``) and the
  positive ones joining *same-instance* pixels;
* ``depth`` (a ``depth_thresh``): the same for the depth edges (valid
  depth at both ends and the midpoint).

Two pixels are *same-instance* when the same GT instance mask covers both,
or none covers either (two background pixels). The GT masks are loaded by
the pipeline (``LoadAnnotations(with_mask=True)`` is set here) and go
through the same resize and flip as the image.

:func:`edge_share_table` turns such counts into a results table;
``tools/analysis_tools/asyinst_affinity_stats.py`` is the command line.
"""
import copy
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from mmboundary.models.utils import (depth_grad_affinity, dilated_neighbours,
                                     downsample_depth)

__all__ = [
    'same_instance_edges', 'count_edges', 'sample_edge_counts',
    'affinity_edge_stats', 'shares', 'edge_share_table', 'TARGETS'
]

#: Issue 19's targets: share of in-box colour edges with S >= tau_c, and
#: share of those that join same-instance pixels.
TARGETS = dict(positive=0.20, same=0.90)


def same_instance_edges(instance: Tensor,
                        kernel_size: int = 3,
                        dilation: int = 2) -> Tensor:
    """Edges whose two ends carry the same instance id.

    Args:
        instance (Tensor): (B, 1, h, w) integer instance ids on the mask
            grid, 0 = no instance (background).
        kernel_size (int): K.
        dilation (int): D.

    Returns:
        Tensor: (B, K**2 - 1, h, w) bool, channel order of
        :func:`~mmboundary.models.utils.dilated_neighbours` (a neighbour
        outside the map reads as id 0; such edges are invalid anyway).
    """
    nb = dilated_neighbours(instance, kernel_size, dilation)[:, 0]
    return nb == instance


def count_edges(positive: Tensor, valid: Tensor, in_box: Tensor,
                same: Tensor) -> Dict[str, float]:
    """Counts of in-box edges of one kind.

    Args:
        positive (Tensor): (B, E, h, w) 0/1, the positive edges.
        valid (Tensor): (B, E, h, w) 0/1, the edges whose ends are valid
            (a positive edge is valid).
        in_box (Tensor): (B, 1, h, w) 0/1, the edge's centre pixel lies in
            some box.
        same (Tensor): (B, E, h, w) bool, same-instance ends.

    Returns:
        dict: ``edges`` (valid in-box edges), ``positive`` (of those, the
        positive ones) and ``positive_same`` (of those, same-instance).
    """
    valid = valid.float() * in_box.float()
    pos = positive.float() * valid
    return dict(
        edges=float(valid.sum()),
        positive=float(pos.sum()),
        positive_same=float((pos * same.float()).sum()))


def _instance_grid(gt_masks, b_h: int, b_w: int, s: int) -> Tensor:
    """(1, 1, h, w) long instance ids (1-based, 0 = none) of GT masks
    sampled at the mask grid's pixels ``[s // 2::s, s // 2::s]``."""
    ids = torch.zeros(b_h, b_w, dtype=torch.long)
    masks = np.asarray(
        gt_masks.masks if hasattr(gt_masks, 'masks') else gt_masks)
    for j, mask in enumerate(masks):
        m = torch.from_numpy(np.ascontiguousarray(mask)).bool()
        ids[:m.shape[0], :m.shape[1]][m] = j + 1
    return ids[s // 2::s, s // 2::s][None, None]


def sample_edge_counts(pre,
                       inputs: Tensor,
                       sample,
                       gt_masks,
                       depth_threshs: Sequence[float] = ()) -> Dict:
    """The counts of one preprocessed training sample.

    Args:
        pre: The ``AsyInstDataPreprocessor`` that made ``sample``.
        inputs (Tensor): (1, 3, Hb, Wb) or (3, Hb, Wb) its padded input.
        sample: Its ``DetDataSample`` after the preprocessor (box masks in
            ``gt_instances.masks``, colour edges in ``pairwise_masks``).
        gt_masks: (N, H, W) GT instance masks (``BitmapMasks`` or array)
            of the boxes, as the pipeline left them.
        depth_threshs (Sequence[float]): tau_d values to count depth edges
            for (needs ``metainfo[pre.depth_key]``).

    Returns:
        dict: ``colour``: :func:`count_edges`; ``depth``: tau_d -> counts.
    """
    s, k, d = pre.mask_stride, pre.pairwise_size, pre.pairwise_dilation
    b_h, b_w = inputs.shape[-2:]
    gt = sample.gt_instances
    out = dict(
        colour=dict(edges=0.0, positive=0.0, positive_same=0.0), depth={})
    if len(gt) == 0:
        return out
    box = torch.from_numpy(gt.masks.masks[:, s // 2::s, s // 2::s]).float()
    in_box = box.amax(0)[None, None]  # (1, 1, h, w): centre in some box
    same = same_instance_edges(_instance_grid(gt_masks, b_h, b_w, s), k, d)
    # valid edges: the neighbour lies in the image mask (mmdet's rule)
    img_mask = torch.zeros(1, 1, b_h, b_w)
    img_h, img_w = sample.img_shape[:2]
    removed = int(pre.bottom_pixels_removed * float(img_h) / float(b_h))
    img_mask[..., :img_h - max(removed, 0), :img_w] = 1
    grid = img_mask[..., s // 2::s, s // 2::s]
    valid = dilated_neighbours(grid, k, d)[:, 0] * grid
    color = gt.pairwise_masks[:1]
    out['colour'] = count_edges(color, valid, in_box, same)
    if depth_threshs:
        depth = torch.zeros(1, 1, b_h, b_w)
        value = torch.as_tensor(
            np.asarray(sample.metainfo[pre.depth_key]), dtype=torch.float32)
        depth[0, 0, :img_h, :img_w] = value * pre.depth_scale
        depth_s, valid_s = downsample_depth(depth, s, img_mask)
        all_valid = depth_grad_affinity(
            depth_s, valid_s, k, d, thresh=float('inf'))
        for t in depth_threshs:
            pos = depth_grad_affinity(depth_s, valid_s, k, d, t)
            out['depth'][t] = count_edges(pos, all_valid, in_box, same)
    return out


def _add(total: Dict[str, float], part: Dict[str, float]) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0.0) + value


def _with_masks(pipeline: List) -> List:
    """The pipeline with ``LoadAnnotations(with_mask=True)``."""
    pipeline = copy.deepcopy(list(pipeline))
    for step in pipeline:
        if step.get('type', '').split('.')[-1] == 'LoadAnnotations':
            step['with_mask'] = True
            step.setdefault('poly2mask', True)
    return pipeline


def _dataset_cfg(loader_cfg: Dict) -> Dict:
    ds = loader_cfg['dataset']
    while 'pipeline' not in ds and 'dataset' in ds:
        ds = ds['dataset']
    return ds


def affinity_edge_stats(cfg,
                        num_batches: Optional[int] = None,
                        depth_threshs: Optional[Sequence[float]] = None,
                        data_root: Optional[str] = None,
                        progress: Optional[Iterable] = None,
                        seed: int = 0) -> Dict:
    """Count the in-box edges of a BoxInst / AsyInst config's training data.

    Args:
        cfg (mmengine.Config): A config whose ``model.data_preprocessor``
            is an ``AsyInstDataPreprocessor`` (BoxInst's and AsyInst's).
        num_batches (int, optional): Batches of the (unshuffled) train
            loader; None: all.
        depth_threshs (Sequence[float], optional): tau_d values; default:
            the preprocessor's ``depth_thresh`` (none without depth).
        data_root (str, optional): Another dataset root in the same layout
            (the train dataset's ``data_root``).
        progress (callable, optional): ``progress(total)`` returning an
            object with ``update()`` and ``close()`` (a progress bar).
        seed (int): Seeds the global RNGs (``random``, numpy, torch) that
            the pipeline's random transforms (``RandomFlip``) draw from, so
            a rerun counts the same edges.

    Returns:
        dict: ``colour`` and ``depth`` (tau_d -> counts) as in
        :func:`sample_edge_counts`, summed; ``batches``, ``images``,
        ``mask_stride``, ``pairwise_size``, ``pairwise_dilation``,
        ``color_thresh``.

    Raises:
        ValueError: the preprocessor is not an ``AsyInstDataPreprocessor``.
    """
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner, set_random_seed

    from mmboundary.registry import MMDET_MODELS
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    pre_cfg = cfg.model.data_preprocessor
    if pre_cfg.get('type') != 'AsyInstDataPreprocessor':
        raise ValueError(
            f'model.data_preprocessor is {pre_cfg.get("type")}, not '
            'AsyInstDataPreprocessor (BoxInst / AsyInst configs)')
    if depth_threshs is None:
        depth_threshs = [] if pre_cfg.get('depth_thresh') is None else [
            pre_cfg.depth_thresh
        ]
    if depth_threshs and pre_cfg.get('depth_thresh') is None:
        raise ValueError('depth thresholds need a config whose '
                         'preprocessor loads depth (depth_thresh set)')
    pre = MMDET_MODELS.build(pre_cfg)
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
    loader_cfg['num_workers'] = 0
    loader_cfg['persistent_workers'] = False
    ds = _dataset_cfg(loader_cfg)
    ds['pipeline'] = _with_masks(ds['pipeline'])
    if data_root is not None:
        ds['data_root'] = data_root
    set_random_seed(seed)
    loader = Runner.build_dataloader(loader_cfg, seed=seed)
    total_batches = len(loader) if num_batches is None else min(
        num_batches, len(loader))
    bar = progress(total_batches) if progress is not None else None
    colour: Dict[str, float] = {}
    depth: Dict[float, Dict[str, float]] = {t: {} for t in depth_threshs}
    images = 0
    for i, batch in enumerate(loader):
        if i >= total_batches:
            break
        gt_masks = [s.gt_instances.masks for s in batch['data_samples']]
        for sample in batch['data_samples']:
            del sample.gt_instances.masks
        out = pre(batch, training=True)
        for j, sample in enumerate(out['data_samples']):
            counts = sample_edge_counts(pre, out['inputs'][j], sample,
                                        gt_masks[j], depth_threshs)
            _add(colour, counts['colour'])
            for t in depth_threshs:
                _add(depth[t], counts['depth'].get(t, {}))
            images += 1
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return dict(
        colour=colour,
        depth=depth,
        batches=total_batches,
        images=images,
        mask_stride=pre.mask_stride,
        pairwise_size=pre.pairwise_size,
        pairwise_dilation=pre.pairwise_dilation,
        color_thresh=pre.pairwise_color_thresh)


def shares(counts: Dict[str, float]) -> Dict[str, Optional[float]]:
    """``positive`` = positive / edges and ``same`` = positive_same /
    positive (None where the denominator is 0)."""
    edges, pos = counts.get('edges', 0.0), counts.get('positive', 0.0)
    return dict(
        positive=pos / edges if edges else None,
        same=counts.get('positive_same', 0.0) / pos if pos else None)


def edge_share_table(rows: Sequence[Dict]) -> Dict:
    """A :func:`~mmboundary.utils.results_doc.dump_results` table.

    Args:
        rows (Sequence[dict]): ``data`` (text), ``config`` (name) and
            ``stats`` (:func:`affinity_edge_stats`) each.

    Returns:
        dict: ``columns``, ``rows`` (shares in %) and ``digits``.
    """
    out = []
    for row in rows:
        st = row['stats']
        c = shares(st['colour'])
        cells = [
            row['data'], row['config'],
            int(st['colour'].get('edges', 0)),
            _pct(c['positive']),
            _pct(c['same'])
        ]
        if st['depth']:
            for t, counts in sorted(st['depth'].items()):
                d = shares(counts)
                out.append(cells + [
                    f'{t:g}',
                    int(counts.get('edges', 0)),
                    _pct(d['positive']),
                    _pct(d['same'])
                ])
        else:
            out.append(cells + [None, None, None, None])
    return dict(
        columns=[
            'data', 'config', 'in-box colour edges', 'S >= tau_c (%)',
            'of those same-instance (%)', 'tau_d', 'in-box depth edges',
            'depth-positive (%)', 'of those same-instance (%)'
        ],
        rows=out,
        digits=1)


def _pct(value: Optional[float]) -> Optional[float]:
    return None if value is None else 100.0 * value
