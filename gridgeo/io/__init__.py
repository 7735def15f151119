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

import codecs
import logging
import os
import shutil
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gridgeo._validate import require_geodataframe
from gridgeo.errors import (
    ColumnError,
    CoordinateError,
    CRSError,
    EncodingError,
    InputFileError,
)
from gridgeo.io import _encoding, _reports
from gridgeo.io import _guards as _io_guards
from gridgeo.io import _tables as _io_tables
from gridgeo.io import _times as _io_times
from gridgeo.io._atomic import atomic_fileset, atomic_path, file_lock
from gridgeo.io._flags import parse_flags

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

PathLike = str | os.PathLike[str]

_LAYER_KINDS = {
    ".gpkg": "gpkg",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".geojson": "geojson",
    ".json": "geojson",
    ".shp": "shp",
    ".zip": "zip",
}
_LAYER_FORMATS = (
    "GeoPackage (.gpkg), GeoParquet (.parquet), GeoJSON (.geojson, .json), "
    "ESRI Shapefile (.shp; zipped .zip for reading)"
)
_REPORT_KINDS = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".parquet": "parquet",
    ".geojson": "geojson",
    ".json": "geojson",
}
_REPORT_FORMATS = (
    "CSV (.csv, .txt; UTF-8, UTF-8 with BOM, GBK or Big5), Excel (.xlsx, .xlsm), "
    "Parquet (.parquet), GeoJSON (.geojson, .json), or a pandas DataFrame"
)
_OGR_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
)


# --- layers ------------------------------------------------------------------------------


def _kind(path: Path, kinds: Mapping[str, str], formats: str, what: str) -> str:
    kind = kinds.get(path.suffix.lower())
    if kind is None:
        msg = (
            f"cannot {what} {str(path)!r}: unknown file extension {path.suffix or '(none)'!r}. "
            f"Supported formats: {formats}."
        )
        raise InputFileError(msg)
    return kind


def _require_file(path: Path, formats: str) -> None:
    if not path.is_file():
        where = "is a folder, not a file" if path.is_dir() else "does not exist"
        msg = f"cannot read {str(path)!r}: the file {where}. Supported formats: {formats}."
        raise InputFileError(msg)


def _unreadable(path: PathLike, err: BaseException, formats: str) -> InputFileError:
    msg = (
        f"cannot read {str(path)!r}: {err}. The file may be corrupt or not in the format its "
        f"extension says. Supported formats: {formats}."
    )
    return InputFileError(msg)


def _check_no_layer(layer: str | None, path: Path) -> None:
    if layer is not None:
        msg = (
            f"layer={layer!r} was given for {str(path)!r}, but only GeoPackage files and zip "
            "archives hold several layers; drop layer= for this file."
        )
        raise InputFileError(msg)


def _pick_layer(path: Path, names: list[str], layer: str | None) -> str:
    if layer is None:
        if len(names) == 1:
            return names[0]
        if not names:
            msg = f"{str(path)!r} holds no layers."
            raise InputFileError(msg)
        msg = (
            f"{str(path)!r} holds {len(names)} layers ({', '.join(map(repr, names))}); "
            "choose one with layer=."
        )
        raise InputFileError(msg)
    if layer not in names:
        msg = (
            f"{str(path)!r} has no layer {layer!r}; its layers are "
            f"{', '.join(map(repr, names))}. Pass one of them as layer=."
        )
        raise InputFileError(msg)
    return layer


def _shapefile_encoding(dbf: bytes, cpg: str | None, source: str) -> str:
    """Python codec of a shapefile's attribute table (see the module docstring)."""
    if cpg is not None:
        named = _encoding.cpg_encoding(cpg)
        if named is not None:
            return named
        logger.warning("%s: .cpg names unknown encoding %r; detecting it instead", source, cpg)
    samples, ldid = _encoding.dbf_samples(dbf)
    from_ldid = _encoding.ldid_encoding(ldid, samples)
    if from_ldid is not None:
        return from_ldid
    return _encoding.detect_encoding(
        samples,
        source=f"the attributes of {source!r}",
        how="read_layer(path, encoding='GBK') (or 'utf-8', 'big5'), or a .cpg file naming it",
    )


def _user_codec(encoding: str, source: str) -> str:
    try:
        return _encoding.codec_name(encoding)
    except LookupError as err:
        msg = f"unknown encoding={encoding!r} for {source!r}; use e.g. 'utf-8', 'GBK' or 'GB18030'."
        raise EncodingError(msg) from err


def _zip_member(path: Path, layer: str | None) -> tuple[str, str]:
    """Return the ``/vsizip/`` path of the shapefile inside a zip and its encoding source."""
    try:
        with zipfile.ZipFile(path) as archive:
            shps = [n for n in archive.namelist() if n.lower().endswith(".shp")]
            stems = [Path(n).stem for n in shps]
            chosen = shps[stems.index(_pick_layer(path, stems, layer))]
    except zipfile.BadZipFile as err:
        raise _unreadable(path, err, _LAYER_FORMATS) from err
    return f"/vsizip/{path.resolve().as_posix()}/{chosen}", chosen


def _zip_encoding(path: Path, member: str) -> str:
    base = member[: -len(".shp")]
    with zipfile.ZipFile(path) as archive:
        names = {n.lower(): n for n in archive.namelist()}
        dbf_name = names.get(base.lower() + ".dbf")
        cpg_name = names.get(base.lower() + ".cpg")
        dbf = archive.read(dbf_name) if dbf_name else b""
        cpg = archive.read(cpg_name).decode("ascii", "replace") if cpg_name else None
    return _shapefile_encoding(dbf, cpg, f"{path}!{member}")


