"""A DeepSpeech2-shaped stack on synthesised keyword speech, sparse in weights and activations, through the whole flow.

    python projects/ds2_speech/recipe.py [--out build/ds2_speech] [--cache build/speech_cache] [--epochs 6]

Data: masr_hls.training.speech_data, 12 classes (10 keywords, unknown, silence)
spoken by espeak-ng; 1 s clips as 49 frames (20 ms) x 20 log-mel bands above a
floor.  The test split's voices are never heard in training.

Model: 2 x Bidirectional(GRU(128, relu), merge concat) -> Dense(12, softmax)
on the final states, the recurrent layers as in DeepSpeech2.  Trained with an
L1 activity penalty on every state (the last layer through a training twin that
returns every state; its weights are copied into the deployed model), then
pruned gradually to 90% (every matrix), balanced over 16 lanes (config:
LaneAssignment interleaved).  Takes several minutes on 2 cores.

Prints float accuracy, fixed-point C-simulation accuracy and activation density
on the held-out voices; the trained model is saved as <out>/model.keras.
"""

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

FRAMES, N_MELS, UNITS, LAYERS, LANES = 49, 20, 128, 2, 16
L1_PENALTY = 3e-5
SPARSITY = 0.9
DROPOUT = 0.3


def build(classes: int, l1: float, twin: bool):
    """The deployed model, or (``twin``) its training twin whose last layer returns every state for the L1 penalty."""
    import keras

    L = keras.layers
    inp = h = keras.Input((FRAMES, N_MELS))
    for i in range(LAYERS):
        sequences = twin or i < LAYERS - 1
        reg = keras.regularizers.L1(l1) if twin else None
        gru = L.GRU(UNITS, activation="relu", return_sequences=sequences, activity_regularizer=reg)
        h = L.Bidirectional(gru, merge_mode="concat", name=f"bigru{i + 1}")(h)
    if twin:  # the deployed last layer's output: forward state after the last frame, backward state after the first
        h = L.Lambda(lambda s: keras.ops.concatenate([s[:, -1, :UNITS], s[:, 0, UNITS:]], axis=-1), name="final_states")(h)
    h = L.Dropout(DROPOUT, name="dropout")(h)  # training only
    out = L.Dense(classes, activation="softmax", name="keyword")(h)
    return keras.Model(inp, out, name="ds2_speech")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="build/ds2_speech", help="where the model, the HLS project and the IP go")
    parser.add_argument("--cache", default="build/speech_cache", help="where the generated data set is cached")
    parser.add_argument("--epochs", type=int, default=6, help="epochs of training, and again of pruning")
    args = parser.parse_args()
    from masr_hls.quiet import load_tensorflow

    load_tensorflow()  # without its start-up notices

    import keras
    import numpy as np

    from masr_hls import flow
    from masr_hls.training.pruning import prune_model, weight_sparsity
    from masr_hls.training.speech_data import load_kws

    x_train, y_train, x_test, y_test, meta = load_kws(cache_dir=args.cache, frames=FRAMES, n_mels=N_MELS)
    classes = meta["classes"]
    print(
        f"[data] {len(x_train)} train / {len(x_test)} test clips, {len(classes)} classes; "
        f"{len(meta['voices']['train'])} train voices, {len(meta['voices']['test'])} held-out voices; "
        + (f"cached ({meta['load_seconds']:.1f} s)" if meta["cached"] else f"generated in {meta['generation_seconds']:.1f} s")
        + f"; input density {np.count_nonzero(x_test) / x_test.size:.1%}"
    )

    keras.utils.set_random_seed(0)
    t0 = time.perf_counter()
    twin = build(len(classes), L1_PENALTY, twin=True)
    twin.compile(optimizer=keras.optimizers.Adam(0.002), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    twin.fit(x_train, y_train, epochs=args.epochs, batch_size=64, verbose=2)
    dense_accuracy = float(np.mean(np.argmax(twin.predict(x_test, verbose=0), -1) == y_test))
    twin.optimizer.learning_rate.assign(0.001)
    prune_model(twin, x_train, y_train, final_sparsity=SPARSITY, epochs=args.epochs, lanes=LANES, batch_size=64, verbose=2)
    model = build(len(classes), 0.0, twin=False)
    model.set_weights(twin.get_weights())
    train_seconds = time.perf_counter() - t0
    gap = float(np.max(np.abs(model.predict(x_test[:256], verbose=0) - twin.predict(x_test[:256], verbose=0))))
    if gap > 1e-4:
        raise RuntimeError(f"the deployed model differs from its training twin by {gap:.2g}")
    accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), -1) == y_test))
    achieved = np.mean(list(weight_sparsity(model).values()))
    print(
        f"[train] ds2_speech in {train_seconds:.0f} s: float accuracy on held-out voices {accuracy:.1%} after pruning to "
        f"{achieved:.1%} ({dense_accuracy:.1%} before; L1 activity penalty {L1_PENALTY:g}, {LANES} lanes)"
    )

    config = str(HERE / "config.yml")
    try:
        ok = flow.run(model, x_test[:32], args.out, config=config, name="ds2_speech")  # starts from an empty args.out
    finally:  # the trained model is kept even when a step of the flow fails
        Path(args.out).mkdir(parents=True, exist_ok=True)
        model.save(Path(args.out) / "model.keras")

    flow.held_out_figures(model, x_test, y_test, config, args.out, "ds2_speech", accuracy)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
