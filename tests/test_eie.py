"""The EIE model: hand-worked cycle counts, padding, skipped zeros, the recurrence against a
cycle-by-cycle simulator, its storage against bitmask.storage_bits' CSC count, EIE at 16-bit
weights, and the storage of activation sequences (dense and compact)."""

from collections import deque

import numpy as np
import pytest

from masr_hls.analysis.eie import PIPELINE_DEPTH, EieConfig, EieMatrix, eie_stats, eie_stats_over_calls, sequence_storage
from masr_hls.numerics.bitmask import storage_bits


def matrix(n_rows, n_cols, nonzeros):
    w = np.zeros((n_rows, n_cols), bool)
    for r, c in nonzeros:
        w[r, c] = True
    return w


# --------------------------------------------------------------------------- a plain cycle-by-cycle simulator


def simulate(work: np.ndarray, depth: int) -> tuple[int, int]:
    """EIE cycle by cycle. ``work[p, k]``: entries of PE p in the k-th broadcast column.

    Each cycle: first every free PE pops the head of its queue (if it arrived in an earlier
    cycle) and is busy for max(entries, 1) cycles; then the LNZD pushes the next non-zero
    activation if every queue has room.  Returns (cycle all PEs are done, broadcast stalls).
    """
    pes, k_total = work.shape
    queues = [deque() for _ in range(pes)]  # (activation, cycle pushed)
    free_at = [0] * pes
    popped = 0
    nxt, t, stalls = 0, 0, 0
    while popped < pes * k_total:
        for p in range(pes):
            if t >= free_at[p] and queues[p] and queues[p][0][1] < t:
                k, _ = queues[p].popleft()
                free_at[p] = t + max(int(work[p, k]), 1)
                popped += 1
        if nxt < k_total:
            if all(len(q) < depth for q in queues):
                for q in queues:
                    q.append((nxt, t))
                nxt += 1
            else:
                stalls += 1
        t += 1
    return max(free_at, default=0), stalls


# --------------------------------------------------------------------------- hand-worked cases


def test_no_stalls():
    # 2 PEs: PE0 owns rows 0, 2; PE1 rows 1, 3.  Entries per column: PE0 [1, 1, 1], PE1 [1, 1, 0].
    # Broadcasts at cycles 0, 1, 2; each PE pops activation k at k + 1 and is free at k + 2
    # (PE1's empty column 2 still costs its pointer read, one cycle): done at 4, + 4 pipeline = 8.
    w = matrix(4, 3, [(0, 0), (0, 1), (1, 0), (2, 2), (3, 1)])
    s = eie_stats(EieConfig(pes=2), w, np.ones(3, bool))
    assert (s.pairs, s.issued, s.broadcasts, s.broadcast_stalls) == (5, 5, 3, 0)
    assert s.cycles == 4 + PIPELINE_DEPTH
    assert s.pe_entries == [3, 2]
    assert s.pointer_reads == 2 * 2 * 3  # two pointers, two PEs, three broadcasts
    assert s.activation_reads == 3 and s.queue_writes == 6 and s.accumulator_rmw == 5


