"""EIE, the comparison point for MASR: its weight storage and cycle count for y = W v, and the
activation storage of a layer's sequence (dense, as EIE holds it, or compact, bitmask + packed).

EIE (Han, Liu, Mao, Pu, Pedram, Horowitz, Dally, "EIE: Efficient Inference
Engine on Compressed Deep Neural Network", ISCA 2016) is modelled as the paper
describes it, at equal MACs: P processing elements (PEs) of one MAC each,
compared with a MASR engine of P = lanes x macs_per_lane.

- Section III-A (computation): weight sharing, a 4-bit index per weight into a table
  of 16 shared values, decoded before the multiply.
- Section III-B (representation, Fig. 3): each PE stores its rows in compressed sparse
  column form; an entry is the 4-bit weight index and a 4-bit relative row index, the
  number of zero rows before it in the PE's local row numbering; more than 15 zeros
  insert a padding entry (a zero weight, stored and processed like a real one).  The
  column pointers of a PE are n_cols + 1 (column j spans p_j .. p_{j+1}); EIE's pointer
  SRAM holds them in 16 bits (section IV, "Pointer Read Unit").
- Section III-C (parallelisation, Fig. 2): row i belongs to PE i mod P.
- Section IV, "Distributed Leading Non-zero Detection" and "Activation Queue and Load
  Balancing": the LNZD broadcasts one non-zero activation (value and column index) per
  cycle to every PE; zero activations are never broadcast.  Each PE has an activation
  queue; the broadcast stalls while any PE's queue is full.  EIE chose depth 8 from
  its queue-depth experiment (section VI, Fig. 8).
- Section IV, "Pointer Read Unit", "Sparse Matrix Read Unit", "Arithmetic Unit": a PE
  pops the activation at the head of its queue, reads that column's two pointers (one
  column per cycle, from two banks) and processes the column's entries in its rows,
  one per cycle, accumulating into the destination register of each entry's row.

The cycle recurrence (tests/test_eie.py checks it against a cycle-by-cycle simulator):
non-zero activation k (k = 0..K-1, in column order) is broadcast in cycle b_k; PE p
pops it in cycle s_pk and is busy until f_pk, with w_pk its entries in that column::

    b_k  = max(b_{k-1} + 1, max_p s_{p,k-D})      (one broadcast per cycle; queue room)
    s_pk = max(f_{p,k-1}, b_k + 1)                (the PE is free and the value has arrived)
    f_pk = s_pk + max(w_pk, 1)                    (one entry per cycle; a pointer read per column)

A queue of depth D has room for activation k once activation k-D has left it (a pop
and a push may share a cycle).  A column with no entries in a PE still costs that PE
its pointer read, one cycle, because the pointer read unit reads one column per cycle.
The call takes max_p f_{p,K-1} plus PIPELINE_DEPTH cycles.

Weights at equal precision: ``EieConfig(codebook=False, weight_index_bits=16)`` is EIE without weight
sharing; an entry holds the 16-bit weight itself beside its relative row index, and no codebook is
read.  Cycles are unchanged (one entry per cycle either way); storage and energy change.

Activation storage (``sequence_storage``): EIE keeps activations as dense values (source and
destination activation register files, spilled to SRAM), so a layer's input sequence of T frames of
n values takes T x n values whatever their zeros.  The compact alternative, a bitmask + packed
non-zero store, takes per frame ceil(n / 32) mask words of 32 bits plus the non-zero values.

Activation traffic (charged by masr_hls.analysis.energy): section IV, "Activation Read/Write": each PE's
source and destination register files hold its share of the input and output vectors; a vector longer
than they hold is kept in SRAM, read into the register files at the start of a batch and written from
them at its end.  So every call reads its whole input vector (N values, zeros included: the LNZD must
examine them, ``EieStats.activation_reads``) from where the sequence or state is held into the source
register files, and every step writes its results into the destination register files and, for a layer
that returns sequences, into the dense output sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from masr_hls.numerics.bitmask import MASK_BITS
from masr_hls.numerics.sequences import mask_words as frame_mask_words

PIPELINE_DEPTH = 4  # LNZD, pointer read, weight decode + multiply, accumulate (the entry read is counted per entry)


@dataclass(frozen=True)
class EieConfig:
    """One EIE instance; the defaults are the paper's."""

    pes: int
    queue_depth: int = 8
    weight_index_bits: int = 4  # weight field of an entry: a codebook index (16 shared weights), or the value itself without codebook
    row_index_bits: int = 4  # relative row index per entry: gaps up to 2**4 - 1 zeros
    pointer_bits: int = 16
    codebook: bool = True  # weight sharing (the paper's); False: each entry stores its weight at weight_index_bits

    def __post_init__(self):
        if not isinstance(self.codebook, (bool, np.bool_)):
            raise ValueError(f"EieConfig.codebook must be True or False, got {self.codebook!r}")
        for name in ("pes", "queue_depth", "weight_index_bits", "row_index_bits", "pointer_bits"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"EieConfig.{name} must be a positive integer, got {value!r}")

    @property
    def max_gap(self) -> int:
        """Most zero rows a relative index can skip before an entry."""
        return 2**self.row_index_bits - 1


