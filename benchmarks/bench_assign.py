"""Benchmark: gridgeo.assign vs geopandas.sjoin, N points into ~150,000 irregular cells.

Cells are the Voronoi polygons of 150,000 random seeds clipped to a 40 km square (about
10,700 m² each, like 万米单元网格), in EPSG:4547. Both tools run on the same data in the same
process; the script prints wall times, the ratio and the peak resident memory (``ru_maxrss``
of this process, so it is the peak of the whole run, sjoin included, not per tool).

    python benchmarks/bench_assign.py                 # 2,000,000 points (quick run)
    python benchmarks/bench_assign.py --n 10000000    # the headline figure
"""

from __future__ import annotations

import argparse
import resource
import time

import geopandas as gpd
import numpy as np
import shapely

import gridgeo as gg
import gridgeo.assignment  # imported outside the timed call, as geopandas is


def make_cells(n: int, side: float, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    square = shapely.box(0, 0, side, side)
    seeds = shapely.multipoints(rng.uniform(0, side, (n, 2)))
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=square)), square
    )
    codes = np.char.add("C", np.arange(n).astype(str))
    return gpd.GeoDataFrame({"cell_code": codes}, geometry=cells, crs="EPSG:4547")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000, help="number of points")
    parser.add_argument("--cells", type=int, default=150_000, help="number of cells")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-sjoin", action="store_true")
    args = parser.parse_args()
    side = 40_000.0
    t = time.perf_counter()
    cells = make_cells(args.cells, side, args.seed)
    rng = np.random.default_rng(args.seed + 1)
    xy = rng.uniform(-100, side + 100, (args.n, 2))
    reports = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:4547")
    print(f"data: {len(cells):,} cells, {args.n:,} points ({time.perf_counter() - t:.1f} s)")
    print(f"peak RSS after data: {peak_rss_mb():,.0f} MB")

    t = time.perf_counter()
    out = gg.assign(reports, cells, duplicates=False)
    t_gg = time.perf_counter() - t
    print(f"gridgeo.assign (full result):      {t_gg:7.2f} s  {out.attrs['status_counts']}")
    print(f"peak RSS after gridgeo: {peak_rss_mb():,.0f} MB")

    if not args.skip_sjoin:
        t = time.perf_counter()
        joined = gpd.sjoin(reports, cells, how="left", predicate="intersects")
        t_sj = time.perf_counter() - t
        dup = int(joined.index.duplicated().sum())
        print(f"geopandas.sjoin(intersects, left): {t_sj:7.2f} s  ({dup} duplicated rows)")
        print(f"ratio sjoin / gridgeo: {t_sj / t_gg:.1f}x")
        # same cells except the (duplicated) boundary rows sjoin cannot decide
        first = joined[~joined.index.duplicated(keep=False)]
        agree = (
            first["cell_code"].astype(object).fillna("-").to_numpy()
            == out.loc[first.index, "cell_code"].astype(object).fillna("-").to_numpy()
        )
        print(f"agreement on rows sjoin matched once: {agree.mean():.6f}")
    print(f"peak RSS (whole run, ru_maxrss): {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
