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

Engines, all with P = lanes MACs (one MAC per lane or PE) and the same rows-to-lanes (row r on lane
r mod P, as EIE interleaves its PEs and as the projects' configs set LaneAssignment):
  dense          every weight is a MAC           masr_hls.reference.mxv.mxv_stats_over_calls
  weight_sparse  every non-zero weight           (the same datapath, mode weight_sparse)
  masr           every non-zero weight meeting a non-zero activation (bitmask AND)
  eie            EIE (ISCA 2016) as masr_hls.analysis.eie models it: CSC with 4-bit codebook and
                 relative row indices, padding entries, non-zero activations broadcast one per
                 cycle, activation queues of depth 8
Cycles are engine cycles per inference (every step of every direction: kernel and recurrent
engine calls, summed; the GRU's element-wise stage is the same for all four and left out).
Utilisation = ceil(non-zero pairs / P) / cycles.  Weight bits: dense = every weight at 16 bits;
weight_sparse and masr = 1 mask bit per weight + non-zero values (bitmask.storage_bits); eie =
its CSC entries (4-bit codebook index + 4-bit row index, padding included) + 16-bit column
pointers per PE (EieMatrix.storage).  CSC at 16-bit values (bitmask.storage_bits' csc) is printed
beside, the same encoding without weight sharing.  Energy: masr_hls.analysis.energy, accesses
times Horowitz ISSCC 2014 45 nm per-access energies (energy_45nm.yaml).

The paper's figures (MASR over EIE: 1.6x performance, 3x energy, 2x area) are printed beside the
measured ratios.  bench/README.md ("MASR against EIE") explains where they differ.
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

ENGINES = ("dense", "weight_sparse", "masr", "eie")
PAPER = {"performance": 1.6, "energy": 3.0, "area": 2.0}  # MASR over EIE, Gupta et al., PACT 2019
TRAINED = {  # name -> (frames, mel bands) of its recipe
    "kws_speech": (25, 16),
    "ds2_speech": (49, 20),
}


@dataclass
class Matrix:
    """One engine matrix of one direction, with the non-zero pattern of its input at every call."""

    layer: str
    direction: str  # forward | backward
    kind: str  # kernel | recurrent
    w_raw: np.ndarray  # (rows, n_in), y = W v
    config: object  # MxvConfig (lanes and mode are replaced per run)
    v_nz: np.ndarray  # (calls, n_in) bool
    w_nz: np.ndarray = field(init=False)

    def __post_init__(self):
        self.w_nz = self.w_raw != 0


@dataclass
class Workload:
    name: str
    title: str
    matrices: list
    inferences: int  # the calls of v_nz cover this many inferences
    densities: list  # per layer and direction: input, state and pairs densities (printed)
    origin: str


# --------------------------------------------------------------------------- real speech through the reference

_HW = None  # the model a forked worker records with


def _record_one(x):
    """Per Bidirectional layer: (input non-zeros (T, n_in), forward states (T, u), backward states (T, u), realigned)."""
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
        out.append((h != 0, hf != 0, hb != 0))
        if not layer.return_sequences:
            hf, hb = hf[-1:], hb[:1]
        h = merge(layer.merge, hf, layer.fwd.state_t.frac, hb, layer.bwd.state_t.frac)
    return out


def record(hw, x: np.ndarray, jobs: int, desc: str) -> list:
    """_record_one over every clip, ``jobs`` processes; returns per layer (x_nz, hf_nz, hb_nz) stacked over clips."""
    from tqdm import tqdm

    global _HW
    _HW = hw
    if jobs > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            runs = list(tqdm(pool.imap(_record_one, x, chunksize=4), total=len(x), desc=desc, leave=False))
    else:
        runs = [_record_one(clip) for clip in tqdm(x, desc=desc, leave=False)]
    return [tuple(np.stack([r[i][j] for r in runs]) for j in range(3)) for i in range(len(runs[0]))]


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
    from masr_hls.training.speech_data import load_kws

    path = ROOT / "build" / name / "model.keras"
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
    _, _, x_test, y_test, meta = load_kws(cache_dir=ROOT / "build" / "speech_cache", frames=frames, n_mels=mels)
    pick = np.sort(np.random.default_rng(seed).permutation(len(x_test))[:samples])
    x = x_test[pick]
    hm = masr_hls.convert_from_keras_model(
        model, hls_config=str(ROOT / "projects" / name / "config.yml"), output_dir=ROOT / "build" / "headline" / name, project_name=name
    )
    hw = masr_hls.masr_model(hm)
    recorded = record(hw, x, jobs, f"{name}: numpy reference")
    matrices, densities, rates = [], [], {"input": (x != 0).mean(axis=(0, 1)), "layers": []}
    bidirectional = [layer for layer in hw.layers if layer.kind == "bidirectional"]
    for layer, (x_nz, hf_nz, hb_nz) in zip(bidirectional, recorded):
        kin, fin, bin_ = engine_inputs(x_nz, hf_nz, hb_nz)
        mine = []
        for direction, cell, w, rin in (("forward", layer.fwd, layer.wf, fin), ("backward", layer.bwd, layer.wb, bin_)):
            mine.append(Matrix(layer.name, direction, "kernel", np.asarray(w.kernel), cell.kernel_config(), kin))
            mine.append(Matrix(layer.name, direction, "recurrent", np.asarray(w.recurrent), cell.recurrent_config(), rin))
        matrices += mine
        densities += density_rows(layer.name, x_nz, hf_nz, hb_nz, mine)
        rates["layers"].append((hf_nz.mean(axis=(0, 1)), hb_nz.mean(axis=(0, 1))))
    title = f"{name}: {model.count_params():,} parameters, {len(bidirectional)} BiGRU layer(s), T={frames} x {mels} bands"
    origin += (
        f"; {len(x)} held-out clips of {len(x_test)} (seeded choice; voices never heard in training), input density {float((x != 0).mean()):.1%}"
    )
    return Workload(name, title, matrices, len(x), densities, origin), rates


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
    matrices, densities = [], []
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
                w = (kernel * magnitude_mask(kernel, sparsity, lanes=prune_lanes)).T
                config = cell.kernel_config() if kind == "kernel" else cell.recurrent_config()
                mine.append(Matrix(name, direction, kind, w, config, v))
        matrices += mine
        densities += density_rows(name, x_nz, *states, mine)
        x_nz = np.concatenate(states, axis=-1)
        n_in = 2 * units
    title = f"MASR-paper scale: {layers} x BiGRU({units}, concat), T={frames} x {features} features, {sparsity:.0%} pruned"
    origin = (
        f"random weights pruned by magnitude to {sparsity:.0%}, lane-balanced over {prune_lanes} lanes; activation "
        f"masks Bernoulli with per-unit rates drawn from ds2_speech's measured rates ({utterances} utterance(s), seed {seed})"
    )
    return Workload("paper", title, matrices, utterances, densities, origin)


# --------------------------------------------------------------------------- the four engines


EIE_CHUNK = 256  # calls per EIE evaluation (its work array is calls x activations x PEs)


def evaluate(w: Workload, lanes: int, table) -> dict:
    """Cycles, pairs, storage and energy of every engine over the workload, per inference."""
    from masr_hls.analysis.eie import EieConfig, EieMatrix, EieStats, eie_stats_over_calls
    from masr_hls.analysis.energy import eie_work, energy, masr_work
    from masr_hls.numerics.bitmask import storage_bits
    from masr_hls.numerics.lane_balance import assign_rows, row_work
    from masr_hls.reference.mxv import mxv_stats_over_calls

    out = {e: {"cycles": 0, "issued": 0, "pairs": 0, "weight_bits": 0, "energy_pj": 0.0, "energy_by": {}} for e in ENGINES}
    csc16 = busiest = idlest = stalls = broadcasts = padding = 0
    for m in w.matrices:
        calls = len(m.v_nz)
        value_bits = m.config.weight_t.width
        lor = assign_rows(row_work(m.w_raw, "masr"), lanes, "interleaved")
        bits = storage_bits(m.w_raw, value_bits, lor, lanes)
        csc16 += bits["csc"]
        for mode in ("dense", "weight_sparse", "masr"):
            cfg = dataclasses.replace(m.config, lanes=lanes, macs_per_lane=1, mode=mode)
            s = mxv_stats_over_calls(cfg, m.w_nz, m.v_nz, lor)
            e = energy(masr_work(cfg, s, m.w_nz, lor, calls), table)
            r = out[mode]
            r["cycles"] += s.cycles
            r["issued"] += s.issued
            r["pairs"] += s.pairs
            r["weight_bits"] += bits["dense" if mode == "dense" else "bitmask"]
            r["energy_pj"] += e.total
            for k, v in e.pj.items():
                r["energy_by"][k] = r["energy_by"].get(k, 0.0) + v
        ecfg = EieConfig(pes=lanes)
        matrix = EieMatrix.encode(m.w_nz, ecfg)
        es = EieStats()
        for start in range(0, calls, EIE_CHUNK):
            es = es + eie_stats_over_calls(ecfg, m.w_nz, m.v_nz[start : start + EIE_CHUNK], matrix)
        e = energy(eie_work(ecfg, es, matrix, weight_bits=value_bits, act_bits=m.config.act_t.width, accum_bits=m.config.accum_t.width), table)
        r = out["eie"]
        r["cycles"] += es.cycles
        r["issued"] += es.issued
        r["pairs"] += es.pairs
        r["weight_bits"] += matrix.storage(ecfg).total
        r["energy_pj"] += e.total
        for k, v in e.pj.items():
            r["energy_by"][k] = r["energy_by"].get(k, 0.0) + v
        busiest, idlest = busiest + es.busiest_pe, idlest + es.idlest_pe
        stalls, broadcasts = stalls + es.broadcast_stalls, broadcasts + es.broadcasts
        padding += int(matrix.entries.sum() - matrix.nnz.sum())
    n = w.inferences
    for r in out.values():
        ideal = -(-r["pairs"] // lanes)
        r.update(
            cycles=r["cycles"] / n,
            issued=r["issued"] / n,
            pairs=r["pairs"] / n,
            ideal=ideal / n,
            utilisation=ideal / r["cycles"] if r["cycles"] else 1.0,
            energy_nj=r["energy_pj"] / n / 1000,
            energy_by={k: v / n / 1000 for k, v in r["energy_by"].items()},
        )
    masr = out["masr"]
    ratios = {
        e: {
            "performance": out[e]["cycles"] / masr["cycles"],
            "energy": out[e]["energy_nj"] / masr["energy_nj"],
            "storage": out[e]["weight_bits"] / masr["weight_bits"],
        }
        for e in ENGINES
        if e != "masr"
    }
    nnz = sum(int(m.w_nz.sum()) for m in w.matrices)
    return {
        "lanes": lanes,
        "engines": out,
        "masr_over": ratios,
        "csc16_bits": csc16,
        "eie": {
            "broadcasts": broadcasts / n,
            "broadcast_stalls": stalls / n,
            "busiest_pe_entries": busiest / n,
            "idlest_pe_entries": idlest / n,
            "padding_entries": padding,
            "nnz": nnz,
            "pe_imbalance": busiest / max(1, out["eie"]["issued"] * n / lanes),
        },
    }


# --------------------------------------------------------------------------- printing


def fmt_bits(bits: float) -> str:
    return f"{bits / 1e6:.2f}M" if bits >= 1e5 else f"{bits / 1e3:.1f}k"


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
    head = (
        f"    {'lanes':>5} {'engine':<14} {'cycles/inf':>11} {'util':>6} {'weight bits':>11} {'energy nJ':>10}"
        f"   {'MASR over it: perf':>18} {'energy':>7} {'storage':>7}"
    )
    lines += [head, "    " + "-" * (len(head) - 4)]
    for r in results:
        for e in ENGINES:
            x = r["engines"][e]
            ratio = r["masr_over"].get(e)
            tail = "" if ratio is None else f"   {ratio['performance']:>17.2f}x {ratio['energy']:>6.2f}x {ratio['storage']:>6.2f}x"
            lines.append(
                f"    {r['lanes']:>5} {e:<14} {x['cycles']:>11,.0f} {x['utilisation']:>6.1%} "
                f"{fmt_bits(x['weight_bits']):>11} {x['energy_nj']:>10.1f}{tail}"
            )
        q = r["eie"]
        lines.append(
            f"    {'':>5} EIE detail: {q['broadcasts']:,.0f} broadcasts/inf, {q['broadcast_stalls']:,.0f} stall cycles, "
            f"busiest PE {q['busiest_pe_entries']:,.0f} entries vs mean {r['engines']['eie']['issued'] / r['lanes']:,.0f} "
            f"({q['pe_imbalance']:.2f}x); padding entries {q['padding_entries']:,} "
            f"({q['padding_entries'] / max(1, q['nnz']):.1%} of nnz); CSC at 16-bit values {fmt_bits(r['csc16_bits'])}"
        )
        for e in ("masr", "eie"):
            by = r["engines"][e]["energy_by"]
            lines.append(f"    {'':>5} {e} energy nJ: " + ", ".join(f"{k} {v:,.1f}" for k, v in by.items() if v))
    return "\n".join(lines)


def format_summary(all_results: dict) -> str:
    p = PAPER
    head = (
        f"{'model':<11} {'lanes':>5}  {'MASR over EIE: perf':>19} {'energy':>7} {'storage':>7}   "
        f"{'over weight_sparse':>18} {'over dense':>17}   {'MASR util':>9} {'EIE util':>8}"
    )
    lines = [
        "headline: MASR's ratio at equal MACs (perf = cycles ratio; energy; storage = weight bits ratio)",
        f"paper (Gupta et al., PACT 2019), MASR over EIE: {p['performance']}x performance, {p['energy']:.0f}x energy, {p['area']:.0f}x area",
        head,
        "-" * len(head),
    ]
    for name, results in all_results.items():
        for r in results:
            o = r["masr_over"]
            lines.append(
                f"{name:<11} {r['lanes']:>5}  {o['eie']['performance']:>18.2f}x {o['eie']['energy']:>6.2f}x "
                f"{o['eie']['storage']:>6.2f}x   {o['weight_sparse']['performance']:>8.2f}x /{o['weight_sparse']['energy']:>6.2f}x E "
                f"{o['dense']['performance']:>7.2f}x /{o['dense']['energy']:>6.2f}x E   "
                f"{r['engines']['masr']['utilisation']:>9.1%} {r['engines']['eie']['utilisation']:>8.1%}"
            )
    lines.append(f"{'paper':<11} {'':>5}  {p['performance']:>18.2f}x {p['energy']:>6.2f}x {p['area']:>6.2f}x (area)")
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
    parser.add_argument("--paper-utterances", type=int, default=2, help="drawn utterances for the paper-scale model")
    parser.add_argument("--jobs", type=int, default=2, help="processes for the numpy reference")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="FILE", help="write every figure to FILE")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    kws, _ = trained_workload("kws_speech", args.samples_kws, args.jobs, args.seed, print)
    ds2, rates = trained_workload("ds2_speech", args.samples_ds2, args.jobs, args.seed, print)
    paper = paper_workload(rates, args.seed, math.lcm(*args.lanes), utterances=args.paper_utterances)
    print(f"[speech] activations recorded in {time.perf_counter() - t0:.0f} s\n", flush=True)
    results = run([kws, ds2, paper], args.lanes)
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
                    "densities": {w.name: w.densities for w in (kws, ds2, paper)},
                },
                indent=1,
                default=float,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
