"""Base cells (单元网格): fishnet squares, hexagons and street blocks; DB11 codes; validation.

Base cells are the atoms of grid management: every report, responsibility grid and statistic
hangs on them. This module makes them three ways, codes them and proves that they cover the
district exactly:

- :func:`fishnet` — squares of a given side, clipped to the district;
- :func:`hexagons` — planar hexagons of a given area, or H3 cells;
- :func:`blocks` — street-bounded cells: barrier lines polygonised into blocks, slivers merged,
  large blocks split into compact parts of about ``target_area`` (the classic 万米单元网格);
- :func:`code` — 15-digit DB11 codes (admin 6 + street 3 + community 3 + sequence 3); a
  district without a community layer first gets coding zones from
  :func:`gridgeo.grids.coding_zones`;
- :func:`recode` — stable codes after a redraw: unchanged cells keep their codes;
- :func:`validate` — invalid geometries, overlaps, gaps, slivers, nesting and duplicate codes.

Every function accepts layers in any CRS; geometry work happens in the local metric CRS
(:func:`gridgeo.crs.local_crs`) and results are returned in the district's own CRS with
``area_m2`` always in square metres. Cells carry the nesting columns of the communities layer
(``admin_code``, ``street_code``, ``street_name``, ``community_code``, ``community_name``).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gridgeo._validate import (
    optional_import,
    require_columns,
    require_crs,
    require_geodataframe,
    require_geom_types,
    require_nonempty,
    require_positive,
    require_valid,
)
from gridgeo.cells import _blocks
from gridgeo.cells import _checks as _cellcheck
from gridgeo.cells import _cleanup as _cells_lattice
from gridgeo.cells import _codes as _cellcode
from gridgeo.cells import _lattice as _cellgrid
from gridgeo.cells._checks import CellValidation, Recoding
from gridgeo.cells._codes import CODE_PARTS, NEST_COLUMNS
from gridgeo.crs import to_metric
from gridgeo.errors import ColumnError, CRSError

__all__ = [
    "NEST_COLUMNS",
    "CellValidation",
    "Recoding",
    "blocks",
    "code",
    "fishnet",
    "hexagons",
    "recode",
    "validate",
]

logger = logging.getLogger(__name__)

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


# --------------------------------------------------------------------------- generators
@_quiet_fp
def fishnet(
    area: gpd.GeoDataFrame | gpd.GeoSeries,
    size: float | None = None,
    *,
    n: int | None = None,
    origin: tuple[float, float] | None = None,
    nest: gpd.GeoDataFrame | None = None,
    min_area: float | None = None,
    max_cells: int = _cells_lattice.DEFAULT_MAX_CELLS,
    output_crs: Literal["metric", "input"] = "metric",
) -> gpd.GeoDataFrame:
    """Square cells of ``size`` metres over a district, clipped to it.

    Squares are laid out in the metric CRS (the district's own when it is metric, else its
    local CRS). Only squares that cross the district boundary are clipped; squares inside are
    kept whole without any overlay, which makes this fast (about 0.5 s for 150,000 cells over
    1,500 km², where intersecting every square takes about 30 times longer).

    Parameters
    ----------
    area : GeoDataFrame or GeoSeries
        The district (one or more polygons, any CRS; all rows together form the district).
    size : float, optional
        Side of the squares, in metres.
    n : int, optional
        About how many cells, instead of ``size`` (the side is fitted to the district; the
        count is exact before nesting and merging).
    origin : tuple of float, optional
        A lattice corner ``(x, y)`` in the metric CRS. Default ``(0, 0)``: square corners fall
        on multiples of ``size``, so the same lattice comes back at every redraw.
    nest : GeoDataFrame, optional
        Communities with the nesting columns (see :data:`NEST_COLUMNS`). Squares crossing a
        community boundary are split along it, and every cell takes its community's columns.
    min_area : float, optional
        Pieces below it (m²) merge into the neighbour of the same community with which they
        share the longest edge (a piece outside every community: into any neighbour). Default
        a tenth of a square with ``nest``, no merging without it.
    max_cells : int
        Refuse (with the estimated count and memory) to make more cells than this.
    output_crs : {"metric", "input"}
        Return the cells in the metric CRS they were made in (default; a lon/lat district
        gives cells in its local Gauss-Krüger/UTM CRS), or reprojected back to the district's
        CRS.

    Returns
    -------
    GeoDataFrame
        One row per cell, rows north to south then west to east, with ``row`` and ``col``
        (lattice position), the nesting columns when ``nest`` is given, and ``area_m2``.

    Raises
    ------
    TypeError
        ``area`` or ``nest`` is not a GeoDataFrame/GeoSeries.
    CRSError, GeometryError, EmptyInputError, ColumnError
        A layer without CRS, with bad or invalid geometries, empty, or missing columns.
    ValueError
        ``size`` is not a positive number, both or neither of ``size`` and ``n``, bad
        ``min_area``, ``max_cells`` or ``output_crs``.
    GeometryError
        More than ``max_cells`` cells would be made.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> district = gpd.GeoSeries([box(0, 0, 250, 200)], crs="EPSG:4547")
    >>> cells = fishnet(district, 100)
    >>> len(cells), float(cells["area_m2"].sum())
    (6, 50000.0)
    >>> len(fishnet(district, n=20))
    20
    """
    _cells_lattice.check_options(size, n, "size", min_area, max_cells, output_crs)
    if size is not None:
        require_positive(size, "size")
    district, metric_crs, out_crs = _district(area)
    nest_geoms, nest_attrs = _nest(nest, metric_crs)
    ox, oy = (0.0, 0.0) if origin is None else _origin(origin)
    if n is not None:

        def count(cell_area: float) -> int:
            _cells_lattice.refuse_too_many(
                district.bounds, district.area, cell_area, max_cells, "fishnet"
            )
            squares = _cellgrid.square_lattice(district.bounds, math.sqrt(cell_area), (ox, oy))
            return _cells_lattice.count_cells(squares, district)

        size = math.sqrt(_cells_lattice.fit_count(int(n), district.area, count))
    size = float(size)  # type: ignore[arg-type]
    _cells_lattice.refuse_too_many(district.bounds, district.area, size**2, max_cells, "fishnet")
    lattice = _cellgrid.square_lattice(district.bounds, size, (ox, oy))
    geoms, pos = _cellgrid.clip_fast(lattice, district)
    n_cols = math.ceil((district.bounds[2] - ox) / size) - math.floor(
        (district.bounds[0] - ox) / size
    )
    extra: dict[str, Any] = {"row": pos // n_cols, "col": pos % n_cols}
    geoms, comm, extra = _nested(geoms, nest_geoms, nest_attrs, extra)
    geoms, comm, extra = _cells_lattice.clean(
        geoms, comm, extra, min_area, size**2, nest is not None
    )
    logger.info("fishnet: %d cells of %s m", len(geoms), size)
    target_crs = out_crs if output_crs == "input" else metric_crs
    return _result(
        geoms, comm, nest_attrs if nest is not None else None, metric_crs, target_crs, extra
    )


def _origin(origin: Any) -> tuple[float, float]:
    try:
        ox, oy = (float(v) for v in origin)
    except (TypeError, ValueError) as err:
        msg = f"origin must be a pair of numbers (x, y) in metres, got {origin!r}."
        raise ValueError(msg) from err
    if not (math.isfinite(ox) and math.isfinite(oy)):
        msg = f"origin must be finite, got {origin!r}."
        raise ValueError(msg)
    return ox, oy


@_quiet_fp
def hexagons(
    area: gpd.GeoDataFrame | gpd.GeoSeries,
    cell_area: float | None = None,
    *,
    n: int | None = None,
    kind: Literal["planar", "h3"] = "planar",
    h3_resolution: int | None = None,
    nest: gpd.GeoDataFrame | None = None,
    min_area: float | None = None,
    max_cells: int = _cells_lattice.DEFAULT_MAX_CELLS,
    output_crs: Literal["metric", "input"] = "metric",
) -> gpd.GeoDataFrame:
    """Hexagonal cells of about ``cell_area`` m² over a district, clipped to it.

    Parameters
    ----------
    area : GeoDataFrame or GeoSeries
        The district (any CRS).
    cell_area : float, optional
        Area of one whole hexagon in m². For ``kind="h3"`` it picks the H3 resolution whose
        average hexagon area is nearest (on a log scale), unless ``h3_resolution`` is given.
    n : int, optional
        About how many cells, instead of ``cell_area`` (planar hexagons only).
    kind : {"planar", "h3"}
        ``"planar"``: regular flat-topped hexagons in the metric CRS, on a lattice anchored at
        ``(0, 0)``; neighbours share bit-identical vertices, so they tile exactly.
        ``"h3"``: Uber H3 cells (needs the optional ``h3`` package); adds column ``h3_cell``.
        Their vertices are rounded to the millimetre in the metric CRS so that neighbours match.
    h3_resolution : int, optional
        H3 resolution 0–15, overriding the choice from ``cell_area``.
    nest : GeoDataFrame, optional
        Communities; hexagons crossing a community boundary are split along it.
    min_area, max_cells, output_crs
        As in :func:`fishnet` (default ``min_area``: a tenth of a hexagon with ``nest``).

    Returns
    -------
    GeoDataFrame
        One row per cell, with the nesting columns when ``nest`` is given (and ``h3_cell``
        for H3) and ``area_m2``.

    Raises
    ------
    ValueError
        ``cell_area`` not positive, unknown ``kind`` or a resolution outside 0–15.
    OptionalDependencyError
        ``kind="h3"`` without the ``h3`` package.
    CRSError, GeometryError, EmptyInputError, ColumnError
        Bad ``area`` or ``nest`` layers.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> district = gpd.GeoSeries([box(0, 0, 1000, 1000)], crs="EPSG:4547")
    >>> cells = hexagons(district, 10_000)
    >>> round(float(cells["area_m2"].sum()))
    1000000
    >>> round(float(cells["area_m2"].max()))
    10000
    """
    _cells_lattice.check_options(cell_area, n, "cell_area", min_area, max_cells, output_crs)
    if cell_area is not None:
        require_positive(cell_area, "cell_area")
    if kind not in ("planar", "h3"):
        msg = f"kind must be 'planar' or 'h3', got {kind!r}."
        raise ValueError(msg)
    district, metric_crs, out_crs = _district(area)
    nest_geoms, nest_attrs = _nest(nest, metric_crs)
    if n is not None:

        def count(a: float) -> int:
            _cells_lattice.refuse_too_many(district.bounds, district.area, a, max_cells, "hexagons")
            return _cells_lattice.count_cells(_cellgrid.hex_lattice(district.bounds, a), district)

        cell_area = _cells_lattice.fit_count(int(n), district.area, count)
    cell_area = float(cell_area)  # type: ignore[arg-type]
    extra: dict[str, Any] = {}
    if kind == "planar":
        _cells_lattice.refuse_too_many(
            district.bounds, district.area, cell_area, max_cells, "hexagons"
        )
        lattice = _cellgrid.hex_lattice(district.bounds, cell_area)
    else:
        lattice, ids = _h3_lattice(district, metric_crs, cell_area, h3_resolution, max_cells)
    geoms, pos = _cellgrid.clip_fast(lattice, district)
    if kind == "h3":
        extra["h3_cell"] = ids[pos]
    geoms, comm, extra = _nested(geoms, nest_geoms, nest_attrs, extra)
    geoms, comm, extra = _cells_lattice.clean(
        geoms, comm, extra, min_area, cell_area, nest is not None
    )
    target_crs = out_crs if output_crs == "input" else metric_crs
    return _result(
        geoms, comm, nest_attrs if nest is not None else None, metric_crs, target_crs, extra
    )


def _h3_lattice(
    district: shapely.Geometry,
    metric_crs: CRS,
    cell_area: float,
    resolution: int | None,
    max_cells: int,
) -> tuple[np.ndarray, np.ndarray]:
    h3 = optional_import("h3", "h3")
    if resolution is None:
        areas = np.array([h3.average_hexagon_area(r, unit="m^2") for r in range(16)])
        resolution = int(np.argmin(np.abs(np.log(areas / cell_area))))
    elif not (isinstance(resolution, int | np.integer) and 0 <= resolution <= 15):
        msg = f"h3_resolution must be an integer from 0 to 15, got {resolution!r}."
        raise ValueError(msg)
    h3_area = float(h3.average_hexagon_area(int(resolution), unit="m^2"))
    _cells_lattice.refuse_too_many(district.bounds, district.area, h3_area, max_cells, "hexagons")
    lonlat = gpd.GeoSeries([district], crs=metric_crs).to_crs(4326).iloc[0]
    shape = h3.geo_to_h3shape(shapely.geometry.mapping(lonlat))
    ids = sorted(h3.h3shape_to_cells_experimental(shape, int(resolution), "bbox_overlap"))
    rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in ids]
    polys = gpd.GeoSeries([shapely.Polygon(r) for r in rings], crs=4326).to_crs(metric_crs)
    # Round to the millimetre so neighbours share vertices (no precision model is attached,
    # which would make later overlays snap the district boundary to the same grid).
    snapped = shapely.transform(np.asarray(polys.values, dtype=object), lambda xy: np.round(xy, 3))
    return snapped, np.asarray(ids, dtype=object)


@_quiet_fp
def blocks(
    area: gpd.GeoDataFrame | gpd.GeoSeries,
    barriers: gpd.GeoDataFrame | gpd.GeoSeries | Sequence[gpd.GeoDataFrame | gpd.GeoSeries] | None,
    *,
    nest: gpd.GeoDataFrame | None = None,
    target_area: float = 10_000,
    min_area: float | None = None,
    max_area: float | None = None,
    min_width: float = 0.0,
    snap: float = 1.0,
) -> gpd.GeoDataFrame:
    """Street-bounded cells: polygonise barriers into blocks, merge slivers, split big blocks.

    The way real unit grids are drawn: edges follow streets, rivers, railways and community
    boundaries.

    1. Barrier lines, the district boundary and the community boundaries are noded and
       polygonised into faces; faces inside the district tile it with no gap or overlap.
       Dead ends (dangles) bound no face and lie inside a cell, as in momepy's enclosures.
    2. A dangling line end within ``snap`` metres of another line (a street that stops short
       of the one it should meet) is joined to it; overshooting ends are harmless.
    3. Faces below ``min_area`` (or thinner than ``min_width``) merge into the neighbour in the
       same community with which they share the longest edge (repeated until none can merge).
    4. Faces above ``max_area`` are cut into ``k = round(area / target_area)`` compact parts:
       straight cuts across the long axis of the minimum rotated rectangle, placed by root finding
       so the parts have equal area, recursively. Pieces a non-convex cut leaves below
       ``min_area`` merge as in step 3.

    Guarantees: every cell lies in one community and no barrier or community boundary runs
    through a cell, except the edges of slivers merged in step 3 (and dead ends); the cells
    tile the district exactly.

    Parameters
    ----------
    area : GeoDataFrame or GeoSeries
        The district (any CRS).
    barriers : GeoDataFrame, GeoSeries, list of them, or None
        Lines (or polygons, whose outlines are used) that cells must not cross: streets,
        rivers, railways, walls.
    nest : GeoDataFrame, optional
        Communities with the nesting columns (see :data:`NEST_COLUMNS`); their boundaries are
        barriers too and every cell carries its community's columns.
    target_area : float
        Size of the parts large blocks are split into, m². Default 10,000 m² (万米单元网格).
    min_area : float, optional
        Blocks below it are slivers and get merged. Default ``target_area / 10``.
    max_area : float, optional
        Blocks above it are split. Default ``2 * target_area``; must exceed ``target_area``.
    min_width : float
        Faces whose mean width ``2 · area / perimeter`` is below it (m) are slivers too, such as
        the strip between the two carriageways of a divided road. Default 0 (off).
    snap : float
        Snapping tolerance in metres for dangling line ends (0 disables). Default 1 m.

    Returns
    -------
    GeoDataFrame
        One row per cell in the district's CRS: nesting columns (when ``nest`` is given) and
        ``area_m2``. Code them with :func:`code`.

    Raises
    ------
    ValueError
        Sizes not positive or not ``min_area < target_area < max_area``; negative ``snap``.
    TypeError, CRSError, GeometryError, EmptyInputError, ColumnError
        Bad ``area``, ``barriers`` or ``nest`` layers.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box, LineString
    >>> district = gpd.GeoSeries([box(0, 0, 400, 200)], crs="EPSG:4547")
    >>> streets = gpd.GeoSeries([LineString([(200, -10), (200, 210)])], crs="EPSG:4547")
    >>> cells = blocks(district, streets, target_area=10_000)
    >>> len(cells), sorted(cells["area_m2"].round().unique().tolist())
    (8, [10000.0])
    """
    require_positive(target_area, "target_area")
    min_area = target_area / 10.0 if min_area is None else min_area
    max_area = target_area * 2.0 if max_area is None else max_area
    if not (isinstance(min_area, int | float) and math.isfinite(min_area) and min_area >= 0):
        msg = f"min_area must be a number >= 0, got {min_area!r}."
        raise ValueError(msg)
    require_positive(max_area, "max_area")
    if not min_area < target_area < max_area:
        msg = (
            f"blocks() needs min_area < target_area < max_area, got {min_area!r}, "
            f"{target_area!r}, {max_area!r}. For example target_area=10_000, min_area=1_000, "
            "max_area=20_000."
        )
        raise ValueError(msg)
    if not (isinstance(min_width, int | float) and math.isfinite(min_width) and min_width >= 0):
        msg = f"min_width must be a width in metres >= 0, got {min_width!r}."
        raise ValueError(msg)
    if not (isinstance(snap, int | float) and math.isfinite(snap) and snap >= 0):
        msg = f"snap must be a distance in metres >= 0, got {snap!r}."
        raise ValueError(msg)
    district, metric_crs, out_crs = _district(area)
    nest_geoms, nest_attrs = _nest(nest, metric_crs)
    lines = _barriers(barriers, metric_crs)
    params = _blocks.BlockParams(
        snap=float(snap),
        min_area=float(min_area),
        target_area=float(target_area),
        max_area=float(max_area),
        min_width=float(min_width),
    )
    geoms, comm = _blocks.build(district, lines, nest_geoms, params)
    logger.info("blocks: %d cells", len(geoms))
    return _result(geoms, comm, nest_attrs if nest is not None else None, metric_crs, out_crs)


# --------------------------------------------------------------------------- codes
def _prepare_codes(
    cells: Any, name: str, admin_code: str | int | None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray]:
    """Validated copy with normalised nesting codes, its metric twin and the 12-digit prefixes."""
    frame = _frame(cells, name)
    require_nonempty(frame, name)
    require_crs(frame, name)
    require_geom_types(frame, _POLYGONS, name)
    out = frame.copy()
    missing = [c for c in CODE_PARTS if c not in out.columns]
    if missing and admin_code is None:
        msg = (
            f"{name} is missing the nesting column(s) {', '.join(map(repr, missing))} that "
            "cell codes are built from. Build the cells with nest=communities (blocks(), "
            "fishnet(), hexagons()), add the columns, or pass admin_code='XXXXXX' to code() "
            "to number un-nested cells under street '001' and community '001'."
        )
        raise ColumnError(msg)
    defaults = {"admin_code": admin_code, "street_code": "001", "community_code": "001"}
    for col in missing:
        out[col] = str(defaults[col])
    for col in ("street_name", "community_name"):
        if col not in out.columns and missing:
            out[col] = ""
    for col, width in CODE_PARTS.items():
        out[col] = _cellcode.normalise_part(out[col], col, width, name)
    prefix = (out["admin_code"] + out["street_code"] + out["community_code"]).to_numpy(dtype=object)
    return out, to_metric(out), prefix


@_quiet_fp
def code(
    cells: gpd.GeoDataFrame,
    *,
    scheme: Literal["DB11"] = "DB11",
    admin_code: str | int | None = None,
    row_height: float | None = None,
) -> gpd.GeoDataFrame:
    """Give every cell a 15-digit DB11 code, numbered inside each community W→E, N→S.

    ``cell_code`` = 6-digit admin division (GB/T 2260) + 3-digit street + 3-digit community +
    3-digit sequence. The sequence follows this exact ordering rule inside each community:

    1. take each cell's centroid ``(x, y)`` in the metric CRS, rounded to the centimetre;
    2. its row band is ``floor(y / row_height)``;
    3. order by band from north to south, then ``x`` west to east, then ``y`` north to south,
       then by row position; number ``001, 002, …``.

    The order is deterministic and insensitive to coordinate noise below a centimetre.

    Parameters
    ----------
    cells : GeoDataFrame
        Cells with ``admin_code``, ``street_code`` and ``community_code`` (as built with
        ``nest=``); integer codes are zero-padded.
    scheme : {"DB11"}
        The coding rule; only the Beijing DB11 unit-grid rule is implemented.
    admin_code : str or int, optional
        Fills ``admin_code`` when the column is missing; ``street_code`` and
        ``community_code`` then default to ``"001"`` (and the names to ``""``).
    row_height : float, optional
        Height of the row bands in metres. Default: the median cell side
        ``sqrt(area)``, rounded to the metre (100 m for 万米 cells).

    Returns
    -------
    GeoDataFrame
        A copy with ``cell_code`` (and the code columns as zero-padded strings).

    Raises
    ------
    ColumnError
        Nesting columns missing (without ``admin_code``), empty, or not digit codes.
    CodingError
        More than 999 cells in one community.
    ValueError
        Unknown ``scheme`` or a bad ``row_height``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> district = gpd.GeoSeries([box(0, 0, 200, 200)], crs="EPSG:4547")
    >>> coded = code(fishnet(district, 100), admin_code="110105")
    >>> coded["cell_code"].tolist()
    ['110105001001001', '110105001001002', '110105001001003', '110105001001004']
    """
    if scheme != "DB11":
        msg = f"scheme must be 'DB11' (the only coding rule implemented), got {scheme!r}."
        raise ValueError(msg)
    if row_height is not None:
        require_positive(row_height, "row_height")
    out, metric, prefix = _prepare_codes(cells, "cells", admin_code)
    geoms = np.asarray(metric.geometry.values, dtype=object)
    height = row_height or _cellcode.default_row_height(shapely.area(geoms))
    seq = _cellcode.sequence(prefix, geoms, float(height))
    _cellcode.check_capacity(prefix, seq)
    out["cell_code"] = pd.array(
        [p + f"{s:03d}" for p, s in zip(prefix, seq, strict=True)], dtype=str
    )
    return out


@_quiet_fp
def recode(
    new_cells: gpd.GeoDataFrame,
    old_cells: gpd.GeoDataFrame,
    *,
    threshold: float = 0.95,
    retired: Iterable[str] | None = None,
    admin_code: str | int | None = None,
    row_height: float | None = None,
) -> Recoding:
    """Code redrawn cells so that unchanged cells keep their old codes.

    A new cell *keeps* the code of an old cell in the same community when the two are
    essentially the same: their intersection covers at least ``threshold`` of **both** areas.
    Other new cells get fresh sequence numbers in their community, above every number used by
    the old cells and ``retired`` (so retired codes are never reused), in the order of
    :func:`code`. A new cell is ``changed`` when it overlaps old cells by at least 1 % of its
    area, else ``new``; old codes no new cell keeps are ``retired``.

    Parameters
    ----------
    new_cells : GeoDataFrame
        The redrawn cells with nesting columns (as for :func:`code`).
    old_cells : GeoDataFrame
        The previous cells with ``cell_code``; any CRS.
    threshold : float
        Overlap share (0.5–1] for a cell to keep its code. Default 0.95.
    retired : iterable of str, optional
        Codes retired by earlier redraws; their sequence numbers are never reused either.
    admin_code : str or int, optional
        As in :func:`code`, for un-nested cells.
    row_height : float, optional
        As in :func:`code`, for ordering the fresh codes.

    Returns
    -------
    Recoding
        ``cells`` (copy of ``new_cells`` with ``cell_code``) and ``changes`` (one row per new
        cell and per retired code); unpack with ``cells, changes = recode(...)``.

    Raises
    ------
    ColumnError, CodingError
        Missing nesting columns, bad old codes, or more than 999 cells in a community.
    ValueError
        ``threshold`` outside (0.5, 1].

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> old = code(fishnet(gpd.GeoSeries([box(0, 0, 200, 100)], crs=4547), 100), admin_code=1)
    >>> new = fishnet(gpd.GeoSeries([box(0, 0, 300, 100)], crs=4547), 100)
    >>> cells, changes = recode(new, old, admin_code=1)
    >>> cells["cell_code"].str[-3:].tolist(), changes["status"].tolist()
    (['001', '002', '003'], ['kept', 'kept', 'new'])
    """
    if not (isinstance(threshold, int | float) and 0.5 < threshold <= 1):
        msg = f"threshold must be a share in (0.5, 1], got {threshold!r}."
        raise ValueError(msg)
    if row_height is not None:
        require_positive(row_height, "row_height")
    out, metric, prefix = _prepare_codes(new_cells, "new_cells", admin_code)
    old = _frame(old_cells, "old_cells")
    require_crs(old, "old_cells")
    require_columns(old, ["cell_code"], "old_cells")
    old_prefix, old_seq = _cellcode.split_codes(old["cell_code"], "old_cells")
    old_codes = old["cell_code"].astype(str).to_numpy(dtype=object)
    new_geoms = np.asarray(metric.geometry.values, dtype=object)
    old_geoms = np.asarray(old.to_crs(metric.crs).geometry.values, dtype=object)
    kept, best, touched = _cellcode.match_cells(
        new_geoms, prefix, old_geoms, old_prefix, float(threshold)
    )
    used_prefix, used_seq = old_prefix, old_seq
    if retired is not None:
        r = pd.Series(list(retired), dtype=str)
        r_prefix, r_seq = _cellcode.split_codes(r, "retired")
        used_prefix = np.concatenate([used_prefix, r_prefix])
        used_seq = np.concatenate([used_seq, r_seq])
    highest = _cellcode.highest_used(used_prefix, used_seq)
    fresh = np.flatnonzero(kept < 0)
    codes = np.empty(len(out), dtype=object)
    codes[kept >= 0] = old_codes[kept[kept >= 0]]
    if len(fresh):
        height = row_height or _cellcode.default_row_height(shapely.area(new_geoms))
        seq = _cellcode.sequence(prefix[fresh], new_geoms[fresh], float(height))
        seq = seq - 1 + _cellcode.next_free(prefix[fresh], highest)
        _cellcode.check_capacity(prefix[fresh], seq)
        codes[fresh] = [p + f"{s:03d}" for p, s in zip(prefix[fresh], seq, strict=True)]
    out["cell_code"] = pd.array(codes, dtype=str)
    status = np.where(kept >= 0, "kept", np.where([len(t) > 0 for t in touched], "changed", "new"))
    kept_set = set(kept[kept >= 0].tolist())
    gone = [j for j in range(len(old_codes)) if j not in kept_set]
    changes = pd.DataFrame(
        {
            "cell_code": pd.array(list(codes) + [old_codes[j] for j in gone], dtype=str),
            "status": pd.array(list(status) + ["retired"] * len(gone), dtype=str),
            "old_codes": pd.array(
                [",".join(sorted(old_codes[t])) for t in touched] + [old_codes[j] for j in gone],
                dtype=str,
            ),
            "overlap": np.concatenate([best, np.full(len(gone), np.nan)]),
            "new_index": pd.array(list(out.index) + [None] * len(gone), dtype=object),
        }
    )
    return Recoding(cells=out, changes=changes)


# --------------------------------------------------------------------------- validation
@_quiet_fp
def validate(
    cells: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    *,
    nest: gpd.GeoDataFrame | None = None,
    min_area: float | None = None,
    nest_tolerance: float = 0.01,
) -> CellValidation:
    """Check that cells are valid, do not overlap, cover the district and nest in communities.

    Parameters
    ----------
    cells : GeoDataFrame
        The cells (any CRS); ``cell_code`` and nesting columns are checked when present.
    area : GeoDataFrame or GeoSeries, optional
        The district the cells must cover. Without it, gaps are the holes of the cells' union.
    nest : GeoDataFrame, optional
        Communities: each cell must lie in one of them (up to ``nest_tolerance`` of its area)
        and carry that community's codes.
    min_area : float, optional
        Cells below it (m²) are slivers. Without it slivers are not checked.
    nest_tolerance : float
        Share of a cell's area allowed outside its community. Default 0.01.

    Returns
    -------
    CellValidation
        Lists of problems; ``ok`` only when all are empty and the covered area equals the
        district area to 1e-6 relative. Overlaps and gaps smaller than
        ``max(1e-6 m², 1e-9 × area)`` are floating-point noise and not listed.

    Raises
    ------
    TypeError, CRSError, GeometryError, EmptyInputError, ColumnError
        Bad ``cells``, ``area`` or ``nest`` layers.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> district = gpd.GeoSeries([box(0, 0, 300, 200)], crs="EPSG:4547")
    >>> validate(fishnet(district, 100), district).ok
    True
    >>> validate(fishnet(district, 100).iloc[1:], district).gaps["area_m2"].tolist()
    [10000.0]
    """
    frame = _frame(cells, "cells")
    require_nonempty(frame, "cells")
    require_crs(frame, "cells")
    if min_area is not None and not (isinstance(min_area, int | float) and min_area >= 0):
        msg = f"min_area must be a number >= 0 or None, got {min_area!r}."
        raise ValueError(msg)
    crs_problem = ""
    try:
        _cells_lattice.check_degrees(
            tuple(frame.total_bounds), CRS.from_user_input(frame.crs), "cells"
        )
    except CRSError as err:
        crs_problem = str(err)
    metric = to_metric(frame)
    district = None
    if area is not None:
        district, area_crs, _ = _district(area)
        if not CRS.from_user_input(area_crs).equals(metric.crs):
            district = gpd.GeoSeries([district], crs=area_crs).to_crs(metric.crs).iloc[0]
    nest_geoms, nest_attrs = _nest(nest, metric.crs) if nest is not None else (None, None)
    geoms = np.asarray(metric.geometry.values, dtype=object)
    reasons = _cellcheck.invalid_rows(geoms)
    bad = reasons != ""
    invalid = gpd.GeoDataFrame(
        {"reason": pd.array(reasons[bad], dtype=str)},
        geometry=frame.geometry.values[bad],
        index=frame.index[bad],
        crs=frame.crs,
    )
    good = geoms[~bad]
    union = shapely.union_all(good) if len(good) else shapely.Polygon()
    ref_area = float(shapely.area(district)) if district is not None else float(union.area)
    tol = max(1e-6, 1e-9 * ref_area)
    overlaps = _cellcheck.overlaps(good, frame.index[~bad], tol, metric.crs, frame.crs)
    gaps = _cellcheck.gaps(union, district, tol, metric.crs, frame.crs)
    area_m2 = shapely.area(geoms)
    small = (area_m2 < min_area) & ~bad if min_area is not None else np.zeros(len(geoms), bool)
    slivers = gpd.GeoDataFrame(
        {"area_m2": area_m2[small]},
        geometry=frame.geometry.values[small],
        index=frame.index[small],
        crs=frame.crs,
    )
    not_nested = _cellcheck.nesting(geoms, frame, nest_geoms, nest_attrs, nest_tolerance)
    dups = _cellcheck.duplicates(frame)
    covered = float(union.area)
    ok = (
        not crs_problem
        and not bad.any()
        and len(overlaps) == 0
        and len(gaps) == 0
        and len(slivers) == 0
        and len(not_nested) == 0
        and len(dups) == 0
        and abs(covered - ref_area) <= 1e-6 * ref_area
    )
    return CellValidation(
        invalid=invalid,
        overlaps=overlaps,
        gaps=gaps,
        slivers=slivers,
        not_nested=not_nested,
        duplicate_codes=dups,
        covered_area=covered,
        area=ref_area,
        ok=bool(ok),
        n_cells=len(frame),
        sliver_threshold=None if min_area is None else float(min_area),
        nesting_checked=nest is not None or any(c in frame.columns for c in CODE_PARTS),
        crs_problem=crs_problem,
    )
