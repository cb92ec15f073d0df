"""The C++ encoder and sparse engine against the numpy reference, bit for bit."""

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from masr_hls import toolchain
from masr_hls.csim.modules import MxvSim
from masr_hls.numerics.bitmask import CompactVector, SparseMatrix, n_words
from masr_hls.numerics.fixed_point import FixedType, PrecisionError
from masr_hls.numerics.lane_balance import assign_rows
from masr_hls.reference.mxv import MxvConfig, ideal_cycles, mxv, mxv_stats, mxv_stats_over_calls, utilisation

pytestmark = pytest.mark.csim

F = FixedType.parse
PRECISIONS = [  # (weight, activation, accumulator); most accumulators are coarser than the products, so rounding is exercised
    (F("ap_fixed<8,2,AP_RND,AP_SAT>"), F("ap_fixed<12,4,AP_RND,AP_SAT>"), F("ap_fixed<20,10,AP_RND_CONV,AP_WRAP>")),
    (F("ap_fixed<16,6>"), F("ap_fixed<16,6>"), F("ap_fixed<32,12>")),
    (F("ap_fixed<4,1,AP_TRN_ZERO,AP_SAT_SYM>"), F("ap_ufixed<6,3,AP_RND_INF,AP_SAT>"), F("ap_fixed<8,4,AP_RND_ZERO,AP_WRAP>")),
    (F("ap_fixed<18,2,AP_RND_MIN_INF,AP_WRAP>"), F("ap_fixed<18,8,AP_TRN,AP_SAT_ZERO>"), F("ap_fixed<40,24,AP_TRN_ZERO,AP_WRAP>")),
]
SHAPES = [  # (n_out, n_in, lanes, macs_per_lane, precision index)
    (1, 1, 1, 1, 0),
    (3, 300, 64, 1, 1),  # more lanes than rows
    (300, 7, 16, 4, 0),
    (45, 70, 4, 2, 2),  # narrow accumulator: wrap-around overflow is exercised
    (96, 128, 8, 8, 3),
    (257, 33, 3, 1, 1),
]
DENSITIES = [0.0, 0.1, 0.5, 1.0]
MODES = ["masr", "weight_sparse", "dense"]
ENCODER_SIZES = [1, 31, 32, 33, 300]
FIFO_CASES = [(1, 1), (2, 4), (8, 2)]  # (fifo_depth, scan_words)
BY_HAND_CASES = [(4, 1), (10, 1), (10, 4)]  # (rows, fifo_depth) of test_schedule_by_hand
WIDE_ACCUMULATORS = ["ap_fixed<48,20,AP_RND,AP_WRAP>", "ap_fixed<64,28,AP_RND_CONV,AP_WRAP>", "ap_fixed<40,8,AP_TRN,AP_WRAP>"]
# The fast build's products: dense 16-bit dot products where both factors fit int16 (a 16-bit unsigned
# type does not: its upper half would wrap), raw MACs otherwise; both against the reference.
PRODUCT_TYPES = [
    ("ap_fixed<16,6>", "ap_ufixed<16,8>", "ap_fixed<32,10>"),
    ("ap_ufixed<16,4>", "ap_fixed<16,6>", "ap_fixed<32,8>"),
    ("ap_ufixed<15,4>", "ap_ufixed<15,7>", "ap_fixed<32,9>"),
    ("ap_fixed<8,3>", "ap_fixed<8,3>", "ap_fixed<20,6,AP_RND,AP_WRAP>"),
]
DENSITY_CONFIG = MxvConfig(256, 256, *PRECISIONS[1], lanes=4, macs_per_lane=1, mode="masr")
BALANCE_CONFIG = MxvConfig(256, 512, *PRECISIONS[1], lanes=16, macs_per_lane=1, mode="masr")


def shape_config(shape, mode) -> MxvConfig:
    n_out, n_in, lanes, macs, p = shape
    return MxvConfig(n_in, n_out, *PRECISIONS[p], lanes=lanes, macs_per_lane=macs, mode=mode)


def encoder_config(n) -> MxvConfig:
    return MxvConfig(n, 1, *PRECISIONS[0])


def fifo_config(fifo_depth, scan_words, mode) -> MxvConfig:
    return MxvConfig(300, 40, *PRECISIONS[0], lanes=3, macs_per_lane=2, scan_words=scan_words, mode=mode, fifo_depth=fifo_depth)


def by_hand_config(rows, fifo_depth) -> MxvConfig:
    return MxvConfig(32, rows, *PRECISIONS[1], lanes=1, macs_per_lane=1, fifo_depth=fifo_depth)


