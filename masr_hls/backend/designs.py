"""The converted layers: each knows its numpy reference, its C++ configuration, weights and call.

One class per hardware stage; ``model.py`` chains them.  Layer k+1 reads layer
k's output type, so no conversion sits between layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from masr_hls.backend import cpp_render
from masr_hls.backend.config import LayerSettings
from masr_hls.constants import (
    STATS_BACKWARD,
    STATS_ENTRY_WRITTEN,
    STATS_LAYER_CYCLES,
    STATS_OUT_WRITTEN,
    STATS_PER_DIRECTION,
    STATS_PER_LAYER,
    STATS_SEQ_READ,
)
from masr_hls.frontend.keras_reader import BidirectionalSpec, DenseSpec, RecurrentSpec
from masr_hls.numerics.fixed_point import FixedType
from masr_hls.reference import dense_head as dh
from masr_hls.reference import softmax as sm
from masr_hls.reference.mxv import MxvStats
from masr_hls.reference.rnn_cell import CellConfig, CellWeights, StepStats
from masr_hls.reference.rnn_layer import MergeConfig, bidirectional_batch, check_interleave, layer_words, output_split, rnn_layer_batch


@dataclass
class HeadTotals:
    """A dense head's figures summed over frames."""

    pairs: int
    issued: int
    engine_cycles: int


@dataclass
class LayerResult:
    """A layer's figures for one input: per direction (forward; backward for Bidirectional) and cycles."""

    name: str
    forward: StepStats | None
    backward: StepStats | None
    cycles: int
    head: list | None = None  # per-frame dense head figures
    entry_written: int = 0  # words written encoding the model's input on entry (first layer)
    seq_read: int = 0  # words read from the layer's input sequence, every reader
    out_written: int = 0  # words written into the layer's compact output store (0: the model's output port)

    def block(self) -> list[int]:
        """The figures as the generated C++ reports them (STATS_PER_LAYER integers)."""
        out = [0] * STATS_PER_LAYER
        if self.head is not None:
            out[0] = sum(h.pairs for h in self.head)
            out[1] = sum(h.issued for h in self.head)
            out[2] = sum(h.engine_cycles for h in self.head)
        for offset, s in ((0, self.forward), (STATS_BACKWARD, self.backward)):
            if s is not None:
                out[offset : offset + STATS_PER_DIRECTION] = s.as_tuple()
        out[STATS_LAYER_CYCLES] = self.cycles
        out[STATS_ENTRY_WRITTEN], out[STATS_SEQ_READ], out[STATS_OUT_WRITTEN] = self.entry_written, self.seq_read, self.out_written
        return out

    @classmethod
    def from_block(cls, name: str, raw, kind: str) -> "LayerResult":
        raw = [int(v) for v in raw]
        unpack = lambda r: StepStats(MxvStats(*r[0:5]), MxvStats(*r[5:10]), r[10], r[11])  # noqa: E731
        words = {"entry_written": raw[STATS_ENTRY_WRITTEN], "seq_read": raw[STATS_SEQ_READ], "out_written": raw[STATS_OUT_WRITTEN]}
        if kind == "dense":
            return cls(name, None, None, raw[STATS_LAYER_CYCLES], head=[HeadTotals(raw[0], raw[1], raw[2])], **words)
        backward = unpack(raw[STATS_BACKWARD : STATS_BACKWARD + STATS_PER_DIRECTION]) if kind == "bidirectional" else None
        return cls(name, unpack(raw[:STATS_PER_DIRECTION]), backward, raw[STATS_LAYER_CYCLES], **words)

    @property
    def pairs(self) -> int:
        if self.head is not None:
            return sum(h.pairs for h in self.head)
        return sum(s.kernel.pairs + s.recurrent.pairs for s in (self.forward, self.backward) if s is not None)


def cpp_bool(value: bool) -> str:
    return "true" if value else "false"


def _cell_config(spec: RecurrentSpec, n_in: int, in_t: FixedType, settings: LayerSettings) -> CellConfig:
    precision = settings.precision
    return CellConfig(
        kind=spec.kind,
        n_in=n_in,
        n_units=spec.units,
        activation=spec.activation,
        recurrent_activation=spec.recurrent_activation,
        reset_after=spec.reset_after,
        in_t=in_t,
        state_t=precision["state"],
        weight_t=precision["weight"],
        recurrent_weight_t=precision["recurrent_weight"],
        bias_t=precision["bias"],
        accum_t=precision["accum"],
        gate_t=precision["gate"],
        cand_t=precision["cand"],
        cell_t=precision["cell"],
        lanes=settings.lanes,
        macs_per_lane=settings.macs_per_lane,
        scan_words=settings.scan_words,
        mode=settings.mode,
        bank_lanes=settings.bank_lanes,
        fifo_depth=settings.fifo_depth,
        act_n_log2=settings.table_size_log2,
        act_r_log2=settings.table_range_log2,
        rec_n_log2=settings.table_size_log2,
        rec_r_log2=settings.table_range_log2,
    )


