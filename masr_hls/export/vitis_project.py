"""Export a converted model as a self-contained Vitis HLS project, and check it without vendor tools.

The export is written into a temporary folder beside the target and renamed
into place, so an interrupted export never leaves a half-written project.
"""

from __future__ import annotations

import re
import subprocess
import tarfile
from pathlib import Path
from string import Template

import numpy as np

from masr_hls import toolchain
from masr_hls.batches import is_utterances
from masr_hls.files import check_output, templates_dir, write_folder, write_with

TB_INPUT = "tb_data/tb_input_features.dat"
TB_GOLDEN = "tb_data/tb_output_predictions.dat"
PART_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_TCL_SAFE = re.compile(r"[^A-Za-z0-9 _.,:;+=()/@#%^&*~!?<>|'-]")


def tcl_text(text: str) -> str:
    """``text`` safe inside a braced tcl word such as ``{... on MASR}``: braces, brackets, quotes, backslashes,
    ``$`` and control characters (a newline among them) become ``_``."""
    return _TCL_SAFE.sub("_", str(text)).strip() or "model"


def check_part(part: str) -> str:
    """An FPGA part name as Vitis and Vivado spell them (letters, digits, ``-``, ``_``, ``.``); it goes into tcl."""
    if not isinstance(part, str) or not PART_PATTERN.fullmatch(part):
        raise ValueError(f"FPGA part {part!r} is not a part name (letters, digits, '-', '_' and '.' only)")
    return part


def export_files(hw, x) -> dict[str, str]:
    """The exported project: firmware, testbench with golden data from the reference, tcl scripts, README.

    ``x``: a batch, or a list of utterances of any lengths (the testbench reads each sample's frame count)."""
    ref = hw.reference(x)
    x_raw = hw.quantize_utterances(x) if is_utterances(x) else hw.quantize_input(x)
    files = {rel: text for rel, text in hw.project_files().items() if rel != "masr_bridge.cpp"}
    templates = templates_dir() / "project"
    values = dict(
        project=hw.project_name,
        model=tcl_text(hw.name),
        part=check_part(hw.part),
        clock_period=hw.clock_period,
        n_layers=len(hw.layers),
        max_t=hw.max_frames,
        n_in=hw.n_features,
        samples=len(x_raw),
    )
    fill = lambda name: Template((templates / name).read_text()).substitute(values)  # noqa: E731
    files[f"tb/tb_{hw.project_name}.cpp"] = fill("tb.cpp.in")
    files["build_prj.tcl"] = fill("build_prj.tcl.in")
    files["vivado_synth.tcl"] = fill("vivado_synth.tcl.in")
    files["README.md"] = fill("README.md.in")
    files[TB_INPUT] = "".join(f"{len(s)} " + " ".join(map(str, s.ravel())) + "\n" for s in x_raw)
    files[TB_GOLDEN] = "".join(" ".join(map(str, s.ravel())) + "\n" for s in ref.y_raw)
    return files


def export(hw, out_dir, x, force: bool = False, archive: bool = False) -> Path:
    """Write the project to ``out_dir`` (refusing a non-empty folder unless ``force``); optionally a .tar.gz beside it.
    Both appear whole or not at all."""
    out = check_output(out_dir, folder=True)
    if out.exists() and any(out.iterdir()) and not force:
        raise FileExistsError(f"export folder {out} is not empty; choose another or pass --force")
    if archive:
        check_output(out.with_name(out.name + ".tar.gz"))
    x = [np.asarray(u, np.float64) for u in x] if is_utterances(x) else np.asarray(x, np.float64)
    out = write_folder(out, export_files(hw, x), overwrite=force)
    if archive:

        def write_archive(tmp):
            with tarfile.open(tmp, "w:gz") as tar:
                tar.add(out, arcname=out.name)

        write_with(out.with_name(out.name + ".tar.gz"), write_archive)
    return out


def run_testbench(project_dir) -> tuple[bool, str]:
    """Compile the exported testbench with g++ and the ap_types (what csim_design does) and run it in the folder."""
    project_dir = Path(project_dir).resolve()
    top = next(project_dir.glob("tb/tb_*.cpp")).stem.removeprefix("tb_")
    exe = project_dir / "csim_tb"
    cmd = [
        toolchain.compiler(),
        "-std=c++14",
        "-O1",
        "-fno-gnu-unique",
        "-I",
        str(project_dir / "firmware"),
        "-I",
        str(project_dir),
        "-isystem",
        str(toolchain.ap_types_dir()),
        str(project_dir / "tb" / f"tb_{top}.cpp"),
        str(project_dir / "firmware" / f"{top}.cpp"),
        "-o",
        str(exe),
    ]
    build = subprocess.run(cmd, capture_output=True, text=True)
    if build.returncode != 0:
        return False, "testbench did not compile:\n" + build.stderr[-3000:]
    try:
        run = subprocess.run([str(exe)], capture_output=True, text=True, cwd=project_dir, timeout=600)
    finally:
        exe.unlink(missing_ok=True)
    return run.returncode == 0, run.stdout + run.stderr


def absolute_paths(project_dir) -> list[str]:
    """Files that mention an absolute path of this machine (the export must be relocatable)."""
    project_dir = Path(project_dir).resolve()
    needles = {str(project_dir), str(Path.home()), str(templates_dir()), str(toolchain.ap_types_dir())}
    found = []
    for path in project_dir.rglob("*"):
        if path.is_file() and path.suffix in (".h", ".cpp", ".tcl", ".md", ".json", ".dat"):
            text = path.read_text(errors="replace")
            found += [f"{path.relative_to(project_dir)}: {n}" for n in needles if n in text]
    return found
