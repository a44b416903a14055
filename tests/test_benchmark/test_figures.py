# Copyright (c) mmboundary contributors. All rights reserved.
"""mmboundary.benchmark.figures: boundary comparisons on hand-made masks,
the zoom window, the bar chart's labels and legend, and figures redrawn
from stored data."""
import cv2
import numpy as np
import pytest

from mmboundary.benchmark import figures as job
from mmboundary.benchmark.report import summarize_task
from mmboundary.benchmark.rows import TASKS
from ._helpers import records, two_semantic_rows


def test_difference_overlay_colours_each_case():
    image = np.zeros((1, 4, 3), np.uint8)
    method = np.array([[1, 1, 0, 0]], bool)
    baseline = np.array([[0, 1, 1, 0]], bool)
    out = job.difference_overlay(image, method, baseline)
    assert [tuple(p) for p in out[0]
            ] == [job.ONLY_METHOD, job.BOTH, job.ONLY_BASELINE, (0, 0, 0)]
    assert image.max() == 0  # the input is not drawn on


def test_overlay_thickens_lines_for_the_full_view():
    image = np.zeros((5, 5, 3), np.uint8)
    line = np.zeros((5, 5), bool)
    line[2, 2] = True
    assert (job.overlay(image, line, width=1)[..., 0] > 0).sum() == 1
    thick = job.overlay(image, line, width=3)
    assert (thick[..., 0] > 0).sum() == 9
    assert (thick[1:4, 1:4] == job.GT).all()


def test_zoom_window_holds_the_most_disagreement():
    d = np.zeros((10, 10), bool)
    d[7:10, 6:10] = True  # 12 pixels in the bottom right
    d[0, 0] = True
    # 4x4 window: positions top 6 (rows 6-9) hold all 12 at left 6
    assert job.zoom_window(d, frac=0.4) == (6, 6, 4, 4)
    # no disagreement: the centre
    assert job.zoom_window(np.zeros((10, 20), bool), frac=0.5) == (2, 5, 5, 10)
    # ties: the first position (top-left first)
    d = np.zeros((4, 4), bool)
    d[0, 0] = d[3, 3] = True
    assert job.zoom_window(d, frac=0.5) == (0, 0, 2, 2)
    # random maps against brute force over every window position
    rng = np.random.default_rng(0)
    for _ in range(20):
        d = rng.random((13, 21)) < rng.uniform(0.05, 0.5)
        top, left, wh, ww = job.zoom_window(d, frac=0.4)
        assert (wh, ww) == (5, 8)
        counts = [[d[t:t + 5, c:c + 8].sum() for c in range(21 - 8 + 1)]
                  for t in range(13 - 5 + 1)]
        best = np.unravel_index(np.argmax(counts), np.shape(counts))
        assert (top, left) == tuple(int(v) for v in best)


def test_disagreement_of_methods_with_their_baselines_else_with_gt():
    gt = np.array([[1, 0, 0, 0]], bool)
    base = np.array([[0, 1, 0, 0]], bool)
    method = np.array([[0, 1, 1, 0]], bool)
    other = np.array([[0, 0, 0, 1]], bool)
    entries = [
        dict(name='B', compared_with=None),
        dict(name='M', compared_with='B'),
        dict(name='O', compared_with='M')
    ]
    # M vs B differ at 2, O vs M at 1, 2, 3
    assert job.disagreement(entries, [base, method, other],
                            gt).tolist() == [[False, True, True, True]]
    assert job.disagreement(entries[:2], [base, method],
                            gt).tolist() == [[False, False, True, False]]
    # a baseline alone: where it differs from the GT
    assert job.disagreement(entries[:1], [base],
                            gt).tolist() == [[True, True, False, False]]


def _entries(seeds=(0, 1)):
    recs = records(
        {
            'FCN (CE)': ([30.0, 30.5], [20.0, 21.0]),
            'FCN + SEMEDA': ([31.0, 33.0], [0.0, 0.0]),
        },
        seeds=seeds)
    for runs in recs.values():
        for r in runs:
            r.update(resolved_config='x.py', checkpoint='x.pth')
    entries = summarize_task('semantic', recs, two_semantic_rows())
    for e in entries:  # the bar chart needs every boundary metric
        for k in TASKS['semantic']['boundary']:
            e['summary'].setdefault(k, dict(mean=5.0, std=1.0, n=2))
    return entries


