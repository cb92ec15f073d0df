"""The synthesised keyword data set: deterministic, cached, split by voice, zero where there is no speech."""

import numpy as np
import pytest

from masr_hls.training import speech_data
from masr_hls.training.speech_data import SpeechDataError, load_kws

SMALL = dict(
    keywords=("yes", "no"),
    unknown_words=("cat", "tree"),
    accents=("en-us",),
    variants=("m1", "f2"),
    test_variants=("f2",),
    train_per_class=3,
    test_per_class=2,
    frames=20,
    n_mels=12,
    progress=False,
)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    cache = tmp_path_factory.mktemp("speech_cache")
    return cache, load_kws(cache_dir=cache, **SMALL)


@pytest.mark.espeak
def test_shapes_classes_and_labels(small):
    _, (x_train, y_train, x_test, y_test, meta) = small
    assert meta["classes"] == ["yes", "no", "unknown", "silence"]
    assert x_train.shape == (4 * 3, 20, 12) and x_test.shape == (4 * 2, 20, 12)
    assert x_train.dtype == np.float32 and np.all(x_train >= 0) and np.all(np.isfinite(x_train))
    assert np.bincount(y_train).tolist() == [3, 3, 3, 3] and np.bincount(y_test).tolist() == [2, 2, 2, 2]
    assert not meta["cached"] and meta["generation_seconds"] > 0


@pytest.mark.espeak
def test_voices_of_the_splits_are_disjoint(small):
    _, (*_, meta) = small
    assert set(meta["train_variants"]).isdisjoint(meta["test_variants"])
    assert meta["voices"]["train"] and meta["voices"]["test"]
    assert set(meta["voices"]["train"]).isdisjoint(meta["voices"]["test"])
    assert all(v.split("+")[1] in meta["test_variants"] for v in meta["voices"]["test"])


@pytest.mark.espeak
def test_silence_is_mostly_zero_and_speech_is_not(small):
    _, (x_train, y_train, *_, meta) = small
    silence = meta["classes"].index("silence")
    zeros_in_silence = np.mean(x_train[y_train == silence] == 0)
    assert zeros_in_silence > 0.6, zeros_in_silence
    assert np.mean(x_train[y_train != silence] == 0) < zeros_in_silence


@pytest.mark.espeak
def test_cache_is_reused_without_synthesis(small, monkeypatch):
    cache, first = small

    def refuse(*args, **kwargs):
        raise AssertionError("espeak-ng was called although the data set is cached")

    monkeypatch.setattr(speech_data, "synthesize", refuse)
    again = load_kws(cache_dir=cache, **SMALL)
    assert again[4]["cached"]
    for a, b in zip(first[:4], again[:4]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.espeak
def test_same_seed_gives_identical_arrays(small, tmp_path):
    _, first = small
    fresh = load_kws(cache_dir=tmp_path, **SMALL)  # a new cache folder: generated again
    assert not fresh[4]["cached"]
    for a, b in zip(first[:4], fresh[:4]):
        np.testing.assert_array_equal(a, b)
    other = load_kws(cache_dir=tmp_path, **dict(SMALL, seed=1))
    assert not np.array_equal(first[0], other[0])


def test_missing_espeak_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(speech_data.shutil, "which", lambda name: None)
    with pytest.raises(SpeechDataError, match="apt-get install espeak-ng"):
        load_kws(cache_dir=tmp_path, **SMALL)


def test_bad_parameters_are_named(tmp_path):
    with pytest.raises(SpeechDataError, match="frames must be in 1..98"):
        load_kws(cache_dir=tmp_path, **dict(SMALL, frames=200))
    with pytest.raises(SpeechDataError, match="unknown data set parameter"):
        load_kws(cache_dir=tmp_path, **SMALL, voices=3)
    with pytest.raises(SpeechDataError, match="test_variants"):
        load_kws(cache_dir=tmp_path, **dict(SMALL, test_variants=("m1", "f2")))
    with pytest.raises(SpeechDataError, match="unknown: \\['m9'\\]"):
        load_kws(cache_dir=tmp_path, **dict(SMALL, test_variants=("m9",)))


def test_resample_keeps_a_tone_and_its_length():
    t = np.arange(22050) / 22050
    y = speech_data.resample(np.sin(2 * np.pi * 440 * t).astype(np.float32), 22050, 16000)
    assert len(y) == 16000
    expected = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    assert np.max(np.abs(y[100:-100] - expected[100:-100])) < 0.02


@pytest.mark.espeak
def test_the_held_out_split_alone_is_the_same_clips(small, tmp_path, monkeypatch):
    cache, (_, _, x_test, y_test, _) = small
    x_train, y_train, alone_x, alone_y, meta = load_kws(cache_dir=tmp_path, test_only=True, **SMALL)
    assert len(x_train) == len(y_train) == 0 and not meta["cached"] and meta["cache_file"].endswith("-test.npz")
    assert np.array_equal(alone_x, x_test) and np.array_equal(alone_y, y_test)

    def refuse(*args, **kwargs):
        raise AssertionError("espeak-ng was called although the held-out split is cached")

    monkeypatch.setattr(speech_data, "synthesize", refuse)
    for folder in (tmp_path, cache):  # its own cache, and the whole set's
        *_, again_x, again_y, again = load_kws(cache_dir=folder, test_only=True, **SMALL)
        assert again["cached"] and np.array_equal(again_x, x_test) and np.array_equal(again_y, y_test)
