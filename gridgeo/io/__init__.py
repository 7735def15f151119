"""Read and write layers and report tables.

Layers: GeoPackage (``.gpkg``, several layers per file), GeoParquet (``.parquet``), GeoJSON
(``.geojson``/``.json``) and ESRI Shapefile (``.shp``; zipped shapefiles ``.zip`` for reading).
Shapefile attribute encodings come from the ``.cpg`` file or the dBase language id, else are
detected by evidence (valid UTF-8 is UTF-8; GB18030/Big5 by strict decoding and common
characters; an ambiguous file raises with the candidates). Truncated or partial shapefiles and
coordinates that cannot be in the declared CRS are refused with the file and row named.

Every write is atomic: a failed or killed write (SIGTERM included) leaves no partial or
temporary file and keeps the old one; files get the user's umask; writers adding layers to one
GeoPackage are serialised with a file lock; operating-system errors name the target.

Reports: :func:`read_reports` turns a CSV (UTF-8, UTF-8 with BOM, GBK/GB18030, Big5), Excel,
Parquet or GeoJSON export, or a DataFrame, into a point GeoDataFrame. It keeps every row and
column (codes such as ``001`` stay text), and flags bad coordinates in
``coord_status``/``coord_issue`` instead of dropping them.

Times: :func:`parse_times` is gridgeo's one time parser (ISO 8601 with offsets, Chinese
formats, Excel serials, Unix epochs, mixed in one column), converting to one local zone and
naming every value it cannot read.

PostGIS (needs ``gridgeo[postgis]``): :func:`read_postgis` runs parameterised SQL only;
:func:`read_postgis_layer`, :func:`read_postgis_reports`, :func:`write_postgis` and
:func:`write_plan_postgis` read and write tables with checked, quoted names, in one
transaction per write; :func:`iter_postgis_reports` reads a large table in chunks
(``docs/postgis.md``).

Large files: :func:`iter_reports` reads a CSV or Parquet export in chunks.
"""

from __future__ import annotations

import logging

from gridgeo.io._flags import parse_flags
from gridgeo.io._layers import PathLike as PathLike
from gridgeo.io._layers import read_layer, write_layer
from gridgeo.io._postgis_api import (
    iter_postgis_reports,
    read_postgis,
    read_postgis_layer,
    read_postgis_reports,
    write_plan_postgis,
    write_postgis,
)
from gridgeo.io._read import ParsedTimes, iter_reports, parse_times, read_reports

__all__ = [
    "ParsedTimes",
    "iter_postgis_reports",
    "iter_reports",
    "parse_flags",
    "parse_times",
    "read_layer",
    "read_postgis",
    "read_postgis_layer",
    "read_postgis_reports",
    "read_reports",
    "write_layer",
    "write_plan_postgis",
    "write_postgis",
]

logger = logging.getLogger(__name__)
