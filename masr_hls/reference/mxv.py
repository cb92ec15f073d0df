"""The sparse matrix-vector engine, in numpy: bit-exact results and the cycle model.

Written from the engine's specification (see templates/masr/sparse_mxv.h),
not from the C++: integer arithmetic on raw fixed-point values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from masr_hls.numerics.bitmask import MASK_BITS, n_words
from masr_hls.numerics.fixed_point import FixedType, PrecisionError, widen_if

MODES = {"dense": "MODE_DENSE", "weight_sparse": "MODE_WEIGHT_SPARSE", "masr": "MODE_MASR"}
MAC_DEPTH = 2  # stages after a back-end issue cycle: read + multiply, quantise + accumulate
DONE_DEPTH = 1  # the cycle after the last lane: results valid


def positive_int(name: str, value) -> int:
    """``value`` as an int, or a ValueError naming ``name``."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class MxvConfig:
    """Static parameters of one engine instance."""

    n_in: int
    n_out: int
    weight_t: FixedType
    act_t: FixedType
    accum_t: FixedType
    lanes: int = 1
    macs_per_lane: int = 1
    scan_words: int = 4  # mask words (of 32 bits) the front end examines per cycle
    mode: str = "masr"
    fifo_depth: int = 4  # windows queued between a lane's front end and back end

    def __post_init__(self):
        for name in ("n_in", "n_out", "lanes", "macs_per_lane", "scan_words", "fifo_depth"):
            positive_int(name, getattr(self, name))
        if self.fifo_depth > 64:
            raise ValueError(f"fifo_depth must be at most 64, got {self.fifo_depth}")
        if self.mode not in MODES:
            raise ValueError(f"unknown engine mode {self.mode!r}; use one of {tuple(MODES)}")
        for name in ("weight_t", "act_t", "accum_t"):
            if not isinstance(getattr(self, name), FixedType):
                object.__setattr__(self, name, FixedType.parse(getattr(self, name)))
        if self.accum_t.overflow != "AP_WRAP":
            raise PrecisionError(
                f"accumulator {self.accum_t}: overflow must be AP_WRAP; lanes and MACs add in a hardware-"
                "dependent order and only wrap-around addition is order-independent (widen it instead)"
            )

    @property
    def product_bits(self) -> int:
        """Bits of an exact product w * v: the reference multiplies in int64 up to INT64_BITS."""
        return self.weight_t.width + self.act_t.width

    @property
    def sum_bits(self) -> int:
        """Bits of an exact sum of n_in accumulator values."""
        return self.accum_t.width + int(self.n_in).bit_length()


@dataclass
class MxvStats:
    pairs: int = 0
    issued: int = 0
    cycles: int = 0
    busiest_lane: int = 0
    idlest_lane: int = 0
    lane_cycles: list[int] = field(default_factory=list)

    def as_tuple(self):
        return (self.pairs, self.issued, self.cycles, self.busiest_lane, self.idlest_lane)

    def __add__(self, other: "MxvStats") -> "MxvStats":
        """Totals over several engine calls (lane figures add up call by call)."""
        return MxvStats(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple())))


def mxv(cfg: MxvConfig, w_raw: np.ndarray, v_raw: np.ndarray) -> np.ndarray:
    """y = W v on accum_t: each product quantised to accum_t, summed with wrap-around."""
    w_raw, v_raw = widen_if(cfg.product_bits, w_raw, v_raw)
    products = w_raw * v_raw[None, :]
    (quantised,) = widen_if(cfg.sum_bits, cfg.accum_t.quantize_raw(products, cfg.weight_t.frac + cfg.act_t.frac))
    return cfg.accum_t.quantize_raw(quantised.sum(axis=1), cfg.accum_t.frac)  # exact sum, then wrap


