"""The command line's failures: one line on stderr naming the problem, a non-zero exit code, no traceback,
no partial output (no ``.NAME.partial`` beside the target); Ctrl-C exits 130.

Most cases call ``main([...])`` in this process; a few run ``python -m masr_hls.cli.main`` to see what a user
sees (no traceback, the exit code of a real SIGINT).  One small Keras model and its project serve the module.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

import masr_hls
from masr_hls import files
from masr_hls.cli import project as project_module
from masr_hls.cli.main import main
from masr_hls.export import tcl_check

pytestmark = pytest.mark.csim
L = keras.layers
FRAMES, FEATURES = 6, 3


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The model file, a converted project and input files."""
    root = tmp_path_factory.mktemp("cli")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((FRAMES, FEATURES)), L.GRU(4, return_sequences=True, name="gru"), L.Dense(2, name="head")], name="small")
    model.save(root / "m.keras")
    rng = np.random.default_rng(0)
    np.save(root / "x.npy", rng.normal(size=(10, FRAMES, FEATURES)))
    np.save(root / "x2.npy", rng.normal(size=(FRAMES, FEATURES)))
    np.save(root / "x0.npy", np.zeros((0, FRAMES, FEATURES)))
    (root / "afile").write_text("a file, not a folder")
    project_module.convert(root / "m.keras", root / "prj", config_updates={"Lanes": 2})
    return root


