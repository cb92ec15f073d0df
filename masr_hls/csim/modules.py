"""C simulation of single MASR modules, driven from Python.

Each module header in ``templates/masr`` has a testbench under
``templates/masr/tests``; this module writes the testbench's configuration
header, compiles it (cached) and exchanges raw fixed-point integers with it.
Tests and ``masr-hls selfcheck`` use it to hold the C++ to the numpy reference.
"""

from __future__ import annotations

import ctypes
import dataclasses

import numpy as np

from masr_hls import toolchain
from masr_hls.backend import cpp_render
from masr_hls.constants import STATS_BACKWARD, STATS_LAYER_CYCLES, STATS_OUT_WRITTEN, STATS_PER_DIRECTION, STATS_PER_LAYER
from masr_hls.files import templates_dir
from masr_hls.numerics.activations import Activation
from masr_hls.numerics.bitmask import SparseMatrix, n_words
from masr_hls.numerics.fixed_point import FixedType
from masr_hls.reference.dense_head import DenseHeadConfig, DenseHeadWeights, HeadStats
from masr_hls.reference.mxv import MxvConfig, MxvStats
from masr_hls.reference.rnn_cell import CellConfig, CellWeights, StepStats
from masr_hls.reference.rnn_layer import MergeConfig
from masr_hls.reference.softmax import SoftmaxConfig, exp_table, inv_table


def testbench_source(name: str) -> str:
    return (templates_dir() / "masr" / "tests" / name).read_text()


def _i64(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def _pad(m: SparseMatrix, max_lane_rows, max_lane_nnz) -> SparseMatrix:
    """Widen the lane banks so one compiled testbench can hold several matrices."""
    rows = max(max_lane_rows or 0, m.lane_rows.shape[1])
    nnz = max(max_lane_nnz or 0, m.lane_values.shape[1])
    lane_rows = np.zeros((m.lanes, rows), np.int64)
    lane_rows[:, : m.lane_rows.shape[1]] = m.lane_rows
    lane_values = np.zeros((m.lanes, nnz), np.int64)
    lane_values[:, : m.lane_values.shape[1]] = m.lane_values
    row_base = np.zeros((m.lanes, rows), np.int64)
    row_base[:, : m.lane_row_base.shape[1]] = m.lane_row_base
    return SparseMatrix(m.n_rows, m.n_cols, m.lanes, m.mask, lane_rows, m.lane_n_rows, lane_values, m.lane_nnz, row_base)


def _build(testbench: str, config_header: str, arithmetic: str | None = None):
    return toolchain.load(
        toolchain.build_library(
            {
                "tb_config.h": '#pragma once\n#include "ap_fixed.h"\n#include "masr/fast_fixed.h"\n' + config_header,
                testbench: testbench_source(testbench),
            },
            main=testbench,
            name=testbench.removesuffix(".cpp"),
            arithmetic=arithmetic,
        )
    )


class FixedPointSim:
    """Real ap_fixed conversions: doubles, or raw values of a wide source type, into ``dst``."""

    def __init__(self, src: FixedType, dst: FixedType):
        self.lib = _build("tb_fixed_point.cpp", f"typedef {cpp_render.hls_type(src)} src_t;\ntypedef {cpp_render.hls_type(dst)} dst_t;\n")

    def from_double(self, x) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float64)
        out = np.zeros(x.size, np.int64)
        self.lib.tb_from_double(toolchain.ptr(x, ctypes.c_double), ctypes.c_int(x.size), toolchain.ptr(out))
        return out

    def from_raw(self, raw) -> np.ndarray:
        raw = _i64(raw)
        out = np.zeros(raw.size, np.int64)
        self.lib.tb_from_raw(toolchain.ptr(raw), ctypes.c_int(raw.size), toolchain.ptr(out))
        return out


