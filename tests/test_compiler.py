"""The build cache: a build never leaves its temporary folder behind, and a later build clears dead ones."""

import os
import subprocess
import time

import pytest

from masr_hls import toolchain

pytestmark = pytest.mark.csim

GOOD = {"lib.cpp": 'extern "C" int answer() { return 42; }\n'}
BROKEN = {"lib.cpp": 'extern "C" int answer() { return not_declared; }\n'}


def temp_folders(root):
    return sorted(p.name for p in root.glob(toolchain.TMP_PREFIX + "*"))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MASR_HLS_CACHE", str(tmp_path))
    return tmp_path


def test_a_build_is_cached_and_leaves_no_temp_folder(cache):
    lib = toolchain.build_library(GOOD, main="lib.cpp", name="good")
    assert toolchain.load(lib).answer() == 42
    assert toolchain.build_library(GOOD, main="lib.cpp", name="good") == lib
    assert temp_folders(cache) == []


def test_a_failing_compile_leaves_no_temp_folder(cache):
    with pytest.raises(toolchain.CompileError, match="not_declared") as error:
        toolchain.build_library(BROKEN, main="lib.cpp", name="broken")
    assert temp_folders(cache) == []
    kept = [p for p in (cache / "failed").iterdir()]
    assert len(kept) == 1 and (kept[0] / "compile.log").is_file() and str(kept[0]) in str(error.value)


def test_an_interrupted_build_leaves_no_temp_folder(cache, monkeypatch):
    seen = []

    def interrupted(cmd, **kwargs):
        seen.append(cmd)
        raise KeyboardInterrupt

    toolchain.compiler_version()  # cached: the compile below is the first command run
    monkeypatch.setattr(subprocess, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        toolchain.build_library(GOOD, main="lib.cpp", name="interrupted")
    assert len(seen) == 1 and "-o" in seen[0]  # interrupted while compiling, inside its temp folder
    assert temp_folders(cache) == []


def test_stale_temp_folders_go_and_fresh_ones_stay(cache):
    stale, fresh = cache / f"{toolchain.TMP_PREFIX}dead-1", cache / f"{toolchain.TMP_PREFIX}live-2"
    for folder in (stale, fresh):
        folder.mkdir()
        (folder / "half_written.so").write_bytes(b"\0")
    old = time.time() - toolchain.STALE_SECONDS - 60
    os.utime(stale, (old, old))
    toolchain.build_library(GOOD, main="lib.cpp", name="next")
    assert temp_folders(cache) == [fresh.name]


@pytest.mark.parametrize("arithmetic, opt", [("fast", "-O2"), ("ap_fixed", "-O0")])
def test_the_precompiled_header_builds(arithmetic, opt):
    """g++ refusing it is never an error (a build then parses the headers itself), so a header that does not
    compile in the order of masr_pch.h would only cost every build seconds: this says so at once.  The pairs are
    those the suite builds with anyway (the shared cache keeps them)."""
    flags = toolchain.csim_flags(arithmetic, opt)
    pch = toolchain.precompiled_header(flags)
    assert pch is not None, f"masr_pch.h does not compile with {' '.join(flags)}: see {toolchain.cache_dir() / 'failed'}"
    assert pch.with_suffix(".h.gch").is_file()