# Imbalanced in time: PE0 (rows 0, 2, 4) has entries [3, 1, 1, 1] in columns 0..3, PE1 (rows 1, 3, 5) [1, 1, 1, 3].
SKEWED = matrix(6, 4, [(0, 0), (2, 0), (4, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (1, 2), (1, 3), (3, 3), (5, 3)])


def test_queue_depth_8_absorbs_imbalance():
    # b = 0, 1, 2, 3 (queues never full).  PE0: pops at 1 (busy to 4), 4 (5), 5 (6), 6 (7).
    # PE1: pops at 1 (2), 2 (3), 3 (4), 4 (7).  Done at 7: 11 cycles; ideal 12 pairs / 2 PEs = 6.
    s = eie_stats(EieConfig(pes=2, queue_depth=8), SKEWED, np.ones(4, bool))
    assert s.pe_entries == [6, 6] and s.pairs == 12
    assert (s.cycles, s.broadcast_stalls) == (7 + PIPELINE_DEPTH, 0)


def test_queue_depth_1_stalls():
    # b0 = 0; both PEs pop it at 1 (PE0 busy to 4, PE1 to 2).  b1 = 1 (both queues empty after the pops).
    # PE1 pops a1 at 2 (to 3); PE0's queue holds a1 until PE0 pops it at 4 (to 5), so b2 = 4 (2 stalls).
    # Both pop a2 at 5 (to 6); b3 = 5; both pop a3 at 6: PE0 to 7, PE1 to 9.  Done at 9: 13 cycles.
    s = eie_stats(EieConfig(pes=2, queue_depth=1), SKEWED, np.ones(4, bool))
    assert (s.cycles, s.broadcast_stalls) == (9 + PIPELINE_DEPTH, 2)


def test_empty_column_costs_a_pointer_read():
    # PE0 (rows 0, 2, 4) has entries [3, 0, 0, 1]; PE1 none.  PE0 pops at 1 (busy to 4), 4 (5), 5 (6), 6 (7).
    w = matrix(6, 4, [(0, 0), (2, 0), (4, 0), (0, 3)])
    s = eie_stats(EieConfig(pes=2), w, np.ones(4, bool))
    assert s.cycles == 7 + PIPELINE_DEPTH and s.issued == 4


@pytest.mark.parametrize(
    "pes, rows, entries",
    [
        (1, (0, 16), 2),  # 15 zeros between: the 4-bit index holds 15
        (1, (0, 17), 3),  # 16 zeros: one padding entry
        (1, (16,), 2),  # 16 zeros above the first non-zero: one padding entry
        (1, (32,), 3),  # 32 zeros: padding at local rows 15 and 31
        (1, (0, 33), 4),  # 32 zeros between: padding at rows 16 and 32, each after 15 zeros
        (2, (0, 32), 2),  # PE0's local rows 0 and 16: 15 zeros between
        (2, (0, 34), 3),  # local rows 0 and 17: 16 zeros, one padding entry
        (2, (1, 35), 3),  # the same in PE1
    ],
)
def test_padding(pes, rows, entries):
    w = matrix(max(rows) + 1, 1, [(r, 0) for r in rows])
    cfg = EieConfig(pes=pes)
    m = EieMatrix.encode(w, cfg)
    assert int(m.entries.sum()) == entries
    s = eie_stats(cfg, w, np.ones(1, bool), m)
    # one broadcast at 0, popped at 1, then one cycle per entry of the busiest PE
    assert (s.pairs, s.issued, s.cycles) == (len(rows), entries, 1 + entries + PIPELINE_DEPTH)


def test_padding_storage():
    # Rows 0 and 17 of one column on one PE: 3 entries of 4 + 4 bits and 2 pointers of 16 bits = 56 bits.
    st = EieMatrix.encode(matrix(18, 1, [(0, 0), (17, 0)]), EieConfig(pes=1)).storage(EieConfig(pes=1))
    assert (st.weight_bits, st.index_bits, st.pointer_bits, st.total) == (12, 12, 32, 56)


def test_zero_activations_are_never_broadcast():
    # One row with 5 non-zero weights; v = [0, 1, 0, 0, 1]: two broadcasts (0, 1), popped at 1 and 2, done at 3.
    w = np.ones((1, 5), bool)
    s = eie_stats(EieConfig(pes=1), w, np.array([0, 1, 0, 0, 1], bool))
    assert (s.broadcasts, s.pairs, s.issued, s.cycles) == (2, 2, 2, 3 + PIPELINE_DEPTH)
    assert s.pointer_reads == 4 and s.activation_reads == 5  # the LNZD examines all five
    z = eie_stats(EieConfig(pes=1), w, np.zeros(5, bool))
    assert (z.broadcasts, z.issued, z.cycles) == (0, 0, PIPELINE_DEPTH)


# --------------------------------------------------------------------------- the recurrence against the simulator


def test_recurrence_equals_simulator():
    rng = np.random.default_rng(7)
    padded = stalled = 0
    for _ in range(300):
        pes = int(rng.integers(1, 6))
        depth = int(rng.integers(1, 5))
        n_rows, n_cols = int(rng.integers(1, 120)), int(rng.integers(1, 12))
        w = rng.random((n_rows, n_cols)) < rng.uniform(0.01, 0.8)
        v = rng.random(n_cols) < rng.uniform(0.0, 1.0)
        cfg = EieConfig(pes=pes, queue_depth=depth)
        m = EieMatrix.encode(w, cfg)
        s = eie_stats(cfg, w, v, m)
        done, stalls = simulate(m.entries[:, np.flatnonzero(v)], depth)
        assert (s.cycles, s.broadcast_stalls) == (done + PIPELINE_DEPTH, stalls), (pes, depth, w, v)
        assert s.pairs == int((w & v[None, :]).sum())
        padded += s.issued > s.pairs
        stalled += s.broadcast_stalls > 0
    assert padded > 10 and stalled > 50  # the cases cover padding and full queues


def test_calls_add_up():
    rng = np.random.default_rng(3)
    w = rng.random((40, 30)) < 0.2
    v = rng.random((6, 30)) < 0.5
    cfg = EieConfig(pes=4, queue_depth=2)
    total = eie_stats_over_calls(cfg, w, v)
    one_by_one = sum((eie_stats(cfg, w, row) for row in v[1:]), eie_stats(cfg, w, v[0]))
    assert {k: getattr(total, k) for k in total._SUMMED} == {k: getattr(one_by_one, k) for k in total._SUMMED}


# --------------------------------------------------------------------------- storage against bitmask.storage_bits


@pytest.mark.parametrize("pes", [1, 4, 16])
@pytest.mark.parametrize("density", [0.02, 0.1, 0.5])
def test_storage_matches_bitmask_csc(pes, density):
    """bitmask.storage_bits' CSC count, for interleaved rows and 4-bit values, is EIE's entries x (4 + 4) bits
    plus (n_cols + 1) pointers per lane, but each pointer only as wide as its lane needs
    (ceil(log2(entries + 1)) bits) where EIE's pointer SRAM holds 16 bits.  Entries, padding
    included, agree exactly; the pointer part differs only by that width."""
    rng = np.random.default_rng(int(density * 100) + pes)
    w = (rng.random((96, 40)) < density) * rng.integers(1, 8, (96, 40))
    cfg = EieConfig(pes=pes)
    st = EieMatrix.encode(w != 0, cfg).storage(cfg)
    csc = storage_bits(w, 4, np.arange(96) % pes, pes)["csc"]
    narrow_pointers = sum(max(1, int(np.ceil(np.log2(e + 1)))) * 41 for e in st.entries_per_pe)
    assert csc == st.weight_bits + st.index_bits + narrow_pointers
    assert st.pointer_bits == pes * 41 * 16
    assert st.weight_bits == st.index_bits == 4 * int(st.entries_per_pe.sum())


# --------------------------------------------------------------------------- EIE at equal precision


def test_16bit_storage_without_codebook():
    # Rows 0 and 17 of one column on one PE: 3 entries (one padding) of 16 + 4 bits and 2 pointers of 16 bits,
    # and no codebook table: 3 x 20 + 32 = 92 bits.
    w = matrix(18, 1, [(0, 0), (17, 0)])
    wide = EieConfig(pes=1, weight_index_bits=16, codebook=False)
    st = EieMatrix.encode(w, wide).storage(wide, value_bits=16)
    assert (st.weight_bits, st.index_bits, st.pointer_bits, st.codebook_bits, st.total) == (48, 12, 32, 0, 92)
    # With the codebook: 3 x (4 + 4) + 32 as before, plus its table of 16 values of 16 bits when the width is given.
    cb = EieConfig(pes=1)
    assert EieMatrix.encode(w, cb).storage(cb).total == 56
    assert EieMatrix.encode(w, cb).storage(cb, value_bits=16).total == 56 + 16 * 16


def test_16bit_storage_per_pe():
    # 2 PEs, 6 rows x 2 columns, 4 non-zeros, no padding: 4 entries x (16 + 4) + 2 PEs x 3 pointers x 16.
    w = matrix(6, 2, [(0, 0), (3, 0), (4, 1), (5, 1)])
    wide = EieConfig(pes=2, weight_index_bits=16, codebook=False)
    st = EieMatrix.encode(w, wide).storage(wide, value_bits=16)
    assert st.entries_per_pe.tolist() == [2, 2]
    assert st.total == 4 * (16 + 4) + 2 * 3 * 16


def test_16bit_weights_do_not_change_cycles():
    rng = np.random.default_rng(5)
    w = rng.random((50, 20)) < 0.1
    v = rng.random((4, 20)) < 0.5
    a = eie_stats_over_calls(EieConfig(pes=4), w, v)
    b = eie_stats_over_calls(EieConfig(pes=4, weight_index_bits=16, codebook=False), w, v)
    assert {k: getattr(a, k) for k in a._SUMMED} == {k: getattr(b, k) for k in b._SUMMED}


def test_codebook_flag_is_checked():
    with pytest.raises(ValueError, match="codebook"):
        EieConfig(pes=4, codebook="no")


# --------------------------------------------------------------------------- activation storage


def test_sequence_storage_by_hand():
    # 2 sequences of 3 frames x 40 values (2 mask words of 32 bits per frame), 16-bit values.
    nz = np.zeros((2, 3, 40), bool)
    nz[0, 0, :5] = True  # sequence 0: 5 + 0 + 40 non-zeros
    nz[0, 2, :] = True
    nz[1, 1, 10:13] = True  # sequence 1: 0 + 3 + 0
    s = sequence_storage(nz, 16)
    assert s.dense_worst_bits == 3 * 40 * 16 == 1920
    assert (s.dense_mean_bits, s.dense_mean_values) == (1920, 120)
    assert s.compact_worst_bits == 3 * (2 * 32 + 40 * 16) == 2112
    # sequence 0: 6 mask words + 45 values; sequence 1: 6 mask words + 3 values.
    assert s.compact_mean_bits == ((6 * 32 + 45 * 16) + (6 * 32 + 3 * 16)) / 2 == 576
    assert (s.compact_mean_values, s.compact_mean_mask_words) == (24, 6)


def test_sequence_storage_lengths_and_allocation():
    # The same sequences, sequence 1 only 1 frame long (its non-zeros at frame 1 are not held), buffers for 5 frames.
    nz = np.zeros((2, 3, 40), bool)
    nz[0, 0, :5] = True
    nz[0, 2, :] = True
    nz[1, 1, 10:13] = True
    s = sequence_storage(nz, 8, frames=[3, 1], max_frames=5)
    assert (s.dense_worst_bits, s.compact_worst_bits) == (5 * 40 * 8, 5 * (64 + 40 * 8))
    assert (s.dense_mean_values, s.dense_mean_bits) == (2 * 40, 2 * 40 * 8)  # 2 frames on average
    assert s.compact_mean_bits == ((6 * 32 + 45 * 8) + (2 * 32 + 0)) / 2
    with pytest.raises(ValueError, match="frames"):
        sequence_storage(nz, 8, frames=[4, 1])
    with pytest.raises(ValueError, match="sequences"):
        sequence_storage(nz[0], 8)
