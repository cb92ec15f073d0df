"""Files the command line writes (reports, outputs, archives): checked before any work, written whole or not at all.

A file is written to a hidden sibling (``.NAME.partial``) and renamed into place,
so a failure or an interrupt leaves the old file (or none) and no temporary
behind; folders the write had to create are removed again when it fails.
Folders of files (projects, exports, plots) go through ``write_folder`` here,
``masr_hls.backend.writer.write_folder`` (the same scheme for a whole folder)
with its errors naming the folder asked for.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


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


def write_folder(out, files: dict[str, str | bytes], overwrite: bool = False, keep_others: bool = False) -> Path:
    """``masr_hls.backend.writer.write_folder`` (atomic, parents it created removed on failure), with a write error
    naming ``out`` rather than its temporary sibling."""
    from masr_hls.backend import writer

    out = Path(out)
    try:
        return writer.write_folder(out, files, overwrite=overwrite, keep_others=keep_others)
    except OSError as exc:
        if exc.strerror is not None:  # not one of ours, which are already worded
            raise unwritable(exc, out) from None
        raise


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
    from masr_hls.backend.writer import missing_parents

    path = check_output(path)
    created = missing_parents(path)
    tmp = path.with_name(f".{path.name}.partial")
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

