"""Benchmark gridgeo.hotspots.gistar against esda/libpysal on the same data, same process.

Data: a regular 388 x 388 fishnet of 100 m cells (150,544 cells) and ~30,000 Voronoi cells,
values Poisson with a few clusters. Timed: building queen weights, analytic Gi*, and 999
conditional permutations (esda's permutations on a subset when too slow; see --esda-perm-cells).

Run:  python benchmarks/bench_hotspots.py [--side 388] [--voronoi 30000] [--esda-perm-cells 20000]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings

import geopandas as gpd
import numpy as np
import shapely
from shapely import box

from gridgeo import hotspots as hs
from gridgeo.hotspots import _weights

CRS = "EPSG:4547"


def fishnet(side: int) -> gpd.GeoDataFrame:
    x, y = np.meshgrid(np.arange(side) * 100.0 + 500_000, np.arange(side) * 100.0 + 2.5e6)
    geoms = box(x.ravel(), y.ravel(), x.ravel() + 100, y.ravel() + 100)
    return gpd.GeoDataFrame(geometry=geoms, crs=CRS)


def voronoi(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    side = np.sqrt(n) * 100.0
    pts = shapely.points(rng.uniform(0, side, (n, 2)))
    env = box(0, 0, side, side)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=env))
    return gpd.GeoDataFrame(geometry=shapely.intersection(cells, env), crs=CRS)


def values(cells: gpd.GeoDataFrame, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = shapely.get_coordinates(cells.centroid.values)
    lo, hi = c.min(axis=0), c.max(axis=0)
    centres = rng.uniform(lo, hi, (8, 2))
    lam = 0.5 + sum(6 * np.exp(-(((c - m) ** 2).sum(axis=1)) / (2 * 600.0**2)) for m in centres)
    return rng.poisson(lam).astype(float)


def timed(fn, memory: bool = False):
    """Wall time; with memory=True a second, traced run gives the peak Python allocation
    (tracemalloc slows pure-Python code a lot, so times never come from the traced run)."""
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = np.nan
    if memory:
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return out, dt, peak


def run(name: str, cells: gpd.GeoDataFrame, esda_perm_cells: int) -> None:
    import esda
    import libpysal

    cells = cells.assign(count=values(cells))
    n = len(cells)
    print(f"\n== {name}: {n:,} cells ==")
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w, t_w, m_w = timed(lambda: libpysal.weights.Queen.from_dataframe(cells, use_index=False))
        g, t_a, m_a = timed(
            lambda: esda.G_Local(
                cells["count"].to_numpy(), w, transform="B", star=True, permutations=0
            )
        )
    ours_w, t_gw, m_gw = timed(
        lambda: _weights.contiguity(np.asarray(cells.geometry.values)), memory=True
    )
    assert (ours_w != w.sparse).nnz == 0, "queen weights differ"
    out, t_ga, m_ga = timed(lambda: hs.gistar(cells, "count"), memory=True)
    assert np.allclose(out["gi_z"], g.Zs, atol=1e-9), "z-scores differ"
    rows.append(("queen weights", t_w, t_gw, m_w, m_gw))
    rows.append(("weights + analytic Gi*", t_w + t_a, t_ga, max(m_w, m_a), m_ga))
    rows.append(("  (path: " + out.attrs["gistar"]["path"] + ")", np.nan, np.nan, 0, 0))
    sub = cells if n <= esda_perm_cells else cells.iloc[:esda_perm_cells]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ws = w if sub is cells else libpysal.weights.Queen.from_dataframe(sub, use_index=False)
        _, t_p, m_p = timed(
            lambda: esda.G_Local(
                sub["count"].to_numpy(), ws, transform="B", star=True, permutations=999, seed=1
            )
        )
    _, t_gp_sub, _ = timed(lambda: hs.gistar(sub, "count", permutations=999))
    _, t_gp, m_gp = timed(lambda: hs.gistar(cells, "count", permutations=999), memory=True)
    rows.append((f"999 permutations on {len(sub):,} cells", t_p, t_gp_sub, m_p, 0))
    rows.append((f"gridgeo 999 permutations, all {n:,} cells", np.nan, t_gp, 0, m_gp))
    print(f"{'step':45s} {'esda s':>8s} {'gridgeo s':>10s} {'ratio':>7s} {'gridgeo MiB':>12s}")
    for label, a, b, _, mb in rows:
        ratio = a / b if np.isfinite(a) and np.isfinite(b) and b > 0 else np.nan
        print(f"{label:45s} {a:8.2f} {b:10.3f} {ratio:7.1f} {mb:12.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--side", type=int, default=388)
    ap.add_argument("--voronoi", type=int, default=30_000)
    ap.add_argument("--esda-perm-cells", type=int, default=20_000)
    a = ap.parse_args()
    run(f"fishnet {a.side}x{a.side} @100 m", fishnet(a.side), a.esda_perm_cells)
    run(f"Voronoi ~{a.voronoi:,}", voronoi(a.voronoi), a.esda_perm_cells)
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS (esda + gridgeo, whole run): {rss:.0f} MiB")


if __name__ == "__main__":
    main()
