"""Grid building at a real district's size: recursive bisection, its twins, seed-sized layouts.

No time budget is asserted (the machine is shared); the benchmark records times.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridgeo import grids
from gridgeo.grids import _bisect as _grids_bisect
from gridgeo.grids import _partition
from gridgeo.grids._plan import sub_graph


def voronoi_layout(n_cells: int, n_comm: int, seed: int) -> gpd.GeoDataFrame:
    """Voronoi cells of random points clipped to a polygon; communities are k-means regions."""
    rng = np.random.default_rng(seed)
    outline = shapely.Polygon(
        [(0, 0), (6000, -500), (7800, 3600), (5400, 6600), (1800, 5400), (-900, 3000)]
    )
    minx, miny, maxx, maxy = outline.bounds
    xy = rng.uniform([minx, miny], [maxx, maxy], size=(n_cells * 3, 2))
    xy = xy[shapely.contains_xy(outline, xy[:, 0], xy[:, 1])][:n_cells]
    parts = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=outline))
    geoms = shapely.intersection(parts, outline)
    geoms = geoms[~shapely.is_empty(geoms)]
    cent = shapely.get_coordinates(shapely.centroid(geoms))
    centres = cent[rng.choice(len(cent), n_comm, replace=False)]
    for _ in range(10):
        lab = ((cent[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
        centres = np.array([cent[lab == c].mean(0) for c in range(n_comm)])
    return gpd.GeoDataFrame(
        {
            "admin_code": "441302",
            "street_code": "001",
            "community_code": [f"{c + 1:03d}" for c in lab],
            "load": np.round(rng.lognormal(2, 0.6, len(geoms)), 1),
        },
        geometry=list(geoms),
        crs="EPSG:4547",
    )


def grid_graph(nx_: int, ny: int, seed: int) -> _partition.Graph:
    """Square lattice with integer weights and edge lengths (sums are exact in floats)."""
    m = nx_ * ny
    nbrs: list[list[int]] = [[] for _ in range(m)]
    lens: list[dict[int, float]] = [{} for _ in range(m)]
    for y in range(ny):
        for x in range(nx_):
            c = y * nx_ + x
            for dx, dy in ((1, 0), (0, 1)):
                if x + dx < nx_ and y + dy < ny:
                    d = (y + dy) * nx_ + x + dx
                    length = float(1 + (c * 7 + d) % 3)
                    nbrs[c].append(d)
                    nbrs[d].append(c)
                    lens[c][d] = lens[d][c] = length
    w = np.random.default_rng(seed).integers(1, 9, m).astype(float)
    xy = np.array([(x, y) for y in range(ny) for x in range(nx_)], dtype=float)
    return _partition.Graph(nbrs, lens, w, xy)


def connected(g: _partition.Graph, members: set[int]) -> bool:
    start = next(iter(members))
    seen, stack = {start}, [start]
    while stack:
        u = stack.pop()
        for v in g.nbrs[u]:
            if v in members and v not in seen:
                seen.add(v)
                stack.append(v)
    return seen == members


@pytest.mark.parametrize("seed", range(12))
def test_tree_bisect_equals_slow_twin(seed: int) -> None:
    g = grid_graph(9, 7, seed)
    rng = np.random.default_rng(seed)
    cells = sorted(rng.choice(g.m, 40, replace=False).tolist()) if seed % 2 else list(range(g.m))
    # keep the largest connected piece of the chosen cells
    pieces: list[set[int]] = []
    left = set(cells)
    while left:
        start = left.pop()
        piece, stack = {start}, [start]
        while stack:
            u = stack.pop()
            for v in g.nbrs[u]:
                if v in left:
                    left.discard(v)
                    piece.add(v)
                    stack.append(v)
        pieces.append(piece)
    cells = sorted(max(pieces, key=len))
    goal = float(g.w[cells].sum()) / (2 + seed % 3)
    fast = _partition.tree_bisect(
        g, cells, goal, np.random.default_rng(seed), tries=6, scale=1 / goal
    )
    slow = _partition.tree_bisect_slow(
        g, cells, goal, np.random.default_rng(seed), tries=6, scale=1 / goal
    )
    assert (fast is None) == (slow is None)
    if fast is not None and slow is not None:
        assert fast[0] == slow[0]
        assert fast[1] == pytest.approx(slow[1], abs=1e-12)


@pytest.mark.parametrize(("k1", "k2"), [(1, 1), (2, 3), (7, 8)])
def test_bisect_gives_connected_balanced_halves(k1: int, k2: int) -> None:
    g = grid_graph(20, 15, 3)
    csr = _grids_bisect.to_csr(g)
    a = _grids_bisect.bisect(g.xy, g.w, csr, k1, k2)
    assert a is not None
    part_a, part_b = set(np.flatnonzero(a).tolist()), set(np.flatnonzero(~a).tolist())
    assert connected(g, part_a) and connected(g, part_b)
    goal = g.w.sum() * k1 / (k1 + k2)
    # within one cell's weight of the goal (cells weigh 1..8)
    assert abs(g.w[a].sum() - goal) <= g.w.max()


def test_hierarchical_against_direct_twin() -> None:
    """The recursive path and the direct partition (its slow twin) both give k contiguous
    grids covering the unit; the recursive one is at least about as balanced."""
    cells = voronoi_layout(600, 1, seed=5)
    geoms = np.asarray(cells.geometry.values, dtype=object)
    w = cells["load"].to_numpy(dtype=float)
    g = sub_graph(geoms, np.arange(len(cells)), w, 0.0)
    k = 40
    fast = _grids_bisect.hierarchical(g, k, np.random.default_rng(0), leaf_k=4)
    slow = _partition.partition(g, k, np.random.default_rng(0))
    for lab in (fast, slow):
        assert sorted(set(lab.tolist())) == list(range(k))
        for r in range(k):
            assert connected(g, set(np.flatnonzero(lab == r).tolist()))
    cv = [float(np.std(s) / np.mean(s)) for s in (np.bincount(lab, w) for lab in (fast, slow))]
    assert cv[0] <= max(1.5 * cv[1], 0.05)


def test_induced_graph_equals_sub_graph() -> None:
    cells = voronoi_layout(300, 1, seed=2)
    geoms = np.asarray(cells.geometry.values, dtype=object)
    w = cells["load"].to_numpy(dtype=float)
    g = sub_graph(geoms, np.arange(len(cells)), w, 0.0)
    pos = np.flatnonzero(shapely.get_coordinates(shapely.centroid(geoms))[:, 0] < 3000)
    a = _grids_bisect.induced(g, pos)
    b = sub_graph(geoms, pos, w, 0.0)
    assert [sorted(x) for x in a.nbrs] == [sorted(x) for x in b.nbrs]
    for da, db in zip(a.lens, b.lens, strict=True):
        assert da == pytest.approx(db)


@pytest.mark.parametrize(
    ("n_comm", "nest", "n"),
    [(1, "community", 510), (2, "community", 150), (15, "community", 150), (15, None, 150)],
)
def test_seed_sized_district(n_comm: int, nest: str | None, n: int) -> None:
    """1,528 cells (Huizhou's seed size) in one, two, fifteen communities and nest=None."""
    cells = voronoi_layout(1528, n_comm, seed=42)
    plan = grids.build(cells, n=n, weight="load", within=nest, progress=False)
    assert len(plan.grids) == n
    assert plan.summary.non_contiguous == ()
    codes = plan.cells["grid_code"]
    if nest == "community":
        prefix = cells["admin_code"] + cells["street_code"] + cells["community_code"]
        assert (codes.str[:12] == prefix).all()
    # contiguity judged without gridgeo's adjacency: each grid's union is one polygon
    unions = plan.cells.dissolve("grid_code").geometry
    assert (unions.geom_type == "Polygon").all()
    bound = 0.25 if n == 510 else 0.10
    assert plan.summary.cv <= bound


def test_progress_bar_counts_grids(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bar's total is the number of grids and it reaches it as pieces finish."""
    seen: list[int] = []
    real = _grids_bisect.hierarchical

    def spy(*args: object, on_done: object = None, **kwargs: object) -> np.ndarray:
        def count(j: int) -> None:
            seen.append(j)
            on_done(j)  # type: ignore[operator]

        return real(*args, on_done=count, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_grids_bisect, "hierarchical", spy)
    cells = voronoi_layout(400, 2, seed=1)
    grids.build(cells, n=60, weight="load", progress=False)
    assert sum(seen) == 60
    assert len(seen) > 2  # advances piece by piece, not once per community


def test_unit_graphs_equal_sub_graph() -> None:
    """Unit graphs cut from the layer's rook pairs equal a fresh overlay of each unit."""
    from gridgeo import _adjacency
    from gridgeo.grids._build import unit_graphs

    cells = voronoi_layout(400, 3, seed=4)
    geoms = np.asarray(cells.geometry.values, dtype=object)
    w = cells["load"].to_numpy(dtype=float)
    comm = cells["community_code"].to_numpy()
    i, j, s = _adjacency.rook_pairs(geoms)
    keep = comm[i] == comm[j]
    lab = _adjacency.components(len(cells), i[keep], j[keep])
    units = [np.flatnonzero(lab == u) for u in np.unique(lab)]
    for pos, got in zip(units, unit_graphs(units, i, j, s, w, geoms), strict=True):
        ref = sub_graph(geoms, pos, w, 0.0)
        assert got.nbrs == ref.nbrs
        assert got.lens == ref.lens
        assert np.array_equal(got.w, ref.w)
        assert np.allclose(got.xy, ref.xy)
