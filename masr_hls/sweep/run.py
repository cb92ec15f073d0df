"""Run a sweep on Dask: every (design point, chunk of the evaluation set) is a task; a point's row is stored
when all its chunks are in.

The cluster is a ``LocalCluster`` with one single-threaded worker per core, or the user's own scheduler
(``address``).  Tasks are plain functions of picklable arguments; a worker keeps the models, conversions and
C-simulation libraries it has made for the next task of the same point.  The float model's outputs depend on
the model and its pruning only, so they are a task of their own per (model, pruning, chunk), shared by every
point that differs only in its configuration.  With ``yosys: true`` each point also has one task that
synthesises its RTL twin.  A task whose worker dies is run again elsewhere by Dask; a sweep stopped or
crashed resumes from the store.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
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


@functools.lru_cache(maxsize=8)
def _compiled(point: Point, base_config: str | None):
    """The converted point with its C simulation built (g++, cached by content).  The HLS project itself is not
    written: the C simulation needs its sources only, and a large model's weights as C++ text take long to write."""
    hw = _converted(point, base_config)
    hw.build_library()
    return hw


@functools.lru_cache(maxsize=1)
def _workdir() -> tempfile.TemporaryDirectory:
    """Where this process writes the projects it simulates; removed when it exits."""
    return tempfile.TemporaryDirectory(prefix="masr_sweep-")


def _mode(layer) -> str:
    return (getattr(layer, "cell", None) or getattr(layer, "fwd", None) or layer.head).mode


class _Stopwatch:
    """Seconds spent in each named part of a task."""

    def __init__(self):
        self.parts: dict[str, float] = {}
        self._last = self._start = time.perf_counter()

    def lap(self, part: str) -> None:
        now = time.perf_counter()
        self.parts[part] = self.parts.get(part, 0.0) + now - self._last
        self._last = now

    @property
    def total(self) -> float:
        return time.perf_counter() - self._start


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
    seconds: float  # the task's own time (loading, converting and compiling, when it did, included)
    energy_pj: float  # every layer's engine energy, summed over the chunk's inferences
    head_energy_pj: float = 0.0  # the dense layers' share of it
    store_energy_pj: float = 0.0  # the sequence stores' reads and writes (counted words), beside the engines'
    parts: dict = field(default_factory=dict)  # seconds by part: load, convert, design, csim, float, score


@functools.lru_cache(maxsize=8)
def _design_figures(point: Point, base_config: str | None) -> dict:
    """Clock and storage: they depend on the design alone, so one frame of zeros shows them."""
    from masr_hls.analysis.report import build_report

    hw = _compiled(point, base_config)
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


def head_energy_pj(hw, results: list, frames: list[int], table=None) -> float:
    """Engine energy per inference of a converted model's dense layers: the head's engine is the recurrent layers'
    ``masr_mxv`` (masr_hls.analysis.energy.masr_work), called once per frame it sees.  ``results``: per sample, per
    layer (C simulation or reference); ``frames``: each sample's input frames.  The softmax stage is not counted
    (the energy model has no figures for it), nor is the recurrent layers' element-wise stage."""
    from masr_hls.analysis.energy import energy, load_table, masr_work
    from masr_hls.reference.mxv import MxvStats

    if not results:
        return 0.0
    table = table or load_table()
    total = 0.0
    seen = list(frames)  # frames reaching the current layer, per sample
    for i, layer in enumerate(hw.layers):
        if layer.kind == "dense":
            issued = sum(h.issued for sample in results for h in sample[i].head)
            pairs = sum(h.pairs for sample in results for h in sample[i].head)
            stats = MxvStats(pairs=pairs, issued=issued)
            work = masr_work(layer.head.mxv, stats, layer.weights.w_raw != 0, layer.weights.lane_of_row, calls=sum(seen))
            total += energy(work, table).total
        seen = [layer.out_frames(f) for f in seen]
    return total / len(results)


