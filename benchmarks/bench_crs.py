"""Benchmark gridgeo.crs.convert on 1,000,000 points in China against a per-point loop.

Run: ``python benchmarks/bench_crs.py`` (about a minute on 2 cores; ``--n`` changes the size).

The peer is the per-point pure-Python approach most scripts use (``math`` functions, one
point at a time); here it is gridgeo's own per-point twin, which also tests each point against
the same China polygon, timed on 10,000 points and scaled. A second peer row for the forward
transform uses the common rectangular "inside China" box instead of the polygon (faster, but
wrong for Hanoi, Seoul, Ulaanbaatar...). A third is the vectorised rectangle script that most
projects copy: the widely published GCJ-02 formula written with NumPy arrays (our own
version, below) and the rectangle test, on the same 1,000,000 points.

Times are measured without ``tracemalloc`` (which slows per-point Python code about tenfold);
gridgeo's peak memory comes from a second, traced run.
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


_A, _EE = 6378245.0, 0.00669342162296594323  # Krasovsky 1940 ellipsoid of GCJ-02


def rectangle_forward_vectorised(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The widely published WGS 84 -> GCJ-02 formula on arrays, with the rectangle test."""
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sq = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1 - _EE)) / (magic * sq) * np.pi)
    dlon = dlon * 180.0 / (_A / sq * np.cos(rad) * np.pi)
    inside = (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def timed(func, *args):
    """Result and seconds, without tracemalloc (it slows Python loops about tenfold)."""
    start = time.perf_counter()
    result = func(*args)
    return result, time.perf_counter() - start


def peak_of(func, *args) -> int:
    """Peak traced memory of a second run."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    func(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


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
        (_, _), sec = timed(gcrs.convert, lon, lat, src, dst)
        peak = peak_of(gcrs.convert, lon, lat, src, dst)
        plon, plat = lon[: args.n_peer].tolist(), lat[: args.n_peer].tolist()

        def loop(plon=plon, plat=plat, src=src, dst=dst):
            return [
                gcrs._convert_point_slow(x, y, src, dst) for x, y in zip(plon, plat, strict=True)
            ]

        _, psec = timed(loop)
        rate, prate = args.n / sec, args.n_peer / psec
        print(
            f"{src + '->' + dst:<16}{args.n:>10,}{sec:>10.3f}{rate:>14,.0f}{peak / 2**20:>10.1f}"
            f"{prate:>12,.0f}{rate / prate:>9.0f}x"
        )

    lon, lat = inputs["wgs84"]
    plon, plat = lon[: args.n_peer].tolist(), lat[: args.n_peer].tolist()
    _, psec = timed(lambda: [rectangle_forward(x, y) for x, y in zip(plon, plat, strict=True)])
    (glon, glat), sec = timed(gcrs.convert, lon, lat, "wgs84", "gcj02")
    print(
        f"wgs84->gcj02 vs the per-point rectangle script: {args.n_peer / psec:,.0f} points/s, "
        f"gridgeo {args.n / sec / (args.n_peer / psec):.0f}x faster (and right at the borders)"
    )
    (vlon, vlat), vsec = timed(rectangle_forward_vectorised, lon, lat)
    diff = float(np.max(np.hypot(vlon - glon, vlat - glat)))
    print(
        f"wgs84->gcj02 vs the vectorised rectangle script: {vsec:.3f} s for {args.n:,} points "
        f"({args.n / vsec:,.0f} points/s), gridgeo {sec:.3f} s, ratio {vsec / sec:.2f}x; "
        f"largest difference inside China {diff:.1e}°"
    )


if __name__ == "__main__":
    main()
