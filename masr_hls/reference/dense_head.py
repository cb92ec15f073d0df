"""A dense output head on the sparse engine, in numpy: bit-exact results, cycles, C++ config.

Written from the specification in docs/arithmetic.md ("Dense head") and the
comment at the top of templates/masr/dense_head.h, not from the C++:

    acc_i = sum_j accum_t(W[i, j] x_j)     the engine (mxv.py), wrap-around
    z_i   = accum_t(acc_i + b_i)           exact sum, quantised once
    y_i   = out_t(act(z_i))                linear, relu, hard_sigmoid: straight to out_t;
                                           sigmoid, tanh: the LUT entry (table_t), then out_t

W is the Keras kernel transposed (n_out x n_in), banked over lanes in bitmask
form; x arrives dense and is encoded to compact form by the head.  A sequence
(frames x n_in) runs the same head on every frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from masr_hls.constants import ENUMS, HEAD_POST_DEPTH, enum_constant
from masr_hls.numerics import activations as act_lib
from masr_hls.numerics.bitmask import SparseMatrix, n_words
from masr_hls.numerics.fixed_point import FixedType, as_raw, exact_add, sum_bits
from masr_hls.numerics.lane_balance import STRATEGIES, assign_rows, row_work
from masr_hls.reference.mxv import MODES, MxvConfig, mxv, mxv_stats_per_call, positive_int

ACTIVATIONS = {name: enum_constant("head_activation", name) for name in ENUMS["head_activation"][1]}
LUT_ACTIVATIONS = ("sigmoid", "tanh")


@dataclass(frozen=True)
class DenseHeadConfig:
    """Static parameters of one dense head (one Keras Dense layer, applied per frame)."""

    n_in: int
    n_out: int
    in_t: FixedType
    weight_t: FixedType
    bias_t: FixedType
    accum_t: FixedType
    out_t: FixedType
    activation: str = "linear"
    table_t: FixedType | None = None  # sigmoid/tanh ROM entries; None: out_t
    table_n_log2: int = 10  # sigmoid/tanh: 2**n entries ...
    table_r_log2: int = 3  # ... over [-2**r, 2**r)
    lanes: int = 1
    macs_per_lane: int = 1
    scan_words: int = 4
    mode: str = "masr"
    max_frames: int = 1  # frames per call of dense_head_sequence
    bank_lanes: int = 1  # lanes sharing a weight bank (1: static balancing)
    fifo_depth: int = 4  # windows queued between a lane's front end and back end

    def __post_init__(self):
        for name in ("n_in", "n_out", "lanes", "macs_per_lane", "scan_words", "max_frames"):
            positive_int(name, getattr(self, name))
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown dense head activation {self.activation!r}; use one of {tuple(ACTIVATIONS)} "
                "(softmax: a linear head followed by masr_hls.softmax)"
            )
        if self.mode not in MODES:
            raise ValueError(f"unknown engine mode {self.mode!r}; use one of {tuple(MODES)}")
        for name in ("in_t", "weight_t", "bias_t", "accum_t", "out_t", "table_t"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, FixedType):
                object.__setattr__(self, name, FixedType.parse(value))
        if self.table_t is None:
            object.__setattr__(self, "table_t", self.out_t)
        self.activation_function()  # validates the LUT parameters
        _ = self.mxv  # validates the engine's types and sizes

    @property
    def bias_sum_bits(self) -> int:
        """Bits of the exact acc + b; the reference adds in int64 up to INT64_BITS."""
        a, b = self.accum_t, self.bias_t
        return sum_bits(a.integer, a.frac, b.integer, b.frac)

    @property
    def mxv(self) -> MxvConfig:
        return MxvConfig(
            self.n_in,
            self.n_out,
            self.weight_t,
            self.in_t,
            self.accum_t,
            lanes=self.lanes,
            macs_per_lane=self.macs_per_lane,
            scan_words=self.scan_words,
            mode=self.mode,
            bank_lanes=self.bank_lanes,
            fifo_depth=self.fifo_depth,
        )

    @property
    def uses_table(self) -> bool:
        return self.activation in LUT_ACTIVATIONS

    @property
    def table_size(self) -> int:
        return 1 << self.table_n_log2 if self.uses_table else 1

    def activation_function(self):
        """The activation as masr_hls.activations describes it (output type table_t or out_t)."""
        return act_lib.make_activation(
            self.activation,
            out_t=self.table_t if self.uses_table else self.out_t,
            n_log2=self.table_n_log2,
            r_log2=self.table_r_log2,
        )


@dataclass(frozen=True)
class DenseHeadWeights:
    """Raw parameters of a head and their bitmask encoding over the lanes."""

    w_raw: np.ndarray  # (n_out, n_in) weight_t raw, the Keras kernel transposed
    b_raw: np.ndarray  # (n_out,) bias_t raw
    lane_of_row: np.ndarray  # (n_out,)
    matrix: SparseMatrix
    table_raw: np.ndarray  # (table_size,) table_t raw; one zero entry when unused


@dataclass
class HeadStats:
    pairs: int = 0
    issued: int = 0
    cycles: int = 0
    encode_cycles: int = 0
    engine_cycles: int = 0
    post_cycles: int = 0

    def as_tuple(self):
        return (self.pairs, self.issued, self.cycles, self.encode_cycles, self.engine_cycles, self.post_cycles)


# ------------------------------------------------------------- parameters
def activation_table(cfg: DenseHeadConfig) -> np.ndarray:
    if not cfg.uses_table:
        return np.zeros(1, dtype=np.int64)
    return as_raw(cfg.activation_function().table())


def encode_weights(cfg: DenseHeadConfig, w_raw, b_raw, strategy: str = "balanced") -> DenseHeadWeights:
    """Raw weights (n_out x n_in) and bias (n_out,) -> the head's encoded parameters."""
    w_raw = cfg.weight_t.check_raw(w_raw, "dense head weights")
    b_raw = cfg.bias_t.check_raw(b_raw, "dense head bias")
    if w_raw.shape != (cfg.n_out, cfg.n_in):
        raise ValueError(f"dense head weights must be n_out x n_in = {cfg.n_out} x {cfg.n_in} (the Keras kernel transposed), got shape {w_raw.shape}")
    if b_raw.shape != (cfg.n_out,):
        raise ValueError(f"dense head bias must have shape ({cfg.n_out},), got {b_raw.shape}")
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown lane assignment strategy {strategy!r}; use one of {STRATEGIES}")
    lane_of_row = assign_rows(row_work(w_raw, cfg.mode), cfg.mxv.banks, strategy)
    matrix = SparseMatrix.encode(w_raw, lane_of_row, cfg.mxv.banks, heavy_first=cfg.bank_lanes > 1)
    return DenseHeadWeights(w_raw, b_raw, lane_of_row, matrix, activation_table(cfg))


