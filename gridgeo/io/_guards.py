"""Guards for files read by :mod:`gridgeo.io`: partial shapefiles and coordinates vs CRS.

* :func:`check_shapefile_parts`: a ``.shp`` needs its ``.shx`` and ``.dbf``; the lengths in
  their headers must match the bytes present and the three must count the same records.
  A copy cut short (an interrupted download, a full USB stick) is named file by file.
* :func:`crs_mismatch`: coordinates that cannot be in the declared CRS: longitudes/latitudes
  out of range under a geographic CRS, degree-sized values under a projected CRS, and
  Gauss-Krüger eastings whose zone prefix (``38 500 000``) does not match the EPSG code.
"""

from __future__ import annotations

import logging
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from gridgeo._validate import rows_preview
from gridgeo.errors import CRSError, InputFileError

__all__ = [
    "check_file_parts",
    "check_shapefile_parts",
    "check_zip_parts",
    "crs_mismatch",
    "guard_layer",
]

logger = logging.getLogger(__name__)

_SHP_CODE = 9994
_HEADER = 100


def _shp_header(data: bytes, name: str) -> int:
    """Declared length in bytes of a .shp/.shx file; raise if the header is damaged."""
    if len(data) < _HEADER or struct.unpack(">i", data[:4])[0] != _SHP_CODE:
        msg = (
            f"{name} is not a valid shapefile part (the 100-byte header is missing or damaged; "
            f"the file has {len(data)} bytes). Copy the shapefile again from its source."
        )
        raise InputFileError(msg)
    return struct.unpack(">i", data[24:28])[0] * 2


def check_shapefile_parts(
    name: str, read: Callable[[str], bytes | None], size: Callable[[str], int]
) -> None:
    """Raise :class:`InputFileError` for a missing, truncated or inconsistent shapefile.

    ``read(suffix)`` returns the first bytes of the part (None when it is missing) and
    ``size(suffix)`` its size in bytes; ``name`` is the ``.shp`` path for messages.
    """
    missing = [s for s in (".shx", ".dbf") if read(s) is None]
    if missing:
        msg = (
            f"the shapefile {name} is incomplete: {' and '.join(missing)} missing next to it. "
            "A shapefile is several files with one name (.shp, .shx, .dbf, .prj, .cpg); copy "
            "them all, or zip them together and read the .zip."
        )
        raise InputFileError(msg)
    shp, shx, dbf = read(".shp") or b"", read(".shx") or b"", read(".dbf") or b""
    problems = []
    declared = {}
    for suffix, data in ((".shp", shp), (".shx", shx)):
        declared[suffix] = _shp_header(data, f"{name[:-4]}{suffix}")
        actual = size(suffix)
        if actual < declared[suffix]:
            problems.append(
                f"{suffix} is cut short ({actual} of {declared[suffix]} bytes in its header)"
            )
    n_shx = (declared[".shx"] - _HEADER) // 8
    if len(dbf) >= 12:
        n_dbf, header_len, record_len = struct.unpack("<IHH", dbf[4:12])
        expected = header_len + n_dbf * record_len
        if size(".dbf") < expected:
            problems.append(f".dbf is cut short ({size('.dbf')} of {expected} bytes)")
        if n_dbf != n_shx:
            problems.append(f".dbf holds {n_dbf} records but .shx indexes {n_shx} shapes")
    else:
        problems.append(f".dbf has no valid header ({len(dbf)} bytes)")
    if problems:
        msg = (
            f"the shapefile {name} is truncated or its parts do not belong together: "
            f"{'; '.join(problems)}. Copy all its files again from the source."
        )
        raise InputFileError(msg)


