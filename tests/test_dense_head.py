"""The dense head and the softmax: C++ equals the numpy reference bit for bit; numpy is within the derived tolerance of float."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from masr_hls.constants import HEAD_POST_DEPTH
from masr_hls.csim.modules import DenseHeadSim, SoftmaxSim
from masr_hls.numerics.bitmask import n_words
from masr_hls.numerics.fixed_point import FixedType, PrecisionError
from masr_hls.reference import dense_head as dh
from masr_hls.reference import softmax as sm

F = FixedType.parse

# ---------------------------------------------------------------- softmax
SOFTMAX_CONFIGS = [
    sm.SoftmaxConfig(10, F("ap_fixed<16,6>")),  # defaults: exp N=1024 over (-8, 0], inverse M=1024
    sm.SoftmaxConfig(1, F("ap_fixed<8,3,AP_RND,AP_SAT>")),
    sm.SoftmaxConfig(  # coarse tables, wide vector, several elements per cycle, wrapping output
        300,
        F("ap_ufixed<12,4>"),
        parallel=8,
        exp_n_log2=6,
        exp_r_log2=4,
        inv_n_log2=5,
        out_t=F("ap_fixed<10,2,AP_RND_CONV,AP_WRAP>"),
    ),
    sm.SoftmaxConfig(  # narrow types: a rounded, saturating sum; R = 1/4
        33,
        F("ap_fixed<20,2,AP_TRN,AP_SAT>"),
        exp_r_log2=-2,
        exp_t=F("ap_ufixed<12,1,AP_TRN>"),
        sum_t=F("ap_ufixed<10,7,AP_RND,AP_SAT>"),
        inv_t=F("ap_ufixed<9,2,AP_RND_INF>"),
        out_t=F("ap_ufixed<8,0,AP_RND_ZERO,AP_SAT>"),
        parallel=4,
    ),
    sm.SoftmaxConfig(7, F("ap_fixed<6,6>"), exp_r_log2=-2),  # R below one input LSB: only the maximum survives
    sm.SoftmaxConfig(  # the exp table is finer than the input grid; a sum with one fractional bit
        16,
        F("ap_fixed<8,6,AP_RND,AP_SAT>"),
        exp_n_log2=8,
        inv_n_log2=3,
        sum_t=F("ap_ufixed<6,5>"),
        out_t=F("ap_fixed<8,1,AP_RND_MIN_INF,AP_SAT_SYM>"),
    ),
    sm.SoftmaxConfig(  # a tiny input range: every distance is inside the table's first bin
        5, F("ap_fixed<8,-4>"), exp_n_log2=1, exp_r_log2=6, out_t=F("ap_fixed<12,2,AP_RND_INF,AP_SAT_ZERO>")
    ),
    sm.SoftmaxConfig(  # fine tables for the float comparison
        300,
        F("ap_fixed<24,8,AP_RND,AP_SAT>"),
        exp_t=F("ap_ufixed<24,1,AP_RND>"),
        inv_t=F("ap_ufixed<24,1,AP_RND>"),
        out_t=F("ap_ufixed<20,1,AP_RND,AP_SAT>"),
        exp_n_log2=14,
        exp_r_log2=4,
        inv_n_log2=12,
    ),
]
_softmax_sims = {}


def softmax_sim(cfg):
    """One build per config; the first call builds every config of SOFTMAX_CONFIGS together (one g++ run)."""
    if not _softmax_sims:
        _softmax_sims.update(zip(SOFTMAX_CONFIGS, SoftmaxSim.many([(c,) for c in SOFTMAX_CONFIGS])))
    if cfg not in _softmax_sims:
        _softmax_sims[cfg] = SoftmaxSim(cfg)
    return _softmax_sims[cfg]


def softmax_inputs(rng, cfg, frames):
    """Rows of several kinds: uniform over the type, clustered below a maximum, constant, one-hot."""
    t = cfg.in_t
    x = rng.integers(t.min_raw, t.max_raw + 1, (frames, cfg.n), dtype=np.int64)
    r_raw = max(1, int(2.0 ** (cfg.exp_r_log2 + t.frac)))
    for row in range(frames):
        kind = rng.integers(5)
        if kind == 1:  # distances to the maximum spread over the table and just past it
            top = rng.integers(t.min_raw, t.max_raw + 1)
            x[row] = top - np.abs(rng.normal(0, rng.choice([0.1, 0.5, 1.5]) * r_raw, cfg.n)).astype(np.int64)
        elif kind == 2:
            x[row] = rng.integers(t.min_raw, t.max_raw + 1)
        elif kind == 3:
            x[row] = t.min_raw
            x[row, rng.integers(cfg.n)] = t.max_raw
    return np.clip(x, t.min_raw, t.max_raw)


@pytest.mark.csim
@settings(max_examples=30)
@given(index=st.integers(0, len(SOFTMAX_CONFIGS) - 1), frames=st.integers(1, 20), seed=st.integers(0, 2**32 - 1))
def test_softmax_equals_reference(index, frames, seed):
    cfg = SOFTMAX_CONFIGS[index]
    x = softmax_inputs(np.random.default_rng(seed), cfg, frames)
    y, cycles = softmax_sim(cfg).run(x)
    steps = sm.softmax_steps(cfg, x)
    bad = np.argwhere(y != steps["y"])
    assert bad.size == 0, f"frame, element {bad[0]}: C++ {y[tuple(bad[0])]} != reference {steps['y'][tuple(bad[0])]}"
    assert np.all(cycles == sm.softmax_cycles(cfg))
    assert np.all(steps["sum"] >= 1 << cfg.sum_t.frac), "the sum is at least 1: the maximum contributes exactly 1"


@pytest.mark.csim
def test_softmax_edge_rows():
    cfg = SOFTMAX_CONFIGS[0]
    t = cfg.in_t
    x = np.array(
        [
            np.full(cfg.n, t.max_raw),  # all equal: s = n, y = 1/n
            np.full(cfg.n, t.min_raw),
            np.r_[t.max_raw, np.full(cfg.n - 1, t.min_raw)],  # one-hot: y = (1, 0, ...)
            np.r_[np.full(cfg.n - 1, 0), 1],  # one LSB apart: the first table bin
        ]
    )
    y, _ = softmax_sim(cfg).run(x)
    assert np.array_equal(y, sm.softmax(cfg, x))
    one = 1 << cfg.out_t.frac
    assert np.array_equal(y[2], np.r_[one, np.zeros(cfg.n - 1, np.int64)]), "a saturated softmax gives exactly 1 and 0"
    assert np.all(np.abs(cfg.out_t.to_float(y[0]) - 1 / cfg.n) <= sm.tolerance(cfg))


@pytest.mark.parametrize("index", [0, 7])
def test_softmax_within_derived_tolerance_of_float(index):
    cfg = SOFTMAX_CONFIGS[index]
    tol = sm.tolerance(cfg)
    assert tol < 0.02, f"the tolerance derived for {cfg} is too loose to mean anything: {tol}"
    x = softmax_inputs(np.random.default_rng(index), cfg, 200)
    err = np.abs(cfg.out_t.to_float(sm.softmax(cfg, x)) - sm.softmax_float(cfg.in_t.to_float(x)))
    assert err.max() <= tol, (err.max(), tol)


def test_softmax_tolerance_tail_term_is_needed():
    """Many elements just past R each lose exp(-R): the n exp(-R) term in the bound is real."""
    cfg = sm.SoftmaxConfig(300, F("ap_fixed<24,8,AP_RND,AP_SAT>"), exp_r_log2=3)
    d = int(8.01 * 2**cfg.in_t.frac)
    x = np.r_[0, np.full(cfg.n - 1, -d)][None, :]
    err = np.abs(cfg.out_t.to_float(sm.softmax(cfg, x)) - sm.softmax_float(cfg.in_t.to_float(x))).max()
    assert 0.05 < err <= sm.tolerance(cfg)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n=0), "n must be a positive integer"),
        (dict(parallel=0), "parallel must be a positive integer"),
        (dict(exp_t=F("ap_fixed<18,2>")), "exp_t .* must be an ap_ufixed that holds 1"),
        (dict(inv_t=F("ap_ufixed<18,0>")), "inv_t .* must be an ap_ufixed that holds 1"),
        (dict(n=300, sum_t=F("ap_ufixed<12,8>")), "sum_t .* holds the largest sum, n = 300"),
        (dict(exp_n_log2=0), "exp_n_log2 must be an integer in 1..16"),
        (dict(exp_r_log2=7), "exp_r_log2 must be an integer in -2..6"),
        (dict(in_t=F("ap_fixed<63,20>")), "in_t .* at most 62 bits"),
    ],
)
def test_bad_softmax_configs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sm.SoftmaxConfig(**{"n": 10, "in_t": F("ap_fixed<16,6>"), **kwargs})


def test_softmax_rejects_bad_inputs_and_tables():
    cfg = SOFTMAX_CONFIGS[0]
    with pytest.raises(ValueError, match="softmax over 10 elements got input of shape"):
        sm.softmax(cfg, np.zeros((2, 9), np.int64))
    with pytest.raises(ValueError, match="exp table must have 1024 entries"):
        sm.softmax(cfg, np.zeros((2, 10), np.int64), exp_tab=np.zeros(10, np.int64))


# -------------------------------------------------------------- dense head

HEAD_PRECISIONS = [  # in, weight, bias, accum, out; accumulators coarser than products so rounding is exercised
    (
        "ap_fixed<12,4,AP_RND,AP_SAT>",
        "ap_fixed<8,2,AP_RND,AP_SAT>",
        "ap_fixed<10,3,AP_RND_CONV,AP_SAT>",
        "ap_fixed<20,10,AP_RND_CONV,AP_WRAP>",
        "ap_fixed<10,4,AP_RND,AP_SAT>",
    ),
    ("ap_fixed<16,6>", "ap_fixed<16,6>", "ap_fixed<16,6>", "ap_fixed<32,12>", "ap_fixed<16,6>"),
    # narrow: the accumulator and the output wrap; the bias is finer than the accumulator
    (
        "ap_ufixed<6,3,AP_RND_INF,AP_SAT>",
        "ap_fixed<4,1,AP_TRN_ZERO,AP_SAT_SYM>",
        "ap_fixed<12,2,AP_RND_ZERO,AP_WRAP>",
        "ap_fixed<8,4,AP_RND_ZERO,AP_WRAP>",
        "ap_fixed<6,2,AP_RND_MIN_INF,AP_WRAP>",
    ),
    (
        "ap_fixed<18,8,AP_TRN,AP_SAT_ZERO>",
        "ap_fixed<18,2,AP_RND_MIN_INF,AP_WRAP>",
        "ap_fixed<8,8>",
        "ap_fixed<40,24,AP_TRN_ZERO,AP_WRAP>",
        "ap_ufixed<16,8,AP_RND_CONV,AP_SAT>",
    ),
]
HEADS = [  # n_out, n_in, lanes, macs_per_lane, precision, activation, extra
    (1, 1, 1, 1, 0, "linear", {}),
    (3, 300, 64, 1, 1, "relu", {}),  # more lanes than rows
    (300, 7, 16, 4, 0, "sigmoid", dict(table_t=F("ap_ufixed<12,0,AP_RND,AP_SAT>"))),
    (45, 70, 4, 2, 2, "tanh", dict(table_n_log2=6, table_r_log2=1)),
    (96, 128, 8, 8, 3, "hard_sigmoid", dict(scan_words=1)),
    (257, 33, 3, 1, 1, "relu", dict(mode="weight_sparse")),
]
DENSITIES = [0.0, 0.1, 0.5, 1.0]
MAX_FRAMES = 50


def head_config(index, **overrides):
    n_out, n_in, lanes, macs, p, activation, extra = HEADS[index]
    in_t, w_t, b_t, acc_t, out_t = (F(s) for s in HEAD_PRECISIONS[p])
    kwargs = dict(activation=activation, lanes=lanes, macs_per_lane=macs, max_frames=MAX_FRAMES, **extra)
    return dh.DenseHeadConfig(n_in, n_out, in_t, w_t, b_t, acc_t, out_t, **{**kwargs, **overrides})


_head_sims = {}


def head_sim(cfg, weights):
    """One build per config, its lane banks sized for any weights of that shape; re-loaded per case.

    The first call builds every configuration of HEADS together (one g++ run).
    """
    if not _head_sims:
        cfgs = [head_config(i) for i in range(len(HEADS))]
        setups = [(c, random_head(np.random.default_rng(0), c, 0.0), c.n_out, c.n_out * c.n_in) for c in cfgs]
        _head_sims.update(zip(cfgs, DenseHeadSim.many(setups)))
    if cfg not in _head_sims:
        _head_sims[cfg] = DenseHeadSim(cfg, weights, max_lane_rows=cfg.n_out, max_lane_nnz=cfg.n_out * cfg.n_in)
    sim = _head_sims[cfg]
    sim.load(weights)
    return sim


def random_head(rng, cfg, w_density, strategy="balanced"):
    w = cfg.weight_t.quantize_float(rng.normal(0, 2, (cfg.n_out, cfg.n_in)) * (rng.random((cfg.n_out, cfg.n_in)) < w_density))
    if cfg.n_out > 2 and cfg.n_in > 2:  # an all-zero row and an all-zero column
        w[rng.integers(cfg.n_out)] = 0
        w[:, rng.integers(cfg.n_in)] = 0
    b = cfg.bias_t.quantize_float(rng.normal(0, 4, cfg.n_out))
    return dh.encode_weights(cfg, w, b, strategy)


def random_frames(rng, cfg, a_density, frames):
    t = cfg.in_t
    span = max(abs(t.min_value), t.max_value)
    return t.quantize_float(rng.uniform(-span, span, (frames, cfg.n_in)) * (rng.random((frames, cfg.n_in)) < a_density))


def check_head(cfg, weights, x):
    y, stats = head_sim(cfg, weights).run(x)
    expected = dh.dense_head(cfg, weights, x)
    bad = np.argwhere(y != expected)
    assert bad.size == 0, f"frame, row {bad[0]}: C++ {y[tuple(bad[0])]} != reference {expected[tuple(bad[0])]} ({cfg})"
    ref_stats = dh.dense_head_stats(cfg, weights, x)
    assert [s.as_tuple() for s in stats] == [s.as_tuple() for s in ref_stats]
    return y, stats


@pytest.mark.csim
@settings(max_examples=40)
@given(
    index=st.integers(0, len(HEADS) - 1),
    w_density=st.sampled_from(DENSITIES),
    a_density=st.sampled_from(DENSITIES),
    strategy=st.sampled_from(["balanced", "interleaved"]),
    frames=st.integers(1, MAX_FRAMES),
    seed=st.integers(0, 2**32 - 1),
)
def test_head_equals_reference(index, w_density, a_density, strategy, frames, seed):
    cfg = head_config(index)
    rng = np.random.default_rng(seed)
    check_head(cfg, random_head(rng, cfg, w_density, strategy), random_frames(rng, cfg, a_density, frames))


@pytest.mark.csim
@pytest.mark.parametrize("index", [1, 3])
def test_head_modes_compute_the_same(index):
    rng = np.random.default_rng(index)
    results = {}
    for mode in ("dense", "weight_sparse", "masr"):
        cfg = head_config(index, mode=mode)
        rng = np.random.default_rng(index)
        weights = random_head(rng, cfg, 0.5)
        results[mode] = check_head(cfg, weights, random_frames(rng, cfg, 0.5, 7))
    assert np.array_equal(results["dense"][0], results["masr"][0])
    assert np.array_equal(results["weight_sparse"][0], results["masr"][0])
    for dense, weight, masr in zip(*(results[m][1] for m in ("dense", "weight_sparse", "masr"))):
        assert dense.pairs == weight.pairs == masr.pairs == masr.issued
        assert dense.issued >= weight.issued >= masr.issued
        assert dense.cycles >= masr.cycles


@pytest.mark.csim
def test_head_time_distributed_frames_are_independent():
    cfg = head_config(3)
    rng = np.random.default_rng(11)
    weights = random_head(rng, cfg, 0.5)
    x = random_frames(rng, cfg, 0.5, MAX_FRAMES)
    x[7] = 0  # a silent frame: no pairs, the shortest engine time
    y, stats = check_head(cfg, weights, x)
    for t in (0, 7, MAX_FRAMES - 1):
        y1, s1 = head_sim(cfg, weights).run(x[t : t + 1])
        assert np.array_equal(y1[0], y[t]) and s1[0].as_tuple() == stats[t].as_tuple()
    post = -(-cfg.n_out // cfg.lanes) + HEAD_POST_DEPTH
    for s in stats:
        assert s.encode_cycles == n_words(cfg.n_in) and s.post_cycles == post
        assert s.cycles == s.encode_cycles + s.engine_cycles + s.post_cycles
    assert stats[7].pairs == 0 and stats[7].cycles == min(s.cycles for s in stats)
    with pytest.raises(ValueError, match="expected at most 50 frames"):
        head_sim(cfg, weights).run(np.zeros((MAX_FRAMES + 1, cfg.n_in), np.int64))


@pytest.mark.csim
def test_head_with_compiled_in_weights():
    """The constant arrays a generated project holds (render_weights) compute what run-time loading computes."""
    cfg = head_config(2, max_frames=4)
    rng = np.random.default_rng(5)
    weights = random_head(rng, cfg, 0.3)
    x = random_frames(rng, cfg, 0.5, 4)
    y, _ = DenseHeadSim(cfg, weights, const_weights=True).run(x)
    assert np.array_equal(y, dh.dense_head(cfg, weights, x))


ACCURATE = ("ap_fixed<16,4,AP_RND,AP_SAT>", "ap_fixed<12,2,AP_RND,AP_SAT>", "ap_fixed<12,2,AP_RND,AP_SAT>", "ap_fixed<32,12,AP_RND,AP_WRAP>")


@pytest.mark.parametrize("activation", list(dh.ACTIVATIONS))
def test_head_within_derived_tolerance_of_float(activation):
    in_t, w_t, b_t, acc_t = (F(s) for s in ACCURATE)
    out_t = F("ap_fixed<16,4,AP_RND,AP_SAT>")
    cfg = dh.DenseHeadConfig(64, 40, in_t, w_t, b_t, acc_t, out_t, activation=activation, lanes=4)
    rng = np.random.default_rng(1)
    kernel = rng.normal(0, 0.3, (64, 40)) * (rng.random((64, 40)) < 0.5)
    weights = dh.quantize_weights(cfg, kernel, rng.normal(0, 0.5, 40))
    x = in_t.quantize_float(rng.uniform(-2, 2, (30, 64)) * (rng.random((30, 64)) < 0.5))
    y = out_t.to_float(dh.dense_head(cfg, weights, x))
    ideal = dh.dense_head_float(w_t.to_float(weights.w_raw).T, b_t.to_float(weights.b_raw), in_t.to_float(x), activation)
    tol = dh.tolerance(cfg)
    assert tol < 0.05, tol
    assert np.abs(y - ideal).max() <= tol, (np.abs(y - ideal).max(), tol)


def test_head_reference_skips_nothing_that_matters():
    """Zero weights or zero activations never change the reference result (the sparse modes' premise)."""
    cfg = head_config(1)
    rng = np.random.default_rng(2)
    weights = random_head(rng, cfg, 0.5)
    x = random_frames(rng, cfg, 0.5, 3)
    z = dh.dense_head_steps(cfg, weights, x)["acc"]
    nz = x != 0
    for t in range(3):
        sub = dh.dense_head_steps(cfg, weights, x[t : t + 1])["acc"][0]
        assert np.array_equal(sub, z[t])
        assert dh.dense_head_stats(cfg, weights, x[t : t + 1])[0].pairs == int(((weights.w_raw != 0) & nz[t]).sum())


BASE = dict(
    n_in=4,
    n_out=3,
    in_t=F("ap_fixed<16,6>"),
    weight_t=F("ap_fixed<16,6>"),
    bias_t=F("ap_fixed<16,6>"),
    accum_t=F("ap_fixed<32,12>"),
    out_t=F("ap_fixed<16,6>"),
)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(lanes=0), ValueError, "lanes must be a positive integer, got 0"),
        (dict(n_out=0), ValueError, "n_out must be a positive integer"),
        (dict(max_frames=0), ValueError, "max_frames must be a positive integer"),
        (dict(activation="swish"), ValueError, "unknown dense head activation 'swish'"),
        (dict(activation="softmax"), ValueError, "followed by masr_hls.softmax"),
        (dict(mode="sparse"), ValueError, "unknown engine mode 'sparse'"),
        (dict(accum_t=F("ap_fixed<32,12,AP_TRN,AP_SAT>")), PrecisionError, "overflow must be AP_WRAP"),
        (dict(in_t="ap_fixed<4,6>"), PrecisionError, "W=4 < I=6"),
    ],
)
def test_bad_head_configs(kwargs, error, message):
    with pytest.raises(error, match=message):
        dh.DenseHeadConfig(**{**BASE, **kwargs})


