"""Conversion configuration, in hls4ml's habits: a ``Model`` section of defaults and per-layer overrides.

    {"Model": {"Precision": {...}, "Lanes": 8, ...},
     "LayerName": {"gru_1": {"Lanes": 16, "Precision": {"state": "ap_fixed<12,5>"}}}}

Every key is checked: a misspelt key is an error naming it, never ignored.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from math import ceil
from pathlib import Path

from masr_hls.errors import ConfigError
from masr_hls.numerics.fixed_point import FixedType
from masr_hls.numerics.lane_balance import BALANCING, STRATEGIES
from masr_hls.reference.mxv import MODES

DEFAULT_PART = "xcvu9p-flga2104-2-e"
DEFAULT_CLOCK_PERIOD = 5.0  # ns
DEFAULT_PROJECT_NAME = "myproject"  # the top function's C name, as hls4ml names it

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
# LaneBalancing auto: dynamic from DYNAMIC_FROM_LANES lanes up, where each lane has DYNAMIC_MIN_ROWS_PER_LANE of the
# layer's rows or more: measured faster than static there on the trained speech models, and static faster with fewer
# rows a lane (kws_speech's 144 rows on 64 lanes: 30.9% static, 30.5% dynamic; bench/README.md, "Run-time balancing")
DYNAMIC_FROM_LANES = 8
DYNAMIC_MIN_ROWS_PER_LANE = 4
LAYER_KEYS = {
    "Precision": "dict of precision roles (see PRECISION_ROLES) to ap_fixed type strings; 'auto': the Model's",
    "Lanes": "engine lanes L (rows are spread over them)",
    "MacsPerLane": "MACs per lane K",
    "ScanWords": "32-bit mask words the front end examines per cycle",
    "Mode": f"engine mode: one of {tuple(MODES)}",
    "LaneAssignment": f"row-to-bank assignment at conversion: one of {STRATEGIES}",
    "LaneBalancing": f"one of {BALANCING}: static ties rows to lanes at conversion; dynamic lets BankLanes lanes share "
    f"a bank of rows and take them at run time; auto: dynamic from {DYNAMIC_FROM_LANES} lanes up where the layer has at least "
    f"{DYNAMIC_MIN_ROWS_PER_LANE} rows a lane",
    "BankLanes": "lanes sharing a weight bank under dynamic balancing (2: a dual-port memory, no copy of the weights)",
    "FifoDepth": "windows queued between a lane's front end and back end; auto: 4 static, 1 dynamic (a lane takes rows "
    "ahead of its back end by this much)",
    "Interleave": "Bidirectional layers: true lets both directions share one set of recurrent engines, each keeping its "
    "own weights (counted by the reference and the C simulation; not yet in the HLS structure or the RTL twin); false "
    "(default): an engine per direction",
    "TableSizeLog2": "log2 of the sigmoid/tanh table entries",
    "TableRangeLog2": "tables cover [-2**r, 2**r)",
}
INTERFACES = {  # the top function's x and y ports (frames and the block protocol are always AXI-Lite)
    "array": ("#pragma HLS INTERFACE mode = ap_memory port = x", "#pragma HLS INTERFACE mode = ap_memory port = y"),
    "axis": ("#pragma HLS INTERFACE mode = axis port = x", "#pragma HLS INTERFACE mode = axis port = y"),
    "m_axi": (
        "#pragma HLS INTERFACE mode = m_axi port = x offset = slave bundle = gmem_in",
        "#pragma HLS INTERFACE mode = m_axi port = y offset = slave bundle = gmem_out",
    ),
}
MODEL_KEYS = dict(
    LAYER_KEYS,
    MaxFrames="frames the hardware holds (default: the model's input length; required when its input takes any number of frames)",
    Interface=f"the top function's input and output ports: one of {tuple(INTERFACES)} (default: array)",
)
# hls4ml's own keys, which its config utilities write and hls4ml users set; docs/config.md says what MASR does with each.
HLS4ML_KEYS = {
    "ReuseFactor",
    "Strategy",
    "static",
    "Direction",
    "BramFactor",
    "TraceOutput",
    "Trace",
    "BitExact",
    "PipelineStyle",
    "PipelineInterval",
}
HLS4ML_STRATEGIES = ("latency", "resource", "resource_unrolled", "distributed_arithmetic")  # hls4ml's spellings vary
HLS4ML_ROLES = {
    "result": "the layer's output: state (recurrent), output (Bidirectional, Dense)",
    "recurrent_bias": "MASR keeps both biases of a layer in the bias type: must equal bias",
}
AUTO = "auto"  # in a LayerName section: the Model's value (in Model: for Lanes, hls4ml's ReuseFactor rule; else the rule the key names)
DATA_ROLES = ("input", "weight", "recurrent_weight", "bias", "state", "cand", "output", "table")  # what 'default' sets
ENGINE_DEFAULTS = {
    "Lanes": 4,
    "MacsPerLane": 1,
    "ScanWords": 4,
    "Mode": "masr",
    "LaneAssignment": "balanced",
    "LaneBalancing": AUTO,
    "BankLanes": 2,
    "FifoDepth": AUTO,
    "Interleave": False,
    "TableSizeLog2": 10,
    "TableRangeLog2": 3,
}


def default_config(lanes: int = 4, macs_per_lane: int = 1, mode: str = "masr") -> dict:
    return dict(ENGINE_DEFAULTS, Precision=dict(DEFAULT_PRECISION), Lanes=lanes, MacsPerLane=macs_per_lane, Mode=mode)


def strategy_name(value) -> str | None:
    """hls4ml's Strategy as hls4ml spells it after normalising ('ResourceUnrolled' -> 'resource_unrolled'), or None."""
    key = str(value).lower().replace("_", "")
    return next((name for name in HLS4ML_STRATEGIES if name.replace("_", "") == key), None)