class _Batched:
    """A module simulation whose testbench lists its configurations in tb_config.h, so one library can hold many.

    A subclass sets ``TESTBENCH`` and defines ``_setup(*args)`` (its own state from its constructor's arguments),
    ``_config(k)`` (configuration k's lines of tb_config.h) and ``_bind(lib, k)`` (configuration k's C functions).
    ``_setup`` may set ``arithmetic`` (toolchain.ARITHMETICS); it is a compile flag, so one library has one.
    """

    TESTBENCH = ""
    arithmetic: str | None = None  # None: toolchain.default_arithmetic()

    def __init__(self, *args):
        self._setup(*args)
        self._bind(_build(self.TESTBENCH, self._config(0), self.arithmetic), 0)

    @classmethod
    def many(cls, setups: list[tuple]) -> list:
        """One simulation per tuple of the constructor's arguments, all from one compiled library (one g++ run)."""
        sims = []
        for args in setups:
            sim = cls.__new__(cls)
            sim._setup(*args)
            sims.append(sim)
        arithmetics = {sim.arithmetic for sim in sims}
        if len(arithmetics) > 1:
            raise ValueError(f"one library has one arithmetic, got {sorted(arithmetics)}: call many() once per arithmetic")
        lib = _build(cls.TESTBENCH, "".join(sim._config(k) for k, sim in enumerate(sims)), arithmetics.pop() if sims else None)
        for k, sim in enumerate(sims):
            sim._bind(lib, k)
        return sims


class MxvSim(_Batched):
    """The compiled encoder + engine for one configuration and weight matrix."""

    TESTBENCH = "tb_sparse_mxv.cpp"

    def __init__(
        self, cfg: MxvConfig, matrix: SparseMatrix, max_lane_rows: int | None = None, max_lane_nnz: int | None = None, arithmetic: str | None = None
    ):
        """``arithmetic``: the C simulation's ("fast": the engine's C-simulation twin; "ap_fixed": the dataflow
        engine as synthesis sees it), default toolchain.default_arithmetic()."""
        super().__init__(cfg, matrix, max_lane_rows, max_lane_nnz, arithmetic)

    def _setup(self, cfg, matrix, max_lane_rows=None, max_lane_nnz=None, arithmetic=None) -> None:
        self.cfg, self.arithmetic = cfg, arithmetic or toolchain.default_arithmetic()
        self.matrix = _pad(matrix, max_lane_rows, max_lane_nnz)
        self._bank_rows, self._bank_nnz = self.matrix.lane_rows.shape[1], self.matrix.lane_values.shape[1]

    def _config(self, k: int) -> str:
        return cpp_render.mxv_config(f"mxv_config_{k}", self.cfg, self.matrix) + f"TB_MXV({k}, mxv_config_{k})\n"

    def _bind(self, lib, k: int) -> None:
        self._encode, self._load, self._mxv = (getattr(lib, f"{f}_{k}") for f in ("tb_encode", "tb_load_weights", "tb_mxv"))
        self.load(self.matrix)

    def load(self, matrix: SparseMatrix) -> None:
        """Put another matrix of the same shape into the compiled engine's banks."""
        if matrix.lane_rows.shape[1] > self._bank_rows or matrix.lane_values.shape[1] > self._bank_nnz:
            raise ValueError("matrix does not fit the compiled lane banks")
        m = _pad(matrix, self._bank_rows, self._bank_nnz)
        arrays = [_i64(m.mask), _i64(m.lane_rows), _i64(m.lane_n_rows), _i64(m.lane_values)]
        self._load(*(toolchain.ptr(a) for a in arrays))

    def encode(self, x_raw: np.ndarray):
        x = _i64(np.atleast_2d(x_raw))
        t, n = x.shape
        nw = n_words(n)
        masks, values = np.zeros((t, nw), np.int64), np.zeros((t, n), np.int64)
        nnz, cycles = np.zeros(t, np.int64), np.zeros(t, np.int64)
        self._encode(toolchain.ptr(x), ctypes.c_int(t), *(toolchain.ptr(a) for a in (masks, values, nnz, cycles)))
        return masks, [values[i, : max(0, nnz[i])] for i in range(t)], nnz, cycles

    def run(self, x_raw: np.ndarray) -> tuple[np.ndarray, list[MxvStats]]:
        x = _i64(np.atleast_2d(x_raw))
        t = x.shape[0]
        y, stats = np.zeros((t, self.cfg.n_out), np.int64), np.zeros((t, 5), np.int64)
        self._mxv(toolchain.ptr(x), ctypes.c_int(t), toolchain.ptr(y), toolchain.ptr(stats))
        return y, [MxvStats(*map(int, row)) for row in stats]