class LayerDesign:
    """What every converted layer shares: its reference on one sample is its reference on a batch of one, and its
    constants are rendered once.

    Where its sequences live (docs/arithmetic.md, "Sequence storage"), set by the build_designs pass from the layer's
    place in the chain: ``entry`` (it reads the model's dense input port and encodes each frame once on entry; else a
    compact store) and ``stores_output`` (another layer reads its outputs from a compact store; else they leave
    through the model's output port); ``in_split``: where the halves of a split input store meet (0: one part).
    """

    entry = True
    stores_output = False
    in_split = 0
    out_split = 0  # where the halves of the layer's output store meet: a concat Bidirectional's (0: one part)

    def _words(self, x, y, readers: int) -> list[dict]:
        words = layer_words(x, y, readers, self.entry, self.stores_output, self.in_split, self.out_split)
        return [{k: int(v[j]) for k, v in words.items()} for j in range(len(x))]

    def cpp_weights(self, prefix: str) -> list[cpp_render.Rom]:
        """The layer's constants named after ``prefix``; rendered once, since the written project, the C simulation's
        declarations and the words it loads all read them."""
        roms = self.__dict__.setdefault("_roms", {})
        if prefix not in roms:
            roms[prefix] = self._render_weights(prefix)
        return roms[prefix]

    def reference(self, x: np.ndarray):
        """Output (frames out, n_out) and LayerResult of one sample (frames, n_in)."""
        y, results = self.reference_batch(np.asarray(x)[None])
        return y[0], results[0]


def _cell_weights(name: str, cfg_name: str, cfg: CellConfig, w: CellWeights) -> cpp_render.Rom:
    """A ``masr::rnn_weights<cfg>``: its members in order (templates/masr/rnn_cell.h)."""
    act = cfg.act().table() if cfg.act().uses_table else np.zeros(1, np.int64)
    rec = cfg.rec_act().table() if cfg.kind != "simple_rnn" and cfg.rec_act().uses_table else np.zeros(1, np.int64)
    matrices = [
        (w.matrices["kernel"], cfg.weight_t, f"{name} kernel"),
        (w.matrices["recurrent"], cfg.recurrent_weight_t, f"{name} recurrent kernel"),
        (w.matrices["recurrent_h"], cfg.recurrent_weight_t, f"{name} recurrent kernel"),
    ]
    arrays = [
        (w.bias, cfg.bias_t, f"{name} bias"),
        (w.recurrent_bias, cfg.bias_t, f"{name} bias"),
        (act, cfg.cand_t, f"{name} table"),
        (rec, cfg.gate_t, f"{name} table"),
    ]
    parts = [cpp_render.sparse_weights(*m) for m in matrices] + [cpp_render.rom(*a) for a in arrays]
    words = [cpp_render.sparse_words(*m) for m in matrices] + [cpp_render.checked_raw(*a).ravel() for a in arrays]
    return cpp_render.Rom(f"masr::rnn_weights<{cfg_name}>", name, None, "{\n    " + ",\n    ".join(parts) + "}", np.concatenate(words))


