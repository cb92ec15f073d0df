"""The whole flow on one model: convert, C-simulate, cross-check, export, check the export, report."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from . import convert_from_keras_model, export, tcl_check
from .mxv import ideal_cycles


def run(model, x, out_dir, config=None, name: str = "model") -> bool:
    """Run every step, print what each found, and return True when every check passed."""
    out_dir = Path(out_dir)
    shutil.rmtree(out_dir, ignore_errors=True)
    t0 = time.perf_counter()
    hw = convert_from_keras_model(model, hls_config=config, output_dir=out_dir / "hls", project_name=name)
    hw.write()
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
    print(f"[export] {ip}: testbench {'passed' if tb_ok else 'FAILED'} ({tb_log.strip().splitlines()[-1]}); "
          + ", ".join(f"{d.script} dry run {'ok' if d.ok else 'FAILED'}" for d in dry)
          + ("; relocatable" if not stray else f"; absolute paths: {stray[:3]}"))

    print_report(hw, hw.csim(x[:1]))
    return check.ok and tb_ok and all(d.ok for d in dry) and not stray


def print_report(hw, prediction) -> None:
    macs = {layer.name: _macs(layer) for layer in hw.layers}
    print(f"\n{'layer':<28} {'kind':<14} {'w density':>9} {'pairs':>9} {'ideal':>8} {'cycles':>8} {'util':>6}")
    total = 0
    for row, result in zip(hw.layer_summary(), prediction.layers[0]):
        ideal = ideal_cycles(result.pairs, macs[row["name"]])
        total += result.cycles
        util = ideal / result.cycles if result.cycles else 1.0
        print(f"{row['name']:<28} {row['kind']:<14} {row['weight_density']:>9.1%} {result.pairs:>9} {ideal:>8} "
              f"{result.cycles:>8} {util:>6.1%}")
    us = total * hw.clock_period / 1000
    print(f"one inference: {total} cycles = {us:.1f} us at {hw.clock_period} ns ({1e6 / us if us else 0:.0f} inferences/s)")


def _macs(layer) -> int:
    if hasattr(layer, "head"):
        return layer.head.lanes * layer.head.macs_per_lane
    cell = layer.cell if hasattr(layer, "cell") else layer.fwd
    return cell.lanes * cell.macs_per_lane


def synthetic_sequences(rng, samples, frames, features, classes, sparsity=0.5):
    """Class-dependent spectro-temporal patterns in noise, rectified so about half the inputs are zero."""
    templates = rng.normal(0, 1, (classes, frames, features))
    labels = rng.integers(0, classes, samples)
    x = templates[labels] + rng.normal(0, 0.8, (samples, frames, features))
    x = np.maximum(x - np.quantile(x, sparsity), 0.0)
    return x.astype(np.float32), labels
