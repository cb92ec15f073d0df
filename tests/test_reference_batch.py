"""The numpy reference runs a batch's samples together: each sample's outputs and figures are those of running it alone."""

import keras
import numpy as np
import pytest
from builders import chain

import masr_hls
from masr_hls.training.pruning import prune_to_sparsity

L = keras.layers
FRAMES, FEATURES = 9, 5
# The 16-bit defaults, and 32-bit values into a 48-bit accumulator (the wide, Python-integer path).
PRECISIONS = {"default": {}, "wide": {"default_precision": "ap_fixed<32,14>"}}


def mixed_model():
    model = chain(
        FRAMES,
        FEATURES,
        L.Bidirectional(L.GRU(6, activation="relu", return_sequences=True), merge_mode="sum"),
        L.GRU(5, reset_after=False, return_sequences=True),
        L.Bidirectional(L.LSTM(4), backward_layer=L.SimpleRNN(4, go_backwards=True)),
        L.Dense(4, activation="softmax"),
        seed=3,
    )
    return prune_to_sparsity(model, 0.5)


def mixed_batch(rng) -> np.ndarray:
    """All-zero, saturating, sparse and dense samples side by side."""
    x = rng.normal(0, 1, (5, FRAMES, FEATURES))
    x[0] = 0
    x[1] *= 100
    x[2] *= rng.random((FRAMES, FEATURES)) < 0.2
    x[3] = np.maximum(x[3], 0)
    return x


@pytest.mark.parametrize("precision", list(PRECISIONS))
def test_batch_equals_samples_alone(precision):
    model = mixed_model()
    config = masr_hls.config_from_keras_model(model, lanes=3, **PRECISIONS[precision])
    if precision == "wide":
        config["Model"]["Precision"]["accum"] = "ap_fixed<48,20,AP_RND,AP_WRAP>"
    hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, hls_config=config, output_dir="unused"))
    x = mixed_batch(np.random.default_rng(0))
    for frames in (FRAMES, 1):
        batch = hw.reference(x[:, :frames])
        for i in range(len(x)):
            alone = hw.reference(x[i : i + 1, :frames])
            np.testing.assert_array_equal(batch.y_raw[i], alone.y_raw[0])
            assert [r.block() for r in batch.layers[i]] == [r.block() for r in alone.layers[0]]
            h = hw.quantize_input(x[i, :frames])[0]  # the layers' own single-sample path
            for layer, result in zip(hw.layers, batch.layers[i]):
                h, own = layer.reference(h)
                assert own.block() == result.block()
            np.testing.assert_array_equal(h, batch.y_raw[i])
