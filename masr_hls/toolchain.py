"""Compile HLS C++ with g++ and the open ap_types headers, and load it with ctypes.

Builds are cached by the content of everything that goes into them (sources,
generated headers, our templates, flags and the compiler's version), so a
test run or a ``predict`` never recompiles what it has already built, and
parallel test workers never see a half-written library.  A build works in a
temporary folder (``.tmp-*``) that it renames into place or removes, whatever
happens; temporary folders left by a killed process are removed by a later
build once they are older than :data:`STALE_SECONDS`.

Sources that read ap_types or the MASR headers are compiled with a precompiled
header of both (built once per set of flags and headers, cached beside the
libraries): parsing them is much of a small library's compile time.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
import weakref
from pathlib import Path

import numpy as np

from masr_hls.errors import CompileError
from masr_hls.files import templates_dir


@functools.lru_cache(maxsize=None)
def ap_types_dir() -> Path:
    """Xilinx's open ap_types headers, as shipped inside the installed hls4ml package."""
    import importlib.util

    spec = importlib.util.find_spec("hls4ml")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("hls4ml is not installed; it provides the ap_types headers (pip install hls4ml)")
    path = Path(list(spec.submodule_search_locations)[0]) / "templates" / "vivado" / "ap_types"
    if not (path / "ap_fixed.h").is_file():
        raise FileNotFoundError(f"ap_fixed.h not found under {path}; is the hls4ml installation complete?")
    return path


@functools.lru_cache(maxsize=None)
def compiler() -> str:
    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None:
        raise CompileError(f"C++ compiler {cxx!r} not found on PATH; install g++ (apt-get install g++)")
    return cxx


@functools.lru_cache(maxsize=None)
def compiler_version() -> str:
    return subprocess.run([compiler(), "--version"], capture_output=True, text=True).stdout


@functools.lru_cache(maxsize=None)
def _templates_digest() -> str:
    h = hashlib.sha256()
    root = templates_dir()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in (".h", ".hpp", ".cpp"):
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def cache_dir() -> Path:
    root = Path(os.environ.get("MASR_HLS_CACHE", Path.home() / ".cache" / "masr_hls"))
    root.mkdir(parents=True, exist_ok=True)
    return root


TMP_PREFIX = ".tmp-"  # temporary build folders; finished builds are named <name>-<digest>
STALE_SECONDS = 3600  # far longer than any build: a temporary folder this old has no live owner


def remove_stale_builds(root: Path, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove temporary build folders a killed process left behind; return those removed.

    Only folders untouched for ``older_than`` seconds go, so the live builds of
    parallel workers are never disturbed.
    """
    removed = []
    now = time.time()
    for folder in root.glob(TMP_PREFIX + "*"):
        try:
            stale = folder.is_dir() and now - folder.stat().st_mtime > older_than
        except OSError:
            continue  # another worker removed it meanwhile
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def keep_failed(tmp: Path, name: str, digest: str) -> Path:
    """Move a failed build to ``failed/<name>-<digest>`` (replacing an older failure) for inspection."""
    failed = cache_dir() / "failed" / f"{name}-{digest}"
    failed.parent.mkdir(exist_ok=True)
    shutil.rmtree(failed, ignore_errors=True)
    try:
        tmp.rename(failed)
    except OSError:
        pass  # a parallel failure of the same sources took the name first
    return failed


# -fno-gnu-unique: every generated library names its configurations alike (layer0_cell, fwd_cell, ...);
# without it the static locals of identically named template instances would be shared between
# libraries loaded into one process, and two models would overwrite each other's state.
DEFAULT_FLAGS = ("-std=c++17", "-O2", "-fPIC", "-shared", "-fno-gnu-unique", "-Wall", "-Wno-unused-label", "-Wno-unknown-pragmas")

# The arithmetic of a C simulation (templates/masr/fast_fixed.h): "fast" defines MASR_FAST_CSIM, so
# masr::fixed_t types that fit a native integer are integer-backed and bit-exact with ap_fixed;
# "ap_fixed" keeps Xilinx's ap_fixed everywhere (what synthesis and the exported testbench see).
ARITHMETICS = ("fast", "ap_fixed")
OPTIMISATIONS = ("-O0", "-O1", "-O2", "-O3")
ARITHMETIC_ENV = "MASR_HLS_ARITHMETIC"  # the default arithmetic, "fast" unless set


def default_arithmetic() -> str:
    arithmetic = os.environ.get(ARITHMETIC_ENV, "fast")
    if arithmetic not in ARITHMETICS:
        raise ValueError(f"{ARITHMETIC_ENV}={arithmetic!r}: use one of {ARITHMETICS}")
    return arithmetic


@functools.lru_cache(maxsize=None)
def cpu_flags() -> tuple[str, ...]:
    """``-mpopcnt`` and ``-mavx2`` where this x86 CPU has them: popcounts as one instruction (else a portable
    call) and the fast C simulation's dense dot products on 256-bit vectors (else 128-bit SSE2).  The flags
    are part of a build's cache key, so a library is never reused on a CPU it was not built for."""
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64", "i686", "i386"):
        return ()
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ()
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), [])
    return (("-mpopcnt",) if "popcnt" in flags else ()) + (("-mavx2",) if "avx2" in flags else ())


