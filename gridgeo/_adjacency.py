"""Rook adjacency between polygon cells (private; used by :mod:`gridgeo.grids`).

Two cells are *rook* neighbours when their boundaries share a stretch of positive length, not
just a corner. Real survey data has tiny gaps and slivers between cells, so a snapping
tolerance ``snap`` (in the layer's units, metres) may be given: the shared length is then the
length of one cell's boundary lying within ``snap`` of the other's boundary, measured both ways
and the smaller kept, and it must exceed ``3 * snap`` so that cells meeting at a corner (whose
boundaries run within ``snap`` of each other for about ``2 * snap``) stay apart.

:func:`rook_pairs` is the vectorised fast path (shapely 2 STRtree + array operations);
:func:`rook_pairs_slow` is its obviously correct twin, a plain double loop, and the tests check
they agree exactly.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

__all__ = ["components", "neighbour_lists", "rook_pairs", "rook_pairs_slow"]


def _min_shared(snap: float) -> float:
    return 3.0 * snap if snap > 0 else 0.0


def rook_pairs(
    geoms: np.ndarray, *, snap: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rook neighbour pairs ``(i, j, shared_length)`` with ``i < j``, sorted by ``(i, j)``."""
    geoms = np.asarray(geoms, dtype=object)
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, float))
    if len(geoms) < 2:
        return empty
    tree = shapely.STRtree(geoms)
    if snap > 0:
        a, b = tree.query(geoms, predicate="dwithin", distance=snap)
    else:
        a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep].astype(np.int64), b[keep].astype(np.int64)
    if len(a) == 0:
        return empty
    bnd = shapely.boundary(geoms)
    if snap > 0:
        zone = shapely.buffer(bnd, snap, quad_segs=8)
        ab = shapely.length(shapely.intersection(bnd[a], zone[b]))
        ba = shapely.length(shapely.intersection(bnd[b], zone[a]))
        shared = np.minimum(ab, ba)
    else:
        shared = shapely.length(shapely.intersection(bnd[a], bnd[b]))
    ok = shared > _min_shared(snap)
    a, b, shared = a[ok], b[ok], shared[ok]
    order = np.lexsort((b, a))
    return a[order], b[order], shared[order]


def rook_pairs_slow(
    geoms: np.ndarray, *, snap: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Twin of :func:`rook_pairs`: every pair checked one by one, no spatial index."""
    rows: list[tuple[int, int, float]] = []
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            gi, gj = geoms[i], geoms[j]
            if snap > 0:
                if gi.distance(gj) > snap:
                    continue
                ab = gi.boundary.intersection(gj.boundary.buffer(snap, quad_segs=8)).length
                ba = gj.boundary.intersection(gi.boundary.buffer(snap, quad_segs=8)).length
                shared = min(ab, ba)
            else:
                if not gi.intersects(gj):
                    continue
                shared = gi.boundary.intersection(gj.boundary).length
            if shared > _min_shared(snap):
                rows.append((i, j, shared))
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, float)
    i_arr, j_arr, s_arr = zip(*rows, strict=True)
    return np.array(i_arr, np.int64), np.array(j_arr, np.int64), np.array(s_arr, float)


def neighbour_lists(
    n: int, i: np.ndarray, j: np.ndarray, length: np.ndarray
) -> tuple[list[list[int]], list[dict[int, float]]]:
    """Adjacency lists and shared-length dicts for ``n`` nodes from symmetric pairs."""
    nbrs: list[list[int]] = [[] for _ in range(n)]
    lens: list[dict[int, float]] = [{} for _ in range(n)]
    for a, b, s in zip(i.tolist(), j.tolist(), length.tolist(), strict=True):
        nbrs[a].append(b)
        nbrs[b].append(a)
        lens[a][b] = s
        lens[b][a] = s
    return nbrs, lens


def components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes given undirected pairs."""
    if n == 0:
        return np.empty(0, np.int64)
    mat = sparse.coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    _, labels = connected_components(mat, directed=False)
    return labels.astype(np.int64)
