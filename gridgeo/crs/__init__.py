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

# the private names are used by gridgeo.io, the tests and the benchmarks
from gridgeo.crs._chinese import (
    SYSTEMS,
    _convert_point_slow,  # noqa: F401
    _gcj_delta_point,  # noqa: F401
    _normalise_system,  # noqa: F401
    convert,
)
from gridgeo.crs._layers import (
    declare,
    declared_system,
    from_declared,
    local_crs,
    real,
    to_metric,
    to_system,
)

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