def _file_encoding(path: Path) -> str:
    dbf_path = next(
        (p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None
    )
    cpg_path = next(
        (p for p in (path.with_suffix(".cpg"), path.with_suffix(".CPG")) if p.exists()), None
    )
    dbf = dbf_path.read_bytes() if dbf_path else b""
    cpg = cpg_path.read_text(encoding="ascii", errors="replace") if cpg_path else None
    return _shapefile_encoding(dbf, cpg, str(path))


def _read_ogr(source: str, layer: str | None, encoding: str | None, path: Path) -> gpd.GeoDataFrame:
    try:
        return pyogrio.read_dataframe(source, layer=layer, encoding=encoding)
    except UnicodeDecodeError as err:
        msg = (
            f"cannot decode the attributes of {str(path)!r} as {encoding}: {err.reason} at byte "
            f"{err.start}. Pass the right encoding, e.g. read_layer(path, encoding='GBK') or "
            "encoding='utf-8'."
        )
        raise EncodingError(msg) from err
    except (*_OGR_ERRORS, OSError, shapely.errors.GEOSException) as err:
        raise _unreadable(path, err, _LAYER_FORMATS) from err


def read_layer(
    path: PathLike,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read a vector layer from a GeoPackage, GeoParquet, GeoJSON or Shapefile.

    Parameters
    ----------
    path : str or PathLike
        ``.gpkg``, ``.parquet``, ``.geojson``/``.json``, ``.shp``, or a ``.zip`` holding
        a shapefile (in any folder of the archive).
    layer : str, optional
        Layer name in a GeoPackage, or shapefile name (without ``.shp``) in a zip. Required
        when the file holds more than one.
    encoding : str, optional
        Shapefile attribute encoding (``"GBK"``, ``"utf-8"``, ``"big5"``…). By default it is
        taken from the ``.cpg`` file, else from the dBase language id (when that code page
        decodes the text), else detected: valid UTF-8 is UTF-8; otherwise GB18030 (a
        superset of GBK) or Big5, whichever strict reading has more common characters. See
        docs/errors.md.
    crs : str, int or pyproj.CRS, optional
        What the coordinates are, declared once, as in :func:`read_reports`: ``"gcj02"``
        (Amap/Tencent) or ``"bd09"`` (Baidu) lon/lat are converted to real WGS 84 coordinates
        (EPSG:4326); ``"wgs84"``, ``"cgcs2000"`` or any CRS pyproj understands (``4547``)
        replaces whatever CRS the file states. Default: the file's own CRS.

    Returns
    -------
    GeoDataFrame
        With a RangeIndex and the file's CRS. Empty layers are returned empty.

    Raises
    ------
    InputFileError
        Missing or unreadable file, unknown extension, missing or ambiguous ``layer``, a
        shapefile whose ``.shx``/``.dbf`` is missing, cut short or from another copy.
    EncodingError
        Shapefile text that cannot be decoded, or whose encoding is ambiguous (the candidates
        are listed); pass ``encoding=``.
    CRSError
        Coordinates that cannot be in the declared CRS: beyond ±180/±90 under a geographic
        CRS, degrees under a projected one, Gauss-Krüger eastings whose zone prefix does not
        match the EPSG code. The message names the row and the CRS to use.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "posts.shp"
    >>> posts = gpd.GeoDataFrame({"名称": ["东城驿站"]}, geometry=[Point(114.4, 23.1)], crs=4490)
    >>> _ = write_layer(posts, path, encoding="GBK")
    >>> back = read_layer(path)
    >>> back.loc[0, "名称"], back.crs.to_epsg()
    ('东城驿站', 4490)
    """
    path = Path(path)
    kind = _kind(path, _LAYER_KINDS, _LAYER_FORMATS, "read")
    _require_file(path, _LAYER_FORMATS)
    codec = _user_codec(encoding, str(path)) if encoding is not None else None
    if codec is not None and kind not in {"shp", "zip"} and codec != "utf-8":
        msg = (
            f"encoding={encoding!r} applies to Shapefiles only; {path.suffix} files are "
            "always UTF-8. Drop encoding=."
        )
        raise InputFileError(msg)
    gdf = _read_layer_kind(path, kind, layer, codec)
    if crs is not None:
        gdf = _declared(gdf, crs, path)
    _io_guards.guard_layer(gdf, str(path))
    return gdf


def _declared(gdf: gpd.GeoDataFrame, crs: Any, path: Path) -> gpd.GeoDataFrame:
    """The layer read from ``path`` in the coordinate system the caller declared."""
    from gridgeo.crs import from_declared

    try:
        return from_declared(gdf, crs)
    except (CRSError, CoordinateError) as err:
        msg = f"{str(path)!r} read with crs={crs!r}: {err}"
        raise type(err)(msg) from err


def _read_layer_kind(
    path: Path, kind: str, layer: str | None, codec: str | None
) -> gpd.GeoDataFrame:
    if kind == "parquet":
        _check_no_layer(layer, path)
        try:
            return gpd.read_parquet(path)
        except ValueError as err:
            if "geo" in str(err).lower() and "metadata" in str(err).lower():
                msg = (
                    f"{str(path)!r} is a Parquet table without GeoParquet geometry metadata; "
                    "read lon/lat tables with gridgeo.io.read_reports(path, lon=..., lat=...)."
                )
                raise InputFileError(msg) from err
            raise _unreadable(path, err, _LAYER_FORMATS) from err
        except (OSError, shapely.errors.GEOSException) as err:
            raise _unreadable(path, err, _LAYER_FORMATS) from err
    if kind == "zip":
        source, member = _zip_member(path, layer)
        _io_guards.check_zip_parts(path, member)
        return _read_ogr(source, None, codec or _zip_encoding(path, member), path)
    if kind == "shp":
        _check_no_layer(layer, path)
        _io_guards.check_file_parts(path)
        return _read_ogr(str(path), None, codec or _file_encoding(path), path)
    if kind == "gpkg":
        try:
            names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        except (pyogrio.errors.DataSourceError, OSError) as err:
            raise _unreadable(path, err, _LAYER_FORMATS) from err
        return _read_ogr(str(path), _pick_layer(path, names, layer), None, path)
    _check_no_layer(layer, path)
    return _read_ogr(str(path), None, None, path)


def _frame_for_writing(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Named index levels become columns (unless already there); unnamed ones are dropped."""
    names = [n for n in gdf.index.names if n is not None]
    if names and len(names) == gdf.index.nlevels and not set(names) & set(gdf.columns):
        return gdf.reset_index()
    return gdf.reset_index(drop=True)


def _write_codec(encoding: str | None, source: str) -> str:
    """Exact Python codec for writing (``GBK`` stays GBK, unlike the reading superset)."""
    if encoding is None:
        return "utf-8"
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return _user_codec(encoding, source)


def _write_ogr(frame: gpd.GeoDataFrame, tmp: Path, **options: Any) -> None:
    pyogrio.write_dataframe(frame, tmp, **options)


def write_layer(
    gdf: gpd.GeoDataFrame,
    path: PathLike,
    *,
    layer: str | None = None,
    encoding: str | None = None,
) -> Path:
    """Write a layer to a GeoPackage, GeoParquet, GeoJSON or Shapefile, atomically.

    The data is written to a temporary file (a temporary folder for a shapefile and its
    sidecars) in the target's folder and renamed into place, so a failed write leaves no
    partial file and the previous file untouched. Writing a layer into an existing GeoPackage
    keeps its other layers and replaces the layer of the same name.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer. A named index is written as a column; an unnamed one is dropped.
    path : str or PathLike
        ``.gpkg``, ``.parquet``, ``.geojson``/``.json`` or ``.shp``. The folder must exist.
    layer : str, optional
        GeoPackage layer name; defaults to the file name without extension.
    encoding : str, optional
        Shapefile attribute encoding, e.g. ``"GBK"`` for older Chinese GIS software; a
        ``.cpg`` file naming it is written. Default UTF-8. Other formats are always UTF-8.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputFileError
        Unknown extension, missing folder, target is a folder, no permission, disk full, or
        the writer failed (the message names the target and says why).
    ColumnError
        A Shapefile field name over 10 bytes or a text value over 254 bytes.
    EncodingError
        Text that cannot be represented in ``encoding``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pts = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[Point(0, 1), Point(2, 3)], crs=4326)
    >>> write_layer(pts, folder / "city.gpkg", layer="posts").name
    'city.gpkg'
    >>> read_layer(folder / "city.gpkg", layer="posts")["n"].tolist()
    [1, 2]
    """
    require_geodataframe(gdf, "gdf")
    target = Path(path)
    kind = _kind(target, _LAYER_KINDS, _LAYER_FORMATS, "write")
    if kind == "zip":
        msg = f"cannot write {str(target)!r}: write the shapefile as .shp, then zip it."
        raise InputFileError(msg)
    if not target.parent.is_dir():
        msg = f"cannot write {str(target)!r}: folder {str(target.parent)!r} does not exist."
        raise InputFileError(msg)
    if target.is_dir():
        msg = f"cannot write {str(target)!r}: it is a folder; give a file name inside it."
        raise InputFileError(msg)
    codec = _write_codec(encoding, str(target)) if encoding is not None else None
    if kind != "shp" and codec not in (None, "utf-8"):
        msg = f"encoding={encoding!r} applies to Shapefiles only; {target.suffix} is UTF-8."
        raise InputFileError(msg)
    if kind != "gpkg":
        _check_no_layer(layer, target)
    frame = _frame_for_writing(gdf)
    if kind != "parquet":
        _encoding.check_storable(frame, target)
    try:
        if kind == "shp":
            _encoding.check_shapefile_fields(frame, codec or "utf-8", target)
            with atomic_fileset(target) as tmp:
                _write_ogr(frame, tmp, driver="ESRI Shapefile", encoding=encoding or "UTF-8")
        elif kind == "parquet":
            with atomic_path(target) as tmp:
                frame.to_parquet(tmp, index=False)
        elif kind == "gpkg":
            # the lock keeps a second process from replacing the file with a copy taken
            # before our layer was added (a lost layer)
            with file_lock(target), atomic_path(target) as tmp:
                if target.exists():
                    shutil.copyfile(target, tmp)
                _write_ogr(frame, tmp, driver="GPKG", layer=layer or target.stem)
        else:
            with atomic_path(target) as tmp:
                # the layer name is the GeoJSON "name" member; default would be the temp name
                _write_ogr(frame, tmp, driver="GeoJSON", layer=target.stem)
    except _OGR_ERRORS as err:
        msg = f"could not write {str(target)!r}: {err}. Nothing was written."
        raise InputFileError(msg) from err
    except (ValueError, TypeError) as err:
        if isinstance(err, ColumnError | EncodingError):
            raise
        msg = (
            f"could not write {str(target)!r}: {err}. Nothing was written; check the column "
            "types (lists, dicts and mixed types cannot be stored)."
        )
        raise InputFileError(msg) from err
    return target


# --- reports -----------------------------------------------------------------------------


def _decode_csv(raw: bytes, encoding: str | None, path: Path) -> str:
    if encoding is not None:
        codec = _user_codec(encoding, str(path))
        if codec == "utf-8" and raw.startswith(b"\xef\xbb\xbf"):
            codec = "utf-8-sig"
        try:
            return raw.decode(codec)
        except UnicodeDecodeError as err:
            msg = (
                f"cannot decode {str(path)!r} as {encoding}: {err.reason} at byte {err.start}. "
                "Try encoding='GBK' (Excel in China saves CSV as GBK) or encoding='utf-8', "
                "or leave encoding=None to detect it."
            )
            raise EncodingError(msg) from err
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    chosen = _encoding.detect_encoding(
        [raw],
        complete=True,
        source=repr(str(path)),
        how="read_reports(path, encoding='GBK') (or 'utf-8', 'big5')",
    )
    return raw.decode(chosen)


def _read_table(
    path: Path, encoding: str | None, text_columns: list[str]
) -> tuple[pd.DataFrame, gpd.GeoSeries | None]:
    """Read a report file; GeoJSON and GeoParquet also return their geometry."""
    kind = _kind(path, _REPORT_KINDS, _REPORT_FORMATS, "read")
    _require_file(path, _REPORT_FORMATS)
    try:
        if kind == "csv":
            raw = path.read_bytes()
            text = _decode_csv(raw, encoding, path)
            data = raw.removeprefix(b"\xef\xbb\xbf")
            if len(data) != len(text):  # not plain ASCII: give pandas UTF-8 bytes
                data = text.encode("utf-8")
            return _io_tables.read_csv_keep_codes(text, text_columns, data=data), None
        if kind == "excel":
            return _io_tables.read_excel_keep_codes(path), None
        if kind == "parquet":
            import pyarrow.parquet as pq

            if b"geo" in (pq.read_schema(path).metadata or {}):
                gdf = gpd.read_parquet(path)
                return pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), gdf.geometry
            return pd.read_parquet(path), None
        gdf = read_layer(path)
        return pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), gdf.geometry
    except (InputFileError, ColumnError):
        raise
    except (ValueError, OSError, KeyError, zipfile.BadZipFile) as err:
        raise _unreadable(path, err, _REPORT_FORMATS) from err


