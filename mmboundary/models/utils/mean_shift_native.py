# Copyright (c) mmboundary contributors. All rights reserved.
"""Fused CPU kernel of the blurring mean-shift (DVIS discretiser),
bit-equal to the torch code.

:func:`mmboundary.models.utils.mean_shift.blurring_mean_shift` visits the
``(2s + 1)^2`` neighbours as shifted views: every pixel pair costs ten
passes of torch element-wise ops over a stripe (difference, square, scale,
attenuation test and shift, exp, four accumulations), and torch's ``exp``
takes a slow path (30-45 ns against 0.5 ns) on the many exponents below
-87 (sentinel pairs at borders and padding, far-apart plateaus). Here a
small C kernel (no torch headers, called through :mod:`ctypes`) does the
per-pair work in two passes, and the exponentials stay torch's:

* ``mb_exponents`` writes the pair exponents of a group of offsets of a
  stripe (same operations, in the same float32 order, as the torch code);
  those below -105, whose weight is exactly 0 in float32, are replaced by a
  placeholder, and those in the subnormal range are computed by libm's
  ``expf``, checked bit for bit against torch's ``exp`` on every float of
  that range when the kernel is loaded (:func:`_calibrate`; the few where
  they differ are left to torch);
* torch's ``exp_`` runs on the buffer (element-wise: grouping offsets into
  one call changes no bit);
* ``mb_credit`` credits, offset by offset, every pixel of the stripe with
  its pair (centre), then every partner, as the torch code does (with the
  fused multiply-add of torch's ``addcmul_``), skipping the exact zeros
  (flagged by ``mb_exponents``).

Both C passes run on ``torch.get_num_threads()`` POSIX threads: the
exponent pass splits the buffered rows (each thread writes its own rows and
its own part of the lists), the credit pass splits the output rows ("pull"
order: each thread credits, offset by offset, centre then partner, only the
rows it owns), so every output float sees the same operations in the same
order as with one thread, and the result does not depend on the number of
threads. The result is the torch code's, bit for bit (the tests check it
on borders, stripes, batches and trained-like maps, with 1 to 5 threads).
Memory: the torch code's padded map, ``num`` and ``den``, plus fixed
buffers of at most 7.25 MiB (pair weights for one ``exp`` call and their
zero flags, lists of subnormal weights), whatever the number of threads.

The kernel is compiled with the system C compiler on first use (under a
second) into ``$MMBOUNDARY_CACHE/native`` (default
``~/.cache/mmboundary/native``, the temporary folder if that is not
writable); the file name carries a hash of the source, the flags and the
CPU, so a changed kernel or another CPU gets its own build. Without a
compiler (or with ``MMBOUNDARY_NATIVE=0``) :func:`native_available` is
False and the discretiser uses the torch code; the reason is in
:func:`native_status`.
"""
import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['native_available', 'native_status', 'native_blurring_mean_shift']