class RecurrentDesign(LayerDesign):
    """A unidirectional GRU / LSTM / SimpleRNN layer."""

    kind = "recurrent"

    def __init__(self, spec: RecurrentSpec, n_in: int, in_t: FixedType, settings: LayerSettings):
        self.name, self.spec = spec.name, spec
        self.lane_assignment = settings.lane_assignment  # rows tied to banks at conversion, by this strategy
        self.balancing = settings.balancing
        self.cell = _cell_config(spec, n_in, in_t, settings)
        self.weights = CellWeights.from_keras(self.cell, spec.kernel, spec.recurrent_kernel, spec.bias, settings.lane_assignment)
        self.return_sequences = spec.return_sequences
        self.n_out, self.out_t = spec.units, self.cell.state_t

    def reference_batch(self, x: np.ndarray):
        """Outputs (samples, frames out, n_out) and one LayerResult per sample of x (samples, frames, n_in)."""
        out, stats = rnn_layer_batch(self.cell, self.weights, x, self.spec.go_backwards, self.entry)
        y = out if self.return_sequences else out[:, -1:]
        return y, [LayerResult(self.name, s, None, s.cycles, **w) for s, w in zip(stats, self._words(x, y, 1))]

    def cpp_config(self, prefix: str, any_weights: bool = False) -> str:
        return cpp_render.cell_config(f"{prefix}_cell", self.cell, self.weights, any_weights=any_weights)

    def _render_weights(self, prefix: str) -> list[cpp_render.Rom]:
        return [_cell_weights(f"{prefix}_w", f"{prefix}_cell", self.cell, self.weights)]

    def cpp_call(self, prefix: str, x: str, y: str, figures: str) -> str:
        """The layer's call in the top function: input x, output y, its figures block."""
        return (
            f"masr::model_rnn_layer<{prefix}_cell, MAX_T>({x}, frames, {cpp_bool(self.spec.go_backwards)}, "
            f"{cpp_bool(self.return_sequences)}, {y}, {prefix}_w, {figures})"
        )

    def out_frames(self, frames: int) -> int:
        return frames if self.return_sequences else 1


class BidirectionalDesign(LayerDesign):
    kind = "bidirectional"

    def __init__(self, spec: BidirectionalSpec, n_in: int, in_t: FixedType, settings: LayerSettings):
        self.name, self.spec = spec.name, spec
        self.lane_assignment = settings.lane_assignment  # rows tied to banks at conversion, by this strategy
        self.balancing = settings.balancing + (", directions interleaved" if settings.interleave else "")
        self.fwd = _cell_config(spec.forward, n_in, in_t, settings)
        self.bwd = _cell_config(spec.backward, n_in, in_t, settings)
        strategy = settings.lane_assignment
        self.wf = CellWeights.from_keras(self.fwd, spec.forward.kernel, spec.forward.recurrent_kernel, spec.forward.bias, strategy)
        self.wb = CellWeights.from_keras(self.bwd, spec.backward.kernel, spec.backward.recurrent_kernel, spec.backward.bias, strategy)
        # Concatenating two halves of one state type needs no conversion; everything else is quantised to output.
        same_states = spec.merge_mode == "concat" and self.bwd.state_t == self.fwd.state_t
        out_t = self.fwd.state_t if same_states else settings.precision["output"]
        self.merge = MergeConfig(spec.merge_mode, out_t, settings.lanes, settings.interleave)
        if self.merge.interleave:
            check_interleave(self.fwd, self.bwd)
        self.return_sequences = spec.return_sequences
        self.n_out, self.out_t = self.merge.n_out(self.fwd, self.bwd), out_t

    def reference_batch(self, x: np.ndarray):
        """Outputs (samples, frames out, n_out) and one LayerResult per sample of x (samples, frames, n_in)."""
        y, sf, sb, cycles = bidirectional_batch(
            self.fwd, self.wf, self.bwd, self.wb, self.merge, x, self.return_sequences, self.entry, self.stores_output
        )
        return y, [LayerResult(self.name, f, b, c, **w) for f, b, c, w in zip(sf, sb, cycles, self._words(x, y, 2))]

    def cpp_config(self, prefix: str, any_weights: bool = False) -> str:
        return (
            cpp_render.cell_config(f"{prefix}_fwd", self.fwd, self.wf, any_weights=any_weights)
            + cpp_render.cell_config(f"{prefix}_bwd", self.bwd, self.wb, any_weights=any_weights)
            + cpp_render.merge_config(f"{prefix}_merge", self.merge, self.fwd, self.bwd)
        )

    def _render_weights(self, prefix: str) -> list[cpp_render.Rom]:
        return [_cell_weights(f"{prefix}_wf", f"{prefix}_fwd", self.fwd, self.wf), _cell_weights(f"{prefix}_wb", f"{prefix}_bwd", self.bwd, self.wb)]

    def cpp_call(self, prefix: str, x: str, y: str, figures: str) -> str:
        """The layer's call in the top function: input x, output y, its figures block."""
        return (
            f"masr::model_bidirectional_layer<{prefix}_fwd, {prefix}_bwd, {prefix}_merge, MAX_T>({x}, frames, "
            f"{cpp_bool(self.return_sequences)}, {y}, {prefix}_wf, {prefix}_wb, {figures})"
        )

    def out_frames(self, frames: int) -> int:
        return frames if self.return_sequences else 1

    @property
    def out_split(self) -> int:
        return output_split(self.merge, self.fwd, self.stores_output)