def quantize_weights(cfg: DenseHeadConfig, kernel, bias=None, strategy: str = "balanced") -> DenseHeadWeights:
    """A Keras Dense kernel (n_in x n_out) and bias (n_out,) in float -> encoded parameters."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.shape != (cfg.n_in, cfg.n_out):
        raise ValueError(f"Keras Dense kernel must be n_in x n_out = {cfg.n_in} x {cfg.n_out}, got shape {kernel.shape}")
    bias = np.zeros(cfg.n_out) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (cfg.n_out,):
        raise ValueError(f"Keras Dense bias must have shape ({cfg.n_out},), got {bias.shape}")
    return encode_weights(cfg, cfg.weight_t.quantize_float(kernel.T), cfg.bias_t.quantize_float(bias), strategy)


# --------------------------------------------------------------- reference
def _frames(cfg: DenseHeadConfig, x_raw) -> np.ndarray:
    x = as_raw(x_raw)
    x = x[None, :] if x.ndim == 1 else x
    if x.ndim != 2 or x.shape[1] != cfg.n_in:
        raise ValueError(f"dense head input must be frames x n_in (n_in = {cfg.n_in}), got shape {x.shape}")
    return cfg.in_t.check_raw(x, "dense head input")


def dense_head_steps(cfg: DenseHeadConfig, weights: DenseHeadWeights, x_raw) -> dict[str, np.ndarray]:
    """acc, z (accum_t raw) and y (out_t raw) for every frame (frames x n_out)."""
    x = _frames(cfg, x_raw)
    acc = mxv(cfg.mxv, weights.w_raw, x)
    z = cfg.accum_t.quantize_raw(*exact_add(acc, cfg.accum_t.frac, weights.b_raw[None, :], cfg.bias_t.frac, cfg.bias_sum_bits))
    a = cfg.activation_function()
    if cfg.uses_table:
        entry = a.apply(z, cfg.accum_t.frac, table=weights.table_raw)
        y = cfg.out_t.quantize_raw(entry, cfg.table_t.frac)
    else:
        y = as_raw(a.apply(z, cfg.accum_t.frac))
    return {"acc": acc, "z": z, "y": y}


def dense_head(cfg: DenseHeadConfig, weights: DenseHeadWeights, x_raw) -> np.ndarray:
    """Raw out_t outputs (frames x n_out) of raw in_t inputs (frames x n_in)."""
    return dense_head_steps(cfg, weights, x_raw)["y"]


def post_cycles(cfg: DenseHeadConfig) -> int:
    return -(-cfg.n_out // cfg.lanes) + HEAD_POST_DEPTH


def dense_head_stats(cfg: DenseHeadConfig, weights: DenseHeadWeights, x_raw) -> list[HeadStats]:
    """Cycle model per frame: encode + engine + post (see dense_head.h)."""
    x = _frames(cfg, x_raw)
    s = mxv_stats_per_call(cfg.mxv, weights.w_raw != 0, x != 0, weights.lane_of_row)
    enc, post = n_words(cfg.n_in), post_cycles(cfg)
    return [HeadStats(int(p), int(i), enc + int(c) + post, enc, int(c), post) for p, i, c in zip(s.pairs, s.issued, s.cycles)]


# ----------------------------------------------------------------- float
FLOAT_ACTIVATIONS = {
    "linear": lambda v: v,
    "relu": lambda v: np.maximum(v, 0.0),
    "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
    "tanh": np.tanh,
    "hard_sigmoid": lambda v: np.clip(v / 6.0 + 0.5, 0.0, 1.0),
}


def dense_head_float(kernel, bias, x, activation: str = "linear") -> np.ndarray:
    """Keras Dense in float64: act(x @ kernel + bias)."""
    if activation not in FLOAT_ACTIVATIONS:
        raise ValueError(f"unknown dense head activation {activation!r}; use one of {tuple(FLOAT_ACTIVATIONS)}")
    z = np.asarray(x, dtype=np.float64) @ np.asarray(kernel, dtype=np.float64) + np.asarray(bias, dtype=np.float64)
    return FLOAT_ACTIVATIONS[activation](z)


def _q(t: FixedType) -> float:
    """Largest error of one quantisation to t without overflow."""
    return t.lsb if t.rounding in ("AP_TRN", "AP_TRN_ZERO") else t.lsb / 2


def tolerance(cfg: DenseHeadConfig) -> float:
    """Bound on |y - act(W x + b)| for exact in_t inputs and the quantised W, b, without overflow.

    z carries at most n_in product quantisations and one bias quantisation in
    accum_t: |z - (W x + b)| <= (n_in + 1) q(accum_t).  The activation is
    Lipschitz with constant L (1; 1/4 for sigmoid; 1/6 for hard_sigmoid) and adds
    its own error bound (activations.py: LUT resolution and table_t, or its
    output quantisation); the final out_t adds q(out_t) when it differs from the
    activation's output type.
    """
    a = cfg.activation_function()
    lipschitz = {"sigmoid": 0.25, "hard_sigmoid": 1.0 / 6.0}.get(cfg.activation, 1.0)
    tol = lipschitz * (cfg.n_in + 1) * _q(cfg.accum_t) + a.error_bound()
    if cfg.uses_table:
        tol += _q(cfg.out_t)
    return tol


# -------------------------------------------------------------------- C++
