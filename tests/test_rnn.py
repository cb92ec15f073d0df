"""Recurrent cells, direction sweeps and the bidirectional layer: C++ against the numpy reference, bit for bit."""

import zlib

import numpy as np
import pytest

from masr_hls.csim.modules import RnnSim
from masr_hls.numerics.fixed_point import FixedType, PrecisionError
from masr_hls.reference.rnn_cell import CellConfig, CellWeights, step
from masr_hls.reference.rnn_layer import MergeConfig, bidirectional, rnn_layer, sequence_storage_bits

pytestmark = pytest.mark.csim

F = FixedType.parse

CELLS = [  # (kind, reset_after, activation, recurrent_activation)
    ("gru", True, "tanh", "sigmoid"),
    ("gru", True, "relu", "hard_sigmoid"),
    ("gru", True, "tanh", "hard_sigmoid"),
    ("gru", True, "relu", "sigmoid"),
    ("gru", False, "tanh", "sigmoid"),
    ("gru", False, "relu", "hard_sigmoid"),
    ("gru", False, "tanh", "hard_sigmoid"),
    ("gru", False, "relu", "sigmoid"),
    ("lstm", True, "tanh", "sigmoid"),
    ("lstm", True, "relu", "hard_sigmoid"),
    ("simple_rnn", True, "tanh", "sigmoid"),
    ("simple_rnn", True, "relu", "sigmoid"),
]
DENSITIES = [1.0, 0.5, 0.1, 0.0]  # densest first: the first load sizes the compiled lane banks


def keras_weights(rng, cfg: CellConfig, density: float, scale: float = 0.6):
    """Random weights in Keras layouts, with exact zeros at the given density (and one all-zero row and column)."""
    g_u = cfg.gates * cfg.n_units

    def sparse(shape):
        w = rng.normal(0, scale, shape) * (rng.random(shape) < density)
        if min(shape) > 2:
            w[rng.integers(shape[0])] = 0
            w[:, rng.integers(shape[1])] = 0
        return w

    bias_shape = (2, g_u) if cfg.kind == "gru" and cfg.reset_after else (g_u,)
    return sparse((cfg.n_in, g_u)), sparse((cfg.n_units, g_u)), rng.normal(0, 0.3, bias_shape)


def frames(rng, cfg: CellConfig, t: int, density: float = 0.5) -> np.ndarray:
    x = rng.normal(0, 1.5, (t, cfg.n_in)) * (rng.random((t, cfg.n_in)) < density)
    return cfg.in_t.quantize_float(x)


def assert_layer_matches(sim: RnnSim, cfg, w, x, go_backwards=False):
    out, stats = sim.layer(x, go_backwards)
    ref, ref_stats = rnn_layer(cfg, w, x, go_backwards)
    np.testing.assert_array_equal(out, ref)
    assert stats.as_tuple() == ref_stats.as_tuple()
    return ref_stats


def simulate_together(cases: dict) -> dict:
    """``cases``: key -> (RnnSim's arguments, what the test needs); returns key -> (*what the test needs, sim), the
    simulations built in one library (one g++ run, the arithmetic they share compiled once)."""
    sims = RnnSim.many([args for args, _ in cases.values()])
    return {key: (*extra, sim) for (key, (_, extra)), sim in zip(cases.items(), sims)}


@pytest.fixture(scope="module")
def cell_kinds():
    """Every cell kind's config, weights at each density, random stream and simulation (all from one library)."""
    cases = {}
    for cell in CELLS:
        kind, reset_after, activation, recurrent_activation = cell
        rng = np.random.default_rng(zlib.crc32(repr(cell).encode()))
        cfg = CellConfig(kind, 11, 9, activation, recurrent_activation, reset_after, lanes=4, macs_per_lane=2)
        weights = [CellWeights.from_keras(cfg, *keras_weights(rng, cfg, d)) for d in DENSITIES]
        cases[cell] = (cfg, weights[0], None, None, None, 16), (cfg, weights, rng)
    return simulate_together(cases)


