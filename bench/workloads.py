"""MASR against dense and weight-only-sparse (EIE-like) engines on speech RNN workloads, side by side.

    python bench/workloads.py [--quick] [--workloads kws,ds2,paper] [--lanes 1,4,16,64]
                              [--json FILE] [--seed 0] [--hls4ml]

Workloads (all Bidirectional ReLU-GRU stacks, reset_after=True, 16-bit fixed point):
  kws    keyword spotting, as projects/kws_bigru: BiGRU(24, merge sum) -> Dense(12), T=25 x 20 features,
         80% of weights pruned
  ds2    DeepSpeech2-small: 3 x BiGRU(256, merge sum), T=100 x 161 features, 90% pruned
  paper  MASR-paper scale: 5 x BiGRU(800, merge sum), T=50 x 161 features, 90% pruned

Weights are Keras-initialised (untrained), then magnitude-pruned in one shot with lane-balanced masks:
every interleaved lane (row r on lane r mod L) keeps the same number of non-zeros, for L = the least
common multiple of the lane counts, so the pruning is balanced for every lane count measured.  The
converter uses the matching "interleaved" row-to-lane strategy.  Inputs are one synthetic speech-like
utterance from masr_hls.flow.synthetic_sequences (spectro-temporal patterns in noise, rectified above a
floor, so about half the features are zero, as log-energies above a noise floor are).

How the figures are made: each workload is converted with masr_hls.convert_from_keras_model, and the
project's bit-exact numpy reference (rnn_layer.sweep) runs once to record which inputs every engine sees
at every step.  The values do not depend on the engine mode or the lane count, so the cycle model of
masr_hls.reference.mxv.mxv_stats_over_calls then gives the cycles for every (mode, lanes) over all steps at once, with the lanes
re-assigned per lane count as the converter would.  The script checks that this equals the reference's
own counts for the converted configuration, and the C simulation's counts for every workload.
The Dense head of kws is not part of the figures (they cover the recurrent layers only).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

MODES = ("dense", "weight_sparse", "masr")
SPEEDUP_TARGET = 1.6  # MASR over weight-only-sparse at equal MACs, where activation density <= 50%
UTILISATION_TARGET = 0.90  # 16 lanes, DeepSpeech2-small, lane-balanced pruning
STORAGE_TARGET = 0.10  # bitmask storage within 10% of nnz x value bits + 1 bit per weight


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    units: tuple[int, ...]  # one Bidirectional GRU layer per entry
    frames: int
    features: int
    sparsity: float
    head: int = 0  # classes of a Dense softmax head on the final state (0: none, sequence output)
    convert_lanes: int = 16  # the converted (and reference-checked) configuration
    csim: bool = True  # also C-simulate the converted configuration and compare every count
    precision: dict = field(default_factory=dict)


# DeepSpeech2-style stacks keep larger states: one more integer bit than the default 16-bit types.
WIDE_STATE = {"state": "ap_fixed<16,7,AP_RND,AP_SAT>", "cand": "ap_fixed<16,7,AP_RND,AP_SAT>", "output": "ap_fixed<16,7,AP_RND,AP_SAT>"}

WORKLOADS = {
    "kws": Workload("kws", "keyword spotting BiGRU", (24,), 25, 20, 0.8, head=12, convert_lanes=4),
    "ds2": Workload("ds2", "DeepSpeech2-small", (256, 256, 256), 100, 161, 0.9, precision=WIDE_STATE),
    "paper": Workload("paper", "MASR-paper scale", (800,) * 5, 50, 161, 0.9, precision=WIDE_STATE),
}
QUICK = {
    "kws": WORKLOADS["kws"],
    "ds2": dataclasses.replace(
        WORKLOADS["ds2"], title="DeepSpeech2-small (quick: 2 x 48 units, T=20)", units=(48, 48), frames=20, features=32, csim=False
    ),  # one compile (kws) keeps it quick
    "paper": dataclasses.replace(
        WORKLOADS["paper"], title="MASR-paper scale (quick: 2 x 96 units, T=10)", units=(96, 96), frames=10, features=40, csim=False
    ),
}


# --------------------------------------------------------------------------- model, input, conversion


def build_model(w: Workload, seed: int, prune_lanes: int):
    import keras

    from masr_hls.training.pruning import prune_to_sparsity

    keras.utils.set_random_seed(seed)
    L = keras.layers
    layers = [keras.Input((w.frames, w.features))]
    for i, units in enumerate(w.units):
        last = i == len(w.units) - 1
        gru = L.GRU(units, activation="relu", return_sequences=not (last and w.head))
        layers.append(L.Bidirectional(gru, merge_mode="sum", name=f"bigru{i + 1}"))
    if w.head:
        layers.append(L.Dense(w.head, activation="softmax", name="head"))
    model = keras.Sequential(layers, name=w.name)
    return prune_to_sparsity(model, w.sparsity, lanes=prune_lanes)


def make_input(w: Workload, seed: int) -> np.ndarray:
    from masr_hls.flow import synthetic_sequences

    x, _ = synthetic_sequences(np.random.default_rng(seed), 1, w.frames, w.features, classes=12)
    return x


def hls_config(w: Workload, lanes: int, mode: str = "masr") -> dict:
    return {"Model": {"Lanes": lanes, "Mode": mode, "LaneAssignment": "interleaved", "Precision": dict(w.precision)}}


# --------------------------------------------------------------------------- recording the engines' inputs


@dataclass
class Engine:
    """One matrix of one direction: its weights and the non-zero pattern of its input at every step."""

    w_raw: np.ndarray  # (rows, n_in) raw weights, y = W v
    value_bits: int
    v_nz: np.ndarray  # (steps, n_in) bool
    w_nz: np.ndarray = field(init=False)
    pairs_per_row: np.ndarray = field(init=False)  # (steps, rows): the same for every mode and lane count

    def __post_init__(self):
        self.w_nz = self.w_raw != 0
        # float matmul is exact here (counts far below 2**53) and uses BLAS
        self.pairs_per_row = np.rint(self.v_nz.astype(np.float64) @ self.w_nz.T.astype(np.float64)).astype(np.int64)


@dataclass
class Direction:
    layer: str
    name: str  # forward | backward
    cell: object  # CellConfig as converted
    kernel: Engine
    recurrent: Engine
    steps: int
    reference: object  # StepStats of the reference sweep at the converted configuration


@dataclass
class Layer:
    name: str
    frames: int
    n_in: int
    n_out: int
    out_frames: int
    strategy: str
    directions: list
    merge: object  # the layer's MergeConfig
    stores_output: bool  # another layer reads its outputs (concat: the sweeps write their halves, no merge pass)


def record(hw, x, progress) -> list[Layer]:
    """Run the numpy reference once, layer by layer, keeping every engine's input pattern."""
    from masr_hls.backend.config import layer_settings
    from masr_hls.reference.rnn_layer import merge, sweep_batch

    h = hw.quantize_input(x)[0]
    layers = []
    for index, layer in enumerate(hw.layers):
        if layer.kind == "dense":
            continue  # the head is outside the figures
        if layer.kind != "bidirectional":
            raise ValueError(f"{layer.name}: this benchmark measures Bidirectional layers only")
        directions, states = [], []
        for name, cell, w in (("forward", layer.fwd, layer.wf), ("backward", layer.bwd, layer.wb)):
            if cell.kind != "gru" or not cell.reset_after:
                raise ValueError(f"{layer.name}: this benchmark measures GRUs with reset_after=True only")
            backward = name == "backward"
            # out[t]: the state after frame t; the first layer's sweeps wait for frame 0's encoding on entry
            (out,), (stats,) = sweep_batch(cell, w, h[None], backward=backward, realign=True, entry=index == 0)
            # The state each step reads: zeros at the first step, then the state the step before produced
            # (the previous frame's forward, the next frame's backward).
            # Rows in visiting order, so that step i's two engine calls sit in row i.
            previous = out[:0:-1] if backward else out[:-1]
            h_in = np.vstack([np.zeros((1, cell.n_units), np.int64), previous])
            x_in = h[::-1] if backward else h
            directions.append(
                Direction(
                    layer.name,
                    name,
                    cell,
                    Engine(w.kernel, cell.weight_t.width, x_in != 0),
                    Engine(w.recurrent, cell.recurrent_weight_t.width, h_in != 0),
                    len(h),
                    stats,
                )
            )
            states.append(out)
            progress(1)
        layers.append(
            Layer(
                layer.name,
                len(h),
                layer.fwd.n_in,
                layer.n_out,
                layer.out_frames(len(h)),
                layer_settings(hw.config, layer.name).lane_assignment,
                directions,
                layer.merge,
                layer.stores_output,
            )
        )
        hf, hb = states
        if not layer.return_sequences:
            hf, hb = hf[-1:], hb[:1]
        h = merge(layer.merge, hf, layer.fwd.state_t.frac, hb, layer.bwd.state_t.frac)
    return layers