def windows(cfg: MxvConfig) -> tuple[int, int]:
    """(mask words per window, windows per row): the front end examines one window of one row per cycle."""
    words = n_words(cfg.n_in)
    per_window = min(cfg.scan_words, words)
    return per_window, -(-words // per_window)


def _window_costs(cfg: MxvConfig, w: np.ndarray, v: np.ndarray):
    """Per call, row and window: the pairs and the back-end cycles ceil(issued / K) (0: the window is dropped)."""
    per_window, n_win = windows(cfg)
    bits = per_window * MASK_BITS
    width = n_win * bits
    wp = np.zeros((w.shape[0], width), np.float64)
    wp[:, : cfg.n_in] = w
    vp = np.zeros((v.shape[0], width), np.float64)
    vp[:, : cfg.n_in] = v
    # Counts as float matrix products: exact (far below 2**53) and fast.
    pairs = np.stack([np.rint(vp[:, k * bits : (k + 1) * bits] @ wp[:, k * bits : (k + 1) * bits].T) for k in range(n_win)],
                     axis=-1).astype(np.int64)  # (calls, rows, windows)
    if cfg.mode == "masr":
        issued = pairs
    elif cfg.mode == "weight_sparse":
        issued = np.broadcast_to(wp.reshape(w.shape[0], n_win, bits).sum(axis=2).astype(np.int64), pairs.shape)
    else:
        valid = np.clip(cfg.n_in - np.arange(n_win) * bits, 0, bits)
        issued = np.broadcast_to(valid, pairs.shape)
    return pairs, issued, -(-issued // cfg.macs_per_lane)


def _lane_cycles(cfg: MxvConfig, cost: np.ndarray, lane_of_row: np.ndarray) -> np.ndarray:
    """Cycles of every lane in every call (calls, lanes): the schedule of docs/arithmetic.md.

    Window s of a lane (its rows in order, each row's windows in order) is examined by the
    front end in cycle f_s = max(f_{s-1} + 1, q_{i-D}) when it is the i-th window with work
    (the FIFO of D windows is full until window i-D leaves it), else f_{s-1} + 1.  Window i
    leaves the FIFO in cycle q_i = max(f_s, b_{i-1} + c_{i-1} - 1) and the back end issues it
    in cycles b_i = q_i + 1 .. b_i + c_i - 1.  A lane takes max(f_last + 1, b_last + c_last + MAC_DEPTH).
    """
    calls, _, n_win = cost.shape
    lanes, depth = cfg.lanes, cfg.fifo_depth
    rows_of = [np.flatnonzero(lane_of_row == lane) for lane in range(lanes)]
    n_rows = np.array([len(r) for r in rows_of], np.int64)
    max_rows = int(n_rows.max()) if lanes else 0
    row_at = np.zeros((lanes, max(max_rows, 1)), np.int64)
    for lane, rows in enumerate(rows_of):
        row_at[lane, : len(rows)] = rows
    offset = np.zeros((calls, lanes), np.int64)  # front-end stall cycles so far
    issue_end = np.zeros((calls, lanes), np.int64)  # b_i + c_i of the last window with work
    seen = np.zeros((calls, lanes), np.int64)  # windows with work so far
    leave = np.zeros((calls, lanes, depth), np.int64)  # q of the last D windows, by i mod D
    ci, li = np.indices((calls, lanes))
    for slot in range(max_rows):
        active = slot < n_rows
        for k in range(n_win):
            s = slot * n_win + k
            c = np.where(active[None, :], cost[:, row_at[:, slot], k], 0)
            has = c > 0
            f = s + offset
            ring = seen % depth
            f = np.where(has & (seen >= depth), np.maximum(f, leave[ci, li, ring]), f)
            offset = np.where(has, f - s, offset)
            q = np.where(seen == 0, f, np.maximum(f, issue_end - 1))
            leave[ci, li, ring] = np.where(has, q, leave[ci, li, ring])
            issue_end = np.where(has, q + 1 + c, issue_end)
            seen = seen + has
    front = n_rows[None, :] * n_win + offset
    back = np.where(seen > 0, issue_end + MAC_DEPTH, 0)
    return np.maximum(front, back)


def _engine_work(cfg: MxvConfig, w_nonzero, v_nonzero, lane_of_row, chunk: int = 256):
    """Per call: pairs and issued MACs (summed over rows) and cycles per lane, ``chunk`` calls at a time."""
    w = np.asarray(w_nonzero, dtype=bool)
    v = np.atleast_2d(np.asarray(v_nonzero, dtype=bool))
    lane_of_row = np.asarray(lane_of_row, dtype=np.int64)
    pairs, issued, lanes = [], [], []
    for start in range(0, v.shape[0], chunk):
        p, i, cost = _window_costs(cfg, w, v[start : start + chunk])
        pairs.append(p.sum(axis=(1, 2)))
        issued.append(i.sum(axis=(1, 2)))
        lanes.append(_lane_cycles(cfg, cost, lane_of_row))
    if not lanes:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, cfg.lanes), np.int64)
    return np.concatenate(pairs), np.concatenate(issued), np.concatenate(lanes)


def mxv_stats(cfg: MxvConfig, w_nonzero: np.ndarray, v_nonzero: np.ndarray, lane_of_row: np.ndarray) -> MxvStats:
    """Cycles and pairs of one engine call, from the two non-zero patterns."""
    pairs, issued, lanes = _engine_work(cfg, w_nonzero, v_nonzero, lane_of_row)
    lane_cycles = [int(c) for c in lanes[0]]
    return MxvStats(
        pairs=int(pairs.sum()),
        issued=int(issued.sum()),
        cycles=max(lane_cycles) + DONE_DEPTH,
        busiest_lane=max(lane_cycles),
        idlest_lane=min(lane_cycles),
        lane_cycles=lane_cycles,
    )


def mxv_stats_over_calls(cfg: MxvConfig, w_nonzero: np.ndarray, v_nonzero: np.ndarray, lane_of_row: np.ndarray) -> MxvStats:
    """The sum of :func:`mxv_stats` over one call per row of ``v_nonzero`` (calls, n_in), computed at once."""
    pairs, issued, lanes = _engine_work(cfg, w_nonzero, v_nonzero, lane_of_row)
    busiest, idlest = lanes.max(axis=1), lanes.min(axis=1)
    return MxvStats(pairs=int(pairs.sum()), issued=int(issued.sum()), cycles=int((busiest + DONE_DEPTH).sum()),
                    busiest_lane=int(busiest.sum()), idlest_lane=int(idlest.sum()))


def ideal_cycles(pairs: int, macs: int) -> int:
    """The physical limit: every MAC busy on a non-zero pair every cycle."""
    return -(-int(pairs) // int(macs))


def utilisation(pairs: int, macs: int, cycles: int) -> float:
    return ideal_cycles(pairs, macs) / cycles if cycles else 1.0
