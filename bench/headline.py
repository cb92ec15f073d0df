"""The headline comparison: MASR against EIE, weight-only-sparse and dense engines at equal MACs, on real speech.

    python bench/headline.py [--lanes 4,16,64] [--samples-kws 300] [--samples-ds2 100] [--jobs 2] [--json FILE]

Models (the recurrent layers' matrix-vector products; the Dense heads are not counted):
  kws_speech  the trained model of projects/kws_speech (BiGRU(48), 25 frames x 16 log-mel bands)
  ds2_speech  the trained model of projects/ds2_speech (2 x BiGRU(128), 49 frames x 20 bands)
  paper       MASR-paper scale: 5 x BiGRU(800, merge concat), T=50 x 161 features, 90% pruned

The trained models are loaded from build/<name>/model.keras, where the projects' recipes save them;
if one is missing its recipe is run first (which takes minutes; the time is printed).

Activations are real speech: held-out clips of the speech test set (masr_hls.training.speech_data)
go through the project's bit-exact numpy reference (masr_hls.reference.rnn_layer.sweep), which gives
the non-zero pattern of every engine input at every step: the layer input x_t for the kernel
engine, the previous state h_{t-1} for the recurrent engine.  The activation density of every
layer is printed.  The paper-scale model has no trained weights and no speech of 161 features, so
it borrows the speech statistics of ds2_speech: Keras-style random weights magnitude-pruned to 90%
(lane-balanced over 64 interleaved lanes), and activation masks drawn as Bernoulli variables whose
rate is, per unit, a rate measured on real speech: each of the 161 input features takes the
non-zero rate of a randomly chosen ds2 mel band, each of the 800 units of a direction of layer k
the non-zero rate of a randomly chosen unit of the same direction of ds2's layer min(k, 2).  So
the per-layer densities (and their spread over units: dead and always-on units) are ds2's, the
correlation over time is not (each frame is drawn afresh).  Layer k's input at frame t is the
concatenation of layer k-1's two state masks at t; a recurrent engine reads its own previous mask.

Engines, all with P = lanes MACs (one MAC per lane or PE) and the same interleaving (row r on lane, or
MASR's bank, r mod P, as EIE interleaves its PEs and as the projects' configs set LaneAssignment):
  dense          every weight is a MAC           masr_hls.reference.mxv.mxv_stats_over_calls
  weight_sparse  every non-zero weight           (the same datapath, mode weight_sparse)
  masr           every non-zero weight meeting a non-zero activation (bitmask AND), lanes balanced as a
                 conversion does by default (LaneBalancing auto: from 8 lanes up where a layer has 4 rows a
                 lane, two lanes share a bank of rows and take them at run time, FIFO of 1 window; else rows
                 tied to lanes); dense and
                 weight_sparse balance the same way
  masr_static    masr with rows tied to lanes at conversion (FIFO of 4 windows), for comparison
  masr_interleaved  masr with each Bidirectional layer's directions interleaved (Interleave: true; counted by the
                 reference and the C simulation, not built in the HLS structure or the RTL twin): its two
                 recurrent matrices share one engine, whose cycles are its occupied cycles in the layer's
                 interleaved schedule (calls back to back overlap; masr_hls.reference.rnn_layer.interleaved_schedule),
                 the kernel engines' as masr's; energy as masr's
  eie            EIE (ISCA 2016) as masr_hls.analysis.eie models it: CSC with 4-bit codebook and
                 relative row indices, padding entries, non-zero activations broadcast one per
                 cycle, activation queues of depth 8
  eie_16bit      the same EIE with each entry holding its 16-bit weight (MASR's precision) instead of a
                 codebook index: same entries and cycles, 16 + 4 bits per entry, no codebook read
  eie_magnitude  the 4-bit-codebook EIE on its own pruning: each matrix's float weights pruned by plain
                 per-matrix magnitude (masr_hls.training.pruning.magnitude_mask, lanes=None) to the
                 sparsity of the lane-balanced matrix, so the non-zero counts are equal; MASR keeps the
                 lane-balanced model.  For the trained models the float weights available are the trained,
                 already pruned ones (the recipes keep no dense weights): re-pruning them to their own
                 sparsity keeps exactly their non-zeros, so this variant equals eie there (the printout says
                 so).  For the paper-scale model the unpruned random weights are pruned both ways.
Cycles are engine cycles per inference (every step of every direction: kernel and recurrent
engine calls, summed; the GRU's element-wise stage is the same for all four and left out).
Utilisation = ceil(non-zero pairs / P) / cycles.  Weight bits: dense = every weight at 16 bits;
weight_sparse and masr = 1 mask bit per weight + non-zero values (bitmask.storage_bits); eie =
its CSC entries (4-bit codebook index + 4-bit row index, padding included) + 16-bit column
pointers per PE + the 16-entry codebook of each matrix (EieMatrix.storage); eie_16bit = entries of
16 + 4 bits + pointers.  CSC at 16-bit values with narrow pointers (bitmask.storage_bits' csc) is
printed beside.

Activation storage (bits per model, every Bidirectional layer's input sequence and both directions'
states, plus the last layer's output: its sequence, or its one frame without return_sequences; worst =
allocated for the frames each holds (max frames, or 1 for a last-state output, on both sides: EIE holds
the one merged frame its head reads, MASR the one-frame store it declares), mean = what the measured
sequences occupy; masr_hls.analysis.eie.sequence_storage):
  EIE            dense values (its activation register files / SRAM): frames x n values per sequence.
  MASR           what the generated hardware holds: every sequence between layers compact (bitmask +
                 packed non-zeros: per frame ceil(n / 32) 32-bit mask words + the non-zero values;
                 docs/arithmetic.md, "Sequence storage"), the model's input and output ports dense, the
                 state registers, and the two state sequences hf / hb (max frames x units each,
                 rnn_layer.h) of a layer that merges them after its sweeps (sum / mul / ave, or concat
                 into the output port); a concat layer read by another writes its halves straight into a
                 split store (each half its own mask words) and keeps none.
  MASR compact   every sequence compact, the ports too, and no hf / hb: printed beside, never in the
                 headline.
Ratios use MASR as built.

Energy: masr_hls.analysis.energy, accesses times Horowitz ISSCC 2014 45 nm per-access energies
(energy_45nm.yaml), with the activation traffic.  MASR as built: each kernel engine loads its frames
from the layer's compact sequence store and each layer writes its output frames into the next one's
(the first layer reads the dense input port once and writes the encoding on entry; a last layer writes
the dense output port): the words the reference counts (rnn_layer.layer_words, as the C simulation's
STATS_ENTRY_WRITTEN / STATS_SEQ_READ / STATS_OUT_WRITTEN), each an access of the store's size at its
word width (masr_store_work); a recurrent engine reads the state register; every engine writes its own
copy of the operand (non-zeros and mask words); every step writes the state register and hf / hb, which
the merge reads.  EIE holds activations dense: every call reads its operand (N values) from where it is
held (the layer's input sequence, or the state) into the PEs' source register files, and every step
writes the state (destination register files) and, when the layer returns sequences, the output
sequence.

Printout: per model, the densities, the magnitude-pruning note, the activation storage, and per lane
count every engine's cycles, utilisation, weight and activation bits, energy and MASR's ratios over it;
then the headline: MASR's performance, energy and area (weight + activation bits) ratios over each
EIE variant, with the paper's figures (MASR over EIE: 1.6x performance, 3x energy, 2x area) beside,
and the storage ratios again with every sequence compact and no hf / hb (not built).  bench/README.md ("MASR against
EIE") explains where they differ.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import multiprocessing
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from workloads import parse_lanes  # noqa: E402 - the bench folder is on the path only now

ENGINES = ("dense", "weight_sparse", "masr", "masr_static", "masr_interleaved", "eie", "eie_16bit", "eie_magnitude")
PAPER = {"performance": 1.6, "energy": 3.0, "area": 2.0}  # MASR over EIE, Gupta et al., PACT 2019
TRAINED = {  # name -> (frames, mel bands) of its recipe; digits_ctc: its utterances of 300 frames or more, cut at 300
    "kws_speech": (25, 16),
    "ds2_speech": (49, 20),
    "digits_ctc": (300, 20),
}


def keyword_clips(name: str, samples: int, seed: int) -> tuple[np.ndarray, int]:
    """A seeded choice of ``samples`` held-out clips (voices never heard in training) of a keyword-set model, in
    their order, and how many there are."""
    from masr_hls.training.speech_data import load_kws

    frames, mels = TRAINED[name]
    _, _, x_test, _, _ = load_kws(cache_dir=ROOT / "build" / "speech_cache", frames=frames, n_mels=mels, test_only=True)
    return x_test[np.sort(np.random.default_rng(seed).permutation(len(x_test))[:samples])], len(x_test)


def digit_utterances(frames: int, samples: int, seed: int) -> tuple[np.ndarray, int]:
    """``samples`` held-out connected-digit utterances of at least ``frames`` frames (a seeded choice), each cut to
    its first ``frames``; and how many held-out utterances there are."""
    from masr_hls.training.digits_data import load_digits

    _, _, x_test, _, _ = load_digits(cache_dir=ROOT / "build" / "speech_cache", test_only=True)
    long = [u for u in x_test if len(u) >= frames]
    pick = np.sort(np.random.default_rng(seed).permutation(len(long))[:samples])
    return np.stack([long[i][:frames] for i in pick]), len(x_test)


@dataclass
class Matrix:
    """One engine matrix of one direction, with the non-zero pattern of its input at every call."""

    layer: str
    direction: str  # forward | backward
    kind: str  # kernel | recurrent
    w_raw: np.ndarray  # (rows, n_in), y = W v
    config: object  # MxvConfig (lanes and mode are replaced per run)
    v_nz: np.ndarray  # (calls, n_in) bool
    w_magnitude: np.ndarray | None = None  # EIE's own pruning: the same float weights, plain per-matrix magnitude (None: w_raw)
    source_bytes: float = 0.0  # the array the engine's operand is read from: the input sequence, or the state register
    w_nz: np.ndarray = field(init=False)
    w_mag_nz: np.ndarray = field(init=False)

    def __post_init__(self):
        self.w_nz = self.w_raw != 0
        self.w_mag_nz = self.w_nz if self.w_magnitude is None else self.w_magnitude != 0


@dataclass
class LayerRecord:
    """One Bidirectional layer's sequences: what holds its activations and their measured non-zeros."""

    name: str
    sequences: object  # masr_hls.analysis.energy.LayerSequences
    in_bits: int
    x_nz: np.ndarray  # (utterances, frames, n_in) the layer's input sequence
    out_nz: np.ndarray  # (utterances, frames out, n_out) its output sequence (the merge of both directions' states)
    entry: bool = False  # it reads the model's dense input port (each frame encoded once on entry)
    stores_output: bool = True  # it writes a compact store another layer reads (else the model's dense output port)
    in_split: int = 0  # where the halves of a split input store meet (0: one part)
    out_split: int = 0  # where the halves of its split output store meet: the sweeps write them apart, no hf / hb

    def store_words(self):
        """The layer's sequence storage words over every utterance, as the reference counts them
        (masr_hls.reference.rnn_layer.layer_words): a StoreWords for masr_hls.analysis.energy.masr_store_work."""
        from masr_hls.analysis.energy import StoreWords
        from masr_hls.reference.rnn_layer import layer_words

        words = layer_words(self.x_nz, self.out_nz, 2, self.entry, self.stores_output, self.in_split, self.out_split)
        count = len(self.x_nz)
        return StoreWords(
            **{k: int(v.sum()) for k, v in words.items()},
            in_frames=count * self.x_nz.shape[1],
            out_frames=count * self.out_nz.shape[1],
            readers=2,
        )


