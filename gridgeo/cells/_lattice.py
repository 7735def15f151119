"""Regular lattices (squares, hexagons) clipped to a district, and splitting along communities.

Private helpers behind :func:`gridgeo.cells.fishnet` and :func:`gridgeo.cells.hexagons`. All
coordinates are metres in one metric CRS.

Fast clipping
-------------
A naive clip intersects every lattice polygon with the district; each intersection walks the
district's whole boundary. :func:`clip_fast` first classifies lattice polygons with prepared
predicates: those the district *properly contains* are kept whole (no overlay), those that do
not intersect it are dropped, and only the rest (the ones crossing the boundary) are
intersected. :func:`clip_naive` is the obviously-correct twin; both return the same cells.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import shapely
from shapely import Geometry

logger = logging.getLogger(__name__)

_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7


def square_lattice(
    bounds: tuple[float, float, float, float], size: float, origin: tuple[float, float]
) -> np.ndarray:
    """Boxes of side ``size`` on the lattice through ``origin`` covering ``bounds``.

    Box corners are computed as ``origin + i * size`` from integers, so neighbours share
    bit-identical corners. Rows run north to south, columns west to east.
    """
    minx, miny, maxx, maxy = bounds
    ox, oy = origin
    i0, i1 = math.floor((minx - ox) / size), math.ceil((maxx - ox) / size)
    j0, j1 = math.floor((miny - oy) / size), math.ceil((maxy - oy) / size)
    xs = ox + np.arange(i0, i1 + 1) * size
    ys = oy + np.arange(j0, j1 + 1) * size
    x_lo, y_lo = np.meshgrid(xs[:-1], ys[:-1][::-1])
    x_hi, y_hi = np.meshgrid(xs[1:], ys[1:][::-1])
    return shapely.box(x_lo.ravel(), y_lo.ravel(), x_hi.ravel(), y_hi.ravel())


def hexagon_side(cell_area: float) -> float:
    """Side length of a regular hexagon of area ``cell_area`` (area = 3√3/2 · s²)."""
    return math.sqrt(2.0 * cell_area / (3.0 * math.sqrt(3.0)))


def hex_lattice(bounds: tuple[float, float, float, float], cell_area: float) -> np.ndarray:
    """Flat-topped regular hexagons of area ``cell_area`` covering ``bounds``.

    Every vertex is ``(k · s/2, m · h/2)`` for integers ``k, m`` (``s`` side, ``h = √3 s``), so
    neighbouring hexagons share bit-identical vertices and tile the plane exactly.
    """
    s = hexagon_side(cell_area)
    h = math.sqrt(3.0) * s
    minx, miny, maxx, maxy = bounds
    i0, i1 = math.floor(minx / (1.5 * s)) - 1, math.ceil(maxx / (1.5 * s)) + 1
    j0, j1 = math.floor(miny / h) - 1, math.ceil(maxy / h) + 1
    grid_i, grid_j = np.meshgrid(np.arange(i0, i1 + 1), np.arange(j1, j0 - 1, -1))
    ii, jj = grid_i.ravel(), grid_j.ravel()
    n = 2 * jj + (ii % 2)  # centre's y index in half-heights
    kx = 3 * ii
    dx = np.array([2, 1, -1, -2, -1, 1, 2])
    dy = np.array([0, 1, 1, 0, -1, -1, 0])
    xs = (kx[:, None] + dx[None, :]) * (s / 2.0)
    ys = (n[:, None] + dy[None, :]) * (h / 2.0)
    hexes = shapely.polygons(np.stack([xs, ys], axis=2))
    keep = shapely.intersects(shapely.box(*bounds), hexes)
    return hexes[keep]


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal part of each geometry (lines/points from touching dropped)."""
    out = np.asarray(geoms, dtype=object).copy()
    types = shapely.get_type_id(out)
    for k in np.flatnonzero(types == _COLLECTION):
        parts = shapely.get_parts(out[k])
        parts = parts[np.isin(shapely.get_type_id(parts), [_POLYGON, _MULTIPOLYGON])]
        parts = parts[shapely.area(parts) > 0]
        out[k] = shapely.union_all(parts) if len(parts) else shapely.Polygon()
    bad = ~np.isin(shapely.get_type_id(out), [_POLYGON, _MULTIPOLYGON])
    out[bad] = shapely.Polygon()
    return out


def clip_fast(cells: np.ndarray, district: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Clip lattice polygons to ``district``; only boundary-crossing ones are intersected.

    Returns the clipped polygons and the positions (in ``cells``) they came from.
    """
    shapely.prepare(district)
    touching = shapely.intersects(district, cells)
    pos = np.flatnonzero(touching)
    inside = shapely.contains_properly(district, cells[pos])
    out = cells[pos].copy()
    edge = np.flatnonzero(~inside)
    logger.debug("fishnet: %d inside, %d crossing the boundary", int(inside.sum()), len(edge))
    out[edge] = _polygonal(shapely.intersection(cells[pos[edge]], district))
    keep = shapely.area(out) > 0
    return out[keep], pos[keep]


def clip_naive(cells: np.ndarray, district: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Slow twin of :func:`clip_fast`: intersect every lattice polygon with the district."""
    out = _polygonal(shapely.intersection(cells, district))
    keep = shapely.area(out) > 0
    return out[keep], np.flatnonzero(keep)


def split_by_communities(
    geoms: np.ndarray, community_geoms: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split cells that cross community boundaries; return parts, owner positions, communities.

    A cell inside one community is kept whole. A cell crossing a boundary is replaced by its
    intersections with each community, plus the part outside every community (community -1).
    """
    n = len(geoms)
    comm = np.full(n, -1, dtype=np.int64)
    if len(community_geoms) == 0 or n == 0:
        return geoms, np.arange(n), comm
    tree = shapely.STRtree(community_geoms)
    shapely.prepare(community_geoms)
    src, dst = tree.query(geoms, predicate="intersects")
    whole = np.zeros(n, dtype=bool)
    covered = shapely.contains_properly(community_geoms[dst], geoms[src])
    whole[src[covered]] = True
    comm[src[covered]] = dst[covered]
    cross = ~whole[src]
    src, dst = src[cross], dst[cross]
    pieces = _polygonal(shapely.intersection(geoms[src], community_geoms[dst]))
    ok = shapely.area(pieces) > 0
    pieces, p_src, p_comm = pieces[ok], src[ok], dst[ok]
    crossing = np.setdiff1d(np.unique(src), np.flatnonzero(whole))
    rest = []
    for i in crossing.tolist():
        mine = community_geoms[dst[src == i]]
        r = _polygonal(np.array([shapely.difference(geoms[i], shapely.union_all(mine))]))[0]
        rest.append(r)
    rest_arr = np.array(rest, dtype=object) if rest else np.empty(0, dtype=object)
    rest_ok = shapely.area(rest_arr) > 0 if len(rest_arr) else np.zeros(0, dtype=bool)
    untouched = np.setdiff1d(np.arange(n), np.union1d(np.flatnonzero(whole), crossing))
    keep_whole = np.union1d(np.flatnonzero(whole), untouched)
    out_g = np.concatenate([geoms[keep_whole], pieces, rest_arr[rest_ok]])
    out_src = np.concatenate([keep_whole, p_src, crossing[rest_ok]])
    out_comm = np.concatenate([comm[keep_whole], p_comm, np.full(int(rest_ok.sum()), -1)])
    order = np.argsort(out_src, kind="stable")
    return out_g[order], out_src[order], out_comm[order]