def lanes_for_reuse_factor(reuse_factor: int, rows: int) -> int:
    """hls4ml's ReuseFactor R on MASR: each lane serves R rows of the layer's matrices, so Lanes = ceil(rows / R).

    R = 1 (hls4ml's fully parallel default) gives one lane per row; a larger R shares a lane, and its MACs, between
    more rows, as hls4ml shares a multiplier between R products.  At most one lane per row, at least one lane.
    """
    return max(1, ceil(rows / reuse_factor))


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
    """hls4ml's ``config_from_keras_model`` for the MASR backend, with MASR's engine keys and precision roles.

    ``default_precision`` replaces the 16-bit defaults of inputs, weights, states and outputs;
    ``rounding``/``overflow`` replace the modes of every type except the accumulator (which must wrap).
    With ``granularity='name'`` every layer gets its own section, as hls4ml lists it.
    """
    import hls4ml

    from masr_hls.frontend.keras_reader import load_model

    if granularity not in ("model", "name"):
        raise ConfigError(f"granularity must be 'model' or 'name', got {granularity!r}")
    keras_model = load_model(model)
    config = hls4ml.utils.config_from_keras_model(keras_model, granularity=granularity, backend="MASR")
    model_cfg = config["Model"]
    model_cfg.update(default_config(lanes, macs_per_lane, mode))
    precision = model_cfg["Precision"]
    if default_precision is not None:
        t = FixedType.parse(default_precision)
        for role in DATA_ROLES:
            precision[role] = t.cpp()
    if rounding is not None or overflow is not None:
        for role, text in precision.items():
            t = FixedType.parse(text)
            r = rounding or t.rounding
            o = t.overflow if role == "accum" else (overflow or t.overflow)
            precision[role] = FixedType(t.width, t.integer, t.signed, r, o).cpp()
    precision["default"] = precision["state"]  # hls4ml reads it for the layers MASR folds away
    if max_frames is not None:
        model_cfg["MaxFrames"] = max_frames
    if granularity == "name":
        # The layers MASR builds (their sections list MASR's keys); the others fold away.  Per-layer engine keys
        # as hls4ml lists them would pin the defaults: a layer follows the Model unless the user sets a key.
        sections = {name: section for name, section in config["LayerName"].items() if "LaneAssignment" in section}
        for section in sections.values():
            for key in ENGINE_DEFAULTS:
                section.pop(key, None)
        config["LayerName"] = sections
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


