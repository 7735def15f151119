"""Grid types from land use and team sizes (private; public as :mod:`gridgeo.grids`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd

from gridgeo._validate import (
    require_columns,
    require_geodataframe,
    require_geom_types,
    require_same_crs,
    rows_preview,
)
from gridgeo.crs import to_metric
from gridgeo.errors import ColumnError
from gridgeo.grids._plan import GridPlan, check_plan

__all__ = ["DEFAULT_TYPES", "classify", "staffing"]

DEFAULT_TYPES: dict[str, str] = {
    "residential": "residential",
    "commercial": "commercial",
    "retail": "commercial",
    "office": "commercial",
    "institutional": "institutional",
    "public": "institutional",
    "school": "institutional",
    "government": "institutional",
    "industrial": "institutional",
    "R": "residential",  # GB 50137 land-use classes: R residential,
    "B": "commercial",  # B commercial and business,
    "A": "institutional",  # A public administration and services,
    "M": "institutional",  # M industrial (a work unit, 单位网格).
}


def classify(
    plan: GridPlan,
    landuse: gpd.GeoDataFrame,
    *,
    column: str = "landuse",
    types: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> GridPlan:
    """Type each grid residential / commercial / institutional from a land-use layer.

    Rule: intersect grids with the land-use polygons, map each land-use value to a grid type
    with ``types`` (values not listed count as ``"other"``), and sum areas per type. The
    type with the largest area is the grid's type when its share of the grid's *classified*
    area reaches ``thresholds[type]`` (default 0.5, a majority); otherwise the grid is
    ``"mixed"``. Grids without land use are ``"unknown"``.

    Parameters
    ----------
    plan : GridPlan
        The plan.
    landuse : GeoDataFrame
        Land-use polygons in the plan's CRS.
    column : str
        Land-use class column.
    types : dict, optional
        ``{landuse value: grid type}``; default :data:`DEFAULT_TYPES` (English names and
        GB 50137 letters R, B, A, M).
    thresholds : dict, optional
        ``{grid type: minimum share}``; missing types use 0.5.

    Returns
    -------
    GridPlan
        The same plan with ``grid_type``, ``type_share`` and ``share_<type>`` columns in
        ``.grids``.

    Raises
    ------
    ColumnError, CRSError, GeometryError
        Missing ``column``, CRS mismatch, or non-polygon land use.
    ValueError
        A threshold outside 0–1.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> codes = {"admin_code": "441302", "street_code": "001", "community_code": "001"}
    >>> squares = [box(x, 0, x + 100, 100) for x in range(0, 400, 100)]
    >>> cells = gpd.GeoDataFrame(geometry=squares, crs="EPSG:4547").assign(**codes)
    >>> from gridgeo.grids import build, classify, staffing
    >>> plan = build(cells, n=2, progress=False)
    >>> land = gpd.GeoDataFrame({"landuse": ["R", "B"]},
    ...     geometry=[box(0, 0, 250, 100), box(250, 0, 400, 100)], crs="EPSG:4547")
    >>> classify(plan, land).grids["grid_type"].tolist()
    ['residential', 'commercial']
    """
    check_plan(plan)
    require_geodataframe(landuse, "landuse")
    require_columns(landuse, [column], "landuse", params={column: "column"})
    require_geom_types(landuse, ["Polygon", "MultiPolygon"], "landuse")
    require_same_crs(plan.grids, landuse, ("plan.grids", "landuse"))
    mapping = dict(DEFAULT_TYPES if types is None else types)
    limits = dict(thresholds or {})
    for t, v in limits.items():
        if not (isinstance(v, int | float) and 0 <= v <= 1):
            msg = f"thresholds[{t!r}] must be a share between 0 and 1, got {v!r}."
            raise ValueError(msg)
    grids = to_metric(plan.grids[["grid_code", "geometry"]])
    land = landuse[[column, "geometry"]].to_crs(grids.crs)
    land = land.assign(_type=land[column].map(lambda v: mapping.get(str(v), "other")))
    pieces = gpd.overlay(
        grids, land[["_type", "geometry"]], how="intersection", keep_geom_type=True
    )
    pieces = pieces.assign(_area=pieces.geometry.area)
    table = pieces.pivot_table(index="grid_code", columns="_type", values="_area", aggfunc="sum")
    table = table.reindex(plan.grids["grid_code"]).fillna(0.0)
    total = table.sum(axis=1)
    share = table.div(total.where(total > 0), axis=0).fillna(0.0)
    out = plan.grids.copy()
    best = share.idxmax(axis=1) if len(share.columns) else pd.Series("", index=share.index)
    top = share.max(axis=1) if len(share.columns) else pd.Series(0.0, index=share.index)
    kinds = []
    for code in out["grid_code"]:
        if total.get(code, 0.0) <= 0:
            kinds.append("unknown")
            continue
        kind = str(best[code])
        kinds.append(kind if top[code] >= limits.get(kind, 0.5) else "mixed")
    out["grid_type"] = kinds
    out["type_share"] = top.to_numpy()
    for t in share.columns:
        out[f"share_{t}"] = share[t].to_numpy()
    return replace(plan, grids=out)


def _parse_pattern(pattern: str) -> tuple[int, int, int]:
    parts = str(pattern).split("+")
    if len(parts) != 3 or not all(p.strip().isdigit() for p in parts) or int(parts[1]) < 1:
        msg = (
            f"pattern must look like 'L+W+A' (leaders + grid workers + assistants), with at "
            f"least one worker, e.g. '1+2+2'; got {pattern!r}."
        )
        raise ValueError(msg)
    a, b, c = (int(p) for p in parts)
    return a, b, c


def staffing(
    plan: GridPlan,
    load: str | pd.Series | None = None,
    *,
    per_worker: float,
    minimum: int = 1,
    pattern: str = "1+2+2",
) -> pd.DataFrame:
    """Suggest a team for every grid from its monthly workload.

    Rule, with ``pattern = "L+W+A"`` (e.g. ``"1+2+2"``: 1 grid leader, 2 grid workers,
    2 assistants or volunteers):

    * workers = ``max(W, minimum, ceil(load / per_worker))``
    * leaders = ``L``
    * assistants = ``ceil(workers · A / W)`` (the pattern's ratio of assistants to workers)
    * team_size = leaders + workers + assistants

    Parameters
    ----------
    plan : GridPlan
        The plan.
    load : str, Series or None
        Monthly load per grid: ``None`` uses the plan's grid weight; a column name of
        ``plan.cells`` is summed per grid (or taken from ``plan.grids``); a Series indexed by
        ``grid_code`` gives it directly (missing grids count 0).
    per_worker : float
        Monthly load one grid worker can handle (e.g. 60 reports).
    minimum : int
        Minimum number of grid workers per grid.
    pattern : str
        Team pattern ``"L+W+A"``.

    Returns
    -------
    DataFrame
        ``grid_code``, ``load``, ``leaders``, ``workers``, ``assistants``, ``team_size``,
        ``load_per_worker``.

    Raises
    ------
    ValueError
        Bad ``per_worker``, ``minimum`` or ``pattern``.
    ColumnError
        ``load`` names a missing or non-numeric column.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> codes = {"admin_code": "441302", "street_code": "001", "community_code": "001"}
    >>> cells = gpd.GeoDataFrame(
    ...     {"reports": [10, 20, 200, 30]},
    ...     geometry=[box(x, 0, x + 100, 100) for x in range(0, 400, 100)],
    ...     crs="EPSG:4547",
    ... ).assign(**codes)
    >>> from gridgeo.grids import build, classify, staffing
    >>> plan = build(cells, n=2, progress=False)
    >>> team = staffing(plan, "reports", per_worker=50)
    >>> team[["load", "workers", "team_size"]].to_numpy().tolist()
    [[30.0, 2.0, 5.0], [230.0, 5.0, 11.0]]
    """
    check_plan(plan)
    if not (isinstance(per_worker, int | float) and np.isfinite(per_worker) and per_worker > 0):
        msg = f"per_worker must be a positive monthly load per worker, got {per_worker!r}."
        raise ValueError(msg)
    if not isinstance(minimum, int | np.integer) or minimum < 0:
        msg = f"minimum must be a whole number of workers >= 0, got {minimum!r}."
        raise ValueError(msg)
    leaders, base, assist = _parse_pattern(pattern)
    codes = plan.grids["grid_code"]
    if load is None:
        values = plan.grids["weight"].to_numpy(dtype=float)
    elif isinstance(load, pd.Series):
        values = pd.to_numeric(load.reindex(codes.to_numpy()), errors="coerce").fillna(0.0)
        values = values.to_numpy(dtype=float)
    elif isinstance(load, str) and load in plan.cells.columns:
        col = pd.to_numeric(plan.cells[load], errors="coerce")
        if col.isna().any():
            msg = f"plan.cells column {load!r} has non-numeric values in row(s) "
            msg += f"{rows_preview(plan.cells.index[col.isna()])}; fill them with 0."
            raise ColumnError(msg)
        values = col.groupby(plan.cells["grid_code"]).sum().reindex(codes).to_numpy()
    elif isinstance(load, str):
        require_columns(plan.grids, [load], "plan.grids", params={load: "load"})
        values = pd.to_numeric(plan.grids[load], errors="coerce").fillna(0.0).to_numpy()
    else:
        msg = f"load must be None, a column name or a Series, got {type(load).__name__}."
        raise TypeError(msg)
    values = np.asarray(values, dtype=float)
    needed = np.ceil(values / float(per_worker) - 1e-9).astype(np.int64)
    workers = np.maximum(needed, max(base, int(minimum)))
    assistants = np.ceil(workers * assist / base - 1e-9).astype(np.int64)
    out = pd.DataFrame(
        {
            "grid_code": codes.to_numpy(),
            "load": values,
            "leaders": leaders,
            "workers": workers,
            "assistants": assistants,
        }
    )
    out["team_size"] = out["leaders"] + out["workers"] + out["assistants"]
    out["load_per_worker"] = out["load"] / out["workers"]
    if "grid_type" in plan.grids.columns:
        out.insert(1, "grid_type", plan.grids["grid_type"].to_numpy())
    return out
