"""Convert + compile time and C-simulation throughput: masr_hls against hls4ml's Vitis backend, in one run.

    python bench/convert_vs_hls4ml.py [--samples 64] [--units 128] [--frames 50]

Workload: 2 recurrent layers of ReLU-GRU(units), T frames, 90% of weights pruned
(magnitude), 40 features in.  masr_hls converts the bidirectional model.  hls4ml
1.3 cannot convert Keras-3 Bidirectional(GRU) (its handler fails to split the
GRU bias), so the script records that failure and then compares both tools on
the largest model hls4ml does convert: the same stack with the Bidirectional
wrappers removed (forward GRUs only).  Ratios are measured side by side here;
the machine is shared, so read them as ratios, not absolute speeds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build(units: int, frames: int, bidirectional: bool):
    import keras

    from masr_hls.training.pruning import prune_to_sparsity

    keras.utils.set_random_seed(0)
    L = keras.layers

    def gru(last):
        layer = L.GRU(units, activation="relu", return_sequences=not last)
        return L.Bidirectional(layer) if bidirectional else layer

    model = keras.Sequential([keras.Input((frames, 40)), gru(False), gru(True), L.Dense(12, activation="softmax")])
    return prune_to_sparsity(model, 0.9)


def time_masr(model, x, workdir):
    """Convert + compile seconds, csim samples/s (default threads), csim samples/s on one thread,
    reference samples/s, csim outputs."""
    import masr_hls

    os.environ["MASR_HLS_CACHE"] = str(Path(workdir) / "masr-cache")  # a cold build, as a new user gets
    t0 = time.perf_counter()
    hm = masr_hls.convert_from_keras_model(model, hls_config={"Model": {"Lanes": 16}}, output_dir=str(Path(workdir) / "masr"))
    hm.compile()
    t1 = time.perf_counter()
    y = hm.predict(x)
    t2 = time.perf_counter()
    masr_hls.masr_model(hm).csim(x, threads=1)
    t3 = time.perf_counter()
    reference = hm.predict(x, level="reference")
    t4 = time.perf_counter()
    if not np.array_equal(reference, y):
        raise AssertionError("masr_hls csim differs from its numpy reference")
    return t1 - t0, len(x) / (t2 - t1), len(x) / (t3 - t2), len(x) / (t4 - t3), y


def time_keras(model, x, batch_size: int = 32) -> float:
    """Keras float samples/s (after a warm-up call, which builds the graph)."""
    x = np.asarray(x, np.float32)
    model.predict(x[:batch_size], batch_size=batch_size, verbose=0)
    t0 = time.perf_counter()
    model.predict(x, batch_size=batch_size, verbose=0)
    return len(x) / (time.perf_counter() - t0)


def time_hls4ml(model, x, workdir):
    import hls4ml

    t0 = time.perf_counter()
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", default_precision="ap_fixed<16,6>")
    hm = hls4ml.converters.convert_from_keras_model(
        model, hls_config=config, backend="Vitis", output_dir=str(Path(workdir) / "hls4ml"), io_type="io_parallel"
    )
    hm.compile()
    t1 = time.perf_counter()
    y = hm.predict(np.ascontiguousarray(x, dtype=np.float32))
    t2 = time.perf_counter()
    return t1 - t0, len(x) / (t2 - t1), y


def compare(samples: int = 64, units: int = 128, frames: int = 50) -> dict:
    """Both tools on the bidirectional model (hls4ml's failure recorded) and on the forward-only one."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (samples, frames, 40)) * (rng.random((samples, frames, 40)) < 0.5)
    rows, failure = [], None
    cache = os.environ.get("MASR_HLS_CACHE")
    try:
        with tempfile.TemporaryDirectory() as work:
            bi = build(units, frames, bidirectional=True)
            c, bi_tput, bi_one, ref_tput, _ = time_masr(bi, x, Path(work) / "bi")
            keras_bi = time_keras(bi, x)
            rows += [
                ("Keras float", "2x BiGRU-relu", None, keras_bi),
                ("masr_hls csim", "2x BiGRU-relu", c, bi_tput),
                ("  one thread", "2x BiGRU-relu", None, bi_one),
                ("masr reference", "2x BiGRU-relu", None, ref_tput),
            ]
            try:
                hc_bi, ht_bi, _ = time_hls4ml(bi, x, Path(work) / "bi")
                rows.append(("hls4ml Vitis", "2x BiGRU-relu", hc_bi, ht_bi))
            except Exception as exc:  # noqa: BLE001 - the failure is the finding
                rows.append(("hls4ml Vitis", "2x BiGRU-relu", None, None))
                failure = f"{type(exc).__name__}: {str(exc)[:160]}"
            uni = build(units, frames, bidirectional=False)
            mc, mt, m_one, mref, my = time_masr(uni, x, Path(work) / "uni")
            keras_uni = time_keras(uni, x)
            rows += [
                ("Keras float", "2x GRU-relu", None, keras_uni),
                ("masr_hls csim", "2x GRU-relu", mc, mt),
                ("  one thread", "2x GRU-relu", None, m_one),
                ("masr reference", "2x GRU-relu", None, mref),
            ]
            hc, ht, hy = time_hls4ml(uni, x, Path(work) / "uni")
            rows.append(("hls4ml Vitis", "2x GRU-relu", hc, ht))
    finally:  # time_masr points the build cache at the temporary folder; give the caller its own back
        if cache is None:
            os.environ.pop("MASR_HLS_CACHE", None)
        else:
            os.environ["MASR_HLS_CACHE"] = cache
    return {
        "samples": samples,
        "units": units,
        "frames": frames,
        "rows": rows,
        "bidirectional_failure": failure,
        "predict_speedup": mt / ht,
        "convert_time_ratio": mc / hc,
        "csim_over_keras": {"2x BiGRU-relu": bi_tput / keras_bi, "2x GRU-relu": mt / keras_uni},
        "max_abs_difference": float(np.max(np.abs(my - np.asarray(hy).reshape(my.shape)))),
    }


def format_comparison(result: dict) -> str:
    lines = []
    if result["bidirectional_failure"]:
        lines.append(f"hls4ml could not convert the bidirectional model: {result['bidirectional_failure']}")
    lines += [
        f"\nworkload: {result['samples']} samples, T={result['frames']}, 40 features, GRU({result['units']}) x2, 90% weights pruned\n",
        f"{'tool':<15} {'model':<16} {'convert+compile s':>18} {'predict samples/s':>18}",
    ]
    for tool, model, c, t in result["rows"]:
        cs = f"{c:.1f}" if c is not None else ("failed" if tool.startswith("hls4ml") else "-")
        ts = f"{t:.1f}" if t is not None else "-"
        lines.append(f"{tool:<15} {model:<16} {cs:>18} {ts:>18}")
    lines += [
        f"\non the common model: masr_hls predicts {result['predict_speedup']:.1f}x faster than hls4ml's C simulation "
        f"and converts+compiles in {result['convert_time_ratio']:.2f}x hls4ml's time",
        f"max |masr - hls4ml| on the common model: {result['max_abs_difference']:.4f}",
    ]
    lines += [f"masr_hls csim runs at {ratio:.2f}x Keras float's samples/s on {model}" for model, ratio in result["csim_over_keras"].items()]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=64, help="inputs per measurement (default: 64)")
    parser.add_argument("--units", type=int, default=128, help="GRU units per layer (default: 128)")
    parser.add_argument("--frames", type=int, default=50, help="frames per input (default: 50)")
    args = parser.parse_args()
    print(format_comparison(compare(args.samples, args.units, args.frames)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
