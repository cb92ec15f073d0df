"""The fast C simulation (templates/masr/fast_fixed.h) against ap_fixed, bit for bit.

Two levels: the type itself (every conversion, quantisation and overflow mode, the
exact operators and comparisons, on random raw values, in one C++ program that holds
both types), and whole models (test_convert.py's conversion matrix builds every model
fast and ap_fixed too, and asserts identical outputs and figures).
"""

import ctypes
import itertools

import numpy as np
import pytest

from masr_hls import toolchain
from masr_hls.numerics.fixed_point import OVERFLOW_MODES, ROUNDING_MODES

pytestmark = pytest.mark.csim

# (width, integer bits, signed): narrow, wide (int128 storage), coarse and fine grids.
SHAPES = [
    (16, 6, True),
    (8, 2, True),
    (16, 1, False),
    (12, 2, True),
    (20, 18, True),
    (32, 12, True),
    (1, 1, True),
    (7, 7, False),
    (40, 3, True),
    (63, 20, True),
    (64, 30, False),
    (64, 10, True),
    (5, 0, False),
    (24, 10, True),
]


def _fixed(w, i, signed, q="AP_TRN", o="AP_WRAP"):
    return f"{'ap_fixed' if signed else 'ap_ufixed'}<{w},{i},{q},{o}>", f"masr::fast_fixed<{w},{i},{q},{o},{'true' if signed else 'false'}>"


def _pairs(rng):
    """Source and destination types: every mode against several shapes."""
    pairs = []
    for q, o in itertools.product(ROUNDING_MODES, OVERFLOW_MODES):
        for _ in range(4):
            src = SHAPES[rng.integers(len(SHAPES))]
            dst = SHAPES[rng.integers(len(SHAPES))]
            pairs.append((src, dst + (q, o)))
    return pairs


def _program(pairs) -> str:
    body = [
        '#include "masr/raw_bits.h"',
        "#include <stdio.h>",
        "#ifndef MASR_FAST_FIXED_ENABLED",
        "#error the fast type must be enabled",
        "#endif",
        "#include <math.h>",
        # Doubles ap_fixed reads specially: zeros, subnormals, infinities, NaN (once per pair: ap_fixed warns),
        # ties, and magnitudes beyond every type.
        "static const double SPECIAL[] = {NAN, 0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, INFINITY,",
        "    -INFINITY, 1e300, -1e300, 1e-300, 0.5, -0.5, 1.5, -2.5, 0.375, -0.375, 9.2233720368547758e18,",
        "    -9.2233720368547758e18, 1.7e38, 3.0000000000000004, -1024.0009765625, 0.1, -0.1};",
        "static const int N_SPECIAL = sizeof(SPECIAL) / sizeof(SPECIAL[0]);",
        "template <class A, class F> long long same(const A &a, const F &f) {",
        "    return masr::to_raw(a) == masr::to_raw(f) ? 0 : 1; }",
    ]
    # One function per pair: g++ -O2 spends far longer on one function holding every pair.
    for k, (src, dst) in enumerate(pairs):
        sa, sf = _fixed(*src)
        da, df = _fixed(*dst)
        b_shape = SHAPES[(k * 5 + 3) % len(SHAPES)]
        ba, bf = _fixed(*b_shape)
        # ap_fixed compares an unsigned value with a negative signed one wrongly (5 < -4 is true);
        # the kernels compare values of one signedness only, so that is what is held equal here.
        compare = "        m += (a < b) != (af < bff); m += (a == b) != (af == bff); m += (a >= b) != (af >= bff);" if src[2] == b_shape[2] else ""
        body.append(f"""__attribute__((noinline)) static long long pair_{k}(const int64_t *raw, int n, int64_t *bad, long long mismatches) {{
    for (int i = 0; i < n; i++) {{
        typedef {sa} sa_t; typedef {sf} sf_t; typedef {da} da_t; typedef {df} df_t; typedef {ba} ba_t; typedef {bf} bf_t;
        const sa_t a = masr::from_raw<sa_t>(raw[i]); const sf_t af = masr::from_raw<sf_t>(raw[i]);
        const ba_t b = masr::from_raw<ba_t>(raw[n - 1 - i]); const bf_t bff = masr::from_raw<bf_t>(raw[n - 1 - i]);
        long long m = same(a, af) + same(b, bff);
        m += same(da_t(a), df_t(af));                    // conversion, every Q and O
        m += same(da_t(a + b), df_t(af + bff));          // exact sum, then quantised
        m += same(da_t(a - b), df_t(af - bff));
        m += same(da_t(a * b), df_t(af * bff));          // exact product, then quantised
        m += same(da_t(b - a * b), df_t(bff - af * bff));
        da_t acc = a; df_t accf = af; acc += b; accf += bff; m += same(acc, accf);
        acc = da_t(raw[i] % 1000); accf = df_t(raw[i] % 1000); m += same(acc, accf);  // from an integer
        const double d = (double)raw[i] / 4096.0; m += same(da_t(d), df_t(d));        // from a double
        const double s = SPECIAL[i < N_SPECIAL ? i : 1 + i % (N_SPECIAL - 1)]; m += same(da_t(s), df_t(s));
        const float fl = (float)d; m += same(da_t(fl), df_t(fl));                        // from a float
        m += (a > 0) != (af > 0); m += (a != 0) != (af != 0);
{compare}
        m += same(da_t(da_t(a) >> (int)(i % 5)), df_t(df_t(af) >> (int)(i % 5)));
        if (m) {{ if (mismatches == 0) {{ bad[0] = {k}; bad[1] = i; }} mismatches += m; }}
    }}
    return mismatches;
}}""")
    # To a double and a float: rounded from the raw value, whatever the modes, so once per shape.
    for j, shape in enumerate(SHAPES):
        sa, sf = _fixed(*shape)
        body.append(f"""__attribute__((noinline)) static long long shape_{j}(const int64_t *raw, int n, int64_t *bad, long long mismatches) {{
    for (int i = 0; i < n; i++) {{
        const {sa} a = masr::from_raw<{sa} >(raw[i]); const {sf} af = masr::from_raw<{sf} >(raw[i]);
        const long long m = (a.to_double() != af.to_double()) + (a.to_float() != af.to_float());
        if (m) {{ if (mismatches == 0) {{ bad[0] = {len(pairs) + j}; bad[1] = i; }} mismatches += m; }}
    }}
    return mismatches;
}}""")
    body += ['extern "C" long long run(const int64_t *raw, int n, int64_t *bad) {', "    long long mismatches = 0;"]
    body += [f"    mismatches = pair_{k}(raw, n, bad, mismatches);" for k in range(len(pairs))]
    body += [f"    mismatches = shape_{j}(raw, n, bad, mismatches);" for j in range(len(SHAPES))]
    body += ["    return mismatches;", "}"]
    return "\n".join(body) + "\n"


