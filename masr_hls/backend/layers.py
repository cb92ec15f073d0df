"""MASR's layers in hls4ml's IR, registered with ``register_layer``.

A node is created from the stock attributes the Keras handlers emit (the MASR
backend's ``create_layer_class`` substitutes these classes for hls4ml's GRU,
LSTM, SimpleRNN, Bidirectional and Dense).  Deliberately not subclasses of the
stock classes (Vivado's passes select layers with ``isinstance``), and no
class name contains "Bidirectional" (Vitis' validation matches substrings).

The configurable attributes are MASR's keys, so hls4ml's
``config_from_keras_model(..., backend="MASR")`` lists them per layer; precision
roles default to ``auto``: the Model section's value.  The ``build_hardware``
pass attaches the quantised, bitmask-encoded layer (``backend.hardware``) as
the attribute ``hardware``.
"""

from __future__ import annotations

from hls4ml.model.attributes import ConfigurableAttribute, TypeAttribute
from hls4ml.model.layers import Layer, register_layer
from hls4ml.model.types import FixedPrecisionType, NamedType

ENGINE_KEYS = {  # attribute -> default (see backend/config.py for what each means)
    "lanes": 4,
    "macs_per_lane": 1,
    "scan_words": 4,
    "mode": "masr",
    "lane_assignment": "balanced",
    "table_size_log2": 10,
    "table_range_log2": 3,
}
CELL_ROLES = ("weight", "recurrent_weight", "bias", "accum", "state", "gate", "cand", "cell")
PLACEHOLDER = FixedPrecisionType(16, 6)  # until build_hardware sets the real output type


def _attributes(roles) -> list:
    return [ConfigurableAttribute(name, value_type=None, default=default) for name, default in ENGINE_KEYS.items()] + [
        TypeAttribute(role) for role in roles
    ]


class MasrLayer(Layer):
    """Common to MASR nodes: the output is (frames, n_out), or (n_out,) for the last frame only."""

    def _validate_attributes(self):
        for attr in self.expected_attributes:  # role types: placeholders until build_hardware resolves them
            if attr.name.endswith("_t") and self.get_attr(attr.name) is None:
                self.set_attr(attr.name, NamedType(f"{self.name}_{attr.name}", PLACEHOLDER))
        super()._validate_attributes()

    def _add_output(self, n_out: int, sequence: bool) -> None:
        frames = self.attributes.get("n_timesteps") or self.get_input_variable().shape[0]
        shape = [frames, n_out] if sequence else [n_out]
        self.add_output_variable(shape, precision=PLACEHOLDER)

    @property
    def hardware(self):
        return self.get_attr("hardware")


class MasrRecurrent(MasrLayer):
    """A unidirectional GRU / LSTM / SimpleRNN layer on the sparse engine."""

    _expected_attributes = _attributes(CELL_ROLES)

    def initialize(self):
        self._add_output(self.attributes["n_out"], self.attributes.get("return_sequences", False))


class MasrBiRecurrent(MasrLayer):
    """Both directions of a Bidirectional layer, each on its own modules, and their merge."""

    _expected_attributes = _attributes(CELL_ROLES + ("output",))

    def initialize(self):
        self._add_output(self.attributes.get("n_out", 1), self.attributes.get("return_sequences", False))


class MasrDense(MasrLayer):
    """A Dense head on every frame (or on the final state), with its activation and softmax folded in."""

    _expected_attributes = _attributes(("weight", "bias", "accum", "output", "table", "softmax"))

    def initialize(self):
        shape = self.get_input_variable().shape
        self.add_output_variable(list(shape[:-1]) + [self.attributes["n_out"]], precision=PLACEHOLDER)
        self.set_attr("activation", self.attributes.get("activation", "linear"))


MASR_LAYERS = {"MasrRecurrent": MasrRecurrent, "MasrBiRecurrent": MasrBiRecurrent, "MasrDense": MasrDense}
STOCK_TO_MASR = {"GRU": MasrRecurrent, "LSTM": MasrRecurrent, "SimpleRNN": MasrRecurrent,
                 "Bidirectional": MasrBiRecurrent, "Dense": MasrDense}


def register_layers() -> None:
    for name, cls in MASR_LAYERS.items():
        register_layer(name, cls)