@pytest.mark.parametrize("kind,reset_after,activation,recurrent_activation", CELLS)
def test_cell_kinds_match_reference(kind, reset_after, activation, recurrent_activation, cell_kinds):
    cfg, weights, rng, sim = cell_kinds[kind, reset_after, activation, recurrent_activation]
    pairs = []
    for w in weights:
        sim.load(w)
        for t, go_backwards in ((1, False), (13, False), (13, True)):
            stats = assert_layer_matches(sim, cfg, w, frames(rng, cfg, t), go_backwards)
        pairs.append(stats.kernel.pairs + stats.recurrent.pairs)
    assert pairs == sorted(pairs, reverse=True) and pairs[-1] == 0  # the work falls with density, to none


@pytest.mark.parametrize(
    "kind,n_in,n_units,lanes,macs,t",
    [
        ("gru", 1, 1, 1, 1, 1),
        ("gru", 300, 12, 64, 1, 3),  # more lanes than units; a long input
        ("lstm", 40, 33, 7, 3, 50),  # T=50, units not a multiple of lanes
        ("simple_rnn", 5, 70, 16, 4, 9),
        ("gru", 64, 32, 1, 8, 20),
    ],
)
def test_sizes_and_lanes(kind, n_in, n_units, lanes, macs, t):
    rng = np.random.default_rng(n_in * 1000 + n_units)
    cfg = CellConfig(kind, n_in, n_units, activation="relu", lanes=lanes, macs_per_lane=macs, reset_after=n_in % 2 == 0)
    w = CellWeights.from_keras(cfg, *keras_weights(rng, cfg, 0.5))
    sim = RnnSim(cfg, w, max_frames=t)
    assert_layer_matches(sim, cfg, w, frames(rng, cfg, t))
    assert_layer_matches(sim, cfg, w, frames(rng, cfg, t, density=1.0), go_backwards=True)


PRECISIONS = [  # a narrow, truncating cell and a wide, convergent-rounding one (state wrap-around included)
    dict(
        in_t="ap_fixed<8,3,AP_TRN,AP_SAT>",
        state_t="ap_fixed<8,3,AP_TRN,AP_WRAP>",
        weight_t="ap_fixed<6,2,AP_TRN_ZERO,AP_SAT_SYM>",
        recurrent_weight_t="ap_fixed<6,2>",
        bias_t="ap_fixed<8,3>",
        accum_t="ap_fixed<14,5,AP_TRN,AP_WRAP>",
        gate_t="ap_ufixed<8,1,AP_RND,AP_SAT>",
        cand_t="ap_fixed<8,3,AP_RND_ZERO,AP_SAT>",
        cell_t="ap_fixed<10,4,AP_RND_INF,AP_WRAP>",
        act_n_log2=6,
        rec_n_log2=5,
        act_r_log2=2,
        rec_r_log2=4,
    ),
    dict(
        in_t="ap_fixed<24,8,AP_RND_CONV,AP_SAT>",
        state_t="ap_fixed<24,8,AP_RND_CONV,AP_SAT>",
        weight_t="ap_fixed<18,4,AP_RND,AP_SAT>",
        recurrent_weight_t="ap_fixed<12,3,AP_RND_MIN_INF,AP_SAT>",
        bias_t="ap_fixed<20,6>",
        accum_t="ap_fixed<40,14,AP_RND,AP_WRAP>",
        gate_t="ap_fixed<18,2,AP_RND,AP_SAT>",
        cand_t="ap_fixed<20,8,AP_RND,AP_SAT>",
        cell_t="ap_fixed<24,10,AP_RND,AP_SAT>",
        act_n_log2=12,
        rec_n_log2=11,
    ),
]


PRECISION_KINDS = [("gru", True), ("gru", False), ("lstm", True)]


@pytest.fixture(scope="module")
def precision_layers():
    cases = {}
    for precision in range(len(PRECISIONS)):
        for kind, reset_after in PRECISION_KINDS:
            rng = np.random.default_rng(precision * 10 + len(kind) + reset_after)
            cfg = CellConfig(kind, 17, 10, reset_after=reset_after, lanes=3, **PRECISIONS[precision])
            w = CellWeights.from_keras(cfg, *keras_weights(rng, cfg, 0.7, scale=1.5))
            cases[precision, kind, reset_after] = (cfg, w, None, None, None, 20), (cfg, w, rng)
    return simulate_together(cases)