def validate(config: dict, masr_layers=None) -> dict:
    """Check every key and value; return MASR's view of it (a copy): full Model defaults and the layer sections.

    ``masr_layers``: the names of the layers MASR builds (None: every section is one).  The other sections
    belong to layers the MASR backend folds away (activations, BatchNormalization, Dropout, the input) and may
    hold hls4ml's own keys for them; only their Precision.result of the input layer is read (role ``input``).
    """
    if not isinstance(config, dict):
        raise ConfigError(f"configuration must be a dict, got {type(config).__name__}")
    unknown = set(config) - {"Model", "LayerName", "LayerType", "Flows", "Optimizers", "SkipOptimizers"}
    if unknown:
        raise ConfigError(f"unknown configuration section(s) {sorted(unknown)}; sections are 'Model' and 'LayerName'")
    if config.get("LayerType"):
        raise ConfigError("LayerType sections are not supported by the MASR backend; use Model defaults and LayerName")
    full = default_config()
    model = config.get("Model", {}) or {}
    _check_section("Model", model, MODEL_KEYS)
    full.update({k: v for k, v in model.items() if k in MODEL_KEYS and k != "Precision"})
    for key, default in ENGINE_DEFAULTS.items():
        if full[key] == AUTO:
            full[key] = default
    if model.get("Lanes", AUTO if "ReuseFactor" in model else None) == AUTO:  # hls4ml's ReuseFactor rule
        full["Lanes"], full["ReuseFactor"] = AUTO, model.get("ReuseFactor", 1)
    full["Precision"] = _resolve_precision(model.get("Precision"), dict(DEFAULT_PRECISION))
    layers = config.get("LayerName", {}) or {}
    if not isinstance(layers, dict):
        raise ConfigError("'LayerName' must map layer names to their settings")
    for name, section in layers.items():
        if masr_layers is None or name in masr_layers:
            _check_section(f"LayerName.{name}", section or {}, LAYER_KEYS)
        elif not isinstance(section or {}, dict):
            raise ConfigError(f"LayerName.{name}: expected a mapping, got {section!r}")
    return {"Model": full, "LayerName": copy.deepcopy(layers)}


def _resolve_precision(given, base: dict) -> dict:
    """``base`` updated by a Precision section: 'auto' keeps the base, 'default' sets every data role not given."""
    if given is None:
        return base
    if isinstance(given, str):  # hls4ml's short form: one precision for everything
        given = {"default": given}
    given = {role: text for role, text in given.items() if str(text) != "auto" and role != "result"}
    if "default" in given:
        for role in DATA_ROLES:
            if role not in given:
                base[role] = FixedType.parse(given["default"]).cpp()
    base.update({role: FixedType.parse(text).cpp() for role, text in given.items() if role in PRECISION_ROLES})
    return base