def wide_config(accum_t) -> MxvConfig:
    w32 = F("ap_fixed<32,14,AP_RND,AP_SAT>")
    return MxvConfig(70, 45, w32, w32, F(accum_t), lanes=4, macs_per_lane=2)


def product_config(w_t, a_t, acc_t) -> MxvConfig:
    return MxvConfig(90, 33, F(w_t), F(a_t), F(acc_t), lanes=3, macs_per_lane=2)


def sim_key(cfg: MxvConfig, arithmetic: str | None) -> tuple:
    return cfg, arithmetic or toolchain.default_arithmetic()


@functools.cache
def libraries() -> list[list[tuple]]:
    """The (config, arithmetic) keys of every configuration the tests use, one list per arithmetic (a compile
    flag): each list is one library."""
    default = (
        [shape_config(s, m) for s in SHAPES for m in MODES]
        + [encoder_config(n) for n in ENCODER_SIZES]
        + [product_config(*types) for types in PRODUCT_TYPES]
        + [wide_config(a) for a in WIDE_ACCUMULATORS]
        + [DENSITY_CONFIG, BALANCE_CONFIG]
    )
    keys = [sim_key(cfg, None) for cfg in default]
    for arithmetic in toolchain.ARITHMETICS:
        keys += [(fifo_config(*case, mode), arithmetic) for case in FIFO_CASES for mode in MODES]
        keys += [(by_hand_config(*case), arithmetic) for case in BY_HAND_CASES]
    keys = list(dict.fromkeys(keys))  # encoder_config(1) is the first shape's masr config
    return [[key for key in keys if key[1] == arithmetic] for arithmetic in toolchain.ARITHMETICS]


def bank_setup(cfg: MxvConfig, arithmetic: str) -> tuple:
    """MxvSim's arguments for ``cfg`` with banks large enough for any matrix of the shape (a lane may take every
    row and every weight)."""
    empty = SparseMatrix.encode(np.zeros((cfg.n_out, cfg.n_in), np.int64), np.zeros(cfg.n_out, np.int64), cfg.lanes)
    return cfg, empty, cfg.n_out, cfg.n_out * cfg.n_in, arithmetic


_sims = {}


def sim_for(cfg: MxvConfig, matrix: SparseMatrix, arithmetic: str | None = None) -> MxvSim:
    """One compiled testbench per config and arithmetic, re-loaded with new weights.

    The first use of a configuration builds every configuration of its library (one g++ run).
    """
    key = sim_key(cfg, arithmetic)
    if key not in _sims:
        library = next((keys for keys in libraries() if key in keys), [key])
        _sims.update(zip(library, MxvSim.many([bank_setup(*k) for k in library])))
    sim = _sims[key]
    sim.load(matrix)
    return sim


def random_case(rng, n_out, n_in, w_type, a_type, w_density, a_density, t):
    w = w_type.quantize_float(rng.normal(0, 2, (n_out, n_in)) * (rng.random((n_out, n_in)) < w_density))
    if n_out > 2 and n_in > 2:  # an all-zero row and an all-zero column
        w[rng.integers(n_out)] = 0
        w[:, rng.integers(n_in)] = 0
    span = max(abs(a_type.min_value), a_type.max_value)
    x = a_type.quantize_float(rng.uniform(-span, span, (t, n_in)) * (rng.random((t, n_in)) < a_density))
    return w, x


def check_engine(cfg, w, x, strategy="balanced", arithmetic=None):
    lane_of_row = assign_rows(np.count_nonzero(w, axis=1), cfg.lanes, strategy)
    matrix = SparseMatrix.encode(w, lane_of_row, cfg.lanes)
    y, stats = sim_for(cfg, matrix, arithmetic).run(x)
    for t in range(x.shape[0]):
        expected = mxv(cfg, w, x[t])
        bad = np.flatnonzero(expected != y[t])
        assert bad.size == 0, f"row {bad[0]}: C++ {y[t][bad[0]]} != reference {expected[bad[0]]} ({cfg})"
        ref_stats = mxv_stats(cfg, w != 0, x[t] != 0, lane_of_row)
        assert stats[t].as_tuple() == ref_stats.as_tuple(), (stats[t], ref_stats)
        assert stats[t].cycles >= ideal_cycles(stats[t].pairs, cfg.lanes * cfg.macs_per_lane)
    return y, stats


