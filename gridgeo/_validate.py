"""Shared input checks. Every public function validates through these before doing work.

Each helper raises a :mod:`gridgeo.errors` exception whose message names the argument
(``name``), the column and the first offending rows, and says how to fix the problem.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from types import ModuleType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgeo.errors import (
    ColumnError,
    CRSError,
    DuplicateIdError,
    EmptyInputError,
    GeometryError,
    OptionalDependencyError,
)

_MAX_LISTED = 5


def rows_preview(index: Iterable[Any], limit: int = _MAX_LISTED) -> str:
    """Return ``"3, 17, 42 (and 9 more)"`` for a list of row labels."""
    labels = list(index)
    shown = ", ".join(repr(x) if isinstance(x, str) else str(x) for x in labels[:limit])
    if len(labels) > limit:
        shown += f" (and {len(labels) - limit} more)"
    return shown


def require_geodataframe(obj: Any, name: str) -> gpd.GeoDataFrame:
    """Check that ``obj`` is a GeoDataFrame with an active geometry column."""
    if not isinstance(obj, gpd.GeoDataFrame):
        msg = (
            f"{name} must be a geopandas GeoDataFrame, got {type(obj).__name__}. "
            "Read files with gridgeo.io.read_layer(), or build one with geopandas.GeoDataFrame()."
        )
        raise TypeError(msg)
    try:
        obj.geometry  # noqa: B018  (raises when no active geometry column)
    except AttributeError as err:
        msg = f"{name} has no active geometry column; call .set_geometry('<column>') first."
        raise GeometryError(msg) from err
    return obj


def require_nonempty(obj: pd.DataFrame, name: str) -> None:
    """Raise :class:`EmptyInputError` when ``obj`` has no rows."""
    if len(obj) == 0:
        msg = f"{name} is empty (0 rows); pass a layer with at least one feature."
        raise EmptyInputError(msg)


def require_columns(
    df: pd.DataFrame,
    columns: Sequence[str],
    name: str,
    *,
    params: Mapping[str, str] | None = None,
) -> None:
    """Raise :class:`ColumnError` naming every required column that is missing.

    ``params`` maps a column to the keyword argument that names it, so the message can tell
    the caller which argument to pass (``{"reported_at": "time_col"}``); columns without one
    must be renamed.
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns[:20]))
        params = params or {}
        fixes = [
            f"pass {params[c]}='<your column>'" if c in params else f"rename your column to {c!r}"
            for c in missing
        ]
        msg = (
            f"{name} is missing column(s) {', '.join(map(repr, missing))}. "
            f"Columns present: {have}. To fix: {'; '.join(fixes)}."
        )
        raise ColumnError(msg)


def require_crs(gdf: gpd.GeoDataFrame, name: str) -> None:
    """Raise :class:`CRSError` when a layer has no CRS."""
    if gdf.crs is None:
        msg = (
            f"{name} has no CRS. Set the one your data is in, for example "
            f"{name}.set_crs('EPSG:4490') for CGCS2000 lon/lat or 'EPSG:4547' for the "
            "CGCS2000 3-degree Gauss-Kruger zone at 114E; GCJ-02 or BD-09 data should be "
            "converted with gridgeo.crs.from_declared(layer, 'gcj02')."
        )
        raise CRSError(msg)


def is_metric(crs: Any) -> bool:
    """True for a projected CRS in metres whose lengths are true to scale locally.

    Mercator variants (EPSG:3857 Web Mercator, EPSG:3395) are projected in "metres" but inflate
    lengths by 1/cos(latitude) — 2.4 times in area at 50°N — so they do not count as metric.
    """
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if not crs.is_projected or unit not in {"metre", "meter"}:
        return False
    method = crs.coordinate_operation.method_name if crs.coordinate_operation else ""
    return "mercator" not in method.lower() or "transverse" in method.lower()


def require_metric(gdf: gpd.GeoDataFrame, name: str) -> None:
    """Raise :class:`CRSError` unless the layer's CRS is projected in true metres."""
    require_crs(gdf, name)
    if not is_metric(gdf.crs):
        msg = (
            f"{name} is in {gdf.crs.name!r}, which is not a metric projected CRS true to scale "
            "(Web Mercator distorts distances); areas and distances need metres. Reproject "
            "with layer.to_crs(gridgeo.crs.local_crs(layer))."
        )
        raise CRSError(msg)


