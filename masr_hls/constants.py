"""Hardware constants shared by the numpy reference, the HLS C++ and the SystemVerilog twin, defined once.

``templates/masr/constants.h`` and ``templates/rtl/masr_constants.sv`` are generated from this module and
checked in; ``masr_hls.constants.write_generated()`` writes them again, and ``tests/test_constants.py`` fails when
either is stale.  Pipeline depths are the cycle model's (docs/arithmetic.md); an enumeration's order is the
numbering both languages use.  This module imports nothing of masr_hls.
"""

from __future__ import annotations

from pathlib import Path

MASK_BITS = 32  # bits of one bitmask word
SCAN_WORDS = 4  # default: mask words the engine's front end examines per cycle
FIFO_DEPTH = 4  # default: windows with pairs queued between an engine's front and back end

# The C simulation's figures of one layer, as int64 words (the stats block): a direction's figures (kernel engine,
# recurrent engine: pairs, issued, cycles, busiest lane, idlest lane; then cycles and steps), the backward
# direction's after the forward one's, the layer's cycles, then its sequence storage traffic in words (mask words
# and values; docs/arithmetic.md, "Sequence storage"): written on entry (the model's first layer encodes the input
# port's frames), read from its input (every reader), written into its output store.  A dense head puts pairs,
# issued and engine cycles in the first three words.
STATS_PER_DIRECTION = 12
STATS_BACKWARD = STATS_PER_DIRECTION  # where the backward direction's figures start
STATS_LAYER_CYCLES = 2 * STATS_PER_DIRECTION
STATS_ENTRY_WRITTEN = STATS_LAYER_CYCLES + 1
STATS_SEQ_READ = STATS_LAYER_CYCLES + 2
STATS_OUT_WRITTEN = STATS_LAYER_CYCLES + 3
STATS_PER_LAYER = STATS_LAYER_CYCLES + 4

# Pipeline depths (cycles) of the cycle model, name -> (value, what they are).
DEPTHS = {
    "MXV_MAC_DEPTH": (2, "stages after a back-end issue cycle: read + multiply, quantise + accumulate"),
    "MXV_DONE_DEPTH": (1, "the cycle after the last lane: results valid"),
    "ENGINE_START_DEPTH": (1, "the cycle an engine samples start, after its operand is encoded"),
    "GATE_PIPELINE_DEPTH": (4, "cycles after the last gate group issues"),
    "SWEEP_START_DEPTH": (1, "reading frame 0's address before the first kernel chain"),
    "LAYER_DONE_DEPTH": (1, "the cycle the layer signals done"),
    "MERGE_PIPELINE_DEPTH": (2, "Bidirectional merge: state read, merge unit"),
    "HEAD_POST_DEPTH": (2, "dense head: bias add; activation + output quantise"),
    "SOFTMAX_ELEMENTWISE_DEPTH": (4, "subtract + index, exp ROM, leading-one + inverse ROM, multiply + quantise"),
}
MXV_MAC_DEPTH = DEPTHS["MXV_MAC_DEPTH"][0]
MXV_DONE_DEPTH = DEPTHS["MXV_DONE_DEPTH"][0]
ENGINE_START_DEPTH = DEPTHS["ENGINE_START_DEPTH"][0]
GATE_PIPELINE_DEPTH = DEPTHS["GATE_PIPELINE_DEPTH"][0]
SWEEP_START_DEPTH = DEPTHS["SWEEP_START_DEPTH"][0]
LAYER_DONE_DEPTH = DEPTHS["LAYER_DONE_DEPTH"][0]
MERGE_PIPELINE_DEPTH = DEPTHS["MERGE_PIPELINE_DEPTH"][0]
HEAD_POST_DEPTH = DEPTHS["HEAD_POST_DEPTH"][0]
SOFTMAX_ELEMENTWISE_DEPTH = DEPTHS["SOFTMAX_ELEMENTWISE_DEPTH"][0]

ROUNDING_MODES = ("AP_TRN", "AP_TRN_ZERO", "AP_RND", "AP_RND_ZERO", "AP_RND_MIN_INF", "AP_RND_INF", "AP_RND_CONV")
OVERFLOW_MODES = ("AP_WRAP", "AP_SAT", "AP_SAT_ZERO", "AP_SAT_SYM")

