"""Activation functions of the RNN cells and heads, in bit-exact numpy.

The C++ twins live in ``templates/masr/activation.h``.  LUT tables are made
here only and handed to the C++ as ROM contents, so both sides read the same
entries; everything else is integer arithmetic on raw values.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from masr_hls.numerics.fixed_point import INT64_BITS, FixedType, as_raw, wide

KINDS = ("sigmoid", "tanh", "hard_sigmoid", "relu", "linear")
LUT_KINDS = ("sigmoid", "tanh")
HARD_SIGMOID_SLOPE_FRAC = 18  # 1/6 held as an unsigned constant with 18 fractional bits
HARD_SIGMOID_SLOPE_RAW = round(2**HARD_SIGMOID_SLOPE_FRAC / 6)

_FUNCTIONS = {
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
}


def _log2_param(name: str, value) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer (the table is 2**{name[:-5]} ...), got {value!r}")
    return int(value)


@functools.lru_cache(maxsize=256)
def make_lut_table(kind: str, table_t: FixedType, n_log2: int, r_log2: int) -> np.ndarray:
    """Raw table_t entries (read-only): f at the centre of each of 2**n bins over [-2**r, 2**r)."""
    if kind not in _FUNCTIONS:
        raise ValueError(f"no lookup table for activation {kind!r}; tables exist for {LUT_KINDS}")
    n_log2, r_log2 = _log2_param("n_log2", n_log2), _log2_param("r_log2", r_log2)
    if not 1 <= n_log2 <= 16:
        raise ValueError(f"lookup table size 2**{n_log2} out of range: n_log2 must be in 1..16")
    if not -4 <= r_log2 <= 8:
        raise ValueError(f"lookup table range 2**{r_log2} out of range: r_log2 must be in -4..8")
    n, r = 1 << n_log2, 2.0**r_log2
    centres = -r + (np.arange(n) + 0.5) * (2 * r / n)
    table = table_t.quantize_float(_FUNCTIONS[kind](centres))
    table.setflags(write=False)
    return table


def lut_index(x_raw, x_frac: int, n_log2: int, r_log2: int) -> np.ndarray:
    """floor((x + R) * N / (2R)), clamped to the table: exact integer arithmetic.

    int64 inputs (at most INT64_BITS bits) stay int64 while R's raw value leaves room;
    shifting them up, or a finer grid, moves to Python integers.
    """
    x = as_raw(x_raw)
    shift = x_frac + r_log2 + 1 - n_log2  # the bin width is 2**(r + 1 - n)
    if x_frac + r_log2 < 0:  # R is finer than x's grid: shift both sides up
        x, x_frac, shift = wide(x) << -(x_frac + r_log2), -r_log2, 1 - n_log2
    if x_frac + r_log2 >= INT64_BITS - 1 or shift < 0:
        x = wide(x)
    offset = x + (1 << (x_frac + r_log2))
    if shift >= 0:
        index = offset >> shift
    else:
        index = offset << -shift
    return np.clip(np.where(offset < 0, 0, index), 0, (1 << n_log2) - 1).astype(np.int64)


def lut_lookup(x_raw, x_frac: int, table_raw: np.ndarray, n_log2: int, r_log2: int) -> np.ndarray:
    return as_raw(table_raw)[lut_index(x_raw, x_frac, n_log2, r_log2)]


@dataclass(frozen=True)
class Activation:
    """One activation with its output type (the table type for LUT kinds)."""

    kind: str
    out_t: FixedType
    n_log2: int = 10
    r_log2: int = 3

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown activation {self.kind!r}; supported: {KINDS}")
        if not isinstance(self.out_t, FixedType):
            object.__setattr__(self, "out_t", FixedType.parse(self.out_t))
        if self.uses_table:
            make_lut_table(self.kind, self.out_t, self.n_log2, self.r_log2)  # validates the parameters

    @property
    def uses_table(self) -> bool:
        return self.kind in LUT_KINDS

    @property
    def table_size(self) -> int:
        return 1 << self.n_log2 if self.uses_table else 1

    def table(self) -> np.ndarray:
        """ROM contents (raw out_t); a single zero entry for kinds without a table."""
        if not self.uses_table:
            return np.zeros(1, dtype=np.int64)
        return make_lut_table(self.kind, self.out_t, self.n_log2, self.r_log2)

    def apply(self, x_raw, x_frac: int, table: np.ndarray | None = None) -> np.ndarray:
        """Raw out_t result for exact inputs ``x_raw * 2**-x_frac``."""
        x = as_raw(x_raw)
        if self.kind == "linear":
            return self.out_t.quantize_raw(x, x_frac)
        if self.kind == "relu":
            return self.out_t.quantize_raw(np.maximum(x, 0), x_frac)
        if self.kind == "hard_sigmoid":
            return hard_sigmoid(x, x_frac, self.out_t)
        return lut_lookup(x, x_frac, self.table() if table is None else table, self.n_log2, self.r_log2)

    def error_bound(self) -> float:
        """Largest |fixed - float| for inputs inside the table range (LUT) or anywhere (others).

        LUT: half a bin times the steepest slope (1/4 for sigmoid, 1 for tanh)
        plus half an output LSB of rounding (a full LSB for truncating modes).
        hard_sigmoid: the slope's quantisation over |x| <= 3 plus the output rounding.
        """
        out_err = self.out_t.lsb if self.out_t.rounding in ("AP_TRN", "AP_TRN_ZERO") else self.out_t.lsb / 2
        if self.uses_table:
            half_bin = 2.0 ** (self.r_log2 + 1 - self.n_log2) / 2
            slope = 0.25 if self.kind == "sigmoid" else 1.0
            return slope * half_bin + out_err
        if self.kind == "hard_sigmoid":
            return 3 * abs(HARD_SIGMOID_SLOPE_RAW / 2**HARD_SIGMOID_SLOPE_FRAC - 1 / 6) + out_err
        return out_err


def make_activation(kind: str, out_t: FixedType, n_log2: int = 10, r_log2: int = 3) -> Activation:
    return Activation(kind, out_t, n_log2, r_log2)


def hard_sigmoid(x_raw, x_frac: int, out_t: FixedType) -> np.ndarray:
    """Keras 3: clip(x / 6 + 1/2, 0, 1), slope held with 18 fractional bits, quantised once.

    x is first clipped to [-4, 4] (the result saturates beyond +-3 either way), so the
    product needs x_frac + 21 bits: int64 while that fits, Python integers otherwise.
    """
    x = as_raw(x_raw)
    if x_frac < 0:  # onto an integer grid first (exact)
        x, x_frac = wide(x) << -x_frac, 0
    frac = x_frac + HARD_SIGMOID_SLOPE_FRAC
    if frac + 3 > INT64_BITS:
        x = wide(x)
    limit = 4 << x_frac
    y = np.clip(x, -limit, limit) * HARD_SIGMOID_SLOPE_RAW + (1 << (frac - 1))
    y = np.clip(y, 0, 1 << frac)
    return out_t.quantize_raw(y, frac)
