"""Keras 3 models converted end to end: C simulation equals the numpy reference bit for bit and Keras within tolerance.

Every model goes through hls4ml's own API (``convert_from_keras_model(..., backend="MASR")``).  The matrix covers
every case hls4ml 1.3 gets wrong (GRU reset_after=False, SimpleRNN, Bidirectional merges other than concat,
Keras-3 Bidirectional(GRU))
and spans cell type, direction, merge mode, return_sequences, reset_after,
activation, stacking depth, weight density and sequence length.
"""

import json

import hls4ml
import keras
import numpy as np
import pytest
from builders import chain, rnn

import masr_hls
from masr_hls.training.pruning import prune_to_sparsity

pytestmark = pytest.mark.csim

L = keras.layers


def build(seed, frames, features, layers, density):
    model = chain(frames, features, *layers, seed=seed)
    if density < 1.0:
        prune_to_sparsity(model, 1.0 - density)
    return model


# (id, frames, features, layer factory, weight density)
CASES = [
    ("gru-reset_after-false-tanh", 7, 5, lambda: [rnn("gru", 8, reset_after=False, return_sequences=True)], 1.0),
    ("gru-relu-hard_sigmoid-T50", 50, 6, lambda: [rnn("gru", 12, activation="relu", recurrent_activation="hard_sigmoid")], 0.5),
    ("simple_rnn-tanh-T1", 1, 4, lambda: [rnn("simple_rnn", 6, return_sequences=True)], 1.0),
    ("simple_rnn-relu-go_backwards", 7, 4, lambda: [rnn("simple_rnn", 6, activation="relu", go_backwards=True), L.Dense(3)], 0.5),
    ("lstm-tanh-no-bias", 7, 5, lambda: [rnn("lstm", 7, use_bias=False, return_sequences=True)], 1.0),
    ("lstm-relu-go_backwards-seq", 7, 5, lambda: [rnn("lstm", 7, activation="relu", go_backwards=True, return_sequences=True)], 0.1),
    (
        "bi-gru-concat-stack2-softmax",
        7,
        6,
        lambda: [
            L.Bidirectional(rnn("gru", 8, return_sequences=True)),
            L.Bidirectional(rnn("gru", 8, activation="relu")),
            L.Dense(4, activation="softmax"),
        ],
        0.5,
    ),
    ("bi-gru-sum-reset_before", 7, 5, lambda: [L.Bidirectional(rnn("gru", 6, reset_after=False, return_sequences=True), merge_mode="sum")], 1.0),
    ("bi-gru-mul-relu-T50", 50, 5, lambda: [L.Bidirectional(rnn("gru", 6, activation="relu", return_sequences=True), merge_mode="mul")], 0.1),
    ("bi-gru-ave-last", 7, 5, lambda: [L.Bidirectional(rnn("gru", 6, recurrent_activation="hard_sigmoid"), merge_mode="ave"), L.Dense(2)], 0.5),
    ("bi-lstm-ave-seq", 7, 5, lambda: [L.Bidirectional(rnn("lstm", 5, return_sequences=True), merge_mode="ave")], 1.0),
    ("bi-simple_rnn-sum-T1", 1, 5, lambda: [L.Bidirectional(rnn("simple_rnn", 5), merge_mode="sum"), L.Dense(3, activation="sigmoid")], 1.0),
    (
        "bi-different-fwd-bwd",
        7,
        5,
        lambda: [L.Bidirectional(rnn("gru", 6, return_sequences=True), backward_layer=rnn("lstm", 4, return_sequences=True, go_backwards=True))],
        0.5,
    ),
    (
        "stack3-uni-bi-timedistributed",
        7,
        6,
        lambda: [
            rnn("gru", 8, activation="relu", return_sequences=True),
            L.Dropout(0.3),
            L.BatchNormalization(),
            L.Bidirectional(rnn("lstm", 6, return_sequences=True), merge_mode="concat"),
            rnn("simple_rnn", 5, return_sequences=True),
            L.TimeDistributed(L.Dense(3)),
            L.Activation("softmax"),
        ],
        0.5,
    ),
    (
        "deepspeech-like-relu-dense-head",
        50,
        8,
        lambda: [
            L.Bidirectional(rnn("gru", 10, activation="relu", return_sequences=True), merge_mode="sum"),
            L.Bidirectional(rnn("gru", 10, activation="relu", return_sequences=True), merge_mode="sum"),
            L.Dense(6),
            L.ReLU(),
            L.Dense(4, activation="softmax"),
        ],
        0.1,
    ),
]


def _randomise_batchnorm(model, rng):
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.2, n), rng.normal(0, 0.2, n), rng.uniform(0.5, 2, n)])


