"""Spatial weights and neighbourhood sums for :mod:`gridgeo.hotspots` (private).

Everything here works on positions ``0..n-1`` and returns SciPy CSR matrices or NumPy arrays;
the public module maps them back to the caller's index.

* :func:`contiguity` — queen (shared vertex) or rook (shared edge) contiguity from polygon
  topology, by hashing vertex coordinates (rounded to ``decimals``) and pairing every
  polygon that uses the same vertex / the same edge. No geometric predicate is evaluated,
  which is what libpysal's ``Queen.from_dataframe`` / ``Rook.from_dataframe`` do too.
* :func:`distance_band` — binary weights between centroids closer than a threshold
  (``scipy.spatial.cKDTree.query_pairs``, distance ``<=`` threshold like libpysal).
* :func:`detect_lattice` / :func:`lattice_sums` — when every cell is an axis-aligned rectangle
  of one size sitting on one lattice, neighbourhood sums are a 2-D correlation on a raster.
* :func:`permutation_counts` — conditional randomisation for Gi*, vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely
from scipy import ndimage
from scipy.spatial import cKDTree

__all__ = [
    "Lattice",
    "contiguity",
    "detect_lattice",
    "distance_band",
    "lattice_kernel",
    "lattice_sums",
    "permutation_counts",
    "sparse_sums",
]


def _vertex_ids(xy: np.ndarray, decimals: int) -> np.ndarray:
    """Label equal (rounded) coordinate pairs with the same integer id."""
    r = np.round(xy, decimals)
    order = np.lexsort((r[:, 1], r[:, 0]))
    rs = r[order]
    new = np.empty(len(rs), dtype=bool)
    new[:1] = True
    new[1:] = (rs[1:, 0] != rs[:-1, 0]) | (rs[1:, 1] != rs[:-1, 1])
    ids = np.empty(len(rs), dtype=np.int64)
    ids[order] = np.cumsum(new) - 1
    return ids


def _pairs_from_groups(keys: np.ndarray, owners: np.ndarray, n: int) -> sp.csr_matrix:
    """Binary symmetric matrix linking every two owners that share a key."""
    pairs = np.unique(np.column_stack([keys, owners]), axis=0)  # one (key, owner) each
    k, o = pairs[:, 0], pairs[:, 1]
    rows, cols = [], []
    d = 1
    while d < len(k):
        same = k[d:] == k[:-d]
        if not same.any():
            break
        rows.append(o[:-d][same])
        cols.append(o[d:][same])
        d += 1
    if rows:
        r = np.concatenate(rows)
        c = np.concatenate(cols)
    else:
        r = c = np.empty(0, dtype=np.int64)
    m = sp.coo_matrix((np.ones(2 * len(r)), (np.r_[r, c], np.r_[c, r])), shape=(n, n)).tocsr()
    m.setdiag(0)
    m.eliminate_zeros()
    m.data[:] = 1.0
    m.sort_indices()
    return m


def contiguity(geoms: np.ndarray, kind: str = "queen", decimals: int = 7) -> sp.csr_matrix:
    """Queen or rook contiguity (binary, symmetric, zero diagonal) of polygons.

    Queen: two polygons are neighbours when they share at least one vertex; rook: when they
    share at least one edge (two consecutive vertices). Coordinates are rounded to
    ``decimals`` decimal places before comparison, which absorbs floating-point noise from
    the generator of the cells without joining cells that do not touch.
    """
    n = len(geoms)
    if kind == "queen":
        xy, owner = shapely.get_coordinates(geoms, return_index=True)
        vid = _vertex_ids(xy, decimals)
        return _pairs_from_groups(vid, owner, n)
    # rook: edges of every ring; ring -> polygon owner
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    vid = _vertex_ids(xy, decimals)
    same_ring = ring_of[1:] == ring_of[:-1]
    a, b = vid[:-1][same_ring], vid[1:][same_ring]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    nv = int(vid.max()) + 1 if len(vid) else 1
    keys = lo[keep] * nv + hi[keep]
    owners = part_owner[ring_part[ring_of[:-1][same_ring][keep]]]
    return _pairs_from_groups(keys, owners, n)


def distance_band(xy: np.ndarray, threshold: float) -> sp.csr_matrix:
    """Binary weights between points at distance ``<= threshold`` (zero diagonal)."""
    n = len(xy)
    pairs = cKDTree(xy).query_pairs(threshold, output_type="ndarray")
    r, c = pairs[:, 0], pairs[:, 1]
    m = sp.coo_matrix((np.ones(2 * len(r)), (np.r_[r, c], np.r_[c, r])), shape=(n, n))
    m = m.tocsr()
    m.sort_indices()
    return m


def sparse_sums(w: sp.csr_matrix, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gi* neighbourhood sum (self included) and cardinality (self included)."""
    s = w @ y + y
    k = np.diff(w.indptr).astype(np.float64) + 1.0
    return s, k


