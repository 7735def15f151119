"""Point-in-polygon engines behind :mod:`gridgeo.assignment` (private).

The boundary rule
-----------------
A point ``p`` covered by several cells (it lies on a shared edge or vertex) goes to the cell
that contains ``p⁺ = p + (ε, ε²)`` for an infinitesimal ``ε > 0``: the point nudged east, then
a second-order amount north. For a fishnet this is the half-open rule ``[x0, x1) × [y0, y1)``;
for any polygon it is decided exactly, without a numeric epsilon, by a ray-crossing count on
``p⁺`` (see :func:`contains_shifted`):

* an edge ``a → b`` crosses the horizontal line through ``p⁺`` iff ``(a.y > p.y) != (b.y > p.y)``
  (``a.y == p.y`` counts as "below", because ``p⁺`` is ε² above ``p``);
* a crossing edge lies east of ``p⁺`` iff its abscissa at ``y = p.y`` is strictly greater than
  ``p.x`` (an edge through ``p`` itself lies ε west of ``p⁺``); the sign comes from the exact
  orientation determinant (a floating-point filter, then exact rational arithmetic when the
  filter cannot decide).

``p⁺`` is never on a boundary, so in a tessellation exactly one cell contains it when ``p`` is
inside the union of the cells. When no covering cell contains ``p⁺`` (``p`` on the outer edge of
the union), the nudges west-north ``(-ε, ε²)``, east-south ``(ε, -ε²)`` and west-south
``(-ε, -ε²)`` are tried in turn (a mirror image of the same exact test); if none lands in a
covering cell (a lone point of contact), or, for overlapping cells, several cells contain the
nudged point, the first such cell in row order is chosen.

Engines (all return the same answer; ``exact`` is the slow, obviously correct twin):

* ``fishnet``: axis-aligned rectangular cells on a (possibly irregular) lattice are found with
  ``numpy.searchsorted`` on the exact edge coordinates — pure comparisons, no rounding. Points in
  lattice slots touched by non-rectangular (clipped) cells take the ``strtree`` path.
* ``raster``: a label raster. Pixels whose closed box (plus a small margin) meets no cell
  boundary are labelled with the cell that contains them; a point in such a pixel needs one array
  lookup. A pixel met by exactly one edge segment (edges shared by two cells count once) is split
  by that segment's line into two parts, each inside one cell (or none): a point there is decided
  by one exact orientation test and the rule above. Points in pixels met by several segments
  (near vertices) take the ``strtree`` path.
* ``strtree``: shapely ``STRtree`` bulk ``covers`` query, multi-hits resolved by the rule.
* ``exact``: every point against every cell with ``shapely.intersects_xy`` and the rule
  evaluated in exact rational arithmetic.

The fast engines assume the cells do not overlap (a tessellation, gaps allowed); for overlapping
cells use ``engine="strtree"`` or ``"exact"``, which implement the row-order rule exactly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from gridgeo._gc import gc_paused
from gridgeo.assignment._raster import _Raster
from gridgeo.assignment._rule import (
    DIRECTIONS,
    Edges,
    cell_edges,
    contains_shifted_exact,
    resolve_pairs,
)

logger = logging.getLogger(__name__)

ENGINES = ("auto", "fishnet", "raster", "strtree", "exact")

_RASTER_MIN_POINTS = 200_000


# --------------------------------------------------------------------------------------------
# the locator
# --------------------------------------------------------------------------------------------
class CellLocator:
    """Prepared cells: locate points with the boundary rule. Pickles without its caches."""

    def __init__(self, geoms: np.ndarray) -> None:
        self.geoms = np.asarray(geoms, dtype=object)
        self._tree: shapely.STRtree | None = None
        self._edges: Edges | None = None
        self._fishnet: _Fishnet | bool | None = False  # False = not yet detected
        self._raster: _Raster | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"geoms": self.geoms}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["geoms"])  # type: ignore[misc]

    @property
    def tree(self) -> shapely.STRtree:
        if self._tree is None:
            self._tree = shapely.STRtree(self.geoms)
        return self._tree

    @property
    def edges(self) -> Edges:
        if self._edges is None:
            self._edges = cell_edges(self.geoms)
        return self._edges

    @property
    def fishnet(self) -> _Fishnet | None:
        if self._fishnet is False:
            self._fishnet = _Fishnet.detect(self.geoms)
        return self._fishnet  # type: ignore[return-value]

    def raster(self, n_points: int) -> _Raster:
        if self._raster is None:
            self._raster = _Raster.build(self, n_points)
        return self._raster

    def choose(self, n_points: int) -> str:
        if self.fishnet is not None:
            return "fishnet"
        if n_points >= max(_RASTER_MIN_POINTS, 2 * len(self.geoms)):
            return "raster"
        return "strtree"

    def locate(self, x: np.ndarray, y: np.ndarray, engine: str = "auto") -> np.ndarray:
        """Cell position (row number) for every point, -1 where no cell covers it."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        y = np.ascontiguousarray(y, dtype=np.float64)
        if engine == "auto":
            engine = self.choose(len(x))
        logger.debug("locating %d points in %d cells with %s", len(x), len(self.geoms), engine)
        if engine == "exact":
            return self.locate_exact(x, y)
        if engine == "strtree" or len(x) == 0:
            return self.locate_strtree(x, y)
        if engine == "fishnet":
            net = self.fishnet
            if net is None:
                return self.locate_strtree(x, y)
            out = net.lookup(x, y)
        else:
            out = self.raster(len(x)).lookup(x, y)
        todo = np.flatnonzero(out == -1)
        if len(todo):
            out[todo] = self.locate_strtree(x[todo], y[todo])
        out[out == -2] = -1
        return out

    def locate_strtree(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        n = len(x)
        if n == 0:
            return np.full(0, -1, dtype=np.int64)
        with gc_paused():
            points = shapely.points(x, y)
        if n >= len(self.geoms):
            # many points: index the points and query with the (prepared) cells
            cell, pt = shapely.STRtree(points).query(self.geoms, predicate="covers")
        else:
            pt, cell = self.tree.query(points, predicate="intersects")
        return resolve_pairs(pt, cell, x, y, n, self.edges)

    def locate_exact(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        out = np.full(len(x), -1, dtype=np.int64)
        for k in range(len(x)):
            cand = np.flatnonzero(shapely.intersects_xy(self.geoms, x[k], y[k]))
            if len(cand) == 0:
                continue
            out[k] = cand[0]
            if len(cand) > 1:
                out[k] = _first_nudged(self.geoms, cand, x[k], y[k])
        return out


def _first_nudged(geoms: np.ndarray, cand: np.ndarray, x: float, y: float) -> int:
    for direction in DIRECTIONS:
        for c in cand:
            if contains_shifted_exact(geoms[c], x, y, direction):
                return int(c)
    return int(cand[0])


# --------------------------------------------------------------------------------------------
# fishnet fast path
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Fishnet:
    xs: np.ndarray
    ys: np.ndarray
    slots: np.ndarray  # (len(ys)-1, len(xs)-1) int64: rect cell, or -1 (general path)

    @classmethod
    def detect(cls, geoms: np.ndarray) -> _Fishnet | None:
        n = len(geoms)
        if n == 0:
            return None
        types = shapely.get_type_id(geoms)
        ncoord = shapely.get_num_coordinates(geoms)
        cand = (types == 3) & (ncoord == 5)
        cand[cand] = shapely.get_num_interior_rings(geoms[cand]) == 0
        idx = np.flatnonzero(cand)
        if len(idx) < max(1, n // 2):
            return None
        bounds = shapely.bounds(geoms[idx])
        coords = shapely.get_coordinates(geoms[idx]).reshape(-1, 5, 2)
        cx, cy = coords[:, :4, 0], coords[:, :4, 1]
        onx = (cx == bounds[:, [0]]) | (cx == bounds[:, [2]])
        ony = (cy == bounds[:, [1]]) | (cy == bounds[:, [3]])
        corners = (cx == bounds[:, [0]]).astype(int) * 2 + (cy == bounds[:, [1]]).astype(int)
        distinct = np.sort(corners, axis=1) == np.arange(4)
        rect = onx.all(1) & ony.all(1) & distinct.all(1)
        rect &= (bounds[:, 2] > bounds[:, 0]) & (bounds[:, 3] > bounds[:, 1])
        idx, bounds = idx[rect], bounds[rect]
        if len(idx) < max(1, n // 2):
            return None
        xs = np.unique(np.concatenate([bounds[:, 0], bounds[:, 2]]))
        ys = np.unique(np.concatenate([bounds[:, 1], bounds[:, 3]]))
        if (len(xs) - 1) * (len(ys) - 1) > 50_000_000:
            return None
        i0, i1 = np.searchsorted(xs, bounds[:, 0]), np.searchsorted(xs, bounds[:, 2])
        j0, j1 = np.searchsorted(ys, bounds[:, 1]), np.searchsorted(ys, bounds[:, 3])
        if not ((i1 == i0 + 1).all() and (j1 == j0 + 1).all()):
            return None
        slots = np.full((len(ys) - 1, len(xs) - 1), -1, dtype=np.int64)
        flat = j0 * (len(xs) - 1) + i0
        if len(np.unique(flat)) != len(flat):
            return None
        slots.flat[flat] = idx
        # slots whose open interior meets the bbox of a non-rectangular cell: general path
        other = np.setdiff1d(np.arange(n), idx)
        if len(other):
            ob = shapely.bounds(geoms[other])
            ok = np.isfinite(ob).all(axis=1)
            for minx, miny, maxx, maxy in ob[ok]:
                a = max(np.searchsorted(xs, minx, "right") - 1, 0)
                b = np.searchsorted(xs, maxx, "left")
                c = max(np.searchsorted(ys, miny, "right") - 1, 0)
                d = np.searchsorted(ys, maxy, "left")
                slots[c:d, a:b] = -1
        return cls(xs, ys, slots)

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.xs, x, "right") - 1
        j = np.searchsorted(self.ys, y, "right") - 1
        ok = (i >= 0) & (i < len(self.xs) - 1) & (j >= 0) & (j < len(self.ys) - 1)
        out = np.full(len(x), -1, dtype=np.int64)
        out[ok] = self.slots[j[ok], i[ok]]
        return out
