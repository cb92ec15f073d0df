"""Energy of y = W v on the four engines, and of a layer's activation traffic: counts of accesses times energy per access.

Why: MASR claims to be more energy-efficient than EIE; cycles alone do not show it, since
the two read different amounts of metadata (bitmasks against indices and pointers).

Energies come from one parameter file (default: the bundled ``energy_45nm.yaml``, from
Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm).  Other widths and sizes
are scaled from its entries:

- add: linear in width; multiply: proportional to the product of the operand widths
  (an array multiplier).  Both are scaled from the narrowest table entry at least as
  wide as the operation, or up from the widest entry.
- SRAM read: the table gives pJ per 64-bit read for a few array sizes; energy per bit is
  interpolated linearly in log(energy) against log(size), extrapolated beyond the ends
  with the end segment's slope (8 KB -> 32 KB doubles the energy: ~ sqrt(size)), and
  multiplied by the bits read.  A write costs what a read costs.  Small arrays (queues,
  codebooks, accumulators) are extrapolated below 8 KB the same way.

Access counts per call (``calls`` calls add up):

dense / weight_sparse / masr (masr_hls.reference.mxv; L lanes, R rows, N inputs, Wd mask words per row):
- MACs: the issued pairs (every element, every non-zero weight, or every non-zero pair).
- weight: one read of a weight value per issued pair, from the lane's bank
  (dense: R/L rows x N values; sparse modes: the busiest lane's non-zeros).
- index (bitmasks): the sparse modes' front end reads every row's Wd weight-mask words;
  masr also reads the activation-mask word it ANDs with each of them.
- activation: one activation value read per issued pair.
- accumulator: the back end sums a row in registers and writes it once: R writes.
- with ``operand`` (where the input vector is held between calls): the engine's own copy of it is written
  (masr: the non-zero values and the Wd activation-mask words; dense and weight_sparse: the N values); where
  the operand is held dense (a state register, or any dense array) also N reads of it per call from that
  array.  A kernel engine of the hardware as built reads its operand from a compact sequence store instead
  (``Operand(compact=True)``): those reads are the layer's counted store words (``masr_store_work``).

eie (masr_hls.analysis.eie; P PEs, K non-zero activations):
- MACs: the issued entries (padding included).
- weight: a 4-bit codebook index per entry from the PE's sparse-matrix SRAM, then its
  16-entry codebook read; without a codebook (``EieConfig(codebook=False)``) the weight value
  itself, read from the same SRAM, and no table.
- index: a 4-bit relative row index per entry, from the same SRAM.
- pointer: two column pointers per PE per broadcast (two banks of (N + 1) / 2 pointers).
- activation: the LNZD reads every source activation (each PE holds N / P of them); each
  broadcast is pushed to and popped from every PE's queue (value and column index).
- accumulator: a read-modify-write of the destination register per entry.
- with ``operand``: N reads of the operand per call from where it is held, and N writes into the PEs'
  source activation register files (N / P values each).

A layer's sequence stores (``masr_store_work``; docs/arithmetic.md, "Sequence storage"), from the words the
C simulation and the reference count per layer (STATS_ENTRY_WRITTEN, STATS_SEQ_READ, STATS_OUT_WRITTEN:
``StoreWords``).  A stored frame of n values is W(n) 32-bit mask words and its non-zero values; of the
counted words, frames x W(n) are mask-word accesses (MASK_BITS each) and the rest value accesses (the
store's value width).  Every access goes to an SRAM of the store's whole allocation,
max_frames x (W(n) x 32 + n x value bits) (``SequenceStore``):
- the model's first layer reads each input frame from the dense input port once (n values, an array of
  max_frames x n values) and writes its encoding, the entry words;
- every reader (two for a Bidirectional layer) reads its frames, the read words;
- the layer writes its output frames into the next layer's store, the output words, or, the model's last
  layer, its output values into the dense output port (out frames x n_out values; nothing is counted there).

A Bidirectional layer's state traffic (``masr_layer_work``, ``eie_layer_work``; ``LayerSequences``, U units
per direction, T frames):
- masr: every step of every direction writes its U states into the state register and, where the layer
  keeps them (``state_sequences``), into that direction's state sequence (hf / hb, T_max x U, held whole),
  which the merge pass reads for every output frame; its output writes are the store traffic above.  A
  design whose sweeps write their halves straight into a split output store has no hf / hb traffic.
- eie: every step of every direction writes its U results into the state (destination register
  file, the next step's source) and, when the layer returns sequences, into the output sequence, held
  dense (max_frames x 2U values), which the next layer's calls read as their operand (``eie_work``).
Array sizes are the whole array's (a partitioned array's banks are smaller; both engines are charged
alike).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path

import numpy as np
import yaml

from masr_hls.analysis.eie import EieConfig, EieMatrix, EieStats
from masr_hls.errors import EnergyTableError
from masr_hls.numerics.bitmask import MASK_BITS, n_words
from masr_hls.reference.mxv import MxvConfig, MxvStats

DEFAULT_TABLE = Path(__file__).with_name("energy_45nm.yaml")
REQUIRED = ("integer_add_pj", "integer_mult_pj", "sram_read_64bit_pj")
CATEGORIES = ("mac", "weight", "index", "pointer", "activation", "accumulator")


@dataclass(frozen=True)
class EnergyTable:
    source: str
    add_pj: dict[int, float]  # width in bits -> pJ
    mult_pj: dict[int, float]
    sram_64bit_pj: dict[int, float]  # array size in bytes -> pJ per 64-bit read
    path: str = ""

    def add(self, bits: int) -> float:
        ref = _reference_width(self.add_pj, bits)
        return self.add_pj[ref] * bits / ref

    def mult(self, a_bits: int, b_bits: int) -> float:
        ref = _reference_width(self.mult_pj, max(a_bits, b_bits))
        return self.mult_pj[ref] * a_bits * b_bits / ref**2

    def sram(self, bits: int, array_bytes: float) -> float:
        """pJ to read (or write) ``bits`` from an SRAM of ``array_bytes``."""
        sizes = sorted(self.sram_64bit_pj)
        energies = [self.sram_64bit_pj[s] for s in sizes]
        size = max(float(array_bytes), 1.0)
        if len(sizes) == 1:
            return energies[0] * bits / 64
        i = int(np.clip(np.searchsorted(sizes, size) - 1, 0, len(sizes) - 2))  # segment, the end ones extended
        slope = math.log(energies[i + 1] / energies[i]) / math.log(sizes[i + 1] / sizes[i])
        return energies[i] * (size / sizes[i]) ** slope * bits / 64


def _reference_width(table: dict[int, float], bits: int) -> int:
    wider = [w for w in table if w >= bits]
    return min(wider) if wider else max(table)


def _positive_mapping(path, data, key) -> dict[int, float]:
    value = data.get(key)
    if not isinstance(value, dict) or not value:
        raise EnergyTableError(f"{path}: key {key!r} must be a non-empty mapping (size or width -> pJ), got {value!r}")
    out = {}
    for k, v in value.items():
        ok_key = isinstance(k, int) and not isinstance(k, bool) and k > 0
        ok_value = isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
        if not (ok_key and ok_value):
            raise EnergyTableError(f"{path}: key {key!r}: entry {k!r}: {v!r} must be a positive integer -> positive number")
        out[k] = float(v)
    return out


def load_table(path: str | Path | None = None) -> EnergyTable:
    """The energy table in ``path`` (default: the bundled 45 nm table)."""
    path = Path(path) if path is not None else DEFAULT_TABLE
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise EnergyTableError(f"{path}: cannot read the energy table: {e}") from e
    if not isinstance(data, dict):
        raise EnergyTableError(f"{path}: an energy table must be a mapping with keys {', '.join(REQUIRED)}")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise EnergyTableError(f"{path}: missing key(s) {', '.join(missing)}")
    return EnergyTable(
        source=str(data.get("source", "")),
        add_pj=_positive_mapping(path, data, "integer_add_pj"),
        mult_pj=_positive_mapping(path, data, "integer_mult_pj"),
        sram_64bit_pj=_positive_mapping(path, data, "sram_read_64bit_pj"),
        path=str(path),
    )


@dataclass(frozen=True)
class Access:
    """``count`` accesses of ``bits`` each to an array of ``array_bytes``."""

    category: str
    what: str
    count: int
    bits: int
    array_bytes: float


@dataclass(frozen=True)
class Operand:
    """Where an engine's input vector is held between calls, and its non-zeros over the calls counted."""

    array_bytes: float  # the array the operand is read from: a layer's input sequence, or a state register
    nonzeros: int  # non-zero values over every call counted (what masr's encoder writes)
    compact: bool = False  # held in a compact sequence store: its reads are the layer's counted words (masr_store_work)