@dataclass
class Workload:
    name: str
    title: str
    matrices: list
    inferences: int  # the calls of v_nz cover this many inferences
    densities: list  # per layer and direction: input, state and pairs densities (printed)
    origin: str
    layers: list = field(default_factory=list)  # LayerRecord per Bidirectional layer
    pruning: str = ""  # what EIE's magnitude-pruned variant got (printed)


# --------------------------------------------------------------------------- real speech through the reference

_HW = None  # the model a forked worker records with


def _record_one(x):
    """Per Bidirectional layer: non-zeros of its input (T, n_in), forward states (T, u), backward states (T, u, realigned)
    and output (frames out, n_out)."""
    from masr_hls.reference.rnn_layer import merge, sweep

    h = _HW.quantize_input(x[None])[0]
    out = []
    for layer in _HW.layers:
        if layer.kind == "dense":
            continue
        if layer.kind != "bidirectional":
            raise ValueError(f"{layer.name}: the headline measures Bidirectional layers only")
        hf, _ = sweep(layer.fwd, layer.wf, h)
        hb, _ = sweep(layer.bwd, layer.wb, h, backward=True, realign=True)
        states = (h != 0, hf != 0, hb != 0)
        if not layer.return_sequences:
            hf, hb = hf[-1:], hb[:1]
        h = merge(layer.merge, hf, layer.fwd.state_t.frac, hb, layer.bwd.state_t.frac)
        out.append((*states, h != 0))
    return out


