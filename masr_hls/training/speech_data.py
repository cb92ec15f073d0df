"""A keyword-spotting data set of real synthesised speech, made on this machine with espeak-ng.

Why: the example models need speech whose accuracy means something and whose
activation sparsity is that of real audio, without downloading a corpus.
espeak-ng speaks 10 keywords plus "unknown" words across its English accents
and voice variants, at random speeds, pitches and amplitudes; each word is
placed at a random time in a 1 s clip at 16 kHz with additive noise at a random
SNR.  A "silence" class holds noise only.

Held out by voice: a voice is an accent plus a variant (``en-us+m3``); the test
split's variants are never used in training, with any accent.

Features are log-mel energies in dB above a fixed floor, rectified and scaled
by 1/10 (``max(0, dB - floor) / 10``): frames without speech energy are
exactly zero, which is what makes the engine's input sparse (docs/sparsity.md);
mean subtraction would make them dense.

Everything is seeded (each clip has its own seed, so the parallel order does
not matter) and the result is cached under ``cache_dir`` by a hash of every
generation parameter.

    from masr_hls.training.speech_data import load_kws
    x_train, y_train, x_test, y_test, meta = load_kws(frames=49, n_mels=20)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from multiprocessing.pool import ThreadPool
from pathlib import Path

import numpy as np

from masr_hls.errors import SpeechDataError

KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
UNKNOWN = "unknown"
SILENCE = "silence"
# Other words, as in Speech Commands' auxiliary words plus a few near misses of the keywords.
UNKNOWN_WORDS = (
    "bed",
    "bird",
    "cat",
    "dog",
    "happy",
    "house",
    "marvin",
    "sheila",
    "tree",
    "wow",
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "learn",
    "follow",
    "forward",
    "backward",
    "visual",
    "yellow",
    "note",
    "cup",
    "town",
    "lift",
    "write",
    "own",
    "of",
    "shop",
    "goal",
    "yet",
    "know",
    "bright",
    "light",
    "dawn",
)
# espeak-ng's English accents that need no extra voice data (the mb-* voices need MBROLA).
ACCENTS = ("en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029", "en-us-nyc")
# Voice variants (espeak-ng-data/voices/!v): every one that sounds like a person, breathy, rough and
# nasal ones included so that held-out voices have relatives in training; robots, long echoes,
# whisper, croak and the speed-changing "fast" are left out.
VARIANTS = (
    "m1",
    "m2",
    "m3",
    "m4",
    "m5",
    "m6",
    "m7",
    "m8",
    "f1",
    "f2",
    "f3",
    "f4",
    "f5",
    "klatt",
    "klatt2",
    "klatt3",
    "klatt4",
    "klatt5",
    "klatt6",
    "Alex",
    "Alicia",
    "Andrea",
    "Andy",
    "Annie",
    "AnxiousAndy",
    "Denis",
    "Diogo",
    "Gene",
    "Gene2",
    "Henrique",
    "Hugo",
    "Jacky",
    "Lee",
    "Marco",
    "Mario",
    "Michael",
    "Mike",
    "Mr serious",
    "Nguyen",
    "Storm",
    "Tweaky",
    "adam",
    "anika",
    "antonio",
    "aunty",
    "belinda",
    "benjamin",
    "boris",
    "caleb",
    "david",
    "ed",
    "edward",
    "edward2",
    "grandma",
    "grandpa",
    "gustave",
    "iven",
    "iven2",
    "iven3",
    "iven4",
    "john",
    "kaukovalta",
    "linda",
    "marcelo",
    "max",
    "michel",
    "miguel",
    "norbert",
    "pablo",
    "paul",
    "pedro",
    "quincy",
    "rob",
    "robert",
    "sandro",
    "shelby",
    "steph",
    "steph2",
    "steph3",
    "travis",
    "victor",
    "zac",
)
# Held out: one or two of each family (plain male/female, Klatt, tone-shaped, breathy, named), so the
# test measures new speakers of kinds seen in training.  A random choice can hold out the only voice of
# its kind (zac, the one child-like voice; shelby, the breathiest), and accuracy on it then says little.
TEST_VARIANTS = ("m3", "f4", "klatt3", "Andy", "belinda", "david", "iven2", "Denis", "michel", "robert", "steph2", "Gene2")

SAMPLE_RATE = 16000
CLIP_SAMPLES = SAMPLE_RATE  # 1 s clips
WINDOW = 400  # 25 ms
HOP = 160  # 10 ms
FFT = 512
STFT_FRAMES = 1 + (CLIP_SAMPLES - WINDOW) // HOP  # 98
REFERENCE_RMS = 0.1  # about the RMS of a word at espeak-ng's default amplitude; sets silence clips' noise level
FORMAT = 1  # bump when the generation changes, so stale caches are not reused

INSTALL_HINT = "install it with `apt-get install espeak-ng` (Debian/Ubuntu; setup.sh does this when run as root) or `brew install espeak-ng`"


@dataclass(frozen=True)
class SpeechParams:
    """Every parameter that changes the data set; its hash keys the cache."""

    seed: int = 0
    train_per_class: int = 800
    test_per_class: int = 150
    keywords: tuple = KEYWORDS
    unknown_words: tuple = UNKNOWN_WORDS
    accents: tuple = ACCENTS
    variants: tuple = VARIANTS
    test_variants: tuple = TEST_VARIANTS  # held out: never heard in training, with any accent
    speed: tuple = (120, 210)  # words per minute (espeak-ng -s)
    pitch: tuple = (20, 80)  # espeak-ng -p, 0..99
    amplitude: tuple = (40, 110)  # espeak-ng -a, 100 is the default; louder clips some voices
    snr_db: tuple = (10.0, 40.0)
    frames: int = 49  # STFT frames (10 ms) are pooled into this many
    n_mels: int = 20
    floor_db: float = -40.0  # mel energy (dB re full scale) that maps to 0
    fmin: float = 60.0
    fmax: float = 7600.0

    @property
    def classes(self) -> tuple:
        return tuple(self.keywords) + (UNKNOWN, SILENCE)

    def key(self) -> str:
        text = json.dumps({"format": FORMAT, **dataclasses.asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def check(self) -> None:
        if not 1 <= self.frames <= STFT_FRAMES:
            raise SpeechDataError(f"frames must be in 1..{STFT_FRAMES} (a 1 s clip has {STFT_FRAMES} frames of 10 ms), got {self.frames}")
        if self.n_mels < 1:
            raise SpeechDataError(f"n_mels must be positive, got {self.n_mels}")
        if not self.keywords or not self.unknown_words or not self.accents:
            raise SpeechDataError("keywords, unknown_words and accents must each name at least one entry")
        unknown = sorted(set(self.test_variants) - set(self.variants))
        if unknown or not self.test_variants or set(self.variants) <= set(self.test_variants):
            raise SpeechDataError(f"test_variants must be some but not all of the variants (unknown: {unknown}); got {list(self.test_variants)}")
        if self.train_per_class < 1 or self.test_per_class < 1:
            raise SpeechDataError("train_per_class and test_per_class must be positive")


# --------------------------------------------------------------------------- espeak-ng


def espeak_path() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise SpeechDataError(f"espeak-ng is not installed, and the speech data set is synthesised with it: {INSTALL_HINT}")
    return path


def synthesize(text: str, voice: str, speed: int, pitch: int, amplitude: int) -> tuple[np.ndarray, int]:
    """One utterance from espeak-ng: (samples in [-1, 1], sample rate)."""
    cmd = [espeak_path(), "-v", voice, "-s", str(speed), "-p", str(pitch), "-a", str(amplitude), "--stdout", text]
    proc = subprocess.run(cmd, capture_output=True, timeout=30)
    if proc.returncode != 0 or not proc.stdout.startswith(b"RIFF"):
        raise SpeechDataError(f"espeak-ng failed for voice {voice!r}, word {text!r}: {proc.stderr.decode(errors='replace').strip()}")
    return _parse_wav(proc.stdout)


def _parse_wav(data: bytes) -> tuple[np.ndarray, int]:
    # espeak-ng streams to stdout, so the header's sizes are placeholders: read up to the end instead.
    rate = int.from_bytes(data[24:28], "little")
    start = data.find(b"data", 12)
    if start < 0 or data[34:36] != b"\x10\x00":
        raise SpeechDataError("espeak-ng wrote a WAV that is not 16-bit PCM")
    pcm = data[start + 8 :]
    return np.frombuffer(pcm[: len(pcm) // 2 * 2], "<i2").astype(np.float32) / 32768.0, rate


# --------------------------------------------------------------------------- signal processing


def resample(x: np.ndarray, src_rate: int, dst_rate: int, taps: int = 63) -> np.ndarray:
    """Band-limit with a Hann-windowed sinc below the lower Nyquist, then interpolate linearly.

    The low-pass keeps the 22050 Hz speech from aliasing into the 16 kHz
    clip; linear interpolation after it loses little below 7 kHz.
    """
    if src_rate == dst_rate:
        return x.astype(np.float32)
    cutoff = 0.45 * min(src_rate, dst_rate) / src_rate  # cycles per source sample
    n = np.arange(taps) - (taps - 1) / 2
    h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hanning(taps)
    smooth = np.convolve(x, h / h.sum(), mode="same")
    t = np.arange(int(len(x) * dst_rate / src_rate)) * (src_rate / dst_rate)
    return np.interp(t, np.arange(len(x)), smooth).astype(np.float32)


def _trim(x: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x) > threshold * max(float(np.abs(x).max()), 1e-9))
    return x[loud[0] : loud[-1] + 1] if len(loud) else x[:0]


def coloured_noise(rng, n: int, exponent: float) -> np.ndarray:
    """Unit-RMS noise with power spectrum 1/f**exponent (0 white, 1 pink, 2 brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    noise = np.fft.irfft(spectrum / f ** (exponent / 2), n)
    return noise / max(float(np.sqrt(np.mean(noise**2))), 1e-12)


def make_clip(spec: dict) -> np.ndarray:
    """One 1 s clip at 16 kHz from a plan entry (see ``plan``): the word, placed and mixed with noise."""
    rng = np.random.default_rng(spec["seed"])
    clip = np.zeros(CLIP_SAMPLES, np.float64)
    if spec["word"] is None:
        noise_rms = REFERENCE_RMS * spec["amplitude"] / 100 * 10 ** (-spec["snr_db"] / 20)
    else:
        audio, rate = synthesize(spec["word"], spec["voice"], spec["speed"], spec["pitch"], spec["amplitude"])
        word = _trim(resample(audio, rate, SAMPLE_RATE))
        if len(word) > CLIP_SAMPLES:
            cut = (len(word) - CLIP_SAMPLES) // 2
            word = word[cut : cut + CLIP_SAMPLES]
        offset = int(spec["shift"] * (CLIP_SAMPLES - len(word)))
        clip[offset : offset + len(word)] = word
        noise_rms = float(np.sqrt(np.mean(word.astype(np.float64) ** 2))) * 10 ** (-spec["snr_db"] / 20) if len(word) else 0.0
    clip += noise_rms * coloured_noise(rng, CLIP_SAMPLES, spec["noise_exponent"])
    return np.clip(clip, -1.0, 1.0).astype(np.float32)


def log_mel(waves: np.ndarray, params: SpeechParams, batch: int = 512) -> np.ndarray:
    """(clips, 16000) -> (clips, frames, n_mels): mel power over 25 ms windows every 10 ms, pooled, in dB above the floor / 10.

    Pooling averages the power of consecutive frames in ``frames`` near-equal
    groups covering the whole clip, like a longer window.
    """
    import tensorflow as tf

    mel = tf.signal.linear_to_mel_weight_matrix(params.n_mels, FFT // 2 + 1, SAMPLE_RATE, params.fmin, params.fmax)
    edges = np.linspace(0, STFT_FRAMES, params.frames + 1).round().astype(int)
    out = []
    for start in range(0, len(waves), batch):
        stft = tf.signal.stft(tf.constant(waves[start : start + batch]), WINDOW, HOP, FFT, window_fn=tf.signal.hann_window)
        power = tf.tensordot(tf.abs(stft) ** 2 / WINDOW, mel, 1).numpy()  # (b, 98, n_mels)
        power = np.add.reduceat(power, edges[:-1], axis=1) / np.diff(edges)[None, :, None]
        db = 10 * np.log10(np.maximum(power, 1e-12))
        out.append(np.maximum(db - params.floor_db, 0.0) / 10)
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, params.frames, params.n_mels), np.float32)


