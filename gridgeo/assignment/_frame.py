"""The core of :func:`gridgeo.assignment.assign` (private), shared by every path.

Coordinate status, reprojection into the cells' CRS, locating, snapping, the result columns
and routing for one in-memory frame of reports (:func:`_assign_frame`).
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from pyproj import CRS, Transformer

from gridgeo._gc import gc_paused
from gridgeo.assignment import _routing
from gridgeo.assignment._engines import CellLocator
from gridgeo.assignment._prepare import _Cells, _is_metric
from gridgeo.assignment._routing import route

logger = logging.getLogger("gridgeo.assignment._assign")  # the name before the split

STATUSES = ("assigned", "snapped", "outside", "invalid_coords", "missing_coords")
_ASSIGNED, _SNAPPED, _OUTSIDE, _INVALID, _MISSING = range(5)  # positions in STATUSES
_OK = -1  # internal: coordinates usable, not yet located
_OUT_COLUMNS = (
    "cell_code",
    "grid_code",
    "status",
    "distance_m",
    "reason",
    "department",
    "department_en",
    "level",
    "duplicate_of",
)


# --------------------------------------------------------------------------------------------
# reports: coordinate status and projection
# --------------------------------------------------------------------------------------------
def _coord_status(reports: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (code per row, x, y) from ``coord_status`` or the geometry.

    The code is ``_OK`` where the coordinates can be located, otherwise the position of
    ``missing_coords``/``invalid_coords`` in STATUSES (integers: 10 million strings are slow).
    """
    geoms = np.asarray(reports.geometry.values)  # the object array, no pandas ufunc detour
    n = len(geoms)
    kind = shapely.get_type_id(geoms)  # -1 = missing (None)
    pts = kind == 0
    if pts.all():
        try:
            x, y = shapely.get_x(geoms), shapely.get_y(geoms)
        except shapely.errors.GEOSException:  # GEOS refuses get_x on an empty point
            pts &= ~shapely.is_empty(geoms)
    if not pts.all():
        pts &= ~shapely.is_empty(geoms)
        x, y = np.full(n, np.nan), np.full(n, np.nan)
        x[pts], y[pts] = shapely.get_x(geoms[pts]), shapely.get_y(geoms[pts])
    finite = np.isfinite(x) & np.isfinite(y)
    missing = kind == -1
    # only rows without finite coordinates can be empty geometries
    maybe = np.flatnonzero(~finite & ~missing)
    missing[maybe] = shapely.is_empty(geoms[maybe])
    pts &= ~missing
    code = np.full(n, _INVALID, dtype=np.int8)
    code[missing] = _MISSING
    code[pts & finite] = _OK
    if "coord_status" in reports.columns:
        given = reports["coord_status"]
        for value in (_MISSING, _INVALID):
            code[(given == STATUSES[value]).to_numpy(dtype=bool, na_value=False)] = value
    return code, x, y


def _reasons_for_bad(reports: gpd.GeoDataFrame, code: np.ndarray) -> np.ndarray:
    """A reason per row (object array, ``""`` where the coordinates are usable)."""
    reason = np.full(len(code), "", dtype=object)
    bad = np.flatnonzero(code != _OK)
    if len(bad) == 0:
        return reason
    sub = code[bad]
    text = np.full(len(bad), "no coordinates", dtype=object)
    inv = sub == _INVALID
    if inv.any():
        geoms = np.asarray(reports.geometry.values)[bad[inv]]
        text[inv] = np.where(
            shapely.get_type_id(geoms) == 0,
            "coordinates are not finite numbers",
            "geometry is not a point",
        )
    if "coord_issue" in reports.columns:
        issue = reports["coord_issue"].iloc[bad].astype(object).to_numpy()
        has = pd.notna(issue) & (issue != "")
        text[has] = issue[has]
    reason[bad] = text
    return reason


