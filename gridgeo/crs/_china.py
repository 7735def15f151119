"""Private: the region where GCJ-02 applies its offset, and a fast inside-China test.

The region is mainland China with Hainan and the coastal islands, grown about 10 km into the sea
(so harbours, piers and recent reclamation are still offset), never across a land border, and
with Hong Kong, Macao and Taiwan (Kinmen and Matsu included) left out: the real services do not
offset them. It is derived from Natural Earth 1:10m admin-0 countries (public domain) by
``scripts/make_china_boundary.py`` and simplified to about 200 m, so a point within a few
hundred metres of a land border may be classified either way.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import shapely

__all__ = ["china_region", "inside_china", "inside_china_slow"]

_DATA = "china_boundary.wkb"


@cache
def china_region() -> shapely.MultiPolygon:
    """Return the prepared GCJ-02 region (a MultiPolygon in WGS 84 lon/lat degrees)."""
    data = resources.files("gridgeo").joinpath("_data", _DATA).read_bytes()
    region = shapely.from_wkb(data)
    shapely.prepare(region)
    return region


@cache
def _bounds() -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = shapely.bounds(china_region()).tolist()
    return minx, miny, maxx, maxy


# Cell classification grid: points in cells wholly inside (or wholly outside) the region are
# decided by one array lookup; only points in cells that touch the boundary are tested exactly.
_CELL = 0.25  # degrees
_EPS = 1e-9  # cells are grown by this much so that rounding in the cell index cannot matter
_GRID_MIN = 50_000  # below this many candidate points the grid is not worth building
_OUTSIDE, _INSIDE, _EDGE = 0, 1, 2


@cache
def _grid() -> np.ndarray:
    """Return the (ny, nx) uint8 cell classes over the region's bounding box."""
    minx, miny, maxx, maxy = _bounds()
    nx = int(np.ceil((maxx - minx) / _CELL))
    ny = int(np.ceil((maxy - miny) / _CELL))
    iy, ix = np.mgrid[0:ny, 0:nx]
    x0 = minx + ix.ravel() * _CELL
    y0 = miny + iy.ravel() * _CELL
    boxes = shapely.box(x0 - _EPS, y0 - _EPS, x0 + _CELL + _EPS, y0 + _CELL + _EPS)
    region = china_region()
    classes = np.full(boxes.shape, _EDGE, dtype=np.uint8)
    classes[shapely.contains_properly(region, boxes)] = _INSIDE
    classes[shapely.disjoint(region, boxes)] = _OUTSIDE
    return classes.reshape(ny, nx)


def _inside_by_grid(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Exact inside test for points within the bounding box, using the cell grid first."""
    minx, miny, _, _ = _bounds()
    grid = _grid()
    ix = np.clip(((lon - minx) / _CELL).astype(np.intp), 0, grid.shape[1] - 1)
    iy = np.clip(((lat - miny) / _CELL).astype(np.intp), 0, grid.shape[0] - 1)
    classes = grid[iy, ix]
    out = classes == _INSIDE
    edge = np.flatnonzero(classes == _EDGE)
    if edge.size:
        out[edge] = shapely.contains_xy(china_region(), lon[edge], lat[edge])
    return out


def inside_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Vectorised test: ``True`` where (lon, lat) lies strictly inside the GCJ-02 region.

    A bounding-box filter first drops the points that cannot be inside. For large inputs a
    0.25-degree cell grid (built once) then settles the points in cells wholly inside or outside
    the region; :func:`shapely.contains_xy` on the prepared region tests the rest exactly.
    NaN gives ``False``.
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    minx, miny, maxx, maxy = _bounds()
    out = np.zeros(lon.shape, dtype=bool)
    candidates = (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)
    n = int(np.count_nonzero(candidates))
    if n >= _GRID_MIN:
        out[candidates] = _inside_by_grid(lon[candidates], lat[candidates])
    elif n:
        out[candidates] = shapely.contains_xy(china_region(), lon[candidates], lat[candidates])
    return out


def inside_china_slow(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Slow, obviously correct twin of :func:`inside_china`: one ``contains`` call per point."""
    region = china_region()
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    flat = [
        bool(np.isfinite(x) and np.isfinite(y) and region.contains(shapely.Point(x, y)))
        for x, y in zip(lon.ravel().tolist(), lat.ravel().tolist(), strict=True)
    ]
    return np.array(flat, dtype=bool).reshape(lon.shape)
