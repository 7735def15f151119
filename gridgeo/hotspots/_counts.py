"""Counts per cell or grid (at once or over chunks) and time profiles (private).

Part of :mod:`gridgeo.hotspots` (the public face): :func:`counts`, :func:`count_chunks`,
:func:`time_profile` and the helpers the other parts share (:func:`_counted`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from tqdm import tqdm

from gridgeo._validate import (
    plan_layers,
    require_columns,
    require_crs,
    require_geodataframe,
    require_unique,
)
from gridgeo.errors import ColumnError
from gridgeo.hotspots import _emerging, _kde

# the package's logger, as before the split
logger = logging.getLogger("gridgeo.hotspots")

COUNTED_STATUS = ("assigned", "snapped")


# --------------------------------------------------------------------------- helpers
def _counted(assigned: pd.DataFrame, name: str) -> pd.DataFrame:
    if not isinstance(assigned, pd.DataFrame):
        msg = f"{name} must be a (Geo)DataFrame of assigned reports, got {type(assigned).__name__}."
        raise TypeError(msg)
    if "status" in assigned.columns:
        return assigned.loc[assigned["status"].isin(COUNTED_STATUS)]
    return assigned


def _key_of(layer: pd.DataFrame, key: str | None, name: str) -> str:
    if key is not None:
        require_columns(layer, [key], name, params={key: "key"})
        return key
    for k in ("cell_code", "grid_code"):
        if k in layer.columns:
            return k
    msg = f"{name} has neither 'cell_code' nor 'grid_code'; pass key='<your code column>'."
    raise ColumnError(msg)


def _areas_km2(layer: gpd.GeoDataFrame) -> np.ndarray:
    if "area_m2" in layer.columns:
        return layer["area_m2"].to_numpy(dtype=np.float64) / 1e6
    require_crs(layer, "cells")
    crs = _kde.metric_crs(layer)
    geo = layer.geometry if crs is layer.crs else layer.geometry.to_crs(crs)
    return geo.area.to_numpy() / 1e6


def _rates(out: pd.DataFrame, area_km2: np.ndarray, population: np.ndarray | None) -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        out["per_km2"] = np.where(area_km2 > 0, out["count"] / area_km2, np.nan)
        if population is not None:
            out["per_1000"] = np.where(population > 0, out["count"] / population * 1000, np.nan)


# --------------------------------------------------------------------------- counts
def counts(
    assigned: pd.DataFrame,
    cells: gpd.GeoDataFrame,
    *,
    by: str | None = None,
    freq: str | None = None,
    key: str | None = None,
    time: str = "reported_at",
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Count reports per cell or grid, with rates per km² and per 1,000 residents.

    Parameters
    ----------
    assigned : DataFrame
        Assigned reports with the code column ``key`` (and ``status``: only ``"assigned"`` and
        ``"snapped"`` rows are counted when the column exists).
    cells : GeoDataFrame
        Cells (``cell_code``) or grids (``grid_code``); rows keep their index and order.
    by : str, optional
        A report column (``"category_code"``, ``"source"``...): adds one ``count_<value>``
        column per value (wide form).
    freq : str, optional
        Pandas period alias (``"D"``, ``"W"``, ``"M"``, ``"Q"``): return the long table
        ``key, period, [by,] count, per_km2, per_1000`` with every cell x period present
        (zeros included) instead of the layer. ``period`` is the period's start time.
    key : str, optional
        Code column joining reports to ``cells``; default ``cell_code`` if ``cells`` has it,
        else ``grid_code``.
    time : str
        Report time column, used with ``freq``.

    Returns
    -------
    GeoDataFrame or DataFrame
        Without ``freq``: a copy of ``cells`` with ``count`` (0 where no report), optional
        ``count_<value>`` columns, ``per_km2`` (area from ``area_m2`` or the geometry in a
        metric CRS) and ``per_1000`` (when ``cells`` has ``population``; NaN where it is 0).
        With ``freq``: a long DataFrame (see ``freq``).

    Raises
    ------
    ColumnError
        A required column is missing, or times cannot be parsed.
    DuplicateIdError
        The codes in ``cells`` are not unique.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> cells = gpd.GeoDataFrame({"cell_code": ["a", "b"]},
    ...                          geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
    ...                          crs="EPSG:4547")
    >>> reps = pd.DataFrame({"cell_code": ["a", "a", "b"],
    ...                      "status": ["assigned", "snapped", "outside"]})
    >>> counts(reps, cells)[["cell_code", "count", "per_km2"]]
      cell_code  count  per_km2
    0         a      2    200.0
    1         b      0      0.0
    """
    cells, _ = plan_layers(cells, None, "cells")  # a GridPlan counts per cell
    cells = require_geodataframe(cells, "cells")
    key = _key_of(cells, key, "cells")
    require_unique(cells[key], key, "cells")
    rep = _counted(assigned, "assigned")
    require_columns(
        rep,
        [key] + ([by] if by else []),
        "assigned",
        params={key: "key", **({by: "by"} if by else {})},
    )
    known = rep[key].isin(cells[key])
    if (~known).any():
        logger.warning("%d counted reports have a %s not in cells; ignored", (~known).sum(), key)
    rep = rep.loc[known]
    area = _areas_km2(cells)
    pop = cells["population"].to_numpy(dtype=np.float64) if "population" in cells else None
    codes = pd.Index(cells[key])
    if freq is None:
        out = cells.copy()
        pos = codes.get_indexer(rep[key])
        out["count"] = np.bincount(pos, minlength=len(cells)).astype(np.int64)
        if by is not None:
            for value, grp in rep.groupby(by, sort=True):
                gpos = codes.get_indexer(grp[key])
                out[f"count_{value}"] = np.bincount(gpos, minlength=len(cells)).astype(np.int64)
        _rates(out, area, pop)
        return out
    t = _emerging.parse_times(rep, time, "assigned")
    out = _emerging.period_counts(rep, t, freq=freq, key=key, codes=codes, by=by)
    at = codes.get_indexer(out[key])
    _rates(out, area[at], None if pop is None else pop[at])
    return out