def test_bars_print_their_values_and_keep_the_legend_off_the_bars():
    pytest.importorskip('matplotlib')
    import matplotlib.pyplot as plt
    fig, legend = job.metric_bars_figure('semantic', _entries())
    ax = fig.axes[0]
    # one label per bar, row by row: mBIoU, mBF, trimap, mBA; SEMEDA's
    # mBIoU is 0 and still printed
    assert [t.get_text() for t in ax.texts
            ] == ['20.5', '5.0', '5.0', '5.0', '0.0', '5.0', '5.0', '5.0']
    # at the top of the error bar: mean + std (20.5 + 0.71)
    assert ax.texts[0].xy == (pytest.approx(-0.2),
                              pytest.approx(20.5 + 0.7071, 1e-3))
    assert ax.texts[4].xy[1] == 0.0  # SEMEDA's zero, std 0
    # every bar has an outline (a zero bar is a visible line)
    assert all(p.get_linewidth() > 0 for p in ax.patches)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert legend.get_window_extent(renderer).x0 >= \
        ax.get_window_extent(renderer).x1
    plt.close(fig)
    assert job.metric_bars_figure('instance', [dict(summary={})]) is None


def test_figures_are_drawn_stored_and_redrawn(tiny_root, tmp_path,
                                              monkeypatch):
    pytest.importorskip('matplotlib')
    _, gts = job.gt_boundaries('semantic', tiny_root, 2)
    assert len(gts) == 2 and gts[0].any() and gts[0].dtype == bool
    shifted = [np.roll(g, 3, axis=1) for g in gts]
    monkeypatch.setattr(
        job, 'predict_boundaries', lambda task, cfg, ckpt, images, device: gts
        if 'first' not in cfg else shifted)
    entries = _entries()
    entries[0]['runs'][0]['resolved_config'] = 'first.py'
    figures = job.draw_figures('semantic', entries, tiny_root, str(tmp_path),
                               2, 'cpu')
    assert figures == {
        'boundaries': 'semantic_boundaries.png',
        'boundary metrics': 'semantic_boundary_metrics.png'
    }
    drawn = {}
    for name in figures.values():
        drawn[name] = cv2.imread(str(tmp_path / name))
        assert drawn[name] is not None and drawn[name].shape[0] > 100
    images, stored_gts, preds = job.load_boundaries(
        str(tmp_path / 'semantic_boundaries.npz'))
    assert len(images) == 2 and all(
        (a == b).all() for a, b in zip(stored_gts, gts))
    assert all((a == b).all() for a, b in zip(preds['FCN (CE)'], shifted))
    assert all((a == b).all() for a, b in zip(preds['FCN + SEMEDA'], gts))
    # redrawn from the stored data alone: the same pixels
    for name in figures.values():
        (tmp_path / name).unlink()
    monkeypatch.setattr(job, 'predict_boundaries', None)
    results = dict(tasks=dict(semantic=dict(rows=entries, figures=figures)))
    assert job.redraw_figures(results, str(tmp_path)) == [
        'semantic_boundary_metrics.png', 'semantic_boundaries.png'
    ]
    for name in figures.values():
        assert (cv2.imread(str(tmp_path / name)) == drawn[name]).all(), name


def test_curves_figure_draws_every_curve_run(tmp_path):
    """Issue 19, item 2: one line per baseline run with a curve, one panel
    per metric of the convergence check; redrawn from the results."""
    recs = records(
        {
            'FCN (CE)': ([30.0, 31.0], [20.0, 21.0]),
            'FCN + SEMEDA': ([31.0, 32.0], [21.0, 22.0]),
        },
        seeds=(0, 1))
    for run in recs['FCN (CE)']:
        run['curve'] = [
            dict(iter=i, metrics=dict(mIoU=20.0 + i / 10, mBF=10.0 + i / 20))
            for i in (25, 50, 75, 100)
        ]
    entries = summarize_task('semantic', recs, two_semantic_rows())
    fig, legend = job.curves_figure('semantic', entries)
    axes = fig.axes
    assert [a.get_ylabel() for a in axes] == ['mIoU (%)', 'mBF (%)']
    assert [t.get_text() for t in legend.get_texts()
            ] == ['FCN (CE) (seed 0)', 'FCN (CE) (seed 1)']
    line = axes[0].get_lines()[0]
    assert list(line.get_xdata()) == [25, 50, 75, 100]
    assert list(line.get_ydata()) == [22.5, 25.0, 27.5, 30.0]
    path = tmp_path / job.curves_name('semantic')
    assert job.draw_curves('semantic', entries, str(path))
    assert cv2.imread(str(path)) is not None
    path.unlink()
    res = dict(
        tasks=dict(
            semantic=dict(
                rows=entries, figures=dict(
                    curves=job.curves_name('semantic')))))
    assert job.redraw_figures(res, str(tmp_path)) == ['semantic_curves.png']
    assert path.is_file()
    # no curves: nothing drawn
    for run in recs['FCN (CE)']:
        del run['curve']
    entries = summarize_task('semantic', recs, two_semantic_rows())
    assert job.curves_figure('semantic', entries) is None
    assert not job.draw_curves('semantic', entries, str(tmp_path / 'x.png'))
