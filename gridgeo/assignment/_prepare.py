"""Prepared cells for :func:`gridgeo.assignment.assign` (private): checks, CRS, grid codes.

The cells are validated and indexed once (:func:`_prepare_cells`), with their grid codes and
owners, and the options of :func:`assign` / :func:`assign_chunks` are checked here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

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
    require_unique,
    require_valid,
    rows_preview,
)
from gridgeo.assignment._engines import ENGINES, CellLocator
from gridgeo.assignment._overlaps import overlapping_pairs
from gridgeo.crs import real
from gridgeo.errors import ColumnError, CRSError

logger = logging.getLogger("gridgeo.assignment._assign")  # the name before the split

_DECLARED = ("wgs84", "gcj02", "bd09", "cgcs2000")


# --------------------------------------------------------------------------------------------
# prepared cells
# --------------------------------------------------------------------------------------------
@dataclass
class _Cells:
    """Validated cells with their locator, codes and grid owners; shipped once to Dask workers."""

    locator: CellLocator
    crs: CRS
    cell_codes: np.ndarray
    grid_codes: np.ndarray
    owners: dict[str, str] = field(default_factory=dict)
    _metric: tuple[CRS, CellLocator] | None = None
    overlaps: tuple[tuple[str, str, float], ...] = ()

    def metric(self) -> tuple[CRS, CellLocator]:
        """The cells in a metric CRS (themselves when already metric), for snapping."""
        if self._metric is None:
            if _is_metric(self.crs):
                self._metric = (self.crs, self.locator)
            else:
                from gridgeo.crs import local_crs

                geoms = gpd.GeoSeries(self.locator.geoms, crs=self.crs)
                target = local_crs(geoms)
                self._metric = (target, CellLocator(geoms.to_crs(target).values))
        return self._metric

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_metric"] = None
        return state


def _is_metric(crs: CRS) -> bool:
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    return bool(crs.is_projected and unit in {"metre", "meter"})


def _prepare_cells(cells: Any, grids: Any) -> _Cells:
    plan_cells = getattr(cells, "cells", None)
    if not isinstance(cells, pd.DataFrame) and isinstance(plan_cells, gpd.GeoDataFrame):
        if grids is not None:
            msg = "cells is a grid plan, which already holds the grids; leave grids=None."
            raise TypeError(msg)
        cells, grids = plan_cells, cells  # a GridPlan: its cells, and itself as the grids
    require_geodataframe(cells, "cells")
    cells = real(cells)
    require_nonempty(cells, "cells")
    require_crs(cells, "cells")
    require_columns(cells, ["cell_code"], "cells")
    require_geom_types(cells, ["Polygon", "MultiPolygon"], "cells")
    require_valid(cells, "cells")
    codes = cells["cell_code"]
    if codes.isna().any():
        msg = f"cells has missing cell_code in row(s) {rows_preview(cells.index[codes.isna()])}."
        raise ColumnError(msg)
    codes = codes.astype(str).to_numpy(dtype=object)
    require_unique(pd.Index(codes), "cell_code values", "cells")
    grid_codes, owners = _grid_codes(cells, codes, grids)
    prepared = _Cells(
        CellLocator(cells.geometry.values.copy()), cells.crs, codes, grid_codes, owners
    )
    prepared.overlaps = _overlaps(np.asarray(cells.geometry.values), codes)
    return prepared


def _overlaps(geoms: np.ndarray, codes: np.ndarray) -> tuple[tuple[str, str, float], ...]:
    """Overlapping cell pairs ``(code, code, area)``, logged as a warning when there are any."""
    found = overlapping_pairs(geoms)
    if found is None or len(found[0]) == 0:
        return ()
    pairs = tuple((str(codes[i]), str(codes[j]), float(a)) for i, j, a in zip(*found, strict=True))
    shown = ", ".join(f"{a!r}/{b!r} ({area:.6g})" for a, b, area in pairs[:5])
    logger.warning(
        "cells: %d pair(s) of cells overlap: %s%s. Reports in an overlap go to one of the two "
        "cells only; fix the cells (gridgeo.cells.validate lists every overlap). The pairs are "
        "in result.attrs['overlapping_cells'].",
        len(pairs),
        shown,
        " …" if len(pairs) > 5 else "",
    )
    return pairs


def _owner_map(table: Any) -> dict[str, str]:
    if isinstance(table, pd.DataFrame) and {"grid_code", "owner"} <= set(table.columns):
        sub = table[["grid_code", "owner"]].dropna()
        return dict(zip(sub["grid_code"].astype(str), sub["owner"].astype(str), strict=True))
    return {}


def _grid_codes(
    cells: gpd.GeoDataFrame, codes: np.ndarray, grids: Any
) -> tuple[np.ndarray, dict[str, str]]:
    n = len(codes)
    if grids is None:
        if "grid_code" in cells.columns:
            gc = cells["grid_code"]
            return np.where(gc.isna(), None, gc.astype(str)).astype(object), {}
        return np.full(n, None, dtype=object), {}
    if isinstance(grids, gpd.GeoDataFrame):
        require_nonempty(grids, "grids")
        require_crs(grids, "grids")
        require_columns(grids, ["grid_code"], "grids")
        require_geom_types(grids, ["Polygon", "MultiPolygon"], "grids")
        require_valid(grids, "grids")
        reps = gpd.GeoSeries(shapely.point_on_surface(cells.geometry.values), crs=cells.crs)
        if not grids.crs.equals(cells.crs):
            reps = reps.to_crs(grids.crs)
        where = CellLocator(grids.geometry.values.copy()).locate(
            shapely.get_x(reps.values), shapely.get_y(reps.values)
        )
        gcodes = grids["grid_code"].astype(str).to_numpy(dtype=object)
        out = np.where(where >= 0, gcodes[np.maximum(where, 0)], None).astype(object)
        if (where < 0).any():
            logger.warning("%d cell(s) lie in no grid; their grid_code is <NA>", (where < 0).sum())
        return out, _owner_map(grids)
    table = getattr(grids, "cells", None)
    if isinstance(table, pd.DataFrame):
        require_columns(table, ["cell_code", "grid_code"], "grids.cells")
        mapping = pd.Series(
            table["grid_code"].to_numpy(), index=table["cell_code"].astype(str).to_numpy()
        )
        mapping = mapping[~mapping.index.duplicated()]
        out = mapping.reindex(codes).to_numpy(dtype=object)
        out = np.where(pd.isna(out), None, out.astype(str)).astype(object)
        return out, _owner_map(getattr(grids, "grids", None)) | _owner_map(table)
    msg = (
        "grids must be None, a GeoDataFrame of grid polygons with a 'grid_code' column, or a "
        f"grid plan with a .cells table (cell_code, grid_code); got {type(grids).__name__}."
    )
    raise TypeError(msg)


def _check_options(tolerance: float, engine: str, coords: str | None) -> None:
    if not (isinstance(tolerance, int | float | np.number) and np.isfinite(tolerance)):
        msg = f"tolerance must be a number of metres, got {tolerance!r}."
        raise ValueError(msg)
    if tolerance < 0:
        msg = f"tolerance must be >= 0 metres, got {tolerance!r}; use 0 to disable snapping."
        raise ValueError(msg)
    if engine not in ENGINES:
        msg = f"engine must be one of {', '.join(map(repr, ENGINES))}, got {engine!r}."
        raise ValueError(msg)
    if coords is not None and _canonical_coords(coords) not in _DECLARED:
        msg = f"crs must be one of {', '.join(map(repr, _DECLARED))} or None, got {coords!r}."
        raise CRSError(msg)


def _canonical_coords(coords: str | None) -> str | None:
    if coords is None:
        return None
    return str(coords).lower().replace("-", "").replace("_", "").replace(" ", "")
