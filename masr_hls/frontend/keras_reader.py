"""Keras 3 models as masr_hls reads them: loading, the checks hls4ml's parser cannot make, and layer specs.

The model must be a chain (Sequential, or a functional model whose layers
follow one another): Input, recurrent layers (GRU, LSTM, SimpleRNN, each
possibly inside Bidirectional), Dense / TimeDistributed(Dense) heads and the
layers that fold away at inference (Dropout, BatchNormalization, activations
after a Dense).  Everything else, and every option whose meaning we do not
implement, is refused with the layer's name: nothing converts silently wrong.
The specs are what the MASR backend's ``build_designs`` pass reads off hls4ml's IR.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from masr_hls.errors import ConversionError

RECURRENT = {"GRU": "gru", "LSTM": "lstm", "SimpleRNN": "simple_rnn"}  # Keras class -> cell kind
IDENTITY = ("Dropout", "SpatialDropout1D", "GaussianDropout", "GaussianNoise", "AlphaDropout", "ActivityRegularization")
SUPPORTED = (*RECURRENT, *IDENTITY, "Bidirectional", "Dense", "TimeDistributed", "BatchNormalization", "Activation", "ReLU", "Softmax")


@dataclass
class RecurrentSpec:
    name: str
    kind: str  # gru | lstm | simple_rnn
    units: int
    activation: str
    recurrent_activation: str
    reset_after: bool
    go_backwards: bool
    return_sequences: bool
    kernel: np.ndarray  # Keras layout (n_in, G*u)
    recurrent_kernel: np.ndarray  # (u, G*u)
    bias: np.ndarray | None  # (G*u,) or (2, G*u) for GRU reset_after

    @property
    def n_in(self) -> int:
        return self.kernel.shape[0]


@dataclass
class BidirectionalSpec:
    name: str
    forward: RecurrentSpec
    backward: RecurrentSpec
    merge_mode: str
    return_sequences: bool

    @property
    def n_in(self) -> int:
        return self.forward.n_in


@dataclass
class DenseSpec:
    name: str
    kernel: np.ndarray  # (n_in, n_out)
    bias: np.ndarray  # (n_out,)
    activation: str = "linear"  # softmax is its own stage in hardware
    folded: list[str] = field(default_factory=list)  # names of layers folded into this one

    @property
    def n_in(self) -> int:
        return self.kernel.shape[0]


def load_model(model_or_path):
    """A Keras model, or the path of a ``.keras`` file."""
    import keras

    if isinstance(model_or_path, (str, Path)):
        path = Path(model_or_path)
        if not path.is_file():
            raise FileNotFoundError(f"Keras model file {path} not found")
        if path.suffix != ".keras":
            raise ConversionError(f"{path}: expected a Keras 3 '.keras' file")
        if path.stat().st_size == 0:
            raise ConversionError(f"{path} is empty, not a Keras 3 .keras model")
        if not zipfile.is_zipfile(path):
            raise ConversionError(f"{path} is not a Keras 3 .keras model (not a zip archive: corrupt or truncated?)")
        try:
            return keras.saving.load_model(path, compile=False)
        except Exception as exc:  # whatever Keras' deserialisation raises, the file is what the user must fix
            detail = (str(exc).strip().splitlines() or [""])[0][:200]
            raise ConversionError(f"{path}: Keras cannot load this model ({type(exc).__name__}: {detail})") from exc
    if not isinstance(model_or_path, keras.Model):
        raise TypeError(f"expected a keras.Model or a .keras path, got {type(model_or_path).__name__}")
    return model_or_path


def check_model(model) -> None:
    """Refuse, by name, what hls4ml's parser cannot even read into the IR: layers without a handler, options
    that change the model's shape, masking, and graphs that are not a chain.  Everything else is judged by
    the MASR backend's passes."""
    for layer in model.layers:  # options that change the model's shape are named before the shape is judged
        _refuse_unsupported_options(layer)
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    for layer in layers:  # an unsupported layer (Embedding, ConvLSTM1D, ...) is named before the input shape is judged
        cls = type(layer).__name__
        if cls not in SUPPORTED:
            raise ConversionError(f"layer {layer.name!r}: {cls} is not supported by masr_hls")
        if cls == "TimeDistributed" and type(layer.layer).__name__ != "Dense":
            raise ConversionError(
                f"layer {layer.name!r}: TimeDistributed({type(layer.layer).__name__}) is not supported by masr_hls (TimeDistributed(Dense) is)"
            )
        for named in (layer, getattr(layer, "forward_layer", None), getattr(layer, "backward_layer", None)):
            if named is not None:
                _check_name(named.name)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ConversionError(f"model {model.name!r}: one input and one output are supported")
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 3:
        raise ConversionError(f"model {model.name!r}: input shape {shape[1:]} is not (frames, features)")
    _check_chain(model, layers)


def check_fixed_frames(model) -> None:
    """hls4ml's IR needs a number of frames; a model whose input takes any number is converted through
    ``masr_hls.convert_from_keras_model``, which gives it Model.MaxFrames."""
    shape = tuple(model.inputs[0].shape)
    if len(shape) == 3 and shape[1] is None:
        raise ConversionError(
            f"model {model.name!r}: its input takes any number of frames {shape[1:]}; convert it with "
            "masr_hls.convert_from_keras_model and Model.MaxFrames (the most frames the hardware holds), "
            "or give its Input a number of frames"
        )


def with_frames(model, frames: int):
    """``model`` (input: any number of frames) as a model of ``frames`` input frames, with the same weights."""
    import keras

    clone = keras.models.clone_model(model, input_tensors=keras.Input((frames,) + tuple(model.inputs[0].shape[2:])))
    clone.set_weights(model.get_weights())
    return clone


def _check_name(name: str) -> None:
    """hls4ml formats its type names from layer names (``str.format``), so braces in a layer name break it."""
    if "{" in name or "}" in name:
        raise ConversionError(f"layer {name!r}: a layer name with '{{' or '}}' is not supported; rename the layer")


def _refuse_unsupported_options(layer) -> None:
    cls = type(layer).__name__
    if cls == "Masking" or (cls == "Embedding" and layer.get_config().get("mask_zero")):
        raise ConversionError(f"layer {layer.name!r} ({cls}): masking is not supported; remove it (and mask_zero)")
    if cls == "Bidirectional":
        if layer.merge_mode is None:
            raise ConversionError(f"layer {layer.name!r}: Bidirectional merge_mode=None (two outputs) is not supported")
        for sub in (layer.forward_layer, layer.backward_layer):
            _refuse_unsupported_options(sub)
    if cls in RECURRENT:
        cfg = layer.get_config()
        for option in ("return_state", "stateful", "time_major"):
            if cfg.get(option):
                raise ConversionError(f"layer {layer.name!r} ({cls}): {option}=True is not supported")


def _check_chain(model, layers) -> None:
    """Each layer must read the output of the layer before it (the first: the model input)."""
    previous = None
    for layer in layers:
        try:
            source = layer.input._keras_history[0]
        except (AttributeError, ValueError, IndexError, TypeError):
            raise ConversionError(f"layer {layer.name!r} has several inputs or is used more than once; only layer chains are supported") from None
        expected_input = previous is None and type(source).__name__ == "InputLayer"
        if not expected_input and source is not previous:
            raise ConversionError(f"layer {layer.name!r} does not read the previous layer's output; only layer chains are supported")
        previous = layer