@dataclass(frozen=True)
class EieStorage:
    """Weight memory in bits, split as EIE's SRAMs hold it."""

    weight_bits: int  # weight fields (codebook indices, or values without codebook), one per entry (padding included)
    index_bits: int  # relative row indices, one per entry
    pointer_bits: int  # column pointers, (n_cols + 1) per PE
    entries_per_pe: np.ndarray  # (pes,) stored entries, padding included
    codebook_bits: int = 0  # the matrix's table of shared weights (counted when its value width is given)

    @property
    def total(self) -> int:
        return self.weight_bits + self.index_bits + self.pointer_bits + self.codebook_bits


@dataclass(frozen=True)
class EieMatrix:
    """Where W's non-zeros sit in EIE: per PE and column, real non-zeros and stored entries."""

    n_rows: int
    n_cols: int
    pes: int
    nnz: np.ndarray  # (pes, n_cols) real non-zeros of PE p in column j
    entries: np.ndarray  # (pes, n_cols) the same plus padding entries

    @classmethod
    def encode(cls, w_nonzero: np.ndarray, cfg: EieConfig) -> "EieMatrix":
        w = np.asarray(w_nonzero) != 0
        if w.ndim != 2:
            raise ValueError(f"a weight matrix must be 2-D, got shape {w.shape}")
        n_rows, n_cols = w.shape
        p = cfg.pes
        rows, cols = np.nonzero(w)
        pe, local = rows % p, rows // p  # interleaved rows; local row number inside the PE
        group = pe * n_cols + cols  # one CSC column per (PE, matrix column)
        order = np.lexsort((local, group))
        group, local = group[order], local[order]
        first = np.r_[True, group[1:] != group[:-1]] if group.size else np.zeros(0, bool)
        previous = np.where(first, -1, np.r_[-1, local[:-1]])
        # A padding entry takes one row slot after max_gap zeros, so a gap of z zeros needs z // (max_gap + 1) of them.
        padding = (local - previous - 1) // (cfg.max_gap + 1)
        size = p * n_cols
        nnz = np.bincount(group, minlength=size).reshape(p, n_cols)
        entries = nnz + np.bincount(group, weights=padding, minlength=size).astype(np.int64).reshape(p, n_cols)
        return cls(n_rows, n_cols, p, nnz.astype(np.int64), entries)

    def storage(self, cfg: EieConfig, value_bits: int | None = None) -> EieStorage:
        """EIE's weight memory.  masr_hls.numerics.bitmask.storage_bits' "csc" figure counts the same
        entries (for rows interleaved as here) but sizes each PE's pointers to what it needs instead of
        EIE's 16 bits; tests/test_eie.py checks the relation.

        ``value_bits``: the width of a decoded weight; with a codebook its table of 2**weight_index_bits
        values is then counted once for the matrix (the per-PE decoder registers loaded from it are not).
        Without a codebook there is no table."""
        per_pe = self.entries.sum(axis=1)
        total = int(per_pe.sum())
        table = 2**cfg.weight_index_bits * value_bits if (cfg.codebook and value_bits is not None) else 0
        return EieStorage(
            weight_bits=total * cfg.weight_index_bits,
            index_bits=total * cfg.row_index_bits,
            pointer_bits=self.pes * (self.n_cols + 1) * cfg.pointer_bits,
            entries_per_pe=per_pe,
            codebook_bits=table,
        )


