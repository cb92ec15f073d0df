"""How busy could wide MASR engines be?  Lane-balancing schemes compared on the activations of real speech.

    python bench/balancing_study.py [--models kws_speech,ds2_speech] [--lanes 4,16,64] [--samples 100]

A design study, not a model of built hardware: it decides which run-time balancing scheme is worth
building.  Each engine call's work is the set of (weight, activation) pairs with both factors non-zero;
utilisation = ceil(pairs / lanes) / cycles, summed over every engine call of an inference (kernel and
recurrent engines of every direction of every Bidirectional layer; the trained models and held-out
speech of bench/headline.py, recorded through the bit-exact numpy reference).  One MAC per lane.

Schemes, per engine call (F = 4 is the fixed cost of a call: the front end's first window, the
MAC pipeline (MXV_MAC_DEPTH = 2) and the done cycle):
  static       rows tied to lanes at conversion (interleaved): masr_hls.reference.mxv's exact cycle
               model of the built engine (front-end scan, FIFO stalls and all)
  shared banks the run-time balancing that was built (LaneBalancing dynamic): two lanes share a bank of
               interleaved rows and take them, heaviest first, as their front ends come free; FIFO of one
               window; the exact cycle model of the built engine
  row queue    rows handed out at run time, in row order, to whichever lane is free first (greedy list
               scheduling); a row costs max(1, its pairs) cycles; + F.  Needs any lane to read any row.
  pair split   the call's pairs cut into `lanes` equal contiguous runs by a prefix popcount of the rows'
               (weight mask AND activation mask); each lane issues its run, partial sums of the rows a
               cut splits are added at the end: ceil(pairs / lanes) + the count pass (ceil(rows x
               windows / lanes) cycles) + F + 1 (the boundary add)
  ... +overlap the same, with consecutive kernel-engine calls of a sweep overlapped (their inputs are
               all known: the layer's input sequence), so F and the count pass are paid once per
               sweep; the recurrent engine cannot overlap (h_t needs U h_{t-1}) and keeps them
  pair split, no fixed   a bound: every call's fixed costs hidden (for instance by interleaving the
               independent forward and backward recurrences on shared engines): ceil(pairs / lanes) + 1
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from workloads import parse_lanes  # noqa: E402 - the bench folder is on the path only now

FIXED = 4  # cycles of a call beyond its issue cycles in today's engine: 1 + MXV_MAC_DEPTH + MXV_DONE_DEPTH
SCHEMES = ("static", "shared banks", "row queue", "pair split", "row queue +overlap", "pair split +overlap", "pair split, no fixed")


def row_queue_cycles(row_cost: np.ndarray, lanes: int) -> np.ndarray:
    """Greedy list scheduling of each call's rows (in order) on ``lanes``: the makespan per call (calls, rows) -> (calls,)."""
    free = np.zeros((row_cost.shape[0], lanes), np.int64)
    calls = np.arange(row_cost.shape[0])
    for r in range(row_cost.shape[1]):
        lane = free.argmin(axis=1)
        free[calls, lane] += row_cost[:, r]
    return free.max(axis=1)


def study(matrices, inferences: int, lanes: int) -> dict:
    """Cycles per inference of every scheme, and the ideal."""
    import dataclasses

    from masr_hls.backend.config import engine_balancing
    from masr_hls.numerics.bitmask import n_words
    from masr_hls.numerics.lane_balance import assign_rows, row_work
    from masr_hls.reference.mxv import mxv_stats_over_calls

    cycles = dict.fromkeys(SCHEMES, 0)
    ideal = 0
    for m in matrices:
        lane_of_row = assign_rows(row_work(m.w_raw, "masr"), lanes, "interleaved")
        cfg = dataclasses.replace(m.config, lanes=lanes, macs_per_lane=1, mode="masr", **engine_balancing(lanes, "static"))
        cycles["static"] += mxv_stats_over_calls(cfg, m.w_nz, m.v_nz, lane_of_row).cycles
        shared = dataclasses.replace(cfg, **engine_balancing(lanes, "dynamic"))
        bank_of_row = assign_rows(row_work(m.w_raw, "masr"), shared.banks, "interleaved")
        cycles["shared banks"] += mxv_stats_over_calls(shared, m.w_nz, m.v_nz, bank_of_row).cycles
        pairs_per_row = m.v_nz.astype(np.int32) @ m.w_nz.T.astype(np.int32)  # (calls, rows)
        pairs = pairs_per_row.sum(axis=1)
        share = -(-pairs // lanes)
        ideal += int(share.sum())
        windows = math.ceil(n_words(m.w_raw.shape[1]) / cfg.scan_words)  # per row
        count_pass = math.ceil(m.w_raw.shape[0] * windows / lanes)
        queue = row_queue_cycles(np.maximum(pairs_per_row, 1), lanes)
        split = share + count_pass + 1
        calls = len(pairs)
        cycles["row queue"] += int(queue.sum()) + FIXED * calls
        cycles["pair split"] += int(split.sum()) + FIXED * calls
        # Kernel calls overlapped: their fixed costs (and the count pass) once per sweep.
        sweeps = inferences if m.kind == "kernel" else calls
        cycles["row queue +overlap"] += int(queue.sum()) + FIXED * sweeps
        cycles["pair split +overlap"] += int((share + 1).sum()) + (FIXED + (count_pass if m.kind == "kernel" else 0)) * sweeps
        if m.kind != "kernel":
            cycles["pair split +overlap"] += count_pass * calls
        cycles["pair split, no fixed"] += int((share + 1).sum())
    return {"ideal": ideal / inferences, **{k: v / inferences for k, v in cycles.items()}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="kws_speech,ds2_speech", help="trained models of bench/headline.py")
    parser.add_argument("--lanes", type=parse_lanes, default=[4, 16, 64])
    parser.add_argument("--samples", type=int, default=100, help="held-out clips per model")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    import headline

    for name in args.models.split(","):
        workload, _ = headline.trained_workload(name, args.samples, args.jobs, 0, print)
        print(f"\n{workload.title}\n{workload.origin}")
        print(f"{'lanes':>5}  {'ideal':>8}  " + "  ".join(f"{s:>20}" for s in SCHEMES))
        for lanes in args.lanes:
            r = study(workload.matrices, workload.inferences, lanes)
            cells = "  ".join(f"{r[s]:>10.0f} ({r['ideal'] / r[s]:>6.1%})" for s in SCHEMES)
            print(f"{lanes:>5}  {r['ideal']:>8.0f}  {cells}")
    print("\ncycles per inference (utilisation = ideal / cycles); see the module docstring for each scheme")
    return 0


if __name__ == "__main__":
    sys.exit(main())
