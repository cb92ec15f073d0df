"""Run Vitis HLS on an exported project and read its synthesis report."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from masr_hls.errors import ToolNotFound, VitisError


def find_tool() -> list[str]:
    if shutil.which("vitis-run"):
        return ["vitis-run", "--mode", "hls", "--tcl"]
    if shutil.which("vitis_hls"):
        return ["vitis_hls", "-f"]
    raise ToolNotFound(
        "Vitis HLS not found on PATH (neither 'vitis-run' nor 'vitis_hls'). Install AMD Vitis and source its "
        "settings64.sh, then run 'masr-hls build' again, or run 'vitis_hls -f build_prj.tcl' in the export folder. "
        "Without Vitis, the testbench and scripts are checked by the test suite (g++ and tclsh)."
    )


def build(project_dir, csim=True, synth=True, cosim=False, export=False) -> str:
    project_dir = Path(project_dir)
    if not (project_dir / "build_prj.tcl").is_file():
        raise FileNotFoundError(f"{project_dir} has no build_prj.tcl; create it with 'masr-hls export'")
    tool = find_tool()
    args = [f"{k}={int(v)}" for k, v in (("csim", csim), ("synth", synth), ("cosim", cosim), ("export", export))]
    cmd = tool + ["build_prj.tcl", "-tclargs", *args] if tool[0] == "vitis_hls" else tool + ["build_prj.tcl", "--", *args]
    proc = subprocess.run(cmd, cwd=project_dir)
    if proc.returncode != 0:
        raise VitisError(f"{' '.join(cmd)} failed (exit {proc.returncode}); see vitis_hls.log in {project_dir}")
    reports = sorted(project_dir.glob("*_prj/solution1/syn/report/csynth.xml"))
    return summarise(reports[0]) if reports else "no synthesis report (synthesis not run)"


def parse_csynth(xml_path) -> dict:
    """Latency (cycles), interval and resources from Vitis HLS' csynth.xml."""
    root = ET.parse(xml_path).getroot()

    def text(path):
        node = root.find(path)
        return node.text.strip() if node is not None and node.text else None

    latency = "PerformanceEstimates/SummaryOfOverallLatency/"
    resources = {r: text(f"AreaEstimates/Resources/{r}") for r in ("BRAM_18K", "DSP", "FF", "LUT", "URAM")}
    return {
        "top": text("RTLDesignHierarchy/TopModule/ModuleName"),
        "clock_ns": text("PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod"),
        "latency_best": text(latency + "Best-caseLatency"),
        "latency_worst": text(latency + "Worst-caseLatency"),
        "interval_min": text(latency + "Interval-min"),
        "interval_max": text(latency + "Interval-max"),
        "resources": {k: v for k, v in resources.items() if v is not None},
    }


def summarise(xml_path) -> str:
    r = parse_csynth(xml_path)
    res = ", ".join(f"{k} {v}" for k, v in r["resources"].items())
    return (
        f"{r['top']}: estimated clock {r['clock_ns']} ns, latency {r['latency_best']}..{r['latency_worst']} cycles, "
        f"interval {r['interval_min']}..{r['interval_max']}; {res}"
    )
