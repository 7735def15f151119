"""Benchmark: balanced responsibility grids, gridgeo.grids.build against spopt.

Generates a realistic irregular district of 1,528 base cells (Voronoi cells of clustered points
clipped to an irregular district outline, a skewed monthly workload column) in one, two and
fifteen communities (the seed city's shape), then groups them into 150 and 510 grids with
gridgeo and with spopt's ``WardSpatial`` (and ``MaxPHeuristic`` when asked), in the same
process, on the same data. spopt runs once per community, with as many regions in each as
gridgeo gave it, so both respect the same nesting. gridgeo also runs with ``nest=None`` on the
fifteen-community layout.

Printed per run: wall and CPU seconds (the machine is shared: CPU time is the steadier figure),
number of regions, workload CV (population std / mean) beside the best CV any plan could reach
(``bound``), max/mean, % of regions rook-contiguous, % of regions inside one community, mean
Polsby-Popper.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_grids.py           # gridgeo + WardSpatial
    PYTHONPATH=. python benchmarks/bench_grids.py --maxp    # also spopt max-p (slow)
    PYTHONPATH=. python benchmarks/bench_grids.py --large   # 20,000 and 150,000 cells
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

N_CELLS = 1528


def district_outline(rng: np.random.Generator, radius: float = 4000.0) -> shapely.Polygon:
    """An irregular, smooth star-shaped outline about 8 km across."""
    angles = np.linspace(0, 2 * np.pi, 181)[:-1]
    r = np.full(len(angles), radius)
    for freq in (2, 3, 5, 7):
        r *= 1 + 0.12 / freq * np.sin(freq * angles + rng.uniform(0, 2 * np.pi))
    return shapely.Polygon(np.c_[r * np.cos(angles), r * np.sin(angles)] + 500_000)


def make_cells(seed: int = 42, n_cells: int = N_CELLS, communities: int = 15) -> gpd.GeoDataFrame:
    """Realistic irregular base cells with nesting codes and a skewed ``workload`` column.

    ``communities`` communities (k-means regions of the cell centroids), three per street.
    """
    rng = np.random.default_rng(seed)
    outline = district_outline(rng)
    minx, miny, maxx, maxy = outline.bounds
    centres = rng.uniform([minx, miny], [maxx, maxy], size=(6, 2))
    spread = rng.uniform(300, 900, size=6)
    pts: list[np.ndarray] = []
    while len(pts) < n_cells:
        if rng.random() < 0.6:  # dense towns
            c = rng.integers(len(centres))
            p = centres[c] + rng.normal(0, spread[c], 2)
        else:  # sparse outskirts
            p = rng.uniform([minx, miny], [maxx, maxy])
        if outline.contains(shapely.Point(p)):
            pts.append(p)
    xy = np.array(pts[:n_cells])
    vor = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=outline)
    parts = shapely.get_parts(vor)
    # voronoi_polygons returns cells in arbitrary order: match them back to their points
    tree = shapely.STRtree(parts)
    idx = tree.query(shapely.points(xy), predicate="intersects")
    order = np.empty(n_cells, dtype=np.int64)
    order[idx[0]] = idx[1]
    geoms = shapely.intersection(parts[order], outline)
    cent = shapely.get_coordinates(shapely.centroid(geoms))
    # communities: nearest of the community centres (k-means on cell centroids)
    n_comm = communities
    comm_c = cent[rng.choice(n_cells, n_comm, replace=False)]
    for _ in range(20):
        lab = ((cent[:, None] - comm_c[None]) ** 2).sum(-1).argmin(1)
        comm_c = np.array([cent[lab == k].mean(0) for k in range(n_comm)])
    order_c = np.lexsort((comm_c[:, 0], -np.floor(comm_c[:, 1] / 2000)))
    rank = np.empty(n_comm, dtype=np.int64)
    rank[order_c] = np.arange(n_comm)
    community = rank[lab]
    street = community // 3
    # workload: people live where cells are dense; markets and schools add hot spots
    density = sum(
        np.exp(-((cent - c) ** 2).sum(1) / (2 * s**2)) for c, s in zip(centres, spread, strict=True)
    )
    area = shapely.area(geoms)
    load = area * (0.2 + density) * rng.lognormal(0, 0.45, n_cells)
    hot = rng.choice(n_cells, 15, replace=False)
    load[hot] *= 2.5
    load = np.round(load / load.mean() * 20, 1)  # about 20 reports / month per cell
    return gpd.GeoDataFrame(
        {
            "cell_code": [
                f"441302{s + 1:03d}{c + 1:03d}{i:03d}"
                for i, (s, c) in enumerate(zip(street, community, strict=True), start=1)
            ],
            "admin_code": "441302",
            "street_code": [f"{s + 1:03d}" for s in street],
            "community_code": [f"{c + 1:03d}" for c in community],
            "workload": load,
        },
        geometry=geoms,
        crs="EPSG:4547",
    )


def measure(cells: gpd.GeoDataFrame, labels: np.ndarray, seconds: float, name: str) -> dict:
    """Quality of a regionalisation, computed the same way for every tool.

    Contiguity is judged independently of gridgeo's adjacency code: a region is rook-contiguous
    when the union of its cells is a single Polygon (cells meeting only at a corner, or apart,
    give a MultiPolygon).
    """
    frame = gpd.GeoDataFrame(
        {"region": labels, "w": cells["workload"].to_numpy(), "c": cells["community_code"]},
        geometry=cells.geometry.values,
        crs=cells.crs,
    )
    regions = frame.dissolve("region", aggfunc={"w": "sum", "c": "nunique"})
    geoms = regions.geometry.values
    pp = 4 * math.pi * shapely.area(geoms) / shapely.length(geoms) ** 2
    w = regions["w"].to_numpy()
    return {
        "tool": name,
        "regions": len(regions),
        "seconds": round(seconds, 2),
        "cv": round(float(w.std() / w.mean()), 3),
        "max/mean": round(float(w.max() / w.mean()), 2),
        "contiguous %": round(100 * float((shapely.get_type_id(geoms) == 3).mean()), 1),
        "nested %": round(100 * float((regions["c"] == 1).mean()), 1),
        "mean PP": round(float(pp.mean()), 3),
    }


def granularity_bound(weights: np.ndarray, n: int) -> float:
    """CV of the best imaginable plan: cells heavier than the rest's mean alone, rest equal."""
    w = np.sort(weights)[::-1]
    total, heavy = float(w.sum()), []
    while w[len(heavy)] > (total - sum(heavy)) / (n - len(heavy)):
        heavy.append(float(w[len(heavy)]))
    rest = (total - sum(heavy)) / (n - len(heavy))
    g = np.array(heavy + [rest] * (n - len(heavy)))
    return float(g.std() / g.mean())


