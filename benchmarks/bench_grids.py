"""Benchmark: balanced responsibility grids, gridgeo.grids.build against spopt.

Generates a realistic irregular district of 1,528 base cells (Voronoi cells of clustered points
clipped to an irregular district outline, 15 communities in 5 streets, a skewed monthly
workload column), then groups them into 150 and 510 grids with gridgeo and with spopt's
``WardSpatial`` (and ``MaxPHeuristic`` when asked), in the same process, on the same data.

Printed per run: seconds, number of regions, workload CV (population std / mean), max/mean,
% of regions rook-contiguous, % of regions inside one community, mean Polsby-Popper.

Run::

    python benchmarks/bench_grids.py            # gridgeo + WardSpatial
    python benchmarks/bench_grids.py --maxp     # also spopt max-p (slow: about a minute)
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


def run_gridgeo(cells: gpd.GeoDataFrame, n: int) -> dict:
    from gridgeo import grids

    t0 = time.perf_counter()
    plan = grids.build(cells, n=n, weight="workload", progress=False)
    dt = time.perf_counter() - t0
    codes = plan.cells["grid_code"].to_numpy()
    return measure(cells, pd.factorize(codes)[0], dt, "gridgeo.grids.build")


def run_ward(cells: gpd.GeoDataFrame, n: int) -> dict:
    from libpysal.weights import Rook
    from spopt.region import WardSpatial

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Rook.from_dataframe(cells, use_index=False)
        model = WardSpatial(cells, w, ["workload"], n_clusters=n)
        model.solve()
    dt = time.perf_counter() - t0
    return measure(cells, np.asarray(model.labels_), dt, "spopt WardSpatial")


def run_maxp(cells: gpd.GeoDataFrame, n: int) -> dict:
    from libpysal.weights import Rook
    from spopt.region import MaxPHeuristic

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Rook.from_dataframe(cells, use_index=False)
        np.random.seed(0)  # noqa: NPY002 - spopt's max-p draws from the legacy global RNG
        threshold = float(cells["workload"].sum()) / n
        model = MaxPHeuristic(cells, w, ["workload"], "workload", threshold, top_n=2)
        model.solve()
    dt = time.perf_counter() - t0
    return measure(cells, np.asarray(model.labels_), dt, "spopt MaxPHeuristic")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maxp", action="store_true", help="also run spopt max-p (slow)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated district")
    args = parser.parse_args()
    cells = make_cells(args.seed)
    w = cells["workload"].to_numpy()
    print(
        f"{len(cells)} cells, {cells['community_code'].nunique()} communities, "
        f"{cells['street_code'].nunique()} streets; cell workload CV {w.std() / w.mean():.2f}, "
        f"max/mean {w.max() / w.mean():.1f}"
    )
    rows = []
    for n in (150, 510):
        print(f"granularity bound for {n} grids: CV >= {granularity_bound(w, n):.3f}")
        rows.append({"n": n, **run_gridgeo(cells, n)})
        rows.append({"n": n, **run_ward(cells, n)})
        if args.maxp and n == 150:
            rows.append({"n": n, **run_maxp(cells, n)})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    ratio = table.pivot_table(index="n", columns="tool", values="cv")
    print("\nCV ratio WardSpatial / gridgeo:")
    print((ratio["spopt WardSpatial"] / ratio["gridgeo.grids.build"]).round(1).to_string())


if __name__ == "__main__":
    main()
