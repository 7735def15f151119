"""Assignment at scale (private): the Dask path and chunked runs (:func:`assign_chunks`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from tqdm import tqdm

from gridgeo._validate import (
    optional_import,
    require_crs,
    require_geodataframe,
)
from gridgeo.assignment._frame import _assign_frame
from gridgeo.assignment._prepare import _canonical_coords, _Cells, _check_options, _prepare_cells
from gridgeo.assignment._routing import LevelRules
from gridgeo.crs import declared_system

logger = logging.getLogger("gridgeo.assignment._assign")  # the name before the split

__all__ = ["assign_chunks"]


# --------------------------------------------------------------------------------------------
# Dask
# --------------------------------------------------------------------------------------------
def _is_dask(obj: Any) -> bool:
    mod = type(obj).__module__
    return mod.startswith(("dask_geopandas", "dask.", "dask_expr"))


def _assign_partition(part: gpd.GeoDataFrame, prepared: _Cells, opts: dict[str, Any]) -> Any:
    return _assign_frame(part, prepared, opts)


def _assign_dask(reports: Any, prepared: _Cells, opts: dict[str, Any]) -> Any:
    optional_import("dask_geopandas", "dask")
    import dask

    meta_in = reports._meta
    if not isinstance(meta_in, gpd.GeoDataFrame):
        msg = "reports must be a dask_geopandas.GeoDataFrame of points."
        raise TypeError(msg)
    if opts["coords"] is None:
        require_crs(meta_in, "reports")
    meta = _assign_frame(meta_in, prepared, opts)
    meta.attrs.clear()
    shared: Any = dask.delayed(prepared, pure=True)
    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        client = None
    if client is not None:
        future = client.scatter(prepared, broadcast=True, hash=False)
        shared = dask.delayed(lambda cells: cells)(future)
        logger.info("cells broadcast to %d Dask workers", len(client.scheduler_info()["workers"]))
    return reports.map_partitions(_assign_partition, shared, opts, meta=meta)


# --------------------------------------------------------------------------------------------
# chunked runs (iter_reports -> assign_chunks -> hotspots.count_chunks; docs/large-files.md)
# --------------------------------------------------------------------------------------------
def assign_chunks(
    chunks: Iterable[gpd.GeoDataFrame],
    cells: Any,
    grids: Any = None,
    tolerance: float = 0.0,
    *,
    crs: str | None = None,
    engine: str = "auto",
    categories: pd.DataFrame | Mapping[str, str] | str | Path | None = None,
    rules: LevelRules | None = None,
    category_col: str = "category_code",
    severity_col: str = "severity",
    time_col: str = "reported_at",
    duplicates: bool = False,
    duplicate_distance: float = 50.0,
    duplicate_minutes: float = 60.0,
    progress: bool = False,
) -> Iterator[gpd.GeoDataFrame]:
    """Assign reports that arrive in chunks; yield one assigned frame per chunk.

    For files too large for memory: feed it :func:`gridgeo.io.iter_reports` and sum the
    results with :func:`gridgeo.hotspots.count_chunks`, keeping one chunk in memory at a
    time. The cells are validated and indexed once. Every chunk is assigned by the same code
    as :func:`assign`, so statuses, cells, grids, distances, reasons and departments equal one
    pass over all the reports. Two things look *across* reports and see only their own
    chunk: probable duplicates (hence ``duplicates=False`` by default here) and the
    repeat escalation of :class:`LevelRules` (``level``); pass
    ``rules=LevelRules(repeat_count=0)`` for levels that equal one pass as well.

    Parameters
    ----------
    chunks : iterable of GeoDataFrame
        Report chunks, e.g. ``gridgeo.io.iter_reports(path, chunksize=500_000)``. Consumed
        lazily, one at a time.
    cells, grids, tolerance, crs, engine, categories, rules
        As for :func:`assign`; without ``crs`` each chunk's declared system (if any) is used.
    category_col, severity_col, time_col, duplicates, duplicate_distance, duplicate_minutes
        As for :func:`assign` (``duplicates`` defaults to False, see above).
    progress : bool
        Show a progress bar over the chunks.

    Returns
    -------
    iterator of GeoDataFrame
        One :func:`assign` result per chunk, lazily (nothing runs before iteration).

    Raises
    ------
    TypeError, CRSError, ColumnError, DuplicateIdError, GeometryError, ValueError
        As for :func:`assign`; cells and options are checked at once, chunks as they come.

    Examples
    --------
    >>> import geopandas as gpd, gridgeo as gg
    >>> from shapely import Point, box
    >>> cells = gpd.GeoDataFrame({"cell_code": ["A", "B"]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4547")
    >>> part = gpd.GeoDataFrame(geometry=[Point(50, 50), Point(150, 50)], crs="EPSG:4547")
    >>> [c["cell_code"].tolist() for c in gg.assignment.assign_chunks([part, part[1:]], cells)]
    [['A', 'B'], ['B']]
    """
    if isinstance(chunks, pd.DataFrame):
        msg = (
            "chunks must be an iterable of GeoDataFrames (e.g. gridgeo.io.iter_reports(...)), "
            "not one frame; use gridgeo.assign(reports, cells) for a single frame."
        )
        raise TypeError(msg)
    _check_options(tolerance, engine, crs)
    if rules is not None and not isinstance(rules, LevelRules):
        msg = f"rules must be a gridgeo.assignment.LevelRules, got {type(rules).__name__}."
        raise TypeError(msg)
    opts = {
        "tolerance": float(tolerance),
        "coords": _canonical_coords(crs),
        "engine": engine,
        "categories": categories,
        "rules": rules,
        "category_col": category_col,
        "severity_col": severity_col,
        "time_col": time_col,
        "duplicates": duplicates,
        "duplicate_distance": duplicate_distance,
        "duplicate_minutes": duplicate_minutes,
    }
    prepared = _prepare_cells(cells, grids)  # validated and indexed once, now
    return _assigned_chunks(chunks, prepared, opts, progress)


def _assigned_chunks(
    chunks: Iterable[gpd.GeoDataFrame], prepared: _Cells, opts: dict[str, Any], progress: bool
) -> Iterator[gpd.GeoDataFrame]:
    """Each chunk through the code of :func:`assign` (the Dask path does the same per part)."""
    for number, chunk in enumerate(tqdm(chunks, desc="assign", unit="chunk", disable=not progress)):
        require_geodataframe(chunk, f"chunk {number}")
        options = opts
        if opts["coords"] is None:  # as assign(): a chunk may carry its declared system
            declared = declared_system(chunk)
            options = {**opts, "coords": _canonical_coords(declared)}
            if declared is None:
                require_crs(chunk, f"chunk {number}")
        result = _assign_frame(chunk, prepared, options)
        logger.debug("chunk %d: %s", number, result.attrs["status_counts"])
        yield result
