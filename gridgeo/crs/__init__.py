"""Coordinate reference systems: the local metric CRS, and WGS 84 / GCJ-02 / BD-09 / CGCS2000.

Areas and distances are measured in a local metric CRS chosen from the data's extent: the
CGCS2000 3-degree Gauss-Krüger zone (EPSG:4534–4554) inside China, the WGS 84 UTM zone
elsewhere.

Chinese field data often arrives in one of four lon/lat systems:

``wgs84`` (EPSG:4326)
    GPS, OpenStreetMap, most international software.
``cgcs2000`` (EPSG:4490)
    China's official datum. It differs from WGS 84 by centimetres, so lon/lat values are
    kept as they are; only the CRS label changes.
``gcj02``
    Amap/Gaode, Tencent, WeChat location: WGS 84 plus a deliberate, non-linear offset of
    roughly 100–700 m **inside mainland China only**. Outside China GCJ-02 equals WGS 84 exactly,
    and so do Hong Kong, Macao and Taiwan, which the real services do not offset. The test uses a
    real boundary polygon (Natural Earth 1:10m, simplified to about 200 m, grown about 10 km
    into the sea), never the rectangular box that would shift Hanoi, Seoul or Ulaanbaatar.
``bd09``
    Baidu: a further offset on top of GCJ-02, applied everywhere (as the widely used
    reference implementations do).

:func:`convert` converts arrays between them (the inverses are iterated to centimetres);
:func:`from_declared` turns a layer whose coordinates are in one of them into a layer with real
coordinates and a proper CRS; :func:`to_system` does the reverse, for drawing on Chinese basemaps.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as PyprojCRSError

from gridgeo._validate import is_metric, require_crs, require_geodataframe, rows_preview
from gridgeo.crs._china import china_region, inside_china
from gridgeo.errors import CoordinateError, CRSError

__all__ = [
    "SYSTEMS",
    "convert",
    "declare",
    "declared_system",
    "from_declared",
    "local_crs",
    "real",
    "to_metric",
    "to_system",
]

logger = logging.getLogger(__name__)

# Rough bounding box of China for choosing the Gauss-Krüger zone only (never for GCJ-02).
_CHINA_BOX = (73.0, 17.0, 136.0, 54.0)


def _lonlat_centre(obj: Any) -> tuple[float, float]:
    if isinstance(obj, tuple | list) and len(obj) == 4:
        minx, miny, maxx, maxy = map(float, obj)
        return (minx + maxx) / 2, (miny + maxy) / 2
    if isinstance(obj, gpd.GeoDataFrame | gpd.GeoSeries):
        require_crs(obj if isinstance(obj, gpd.GeoDataFrame) else obj.to_frame(), "layer")
        if len(obj) == 0 or obj.geometry.is_empty.all():
            msg = "cannot choose a local CRS for an empty layer; pass a layer with geometries."
            raise CRSError(msg)
        minx, miny, maxx, maxy = obj.to_crs(4326).total_bounds
        return (minx + maxx) / 2, (miny + maxy) / 2
    msg = (
        "local_crs() needs a GeoDataFrame/GeoSeries with a CRS or a lon/lat bounds tuple "
        f"(minx, miny, maxx, maxy); got {type(obj).__name__}."
    )
    raise TypeError(msg)


def local_crs(obj: Any) -> CRS:
    """Choose a metric CRS for the extent of ``obj``.

    Parameters
    ----------
    obj : GeoDataFrame, GeoSeries or tuple
        A layer with a CRS, or WGS 84 lon/lat bounds ``(minx, miny, maxx, maxy)``.

    Returns
    -------
    pyproj.CRS
        EPSG:4534–4554 (CGCS2000 3-degree Gauss-Krüger, central meridians 75°E–135°E, false
        easting 500 km) when the centre lies in China's box, else the WGS 84 UTM zone.

    Raises
    ------
    CRSError
        The layer has no CRS or no geometries.

    Examples
    --------
    >>> local_crs((114.3, 23.0, 114.5, 23.2)).to_epsg()
    4547
    >>> local_crs((2.2, 48.8, 2.4, 48.9)).to_epsg()
    32631
    """
    lon, lat = _lonlat_centre(obj)
    if not (np.isfinite(lon) and np.isfinite(lat)) or abs(lat) > 90:
        msg = f"cannot choose a local CRS for centre ({lon}, {lat}); check the layer's CRS."
        raise CRSError(msg)
    minx, miny, maxx, maxy = _CHINA_BOX
    if minx <= lon <= maxx and miny <= lat <= maxy:
        meridian = int(np.clip(round(lon / 3.0) * 3, 75, 135))
        return CRS.from_epsg(4534 + (meridian - 75) // 3)
    zone = int(np.clip(np.floor((lon + 180) / 6) + 1, 1, 60))
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def to_metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``gdf`` in a metric CRS: unchanged if it already is one, else in :func:`local_crs`.

    Parameters
    ----------
    gdf : GeoDataFrame
        A layer with a CRS.

    Returns
    -------
    GeoDataFrame
        The same object when already projected in metres, otherwise a reprojected copy. A
        layer declared GCJ-02 or BD-09 (:func:`declare`, :func:`to_system`) is first converted
        to real WGS 84 coordinates, so it lands where it belongs, not ~500 m off.

    Raises
    ------
    CRSError
        The layer has no CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> pts = gpd.GeoDataFrame(geometry=[Point(114.4, 23.1)], crs=4326)
    >>> to_metric(pts).crs.to_epsg()
    4547
    """
    gdf = real(gdf)
    require_crs(gdf, "layer")
    crs = gdf.crs
    if is_metric(crs):
        return gdf
    return gdf.to_crs(local_crs(gdf))


