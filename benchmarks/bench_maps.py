"""Heat map of one million reports: folium's HeatMap plugin vs gridgeo.maps.heatmap.

folium.plugins.HeatMap embeds every point in the page; gridgeo aggregates the points into a
smoothed raster first and embeds one PNG. A fairer folium baseline aggregates first too: the
points are counted in cells of about 100 m (0.001°, NumPy ``histogram2d``) and HeatMap gets
one weighted point per non-empty cell (its centre, weight = count). All three get the same
clustered lon/lat points and write an HTML file; the benchmark prints file size, seconds
(aggregating + building + saving) and the ratios.

Run::

    python benchmarks/bench_maps.py            # 1,000,000 points
    python benchmarks/bench_maps.py --n 200000

Peak memory is the growth of the process's maximum resident set size (``ru_maxrss``) during
each step; gridgeo runs first, so its figure is not hidden by folium's larger peak.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
from folium.plugins import HeatMap

from gridgeo import maps


def clustered_points(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` lon/lat points around Huizhou: 60 % in 40 hot clusters, the rest spread out."""
    rng = np.random.default_rng(seed)
    n_hot = int(n * 0.6)
    centres = np.column_stack([rng.uniform(114.33, 114.47, 40), rng.uniform(23.03, 23.15, 40)])
    which = rng.integers(0, 40, n_hot)
    hot = centres[which] + rng.normal(0, 0.002, (n_hot, 2))
    rest = np.column_stack(
        [rng.uniform(114.30, 114.50, n - n_hot), rng.uniform(23.00, 23.18, n - n_hot)]
    )
    pts = np.vstack([hot, rest])
    return pts[:, 0], pts[:, 1]


def aggregate_cells(lon: np.ndarray, lat: np.ndarray, step: float) -> np.ndarray:
    """``[lat, lon, count]`` of every non-empty ``step``-degree cell (its centre)."""
    xe = np.arange(lon.min(), lon.max() + step, step)
    ye = np.arange(lat.min(), lat.max() + step, step)
    counts, _, _ = np.histogram2d(lon, lat, bins=[xe, ye])
    ix, iy = np.nonzero(counts)
    return np.column_stack([ye[iy] + step / 2, xe[ix] + step / 2, counts[ix, iy]])


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of points")
    args = parser.parse_args()
    lon, lat = clustered_points(args.n)
    gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    with tempfile.TemporaryDirectory() as tmp:
        base = _rss_mb()
        t0 = time.perf_counter()
        m = maps.heatmap(gdf, basemap="osm")
        # assets="cdn": both pages link Leaflet from a CDN, so the sizes compare the heat layer
        out_gg = maps.save_map(m, Path(tmp) / "gridgeo.html", assets="cdn")
        t_gg = time.perf_counter() - t0
        mem_gg = _rss_mb() - base
        size_gg = out_gg.stat().st_size

        base = _rss_mb()
        t0 = time.perf_counter()
        fm = folium.Map(location=[23.09, 114.4], zoom_start=12)
        HeatMap(np.column_stack([lat, lon]).tolist(), radius=10).add_to(fm)
        out_fo = Path(tmp) / "folium.html"
        fm.save(str(out_fo))
        t_fo = time.perf_counter() - t0
        mem_fo = _rss_mb() - base
        size_fo = out_fo.stat().st_size

        base = _rss_mb()
        t0 = time.perf_counter()
        weighted = aggregate_cells(lon, lat, 0.001)
        fa = folium.Map(location=[23.09, 114.4], zoom_start=12)
        HeatMap(weighted.tolist(), radius=10).add_to(fa)
        out_fa = Path(tmp) / "folium_cells.html"
        fa.save(str(out_fa))
        t_fa = time.perf_counter() - t0
        mem_fa = _rss_mb() - base
        size_fa = out_fa.stat().st_size

    print(f"points: {args.n:,}; pre-aggregated cells: {len(weighted):,}")
    print(f"{'':24}{'file MB':>10}{'seconds':>10}{'peak RSS +MB':>14}")
    print(f"{'folium HeatMap (raw)':24}{size_fo / 1e6:>10.2f}{t_fo:>10.2f}{mem_fo:>14.0f}")
    print(f"{'folium HeatMap (cells)':24}{size_fa / 1e6:>10.2f}{t_fa:>10.2f}{mem_fa:>14.0f}")
    print(f"{'gridgeo heatmap':24}{size_gg / 1e6:>10.2f}{t_gg:>10.2f}{mem_gg:>14.0f}")
    print(f"ratio folium raw/gridgeo: size {size_fo / size_gg:.0f}x, time {t_fo / t_gg:.1f}x")
    print(f"ratio folium cells/gridgeo: size {size_fa / size_gg:.1f}x, time {t_fa / t_gg:.1f}x")
    print(f"goal (<= 3 MB, <= 2 s): {'met' if size_gg <= 3e6 and t_gg <= 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