def record(hw, x: np.ndarray, jobs: int, desc: str) -> list:
    """_record_one over every clip, ``jobs`` processes; returns per layer (x_nz, hf_nz, hb_nz, y_nz) stacked over clips."""
    from tqdm import tqdm

    global _HW
    _HW = hw
    if jobs > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            runs = list(tqdm(pool.imap(_record_one, x, chunksize=4), total=len(x), desc=desc, leave=False))
    else:
        runs = [_record_one(clip) for clip in tqdm(x, desc=desc, leave=False)]
    return [tuple(np.stack([r[i][j] for r in runs]) for j in range(4)) for i in range(len(runs[0]))]


def engine_inputs(x_nz, hf_nz, hb_nz):
    """(kernel input, forward recurrent input, backward recurrent input) as (calls, n) masks.

    The forward direction reads the state of the frame before (zeros at the first), the backward
    direction the state of the frame after (zeros at the last)."""
    n, t, u = hf_nz.shape
    zero = np.zeros((n, 1, u), bool)
    fwd = np.concatenate([zero, hf_nz[:, :-1]], axis=1)
    bwd = np.concatenate([hb_nz[:, 1:], zero], axis=1)
    return x_nz.reshape(n * t, -1), fwd.reshape(n * t, u), bwd.reshape(n * t, u)


def density_rows(layer: str, x_nz, hf_nz, hb_nz, matrices) -> list:
    rows = []
    for direction, h in (("forward", hf_nz), ("backward", hb_nz)):
        mine = [m for m in matrices if m.layer == layer and m.direction == direction]
        pairs = sum(int((m.v_nz.astype(np.float64) @ m.w_nz.T.astype(np.float64)).sum()) for m in mine)
        meetings = sum(len(m.v_nz) * int(m.w_nz.sum()) for m in mine)
        rows.append(
            {
                "layer": layer,
                "direction": direction,
                "x_density": float(x_nz.mean()),
                "h_density": float(h.mean()),
                "pairs_density": pairs / meetings,
                "dead_units": int((h.mean(axis=(0, 1)) == 0).sum()),
                "units": h.shape[-1],
            }
        )
    return rows


def trained_workload(name: str, samples: int, jobs: int, seed: int, log) -> tuple[Workload, dict]:
    import keras

    import masr_hls

    path = ROOT / "projects" / name / "model.keras" if name == "digits_ctc" else ROOT / "build" / name / "model.keras"
    if path.exists():
        origin = f"trained model loaded from {path.relative_to(ROOT)}"
    else:
        log(f"[{name}] {path.relative_to(ROOT)} is missing: training it with projects/{name}/recipe.py ...")
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, str(ROOT / "projects" / name / "recipe.py"), "--out", str(path.parent), "--cache", str(ROOT / "build" / "speech_cache")],
            check=True,
            cwd=ROOT,
        )
        origin = f"trained now by projects/{name}/recipe.py in {time.perf_counter() - t0:.0f} s"
        log(f"[{name}] {origin}")
    model = keras.models.load_model(path)
    frames, mels = TRAINED[name]
    if name == "digits_ctc":
        x, held_out = digit_utterances(frames, samples, seed)
    else:
        x, held_out = keyword_clips(name, samples, seed)
    hm = masr_hls.convert_from_keras_model(
        model, hls_config=str(ROOT / "projects" / name / "config.yml"), output_dir=ROOT / "build" / "headline" / name, project_name=name
    )
    hw = masr_hls.masr_model(hm)
    recorded = record(hw, x, jobs, f"{name}: numpy reference")
    matrices, densities, records, rates = [], [], [], {"input": (x != 0).mean(axis=(0, 1)), "layers": []}
    bidirectional = [layer for layer in hw.layers if layer.kind == "bidirectional"]
    for layer, (x_nz, hf_nz, hb_nz, y_nz) in zip(bidirectional, recorded):
        kin, fin, bin_ = engine_inputs(x_nz, hf_nz, hb_nz)
        keras_layer = model.get_layer(layer.name)
        mine = []
        for direction, cell, w, rin, sub in (
            ("forward", layer.fwd, layer.wf, fin, keras_layer.forward_layer),
            ("backward", layer.bwd, layer.wb, bin_, keras_layer.backward_layer),
        ):
            sequence_bytes = hw.max_frames * cell.n_in * cell.in_t.width / 8
            state_bytes = cell.n_units * cell.state_t.width / 8
            for kind, w_raw, config, v, source, float_kernel in (
                ("kernel", np.asarray(w.kernel), cell.kernel_config(), kin, sequence_bytes, sub.cell.kernel),
                ("recurrent", np.asarray(w.recurrent), cell.recurrent_config(), rin, state_bytes, sub.cell.recurrent_kernel),
            ):
                w_mag = magnitude_repruned(keras.ops.convert_to_numpy(float_kernel), w_raw)
                mine.append(Matrix(layer.name, direction, kind, w_raw, config, v, w_magnitude=w_mag, source_bytes=source))
        matrices += mine
        densities += density_rows(layer.name, x_nz, hf_nz, hb_nz, mine)
        # where the layer's sequences live, as the conversion decided (split stores: designs that write concat halves apart)
        where = (layer.entry, layer.stores_output, getattr(layer, "in_split", 0), getattr(layer, "out_split", 0))
        records.append(layer_record(layer.name, layer.fwd, layer.merge.out_t.width, layer.return_sequences, hw.max_frames, x_nz, y_nz, *where))
        rates["layers"].append((hf_nz.mean(axis=(0, 1)), hb_nz.mean(axis=(0, 1))))
    title = f"{name}: {model.count_params():,} parameters, {len(bidirectional)} BiGRU layer(s), T={frames} x {mels} bands"
    origin += f"; {len(x)} held-out clips of {held_out} (seeded choice; voices never heard in training), input density {float((x != 0).mean()):.1%}"
    pruning = (
        "EIE magnitude-pruned variant: each matrix's float weights as trained (already pruned lane-balanced) re-pruned by plain "
        "per-matrix magnitude (magnitude_mask, lanes=None) to the same sparsity; " + pruning_difference(matrices)
    )
    return Workload(name, title, matrices, len(x), densities, origin, records, pruning), rates