def declared_system(gdf: gpd.GeoDataFrame) -> str | None:
    """The coordinate system a layer is declared to be in, or ``None`` for plain CRS layers.

    The declaration is ``attrs["coordinate_system"]``, set by :func:`declare`,
    :func:`to_system` and the readers' ``crs=`` option; only ``"gcj02"`` and ``"bd09"``
    change what the coordinates mean (the others are plain EPSG:4326/4490).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> amap = declare(gpd.GeoDataFrame(geometry=[Point(116.397546, 39.908954)]), "gcj02")
    >>> declared_system(amap)
    'gcj02'
    """
    marked = gdf.attrs.get("coordinate_system") if hasattr(gdf, "attrs") else None
    return marked if marked in SYSTEMS else None


def declare(gdf: gpd.GeoDataFrame, crs: str | CRS) -> gpd.GeoDataFrame:
    """Return a copy of a layer declared to be in ``crs``, coordinates unchanged.

    Declare once: every gridgeo function that measures or reprojects
    (:func:`to_metric`, :func:`gridgeo.assign`, :mod:`gridgeo.cells`, :mod:`gridgeo.maps`…)
    honours the declaration and converts GCJ-02/BD-09 coordinates to real ones first.

    Parameters
    ----------
    gdf : GeoDataFrame
        Any geometry type.
    crs : str or pyproj.CRS
        ``"gcj02"`` or ``"bd09"`` (lon/lat from Amap/Tencent or Baidu), ``"wgs84"``,
        ``"cgcs2000"``, or any CRS pyproj understands (set as the layer's CRS).

    Returns
    -------
    GeoDataFrame
        A copy with the same coordinates. GCJ-02/BD-09 layers get CRS EPSG:4326 and
        ``attrs["coordinate_system"]``; others get ``crs`` as their CRS.

    Raises
    ------
    CRSError
        Unknown ``crs``, or a GCJ-02/BD-09 declaration on a projected layer.
    CoordinateError
        Coordinates outside lon [-180, 180] / lat [-90, 90] for a lon/lat declaration.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> amap = declare(gpd.GeoDataFrame(geometry=[Point(116.397546, 39.908954)]), "gcj02")
    >>> metric = to_metric(amap)        # the real position, not the GCJ-02 one
    >>> x, y = convert([116.397546], [39.908954], "gcj02", "wgs84")
    >>> wgs = gpd.GeoSeries.from_xy(x, y, crs=4326).to_crs(metric.crs)
    >>> float(metric.distance(wgs).iloc[0]) < 0.01
    True
    """
    require_geodataframe(gdf, "gdf")
    known = _declared_known(crs)
    if known not in ("gcj02", "bd09"):
        return from_declared(gdf, crs)
    if gdf.crs is not None and not gdf.crs.is_geographic:
        msg = (
            f"gdf has the projected CRS {gdf.crs.name!r} but was declared as {known} lon/lat; "
            "declare its real CRS instead, e.g. declare(gdf, 'EPSG:4547')."
        )
        raise CRSError(msg)
    _check_layer_lonlat(gdf, "gdf", known)
    return _replace_geometry(gdf, None, CRS.from_epsg(4326), known)


