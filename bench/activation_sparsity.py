"""How much activation sparsity an L1 activity penalty buys, and what it is worth in cycles.

    python bench/activation_sparsity.py [--penalties 0,0.001,0.003] [--merge sum] [--epochs 5]

A ReLU-GRU state is rarely zero: the new state blends the old one with the
rectified candidate, so once an element is non-zero it tends to stay so.  An
L1 penalty on the recurrent layers' outputs (Keras ``activity_regularizer``,
training only: it does not change the converted model) pushes states to
exactly zero.  For each penalty this script trains the same 2-layer
Bidirectional ReLU-GRU on the synthetic keyword task of projects/kws_bigru,
prunes it to 80% (lane-balanced, 4 lanes), converts it twice (MASR and
weight-only-sparse modes) and prints held-out accuracy, the densities the
engines see (``masr_hls.analysis.report``) and MASR's speed-up in engine cycles, all
from the C simulation of the held-out samples.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LANES = 4
SPARSITY = 0.8


def train(penalty: float, merge: str, epochs: int, x, y, seed: int):
    import keras

    from masr_hls.training.pruning import prune_model

    keras.utils.set_random_seed(seed)
    L = keras.layers
    reg = keras.regularizers.L1(penalty) if penalty > 0 else None
    model = keras.Sequential(
        [
            keras.Input(x.shape[1:]),
            L.Bidirectional(L.GRU(32, activation="relu", return_sequences=True, activity_regularizer=reg), merge_mode=merge, name="bigru1"),
            L.Bidirectional(L.GRU(32, activation="relu", activity_regularizer=reg), merge_mode=merge, name="bigru2"),
            L.Dense(12, activation="softmax", name="keyword"),
        ],
        name=f"kws_l1_{penalty:g}".replace(".", "p").replace("-", "m"),
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:1000], y[:1000], epochs=epochs, batch_size=64, verbose=0)
    prune_model(model, x[:1000], y[:1000], final_sparsity=SPARSITY, epochs=3, lanes=LANES, batch_size=64, verbose=0)
    return model, float(model.evaluate(x[1000:], y[1000:], verbose=0)[1])


def engine_cycles(figures: dict) -> float:
    return sum(r["engine_cycles"] for r in figures["layers"])


def measure(model, x, work: Path) -> dict:
    from masr_hls import convert_from_keras_model, masr_model
    from masr_hls.analysis import report

    per_mode = {}
    for mode in ("masr", "weight_sparse"):
        config = {"Model": {"Lanes": LANES, "LaneAssignment": "interleaved", "Mode": mode}}
        hw = masr_model(convert_from_keras_model(model, hls_config=config, output_dir=work / f"{model.name}_{mode}"))
        per_mode[mode] = report.build_report(hw, x)
    return per_mode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--penalties", default="0,0.001,0.003", help="comma-separated L1 activity penalties (default: 0,0.001,0.003)")
    parser.add_argument("--merge", default="sum", choices=("sum", "concat", "ave", "mul"), help="Bidirectional merge mode (default: sum)")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs before pruning (default: 5)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        penalties = [float(p) for p in args.penalties.split(",")]
    except ValueError:
        parser.error(f"--penalties: {args.penalties!r} is not a comma-separated list of numbers")
    if any(p < 0 for p in penalties):
        parser.error("--penalties must not be negative")

    from masr_hls.flow import synthetic_sequences

    t0 = time.perf_counter()
    x, y = synthetic_sequences(np.random.default_rng(args.seed), 1200, frames=25, features=20, classes=12)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for penalty in penalties:
            model, accuracy = train(penalty, args.merge, args.epochs, x, y, args.seed)
            figures = measure(model, x[1000:1064], Path(work))
            rows.append((penalty, accuracy, figures))
            print(f"penalty {penalty:g}: trained and measured ({time.perf_counter() - t0:.0f} s)", flush=True)

    print(
        f"\n2 x Bidirectional(GRU(32, relu), merge {args.merge}) -> Dense(12); {SPARSITY:.0%} pruned, {LANES} lanes; "
        "densities and cycles over 64 held-out samples (C simulation)"
    )
    head = f"{'L1 penalty':>10} {'accuracy':>8}  {'layer':<8} {'dir':<8} {'x dens':>7} {'h dens':>7} {'a dens':>7}"
    print(head + f"  {'masr engine':>11} {'ws engine':>10} {'speed-up':>8}")
    print("-" * (len(head) + 33))
    for penalty, accuracy, figures in rows:
        masr, ws = figures["masr"], figures["weight_sparse"]
        for i, (r, w) in enumerate(zip(masr["layers"], ws["layers"])):
            if r["kind"] == "dense":
                continue
            lead = f"{penalty:>10g} {accuracy:>8.1%}" if i == 0 else " " * 19
            print(
                f"{lead}  {r['layer']:<8} {r['direction']:<8} {r['x_density']:>7.1%} {r['h_density']:>7.1%} "
                f"{r['activation_density']:>7.1%}  {r['engine_cycles']:>11.0f} {w['engine_cycles']:>10.0f} "
                f"{w['engine_cycles'] / r['engine_cycles']:>7.2f}x"
            )
        print(
            f"{'':>19}  {'all':<17} {'':>23}  {engine_cycles(masr):>11.0f} {engine_cycles(ws):>10.0f} "
            f"{engine_cycles(ws) / engine_cycles(masr):>7.2f}x"
        )
    print(f"\ntotal run time {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
