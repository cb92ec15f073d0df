"""Keyword spotting on synthesised speech with a sparse bidirectional ReLU-GRU, through the whole masr_hls flow.

    python projects/kws_speech/recipe.py [--out build/kws_speech] [--cache build/speech_cache] [--retrain]

By default the flow runs on the trained model shipped beside this recipe (model.keras, made by
``--retrain --update-bundled``), and only the held-out clips are spoken.  ``--retrain`` speaks
the whole data set and trains and prunes the model again (about two minutes more on 2 cores).

Data: masr_hls.training.speech_data, 12 classes (10 keywords, unknown, silence)
spoken by espeak-ng; 1 s clips as 25 frames (40 ms) x 16 log-mel bands above a
floor, so frames without speech are zero.  The test split's voices are never
heard in training.

Model: Bidirectional(GRU(48, relu), merge concat) -> Dense(12, softmax) on the
final states.  Trained with an L1 activity penalty on every state (not only the
final one: a twin with return_sequences=True and the same weights is trained and
its weights copied into the deployed model), then pruned gradually to 90% (both directions'
kernels and recurrent kernels), balanced over 8 lanes (config: LaneAssignment interleaved).
The 12-output head stays dense (``skip=("keyword",)``): it holds 1,152 of the model's
19,584 matrix weights, and pruning it to 90% as well cost about 3.5 points of held-out
accuracy (88.4% against 91.9%).

Prints float accuracy, fixed-point C-simulation accuracy and activation density
on the held-out voices; the model the flow ran on is saved as <out>/model.keras.
"""

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUNDLED = HERE / "model.keras"
START = time.perf_counter()

FRAMES, N_MELS, UNITS, LANES = 25, 16, 48, 8
L1_PENALTY = 1e-4
SPARSITY = 0.9
DROPOUT = 0.3


def build(units: int, classes: int, l1: float, twin: bool):
    """The deployed model, or (``twin``) its training twin that sees every state, so the L1 penalty acts on all of them."""
    import keras

    L = keras.layers
    inp = keras.Input((FRAMES, N_MELS))
    reg = keras.regularizers.L1(l1) if twin else None
    gru = L.GRU(units, activation="relu", return_sequences=twin, activity_regularizer=reg)
    h = L.Bidirectional(gru, merge_mode="concat", name="bigru")(inp)
    if twin:  # the deployed layer's output: the forward state after the last frame, the backward state after the first
        h = L.Lambda(lambda s: keras.ops.concatenate([s[:, -1, :units], s[:, 0, units:]], axis=-1), name="final_states")(h)
    h = L.Dropout(DROPOUT, name="dropout")(h)  # training only: the held-out voices are new speakers
    out = L.Dense(classes, activation="softmax", name="keyword")(h)
    return keras.Model(inp, out, name="kws_speech")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="build/kws_speech", help="where the model, the HLS project and the IP go")
    parser.add_argument("--cache", default="build/speech_cache", help="where the generated data set is cached")
    parser.add_argument("--retrain", action="store_true", help="train and prune the model again instead of using model.keras")
    parser.add_argument("--update-bundled", action="store_true", help="with --retrain: replace the shipped model.keras")
    args = parser.parse_args()
    if args.update_bundled and not args.retrain:
        parser.error("--update-bundled replaces the shipped model with a retrained one: add --retrain")
    from masr_hls.quiet import load_tensorflow

    load_tensorflow()  # without its start-up notices

    import keras
    import numpy as np

    from masr_hls import flow
    from masr_hls.training.speech_data import load_kws

    x_train, y_train, x_test, y_test, meta = load_kws(cache_dir=args.cache, frames=FRAMES, n_mels=N_MELS, test_only=not args.retrain)
    classes = meta["classes"]
    print(
        f"[data] {len(x_train)} train / {len(x_test)} test clips, {len(classes)} classes; "
        f"{len(meta['voices']['train'])} train voices, {len(meta['voices']['test'])} held-out voices "
        f"(variants {', '.join(meta['test_variants'])}); "
        + (f"cached ({meta['load_seconds']:.1f} s)" if meta["cached"] else f"generated in {meta['generation_seconds']:.1f} s")
        + f"; input density {np.count_nonzero(x_test) / x_test.size:.1%}"
    )

    if args.retrain:
        model = train(x_train, y_train, x_test, len(classes))
        if args.update_bundled:
            model.save(BUNDLED)
            print(f"[train] saved as {BUNDLED}")
    else:
        model = keras.saving.load_model(BUNDLED, compile=False)
        print(f"[model] {BUNDLED.relative_to(HERE.parents[1])}: the trained, pruned model shipped with the project (--retrain to train it again)")
    accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), -1) == y_test))
    print(f"[float] accuracy on {len(x_test)} held-out clips {accuracy:.1%}")
    config = str(HERE / "config.yml")
    try:
        ok = flow.run(model, x_test[:64], args.out, config=config, name="kws_speech")  # starts from an empty args.out
    finally:  # the model is kept even when a step of the flow fails
        Path(args.out).mkdir(parents=True, exist_ok=True)
        model.save(Path(args.out) / "model.keras")

    flow.held_out_figures(model, x_test, y_test, config, args.out, "kws_speech", accuracy)
    print(f"[time] {time.perf_counter() - START:.0f} s in all")
    return 0 if ok else 1


def train(x_train, y_train, x_test, classes: int):
    """Train the twin with the L1 activity penalty, prune it, and return the deployed model with its weights."""
    import keras
    import numpy as np

    from masr_hls.training.pruning import prune_model, weight_sparsity

    keras.utils.set_random_seed(0)
    t0 = time.perf_counter()
    twin = build(UNITS, classes, L1_PENALTY, twin=True)
    twin.compile(optimizer=keras.optimizers.Adam(0.005), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    twin.fit(x_train, y_train, epochs=8, batch_size=64, verbose=0)
    twin.optimizer.learning_rate.assign(0.002)  # gentler steps while the masks tighten
    prune_model(twin, x_train, y_train, final_sparsity=SPARSITY, epochs=8, lanes=LANES, batch_size=64, verbose=0, skip=("keyword",))
    model = build(UNITS, classes, 0.0, twin=False)
    model.set_weights(twin.get_weights())
    train_seconds = time.perf_counter() - t0
    gap = float(np.max(np.abs(model.predict(x_test[:256], verbose=0) - twin.predict(x_test[:256], verbose=0))))
    if gap > 1e-4:
        raise RuntimeError(f"the deployed model differs from its training twin by {gap:.2g}")
    achieved = np.mean([s for path, s in weight_sparsity(model).items() if path.startswith("bigru/")])
    print(
        f"[train] kws_speech in {train_seconds:.1f} s: the recurrent layer pruned to {achieved:.1%}, the head dense "
        f"(L1 activity penalty {L1_PENALTY:g}, {LANES} lanes)"
    )
    return model


if __name__ == "__main__":
    sys.exit(main())
