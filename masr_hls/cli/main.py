"""The ``masr-hls`` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from masr_hls.backend.config import DEFAULT_CLOCK_PERIOD, DEFAULT_PART, DEFAULT_PROJECT_NAME
from masr_hls.errors import MasrError
from masr_hls.quiet import load_tensorflow

WITHOUT_KERAS = ("selfcheck", "build", "lint-hls")  # commands that never read a Keras model

DESCRIPTION = """\
masr-hls turns trained Keras sparse recurrent models into MASR accelerator
hardware (HLS C++), proven bit for bit against a numpy fixed-point reference.

Start with:
  masr-hls selfcheck                      C-simulate every module against the reference
  masr-hls convert model.keras -o prj     convert a trained model into an HLS project
  masr-hls csim prj --input x.npy         run the project's C simulation on inputs, cross-checked
  masr-hls report prj --input x.npy       densities, pairs, cycles, utilisation, storage (--plots DIR)
  masr-hls rtl prj --input x.npy          simulate the GRU/LSTM layers as RTL with Verilator (--synth: Yosys)
  masr-hls export prj -o ip               write a Vitis HLS IP project with its testbench
  masr-hls build ip --synth               run Vitis HLS on it (when installed)
"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors: the problem and where to read more, no usage dump."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _selfcheck(args) -> int:
    from masr_hls.csim import selfcheck

    results = selfcheck.run(seed=args.seed)
    print(selfcheck.format_table(results))
    return 0 if all(r.ok for r in results) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="masr-hls", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser(
        "selfcheck",
        help="C-simulate the bundled MASR modules against the numpy reference and print the comparison",
        description="Compile each MASR module with g++ and the ap_types headers, run it on random sparse data "
        "and compare every output bit and every cycle count with the numpy reference.",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed for the generated cases (default: 0)")
    p.set_defaults(func=_selfcheck)

    p = sub.add_parser(
        "convert",
        help="convert a trained Keras model (.keras) into a MASR HLS project",
        description="Read a Keras 3 model (GRU/LSTM/SimpleRNN, Bidirectional, Dense heads), quantise and encode its "
        "sparse weights, and write an HLS C++ project built from MASR's modules. The project folder also keeps the "
        "model and the configuration, so 'masr-hls csim' can run it later.",
        epilog="Example: masr-hls convert kws.keras -o build/kws --lanes 8 --config kws.yml",
    )
    p.add_argument("model", help="the trained model, a Keras 3 .keras file")
    p.add_argument("-o", "--output-dir", required=True, help="folder for the HLS project (must be empty or absent)")
    p.add_argument("--config", help="YAML configuration (Model defaults and LayerName overrides; see docs/config.md)")
    p.add_argument("--lanes", type=positive_int, help="engine lanes for every layer (overrides the configuration's Model.Lanes)")
    p.add_argument("--mode", choices=("masr", "weight_sparse", "dense"), help="engine mode (default: masr)")
    p.add_argument("--max-frames", type=positive_int, help="frames the hardware holds (default: the model's input length)")
    p.add_argument("--project-name", default=DEFAULT_PROJECT_NAME, help=f"C name of the top function (default: {DEFAULT_PROJECT_NAME})")
    p.add_argument("--part", default=DEFAULT_PART, help=f"FPGA part (default: {DEFAULT_PART})")
    p.add_argument("--clock-period", type=float, default=DEFAULT_CLOCK_PERIOD, help=f"target clock period in ns (default: {DEFAULT_CLOCK_PERIOD:g})")
    p.add_argument("--force", action="store_true", help="overwrite a non-empty output folder")
    p.set_defaults(func=_convert)

    p = sub.add_parser(
        "csim",
        help="C-simulate a converted project on inputs from a .npy file and cross-check it",
        description="Compile the project's C simulation (cached), run it on every sample of the input (one native "
        "call per chunk of samples), compare it bit for bit with the numpy reference, check that the reference run "
        "with widened types agrees with Keras to 1e-3 of the output scale, and report the quantisation error "
        "(docs/accuracy.md).",
        epilog="Example: masr-hls csim build/kws --input x.npy --output y.npy",
    )
    p.add_argument("project", help="a folder written by 'masr-hls convert'")
    p.add_argument(
        "--input",
        required=True,
        help=".npy array (samples, frames, features) ((frames, features) is one sample), or .npz of utterances of any "
        "lengths, one (frames, features) array each (--output is then an .npz of their outputs, under the same names)",
    )
    p.add_argument("--output", help="write the C simulation's outputs to this .npy file ('.npy' is appended when missing)")
    p.add_argument("--no-check", action="store_true", help="skip the cross-check against the reference and Keras")
    p.add_argument("--chunk", type=positive_int, default=256, help="samples per native call (default: 256)")
    p.set_defaults(func=_csim)

    p = sub.add_parser(
        "export",
        help="export a Vitis HLS IP project (firmware, C testbench with golden data, tcl scripts)",
        description="Write a self-contained, relocatable Vitis HLS project: our headers, the generated configuration, "
        "weights as ROM initialisers, a C testbench whose golden outputs come from the numpy reference, build_prj.tcl "
        "(csim, csynth, cosim, export as ip_catalog) and vivado_synth.tcl (out-of-context synthesis).",
        epilog="Example: masr-hls export build/kws -o ip/kws --input x.npy --archive",
    )
    p.add_argument("project", help="a folder written by 'masr-hls convert', or a .keras model (default configuration)")
    p.add_argument("-o", "--output-dir", required=True, help="the export folder (must be empty or absent)")
    p.add_argument(
        "--input",
        help=".npy testbench inputs, (samples, frames, features) or one (frames, features) sample, or .npz of utterances of any "
        "lengths (default: random sparse inputs)",
    )
    p.add_argument("--samples", type=positive_int, default=8, help="random testbench samples when --input is not given (default: 8)")
    p.add_argument("--archive", action="store_true", help="also write OUTPUT_DIR.tar.gz")
    p.add_argument("--force", action="store_true", help="replace a non-empty export folder")
    p.set_defaults(func=_export)

    p = sub.add_parser(
        "report",
        help="per layer and direction: densities, pairs, ideal and counted cycles, utilisation, storage; PNG plots",
        description="C-simulate the samples of --input (or random sparse inputs) and print, per layer and direction: "
        "weight density, activation density over the whole data (all inputs, kernel-engine inputs x and recurrent "
        "state h), non-zero pairs, ideal and counted engine cycles, utilisation, lane load spread and weight storage "
        "in bits (dense, MASR bitmask, EIE-style CSC); then cycles per inference and per frame at the clock. "
        "Pairs and cycles are means per inference.",
    )
    p.add_argument("project", help="a folder written by 'masr-hls convert'")
    p.add_argument("--input", help=".npy inputs, (samples, frames, features) or one (frames, features) sample (default: random sparse inputs)")
    p.add_argument("--samples", type=positive_int, help="use the first N samples of --input (default: all; 16 random ones without --input)")
    p.add_argument("--json", help="also write the figures as JSON to this file")
    p.add_argument("--plots", metavar="DIR", help="also write PNG charts (density.png, cycles.png, storage.png) into DIR")
    p.set_defaults(func=_report)

    p = sub.add_parser(
        "rtl",
        help="simulate the project's GRU/LSTM layers as RTL (Verilator) against the reference and the C simulation",
        description="Generate MASR's SystemVerilog for every GRU or LSTM layer (unidirectional or Bidirectional), "
        "simulate it with Verilator on the inputs, and print per layer and direction: RTL cycles "
        "beside the C simulation's counted cycles and the ideal, and whether the outputs are bit-exact. Layers the RTL "
        "does not cover are listed as 'not in RTL'. With --synth, yosys synth_xilinx gives LUT/FF/DSP/BRAM per layer. "
        "Exits non-zero when a covered layer is not bit-exact or Verilator/Yosys is missing.",
        epilog="Example: masr-hls rtl build/kws --input x.npy --samples 4 --synth --json engine.json",
    )
    p.add_argument("project", help="a folder written by 'masr-hls convert'")
    p.add_argument("--input", help=".npy inputs, (samples, frames, features) or one (frames, features) sample (default: random sparse inputs)")
    p.add_argument("--samples", type=positive_int, default=1, help="samples to simulate (default: 1)")
    p.add_argument("--synth", action="store_true", help="also run yosys synth_xilinx on each layer's design")
    p.add_argument("--json", help="also write the figures as JSON to this file")
    p.set_defaults(func=_rtl)

    p = sub.add_parser(
        "build",
        help="run Vitis HLS on an exported project and summarise its reports",
        description="Run build_prj.tcl with vitis-run (Vitis 2024.1+) or vitis_hls, whichever is on PATH, then parse "
        "the synthesis report (latency, initiation interval, resources). Without --csim/--synth/--cosim/--export, "
        "runs csim and synth.",
    )
    p.add_argument("project", help="a folder written by 'masr-hls export'")
    for step, text in (
        ("csim", "C simulation"),
        ("synth", "C synthesis"),
        ("cosim", "C/RTL co-simulation"),
        ("export", "export the IP (ip_catalog)"),
    ):
        p.add_argument(f"--{step}", action="store_true", help=text)
    p.set_defaults(func=_build)

    p = sub.add_parser(
        "lint-hls",
        help="check the HLS C++ is written as Vitis schedules it (no Vitis needed)",
        description="Compile the synthesis view (__SYNTHESIS__ defined after the ap_types headers) of every MASR header "
        "and of the given projects with g++ -fsyntax-only, and check it: constant loop bounds or LOOP_TRIPCOUNT, no "
        "while or break in a pipelined region and one test per pipelined loop's condition, no dynamic memory, recursion, "
        "long long counters or std:: containers, every #pragma HLS in the function or loop it governs, and no input of a "
        "DATAFLOW region passed to two of its processes. Exits non-zero on any violation.",
        epilog="Example: masr-hls lint-hls build/kws",
    )
    p.add_argument("projects", nargs="*", help="folders written by 'masr-hls convert' (default: the headers only)")
    p.set_defaults(func=_lint_hls)

    p = sub.add_parser(
        "sweep",
        help="explore design points on Dask: convert, C-simulate the evaluation set, store the figures (docs/sweep.md)",
        description="Every design point of the sweep file (models x pruning levels x configuration values) is converted, "
        "C-simulated on the evaluation set (split into tasks of `chunk` samples) and measured: float and fixed-point "
        "accuracy, cycles (mean, 99th percentile), latency, utilisation, weight and activation storage.  Results go "
        "to an SQLite store, one row per point; a stopped sweep resumes where it was.",
        epilog="Example: masr-hls sweep sweep.yml --workers 2; masr-hls sweep sweep.yml --report --plots plots/",
    )
    p.add_argument("spec", help="the sweep file (YAML)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler (default: a LocalCluster on this machine)")
    p.add_argument("--workers", type=positive_int, help="LocalCluster workers (default: one per core)")
    p.add_argument("--report", action="store_true", help="print the stored points instead of running (with --plots: Pareto charts)")
    p.add_argument("--plots", help="with --report: write pareto_latency.png and pareto_storage.png into this folder")
    p.set_defaults(func=_sweep)
    return parser


def _lint_hls(args) -> int:
    from masr_hls import hls_lint

    result = hls_lint.lint_all(args.projects)
    print(result.summary())
    return 0 if result.ok else 1


def _export(args) -> int:
    from masr_hls.cli import project
    from masr_hls.export import vitis_project as export

    _check_folder(args.output_dir, args.force)
    source = Path(args.project)
    if not source.exists():
        raise FileNotFoundError(f"{source} not found: give a folder written by 'masr-hls convert' or a .keras model")
    hw = project.load(source) if source.is_dir() else project.convert_in_memory(source)
    if args.input and str(args.input).endswith(".npz"):
        x = _load_utterances(args.input, hw)[1]
    else:
        x = _load_input(args.input, hw) if args.input else hw.example_input(args.samples)
    out = export.export(hw, args.output_dir, x, force=args.force, archive=args.archive)
    print(f"exported {out} ({_samples(len(x))} in the testbench; golden outputs from the numpy reference)")
    if args.archive:
        print(f"archive {out.with_name(out.name + '.tar.gz')}")
    print(f"next: cd {out} && vitis_hls -f build_prj.tcl   (or: masr-hls build {out} --csim --synth)")
    return 0


def _build(args) -> int:
    from masr_hls.export import vitis

    steps = {k: getattr(args, k) for k in ("csim", "synth", "cosim", "export")}
    if not any(steps.values()):
        steps.update(csim=True, synth=True)
    report = vitis.build(args.project, **steps)
    print(report)
    return 0


def _report(args) -> int:
    from tqdm import tqdm

    from masr_hls import files
    from masr_hls.analysis import report
    from masr_hls.cli import project

    for path, folder in ((args.json, False), (args.plots, True)):  # before any work: nothing printed, then a failure
        if path:
            files.check_output(path, folder=folder)
    hw = project.load(args.project)
    x = _load_input(args.input, hw) if args.input else hw.example_input(args.samples or 16)
    n = len(x) if args.samples is None else min(args.samples, len(x))
    with tqdm(total=n, desc="csim", unit="sample", disable=n < 64) as bar:
        figures = report.build_report(hw, x, args.samples, progress=bar.update)
    print(report.format_text(figures))
    if args.json:
        print(f"wrote {report.write_json(figures, args.json)}")
    if args.plots:
        print("wrote " + ", ".join(str(p) for p in report.write_plots(figures, args.plots)))
    return 0


def _rtl(args) -> int:
    from masr_hls import files
    from masr_hls.cli import project
    from masr_hls.rtl import engine, twin

    if args.json:
        files.check_output(args.json)
    try:  # before any work: the simulation needs Verilator, --synth needs Yosys
        engine.require_tool("verilator")
        if args.synth:
            engine.require_tool("yosys")
    except engine.ToolNotFound as exc:
        print(f"masr-hls rtl: error: {exc}", file=sys.stderr)
        return 3
    hw = project.load(args.project)
    x = _load_input(args.input, hw) if args.input else hw.example_input(args.samples)
    result = twin.run(hw, x, synth=args.synth, samples=args.samples, progress=lambda text: print(text, file=sys.stderr))
    print(twin.format_text(result))
    if args.json:
        print(f"wrote {files.write_file(args.json, twin.to_json(result))}")
    if not any(layer["in_rtl"] for layer in result["layers"]):
        print("masr-hls rtl: error: no layer of this model is in the RTL", file=sys.stderr)
        return 1
    if not result["ok"]:
        print("masr-hls rtl: error: the RTL output is not bit-exact", file=sys.stderr)
        return 1
    return 0


def _convert(args) -> int:
    from masr_hls.cli import project

    updates = {k: v for k, v in (("Lanes", args.lanes), ("Mode", args.mode), ("MaxFrames", args.max_frames)) if v is not None}
    hw = project.convert(
        args.model,
        args.output_dir,
        config_path=args.config,
        config_updates=updates,
        project_name=args.project_name,
        part=args.part,
        clock_period=args.clock_period,
        force=args.force,
    )
    print(
        f"wrote {hw.output_dir}: {len(hw.layers)} layers, top function {hw.project_name}, "
        f"{hw.max_frames} frames x {hw.n_features} features in, {hw.n_out} out"
    )
    for row in hw.layer_summary():
        print(f"  {row['name']:<24} {row['kind']:<14} {row['shape']:<12} weight density {row['weight_density']:.1%}")
    return 0


def _csim(args) -> int:
    import numpy as np
    from tqdm import tqdm

    from masr_hls import files
    from masr_hls.cli import project

    utterances = str(args.input).endswith(".npz")
    output = files.check_output(_output_path(args.output, utterances)) if args.output else None
    hw = project.load(args.project)
    names, x = _load_utterances(args.input, hw) if utterances else (None, _load_input(args.input, hw))
    hw.compile()
    with tqdm(total=len(x), unit="sample", desc="csim", disable=len(x) < 2 * args.chunk) as bar:
        result = hw.csim(x, chunk=args.chunk, progress=bar.update)
    if output is not None:

        def save(tmp):
            with open(tmp, "wb") as f:
                np.savez(f, **dict(zip(names, result.y))) if utterances else np.save(f, result.y)

        what = f"{len(names)} utterances" if utterances else f"shape {result.y.shape}"
        print(f"wrote {files.write_with(output, save)}: {what}")
    cycles = sum(layer.cycles for layer in result.layers[0])
    print(f"{_samples(len(x))}; cycles per inference (first sample): {cycles} ({cycles * hw.clock_period / 1000:.1f} us at {hw.clock_period} ns)")
    if args.no_check:
        return 0
    check = hw.cross_check(x)
    print(check.summary())
    return 0 if check.ok else 1


def _sweep(args) -> int:
    from masr_hls.sweep import report, run
    from masr_hls.sweep.spec import load_spec
    from masr_hls.sweep.store import ResultStore

    spec = load_spec(args.spec)
    if args.plots and not args.report:
        raise ValueError("--plots goes with --report")
    if not args.report:
        with run.client_for(args.scheduler, args.workers) as client:
            counts = run.run_sweep(spec, client)
        print(f"sweep: {counts['run']} points run, {counts['skipped']} already stored in {counts['store']}")
    rows = ResultStore(spec.store).rows()
    print(report.format_table(rows) if rows else f"sweep: no points stored in {spec.store} yet")
    if args.plots and rows:
        print("wrote " + ", ".join(str(p) for p in report.write_plots(rows, args.plots)))
    return 0


def _output_path(path, utterances: bool):
    from masr_hls import files

    if not utterances:
        return files.npy_path(path)
    return Path(path) if str(path).endswith(".npz") else Path(str(path) + ".npz")


def _load_utterances(path, hw):
    """The utterances of an .npz file (names, (frames, features) arrays) in the file's order, checked before any work."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            names = list(data.files)
            x = [data[name] for name in names]
    except FileNotFoundError:
        raise FileNotFoundError(f"input file {path} not found") from None
    except (ValueError, OSError) as exc:
        raise ValueError(f"{path}: not an .npz of numeric arrays ({exc})") from None
    if not x:
        raise ValueError(f"{path}: no utterances")
    for name, utterance in zip(names, x):
        try:
            hw.quantize_utterances([utterance])
        except ValueError as exc:
            raise ValueError(f"{path}: utterance {name!r}: {str(exc).removeprefix('utterance 0: ')}") from None
    return names, x


def _samples(n: int) -> str:
    return f"{n} sample" if n == 1 else f"{n} samples"


def _check_folder(path, force: bool) -> None:
    """An output folder that can be written: not a file, not under a file, empty unless ``force``."""
    from masr_hls import files

    path = files.check_output(path, folder=True)
    if path.is_dir() and any(path.iterdir()) and not force:
        raise FileExistsError(f"folder {path} is not empty; choose another or pass --force")


def _load_npy(path):
    import numpy as np

    try:
        x = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"input file {path} not found") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"input {path} is a folder, not a .npy file") from None
    except ValueError as exc:
        raise ValueError(f"{path}: not a numeric .npy array ({exc})") from None
    if not isinstance(x, np.ndarray):  # an .npz archive
        x.close()
        raise ValueError(f"{path}: an .npz archive; this command takes one .npy array (samples, frames, features)")
    return x


def _load_input(path, hw):
    """The inputs in ``path`` as a batch (samples, frames, features), checked against the model before any work.

    The one place every command (csim, report, export, rtl) reads its inputs: a 2-D (frames, features)
    array is one sample, everywhere (sample counts, C simulation, reference, Keras cross-check, testbench).
    """
    x = _load_npy(path)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"{path}: expected (samples, frames, features) or one (frames, features) sample, got shape {x.shape}")
    if len(x) == 0:
        raise ValueError(f"{path}: no samples (shape {x.shape})")
    try:
        hw.quantize_input(x)  # every check of the values (type, features, frames, finite) before any work
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return x


def _one_line(exc: BaseException) -> str:
    """The message of an expected error on one line: an OS error as 'path: reason'; a tool's multi-line output
    shortened to its first line and first detail line."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        names = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
        return f"{names}: {exc.strerror}"
    if isinstance(exc, OSError) and exc.strerror and len(exc.args) == 2:  # OSError(errno, strerror): no '[Errno n]'
        return exc.strerror
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()] or [type(exc).__name__]
    text = lines[0]
    if len(lines) > 1:
        text = f"{text.rstrip(':')}: {lines[1]}" + (f" (and {len(lines) - 2} more lines)" if len(lines) > 2 else "")
    return text