def _summarise(status: np.ndarray, source: str) -> None:
    counts = pd.Series(status).value_counts()
    flagged = int(len(status) - counts.get(_reports.OK, 0))
    if flagged:
        detail = ", ".join(
            f"{int(counts[s])} {s}" for s in (_reports.MISSING, _reports.INVALID) if s in counts
        )
        logger.warning(
            "%s: %d of %d rows flagged (%s); see coord_status/coord_issue",
            source,
            flagged,
            len(status),
            detail,
        )


def read_reports(
    path_or_df: PathLike | pd.DataFrame,
    *,
    lon: str = "lng",
    lat: str = "lat",
    crs: Any = "wgs84",
    time: str | Sequence[str] | None = None,
    id: str | None = None,
    encoding: str | None = None,
    errors: str = "flag",
    tz: str | None = "Asia/Shanghai",
) -> gpd.GeoDataFrame:
    """Read geotagged reports into a point GeoDataFrame, checking every row's coordinates.

    Every original row and column is kept, in order. Three columns are added:
    ``coord_status`` (``"ok"``, ``"missing_coords"``, ``"invalid_coords"``), ``coord_issue``
    (a short message such as ``"row 17: lat=123.4 out of range [-90, 90]"``, empty when ok)
    and ``geometry`` (a Point for ok rows, None otherwise). Rows are counted from 0 as in the
    returned frame (row 0 is line 2 of a CSV with a header).

    Parameters
    ----------
    path_or_df : str, PathLike or DataFrame
        CSV (UTF-8, UTF-8 with BOM, GBK or Big5, detected), Excel ``.xlsx`` (first sheet), Parquet
        or GeoParquet, GeoJSON, or a DataFrame/GeoDataFrame (not modified). For GeoJSON,
        GeoParquet and GeoDataFrames the point geometry supplies the coordinates and ``lon``
        and ``lat`` are ignored.
    lon, lat : str
        Columns holding longitude and latitude (or x and y for a projected ``crs``).
    crs : str, int or pyproj.CRS
        What the coordinates are: ``"wgs84"``, ``"gcj02"`` (Amap/Tencent), ``"bd09"`` (Baidu),
        ``"cgcs2000"``, or any CRS pyproj understands (e.g. ``4547`` for CGCS2000
        Gauss-Krüger x/y). GCJ-02 and BD-09 are converted to WGS 84. The result is in
        EPSG:4326 (wgs84/gcj02/bd09), EPSG:4490 (cgcs2000) or the given CRS. For geometry
        inputs with a CRS, the default ``"wgs84"`` means "use the file's CRS".
    time : str or list of str, optional
        Column(s) to parse to naive local datetimes with :func:`parse_times`
        (``"2026/3/5 8:07"``, ``"2026-03-05 08:07:00"``, ``"2026年3月5日 8时7分"``, ISO 8601
        with ``+08:00`` or ``Z``, Excel serial days, Unix seconds/milliseconds, mixed in one
        column). Unreadable values are never silently NaT: see ``errors``.
    id : str, optional
        Column of unique report ids; it becomes the (unnamed) index and stays a column.
        Without it the result has a RangeIndex.
    encoding : str, optional
        Force the CSV encoding (e.g. ``"GBK"``) instead of detecting it. Columns whose values
        look like codes (leading zeros as in ``001``, or 16+ digits) stay text in CSV and Excel.
    errors : {"flag", "raise"}
        ``"flag"`` marks bad rows in ``coord_status``/``coord_issue`` (unparseable times become
        NaT with a note in ``coord_issue`` and a logged warning); ``"raise"`` raises on the
        first bad rows.
    tz : str or None
        Local time zone (default ``"Asia/Shanghai"``): times with an offset or ``Z`` and Unix
        epochs are converted to it, then stored without zone. None keeps wall times as
        written and epochs in UTC.

    Returns
    -------
    GeoDataFrame
        The rows and columns of the input plus ``coord_status``, ``coord_issue`` and
        ``geometry``. A one-line warning is logged when rows are flagged.

    Raises
    ------
    InputFileError
        Missing file, unknown extension, unreadable file.
    EncodingError
        A CSV whose encoding cannot be told (the candidates are listed); pass ``encoding=``.
    CRSError
        x/y columns that cannot be in a projected ``crs`` (degrees, a Gauss-Krüger zone prefix
        that does not match); the message names the row and the CRS to use.
    ColumnError
        ``lon``/``lat``/``time``/``id`` column missing (available columns and likely
        candidates are listed), missing ids, or unparseable times with ``errors="raise"``.
    CoordinateError
        Most rows have lon and lat swapped (pass ``lon=`` and ``lat=`` the other way round),
        or any bad coordinate with ``errors="raise"``.
    DuplicateIdError
        Repeated values in the ``id`` column.
    CRSError
        ``crs`` is not understood.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"lng": [114.41, None, 23.1], "lat": [23.11, 23.12, 114.4]})
    >>> reports = read_reports(table, crs="wgs84")
    >>> reports["coord_status"].tolist()
    ['ok', 'missing_coords', 'invalid_coords']
    >>> print(reports.loc[2, "coord_issue"])  # doctest: +NORMALIZE_WHITESPACE
    row 2: lat=114.4 out of range [-90, 90]; lng=23.1, lat=114.4 look swapped
    (lng and lat the wrong way round)
    >>> reports.crs.to_epsg()
    4326
    """
    if errors not in ("flag", "raise"):
        msg = f"errors={errors!r} is not allowed; use 'flag' (mark bad rows) or 'raise'."
        raise ValueError(msg)
    tz = _io_times.check_tz(tz)
    times = [time] if isinstance(time, str) else list(time or [])
    table, geometry, source = _load_reports(path_or_df, encoding, [*times, *([id] if id else [])])
    if geometry is None:
        _reports.require_coordinate_columns(table, lon, lat, source)
    for arg, column in [*(("time", t) for t in times), ("id", id)]:
        if column is not None and column not in table.columns:
            shown = ", ".join(map(repr, map(str, table.columns[:30])))
            msg = f"{arg}={column!r} is not a column of {source}. Available columns: {shown}."
            raise ColumnError(msg)
    out_crs, convert_from = _reports.resolve_crs(
        crs, geometry.crs if geometry is not None else None
    )
    ids = None
    if id is not None:
        ids = table[id]
        _reports.check_ids(ids, id, source)

    out = table.reset_index(drop=True)
    labels = _reports.row_labels(len(out), ids)
    checked, names = _reports.check_rows(out, geometry, lon, lat, out_crs, labels)
    if out_crs.is_projected and not checked.column_swap:
        with np.errstate(invalid="ignore"):
            usable = np.isfinite(checked.x) & np.isfinite(checked.y)
            usable &= (checked.x != 0) | (checked.y != 0)
        found = _io_guards.crs_mismatch(
            np.where(usable, checked.x, np.nan), np.where(usable, checked.y, np.nan), out_crs
        )
        if found is not None:
            reason, row = found
            msg = (
                f"the coordinates in {names[0]!r}/{names[1]!r} of {source} cannot be in "
                f"crs={crs!r} ({out_crs.name}): {labels[row]}: {reason}. Pass the right crs=."
            )
            raise CRSError(msg)
    _reports.raise_for_bad_rows(checked, names, source, errors, from_geometry=geometry is not None)
    notes = np.full(len(out), "", dtype=object)
    for column in times:
        more = _reports.parse_time_column(out, column, errors, labels, source, tz)
        notes = _reports.join_notes(notes, more)
    result = _reports.assemble(out, checked, notes, out_crs, convert_from, source)
    if ids is not None:
        result.index = pd.Index(ids.to_numpy())
    _summarise(checked.status, source)
    return result


