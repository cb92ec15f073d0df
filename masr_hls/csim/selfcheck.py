"""C-simulate every bundled MASR module against the numpy reference.

This is the quickest proof that a machine's g++ and ap_types build our
headers into hardware models that agree, bit for bit, with the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from masr_hls.csim.modules import DenseHeadSim, MxvSim, RnnSim
from masr_hls.numerics.bitmask import SparseMatrix
from masr_hls.numerics.fixed_point import FixedType
from masr_hls.numerics.lane_balance import assign_rows
from masr_hls.reference import dense_head as dh
from masr_hls.reference.mxv import MxvConfig, ideal_cycles, mxv, mxv_stats
from masr_hls.reference.rnn_cell import CellConfig, CellWeights
from masr_hls.reference.rnn_layer import MergeConfig, bidirectional


@dataclass
class CheckResult:
    module: str
    case: str
    values: int
    mismatches: int
    cycles: int
    ideal: int

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    @property
    def utilisation(self) -> float:
        return self.ideal / self.cycles if self.cycles else 1.0


def _sparse(rng, shape, density, t: FixedType):
    return t.quantize_float(rng.normal(0, 1, shape) * (rng.random(shape) < density))


def check_engine(rng, n_out=256, n_in=256, lanes=16, macs=1, frames=8) -> list[CheckResult]:
    """The sparse engine at falling weight and activation density, in every mode (one library for all nine)."""
    w_t, a_t = FixedType.parse("ap_fixed<8,2,AP_RND,AP_SAT>"), FixedType.parse("ap_fixed<16,6,AP_RND,AP_SAT>")
    acc_t = FixedType.parse("ap_fixed<24,10,AP_RND_CONV,AP_WRAP>")
    cases = []
    for w_density, a_density in ((1.0, 1.0), (0.5, 0.5), (0.1, 0.5)):
        w = _sparse(rng, (n_out, n_in), w_density, w_t)
        x = _sparse(rng, (frames, n_in), a_density, a_t)
        lane_of_row = assign_rows(np.count_nonzero(w, axis=1), lanes)
        matrix = SparseMatrix.encode(w, lane_of_row, lanes)
        for mode in ("dense", "weight_sparse", "masr"):
            cfg = MxvConfig(n_in, n_out, w_t, a_t, acc_t, lanes=lanes, macs_per_lane=macs, mode=mode)
            cases.append((cfg, matrix, w, x, lane_of_row, f"{n_out}x{n_in} w={w_density:.0%} a={a_density:.0%} {lanes}x{macs} {mode}"))
    sims = MxvSim.many([(cfg, matrix) for cfg, matrix, *_ in cases])
    results = []
    for sim, (cfg, _, w, x, lane_of_row, case) in zip(sims, cases):
        y, stats = sim.run(x)
        mismatches, cycles, ideal = 0, 0, 0
        for f in range(frames):
            mismatches += int(np.count_nonzero(y[f] != mxv(cfg, w, x[f])))
            ref = mxv_stats(cfg, w != 0, x[f] != 0, lane_of_row)
            mismatches += int(ref.as_tuple() != stats[f].as_tuple())
            cycles += stats[f].cycles
            ideal += ideal_cycles(stats[f].pairs, lanes * macs)
        results.append(CheckResult("sparse_mxv", case, y.size, mismatches, cycles, ideal))
    return results


def check_bidirectional_gru(rng, n_in=40, units=64, lanes=8, frames=20) -> list[CheckResult]:
    """A bidirectional ReLU-GRU layer (concat) at falling weight density, in every engine mode (one library).

    Cycles are the engines' (kernel and recurrent, both directions), as the report counts them: each direction has
    its own engines, so the layer's own cycle count (both directions at once) would overstate the utilisation."""
    x_float = rng.normal(0, 1, (frames, n_in)) * (rng.random((frames, n_in)) < 0.5)
    cases = []
    for density in (1.0, 0.1):
        shapes = [((n_in, 3 * units), (units, 3 * units), (2, 3 * units)) for _ in range(2)]
        params = [[rng.normal(0, 0.4, s) * (rng.random(s) < (density if i < 2 else 1)) for i, s in enumerate(d)] for d in shapes]
        for mode in ("dense", "weight_sparse", "masr"):
            cfg = CellConfig("gru", n_in, units, activation="relu", lanes=lanes, mode=mode)
            wf, wb = (CellWeights.from_keras(cfg, *p) for p in params)
            cases.append(
                (cfg, wf, wb, MergeConfig("concat", cfg.state_t, lanes), f"BiGRU-relu {n_in}->2x{units} T={frames} w={density:.0%} {lanes}x1 {mode}")
            )
    sims = RnnSim.many([(cfg, wf, cfg, wb, m, frames) for cfg, wf, wb, m, _ in cases])
    results = []
    for sim, (cfg, wf, wb, m, case) in zip(sims, cases):
        x = cfg.in_t.quantize_float(x_float)
        y, fs, bs, cycles = sim.bidirectional(x)
        ry, rfs, rbs, rcycles = bidirectional(cfg, wf, cfg, wb, m, x)
        mismatches = int(np.count_nonzero(y != ry)) + int((fs.as_tuple(), bs.as_tuple(), cycles) != (rfs.as_tuple(), rbs.as_tuple(), rcycles))
        engine = sum(s.kernel.cycles + s.recurrent.cycles for s in (fs, bs))
        ideal = sum(ideal_cycles(s.kernel.pairs + s.recurrent.pairs, lanes) for s in (fs, bs))
        results.append(CheckResult("bidirectional", case, y.size, mismatches, engine, ideal))
    return results


