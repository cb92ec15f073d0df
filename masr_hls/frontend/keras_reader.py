"""Read a Keras 3 model into masr_hls's layer list.

The model must be a chain (Sequential, or a functional model whose layers
follow one another): Input, recurrent layers (GRU, LSTM, SimpleRNN, each
possibly inside Bidirectional), Dense / TimeDistributed(Dense) heads and the
layers that fold away at inference (Dropout, BatchNormalization, activations
after a Dense).  Everything else, and every option whose meaning we do not
implement, is refused with the layer's name: nothing converts silently wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RECURRENT = {"GRU": "gru", "LSTM": "lstm", "SimpleRNN": "simple_rnn"}
IDENTITY = ("Dropout", "SpatialDropout1D", "GaussianDropout", "GaussianNoise", "AlphaDropout", "ActivityRegularization")
HEAD_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "hard_sigmoid", "softmax")


class ConversionError(ValueError):
    """The model uses a layer or an option masr_hls cannot convert faithfully."""


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


@dataclass
class ModelSpec:
    name: str
    n_frames: int | None  # the input's time axis (None: set by the configuration)
    n_features: int
    layers: list  # RecurrentSpec | BidirectionalSpec | DenseSpec


def load_model(model_or_path):
    """A Keras model, or the path of a ``.keras`` file."""
    import keras

    if isinstance(model_or_path, (str, Path)):
        path = Path(model_or_path)
        if not path.is_file():
            raise FileNotFoundError(f"Keras model file {path} not found")
        if path.suffix != ".keras":
            raise ConversionError(f"{path}: expected a Keras 3 '.keras' file")
        return keras.saving.load_model(path, compile=False)
    if not isinstance(model_or_path, keras.Model):
        raise TypeError(f"expected a keras.Model or a .keras path, got {type(model_or_path).__name__}")
    return model_or_path


def read_model(model) -> ModelSpec:
    """The model's layer chain, with identities removed and BatchNormalization and activations folded."""
    import keras

    for layer in model.layers:  # options that change the model's shape are named before the shape is judged
        _refuse_unsupported_options(layer)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ConversionError(f"model {model.name!r}: one input and one output are supported")
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 3:
        raise ConversionError(f"model {model.name!r}: input shape {shape[1:]} is not (frames, features)")
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    _check_chain(model, layers)

    specs: list = []
    pending_bn: tuple[str, np.ndarray, np.ndarray] | None = None  # x' = a x + b, folded into the next layer
    for layer in layers:
        cls = type(layer).__name__
        if cls in IDENTITY:
            continue
        if cls in ("Masking", "Embedding"):
            raise ConversionError(f"layer {layer.name!r} ({cls}): masking is not supported; remove it (and mask_zero)")
        if cls == "BatchNormalization":
            a, b = _batchnorm_affine(layer)
            if specs and isinstance(specs[-1], DenseSpec) and specs[-1].activation == "linear":
                d = specs[-1]
                d.kernel, d.bias = d.kernel * a, d.bias * a + b
                d.folded.append(layer.name)
            else:
                pending_bn = _compose(pending_bn, (layer.name, a, b))
            continue
        if cls in ("Activation", "ReLU", "Softmax"):
            _fold_activation(layer, cls, specs)
            continue
        if cls in RECURRENT:
            spec = _recurrent(layer)
        elif cls == "Bidirectional":
            spec = _bidirectional(layer)
        elif cls == "Dense" or (cls == "TimeDistributed" and type(layer.layer).__name__ == "Dense"):
            spec = _dense(layer.layer if cls == "TimeDistributed" else layer, layer.name)
        else:
            raise ConversionError(f"layer {layer.name!r}: {cls} is not supported by masr_hls")
        if pending_bn is not None:
            _fold_input_affine(spec, *pending_bn)
            pending_bn = None
        specs.append(spec)
    if pending_bn is not None:
        raise ConversionError(f"layer {pending_bn[0]!r}: BatchNormalization at the end of the model has no layer to fold into")
    if not specs:
        raise ConversionError(f"model {model.name!r} has no layer to convert")
    _check_sequence_flow(specs)
    return ModelSpec(model.name, shape[1], int(shape[2]), specs)


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


