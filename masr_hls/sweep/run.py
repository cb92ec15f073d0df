"""Run a sweep on Dask: every (design point, chunk of the evaluation set) is a task; a point's row is stored
when all its chunks are in.

The cluster is a ``LocalCluster`` with one single-threaded worker per core, or the user's own scheduler
(``address``).  Tasks are plain functions of picklable arguments; a worker keeps the models, conversions and
C-simulation libraries it has made for the next task of the same point.  A task whose worker dies is run
again elsewhere by Dask; a sweep stopped or crashed resumes from the store.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from masr_hls.sweep.spec import Point, SweepSpec, apply_settings
from masr_hls.sweep.store import ResultStore


# ---------------------------------------------------------------- on a worker
@functools.lru_cache(maxsize=8)
def _keras_model(path: str, pruning: float | None):
    from masr_hls.quiet import load_tensorflow

    load_tensorflow()
    import keras

    from masr_hls.training.pruning import prune_to_sparsity

    model = keras.saving.load_model(path, compile=False)
    return model if pruning is None else prune_to_sparsity(model, pruning)


@functools.lru_cache(maxsize=8)
def _converted(point: Point, base_config: str | None):
    """The point's MasrModel, converted once per worker process."""
    import masr_hls
    from masr_hls.backend.config import load_yaml

    model = _keras_model(point.model, point.pruning)
    config = load_yaml(base_config) if base_config else masr_hls.config_from_keras_model(model)
    config = apply_settings(copy.deepcopy(config), point.settings)
    out = Path(tempfile.mkdtemp(dir=_workdir().name))
    return masr_hls.masr_model(masr_hls.convert_from_keras_model(model, hls_config=config, output_dir=out / "hls"))


@functools.lru_cache(maxsize=1)
def _workdir() -> tempfile.TemporaryDirectory:
    """Where this process writes the projects it simulates; removed when it exits."""
    return tempfile.TemporaryDirectory(prefix="masr_sweep-")


def _mode(layer) -> str:
    return (getattr(layer, "cell", None) or getattr(layer, "fwd", None) or layer.head).mode


@dataclass
class ChunkFigures:
    """What one task measured on its chunk of the evaluation set."""

    samples: int
    float_correct: int
    fixed_correct: int
    cycles: list[int]  # per inference
    ideal_cycles: float  # summed over the chunk's inferences and the layers' engines
    engine_cycles: float
    static: dict  # figures of the design alone (storage, clock), the same in every chunk
    seconds: float  # the task's own time (conversion, when it converted, included)
    energy_pj: float  # the recurrent layers' engine energy, summed over the chunk's inferences


def evaluate_chunk(point: Point, base_config: str | None, x: np.ndarray, labels: np.ndarray | None) -> ChunkFigures:
    """Convert (once per worker), C-simulate the chunk on one thread, and compare with the float model and labels."""
    from masr_hls.analysis.energy import recurrent_energy_pj
    from masr_hls.analysis.report import report_of

    t0 = time.perf_counter()
    hw = _converted(point, base_config)
    result = hw.csim(x, threads=1)
    expected = np.asarray(hw.keras_model(x.astype(np.float32), training=False))
    truth = np.argmax(expected, -1) if labels is None else labels
    report = report_of(hw, x, result)
    modes = {layer.name: _mode(layer) for layer in hw.layers}
    storage = sum(r["storage_bits"]["dense" if modes[r["layer"]] == "dense" else "bitmask"] for r in report["layers"])
    return ChunkFigures(
        samples=len(x),
        float_correct=int(np.sum(np.argmax(expected, -1) == truth)),
        fixed_correct=int(np.sum(np.argmax(result.y, -1) == truth)),
        cycles=[int(sum(layer.cycles for layer in sample)) for sample in result.layers],
        ideal_cycles=sum(r["ideal_cycles"] * len(x) for r in report["layers"]),
        engine_cycles=sum(r["engine_cycles"] * len(x) for r in report["layers"]),
        static={
            "clock_ns": hw.clock_period,
            "weight_bits": int(storage),
            "activation_bits": int(sum(r["dense_worst"] for r in report["sequences"])),
        },
        energy_pj=recurrent_energy_pj(hw, result.layers) * len(x),
        seconds=time.perf_counter() - t0,
    )