def _load_reports(
    path_or_df: Any, encoding: str | None, text_columns: list[str]
) -> tuple[pd.DataFrame, gpd.GeoSeries | None, str]:
    """Return the attribute table, the geometry (geometry inputs only) and a source name."""
    if isinstance(path_or_df, pd.DataFrame):
        source = "the reports table"
        if isinstance(path_or_df, gpd.GeoDataFrame) and (
            path_or_df._geometry_column_name in path_or_df.columns
        ):
            geometry = path_or_df.geometry
            return pd.DataFrame(path_or_df.drop(columns=geometry.name)), geometry, source
        return pd.DataFrame(path_or_df).copy(), None, source
    if isinstance(path_or_df, str | os.PathLike):
        path = Path(path_or_df)
        source = repr(str(path))
        if encoding is not None and path.suffix.lower() not in {".csv", ".txt"}:
            msg = f"encoding={encoding!r} applies to CSV files only; drop it for {source}."
            raise InputFileError(msg)
        table, geometry = _read_table(path, encoding, text_columns)
        return table, geometry, source
    msg = (
        f"path_or_df must be a file path or a pandas DataFrame, got "
        f"{type(path_or_df).__name__}. Supported: {_REPORT_FORMATS}."
    )
    raise TypeError(msg)


# --- times -------------------------------------------------------------------------------

