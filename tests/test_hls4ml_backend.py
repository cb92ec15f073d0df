"""hls4ml's own API with backend="MASR" gives MASR hardware (other backends unchanged: test_hls4ml_users.py)."""

import hls4ml
import keras
import numpy as np
import pytest
from builders import chain

import masr_hls

L = keras.layers


@pytest.fixture(scope="module")
def kws_model():
    return chain(
        6,
        5,
        L.Bidirectional(L.GRU(4, activation="relu", return_sequences=True), merge_mode="sum", name="bigru"),
        L.Dense(3, activation="softmax", name="out"),
        seed=3,
        name="kws",
    )


@pytest.mark.csim
def test_the_hls4ml_snippet_builds_masr_hardware(kws_model, tmp_path):
    cfg = hls4ml.utils.config_from_keras_model(kws_model, granularity="name", backend="MASR")
    assert cfg["LayerName"]["bigru"]["Lanes"] == "auto" and "LaneAssignment" in cfg["LayerName"]["bigru"]
    hm = hls4ml.converters.convert_from_keras_model(kws_model, hls_config=cfg, backend="MASR", output_dir=str(tmp_path / "prj"))
    hm.compile()
    x = np.random.default_rng(0).normal(size=(5, 6, 5)).astype(np.float32)
    y = hm.predict(x)
    expected = kws_model.predict(x, verbose=0)
    assert y.shape == expected.shape == (5, 6, 3)
    assert np.abs(y - expected).max() < 0.02
    firmware = (tmp_path / "prj" / "firmware" / "myproject.cpp").read_text()
    assert "masr::model_bidirectional_layer<" in firmware and "masr::model_dense_softmax_layer<" in firmware
    # The top reads like hls4ml's: one call per layer, no C-simulation blocks of its own.
    body = firmware[firmware.index("void myproject(") :]
    assert [line.split("<")[0].strip() for line in body.splitlines() if "masr::model_" in line] == [
        "frames = masr::model_bidirectional_layer",
        "frames = masr::model_dense_softmax_layer",
    ]
    assert "__SYNTHESIS__" not in body and "{" not in body[body.index("{") + 1 :]
    assert (tmp_path / "prj" / "firmware" / "masr" / "sparse_mxv.h").is_file()
    assert not (tmp_path / "prj" / "firmware" / "nnet_utils").exists()
    hw = masr_hls.masr_model(hm)
    with pytest.warns(DeprecationWarning, match="masr_model"):
        assert masr_hls.hardware(hm) is hw  # the former name still works
    assert hw.layers[0].fwd.lanes == 12  # hls4ml's ReuseFactor 1: one lane per row (3 gates x 4 units)
    assert np.array_equal(hw.csim(x).y_raw, hw.reference(x).y_raw)
    assert np.array_equal(hm.predict(x, level="reference"), y)


def test_masr_nodes_replace_the_stock_layers(kws_model):
    hm = masr_hls.convert_from_keras_model(kws_model, output_dir="unused")
    kinds = [type(node).__mro__[1].__name__ for node in hm.get_layers()]
    assert kinds == ["Input", "MasrBiRecurrent", "MasrDense"]
    assert [node.class_name for node in hm.get_layers()] == ["Input", "Bidirectional", "Dense"]  # the softmax is folded into the head
    assert hm.graph["out"].get_attr("activation") == "softmax"
    assert hls4ml.backends.get_backend("MASR").get_default_flow() == "masr:ip"


def test_build_without_vitis_says_what_is_missing(kws_model, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    hm = masr_hls.convert_from_keras_model(kws_model, output_dir=str(tmp_path / "prj"))
    hm.write()
    assert (tmp_path / "prj" / "firmware" / "weights.h").is_file()
    with pytest.raises(Exception, match="(?i)vitis"):
        hm.build(synth=True)


def test_write_replaces_a_stale_project(kws_model, tmp_path):
    """Converting a retrained model into the same folder and compiling writes what is compiled."""
    out = str(tmp_path / "prj")
    masr_hls.convert_from_keras_model(kws_model, output_dir=out).write()
    before = (tmp_path / "prj" / "firmware" / "weights.h").read_text()
    retrained = keras.models.clone_model(kws_model)
    retrained.set_weights([w * 0.5 for w in kws_model.get_weights()])
    masr_hls.convert_from_keras_model(retrained, output_dir=out).write()
    assert (tmp_path / "prj" / "firmware" / "weights.h").read_text() != before


@pytest.mark.csim
def test_hls4ml_trace_gives_every_traced_layer(kws_model, tmp_path):
    cfg = hls4ml.utils.config_from_keras_model(kws_model, granularity="name", backend="MASR")
    for name in ("bigru", "out"):
        cfg["LayerName"][name]["Trace"] = True
    hm = hls4ml.converters.convert_from_keras_model(kws_model, hls_config=cfg, backend="MASR", output_dir=str(tmp_path / "prj"))
    hm.compile()
    x = np.random.default_rng(1).normal(size=(3, 6, 5)).astype(np.float32)
    y, trace = hm.trace(x)
    assert set(trace) == {"bigru", "out"}
    assert trace["bigru"].shape == (3, 6, 4) and trace["out"].shape == (3, 6, 3)
    assert np.array_equal(y.reshape(3, 6, 3), trace["out"])
    np.testing.assert_allclose(trace["out"], hm.predict(x), rtol=0, atol=1e-6)  # float32 of the same fixed-point values
    hw = masr_hls.masr_model(hm)
    first = hw.layers[0]
    for sample, traced in zip(hw.quantize_input(x), trace["bigru"]):
        raw, _ = first.reference(sample)
        np.testing.assert_allclose(traced, first.out_t.to_float(raw), rtol=0, atol=1e-6)
