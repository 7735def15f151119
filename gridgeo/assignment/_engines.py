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
from fractions import Fraction
from itertools import pairwise
from typing import Any

import numpy as np
import shapely
from scipy import ndimage

from gridgeo._gc import gc_paused

logger = logging.getLogger(__name__)

ENGINES = ("auto", "fishnet", "raster", "strtree", "exact")

# Shewchuk's error bound for the floating-point orientation determinant (ccwerrboundA).
_ORIENT_ERR = (3.0 + 16.0 * 2.0**-53) * 2.0**-53
_PAIR_CHUNK = 2_000_000
_RASTER_MIN_POINTS = 200_000
_RASTER_MAX_PIXELS = 250_000_000
_K_COST = 15.0  # see _Raster.build
_MARGIN = 1e-6  # pixel units; far above the rounding error of the pixel transform
_HASH_MULT = tuple(
    np.uint64(m)
    for m in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)
)


# --------------------------------------------------------------------------------------------
# edges and the shifted-point rule
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Edges:
    """All ring edges of all cells; the edges of cell ``i`` are ``start[i]:start[i+1]``."""

    ax: np.ndarray
    ay: np.ndarray
    bx: np.ndarray
    by: np.ndarray
    start: np.ndarray
    inner_left: np.ndarray  # bool: the cell's interior lies left of a -> b

    @property
    def cell(self) -> np.ndarray:
        """The cell (row number) of every edge."""
        return np.repeat(np.arange(len(self.start) - 1), np.diff(self.start))


