"""A sweep description (YAML, docs/sweep.md): models, the design points to try on them, the evaluation data.

    models: [projects/kws_speech/model.keras]      # trained .keras models, paths relative to this file
    config: projects/kws_speech/config.yml         # optional: the configuration every point starts from
    grid:                                          # every combination of these values...
      Model.Lanes: [4, 16]
      Model.Mode: [masr, weight_sparse]
    points:                                        # ...and/or design points listed one by one
      - {Model.Lanes: 8, LayerName.bigru.Precision.state: "ap_fixed<12,5>"}
    pruning: [null, 0.95]                          # optional magnitude-pruning levels applied after training
    data: {speech: keywords, samples: 300}         # or {speech: digits}, or {inputs: x.npy, labels: y.npy}
    chunk: 100                                     # samples per task (default 256)
    yosys: true                                    # optional: the RTL twin's Yosys resources of every point
    store: results.sqlite                          # default: the spec's name with .sqlite, beside it

A key is a dotted path into the configuration: ``Model.<key>`` or ``LayerName.<layer>.<key>`` (``Precision``
roles one level deeper).  Every error names the key it is about.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from masr_hls.errors import MasrError


class SweepSpecError(MasrError, ValueError):
    """A sweep description that cannot be run, naming the file and the key."""


TOP_KEYS = {"models", "config", "grid", "points", "pruning", "data", "chunk", "store", "yosys"}
SPEECH_SETS = ("keywords", "digits")  # masr_hls.training: speech_data (classes), digits_data (CTC word strings)
DEFAULT_CHUNK = 256


@dataclass(frozen=True)
class Point:
    """One design point: a model, its pruning level and the configuration values set over the base."""

    model: str  # absolute path of the .keras file
    pruning: float | None
    settings: tuple[tuple[str, object], ...]  # (dotted key, value), in the spec's order

    @property
    def label(self) -> str:
        """The point's settings, short: for tables and plot labels."""
        parts = [f"{key.split('.')[-1]}={value}" for key, value in self.settings]
        if self.pruning is not None:
            parts.append(f"pruned={self.pruning:g}")
        return " ".join(parts) or "base"

    def key(self, model_digest: str, data_digest: str) -> str:
        """What the stored row is found by: the model's bytes, the point's settings and the evaluation data."""
        text = json.dumps([model_digest, self.pruning, list(self.settings), data_digest], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class SweepSpec:
    path: Path
    models: list[str]
    base_config: str | None
    points: list[Point]
    data: dict
    chunk: int = DEFAULT_CHUNK
    store: Path = field(default=None)
    yosys: bool = False  # also synthesise each point's RTL twin (yosys synth_xilinx) for its resources


def _error(path, key: str, message: str) -> SweepSpecError:
    return SweepSpecError(f"{path}: {key}: {message}")


def _check_key(path, key) -> str:
    parts = str(key).split(".")
    if parts[0] == "Model" and len(parts) >= 2:
        return str(key)
    if parts[0] == "LayerName" and len(parts) >= 3:
        return str(key)
    raise _error(path, f"grid key {key!r}", "a configuration key is 'Model.<key>' or 'LayerName.<layer>.<key>'")


def load_spec(path) -> SweepSpec:
    """Read and check a sweep description; relative paths are relative to its folder."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"sweep file {path} not found") from None
    except yaml.YAMLError as exc:
        raise SweepSpecError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise SweepSpecError(f"{path}: expected a mapping of {sorted(TOP_KEYS)}")
    unknown = sorted(set(raw) - TOP_KEYS)
    if unknown:
        raise _error(path, unknown[0], f"unknown key; the keys are {sorted(TOP_KEYS)}")
    here = path.resolve().parent
    models = raw.get("models")
    if isinstance(models, str):
        models = [models]
    if not models or not isinstance(models, list):
        raise _error(path, "models", "give one or more trained .keras models")
    resolved = []
    for model in models:
        model_path = (here / str(model)).resolve()
        if model_path.suffix != ".keras" or not model_path.is_file():
            raise _error(path, "models", f"{model} is not a .keras file")
        resolved.append(str(model_path))
    base = raw.get("config")
    if base is not None and not (here / str(base)).is_file():
        raise _error(path, "config", f"{base} not found")
    settings = _settings(path, raw.get("grid"), raw.get("points"))
    pruning = raw.get("pruning", [None])
    if not isinstance(pruning, list) or not pruning:
        raise _error(path, "pruning", "a list of sparsity levels (null: as trained)")
    for level in pruning:
        if level is not None and (isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 <= level < 1):
            raise _error(path, "pruning", f"{level!r} is not a sparsity in [0, 1) or null")
    chunk = raw.get("chunk", DEFAULT_CHUNK)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise _error(path, "chunk", f"{chunk!r} is not a positive number of samples")
    yosys = raw.get("yosys", False)
    if not isinstance(yosys, bool):
        raise _error(path, "yosys", f"{yosys!r}: true (synthesise every point's RTL twin with Yosys) or false")
    points = [Point(m, p, s) for m in resolved for p in pruning for s in settings]
    store = Path(raw["store"]) if raw.get("store") else path.with_suffix(".sqlite")
    return SweepSpec(
        path=path,
        models=resolved,
        base_config=str((here / str(base)).resolve()) if base is not None else None,
        points=points,
        data=_data(path, raw.get("data"), here),
        chunk=chunk,
        yosys=yosys,
        store=(store if store.is_absolute() else here / store).resolve(),
    )


def _settings(path, grid, points) -> list[tuple[tuple[str, object], ...]]:
    """Every combination of the grid's values, then the listed points; the base configuration alone if neither."""
    out = []
    if grid is not None:
        if not isinstance(grid, dict) or not grid:
            raise _error(path, "grid", "a mapping of configuration keys to lists of values")
        for key, values in grid.items():
            _check_key(path, key)
            if not isinstance(values, list) or not values:
                raise _error(path, f"grid key {key!r}", "give a non-empty list of values")
        keys = list(grid)
        out += [tuple(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]
    if points is not None:
        if not isinstance(points, list):
            raise _error(path, "points", "a list of mappings of configuration keys to values")
        for i, point in enumerate(points):
            if not isinstance(point, dict):
                raise _error(path, f"points[{i}]", "a mapping of configuration keys to values")
            out.append(tuple((_check_key(path, k), v) for k, v in point.items()))
    return out or [()]


def _data(path, data, here: Path) -> dict:
    if not isinstance(data, dict):
        raise _error(path, "data", "give {speech: keywords} or {inputs: x.npy, labels: y.npy}")
    samples = data.get("samples")
    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 1):
        raise _error(path, "data.samples", f"{samples!r} is not a positive number")
    if "speech" in data:
        if data["speech"] not in SPEECH_SETS:
            raise _error(path, "data.speech", f"{data['speech']!r}; the bundled speech sets are {SPEECH_SETS}")
        return {"speech": data["speech"], "samples": samples}
    if "inputs" not in data:
        raise _error(path, "data", "give {speech: keywords} or {inputs: x.npy, labels: y.npy}")
    out = {"samples": samples}
    for key in ("inputs", "labels"):
        if key in data:
            file = (here / str(data[key])).resolve()
            if not file.is_file():
                raise _error(path, f"data.{key}", f"{data[key]} not found")
            out[key] = str(file)
    return out


def apply_settings(config: dict, settings) -> dict:
    """``config`` with each dotted key set (sections created as needed)."""
    for key, value in settings:
        parts = key.split(".")
        section = config
        for part in parts[:-1]:
            section = section.setdefault(part, {})
            if not isinstance(section, dict):
                raise SweepSpecError(f"{key}: {part} is not a section of the configuration")
        section[parts[-1]] = value
    return config