def _activation_name(layer, key: str) -> str:
    value = layer.get_config().get(key)
    if not isinstance(value, str):
        raise ConversionError(f"layer {layer.name!r}: custom {key} {value!r} is not supported")
    return value


def _numpy(variable) -> np.ndarray:
    value = variable.numpy() if hasattr(variable, "numpy") else variable
    return np.array(value, dtype=np.float64)


def _recurrent(layer) -> RecurrentSpec:
    cls = type(layer).__name__
    cfg = layer.get_config()
    for option in ("return_state", "stateful", "time_major"):
        if cfg.get(option):
            raise ConversionError(f"layer {layer.name!r} ({cls}): {option}=True is not supported")
    kind = RECURRENT[cls]
    cell = layer.cell
    bias = _numpy(cell.bias) if cfg.get("use_bias", True) else None
    spec = RecurrentSpec(
        name=layer.name,
        kind=kind,
        units=int(cfg["units"]),
        activation=_activation_name(layer, "activation"),
        recurrent_activation=_activation_name(layer, "recurrent_activation") if kind != "simple_rnn" else "sigmoid",
        reset_after=bool(cfg.get("reset_after", True)),
        go_backwards=bool(cfg.get("go_backwards", False)),
        return_sequences=bool(cfg.get("return_sequences", False)),
        kernel=_numpy(cell.kernel),
        recurrent_kernel=_numpy(cell.recurrent_kernel),
        bias=bias,
    )
    if spec.activation not in ("tanh", "relu"):
        raise ConversionError(f"layer {layer.name!r}: activation {spec.activation!r} is not supported (tanh, relu)")
    if spec.recurrent_activation not in ("sigmoid", "hard_sigmoid"):
        raise ConversionError(
            f"layer {layer.name!r}: recurrent_activation {spec.recurrent_activation!r} is not supported (sigmoid, hard_sigmoid)"
        )
    _check_finite(spec.name, kernel=spec.kernel, recurrent_kernel=spec.recurrent_kernel, bias=spec.bias)
    return spec


def _bidirectional(layer) -> BidirectionalSpec:
    if layer.merge_mode is None:
        raise ConversionError(f"layer {layer.name!r}: Bidirectional merge_mode=None (two outputs) is not supported")
    if layer.merge_mode not in ("concat", "sum", "mul", "ave"):
        raise ConversionError(f"layer {layer.name!r}: merge_mode {layer.merge_mode!r} is not supported")
    for sub in (layer.forward_layer, layer.backward_layer):
        if type(sub).__name__ not in RECURRENT:
            raise ConversionError(f"layer {layer.name!r}: Bidirectional over {type(sub).__name__} is not supported")
    fwd, bwd = _recurrent(layer.forward_layer), _recurrent(layer.backward_layer)
    for spec, name in ((fwd, "forward"), (bwd, "backward")):
        spec.name = f"{layer.name}/{name}"
    # Keras runs the forward layer as given and the backward layer reversed (it sets go_backwards
    # on it); a forward layer built with go_backwards=True would read the sequence reversed too.
    if fwd.go_backwards or not bwd.go_backwards:
        raise ConversionError(f"layer {layer.name!r}: forward/backward layers with swapped go_backwards are not supported")
    if fwd.return_sequences != bwd.return_sequences:
        raise ConversionError(f"layer {layer.name!r}: forward and backward layers disagree on return_sequences")
    if layer.merge_mode != "concat" and fwd.units != bwd.units:
        raise ConversionError(f"layer {layer.name!r}: merge_mode {layer.merge_mode!r} needs equal units in both directions")
    return BidirectionalSpec(layer.name, fwd, bwd, layer.merge_mode, fwd.return_sequences)