def require_geom_types(gdf: gpd.GeoDataFrame, allowed: Sequence[str], name: str) -> None:
    """Raise :class:`GeometryError` when a geometry is missing or of a type not allowed."""
    geoms = gdf.geometry.values
    missing = np.asarray(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if missing.any():
        rows = rows_preview(gdf.index[missing])
        msg = f"{name} has missing or empty geometries in row(s) {rows}; drop or fix them."
        raise GeometryError(msg)
    types = np.asarray(shapely.get_type_id(geoms))
    allowed_ids = {_TYPE_IDS[t] for t in allowed}
    bad = ~np.isin(types, list(allowed_ids))
    if bad.any():
        found = sorted({gdf.geometry.iloc[i].geom_type for i in np.flatnonzero(bad)[:50]})
        msg = (
            f"{name} must hold {' or '.join(allowed)} geometries, but row(s) "
            f"{rows_preview(gdf.index[bad])} are {', '.join(found)}."
        )
        raise GeometryError(msg)


def require_valid(gdf: gpd.GeoDataFrame, name: str) -> None:
    """Raise :class:`GeometryError` naming invalid geometries and the reason shapely gives."""
    geoms = gdf.geometry.values
    invalid = ~np.asarray(shapely.is_valid(geoms))
    if invalid.any():
        first = np.flatnonzero(invalid)[0]
        reason = shapely.is_valid_reason(geoms[first])
        msg = (
            f"{name} has invalid geometries in row(s) {rows_preview(gdf.index[invalid])} "
            f"(first: {reason}). Repair them with layer.make_valid() or shapely.make_valid, "
            "or fix them in your GIS."
        )
        raise GeometryError(msg)


def require_unique(values: pd.Series | pd.Index, what: str, name: str) -> None:
    """Raise :class:`DuplicateIdError` listing repeated values."""
    dup = pd.Index(values)[pd.Index(values).duplicated()]
    if len(dup):
        msg = (
            f"{name} has duplicate {what}: {rows_preview(pd.unique(dup))}. "
            f"Each {what} must appear once; de-duplicate or re-number them."
        )
        raise DuplicateIdError(msg)


def require_same_crs(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, names: tuple[str, str]) -> None:
    """Raise :class:`CRSError` when two layers are in different CRSs."""
    require_crs(a, names[0])
    require_crs(b, names[1])
    if not a.crs.equals(b.crs):
        msg = (
            f"{names[0]} is in {a.crs.to_string()} but {names[1]} is in {b.crs.to_string()}; "
            f"reproject one, e.g. {names[1]}.to_crs({names[0]}.crs)."
        )
        raise CRSError(msg)


def require_positive(value: float, name: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number above zero."""
    if not (isinstance(value, int | float | np.number) and np.isfinite(value) and value > 0):
        msg = f"{name} must be a positive number, got {value!r}."
        raise ValueError(msg)


def optional_import(module: str, extra: str) -> ModuleType:
    """Import an optional dependency or raise an error that says how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        msg = (
            f"This feature needs the optional dependency {module!r}. "
            f"Install it with: pip install 'gridgeo[{extra}]'"
        )
        raise OptionalDependencyError(msg) from err


_TYPE_IDS = {
    "Point": 0,
    "LineString": 1,
    "LinearRing": 2,
    "Polygon": 3,
    "MultiPoint": 4,
    "MultiLineString": 5,
    "MultiPolygon": 6,
    "GeometryCollection": 7,
}


def plan_layers(obj: Any, grids: Any = None, name: str = "cells") -> tuple[Any, Any]:
    """``(cells, grids)`` from a grid plan (an object with ``.cells`` and ``.grids``
    GeoDataFrames, such as :class:`gridgeo.grids.GridPlan`), else ``(obj, grids)`` unchanged.

    Lets every function that takes cells and grids take a plan instead.
    """
    plan_cells = getattr(obj, "cells", None)
    plan_grids = getattr(obj, "grids", None)
    if isinstance(obj, pd.DataFrame) or not isinstance(plan_cells, gpd.GeoDataFrame):
        return obj, grids
    if grids is not None:
        msg = f"{name} is a grid plan, which already holds the grids; leave grids=None."
        raise TypeError(msg)
    return plan_cells, plan_grids