ParsedTimes = _io_times.ParsedTimes


def parse_times(
    values: pd.Series | Sequence[Any],
    *,
    tz: str | None = "Asia/Shanghai",
    errors: str = "raise",
    name: str | None = None,
) -> ParsedTimes:
    """Parse a column of dates/times as found in case exports, naming every unreadable value.

    Accepts, mixed in one column: datetimes; ISO 8601 with or without an offset or ``Z``
    (``2026-03-02T08:05:00+08:00``); Chinese formats (``2026年3月2日 8时5分``,
    ``2026/3/2 8:05``, ``2026.03.02``, ``20260302 080500``, ``20260302080500``); Excel serial
    days (46083.34 is 2026-03-02 08:09:36); Unix epochs in seconds or milliseconds (years
    2000–2099). Zoned values and epochs are converted to ``tz`` and stored without a zone;
    other values are taken as local wall time. Missing values (empty, ``N/A``, ``无`` …) are NaT
    and are not errors. Every other value that is not a date/time is named by row.

    Parameters
    ----------
    values : Series or sequence
        One column. Its index is kept.
    tz : str or None
        The local time zone (IANA name). None keeps wall times and leaves epochs in UTC.
    errors : {"raise", "report"}
        ``"raise"`` raises when any value is unreadable; ``"report"`` returns them as NaT
        and lists them in ``issues``.
    name : str, optional
        Column name for messages; default the Series' name.

    Returns
    -------
    ParsedTimes
        ``times`` (naive ``datetime64[ns]``), ``unreadable`` (bool Series) and ``issues``
        (``"row 3: t='昨天'"`` per unreadable value).

    Raises
    ------
    ColumnError
        With ``errors="raise"``, values that are not dates/times (count, rows and values).
    ValueError
        Unknown ``tz`` or ``errors``.
    TypeError
        ``values`` is not one column.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.Series(["2026-03-02T00:05:00Z", "2026年3月2日 8时5分", 46083.5, "昨天"], name="t")
    >>> parsed = parse_times(t, errors="report")
    >>> [str(v) for v in parsed.times]
    ['2026-03-02 08:05:00', '2026-03-02 08:05:00', '2026-03-02 12:00:00', 'NaT']
    >>> parsed.issues
    ("row 3: t='昨天'",)
    """
    return _io_times.parse_times_public(values, tz=tz, errors=errors, name=name)


