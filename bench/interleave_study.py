"""Interleaved directions against one recurrent engine per direction, on the trained speech models.

    python bench/interleave_study.py [--models kws_speech,ds2_speech] [--lanes 4,16,64] [--samples 40]

Each model is converted at each lane count (its project's config.yml, every layer at `Lanes` lanes, balancing
as converted by default) and its held-out clips (bench/headline.py's seeded choice) go through the bit-exact
numpy reference twice: the Bidirectional layers as built with `Interleave: false` (each direction its own
recurrent engine) and with `Interleave: true` (docs/arithmetic.md, "Interleaved directions").  Outputs are
checked equal.  Per inference, summed over the Bidirectional layers (the dense head is left out):

  layer        the layers' cycles (wall time)
  rec util     recurrent engines: non-zero pairs / (lanes x occupied cycles, summed over the engines): a
               lone engine is occupied for its calls' engine cycles; a shared one for the union of its calls
  rec wall     recurrent pairs / (lanes x recurrent engines x layer cycles): how busy the recurrent MACs are
               over the layer's time
  all util     every engine (kernel and recurrent): pairs / (lanes x occupied cycles), as the issue's targets
  MACs         MACs of the Bidirectional layers' engines (kernel + recurrent, one per lane)
  perf/MAC     (1 / layer cycles) / MACs, relative to not interleaving

With --kernels, a third row per lane count models (not built) the kernel engines shared by the two directions
as well (kernels_shared: each kernel call placed on the shared kernel engine as the recurrent calls are on
theirs); its utilisation columns are those of the interleaved row, its layer cycles, MACs and perf/MAC its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from headline import keyword_clips  # noqa: E402 - the bench folder is on the path only now
from workloads import parse_lanes  # noqa: E402


def convert(model, name: str, lanes: int, tmp: Path):
    import masr_hls

    config = yaml.safe_load((ROOT / "projects" / name / "config.yml").read_text())
    config["Model"]["Lanes"] = lanes
    config["Model"]["Interleave"] = False
    hm = masr_hls.convert_from_keras_model(model, hls_config=config, output_dir=tmp / f"{name}_{lanes}", project_name=name)
    return masr_hls.masr_model(hm)


def _place(free: np.ndarray, ready: int, phases) -> int:
    """A call ready in cycle ``ready`` on an engine whose banks are free from ``free`` (updated): its done cycle."""
    from masr_hls.constants import MXV_DONE_DEPTH

    front, issue, cycles = phases
    start = np.maximum(ready + 1, free)
    free[:] = start + np.maximum(front, issue - 1)
    return int((start + cycles).max()) + MXV_DONE_DEPTH


def kernels_shared(layer, h, traces, share_kernels: bool = True) -> np.ndarray:
    """A model, not built: the layer's sweep ends per sample when the two directions share their kernel engine
    too (each kernel call placed on it as the recurrent calls are: earliest ready first, forward on a tie, each
    bank as soon as it is free).  ``traces``: the two sweeps' SweepTraces (their recurrent calls)."""
    from masr_hls.numerics.bitmask import n_words
    from masr_hls.reference.rnn_layer import entry_cycles

    cells, weights = (layer.fwd, layer.bwd), (layer.wf, layer.wb)
    n, steps = h.shape[:2]
    kernel = []
    for d in range(2):
        order = np.arange(steps)[::-1] if d else np.arange(steps)
        s = weights[d].engines(cells[d])["kernel"].stats_per_call(h[:, order] != 0)
        kernel.append(np.stack([s.front, s.issue, s.bank_cycles]))  # (3, samples, steps, banks)
    load = n_words(cells[0].n_in)
    ends = np.zeros((2, n), np.int64)
    for j in range(n):
        banks_k, banks_r = kernel[0].shape[-1], traces[0].calls.shape[-1]
        shared_k = np.zeros(banks_k, np.int64)
        kernel_free = [shared_k, shared_k] if share_kernels else [np.zeros(banks_k, np.int64) for _ in range(2)]
        free = {k: np.zeros(banks_r, np.int64) for k in range(traces[0].calls.shape[0])}
        n_calls = traces[0].calls.shape[0]
        # per direction: step start, step, pending (ready, kind) events, the step's kernel done and chain end
        state = [
            {"S": None, "i": -1, "pending": [(1 + entry_cycles(cells[d].n_in, layer.entry) + load, "k")], "K": None, "R": None} for d in range(2)
        ]
        while any(st["pending"] for st in state):
            d, (ready, kind) = min(((d, e) for d in range(2) for e in state[d]["pending"]), key=lambda de: (de[1][0], de[0], de[1][1] != "k"))
            st, tr = state[d], traces[d]
            st["pending"].remove((ready, kind))
            if kind == "k":
                frame = st["i"] + 1
                done = _place(kernel_free[d], ready, kernel[d][:, j, frame])
                if st["S"] is None:  # frame 0: the sweep's first step starts when its kernel chain is done
                    st["S"], st["i"], st["K"], st["R"] = done, 0, None, None
                    st["pending"].append((done + tr.encode, 0))
                    if steps > 1:
                        st["pending"].append((done + load, "k"))
                    continue
                st["K"] = done
            else:
                done = _place(free[kind], ready, tr.calls[kind, :, j, st["i"]])
                if kind < n_calls - 1:
                    st["pending"].append((done + tr.elementwise + tr.encode, kind + 1))
                    continue
                st["R"] = done + tr.elementwise
            last = st["i"] == steps - 1
            if st["R"] is not None and (last or st["K"] is not None):  # the step is over: the next one starts
                st["S"] = max(st["R"], st["K"] or 0)
                st["i"] += 1
                st["K"], st["R"] = None, None
                if st["i"] < steps:
                    st["pending"].append((st["S"] + tr.encode, 0))
                    if st["i"] + 1 < steps:
                        st["pending"].append((st["S"] + load, "k"))
        ends[:, j] = [st["S"] for st in state]
    return ends