@dataclass
class EieStats:
    """Work, cycles and memory accesses of one or more calls (they add up call by call)."""

    pairs: int = 0  # useful MACs: non-zero weight x non-zero activation
    issued: int = 0  # entries processed, padding included (one MAC slot each)
    cycles: int = 0
    broadcasts: int = 0  # non-zero activations broadcast
    broadcast_stalls: int = 0  # cycles the LNZD waited for queue room
    busiest_pe: int = 0  # entries processed by the busiest PE (summed over calls)
    idlest_pe: int = 0
    weight_reads: int = 0  # codebook indices read (then decoded), one per entry
    index_reads: int = 0  # relative row indices read, one per entry
    pointer_reads: int = 0  # two per PE per broadcast activation
    activation_reads: int = 0  # source activations examined by the LNZD
    queue_writes: int = 0  # activation queue pushes, one per PE per broadcast (pops are equal)
    accumulator_rmw: int = 0  # read-modify-writes of destination accumulators, one per entry
    pe_entries: list[int] = field(default_factory=list)  # of a single call

    _SUMMED = (
        "pairs",
        "issued",
        "cycles",
        "broadcasts",
        "broadcast_stalls",
        "busiest_pe",
        "idlest_pe",
        "weight_reads",
        "index_reads",
        "pointer_reads",
        "activation_reads",
        "queue_writes",
        "accumulator_rmw",
    )

    def __add__(self, other: "EieStats") -> "EieStats":
        return EieStats(**{k: getattr(self, k) + getattr(other, k) for k in self._SUMMED})


def pe_schedule(work: np.ndarray, valid: np.ndarray, queue_depth: int) -> tuple[np.ndarray, np.ndarray]:
    """The recurrence of the module docstring, for many calls at once.

    ``work``: (calls, K, pes) entries of each PE in the k-th broadcast column;
    ``valid``: (calls, K) whether the call has a k-th non-zero activation (they come first).
    Returns the cycle of each call's last broadcast (-1 if none) and the cycle each PE is done (calls, pes).
    """
    calls, k_max, pes = work.shape
    busy = np.zeros((calls, pes), np.int64)
    b_prev = np.full(calls, -1, np.int64)
    start = np.zeros((calls, k_max, pes), np.int64)
    for k in range(k_max):
        room = start[:, k - queue_depth].max(axis=1) if k >= queue_depth else 0
        b = np.maximum(b_prev + 1, room)
        s = np.maximum(busy, b[:, None] + 1)
        ok = valid[:, k]
        busy = np.where(ok[:, None], s + np.maximum(work[:, k], 1), busy)
        b_prev = np.where(ok, b, b_prev)
        start[:, k] = s
    return b_prev, busy


def eie_stats_over_calls(cfg: EieConfig, w_nonzero: np.ndarray, v_nonzero: np.ndarray, matrix: EieMatrix | None = None) -> EieStats:
    """EIE's counts summed over one call per row of ``v_nonzero`` (calls, n_cols)."""
    matrix = matrix if matrix is not None else EieMatrix.encode(w_nonzero, cfg)
    v = np.atleast_2d(np.asarray(v_nonzero) != 0)
    if v.shape[1] != matrix.n_cols:
        raise ValueError(f"activation vectors have {v.shape[1]} elements for a matrix of {matrix.n_cols} columns")
    calls = v.shape[0]
    k_of_call = v.sum(axis=1)
    k_max = int(k_of_call.max()) if calls else 0
    # Column of the k-th non-zero activation of each call (padded with column 0, masked by ``valid``).
    column = np.zeros((calls, k_max), np.int64)
    valid = np.arange(k_max)[None, :] < k_of_call[:, None]
    column[valid] = np.nonzero(v)[1]
    work = np.where(valid[:, :, None], matrix.entries.T[column], 0)  # (calls, K, pes)
    last, done = pe_schedule(work, valid, cfg.queue_depth)
    useful = np.where(valid[:, :, None], matrix.nnz.T[column], 0)
    pe_entries = work.sum(axis=1)  # (calls, pes)
    issued = int(pe_entries.sum())
    broadcasts = int(k_of_call.sum())
    return EieStats(
        pairs=int(useful.sum()),
        issued=issued,
        cycles=int((done.max(axis=1) + PIPELINE_DEPTH).sum()),
        broadcasts=broadcasts,
        broadcast_stalls=int((last + 1 - k_of_call).sum()),
        busiest_pe=int(pe_entries.max(axis=1).sum()),
        idlest_pe=int(pe_entries.min(axis=1).sum()),
        weight_reads=issued,
        index_reads=issued,
        pointer_reads=2 * matrix.pes * broadcasts,
        activation_reads=calls * matrix.n_cols,
        queue_writes=matrix.pes * broadcasts,
        accumulator_rmw=issued,
        pe_entries=[int(e) for e in pe_entries[0]] if calls == 1 else [],
    )