def csim_flags(arithmetic: str | None = None, opt: str = "-O2") -> tuple[str, ...]:
    """g++ flags of a C simulation library: ``arithmetic`` in ARITHMETICS (default: default_arithmetic()),
    ``opt`` in OPTIMISATIONS."""
    arithmetic = arithmetic or default_arithmetic()
    if arithmetic not in ARITHMETICS:
        raise ValueError(f"arithmetic must be one of {ARITHMETICS}, got {arithmetic!r}")
    if opt not in OPTIMISATIONS:
        raise ValueError(f"opt must be one of {OPTIMISATIONS}, got {opt!r}")
    flags = tuple(opt if f == "-O2" else f for f in DEFAULT_FLAGS) + cpu_flags()
    return flags + (("-DMASR_FAST_CSIM",) if arithmetic == "fast" else ())


PCH_NAME = "masr_pch.h"
PCH_MARKERS = ('"ap_fixed.h"', '"masr/')  # sources that include either parse ap_types


def _pch_text() -> str:
    """ap_types and every MASR header: what a C simulation or module testbench parses before its own code."""
    headers = sorted(p.name for p in (templates_dir() / "masr").glob("*.h"))
    lines = ['#include "ap_fixed.h"', '#include "hls_stream.h"'] + [f'#include "masr/{h}"' for h in headers]
    return "// ap_types and the MASR headers, precompiled once for every build with the same flags.\n" + "\n".join(lines) + "\n"