def _check_section(where: str, section: dict, keys: dict) -> None:
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: expected a mapping, got {section!r}")
    in_layer = where.startswith("LayerName.")  # hls4ml's `result` role is a layer's own
    for key, value in section.items():
        if key in HLS4ML_KEYS:
            _check_hls4ml_key(where, key, value)
        elif key not in keys:
            raise ConfigError(f"{where}: unknown key {key!r}; known keys: {', '.join(keys)}")
        elif key == "Precision":
            _check_precision(where, value, in_layer)
        elif value == AUTO:
            continue
        elif key in ("Lanes", "MacsPerLane", "ScanWords", "BankLanes", "FifoDepth", "MaxFrames", "TableSizeLog2", "TableRangeLog2"):
            if not isinstance(value, int) or isinstance(value, bool) or (value < 1 and key != "TableRangeLog2"):
                raise ConfigError(f"{where}.{key}: expected a positive integer, got {value!r}")
        elif key == "Mode" and value not in MODES:
            raise ConfigError(f"{where}.Mode: {value!r} is not one of {tuple(MODES)}")
        elif key == "Interface" and value not in INTERFACES:
            raise ConfigError(f"{where}.Interface: {value!r} is not one of {tuple(INTERFACES)}")
        elif key == "FifoDepth" and value > 64:
            raise ConfigError(f"{where}.FifoDepth: at most 64, got {value!r}")
        elif key == "LaneAssignment" and value not in STRATEGIES:
            raise ConfigError(f"{where}.LaneAssignment: {value!r} is not one of {STRATEGIES}")
        elif key == "LaneBalancing" and value not in BALANCING:
            raise ConfigError(f"{where}.LaneBalancing: {value!r} is not one of {BALANCING}")
        elif key == "Interleave" and not isinstance(value, bool):
            raise ConfigError(f"{where}.Interleave: expected true or false, got {value!r}")


def _check_hls4ml_key(where: str, key: str, value) -> None:
    """hls4ml's keys, with the meaning docs/config.md gives them under MASR; a value hls4ml would refuse is refused."""
    if key == "Strategy":
        if str(value).lower() in STRATEGIES:
            raise ConfigError(
                f"{where}.Strategy: row-to-lane assignment is called LaneAssignment in masr_hls (Strategy is hls4ml's Latency/Resource choice)"
            )
        if strategy_name(value) is None:
            raise ConfigError(f"{where}.Strategy={value!r}: hls4ml's strategies are {', '.join(HLS4ML_STRATEGIES)}")
    elif key == "ReuseFactor" and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ConfigError(f"{where}.ReuseFactor: expected a positive integer, got {value!r}")
    elif key == "Direction" and value not in ("forward", "backward"):  # listed by hls4ml at its default; MASR follows go_backwards
        raise ConfigError(f"{where}.Direction: expected 'forward' or 'backward', got {value!r}")
    elif key == "static" and not isinstance(value, bool):
        raise ConfigError(f"{where}.static: expected true or false, got {value!r}")


def _check_precision(where: str, value, in_layer: bool = False) -> None:
    if isinstance(value, str):
        value = {"default": value}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}.Precision: expected a mapping of roles to types")
    for role, text in value.items():
        if role not in PRECISION_ROLES and role not in HLS4ML_ROLES and role != "default":
            raise ConfigError(
                f"{where}.Precision: unknown role {role!r}; roles: {', '.join(PRECISION_ROLES)}, and hls4ml's {', '.join(HLS4ML_ROLES)}"
            )
        if str(text) == "auto":
            continue
        if role == "result" and not in_layer:
            raise ConfigError(f"{where}.Precision.result: a layer's own role; in Model name the MASR role (state, output or softmax)")
        try:
            FixedType.parse(text)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{where}.Precision.{role}: {exc}") from None
    bias, recurrent_bias = (str(value.get(role, "auto")) for role in ("bias", "recurrent_bias"))
    if "auto" not in (bias, recurrent_bias) and FixedType.parse(bias) != FixedType.parse(recurrent_bias):
        raise ConfigError(
            f"{where}.Precision.recurrent_bias: MASR keeps a layer's two biases in one type; "
            f"it differs from Precision.bias ({recurrent_bias} != {bias})"
        )


def bank_lanes(lanes: int, wanted: int) -> int:
    """Lanes per bank: ``wanted``, or the largest divisor of ``lanes`` below it (every bank serves as many lanes)."""
    return max(g for g in range(1, min(lanes, wanted) + 1) if lanes % g == 0)


