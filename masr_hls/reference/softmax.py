"""Fixed-point softmax (Keras ``Softmax`` / ``Dense(activation='softmax')``) in numpy.

Bit-exact reference for ``templates/masr/softmax.h``, written from the
specification in docs/arithmetic.md ("Softmax"), not from the C++:

    m   = max_i x_i                               exact, in_t
    d_i = m - x_i >= 0                            exact
    e_i = 1 if d_i == 0, 0 if d_i >= R,           exp_t (unsigned)
          else exp_table[floor(d_i * N / R)]      table entry j = exp_t(exp(-(j + 1/2) R / N))
    s   = sum_t(sum_i e_i)                        exact sum, quantised once; s >= 1
    s   = f * 2**k, f in [1, 2)                   leading-one detection
    inv = 1 if f == 1, else inv_table[floor((f - 1) * M)]    entry j = inv_t(1 / (1 + (j + 1/2) / M))
    y_i = out_t(e_i * inv * 2**-k)                exact product and shift, quantised once

with N = 2**exp_n_log2, R = 2**exp_r_log2 and M = 2**inv_n_log2.  Tables are
generated here only and handed to the C++ as constant arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from masr_hls.constants import SOFTMAX_ELEMENTWISE_DEPTH
from masr_hls.numerics.fixed_point import FixedType, PrecisionError, as_raw, wide, widen_if
from masr_hls.reference.mxv import positive_int

EXP_R_LOG2_RANGE = (-2, 6)  # the exp table covers (-R, 0], R = 2**r
TABLE_LOG2_RANGE = (1, 16)  # tables of 2 .. 65536 entries
MAX_IN_WIDTH = 62  # softmax.h: static_assert(IN_W <= 62)


def _int_in(name: str, value, lo: int, hi: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in {lo}..{hi}, got {value!r}")
    return int(value)


def ceil_log2(n: int) -> int:
    return max(0, int(n - 1).bit_length())


def default_sum_t(n: int, exp_t: FixedType) -> FixedType:
    """An unsigned type that holds any sum of n exp_t values <= 1 exactly."""
    ib = max(1, int(n).bit_length())
    return FixedType(ib + exp_t.frac, ib, signed=False)


@dataclass(frozen=True)
class SoftmaxConfig:
    """Static parameters of one softmax instance (over the last axis, n elements)."""

    n: int
    in_t: FixedType
    exp_t: FixedType = FixedType(18, 1, signed=False, rounding="AP_RND", overflow="AP_SAT")
    inv_t: FixedType = FixedType(18, 1, signed=False, rounding="AP_RND", overflow="AP_SAT")
    out_t: FixedType = FixedType(16, 1, signed=False, rounding="AP_RND", overflow="AP_SAT")
    sum_t: FixedType | None = None  # None: exact, default_sum_t(n, exp_t)
    exp_n_log2: int = 10
    exp_r_log2: int = 3
    inv_n_log2: int = 10
    parallel: int = 1  # elements per cycle in each pass

    def __post_init__(self):
        positive_int("n", self.n)
        positive_int("parallel", self.parallel)
        _int_in("exp_n_log2", self.exp_n_log2, *TABLE_LOG2_RANGE)
        _int_in("inv_n_log2", self.inv_n_log2, *TABLE_LOG2_RANGE)
        _int_in("exp_r_log2", self.exp_r_log2, *EXP_R_LOG2_RANGE)
        for name in ("in_t", "exp_t", "inv_t", "out_t", "sum_t"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, FixedType):
                object.__setattr__(self, name, FixedType.parse(value))
        if self.sum_t is None:
            object.__setattr__(self, "sum_t", default_sum_t(self.n, self.exp_t))
        for name in ("exp_t", "inv_t"):
            t = getattr(self, name)
            if t.signed or t.integer < 1 or t.frac < 0:
                raise PrecisionError(
                    f"softmax {name} {t}: must be an ap_ufixed that holds 1 exactly (integer bits >= 1, "
                    "fractional bits >= 0), e.g. ap_ufixed<18,1,AP_RND,AP_SAT>"
                )
            if t.width > 53:
                raise PrecisionError(f"softmax {name} {t}: table entries are limited to 53 bits (exact as C++ doubles)")
        if self.in_t.width > MAX_IN_WIDTH:
            raise PrecisionError(
                f"softmax in_t {self.in_t}: softmax.h takes inputs of at most {MAX_IN_WIDTH} bits; "
                "narrow the 'output' precision of the layer feeding the softmax"
            )
        if self.sum_t.signed or self.sum_t.frac < 0 or self.sum_t.max_value < self.n:
            raise PrecisionError(
                f"softmax sum_t {self.sum_t}: must be an ap_ufixed with fractional bits >= 0 that holds the largest "
                f"sum, n = {self.n} (e.g. {default_sum_t(self.n, self.exp_t)})"
            )

    @property
    def exp_table_size(self) -> int:
        return 1 << self.exp_n_log2

    @property
    def inv_table_size(self) -> int:
        return 1 << self.inv_n_log2

    @property
    def max_shift(self) -> int:
        """Largest k in s = f * 2**k: the leading one of the widest sum."""
        return self.sum_t.integer - 1


# ------------------------------------------------------------------ tables
def exp_table(cfg: SoftmaxConfig) -> np.ndarray:
    """Raw exp_t entries: entry j is exp(-d) at the centre of the bin d in [j R/N, (j+1) R/N)."""
    n, r = cfg.exp_table_size, 2.0**cfg.exp_r_log2
    centres = (np.arange(n) + 0.5) * (r / n)
    return cfg.exp_t.quantize_float(np.exp(-centres))


def inv_table(cfg: SoftmaxConfig) -> np.ndarray:
    """Raw inv_t entries: entry j is 1/f at the centre of the bin f in [1 + j/M, 1 + (j+1)/M)."""
    m = cfg.inv_table_size
    return cfg.inv_t.quantize_float(1.0 / (1.0 + (np.arange(m) + 0.5) / m))


def _check_table(raw, size: int, t: FixedType, what: str) -> np.ndarray:
    raw = np.asarray(raw, dtype=np.int64)
    if raw.shape != (size,):
        raise ValueError(f"{what} must have {size} entries, got shape {raw.shape}")
    return t.check_raw(raw, what)


# --------------------------------------------------------------- reference
def exp_index(cfg: SoftmaxConfig, dist_raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(in_table, index) for distances d = m - x >= 0 held on in_t's grid."""
    dist = as_raw(dist_raw)
    tail_shift = cfg.exp_r_log2 + cfg.in_t.frac  # d >= R  <=>  raw >= 2**tail_shift
    if tail_shift < 0:
        inside = dist == 0
    elif tail_shift >= 62 and dist.dtype != object:
        inside = np.ones(dist.shape, dtype=bool)  # int64 distances are below 2**63
    else:
        inside = dist < (1 << tail_shift)
    clipped = np.where(inside, dist, 0)
    idx_shift = tail_shift - cfg.exp_n_log2  # index = floor(raw / 2**idx_shift)
    if idx_shift >= 62 and dist.dtype != object:
        index = np.zeros(clipped.shape, np.int64)
    elif idx_shift >= 0:
        index = clipped >> idx_shift
    else:
        index = clipped << (-idx_shift)  # clipped < 2**tail_shift, so index < N
    return inside, as_raw(index).astype(np.int64)


