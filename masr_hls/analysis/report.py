"""Per layer and direction: what the hardware stores, the work it finds and the cycles it takes.

The figures come from the C simulation of every sample of the given data and
are summed over the samples, so densities are dataset-wide and cycle figures
are means per inference.

Activation density is the fraction of (non-zero weight, input) meetings whose
input is non-zero too: pairs / (steps x non-zero weights).  It is what the
engine sees, weighted by where the weights are, and is exactly the saving of
MASR mode over weight-only-sparse (EIE-like) mode.  It is given for the whole
cell and split into the kernel engine's input (x) and the recurrent engine's
input (the state h).
"""

from __future__ import annotations

import io
import json
from functools import reduce
from pathlib import Path

import numpy as np

from masr_hls.analysis.eie import sequence_storage
from masr_hls.numerics.bitmask import storage_bits
from masr_hls.reference.mxv import ideal_cycles


def _density(pairs: int, meetings: int) -> float | None:
    return pairs / meetings if meetings else None


def _engine_figures(pairs: int, engine: int, macs: int, samples: int) -> dict:
    ideal = ideal_cycles(pairs, macs)
    return {
        "pairs": pairs / samples,
        "ideal_cycles": ideal / samples,
        "engine_cycles": engine / samples,
        "utilisation": ideal / engine if engine else 1.0,
    }


def _direction_row(layer_name, direction, cell, weights, per_sample) -> dict:
    """One direction of a recurrent layer; ``per_sample`` holds each sample's StepStats."""
    mats = weights.engine_matrices(cell)
    nnz = {k: int(np.count_nonzero(m)) for k, m in mats.items()}
    nnz_recurrent = nnz["recurrent"] + (nnz["recurrent_h"] if cell.gru_reset_before else 0)
    size = mats["kernel"].size + weights.recurrent.size
    total = reduce(lambda a, b: a + b, per_sample)
    samples = len(per_sample)

    def densities(s):
        return (
            _density(s.kernel.pairs + s.recurrent.pairs, s.steps * (nnz["kernel"] + nnz_recurrent)),
            _density(s.kernel.pairs, s.steps * nnz["kernel"]),
            _density(s.recurrent.pairs, s.steps * nnz_recurrent),
        )

    per_sample_density = [d for d in (densities(s)[0] for s in per_sample) if d is not None]
    bits = {"dense": 0, "bitmask": 0, "csc": 0}
    for name, m in mats.items():
        if name == "recurrent_h" and not cell.gru_reset_before:
            continue
        value_bits = cell.weight_t.width if name == "kernel" else cell.recurrent_weight_t.width
        for key, value in storage_bits(m, value_bits, weights.lanes[name], cell.lanes).items():
            bits[key] += value
    busiest = total.kernel.busiest_lane + total.recurrent.busiest_lane
    idlest = total.kernel.idlest_lane + total.recurrent.idlest_lane
    activation, x_density, h_density = densities(total)
    return {
        "layer": layer_name,
        "direction": direction,
        "kind": cell.kind,
        "steps": total.steps / samples,
        "weight_density": (nnz["kernel"] + nnz_recurrent) / size,
        "activation_density": activation,
        "x_density": x_density,
        "h_density": h_density,
        "activation_density_range": [min(per_sample_density), max(per_sample_density)] if per_sample_density else None,
        **_engine_figures(
            total.kernel.pairs + total.recurrent.pairs, total.kernel.cycles + total.recurrent.cycles, cell.lanes * cell.macs_per_lane, samples
        ),
        "cycles": total.cycles / samples,
        "lane_spread": (busiest - idlest) / busiest if busiest else 0.0,
        "storage_bits": bits,
    }


def _head_row(layer, per_sample, frames: int) -> dict:
    """A dense head run on ``frames`` frames per inference."""
    w = layer.weights.w_raw
    pairs = sum(r.head[0].pairs for r in per_sample)
    engine = sum(r.head[0].engine_cycles for r in per_sample)
    meetings = frames * int(np.count_nonzero(w))
    per_sample_density = [d for d in (_density(r.head[0].pairs, meetings) for r in per_sample) if d is not None]
    density = _density(pairs, meetings * len(per_sample))
    return {
        "layer": layer.name,
        "direction": "-",
        "kind": "dense",
        "steps": frames,
        "weight_density": float(np.count_nonzero(w) / w.size),
        "activation_density": density,
        "x_density": density,
        "h_density": None,
        "activation_density_range": [min(per_sample_density), max(per_sample_density)] if per_sample_density else None,
        **_engine_figures(pairs, engine, layer.head.lanes * layer.head.macs_per_lane, len(per_sample)),
        "cycles": sum(r.cycles for r in per_sample) / len(per_sample),
        "lane_spread": None,
        "storage_bits": storage_bits(w, layer.head.weight_t.width, layer.weights.lane_of_row, layer.head.lanes),
    }


