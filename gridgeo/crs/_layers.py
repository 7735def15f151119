"""Layers and CRSs: local_crs, to_metric, declare, declared_system, real, from_declared, to_system.

Part of :mod:`gridgeo.crs` (the public face).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as PyprojCRSError

from gridgeo._validate import is_metric, require_crs, require_geodataframe, rows_preview
from gridgeo.crs._chinese import (
    _ALIASES,
    _EPSG,
    SYSTEMS,
    _convert_flat,
    _normalise_system,
    convert,  # noqa: F401 - used by the examples
)
from gridgeo.errors import CoordinateError, CRSError

# the package's logger, as before the split
logger = logging.getLogger("gridgeo.crs")

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
