"""Connected-digit speech recognition: a DeepSpeech2-shaped CTC recogniser on synthesised speech, in float and on the hardware.

    python projects/digits_ctc/recipe.py [--out build/digits_ctc] [--cache build/speech_cache] [--retrain [--update-bundled]]

By default the flow runs on the trained model shipped beside this recipe (model.keras, made by
``--retrain --update-bundled``), and only the held-out utterances are spoken.  ``--retrain`` speaks
the whole data set (about two minutes on 2 cores) and trains and prunes the model again (about
fifteen minutes more).

Data: masr_hls.training.digits_data, strings of 1 to 7 words from "zero", "oh", "one" ... "nine",
spoken by espeak-ng with pauses and noise; 10 ms frames x 20 log-mel bands above a floor, so
frames without speech are zero; utterances of about 60 to 500 frames.  The test split's voices are
never heard in training.

Model: 2 x Bidirectional(GRU(128, relu), merge concat, every frame) -> TimeDistributed(Dense(12,
softmax)): per frame, the 11 words and the CTC blank (masr_hls.training.ctc).  The deployed model
takes any number of frames and sees one utterance at a time, as the hardware does.  Training uses a
twin with the same layers that takes padded batches of utterances of similar lengths, masks every
recurrent layer by each utterance's length (so the backward direction never starts in the padding),
adds the CTC loss (keras.ops.ctc_loss) and an L1 activity penalty on every state; the first epoch
runs shortest utterances first (DeepSpeech2's SortaGrad).  Then every matrix is pruned gradually to
90%, balanced over 16 lanes (config: LaneAssignment interleaved); the 12-output head too.

Decoding is greedy CTC on the host (masr_hls.training.ctc).  Prints the float word error rate and
digit-string accuracy on the held-out voices, per-layer activation density, then converts the model,
C-simulates every held-out utterance at its own length (the generated top takes the frame count at
run time, up to Model.MaxFrames) and prints the fixed-point word error rate.
"""

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUNDLED = HERE / "model.keras"
START = time.perf_counter()

N_MELS, UNITS, LAYERS, LANES = 20, 128, 2, 16
L1_PENALTY = 1e-6
SPARSITY = 0.9
BATCH = 64
EPOCHS, PRUNE_FROM = 7, 4  # epochs in all; pruning starts after PRUNE_FROM dense epochs, reaches SPARSITY two thirds of the way on
LEARNING_RATE = 1e-3


# --------------------------------------------------------------------------- the model


def stack(x, mask, l1: float):
    """The recurrent layers and the per-frame head on ``x``; masked by ``mask`` (the training twin) or not.

    The deployed head is TimeDistributed(Dense); the twin's is the same Dense on the sequence (the same weights,
    the same per-frame result), because Keras 3.15's TimeDistributed computes wrong values in a traced function
    whose time axis is not fixed (its vectorized_map path), which is how fit and predict see utterances of
    different lengths.
    """
    import keras

    from masr_hls.training import ctc

    L = keras.layers
    h = x
    for i in range(LAYERS):
        reg = keras.regularizers.L1(l1) if l1 else None
        gru = L.GRU(UNITS, activation="relu", return_sequences=True, activity_regularizer=reg)
        h = L.Bidirectional(gru, merge_mode="concat", name=f"bigru{i + 1}")(h, mask=mask)
    head = L.Dense(ctc.CLASSES, activation="softmax", name="frames")
    return head(h) if mask is not None else L.TimeDistributed(head, name="frames")(h)


def build(frames: int | None = None):
    """The deployed model: one utterance of any number of frames in (or of ``frames``), per-frame word and blank
    probabilities out."""
    import keras

    x = keras.Input((frames, N_MELS), name="features")
    return keras.Model(x, stack(x, None, 0.0), name="digits_ctc")


