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

from masr_hls.batches import is_utterances
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
    metric: str  # "accuracy" (a classifier: top class per sample) or "word accuracy" (1 - WER, CTC recognisers)
    scored: int  # samples, or the reference words
    float_errors: int
    fixed_errors: int
    cycles: list[int]  # per inference
    ideal_cycles: int  # summed over the chunk's inferences and the layers' engines
    engine_cycles: int
    static: dict  # figures of the design alone (storage, clock), the same in every chunk
    seconds: float  # the task's own time (conversion, when it converted, included)
    energy_pj: float  # the recurrent layers' engine energy, summed over the chunk's inferences


@functools.lru_cache(maxsize=8)
def _design_figures(point: Point, base_config: str | None) -> dict:
    """Clock and storage: they depend on the design alone, so one frame of zeros shows them."""
    from masr_hls.analysis.report import build_report

    hw = _converted(point, base_config)
    report = build_report(hw, np.zeros((1, 1, hw.n_features)))
    modes = {layer.name: _mode(layer) for layer in hw.layers}
    return {
        "clock_ns": hw.clock_period,
        "weight_bits": int(sum(r["storage_bits"]["dense" if modes[r["layer"]] == "dense" else "bitmask"] for r in report["layers"])),
        "activation_bits": int(sum(r["dense_worst"] for r in report["sequences"])),
    }


def _engine_cycles(hw, results: list) -> tuple[int, int]:
    """(ideal, counted) engine cycles summed over samples and layers: ideal = ceil(pairs / MACs) per layer."""
    from masr_hls.reference.mxv import ideal_cycles

    ideal = engine = 0
    for sample in results:
        for layer, r in zip(hw.layers, sample):
            cfg = layer.head if layer.kind == "dense" else (layer.cell if layer.kind == "recurrent" else layer.fwd)
            ideal += ideal_cycles(r.pairs, cfg.lanes * cfg.macs_per_lane)
            if r.head is not None:
                engine += sum(h.engine_cycles for h in r.head)
            else:
                engine += sum(s.kernel.cycles + s.recurrent.cycles for s in (r.forward, r.backward) if s is not None)
    return ideal, engine


def evaluate_chunk(point: Point, base_config: str | None, x, labels) -> ChunkFigures:
    """Convert (once per worker), C-simulate the chunk on one thread, and compare with the float model and labels.

    ``x``: a batch (a classifier, labels: class per sample or None for the float model's own top class) or a list
    of utterances (a CTC recogniser, labels: token lists; scored by word errors after greedy decoding)."""
    from masr_hls.analysis.accuracy import keras_outputs
    from masr_hls.analysis.energy import recurrent_energy_pj

    t0 = time.perf_counter()
    hw = _converted(point, base_config)
    result = hw.csim(x, threads=1)
    expected = keras_outputs(hw, x, hw.keras_model)
    if is_utterances(x):
        from masr_hls.training import ctc

        decoded = [[ctc.greedy_decode(y) for y in ys] for ys in (expected, result.y)]
        metric, scored = "word accuracy", sum(len(ref) for ref in labels)
        float_errors, fixed_errors = (sum(ctc.edit_distance(r, h) for r, h in zip(labels, hyps)) for hyps in decoded)
    else:
        truth = np.argmax(expected, -1) if labels is None else labels
        metric, scored = "accuracy", len(x)
        float_errors, fixed_errors = (int(np.sum(np.argmax(y, -1) != truth)) for y in (expected, result.y))
    ideal, engine = _engine_cycles(hw, result.layers)
    return ChunkFigures(
        samples=len(x),
        metric=metric,
        scored=scored,
        float_errors=int(float_errors),
        fixed_errors=int(fixed_errors),
        cycles=[int(sum(layer.cycles for layer in sample)) for sample in result.layers],
        ideal_cycles=ideal,
        engine_cycles=engine,
        static=_design_figures(point, base_config),
        energy_pj=recurrent_energy_pj(hw, result.layers) * len(x),
        seconds=time.perf_counter() - t0,
    )


def combine(chunks: list[ChunkFigures]) -> dict:
    """A point's figures from all its chunks."""
    n, scored = sum(c.samples for c in chunks), sum(c.scored for c in chunks)
    cycles = np.concatenate([c.cycles for c in chunks])
    static = chunks[0].static
    engine = sum(c.engine_cycles for c in chunks)
    mean = float(cycles.mean())
    return {
        "samples": n,
        "metric": chunks[0].metric,
        "float_accuracy": 1 - sum(c.float_errors for c in chunks) / scored,
        "fixed_accuracy": 1 - sum(c.fixed_errors for c in chunks) / scored,
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
def evaluation_data(spec: SweepSpec, frames: int | None, features: int):
    """The evaluation inputs and labels (None: the float model's own top class is the reference); the spoken digit
    strings are a list of utterances with token lists."""
    samples = spec.data.get("samples")
    if spec.data.get("speech") == "keywords":
        from masr_hls.training.speech_data import load_kws

        _, _, x, y, _ = load_kws(frames=frames, n_mels=features, test_only=True)
    elif spec.data.get("speech") == "digits":
        from masr_hls.training.digits_data import load_digits

        _, _, x, y, _ = load_digits(n_mels=features, test_only=True)
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


def _data_digest(x, labels) -> str:
    h = hashlib.sha256()
    for part in x if is_utterances(x) else [x]:
        h.update(np.ascontiguousarray(part).tobytes())
    if labels is not None:
        h.update(repr([list(map(int, np.ravel(t))) for t in labels]).encode())
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