EXPECTED_ERRORS = (MasrError, OSError, ValueError)  # what a user can cause (see ``main``)


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit code: 0 success, 1 an error or a failed check, 2 a usage error, 130 interrupted.

    What the user can cause is reported as one line on stderr, ``masr-hls COMMAND: error: ...``, without a
    traceback: usage errors (argparse), every ``masr_hls.errors.MasrError`` (a refused model, configuration or
    precision; a missing or failing tool: g++, Verilator, Yosys, Vitis HLS, espeak-ng), ``OSError`` (missing,
    unreadable or unwritable files and folders: FileNotFoundError, FileExistsError, PermissionError, ...) and
    ``ValueError`` (a refused value or input).  Ctrl-C (KeyboardInterrupt) prints
    ``masr-hls COMMAND: interrupted`` and exits 130; every write is atomic, so it leaves no partial output.

    Anything else (TypeError, KeyError, IndexError, AttributeError, AssertionError, a bare RuntimeError, ...)
    is a programming error in masr_hls and is not caught: it ends with its traceback, to be reported.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        if args.command not in WITHOUT_KERAS:
            load_tensorflow()  # before Keras loads it, so that its start-up notices stay out of our output
        return args.func(args)
    except KeyboardInterrupt:
        print(f"masr-hls {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if not isinstance(exc, EXPECTED_ERRORS):
            raise
        print(f"masr-hls {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
