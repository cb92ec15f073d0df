import math

import keras
import numpy as np
import pytest

from masr_hls.training.pruning import (
    PolynomialSchedule,
    PruningCallback,
    lane_nnz,
    magnitude_mask,
    prunable_weights,
    prune_model,
    prune_to_sparsity,
    weight_sparsity,
)


def expected_zeros(n, sparsity):
    return math.floor(sparsity * n + 0.5)


def gru_model(units=8, out=2, seed=0):
    keras.utils.set_random_seed(seed)
    inp = keras.Input((5, 4))
    h = keras.layers.GRU(units, name="gru")(inp)
    return keras.Model(inp, keras.layers.Dense(out, name="head")(h))


def every_kind_model(seed=0):
    keras.utils.set_random_seed(seed)
    inp = keras.Input((5, 4))
    h = keras.layers.Bidirectional(keras.layers.GRU(8, return_sequences=True, name="gru"), name="bi")(inp)
    h = keras.layers.LSTM(6, return_sequences=True, name="lstm")(h)
    h = keras.layers.SimpleRNN(5, return_sequences=True, name="rnn")(h)
    h = keras.layers.TimeDistributed(keras.layers.Dense(3, name="td_dense"), name="td")(h)
    out = keras.layers.Dense(2, name="head")(keras.layers.Flatten()(h))
    return keras.Model(inp, out)


def to_numpy(var):
    return np.array(var.numpy())


def numpy_weights(model):
    return {path: to_numpy(var) for path, var in prunable_weights(model)}


def data(n=32, seed=1, out_shape=(2,)):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5, 4)).astype("float32"), rng.normal(size=(n, *out_shape)).astype("float32")


# --------------------------------------------------------------------------- which weights


def test_prunable_weights_cover_every_layer_kind_and_no_biases():
    model = every_kind_model()
    pairs = prunable_weights(model)
    assert [path for path, _ in pairs] == [
        "bi/forward_gru/kernel",
        "bi/forward_gru/recurrent_kernel",
        "bi/backward_gru/kernel",
        "bi/backward_gru/recurrent_kernel",
        "lstm/kernel",
        "lstm/recurrent_kernel",
        "rnn/kernel",
        "rnn/recurrent_kernel",
        "td/td_dense/kernel",
        "head/kernel",
    ]
    bi = model.get_layer("bi")
    assert pairs[0][1] is bi.forward_layer.cell.kernel
    assert pairs[3][1] is bi.backward_layer.cell.recurrent_kernel
    assert pairs[8][1] is model.get_layer("td").layer.kernel
    assert all(len(var.shape) == 2 for _, var in pairs)
    biases = {id(v) for layer in model.layers for v in layer.weights if "bias" in v.path}
    assert biases and not biases & {id(var) for _, var in pairs}


def test_nested_model_is_searched():
    inner = gru_model()
    inp = keras.Input((5, 4))
    outer = keras.Model(inp, keras.layers.Dense(1, name="top")(inner(inp)))
    paths = [path for path, _ in prunable_weights(outer)]
    assert paths == [f"{inner.name}/gru/kernel", f"{inner.name}/gru/recurrent_kernel", f"{inner.name}/head/kernel", "top/kernel"]


# --------------------------------------------------------------------------- one-shot exactness


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.5, 0.77, 0.95])
def test_one_shot_reaches_requested_sparsity_exactly_per_matrix(sparsity):
    model = every_kind_model()
    biases_before = [to_numpy(v) for v in model.weights if "bias" in v.path]
    before = numpy_weights(model)
    prune_to_sparsity(model, sparsity)
    after = numpy_weights(model)
    for path, w in after.items():
        assert np.count_nonzero(w == 0) == expected_zeros(w.size, sparsity), path
        kept = w != 0
        assert np.array_equal(w[kept], before[path][kept]), path  # survivors untouched
        if kept.any() and (~kept).any():
            assert np.abs(before[path][~kept]).max() <= np.abs(before[path][kept]).min(), path
    biases_after = [to_numpy(v) for v in model.weights if "bias" in v.path]
    assert all(np.array_equal(a, b) for a, b in zip(biases_before, biases_after))


def test_ties_are_broken_by_index_and_zeros_count_as_pruned():
    w = np.array([[1.0, -1.0, 1.0, 0.5], [1.0, 0.0, -1.0, 1.0]])
    keep = magnitude_mask(w, 0.5)  # prune 4: the zero, the 0.5, then the two lowest-index 1.0s
    assert keep.tolist() == [[False, False, True, False], [True, False, True, True]]
    assert np.array_equal(magnitude_mask(w, 0.5), keep)


