"""GRU and LSTM layers in RTL (templates/rtl/masr_rnn_layer.sv) against the numpy reference and the C simulation.

Each case is a stack of layers of one shape, so one Verilator build serves
all of its weight densities; every layer runs on the previous RTL layer's
output.  Run with ``-s`` to see the cycle tables.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from masr_hls.cli import main as cli
from masr_hls.frontend.keras_reader import BidirectionalSpec, DenseSpec, RecurrentSpec
from masr_hls.model import MasrModel
from masr_hls.reference.mxv import ideal_cycles, mxv_stats
from masr_hls.reference.rnn_cell import step as rnn_step
from masr_hls.reference.rnn_layer import SWEEP_START_DEPTH, entry_cycles, sweep_cycles
from masr_hls.rtl import engine, twin

NARROW = {  # every rounding and overflow mode family on the way through a cell
    "input": "ap_fixed<12,4,AP_TRN,AP_SAT>",
    "state": "ap_fixed<12,4,AP_TRN,AP_SAT>",
    "gate": "ap_fixed<12,1,AP_RND_CONV,AP_SAT_SYM>",
    "cand": "ap_fixed<14,4,AP_RND_ZERO,AP_SAT_ZERO>",
    "bias": "ap_fixed<10,3,AP_RND,AP_SAT>",
    "accum": "ap_fixed<28,10,AP_RND_INF,AP_WRAP>",
}

# name: layer kind, lanes, MACs per lane, units, frames, activation, recurrent activation, merge, densities, precision,
# cell (gru: reset_after=True, gru_before: reset_after=False, lstm)
CASES = {
    "lanes1-bidirectional-concat-relu-T50": ("bi", 1, 1, 8, 50, "relu", "sigmoid", "concat", (1.0, 0.5, 0.1, 0.0), {}, "gru"),
    "lanes4-unidirectional-tanh-hard_sigmoid": ("uni", 4, 2, 10, 30, "tanh", "hard_sigmoid", None, (0.0, 0.1, 0.5, 1.0), NARROW, "gru"),
    "lanes2-bidirectional-sum-reset_after-false": ("bi", 2, 1, 6, 10, "relu", "sigmoid", "sum", (0.5, 1.0), {}, "gru_before"),
    "lanes3-unidirectional-lstm": ("uni", 3, 1, 5, 8, "tanh", "sigmoid", None, (0.5, 1.0), {"cell": "ap_fixed<14,4,AP_RND_CONV,AP_SAT>"}, "lstm"),
    "lanes4-bidirectional-dynamic-reset_after-false": ("bi", 4, 1, 9, 12, "relu", "sigmoid", "concat", (1.0, 0.3), {}, "gru_before"),
}
# Model keys beyond lanes and MACs: run-time balancing, two lanes sharing each weight bank
MODEL_KEYS = {"lanes4-bidirectional-dynamic-reset_after-false": {"LaneBalancing": "dynamic", "BankLanes": 2}}
SAMPLES = 2


def gru(rng, name, n_in, units, density, activation, recurrent_activation, return_sequences=True, cell="gru"):
    """A random recurrent layer: cell is gru (reset_after=True), gru_before (reset_after=False) or lstm."""

    def sparse(shape):
        return rng.normal(0, 0.6, shape) * (rng.random(shape) < density)

    gates = 4 if cell == "lstm" else 3
    bias = rng.normal(0, 0.2, (2, 3 * units) if cell == "gru" else (gates * units,))
    return RecurrentSpec(
        name,
        "lstm" if cell == "lstm" else "gru",
        units,
        activation,
        recurrent_activation,
        cell == "gru",
        False,
        return_sequences,
        sparse((n_in, gates * units)),
        sparse((units, gates * units)),
        bias,
    )


def keras_layer(spec):
    """The Keras layer a spec describes, with the spec's weights."""
    import keras

    L = keras.layers
    if isinstance(spec, DenseSpec):
        return L.Dense(spec.kernel.shape[1], name=spec.name), [spec.kernel, spec.bias]
    if isinstance(spec, BidirectionalSpec):
        (fwd, wf), (bwd, wb) = keras_layer(spec.forward), keras_layer(spec.backward)
        bwd = bwd.__class__.from_config(dict(bwd.get_config(), go_backwards=True))
        return L.Bidirectional(fwd, backward_layer=bwd, merge_mode=spec.merge_mode, name=spec.name), wf + wb
    cls = {"gru": L.GRU, "lstm": L.LSTM, "simple_rnn": L.SimpleRNN}[spec.kind]
    options = dict(activation=spec.activation, return_sequences=spec.return_sequences, go_backwards=spec.go_backwards)
    if spec.kind != "simple_rnn":
        options["recurrent_activation"] = spec.recurrent_activation
    if spec.kind == "gru":
        options["reset_after"] = spec.reset_after
    return cls(spec.units, name=spec.name, **options), [spec.kernel, spec.recurrent_kernel, spec.bias]


