"""Connected-digit speech recognition: a DeepSpeech2-shaped CTC recogniser on synthesised speech, in float and on the hardware.

    python projects/digits_ctc/recipe.py [--out build/digits_ctc] [--cache build/speech_cache] [--retrain [--update-bundled]]

By default the flow runs on the trained model shipped beside this recipe (model.keras, made by
``--retrain --update-bundled``), and only the held-out utterances are spoken.  ``--retrain`` speaks
the whole data set (about two minutes on 2 cores) and trains and prunes the model again (at most
``--budget`` seconds, 900 by default, with a line of progress every 50 steps).

Data: masr_hls.training.digits_data, strings of 1 to 7 words from "zero", "oh", "one" ... "nine",
spoken by espeak-ng with pauses and noise; 10 ms frames x 20 log-mel bands above a floor, so
frames without speech are zero; utterances of about 60 to 540 frames.  The test split's voices are
never heard in training.

Model: 2 x Bidirectional(GRU(128, relu), merge concat, every frame) -> TimeDistributed(Dense(12,
softmax)): per frame, the 11 words and the CTC blank (masr_hls.training.ctc).  The deployed model
takes any number of frames, Input((None, 20)), and sees one utterance at a time, as the hardware does.

Training (``Training``, ``train``) uses a twin with the same layers that takes padded batches of
utterances of similar lengths and masks every recurrent layer by each utterance's length (so the
backward direction never starts in the padding), with the CTC loss (keras.ops.ctc_loss, on the
head's logits).  What gets it off the CTC plateau (blanks everywhere, about 3 nats per word) within
the budget, each measured:

- many cheap updates: batches of 16, the first epoch shortest first (DeepSpeech2's SortaGrad), then
  batches of similar lengths in random order; Adam with warm-up, a cosine decay and clipnorm;
- a warm start: for the first ``frame_steps`` steps a framewise cross-entropy, fading out, on the
  one-word utterances (their word on their loud frames, the blank elsewhere: ``frame_targets``);
  without it the loss stayed on the plateau for every learning rate tried;
- a penalty on recurrent values above ``state_limit`` from the first step: a ReLU state is
  unbounded and, pushed by CTC towards sharper softmaxes, overflowed to NaN within 100 steps;
- features standardised per band in training, folded into bigru1's input weights afterwards
  (``fold_scaling``), so the deployed model takes the features as they are.

Once it decodes, an L1 activity penalty switches on and every matrix is pruned gradually to 90%,
balanced over 16 lanes (config: LaneAssignment interleaved), the 12-output head too, then fine-tuned
with the final masks.

Decoding is greedy CTC on the host (masr_hls.training.ctc).  Prints the float word error rate and
digit-string accuracy on the held-out voices, per-layer activation density, converts the model,
cross-checks the fixed point against numpy and Keras on a few utterances, C-simulates all held-out
utterances in one call (each at its own frame count, up to Model.MaxFrames) and prints the
fixed-point word error rate.
"""

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUNDLED = HERE / "model.keras"
START = time.perf_counter()

N_MELS, UNITS, LAYERS, LANES = 20, 128, 2, 16
SPARSITY = 0.9


