"""The label-raster engine of :mod:`gridgeo.assignment._engines` (private).

Pixels whose box meets no cell edge are labelled with their cell; a pixel met by exactly one
edge segment is decided by one exact orientation test (:class:`_Segments`); the rest go to the
STRtree path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from scipy import ndimage

from gridgeo._gc import gc_paused
from gridgeo.assignment._rule import _ORIENT_ERR, Edges, _orient_sign_exact

logger = logging.getLogger("gridgeo.assignment._engines")  # the name before the split

_RASTER_MAX_PIXELS = 250_000_000
_K_COST = 15.0  # see _Raster.build
_MARGIN = 1e-6  # pixel units; far above the rounding error of the pixel transform
_HASH_MULT = tuple(
    np.uint64(m)
    for m in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)
)


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
    def build(cls, loc: Any, n_points: int) -> _Raster:  # loc: the CellLocator
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
