"""activation.h against masr_hls.activations (bit for bit) and against float (derived tolerance)."""

import numpy as np
import pytest

from masr_hls.csim.modules import ActivationSim
from masr_hls.numerics.activations import Activation, make_lut_table
from masr_hls.numerics.fixed_point import FixedType

F = FixedType.parse
INPUT_TYPES = [F("ap_fixed<16,6>"), F("ap_fixed<40,14>"), F("ap_fixed<8,8>"), F("ap_fixed<12,-1>"), F("ap_ufixed<10,4>")]
ACTIVATIONS = [
    Activation("sigmoid", F("ap_fixed<16,2,AP_RND,AP_SAT>")),
    Activation("tanh", F("ap_fixed<18,2,AP_RND_CONV,AP_SAT>"), n_log2=8, r_log2=2),
    Activation("tanh", F("ap_fixed<8,1,AP_TRN,AP_WRAP>"), n_log2=12, r_log2=4),
    Activation("sigmoid", F("ap_ufixed<10,0,AP_RND,AP_SAT>"), n_log2=6, r_log2=-1),
    Activation("hard_sigmoid", F("ap_fixed<16,2,AP_RND,AP_SAT>")),
    Activation("hard_sigmoid", F("ap_ufixed<8,0,AP_TRN,AP_SAT>")),  # 1.0 does not fit: saturates
    Activation("relu", F("ap_fixed<12,6,AP_RND_ZERO,AP_SAT>")),
    Activation("relu", F("ap_ufixed<6,2,AP_TRN,AP_WRAP>")),
    Activation("linear", F("ap_fixed<10,3,AP_RND_INF,AP_SAT_SYM>")),
]


def inputs(t: FixedType, act: Activation, rng) -> np.ndarray:
    """Random values plus every bin edge, the range ends and the type's extremes."""
    rand = rng.integers(t.min_raw, t.max_raw + 1, 4000)
    r = 2.0**act.r_log2
    edges = np.concatenate([np.linspace(-r, r, (1 << act.n_log2) + 1), [-3.0, 3.0, 0.0, 1.0, -1.0]])
    near = np.concatenate([edges - t.lsb, edges, edges + t.lsb])
    near = near[(near >= t.min_value) & (near <= t.max_value)]
    return np.concatenate([rand, t.quantize_float(near), [t.min_raw, t.max_raw]])


PAIRS = [(in_t, act) for in_t in INPUT_TYPES for act in ACTIVATIONS]


@pytest.fixture(scope="module")
def sims():
    return ActivationSim.many(PAIRS)


@pytest.mark.csim
@pytest.mark.parametrize("k", range(len(PAIRS)), ids=[f"{in_t}-{a.kind}-{a.out_t}" for in_t, a in PAIRS])
def test_cpp_equals_reference(k, sims):
    in_t, act = PAIRS[k]
    x = inputs(in_t, act, np.random.default_rng(in_t.width + act.n_log2))
    got, want = sims[k](x), act.apply(x, in_t.frac)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"x raw {x[bad[0]]} ({in_t}): C++ {got[bad[0]]} != reference {want[bad[0]]}"


FLOAT = {
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),  # Keras 3's definition
    "relu": lambda x: np.maximum(x, 0),
    "linear": lambda x: x,
}


@pytest.mark.parametrize("act", [a for a in ACTIVATIONS if a.out_t.overflow != "AP_WRAP"], ids=lambda a: f"{a.kind}-{a.out_t}")
def test_reference_is_close_to_float(act):
    """Inside the table range, |fixed - float| <= slope x half a bin + output rounding (Activation.error_bound)."""
    in_t = F("ap_fixed<24,6>")
    r = 2.0**act.r_log2 if act.uses_table else 4.0
    x = in_t.quantize_float(np.linspace(-r, r - in_t.lsb, 20001))
    exact = FLOAT[act.kind](in_t.to_float(x))
    lowest = -act.out_t.max_value if act.out_t.overflow == "AP_SAT_SYM" and act.out_t.signed else act.out_t.min_value
    exact = np.clip(exact, lowest, act.out_t.max_value)  # saturation is the type's, not an error
    err = np.abs(act.out_t.to_float(act.apply(x, in_t.frac)) - exact)
    assert err.max() <= act.error_bound(), (err.max(), act.error_bound())


def test_lut_saturates_outside_its_range():
    act = Activation("sigmoid", F("ap_fixed<16,2,AP_RND,AP_SAT>"), n_log2=4, r_log2=1)
    t = F("ap_fixed<16,8>")
    table = act.table()
    x = t.quantize_float([-100.0, -2.0 - t.lsb, -2.0, 2.0 - t.lsb, 2.0, 100.0])
    assert list(act.apply(x, t.frac)) == [table[0], table[0], table[0], table[-1], table[-1], table[-1]]


def test_table_holds_bin_centres():
    t = F("ap_fixed<18,2,AP_RND,AP_SAT>")
    table = make_lut_table("tanh", t, 2, 1)  # 4 bins over [-2, 2): centres -1.5, -0.5, 0.5, 1.5
    assert np.array_equal(table, t.quantize_float(np.tanh([-1.5, -0.5, 0.5, 1.5])))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Activation("swish", F("ap_fixed<16,6>")), "unknown activation 'swish'"),
        (lambda: Activation("tanh", F("ap_fixed<16,6>"), n_log2=0), "n_log2 must be in 1..16"),
        (lambda: Activation("tanh", F("ap_fixed<16,6>"), n_log2=2.5), "n_log2 must be an integer"),
        (lambda: Activation("sigmoid", F("ap_fixed<16,6>"), r_log2=20), "r_log2 must be in -4..8"),
        (lambda: make_lut_table("relu", F("ap_fixed<16,6>"), 4, 2), "no lookup table for activation 'relu'"),
    ],
)
def test_bad_activation_parameters(make, message):
    with pytest.raises(ValueError, match=message):
        make()
