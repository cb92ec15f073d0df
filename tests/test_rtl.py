"""The RTL sparse engine (templates/rtl) against the numpy reference, bit for bit, and its cycle counts.

Each configuration is compiled once (Verilator, cached) with lane banks large
enough for all of its weight densities, then re-loaded with each matrix.  Run
with ``-s`` to see the table of measured cycles against the C++/numpy cycle
model and the ideal.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass

import numpy as np
import pytest

from masr_hls.numerics.bitmask import SparseMatrix, n_words, unpack_mask
from masr_hls.numerics.fixed_point import ROUNDING_MODES, FixedType
from masr_hls.numerics.lane_balance import assign_rows
from masr_hls.reference.mxv import MxvConfig, ideal_cycles, mxv, mxv_stats
from masr_hls.rtl import engine

F = FixedType.parse

DENSITIES = (1.0, 0.5, 0.1, 0.0)
VECTORS_PER_DENSITY = 3

# name: (n_out, n_in, lanes, macs_per_lane, scan_words, weight_t, act_t, accum_t)
CONFIGS = {
    # truncation (arithmetic shift by 2), one window per row
    "lanes1_k1_trn": (37, 100, 1, 1, 4, "ap_fixed<8,2>", "ap_fixed<10,4>", "ap_fixed<18,8>"),
    # rounding, three windows per row, an accumulator narrow enough to wrap
    "lanes4_k2_rnd_wrap": (
        64,
        96,
        4,
        2,
        1,
        "ap_fixed<8,2,AP_RND,AP_SAT>",
        "ap_fixed<12,4,AP_RND,AP_SAT>",
        "ap_fixed<14,6,AP_RND,AP_WRAP>",
    ),
    # convergent rounding, unsigned (ReLU) activations
    "lanes16_k2_conv_relu": (100, 100, 16, 2, 4, "ap_fixed<6,1>", "ap_ufixed<8,3>", "ap_fixed<16,6,AP_RND_CONV>"),
    # more lanes than rows (idle lanes); an accumulator finer than the products (no rounding at all)
    "lanes16_k1_exact": (12, 70, 16, 1, 4, "ap_fixed<8,3>", "ap_fixed<8,3>", "ap_fixed<32,16>"),
    # a one-window FIFO and four windows per row: the front end stalls behind the back end
    "lanes2_k1_fifo1": (24, 120, 2, 1, 1, "ap_fixed<8,2>", "ap_fixed<10,4>", "ap_fixed<18,8>", 1),
}


def make_config(name: str) -> MxvConfig:
    n_out, n_in, lanes, k, scan, w_t, a_t, acc_t, *fifo = CONFIGS[name]
    return MxvConfig(n_in, n_out, F(w_t), F(a_t), F(acc_t), lanes=lanes, macs_per_lane=k, scan_words=scan, fifo_depth=fifo[0] if fifo else 4)


def random_weights(rng, cfg: MxvConfig, density: float) -> np.ndarray:
    w = cfg.weight_t.quantize_float(rng.normal(0, 1.5, (cfg.n_out, cfg.n_in)) * (rng.random((cfg.n_out, cfg.n_in)) < density))
    if cfg.n_out > 2 and density > 0:  # an all-zero row and an all-zero column
        w[rng.integers(cfg.n_out)] = 0
        w[:, rng.integers(cfg.n_in)] = 0
    return w


def random_activations(rng, cfg: MxvConfig, density: float, t: int) -> np.ndarray:
    a = cfg.act_t
    values = rng.uniform(0 if not a.signed else a.min_value, a.max_value, (t, cfg.n_in))
    return a.quantize_float(values * (rng.random((t, cfg.n_in)) < density))


@dataclass
class Case:
    w_density: float
    a_density: float
    expected: np.ndarray
    got: np.ndarray
    cycles: int
    model: int
    ideal: int
    encode_cycles: int
    dense_windows: bool  # every row has a pair in every window: the model is exact
    lower: int  # bounds the microarchitecture guarantees, from window_bounds
    upper: int


_results: dict[str, list[Case]] = {}


def every_window_has_pairs(cfg: MxvConfig, w: np.ndarray, x: np.ndarray) -> bool:
    if engine.windows_per_row(cfg) != 1:
        return False
    return bool(np.all(((w != 0) & (x != 0)[None, :]).any(axis=1)))


def window_bounds(cfg: MxvConfig, w: np.ndarray, x: np.ndarray, lane_of_row: np.ndarray) -> tuple[int, int]:
    """Cycle bounds of the RTL, whose MACs take pairs of one window (not one row) per cycle.

    Per lane, F windows are scanned one per cycle (cycles 1..F) and the back
    end needs B = sum over windows of ceil(pairs / MACS) issue cycles, the
    first in cycle 2, each followed by three stages.  So done comes no sooner
    than F + 1 or B + 4, and, since every cycle before the last issue either
    scans a window or issues pairs, no later than F + B + 4.
    """
    per_window = engine.window_words(cfg) * 32
    windows = engine.windows_per_row(cfg)
    pairs = np.zeros((cfg.n_out, windows * per_window), bool)
    pairs[:, : cfg.n_in] = (w != 0) & (x != 0)[None, :]
    issue = -(-pairs.reshape(cfg.n_out, windows, per_window).sum(axis=2) // cfg.macs_per_lane)
    lower = upper = 0
    for lane in range(cfg.lanes):
        rows = lane_of_row == lane
        front, back = int(rows.sum()) * windows, int(issue[rows].sum())
        lower = max(lower, front + 1 if front else 0, back + 4 if back else 0)
        upper = max(upper, front + back + 4)
    return lower, upper


def run_config(name: str) -> list[Case]:
    """Simulate every density combination of one configuration (once per session)."""
    if name in _results:
        return _results[name]
    cfg = make_config(name)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    weights = {d: random_weights(rng, cfg, d) for d in DENSITIES}
    lane_of = {d: assign_rows(np.count_nonzero(w, axis=1), cfg.lanes) for d, w in weights.items()}
    matrices = {d: SparseMatrix.encode(weights[d], lane_of[d], cfg.lanes) for d in DENSITIES}
    bank_rows = max(engine.bank_sizes(m)[0] for m in matrices.values())
    bank_nnz = max(engine.bank_sizes(m)[1] for m in matrices.values())
    sim = engine.MxvRtl(cfg, matrices[DENSITIES[0]], bank_rows, bank_nnz)
    x = np.concatenate([random_activations(rng, cfg, d, VECTORS_PER_DENSITY) for d in DENSITIES])
    cases = []
    for wd in DENSITIES:
        sim.load(matrices[wd])
        run = sim.run(x)
        for t in range(x.shape[0]):
            stats = mxv_stats(cfg, weights[wd] != 0, x[t] != 0, lane_of[wd])
            lower, upper = window_bounds(cfg, weights[wd], x[t], lane_of[wd])
            cases.append(
                Case(
                    w_density=wd,
                    a_density=DENSITIES[t // VECTORS_PER_DENSITY],
                    expected=mxv(cfg, weights[wd], x[t]),
                    got=run.y[t],
                    cycles=int(run.cycles[t]),
                    model=stats.cycles,
                    ideal=ideal_cycles(stats.pairs, cfg.lanes * cfg.macs_per_lane),
                    encode_cycles=int(run.encode_cycles[t]),
                    dense_windows=every_window_has_pairs(cfg, weights[wd], x[t]),
                    lower=lower,
                    upper=upper,
                )
            )
    _results[name] = cases
    print(f"\n{name}: {cfg.n_out}x{cfg.n_in}, {cfg.lanes} lanes x {cfg.macs_per_lane} MACs, {engine.windows_per_row(cfg)} window(s) per row")
    print("  w_dens a_dens   RTL  model  ideal")
    for wd in DENSITIES:
        for ad in DENSITIES:
            group = [c for c in cases if c.w_density == wd and c.a_density == ad]
            print(
                f"  {wd:6.1f} {ad:6.1f} {np.mean([c.cycles for c in group]):5.0f} "
                f"{np.mean([c.model for c in group]):6.0f} {np.mean([c.ideal for c in group]):6.0f}"
            )
    return cases


@pytest.mark.verilator
@pytest.mark.parametrize("name", list(CONFIGS))
def test_rtl_matches_reference(name):
    for case in run_config(name):
        bad = np.flatnonzero(case.expected != case.got)
        assert bad.size == 0, (
            f"{name} (weights {case.w_density}, activations {case.a_density}): row {bad[0]} "
            f"RTL {case.got[bad[0]]} != reference {case.expected[bad[0]]}"
        )


@pytest.mark.verilator
@pytest.mark.parametrize("name", list(CONFIGS))
def test_rtl_cycles(name):
    cfg = make_config(name)
    cases = run_config(name)
    for case in cases:
        assert case.cycles >= case.ideal, f"{name}: {case.cycles} cycles beat the ideal {case.ideal}"
        assert case.lower <= case.cycles <= case.upper, (name, case.w_density, case.a_density, case.cycles, case.lower, case.upper)
        assert case.encode_cycles == cfg.n_in  # one element per cycle, never stalled while idle
        # The RTL follows the schedule of docs/arithmetic.md (window by window, FIFO stalls
        # included) that the C simulation and the reference count: equal in every case.
        assert case.cycles == case.model, (name, case.w_density, case.a_density, case.cycles, case.model)

    def mean_cycles(wd, ad):
        return np.mean([c.cycles for c in cases if c.w_density == wd and c.a_density == ad])

    for wd in DENSITIES[:-1]:  # fewer activations, fewer cycles
        row = [mean_cycles(wd, ad) for ad in DENSITIES]
        assert row == sorted(row, reverse=True), f"{name}: cycles do not fall with activation density: {row}"
    diagonal = [mean_cycles(d, d) for d in DENSITIES]
    assert diagonal[0] > diagonal[1] > diagonal[2] >= diagonal[3], f"{name}: {diagonal}"


@pytest.mark.verilator
def test_rtl_quantizer_all_rounding_modes():
    """masr_quantize against FixedType.quantize_raw in every rounding mode, ties included."""
    in_w, out_w, out_frac, shifts = 20, 12, 6, (1, 5, -2)
    rng = np.random.default_rng(11)
    raw = rng.integers(-(1 << (in_w - 1)), 1 << (in_w - 1), 400)
    ties = rng.integers(-(1 << 13), 1 << 13, 100) * 32 + 16  # exactly half an LSB off at shift 5
    edges = np.array([0, 1, -1, 2, -2, 3, -3, (1 << (in_w - 1)) - 1, -(1 << (in_w - 1))])
    raw = np.concatenate([raw, ties, ties + 1, ties - 1, edges])
    got = engine.quantize_in_rtl(raw, in_w, out_w, shifts)
    got = np.where(got >= 1 << (out_w - 1), got - (1 << out_w), got)
    for s, shift in enumerate(shifts):
        for m, mode in enumerate(ROUNDING_MODES):
            expected = FixedType(out_w, out_w - out_frac, True, mode, "AP_WRAP").quantize_raw(raw, out_frac + shift)
            bad = np.flatnonzero(got[:, s, m] != expected)
            assert bad.size == 0, f"{mode}, shift {shift}: input {raw[bad[0]]} -> RTL {got[bad[0], s, m]}, reference {expected[bad[0]]}"


@pytest.mark.verilator
def test_rtl_lint_clean():
    for name in CONFIGS:
        cfg = make_config(name)
        engine.lint(cfg, bank_rows=-(-cfg.n_out // cfg.lanes) + 1, bank_nnz=cfg.n_in * 3)
    tiny = MxvConfig(1, 1, F("ap_fixed<4,2>"), F("ap_fixed<4,2>"), F("ap_fixed<4,2,AP_RND_INF>"))
    engine.lint(tiny, bank_rows=1, bank_nnz=1, fifo_depth=1)
    engine.lint(make_config("lanes4_k2_rnd_wrap"), bank_rows=20, bank_nnz=500, testbench=True)


# Resources, one DSP per MAC and weight banks in block RAM: tests/test_rtl_balancing.py synthesises the 64 x 64
# engine once with rows tied to lanes and once with lanes sharing banks (each synthesis takes tens of seconds).


# ------------------------------------------------------ without the tools
def read_weight_files(folder, cfg: MxvConfig, bank_rows: int) -> np.ndarray:
    """Rebuild the dense weight matrix from the RTL's memory files."""
    per_window, windows = engine.window_words(cfg), engine.windows_per_row(cfg)

    def ints(name, bits):
        values = [int(line, 16) for line in (folder / name).read_text().split()]
        return [v - (1 << bits) if bits and v >= 1 << (bits - 1) else v for v in values]

    lane_rows = ints("lane_n_rows.hex", 0)
    row_lane, row_slot = ints("row_lane.hex", 0), ints("row_slot.hex", 0)
    w = np.zeros((cfg.n_out, cfg.n_in), np.int64)
    for lane in range(cfg.lanes):
        lines = ints(f"lane{lane:03d}_mask.hex", 0)
        values = ints(f"lane{lane:03d}_values.hex", cfg.weight_t.width)
        assert len(lines) == bank_rows * windows
        next_value = 0
        for slot in range(lane_rows[lane]):
            row = [r for r in range(cfg.n_out) if row_lane[r] == lane and row_slot[r] == slot]
            assert len(row) == 1
            words = []
            for window in lines[slot * windows : (slot + 1) * windows]:
                words += [(window >> (32 * k)) & 0xFFFFFFFF for k in range(per_window)]
            bits = unpack_mask(np.array(words[: n_words(cfg.n_in)]), cfg.n_in)
            for col in np.flatnonzero(bits):
                w[row[0], col] = values[next_value]
                next_value += 1
    return w