class ActivationSim(_Batched):
    """activation.h for one input type and one activation (its table loaded once)."""

    TESTBENCH = "tb_activation.cpp"
    KINDS = {"sigmoid": 0, "tanh": 0, "hard_sigmoid": 1, "relu": 2, "linear": 3}

    def __init__(self, in_t: FixedType, act: Activation):
        super().__init__(in_t, act)

    def _setup(self, in_t: FixedType, act: Activation) -> None:
        self.in_t, self.act = in_t, act

    def _config(self, k: int) -> str:
        return (
            f"typedef {cpp_render.hls_type(self.in_t)} in_{k}_t;\ntypedef {cpp_render.hls_type(self.act.out_t)} out_{k}_t;\n"
            f"TB_ACTIVATION({k}, in_{k}_t, out_{k}_t, {self.act.n_log2 if self.act.uses_table else 1}, {self.act.r_log2})\n"
        )

    def _bind(self, lib, k: int) -> None:
        self._run = getattr(lib, f"tb_activation_{k}")
        if self.act.uses_table:
            getattr(lib, f"tb_load_table_{k}")(toolchain.ptr(_i64(self.act.table())))

    def __call__(self, x_raw) -> np.ndarray:
        x = _i64(x_raw)
        out = np.zeros(x.size, np.int64)
        self._run(ctypes.c_int(self.KINDS[self.act.kind]), toolchain.ptr(x), ctypes.c_int(x.size), toolchain.ptr(out))
        return out


def _bucket(n: int) -> int:
    """Round a bank size up to a power of two so that similar weight sets share one compiled testbench."""
    return 1 << max(0, int(n) - 1).bit_length()