def convert_specs(name, frames, features, specs, config, out) -> MasrModel:
    """A Keras model made of ``specs`` (with their weights), converted through the one conversion path."""
    import keras

    import masr_hls

    built = [keras_layer(spec) for spec in specs]
    model = keras.Sequential([keras.Input((frames, features)), *(layer for layer, _ in built)], name=name)
    model.set_weights([w for _, weights in built for w in weights])
    return masr_hls.masr_model(masr_hls.convert_from_keras_model(model, hls_config=config, output_dir=str(out)))


def make_model(name, tmp_path) -> MasrModel:
    kind, lanes, macs, units, frames, act, rec, merge, densities, precision, cell = CASES[name]
    rng = np.random.default_rng(len(name))
    features = 2 * units if merge == "concat" else units  # every layer reads what the one before writes
    layers = []
    for k, density in enumerate(densities):
        last = k == len(densities) - 1
        if kind == "bi":
            halves = [gru(rng, f"bi{k}_{d}", features, units, density, act, rec, cell=cell) for d in "fb"]
            layers.append(BidirectionalSpec(f"bi{k}", *halves, merge, True))
        else:
            layers.append(gru(rng, f"{cell}{k}", features, units, density, act, rec, not last, cell))
    if kind == "uni":
        layers.append(DenseSpec("head", rng.normal(size=(units, 3)), rng.normal(size=3)))
    config = {"Model": {"Lanes": lanes, "MacsPerLane": macs, "Precision": dict(precision), **MODEL_KEYS.get(name, {})}}
    return convert_specs(name, frames, features, layers, config, tmp_path / name)