# Deployed precisions: the 16-bit defaults, and hls4ml users' validation precision with a 48-bit accumulator
# (products of 32 x 32 bits: the reference's wide-integer path).
PRECISIONS = {"default": {}, "ap_fixed<32,14>-accum48": {"default_precision": "ap_fixed<32,14>"}}


@pytest.mark.parametrize("precision", list(PRECISIONS))
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_conversion_matrix(case, precision, tmp_path):
    name, frames, features, layers, density = case
    model = build(len(name), frames, features, layers(), density)
    rng = np.random.default_rng(len(name))
    _randomise_batchnorm(model, rng)
    x = rng.normal(0, 1, (6, frames, features)) * (rng.random((6, frames, features)) < 0.7)
    config = masr_hls.config_from_keras_model(model, lanes=3, **PRECISIONS[precision])
    if precision != "default":
        config["Model"]["Precision"]["accum"] = "ap_fixed<48,20,AP_RND,AP_WRAP>"
    hm = hls4ml.converters.convert_from_keras_model(model, hls_config=config, backend="MASR", output_dir=str(tmp_path / "prj"))
    hm.compile()
    assert hm.predict(x).shape == model.predict(x, verbose=0).shape
    hw = masr_hls.masr_model(hm)
    check = hw.cross_check(x)
    assert check.csim_mismatches == 0 and check.figure_mismatches == 0, check.summary()
    assert check.semantics_ok, check.summary()
    if precision == "default":
        assert_fast_equals_ap_fixed(hw, x)


def assert_fast_equals_ap_fixed(hw, x):
    """The fast C simulation (templates/masr/fast_fixed.h), one thread and two, against the ap_fixed build.

    The ap_fixed build is unoptimised (-O0, as Vitis HLS compiles a testbench by default): the values it computes are
    the language's at any optimisation, and it builds in about half the time; the fast build is the product's -O2.
    """
    fast, slow = hw.csim(x, arithmetic="fast", threads=1), hw.csim(x, arithmetic="ap_fixed", opt="-O0")
    np.testing.assert_array_equal(fast.y_raw, slow.y_raw)
    assert fast.layers == slow.layers  # pairs, cycles and every other figure
    threaded = hw.csim(x, arithmetic="fast", threads=2, chunk=1)  # two library instances, samples interleaved
    np.testing.assert_array_equal(threaded.y_raw, fast.y_raw)
    assert threaded.layers == fast.layers


def test_models_of_one_shape_share_a_library_and_keep_their_weights(tmp_path):
    """The C simulation loads its weights at run time: two prunings of one shape build one library, and two live
    models of it each keep their own weights (each holds its own instance), through masr_hls' csim and through the
    library hls4ml loaded (its trace runs the top function directly)."""
    x = np.random.default_rng(4).normal(0, 1, (4, 9, 4)).astype(np.float32)
    layers = lambda: [rnn("gru", 6, activation="relu", return_sequences=True), L.Dense(3)]  # noqa: E731
    hms = []
    for i, density in enumerate((1.0, 0.3)):
        model = build(5 + i, 9, 4, layers(), density)
        hms.append(
            hls4ml.converters.convert_from_keras_model(
                model, hls_config=masr_hls.config_from_keras_model(model), backend="MASR", output_dir=str(tmp_path / f"prj{i}")
            )
        )
        hms[-1].compile()
    hws = [masr_hls.masr_model(hm) for hm in hms]
    assert hws[0].build_library() == hws[1].build_library()
    assert hws[0].weight_words().size > hws[1].weight_words().size  # the sparser model loads fewer words
    expected = [hw.reference(x) for hw in hws]
    assert not np.array_equal(expected[0].y_raw, expected[1].y_raw)
    for i in (0, 1, 1, 0):  # interleaved: a model's run never sees the other's weights
        np.testing.assert_array_equal(hws[i].csim(x, threads=2, chunk=1).y_raw, expected[i].y_raw)
        y, _ = hms[i].trace(x)
        np.testing.assert_allclose(np.reshape(y, expected[i].y.shape), expected[i].y, rtol=0, atol=1e-6)
    written = (tmp_path / "prj1" / "firmware" / "weights.h").read_text()
    assert "static const masr::rnn_weights<layer0_cell> layer0_w = {" in written  # the project keeps its ROMs


def test_an_interrupted_threaded_run_stops_every_thread(tmp_path):
    """Ctrl-C (or any failure) in one thread of a C simulation ends the others at their next chunk, not at the end
    of their share of the batch."""
    model = build(7, 4, 3, [rnn("gru", 4, return_sequences=True)], 1.0)
    hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, output_dir=tmp_path / "prj"))
    x = np.random.default_rng(0).normal(size=(20000, 4, 3))
    done = []

    def progress(n):
        done.append(n)
        if len(done) == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        hw.csim(x, threads=2, chunk=1, progress=progress)
    assert len(done) < len(x) // 2  # without the stop, the other thread runs its whole half