# --- PostGIS -----------------------------------------------------------------------------


def read_postgis(
    sql: str,
    con: Any,
    *,
    geom_col: str = "geom",
    params: Mapping[str, Any] | None = None,
) -> gpd.GeoDataFrame:
    """Run a parameterised SQL query against PostGIS and return a GeoDataFrame.

    Values are never formatted into the SQL text: write ``:name`` placeholders and pass
    ``params={"name": value}``; they are sent as SQLAlchemy ``text()`` bound parameters.
    SQL containing quoted literals, ``%s``/``{}`` format markers or several statements is
    refused. Needs the optional dependencies: ``pip install 'gridgeo[postgis]'``.

    Parameters
    ----------
    sql : str
        One SELECT statement with ``:name`` placeholders.
    con : sqlalchemy Engine or Connection, or str
        The database connection, or a URL such as ``"postgresql+psycopg://user@host/db"``.
    geom_col : str
        Geometry column of the result (WKB/EWKB; its SRID gives the CRS).
    params : mapping, optional
        Values for every placeholder, and nothing else.

    Returns
    -------
    GeoDataFrame

    Raises
    ------
    ValueError
        Literal values or format markers in ``sql``, or placeholders and ``params`` that do not
        match.
    OptionalDependencyError
        SQLAlchemy is not installed.
    ColumnError
        ``geom_col`` is not in the result.
    InputFileError
        The database refused the query (its message is included).

    Examples
    --------
    >>> read_postgis("SELECT * FROM reports WHERE kind = 'event'", None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: sql contains a quoted literal; values must be passed as bound parameters, ...
    """
    from gridgeo.io import _postgis

    return _postgis.read_query(sql, con, geom_col=geom_col, params=params)


# --- large files in chunks (gridgeo.io._chunks) ------------------------------------------


def iter_reports(
    path: PathLike,
    *,
    chunksize: int,
    lon: str = "lng",
    lat: str = "lat",
    crs: Any = "wgs84",
    time: str | None = None,
    id: str | None = None,
    encoding: str | None = None,
    errors: str = "flag",
    dtype: Mapping[str, Any] | None = None,
) -> Iterator[gpd.GeoDataFrame]:
    """Read a large CSV or Parquet report export in chunks of ``chunksize`` rows.

    Each chunk is what :func:`read_reports` returns for those rows, with the index and row
    numbers of one pass over the whole file: the index continues from chunk to chunk (or is
    the ``id`` column) and ``row N`` in ``coord_issue`` counts from the file's first row. So
    ``pd.concat(iter_reports(path, chunksize=k))`` has the statuses, issues, geometry and
    index of ``read_reports(path)``. Only one chunk is in memory at a time: with
    :func:`gridgeo.assignment.assign_chunks` and :func:`gridgeo.hotspots.count_chunks`,
    10 million reports run in a bounded memory budget (``docs/large-files.md``).

    Differences from one pass: column types are inferred per chunk (a column that is whole
    numbers in one chunk and text in another comes back int64 there and text here; pin them
    with ``dtype=``, e.g. ``{"category_code": str}``); ``id`` values are checked for
    uniqueness within each chunk; the column-swap check and the rule that decides which
    rows "look swapped" (the China box or ``|lat| > 90``) are applied per chunk, which
    matters only for files that mix Chinese and foreign points.

    Parameters
    ----------
    path : str or PathLike
        ``.csv``/``.txt`` (UTF-8, UTF-8 with BOM, GBK/GB18030; detected on the first 4 MiB
        unless ``encoding`` is given) or a plain ``.parquet`` table.
    chunksize : int
        Rows per chunk. 200,000–1,000,000 suits most machines: a 500,000-row chunk of a
        typical export takes about 0.65 GB while it is assigned (``docs/large-files.md``).
    lon, lat, crs, time, id, errors
        As for :func:`read_reports`.
    encoding : str, optional
        Force the CSV encoding instead of detecting it.
    dtype : mapping, optional
        Column types passed to the reader (``time`` and ``id`` are read as text).

    Returns
    -------
    iterator of GeoDataFrame
        Lazily read chunks; the file is opened when iteration starts.

    Raises
    ------
    TypeError, ValueError
        ``chunksize`` is not a positive whole number.
    InputFileError
        Missing file, unsupported extension, or an unreadable chunk (named by its rows).
    EncodingError
        A CSV that is not UTF-8 or GBK, or a later chunk that does not decode.
    ColumnError, CoordinateError, DuplicateIdError, CRSError
        As for :func:`read_reports`, naming the chunk and its rows.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "reports.csv"
    >>> _ = path.write_text("lng,lat\\n114.41,23.11\\n,23.1\\n114.42,23.12\\n")
    >>> chunks = list(iter_reports(path, chunksize=2))
    >>> [list(c.index) for c in chunks], chunks[0].loc[1, "coord_issue"]
    ([[0, 1], [2]], 'row 1: lng is missing')
    """
    from gridgeo.io import _chunks

    return _chunks.iter_reports(
        path,
        chunksize=chunksize,
        lon=lon,
        lat=lat,
        crs=crs,
        time=time,
        id=id,
        encoding=encoding,
        errors=errors,
        dtype=dtype,
        read=read_reports,
    )


