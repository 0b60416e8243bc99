"""The polynomial of the attention kernels' exp (native/src/attention_common.h, expNonPositive).

e^r on |r| <= ln 2 / 2 as 1 + c1 r + ... + c6 r^6, fitted for least maximum relative error
(Lawson's iteratively reweighted least squares on a dense grid); then the whole float32 pipeline
(n = round(x log2 e), r by Cody-Waite with FMAs, Horner, times 2^n) is emulated over [-87, 0]
and its worst error in float ulps printed against float64 exp.

    python3 tools/attention_exp_fit.py [degree]   # 6: relative error 2.2e-9, 1.03 ulps in float
"""
import sys

import numpy as np

DEGREE = int(sys.argv[1]) if len(sys.argv) > 1 else 6
HALF = np.log(2) / 2


def fit(degree):
    """Coefficients c1..c_degree (c0 = 1) and the fit's max relative error."""
    r = np.linspace(-HALF, HALF, 20001)
    f = np.exp(r)
    powers = np.stack([r**k for k in range(1, degree + 1)], 1)
    weights = np.ones_like(r)
    for _ in range(200):
        scaled = weights / f
        c, *_ = np.linalg.lstsq(powers * scaled[:, None], (f - 1) * scaled, rcond=None)
        err = (1 + powers @ c - f) / f
        weights = weights * np.abs(err)
        weights /= weights.sum()
    return c, np.abs(err).max()


def float_pipeline(x, c32):
    """The kernel's steps in float32 (each FMA rounded once)."""
    n = np.round(x * np.float32(1.44269504088896341)).astype(np.float32)
    r = np.float32(x.astype(np.float64) - n.astype(np.float64) * np.float32(0.693359375))
    r = np.float32(r.astype(np.float64) - n.astype(np.float64) * np.float32(-2.12194440e-4))
    p = np.full_like(r, c32[-1])
    for k in range(len(c32) - 2, -1, -1):
        p = np.float32(p.astype(np.float64) * r + c32[k])
    p = np.float32(p.astype(np.float64) * r + 1.0)
    return np.ldexp(p.astype(np.float64), n.astype(np.int64)).astype(np.float32)


coefficients, relative = fit(DEGREE)
c32 = np.float32(coefficients)
print(f'degree {DEGREE}: max relative error {relative:.3g}')
for k, value in enumerate(c32, 1):
    print(f'  c{k} = {float(value)!r}')
x = np.linspace(-87, 0, 2_000_001, dtype=np.float32)
exact = np.exp(x.astype(np.float64))
ulps = np.abs(float_pipeline(x, c32) - exact) / np.spacing(np.float32(exact)).astype(np.float64)
print(f'float32: worst {ulps.max():.3f} ulps, mean {ulps.mean():.3f} over [-87, 0]')
