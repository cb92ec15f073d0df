"""Yosys resources of one sparse engine of a converted model's recurrent layer, as the RTL twin builds it.

    python bench/rtl_engine_area.py --lanes 4 --balancing static [--bank-lanes 2] [--engine recurrent]
                                    [--model projects/kws_speech/model.keras] [--config projects/kws_speech/config.yml]
                                    [--json FILE] [--log FILE] [--per-module]

The model is converted with its config and ``Model: Lanes / LaneBalancing / BankLanes`` set from the
command line; the first recurrent layer's forward cell gives the engine (``kernel``, ``recurrent`` or
``recurrent_h``): its MxvConfig and its weights in the converter's banks.  ``masr_mxv`` is synthesised
with the cell's parameters (``VEC=1``, ``Y_ALL=1``: every row's result at once, as the gate units read
them; the FIFO depth the converter chose) and banks exactly as large as the weights need, by ``yosys synth_xilinx -family xc7 -flatten``
(``masr_hls.rtl.engine.run_yosys``).  Prints one JSON line: the configuration, BRAM18 / LUT / FF / DSP
/ LUTRAM and Yosys's wall-clock seconds.

``--per-module`` synthesises the same design without ``-flatten`` and prints Yosys's ``stat`` of each
module (cells of one instance, then how many instances the hierarchy has): which module holds the
flip-flops and LUTs.  Across module boundaries Yosys then cannot merge an address register into the
memory it addresses or share logic, so the totals differ from the flattened run's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "projects/kws_speech/model.keras"))
    parser.add_argument("--config", default=str(ROOT / "projects/kws_speech/config.yml"))
    parser.add_argument("--lanes", type=int, required=True)
    parser.add_argument("--balancing", choices=("static", "dynamic"), default="static")
    parser.add_argument("--bank-lanes", type=int, default=2)
    parser.add_argument("--engine", choices=("kernel", "recurrent", "recurrent_h"), default="recurrent")
    parser.add_argument("--json", help="append the result line to this file")
    parser.add_argument("--log", help="keep yosys's log here")
    parser.add_argument("--per-module", action="store_true", help="synthesise without -flatten and print the stat of each module")
    args = parser.parse_args()

    from masr_hls.backend.config import load_yaml, validate
    from masr_hls.backend.convert import convert_from_keras_model
    from masr_hls.model import MasrModel
    from masr_hls.rtl import engine

    config = load_yaml(args.config)
    config.setdefault("Model", {}).update({"Lanes": args.lanes, "LaneBalancing": args.balancing, "BankLanes": args.bank_lanes})
    with tempfile.TemporaryDirectory(prefix="masr_area-") as tmp:
        hw = MasrModel.of(convert_from_keras_model(args.model, hls_config=validate(config), output_dir=Path(tmp) / "prj"))
    layer = next(layer for layer in hw.layers if layer.kind in ("recurrent", "bidirectional"))
    cell, weights = (layer.fwd, layer.wf) if layer.kind == "bidirectional" else (layer.cell, layer.weights)
    cfg = getattr(cell, {"kernel": "kernel_config", "recurrent": "recurrent_config", "recurrent_h": "recurrent_h_config"}[args.engine])()
    matrix = weights.matrices[args.engine]
    rows, nnz = engine.bank_sizes(matrix)
    params = dict(engine.rtl_parameters(cfg, rows, nnz), Y_ALL=1, VEC=1)
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="masr_area_synth-") as tmp:
        engine.write_weight_files(Path(tmp), cfg, matrix, rows, nnz)
        if args.per_module:
            print(per_module(Path(tmp), params, args.log))
            return
        found = engine.run_yosys(Path(tmp), engine.TOP, params, engine.DESIGN_SOURCES, keep_log=args.log)
    row = {
        "layer": layer.name,
        "engine": args.engine,
        "shape": f"{cfg.n_out}x{cfg.n_in}",
        "lanes": cfg.lanes,
        "bank_lanes": cfg.bank_lanes,
        "fifo_depth": cfg.fifo_depth,  # the converter's FifoDepth (auto: 4 static, 1 dynamic)
        "bank_rows": rows,
        "bank_nnz": nnz,
        **{k: found[k] for k in ("BRAM18", "LUT", "FF", "DSP", "LUTRAM", "CARRY4")},
        "yosys_seconds": round(time.time() - t0, 1),
    }
    line = json.dumps(row)
    print(line)
    if args.json:
        with open(args.json, "a") as f:
            f.write(line + "\n")


def per_module(folder: Path, params: dict, keep_log: str | None) -> str:
    """Yosys's ``synth_xilinx`` of the engine in ``folder`` without ``-flatten``: per module, FF / LUT / LUTRAM / CARRY4
    of one instance and the instances the design has of it."""
    import re
    import subprocess

    from masr_hls.rtl import engine

    sources = " ".join(str(engine.rtl_dir() / name) for name in engine.DESIGN_SOURCES)
    chparam = " ".join(f"-set {name} {value}" for name, value in params.items())
    script = [f"read_verilog -defer -sv {sources}", f"chparam {chparam} {engine.TOP}"]
    script += [f"synth_xilinx -top {engine.TOP} -family xc7 -noiopad -noclkbuf", "stat"]
    (folder / "synth.ys").write_text("\n".join(script) + "\n")
    subprocess.run(["yosys", "-q", "-l", "synth.log", "-s", "synth.ys"], cwd=folder, check=True, capture_output=True)
    log = (folder / "synth.log").read_text()
    if keep_log:
        Path(keep_log).write_text(log)
    last = log[log.rindex("Printing statistics") :]
    blocks = re.split(r"^=== (.+) ===$", last, flags=re.M)
    counts = {}  # module -> instances in the whole design (the hierarchy lists them per instance of the parent)
    hierarchy = dict(zip(blocks[1::2], blocks[2::2])).get("design hierarchy", "")
    parents = []  # (indent, instances) of the enclosing modules
    for m in re.finditer(r"^(\s+)(\S+)\s+(\d+)\s*$", hierarchy.split("Number of")[0], flags=re.M):
        indent, name, n = len(m.group(1)), m.group(2), int(m.group(3))
        while parents and parents[-1][0] >= indent:
            parents.pop()
        total = n * (parents[-1][1] if parents else 1)
        counts[name] = counts.get(name, 0) + total
        parents.append((indent, total))
    lines = [f"{'module':<60} {'inst':>4} {'FF':>7} {'LUT':>7} {'LUTRAM':>6} {'CARRY4':>6}"]
    for name, body in zip(blocks[1::2], blocks[2::2]):
        if name == "design hierarchy" or "Number of cells" not in body:
            continue
        r = engine.parse_yosys_stat(body)
        lines.append(f"{name[-60:]:<60} {counts.get(name, 1):>4} {r['FF']:>7} {r['LUT']:>7} {r['LUTRAM']:>6} {r['CARRY4']:>6}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
