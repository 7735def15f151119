"""Kernel density on a raster for :func:`gridgeo.hotspots.kde` (private).

Points are binned to the pixel grid (each point counts at the centre of the pixel it falls
in) and the binned counts are convolved with the kernel sampled at pixel offsets by FFT
(``scipy.signal.fftconvolve``). :func:`density_direct` is the per-point twin used by tests.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy import signal

__all__ = ["default_bandwidth", "density_direct", "density_fft", "kernel_values", "rings_to_gdf"]


def default_bandwidth(xy: np.ndarray) -> float:
    """Spatial Silverman-type rule (as documented for ArcGIS Pro's Kernel Density).

    ``h = 0.9 * min(SD, sqrt(1/ln 2) * Dm) * n**-0.2`` with ``SD`` the standard distance of
    the points around their mean centre and ``Dm`` the median distance to the mean centre.
    """
    n = len(xy)
    centre = xy.mean(axis=0)
    d = np.hypot(xy[:, 0] - centre[0], xy[:, 1] - centre[1])
    sd = float(np.sqrt((d**2).mean()))
    dm = float(np.median(d))
    h = 0.9 * min(sd, np.sqrt(1.0 / np.log(2.0)) * dm) * n ** (-0.2)
    return h


def kernel_values(d2: np.ndarray, bandwidth: float, kernel: str) -> np.ndarray:
    """Kernel value per square metre at squared distance ``d2`` (integrates to 1)."""
    if kernel == "quartic":
        u = d2 / bandwidth**2
        return np.where(u < 1.0, 3.0 / (np.pi * bandwidth**2) * (1.0 - u) ** 2, 0.0)
    g = np.exp(-0.5 * d2 / bandwidth**2) / (2.0 * np.pi * bandwidth**2)
    return np.where(d2 <= 16.0 * bandwidth**2, g, 0.0)  # truncated at 4 sigma


def _reach(bandwidth: float, kernel: str) -> float:
    return bandwidth if kernel == "quartic" else 4.0 * bandwidth


def _binned(xy: np.ndarray, origin: tuple[float, float], pixel: float, shape: tuple[int, int]):
    """Column/row of every point; points off the grid are dropped."""
    col = np.floor((xy[:, 0] - origin[0]) / pixel).astype(np.int64)
    row = np.floor((origin[1] - xy[:, 1]) / pixel).astype(np.int64)  # row 0 = north
    ok = (col >= 0) & (col < shape[1]) & (row >= 0) & (row < shape[0])
    return row[ok], col[ok]


def density_fft(
    xy: np.ndarray,
    origin: tuple[float, float],
    pixel: float,
    shape: tuple[int, int],
    bandwidth: float,
    kernel: str,
) -> np.ndarray:
    """Density (points per km²) at pixel centres; ``origin`` is the north-west corner."""
    pad = int(np.ceil(_reach(bandwidth, kernel) / pixel))
    big = (shape[0] + 2 * pad, shape[1] + 2 * pad)
    big_origin = (origin[0] - pad * pixel, origin[1] + pad * pixel)
    row, col = _binned(xy, big_origin, pixel, big)
    counts = np.zeros(big)
    np.add.at(counts, (row, col), 1.0)
    off = np.arange(-pad, pad + 1) * pixel
    d2 = off[None, :] ** 2 + off[:, None] ** 2
    k = kernel_values(d2, bandwidth, kernel)
    dens = signal.fftconvolve(counts, k, mode="same")
    dens = dens[pad : pad + shape[0], pad : pad + shape[1]]
    dens[dens < 1e-12 * max(k.max(), 1e-300)] = 0.0  # FFT round-off around zero
    return dens * 1e6


def density_direct(
    xy: np.ndarray,
    origin: tuple[float, float],
    pixel: float,
    shape: tuple[int, int],
    bandwidth: float,
    kernel: str,
) -> np.ndarray:
    """Per-point twin of :func:`density_fft` (same binning), for tests. O(points x pixels)."""
    pad = int(np.ceil(_reach(bandwidth, kernel) / pixel))
    big = (shape[0] + 2 * pad, shape[1] + 2 * pad)
    big_origin = (origin[0] - pad * pixel, origin[1] + pad * pixel)
    row, col = _binned(xy, big_origin, pixel, big)
    px = big_origin[0] + (col + 0.5) * pixel  # binned positions (pixel centres)
    py = big_origin[1] - (row + 0.5) * pixel
    cx = origin[0] + (np.arange(shape[1]) + 0.5) * pixel
    cy = origin[1] - (np.arange(shape[0]) + 0.5) * pixel
    out = np.zeros(shape)
    for x, y in zip(px, py, strict=True):
        d2 = (cx[None, :] - x) ** 2 + (cy[:, None] - y) ** 2
        out += kernel_values(d2, bandwidth, kernel)
    return out * 1e6


def rings_to_polygons(rings: list[np.ndarray]) -> shapely.Geometry | None:
    """Even-odd fill of closed rings (as matplotlib contourf draws them) -> (Multi)Polygon."""
    polys = [shapely.Polygon(r) for r in rings if len(r) >= 4]
    polys = [shapely.make_valid(p) if not p.is_valid else p for p in polys]
    polys = [p for p in polys if not p.is_empty and p.area > 0]
    if not polys:
        return None
    polys.sort(key=lambda p: -p.area)
    out = polys[0]
    for p in polys[1:]:
        out = shapely.symmetric_difference(out, p)
    return out


def rings_to_gdf(paths_per_level: list[list[np.ndarray]]) -> list[shapely.Geometry | None]:
    """One geometry per contour band."""
    return [rings_to_polygons(rings) for rings in paths_per_level]
