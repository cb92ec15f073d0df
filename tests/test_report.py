"""The report's figures are the numpy reference's counts."""

import json

import keras
import numpy as np
import pytest

import masr_hls
from masr_hls import report
from masr_hls.pruning import prune_to_sparsity

pytestmark = pytest.mark.csim
L = keras.layers


def test_report_matches_reference_counts(tmp_path):
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input((8, 6)), L.Bidirectional(L.GRU(5, activation="relu", return_sequences=True), name="bi"),
                              L.Dense(3, name="head")])
    prune_to_sparsity(model, 0.5)
    hw = masr_hls.convert_from_keras_model(model, hls_config={"Model": {"Lanes": 2}}, output_dir=tmp_path / "p")
    x = np.random.default_rng(0).normal(size=(1, 8, 6)) * (np.random.default_rng(1).random((1, 8, 6)) < 0.5)
    figures = report.build_report(hw, x)
    ref = hw.reference(x).layers[0]
    fwd, bwd, head = figures["layers"]
    assert (fwd["direction"], bwd["direction"]) == ("forward", "backward")
    assert fwd["pairs"] == ref[0].forward.kernel.pairs + ref[0].forward.recurrent.pairs
    assert bwd["pairs"] == ref[0].backward.kernel.pairs + ref[0].backward.recurrent.pairs
    assert head["pairs"] == sum(h.pairs for h in ref[1].head)
    assert figures["cycles_per_inference"] == sum(r.cycles for r in ref)
    assert 0.45 <= fwd["weight_density"] <= 0.55 and 0 < fwd["activation_density"] < 1
    assert fwd["storage_bits"]["bitmask"] < fwd["storage_bits"]["dense"]
    assert json.loads(report.to_json(figures))["layers"][2]["layer"] == "head"
    assert "one inference of 8 frames" in report.format_text(figures)
