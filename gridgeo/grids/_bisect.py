"""Balanced partition of a large cell graph by recursive bisection (private; grids.build).

:func:`gridgeo.grids._partition.partition` cuts a connected unit into ``k`` grids directly; its
local search scans the whole unit after every improvement, so its cost grows about as
``k · m`` and becomes minutes for one community of 1,500 cells into 500 grids. This module
keeps that algorithm for small pieces and reaches them by recursive bisection:

1. **Bisection.** A piece that needs ``k`` grids is cut in two parts needing ``k // 2`` and
   ``k - k // 2`` grids, with weights in the same proportion. The cut is a straight sweep
   across the piece's long (principal) axis: cells are taken in order of their centroid's
   position on the axis until the weight reaches the goal. Both sides are then made
   connected (a side keeps its heaviest connected component; the other pieces join the other
   side, which surrounds them), the sweep position is searched so that the repaired weight
   is closest to the goal, and boundary cells of the heavier side move across while that
   brings the weights closer and keeps both sides connected.
2. **Leaves.** A piece needing at most ``LEAF_K`` grids (and holding at most
   ``LEAF_CELLS`` cells) is partitioned by :func:`gridgeo.grids._partition.partition`.
3. **Polish across leaves.** Boundary moves (same score as ``_partition``) over the cells on
   grid borders, then again only around cells that moved; then pair re-splits of the grids
   still outside half the tolerance, each followed by boundary moves around the pair.

Every grid is connected at every step (sweeps are repaired, moves check connectivity), so
contiguity is exact. :func:`gridgeo.grids._partition.partition` on the whole unit is the slow twin.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from gridgeo.grids._partition import _PASSES, Graph, _Search, partition

__all__ = ["LEAF_CELLS", "LEAF_K", "bisect", "hierarchical", "induced", "to_csr"]

LEAF_K = 4
LEAF_CELLS = 1500
_MAX_TUNE = 64
_RESPLIT_SWEEPS = 3
_LEAF_ROUNDS = 10


def _leaf_rounds(k: int) -> int:
    return _LEAF_ROUNDS * k


def to_csr(g: Graph) -> sparse.csr_matrix:
    """Symmetric matrix of shared edge lengths of ``g``."""
    counts = np.fromiter((len(d) for d in g.lens), dtype=np.int64, count=g.m)
    rows = np.repeat(np.arange(g.m, dtype=np.int64), counts)
    cols = np.fromiter(chain.from_iterable(g.lens), dtype=np.int64, count=int(counts.sum()))
    vals = np.fromiter(
        chain.from_iterable(d.values() for d in g.lens), dtype=float, count=int(counts.sum())
    )
    return sparse.csr_matrix((vals, (rows, cols)), shape=(g.m, g.m))


def induced(g: Graph, cells: np.ndarray) -> Graph:
    """Sub-graph on ``cells`` (local ids follow their order), keeping ``g``'s edge scale."""
    idx = {int(c): i for i, c in enumerate(cells.tolist())}
    lens = [{idx[v]: s for v, s in g.lens[c].items() if v in idx} for c in cells.tolist()]
    nbrs = [list(d) for d in lens]
    return Graph(nbrs, lens, g.w[cells], g.xy[cells], _l0=g.edge_scale())


def _components(n: int, ei: np.ndarray, ej: np.ndarray, keep: np.ndarray) -> np.ndarray:
    mat = sparse.coo_matrix((np.ones(int(keep.sum())), (ei[keep], ej[keep])), shape=(n, n))
    return connected_components(mat, directed=False)[1]


def _keep_heaviest(side: np.ndarray, w: np.ndarray, ei: np.ndarray, ej: np.ndarray) -> np.ndarray:
    """Mask of the heaviest connected component of the cells in ``side``."""
    lab = _components(len(side), ei, ej, side[ei] & side[ej])
    score = np.bincount(lab[side], weights=w[side] + 1e-9, minlength=int(lab.max()) + 1)
    return side & (lab == int(np.argmax(score)))


def _repair(a: np.ndarray, w: np.ndarray, ei: np.ndarray, ej: np.ndarray) -> np.ndarray:
    """Make both sides connected: A keeps its heaviest piece, then B keeps its heaviest."""
    if not a.any() or a.all():
        return a
    a = _keep_heaviest(a, w, ei, ej)
    b = _keep_heaviest(~a, w, ei, ej)
    return ~b