@dataclass(frozen=True)
class Training:
    """How the model is trained; every figure is in optimizer steps (batches) or fractions of ``steps``."""

    batch: int = 16  # small batches: many cheap updates (a batch of 16 costs about a third of one of 64)
    steps: int = 1200
    learning_rate: float = 2e-3  # Adam's peak, reached after ``warmup`` steps, then a cosine down to ``final_lr``
    warmup: int = 100
    final_lr: float = 1e-4
    clipnorm: float = 2.0
    state_limit: float = 8.0  # recurrent values above this are penalised from the first step (the hardware's state holds +-64)
    range_penalty: float = 1e-2  # per squared unit of excess, summed over an utterance
    l1: float = 3e-5  # L1 activity penalty per recurrent value, summed over an utterance's frames (CTC is per utterance too)
    sparse_from: float = 0.4  # the L1 penalty and pruning begin here (the model decodes by then)
    prune_until: float = 0.65  # pruning reaches SPARSITY here; the rest fine-tunes with the final masks
    budget_seconds: float = 900.0  # training stops before this whatever the step (if pruning is unfinished, prunes at once)
    frame_weight: float = 1.0  # the warm start's framewise cross-entropy (one-word utterances), fading to 0 ...
    frame_steps: int = 400  # ... over these steps
    standardise: bool = True  # train on features scaled to zero mean and unit variance per band (folded into bigru1 after)
    report_every: int = 50
    monitor_every: int = 200  # steps between greedy decodings of the monitored utterances
    seed: int = 0


TRAINING = Training()


# --------------------------------------------------------------------------- the model


def stack(x, mask, regularizer=None):
    """The recurrent layers and the per-frame head on ``x``: the deployed model's probabilities, or with ``mask``
    (the training twin) the logits of the same head.

    The deployed head is TimeDistributed(Dense); the twin's is the same Dense on the sequence (the same weights,
    the same per-frame result), because Keras 3.15's TimeDistributed computes wrong values in a traced function
    whose time axis is not fixed (its vectorized_map path), which is how fit sees utterances of different lengths.
    """
    import keras

    from masr_hls.training import ctc

    L = keras.layers
    h = x
    for i in range(LAYERS):
        gru = L.GRU(UNITS, activation="relu", return_sequences=True, activity_regularizer=regularizer)
        h = L.Bidirectional(gru, merge_mode="concat", name=f"bigru{i + 1}")(h, mask=mask)
    if mask is None:
        return L.TimeDistributed(L.Dense(ctc.CLASSES, activation="softmax"), name="frames")(h)
    return L.Dense(ctc.CLASSES, name="frames")(h)  # the twin's head gives the logits (the same weights)


def build():
    """The deployed model: one utterance of any number of frames in, per-frame word and blank probabilities out."""
    import keras

    x = keras.Input((None, N_MELS), name="features")
    return keras.Model(x, stack(x, None), name="digits_ctc")