_SOURCE = r'''
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

/* Exponents below ZERO_E have exp(e) == 0 exactly in float32 (e^-105 is
 * below half the smallest subnormal, 2^-150); in [ZERO_E, SLOW_E) the
 * result is subnormal and torch's exp takes a slow path. */
#define ZERO_E (-105.0f)
#define SLOW_E (-87.0f)
#define MAX_THREADS 64

static inline float exponent(float xc, float xq, float scale, float att_thr,
                             float log_att, int attenuate) {
    float d = xc - xq;
    float v = (d * d) * scale;
    if (attenuate) v = v + ((v < att_thr) ? log_att : 0.0f);
    return v;
}

/* Both passes see the padded map xp (rows of length Wp, s pixels of
 * sentinel on each side) of B images (image stride HWp), a stripe of n rows
 * starting at row y0, and k offsets (dy[j], dx[j]). tt holds (k, B, n, W)
 * floats, zf as many flags. The arithmetic is the torch code's, operation
 * by operation: no product is fused into an add (-ffp-contract=off) except
 * where torch fuses one (addcmul_, as fmaf). Both passes split their work
 * over nthreads POSIX threads (the caller is one of them) so that no two
 * threads write the same memory and every output float sees the same
 * operations in the same order whatever the number of threads. */
typedef struct {
    const float *xp;
    float *num, *den;
    long HWp;
    int Wp, B, y0, n, W, s;
    const int *dy, *dx;
    int k, symmetric;
    float scale, att_thr, log_att;
    int attenuate;
    float libm_max;
    float *tt;
    uint8_t *zf;
    int64_t *idx_a, *idx_b;
    float *val_a, *e_b;
    long lo, hi;   /* this thread's share: tt rows or padded map rows */
    long ca, cb;   /* list lengths written by this thread */
} job_t;

typedef void *(*work_fn)(void *);

/* Runs fn on jobs[0..t) (jobs[0] on the calling thread); a thread that
 * cannot be started runs its share on the caller afterwards. */
static void run_jobs(work_fn fn, job_t *jobs, int t) {
    pthread_t th[MAX_THREADS];
    int started[MAX_THREADS];
    for (int i = 1; i < t; ++i)
        started[i] = pthread_create(&th[i], NULL, fn, &jobs[i]) == 0;
    fn(&jobs[0]);
    for (int i = 1; i < t; ++i) {
        if (started[i])
            pthread_join(th[i], NULL);
        else
            fn(&jobs[i]);
    }
}

static int clamp_threads(int nthreads, long units) {
    int t = nthreads < 1 ? 1 : (nthreads > MAX_THREADS ? MAX_THREADS
                                                        : nthreads);
    return units < t ? (int)(units < 1 ? 1 : units) : t;
}

/* Rows q in [lo, hi) of tt (q = (j * B + b) * n + r): the pair exponents,
 * with 0 in place of those below SLOW_E, which torch's exp would take a
 * slow path for; of these, the ones in [ZERO_E, libm_max) get libm's expf
 * (checked equal to torch's exp on every float of that range when the
 * kernel is loaded) in (idx_a, val_a), the ones in [libm_max, SLOW_E) are
 * listed in (idx_b, e_b) for torch's exp. zf flags the exponents below
 * ZERO_E (weight exactly 0; exp of the placeholder is 1). */
static void *exponents_rows(void *arg) {
    job_t *a = (job_t *)arg;
    long ca = 0, cb = 0;
    int W = a->W, n = a->n, B = a->B;
    for (long q = a->lo; q < a->hi; ++q) {
        int r = (int)(q % n), b = (int)((q / n) % B), j = (int)(q / n / B);
        long off = (long)a->dy[j] * a->Wp + a->dx[j];
        const float *xc =
            a->xp + b * a->HWp + (long)(a->s + a->y0 + r) * a->Wp + a->s;
        const float *xq = xc + off;
        long base = q * W;
        float *e = a->tt + base;
        uint8_t *z = a->zf + base;
        int low = 0, mid = 0;
        for (int c = 0; c < W; ++c) {
            float v = exponent(xc[c], xq[c], a->scale, a->att_thr,
                               a->log_att, a->attenuate);
            low += v < SLOW_E;
            mid += (v < SLOW_E) & (v >= ZERO_E);
            z[c] = v < ZERO_E;
            e[c] = v;
        }
        if (mid) {
            for (int c = 0; c < W; ++c) {
                float v = e[c];
                if (v < SLOW_E && v >= a->libm_max) {
                    a->idx_b[cb] = base + c;
                    a->e_b[cb++] = v;
                } else if (v < SLOW_E && v >= ZERO_E) {
                    a->idx_a[ca] = base + c;
                    a->val_a[ca++] = expf(v);
                }
            }
        }
        if (low)
            for (int c = 0; c < W; ++c)
                e[c] = e[c] < SLOW_E ? 0.0f : e[c];
    }
    a->ca = ca;
    a->cb = cb;
    return NULL;
}

/* The exponent pass over the (k, B, n) rows of tt, split into nthreads
 * contiguous ranges (fewer when there are less than grain pairs each);
 * each thread lists its slow exponents from the list position of its
 * first element, and the lists are packed afterwards
 * (their order does not matter: they are scattered to distinct places).
 * counts[0], counts[1]: list lengths. */
void mb_exponents(const float *xp, long HWp, int Wp, int B, int y0, int n,
                  int W, int s, const int *dy, const int *dx, int k,
                  float scale, float att_thr, float log_att, int attenuate,
                  float libm_max, float *tt, uint8_t *zf, int64_t *idx_a,
                  float *val_a, int64_t *idx_b, float *e_b, long *counts,
                  int nthreads, long grain) {
    job_t jobs[MAX_THREADS];
    long rows = (long)k * B * n;
    int t = clamp_threads(nthreads, rows * W / grain);
    for (int i = 0; i < t; ++i) {
        job_t *a = &jobs[i];
        memset(a, 0, sizeof(*a));
        a->xp = xp; a->HWp = HWp; a->Wp = Wp; a->B = B; a->y0 = y0;
        a->n = n; a->W = W; a->s = s; a->dy = dy; a->dx = dx; a->k = k;
        a->scale = scale; a->att_thr = att_thr; a->log_att = log_att;
        a->attenuate = attenuate; a->libm_max = libm_max; a->tt = tt;
        a->zf = zf;
        a->lo = rows * i / t;
        a->hi = rows * (i + 1) / t;
        a->idx_a = idx_a + a->lo * W; a->val_a = val_a + a->lo * W;
        a->idx_b = idx_b + a->lo * W; a->e_b = e_b + a->lo * W;
    }
    run_jobs(exponents_rows, jobs, t);
    long ca = jobs[0].ca, cb = jobs[0].cb;
    for (int i = 1; i < t; ++i) {
        job_t *a = &jobs[i];
        memmove(idx_a + ca, a->idx_a, a->ca * sizeof(int64_t));
        memmove(val_a + ca, a->val_a, a->ca * sizeof(float));
        memmove(idx_b + cb, a->idx_b, a->cb * sizeof(int64_t));
        memmove(e_b + cb, a->e_b, a->cb * sizeof(float));
        ca += a->ca;
        cb += a->cb;
    }
    counts[0] = ca;
    counts[1] = cb;
}

/* Every float32 in [lo, hi): count how many there are, or write them. */
long mb_float_range(float lo, float hi, float *out) {
    long n = 0;
    for (float v = lo; v < hi; v = nextafterf(v, hi)) {
        if (out) out[n] = v;
        ++n;
    }
    return n;
}

void mb_expf(const float *x, float *out, long n) {
    for (long i = 0; i < n; ++i) out[i] = expf(x[i]);
}

static inline void credit_row(float *restrict nq, float *restrict dq,
                              const float *restrict w,
                              const uint8_t *restrict z,
                              const float *restrict xv, int W) {
    for (int c = 0; c < W; ++c) {
        float wc = z[c] ? 0.0f : w[c];
        nq[c] = fmaf(wc, xv[c], nq[c]); /* torch fuses (addcmul_) */
        dq[c] = dq[c] + wc;
    }
}

/* The padded map rows [lo, hi) of num and den, pulled: for each offset in
 * order, every pixel of these rows in the stripe is credited with its pair
 * (p, p + d) (centre), then, unless d = 0, every partner p + d in these
 * rows with the same pair (symmetric): the order of the torch code for
 * every output pixel. Pairs flagged in zf weigh exactly 0 (adding +0 leaves
 * every sum as it is, as in the torch code). */
static void *credit_rows(void *arg) {
    job_t *a = (job_t *)arg;
    int W = a->W, n = a->n, B = a->B;
    long top = a->s + a->y0; /* padded row of stripe row 0 */
    for (int j = 0; j < a->k; ++j) {
        long off = (long)a->dy[j] * a->Wp + a->dx[j];
        int self = a->dy[j] == 0 && a->dx[j] == 0;
        long r0 = a->lo - top, r1 = a->hi - top;
        r0 = r0 < 0 ? 0 : r0;
        r1 = r1 > n ? n : r1;
        for (int b = 0; b < B; ++b)
            for (long r = r0; r < r1; ++r) {
                long pc = b * a->HWp + (top + r) * a->Wp + a->s;
                long q = (((long)j * B + b) * n + r) * W;
                credit_row(a->num + pc, a->den + pc, a->tt + q, a->zf + q,
                           a->xp + pc + off, W);
            }
        if (self || !a->symmetric) continue;
        r0 = a->lo - top - a->dy[j];
        r1 = a->hi - top - a->dy[j];
        r0 = r0 < 0 ? 0 : r0;
        r1 = r1 > n ? n : r1;
        for (int b = 0; b < B; ++b)
            for (long r = r0; r < r1; ++r) {
                long pc = b * a->HWp + (top + r) * a->Wp + a->s;
                long q = (((long)j * B + b) * n + r) * W;
                credit_row(a->num + pc + off, a->den + pc + off, a->tt + q,
                           a->zf + q, a->xp + pc, W);
            }
    }
    return NULL;
}

/* The credit pass; the padded rows a stripe can touch are split into
 * nthreads contiguous ranges (fewer when there are less than grain pairs
 * each), one per thread (each output float is written by one thread
 * only). */
void mb_credit(const float *xp, float *num, float *den, long HWp, int Wp,
               int B, int y0, int n, int W, int s, const int *dy,
               const int *dx, int k, int symmetric, const float *tt,
               const uint8_t *zf, int nthreads, long grain) {
    job_t jobs[MAX_THREADS];
    int lo_dy = 0, hi_dy = 0;
    for (int j = 0; j < k && symmetric; ++j) {
        lo_dy = dy[j] < lo_dy ? dy[j] : lo_dy;
        hi_dy = dy[j] > hi_dy ? dy[j] : hi_dy;
    }
    long lo = (long)s + y0 + lo_dy, hi = (long)s + y0 + n + hi_dy;
    int t = clamp_threads(nthreads, (long)k * B * n * W / grain);
    t = clamp_threads(t, hi - lo);
    for (int i = 0; i < t; ++i) {
        job_t *a = &jobs[i];
        memset(a, 0, sizeof(*a));
        a->xp = xp; a->num = num; a->den = den; a->HWp = HWp; a->Wp = Wp;
        a->B = B; a->y0 = y0; a->n = n; a->W = W; a->s = s; a->dy = dy;
        a->dx = dx; a->k = k; a->symmetric = symmetric;
        a->tt = (float *)tt; a->zf = (uint8_t *)zf;
        a->lo = lo + (hi - lo) * i / t;
        a->hi = lo + (hi - lo) * (i + 1) / t;
    }
    run_jobs(credit_rows, jobs, t);
}
'''

