"""The connected-digit data set (variable lengths, labels, held-out voices, cached) and CTC decoding and scoring."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from masr_hls.errors import SpeechDataError
from masr_hls.training import ctc, digits_data
from masr_hls.training.digits_data import load_digits, pad
from masr_hls.training.pruning import weight_sparsity

SMALL = dict(
    accents=("en-us",),
    variants=("m1", "f2"),
    test_variants=("f2",),
    train_utterances=4,
    test_utterances=3,
    min_words=1,
    max_words=4,
    n_mels=12,
    progress=False,
)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    cache = tmp_path_factory.mktemp("digits_cache")
    return cache, load_digits(cache_dir=cache, **SMALL)


# --------------------------------------------------------------------------- the data set


@pytest.mark.espeak
def test_utterances_have_their_own_lengths_and_labels(small):
    _, (x_train, y_train, x_test, y_test, meta) = small
    assert len(x_train) == len(y_train) == 4 and len(x_test) == len(y_test) == 3
    for x, y in zip(x_train + x_test, y_train + y_test):
        assert x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == 12
        assert np.all(x >= 0) and np.all(np.isfinite(x))
        assert 1 <= len(y) <= 4 and all(1 <= t <= len(ctc.WORDS) for t in y)
        assert 40 <= len(x) <= 60 * len(y) + 100, (len(x), ctc.text(y))  # margins of 0.2-0.4 s each, words of 0.2-0.6 s
    assert len({len(x) for x in x_train + x_test}) > 1
    assert not meta["cached"] and meta["generation_seconds"] > 0


@pytest.mark.espeak
def test_longer_strings_are_longer(tmp_path):
    one = load_digits(cache_dir=tmp_path, **dict(SMALL, min_words=1, max_words=1))
    seven = load_digits(cache_dir=tmp_path, **dict(SMALL, min_words=7, max_words=7))
    assert max(len(x) for x in one[0] + one[2]) < min(len(x) for x in seven[0] + seven[2])
    assert all(len(y) == 7 for y in seven[1] + seven[3])


@pytest.mark.espeak
def test_test_voices_are_never_heard_in_training(small):
    _, (*_, meta) = small
    assert meta["train_variants"] == ["m1"] and meta["test_variants"] == ["f2"]
    assert meta["voices"]["train"] and meta["voices"]["test"]
    assert all(v.endswith("+m1") for v in meta["voices"]["train"])
    assert all(v.endswith("+f2") for v in meta["voices"]["test"])


@pytest.mark.espeak
def test_cache_is_reused_without_synthesis(small, monkeypatch):
    cache, first = small

    def refuse(*args, **kwargs):
        raise AssertionError("espeak-ng was called although the data set is cached")

    monkeypatch.setattr(digits_data.speech_data, "synthesize", refuse)
    again = load_digits(cache_dir=cache, **SMALL)
    assert again[4]["cached"]
    for a, b in zip(first[0] + first[2], again[0] + again[2]):
        np.testing.assert_array_equal(a, b)
    assert first[1] == again[1] and first[3] == again[3]


@pytest.mark.espeak
def test_test_only_makes_the_same_test_utterances(small, tmp_path):
    _, whole = small
    x_train, y_train, x_test, y_test, meta = load_digits(cache_dir=tmp_path, test_only=True, **SMALL)
    assert x_train == [] and y_train == [] and meta["cache_file"].endswith("-test.npz")
    assert y_test == whole[3]
    for a, b in zip(x_test, whole[2]):
        np.testing.assert_array_equal(a, b)


def test_features_are_the_keyword_front_end_on_every_frame():
    """An utterance is cut into 1 s clips for speech_data.log_mel; every 1 s window of it gives the same frames."""
    params = digits_data.DigitParams(n_mels=12)
    rng = np.random.default_rng(0)
    wave = (0.1 * rng.standard_normal(int(2.7 * 16000)) * np.sin(np.arange(int(2.7 * 16000)) / 900) ** 2).astype(np.float32)
    (x,) = digits_data.features([wave], params)
    assert x.shape == (digits_data.frame_count(len(wave)), 12) == (1 + (len(wave) - 400) // 160, 12)
    for first in (0, 37, 98, 170):
        window = digits_data.log_mel(wave[None, first * 160 : first * 160 + 16000], params.front_end())[0]
        np.testing.assert_allclose(x[first : first + 98], window, rtol=1e-5, atol=1e-5)


def test_bad_parameters_are_refused(tmp_path):
    with pytest.raises(SpeechDataError, match="unknown data set parameter"):
        load_digits(cache_dir=tmp_path, digits_per_utterance=3)
    with pytest.raises(SpeechDataError, match="min_words"):
        load_digits(cache_dir=tmp_path, min_words=5, max_words=2)
    with pytest.raises(SpeechDataError, match="test_variants"):
        load_digits(cache_dir=tmp_path, variants=("m1",), test_variants=("m1",))
    with pytest.raises(SpeechDataError, match="words must be some of"):
        load_digits(cache_dir=tmp_path, words=("ten",))


def test_pad_gives_lengths_and_blank_padded_labels():
    x = [np.ones((5, 3), np.float32), 2 * np.ones((2, 3), np.float32)]
    xb, lengths, y, label_lengths = pad(x, [[3, 4, 5], [1]])
    assert xb.shape == (2, 5, 3) and lengths.tolist() == [5, 2]
    assert np.all(xb[1, 2:] == 0) and np.all(xb[1, :2] == 2)
    assert y.tolist() == [[3, 4, 5], [1, ctc.BLANK, ctc.BLANK]] and label_lengths.tolist() == [3, 1]
    assert pad(x, frames=8)[0].shape == (2, 8, 3) and pad(x)[2] is None
    with pytest.raises(ValueError, match="shorter than the longest"):
        pad(x, frames=4)


# --------------------------------------------------------------------------- CTC decoding and scoring


def frames_of(path, classes=ctc.CLASSES):
    """One-hot-ish per-frame probabilities whose best path is ``path``."""
    p = np.full((len(path), classes), 0.01)
    p[np.arange(len(path)), path] = 0.9
    return p


def test_words_and_tokens():
    assert ctc.CLASSES == 12 and ctc.BLANK == 0
    assert ctc.tokens_of("zero oh nine") == [1, 2, 11]
    assert ctc.text([1, 2, 11]) == "zero oh nine" and ctc.digits([1, 2, 11]) == "009"
    with pytest.raises(ValueError, match="not a word"):
        ctc.words_of([0])
    with pytest.raises(ValueError, match="vocabulary"):
        ctc.token("ten")


@pytest.mark.parametrize(
    "path, expected",
    [
        ([0, 0, 0], []),
        ([3, 3, 3], [3]),
        ([3, 0, 3], [3, 3]),  # a blank separates a repeated word
        ([3, 3, 4, 4, 0, 4], [3, 4, 4]),
        ([0, 5, 0, 0, 6, 6, 0], [5, 6]),
    ],
    ids=["all-blank", "repeats-merge", "blank-separates", "mixed", "blanks-dropped"],
)
def test_greedy_decoding(path, expected):
    assert ctc.greedy_decode(frames_of(path)) == expected


def test_greedy_decoding_ignores_padding():
    p = frames_of([3, 0, 4, 4, 7, 7])
    assert ctc.greedy_decode(p, length=4) == [3, 4]
    assert ctc.greedy_decode_batch(np.stack([p, p]), [4, 6]) == [[3, 4], [3, 4, 7]]
    assert ctc.greedy_decode_batch([p[:2], p]) == [[3], [3, 4, 7]]
    with pytest.raises(ValueError, match="outside"):
        ctc.greedy_decode(p, length=7)


@pytest.mark.parametrize(
    "ref, hyp, distance",
    [
        ("one two three", "one two three", 0),
        ("one two three", "one three", 1),
        ("one two", "one two two", 1),
        ("one two", "three four", 2),
        ("", "one", 1),
        ("one", "", 1),
    ],
    ids=["same", "deletion", "insertion", "substitutions", "empty-reference", "empty-hypothesis"],
)
def test_edit_distance(ref, hyp, distance):
    assert ctc.edit_distance(ctc.tokens_of(ref), ctc.tokens_of(hyp)) == distance


def test_word_error_rate_and_string_accuracies():
    refs = [ctc.tokens_of(s) for s in ("one two three", "four five", "zero six", "seven")]
    hyps = [ctc.tokens_of(s) for s in ("one two three", "four", "oh six", "seven seven")]
    score = ctc.score(refs, hyps)
    assert (score.errors, score.words, score.utterances) == (3, 8, 4)
    assert score.wer == pytest.approx(3 / 8) and ctc.word_error_rate(refs, hyps) == pytest.approx(3 / 8)
    assert score.sentence_accuracy == pytest.approx(1 / 4)
    assert score.digit_string_accuracy == pytest.approx(2 / 4)  # "oh six" reads as "zero six"
    assert "WER 37.50%" in score.summary()
    with pytest.raises(ValueError, match="references"):
        ctc.score(refs, hyps[:2])


# --------------------------------------------------------------------------- the recipe's training helpers and its model

RECIPE = Path(__file__).resolve().parents[1] / "projects" / "digits_ctc" / "recipe.py"


@pytest.fixture(scope="module")
def recipe():
    spec = importlib.util.spec_from_file_location("digits_ctc_recipe", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_frame_targets_mark_a_single_word_on_its_loud_frames(recipe):
    u = np.zeros((40, 20), np.float32)
    u[15:25] = 3.0
    targets = recipe.frame_targets(u, [7])
    assert targets[15:25].tolist() == [7] * 10 and set(targets[:15]) | set(targets[25:]) == {ctc.BLANK}
    assert set(recipe.frame_targets(u, [7, 8]).tolist()) == {-1}  # no boundaries known between words


def test_sortagrad_then_shuffled_batches_of_similar_lengths(recipe):
    lengths = np.arange(100)[::-1]
    first = recipe.batches(lengths, 16)
    assert [lengths[b].max() for b in first] == sorted(lengths[b].max() for b in first)  # shortest first
    later = recipe.batches(lengths, 16, np.random.default_rng(0))
    assert sorted(np.concatenate(later).tolist()) == list(range(100))
    assert all(np.ptp(lengths[b]) < 40 for b in later)


def test_folding_the_standardisation_into_the_first_layer_is_exact(recipe):
    import keras

    keras.utils.set_random_seed(3)
    trained, deployed = recipe.build(), recipe.build()
    rng = np.random.default_rng(0)
    weights = [w + 0.05 * rng.standard_normal(w.shape).astype(np.float32) for w in trained.get_weights()]
    trained.set_weights(weights)
    deployed.set_weights(weights)
    mean, std = rng.uniform(0, 2, recipe.N_MELS).astype(np.float32), rng.uniform(0.5, 2, recipe.N_MELS).astype(np.float32)
    recipe.fold_scaling(deployed, mean, std)
    x = (np.abs(rng.standard_normal((2, 9, recipe.N_MELS))) * (rng.random((2, 9, recipe.N_MELS)) < 0.5)).astype(np.float32)
    expected = keras.ops.convert_to_numpy(trained((x - mean) / std))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(deployed(x)), expected, rtol=1e-4, atol=1e-5)


def test_the_shipped_model_is_the_required_shape():
    """2 x Bidirectional ReLU-GRU of 128 units, a per-frame softmax over the words and the blank, any number of
    frames in, every matrix pruned to 90% over 16 lanes."""
    import keras

    model = keras.saving.load_model(RECIPE.parent / "model.keras", compile=False)
    assert tuple(model.inputs[0].shape[1:]) == (None, 20) and model.outputs[0].shape[-1] == ctc.CLASSES
    for name in ("bigru1", "bigru2"):
        gru = model.get_layer(name).forward_layer
        assert gru.units >= 128 and gru.activation.__name__ == "relu"
    for name, sparsity in weight_sparsity(model).items():
        assert sparsity == pytest.approx(0.9, abs=0.01), name