@dataclass
class FloatOutputs:
    """The float model's outputs on a chunk (an array for a batch, one array per utterance for a list of them), and
    the seconds they took."""

    y: object
    seconds: float


def float_outputs(model: str, pruning: float | None, x) -> FloatOutputs:
    """The float model's outputs on a chunk: the same for every point of this model and pruning level, so a task
    of their own, once per chunk."""
    from masr_hls.analysis.accuracy import keras_outputs, keras_run

    t0 = time.perf_counter()
    keras_model = _keras_model(model, pruning)
    if is_utterances(x):
        y = keras_outputs(None, x, keras_model)
    else:
        y = np.asarray(keras_run(keras_model, np.asarray(x, np.float32), False), np.float64)
    return FloatOutputs(y, time.perf_counter() - t0)


def evaluate_chunk(point: Point, base_config: str | None, x, labels, expected: FloatOutputs | None = None) -> ChunkFigures:
    """Convert and compile (once per worker), C-simulate the chunk on one thread, and compare with the float model
    and the labels.

    ``x``: a batch (a classifier, labels: class per sample or None for the float model's own top class) or a list
    of utterances (a CTC recogniser, labels: token lists; scored by word errors after greedy decoding).
    ``expected``: the float model's outputs on ``x`` (:func:`float_outputs`); computed here if not given."""
    from masr_hls.analysis.energy import recurrent_energy_pj, store_energy_pj

    clock = _Stopwatch()
    _keras_model(point.model, point.pruning)
    clock.lap("load")
    hw = _compiled(point, base_config)
    clock.lap("convert")
    static = _design_figures(point, base_config)
    clock.lap("design")
    result = hw.csim(x, threads=1)
    clock.lap("csim")
    if expected is None:
        expected = float_outputs(point.model, point.pruning, x)
        clock.lap("float")
    expected = expected.y
    if is_utterances(x):
        from masr_hls.training import ctc

        decoded = [[ctc.greedy_decode(y) for y in ys] for ys in (expected, result.y)]
        metric, scored = "word accuracy", sum(len(ref) for ref in labels)
        float_errors, fixed_errors = (sum(ctc.edit_distance(r, h) for r, h in zip(labels, hyps)) for hyps in decoded)
        frames = [len(u) for u in x]
    else:
        truth = np.argmax(expected, -1) if labels is None else labels
        metric, scored = "accuracy", len(x)
        float_errors, fixed_errors = (int(np.sum(np.argmax(y, -1) != truth)) for y in (expected, result.y))
        frames = [np.shape(x)[1]] * len(x)
    ideal, engine = _engine_cycles(hw, result.layers)
    head_pj = head_energy_pj(hw, result.layers, frames) * len(x)
    recurrent_pj = recurrent_energy_pj(hw, result.layers) * len(x)
    store_pj = store_energy_pj(hw, result.layers, frames) * len(x)
    clock.lap("score")
    return ChunkFigures(
        samples=len(x),
        metric=metric,
        scored=scored,
        float_errors=int(float_errors),
        fixed_errors=int(fixed_errors),
        cycles=[int(sum(layer.cycles for layer in sample)) for sample in result.layers],
        ideal_cycles=ideal,
        engine_cycles=engine,
        static=static,
        energy_pj=recurrent_pj + head_pj,
        head_energy_pj=head_pj,
        store_energy_pj=store_pj,
        seconds=clock.total,
        parts=clock.parts,
    )


RESOURCES = ("LUT", "FF", "DSP", "BRAM18", "LUTRAM")