def real(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a layer in real coordinates: a GCJ-02/BD-09 declaration converted to WGS 84.

    Layers without such a declaration are returned as they are (the same object).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> amap = declare(gpd.GeoDataFrame(geometry=[Point(116.397546, 39.908954)]), "gcj02")
    >>> print(f"{real(amap).geometry.x.iloc[0]:.6f}")
    116.391305
    """
    marked = declared_system(gdf)
    if marked in ("gcj02", "bd09"):
        return from_declared(gdf, marked)
    return gdf


# ---------------------------------------------------------------------------------------------
# WGS 84 / GCJ-02 / BD-09 / CGCS2000
# ---------------------------------------------------------------------------------------------

#: Accepted coordinate-system names (case-insensitive; "-", "_" and spaces are ignored).
SYSTEMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09", "cgcs2000")

_ALIASES = {
    "wgs84": "wgs84",
    "epsg:4326": "wgs84",
    "4326": "wgs84",
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "bd09": "bd09",
    "bd09ll": "bd09",
    "cgcs2000": "cgcs2000",
    "epsg:4490": "cgcs2000",
    "4490": "cgcs2000",
}
_EPSG = {"wgs84": 4326, "cgcs2000": 4490}

# GCJ-02: Krasovsky 1940 ellipsoid constants used by the obfuscation.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
# BD-09 rotation/scaling constant.
_BD_XPI = np.pi * 3000.0 / 180.0
_BD_DX, _BD_DY = 0.0065, 0.006

# Inverse iterations: stop when the forward image is within _TOL_M metres of the target.
_TOL_M = 1e-3
_MAX_ITER = 30
# Upper bound, with margin, of the offsets' derivatives: about 3e-3 for GCJ-02 and at most
# 0.034 for BD-09 (its rotation term grows with the distance from (0, 0)).
_CONTRACTION = 0.1
_M_PER_DEG = 6378137.0 * np.pi / 180.0


def _normalise_system(system: object, name: str = "system") -> str:
    """Return the canonical name of ``system`` or raise :class:`CRSError` listing the names."""
    key = re.sub(r"[\s_\-]", "", system.lower()) if isinstance(system, str) else None
    if key is None or key not in _ALIASES:
        msg = (
            f"{name}={system!r} is not a known coordinate system; use one of "
            f"{', '.join(map(repr, SYSTEMS))} (case-insensitive; 'EPSG:4326' and 'EPSG:4490' "
            "are accepted for wgs84 and cgcs2000)."
        )
        raise CRSError(msg)
    return _ALIASES[key]


def _as_float_array(values: Any, name: str) -> np.ndarray:
    """Return ``values`` as a float64 array, or raise :class:`CoordinateError`."""
    arr = np.asarray(values)
    if arr.dtype.kind in "fiu":
        return arr.astype(np.float64, copy=False)
    if arr.dtype.kind in "bcmMV":
        msg = f"{name} must hold real numbers (degrees), got an array of dtype {arr.dtype}."
        raise CoordinateError(msg)
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError) as err:
        msg = (
            f"{name} must hold numbers (degrees), but holds values that are not numeric "
            f"({err}). Convert the column with pandas.to_numeric(..., errors='coerce') first."
        )
        raise CoordinateError(msg) from err


def _check_range(lon: np.ndarray, lat: np.ndarray) -> None:
    """Raise :class:`CoordinateError` for infinite or out-of-range lon/lat (NaN is allowed)."""
    bad = np.isinf(lon) | np.isinf(lat) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        flat = np.flatnonzero(bad.ravel())
        first = np.unravel_index(int(flat[0]), bad.shape)
        shown = f"position(s) {rows_preview(flat.tolist())}" if bad.ndim else "the scalar input"
        swapped = (np.abs(lat[bad]) <= 180).all() and (np.abs(lon[bad]) <= 90).all()
        if not (np.isfinite(lon[bad]).all() and np.isfinite(lat[bad]).all()):
            hint = " Infinite values are not coordinates; use NaN for missing ones."
        elif swapped:
            hint = " They look swapped: pass longitude first, then latitude."
        else:
            hint = " Projected metres must be reprojected to lon/lat first (GeoDataFrame.to_crs)."
        msg = (
            f"lon/lat out of range (lon in [-180, 180], lat in [-90, 90]) at {shown}; "
            f"first: lon={float(lon[first])!r}, lat={float(lat[first])!r}.{hint}"
        )
        raise CoordinateError(msg)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (degrees) at WGS 84 (lon, lat), without the inside-China test.

    sin(3t) = sin(t) (3 - 4 sin²(t)) gives sin(6πx) from sin(2πx) and sin(πx) from sin(πx/3):
    three fewer sines per point, equal to the textbook form to ~1e-15 degree.
    """
    x = lon - 105.0
    y = lat - 35.0
    s2x = np.sin((2.0 * np.pi) * x)
    s6x = s2x * (3.0 - 4.0 * s2x * s2x)
    sx3 = np.sin((np.pi / 3.0) * x)
    sx = sx3 * (3.0 - 4.0 * sx3 * sx3)
    sy3 = np.sin((np.pi / 3.0) * y)
    sy = sy3 * (3.0 - 4.0 * sy3 * sy3)
    common = (20.0 * s6x + 20.0 * s2x) * (2.0 / 3.0)
    sqrt_ax = np.sqrt(np.abs(x))
    xy = 0.1 * x * y
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + xy + 0.2 * sqrt_ax + common
    dlat += (20.0 * sy + 40.0 * sy3) * (2.0 / 3.0)
    dlat += (160.0 * np.sin(np.pi * y / 12.0) + 320.0 * np.sin(np.pi * y / 30.0)) * (2.0 / 3.0)
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + xy + 0.1 * sqrt_ax + common
    dlon += (20.0 * sx + 40.0 * sx3) * (2.0 / 3.0)
    dlon += (150.0 * np.sin(np.pi * x / 12.0) + 300.0 * np.sin(np.pi * x / 30.0)) * (2.0 / 3.0)
    rad = lat * (np.pi / 180.0)
    sin_rad = np.sin(rad)
    magic = 1.0 - _GCJ_EE * sin_rad * sin_rad
    sqrt_magic = np.sqrt(magic)
    dlat *= 180.0 / ((_GCJ_A * (1.0 - _GCJ_EE)) * np.pi) * (magic * sqrt_magic)
    dlon *= 180.0 / (_GCJ_A * np.pi) * sqrt_magic / np.cos(rad)
    return dlon, dlat


def _gcj_shift(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out_lon, out_lat = lon.copy(), lat.copy()
    inside = inside_china(lon, lat)
    if inside.any():
        out_lon[inside], out_lat[inside] = _gcj_shift(lon[inside], lat[inside])
    return out_lon, out_lat


def _gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_XPI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_XPI)
    return z * np.cos(theta) + _BD_DX, z * np.sin(theta) + _BD_DY


def _bd_to_gcj_guess(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The usual closed-form approximation of the BD-09 inverse (a few cm off)."""
    x, y = lon - _BD_DX, lat - _BD_DY
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_XPI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_XPI)
    return z * np.cos(theta), z * np.sin(theta)


Transform = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _invert(
    forward: Transform,
    lon: np.ndarray,
    lat: np.ndarray,
    guess: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x) == (lon, lat)`` by fixed-point iteration, vectorised.

    ``x <- x - (forward(x) - target)`` converges fast because each offset's derivative is
    about 1e-3 (three passes from 500 m to below 0.1 mm). Only points whose error bound, in
    metres, is still above ``_TOL_M`` are iterated again; NaN input is left as NaN.
    """
    x_lon, x_lat = guess[0].copy(), guess[1].copy()
    cos_lat = np.cos(np.radians(lat))
    active = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    everything = active.size == lon.size
    for _ in range(_MAX_ITER):
        if active.size == 0:
            break
        # the first pass over every point avoids the cost of fancy indexing
        sel = slice(None) if everything else active
        f_lon, f_lat = forward(x_lon[sel], x_lat[sel])
        r_lon = f_lon - lon[sel]
        r_lat = f_lat - lat[sel]
        x_lon[sel] -= r_lon
        x_lat[sel] -= r_lat
        # |residual| bounds the error before this step; the step shrinks it by the offset's
        # derivative (below _CONTRACTION), so the new error is below _CONTRACTION * |residual|.
        err_m = _CONTRACTION * _M_PER_DEG * np.hypot(r_lon * cos_lat[sel], r_lat)
        active = active[err_m > _TOL_M]
        everything = False
    if active.size:
        logger.warning(
            "inverse conversion did not reach %.0e m for %d point(s) after %d iterations",
            _TOL_M,
            active.size,
            _MAX_ITER,
        )
    return x_lon, x_lat


def _gcj_to_wgs(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`_wgs_to_gcj`.

    The offset is removed where either the GCJ-02 point or its de-offset point lies in China;
    within a few hundred metres of the border this picks the Chinese pre-image when two exist.
    """
    out_lon, out_lat = lon.copy(), lat.copy()
    minx, miny, maxx, maxy = shapely.bounds(china_region()).tolist()
    pad = 0.02  # degrees, more than the largest GCJ-02 offset
    near = np.flatnonzero(
        (lon >= minx - pad) & (lon <= maxx + pad) & (lat >= miny - pad) & (lat <= maxy + pad)
    )
    if near.size == 0:
        return out_lon, out_lat
    g_lon, g_lat = lon[near], lat[near]
    w_lon, w_lat = _invert(_gcj_shift, g_lon, g_lat, (g_lon, g_lat))
    use = inside_china(g_lon, g_lat)
    rest = ~use
    if rest.any():
        use[rest] = inside_china(w_lon[rest], w_lat[rest])
    out_lon[near[use]] = w_lon[use]
    out_lat[near[use]] = w_lat[use]
    return out_lon, out_lat


def _bd_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _invert(_gcj_to_bd, lon, lat, _bd_to_gcj_guess(lon, lat))


_STEPS: dict[tuple[str, str], Transform] = {
    ("wgs84", "gcj02"): _wgs_to_gcj,
    ("gcj02", "wgs84"): _gcj_to_wgs,
    ("gcj02", "bd09"): _gcj_to_bd,
    ("bd09", "gcj02"): _bd_to_gcj,
}


def _convert_flat(
    lon: np.ndarray, lat: np.ndarray, src: str, dst: str
) -> tuple[np.ndarray, np.ndarray]:
    """Convert 1-D float arrays between canonical systems (cgcs2000 is wgs84 here)."""
    src = "wgs84" if src == "cgcs2000" else src
    dst = "wgs84" if dst == "cgcs2000" else dst
    order = ("wgs84", "gcj02", "bd09")
    i, j = order.index(src), order.index(dst)
    step = 1 if j > i else -1
    out_lon, out_lat = lon.copy(), lat.copy()
    missing = np.isnan(lon) | np.isnan(lat)
    out_lon[missing] = np.nan
    out_lat[missing] = np.nan
    for k in range(i, j, step):
        out_lon, out_lat = _STEPS[(order[k], order[k + step])](out_lon, out_lat)
    return out_lon, out_lat


def convert(lon: Any, lat: Any, src: str, dst: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert lon/lat between WGS 84, GCJ-02, BD-09 and CGCS2000.

    Parameters
    ----------
    lon, lat : float or array_like
        Longitudes and latitudes in degrees, of the same shape. NaN in either gives NaN in
        both.
    src, dst : str
        ``"wgs84"``, ``"gcj02"``, ``"bd09"`` or ``"cgcs2000"`` (case-insensitive; also
        ``"EPSG:4326"``, ``"EPSG:4490"``, ``"GCJ-02"``, ``"BD-09"``).

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in ``dst``, with the input's shape (NumPy floats for scalar input).

    Raises
    ------
    CRSError
        ``src`` or ``dst`` is not a known system.
    CoordinateError
        Non-numeric values, infinite values, or lon/lat out of range (a ValueError), or ``lon``
        and ``lat`` of different shapes.

    Notes
    -----
    GCJ-02 is the published closed-form obfuscation (Krasovsky ellipsoid), applied only inside
    mainland China (see :mod:`gridgeo.crs`); BD-09 adds Baidu's offset on top of GCJ-02.
    Conversions between BD-09 and WGS 84 go through GCJ-02. The inverses have no closed form:
    they are iterated (fixed point, only on the points not yet converged) until each point's
    error bound is below 1 mm, so results are well within 1 cm of the exact inverse.
    CGCS2000 equals WGS 84 to centimetres and is treated as identical. Within a few hundred
    metres of China's land border, where the offset can move a point across the border,
    GCJ-02 -> WGS 84 removes the offset when either point is in China.

    Examples
    --------
    Tiananmen, WGS 84 to GCJ-02 and BD-09:

    >>> lon, lat = convert(116.391305, 39.907553, "wgs84", "gcj02")
    >>> print(f"{lon:.6f} {lat:.6f}")
    116.397546 39.908954
    >>> lon, lat = convert(116.391305, 39.907553, "WGS84", "BD-09")
    >>> print(f"{lon:.6f} {lat:.6f}")
    116.403919 39.915298

    Arrays, and the iterated inverse:

    >>> import numpy as np
    >>> lon, lat = convert(np.array([116.397546, 2.3522]), np.array([39.908954, 48.8566]),
    ...                    "gcj02", "wgs84")
    >>> np.round(lon, 6).tolist(), np.round(lat, 6).tolist()
    ([116.391305, 2.3522], [39.907553, 48.8566])
    """
    src_c = _normalise_system(src, "src")
    dst_c = _normalise_system(dst, "dst")
    lon_a = _as_float_array(lon, "lon")
    lat_a = _as_float_array(lat, "lat")
    if lon_a.shape != lat_a.shape:
        msg = (
            f"lon and lat must have the same shape, got {lon_a.shape} and {lat_a.shape}; "
            "pass one longitude for every latitude."
        )
        raise CoordinateError(msg)
    _check_range(lon_a, lat_a)
    out_lon, out_lat = _convert_flat(lon_a.ravel(), lat_a.ravel(), src_c, dst_c)
    out_lon = out_lon.reshape(lon_a.shape)
    out_lat = out_lat.reshape(lat_a.shape)
    if out_lon.ndim == 0:
        return out_lon[()], out_lat[()]
    return out_lon, out_lat


def _gcj_delta_point(x0: float, y0: float) -> tuple[float, float]:
    """GCJ-02 offset (degrees) of one WGS 84 point; per-point twin of :func:`_gcj_delta`."""
    x, y = x0 - 105.0, y0 - 35.0
    common = (20 * math.sin(6 * math.pi * x) + 20 * math.sin(2 * math.pi * x)) * 2 / 3
    dy = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x)) + common
    dy += (20 * math.sin(math.pi * y) + 40 * math.sin(math.pi * y / 3)) * 2 / 3
    dy += (160 * math.sin(math.pi * y / 12) + 320 * math.sin(math.pi * y / 30)) * 2 / 3
    dx = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x)) + common
    dx += (20 * math.sin(math.pi * x) + 40 * math.sin(math.pi * x / 3)) * 2 / 3
    dx += (150 * math.sin(math.pi * x / 12) + 300 * math.sin(math.pi * x / 30)) * 2 / 3
    rad = y0 / 180 * math.pi
    magic = 1 - _GCJ_EE * math.sin(rad) ** 2
    dy = dy * 180 / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * math.sqrt(magic)) * math.pi)
    dx = dx * 180 / (_GCJ_A / math.sqrt(magic) * math.cos(rad) * math.pi)
    return dx, dy