# Enumerations: C++ enum name -> (prefix of its constants, the Keras / masr_hls names in their order).
# The SystemVerilog package numbers the same constants alike; the rounding and overflow modes, which the C++
# names through ap_fixed's own enums, exist there only.
ENUMS = {
    "mxv_mode": ("MODE_", ("dense", "weight_sparse", "masr")),
    "cell_kind": ("CELL_", ("gru", "lstm", "simple_rnn")),
    "cell_activation": ("ACT_", ("tanh", "relu", "sigmoid", "hard_sigmoid")),
    "merge_mode": ("MERGE_", ("concat", "sum", "mul", "ave")),
    "head_activation": ("HEAD_", ("linear", "relu", "sigmoid", "tanh", "hard_sigmoid")),
}
SV_ONLY_ENUMS = {"rounding_mode": ("ROUNDING_", ROUNDING_MODES), "overflow_mode": ("OVERFLOW_", OVERFLOW_MODES)}


def enum_constant(enum: str, name: str) -> str:
    """The C++/SV constant of ``name`` in ``enum``, e.g. ('merge_mode', 'sum') -> 'MERGE_SUM'."""
    prefix, names = {**ENUMS, **SV_ONLY_ENUMS}[enum]
    if name not in names:
        raise ValueError(f"{name!r} is not one of {names}")
    return prefix + name.upper().removeprefix("AP_")


def enum_value(enum: str, name: str) -> int:
    """The number both languages give ``name`` in ``enum``."""
    enum_constant(enum, name)
    return {**ENUMS, **SV_ONLY_ENUMS}[enum][1].index(name)


def _int_constants() -> list[tuple[str, int, str]]:
    stats = [
        ("STATS_PER_DIRECTION", STATS_PER_DIRECTION, "stats block: a direction's figures"),
        ("STATS_BACKWARD", STATS_BACKWARD, "stats block: where the backward direction's figures start"),
        ("STATS_LAYER_CYCLES", STATS_LAYER_CYCLES, "stats block: the layer's cycles"),
        ("STATS_ENTRY_WRITTEN", STATS_ENTRY_WRITTEN, "stats block: words the first layer wrote encoding its input on entry"),
        ("STATS_SEQ_READ", STATS_SEQ_READ, "stats block: words read from the layer's input sequence, every reader"),
        ("STATS_OUT_WRITTEN", STATS_OUT_WRITTEN, "stats block: words written into the layer's output store"),
        ("STATS_PER_LAYER", STATS_PER_LAYER, "stats block: words per layer"),
    ]
    return [("MASK_BITS", MASK_BITS, "bits of one bitmask word"), *stats] + [(n, v, why) for n, (v, why) in DEPTHS.items()]


GENERATED = "Generated from masr_hls/constants.py by `masr_hls.constants.write_generated()`: edit that file, not this one."


def cpp_header() -> str:
    lines = [f"// {GENERATED}", "#ifndef MASR_CONSTANTS_H", "#define MASR_CONSTANTS_H", "", "namespace masr {", ""]
    lines += [f"static const int {name} = {value};  // {why}" for name, value, why in _int_constants()]
    lines.append("")
    for enum, (_, names) in ENUMS.items():
        items = ", ".join(f"{enum_constant(enum, n)} = {i}" for i, n in enumerate(names))
        lines.append(f"enum {enum} {{ {items} }};")
    lines += ["", "}  // namespace masr", "", "#endif", ""]
    return "\n".join(lines)


def sv_package() -> str:
    lines = [f"// {GENERATED}", "package masr_constants;", "  /* verilator lint_off UNUSEDPARAM */  // a module uses some of them"]
    lines += [f"  localparam int {name} = {value};  // {why}" for name, value, why in _int_constants()]
    for enum, (_, names) in {**ENUMS, **SV_ONLY_ENUMS}.items():
        lines.append(f"  // {enum}")
        lines += [f"  localparam int {enum_constant(enum, n)} = {i};" for i, n in enumerate(names)]
    lines += ["  /* verilator lint_on UNUSEDPARAM */", "endpackage", ""]
    return "\n".join(lines)


def generated_files(templates: Path) -> dict[Path, str]:
    """Each generated file's path under ``templates`` and its text."""
    return {templates / "masr" / "constants.h": cpp_header(), templates / "rtl" / "masr_constants.sv": sv_package()}


def write_generated() -> None:
    """Write the generated files into the templates (after changing a constant here)."""
    from masr_hls.files import templates_dir

    for path, text in generated_files(templates_dir()).items():
        path.write_text(text)
        print(f"wrote {path}")