def _connected_without(
    side: np.ndarray,
    c: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    ei: np.ndarray,
    ej: np.ndarray,
) -> bool:
    """Whether the cells of ``side`` other than ``c`` stay connected (``c`` in ``side``)."""
    nb = [int(v) for v in indices[indptr[c] : indptr[c + 1]] if side[v]]
    if len(nb) <= 1:
        return True
    # local search first: the neighbours linked through cells next to them is enough
    ring = set(nb)
    for v in nb:
        ring.update(int(u) for u in indices[indptr[v] : indptr[v + 1]] if side[u])
    ring.discard(c)
    seen = {nb[0]}
    stack = [nb[0]]
    while stack:
        u = stack.pop()
        for v in indices[indptr[u] : indptr[u + 1]]:
            v = int(v)
            if v in ring and v not in seen:
                seen.add(v)
                stack.append(v)
    if all(v in seen for v in nb):
        return True
    rest = side.copy()
    rest[c] = False
    lab = _components(len(side), ei, ej, rest[ei] & rest[ej])
    return len(np.unique(lab[rest])) == 1


def bisect(
    xy: np.ndarray, w: np.ndarray, sub: sparse.csr_matrix, k1: int, k2: int
) -> np.ndarray | None:
    """Mask of part A (``k1`` grids) of a connected piece cut in two connected parts.

    ``xy`` are cell centroids, ``w`` weights, ``sub`` the piece's adjacency (shared
    lengths). Part A gets about ``k1 / (k1 + k2)`` of the weight and at least ``k1`` cells,
    part B at least ``k2``. ``None`` when no such cut was found.
    """
    s = len(w)
    if s < k1 + k2:
        return None
    total = float(w.sum())
    if total <= 0:
        w = np.ones(s)
        total = float(s)
    goal = total * k1 / (k1 + k2)
    coo = sub.tocoo()
    ei, ej = coo.row.astype(np.int64), coo.col.astype(np.int64)
    centred = xy - xy.mean(axis=0)
    cov = centred.T @ centred
    axis = np.linalg.eigh(cov)[1][:, -1] if np.isfinite(cov).all() else np.array([1.0, 0.0])
    order = np.lexsort((np.arange(s), centred @ axis))
    cum = np.cumsum(w[order])

    cache: dict[int, tuple[float, np.ndarray]] = {}

    def evaluate(i: int) -> tuple[float, np.ndarray]:
        if i not in cache:
            a = np.zeros(s, dtype=bool)
            a[order[:i]] = True
            a = _repair(a, w, ei, ej)
            n_a = int(a.sum())
            err = abs(float(w[a].sum()) - goal)
            if n_a < k1 or s - n_a < k2:
                err = np.inf
            cache[i] = (err, a)
        return cache[i]

    lo, hi = k1, s - k2
    i0 = int(np.clip(np.searchsorted(cum, goal) + 1, lo, hi))
    if evaluate(i0)[0] > float(w.max()):
        # the repair moved weight: search the sweep position (weight grows with it)
        a_lo, a_hi = lo, hi
        while a_lo < a_hi:
            mid = (a_lo + a_hi) // 2
            err, a = evaluate(mid)
            if float(w[a].sum()) < goal:
                a_lo = mid + 1
            else:
                a_hi = mid
        for i in (a_lo - 1, a_lo, a_lo + 1):
            if lo <= i <= hi:
                evaluate(i)
    err, a = min(cache.values(), key=lambda t: t[0])
    if not np.isfinite(err):
        return None
    return _tune(a.copy(), w, goal, sub, ei, ej, k1, k2)


