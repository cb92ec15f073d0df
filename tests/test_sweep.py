"""masr-hls sweep: design points on a two-worker Dask LocalCluster, stored in SQLite, resumed, reported; bad sweep
files named by key.  The points vary what C simulation loads at run time (pruning, lane assignment), so they share
one compiled library."""

import keras
import numpy as np
import pytest
import yaml
from builders import SMALL_GRU_CONFIG, chain, small_gru

from masr_hls.cli.main import main
from masr_hls.sweep import report, run
from masr_hls.sweep.spec import SweepSpecError, load_spec
from masr_hls.sweep.store import ResultStore

L = keras.layers


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    model = chain(
        6, 3, L.Bidirectional(L.GRU(4, activation="relu", return_sequences=False), name="bi"), L.Dense(3, activation="softmax", name="head"), seed=2
    )
    model.save(root / "m.keras")
    rng = np.random.default_rng(0)
    np.save(root / "x.npy", (rng.normal(size=(12, 6, 3)) * (rng.random((12, 6, 3)) < 0.6)).astype(np.float32))
    np.save(root / "y.npy", rng.integers(0, 3, 12))
    spec = {
        "models": ["m.keras"],
        "grid": {"Model.LaneAssignment": ["balanced", "interleaved"], "Model.Lanes": [2]},
        "pruning": [None, 0.5],
        "data": {"inputs": "x.npy", "labels": "y.npy"},
        "chunk": 6,
    }
    (root / "sweep.yml").write_text(yaml.safe_dump(spec))
    return root / "sweep.yml"


@pytest.mark.csim
def test_a_sweep_runs_on_two_workers_stores_every_point_and_resumes(sweep_file, tmp_path):
    spec = load_spec(sweep_file)
    assert len(spec.points) == 4 and spec.store == sweep_file.with_suffix(".sqlite")
    with run.client_for(workers=2, processes=False) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        counts = run.run_sweep(spec, client, progress=False)
        assert (counts["run"], counts["skipped"], counts["synthesised"], counts["store"]) == (4, 0, 0, str(spec.store))
        rows = ResultStore(spec.store).rows()
        assert len(rows) == 4 and all(r["samples"] == 12 for r in rows)
        for r in rows:
            assert 0 <= r["fixed_accuracy"] <= 1 and 0 < r["utilisation"] <= 1
            assert r["cycles_p99"] >= r["cycles_mean"] > 0 and r["latency_us"] == pytest.approx(r["cycles_mean"] * 5 / 1000)
            assert 0 < r["head_energy_nj"] < r["engine_energy_nj"]
            assert r["store_energy_nj"] > 0 and r["energy_with_stores_nj"] == pytest.approx(r["engine_energy_nj"] + r["store_energy_nj"])
            # The float model ran in tasks of its own, shared by the points of one pruning level, not in the points'.
            assert "float" not in r["task_parts"] and r["float_task_seconds"] > 0 and 0 < r["csim_seconds"] < r["task_seconds"]
        floats = {r["settings"]["pruning"]: r["float_task_seconds"] for r in rows}  # one model per pruning level
        assert counts["task_seconds"] == pytest.approx(sum(r["task_seconds"] for r in rows) + sum(floats.values()))
        pruned = [r for r in rows if r["settings"]["pruning"] == 0.5]
        kept = [r for r in rows if r["settings"]["pruning"] is None]
        assert max(r["weight_bits"] for r in pruned) < min(r["weight_bits"] for r in kept)
        assert max(r["engine_energy_nj"] for r in pruned) < min(r["engine_energy_nj"] for r in kept)
        # Stopped and started again: the stored points are not run again.
        assert run.run_sweep(load_spec(sweep_file), client, progress=False)["skipped"] == 4
    text = report.format_table(rows)
    assert len(text.splitlines()) == 2 + 4 + 1 and "LaneAssignment=interleaved" in text and "acc: accuracy" in text
    front = report.pareto(rows, "latency_us")
    assert front and all(a["latency_us"] <= b["latency_us"] for a, b in zip(front, front[1:]))
    paths = report.write_plots(rows, tmp_path / "plots")
    assert sorted(p.name for p in paths) == ["pareto_energy.png", "pareto_latency.png", "pareto_storage.png"]
    assert main(["sweep", str(sweep_file), "--report"]) == 0


