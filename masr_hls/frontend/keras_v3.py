"""Keras 3 layer handlers for hls4ml's front end: the recurrent layers as Keras computes them.

hls4ml 1.3's stock handlers lose facts the arithmetic depends on: the GRU bias is
split wrongly for ``reset_after=False``, ``go_backwards`` and ``reset_after`` are
dropped, ``Bidirectional(GRU)`` never splits its bias (an ``isinstance`` test
on the cell), and ``TimeDistributed(Dense)`` crashes.  These handlers replace
the stock ones in hls4ml's registry (``KerasV3LayerHandler.handles``), but act
only while hls4ml converts for the MASR backend (``frontend.entry_points``):
for any other backend each layer goes to the handler hls4ml had registered
before masr_hls (or, where it had none, to hls4ml's own fallbacks), so
installing masr_hls never changes what another backend builds.  Under MASR
they emit the stock attributes plus the facts MASR needs; whether an option is
supported is decided later, by the MASR backend's ``refuse_unsupported`` pass,
which names the layer and the option.
"""

from __future__ import annotations

from math import prod

import numpy as np
from hls4ml.converters.keras_v3._base import KerasV3LayerHandler, registry
from hls4ml.converters.keras_v3.recurrent import BidirectionalHandler, RecurentHandler

from masr_hls.frontend.entry_points import conversion
from masr_hls.frontend.keras_reader import check_fixed_frames, check_model

STOCK_HANDLERS = dict(registry)  # hls4ml's own, before the classes below register themselves

RECURRENT_OPTIONS = ("go_backwards", "stateful", "unroll", "return_state", "use_bias")
IDENTITY_LAYERS = (
    "keras.src.layers.regularization.gaussian_noise.GaussianNoise",
    "keras.src.layers.regularization.activity_regularization.ActivityRegularization",
)


def _activation_name(layer, key: str):
    """The Keras name of an activation, or the repr of a custom one (refused later by name)."""
    fn = getattr(layer, key, None)
    return getattr(fn, "__name__", repr(fn))


def _gru_biases(layer, units: int, reset_after: bool, use_bias: bool) -> tuple[np.ndarray, np.ndarray]:
    """(input bias, recurrent bias) of a GRU; without reset_after Keras has one bias and no recurrent one."""
    n = 3 * units
    if not use_bias:
        return np.zeros(n, np.float32), np.zeros(n, np.float32)
    bias = np.asarray(layer.cell.bias)
    if reset_after:
        return bias[0], bias[1]
    return bias, np.zeros(n, np.float32)


def _recurrent_facts(layer, prefix: str = "") -> dict:
    """What MASR needs beyond the stock attributes, for a GRU / LSTM / SimpleRNN (or one half of a Bidirectional)."""
    facts = {f"{prefix}{option}": bool(getattr(layer, option, False)) for option in RECURRENT_OPTIONS}
    facts[f"{prefix}keras_class"] = type(layer).__name__
    facts[f"{prefix}return_sequences"] = bool(layer.return_sequences)
    facts[f"{prefix}activation"] = _activation_name(layer, "activation")
    if hasattr(layer, "recurrent_activation"):
        facts[f"{prefix}recurrent_activation"] = _activation_name(layer, "recurrent_activation")
    if type(layer).__name__ == "GRU":
        facts[f"{prefix}reset_after"] = bool(layer.reset_after)
        facts[f"{prefix}apply_reset_gate"] = "after" if layer.reset_after else "before"
        b, rb = _gru_biases(layer, layer.units, layer.reset_after, layer.use_bias)
        facts[f"{prefix}bias_data"], facts[f"{prefix}recurrent_bias_data"] = b, rb
    return facts


class MasrOnly:
    """A handler that acts for the MASR backend (and for configurations made for no backend in particular, where
    it reads what the stock handler reads or what it cannot), and is invisible to every other backend."""

    def applies(self, layer) -> bool:
        return True

    def __call__(self, layer, in_tensors, out_tensors):
        found = conversion()
        if found is not None and found.for_masr and found.keras_model is not None:
            check_model(found.keras_model)  # refusals by name come before any hls4ml handler can crash
            if found.to_ir:
                check_fixed_frames(found.keras_model)
        if found is not None and (found.for_masr or found.backend is None) and self.applies(layer):
            return super().__call__(layer, in_tensors, out_tensors)
        key = f"{type(layer).__module__}.{type(layer).__name__}"
        stock = STOCK_HANDLERS.get(key) or STOCK_HANDLERS.get(type(layer).__name__)
        return None if stock is None else stock(layer, in_tensors, out_tensors)  # None: hls4ml's fallbacks decide