def test_weights_that_do_not_fit_the_library_are_refused(tmp_path, monkeypatch):
    model = build(6, 5, 3, [rnn("gru", 4, return_sequences=True)], 1.0)
    hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, output_dir=tmp_path / "prj"))
    words = hw.weight_words()
    for wrong in (words[:-1], np.append(words, 0), np.where(np.arange(words.size) == 0, 10**6, words)):
        monkeypatch.setattr(hw, "_weight_words", wrong)
        with pytest.raises(RuntimeError, match="does not hold this model's weights"):
            hw.csim(np.zeros((1, 5, 3)))


@pytest.mark.slow
def test_density_lowers_cycles_and_modes_agree(tmp_path):
    x = np.random.default_rng(0).normal(0, 1, (3, 20, 8))
    cycles = {}
    outputs = {}
    for density in (1.0, 0.5, 0.1):
        model = build(3, 20, 8, [L.Bidirectional(rnn("gru", 16, activation="relu", return_sequences=True))], density)
        for mode in ("dense", "weight_sparse", "masr"):
            hw = masr_hls.masr_model(
                masr_hls.convert_from_keras_model(model, hls_config={"Model": {"Mode": mode, "Lanes": 4}}, output_dir=tmp_path / f"{density}-{mode}")
            )
            result = hw.csim(x)
            cycles[density, mode] = sum(layer.cycles for layer in result.layers[0])
            outputs[density, mode] = result.y_raw
    for density in (1.0, 0.5, 0.1):
        assert np.array_equal(outputs[density, "dense"], outputs[density, "masr"])
        assert np.array_equal(outputs[density, "weight_sparse"], outputs[density, "masr"])
        assert cycles[density, "dense"] >= cycles[density, "weight_sparse"] >= cycles[density, "masr"]
    assert cycles[1.0, "masr"] > cycles[0.5, "masr"] > cycles[0.1, "masr"]


def test_keras_file_yaml_config_and_per_layer_settings(tmp_path):
    model = build(1, 7, 4, [rnn("gru", 6, return_sequences=True, name="enc"), L.Dense(2, name="head")], 0.5)
    path = tmp_path / "m.keras"
    model.save(path)
    (tmp_path / "cfg.yml").write_text(
        "Model:\n  Lanes: 2\n  Precision:\n    state: ap_fixed<14,5,AP_RND,AP_SAT>\nLayerName:\n  enc:\n    Lanes: 4\n    Mode: weight_sparse\n"
    )
    hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(str(path), hls_config=str(tmp_path / "cfg.yml"), output_dir=tmp_path / "p"))
    enc, head = hw.layers
    assert (enc.cell.lanes, enc.cell.mode, str(enc.cell.state_t)) == (4, "weight_sparse", "ap_fixed<14,5,AP_RND,AP_SAT>")
    assert head.head.lanes == 2 and head.head.in_t == enc.cell.state_t
    x = np.random.default_rng(1).normal(size=(4, 7, 4))
    assert hw.cross_check(x).ok


def test_config_from_keras_model_lists_layers_and_applies_modes():
    model = build(1, 5, 3, [L.Bidirectional(rnn("gru", 4, return_sequences=True), name="bi"), L.Dense(2, name="out")], 1.0)
    cfg = masr_hls.config_from_keras_model(model, granularity="name", rounding="AP_TRN", overflow="AP_WRAP", lanes=8)
    assert {"bi", "out"} <= set(cfg["LayerName"]) and cfg["Model"]["Lanes"] == 8
    assert "Lanes" not in cfg["LayerName"]["bi"]  # per-layer sections follow the Model unless the user sets a key
    assert cfg["Model"]["Precision"]["state"] == "ap_fixed<16,6,AP_TRN,AP_WRAP>"
    assert cfg["Model"]["Precision"]["accum"].endswith("AP_WRAP>")


def test_backend_registration_is_idempotent_and_two_models_convert(tmp_path):
    import hls4ml

    from masr_hls.backend import register

    register()
    register()
    assert "masr" in hls4ml.backends.get_available_backends()
    assert hls4ml.backends.get_backend("MASR").create_initial_config(part="xc7z020clg400-1")["Part"] == "xc7z020clg400-1"
    a = build(1, 5, 3, [rnn("gru", 4)], 1.0)
    b = build(2, 5, 3, [rnn("lstm", 4)], 1.0)
    x = np.random.default_rng(0).normal(size=(2, 5, 3))
    ha = masr_hls.masr_model(masr_hls.convert_from_keras_model(a, output_dir=tmp_path / "a", project_name="model_a"))
    hb = masr_hls.masr_model(masr_hls.convert_from_keras_model(b, output_dir=tmp_path / "b", project_name="model_b"))
    assert ha.cross_check(x).ok and hb.cross_check(x).ok