@pytest.mark.parametrize(
    "change, message",
    [
        ({"colour": 1}, "colour: unknown key"),
        ({"grid": {"Lanes": [2]}}, "grid key 'Lanes'"),
        ({"grid": {"Model.Lanes": []}}, "grid key 'Model.Lanes': give a non-empty list"),
        ({"models": ["missing.keras"]}, "models: missing.keras is not a .keras file"),
        ({"pruning": [1.5]}, "pruning: 1.5 is not a sparsity"),
        ({"data": {"speech": "sentences"}}, "data.speech"),
        ({"chunk": 0}, "chunk: 0 is not a positive number"),
        ({"yosys": "yes"}, "yosys: 'yes': true"),
    ],
)
def test_bad_sweep_files_name_the_key(sweep_file, tmp_path, change, message):
    spec = yaml.safe_load(sweep_file.read_text())
    spec["models"] = [str(sweep_file.parent / "m.keras")]
    spec["data"] = {"inputs": str(sweep_file.parent / "x.npy")}
    spec.update(change)
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(spec))
    with pytest.raises(SweepSpecError, match=message):
        load_spec(bad)


@pytest.mark.slow
@pytest.mark.csim
def test_a_sweep_on_a_real_scheduler_survives_a_killed_worker(sweep_file, tmp_path):
    """`dask scheduler` and `dask worker` processes on the loopback address.  Worker "a" starts alone and is killed
    while it runs a task (so the sweep cannot have finished); worker "b" joins after: the lost tasks run again
    there, and every point is stored once."""
    import signal
    import subprocess
    import sys
    import threading
    import time
    from pathlib import Path

    from distributed import Client

    dask = str(Path(sys.executable).with_name("dask"))
    info = tmp_path / "scheduler.json"
    spec = load_spec(sweep_file)
    spec.store = tmp_path / "store.sqlite"
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(info)], stderr=subprocess.DEVNULL
        )
    ]

    def start_worker(name):
        worker = [dask, "worker", "--scheduler-file", str(info), "--nthreads", "1", "--no-nanny", "--name", name, "--no-dashboard"]
        procs.append(subprocess.Popen(worker, stderr=subprocess.DEVNULL, start_new_session=True))

    try:
        for _ in range(300):
            if info.exists() and info.stat().st_size:
                break
            time.sleep(0.1)
        start_worker("a")
        with Client(scheduler_file=str(info)) as client:
            client.wait_for_workers(1, timeout=60)
            result = {}
            sweep = threading.Thread(target=lambda: result.update(run.run_sweep(spec, client, progress=False)))
            sweep.start()
            while not any(client.processing().values()) and sweep.is_alive():
                time.sleep(0.02)
            assert sweep.is_alive() and len(ResultStore(spec.store).done()) < 4  # worker "a" is running a task
            procs[1].send_signal(signal.SIGKILL)  # worker "a" dies mid-task
            start_worker("b")
            sweep.join(timeout=300)
            assert not sweep.is_alive() and result["run"] == 4
        rows = ResultStore(spec.store).rows()
        assert len(rows) == 4 and all(r["samples"] == 12 for r in rows)
        assert procs[1].wait(timeout=10) == -signal.SIGKILL
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


@pytest.mark.csim
def test_a_ctc_recogniser_is_scored_by_word_errors(tmp_path):
    """Utterances of different lengths with token labels: the task decodes greedily and counts word errors."""
    from masr_hls.sweep.spec import Point
    from masr_hls.training import ctc

    model = chain(
        None,
        3,
        L.Bidirectional(L.GRU(4, activation="relu", return_sequences=True), name="bi"),
        L.TimeDistributed(L.Dense(ctc.CLASSES, activation="softmax"), name="tokens"),
        seed=5,
    )
    model.save(tmp_path / "ctc.keras")
    (tmp_path / "cfg.yml").write_text(yaml.safe_dump({"Model": {"MaxFrames": 9, "Lanes": 2}}))
    rng = np.random.default_rng(1)
    x = [rng.normal(size=(t, 3)).astype(np.float32) for t in (9, 4, 7)]
    labels = [[1, 2], [3], [4, 5, 6]]
    point = Point(str(tmp_path / "ctc.keras"), None, ())
    figures = run.evaluate_chunk(point, str(tmp_path / "cfg.yml"), x, labels)
    float_hyps = [ctc.greedy_decode(np.asarray(model(u[None], training=False))[0]) for u in x]
    assert figures.metric == "word accuracy" and figures.scored == 6 and figures.samples == 3
    assert figures.float_errors == sum(ctc.edit_distance(r, h) for r, h in zip(labels, float_hyps))
    assert 0 <= figures.fixed_errors and len(figures.cycles) == 3 and figures.cycles[0] > figures.cycles[1]


