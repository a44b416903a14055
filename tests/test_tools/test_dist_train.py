# Copyright (c) mmboundary contributors. All rights reserved.
"""tools/dist_train.sh: 2-process DDP training on CPU (gloo)."""
import glob
import json
import os.path as osp

import numpy as np

from ..conftest import PROBE_CFG, data_root_options, run_launcher


def test_two_process_cpu_training(tiny_seg_root, tmp_path):
    work_dir = str(tmp_path / 'ddp')
    run_launcher([
        'tools/dist_train.sh', PROBE_CFG, '2', '--work-dir', work_dir,
        '--cfg-options', *data_root_options(tiny_seg_root),
        'train_cfg.max_iters=2'
    ])

    probes = []
    for rank in (0, 1):
        with open(osp.join(work_dir, f'probe_rank{rank}.json')) as f:
            probes.append(json.load(f))
    # both ranks ran, in one world of size 2
    assert [p['rank'] for p in probes] == [0, 1]
    assert all(p['world_size'] == 2 for p in probes)
    assert all(len(p['records']) == 2 for p in probes)

    lr = probes[0]['lr']
    for it in range(2):
        r0, r1 = probes[0]['records'][it], probes[1]['records'][it]
        # each rank saw its own batch ...
        assert r0['loss'] != r1['loss']
        g0, g1 = np.array(r0['grad']), np.array(r1['grad'])
        assert not np.allclose(g0, g1)
        # ... yet both applied the same update: the gradient averaged over
        # the ranks (SGD, momentum 0.9, fresh buffer at iteration 0).
        np.testing.assert_allclose(r0['after'], r1['after'], atol=1e-7)
        if it == 0:
            step = np.array(r0['after']) - np.array(r0['before'])
            np.testing.assert_allclose(
                step, -lr * (g0 + g1) / 2, rtol=1e-4, atol=1e-7)
            assert not np.allclose(step, -lr * (g0 + g1), atol=1e-7)

    # rank 0 alone wrote exactly one checkpoint
    ckpts = [osp.basename(p) for p in glob.glob(osp.join(work_dir, '*.pth'))]
    assert ckpts == ['iter_2.pth']