def leading_one(raw: np.ndarray) -> np.ndarray:
    """Bit position of the highest set bit of positive raw values."""
    raw = as_raw(raw)
    if raw.dtype == object:
        return np.vectorize(lambda v: int(v).bit_length() - 1, otypes=[np.int64])(raw)
    return np.sum((raw[..., None] >> np.arange(63, dtype=np.int64)) != 0, axis=-1) - 1


def softmax_steps(cfg: SoftmaxConfig, x_raw, exp_tab=None, inv_tab=None) -> dict[str, np.ndarray]:
    """Every named quantity of the softmax over the last axis (raw integers)."""
    (x,) = widen_if(cfg.in_t.width + 1, cfg.in_t.check_raw(x_raw, "softmax input"))
    if x.shape[-1] != cfg.n:
        raise ValueError(f"softmax over {cfg.n} elements got input of shape {x.shape}")
    et = _check_table(exp_table(cfg) if exp_tab is None else exp_tab, cfg.exp_table_size, cfg.exp_t, "exp table")
    it = _check_table(inv_table(cfg) if inv_tab is None else inv_tab, cfg.inv_table_size, cfg.inv_t, "inverse table")

    m = x.max(axis=-1, keepdims=True)
    dist = m - x
    inside, index = exp_index(cfg, dist)
    one_e = np.int64(1) << cfg.exp_t.frac
    e = np.where(dist == 0, one_e, np.where(inside, et[index], 0))

    (e_sum,) = widen_if(cfg.exp_t.width + int(cfg.n).bit_length(), e)
    s = cfg.sum_t.quantize_raw(e_sum.sum(axis=-1), cfg.exp_t.frac)  # exact sum, one quantisation
    p = leading_one(s)
    k = p - cfg.sum_t.frac
    nb = cfg.inv_n_log2
    if s.dtype == object:
        p = wide(p)
    below = s - (np.ones_like(p) << p)  # the bits under the leading one: f - 1, scaled by 2**p
    j = np.where(p >= nb, below >> np.maximum(p - nb, 0), below << np.maximum(nb - p, 0))
    one_inv = np.int64(1) << cfg.inv_t.frac
    inv = np.where(below == 0, one_inv, it[np.clip(j, 0, cfg.inv_table_size - 1).astype(np.int64)])

    e, inv = widen_if(cfg.exp_t.width + cfg.inv_t.width, e, inv)
    prod = e * inv[..., None]
    y = np.zeros(x.shape, dtype=np.int64 if cfg.out_t.fits_int64 else object)
    for shift in np.unique(k):
        rows = k == shift
        y[rows] = cfg.out_t.quantize_raw(prod[rows], cfg.exp_t.frac + cfg.inv_t.frac + int(shift))
    return {"max": m[..., 0], "dist": dist, "exp": e, "sum": s, "shift": k, "inv": inv, "y": y}


