"""The Keras cross-check catches wrong conversions at every deployed precision and passes correct ones.

Each "twin" is the Keras model that a plausible conversion bug would compute
instead of the real one; the semantic part of the cross-check (the widened
reference against Keras) must refuse it whatever the deployed types are.
"""

import keras
import numpy as np
import pytest
from builders import chain

import masr_hls
from masr_hls.analysis import accuracy

L = keras.layers
PRECISIONS = ("ap_fixed<8,3>", "ap_fixed<16,6>", "ap_fixed<32,14>")
FRAMES, FEATURES = 12, 5


def keras2_hard_sigmoid(x):
    return keras.ops.clip(0.2 * x + 0.5, 0.0, 1.0)


def gru(units, **kw):
    return L.GRU(units, activation="relu", return_sequences=True, **kw)


def with_weights(model, source):
    model.set_weights(source.get_weights())
    return model


def sequential(*layers, name="m"):
    return chain(FRAMES, FEATURES, *layers, name=name)


@pytest.fixture(scope="module")
def real():
    keras.utils.set_random_seed(11)
    uni = sequential(gru(8, recurrent_activation="hard_sigmoid", name="g"), L.Dense(4, activation="softmax", name="out"))
    bi = sequential(L.Bidirectional(gru(6), merge_mode="sum", name="bi"), L.Dense(3, name="out"))
    last = sequential(L.GRU(6, activation="relu", name="g"), L.Dense(3, name="out"))
    rng = np.random.default_rng(11)
    for model in (uni, bi, last):  # Keras starts biases at zero; a dropped bias must make a difference
        model.set_weights([w if "bias" not in v.path else rng.normal(0, 0.3, w.shape) for w, v in zip(model.get_weights(), model.weights)])
    return {"uni": uni, "bi": bi, "last": last}


def twins(real):
    uni, bi, last = real["uni"], real["bi"], real["last"]
    no_recurrent_bias = keras.models.clone_model(uni)
    no_recurrent_bias.set_weights(uni.get_weights())
    bias = no_recurrent_bias.layers[0].cell.bias
    bias.assign(np.stack([bias.numpy()[0], np.zeros_like(bias.numpy()[1])]))
    forward_only = sequential(gru(6), L.Dense(3))
    forward_only.layers[0].set_weights(bi.layers[0].forward_layer.get_weights())
    forward_only.layers[1].set_weights(bi.layers[1].get_weights())
    keras.utils.set_random_seed(99)
    return {
        "sigmoid-for-hard_sigmoid": ("uni", with_weights(sequential(gru(8, recurrent_activation="sigmoid"), L.Dense(4, activation="softmax")), uni)),
        "keras2-hard_sigmoid": (
            "uni",
            with_weights(sequential(gru(8, recurrent_activation=keras2_hard_sigmoid), L.Dense(4, activation="softmax")), uni),
        ),
        "recurrent-bias-dropped": ("uni", no_recurrent_bias),
        "merge-ave-for-sum": ("bi", with_weights(sequential(L.Bidirectional(gru(6), merge_mode="ave"), L.Dense(3)), bi)),
        "sequence-reversed": ("last", with_weights(sequential(L.GRU(6, activation="relu", go_backwards=True), L.Dense(3)), last)),
        "backward-direction-missing": ("bi", forward_only),
        "independently-initialised": ("uni", sequential(gru(8, recurrent_activation="hard_sigmoid"), L.Dense(4, activation="softmax"))),
    }


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(5)
    return rng.normal(0, 1, (8, FRAMES, FEATURES)) * (rng.random((8, FRAMES, FEATURES)) < 0.7)


@pytest.fixture(scope="module")
def converted(real):
    """Each real model at each deployed precision (reference only: the semantic part needs no C simulation)."""
    return {
        (name, p): masr_hls.masr_model(
            masr_hls.convert_from_keras_model(model, hls_config=masr_hls.config_from_keras_model(model, default_precision=p), output_dir="unused")
        )
        for name, model in real.items()
        for p in PRECISIONS
    }


@pytest.mark.parametrize("precision", PRECISIONS)
def test_every_buggy_twin_is_caught(real, converted, inputs, precision):
    caught = {}
    for bug, (base, twin) in twins(real).items():
        error, bound, _, _ = accuracy.semantic_error(converted[base, precision], inputs, twin)
        caught[bug] = error > bound
        assert error > bound, f"{bug} at {precision}: widened vs twin {error:.3g} within the bound {bound:.3g}"
    assert len(caught) == 7


@pytest.mark.parametrize("precision", PRECISIONS)
def test_correct_models_pass_at_every_precision(real, converted, inputs, precision):
    for name, model in real.items():
        error, bound, _, _ = accuracy.semantic_error(converted[name, precision], inputs, model)
        assert error <= bound, f"{name} at {precision}: {error:.3g} > {bound:.3g}"


