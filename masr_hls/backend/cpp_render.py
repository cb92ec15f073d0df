"""The C++ a generated project is made of: CONFIG_T structs of every module and its constants.

A generated project holds its weights, biases and tables as constant arrays of
``masr::rom_word`` (raw_bits.h): the raw bits of each fixed-point value as a
plain integer, which compiles fast and synthesises to a ROM of the same width.
Its C simulation declares the same constants without initialisers, with lane
banks sized for any weights of the layer's shape, and loads them at run time
(templates/masr/csim_weights.h), so models of one shape share one library.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

import numpy as np

from masr_hls.numerics.bitmask import SparseMatrix
from masr_hls.numerics.fixed_point import FixedType
from masr_hls.reference.dense_head import ACTIVATIONS as HEAD_ACTIVATIONS
from masr_hls.reference.dense_head import DenseHeadConfig, DenseHeadWeights
from masr_hls.reference.mxv import MODES as MXV_MODES
from masr_hls.reference.mxv import MxvConfig
from masr_hls.reference.rnn_cell import ACTIVATIONS as CELL_ACTIVATIONS
from masr_hls.reference.rnn_cell import KINDS, RECURRENT_ACTIVATIONS, CellConfig, CellWeights
from masr_hls.reference.rnn_layer import MERGE_MODES, MergeConfig
from masr_hls.reference.softmax import SoftmaxConfig, exp_table, inv_table


def hls_type(t: FixedType) -> str:
    """A role's C++ type through masr's type policy (templates/masr/fast_fixed.h).

    ``masr::fixed_t<W,I,Q,O>`` is ``ap_fixed<W,I,Q,O>`` in synthesis and in the exported
    testbench; a C simulation built with MASR_FAST_CSIM gets the integer-backed twin.
    """
    kind = "masr::fixed_t" if t.signed else "masr::ufixed_t"
    return f"{kind}<{t.width},{t.integer},{t.rounding},{t.overflow}>"


def cpp_comment(text: str) -> str:
    """``text`` safe inside a // comment: no line breaks, control characters or a trailing backslash (which would
    continue the comment onto the next line)."""
    return "".join(c if c.isprintable() and c != "\\" else "?" for c in str(text))


def braces(items) -> str:
    return "{" + ", ".join(items) + "}"


def ints(values) -> str:
    """``{1, -2, ...}``, nested for 2-D arrays."""
    values = np.asarray(values)
    if values.ndim == 1:
        return braces(str(int(v)) for v in values)
    return braces(ints(row) for row in values)


def checked_raw(raw, t: FixedType, what: str) -> np.ndarray:
    """Raw values of ``t`` as int64, checked to be on the type's range (``what`` names them in the error)."""
    return t.check_raw(np.asarray(raw, dtype=np.int64), what)


def rom(raw, t: FixedType, what: str) -> str:
    """ROM words of raw values of ``t`` (checked to be on the type's range)."""
    return ints(checked_raw(raw, t, what))


def lane_masks(m: SparseMatrix) -> np.ndarray:
    """Each lane's private bank of weight masks, by slot (lanes x rows per lane x mask words; padding is zero)."""
    out = np.zeros(m.lane_rows.shape + (m.mask.shape[1],), np.int64)
    for lane in range(m.lanes):
        n = int(m.lane_n_rows[lane])
        out[lane, :n] = m.mask[m.lane_rows[lane, :n]]
    return out


def row_places(m: SparseMatrix) -> tuple[np.ndarray, np.ndarray]:
    """(lane, slot) of every result row: the engine's fixed merge of the lanes' result banks."""
    lane_of, slot_of = np.zeros(m.n_rows, np.int64), np.zeros(m.n_rows, np.int64)
    for lane in range(m.lanes):
        n = int(m.lane_n_rows[lane])
        lane_of[m.lane_rows[lane, :n]] = lane
        slot_of[m.lane_rows[lane, :n]] = np.arange(n)
    return lane_of, slot_of


