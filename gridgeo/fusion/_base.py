"""Shared plumbing of :mod:`gridgeo.fusion`: input checks, one metric CRS, HTML tables."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gridgeo._validate import (
    is_metric,
    require_columns,
    require_crs,
    require_geodataframe,
    require_geom_types,
    require_nonempty,
    require_unique,
    require_valid,
    rows_preview,
)
from gridgeo.crs import from_declared, local_crs
from gridgeo.errors import ColumnError
from gridgeo.grids import GridPlan

#: Coordinate systems whose layers are marked (``attrs["coordinate_system"]``) by
#: :func:`gridgeo.crs.to_system` and must be converted to real coordinates first.
_OFFSET_SYSTEMS = ("gcj02", "bd09")


def grid_layer(obj: Any, name: str, code: str) -> gpd.GeoDataFrame:
    """Validate one grid system and return it with real coordinates (input untouched).

    ``obj`` is a GeoDataFrame or a :class:`~gridgeo.grids.GridPlan` (its ``grids``). A layer
    marked as GCJ-02 or BD-09 by :func:`gridgeo.crs.to_system` is converted to WGS 84 with
    :func:`gridgeo.crs.from_declared`.
    """
    if isinstance(obj, GridPlan):
        obj = obj.grids
    require_geodataframe(obj, name)
    require_nonempty(obj, name)
    if not isinstance(code, str):
        msg = f"the code column for {name} must be a column name (str), got {code!r}."
        raise TypeError(msg)
    marker = obj.attrs.get("coordinate_system")
    if marker in _OFFSET_SYSTEMS:
        obj = from_declared(obj, marker)
    require_crs(obj, name)
    require_columns(obj, [code], name)
    require_geom_types(obj, ["Polygon", "MultiPolygon"], name)
    require_valid(obj, name)
    missing = obj[code].isna().to_numpy()
    if missing.any():
        msg = (
            f"{name} column {code!r} is empty in row(s) {rows_preview(obj.index[missing])}; "
            "every grid needs a code. Fill or drop those rows."
        )
        raise ColumnError(msg)
    require_unique(obj[code].astype(str), f"{code!r} values", name)
    return obj


def target_crs(layer: gpd.GeoDataFrame) -> CRS:
    """The metric CRS the fusion works in: the layer's own if metric, else its local one."""
    return layer.crs if is_metric(layer.crs) else local_crs(layer)


def in_crs(layer: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """``layer`` in ``crs`` (the same object when it already is)."""
    return layer if layer.crs.equals(crs) else layer.to_crs(crs)


def geoms_codes(layer: gpd.GeoDataFrame, code: str) -> tuple[np.ndarray, np.ndarray]:
    """Geometries (object array) and codes (str array) of a validated layer."""
    geoms = np.asarray(layer.geometry.values, dtype=object)
    codes = layer[code].astype(str).to_numpy(dtype=object)
    return geoms, codes


def check_names(names: Sequence[str] | None, count: int, default: Sequence[str]) -> list[str]:
    """Validate system names: ``count`` distinct non-empty strings."""
    if names is None:
        return list(default)
    if isinstance(names, str) or len(names) != count:
        msg = f"names must be a list of {count} system names (one per system), got {names!r}."
        raise ValueError(msg)
    out = [str(n) for n in names]
    if any(not n for n in out) or len(set(out)) != len(out):
        msg = f"names must be distinct non-empty strings, got {out!r}."
        raise ValueError(msg)
    return out


def check_number(value: Any, name: str, *, positive: bool = False) -> float:
    """A finite number >= 0 (> 0 when ``positive``), or ``ValueError`` naming it."""
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    ok = ok and bool(np.isfinite(value)) and (value > 0 if positive else value >= 0)
    if not ok:
        what = "a positive number" if positive else "a number >= 0"
        msg = f"{name} must be {what}, got {value!r}."
        raise ValueError(msg)
    return float(value)


def coverage_union(parts: np.ndarray) -> Any:
    """Union of the polygons of one coverage: the fast coverage union, else the general one
    (for parts that meet in a way the coverage union rejects, e.g. after rounding)."""
    if len(parts) == 1:
        return parts[0]
    try:
        return shapely.coverage_union_all(parts)
    except shapely.errors.GEOSException:
        return shapely.union_all(parts)


def fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value)


def table_html(df: pd.DataFrame | None, limit: int = 10) -> str:
    """A small escaped HTML table of the first ``limit`` rows (geometry left out)."""
    if df is None or len(df) == 0:
        return "<p><i>none</i></p>"
    shown = pd.DataFrame(df).drop(columns="geometry", errors="ignore").head(limit)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(fmt(v))}</td>" for v in row) + "</tr>"
        for row in shown.itertuples(index=False)
    )
    more = f"<p>… {len(df) - limit} more</p>" if len(df) > limit else ""
    return f"<table><tr>{head}</tr>{rows}</table>{more}"
