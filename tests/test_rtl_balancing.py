"""The RTL engine with lanes sharing weight banks (dynamic balancing) against the numpy reference.

Results bit for bit and cycles call for call: the RTL runs the schedule of docs/arithmetic.md, "Run-time
balancing" (``mxv._shared_bank_cycles``).  Each configuration is built once (Verilator, cached) with banks
large enough for every matrix of its shape, then loaded with each weight density.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from masr_hls.numerics.bitmask import SparseMatrix
from masr_hls.numerics.fixed_point import FixedType
from masr_hls.numerics.lane_balance import assign_rows
from masr_hls.reference.mxv import MxvConfig, ideal_cycles, mxv, mxv_stats_per_call
from masr_hls.rtl import engine

F = FixedType.parse

W_DENSITIES = (0.8, 0.3, 0.05, 0.0)
A_DENSITIES = (1.0, 0.4, 0.1, 0.0)
CALLS_PER_DENSITY = 3

# name: (n_out, n_in, lanes, bank_lanes, macs_per_lane, scan_words, fifo_depth, weight_t, act_t, accum_t, strategy)
CONFIGS = {
    # two lanes a bank, three windows a row, a one-window FIFO: stalls, and rows started mid-stall of the other lane
    "g2_lanes4_fifo1_windows3": (
        40, 96, 4, 2, 1, 1, 1, "ap_fixed<8,2>", "ap_fixed<10,4>", "ap_fixed<18,8>", "balanced",
    ),
    # four lanes a bank, two MACs, rounding and an accumulator narrow enough to wrap
    "g4_lanes8_k2_fifo4_wrap": (
        64, 70, 8, 4, 2, 4, 4,
        "ap_fixed<8,2,AP_RND,AP_SAT>", "ap_fixed<12,4,AP_RND,AP_SAT>", "ap_fixed<14,6,AP_RND,AP_WRAP>", "interleaved",
    ),
    # one bank of four lanes, convergent rounding, unsigned (ReLU) activations, two windows a row
    "g4_lanes4_fifo4_relu": (
        24, 150, 4, 4, 1, 2, 4, "ap_fixed<6,1>", "ap_ufixed<8,3>", "ap_fixed<16,6,AP_RND_CONV>", "balanced",
    ),
    # more lanes than rows: lanes that never take a row
    "g2_lanes8_fifo1_idle": (
        5, 40, 8, 2, 1, 4, 1, "ap_fixed<8,3>", "ap_fixed<8,3>", "ap_fixed<32,16>", "balanced",
    ),
}  # fmt: skip


def make_config(name: str) -> tuple[MxvConfig, str]:
    n_out, n_in, lanes, group, k, scan, depth, w_t, a_t, acc_t, strategy = CONFIGS[name]
    cfg = MxvConfig(n_in, n_out, F(w_t), F(a_t), F(acc_t), lanes, k, scan, "masr", depth, bank_lanes=group)
    return cfg, strategy


def encode(cfg: MxvConfig, w: np.ndarray, strategy: str) -> tuple[np.ndarray, SparseMatrix]:
    bank_of_row = assign_rows(np.count_nonzero(w, axis=1), cfg.banks, strategy)
    return bank_of_row, SparseMatrix.encode(w, bank_of_row, cfg.banks, heavy_first=cfg.bank_lanes > 1)


def random_weights(rng, cfg: MxvConfig, density: float) -> np.ndarray:
    w = cfg.weight_t.quantize_float(rng.normal(0, 1.5, (cfg.n_out, cfg.n_in)) * (rng.random((cfg.n_out, cfg.n_in)) < density))
    if cfg.n_out > 2 and density > 0:  # an all-zero row
        w[rng.integers(cfg.n_out)] = 0
    return w


def random_activations(rng, cfg: MxvConfig, density: float, calls: int) -> np.ndarray:
    a = cfg.act_t
    values = rng.uniform(0 if not a.signed else a.min_value, a.max_value, (calls, cfg.n_in))
    return a.quantize_float(values * (rng.random((calls, cfg.n_in)) < density))


_runs: dict[str, list[tuple]] = {}


def run_config(name: str) -> list[tuple]:
    """(w density, results, reference results, RTL cycles, reference stats, ideal) per weight density, simulated once."""
    if name in _runs:
        return _runs[name]
    cfg, strategy = make_config(name)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    weights = {d: random_weights(rng, cfg, d) for d in W_DENSITIES}
    encoded = {d: encode(cfg, w, strategy) for d, w in weights.items()}
    # Banks for any matrix of the shape: one build serves every density.
    sim = engine.MxvRtl(cfg, encoded[W_DENSITIES[0]][1], bank_rows=cfg.n_out, bank_nnz=cfg.n_out * cfg.n_in)
    x = np.concatenate([random_activations(rng, cfg, d, CALLS_PER_DENSITY) for d in A_DENSITIES])
    out = []
    for d in W_DENSITIES:
        bank_of_row, matrix = encoded[d]
        sim.load(matrix)
        run = sim.run(x)
        stats = mxv_stats_per_call(cfg, weights[d] != 0, x != 0, bank_of_row)
        out.append((d, run.y, mxv(cfg, weights[d], x), run.cycles, stats, x))
    _runs[name] = out
    return out


@pytest.mark.verilator
@pytest.mark.parametrize("name", list(CONFIGS))
def test_shared_banks_in_rtl_equal_the_reference(name):
    cfg, _ = make_config(name)
    for d, got, expected, cycles, stats, x in run_config(name):
        bad = [tuple(i) for i in np.argwhere(got != expected)]
        assert not bad, f"{name}, weights {d}: call, row {bad[0]}: RTL {got[bad[0]]} != reference {expected[bad[0]]}"
        for t in range(x.shape[0]):
            s = stats.sample(t)
            assert cycles[t] == s.cycles, f"{name}, weights {d}, call {t}: RTL {cycles[t]} cycles, reference {s.cycles}"
            assert cycles[t] >= ideal_cycles(s.pairs, cfg.lanes * cfg.macs_per_lane)


@pytest.mark.verilator
def test_one_lane_a_bank_is_the_static_engine():
    """bank_lanes = 1 builds the static engine: the same cycles as the static schedule, on a case where
    sharing banks changes them (so the test would see the dynamic schedule leak into the static build)."""
    name = "g2_lanes4_fifo1_windows3"
    shared, strategy = make_config(name)
    cfg = MxvConfig(shared.n_in, shared.n_out, shared.weight_t, shared.act_t, shared.accum_t, shared.lanes, 1, 1, "masr", 1)
    rng = np.random.default_rng(5)
    w = random_weights(rng, cfg, 0.3)
    x = random_activations(rng, cfg, 0.4, 4)
    lane_of_row, matrix = encode(cfg, w, strategy)
    run = engine.MxvRtl(cfg, matrix).run(x)
    assert np.array_equal(run.y, mxv(cfg, w, x))
    static = mxv_stats_per_call(cfg, w != 0, x != 0, lane_of_row)
    assert [int(c) for c in run.cycles] == [static.sample(t).cycles for t in range(x.shape[0])]
    bank_of_row, _ = encode(shared, w, strategy)
    dynamic = mxv_stats_per_call(shared, w != 0, x != 0, bank_of_row)
    assert [static.sample(t).cycles for t in range(x.shape[0])] != [dynamic.sample(t).cycles for t in range(x.shape[0])]


@pytest.mark.verilator
def test_shared_bank_engine_lint_clean():
    for name in CONFIGS:
        cfg, _ = make_config(name)
        engine.lint(cfg, bank_rows=cfg.n_out, bank_nnz=cfg.n_out * cfg.n_in)
    cfg, _ = make_config("g4_lanes8_k2_fifo4_wrap")
    engine.lint(cfg, bank_rows=cfg.n_out, bank_nnz=500, testbench=True)


def test_slot_base_files(tmp_path):
    """Each bank's slot_base file holds its slots' first packed weights, as the HLS banks do."""
    cfg, strategy = make_config("g4_lanes8_k2_fifo4_wrap")
    w = random_weights(np.random.default_rng(2), cfg, 0.3)
    _, matrix = encode(cfg, w, strategy)
    rows, nnz = engine.bank_sizes(matrix)
    engine.write_weight_files(tmp_path, cfg, matrix, rows + 1, nnz + 3)
    assert len(list(tmp_path.glob("lane*_values.hex"))) == cfg.banks
    for bank in range(cfg.banks):
        bases = [int(v, 16) for v in (tmp_path / f"lane{bank:03d}_slot_base.hex").read_text().split()]
        assert len(bases) == rows + 1
        n = int(matrix.lane_n_rows[bank])
        counts = np.count_nonzero(w[matrix.lane_rows[bank, :n]], axis=1)
        assert bases[:n] == list(np.cumsum(counts) - counts)
        assert list(counts) == sorted(counts, reverse=True)  # heaviest first
    assert engine.rtl_parameters(cfg, rows, nnz)["BANK_LANES"] == cfg.bank_lanes
    with pytest.raises(ValueError, match="banks"):
        engine.write_weight_files(tmp_path, make_config("g2_lanes4_fifo1_windows3")[0], matrix, rows, nnz)


@pytest.mark.verilator
@pytest.mark.slow
@pytest.mark.yosys
@pytest.mark.parametrize("lanes, bank_lanes", [(2, 1), (4, 2)], ids=["two-lanes-own-their-banks", "four-lanes-share-two-banks"])
def test_yosys_block_ram_banks(lanes, bank_lanes):
    """Resources of the 64 x 64 engine at half density, in two banks of up to 1,024 16-bit weights (16 Kb: one
    block RAM each), with rows tied to 2 lanes, or with 4 lanes sharing the 2 banks: one DSP per MAC and none for
    address arithmetic, and each bank in exactly the block RAM its weights need, whether one lane or two read it (a
    dual-port memory, not a copy).  The two syntheses are two tests, so that they run side by side.  Engines with
    small banks (LUT RAM) are synthesised inside the GRU layer of test_rtl_model.py."""
    cfg = MxvConfig(64, 64, F("ap_fixed<16,4>"), F("ap_fixed<16,6>"), F("ap_fixed<32,12>"), lanes=lanes, bank_lanes=bank_lanes)
    rng = np.random.default_rng(8)
    w = cfg.weight_t.quantize_float(rng.normal(0, 2.0, (64, 64)) * (rng.random((64, 64)) < 0.5))
    _, matrix = encode(cfg, w, "balanced")
    found = engine.synthesize(cfg, matrix, memories_only=True)
    print(f"\nyosys synth_xilinx to its memory mapping, 64x64 at 50%, {lanes} lanes, {bank_lanes} a bank:", found["cells"])
    assert not [c for c in found["cells"] if c.startswith("$mem")]  # every memory mapped (RAM, or flip-flops in map_ffram)
    assert sum(n for c, n in found["cells"].items() if "dff" in c) > 0
    assert found["DSP"] == lanes  # one DSP per MAC, none for address arithmetic
    assert cfg.banks == 2 and 512 < int(matrix.lane_nnz.max()) <= 1024
    assert found["BRAM18"] == 2  # each bank's up to 1,024 x 16 bits in one 16 Kb block RAM
