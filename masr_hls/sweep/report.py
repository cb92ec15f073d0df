"""A sweep's stored points as a table and as Pareto fronts (PNG): accuracy against latency, storage and energy."""

from __future__ import annotations

from pathlib import Path

COLUMNS = (
    ("model", "model", "{}"),
    ("settings", "label", "{}"),
    ("n", "samples", "{}"),
    ("float acc", "float_accuracy", "{:.1%}"),
    ("fixed acc", "fixed_accuracy", "{:.1%}"),
    ("cycles", "cycles_mean", "{:.0f}"),
    ("p99", "cycles_p99", "{:.0f}"),
    ("us", "latency_us", "{:.1f}"),
    ("util", "utilisation", "{:.1%}"),
    ("nJ", "energy_with_stores_nj", "{:.1f}"),  # engines and sequence stores; rows stored before the stores were counted show '-'
    ("weight kb", "weight_bits", "{:.1f}"),
    ("act kb", "activation_bits", "{:.1f}"),
)
RTL_COLUMNS = (  # shown when a row has them (yosys: true)
    ("LUT", "rtl_lut", "{}"),
    ("FF", "rtl_ff", "{}"),
    ("DSP", "rtl_dsp", "{}"),
    ("BRAM18", "rtl_bram18", "{}"),
)


def _cell(row: dict, key: str, fmt: str) -> str:
    if row.get(key) is None:  # a figure the store's older rows do not have
        return "-"
    return fmt.format(row[key] / 1000 if key.endswith("_bits") else row[key])


def format_table(rows: list[dict]) -> str:
    """One line per point, most accurate first."""
    rows = sorted(rows, key=lambda r: (-r["fixed_accuracy"], r["latency_us"]))
    columns = COLUMNS + (RTL_COLUMNS if any("rtl_lut" in r for r in rows) else ())
    cells = [[name for name, _, _ in columns]]
    for r in rows:
        cells.append([_cell(r, key, fmt) for _, key, fmt in columns])
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in cells]
    metrics = sorted({r.get("metric", "accuracy") for r in rows})
    notes = [f"acc: {', '.join(metrics)} on the evaluation set"]
    left_out = sorted({reason for r in rows for reason in (r.get("rtl_left_out") or {}).values()})
    if left_out:
        notes.append("RTL resources ('-': the recurrent layers are not all in the RTL) leave out: " + "; ".join(left_out))
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:], *notes])


def pareto(rows: list[dict], cost: str) -> list[dict]:
    """The points no other point beats on both fixed-point accuracy and ``cost`` (lower is better)."""
    front = []
    for r in sorted(rows, key=lambda r: (r[cost], -r["fixed_accuracy"])):
        if not front or r["fixed_accuracy"] > front[-1]["fixed_accuracy"]:
            front.append(r)
    return front


def write_plots(rows: list[dict], folder) -> list[Path]:
    """pareto_latency.png, pareto_storage.png and pareto_energy.png in ``folder``: every point, its label, the front
    joined (the energy chart: the points whose energy covers every layer)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from masr_hls.analysis.report import png_bytes
    from masr_hls.files import check_output, write_folder

    folder = check_output(folder, folder=True)
    charts = {}
    for name, cost, xlabel, scale in (
        ("pareto_latency.png", "latency_us", "latency per inference (us)", 1.0),
        ("pareto_storage.png", "weight_bits", "weight storage (kbit)", 1e-3),
        ("pareto_energy.png", "energy_with_stores_nj", "energy per inference, engines and sequence stores (nJ)", 1.0),
    ):
        shown = [r for r in rows if r.get(cost) is not None]
        if not shown:
            continue
        fig, ax = plt.subplots(figsize=(7.5, 4.8))
        ax.scatter([r[cost] * scale for r in shown], [r["fixed_accuracy"] for r in shown], s=24, label="design points")
        front = pareto(shown, cost)
        ax.plot([r[cost] * scale for r in front], [r["fixed_accuracy"] for r in front], "r-o", ms=4, label="Pareto front")
        at: dict[tuple, list[str]] = {}  # points at the same place share one label, a line each
        for r in shown:
            at.setdefault((r[cost] * scale, r["fixed_accuracy"]), []).append(r["label"])
        for i, ((x, y), labels) in enumerate(sorted(at.items())):
            ax.annotate("\n".join(labels), (x, y), fontsize=6, xytext=(4, (9, -9, 21, -21)[i % 4]), textcoords="offset points", va="center")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("fixed-point accuracy")
        ax.legend(fontsize=8)
        charts[name] = png_bytes(fig)
    write_folder(folder, charts, overwrite=True, keep_others=True)
    return [folder / name for name in charts]