def build_twin(settings: Training = TRAINING, scaling=None):
    """``(twin, masked, knobs)``: the training twin (inputs features, lengths, labels, label lengths; CTC loss and the
    L1 activity penalty added), its masked inference model (features, lengths -> probabilities), both with the
    deployed model's weights' shapes, and ``knobs``: variables the training steps read (``l1``, the penalty's
    strength, 0 until it is switched on; ``ctc_sum`` and ``ctc_batches``, the CTC loss summed since last reset).

    ``scaling``: (mean, std) per band: the twin sees standardised features (``fold_scaling`` moves the scaling into
    the first layer's input weights afterwards, so the deployed model takes the features as they are)."""
    import keras

    from masr_hls.training import ctc

    L = keras.layers
    knobs = {
        "l1": keras.Variable(0.0, trainable=False, name="l1_strength"),
        "ctc_sum": keras.Variable(0.0, trainable=False, name="ctc_sum"),
        "ctc_batches": keras.Variable(0.0, trainable=False, name="ctc_batches"),
        "frame_weight": keras.Variable(0.0, trainable=False, name="frame_weight"),
    }

    class ActivityL1(keras.regularizers.Regularizer):
        """``l1`` x the sum of |values| per utterance (the batch's mean), so its weight against CTC does not depend
        on the batch size; its strength is a variable, so it can start late.  Also, from the first step, the squared
        excess of every value over ``settings.state_limit``: a ReLU state is unbounded and, pushed by CTC towards
        sharper softmaxes, grows until it overflows (NaN within a hundred steps without this)."""

        def __call__(self, h):
            a = keras.ops.abs(h)
            excess = keras.ops.maximum(a - settings.state_limit, 0.0)
            total = knobs["l1"] * keras.ops.sum(a) + settings.range_penalty * keras.ops.sum(excess * excess)
            return total / keras.ops.cast(keras.ops.shape(h)[0], h.dtype)

        def get_config(self):  # the strength is the shared variable
            return {}

    x = keras.Input((None, N_MELS), name="features")
    lengths = keras.Input((), dtype="int32", name="lengths")
    labels = keras.Input((None,), dtype="int32", name="labels")
    label_lengths = keras.Input((), dtype="int32", name="label_lengths")
    frame_labels = keras.Input((None,), dtype="int32", name="frame_labels")
    mask = L.Lambda(
        lambda a: keras.ops.arange(keras.ops.shape(a[0])[1])[None, :] < a[1][:, None], output_shape=lambda s: s[0][:2], name="frame_mask"
    )([x, lengths])
    h = x
    if scaling is not None:
        mean, std = (keras.ops.convert_to_tensor(v, "float32") for v in scaling)
        h = L.Lambda(lambda v: (v - mean) / std, name="standardise")(x)

    class CTCLoss(L.Layer):
        """Adds the mean CTC loss of the batch to the model's losses (the model has no compiled loss) and to ``knobs``."""

        def call(self, logits, labels, lengths, label_lengths, frame_labels):
            # From the logits: through log(softmax) a word whose probability underflows would get no gradient.
            loss = keras.ops.mean(keras.ops.ctc_loss(labels, logits, label_lengths, lengths, mask_index=ctc.BLANK))
            knobs["ctc_sum"].assign_add(loss)
            knobs["ctc_batches"].assign_add(1.0)
            # The warm start: cross-entropy on the frames that have a target (see frame_targets), while it lasts.
            known = keras.ops.cast(frame_labels >= 0, logits.dtype)
            ce = keras.ops.sparse_categorical_crossentropy(keras.ops.maximum(frame_labels, 0), logits, from_logits=True)
            framewise = keras.ops.sum(ce * known) / keras.ops.maximum(keras.ops.sum(known), 1.0)
            self.add_loss(loss + knobs["frame_weight"] * framewise)
            return logits

    with keras.saving.custom_object_scope({"ActivityL1": ActivityL1}):  # Bidirectional copies its layer through its config
        logits = stack(h, mask, ActivityL1())
    probabilities = L.Activation("softmax", name="probabilities")(logits)
    out = CTCLoss(name="ctc_loss")(logits, labels, lengths, label_lengths, frame_labels)
    twin = keras.Model([x, lengths, labels, label_lengths, frame_labels], out, name="digits_ctc_twin")
    return twin, keras.Model([x, lengths], probabilities, name="digits_ctc_masked"), knobs


def fold_scaling(model, mean, std):
    """Make ``model``, trained on ``(features - mean) / std``, take the features as they are: the first layer's input
    kernel of each direction is divided by ``std`` per band and its input bias takes the mean's share (exact: the input
    enters every gate only through ``x @ kernel + input bias``; a zero weight stays zero, so the lanes keep their
    balance)."""
    import numpy as np

    layer = model.get_layer("bigru1")
    for gru in (layer.forward_layer, layer.backward_layer):
        kernel, recurrent, bias = (np.asarray(w) for w in gru.get_weights())
        scaled = kernel / std[:, None]
        bias = bias.copy()
        bias[0] -= mean @ scaled  # reset_after GRU: row 0 is the input bias
        gru.set_weights([scaled.astype(np.float32), recurrent, bias.astype(np.float32)])
    return model


# --------------------------------------------------------------------------- training


def batches(lengths, batch: int, rng=None) -> list:
    """Indices of utterances of similar lengths, ``batch`` at a time: shortest first without ``rng``; with it, the
    lengths jittered by a few frames (so batches differ from epoch to epoch) and the batches in random order."""
    import numpy as np

    keys = np.asarray(lengths, float) if rng is None else np.asarray(lengths) + rng.uniform(0, 24, len(lengths))
    order = np.argsort(keys, kind="stable")
    groups = [order[i : i + batch] for i in range(0, len(order), batch)]
    return groups if rng is None else [groups[i] for i in rng.permutation(len(groups))]


