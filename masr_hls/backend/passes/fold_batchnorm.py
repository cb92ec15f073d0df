"""Fold BatchNormalization (x' = a x + b at inference) into the layer before or after it.

Into a Dense before it when that Dense has no activation (its columns are scaled);
otherwise into the next layer's input (its kernel rows are scaled and ``b @ W``
moves into its input bias); a run of them composes first.
"""

from __future__ import annotations

import numpy as np
from hls4ml.model.layers import BatchNormalization
from hls4ml.model.optimizer import OptimizerPass

from masr_hls.backend.layers import MasrBiRecurrent, MasrDense, MasrRecurrent
from masr_hls.backend.passes._graph import next_nodes, previous_node
from masr_hls.frontend.keras_reader import ConversionError


def affine(node) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of a BatchNormalization node (or the composition already folded into it)."""
    if node.get_attr("masr_affine") is not None:
        return node.get_attr("masr_affine")
    attrs = node.attributes
    a = np.asarray(attrs["gamma_data"], np.float64) / np.sqrt(np.asarray(attrs["variance_data"], np.float64) + attrs["epsilon"])
    return a, np.asarray(attrs["beta_data"], np.float64) - np.asarray(attrs["mean_data"], np.float64) * a


def fold_into_input(node, a, b, prefix: str = "") -> None:
    """The layer reads a*x + b: scale its kernel's input rows and add b @ kernel to its input bias."""
    kernel = np.asarray(node.get_attr(prefix + "weight_data"), np.float64)
    bias = node.get_attr(prefix + "bias_data")
    bias = np.zeros(kernel.shape[1]) if bias is None else np.asarray(bias, np.float64)
    node.set_attr(prefix + "bias_data", bias + b @ kernel)
    node.set_attr(prefix + "weight_data", kernel * np.broadcast_to(a, kernel.shape[:1])[:, None])


class FoldBatchNormalization(OptimizerPass):
    name = "fold_batchnorm"

    def match(self, node):
        return isinstance(node, BatchNormalization)

    def transform(self, model, node):
        axis = node.get_attr("axis", -1)
        if axis not in (-1, 2, [-1], [2]):
            raise ConversionError(f"layer {node.name!r}: BatchNormalization over axis {axis} is not supported")
        a, b = affine(node)
        before = previous_node(node)
        after = next_nodes(model, node)
        if isinstance(before, MasrDense) and before.get_attr("activation", "linear") == "linear":
            kernel = np.asarray(before.get_attr("weight_data"), np.float64)
            bias = before.get_attr("bias_data")
            bias = np.zeros(kernel.shape[1]) if bias is None else np.asarray(bias, np.float64)
            before.set_attr("weight_data", kernel * a)
            before.set_attr("bias_data", bias * a + b)
        elif len(after) == 1 and isinstance(after[0], BatchNormalization):
            a2, b2 = affine(after[0])
            after[0].set_attr("masr_affine", (a * a2, b * a2 + b2))
        elif len(after) == 1 and isinstance(after[0], (MasrRecurrent, MasrDense)):
            fold_into_input(after[0], a, b)
        elif len(after) == 1 and isinstance(after[0], MasrBiRecurrent):
            fold_into_input(after[0], a, b, "forward_")
            fold_into_input(after[0], a, b, "backward_")
        else:
            raise ConversionError(
                f"layer {node.name!r}: BatchNormalization has no layer to fold into "
                "(it must follow a Dense without activation or precede a recurrent or Dense layer)"
            )
        model.remove_node(node)
        return True
