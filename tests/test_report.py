"""The report's figures are the numpy reference's counts, over one sample or a whole data set."""

import json

import keras
import numpy as np
import pytest
from builders import chain

from masr_hls.analysis import report
from masr_hls.cli import main as cli
from masr_hls.cli import project
from masr_hls.training.pruning import prune_to_sparsity

pytestmark = pytest.mark.csim
L = keras.layers


@pytest.fixture(scope="module")
def hw(tmp_path_factory):
    model = chain(8, 6, L.Bidirectional(L.GRU(5, activation="relu", return_sequences=True), name="bi"), L.Dense(3, name="head"), seed=7)
    prune_to_sparsity(model, 0.5)
    folder = tmp_path_factory.mktemp("report")
    model.save(folder / "model.keras")
    return project.convert(folder / "model.keras", folder / "p", config_updates={"Lanes": 2})


def sparse_input(samples, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(samples, 8, 6)) * (rng.random((samples, 8, 6)) < 0.5)


def test_report_matches_reference_counts(hw):
    x = sparse_input(1)
    figures = report.build_report(hw, x)
    ref = hw.reference(x).layers[0]
    fwd, bwd, head = figures["layers"]
    assert (fwd["direction"], bwd["direction"]) == ("forward", "backward")
    assert fwd["pairs"] == ref[0].forward.kernel.pairs + ref[0].forward.recurrent.pairs
    assert bwd["pairs"] == ref[0].backward.kernel.pairs + ref[0].backward.recurrent.pairs
    assert head["pairs"] == sum(h.pairs for h in ref[1].head)
    assert head["x_density"] == pytest.approx(head["pairs"] / (8 * np.count_nonzero(hw.layers[1].weights.w_raw)))
    assert figures["cycles_per_inference"] == sum(r.cycles for r in ref)
    assert 0.45 <= fwd["weight_density"] <= 0.55 and 0 < fwd["activation_density"] < 1
    assert fwd["storage_bits"]["bitmask"] < fwd["storage_bits"]["dense"]
    # Each layer's input sequence: the first layer's is the input port, encoded once on entry; the head's is held
    # compact (mask words and non-zeros), written once by the Bidirectional layer and read by the head.
    bi, head_input = figures["sequences"]
    assert bi["held"] == "input port, encoded on entry"
    words = lambda v: np.sum(-(-v.shape[-1] // 32) + np.count_nonzero(v, axis=-1))  # noqa: E731
    hidden = hw.layers[0].reference(hw.quantize_input(x)[0])[0]
    assert bi["entry_written"] == words(hw.quantize_input(x)[0]) and bi["seq_read"] == 2 * bi["entry_written"]
    # The concat layer writes its halves into a split store, each half with its own mask words, and keeps no hf / hb.
    split = hw.layers[0].out_split
    assert split == hw.layers[0].fwd.n_units and head_input["held"] == f"compact, split {split} + {head_input['n'] - split}"
    halves = words(hidden[:, :split]) + words(hidden[:, split:])
    assert bi["out_written"] == head_input["seq_read"] == halves > words(hidden) > 0 and head_input["out_written"] == 0
    assert bi["state_buffers"] == 0 == head_input["state_buffers"]
    assert (bi["layer"], bi["n"], head_input["n"]) == ("bi", 6, hw.layers[0].n_out) and bi["balancing"].startswith("static")
    x_raw = hw.quantize_input(x)
    assert bi["dense"] == 8 * 6 * hw.input_t.width == bi["dense_worst"]
    assert bi["compact"] == 8 * 32 + np.count_nonzero(x_raw) * hw.input_t.width < bi["compact_worst"]
    assert json.loads(report.to_json(figures))["layers"][2]["layer"] == "head"
    assert "one inference of 8 frames" in report.format_text(figures)


def test_last_state_store_is_one_frame(tmp_path):
    """A recurrent layer without return_sequences outputs one frame: its store is declared one frame deep, the
    report counts it so (dense and compact), and the layer keeps no buffer of its other states."""
    model = chain(8, 6, L.GRU(5, activation="relu", name="gru"), L.Dense(3, name="head"), seed=7)
    model.save(tmp_path / "model.keras")
    hw = project.convert(tmp_path / "model.keras", tmp_path / "p", config_updates={"Lanes": 2})
    top = next((tmp_path / "p" / "firmware").glob("*.cpp")).read_text()
    assert ", 5, 1> layer0_out;" in top and "MAX_T> layer0_out" not in top
    gru, head = report._sequence_rows(hw, sparse_input(3))
    bits = hw.layers[0].out_t.width
    assert (head["n"], head["dense_worst"], head["compact_worst"]) == (5, 5 * bits, 32 + 5 * bits)
    assert gru["compact_worst"] == 8 * (32 + 6 * hw.input_t.width) and gru["state_buffers"] == 0 == head["state_buffers"]


def test_activation_density_over_a_data_set(hw):
    """Densities are pooled over every sample and split by engine; cycles are means per inference."""
    x = sparse_input(12, seed=3)
    figures = report.build_report(hw, x)
    ref = hw.reference(x).layers
    assert figures["samples"] == 12
    layer = hw.layers[0]
    for row, w, pick in (
        (figures["layers"][0], layer.wf, lambda r: r[0].forward),
        (figures["layers"][1], layer.wb, lambda r: r[0].backward),
    ):
        stats = [pick(r) for r in ref]
        nnz_x = np.count_nonzero(w.kernel)
        nnz_h = np.count_nonzero(w.recurrent)
        steps = sum(s.steps for s in stats)
        x_pairs = sum(s.kernel.pairs for s in stats)
        h_pairs = sum(s.recurrent.pairs for s in stats)
        assert row["x_density"] == pytest.approx(x_pairs / (steps * nnz_x))
        assert row["h_density"] == pytest.approx(h_pairs / (steps * nnz_h))
        assert row["activation_density"] == pytest.approx((x_pairs + h_pairs) / (steps * (nnz_x + nnz_h)))
        assert row["pairs"] == pytest.approx((x_pairs + h_pairs) / 12)
        per_sample = [(s.kernel.pairs + s.recurrent.pairs) / (s.steps * (nnz_x + nnz_h)) for s in stats]
        assert row["activation_density_range"] == pytest.approx([min(per_sample), max(per_sample)])
        assert min(per_sample) < max(per_sample)  # the samples differ, so pooling is not a copy of one
    totals = [sum(r.cycles for r in sample) for sample in ref]
    assert figures["cycles_per_inference"] == pytest.approx(np.mean(totals))
    assert figures["cycles_range"] == [min(totals), max(totals)]
    assert report.build_report(hw, x, samples=1)["layers"][0]["pairs"] == figures_of_first(hw, x)


def figures_of_first(hw, x):
    s = hw.reference(x[:1]).layers[0][0].forward
    return s.kernel.pairs + s.recurrent.pairs


def test_plots_are_written(hw, tmp_path):
    import matplotlib.image

    paths = report.write_plots(report.build_report(hw, sparse_input(3)), tmp_path / "plots")
    assert sorted(p.name for p in paths) == ["cycles.png", "density.png", "storage.png"]
    for path in paths:
        image = matplotlib.image.imread(path)
        assert image.shape[0] > 200 and image.shape[1] > 400
        assert image[..., :3].std() > 0.01  # something was drawn


def test_report_command(hw, tmp_path, capsys):
    np.save(tmp_path / "x.npy", sparse_input(5))
    args = [
        "report",
        str(hw.output_dir),
        "--input",
        str(tmp_path / "x.npy"),
        "--samples",
        "4",
        "--json",
        str(tmp_path / "r.json"),
        "--plots",
        str(tmp_path / "plots"),
    ]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "4 sample(s) of 8 frames" in out and "x dens" in out
    assert json.loads((tmp_path / "r.json").read_text())["samples"] == 4
    assert (tmp_path / "plots" / "density.png").is_file()
    with pytest.raises(SystemExit) as exc:  # a usage error, refused by the argument parser
        cli.main(["report", str(hw.output_dir), "--samples", "0"])
    assert exc.value.code == 2
    assert "argument --samples: expected a positive whole number, got '0'" in capsys.readouterr().err


def test_sequence_storage_words_csim_equals_reference(hw):
    """The words each layer writes and reads in the compact stores between layers: C simulation == reference."""
    x = sparse_input(3, seed=5)
    sim, ref = hw.csim(x).layers, hw.reference(x).layers
    for sample_sim, sample_ref in zip(sim, ref):
        for a, b in zip(sample_sim, sample_ref):
            assert (a.entry_written, a.seq_read, a.out_written, a.cycles) == (b.entry_written, b.seq_read, b.out_written, b.cycles)
        bi, head = sample_sim
        # The Bidirectional layer encodes the input port once and both directions read it; the head reads what the
        # merge wrote; the head's outputs leave through the output port.
        assert bi.seq_read == 2 * bi.entry_written > 0 and bi.out_written == head.seq_read > 0
        assert head.entry_written == head.out_written == 0
