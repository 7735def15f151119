"""Colour palettes, colour helpers and density rasters shared by interactive and static maps."""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import matplotlib as mpl
import matplotlib.colors
import matplotlib.image
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy import ndimage

from gridgeo.errors import ColumnError

GI_COLOURS = {
    3: "#d62f27",
    2: "#ed7551",
    1: "#fab984",
    0: "#f7f7f2",
    -1: "#c0ccbe",
    -2: "#849eba",
    -3: "#4575b5",
}
_HOT = ("#b30000", "#e34a33", "#fc8d59", "#fdbb84", "#fdd49e", "#f768a1", "#c51b8a", "#fee8c8")
_COLD = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef", "#8c96c6", "#88419d", "#deebf7")
_KINDS = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)
EMERGING_COLOURS = {
    **{f"{k} hot spot": c for k, c in zip(_KINDS, _HOT, strict=True)},
    **{f"{k} cold spot": c for k, c in zip(_KINDS, _COLD, strict=True)},
    "no pattern detected": "#f0f0f0",
}
WARNING_COLOURS = {"blue": "#1f78b4", "yellow": "#f1c40f", "red": "#e31a1c"}
STATUS_COLOURS = {
    "assigned": "#2e9d4a",
    "snapped": "#f39c12",
    "outside": "#8c8c8c",
    "invalid_coords": "#c0392b",
    "missing_coords": "#c0392b",
}
QUALITATIVE = (
    "#8dd3c7",
    "#ffffb3",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#d9d9d9",
    "#bc80bd",
)
_R = 6378137.0  # Web Mercator sphere radius


# --------------------------------------------------------------------------- colour helpers


def greedy_colours(geoms: Any) -> np.ndarray:
    """Colour indices such that polygons that touch or overlap get different colours."""
    geoms = np.asarray(geoms)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    neighbours: list[set[int]] = [set() for _ in range(len(geoms))]
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a != b:
            neighbours[a].add(b)
    colour = np.full(len(geoms), -1, dtype=int)
    for i in sorted(range(len(geoms)), key=lambda k: -len(neighbours[k])):
        used = {colour[j] for j in neighbours[i]}
        colour[i] = next(c for c in range(len(geoms) + 1) if c not in used)
    return colour


def ramp_colours(values: np.ndarray, cmap: str) -> tuple[list[str], float, float]:
    """Hex colours of ``values`` on a colour map; NaN is grey. Returns colours, min, max."""
    finite = np.isfinite(values)
    lo = float(values[finite].min()) if finite.any() else 0.0
    hi = float(values[finite].max()) if finite.any() else 1.0
    norm = (values - lo) / (hi - lo) if hi > lo else np.full(len(values), 0.5)
    rgba = mpl.colormaps[cmap](np.nan_to_num(norm, nan=0.0))
    out = [mpl.colors.to_hex(c) for c in rgba]
    return [c if ok else "#cccccc" for c, ok in zip(out, finite, strict=True)], lo, hi


def ramp_stops(cmap: str, n: int = 6) -> list[str]:
    """``n`` evenly spaced hex colours of a colour map, for a CSS gradient."""
    return [mpl.colors.to_hex(c) for c in mpl.colormaps[cmap](np.linspace(0, 1, n))]


def colourise(values: np.ndarray, cmap: str, opacity: float) -> tuple[np.ndarray, float]:
    """RGBA uint8 image of a density grid: transparent at zero, opaque towards the top."""
    positive = values[np.isfinite(values) & (values > 0)]
    vmax = float(np.percentile(positive, 99.5)) if positive.size else 1.0
    vmax = vmax if vmax > 0 else 1.0
    norm = np.clip(np.nan_to_num(values, nan=0.0) / vmax, 0.0, 1.0)
    rgba = mpl.colormaps[cmap](norm)
    alpha = np.where(norm > 0.02, opacity * np.sqrt(norm), 0.0)
    rgba[..., 3] = alpha
    return (rgba * 255).round().astype(np.uint8), vmax


