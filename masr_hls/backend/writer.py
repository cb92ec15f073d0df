"""The MASR project writer: an hls4ml writer (derived from Vitis') that writes the MASR HLS project.

The project is the MASR headers, the generated configuration and ROM weights of
every layer (from the templates' ``config_cpp``/``weights_cpp``/``function_cpp``),
the top function and the C-simulation bridge.  It is written whole or not at all.
Its C simulation is built from a variant of it that loads the weights at run
time (``project_files(graph, csim=True)``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from string import Template

from hls4ml.writer.vitis_writer import VitisWriter

from masr_hls.backend.config import INTERFACES
from masr_hls.backend.cpp_render import cpp_comment, hls_type
from masr_hls.backend.hardware import STATS_PER_LAYER
from masr_hls.backend.layers import MasrLayer
from masr_hls.backend.templates import c_name, layer_call
from masr_hls.sim import compiler


def write_folder(out: Path, files: dict[str, str | bytes], overwrite: bool = False, keep_others: bool = False) -> Path:
    """Write ``files`` (relative path -> text or bytes) into the folder ``out``; each top-level entry appears whole or not at all.

    A non-empty ``out`` is refused unless ``overwrite``.  The files go to a hidden sibling first and are renamed into
    place: the whole folder, or with ``keep_others`` only the top-level entries written (so a project folder keeps
    what else it holds, such as its model and metadata).  Parent folders it had to create are removed again when
    the write fails or is interrupted.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"folder {out} is not empty; choose another or allow overwriting (--force)")
    created = missing_parents(out)
    tmp = out.with_name(f".{out.name}.partial")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        for rel, text in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(text) if isinstance(text, bytes) else (tmp / rel).write_text(text)
        if not keep_others or not out.exists():
            shutil.rmtree(out, ignore_errors=True)
            tmp.rename(out)
            return out
        for entry in sorted(tmp.iterdir()):
            target = out / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            entry.rename(target)
    except BaseException:
        if created:
            shutil.rmtree(created[-1], ignore_errors=True)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def missing_parents(path: Path) -> list[Path]:
    """The parents of ``path`` that do not exist yet, innermost first."""
    missing = []
    for parent in Path(path).parents:
        if parent.exists():
            break
        missing.append(parent)
    return missing


def masr_nodes(graph) -> list:
    return [node for node in graph.get_layers() if isinstance(node, MasrLayer)]


def project_files(graph, csim: bool = False) -> dict[str, str]:
    """Every file of the HLS project, by relative path.

    ``csim``: the C simulation's variant, which depends on the model's shape and settings only, so that models of
    one shape share its library: lane banks for any weights of the shape, the weights declared and filled at run
    time (templates/masr/csim_weights.h), and no model or layer names.
    """
    info = graph.config.config["MasrModel"]
    project = graph.config.get_project_name()
    templates = compiler.templates_dir()
    fill = lambda name, **kw: Template((templates / "project" / name).read_text()).substitute(project=project, **kw)  # noqa: E731
    nodes = masr_nodes(graph)
    last = nodes[-1].hardware
    # A layer stores a frame's units in one cycle and the next reads a whole frame (its frame reader) or 32 units
    # (an encoder) per cycle: one memory per unit.
    buffers = [f"    static {hls_type(n.hardware.out_t)} layer{i}_out[MAX_T][{n.hardware.n_out}];\n"
               f"#pragma HLS ARRAY_PARTITION variable = layer{i}_out type = complete dim = 2" for i, n in enumerate(nodes[:-1])]
    if csim:
        configs = "".join(n.hardware.cpp_config(c_name(n), any_weights=True) for n in nodes)
        calls = [layer_call(n, named=False) for n in nodes]
        title = "the C simulation of a model converted by masr_hls (its weights are loaded at run time)."
    else:
        configs = "".join(n.get_attr("config_cpp") for n in nodes)
        calls = [n.get_attr("function_cpp") for n in nodes]
        title = f"{model_name(graph)} converted by masr_hls for MASR hardware."
    files = {
        f"firmware/{project}.h": fill("myproject.h.in", guard=f"{project.upper()}_H"),
        "firmware/parameters.h": fill(
            "parameters.h.in", guard="PARAMETERS_H", max_t=info["max_frames"], n_in=info["n_features"], n_out=last.n_out,
            out_frames=info["max_frames"] if info["sequence_output"] else 1, n_layers=len(nodes),
            stats_per_layer=STATS_PER_LAYER, input_t=hls_type(info["input_t"]), output_t=hls_type(last.out_t),
            configs=configs,
        ),
        "firmware/weights.h": csim_weights_header(nodes) if csim else (
            "// Weights of the model as ROM initialisers (generated by masr_hls).\n"
            "#ifndef WEIGHTS_H\n#define WEIGHTS_H\n\n#include \"parameters.h\"\n\n"
            + "".join(n.get_attr("weights_cpp") for n in nodes) + "\n#endif\n"),
        f"firmware/{project}.cpp": fill("myproject.cpp.in", title=title, buffers="\n".join(buffers),
                                        interface="\n".join(INTERFACES[info["config"]["Model"].get("Interface", "array")]),
                                        calls="\n".join(calls)),
        "masr_bridge.cpp": fill("bridge.cpp.in"),
    }
    for header in sorted((templates / "masr").glob("*.h")):
        files[f"firmware/masr/{header.name}"] = header.read_text()
    return files


def csim_weights_header(nodes) -> str:
    """weights.h of the C simulation: every constant declared, and ``load_weights`` filling them in order."""
    roms = [rom for n in nodes for rom in n.hardware.cpp_weights(c_name(n))]
    return ("// Weights of the model, loaded at run time by its C simulation (generated by masr_hls).\n"
            "#ifndef WEIGHTS_H\n#define WEIGHTS_H\n\n#include \"parameters.h\"\n#include \"masr/csim_weights.h\"\n\n"
            + "".join(rom.declaration() for rom in roms)
            + "\n// Fills every constant from the words masr_hls wrote in this order; false if they do not fit.\n"
            "static bool load_weights(masr::word_reader &r) {\n"
            + "".join(f"    masr::load_words(r, {rom.name});\n" for rom in roms)
            + "    masr::csim_weights_loaded();\n    return r.exact();\n}\n\n#endif\n")


def model_name(graph) -> str:
    keras_model = graph.config.config.get("KerasModel")
    return cpp_comment(getattr(keras_model, "name", graph.config.get_project_name()))


class MASRWriter(VitisWriter):
    """Writes the MASR project in place of hls4ml's dense ``nnet_utils`` one."""

    def write_hls(self, model, is_multigraph=False):
        if is_multigraph:
            raise NotImplementedError("the MASR backend writes single-graph projects")
        write_folder(Path(model.config.get_output_dir()), project_files(model), overwrite=True, keep_others=True)