def _convert_point_slow(lon: float, lat: float, src: str, dst: str) -> tuple[float, float]:
    """Per-point pure-Python twin of :func:`convert` (tests and benchmarks only)."""
    region = china_region()

    def inside(x: float, y: float) -> bool:
        return math.isfinite(x) and math.isfinite(y) and region.contains(shapely.Point(x, y))

    def to_bd(x: float, y: float) -> tuple[float, float]:
        z = math.hypot(x, y) + 0.00002 * math.sin(y * _BD_XPI)
        t = math.atan2(y, x) + 0.000003 * math.cos(x * _BD_XPI)
        return z * math.cos(t) + _BD_DX, z * math.sin(t) + _BD_DY

    def bd_guess(x: float, y: float) -> tuple[float, float]:
        x, y = x - _BD_DX, y - _BD_DY
        z = math.hypot(x, y) - 0.00002 * math.sin(y * _BD_XPI)
        t = math.atan2(y, x) - 0.000003 * math.cos(x * _BD_XPI)
        return z * math.cos(t), z * math.sin(t)

    def invert(
        f: Callable[[float, float], tuple[float, float]],
        x: float,
        y: float,
        start: tuple[float, float] | None = None,
    ) -> Any:
        wx, wy = start if start is not None else (x, y)
        for _ in range(_MAX_ITER):
            fx, fy = f(wx, wy)
            wx, wy = wx - (fx - x), wy - (fy - y)
            resid_m = _M_PER_DEG * math.hypot((fx - x) * math.cos(math.radians(y)), fy - y)
            if _CONTRACTION * resid_m <= _TOL_M:
                break
        return wx, wy

    def shift(x: float, y: float) -> tuple[float, float]:
        dx, dy = _gcj_delta_point(x, y)
        return x + dx, y + dy

    def gcj_to_wgs(x: float, y: float) -> tuple[float, float]:
        wx, wy = invert(shift, x, y)
        return (wx, wy) if inside(x, y) or inside(wx, wy) else (x, y)

    steps = {
        ("wgs84", "gcj02"): lambda x, y: shift(x, y) if inside(x, y) else (x, y),
        ("gcj02", "wgs84"): gcj_to_wgs,
        ("gcj02", "bd09"): to_bd,
        ("bd09", "gcj02"): lambda x, y: invert(to_bd, x, y, bd_guess(x, y)),
    }
    order = ("wgs84", "gcj02", "bd09")
    i = order.index("wgs84" if src == "cgcs2000" else src)
    j = order.index("wgs84" if dst == "cgcs2000" else dst)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return math.nan, math.nan
    step = 1 if j > i else -1
    for k in range(i, j, step):
        lon, lat = steps[(order[k], order[k + step])](lon, lat)
    return lon, lat