def build_twin(l1: float):
    """``(twin, masked)``: the training twin (inputs features, lengths, labels, label lengths; CTC loss added) and
    its masked inference model (features, lengths -> probabilities), both with the deployed model's weights' shapes."""
    import keras

    from masr_hls.training import ctc

    L = keras.layers
    x = keras.Input((None, N_MELS), name="features")
    lengths = keras.Input((), dtype="int32", name="lengths")
    labels = keras.Input((None,), dtype="int32", name="labels")
    label_lengths = keras.Input((), dtype="int32", name="label_lengths")
    mask = L.Lambda(
        lambda a: keras.ops.arange(keras.ops.shape(a[0])[1])[None, :] < a[1][:, None], output_shape=lambda s: s[0][:2], name="frame_mask"
    )([x, lengths])
    probabilities = stack(x, mask, l1)

    class CTCLoss(L.Layer):
        """Adds the mean CTC loss of the batch to the model's losses (the model has no compiled loss)."""

        def call(self, p, labels, lengths, label_lengths):
            logp = keras.ops.log(keras.ops.maximum(p, 1e-7))  # log-softmax of the log-probabilities is themselves
            self.add_loss(keras.ops.mean(keras.ops.ctc_loss(labels, logp, label_lengths, lengths, mask_index=ctc.BLANK)))
            return p

    out = CTCLoss(name="ctc_loss")(probabilities, labels, lengths, label_lengths)
    twin = keras.Model([x, lengths, labels, label_lengths], out, name="digits_ctc_twin")
    return twin, keras.Model([x, lengths], probabilities, name="digits_ctc_masked")


def batches(lengths, batch: int, rng=None) -> list:
    """Indices of utterances of similar lengths, ``batch`` at a time (shortest first; in ``rng``'s order if given)."""
    import numpy as np

    order = np.argsort(lengths, kind="stable")
    groups = [order[i : i + batch] for i in range(0, len(order), batch)]
    return groups if rng is None else [groups[i] for i in rng.permutation(len(groups))]


def make_dataset(x, y):
    """A tf.data.Dataset of padded batches of similar lengths: in order of length the first epoch, shuffled after.

    Its signature leaves the frames and words free, so one traced training step serves every batch.
    """
    import numpy as np
    import tensorflow as tf

    from masr_hls.training.digits_data import pad

    lengths, rng, epochs = np.array([len(u) for u in x]), np.random.default_rng(0), []

    def generate():
        for idx in batches(lengths, BATCH, rng if epochs else None):
            xb, n, yb, m = pad([x[j] for j in idx], [y[j] for j in idx])
            yield ({"features": xb, "lengths": n, "labels": yb, "label_lengths": m},)
        epochs.append(True)

    signature = {
        "features": tf.TensorSpec((None, None, N_MELS), tf.float32),
        "lengths": tf.TensorSpec((None,), tf.int32),
        "labels": tf.TensorSpec((None, None), tf.int32),
        "label_lengths": tf.TensorSpec((None,), tf.int32),
    }
    steps = len(batches(lengths, BATCH))
    return tf.data.Dataset.from_generator(generate, output_signature=(signature,)).apply(tf.data.experimental.assert_cardinality(steps)), steps


def train(x_train, y_train):
    """Train the twin with CTC and the L1 activity penalty, prune it, and return the deployed model with its weights."""
    import keras
    import numpy as np

    from masr_hls.training.pruning import PolynomialSchedule, PruningCallback, weight_sparsity

    keras.utils.set_random_seed(0)
    t0 = time.perf_counter()
    twin, _ = build_twin(L1_PENALTY)
    dataset, steps = make_dataset(x_train, y_train)
    schedule = PolynomialSchedule(
        final_sparsity=SPARSITY,
        begin_step=PRUNE_FROM * steps,
        end_step=PRUNE_FROM * steps + (2 * (EPOCHS - PRUNE_FROM) * steps) // 3,
        frequency=max(1, steps // 4),
    )
    pruning = PruningCallback(schedule, lanes=LANES, verbose=1)
    decay = keras.callbacks.LearningRateScheduler(lambda epoch: LEARNING_RATE * (0.5 if epoch >= EPOCHS - 1 else 1.0))
    twin.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE, clipnorm=5.0))
    print(
        f"[train] {len(x_train)} utterances in {steps} batches of {BATCH}; {EPOCHS} epochs, pruning to {SPARSITY:.0%} "
        f"over {LANES} lanes from epoch {PRUNE_FROM + 1}",
        flush=True,
    )
    twin.fit(dataset, epochs=EPOCHS, verbose=1, callbacks=[pruning, decay])
    model = build()
    model.set_weights(twin.get_weights())
    achieved = np.mean(list(weight_sparsity(model).values()))
    print(f"[train] digits_ctc in {time.perf_counter() - t0:.0f} s: every matrix pruned to {achieved:.1%} (L1 activity penalty {L1_PENALTY:g})")
    return model


