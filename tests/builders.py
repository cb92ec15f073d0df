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


# A GRU(4) on 8 frames of 6 features (ReLU candidate, sigmoid gates, half its kernels zero) before a Dense head, and
# the keys it converts with: test_rtl_model.py synthesises its GRU with Yosys and test_sweep.py sweeps the same model
# with `yosys: true`, so the second takes the first's synthesis from the content-keyed cache.
SMALL_GRU_CONFIG = {"Model": {"Lanes": 2, "TableSizeLog2": 6}}


def small_gru(seed: int = 5):
    import numpy as np

    model = chain(
        8,
        6,
        L.GRU(4, activation="relu", recurrent_activation="sigmoid", return_sequences=True, name="g"),
        L.Dense(3, activation="softmax", name="head"),
        seed=seed,
    )
    rng = np.random.default_rng(seed)  # the GRU's weights from numpy: Keras' initial weights differ from one build to the next
    gru = model.get_layer("g")
    kernel, recurrent, bias = gru.get_weights()
    gru.set_weights([rng.normal(0, 0.6, w.shape) * (rng.random(w.shape) < 0.5) for w in (kernel, recurrent)] + [rng.normal(0, 0.2, bias.shape)])
    return model
