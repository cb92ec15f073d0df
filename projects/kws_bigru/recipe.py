"""Keyword spotting with a bidirectional ReLU-GRU, pruned to 80% sparsity, through the whole masr_hls flow.

    python projects/kws_bigru/recipe.py [--out build/kws_bigru]

Data: 12 synthetic "keywords" (fixed spectro-temporal patterns of 25 frames x
20 features in noise, rectified like log-mel energies above a floor), made
deterministically here.  Model: Bidirectional(GRU(24, relu), merge sum) ->
Dense(12, softmax) on the final states.  Trained for a few epochs, then
magnitude-pruned to 80% (lane-balanced for 4 lanes) while fine-tuning.
Takes about a minute on 2 cores.
"""

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="build/kws_bigru", help="where the HLS project and the IP go")
    args = parser.parse_args()
    from masr_hls.quiet import load_tensorflow

    load_tensorflow()  # without its start-up notices

    import keras
    import numpy as np

    from masr_hls import flow
    from masr_hls.training.pruning import prune_model

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = flow.synthetic_sequences(rng, 1200, frames=25, features=20, classes=12)
    L = keras.layers
    model = keras.Sequential(
        [
            keras.Input((25, 20)),
            L.Bidirectional(L.GRU(24, activation="relu"), merge_mode="sum", name="bigru"),
            L.Dense(12, activation="softmax", name="keyword"),
        ],
        name="kws_bigru",
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:1000], y[:1000], epochs=4, batch_size=64, verbose=0)
    prune_model(model, x[:1000], y[:1000], final_sparsity=0.8, epochs=3, lanes=4, batch_size=64, verbose=0)
    accuracy = model.evaluate(x[1000:], y[1000:], verbose=0)[1]
    print(f"[train] kws_bigru: held-out accuracy {accuracy:.1%} after pruning to 80%")
    ok = flow.run(model, x[1000:1064], args.out, config=str(HERE / "config.yml"), name="kws_bigru")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