def frame_targets(u, words):
    """Per-frame targets for the warm-start loss: a one-word utterance's word on its loud frames (above the midpoint
    of its 10th and 90th percentile frame energies) and the blank elsewhere; -1 (no target) on every frame of a longer
    utterance, whose word boundaries are not known."""
    import numpy as np

    from masr_hls.training import ctc

    if len(words) != 1:
        return np.full(len(u), -1, np.int32)
    energy = u.sum(axis=1)
    low, high = np.percentile(energy, [10, 90])
    return np.where(energy > (low + high) / 2, words[0], ctc.BLANK).astype(np.int32)


def make_dataset(x, y, settings: Training):
    """An endless tf.data.Dataset of padded batches of similar lengths: the first epoch shortest first (DeepSpeech2's
    SortaGrad: short utterances are the easy start), later epochs in random order.

    Its signature leaves the frames and words free, so one traced training step serves every batch.
    """
    import numpy as np
    import tensorflow as tf

    from masr_hls.training.digits_data import pad

    lengths, rng = np.array([len(u) for u in x]), np.random.default_rng(settings.seed)
    targets = [frame_targets(u, words) for u, words in zip(x, y)]

    def generate():
        epoch = 0
        while True:
            for idx in batches(lengths, settings.batch, rng if epoch else None):
                xb, n, yb, m = pad([x[j] for j in idx], [y[j] for j in idx])
                fb = np.full(xb.shape[:2], -1, np.int32)
                for k, j in enumerate(idx):
                    fb[k, : lengths[j]] = targets[j]
                yield ({"features": xb, "lengths": n, "labels": yb, "label_lengths": m, "frame_labels": fb},)
            epoch += 1

    signature = {
        "features": tf.TensorSpec((None, None, N_MELS), tf.float32),
        "lengths": tf.TensorSpec((None,), tf.int32),
        "labels": tf.TensorSpec((None, None), tf.int32),
        "label_lengths": tf.TensorSpec((None,), tf.int32),
        "frame_labels": tf.TensorSpec((None, None), tf.int32),
    }
    return tf.data.Dataset.from_generator(generate, output_signature=(signature,)).prefetch(2)


def learning_rate(settings: Training):
    """Linear warm-up to the peak, then a cosine down to ``final_lr`` at the last step."""
    import keras

    s = settings

    class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            step = keras.ops.cast(step, "float32")
            warm = s.learning_rate * (step + 1.0) / s.warmup
            progress = keras.ops.clip((step - s.warmup) / max(1, s.steps - s.warmup), 0.0, 1.0)
            cosine = s.final_lr + 0.5 * (s.learning_rate - s.final_lr) * (1.0 + keras.ops.cos(math.pi * progress))
            return keras.ops.where(step < s.warmup, warm, cosine)

    return WarmupCosine()


def decoded(probe, x, y):
    """Greedy-decoding score (masr_hls.training.ctc.Score) of a :class:`Probe`'s model on utterances."""
    from masr_hls.training import ctc

    return ctc.score(y, ctc.greedy_decode_batch(probe(x)))


