"""A connected-digit data set (TIDIGITS-style digit strings) of real synthesised speech, made with espeak-ng.

Why: MASR's target is speech recognition, not only keyword spotting: a CTC
recogniser over digit strings has utterances of hundreds of frames, of
different lengths, and one output per frame, which is what the hardware's
activation storage and run-time frame count are for.  Like the keyword set
(masr_hls.training.speech_data, whose synthesis, resampling, noise, voices and
front end this module reuses), it is made on this machine without a corpus.

An utterance is 1 to 7 words from "zero", "oh", "one" ... "nine"
(masr_hls.training.ctc.WORDS), spoken by one espeak-ng voice at one speed,
pitch and amplitude.  The words are spoken in groups (one espeak-ng call
each, so the words of a group run together as connected speech) with a pause
of random length between groups, between noise-only margins before and after;
coloured noise at a random SNR runs over the whole utterance.

Held out by voice, as the keyword set: the test split's voice variants
(``speech_data.TEST_VARIANTS``) are never heard in training, with any accent.

Features: the keyword set's log-mel front end on 25 ms windows every 10 ms,
unpooled (``max(0, dB - floor) / 10``, so frames without speech energy are
zero).  ``speech_data.log_mel`` takes 1 s clips; an utterance is cut into
clips that overlap by one window less a hop (``CHUNK_HOP``), so that every
clip's 98 frames are exactly the utterance's next 98 frames, and the frames
past the utterance's own are dropped.  An utterance of ``s`` samples has
``1 + (s - 400) // 160`` frames.

Everything is seeded (each utterance has its own seed, so the parallel order
does not matter) and the result is cached under ``cache_dir`` by a hash of
every generation parameter.

    from masr_hls.training.digits_data import load_digits, pad
    x_train, y_train, x_test, y_test, meta = load_digits()   # lists: (frames, n_mels) arrays, token-id lists
    x, lengths, y, label_lengths = pad(x_train[:64], y_train[:64])
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from masr_hls.errors import SpeechDataError
from masr_hls.training import ctc, speech_data
from masr_hls.training.speech_data import (
    ACCENTS,
    CLIP_SAMPLES,
    HOP,
    SAMPLE_RATE,
    STFT_FRAMES,
    TEST_VARIANTS,
    VARIANTS,
    WINDOW,
    SpeechParams,
    coloured_noise,
    espeak_path,
    log_mel,
    resample,
    speak_all,
    split_variants,
)

CHUNK_HOP = STFT_FRAMES * HOP  # samples between the 1 s clips an utterance is cut into for log_mel
FORMAT = 1  # bump when the generation changes, so stale caches are not reused
SPLITS = ("train", "test")


@dataclass(frozen=True)
class DigitParams:
    """Every parameter that changes the data set; its hash keys the cache."""

    seed: int = 0
    train_utterances: int = 6000
    test_utterances: int = 500
    words: tuple = ctc.WORDS
    min_words: int = 1
    max_words: int = 7
    accents: tuple = ACCENTS
    variants: tuple = VARIANTS
    test_variants: tuple = TEST_VARIANTS  # held out: never heard in training, with any accent
    speed: tuple = (120, 210)  # words per minute (espeak-ng -s)
    pitch: tuple = (20, 80)  # espeak-ng -p, 0..99
    amplitude: tuple = (40, 110)  # espeak-ng -a, 100 is the default
    snr_db: tuple = (10.0, 40.0)  # noise against the speech's RMS
    pause_probability: float = 0.3  # after each word but the last: a pause, which ends an espeak-ng call
    pause: tuple = (0.05, 0.4)  # seconds of noise only between groups of words
    margin: tuple = (0.2, 0.4)  # seconds of noise only before the first word and after the last
    n_mels: int = 20
    floor_db: float = -40.0  # mel energy (dB re full scale) that maps to 0
    fmin: float = 60.0
    fmax: float = 7600.0

    def key(self) -> str:
        text = json.dumps({"format": FORMAT, **dataclasses.asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def check(self) -> None:
        unknown_words = sorted(set(self.words) - set(ctc.WORDS))
        if not self.words or unknown_words:
            raise SpeechDataError(f"words must be some of {list(ctc.WORDS)}; unknown: {unknown_words}")
        if not 1 <= self.min_words <= self.max_words:
            raise SpeechDataError(f"need 1 <= min_words <= max_words, got {self.min_words} and {self.max_words}")
        if not self.accents:
            raise SpeechDataError("accents must name at least one espeak-ng accent")
        unknown = sorted(set(self.test_variants) - set(self.variants))
        if unknown or not self.test_variants or set(self.variants) <= set(self.test_variants):
            raise SpeechDataError(f"test_variants must be some but not all of the variants (unknown: {unknown}); got {list(self.test_variants)}")
        if self.train_utterances < 0 or self.test_utterances < 0 or self.train_utterances + self.test_utterances == 0:
            raise SpeechDataError("train_utterances and test_utterances must not be negative, nor both zero")
        if not 0.0 <= self.pause_probability <= 1.0:
            raise SpeechDataError(f"pause_probability must be in [0, 1], got {self.pause_probability}")
        for name in ("pause", "margin", "snr_db", "speed", "pitch", "amplitude"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise SpeechDataError(f"{name} must be a range (low, high) with 0 <= low <= high, got {getattr(self, name)}")
        if self.n_mels < 1:
            raise SpeechDataError(f"n_mels must be positive, got {self.n_mels}")

    def front_end(self) -> SpeechParams:
        """The keyword set's front end with this set's bands, unpooled (a 1 s clip gives its 98 frames)."""
        return SpeechParams(frames=STFT_FRAMES, n_mels=self.n_mels, floor_db=self.floor_db, fmin=self.fmin, fmax=self.fmax)


# --------------------------------------------------------------------------- one utterance


def frame_count(samples: int) -> int:
    """Frames of 25 ms every 10 ms that fit in ``samples`` samples at 16 kHz."""
    return max(0, 1 + (samples - WINDOW) // HOP)


def _seconds(rng, bounds) -> int:
    return int(rng.uniform(*bounds) * SAMPLE_RATE)


def make_utterance(spec: dict) -> np.ndarray:
    """One utterance at 16 kHz from a plan entry (see ``plan``): its groups of words spoken, paused and mixed with noise."""
    rng = np.random.default_rng(spec["seed"])
    pieces, speech = [np.zeros(spec["lead"], np.float32)], []
    for i, group in enumerate(spec["groups"]):
        audio, rate = speech_data.synthesize(" ".join(group), spec["voice"], spec["speed"], spec["pitch"], spec["amplitude"])
        spoken = speech_data._trim(resample(audio, rate, SAMPLE_RATE))
        if not len(spoken):
            raise SpeechDataError(f"espeak-ng said nothing for {' '.join(group)!r} with voice {spec['voice']!r}")
        speech.append(spoken)
        pieces += [spoken, np.zeros(spec["pauses"][i] if i < len(spec["pauses"]) else spec["tail"], np.float32)]
    wave = np.concatenate(pieces).astype(np.float64)
    rms = float(np.sqrt(np.mean(np.concatenate(speech).astype(np.float64) ** 2)))
    wave += rms * 10 ** (-spec["snr_db"] / 20) * coloured_noise(rng, len(wave), spec["noise_exponent"])
    return np.clip(wave, -1.0, 1.0).astype(np.float32)


def features(waves, params: DigitParams, batch: int = 128) -> list[np.ndarray]:
    """(frames, n_mels) log-mel features of each wave (any lengths), through ``speech_data.log_mel`` in 1 s clips."""
    front, out = params.front_end(), []
    for start in range(0, len(waves), batch):
        clips, counts = [], []
        for wave in waves[start : start + batch]:
            n = frame_count(len(wave))
            k = max(1, -(-n // STFT_FRAMES))  # clips of 98 frames
            padded = np.zeros(max(len(wave), (k - 1) * CHUNK_HOP + CLIP_SAMPLES), np.float32)
            padded[: len(wave)] = wave
            clips += [padded[i * CHUNK_HOP : i * CHUNK_HOP + CLIP_SAMPLES] for i in range(k)]
            counts.append((k, n))
        mel = log_mel(np.stack(clips), front)
        first = 0
        for k, n in counts:
            out.append(np.ascontiguousarray(mel[first : first + k].reshape(-1, params.n_mels)[:n]))
            first += k
    return out


# --------------------------------------------------------------------------- the data set


def plan(params: DigitParams) -> dict[str, list[dict]]:
    """Every utterance of both splits, as plain parameters (each with its own seed)."""
    rng = np.random.default_rng([params.seed, 3])
    train_variants, test_variants = split_variants(params)
    out = {}
    for split, variants, count in (("train", train_variants, params.train_utterances), ("test", test_variants, params.test_utterances)):
        specs = []
        for _ in range(count):
            words = [str(w) for w in rng.choice(params.words, int(rng.integers(params.min_words, params.max_words + 1)))]
            breaks = [i + 1 for i in range(len(words) - 1) if rng.uniform() < params.pause_probability]
            groups = [words[a:b] for a, b in zip([0, *breaks], [*breaks, len(words)])]
            specs.append(
                {
                    "words": words,
                    "groups": groups,
                    "pauses": [_seconds(rng, params.pause) for _ in breaks],
                    "lead": _seconds(rng, params.margin),
                    "tail": _seconds(rng, params.margin),
                    "voice": f"{rng.choice(params.accents)}+{rng.choice(variants)}",
                    "speed": int(rng.integers(params.speed[0], params.speed[1] + 1)),
                    "pitch": int(rng.integers(params.pitch[0], params.pitch[1] + 1)),
                    "amplitude": int(rng.integers(params.amplitude[0], params.amplitude[1] + 1)),
                    "snr_db": float(rng.uniform(*params.snr_db)),
                    "noise_exponent": float(rng.choice([0.0, 1.0, 2.0])),
                    "seed": int(rng.integers(2**63)),
                }
            )
        out[split] = specs
    return out


def generate(params: DigitParams, workers: int = 2, progress: bool = True, splits=SPLITS) -> dict:
    """Synthesise the utterances of ``splits`` and compute their features (no cache); a split not asked for is empty.

    Every utterance is planned whatever the splits, so an utterance is the same whether or not the other split is
    made.  espeak-ng runs as its own process, so ``workers`` threads keep that many busy.
    """
    params.check()
    t0 = time.perf_counter()
    specs = {split: utterances if split in splits else [] for split, utterances in plan(params).items()}
    everything = specs["train"] + specs["test"]
    waves = speak_all(make_utterance, everything, workers, progress, "espeak-ng digit strings", "utt")
    x = features(waves, params)
    n_train = len(specs["train"])
    train_variants, test_variants = split_variants(params)
    meta = {
        "words": list(params.words),
        "vocabulary": list(ctc.WORDS),
        "blank": ctc.BLANK,
        "train_variants": train_variants,
        "test_variants": test_variants,
        "accents": list(params.accents),
        "voices": {split: sorted({s["voice"] for s in specs[split]}) for split in specs},
        "params": dataclasses.asdict(params),
        "key": params.key(),
        "espeak_ng": subprocess.run([espeak_path(), "--version"], capture_output=True, text=True).stdout.strip(),
        "generation_seconds": time.perf_counter() - t0,
    }
    labels = [ctc.tokens_of(s["words"]) for s in everything]
    return {"x_train": x[:n_train], "y_train": labels[:n_train], "x_test": x[n_train:], "y_test": labels[n_train:], "meta": meta}


def _pack(arrays) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(a) for a in arrays], np.int64)
    return (np.concatenate(arrays) if len(arrays) else np.zeros(0)), lengths


def _unpack(flat: np.ndarray, lengths: np.ndarray) -> list:
    return np.split(flat, np.cumsum(lengths)[:-1]) if len(lengths) else []


def _save(path: Path, data: dict) -> None:
    arrays = {}
    for split in SPLITS:
        arrays[f"x_{split}"], arrays[f"frames_{split}"] = _pack(data[f"x_{split}"])
        arrays[f"y_{split}"], arrays[f"words_{split}"] = _pack([np.array(y, np.int32) for y in data[f"y_{split}"]])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays, meta=json.dumps(data["meta"]))
    os.replace(tmp, path)


def _load(path: Path, n_mels: int) -> dict:
    with np.load(path) as f:
        data = {"meta": json.loads(str(f["meta"]))}
        for split in SPLITS:
            data[f"x_{split}"] = _unpack(f[f"x_{split}"].astype(np.float32).reshape(-1, n_mels), f[f"frames_{split}"])
            data[f"y_{split}"] = [y.tolist() for y in _unpack(f[f"y_{split}"].astype(np.int64), f[f"words_{split}"])]
    return data


def load_digits(cache_dir="build/speech_cache", n_mels: int = 20, progress: bool = True, test_only: bool = False, **kwargs):
    """``(x_train, y_train, x_test, y_test, meta)``, from the cache when these parameters were generated before.

    ``x``: lists of float32 (frames, n_mels) arrays, one per utterance, of different lengths, zero where there is
    no speech energy; ``y``: lists of token-id lists (masr_hls.training.ctc: words 1..11, blank 0).  ``kwargs``
    are any other :class:`DigitParams` fields (seed, train_utterances, variants, ...).  ``meta`` also says whether
    the cache was used and how long this call took.  ``test_only``: make (or read) only the held-out split, the
    same utterances as in the whole set; the training split is then empty.
    """
    t0 = time.perf_counter()
    try:
        params = DigitParams(n_mels=n_mels, **{k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()})
    except TypeError as err:
        raise SpeechDataError(f"unknown data set parameter: {err}; the parameters are {[f.name for f in dataclasses.fields(DigitParams)]}") from None
    params.check()
    whole = Path(cache_dir) / f"digits-{params.key()}.npz"
    path = whole if not test_only or whole.is_file() else whole.with_name(f"digits-{params.key()}-test.npz")
    cached = path.is_file()
    if cached:
        data = _load(path, params.n_mels)
    else:
        data = generate(params, progress=progress, splits=("test",) if test_only else SPLITS)
        _save(path, data)
    meta = dict(data["meta"], cached=cached, cache_file=str(path), load_seconds=time.perf_counter() - t0)
    if test_only:
        data["x_train"], data["y_train"] = [], []
    return data["x_train"], data["y_train"], data["x_test"], data["y_test"], meta


def pad(utterances, labels=None, frames: int | None = None):
    """A padded batch for Keras: ``(x, lengths, y, label_lengths)``.

    ``x``: float32 (n, T, n_mels), zeros after each utterance's ``lengths[i]`` frames, ``T`` the longest
    utterance or ``frames``; ``y``: int32 (n, W) token ids padded with the blank, ``label_lengths`` their words
    (``y`` and ``label_lengths`` are None without ``labels``).  Padding must not reach the results: mask the
    recurrent layers with ``lengths`` (a backward direction would start in the padding) and give the CTC loss
    both lengths.
    """
    if not len(utterances):
        raise ValueError("no utterances to pad")
    lengths = np.array([len(u) for u in utterances], np.int32)
    n_mels = {u.shape[1] for u in utterances if np.ndim(u) == 2}
    if len(n_mels) != 1 or any(np.ndim(u) != 2 for u in utterances):
        raise ValueError("utterances must be (frames, n_mels) arrays with the same n_mels")
    width = int(lengths.max()) if frames is None else frames
    if width < lengths.max():
        raise ValueError(f"frames={frames} is shorter than the longest utterance ({lengths.max()} frames)")
    x = np.zeros((len(utterances), width, n_mels.pop()), np.float32)
    for i, u in enumerate(utterances):
        x[i, : len(u)] = u
    if labels is None:
        return x, lengths, None, None
    if len(labels) != len(utterances):
        raise ValueError(f"{len(labels)} label sequences for {len(utterances)} utterances")
    label_lengths = np.array([len(y) for y in labels], np.int32)
    y = np.full((len(labels), max(1, int(label_lengths.max()))), ctc.BLANK, np.int32)
    for i, tokens in enumerate(labels):
        y[i, : len(tokens)] = tokens
    return x, lengths, y, label_lengths