def check_head(rng, n_in=128, n_out=29, lanes=4, frames=20) -> list[CheckResult]:
    """A per-frame dense head (DeepSpeech2's character output) on sparse ReLU features."""
    t = FixedType.parse
    cfg = dh.DenseHeadConfig(
        n_in,
        n_out,
        t("ap_fixed<16,6>"),
        t("ap_fixed<8,2>"),
        t("ap_fixed<16,6>"),
        t("ap_fixed<32,12,AP_RND,AP_WRAP>"),
        t("ap_fixed<16,6>"),
        lanes=lanes,
        max_frames=frames,
    )
    kernel = rng.normal(0, 0.3, (n_in, n_out)) * (rng.random((n_in, n_out)) < 0.2)
    weights = dh.quantize_weights(cfg, kernel, rng.normal(0, 0.3, n_out))
    x = _sparse(rng, (frames, n_in), 0.4, cfg.in_t)
    y, stats = DenseHeadSim(cfg, weights).run(x)
    ref, ref_stats = dh.dense_head(cfg, weights, x), dh.dense_head_stats(cfg, weights, x)
    mismatches = int(np.count_nonzero(y != ref)) + sum(a.as_tuple() != b.as_tuple() for a, b in zip(stats, ref_stats))
    ideal = sum(ideal_cycles(s.pairs, lanes) for s in stats)
    return [
        CheckResult("dense_head", f"{n_in}->{n_out} w=20% a=40% T={frames} {lanes}x1 masr", y.size, mismatches, sum(s.cycles for s in stats), ideal)
    ]


CHECKS = [check_engine, check_bidirectional_gru, check_head]


def run(seed: int = 0) -> list[CheckResult]:
    rng = np.random.default_rng(seed)
    results = []
    for check in CHECKS:
        results += check(rng)
    return results


def format_table(results: list[CheckResult]) -> str:
    head = f"{'module':<14} {'case':<50} {'values':>7} {'mismatch':>8} {'cycles':>8} {'ideal':>7} {'util':>6}"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(f"{r.module:<14} {r.case:<50} {r.values:>7} {r.mismatches:>8} {r.cycles:>8} {r.ideal:>7} {r.utilisation:>6.1%}")
    bad = sum(not r.ok for r in results)
    lines.append(f"{len(results) - bad} passed, {bad} failed" if bad else f"all {len(results)} checks bit-exact")
    return "\n".join(lines)
