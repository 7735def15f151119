"""Reports: :func:`read_reports`, :func:`iter_reports` and :func:`parse_times`.

The public face is :mod:`gridgeo.io`. Coordinate checks and time parsing are in
:mod:`gridgeo.io._reports` and :mod:`gridgeo.io._times`, chunked reading in
:mod:`gridgeo.io._chunks`.
"""

from __future__ import annotations

import logging
import os
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gridgeo.errors import ColumnError, CRSError, EncodingError, InputFileError
from gridgeo.io import _encoding, _reports
from gridgeo.io import _guards as _io_guards
from gridgeo.io import _tables as _io_tables
from gridgeo.io import _times as _io_times
from gridgeo.io._layers import (
    PathLike,
    _kind,
    _require_file,
    _unreadable,
    _user_codec,
    read_layer,
)

# the summary of flagged rows is logged under the package's name, as before the split
logger = logging.getLogger("gridgeo.io")

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