# --------------------------------------------------------------------------- evaluation


def masked_twin(model):
    """The masked inference model with ``model``'s weights: padded batches in, each utterance's own result out."""
    _, masked = build_twin(0.0)
    masked.set_weights(model.get_weights())
    return masked


def float_probabilities(model, x) -> list:
    """Per-frame probabilities of every utterance, from padded batches of similar lengths through the masked twin."""
    from masr_hls.training.digits_data import pad

    masked, lengths, out = masked_twin(model), [len(u) for u in x], [None] * len(x)
    for idx in batches(lengths, BATCH):
        xb, n, _, _ = pad([x[j] for j in idx])
        p = masked.predict_on_batch({"features": xb, "lengths": n})
        for k, j in enumerate(idx):
            out[j] = p[k, : lengths[j]]
    return out


def check_twin(model, x) -> float:
    """Largest difference between the deployed model on single utterances (eager: see ``stack``) and the masked twin
    on a padded batch."""
    import keras
    import numpy as np

    batched = float_probabilities(model, x)
    return max(float(np.max(np.abs(keras.ops.convert_to_numpy(model(u[None]))[0] - p))) for u, p in zip(x, batched))


def float_density(model, x) -> dict:
    """Fraction of non-zero values over the utterances' own frames: the input and every recurrent layer's output."""
    import keras
    import numpy as np

    from masr_hls.training.digits_data import pad

    masked = masked_twin(model)
    names = [f"bigru{i + 1}" for i in range(LAYERS)]
    probe = keras.Model(masked.inputs, [masked.get_layer(n).output for n in names])
    counts = {n: [0, 0] for n in ["input", *names]}
    lengths = [len(u) for u in x]
    for idx in batches(lengths, BATCH):
        xb, n, _, _ = pad([x[j] for j in idx])
        valid = (np.arange(xb.shape[1])[None, :] < n[:, None])[..., None]
        for name, h in zip(counts, [xb, *probe.predict_on_batch({"features": xb, "lengths": n})]):
            counts[name][0] += int(np.count_nonzero(h * valid))
            counts[name][1] += int(valid.sum()) * h.shape[-1]
    return {name: nz / total for name, (nz, total) in counts.items()}