def magnitude_repruned(float_kernel: np.ndarray, w_raw: np.ndarray, sparsity: float | None = None) -> np.ndarray:
    """``w_raw`` (rows, n_in) where a plain per-matrix magnitude mask of ``float_kernel`` (n_in, rows, Keras' layout)
    keeps it, at ``sparsity`` (default: the float kernel's own, so that the non-zero count is the same)."""
    from masr_hls.training.pruning import magnitude_mask

    kernel = np.asarray(float_kernel, np.float64)
    if sparsity is None:
        sparsity = 1 - np.count_nonzero(kernel) / kernel.size
    keep = magnitude_mask(kernel, sparsity, lanes=None).T
    return np.where(keep, w_raw, 0)


def pruning_difference(matrices: list) -> str:
    """How far EIE's magnitude-pruned matrices are from the lane-balanced ones (printed)."""
    moved = sum(int((m.w_nz & ~m.w_mag_nz).sum()) for m in matrices)  # non-zeros of one that the other pruned
    nnz, nnz_mag = sum(int(m.w_nz.sum()) for m in matrices), sum(int(m.w_mag_nz.sum()) for m in matrices)
    if moved == 0 and nnz == nnz_mag:
        return f"the non-zero pattern is identical ({nnz:,} non-zeros): pruning the pruned weights again keeps exactly the same ones"
    return f"{nnz_mag:,} non-zeros against {nnz:,} lane-balanced; {moved:,} of the lane-balanced non-zeros are pruned there, as many others kept"


def layer_record(name, cell, out_bits, return_sequences, max_frames, x_nz, y_nz, entry, stores_output, in_split=0, out_split=0) -> "LayerRecord":
    from masr_hls.analysis.energy import LayerSequences

    seq = LayerSequences(x_nz.shape[1], max_frames, cell.n_units, cell.state_t.width, out_bits, bool(return_sequences), state_sequences=not out_split)
    return LayerRecord(name, seq, cell.in_t.width, x_nz, y_nz, entry, stores_output, in_split, out_split)


# --------------------------------------------------------------------------- the paper-scale model on borrowed statistics


def paper_workload(
    rates: dict,
    seed: int,
    prune_lanes: int,
    layers: int = 5,
    units: int = 800,
    frames: int = 50,
    features: int = 161,
    sparsity: float = 0.9,
    utterances: int = 1,
) -> Workload:
    """5 x BiGRU(800, concat) with random lane-balanced 90%-pruned weights and Bernoulli activation masks (module docstring)."""
    from masr_hls.reference.rnn_cell import CellConfig
    from masr_hls.training.pruning import magnitude_mask

    rng = np.random.default_rng(seed)
    feature_rate = rng.choice(rates["input"], size=features)
    x_nz = rng.random((utterances, frames, features)) < feature_rate
    matrices, densities, records = [], [], []
    n_in = features
    for k in range(layers):
        source = rates["layers"][min(k, len(rates["layers"]) - 1)]
        states = [rng.random((utterances, frames, units)) < rng.choice(r, size=units) for r in source]
        kin, fin, bin_ = engine_inputs(x_nz, *states)
        name = f"bigru{k + 1}"
        cell = CellConfig("gru", n_in, units, activation="relu")
        mine = []
        for direction, rin in (("forward", fin), ("backward", bin_)):
            for kind, shape, v in (("kernel", (n_in, 3 * units), kin), ("recurrent", (units, 3 * units), rin)):
                limit = math.sqrt(6 / sum(shape))  # Keras' glorot-uniform scale; only the pattern matters here
                kernel = rng.uniform(-limit, limit, shape)
                keep = magnitude_mask(kernel, sparsity, lanes=prune_lanes)
                w = (kernel * keep).T
                w_mag = magnitude_repruned(kernel, kernel.T, 1 - keep.sum() / keep.size)  # the same weights, EIE's own flow
                config = cell.kernel_config() if kind == "kernel" else cell.recurrent_config()
                bits = config.act_t.width
                source = frames * n_in * bits / 8 if kind == "kernel" else units * bits / 8
                mine.append(Matrix(name, direction, kind, w, config, v, w_magnitude=w_mag, source_bytes=source))
        matrices += mine
        densities += density_rows(name, x_nz, *states, mine)
        y_nz = np.concatenate(states, axis=-1)  # concat of one state type: the merge keeps every value
        split = units if k < layers - 1 else 0  # concat into the next layer's store: halves written apart, no hf / hb
        records.append(layer_record(name, cell, cell.state_t.width, True, frames, x_nz, y_nz, k == 0, k < layers - 1, units if k else 0, split))
        x_nz = y_nz
        n_in = 2 * units
    title = f"MASR-paper scale: {layers} x BiGRU({units}, concat), T={frames} x {features} features, {sparsity:.0%} pruned"
    origin = (
        f"random weights pruned by magnitude to {sparsity:.0%}, lane-balanced over {prune_lanes} lanes; activation "
        f"masks Bernoulli with per-unit rates drawn from ds2_speech's measured rates ({utterances} utterance(s), seed {seed})"
    )
    pruning = (
        "EIE magnitude-pruned variant: the same random float weights pruned by plain per-matrix magnitude (magnitude_mask, "
        "lanes=None) to the lane-balanced matrices' sparsity; " + pruning_difference(matrices)
    )
    return Workload("paper", title, matrices, utterances, densities, origin, records, pruning)