def _to_cells_crs(
    reports: gpd.GeoDataFrame,
    x: np.ndarray,
    y: np.ndarray,
    ok: np.ndarray,
    coords: str | None,
    target: CRS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return x, y in the cells' CRS and a mask of rows whose coordinates became invalid."""
    x, y = x.copy(), y.copy()
    lonlat = coords is not None or (reports.crs is not None and reports.crs.is_geographic)
    bad = np.zeros(len(x), dtype=bool)
    if lonlat:
        bad = ok & ((np.abs(x) > 180) | (np.abs(y) > 90))
        ok = ok & ~bad
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return x, y, bad
    src = reports.crs
    if coords is not None and coords != "wgs84":
        from gridgeo.crs import from_declared

        with gc_paused():
            tmp = gpd.GeoDataFrame(geometry=shapely.points(x[idx], y[idx]))
        conv = from_declared(tmp, coords)
        x[idx], y[idx] = shapely.get_x(conv.geometry.values), shapely.get_y(conv.geometry.values)
        src = conv.crs
    elif coords == "wgs84":
        src = CRS.from_epsg(4326)
    if not CRS.from_user_input(src).equals(target):
        tr = Transformer.from_crs(src, target, always_xy=True)
        x[idx], y[idx] = tr.transform(x[idx], y[idx])
    lost = ok & ~(np.isfinite(x) & np.isfinite(y))
    return x, y, bad | lost


# --------------------------------------------------------------------------------------------
# the core, shared by the in-memory and the Dask paths
# --------------------------------------------------------------------------------------------
def _assign_frame(
    reports: gpd.GeoDataFrame, prepared: _Cells, opts: dict[str, Any]
) -> gpd.GeoDataFrame:
    code, x, y = _coord_status(reports)
    reason = _reasons_for_bad(reports, code)
    ok = code == _OK
    x, y, bad = _to_cells_crs(reports, x, y, ok, opts["coords"], prepared.crs)
    code[bad] = _INVALID
    reason[bad] = "coordinates out of range or not transformable to the cells' CRS"
    ok &= ~bad
    code[ok] = _ASSIGNED
    n = len(reports)
    where = np.full(n, -1, dtype=np.int64)
    distance = np.full(n, np.nan)
    idx = np.flatnonzero(ok)
    where[idx] = prepared.locator.locate(x[idx], y[idx], opts["engine"])
    out_idx = np.flatnonzero(ok & (where < 0))
    code[out_idx] = _OUTSIDE
    distance[where >= 0] = 0.0
    tol = opts["tolerance"]
    if len(out_idx) and tol > 0:
        snap, dist = _snap(prepared, x[out_idx], y[out_idx], tol)
        hit = snap >= 0
        where[out_idx[hit]] = snap[hit]
        distance[out_idx[hit]] = dist[hit]
        code[out_idx[hit]] = _SNAPPED
    reason[out_idx] = (
        f"outside every cell (more than {tol:g} m from the nearest)"
        if tol > 0
        else "outside every cell"
    )
    snapped = np.flatnonzero(code == _SNAPPED)
    if len(snapped):
        reason[snapped] = "outside every cell; snapped to the nearest (see distance_m)"
    result = _build_result(reports, prepared, where, code, distance, reason)
    return _add_routing(result, prepared, x, y, ok, opts)


def _snap(
    prepared: _Cells, x: np.ndarray, y: np.ndarray, tolerance: float
) -> tuple[np.ndarray, np.ndarray]:
    metric_crs, metric = prepared.metric()
    if not metric_crs.equals(prepared.crs):
        tr = Transformer.from_crs(prepared.crs, metric_crs, always_xy=True)
        x, y = tr.transform(x, y)
    pt, cell, dist = _nearest(metric, x, y, tolerance)
    out = np.full(len(x), -1, dtype=np.int64)
    dd = np.full(len(x), np.nan)
    if len(pt):
        order = np.lexsort((cell, pt))
        pt, cell, dist = pt[order], cell[order], dist[order]
        first = np.unique(pt, return_index=True)[1]
        out[pt[first]] = cell[first]
        dd[pt[first]] = dist[first]
    return out, dd


def _nearest(
    loc: CellLocator, x: np.ndarray, y: np.ndarray, tolerance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with gc_paused():
        points = shapely.points(x, y)
    (pt, cell), dist = loc.tree.query_nearest(
        points, max_distance=tolerance, return_distance=True, all_matches=True
    )
    return pt, cell, dist


def _build_result(
    reports: gpd.GeoDataFrame,
    prepared: _Cells,
    where: np.ndarray,
    code: np.ndarray,
    distance: np.ndarray,
    reason: np.ndarray,
) -> gpd.GeoDataFrame:
    """Add the location columns; ``code`` indexes STATUSES, ``reason`` is read where not assigned.

    Columns are built from integer codes (categoricals, a pyarrow ``take`` for ``reason``):
    10 million rows never pass through 10 million Python strings.
    """
    result = reports.copy(deep=False)  # copy-on-write: adding columns never touches reports
    clash = [c for c in _OUT_COLUMNS if c in result.columns]
    if clash:
        logger.warning("reports already have column(s) %s; they are replaced", clash)
    result["cell_code"] = pd.Categorical.from_codes(
        where.astype(np.int32), categories=pd.Index(prepared.cell_codes, dtype="str")
    )
    gcodes, guniq = pd.factorize(pd.Series(prepared.grid_codes, dtype="str"))
    grid = np.where(where >= 0, gcodes[np.maximum(where, 0)] if len(gcodes) else -1, -1)
    result["grid_code"] = pd.Categorical.from_codes(grid.astype(np.int32), categories=guniq)
    result["status"] = pd.Categorical.from_codes(code, categories=STATUSES)
    result["distance_m"] = distance
    result["reason"] = _reason_array(code, reason)
    return result


def _reason_array(code: np.ndarray, reason: np.ndarray) -> Any:
    """``pd.array(reason, dtype="str")``, where assigned rows are known to have ``""``."""
    other = np.flatnonzero(code != _ASSIGNED)
    texts = pa.array(pd.array(reason[other], dtype="str"))  # same conversion as for all rows
    dictionary = pa.concat_arrays([pa.array([""], type=texts.type), texts])
    take = np.zeros(len(code), dtype=np.int64)
    take[other] = np.arange(1, len(other) + 1)
    return pd.array(dictionary.take(pa.array(take)), dtype="str")


def _null_str_array(n: int) -> Any:
    """An all-missing ``str`` array of length ``n`` (as ``pd.array([None] * n, dtype="str")``)."""
    return pd.array(pa.nulls(n, type=pa.large_string()), dtype="str")


def _add_routing(
    result: gpd.GeoDataFrame,
    prepared: _Cells,
    x: np.ndarray,
    y: np.ndarray,
    ok: np.ndarray,
    opts: dict[str, Any],
) -> gpd.GeoDataFrame:
    cat = opts["category_col"]
    if opts["duplicates"] and cat in result.columns and opts["time_col"] in result.columns:
        mx, my = x, y
        if not _is_metric(prepared.crs):
            metric_crs = prepared.metric()[0]
            mx, my = np.full(len(x), np.nan), np.full(len(y), np.nan)
            if ok.any():
                tr = Transformer.from_crs(prepared.crs, metric_crs, always_xy=True)
                mx[ok], my[ok] = tr.transform(x[ok], y[ok])
        result["duplicate_of"] = _routing.duplicates_xy(
            result,
            np.where(ok, mx, np.nan),
            np.where(ok, my, np.nan),
            distance=opts["duplicate_distance"],
            minutes=opts["duplicate_minutes"],
            category_col=cat,
            time_col=opts["time_col"],
        )
    else:
        result["duplicate_of"] = pd.Series(pd.NA, index=result.index, dtype=object)
    if cat in result.columns:
        routed = route(
            result,
            categories=opts["categories"],
            rules=opts["rules"],
            owners=prepared.owners,
            category_col=cat,
            severity_col=opts["severity_col"],
            time_col=opts["time_col"],
        )
        for col in ("department", "department_en", "level"):
            result[col] = routed[col]
    else:
        logger.info("reports have no %r column: department and level are left empty", cat)
        for col in ("department", "department_en"):
            result[col] = _null_str_array(len(result))
        result["level"] = pd.array(np.zeros(len(result), dtype=np.int8), dtype="Int8")
        result["level"] = result["level"].where(result["level"] > 0)
    counts = {s: int(c) for s, c in result["status"].value_counts().reindex(STATUSES).items()}
    result.attrs["status_counts"] = counts
    return result[[*[c for c in result.columns if c not in _OUT_COLUMNS], *_OUT_COLUMNS]]
