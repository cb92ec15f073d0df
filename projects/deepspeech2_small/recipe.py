"""A DeepSpeech2-shaped acoustic model, scaled to fit here, through the whole masr_hls flow.

    python projects/deepspeech2_small/recipe.py [--out build/deepspeech2_small]

DeepSpeech2 stacks bidirectional ReLU-GRU layers and emits a character
distribution per frame.  Here: 2 x Bidirectional(GRU(32, relu), merge sum) over
40 frames x 24 features, then a per-frame Dense(16, softmax) head.  Data:
synthetic per-frame labels (each frame's class is the pattern active there),
made deterministically.  Trained briefly, pruned to 90% while fine-tuning.
"""

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def make_data(rng, samples, frames=40, features=24, classes=16):
    import numpy as np

    patterns = rng.normal(0, 1.5, (classes, features))
    labels = np.repeat(rng.integers(0, classes, (samples, frames // 4)), 4, axis=1)  # a "character" lasts 4 frames
    x = patterns[labels] + rng.normal(0, 0.7, (samples, frames, features))
    return np.maximum(x, 0.0).astype("float32"), labels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="build/deepspeech2_small", help="where the HLS project and the IP go")
    args = parser.parse_args()
    from masr_hls.quiet import load_tensorflow

    load_tensorflow()  # without its start-up notices

    import keras
    import numpy as np

    from masr_hls import flow
    from masr_hls.training.pruning import prune_model

    keras.utils.set_random_seed(0)
    x, y = make_data(np.random.default_rng(0), 600)
    L = keras.layers
    model = keras.Sequential(
        [
            keras.Input((40, 24)),
            L.Bidirectional(L.GRU(32, activation="relu", return_sequences=True), merge_mode="sum", name="bigru1"),
            L.Bidirectional(L.GRU(32, activation="relu", return_sequences=True), merge_mode="sum", name="bigru2"),
            L.TimeDistributed(L.Dense(16, activation="softmax"), name="chars"),
        ],
        name="deepspeech2_small",
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:500], y[:500], epochs=3, batch_size=50, verbose=0)
    prune_model(model, x[:500], y[:500], final_sparsity=0.9, epochs=3, lanes=8, batch_size=50, verbose=0)
    accuracy = model.evaluate(x[500:], y[500:], verbose=0)[1]
    print(f"[train] deepspeech2_small: per-frame held-out accuracy {accuracy:.1%} after pruning to 90%")
    ok = flow.run(model, x[500:532], args.out, config=str(HERE / "config.yml"), name="deepspeech2_small")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