def _tune(
    a: np.ndarray,
    w: np.ndarray,
    goal: float,
    sub: sparse.csr_matrix,
    ei: np.ndarray,
    ej: np.ndarray,
    k1: int,
    k2: int,
) -> np.ndarray:
    """Move boundary cells of the heavier side across while that nears the goal weight."""
    indptr, indices, data = sub.indptr, sub.indices, sub.data
    wa = float(w[a].sum())
    for _ in range(_MAX_TUNE):
        err = wa - goal
        heavy_is_a = err > 0
        side = a if heavy_is_a else ~a
        if int(side.sum()) - 1 < (k1 if heavy_is_a else k2):
            break
        cross = side[ei] & ~side[ej]
        cand, shared = np.unique(ei[cross], return_inverse=True)
        if len(cand) == 0:
            break
        length = np.bincount(shared, weights=data[cross], minlength=len(cand))
        after = np.abs(abs(err) - w[cand])
        good = after < abs(err) - 1e-12 * max(goal, 1.0)
        if not good.any():
            break
        cand, after, length = cand[good], after[good], length[good]
        moved = False
        for t in np.lexsort((cand, -length, after))[:16]:
            c = int(cand[t])
            if _connected_without(side, c, indptr, indices, ei, ej):
                a[c] = not heavy_is_a
                wa += -float(w[c]) if heavy_is_a else float(w[c])
                moved = True
                break
        if not moved:
            break
    return a


class _Polish(_Search):
    """Local search restricted to the cells where something can change."""

    def border_cells(self) -> list[int]:
        lab, nb = self.lab, self.g.nbrs
        return [c for c in range(self.g.m) if any(lab[v] != lab[c] for v in nb[c])]

    def moves_around(self, cells: list[int] | set[int]) -> None:
        active = sorted(set(cells))
        for _ in range(_PASSES):
            touched: set[int] = set()
            for c in active:
                if self.try_cell(c):
                    touched.add(c)
                    touched.update(self.g.nbrs[c])
            if not touched:
                break
            active = sorted(touched)

    def resplit_deviating(self, rng: np.random.Generator) -> None:
        t = self.t
        for _ in range(_RESPLIT_SWEEPS):
            improved = False
            order = sorted(range(self.k), key=lambda r: (-abs(self.rw[r] - t), r))
            for r in order:
                if abs(self.rw[r] - t) / t <= self.tol / 2.0:
                    break
                sign = 1.0 if self.rw[r] > t else -1.0
                for s in sorted(self.region_neighbours(r), key=lambda s: (sign * self.rw[s], s)):
                    if self._try_pair(r, s, rng):
                        self.moves_around(self.members[r] | self.members[s])
                        improved = True
                        break
            if not improved:
                break


def hierarchical(
    g: Graph,
    k: int,
    rng: np.random.Generator,
    *,
    tolerance: float = 0.10,
    on_done: Callable[[int], None] | None = None,
    leaf_k: int = LEAF_K,
    leaf_cells: int = LEAF_CELLS,
) -> np.ndarray:
    """Labels ``0..k-1`` of a balanced, contiguous partition of connected ``g``.

    ``on_done(j)`` is called as each piece of ``j`` grids is finished (progress bars).
    """
    done = on_done if on_done is not None else (lambda j: None)
    m = g.m
    if k <= 1 or m <= 1:
        done(max(k, 1))
        return np.zeros(m, dtype=np.int64)
    if k >= m:
        done(k)
        return np.arange(m, dtype=np.int64)
    if k <= leaf_k and m <= leaf_cells:
        out = partition(g, k, rng, tolerance=tolerance)
        done(k)
        return out
    csr = to_csr(g)
    labels = np.full(m, -1, dtype=np.int64)
    nxt = 0
    stack: list[tuple[np.ndarray, int]] = [(np.arange(m, dtype=np.int64), k)]
    while stack:
        cells, kk = stack.pop()
        if kk == 1:
            labels[cells] = nxt
            nxt += 1
            done(1)
            continue
        a = None
        if not (kk <= leaf_k and len(cells) <= leaf_cells) and kk < len(cells):
            k1 = kk // 2
            sub = csr[cells][:, cells]
            a = bisect(g.xy[cells], g.w[cells], sub, k1, kk - k1)
        if a is None:
            sub_g = induced(g, cells)
            part = partition(sub_g, kk, rng, tolerance=tolerance, max_rounds=_leaf_rounds(kk))
            labels[cells] = part + nxt
            nxt += kk
            done(kk)
            continue
        stack.append((cells[~a], kk - kk // 2))
        stack.append((cells[a], kk // 2))
    st = _Polish(g, labels.tolist(), k, float(g.w.sum()) / k, tolerance)
    st.moves_around(st.border_cells())
    st.resplit_deviating(rng)
    return np.array(st.lab, dtype=np.int64)