def test_relu_integrator_over_60_frames_passes():
    """A ReLU SimpleRNN summing its input over 60 frames: outputs near 10, still within 1e-3 of their scale."""
    model = keras.Sequential([keras.Input((60, 1)), L.SimpleRNN(1, activation="relu", name="sum")])
    model.layers[0].set_weights([np.ones((1, 1)), np.ones((1, 1)), np.zeros(1)])
    x = np.abs(np.random.default_rng(2).normal(0.16, 0.05, (4, 60, 1)))
    for precision in PRECISIONS:
        config = masr_hls.config_from_keras_model(model, default_precision=precision)
        hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, hls_config=config, output_dir="unused"))
        error, bound, _, _ = accuracy.semantic_error(hw, x, model)
        assert 5 < bound / accuracy.SEMANTIC_BOUND and error <= bound, (precision, error, bound)


@pytest.mark.csim
def test_cross_check_reports_quantisation_as_figures(real, inputs, tmp_path):
    model = real["uni"]
    config = masr_hls.config_from_keras_model(model, default_precision="ap_fixed<8,3>")
    hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, hls_config=config, output_dir=str(tmp_path / "p")))
    check = hw.cross_check(inputs)
    assert check.ok, check.summary()
    assert check.quant_vs_keras[0] > check.semantic_bound  # 8-bit types are coarse, and that is reported, not failed
    assert 0 <= check.argmax_agreement <= 1 and "top class agrees" in check.summary()
    assert not hw.cross_check(inputs, keras_model=twins(real)["keras2-hard_sigmoid"][1]).ok


@pytest.fixture(scope="module")
def growing():
    """Bi(GRU 12, relu) > SimpleRNN(16, relu) over 51 frames, whose outputs grow past the fixed widened types' 2**9.

    (The amplifying layer has no gate tables: the widened run's 2**16-entry tables leave a relative error near
    1e-4 of the largest value a gate multiplies, which a layer amplifying by 100 would lift above the bound.)
    """
    keras.utils.set_random_seed(4)
    model = keras.Sequential(
        [
            keras.Input((51, 6)),
            L.Bidirectional(L.GRU(12, activation="relu", return_sequences=True), name="bigru"),
            L.SimpleRNN(16, activation="relu", return_sequences=True, name="rnn"),
        ]
    )
    x = np.abs(np.random.default_rng(3).normal(0, 1.0, (3, 51, 6)))
    rnn = model.get_layer("rnn")
    while float(np.max(np.abs(model.predict(x, verbose=0)))) < 600:  # a louder recurrent layer until outputs pass 2**9
        kernel, recurrent, bias = rnn.get_weights()
        rnn.set_weights([kernel * 1.5, recurrent, bias])
    return model, x


def test_a_correct_conversion_of_large_values_agrees_and_names_what_saturates(growing):
    model, x = growing
    largest = float(np.max(np.abs(model.predict(x, verbose=0))))
    assert 2**9 < largest < 2**12  # beyond the fixed widened types' +-512
    hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, output_dir="unused"))
    error, bound, _, wide_overflow = accuracy.semantic_error(hw, x, model)
    assert not wide_overflow and error <= bound, (error, bound, wide_overflow)
    integer = accuracy.range_bits(hw, accuracy.keras_ranges(hw, x))
    assert integer["rnn"] >= accuracy.integer_bits(largest)
    with accuracy.recording_overflow() as log:
        hw.reference(x)
    lines = accuracy.overflows(hw, log)  # the deployed ap_fixed<16,6> state holds +-32
    assert any(line.startswith("layer 'rnn' state") and "ap_fixed<16,6,AP_RND,AP_SAT> holds -32..32" in line for line in lines), lines
    kernel = float(np.max(np.abs(model.get_layer("rnn").get_weights()[0])))
    weights = accuracy.weight_overflows(hw)
    assert kernel > 32 and any(line.startswith("layer 'rnn' weight:") and f"up to {kernel:.4g}" in line for line in weights), weights


def test_a_widened_run_that_still_saturates_is_not_called_a_difference(growing, monkeypatch):
    model, x = growing
    hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, output_dir="unused"))
    monkeypatch.setattr(accuracy, "WIDENING_ROUNDS", 1)
    monkeypatch.setattr(accuracy, "keras_ranges", lambda model, x: {"input": 1.0})  # as if the ranges were not read
    error, bound, _, wide_overflow = accuracy.semantic_error(hw, x, model)
    assert wide_overflow and error > bound
    check = accuracy.CrossCheck(len(x), 0, 0, error, bound, wide_overflow, [], (0.0, 0.0), (0.0, 0.0), 1.0, None)
    assert not check.ok and "NOT JUDGED" in check.summary() and "DIFFERS" not in check.summary()