# --------------------------------------------------------------------------- the four engines


EIE_CHUNK = 256  # calls per EIE evaluation (its work array is calls x activations x PEs)
EIE_VARIANTS = {  # engine -> what it is (printed)
    "eie": "EIE, 4-bit codebook (the paper's), our lane-balanced pruning",
    "eie_16bit": "EIE, 16-bit weights (MASR's precision, no codebook), our lane-balanced pruning",
    "eie_magnitude": "EIE, 4-bit codebook, its own plain magnitude pruning",
}


def activation_storage(w: Workload) -> dict:
    """Bits that hold the model's activations (every Bidirectional layer's input sequence and states), per model.

    eie: dense values: each layer's input sequence (max frames x n_in), both directions' states (2 u) and the last
      layer's output: its sequence, or the one frame it outputs without return_sequences.
    masr: what the generated hardware holds: the sequences between layers compact (each frame as ceil(n / 32) 32-bit
      mask words + its non-zero values; a concat layer's store split in two halves, each with its own mask words),
      the first layer's input and a last layer's output sequence dense (the model's ports), the state registers, and
      the two state sequences hf / hb (max frames x u each, templates/masr/rnn_layer.h) of a layer that keeps them
      for its merge pass (sum / mul / ave, or concat into the output port: ``state_sequences``).
    compact (not built): every sequence compact, the ports too, no hf / hb; states dense.
    ``*_worst``: the allocation (every frame, every value non-zero); ``*_mean``: what the measured sequences occupy."""
    from masr_hls.analysis.eie import sequence_storage

    out = {k: 0.0 for k in ("eie_worst", "eie_mean", "masr_worst", "masr_mean", "compact_worst", "compact_mean")}
    out.update(eie_mean_values=0.0, compact_mean_values=0.0, compact_mean_mask_words=0.0)
    for i, r in enumerate(w.layers):
        q = r.sequences
        seqs = [sequence_storage(r.x_nz, r.in_bits, max_frames=q.max_frames, split=r.in_split)]
        if i == len(w.layers) - 1:  # read by a head (a compact store) or the output port: every frame, or the last one
            seqs.append(sequence_storage(r.out_nz, q.out_bits, max_frames=q.max_frames if q.return_sequences else 1, split=r.out_split))
        state = q.directions * q.units * q.state_bits
        hfb = q.directions * q.max_frames * q.units * q.state_bits
        for k, s in enumerate(seqs):
            port = r.entry if k == 0 else not r.stores_output  # the model's input port, or a last layer's output port
            out["masr_worst"] += s.dense_worst_bits if port else s.compact_worst_bits
            out["masr_mean"] += s.dense_mean_bits if port else s.compact_mean_bits
            out["eie_worst"] += s.dense_worst_bits
            out["eie_mean"] += s.dense_mean_bits
            out["eie_mean_values"] += s.dense_mean_values
            out["compact_worst"] += s.compact_worst_bits
            out["compact_mean"] += s.compact_mean_bits
            out["compact_mean_values"] += s.compact_mean_values
            out["compact_mean_mask_words"] += s.compact_mean_mask_words
        for k in ("eie_worst", "eie_mean", "compact_worst", "compact_mean", "masr_worst", "masr_mean"):
            out[k] += state
        out["eie_mean_values"] += q.directions * q.units
        out["compact_mean_values"] += q.directions * q.units
        if q.state_sequences:
            out["masr_worst"] += hfb
            out["masr_mean"] += hfb * q.frames / q.max_frames
    return out


def eie_counts(cfg, w_nz: np.ndarray, v_nz: np.ndarray) -> tuple:
    """EIE's matrix and its counts over every call of ``v_nz``."""
    from masr_hls.analysis.eie import EieMatrix, EieStats, eie_stats_over_calls

    matrix, es = EieMatrix.encode(w_nz, cfg), EieStats()
    for start in range(0, len(v_nz), EIE_CHUNK):
        es = es + eie_stats_over_calls(cfg, w_nz, v_nz[start : start + EIE_CHUNK], matrix)
    return matrix, es


def interleaved_saving(w: Workload, lanes: int) -> int:
    """Engine cycles MASR (balanced as converted by default) gains when each Bidirectional layer's two recurrent
    matrices share one engine: the shared engine's occupied cycles in the layer's interleaved schedule (docs/
    arithmetic.md, "Interleaved directions") minus the two engines' call cycles; 0 or less, summed over utterances."""
    from masr_hls.backend.config import engine_balancing
    from masr_hls.numerics.lane_balance import assign_rows, row_work
    from masr_hls.reference.mxv import Engine
    from masr_hls.reference.rnn_cell import kernel_chain_cycles
    from masr_hls.reference.rnn_layer import interleaved_schedule, sweep_trace

    saving = 0
    for layer in w.layers:
        utterances, frames = layer.x_nz.shape[:2]
        traces, separate = [], 0
        for direction in ("forward", "backward"):
            stats = {}
            for m in w.matrices:
                if m.layer == layer.name and m.direction == direction:
                    cfg = dataclasses.replace(m.config, lanes=lanes, macs_per_lane=1, mode="masr", **engine_balancing(lanes, rows=m.config.n_out))
                    bank_of_row = assign_rows(row_work(m.w_raw, "masr"), cfg.banks, "interleaved")
                    s = Engine(cfg, m.w_nz, bank_of_row).stats_per_call(m.v_nz.reshape(utterances, frames, -1))
                    order = slice(None, None, -1) if direction == "backward" else slice(None)  # the sweep's visiting order
                    stats[m.kind] = (cfg, *(a[:, order] for a in (s.front, s.issue, s.bank_cycles, s.cycles)))
            (kcfg, _, _, _, kernel), (rcfg, front, issue, bank_cycles, cycles) = stats["kernel"], stats["recurrent"]
            units = rcfg.n_in
            if rcfg.n_out != 3 * units:
                raise ValueError(f"{layer.name}: the interleaved count takes GRU reset_after=True layers (one recurrent call a step)")
            calls = np.stack([front, issue, bank_cycles])[None]  # per bank F, B and cycles
            traces.append(sweep_trace(kernel_chain_cycles(kcfg.n_in, kernel), calls, kcfg.n_in, units, lanes, layer.entry))
            separate += int(cycles.sum())
        saving += int(interleaved_schedule(*traces).occupied.sum()) - separate
    return saving


