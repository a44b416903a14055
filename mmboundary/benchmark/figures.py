# Copyright (c) mmboundary contributors. All rights reserved.
"""The figures next to the tables.

``<task>_boundaries.png``: per val image, the image, its GT boundary, the
baseline's predicted boundary and, for every method, its boundary against
its baseline's (green: only the method's, magenta: only the baseline's,
yellow: both), full size and in a zoomed crop where the rows disagree most.
The predicted boundaries are stored in ``<task>_boundaries.npz`` beside
the figure, so that it is redrawn without the checkpoints
(:func:`redraw_figures`).

``<task>_boundary_metrics.png``: the table's boundary metrics as grouped
bars with their values printed on them (error bars: sample std over seeds),
the legend outside the axes; drawn from the results alone.

``<task>_curves.png``: the validation curves of the baselines (issue 19,
item 2), one panel per metric of the convergence check, one line per
baseline run, the last quarter of the schedule shaded; drawn from the
results alone.
"""
import glob
import os.path as osp
import textwrap
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .common import REPO_ROOT, log, rel
from .rows import TASKS

#: Colours of the boundary comparison (RGB).
ONLY_METHOD = (0, 230, 0)
ONLY_BASELINE = (255, 0, 255)
BOTH = (255, 230, 0)
GT = (255, 0, 0)


def _semantic_boundary(label, ignore_index=None):
    from mmboundary.datasets.transforms.boundary import semantic_edge_map
    edge = semantic_edge_map(label, ignore_index=ignore_index)
    return edge == 1


def _instance_boundary(masks, shape):
    from mmboundary.evaluation.functional.boundary_iou import mask_to_boundary
    out = np.zeros(shape, bool)
    for mask in masks:
        out |= mask_to_boundary(mask, width=1)
    return out


def predict_boundaries(task: str,
                       cfg_path: str,
                       ckpt: str,
                       images: Sequence[str],
                       device: str,
                       score_thr: float = 0.5) -> List[np.ndarray]:
    """(H, W) bool boundaries of a row's predictions on ``images``."""
    if task == 'semantic':
        from mmseg.apis import inference_model, init_model
        model = init_model(cfg_path, ckpt, device=device)
        out = []
        for img in images:
            pred = inference_model(model, img).pred_sem_seg.data[0]
            out.append(_semantic_boundary(pred.cpu().numpy()))
        return out
    from mmcv.transforms import Compose
    from mmdet.apis import inference_detector, init_detector
    model = init_detector(cfg_path, ckpt, device=device)
    pipeline = Compose([
        t for t in model.cfg.test_dataloader.dataset.pipeline
        if t['type'] != 'LoadAnnotations'
    ])
    out = []
    for img in images:
        inst = inference_detector(
            model, img, test_pipeline=pipeline).pred_instances
        keep = inst.scores >= score_thr
        masks = inst.masks[keep].cpu().numpy()
        shape = inst.masks.shape[-2:]
        out.append(_instance_boundary(masks, tuple(shape)))
    return out


def gt_boundaries(task: str, root: str,
                  num: int) -> Tuple[List[str], List[np.ndarray]]:
    """The first ``num`` val images and their GT boundaries."""
    import cv2
    if task == 'semantic':
        labels = sorted(
            glob.glob(
                osp.join(root, 'gtFine', 'val', '*',
                         '*_labelTrainIds.png')))[:num]
        images = [
            p.replace('gtFine', 'leftImg8bit',
                      1).replace('_gtFine_labelTrainIds', '_leftImg8bit')
            for p in labels
        ]
        return images, [
            _semantic_boundary(
                cv2.imread(p, cv2.IMREAD_UNCHANGED), ignore_index=255)
            for p in labels
        ]
    from pycocotools.coco import COCO
    coco = COCO(
        osp.join(root, 'annotations',
                 'instancesonly_filtered_gtFine_val.json'))
    images, bounds = [], []
    for img_id in sorted(coco.getImgIds())[:num]:
        info = coco.loadImgs(img_id)[0]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id, iscrowd=False))
        images.append(osp.join(root, 'leftImg8bit', 'val', info['file_name']))
        bounds.append(
            _instance_boundary([coco.annToMask(a) for a in anns],
                               (info['height'], info['width'])))
    return images, bounds