class RnnSim(_Batched):
    """rnn_cell.h + rnn_layer.h: a unidirectional layer on ``fwd``, or a bidirectional layer with ``bwd`` and ``merge``.

    Value banks and the frame capacity are rounded up to powers of two, so
    other weights of the same shape, no denser, reuse one compiled testbench.
    """

    TESTBENCH = "tb_rnn.cpp"

    def __init__(
        self,
        fwd: CellConfig,
        wf: CellWeights,
        bwd: CellConfig | None = None,
        wb: CellWeights | None = None,
        merge: MergeConfig | None = None,
        max_frames: int = 64,
    ):
        super().__init__(fwd, wf, bwd, wb, merge, max_frames)

    def _setup(self, fwd, wf, bwd=None, wb=None, merge=None, max_frames=64) -> None:
        self.fwd, self.bwd = fwd, bwd or fwd
        self.merge = merge or MergeConfig("concat", self.fwd.state_t)
        self._weights = wf, wb or wf
        # Row banks hold every row (a lane may take them all); value banks a power of two.
        self._banks = {
            backward: {m: (w.matrices[m].n_rows, _bucket(w.matrices[m].lane_values.shape[1])) for m in w.matrices}
            for backward, w in zip((False, True), self._weights)
        }
        # One cell type for both directions when their configurations are equal: g++ then compiles it once.
        if self.bwd == self.fwd:
            both = {m: tuple(map(max, self._banks[False][m], self._banks[True][m])) for m in self._banks[False]}
            self._banks = {False: both, True: both}
        self.max_frames = _bucket(max_frames)

    def _config(self, k: int) -> str:
        wf, wb = self._weights
        fwd, bwd, merge = f"fwd_cell_{k}", f"bwd_cell_{k}", f"merge_cfg_{k}"
        return (
            cpp_render.cell_config(fwd, self.fwd, wf, self._banks[False])
            + (f"typedef {fwd} {bwd};\n" if self.bwd == self.fwd else cpp_render.cell_config(bwd, self.bwd, wb, self._banks[True]))
            + cpp_render.merge_config(merge, self.merge, self.fwd, self.bwd)
            + f"TB_RNN({k}, {fwd}, {bwd}, {merge}, {self.max_frames})\n"
        )

    def _bind(self, lib, k: int) -> None:
        self._load, self._layer, self._bidirectional = (getattr(lib, f"{f}_{k}") for f in ("tb_load", "tb_layer", "tb_bidirectional"))
        wf, wb = self._weights
        self.load(wf)
        self.load(wb, backward=True)

    def load(self, w: CellWeights, backward: bool = False) -> None:
        cfg = self.bwd if backward else self.fwd
        arrays = []
        banks = self._banks[backward]
        for m in ("kernel", "recurrent", "recurrent_h"):
            p = _pad(w.matrices[m], *banks[m])
            if p.lane_rows.shape[1] > banks[m][0] or p.lane_values.shape[1] > banks[m][1]:
                raise ValueError(f"{m} weights do not fit the compiled lane banks")
            arrays += [p.mask, p.lane_rows, p.lane_n_rows, p.lane_values]
        act = cfg.act().table() if cfg.act().uses_table else np.zeros(1)
        rec = cfg.rec_act().table() if cfg.rec_act().uses_table else np.zeros(1)
        arrays += [w.bias, w.recurrent_bias, act, rec]
        self._keep = [_i64(a) for a in arrays]  # the C side copies, but keep them alive across the call
        table = (ctypes.POINTER(ctypes.c_int64) * len(self._keep))(*(toolchain.ptr(a) for a in self._keep))
        self._load(ctypes.c_int(int(backward)), table)

    def _frames(self, x_raw) -> np.ndarray:
        x = _i64(x_raw)
        if x.ndim != 2 or x.shape[1] != self.fwd.n_in or not 1 <= x.shape[0] <= self.max_frames:
            raise ValueError(f"expected 1..{self.max_frames} frames of {self.fwd.n_in} values, got shape {x.shape}")
        return x

    def layer(self, x_raw, go_backwards: bool = False) -> tuple[np.ndarray, StepStats]:
        x = self._frames(x_raw)
        out, stats = np.zeros((len(x), self.fwd.n_units), np.int64), np.zeros(STATS_PER_DIRECTION, np.int64)
        self._layer(toolchain.ptr(x), ctypes.c_int(len(x)), ctypes.c_int(int(go_backwards)), toolchain.ptr(out), toolchain.ptr(stats))
        return out, _step_stats(stats)

    def bidirectional(self, x_raw, return_sequences: bool = True, stores_output: bool = False):
        """Outputs, forward and backward StepStats, layer cycles; ``stores_output``: into a compact store (split for
        concat) as when another layer follows, else a dense array (the output port).  The words the layer wrote
        into the store are left in ``out_written``."""
        x = self._frames(x_raw)
        n_out = self.merge.n_out(self.fwd, self.bwd)
        y, stats = np.zeros((len(x) if return_sequences else 1, n_out), np.int64), np.zeros(STATS_PER_LAYER, np.int64)
        flags = ctypes.c_int(int(return_sequences)), ctypes.c_int(int(stores_output))
        self._bidirectional(toolchain.ptr(x), ctypes.c_int(len(x)), *flags, toolchain.ptr(y), toolchain.ptr(stats))
        self.out_written = int(stats[STATS_OUT_WRITTEN])
        return y, _step_stats(stats[:STATS_PER_DIRECTION]), _step_stats(stats[STATS_BACKWARD:STATS_LAYER_CYCLES]), int(stats[STATS_LAYER_CYCLES])


def _step_stats(raw) -> StepStats:
    raw = [int(v) for v in raw]
    return StepStats(MxvStats(*raw[0:5]), MxvStats(*raw[5:10]), raw[10], raw[11])