def eie_stats(cfg: EieConfig, w_nonzero: np.ndarray, v_nonzero: np.ndarray, matrix: EieMatrix | None = None) -> EieStats:
    """EIE's counts for one call y = W v, from the two non-zero patterns."""
    v = np.asarray(v_nonzero)
    if v.ndim != 1:
        raise ValueError(f"one activation vector must be 1-D, got shape {v.shape}")
    return eie_stats_over_calls(cfg, w_nonzero, v[None, :], matrix)


# --------------------------------------------------------------------------- activation storage of a sequence


@dataclass(frozen=True)
class SequenceStorage:
    """Bits to hold one sequence of frames x n values, dense and compact; words are value slots.

    ``*_worst``: the allocation, sized for ``max_frames`` frames with every value non-zero (the frames the
    producer outputs: the model's max frames, or 1 for a last-state output, dense or compact alike).
    ``*_mean``: what the measured sequences actually occupy, averaged over them."""

    max_frames: int
    n: int
    value_bits: int
    dense_worst_bits: int  # max_frames x n x value_bits
    dense_mean_bits: float  # mean frames used x n x value_bits
    dense_mean_values: float  # mean frames used x n
    compact_worst_bits: int  # max_frames x (ceil(n / 32) x 32 + n x value_bits)
    compact_mean_bits: float  # mean over sequences of sum over used frames of (mask words x 32 + non-zeros x value_bits)
    compact_mean_values: float  # mean non-zero values held
    compact_mean_mask_words: float  # mean 32-bit mask words held


def sequence_storage(
    nonzero: np.ndarray, value_bits: int, frames: np.ndarray | None = None, max_frames: int | None = None, split: int = 0
) -> SequenceStorage:
    """The storage of sequences whose non-zero pattern is ``nonzero`` (sequences, frames, n).

    ``frames``: the frames each sequence really has (default: all of them); frames beyond are not
    held.  ``max_frames``: the frames the buffer is allocated for (default: the array's; 1 for a one-frame output).  ``split``: a split
    store's forward values (a concat Bidirectional layer's output), each half with its own mask words."""

    nz = np.asarray(nonzero) != 0
    if nz.ndim != 3:
        raise ValueError(f"sequences must be (sequences, frames, n), got shape {nz.shape}")
    count, t_max, n = nz.shape
    max_frames = t_max if max_frames is None else int(max_frames)
    used = np.full(count, t_max, np.int64) if frames is None else np.asarray(frames, np.int64)
    if used.shape != (count,) or (used < 0).any() or (used > t_max).any() or max_frames < t_max:
        raise ValueError(f"frames {used.tolist()} must be one count per sequence in 0..{t_max} <= max_frames {max_frames}")
    live = np.arange(t_max)[None, :] < used[:, None]  # (sequences, frames)
    values = (nz & live[:, :, None]).sum(axis=(1, 2))  # non-zeros held per sequence
    per_frame = frame_mask_words(n, split)
    mask_words = per_frame * used
    mean = lambda a: float(np.mean(a)) if count else 0.0  # noqa: E731
    return SequenceStorage(
        max_frames=max_frames,
        n=n,
        value_bits=value_bits,
        dense_worst_bits=max_frames * n * value_bits,
        dense_mean_bits=mean(used) * n * value_bits,
        dense_mean_values=mean(used) * n,
        compact_worst_bits=max_frames * (per_frame * MASK_BITS + n * value_bits),
        compact_mean_bits=mean(mask_words * MASK_BITS + values * value_bits),
        compact_mean_values=mean(values),
        compact_mean_mask_words=mean(mask_words),
    )