@pytest.mark.csim
def test_the_dense_heads_energy_is_counted_frame_by_frame(tmp_path):
    """The head's engine energy from the C simulation's per-layer totals equals the reference's frame-by-frame
    figures, and it grows with the frames a TimeDistributed head sees; so do the sequence stores' (counted words)."""
    import masr_hls
    from masr_hls.analysis.energy import energy, masr_work, store_energy_pj

    model = chain(
        5,
        3,
        L.Bidirectional(L.GRU(4, activation="relu", return_sequences=True), name="bi"),
        L.TimeDistributed(L.Dense(6, activation="relu"), name="td"),
        seed=3,
    )
    cfg = masr_hls.config_from_keras_model(model, lanes=2)
    hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, hls_config=cfg, output_dir=tmp_path / "p"))
    x = np.random.default_rng(4).normal(size=(3, 5, 3)) * (np.random.default_rng(5).random((3, 5, 3)) < 0.5)
    reference = hw.reference(x).layers
    csim = hw.csim(x, threads=1).layers
    from_csim = run.head_energy_pj(hw, csim, [5, 5, 5])
    assert from_csim == pytest.approx(run.head_energy_pj(hw, reference, [5, 5, 5])) and from_csim > 0
    stores = store_energy_pj(hw, csim, [5, 5, 5])
    assert stores == pytest.approx(store_energy_pj(hw, reference, [5, 5, 5])) and stores > 0
    head = hw.layers[1]
    w_nonzero, lanes = head.weights.w_raw != 0, head.weights.lane_of_row
    calls = [energy(masr_work(head.head.mxv, frame, w_nonzero, lanes)).total for frame in _frames(reference)]
    assert from_csim == pytest.approx(sum(calls) / 3)


def _frames(reference_layers):
    """The head's per-frame figures of every sample as MxvStats (one engine call each)."""
    from masr_hls.reference.mxv import MxvStats

    return [MxvStats(pairs=h.pairs, issued=h.issued) for sample in reference_layers for h in sample[1].head]


@pytest.mark.csim
@pytest.mark.yosys
def test_yosys_resources_are_added_to_stored_points(tmp_path):
    """A sweep run without Yosys, then again with ``yosys: true``: only the synthesis runs; the point in MASR mode
    gets the RTL twin's resources, the weight-only-sparse point (not in the RTL) the reason.

    The model is test_rtl_model.py's small GRU, whose synthesis (a slow test, so queued first) this one finds in the
    cache when the suite runs whole; not marked slow, so that it is queued after it."""
    small_gru().save(tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", np.random.default_rng(2).normal(size=(4, 8, 6)).astype(np.float32))
    spec = {
        "models": ["m.keras"],
        "config": "cfg.yml",
        "grid": {"Model.Mode": ["masr", "weight_sparse"]},
        "data": {"inputs": "x.npy"},
    }
    (tmp_path / "cfg.yml").write_text(yaml.safe_dump(SMALL_GRU_CONFIG))
    (tmp_path / "sweep.yml").write_text(yaml.safe_dump(spec))
    with run.client_for(workers=1, processes=False) as client:
        assert run.run_sweep(load_spec(tmp_path / "sweep.yml"), client, progress=False)["run"] == 2
        before = {r["label"]: r for r in ResultStore(tmp_path / "sweep.sqlite").rows()}
        (tmp_path / "sweep.yml").write_text(yaml.safe_dump({**spec, "yosys": True}))
        counts = run.run_sweep(load_spec(tmp_path / "sweep.yml"), client, progress=False)
    assert (counts["run"], counts["synthesised"], counts["skipped"]) == (2, 2, 0)
    rows = {r["label"]: r for r in ResultStore(tmp_path / "sweep.sqlite").rows()}
    masr, sparse = rows["Mode=masr"], rows["Mode=weight_sparse"]
    assert masr["cycles_mean"] == before["Mode=masr"]["cycles_mean"] and masr["task_seconds"] == before["Mode=masr"]["task_seconds"]
    assert masr["rtl_lut"] > 0 and masr["rtl_ff"] > 0 and masr["rtl_dsp"] >= 1 and set(masr["rtl_layers"]) == {"g"}
    assert "dense layers are not in the RTL" in masr["rtl_left_out"]["head"]
    assert sparse["rtl_lut"] is None and "engine mode 'weight_sparse' is not in the RTL" in sparse["rtl_left_out"]["g"]
    text = report.format_table(list(rows.values()))
    assert "LUT" in text.splitlines()[0] and "weight_sparse" in text.splitlines()[-1]
