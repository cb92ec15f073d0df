"""The RTL twin on the trained speech models: each layer the twin holds, simulated with Verilator on held-out clips,
against the numpy reference bit for bit and against the C simulation cycle for cycle, per lane count and balancing.

    python bench/rtl_speech.py [--models kws_speech,ds2_speech] [--lanes 4,16,64] [--balancing static,dynamic]
                               [--samples 4] [--json rtl_speech.jsonl]

The models are the projects' recipes' (build/<name>/model.keras, as bench/headline.py loads them), converted with
their project's config.yml and every layer's Lanes and LaneBalancing set as asked (BankLanes and FifoDepth at their
defaults).  Per layer and direction it prints the RTL's engine and sweep cycles beside the C simulation's count; the
run fails (exit 1) on any output bit or cycle that differs.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from headline import keyword_clips  # noqa: E402 - the bench folder is on the path only now
from workloads import parse_lanes  # noqa: E402

MODELS = ("kws_speech", "ds2_speech")  # the keyword-set models: their held-out clips come from load_kws


def convert(name: str, lanes: int, balancing: str):
    import keras

    import masr_hls

    path = ROOT / "build" / name / "model.keras"
    if not path.exists():
        sys.exit(f"{path.relative_to(ROOT)} is missing: run projects/{name}/recipe.py --out build/{name} first")
    config = yaml.safe_load((ROOT / "projects" / name / "config.yml").read_text())
    config["Model"].update(Lanes=lanes, LaneBalancing=balancing)
    for layer in config.get("LayerName", {}).values():
        layer.update(Lanes=lanes, LaneBalancing=balancing)
    out = ROOT / "build" / "rtl_speech" / f"{name}-{lanes}-{balancing}"
    hm = masr_hls.convert_from_keras_model(keras.models.load_model(path), hls_config=config, output_dir=out, project_name=name)
    return masr_hls.masr_model(hm)


def check(result: dict) -> list[str]:
    """What differs between the RTL and the count (empty when every bit and cycle agrees)."""
    problems = []
    for layer in result["layers"]:
        if not layer["in_rtl"]:
            continue
        if not layer["bit_exact"]:
            problems.append(f"{layer['layer']}: {layer['mismatches']} output values differ")
        if layer["rtl_layer_cycles"] != layer["csim_layer_cycles"]:  # figures of one clip: exact, not a mean
            problems.append(f"{layer['layer']}: layer cycles {layer['rtl_layer_cycles']} in RTL, {layer['csim_layer_cycles']} counted")
        for d in layer["directions"]:
            for what in ("engine", "sweep"):
                rtl, counted = d[f"rtl_{what}_cycles"], d[f"csim_{what}_cycles"]
                if rtl != counted:
                    problems.append(f"{layer['layer']} {d['direction']}: {what} cycles {rtl} in RTL, {counted} counted")
    if result["csim_exact"] is False:
        problems.append("the last layer's outputs differ from the C simulation's")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="kws_speech,ds2_speech", help="comma-separated: kws_speech, ds2_speech")
    parser.add_argument("--lanes", type=parse_lanes, default="4,16,64", help="comma-separated lane counts")
    parser.add_argument("--balancing", default="static,dynamic", help="comma-separated LaneBalancing values")
    parser.add_argument("--samples", type=int, default=4, help="held-out clips simulated per configuration")
    parser.add_argument("--json", type=Path, help="append each configuration's result to this JSON-lines file")
    args = parser.parse_args()
    models, balancings = args.models.split(","), args.balancing.split(",")
    if unknown := [m for m in models if m not in MODELS]:
        parser.error(f"--models: {', '.join(unknown)} unknown; choose from {', '.join(MODELS)}")
    from masr_hls.backend.config import AUTO
    from masr_hls.numerics.lane_balance import BALANCING

    if unknown := [b for b in balancings if b not in (*BALANCING, AUTO)]:
        parser.error(f"--balancing: {', '.join(unknown)} unknown; choose from {', '.join((*BALANCING, AUTO))}")
    if args.samples < 1:
        parser.error("--samples: at least 1")
    from masr_hls.rtl import twin

    failures = 0
    print("cycles summed over the clips, each clip simulated and compared on its own")
    print(f"{'model':<11} {'lanes':>5} {'balancing':<9} {'layer':<8} {'dir':<8} {'engine RTL/count':>17} {'sweep RTL/count':>16} {'bits':>5}  wall")
    for name in models:
        x, _ = keyword_clips(name, args.samples, seed=0)
        for lanes in args.lanes:
            for balancing in balancings:
                hw = convert(name, lanes, balancing)
                t0 = time.perf_counter()
                results = [twin.run(hw, x[s : s + 1]) for s in range(len(x))]  # one clip a run: each figure exact
                wall = time.perf_counter() - t0
                problems = [f"clip {s}: {p}" for s, result in enumerate(results) for p in check(result)]
                for layer in (row for row in results[0]["layers"] if row["in_rtl"]):
                    rows = [next(r for r in result["layers"] if r["layer"] == layer["layer"]) for result in results]
                    exact = "yes" if all(r["bit_exact"] for r in rows) else "NO"
                    for k, d in enumerate(layer["directions"]):
                        engine = "/".join(f"{sum(r['directions'][k][f'{side}_engine_cycles'] for r in rows):.0f}" for side in ("rtl", "csim"))
                        sweep = "/".join(f"{sum(r['directions'][k][f'{side}_sweep_cycles'] for r in rows):.0f}" for side in ("rtl", "csim"))
                        where = f"{name:<11} {lanes:>5} {balancing:<9} {layer['layer']:<8} {d['direction']:<8}"
                        print(f"{where} {engine:>17} {sweep:>16} {exact:>5}  {wall:.0f} s")
                for layer in (row for row in results[0]["layers"] if not row["in_rtl"]):
                    print(f"{name:<11} {lanes:>5} {balancing:<9} {layer['layer']:<8} not in the RTL: {layer['reason']}")
                for p in problems:
                    print(f"  DIFFERS: {p}")
                failures += bool(problems)
                if args.json:
                    with args.json.open("a") as f:
                        for s, result in enumerate(results):
                            record = {"model": name, "lanes": lanes, "balancing": balancing, "clip": s, **json.loads(twin.to_json(result))}
                            f.write(json.dumps(record) + "\n")
    print("every bit and cycle agrees" if not failures else f"{failures} configuration(s) differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