def example_input(hw: MasrModel, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (SAMPLES, hw.max_frames, hw.n_features)
    return rng.normal(0, 1.5, shape) * (rng.random(shape) < 0.6)  # sparse inputs too


def step_figures(cfg, w, x, backward):
    """Per step of one direction, from the reference: (x_t, h_{t-1}, StepStats) in visiting order."""
    h, c = np.zeros(cfg.n_units, np.int64), np.zeros(cfg.n_units, np.int64)
    order = range(len(x) - 1, -1, -1) if backward else range(len(x))
    out = []
    for t in order:
        h_prev = h
        h, c, s = rnn_step(cfg, w, x[t], h, c)
        out.append((x[t], h_prev, s))
    return out


def check_cycles(layer, run: twin.LayerRun, inputs: np.ndarray) -> int:
    """Every step of every direction against the schedule of docs/arithmetic.md, exactly.

    Step i runs the recurrent chain of its frame beside the kernel chain of the next one:
    max(RH_i, KX_{i+1}); step 0 also holds the start cycle, the model's first layer's encoding of frame 0 on
    entry, and the kernel chain of frame 0.
    The engines inside are each at least their ideal.  Returns the steps checked.
    """
    checked = 0
    for k, (_, cfg, w) in enumerate(twin.directions(layer)):
        backward = k == 1 or (layer.kind == "recurrent" and layer.spec.go_backwards)
        mats = w.engine_matrices(cfg)
        entry = entry_cycles(cfg.n_in, layer.entry)
        for s, x in enumerate(inputs):
            steps = step_figures(cfg, w, x, backward)
            for i, (x_t, h, st) in enumerate(steps):
                where = f"{layer.name} dir {k} sample {s} step {i}"
                kx_next = steps[i + 1][2].kernel_chain if i + 1 < len(steps) else 0
                expected = max(st.cycles, kx_next) + (SWEEP_START_DEPTH + entry + st.kernel_chain if i == 0 else 0)
                assert run.step_cycles[s, k, i] == expected, (where, int(run.step_cycles[s, k, i]), expected)
                k_next = steps[i + 1][2].kernel.cycles if i + 1 < len(steps) else 0
                assert run.kernel_cycles[s, k, i] == k_next + (st.kernel.cycles if i == 0 else 0), where
                assert run.recurrent_cycles[s, k, i] == st.recurrent.cycles, where
                for name, v in (("kernel", x_t), ("recurrent", h)):
                    mc = cfg.kernel_config() if name == "kernel" else cfg.recurrent_config()
                    m = mats[name]
                    pairs = int(((m != 0) & (v != 0)[None, :]).sum())
                    got = mxv_stats(mc, m != 0, v != 0, w.lanes[name]).cycles
                    assert got >= ideal_cycles(pairs, mc.lanes * mc.macs_per_lane), where
                checked += 1
            assert run.sweep_cycles[s, k] == run.step_cycles[s, k].sum() == sweep_cycles([st for *_, st in steps], entry)
    return checked


def print_table(result):
    print("\n" + twin.format_text(result))


@pytest.mark.csim
@pytest.mark.verilator
@pytest.mark.parametrize("name", list(CASES))
def test_rnn_layers_match_reference_and_csim(name, tmp_path):
    hw = make_model(name, tmp_path)
    x = example_input(hw, seed=1)
    result = twin.run(hw, x)
    print_table(result)
    rows = {r["layer"]: r for r in result["layers"]}
    for layer in hw.layers:
        row = rows[layer.name]
        if layer.kind == "dense":
            assert not row["in_rtl"] and "not in the RTL" in row["reason"] and layer.name in row["reason"]
            continue
        assert row["in_rtl"] and row["bit_exact"], f"{layer.name}: {row['mismatches']} outputs differ from the reference"
        for d in row["directions"]:
            assert d["rtl_engine_cycles"] >= d["ideal_cycles"] > 0 or d["pairs"] == 0
            assert d["rtl_sweep_cycles"] == d["csim_sweep_cycles"], (layer.name, d)
        assert row["rtl_layer_cycles"] == row["csim_layer_cycles"], (layer.name, row)
    assert result["ok"]
    assert result["csim_exact"] is (True if hw.layers[-1].kind != "dense" else None)
    assert "not in RTL" in twin.format_text(result) or hw.layers[-1].kind != "dense"
    assert json.loads(twin.to_json(result))["layers"][0]["layer"] == hw.layers[0].name

    # Step by step, on the reference inputs of each layer.
    inputs = list(hw.quantize_input(x))
    checked = 0
    densities = CASES[name][8]
    for layer in hw.layers:
        if layer.kind == "dense":
            continue
        sim = twin.LayerRtl(layer, hw.max_frames)  # the cached build, reloaded
        run = sim.run(np.stack(inputs))
        outputs = [layer.reference(h)[0] for h in inputs]
        assert np.array_equal(run.y, np.stack(outputs))
        checked += check_cycles(layer, run, np.stack(inputs))
        inputs = outputs
    assert checked > 0
    # Sparser weights, fewer engine cycles (layers ordered by density).
    engine = [rows[layer.name]["directions"][0]["rtl_engine_cycles"] for layer in hw.layers if layer.kind != "dense"]
    by_density = [e for _, e in sorted(zip(densities, engine), reverse=True)]
    assert by_density == sorted(by_density, reverse=True), by_density


@pytest.mark.verilator
def test_new_top_modules_lint_clean(tmp_path):
    for name in CASES:
        hw = make_model(name, tmp_path)
        twin.lint(hw.layers[0], hw.max_frames)
    twin.lint(make_model(next(iter(CASES)), tmp_path / "tb").layers[0], 7, testbench=True)
    for merge in ("sum", "mul", "ave"):  # the merge modes the cases above do not build
        rng = np.random.default_rng(0)
        halves = [gru(rng, f"h{d}", 5, 7, 0.5, "relu", "hard_sigmoid") for d in "fb"]
        hw = convert_specs(
            "m", 9, 5, [BidirectionalSpec("bi", *halves, merge, True)], {"Model": {"Lanes": 16, "Precision": NARROW}}, tmp_path / merge
        )
        twin.lint(hw.layers[0], hw.max_frames)


@pytest.mark.verilator
@pytest.mark.slow
@pytest.mark.yosys
def test_yosys_resources_of_a_small_gru(tmp_path):
    import copy

    from builders import SMALL_GRU_CONFIG, small_gru

    import masr_hls

    hm = masr_hls.convert_from_keras_model(small_gru(), hls_config=copy.deepcopy(SMALL_GRU_CONFIG), output_dir=str(tmp_path / "p"))
    hw = masr_hls.masr_model(hm)
    resources = twin.synthesize_layer(hw.layers[0], hw.max_frames)
    print("\nyosys synth_xilinx, GRU 6 -> 4 units on 2 lanes:", {k: v for k, v in resources.items() if k != "cells"})
    assert resources["LUT"] > 0 and resources["FF"] > 0
    # Two engines of two lanes with one MAC each, plus the gate units' multipliers.
    assert resources["DSP"] >= 2 * 2


# ------------------------------------------------------------------ the CLI
@pytest.mark.csim
@pytest.mark.verilator
def test_cli_round_trip(tmp_path, capsys):
    import keras

    from masr_hls.cli import project

    keras.utils.set_random_seed(3)
    L = keras.layers
    model = keras.Sequential(
        [
            keras.Input((12, 5)),
            L.Bidirectional(L.GRU(6, activation="relu", recurrent_activation="hard_sigmoid", return_sequences=True), merge_mode="ave", name="bi"),
        ]
    )
    path = tmp_path / "m.keras"
    model.save(path)
    project.convert(path, tmp_path / "prj", config_updates={"Lanes": 16})
    x = np.random.default_rng(2).normal(size=(2, 12, 5))
    np.save(tmp_path / "x.npy", x)
    code = cli.main(["rtl", str(tmp_path / "prj"), "--input", str(tmp_path / "x.npy"), "--samples", "2", "--json", str(tmp_path / "engine.json")])
    out = capsys.readouterr().out
    print(out)
    assert code == 0, out
    figures = json.loads((tmp_path / "engine.json").read_text())
    assert figures["ok"] and figures["csim_exact"] and figures["samples"] == 2
    bi = figures["layers"][0]
    assert bi["bit_exact"] and [d["direction"] for d in bi["directions"]] == ["forward", "backward"]
    assert all(d["rtl_engine_cycles"] >= d["ideal_cycles"] for d in bi["directions"])
    assert "bit for bit: yes" in out


def test_cli_reports_missing_verilator(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert cli.main(["rtl", str(tmp_path)]) != 0
    assert "verilator not found" in capsys.readouterr().err


def test_cli_fails_when_not_bit_exact(tmp_path, monkeypatch, capsys):
    from masr_hls.cli import project

    rng = np.random.default_rng(0)
    hw = convert_specs("m", 4, 3, [gru(rng, "g", 3, 2, 1.0, "relu", "sigmoid")], {}, tmp_path / "p")
    row = {
        "layer": "g",
        "kind": "recurrent",
        "in_rtl": True,
        "reason": None,
        "csim_layer_cycles": 1.0,
        "rtl_layer_cycles": 1.0,
        "rtl_load_cycles": 1.0,
        "bit_exact": False,
        "mismatches": 3,
        "resources": None,
        "directions": [
            {
                "direction": "forward",
                "steps": 4,
                "pairs": 8.0,
                "ideal_cycles": 8.0,
                "csim_engine_cycles": 30.0,
                "csim_sweep_cycles": 60.0,
                "rtl_engine_cycles": 29.0,
                "rtl_kernel_cycles": 15.0,
                "rtl_recurrent_cycles": 14.0,
                "rtl_sweep_cycles": 58.0,
            }
        ],
    }
    result = {"model": "m", "samples": 1, "frames": 4, "clock_ns": 5.0, "layers": [row], "csim_exact": False, "ok": False}
    monkeypatch.setattr(engine, "require_tool", lambda name: name)
    monkeypatch.setattr(project, "load", lambda path: hw)
    monkeypatch.setattr(twin, "run", lambda *args, **kwargs: result)
    assert cli.main(["rtl", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "NO (3)" in captured.out and "not bit-exact" in captured.err


# ---------------------------------------------------- what the RTL refuses
def test_uncovered_layers_are_named(tmp_path):
    rng = np.random.default_rng(0)
    simple = RecurrentSpec(
        "enc_simple", "simple_rnn", 4, "relu", "sigmoid", False, False, True, rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), rng.normal(size=4)
    )
    lstm = gru(rng, "lstm", 4, 4, 1.0, "tanh", "sigmoid", cell="lstm")
    hw = convert_specs("m", 5, 3, [simple, lstm, DenseSpec("head", rng.normal(size=(4, 2)), np.zeros(2))], {}, tmp_path / "p")
    reasons = [twin.unsupported_reason(layer) for layer in hw.layers]
    assert "'enc_simple'" in reasons[0] and "simple_rnn cells are not in the RTL (GRU and LSTM only)" in reasons[0]
    assert reasons[1] is None
    assert "'head'" in reasons[2] and "not in the RTL" in reasons[2]
    with pytest.raises(twin.NotInRtl, match="enc_simple"):
        twin.LayerRtl(hw.layers[0], 5)
    dense_mode = convert_specs("d", 5, 4, [gru(rng, "g", 4, 4, 1.0, "relu", "sigmoid")], {"Model": {"Mode": "dense"}}, tmp_path / "d")
    assert "mode 'dense'" in twin.unsupported_reason(dense_mode.layers[0])


def test_parameters_follow_the_layer(tmp_path):
    hw = make_model("lanes4-unidirectional-tanh-hard_sigmoid", tmp_path)
    layer = hw.layers[0]
    banks = twin.bank_capacity(layer, "shape")
    assert banks["kernel"] == (30, 300) and banks["recurrent"] == (30, 300)
    exact = twin.bank_capacity(layer, "exact")
    assert exact["kernel"] == (8, 1)  # density 0: rows spread over 4 lanes, no weights
    p = twin.layer_parameters(layer, banks, hw.max_frames)
    assert (p["LANES"], p["MACS"], p["DIRS"], p["ACT"], p["REC"], p["MAX_T"]) == (4, 2, 1, 0, 1, 30)
    assert (p["G_W"], p["G_FRAC"], p["G_ROUNDING"], p["G_OVERFLOW"]) == (12, 11, 6, 3)
    assert (p["ACC_W"], p["ACC_FRAC"], p["ACC_ROUNDING"]) == (28, 18, 5)
    files = tmp_path / "files"
    twin.write_layer_files(files, hw.layers[3], twin.bank_capacity(hw.layers[3], "exact"))
    assert len((files / "fwd" / "act_table.hex").read_text().split()) == 1 << layer.cell.act_n_log2
    assert not (files / "fwd" / "rec_table.hex").exists()  # hard_sigmoid needs no table
    assert len((files / "fwd" / "bias.hex").read_text().split()) == 30
    assert not (files / "fwd" / "recurrent_h").exists()  # reset_after=True: two engines
    before = make_model("lanes2-bidirectional-sum-reset_after-false", tmp_path).layers[0]
    p = twin.layer_parameters(before, twin.bank_capacity(before, "exact"), 10)
    assert (p["RESET_AFTER"], p["DIRS"], p["MERGE"], p["KIND"], p["BANK_LANES"]) == (0, 2, 1, 0, 1)
    twin.write_layer_files(files / "before", before, twin.bank_capacity(before, "exact"))
    assert (files / "before" / "bwd" / "recurrent_h" / "row_lane.hex").is_file()
    shared = make_model("lanes4-bidirectional-dynamic-reset_after-false", tmp_path).layers[0]
    banks = twin.bank_capacity(shared, "exact")
    assert twin.layer_parameters(shared, banks, 12)["BANK_LANES"] == 2
    twin.write_layer_files(files / "shared", shared, banks)
    assert len(list((files / "shared" / "fwd" / "kernel").glob("lane*_slot_base.hex"))) == 2  # 4 lanes, 2 banks