@settings(max_examples=40)
@given(
    shape=st.sampled_from(SHAPES),
    mode=st.sampled_from(MODES),
    w_density=st.sampled_from(DENSITIES),
    a_density=st.sampled_from(DENSITIES),
    strategy=st.sampled_from(["balanced", "interleaved"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_engine_equals_reference(shape, mode, w_density, a_density, strategy, seed):
    n_out, n_in, _, _, p = shape
    w_t, a_t, _ = PRECISIONS[p]
    cfg = shape_config(shape, mode)
    w, x = random_case(np.random.default_rng(seed), n_out, n_in, w_t, a_t, w_density, a_density, t=3)
    check_engine(cfg, w, x, strategy)


@pytest.mark.parametrize("shape", SHAPES)
def test_modes_compute_the_same_and_masr_issues_least(shape):
    n_out, n_in, _, _, p = shape
    w_t, a_t, _ = PRECISIONS[p]
    w, x = random_case(np.random.default_rng(n_out * n_in), n_out, n_in, w_t, a_t, 0.5, 0.5, t=4)
    results = {}
    for mode in ("dense", "weight_sparse", "masr"):
        results[mode] = check_engine(shape_config(shape, mode), w, x)
    assert np.array_equal(results["dense"][0], results["masr"][0])
    assert np.array_equal(results["weight_sparse"][0], results["masr"][0])
    for t in range(x.shape[0]):
        dense, weight, masr = (results[m][1][t] for m in ("dense", "weight_sparse", "masr"))
        assert dense.pairs == weight.pairs == masr.pairs
        assert dense.issued == n_out * n_in >= weight.issued >= masr.issued == masr.pairs


def test_cycles_fall_as_density_falls():
    w_t, a_t, _ = PRECISIONS[1]
    cfg = DENSITY_CONFIG
    rng = np.random.default_rng(7)
    by_weight = [check_engine(cfg, *random_case(rng, 256, 256, w_t, a_t, d, 0.5, 1))[1][0].cycles for d in (1.0, 0.5, 0.1)]
    by_act = [check_engine(cfg, *random_case(rng, 256, 256, w_t, a_t, 0.5, d, 1))[1][0].cycles for d in (1.0, 0.5, 0.1)]
    assert by_weight[0] > by_weight[1] > by_weight[2], by_weight
    assert by_act[0] > by_act[1] > by_act[2], by_act


def test_balanced_lanes_keep_utilisation_high():
    w_t, a_t, _ = PRECISIONS[1]
    cfg = BALANCE_CONFIG
    w, x = random_case(np.random.default_rng(3), 512, 256, w_t, a_t, 0.5, 0.5, 1)
    _, stats = check_engine(cfg, w, x)
    assert utilisation(stats[0].pairs, 16, stats[0].cycles) > 0.9


@given(n=st.sampled_from(ENCODER_SIZES), density=st.sampled_from(DENSITIES), seed=st.integers(0, 2**32 - 1))
def test_encoder_equals_reference(n, density, seed):
    a_t = PRECISIONS[0][1]
    cfg = encoder_config(n)
    _, x = random_case(np.random.default_rng(seed), 1, n, a_t, a_t, 1.0, density, t=4)
    sim = sim_for(cfg, SparseMatrix.encode(np.zeros((1, n), np.int64), np.zeros(1), 1))
    masks, values, nnz, cycles = sim.encode(x)
    for t in range(4):
        ref = CompactVector.encode(x[t])
        assert nnz[t] == ref.values.size, "C++ decode did not restore the vector" if nnz[t] < 0 else nnz[t]
        assert np.array_equal(masks[t], ref.mask) and np.array_equal(values[t], ref.values)
        assert cycles[t] == n_words(n)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(lanes=0), ValueError, "lanes must be a positive integer"),
        (dict(macs_per_lane=-1), ValueError, "macs_per_lane must be a positive integer"),
        (dict(mode="sparse"), ValueError, "unknown engine mode"),
        (dict(accum_t=F("ap_fixed<32,12,AP_TRN,AP_SAT>")), PrecisionError, "overflow must be AP_WRAP"),
    ],
)
def test_bad_engine_parameters(kwargs, error, message):
    base = dict(n_in=4, n_out=4, weight_t=PRECISIONS[1][0], act_t=PRECISIONS[1][1], accum_t=PRECISIONS[1][2])
    with pytest.raises(error, match=message):
        MxvConfig(**{**base, **kwargs})


def test_precision_with_fewer_bits_than_integer_part_is_refused():
    with pytest.raises(PrecisionError, match="W=4 < I=6"):
        F("ap_fixed<4,6>")