# --------------------------------------------------------------------------- the data set


def split_variants(params: SpeechParams) -> tuple[list[str], list[str]]:
    """(train variants, test variants): no test voice is ever heard in training."""
    test = sorted(params.test_variants)
    return sorted(v for v in params.variants if v not in test), test


def plan(params: SpeechParams) -> dict[str, list[dict]]:
    """Every clip of both splits, as plain parameters (each with its own seed)."""
    rng = np.random.default_rng([params.seed, 2])
    train_variants, test_variants = split_variants(params)
    out = {}
    for split, variants, per_class in (("train", train_variants, params.train_per_class), ("test", test_variants, params.test_per_class)):
        specs = []
        for label, name in enumerate(params.classes):
            for _ in range(per_class):
                word = name if name in params.keywords else None
                if name == UNKNOWN:
                    word = str(rng.choice(params.unknown_words))
                specs.append(
                    {
                        "label": label,
                        "word": word,
                        "voice": f"{rng.choice(params.accents)}+{rng.choice(variants)}",
                        "speed": int(rng.integers(params.speed[0], params.speed[1] + 1)),
                        "pitch": int(rng.integers(params.pitch[0], params.pitch[1] + 1)),
                        "amplitude": int(rng.integers(params.amplitude[0], params.amplitude[1] + 1)),
                        "snr_db": float(rng.uniform(*params.snr_db)),
                        "shift": float(rng.uniform()),
                        "noise_exponent": float(rng.choice([0.0, 1.0, 2.0])),
                        "seed": int(rng.integers(2**63)),
                    }
                )
        order = rng.permutation(len(specs))
        out[split] = [specs[i] for i in order]
    return out