class RecurrentHandler(MasrOnly, RecurentHandler):
    """GRU / LSTM / SimpleRNN: the stock attributes, the GRU biases as Keras applies them, and every option."""

    handles = RecurentHandler.handles

    def handle(self, layer, in_tensors, out_tensors):
        (config,) = super().handle(layer, in_tensors, out_tensors)
        config.update(_recurrent_facts(layer))
        return (config,)


class BidirectionalLayerHandler(MasrOnly, BidirectionalHandler):
    """Bidirectional over GRU / LSTM / SimpleRNN, with both halves described as their own layers are."""

    handles = BidirectionalHandler.handles

    def handle(self, layer, in_tensors, out_tensors):
        forward, backward = layer.forward_layer, layer.backward_layer
        config = {
            "direction": "bidirectional",
            "return_sequences": bool(layer.return_sequences),
            "return_state": bool(layer.return_state),
            "time_major": False,
            "n_timesteps": in_tensors[0].shape[1],
            "n_in": in_tensors[0].shape[2],
            "merge_mode": layer.merge_mode,
        }
        for direction, sub in (("forward", forward), ("backward", backward)):
            p = f"{direction}_"
            config[p + "name"] = sub.name
            config[p + "class_name"] = type(sub).__name__
            if not hasattr(sub, "cell"):
                continue  # not a recurrent layer: refused by name in the backend
            config[p + "weight_data"] = self.load_weight(sub.cell, "kernel")
            config[p + "recurrent_weight_data"] = self.load_weight(sub.cell, "recurrent_kernel")
            config[p + "bias_data"] = (
                self.load_weight(sub.cell, "bias") if sub.use_bias else np.zeros(config[p + "weight_data"].shape[-1], np.float32)
            )
            config[p + "n_states"] = sub.units
            config.update(_recurrent_facts(sub, p))
        if "forward_n_states" in config and "backward_n_states" in config:
            both = config["forward_n_states"] + config["backward_n_states"]
            config["n_out"] = both if layer.merge_mode == "concat" else config["forward_n_states"]
        return config


class TimeDistributedHandler(MasrOnly, KerasV3LayerHandler):
    """TimeDistributed(Dense) is a Dense applied to every frame; its activation follows as its own layer."""

    handles = ("keras.src.layers.rnn.time_distributed.TimeDistributed",)

    def applies(self, layer) -> bool:
        return type(layer.layer).__name__ == "Dense"  # others: hls4ml's own handling (MASR refuses them by name)

    def handle(self, layer, in_tensors, out_tensors):
        inner = layer.layer
        config = dict(self.default_config)
        kernel = self.load_weight(inner, "kernel")
        config.update(
            class_name="Dense",
            data_format="channels_last",
            weight_data=kernel,
            bias_data=self.load_weight(inner, "bias") if inner.use_bias else None,
            n_in=kernel.shape[0],
            n_out=kernel.shape[1],
        )
        act_config, intermediate = self.maybe_get_activation_config(inner, out_tensors)
        if act_config is None:
            return (config,)
        config["output_keras_tensor_names"] = [intermediate]
        return config, act_config


class BatchNormalizationHandler(MasrOnly, KerasV3LayerHandler):
    """The attributes hls4ml's Keras-2 fallback gives a BatchNormalization, without the fallback's messages."""

    handles = ("keras.src.layers.normalization.batch_normalization.BatchNormalization",)

    def handle(self, layer, in_tensors, out_tensors):
        shape = in_tensors[0].shape
        return {
            "data_format": "channels_last",
            "epsilon": layer.epsilon,
            "n_in": prod(shape[1:]),
            "n_out": prod(shape[1:]),
            "n_filt": shape[-1] if len(shape) > 2 else -1,
            "axis": layer.axis,
            "use_gamma": layer.scale,
            "gamma_data": self.load_weight(layer, "gamma") if layer.scale else 1,
            "use_beta": layer.center,
            "beta_data": self.load_weight(layer, "beta") if layer.center else 0,
            "mean_data": self.load_weight(layer, "moving_mean"),
            "variance_data": self.load_weight(layer, "moving_variance"),
        }


class IdentityHandler(MasrOnly, KerasV3LayerHandler):
    """Layers that act only in training, as hls4ml treats Dropout: a linear activation."""

    handles = IDENTITY_LAYERS

    def handle(self, layer, in_tensors, out_tensors):
        return {"class_name": "Activation", "activation": "linear", "n_in": prod(in_tensors[0].shape[1:])}


HANDLERS = (RecurrentHandler, BidirectionalLayerHandler, TimeDistributedHandler, BatchNormalizationHandler, IdentityHandler)