@dataclass(frozen=True)
class SequenceStore:
    """A compact sequence store (docs/arithmetic.md, "Sequence storage"): ``max_frames`` frames of ``n`` values of
    ``value_bits``, allocated for the worst case (every frame's mask words and n value slots).  A split store (a
    concat Bidirectional layer's halves written apart) has the mask words of its first ``split`` values and of the
    rest."""

    max_frames: int
    n: int
    value_bits: int
    split: int = 0

    @property
    def mask_words(self) -> int:
        """Mask words of a frame."""
        return n_words(self.split) + n_words(self.n - self.split) if self.split else n_words(self.n)

    @property
    def array_bytes(self) -> float:
        return self.max_frames * (self.mask_words * MASK_BITS + self.n * self.value_bits) / 8

    @property
    def dense_bytes(self) -> float:
        """The same frames held dense (the model's ports)."""
        return self.max_frames * self.n * self.value_bits / 8

    def accesses(self, what: str, words: int, frames: int) -> tuple[Access, Access]:
        """``words`` counted words of ``frames`` frames (each frame's mask words, then its non-zero values)."""
        masks = frames * self.mask_words
        values = words - masks
        if not 0 <= values <= frames * self.n:
            raise ValueError(f"{what}: {words} words cannot be {frames} frames of {self.n} values ({masks} mask words + 0..{frames * self.n} values)")
        return (
            Access("activation", f"{what}: mask words", masks, MASK_BITS, self.array_bytes),
            Access("activation", f"{what}: values", values, self.value_bits, self.array_bytes),
        )