def _dilate(boundary: np.ndarray, width: int) -> np.ndarray:
    """``boundary`` thickened to ``width`` pixels (odd), for the full-size
    panels (a 1-px line is lost when the figure is scaled down)."""
    if width <= 1:
        return boundary
    import cv2
    kernel = np.ones((width, width), np.uint8)
    return cv2.dilate(boundary.astype(np.uint8), kernel).astype(bool)


def overlay(image: np.ndarray,
            boundary: np.ndarray,
            color=GT,
            width: int = 1) -> np.ndarray:
    """(H, W, 3) ``image`` with ``boundary`` (H, W) bool drawn in
    ``color``, ``width`` pixels wide."""
    out = image.copy()
    out[_dilate(boundary, width)] = color
    return out


def difference_overlay(image: np.ndarray,
                       method: np.ndarray,
                       baseline: np.ndarray,
                       width: int = 1) -> np.ndarray:
    """(H, W, 3) ``image`` with two boundaries (H, W) bool compared:
    :data:`ONLY_METHOD` where only ``method`` has one, :data:`ONLY_BASELINE`
    where only ``baseline`` has one, :data:`BOTH` where both have."""
    m, b = _dilate(method, width), _dilate(baseline, width)
    out = image.copy()
    out[m & ~b] = ONLY_METHOD
    out[b & ~m] = ONLY_BASELINE
    out[m & b] = BOTH
    return out