def run_gridgeo(cells: gpd.GeoDataFrame, n: int, nest: str | None = "community") -> tuple:
    from gridgeo import grids

    t0, c0 = time.perf_counter(), time.process_time()
    plan = grids.build(cells, n=n, weight="workload", within=nest, progress=False)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    codes = plan.cells["grid_code"].to_numpy()
    name = "gridgeo.grids.build" + ("" if nest else " (within=None)")
    row = measure(cells, pd.factorize(codes)[0], dt, name)
    row["cpu s"] = round(cpu, 2)
    return row, plan


def per_community(cells: gpd.GeoDataFrame, counts: pd.Series, solve, name: str) -> dict:
    """Run a spopt model once per community with gridgeo's number of grids for it."""
    labels = np.full(len(cells), -1, dtype=np.int64)
    t0, c0 = time.perf_counter(), time.process_time()
    nxt = 0
    for comm, k in counts.items():
        pos = np.flatnonzero(cells["community_code"].to_numpy() == comm)
        sub = cells.iloc[pos].reset_index(drop=True)
        lab = np.zeros(len(sub), dtype=np.int64) if k <= 1 else solve(sub, int(k))
        labels[pos] = pd.factorize(lab)[0] + nxt
        nxt = labels.max() + 1
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    row = measure(cells, labels, dt, name)
    row["cpu s"] = round(cpu, 2)
    return row


def ward(sub: gpd.GeoDataFrame, k: int) -> np.ndarray:
    from libpysal.weights import Rook
    from spopt.region import WardSpatial

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Rook.from_dataframe(sub, use_index=False)
        model = WardSpatial(sub, w, ["workload"], n_clusters=k)
        model.solve()
    return np.asarray(model.labels_)


def maxp(sub: gpd.GeoDataFrame, k: int) -> np.ndarray:
    from libpysal.weights import Rook
    from spopt.region import MaxPHeuristic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Rook.from_dataframe(sub, use_index=False)
        np.random.seed(0)  # noqa: NPY002 - spopt's max-p draws from the legacy global RNG
        threshold = float(sub["workload"].sum()) / k
        model = MaxPHeuristic(sub, w, ["workload"], "workload", threshold, top_n=2)
        model.solve()
    return np.asarray(model.labels_)


def seed_shapes(args: argparse.Namespace) -> None:
    rows = []
    for n_comm in (1, 2, 15):
        cells = make_cells(args.seed, communities=n_comm)
        w = cells["workload"].to_numpy()
        for n in (150, 510):
            bound = granularity_bound(w, n)
            row, plan = run_gridgeo(cells, n)
            rows.append({"communities": n_comm, "n": n, "bound": round(bound, 3), **row})
            counts = plan.grids.groupby("community_code").size()
            rows.append(
                {
                    "communities": n_comm,
                    "n": n,
                    "bound": round(bound, 3),
                    **per_community(cells, counts, ward, "spopt WardSpatial per community"),
                }
            )
            if args.maxp and n == 150:
                rows.append(
                    {
                        "communities": n_comm,
                        "n": n,
                        "bound": round(bound, 3),
                        **per_community(cells, counts, maxp, "spopt MaxPHeuristic per community"),
                    }
                )
            if n_comm == 15:
                row, _ = run_gridgeo(cells, n, nest=None)
                rows.append({"communities": n_comm, "n": n, "bound": round(bound, 3), **row})
    print(pd.DataFrame(rows).to_string(index=False))


def large(args: argparse.Namespace) -> None:
    rows = []
    for n_cells, n in ((20_000, 2_000), (150_000, 5_000)):
        cells = make_cells(args.seed, n_cells=n_cells, communities=15)
        row, _ = run_gridgeo(cells, n)
        rows.append({"cells": n_cells, "n": n, **row})
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maxp", action="store_true", help="also run spopt max-p (slow)")
    parser.add_argument("--large", action="store_true", help="20,000 and 150,000 cells only")
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated district")
    args = parser.parse_args()
    if args.large:
        large(args)
    else:
        seed_shapes(args)


if __name__ == "__main__":
    main()
