"""Coordinate reference systems: the local metric CRS, and WGS 84 / GCJ-02 / BD-09 / CGCS2000.

Areas and distances are measured in a local metric CRS chosen from the data's extent: the
CGCS2000 3-degree Gauss-Krüger zone (EPSG:4534–4554) inside China, the WGS 84 UTM zone
elsewhere.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
from pyproj import CRS

from gridgeo._validate import require_crs
from gridgeo.errors import CRSError

__all__ = ["local_crs", "to_metric"]

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
        The same object when already projected in metres, otherwise a reprojected copy.

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
    require_crs(gdf, "layer")
    crs = gdf.crs
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if crs.is_projected and unit in {"metre", "meter"}:
        return gdf
    return gdf.to_crs(local_crs(gdf))
