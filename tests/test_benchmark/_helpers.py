# Copyright (c) mmboundary contributors. All rights reserved.
"""Hand-made records and results shared by the benchmark's tests."""
from mmboundary.benchmark import report
from mmboundary.benchmark import rows as rows_mod

#: The shared start's checkpoint in resolved configs (never loaded here).
START = '/starts/segmentor.pth'


def two_semantic_rows():
    """The semantic baseline and SEMEDA rows (hand-made records cover
    these two; other rows may be declared beside them)."""
    return [
        r for r in rows_mod.task_rows('semantic')
        if r.name in ('FCN (CE)', 'FCN + SEMEDA')
    ]


def records(values, seeds=(0, 1, 2)):
    """{row: [record per seed]} with mIoU and mBIoU from ``values``."""
    return {
        name: [
            dict(
                name=name,
                seed=s,
                iters=300,
                train_s=10.0 * (i + 1),
                test_s=5.0,
                metrics=dict(mIoU=m, mBIoU=b, mBF=None))
            for i, (s, m, b) in enumerate(zip(seeds, *vals))
        ]
        for name, vals in values.items()
    }


def results(command, elapsed_s, reused=False):
    """A results.json of two semantic rows at one seed."""
    recs = records(
        {
            'FCN (CE)': ([30.0], [20.0]),
            'FCN + SEMEDA': ([29.0], [20.5])
        },
        seeds=(0, ))
    if reused:  # runs from an earlier invocation carry the flag
        recs['FCN (CE)'][0]['reused'] = True
        recs['FCN + SEMEDA'][0]['reused'] = False
    entries = report.summarize_task('semantic', recs, two_semantic_rows())
    return dict(
        command=command,
        machine='test machine',
        seeds=[0],
        start=dict(
            key='k' * 64,
            config='c.py',
            iters=4,
            seed=0,
            train_s=1.0,
            status='reused'),
        tasks=dict(
            semantic=dict(
                rows=entries,
                trivial=dict(name='t', metrics=dict(mIoU=2.0)),
                figures=dict(boundaries='semantic_boundaries.png'))),
        elapsed_s=elapsed_s,
        load_average_start=1.0,
        load_average_end=2.0)


def old_format(res, load_average):
    """``res`` as written before the load averages were kept as numbers:
    one display string."""
    old = {k: v for k, v in res.items() if not k.startswith('load_average_')}
    old['load_average'] = load_average
    return old


def publish_tree(tmp_path, monkeypatch):
    """A repository root in ``tmp_path``: a work dir with a figure, a
    README with an empty results block, SEMEDA's README with its block."""
    from mmboundary.benchmark import common
    from mmboundary.utils.results_doc import new_block
    monkeypatch.setattr(common, 'REPO_ROOT', str(tmp_path))
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    (work_dir / 'semantic_boundaries.png').write_bytes(b'png')
    readme = tmp_path / 'README.md'
    readme.write_text(
        f'# x\n\n{report.README_BEGIN}\n{report.README_END}\nend\n')
    method_readme = tmp_path / 'configs' / 'semeda' / 'README.md'
    method_readme.parent.mkdir(parents=True)
    method_readme.write_text('evidence:\n' +
                             new_block('docs/main_job/tables.json', 'semeda') +
                             '\n')
    return work_dir, readme, method_readme
