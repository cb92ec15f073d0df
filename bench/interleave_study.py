"""Interleaved directions against one recurrent engine per direction, on the trained speech models.

    python bench/interleave_study.py [--models kws_speech,ds2_speech] [--lanes 4,16,64] [--samples 40]

Each model is converted at each lane count (its project's config.yml, every layer at `Lanes` lanes, balancing
as converted by default) and its held-out clips (bench/headline.py's seeded choice) go through the bit-exact
numpy reference twice: the Bidirectional layers as built with `Interleave: false` (each direction its own
recurrent engine) and with `Interleave: true` (docs/arithmetic.md, "Interleaved directions").  Outputs are
checked equal.  Per inference, summed over the Bidirectional layers (the dense head is left out):

  layer        the layers' cycles (wall time)
  rec util     recurrent engines: non-zero pairs / (lanes x occupied cycles, summed over the engines): a
               lone engine is occupied for its calls' engine cycles; a shared one for the union of its calls
  rec wall     recurrent pairs / (lanes x recurrent engines x layer cycles): how busy the recurrent MACs are
               over the layer's time
  all util     every engine (kernel and recurrent): pairs / (lanes x occupied cycles), as the issue's targets
  MACs         MACs of the Bidirectional layers' engines (kernel + recurrent, one per lane)
  perf/MAC     (1 / layer cycles) / MACs, relative to not interleaving
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from workloads import parse_lanes  # noqa: E402 - the bench folder is on the path only now

FRAMES = {"kws_speech": (25, 16), "ds2_speech": (49, 20)}


def clips(name: str, samples: int, seed: int) -> np.ndarray:
    from masr_hls.training.speech_data import load_kws

    frames, mels = FRAMES[name]
    _, _, x_test, _, _ = load_kws(cache_dir=ROOT / "build" / "speech_cache", frames=frames, n_mels=mels)
    return x_test[np.sort(np.random.default_rng(seed).permutation(len(x_test))[:samples])]


def convert(model, name: str, lanes: int, tmp: Path):
    import masr_hls

    config = yaml.safe_load((ROOT / "projects" / name / "config.yml").read_text())
    config["Model"]["Lanes"] = lanes
    config["Model"]["Interleave"] = False
    hm = masr_hls.convert_from_keras_model(model, hls_config=config, output_dir=tmp / f"{name}_{lanes}", project_name=name)
    return masr_hls.masr_model(hm)


def measure(hw, x: np.ndarray, interleave: bool) -> dict:
    """Figures per inference of the Bidirectional layers, the directions interleaved or not."""
    from masr_hls.reference.rnn_layer import bidirectional_batch

    h = hw.quantize_input(x)
    out = {"layer": 0, "rec_pairs": 0, "rec_occupied": 0, "rec_engines": 0, "pairs": 0, "occupied": 0, "macs": 0, "lanes": 0}
    for layer in hw.layers:
        if layer.kind != "bidirectional":
            h, _ = layer.reference_batch(h)
            continue
        m = dataclasses.replace(layer.merge, interleave=interleave)
        shared = []
        h, sf, sb, cycles = bidirectional_batch(
            layer.fwd, layer.wf, layer.bwd, layer.wb, m, h, layer.return_sequences, layer.entry, layer.stores_output, schedule=shared
        )
        lanes = layer.fwd.lanes
        rec_pairs = sum(s.recurrent.pairs for s in sf + sb)
        kernel_pairs = sum(s.kernel.pairs for s in sf + sb)
        kernel_cycles = sum(s.kernel.cycles for s in sf + sb)
        n_engines = 2 if layer.fwd.gru_reset_before else 1  # recurrent engines a direction has
        if interleave:
            rec_occupied = int(shared[0].occupied.sum())
            rec_engines = n_engines
        else:
            rec_occupied = sum(s.recurrent.cycles for s in sf + sb)
            rec_engines = 2 * n_engines
        out["layer"] += sum(cycles)
        out["rec_pairs"] += rec_pairs
        out["rec_occupied"] += rec_occupied
        out["pairs"] += rec_pairs + kernel_pairs
        out["occupied"] += rec_occupied + kernel_cycles
        out["rec_lane_cycles"] = out.get("rec_lane_cycles", 0) + lanes * rec_engines * sum(cycles)
        out["macs"] += lanes * (2 + rec_engines)
        out["lanes"] = lanes
        # utilisation figures need lanes per layer: every layer has the model's lanes here
    n = len(x)
    return {
        "layer": out["layer"] / n,
        "rec_util": out["rec_pairs"] / (out["lanes"] * out["rec_occupied"]),
        "rec_wall": out["rec_pairs"] / out["rec_lane_cycles"],
        "all_util": out["pairs"] / (out["lanes"] * out["occupied"]),
        "macs": out["macs"],
        "y": h,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="kws_speech,ds2_speech")
    parser.add_argument("--lanes", type=parse_lanes, default=[4, 16, 64])
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import tempfile

    import keras

    print(
        f"{'model':<11} {'lanes':>5} {'interleave':>10} {'layer cyc':>10} {'rec util':>9} {'rec wall':>9} {'all util':>9} {'MACs':>5} {'perf/MAC':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            model = keras.models.load_model(ROOT / "build" / name / "model.keras")
            x = clips(name, args.samples, args.seed)
            for lanes in args.lanes:
                hw = convert(model, name, lanes, Path(tmp))
                base = measure(hw, x, False)
                for interleave, r in ((False, base), (True, measure(hw, x, True))):
                    if not np.array_equal(r["y"], base["y"]):
                        raise AssertionError(f"{name} at {lanes} lanes: interleaving changed the outputs")
                    per_mac = (base["layer"] * base["macs"]) / (r["layer"] * r["macs"])
                    print(
                        f"{name:<11} {lanes:>5} {str(interleave):>10} {r['layer']:>10,.1f} {r['rec_util']:>9.1%} {r['rec_wall']:>9.1%} "
                        f"{r['all_util']:>9.1%} {r['macs']:>5} {per_mac:>8.2f}x"
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