@pytest.mark.parametrize("precision", range(len(PRECISIONS)))
@pytest.mark.parametrize("kind,reset_after", PRECISION_KINDS)
def test_precisions_and_rounding_modes(precision, kind, reset_after, precision_layers):
    cfg, w, rng, sim = precision_layers[precision, kind, reset_after]
    assert_layer_matches(sim, cfg, w, frames(rng, cfg, 20, density=0.8))


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_modes_agree_and_cycles_fall_with_density(kind):
    """Skipping zeros never changes an answer; it only removes cycles."""
    results = {}
    for mode in ("dense", "weight_sparse", "masr"):
        cfg = CellConfig(kind, 48, 32, activation="relu", lanes=8, mode=mode)
        k, r, b = keras_weights(np.random.default_rng(7), cfg, 1.0)  # the same weights in every mode
        x = frames(np.random.default_rng(3), cfg, 10, density=0.5)
        sim = None
        for density in (1.0, 0.5, 0.1):
            keep = np.random.default_rng(int(density * 100)).random(k.shape) < density
            keep_r = np.random.default_rng(int(density * 100) + 1).random(r.shape) < density
            w = CellWeights.from_keras(cfg, k * keep, r * keep_r, b)
            sim = sim or RnnSim(cfg, w, max_frames=10)
            sim.load(w)
            assert_layer_matches(sim, cfg, w, x)
            results[mode, density] = sim.layer(x)[0], sim.layer(x)[1].cycles
    for density in (1.0, 0.5, 0.1):
        np.testing.assert_array_equal(results["dense", density][0], results["masr", density][0])
        np.testing.assert_array_equal(results["weight_sparse", density][0], results["masr", density][0])
        dense, ws, masr = (results[m, density][1] for m in ("dense", "weight_sparse", "masr"))
        assert dense >= ws >= masr
    for mode in ("weight_sparse", "masr"):
        assert results[mode, 1.0][1] > results[mode, 0.5][1] > results[mode, 0.1][1]
    assert results["dense", 1.0][1] == results["dense", 0.1][1]  # a dense array does not care


W32 = "ap_fixed<32,14,AP_RND,AP_SAT>"  # hls4ml users' usual validation precision
WIDE_ACCUMULATORS = ["ap_fixed<48,20,AP_RND,AP_WRAP>", "ap_fixed<64,28,AP_RND,AP_WRAP>", "ap_fixed<96,40,AP_TRN,AP_WRAP>"]


def wide_cell(kind, reset_after, recurrent_activation, accum_t):
    """Every role at ap_fixed<32,14>: products of 32 x 32 bits, gate times accumulator beyond int64."""
    types = dict(in_t=W32, state_t=W32, weight_t=W32, recurrent_weight_t=W32, bias_t=W32, gate_t=W32, cand_t=W32, cell_t=W32)
    return CellConfig(kind, 9, 6, "tanh", recurrent_activation, reset_after, accum_t=accum_t, lanes=2, **types)


WIDE_CASES = [
    (kind, reset_after, recurrent_activation, accum_t)
    for accum_t in WIDE_ACCUMULATORS
    for kind, reset_after, recurrent_activation in [
        ("gru", True, "sigmoid"),
        ("gru", False, "hard_sigmoid"),
        ("lstm", True, "sigmoid"),
        ("simple_rnn", True, "sigmoid"),
    ]
]
WIDE_MERGES = ["mul", "ave"]


