"""Keras models the tests share.  A layer's initial weights are drawn when Keras builds it, so ``seed`` is set
just before the model is made from the layers given (as each test module did on its own before)."""

import keras

L = keras.layers


def rnn(kind: str, units: int, **kw):
    """A GRU, LSTM or SimpleRNN layer; options a kind does not have (reset_after, recurrent_activation) are dropped."""
    cls = {"gru": L.GRU, "lstm": L.LSTM, "simple_rnn": L.SimpleRNN}[kind]
    if kind != "gru":
        kw.pop("reset_after", None)
    if kind == "simple_rnn":
        kw.pop("recurrent_activation", None)
    return cls(units, **kw)


def chain(frames: int, features: int, *layers, seed: int | None = None, name: str | None = None):
    """A Sequential model of ``layers`` on (frames, features) inputs; ``seed``: Keras' random seed, set first."""
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((frames, features)), *layers], name=name)