@dataclass(frozen=True)
class StoreWords:
    """A layer's counted sequence storage words (the stats' STATS_ENTRY_WRITTEN, STATS_SEQ_READ, STATS_OUT_WRITTEN) summed
    over the inferences counted, with the frames they cover."""

    entry_written: int  # words of the model's input frames encoded on entry (the first layer), else 0
    seq_read: int  # words read from the layer's input, every reader
    out_written: int  # words written into the layer's output store (0: the model's output port)
    in_frames: int  # input frames over the inferences counted
    out_frames: int  # output frames over the inferences counted
    readers: int  # engines reading every input frame (2 for a Bidirectional layer)


@dataclass(frozen=True)
class LayerSequences:
    """A Bidirectional layer's sequence buffers: what its activation writes touch."""

    frames: int  # frames processed per inference
    max_frames: int  # frames the sequence arrays are allocated for
    units: int  # per direction
    state_bits: int
    out_bits: int  # the layer's output (merge) type
    return_sequences: bool = True
    directions: int = 2
    state_sequences: bool = True  # hf / hb held whole and merged by a merge pass (False: the halves go straight to the store)

    @property
    def out_frames(self) -> int:
        return self.frames if self.return_sequences else 1


@dataclass(frozen=True)
class EngineWork:
    """What one engine does for the calls counted: MACs and memory accesses."""

    engine: str
    macs: int
    mult_bits: tuple[int, int]
    add_bits: int
    accesses: tuple[Access, ...]

    def count(self, category: str) -> int:
        return sum(a.count for a in self.accesses if a.category == category)


