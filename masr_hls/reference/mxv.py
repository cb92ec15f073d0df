"""The sparse matrix-vector engine, in numpy: bit-exact results and the cycle model.

Written from the engine's specification (see templates/masr/sparse_mxv.h),
not from the C++: integer arithmetic on raw fixed-point values.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from masr_hls.constants import ENUMS, MXV_DONE_DEPTH, MXV_MAC_DEPTH, enum_constant
from masr_hls.numerics.bitmask import MASK_BITS, n_words
from masr_hls.numerics.fixed_point import FixedType, PrecisionError, as_raw, widen_if
from masr_hls.numerics.lane_balance import bank_slots

MODES = {name: enum_constant("mxv_mode", name) for name in ENUMS["mxv_mode"][1]}  # engine mode -> its C++ constant


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
    bank_lanes: int = 1  # lanes sharing a weight bank and taking its rows at run time (1: rows tied to lanes)

    def __post_init__(self):
        for name in ("n_in", "n_out", "lanes", "macs_per_lane", "scan_words", "fifo_depth", "bank_lanes"):
            positive_int(name, getattr(self, name))
        if self.lanes % self.bank_lanes:
            raise ValueError(f"bank_lanes ({self.bank_lanes}) must divide lanes ({self.lanes}): every bank serves as many lanes")
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
    def banks(self) -> int:
        """Weight banks: each holds the rows tied to it at conversion; bank b serves lanes b*G .. b*G+G-1."""
        return self.lanes // self.bank_lanes

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
    """Figures of one engine call or a sum of calls; each figure may also be an array over a batch of them."""

    pairs: int = 0
    issued: int = 0
    cycles: int = 0
    busiest_lane: int = 0
    idlest_lane: int = 0
    lane_cycles: list[int] = field(default_factory=list)
    # Per call and bank (stats_per_call only, a last axis of banks; sums drop them): F, the cycle the bank's front
    # ends are free, B, the cycle its back ends have issued their last window, and its busiest lane's cycles
    # (docs/arithmetic.md, "Calls back to back on a shared engine").
    front: object = None
    issue: object = None
    bank_cycles: object = None
    calls: list = field(default_factory=list)  # a recurrent chain's calls: (F, B, engine cycles) each

    def as_tuple(self):
        return (self.pairs, self.issued, self.cycles, self.busiest_lane, self.idlest_lane)

    def __add__(self, other: "MxvStats") -> "MxvStats":
        """Totals over several engine calls (lane figures add up call by call)."""
        return MxvStats(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple())))

    def summed(self, axis=None) -> "MxvStats":
        """Array figures summed over ``axis`` (every axis: plain ints)."""
        if axis is None:
            return MxvStats(*(int(np.sum(a)) for a in self.as_tuple()))
        return MxvStats(*(np.sum(a, axis=axis) for a in self.as_tuple()))

    def sample(self, index: int) -> "MxvStats":
        """The plain-int figures at ``index`` of array figures."""
        return MxvStats(*(int(a[index]) for a in self.as_tuple()))


MXV_CHUNK = 1 << 22  # products held at once: bounds the memory of many calls
CALL_CHUNK = 256  # calls the cycle model schedules at once


class Engine:
    """One engine loaded with one weight matrix, for any number of calls.

    What depends on the weights alone (the non-zero weights for the products; the windowed
    pattern and each bank's rows for the cycle model) is found on first use and kept, so a
    sweep finds it once rather than at every step.  ``lane_of_row`` (each row's bank: its lane when
    rows are tied to lanes) is needed by the cycle model only.
    """

    def __init__(self, cfg: MxvConfig, w_raw: np.ndarray, lane_of_row: np.ndarray | None = None):
        self.cfg = cfg
        self.w_raw = as_raw(w_raw)
        self.lane_of_row = None if lane_of_row is None else np.asarray(lane_of_row, dtype=np.int64)

    @functools.cached_property
    def terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Row, column and raw value of every non-zero weight, row by row; where each row's run starts."""
        rows, cols = np.nonzero(self.w_raw)
        (values,) = widen_if(self.cfg.product_bits, self.w_raw[rows, cols])
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if len(rows) else rows
        return rows, cols, values, starts

    @functools.cached_property
    def window_runs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The non-zero weights (:attr:`terms`) of each row's window are one run: its start, row and window."""
        rows, cols, _, _ = self.terms
        window = cols // (windows(self.cfg)[0] * MASK_BITS)
        key = rows * windows(self.cfg)[1] + window
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else key
        return starts, rows[starts], window[starts]

    def window_pairs(self, v_nonzero: np.ndarray) -> np.ndarray:
        """(calls, rows, windows) non-zero (weight, activation) pairs of calls v_nonzero (calls, n_in)."""
        _, cols, _, _ = self.terms
        starts, rows, window = self.window_runs
        pairs = np.zeros((len(v_nonzero), self.w_raw.shape[0], windows(self.cfg)[1]), np.int64)
        if len(starts):
            pairs[:, rows, window] = np.add.reduceat(v_nonzero[:, cols].astype(np.int64), starts, axis=1)
        return pairs

    @functools.cached_property
    def lane_slots(self) -> tuple[np.ndarray, np.ndarray]:
        """(banks, slots) row of every bank's slot, its rows in slot order, padded with -1; rows per bank."""
        if len(self.lane_of_row) and not 0 <= self.lane_of_row.min() <= self.lane_of_row.max() < self.cfg.banks:
            raise ValueError(f"rows are assigned to banks 0..{self.lane_of_row.max()}, but the engine has {self.cfg.banks}")
        heavy_first = np.count_nonzero(self.w_raw, axis=1) if self.cfg.bank_lanes > 1 else None
        rows_of = bank_slots(self.lane_of_row, self.cfg.banks, heavy_first)
        n_rows = np.array([len(r) for r in rows_of], np.int64)
        row_at = np.full((self.cfg.banks, max(1, int(n_rows.max()))), -1, np.int64)
        for bank, rows in enumerate(rows_of):
            row_at[bank, : len(rows)] = rows
        return row_at, n_rows

    def mxv(self, v_raw: np.ndarray) -> np.ndarray:
        """y = W v on accum_t for v of shape (..., n_in): each product quantised to accum_t, summed with wrap-around.

        Only the non-zero weights are multiplied: a zero weight's product is zero.
        """
        cfg, n_rows = self.cfg, self.w_raw.shape[0]
        rows, cols, values, starts = self.terms
        (v_raw,) = widen_if(cfg.product_bits, v_raw)
        calls = v_raw.reshape(-1, v_raw.shape[-1])
        per_chunk = max(1, MXV_CHUNK // max(1, len(cols)))
        y = [_accumulate(cfg, values * calls[start : start + per_chunk, cols], rows, starts, n_rows) for start in range(0, len(calls), per_chunk)]
        y = np.concatenate(y) if y else np.zeros((0, n_rows), np.int64 if cfg.accum_t.fits_int64 else object)
        return y.reshape(v_raw.shape[:-1] + (n_rows,))

    def window_costs(self, v_nonzero: np.ndarray):
        """Per call, row and window: the pairs and the back-end cycles ceil(issued / K) (0: the window is dropped)."""
        cfg = self.cfg
        pairs = self.window_pairs(v_nonzero)
        if cfg.mode == "masr":
            issued = pairs
        elif cfg.mode == "weight_sparse":
            issued = np.broadcast_to(self.window_pairs(np.ones((1, cfg.n_in), bool))[0], pairs.shape)
        else:
            bits = windows(cfg)[0] * MASK_BITS
            valid = np.clip(cfg.n_in - np.arange(pairs.shape[2]) * bits, 0, bits)
            issued = np.broadcast_to(valid, pairs.shape)
        return pairs, issued, -(-issued // cfg.macs_per_lane)

    def work(self, v_nonzero: np.ndarray, chunk: int = CALL_CHUNK):
        """Per call (a row of v_nonzero): pairs and issued MACs (summed over rows) and cycles per lane."""
        pairs, issued, lanes, _, _ = self.work_phases(v_nonzero, chunk)
        return pairs, issued, lanes

    def work_phases(self, v_nonzero: np.ndarray, chunk: int = CALL_CHUNK):
        """:meth:`work`, and per call F and B (docs/arithmetic.md, "Calls back to back on a shared engine")."""
        v = np.atleast_2d(np.asarray(v_nonzero, dtype=bool))
        pairs, issued, lanes, front, issue = [], [], [], [], []
        for start in range(0, v.shape[0], chunk):
            p, i, cost = self.window_costs(v[start : start + chunk])
            pairs.append(p.sum(axis=(1, 2)))
            issued.append(i.sum(axis=(1, 2)))
            schedule = _lane_cycles if self.cfg.bank_lanes == 1 else _shared_bank_cycles
            cycles, f, b = schedule(self.cfg, cost, *self.lane_slots, phases=True)
            lanes.append(cycles)
            by_bank = lambda a: a.reshape(len(a), self.cfg.banks, self.cfg.bank_lanes).max(axis=2)  # noqa: E731
            front.append(by_bank(f))
            issue.append(by_bank(b))
        if not lanes:
            zero, banks = np.zeros(0, np.int64), np.zeros((0, self.cfg.banks), np.int64)
            return zero, zero, np.zeros((0, self.cfg.lanes), np.int64), banks, banks
        return tuple(np.concatenate(a) for a in (pairs, issued, lanes, front, issue))

    def stats_per_call(self, v_nonzero: np.ndarray) -> MxvStats:
        """:func:`mxv_stats` of one call per vector of ``v_nonzero`` (..., n_in), each figure an array of shape (...)."""
        v = np.asarray(v_nonzero, dtype=bool)
        pairs, issued, lanes, front, issue = self.work_phases(v.reshape(-1, v.shape[-1]))
        shape = v.shape[:-1]
        busiest, idlest = lanes.max(axis=1).reshape(shape), lanes.min(axis=1).reshape(shape)
        stats = MxvStats(pairs.reshape(shape), issued.reshape(shape), busiest + MXV_DONE_DEPTH, busiest, idlest)
        banks = self.cfg.banks
        stats.front, stats.issue = front.reshape(shape + (banks,)), issue.reshape(shape + (banks,))
        stats.bank_cycles = lanes.reshape(-1, banks, self.cfg.bank_lanes).max(axis=2).reshape(shape + (banks,))
        return stats


def mxv(cfg: MxvConfig, w_raw: np.ndarray, v_raw: np.ndarray) -> np.ndarray:
    """y = W v on accum_t for v of shape (..., n_in) (:meth:`Engine.mxv`)."""
    return Engine(cfg, w_raw).mxv(v_raw)


def _accumulate(cfg: MxvConfig, products: np.ndarray, rows: np.ndarray, starts: np.ndarray, n_rows: int) -> np.ndarray:
    """Products (calls, non-zero weights row by row) -> accum_t (calls, n_rows): quantise each, exact row sums, wrap."""
    frac = cfg.weight_t.frac + cfg.act_t.frac
    if cfg.accum_t.frac >= frac:
        # Every product lands on accum_t's grid exactly and wrap-around is modular:
        # wrapping the exact sum once gives what wrapping each product first gives.
        (terms,) = widen_if(cfg.product_bits + int(cfg.n_in).bit_length(), products)
    else:
        (terms,) = widen_if(cfg.sum_bits, cfg.accum_t.quantize_raw(products, frac))
        frac = cfg.accum_t.frac
    sums = np.zeros((len(terms), n_rows), terms.dtype)
    if len(rows):
        sums[:, rows[starts]] = np.add.reduceat(terms, starts, axis=1)
    return cfg.accum_t.quantize_raw(sums, frac)


def windows(cfg: MxvConfig) -> tuple[int, int]:
    """(mask words per window, windows per row): the front end examines one window of one row per cycle."""
    words = n_words(cfg.n_in)
    per_window = min(cfg.scan_words, words)
    return per_window, -(-words // per_window)


def _lane_cycles(cfg: MxvConfig, cost: np.ndarray, row_at: np.ndarray, n_rows: np.ndarray, phases: bool = False):
    """Cycles of every lane in every call (calls, lanes): the schedule of docs/arithmetic.md.

    Window s of a lane (its rows in order, each row's windows in order) is examined by the
    front end in cycle f_s = max(f_{s-1} + 1, q_{i-D}) when it is the i-th window with work
    (the FIFO of D windows is full until window i-D leaves it), else f_{s-1} + 1.  Window i
    leaves the FIFO in cycle q_i = max(f_s, b_{i-1} + c_{i-1} - 1) and the back end issues it
    in cycles b_i = q_i + 1 .. b_i + c_i - 1.  A lane takes max(f_last + 1, b_last + c_last + MXV_MAC_DEPTH).
    ``row_at`` and ``n_rows`` are :attr:`Engine.lane_slots`.  ``phases``: also each lane's front-end cycles and
    issue end (b_last + c_last, 0 without work), the F and B of a call.
    """
    calls, _, n_win = cost.shape
    lanes = cfg.lanes
    # (windows s, calls, lanes): the cost of every lane's window s; a lane's slots past its last row have no work
    work = np.where(row_at[None, :, :, None] >= 0, cost[:, row_at, :], 0).reshape(calls, lanes, -1)
    work = np.ascontiguousarray(work.transpose(2, 0, 1))
    offset = np.zeros((calls, lanes), np.int64)  # front-end stall cycles so far
    issue_end = np.zeros((calls, lanes), np.int64)  # b_i + c_i of the last window with work; 0: none yet
    leave = np.full((cfg.fifo_depth, calls, lanes), -1, np.int64)  # q of the last D windows with work, oldest first
    for s, c in enumerate(work):
        has = c > 0
        f = np.maximum(s + offset, leave[0])  # the oldest q is -1 (no wait) until D windows have work
        offset = np.where(has, f - s, offset)
        q = np.maximum(f, issue_end - 1)
        leave = np.where(has, np.concatenate((leave[1:], q[None])), leave)
        issue_end = np.where(has, q + 1 + c, issue_end)
    front = n_rows[None, :] * n_win + offset
    back = np.where(issue_end > 0, issue_end + MXV_MAC_DEPTH, 0)
    return (np.maximum(front, back), front, issue_end) if phases else np.maximum(front, back)


def _shared_bank_cycles(cfg: MxvConfig, cost: np.ndarray, row_at: np.ndarray, n_rows: np.ndarray, phases: bool = False):
    """Cycles of every lane in every call (calls, lanes) when the lanes of a bank take its rows at run time.

    The schedule of docs/arithmetic.md, "Run-time balancing": each lane runs the front end, FIFO and back
    end of :func:`_lane_cycles` on the rows it takes.  A lane takes its bank's next slot in the cycle its
    front end is free (cycle 0, then the cycle after it examined the last window of its previous row);
    lanes of a bank free in the same cycle take slots in lane order.  With one lane per bank this is
    exactly :func:`_lane_cycles` (tested).  ``phases`` as there.
    """
    calls, _, n_win = cost.shape
    banks, group, depth = cfg.banks, cfg.bank_lanes, cfg.fifo_depth
    in_bank = np.arange(group)
    free = np.zeros((calls, banks, group), np.int64)  # the cycle each lane's front end is free
    issue_end = np.zeros((calls, banks, group), np.int64)  # b_i + c_i of the lane's last window with work; 0: none yet
    leave = np.full((calls, banks, group, depth), -1, np.int64)  # q of the lane's last D windows with work (a ring)
    n_work = np.zeros((calls, banks, group), np.int64)  # windows with work so far
    c_idx, b_idx = np.meshgrid(np.arange(calls), np.arange(banks), indexing="ij")
    for slot in range(row_at.shape[1]):
        live = slot < n_rows  # (banks,)
        lane = np.argmin(free * group + in_bank, axis=2)  # (calls, banks): the first free lane, lowest first
        row = np.maximum(row_at[:, slot], 0)
        for w in range(n_win):
            c = np.where(live[None], cost[:, row, w], 0)  # (calls, banks)
            t = free[c_idx, b_idx, lane]
            ring = n_work[c_idx, b_idx, lane] % depth
            f = np.where(c > 0, np.maximum(t, leave[c_idx, b_idx, lane, ring]), t)
            q = np.maximum(f, issue_end[c_idx, b_idx, lane] - 1)
            has = c > 0
            ci, bi, li = c_idx[has], b_idx[has], lane[has]
            leave[ci, bi, li, ring[has]] = q[has]
            issue_end[ci, bi, li] = q[has] + 1 + c[has]
            n_work[ci, bi, li] += 1
            free[c_idx, b_idx, lane] = np.where(live[None], f + 1, t)
    back = np.where(issue_end > 0, issue_end + MXV_MAC_DEPTH, 0)
    cycles = np.maximum(free, back).reshape(calls, cfg.lanes)
    return (cycles, free.reshape(calls, cfg.lanes), issue_end.reshape(calls, cfg.lanes)) if phases else cycles


def _engine_work(cfg: MxvConfig, w_nonzero, v_nonzero, lane_of_row, chunk: int = CALL_CHUNK):
    """:meth:`Engine.work` of a matrix given by its non-zero pattern."""
    return Engine(cfg, np.asarray(w_nonzero, dtype=bool), lane_of_row).work(v_nonzero, chunk)


def mxv_stats(cfg: MxvConfig, w_nonzero: np.ndarray, v_nonzero: np.ndarray, lane_of_row: np.ndarray) -> MxvStats:
    """Cycles and pairs of one engine call, from the two non-zero patterns."""
    pairs, issued, lanes = _engine_work(cfg, w_nonzero, v_nonzero, lane_of_row)
    lane_cycles = [int(c) for c in lanes[0]]
    return MxvStats(
        pairs=int(pairs.sum()),
        issued=int(issued.sum()),
        cycles=max(lane_cycles) + MXV_DONE_DEPTH,
        busiest_lane=max(lane_cycles),
        idlest_lane=min(lane_cycles),
        lane_cycles=lane_cycles,
    )


def mxv_stats_per_call(cfg: MxvConfig, w_nonzero: np.ndarray, v_nonzero: np.ndarray, lane_of_row: np.ndarray) -> MxvStats:
    """:meth:`Engine.stats_per_call` of a matrix given by its non-zero pattern."""
    return Engine(cfg, np.asarray(w_nonzero, dtype=bool), lane_of_row).stats_per_call(v_nonzero)


def mxv_stats_over_calls(cfg: MxvConfig, w_nonzero: np.ndarray, v_nonzero: np.ndarray, lane_of_row: np.ndarray) -> MxvStats:
    """The sum of :func:`mxv_stats` over one call per row of ``v_nonzero`` (calls, n_in), computed at once."""
    return mxv_stats_per_call(cfg, w_nonzero, v_nonzero, lane_of_row).summed()


def ideal_cycles(pairs: int, macs: int) -> int:
    """The physical limit: every MAC busy on a non-zero pair every cycle."""
    return -(-int(pairs) // int(macs))


def utilisation(pairs: int, macs: int, cycles: int) -> float:
    return ideal_cycles(pairs, macs) / cycles if cycles else 1.0