def rgba_image_png(rgba: np.ndarray) -> str:
    """Base64 text of a PNG holding an RGBA uint8 image (first row at the top)."""
    buf = io.BytesIO()
    mpl.image.imsave(buf, rgba, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


# --------------------------------------------------------------------------- density grids


@dataclass(frozen=True)
class DensityGrid:
    """A north-up raster (first row = north) and its lon/lat bounds (west, south, east, north)."""

    values: np.ndarray
    bounds_lonlat: tuple[float, float, float, float]

    def __repr__(self) -> str:
        h, w = self.values.shape
        return f"DensityGrid({h}x{w}, bounds={tuple(round(b, 5) for b in self.bounds_lonlat)})"


def _lonlat(x: np.ndarray, y: np.ndarray, crs: Any, marked: str, system: str) -> tuple:
    src = CRS.from_user_input(crs)
    if not src.equals(CRS.from_epsg(4326)):
        x, y = Transformer.from_crs(src, 4326, always_xy=True).transform(x, y)
    if marked != system:
        from gridgeo import crs as ggcrs

        x, y = ggcrs.convert(x, y, marked, system)
    return np.asarray(x, float), np.asarray(y, float)


def _merc(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = np.clip(lat, -85.05, 85.05)
    return _R * np.radians(lon), _R * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


def _unmerc(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.degrees(x / _R), np.degrees(np.arctan(np.sinh(y / _R)))


def bin_points(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, x0: float, y0: float, pixel: float, shape: tuple
) -> np.ndarray:
    """Sum weights into ``shape`` = (nx, ny) bins of side ``pixel`` from (x0, y0) (fast)."""
    nx, ny = shape
    ix = np.floor((x - x0) / pixel).astype(np.int64)
    iy = np.floor((y - y0) / pixel).astype(np.int64)
    ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    flat = np.bincount(ix[ok] * ny + iy[ok], weights=w[ok], minlength=nx * ny)
    return flat.reshape(nx, ny)


def bin_points_slow(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, x0: float, y0: float, pixel: float, shape: tuple
) -> np.ndarray:
    """Obviously-correct twin of :func:`bin_points`: one point at a time."""
    out = np.zeros(shape)
    for xi, yi, wi in zip(x.tolist(), y.tolist(), w.tolist(), strict=True):
        i, j = math.floor((xi - x0) / pixel), math.floor((yi - y0) / pixel)
        if 0 <= i < shape[0] and 0 <= j < shape[1]:
            out[i, j] += wi
    return out


def silverman(x: np.ndarray, y: np.ndarray) -> float:
    """Silverman's rule-of-thumb bandwidth for 2-D points (mean of the two axes), halved.

    Halving keeps clusters crisp on city maps, where reports are far from normal-distributed.
    """
    n = len(x)
    if n < 2:
        return 0.0
    spreads = []
    for v in (x, y):
        q75, q25 = np.percentile(v, [75, 25])
        spread = min(float(np.std(v)), float(q75 - q25) / 1.34) or float(np.std(v))
        spreads.append(spread)
    return 0.5 * 0.9 * float(np.mean(spreads)) * n ** (-0.2)


def raster_points(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, resolution: int, sigma_units: float | None
) -> tuple[np.ndarray, tuple[float, float, float, float], float]:
    """Smoothed north-up sums on a square-pixel grid; returns grid, (x0, y0, x1, y1), pixel."""
    span = max(float(x.max() - x.min()), float(y.max() - y.min()), 1.0)
    pixel = span / resolution
    sigma = max(1.5, silverman(x, y) / pixel) if sigma_units is None else sigma_units / pixel
    pad = int(min(math.ceil(3 * sigma), resolution // 4)) + 1
    x0, y0 = float(x.min()) - pad * pixel, float(y.min()) - pad * pixel
    nx = math.ceil((float(x.max()) - x0) / pixel) + pad
    ny = math.ceil((float(y.max()) - y0) / pixel) + pad
    sums = bin_points(x, y, w, x0, y0, pixel, (nx, ny)).T[::-1]
    smooth = ndimage.gaussian_filter(sums, sigma, mode="constant", truncate=3.0)
    return smooth, (x0, y0, x0 + nx * pixel, y0 + ny * pixel), pixel


def density_from_points(
    points: gpd.GeoDataFrame,
    *,
    weights: pd.Series | None,
    system: str,
    resolution: int,
    radius: float | None,
) -> DensityGrid:
    """Aggregate points into a smoothed Web Mercator grid of reports per km²."""
    geoms = points.geometry.values
    x, y = np.asarray(shapely.get_x(geoms)), np.asarray(shapely.get_y(geoms))
    marked = points.attrs.get("coordinate_system", "wgs84")
    marked = marked if marked in {"gcj02", "bd09"} else "wgs84"
    lon, lat = _lonlat(x, y, points.crs, marked, system)
    w = np.ones(len(lon)) if weights is None else weights.to_numpy(dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat) & np.isfinite(w)
    if not ok.any():
        msg = "data has no points with finite coordinates (and weights) to aggregate."
        raise ColumnError(msg)
    mx, my = _merc(lon[ok], lat[ok])
    lat0 = math.radians(float(np.median(lat[ok])))
    sigma = None if radius is None else radius / math.cos(lat0)  # ground m -> Mercator m
    grid, (x0, y0, x1, y1), pixel = raster_points(mx, my, w[ok], resolution, sigma)
    # ground area of each pixel row (Mercator scale is 1/cos(latitude))
    row_y = y1 - (np.arange(grid.shape[0]) + 0.5) * pixel
    row_lat = np.radians(_unmerc(np.zeros_like(row_y), row_y)[1])
    area_km2 = (pixel * np.cos(row_lat)) ** 2 / 1e6
    (w_, s_), (e_, n_) = zip(*_unmerc(np.array([x0, x1]), np.array([y0, y1])), strict=True)
    return DensityGrid(grid / area_km2[:, None], (w_, s_, e_, n_))


def density_from_surface(surface: Any, *, system: str, resolution: int) -> DensityGrid:
    """Warp a surface (``array`` north-up, ``bounds``, ``crs``) into a Web Mercator grid."""
    arr = np.asarray(surface.array, dtype=float)
    if arr.ndim != 2 or min(arr.shape) < 1:
        msg = f"surface.array must be a 2-D array, got shape {arr.shape}."
        raise ColumnError(msg)
    h, w = arr.shape
    minx, miny, maxx, maxy = map(float, surface.bounds)
    src = CRS.from_user_input(surface.crs)
    t = np.linspace(0.0, 1.0, 41)
    ex = np.concatenate(
        [minx + t * (maxx - minx), np.full(41, maxx), maxx - t * (maxx - minx), np.full(41, minx)]
    )
    ey = np.concatenate(
        [np.full(41, miny), miny + t * (maxy - miny), np.full(41, maxy), maxy - t * (maxy - miny)]
    )
    mx, my = _merc(*_lonlat(ex, ey, src, "wgs84", system))
    span = max(float(mx.max() - mx.min()), float(my.max() - my.min()))
    pixel = span / min(resolution, max(h, w))
    nx = max(1, math.ceil((mx.max() - mx.min()) / pixel))
    ny = max(1, math.ceil((my.max() - my.min()) / pixel))
    cx = mx.min() + (np.arange(nx) + 0.5) * pixel
    cy = my.max() - (np.arange(ny) + 0.5) * pixel
    gx, gy = np.meshgrid(cx, cy)
    lon, lat = _unmerc(gx.ravel(), gy.ravel())
    if system != "wgs84":
        from gridgeo import crs as ggcrs

        lon, lat = ggcrs.convert(lon, lat, system, "wgs84")
    sx, sy = Transformer.from_crs(4326, src, always_xy=True).transform(lon, lat)
    col = (np.asarray(sx) - minx) / (maxx - minx) * w - 0.5
    row = (maxy - np.asarray(sy)) / (maxy - miny) * h - 0.5
    vals = ndimage.map_coordinates(arr, [row, col], order=1, mode="nearest")
    inside = (row >= -0.5) & (row <= h - 0.5) & (col >= -0.5) & (col <= w - 0.5)
    vals = np.where(inside, vals, np.nan).reshape(ny, nx)
    (w_, s_), (e_, n_) = zip(
        *_unmerc(
            np.array([mx.min(), mx.min() + nx * pixel]), np.array([my.max() - ny * pixel, my.max()])
        ),
        strict=True,
    )
    return DensityGrid(vals, (w_, s_, e_, n_))