class Probe:
    """A masked model's probabilities and its recurrent layers' outputs on padded batches of similar lengths: per
    utterance, its own frames; ``largest``, ``nonzero`` and ``values``: the recurrent outputs' largest magnitude,
    non-zero and all values over the utterances' frames, per layer, of the last call."""

    def __init__(self, masked):
        import keras

        self.names = [f"bigru{i + 1}" for i in range(LAYERS)]
        self.model = keras.Model(masked.inputs, [masked.output, *(masked.get_layer(n).output for n in self.names)])

    def __call__(self, x, batch: int = 64) -> list:
        import numpy as np

        from masr_hls.training.digits_data import pad

        lengths, out = [len(u) for u in x], [None] * len(x)
        self.largest, self.nonzero, self.values = 0.0, dict.fromkeys(["input", *self.names], 0), dict.fromkeys(["input", *self.names], 0)
        for idx in batches(lengths, batch):
            xb, n, _, _ = pad([x[j] for j in idx])
            p, *states = self.model.predict_on_batch({"features": xb, "lengths": n})
            valid = (np.arange(xb.shape[1])[None, :] < n[:, None])[..., None]
            for name, h in zip(self.nonzero, [xb, *states]):
                self.nonzero[name] += int(np.count_nonzero(h * valid))
                self.values[name] += int(valid.sum()) * h.shape[-1]
            self.largest = max([self.largest] + [float(np.max(np.abs(h))) for h in states])
            for k, j in enumerate(idx):
                out[j] = p[k, : lengths[j]]
        return out

    def density(self) -> dict:
        return {name: self.nonzero[name] / self.values[name] for name in self.nonzero}


