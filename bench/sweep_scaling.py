"""masr-hls sweep on 1 worker against 2: the speed-up, where a point's time goes, and Dask's share of it; and the
paper-scale model's C-simulation time per utterance, which says when a sweep needs a cluster.

    python bench/sweep_scaling.py [--model ds2_speech] [--samples 1800] [--rounds 1] [--cache cold|warm] [--json FILE]
    python bench/sweep_scaling.py --paper [--frames 50,500] [--utterances 4] [--lanes 16]

A 12-point sweep of a trained speech model (lanes 4/8/16 x engine mode masr/weight_sparse x one-shot pruning
none/0.95) on its held-out clips, each point one task of all the clips, run from an empty store on a LocalCluster of
1 worker and then of 2, side by side (``--rounds 2``: 1, 2, 1, 2).  Models: ``ds2_speech`` (2 x BiGRU(128),
49 frames x 20 bands; build/ds2_speech/model.keras, trained by projects/ds2_speech/recipe.py first if missing,
which takes minutes) or ``kws_speech`` (the bundled BiGRU(48), 25 x 16).

``--cache cold`` (default): each run compiles into its own empty C-simulation cache (MASR_HLS_CACHE), as a
first sweep does; ``warm``: one untimed pass fills a cache that every run then shares.

Printed per run:
  wall          cluster start (workers up) + the sweep (from reading the data to the last point stored)
  tasks         the summed time of every task (the points' tasks and the float model's, shared per pruning level)
  per point     mean seconds by part: load (Keras and TensorFlow, once per worker), convert (+ compile), design
                figures, C simulation, scoring; and the float model's tasks per point
  overhead      (workers x sweep wall - tasks) / points: the time a worker is not running a task, per point and
                as a share of a point's C-simulation time ("with start" adds the cluster start); from Dask's task
                stream, split into: before each worker's first task (the client reading the data, hashing it and
                submitting), between tasks (Dask's scheduling and data transfer, the true per-task overhead), and
                after each worker's last task (waiting for the other worker's last point: the grain of the sweep)
  cpu           this process tree's CPU time and the whole machine's busy share (/proc/stat), so that what
                other work on the machine took is visible

``--paper``: the MASR-paper-scale model of bench/workloads.py (5 x Bidirectional(GRU(800, relu), merge sum), 161
features, Keras-initialised weights pruned in one shot to 90% balanced over the lanes; 16-bit types with a wider
state) converted once with MaxFrames = the longest length asked for, then single-threaded C simulation of
synthetic speech-like utterances (masr_hls.flow.synthetic_sequences, half the features zero) of each length.
Printed: conversion and compile time, C-simulation seconds per utterance (one core), and what a sweep of
50 points over 2,000 such utterances costs in core-hours.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODELS = {  # name -> (model file, configuration)
    "kws_speech": (ROOT / "projects/kws_speech/model.keras", ROOT / "projects/kws_speech/config.yml"),
    "ds2_speech": (ROOT / "build/ds2_speech/model.keras", ROOT / "projects/ds2_speech/config.yml"),
}
PARTS = ("load", "convert", "design", "csim", "score")


def model_file(name: str) -> Path:
    path, _ = MODELS[name]
    if not path.exists():
        print(f"{path.relative_to(ROOT)} is missing: training it with projects/{name}/recipe.py (minutes) ...", flush=True)
        recipe = [sys.executable, str(ROOT / "projects" / name / "recipe.py"), "--out", str(path.parent), "--cache", str(ROOT / "build/speech_cache")]
        subprocess.run(recipe, check=True, cwd=ROOT)
    return path


def _busy_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _tree_cpu() -> float:
    """CPU seconds of this process and its living descendants (with the children they have waited for)."""
    import psutil

    total = 0.0
    me = psutil.Process()
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def one_run(spec_text: dict, workers: int, folder: Path, cache: Path) -> dict:
    from masr_hls.sweep import run
    from masr_hls.sweep.spec import load_spec
    from masr_hls.sweep.store import ResultStore

    path = folder / f"sweep-{workers}-{time.monotonic_ns()}.yml"
    path.write_text(yaml.safe_dump(spec_text))
    spec = load_spec(path)
    os.environ["MASR_HLS_CACHE"] = str(cache)  # the workers inherit it
    busy0, all0 = _busy_jiffies()
    cpu0 = _tree_cpu()
    t0 = time.perf_counter()
    with run.client_for(workers=workers) as client:
        from distributed import get_task_stream

        client.wait_for_workers(workers)
        t1 = time.perf_counter()
        with get_task_stream(client) as stream:
            start = time.time()
            counts = run.run_sweep(spec, client, progress=False)
            end = time.time()
        t2 = time.perf_counter()
        cpu = _tree_cpu() - cpu0  # before the workers exit
        idle = idle_split(stream.data, start, end)
    busy1, all1 = _busy_jiffies()
    rows = ResultStore(spec.store).rows()
    points = len(rows)
    floats = {r["settings"]["pruning"]: r["float_task_seconds"] for r in rows}
    parts = {part: statistics.fmean(r["task_parts"].get(part, 0.0) for r in rows) for part in PARTS}
    parts["float"] = sum(floats.values()) / points
    csim = parts["csim"]
    cores = len(os.sched_getaffinity(0))
    machine = (busy1 - busy0) / (all1 - all0) * (os.cpu_count() or cores)  # cores busy, all processes
    return {
        "workers": workers,
        "points": points,
        "cluster_start_s": t1 - t0,
        "sweep_s": t2 - t1,
        "wall_s": t2 - t0,
        "task_s": counts["task_seconds"],
        "parts_per_point_s": parts,
        "overhead_per_point_s": (workers * (t2 - t1) - counts["task_seconds"]) / points,
        "overhead_with_start_per_point_s": (workers * (t2 - t0) - counts["task_seconds"]) / points,
        "idle_per_point_s": {k: v / points for k, v in idle.items()},
        "csim_per_point_s": csim,
        "our_cpu_s": cpu,
        "machine_busy_cores": machine,
        "our_cores": cpu / (t2 - t0),
    }


def idle_split(tasks: list[dict], start: float, end: float) -> dict:
    """Seconds the workers spent not computing, summed over workers: before their first task, between tasks (with
    transfers), after their last one."""
    by_worker: dict[str, list[tuple[float, float]]] = {}
    transfer = 0.0
    for task in tasks:
        for ss in task["startstops"]:
            if ss["action"] == "compute":
                by_worker.setdefault(task["worker"], []).append((ss["start"], ss["stop"]))
            elif ss["action"] == "transfer":
                transfer += ss["stop"] - ss["start"]
    out = {"before": 0.0, "between": 0.0, "after": 0.0, "transfer": transfer}
    for spans in by_worker.values():
        spans.sort()
        out["before"] += spans[0][0] - start
        out["between"] += sum(max(0.0, b[0] - a[1]) for a, b in zip(spans, spans[1:]))
        out["after"] += end - max(stop for _, stop in spans)
    return out


def describe(r: dict) -> str:
    p = r["parts_per_point_s"]
    parts = ", ".join(f"{k} {v:.2f}" for k, v in p.items())
    share = lambda s: s / r["csim_per_point_s"]  # noqa: E731
    return (
        f"{r['workers']} worker(s): {r['points']} points, wall {r['wall_s']:.1f} s "
        f"(cluster start {r['cluster_start_s']:.1f} s + sweep {r['sweep_s']:.1f} s); tasks {r['task_s']:.1f} s\n"
        f"    per point (s): {parts}\n"
        f"    overhead per point {r['overhead_per_point_s']:.2f} s = {share(r['overhead_per_point_s']):.1%} of its C simulation "
        f"({r['overhead_with_start_per_point_s']:.2f} s = {share(r['overhead_with_start_per_point_s']):.1%} with the cluster start)\n"
        f"    idle per point: before the first task {r['idle_per_point_s']['before']:.2f} s, between tasks "
        f"{r['idle_per_point_s']['between']:.3f} s ({share(r['idle_per_point_s']['between']):.2%} of its C simulation; "
        f"transfers {r['idle_per_point_s']['transfer']:.3f} s), after the last {r['idle_per_point_s']['after']:.2f} s\n"
        f"    cpu: this run {r['our_cpu_s']:.0f} s ({r['our_cores']:.2f} cores); the machine {r['machine_busy_cores']:.2f} of "
        f"{os.cpu_count()} cores busy, so other work took {max(0.0, r['machine_busy_cores'] - r['our_cores']):.2f}"
    )


def paper_csim(frames: list[int], utterances: int, lanes: int, seed: int = 0) -> dict:
    """Single-threaded C-simulation seconds per utterance of the paper-scale model at each length in ``frames``."""
    import dataclasses

    import numpy as np

    sys.path.insert(0, str(ROOT / "bench"))
    import workloads

    import masr_hls
    from masr_hls.flow import synthetic_sequences

    w = dataclasses.replace(workloads.WORKLOADS["paper"], frames=None)
    t0 = time.perf_counter()
    model = workloads.build_model(w, seed, lanes)
    config = workloads.hls_config(w, lanes)
    config["Model"]["MaxFrames"] = max(frames)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="paper_csim-") as tmp:
        hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, hls_config=config, output_dir=Path(tmp) / "hls"))
        t2 = time.perf_counter()
        hw.build_library()
        t3 = time.perf_counter()
        hw.write()  # the HLS project with its weights as C++ text: the sweep's points no longer write it
        t4 = time.perf_counter()
        out = {"lanes": lanes, "build_model_s": t1 - t0, "convert_s": t2 - t1, "compile_s": t3 - t2, "write_s": t4 - t3, "lengths": []}
        rng = np.random.default_rng(seed)
        for t in frames:
            x, _ = synthetic_sequences(rng, utterances, t, w.features, classes=12)
            hw.csim(x[:1], threads=1)  # loads the library's instance
            start, cpu = time.perf_counter(), time.process_time()
            result = hw.csim(x, threads=1)
            seconds = (time.perf_counter() - start) / utterances
            cpu = (time.process_time() - cpu) / utterances
            cycles = float(np.mean([sum(layer.cycles for layer in sample) for sample in result.layers]))
            out["lengths"].append(
                {"frames": t, "utterances": utterances, "csim_s_per_utterance": seconds, "cpu_s_per_utterance": cpu, "cycles_per_utterance": cycles}
            )
    return out


def describe_paper(r: dict) -> str:
    lines = [
        f"paper-scale model (5 x BiGRU(800), 161 features, 90% pruned, {r['lanes']} lanes): building the Keras model "
        f"{r['build_model_s']:.0f} s, converting {r['convert_s']:.0f} s, compiling the C simulation {r['compile_s']:.0f} s "
        f"(writing the HLS project, which a sweep's point does not: {r['write_s']:.0f} s)"
    ]
    for length in r["lengths"]:
        s = length["csim_s_per_utterance"]
        lines.append(
            f"  {length['frames']} frames: {s:.2f} s per utterance on one thread ({length['cpu_s_per_utterance']:.2f} CPU-s; "
            f"mean of {length['utterances']}), "
            f"{length['cycles_per_utterance']:,.0f} cycles; 50 points x 2,000 utterances = {50 * 2000 * s / 3600:.0f} core-hours"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(MODELS), default="ds2_speech")
    parser.add_argument("--samples", type=int, default=1800, help="held-out clips per point (default 1800, all of them)")
    parser.add_argument("--rounds", type=int, default=1, help="1 then 2 workers, this many times (default 1)")
    parser.add_argument("--cache", choices=("cold", "warm"), default="cold", help="C-simulation build cache per run (default cold)")
    parser.add_argument("--json", metavar="FILE", help="every figure as JSON")
    parser.add_argument("--paper", action="store_true", help="the paper-scale model's C-simulation time per utterance instead")
    parser.add_argument("--frames", default="50,500", help="--paper: utterance lengths (default 50,500)")
    parser.add_argument("--utterances", type=int, default=4, help="--paper: utterances per length (default 4)")
    parser.add_argument("--lanes", type=int, default=16, help="--paper: lanes (default 16)")
    args = parser.parse_args(argv)
    if args.paper:
        print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start", flush=True)
        result = paper_csim([int(v) for v in args.frames.split(",")], args.utterances, args.lanes)
        print(describe_paper(result))
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=1))
        return 0
    model, config = model_file(args.model), MODELS[args.model][1]
    spec_text = {
        "models": [str(model)],
        "config": str(config),
        "grid": {"Model.Lanes": [4, 8, 16], "Model.Mode": ["masr", "weight_sparse"]},
        "pruning": [None, 0.95],
        "data": {"speech": "keywords", "samples": args.samples},
        "chunk": args.samples,
    }
    print(f"{args.model}, {args.samples} held-out clips per point, 12 points; {os.cpu_count()} cores; C-simulation cache {args.cache}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="sweep_scaling-") as tmp:
        tmp = Path(tmp)
        if args.cache == "warm":
            t0 = time.perf_counter()
            one_run(spec_text, 2, tmp, tmp / "cache")
            print(f"(untimed pass filling the cache: {time.perf_counter() - t0:.0f} s)", flush=True)
        for i in range(args.rounds):
            for workers in (1, 2):
                cache = tmp / "cache" if args.cache == "warm" else tmp / f"cache-{i}-{workers}"
                results.append(one_run(spec_text, workers, tmp, cache))
                print(describe(results[-1]), flush=True)
    print()
    for i in range(args.rounds):
        one, two = results[2 * i], results[2 * i + 1]
        print(
            f"round {i + 1}: speed-up 2 workers over 1: {one['wall_s'] / two['wall_s']:.2f}x end to end, "
            f"{one['sweep_s'] / two['sweep_s']:.2f}x without the cluster start; Dask's overhead per point on 2 workers "
            f"{two['overhead_per_point_s'] / two['csim_per_point_s']:.1%} of a point's C simulation"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "runs": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