def _check_layer_lonlat(gdf: gpd.GeoDataFrame, name: str, system: str) -> None:
    """Raise :class:`CoordinateError` naming the rows whose coordinates are not lon/lat."""
    bounds = shapely.bounds(gdf.geometry.values)
    minx, miny, maxx, maxy = bounds.T
    bad = (minx < -180) | (maxx > 180) | (miny < -90) | (maxy > 90)
    bad |= np.isinf(bounds).any(axis=1)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        msg = (
            f"{name} is declared as {system} lon/lat, but row(s) {rows_preview(gdf.index[bad])} "
            f"have coordinates outside lon [-180, 180] / lat [-90, 90] (first row's bounds: "
            f"{np.round(bounds[first], 3).tolist()}). Projected coordinates (metres) need their "
            "own CRS, e.g. from_declared(layer, 'EPSG:4547'); swapped columns need lon first."
        )
        raise CoordinateError(msg)


def _transform_layer(gdf: gpd.GeoDataFrame, src: str, dst: str) -> gpd.GeoSeries:
    """Return the active geometry with every x/y converted from ``src`` to ``dst``."""

    def func(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        out[:, 0], out[:, 1] = _convert_flat(coords[:, 0], coords[:, 1], src, dst)
        return out

    geoms = shapely.transform(gdf.geometry.values, func, include_z=None)
    return gpd.GeoSeries(geoms, index=gdf.index, name=gdf.geometry.name)


def _replace_geometry(
    gdf: gpd.GeoDataFrame, geoms: gpd.GeoSeries | None, crs: CRS, system: str | None
) -> gpd.GeoDataFrame:
    out = gdf.copy()
    col = out.geometry.name
    if geoms is not None:
        out[col] = gpd.GeoSeries(geoms.values, index=out.index, crs=crs)
    out = out.set_crs(crs, allow_override=True)
    if system is None:
        out.attrs.pop("coordinate_system", None)
    else:
        out.attrs["coordinate_system"] = system
    return out


def from_declared(gdf: gpd.GeoDataFrame, system: str | CRS) -> gpd.GeoDataFrame:
    """Return a copy of a layer whose coordinates are declared to be in ``system``, as real ones.

    Parameters
    ----------
    gdf : GeoDataFrame
        Any geometry type. Its coordinates are lon/lat in ``system`` (or, for a pyproj CRS,
        coordinates in that CRS).
    system : str or pyproj.CRS
        ``"wgs84"``, ``"gcj02"``, ``"bd09"``, ``"cgcs2000"`` (case-insensitive, also
        ``"EPSG:4326"``/``"EPSG:4490"``), or any CRS pyproj understands.

    Returns
    -------
    GeoDataFrame
        A copy with the same index and columns. GCJ-02 and BD-09 coordinates are converted to
        WGS 84 (CRS EPSG:4326); ``"wgs84"`` is labelled EPSG:4326 and ``"cgcs2000"`` EPSG:4490
        without changing coordinates; any other CRS is set as the layer's CRS. Only the active
        geometry column is converted; ``attrs["coordinate_system"]`` is removed.

    Raises
    ------
    CRSError
        Unknown ``system``; a GCJ-02/BD-09/lon-lat declaration on a layer whose CRS is
        projected; or a layer marked by :func:`to_system` as being in another system.
    CoordinateError
        A lon/lat declaration with coordinates outside lon [-180, 180] / lat [-90, 90].

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> amap = gpd.GeoDataFrame({"name": ["Tiananmen"]},
    ...                         geometry=[Point(116.397546, 39.908954)])
    >>> real = from_declared(amap, "gcj02")
    >>> print(real.crs.to_epsg(), f"{real.geometry.x.iloc[0]:.6f} {real.geometry.y.iloc[0]:.6f}")
    4326 116.391305 39.907553
    >>> from_declared(amap, "EPSG:4547").crs.to_epsg()
    4547
    """
    require_geodataframe(gdf, "gdf")
    known = _declared_known(system)
    marked = gdf.attrs.get("coordinate_system")
    if marked in SYSTEMS and marked != known and known in SYSTEMS:
        msg = (
            f"gdf is marked (attrs['coordinate_system']) as {marked!r} coordinates by "
            f"gridgeo.crs.to_system, but was declared as {system!r}; declare {marked!r}."
        )
        raise CRSError(msg)
    if known is None:
        crs = _user_crs(system)
        if crs.is_geographic:
            _check_layer_lonlat(gdf, "gdf", crs.name)
        if gdf.crs is not None and not gdf.crs.equals(crs):
            logger.info("from_declared: replacing CRS %s by %s", gdf.crs.to_string(), crs)
        return _replace_geometry(gdf, None, crs, None)
    if gdf.crs is not None and not gdf.crs.is_geographic:
        msg = (
            f"gdf has the projected CRS {gdf.crs.name!r} but was declared as {known} lon/lat. "
            f"GCJ-02/BD-09/{known} data are degrees: if the coordinates are metres, declare their "
            f"real CRS instead (from_declared(gdf, 'EPSG:...')); if they are lon/lat, drop the "
            "wrong CRS first with gdf.set_crs(None, allow_override=True)."
        )
        raise CRSError(msg)
    _check_layer_lonlat(gdf, "gdf", known)
    if known in _EPSG:
        return _replace_geometry(gdf, None, CRS.from_epsg(_EPSG[known]), None)
    geoms = _transform_layer(gdf, known, "wgs84")
    return _replace_geometry(gdf, geoms, CRS.from_epsg(4326), None)


def _declared_known(system: object) -> str | None:
    """Canonical name for one of :data:`SYSTEMS`, or ``None`` for a pyproj CRS."""
    if isinstance(system, str):
        key = re.sub(r"[\s_\-]", "", system.lower())
        return _ALIASES.get(key)
    return None


def _user_crs(system: object) -> CRS:
    try:
        return CRS.from_user_input(system)
    except (PyprojCRSError, TypeError, ValueError) as err:
        msg = (
            f"system={system!r} is neither one of {', '.join(map(repr, SYSTEMS))} nor a CRS "
            f"pyproj understands ({err}). Use e.g. 'gcj02', 'EPSG:4490' or 'EPSG:4547'."
        )
        raise CRSError(msg) from err


def to_system(gdf: gpd.GeoDataFrame, system: str) -> gpd.GeoDataFrame:
    """Return a copy of a layer in WGS 84 / GCJ-02 / BD-09 / CGCS2000 lon/lat coordinates.

    Use it to draw a layer on Chinese basemaps: Amap/Gaode and Tencent tiles are in GCJ-02,
    Baidu tiles in BD-09.

    Parameters
    ----------
    gdf : GeoDataFrame
        Any geometry type, with a CRS.
    system : str
        ``"wgs84"``, ``"gcj02"``, ``"bd09"`` or ``"cgcs2000"`` (case-insensitive).

    Returns
    -------
    GeoDataFrame
        A copy with the same index and columns. The CRS is labelled EPSG:4326 (EPSG:4490 for
        ``"cgcs2000"``) and ``attrs["coordinate_system"]`` records the system, because GCJ-02 and
        BD-09 have no EPSG code; :func:`from_declared` reverses it.

    Raises
    ------
    CRSError
        The layer has no CRS, or ``system`` is not one of the names above.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> pts = gpd.GeoDataFrame(geometry=[Point(116.391305, 39.907553)], crs="EPSG:4326")
    >>> amap = to_system(pts, "gcj02")
    >>> print(amap.attrs["coordinate_system"], f"{amap.geometry.x.iloc[0]:.6f}")
    gcj02 116.397546
    >>> back = from_declared(amap, "gcj02")
    >>> print(f"{back.geometry.x.iloc[0]:.6f} {back.geometry.y.iloc[0]:.6f}")
    116.391305 39.907553
    """
    require_geodataframe(gdf, "gdf")
    target = _normalise_system(system)
    marked = gdf.attrs.get("coordinate_system")
    if marked in ("gcj02", "bd09"):
        gdf = from_declared(gdf, marked)
    require_crs(gdf, "gdf")
    crs = CRS.from_epsg(_EPSG.get(target, 4326))
    real = gdf if gdf.crs.equals(crs) else gdf.to_crs(crs)
    if target in _EPSG:
        return _replace_geometry(real, None, crs, target)
    geoms = _transform_layer(real, "wgs84", target)
    return _replace_geometry(real, geoms, crs, target)
