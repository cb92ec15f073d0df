"""A converted model: its layers, the numpy reference, the generated HLS project, C simulation and cross-checks."""

from __future__ import annotations

import ctypes
import shutil
from dataclasses import dataclass
from pathlib import Path
from string import Template

import numpy as np

from masr_hls.backend.config import layer_settings, validate
from masr_hls.backend.hardware import STATS_PER_LAYER, LayerResult, build_layer
from masr_hls.frontend.keras_reader import ConversionError, ModelSpec
from masr_hls.numerics.fixed_point import FixedType
from masr_hls.sim import compiler

SOURCE_SUFFIXES = (".h", ".cpp")


def write_folder(out: Path, files: dict[str, str], overwrite: bool = False) -> Path:
    """Write ``files`` (relative path -> text) as the folder ``out``, which appears whole or not at all.

    A non-empty ``out`` is refused unless ``overwrite``; the files go to a hidden
    sibling first, which is renamed into place.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"folder {out} is not empty; choose another or allow overwriting (--force)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    for rel, text in files.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return out


@dataclass
class Prediction:
    """Outputs (float) and raw outputs of a batch, with each sample's per-layer figures."""

    y: np.ndarray
    y_raw: np.ndarray
    layers: list[list[LayerResult]]  # [sample][layer]


