"""hls4ml's own recurrent tests, run against the MASR backend with only the backend name changed.

    python bench/hls4ml_acceptance.py --hls4ml-git PATH [--ref v1.3.0] [--workdir DIR] [-k EXPR] [--backend MASR]

PATH is a git directory (or checkout) of hls4ml's public repository.  The script takes
``test/pytest/test_rnn.py``, ``test_time_distributed.py`` and ``test_dense_unrolled.py``
(``test_resource_unrolled_rnn`` only) at ``--ref``, replaces every backend name they use
('Vivado', 'Vitis', 'Quartus', 'oneAPI') by ``--backend``, passes that backend to the one
``convert_from_keras_model`` call that relies on hls4ml's default backend, and runs them with
hls4ml's own ``conftest.py``.  Cases that became identical after the renaming are run once.
Models, inputs, tolerances and assertions are hls4ml's.  Nothing from hls4ml is kept in this
repository: the files are read from the given checkout into ``--workdir``.

``--backend Vitis --without-masr`` runs the same selection on stock hls4ml's Vitis backend, with
masr_hls hidden from hls4ml's plugin loader, for comparison.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

FILES = {
    "test_rnn.py": None,
    "test_time_distributed.py": None,
    "test_dense_unrolled.py": "test_resource_unrolled_rnn",
}
BACKENDS = ("Vivado", "Vitis", "Quartus", "oneAPI")

# Runs the de-duplicated selection: after renaming, parametrisations differing only by the old
# backend name are the same test.
CONFTEST_TAIL = """

def pytest_collection_modifyitems(config, items):
    seen, keep, dropped = set(), [], []
    for item in items:
        spec = getattr(item, "callspec", None)
        key = (item.fspath.basename, item.originalname, tuple(sorted((k, repr(v)) for k, v in spec.params.items())) if spec else ())
        (dropped if key in seen else keep).append(item)
        seen.add(key)
    items[:] = keep
    config.hook.pytest_deselected(items=dropped)
"""


def read(source: Path, ref: str, path: str) -> str:
    git_dir = source / ".git" if (source / ".git").exists() else source
    return subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{ref}:{path}"], check=True, capture_output=True, text=True).stdout


def rename_backends(text: str, backend: str) -> str:
    for old in BACKENDS:
        text = text.replace(f"'{old}'", f"'{backend}'")
    # test_rnn_parsing converts with hls4ml's default backend (Vivado): name it.
    return text.replace("output_dir=output_dir)\n", f"output_dir=output_dir, backend='{backend}')\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hls4ml-git", type=Path, required=True, help="git directory or checkout of hls4ml")
    parser.add_argument("--ref", default="v1.3.0", help="tag or commit of hls4ml's tests (default: v1.3.0)")
    parser.add_argument("--backend", default="MASR", help="backend name put in place of hls4ml's (default: MASR)")
    parser.add_argument("--workdir", type=Path, help="where the renamed tests and their outputs go (default: a temp dir)")
    parser.add_argument("-k", default=None, help="pytest -k expression")
    parser.add_argument("-n", default="2", help="pytest-xdist workers (default: 2)")
    parser.add_argument("--without-masr", action="store_true", help="hide masr_hls, as if it were not installed")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hls4ml_acceptance_"))
    workdir.mkdir(parents=True, exist_ok=True)
    hide = 'import sys\nsys.modules["masr_hls"] = None  # as if masr_hls were not installed\n' if args.without_masr else ""
    (workdir / "conftest.py").write_text(hide + read(args.hls4ml_git, args.ref, "test/pytest/conftest.py") + CONFTEST_TAIL)
    selection = []
    for name, only in FILES.items():
        (workdir / name).write_text(rename_backends(read(args.hls4ml_git, args.ref, f"test/pytest/{name}"), args.backend))
        selection.append(f"{name}::{only}" if only else name)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rfE",
        "--tb=line",
        "-n",
        args.n,
        "-o",
        "addopts=",
        "--rootdir",
        str(workdir),
        *selection,
    ]
    if args.k:
        command += ["-k", args.k]
    print("in", workdir, ":", " ".join(command), flush=True)
    return subprocess.run(command, cwd=workdir).returncode


if __name__ == "__main__":
    sys.exit(main())