def engine_balancing(lanes, balancing=AUTO, wanted_bank_lanes: int = ENGINE_DEFAULTS["BankLanes"], fifo_depth=AUTO, rows=None) -> dict:
    """The engine's ``bank_lanes`` and ``fifo_depth`` for these keys (LaneBalancing, BankLanes, FifoDepth); by default
    as a conversion chooses them: dynamic from DYNAMIC_FROM_LANES lanes up where the layer's most ``rows`` (None: not
    known, not asked) give each lane DYNAMIC_MIN_ROWS_PER_LANE or more, the FIFO 1 window deep then, else 4."""
    shares = isinstance(lanes, int) and lanes >= DYNAMIC_FROM_LANES and (rows is None or rows >= DYNAMIC_MIN_ROWS_PER_LANE * lanes)
    dynamic = balancing == "dynamic" or (balancing == AUTO and shares)
    return {
        "bank_lanes": bank_lanes(lanes, wanted_bank_lanes) if dynamic else 1,
        "fifo_depth": (1 if dynamic else 4) if fifo_depth == AUTO else fifo_depth,
    }


@dataclass(frozen=True)
class LayerSettings:
    """One layer's resolved engine keys (docs/config.md) and its precision roles as FixedTypes."""

    lanes: int
    macs_per_lane: int
    scan_words: int
    mode: str
    lane_assignment: str
    bank_lanes: int  # lanes sharing a weight bank (1: static balancing)
    fifo_depth: int
    table_size_log2: int
    table_range_log2: int
    precision: dict  # role -> FixedType
    interleave: bool = False  # Bidirectional: both directions share the recurrent engines

    @property
    def balancing(self) -> str:
        """How rows reach lanes, as the report prints it."""
        if self.bank_lanes == 1:
            return f"static, {self.lane_assignment}"
        return f"dynamic, {self.bank_lanes} lanes per bank, banks {self.lane_assignment}"

    @classmethod
    def from_keys(cls, keys: dict, rows: int | None = None) -> "LayerSettings":
        """The settings of a layer whose matrices have at most ``rows`` rows (None: not known)."""
        return cls(
            lanes=keys["Lanes"],
            macs_per_lane=keys["MacsPerLane"],
            scan_words=keys["ScanWords"],
            mode=keys["Mode"],
            lane_assignment=keys["LaneAssignment"],
            **engine_balancing(keys["Lanes"], keys["LaneBalancing"], keys["BankLanes"], keys["FifoDepth"], rows),
            table_size_log2=keys["TableSizeLog2"],
            table_range_log2=keys["TableRangeLog2"],
            precision=keys["Precision"],
            interleave=keys["Interleave"],
        )


def layer_settings(config: dict, name: str, rows: int | None = None, result_role: str = "output") -> LayerSettings:
    """The model defaults overridden by the layer's own section (a Bidirectional's halves share its section).

    ``rows``: the most rows of the layer's matrices, for hls4ml's ReuseFactor rule and LaneBalancing auto (None:
    ``Lanes`` may stay ``auto``; balancing by lane count alone); ``result_role``: the MASR role hls4ml's ``result`` names for this layer.
    """
    model = config["Model"]
    own = config["LayerName"].get(name.split("/")[0], {}) or {}
    merged = {k: v for k, v in model.items() if k in ENGINE_DEFAULTS}
    merged.update({k: v for k, v in own.items() if k in ENGINE_DEFAULTS and v != AUTO})
    if "Lanes" not in own or own["Lanes"] == AUTO:
        reuse_factor = own.get("ReuseFactor", model.get("ReuseFactor") if merged["Lanes"] == AUTO else None)
        if reuse_factor is not None and rows is not None:
            merged["Lanes"] = lanes_for_reuse_factor(reuse_factor, rows)
    own_precision = own.get("Precision")
    if isinstance(own_precision, dict):
        own_precision = dict(own_precision)
        for hls4ml_role, role in (("result", result_role), ("recurrent_bias", "bias")):
            text = own_precision.pop(hls4ml_role, AUTO)
            if str(text) != AUTO and str(own_precision.get(role, AUTO)) == AUTO:
                own_precision[role] = text
    precision = _resolve_precision(own_precision, dict(model["Precision"]))
    merged["Precision"] = {role: FixedType.parse(text) for role, text in precision.items()}
    return LayerSettings.from_keys(merged, rows)