class MasrModel:
    """A Keras model converted to MASR hardware (hls4ml's ModelGraph habits: compile, predict, write, build)."""

    def __init__(self, spec: ModelSpec, config: dict, output_dir, project_name: str = "myproject",
                 part: str = "xcvu9p-flga2104-2-e", clock_period: float = 5.0, keras_model=None):
        self.spec, self.config = spec, validate(config)
        self.output_dir = Path(output_dir)
        self.project_name, self.part, self.clock_period = project_name, part, clock_period
        self.keras_model = keras_model
        if not project_name.isidentifier():
            raise ConversionError(f"project_name {project_name!r} must be a C identifier")
        names = {layer.name for layer in spec.layers}
        for name in self.config["LayerName"]:
            if name not in names:
                raise ConversionError(f"LayerName.{name}: no such layer in the model; layers: {sorted(names)}")
        self.max_frames = self.config["Model"].get("MaxFrames") or spec.n_frames
        if not self.max_frames:
            raise ConversionError("the model's input has no fixed number of frames: set Model.MaxFrames in the configuration")
        self.input_t = FixedType.parse(self.config["Model"]["Precision"]["input"])
        self.layers = []
        n_in, in_t = spec.n_features, self.input_t
        for layer_spec in spec.layers:
            try:
                layer = build_layer(layer_spec, n_in, in_t, layer_settings(self.config, layer_spec.name), self.max_frames)
            except ConversionError:
                raise
            except ValueError as exc:
                raise ConversionError(f"layer {layer_spec.name!r}: {exc}") from None
            self.layers.append(layer)
            n_in, in_t = layer.n_out, layer.out_t
        self.output_t, self.n_out = in_t, n_in
        self.sequence_output = all(layer.return_sequences for layer in self.layers)
        self._lib = None

    # ------------------------------------------------------------ reference
    def quantize_input(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[2] != self.spec.n_features:
            raise ValueError(f"input must be (samples, frames, {self.spec.n_features}), got shape {x.shape}")
        if not 1 <= x.shape[1] <= self.max_frames:
            raise ValueError(f"input has {x.shape[1]} frames; this hardware holds 1..{self.max_frames}")
        if not np.all(np.isfinite(x)):
            raise ValueError("input contains NaN or Inf")
        return self.input_t.quantize_float(x)

    def reference(self, x) -> Prediction:
        """The numpy fixed-point reference, sample by sample."""
        x_raw = self.quantize_input(x)
        outputs, figures = [], []
        for sample in x_raw:
            h, per_layer = sample, []
            for layer in self.layers:
                h, result = layer.reference(h)
                per_layer.append(result)
            outputs.append(h)
            figures.append(per_layer)
        y_raw = np.stack(outputs)
        return Prediction(self._to_float(y_raw), y_raw, figures)

    def _to_float(self, y_raw: np.ndarray) -> np.ndarray:
        y = self.output_t.to_float(y_raw)
        return y if self.sequence_output else y[:, 0, :]

    # ------------------------------------------------------------- project
    def project_files(self) -> dict[str, str]:
        """Every file of the HLS project, by relative path."""
        templates = compiler.templates_dir()
        fill = lambda name, **kw: Template((templates / "project" / name).read_text()).substitute(project=self.project_name, **kw)  # noqa: E731
        names = [f"layer{i}" for i in range(len(self.layers))]
        configs = "".join(layer.cpp_config(c) for layer, c in zip(self.layers, names))
        weights = "".join(layer.cpp_weights(c) for layer, c in zip(self.layers, names))
        buffers, calls, x = [], [], "x"
        for i, (layer, c) in enumerate(zip(self.layers, names)):
            last = i == len(self.layers) - 1
            y = "y" if last else f"{c}_out"
            if not last:
                buffers.append(f"    static {layer.out_t.cpp()} {y}[MAX_T][{layer.n_out}];")
            calls.append(f"    // {c}: {layer.name}\n    {{\n        long long *stats = stats_all + {i * STATS_PER_LAYER};\n"
                         f"    {layer.cpp_call(c, x, y)}    }}")
            x = y
        files = {
            f"firmware/{self.project_name}.h": fill("myproject.h.in", guard=f"{self.project_name.upper()}_H"),
            "firmware/parameters.h": fill(
                "parameters.h.in", guard="PARAMETERS_H", max_t=self.max_frames, n_in=self.spec.n_features, n_out=self.n_out,
                out_frames=self.max_frames if self.sequence_output else 1, n_layers=len(self.layers),
                stats_per_layer=STATS_PER_LAYER, input_t=self.input_t.cpp(), output_t=self.output_t.cpp(), configs=configs,
            ),
            "firmware/weights.h": "// Weights of the model as ROM initialisers (generated by masr_hls).\n"
            "#ifndef WEIGHTS_H\n#define WEIGHTS_H\n\n#include \"parameters.h\"\n\n" + weights + "\n#endif\n",
            f"firmware/{self.project_name}.cpp": fill("myproject.cpp.in", model=self.spec.name, buffers="\n".join(buffers),
                                                      calls="\n".join(calls)),
            "masr_bridge.cpp": fill("bridge.cpp.in"),
        }
        for header in sorted((templates / "masr").glob("*.h")):
            files[f"firmware/masr/{header.name}"] = header.read_text()
        return files

    def write(self, overwrite: bool = False) -> Path:
        """Write the HLS project into output_dir (refusing a non-empty folder unless ``overwrite``)."""
        return write_folder(self.output_dir, self.project_files(), overwrite)

    # ------------------------------------------------------------ C simulation
    def compile(self) -> Path:
        """Build the C simulation (cached by content); the project is written to output_dir if it is not there yet."""
        if not (self.output_dir.exists() and any(self.output_dir.iterdir())):
            self.write()
        sources = {rel: text for rel, text in self.project_files().items() if rel.endswith(SOURCE_SUFFIXES)}
        lib = compiler.build_library(sources, main="masr_bridge.cpp", name=f"{self.project_name}_csim")
        self._lib = compiler.load(lib)
        self._lib.masr_predict.restype = ctypes.c_int
        return lib

    def predict(self, x, chunk: int | None = None, progress=None) -> np.ndarray:
        return self.csim(x, chunk, progress).y

    def csim(self, x, chunk: int | None = None, progress=None) -> Prediction:
        """C-simulate a batch: one native call per chunk of samples (the whole batch by default)."""
        if self._lib is None:
            self.compile()
        x_raw = np.ascontiguousarray(self.quantize_input(x), dtype=np.int64)
        n, frames = x_raw.shape[:2]
        out_frames = frames if self.sequence_output else 1
        y_raw = np.zeros((n, out_frames, self.n_out), np.int64)
        stats = np.zeros((n, len(self.layers) * STATS_PER_LAYER), np.int64)
        chunk = chunk or n
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            rc = self._lib.masr_predict(
                compiler.ptr(x_raw[start:stop]), ctypes.c_int(stop - start), ctypes.c_int(frames),
                compiler.ptr(y_raw[start:stop]), compiler.ptr(stats[start:stop]),
            )
            if rc != 0:
                raise RuntimeError(f"the C simulation refused {frames} frames (MAX_T={self.max_frames})")
            if progress is not None:
                progress(stop - start)
        figures = [
            [LayerResult.from_block(layer.name, row[i * STATS_PER_LAYER : (i + 1) * STATS_PER_LAYER], layer.kind)
             for i, layer in enumerate(self.layers)]
            for row in stats
        ]
        return Prediction(self._to_float(y_raw), y_raw, figures)

    # ------------------------------------------------------------ export and synthesis
    def export(self, out_dir, x=None, force: bool = False, archive: bool = False) -> Path:
        """A self-contained Vitis HLS project with a testbench (golden outputs from the reference for ``x``)."""
        from masr_hls.export import project
        from masr_hls.export import vitis_project as export

        return export.export(self, out_dir, project.example_input(self, 8) if x is None else x, force, archive)

    def build(self, x=None, csim: bool = True, synth: bool = True, cosim: bool = False, export: bool = False) -> str:
        """hls4ml's ``build``: export to ``<output_dir>/vitis`` and run Vitis HLS there (it must be on PATH)."""
        from masr_hls.export import vitis

        vitis.find_tool()  # fail before exporting when there is nothing to run
        target = self.export(self.output_dir / "vitis", x, force=True)
        return vitis.build(target, csim=csim, synth=synth, cosim=cosim, export=export)

    # ------------------------------------------------------------ cross-check
    def tolerance(self) -> float:
        """Stated bound on |csim - Keras| per output (see docs/accuracy.md for the derivation)."""
        from masr_hls.analysis.accuracy import keras_tolerance

        return keras_tolerance(self)

    def cross_check(self, x, keras_model=None) -> "CrossCheck":
        from masr_hls.analysis.accuracy import cross_check

        return cross_check(self, x, keras_model if keras_model is not None else self.keras_model)

    def layer_summary(self) -> list[dict]:
        """Per layer: kind, shape, weight densities and storage."""
        from masr_hls.analysis.accuracy import layer_summary

        return layer_summary(self)
