"""The sparse matrix-vector engine, in numpy: bit-exact results and the cycle model.

Written from the engine's specification (see templates/masr/sparse_mxv.h),
not from the C++: integer arithmetic on raw fixed-point values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from masr_hls.numerics.bitmask import n_words
from masr_hls.numerics.fixed_point import FixedType, PrecisionError

MODES = {"dense": "MODE_DENSE", "weight_sparse": "MODE_WEIGHT_SPARSE", "masr": "MODE_MASR"}
PIPELINE_DEPTH = 4  # mask read, AND + priority encode, multiply, accumulate


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

    def __post_init__(self):
        for name in ("n_in", "n_out", "lanes", "macs_per_lane", "scan_words"):
            positive_int(name, getattr(self, name))
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
        if self.weight_t.width + self.act_t.width > 62:
            raise PrecisionError(f"weight {self.weight_t} x activation {self.act_t} products exceed 62 bits")
        if self.accum_t.width + int(np.ceil(np.log2(self.n_in + 1))) > 62:
            raise PrecisionError(f"accumulator {self.accum_t} too wide to sum {self.n_in} terms exactly in the reference")


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
    w_raw = np.asarray(w_raw, dtype=np.int64)
    v_raw = np.asarray(v_raw, dtype=np.int64)
    products = w_raw * v_raw[None, :]
    quantised = cfg.accum_t.quantize_raw(products, cfg.weight_t.frac + cfg.act_t.frac)
    return cfg.accum_t.quantize_raw(quantised.sum(axis=1), cfg.accum_t.frac)  # exact sum, then wrap


def _lane_work(cfg: MxvConfig, w_nonzero, v_nonzero, lane_of_row):
    """Per call (a row of ``v_nonzero``): pairs and issued MACs per row, and cycles per lane."""
    w = np.asarray(w_nonzero, dtype=bool).astype(np.float64)
    v = np.atleast_2d(np.asarray(v_nonzero, dtype=bool)).astype(np.float64)
    lane_of_row = np.asarray(lane_of_row, dtype=np.int64)
    # Counts as float matrix products: exact (far below 2**53) and fast.
    pairs = np.rint(v @ w.T).astype(np.int64)  # (calls, rows)
    if cfg.mode == "masr":
        issued = pairs
    elif cfg.mode == "weight_sparse":
        issued = np.broadcast_to(np.rint(w.sum(axis=1)).astype(np.int64), pairs.shape)
    else:
        issued = np.full(pairs.shape, cfg.n_in, np.int64)
    back_per_row = -(-issued // cfg.macs_per_lane)
    one_hot = np.zeros((lane_of_row.size, cfg.lanes))
    one_hot[np.arange(lane_of_row.size), lane_of_row] = 1.0
    back = np.rint(back_per_row.astype(np.float64) @ one_hot).astype(np.int64)  # (calls, lanes)
    front_per_row = 0 if cfg.mode == "dense" else -(-n_words(cfg.n_in) // cfg.scan_words)
    front = front_per_row * np.bincount(lane_of_row, minlength=cfg.lanes)
    return pairs, issued, np.maximum(front[None, :], back)


def mxv_stats(cfg: MxvConfig, w_nonzero: np.ndarray, v_nonzero: np.ndarray, lane_of_row: np.ndarray) -> MxvStats:
    """Cycles and pairs of one engine call, from the two non-zero patterns."""
    pairs, issued, lanes = _lane_work(cfg, w_nonzero, v_nonzero, lane_of_row)
    lane_cycles = [int(c) for c in lanes[0]]
    return MxvStats(
        pairs=int(pairs.sum()),
        issued=int(issued.sum()),
        cycles=max(lane_cycles) + PIPELINE_DEPTH,
        busiest_lane=max(lane_cycles),
        idlest_lane=min(lane_cycles),
        lane_cycles=lane_cycles,
    )


def mxv_stats_over_calls(cfg: MxvConfig, w_nonzero: np.ndarray, v_nonzero: np.ndarray, lane_of_row: np.ndarray) -> MxvStats:
    """The sum of :func:`mxv_stats` over one call per row of ``v_nonzero`` (calls, n_in), computed at once."""
    pairs, issued, lanes = _lane_work(cfg, w_nonzero, v_nonzero, lane_of_row)
    busiest, idlest = lanes.max(axis=1), lanes.min(axis=1)
    return MxvStats(pairs=int(pairs.sum()), issued=int(issued.sum()), cycles=int((busiest + PIPELINE_DEPTH).sum()),
                    busiest_lane=int(busiest.sum()), idlest_lane=int(idlest.sum()))


def ideal_cycles(pairs: int, macs: int) -> int:
    """The physical limit: every MAC busy on a non-zero pair every cycle."""
    return -(-int(pairs) // int(macs))


def utilisation(pairs: int, macs: int, cycles: int) -> float:
    return ideal_cycles(pairs, macs) / cycles if cycles else 1.0
