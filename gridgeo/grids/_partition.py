"""Balanced contiguous partition of a small cell graph (private; used by :mod:`gridgeo.grids`).

The problem: split one connected part of a community (``m`` cells, rook graph, cell weights
``w``) into ``k`` rook-contiguous regions whose weights are as close as possible to
``T = sum(w) / k``, then as compact as possible.

Algorithm (deterministic for a given ``numpy.random.Generator``):

1. **Seeds.** Weighted k-means++ on cell centroids followed by a few weighted Lloyd
   iterations; each centre takes the nearest free cell as its seed.
2. **Growth.** All regions grow at once on the graph; the lightest region that can still grow
   takes its frontier cell closest to its seed. Every region is contiguous by construction and
   every cell of the connected part is reached.
3. **Local search** on the potential ``Φ = Σ (w_r − T)² / T² + μ · cut / L₀`` where ``cut`` is
   the total length of cell edges between different regions (a compactness proxy: shorter
   boundaries mean higher Polsby-Popper) and ``L₀`` the median shared edge length:

   * *boundary moves*: a cell moves to a neighbouring region when that lowers ``Φ`` and its own
     region stays connected (checked by a search of the region without the cell);
   * *pair re-splits* (as in ReCom): two neighbouring regions are merged and cut again along
     the best edge of random spanning trees, when that lowers ``Φ``. This moves weight through
     chains of regions that single-cell moves cannot improve.

   Each accepted step lowers ``Φ`` strictly, so the search ends.
4. **Compactness polish.** Boundary moves that shorten the cut, allowed only while both
   regions stay within the tolerance band (or do not move further from the target).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Graph", "allocate", "k_for_target", "partition", "tree_bisect", "tree_bisect_slow"]

_EPS = 1e-12
_MU = 2e-3  # weight of the cut length against squared relative deviation
_PASSES = 60
_TREE_TRIES = 6


@dataclass
class Graph:
    """Cells ``0..m-1`` of one connected unit."""

    nbrs: list[list[int]]
    lens: list[dict[int, float]]
    w: np.ndarray
    xy: np.ndarray
    _l0: float | None = field(default=None, repr=False, compare=False)

    @property
    def m(self) -> int:
        return len(self.nbrs)

    def edge_scale(self) -> float:
        """Median shared edge length (computed once: the graph does not change)."""
        if self._l0 is None:
            vals = [s for d in self.lens for s in d.values()]
            self._l0 = float(np.median(vals)) if vals else 1.0
        return self._l0


def allocate(weights: list[float], caps: list[int], n: int) -> list[int]:
    """Split ``n`` grids among units: at least 1 each, at most ``caps``; minimise Σ W²/k.

    With perfectly balanced grids inside each unit, the variance of grid weights is
    ``Σ W_u²/k_u / n − mean²``, so minimising ``Σ W_u² / k_u`` minimises the coefficient of
    variation. The marginal gain ``W²/(k(k+1))`` falls with ``k``, so the greedy choice is
    optimal (the Huntington-Hill rule of apportionment).
    """
    k = [1] * len(weights)
    heap = [(-(wu * wu) / 2.0, i) for i, wu in enumerate(weights) if caps[i] > 1]
    heapq.heapify(heap)
    left = n - len(weights)
    while left > 0 and heap:
        _, i = heapq.heappop(heap)
        k[i] += 1
        left -= 1
        if k[i] < caps[i]:
            heapq.heappush(heap, (-(weights[i] ** 2) / (k[i] * (k[i] + 1)), i))
    return k


def k_for_target(total: float, target: float, cap: int) -> int:
    """Whole number of grids of about ``target`` weight for a unit of weight ``total``."""
    if target <= 0 or total <= 0:
        return 1
    lo = max(1, int(np.floor(total / target)))
    hi = lo + 1

    def cost(k: int) -> float:
        return k * (total / k - target) ** 2

    return int(min(cap, lo if cost(lo) <= cost(hi) else hi))


def _seeds(g: Graph, k: int, rng: np.random.Generator) -> list[int]:
    xy = g.xy
    wk = g.w + 0.1 * (float(g.w.mean()) if g.m else 0.0) + 1e-12
    first = int(rng.choice(g.m, p=wk / wk.sum()))
    centres = [xy[first]]
    d2 = ((xy - xy[first]) ** 2).sum(axis=1)
    for _ in range(1, k):
        p = wk * d2
        idx = int(rng.choice(g.m, p=p / p.sum())) if p.sum() > 0 else int(rng.integers(g.m))
        centres.append(xy[idx])
        d2 = np.minimum(d2, ((xy - xy[idx]) ** 2).sum(axis=1))
    c = np.array(centres, dtype=float)
    for _ in range(8):
        lab = ((xy[:, None, :] - c[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        for r in range(k):
            sel = lab == r
            if sel.any():
                c[r] = (xy[sel] * wk[sel, None]).sum(axis=0) / wk[sel].sum()
    used: set[int] = set()
    seeds = []
    for r in range(k):
        order = np.argsort(((xy - c[r]) ** 2).sum(axis=1), kind="stable")
        s = next(int(i) for i in order if int(i) not in used)
        used.add(s)
        seeds.append(s)
    return seeds


def _grow(g: Graph, seeds: list[int]) -> list[int]:
    lab = [-1] * g.m
    rw = [0.0] * len(seeds)
    fronts: list[list[tuple[float, int]]] = [[] for _ in seeds]
    for r, s in enumerate(seeds):
        lab[s] = r
        rw[r] = float(g.w[s])
    for r, s in enumerate(seeds):
        for v in g.nbrs[s]:
            if lab[v] < 0:
                d = float(((g.xy[v] - g.xy[s]) ** 2).sum())
                heapq.heappush(fronts[r], (d, v))
    queue = [(rw[r], r) for r in range(len(seeds))]
    heapq.heapify(queue)
    while queue:
        _, r = heapq.heappop(queue)
        front = fronts[r]
        while front and lab[front[0][1]] >= 0:
            heapq.heappop(front)
        if not front:
            continue
        _, c = heapq.heappop(front)
        lab[c] = r
        rw[r] += float(g.w[c])
        s = seeds[r]
        for v in g.nbrs[c]:
            if lab[v] < 0:
                heapq.heappush(fronts[r], (float(((g.xy[v] - g.xy[s]) ** 2).sum()), v))
        heapq.heappush(queue, (rw[r], r))
    return lab


class _Search:
    """Mutable state of the local search on one unit."""

    def __init__(self, g: Graph, lab: list[int], k: int, target: float, tol: float) -> None:
        self.g = g
        self.lab = lab
        self.k = k
        self.t = target if target > 0 else 1.0
        self.tol = tol
        self.l0 = g.edge_scale()
        self.members: list[set[int]] = [set() for _ in range(k)]
        self.rw = [0.0] * k
        for c, r in enumerate(lab):
            self.members[r].add(c)
            self.rw[r] += float(g.w[c])

    def connected_without(self, r: int, c: int) -> bool:
        mem = self.members[r]
        if len(mem) <= 1:
            return False
        nb = self.g.nbrs
        inside = [v for v in nb[c] if v in mem]
        if len(inside) == 1:
            return True  # a leaf of a connected region
        seen = {c, inside[0]}
        stack = [inside[0]]
        while stack:
            u = stack.pop()
            for v in nb[u]:
                if v in mem and v not in seen:
                    seen.add(v)
                    stack.append(v)
        return len(seen) == len(mem)

    def move(self, c: int, b: int) -> None:
        a = self.lab[c]
        wc = float(self.g.w[c])
        self.members[a].discard(c)
        self.members[b].add(c)
        self.rw[a] -= wc
        self.rw[b] += wc
        self.lab[c] = b

    def _score(self, c: int, a: int, b: int, la: float, lb: float, band: float | None) -> float:
        t, wc = self.t, float(self.g.w[c])
        da, db = self.rw[a] - t, self.rw[b] - t
        dssd = 2.0 * wc * (wc - (da - db)) / (t * t)
        dcut = (la - lb) / self.l0
        if band is None:
            return dssd + _MU * dcut
        lim_a = max(band, abs(da) / t)
        lim_b = max(band, abs(db) / t)
        if abs(da - wc) / t > lim_a + _EPS or abs(db + wc) / t > lim_b + _EPS:
            return np.inf
        return dcut + 0.1 * dssd

    def try_cell(self, c: int, band: float | None = None) -> bool:
        """Move cell ``c`` to the neighbouring region that lowers the score most, if any."""
        g, lab = self.g, self.lab
        a = lab[c]
        la = 0.0
        other: dict[int, float] = {}
        for v in g.nbrs[c]:
            rv = lab[v]
            if rv == a:
                la += g.lens[c][v]
            else:
                other[rv] = other.get(rv, 0.0) + g.lens[c][v]
        if not other:
            return False
        best, best_b = -1e-9, -1
        for b in sorted(other):
            s = self._score(c, a, b, la, other[b], band)
            if s < best:
                best, best_b = s, b
        if best_b >= 0 and self.connected_without(a, c):
            self.move(c, best_b)
            return True
        return False

    def boundary_moves(self, band: float | None = None) -> bool:
        any_move = False
        for _ in range(_PASSES):
            moved = False
            for c in range(self.g.m):
                if self.try_cell(c, band):
                    moved = True
            if not moved:
                break
            any_move = True
        return any_move

    def region_neighbours(self, r: int) -> list[int]:
        out: set[int] = set()
        for c in self.members[r]:
            for v in self.g.nbrs[c]:
                if self.lab[v] != r:
                    out.add(self.lab[v])
        return sorted(out)

    def cut_between(self, part: set[int], other: set[int]) -> float:
        total = 0.0
        for c in part:
            for v, s in self.g.lens[c].items():
                if v in other:
                    total += s
        return total

    def resplit(self, rng: np.random.Generator) -> bool:
        """Try pair re-splits, worst region first; apply the first that lowers Φ."""
        t = self.t
        order = sorted(range(self.k), key=lambda r: (-abs(self.rw[r] - t), r))
        for r in order:
            if abs(self.rw[r] - t) / t < 1e-6:
                break
            # pair with the neighbour deviating most the other way first
            sign = 1.0 if self.rw[r] > t else -1.0
            for s in sorted(self.region_neighbours(r), key=lambda s: (sign * self.rw[s], s)):
                if self._try_pair(r, s, rng):
                    return True
        return False

    def _try_pair(self, r: int, s: int, rng: np.random.Generator) -> bool:
        t = self.t
        cells = sorted(self.members[r] | self.members[s])
        total = self.rw[r] + self.rw[s]
        old = ((self.rw[r] - t) ** 2 + (self.rw[s] - t) ** 2) / (t * t)
        old += _MU * self.cut_between(self.members[r], self.members[s]) / self.l0
        best = tree_bisect(self.g, cells, total / 2.0, rng, tries=_TREE_TRIES, scale=1.0 / t)
        if best is None:
            return False
        part, _ = best
        rest = set(cells) - part
        wp = float(self.g.w[sorted(part)].sum())
        new = ((wp - t) ** 2 + (total - wp - t) ** 2) / (t * t)
        new += _MU * self.cut_between(part, rest) / self.l0
        if new >= old - 1e-9:
            return False
        if len(part & self.members[r]) < len(rest & self.members[r]):
            part, rest = rest, part
        for c in part:
            if self.lab[c] != r:
                self.move(c, r)
        for c in rest:
            if self.lab[c] != s:
                self.move(c, s)
        return True


def _random_tree(n: int, edges: list[tuple[int, int]], rng: np.random.Generator) -> list[list[int]]:
    """Adjacency lists of a random spanning forest (Kruskal on random edge keys)."""
    keys = rng.random(len(edges))
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    adj: list[list[int]] = [[] for _ in range(n)]
    for e in np.argsort(keys, kind="stable"):
        a, b = edges[e]
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
            adj[a].append(b)
            adj[b].append(a)
    return adj


def _dfs_order(adj: list[list[int]]) -> tuple[list[int], list[int]]:
    """Visit order and parent of each node of the tree containing node 0."""
    order, par = [], [-1] * len(adj)
    seen = [False] * len(adj)
    stack = [0]
    seen[0] = True
    while stack:
        u = stack.pop()
        order.append(u)
        for v in adj[u]:
            if not seen[v]:
                seen[v] = True
                par[v] = u
                stack.append(v)
    return order, par


def _edge_lists(g: Graph, cells: list[int]) -> tuple[list[int], list[int], list[float]]:
    """Edges ``(a, b, length)`` of the graph induced by ``cells``, local ids, ``a < b``."""
    idx = {c: i for i, c in enumerate(cells)}
    ea: list[int] = []
    eb: list[int] = []
    el: list[float] = []
    for c in cells:
        ic = idx[c]
        for v, s in g.lens[c].items():
            iv = idx.get(v)
            if iv is not None and iv > ic:
                ea.append(ic)
                eb.append(iv)
                el.append(s)
    return ea, eb, el


def _kruskal(n: int, ea: list[int], eb: list[int], keys: np.ndarray) -> list[list[int]]:
    """Adjacency lists of the spanning forest Kruskal builds on ``keys`` (lists, no numpy)."""
    parent = list(range(n))
    adj: list[list[int]] = [[] for _ in range(n)]
    for e in np.argsort(keys, kind="stable").tolist():
        a, b = ea[e], eb[e]
        ra = a
        while parent[ra] != ra:
            parent[ra] = parent[parent[ra]]
            ra = parent[ra]
        rb = b
        while parent[rb] != rb:
            parent[rb] = parent[parent[rb]]
            rb = parent[rb]
        if ra != rb:
            parent[ra] = rb
            adj[a].append(b)
            adj[b].append(a)
    return adj


def tree_bisect(
    g: Graph,
    cells: list[int],
    goal: float,
    rng: np.random.Generator,
    *,
    tries: int,
    scale: float,
) -> tuple[set[int], float] | None:
    """Cut ``cells`` in two connected parts, one weighing about ``goal``.

    Draws ``tries`` random spanning trees of the induced graph (Kruskal on random edge
    keys); every tree edge gives a split. Returns the part of the best split and its score
    ``((weight − goal) · scale)² + μ · cut / L₀``, or ``None`` for fewer than 2 cells.
    Subtrees are ranges of the tree's depth-first order, so a split's cut is counted over
    the edge list without building the part. :func:`tree_bisect_slow` is the plain twin.
    """
    n = len(cells)
    if n < 2:
        return None
    ea, eb, el = _edge_lists(g, cells)
    w = [float(x) for x in g.w[cells]]
    l0 = g.edge_scale()
    best: tuple[float, int, int, list[int]] | None = None
    for _ in range(tries):
        adj = _kruskal(n, ea, eb, rng.random(len(ea)))
        order, par = _dfs_order(adj)
        if len(order) < n:
            return None  # induced graph not connected; caller's bug
        sub = list(w)
        size = [1] * n
        for u in reversed(order[1:]):
            sub[par[u]] += sub[u]
            size[par[u]] += size[u]
        pos = [0] * n
        for p, u in enumerate(order):
            pos[u] = p
        err = np.abs(np.array(sub) - goal)
        err[0] = np.inf
        for v in np.argsort(err, kind="stable")[:4].tolist():
            if not np.isfinite(err[v]):
                continue
            lo, hi = pos[v], pos[v] + size[v]
            cut = 0.0
            for a, b, s in zip(ea, eb, el, strict=True):
                if (lo <= pos[a] < hi) != (lo <= pos[b] < hi):
                    cut += s
            score = float(err[v] * scale) ** 2 + _MU * cut / l0
            if best is None or score < best[0]:
                best = (score, lo, hi, order)
    if best is None:
        return None
    score, lo, hi, order = best
    return {cells[u] for u in order[lo:hi]}, score


def tree_bisect_slow(
    g: Graph,
    cells: list[int],
    goal: float,
    rng: np.random.Generator,
    *,
    tries: int,
    scale: float,
) -> tuple[set[int], float] | None:
    """Slow twin of :func:`tree_bisect`: Kruskal and tree walks in plain Python."""
    if len(cells) < 2:
        return None
    idx = {c: i for i, c in enumerate(cells)}
    edges = [(idx[c], idx[v]) for c in cells for v in g.nbrs[c] if v in idx and idx[v] > idx[c]]
    w = np.array([float(g.w[c]) for c in cells])
    best: tuple[float, set[int]] | None = None
    l0 = g.edge_scale()
    n = len(cells)
    for _ in range(tries):
        adj = _random_tree(n, edges, rng)
        order, par = _dfs_order(adj)
        if len(order) < n:
            return None  # induced graph not connected; caller's bug
        sub = w.copy()
        for u in reversed(order[1:]):
            sub[par[u]] += sub[u]
        err = np.abs(sub - goal)
        err[0] = np.inf
        cand = np.argsort(err, kind="stable")[:4]
        children: list[list[int]] = [[] for _ in range(n)]
        for u in order[1:]:
            children[par[u]].append(u)
        for v in cand:
            if not np.isfinite(err[v]):
                continue
            part_idx: set[int] = set()
            st = [int(v)]
            while st:
                u = st.pop()
                part_idx.add(u)
                st.extend(children[u])
            part = {cells[i] for i in part_idx}
            cut = sum(s for c in part for u, s in g.lens[c].items() if u in idx and u not in part)
            score = float(err[v] * scale) ** 2 + _MU * cut / l0
            if best is None or score < best[0]:
                best = (score, part)
    if best is None:
        return None
    return best[1], best[0]


def partition(
    g: Graph,
    k: int,
    rng: np.random.Generator,
    *,
    tolerance: float = 0.10,
    max_rounds: int | None = None,
) -> np.ndarray:
    """Labels ``0..k-1`` of a balanced, contiguous, compact partition of connected ``g``."""
    m = g.m
    if k <= 1 or m <= 1:
        return np.zeros(m, dtype=np.int64)
    if k >= m:
        return np.arange(m, dtype=np.int64)
    target = float(g.w.sum()) / k
    lab = _grow(g, _seeds(g, k, rng))
    st = _Search(g, lab, k, target, tolerance)
    rounds = max_rounds if max_rounds is not None else 30 * k
    for _ in range(rounds):
        st.boundary_moves()
        if not st.resplit(rng):
            break
    st.boundary_moves(band=tolerance / 2.0)
    return np.array(st.lab, dtype=np.int64)
