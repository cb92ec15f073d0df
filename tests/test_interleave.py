"""Interleaved directions (docs/arithmetic.md, "Interleaved directions"): a Bidirectional layer's two recurrences on
shared recurrent engines.  C simulation against the reference, bit for bit and cycle for cycle; the schedule's
bounds against the layer with an engine per direction."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from masr_hls.backend.config import ConfigError, layer_settings, validate
from masr_hls.constants import MXV_DONE_DEPTH, MXV_MAC_DEPTH
from masr_hls.csim.modules import RnnSim
from masr_hls.numerics.fixed_point import FixedType
from masr_hls.reference.rnn_cell import CellConfig, CellWeights
from masr_hls.reference.rnn_layer import MergeConfig, SweepTrace, bidirectional, interleaved_schedule

F = FixedType.parse


def weights(rng, cfg: CellConfig, density: float = 0.5):
    g_u = cfg.gates * cfg.n_units
    sparse = lambda shape: rng.normal(0, 0.6, shape) * (rng.random(shape) < density)  # noqa: E731
    bias = rng.normal(0, 0.3, (2, g_u) if cfg.kind == "gru" and cfg.reset_after else (g_u,))
    return CellWeights.from_keras(cfg, sparse((cfg.n_in, g_u)), sparse((cfg.n_units, g_u)), bias)


def frames(rng, cfg: CellConfig, t: int, density: float = 0.5) -> np.ndarray:
    return cfg.in_t.quantize_float(rng.normal(0, 1.5, (t, cfg.n_in)) * (rng.random((t, cfg.n_in)) < density))


CASES = {  # odd sizes; two calls a step (GRU reset_after=False: two shared engines); static and shared banks
    "gru_before_concat": (dict(kind="gru", n_in=7, n_units=9, reset_after=False, activation="relu", lanes=3), "concat"),
    "gru_after_sum": (dict(kind="gru", n_in=11, n_units=13, lanes=4, bank_lanes=2, fifo_depth=1), "sum"),
    "lstm_concat": (dict(kind="lstm", n_in=5, n_units=7, lanes=3), "concat"),
    "lstm_ave": (dict(kind="lstm", n_in=9, n_units=11, lanes=2, bank_lanes=2, fifo_depth=1), "ave"),
}


@pytest.fixture(scope="module")
def layers():
    built, args = {}, []
    for i, (name, (cell, mode)) in enumerate(CASES.items()):
        rng = np.random.default_rng(40 + i)
        cfg = CellConfig(**cell)
        m = MergeConfig(mode, F("ap_fixed<18,8,AP_RND,AP_SAT>"), lanes=cfg.lanes, interleave=True)
        wf, wb = weights(rng, cfg), weights(rng, cfg)
        built[name] = (cfg, wf, wb, m, rng)
        args.append((cfg, wf, cfg, wb, m, 16))
    sims = RnnSim.many(args)
    return {name: (*built[name], sim) for name, sim in zip(built, sims)}


@pytest.mark.csim
@pytest.mark.parametrize("name", list(CASES))
def test_interleaved_layer_matches_reference(name, layers):
    """Outputs, every figure and the layer's cycles, into the output port and into a compact store."""
    cfg, wf, wb, m, rng, sim = layers[name]
    plain = dataclasses.replace(m, interleave=False)
    for t in (1, 2, 16):
        for density in (0.5, 0.0):
            x = frames(rng, cfg, t, density)
            for return_sequences in (True, False):
                for stores_output in (False, True):
                    y, fs, bs, cycles = sim.bidirectional(x, return_sequences, stores_output)
                    ry, rfs, rbs, rcycles = bidirectional(cfg, wf, cfg, wb, m, x, return_sequences, stores_output)
                    np.testing.assert_array_equal(y, ry)
                    assert (fs.as_tuple(), bs.as_tuple(), cycles) == (rfs.as_tuple(), rbs.as_tuple(), rcycles)
                    py, *_, pcycles = bidirectional(cfg, wf, cfg, wb, plain, x, return_sequences, stores_output)
                    np.testing.assert_array_equal(py, ry)  # sharing the engines changes no result
                    assert pcycles <= rcycles


