"""Kernel density surfaces: :class:`DensitySurface` and :func:`kde` (private).

Part of :mod:`gridgeo.hotspots` (the public face); the raster maths is in ``_kde.py``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from gridgeo._validate import (
    require_crs,
    require_geodataframe,
    require_geom_types,
    require_nonempty,
    require_positive,
)
from gridgeo.hotspots import _kde
from gridgeo.hotspots._counts import _counted


@dataclass(frozen=True, repr=False)
class DensitySurface:
    """A kernel density raster (reports per km²) with its georeferencing.

    ``array[row, col]``: row 0 is the northern edge. ``transform`` is the affine 6-tuple
    ``(pixel, 0, west, 0, -pixel, north)`` (rasterio / GDAL order ``a, b, c, d, e, f``).
    Pixels outside ``area`` are NaN.
    """

    array: np.ndarray
    transform: tuple[float, float, float, float, float, float]
    crs: Any
    bounds: tuple[float, float, float, float]
    bandwidth: float
    pixel: float
    kernel: str
    n_points: int

    def __repr__(self) -> str:
        r, c = self.array.shape
        mx = float(np.nanmax(self.array)) if np.isfinite(self.array).any() else 0.0
        return (
            f"DensitySurface({r}x{c} px of {self.pixel:g} m, {self.kernel} bandwidth "
            f"{self.bandwidth:.0f} m, {self.n_points} points, max {mx:.1f}/km²)"
        )

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>"

    def bounds_latlon(self) -> list[list[float]]:
        """``[[south, west], [north, east]]`` in WGS 84, as folium's ImageOverlay wants.

        Examples
        --------
        >>> import numpy as np
        >>> s = DensitySurface(np.zeros((1, 1)), (100.0, 0.0, 500000.0, 0.0, -100.0, 2.5e6),
        ...                    "EPSG:4547", (500000.0, 2499900.0, 500100.0, 2.5e6),
        ...                    100.0, 100.0, "quartic", 0)
        >>> [[round(v, 3) for v in pair] for pair in s.bounds_latlon()]
        [[22.597, 114.0], [22.598, 114.001]]
        """
        return _kde.bounds_latlon(self.bounds, self.crs)

    def to_png(self, path: Any, *, cmap: str = "YlOrRd", opacity: float = 0.8) -> None:
        """Write the surface as an RGBA PNG (transparent where density is ~0 or NaN).

        Written atomically (temporary file in the same folder, then ``os.replace``).
        """
        _kde.write_png(self.array, path, cmap, opacity)

    def contours(self, levels: int | list[float] = 5) -> gpd.GeoDataFrame:
        """Filled contour bands as polygons: columns ``level_min``, ``level_max``, geometry.

        ``levels`` is a number of bands between 0 (exclusive) and the maximum, or explicit
        band edges in reports per km². Bands with no area are omitted.
        """
        return _kde.contour_bands(self.array, self.transform, self.crs, levels)


def kde(
    assigned: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame,
    *,
    bandwidth: float | None = None,
    pixel: float | None = None,
    kernel: str = "quartic",
) -> DensitySurface:
    """Kernel density of reports on a raster covering ``area``.

    Points are binned to pixels and convolved with the kernel by FFT (no per-point loop).

    Parameters
    ----------
    assigned : GeoDataFrame
        Report points (only ``assigned``/``snapped`` rows when ``status`` exists).
    area : GeoDataFrame
        Polygons of the study area: the raster covers their bounds; pixels whose centre is
        outside are NaN.
    bandwidth : float, optional
        Kernel bandwidth in metres: the search radius of the ``"quartic"`` kernel or the
        standard deviation of the ``"gaussian"`` one (truncated at 4 sigma). Default: the
        spatial Silverman rule ``0.9 * min(SD, sqrt(1/ln 2) * Dm) * n**-0.2`` (SD: standard
        distance, Dm: median distance to the mean centre), as ArcGIS Pro's Kernel Density.
    pixel : float, optional
        Pixel size in metres; default the longer side of the area / 400, at least 1 m.
    kernel : {"quartic", "gaussian"}
        Kernel shape; both integrate to one point.

    Returns
    -------
    DensitySurface
        Reports per km², in ``area``'s CRS if metric, else in ``gridgeo.crs.local_crs``.

    Raises
    ------
    EmptyInputError
        No counted report or no area.
    CRSError
        A layer has no CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box, Point
    >>> area = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs="EPSG:4547")
    >>> pts = gpd.GeoDataFrame(geometry=[Point(500, 500), Point(520, 480)], crs="EPSG:4547")
    >>> surf = kde(pts, area, bandwidth=200, pixel=50)
    >>> surf.array.shape, round(float(surf.array.sum() * 0.05**2), 1)
    ((20, 20), 2.0)
    """
    if kernel not in {"quartic", "gaussian"}:
        msg = f"kernel must be 'quartic' or 'gaussian', got {kernel!r}."
        raise ValueError(msg)
    area = require_geodataframe(area, "area")
    require_nonempty(area, "area")
    require_crs(area, "area")
    pts = require_geodataframe(_counted(assigned, "assigned"), "assigned")
    require_crs(pts, "assigned")
    require_nonempty(pts, "assigned (counted rows)")
    require_geom_types(pts, ["Point"], "assigned")
    crs = _kde.metric_crs(area)
    area_m = area.to_crs(crs)
    xy = shapely.get_coordinates(pts.to_crs(crs).geometry.values)
    if bandwidth is None:
        bandwidth = _kde.default_bandwidth(xy) if len(xy) > 1 else 0.0
        if not bandwidth > 0:
            msg = "cannot derive a bandwidth from fewer than 2 distinct points; pass bandwidth=."
            raise ValueError(msg)
    require_positive(bandwidth, "bandwidth")
    w, s, e, n = map(float, area_m.total_bounds)
    if pixel is None:
        pixel = max(1.0, max(e - w, n - s) / 400.0)
    require_positive(pixel, "pixel")
    dens, transform, bounds = _kde.surface(xy, area_m, pixel, float(bandwidth), kernel)
    return DensitySurface(
        array=dens,
        transform=transform,
        crs=crs,
        bounds=bounds,
        bandwidth=float(bandwidth),
        pixel=float(pixel),
        kernel=kernel,
        n_points=len(xy),
    )
