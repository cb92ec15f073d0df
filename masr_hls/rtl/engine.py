"""MASR's sparse matrix-vector engine as RTL, simulated with Verilator and synthesised with Yosys.

The SystemVerilog in ``templates/rtl`` is the twin of
``templates/masr/sparse_mxv.h`` in ``MODE_MASR``.  This module fills in its
parameters from an :class:`~masr_hls.reference.mxv.MxvConfig`, writes the weight banks as
``$readmemh`` files from a :class:`~masr_hls.numerics.bitmask.SparseMatrix` (the same
encoding the HLS path uses), builds the simulation once per configuration and
bank size (cached like the C++ builds), and reads back results and measured
cycle counts.  ``synthesize`` runs ``yosys synth_xilinx`` for resource counts.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from masr_hls import toolchain
from masr_hls.errors import RtlError, ToolNotFound
from masr_hls.files import templates_dir, write_file
from masr_hls.numerics.bitmask import MASK_BITS, SparseMatrix, n_words
from masr_hls.numerics.fixed_point import ROUNDING_MODES, FixedType
from masr_hls.reference.mxv import MxvConfig

INSTALL_HINT = "install with apt-get install verilator yosys"
TOP = "masr_mxv"
TESTBENCH_TOP = "masr_mxv_tb"
DESIGN_SOURCES = (
    "masr_constants.sv",  # the package every module reads (generated from masr_hls/constants.py)
    "masr_mxv.sv",
    "masr_mxv_bank.sv",
    "masr_mxv_lane.sv",
    "masr_act_encoder.sv",
    "masr_pair_picker.sv",
    "masr_popcount.sv",
    "masr_quantize.sv",
)
TESTBENCH_SOURCE = "masr_mxv_tb.sv"
QUANTIZE_TESTBENCH = "masr_quantize_tb"
DEFAULT_FIFO_DEPTH = 4  # MxvConfig.fifo_depth's default
MAX_LANES = 1000  # bank file names carry a three-digit bank number (a bank per lane under static balancing)


def rtl_dir() -> Path:
    return templates_dir() / "rtl"


def require_tool(name: str, hint: str = INSTALL_HINT) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolNotFound(f"{name} not found on PATH; {hint}")
    return path


@functools.lru_cache(maxsize=None)
def _tool_version(name: str) -> str:
    flag = "-V" if name == "yosys" else "--version"
    return subprocess.run([require_tool(name), flag], capture_output=True, text=True).stdout.strip()


def _require_verilator5() -> str:
    path = require_tool("verilator")
    m = re.search(r"Verilator (\d+)\.", _tool_version("verilator"))
    if m and int(m.group(1)) < 5:
        raise ToolNotFound(f"{_tool_version('verilator')} is too old: the simulation needs Verilator 5 (--binary); {INSTALL_HINT}")
    return path


# --------------------------------------------------------------- parameters
def window_words(cfg: MxvConfig) -> int:
    """Mask words per front-end window: the scan width, but never more than a row has."""
    return min(cfg.scan_words, n_words(cfg.n_in))


def windows_per_row(cfg: MxvConfig) -> int:
    return -(-n_words(cfg.n_in) // window_words(cfg))


def rtl_parameters(cfg: MxvConfig, bank_rows: int, bank_nnz: int, fifo_depth: int | None = None) -> dict[str, int]:
    """The ``masr_mxv`` parameters for one engine instance with weight banks of the given size (rows, non-zeros a bank).

    ``BANK_LANES`` is ``cfg.bank_lanes``: 1 for static balancing, G > 1 for G lanes sharing each bank.
    """
    if cfg.mode != "masr":
        raise ValueError(f"the RTL engine implements mode 'masr' only, not {cfg.mode!r}")
    if cfg.lanes > MAX_LANES:
        raise ValueError(f"the RTL engine supports at most {MAX_LANES} lanes, got {cfg.lanes}")
    fifo_depth = cfg.fifo_depth if fifo_depth is None else fifo_depth  # the C++ and the cycle model use cfg's
    for name, value in (("bank_rows", bank_rows), ("bank_nnz", bank_nnz), ("fifo_depth", fifo_depth)):
        if int(value) < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    return {
        "N_IN": cfg.n_in,
        "N_OUT": cfg.n_out,
        "LANES": cfg.lanes,
        "MACS": cfg.macs_per_lane,
        "SCAN_WORDS": cfg.scan_words,
        "LANE_ROWS": int(bank_rows),
        "LANE_NNZ": int(bank_nnz),
        "BANK_LANES": cfg.bank_lanes,
        "W_W": cfg.weight_t.width,
        "W_FRAC": cfg.weight_t.frac,
        "W_SIGNED": int(cfg.weight_t.signed),
        "A_W": cfg.act_t.width,
        "A_FRAC": cfg.act_t.frac,
        "A_SIGNED": int(cfg.act_t.signed),
        "ACC_W": cfg.accum_t.width,
        "ACC_FRAC": cfg.accum_t.frac,
        "ROUNDING": ROUNDING_MODES.index(cfg.accum_t.rounding),
        "FIFO_DEPTH": int(fifo_depth),
    }


def bank_sizes(matrix: SparseMatrix) -> tuple[int, int]:
    """The smallest banks (rows, non-zeros) that hold ``matrix`` (a bank per lane, or per BankLanes lanes)."""
    return max(1, int(matrix.lane_n_rows.max())), max(1, int(matrix.lane_nnz.max()))


# ------------------------------------------------------------- memory files
def hex_lines(values, bits: int) -> str:
    """``$readmemh`` text: one two's-complement value of ``bits`` bits per line."""
    digits = max(1, -(-bits // 4))
    mask = (1 << bits) - 1
    return "".join(f"{int(v) & mask:0{digits}x}\n" for v in values)


def read_hex(tokens, t: FixedType, where: str) -> np.ndarray:
    """Raw values of type ``t`` from a simulation's hex tokens; undefined (x/z) bits are an error."""
    if any(c in v.lower() for v in tokens for c in "xz"):
        raise RtlError(f"{where}: undefined bits in the results")
    raw = np.array([int(v, 16) for v in tokens], dtype=np.int64)
    if t.signed:
        raw = np.where(raw >= 1 << (t.width - 1), raw - (1 << t.width), raw)
    return raw


def _bits_for(n: int) -> int:
    return max(1, int(n - 1).bit_length())


def write_weight_files(folder: Path, cfg: MxvConfig, matrix: SparseMatrix, bank_rows: int, bank_nnz: int) -> None:
    """Write the ``$readmemh`` files of ``masr_mxv`` for ``matrix`` into ``folder``."""
    if (matrix.n_rows, matrix.n_cols, matrix.lanes) != (cfg.n_out, cfg.n_in, cfg.banks):
        raise ValueError(
            f"matrix {matrix.n_rows}x{matrix.n_cols} in {matrix.lanes} banks does not match the engine "
            f"({cfg.n_out}x{cfg.n_in} in {cfg.banks} banks of {cfg.bank_lanes} lane(s))"
        )
    rows_needed, nnz_needed = bank_sizes(matrix)
    if rows_needed > bank_rows or nnz_needed > bank_nnz:
        raise ValueError(f"matrix needs banks of {rows_needed} rows and {nnz_needed} non-zeros; the engine has {bank_rows} and {bank_nnz}")
    cfg.weight_t.check_raw(matrix.lane_values, "weights")
    folder = Path(folder)
    words, per_window = n_words(cfg.n_in), window_words(cfg)
    n_windows = windows_per_row(cfg)
    window_bits = per_window * MASK_BITS
    row_lane = np.zeros(cfg.n_out, np.int64)
    row_slot = np.zeros(cfg.n_out, np.int64)
    for lane in range(cfg.banks):  # files are named by bank ("lane" under static balancing)
        rows = matrix.lane_rows[lane, : matrix.lane_n_rows[lane]]
        row_lane[rows] = lane
        row_slot[rows] = np.arange(rows.size)
        # Each line is one window: its mask words side by side, word 0 in the low bits.
        masks = np.zeros((bank_rows, n_windows * per_window), np.int64)
        masks[: rows.size, :words] = matrix.mask[rows]
        lines = []
        for row_words in masks:
            for w in range(n_windows):
                chunk = row_words[w * per_window : (w + 1) * per_window]
                lines.append(sum(int(word) << (MASK_BITS * k) for k, word in enumerate(chunk)))
        (folder / f"lane{lane:03d}_mask.hex").write_text(hex_lines(lines, window_bits))
        values = np.zeros(bank_nnz, np.int64)
        values[: matrix.lane_nnz[lane]] = matrix.lane_values[lane, : matrix.lane_nnz[lane]]
        (folder / f"lane{lane:03d}_values.hex").write_text(hex_lines(values, cfg.weight_t.width))
        # Each slot's first packed weight: where a lane sharing the bank starts the row (read with BANK_LANES > 1).
        bases = np.zeros(bank_rows, np.int64)
        bases[: rows.size] = matrix.lane_row_base[lane, : rows.size]
        (folder / f"lane{lane:03d}_slot_base.hex").write_text(hex_lines(bases, _bits_for(bank_nnz)))
    (folder / "lane_n_rows.hex").write_text(hex_lines(matrix.lane_n_rows, (bank_rows).bit_length()))
    (folder / "row_lane.hex").write_text(hex_lines(row_lane, _bits_for(cfg.banks)))
    (folder / "row_slot.hex").write_text(hex_lines(row_slot, _bits_for(bank_rows)))


# ------------------------------------------------------------------ verilator
def _param_flags(params: dict[str, int]) -> list[str]:
    return [f"-G{name}={value}" for name, value in params.items()]


def _sources(names) -> list[Path]:
    return [rtl_dir() / name for name in names]


def lint(cfg: MxvConfig, bank_rows: int, bank_nnz: int, fifo_depth: int | None = None, testbench: bool = False) -> None:
    """``verilator --lint-only -Wall`` on the engine (or its testbench) for one configuration; raises on any warning."""
    params = rtl_parameters(cfg, bank_rows, bank_nnz, fifo_depth)
    names = DESIGN_SOURCES + ((TESTBENCH_SOURCE,) if testbench else ())
    lint_design(TESTBENCH_TOP if testbench else TOP, params, names, timing=testbench)


def lint_design(top: str, params: dict, design_sources: tuple[str, ...], timing: bool = False) -> None:
    """``verilator --lint-only -Wall`` on ``top`` built from ``design_sources``; raises on any warning."""
    exe = _require_verilator5()
    cmd = [exe, "--lint-only", "-Wall", "--top-module", top] + (["--timing"] if timing else [])
    cmd += _param_flags(params) + [str(p) for p in _sources(design_sources)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    report = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0 or report:
        raise RtlError(f"verilator lint of {top} is not clean:\n{report}")


def build_simulation(
    params: dict[str, int],
    optimize: bool = False,
    jobs: int | None = None,
    testbench: str = TESTBENCH_TOP,
    design_sources: tuple[str, ...] = DESIGN_SOURCES,
) -> Path:
    """Compile a testbench (``templates/rtl/<testbench>.sv``) with Verilator into a simulation binary.

    ``design_sources`` are the files (in ``templates/rtl``) the testbench
    instantiates.  Builds are cached by sources, parameters and Verilator's
    version.  Without ``optimize`` the per-cycle evaluation code is compiled
    at -Og and the rest at -O0: that builds as fast as -O0 everywhere (about a
    third faster than -O2), and a layer of 50 frames simulates in 0.2 s instead
    of 4 s.  The model's C++ is compiled as one file (our designs are
    small, so that costs less than a file at a time), and Verilator's run-time
    library is compiled once and reused by every later build (see
    :func:`_place_runtime_library`).
    """
    exe = _require_verilator5()
    sources = _sources(tuple(design_sources) + (f"{testbench}.sv",))
    h = hashlib.sha256()
    for path in sources:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    h.update(repr(sorted(params.items())).encode() + _tool_version("verilator").encode() + bytes([optimize]))
    out_dir = toolchain.cache_dir() / f"rtl-{testbench}-{h.hexdigest()[:20]}"
    binary = out_dir / "obj_dir" / "simulate"
    if binary.is_file():
        return binary
    make = require_tool("make", "Verilator's simulations are built with it: apt-get install make")
    tmp = Path(tempfile.mkdtemp(prefix=f"rtl-{testbench}-", dir=toolchain.cache_dir()))
    obj_dir = tmp / "obj_dir"
    try:
        # --binary without --build: Verilator writes the C++ and its makefiles, and the make below compiles them.
        cmd = [exe, "--main", "--exe", "--timing", "--top-module", testbench, "-Mdir", str(obj_dir), "-o", "simulate"]
        cmd += _param_flags(params) + [str(p) for p in sources]
        _run_build_step(cmd, tmp, "verilator failed to translate the design")
        _place_runtime_library(make, obj_dir, testbench, optimize)
        cmd = [make, "-C", str(obj_dir), "-f", f"V{testbench}.mk", "-j", str(jobs or min(4, os.cpu_count() or 1)), "VM_PARALLEL_BUILDS=0", "simulate"]
        if not optimize:
            cmd += ["OPT_FAST=-Og", "OPT_SLOW=-O0", "OPT_GLOBAL=-O0"]
        _run_build_step(cmd, tmp, "the C++ of the Verilator simulation did not compile")
        if not (obj_dir / "simulate").is_file():
            raise RtlError(f"Verilator's build made no simulation binary (in {obj_dir})")
        try:
            tmp.rename(out_dir)  # atomic: a parallel build of the same content may have won
        except OSError:
            pass
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return binary


def _run_build_step(cmd: list[str], tmp: Path, failure: str) -> None:
    """Run one step of a build in ``tmp``; on failure keep ``tmp`` (with build.log) under the cache's failed/."""
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        (tmp / "build.log").write_text(" ".join(cmd) + "\n" + proc.stdout + proc.stderr)
        kept = toolchain.keep_failed(tmp, tmp.name, "build")
        raise RtlError(f"{failure} (log in {kept / 'build.log'}):\n{tail(proc.stderr or proc.stdout)}")


def _place_runtime_library(make: str, obj_dir: Path, testbench: str, optimize: bool) -> None:
    """Put Verilator's run-time library (``verilated*.o``), compiled for ``obj_dir``'s settings, into ``obj_dir``.

    Every simulation links the same few run-time files, which take longer to
    compile than our designs; they are built once per Verilator version,
    compiler, optimisation and model settings (``VM_TIMING``, ``VM_TRACE``, ...),
    cached beside the simulations, and copied in by later builds.
    """
    settings = (obj_dir / f"V{testbench}_classes.mk").read_text()
    h = hashlib.sha256("\n".join(re.findall(r"^VM_\w+ = .*$", settings, re.M)).encode())
    h.update(_tool_version("verilator").encode() + toolchain.compiler_version().encode() + bytes([optimize]))
    runtime = toolchain.cache_dir() / f"rtl-runtime-{h.hexdigest()[:20]}"
    cached = list(runtime.glob("*.o"))
    if cached:
        for obj in cached:
            shutil.copyfile(obj, obj_dir / obj.name)  # newer than the makefiles, so make keeps them
        return
    globals_ = re.findall(r"^\s+(verilated\w*) \\$", settings, re.M)
    cmd = [make, "-C", str(obj_dir), "-f", f"V{testbench}.mk", "-j", str(min(4, os.cpu_count() or 1))]
    cmd += [f"{name}.o" for name in globals_] + ([] if optimize else ["OPT_GLOBAL=-O0"])
    _run_build_step(cmd, obj_dir.parent, "Verilator's run-time library did not compile")
    tmp = Path(tempfile.mkdtemp(prefix=f"{toolchain.TMP_PREFIX}rtl-runtime-", dir=toolchain.cache_dir()))
    for name in globals_:
        shutil.copyfile(obj_dir / f"{name}.o", tmp / f"{name}.o")
    try:
        tmp.rename(runtime)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # a parallel build stored it first


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def quantize_in_rtl(raw: np.ndarray, in_width: int, out_width: int, shifts: tuple[int, int, int]) -> np.ndarray:
    """Run ``masr_quantize`` on raw two's-complement inputs for three shifts and all rounding modes.

    Returns the raw output bits, shaped (len(raw), 3, len(ROUNDING_MODES)).
    """
    raw = np.asarray(raw, dtype=np.int64).ravel()
    params = {"IN_W": in_width, "OUT_W": out_width, "SHIFT_A": shifts[0], "SHIFT_B": shifts[1], "SHIFT_C": shifts[2]}
    binary = build_simulation(params, testbench=QUANTIZE_TESTBENCH)
    with tempfile.TemporaryDirectory(prefix="masr_rtl_quantize-") as tmp:
        folder = Path(tmp)
        (folder / "values.hex").write_text(hex_lines(raw, in_width))
        proc = subprocess.run([str(binary), f"+values={raw.size}"], cwd=folder, capture_output=True, text=True)
        if proc.returncode != 0 or not (folder / "results.txt").is_file():
            raise RtlError(f"quantizer simulation failed (exit {proc.returncode}):\n{tail(proc.stdout + proc.stderr)}")
        tokens = (folder / "results.txt").read_text().split()
    if len(tokens) != raw.size * 3 * len(ROUNDING_MODES):
        raise RtlError(f"quantizer results have {len(tokens)} entries, expected {raw.size * 3 * len(ROUNDING_MODES)}")
    return np.array([int(v, 16) for v in tokens], dtype=np.int64).reshape(raw.size, 3, len(ROUNDING_MODES))


@dataclass
class RtlRun:
    """Results of one simulation: y per vector, and cycles measured by the testbench."""

    y: np.ndarray  # (t, n_out) raw accumulator values
    cycles: np.ndarray  # (t,) engine cycles: start sampled -> first cycle with done high
    encode_cycles: np.ndarray  # (t,) cycles to stream the dense vector through the encoder


class MxvRtl:
    """The RTL engine for one configuration and lane bank size, loaded with a weight matrix."""

    def __init__(
        self,
        cfg: MxvConfig,
        matrix: SparseMatrix,
        bank_rows: int | None = None,
        bank_nnz: int | None = None,
        fifo_depth: int | None = None,
        optimize: bool = False,
    ):
        rows, nnz = bank_sizes(matrix)
        self.cfg = cfg
        self.bank_rows = max(rows, bank_rows or 0)
        self.bank_nnz = max(nnz, bank_nnz or 0)
        self.params = rtl_parameters(cfg, self.bank_rows, self.bank_nnz, fifo_depth)
        self.binary = build_simulation(self.params, optimize)
        self.workdir = Path(tempfile.mkdtemp(prefix="masr_rtl_run-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.workdir, True)
        self.load(matrix)

    def load(self, matrix: SparseMatrix) -> None:
        """Write another matrix into the banks (the simulation reads them at each run)."""
        write_weight_files(self.workdir, self.cfg, matrix, self.bank_rows, self.bank_nnz)
        self.matrix = matrix

    def run(self, x_raw: np.ndarray, timeout: float = 600) -> RtlRun:
        x = self.cfg.act_t.check_raw(np.atleast_2d(x_raw), "activations")
        if x.ndim != 2 or x.shape[1] != self.cfg.n_in:
            raise ValueError(f"expected vectors of {self.cfg.n_in} activations, got shape {np.shape(x_raw)}")
        t = x.shape[0]
        (self.workdir / "vectors.hex").write_text(hex_lines(x.ravel(), self.cfg.act_t.width))
        results = self.workdir / "results.txt"
        results.unlink(missing_ok=True)
        proc = subprocess.run([str(self.binary), f"+vectors={t}"], cwd=self.workdir, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not results.is_file():
            raise RtlError(f"RTL simulation failed (exit {proc.returncode}):\n{tail(proc.stdout + proc.stderr)}")
        return self._parse(results.read_text().split(), t)

    def _parse(self, tokens: list[str], t: int) -> RtlRun:
        n_out, acc = self.cfg.n_out, self.cfg.accum_t
        per_vector = 2 + n_out
        if len(tokens) != t * per_vector:
            raise RtlError(f"results.txt has {len(tokens)} entries, expected {t * per_vector}")
        y = np.zeros((t, n_out), np.int64)
        cycles, encode = np.zeros(t, np.int64), np.zeros(t, np.int64)
        for i in range(t):
            chunk = tokens[i * per_vector : (i + 1) * per_vector]
            cycles[i], encode[i] = int(chunk[0]), int(chunk[1])
            y[i] = read_hex(chunk[2:], acc, f"vector {i}")
        return RtlRun(y=y, cycles=cycles, encode_cycles=encode)


# ---------------------------------------------------------------------- yosys
_LUT_CELLS = re.compile(r"^LUT[1-6](_2)?$")
_FF_CELLS = {"FDRE", "FDSE", "FDCE", "FDPE", "LDCE", "LDPE"}
_LUTRAM_CELLS = re.compile(r"^RAM(16|32|64|128|256)X\d[SD]$|^RAM(32|64)M(16)?$")
_BRAM_SIZES = {"RAMB18E1": 0.5, "RAMB36E1": 1.0, "RAMB18E2": 0.5, "RAMB36E2": 1.0}
_DSP_CELLS = {"DSP48E1", "DSP48E2"}


def parse_yosys_stat(log: str) -> dict:
    """Cell counts of the last ``stat`` in a yosys log, grouped as FPGA resources.

    ``BRAM`` is in 36 Kb blocks (an 18 Kb block counts one half), ``BRAM18``
    the same in 18 Kb blocks (a 36 Kb block counts two); ``LUTRAM`` counts
    distributed-RAM cells, which are not included in ``LUT``.
    """
    sections = log.split("Number of cells:")
    if len(sections) < 2:
        raise RtlError("no statistics in the yosys log")
    cells: dict[str, int] = {}
    for line in sections[-1].splitlines()[1:]:
        m = re.match(r"^\s+(\S+)\s+(\d+)\s*$", line)
        if not m:
            break
        cells[m.group(1)] = cells.get(m.group(1), 0) + int(m.group(2))
    return {
        "LUT": sum(n for c, n in cells.items() if _LUT_CELLS.match(c)),
        "FF": sum(n for c, n in cells.items() if c in _FF_CELLS),
        "DSP": sum(n for c, n in cells.items() if c in _DSP_CELLS),
        "BRAM": sum(n * _BRAM_SIZES[c] for c, n in cells.items() if c in _BRAM_SIZES),
        "BRAM18": int(sum(n * 2 * _BRAM_SIZES[c] for c, n in cells.items() if c in _BRAM_SIZES)),
        "LUTRAM": sum(n for c, n in cells.items() if _LUTRAM_CELLS.match(c)),
        "CARRY4": cells.get("CARRY4", 0),
        "cells": cells,
    }


def synthesize(
    cfg: MxvConfig,
    matrix: SparseMatrix,
    bank_rows: int | None = None,
    bank_nnz: int | None = None,
    fifo_depth: int | None = None,
    family: str = "xc7",
    timeout: float | None = None,
    keep_log: Path | None = None,
    memories_only: bool = False,
) -> dict:
    """Resource counts of ``masr_mxv`` holding ``matrix``, from ``yosys synth_xilinx``.

    The weight banks are ROMs initialised from the memory files, so yosys sees
    the actual masks and values (constant bits and unused banks are optimised
    away, as they would be in a real build with fixed weights).  ``memories_only``:
    see :func:`run_yosys`.
    """
    require_tool("yosys")
    rows, nnz = bank_sizes(matrix)
    bank_rows, bank_nnz = max(rows, bank_rows or 0), max(nnz, bank_nnz or 0)
    params = rtl_parameters(cfg, bank_rows, bank_nnz, fifo_depth)
    with tempfile.TemporaryDirectory(prefix="masr_rtl_synth-") as tmp:
        folder = Path(tmp)
        write_weight_files(folder, cfg, matrix, bank_rows, bank_nnz)
        return run_yosys(folder, TOP, params, DESIGN_SOURCES, family, timeout, keep_log, memories_only)


def run_yosys(
    folder: Path,
    top: str,
    params: dict[str, int],
    design_sources: tuple[str, ...],
    family: str = "xc7",
    timeout: float | None = None,
    keep_log: Path | None = None,
    memories_only: bool = False,
) -> dict:
    """``yosys synth_xilinx`` of ``top`` in ``folder`` (where its memory files are); resource counts.

    ``memories_only`` stops after synth_xilinx has mapped DSPs and memories (its steps before ``fine``, ``map_ffram``
    included, which turns memories left out of block and LUT RAM into flip-flops): the DSP48 and block-RAM cells are
    final there, in a fraction of the time, but logic is not yet mapped to LUTs and flip-flops (``cells`` holds
    Yosys's generic ones, such as ``$dff``).

    Results are cached by everything the synthesis reads (the script, the design's sources, every file in
    ``folder`` and Yosys's version): a rerun of a sweep, a benchmark or a test takes the stored log instead of
    minutes of synthesis.
    """
    exe = require_tool("yosys")
    folder = Path(folder)
    # Deferred elaboration: modules are only built with the top's parameters
    # (so their memory files are looked up where those parameters say).
    script = [f"read_verilog -defer -sv {' '.join(str(p) for p in _sources(design_sources))}"]
    script += ["chparam " + " ".join(f"-set {name} {value}" for name, value in params.items()) + f" {top}"]
    steps = " -run :fine" if memories_only else ""
    script += [f"synth_xilinx -top {top} -family {family} -flatten -noiopad -noclkbuf{steps}", "stat"]
    (folder / "synth.ys").write_text("\n".join(script) + "\n")
    cached = _yosys_cache_path(folder, design_sources)
    if cached.is_file():
        log = cached.read_text()
    else:
        proc = subprocess.run([exe, "-q", "-l", "synth.log", "-s", "synth.ys"], cwd=folder, capture_output=True, text=True, timeout=timeout)
        log = (folder / "synth.log").read_text() if (folder / "synth.log").is_file() else ""
        if proc.returncode != 0:
            if keep_log is not None:
                Path(keep_log).write_text(log)
            raise RtlError(f"yosys synthesis of {top} failed:\n{tail(proc.stdout + proc.stderr + log)}")
        write_file(cached, log)  # atomic: a parallel worker may store the same synthesis
    if keep_log is not None:
        Path(keep_log).write_text(log)
    return parse_yosys_stat(log)


def _yosys_cache_path(folder: Path, design_sources: tuple[str, ...]) -> Path:
    """Where the log of a synthesis of ``folder`` (its script and memory files) and ``design_sources`` is kept."""
    h = hashlib.sha256(_tool_version("yosys").encode())
    for path in _sources(design_sources):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "synth.log"):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return toolchain.cache_dir() / "yosys" / f"{h.hexdigest()[:24]}.log"