@dataclass(frozen=True)
class Rom:
    """One constant of a generated project (weights, biases or a table; a struct or an array of ROM words).

    The written project defines it with its initialiser; the C simulation declares it and fills it at run time
    from ``words``, which templates/masr/csim_weights.h reads in the same order.
    """

    ctype: str
    name: str
    length: int | None  # elements of an array; None for a struct
    initialiser: str
    words: np.ndarray

    def _declarator(self) -> str:
        return self.name if self.length is None else f"{self.name}[{self.length}]"

    def definition(self) -> str:
        return f"static const {self.ctype} {self._declarator()} = {self.initialiser};\n"

    def declaration(self) -> str:
        return f"static {self.ctype} {self._declarator()};\n"


def sparse_weights(m: SparseMatrix, weight_t: FixedType, what: str) -> str:
    """The initialiser of a ``masr::sparse_weights`` struct: bank masks, rows per bank, packed values, row places,
    each slot's first packed weight."""
    mask = braces(braces(braces(f"0x{int(w):08x}u" for w in row) for row in lane) for lane in lane_masks(m))
    lane_of, slot_of = row_places(m)
    return braces([mask, ints(m.lane_n_rows), rom(m.lane_values, weight_t, what), ints(lane_of), ints(slot_of), ints(m.lane_row_base)])


def sparse_words(m: SparseMatrix, weight_t: FixedType, what: str) -> np.ndarray:
    """A ``masr::sparse_weights`` as the C simulation loads it: per lane its row count, its rows' masks, its weight
    count and packed weights; then the row places (no padding, so the words grow with the weights, not the banks)."""
    masks, values = lane_masks(m), checked_raw(m.lane_values, weight_t, what)
    parts = []
    for lane in range(m.lanes):
        rows, nnz = int(m.lane_n_rows[lane]), int(m.lane_nnz[lane])
        parts += [[rows], masks[lane, :rows].ravel(), [nnz], values[lane, :nnz]]
    return np.concatenate([np.asarray(p, np.int64) for p in parts] + list(row_places(m)))


def rom_array(name: str, element_t: str, raw, t: FixedType, what: str) -> Rom:
    """An array ``name`` of ``masr::rom_word<element_t>`` holding ``raw``."""
    raw = checked_raw(np.ravel(raw), t, what)
    return Rom(f"masr::rom_word<{element_t}>", name, raw.size, ints(raw), raw)