def cell_edges(geoms: np.ndarray) -> Edges:
    """Collect the ring edges of every (multi)polygon in ``geoms``."""
    with gc_paused():
        parts, part_cell = shapely.get_parts(geoms, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    same = coord_ring[1:] == coord_ring[:-1]
    a = coords[:-1][same]
    b = coords[1:][same]
    edge_ring = coord_ring[:-1][same]
    edge_cell = part_cell[ring_part[edge_ring]]
    start = np.searchsorted(edge_cell, np.arange(len(geoms) + 1))
    # the interior is left of an edge of a counter-clockwise shell or of a clockwise hole
    exterior = np.ones(len(rings), dtype=bool)
    exterior[1:] = ring_part[1:] != ring_part[:-1]
    ring_left = shapely.is_ccw(rings) == exterior
    return Edges(
        a[:, 0].copy(), a[:, 1].copy(), b[:, 0].copy(), b[:, 1].copy(), start, ring_left[edge_ring]
    )


def _orient_sign_exact(ax: float, ay: float, bx: float, by: float, px: float, py: float) -> int:
    det = (Fraction(bx) - Fraction(ax)) * (Fraction(py) - Fraction(ay)) - (
        Fraction(by) - Fraction(ay)
    ) * (Fraction(px) - Fraction(ax))
    return (det > 0) - (det < 0)


# nudge directions tried in turn: east-north, west-north, east-south, west-south
DIRECTIONS = ((1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0))


def contains_shifted(
    edges: Edges,
    cell: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    direction: tuple[float, float] = (1.0, 1.0),
) -> np.ndarray:
    """For pairs ``(cell[k], (x[k], y[k]))``: does the cell contain ``p + (sx·ε, sy·ε²)``?

    Directions other than east-north are the same test on the mirrored plane (negating a
    float is exact).
    """
    cell = np.asarray(cell, dtype=np.int64)
    out = np.zeros(len(cell), dtype=bool)
    for lo in range(0, len(cell), _PAIR_CHUNK):
        hi = min(lo + _PAIR_CHUNK, len(cell))
        out[lo:hi] = _contains_shifted_chunk(edges, cell[lo:hi], x[lo:hi], y[lo:hi], direction)
    return out


def _contains_shifted_chunk(
    edges: Edges,
    cell: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    direction: tuple[float, float],
) -> np.ndarray:
    sx, sy = direction
    counts = edges.start[cell + 1] - edges.start[cell]
    pair = np.repeat(np.arange(len(cell)), counts)
    offset = np.arange(len(pair)) - np.repeat(np.cumsum(counts) - counts, counts)
    e = edges.start[cell][pair] + offset
    px, py = sx * x[pair], sy * y[pair]
    ay, by = sy * edges.ay[e], sy * edges.by[e]
    cross = (ay > py) != (by > py)
    pair, e, px, py, ay, by = pair[cross], e[cross], px[cross], py[cross], ay[cross], by[cross]
    ax, bx = sx * edges.ax[e], sx * edges.bx[e]
    left = (bx - ax) * (py - ay)
    right = (by - ay) * (px - ax)
    det = left - right
    sign = np.sign(det)
    unsure = np.abs(det) <= _ORIENT_ERR * (np.abs(left) + np.abs(right))
    for k in np.flatnonzero(unsure):
        sign[k] = _orient_sign_exact(ax[k], ay[k], bx[k], by[k], px[k], py[k])
    # the crossing is east of p+ iff p is strictly left of an upward / right of a downward edge
    east = np.where(by > ay, sign > 0, sign < 0)
    hits = np.bincount(pair[east], minlength=len(cell))
    return (hits % 2).astype(bool)


def contains_shifted_exact(
    geom: Any, x: float, y: float, direction: tuple[float, float] = (1.0, 1.0)
) -> bool:
    """Slow twin of :func:`contains_shifted` for one polygon, in exact rational arithmetic."""
    sx, sy = int(direction[0]), int(direction[1])
    px, py = sx * Fraction(x), sy * Fraction(y)
    inside = False
    for part in shapely.get_parts(geom):
        for ring in shapely.get_rings(part):
            pts = [(sx * Fraction(u), sy * Fraction(v)) for u, v in shapely.get_coordinates(ring)]
            for (ax, ay), (bx, by) in pairwise(pts):
                if (ay > py) == (by > py):
                    continue
                x_at = ax + (py - ay) * (bx - ax) / (by - ay)
                if x_at > px:
                    inside = not inside
    return inside


def resolve_pairs(
    pt: np.ndarray, cell: np.ndarray, x: np.ndarray, y: np.ndarray, n: int, edges: Edges
) -> np.ndarray:
    """Apply the boundary rule to covering pairs ``(pt, cell)``; return one cell per point or -1."""
    out = np.full(n, -1, dtype=np.int64)
    if len(pt) == 0:
        return out
    order = np.lexsort((cell, pt))
    pt, cell = pt[order], cell[order]
    hits = np.bincount(pt, minlength=n)
    single = hits[pt] == 1
    out[pt[single]] = cell[single]
    mpt, mcell = pt[~single], cell[~single]
    if len(mpt):
        first_any = np.unique(mpt, return_index=True)
        out[first_any[0]] = mcell[first_any[1]]
        done = np.zeros(n, dtype=bool)
        for direction in DIRECTIONS:
            keep = ~done[mpt]
            mpt, mcell = mpt[keep], mcell[keep]
            if len(mpt) == 0:
                break
            inside = contains_shifted(edges, mcell, x[mpt], y[mpt], direction)
            upt, idx = np.unique(mpt[inside], return_index=True)
            out[upt] = mcell[inside][idx]
            done[upt] = True
    return out


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


# --------------------------------------------------------------------------------------------
# label raster fast path
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Segments:
    """The cell edges as undirected segments ``a < b`` (lexicographic), each once.

    ``left``/``right`` is the cell on that side of ``a -> b``: -2 where no cell lies there, -1
    where the segment cannot decide alone (a side claimed twice, the same cell on both sides,
    a zero-length segment); points near such a segment take the STRtree path.
    """

    ax: np.ndarray
    ay: np.ndarray
    bx: np.ndarray
    by: np.ndarray
    left: np.ndarray
    right: np.ndarray

    @classmethod
    def from_edges(cls, e: Edges) -> _Segments:
        swap = (e.ax > e.bx) | ((e.ax == e.bx) & (e.ay > e.by))
        ax, ay = np.where(swap, e.bx, e.ax), np.where(swap, e.by, e.ay)
        bx, by = np.where(swap, e.ax, e.bx), np.where(swap, e.ay, e.by)
        inner_left = e.inner_left != swap
        cell = e.cell
        if len(ax) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return cls(ax, ay, bx, by, empty, empty)
        # sort by a hash of the bit patterns: equal segments become neighbours (a collision
        # can only leave a duplicate in place, which is harmless); equality is checked exactly
        h = np.zeros(len(ax), dtype=np.uint64)
        for arr, mult in zip((ax, ay, bx, by), _HASH_MULT, strict=True):
            h = (h ^ arr.view(np.uint64)) * mult
        order = np.argsort(h, kind="stable")
        ax, ay, bx, by = ax[order], ay[order], bx[order], by[order]
        inner_left, cell = inner_left[order], cell[order]
        new = np.ones(len(ax), dtype=bool)
        new[1:] = (
            (ax[1:] != ax[:-1]) | (ay[1:] != ay[:-1]) | (bx[1:] != bx[:-1]) | (by[1:] != by[:-1])
        )
        seg = np.cumsum(new) - 1
        m = int(seg[-1]) + 1
        left = np.full(m, -2, dtype=np.int64)
        right = np.full(m, -2, dtype=np.int64)
        left[seg[inner_left]] = cell[inner_left]
        right[seg[~inner_left]] = cell[~inner_left]
        ax, ay, bx, by = ax[new], ay[new], bx[new], by[new]
        unusable = (
            (np.bincount(seg[inner_left], minlength=m) > 1)
            | (np.bincount(seg[~inner_left], minlength=m) > 1)
            | (left == right)
            | ((ax == bx) & (ay == by))
        )
        left[unusable] = -1
        right[unusable] = -1
        return cls(ax, ay, bx, by, left, right)

    def side_cell(self, seg: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Cell of point ``k`` given that ``seg[k]`` is the only cell edge near it.

        The exact orientation of the point against the segment picks the side; a point on the
        segment goes to the side ``p + (ε, ε²)`` lies on, or to the other side's cell when no
        cell lies there (the outer edge of the union), as :func:`resolve_pairs` decides.
        """
        ax, ay, bx, by = self.ax[seg], self.ay[seg], self.bx[seg], self.by[seg]
        sign = _orient_signs(ax, ay, bx, by, x, y)
        on = sign == 0
        # p + (ε, ε²) is left of a -> b iff b.y < a.y, or, for a horizontal segment, b.x > a.x
        take_left = np.where(on, np.where(by != ay, by < ay, bx > ax), sign > 0)
        left, right = self.left[seg], self.right[seg]
        out = np.where(take_left, left, right)
        other = np.where(take_left, right, left)
        out = np.where(on & (out == -2), other, out)
        out[left == -1] = -1
        return out


def _orient_signs(
    ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray, px: np.ndarray, py: np.ndarray
) -> np.ndarray:
    """Exact sign of the orientation determinant of ``(a, b, p)``, elementwise (+1 = p left)."""
    left = (bx - ax) * (py - ay)
    right = (by - ay) * (px - ax)
    det = left - right
    sign = np.sign(det).astype(np.int8)
    unsure = np.abs(det) <= _ORIENT_ERR * (np.abs(left) + np.abs(right))
    for k in np.flatnonzero(unsure):
        sign[k] = _orient_sign_exact(ax[k], ay[k], bx[k], by[k], px[k], py[k])
    return sign


@dataclass(frozen=True)
class _Raster:
    """Pixels labelled by what decides the points in them.

    ``codes`` (flat, row-major) holds, per pixel: ``c > 0``, a connected component of pixels
    that meet no cell edge (``comp_cell[c]`` is its cell, -2 outside every cell, -1 unsure);
    ``c <= -2``, a pixel met by exactly one segment, ``-2 - c`` (decided by
    :meth:`_Segments.side_cell`); ``c == -1``, a pixel met by several segments (STRtree).
    """

    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    nx: int
    ny: int
    codes: np.ndarray
    comp_cell: np.ndarray
    segments: _Segments

    @classmethod
    def build(cls, loc: CellLocator, n_points: int) -> _Raster:
        geoms = loc.geoms
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        width, height = max(maxx - minx, 1e-9), max(maxy - miny, 1e-9)
        # cost model: points near several edges (STRtree, ~2 µs) vs pixels (~20 ns):
        # k³ ≈ K·N/cells pixels per cell side
        k = float(np.clip((_K_COST * n_points / max(len(geoms), 1)) ** (1 / 3), 4.0, 64.0))
        n_pixels = min(len(geoms) * k * k, _RASTER_MAX_PIXELS)
        size = float(np.sqrt(width * height / n_pixels))
        nx = int(np.floor(width / size)) + 1
        ny = int(np.floor(height / size)) + 1
        segments = _Segments.from_edges(loc.edges)
        owner = np.full(nx * ny, -1, dtype=np.int32)
        multi = np.zeros(nx * ny, dtype=bool)
        _mark_segments(owner, multi, segments, minx, miny, size, nx, ny)
        codes, n_comp = ndimage.label((owner < 0).reshape(ny, nx))
        codes = codes.ravel()
        rep = np.full(n_comp + 1, -1, dtype=np.int64)
        step = max(1, 4_000_000 // nx)
        for r0 in range(0, ny, step):
            block = codes[r0 * nx : (r0 + step) * nx]
            rep[block] = np.arange(r0 * nx, r0 * nx + len(block))
        rep = rep[1:]
        boundary = np.flatnonzero(owner >= 0)
        codes[boundary] = np.where(multi[boundary], -1, -2 - owner[boundary])
        del owner, multi, boundary
        cx = minx + (rep % nx + 0.5) * size
        cy = miny + (rep // nx + 0.5) * size
        with gc_paused():
            reps = shapely.points(cx, cy)
        pt, cell = loc.tree.query(reps, predicate="intersects")
        hits = np.bincount(pt, minlength=n_comp)
        comp_cell = np.full(n_comp + 1, -1, dtype=np.int64)
        comp_cell[1:][hits == 0] = -2
        single = hits[pt] == 1
        comp_cell[1 + pt[single]] = cell[single]
        logger.debug("label raster %d x %d (pixel %.3g), %d components", nx, ny, size, n_comp)
        return cls(
            float(minx),
            float(miny),
            float(maxx),
            float(maxy),
            size,
            nx,
            ny,
            codes,
            comp_cell,
            segments,
        )

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Cell per point; -2 = outside every cell, -1 = undecided (use the STRtree)."""
        u = (x - self.x0) / self.size
        v = (y - self.y0) / self.size
        ok = (u >= 0) & (u < self.nx) & (v >= 0) & (v < self.ny)
        flat = v.astype(np.int64) * self.nx + u.astype(np.int64)  # truncation = floor here
        flat[~ok] = 0  # pixel 0 stands in outside the raster: one gather, no masked copies
        code = self.codes[flat]
        out = np.where(ok & (code > 0), self.comp_cell[np.maximum(code, 0)], -1)
        # beyond the cells' bounds: no cell can cover the point
        out[(x < self.x0) | (x > self.x1) | (y < self.y0) | (y > self.y1)] = -2
        one = np.flatnonzero(ok & (code <= -2))
        if len(one):
            out[one] = self.segments.side_cell(-2 - code[one].astype(np.int64), x[one], y[one])
        return out


def _mark_segments(
    owner: np.ndarray,
    multi: np.ndarray,
    s: _Segments,
    x0: float,
    y0: float,
    size: float,
    nx: int,
    ny: int,
) -> None:
    """Record, per pixel whose box (widened by a small margin) meets a segment, which one.

    ``owner[p]`` is one segment meeting pixel ``p`` (-1: none) and ``multi[p]`` says whether
    more than one does. Each segment is walked along its major axis, one pixel column (or row)
    at a time; within a column a shallow segment spans at most three rows, and a segment
    meets each pixel once, so two writes to a pixel always come from two segments.
    """
    u_a, v_a = (s.ax - x0) / size, (s.ay - y0) / size
    u_b, v_b = (s.bx - x0) / size, (s.by - y0) / size
    seg = np.column_stack([u_a, v_a, u_b, v_b])
    ids = np.arange(len(seg), dtype=np.int32)
    steep = np.abs(seg[:, 3] - seg[:, 1]) > np.abs(seg[:, 2] - seg[:, 0])
    for transpose, part, part_ids in (
        (False, seg[~steep], ids[~steep]),
        (True, seg[steep][:, [1, 0, 3, 2]], ids[steep]),
    ):
        for lo in range(0, len(part), 400_000):
            _mark_shallow(
                owner,
                multi,
                part[lo : lo + 400_000],
                part_ids[lo : lo + 400_000],
                nx,
                ny,
                transpose=transpose,
            )


def _mark_shallow(
    owner: np.ndarray,
    multi: np.ndarray,
    seg: np.ndarray,
    ids: np.ndarray,
    nx: int,
    ny: int,
    *,
    transpose: bool,
) -> None:
    ua, va, ub, vb = seg.T
    ulo, uhi = np.minimum(ua, ub), np.maximum(ua, ub)
    c0 = np.floor(ulo - _MARGIN).astype(np.int64)
    ncol = np.floor(uhi + _MARGIN).astype(np.int64) - c0 + 1
    edge = np.repeat(np.arange(len(ua)), ncol)
    col = np.repeat(c0, ncol) + (np.arange(len(edge)) - np.repeat(np.cumsum(ncol) - ncol, ncol))
    a_u, a_v = ua[edge], va[edge]
    du, dv = ub[edge] - a_u, vb[edge] - a_v
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(du == 0, 0.0, dv / np.where(du == 0, 1.0, du))
    s0 = np.maximum(ulo[edge], col - _MARGIN)
    s1 = np.minimum(uhi[edge], col + 1 + _MARGIN)
    w0 = np.where(s0 > ulo[edge], a_v + (s0 - a_u) * slope, np.where(du >= 0, a_v, a_v + dv))
    w1 = np.where(s1 < uhi[edge], a_v + (s1 - a_u) * slope, np.where(du >= 0, a_v + dv, a_v))
    vmin, vmax = np.minimum(a_v, a_v + dv), np.maximum(a_v, a_v + dv)
    vmin = np.where(du == 0, vmin, np.clip(np.minimum(w0, w1), vmin, vmax))
    vmax = np.where(du == 0, vmax, np.clip(np.maximum(w0, w1), vmin, vmax))
    r0 = np.floor(vmin - _MARGIN).astype(np.int64)
    r1 = np.floor(vmax + _MARGIN).astype(np.int64)
    sid = ids[edge]
    ncols, nrows = (ny, nx) if transpose else (nx, ny)
    for k in range(int((r1 - r0).max(initial=0)) + 1):
        rr = r0 + k
        ok = (rr <= r1) & (rr >= 0) & (rr < nrows) & (col >= 0) & (col < ncols)
        pix = col[ok] * nx + rr[ok] if transpose else rr[ok] * nx + col[ok]
        who = sid[ok]
        prev = owner[pix]
        multi[pix[prev >= 0]] = True  # met by an earlier segment (never this one: see above)
        owner[pix] = who
        multi[pix[owner[pix] != who]] = True  # two segments of this batch