_FLAGS = [
    '-O3', '-fPIC', '-shared', '-std=c99', '-fno-math-errno',
    '-ffp-contract=off', '-pthread'
]
_GROUP_ELEMS = 2**18  # pair weights buffered per exp call (1 MiB)
#: Fewest pairs per thread of a C pass (a thread costs about 10 us to start;
#: tests set 1 to thread tiny maps).
_THREAD_GRAIN = 2**14
_ZERO_E, _SLOW_E = -105.0, -87.0  # as ZERO_E and SLOW_E in the C source
_lock = threading.Lock()
_state = {'lib': None, 'reason': None, 'tried': False, 'libm_max': None}


def _cpu_tag() -> str:
    tag = platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    tag += line
                    break
    except OSError:
        pass
    return tag


def _cache_dir() -> str:
    root = os.environ.get('MMBOUNDARY_CACHE') or os.path.join(
        os.path.expanduser('~'), '.cache', 'mmboundary')
    return os.path.join(root, 'native')


def _compiler() -> Optional[str]:
    for cc in (os.environ.get('CC'), 'cc', 'gcc', 'clang'):
        if cc and shutil.which(cc):
            return shutil.which(cc)
    return None


def _build() -> ctypes.CDLL:
    cc = _compiler()
    if cc is None:
        raise RuntimeError('no C compiler (cc, gcc or clang) on PATH')
    flags = list(_FLAGS)
    if platform.machine() in ('x86_64', 'AMD64'):
        flags.append('-march=native')
    key = hashlib.sha256('\0'.join(
        [_SOURCE, ' '.join(flags),
         _cpu_tag(), sys.platform]).encode()).hexdigest()[:16]
    folder = _cache_dir()
    try:
        os.makedirs(folder, exist_ok=True)
        if not os.access(folder, os.W_OK):
            raise OSError(f'{folder} is not writable')
    except OSError:  # a read-only home: build in the temporary folder
        folder = os.path.join(tempfile.gettempdir(), 'mmboundary-native')
        os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f'mean_shift_{key}.so')
    if not os.path.exists(path):
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            src = os.path.join(tmp, 'mean_shift.c')
            with open(src, 'w') as f:
                f.write(_SOURCE)
            tmp_lib = os.path.join(tmp, 'mean_shift.so')
            proc = subprocess.run([cc, *flags, src, '-o', tmp_lib, '-lm'],
                                  capture_output=True,
                                  text=True)
            if proc.returncode:
                raise RuntimeError(f'{cc} failed: {proc.stderr.strip()}')
            os.replace(tmp_lib, path)  # atomic: concurrent builds are safe
    lib = ctypes.CDLL(path)
    ptr, i32, i64, f32 = (ctypes.c_void_p, ctypes.c_int, ctypes.c_long,
                          ctypes.c_float)
    lib.mb_exponents.restype = None
    lib.mb_exponents.argtypes = [
        ptr, i64, i32, i32, i32, i32, i32, i32, ptr, ptr, i32, f32, f32, f32,
        i32, f32, ptr, ptr, ptr, ptr, ptr, ptr, ptr, i32, i64
    ]
    lib.mb_float_range.restype = i64
    lib.mb_float_range.argtypes = [f32, f32, ptr]
    lib.mb_expf.restype = None
    lib.mb_expf.argtypes = [ptr, ptr, i64]
    lib.mb_credit.restype = None
    lib.mb_credit.argtypes = [
        ptr, ptr, ptr, i64, i32, i32, i32, i32, i32, i32, ptr, ptr, i32, i32,
        ptr, ptr, i32, i64
    ]
    return lib


