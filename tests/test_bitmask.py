import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from masr_hls.numerics.bitmask import CompactVector, SparseMatrix, pack_mask, storage_bits, unpack_mask
from masr_hls.numerics.lane_balance import assign_rows, lane_loads


def sparse_ints(rng, shape, density):
    return rng.integers(-100, 100, size=shape) * (rng.random(shape) < density)


@given(n=st.integers(1, 300), density=st.sampled_from([0.0, 0.1, 0.5, 1.0]), seed=st.integers(0, 2**32 - 1))
def test_compact_vector_round_trip(n, density, seed):
    x = sparse_ints(np.random.default_rng(seed), n, density)
    c = CompactVector.encode(x)
    assert np.array_equal(c.decode(), x)
    assert c.values.size == np.count_nonzero(x)
    assert np.array_equal(unpack_mask(c.mask, n), x != 0)


def test_mask_bit_order():
    nz = np.zeros(40, bool)
    nz[[0, 31, 32, 39]] = True
    assert list(pack_mask(nz)) == [1 | (1 << 31), 1 | (1 << 7)]


@given(
    rows=st.integers(1, 120),
    cols=st.integers(1, 120),
    lanes=st.integers(1, 64),
    density=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
    strategy=st.sampled_from(["balanced", "interleaved"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_sparse_matrix_round_trip(rows, cols, lanes, density, strategy, seed):
    w = sparse_ints(np.random.default_rng(seed), (rows, cols), density)
    lane_of_row = assign_rows(np.count_nonzero(w, axis=1), lanes, strategy)
    m = SparseMatrix.encode(w, lane_of_row, lanes)
    assert np.array_equal(m.decode(), w)
    assert m.nnz == np.count_nonzero(w)
    assert sorted(np.concatenate([m.lane_rows[i, : m.lane_n_rows[i]] for i in range(lanes)])) == list(range(rows))


def test_balanced_assignment_beats_interleaving_on_skewed_rows():
    work = np.array([100, 1, 100, 1, 1, 1])  # interleaving puts both heavy rows on lane 0
    balanced = lane_loads(work, assign_rows(work, 2, "balanced"), 2)
    interleaved = lane_loads(work, assign_rows(work, 2, "interleaved"), 2)
    assert list(interleaved) == [201, 3]
    assert sorted(balanced) == [102, 102]


@given(work=st.lists(st.integers(0, 50), min_size=1, max_size=200), lanes=st.integers(1, 64))
def test_balanced_assignment_is_within_one_row_of_even(work, lanes):
    work = np.array(work)
    loads = lane_loads(work, assign_rows(work, lanes), lanes)
    assert loads.sum() == work.sum()
    assert loads.max() <= work.sum() / lanes + work.max()


def test_storage_bits_formulas():
    w = np.zeros((32, 10), np.int64)
    w[0, 0] = 5
    w[31, 0] = 7  # gap of 30 rows: one padding entry in CSC (4-bit relative index)
    bits = storage_bits(w, value_bits=8, lane_of_row=np.zeros(32, np.int64), lanes=1)
    assert bits["dense"] == 32 * 10 * 8
    assert bits["bitmask"] == 32 * 10 + 2 * 8
    assert bits["csc"] == 3 * (8 + 4) + 11 * 2  # 3 entries; 11 pointers of 2 bits


def csc_bits_by_loop(w_raw, value_bits, lane_of_row, lanes):
    """EIE's CSC, counted the plain way: lane by lane, column by column."""
    entries_per_lane = []
    for lane in range(lanes):
        entries = 0
        for col in w_raw[lane_of_row == lane].T:
            rows = np.flatnonzero(col)
            gaps = np.diff(np.concatenate(([-1], rows))) - 1
            entries += rows.size + int(np.sum(gaps // 16))
        entries_per_lane.append(entries)
    pointers = sum(max(1, math.ceil(math.log2(e + 1))) * (w_raw.shape[1] + 1) for e in entries_per_lane)
    return sum(entries_per_lane) * (value_bits + 4) + pointers


def test_csc_bits_match_a_plain_count():
    rng = np.random.default_rng(4)
    for density in (0.0, 0.02, 0.1, 0.5):
        w_raw = rng.integers(-5, 6, (90, 40)) * (rng.random((90, 40)) < density)
        for lanes in (1, 3, 16, 64):
            for strategy in ("balanced", "interleaved"):
                lor = assign_rows(np.count_nonzero(w_raw, axis=1), lanes, strategy)
                assert storage_bits(w_raw, 12, lor, lanes)["csc"] == csc_bits_by_loop(w_raw, 12, lor, lanes)


@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda: SparseMatrix.encode(np.ones((3, 3)), np.zeros(2), 1), "3 rows"),
        (lambda: SparseMatrix.encode(np.ones((3, 3)), np.array([0, 1, 2]), 2), "lanes outside"),
        (lambda: SparseMatrix.encode(np.ones((3, 3)), np.zeros(3), 0), "lanes must be at least 1"),
        (lambda: assign_rows(np.ones(3), 0), "lanes must be a positive integer"),
        (lambda: assign_rows(np.ones(3), 2, "random"), "unknown lane assignment strategy"),
        (lambda: CompactVector(n=3, mask=np.array([7]), values=np.array([1, 2])).decode(), "3 set bits but 2"),
    ],
)
def test_bad_parameters_are_named(bad, message):
    with pytest.raises(ValueError, match=message):
        bad()
