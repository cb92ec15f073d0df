"""masr_hls.fixed_point against the real ap_fixed headers, bit for bit."""

import ctypes
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from masr_hls import toolchain
from masr_hls.csim.modules import FixedPointSim
from masr_hls.numerics.fixed_point import OVERFLOW_MODES, ROUNDING_MODES, FixedType, PrecisionError, wide

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


def multi_type_sim(src: FixedType, types: list[FixedType]):
    """One library converting ``src`` raw values and doubles to each of ``types``: one compile for all.

    Built at -O0 (as Vitis' csim builds by default): it holds numpy to ap_fixed itself, whose results do not
    depend on the optimisation, and the many types make g++'s optimiser the larger part of the compile.
    """
    body = ['#include "ap_fixed.h"\n#include "masr/raw_bits.h"\nextern "C" {']
    for k, t in enumerate(types):
        body.append(
            f"void from_raw_{k}(const int64_t *x, int n, int64_t *out) {{ for (int i = 0; i < n; i++) "
            f"out[i] = masr::to_raw({t.cpp()}(masr::from_raw<{src.cpp()}>(x[i]))); }}\n"
            f"void from_double_{k}(const double *x, int n, int64_t *out) {{ for (int i = 0; i < n; i++) "
            f"out[i] = masr::to_raw({t.cpp()}(x[i])); }}"
        )
    lib = toolchain.load(
        toolchain.build_library({"many_types.cpp": "\n".join(body) + "\n}\n"}, main="many_types.cpp", name="tb_many_types", opt="-O0")
    )

    def run(kind, k, values, ctype):
        values = np.ascontiguousarray(values)
        out = np.zeros(values.size, np.int64)
        getattr(lib, f"{kind}_{k}")(toolchain.ptr(values, ctype), ctypes.c_int(values.size), toolchain.ptr(out))
        return out

    return run


@pytest.fixture(scope="module")
def types_sim():
    return multi_type_sim(SOURCE, TYPES)


@pytest.mark.csim
@pytest.mark.parametrize("k", range(len(TYPES)), ids=[str(t) for t in TYPES])
def test_quantize_matches_ap_fixed(k, types_sim):
    t = TYPES[k]
    rng = np.random.default_rng(t.width * 1000 + t.integer)
    span = 2.0 ** (t.integer + 1)
    x = np.concatenate([edge_values(t), rng.uniform(-span, span, 4000), rng.normal(0, 2.0**t.integer, 2000)])
    x = x[np.abs(x) < 2.0**29]  # inside SOURCE, so the raw path sees the same values
    assert_bit_exact(types_sim("from_double", k, x, ctypes.c_double), t.quantize_float(x), x, f"double -> {t}")
    raw = SOURCE.quantize_float(x)
    assert_bit_exact(types_sim("from_raw", k, raw, ctypes.c_int64), t.quantize_raw(raw, SOURCE.frac), raw, f"{SOURCE} -> {t}")


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
        (lambda: FixedType(0, 0), "width must be an integer in 1..1024"),
        (lambda: FixedType(1025, 6), "width must be an integer in 1..1024"),
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


def test_one_bit_sat_sym_saturates_to_minus_one():
    """ap_fixed<1,...,AP_SAT_SYM>: the underflow code is min | 1, which with one bit is min itself (-1).

    The case CI found: ap_fixed<60,30,AP_TRN,AP_WRAP> -> ap_fixed<1,0,AP_TRN,AP_SAT_SYM>,
    input raw -2024977480682 (about -1886), which ap_types stores as raw -1.
    """
    t = FixedType(1, 0, True, "AP_TRN", "AP_SAT_SYM")
    raw = np.array([-2024977480682, 2024977480682, -1, 0, 1])
    assert list(t.quantize_raw(raw, SOURCE.frac)) == [-1, 0, -1, 0, 0]
    assert list(t.quantize_float(SOURCE.to_float(raw))) == [-1, 0, -1, 0, 0]
    assert list(FixedType(2, 2, True, "AP_TRN", "AP_SAT_SYM").quantize_float([-5.0, -2.0, 5.0])) == [-1, -1, 1]