def run(argv, capsys) -> tuple[int, str, str]:
    """``main(argv)`` in this process: exit code, stdout, stderr (argparse's exits included)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert "WARNING" not in out  # no plugin or library warning on stdout, whatever the command
    return code, out, err


def assert_one_line_error(code, err, *fragments, expected_code=1):
    assert code == expected_code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("masr-hls ") and ": error: " in lines[0], err
    for fragment in fragments:
        assert fragment in lines[0], err


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in Path(folder).rglob("*partial*"))


def cli_subprocess(args, cwd, **kw):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen(
        [sys.executable, "-m", "masr_hls.cli.main", *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def masr_lines(stderr: str) -> list[str]:
    """Our lines on stderr (TensorFlow's C++ start-up logging aside)."""
    return [line for line in stderr.replace("\r", "\n").splitlines() if line.startswith("masr-hls")]


# ------------------------------------------------------------------ item 3: counts must be positive
@pytest.mark.parametrize(
    "command,option,value",
    [
        ("csim", "--chunk", "-1"),
        ("csim", "--chunk", "0"),
        ("convert", "--lanes", "0"),
        ("convert", "--max-frames", "0"),
        ("export", "--samples", "0"),
        ("report", "--samples", "0"),
        ("rtl", "--samples", "0"),
        ("convert", "--lanes", "two"),
    ],
)
def test_counts_must_be_positive_integers(data, tmp_path, capsys, command, option, value):
    source = data / ("m.keras" if command == "convert" else "prj")
    argv = [command, source, option, value]
    argv += {
        "csim": ["--input", data / "x.npy", "--output", tmp_path / "y.npy"],
        "convert": ["-o", tmp_path / "out"],
        "export": ["-o", tmp_path / "out"],
        "report": ["--json", tmp_path / "r.json"],
        "rtl": [],
    }[command]
    code, out, err = run(argv, capsys)
    assert_one_line_error(code, err, f"argument {option}: expected a positive whole number, got '{value}'", expected_code=2)
    assert out == "" and list(tmp_path.iterdir()) == []


def test_negative_chunk_fails_without_traceback_in_a_process(data):
    proc = cli_subprocess(["csim", "prj", "--input", "x.npy", "--chunk", "-1"], cwd=data)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "Traceback" not in err and out == ""
    assert masr_lines(err) == ["masr-hls csim: error: argument --chunk: expected a positive whole number, got '-1' (see 'masr-hls csim --help')"]


# ------------------------------------------------------------------ item 6: one-line errors, atomic writes
def test_output_onto_an_existing_file(data, capsys):
    for argv in (["convert", data / "m.keras", "-o", data / "afile"], ["export", data / "prj", "-o", data / "afile"]):
        code, out, err = run(argv, capsys)
        assert_one_line_error(code, err, "afile exists and is not a folder")
    assert (data / "afile").read_text() == "a file, not a folder"
    assert leftovers(data) == []


def test_output_under_a_file(data, capsys):
    """A parent that is a regular file: where a read-only parent would fail too, for every writing command."""
    under = data / "afile" / "sub"
    cases = [
        (["convert", data / "m.keras", "-o", under], "convert"),
        (["export", data / "prj", "-o", under], "export"),
        (["report", data / "prj", "--json", under / "r.json"], "report"),
        (["report", data / "prj", "--plots", under], "report"),
        (["csim", data / "prj", "--input", data / "x.npy", "--output", under / "y"], "csim"),
    ]
    for argv, command in cases:
        code, out, err = run(argv, capsys)
        assert_one_line_error(code, err, f"masr-hls {command}: error: cannot create {under}", "is a file, not a folder")
        assert out == ""  # refused before any work is done or printed
    assert leftovers(data) == []


def test_output_under_a_folder_nobody_may_write(data, capsys):
    """A read-only parent, even for root: sysfs refuses new entries to every user, so no chmod is needed."""
    assert Path("/sys").is_dir()
    target = Path("/sys/masr-hls-test")
    cases = [
        ["convert", data / "m.keras", "-o", target / "prj"],
        ["export", data / "prj", "-o", target / "ip"],
        ["report", data / "prj", "--plots", target / "plots"],
        ["report", data / "prj", "--json", target / "r.json"],
    ]
    for argv in cases:
        code, out, err = run(argv, capsys)
        assert_one_line_error(code, err, f"cannot write {argv[-1]}:")
        assert out == ""
    assert not target.exists()


@pytest.mark.parametrize("failure", [PermissionError(13, "Permission denied"), KeyboardInterrupt()])
def test_a_write_that_fails_midway_leaves_nothing(data, tmp_path, capsys, monkeypatch, failure):
    """The third file of every write fails (a permission lost mid-way, Ctrl-C): nothing appears, no temporary stays."""
    real_write_bytes, real_write_text = Path.write_bytes, Path.write_text
    calls = []

    def failing(real):
        def write(self, *args, **kwargs):
            if tmp_path in self.parents:  # the command's own output (not the project that csim rewrites)
                calls.append(self)
                if len(calls) == 3:
                    raise failure
            return real(self, *args, **kwargs)

        return write

    monkeypatch.setattr(Path, "write_bytes", failing(real_write_bytes))
    monkeypatch.setattr(Path, "write_text", failing(real_write_text))
    out_root = tmp_path / "new"  # missing parents are created by the write and removed with it
    for argv in (
        ["convert", data / "m.keras", "-o", out_root / "prj"],
        ["export", data / "prj", "-o", out_root / "ip"],
        ["report", data / "prj", "--input", data / "x.npy", "--plots", out_root / "plots"],
    ):
        calls.clear()
        code, out, err = run(argv, capsys)
        assert len(calls) >= 3, argv
        if isinstance(failure, KeyboardInterrupt):
            assert code == 130 and err.strip().splitlines() == [f"masr-hls {argv[0]}: interrupted"]
        else:
            assert_one_line_error(code, err, f"cannot write {argv[-1]}: Permission denied")
        assert list(tmp_path.iterdir()) == [], sorted(tmp_path.rglob("*"))


def test_single_files_are_written_whole_or_not_at_all(tmp_path, monkeypatch):
    target = tmp_path / "a" / "b" / "r.json"

    def broken(tmp):
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.write_with(target, broken)
    assert list(tmp_path.iterdir()) == []  # the folders it created are gone too
    files.write_file(target, "old")
    with pytest.raises(KeyboardInterrupt):
        files.write_with(target, broken)
    assert target.read_text() == "old" and sorted(p.name for p in target.parent.iterdir()) == ["r.json"]


def test_csim_of_an_empty_batch(data, tmp_path, capsys):
    code, out, err = run(["csim", data / "prj", "--input", data / "x0.npy", "--output", tmp_path / "y.npy"], capsys)
    assert_one_line_error(code, err, "x0.npy: no samples")
    assert out == "" and list(tmp_path.iterdir()) == []


def test_project_file_missing_a_key(data, tmp_path, capsys):
    broken = tmp_path / "prj"
    shutil.copytree(data / "prj", broken)
    meta = json.loads((broken / "masr_project.json").read_text())
    del meta["part"]
    (broken / "masr_project.json").write_text(json.dumps(meta))
    code, out, err = run(["csim", broken, "--input", data / "x.npy"], capsys)
    assert_one_line_error(code, err, "masr_project.json: not a valid masr-hls project file (no key 'part')")


def test_missing_sources_are_named(data, tmp_path, capsys):
    for argv, fragment in (
        (["export", tmp_path / "nosuch", "-o", tmp_path / "ip"], "nosuch not found: give a folder"),
        (["csim", tmp_path, "--input", data / "x.npy"], "is not a masr-hls project"),
        (["csim", data / "prj", "--input", tmp_path], "is a folder, not a .npy file"),
        (["convert", tmp_path / "m.keras", "-o", tmp_path / "prj"], "m.keras not found"),
    ):
        code, out, err = run(argv, capsys)
        assert_one_line_error(code, err, fragment)
    assert list(tmp_path.iterdir()) == []


def test_report_json_onto_a_folder_fails_before_the_report(data, tmp_path, capsys):
    code, out, err = run(["report", data / "prj", "--json", tmp_path], capsys)
    assert_one_line_error(code, err, f"{tmp_path} is a folder")
    assert out == ""


def test_tool_errors_are_one_line_and_programming_errors_keep_their_traceback(data, capsys, monkeypatch):
    from masr_hls.model import MasrModel
    from masr_hls.toolchain import CompileError

    def compile_fails(self):
        raise CompileError("g++ failed to compile masr_bridge.cpp (sources and compile.log in /x):\nweights.h:3: error: expected ';'\nline 2\nline 3")

    monkeypatch.setattr(MasrModel, "compile", compile_fails)
    code, out, err = run(["csim", data / "prj", "--input", data / "x.npy"], capsys)
    assert_one_line_error(code, err, "g++ failed to compile", "weights.h:3: error: expected ';'", "(and 2 more lines)")
    for bug in (TypeError("unsupported operand"), KeyError("gru"), IndexError("list index out of range"), RuntimeError("internal")):

        def raise_bug(self, bug=bug):
            raise bug

        monkeypatch.setattr(MasrModel, "compile", raise_bug)
        with pytest.raises(type(bug)):
            main(["csim", str(data / "prj"), "--input", str(data / "x.npy")])
    capsys.readouterr()


def test_a_failing_command_shows_no_traceback_in_a_process(data):
    proc = cli_subprocess(["export", "prj", "-o", "afile/ip"], cwd=data)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "Traceback" not in err and out == ""
    assert masr_lines(err) == ["masr-hls export: error: cannot create afile/ip: afile is a file, not a folder"]


def as_from_a_shell():
    """A child's SIGINT as a shell starts a command: default action, not blocked (a test runner's worker thread
    may pass on an ignored or blocked SIGINT, which would make the child deaf to Ctrl-C)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def signal_state(pid: int) -> str:
    """The SigBlk / SigIgn / SigCgt lines of a process, for a failure message."""
    try:
        return " ".join(line.strip() for line in open(f"/proc/{pid}/status") if line.startswith(("SigBlk", "SigIgn", "SigCgt")))
    except OSError:
        return "(gone)"


def test_ctrl_c_exits_130_and_leaves_nothing(data, tmp_path):
    """A real SIGINT while the C simulation is busy on many samples."""
    np.save(tmp_path / "big.npy", np.random.default_rng(1).normal(size=(60000, FRAMES, FEATURES)))
    args = ["csim", data / "prj", "--input", "big.npy", "--chunk", "1", "--output", "y.npy"]
    proc = cli_subprocess(args, cwd=tmp_path, preexec_fn=as_from_a_shell)
    received = []
    pump = threading.Thread(target=lambda: received.extend(iter(lambda: proc.stderr.read(1), "")), daemon=True)
    pump.start()
    deadline = time.monotonic() + 120
    while "csim:" not in "".join(received):  # the progress bar: the samples are being simulated
        assert proc.poll() is None and time.monotonic() < deadline, "".join(received)
        time.sleep(0.05)
    state = signal_state(proc.pid)
    proc.send_signal(signal.SIGINT)
    out = proc.stdout.read()
    proc.wait(timeout=60)
    pump.join(10)
    err = "".join(received)
    assert proc.returncode == 130, (err[-500:], state)
    assert "Traceback" not in err and masr_lines(err) == ["masr-hls csim: interrupted"]
    assert "wrote" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.npy"]


# ------------------------------------------------------------------ item 7: the smaller ones
def test_a_two_dimensional_input_is_one_sample_everywhere(data, tmp_path, capsys, monkeypatch):
    x2 = data / "x2.npy"
    code, out, err = run(["csim", data / "prj", "--input", x2, "--output", tmp_path / "y"], capsys)
    assert code == 0, err
    assert f"wrote {tmp_path / 'y.npy'}: shape (1, {FRAMES}, 2)" in out  # the file numpy writes, named as written
    assert "\n1 sample;" in out and "bit-exact" in out
    assert [p.name for p in tmp_path.iterdir()] == ["y.npy"]
    assert np.load(tmp_path / "y.npy").shape == (1, FRAMES, 2)

    code, out, err = run(["report", data / "prj", "--input", x2], capsys)
    assert code == 0 and f"1 sample(s) of {FRAMES} frames" in out, err

    code, out, err = run(["export", data / "prj", "-o", tmp_path / "ip", "--input", x2], capsys)
    assert code == 0 and "1 sample in the testbench" in out, err
    assert len((tmp_path / "ip" / "tb_data" / "tb_input_features.dat").read_text().splitlines()) == 1

    from masr_hls.rtl import engine, twin

    seen = {}

    def fake_run(hw, x, **kwargs):  # the RTL simulation itself is test_rtl_model's; here: the input it is given
        seen["shape"] = np.shape(x)
        return {"layers": [{"in_rtl": True}], "ok": True}

    monkeypatch.setattr(engine, "require_tool", lambda name: name)
    monkeypatch.setattr(twin, "run", fake_run)
    monkeypatch.setattr(twin, "format_text", lambda result: "rtl figures")
    code, out, err = run(["rtl", data / "prj", "--input", x2], capsys)
    assert code == 0 and seen["shape"] == (1, FRAMES, FEATURES), err

    np.save(tmp_path / "x4.npy", np.zeros((1, 1, FRAMES, FEATURES)))
    code, out, err = run(["csim", data / "prj", "--input", tmp_path / "x4.npy"], capsys)
    assert_one_line_error(code, err, "expected (samples, frames, features) or one (frames, features) sample")


@pytest.mark.parametrize("kind", ["empty", "garbage", "truncated", "wrong zip"])
def test_a_corrupt_keras_file_is_reported_as_such(data, tmp_path, capsys, kind):
    bad = tmp_path / "bad.keras"
    whole = (data / "m.keras").read_bytes()
    if kind == "empty":
        bad.write_bytes(b"")
    elif kind == "garbage":
        bad.write_bytes(b"not a model\n" * 10)
    elif kind == "truncated":
        bad.write_bytes(whole[: len(whole) // 2])
    else:
        with zipfile.ZipFile(bad, "w") as archive:
            archive.writestr("config.json", "{not json")
    code, out, err = run(["convert", bad, "-o", tmp_path / "prj"], capsys)
    assert_one_line_error(code, err, str(bad))
    assert "not found" not in err.lower()
    assert any(text in err for text in ("is empty", "not a Keras 3 .keras model", "Keras cannot load this model")), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.keras"]


def test_names_that_break_tcl_are_sanitised_in_the_export(tmp_path):
    model = keras.Sequential([keras.Input((4, 2)), L.GRU(3, name='g[0]"$x\\')], name='we{ird}[m]"o$del\\\nnext')
    hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, output_dir=tmp_path / "hls"))
    ip = hw.export(tmp_path / "ip", np.random.default_rng(0).normal(size=(2, 4, 2)))
    description = next(line for line in (ip / "build_prj.tcl").read_text().splitlines() if "config_export" in line)
    assert description.endswith("-description {we_ird__m__o_del??next on MASR}")
    if shutil.which("tclsh"):  # the scripts still run (the dry run is the export tests' own check)
        assert all(run.ok for run in tcl_check.check_export(ip))
    braced = keras.Sequential([keras.Input((4, 2)), L.GRU(3, name="g{x}")])
    with pytest.raises(masr_hls.ConversionError, match=r"layer 'g\{x\}'.*rename the layer"):
        masr_hls.convert_from_keras_model(braced)


def test_a_part_that_would_break_tcl_is_refused(data, tmp_path, capsys):
    code, out, err = run(["convert", data / "m.keras", "-o", tmp_path / "prj", "--part", "xcvu9p}; exec rm"], capsys)
    assert_one_line_error(code, err, "FPGA part 'xcvu9p}; exec rm' is not a part name")
    assert list(tmp_path.iterdir()) == []


def test_softmax_on_the_last_axis_converts_as_axis_2(tmp_path):
    keras.utils.set_random_seed(2)
    x = np.random.default_rng(3).normal(size=(3, 5, 3))
    outputs = []
    for axis in (2, -1):
        model = keras.Sequential([keras.Input((5, 3)), L.GRU(4, return_sequences=True), L.Dense(3), L.Softmax(axis=axis)])
        hw = masr_hls.masr_model(masr_hls.convert_from_keras_model(model, output_dir=tmp_path / f"axis{axis}"))
        outputs.append(hw.reference(x).y)
        assert np.max(np.abs(outputs[-1] - model.predict(x, verbose=0))) < 0.02
        assert np.allclose(outputs[-1].sum(axis=-1), 1.0, atol=0.01)


@pytest.mark.parametrize(
    "layers,shape,name,cls",
    [
        (lambda: [L.Embedding(10, 4, name="emb"), L.GRU(4)], (5,), "emb", "Embedding"),
        (lambda: [L.ConvLSTM1D(2, 3, name="clstm")], (5, 6, 2), "clstm", "ConvLSTM1D"),
    ],
)
def test_embedding_and_convlstm_are_refused_by_name(data, tmp_path, capsys, layers, shape, name, cls):
    model = keras.Sequential([keras.Input(shape), *layers()])
    model.save(tmp_path / "m.keras")
    code, out, err = run(["convert", tmp_path / "m.keras", "-o", tmp_path / "prj"], capsys)
    assert_one_line_error(code, err, f"layer '{name}': {cls} is not supported by masr_hls")
    assert not (tmp_path / "prj").exists()


def test_successful_commands_print_no_warning(data, tmp_path):
    """The installed entry point as a user runs it: the plugin and libraries print no WARNING on stdout."""
    proc = cli_subprocess(["convert", data / "m.keras", "-o", tmp_path / "prj", "--lanes", "2"], cwd=tmp_path)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert out.startswith(f"wrote {tmp_path / 'prj'}: 2 layers") and "WARNING" not in out and "Traceback" not in err
