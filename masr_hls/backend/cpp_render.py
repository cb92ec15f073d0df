"""C++ initialisers for parameters held in ROM.

A generated project holds its weights, biases and tables as constant arrays of
``masr::rom_word`` (raw_bits.h): the raw bits of each fixed-point value as a
plain integer, which compiles fast and synthesises to a ROM of the same width.
"""

from __future__ import annotations

import numpy as np

from masr_hls.numerics.bitmask import SparseMatrix
from masr_hls.numerics.fixed_point import FixedType


def braces(items) -> str:
    return "{" + ", ".join(items) + "}"


def ints(values) -> str:
    """``{1, -2, ...}``, nested for 2-D arrays."""
    values = np.asarray(values)
    if values.ndim == 1:
        return braces(str(int(v)) for v in values)
    return braces(ints(row) for row in values)


def rom(raw, t: FixedType, what: str) -> str:
    """ROM words of raw values of ``t`` (checked to be on the type's range)."""
    return ints(t.check_raw(np.asarray(raw, dtype=np.int64), what))


def sparse_weights(m: SparseMatrix, weight_t: FixedType, what: str) -> str:
    """The initialiser of a ``masr::sparse_weights`` struct: mask, lane rows, rows per lane, packed values."""
    mask = braces(braces(f"0x{int(w):08x}u" for w in row) for row in m.mask)
    return braces([mask, ints(m.lane_rows), ints(m.lane_n_rows), rom(m.lane_values, weight_t, what)])


def rom_array(name: str, element_t: str, raw, t: FixedType, what: str) -> str:
    """``static const masr::rom_word<element_t> name[n] = {...};``"""
    raw = np.asarray(raw, dtype=np.int64).ravel()
    return f"static const masr::rom_word<{element_t}> {name}[{raw.size}] = {rom(raw, t, what)};\n"