def any_weights_banks(cfg: MxvConfig) -> tuple[int, int]:
    """Lane banks (rows, weights) that hold any weights of the engine's shape under either lane assignment.

    A lane holds at most every row.  Interleaved, it holds ceil(n_out / lanes) rows of at most n_in weights; balanced
    (greedy, heaviest row first onto the lightest lane), at most the average load plus one row.  The C simulation's
    banks are this large, so its library does not depend on the weights.
    """
    return cfg.n_out, (-(-cfg.n_out // cfg.banks) + 1) * cfg.n_in


_MXV = Template(
    """struct ${name} {
    static const int n_in = ${n_in};
    static const int n_out = ${n_out};
    static const int lanes = ${lanes};
    static const int macs_per_lane = ${macs_per_lane};
    static const int scan_words = ${scan_words};
    static const int fifo_depth = ${fifo_depth};
    static const int bank_lanes = ${bank_lanes};
    static const int max_lane_rows = ${max_lane_rows};
    static const int max_lane_nnz = ${max_lane_nnz};
    static const masr::mxv_mode mode = masr::${mode};
    typedef ${weight_t} weight_t;
    typedef ${act_t} act_t;
    typedef ${accum_t} accum_t;
};
"""
)


def mxv_config(name: str, cfg: MxvConfig, matrix: SparseMatrix, bank_rows: int = 0, bank_nnz: int = 0) -> str:
    """The C++ CONFIG_T struct for one engine instance holding ``matrix`` (banks at least as given)."""
    if (matrix.n_rows, matrix.n_cols, matrix.lanes) != (cfg.n_out, cfg.n_in, cfg.banks):
        raise ValueError(f"{name}: matrix {matrix.n_rows}x{matrix.n_cols} in {matrix.lanes} banks does not match config")
    return _MXV.substitute(
        name=name,
        n_in=cfg.n_in,
        n_out=cfg.n_out,
        lanes=cfg.lanes,
        macs_per_lane=cfg.macs_per_lane,
        scan_words=cfg.scan_words,
        fifo_depth=cfg.fifo_depth,
        bank_lanes=cfg.bank_lanes,
        max_lane_rows=max(bank_rows, matrix.lane_rows.shape[1]),
        max_lane_nnz=max(bank_nnz, matrix.lane_values.shape[1]),
        mode=MXV_MODES[cfg.mode],
        weight_t=hls_type(cfg.weight_t),
        act_t=hls_type(cfg.act_t),
        accum_t=hls_type(cfg.accum_t),
    )


_CELL = Template(
    """${engines}
struct ${name} {
    static const masr::cell_kind kind = masr::${kind};
    static const int n_in = ${n_in};
    static const int n_units = ${n_units};
    static const bool reset_after = ${reset_after};
    static const masr::cell_activation activation = masr::${activation};
    static const masr::cell_activation recurrent_activation = masr::${recurrent_activation};
    static const int act_n_log2 = ${act_n_log2};
    static const int act_r_log2 = ${act_r_log2};
    static const int rec_n_log2 = ${rec_n_log2};
    static const int rec_r_log2 = ${rec_r_log2};
    typedef ${in_t} in_t;
    typedef ${state_t} state_t;
    typedef ${bias_t} bias_t;
    typedef ${accum_t} accum_t;
    typedef ${gate_t} gate_t;
    typedef ${cand_t} cand_t;
    typedef ${cell_t} cell_t;
    typedef ${name}_kernel kernel_config;
    typedef ${name}_recurrent recurrent_config;
    typedef ${name}_recurrent_h recurrent_h_config;
};
"""
)


def table_sizes(cfg: CellConfig) -> tuple[int, int]:
    """log2 of the ROM sizes of the activation and recurrent-activation tables (0: no table)."""
    uses_rec_table = cfg.kind != "simple_rnn" and cfg.rec_act().uses_table
    return (cfg.act_n_log2 if cfg.act().uses_table else 0, cfg.rec_n_log2 if uses_rec_table else 0)


def cell_config(name: str, cfg: CellConfig, w: CellWeights, banks: dict | None = None, any_weights: bool = False) -> str:
    """C++ CONFIG_T structs for a cell and its three engines; ``banks`` may widen lane banks (name -> (rows, nnz)),
    ``any_weights`` widens them for any weights of the shape (see any_weights_banks)."""
    banks = banks or {}
    engines = "".join(
        mxv_config(f"{name}_{m}", mc, w.matrices[m], *(any_weights_banks(mc) if any_weights else banks.get(m, (0, 0))))
        for m, mc in (("kernel", cfg.kernel_config()), ("recurrent", cfg.recurrent_config()), ("recurrent_h", cfg.recurrent_h_config()))
    )
    act_n, rec_n = table_sizes(cfg)
    return _CELL.substitute(
        engines=engines,
        name=name,
        kind=KINDS[cfg.kind][0],
        n_in=cfg.n_in,
        n_units=cfg.n_units,
        reset_after="true" if cfg.reset_after else "false",
        activation=CELL_ACTIVATIONS[cfg.activation],
        recurrent_activation=RECURRENT_ACTIVATIONS.get(cfg.recurrent_activation, "ACT_SIGMOID"),
        act_n_log2=act_n,
        act_r_log2=cfg.act_r_log2,
        rec_n_log2=rec_n,
        rec_r_log2=cfg.rec_r_log2,
        **{t: hls_type(getattr(cfg, t)) for t in ("in_t", "state_t", "bias_t", "accum_t", "gate_t", "cand_t", "cell_t")},
    )


_MERGE = Template(
    """struct ${name} {
    static const masr::merge_mode mode = masr::${mode};
    static const int n_out = ${n_out};
    static const int lanes = ${lanes};
    static const bool interleave = ${interleave};  // both directions share the recurrent engines
    typedef ${out_t} out_t;
};
"""
)


def merge_config(name: str, m: MergeConfig, fwd: CellConfig, bwd: CellConfig) -> str:
    return _MERGE.substitute(
        name=name,
        mode=MERGE_MODES[m.mode],
        n_out=m.n_out(fwd, bwd),
        lanes=m.lanes,
        interleave="true" if m.interleave else "false",
        out_t=hls_type(m.out_t),
    )


_SOFTMAX = Template(
    """struct ${name} {
    static const int n = ${n};
    static const int parallel = ${parallel};
    static const int exp_n_log2 = ${exp_n_log2};
    static const int exp_r_log2 = ${exp_r_log2};
    static const int inv_n_log2 = ${inv_n_log2};
    static const int exp_table_size = ${exp_table_size};
    static const int inv_table_size = ${inv_table_size};
    typedef ${in_t} in_t;
    typedef ${exp_t} exp_t;
    typedef ${sum_t} sum_t;
    typedef ${inv_t} inv_t;
    typedef ${out_t} out_t;
};
"""
)


def softmax_config(name: str, cfg: SoftmaxConfig) -> str:
    """The C++ CONFIG_T struct for one softmax instance."""
    return _SOFTMAX.substitute(
        name=name,
        n=cfg.n,
        parallel=cfg.parallel,
        exp_n_log2=cfg.exp_n_log2,
        exp_r_log2=cfg.exp_r_log2,
        inv_n_log2=cfg.inv_n_log2,
        exp_table_size=cfg.exp_table_size,
        inv_table_size=cfg.inv_table_size,
        in_t=hls_type(cfg.in_t),
        exp_t=hls_type(cfg.exp_t),
        sum_t=hls_type(cfg.sum_t),
        inv_t=hls_type(cfg.inv_t),
        out_t=hls_type(cfg.out_t),
    )


def softmax_tables(name: str, cfg: SoftmaxConfig) -> list[Rom]:
    """``${name}_exp_table`` and ``${name}_inv_table`` as ROM arrays."""
    return [
        rom_array(f"{name}_exp_table", f"{name}::exp_t", exp_table(cfg), cfg.exp_t, f"{name} exp table"),
        rom_array(f"{name}_inv_table", f"{name}::inv_t", inv_table(cfg), cfg.inv_t, f"{name} inv table"),
    ]


_HEAD = Template(
    """struct ${name} {
    static const int n_in = ${n_in};
    static const int n_out = ${n_out};
    static const int lanes = ${lanes};
    static const int max_frames = ${max_frames};
    static const masr::head_activation activation = masr::${activation};
    static const int table_n_log2 = ${table_n_log2};
    static const int table_r_log2 = ${table_r_log2};
    static const int table_size = ${table_size};
    typedef ${mxv_name} mxv_config;
    typedef ${in_t} in_t;
    typedef ${bias_t} bias_t;
    typedef ${accum_t} accum_t;
    typedef ${table_t} table_t;
    typedef ${out_t} out_t;
};
"""
)


def head_config(name: str, cfg: DenseHeadConfig, matrix: SparseMatrix, any_weights: bool = False) -> str:
    """``${name}_mxv`` (the engine's CONFIG_T) and ``${name}`` (the head's CONFIG_T); ``any_weights``: lane banks
    for any weights of the shape (see any_weights_banks)."""
    mxv_name = f"{name}_mxv"
    banks = any_weights_banks(cfg.mxv) if any_weights else (0, 0)
    return mxv_config(mxv_name, cfg.mxv, matrix, *banks) + _HEAD.substitute(
        name=name,
        n_in=cfg.n_in,
        n_out=cfg.n_out,
        lanes=cfg.lanes,
        max_frames=cfg.max_frames,
        activation=HEAD_ACTIVATIONS[cfg.activation],
        table_n_log2=cfg.table_n_log2,
        table_r_log2=cfg.table_r_log2,
        table_size=cfg.table_size,
        mxv_name=mxv_name,
        in_t=hls_type(cfg.in_t),
        bias_t=hls_type(cfg.bias_t),
        accum_t=hls_type(cfg.accum_t),
        table_t=hls_type(cfg.table_t),
        out_t=hls_type(cfg.out_t),
    )


def head_weights(name: str, cfg: DenseHeadConfig, weights: DenseHeadWeights) -> list[Rom]:
    """``${name}_weights`` (masr::sparse_weights), ``${name}_bias`` and ``${name}_table``."""
    what = f"{name} weights"
    return [
        Rom(
            f"masr::sparse_weights<{name}_mxv>",
            f"{name}_weights",
            None,
            sparse_weights(weights.matrix, cfg.weight_t, what),
            sparse_words(weights.matrix, cfg.weight_t, what),
        ),
        rom_array(f"{name}_bias", f"{name}::bias_t", weights.b_raw, cfg.bias_t, f"{name} bias"),
        rom_array(f"{name}_table", f"{name}::table_t", weights.table_raw, cfg.table_t, f"{name} table"),
    ]