# --------------------------------------------------------------------------- the cycle model for every mode and lane count


def engine_stats(e: Engine, cfg, lane_of_row: np.ndarray):
    """masr_hls.reference.mxv.mxv_stats of every step, summed over the steps (as the reference adds them up)."""
    from masr_hls.reference.mxv import mxv_stats_over_calls

    return mxv_stats_over_calls(cfg, e.w_nz, e.v_nz, lane_of_row)


def engine_call_cycles(e: Engine, cfg, lane_of_row: np.ndarray) -> np.ndarray:
    """Cycles of each engine call (one per row of v, in visiting order): busiest lane + done."""
    from masr_hls.reference.mxv import mxv_stats_per_call

    return np.asarray(mxv_stats_per_call(cfg, e.w_nz, e.v_nz, lane_of_row).cycles)


def lane_of_row(e: Engine, mode: str, lanes: int, strategy: str) -> np.ndarray:
    """Rows to lanes (or banks) as CellWeights.encode assigns them for this mode and lane (or bank) count."""
    from masr_hls.numerics.lane_balance import assign_rows, row_work

    return assign_rows(row_work(e.w_raw, mode), lanes, strategy)


def direction_stats(d: Direction, mode: str, lanes: int, strategy: str, static: bool = False, entry: bool = False):
    """The StepStats rnn_layer.sweep would return for this direction on this engine (``entry``: the model's first
    layer, whose sweeps wait for frame 0's encoding on entry)."""
    from masr_hls.backend.config import AUTO, engine_balancing
    from masr_hls.reference.rnn_cell import StepStats, kernel_chain_cycles, recurrent_call_cycles
    from masr_hls.reference.rnn_layer import entry_cycles, sweep_cycles

    rows = max(d.kernel.w_raw.shape[0], d.recurrent.w_raw.shape[0])
    cell = dataclasses.replace(d.cell, lanes=lanes, mode=mode, **engine_balancing(lanes, "static" if static else AUTO, rows=rows))
    kc, rc = cell.kernel_config(), cell.recurrent_config()
    banks = kc.banks
    k_lanes, r_lanes = lane_of_row(d.kernel, mode, banks, strategy), lane_of_row(d.recurrent, mode, banks, strategy)
    k, r = engine_stats(d.kernel, kc, k_lanes), engine_stats(d.recurrent, rc, r_lanes)
    # per step (rnn_cell.h): the recurrent chain beside the next frame's kernel chain
    kx = kernel_chain_cycles(cell.n_in, engine_call_cycles(d.kernel, kc, k_lanes))
    rh = recurrent_call_cycles(cell.n_units, cell.lanes, engine_call_cycles(d.recurrent, rc, r_lanes))
    steps = [StepStats(None, None, int(rh[t]), 1, int(kx[t])) for t in range(d.steps)]
    return StepStats(k, r, sweep_cycles(steps, entry_cycles(cell.n_in, entry)), d.steps)