def test_existing_zeros_are_used_not_added_to():
    rng = np.random.default_rng(3)
    w = rng.normal(size=(10, 12))
    w[rng.random(w.shape) < 0.2] = 0.0
    n_zero = np.count_nonzero(w == 0)
    keep = magnitude_mask(w, 0.5)
    assert np.count_nonzero(~keep) == expected_zeros(w.size, 0.5) == 60
    assert not keep[w == 0].any()  # every existing zero is among the pruned
    assert n_zero < 60
    # more zeros than requested: they stay zero, the mask prunes exactly the request
    keep = magnitude_mask(w, 0.1)
    assert np.count_nonzero(~keep) == 12 and np.count_nonzero(w * keep == 0) == n_zero


# --------------------------------------------------------------------------- lanes


def test_lane_nnz_uses_interleaved_columns():
    kernel = np.array([[1, 0, 2, 3, 0], [4, 5, 0, 6, 7]])  # column nnz: 2 1 1 2 1
    assert lane_nnz(kernel, 2).tolist() == [2 + 1 + 1, 1 + 2]
    assert lane_nnz(kernel, 3).tolist() == [2 + 2, 1 + 1, 1]
    assert lane_nnz(kernel, 8).tolist() == [2, 1, 1, 2, 1, 0, 0, 0]


@pytest.mark.parametrize("lanes", [1, 3, 4, 5, 7])
@pytest.mark.parametrize("sparsity", [0.5, 0.8, 0.9])
def test_lane_balanced_pruning_gives_equal_nnz_per_lane(lanes, sparsity):
    model = gru_model(units=8, out=6)
    before = numpy_weights(model)
    prune_to_sparsity(model, sparsity, lanes=lanes)
    for path, w in numpy_weights(model).items():
        per_lane = lane_nnz(w, lanes)[: min(lanes, w.shape[1])]
        assert len(set(per_lane.tolist())) == 1, (path, per_lane)
        pruned = np.count_nonzero(w == 0)
        target = expected_zeros(w.size, sparsity)
        assert target <= pruned < target + lanes, path  # documented bound: |achieved - requested| < lanes / N
        assert abs(pruned / w.size - sparsity) < lanes / w.size, path
        lane_of_col = np.arange(w.shape[1]) % lanes
        for lane in range(lanes):  # within a lane, the largest magnitudes survive
            old, new = before[path][:, lane_of_col == lane], w[:, lane_of_col == lane]
            if (new != 0).any() and (new == 0).any():
                assert np.abs(old[new == 0]).max() <= np.abs(old[new != 0]).min(), (path, lane)


def test_lane_balanced_when_lanes_own_unequal_row_counts():
    w = np.random.default_rng(0).normal(size=(4, 5))  # 5 rows on 4 lanes: lane 0 owns two rows
    keep = magnitude_mask(w, 0.0, lanes=4)  # equal share capped at the smallest lane (4 entries)
    assert lane_nnz(keep, 4).tolist() == [4, 4, 4, 4]
    keep = magnitude_mask(w, 0.6, lanes=4)  # keep 8 -> 2 per lane
    assert lane_nnz(keep, 4).tolist() == [2, 2, 2, 2]
    keep = magnitude_mask(w, 0.5, lanes=8)  # only 5 lanes own rows; keep 10 -> 2 each
    assert lane_nnz(keep, 8).tolist() == [2, 2, 2, 2, 2, 0, 0, 0]


def test_gate_columns_are_rows_for_lanes():
    model = gru_model(units=8)
    prune_to_sparsity(model, 0.75, lanes=4)
    kernel = to_numpy(model.get_layer("gru").cell.kernel)
    assert kernel.shape == (4, 24)
    assert lane_nnz(kernel, 4).tolist() == [6, 6, 6, 6]  # 96 entries, 24 kept
    assert not np.array_equal(np.count_nonzero(kernel, axis=1), [6, 6, 6, 6])  # balance is on columns, not rows


# --------------------------------------------------------------------------- schedule


