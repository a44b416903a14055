# Copyright (c) mmboundary contributors. All rights reserved.
"""blurring_mean_shift on half-precision maps (found by the GPU check's
fp16 autocast run): the sentinel's sums overflowed fp16 to NaN on invalid
pixels; the shift now runs in fp32 and returns the input's dtype."""
import pytest
import torch

from mmboundary.models.utils.mean_shift import blurring_mean_shift


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_map_with_invalid_pixels_is_finite_and_equals_fp32(dtype):
    gen = torch.Generator().manual_seed(0)
    x = torch.zeros(1, 1, 20, 24)
    x[..., 4:12, 5:15] = 1.5
    x[..., 13:19, 2:20] = 3.0
    x = (x + 0.05 * torch.rand(x.shape, generator=gen)).to(dtype)
    valid = torch.ones_like(x, dtype=torch.bool)
    valid[..., :, -4:] = False
    got = blurring_mean_shift(x, 5, 0.9, 4, valid)
    assert got.dtype == dtype
    assert torch.isfinite(got).all()
    ref = blurring_mean_shift(x.float(), 5, 0.9, 4, valid)
    assert torch.equal(got, ref.to(dtype))
    assert (got[..., -4:] == 0).all()
