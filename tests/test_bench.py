"""bench/workloads.py: its printed and JSON figures agree with each other, with bitmask.storage_bits,
and with the cycles the C simulation counts."""

import dataclasses
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "workloads.py"


def load_workloads():
    """bench/workloads.py as a module (bench/ is not a package)."""
    if "bench_workloads" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench_workloads", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_workloads"] = module  # dataclasses look their module up while it loads
        spec.loader.exec_module(module)
    return sys.modules["bench_workloads"]


ROW = re.compile(r"^\s*(\d+) (dense|weight_sparse|masr)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)%\s+(\d+)\s+\d+\s+(.*)$")


def printed_rows(stdout: str) -> dict:
    """(workload, lanes, mode) -> the printed cycle-table row."""
    rows, workload = {}, None
    for line in stdout.splitlines():
        if line.startswith("=== "):
            workload = line[4:].split(":")[0]
        elif (m := ROW.match(line)) and workload:
            lanes, mode, pairs, issued, ideal, engine, util, cycles, speedup = m.groups()
            rows[workload, int(lanes), mode] = dict(
                pairs=int(pairs),
                issued=int(issued),
                ideal=int(ideal),
                engine=int(engine),
                util=float(util) / 100,
                cycles=int(cycles),
                speedup=speedup.strip(),
            )
    return rows


def check_consistent(stdout: str, report: dict) -> None:
    printed = printed_rows(stdout)
    for name, w in report["workloads"].items():
        by = {(r["lanes"], r["mode"]): r for r in w["configs"]}
        assert {mode for _, mode in by} == {"dense", "weight_sparse", "masr"}
        for lanes in report["lanes"]:
            dense, ws, masr = by[lanes, "dense"], by[lanes, "weight_sparse"], by[lanes, "masr"]
            assert masr["engine_cycles"] <= ws["engine_cycles"] <= dense["engine_cycles"]
            assert masr["cycles"] <= ws["cycles"] <= dense["cycles"]
            assert dense["pairs"] == ws["pairs"] == masr["pairs"] == masr["issued"]
            for r in (dense, ws, masr):
                assert 0 < r["utilisation"] <= 1
                assert r["ideal_cycles"] == -(-r["pairs"] // r["macs"])
                assert r["utilisation"] == pytest.approx(r["ideal_cycles"] / r["engine_cycles"])
                assert r["masr_speedup_engine"] == pytest.approx(r["engine_cycles"] / masr["engine_cycles"])
                assert r["masr_speedup"] == pytest.approx(r["cycles"] / masr["cycles"])
                row = printed[name, lanes, r["mode"]]
                assert (row["pairs"], row["issued"], row["ideal"], row["engine"], row["cycles"]) == (
                    r["pairs"],
                    r["issued"],
                    r["ideal_cycles"],
                    r["engine_cycles"],
                    r["cycles"],
                )
                assert row["util"] == pytest.approx(r["utilisation"], abs=0.0006)
                if r["mode"] != "masr":  # the printed speed-up is the ratio of the printed cycles
                    assert (
                        row["speedup"] == f"{row['engine'] / printed[name, lanes, 'masr']['engine']:.2f}x / "
                        f"{row['cycles'] / printed[name, lanes, 'masr']['cycles']:.2f}x"
                    )
        assert 0 < w["weight_density"] < 1 and 0 < w["activation_density"] <= 1
    assert "cycle model == csim: yes" in stdout
    assert re.search(r"total run time [\d.]+ s", stdout)
    assert {t["verdict"] for t in report["targets"]} <= {"PASS", "MISS", "n/a", ""}


def check_storage(wl, report: dict) -> None:
    """The storage columns of kws are bitmask.storage_bits of the converted model's matrices."""
    import masr_hls
    from masr_hls.numerics.bitmask import storage_bits
    from masr_hls.numerics.lane_balance import assign_rows, row_work

    w = wl.QUICK["kws"]
    model = wl.build_model(w, report["seed"], int(np.lcm.reduce(report["lanes"])))
    hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, hls_config=wl.hls_config(w, 4), output_dir="unused"))
    for lanes in report["lanes"]:
        total = {"dense": 0, "bitmask": 0, "csc": 0}
        for layer in hw.layers:
            if layer.kind != "bidirectional":
                continue
            for cell, weights in ((layer.fwd, layer.wf), (layer.bwd, layer.wb)):
                for m, bits in ((weights.kernel, cell.weight_t.width), (weights.recurrent, cell.recurrent_weight_t.width)):
                    lane_of_row = assign_rows(row_work(m, "masr"), lanes, "interleaved")
                    for key, value in storage_bits(m, bits, lane_of_row, lanes).items():
                        total[key] += value
        figures = report["workloads"]["kws"]["storage_bits"][str(lanes)]
        assert {k: figures[k] for k in total} == total