@pytest.mark.parametrize("name", ["lanes4_k2_rnd_wrap", "lanes16_k1_exact"])
def test_weight_files_round_trip(tmp_path, name):
    cfg = make_config(name)
    w = random_weights(np.random.default_rng(7), cfg, 0.3)
    matrix = SparseMatrix.encode(w, assign_rows(np.count_nonzero(w, axis=1), cfg.lanes), cfg.lanes)
    bank_rows, bank_nnz = engine.bank_sizes(matrix)
    engine.write_weight_files(tmp_path, cfg, matrix, bank_rows + 2, bank_nnz + 5)
    assert np.array_equal(read_weight_files(tmp_path, cfg, bank_rows + 2), w)
    with pytest.raises(ValueError, match="needs banks of"):
        engine.write_weight_files(tmp_path, cfg, matrix, bank_rows - 1 or 1, bank_nnz - 1)


def test_unsupported_mode_is_refused():
    cfg = MxvConfig(8, 8, F("ap_fixed<8,2>"), F("ap_fixed<8,2>"), F("ap_fixed<16,4>"), mode="dense")
    with pytest.raises(ValueError, match="mode 'masr' only"):
        engine.rtl_parameters(cfg, 8, 64)


def test_missing_tools_say_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(engine.ToolNotFound, match="apt-get install verilator yosys"):
        engine.require_tool("verilator")
    cfg = make_config("lanes1_k1_trn")
    w = random_weights(np.random.default_rng(1), cfg, 0.5)
    matrix = SparseMatrix.encode(w, np.zeros(cfg.n_out, np.int64), 1)
    with pytest.raises(engine.ToolNotFound, match="yosys not found"):
        engine.synthesize(cfg, matrix)