SPLITS = ("train", "test")


def speak_all(make, specs: list[dict], workers: int, progress: bool, desc: str, unit: str) -> list[np.ndarray]:
    """``make(spec)`` for every spec, in order.  espeak-ng runs as its own process, so a pool of threads keeps
    ``workers`` of them busy without forking a process that has TensorFlow loaded."""
    from tqdm import tqdm

    espeak_path()
    waves = []
    with ThreadPool(workers) as pool, tqdm(total=len(specs), desc=desc, unit=unit, disable=not progress) as bar:
        for wave in pool.imap(make, specs, chunksize=8):
            waves.append(wave)
            bar.update()
    return waves


def generate(params: SpeechParams, workers: int = 2, progress: bool = True, splits=SPLITS) -> dict:
    """Synthesise the clips of ``splits`` and compute their features (no cache); a split not asked for is empty.

    Every clip is planned whatever the splits, so a clip is the same whether or not the other split is made.
    """
    params.check()
    t0 = time.perf_counter()
    specs = {split: clips if split in splits else [] for split, clips in plan(params).items()}
    everything = specs["train"] + specs["test"]
    waves = speak_all(make_clip, everything, workers, progress, "espeak-ng clips", "clip")
    x = log_mel(np.stack(waves), params) if waves else np.zeros((0, params.frames, params.n_mels), np.float32)
    n_train = len(specs["train"])
    train_variants, test_variants = split_variants(params)
    voices = {split: sorted({s["voice"] for s in specs[split] if s["word"] is not None}) for split in specs}
    meta = {
        "classes": list(params.classes),
        "train_variants": train_variants,
        "test_variants": test_variants,
        "accents": list(params.accents),
        "voices": voices,
        "params": dataclasses.asdict(params),
        "key": params.key(),
        "espeak_ng": subprocess.run([espeak_path(), "--version"], capture_output=True, text=True).stdout.strip(),
        "generation_seconds": time.perf_counter() - t0,
    }
    labels = np.array([s["label"] for s in everything], np.int32)
    return {"x_train": x[:n_train], "y_train": labels[:n_train], "x_test": x[n_train:], "y_test": labels[n_train:], "meta": meta}


