"""Resolve each MASR layer's settings and build its design: quantised, bitmask-encoded weights on lanes.

Walks the chain from the input: every layer reads the previous layer's output
type, so no conversion sits between layers.  The configuration is checked here
(the MASR sections strictly, key by key), and what the rest of the flow needs
about the whole model is recorded in the config as ``MasrModel``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hls4ml.model.layers import Input
from hls4ml.model.optimizer import ModelOptimizerPass

from masr_hls.backend.config import layer_settings, validate
from masr_hls.backend.designs import build_design
from masr_hls.backend.layers import MasrBiRecurrent, MasrLayer, MasrRecurrent
from masr_hls.frontend.keras_reader import RECURRENT, BidirectionalSpec, ConversionError, DenseSpec, RecurrentSpec
from masr_hls.numerics.fixed_point import FixedType


def recurrent_spec(name: str, attrs: dict, prefix: str = "") -> RecurrentSpec:
    get = lambda key, default=None: attrs.get(prefix + key, default)  # noqa: E731
    kind = RECURRENT[get("keras_class", get("class_name"))]
    bias = np.asarray(get("bias_data"), np.float64)
    if kind == "gru" and get("reset_after", True):
        bias = np.stack([bias, np.asarray(get("recurrent_bias_data"), np.float64)])
    kernel = np.asarray(get("weight_data"), np.float64)
    return RecurrentSpec(
        name=name,
        kind=kind,
        units=int(np.asarray(get("recurrent_weight_data")).shape[0]),
        activation=get("activation"),
        recurrent_activation=get("recurrent_activation", "sigmoid") if kind != "simple_rnn" else "sigmoid",
        reset_after=bool(get("reset_after", True)),
        go_backwards=bool(get("go_backwards", False)),
        return_sequences=bool(get("return_sequences", False)),
        kernel=kernel,
        recurrent_kernel=np.asarray(get("recurrent_weight_data"), np.float64),
        bias=bias,
    )


def layer_spec(node):
    attrs = node.attributes
    if isinstance(node, MasrRecurrent):
        return recurrent_spec(node.name, attrs)
    if isinstance(node, MasrBiRecurrent):
        fwd = recurrent_spec(f"{node.name}/forward", attrs, "forward_")
        bwd = recurrent_spec(f"{node.name}/backward", attrs, "backward_")
        return BidirectionalSpec(node.name, fwd, bwd, attrs["merge_mode"], fwd.return_sequences)
    kernel = np.asarray(attrs["weight_data"], np.float64)
    bias = attrs.get("bias_data")
    bias = np.zeros(kernel.shape[1]) if bias is None else np.asarray(bias, np.float64)
    return DenseSpec(node.name, kernel, bias, attrs.get("activation", "linear"), list(attrs.get("folded", [])))


def matrix_rows(spec) -> int:
    """The most rows of the layer's matrices (gates x units for a recurrent cell, n_out for a Dense)."""
    if isinstance(spec, BidirectionalSpec):
        return max(matrix_rows(spec.forward), matrix_rows(spec.backward))
    return int(spec.kernel.shape[1])


def result_role(spec) -> str:
    """The MASR role of what hls4ml calls a layer's ``result``."""
    if isinstance(spec, RecurrentSpec):
        return "state"
    return "softmax" if isinstance(spec, DenseSpec) and spec.activation == "softmax" else "output"


ROM_ROLES = ("weight", "recurrent_weight", "bias", "table", "gate", "cand")  # held as 64-bit ROM words (raw_bits.h)


def check_word(where: str, t: FixedType, what: str) -> None:
    """Values crossing the int64 C-simulation bridge or held in ROM words fit 64 bits signed, 63 unsigned."""
    limit = 64 if t.signed else 63
    if t.width > limit:
        raise ConversionError(f"{where}: {t} is {t.width} bits; {what} carry at most {limit} bits for this signedness")


def input_precision(config: dict, hls_config: dict, input_name: str) -> FixedType:
    """The Model's ``input`` role, or hls4ml's habit: the input layer's own Precision.result."""
    own = ((hls_config.get("LayerName") or {}).get(input_name) or {}).get("Precision")
    if isinstance(own, dict) and str(own.get("result", "auto")) != "auto":
        return FixedType.parse(own["result"])
    return FixedType.parse(config["Model"]["Precision"]["input"])


