"""Conversion configuration, in hls4ml's habits: a ``Model`` section of defaults and per-layer overrides.

    {"Model": {"Precision": {...}, "Lanes": 8, ...},
     "LayerName": {"gru_1": {"Lanes": 16, "Precision": {"state": "ap_fixed<12,5>"}}}}

Every key is checked: a misspelt key is an error naming it, never ignored.
"""

from __future__ import annotations

import copy
from pathlib import Path

from masr_hls.numerics.fixed_point import FixedType
from masr_hls.numerics.lane_balance import STRATEGIES
from masr_hls.reference.mxv import MODES

# Precision roles: what each named quantity of docs/arithmetic.md is called in a config.
PRECISION_ROLES = {
    "input": "the model input (first layer only)",
    "weight": "kernel weights",
    "recurrent_weight": "recurrent kernel weights",
    "bias": "biases",
    "accum": "engine accumulators (must wrap: AP_WRAP)",
    "state": "recurrent state h (a recurrent layer's output)",
    "gate": "sigmoid / hard_sigmoid gate outputs",
    "cand": "tanh / relu candidate outputs",
    "cell": "LSTM cell state c",
    "output": "a Bidirectional merge's or a Dense layer's output",
    "table": "sigmoid / tanh table entries of a Dense activation",
    "softmax": "softmax outputs",
}
DEFAULT_PRECISION = {
    "input": "ap_fixed<16,6,AP_RND,AP_SAT>",
    "weight": "ap_fixed<16,6,AP_RND,AP_SAT>",
    "recurrent_weight": "ap_fixed<16,6,AP_RND,AP_SAT>",
    "bias": "ap_fixed<16,6,AP_RND,AP_SAT>",
    "accum": "ap_fixed<32,12,AP_RND,AP_WRAP>",
    "state": "ap_fixed<16,6,AP_RND,AP_SAT>",
    "gate": "ap_ufixed<16,1,AP_RND,AP_SAT>",
    "cand": "ap_fixed<16,6,AP_RND,AP_SAT>",
    "cell": "ap_fixed<20,8,AP_RND,AP_SAT>",
    "output": "ap_fixed<16,6,AP_RND,AP_SAT>",
    "table": "ap_fixed<16,6,AP_RND,AP_SAT>",
    "softmax": "ap_ufixed<16,1,AP_RND,AP_SAT>",
}
LAYER_KEYS = {
    "Precision": "dict of precision roles (see PRECISION_ROLES) to ap_fixed type strings",
    "Lanes": "engine lanes L (rows are spread over them)",
    "MacsPerLane": "MACs per lane K",
    "ScanWords": "32-bit mask words the front end examines per cycle",
    "Mode": f"engine mode: one of {tuple(MODES)}",
    "Strategy": f"row-to-lane assignment: one of {STRATEGIES}",
    "TableSizeLog2": "log2 of the sigmoid/tanh table entries",
    "TableRangeLog2": "tables cover [-2**r, 2**r)",
}
MODEL_KEYS = dict(LAYER_KEYS, MaxFrames="frames the hardware holds (default: the model's input length)")


class ConfigError(ValueError):
    """A configuration key or value that does not exist or cannot be used."""


def default_config(lanes: int = 4, macs_per_lane: int = 1, mode: str = "masr") -> dict:
    return {
        "Precision": dict(DEFAULT_PRECISION),
        "Lanes": lanes,
        "MacsPerLane": macs_per_lane,
        "ScanWords": 4,
        "Mode": mode,
        "Strategy": "balanced",
        "TableSizeLog2": 10,
        "TableRangeLog2": 3,
    }