def test_polynomial_schedule_values():
    s = PolynomialSchedule(final_sparsity=0.8, initial_sparsity=0.1, begin_step=10, end_step=20, frequency=3)
    assert s.sparsity(0) == pytest.approx(0.1)
    assert s.sparsity(10) == pytest.approx(0.1)
    assert s.sparsity(15) == pytest.approx(0.8 - 0.7 * 0.5**3)
    assert s.sparsity(12) == pytest.approx(0.8 - 0.7 * 0.8**3)
    assert s.sparsity(20) == pytest.approx(0.8)
    assert s.sparsity(99) == pytest.approx(0.8)
    assert [step for step in range(30) if s.should_update(step)] == [10, 13, 16, 19, 20]
    assert [s.update_point(step) for step in (9, 10, 12, 13, 19, 20, 25)] == [None, 10, 10, 13, 19, 20, 20]
    values = [s.sparsity(step) for step in range(10, 21)]
    assert values == sorted(values)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(final_sparsity=1.0), "final_sparsity"),
        (dict(final_sparsity=0.5, initial_sparsity=-0.1), "initial_sparsity"),
        (dict(final_sparsity=0.3, initial_sparsity=0.5), "initial_sparsity"),
        (dict(final_sparsity=0.5, begin_step=5, end_step=4), "end_step"),
        (dict(final_sparsity=0.5, frequency=0), "frequency"),
    ],
)
def test_schedule_rejects_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        PolynomialSchedule(**kwargs)


# --------------------------------------------------------------------------- training


def test_masks_survive_fit_and_survivors_keep_training():
    x, y = data()
    model = gru_model()
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    prune_to_sparsity(model, 0.6)
    pruned = numpy_weights(model)
    callback = PruningCallback(PolynomialSchedule(final_sparsity=0.6, initial_sparsity=0.6, begin_step=0, end_step=0))
    revived_after_batch = []

    class Probe(keras.callbacks.Callback):  # runs after the pruning callback at every batch boundary
        def on_train_batch_end(self, batch, logs=None):
            now = numpy_weights(model)
            revived_after_batch.append(sum(np.count_nonzero(now[p][pruned[p] == 0]) for p in now))

    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[callback, Probe()])
    assert revived_after_batch == [0, 0, 0, 0]
    trained = numpy_weights(model)
    for path, w in trained.items():
        zero = pruned[path] == 0
        assert np.count_nonzero(zero) == expected_zeros(w.size, 0.6), path
        assert np.all(w[zero] == 0.0), path
        assert np.all(w[~zero] != 0.0), path
        assert not np.allclose(w[~zero], pruned[path][~zero]), path  # the survivors were trained
    assert callback.step == 4 and callback.updates == [(0, 0.6)]

    # without the callback the optimizer revives pruned weights: the check above can fail
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    revived = numpy_weights(model)
    assert any(np.count_nonzero(revived[p][pruned[p] == 0]) for p in revived)


def test_callback_follows_schedule_during_fit():
    x, y = data()
    model = gru_model()
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    schedule = PolynomialSchedule(final_sparsity=0.75, begin_step=1, end_step=5, frequency=2)
    callback = PruningCallback(schedule, lanes=4)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[callback])  # 8 steps
    assert callback.step == 8
    assert [step for step, _ in callback.updates] == [1, 3, 5]
    assert [target for _, target in callback.updates] == pytest.approx([0.0, 0.75 - 0.75 * 0.5**3, 0.75])
    for path, w in numpy_weights(model).items():
        assert len(set(lane_nnz(w, 4).tolist()[: min(4, w.shape[1])])) == 1, path
        assert abs(np.mean(w == 0) - 0.75) < 4 / w.size, path


def test_prune_model_bidirectional_time_distributed(capsys):
    keras.utils.set_random_seed(0)
    inp = keras.Input((5, 4))
    h = keras.layers.Bidirectional(keras.layers.GRU(8, return_sequences=True, name="gru"), name="bi")(inp)
    model = keras.Model(inp, keras.layers.TimeDistributed(keras.layers.Dense(2), name="td")(h))
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    x, y = data(out_shape=(5, 2))
    returned = prune_model(model, x, y, final_sparsity=0.8, epochs=2, batch_size=8, verbose=1)
    assert returned is model
    sparsity = weight_sparsity(model)
    assert len(sparsity) == 5 and all(p.startswith(("bi/forward_gru/", "bi/backward_gru/", "td/")) for p in sparsity)
    for path, var in prunable_weights(model):
        n = math.prod(var.shape)
        assert sparsity[path] == expected_zeros(n, 0.8) / n, path
    log = [line for line in capsys.readouterr().out.splitlines() if line.startswith("pruning: step")]
    assert len(log) >= 2 and "target sparsity 0.8000" in log[-1]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("bad", [1.0, -0.01, 1.5, float("nan"), "0.5", True])
def test_bad_sparsity_is_refused(bad):
    model = gru_model()
    with pytest.raises(ValueError, match="sparsity"):
        prune_to_sparsity(model, bad)


