"""Files and folders masr_hls writes (projects, exports, reports, outputs), and where its templates are.

Checked before any work, written whole or not at all: a file goes to a hidden
sibling (``.NAME.PID.partial``: one per process, so parallel writers of one
file never take each other's) and is renamed into place, a folder likewise
(``.NAME.partial``); a failure or an interrupt leaves the old file or folder
(or none) and no temporary behind, and folders the write had to create are
removed again.
Errors name what the user asked for, never a temporary.  This module is the
bottom layer: it imports nothing of masr_hls.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def templates_dir() -> Path:
    """The HLS C++ templates: packaged next to the code, or the checkout's ``templates/``."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "templates", package.parent / "templates"):
        if (candidate / "masr").is_dir():
            return candidate
    raise FileNotFoundError("masr_hls templates not found; reinstall masr_hls")


def check_output(path, folder: bool = False) -> Path:
    """Refuse, before anything is computed, an output ``path`` that cannot be written: a file where a folder is
    wanted (or the reverse), or a parent that is a file.  Permissions are left to the write itself."""
    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{path} exists and is not a folder")
    if not folder and path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give a file name")
    for parent in path.parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise NotADirectoryError(f"cannot create {path}: {parent} is a file, not a folder")
            _probe(parent, path)
            break
    return path


def _probe(folder: Path, target: Path) -> None:
    """Create and remove a file in ``folder``: permissions, read-only file systems and the like show up here,
    before any work (``os.access`` says yes to root even where it cannot write)."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".masr-probe-")
    except OSError as exc:
        raise unwritable(exc, target) from None
    os.close(fd)
    os.unlink(name)


def unwritable(exc: OSError, target) -> OSError:
    """``exc`` (of the same class) as 'cannot write TARGET: reason', naming what the user asked for rather
    than a temporary file."""
    error = type(exc)(f"cannot write {target}: {exc.strerror or exc}")
    error.errno = exc.errno
    return error


def npy_path(path) -> Path:
    """The file ``numpy.save`` writes for ``path`` (it appends ``.npy`` when missing)."""
    path = Path(path)
    return path if path.suffix == ".npy" else path.with_name(path.name + ".npy")


def write_file(path, data: str | bytes) -> Path:
    """Write ``data`` (text or bytes) to ``path`` atomically; see ``write_with``."""
    return write_with(path, lambda tmp: tmp.write_bytes(data) if isinstance(data, bytes) else tmp.write_text(data))


def write_with(path, write) -> Path:
    """Atomically write the file that ``write(temporary_path)`` produces: a hidden sibling renamed into place.
    Missing parent folders are created, and removed again when the write fails or is interrupted."""
    path = check_output(path)
    created = missing_parents(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if created:
            shutil.rmtree(created[-1], ignore_errors=True)
        if isinstance(exc, OSError) and exc.strerror is not None:
            raise unwritable(exc, path) from None
        raise
    return path


def write_folder(out, files: dict[str, str | bytes], overwrite: bool = False, keep_others: bool = False) -> Path:
    """Write ``files`` (relative path -> text or bytes) into the folder ``out``; each top-level entry appears whole or not at all.

    A non-empty ``out`` is refused unless ``overwrite``.  The files go to a hidden sibling first and are renamed into
    place: the whole folder, or with ``keep_others`` only the top-level entries written (so a project folder keeps
    what else it holds, such as its model and metadata).  Parent folders it had to create are removed again when
    the write fails or is interrupted.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"folder {out} is not empty; choose another or allow overwriting (--force)")
    created = missing_parents(out)
    tmp = out.with_name(f".{out.name}.partial")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        for rel, text in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(text) if isinstance(text, bytes) else (tmp / rel).write_text(text)
        if not keep_others or not out.exists():
            shutil.rmtree(out, ignore_errors=True)
            tmp.rename(out)
            return out
        for entry in sorted(tmp.iterdir()):
            target = out / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            entry.rename(target)
    except BaseException as exc:
        if created:
            shutil.rmtree(created[-1], ignore_errors=True)
        if isinstance(exc, OSError) and exc.strerror is not None:  # not one of ours, which are already worded
            raise unwritable(exc, out) from None
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def missing_parents(path: Path) -> list[Path]:
    """The parents of ``path`` that do not exist yet, innermost first."""
    missing = []
    for parent in Path(path).parents:
        if parent.exists():
            break
        missing.append(parent)
    return missing