def layer_cycles(layer: Layer, per_direction, lanes: int) -> int:
    """rnn_layer.bidirectional's count at ``lanes``: both sweeps at the same time, then what follows them."""
    from masr_hls.reference.rnn_layer import after_sweeps_cycles

    merge = dataclasses.replace(layer.merge, lanes=lanes)
    units = (d.cell.n_units for d in layer.directions)
    return max(s.cycles for s in per_direction) + after_sweeps_cycles(merge, *units, layer.out_frames, layer.stores_output)


MXV_FIELDS = ("pairs", "issued", "cycles", "busiest_lane", "idlest_lane")


def step_dict(s) -> dict:
    """A StepStats as plain numbers (the fields the C simulation reports)."""
    return {
        "kernel": dict(zip(MXV_FIELDS, s.kernel.as_tuple())),
        "recurrent": dict(zip(MXV_FIELDS, s.recurrent.as_tuple())),
        "cycles": s.cycles,
        "steps": s.steps,
    }


def evaluate(layers: list[Layer], mode: str, lanes: int) -> dict:
    from masr_hls.reference.mxv import ideal_cycles

    macs = lanes * layers[0].directions[0].cell.macs_per_lane
    out = {"lanes": lanes, "mode": mode, "macs": macs, "layers": []}
    pairs = issued = engine = total = 0
    for i, layer in enumerate(layers):
        stats = [direction_stats(d, mode, lanes, layer.strategy, entry=i == 0) for d in layer.directions]
        cycles = layer_cycles(layer, stats, lanes)
        out["layers"].append({"name": layer.name, "cycles": cycles, **{d.name: step_dict(s) for d, s in zip(layer.directions, stats)}})
        pairs += sum(s.kernel.pairs + s.recurrent.pairs for s in stats)
        issued += sum(s.kernel.issued + s.recurrent.issued for s in stats)
        engine += sum(s.kernel.cycles + s.recurrent.cycles for s in stats)
        total += cycles
    ideal = ideal_cycles(pairs, macs)
    if mode == "masr":  # rows tied to lanes, for comparison
        static = sum(
            s.kernel.cycles + s.recurrent.cycles
            for layer in layers
            for s in (direction_stats(d, mode, lanes, layer.strategy, True) for d in layer.directions)
        )
        out["static_utilisation"] = ideal / static
    out.update(
        pairs=pairs,
        issued=issued,
        ideal_cycles=ideal,
        engine_cycles=engine,
        utilisation=ideal / engine,
        cycles=total,
        cycles_per_frame=total / layers[0].frames,
    )
    return out


