"""Refuse, by layer and option, everything the MASR backend cannot compute as Keras does.

Runs first: nothing converts silently wrong.  Activations and BatchNormalization
are judged by the passes that fold them, which know their neighbours.
"""

from __future__ import annotations

import numpy as np
from hls4ml.model.layers import Activation, BatchNormalization, HardActivation, Input, Softmax
from hls4ml.model.optimizer import OptimizerPass

from masr_hls.backend.layers import MasrBiRecurrent, MasrDense, MasrRecurrent
from masr_hls.constants import ENUMS
from masr_hls.frontend.keras_reader import RECURRENT, ConversionError

CELL_ACTIVATIONS = ("tanh", "relu")
GATE_ACTIVATIONS = ("sigmoid", "hard_sigmoid")
MERGE_MODES = ENUMS["merge_mode"][1]
FOLDED = (Input, Activation, HardActivation, Softmax, BatchNormalization)
KERAS_NAMES = {"weight_data": "kernel", "recurrent_weight_data": "recurrent_kernel", "bias_data": "bias", "recurrent_bias_data": "recurrent bias"}


def check_recurrent(name: str, attrs: dict, prefix: str = "") -> None:
    """The options of a GRU / LSTM / SimpleRNN (or one half of a Bidirectional, with ``prefix``)."""
    cls = attrs.get(prefix + "keras_class", attrs.get(prefix + "class_name"))
    if cls not in RECURRENT:
        raise ConversionError(f"layer {name!r}: {cls} is not supported inside a recurrent layer")
    for option in ("return_state", "stateful"):
        if attrs.get(prefix + option):
            raise ConversionError(f"layer {name!r} ({cls}): {option}=True is not supported")
    activation = attrs.get(prefix + "activation")
    if activation not in CELL_ACTIVATIONS:
        raise ConversionError(f"layer {name!r}: activation {activation!r} is not supported ({', '.join(CELL_ACTIVATIONS)})")
    gate = attrs.get(prefix + "recurrent_activation", "sigmoid")
    if cls != "SimpleRNN" and gate not in GATE_ACTIVATIONS:
        raise ConversionError(f"layer {name!r}: recurrent_activation {gate!r} is not supported ({', '.join(GATE_ACTIVATIONS)})")
    for key in ("weight_data", "recurrent_weight_data", "bias_data", "recurrent_bias_data"):
        value = attrs.get(prefix + key)
        if value is not None and not np.all(np.isfinite(value)):
            raise ConversionError(f"layer {name!r}: {KERAS_NAMES[key]} contains NaN or Inf")


def check_bidirectional(name: str, attrs: dict) -> None:
    mode = attrs.get("merge_mode")
    if mode is None:
        raise ConversionError(f"layer {name!r}: Bidirectional merge_mode=None (two outputs) is not supported")
    if mode not in MERGE_MODES:
        raise ConversionError(f"layer {name!r}: merge_mode {mode!r} is not supported ({', '.join(MERGE_MODES)})")
    if attrs.get("return_state"):
        raise ConversionError(f"layer {name!r} (Bidirectional): return_state=True is not supported")
    for half in ("forward", "backward"):
        check_recurrent(name, attrs, half + "_")
    # Keras runs the forward layer as given and the backward layer reversed; swapped halves read the
    # sequence the other way round.
    if attrs["forward_go_backwards"] or not attrs["backward_go_backwards"]:
        raise ConversionError(f"layer {name!r}: forward/backward layers with swapped go_backwards are not supported")
    if attrs["forward_return_sequences"] != attrs["backward_return_sequences"]:
        raise ConversionError(f"layer {name!r}: forward and backward layers disagree on return_sequences")
    if mode != "concat" and attrs["forward_n_states"] != attrs["backward_n_states"]:
        raise ConversionError(f"layer {name!r}: merge_mode {mode!r} needs equal units in both directions")


def check_dense(name: str, attrs: dict) -> None:
    for key in ("weight_data", "bias_data"):
        value = attrs.get(key)
        if value is not None and not np.all(np.isfinite(value)):
            raise ConversionError(f"layer {name!r}: {KERAS_NAMES[key]} contains NaN or Inf")


class RefuseUnsupported(OptimizerPass):
    name = "refuse_unsupported"

    def match(self, node):
        return not node.get_attr("masr_checked", False)

    def transform(self, model, node):
        node.set_attr("masr_checked", True)
        model.config.config.setdefault("MasrLayerNames", []).append(node.name)  # for LayerName checks after folding
        attrs = node.attributes
        if isinstance(node, Input):
            shape = attrs["input_shape"]
            if len(shape) != 2:
                raise ConversionError(f"model input shape {tuple(shape)} is not (frames, features)")
        elif isinstance(node, MasrRecurrent):
            check_recurrent(node.name, attrs)
        elif isinstance(node, MasrBiRecurrent):
            check_bidirectional(node.name, attrs)
        elif isinstance(node, MasrDense):
            check_dense(node.name, attrs)
        elif not isinstance(node, FOLDED):
            raise ConversionError(f"layer {node.name!r}: {node.class_name} is not supported by masr_hls")
        return False
