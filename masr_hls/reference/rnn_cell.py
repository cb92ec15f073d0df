"""GRU, LSTM and SimpleRNN cells on the sparse engine: configuration, weights and the numpy reference.

The arithmetic is docs/arithmetic.md's; the C++ twin is templates/masr/rnn_cell.h.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from masr_hls.constants import ENGINE_START_DEPTH, GATE_PIPELINE_DEPTH, enum_constant
from masr_hls.numerics.activations import Activation
from masr_hls.numerics.bitmask import SparseMatrix, n_words
from masr_hls.numerics.fixed_point import FixedType, as_raw, exact_add, exact_mul, sum_bits
from masr_hls.numerics.lane_balance import assign_rows, row_work
from masr_hls.reference.mxv import Engine, MxvConfig, MxvStats

KINDS = {kind: (enum_constant("cell_kind", kind), gates) for kind, gates in (("gru", 3), ("lstm", 4), ("simple_rnn", 1))}
ACTIVATIONS = {name: enum_constant("cell_activation", name) for name in ("tanh", "relu")}
RECURRENT_ACTIVATIONS = {name: enum_constant("cell_activation", name) for name in ("sigmoid", "hard_sigmoid")}

_T = FixedType.parse


@dataclass(frozen=True)
class CellConfig:
    """Everything static about one recurrent cell: shape, behaviour, precisions and engine shape."""

    kind: str
    n_in: int
    n_units: int
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"
    reset_after: bool = True  # GRU only
    in_t: FixedType = _T("ap_fixed<16,6,AP_RND,AP_SAT>")
    state_t: FixedType = _T("ap_fixed<16,6,AP_RND,AP_SAT>")
    weight_t: FixedType = _T("ap_fixed<16,6,AP_RND,AP_SAT>")
    recurrent_weight_t: FixedType = _T("ap_fixed<16,6,AP_RND,AP_SAT>")
    bias_t: FixedType = _T("ap_fixed<16,6,AP_RND,AP_SAT>")
    accum_t: FixedType = _T("ap_fixed<32,12,AP_RND,AP_WRAP>")
    gate_t: FixedType = _T("ap_fixed<16,2,AP_RND,AP_SAT>")
    cand_t: FixedType = _T("ap_fixed<16,6,AP_RND,AP_SAT>")
    cell_t: FixedType = _T("ap_fixed<20,8,AP_RND,AP_SAT>")  # LSTM c
    lanes: int = 1
    macs_per_lane: int = 1
    scan_words: int = 4
    mode: str = "masr"
    bank_lanes: int = 1  # lanes sharing a weight bank (1: static balancing)
    fifo_depth: int = 4  # windows queued between a lane's front end and back end
    act_n_log2: int = 10  # tanh table: 2**n entries over [-2**r, 2**r)
    act_r_log2: int = 3
    rec_n_log2: int = 10  # sigmoid table
    rec_r_log2: int = 3

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown cell kind {self.kind!r}; supported: {tuple(KINDS)}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"{self.kind}: unsupported activation {self.activation!r}; supported: {tuple(ACTIVATIONS)}")
        if self.kind != "simple_rnn" and self.recurrent_activation not in RECURRENT_ACTIVATIONS:
            raise ValueError(
                f"{self.kind}: unsupported recurrent_activation {self.recurrent_activation!r}; supported: {tuple(RECURRENT_ACTIVATIONS)}"
            )
        for name in ("in_t", "state_t", "weight_t", "recurrent_weight_t", "bias_t", "accum_t", "gate_t", "cand_t", "cell_t"):
            value = getattr(self, name)
            if not isinstance(value, FixedType):
                object.__setattr__(self, name, FixedType.parse(value))
        for name in ("n_in", "n_units"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{self.kind}: {name} must be a positive integer, got {value!r}")
        self.kernel_config(), self.recurrent_config()  # validates engine parameters and accumulator
        self.act(), self.rec_act()

    @property
    def gates(self) -> int:
        return KINDS[self.kind][1]

    @property
    def gru_reset_before(self) -> bool:
        return self.kind == "gru" and not self.reset_after

    def _mxv(self, n_in: int, n_out: int, weight_t: FixedType, act_t: FixedType) -> MxvConfig:
        return MxvConfig(
            n_in, n_out, weight_t, act_t, self.accum_t, self.lanes, self.macs_per_lane, self.scan_words, self.mode, self.fifo_depth, self.bank_lanes
        )

    def kernel_config(self) -> MxvConfig:
        return self._mxv(self.n_in, self.gates * self.n_units, self.weight_t, self.in_t)

    def recurrent_config(self) -> MxvConfig:
        rows = (2 if self.gru_reset_before else self.gates) * self.n_units
        return self._mxv(self.n_units, rows, self.recurrent_weight_t, self.state_t)

    def recurrent_h_config(self) -> MxvConfig:
        """U_h of a GRU with reset_after=False; a 1x1 placeholder for every other cell."""
        n = self.n_units if self.gru_reset_before else 1
        return self._mxv(n, n, self.recurrent_weight_t, self.state_t)

    def elementwise_bits(self) -> int:
        """Bits of the widest exact intermediate of a step; the reference uses int64 up to INT64_BITS.

        One more than the widest sum or product below (an unsigned gate has no sign bit).
        """
        a, b, g, s, c, cell = self.accum_t, self.bias_t, self.gate_t, self.state_t, self.cand_t, self.cell_t
        diff_i, diff_f = max(s.integer, c.integer) + 1, max(s.frac, c.frac)  # h - hh
        candidates = [
            sum_bits(a.integer, a.frac, b.integer, b.frac),  # accumulator + bias
            a.width + 1,  # xw + hu
            sum_bits(a.integer, a.frac, g.integer + a.integer, g.frac + a.frac),  # xw_h + r * hu_h
            g.width + s.width,  # r * h
            sum_bits(c.integer, c.frac, g.integer + diff_i, g.frac + diff_f),  # hh + z * (h - hh)
            sum_bits(g.integer + cell.integer, g.frac + cell.frac, g.integer + c.integer, g.frac + c.frac),  # f c + i g
            g.width + c.width,  # o * act(c)
        ]
        return max(candidates) + 1

    def act(self) -> Activation:
        return Activation(self.activation, self.cand_t, self.act_n_log2, self.act_r_log2)

    def rec_act(self) -> Activation:
        kind = self.recurrent_activation if self.kind != "simple_rnn" else "sigmoid"
        return Activation(kind, self.gate_t, self.rec_n_log2, self.rec_r_log2)

    def elementwise_cycles(self) -> int:
        return elementwise_cycles(self.n_units, self.lanes)


@dataclass
class CellWeights:
    """Quantised weights (raw integers, y = W v orientation) and their bitmask encodings."""

    kernel: np.ndarray  # (G*u, n_in)
    recurrent: np.ndarray  # (G*u, u)
    bias: np.ndarray  # (G*u,)
    recurrent_bias: np.ndarray  # (G*u,); GRU reset_after only, zeros otherwise
    lanes: dict = field(default_factory=dict)  # matrix name -> lane of each row
    matrices: dict = field(default_factory=dict)  # matrix name -> SparseMatrix
    _engines: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # CellConfig -> engines()

    @classmethod
    def from_keras(cls, cfg: CellConfig, kernel, recurrent_kernel, bias=None, strategy: str = "balanced") -> "CellWeights":
        """Keras layouts: kernel (n_in, G*u), recurrent_kernel (u, G*u), bias (G*u,) or (2, G*u) for GRU reset_after."""
        g_u = cfg.gates * cfg.n_units
        kernel, recurrent_kernel = np.asarray(kernel, np.float64), np.asarray(recurrent_kernel, np.float64)
        _expect_shape(cfg, "kernel", kernel, (cfg.n_in, g_u))
        _expect_shape(cfg, "recurrent_kernel", recurrent_kernel, (cfg.n_units, g_u))
        if bias is None:
            b, rb = np.zeros(g_u), np.zeros(g_u)
        elif cfg.kind == "gru" and cfg.reset_after:
            bias = np.asarray(bias, np.float64)
            _expect_shape(cfg, "bias", bias, (2, g_u))
            b, rb = bias[0], bias[1]
        else:
            bias = np.asarray(bias, np.float64)
            _expect_shape(cfg, "bias", bias, (g_u,))
            b, rb = bias, np.zeros(g_u)
        w = cls(
            kernel=cfg.weight_t.quantize_float(kernel.T),
            recurrent=cfg.recurrent_weight_t.quantize_float(recurrent_kernel.T),
            bias=cfg.bias_t.quantize_float(b),
            recurrent_bias=cfg.bias_t.quantize_float(rb),
        )
        w.encode(cfg, strategy)
        return w

    def engine_matrices(self, cfg: CellConfig) -> dict[str, np.ndarray]:
        u = cfg.n_units
        if cfg.gru_reset_before:
            return {"kernel": self.kernel, "recurrent": self.recurrent[: 2 * u], "recurrent_h": self.recurrent[2 * u :]}
        return {"kernel": self.kernel, "recurrent": self.recurrent, "recurrent_h": np.zeros((1, 1), np.int64)}

    def encode(self, cfg: CellConfig, strategy: str = "balanced") -> None:
        for name, m in self.engine_matrices(cfg).items():
            banks = cfg.kernel_config().banks
            self.lanes[name] = assign_rows(row_work(m, cfg.mode), banks, strategy)
            self.matrices[name] = SparseMatrix.encode(m, self.lanes[name], banks, heavy_first=cfg.bank_lanes > 1)
        self._engines.clear()

    def engines(self, cfg: CellConfig) -> dict[str, Engine]:
        """The cell's three engines loaded with these weights, kept per configuration (a sweep loads them once)."""
        if cfg not in self._engines:
            configs = {"kernel": cfg.kernel_config(), "recurrent": cfg.recurrent_config(), "recurrent_h": cfg.recurrent_h_config()}
            self._engines[cfg] = {name: Engine(configs[name], m, self.lanes[name]) for name, m in self.engine_matrices(cfg).items()}
        return self._engines[cfg]