def _trace(rng, n: int, steps: int, calls: int, start, kx_scale: int, banks: int = 3) -> SweepTrace:
    """A made-up sweep: per call and bank F, B and cycles that a bank's lanes could take (cycles >= F, B + MAC_DEPTH)."""
    shape = (calls, n, steps, banks)
    front = rng.integers(0, 20, shape)
    issue = np.where(rng.random(shape) < 0.2, 0, rng.integers(2, 25, shape))
    cycles = np.maximum(front, np.where(issue > 0, issue + MXV_MAC_DEPTH, 0)) + rng.integers(0, 3, shape)
    return SweepTrace(start, rng.integers(0, kx_scale + 1, (n, steps)), np.stack([front, issue, cycles], axis=1), 3, 6)


def _alone(tr: SweepTrace, calls: int) -> np.ndarray:
    """The sweep's end with an engine of its own: max(RH_t, KX_{t+1}) per step."""
    rh = (tr.encode + 1 + tr.elementwise) * calls + (tr.calls[:, 2].max(axis=-1) + MXV_DONE_DEPTH).sum(axis=0)
    kx_next = np.concatenate([tr.kx[:, 1:], np.zeros((len(tr.kx), 1), np.int64)], axis=1)
    return tr.start + np.maximum(rh, kx_next).sum(axis=1)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 12), calls=st.integers(1, 2), kx_scale=st.integers(0, 80))
def test_interleaving_costs_at_most_the_other_directions_occupancy(seed, steps, calls, kx_scale):
    """Each direction's sweep ends no earlier than alone and at most the sum of the other direction's occupancies
    (per call, the most over banks of max(F, B - 1)) later; the shared engine is occupied no longer than its calls'
    engine cycles added up."""
    rng = np.random.default_rng(seed)
    n = 4
    start = rng.integers(2, 30, (2, n))
    fwd, bwd = (_trace(rng, n, steps, calls, start[d], kx_scale) for d in range(2))
    shared = interleaved_schedule(fwd, bwd)
    for d, tr in enumerate((fwd, bwd)):
        alone = _alone(tr, calls)
        other = (fwd, bwd)[1 - d].calls
        bound = np.maximum(other[:, 0], other[:, 1] - 1).max(axis=-1).sum(axis=(0, 2))
        assert np.all(shared.ends[d] >= alone)
        assert np.all(shared.ends[d] <= alone + bound)
        assert np.array_equal(shared.occupancy[1 - d], bound)
    assert np.all(shared.occupied <= shared.engine_cycles)


@pytest.mark.parametrize("calls", [1, 2])
def test_a_lone_direction_keeps_its_schedule(calls):
    """When the other direction starts after this one has finished, each call starts the cycle after it is ready:
    the sweep is the non-interleaved one exactly, and so is the other's."""
    rng = np.random.default_rng(calls)
    first = _trace(rng, 4, 10, calls, np.full(4, 5), 40)
    later = _trace(rng, 4, 10, calls, _alone(first, calls) + 1, 40)
    shared = interleaved_schedule(first, later)
    assert np.array_equal(shared.ends[0], _alone(first, calls))
    assert np.array_equal(shared.ends[1], _alone(later, calls))
    assert np.array_equal(shared.occupied, shared.engine_cycles)  # no two calls overlap


def test_interleave_key():
    validate({"Model": {"Lanes": 4, "Interleave": True}})
    validate({"Model": {"Lanes": 4, "Interleave": "auto"}})
    with pytest.raises(ConfigError, match="Interleave"):
        validate({"Model": {"Lanes": 4, "Interleave": "yes"}})
    config = validate({"Model": {"Lanes": 4}, "LayerName": {"bigru": {"Interleave": True}}})
    assert layer_settings(config, "bigru").interleave and not layer_settings(config, "other").interleave
    with pytest.raises(ValueError, match="Interleave"):
        cfg = CellConfig("gru", 6, 10, lanes=2)
        rng = np.random.default_rng(0)
        other = CellConfig("gru", 6, 12, lanes=2)
        bidirectional(cfg, weights(rng, cfg), other, weights(rng, other), MergeConfig("concat", cfg.state_t, 2, True), frames(rng, cfg, 3))