def interface(hls_config: dict, io_type: str | None) -> str:
    """The top function's ports: Model.Interface, or from hls4ml's io_type (io_stream: AXI streams)."""
    given = (hls_config.get("Model") or {}).get("Interface")
    if io_type == "io_stream":
        if given not in (None, "axis"):
            raise ConversionError(f"io_type='io_stream' streams the ports (Interface 'axis'), but Model.Interface is {given!r}")
        return "axis"
    return given or "array"


FACTS_KEY = "MasrModel"  # where the facts are kept in hls4ml's config dict


@dataclass(frozen=True)
class ModelFacts:
    """What the rest of the flow needs about the whole converted model, recorded by this pass."""

    config: dict  # the checked configuration (backend/config.validate), Model defaults filled in
    input_t: FixedType
    max_frames: int  # frames the hardware holds
    n_frames: int | None  # the Keras model's input length (None: not fixed)
    n_features: int
    sequence_output: bool  # the last layer outputs every frame (else the last one only)


def model_facts(graph) -> ModelFacts:
    """The facts of a graph converted with backend='MASR'; a clear error for any other graph."""
    facts = graph.config.config.get(FACTS_KEY)
    if facts is None:
        raise ConversionError("this hls4ml model was not converted with backend='MASR'")
    return facts


class BuildDesigns(ModelOptimizerPass):
    def __init__(self):
        super().__init__("build_designs", self.build)

    @staticmethod
    def build(model) -> bool:
        nodes = list(model.graph.values())
        source, layers = nodes[0], [n for n in nodes if isinstance(n, MasrLayer)]
        if not isinstance(source, Input) or len(layers) != len(nodes) - 1:
            others = [n.name for n in nodes[1:] if not isinstance(n, MasrLayer)]
            raise ConversionError(f"layers {others}: only a chain of recurrent and Dense layers is supported")
        if not layers:
            raise ConversionError("the model has no layer to convert")
        hls_config = model.config.config["HLSConfig"]
        config = validate(hls_config, masr_layers={n.name for n in layers})
        known = set(model.config.config.get("MasrLayerNames", ())) | {n.name for n in nodes}
        for name in config["LayerName"]:
            if name not in known:
                raise ConversionError(f"LayerName.{name}: no such layer in the model; layers: {sorted(known)}")
        n_frames, n_features = source.attributes["input_shape"]
        max_frames = config["Model"].get("MaxFrames") or n_frames
        if not max_frames:
            raise ConversionError("the model's input has no fixed number of frames: set Model.MaxFrames in the configuration")
        config["Model"]["Interface"] = interface(hls_config, model.config.get_config_value("IOType"))
        input_t = input_precision(config, hls_config, source.name)
        source.get_output_variable().type.precision = model.config.backend.convert_precision_string(input_t.cpp())
        n_in, in_t, sequence = n_features, input_t, True
        for position, node in enumerate(layers):
            spec = layer_spec(node)
            recurrent = isinstance(node, (MasrRecurrent, MasrBiRecurrent))
            if recurrent and not sequence:
                raise ConversionError(f"layer {node.name!r}: a recurrent layer needs a sequence (set return_sequences=True before it)")
            settings = layer_settings(config, node.name, rows=matrix_rows(spec), result_role=result_role(spec))
            try:
                design = build_design(spec, n_in, in_t, settings, max_frames)
            except ConversionError:
                raise
            except ValueError as exc:
                raise ConversionError(f"layer {node.name!r}: {exc}") from None
            for role in ROM_ROLES:
                check_word(f"layer {node.name!r} Precision.{role}", settings.precision[role], "ROM words")
            sequence = design.return_sequences if recurrent else sequence
            design.entry, design.stores_output = position == 0, position < len(layers) - 1  # docs/arithmetic.md, "Sequence storage"
            design.in_split = layers[position - 1].get_attr("design").out_split if position else 0  # a split store's halves
            node.set_attr("design", design)
            node.set_attr("masr_position", position)
            node.set_attr("masr_last", position == len(layers) - 1)
            node.get_output_variable().type.precision = model.config.backend.convert_precision_string(design.out_t.cpp())
            n_in, in_t = design.n_out, design.out_t
        check_word("Precision.input", input_t, "the model's input values")
        check_word(f"layer {layers[-1].name!r} output", in_t, "the model's output values")
        model.config.config[FACTS_KEY] = ModelFacts(config, input_t, int(max_frames), n_frames, int(n_features), sequence)
        return True
