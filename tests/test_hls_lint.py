"""The synthesis-view check of the HLS C++ (masr_hls.hls_lint): clean headers and a generated project pass,
planted violations fail.

g++ runs as little as the proof allows: the headers are checked once for the module (one g++ process over
one translation unit per header), one small generated project once, the rules on snippets without g++,
and one g++ run over a folder of planted headers, one per rule, shows the whole path (preprocessing with
__SYNTHESIS__, compiling, naming the header) catches each of them.
"""

import keras
import pytest
from builders import chain

from masr_hls import hls_lint
from masr_hls.cli import project as project_module
from masr_hls.cli.main import main

pytestmark = pytest.mark.csim
L = keras.layers

# What the small project's top function calls (masr/model_layers.h), which instantiate every MASR module a model
# can use: both kinds of recurrent layer, the dense head and the softmax.
ENTRY_POINTS = ("model_bidirectional_layer", "model_rnn_layer", "model_dense_softmax_layer")


@pytest.fixture(scope="module")
def headers():
    return hls_lint.lint_headers()


@pytest.fixture(scope="module")
def small_project(tmp_path_factory):
    """A generated project whose top function instantiates every module: Bidirectional GRU (reset_after=False,
    so the U_h engine too) merged by sum, Bidirectional GRU concatenated into a split store, LSTM, ReLU SimpleRNN
    returning its last state, Dense + softmax."""
    root = tmp_path_factory.mktemp("lint")
    model = chain(
        5,
        3,
        L.Bidirectional(L.GRU(4, reset_after=False, return_sequences=True), merge_mode="sum", name="bigru"),
        L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="concat", name="bigru2"),
        L.LSTM(4, return_sequences=True, name="lstm"),
        L.SimpleRNN(4, activation="relu", name="rnn"),
        L.Dense(3, activation="softmax", name="head"),
        seed=0,
        name="small",
    )
    model.save(root / "m.keras")
    project_module.convert(root / "m.keras", root / "prj", config_updates={"Lanes": 2})
    return root / "prj"


@pytest.fixture(scope="module")
def project_result(small_project):
    return hls_lint.lint_project(small_project)


def test_every_header_passes(headers):
    assert len(headers.checked) == len(hls_lint.header_paths()) >= 9
    assert headers.ok, headers.summary()


def test_generated_project_passes(small_project, project_result):
    top = small_project / "firmware" / "myproject.cpp"
    source = top.read_text()
    assert all(f"masr::{name}<" in source for name in ENTRY_POINTS)
    # The SimpleRNN returns its last state: the head's input store is one frame deep, in registers.
    assert ", 4, 1> layer3_out;\n#pragma HLS ARRAY_PARTITION variable = layer3_out.mask type = complete dim = 0" in source
    assert ", MAX_T> layer2_out;" in source
    assert project_result.checked == [str(top.resolve())]
    assert project_result.ok, project_result.summary()


