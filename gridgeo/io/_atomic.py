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
file_lock(path)
    Context manager serialising writers of one file across processes (a GeoPackage that two
    processes add layers to): an ``fcntl`` lock on a hidden ``.<name>.lock`` beside it.

Safety: the file written gets the permissions a plain ``open()`` would give (the user's umask,
or the mode of the file it replaces), never a temporary file's 0600. Temporary files and
folders are removed on any exit: an exception, Ctrl-C, and SIGTERM/SIGHUP (a handler removes
them, then hands the signal on to the handler that was installed before). Errors the
operating system reports (read-only or missing folder, a full disk, a target that is a folder)
raise :class:`gridgeo.errors.InputFileError` naming the target.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gridgeo.errors import GridgeoError, InputFileError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, writers not serialised
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "atomic_fileset",
    "atomic_path",
    "file_lock",
    "write_bytes_atomic",
    "write_text_atomic",
]

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


# --- cleanup on SIGTERM/SIGHUP -----------------------------------------------------------

_ACTIVE: set[Path] = set()
_PREVIOUS: dict[int, Any] = {}
_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


def _on_signal(signum: int, frame: Any) -> None:
    """Remove the temporaries of writes in progress, then behave as before we were installed."""
    for path in list(_ACTIVE):
        _remove(path)
    _ACTIVE.clear()
    previous = _PREVIOUS.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_signal_handlers() -> None:
    """Install :func:`_on_signal` once, from the main thread, chaining to the previous one."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in _SIGNALS:
        current = signal.getsignal(signum)
        if current is _on_signal or current is None or current == signal.SIG_IGN:
            continue  # ours already, set outside Python, or ignored on purpose: leave it
        _PREVIOUS[signum] = current
        signal.signal(signum, _on_signal)


@contextmanager
def _tracked(path: Path) -> Iterator[None]:
    _install_signal_handlers()
    _ACTIVE.add(path)
    try:
        yield
    finally:
        _ACTIVE.discard(path)


# --- permissions and errors ----------------------------------------------------------------


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def _give_mode(tmp: Path, target: Path) -> None:
    """Give ``tmp`` the mode of the file it replaces, or what ``open()`` gives a new file."""
    try:
        mode = target.stat().st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    tmp.chmod(mode)


_ADVICE = {
    errno.ENOSPC: "the disk is full; free space or write elsewhere",
    errno.EDQUOT: "the disk quota is exhausted; free space or write elsewhere",
    errno.EACCES: "no permission to write there; choose a folder you can write to",
    errno.EPERM: "no permission to write there; choose a folder you can write to",
    errno.EROFS: "the folder is on a read-only file system; write elsewhere",
    errno.EISDIR: "the target is a folder; give a file name",
    errno.ENOENT: "the folder does not exist; create it first",
}


def write_error(target: Path, err: OSError) -> InputFileError:
    """An :class:`InputFileError` naming ``target`` and saying what to do about ``err``."""
    advice = _ADVICE.get(err.errno or 0, "check the folder and the disk")
    reason = err.strerror or str(err)
    msg = f"cannot write {str(target)!r}: {reason} ({advice}). Nothing was written."
    return InputFileError(msg)


def _check_target(target: Path) -> None:
    if target.is_dir():
        msg = f"cannot write {str(target)!r}: it is a folder; give a file name inside it."
        raise InputFileError(msg)
    if not target.parent.is_dir():
        msg = (
            f"cannot write {str(target)!r}: folder {str(target.parent)!r} does not exist; "
            "create it first."
        )
        raise InputFileError(msg)


def _is_plain_os_error(err: BaseException) -> bool:
    return isinstance(err, OSError) and not isinstance(err, GridgeoError | FileNotFoundError)


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
        The body returned without creating the temporary file.
    InputFileError
        Missing folder, target is a folder, or an operating-system error while writing
        (read-only folder, full disk); the message names the target.

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
    _check_target(target)
    tmp = _temp_name(target)
    with _tracked(tmp):
        try:
            yield tmp
            if not tmp.exists():
                msg = f"the writer for {target} produced no file (expected temporary {tmp.name})."
                raise FileNotFoundError(msg)
            if tmp.is_file():
                _give_mode(tmp, target)
            tmp.replace(target)
        except BaseException as err:
            _remove(tmp)
            if _is_plain_os_error(err):
                raise write_error(target, err) from err  # type: ignore[arg-type]
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
    _check_target(target)
    stem = target.name[: -len(target.suffix)] if target.suffix else target.name
    tmpdir = _temp_name(target, keep_suffix=False)
    with _tracked(tmpdir), _os_errors_name(target):
        tmpdir.mkdir()
        try:
            yield from _fileset_body(target, tmpdir, stem, parts)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)


@contextmanager
def _os_errors_name(target: Path) -> Iterator[None]:
    try:
        yield
    except OSError as err:
        if _is_plain_os_error(err):
            raise write_error(target, err) from err
        raise


def _fileset_body(target: Path, tmpdir: Path, stem: str, parts: Iterable[str]) -> Iterator[Path]:
    """The part of :func:`atomic_fileset` after the temporary folder exists."""
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
        final = target.parent / part.name
        _give_mode(part, final)
        part.replace(final)
    for old in _parts_of(target.parent, stem):
        suffix = _suffix_of(old.name, stem)
        if suffix in known and suffix not in new_suffixes:
            old.unlink(missing_ok=True)


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


@contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive inter-process lock for writing ``path`` (waits for other holders).

    The lock is an ``fcntl.flock`` on the hidden file ``.<name>.lock`` beside ``path``, removed
    on release (a waiter that wakes on a removed lock file takes the new one instead). Without
    ``fcntl`` (Windows) writers are not serialised.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with file_lock(folder / "city.gpkg"):
    ...     sorted(p.name for p in folder.iterdir())
    ['.city.gpkg.lock']
    >>> sorted(p.name for p in folder.iterdir())
    []
    """
    target = Path(path)
    if fcntl is None:  # pragma: no cover
        yield
        return
    lock = target.with_name(f".{target.name}.lock")
    with _os_errors_name(target):
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.fstat(fd).st_ino == lock.stat().st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
    try:
        with _tracked(lock):
            yield
    finally:
        lock.unlink(missing_ok=True)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