def _sidecar(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.is_file():
            return candidate
    return None


def _head(path: Path, n: int = 100) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def check_file_parts(path: Path) -> None:
    parts = {s: _sidecar(path, s) for s in (".shx", ".dbf")} | {".shp": path}

    def read(suffix: str) -> bytes | None:
        part = parts[suffix]
        return None if part is None else _head(part)

    def size(suffix: str) -> int:
        part = parts[suffix]
        return 0 if part is None else part.stat().st_size

    check_shapefile_parts(repr(str(path)), read, size)


def check_zip_parts(path: Path, member: str) -> None:
    base = member[: -len(".shp")]
    with zipfile.ZipFile(path) as archive:
        infos = {i.filename.lower(): i for i in archive.infolist()}
        found = {s: infos.get(base.lower() + s) for s in (".shp", ".shx", ".dbf")}

        def read(suffix: str) -> bytes | None:
            info = found[suffix]
            if info is None:
                return None
            with archive.open(info) as fh:
                return fh.read(100)

        def size(suffix: str) -> int:
            info = found[suffix]
            return 0 if info is None else info.file_size

        check_shapefile_parts(repr(f"{path}!{member}"), read, size)


# --- coordinates that cannot be in the declared CRS --------------------------------------

# CGCS2000 Gauss-Krüger series: (first EPSG with zone prefix, first zone, first EPSG by central
# meridian). 3-degree zones 25–45 (EPSG:4513–4533 / 4534–4554), 6-degree zones 13–23
# (EPSG:4491–4501 / 4502–4512).
_GK_SERIES = {"3-degree": (4513, 25, 4534, 21), "6-degree": (4491, 13, 4502, 11)}


def _tm_params(crs: CRS) -> dict[str, float]:
    operation = crs.coordinate_operation
    if operation is None or "transverse mercator" not in operation.method_name.lower():
        return {}
    return {p.name: float(p.value) for p in operation.params}


def _gk_series(crs: CRS) -> tuple[int, int, int, int] | None:
    if "CGCS2000" not in crs.name or "Gauss-Kruger" not in crs.name:
        return None
    return _GK_SERIES["3-degree" if "3-degree" in crs.name else "6-degree"]


def _prefix_crs(crs: CRS, zone: int) -> str:
    series = _gk_series(crs)
    if series is None:
        return f"the CRS of zone {zone} with the zone number in its false easting"
    first, first_zone, _, count = series
    if not first_zone <= zone < first_zone + count:
        return f"a Gauss-Krüger CRS of zone {zone}"
    return f"EPSG:{first + zone - first_zone}"


def _cm_crs(crs: CRS) -> str:
    series = _gk_series(crs)
    epsg = crs.to_epsg()
    if series is None or epsg is None:
        return "the same projection without the zone number (false easting 500000)"
    first, _, first_cm, _ = series
    return f"EPSG:{first_cm + epsg - first}"


def _gauss_kruger(crs: CRS, x: np.ndarray) -> str:
    params = _tm_params(crs)
    false_easting = params.get("False easting", 500_000.0)
    data_zone = np.floor(x / 1e6)
    zones = np.unique(data_zone[x >= 1e7])  # zone prefixes are 13–45
    if false_easting >= 1e6:
        zone = int(false_easting // 1e6)
        if len(zones) == 0:
            return (
                f"eastings such as {x[0]:.0f} have no zone prefix, but {crs.name} expects the "
                f"zone number {zone} in front (e.g. {zone}500000); use {_cm_crs(crs)}"
            )
        wrong = zones[zones != zone]
        if len(wrong):
            return (
                f"eastings such as {x[data_zone == wrong[0]][0]:.0f} carry zone prefix "
                f"{int(wrong[0])}, but {crs.name} is zone {zone}; use "
                f"{_prefix_crs(crs, int(wrong[0]))}"
            )
        return ""
    if len(zones) and abs(false_easting - 500_000.0) < 1 and 13 <= zones.min() <= 60:
        zone = int(zones[0])
        return (
            f"eastings such as {x[data_zone == zone][0]:.0f} carry the zone prefix {zone}, but "
            f"{crs.name} has none; use {_prefix_crs(crs, zone)}"
        )
    return ""


def _outside_area(crs: CRS, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    area = crs.area_of_use
    if area is None:
        return np.zeros(len(x), dtype=bool)
    transformer = Transformer.from_crs(crs, 4326, always_xy=True)
    with np.errstate(all="ignore"):
        lon, lat = transformer.transform(x, y, errcheck=False)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    margin = 3.0
    inside = (
        np.isfinite(lon)
        & np.isfinite(lat)
        & (lon >= area.west - margin)
        & (lon <= area.east + margin)
        & (lat >= area.south - margin)
        & (lat <= area.north + margin)
    )
    return ~inside


def crs_mismatch(x: Any, y: Any, crs: Any) -> tuple[str, int] | None:
    """``(reason, first row position)`` when coordinates cannot be in ``crs``, else None.

    ``x``/``y`` are per-row representative coordinates (NaN for rows without geometry).
    """
    if crs is None:
        return None
    crs = CRS.from_user_input(crs)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    rows = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if len(rows) == 0:
        return None
    fx, fy = x[rows], y[rows]
    if crs.is_geographic:
        bad = (np.abs(fx) > 180) | (np.abs(fy) > 90)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            return (
                f"x={fx[i]:.6g}, y={fy[i]:.6g} is not a longitude/latitude ({crs.name} needs "
                "x in [-180, 180] and y in [-90, 90]); the coordinates look projected: declare "
                "their real CRS, e.g. layer.set_crs('EPSG:4547', allow_override=True)",
                int(rows[i]),
            )
        return None
    if not crs.is_projected:
        return None
    degrees = (np.abs(fx) <= 180) & (np.abs(fy) <= 90)
    if degrees.all() and _outside_area(crs, fx, fy).all():
        return (
            f"x={fx[0]:.6g}, y={fy[0]:.6g} look like longitude/latitude degrees, not "
            f"{crs.name} metres; declare 'EPSG:4490' (CGCS2000) or 'EPSG:4326' (WGS 84)",
            int(rows[0]),
        )
    reason = _gauss_kruger(crs, fx) if _tm_params(crs) else ""
    if reason:
        return reason, int(rows[0])
    return None


def guard_layer(gdf: gpd.GeoDataFrame, source: str) -> None:
    """Refuse coordinates that cannot be in the layer's CRS; log rows without geometry."""
    geoms = np.asarray(gdf.geometry.values)
    absent = np.asarray(shapely.is_missing(geoms) | shapely.is_empty(geoms), dtype=bool)
    if absent.any():
        logger.warning(
            "%s: %d row(s) have no geometry (missing or empty): rows %s",
            source,
            int(absent.sum()),
            rows_preview(np.flatnonzero(absent)),
        )
    if gdf.crs is None or absent.all():
        return
    bounds = shapely.bounds(geoms)
    for x, y in ((bounds[:, 0], bounds[:, 1]), (bounds[:, 2], bounds[:, 3])):
        found = crs_mismatch(x, y, gdf.crs)
        if found is not None:
            reason, row = found
            msg = f"{source!r} declares {gdf.crs.name}, but in row {row} {reason}."
            raise CRSError(msg)