@pytest.mark.slow
def test_fast_fixed_equals_ap_fixed_on_every_mode():
    rng = np.random.default_rng(0)
    pairs = _pairs(rng)
    # -O0: the values compared are the language's, whatever the optimisation (the conversion matrix of
    # test_convert.py holds the -O2 kernels to the reference), and g++ builds this program in two thirds of the time.
    lib = toolchain.load(
        toolchain.build_library({"fast_vs_ap.cpp": _program(pairs)}, main="fast_vs_ap.cpp", name="tb_fast_vs_ap", arithmetic="fast", opt="-O0")
    )
    lib.run.restype = ctypes.c_longlong
    # Raw patterns of every magnitude (from_raw keeps the low W bits): extremes, small and random.
    raw = np.concatenate(
        [
            rng.integers(-(2**62), 2**62, 3000),
            rng.integers(-300, 300, 1000),
            np.array([0, 1, -1, 2**63 - 1, -(2**63), 2**15, -(2**15), 2**31 - 1, -(2**31)]),
            rng.integers(-(2**20), 2**20, 1000) << rng.integers(0, 40, 1000),
        ]
    ).astype(np.int64)
    bad = np.zeros(2, np.int64)
    mismatches = lib.run(toolchain.ptr(raw), ctypes.c_int(len(raw)), toolchain.ptr(bad))
    cases = pairs + [(shape, "to double and float") for shape in SHAPES]
    assert mismatches == 0, f"{mismatches} mismatches; first: types {cases[bad[0]]}, raw {raw[bad[1]]}"


def test_arithmetic_is_selected_by_a_flag():
    assert "-DMASR_FAST_CSIM" in toolchain.csim_flags("fast")
    assert "-DMASR_FAST_CSIM" not in toolchain.csim_flags("ap_fixed")
    assert "-O3" in toolchain.csim_flags("fast", "-O3")
    with pytest.raises(ValueError, match="arithmetic"):
        toolchain.csim_flags("float")
    probe = {
        "probe.cpp": '#include "masr/fast_fixed.h"\n#include <type_traits>\nextern "C" int fast() {\n'
        "    return !std::is_same<masr::fixed_t<16, 6>, ap_fixed<16, 6> >::value; }\n"
        'extern "C" int wide_is_ap() { return std::is_same<masr::fixed_t<96, 40>, ap_fixed<96, 40> >::value; }\n'
    }
    fast = toolchain.load(toolchain.build_library(probe, main="probe.cpp", name="tb_probe", arithmetic="fast"))
    slow = toolchain.load(toolchain.build_library(probe, main="probe.cpp", name="tb_probe", arithmetic="ap_fixed"))
    assert fast.fast() == 1 and slow.fast() == 0
    assert fast.wide_is_ap() == 1 and slow.wide_is_ap() == 1  # too wide for the fast path: ap_fixed in both


def test_threads_setting_is_checked(monkeypatch):
    monkeypatch.setenv(toolchain.THREADS_ENV, "3")
    assert toolchain.default_threads() == 3
    monkeypatch.setenv(toolchain.THREADS_ENV, "zero")
    with pytest.raises(ValueError, match=toolchain.THREADS_ENV):
        toolchain.default_threads()