def zoom_window(disagreement: np.ndarray,
                frac: float = 0.4) -> Tuple[int, int, int, int]:
    """The ``(top, left, height, width)`` window of ``frac`` times the
    (H, W) map's size holding the most ``disagreement`` pixels (ties: the
    first, top-left to bottom-right; no disagreement: the centre)."""
    h, w = disagreement.shape
    wh, ww = max(1, int(round(h * frac))), max(1, int(round(w * frac)))
    if not disagreement.any():
        return (h - wh) // 2, (w - ww) // 2, wh, ww
    # integral image: the count in every window position at once
    cum = np.pad(
        disagreement.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    counts = (
        cum[wh:, ww:] - cum[:-wh, ww:] - cum[wh:, :-ww] + cum[:-wh, :-ww])
    top, left = np.unravel_index(int(np.argmax(counts)), counts.shape)
    return int(top), int(left), wh, ww


def disagreement(entries: Sequence[Dict], preds: Sequence[np.ndarray],
                 gt: np.ndarray) -> np.ndarray:
    """(H, W) bool: where a method's boundary and its baseline's differ
    (any row with a ``compared_with`` among ``entries``); with no such
    pair, where the rows' boundaries differ from the GT ``gt``."""
    index = {e['name']: j for j, e in enumerate(entries)}
    out = np.zeros(gt.shape, bool)
    for j, e in enumerate(entries):
        versus = index.get(e.get('compared_with'))
        if versus is not None:
            out |= preds[j] ^ preds[versus]
    if not out.any():
        for pred in preds:
            out |= pred ^ gt
    return out


def boundary_panels(image: np.ndarray, gt: np.ndarray,
                    preds: Sequence[np.ndarray], entries: Sequence[Dict],
                    width: int) -> List[Tuple[str, np.ndarray]]:
    """The titled panels of one image: image, GT, then per row its
    boundary (a table baseline) or its difference to its own baseline's
    (a method; ``compared_with`` names it)."""
    index = {e['name']: j for j, e in enumerate(entries)}
    panels = [('image', image), ('GT boundary', overlay(image, gt, GT, width))]
    for j, e in enumerate(entries):
        versus = e.get('compared_with')
        if versus is None or versus not in index:
            panels.append((e['name'], overlay(image, preds[j], GT, width)))
        else:
            panels.append((f"{e['name']}\nvs {versus}",
                           difference_overlay(image, preds[j],
                                              preds[index[versus]], width)))
    return panels


def draw_boundary_figure(task: str, entries: Sequence[Dict],
                         images: Sequence[np.ndarray],
                         gts: Sequence[np.ndarray],
                         preds: Sequence[Sequence[np.ndarray]],
                         path: str) -> None:
    """Draw ``<task>_boundaries.png`` at ``path``.

    Args:
        task (str): The table.
        entries (list[dict]): Its rows (``name``, ``compared_with``).
        images (list[np.ndarray]): (H, W, 3) RGB val images.
        gts (list[np.ndarray]): Their (H, W) bool GT boundaries.
        preds (list[list[np.ndarray]]): Per row, per image, its (H, W)
            bool predicted boundary.
        path (str): The PNG to write.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    cols = 2 + len(entries)
    fig, axes = plt.subplots(
        2 * len(images),
        cols,
        figsize=(2.6 * cols, 2.9 * len(images) + 0.6),
        squeeze=False)
    for i, rgb in enumerate(images):
        top, left, wh, ww = zoom_window(
            disagreement(entries, [p[i] for p in preds], gts[i]))
        full = boundary_panels(
            rgb, gts[i], [p[i] for p in preds], entries, width=3)
        zoom = boundary_panels(
            rgb[top:top + wh, left:left + ww],
            gts[i][top:top + wh, left:left + ww],
            [p[i][top:top + wh, left:left + ww] for p in preds],
            entries,
            width=1)
        for j, ((title, panel), (_, crop)) in enumerate(zip(full, zoom)):
            ax, zax = axes[2 * i, j], axes[2 * i + 1, j]
            ax.imshow(panel)
            ax.add_patch(
                Rectangle((left - 0.5, top - 0.5),
                          ww,
                          wh,
                          fill=False,
                          edgecolor='white',
                          linewidth=0.8,
                          linestyle='--'))
            zax.imshow(crop, interpolation='nearest')
            for a in (ax, zax):
                a.set_xticks([])
                a.set_yticks([])
            if i == 0:
                ax.set_title(title, fontsize=8)
            if j == 0:
                ax.set_ylabel(f'val {i}', fontsize=8)
                zax.set_ylabel('zoom (dashed box)', fontsize=8)
    title = (f"{TASKS[task]['title']}: predicted boundaries (first seed). "
             'Methods vs their baseline: green = only the method, magenta = '
             'only the baseline, yellow = both; red = GT or a table '
             "baseline's prediction")
    # about 14 characters per inch at 8 pt
    fig.suptitle(
        '\n'.join(textwrap.wrap(title, width=int(14 * 2.6 * cols))),
        fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def metric_bars_figure(task: str, entries: Sequence[Dict]):
    """The boundary-metric bar chart of a table from its rows' summaries:
    grouped bars per boundary metric with the value printed on every bar
    (so a zero bar reads 0.0), error bars of the sample std over seeds, a
    thin outline that shows a zero bar, the legend outside the axes.

    Returns:
        tuple | None: ``(figure, legend)``; None when no boundary metric is
        reported by every row.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    keys = [
        k for k in TASKS[task]['boundary']
        if all(k in e['summary'] for e in entries)
    ]
    if not keys:
        return None
    headers = {k: h for k, h, _ in TASKS[task]['metrics']}
    fig, ax = plt.subplots(figsize=(2.4 + 1.7 * len(keys), 3.4))
    width = 0.8 / len(entries)
    top = 0.0
    for j, e in enumerate(entries):
        means = [e['summary'][k]['mean'] for k in keys]
        stds = [e['summary'][k]['std'] for k in keys]
        err = None if any(s is None for s in stds) else stds
        x = np.arange(len(keys)) + (j - (len(entries) - 1) / 2) * width
        ax.bar(
            x,
            means,
            width,
            yerr=err,
            capsize=2,
            label=e['name'],
            edgecolor='black',
            linewidth=0.4)
        for xi, m, s in zip(x, means, err or [0.0] * len(keys)):
            # above the error bar, clear of its cap
            ax.annotate(
                f'{m:.1f}',
                xy=(xi, m + s),
                xytext=(0, 3),
                textcoords='offset points',
                ha='center',
                va='bottom',
                rotation=90,
                fontsize=7)
            top = max(top, m + s)
    ax.set_ylim(0, max(top, 1.0) * 1.25)
    ax.set_xticks(np.arange(len(keys)))
    ax.set_xticklabels([headers[k] for k in keys], fontsize=8)
    ax.set_ylabel('%')
    n = len(entries[0]['seeds'])
    ax.set_title(
        f"{TASKS[task]['title']}: boundary metrics (" +
        (f'mean ± std, {n} seeds)' if n > 1 else '1 seed)'),
        fontsize=9)
    legend = ax.legend(
        fontsize=8, loc='upper left', bbox_to_anchor=(1.01, 1.0))
    return fig, legend


def draw_metric_bars(task: str, entries: Sequence[Dict], path: str) -> bool:
    """Draw :func:`metric_bars_figure` at ``path``; False when there is
    nothing to draw."""
    import matplotlib.pyplot as plt
    drawn = metric_bars_figure(task, entries)
    if drawn is None:
        return False
    fig, legend = drawn
    fig.savefig(
        path, dpi=100, bbox_inches='tight', bbox_extra_artists=[legend])
    plt.close(fig)
    return True


def _read_rgb(path: str) -> np.ndarray:
    import cv2
    image = cv2.imread(path)
    if image is None:
        raise FileNotFoundError(f'cannot read the val image {path}')
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def curves_name(task: str) -> str:
    """File name of a table's validation-curve figure."""
    return f'{task}_curves.png'


def curves_figure(task: str, entries: Sequence[Dict]):
    """The validation curves of the rows that have one (``runs[i]
    ['curve']``): one panel per metric of ``TASKS[task]['power']``, one
    line per row and seed, the last quarter of the schedule (where
    :func:`~.stats.curve_converged` looks) shaded.

    Returns:
        tuple | None: ``(figure, legend)``; None when no run has a curve.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    runs = [(e, r) for e in entries for r in e['runs'] if r.get('curve')]
    if not runs:
        return None
    keys = TASKS[task]['power']
    headers = {k: h for k, h, _ in TASKS[task]['metrics']}
    fig, axes = plt.subplots(
        1, len(keys), figsize=(3.6 * len(keys), 3.0), squeeze=False)
    fig.subplots_adjust(wspace=0.4, top=0.82)
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
    names = [e['name'] for e in entries]
    for ax, key in zip(axes[0], keys):
        max_iters = max(r['iters'] for _, r in runs)
        ax.axvspan(0.75 * max_iters, max_iters, color='0.9', lw=0)
        for e, r in runs:
            xs = [p['iter'] for p in r['curve']]
            ys = [p['metrics'].get(key) for p in r['curve']]
            colour = colours[names.index(e['name']) % len(colours)]
            ax.plot(
                xs, [np.nan if y is None else y for y in ys],
                marker='o',
                markersize=2.5,
                linewidth=1.0,
                color=colour,
                label=f"{e['name']} (seed {r['seed']})")
        ax.set_xlabel('iteration', fontsize=8)
        ax.set_ylabel(f'{headers[key]} (%)', fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(
        f"{TASKS[task]['title']}: baselines' validation curves (shaded: "
        'last quarter, plateau if it moves < 1 point)',
        fontsize=9)
    handles, labels = axes[0][-1].get_legend_handles_labels()
    legend = axes[0][-1].legend(
        handles,
        labels,
        fontsize=7,
        loc='upper left',
        bbox_to_anchor=(1.01, 1.0))
    return fig, legend


def draw_curves(task: str, entries: Sequence[Dict], path: str) -> bool:
    """Draw :func:`curves_figure` at ``path``; False when no run has a
    curve (nothing written)."""
    import matplotlib.pyplot as plt
    drawn = curves_figure(task, entries)
    if drawn is None:
        return False
    fig, legend = drawn
    fig.savefig(
        path,
        dpi=100,
        bbox_inches='tight',
        bbox_extra_artists=[legend, *fig.texts])
    plt.close(fig)
    return True


def store_boundaries(path: str, images: Sequence[str],
                     gts: Sequence[np.ndarray],
                     preds: Sequence[Sequence[np.ndarray]],
                     names: Sequence[str]) -> None:
    """Keep what the boundary figure shows (``.npz``): the images' paths,
    the GT and every row's predicted boundaries."""
    arrays = dict(
        images=np.array([rel(p) for p in images]),
        names=np.array(list(names)),
        gt=np.stack(gts))
    for j, p in enumerate(preds):
        arrays[f'pred{j}'] = np.stack(p)
    np.savez_compressed(path, **arrays)


def load_boundaries(
    path: str
) -> Tuple[List[str], List[np.ndarray], Dict[str, List[np.ndarray]]]:
    """What :func:`store_boundaries` kept: image paths, GT boundaries and
    row name -> predicted boundaries."""
    with np.load(path) as data:
        names = [str(n) for n in data['names']]
        images = [
            p if osp.isabs(p) else osp.join(REPO_ROOT, p)
            for p in (str(i) for i in data['images'])
        ]
        return images, list(data['gt']), {
            name: list(data[f'pred{j}'])
            for j, name in enumerate(names)
        }


def draw_figures(task: str, entries: Sequence[Dict], root: str, out_dir: str,
                 num: int, device: str) -> Dict[str, str]:
    """``<task>_boundaries.png`` (image | GT boundary | each row's
    predicted boundary, first seed; kept in ``<task>_boundaries.npz``) and
    ``<task>_boundary_metrics.png`` (bars, error bars = sample std when
    seeds > 1)."""
    figures = {}
    images, gts = gt_boundaries(task, root, num)
    preds = [
        predict_boundaries(
            task, osp.join(REPO_ROOT, e['runs'][0]['resolved_config']),
            osp.join(REPO_ROOT, e['runs'][0]['checkpoint']), images, device)
        for e in entries
    ]
    store_boundaries(
        osp.join(out_dir, f'{task}_boundaries.npz'), images, gts, preds,
        [e['name'] for e in entries])
    name = f'{task}_boundaries.png'
    draw_boundary_figure(task, entries, [_read_rgb(p) for p in images], gts,
                         preds, osp.join(out_dir, name))
    figures['boundaries'] = name
    name = f'{task}_boundary_metrics.png'
    if draw_metric_bars(task, entries, osp.join(out_dir, name)):
        figures['boundary metrics'] = name
    return figures


def redraw_figures(results: Dict, out_dir: str) -> List[str]:
    """Redraw the figures of ``results`` into ``out_dir`` from stored data
    alone: the bar charts from the results, the boundary figures from the
    ``<task>_boundaries.npz`` there (when present; the val images must
    exist).

    Returns:
        list[str]: The figures redrawn.
    """
    done = []
    for task, data in results['tasks'].items():
        figures = data.get('figures') or {}
        name = figures.get('boundary metrics')
        if name and draw_metric_bars(task, data['rows'], osp.join(
                out_dir, name)):
            done.append(name)
        name = figures.get('curves')
        if name and draw_curves(task, data['rows'], osp.join(out_dir, name)):
            done.append(name)
        name = figures.get('boundaries')
        stored = osp.join(out_dir, f'{task}_boundaries.npz')
        if not name or not osp.isfile(stored):
            continue
        images, gts, preds = load_boundaries(stored)
        missing = [e['name'] for e in data['rows'] if e['name'] not in preds]
        if missing:
            log(f'{stored} lacks the rows {missing}; {name} kept as it is')
            continue
        draw_boundary_figure(task, data['rows'],
                             [_read_rgb(p) for p in images], gts,
                             [preds[e['name']] for e in data['rows']],
                             osp.join(out_dir, name))
        done.append(name)
    return done