def config_from_keras_model(
    model,
    granularity: str = "model",
    default_precision: str | None = None,
    rounding: str | None = None,
    overflow: str | None = None,
    lanes: int = 4,
    macs_per_lane: int = 1,
    mode: str = "masr",
    max_frames: int | None = None,
) -> dict:
    """A configuration for ``model``: model-wide defaults, and with ``granularity='name'`` one entry per layer.

    ``default_precision`` replaces the 16-bit defaults of inputs, weights, states and outputs;
    ``rounding``/``overflow`` replace the modes of every type except the accumulator (which must wrap).
    """
    from masr_hls.frontend.keras_reader import load_model, read_model

    if granularity not in ("model", "name"):
        raise ConfigError(f"granularity must be 'model' or 'name', got {granularity!r}")
    model_cfg = default_config(lanes, macs_per_lane, mode)
    precision = model_cfg["Precision"]
    if default_precision is not None:
        t = FixedType.parse(default_precision)
        for role in ("input", "weight", "recurrent_weight", "bias", "state", "cand", "output", "table"):
            precision[role] = t.cpp()
    if rounding is not None or overflow is not None:
        for role, text in precision.items():
            t = FixedType.parse(text)
            r = rounding or t.rounding
            o = t.overflow if role == "accum" else (overflow or t.overflow)
            precision[role] = FixedType(t.width, t.integer, t.signed, r, o).cpp()
    if max_frames is not None:
        model_cfg["MaxFrames"] = max_frames
    config = {"Model": model_cfg}
    if granularity == "name":
        spec = read_model(load_model(model))
        config["LayerName"] = {layer.name: {} for layer in spec.layers}
    validate(config)
    return config


def load_yaml(path) -> dict:
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"configuration file {path} not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with 'Model' and optionally 'LayerName'")
    return data


def validate(config: dict) -> dict:
    """Check every key and value; return the config with defaults filled in (a copy)."""
    if not isinstance(config, dict):
        raise ConfigError(f"configuration must be a dict, got {type(config).__name__}")
    unknown = set(config) - {"Model", "LayerName"}
    if unknown:
        raise ConfigError(f"unknown configuration section(s) {sorted(unknown)}; sections are 'Model' and 'LayerName'")
    full = default_config()
    model = config.get("Model", {}) or {}
    _check_section("Model", model, MODEL_KEYS)
    full.update({k: v for k, v in model.items() if k != "Precision"})
    full["Precision"].update(model.get("Precision", {}) or {})
    layers = config.get("LayerName", {}) or {}
    if not isinstance(layers, dict):
        raise ConfigError("'LayerName' must map layer names to their settings")
    for name, section in layers.items():
        _check_section(f"LayerName.{name}", section or {}, LAYER_KEYS)
    return {"Model": full, "LayerName": copy.deepcopy(layers)}


def _check_section(where: str, section: dict, keys: dict) -> None:
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: expected a mapping, got {section!r}")
    for key, value in section.items():
        if key not in keys:
            raise ConfigError(f"{where}: unknown key {key!r}; known keys: {', '.join(keys)}")
        if key == "Precision":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}.Precision: expected a mapping of roles to types")
            for role, text in value.items():
                if role not in PRECISION_ROLES:
                    raise ConfigError(f"{where}.Precision: unknown role {role!r}; roles: {', '.join(PRECISION_ROLES)}")
                try:
                    FixedType.parse(text)
                except (ValueError, TypeError) as exc:
                    raise ConfigError(f"{where}.Precision.{role}: {exc}") from None
        elif key in ("Lanes", "MacsPerLane", "ScanWords", "MaxFrames", "TableSizeLog2", "TableRangeLog2"):
            if not isinstance(value, int) or isinstance(value, bool) or (value < 1 and key != "TableRangeLog2"):
                raise ConfigError(f"{where}.{key}: expected a positive integer, got {value!r}")
        elif key == "Mode" and value not in MODES:
            raise ConfigError(f"{where}.Mode: {value!r} is not one of {tuple(MODES)}")
        elif key == "Strategy" and value not in STRATEGIES:
            raise ConfigError(f"{where}.Strategy: {value!r} is not one of {STRATEGIES}")


def layer_settings(config: dict, name: str) -> dict:
    """The model defaults overridden by the layer's own section (a Bidirectional's halves share its section)."""
    model = config["Model"]
    own = config["LayerName"].get(name.split("/")[0], {}) or {}
    merged = {k: v for k, v in model.items() if k not in ("Precision", "MaxFrames")}
    merged.update({k: v for k, v in own.items() if k != "Precision"})
    precision = dict(model["Precision"])
    precision.update(own.get("Precision", {}) or {})
    merged["Precision"] = {role: FixedType.parse(text) for role, text in precision.items()}
    return merged
