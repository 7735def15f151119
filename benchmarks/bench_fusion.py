"""Benchmark for gridgeo.fusion: area-weighted transfer against tobler's ``area_interpolate``.

Run from the repository root (needs ``pip install -e ".[bench]"`` for tobler)::

    python benchmarks/bench_fusion.py              # 5,000 × 5,000 grids
    python benchmarks/bench_fusion.py --n 20000    # larger systems

The job: two unrelated grid systems of ``n`` Voronoi grids each over the same 20 km × 20 km
district (EPSG:4547), one extensive variable (a case count) and one intensive variable (a
rate) moved from system A to system B.

* **tobler**: ``tobler.area_weighted.area_interpolate(A, B, extensive_variables=[...],
  intensive_variables=[...])`` (default ``allocate_total=True``).
* **gridgeo**: ``gridgeo.fusion.crosswalk(A, B, tolerance_m2=0)`` followed by
  ``gridgeo.fusion.transfer(values, crosswalk, extensive=[...], intensive=[...])``, from the
  same two layers (the crosswalk alone is also timed: the "5,000 × 5,000 in seconds" target).

Both are timed the same way: best wall time of ``--repeat`` rounds (each round runs every
function in turn), outside tracemalloc; peak memory comes from one more run of each inside
tracemalloc (Python-side allocations, numpy arrays included, GEOS's own heap excluded).
Agreement: the largest absolute and relative difference between the two estimates.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgeo import fusion

SIDE = 20_000.0
ORIGIN = (530_000.0, 2_545_000.0)


def _timed(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, tuple[float, float, Any]]:
    """Best wall time (s), peak traced memory (MB) and result of each function.

    The functions run in turn, ``repeat`` rounds, so a noisy shared machine slows them alike.
    """
    best = dict.fromkeys(fns, float("inf"))
    peak = dict.fromkeys(fns, 0.0)
    result: dict[str, Any] = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            result[name] = fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    # memory in one separate traced run each (tracing slows Python allocations unevenly)
    for name, fn in fns.items():
        tracemalloc.start()
        fn()
        peak[name] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return {name: (best[name], peak[name], result[name]) for name in fns}


def voronoi_grids(n: int, seed: int) -> gpd.GeoDataFrame:
    """``n`` Voronoi grids tiling the square district, with codes, a count and a rate."""
    rng = np.random.default_rng(seed)
    x0, y0 = ORIGIN
    frame = shapely.box(x0, y0, x0 + SIDE, y0 + SIDE)
    pts = shapely.multipoints(rng.uniform([x0, y0], [x0 + SIDE, y0 + SIDE], size=(n, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=frame))
    cells = shapely.intersection(cells, frame)
    return gpd.GeoDataFrame(
        {
            "grid_code": [f"{seed}{k:07d}" for k in range(len(cells))],
            "cases": rng.poisson(40, len(cells)).astype(float),
            "rate": rng.uniform(0, 5, len(cells)),
        },
        geometry=cells,
        crs="EPSG:4547",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5_000, help="grids per system")
    parser.add_argument("--repeat", type=int, default=5, help="runs per timing (best kept)")
    args = parser.parse_args()
    from tobler.area_weighted import area_interpolate

    a = voronoi_grids(args.n, seed=1)
    b = voronoi_grids(args.n, seed=2)
    values = pd.DataFrame(a.drop(columns="geometry"))
    print(f"two systems of {len(a):,} and {len(b):,} Voronoi grids over 400 km², EPSG:4547")

    def ours() -> pd.DataFrame:
        cw = fusion.crosswalk(a, b, tolerance_m2=0)
        return fusion.transfer(values, cw, extensive=["cases"], intensive=["rate"])

    def peer() -> gpd.GeoDataFrame:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return area_interpolate(
                a, b[["geometry"]], extensive_variables=["cases"], intensive_variables=["rate"]
            )

    runs = _timed(
        {
            "crosswalk": lambda: fusion.crosswalk(a, b, tolerance_m2=0),
            "ours": ours,
            "peer": peer,
        },
        args.repeat,
    )
    cw_t, cw_mem, cw = runs["crosswalk"]
    our_t, our_mem, got = runs["ours"]
    peer_t, peer_mem, want = runs["peer"]
    pairs = f"{len(cw.table):,} pairs"
    print(f"  gridgeo crosswalk            {cw_t:7.2f} s  {cw_mem:7.0f} MB  {pairs}")
    print(f"  gridgeo crosswalk + transfer {our_t:7.2f} s  {our_mem:7.0f} MB")
    print(f"  tobler area_interpolate      {peer_t:7.2f} s  {peer_mem:7.0f} MB")
    print(f"  ratio (tobler / gridgeo)     {peer_t / our_t:7.2f}×")
    for col in ("cases", "rate"):
        diff = np.abs(got[col].to_numpy() - want[col].to_numpy())
        rel = diff / np.maximum(np.abs(want[col].to_numpy()), 1e-12)
        print(f"  agreement {col:5s}: max abs diff {diff.max():.3g}, max rel diff {rel.max():.3g}")
    total = got["cases"].sum() / values["cases"].sum()
    print(f"  cases kept by the transfer: {total:.12f} of the source total")


if __name__ == "__main__":
    main()