class DenseHeadSim(_Batched):
    """dense_head.h over up to ``cfg.max_frames`` frames; weights loaded at run time, or compiled in as constants."""

    TESTBENCH = "tb_dense_head.cpp"

    def __init__(
        self,
        cfg: DenseHeadConfig,
        weights: DenseHeadWeights,
        max_lane_rows: int | None = None,
        max_lane_nnz: int | None = None,
        const_weights: bool = False,
    ):
        super().__init__(cfg, weights, max_lane_rows, max_lane_nnz, const_weights)

    def _setup(self, cfg, weights, max_lane_rows=None, max_lane_nnz=None, const_weights=False) -> None:
        self.cfg, self._weights, self._const = cfg, weights, const_weights
        self._matrix = _pad(weights.matrix, max_lane_rows, max_lane_nnz)
        self._banks = self._matrix.lane_rows.shape[1], self._matrix.lane_values.shape[1]

    def _config(self, k: int) -> str:
        name = f"head_config_{k}"
        config = cpp_render.head_config(name, self.cfg, self._matrix) + f"TB_HEAD({k}, {name})\n"
        if self._const:
            padded = dataclasses.replace(self._weights, matrix=self._matrix)
            roms = cpp_render.head_weights(name, self.cfg, padded)
            config += "".join(rom.definition() for rom in roms) + f"TB_HEAD_CONST_WEIGHTS({k}, {name}, {name})\n"
        return config

    def _bind(self, lib, k: int) -> None:
        self._load, self._run = getattr(lib, f"tb_head_load_{k}"), getattr(lib, f"tb_head_run_{k}")
        self._run.restype = ctypes.c_int
        if self._const:
            getattr(lib, f"tb_head_load_const_{k}")()
        else:
            self.load(self._weights)

    def load(self, weights: DenseHeadWeights) -> None:
        m = weights.matrix
        if m.lane_rows.shape[1] > self._banks[0] or m.lane_values.shape[1] > self._banks[1]:
            raise ValueError("head weights do not fit the compiled lane banks")
        m = _pad(m, *self._banks)
        arrays = [_i64(a) for a in (m.mask, m.lane_rows, m.lane_n_rows, m.lane_values, weights.b_raw, weights.table_raw)]
        self._load(*(toolchain.ptr(a) for a in arrays))

    def run(self, x_raw) -> tuple[np.ndarray, list[HeadStats]]:
        x = _i64(np.atleast_2d(x_raw))
        if x.ndim != 2 or x.shape[1] != self.cfg.n_in or len(x) > self.cfg.max_frames:
            raise ValueError(f"expected at most {self.cfg.max_frames} frames of {self.cfg.n_in} values, got shape {x.shape}")
        y, stats = np.zeros((len(x), self.cfg.n_out), np.int64), np.zeros((len(x), 6), np.int64)
        rc = self._run(toolchain.ptr(x), ctypes.c_int(len(x)), toolchain.ptr(y), toolchain.ptr(stats))
        if rc != 0:
            raise RuntimeError(f"tb_head_run refused {len(x)} frames")
        return y, [HeadStats(*map(int, row)) for row in stats]


class SoftmaxSim(_Batched):
    """softmax.h for one configuration, its exp and reciprocal tables loaded at run time."""

    TESTBENCH = "tb_dense_head.cpp"

    def __init__(self, cfg: SoftmaxConfig):
        super().__init__(cfg)

    def _setup(self, cfg: SoftmaxConfig) -> None:
        self.cfg = cfg

    def _config(self, k: int) -> str:
        return cpp_render.softmax_config(f"softmax_config_{k}", self.cfg) + f"TB_SOFTMAX({k}, softmax_config_{k})\n"

    def _bind(self, lib, k: int) -> None:
        self._load, self._run = getattr(lib, f"tb_softmax_load_{k}"), getattr(lib, f"tb_softmax_run_{k}")
        self.load(exp_table(self.cfg), inv_table(self.cfg))

    def load(self, exp_tab, inv_tab) -> None:
        self._tables = _i64(exp_tab), _i64(inv_tab)
        self._load(*(toolchain.ptr(a) for a in self._tables))

    def run(self, x_raw) -> tuple[np.ndarray, np.ndarray]:
        x = _i64(np.atleast_2d(x_raw))
        if x.shape[1] != self.cfg.n:
            raise ValueError(f"expected rows of {self.cfg.n} values, got shape {x.shape}")
        y, cycles = np.zeros_like(x), np.zeros(len(x), np.int64)
        self._run(toolchain.ptr(x), ctypes.c_int(len(x)), toolchain.ptr(y), toolchain.ptr(cycles))
        return y, cycles
