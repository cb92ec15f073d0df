"""Magnitude pruning of Keras 3 models, optionally balanced over MAC lanes.

MASR skips every zero weight, so pruning is where its speed comes from; and
because an engine finishes when its busiest lane does, the non-zeros should be
spread evenly over lanes (ESE's load-balance-aware pruning).  The TF Model
Optimization toolkit does not work with Keras 3, hence this module.

Conventions shared by every function here:

* A Keras kernel has shape ``(n_in, n_out)``; the hardware computes
  ``y = W v`` with ``W = kernel.T``, so hardware row ``r`` is Keras column
  ``r``.  For GRU/LSTM the gates are concatenated along the columns and every
  column is a row.  With ``lanes=L`` row ``r`` belongs to lane ``r % L``
  (interleaved, as EIE assigns rows to PEs).
* Each matrix (a ``kernel`` or a ``recurrent_kernel``) is pruned on its own to
  the requested sparsity; biases are never pruned.
* Pruning a matrix of ``N`` entries to sparsity ``s`` zeroes the
  ``round(s * N)`` smallest magnitudes (round half up).  Ties go by flat
  (row-major) index in the Keras kernel: the lower index is pruned first.
  Weights that are already zero have the smallest magnitude, so they count as
  pruned; a matrix that already holds more zeros than requested keeps them.
* ``skip`` (every pruning entry point takes it) names layers to leave dense:
  a matrix is skipped when any layer on its path has one of the names
  (``skip=("keyword",)`` keeps a classifier head dense; ``"bigru"`` skips
  both directions of a Bidirectional, ``"forward_gru"`` only one).  A name
  that matches no prunable layer is refused, so a typo cannot silently prune
  everything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from masr_hls.numerics.lane_balance import assign_rows, lane_loads

PRUNABLE = "Dense kernels and GRU/LSTM/SimpleRNN kernels and recurrent kernels (also inside Bidirectional and TimeDistributed)"

_RNN_CELLS = (keras.layers.GRUCell, keras.layers.LSTMCell, keras.layers.SimpleRNNCell)


# --------------------------------------------------------------------------- argument checks


def _check_sparsity(value, name: str = "sparsity") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    value = float(value)
    if not 0.0 <= value < 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be in [0, 1), got {value!r} (1.0 would remove every weight)")
    return value


def _check_lanes(lanes) -> int | None:
    if lanes is None:
        return None
    if isinstance(lanes, bool) or not isinstance(lanes, (int, np.integer)) or lanes < 1:
        raise ValueError(f"lanes must be a positive integer or None, got {lanes!r}")
    return int(lanes)


# --------------------------------------------------------------------------- which weights


def prunable_weights(model) -> list[tuple[str, keras.Variable]]:
    """``(path, variable)`` for every weight matrix MASR would skip zeros in.

    The path names the layers from the model down, e.g.
    ``"bidirectional/forward_gru/recurrent_kernel"`` or
    ``"time_distributed/dense/kernel"``.  Nested models are searched too; a
    layer shared between places is listed once.
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"expected a keras.Model, got {type(model).__name__}")
    found: list[tuple[str, keras.Variable]] = []
    seen: set[int] = set()
    for layer in model.layers:
        _collect(layer, layer.name, found, seen)
    if not found:
        kinds = ", ".join(f"{layer.name} ({type(layer).__name__})" for layer in model.layers) or "none"
        raise ValueError(f"model {model.name!r} has no prunable layers; masr_hls prunes {PRUNABLE}. Its layers: {kinds}")
    return found