def test_parse_yosys_stat():
    log = """
   Number of cells:                 20
     CARRY4                          2
     DSP48E1                         1
     FDRE                            5
     FDSE                            1
     LUT2                            3
     LUT6                            4
     RAM64M                          2
     RAMB18E1                        1
     RAMB36E1                        2

2.48. Executing CHECK pass
"""
    r = engine.parse_yosys_stat(log)
    assert (r["LUT"], r["FF"], r["DSP"], r["BRAM"], r["LUTRAM"], r["CARRY4"]) == (7, 6, 1, 2.5, 2, 2)
    assert r["BRAM18"] == 5  # one 18 Kb block and two 36 Kb blocks


def test_yosys_results_are_cached_by_what_the_synthesis_reads(monkeypatch, tmp_path):
    """A synthesis of the same script, sources and memory files runs Yosys once; a changed memory file runs it again.
    (A stand-in ``yosys`` on PATH counts its runs and writes a stat block.)"""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "yosys"
    fake.write_text(
        '#!/bin/sh\nif [ "$1" = "-V" ]; then echo "Yosys 0.0 (stand-in)"; exit 0; fi\n'
        f'echo run >> "{tmp_path}/runs"\nprintf "   Number of cells: 3\\n     LUT2 2\\n     FDRE 1\\n" > synth.log\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("MASR_HLS_CACHE", str(tmp_path / "cache"))
    engine._tool_version.cache_clear()
    try:
        design = tmp_path / "design"
        design.mkdir()
        (design / "lane000_values.hex").write_text("01\n")

        def synth():
            return engine.run_yosys(design, engine.TOP, {"LANES": 1}, engine.DESIGN_SOURCES)

        assert (synth()["LUT"], synth()["FF"]) == (2, 1)
        assert (tmp_path / "runs").read_text().count("run") == 1
        (design / "lane000_values.hex").write_text("02\n")
        synth()
        assert (tmp_path / "runs").read_text().count("run") == 2
    finally:
        engine._tool_version.cache_clear()  # the real Yosys for later tests
