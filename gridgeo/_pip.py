"""Point-in-polygon engines behind :mod:`gridgeo.assign` (private).

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
  lookup. Points in boundary pixels take the ``strtree`` path.
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

logger = logging.getLogger(__name__)

ENGINES = ("auto", "fishnet", "raster", "strtree", "exact")

# Shewchuk's error bound for the floating-point orientation determinant (ccwerrboundA).
_ORIENT_ERR = (3.0 + 16.0 * 2.0**-53) * 2.0**-53
_PAIR_CHUNK = 2_000_000
_RASTER_MIN_POINTS = 200_000
_RASTER_MAX_PIXELS = 250_000_000
_MARGIN = 1e-6  # pixel units; far above the rounding error of the pixel transform


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


def cell_edges(geoms: np.ndarray) -> Edges:
    """Collect the ring edges of every (multi)polygon in ``geoms``."""
    parts, part_cell = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    same = coord_ring[1:] == coord_ring[:-1]
    a = coords[:-1][same]
    b = coords[1:][same]
    edge_cell = part_cell[ring_part[coord_ring[:-1][same]]]
    start = np.searchsorted(edge_cell, np.arange(len(geoms) + 1))
    return Edges(a[:, 0].copy(), a[:, 1].copy(), b[:, 0].copy(), b[:, 1].copy(), start)


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
class _Raster:
    x0: float
    y0: float
    size: float
    nx: int
    ny: int
    labels: np.ndarray  # (ny, nx) int32 component id, 0 = boundary pixel
    comp_cell: np.ndarray  # component id -> cell, -1 = unsure, -2 = outside every cell

    @classmethod
    def build(cls, loc: CellLocator, n_points: int) -> _Raster:
        geoms = loc.geoms
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        width, height = max(maxx - minx, 1e-9), max(maxy - miny, 1e-9)
        # cost model: boundary points (STRtree, ~2 µs) vs pixels (~15 ns): k³ ≈ 150·N/cells
        k = float(np.clip((150.0 * n_points / max(len(geoms), 1)) ** (1 / 3), 4.0, 64.0))
        n_pixels = min(len(geoms) * k * k, _RASTER_MAX_PIXELS)
        size = float(np.sqrt(width * height / n_pixels))
        nx = int(np.floor(width / size)) + 1
        ny = int(np.floor(height / size)) + 1
        mask = np.zeros(nx * ny, dtype=bool)
        e = loc.edges
        _mark_edges(mask, e, minx, miny, size, nx, ny)
        labels, n_comp = ndimage.label(~mask.reshape(ny, nx))
        del mask
        rep = np.full(n_comp + 1, -1, dtype=np.int64)
        step = max(1, 4_000_000 // nx)
        for r0 in range(0, ny, step):
            block = labels[r0 : r0 + step].ravel()
            rep[block] = np.arange(r0 * nx, r0 * nx + len(block))
        rep = rep[1:]
        cx = minx + (rep % nx + 0.5) * size
        cy = miny + (rep // nx + 0.5) * size
        pt, cell = loc.tree.query(shapely.points(cx, cy), predicate="intersects")
        hits = np.bincount(pt, minlength=n_comp)
        comp_cell = np.full(n_comp + 1, -1, dtype=np.int64)
        comp_cell[1:][hits == 0] = -2
        single = hits[pt] == 1
        comp_cell[1 + pt[single]] = cell[single]
        logger.debug("label raster %d x %d (pixel %.3g), %d components", nx, ny, size, n_comp)
        return cls(float(minx), float(miny), size, nx, ny, labels, comp_cell)

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        u = np.floor((x - self.x0) / self.size)
        v = np.floor((y - self.y0) / self.size)
        ok = (u >= 0) & (u < self.nx) & (v >= 0) & (v < self.ny)
        out = np.full(len(x), -1, dtype=np.int64)
        lab = self.labels[v[ok].astype(np.int64), u[ok].astype(np.int64)]
        out[ok] = self.comp_cell[lab]
        return out


def _mark_edges(
    mask: np.ndarray, e: Edges, x0: float, y0: float, size: float, nx: int, ny: int
) -> None:
    """Mark every pixel whose box, widened by a small margin, meets a cell edge.

    Each edge is walked along its major axis, one pixel
    column (or row) at a time; within a column a shallow edge spans at most three rows.
    """
    u_a, v_a = (e.ax - x0) / size, (e.ay - y0) / size
    u_b, v_b = (e.bx - x0) / size, (e.by - y0) / size
    swap = (u_a > u_b) | ((u_a == u_b) & (v_a > v_b))
    seg = np.column_stack(
        [
            np.where(swap, u_b, u_a),
            np.where(swap, v_b, v_a),
            np.where(swap, u_a, u_b),
            np.where(swap, v_a, v_b),
        ]
    )
    steep = np.abs(seg[:, 3] - seg[:, 1]) > np.abs(seg[:, 2] - seg[:, 0])
    for transpose, part in ((False, seg[~steep]), (True, seg[steep][:, [1, 0, 3, 2]])):
        for lo in range(0, len(part), 400_000):
            _mark_shallow(mask, part[lo : lo + 400_000], nx, ny, transpose=transpose)


def _mark_shallow(mask: np.ndarray, seg: np.ndarray, nx: int, ny: int, *, transpose: bool) -> None:
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
    ncols, nrows = (ny, nx) if transpose else (nx, ny)
    for k in range(int((r1 - r0).max(initial=0)) + 1):
        rr = r0 + k
        ok = (rr <= r1) & (rr >= 0) & (rr < nrows) & (col >= 0) & (col < ncols)
        if transpose:
            mask[col[ok] * nx + rr[ok]] = True
        else:
            mask[rr[ok] * nx + col[ok]] = True