def _collect(layer, path: str, found: list, seen: set) -> None:
    if isinstance(layer, keras.layers.Bidirectional):
        _collect(layer.forward_layer, f"{path}/{layer.forward_layer.name}", found, seen)
        _collect(layer.backward_layer, f"{path}/{layer.backward_layer.name}", found, seen)
    elif isinstance(layer, keras.layers.TimeDistributed):
        _collect(layer.layer, f"{path}/{layer.layer.name}", found, seen)
    elif isinstance(layer, keras.Model):
        for inner in layer.layers:
            _collect(inner, f"{path}/{inner.name}", found, seen)
    elif isinstance(layer, keras.layers.Dense):
        _add(layer, layer, ("kernel",), path, found, seen)
    elif isinstance(layer, keras.layers.RNN) and isinstance(layer.cell, _RNN_CELLS):
        _add(layer, layer.cell, ("kernel", "recurrent_kernel"), path, found, seen)


def _add(layer, owner, attrs, path, found, seen) -> None:
    if not layer.built or not owner.built:
        raise ValueError(
            f"layer {path!r} is not built, so it has no weights to prune yet; build the model first (e.g. give it an Input or call it on data)"
        )
    for attr in attrs:
        var = getattr(owner, attr)
        if id(var) not in seen:
            seen.add(id(var))
            found.append((f"{path}/{attr}", var))


def _check_skip(skip) -> tuple[str, ...]:
    if skip is None:
        return ()
    if isinstance(skip, str):
        skip = (skip,)
    try:
        names = tuple(skip)
    except TypeError:
        raise ValueError(f"skip must be a layer name or a sequence of layer names, got {skip!r}") from None
    bad = [n for n in names if not isinstance(n, str) or not n]
    if bad:
        raise ValueError(f"skip must hold layer names (non-empty strings), got {bad[0]!r}")
    return names


def select_weights(model, skip=()) -> list[tuple[str, keras.Variable]]:
    """``prunable_weights(model)`` without the matrices of the layers named in ``skip``.

    A matrix is skipped when one of the layer names on its path (every part
    but the last, which names the weight) is in ``skip``.  A name that matches
    no prunable layer raises ``ValueError`` listing the names that would, and
    so does skipping every prunable matrix.
    """
    skip = _check_skip(skip)
    pairs = prunable_weights(model)
    if not skip:
        return pairs
    layers_of = {path: set(path.split("/")[:-1]) for path, _ in pairs}
    known = sorted(set().union(*layers_of.values()))
    unknown = [n for n in skip if n not in known]
    if unknown:
        raise ValueError(
            f"skip names {', '.join(repr(n) for n in unknown)} match no prunable layer of model {model.name!r}; "
            f"layers holding prunable weights: {', '.join(known)}"
        )
    kept = [(path, var) for path, var in pairs if not layers_of[path] & set(skip)]
    if not kept:
        raise ValueError(f"skip={skip!r} leaves nothing to prune in model {model.name!r}")
    return kept


# --------------------------------------------------------------------------- masks


def _to_numpy(x) -> np.ndarray:
    # Variable.numpy() rather than ops.convert_to_numpy, which warns under numpy 2 with the TF backend
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def _n_pruned(n: int, sparsity: float) -> int:
    return min(n, int(math.floor(sparsity * n + 0.5)))


