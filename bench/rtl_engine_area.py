"""Yosys resources of one sparse engine of a converted model's recurrent layer, as the RTL twin builds it.

    python bench/rtl_engine_area.py --lanes 4 --balancing static [--bank-lanes 2] [--engine recurrent]
                                    [--model projects/kws_speech/model.keras] [--config projects/kws_speech/config.yml]
                                    [--json FILE] [--log FILE]

The model is converted with its config and ``Model: Lanes / LaneBalancing / BankLanes`` set from the
command line; the first recurrent layer's forward cell gives the engine (``kernel``, ``recurrent`` or
``recurrent_h``): its MxvConfig and its weights in the converter's banks.  ``masr_mxv`` is synthesised
with the cell's parameters (``VEC=1``, ``Y_ALL=1``: every row's result at once, as the gate units read
them; the FIFO depth the converter chose) and banks exactly as large as the weights need, by ``yosys synth_xilinx -family xc7 -flatten``
(``masr_hls.rtl.engine.run_yosys``).  Prints one JSON line: the configuration, BRAM18 / LUT / FF / DSP
/ LUTRAM and Yosys's wall-clock seconds.
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


if __name__ == "__main__":
    main()