SEQUENCE_SAMPLES = 256  # samples whose layer inputs the reference records for the sequence storage figures


def state_buffer_bits(layer, max_frames: int) -> int:
    """Bits of the dense state sequences a layer keeps beside its stores (templates/masr/rnn_layer.h): a
    Bidirectional layer's hf / hb (max frames x units x state bits each) unless it writes its halves straight into
    a split store (concat into a store another layer reads).  A unidirectional layer keeps none: it writes its
    states into its output, the last one only without return_sequences."""
    if layer.kind == "bidirectional" and not layer.out_split:
        return max_frames * (layer.fwd.n_units * layer.fwd.state_t.width + layer.bwd.n_units * layer.bwd.state_t.width)
    return 0


def _sequence_rows(hw, x) -> list[dict]:
    """Per layer: its input sequence's storage, dense and compact (mask words + non-zeros, as the hardware holds it
    between layers: docs/arithmetic.md, "Sequence storage"; the first layer reads the model's input port and encodes
    each frame once on entry), and its storage traffic in words per inference, from the numpy reference's
    activations on the first SEQUENCE_SAMPLES samples."""
    h, rows = hw.quantize_input(x[:SEQUENCE_SAMPLES]), []
    in_t, held_frames = hw.input_t, hw.max_frames  # the frames the layer's input store is allocated for
    for layer in hw.layers:
        split = getattr(layer, "in_split", 0)
        s = sequence_storage(h != 0, in_t.width, max_frames=held_frames, split=split)
        held = "input port, encoded on entry" if layer.entry else "compact"
        if split:
            held += f", split {split} + {s.n - split}"
        rows.append(
            {
                "layer": layer.name,
                "n": s.n,
                "balancing": layer.balancing,
                "dense": s.dense_mean_bits,
                "dense_worst": s.dense_worst_bits,
                "compact": s.compact_mean_bits,
                "compact_worst": s.compact_worst_bits,
                "held": held,
                "state_buffers": state_buffer_bits(layer, hw.max_frames),
            }
        )
        h, results = layer.reference_batch(h)
        for key in ("entry_written", "seq_read", "out_written"):
            rows[-1][key] = float(np.mean([getattr(r, key) for r in results]))
        in_t, held_frames = layer.out_t, layer.out_frames(held_frames)
    return rows


def build_report(hw, x, samples: int | None = None, progress=None) -> dict:
    """Figures over the first ``samples`` samples of ``x`` (all by default), from the C simulation."""
    x = np.asarray(x)
    if x.ndim == 2:
        x = x[None]
    if samples is not None:
        if samples < 1:
            raise ValueError(f"samples must be at least 1, got {samples}")
        x = x[:samples]
    return report_of(hw, x, hw.csim(x, chunk=64, progress=progress))


def report_of(hw, x: np.ndarray, result) -> dict:
    """The figures of ``result``, the C simulation (a Prediction) of the batch ``x``."""
    n = len(result.layers)
    rows, frames = [], x.shape[1]
    for i, layer in enumerate(hw.layers):
        figures = [sample[i] for sample in result.layers]
        if layer.kind == "recurrent":
            rows.append(_direction_row(layer.name, "forward", layer.cell, layer.weights, [f.forward for f in figures]))
        elif layer.kind == "bidirectional":
            rows.append(_direction_row(layer.name, "forward", layer.fwd, layer.wf, [f.forward for f in figures]))
            rows.append(_direction_row(layer.name, "backward", layer.bwd, layer.wb, [f.backward for f in figures]))
        else:
            rows.append(_head_row(layer, figures, frames))
        frames = layer.out_frames(frames)
    per_inference = [sum(f.cycles for f in sample) for sample in result.layers]
    total = sum(per_inference) / n
    return {
        "model": hw.name,
        "samples": n,
        "clock_ns": hw.clock_period,
        "frames": int(x.shape[1]),
        "cycles_per_inference": total,
        "cycles_range": [min(per_inference), max(per_inference)],
        "us_per_inference": total * hw.clock_period / 1000,
        "cycles_per_frame": total / x.shape[1],
        "layers": rows,
        "sequences": _sequence_rows(hw, x),
    }


def _pct(v) -> str:
    return f"{v:.1%}" if v is not None else "-"