# --------------------------------------------------------------------------- time profile
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def time_profile(
    assigned: pd.DataFrame,
    *,
    by: str | None = None,
    time: str = "reported_at",
    pivot: bool = False,
) -> pd.DataFrame:
    """Counted reports by hour of day x weekday (the "when" of a hot spot).

    Parameters
    ----------
    assigned : DataFrame
        Reports with the ``time`` column (only ``assigned``/``snapped`` when ``status`` exists).
    by : str, optional
        Group column, e.g. ``"grid_code"`` or ``"category_code"``.
    time : str
        Time column (local time; time zones are dropped, keeping the wall-clock time).
    pivot : bool
        False: long table ``[by,] weekday (0 = Monday), hour, count`` with all 7 x 24
        combinations. True: hours as rows (``[by,] hour``) and ``Mon``..``Sun`` columns.

    Returns
    -------
    DataFrame

    Raises
    ------
    ColumnError
        Missing or unreadable time / ``by`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> rep = pd.DataFrame({"reported_at": ["2024-05-06 08:10", "2024-05-06 08:50"]})
    >>> time_profile(rep, pivot=True).loc[8, "Mon"]
    np.int64(2)
    """
    rep = _counted(assigned, "assigned")
    if by is not None:
        require_columns(rep, [by], "assigned", params={by: "by"})
    t = _emerging.parse_times(rep, time, "assigned")
    frame = pd.DataFrame({"weekday": t.dt.day_of_week.to_numpy(), "hour": t.dt.hour.to_numpy()})
    keys = ["weekday", "hour"]
    levels: list[Any] = [range(7), range(24)]
    if by is not None:
        frame.insert(0, by, rep[by].to_numpy())
        keys = [by, *keys]
        levels = [sorted(frame[by].dropna().unique()), *levels]
    full = pd.MultiIndex.from_product(levels, names=keys)
    long = frame.groupby(keys).size().reindex(full, fill_value=0).rename("count").reset_index()
    long["count"] = long["count"].astype(np.int64)
    if not pivot:
        return long
    idx = [by, "hour"] if by is not None else ["hour"]
    wide = long.pivot_table(index=idx, columns="weekday", values="count", aggfunc="sum")
    wide.columns = [_WEEKDAYS[int(c)] for c in wide.columns]
    return wide.astype(np.int64)


