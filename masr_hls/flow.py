"""The whole flow on one model: convert, C-simulate, cross-check, export, check the export, report."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from masr_hls import convert_from_keras_model, masr_model
from masr_hls.analysis import report
from masr_hls.export import tcl_check
from masr_hls.export import vitis_project as export


def run(model, x, out_dir, config=None, name: str = "model") -> bool:
    """Run every step, print what each found, and return True when every check passed."""
    out_dir = Path(out_dir)
    shutil.rmtree(out_dir, ignore_errors=True)
    t0 = time.perf_counter()
    hw = masr_model(convert_from_keras_model(model, hls_config=config, output_dir=out_dir / "hls", project_name=name))
    hw.compile()
    print(f"[convert+compile] {out_dir / 'hls'} in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    check = hw.cross_check(x)
    print(f"[csim] {len(x)} samples in {time.perf_counter() - t0:.1f} s (with reference and Keras)")
    print(f"[cross-check] {check.summary()}")

    ip = export.export(hw, out_dir / "ip", x[: min(len(x), 8)])
    tb_ok, tb_log = export.run_testbench(ip)
    dry = tcl_check.check_export(ip)
    stray = export.absolute_paths(ip)
    print(
        f"[export] {ip}: testbench {'passed' if tb_ok else 'FAILED'} ({tb_log.strip().splitlines()[-1]}); "
        + ", ".join(f"{d.script} dry run {'ok' if d.ok else 'FAILED'}" for d in dry)
        + ("; relocatable" if not stray else f"; absolute paths: {stray[:3]}")
    )

    figures = report.build_report(hw, x)
    report.write_json(figures, out_dir / "report" / "report.json")
    plots = report.write_plots(figures, out_dir / "report")
    print(f"[report] {out_dir / 'report'}: report.json, " + ", ".join(p.name for p in plots))
    print()
    print(report.format_text(figures))
    return check.ok and tb_ok and all(d.ok for d in dry) and not stray


def held_out_figures(model, x, y, config, out_dir, name: str, float_accuracy: float) -> None:
    """Print fixed-point C-simulation accuracy and activation density over a labelled held-out set.

    Converts into ``out_dir/hls`` again: the C simulation compiled by :func:`run` is reused (cached by content).
    """
    hm = convert_from_keras_model(model, hls_config=config, output_dir=Path(out_dir) / "hls", project_name=name)
    hm.compile()
    t0 = time.perf_counter()
    fixed = float(np.mean(np.argmax(hm.predict(x), -1) == y))
    figures = report.build_report(masr_model(hm), x)
    print(
        f"[csim] fixed-point accuracy on {len(x)} held-out clips {fixed:.1%} "
        f"(float {float_accuracy:.1%}, {100 * (fixed - float_accuracy):+.1f} points) in {time.perf_counter() - t0:.1f} s"
    )
    print(
        "[density] over the held-out clips: "
        + "; ".join(
            f"{r['layer']} {r['direction']}: x {r['x_density']:.1%}"
            + (f", h {r['h_density']:.1%}" if r["h_density"] is not None else "")
            + f", pairs/meetings {r['activation_density']:.1%}"
            for r in figures["layers"]
        )
    )


def synthetic_sequences(rng, samples, frames, features, classes, sparsity=0.5):
    """Class-dependent spectro-temporal patterns in noise, rectified so about half the inputs are zero."""
    templates = rng.normal(0, 1, (classes, frames, features))
    labels = rng.integers(0, classes, samples)
    x = templates[labels] + rng.normal(0, 0.8, (samples, frames, features))
    x = np.maximum(x - np.quantile(x, sparsity), 0.0)
    return x.astype(np.float32), labels