def format_text(report: dict) -> str:
    head = (
        f"{'layer':<22} {'dir':<8} {'w dens':>7} {'a dens':>7} {'x dens':>7} {'h dens':>7} {'pairs':>9} {'ideal':>8} "
        f"{'engine':>9} {'util':>6} {'spread':>6} {'dense b':>9} {'bitmask b':>9} {'csc b':>9}"
    )
    lines = [
        f"{report['model']}: {report['samples']} sample(s) of {report['frames']} frames; pairs and cycles are means per inference",
        head,
        "-" * len(head),
    ]
    for r in report["layers"]:
        b = r["storage_bits"]
        lines.append(
            f"{r['layer']:<22} {r['direction']:<8} {_pct(r['weight_density']):>7} {_pct(r['activation_density']):>7} "
            f"{_pct(r['x_density']):>7} {_pct(r['h_density']):>7} {r['pairs']:>9.0f} {r['ideal_cycles']:>8.0f} "
            f"{r['engine_cycles']:>9.0f} {_pct(r['utilisation']):>6} {_pct(r['lane_spread']):>6} "
            f"{b['dense']:>9} {b['bitmask']:>9} {b['csc']:>9}"
        )
    if report.get("sequences"):
        lines.append(
            "activation storage of each layer's input sequence, bits: dense, and compact (mask + non-zeros) as the hardware "
            "holds it between layers; words read and written per inference (mask words + values); states: the dense "
            "state sequences the layer keeps (hf / hb), bits"
        )
        lines.append(
            f"{'layer':<22} {'n':>5} {'dense':>10} {'worst':>10} {'compact':>10} {'worst':>10} {'read':>8} {'written':>8} "
            f"{'states':>9}  held / lane balancing"
        )
        for r in report["sequences"]:
            lines.append(
                f"{r['layer']:<22} {r['n']:>5} {r['dense']:>10.0f} {r['dense_worst']:>10.0f} {r['compact']:>10.0f} "
                f"{r['compact_worst']:>10.0f} {r['seq_read']:>8.0f} {r['out_written'] + r['entry_written']:>8.0f} "
                f"{r['state_buffers']:>9}  {r['held']} / {r['balancing']}"
            )
    lo, hi = report["cycles_range"]
    spread = f" (range {lo}..{hi})" if report["samples"] > 1 else ""
    lines.append(
        f"one inference of {report['frames']} frames: {report['cycles_per_inference']:.0f} cycles{spread}, "
        f"{report['cycles_per_frame']:.0f} per frame = {report['us_per_inference']:.1f} us at {report['clock_ns']} ns"
    )
    return "\n".join(lines)


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2)


def write_json(report: dict, path) -> Path:
    """The figures as JSON in ``path``, written whole or not at all."""
    from masr_hls.files import write_file

    return write_file(path, to_json(report))


def png_bytes(fig) -> bytes:
    """A matplotlib figure as PNG bytes (laid out tight, 120 dpi), closed: charts are written whole or not at all."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=120)
    plt.close(fig)
    return png.getvalue()


def write_plots(report: dict, folder) -> list[Path]:
    """PNG charts of the report in ``folder`` (density.png, cycles.png, storage.png): densities, cycles against the
    ideal, and weight storage.  Each chart appears whole or not at all; other files in the folder are kept."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    from masr_hls.files import check_output, write_folder

    folder = check_output(folder, folder=True)
    charts: dict[str, bytes] = {}
    rows = report["layers"]
    labels = [r["layer"] if r["direction"] == "-" else f"{r['layer']}\n{r['direction']}" for r in rows]
    where = np.arange(len(rows))
    value = lambda key: [r[key] if r[key] is not None else 0.0 for r in rows]  # noqa: E731

    def bars(name, title, ylabel, series, log=False, annotate=None):
        fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(rows) + 2), 4.2))
        width = 0.8 / len(series)
        for k, (label, values) in enumerate(series.items()):
            ax.bar(where + (k - (len(series) - 1) / 2) * width, values, width, label=label)
        if annotate:
            for i, text in enumerate(annotate):
                ax.annotate(text, (where[i], max(v[i] for v in series.values())), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(where, labels, fontsize=8)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
        ax.legend(fontsize=8)
        charts[name] = png_bytes(fig)
        return folder / name

    subtitle = f"{report['model']}, {report['samples']} sample(s) of {report['frames']} frames"
    paths = [
        bars(
            "density.png",
            f"Densities: {subtitle}",
            "fraction non-zero",
            {
                "weights": value("weight_density"),
                "activations (all)": value("activation_density"),
                "x (kernel engine)": value("x_density"),
                "h (recurrent engine)": value("h_density"),
            },
        ),
        bars(
            "cycles.png",
            f"Engine cycles per inference: {subtitle}",
            "cycles",
            {"ideal (pairs / MACs)": value("ideal_cycles"), "counted": value("engine_cycles")},
            annotate=[f"{r['utilisation']:.0%}" for r in rows],
        ),
        bars(
            "storage.png",
            f"Weight storage: {subtitle}",
            "bits",
            {kind: [r["storage_bits"][kind] for r in rows] for kind in ("dense", "bitmask", "csc")},
            log=True,
        ),
    ]
    write_folder(folder, charts, overwrite=True, keep_others=True)
    return paths