def magnitude_mask(weights, sparsity: float, lanes: int | None = None) -> np.ndarray:
    """Keep-mask (True = keep) that prunes the smallest magnitudes of one matrix.

    Without ``lanes`` exactly ``round(s * N)`` entries are pruned.

    With ``lanes=L`` every lane keeps the same number of entries, so every lane
    does the same work.  The overall keep count ``N - round(s * N)`` is rounded
    down to a multiple of the number of lanes that own rows (``min(L, n_out)``;
    lanes without rows compute nothing), and each lane keeps its own largest
    magnitudes.  So ``round(s*N) <= pruned < round(s*N) + L``: pruning errs
    towards more zeros, and the achieved sparsity differs from ``s`` by less
    than ``L / N``.  One exception: when ``n_out`` is not a multiple of ``L``
    the lanes with fewer rows hold fewer entries, and a lane cannot keep more
    than it holds; if the equal share exceeds that, every lane keeps the
    smallest lane's full size and sparsity is higher than requested.  That
    needs a low target (e.g. 0.0); it never happens for ``s >= 0.5``.
    """
    w = _to_numpy(weights).astype(np.float64)
    sparsity = _check_sparsity(sparsity)
    lanes = _check_lanes(lanes)
    if w.ndim != 2:
        raise ValueError(f"expected a 2-D kernel (n_in, n_out), got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("the kernel holds NaN or infinite values; magnitudes cannot be ranked")
    n_prune = _n_pruned(w.size, sparsity)
    magnitude = np.abs(w)
    if lanes is None:
        keep = np.ones(w.size, dtype=bool)
        keep[np.argsort(magnitude, axis=None, kind="stable")[:n_prune]] = False
        return keep.reshape(w.shape)

    n_in, n_out = w.shape
    active = min(lanes, n_out)
    smallest_lane = (n_out // active) * n_in
    per_lane = min((w.size - n_prune) // active, smallest_lane)
    keep = np.zeros(w.shape, dtype=bool)
    for lane in range(active):
        cols = np.arange(lane, n_out, lanes)
        block = magnitude[:, cols]  # row-major order of the block follows the kernel's flat index
        lane_keep = np.zeros(block.size, dtype=bool)
        lane_keep[np.argsort(block, axis=None, kind="stable")[block.size - per_lane :]] = True
        keep[:, cols] = lane_keep.reshape(block.shape)
    return keep


def lane_nnz(kernel, lanes: int) -> np.ndarray:
    """Non-zeros per lane of a Keras-layout kernel (n_in, n_out), rows interleaved over lanes."""
    w = _to_numpy(kernel)
    lanes = _check_lanes(lanes)
    if lanes is None:
        raise ValueError("lanes must be a positive integer, got None")
    if w.ndim != 2:
        raise ValueError(f"expected a 2-D kernel (n_in, n_out), got shape {w.shape}")
    row_nnz = np.count_nonzero(w, axis=0)  # hardware rows are Keras columns
    return lane_loads(row_nnz, assign_rows(row_nnz, lanes, "interleaved"), lanes)


def weight_sparsity(model) -> dict[str, float]:
    """Fraction of exact zeros in every prunable matrix, by path."""
    out = {}
    for path, var in prunable_weights(model):
        w = _to_numpy(var)
        out[path] = 1.0 - np.count_nonzero(w) / w.size
    return out


def _compute_masks(pairs, sparsity: float, lanes: int | None) -> dict[str, np.ndarray]:
    masks = {}
    for path, var in pairs:
        try:
            masks[path] = magnitude_mask(var, sparsity, lanes)
        except ValueError as err:
            raise ValueError(f"cannot prune {path}: {err}") from None
    return masks


def _apply_masks(pairs, masks: dict) -> None:
    for path, var in pairs:
        var.assign(keras.ops.where(masks[path], var, keras.ops.zeros_like(var)))


def prune_to_sparsity(model, sparsity: float, lanes: int | None = None, skip=()):
    """One-shot pruning without training: every prunable matrix to ``sparsity``.

    Cheap but lossy at high sparsity; fine-tuning (``prune_model``) recovers
    accuracy.  Layers named in ``skip`` are left as they are.  Works in place
    and returns the model.
    """
    sparsity = _check_sparsity(sparsity)
    lanes = _check_lanes(lanes)
    pairs = select_weights(model, skip)
    _apply_masks(pairs, _compute_masks(pairs, sparsity, lanes))
    return model


# --------------------------------------------------------------------------- gradual pruning


@dataclass(frozen=True)
class PolynomialSchedule:
    """Zhu & Gupta (2017) gradual pruning: prune fast while the network has redundancy, slowly near the end.

    ``sparsity(step) = final + (initial - final) * (1 - (step - begin) / (end - begin)) ** power``
    for ``begin <= step <= end``; ``initial`` before, ``final`` after.  Masks are
    recomputed at ``begin``, every ``frequency`` steps after it, and at ``end``.
    """

    final_sparsity: float
    initial_sparsity: float = 0.0
    begin_step: int = 0
    end_step: int = 1000
    frequency: int = 100
    power: int = 3

    def __post_init__(self):
        _check_sparsity(self.final_sparsity, "final_sparsity")
        _check_sparsity(self.initial_sparsity, "initial_sparsity")
        if self.initial_sparsity > self.final_sparsity:
            raise ValueError(f"initial_sparsity ({self.initial_sparsity}) must not exceed final_sparsity ({self.final_sparsity})")
        for name in ("begin_step", "end_step", "frequency", "power"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        if self.begin_step < 0:
            raise ValueError(f"begin_step must be >= 0, got {self.begin_step}")
        if self.end_step < self.begin_step:
            raise ValueError(f"end_step ({self.end_step}) must be >= begin_step ({self.begin_step})")
        if self.frequency < 1:
            raise ValueError(f"frequency must be >= 1, got {self.frequency}")
        if self.power < 1:
            raise ValueError(f"power must be >= 1, got {self.power}")

    def sparsity(self, step: int) -> float:
        if step >= self.end_step:
            return float(self.final_sparsity)
        if step <= self.begin_step:
            return float(self.initial_sparsity)
        remaining = 1.0 - (step - self.begin_step) / (self.end_step - self.begin_step)
        return float(self.final_sparsity + (self.initial_sparsity - self.final_sparsity) * remaining**self.power)

    def update_point(self, step: int) -> int | None:
        """The latest mask-update step at or before ``step`` (None before ``begin_step``).

        Stated this way so a caller that sees steps in jumps (``steps_per_execution``)
        still applies the right target.
        """
        if step < self.begin_step:
            return None
        if step >= self.end_step:
            return self.end_step
        return self.begin_step + (step - self.begin_step) // self.frequency * self.frequency

    def should_update(self, step: int) -> bool:
        return step == self.update_point(step)


class PruningCallback(keras.callbacks.Callback):
    """Gradual magnitude pruning during ``fit``.

    Before a batch whose step reaches a new schedule update point, the masks are
    recomputed from the current magnitudes (pruned weights are zero, so they
    stay pruned).  After every batch the masks are re-applied, because the
    optimizer step (momentum, Adam) would otherwise revive pruned weights: at
    every batch boundary pruned weights are exactly 0.0.

    ``step`` counts training batches seen by this callback, across ``fit``
    calls; with ``steps_per_execution=k`` one callback call covers ``k`` steps
    and masks are applied once per execution.  ``updates`` records
    ``(step, target sparsity)`` for every mask update.  Layers named in
    ``skip`` are neither pruned nor masked.
    """

    def __init__(self, schedule: PolynomialSchedule, lanes: int | None = None, verbose: int = 0, skip=()):
        super().__init__()
        if not hasattr(schedule, "sparsity") or not hasattr(schedule, "update_point"):
            raise ValueError(f"schedule must be a PolynomialSchedule, got {type(schedule).__name__}")
        self.schedule = schedule
        self.lanes = _check_lanes(lanes)
        self.skip = _check_skip(skip)
        self.verbose = verbose
        self.step = 0
        self.masks: dict[str, np.ndarray] = {}
        self._mask_tensors: dict = {}  # the same masks as backend tensors, applied after every batch
        self.updates: list[tuple[int, float]] = []
        self._pairs = None
        self._last_point = None
        self._batch_begin = 0

    def on_train_begin(self, logs=None):
        self._pairs = select_weights(self.model, self.skip)
        if self.masks:
            _apply_masks(self._pairs, self._mask_tensors)

    def on_train_batch_begin(self, batch, logs=None):
        self._batch_begin = batch
        point = self.schedule.update_point(self.step)
        if point is not None and point != self._last_point:
            self._update(point, mid_line=batch > 0 and (self.params or {}).get("verbose") == 1)

    def on_train_batch_end(self, batch, logs=None):
        if self.masks:
            _apply_masks(self._pairs, self._mask_tensors)
        self.step += max(1, batch - self._batch_begin + 1)

    def on_train_end(self, logs=None):
        if self.masks:
            _apply_masks(self._pairs, self._mask_tensors)

    def _update(self, point: int, mid_line: bool = False) -> None:
        target = self.schedule.sparsity(point)
        self.masks = _compute_masks(self._pairs, target, self.lanes)
        self._mask_tensors = {path: keras.ops.convert_to_tensor(m) for path, m in self.masks.items()}
        _apply_masks(self._pairs, self._mask_tensors)
        self._last_point = point
        self.updates.append((self.step, target))
        if self.verbose > 0:
            kept = sum(int(m.sum()) for m in self.masks.values())
            total = sum(m.size for m in self.masks.values())
            print(
                ("\n" if mid_line else "") + f"pruning: step {self.step}: target sparsity {target:.4f}, "
                f"achieved {1 - kept / total:.4f} over {len(self.masks)} matrices",
                flush=True,
            )


def _n_samples(x) -> int:
    leaves = keras.tree.flatten(x)
    if not leaves or not all(hasattr(leaf, "shape") and len(leaf.shape) > 0 for leaf in leaves):
        raise TypeError("prune_model takes in-memory arrays for x; for datasets or generators pass a PruningCallback to model.fit yourself")
    return int(leaves[0].shape[0])


def prune_model(
    model,
    x,
    y,
    final_sparsity: float,
    epochs: int = 2,
    lanes: int | None = None,
    initial_sparsity: float = 0.0,
    batch_size: int = 32,
    verbose: int = 1,
    frequency: int | None = None,
    skip=(),
    **fit_kwargs,
):
    """Fine-tune a compiled model while pruning it gradually to ``final_sparsity``.

    Sparsity rises on the cubic schedule over the first two thirds of the
    training steps and is held for the last third, so the network recovers
    with its final mask.  ``frequency`` defaults to about ten mask updates.
    The model keeps the compile settings the user chose (optimizer, loss); an
    uncompiled model is refused rather than given guessed ones.  Works in place
    and returns the model.  Layers named in ``skip`` stay dense (they are
    still trained), e.g. ``skip=("keyword",)`` for a small classifier head.
    ``fit_kwargs`` go to ``model.fit`` (e.g. ``validation_data``); for full
    control use ``PruningCallback`` directly.
    """
    final_sparsity = _check_sparsity(final_sparsity, "final_sparsity")
    initial_sparsity = _check_sparsity(initial_sparsity, "initial_sparsity")
    lanes = _check_lanes(lanes)
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        raise ValueError(
            f"model {model.name!r} is not compiled; call model.compile(optimizer=..., loss=...) "
            "first: pruning fine-tunes the model with your optimizer and loss"
        )
    skip = _check_skip(skip)
    select_weights(model, skip)  # fail before training if there is nothing to prune (or skip names no layer)

    for name in ("steps_per_epoch", "initial_epoch", "validation_split"):
        if name in fit_kwargs:
            raise ValueError(f"prune_model does not take {name}: the schedule is derived from x, epochs and batch_size")
    steps = epochs * -(-_n_samples(x) // batch_size)
    end_step = (2 * (steps - 1)) // 3
    if frequency is None:
        frequency = max(1, end_step // 10)
    schedule = PolynomialSchedule(
        final_sparsity=final_sparsity,
        initial_sparsity=initial_sparsity,
        begin_step=0,
        end_step=end_step,
        frequency=frequency,
    )
    callback = PruningCallback(schedule, lanes=lanes, verbose=verbose, skip=skip)
    callbacks = list(fit_kwargs.pop("callbacks", None) or []) + [callback]
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=verbose, callbacks=callbacks, **fit_kwargs)
    if callback.step <= end_step:  # training stopped early (e.g. EarlyStopping): still deliver the promised sparsity
        callback._update(end_step)
    return model
