"""Run-time lane balancing: lanes sharing a weight bank take its rows as they come free.

The reference's schedule, the C++ twin and the dataflow engine against each other, bit for bit and cycle for
cycle; the schedule by hand; and the bank layout."""

import dataclasses
import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from masr_hls import toolchain
from masr_hls.backend.config import bank_lanes
from masr_hls.csim.modules import MxvSim
from masr_hls.numerics.bitmask import SparseMatrix
from masr_hls.numerics.fixed_point import FixedType
from masr_hls.numerics.lane_balance import assign_rows, bank_slots
from masr_hls.reference import mxv as ref
from masr_hls.reference.mxv import MxvConfig, ideal_cycles, mxv, mxv_stats_per_call

F = FixedType.parse
W_T, A_T, ACC_T = F("ap_fixed<8,3,AP_RND,AP_SAT>"), F("ap_fixed<10,4,AP_RND,AP_SAT>"), F("ap_fixed<18,8,AP_RND_CONV,AP_WRAP>")
CONFIGS = [  # (n_out, n_in, lanes, bank_lanes, macs_per_lane, scan_words, fifo_depth, mode)
    (40, 300, 4, 2, 2, 1, 2, "masr"),
    (96, 70, 8, 4, 1, 4, 4, "masr"),
    (3, 40, 4, 2, 1, 4, 1, "masr"),  # more lanes than rows
    (40, 300, 4, 2, 2, 1, 2, "weight_sparse"),
]


def config(case) -> MxvConfig:
    n_out, n_in, lanes, group, macs, scan, depth, mode = case
    return MxvConfig(n_in, n_out, W_T, A_T, ACC_T, lanes, macs, scan, mode, depth, bank_lanes=group)


def encode(cfg: MxvConfig, w: np.ndarray, strategy: str = "balanced"):
    bank_of_row = assign_rows(np.count_nonzero(w, axis=1), cfg.banks, strategy)
    return bank_of_row, SparseMatrix.encode(w, bank_of_row, cfg.banks, heavy_first=cfg.bank_lanes > 1)


@functools.cache
def sims(arithmetic: str) -> dict:
    """One library per arithmetic holding every configuration, banks large enough for any matrix of its shape."""
    cfgs = [config(case) for case in CONFIGS]
    setups = []
    for cfg in cfgs:
        _, empty = encode(cfg, np.zeros((cfg.n_out, cfg.n_in), np.int64))
        setups.append((cfg, empty, cfg.n_out, cfg.n_out * cfg.n_in, arithmetic))
    return dict(zip(cfgs, MxvSim.many(setups)))


def random_case(rng, cfg: MxvConfig, w_density: float, a_density: float, calls: int = 3):
    w = W_T.quantize_float(rng.normal(0, 2, (cfg.n_out, cfg.n_in)) * (rng.random((cfg.n_out, cfg.n_in)) < w_density))
    x = A_T.quantize_float(rng.uniform(-8, 8, (calls, cfg.n_in)) * (rng.random((calls, cfg.n_in)) < a_density))
    return w, x