def load_kws(cache_dir="build/speech_cache", frames: int = 49, n_mels: int = 20, progress: bool = True, test_only: bool = False, **kwargs):
    """``(x_train, y_train, x_test, y_test, meta)``, from the cache when these parameters were generated before.

    ``x``: float32 (clips, frames, n_mels), zero where there is no speech energy;
    ``y``: int32 class indices into ``meta["classes"]``.  ``kwargs`` are any
    other :class:`SpeechParams` fields (seed, train_per_class, variants, ...).
    ``meta`` also says whether the cache was used and how long this call took.
    ``test_only``: make (or read) only the held-out split, the same clips as in the whole set; the training split
    is then empty.
    """
    t0 = time.perf_counter()
    try:
        params = SpeechParams(frames=frames, n_mels=n_mels, **{k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()})
    except TypeError as err:
        raise SpeechDataError(f"unknown data set parameter: {err}; the parameters are {[f.name for f in dataclasses.fields(SpeechParams)]}") from None
    params.check()
    whole = Path(cache_dir) / f"kws-{params.key()}.npz"
    path = whole if not test_only or whole.is_file() else whole.with_name(f"kws-{params.key()}-test.npz")
    cached = path.is_file()
    if cached:
        with np.load(path) as f:
            data = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
            data["meta"] = json.loads(str(f["meta"]))
    else:
        data = generate(params, progress=progress, splits=("test",) if test_only else SPLITS)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **{k: v for k, v in data.items() if k != "meta"}, meta=json.dumps(data["meta"]))
        os.replace(tmp, path)
    meta = dict(data["meta"], cached=cached, cache_file=str(path), load_seconds=time.perf_counter() - t0)
    if test_only:
        data["x_train"], data["y_train"] = data["x_train"][:0], data["y_train"][:0]
    return data["x_train"], data["y_train"], data["x_test"], data["y_test"], meta