def fixed_point(hw, x, progress: bool = True):
    """C-simulate every utterance at its own length (a batch of one each); per-frame probabilities and per-layer figures."""
    from tqdm import tqdm

    probabilities, figures = [], []
    for u in tqdm(x, desc="csim utterances", unit="utt", disable=not progress):
        result = hw.csim(u[None], threads=1)
        probabilities.append(result.y[0])
        figures.append(result.layers[0])
    return probabilities, figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="build/digits_ctc", help="where the model and the HLS project go")
    parser.add_argument("--cache", default="build/speech_cache", help="where the generated data set is cached")
    parser.add_argument("--retrain", action="store_true", help="train and prune the model again instead of using model.keras")
    parser.add_argument("--update-bundled", action="store_true", help="with --retrain: replace the shipped model.keras")
    parser.add_argument("--csim-utterances", type=int, default=None, help="C-simulate only the first N held-out utterances (default: all)")
    args = parser.parse_args()
    if args.update_bundled and not args.retrain:
        parser.error("--update-bundled replaces the shipped model with a retrained one: add --retrain")
    from masr_hls.quiet import load_tensorflow

    load_tensorflow()  # without its start-up notices

    import keras
    import numpy as np
    import yaml

    import masr_hls
    from masr_hls.training import ctc
    from masr_hls.training.digits_data import load_digits

    x_train, y_train, x_test, y_test, meta = load_digits(cache_dir=args.cache, n_mels=N_MELS, test_only=not args.retrain)
    frames = np.array([len(u) for u in x_train + x_test])
    print(
        f"[data] {len(x_train)} train / {len(x_test)} test utterances of {min(map(len, y_test))}-{max(map(len, y_test))} words, "
        f"{frames.min()}-{frames.max()} frames (mean {frames.mean():.0f}); {len(meta['voices']['train'])} train voices, "
        f"{len(meta['voices']['test'])} held-out voices (variants {', '.join(meta['test_variants'])}); "
        + (f"cached ({meta['load_seconds']:.1f} s)" if meta["cached"] else f"generated in {meta['generation_seconds']:.1f} s")
        + f"; input density {np.count_nonzero(np.concatenate(x_test)) / np.concatenate(x_test).size:.1%}",
        flush=True,
    )

    if args.retrain:
        model = train(x_train, y_train)
        if args.update_bundled:
            model.save(BUNDLED)
            print(f"[train] saved as {BUNDLED}")
    else:
        model = keras.saving.load_model(BUNDLED, compile=False)
        print(f"[model] {BUNDLED.relative_to(HERE.parents[1])}: the trained, pruned model shipped with the project (--retrain to train it again)")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    model.save(Path(args.out) / "model.keras")

    t0 = time.perf_counter()
    gap = check_twin(model, x_test[:8])
    if gap > 1e-4:
        raise RuntimeError(f"the deployed model on single utterances differs from the masked twin by {gap:.2g}")
    float_p = float_probabilities(model, x_test)
    float_score = ctc.score(y_test, ctc.greedy_decode_batch(float_p))
    print(f"[float] held-out voices: {float_score.summary()} in {time.perf_counter() - t0:.1f} s")
    density = float_density(model, x_test)
    print("[density] float, non-zero values over the held-out frames: " + ", ".join(f"{k} {v:.1%}" for k, v in density.items()))

    # hls4ml's Input layer refuses a time axis of None, so the model converted is the deployed one with a fixed
    # input of MaxFrames frames (the same weights); the hardware it becomes takes each utterance's frame count.
    config = yaml.safe_load((HERE / "config.yml").read_text())
    fixed = build(config["Model"]["MaxFrames"])
    fixed.set_weights(model.get_weights())
    t0 = time.perf_counter()
    hm = masr_hls.convert_from_keras_model(fixed, hls_config=config, output_dir=Path(args.out) / "hls", project_name="digits_ctc")
    hw = masr_hls.masr_model(hm)
    longest = max(len(u) for u in x_test)
    if longest > hw.max_frames:
        raise RuntimeError(f"the longest held-out utterance has {longest} frames, more than Model.MaxFrames={hw.max_frames} in config.yml")
    hw.compile()
    print(f"[convert+compile] {Path(args.out) / 'hls'} in {time.perf_counter() - t0:.1f} s (MAX_T={hw.max_frames})")
    for row in hw.layer_summary():
        print(f"    {row}")

    n = len(x_test) if args.csim_utterances is None else args.csim_utterances
    t0 = time.perf_counter()
    fixed_p, figures = fixed_point(hw, x_test[:n])
    seconds = time.perf_counter() - t0
    fixed_score = ctc.score(y_test[:n], ctc.greedy_decode_batch(fixed_p))
    same = ctc.score(y_test[:n], ctc.greedy_decode_batch(float_p[:n]))
    agree = np.mean(np.concatenate([np.argmax(a, -1) == np.argmax(b, -1) for a, b in zip(fixed_p, float_p[:n])]))
    print(
        f"[csim] fixed point, {n} held-out utterances in {seconds:.0f} s: {fixed_score.summary()}; "
        f"float on the same utterances: WER {same.wer:.2%}; per-frame argmax agrees with float on {agree:.1%} of frames"
    )
    total_frames = sum(len(u) for u in x_test[:n])
    for i, layer in enumerate(hw.layers):
        pairs, cycles = sum(f[i].pairs for f in figures), sum(f[i].cycles for f in figures)
        print(f"[hardware] {layer.name}: {pairs / total_frames:.0f} MAC pairs and {cycles / total_frames:.0f} cycles per frame")
    print(f"[time] {time.perf_counter() - START:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