@dataclass(frozen=True)
class Lattice:
    """Cells that sit on one regular lattice of axis-aligned rectangles."""

    rows: np.ndarray  # row of each cell, 0 = southernmost
    cols: np.ndarray  # column of each cell, 0 = westernmost
    shape: tuple[int, int]
    dx: float
    dy: float


def detect_lattice(geoms: np.ndarray, rtol: float = 1e-9) -> Lattice | None:
    """Return the lattice of ``geoms`` when every cell is one lattice rectangle, else None.

    Conditions: every geometry is a Polygon without holes made of exactly its four bounding
    box corners (5 coordinates with the closing one), all of the same width and height, with
    their lower-left corners on one lattice (tolerance ``rtol`` x cell size), one cell per
    lattice position. Missing positions are allowed (they become empty raster pixels) as long
    as the raster has at most ``4 n + 1024`` pixels.
    """
    n = len(geoms)
    if n == 0:
        return None
    if not np.all(shapely.get_type_id(geoms) == 3):
        return None
    if np.any(shapely.get_num_interior_rings(geoms) != 0):
        return None
    if np.any(shapely.get_num_coordinates(geoms) != 5):
        return None
    b = shapely.bounds(geoms)
    w = b[:, 2] - b[:, 0]
    h = b[:, 3] - b[:, 1]
    dx, dy = float(np.median(w)), float(np.median(h))
    if dx <= 0 or dy <= 0:
        return None
    if np.any(np.abs(w - dx) > rtol * dx * 1e3) or np.any(np.abs(h - dy) > rtol * dy * 1e3):
        return None
    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    onx = np.isclose(xy[:, 0], b[owner, 0], rtol=0, atol=rtol * dx * 1e3) | np.isclose(
        xy[:, 0], b[owner, 2], rtol=0, atol=rtol * dx * 1e3
    )
    ony = np.isclose(xy[:, 1], b[owner, 1], rtol=0, atol=rtol * dy * 1e3) | np.isclose(
        xy[:, 1], b[owner, 3], rtol=0, atol=rtol * dy * 1e3
    )
    if not (onx.all() and ony.all()):
        return None
    x0, y0 = b[:, 0].min(), b[:, 1].min()
    fc = (b[:, 0] - x0) / dx
    fr = (b[:, 1] - y0) / dy
    cols = np.rint(fc).astype(np.int64)
    rows = np.rint(fr).astype(np.int64)
    if np.any(np.abs(fc - cols) > 1e-6) or np.any(np.abs(fr - rows) > 1e-6):
        return None
    if np.any(np.abs(shapely.area(geoms) - w * h) > 1e-6 * dx * dy):
        return None
    shape = (int(rows.max()) + 1, int(cols.max()) + 1)
    if shape[0] * shape[1] > 4 * n + 1024:  # mostly empty raster: the sparse path is cheaper
        return None
    flat = rows * shape[1] + cols
    if len(np.unique(flat)) != n:
        return None
    return Lattice(rows=rows, cols=cols, shape=shape, dx=dx, dy=dy)


def lattice_kernel(lat: Lattice, neighbours: str | float) -> np.ndarray:
    """Binary kernel (self included) of a queen, rook or distance-band neighbourhood."""
    if neighbours == "queen":
        return np.ones((3, 3))
    if neighbours == "rook":
        return np.array([[0.0, 1, 0], [1, 1, 1], [0, 1, 0]])
    d = float(neighbours)
    ri = int(np.floor(d / lat.dy + 1e-9))
    ci = int(np.floor(d / lat.dx + 1e-9))
    dr, dc = np.mgrid[-ri : ri + 1, -ci : ci + 1]
    dist = np.hypot(dr * lat.dy, dc * lat.dx)
    return (dist <= d * (1 + 1e-12)).astype(np.float64)