class DenseDesign(LayerDesign):
    """A Dense / TimeDistributed(Dense) head on every frame, with its activation (softmax as its own stage)."""

    kind = "dense"

    def __init__(self, spec: DenseSpec, n_in: int, in_t: FixedType, settings: LayerSettings, max_frames: int):
        self.name, self.spec = spec.name, spec
        self.lane_assignment = settings.lane_assignment  # rows tied to banks at conversion, by this strategy
        self.balancing = settings.balancing
        precision = settings.precision
        softmax = spec.activation == "softmax"
        self.head = dh.DenseHeadConfig(
            n_in,
            spec.kernel.shape[1],
            in_t,
            precision["weight"],
            precision["bias"],
            precision["accum"],
            precision["output"],
            activation="linear" if softmax else spec.activation,
            table_t=precision["table"],
            table_n_log2=settings.table_size_log2,
            table_r_log2=settings.table_range_log2,
            lanes=settings.lanes,
            macs_per_lane=settings.macs_per_lane,
            scan_words=settings.scan_words,
            mode=settings.mode,
            max_frames=max_frames,
            bank_lanes=settings.bank_lanes,
            fifo_depth=settings.fifo_depth,
        )
        self.weights = dh.quantize_weights(self.head, spec.kernel, spec.bias, settings.lane_assignment)
        self.softmax = (
            sm.SoftmaxConfig(
                self.head.n_out,
                precision["output"],
                out_t=precision["softmax"],
                exp_n_log2=settings.table_size_log2,
                exp_r_log2=settings.table_range_log2,
                inv_n_log2=settings.table_size_log2,
            )
            if softmax
            else None
        )
        self.return_sequences = True
        self.n_out = self.head.n_out
        self.out_t = self.softmax.out_t if softmax else self.head.out_t

    def reference_batch(self, x: np.ndarray):
        """Outputs (samples, frames, n_out) and one LayerResult per sample of x (samples, frames, n_in)."""
        n, frames = x.shape[:2]
        flat = x.reshape(n * frames, -1)  # the head runs frame by frame: every frame of every sample at once
        y = dh.dense_head(self.head, self.weights, flat).reshape(n, frames, -1)
        stats = dh.dense_head_stats(self.head, self.weights, flat)
        per_sample = [stats[j * frames : (j + 1) * frames] for j in range(n)]
        cycles = [sum(s.cycles for s in head) for head in per_sample]
        if self.softmax is not None:
            y = sm.softmax(self.softmax, y)
            cycles = [c + frames * sm.softmax_cycles(self.softmax) for c in cycles]
        words = self._words(x, y, 1)
        return y, [LayerResult(self.name, None, None, c, head=head, **w) for c, head, w in zip(cycles, per_sample, words)]

    def cpp_config(self, prefix: str, any_weights: bool = False) -> str:
        text = cpp_render.head_config(f"{prefix}_head", self.head, self.weights.matrix, any_weights)
        if self.softmax is not None:
            text += cpp_render.softmax_config(f"{prefix}_softmax", self.softmax)
        return text

    def _render_weights(self, prefix: str) -> list[cpp_render.Rom]:
        roms = cpp_render.head_weights(f"{prefix}_head", self.head, self.weights)
        return roms + (cpp_render.softmax_tables(f"{prefix}_softmax", self.softmax) if self.softmax is not None else [])

    def cpp_call(self, prefix: str, x: str, y: str, figures: str) -> str:
        """The layer's call in the top function: input x, output y, its figures block."""
        head = f"{prefix}_head_weights, {prefix}_head_bias, {prefix}_head_table"
        if self.softmax is None:
            return f"masr::model_dense_layer<{prefix}_head, MAX_T>({x}, frames, {y}, {head}, {figures})"
        tables = f"{prefix}_softmax_exp_table, {prefix}_softmax_inv_table"
        return f"masr::model_dense_softmax_layer<{prefix}_head, {prefix}_softmax, MAX_T>({x}, frames, {y}, {head}, {tables}, {figures})"

    def out_frames(self, frames: int) -> int:
        return frames


def build_design(spec, n_in: int, in_t: FixedType, settings: LayerSettings, max_frames: int):
    if isinstance(spec, RecurrentSpec):
        return RecurrentDesign(spec, n_in, in_t, settings)
    if isinstance(spec, BidirectionalSpec):
        return BidirectionalDesign(spec, n_in, in_t, settings)
    return DenseDesign(spec, n_in, in_t, settings, max_frames)
