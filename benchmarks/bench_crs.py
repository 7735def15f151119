"""Benchmark gridgeo.crs.convert on 1,000,000 points in China against a per-point loop.

Run: ``python benchmarks/bench_crs.py`` (about a minute on 2 cores; ``--n`` changes the size).

The peer is the per-point pure-Python approach most scripts use (``math`` functions, one
point at a time); here it is gridgeo's own per-point twin, which also tests each point against
the same China polygon, timed on 10,000 points and scaled. A second peer row for the forward
transform uses the common rectangular "inside China" box instead of the polygon (faster, but
wrong for Hanoi, Seoul, Ulaanbaatar...).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from gridgeo import crs as gcrs
from gridgeo.crs._china import inside_china

PAIRS = [("wgs84", "gcj02"), ("gcj02", "wgs84"), ("wgs84", "bd09"), ("bd09", "wgs84")]


def points_in_china(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uniformly random WGS 84 points inside the GCJ-02 region."""
    rng = np.random.default_rng(seed)
    lon_parts, lat_parts, have = [], [], 0
    while have < n:
        lon = rng.uniform(73.0, 135.5, 2 * n)
        lat = rng.uniform(18.0, 53.6, 2 * n)
        keep = inside_china(lon, lat)
        lon_parts.append(lon[keep])
        lat_parts.append(lat[keep])
        have += int(keep.sum())
    return np.concatenate(lon_parts)[:n], np.concatenate(lat_parts)[:n]


def rectangle_forward(lon: float, lat: float) -> tuple[float, float]:
    """The usual per-point script: a rectangle test, then the closed-form offset."""
    if not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271):
        return lon, lat
    dx, dy = gcrs._gcj_delta_point(lon, lat)
    return lon + dx, lat + dy


def timed(func, *args):
    tracemalloc.start()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    result = func(*args)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="vectorised points")
    parser.add_argument("--n-peer", type=int, default=10_000, help="per-point loop points")
    args = parser.parse_args()

    wgs_lon, wgs_lat = points_in_china(args.n)
    inputs = {"wgs84": (wgs_lon, wgs_lat)}
    inputs["gcj02"] = gcrs.convert(wgs_lon, wgs_lat, "wgs84", "gcj02")
    inputs["bd09"] = gcrs.convert(wgs_lon, wgs_lat, "wgs84", "bd09")
    gcrs.convert(wgs_lon[:100], wgs_lat[:100], "wgs84", "bd09")  # warm-up (loads the polygon)

    print(
        f"{'conversion':<16}{'points':>10}{'seconds':>10}{'points/s':>14}{'peak MB':>10}"
        f"{'peer pts/s':>12}{'speed-up':>10}"
    )
    for src, dst in PAIRS:
        lon, lat = inputs[src]
        (_, _), sec, peak = timed(gcrs.convert, lon, lat, src, dst)
        plon, plat = lon[: args.n_peer].tolist(), lat[: args.n_peer].tolist()

        def loop(plon=plon, plat=plat, src=src, dst=dst):
            return [
                gcrs._convert_point_slow(x, y, src, dst) for x, y in zip(plon, plat, strict=True)
            ]

        _, psec, _ = timed(loop)
        rate, prate = args.n / sec, args.n_peer / psec
        print(
            f"{src + '->' + dst:<16}{args.n:>10,}{sec:>10.3f}{rate:>14,.0f}{peak / 2**20:>10.1f}"
            f"{prate:>12,.0f}{rate / prate:>9.0f}x"
        )

    lon, lat = inputs["wgs84"]
    plon, plat = lon[: args.n_peer].tolist(), lat[: args.n_peer].tolist()
    _, psec, _ = timed(lambda: [rectangle_forward(x, y) for x, y in zip(plon, plat, strict=True)])
    (_, _), sec, _ = timed(gcrs.convert, lon, lat, "wgs84", "gcj02")
    print(
        f"wgs84->gcj02 vs the per-point rectangle script: {args.n_peer / psec:,.0f} points/s, "
        f"gridgeo {args.n / sec / (args.n_peer / psec):.0f}x faster (and right at the borders)"
    )


if __name__ == "__main__":
    main()