def _expect_shape(cfg: CellConfig, name: str, array: np.ndarray, shape: tuple) -> None:
    if array.shape != shape:
        raise ValueError(f"{cfg.kind} with {cfg.n_in} inputs and {cfg.n_units} units: {name} has shape {array.shape}, expected {shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{cfg.kind}: {name} contains NaN or Inf")


@dataclass
class StepStats:
    kernel: MxvStats
    recurrent: MxvStats
    cycles: int  # the recurrent chain RH (one step), or a sweep's total
    steps: int = 1
    kernel_chain: int = 0  # KX of this step's frame: encode x, start, kernel engine

    def __add__(self, other: "StepStats") -> "StepStats":
        return StepStats(self.kernel + other.kernel, self.recurrent + other.recurrent, self.cycles + other.cycles, self.steps + other.steps)

    def as_tuple(self):
        return self.kernel.as_tuple() + self.recurrent.as_tuple() + (self.cycles, self.steps)

    @classmethod
    def zero(cls) -> "StepStats":
        return cls(MxvStats(), MxvStats(), 0, 0)


def elementwise_cycles(units: int, lanes: int) -> int:
    """G: the elementwise pass of a step, groups of ``lanes`` units one a cycle, then its pipeline."""
    return -(-units // lanes) + GATE_PIPELINE_DEPTH


def kernel_chain_cycles(n_in: int, engine_cycles):
    """KX of a frame (docs/arithmetic.md): its operand into the engine one mask word a cycle, START, the kernel
    engine's call (``engine_cycles``: a number or an array of them)."""
    return n_words(n_in) + ENGINE_START_DEPTH + engine_cycles


def recurrent_call_cycles(units: int, lanes: int, engine_cycles):
    """One recurrent engine call of a step: h encoded one mask word a cycle, START, the call, the elementwise pass
    (RH is one of these, two for GRU reset_after=False)."""
    return n_words(units) + ENGINE_START_DEPTH + engine_cycles + elementwise_cycles(units, lanes)


def kernel_chain(cfg: CellConfig, w: CellWeights, x):
    """The kernel chains of frames x (..., n_in): xw = accum_t(W x + b), the engine's figures and KX, per frame."""
    a, engine = cfg.accum_t, w.engines(cfg)["kernel"]
    x = as_raw(x)
    xw = a.quantize_raw(*exact_add(engine.mxv(x), a.frac, w.bias, cfg.bias_t.frac, cfg.elementwise_bits()))
    stats = engine.stats_per_call(x != 0)
    return xw, stats, kernel_chain_cycles(cfg.n_in, stats.cycles)


def recurrent_chain(cfg: CellConfig, w: CellWeights, xw, h, c):
    """One step's recurrent chain for states (..., units): (h', c', the engines' figures, RH cycles), all per state.

    c is the LSTM cell state (ignored otherwise).
    """
    u, a = cfg.n_units, cfg.accum_t
    h, c = as_raw(h), as_raw(c)
    engines = w.engines(cfg)

    n = cfg.elementwise_bits()
    hu = engines["recurrent"].mxv(h)
    r_stats = engines["recurrent"].stats_per_call(h != 0)
    calls = [(r_stats.front, r_stats.issue, r_stats.bank_cycles)]  # per bank F, B, cycles of each engine call, in order
    cycles = recurrent_call_cycles(u, cfg.lanes, r_stats.cycles)

    act, rec = cfg.act(), cfg.rec_act()
    st, gt, ct = cfg.state_t, cfg.gate_t, cfg.cand_t

    def blend(z, hh):  # state_t(hh + z * (h - hh)), exact inside
        diff, fd = exact_add(h, st.frac, -hh, ct.frac, n)
        return st.quantize_raw(*exact_add(hh, ct.frac, *exact_mul(z, gt.frac, diff, fd, n), n))

    if cfg.kind == "gru":
        if cfg.reset_after:
            hu = a.quantize_raw(*exact_add(hu, a.frac, w.recurrent_bias, cfg.bias_t.frac, n))
        z = rec.apply(*exact_add(xw[..., :u], a.frac, hu[..., :u], a.frac, n))
        r = rec.apply(*exact_add(xw[..., u : 2 * u], a.frac, hu[..., u : 2 * u], a.frac, n))
        if cfg.reset_after:
            hh = act.apply(*exact_add(xw[..., 2 * u :], a.frac, *exact_mul(r, gt.frac, hu[..., 2 * u :], a.frac, n), n))
        else:
            rh = st.quantize_raw(*exact_mul(r, gt.frac, h, st.frac, n))
            hh_in = engines["recurrent_h"].mxv(rh)
            h_stats = engines["recurrent_h"].stats_per_call(rh != 0)
            calls.append((h_stats.front, h_stats.issue, h_stats.bank_cycles))
            r_stats = r_stats + h_stats
            cycles = cycles + recurrent_call_cycles(u, cfg.lanes, h_stats.cycles)
            hh = act.apply(*exact_add(xw[..., 2 * u :], a.frac, hh_in, a.frac, n))
        h_new = blend(z, hh)
    elif cfg.kind == "lstm":
        pre = a.quantize_raw(*exact_add(xw, a.frac, hu, a.frac, n))  # exact sum; storing it wraps
        i, f, o = (rec.apply(pre[..., k * u : (k + 1) * u], a.frac) for k in (0, 1, 3))
        g = act.apply(pre[..., 2 * u : 3 * u], a.frac)
        fc, ig = exact_mul(f, gt.frac, c, cfg.cell_t.frac, n), exact_mul(i, gt.frac, g, ct.frac, n)
        c = cfg.cell_t.quantize_raw(*exact_add(*fc, *ig, n))
        h_new = st.quantize_raw(*exact_mul(o, gt.frac, act.apply(c, cfg.cell_t.frac), ct.frac, n))
    else:
        pre = a.quantize_raw(*exact_add(xw, a.frac, hu, a.frac, n))
        h_new = st.quantize_raw(act.apply(pre, a.frac), ct.frac)
    r_stats.calls = calls
    return h_new, c, r_stats, cycles


def step(cfg: CellConfig, w: CellWeights, x, h, c=None):
    """One step on raw values: returns (h', c', StepStats).  c is the LSTM cell state (ignored otherwise)."""
    c = np.zeros(cfg.n_units, np.int64) if c is None else c
    xw, k_stats, kernel_chain_cycles = kernel_chain(cfg, w, as_raw(x)[None])
    h, c, r_stats, cycles = recurrent_chain(cfg, w, xw, as_raw(h)[None], as_raw(c)[None])
    return h[0], c[0], StepStats(k_stats.sample(0), r_stats.sample(0), int(cycles[0]), 1, int(kernel_chain_cycles[0]))
