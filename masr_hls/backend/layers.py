"""MASR's layers in hls4ml's IR, registered with ``register_layer``.

A node is created from the stock attributes the Keras handlers emit (the MASR
backend's ``create_layer_class`` substitutes these classes for hls4ml's GRU,
LSTM, SimpleRNN, Bidirectional and Dense).  The unidirectional ones also
derive from hls4ml's class for their cell (hls4ml's profiling selects layers
with ``isinstance``); the MASR backend runs only its own passes, so no Vivado
pass sees them.  No class name contains "Bidirectional" (Vitis' validation
matches substrings).

To hls4ml's users and tools a node looks like the stock layer it replaces:
``class_name`` is the Keras class ('GRU', 'LSTM', 'SimpleRNN', 'Bidirectional',
'Dense'), and ``get_weights()`` gives the stock weight variables in the stock
order, in the types the hardware holds them in once ``build_designs`` has run.

The configurable attributes are MASR's keys, so hls4ml's
``config_from_keras_model(..., backend="MASR")`` lists them per layer, as
``auto`` (the Model section's value); precision roles likewise.  The
``build_designs`` pass attaches the quantised, bitmask-encoded layer
(``backend.designs``) as the attribute ``design``.
"""

from __future__ import annotations

import numpy as np
from hls4ml.model.attributes import ConfigurableAttribute, TypeAttribute
from hls4ml.model.layers import GRU, LSTM, Layer, SimpleRNN, register_layer
from hls4ml.model.types import FixedPrecisionType, NamedType
from hls4ml.utils.string_utils import convert_to_snake_case

from masr_hls.backend.config import AUTO, ENGINE_DEFAULTS, layer_settings, strategy_name, validate

CELL_ROLES = ("weight", "recurrent_weight", "bias", "accum", "state", "gate", "cand", "cell")
PLACEHOLDER = FixedPrecisionType(16, 6)  # until build_designs sets the real output type


def _attributes(roles) -> list:
    return [ConfigurableAttribute(convert_to_snake_case(key), value_type=None, default=AUTO) for key in ENGINE_DEFAULTS] + [
        TypeAttribute(role) for role in roles
    ]


class MasrLayer(Layer):
    """Common to MASR nodes: the output is (frames, n_out), or (n_out,) for the last frame only."""

    @property
    def class_name(self, include_wrapped=False):
        """The Keras class this node computes, as hls4ml's own layer for it reports."""
        return self.attributes.get("class_name") or type(self).__name__

    def _validate_attributes(self):
        strategy = self.attributes.get("strategy")
        if strategy is not None:  # as hls4ml spells it in the IR ('ResourceUnrolled' -> 'resource_unrolled')
            self.set_attr("strategy", strategy_name(strategy) or strategy)
        for attr in self.expected_attributes:  # role types: placeholders until build_designs resolves them
            if attr.name.endswith("_t") and self.get_attr(attr.name) is None:
                self.set_attr(attr.name, NamedType(f"{self.name}_{attr.name}", PLACEHOLDER))
        super()._validate_attributes()

    def _add_output(self, n_out: int, sequence: bool) -> None:
        frames = self.attributes.get("n_timesteps") or self.get_input_variable().shape[0]
        shape = [frames, n_out] if sequence else [n_out]
        self.add_output_variable(shape, precision=PLACEHOLDER)

    def _weight_types(self) -> dict:
        """The layer's precision roles from the configuration, as the build_designs pass will resolve them."""
        config = validate(self.model.config.config["HLSConfig"], masr_layers=())  # sections are checked by the pass
        return layer_settings(config, self.name).precision

    def _add_recurrent_weights(self, types: dict, prefix: str = "") -> None:
        """hls4ml's four weight variables of a recurrent layer: kernel, recurrent kernel, bias, recurrent bias."""
        letter = prefix[:1] + "_" if prefix else ""
        kernel = self.get_attr(prefix + "weight_data")
        bias = self.get_attr(prefix + "bias_data")
        recurrent_bias = self.get_attr(prefix + "recurrent_bias_data")
        for name, var, data in (
            ("weight", "w", kernel),
            ("recurrent_weight", "wr", self.get_attr(prefix + "recurrent_weight_data")),
            ("bias", "b", bias),
            ("recurrent_bias", "br", recurrent_bias),
        ):
            if data is None:  # no bias in Keras (use_bias=False), or LSTM / SimpleRNN's recurrent bias: zeros
                data = np.zeros(np.shape(kernel)[-1])
            role = "bias" if name == "recurrent_bias" else name  # MASR keeps both biases in one type
            self._add_weight(prefix + name, f"{var}_{letter}" + "{index}", data, types[role])

    def _add_weight(self, name: str, var_name: str, data, t) -> None:
        """A weight variable in the type the hardware holds it in (hls4ml's tools read it)."""
        precision = self.model.config.backend.convert_precision_string(t.cpp())
        self.add_weights_variable(name=name, var_name=var_name, data=data, precision=precision)

    @property
    def design(self):
        return self.get_attr("design")


class MasrRecurrent(MasrLayer):
    """A unidirectional GRU / LSTM / SimpleRNN layer on the sparse engine."""

    _expected_attributes = _attributes(CELL_ROLES)

    def initialize(self):
        self._add_output(self.attributes["n_out"], self.attributes.get("return_sequences", False))
        self._add_recurrent_weights(self._weight_types())


class MasrBiRecurrent(MasrLayer):
    """Both directions of a Bidirectional layer, each on its own modules, and their merge."""

    _expected_attributes = _attributes(CELL_ROLES + ("output",))

    def initialize(self):
        self._add_output(self.attributes.get("n_out", 1), self.attributes.get("return_sequences", False))
        types = self._weight_types()  # both halves share the layer's section
        for direction in ("forward", "backward"):
            if self.attributes.get(f"{direction}_weight_data") is not None:  # else refused by name in refuse_unsupported
                self._add_recurrent_weights(types, direction + "_")


class MasrDense(MasrLayer):
    """A Dense head on every frame (or on the final state), with its activation and softmax folded in."""

    _expected_attributes = _attributes(("weight", "bias", "accum", "output", "table", "softmax"))

    def initialize(self):
        shape = self.get_input_variable().shape
        self.add_output_variable(list(shape[:-1]) + [self.attributes["n_out"]], precision=PLACEHOLDER)
        self.set_attr("activation", self.attributes.get("activation", "linear"))
        kernel, bias, types = self.attributes["weight_data"], self.attributes.get("bias_data"), self._weight_types()
        self._add_weight("weight", "w{index}", kernel, types["weight"])
        self._add_weight("bias", "b{index}", np.zeros(np.shape(kernel)[-1]) if bias is None else bias, types["bias"])


# Unidirectional nodes, also of hls4ml's class for their cell (see the module's docstring).
class MasrGRU(MasrRecurrent, GRU):
    pass


class MasrLSTM(MasrRecurrent, LSTM):
    pass


class MasrSimpleRNN(MasrRecurrent, SimpleRNN):
    pass


MASR_LAYERS = {cls.__name__: cls for cls in (MasrRecurrent, MasrGRU, MasrLSTM, MasrSimpleRNN, MasrBiRecurrent, MasrDense)}
STOCK_TO_MASR = {"GRU": MasrGRU, "LSTM": MasrLSTM, "SimpleRNN": MasrSimpleRNN, "Bidirectional": MasrBiRecurrent, "Dense": MasrDense}


def register_layers() -> None:
    for name, cls in MASR_LAYERS.items():
        register_layer(name, cls)