# --- PostGIS tables (gridgeo.io._postgis) -------------------------------------------------


def read_postgis_layer(
    table: str,
    con: Any,
    *,
    schema: str = "public",
    geom_col: str | None = None,
    order_by: str | Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read a PostGIS table as a GeoDataFrame (cells, grids, communities...).

    The schema, table and column names are checked (plain names only) and quoted; catalogue
    look-ups use bound parameters. The CRS comes from the geometry column's SRID. Needs
    ``pip install 'gridgeo[postgis]'``; see ``docs/postgis.md``.

    Parameters
    ----------
    table : str
        Table (or view) name: letters, digits and ``_``, not starting with a digit.
    con : sqlalchemy Engine or Connection, or str
        The database, or its URL (``"postgresql+psycopg://user@host:5432/dbname"``).
    schema : str
        Schema of the table.
    geom_col : str, optional
        Geometry column to read; required when the table has several. Other geometry
        columns are not read.
    order_by : str or list of str, optional
        Columns to sort the rows by; by default the order the server returns.

    Returns
    -------
    GeoDataFrame
        With a RangeIndex and the SRID's CRS.

    Raises
    ------
    InputFileError
        Unsafe name, missing schema or table, no PostGIS, connection or query failure.
    ColumnError
        No (or an ambiguous, or an unknown) geometry column; unknown ``order_by`` column.
    OptionalDependencyError
        SQLAlchemy/psycopg are not installed.
    TypeError
        ``con`` is not an Engine, Connection or URL.

    Examples
    --------
    >>> read_postgis_layer("cells; DROP TABLE grids; --", "postgresql+psycopg://h/db")
    Traceback (most recent call last):
    ...
    gridgeo.errors.InputFileError: table='cells; DROP TABLE grids; --' is not a plain ...
    """
    from gridgeo.io import _postgis

    return _postgis.read_table(
        table, con, schema=schema, geom_col=geom_col, order_by=order_by, geometry=True
    )


def read_postgis_reports(
    table: str,
    con: Any,
    *,
    schema: str = "public",
    lon: str = "lng",
    lat: str = "lat",
    crs: Any = "wgs84",
    time: str | None = None,
    id: str | None = None,
    errors: str = "flag",
    geom_col: str | None = None,
    order_by: str | Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read reports from a PostgreSQL/PostGIS table, checked like :func:`read_reports`.

    The result is what :func:`read_reports` returns for a CSV export of the same rows:
    the same columns plus ``coord_status``, ``coord_issue`` and point ``geometry``, the same
    statuses and messages, ready for :func:`gridgeo.assign`. Values of the ``id`` column
    become text, as they are when read from a CSV.

    Parameters
    ----------
    table : str
        Table (or view) name: letters, digits and ``_``, not starting with a digit.
    con : sqlalchemy Engine or Connection, or str
        The database, or its URL (``"postgresql+psycopg://user@host:5432/dbname"``).
    schema : str
        Schema of the table.
    lon, lat, crs, time, id, errors
        As for :func:`read_reports`. ``lon``/``lat`` are ignored with ``geom_col``.
    geom_col : str, optional
        Read the points from this PostGIS geometry column (its SRID gives the CRS) instead
        of ``lon``/``lat`` columns. Without it, geometry columns are not read.
    order_by : str or list of str, optional
        Columns to sort the rows by (row numbers in ``coord_issue`` follow this order);
        by default the order the server returns.

    Returns
    -------
    GeoDataFrame
        As :func:`read_reports`.

    Raises
    ------
    InputFileError
        Unsafe name, missing schema or table, connection or query failure.
    ColumnError, CoordinateError, DuplicateIdError, CRSError
        As for :func:`read_reports`.
    OptionalDependencyError
        SQLAlchemy/psycopg are not installed.

    Examples
    --------
    >>> read_postgis_reports("reports", "postgresql+psycopg://h/db", schema='x"; --')
    Traceback (most recent call last):
    ...
    gridgeo.errors.InputFileError: schema='x"; --' is not a plain PostgreSQL name. ...
    """
    from gridgeo.io import _postgis

    _postgis.check_name(table, "table")
    _postgis.check_name(schema, "schema")
    frame = _postgis.read_table(
        table,
        con,
        schema=schema,
        geom_col=geom_col,
        order_by=order_by,
        geometry=geom_col is not None,
    )
    if id is not None and id in frame.columns:
        frame[id] = frame[id].astype("str")  # as read_reports reads a CSV's id column
    return read_reports(frame, lon=lon, lat=lat, crs=crs, time=time, id=id, errors=errors)


def iter_postgis_reports(
    table: str,
    con: Any,
    *,
    chunksize: int,
    schema: str = "public",
    lon: str = "lng",
    lat: str = "lat",
    crs: Any = "wgs84",
    time: str | None = None,
    id: str | None = None,
    errors: str = "flag",
    geom_col: str | None = None,
    order_by: str | Sequence[str] | None = None,
) -> Iterator[gpd.GeoDataFrame]:
    """Read reports from a PostgreSQL/PostGIS table in chunks, through a server-side cursor.

    :func:`read_postgis_reports` for tables too large for memory, as :func:`iter_reports`
    is for files: each chunk is checked by :func:`read_reports`, the index continues from
    chunk to chunk (or is the ``id`` column) and ``row N`` in ``coord_issue`` counts from
    the first row of the table; the same per-chunk caveats apply. Feed the chunks to
    :func:`gridgeo.assignment.assign_chunks`. The connection stays open until the iterator is
    exhausted or closed.

    Parameters
    ----------
    table, con, schema, lon, lat, crs, time, id, errors, geom_col
        As for :func:`read_postgis_reports`.
    chunksize : int
        Rows per chunk (rows fetched from the server at a time).
    order_by : str or list of str, optional
        Columns to sort the rows by; pass one (e.g. the id) so that runs are repeatable.

    Returns
    -------
    iterator of GeoDataFrame
        Names and ``chunksize`` are checked at once; the table when iteration starts.

    Raises
    ------
    InputFileError, ColumnError, CoordinateError, DuplicateIdError, CRSError
        As for :func:`read_postgis_reports`; errors of a chunk name its rows.
    OptionalDependencyError
        SQLAlchemy/psycopg are not installed.
    TypeError, ValueError
        ``chunksize`` is not a positive whole number.

    Examples
    --------
    >>> iter_postgis_reports("reports", "postgresql+psycopg://h/db", chunksize=0)
    Traceback (most recent call last):
    ...
    ValueError: chunksize must be at least 1 row, got 0.
    """
    from gridgeo.io import _chunks, _postgis

    size = _chunks.check_chunksize(chunksize)
    frames = _postgis.iter_table(
        table, con, schema=schema, geom_col=geom_col, order_by=order_by, chunksize=size
    )
    if id is not None:
        frames = (f.assign(**{id: f[id].astype("str")}) if id in f else f for f in frames)
    options = {"lon": lon, "lat": lat, "crs": crs, "time": time, "id": id, "errors": errors}
    return _chunks.checked_chunks(frames, f"table {schema}.{table}", options, read_reports)


def write_postgis(
    gdf: gpd.GeoDataFrame,
    table: str,
    con: Any,
    *,
    schema: str = "public",
    if_exists: str = "fail",
) -> str:
    """Write a layer (cells, grids, assigned reports...) to a PostGIS table, in one transaction.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer, with a CRS that has an EPSG code (it becomes the SRID). A named index is
        written as a column; an unnamed one is dropped. Categorical columns are written as
        their values.
    table : str
        Table name: letters, digits and ``_``, not starting with a digit.
    con : sqlalchemy Engine or Connection, or str
        The database, or its URL. With a Connection that is inside a transaction the write
        is a savepoint of it (the caller commits); otherwise it is committed here.
    schema : str
        An existing schema.
    if_exists : {"fail", "replace", "append"}
        When the table exists: refuse (nothing written), drop and recreate it, or add rows
        (the columns and SRID must match).

    Returns
    -------
    str
        ``"schema.table"``.

    Raises
    ------
    InputFileError
        Unsafe name, missing schema, existing table with ``if_exists="fail"``, or the
        database refused the write (nothing written).
    CRSError
        No CRS, a CRS without EPSG code, or an SRID that differs from the table's on append.
    ColumnError
        Column names that are not text or longer than 63 bytes.
    ValueError
        Unknown ``if_exists``.
    OptionalDependencyError
        SQLAlchemy, psycopg or GeoAlchemy2 are not installed.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> pts = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=4326)
    >>> write_postgis(pts, "posts", "postgresql+psycopg://h/db", if_exists="merge")
    Traceback (most recent call last):
    ...
    ValueError: if_exists='merge' is not allowed; use 'fail', 'replace' or 'append'.
    """
    from gridgeo.io import _postgis

    layers = [(gdf, table, "gdf", "table")]
    _postgis.write_tables(layers, con, schema=schema, if_exists=if_exists)
    return f"{schema}.{table}"


def write_plan_postgis(
    plan: Any,
    con: Any,
    *,
    schema: str = "public",
    cells_table: str = "cells",
    grids_table: str = "grids",
    if_exists: str = "fail",
) -> tuple[str, str]:
    """Write a grid plan's cells and grids to two PostGIS tables, all or nothing.

    Both tables are written in one transaction: if either write fails, neither table is
    created or changed. Read them back with :func:`read_postgis_layer`.

    Parameters
    ----------
    plan : GridPlan
        A :func:`gridgeo.grids.build` result (anything with ``.cells`` and ``.grids``
        GeoDataFrames).
    con : sqlalchemy Engine or Connection, or str
        The database, or its URL (see :func:`write_postgis` for transactions).
    schema : str
        An existing schema.
    cells_table, grids_table : str
        Table names.
    if_exists : {"fail", "replace", "append"}
        As for :func:`write_postgis`; with ``"fail"`` nothing is written if either exists.

    Returns
    -------
    tuple of str
        ``("schema.cells_table", "schema.grids_table")``.

    Raises
    ------
    TypeError
        ``plan`` has no ``cells``/``grids`` GeoDataFrames.
    InputFileError, CRSError, ColumnError, ValueError, OptionalDependencyError
        As for :func:`write_postgis`.

    Examples
    --------
    >>> write_plan_postgis(object(), "postgresql+psycopg://h/db")
    Traceback (most recent call last):
    ...
    TypeError: plan must be a grid plan with .cells and .grids GeoDataFrames, got object.
    """
    from gridgeo.io import _postgis

    cells, grids = getattr(plan, "cells", None), getattr(plan, "grids", None)
    if not isinstance(cells, gpd.GeoDataFrame) or not isinstance(grids, gpd.GeoDataFrame):
        msg = (
            "plan must be a grid plan with .cells and .grids GeoDataFrames, got "
            f"{type(plan).__name__}."
        )
        raise TypeError(msg)
    layers = [
        (cells, cells_table, "plan.cells", "cells_table"),
        (grids, grids_table, "plan.grids", "grids_table"),
    ]
    _postgis.write_tables(layers, con, schema=schema, if_exists=if_exists)
    return f"{schema}.{cells_table}", f"{schema}.{grids_table}"
