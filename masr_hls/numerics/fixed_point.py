"""Bit-exact numpy model of Xilinx ``ap_fixed<W, I, Q, O>``.

Values are held as raw two's-complement integers on a grid of ``2**-frac``
so that every operation is exact integer arithmetic; the only places where
information is lost are :meth:`FixedType.quantize_raw` and
:meth:`FixedType.quantize_float`, which mirror what assigning to an ``ap_fixed``
variable does in C++.

Raw arrays are ``int64`` when the values fit in :data:`INT64_BITS` bits (the
fast path) and numpy ``object`` arrays of Python integers otherwise (exact at
any width).  A type's raw values use ``int64`` exactly when its width is at most
``INT64_BITS``; callers widen operands to ``object`` (:func:`wide`) before an
operation whose exact result, judged from the types' widths, needs more bits.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np

from masr_hls.constants import OVERFLOW_MODES, ROUNDING_MODES
from masr_hls.errors import PrecisionError

# Widest type: what Vitis HLS accepts without raising AP_INT_MAX_W (ap_common.h).
MAX_WIDTH = 1024
# Exact results of at most this many bits are computed in int64 (one bit of headroom
# for sums of two values); wider ones in Python integers.
INT64_BITS = 62

_TYPE_RE = re.compile(
    r"^\s*(?P<kind>ap_u?fixed)\s*<\s*(?P<w>-?\d+)\s*,\s*(?P<i>-?\d+)\s*"
    r"(?:,\s*(?P<q>\w+)\s*)?(?:,\s*(?P<o>\w+)\s*)?(?:,\s*(?P<n>\d+)\s*)?>\s*$"
)


@dataclass
class Overflow:
    """Values that did not fit a saturating type: how many, and the largest magnitude among them."""

    count: int = 0
    largest: float = 0.0


@dataclass
class OverflowLog:
    """What overflowed while recording, by (scope, type); the scope names the part being run (a layer)."""

    scope: str = ""
    found: dict = field(default_factory=dict)  # (scope, FixedType) -> Overflow

    def add(self, t: "FixedType", count: int, largest: float) -> None:
        entry = self.found.setdefault((self.scope, t), Overflow())
        entry.count += count
        entry.largest = max(entry.largest, largest)


_overflow_log: ContextVar[OverflowLog | None] = ContextVar("masr_overflow_log", default=None)


@contextmanager
def recording_overflow():
    """Within the block, every value that a saturating type (not AP_WRAP) cannot hold is logged."""
    log = OverflowLog()
    token = _overflow_log.set(log)
    try:
        yield log
    finally:
        _overflow_log.reset(token)


@contextmanager
def overflow_scope(name: str):
    """Name the part of a computation whose overflows the enclosing :func:`recording_overflow` logs."""
    log = _overflow_log.get()
    previous = log.scope if log is not None else None
    if log is not None:
        log.scope = name
    try:
        yield
    finally:
        if log is not None:
            log.scope = previous


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
            raise PrecisionError(f"{self.describe()}: integer bits must not exceed the width (W={self.width} < I={self.integer})")
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
    def fits_int64(self) -> bool:
        """Whether raw values of this type are held as int64 (else as Python integers)."""
        return self.width <= INT64_BITS

    @property
    def lsb(self) -> float:
        return 2.0**-self.frac

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
        raw = as_raw(raw)
        if raw.dtype == object:
            return np.ldexp(raw.astype(np.float64), -self.frac)
        return raw.astype(np.float64) * self.lsb

    def quantize_raw(self, raw, frac: int) -> np.ndarray:
        """Assign exact values ``raw * 2**-frac`` to this type (rounding, then overflow)."""
        raw = as_raw(raw)
        shift = frac - self.frac
        if raw.dtype == object or not self.fits_int64 or (shift < 0 and not _left_shift_fits(raw, -shift)):
            return self._quantize_exact(wide(raw), shift)
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
            q = raw << (-shift)
        return self._overflow(q)

    def _quantize_exact(self, raw: np.ndarray, shift: int) -> np.ndarray:
        """quantize_raw on Python integers (an object array): exact at any width."""
        if shift > 0:
            q = raw >> shift
            rem = raw - (q << shift)
            q = q + _round_up(rem, 1 << (shift - 1), raw < 0, self.rounding, q).astype(np.int64)
        else:
            q = raw << (-shift)
        return self._overflow(q)

    def quantize_float(self, x) -> np.ndarray:
        """Assign float64 values to this type exactly as ``ap_fixed(double)`` does."""
        x = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(x)):
            raise PrecisionError(f"{self.describe()}: cannot quantize non-finite values (NaN or Inf)")
        if not self.fits_int64:
            return self.quantize_raw(*_float_to_exact(x))
        scaled = np.ldexp(x, self.frac)  # exact: a power-of-two scale
        q = np.floor(scaled)
        rem = scaled - q  # exact, in [0, 1)
        qi = self._float_to_int(q)
        up = _round_up(rem, 0.5, x < 0, self.rounding, qi)
        q = qi + up.astype(np.int64)
        log = _overflow_log.get()
        if log is not None and self.overflow != "AP_WRAP":  # logged with the value itself: the integer conversion clips
            outside = (q < self.min_raw) | (q > self.max_raw)
            if np.any(outside):
                log.add(self, int(np.count_nonzero(outside)), float(np.max(np.abs(x[outside]))))
        return self._overflow(q, logged=True)

    def _float_to_int(self, q: np.ndarray) -> np.ndarray:
        if self.overflow == "AP_WRAP":
            q = np.fmod(q, 2.0 ** (self.width + 1))  # exact; keeps the bits that survive wrapping
        else:
            bound = 2.0 ** (self.width + 1)
            q = np.clip(q, -bound, bound)
        return q.astype(np.int64)

    def _overflow(self, q: np.ndarray, logged: bool = False) -> np.ndarray:
        """Overflow handling of exact integers ``q`` on this type's grid; the type's own raw dtype."""
        lo, hi = self.min_raw, self.max_raw
        log = None if logged else _overflow_log.get()
        if log is not None and self.overflow != "AP_WRAP":
            q = np.asarray(q)
            outside = (q < lo) | (q > hi)
            if np.any(outside):
                log.add(self, int(np.count_nonzero(outside)), float(np.max(np.abs(self.to_float(q[outside])))))
        if self.overflow == "AP_WRAP":
            q = q & ((1 << self.width) - 1)
            if self.signed:
                q = np.where(q > hi, q - (1 << self.width), q)
        elif self.overflow == "AP_SAT":
            q = np.clip(q, lo, hi)
        elif self.overflow == "AP_SAT_ZERO":
            q = np.where((q < lo) | (q > hi), 0, q)
        else:
            q = np.clip(q, self._sat_sym_min(), hi)
        return self._own_dtype(q)

    def _sat_sym_min(self) -> int:
        """Lowest code AP_SAT_SYM produces: -max, except that a 1-bit signed type keeps -1.

        ap_fixed_base.h sets an underflow to ``min | 1``; with one bit that is the
        minimum itself (raw -1), so ap_fixed<1,...,AP_SAT_SYM> saturates like AP_SAT.
        """
        if self.signed and self.width > 1:
            return -self.max_raw
        return self.min_raw

    def _own_dtype(self, q) -> np.ndarray:
        return np.asarray(q).astype(np.int64 if self.fits_int64 else object)

    def check_raw(self, raw, what: str = "value") -> np.ndarray:
        raw = as_raw(raw)
        if raw.size and (raw.min() < self.min_raw or raw.max() > self.max_raw):
            raise PrecisionError(f"{what}: raw value out of range for {self.describe()}")
        return self._own_dtype(raw)


def as_raw(raw) -> np.ndarray:
    """Raw integers as an array: int64, or object (Python integers) when they already are or must be."""
    a = np.asarray(raw)
    if a.dtype == object or a.dtype == np.int64:
        return a
    if a.dtype.kind in "iub" and (a.dtype.itemsize < 8 or a.dtype.kind != "u"):
        return a.astype(np.int64)
    if a.dtype.kind == "u":
        return a.astype(object)
    return a.astype(np.int64)


def wide(raw) -> np.ndarray:
    """Raw integers as Python integers (an object array): arithmetic on them never overflows."""
    a = as_raw(raw)
    return a if a.dtype == object else a.astype(object)


def widen_if(needed_bits: int, *arrays):
    """The arrays as Python integers if an exact result needs more than INT64_BITS bits, else unchanged."""
    if needed_bits > INT64_BITS:
        return tuple(wide(a) for a in arrays)
    return tuple(as_raw(a) for a in arrays)


def _left_shift_fits(raw: np.ndarray, shift: int) -> bool:
    """Whether ``raw << shift`` stays within int64 (with one bit of headroom)."""
    return shift < INT64_BITS and not np.any(np.abs(raw) > (np.int64(1) << (INT64_BITS - shift)))


def _float_to_exact(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Finite doubles as Python integers on one common grid: (raw, frac), exact."""
    mant, exp = np.frexp(x)  # x = mant * 2**exp, 0.5 <= |mant| < 1 (or 0)
    mant = np.ldexp(mant, 53).astype(np.int64)  # exact: 53 significant bits
    exp = exp.astype(np.int64) - 53
    frac = int(max(0, -exp.min())) if x.size else 0
    shifts = exp + frac
    raw = [int(m) << int(e) for m, e in zip(mant.ravel(), shifts.ravel())]
    out = np.empty(x.size, dtype=object)
    out[:] = raw
    return out.reshape(x.shape), frac


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
    """Exact re-scaling to a finer grid (``to_frac >= frac``); the caller sizes the dtype."""
    if to_frac < frac:
        raise ValueError("align only moves to a finer grid; use quantize_raw to round")
    return as_raw(raw) << (to_frac - frac)


def exact_add(a, fa: int, b, fb: int, bits: int = 0):
    """Exact sum of two fixed-point values; returns (raw, frac).

    ``bits`` bounds the exact result (from the operands' types): above INT64_BITS
    the sum is taken in Python integers, as it is when an operand already is one.
    """
    a, b = widen_if(bits, a, b)
    f = max(fa, fb)
    return align(a, fa, f) + align(b, fb, f), f


def exact_mul(a, fa: int, b, fb: int, bits: int = 0):
    """Exact product of two fixed-point values; returns (raw, frac).  ``bits`` as for exact_add."""
    a, b = widen_if(bits, a, b)
    return a * b, fa + fb


def sum_bits(a_integer: int, a_frac: int, b_integer: int, b_frac: int) -> int:
    """Bits of the exact sum of values with these integer and fractional bits (sign included)."""
    return max(a_integer, b_integer) + 1 + max(a_frac, b_frac)