@pytest.fixture(scope="module")
def wide_layers():
    """Every wide case's config, weights, random stream and simulation: the simulations from one library, since
    their ap_fixed arithmetic (past 64 bits) is most of what g++ compiles, and it is shared."""
    cases = {}
    for case in WIDE_CASES:
        kind, reset_after, recurrent_activation, accum_t = case
        rng = np.random.default_rng(zlib.crc32(repr((kind, reset_after, accum_t)).encode()))
        cfg = wide_cell(kind, reset_after, recurrent_activation, accum_t)
        w = CellWeights.from_keras(cfg, *keras_weights(rng, cfg, 0.7, scale=1.5))
        cases[case] = (cfg, w, None, None, None, 8), (cfg, w, rng)
    for merge_mode in WIDE_MERGES:
        rng = np.random.default_rng(len(merge_mode))
        cfg = wide_cell("gru", True, "sigmoid", WIDE_ACCUMULATORS[2])
        m = MergeConfig(merge_mode, F("ap_fixed<64,28,AP_RND,AP_SAT>"))  # a 32 x 32-bit product kept whole
        wf, wb = (CellWeights.from_keras(cfg, *keras_weights(rng, cfg, 0.8, scale=1.5)) for _ in range(2))
        cases[merge_mode] = (cfg, wf, cfg, wb, m, 6), (cfg, (wf, wb, m), rng)
    return simulate_together(cases)


@pytest.mark.parametrize("kind,reset_after,recurrent_activation,accum_t", WIDE_CASES)
def test_wide_precisions_match_reference(kind, reset_after, recurrent_activation, accum_t, wide_layers):
    cfg, w, rng, sim = wide_layers[kind, reset_after, recurrent_activation, accum_t]
    assert cfg.elementwise_bits() > 62  # the reference's Python-integer path is the one under test
    stats = assert_layer_matches(sim, cfg, w, frames(rng, cfg, 8, density=0.8))
    assert stats.kernel.pairs > 0


@pytest.mark.parametrize("merge_mode", WIDE_MERGES)
def test_wide_bidirectional_merge(merge_mode, wide_layers):
    cfg, (wf, wb, m), rng, sim = wide_layers[merge_mode]
    x = frames(rng, cfg, 6, density=0.9)
    y, *_ = sim.bidirectional(x)
    ry, *_ = bidirectional(cfg, wf, cfg, wb, m, x)
    np.testing.assert_array_equal(y, ry)
    assert np.count_nonzero(ry) > ry.size // 2


MERGE_MODES = ["concat", "sum", "mul", "ave"]


@pytest.fixture(scope="module")
def merge_layers():
    cases = {}
    for merge_mode in MERGE_MODES:
        for return_sequences in (True, False):
            rng = np.random.default_rng(len(merge_mode) + 10 * return_sequences)
            units_b = 5 if merge_mode == "concat" else 8  # concat may join different widths
            fwd = CellConfig("gru", 6, 8, activation="relu", lanes=2)
            bwd = CellConfig("gru", 6, units_b, activation="tanh", recurrent_activation="hard_sigmoid", reset_after=False, lanes=2)
            m = MergeConfig(merge_mode, F("ap_fixed<18,8,AP_RND,AP_SAT>"), lanes=2)
            wf = CellWeights.from_keras(fwd, *keras_weights(rng, fwd, 0.5))
            wb = CellWeights.from_keras(bwd, *keras_weights(rng, bwd, 0.5))
            cases[merge_mode, return_sequences] = (fwd, wf, bwd, wb, m, 12), (fwd, wf, bwd, wb, m, rng)
    return simulate_together(cases)


@pytest.mark.parametrize("merge_mode", MERGE_MODES)
@pytest.mark.parametrize("return_sequences", [True, False])
def test_bidirectional_merges(merge_mode, return_sequences, merge_layers):
    """Into the output port and into a compact store (split for concat: 8 forward units, so the backward half starts
    inside a mask word), bit for bit, cycle for cycle and word for word."""
    from masr_hls.numerics.sequences import sequence_words
    from masr_hls.reference.rnn_layer import output_split

    fwd, wf, bwd, wb, m, rng, sim = merge_layers[merge_mode, return_sequences]
    for t in (1, 12):
        x = frames(rng, fwd, t)
        for stores_output in (False, True):
            y, fs, bs, cycles = sim.bidirectional(x, return_sequences, stores_output)
            ry, rfs, rbs, rcycles = bidirectional(fwd, wf, bwd, wb, m, x, return_sequences, stores_output)
            np.testing.assert_array_equal(y, ry)
            assert (fs.as_tuple(), bs.as_tuple(), cycles) == (rfs.as_tuple(), rbs.as_tuple(), rcycles)
            assert y.shape == (t if return_sequences else 1, m.n_out(fwd, bwd))
            if stores_output:
                assert sim.out_written == sequence_words(ry, output_split(m, fwd, True))
        # A split store costs no merge pass: the layer is its slower sweep and done.
        split = merge_mode == "concat"
        assert (rcycles == max(rfs.cycles, rbs.cycles) + 1) == split