def test_rtl_twin_refuses_an_interleaved_layer():
    from types import SimpleNamespace

    from masr_hls.rtl.twin import unsupported_reason

    cfg = CellConfig("gru", 6, 10, lanes=2)
    layer = SimpleNamespace(kind="bidirectional", name="bigru", fwd=cfg, bwd=cfg, merge=MergeConfig("concat", cfg.state_t, 2, True))
    reason = unsupported_reason(layer)
    assert "'bigru'" in reason and "Interleave" in reason and "not in the RTL" in reason
    assert unsupported_reason(SimpleNamespace(**{**vars(layer), "merge": MergeConfig("concat", cfg.state_t, 2)})) is None


@pytest.mark.slow
def test_converted_model_with_an_interleaved_layer(tmp_path):
    """A stack converted with one layer interleaved (a concat layer into a split store, then a sum layer into the
    output port): the generated project's C simulation equals the reference, figures and cycles included."""
    import keras
    from builders import L, chain

    import masr_hls

    model = chain(
        9,
        5,
        L.Bidirectional(L.GRU(7, return_sequences=True, activation="relu"), name="bi1"),
        L.Bidirectional(L.LSTM(6, return_sequences=True), merge_mode="sum", name="bi2"),
        seed=5,
    )
    assert isinstance(model, keras.Model)
    config = {"Model": {"Lanes": 3, "Interleave": True}, "LayerName": {"bi2": {"Interleave": False}}}
    hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, hls_config=config, output_dir=tmp_path / "prj"))
    bi1, bi2 = hw.layers
    assert bi1.merge.interleave and not bi2.merge.interleave and "directions interleaved" in bi1.balancing
    x = np.random.default_rng(2).normal(size=(4, 9, 5))
    check = hw.cross_check(x)
    assert check.csim_mismatches == 0 and check.figure_mismatches == 0, check.summary()


def test_headline_counts_the_shared_engine():
    """bench/headline.py's masr_interleaved: masr's work, never more engine cycles, and exactly masr's cycles plus
    the shared engines' occupied cycles less the two engines' call cycles."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "headline.py"
    spec = importlib.util.spec_from_file_location("bench_headline_interleave", path)
    hl = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = hl
    spec.loader.exec_module(hl)
    rng = np.random.default_rng(0)
    rates = {"input": rng.uniform(0.2, 0.8, 12), "layers": [(rng.uniform(0, 0.9, 24), rng.uniform(0, 0.9, 24))] * 2}
    paper = hl.paper_workload(rates, seed=0, prune_lanes=4, layers=2, units=24, frames=5, features=12, sparsity=0.8)
    from masr_hls.analysis.energy import load_table

    savings = []
    for lanes in (2, 8):
        r = hl.evaluate(paper, lanes, load_table())["engines"]
        a, m = r["masr_interleaved"], r["masr"]
        assert a["pairs"] == m["pairs"] and a["energy_nj"] == m["energy_nj"]
        savings.append(hl.interleaved_saving(paper, lanes))
        assert savings[-1] <= 0 and a["cycles"] == pytest.approx(m["cycles"] + savings[-1] / paper.inferences)
    assert min(savings) < 0  # some calls ran back to back


def test_study_model_of_shared_kernels_reproduces_the_built_schedule():
    """bench/interleave_study.py's kernels_shared, with the kernel engines kept apart, is the built interleaved
    schedule exactly (with them shared the order of the recurrent calls changes, so no bound is asserted)."""
    import importlib.util
    import sys
    from pathlib import Path
    from types import SimpleNamespace

    from masr_hls.reference.rnn_layer import _sweep_batch

    path = Path(__file__).resolve().parents[1] / "bench" / "interleave_study.py"
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location("bench_interleave_study", path)
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    rng = np.random.default_rng(9)
    for cell in (dict(kind="gru", reset_after=False, lanes=3), dict(kind="lstm", lanes=4, bank_lanes=2, fifo_depth=1)):
        cfg = CellConfig(n_in=10, n_units=7, **cell)
        wf, wb = weights(rng, cfg), weights(rng, cfg)
        x = np.stack([frames(rng, cfg, 6) for _ in range(3)])
        for entry in (False, True):
            layer = SimpleNamespace(fwd=cfg, bwd=cfg, wf=wf, wb=wb, entry=entry)
            traces = (_sweep_batch(cfg, wf, x, False, False, entry)[2], _sweep_batch(cfg, wb, x, True, True, entry)[2])
            built = interleaved_schedule(*traces).ends
            assert np.array_equal(study.kernels_shared(layer, x, traces, share_kernels=False), built)