def _floats(lib: ctypes.CDLL, lo: float, hi: float) -> Tensor:
    n = lib.mb_float_range(lo, hi, None)
    out = torch.empty(n)
    lib.mb_float_range(lo, hi, out.data_ptr())
    return out


def _calibrate(lib: ctypes.CDLL) -> float:
    """Checks the exactness assumptions against this torch build.

    torch's ``exp`` must give exactly 0 below ``ZERO_E`` (every float in
    [-110, -105) and a few far below are tried). Returns ``libm_max``: libm's
    ``expf`` equals torch's ``exp`` bit for bit on every float of
    ``[ZERO_E, libm_max)`` (the kernel lists the rest of ``[ZERO_E,
    SLOW_E)`` for torch's exp).
    """
    low = torch.cat([
        _floats(lib, -110.0, _ZERO_E),
        torch.tensor([-1e3, -1e6, -1e30, -3e38, -float('inf')])
    ])
    if torch.exp(low).count_nonzero():
        raise RuntimeError('torch.exp is not 0 below -105 on this build')
    vals = _floats(lib, _ZERO_E, _SLOW_E)
    ours = torch.empty_like(vals)
    lib.mb_expf(vals.data_ptr(), ours.data_ptr(), vals.numel())
    differ = (ours.view(torch.int32)
              != torch.exp(vals).view(torch.int32)).nonzero()
    return float(vals[differ[0, 0]]) if len(differ) else _SLOW_E


