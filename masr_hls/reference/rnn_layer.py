"""Recurrent layers over sequences: direction sweeps and the bidirectional merge, in numpy.

The C++ twin is templates/masr/rnn_layer.h; Keras semantics throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from masr_hls.numerics.bitmask import n_words
from masr_hls.numerics.fixed_point import FixedType, as_raw, exact_add, exact_mul
from masr_hls.reference.rnn_cell import CellConfig, CellWeights, StepStats, step

MERGE_MODES = {"concat": "MERGE_CONCAT", "sum": "MERGE_SUM", "mul": "MERGE_MUL", "ave": "MERGE_AVE"}


SWEEP_START_DEPTH = 1  # reading frame 0's address before the first kernel chain (rnn_layer.h)
LAYER_DONE_DEPTH = 1  # the cycle the layer signals done
MERGE_PIPELINE_DEPTH = 2  # Bidirectional merge: state read, merge unit


def sweep_cycles(steps: list[StepStats]) -> int:
    """The schedule of rnn_sweep: the kernel chain of frame 0, then per step max(RH_t, KX_{t+1})."""
    if not steps:
        return 0
    kx = [s.kernel_chain for s in steps] + [0]
    return SWEEP_START_DEPTH + kx[0] + sum(max(s.cycles, kx[i + 1]) for i, s in enumerate(steps))


def sweep(cfg: CellConfig, w: CellWeights, x_seq, backward: bool = False, realign: bool = False):
    """Run one direction over the frames; out[i] is the i-th step's state, or the state of frame i if ``realign``.

    The returned figures sum the steps' engine figures; their cycles are the sweep's (``sweep_cycles``).
    """
    x_seq = as_raw(x_seq)
    n_frames = x_seq.shape[0]
    h, c = np.zeros(cfg.n_units, np.int64), np.zeros(cfg.n_units, np.int64)
    out = np.zeros((n_frames, cfg.n_units), np.int64 if cfg.state_t.fits_int64 else object)
    total, steps = StepStats.zero(), []
    for i in range(n_frames):
        t = n_frames - 1 - i if backward else i
        h, c, s = step(cfg, w, x_seq[t], h, c)
        total = total + s
        steps.append(s)
        out[t if realign else i] = h
    total.cycles = sweep_cycles(steps)
    total.kernel_chain = 0
    return out, total


def encode_cycles(n_frames: int, n_in: int) -> int:
    """Cycles of encoding n_frames frames of n_in elements (one mask word per cycle)."""
    return n_frames * n_words(n_in)


def rnn_layer(cfg: CellConfig, w: CellWeights, x_seq, go_backwards: bool = False):
    """A unidirectional layer: one sweep (Keras go_backwards order), then done."""
    out, stats = sweep(cfg, w, x_seq, backward=go_backwards)
    stats.cycles += LAYER_DONE_DEPTH
    return out, stats


@dataclass(frozen=True)
class MergeConfig:
    mode: str
    out_t: FixedType
    lanes: int = 1

    def __post_init__(self):
        if self.mode not in MERGE_MODES:
            raise ValueError(f"unsupported Bidirectional merge_mode {self.mode!r}; supported: {tuple(MERGE_MODES)}")
        if not isinstance(self.out_t, FixedType):
            object.__setattr__(self, "out_t", FixedType.parse(self.out_t))
        if not isinstance(self.lanes, (int, np.integer)) or self.lanes < 1:
            raise ValueError(f"merge lanes must be a positive integer, got {self.lanes!r}")

    def n_out(self, fwd: CellConfig, bwd: CellConfig) -> int:
        return fwd.n_units + bwd.n_units if self.mode == "concat" else fwd.n_units


def _bits(raw) -> int:
    """Bits (sign included) that hold every value of ``raw``."""
    raw = as_raw(raw)
    return int(np.abs(raw).max()).bit_length() + 1 if raw.size else 1


def merge(m: MergeConfig, a, fa: int, b, fb: int) -> np.ndarray:
    """Keras merge of the two directions' states, quantised once into out_t.

    The exact product or sum is sized from the states' values: a merge is cheap, and
    its callers pass grids, not types.
    """
    if m.mode == "concat":
        return np.concatenate([m.out_t.quantize_raw(a, fa), m.out_t.quantize_raw(b, fb)], axis=-1)
    a_bits, b_bits = _bits(a), _bits(b)
    if m.mode == "mul":
        return m.out_t.quantize_raw(*exact_mul(a, fa, b, fb, a_bits + b_bits))
    total, f = exact_add(a, fa, b, fb, max(a_bits + max(fa, fb) - fa, b_bits + max(fa, fb) - fb) + 1)
    if m.mode == "sum":
        return m.out_t.quantize_raw(total, f)
    return m.out_t.quantize_raw(total, f + 1)  # ave: halving is exact, one more fractional bit


def bidirectional(fwd: CellConfig, wf: CellWeights, bwd: CellConfig, wb: CellWeights, m: MergeConfig, x_seq, return_sequences=True):
    """Keras Bidirectional: backward outputs re-aligned with input time, then merged frame by frame."""
    if fwd.n_in != bwd.n_in:
        raise ValueError(f"Bidirectional: forward reads {fwd.n_in} inputs but backward reads {bwd.n_in}")
    if m.mode != "concat" and fwd.n_units != bwd.n_units:
        raise ValueError(f"Bidirectional merge_mode={m.mode!r} needs equal units, got {fwd.n_units} and {bwd.n_units}")
    x_seq = as_raw(x_seq)
    hf, sf = sweep(fwd, wf, x_seq)
    hb, sb = sweep(bwd, wb, x_seq, backward=True, realign=True)
    if not return_sequences:
        hf, hb = hf[-1:], hb[:1]
    y = merge(m, hf, fwd.state_t.frac, hb, bwd.state_t.frac)
    groups = -(-max(fwd.n_units, bwd.n_units) // m.lanes)  # both halves of a group of units per cycle
    cycles = max(sf.cycles, sb.cycles) + len(y) * groups + MERGE_PIPELINE_DEPTH + LAYER_DONE_DEPTH
    return y, sf, sb, cycles


def sequence_storage_bits(x_seq, value_bits: int) -> dict[str, int]:
    """The layer's input sequence kept whole: dense against MASR's bitmask + packed non-zeros."""
    x_seq = np.asarray(x_seq)
    return {"dense": x_seq.size * value_bits, "bitmask": x_seq.size + int(np.count_nonzero(x_seq)) * value_bits}
