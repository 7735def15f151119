"""Kernel density on a raster for :func:`gridgeo.hotspots.kde` (private).

Points are binned to the pixel grid (each point counts at the centre of the pixel it falls
in) and the binned counts are convolved with the kernel sampled at pixel offsets by FFT
(``scipy.signal.fftconvolve``). :func:`density_direct` is the per-point twin used by tests.

:func:`surface` builds the clipped raster of :func:`gridgeo.hotspots.kde`;
:func:`bounds_latlon`, :func:`write_png` and :func:`contour_bands` do the work of the
``DensitySurface`` methods of the same purpose.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from scipy import signal

__all__ = [
    "bounds_latlon",
    "contour_bands",
    "default_bandwidth",
    "density_direct",
    "density_fft",
    "kernel_values",
    "metric_crs",
    "rings_to_gdf",
    "surface",
    "write_png",
]

#: affine 6-tuple ``(a, b, c, d, e, f)`` in rasterio / GDAL order
Transform = tuple[float, float, float, float, float, float]


def metric_crs(layer: gpd.GeoDataFrame) -> Any:
    """``layer.crs`` itself when projected in metres, else ``gridgeo.crs.local_crs(layer)``."""
    crs = layer.crs
    if not (crs.is_projected and crs.axis_info[0].unit_name in {"metre", "meter"}):
        from gridgeo.crs import local_crs

        crs = local_crs(layer)
    return crs


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


def _padded_bins(
    xy: np.ndarray,
    origin: tuple[float, float],
    pixel: float,
    shape: tuple[int, int],
    bandwidth: float,
    kernel: str,
) -> tuple[int, tuple[float, float], np.ndarray, np.ndarray]:
    """Bin points on the grid grown by the kernel's reach on every side (shared by both twins).

    Returns the pad in pixels, the padded grid's north-west corner, and each point's row and
    column on it.
    """
    pad = int(np.ceil(_reach(bandwidth, kernel) / pixel))
    big = (shape[0] + 2 * pad, shape[1] + 2 * pad)
    big_origin = (origin[0] - pad * pixel, origin[1] + pad * pixel)
    row, col = _binned(xy, big_origin, pixel, big)
    return pad, big_origin, row, col


def density_fft(
    xy: np.ndarray,
    origin: tuple[float, float],
    pixel: float,
    shape: tuple[int, int],
    bandwidth: float,
    kernel: str,
) -> np.ndarray:
    """Density (points per km²) at pixel centres; ``origin`` is the north-west corner."""
    pad, _, row, col = _padded_bins(xy, origin, pixel, shape, bandwidth, kernel)
    counts = np.zeros((shape[0] + 2 * pad, shape[1] + 2 * pad))
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
    _, big_origin, row, col = _padded_bins(xy, origin, pixel, shape, bandwidth, kernel)
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


def surface(
    xy: np.ndarray, area_m: gpd.GeoDataFrame, pixel: float, bandwidth: float, kernel: str
) -> tuple[np.ndarray, Transform, tuple[float, float, float, float]]:
    """``(density, transform, bounds)`` on a raster over ``area_m``; NaN outside the area."""
    w, s, e, n = map(float, area_m.total_bounds)
    shape = (max(1, int(np.ceil((n - s) / pixel))), max(1, int(np.ceil((e - w) / pixel))))
    dens = density_fft(xy, (w, n), float(pixel), shape, float(bandwidth), kernel)
    cx = w + (np.arange(shape[1]) + 0.5) * pixel
    cy = n - (np.arange(shape[0]) + 0.5) * pixel
    gx, gy = np.meshgrid(cx, cy)
    inside = shapely.contains_xy(shapely.union_all(area_m.geometry.values), gx, gy)
    dens = np.where(inside, dens, np.nan)
    s_edge = n - shape[0] * pixel
    e_edge = w + shape[1] * pixel
    transform = (float(pixel), 0.0, w, 0.0, -float(pixel), n)
    return dens, transform, (w, s_edge, e_edge, n)


def bounds_latlon(bounds: tuple[float, float, float, float], crs: Any) -> list[list[float]]:
    """``[[south, west], [north, east]]`` in WGS 84 of ``bounds`` (densified edges)."""
    from pyproj import Transformer

    w, s, e, n = bounds
    xs = np.r_[np.linspace(w, e, 11), np.full(11, e), np.linspace(w, e, 11), np.full(11, w)]
    ys = np.r_[np.full(11, s), np.linspace(s, n, 11), np.full(11, n), np.linspace(s, n, 11)]
    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(xs, ys)
    return [[float(np.min(lat)), float(np.min(lon))], [float(np.max(lat)), float(np.max(lon))]]


def write_png(array: np.ndarray, path: Any, cmap: str, opacity: float) -> None:
    """RGBA PNG of ``array``, written atomically (temporary file, then replace)."""
    import os
    import tempfile
    from pathlib import Path

    import matplotlib as mpl
    import matplotlib.image as mimage

    arr = np.nan_to_num(array, nan=0.0)
    top = float(arr.max()) or 1.0
    norm = np.clip(arr / top, 0.0, 1.0)
    rgba = mpl.colormaps[cmap](norm)
    rgba[..., 3] = np.clip(norm * 5.0, 0.0, 1.0) * opacity
    rgba[~np.isfinite(array), 3] = 0.0
    target = Path(path)
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=target.parent or ".")
    os.close(fd)
    try:
        mimage.imsave(tmp, rgba)
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def contour_bands(
    array: np.ndarray, transform: Transform, crs: Any, levels: int | list[float]
) -> gpd.GeoDataFrame:
    """Filled contour bands (``level_min``, ``level_max``, geometry) of a density raster."""
    from matplotlib.figure import Figure

    arr = np.nan_to_num(array, nan=0.0)
    top = float(arr.max())
    if isinstance(levels, int):
        inner = list(np.linspace(0, top, levels + 1)[1:-1])
        edges = [top / (levels * 10), *inner, top * (1 + 1e-9)] if top > 0 else []
    else:
        edges = sorted(float(v) for v in levels)
    a, _, west, _, e, north = transform
    xs = west + (np.arange(arr.shape[1]) + 0.5) * a
    ys = north + (np.arange(arr.shape[0]) + 0.5) * e
    rows: list[dict[str, Any]] = []
    if len(edges) >= 2:
        ax = Figure().subplots()  # no pyplot: leaves the user's backend alone
        cs = ax.contourf(xs, ys, arr, levels=edges)
        for i, path in enumerate(cs.get_paths()):
            rings = [np.asarray(r) for r in path.to_polygons(closed_only=True)]
            geom = rings_to_polygons(rings)
            if geom is not None and not geom.is_empty:
                rows.append({"level_min": edges[i], "level_max": edges[i + 1], "geometry": geom})
    if not rows:
        return gpd.GeoDataFrame({"level_min": [], "level_max": []}, geometry=[], crs=crs)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
