"""Exported Vitis HLS projects: the testbench passes with g++, the tcl scripts dry-run under tclsh, nothing is lost."""

import shutil
import tarfile

import keras
import numpy as np
import pytest
from builders import chain

import masr_hls
from masr_hls.cli.main import main
from masr_hls.export import tcl_check, vitis
from masr_hls.export import vitis_project as export

pytestmark = pytest.mark.csim
L = keras.layers


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = chain(
        6,
        4,
        L.Bidirectional(L.GRU(5, activation="relu", return_sequences=True), merge_mode="ave"),
        L.Dense(3, activation="softmax"),
        seed=5,
        name="tiny",
    )
    root = tmp_path_factory.mktemp("export")
    hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, output_dir=root / "hls", project_name="tiny"))
    x = np.random.default_rng(0).normal(size=(5, 6, 4))
    return hw, x, export.export(hw, root / "ip", x, archive=True)


def test_exported_testbench_passes_and_is_relocatable(exported, tmp_path):
    _, _, ip = exported
    moved = tmp_path / "elsewhere"
    shutil.copytree(ip, moved)
    ok, log = export.run_testbench(moved)
    assert ok, log
    assert "5 samples, 90 values, 0 mismatches" in log
    assert export.absolute_paths(moved) == []
    with tarfile.open(ip.with_name("ip.tar.gz")) as tar:
        assert "ip/firmware/weights.h" in tar.getnames()


@pytest.mark.parametrize("corruption", ["golden_lsb", "missing_weights"])
def test_corrupted_export_fails_its_checks(exported, tmp_path, corruption):
    _, _, ip = exported
    bad = tmp_path / "bad"
    shutil.copytree(ip, bad)
    if corruption == "golden_lsb":
        golden = bad / export.TB_GOLDEN
        values = golden.read_text().split()
        values[7] = str(int(values[7]) + 1)
        golden.write_text(" ".join(values) + "\n")
        ok, log = export.run_testbench(bad)
        assert not ok and "1 mismatches" in log
    else:
        (bad / "firmware" / "weights.h").unlink()
        ok, log = export.run_testbench(bad)
        assert not ok and "weights.h" in log
        (bad / "firmware" / "tiny.cpp").unlink()
        assert not tcl_check.check_export(bad)[0].ok if shutil.which("tclsh") else True


@pytest.mark.tclsh
def test_tcl_scripts_dry_run(exported):
    _, _, ip = exported
    vitis_run, vivado_run = tcl_check.check_export(ip)
    assert vitis_run.ok, vitis_run.output
    assert vivado_run.ok, vivado_run.output
    commands = [c.split()[0] for c in vitis_run.calls]
    assert commands[-5:] == ["csim_design", "csynth_design", "cosim_design", "export_design", "exit"]
    assert any("set_part xcvu9p-flga2104-2-e" in c for c in vitis_run.calls)
    assert any(c.startswith("create_clock -period 5.0") for c in vitis_run.calls)


@pytest.mark.tclsh
def test_tcl_dry_run_catches_bad_options_and_files(exported, tmp_path):
    _, _, ip = exported
    bad = tmp_path / "bad"
    shutil.copytree(ip, bad)
    script = bad / "build_prj.tcl"
    script.write_text(script.read_text().replace("-flow_target vivado", "-flow-target vivado"))
    run = tcl_check.dry_run(bad, "build_prj.tcl", tcl_check.VITIS_COMMANDS)
    assert not run.ok and "unknown option '-flow-target'" in run.output
    script.write_text(script.read_text().replace("-flow-target", "-flow_target").replace("add_files -tb tb_data", "add_files -tb tb_dat"))
    run = tcl_check.dry_run(bad, "build_prj.tcl", tcl_check.VITIS_COMMANDS)
    assert not run.ok and "file 'tb_dat' does not exist" in run.output


def test_export_refuses_a_non_empty_folder_and_leaves_no_partial_project(exported, tmp_path):
    hw, x, _ = exported
    out = tmp_path / "ip"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="not empty"):
        export.export(hw, out, x)
    assert (out / "notes.txt").read_text() == "keep"
    export.export(hw, out, x, force=True)
    assert not (out / "notes.txt").exists() and (out / "build_prj.tcl").is_file()
    assert not list(tmp_path.glob(".*partial"))


def test_build_without_vitis_says_what_to_do(exported, capsys, monkeypatch):
    _, _, ip = exported
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["build", str(ip), "--synth"]) == 1
    err = capsys.readouterr().err
    assert "Vitis HLS not found" in err and "vitis_hls -f build_prj.tcl" in err


def test_model_build_without_vitis_raises_before_exporting(exported, monkeypatch):
    hw, x, _ = exported
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(vitis.ToolNotFound, match="Vitis HLS not found"):
        hw.build(x)
    assert not (hw.output_dir / "vitis").exists()


def test_csynth_report_is_parsed(tmp_path):
    xml = tmp_path / "csynth.xml"
    xml.write_text(
        "<profile><RTLDesignHierarchy><TopModule><ModuleName>tiny</ModuleName></TopModule></RTLDesignHierarchy>"
        "<PerformanceEstimates><SummaryOfTimingAnalysis><EstimatedClockPeriod>3.9</EstimatedClockPeriod>"
        "</SummaryOfTimingAnalysis><SummaryOfOverallLatency><Best-caseLatency>120</Best-caseLatency>"
        "<Worst-caseLatency>900</Worst-caseLatency><Interval-min>121</Interval-min><Interval-max>901</Interval-max>"
        "</SummaryOfOverallLatency></PerformanceEstimates><AreaEstimates><Resources><BRAM_18K>4</BRAM_18K><DSP>8</DSP>"
        "<FF>1200</FF><LUT>3400</LUT></Resources></AreaEstimates></profile>"
    )
    report = vitis.parse_csynth(xml)
    assert report["latency_worst"] == "900" and report["resources"] == {"BRAM_18K": "4", "DSP": "8", "FF": "1200", "LUT": "3400"}
    assert "latency 120..900 cycles" in vitis.summarise(xml)
