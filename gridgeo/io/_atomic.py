"""Atomic file writes: write to a temporary name in the target's folder, then rename.

A reader never sees a half-written file, and a write that fails (an exception in the
writer, a full disk, invalid data) leaves the previous file at the target untouched and no
temporary file behind. ``os.replace`` is atomic when source and target are on the same file
system, which is why the temporary always lives in the target's own folder.

Helpers
-------
atomic_path(path)
    Context manager yielding a temporary path (same folder, same extension) for one file.
atomic_fileset(path)
    Context manager for formats made of several files sharing a stem (ESRI Shapefile:
    ``.shp .shx .dbf .prj .cpg`` …). Yields a path inside a temporary folder; on success every
    file written there is moved next to ``path`` and stale sidecars of an older version are
    removed.
write_text_atomic(path, text), write_bytes_atomic(path, data)
    One-call writers built on :func:`atomic_path`.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_fileset", "atomic_path", "write_bytes_atomic", "write_text_atomic"]

# Files that belong to one shapefile (lower-case suffixes, compared case-insensitively).
SHAPEFILE_PARTS = (
    ".shp",
    ".shx",
    ".dbf",
    ".prj",
    ".cpg",
    ".qix",
    ".sbn",
    ".sbx",
    ".qmd",
    ".shp.xml",
    ".aih",
    ".ain",
    ".atx",
    ".fbn",
    ".fbx",
    ".ixs",
    ".mxs",
)


def _temp_name(path: Path, *, keep_suffix: bool = True) -> Path:
    """Return an unused hidden name next to ``path``; the file itself is not created.

    The extension is kept so that writers choosing a format from it (GDAL) still work.
    """
    suffix = path.suffix if keep_suffix else ""
    stem = path.name[: -len(suffix)] if suffix else path.name
    while True:
        candidate = path.with_name(f".{stem}.{secrets.token_hex(4)}.tmp{suffix}")
        if not candidate.exists():
            return candidate


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    The body must create the temporary file (it does not exist when yielded). If the body
    raises, or creates nothing, the temporary is deleted and ``path`` is left as it was.

    Parameters
    ----------
    path : str or PathLike
        Final destination. Its folder must exist.

    Yields
    ------
    pathlib.Path
        Hidden temporary name in the same folder with the same extension.

    Raises
    ------
    FileNotFoundError
        The body returned without creating the temporary file, or the folder is missing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "out.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (folder / "out.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('done', ['out.txt'])
    """
    target = Path(path)
    if not target.parent.is_dir():
        msg = f"cannot write {target}: folder {target.parent} does not exist; create it first."
        raise FileNotFoundError(msg)
    tmp = _temp_name(target)
    try:
        yield tmp
        if not tmp.exists():
            msg = f"the writer for {target} produced no file (expected temporary {tmp.name})."
            raise FileNotFoundError(msg)
        tmp.replace(target)
    except BaseException:
        _remove(tmp)
        raise


def _parts_of(folder: Path, stem: str) -> list[Path]:
    """Files in ``folder`` that belong to the dataset named ``stem`` (``stem.<ext>``)."""
    prefix = stem + "."
    return [p for p in folder.iterdir() if p.is_file() and p.name.startswith(prefix)]


def _suffix_of(name: str, stem: str) -> str:
    return name[len(stem) :].lower()


@contextmanager
def atomic_fileset(
    path: str | os.PathLike[str], *, parts: Iterable[str] = SHAPEFILE_PARTS
) -> Iterator[Path]:
    """Yield ``<tmpdir>/<name>``; on success move every ``<stem>.*`` file written to the target.

    For multi-file formats such as ESRI Shapefile. The temporary folder is created in the
    target's folder. On success each produced file replaces its counterpart with
    ``os.replace`` (the main file last), and older sidecars at the target that the new write
    did not produce (for example a stale ``.cpg``) are deleted. On failure the temporary
    folder is removed and the existing files are left untouched. Moving several files is not
    one atomic step, but every file is complete before the first rename.

    Parameters
    ----------
    path : str or PathLike
        Final path of the main file (``roads.shp``).
    parts : iterable of str
        Lower-case suffixes that belong to the dataset; stale ones are removed.

    Yields
    ------
    pathlib.Path
        Path of the main file inside the temporary folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_fileset(folder / "a.shp") as tmp:
    ...     _ = tmp.write_text("x")
    ...     _ = tmp.with_suffix(".dbf").write_text("y")
    >>> sorted(p.name for p in folder.iterdir())
    ['a.dbf', 'a.shp']
    """
    target = Path(path)
    if not target.parent.is_dir():
        msg = f"cannot write {target}: folder {target.parent} does not exist; create it first."
        raise FileNotFoundError(msg)
    stem = target.name[: -len(target.suffix)] if target.suffix else target.name
    tmpdir = _temp_name(target, keep_suffix=False)
    tmpdir.mkdir()
    try:
        yield tmpdir / target.name
        produced = _parts_of(tmpdir, stem)
        if not any(p.name == target.name for p in produced):
            msg = f"the writer for {target} produced no {target.name} file."
            raise FileNotFoundError(msg)
        known = {s.lower() for s in parts}
        new_suffixes = {_suffix_of(p.name, stem) for p in produced}
        # Sidecars first, main file last: a reader that finds the new main file finds
        # the new sidecars too.
        for part in sorted(produced, key=lambda p: p.name == target.name):
            part.replace(target.parent / part.name)
        for old in _parts_of(target.parent, stem):
            suffix = _suffix_of(old.name, stem)
            if suffix in known and suffix not in new_suffixes:
                old.unlink(missing_ok=True)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_bytes_atomic(pathlib.Path(tempfile.mkdtemp()) / "a.bin", b"ok")
    >>> p.read_bytes()
    b'ok'
    """
    target = Path(path)
    with atomic_path(target) as tmp, tmp.open("xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return target


def write_text_atomic(
    path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8", newline: str | None = None
) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8 by default) and return the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_text_atomic(pathlib.Path(tempfile.mkdtemp()) / "a.txt", "网格")
    >>> p.read_text(encoding="utf-8")
    '网格'
    """
    target = Path(path)
    with atomic_path(target) as tmp, tmp.open("x", encoding=encoding, newline=newline) as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    return target