# --------------------------------------------------------------------------- weight storage


def built_bits(w_nz: np.ndarray, value_bits: int, lanes_of_rows: np.ndarray, lanes: int) -> int:
    """What the generated masr::sparse_weights holds: 32-bit mask words per row, value banks padded to the
    fullest lane, and each lane's row list (indices counted at the width a ROM needs, not the C++ int)."""
    n_rows, n_cols = w_nz.shape
    rows_per_lane = np.bincount(lanes_of_rows, minlength=lanes)
    nnz_per_lane = np.bincount(lanes_of_rows, weights=w_nz.sum(axis=1), minlength=lanes)
    max_rows, max_nnz = max(1, int(rows_per_lane.max())), max(1, int(nnz_per_lane.max()))
    mask = n_rows * -(-n_cols // 32) * 32
    row_lists = lanes * (max_rows * max(1, math.ceil(math.log2(n_rows))) + math.ceil(math.log2(max_rows + 1)))
    return mask + lanes * max_nnz * value_bits + row_lists


def storage(layers: list[Layer], lanes: int) -> dict:
    """Weight memory of every engine matrix at this lane count (rows assigned as in masr mode), in bits."""
    from masr_hls.numerics.bitmask import storage_bits

    bits = {"dense": 0, "bitmask": 0, "csc": 0, "nnz_formula": 0, "built": 0}
    for layer in layers:
        for d in layer.directions:
            for e in (d.kernel, d.recurrent):
                lor = lane_of_row(e, "masr", lanes, layer.strategy)
                figures = storage_bits(e.w_raw, e.value_bits, lor, lanes)
                figures["nnz_formula"] = int(e.w_nz.sum()) * e.value_bits + e.w_nz.size  # nnz x value bits + 1 bit per weight
                figures["built"] = built_bits(e.w_nz, e.value_bits, lor, lanes)
                for key, value in figures.items():
                    bits[key] += value
    return bits


# --------------------------------------------------------------------------- densities


def densities(layers: list[Layer]) -> dict:
    """Weight density, and activation density as the engine sees it: pairs / (steps x non-zero weights)."""
    nnz = size = pairs = meetings = 0
    per_layer = []
    for layer in layers:
        for d in layer.directions:
            row = {"layer": layer.name, "direction": d.name}
            for name, e in (("kernel", d.kernel), ("recurrent", d.recurrent)):
                e_pairs, e_meetings = int(e.pairs_per_row.sum()), d.steps * int(e.w_nz.sum())
                row[f"{name}_activation_density"] = e_pairs / e_meetings if e_meetings else 0.0
                row[f"{name}_input_nonzero"] = float(e.v_nz.mean())
                nnz, size = nnz + int(e.w_nz.sum()), size + e.w_nz.size
                pairs, meetings = pairs + e_pairs, meetings + e_meetings
            per_layer.append(row)
    return {"weight_density": nnz / size, "activation_density": pairs / meetings, "nnz_weights": nnz, "n_weights": size, "per_direction": per_layer}


# --------------------------------------------------------------------------- checks against the reference and csim


def check_reference(layers: list[Layer], lanes: int) -> None:
    """The vectorised model must give the reference sweep's own counts at the converted configuration."""
    for i, layer in enumerate(layers):
        for d in layer.directions:
            mine = direction_stats(d, d.cell.mode, lanes, layer.strategy, entry=i == 0)
            if mine.as_tuple() != d.reference.as_tuple():
                raise AssertionError(f"{layer.name} {d.name}: cycle model {mine.as_tuple()} != reference {d.reference.as_tuple()}")


def check_csim(hw, x, result: dict) -> None:
    """Every figure of the recurrent layers, as the C simulation counts them, equals ours for that configuration."""
    counted = {r.name: r for r in hw.csim(x).layers[0]}
    for layer in result["layers"]:
        got = counted[layer["name"]]
        csim = {"name": got.name, "cycles": got.cycles, "forward": step_dict(got.forward), "backward": step_dict(got.backward)}
        if csim != layer:
            raise AssertionError(f"{layer['name']}: cycle model {layer} != C simulation {csim}")


# --------------------------------------------------------------------------- one workload


def run_workload(w: Workload, lanes_list: list[int], seed: int, workdir: Path) -> dict:
    from tqdm import tqdm

    import masr_hls

    t0 = time.perf_counter()
    prune_lanes = reduce(math.lcm, lanes_list)
    model = build_model(w, seed, prune_lanes)
    x = make_input(w, seed)
    hw = masr_hls.masr_model(
        masr_hls.convert_from_keras_model(model, hls_config=hls_config(w, w.convert_lanes), output_dir=workdir / w.name, project_name=w.name)
    )
    with tqdm(total=2 * len(w.units), desc=f"{w.name}: numpy reference", unit="sweep", leave=False) as bar:
        layers = record(hw, x, bar.update)
    check_reference(layers, w.convert_lanes)
    configs = [(lanes, mode) for lanes in lanes_list for mode in MODES]
    results = [evaluate(layers, mode, lanes) for lanes, mode in tqdm(configs, desc=f"{w.name}: cycle model", leave=False)]
    for r in results:
        masr = next(m for m in results if m["lanes"] == r["lanes"] and m["mode"] == "masr")
        r["masr_speedup_engine"] = r["engine_cycles"] / masr["engine_cycles"]
        r["masr_speedup"] = r["cycles"] / masr["cycles"]
    bits = {lanes: storage(layers, lanes) for lanes in tqdm(lanes_list, desc=f"{w.name}: storage", leave=False)}
    csim_config = None
    if w.csim:
        hw.compile()
        check_csim(hw, x, evaluate(layers, "masr", w.convert_lanes))
        csim_config = {"lanes": w.convert_lanes, "mode": "masr"}
    units = ", ".join(str(u) for u in w.units) if len(set(w.units)) > 1 else f"{len(w.units)} x {w.units[0]}"
    return {
        "name": w.name,
        "title": w.title,
        "model": f"Bidirectional(GRU(relu), merge sum) units [{units}], T={w.frames} frames x {w.features} features"
        + (f", Dense({w.head}) head (not counted)" if w.head else ""),
        "weights": f"Keras initialisation (untrained), pruned in one shot by magnitude to {w.sparsity:.0%} sparsity, "
        f"lane-balanced over {prune_lanes} interleaved lanes (so over every lane count measured; "
        "each lane's kept count is rounded down)",
        "inputs": f"one synthetic utterance (masr_hls.flow.synthetic_sequences, seed {seed}), {float(np.mean(x == 0)):.1%} of the features zero",
        "frames": w.frames,
        "converted_lanes": w.convert_lanes,
        "csim_checked": csim_config,
        **densities(layers),
        "configs": results,
        "storage_bits": bits,
        "seconds": time.perf_counter() - t0,
    }


# --------------------------------------------------------------------------- targets and printing


SHORT = {"forward": "fwd", "backward": "bwd"}


def sparse_engines(w: dict) -> list[tuple[str, str, str, float]]:
    """(layer, direction, matrix, activation density) of the engines that see activation density <= 50%."""
    return [
        (d["layer"], d["direction"], m, d[f"{m}_activation_density"])
        for d in w["per_direction"]
        for m in ("kernel", "recurrent")
        if d[f"{m}_activation_density"] <= 0.5
    ]


def engine_cycles(config: dict, engines) -> int:
    by_layer = {layer["name"]: layer for layer in config["layers"]}
    return sum(by_layer[layer][direction][m]["cycles"] for layer, direction, m, _ in engines)


def speedup_verdict(value: float) -> str:
    return "PASS" if value >= SPEEDUP_TARGET else "MISS"


def targets(report: dict) -> list[dict]:
    out = []
    for w in report["workloads"].values():
        pairs = [
            (r, next(m for m in w["configs"] if m["lanes"] == r["lanes"] and m["mode"] == "masr"))
            for r in w["configs"]
            if r["mode"] == "weight_sparse"
        ]
        # the whole workload, where its activation density allows
        at = ", ".join(f"{r['lanes']} lanes {r['masr_speedup_engine']:.2f}x / {r['masr_speedup']:.2f}x" for r, _ in pairs)
        if w["activation_density"] > 0.5:
            out.append(
                {
                    "target": "speedup",
                    "what": f"{w['name']} whole workload: MASR over weight_sparse",
                    "verdict": "n/a",
                    "detail": f"activation density {w['activation_density']:.1%} > 50%, target does not apply (engine / end to end: {at})",
                }
            )
        else:
            for r, _ in pairs:
                for scope, key in (("engine", "masr_speedup_engine"), ("end to end", "masr_speedup")):
                    out.append(
                        {
                            "target": "speedup",
                            "what": f"{w['name']} {r['lanes']:>2} lanes, whole workload ({scope}): MASR over weight_sparse",
                            "value": r[key],
                            "verdict": speedup_verdict(r[key]),
                            "detail": f"{r[key]:.2f}x at activation density {w['activation_density']:.1%} (target >= 1.6x, aim 2x)",
                        }
                    )
        # the engines (one matrix of one direction) that do see <= 50%
        engines = sparse_engines(w)
        if not engines:
            continue
        names = ", ".join(f"{layer} {SHORT[direction]} {m} {density:.1%}" for layer, direction, m, density in engines)
        for ws, masr in pairs:
            value = engine_cycles(ws, engines) / engine_cycles(masr, engines)
            out.append(
                {
                    "target": "speedup",
                    "what": f"{w['name']} {ws['lanes']:>2} lanes, the {len(engines)} engine(s) at activation density <= 50%: MASR over weight_sparse",
                    "value": value,
                    "verdict": speedup_verdict(value),
                    "engines": names,
                    "detail": f"{value:.2f}x (target >= 1.6x, aim 2x)",
                }
            )
        out.append({"target": "speedup-note", "what": f"{w['name']} engines at <= 50%", "verdict": "", "detail": names})
    ds2 = report["workloads"].get("ds2")
    at16 = [r for r in ds2["configs"] if r["lanes"] == 16 and r["mode"] == "masr"] if ds2 else []
    if at16:
        u = at16[0]["utilisation"]
        out.append(
            {
                "target": "utilisation",
                "what": "ds2 16 lanes, masr, lane-balanced pruning",
                "value": u,
                "verdict": "PASS" if u >= UTILISATION_TARGET else "MISS",
                "detail": f"{u:.1%} (target >= 90%, aim 95%; EIE ~87%)",
            }
        )
    else:
        out.append({"target": "utilisation", "what": "ds2 16 lanes", "verdict": "n/a", "detail": "not measured in this run"})
    for w in report["workloads"].values():
        for key, label in (("bitmask", "bitmask (bitmask.storage_bits)"), ("built", "as built (padded words and banks)")):
            worst = max(b[key] / b["nnz_formula"] - 1 for b in w["storage_bits"].values())
            out.append(
                {
                    "target": "storage",
                    "what": f"{w['name']} {label} vs nnz x value bits + 1 bit/weight",
                    "value": worst,
                    "verdict": "PASS" if worst <= STORAGE_TARGET else "MISS",
                    "detail": f"{worst:+.1%} at worst over the lane counts (target within 10%)",
                }
            )
    return out


def mbits(bits: int) -> str:
    return f"{bits / 1e6:.3f}M" if bits >= 1e5 else str(bits)


def format_workload(w: dict) -> str:
    lines = [
        f"=== {w['name']}: {w['title']} ===",
        f"model:    {w['model']}",
        f"weights:  {w['weights']}; weight density {w['weight_density']:.1%} ({w['nnz_weights']} of {w['n_weights']} in the engines' matrices)",
        f"inputs:   {w['inputs']}",
        f"activation density the engine sees (pairs / (steps x non-zero weights)): {w['activation_density']:.1%}",
    ]
    for d in w["per_direction"]:
        lines.append(
            f"  {d['layer']:<8} {d['direction']:<8} kernel input {d['kernel_activation_density']:6.1%}   "
            f"recurrent state {d['recurrent_activation_density']:6.1%}"
        )
    checked = "cycle model == numpy reference: yes" + (
        f"; cycle model == csim: yes ({w['csim_checked']['lanes']} lanes, masr)" if w["csim_checked"] else "; no C simulation"
    )
    lines += [f"checks:   {checked} (converted at {w['converted_lanes']} lanes, interleaved rows)", ""]

    head = (
        f"{'lanes':>5} {'weights: dense':>15} {'bitmask':>10} {'CSC (EIE)':>10} {'nnz*vb+1/w':>11} {'bitmask/that':>12} "
        f"{'as built':>10} {'built/that':>10}"
    )
    lines += [head, "-" * len(head)]
    for lanes, b in w["storage_bits"].items():
        lines.append(
            f"{lanes:>5} {mbits(b['dense']):>15} {mbits(b['bitmask']):>10} {mbits(b['csc']):>10} "
            f"{mbits(b['nnz_formula']):>11} {b['bitmask'] / b['nnz_formula']:>12.3f} {mbits(b['built']):>10} "
            f"{b['built'] / b['nnz_formula']:>10.3f}"
        )
    lines.append("")
    head = (
        f"{'lanes':>5} {'mode':<14} {'pairs':>10} {'issued':>10} {'ideal':>9} {'engine':>9} {'util':>6} "
        f"{'cycles':>9} {'cyc/frame':>9}  {'MASR speed-up: engine / end to end':<30}"
    )
    lines += [head, "-" * len(head)]
    for r in w["configs"]:
        speedup = "-" if r["mode"] == "masr" else f"{r['masr_speedup_engine']:.2f}x / {r['masr_speedup']:.2f}x"
        lines.append(
            f"{r['lanes']:>5} {r['mode']:<14} {r['pairs']:>10} {r['issued']:>10} {r['ideal_cycles']:>9} "
            f"{r['engine_cycles']:>9} {r['utilisation']:>6.1%} {r['cycles']:>9} {r['cycles_per_frame']:>9.0f}  {speedup}"
        )
    lines.append(f"({w['seconds']:.1f} s)")
    return "\n".join(lines)


def format_summary(report: dict) -> str:
    """The workloads side by side: MASR at each lane count against the other modes at the same MACs."""
    head = (
        f"{'workload':<8} {'lanes':>5} {'act dens':>8} {'w dens':>6} {'masr util':>9} {'static':>7} {'masr cyc/frame':>14} "
        f"{'over weight_sparse':>18} {'over dense':>15} {'bitmask bits':>12} {'CSC bits':>10}"
    )
    lines = ["summary: MASR at equal MACs (speed-ups: engine / end to end)", head, "-" * len(head)]
    for w in report["workloads"].values():
        for lanes in report["lanes"]:
            by = {r["mode"]: r for r in w["configs"] if r["lanes"] == lanes}

            def ratio(mode, by=by):
                return f"{by[mode]['masr_speedup_engine']:.2f}x / {by[mode]['masr_speedup']:.2f}x"

            b = w["storage_bits"][lanes]
            lines.append(
                f"{w['name']:<8} {lanes:>5} {w['activation_density']:>8.1%} {w['weight_density']:>6.1%} "
                f"{by['masr']['utilisation']:>9.1%} {by['masr']['static_utilisation']:>7.1%} "
                f"{by['masr']['cycles_per_frame']:>14.0f} {ratio('weight_sparse'):>18} "
                f"{ratio('dense'):>15} {mbits(b['bitmask']):>12} {mbits(b['csc']):>10}"
            )
    return "\n".join(lines)


LEGEND = """\
engine = cycles of the matrix-vector engine calls (every step: kernel W x_t and recurrent U h_t, each its
busiest lane + pipeline depth); ideal = ceil(non-zero pairs / MACs) with one MAC per lane; util = ideal / engine.
Lanes are balanced as a conversion does by default (LaneBalancing auto: from 8 lanes up where a layer has 4 rows a
lane, two lanes share a bank of rows and take them at run time); static = masr with rows tied to lanes at conversion.
cycles = the layers end to end (input encode, per-step state encode and element-wise gates, merge), as
rnn_layer.bidirectional counts them.  Modes: dense issues every element, weight_sparse (EIE-like) every
non-zero weight, masr only pairs whose weight and activation are both non-zero.
Storage: dense = every weight; bitmask = 1 bit per weight + non-zero values (bitmask.storage_bits);
CSC = EIE's 4-bit relative row index per entry + column pointers per lane; as built = the generated ROMs
(mask in 32-bit words per row, value banks padded to the fullest lane, lane row lists)."""


def parse_lanes(text: str) -> list[int]:
    lanes = [int(v) for v in text.split(",") if v.strip()]
    if not lanes or min(lanes) < 1:
        raise argparse.ArgumentTypeError(f"lanes must be positive integers, got {text!r}")
    return lanes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke test (< 30 s)")
    parser.add_argument("--workloads", default="kws,ds2,paper", help="comma-separated: kws, ds2, paper")
    parser.add_argument("--lanes", type=parse_lanes, default=[1, 4, 16, 64], help="comma-separated lane counts")
    parser.add_argument("--json", metavar="FILE", help="write every figure to FILE as JSON")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hls4ml", action="store_true", help="also compare csim throughput with hls4ml (bench/convert_vs_hls4ml.py)")
    args = parser.parse_args(argv)
    table = QUICK if args.quick else WORKLOADS
    names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in names if n not in table]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {', '.join(table)}")

    t0 = time.perf_counter()
    report = {"quick": args.quick, "seed": args.seed, "lanes": args.lanes, "workloads": {}}
    with tempfile.TemporaryDirectory() as work:
        for name in names:
            w = run_workload(table[name], args.lanes, args.seed, Path(work))
            report["workloads"][name] = w
            print(format_workload(w) + "\n", flush=True)
    print(format_summary(report) + "\n")
    print(LEGEND + "\n")
    report["targets"] = targets(report)
    print("targets")
    for t in report["targets"]:
        mark = f"[{t['verdict']:<4}]" if t["verdict"] else "      "
        print(f"  {mark} {t['what']}: {t['detail']}")
    if args.hls4ml:
        import convert_vs_hls4ml

        sizes = {"samples": 8, "units": 16, "frames": 10} if args.quick else {}
        report["hls4ml"] = convert_vs_hls4ml.compare(**sizes)
        print("\nC simulation against hls4ml's Vitis C simulation (bench/convert_vs_hls4ml.py)")
        print(convert_vs_hls4ml.format_comparison(report["hls4ml"]))
    report["seconds"] = time.perf_counter() - t0
    print(f"\ntotal run time {report['seconds']:.1f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