def synthesize_point(point: Point, base_config: str | None) -> dict:
    """The RTL twin's Yosys resources of the point (masr_hls.rtl.twin.synthesize_layer, ``synth_xilinx``): summed
    over the layers the RTL covers, each layer's own, and why the others are left out (the RTL has no dense layers
    and only the 'masr' engine mode)."""
    from masr_hls.rtl import twin

    t0 = time.perf_counter()
    hw = _converted(point, base_config)
    layers, left_out = {}, {}
    for layer in hw.layers:
        reason = twin.unsupported_reason(layer)
        if reason is not None:
            left_out[layer.name] = reason
            continue
        found = twin.synthesize_layer(layer, hw.max_frames)
        layers[layer.name] = {k: found[k] for k in RESOURCES}
    recurrent = [layer.name for layer in hw.layers if layer.kind != "dense"]
    complete = bool(recurrent) and all(name in layers for name in recurrent)
    return {
        # totals only when every recurrent layer is in the RTL: a partial sum would read as the model's
        **{f"rtl_{k.lower()}": (sum(v[k] for v in layers.values()) if complete else None) for k in RESOURCES},
        "rtl_layers": layers,
        "rtl_left_out": left_out,
        "rtl_seconds": time.perf_counter() - t0,
    }


def combine(chunks: list[ChunkFigures], floats: list[float] = ()) -> dict:
    """A point's figures from all its chunks (``floats``: the seconds of the float-model tasks it used)."""
    n, scored = sum(c.samples for c in chunks), sum(c.scored for c in chunks)
    cycles = np.concatenate([c.cycles for c in chunks])
    static = chunks[0].static
    engine = sum(c.engine_cycles for c in chunks)
    mean = float(cycles.mean())
    parts: dict[str, float] = {}
    for c in chunks:
        for part, seconds in c.parts.items():
            parts[part] = parts.get(part, 0.0) + seconds
    return {
        "samples": n,
        "metric": chunks[0].metric,
        "float_accuracy": 1 - sum(c.float_errors for c in chunks) / scored,
        "fixed_accuracy": 1 - sum(c.fixed_errors for c in chunks) / scored,
        "cycles_mean": mean,
        "cycles_p99": float(np.percentile(cycles, 99)),
        "latency_us": mean * static["clock_ns"] / 1000,
        "utilisation": sum(c.ideal_cycles for c in chunks) / engine if engine else 1.0,
        "engine_energy_nj": sum(c.energy_pj for c in chunks) / n / 1000,
        "head_energy_nj": sum(c.head_energy_pj for c in chunks) / n / 1000,
        "store_energy_nj": sum(c.store_energy_pj for c in chunks) / n / 1000,
        "energy_with_stores_nj": sum(c.energy_pj + c.store_energy_pj for c in chunks) / n / 1000,
        "task_seconds": sum(c.seconds for c in chunks),
        "csim_seconds": parts.get("csim", 0.0),
        "task_parts": parts,
        "float_task_seconds": float(sum(floats)),  # shared with the points of the same model and pruning
        **static,
    }


def _held(values):
    return values


