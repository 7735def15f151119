"""Service and patrol coverage: :func:`service_coverage`, :func:`patrol_coverage`."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgeo._validate import require_columns, require_crs, require_geodataframe
from gridgeo.coverage._network import network_distance, straight_distance
from gridgeo.crs import local_crs


def service_coverage(
    cells: gpd.GeoDataFrame,
    stations: gpd.GeoDataFrame,
    *,
    streets: gpd.GeoDataFrame | None = None,
    walk_distance: float = 1000.0,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Share of cells (and population) within walking distance of a service station.

    Distance runs from each cell's representative point to the nearest station, along the
    street network when ``streets`` is given (see :mod:`gridgeo.coverage._network`), else straight.

    Parameters
    ----------
    cells : GeoDataFrame
        Cells with ``cell_code``; optional ``population``.
    stations : GeoDataFrame
        Points.
    streets : GeoDataFrame, optional
        Lines of the walkable network.
    walk_distance : float
        Metres counted as covered.

    Returns
    -------
    (DataFrame, GeoDataFrame)
        Summary rows (``measure``, ``value``) and the uncovered cells with ``distance_m``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box, Point
    >>> cells = gpd.GeoDataFrame({"cell_code": ["a", "b"]},
    ...     geometry=[box(0, 0, 100, 100), box(2000, 0, 2100, 100)], crs=3857)
    >>> st = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=3857)
    >>> summary, uncovered = service_coverage(cells, st, walk_distance=500)
    >>> uncovered["cell_code"].tolist()
    ['b']
    """
    require_geodataframe(stations, "stations")
    require_crs(stations, "stations")
    metric = cells.crs if cells.crs.is_projected else local_crs(cells)
    mc = cells.to_crs(metric)
    origins = mc.geometry.representative_point().values
    st = stations.to_crs(metric).geometry.values
    if len(st) == 0:
        dist = np.full(len(mc), np.inf)
    elif streets is not None and len(streets):
        dist = network_distance(streets.to_crs(metric).geometry.values, origins, st)
    else:
        dist = straight_distance(origins, st)
    covered = dist <= walk_distance
    rows = [
        ("cells", len(mc)),
        ("cells_covered", int(covered.sum())),
        ("share_cells_covered", float(covered.mean()) if len(mc) else np.nan),
        ("walk_distance_m", walk_distance),
        ("method", "network" if streets is not None else "straight line"),
        ("median_distance_m", float(np.median(dist[np.isfinite(dist)])) if len(dist) else np.nan),
    ]
    if "population" in mc.columns:
        pop = pd.to_numeric(mc["population"], errors="coerce").fillna(0).to_numpy()
        rows.append(("population_covered_share", float(pop[covered].sum() / max(pop.sum(), 1))))
    summary = pd.DataFrame(rows, columns=["measure", "value"])
    uncovered = mc.loc[~covered, ["cell_code", mc.geometry.name]].assign(distance_m=dist[~covered])
    return summary, uncovered


def patrol_coverage(
    cells: gpd.GeoDataFrame,
    patrols: gpd.GeoDataFrame,
    *,
    grid_of_cell: pd.Series | None = None,
    max_gap_minutes: float = 10.0,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Cells visited per day (and shift), cells never visited, minutes per grid.

    GPS points (``worker_id``, ``time``; optional ``shift``) are located in cells; the time to a
    worker's next point (capped at ``max_gap_minutes``) counts for the cell of the current point.
    Track lines mark every cell they cross as visited (no minutes).

    Parameters
    ----------
    cells : GeoDataFrame
        Cells with ``cell_code``.
    patrols : GeoDataFrame
        Points with ``worker_id`` and ``time``, or lines.
    grid_of_cell : Series, optional
        ``grid_code`` by ``cell_code``, for minutes per grid.
    max_gap_minutes : float
        Longer gaps between two fixes are not counted as patrol time.

    Returns
    -------
    (DataFrame, GeoDataFrame)
        Per-day rows (``date``, ``shift``, ``cells_visited``, ``share_visited``; minutes per
        grid as rows with ``grid_code``) and the never-visited cells.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box, Point
    >>> cells = gpd.GeoDataFrame({"cell_code": ["a", "b"]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=3857)
    >>> times = pd.to_datetime(["2026-03-02 09:00", "2026-03-02 09:05"])
    >>> gps = gpd.GeoDataFrame({"worker_id": [1, 1], "time": times},
    ...     geometry=[Point(5, 5), Point(6, 6)], crs=3857)
    >>> daily, never = patrol_coverage(cells, gps)
    >>> never["cell_code"].tolist(), float(daily["share_visited"].iloc[0])
    (['b'], 0.5)
    """
    require_geodataframe(patrols, "patrols")
    require_crs(patrols, "patrols")
    tracks = patrols.to_crs(cells.crs)
    tree = shapely.STRtree(cells.geometry.values)
    geoms = tracks.geometry.values
    is_point = shapely.get_type_id(geoms) == 0
    codes = cells["cell_code"].to_numpy()
    visited: set[str] = set()
    rows: list[dict[str, Any]] = []
    if (~is_point).any():
        _, hit = tree.query(geoms[~is_point], predicate="intersects")
        visited.update(codes[hit])
    if is_point.any():
        require_columns(tracks, ["worker_id", "time"], "patrols")
        pts = tracks[is_point].copy()
        src, hit = tree.query(pts.geometry.values, predicate="intersects")
        cell = np.full(len(pts), None, dtype=object)
        first = np.unique(src, return_index=True)[1]
        cell[src[first]] = codes[hit[first]]
        pts["cell_code"] = cell
        pts["time"] = pd.to_datetime(pts["time"])
        pts = pts.sort_values(["worker_id", "time"], kind="mergesort")
        nxt = pts.groupby("worker_id")["time"].shift(-1)
        gap = (nxt - pts["time"]).dt.total_seconds().div(60).clip(upper=max_gap_minutes)
        pts["minutes"] = gap.fillna(0.0)
        pts["date"] = pts["time"].dt.strftime("%Y-%m-%d")
        if "shift" not in pts.columns:
            pts["shift"] = "all"
        inside = pts[pts["cell_code"].notna()]
        visited.update(inside["cell_code"])
        for (day, shift), g in inside.groupby(["date", "shift"], sort=True):
            n = g["cell_code"].nunique()
            rows.append(
                {
                    "date": day,
                    "shift": shift,
                    "cells_visited": n,
                    "share_visited": n / len(cells),
                    "minutes": float(g["minutes"].sum()),
                }
            )
        if grid_of_cell is not None:
            per_grid = inside.groupby(inside["cell_code"].map(grid_of_cell))["minutes"].sum()
            rows += [
                {"date": "period", "shift": "all", "grid_code": g, "minutes": float(m)}
                for g, m in per_grid.items()
            ]
    if not rows and visited:
        rows.append(
            {
                "date": "period",
                "shift": "all",
                "cells_visited": len(visited),
                "share_visited": len(visited) / len(cells),
            }
        )
    never = cells.loc[~cells["cell_code"].isin(visited), ["cell_code", cells.geometry.name]]
    return pd.DataFrame(rows), never