def test_stats_over_calls_sum_the_calls():
    """mxv_stats_over_calls adds up exactly what mxv_stats gives call by call, in every mode."""
    from masr_hls.numerics.lane_balance import row_work

    rng = np.random.default_rng(3)
    w_raw = rng.integers(-3, 4, (45, 70)) * (rng.random((45, 70)) < 0.2)
    v_nz = rng.random((6, 70)) < 0.4
    for mode in ("dense", "weight_sparse", "masr"):
        for lanes, macs in ((1, 1), (4, 2), (16, 1), (64, 3)):
            cfg = MxvConfig(70, 45, "ap_fixed<8,3>", "ap_fixed<8,3>", "ap_fixed<24,8,AP_RND,AP_WRAP>", lanes, macs, 1, mode)
            lor = assign_rows(row_work(w_raw, mode), lanes, "balanced")
            total = mxv_stats(cfg, w_raw != 0, v_nz[0], lor)
            for v in v_nz[1:]:
                total = total + mxv_stats(cfg, w_raw != 0, v, lor)
            assert mxv_stats_over_calls(cfg, w_raw != 0, v_nz, lor).as_tuple() == total.as_tuple()


# "fast" runs the engine's C-simulation twin (mxv_csim.h), "ap_fixed" the dataflow engine itself: both must
# count every stall of the schedule.
@pytest.mark.parametrize("arithmetic", ["fast", "ap_fixed"])
@pytest.mark.parametrize("fifo_depth, scan_words", FIFO_CASES)
def test_fifo_depth_and_window_width(fifo_depth, scan_words, arithmetic):
    """Multi-window rows and a shallow FIFO (front-end stalls): the C++ count equals the reference's."""
    w_t, a_t, _ = PRECISIONS[0]
    rng = np.random.default_rng(fifo_depth * 10 + scan_words)
    for mode in ("masr", "weight_sparse", "dense"):
        cfg = fifo_config(fifo_depth, scan_words, mode)
        for wd, ad in ((0.05, 0.3), (0.5, 0.5), (0.02, 1.0)):
            check_engine(cfg, *random_case(rng, 40, 300, w_t, a_t, wd, ad, 2), arithmetic=arithmetic)


def _by_hand(pairs_per_row, fifo_depth, arithmetic):
    """One lane, one MAC, one window per row; row r has pairs_per_row[r] pairs (all activations set)."""
    w_t, a_t, _ = PRECISIONS[1]
    n = len(pairs_per_row)
    w = np.zeros((n, 32), np.int64)
    for r, p in enumerate(pairs_per_row):
        w[r, :p] = 1 << w_t.frac
    x = np.full((1, 32), 1 << a_t.frac, np.int64)
    cfg = by_hand_config(n, fifo_depth)
    return check_engine(cfg, w, x, arithmetic=arithmetic)[1][0].cycles


@pytest.mark.parametrize("arithmetic", ["fast", "ap_fixed"])
def test_schedule_by_hand(arithmetic):
    """The schedule of docs/arithmetic.md worked out by hand for three small cases.

    [3, 0, 1, 2], FIFO 1: window 0 issues in cycles 1-3, window 2 leaves the FIFO in
    cycle 3 and issues in 4, window 3 in 5-6; + MAC_DEPTH 2 = 9 lane cycles, + 1 = 10.
    [5, 1, 1, 0 x 7], FIFO 1: window 2 waits in the front end until window 1 leaves in
    cycle 5 (3 stall cycles), so the front end ends at 10 + 3 = 13 and the engine at 14;
    with FIFO 4 there is no stall: max(10, 8 + 2) + 1 = 11.
    """
    assert _by_hand([3, 0, 1, 2], 1, arithmetic) == 10
    assert _by_hand([5, 1, 1] + [0] * 7, 1, arithmetic) == 14
    assert _by_hand([5, 1, 1] + [0] * 7, 4, arithmetic) == 11


@pytest.mark.parametrize("accum_t", WIDE_ACCUMULATORS)
def test_engine_at_wide_precisions(accum_t):
    """32 x 32-bit products (past int64) into 48-, 64- and wrapping 40-bit accumulators."""
    cfg = wide_config(accum_t)
    w32 = cfg.weight_t
    assert cfg.product_bits > 62
    rng = np.random.default_rng(cfg.accum_t.width)
    w, x = random_case(rng, 45, 70, w32, w32, 0.6, 0.6, 5)
    y, _ = check_engine(cfg, w, x)
    assert len(np.unique(y)) > 40


@pytest.mark.parametrize("w_t, a_t, acc_t", PRODUCT_TYPES)
def test_engine_products_at_16_bit_limits(w_t, a_t, acc_t):
    """The fast build's products at the limits of its 16-bit dot products (see PRODUCT_TYPES)."""
    cfg = product_config(w_t, a_t, acc_t)
    rng = np.random.default_rng(16)
    w, x = random_case(rng, 33, 90, cfg.weight_t, cfg.act_t, 0.5, 0.7, 4)
    w[0, :2] = cfg.weight_t.max_raw
    x[:, :2] = cfg.act_t.max_raw  # the largest factors: the upper half of an unsigned 16-bit value is set
    check_engine(cfg, w, x)
