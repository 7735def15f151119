"""Street-bounded cells: :func:`blocks` (barrier lines polygonised, slivers merged)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import geopandas as gpd

from gridgeo._validate import require_positive
from gridgeo.cells import _blocks
from gridgeo.cells._inputs import _barriers, _district, _nest, _quiet_fp, _result

logger = logging.getLogger("gridgeo.cells")


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