def evaluate(w: Workload, lanes: int, table) -> dict:
    """Cycles, pairs, storage and energy of every engine over the workload, per inference."""
    from masr_hls.analysis.eie import EieConfig
    from masr_hls.analysis.energy import Operand, SequenceStore, eie_layer_work, eie_work, energy, masr_layer_work, masr_store_work, masr_work
    from masr_hls.backend.config import engine_balancing
    from masr_hls.numerics.bitmask import storage_bits
    from masr_hls.numerics.lane_balance import assign_rows, row_work
    from masr_hls.reference.mxv import mxv_stats_over_calls

    out = {e: {"cycles": 0, "issued": 0, "pairs": 0, "weight_bits": 0, "energy_pj": 0.0, "store_pj": 0.0, "energy_by": {}} for e in ENGINES}

    def add_energy(r, e):
        r["energy_pj"] += e.total
        for k, v in e.pj.items():
            r["energy_by"][k] = r["energy_by"].get(k, 0.0) + v

    csc16 = 0
    detail = {v: {"busiest": 0, "idlest": 0, "stalls": 0, "broadcasts": 0, "padding": 0, "nnz": 0} for v in ("eie", "eie_magnitude")}
    for m in w.matrices:
        calls = len(m.v_nz)
        value_bits = m.config.weight_t.width
        act_bits, accum_bits = m.config.act_t.width, m.config.accum_t.width
        operand = Operand(m.source_bytes, int(m.v_nz.sum()))  # EIE holds every operand dense
        # MASR's kernel engines load their frames from the layer's compact store, charged below from the counted words
        masr_operand = dataclasses.replace(operand, compact=m.kind == "kernel")
        lor = assign_rows(row_work(m.w_raw, "masr"), lanes, "interleaved")
        bits = storage_bits(m.w_raw, value_bits, lor, lanes)
        csc16 += bits["csc"]
        # MASR as it converts by default (LaneBalancing auto), and with rows tied to lanes beside it
        balanced, static = engine_balancing(lanes, rows=m.w_raw.shape[0]), engine_balancing(lanes, "static")
        for engine, mode, balancing in (
            ("dense", "dense", balanced),
            ("weight_sparse", "weight_sparse", balanced),
            ("masr", "masr", balanced),
            ("masr_static", "masr", static),
        ):
            cfg = dataclasses.replace(m.config, lanes=lanes, macs_per_lane=1, mode=mode, **balancing)
            bank_of_row = assign_rows(row_work(m.w_raw, "masr"), cfg.banks, "interleaved")
            s = mxv_stats_over_calls(cfg, m.w_nz, m.v_nz, bank_of_row)
            r = out[engine]
            r["cycles"] += s.cycles
            r["issued"] += s.issued
            r["pairs"] += s.pairs
            r["weight_bits"] += bits["dense" if mode == "dense" else "bitmask"]
            add_energy(r, energy(masr_work(cfg, s, m.w_nz, bank_of_row, calls, masr_operand), table))
        codebook, wide = EieConfig(pes=lanes), EieConfig(pes=lanes, weight_index_bits=value_bits, codebook=False)
        ours = eie_counts(codebook, m.w_nz, m.v_nz)
        own = ours if np.array_equal(m.w_mag_nz, m.w_nz) else eie_counts(codebook, m.w_mag_nz, m.v_nz)
        # The 16-bit variant has the codebook variant's entries and cycles; its storage and energy differ.
        for engine, ecfg, (matrix, es) in (("eie", codebook, ours), ("eie_16bit", wide, ours), ("eie_magnitude", codebook, own)):
            r = out[engine]
            r["cycles"] += es.cycles
            r["issued"] += es.issued
            r["pairs"] += es.pairs
            r["weight_bits"] += matrix.storage(ecfg, value_bits).total
            add_energy(r, energy(eie_work(ecfg, es, matrix, value_bits, act_bits, accum_bits, operand), table))
            if engine in detail:
                d = detail[engine]
                d["busiest"] += es.busiest_pe
                d["idlest"] += es.idlest_pe
                d["stalls"] += es.broadcast_stalls
                d["broadcasts"] += es.broadcasts
                d["padding"] += int(matrix.entries.sum() - matrix.nnz.sum())
                d["nnz"] += int(matrix.nnz.sum())
    # interleaved directions: masr's work and energy, the recurrent engines' cycles as the shared engine occupies them
    out["masr_interleaved"].update({k: (dict(v) if isinstance(v, dict) else v) for k, v in out["masr"].items()})
    out["masr_interleaved"]["cycles"] += interleaved_saving(w, lanes)
    n = w.inferences
    for layer in w.layers:  # the layers' state writes (and MASR's merge reads); MASR's sequence stores, counted words
        q = layer.sequences
        stores = (
            SequenceStore(q.max_frames, layer.x_nz.shape[2], layer.in_bits, layer.in_split),
            SequenceStore(q.max_frames if q.return_sequences else 1, layer.out_nz.shape[2], q.out_bits, layer.out_split),
        )
        masr_store = energy(masr_store_work(layer.store_words(), *stores, layer.entry, layer.stores_output), table)
        masr_writes, eie_writes = energy(masr_layer_work(q, n), table), energy(eie_layer_work(q, n), table)
        for e in ENGINES:
            add_energy(out[e], eie_writes if e.startswith("eie") else masr_writes)
            if not e.startswith("eie"):
                add_energy(out[e], masr_store)
                out[e]["store_pj"] += masr_store.total
    act = activation_storage(w)
    for e, r in out.items():
        ideal = -(-r["pairs"] // lanes)
        r.update(
            cycles=r["cycles"] / n,
            issued=r["issued"] / n,
            pairs=r["pairs"] / n,
            ideal=ideal / n,
            utilisation=ideal / r["cycles"] if r["cycles"] else 1.0,
            energy_nj=r["energy_pj"] / n / 1000,
            store_nj=r["store_pj"] / n / 1000,  # MASR's sequence stores (part of its activation energy)
            energy_by={k: v / n / 1000 for k, v in r["energy_by"].items()},
            activation_bits=act["eie_worst"] if e.startswith("eie") else act["masr_worst"],
        )
    masr = out["masr"]
    ratios = {
        e: {
            "performance": out[e]["cycles"] / masr["cycles"],
            "energy": out[e]["energy_nj"] / masr["energy_nj"],
            "storage": out[e]["weight_bits"] / masr["weight_bits"],
        }
        for e in ("dense", "weight_sparse", "eie")
    }
    area = lambda e, masr_act: (out[e]["weight_bits"] + act["eie_worst"]) / (masr["weight_bits"] + masr_act)  # noqa: E731
    against = {
        e: {
            "performance": out[e]["cycles"] / masr["cycles"],
            "energy": out[e]["energy_nj"] / masr["energy_nj"],
            "area": area(e, act["masr_worst"]),  # weights + activations, MASR as the hardware holds them
            "weights": out[e]["weight_bits"] / masr["weight_bits"],
            "area_compact_worst": area(e, act["compact_worst"]),  # every sequence compact, no hf / hb: not built
            "area_compact_mean": (out[e]["weight_bits"] + act["eie_mean"]) / (masr["weight_bits"] + act["compact_mean"]),
        }
        for e in EIE_VARIANTS
    }
    nnz = sum(int(m.w_nz.sum()) for m in w.matrices)
    eie_detail = {
        v: {
            "broadcasts": d["broadcasts"] / n,
            "broadcast_stalls": d["stalls"] / n,
            "busiest_pe_entries": d["busiest"] / n,
            "idlest_pe_entries": d["idlest"] / n,
            "padding_entries": d["padding"],
            "nnz": d["nnz"],
            "pe_imbalance": d["busiest"] / max(1, out[v]["issued"] * n / lanes),
        }
        for v, d in detail.items()
    }
    return {
        "lanes": lanes,
        "engines": out,
        "masr_over": ratios,
        "against_eie": against,
        "activation_storage": act,
        "csc16_bits": csc16,
        "nnz": nnz,
        "eie": eie_detail["eie"],
        "eie_magnitude": eie_detail["eie_magnitude"],
    }


# --------------------------------------------------------------------------- printing


def fmt_bits(bits: float) -> str:
    return f"{bits / 1e6:.2f}M" if bits >= 1e5 else f"{bits / 1e3:.1f}k"


def format_storage(act: dict) -> list:
    return [
        "    activation storage per model (every BiGRU layer's input sequence + both directions' states + the last one's output;"
        " worst = allocation for the frames each holds, 1 for a last-state output; mean = the measured sequences):",
        f"      EIE, dense values                       worst {fmt_bits(act['eie_worst']):>8}   mean {fmt_bits(act['eie_mean']):>8}"
        f"   ({act['eie_mean_values']:,.0f} values)",
        f"      MASR as built: compact between layers, dense ports + hf/hb where kept"
        f"   worst {fmt_bits(act['masr_worst']):>8}   mean {fmt_bits(act['masr_mean']):>8}",
        f"      MASR all compact, no hf/hb (not built): bitmask + packed non-zeros"
        f"   worst {fmt_bits(act['compact_worst'])}   mean {fmt_bits(act['compact_mean'])}"
        f"   ({act['compact_mean_values']:,.0f} non-zero values + {act['compact_mean_mask_words']:,.0f} mask words)",
    ]


def format_workload(w: Workload, results: list) -> str:
    lines = [
        f"=== {w.title} ===",
        f"    {w.origin}",
        "    activation density on real speech (x: layer input; h: state; pairs: non-zero pairs / non-zero weights met):",
    ]
    for d in w.densities:
        lines.append(
            f"      {d['layer']:<8} {d['direction']:<8} x {d['x_density']:6.1%}   h {d['h_density']:6.1%}   "
            f"pairs {d['pairs_density']:6.1%}   dead units {d['dead_units']}/{d['units']}"
        )
    nnz = sum(int(m.w_nz.sum()) for m in w.matrices)
    size = sum(m.w_nz.size for m in w.matrices)
    lines.append(f"    weights: {nnz:,} non-zero of {size:,} in the recurrent layers ({nnz / size:.1%})")
    if w.pruning:
        lines.append(f"    {w.pruning}")
    if results and w.layers:
        lines += format_storage(results[0]["activation_storage"])
    head = (
        f"    {'lanes':>5} {'engine':<14} {'cycles/inf':>11} {'util':>6} {'weight bits':>11} {'act bits':>9} {'energy nJ':>10}"
        f"   {'MASR over it: perf':>18} {'energy':>7} {'weights':>7} {'w+act':>7}"
    )
    lines += [head, "    " + "-" * (len(head) - 4)]
    for r in results:
        for e in ENGINES:
            x = r["engines"][e]
            tail = ""
            if e in r["against_eie"]:
                o = r["against_eie"][e]
                tail = f"   {o['performance']:>17.2f}x {o['energy']:>6.2f}x {o['weights']:>6.2f}x {o['area']:>6.2f}x"
            elif e in r["masr_over"]:
                o = r["masr_over"][e]
                tail = f"   {o['performance']:>17.2f}x {o['energy']:>6.2f}x {o['storage']:>6.2f}x"
            lines.append(
                f"    {r['lanes']:>5} {e:<14} {x['cycles']:>11,.0f} {x['utilisation']:>6.1%} "
                f"{fmt_bits(x['weight_bits']):>11} {fmt_bits(x['activation_bits']):>9} {x['energy_nj']:>10.1f}{tail}"
            )
        for v in ("eie", "eie_magnitude"):
            q = r[v]
            lines.append(
                f"    {'':>5} {v} detail: {q['broadcasts']:,.0f} broadcasts/inf, {q['broadcast_stalls']:,.0f} stall cycles, "
                f"busiest PE {q['busiest_pe_entries']:,.0f} entries vs mean {r['engines'][v]['issued'] / r['lanes']:,.0f} "
                f"({q['pe_imbalance']:.2f}x); padding entries {q['padding_entries']:,} ({q['padding_entries'] / max(1, q['nnz']):.1%} of nnz)"
            )
        lines.append(f"    {'':>5} CSC at 16-bit values (bitmask.storage_bits' csc, narrow pointers): {fmt_bits(r['csc16_bits'])}")
        for e in ("masr", "eie", "eie_16bit", "eie_magnitude"):
            x = r["engines"][e]
            stores = f" (sequence stores {x['store_nj']:,.1f} of the activation)" if x["store_nj"] else ""
            lines.append(f"    {'':>5} {e} energy nJ: " + ", ".join(f"{k} {v:,.1f}" for k, v in x["energy_by"].items() if v) + stores)
    return "\n".join(lines)


def format_summary(all_results: dict) -> str:
    p = PAPER
    names = ("EIE 4-bit codebook", "EIE 16-bit weights", "EIE magnitude-pruned")
    groups = "".join(f" {name:<21}" for name in names)
    head = f"{'model':<11} {'lanes':>5}" + f" {'perf':>7}{'energy':>7}{'area':>7}" * 3 + f"   {'MASR util':>9} {'static':>7} {'EIE util':>8}"
    lines = [
        "headline: MASR over each EIE variant at equal MACs: perf = EIE cycles / MASR cycles; energy = EIE nJ / MASR nJ;",
        "area = (EIE weight + activation bits) / (MASR weight + activation bits), MASR's activations as its hardware holds them;",
        "MASR balances lanes as it converts by default (LaneBalancing auto: two lanes per bank from 8 lanes up, 4 rows a lane);"
        " static: rows tied to lanes",
        f"paper (Gupta et al., PACT 2019), MASR over EIE: {p['performance']}x performance, {p['energy']:.0f}x energy, {p['area']:.0f}x area",
        f"{'':<17}{groups}".rstrip(),
        head,
        "-" * len(head),
    ]
    for name, results in all_results.items():
        for r in results:
            cells = "".join(f" {o['performance']:>6.2f}x{o['energy']:>6.2f}x{o['area']:>6.2f}x" for o in (r["against_eie"][v] for v in EIE_VARIANTS))
            lines.append(
                f"{name:<11} {r['lanes']:>5}{cells}   {r['engines']['masr']['utilisation']:>9.1%} "
                f"{r['engines']['masr_static']['utilisation']:>7.1%} {r['engines']['eie']['utilisation']:>8.1%}"
            )
    lines.append(f"{'paper':<11} {'':>5} {p['performance']:>6.2f}x{p['energy']:>6.2f}x{p['area']:>6.2f}x  (against EIE as published)")
    lines += [
        "",
        "interleaved directions (Interleave: true; counted, not built in the HLS structure or the RTL twin): each layer's two",
        "recurrent matrices on one engine, its occupied cycles; perf over the EIE 4-bit codebook and utilisation, beside masr's",
        f"{'model':<11} {'lanes':>5} {'perf':>7} {'util':>7}   {'masr perf':>9} {'util':>7}",
    ]
    for name, results in all_results.items():
        for r in results:
            e, a, b = r["engines"]["eie"], r["engines"]["masr_interleaved"], r["engines"]["masr"]
            lines.append(
                f"{name:<11} {r['lanes']:>5} {e['cycles'] / a['cycles']:>6.2f}x {a['utilisation']:>7.1%}   "
                f"{e['cycles'] / b['cycles']:>8.2f}x {b['utilisation']:>7.1%}"
            )
    head2 = f"{'model':<11} {'lanes':>5}" + f" {'weights':>8}{'built':>7}{'c.worst':>8}{'c.mean':>7}" * 3
    lines += [
        "",
        "storage ratios, EIE over MASR: weights only; weights + activations with MASR as built (compact between layers); and with",
        "every sequence compact and no hf / hb (not built), allocated for the worst case (c.worst) or holding the measured mean (c.mean)",
        (f"{'':<17}" + "".join(f" {name:<30}" for name in names)).rstrip(),
        head2,
        "-" * len(head2),
    ]
    for name, results in all_results.items():
        for r in results:
            cells = "".join(
                f" {o['weights']:>7.2f}x{o['area']:>6.2f}x{o['area_compact_worst']:>7.2f}x{o['area_compact_mean']:>6.2f}x"
                for o in (r["against_eie"][v] for v in EIE_VARIANTS)
            )
            lines.append(f"{name:<11} {r['lanes']:>5}{cells}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def run(workloads: list, lanes_list: list, log=print) -> dict:
    from tqdm import tqdm

    from masr_hls.analysis.energy import load_table

    table = load_table()
    results = {}
    for w in workloads:
        t0 = time.perf_counter()
        results[w.name] = [evaluate(w, lanes, table) for lanes in tqdm(lanes_list, desc=f"{w.name}: engines", leave=False)]
        log(format_workload(w, results[w.name]) + f"\n    ({time.perf_counter() - t0:.1f} s)\n")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lanes", type=parse_lanes, default=[4, 16, 64], help="comma-separated lane (= EIE PE) counts")
    parser.add_argument("--samples-kws", type=int, default=300, help="held-out clips through the kws_speech reference")
    parser.add_argument("--samples-ds2", type=int, default=100, help="held-out clips through the ds2_speech reference")
    parser.add_argument("--samples-digits", type=int, default=20, help="held-out connected-digit utterances (T = 300 frames)")
    parser.add_argument("--paper-utterances", type=int, default=2, help="drawn utterances for the paper-scale model")
    parser.add_argument("--jobs", type=int, default=2, help="processes for the numpy reference")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="FILE", help="write every figure to FILE")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    kws, _ = trained_workload("kws_speech", args.samples_kws, args.jobs, args.seed, print)
    ds2, rates = trained_workload("ds2_speech", args.samples_ds2, args.jobs, args.seed, print)
    digits, _ = trained_workload("digits_ctc", args.samples_digits, args.jobs, args.seed, print)
    paper = paper_workload(rates, args.seed, math.lcm(*args.lanes), utterances=args.paper_utterances)
    print(f"[speech] activations recorded in {time.perf_counter() - t0:.0f} s\n", flush=True)
    results = run([kws, ds2, digits, paper], args.lanes)
    print(format_summary(results))
    seconds = time.perf_counter() - t0
    print(f"\ntotal run time {seconds:.0f} s")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "lanes": args.lanes,
                    "paper": PAPER,
                    "results": results,
                    "seconds": seconds,
                    "densities": {w.name: w.densities for w in (kws, ds2, digits, paper)},
                },
                indent=1,
                default=float,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
