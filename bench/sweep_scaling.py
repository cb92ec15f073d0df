"""masr-hls sweep on 1 worker against 2: the speed-up, and Dask's share of the time.

    python bench/sweep_scaling.py [--samples 300]

A 12-point sweep of the bundled keyword spotter (lanes 4/8/16 x engine mode x one-shot pruning) on
held-out clips, run from an empty store on a LocalCluster of 1 worker, then of 2 (one per core).  Printed
side by side: wall time, the summed time of the tasks themselves (convert + C-simulate + compare), and
the overhead per point = (wall x workers - task time) / points, as a share of a point's task time.  The
overhead includes starting the workers (each imports TensorFlow).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=300, help="held-out clips per point (default 300)")
    args = parser.parse_args(argv)
    from masr_hls.sweep import run
    from masr_hls.sweep.spec import load_spec
    from masr_hls.sweep.store import ResultStore

    spec_text = {
        "models": [str(ROOT / "projects/kws_speech/model.keras")],
        "config": str(ROOT / "projects/kws_speech/config.yml"),
        "grid": {"Model.Lanes": [4, 8, 16], "Model.Mode": ["masr", "weight_sparse"]},
        "pruning": [None, 0.95],
        "data": {"speech": "keywords", "samples": args.samples},
        "chunk": args.samples,
    }
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            path = Path(tmp) / f"sweep{workers}.yml"
            path.write_text(yaml.safe_dump(spec_text))
            spec = load_spec(path)
            t0 = time.perf_counter()
            with run.client_for(workers=workers) as client:
                counts = run.run_sweep(spec, client, progress=False)
            wall = time.perf_counter() - t0
            rows = ResultStore(spec.store).rows()
            task = sum(r["task_seconds"] for r in rows)
            results[workers] = (wall, task, counts["run"])
            overhead = (wall * workers - task) / len(rows)
            print(
                f"{workers} worker(s): {counts['run']} points in {wall:.1f} s; tasks {task:.1f} s "
                f"({task / len(rows):.2f} s per point); overhead {overhead:.2f} s per point = {overhead / (task / len(rows)):.0%} of a point"
            )
    (w1, _, _), (w2, _, _) = results[1], results[2]
    print(f"speed-up 2 workers over 1: {w1 / w2:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
