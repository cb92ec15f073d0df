"""masr_hls.fixed_point against the real ap_fixed headers, bit for bit."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from masr_hls.numerics.fixed_point import OVERFLOW_MODES, ROUNDING_MODES, FixedType, PrecisionError
from masr_hls.sim.module_sim import FixedPointSim

SOURCE = FixedType(60, 30)  # wide source: 30 integer and 30 fractional bits

# Every rounding x overflow mode, signed and unsigned, with widths from 1 to 32 and
# integer bits below zero, zero, inside and equal to the width.
SHAPES = [(1, 1), (1, 0), (5, 2), (8, 3), (8, -2), (12, 12), (16, 6), (20, 0), (32, 16), (24, 30 - 24)]
TYPES = []
for i, q in enumerate(ROUNDING_MODES):
    for j, o in enumerate(OVERFLOW_MODES):
        w, integer = SHAPES[(i * len(OVERFLOW_MODES) + j) % len(SHAPES)]
        TYPES.append(FixedType(w, integer, signed=(i + j) % 2 == 0, rounding=q, overflow=o))
TYPES += [FixedType(18, 8, True, "AP_RND_CONV", "AP_SAT_SYM"), FixedType(1, 1, False, "AP_RND", "AP_SAT_SYM")]


def edge_values(t: FixedType) -> np.ndarray:
    """Values where rounding and overflow decide: extremes, one LSB beyond, ties, huge."""
    lsb = t.lsb
    base = np.array([t.min_value, t.max_value, 0.0, -0.0, lsb, -lsb])
    near = np.concatenate([base + d for d in (-lsb, -lsb / 2, -lsb / 4, lsb / 4, lsb / 2, lsb)])
    ties = (np.arange(-8, 9) + 0.5) * lsb
    huge = np.array([2.0**29, -(2.0**29), 2.0 ** (t.integer + 3), -(2.0 ** (t.integer + 3)), 1e6, -1e6])
    return np.concatenate([base, near, ties, ties * 2.0 ** (t.width - 3), huge])


def assert_bit_exact(actual, expected, inputs, what):
    bad = np.flatnonzero(np.asarray(actual) != np.asarray(expected))
    assert bad.size == 0, f"{what}: input {inputs[bad[0]]!r} -> C++ raw {actual[bad[0]]}, reference raw {expected[bad[0]]}"


@pytest.mark.csim
@pytest.mark.parametrize("t", TYPES, ids=str)
def test_quantize_matches_ap_fixed(t):
    sim = FixedPointSim(SOURCE, t)
    rng = np.random.default_rng(t.width * 1000 + t.integer)
    span = 2.0 ** (t.integer + 1)
    x = np.concatenate([edge_values(t), rng.uniform(-span, span, 4000), rng.normal(0, 2.0 ** t.integer, 2000)])
    x = x[np.abs(x) < 2.0**29]  # inside SOURCE, so the raw path sees the same values
    assert_bit_exact(sim.from_double(x), t.quantize_float(x), x, f"double -> {t}")
    raw = SOURCE.quantize_float(x)
    assert_bit_exact(sim.from_raw(raw), t.quantize_raw(raw, SOURCE.frac), raw, f"{SOURCE} -> {t}")


@pytest.mark.csim
@settings(max_examples=12)
@given(
    width=st.integers(1, 32),
    integer=st.integers(-6, 32),
    signed=st.booleans(),
    rounding=st.sampled_from(ROUNDING_MODES),
    overflow=st.sampled_from(OVERFLOW_MODES),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_types_match_ap_fixed(width, integer, signed, rounding, overflow, seed):
    integer = min(integer, width)
    t = FixedType(width, integer, signed, rounding, overflow)
    rng = np.random.default_rng(seed)
    raw = rng.integers(-(2**50), 2**50, 3000) >> rng.integers(0, 50, 3000)
    sim = FixedPointSim(SOURCE, t)
    assert_bit_exact(sim.from_raw(raw), t.quantize_raw(raw, SOURCE.frac), raw, f"{SOURCE} -> {t}")
    x = SOURCE.to_float(raw)
    assert_bit_exact(sim.from_double(x), t.quantize_float(x), x, f"double -> {t}")


def test_rounding_modes_on_ties():
    t = lambda q: FixedType(8, 8, True, q, "AP_WRAP")  # integers
    x = np.array([2.5, 3.5, -2.5, -3.5, 2.25, -2.75])
    expected = {
        "AP_TRN": [2, 3, -3, -4, 2, -3],
        "AP_TRN_ZERO": [2, 3, -2, -3, 2, -2],
        "AP_RND": [3, 4, -2, -3, 2, -3],
        "AP_RND_ZERO": [2, 3, -2, -3, 2, -3],
        "AP_RND_MIN_INF": [2, 3, -3, -4, 2, -3],
        "AP_RND_INF": [3, 4, -3, -4, 2, -3],
        "AP_RND_CONV": [2, 4, -2, -4, 2, -3],
    }
    for q, want in expected.items():
        assert list(t(q).quantize_float(x)) == want, q


def test_overflow_modes():
    x = np.array([200.0, -200.0, -128.0, 128.0])
    assert list(FixedType(8, 8, overflow="AP_WRAP").quantize_float(x)) == [-56, 56, -128, -128]
    assert list(FixedType(8, 8, overflow="AP_SAT").quantize_float(x)) == [127, -128, -128, 127]
    assert list(FixedType(8, 8, overflow="AP_SAT_ZERO").quantize_float(x)) == [0, 0, -128, 0]
    assert list(FixedType(8, 8, overflow="AP_SAT_SYM").quantize_float(x)) == [127, -127, -127, 127]


def test_parse_and_render_round_trip():
    for text in ("ap_fixed<16,6>", "ap_ufixed<8,0,AP_RND,AP_SAT>", "fixed<18,8,AP_RND_CONV,AP_SAT_SYM>"):
        t = FixedType.parse(text)
        assert FixedType.parse(t.cpp()) == t
    assert FixedType.parse("ap_fixed<16,6>") == FixedType(16, 6, True, "AP_TRN", "AP_WRAP")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: FixedType(4, 6), "W=4 < I=6"),
        (lambda: FixedType(0, 0), "width must be an integer in 1..62"),
        (lambda: FixedType(70, 6), "width must be an integer in 1..62"),
        (lambda: FixedType(8, 3, rounding="AP_ROUND"), "unknown rounding mode 'AP_ROUND'"),
        (lambda: FixedType(8, 3, overflow="AP_CLAMP"), "unknown overflow mode 'AP_CLAMP'"),
        (lambda: FixedType.parse("float"), "cannot parse precision 'float'"),
        (lambda: FixedType.parse("ap_fixed<8,3,AP_RND,AP_SAT,2>"), "saturation bits"),
        (lambda: FixedType(8, 3).quantize_float([1.0, np.nan]), "non-finite"),
    ],
)
def test_bad_precisions_are_refused_clearly(make, message):
    with pytest.raises(PrecisionError, match=message):
        make()
