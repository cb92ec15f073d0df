"""The synthesis-view check of the HLS C++ (masr_hls.sim.hls_lint): clean headers pass, planted violations fail."""

import pytest

from masr_hls.cli.main import main
from masr_hls.sim import hls_lint

pytestmark = pytest.mark.csim


def test_every_header_passes():
    result = hls_lint.lint_headers()
    assert len(result.checked) == len(hls_lint.header_paths()) >= 9
    assert result.ok, result.summary()


def test_command_line(capsys):
    assert main(["lint-hls"]) == 0
    assert "0 violations" in capsys.readouterr().out


# The engine as it was before the dataflow rewrite: a data-dependent while loop inside a
# pipelined loop, long long counters in the synthesised function.
OLD_ENGINE = """
#include "masr/bitmask.h"
namespace masr {
struct old_stats { long long pairs; long long cycles; };
template <int N>
void old_mxv(const mask_word_t wm[N], const mask_word_t am[N], int acc[1], old_stats &stats) {
WORDS:
    for (int k = 0; k < N; k++) {
#pragma HLS PIPELINE II = 1
        mask_word_t todo = wm[k] & am[k];
        stats.pairs += popcount(todo);
        while (todo) {
            todo &= todo - 1;
            acc[0] += 1;
        }
    }
}
}
"""

PLANTED = {
    "pipeline-exit": """
void f(int a[8], int n) {
    for (int i = 0; i < 8; i++) {
#pragma HLS PIPELINE II = 1
        if (a[i] == n) break;
        a[i] = 0;
    }
}
""",
    "loop-bound": """
void f(int a[8], int n) {
    for (int i = 0; i < n; i++) {
#pragma HLS PIPELINE II = 1
        a[i & 7] = i;
    }
}
""",
    "dynamic-memory": """
void f(int n) {
    int *p = new int[4];
    p[0] = n;
    delete[] p;
}
""",
    "std-container": """
#include <vector>
void f(int n) {
    std::vector<int> v(4);
    v[0] = n;
}
""",
    "counter": """
void f(int a[4]) {
    long long cycles = 0;
    for (int i = 0; i < 4; i++) {
#pragma HLS UNROLL
        cycles += a[i];
    }
    a[0] = (int)cycles;
}
""",
    "recursion": """
int depth(int n) {
    return n <= 0 ? 0 : 1 + depth(n - 1);
}
""",
    "pragma-place": """
void f(int a[4]) {
    a[0] = 1;
    for (int i = 0; i < 4; i++) {
        a[i] = i;
#pragma HLS UNROLL
    }
}
""",
    "compile": """
void f(int a[4]) {
    undeclared_name(a);
}
""",
}


@pytest.mark.parametrize("rule", list(PLANTED))
def test_planted_violation_fails(rule):
    result = hls_lint.lint_text(PLANTED[rule])
    assert not result.ok
    assert {v.rule for v in result.violations} == {rule}, result.summary()


def test_old_engine_fails():
    rules = {v.rule for v in hls_lint.lint_text(OLD_ENGINE).violations}
    assert rules == {"pipeline-exit", "counter"}


def test_csim_only_code_is_not_linted():
    """Counters guarded by #ifndef __SYNTHESIS__ are not part of the synthesis view."""
    text = """
void f(int a[4]) {
#ifndef __SYNTHESIS__
    long long calls = 0;
    while (calls < 3) calls++;
#endif
    for (int i = 0; i < 4; i++) {
#pragma HLS UNROLL
        a[i] = i;
    }
}
"""
    assert hls_lint.lint_text(text).ok


def test_tripcount_makes_a_variable_bound_acceptable():
    text = """
void f(int a[64], int n) {
    for (int i = 0; i < n; i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 64
        a[i & 63] = i;
    }
}
"""
    assert hls_lint.lint_text(text).ok