def lattice_sums(lat: Lattice, y: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Neighbourhood sums and cardinalities (self included) by 2-D correlation."""
    grid = np.zeros(lat.shape)
    mask = np.zeros(lat.shape)
    grid[lat.rows, lat.cols] = y
    mask[lat.rows, lat.cols] = 1.0
    s = ndimage.correlate(grid, kernel, mode="constant", cval=0.0)
    k = ndimage.correlate(mask, kernel, mode="constant", cval=0.0)
    return s[lat.rows, lat.cols], np.rint(k[lat.rows, lat.cols])


def lattice_to_sparse(lat: Lattice, kernel: np.ndarray) -> sp.csr_matrix:
    """The binary weights (zero diagonal) a lattice kernel stands for."""
    n = len(lat.rows)
    index = -np.ones(lat.shape, dtype=np.int64)
    index[lat.rows, lat.cols] = np.arange(n)
    hr, hc = kernel.shape[0] // 2, kernel.shape[1] // 2
    rr, cc = [], []
    for dr, dc in zip(*np.nonzero(kernel), strict=True):
        if dr == hr and dc == hc:
            continue
        r2 = lat.rows + dr - hr
        c2 = lat.cols + dc - hc
        ok = (r2 >= 0) & (r2 < lat.shape[0]) & (c2 >= 0) & (c2 < lat.shape[1])
        j = np.full(n, -1)
        j[ok] = index[r2[ok], c2[ok]]
        ok &= j >= 0
        rr.append(np.flatnonzero(ok))
        cc.append(j[ok])
    r = np.concatenate(rr) if rr else np.empty(0, dtype=np.int64)
    c = np.concatenate(cc) if cc else np.empty(0, dtype=np.int64)
    m = sp.coo_matrix((np.ones(len(r)), (r, c)), shape=(n, n)).tocsr()
    m.sort_indices()
    return m


def permutation_counts(
    y: np.ndarray,
    s: np.ndarray,
    k: np.ndarray,
    permutations: int,
    seed: int,
) -> np.ndarray:
    """Number of conditional permutations whose neighbour sum is ``>=`` the observed one.

    Conditional randomisation for Gi* (binary weights, self included): cell ``i`` keeps its
    own value and its ``k_i - 1`` neighbours are replaced by values drawn without
    replacement from the other ``n - 1`` cells. As in esda, one set of ``permutations``
    random draws is shared by all cells; each draw is a random ordering of ``K + 1`` distinct
    cells (``K`` the largest neighbour count). For cell ``i`` the simulated neighbour sum is
    the sum of the first ``k_i - 1`` drawn values, skipping ``i`` itself when it was drawn.
    Prefix sums and a sort per distinct neighbour count make this ``O(n log P)`` rather than
    ``O(n P K)``. Returns ``larger_i`` = #simulated sums ``>=`` observed (self excluded).
    """
    n = len(y)
    kp = (np.rint(k) - 1).astype(np.int64)  # neighbours without self
    kmax = int(kp.max()) if n else 0
    width = min(kmax + 1, n)
    rng = np.random.default_rng(seed)
    draws = np.empty((permutations, width), dtype=np.int64)
    for p in range(permutations):
        draws[p] = rng.choice(n, size=width, replace=False)
    prefix = np.zeros((permutations, width + 1))
    np.cumsum(y[draws], axis=1, out=prefix[:, 1:])
    observed = s - y  # neighbour sum without self
    larger = np.zeros(n, dtype=np.int64)
    for kk in np.unique(kp):
        cells = np.flatnonzero(kp == kk)
        col = np.sort(prefix[:, kk])
        larger[cells] = permutations - np.searchsorted(col, observed[cells], side="left")
    # correct the permutations in which cell j itself was among its first k_j draws
    pos = np.arange(width)[None, :]
    hit = pos < kp[draws]
    pr, pc = np.nonzero(hit)
    j = draws[pr, pc]
    kj = kp[j]
    replacement = np.minimum(kj + 1, width)
    before = prefix[pr, kj] >= observed[j]
    after = (prefix[pr, replacement] - y[j]) >= observed[j]
    np.add.at(larger, j, after.astype(np.int64) - before.astype(np.int64))
    return larger
