"""The boundary rule of :mod:`gridgeo.assignment._engines` (private): exact, no epsilon.

Ring edges of the cells (:class:`Edges`), the shifted-point test ``p + (sx·ε, sy·ε²)``
(:func:`contains_shifted`, a floating-point filter then exact rational arithmetic; its slow twin
:func:`contains_shifted_exact`) and the resolution of multi-hits (:func:`resolve_pairs`). The
rule itself is described in :mod:`gridgeo.assignment._engines`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import Any

import numpy as np
import shapely

from gridgeo._gc import gc_paused

# Shewchuk's error bound for the floating-point orientation determinant (ccwerrboundA).
_ORIENT_ERR = (3.0 + 16.0 * 2.0**-53) * 2.0**-53
_PAIR_CHUNK = 2_000_000


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
