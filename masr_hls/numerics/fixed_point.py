"""Bit-exact numpy model of Xilinx ``ap_fixed<W, I, Q, O>``.

Values are held as raw two's-complement integers (``int64``) on a grid of
``2**-frac`` so that every operation is exact integer arithmetic; the only
places where information is lost are :meth:`FixedType.quantize_raw` and
:meth:`FixedType.quantize_float`, which mirror what assigning to an ``ap_fixed``
variable does in C++.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

ROUNDING_MODES = ("AP_TRN", "AP_TRN_ZERO", "AP_RND", "AP_RND_ZERO", "AP_RND_MIN_INF", "AP_RND_INF", "AP_RND_CONV")
OVERFLOW_MODES = ("AP_WRAP", "AP_SAT", "AP_SAT_ZERO", "AP_SAT_SYM")

# Raw values live in int64; keep one bit of headroom for sums of two values.
MAX_WIDTH = 62

_TYPE_RE = re.compile(
    r"^\s*(?P<kind>ap_u?fixed)\s*<\s*(?P<w>-?\d+)\s*,\s*(?P<i>-?\d+)\s*"
    r"(?:,\s*(?P<q>\w+)\s*)?(?:,\s*(?P<o>\w+)\s*)?(?:,\s*(?P<n>\d+)\s*)?>\s*$"
)


class PrecisionError(ValueError):
    """A fixed-point precision that cannot be represented or is not supported."""


@dataclass(frozen=True)
class FixedType:
    """One ``ap_fixed``/``ap_ufixed`` type: width, integer bits (sign included), modes."""

    width: int
    integer: int
    signed: bool = True
    rounding: str = "AP_TRN"
    overflow: str = "AP_WRAP"

    def __post_init__(self):
        if not isinstance(self.width, (int, np.integer)) or not 1 <= self.width <= MAX_WIDTH:
            raise PrecisionError(f"{self.describe()}: width must be an integer in 1..{MAX_WIDTH}, got {self.width!r}")
        if not isinstance(self.integer, (int, np.integer)) or self.integer > self.width:
            raise PrecisionError(
                f"{self.describe()}: integer bits must not exceed the width (W={self.width} < I={self.integer})"
            )
        if self.integer < -MAX_WIDTH:
            raise PrecisionError(f"{self.describe()}: integer bits {self.integer} are out of range")
        if self.rounding not in ROUNDING_MODES:
            raise PrecisionError(f"{self.describe()}: unknown rounding mode {self.rounding!r}; use one of {ROUNDING_MODES}")
        if self.overflow not in OVERFLOW_MODES:
            raise PrecisionError(f"{self.describe()}: unknown overflow mode {self.overflow!r}; use one of {OVERFLOW_MODES}")

    # ----------------------------------------------------------------- naming
    @classmethod
    def parse(cls, text: str) -> "FixedType":
        """Parse ``ap_fixed<16,6>``, ``ap_ufixed<8,0,AP_RND,AP_SAT>`` or hls4ml's ``fixed<16,6>``."""
        if isinstance(text, FixedType):
            return text
        s = str(text).strip()
        if s.startswith("fixed<") or s.startswith("ufixed<"):
            s = "ap_" + s
        m = _TYPE_RE.match(s)
        if not m:
            raise PrecisionError(f"cannot parse precision {text!r}; expected e.g. 'ap_fixed<16,6,AP_RND,AP_SAT>'")
        if m.group("n") not in (None, "0"):
            raise PrecisionError(f"{text!r}: saturation bits (the fifth ap_fixed parameter) are not supported")
        return cls(
            width=int(m.group("w")),
            integer=int(m.group("i")),
            signed=m.group("kind") == "ap_fixed",
            rounding=m.group("q") or "AP_TRN",
            overflow=m.group("o") or "AP_WRAP",
        )

    def cpp(self) -> str:
        kind = "ap_fixed" if self.signed else "ap_ufixed"
        return f"{kind}<{self.width},{self.integer},{self.rounding},{self.overflow}>"

    def describe(self) -> str:
        kind = "ap_fixed" if self.signed else "ap_ufixed"
        return f"{kind}<{self.width},{self.integer},{self.rounding},{self.overflow}>"

    __str__ = cpp

    # ------------------------------------------------------------- properties
    @property
    def frac(self) -> int:
        return self.width - self.integer

    @property
    def min_raw(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_raw(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def lsb(self) -> float:
        return 2.0 ** -self.frac

    @property
    def min_value(self) -> float:
        return self.min_raw * self.lsb

    @property
    def max_value(self) -> float:
        return self.max_raw * self.lsb

    def with_modes(self, rounding: str | None = None, overflow: str | None = None) -> "FixedType":
        return FixedType(self.width, self.integer, self.signed, rounding or self.rounding, overflow or self.overflow)

    # ----------------------------------------------------------- conversions
    def to_float(self, raw) -> np.ndarray:
        return np.asarray(raw, dtype=np.int64).astype(np.float64) * self.lsb

    def quantize_raw(self, raw, frac: int) -> np.ndarray:
        """Assign exact values ``raw * 2**-frac`` to this type (rounding, then overflow)."""
        raw = np.asarray(raw, dtype=np.int64)
        shift = frac - self.frac
        if shift > 0:
            if shift >= 63:
                # |value| is below half an LSB: truncation floors, every other mode gives 0.
                q = np.where((raw < 0) & (self.rounding == "AP_TRN"), -1, 0).astype(np.int64)
            else:
                q = raw >> shift
                rem = raw - (q << shift)
                half = np.int64(1) << (shift - 1)
                q = _round(q, rem, half, raw < 0, self.rounding)
        else:
            if np.any(np.abs(raw) > (np.int64(1) << max(0, 62 + shift))):
                raise PrecisionError(f"{self.describe()}: value too large to re-scale exactly")
            q = raw << (-shift)
        return self._overflow(q)

    def quantize_float(self, x) -> np.ndarray:
        """Assign float64 values to this type exactly as ``ap_fixed(double)`` does."""
        x = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(x)):
            raise PrecisionError(f"{self.describe()}: cannot quantize non-finite values (NaN or Inf)")
        scaled = np.ldexp(x, self.frac)  # exact: a power-of-two scale
        q = np.floor(scaled)
        rem = scaled - q  # exact, in [0, 1)
        qi = self._float_to_int(q)
        up = _round_up(rem, 0.5, x < 0, self.rounding, qi)
        return self._overflow(qi + up.astype(np.int64))

    def _float_to_int(self, q: np.ndarray) -> np.ndarray:
        if self.overflow == "AP_WRAP":
            q = np.fmod(q, 2.0 ** (self.width + 1))  # exact; keeps the bits that survive wrapping
        else:
            bound = 2.0 ** (self.width + 1)
            q = np.clip(q, -bound, bound)
        return q.astype(np.int64)

    def _overflow(self, q: np.ndarray) -> np.ndarray:
        lo, hi = self.min_raw, self.max_raw
        if self.overflow == "AP_WRAP":
            mask = (np.int64(1) << self.width) - 1
            q = q & mask
            if self.signed:
                q = np.where(q > hi, q - (np.int64(1) << self.width), q)
            return q.astype(np.int64)
        if self.overflow == "AP_SAT":
            return np.clip(q, lo, hi).astype(np.int64)
        if self.overflow == "AP_SAT_ZERO":
            return np.where((q < lo) | (q > hi), 0, q).astype(np.int64)
        # AP_SAT_SYM: symmetric range; the most negative code is never produced.
        sym_lo = -hi if self.signed else lo
        return np.clip(q, sym_lo, hi).astype(np.int64)

    def check_raw(self, raw, what: str = "value") -> np.ndarray:
        raw = np.asarray(raw, dtype=np.int64)
        if raw.size and (raw.min() < self.min_raw or raw.max() > self.max_raw):
            raise PrecisionError(f"{what}: raw value out of range for {self.describe()}")
        return raw


def _round_up(rem, half, negative, mode, q):
    """Whether to add one LSB after flooring, given the dropped remainder."""
    above = rem > half
    tie = rem == half
    nonzero = rem != 0
    if mode == "AP_TRN":
        return np.zeros_like(above)
    if mode == "AP_TRN_ZERO":
        return negative & nonzero
    if mode == "AP_RND":
        return above | tie
    if mode == "AP_RND_ZERO":
        return above | (tie & negative)
    if mode == "AP_RND_MIN_INF":
        return above
    if mode == "AP_RND_INF":
        return above | (tie & ~negative)
    if mode == "AP_RND_CONV":
        return above | (tie & ((q & 1) == 1))
    raise PrecisionError(f"unknown rounding mode {mode!r}")


def _round(q, rem, half, negative, mode):
    return q + _round_up(rem, half, negative, mode, q).astype(np.int64)


def align(raw, frac: int, to_frac: int) -> np.ndarray:
    """Exact re-scaling to a finer grid (``to_frac >= frac``)."""
    if to_frac < frac:
        raise ValueError("align only moves to a finer grid; use quantize_raw to round")
    return np.asarray(raw, dtype=np.int64) << (to_frac - frac)


def exact_add(a, fa: int, b, fb: int):
    """Exact sum of two fixed-point values; returns (raw, frac)."""
    f = max(fa, fb)
    return align(a, fa, f) + align(b, fb, f), f


def exact_mul(a, fa: int, b, fb: int):
    """Exact product of two fixed-point values; returns (raw, frac)."""
    return np.asarray(a, dtype=np.int64) * np.asarray(b, dtype=np.int64), fa + fb
