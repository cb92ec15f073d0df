"""Recurrent layers over sequences: direction sweeps and the bidirectional merge, in numpy.

The C++ twin is templates/masr/rnn_layer.h; Keras semantics throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from masr_hls.constants import ENUMS, LAYER_DONE_DEPTH, MERGE_PIPELINE_DEPTH, MXV_DONE_DEPTH, SWEEP_START_DEPTH, enum_constant
from masr_hls.numerics.bitmask import n_words
from masr_hls.numerics.fixed_point import FixedType, as_raw, exact_add, exact_mul
from masr_hls.numerics.sequences import sequence_words
from masr_hls.reference.mxv import MxvStats
from masr_hls.reference.rnn_cell import CellConfig, CellWeights, StepStats, elementwise_cycles, kernel_chain, recurrent_chain

MERGE_MODES = {mode: enum_constant("merge_mode", mode) for mode in ENUMS["merge_mode"][1]}  # Keras merge_mode -> C++ constant


def schedule_cycles(rh: np.ndarray, kx: np.ndarray, entry: int = 0) -> np.ndarray:
    """The schedule of rnn_sweep for (sweeps, steps) arrays of RH_t and KX_t in visiting order: per sweep,
    the entry encoding of frame 0 (``entry`` cycles: the model's first layer), the kernel chain of frame 0,
    then per step max(RH_t, KX_{t+1})."""
    if rh.shape[1] == 0:
        return np.zeros(len(rh), np.int64)
    kx_next = np.concatenate([kx[:, 1:], np.zeros((len(kx), 1), np.int64)], axis=1)
    return SWEEP_START_DEPTH + entry + kx[:, 0] + np.maximum(rh, kx_next).sum(axis=1)


def sweep_cycles(steps: list[StepStats], entry: int = 0) -> int:
    """:func:`schedule_cycles` of one sweep's steps."""
    rh, kx = np.array([[s.cycles for s in steps]], np.int64), np.array([[s.kernel_chain for s in steps]], np.int64)
    return int(schedule_cycles(rh, kx, entry)[0])


def entry_cycles(n_in: int, entry: bool) -> int:
    """Cycles a sweep waits for frame 0's encoding on entry: the mask words of a frame when the layer reads the
    model's dense input port, else 0 (it loads compact frames from a store)."""
    return n_words(n_in) if entry else 0


def sweep_batch(cfg: CellConfig, w: CellWeights, x, backward: bool = False, realign: bool = False, entry: bool = False):
    """:func:`sweep` of every sample of x (samples, frames, n_in) at once: the samples step together.

    ``entry``: the frames come from the model's dense input port (encoded on entry), not from a compact store.
    Returns the states (samples, frames, units) and one StepStats per sample.
    """
    out, stats, _ = _sweep_batch(cfg, w, x, backward, realign, entry)
    return out, stats


@dataclass
class SweepTrace:
    """What a sweep's schedule needs of each step, per sample (arrays (samples, steps), in visiting order): the
    kernel chains KX, and per bank F, B and the busiest lane's cycles of each recurrent engine call (calls, 3,
    samples, steps, banks)."""

    start: np.ndarray  # (samples,) the cycle the first step starts: SWEEP_START_DEPTH + ENTRY + KX_0
    kx: np.ndarray
    calls: np.ndarray
    encode: int  # W(units)
    elementwise: int  # G


def sweep_trace(kx: np.ndarray, calls: np.ndarray, n_in: int, units: int, lanes: int, entry: bool) -> SweepTrace:
    """The :class:`SweepTrace` of a sweep on a cell of ``n_in`` inputs, ``units`` and ``lanes`` from its kernel chains
    ``kx`` (samples, steps) and its recurrent calls' phases ``calls`` (``entry``: the model's first layer)."""
    first = SWEEP_START_DEPTH + entry_cycles(n_in, entry) + (kx[:, 0] if kx.shape[1] else np.zeros(len(kx), np.int64))
    return SweepTrace(first, kx, calls, n_words(units), elementwise_cycles(units, lanes))


def _sweep_batch(cfg: CellConfig, w: CellWeights, x, backward: bool, realign: bool, entry: bool):
    """:func:`sweep_batch`, and the sweep's :class:`SweepTrace`."""
    x = as_raw(x)
    n, n_frames = x.shape[:2]
    order = np.arange(n_frames)[::-1] if backward else np.arange(n_frames)
    xw, kernel, kx = kernel_chain(cfg, w, x[:, order])  # every frame's kernel chain, in visiting order
    h = np.zeros((n, cfg.n_units), np.int64)
    c = np.zeros((n, cfg.n_units), np.int64)
    out = np.zeros((n, n_frames, cfg.n_units), np.int64 if cfg.state_t.fits_int64 else object)
    recurrent, rh = MxvStats(*np.zeros((5, n), np.int64)), np.zeros((n, n_frames), np.int64)
    n_calls, banks = (2 if cfg.gru_reset_before else 1), cfg.recurrent_config().banks
    calls = np.zeros((n_calls, 3, n, n_frames, banks), np.int64)
    for i, t in enumerate(order):
        h, c, r, rh[:, i] = recurrent_chain(cfg, w, xw[:, i], h, c)
        calls[:, :, :, i] = np.array(r.calls, np.int64).reshape(n_calls, 3, n, banks)
        recurrent = recurrent + r
        out[:, t if realign else i] = h
    cycles = schedule_cycles(rh, kx, entry_cycles(cfg.n_in, entry))
    trace = sweep_trace(kx, calls, cfg.n_in, cfg.n_units, cfg.lanes, entry)
    kernel = kernel.summed(axis=1)
    stats = [StepStats(kernel.sample(j), recurrent.sample(j), int(cycles[j]), n_frames) for j in range(n)]
    return out, stats, trace


@dataclass
class SharedSchedule:
    """The interleaved schedule of two sweeps on shared recurrent engines, per sample: each direction's sweep end,
    and per shared engine (one per call of a step) its occupied cycles (from a call's first bank start to its done,
    calls overlapping counted once), the sum of its calls' engine cycles (as alone), and per direction the sum of
    its calls' occupancies max over banks of max(F, B - 1)."""

    ends: np.ndarray  # (2, samples): forward, backward
    occupied: np.ndarray  # (engines, samples)
    engine_cycles: np.ndarray  # (engines, samples)
    occupancy: np.ndarray  # (2, samples): per direction, summed over its calls


def interleaved_schedule(fwd: SweepTrace, bwd: SweepTrace) -> SharedSchedule:
    """Both directions' recurrent calls on shared engines (docs/arithmetic.md, "Interleaved directions"): call k of
    every step goes to engine k, which takes the earliest ready call first (forward on a tie).  A call ready in
    cycle r may start in s = r + 1; each bank of the engine starts it in max(s, that bank's previous start + its
    max(F, B - 1)), and the call is done when its last bank is, plus DONE_DEPTH.  Vectorised over samples, one
    call per iteration."""
    traces = (fwd, bwd)
    n_calls, _, n, steps, banks = fwd.calls.shape
    if bwd.calls.shape != fwd.calls.shape or (fwd.encode, fwd.elementwise) != (bwd.encode, bwd.elementwise):
        raise ValueError("interleaved directions need the same cell kind, units, lanes and frames")
    total = n_calls * steps
    rows = np.arange(n)
    done = np.zeros((2, n), np.int64)  # calls each direction has placed
    step_start = np.stack([fwd.start, bwd.start]).astype(np.int64)
    ready = step_start + np.array([[fwd.encode], [bwd.encode]])
    free = np.zeros((n_calls, n, banks), np.int64)  # the cycle each bank of each engine may start its next call
    occupied_end = np.zeros((n_calls, n), np.int64)
    occupied = np.zeros((n_calls, n), np.int64)
    engine_cycles = np.zeros((n_calls, n), np.int64)
    occupancy = np.zeros((2, n), np.int64)
    for _ in range(2 * total):
        has = done < total
        pick_b = has[1] & (~has[0] | (ready[1] < ready[0]))
        for d, picked in ((0, ~pick_b), (1, pick_b)):
            sel = picked & has[d]
            if not sel.any():
                continue
            tr = traces[d]
            idx = np.minimum(done[d], total - 1)
            i, k = idx // n_calls, idx % n_calls
            f, b, c = (tr.calls[k, j, rows, i] for j in range(3))  # (samples, banks)
            first = ready[d] + 1
            bank_start = np.maximum(first[:, None], free[k, rows])
            hold = np.maximum(f, b - 1)
            end = (bank_start + c).max(axis=1) + MXV_DONE_DEPTH
            begin = bank_start.min(axis=1)
            new_occ = np.maximum(0, end - np.maximum(begin, occupied_end[k, rows]))
            last = k == n_calls - 1
            kx_next = np.where(i + 1 < steps, tr.kx[rows, np.minimum(i + 1, steps - 1)], 0)
            next_step = np.maximum(end + tr.elementwise, step_start[d] + kx_next)
            nxt_ready = np.where(last, next_step + tr.encode, end + tr.elementwise + tr.encode)
            ks, rs = k[sel], rows[sel]
            free[ks, rs] = (bank_start + hold)[sel]
            occupied[ks, rs] += new_occ[sel]
            occupied_end[ks, rs] = np.maximum(occupied_end[ks, rs], end[sel])
            engine_cycles[ks, rs] += c.max(axis=1)[sel] + MXV_DONE_DEPTH
            occupancy[d] += np.where(sel, hold.max(axis=1), 0)
            step_start[d] = np.where(sel & last, next_step, step_start[d])
            ready[d] = np.where(sel, nxt_ready, ready[d])
            done[d] += sel
    return SharedSchedule(step_start, occupied, engine_cycles, occupancy)


def sweep(cfg: CellConfig, w: CellWeights, x_seq, backward: bool = False, realign: bool = False):
    """Run one direction over the frames; out[i] is the i-th step's state, or the state of frame i if ``realign``.

    The returned figures sum the steps' engine figures; their cycles are the sweep's (``sweep_cycles``).
    """
    out, stats = sweep_batch(cfg, w, as_raw(x_seq)[None], backward, realign)
    return out[0], stats[0]


def encode_cycles(n_frames: int, n_in: int) -> int:
    """Cycles of encoding n_frames frames of n_in elements (one mask word per cycle)."""
    return n_frames * n_words(n_in)


def rnn_layer_batch(cfg: CellConfig, w: CellWeights, x, go_backwards: bool = False, entry: bool = True):
    """:func:`rnn_layer` of every sample of x (samples, frames, n_in): states (samples, frames, units), StepStats per sample.

    ``entry``: x is the model's dense input (encoded once on entry); False: x is read from a compact store.
    """
    out, stats = sweep_batch(cfg, w, x, backward=go_backwards, entry=entry)
    for s in stats:
        s.cycles += LAYER_DONE_DEPTH
    return out, stats


def rnn_layer(cfg: CellConfig, w: CellWeights, x_seq, go_backwards: bool = False):
    """A unidirectional layer: one sweep (Keras go_backwards order), then done."""
    out, stats = rnn_layer_batch(cfg, w, as_raw(x_seq)[None], go_backwards)
    return out[0], stats[0]


@dataclass(frozen=True)
class MergeConfig:
    mode: str
    out_t: FixedType
    lanes: int = 1
    interleave: bool = False  # both directions share the recurrent engines (docs/arithmetic.md, "Interleaved directions")

    def __post_init__(self):
        if self.mode not in MERGE_MODES:
            raise ValueError(f"unsupported Bidirectional merge_mode {self.mode!r}; supported: {tuple(MERGE_MODES)}")
        if not isinstance(self.out_t, FixedType):
            object.__setattr__(self, "out_t", FixedType.parse(self.out_t))
        if not isinstance(self.lanes, (int, np.integer)) or self.lanes < 1:
            raise ValueError(f"merge lanes must be a positive integer, got {self.lanes!r}")
        if not isinstance(self.interleave, (bool, np.bool_)):
            raise ValueError(f"interleave must be true or false, got {self.interleave!r}")

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


def bidirectional_batch(
    fwd: CellConfig,
    wf: CellWeights,
    bwd: CellConfig,
    wb: CellWeights,
    m: MergeConfig,
    x,
    return_sequences=True,
    entry: bool = True,
    stores_output: bool = False,
    schedule: list | None = None,
):
    """:func:`bidirectional` of every sample of x (samples, frames, n_in): outputs (samples, frames out, n_out) and,
    per sample, the forward and backward StepStats and the layer's cycles.  ``entry`` as for :func:`rnn_layer_batch`;
    ``stores_output``: the outputs go into a compact store that another layer reads (not the model's output port);
    with ``m.interleave`` both directions' recurrent chains share one set of recurrent engines (docs/arithmetic.md,
    "Interleaved directions") and each direction's StepStats counts its sweep as interleaved.  ``schedule``: a list
    that receives the :class:`SharedSchedule` (interleaved) or None."""
    if fwd.n_in != bwd.n_in:
        raise ValueError(f"Bidirectional: forward reads {fwd.n_in} inputs but backward reads {bwd.n_in}")
    if m.mode != "concat" and fwd.n_units != bwd.n_units:
        raise ValueError(f"Bidirectional merge_mode={m.mode!r} needs equal units, got {fwd.n_units} and {bwd.n_units}")
    x = as_raw(x)
    hf, sf, tf = _sweep_batch(fwd, wf, x, False, False, entry)
    hb, sb, tb = _sweep_batch(bwd, wb, x, True, True, entry)
    if m.interleave:
        check_interleave(fwd, bwd)
        shared = interleaved_schedule(tf, tb)
        for stats, ends in zip((sf, sb), shared.ends):
            for s, end in zip(stats, ends):
                s.cycles = int(end)
    if schedule is not None:
        schedule.append(shared if m.interleave else None)
    if not return_sequences:
        hf, hb = hf[:, -1:], hb[:, :1]
    y = merge(m, hf, fwd.state_t.frac, hb, bwd.state_t.frac)
    after = after_sweeps_cycles(m, fwd.n_units, bwd.n_units, y.shape[1], stores_output)
    cycles = [max(f.cycles, b.cycles) + after for f, b in zip(sf, sb)]
    return y, sf, sb, cycles


def check_interleave(fwd: CellConfig, bwd: CellConfig) -> None:
    """Interleaved directions share recurrent engines: both need the same engines and the same step shape."""
    same = (fwd.kind, fwd.n_units, fwd.reset_after, fwd.recurrent_config(), fwd.recurrent_h_config()) == (
        bwd.kind,
        bwd.n_units,
        bwd.reset_after,
        bwd.recurrent_config(),
        bwd.recurrent_h_config(),
    )
    if not same:
        raise ValueError("Interleave: the two directions must have the same cell kind, units and recurrent engines to share them")


def writes_halves(m: MergeConfig, stores_output: bool) -> bool:
    """Whether a Bidirectional layer's sweeps write their halves of the output straight into a split compact store
    (concat into a store another layer reads; docs/arithmetic.md), with no state sequences and no merge pass."""
    return m.mode == "concat" and stores_output


def output_split(m: MergeConfig, fwd: CellConfig, stores_output: bool) -> int:
    """Where a Bidirectional layer's output store splits (the forward units), 0 for a store of one part."""
    return fwd.n_units if writes_halves(m, stores_output) else 0


def merge_groups(m: MergeConfig, forward_units: int, backward_units: int) -> int:
    """Cycles of the merge pass per output frame: it goes through the output in index order, ``lanes`` outputs a
    cycle (so that it writes the compact frame as it goes): concat takes the forward half's groups, then the
    backward half's; sum / mul / ave merge a group of both halves per cycle."""
    groups = lambda units: -(-units // m.lanes)  # noqa: E731
    return groups(forward_units) + groups(backward_units) if m.mode == "concat" else groups(max(forward_units, backward_units))


def merge_cycles(out_frames: int, units: int, lanes: int) -> int:
    """Cycles of a Bidirectional layer after both sweeps: the merge of every output frame, ``ceil(units / lanes)``
    cycles each (:func:`merge_groups` with ``lanes`` = 1 gives a mode's groups), then the merge pipeline and done."""
    return out_frames * -(-units // lanes) + MERGE_PIPELINE_DEPTH + LAYER_DONE_DEPTH


def after_sweeps_cycles(m: MergeConfig, forward_units: int, backward_units: int, out_frames: int, stores_output: bool) -> int:
    """Cycles of a Bidirectional layer after the later of its sweeps: done alone where the sweeps write their halves
    as they go (:func:`writes_halves`), else the merge pass of every output frame, its pipeline and done."""
    if writes_halves(m, stores_output):
        return LAYER_DONE_DEPTH
    return merge_cycles(out_frames, merge_groups(m, forward_units, backward_units), 1)


def bidirectional(
    fwd: CellConfig, wf: CellWeights, bwd: CellConfig, wb: CellWeights, m: MergeConfig, x_seq, return_sequences=True, stores_output=False
):
    """Keras Bidirectional: backward outputs re-aligned with input time, then merged frame by frame."""
    y, sf, sb, cycles = bidirectional_batch(fwd, wf, bwd, wb, m, as_raw(x_seq)[None], return_sequences, stores_output=stores_output)
    return y[0], sf[0], sb[0], cycles[0]


def layer_words(x, y, readers: int, entry: bool, stores_output: bool, in_split: int = 0, out_split: int = 0) -> dict[str, np.ndarray]:
    """A layer's sequence storage traffic in words per sample (docs/arithmetic.md, "Sequence storage"): the input
    frames x (samples, frames, n_in) encoded on entry (``entry``) and read by ``readers`` engines, the output frames
    y (samples, frames out, n_out) written into a compact store (``stores_output``: another layer reads them).
    ``in_split`` / ``out_split``: where a split store's halves meet (0: one part)."""
    x_words = sequence_words(x, in_split)
    zero = np.zeros(len(x_words), np.int64)
    return {
        "entry_written": x_words if entry else zero,
        "seq_read": readers * x_words,
        "out_written": sequence_words(y, out_split) if stores_output else zero,
    }


def sequence_storage_bits(x_seq, value_bits: int) -> dict[str, int]:
    """The layer's input sequence kept whole: dense against MASR's bitmask + packed non-zeros."""
    x_seq = np.asarray(x_seq)
    return {"dense": x_seq.size * value_bits, "bitmask": x_seq.size + int(np.count_nonzero(x_seq)) * value_bits}
