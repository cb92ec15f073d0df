"""Fold activation layers into the Dense head before them; remove linear ones (Dropout and friends).

An activation anywhere else has no MASR module to run on and is refused by name.
"""

from __future__ import annotations

from hls4ml.model.layers import Activation, HardActivation, Softmax
from hls4ml.model.optimizer import OptimizerPass

from masr_hls.backend.layers import MasrDense
from masr_hls.backend.passes._graph import previous_node
from masr_hls.frontend.keras_reader import ConversionError

HEAD_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "hard_sigmoid", "softmax")


def activation_of(node) -> str:
    if isinstance(node, Softmax):
        shape = node.get_input_variable().shape
        axis = node.get_attr("axis", -1)
        if axis not in (-1, len(shape)):  # Keras counts the batch axis
            raise ConversionError(f"layer {node.name!r}: Softmax over an axis other than the last is not supported")
        return "softmax"
    kind = str(node.get_attr("activation"))
    if kind == "thresholdedrelu":  # hls4ml's name for a Keras ReLU layer
        if node.get_attr("activ_param", 0.0) != 0.0:
            raise ConversionError(f"layer {node.name!r}: ReLU with a threshold is not supported")
        return "relu"
    return kind


class FoldActivation(OptimizerPass):
    name = "fold_activation"

    def match(self, node):
        return isinstance(node, (Activation, HardActivation, Softmax))

    def transform(self, model, node):
        kind = activation_of(node)
        if kind != "linear":
            before = previous_node(node)
            if not isinstance(before, MasrDense) or before.get_attr("activation", "linear") != "linear":
                raise ConversionError(f"layer {node.name!r}: a {kind} activation is supported only directly after a Dense layer without activation")
            if kind not in HEAD_ACTIVATIONS:
                raise ConversionError(f"layer {node.name!r}: activation {kind!r} is not supported ({', '.join(HEAD_ACTIVATIONS)})")
            before.set_attr("activation", kind)
            before.set_attr("folded", [*before.get_attr("folded", []), node.name])
        model.remove_node(node)
        return True