def check_csim(wl, report: dict, tmp_path: Path, lanes: int, mode: str) -> None:
    """A configuration the script did not C-simulate itself: our figures are the C simulation's counts."""
    import masr_hls

    w = wl.QUICK["kws"]
    model = wl.build_model(w, report["seed"], int(np.lcm.reduce(report["lanes"])))
    hm = masr_hls.convert_from_keras_model(model, hls_config=wl.hls_config(w, lanes, mode), output_dir=tmp_path / f"kws{lanes}{mode}")
    hw = masr_hls.masr_model(hm)
    counted = {r.name: r for r in hw.csim(wl.make_input(w, report["seed"])).layers[0]}
    config = next(r for r in report["workloads"]["kws"]["configs"] if r["lanes"] == lanes and r["mode"] == mode)
    for layer in config["layers"]:
        got = counted[layer["name"]]
        assert layer["cycles"] == got.cycles
        assert layer["forward"] == wl.step_dict(got.forward)
        assert layer["backward"] == wl.step_dict(got.backward)


@pytest.mark.csim
@pytest.mark.slow
def test_quick_run(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--json", "out.json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((tmp_path / "out.json").read_text())
    assert set(report["workloads"]) == {"kws", "ds2", "paper"}
    check_consistent(proc.stdout, report)
    wl = load_workloads()
    check_storage(wl, report)
    check_csim(wl, report, tmp_path, 16, "weight_sparse")
    check_csim(wl, report, tmp_path, 64, "dense")


# --------------------------------------------------------------------------- bench/headline.py


def load_headline():
    if "bench_headline" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench_headline", ROOT / "bench" / "headline.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_headline"] = module
        spec.loader.exec_module(module)
    return sys.modules["bench_headline"]


def test_headline_tiny_workload():
    """A tiny trained-model stand-in (recorded through the numpy reference) and a tiny paper-scale model drawn from
    its measured rates, through headline.py's own evaluation and printing."""
    import keras

    import masr_hls
    from masr_hls.training.pruning import prune_to_sparsity

    hl = load_headline()
    keras.utils.set_random_seed(0)
    inp = keras.Input((6, 10))
    h = keras.layers.Bidirectional(keras.layers.GRU(16, activation="relu", return_sequences=True), name="bigru1")(inp)
    h = keras.layers.Bidirectional(keras.layers.GRU(16, activation="relu"), name="bigru2")(h)
    model = keras.Model(inp, keras.layers.Dense(3, name="keyword")(h))
    prune_to_sparsity(model, 0.8, lanes=4, skip=("keyword",))
    hw = masr_hls.masr_model(
        masr_hls.convert_from_keras_model(model, hls_config={"Model": {"Lanes": 4, "LaneAssignment": "interleaved"}}, output_dir="unused")
    )
    x = np.maximum(np.random.default_rng(1).normal(size=(3, 6, 10)), 0)
    recorded = hl.record(hw, x, jobs=1, desc="tiny")
    assert [r[0].shape for r in recorded] == [(3, 6, 10), (3, 6, 32)]
    assert [r[3].shape for r in recorded] == [(3, 6, 32), (3, 1, 32)]  # the layers' outputs: bigru2 returns its last states
    assert np.array_equal(recorded[0][3], recorded[1][0])  # layer 1's output is layer 2's input
    layer = hw.layers[0]
    from masr_hls.reference.rnn_layer import sweep

    hf, _ = sweep(layer.fwd, layer.wf, hw.quantize_input(x[1:2])[0])
    assert np.array_equal(recorded[0][1][1], hf != 0)  # the reference's own states
    rates = {"input": (x != 0).mean(axis=(0, 1)), "layers": [(hf.mean(axis=(0, 1)), hb.mean(axis=(0, 1))) for _, hf, hb, _ in recorded]}
    paper = hl.paper_workload(rates, seed=0, prune_lanes=4, layers=2, units=24, frames=5, features=12, sparsity=0.8)
    assert len(paper.matrices) == 8 and paper.matrices[4].w_raw.shape == (72, 48)
    lines = []
    results = hl.run([paper], [2, 4], log=lines.append)
    assert "=== MASR-paper scale" in lines[0] and "dead units" in lines[0]
    for r in results["paper"]:
        e = r["engines"]
        assert set(e) == set(hl.ENGINES) and set(r["masr_over"]) == {"dense", "weight_sparse", "eie"}
        assert e["masr"]["cycles"] <= e["weight_sparse"]["cycles"] <= e["dense"]["cycles"]
        assert e["masr"]["pairs"] == e["eie"]["pairs"] == e["dense"]["pairs"] == e["masr"]["issued"]
        assert e["eie"]["issued"] >= e["eie"]["pairs"]  # padding entries are processed too
        assert all(0 < x["utilisation"] <= 1 and x["energy_nj"] > 0 and x["weight_bits"] > 0 for x in e.values())
        assert r["masr_over"]["eie"]["performance"] == pytest.approx(e["eie"]["cycles"] / e["masr"]["cycles"])
    # The sequence stores are charged from the counted words: one more non-zero in the last layer's input costs every
    # MASR engine exactly its two readers' value reads of that store, and EIE (which holds it dense) nothing.
    from masr_hls.analysis.energy import SequenceStore, load_table

    last = paper.layers[1]
    x_nz = last.x_nz.copy()
    x_nz[tuple(np.argwhere(~x_nz)[0])] = True
    grown = dataclasses.replace(paper, layers=[paper.layers[0], dataclasses.replace(last, x_nz=x_nz)])
    table = load_table()
    before, after = (hl.evaluate(w, 2, table)["engines"] for w in (paper, grown))
    store = SequenceStore(last.sequences.max_frames, x_nz.shape[2], last.in_bits)
    step = 2 * table.sram(last.in_bits, store.array_bytes) / paper.inferences / 1000
    for e in hl.ENGINES:
        assert after[e]["energy_nj"] - before[e]["energy_nj"] == pytest.approx(0 if e.startswith("eie") else step, abs=1e-12)
        assert after[e]["store_nj"] - before[e]["store_nj"] == pytest.approx(0 if e.startswith("eie") else step, abs=1e-12)
        assert (before[e]["store_nj"] > 0) != e.startswith("eie")
    summary = hl.format_summary(results)
    assert "MASR over EIE: 1.6x performance, 3x energy, 2x area" in summary
    assert [line.split()[1] for line in summary.splitlines() if line.startswith("paper ") and "Gupta" not in line][:2] == ["2", "4"]


def test_rtl_speech_names_every_difference():
    """bench/rtl_speech.py fails a configuration on any output bit or counted cycle the RTL does not match."""
    spec = importlib.util.spec_from_file_location("bench_rtl_speech", ROOT / "bench" / "rtl_speech.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    direction = {"direction": "forward", "rtl_engine_cycles": 50.0, "csim_engine_cycles": 50.0, "rtl_sweep_cycles": 90.0, "csim_sweep_cycles": 90.0}
    layer = {"layer": "bi", "in_rtl": True, "bit_exact": True, "mismatches": 0, "rtl_layer_cycles": 91.0, "csim_layer_cycles": 91.0}
    dense = {"layer": "head", "in_rtl": False}
    good = {"layers": [{**layer, "directions": [direction]}, dense], "csim_exact": None}
    assert module.check(good) == []
    bad = {
        "layers": [{**layer, "bit_exact": False, "mismatches": 3, "rtl_layer_cycles": 92.0, "directions": [{**direction, "rtl_sweep_cycles": 89.0}]}],
        "csim_exact": False,
    }
    problems = module.check(bad)
    assert len(problems) == 4 and "3 output values differ" in problems[0] and "layer cycles 92.0 in RTL, 91.0 counted" in problems[1]
    assert "bi forward: sweep cycles 89.0 in RTL, 90.0 counted" in problems[2] and "C simulation" in problems[3]