def _load() -> Optional[ctypes.CDLL]:
    with _lock:
        if not _state['tried']:
            _state['tried'] = True
            if os.environ.get('MMBOUNDARY_NATIVE', '1') == '0':
                _state['reason'] = 'disabled by MMBOUNDARY_NATIVE=0'
            else:
                try:
                    lib = _build()
                    _state['libm_max'] = _calibrate(lib)
                    _state['lib'] = lib
                except (OSError, RuntimeError) as err:
                    _state['reason'] = f'not built: {err}'
        return _state['lib']


def native_available() -> bool:
    """True when the fused CPU kernel is compiled and loaded."""
    return _load() is not None


def native_status() -> str:
    """``'fused C kernel'`` or why the torch code is used instead."""
    return 'fused C kernel' if native_available() else str(_state['reason'])


def native_blurring_mean_shift(x: Tensor,
                               valid: Tensor,
                               offsets: List[Tuple[int, int]],
                               spatial_radius: int,
                               num_iters: int,
                               scale: float,
                               att_thr: float,
                               log_att: float,
                               attenuate: bool,
                               sentinel: float,
                               symmetric: bool,
                               rows: int,
                               num_threads: Optional[int] = None) -> Tensor:
    """The torch code's iterations with the per-pair work in the C kernel.

    Same padding, stripes (``rows``), offset order, operations and
    accumulation order as
    :func:`mmboundary.models.utils.mean_shift.blurring_mean_shift`; the
    exponentials are torch's own ``exp_`` (element-wise, so grouping the
    offsets of a stripe into one call changes no bit).

    Args:
        x (Tensor): (B, 1, H, W) float32 CPU map, 0 on invalid pixels.
        valid (Tensor): (B, 1, H, W) bool.
        offsets (list[tuple[int, int]]): (dy, dx) in the torch code's order.
        spatial_radius (int): s (the padding).
        num_iters (int): iterations.
        scale (float): ``-1 / (2 sigma^2)``.
        att_thr (float): attenuation threshold on the exponent.
        log_att (float): ``log(0.1)``.
        attenuate (bool): apply the attenuation.
        sentinel (float): value of invalid and padding pixels.
        symmetric (bool): ``'valid'`` borders (pairs credited to both
            pixels); False: ``'replicate'`` (centre only).
        rows (int): stripe height of the torch code.
        num_threads (int, optional): threads of the C passes (default:
            ``torch.get_num_threads()``); the result does not depend on it.

    Returns:
        Tensor: (B, 1, H, W) float32 shifted map, 0 on invalid pixels.
    """
    lib = _load()
    if lib is None:
        raise RuntimeError('native_blurring_mean_shift: the fused kernel is '
                           f'unavailable ({_state["reason"]}).')
    s = int(spatial_radius)
    B, _, H, W = x.shape
    Hp, Wp = H + 2 * s, W + 2 * s
    vf = valid.to(x.dtype)
    dys = np.ascontiguousarray([o[0] for o in offsets], dtype=np.int32)
    dxs = np.ascontiguousarray([o[1] for o in offsets], dtype=np.int32)
    K = len(offsets)
    tt = torch.empty(min(K * B * rows * W, max(_GROUP_ELEMS, B * rows * W)))
    zf = torch.empty(tt.numel(), dtype=torch.uint8)
    threads = int(num_threads or torch.get_num_threads())
    idx_a = torch.empty(tt.numel(), dtype=torch.int64)
    idx_b = torch.empty(tt.numel(), dtype=torch.int64)
    val_a, e_b = torch.empty(tt.numel()), torch.empty(tt.numel())
    counts = np.zeros(2, dtype=np.int64)
    params = (ctypes.c_float(scale), ctypes.c_float(att_thr),
              ctypes.c_float(log_att), int(bool(attenuate)))
    libm_max = ctypes.c_float(_state['libm_max'])
    for _ in range(num_iters):
        xs = torch.where(valid, x, x.new_tensor(sentinel))
        if symmetric:
            xp = F.pad(xs, (s, s, s, s), value=sentinel)
        else:
            xp = F.pad(xs, (s, s, s, s), mode='replicate')
        xp = xp.contiguous()
        num = torch.zeros_like(xp)
        den = torch.zeros_like(xp)
        for y0 in range(0, H, rows):
            n = min(H, y0 + rows) - y0
            group = max(1, tt.numel() // (B * n * W))
            for j0 in range(0, K, group):
                k = min(K, j0 + group) - j0
                buf = tt[:k * B * n * W]
                lib.mb_exponents(xp.data_ptr(), Hp * Wp, Wp, B, y0, n, W, s,
                                 dys[j0:].ctypes.data, dxs[j0:].ctypes.data, k,
                                 *params, libm_max, buf.data_ptr(),
                                 zf.data_ptr(), idx_a.data_ptr(),
                                 val_a.data_ptr(), idx_b.data_ptr(),
                                 e_b.data_ptr(), counts.ctypes.data, threads,
                                 _THREAD_GRAIN)
                buf.exp_()
                ca, cb = int(counts[0]), int(counts[1])
                if ca:  # subnormal weights, libm (bit-equal to torch)
                    buf[idx_a[:ca]] = val_a[:ca]
                if cb:  # the rest of the slow range: torch's own exp
                    buf[idx_b[:cb]] = e_b[:cb].exp()
                lib.mb_credit(xp.data_ptr(), num.data_ptr(), den.data_ptr(),
                              Hp * Wp, Wp, B, y0, n, W, s,
                              dys[j0:].ctypes.data, dxs[j0:].ctypes.data, k,
                              int(bool(symmetric)), buf.data_ptr(),
                              zf.data_ptr(), threads, _THREAD_GRAIN)
        num = num[..., s:s + H, s:s + W]
        den = den[..., s:s + H, s:s + W]
        x = torch.where(den > 0, num / den.clamp(min=1e-30),
                        torch.zeros_like(x)) * vf
    return x
