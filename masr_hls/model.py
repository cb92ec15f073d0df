"""MASR's view of a converted hls4ml ModelGraph: its hardware layers, the numpy reference, the generated project,
C simulation with per-layer figures, export and cross-checks."""

from __future__ import annotations

import ctypes
import signal
import threading
import weakref
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from masr_hls import toolchain
from masr_hls.backend.designs import LayerResult
from masr_hls.backend.passes.build_designs import model_facts
from masr_hls.backend.plugin import MASRBackend
from masr_hls.backend.templates import c_name
from masr_hls.backend.writer import masr_nodes, model_name, project_files
from masr_hls.batches import is_utterances, pad, run_by_length
from masr_hls.constants import STATS_PER_LAYER
from masr_hls.files import write_folder
from masr_hls.numerics.fixed_point import overflow_scope

SOURCE_SUFFIXES = (".h", ".cpp")
LEVELS = ("csim", "reference")
REFERENCE_CHUNK = 64  # samples the reference runs together: bounds its memory on large batches


def _leave_ctrl_c_to_the_main_thread() -> None:
    """Block SIGINT in a worker thread, so that Ctrl-C reaches the main thread, which wakes from its wait at once
    (a signal that lands on a worker only runs Python's handler once the main thread runs again)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


@dataclass
class Prediction:
    """Outputs (float) and raw outputs of a batch, with each sample's per-layer figures.

    For a batch of utterances (a list of (frames, features) arrays) ``y`` and ``y_raw`` are lists too, one
    array per utterance with its own frame count."""

    y: np.ndarray | list[np.ndarray]
    y_raw: np.ndarray | list[np.ndarray]
    layers: list[list[LayerResult]]  # [sample][layer]

    def samples(self):
        """(y, y_raw, layers) of each sample."""
        return zip(self.y, self.y_raw, self.layers)


class MasrModel:
    """The MASR view of an hls4ml ModelGraph converted with ``backend="MASR"``.

    The graph holds everything (its MASR nodes carry their hardware layers); this
    adds what is MASR's own: the numpy reference, C simulation with per-layer
    figures, export and cross-checks.  ``MasrModel.of(graph)`` gives the one view of a graph.
    """

    _views: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

    def __init__(self, graph):
        facts = model_facts(graph)
        self.graph = graph
        self.config = facts.config
        self.layers = [node.design for node in masr_nodes(graph)]
        self.input_t, self.max_frames, self.n_features = facts.input_t, facts.max_frames, facts.n_features
        self.sequence_output = facts.sequence_output
        self.output_t, self.n_out = self.layers[-1].out_t, self.layers[-1].n_out
        self.keras_model = graph.config.config.get("KerasModel")
        self.name = model_name(graph)
        self._libs = {}  # (arithmetic, opt) -> the C simulation library built for them
        self._weight_words = None

    @classmethod
    def of(cls, graph) -> "MasrModel":
        view = cls._views.get(graph)
        if view is None:
            view = cls._views[graph] = cls(graph)
        return view

    @property
    def output_dir(self) -> Path:
        return Path(self.graph.config.get_output_dir())

    @property
    def project_name(self) -> str:
        return self.graph.config.get_project_name()

    @property
    def part(self) -> str:
        return self.graph.config.get_config_value("Part")

    @property
    def clock_period(self) -> float:
        return float(self.graph.config.get_config_value("ClockPeriod"))

    def example_input(self, samples: int, seed: int = 0, density: float = 0.5) -> np.ndarray:
        """Random sparse inputs of the model's shape (for a testbench when no data is given)."""
        rng = np.random.default_rng(seed)
        shape = (samples, self.max_frames, self.n_features)
        return rng.normal(0, 1, shape) * (rng.random(shape) < density)

    # ------------------------------------------------------------ reference
    def quantize_utterances(self, x) -> list[np.ndarray]:
        """Raw input_t values of each utterance of a list of (frames, features) arrays; errors name the utterance."""
        if len(x) == 0:
            raise ValueError("input has no utterances")
        out = []
        for i, u in enumerate(x):
            u = np.asarray(u)
            if u.ndim != 2:
                raise ValueError(f"utterance {i}: expected (frames, {self.n_features}), got shape {u.shape}")
            try:
                out.append(self.quantize_input(u)[0])
            except ValueError as exc:
                raise ValueError(f"utterance {i}: {exc}") from None
        return out

    def quantize_input(self, x) -> np.ndarray:
        """Raw input_t values of a batch (samples, frames, features); one (frames, features) sample is a batch of one."""
        x = np.asarray(x)
        if np.iscomplexobj(x) or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
            raise ValueError(f"input must be real numbers, got dtype {x.dtype}")
        x = x.astype(np.float64)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[2] != self.n_features:
            raise ValueError(f"input must be (samples, frames, {self.n_features}), got shape {x.shape}")
        if len(x) == 0:
            raise ValueError("input has no samples")
        if not 1 <= x.shape[1] <= self.max_frames:
            raise ValueError(f"input has {x.shape[1]} frames; this hardware holds 1..{self.max_frames}")
        if not np.all(np.isfinite(x)):
            raise ValueError("input contains NaN or Inf")
        return self.input_t.quantize_float(x)

    def reference(self, x) -> Prediction:
        """The numpy fixed-point reference: the samples of a chunk run through every layer together.

        ``x``: a batch (samples, frames, features), one (frames, features) sample, or a list of utterances of any
        lengths; utterances of one length run together, each for its own frames."""
        if is_utterances(x):
            with overflow_scope("input"):
                utterances = self.quantize_utterances(x)
            per_sample = run_by_length(lambda batch: self._reference_raw(batch).samples(), utterances)
            return Prediction(*(list(part) for part in zip(*per_sample)))
        with overflow_scope("input"):  # what saturates is logged by layer (fixed_point.recording_overflow)
            x_raw = self.quantize_input(x)
        return self._reference_raw(x_raw)

    def _reference_raw(self, x_raw: np.ndarray) -> Prediction:
        outputs, figures = [], []
        for start in range(0, len(x_raw), REFERENCE_CHUNK):
            h, per_layer = x_raw[start : start + REFERENCE_CHUNK], []
            for layer in self.layers:
                with overflow_scope(layer.name):
                    h, results = layer.reference_batch(h)
                per_layer.append(results)
            outputs.append(h)
            figures.extend(list(sample) for sample in zip(*per_layer))
        y_raw = np.concatenate(outputs)
        return Prediction(self._to_float(y_raw), y_raw, figures)

    def _to_float(self, y_raw: np.ndarray) -> np.ndarray:
        y = self.output_t.to_float(y_raw)
        return y if self.sequence_output else y[:, 0, :]

    # ------------------------------------------------------------- project
    def project_files(self) -> dict[str, str]:
        """Every file of the HLS project, by relative path."""
        return project_files(self.graph)

    def write(self, overwrite: bool = True) -> Path:
        """Write the HLS project into output_dir (hls4ml's habit: the folder is the model's; ``overwrite=False`` refuses
        a non-empty one)."""
        return write_folder(self.output_dir, self.project_files(), overwrite, keep_others=True)

    # ------------------------------------------------------------ C simulation
    def build_library(self, arithmetic: str | None = None, opt: str = "-O2") -> Path:
        """The C simulation library of the project (g++, cached by content; shared by every model of this shape).

        It is built from the project's C simulation sources: the written project's, except that the weights are
        declared without initialisers and loaded at run time.  ``arithmetic``: "fast" (integer-backed fixed point,
        bit-exact with ap_fixed; the default unless MASR_HLS_ARITHMETIC says otherwise) or "ap_fixed" (Xilinx's
        types, as synthesis sees them); ``opt``: g++'s optimisation.
        """
        key = (arithmetic or toolchain.default_arithmetic(), opt)
        if key not in self._libs:
            sources = {rel: text for rel, text in project_files(self.graph, csim=True).items() if rel.endswith(SOURCE_SUFFIXES)}
            self._libs[key] = toolchain.build_library(sources, main="masr_bridge.cpp", name=f"{self.project_name}_csim", arithmetic=key[0], opt=opt)
        return self._libs[key]

    def instances(self, count: int = 1, arithmetic: str | None = None, opt: str = "-O2") -> list[ctypes.CDLL]:
        """``count`` loaded instances of the C simulation library that are this model's alone, its weights loaded."""
        natives = toolchain.instances(self.build_library(arithmetic, opt), count, holder=self)
        words = self.weight_words()
        for lib in natives:
            lib.masr_predict.restype = ctypes.c_int
            if lib.masr_load_weights(toolchain.ptr(words), ctypes.c_int64(words.size)) != 0:
                raise RuntimeError(
                    f"{self.project_name}: the C simulation library does not hold this model's weights "
                    f"({words.size} words); rebuild it (remove {toolchain.cache_dir()})"
                )
        return natives

    def weight_words(self) -> np.ndarray:
        """Every weight, bias and table of the model as the C simulation loads them (templates/masr/csim_weights.h)."""
        if self._weight_words is None:
            words = [rom.words for node in masr_nodes(self.graph) for rom in node.design.cpp_weights(c_name(node))]
            self._weight_words = np.ascontiguousarray(np.concatenate(words), dtype=np.int64)
        return self._weight_words

    def compile(self, arithmetic: str | None = None) -> Path:
        """Write the project and build its C simulation (hls4ml's ``compile``); the path of this model's instance."""
        self.write()
        return Path(self.instances(1, arithmetic)[0]._name)

    def predict(self, x, level: str = "csim", chunk: int | None = None, progress=None) -> np.ndarray:
        """Keras-shaped outputs: ``level`` 'csim' (C simulation of the project) or 'reference' (numpy)."""
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
        return self.csim(x, chunk, progress).y if level == "csim" else self.reference(x).y

    def csim(
        self, x, chunk: int | None = None, progress=None, arithmetic: str | None = None, threads: int | None = None, opt: str = "-O2"
    ) -> Prediction:
        """C-simulate a batch (as :meth:`reference` takes it; utterances of any lengths share one native call, each
        run for its own frames): one native call per chunk of samples, chunks shared by ``threads`` threads.

        ``threads`` defaults to MASR_HLS_THREADS or the CPUs this process may use; each thread runs its own
        instance of the library, so the samples are independent as in one thread.  ``chunk`` defaults to an
        equal share of the batch per thread.  ``arithmetic`` and ``opt`` (g++'s optimisation) pick the library
        (built on first use, the project written then); "-O0" builds in about half the time and runs ten to
        thirty times slower, which suits a check of a few samples.
        """
        if is_utterances(x):
            x_raw, lengths = pad(self.quantize_utterances(x))
        else:
            x_raw = self.quantize_input(x)
            lengths = np.full(len(x_raw), x_raw.shape[1], np.int32)
        x_raw = np.ascontiguousarray(x_raw, dtype=np.int64)
        n, stride = x_raw.shape[:2]
        out_stride = stride if self.sequence_output else 1
        y_raw = np.zeros((n, out_stride, self.n_out), np.int64)
        stats = np.zeros((n, len(self.layers) * STATS_PER_LAYER), np.int64)
        for name, value in (("chunk", chunk), ("threads", threads)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        threads = min(threads or toolchain.default_threads(), n)
        chunk = chunk or -(-n // threads)
        spans = [(start, min(n, start + chunk)) for start in range(0, n, chunk)]
        if not self._libs:
            self.write()  # hls4ml's habit: what is simulated is in the project folder
        natives = self.instances(min(threads, len(spans)), arithmetic, opt)
        progress_lock = threading.Lock()
        halt = threading.Event()  # the caller was interrupted (Ctrl-C) or a thread failed: the others stop too

        def run(lib, my_spans):
            for start, stop in my_spans:
                if halt.is_set():
                    return
                rc = lib.masr_predict(
                    toolchain.ptr(x_raw[start:stop]),
                    ctypes.c_int(stop - start),
                    ctypes.c_int(stride),
                    lengths[start:stop].ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
                    ctypes.c_int(out_stride),
                    toolchain.ptr(y_raw[start:stop]),
                    toolchain.ptr(stats[start:stop]),
                )
                if rc != 0:
                    raise RuntimeError(f"the C simulation refused frame counts {sorted(set(lengths[start:stop].tolist()))} (MAX_T={self.max_frames})")
                if progress is not None:
                    with progress_lock:
                        progress(stop - start)

        if len(natives) == 1:
            run(natives[0], spans)
        else:
            with ThreadPoolExecutor(len(natives), initializer=_leave_ctrl_c_to_the_main_thread) as pool:
                jobs = [pool.submit(run, lib, spans[i :: len(natives)]) for i, lib in enumerate(natives)]
                try:
                    finished, _ = wait(jobs, return_when=FIRST_EXCEPTION)  # not job by job: a later one may fail first
                    for job in finished:
                        job.result()  # the failure, if one thread failed
                except BaseException:
                    halt.set()  # leaving the pool waits for the threads: each ends after its current chunk
                    raise
        figures = [
            [
                LayerResult.from_block(layer.name, row[i * STATS_PER_LAYER : (i + 1) * STATS_PER_LAYER], layer.kind)
                for i, layer in enumerate(self.layers)
            ]
            for row in stats
        ]
        if is_utterances(x):  # each utterance's own output frames
            y_raw = [y_raw[i, : (t if self.sequence_output else 1)] for i, t in enumerate(lengths)]
            return Prediction([self._to_float(y[None])[0] for y in y_raw], y_raw, figures)
        return Prediction(self._to_float(y_raw), y_raw, figures)

    # ------------------------------------------------------------ export and synthesis
    def export(self, out_dir, x=None, force: bool = False, archive: bool = False) -> Path:
        """A self-contained Vitis HLS project with a testbench (golden outputs from the reference for ``x``)."""
        from masr_hls.export import vitis_project as export

        return export.export(self, out_dir, self.example_input(8) if x is None else x, force, archive)

    def build(self, x=None, csim: bool = True, synth: bool = True, cosim: bool = False, export: bool = False) -> str:
        """hls4ml's ``build``: export to ``<output_dir>/vitis`` and run Vitis HLS there (it must be on PATH)."""
        from masr_hls.export import vitis

        vitis.find_tool()  # fail before exporting when there is nothing to run
        target = self.export(self.output_dir / "vitis", x, force=True)
        return vitis.build(target, csim=csim, synth=synth, cosim=cosim, export=export)

    # ------------------------------------------------------------ cross-check
    def cross_check(self, x, keras_model=None):
        from masr_hls.analysis.accuracy import cross_check

        return cross_check(self, x, keras_model if keras_model is not None else self.keras_model)

    def layer_summary(self) -> list[dict]:
        """Per layer: kind, shape, weight densities and storage."""
        from masr_hls.analysis.accuracy import layer_summary

        return layer_summary(self)


MASRBackend.view = MasrModel.of  # hls4ml's compile, predict and build of a MASR graph go through this view
