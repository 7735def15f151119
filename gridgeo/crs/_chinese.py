"""WGS 84 / GCJ-02 / BD-09 / CGCS2000 conversion maths: :func:`convert` and its slow twin.

Part of :mod:`gridgeo.crs` (the public face); see its docstring for the four systems.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

from gridgeo._validate import rows_preview
from gridgeo.crs._china import china_region, inside_china
from gridgeo.errors import CoordinateError, CRSError

# the package's logger, as before the split
logger = logging.getLogger("gridgeo.crs")

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