def _dense(layer, name: str) -> DenseSpec:
    kernel = _numpy(layer.kernel)
    bias = _numpy(layer.bias) if layer.use_bias else np.zeros(kernel.shape[1])
    activation = _activation_name(layer, "activation")
    if activation not in HEAD_ACTIVATIONS:
        raise ConversionError(f"layer {name!r}: activation {activation!r} is not supported ({', '.join(HEAD_ACTIVATIONS)})")
    _check_finite(name, kernel=kernel, bias=bias)
    return DenseSpec(name, kernel, bias, activation)


def _fold_activation(layer, cls: str, specs: list) -> None:
    if cls == "Softmax":
        kind = "softmax"
        if layer.get_config().get("axis", -1) not in (-1, [-1]):
            raise ConversionError(f"layer {layer.name!r}: Softmax over an axis other than the last is not supported")
    elif cls == "ReLU":
        cfg = layer.get_config()
        if cfg.get("max_value") is not None or cfg.get("negative_slope", 0) or cfg.get("threshold", 0):
            raise ConversionError(f"layer {layer.name!r}: ReLU with max_value, negative_slope or threshold is not supported")
        kind = "relu"
    else:
        kind = _activation_name(layer, "activation")
    if kind == "linear":
        return
    if not specs or not isinstance(specs[-1], DenseSpec) or specs[-1].activation != "linear":
        raise ConversionError(
            f"layer {layer.name!r}: a {kind} activation is supported only directly after a Dense layer without activation"
        )
    if kind not in HEAD_ACTIVATIONS:
        raise ConversionError(f"layer {layer.name!r}: activation {kind!r} is not supported ({', '.join(HEAD_ACTIVATIONS)})")
    specs[-1].activation = kind
    specs[-1].folded.append(layer.name)


def _batchnorm_affine(layer):
    cfg = layer.get_config()
    if cfg.get("axis", -1) not in (-1, 2, [-1], [2]):
        raise ConversionError(f"layer {layer.name!r}: BatchNormalization over axis {cfg.get('axis')} is not supported")
    gamma = _numpy(layer.gamma) if layer.scale else 1.0
    beta = _numpy(layer.beta) if layer.center else 0.0
    a = gamma / np.sqrt(_numpy(layer.moving_variance) + layer.epsilon)
    return a, beta - _numpy(layer.moving_mean) * a


def _compose(first, second):
    """x -> a2 (a1 x + b1) + b2."""
    if first is None:
        return second
    name, a1, b1 = first
    _, a2, b2 = second
    return name, a1 * a2, b1 * a2 + b2


def _fold_input_affine(spec, name: str, a: np.ndarray, b: np.ndarray) -> None:
    """The next layer reads a*x + b: scale its kernel's input rows and move b into its (input) bias."""
    if isinstance(spec, BidirectionalSpec):
        _fold_input_affine(spec.forward, name, a, b)
        _fold_input_affine(spec.backward, name, a, b)
        return
    shift = b @ spec.kernel
    spec.kernel = spec.kernel * np.asarray(a)[:, None]
    if isinstance(spec, DenseSpec):
        spec.bias = spec.bias + shift
        spec.folded.append(name)
        return
    if spec.bias is None:
        spec.bias = np.zeros((2, shift.size)) if spec.kind == "gru" and spec.reset_after else np.zeros(shift.size)
    spec.bias = spec.bias.copy()
    if spec.bias.ndim == 2:
        spec.bias[0] += shift  # the input bias of a GRU with reset_after
    else:
        spec.bias += shift


def _check_finite(layer: str, **arrays) -> None:
    for key, array in arrays.items():
        if array is not None and not np.all(np.isfinite(array)):
            raise ConversionError(f"layer {layer!r}: {key} contains NaN or Inf")


def _check_sequence_flow(specs: list) -> None:
    sequence = True
    for spec in specs:
        if isinstance(spec, (RecurrentSpec, BidirectionalSpec)):
            if not sequence:
                raise ConversionError(f"layer {spec.name!r}: a recurrent layer needs a sequence (set return_sequences=True before it)")
            sequence = spec.return_sequences


def output_is_sequence(spec: ModelSpec) -> bool:
    sequence = True
    for layer in spec.layers:
        if isinstance(layer, (RecurrentSpec, BidirectionalSpec)):
            sequence = layer.return_sequences
    return sequence