def test_command_line(small_project, tmp_path, monkeypatch, capsys):
    """masr-hls lint-hls on a project: exit 0 when clean, 1 with the rule named when not.  The headers are
    checked by test_every_header_passes; here lint_headers is replaced to keep g++ to the projects."""
    calls = []

    def headers_checked_above():
        calls.append(True)
        return hls_lint.LintResult(checked=["(headers)"])

    monkeypatch.setattr(hls_lint, "lint_headers", headers_checked_above)
    assert main(["lint-hls", str(small_project)]) == 0
    assert "lint-hls: 2 checked, 0 violations" in capsys.readouterr().out

    bad = tmp_path / "bad"
    (bad / "firmware").mkdir(parents=True)
    (bad / "firmware" / "bad.cpp").write_text(PLANTED["counter"])
    assert main(["lint-hls", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "1 violations" in out and "bad.cpp:3: [counter]" in out
    assert len(calls) == 2


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
    # the engine's lane region as it was: both processes read the activation mask
    "dataflow-shared": """
struct vec { int mask[2]; int values[8]; };
void front(const int mask[2], int fifo[2]);
void back(const int values[8], const int mask[2], const int fifo[2], int y[8]);
void lane(const vec &v, int y[8]) {
#pragma HLS DATAFLOW
    int fifo[2];
    front(v.mask, fifo);
    back(v.values, v.mask, fifo, y);
}
""",
}


def lines_of(text: str, name: str = "snippet.h"):
    """A snippet as lint_lines reads the synthesis view: (file, line, text), no preprocessing."""
    return [(name, n + 1, line) for n, line in enumerate(text.splitlines())]


@pytest.mark.parametrize("rule", [r for r in PLANTED if r != "compile"])
def test_each_rule_catches_its_snippet(rule):
    violations = hls_lint.lint_lines(lines_of(PLANTED[rule]))
    assert {v.rule for v in violations} == {rule}, [str(v) for v in violations]


def test_old_engine_fails():
    rules = {v.rule for v in hls_lint.lint_lines(lines_of(OLD_ENGINE))}
    assert rules == {"pipeline-exit", "counter"}


def test_tripcount_makes_a_variable_bound_acceptable():
    assert hls_lint.lint_lines(lines_of(TRIPCOUNT)) == []


# The ISSUE loop as it was: a constant bound joined with a data-dependent exit.
JOINED_EXIT = """
void f(const int a[64], int y[1]) {
    bool done = false;
    for (int i = 0; i < 64 && !done; i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 64
        done = a[i] < 0;
        y[0] += a[i];
    }
}
"""

# The ISSUE loop now: one test, an exit flag, with its trip count declared.
EXIT_FLAG = """
void f(const int a[64], int y[1]) {
    int i = 0;
    for (bool done = false; !done;) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 64
        done = a[i & 63] < 0;
        y[0] += a[i & 63];
        i++;
    }
}
"""

# Canonical regions: distinct members of one struct, a scalar for every process, a local FIFO between two.
DATAFLOW_CANONICAL = """
struct vec { int mask[2]; int values[8]; };
void front(const int mask[2], int n, int fifo[2]);
void back(const int values[8], int n, const int fifo[2], int y[8]);
void lane(const vec &v, int n, int y[8]) {
#pragma HLS DATAFLOW
    int fifo[2];
    front(v.mask, n, fifo);
    back(v.values, n, fifo, y);
}
"""

# Overlapping arguments that are not the same expression: the whole struct and one of its members, two frames of one array.
DATAFLOW_OVERLAPS = """
struct weights { int kernel[8]; int recurrent[8]; };
void kernel_chain(const int kernel[8], int y[8]);
void recurrent_chain(const weights &w, int y[8]);
void stage(const weights &w, int a[8], int b[8]) {
#pragma HLS DATAFLOW
    kernel_chain(w.kernel, a);
    recurrent_chain(w, b);
}
void sweeps(const int x[4][8], int t, int a[8], int b[8]) {
#pragma HLS DATAFLOW
    kernel_chain(x[t], a);
    kernel_chain(x[3 - t], b);
}
"""


def test_one_test_per_pipelined_loop():
    assert {v.rule for v in hls_lint.lint_lines(lines_of(JOINED_EXIT))} == {"pipeline-exit"}
    assert hls_lint.lint_lines(lines_of(EXIT_FLAG)) == []


def test_dataflow_inputs_have_one_reader():
    assert hls_lint.lint_lines(lines_of(DATAFLOW_CANONICAL)) == []
    found = [v for v in hls_lint.lint_lines(lines_of(DATAFLOW_OVERLAPS))]
    assert [v.rule for v in found] == ["dataflow-shared"] * 2, [str(v) for v in found]
    assert "'w'" in found[0].text and "'x'" in found[1].text


TRIPCOUNT = """
void f(int a[64], int n) {
    for (int i = 0; i < n; i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 64
        a[i & 63] = i;
    }
}
"""

# Counters guarded by #ifndef __SYNTHESIS__ are not part of the synthesis view.
CSIM_ONLY = """
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


def test_planted_headers_through_gxx(tmp_path):
    """One lint_headers run over planted headers, one per rule (the compile rule included), the old engine and
    two clean ones: each header is charged with exactly its own rules."""
    expected = {f"planted_{rule}.h": {rule} for rule in PLANTED}
    expected.update({"old_engine.h": {"pipeline-exit", "counter"}, "csim_only.h": set(), "tripcount.h": set()})
    texts = {f"planted_{rule}.h": text for rule, text in PLANTED.items()}
    texts.update({"old_engine.h": OLD_ENGINE, "csim_only.h": CSIM_ONLY, "tripcount.h": TRIPCOUNT})
    folder = tmp_path / "masr"
    folder.mkdir()
    paths = []
    for name, text in texts.items():
        (folder / name).write_text(text)
        paths.append(folder / name)
    result = hls_lint.lint_headers(paths)
    assert len(result.checked) == len(paths)
    found = {name: set() for name in texts}
    for v in result.violations:
        found[v.where.split(":")[0]].add(v.rule)
    assert found == expected, result.summary()