# --------------------------------------------------------------------------- chunked counts
def count_chunks(
    chunks: Iterable[pd.DataFrame],
    cells: gpd.GeoDataFrame,
    *,
    by: str | None = None,
    key: str | None = None,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Count reports per cell or grid over chunks of assigned reports, one chunk at a time.

    The same table as :func:`counts` without ``freq`` on all the chunks together (``count``,
    ``count_<value>`` with ``by``, ``per_km2``, ``per_1000``), built by summing per-chunk
    counts, so only one chunk is in memory at a time. Pair it with
    :func:`gridgeo.io.iter_reports` and :func:`gridgeo.assignment.assign_chunks` for files of
    tens of millions of reports.

    Parameters
    ----------
    chunks : iterable of DataFrame
        Assigned report chunks (``status`` and the code column ``key``); consumed once.
    cells : GeoDataFrame
        Cells (``cell_code``) or grids (``grid_code``).
    by, key : str, optional
        As for :func:`counts`.
    progress : bool
        Show a progress bar over the chunks.

    Returns
    -------
    GeoDataFrame
        A copy of ``cells`` with the count columns; ``attrs["status_counts"]`` sums the
        chunks' status counts (from :func:`gridgeo.assignment.assign_chunks`).

    Raises
    ------
    TypeError
        ``chunks`` is a single frame.
    ColumnError
        A chunk lacks ``status``-filtered code column ``key`` or ``by``.
    DuplicateIdError
        The codes in ``cells`` are not unique.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> cells = gpd.GeoDataFrame({"cell_code": ["a", "b"]},
    ...                          geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
    ...                          crs="EPSG:4547")
    >>> one = pd.DataFrame({"cell_code": ["a", "b"], "status": ["assigned", "outside"]})
    >>> two = pd.DataFrame({"cell_code": ["a"], "status": ["snapped"]})
    >>> count_chunks([one, two], cells)[["cell_code", "count"]]
      cell_code  count
    0         a      2
    1         b      0
    """
    if isinstance(chunks, pd.DataFrame):
        msg = (
            "chunks must be an iterable of assigned report frames, not one frame; use "
            "gridgeo.hotspots.counts(assigned, cells) for a single frame."
        )
        raise TypeError(msg)
    cells = require_geodataframe(cells, "cells")
    key = _key_of(cells, key, "cells")
    require_unique(cells[key], key, "cells")
    codes = pd.Index(cells[key])
    total = np.zeros(len(cells), dtype=np.int64)
    per_value: dict[Any, np.ndarray] = {}
    statuses: dict[str, int] = {}
    unknown = 0
    for number, chunk in enumerate(tqdm(chunks, desc="count", unit="chunk", disable=not progress)):
        for status, n in (chunk.attrs.get("status_counts") or {}).items():
            statuses[status] = statuses.get(status, 0) + int(n)
        rep = _counted(chunk, f"chunk {number}")
        require_columns(rep, [key] + ([by] if by else []), f"chunk {number}")
        pos = codes.get_indexer(rep[key])
        known = pos >= 0
        unknown += int((~known).sum())
        total += np.bincount(pos[known], minlength=len(cells))
        if by is not None:  # as counts(): one column per value, over the known rows
            for value, grp in rep.loc[known].groupby(by, sort=False):
                add = np.bincount(codes.get_indexer(grp[key]), minlength=len(cells))
                per_value[value] = per_value.get(value, 0) + add
    if unknown:
        logger.warning("%d counted reports have a %s not in cells; ignored", unknown, key)
    out = cells.copy()
    out["count"] = total
    for value in sorted(per_value):
        out[f"count_{value}"] = per_value[value].astype(np.int64)
    pop = cells["population"].to_numpy(dtype=np.float64) if "population" in cells else None
    _rates(out, _areas_km2(cells), pop)
    out.attrs["status_counts"] = statuses
    return out