def measure(hw, x: np.ndarray, interleave: bool, kernels: bool = False) -> dict:
    """Figures per inference of the Bidirectional layers, the directions interleaved or not; ``kernels``: the kernel
    engines shared too (:func:`kernels_shared`, a model: layer cycles and MACs only)."""
    from masr_hls.reference.rnn_layer import _sweep_batch, bidirectional_batch

    h = hw.quantize_input(x)
    out = {"layer": 0, "rec_pairs": 0, "rec_occupied": 0, "rec_engines": 0, "pairs": 0, "occupied": 0, "macs": 0, "lanes": 0}
    for layer in hw.layers:
        if layer.kind != "bidirectional":
            h, _ = layer.reference_batch(h)
            continue
        m = dataclasses.replace(layer.merge, interleave=interleave)
        shared, hw_input = [], h
        h, sf, sb, cycles = bidirectional_batch(
            layer.fwd, layer.wf, layer.bwd, layer.wb, m, h, layer.return_sequences, layer.entry, layer.stores_output, schedule=shared
        )
        lanes = layer.fwd.lanes
        rec_pairs = sum(s.recurrent.pairs for s in sf + sb)
        kernel_pairs = sum(s.kernel.pairs for s in sf + sb)
        kernel_cycles = sum(s.kernel.cycles for s in sf + sb)
        n_engines = 2 if layer.fwd.gru_reset_before else 1  # recurrent engines a direction has
        if interleave:
            rec_occupied = int(shared[0].occupied.sum())
            rec_engines = n_engines
        else:
            rec_occupied = sum(s.recurrent.cycles for s in sf + sb)
            rec_engines = 2 * n_engines
        if kernels:
            x_in = hw_input
            traces = [
                _sweep_batch(c, w, x_in, d == 1, d == 1, layer.entry)[2] for d, (c, w) in enumerate(((layer.fwd, layer.wf), (layer.bwd, layer.wb)))
            ]
            after = np.array(cycles) - np.maximum([q.cycles for q in sf], [q.cycles for q in sb])  # merge pass or done
            cycles = list(kernels_shared(layer, x_in, traces).max(axis=0) + after)
        out["layer"] += sum(cycles)
        out["rec_pairs"] += rec_pairs
        out["rec_occupied"] += rec_occupied
        out["pairs"] += rec_pairs + kernel_pairs
        out["occupied"] += rec_occupied + kernel_cycles
        out["rec_lane_cycles"] = out.get("rec_lane_cycles", 0) + lanes * rec_engines * sum(cycles)
        out["macs"] += lanes * ((1 if kernels else 2) + rec_engines)
        out["lanes"] = lanes
        # utilisation figures need lanes per layer: every layer has the model's lanes here
    n = len(x)
    return {
        "layer": out["layer"] / n,
        "rec_util": out["rec_pairs"] / (out["lanes"] * out["rec_occupied"]),
        "rec_wall": out["rec_pairs"] / out["rec_lane_cycles"],
        "all_util": out["pairs"] / (out["lanes"] * out["occupied"]),
        "macs": out["macs"],
        "y": h,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="kws_speech,ds2_speech")
    parser.add_argument("--lanes", type=parse_lanes, default=[4, 16, 64])
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kernels", action="store_true", help="also model the kernel engines shared (not built)")
    args = parser.parse_args(argv)

    import tempfile

    import keras

    print(
        f"{'model':<11} {'lanes':>5} {'interleave':>10} {'layer cyc':>10} {'rec util':>9} {'rec wall':>9} {'all util':>9} {'MACs':>5} {'perf/MAC':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            model = keras.models.load_model(ROOT / "build" / name / "model.keras")
            x, _ = keyword_clips(name, args.samples, args.seed)
            for lanes in args.lanes:
                hw = convert(model, name, lanes, Path(tmp))
                base = measure(hw, x, False)
                runs = [("False", base), ("True", measure(hw, x, True))] + ([("+kernels", measure(hw, x, True, True))] if args.kernels else [])
                for interleave, r in runs:
                    if not np.array_equal(r["y"], base["y"]):
                        raise AssertionError(f"{name} at {lanes} lanes: interleaving changed the outputs")
                    per_mac = (base["layer"] * base["macs"]) / (r["layer"] * r["macs"])
                    print(
                        f"{name:<11} {lanes:>5} {interleave:>10} {r['layer']:>10,.1f} {r['rec_util']:>9.1%} {r['rec_wall']:>9.1%} "
                        f"{r['all_util']:>9.1%} {r['macs']:>5} {per_mac:>8.2f}x"
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