def precompiled_header(flags: tuple[str, ...]) -> Path | None:
    """``masr_pch.h`` beside its ``.gch`` for ``flags`` (cached by the headers' content); None if g++ refuses.

    A build includes it first (``-include``); g++ reads the ``.gch`` when it was made with matching
    flags and the header text otherwise, so it can only save time, never change a result.
    """
    templates = templates_dir() / "masr"
    h = hashlib.sha256(_pch_text().encode() + " ".join(flags).encode() + compiler_version().encode())
    h.update(str(ap_types_dir()).encode())
    for p in sorted(templates.glob("*.h")):  # read now: the templates may change while a process runs
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    out_dir = cache_dir() / f"pch-{h.hexdigest()[:20]}"
    if (out_dir / f"{PCH_NAME}.gch").is_file():
        return out_dir / PCH_NAME
    if (cache_dir() / "failed" / out_dir.name).is_dir():
        return None  # refused before; the builds parse the headers themselves
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}pch-", dir=cache_dir()))
    try:
        (tmp / PCH_NAME).write_text(_pch_text())
        cmd = [
            compiler(),
            *(f for f in flags if f != "-shared"),
            "-x",
            "c++-header",
            "-I",
            str(templates_dir()),
            "-isystem",
            str(ap_types_dir()),
            str(tmp / PCH_NAME),
            "-o",
            str(tmp / f"{PCH_NAME}.gch"),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            (tmp / "compile.log").write_text(" ".join(cmd) + "\n" + proc.stderr)
            keep_failed(tmp, "pch", out_dir.name.removeprefix("pch-"))
            return None
        try:
            tmp.rename(out_dir)
        except OSError:
            pass  # a parallel build made the same header first
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir / PCH_NAME


def build_library(
    sources: dict[str, str],
    main: str,
    name: str = "lib",
    extra_include_dirs: tuple[Path, ...] = (),
    flags: tuple[str, ...] | None = None,
    arithmetic: str | None = None,
    opt: str = "-O2",
) -> Path:
    """Compile ``sources[main]`` (the other sources are files it includes) into a shared library.

    ``sources`` maps relative file paths to their text; they are written into one build
    folder whose path is derived from their content, so identical requests
    share one build.  ``flags`` (default: ``csim_flags(arithmetic, opt)``) are passed to g++.
    """
    if flags is None:
        flags = csim_flags(arithmetic, opt)
    h = hashlib.sha256()
    for key in sorted(sources):
        h.update(key.encode() + b"\0" + sources[key].encode() + b"\0")
    for d in extra_include_dirs:
        h.update(str(d).encode())
    h.update(" ".join(flags).encode() + compiler_version().encode() + _templates_digest().encode())
    digest = h.hexdigest()[:20]
    out_dir = cache_dir() / f"{name}-{digest}"
    lib = out_dir / f"{name}.so"
    if lib.is_file():
        return lib

    remove_stale_builds(cache_dir())
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{name}-", dir=cache_dir()))
    try:
        for fname, text in sources.items():
            (tmp / fname).parent.mkdir(parents=True, exist_ok=True)
            (tmp / fname).write_text(text)
        cmd = [compiler(), *flags, "-I", str(tmp), "-I", str(templates_dir())]
        for d in extra_include_dirs:
            cmd += ["-I", str(d)]
        pch = precompiled_header(flags) if any(m in text for text in sources.values() for m in PCH_MARKERS) else None
        if pch is not None:
            cmd += ["-include", str(pch)]
        cmd += ["-isystem", str(ap_types_dir()), str(tmp / main), "-o", str(tmp / f"{name}.so")]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            (tmp / "compile.log").write_text(" ".join(cmd) + "\n" + proc.stderr)
            kept = keep_failed(tmp, name, digest)
            raise CompileError(f"g++ failed to compile {main} (sources and compile.log in {kept}):\n" + _first_errors(proc.stderr))
        try:
            tmp.rename(out_dir)  # atomic: a parallel build of the same content may have won
        except OSError:
            pass  # the finally removes our copy
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already after a rename; else never left behind
    return lib


def _first_errors(stderr: str, limit: int = 40) -> str:
    lines = [line for line in stderr.splitlines() if "error" in line or "note:" not in line]
    return "\n".join(lines[:limit])


def load(lib: Path) -> ctypes.CDLL:
    return ctypes.CDLL(str(lib))


THREADS_ENV = "MASR_HLS_THREADS"  # threads of a C simulation; default: the CPUs this process may use


def default_threads() -> int:
    value = os.environ.get(THREADS_ENV)
    if value is None:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{THREADS_ENV}={value!r}: use a positive number of threads")
    return int(value)


_copies: dict[Path, list[ctypes.CDLL]] = {}  # a library's loaded copies; index 0 is the file itself
_holders: dict[tuple[Path, int], weakref.ref] = {}  # (library, copy) -> the object that holds it


def instances(lib: Path, count: int, holder) -> list[ctypes.CDLL]:
    """``count`` loaded instances of the library file ``lib`` that no other live ``holder`` uses.

    A generated library keeps its layer buffers, figures and run-time weights in static storage, and the dynamic
    loader maps a file (or a hard link to it) once per process, so each instance is a byte copy of its own
    (``<name>.<i>.so`` beside it).  A holder (a model) keeps its instances until it is garbage: two models of one
    shape share the cached library but never an instance, and the threads of a C simulation each run one (ctypes
    releases the GIL during a call).  Fewer instances come back when no copy can be written beside the library.
    """
    lib = Path(lib)
    copies = _copies.setdefault(lib, [])
    mine: list[ctypes.CDLL] = []
    i = 0
    while len(mine) < count:
        other = _holders.get((lib, i))
        if other is None or other() is None or other() is holder:
            if i == len(copies):
                try:
                    copies.append(load(_copy_of(lib, i)))
                except OSError:
                    break  # no room or no write access beside the library: fewer threads, same results
            _holders[lib, i] = weakref.ref(holder)
            mine.append(copies[i])
        i += 1
    if not mine:
        raise CompileError(f"no instance of {lib} is free: no copy of it can be written beside it")
    return mine


def _copy_of(lib: Path, i: int) -> Path:
    """Copy i of a library (the library itself for 0), written atomically: a parallel process may write the same."""
    if i == 0:
        return lib
    copy = lib.with_name(f"{lib.stem}.{i}{lib.suffix}")
    if not copy.is_file():
        tmp = copy.with_name(f"{TMP_PREFIX}{copy.name}.{os.getpid()}")
        shutil.copyfile(lib, tmp)
        os.replace(tmp, copy)
    return copy


def ptr(array: np.ndarray, ctype=ctypes.c_int64):
    """A ctypes pointer into a C-contiguous numpy array of the matching dtype."""
    if not array.flags["C_CONTIGUOUS"]:
        raise ValueError("array must be C-contiguous")
    return array.ctypes.data_as(ctypes.POINTER(ctype))
