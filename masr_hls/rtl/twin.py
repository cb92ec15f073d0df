"""A converted model's recurrent layers as RTL: generated, simulated with Verilator, compared and synthesised.

Each recurrent layer the RTL covers (GRU, reset_after either way, or LSTM,
alone or in a Bidirectional) becomes one ``masr_rnn_layer`` (templates/rtl): the
sequence buffer, a ``masr_rnn_cell`` per direction (kernel and recurrent
``masr_mxv`` engines plus the gate units) and the merge.  Parameters come
from the layer's :class:`~masr_hls.reference.rnn_cell.CellConfig`; weights, biases and
activation tables are ``$readmemh`` files in the HLS path's encoding, so a
simulation is built once per shape and reloaded per model.  Layers are run
one after another, each on the previous RTL layer's output; a layer the RTL
does not cover is reported as such and the next covered layer reads the
numpy reference's output instead.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from masr_hls.constants import ENUMS, enum_value
from masr_hls.errors import NotInRtl
from masr_hls.numerics.fixed_point import OVERFLOW_MODES, ROUNDING_MODES, FixedType
from masr_hls.reference.mxv import MxvConfig, ideal_cycles
from masr_hls.reference.rnn_layer import LAYER_DONE_DEPTH, writes_halves
from masr_hls.rtl import engine

SOURCES = engine.DESIGN_SOURCES + (
    "masr_fixed_cast.sv",
    "masr_lut_index.sv",
    "masr_hard_sigmoid.sv",
    "masr_gru_unit.sv",
    "masr_lstm_unit.sv",
    "masr_rnn_cell.sv",
    "masr_merge_unit.sv",
    "masr_rnn_layer.sv",
)
TOP = "masr_rnn_layer"
TESTBENCH = "masr_rnn_layer_tb"
# Simulation banks hold any weights of the layer's shape (one build per shape)
# up to this many weight slots per engine; bigger layers get banks sized to
# their weights, rounded up to a power of two.
SHAPE_BANK_LIMIT = 1 << 20


# ------------------------------------------------------------------ coverage
def _cell_reason(name: str, cfg) -> str | None:
    if cfg.kind not in ("gru", "lstm"):
        return f"layer {name!r}: {cfg.kind} cells are not in the RTL (GRU and LSTM only)"
    if cfg.mode != "masr":
        return f"layer {name!r}: engine mode {cfg.mode!r} is not in the RTL (mode 'masr' only)"
    if not cfg.accum_t.signed:
        return f"layer {name!r}: the RTL needs a signed accumulator, got {cfg.accum_t}"
    if cfg.lanes > engine.MAX_LANES:
        return f"layer {name!r}: {cfg.lanes} lanes; the RTL supports at most {engine.MAX_LANES}"
    return None


def unsupported_reason(layer) -> str | None:
    """Why ``layer`` is not in the RTL, or None when it is."""
    if layer.kind == "recurrent":
        return _cell_reason(layer.name, layer.cell)
    if layer.kind == "bidirectional":
        reason = _cell_reason(layer.name, layer.fwd) or _cell_reason(layer.name, layer.bwd)
        if reason is None and layer.fwd != layer.bwd:
            reason = f"layer {layer.name!r}: forward and backward halves differ in shape or precision (the RTL builds one cell twice)"
        if reason is None and layer.merge.mode not in ENUMS["merge_mode"][1]:
            reason = f"layer {layer.name!r}: merge_mode {layer.merge.mode!r} is not in the RTL"
        if reason is None and layer.merge.interleave:
            reason = (
                f"layer {layer.name!r}: interleaved directions (Interleave: true, shared recurrent engines) are not in the RTL; "
                "set Interleave: false for this layer"
            )
        return reason
    return f"layer {layer.name!r}: {layer.kind} layers are not in the RTL (GRU and LSTM layers only)"


def check_layer(layer) -> None:
    reason = unsupported_reason(layer)
    if reason is not None:
        raise NotInRtl(reason)


def directions(layer) -> list[tuple[str, object, object]]:
    """(folder, CellConfig, CellWeights) per direction, forward first."""
    if layer.kind == "bidirectional":
        return [("fwd", layer.fwd, layer.wf), ("bwd", layer.bwd, layer.wb)]
    return [("fwd", layer.cell, layer.weights)]


# ---------------------------------------------------------------- parameters
def _type_params(prefix: str, t: FixedType, modes: bool = True) -> dict[str, int]:
    p = {f"{prefix}_W": t.width, f"{prefix}_FRAC": t.frac, f"{prefix}_SIGNED": int(t.signed)}
    if modes:
        p[f"{prefix}_ROUNDING"] = ROUNDING_MODES.index(t.rounding)
        p[f"{prefix}_OVERFLOW"] = OVERFLOW_MODES.index(t.overflow)
    return p


def _engines(cfg) -> dict[str, MxvConfig]:
    engines = {"kernel": cfg.kernel_config(), "recurrent": cfg.recurrent_config()}
    if cfg.gru_reset_before:  # U_h multiplies r * h in a second pass
        engines["recurrent_h"] = cfg.recurrent_h_config()
    return engines


def bank_capacity(layer, policy: str = "auto") -> dict[str, tuple[int, int]]:
    """Lane bank sizes (rows, non-zeros) per engine.

    ``exact``: what this layer's weights need (synthesis: the ROMs hold them).
    ``shape``: any weights of the shape fit, so one simulation serves every model of that shape.
    ``auto``: ``shape`` unless that exceeds SHAPE_BANK_LIMIT slots, else the need rounded up to a power of two.
    """
    dirs = directions(layer)
    out = {}
    for name, mc in _engines(dirs[0][1]).items():
        needed = [engine.bank_sizes(w.matrices[name]) for _, _, w in dirs]
        rows, nnz = max(r for r, _ in needed), max(n for _, n in needed)
        mode = policy
        if mode == "auto":
            mode = "shape" if mc.n_out * mc.n_in <= SHAPE_BANK_LIMIT else "fit"
        if mode == "shape":
            rows, nnz = mc.n_out, mc.n_out * mc.n_in
        elif mode == "fit":
            rows = min(mc.n_out, 1 << (rows - 1).bit_length())
            nnz = min(rows * mc.n_in, 1 << (nnz - 1).bit_length())
        elif mode != "exact":
            raise ValueError(f"unknown bank policy {policy!r}; use 'auto', 'shape', 'fit' or 'exact'")
        out[name] = (rows, nnz)
    return out


def layer_parameters(layer, banks: dict[str, tuple[int, int]], max_frames: int) -> dict[str, int]:
    """The ``masr_rnn_layer`` parameters of a covered layer."""
    check_layer(layer)
    _, cfg, _ = directions(layer)[0]
    bidirectional = layer.kind == "bidirectional"
    p = {
        "N_IN": cfg.n_in,
        "UNITS": cfg.n_units,
        "LANES": cfg.lanes,
        "MACS": cfg.macs_per_lane,
        "SCAN_WORDS": cfg.scan_words,
        "FIFO_DEPTH": cfg.kernel_config().fifo_depth,
        "K_ROWS": banks["kernel"][0],
        "K_NNZ": banks["kernel"][1],
        "R_ROWS": banks["recurrent"][0],
        "R_NNZ": banks["recurrent"][1],
        "BANK_LANES": cfg.bank_lanes,  # dynamic balancing: lanes sharing each weight bank
        "KIND": 1 if cfg.kind == "lstm" else 0,
        "RESET_AFTER": int(cfg.kind != "gru" or cfg.reset_after),
        "H_ROWS": banks.get("recurrent_h", (1, 1))[0],
        "H_NNZ": banks.get("recurrent_h", (1, 1))[1],
    }
    p.update(_type_params("IN", cfg.in_t, modes=False))
    p.update(_type_params("W", cfg.weight_t, modes=False))
    p.update(_type_params("RW", cfg.recurrent_weight_t, modes=False))
    p.update(_type_params("B", cfg.bias_t, modes=False))
    p.update({"ACC_W": cfg.accum_t.width, "ACC_FRAC": cfg.accum_t.frac, "ACC_ROUNDING": ROUNDING_MODES.index(cfg.accum_t.rounding)})
    p.update(_type_params("ST", cfg.state_t))
    p.update(_type_params("G", cfg.gate_t))
    p.update(_type_params("C", cfg.cand_t))
    p.update(_type_params("CL", cfg.cell_t))
    p.update(
        {
            "ACT": 0 if cfg.activation == "tanh" else 1,
            "REC": 0 if cfg.recurrent_activation == "sigmoid" else 1,
            "ACT_N": cfg.act_n_log2,
            "ACT_R": cfg.act_r_log2,
            "REC_N": cfg.rec_n_log2,
            "REC_R": cfg.rec_r_log2,
            "MAX_T": int(max_frames),
            "DIRS": 2 if bidirectional else 1,
            "BACKWARD": int(not bidirectional and layer.spec.go_backwards),
            "MERGE": enum_value("merge_mode", layer.merge.mode) if bidirectional else 0,
            "ENTRY": int(layer.entry),  # the model's first layer: frame 0 is encoded on entry (docs/arithmetic.md)
            "SPLIT": int(bidirectional and writes_halves(layer.merge, layer.stores_output)),  # concat into a split store
        }
    )
    p.update(_type_params("O", layer.out_t))
    return p


def write_layer_files(folder: Path, layer, banks: dict[str, tuple[int, int]]) -> None:
    """The ``$readmemh`` files of one layer: engine banks (kernel, recurrent, recurrent_h), biases and tables per direction."""
    for dirname, cfg, w in directions(layer):
        d = Path(folder) / dirname
        for name, mc in _engines(cfg).items():
            (d / name).mkdir(parents=True, exist_ok=True)
            engine.write_weight_files(d / name, mc, w.matrices[name], *banks[name])
        (d / "bias.hex").write_text(engine.hex_lines(w.bias, cfg.bias_t.width))
        (d / "recurrent_bias.hex").write_text(engine.hex_lines(w.recurrent_bias, cfg.bias_t.width))
        if cfg.act().uses_table:
            (d / "act_table.hex").write_text(engine.hex_lines(cfg.act().table(), cfg.cand_t.width))
        if cfg.rec_act().uses_table:
            (d / "rec_table.hex").write_text(engine.hex_lines(cfg.rec_act().table(), cfg.gate_t.width))


def lint(layer, max_frames: int, testbench: bool = False) -> None:
    """``verilator --lint-only -Wall`` on one layer's design (or its testbench)."""
    params = layer_parameters(layer, bank_capacity(layer, "exact"), max_frames)
    sources = SOURCES + ((f"{TESTBENCH}.sv",) if testbench else ())
    engine.lint_design(TESTBENCH if testbench else TOP, params, sources, timing=testbench)


