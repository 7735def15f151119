"""Assign and count reports chunk by chunk, in bounded memory.

Behind :func:`gridgeo.assign.assign_chunks` and :func:`gridgeo.hotspots.count_chunks`. The
cells are validated and indexed once; each chunk goes through the same code as
:func:`gridgeo.assign.assign`, and the counts are sums of per-chunk ``bincount`` vectors, so
a chunked run gives exactly the statuses, cells and counts of one pass (see the functions'
docstrings for what looks across reports and therefore needs care).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from tqdm import tqdm

from gridgeo._validate import require_columns, require_crs, require_geodataframe, require_unique

logger = logging.getLogger(__name__)


def assign_chunks(
    chunks: Iterable[gpd.GeoDataFrame],
    cells: Any,
    grids: Any,
    opts: dict[str, Any],
    *,
    progress: bool,
) -> Iterator[gpd.GeoDataFrame]:
    """See :func:`gridgeo.assign.assign_chunks`; ``opts`` as built by ``assign``."""
    from gridgeo import assign as ga

    if isinstance(chunks, pd.DataFrame):
        msg = (
            "chunks must be an iterable of GeoDataFrames (e.g. gridgeo.io.iter_reports(...)), "
            "not one frame; use gridgeo.assign(reports, cells) for a single frame."
        )
        raise TypeError(msg)
    prepared = ga._prepare_cells(cells, grids)  # checked now, not at the first chunk
    return _assigned(chunks, prepared, opts, progress)


def _assigned(
    chunks: Iterable[gpd.GeoDataFrame], prepared: Any, opts: dict[str, Any], progress: bool
) -> Iterator[gpd.GeoDataFrame]:
    from gridgeo import assign as ga

    for number, chunk in enumerate(tqdm(chunks, desc="assign", unit="chunk", disable=not progress)):
        require_geodataframe(chunk, f"chunk {number}")
        if opts["coords"] is None:
            require_crs(chunk, f"chunk {number}")
        result = ga._assign_frame(chunk, prepared, opts)
        logger.debug("chunk %d: %s", number, result.attrs["status_counts"])
        yield result


def count_chunks(
    chunks: Iterable[pd.DataFrame],
    cells: gpd.GeoDataFrame,
    *,
    by: str | None,
    key: str | None,
    progress: bool,
) -> gpd.GeoDataFrame:
    """See :func:`gridgeo.hotspots.count_chunks`."""
    from gridgeo import hotspots as gh

    if isinstance(chunks, pd.DataFrame):
        msg = (
            "chunks must be an iterable of assigned report frames, not one frame; use "
            "gridgeo.hotspots.counts(assigned, cells) for a single frame."
        )
        raise TypeError(msg)
    cells = require_geodataframe(cells, "cells")
    key = gh._key_of(cells, key, "cells")
    require_unique(cells[key], key, "cells")
    codes = pd.Index(cells[key])
    total = np.zeros(len(cells), dtype=np.int64)
    per_value: dict[Any, np.ndarray] = {}
    statuses: dict[str, int] = {}
    unknown = 0
    for number, chunk in enumerate(tqdm(chunks, desc="count", unit="chunk", disable=not progress)):
        for status, n in (chunk.attrs.get("status_counts") or {}).items():
            statuses[status] = statuses.get(status, 0) + int(n)
        rep = gh._counted(chunk, f"chunk {number}")
        require_columns(rep, [key] + ([by] if by else []), f"chunk {number}")
        pos = codes.get_indexer(rep[key])
        known = pos >= 0
        unknown += int((~known).sum())
        total += np.bincount(pos[known], minlength=len(cells))
        if by is not None:
            for value, grp in rep.loc[known].groupby(by, sort=False):
                gpos = codes.get_indexer(grp[key])
                add = np.bincount(gpos, minlength=len(cells))
                per_value[value] = per_value.get(value, 0) + add
    if unknown:
        logger.warning("%d counted reports have a %s not in cells; ignored", unknown, key)
    out = cells.copy()
    out["count"] = total
    for value in sorted(per_value):
        out[f"count_{value}"] = per_value[value].astype(np.int64)
    area = gh._areas_km2(cells)
    pop = cells["population"].to_numpy(dtype=np.float64) if "population" in cells else None
    gh._rates(out, area, pop)
    out.attrs["status_counts"] = statuses
    return out
