"""Batches of utterances of different lengths: each runs for its own frames (the backward direction from its own
last frame), padding reaches no result, and outputs come back per utterance, in csim, the reference, predict,
the cross-check and ``masr-hls csim``."""

import hls4ml
import keras
import numpy as np
import pytest
from builders import chain

import masr_hls
from masr_hls.batches import all_frames, by_length, pad, run_by_length
from masr_hls.cli.main import main

L = keras.layers
MAX_FRAMES = 12
LENGTHS = (5, 12, 1, 5, 9, 3)


def utterances(features: int, lengths=LENGTHS, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(0.3 * rng.normal(size=(t, features)) * (rng.random((t, features)) < 0.6)).astype(np.float32) for t in lengths]


@pytest.fixture(scope="module")
def recogniser(tmp_path_factory):
    """A Keras model for inputs of any length (as a CTC recogniser is trained): BiGRU, per-frame softmax."""
    model = chain(
        None,
        3,
        L.Bidirectional(L.GRU(4, activation="relu", return_sequences=True), name="bi"),
        L.TimeDistributed(L.Dense(5, activation="softmax"), name="tokens"),
        seed=1,
    )
    config = masr_hls.config_from_keras_model(model, lanes=2, max_frames=MAX_FRAMES)
    hm = masr_hls.convert_from_keras_model(model, hls_config=config, output_dir=tmp_path_factory.mktemp("utt") / "prj")
    hm.compile()
    return model, hm, masr_hls.masr_model(hm)


def test_batch_helpers():
    x = [np.ones((2, 3)), np.zeros((1, 3)), 2 * np.ones((2, 3))]
    assert by_length(x) == {2: [0, 2], 1: [1]}
    padded, lengths = pad(x)
    assert padded.shape == (3, 2, 3) and lengths.tolist() == [2, 1, 2] and lengths.dtype == np.int32
    assert np.array_equal(padded[1, 1], np.zeros(3)) and np.array_equal(padded[2], x[2])
    assert [r.tolist() for r in run_by_length(lambda batch: batch.sum(axis=(1, 2)), x)] == [6.0, 0.0, 12.0]
    assert all_frames([np.ones((2, 4)), np.zeros((1, 4))]).shape == (3, 4) and all_frames(np.ones((2, 2, 4))).shape == (2, 2, 4)


@pytest.mark.csim
def test_csim_equals_the_reference_utterance_by_utterance(recogniser):
    _, _, hw = recogniser
    x = utterances(3)
    sim, ref = hw.csim(x, threads=2, chunk=2), hw.reference(x)
    assert [y.shape for y in sim.y] == [(t, 5) for t in LENGTHS] == [y.shape for y in ref.y]
    assert all(np.array_equal(a, b) for a, b in zip(sim.y_raw, ref.y_raw))
    assert [[r.block() for r in sample] for sample in sim.layers] == [[r.block() for r in sample] for sample in ref.layers]
    # Each utterance alone gives what it gives in the batch: nothing of another's frames or of the padding leaks in.
    for i in (1, 2, 4):
        alone = hw.csim(x[i][None])
        assert np.array_equal(alone.y_raw[0], sim.y_raw[i])
        assert [r.block() for r in alone.layers[0]] == [r.block() for r in sim.layers[i]]
    assert sim.layers[1][0].cycles > sim.layers[0][0].cycles > sim.layers[2][0].cycles  # each ran its own frames


@pytest.mark.csim
def test_outputs_match_keras_run_one_utterance_at_a_time(recogniser):
    model, hm, hw = recogniser
    x = utterances(3, seed=2)
    expected = [np.asarray(model(u[None], training=False))[0] for u in x]
    got = hm.predict(x)
    assert isinstance(got, list) and [g.shape for g in got] == [e.shape for e in expected]
    assert max(float(np.abs(g - e).max()) for g, e in zip(got, expected)) < 0.02
    check = hw.cross_check(x)
    assert check.ok and check.bit_exact and check.samples == len(x), check.summary()
    assert check.semantic_error <= check.semantic_bound


@pytest.mark.csim
def test_the_command_line_takes_an_npz_of_utterances(recogniser, tmp_path, capsys):
    model, _, hw = recogniser
    model.save(tmp_path / "m.keras")
    prj = str(tmp_path / "prj")
    assert main(["convert", str(tmp_path / "m.keras"), "-o", prj, "--lanes", "2", "--max-frames", str(MAX_FRAMES)]) == 0
    x = utterances(3, lengths=(4, 7, 2), seed=3)
    np.savez(tmp_path / "x.npz", first=x[0], second=x[1], third=x[2])
    assert main(["csim", prj, "--input", str(tmp_path / "x.npz"), "--output", str(tmp_path / "y")]) == 0
    assert "3 utterances" in capsys.readouterr().out
    with np.load(tmp_path / "y.npz") as y:
        assert y.files == ["first", "second", "third"]
        assert all(np.array_equal(y[name], ref) for name, ref in zip(y.files, hw.reference(x).y))
    assert main(["export", prj, "-o", str(tmp_path / "ip"), "--input", str(tmp_path / "x.npz")]) == 0
    assert "3 samples in the testbench" in capsys.readouterr().out
    np.savez(tmp_path / "bad.npz", fine=x[0], wide=np.zeros((3, 4)))
    assert main(["csim", prj, "--input", str(tmp_path / "bad.npz")]) == 1
    assert "utterance 'wide'" in capsys.readouterr().err
    assert main(["report", prj, "--input", str(tmp_path / "x.npz")]) == 1  # the report takes one array
    assert "an .npz archive; this command takes one .npy array" in capsys.readouterr().err


def test_bad_utterances_are_named(recogniser):
    _, _, hw = recogniser
    with pytest.raises(ValueError, match="utterance 1: input must be"):
        hw.reference([np.zeros((3, 3)), np.zeros((3, 4))])
    with pytest.raises(ValueError, match=f"utterance 0: input has {MAX_FRAMES + 1} frames"):
        hw.reference([np.zeros((MAX_FRAMES + 1, 3))])
    with pytest.raises(ValueError, match="utterance 0: expected"):
        hw.reference([np.zeros(3)])
    with pytest.raises(ValueError, match="no utterances"):
        hw.reference([])


def test_a_model_of_any_length_needs_max_frames(recogniser, tmp_path):
    model, _, _ = recogniser
    with pytest.raises(masr_hls.ConversionError, match="Model.MaxFrames"):
        masr_hls.convert_from_keras_model(model, output_dir=tmp_path / "a")
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="MASR")
    with pytest.raises(masr_hls.ConversionError, match="any number of frames.*Model.MaxFrames"):
        hls4ml.converters.convert_from_keras_model(model, hls_config=cfg, backend="MASR", output_dir=str(tmp_path / "b"))


@pytest.mark.csim
def test_the_exported_testbench_runs_utterances_of_their_own_lengths(recogniser, tmp_path):
    from masr_hls.export import vitis_project as export

    _, _, hw = recogniser
    x = utterances(3, lengths=(7, 2, 12), seed=4)
    ip = hw.export(tmp_path / "ip", x)
    assert [int(line.split()[0]) for line in (ip / export.TB_INPUT).read_text().splitlines()] == [7, 2, 12]
    ok, log = export.run_testbench(ip)
    assert ok and f"3 samples, {(7 + 2 + 12) * 5} values, 0 mismatches" in log, log