@dataclass(frozen=True)
class Energy:
    engine: str
    pj: dict[str, float] = field(default_factory=dict)  # per category

    @property
    def total(self) -> float:
        return sum(self.pj.values())


def energy(work: EngineWork, table: EnergyTable | None = None) -> Energy:
    table = table if table is not None else load_table()
    pj = dict.fromkeys(CATEGORIES, 0.0)
    pj["mac"] = work.macs * (table.mult(*work.mult_bits) + table.add(work.add_bits))
    for a in work.accesses:
        pj[a.category] += a.count * table.sram(a.bits, a.array_bytes)
    return Energy(work.engine, pj)


def masr_work(
    cfg: MxvConfig, stats: MxvStats, w_nonzero: np.ndarray, lane_of_row: np.ndarray, calls: int = 1, operand: Operand | None = None
) -> EngineWork:
    """Accesses of the MASR engine in ``cfg.mode`` for ``calls`` calls whose totals are ``stats``;
    with ``operand``, also reading the input vector from where it is held and the engine's copy of it."""
    lane_of_row = np.asarray(lane_of_row, dtype=np.int64)
    rows, words = cfg.n_out, n_words(cfg.n_in)
    wb, ab, accb = cfg.weight_t.width, cfg.act_t.width, cfg.accum_t.width
    lane_rows = int(np.bincount(lane_of_row, minlength=cfg.lanes).max())
    row_nnz = np.count_nonzero(np.asarray(w_nonzero), axis=1)
    lane_nnz = int(np.bincount(lane_of_row, weights=row_nnz, minlength=cfg.lanes).max())
    bank_values = lane_rows * cfg.n_in if cfg.mode == "dense" else max(lane_nnz, 1)
    accesses = [
        Access("weight", "weight values", stats.issued, wb, bank_values * wb / 8),
        Access("activation", "activation values", stats.issued, ab, cfg.n_in * ab / 8),
        Access("accumulator", "row results", calls * rows, accb, rows * accb / 8),
    ]
    if cfg.mode != "dense":
        accesses.append(Access("index", "weight mask words", calls * rows * words, MASK_BITS, lane_rows * words * MASK_BITS / 8))
    if cfg.mode == "masr":
        accesses.append(Access("index", "activation mask words", calls * rows * words, MASK_BITS, words * MASK_BITS / 8))
    if operand is not None:
        if not operand.compact:
            accesses.append(Access("activation", "operand reads from the held sequence or state", calls * cfg.n_in, ab, operand.array_bytes))
        if cfg.mode == "masr":
            accesses.append(Access("activation", "encoded operand writes (non-zero values)", operand.nonzeros, ab, cfg.n_in * ab / 8))
            accesses.append(Access("index", "activation mask word writes", calls * words, MASK_BITS, words * MASK_BITS / 8))
        else:
            accesses.append(Access("activation", "operand buffer writes", calls * cfg.n_in, ab, cfg.n_in * ab / 8))
    return EngineWork(cfg.mode, stats.issued, (wb, ab), accb, tuple(accesses))