def _refusal(layers, match, frames=5, features=3, config=None, tmp_path=None, **kw):
    model = keras.Sequential([keras.Input((frames, features)), *layers])
    with pytest.raises((masr_hls.ConversionError, masr_hls.ConfigError), match=match):
        masr_hls.convert_from_keras_model(model, hls_config=config, output_dir=tmp_path or "unused", **kw)


@pytest.mark.parametrize(
    "layers,match",
    [
        (lambda: [L.GRU(4, return_state=True, name="g")], "'g'.*return_state"),
        (lambda: [L.Masking(name="mask"), L.GRU(4)], "'mask'.*masking"),
        (lambda: [L.Bidirectional(L.GRU(4), merge_mode=None, name="bi")], "'bi'.*merge_mode=None"),
        (lambda: [L.Conv1D(4, 3, name="conv")], "'conv'.*Conv1D is not supported"),
        (lambda: [L.GRU(4, activation="sigmoid", name="g")], "'g'.*activation 'sigmoid'"),
        (lambda: [L.GRU(4, return_sequences=True), L.Activation("relu", name="act")], "'act'.*only directly after a Dense"),
    ],
)
def test_unsupported_models_are_refused_naming_the_layer(layers, match):
    _refusal(layers(), match)


def test_stateful_and_mask_zero_are_refused():
    model = keras.Sequential([keras.Input((5,), batch_size=2), L.Embedding(10, 3, mask_zero=True, name="emb"), L.GRU(4)])
    with pytest.raises(masr_hls.ConversionError, match="'emb'.*masking"):
        masr_hls.convert_from_keras_model(model)
    model = keras.Sequential([keras.Input((5, 3), batch_size=2), L.GRU(4, stateful=True, name="s")])
    with pytest.raises(masr_hls.ConversionError, match="'s'.*stateful"):
        masr_hls.convert_from_keras_model(model)


def test_non_finite_weights_and_bad_configs_are_refused(tmp_path):
    model = build(1, 5, 3, [L.GRU(4, name="g")], 1.0)
    k = model.layers[0].cell.kernel
    k.assign(np.where(np.arange(k.shape[1]) == 2, np.nan, k.numpy()))
    with pytest.raises(masr_hls.ConversionError, match="'g'.*kernel contains NaN"):
        masr_hls.convert_from_keras_model(model)
    model = build(1, 5, 3, [L.GRU(4, name="g")], 1.0)
    for config, match in [
        ({"Model": {"Lanez": 4}}, "unknown key 'Lanez'"),
        ({"Model": {"Precision": {"stat": "ap_fixed<8,3>"}}}, "unknown role 'stat'"),
        ({"Model": {"Mode": "sparse"}}, "Mode: 'sparse'"),
        ({"LayerName": {"nope": {}}}, "LayerName.nope: no such layer"),
        ({"Model": {"Precision": {"accum": "ap_fixed<32,12,AP_RND,AP_SAT>"}}}, "'g'.*AP_WRAP"),
        ({"Layers": {}}, "unknown configuration section"),
    ]:
        with pytest.raises((masr_hls.ConversionError, masr_hls.ConfigError), match=match):
            masr_hls.convert_from_keras_model(model, hls_config=config)


def test_existing_output_folder_is_not_overwritten(tmp_path):
    model = build(1, 5, 3, [L.GRU(4)], 1.0)
    out = tmp_path / "prj"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, output_dir=out))
    with pytest.raises(FileExistsError, match="not empty"):
        hw.write(overwrite=False)
    assert (out / "keep.txt").read_text() == "mine"


def test_command_line_convert_and_csim(tmp_path, capsys):
    from masr_hls.cli.main import main

    model = build(4, 6, 3, [L.Bidirectional(rnn("gru", 4, return_sequences=True), merge_mode="ave")], 0.5)
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(10, 6, 3)))
    assert main(["convert", str(tmp_path / "m.keras"), "-o", str(tmp_path / "prj"), "--lanes", "2"]) == 0
    assert json.loads((tmp_path / "prj" / "masr_project.json").read_text())["config"]["Model"]["Lanes"] == 2
    assert main(["convert", str(tmp_path / "m.keras"), "-o", str(tmp_path / "prj")]) == 1  # not empty
    assert main(["csim", str(tmp_path / "prj"), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")]) == 0
    out = capsys.readouterr()
    assert "bit-exact" in out.out and "not empty" in out.err
    assert np.load(tmp_path / "y.npy").shape == (10, 6, 4)
    assert main(["csim", str(tmp_path / "prj"), "--input", str(tmp_path / "missing.npy")]) == 1
