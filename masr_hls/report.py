"""Per layer and direction: what the hardware stores, the work it finds and the cycles it takes.

Activation density is the fraction of (non-zero weight, input) meetings whose
input is non-zero too: pairs / (steps x non-zero weights).  It is what the
engine sees, weighted by where the weights are, and is exactly the saving of
MASR mode over weight-only-sparse (EIE-like) mode.
"""

from __future__ import annotations

import json

import numpy as np

from .bitmask import storage_bits
from .mxv import ideal_cycles


def _direction_rows(layer_name, direction, cell, weights, stats) -> dict:
    mats = weights.engine_matrices(cell)
    nnz = {k: int(np.count_nonzero(m)) for k, m in mats.items()}
    size = mats["kernel"].size + weights.recurrent.size
    steps = max(stats.steps, 1)
    meetings = steps * (nnz["kernel"] + nnz["recurrent"] + nnz["recurrent_h"])
    pairs = stats.kernel.pairs + stats.recurrent.pairs
    macs = cell.lanes * cell.macs_per_lane
    bits = {"dense": 0, "bitmask": 0, "csc": 0}
    for name, m in mats.items():
        if name == "recurrent_h" and not cell.gru_reset_before:
            continue
        value_bits = cell.weight_t.width if name == "kernel" else cell.recurrent_weight_t.width
        for key, value in storage_bits(m, value_bits, weights.lanes[name], cell.lanes).items():
            bits[key] += value
    engine = stats.kernel.cycles + stats.recurrent.cycles
    busiest = stats.kernel.busiest_lane + stats.recurrent.busiest_lane
    idlest = stats.kernel.idlest_lane + stats.recurrent.idlest_lane
    return {
        "layer": layer_name, "direction": direction, "kind": cell.kind, "steps": stats.steps,
        "weight_density": (nnz["kernel"] + nnz["recurrent"] + nnz["recurrent_h"]) / size,
        "activation_density": pairs / meetings if meetings else 0.0,
        "pairs": pairs, "ideal_cycles": ideal_cycles(pairs, macs), "engine_cycles": engine, "cycles": stats.cycles,
        "utilisation": ideal_cycles(pairs, macs) / engine if engine else 1.0,
        "lane_spread": (busiest - idlest) / busiest if busiest else 0.0,
        "storage_bits": bits,
    }


def build_report(hw, x) -> dict:
    """Figures for the first sample of ``x`` (a single inference), from the C simulation."""
    result = hw.csim(np.asarray(x)[:1])
    rows = []
    for layer, figures in zip(hw.layers, result.layers[0]):
        if layer.kind == "recurrent":
            rows.append(_direction_rows(layer.name, "forward", layer.cell, layer.weights, figures.forward))
        elif layer.kind == "bidirectional":
            rows.append(_direction_rows(layer.name, "forward", layer.fwd, layer.wf, figures.forward))
            rows.append(_direction_rows(layer.name, "backward", layer.bwd, layer.wb, figures.backward))
        else:
            w = layer.weights.w_raw
            head = figures.head[0]
            macs = layer.head.lanes * layer.head.macs_per_lane
            bits = storage_bits(w, layer.head.weight_t.width, layer.weights.lane_of_row, layer.head.lanes)
            rows.append({"layer": layer.name, "direction": "-", "kind": "dense", "steps": None,
                         "weight_density": float(np.count_nonzero(w) / w.size), "activation_density": None,
                         "pairs": head.pairs, "ideal_cycles": ideal_cycles(head.pairs, macs),
                         "engine_cycles": head.engine_cycles, "cycles": figures.cycles,
                         "utilisation": ideal_cycles(head.pairs, macs) / head.engine_cycles if head.engine_cycles else 1.0,
                         "lane_spread": None, "storage_bits": bits})
    total = sum(f.cycles for f in result.layers[0])
    return {"model": hw.spec.name, "clock_ns": hw.clock_period, "frames": int(np.asarray(x).shape[1]),
            "cycles_per_inference": total, "us_per_inference": total * hw.clock_period / 1000,
            "cycles_per_frame": total / np.asarray(x).shape[1], "layers": rows}


def format_text(report: dict) -> str:
    head = (f"{'layer':<22} {'dir':<8} {'w dens':>7} {'a dens':>7} {'pairs':>8} {'ideal':>7} {'engine':>8} "
            f"{'util':>6} {'spread':>6} {'dense b':>9} {'bitmask b':>9} {'csc b':>9}")
    lines = [head, "-" * len(head)]
    pct = lambda v: f"{v:.1%}" if v is not None else "-"  # noqa: E731
    for r in report["layers"]:
        b = r["storage_bits"]
        lines.append(f"{r['layer']:<22} {r['direction']:<8} {pct(r['weight_density']):>7} {pct(r['activation_density']):>7} "
                     f"{r['pairs']:>8} {r['ideal_cycles']:>7} {r['engine_cycles']:>8} {pct(r['utilisation']):>6} "
                     f"{pct(r['lane_spread']):>6} {b['dense']:>9} {b['bitmask']:>9} {b['csc']:>9}")
    lines.append(f"one inference of {report['frames']} frames: {report['cycles_per_inference']} cycles "
                 f"({report['cycles_per_frame']:.0f} per frame) = {report['us_per_inference']:.1f} us at {report['clock_ns']} ns")
    return "\n".join(lines)


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2)