@pytest.mark.parametrize("bad", [0, -2, 2.0, True])
def test_bad_lanes_are_refused(bad):
    model = gru_model()
    with pytest.raises(ValueError, match="lanes"):
        prune_to_sparsity(model, 0.5, lanes=bad)
    with pytest.raises(ValueError, match="lanes"):
        PruningCallback(PolynomialSchedule(final_sparsity=0.5), lanes=bad)
    with pytest.raises(ValueError, match="lanes"):
        lane_nnz(np.ones((2, 2)), bad)


def test_model_without_prunable_layers_is_refused():
    inp = keras.Input((5, 4))
    model = keras.Model(inp, keras.layers.Conv1D(3, 2, name="conv")(inp), name="convnet")
    with pytest.raises(ValueError, match=r"'convnet' has no prunable layers.*conv \(Conv1D\)"):
        prune_to_sparsity(model, 0.5)


def test_unbuilt_layer_is_named():
    model = keras.Sequential([keras.layers.Dense(3, name="late")])
    with pytest.raises(ValueError, match="'late/?.*not built"):
        prunable_weights(model)


def test_prune_model_needs_a_compiled_model():
    model = gru_model()
    x, y = data()
    with pytest.raises(ValueError, match="not compiled"):
        prune_model(model, x, y, final_sparsity=0.5)
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="final_sparsity"):
        prune_model(model, x, y, final_sparsity=1.0)
    with pytest.raises(ValueError, match="validation_split"):
        prune_model(model, x, y, final_sparsity=0.5, validation_split=0.2)


# --------------------------------------------------------------------------- skipping layers


def test_one_shot_skip_leaves_named_layers_dense():
    model = every_kind_model()
    before = numpy_weights(model)
    prune_to_sparsity(model, 0.8, lanes=2, skip=("head", "backward_gru"))
    after = numpy_weights(model)
    untouched = {"head/kernel", "bi/backward_gru/kernel", "bi/backward_gru/recurrent_kernel"}
    for path, w in after.items():
        if path in untouched:
            assert np.array_equal(w, before[path]), path
        else:
            assert abs(np.mean(w == 0) - 0.8) < 2 / w.size, path
    prune_to_sparsity(model, 0.9, skip="bi")  # a Bidirectional's name covers both directions; a plain string is one name
    again = numpy_weights(model)
    assert np.array_equal(again["bi/backward_gru/kernel"], before["bi/backward_gru/kernel"])
    assert np.array_equal(again["bi/forward_gru/kernel"], after["bi/forward_gru/kernel"])
    head = again["head/kernel"]
    assert np.count_nonzero(head == 0) == expected_zeros(head.size, 0.9)  # no longer skipped: pruned now


def test_prune_model_and_callback_skip_the_head():
    x, y = data()
    model = gru_model(units=8, out=2)
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    head_before = to_numpy(model.get_layer("head").kernel)
    prune_model(model, x, y, final_sparsity=0.75, epochs=2, lanes=4, batch_size=8, verbose=0, skip=("head",))
    sparsity = weight_sparsity(model)
    head = to_numpy(model.get_layer("head").kernel)
    assert sparsity["head/kernel"] == 0.0 and not np.array_equal(head, head_before)  # dense, and still trained
    for path in ("gru/kernel", "gru/recurrent_kernel"):
        w = numpy_weights(model)[path]
        assert len(set(lane_nnz(w, 4).tolist())) == 1 and abs(sparsity[path] - 0.75) < 4 / w.size, path
    callback = PruningCallback(PolynomialSchedule(final_sparsity=0.5, end_step=0), skip=["head"])
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[callback])
    assert set(callback.masks) == {"gru/kernel", "gru/recurrent_kernel"}


def test_skip_names_that_match_nothing_are_refused():
    model = gru_model()
    model.compile("adam", "mse")
    x, y = data()
    with pytest.raises(ValueError, match=r"'keyword' match no prunable layer.*gru, head"):
        prune_to_sparsity(model, 0.5, skip=("keyword",))
    with pytest.raises(ValueError, match="'kernel' match no prunable layer"):  # a weight's name is not a layer's
        prune_model(model, x, y, final_sparsity=0.5, skip=("kernel",))
    with pytest.raises(ValueError, match="leaves nothing to prune"):
        prune_to_sparsity(model, 0.5, skip=("gru", "head"))
    with pytest.raises(ValueError, match="skip must hold layer names"):
        prune_to_sparsity(model, 0.5, skip=("gru", 3))
    assert all(v == 0.0 for v in weight_sparsity(model).values())  # the refused calls pruned nothing