def test_bad_head_parameters():
    cfg = dh.DenseHeadConfig(**BASE)
    with pytest.raises(ValueError, match=r"weights must be n_out x n_in = 3 x 4 \(the Keras kernel transposed\), got shape \(4, 3\)"):
        dh.encode_weights(cfg, np.zeros((4, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\), got \(4,\)"):
        dh.encode_weights(cfg, np.zeros((3, 4)), np.zeros(4))
    with pytest.raises(ValueError, match=r"Keras Dense kernel must be n_in x n_out = 4 x 3, got shape \(3, 4\)"):
        dh.quantize_weights(cfg, np.zeros((3, 4)), np.zeros(3))
    with pytest.raises(ValueError, match="unknown lane assignment strategy"):
        dh.encode_weights(cfg, np.zeros((3, 4)), np.zeros(3), strategy="random")
    weights = dh.quantize_weights(cfg, np.ones((4, 3)), np.ones(3))
    with pytest.raises(ValueError, match=r"input must be frames x n_in \(n_in = 4\), got shape \(2, 5\)"):
        dh.dense_head(cfg, weights, np.zeros((2, 5), np.int64))


W32 = "ap_fixed<32,14,AP_RND,AP_SAT>"


WIDE_ACCUMULATORS = ["ap_fixed<48,20,AP_RND,AP_WRAP>", "ap_fixed<96,40,AP_TRN,AP_WRAP>"]
WIDE_ACTIVATIONS = ["linear", "relu", "sigmoid", "hard_sigmoid"]


@pytest.fixture(scope="module")
def wide_heads():
    """Every wide case's config, weights, random stream and simulation: the simulations from one library, which
    compiles their shared ap_fixed arithmetic past 64 bits once."""
    cases = {}
    for activation in WIDE_ACTIVATIONS:
        for accum_t in WIDE_ACCUMULATORS:
            rng = np.random.default_rng(len(activation) + len(accum_t))
            cfg = dh.DenseHeadConfig(20, 7, F(W32), F(W32), F(W32), F(accum_t), F(W32), activation=activation, table_t=F(W32), lanes=3, max_frames=6)
            cases[activation, accum_t] = cfg, random_head(rng, cfg, 0.8), rng
    sims = DenseHeadSim.many([(cfg, weights) for cfg, weights, _ in cases.values()])
    return {case: (*cases[case], sim) for case, sim in zip(cases, sims)}


@pytest.mark.parametrize("accum_t", WIDE_ACCUMULATORS)
@pytest.mark.parametrize("activation", WIDE_ACTIVATIONS)
def test_head_at_wide_precisions(activation, accum_t, wide_heads):
    """in, weight, bias, output and table at ap_fixed<32,14>: 64-bit products, accumulators past int64."""
    cfg, weights, rng, sim = wide_heads[activation, accum_t]
    assert cfg.mxv.product_bits > 62
    x = cfg.in_t.quantize_float(rng.normal(0, 3, (6, cfg.n_in)))
    y, _ = sim.run(x)
    np.testing.assert_array_equal(y, dh.dense_head(cfg, weights, x))
    assert len(np.unique(y)) > 5


@pytest.mark.parametrize("in_t, out_t", [(W32, "ap_ufixed<32,1,AP_RND,AP_SAT>"), ("ap_fixed<62,28,AP_RND,AP_SAT>", "ap_ufixed<40,1,AP_RND,AP_SAT>")])
def test_softmax_at_wide_precisions(in_t, out_t):
    cfg = sm.SoftmaxConfig(12, F(in_t), exp_t=F("ap_ufixed<40,1,AP_RND>"), inv_t=F("ap_ufixed<30,1,AP_RND>"), out_t=F(out_t))
    rng = np.random.default_rng(cfg.in_t.width)
    x = cfg.in_t.quantize_float(rng.normal(0, 3, (40, cfg.n)))
    y, _ = softmax_sim(cfg).run(x)
    np.testing.assert_array_equal(y, sm.softmax(cfg, x))