# ---------------------------------------------------------------- on the client
def input_shape(path: str) -> tuple:
    """(frames, features) of a .keras model's one input, read from the file's config.json without loading Keras;
    frames is None for a model that takes any number."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
        shapes = [layer["config"]["batch_shape"] for layer in config["config"]["layers"] if layer.get("class_name") == "InputLayer"]
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile):
        shapes = []
    if len(shapes) == 1 and len(shapes[0]) == 3:
        return tuple(shapes[0][1:])
    from masr_hls.quiet import load_tensorflow  # a model saved another way: ask Keras

    load_tensorflow()
    import keras

    return tuple(keras.saving.load_model(path, compile=False).inputs[0].shape[1:])


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


@dataclass
class _Pending:
    """A point being run: what it still waits for, and what has come in."""

    point: Point
    key: str
    chunks: int  # chunk results to wait for (0: its C-simulation figures are stored already)
    synth: bool  # waits for its Yosys task
    figures: dict  # stored figures it already has
    results: list = field(default_factory=list)

    def complete(self) -> bool:
        return len(self.results) == self.chunks and not self.synth


def run_sweep(spec: SweepSpec, client, progress: bool = True) -> dict:
    """Run what the store does not hold: every point without a row, and with ``yosys: true`` the synthesis of every
    point whose row has no RTL resources.  Returns counts of the points run and skipped, and the seconds of every
    task run (C simulation, float model and synthesis tasks alike)."""
    from distributed import as_completed
    from tqdm import tqdm

    store = ResultStore(spec.store)
    stored = store.figures()
    shapes = {input_shape(m) for m in spec.models}
    if len(shapes) != 1:
        raise ValueError(f"the sweep's models take different inputs {sorted(shapes)}; sweep them separately")
    frames, features = next(iter(shapes))
    x, labels = evaluation_data(spec, frames, features)
    data = _data_digest(x, labels)
    digests = {m: _digest(m) for m in spec.models}
    chunks = [(start, min(len(x), start + spec.chunk)) for start in range(0, len(x), spec.chunk)]
    pending: dict[str, _Pending] = {}
    for point in spec.points:
        key = point.key(digests[point.model], data)
        has = stored.get(key)
        synth = spec.yosys and (has is None or "rtl_lut" not in has)
        if has is None or synth:
            pending[key] = _Pending(point, key, len(chunks) if has is None else 0, synth, has or {})
    evaluated = [p for p in pending.values() if p.chunks]
    futures = {}
    if evaluated:
        # Each chunk is a task of its own, not scattered data: a worker that dies holding it takes nothing with it,
        # since the scheduler can make it again.
        x_parts = [client.submit(_held, x[a:b], key=f"x-{data[:16]}-{i}") for i, (a, b) in enumerate(chunks)]
        y_parts = [None if labels is None else client.submit(_held, labels[a:b], key=f"y-{data[:16]}-{i}") for i, (a, b) in enumerate(chunks)]
        floats = {}
        for p in evaluated:
            model = (p.point.model, p.point.pruning)
            if model not in floats:
                tag = f"float-{digests[model[0]][:16]}-{model[1]}-{data[:16]}"
                floats[model] = [
                    client.submit(float_outputs, *model, x_parts[i], key=f"{tag}-{i}", retries=2, pure=False) for i in range(len(chunks))
                ]
                for i, future in enumerate(floats[model]):
                    futures[future] = ("float", model, i)
        for p in evaluated:
            model = (p.point.model, p.point.pruning)
            for i in range(len(chunks)):
                future = client.submit(
                    evaluate_chunk, p.point, spec.base_config, x_parts[i], y_parts[i], floats[model][i], key=f"{p.key}-{i}", retries=2, pure=False
                )
                futures[future] = ("chunk", p.key, i)
    for p in pending.values():
        if p.synth:
            futures[client.submit(synthesize_point, p.point, spec.base_config, key=f"{p.key}-yosys", retries=2, pure=False)] = ("yosys", p.key, 0)
    synthesised = sum(1 for p in pending.values() if p.synth)
    seconds = 0.0
    float_seconds: dict[tuple, list[float]] = {}
    with tqdm(total=len(pending), unit="point", desc="sweep", disable=not progress) as bar:
        for future in as_completed(futures):
            kind, which, _ = futures[future]
            result = future.result()
            if kind == "float":
                seconds += result.seconds
                float_seconds.setdefault(which, []).append(result.seconds)
                continue
            p = pending[which]
            if kind == "chunk":
                seconds += result.seconds
                p.results.append(result)
                if len(p.results) == p.chunks:
                    p.figures = {**combine(p.results, float_seconds.get((p.point.model, p.point.pruning), [])), **p.figures}
            else:
                seconds += result["rtl_seconds"]
                p.figures.update(result)
                p.synth = False
            if len(p.results) == p.chunks:
                # stored as soon as its C simulation is in, again when its synthesis is: a failed or stopped synthesis
                # loses no C-simulation figures, and the next run synthesises what has no resources yet
                store.add(p.key, Path(p.point.model).name, p.point.label, dict(p.point.settings, pruning=p.point.pruning), p.figures)
            if p.complete():
                bar.update()
    return {
        "run": len(pending),
        "synthesised": synthesised,
        "skipped": len(spec.points) - len(pending),
        "store": str(spec.store),
        "task_seconds": seconds,
    }