# ---------------------------------------------------------------- simulation
@dataclass
class LayerRun:
    """One simulation of a layer over samples: raw outputs and measured cycles."""

    y: np.ndarray  # (samples, out frames, n_out) raw out_t
    layer_cycles: np.ndarray  # (samples,) start -> done: sweeps (and merge)
    load_cycles: np.ndarray  # (samples,) streaming the input into the sequence buffer
    sweep_cycles: np.ndarray  # (samples, directions)
    kernel_cycles: np.ndarray  # (samples, directions, steps) kernel engine busy
    recurrent_cycles: np.ndarray  # (samples, directions, steps)
    step_cycles: np.ndarray  # (samples, directions, steps)


class LayerRtl:
    """The RTL of one covered layer, built (cached) for its shape and loaded with its weights."""

    def __init__(self, layer, max_frames: int, banks: str = "auto", optimize: bool = False):
        check_layer(layer)
        self.layer = layer
        self.cfg = directions(layer)[0][1]
        self.max_frames = int(max_frames)
        self.banks = bank_capacity(layer, banks)
        self.params = layer_parameters(layer, self.banks, self.max_frames)
        self.n_dirs = self.params["DIRS"]
        self.out_t, self.n_out = layer.out_t, layer.n_out
        self.binary = engine.build_simulation(self.params, optimize, testbench=TESTBENCH, design_sources=SOURCES)
        self.workdir = Path(tempfile.mkdtemp(prefix="masr_rtl_layer-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.workdir, True)
        write_layer_files(self.workdir, layer, self.banks)

    def run(self, x_raw, timeout: float = 3600) -> LayerRun:
        x = np.asarray(x_raw, dtype=np.int64)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[2] != self.cfg.n_in:
            raise ValueError(f"layer {self.layer.name!r}: expected (samples, frames, {self.cfg.n_in}) inputs, got {np.shape(x_raw)}")
        n, frames = x.shape[:2]
        if not 1 <= frames <= self.max_frames:
            raise ValueError(f"layer {self.layer.name!r}: {frames} frames; the RTL holds 1..{self.max_frames}")
        self.cfg.in_t.check_raw(x, f"layer {self.layer.name!r} inputs")
        last_only = self.n_dirs == 2 and not self.layer.return_sequences
        (self.workdir / "x.hex").write_text(engine.hex_lines(x.ravel(), self.cfg.in_t.width))
        results = self.workdir / "results.txt"
        results.unlink(missing_ok=True)
        cmd = [str(self.binary), f"+samples={n}", f"+frames={frames}", f"+last_only={int(last_only)}"]
        proc = subprocess.run(cmd, cwd=self.workdir, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not results.is_file():
            raise engine.RtlError(
                f"RTL simulation of layer {self.layer.name!r} failed (exit {proc.returncode}):\n{engine.tail(proc.stdout + proc.stderr)}"
            )
        result = self._parse(results.read_text().splitlines(), n, frames, 1 if last_only else frames)
        if self.n_dirs == 1 and not self.layer.return_sequences:
            result.y = result.y[:, -1:]  # the hardware produces every frame; only the last one goes on
        return result

    def _parse(self, lines: list[str], n: int, frames: int, out_frames: int) -> LayerRun:
        d = self.n_dirs
        per_sample = 1 + d * frames + out_frames
        if len(lines) != n * per_sample:
            raise engine.RtlError(f"layer {self.layer.name!r}: results.txt has {len(lines)} lines, expected {n * per_sample}")
        y = np.zeros((n, out_frames, self.n_out), np.int64)
        head = np.zeros((n, 4), np.int64)
        steps = np.zeros((n, d, frames, 3), np.int64)
        for s in range(n):
            chunk = lines[s * per_sample : (s + 1) * per_sample]
            head[s] = [int(v) for v in chunk[0].split()]
            for k in range(d * frames):
                steps[s, k // frames, k % frames] = [int(v) for v in chunk[1 + k].split()]
            for t in range(out_frames):
                tokens = chunk[1 + d * frames + t].split()
                where = f"layer {self.layer.name!r}, sample {s}, frame {t}"
                if len(tokens) != self.n_out:
                    raise engine.RtlError(f"{where}: {len(tokens)} outputs, expected {self.n_out}")
                y[s, t] = engine.read_hex(tokens, self.out_t, where)
        return LayerRun(
            y=y,
            layer_cycles=head[:, 0],
            load_cycles=head[:, 1],
            sweep_cycles=head[:, 2 : 2 + d],
            kernel_cycles=steps[..., 0],
            recurrent_cycles=steps[..., 1],
            step_cycles=steps[..., 2],
        )


def synthesize_layer(layer, max_frames: int, family: str = "xc7", timeout: float | None = None, keep_log: Path | None = None) -> dict:
    """LUT/FF/DSP/BRAM of one layer's design from ``yosys synth_xilinx``, with its weights as ROMs."""
    engine.require_tool("yosys")
    banks = bank_capacity(layer, "exact")
    params = layer_parameters(layer, banks, max_frames)
    with tempfile.TemporaryDirectory(prefix="masr_rtl_layer_synth-") as tmp:
        write_layer_files(Path(tmp), layer, banks)
        return engine.run_yosys(Path(tmp), TOP, params, SOURCES, family, timeout, keep_log)


# ------------------------------------------------------------- whole models
def _mean(values) -> float:
    return float(np.mean(values)) if np.size(values) else 0.0


def _direction_rows(layer, run: LayerRun | None, csim_results: list) -> list[dict]:
    """Per direction: RTL cycles beside the C simulation's counted cycles and the ideal (means over samples)."""
    rows = []
    for k, (_, cfg, _) in enumerate(directions(layer)):
        stats = [r.forward if k == 0 else r.backward for r in csim_results]
        done = [LAYER_DONE_DEPTH if layer.kind == "recurrent" else 0 for s in stats]  # a bare layer's figures end at done
        macs = cfg.lanes * cfg.macs_per_lane
        row = {
            "direction": "forward" if k == 0 else "backward",
            "steps": int(stats[0].steps),
            "pairs": _mean([s.kernel.pairs + s.recurrent.pairs for s in stats]),
            "ideal_cycles": _mean([ideal_cycles(s.kernel.pairs + s.recurrent.pairs, macs) for s in stats]),
            "csim_engine_cycles": _mean([s.kernel.cycles + s.recurrent.cycles for s in stats]),
            "csim_sweep_cycles": _mean([s.cycles - e for s, e in zip(stats, done)]),
            "rtl_engine_cycles": None,
            "rtl_kernel_cycles": None,
            "rtl_recurrent_cycles": None,
            "rtl_sweep_cycles": None,
        }
        if run is not None:
            row.update(
                rtl_kernel_cycles=_mean(run.kernel_cycles[:, k].sum(axis=1)),
                rtl_recurrent_cycles=_mean(run.recurrent_cycles[:, k].sum(axis=1)),
                rtl_engine_cycles=_mean(run.kernel_cycles[:, k].sum(axis=1) + run.recurrent_cycles[:, k].sum(axis=1)),
                rtl_sweep_cycles=_mean(run.sweep_cycles[:, k]),
            )
        rows.append(row)
    return rows


def run(hw, x, synth: bool = False, samples: int | None = None, progress=None) -> dict:
    """Simulate every covered layer of the converted model ``hw`` (a ``MasrModel``) in RTL on ``x`` and compare it
    with the numpy reference and the C simulation.

    Returns a dict (see :func:`format_text`, :func:`to_json`): per layer whether it is in the RTL (and
    why not), bit-exactness, RTL cycles against counted and ideal cycles, and resources with ``synth``.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    if samples is not None:
        x = x[:samples]
    x_raw = hw.quantize_input(x)
    csim = hw.csim(x)
    ref_in = list(x_raw)
    rtl_in = x_raw
    layers, last_run = [], None
    for i, layer in enumerate(hw.layers):
        ref_out = [layer.reference(h)[0] for h in ref_in]
        reason = unsupported_reason(layer)
        csim_results = [sample[i] for sample in csim.layers]
        row = {
            "layer": layer.name,
            "kind": layer.kind,
            "in_rtl": reason is None,
            "reason": reason,
            "csim_layer_cycles": _mean([r.cycles for r in csim_results]),
            "rtl_layer_cycles": None,
            "rtl_load_cycles": None,
            "bit_exact": None,
            "mismatches": None,
            "resources": None,
            "directions": [],
        }
        run_i = None
        if reason is None:
            if progress is not None:
                progress(f"layer {layer.name}: building and simulating the RTL")
            source = rtl_in if rtl_in is not None else np.stack(ref_in)
            run_i = LayerRtl(layer, hw.max_frames).run(source)
            expected = np.stack(ref_out)
            mismatches = int(np.count_nonzero(run_i.y != expected))
            row.update(
                bit_exact=mismatches == 0, mismatches=mismatches, rtl_layer_cycles=_mean(run_i.layer_cycles), rtl_load_cycles=_mean(run_i.load_cycles)
            )
            if synth:
                if progress is not None:
                    progress(f"layer {layer.name}: yosys synth_xilinx")
                resources = synthesize_layer(layer, hw.max_frames)
                row["resources"] = {k: v for k, v in resources.items() if k != "cells"}
            rtl_in = run_i.y
        else:
            rtl_in = None
        if layer.kind in ("recurrent", "bidirectional"):
            row["directions"] = _direction_rows(layer, run_i, csim_results)
        layers.append(row)
        ref_in = ref_out
        last_run = run_i
    csim_exact = None
    if last_run is not None and layers[-1]["in_rtl"]:
        csim_exact = bool(np.array_equal(last_run.y, csim.y_raw.reshape(last_run.y.shape)))
    covered = [r for r in layers if r["in_rtl"]]
    ok = bool(covered) and all(r["bit_exact"] for r in covered) and csim_exact is not False
    return {
        "model": hw.name,
        "samples": int(len(x)),
        "frames": int(x.shape[1]),
        "clock_ns": hw.clock_period,
        "layers": layers,
        "csim_exact": csim_exact,
        "ok": ok,
    }


def _fmt(v) -> str:
    if v is None:
        return "-"
    return f"{v:.0f}" if isinstance(v, float) else str(v)


def format_text(result: dict) -> str:
    """A table per layer and direction: RTL cycles, C simulation's counted cycles, ideal cycles, bit-exactness."""
    head = (
        f"{'layer':<18} {'dir':<9} {'steps':>5} {'ideal':>7} {'eng RTL':>8} {'eng csim':>8} "
        f"{'sweep RTL':>9} {'sweep csim':>10} {'layer RTL':>9} {'layer csim':>10} {'exact':>6}"
    )
    lines = [
        f"RTL of {result['model']}: {result['samples']} sample(s) of {result['frames']} frames; cycles are means per sample",
        head,
        "-" * len(head),
    ]
    for r in result["layers"]:
        exact = "-" if r["bit_exact"] is None else ("yes" if r["bit_exact"] else f"NO ({r['mismatches']})")
        if not r["in_rtl"]:
            lines.append(
                f"{r['layer']:<18} {'-':<9} {'':>5} {'':>7} {'':>8} {'':>8} {'':>9} {'':>10} {'not in RTL':>9} "
                f"{_fmt(r['csim_layer_cycles']):>10} {'-':>6}"
            )
            lines.append(f"{'':<18} ({r['reason']})")
            continue
        for k, d in enumerate(r["directions"]):
            layer_cols = f"{_fmt(r['rtl_layer_cycles']):>9} {_fmt(r['csim_layer_cycles']):>10} {exact:>6}" if k == 0 else ""
            lines.append(
                f"{r['layer'] if k == 0 else '':<18} {d['direction']:<9} {d['steps']:>5} {_fmt(d['ideal_cycles']):>7} "
                f"{_fmt(d['rtl_engine_cycles']):>8} {_fmt(d['csim_engine_cycles']):>8} {_fmt(d['rtl_sweep_cycles']):>9} "
                f"{_fmt(d['csim_sweep_cycles']):>10} {layer_cols}"
            )
        if r["resources"] is not None:
            res = r["resources"]
            lines.append(
                f"{'':<18} yosys synth_xilinx: LUT {res['LUT']}, FF {res['FF']}, DSP {res['DSP']}, BRAM18 {res['BRAM18']}, LUTRAM {res['LUTRAM']}"
            )
    lines.append(
        "eng = kernel + recurrent engine cycles (the two chains overlap: W x_{t+1} beside U h_t); sweep = a direction's "
        "steps; layer = start to done, both directions at once; streaming the input in is not part of it."
    )
    if result["csim_exact"] is not None:
        lines.append(f"RTL output equals the C simulation bit for bit: {'yes' if result['csim_exact'] else 'NO'}")
    lines.append("RTL bit-exact with the reference on every covered layer: " + ("yes" if result["ok"] else "NO"))
    return "\n".join(lines)


def to_json(result: dict) -> str:
    return json.dumps(result, indent=2)
