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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from pyproj import CRS, Transformer
from tqdm import tqdm

from gridgeo._gc import gc_paused
from gridgeo._validate import (
    optional_import,
    require_columns,
    require_crs,
    require_geodataframe,
    require_geom_types,
    require_nonempty,
    require_unique,
    require_valid,
    rows_preview,
)
from gridgeo.assignment import _routing
from gridgeo.assignment._engines import ENGINES, CellLocator
from gridgeo.assignment._overlaps import overlapping_pairs
from gridgeo.assignment._routing import LevelRules, route
from gridgeo.crs import declared_system, real
from gridgeo.errors import ColumnError, CRSError

__all__ = ["ENGINES", "STATUSES", "assign", "assign_chunks", "summary"]

logger = logging.getLogger(__name__)

STATUSES = ("assigned", "snapped", "outside", "invalid_coords", "missing_coords")
_ASSIGNED, _SNAPPED, _OUTSIDE, _INVALID, _MISSING = range(5)  # positions in STATUSES
_OK = -1  # internal: coordinates usable, not yet located
_DECLARED = ("wgs84", "gcj02", "bd09", "cgcs2000")
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


# --------------------------------------------------------------------------------------------
# Dask
# --------------------------------------------------------------------------------------------
def _is_dask(obj: Any) -> bool:
    mod = type(obj).__module__
    return mod.startswith(("dask_geopandas", "dask.", "dask_expr"))


def _assign_partition(part: gpd.GeoDataFrame, prepared: _Cells, opts: dict[str, Any]) -> Any:
    return _assign_frame(part, prepared, opts)


def _assign_dask(reports: Any, prepared: _Cells, opts: dict[str, Any]) -> Any:
    optional_import("dask_geopandas", "dask")
    import dask

    meta_in = reports._meta
    if not isinstance(meta_in, gpd.GeoDataFrame):
        msg = "reports must be a dask_geopandas.GeoDataFrame of points."
        raise TypeError(msg)
    if opts["coords"] is None:
        require_crs(meta_in, "reports")
    meta = _assign_frame(meta_in, prepared, opts)
    meta.attrs.clear()
    shared: Any = dask.delayed(prepared, pure=True)
    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        client = None
    if client is not None:
        future = client.scatter(prepared, broadcast=True, hash=False)
        shared = dask.delayed(lambda cells: cells)(future)
        logger.info("cells broadcast to %d Dask workers", len(client.scheduler_info()["workers"]))
    return reports.map_partitions(_assign_partition, shared, opts, meta=meta)


# --------------------------------------------------------------------------------------------
# chunked runs (iter_reports -> assign_chunks -> hotspots.count_chunks; docs/large-files.md)
# --------------------------------------------------------------------------------------------
def assign_chunks(
    chunks: Iterable[gpd.GeoDataFrame],
    cells: Any,
    grids: Any = None,
    tolerance: float = 0.0,
    *,
    crs: str | None = None,
    engine: str = "auto",
    categories: pd.DataFrame | Mapping[str, str] | str | Path | None = None,
    rules: LevelRules | None = None,
    category_col: str = "category_code",
    severity_col: str = "severity",
    time_col: str = "reported_at",
    duplicates: bool = False,
    duplicate_distance: float = 50.0,
    duplicate_minutes: float = 60.0,
    progress: bool = False,
) -> Iterator[gpd.GeoDataFrame]:
    """Assign reports that arrive in chunks; yield one assigned frame per chunk.

    For files too large for memory: feed it :func:`gridgeo.io.iter_reports` and sum the
    results with :func:`gridgeo.hotspots.count_chunks`, keeping one chunk in memory at a
    time. The cells are validated and indexed once. Every chunk is assigned by the same code
    as :func:`assign`, so statuses, cells, grids, distances, reasons and departments equal one
    pass over all the reports. Two things look *across* reports and see only their own
    chunk: probable duplicates (hence ``duplicates=False`` by default here) and the
    repeat escalation of :class:`LevelRules` (``level``); pass
    ``rules=LevelRules(repeat_count=0)`` for levels that equal one pass as well.

    Parameters
    ----------
    chunks : iterable of GeoDataFrame
        Report chunks, e.g. ``gridgeo.io.iter_reports(path, chunksize=500_000)``. Consumed
        lazily, one at a time.
    cells, grids, tolerance, crs, engine, categories, rules
        As for :func:`assign`; without ``crs`` each chunk's declared system (if any) is used.
    category_col, severity_col, time_col, duplicates, duplicate_distance, duplicate_minutes
        As for :func:`assign` (``duplicates`` defaults to False, see above).
    progress : bool
        Show a progress bar over the chunks.

    Returns
    -------
    iterator of GeoDataFrame
        One :func:`assign` result per chunk, lazily (nothing runs before iteration).

    Raises
    ------
    TypeError, CRSError, ColumnError, DuplicateIdError, GeometryError, ValueError
        As for :func:`assign`; cells and options are checked at once, chunks as they come.

    Examples
    --------
    >>> import geopandas as gpd, gridgeo as gg
    >>> from shapely import Point, box
    >>> cells = gpd.GeoDataFrame({"cell_code": ["A", "B"]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4547")
    >>> part = gpd.GeoDataFrame(geometry=[Point(50, 50), Point(150, 50)], crs="EPSG:4547")
    >>> [c["cell_code"].tolist() for c in gg.assignment.assign_chunks([part, part[1:]], cells)]
    [['A', 'B'], ['B']]
    """
    if isinstance(chunks, pd.DataFrame):
        msg = (
            "chunks must be an iterable of GeoDataFrames (e.g. gridgeo.io.iter_reports(...)), "
            "not one frame; use gridgeo.assign(reports, cells) for a single frame."
        )
        raise TypeError(msg)
    _check_options(tolerance, engine, crs)
    if rules is not None and not isinstance(rules, LevelRules):
        msg = f"rules must be a gridgeo.assignment.LevelRules, got {type(rules).__name__}."
        raise TypeError(msg)
    opts = {
        "tolerance": float(tolerance),
        "coords": _canonical_coords(crs),
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
    prepared = _prepare_cells(cells, grids)  # validated and indexed once, now
    return _assigned_chunks(chunks, prepared, opts, progress)


def _assigned_chunks(
    chunks: Iterable[gpd.GeoDataFrame], prepared: _Cells, opts: dict[str, Any], progress: bool
) -> Iterator[gpd.GeoDataFrame]:
    """Each chunk through the code of :func:`assign` (the Dask path does the same per part)."""
    for number, chunk in enumerate(tqdm(chunks, desc="assign", unit="chunk", disable=not progress)):
        require_geodataframe(chunk, f"chunk {number}")
        options = opts
        if opts["coords"] is None:  # as assign(): a chunk may carry its declared system
            declared = declared_system(chunk)
            options = {**opts, "coords": _canonical_coords(declared)}
            if declared is None:
                require_crs(chunk, f"chunk {number}")
        result = _assign_frame(chunk, prepared, options)
        logger.debug("chunk %d: %s", number, result.attrs["status_counts"])
        yield result
