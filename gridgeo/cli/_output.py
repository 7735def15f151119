"""What the commands write: overwrite checks before any work, atomic and reproducible files,
all-or-nothing job folders, the list of written files, progress and logging settings.

Data files (CSV, Parquet, GeoPackage) are reproducible: rows in a fixed order, no timestamps
(GeoPackage ``last_change`` is pinned), so a rerun on the same input gives the same bytes.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gridgeo.errors import GridgeoError, InputFileError

logger = logging.getLogger("gridgeo.cli")


class RefusedError(GridgeoError, FileExistsError):
    """An output exists and ``--overwrite`` was not given."""


@dataclass
class Settings:
    """Options shared by every command (set by the common flags)."""

    quiet: bool = False
    overwrite: bool = False
    debug: bool = False

    @property
    def progress(self) -> bool:
        """Progress bars only on a terminal and without ``--quiet``."""
        return not self.quiet and sys.stdout.isatty()


@dataclass
class Written:
    """Files a command wrote, in order, for the closing listing."""

    files: list[tuple[str, Path]] = field(default_factory=list)

    def add(self, label: str, path: Path) -> Path:
        self.files.append((label, Path(path)))
        return Path(path)

    def describe(self, title: str) -> str:
        lines = [f"{title} wrote {len(self.files)} file(s):"]
        width = max((len(label) for label, _ in self.files), default=0)
        for label, path in self.files:
            size = path.stat().st_size if path.is_file() else 0
            lines.append(f"  {label:<{width}}  {path}  ({size / 1024:,.0f} KiB)")
        return "\n".join(lines)


def refuse_existing(paths: Sequence[Path], *, overwrite: bool) -> None:
    """Raise :class:`RefusedError` when any output exists and ``overwrite`` is off."""
    if overwrite:
        return
    existing = [str(p) for p in paths if Path(p).exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        msg = (
            f"refusing to overwrite {existing[0]}{more}: it exists. Pass --overwrite to replace "
            "it, or choose another --out."
        )
        raise RefusedError(msg)


def require_folder(path: Path) -> None:
    """The folder an output goes into must exist (or be creatable as a new folder)."""
    parent = Path(path).parent
    if not parent.is_dir():
        msg = f"cannot write {path}: folder {parent} does not exist; create it first."
        raise InputFileError(msg)


@contextmanager
def job_folder(final: Path, *, overwrite: bool) -> Iterator[Path]:
    """Yield a hidden temporary folder; on success it replaces ``final`` in one rename.

    An interrupted or failed job leaves ``final`` as it was (absent, or the previous run's
    complete output) and removes its temporary folder.
    """
    final = Path(final)
    refuse_existing([final], overwrite=overwrite)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.tmp")
    tmp.mkdir()
    try:
        yield tmp
        old = None
        if final.exists():
            old = final.with_name(f".{final.name}.{secrets.token_hex(4)}.old")
            final.replace(old)
        tmp.replace(final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a table as UTF-8 CSV with BOM (Excel opens it), atomically, no index, ``\\n``."""
    from gridgeo.io._atomic import atomic_path

    table = pd.DataFrame(frame)
    geometry = [c for c in table.columns if isinstance(table[c].dtype, gpd.array.GeometryDtype)]
    table = table.drop(columns=geometry)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n")
    return Path(path)


def write_table(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """Write reports/cells by extension: .parquet (GeoParquet), .gpkg, .csv (no geometry)."""
    from gridgeo import io
    from gridgeo.grids._files import reproducible_gpkg

    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return write_csv(frame, path)
    if suffix == ".gpkg":
        with reproducible_gpkg():
            return io.write_layer(frame, path)
    return io.write_layer(frame, path)


def setup_logging(*, quiet: bool, verbose: bool, log: Path | None) -> None:
    """Warnings (errors with --quiet, info with -v) to stderr; everything to ``--log FILE``."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_gridgeo", False):
            root.removeHandler(handler)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter("gridgeo: %(levelname)s: %(message)s"))
    console._gridgeo = True  # type: ignore[attr-defined]
    root.addHandler(console)
    root.setLevel(logging.INFO)
    if log is not None:
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log, encoding="utf-8")
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._gridgeo = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    logging.captureWarnings(True)