def test_bidirectional_with_different_cell_kinds():
    rng = np.random.default_rng(11)
    fwd = CellConfig("lstm", 9, 6, lanes=3)
    bwd = CellConfig("simple_rnn", 9, 6, activation="relu", lanes=3)
    m = MergeConfig("sum", F("ap_fixed<16,6>"), lanes=3)
    wf = CellWeights.from_keras(fwd, *keras_weights(rng, fwd, 0.5))
    wb = CellWeights.from_keras(bwd, *keras_weights(rng, bwd, 0.5))
    x = frames(rng, fwd, 7)
    y, *_ = RnnSim(fwd, wf, bwd, wb, m, max_frames=7).bidirectional(x)
    np.testing.assert_array_equal(y, bidirectional(fwd, wf, bwd, wb, m, x)[0])


def test_backward_sweep_is_forward_on_reversed_input():
    """A Keras semantics check on the reference itself: go_backwards reads frames last to first."""
    rng = np.random.default_rng(5)
    cfg = CellConfig("gru", 4, 3)
    w = CellWeights.from_keras(cfg, *keras_weights(rng, cfg, 1.0))
    x = frames(rng, cfg, 6, density=1.0)
    np.testing.assert_array_equal(rnn_layer(cfg, w, x, go_backwards=True)[0], rnn_layer(cfg, w, x[::-1])[0])
    y = bidirectional(cfg, w, cfg, w, MergeConfig("concat", cfg.state_t), x)[0]
    np.testing.assert_array_equal(y[:, 3:], rnn_layer(cfg, w, x[::-1])[0][::-1])  # backward half re-aligned


def test_reference_step_follows_keras_gru_equations():
    """The reference GRU at high precision agrees with the float equations Keras uses."""
    rng = np.random.default_rng(2)
    wide = dict(
        in_t="ap_fixed<32,8>",
        state_t="ap_fixed<32,8>",
        weight_t="ap_fixed<24,4>",
        recurrent_weight_t="ap_fixed<24,4>",
        bias_t="ap_fixed<24,4>",
        accum_t="ap_fixed<40,12,AP_RND,AP_WRAP>",
        gate_t="ap_fixed<20,2>",
        cand_t="ap_fixed<20,4>",
        act_n_log2=16,
        rec_n_log2=16,
    )
    for reset_after in (True, False):
        cfg = CellConfig("gru", 5, 4, reset_after=reset_after, **wide)
        k, r, b = keras_weights(rng, cfg, 1.0)
        w = CellWeights.from_keras(cfg, k, r, b)
        x, h = rng.normal(0, 1, 5), rng.normal(0, 0.5, 4)
        h_new, _, _ = step(cfg, w, cfg.in_t.quantize_float(x), cfg.state_t.quantize_float(h))
        bx, bh = (b[0], b[1]) if reset_after else (b, np.zeros_like(b))
        xz, xr, xh = np.split(x @ k + bx, 3)
        hz, hr, hh_ = np.split(h @ r + bh, 3)
        sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
        z, rr = sig(xz + hz), sig(xr + hr)
        cand = np.tanh(xh + rr * hh_) if reset_after else np.tanh(xh + (rr * h) @ r[:, 8:])
        expected = z * h + (1 - z) * cand
        np.testing.assert_allclose(cfg.state_t.to_float(h_new), expected, atol=2e-3)


