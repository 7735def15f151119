"""Assign reports to base cells and responsibility grids; route them to departments.

The public face is :mod:`gridgeo.assignment`; :func:`assign` is also ``gg.assign`` at the top
level, and ``gg.assignment.route(...)``, ``gg.assignment.summary(...)`` reach the rest.

Every report comes back, in input order and with its index, columns and CRS, plus:

========== =================================================================================
column     meaning
========== =================================================================================
cell_code  the base cell (str, ``<NA>`` when none)
grid_code  the responsibility grid of that cell (str, ``<NA>`` when none)
status     ``assigned`` | ``snapped`` | ``outside`` | ``invalid_coords`` | ``missing_coords``
distance_m metres to the cell: 0 when assigned, the snapping distance when snapped, else NaN
reason     empty when assigned; otherwise a human explanation (``coord_issue`` kept verbatim)
department disposal department (监管分离 routing, :func:`route`)
department_en  the same in English
level      response level: 3 grid, 2 squad, 1 departments (:class:`LevelRules`)
duplicate_of   index label of the first report this one probably duplicates, else ``<NA>``
========== =================================================================================

**Boundary rule.** A point on a shared edge or vertex goes to exactly one cell: the one that
contains the point nudged infinitesimally east, then north, ``p + (ε, ε²)``. For a fishnet that
is the half-open rule ``[x0, x1) × [y0, y1)``: a point on a vertical edge goes to the eastern
cell, on a horizontal edge to the northern cell, on a corner to the north-eastern cell. It is
decided exactly (orientation signs with an exact-arithmetic fallback), never with a numeric
epsilon. A point covered by one cell only — including one on the outer edge of the district —
goes to that cell. On the outer edge where two cells meet, the nudges west-north, east-south and
west-south are tried in turn (so the half-open rule holds along the other axis). The engines
live in :mod:`gridgeo.assignment._engines`.

**Snapping.** A point outside every cell but within ``tolerance`` metres of one (GPS error at
the district edge) is ``snapped`` to the nearest cell; ties go to the first cell in row order.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gridgeo._validate import (
    require_columns,
    require_crs,
    require_geodataframe,
)
from gridgeo.assignment._engines import ENGINES
from gridgeo.assignment._frame import STATUSES, _assign_frame
from gridgeo.assignment._prepare import _canonical_coords, _check_options, _prepare_cells
from gridgeo.assignment._routing import LevelRules
from gridgeo.assignment._scale import _assign_dask, _is_dask, assign_chunks
from gridgeo.crs import declared_system

__all__ = ["ENGINES", "STATUSES", "assign", "assign_chunks", "summary"]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------
def assign(
    reports: Any,
    cells: Any,
    grids: Any = None,
    tolerance: float = 0.0,
    *,
    crs: str | None = None,
    coords: str | None = None,
    engine: str = "auto",
    categories: pd.DataFrame | Mapping[str, str] | str | Path | None = None,
    rules: LevelRules | None = None,
    category_col: str = "category_code",
    severity_col: str = "severity",
    time_col: str = "reported_at",
    duplicates: bool = True,
    duplicate_distance: float = 50.0,
    duplicate_minutes: float = 60.0,
) -> Any:
    """Assign every report to a base cell and its responsibility grid, and route it.

    Parameters
    ----------
    reports : GeoDataFrame or dask_geopandas.GeoDataFrame
        Point reports, typically from :func:`gridgeo.io.read_reports`. Rows whose
        ``coord_status`` is ``missing_coords``/``invalid_coords`` or whose geometry is missing,
        empty, not a point or not finite come back with that status. A Dask GeoDataFrame is
        processed partition by partition and a Dask GeoDataFrame is returned (see
        ``docs/dask.md``).
    cells : GeoDataFrame or GridPlan
        Base cells (Polygon/MultiPolygon) with a unique ``cell_code``; any CRS. Reports are
        reprojected to it. A ``grid_code`` column is used when ``grids`` is None. The fast
        engines assume cells do not overlap (gaps are fine). A :class:`gridgeo.grids.GridPlan`
        stands for its cells and its grids (``assign(reports, plan)``; leave ``grids`` None).
    grids : GeoDataFrame, grid plan or None
        Grid polygons with ``grid_code`` (each cell joins the grid containing its
        representative point), or any object with a ``.cells`` table holding ``cell_code`` and
        ``grid_code`` (a :mod:`gridgeo.grids` plan). An ``owner`` column on the grids gives the
        default owner of ownerless components.
    tolerance : float
        Metres: a point outside every cell but within this distance of one is ``snapped`` to
        the nearest cell. 0 disables snapping.
    crs : {"gcj02", "bd09", "wgs84", "cgcs2000"}, optional
        Declare that the point coordinates are lon/lat in this system (whatever CRS the
        layer carries); GCJ-02/BD-09 are converted with :func:`gridgeo.crs.from_declared`.
        Not needed when the layer was declared already (:func:`gridgeo.crs.declare`, or read
        with ``crs=``): that declaration is honoured, for the reports and for the cells.
    coords : str, optional
        Former name of ``crs`` (deprecated; gives a ``FutureWarning``).
    engine : {"auto", "fishnet", "raster", "strtree", "exact"}
        Point-in-polygon engine; all give identical results (``exact`` is the slow reference).
    categories : DataFrame, dict, path or None
        Routing table: None for :func:`gridgeo.categories.default_categories`, a table or file
        for :func:`gridgeo.categories.load`, or ``{category_code: department}`` overrides.
    rules : LevelRules, optional
        Response level rules; default :class:`LevelRules()`.
    category_col, severity_col, time_col : str
        Report columns holding the category code, severity (1–3) and report time. Routing
        is skipped (empty department/level) without ``category_col``; duplicate flagging and
        repeat escalation need ``time_col``.
    duplicates : bool
        Flag probable duplicates (:func:`flag_duplicates`).
    duplicate_distance, duplicate_minutes : float
        Same-category reports within this many metres and minutes after a first report are
        flagged as its duplicates.

    Returns
    -------
    GeoDataFrame
        The reports (same index, order, CRS and columns) plus the columns listed in the
        module docstring. ``attrs["status_counts"]`` holds the count of every status;
        :func:`summary` returns them as a Series. ``attrs["overlapping_cells"]`` lists
        ``(cell_code, cell_code, area)`` for cells that overlap (also logged as a warning;
        a report in an overlap goes to one of them only).

    Raises
    ------
    TypeError
        ``reports``/``cells`` are not GeoDataFrames, or ``grids`` is of an unknown kind.
    CRSError
        ``cells`` or ``reports`` have no CRS (and no ``coords`` declaration).
    ColumnError
        ``cells`` lacks ``cell_code`` (or ``grids`` lacks ``grid_code``).
    DuplicateIdError
        Repeated cell codes.
    GeometryError
        Cells that are not valid polygons.
    ValueError
        Negative ``tolerance``, unknown ``engine`` or ``coords``.

    Examples
    --------
    >>> import geopandas as gpd, gridgeo as gg
    >>> from shapely import Point, box
    >>> cells = gpd.GeoDataFrame({"cell_code": ["A", "B"], "grid_code": ["G1", "G2"]},
    ...                          geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
    ...                          crs="EPSG:4547")
    >>> reports = gpd.GeoDataFrame({"category_code": ["E0101", "C0107", "E0401"]},
    ...     geometry=[Point(100, 50), Point(205, 50), None], crs="EPSG:4547")
    >>> out = gg.assign(reports, cells, tolerance=10)
    >>> out[["cell_code", "grid_code", "status", "distance_m", "level"]]
      cell_code grid_code          status  distance_m  level
    0         B        G2        assigned         0.0      3
    1         B        G2         snapped         5.0      3
    2       NaN       NaN  missing_coords         NaN      1
    >>> out.attrs["status_counts"]["assigned"]
    1
    """
    if coords is not None:
        if crs is not None:
            msg = "pass crs= only (coords= is its former name)."
            raise TypeError(msg)
        warnings.warn(
            "gridgeo.assign(coords=...) is deprecated; use crs=... (the same keyword as "
            "gridgeo.io.read_reports and read_layer).",
            FutureWarning,
            stacklevel=2,
        )
        crs = coords
    if crs is None and not _is_dask(reports):
        crs = declared_system(reports)
    coords = crs
    _check_options(tolerance, engine, coords)
    opts = {
        "tolerance": float(tolerance),
        "coords": _canonical_coords(coords),
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
    if _is_dask(reports):
        prepared = _prepare_cells(cells, grids)
        return _assign_dask(reports, prepared, opts)
    require_geodataframe(reports, "reports")
    if coords is None:
        require_crs(reports, "reports")
    prepared = _prepare_cells(cells, grids)
    if rules is not None and not isinstance(rules, LevelRules):
        msg = f"rules must be a gridgeo.assignment.LevelRules, got {type(rules).__name__}."
        raise TypeError(msg)
    result = _assign_frame(reports, prepared, opts)
    result.attrs["overlapping_cells"] = list(prepared.overlaps)
    counts = result.attrs["status_counts"]
    logger.info("assigned reports: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
    return result


def summary(result: gpd.GeoDataFrame) -> pd.Series:
    """Count the reports of every status in an :func:`assign` result.

    Parameters
    ----------
    result : GeoDataFrame
        Output of :func:`assign` (a ``status`` column).

    Returns
    -------
    pandas.Series
        Counts indexed by the five statuses, in the order of :data:`STATUSES`, zeros included.

    Raises
    ------
    ColumnError
        ``result`` has no ``status`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> summary(pd.DataFrame({"status": ["assigned", "outside", "assigned"]})).tolist()
    [2, 0, 1, 0, 0]
    """
    require_columns(result, ["status"], "result")
    counts = pd.Series(np.asarray(result["status"], dtype=object)).value_counts()
    out = counts.reindex(list(STATUSES), fill_value=0).astype("int64")
    out.index.name = "status"
    return out.rename("count")