TINY_TYPES = [
    FixedType(w, i, signed, q, o)
    for w in (1, 2)
    for i in (-2, 0, 1, w)
    for signed in (True, False)
    for q in ("AP_TRN", "AP_RND", "AP_TRN_ZERO", "AP_RND_CONV")
    for o in OVERFLOW_MODES
    if i <= w
]


@pytest.mark.csim
@pytest.mark.slow
def test_one_and_two_bit_types_match_ap_fixed():
    """Every 1- and 2-bit type (signed, unsigned, every overflow mode): around the codes, and far out."""
    run = multi_type_sim(SOURCE, TINY_TYPES)
    near = np.arange(-40, 41) << (SOURCE.frac - 3)  # -5 .. 5 in steps of 1/8
    raw = np.concatenate([near, near + 1, near - 1, [-2024977480682, 2024977480682, -(2**59), 2**59 - 1]])
    x = SOURCE.to_float(raw)
    for k, t in enumerate(TINY_TYPES):
        assert_bit_exact(run("from_raw", k, raw, ctypes.c_int64), t.quantize_raw(raw, SOURCE.frac), raw, f"{SOURCE} -> {t}")
        assert_bit_exact(run("from_double", k, x, ctypes.c_double), t.quantize_float(x), x, f"double -> {t}")


@pytest.mark.parametrize("t", TYPES, ids=str)
def test_python_integer_path_equals_int64_path(t):
    """The exact path (object arrays) rounds and overflows exactly like the int64 one."""
    rng = np.random.default_rng(t.width)
    raw = rng.integers(-(2**50), 2**50, 3000) >> rng.integers(0, 50, 3000)
    for frac in (SOURCE.frac, t.frac, t.frac - 3):
        expected = t.quantize_raw(raw, frac)
        exact = t.quantize_raw(wide(raw), frac)
        assert exact.dtype == np.int64 and np.array_equal(exact, expected), (t, frac)


WIDE_TYPES = [
    FixedType(w, i, True, q, o) for (w, i), q, o in zip([(63, 20), (64, 28), (64, 40), (64, 64), (63, 0)] * 6, ROUNDING_MODES * 4, OVERFLOW_MODES * 7)
]


@pytest.mark.csim
def test_wide_types_match_ap_fixed():
    """63- and 64-bit types (the widest the int64 bridge carries) from 64-bit raw values and from doubles."""
    src = FixedType(64, 30)
    run = multi_type_sim(src, WIDE_TYPES)
    rng = np.random.default_rng(64)
    raw = np.concatenate([rng.integers(-(2**63), 2**63 - 1, 2000, dtype=np.int64), [-(2**63), 2**63 - 1, -1, 0, 1]])
    raw = np.concatenate([raw, raw >> rng.integers(0, 63, raw.size)])
    x = np.concatenate([src.to_float(raw), [2.0**40, -(2.0**40), 1e30, -1e30, 2.0**-60]])
    for k, t in enumerate(WIDE_TYPES):
        assert_bit_exact(run("from_raw", k, raw, ctypes.c_int64), t.quantize_raw(raw, src.frac), raw, f"{src} -> {t}")
        assert_bit_exact(run("from_double", k, x, ctypes.c_double), t.quantize_float(x), x, f"double -> {t}")


def test_1024_bit_types_are_exact():
    """Values beyond int64 and doubles' 2**1023 scale: exact Python-integer results."""
    t = FixedType(1024, 24, True, "AP_RND", "AP_SAT")
    raw = t.quantize_float([0.1, -3.0, 1e6, 2.0**-1000])
    assert raw.dtype == object
    assert raw[0] == Fraction(0.1) * 2**1000  # the double 0.1 is a multiple of 2**-56: exact on this grid
    assert raw[1] == -3 << 1000 and raw[2] == 10**6 << 1000 and raw[3] == 1
    assert t.quantize_float([1e300])[0] == t.max_raw  # saturates
    narrow = FixedType(16, 6, True, "AP_RND", "AP_SAT").quantize_raw(raw, t.frac)
    assert narrow.dtype == np.int64 and list(narrow) == [102, -3072, 32767, 0]
    assert t.to_float(raw)[1] == -3.0
