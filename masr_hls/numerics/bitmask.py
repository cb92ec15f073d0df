"""MASR's bitmask encoding of weights and activations.

One bit of metadata per element says whether it is non-zero; only the
non-zero values are stored, packed in order.  Unlike EIE's CSC encoding the
metadata does not grow with the number of lanes, and a zero (weight,
activation) pair is found by AND-ing two masks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from masr_hls.numerics.fixed_point import as_raw
from masr_hls.numerics.lane_balance import bank_slots

MASK_BITS = 32  # bits per mask word, as stored in memory and in the C++ (ap_uint<32>)


def n_words(n: int) -> int:
    return max(1, -(-n // MASK_BITS))


def pack_mask(nonzero: np.ndarray) -> np.ndarray:
    """Boolean vector(s) -> mask words (int64 holding 32 bits), bit j of word k is element 32k+j."""
    nonzero = np.asarray(nonzero, dtype=bool)
    n = nonzero.shape[-1]
    padded = np.zeros(nonzero.shape[:-1] + (n_words(n) * MASK_BITS,), dtype=bool)
    padded[..., :n] = nonzero
    bits = padded.reshape(nonzero.shape[:-1] + (-1, MASK_BITS)).astype(np.int64)
    return (bits << np.arange(MASK_BITS, dtype=np.int64)).sum(axis=-1)


def unpack_mask(words: np.ndarray, n: int) -> np.ndarray:
    words = np.asarray(words, dtype=np.int64)
    bits = (words[..., None] >> np.arange(MASK_BITS, dtype=np.int64)) & 1
    return bits.reshape(words.shape[:-1] + (-1,))[..., :n].astype(bool)


@dataclass(frozen=True)
class CompactVector:
    """An activation vector as MASR stores it: a bitmask and the packed non-zero values."""

    n: int
    mask: np.ndarray  # (n_words,) mask words
    values: np.ndarray  # (nnz,) raw values of the non-zero elements, in index order

    @classmethod
    def encode(cls, raw: np.ndarray) -> "CompactVector":
        raw = as_raw(raw)
        if raw.ndim != 1:
            raise ValueError(f"an activation vector must be 1-D, got shape {raw.shape}")
        nz = raw != 0
        return cls(n=raw.size, mask=pack_mask(nz), values=raw[nz])

    def decode(self) -> np.ndarray:
        nz = unpack_mask(self.mask, self.n)
        if nz.sum() != self.values.size:
            raise ValueError(f"mask has {nz.sum()} set bits but {self.values.size} packed values were given")
        out = np.zeros(self.n, dtype=self.values.dtype)
        out[nz] = self.values
        return out

    def storage_bits(self, value_bits: int) -> int:
        return self.n + self.values.size * value_bits


@dataclass(frozen=True)
class SparseMatrix:
    """A weight matrix W (n_rows x n_cols, y = W v) in bitmask form, banked by lane.

    Rows are assigned to banks (a bank serves one lane, or under run-time balancing the few lanes
    that share it; the arrays say "lane" for a bank); each bank keeps its packed values, its rows in
    ``lane_rows`` (slot) order and each row's non-zeros in column order, so a lane finds a value's
    address by counting mask bits from its row's first (``lane_row_base``).
    """

    n_rows: int
    n_cols: int
    lanes: int
    mask: np.ndarray  # (n_rows, n_words) mask words, by original row index
    lane_rows: np.ndarray  # (lanes, max_rows_per_lane) row indices, padded with 0
    lane_n_rows: np.ndarray  # (lanes,)
    lane_values: np.ndarray  # (lanes, max_nnz_per_lane) raw values, padded with 0
    lane_nnz: np.ndarray  # (lanes,)
    lane_row_base: np.ndarray  # (lanes, max_rows_per_lane) packed address of each slot's first non-zero

    @classmethod
    def encode(cls, w_raw: np.ndarray, lane_of_row: np.ndarray, lanes: int, heavy_first: bool = False) -> "SparseMatrix":
        """``heavy_first``: slots in the order lanes sharing a bank take them (:func:`bank_slots`)."""
        w_raw = as_raw(w_raw)
        if w_raw.ndim != 2:
            raise ValueError(f"a weight matrix must be 2-D, got shape {w_raw.shape}")
        n_rows, n_cols = w_raw.shape
        lane_of_row = np.asarray(lane_of_row, dtype=np.int64)
        if lanes < 1:
            raise ValueError(f"lanes must be at least 1, got {lanes}")
        if lane_of_row.shape != (n_rows,):
            raise ValueError(f"lane assignment has {lane_of_row.size} entries for {n_rows} rows")
        if n_rows and (lane_of_row.min() < 0 or lane_of_row.max() >= lanes):
            raise ValueError(f"lane assignment uses lanes outside 0..{lanes - 1}")
        rows_of = bank_slots(lane_of_row, lanes, np.count_nonzero(w_raw, axis=1) if heavy_first else None)
        max_rows = max(1, max(len(r) for r in rows_of))
        vals_of = [w_raw[r][w_raw[r] != 0] for r in rows_of]  # row-major: row order, then column order
        max_nnz = max(1, max(v.size for v in vals_of))
        lane_rows = np.zeros((lanes, max_rows), dtype=np.int64)
        lane_values = np.zeros((lanes, max_nnz), dtype=w_raw.dtype)  # object: values wider than int64
        lane_row_base = np.zeros((lanes, max_rows), dtype=np.int64)
        for lane in range(lanes):
            lane_rows[lane, : len(rows_of[lane])] = rows_of[lane]
            counts = np.count_nonzero(w_raw[rows_of[lane]], axis=1)
            lane_row_base[lane, : len(rows_of[lane])] = np.cumsum(counts) - counts
            lane_values[lane, : vals_of[lane].size] = vals_of[lane]
        return cls(
            n_rows=n_rows,
            n_cols=n_cols,
            lanes=lanes,
            mask=pack_mask(w_raw != 0),
            lane_rows=lane_rows,
            lane_n_rows=np.array([len(r) for r in rows_of], dtype=np.int64),
            lane_values=lane_values,
            lane_nnz=np.array([v.size for v in vals_of], dtype=np.int64),
            lane_row_base=lane_row_base,
        )

    def decode(self) -> np.ndarray:
        nz = unpack_mask(self.mask, self.n_cols)
        out = np.zeros((self.n_rows, self.n_cols), dtype=self.lane_values.dtype)
        for lane in range(self.lanes):
            rows = self.lane_rows[lane, : self.lane_n_rows[lane]]
            sub = nz[rows]
            if sub.sum() != self.lane_nnz[lane]:
                raise ValueError(f"lane {lane}: mask has {sub.sum()} set bits but {self.lane_nnz[lane]} values")
            block = np.zeros((len(rows), self.n_cols), dtype=self.lane_values.dtype)
            block[sub] = self.lane_values[lane, : self.lane_nnz[lane]]
            out[rows] = block
        return out

    @property
    def nnz(self) -> int:
        return int(self.lane_nnz.sum())


def storage_bits(w_raw: np.ndarray, value_bits: int, lane_of_row: np.ndarray, lanes: int) -> dict[str, int]:
    """Weight memory of one matrix in three encodings, in bits.

    - dense: every weight stored.
    - bitmask (MASR): one bit per weight plus the non-zero values.
    - csc (EIE-style): per lane, each non-zero carries a 4-bit relative row
      index (a zero entry is padded in when a gap exceeds 15), plus one column
      pointer per column per lane wide enough to address the lane's entries.
    """
    w_raw = np.asarray(w_raw)
    lane_of_row = np.asarray(lane_of_row, dtype=np.int64)
    n_rows, n_cols = w_raw.shape
    nnz = int(np.count_nonzero(w_raw))
    # Each row's position among its lane's rows (a lane keeps its rows in order).
    order = np.argsort(lane_of_row, kind="stable")
    first_of_lane = np.concatenate(([0], np.cumsum(np.bincount(lane_of_row, minlength=lanes))[:-1]))
    local = np.empty(n_rows, np.int64)
    local[order] = np.arange(n_rows) - first_of_lane[lane_of_row[order]]
    # Non-zeros grouped by CSC column (one per lane and matrix column), in row order within it.
    rows, cols = np.nonzero(w_raw)
    lane = lane_of_row[rows]
    column = lane * n_cols + cols
    by_column = np.lexsort((local[rows], column))
    column, position, lane = column[by_column], local[rows][by_column], lane[by_column]
    starts_column = np.r_[True, column[1:] != column[:-1]] if column.size else np.zeros(0, bool)
    previous = np.where(starts_column, -1, np.r_[-1, position[:-1]])
    padding = (position - previous - 1) // 16  # a zero entry for every 16 rows skipped
    entries_per_lane = np.bincount(lane, weights=1 + padding, minlength=lanes).astype(np.int64)
    ptr_bits = sum(max(1, math.ceil(math.log2(int(e) + 1))) * (n_cols + 1) for e in entries_per_lane)
    return {
        "dense": n_rows * n_cols * value_bits,
        "bitmask": n_rows * n_cols + nnz * value_bits,
        "csc": int(entries_per_lane.sum()) * (value_bits + 4) + ptr_bits,
    }