def softmax(cfg: SoftmaxConfig, x_raw, exp_tab=None, inv_tab=None) -> np.ndarray:
    """Raw out_t softmax over the last axis of raw in_t values."""
    return softmax_steps(cfg, x_raw, exp_tab, inv_tab)["y"]


def softmax_cycles(cfg: SoftmaxConfig) -> int:
    """Three passes of ceil(n / parallel) (max, exp + sum, normalise), two reduction trees, the element pipeline."""
    passes = -(-cfg.n // cfg.parallel)
    return 3 * passes + 2 * ceil_log2(cfg.parallel) + SOFTMAX_ELEMENTWISE_DEPTH


# --------------------------------------------------------------- accuracy
def _q(t: FixedType) -> float:
    """Largest error of one quantisation to t without overflow."""
    return t.lsb if t.rounding in ("AP_TRN", "AP_TRN_ZERO") else t.lsb / 2


def tolerance(cfg: SoftmaxConfig) -> float:
    """Bound on |y_i - softmax(x)_i| (x the exact in_t inputs), from the table resolutions.

    exp table: relative error rho = exp(R / 2N) - 1 plus q(exp_t) per entry; the
    tail d >= R is dropped (error < exp(-R)); the max element is exact.
    sum: |s - S| <= rho S + (n - 1)(q(exp_t) + exp(-R)) + q(sum_t).
    inverse: relative error delta = 1/(2M) + 2 q(inv_t) (the mantissa is >= 1/2).
    With S, s >= 1 and e_i <= 1 this gives
    |y_i - p_i| <= 2 rho + n (q(exp_t) + exp(-R)) + q(sum_t) + delta + q(out_t).
    """
    r = 2.0**cfg.exp_r_log2
    rho = math.expm1(r / (2 * cfg.exp_table_size))
    delta = 1.0 / (2 * cfg.inv_table_size) + 2 * _q(cfg.inv_t)
    tail = cfg.n * (_q(cfg.exp_t) + math.exp(-r))
    return 2 * rho + tail + _q(cfg.sum_t) + delta + _q(cfg.out_t)


def softmax_float(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


# -------------------------------------------------------------------- C++