@pytest.mark.csim
@settings(max_examples=25)
@given(
    case=st.sampled_from(CONFIGS),
    arithmetic=st.sampled_from(toolchain.ARITHMETICS),
    w_density=st.sampled_from([0.0, 0.2, 0.7]),
    a_density=st.sampled_from([0.0, 0.3, 1.0]),
    strategy=st.sampled_from(["balanced", "interleaved"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_shared_banks_in_csim_equal_the_reference(case, arithmetic, w_density, a_density, strategy, seed):
    cfg = config(case)
    w, x = random_case(np.random.default_rng(seed), cfg, w_density, a_density)
    bank_of_row, matrix = encode(cfg, w, strategy)
    sim = sims(arithmetic)[cfg]
    sim.load(matrix)
    y, stats = sim.run(x)
    assert np.array_equal(y, mxv(cfg, w, x)), f"results differ ({arithmetic})"
    expected = mxv_stats_per_call(cfg, w != 0, x != 0, bank_of_row)
    for t, s in enumerate(stats):
        assert s.as_tuple() == expected.sample(t).as_tuple(), (arithmetic, t, s, expected.sample(t))
        assert s.cycles >= ideal_cycles(s.pairs, cfg.lanes * cfg.macs_per_lane)


@settings(max_examples=60)
@given(
    n_out=st.integers(1, 60),
    n_in=st.integers(1, 200),
    lanes=st.integers(1, 8),
    macs=st.integers(1, 3),
    scan=st.integers(1, 4),
    depth=st.integers(1, 5),
    w_density=st.floats(0, 1),
    a_density=st.floats(0, 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_one_lane_per_bank_is_the_static_schedule(n_out, n_in, lanes, macs, scan, depth, w_density, a_density, seed):
    """The shared-bank schedule with one lane per bank is exactly the schedule of lanes with rows of their own."""
    rng = np.random.default_rng(seed)
    cfg = MxvConfig(n_in, n_out, W_T, A_T, ACC_T, lanes, macs, scan, "masr", depth)
    w = rng.random((n_out, n_in)) < w_density
    engine = ref.Engine(cfg, w, assign_rows(w.sum(axis=1), lanes, "balanced"))
    _, _, cost = engine.window_costs(rng.random((4, n_in)) < a_density)
    static = ref._lane_cycles(cfg, cost, *engine.lane_slots)
    assert np.array_equal(ref._shared_bank_cycles(cfg, cost, *engine.lane_slots), static)


def test_schedule_by_hand():
    """Two lanes share one bank of four rows (4, 1, 1, 1 pairs; one window each, one MAC, FIFO of 4).

    Cycle 0: lane 0 takes the 4-pair row (issues in cycles 1-4), lane 1 a 1-pair row (cycle 1).  Cycle 1: both
    front ends are free; lane 0 takes the third row first (it leaves its FIFO in cycle 4 and issues in cycle 5),
    lane 1 the fourth (issues in cycle 2).  Lane 0 ends at 5 + 1 + MAC_DEPTH = 8, lane 1 at 2 + 1 + 2 = 5; the
    engine takes 8 + DONE = 9 cycles.  Rows tied to lanes (balanced: 4 | 1+1+1) take 7 and 6, so 8 cycles.
    """
    w = np.zeros((4, 32), np.int64)
    w[0, :4] = w[1, 4] = w[2, 5] = w[3, 6] = 1
    x = np.ones((1, 32), bool)
    shared = MxvConfig(32, 4, W_T, A_T, ACC_T, lanes=2, bank_lanes=2)
    s = mxv_stats_per_call(shared, w != 0, x, np.zeros(4, np.int64))
    assert (int(s.busiest_lane[0]), int(s.idlest_lane[0]), int(s.cycles[0])) == (8, 5, 9)
    static = dataclasses.replace(shared, bank_lanes=1)
    s = mxv_stats_per_call(static, w != 0, x, assign_rows(w.sum(axis=1), 2, "balanced"))
    assert (int(s.busiest_lane[0]), int(s.idlest_lane[0]), int(s.cycles[0])) == (7, 6, 8)


def test_bank_slots_put_the_heaviest_rows_first():
    bank_of_row = np.array([0, 1, 0, 0, 1])
    work = np.array([1, 5, 3, 3, 0])
    assert [list(r) for r in bank_slots(bank_of_row, 2, work)] == [[2, 3, 0], [1, 4]]
    assert [list(r) for r in bank_slots(bank_of_row, 2)] == [[0, 2, 3], [1, 4]]
    w = np.array([[1, 0, 0], [1, 1, 1], [1, 1, 0]])
    m = SparseMatrix.encode(w, np.zeros(3, np.int64), 1, heavy_first=True)
    assert list(m.lane_rows[0]) == [1, 2, 0] and list(m.lane_row_base[0]) == [0, 3, 5]
    assert np.array_equal(m.decode(), w)


def test_bank_lanes_divide_the_lanes():
    assert [bank_lanes(lanes, 4) for lanes in (1, 2, 3, 4, 6, 64)] == [1, 2, 3, 4, 3, 4]
    with pytest.raises(ValueError, match="bank_lanes .* must divide lanes"):
        MxvConfig(8, 8, W_T, A_T, ACC_T, lanes=6, bank_lanes=4)


def test_auto_balancing_needs_lanes_and_rows_to_share():
    """LaneBalancing auto: dynamic from DYNAMIC_FROM_LANES lanes up, and only where the layer has DYNAMIC_MIN_ROWS_PER_LANE
    rows a lane or more (kws_speech's 144 rows: dynamic on 32 lanes, static on 64); dynamic and static as asked."""
    from masr_hls.backend.config import DYNAMIC_FROM_LANES, DYNAMIC_MIN_ROWS_PER_LANE, engine_balancing

    assert DYNAMIC_FROM_LANES == 8 and DYNAMIC_MIN_ROWS_PER_LANE == 4
    dynamic, static = {"bank_lanes": 2, "fifo_depth": 1}, {"bank_lanes": 1, "fifo_depth": 4}
    assert engine_balancing(4, rows=1000) == static  # too few lanes
    assert engine_balancing(8, rows=32) == dynamic and engine_balancing(8, rows=31) == static
    assert engine_balancing(32, rows=144) == dynamic and engine_balancing(64, rows=144) == static
    assert engine_balancing(64) == dynamic  # rows unknown: by lane count alone
    assert engine_balancing("auto", rows=144) == static  # lanes not chosen yet: nothing to share
    assert engine_balancing(64, "dynamic", rows=144) == dynamic and engine_balancing(64, "static", rows=10**4) == static
    assert engine_balancing(64, "dynamic", fifo_depth=3, rows=144) == {"bank_lanes": 2, "fifo_depth": 3}


def test_conversion_balances_each_layer_by_its_own_rows(tmp_path):
    """A GRU of 12 units (36 rows) beside one of 3 (9 rows), both on 8 lanes: auto shares banks in the first only."""
    import keras

    import masr_hls

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4, 5)), keras.layers.GRU(12, return_sequences=True, name="wide"), keras.layers.GRU(3, name="narrow")])
    config = masr_hls.config_from_keras_model(model, lanes=8)
    hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, hls_config=config, output_dir=str(tmp_path / "prj")))
    wide, narrow = (layer.cell for layer in hw.layers)
    assert (wide.bank_lanes, wide.fifo_depth) == (2, 1) and (narrow.bank_lanes, narrow.fifo_depth) == (1, 4)