def combine(chunks: list[ChunkFigures]) -> dict:
    """A point's figures from all its chunks."""
    n = sum(c.samples for c in chunks)
    cycles = np.concatenate([c.cycles for c in chunks])
    static = chunks[0].static
    engine = sum(c.engine_cycles for c in chunks)
    mean = float(cycles.mean())
    return {
        "samples": n,
        "float_accuracy": sum(c.float_correct for c in chunks) / n,
        "fixed_accuracy": sum(c.fixed_correct for c in chunks) / n,
        "cycles_mean": mean,
        "cycles_p99": float(np.percentile(cycles, 99)),
        "latency_us": mean * static["clock_ns"] / 1000,
        "utilisation": sum(c.ideal_cycles for c in chunks) / engine if engine else 1.0,
        "energy_nj": sum(c.energy_pj for c in chunks) / n / 1000,
        "task_seconds": sum(c.seconds for c in chunks),
        **static,
    }


def _held(values: np.ndarray) -> np.ndarray:
    return values


# ---------------------------------------------------------------- on the client
def evaluation_data(spec: SweepSpec, frames: int, features: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The evaluation inputs and labels (None: the float model's own top class is the reference)."""
    samples = spec.data.get("samples")
    if "speech" in spec.data:
        from masr_hls.training.speech_data import load_kws

        _, _, x, y, _ = load_kws(frames=frames, n_mels=features, test_only=True)
    else:
        x = np.load(spec.data["inputs"], allow_pickle=False)
        y = np.load(spec.data["labels"], allow_pickle=False) if "labels" in spec.data else None
        if x.ndim != 3 or x.shape[1:] != (frames, features):
            raise ValueError(f"{spec.data['inputs']}: inputs of shape {x.shape}; the models take (samples, {frames}, {features})")
        if y is not None and len(y) != len(x):
            raise ValueError(f"{spec.data['labels']}: {len(y)} labels for {len(x)} inputs")
    return (x[:samples], None if y is None else y[:samples]) if samples else (x, y)


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _data_digest(x: np.ndarray, labels) -> str:
    h = hashlib.sha256(np.ascontiguousarray(x).tobytes())
    if labels is not None:
        h.update(np.ascontiguousarray(labels).tobytes())
    return h.hexdigest()


def client_for(address: str | None = None, workers: int | None = None, processes: bool = True):
    """A Dask client: of the scheduler at ``address``, or of a new LocalCluster of single-threaded workers."""
    from distributed import Client, LocalCluster

    if address:
        return Client(address)
    n = workers or len(os.sched_getaffinity(0))
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes, dashboard_address=None, silence_logs=logging.ERROR)
    return Client(cluster)


def run_sweep(spec: SweepSpec, client, progress: bool = True) -> dict:
    """Run every point the store does not hold; returns counts of what was run and skipped."""
    from distributed import as_completed
    from tqdm import tqdm

    from masr_hls.quiet import load_tensorflow

    load_tensorflow()
    import keras

    store = ResultStore(spec.store)
    done = store.done()
    shapes = {tuple(keras.saving.load_model(m, compile=False).inputs[0].shape[1:]) for m in spec.models}
    if len(shapes) != 1:
        raise ValueError(f"the sweep's models take different inputs {sorted(shapes)}; sweep them separately")
    frames, features = next(iter(shapes))
    x, labels = evaluation_data(spec, frames, features)
    data = _data_digest(x, labels)
    digests = {m: _digest(m) for m in spec.models}
    todo = [(p, p.key(digests[p.model], data)) for p in spec.points]
    todo = [(p, key) for p, key in todo if key not in done]
    chunks = [(start, min(len(x), start + spec.chunk)) for start in range(0, len(x), spec.chunk)]
    # Each chunk is a task of its own, not scattered data: a worker that dies holding it takes nothing with it,
    # since the scheduler can make it again.
    x_parts = [client.submit(_held, x[a:b], key=f"x-{data[:16]}-{i}") for i, (a, b) in enumerate(chunks)]
    y_parts = [None if labels is None else client.submit(_held, labels[a:b], key=f"y-{data[:16]}-{i}") for i, (a, b) in enumerate(chunks)]
    futures = {}
    for point, key in todo:
        for i in range(len(chunks)):
            future = client.submit(evaluate_chunk, point, spec.base_config, x_parts[i], y_parts[i], key=f"{key}-{i}", retries=2, pure=False)
            futures[future] = (point, key)
    collected: dict[str, list] = {}
    with tqdm(total=len(todo), unit="point", desc="sweep", disable=not progress) as bar:
        for future in as_completed(futures):
            point, key = futures[future]
            collected.setdefault(key, []).append(future.result())
            if len(collected[key]) == len(chunks):
                store.add(key, Path(point.model).name, point.label, dict(point.settings, pruning=point.pruning), combine(collected.pop(key)))
                bar.update()
    return {"run": len(todo), "skipped": len(spec.points) - len(todo), "store": str(spec.store)}