def train(x_train, y_train, settings: Training = TRAINING, monitor=None):
    """Train the twin with CTC, switch the L1 activity penalty on and prune gradually once it decodes; return the
    deployed model with its weights and the training's record.

    ``monitor``: (utterances, labels) greedily decoded every ``monitor_every`` steps, to watch it learn (the recipe passes
    training utterances: the held-out voices stay unseen until the end).
    """
    import keras
    import numpy as np

    from masr_hls.training.pruning import PolynomialSchedule, PruningCallback, prune_to_sparsity, weight_sparsity

    s = settings
    keras.utils.set_random_seed(s.seed)
    t0 = time.perf_counter()
    frames = np.concatenate(x_train)
    mean, std = frames.mean(0), frames.std(0) + 1e-3
    twin, masked, knobs = build_twin(s, (mean, std) if s.standardise else None)
    sparse_from = int(s.sparse_from * s.steps)
    schedule = PolynomialSchedule(
        final_sparsity=SPARSITY, begin_step=sparse_from, end_step=int(s.prune_until * s.steps), frequency=max(1, s.steps // 60)
    )
    pruning = PruningCallback(schedule, lanes=LANES)
    probe = Probe(masked)
    record = []

    class Progress(keras.callbacks.Callback):
        """The L1 penalty's switch, the warm start's fade, a line of progress every ``report_every`` steps (the total
        loss adds the penalties and the warm start to CTC), and the time budget."""

        def on_train_batch_begin(self, batch, logs=None):
            step = int(self.model.optimizer.iterations.numpy())
            ramp = min(1.0, max(0.0, (step - sparse_from) / max(1, s.steps // 10)))  # on over a tenth of the steps
            knobs["l1"].assign(s.l1 * ramp)
            knobs["frame_weight"].assign(s.frame_weight * max(0.0, 1.0 - step / max(1, s.frame_steps)))

        def on_epoch_end(self, epoch, logs=None):  # an "epoch" here is report_every steps
            step = int(self.model.optimizer.iterations.numpy())
            ctc_loss = float(knobs["ctc_sum"].numpy()) / max(1.0, float(knobs["ctc_batches"].numpy()))
            knobs["ctc_sum"].assign(0.0)
            knobs["ctc_batches"].assign(0.0)
            seconds = time.perf_counter() - t0
            line = {"step": step, "seconds": round(seconds), "ctc": round(ctc_loss, 3), "loss": round(float(logs["loss"]), 3)}
            line["lr"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            line["sparsity"] = pruning.updates[-1][1] if pruning.updates else 0.0
            if monitor is not None and (step % s.monitor_every < s.report_every or step >= s.steps):
                score = decoded(probe, *monitor)
                line["wer"], line["largest"] = round(score.wer, 4), round(probe.largest, 2)
            record.append(line)
            print(
                f"[train] step {step:5d} {seconds:4.0f} s: CTC {ctc_loss:6.3f} nats/utterance (total loss {line['loss']:.3f}), "
                f"lr {line['lr']:.2g}, weight sparsity {line['sparsity']:.0%}"
                + (f"; monitored: WER {line['wer']:.1%}, largest state {line['largest']:.1f}" if "wer" in line else ""),
                flush=True,
            )
            last = record[-2]["seconds"] if len(record) > 1 else 0.0
            if seconds + (seconds - last) > s.budget_seconds:  # the next report would come after the budget
                print(f"[train] the {s.budget_seconds:.0f} s budget is spent: stopping at step {step} of {s.steps}", flush=True)
                self.model.stop_training = True

    twin.compile(optimizer=keras.optimizers.Adam(learning_rate(s), clipnorm=s.clipnorm))
    rounds = -(-s.steps // s.report_every)
    print(
        f"[train] {len(x_train)} utterances in batches of {s.batch}: {s.steps} steps (about {s.steps * s.batch / len(x_train):.1f} epochs, "
        f"the first shortest first); Adam, peak learning rate {s.learning_rate:g}, clipnorm {s.clipnorm:g}; from step {sparse_from} "
        f"the L1 activity penalty ({s.l1:g}) and pruning to {SPARSITY:.0%} over {LANES} lanes (reached at step {schedule.end_step})",
        flush=True,
    )
    twin.fit(
        make_dataset(x_train, y_train, s),
        epochs=rounds,
        steps_per_epoch=s.report_every,
        verbose=0,
        callbacks=[pruning, Progress(), keras.callbacks.TerminateOnNaN()],
    )
    model = build()
    model.set_weights(twin.get_weights())
    if s.standardise:
        fold_scaling(model, mean, std)
    achieved = np.mean(list(weight_sparsity(model).values()))
    if achieved < SPARSITY - 1e-3:
        print(f"[train] pruning stopped at {achieved:.1%}: pruned to {SPARSITY:.0%} at once", flush=True)
        prune_to_sparsity(model, SPARSITY, lanes=LANES)
        achieved = np.mean(list(weight_sparsity(model).values()))
    seconds = time.perf_counter() - t0
    print(f"[train] digits_ctc in {seconds:.0f} s: every matrix pruned to {achieved:.1%}")
    return model, {"seconds": seconds, "record": record}


# --------------------------------------------------------------------------- evaluation


def float_outputs(model, x):
    """(per-frame probabilities of every utterance, activation density per layer): the masked twin with ``model``'s
    weights on padded batches of similar lengths (fast, and equal to the deployed model: see ``check_twin``)."""
    _, masked, _ = build_twin()
    masked.set_weights(model.get_weights())
    probe = Probe(masked)
    return probe(x), probe.density()


def check_twin(model, x, probabilities) -> float:
    """Largest difference between the deployed model called eagerly on single utterances (see ``stack``) and the
    masked twin's ``probabilities`` of the same utterances."""
    import keras
    import numpy as np

    return max(float(np.max(np.abs(keras.ops.convert_to_numpy(model(u[None]))[0] - p))) for u, p in zip(x, probabilities))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="build/digits_ctc", help="where the model and the HLS project go")
    parser.add_argument("--cache", default="build/speech_cache", help="where the generated data set is cached")
    parser.add_argument("--retrain", action="store_true", help="train and prune the model again instead of using model.keras")
    parser.add_argument("--update-bundled", action="store_true", help="with --retrain: replace the shipped model.keras")
    parser.add_argument("--budget", type=float, default=TRAINING.budget_seconds, help="with --retrain: seconds of training at most")
    parser.add_argument("--csim-utterances", type=int, default=None, help="C-simulate only the first N held-out utterances (default: all)")
    parser.add_argument("--check-utterances", type=int, default=16, help="held-out utterances cross-checked against Keras (default: 16)")
    args = parser.parse_args()
    if args.update_bundled and not args.retrain:
        parser.error("--update-bundled replaces the shipped model with a retrained one: add --retrain")
    from masr_hls.quiet import load_tensorflow

    load_tensorflow()  # without its start-up notices

    import dataclasses

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
        settings = dataclasses.replace(TRAINING, budget_seconds=args.budget)
        model, _ = train(x_train, y_train, settings, monitor=(x_train[-200:], y_train[-200:]))
        if args.update_bundled:
            model.save(BUNDLED)
            print(f"[train] saved as {BUNDLED}")
    else:
        model = keras.saving.load_model(BUNDLED, compile=False)
        print(f"[model] {BUNDLED.relative_to(HERE.parents[1])}: the trained, pruned model shipped with the project (--retrain to train it again)")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    model.save(Path(args.out) / "model.keras")

    t0 = time.perf_counter()
    float_p, density = float_outputs(model, x_test)
    gap = check_twin(model, x_test[:4], float_p[:4])
    if gap > 1e-4:
        raise RuntimeError(f"the deployed model on single utterances differs from the masked twin by {gap:.2g}")
    float_score = ctc.score(y_test, ctc.greedy_decode_batch(float_p))
    print(f"[float] held-out voices: {float_score.summary()} in {time.perf_counter() - t0:.1f} s")
    print("[density] float, non-zero values over the held-out frames: " + ", ".join(f"{k} {v:.1%}" for k, v in density.items()))

    # The deployed model takes any number of frames; Model.MaxFrames is what the hardware holds, and the generated
    # top takes each utterance's frame count at run time.
    config = yaml.safe_load((HERE / "config.yml").read_text())
    t0 = time.perf_counter()
    hm = masr_hls.convert_from_keras_model(model, hls_config=config, output_dir=Path(args.out) / "hls", project_name="digits_ctc")
    hw = masr_hls.masr_model(hm)
    longest = max(len(u) for u in x_test)
    if longest > hw.max_frames:
        raise RuntimeError(f"the longest held-out utterance has {longest} frames, more than Model.MaxFrames={hw.max_frames} in config.yml")
    hw.compile()
    print(f"[convert+compile] {Path(args.out) / 'hls'} in {time.perf_counter() - t0:.1f} s (MAX_T={hw.max_frames})")
    for row in hw.layer_summary():
        print(f"    {row}")

    t0 = time.perf_counter()
    check = hw.cross_check(x_test[: args.check_utterances])
    print(f"[cross-check] {check.summary()} ({time.perf_counter() - t0:.0f} s)")

    n = len(x_test) if args.csim_utterances is None else args.csim_utterances
    t0 = time.perf_counter()
    result = hw.csim(x_test[:n])
    seconds = time.perf_counter() - t0
    fixed_score = ctc.score(y_test[:n], ctc.greedy_decode_batch(result.y))
    same = ctc.score(y_test[:n], ctc.greedy_decode_batch(float_p[:n]))
    agree = np.mean(np.concatenate([np.argmax(a, -1) == np.argmax(b, -1) for a, b in zip(result.y, float_p[:n])]))
    print(
        f"[csim] fixed point, {n} held-out utterances in one call, {seconds:.1f} s: {fixed_score.summary()}; "
        f"float on the same utterances: WER {same.wer:.2%}; per-frame argmax agrees with float on {agree:.1%} of frames"
    )
    total_frames = sum(len(u) for u in x_test[:n])
    for i, layer in enumerate(hw.layers):
        pairs, cycles = sum(f[i].pairs for f in result.layers), sum(f[i].cycles for f in result.layers)
        print(f"[hardware] {layer.name}: {pairs / total_frames:.0f} MAC pairs and {cycles / total_frames:.0f} cycles per frame")
    print(f"[time] {time.perf_counter() - START:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
