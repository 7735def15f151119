"""Input checks and output assembly shared by the cell generators, codes and validation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gridgeo._validate import (
    require_columns,
    require_crs,
    require_geodataframe,
    require_geom_types,
    require_nonempty,
    require_valid,
)
from gridgeo.cells import _cleanup as _cells_lattice
from gridgeo.cells import _lattice as _cellgrid
from gridgeo.cells._codes import NEST_COLUMNS
from gridgeo.crs import to_metric

_POLYGONS = ("Polygon", "MultiPolygon")
_LINES_OR_POLYGONS = ("LineString", "MultiLineString", "LinearRing", "Polygon", "MultiPolygon")


# --------------------------------------------------------------------------- input helpers
_F = TypeVar("_F", bound=Callable[..., Any])


def _quiet_fp(func: _F) -> _F:
    """Silence floating-point status flags GEOS leaves behind in shapely's ufuncs.

    GEOS handles infinities and divisions by zero inside its robust predicates on purpose;
    numpy then reports the leftover flags as ``RuntimeWarning: divide by zero encountered in
    difference`` although the result is correct.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _frame(obj: Any, name: str) -> gpd.GeoDataFrame:
    if isinstance(obj, gpd.GeoSeries):
        obj = obj.to_frame(name="geometry")
    return require_geodataframe(obj, name)


def _district(area: Any, name: str = "area") -> tuple[shapely.Geometry, CRS, CRS]:
    """Validate a district layer; return its union in a metric CRS, that CRS and the input CRS."""
    frame = _frame(area, name)
    require_nonempty(frame, name)
    require_crs(frame, name)
    require_geom_types(frame, _POLYGONS, name)
    require_valid(frame, name)
    _cells_lattice.check_degrees(tuple(frame.total_bounds), CRS.from_user_input(frame.crs), name)
    metric = to_metric(frame)
    district = shapely.union_all(metric.geometry.values)
    return district, metric.crs, frame.crs


def _nest(nest: Any, crs: CRS) -> tuple[np.ndarray, pd.DataFrame]:
    """Validate the communities layer; return its geometries in ``crs`` and its nesting columns."""
    if nest is None:
        return np.empty(0, dtype=object), pd.DataFrame(columns=list(NEST_COLUMNS))
    frame = _frame(nest, "nest")
    require_nonempty(frame, "nest")
    require_crs(frame, "nest")
    require_columns(frame, NEST_COLUMNS, "nest")
    require_geom_types(frame, _POLYGONS, "nest")
    require_valid(frame, "nest")
    geoms = np.asarray(frame.to_crs(crs).geometry.values, dtype=object)
    attrs = pd.DataFrame(frame[list(NEST_COLUMNS)]).reset_index(drop=True)
    return geoms, attrs


def _barriers(barriers: Any, crs: CRS) -> np.ndarray:
    """Validate barrier layers (one or a list); return their geometries in ``crs``."""
    if barriers is None:
        return np.empty(0, dtype=object)
    layers = list(barriers) if isinstance(barriers, list | tuple) else [barriers]
    out = []
    for k, layer in enumerate(layers):
        name = "barriers" if len(layers) == 1 else f"barriers[{k}]"
        frame = _frame(layer, name)
        if len(frame) == 0:
            continue
        require_crs(frame, name)
        require_geom_types(frame, _LINES_OR_POLYGONS, name)
        out.append(np.asarray(frame.to_crs(crs).geometry.values, dtype=object))
    return np.concatenate(out) if out else np.empty(0, dtype=object)


def _result(
    geoms: np.ndarray,
    comm: np.ndarray | None,
    nest_attrs: pd.DataFrame | None,
    metric_crs: CRS,
    out_crs: CRS,
    extra: dict[str, Any] | None = None,
) -> gpd.GeoDataFrame:
    """Assemble the output: nesting columns, extras, ``area_m2``; back in the input CRS."""
    data: dict[str, Any] = {}
    if nest_attrs is not None and comm is not None:
        ok = comm >= 0
        picked = nest_attrs.reindex(np.where(ok, comm, -1)).reset_index(drop=True)
        for col in NEST_COLUMNS:
            data[col] = picked[col].array
    data.update(extra or {})
    data["area_m2"] = shapely.area(geoms)
    cells = gpd.GeoDataFrame(data, geometry=np.asarray(geoms, dtype=object), crs=metric_crs)
    if not CRS.from_user_input(out_crs).equals(metric_crs):
        cells = cells.to_crs(out_crs)
        bad = ~shapely.is_valid(np.asarray(cells.geometry.values, dtype=object))
        if bad.any():  # reprojection can fold a tiny piece; repair it in place
            fixed = shapely.make_valid(np.asarray(cells.geometry.values[bad], dtype=object))
            cells.loc[bad, "geometry"] = _cellgrid._polygonal(fixed)
    return cells


def _nested(
    geoms: np.ndarray, nest_geoms: np.ndarray, nest_attrs: pd.DataFrame, extra: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any]]:
    if len(nest_geoms) == 0:
        return geoms, None, extra
    parts, owner, comm = _cellgrid.split_by_communities(geoms, nest_geoms)
    return parts, comm, {k: np.asarray(v)[owner] for k, v in extra.items()}