def test_sequence_storage_counts_bits():
    x = np.array([[0, 3, 0], [0, 0, 0]])
    assert sequence_storage_bits(x, 16) == {"dense": 6 * 16, "bitmask": 6 + 16}


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(kind="rnn"), "unknown cell kind"),
        (dict(activation="sigmoid"), "unsupported activation"),
        (dict(recurrent_activation="tanh"), "unsupported recurrent_activation"),
        (dict(n_units=0), "n_units must be a positive integer"),
        (dict(lanes=0), "lanes must be a positive integer"),
        (dict(mode="sparse"), "unknown engine mode"),
        (dict(accum_t="ap_fixed<32,12,AP_RND,AP_SAT>"), "must be AP_WRAP"),
        (dict(act_n_log2=30), "n_log2"),
    ],
)
def test_bad_cell_config_is_refused(kwargs, match):
    args = dict(kind="gru", n_in=3, n_units=2) | kwargs
    with pytest.raises((ValueError, PrecisionError), match=match):
        CellConfig(**args)


def test_bad_weights_are_refused():
    cfg = CellConfig("gru", 3, 2)
    k, r, b = np.zeros((3, 6)), np.zeros((2, 6)), np.zeros((2, 6))
    with pytest.raises(ValueError, match="kernel has shape"):
        CellWeights.from_keras(cfg, np.zeros((6, 3)), r, b)
    with pytest.raises(ValueError, match="bias has shape"):
        CellWeights.from_keras(cfg, k, r, np.zeros(6))  # reset_after=True keeps two bias rows
    with pytest.raises(ValueError, match="NaN or Inf"):
        CellWeights.from_keras(cfg, k, np.full((2, 6), np.nan), b)
    with pytest.raises(ValueError, match="merge_mode"):
        MergeConfig("first", F("ap_fixed<16,6>"))
    with pytest.raises(ValueError, match="needs equal units"):
        c2 = CellConfig("gru", 3, 4)
        w2 = CellWeights.from_keras(c2, np.zeros((3, 12)), np.zeros((4, 12)), np.zeros((2, 12)))
        bidirectional(cfg, CellWeights.from_keras(cfg, k, r, b), c2, w2, MergeConfig("sum", F("ap_fixed<16,6>")), np.zeros((2, 3)))


def test_merge_pass_and_entry_cycles():
    """The merge goes through the output in index order (concat: one half after the other), and only the model's
    first layer waits for frame 0's encoding on entry (docs/arithmetic.md)."""
    from masr_hls.reference.rnn_layer import entry_cycles, merge_groups

    t = "ap_fixed<16,6>"
    assert merge_groups(MergeConfig("concat", t, lanes=4), 10, 6) == 3 + 2
    assert merge_groups(MergeConfig("sum", t, lanes=4), 10, 10) == 3
    assert merge_groups(MergeConfig("ave", t, lanes=16), 10, 10) == 1
    assert (entry_cycles(70, True), entry_cycles(70, False), entry_cycles(5, True)) == (3, 0, 1)


def test_split_store_words():
    """A split store (a concat layer's halves written apart) has each half's mask words: one more than a store of one
    part when the boundary falls inside a word (48 + 48: 4 against 3), none at multiples of 32."""
    from masr_hls.numerics.sequences import frame_words, mask_words, sequence_words, worst_case_bits
    from masr_hls.reference.rnn_layer import output_split, writes_halves

    assert (mask_words(96), mask_words(96, 48), mask_words(256, 128), mask_words(13, 8)) == (3, 4, 8, 2)
    frame = np.zeros(13, np.int64)
    frame[[0, 7, 8, 12]] = 1
    assert frame_words(frame) == 1 + 4 and frame_words(frame, split=8) == 2 + 4
    assert sequence_words(np.stack([frame, frame]), 8) == 12
    assert worst_case_bits(10, 96, 16, 48) - worst_case_bits(10, 96, 16) == 10 * 32
    for bad in (13, 20, -1):
        with pytest.raises(ValueError, match="cannot split"):
            mask_words(13, bad)
    fwd, t = CellConfig("gru", 3, 8), F("ap_fixed<16,6>")
    assert output_split(MergeConfig("concat", t), fwd, True) == 8 and writes_halves(MergeConfig("concat", t), True)
    assert output_split(MergeConfig("concat", t), fwd, False) == 0 == output_split(MergeConfig("sum", t), fwd, True)