def eie_work(
    cfg: EieConfig,
    stats: EieStats,
    matrix: EieMatrix,
    weight_bits: int = 16,
    act_bits: int = 16,
    accum_bits: int = 32,
    operand: Operand | None = None,
) -> EngineWork:
    """Accesses of EIE for the calls counted in ``stats`` (weights decode to ``weight_bits``); with
    ``operand``, also reading the input vector from where it is held into the PEs' register files."""
    entry_bits = cfg.weight_index_bits + cfg.row_index_bits
    matrix_bytes = max(int(matrix.entries.sum(axis=1).max()), 1) * entry_bits / 8
    column_bits = max(1, math.ceil(math.log2(matrix.n_cols)))
    queue_bits = act_bits + column_bits
    pe_rows = -(-matrix.n_rows // matrix.pes)
    if cfg.codebook:
        weights = (
            Access("weight", "codebook indices", stats.weight_reads, cfg.weight_index_bits, matrix_bytes),
            Access("weight", "codebook lookups", stats.weight_reads, weight_bits, 2**cfg.weight_index_bits * weight_bits / 8),
        )
    else:
        weights = (Access("weight", "weight values", stats.weight_reads, cfg.weight_index_bits, matrix_bytes),)
    regfile_values = -(-matrix.n_cols // matrix.pes)
    accesses = weights + (
        Access("index", "relative row indices", stats.index_reads, cfg.row_index_bits, matrix_bytes),
        Access("pointer", "column pointers", stats.pointer_reads, cfg.pointer_bits, (matrix.n_cols + 2) // 2 * cfg.pointer_bits / 8),
        Access("activation", "LNZD source reads", stats.activation_reads, act_bits, regfile_values * act_bits / 8),
        Access("activation", "queue pushes and pops", 2 * stats.queue_writes, queue_bits, cfg.queue_depth * queue_bits / 8),
        Access("accumulator", "destination read-modify-writes", 2 * stats.accumulator_rmw, accum_bits, pe_rows * accum_bits / 8),
    )
    if operand is not None:  # stats.activation_reads is calls x n_cols
        accesses += (
            Access("activation", "operand reads from the held sequence or state", stats.activation_reads, act_bits, operand.array_bytes),
            Access("activation", "source register file writes", stats.activation_reads, act_bits, regfile_values * act_bits / 8),
        )
    return EngineWork("eie", stats.issued, (weight_bits, act_bits), accum_bits, accesses)


def masr_layer_work(layer: LayerSequences, inferences: int = 1) -> EngineWork:
    """MASR's state writes of one Bidirectional layer and the merge's reads of them, as the hardware does them today
    (the merge's output writes are store traffic: :func:`masr_store_work`)."""
    d, u, t, out = layer.directions, layer.units, layer.frames, layer.out_frames
    sb = layer.state_bits
    steps = inferences * t * d * u
    merged = inferences * out * d * u
    accesses = (Access("activation", "state register writes", steps, sb, u * sb / 8),)
    if layer.state_sequences:
        accesses += (
            Access("activation", "state sequence writes (hf, hb)", steps, sb, layer.max_frames * u * sb / 8),
            Access("activation", "merge reads of hf, hb", merged, sb, layer.max_frames * u * sb / 8),
        )
    return EngineWork("masr", 0, (1, 1), 1, accesses)


def masr_store_work(words: StoreWords, source: SequenceStore, output: SequenceStore, entry: bool, stores_output: bool) -> EngineWork:
    """MASR's sequence storage traffic of one layer (module docstring) from its counted ``words``: ``source`` is the
    layer's input store, ``output`` the store it writes (its geometry is the output port's when ``stores_output`` is
    False); ``entry``: the layer reads the model's dense input port and encodes each frame once."""
    if not entry and words.entry_written:
        raise ValueError(f"{words.entry_written} entry words counted for a layer that reads a compact store")
    if not stores_output and words.out_written:
        raise ValueError(f"{words.out_written} output store words counted for a layer that writes the output port")
    accesses = []
    if entry:
        accesses.append(Access("activation", "input port reads (dense, on entry)", words.in_frames * source.n, source.value_bits, source.dense_bytes))
        accesses += source.accesses("entry writes", words.entry_written, words.in_frames)
    accesses += source.accesses("sequence reads", words.seq_read, words.readers * words.in_frames)
    if stores_output:
        accesses += output.accesses("output store writes", words.out_written, words.out_frames)
    else:
        accesses.append(Access("activation", "output port writes (dense)", words.out_frames * output.n, output.value_bits, output.dense_bytes))
    return EngineWork("masr", 0, (1, 1), 1, tuple(accesses))


def eie_layer_work(layer: LayerSequences, inferences: int = 1) -> EngineWork:
    """EIE's activation writes of one Bidirectional layer: the state every step, the output sequence if the layer returns it."""
    d, u, t = layer.directions, layer.units, layer.frames
    sb, ob = layer.state_bits, layer.out_bits
    steps = inferences * t * d * u
    accesses = [Access("activation", "state writes (destination register file)", steps, sb, u * sb / 8)]
    if layer.return_sequences:
        accesses.append(Access("activation", "output sequence writes", steps, ob, layer.max_frames * d * u * ob / 8))
    return EngineWork("eie", 0, (1, 1), 1, tuple(accesses))


def recurrent_energy_pj(hw, results: list, table: EnergyTable | None = None) -> float:
    """Engine energy per inference of a converted model's recurrent layers (every direction's kernel and
    recurrent engines; a GRU's U_h engine is counted with the recurrent one), from the figures of the C
    simulation or the reference of some samples (``results``: per sample, per layer)."""
    table = table or load_table()
    total = 0.0
    for i, layer in enumerate(hw.layers):
        if layer.kind == "dense":
            continue
        cells = (
            [(layer.cell, layer.weights, "forward")]
            if layer.kind == "recurrent"
            else [(layer.fwd, layer.wf, "forward"), (layer.bwd, layer.wb, "backward")]
        )
        for cell, weights, direction in cells:
            steps = [getattr(sample[i], direction) for sample in results]
            calls = sum(s.steps for s in steps)
            for name, cfg in (("kernel", cell.kernel_config()), ("recurrent", cell.recurrent_config())):
                stats = reduce(lambda a, b: a + b, (getattr(s, name) for s in steps))
                matrix = weights.engine_matrices(cell)[name]
                total += energy(masr_work(cfg, stats, matrix != 0, weights.lanes[name], calls), table).total
    return total / len(results) if results else 0.0


def _layer_input(layer) -> tuple[int, int]:
    """(n_in, value bits) of a converted layer's input."""
    if layer.kind == "dense":
        return layer.head.n_in, layer.head.in_t.width
    cell = layer.cell if layer.kind == "recurrent" else layer.fwd
    return cell.n_in, cell.in_t.width


def store_energy_pj(hw, results: list, frames: list[int], table: EnergyTable | None = None) -> float:
    """Sequence storage energy per inference of a converted model (:func:`masr_store_work`, every layer), from the words
    counted by the C simulation or the reference of some samples (``results``: per sample, per layer; ``frames``: each
    sample's input frames)."""
    if not results:
        return 0.0
    table = table or load_table()
    total, seen = 0.0, list(frames)  # frames reaching the current layer, per sample
    held = hw.max_frames  # frames the layer's input store is allocated for (1 after a last-state layer)
    for i, layer in enumerate(hw.layers):
        out = [layer.out_frames(f) for f in seen]
        n_in, in_bits = _layer_input(layer)
        words = StoreWords(
            entry_written=sum(sample[i].entry_written for sample in results),
            seq_read=sum(sample[i].seq_read for sample in results),
            out_written=sum(sample[i].out_written for sample in results),
            in_frames=sum(seen),
            out_frames=sum(out),
            readers=2 if layer.kind == "bidirectional" else 1,
        )
        # in_split / out_split: where a split store's halves meet, for designs that write concat halves apart
        stores = (
            SequenceStore(held, n_in, in_bits, getattr(layer, "in_split", 0)),
            SequenceStore(layer.out_frames(held), layer.n_out, layer.out_t.width, getattr(layer, "out_split", 0)),
        )
        total += energy(masr_store_work(words, *stores, layer.entry, layer.stores_output), table).total
        seen, held = out, layer.out_frames(held)
    return total / len(results)
