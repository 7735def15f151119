"""Read a large report export chunk by chunk (behind :func:`gridgeo.io.iter_reports`).

Each chunk goes through :func:`gridgeo.io.read_reports` on its own, then gets the index and
row numbers it would have had in one pass over the whole file: the index continues (or is the
``id`` column) and ``row N`` in ``coord_issue`` counts from the first row of the file.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gridgeo.errors import EncodingError, GridgeoError, InputFileError
from gridgeo.io import _encoding

logger = logging.getLogger(__name__)

# Bytes read from the start of a CSV to detect its encoding (cut back to a line end).
SAMPLE_BYTES = 4 << 20
_FORMATS = "CSV (.csv, .txt) or Parquet (.parquet)"
# A row label at the start of one part of a coord_issue text ("row 17: ...", "row 17 (id ...").
_LABEL = re.compile(r"(^|; )row (\d+)(?=[: ])")


def detect_csv_encoding(path: Path, encoding: str | None) -> str:
    """Python codec for reading ``path`` in chunks: given, BOM, or detected on a sample."""
    if encoding is not None:
        try:
            return _encoding.codec_name(encoding)
        except LookupError as err:
            msg = f"unknown encoding={encoding!r} for {str(path)!r}; use e.g. 'utf-8' or 'GBK'."
            raise EncodingError(msg) from err
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
        more = bool(handle.read(1))
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if more and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]
    return _encoding.detect_encoding(
        [sample],
        complete=True,
        source=repr(str(path)),
        how="iter_reports(path, encoding='big5')",
    )


def _raw_chunks(
    path: Path,
    chunksize: int,
    encoding: str | None,
    text_columns: list[str],
    dtype: Mapping[str, Any] | None,
) -> Iterator[pd.DataFrame]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        if encoding is not None:
            msg = f"encoding={encoding!r} applies to CSV files only; drop it for {str(path)!r}."
            raise InputFileError(msg)
        try:
            parquet = pq.ParquetFile(path)
        except (OSError, ValueError) as err:
            msg = f"cannot read {str(path)!r}: {err}. Supported formats: {_FORMATS}."
            raise InputFileError(msg) from err
        if b"geo" in (parquet.schema_arrow.metadata or {}):
            msg = (
                f"{str(path)!r} is GeoParquet; read it with gridgeo.io.read_reports (chunked "
                "reading takes lon/lat tables only)."
            )
            raise InputFileError(msg)
        for batch in parquet.iter_batches(batch_size=chunksize):
            frame = batch.to_pandas()
            yield frame.astype(dict(dtype)) if dtype else frame
        return
    codec = detect_csv_encoding(path, encoding)
    header = pd.read_csv(path, nrows=0, encoding=codec).columns
    types: dict[str, Any] = {c: str for c in text_columns if c in header}
    types.update(dtype or {})
    start = 0
    try:
        with pd.read_csv(path, encoding=codec, dtype=types, chunksize=chunksize) as reader:
            for frame in reader:
                start += len(frame)
                yield frame
    except UnicodeDecodeError as err:
        msg = (
            f"cannot decode {str(path)!r} as {codec} after row {start:,}: {err.reason}. The "
            "encoding was detected on the start of the file; pass encoding= (e.g. 'GB18030')."
        )
        raise EncodingError(msg) from err
    except (ValueError, pd.errors.ParserError) as err:
        msg = (
            f"cannot read {str(path)!r} after row {start:,}: {err}. Pass dtype={{column: str}} "
            "for columns whose values change kind along the file."
        )
        raise InputFileError(msg) from err


def _global_rows(issue: pd.Series, offset: int) -> pd.Series:
    """Rewrite the ``row N`` labels of a chunk's ``coord_issue`` to rows of the whole file."""
    if offset == 0:
        return issue
    values = issue.to_numpy(dtype=object, copy=True)
    for j in np.flatnonzero(values != ""):
        local = str(j)

        def shift(match: re.Match[str], local: str = local, j: int = int(j)) -> str:
            if match.group(2) != local:  # not this row's label: a value that looks like one
                return match.group(0)
            return f"{match.group(1)}row {j + offset}"

        values[j] = _LABEL.sub(shift, values[j])
    return pd.Series(pd.array(values.astype(str), dtype="str"), index=issue.index)


def iter_reports(
    path: str | os.PathLike[str],
    *,
    chunksize: int,
    lon: str,
    lat: str,
    crs: Any,
    time: str | None,
    id: str | None,
    encoding: str | None,
    errors: str,
    dtype: Mapping[str, Any] | None,
    read: Callable[..., gpd.GeoDataFrame],
) -> Iterator[gpd.GeoDataFrame]:
    """See :func:`gridgeo.io.iter_reports`; arguments are checked now, the file when read.

    ``read`` is :func:`gridgeo.io.read_reports`, passed in by the caller (so this module does
    not import ``gridgeo.io``, which imports it).
    """
    chunksize = check_chunksize(chunksize)
    path = Path(path)
    if path.suffix.lower() not in {".csv", ".txt", ".parquet"}:
        msg = (
            f"cannot read {str(path)!r} in chunks: unknown extension {path.suffix or '(none)'!r}. "
            f"Supported: {_FORMATS}; read other formats whole with gridgeo.io.read_reports."
        )
        raise InputFileError(msg)
    if not path.is_file():
        where = "is a folder, not a file" if path.is_dir() else "does not exist"
        msg = f"cannot read {str(path)!r}: the file {where}."
        raise InputFileError(msg)
    text_columns = [c for c in (time, id) if c]
    frames = _raw_chunks(path, chunksize, encoding, text_columns, dtype)
    options = {"lon": lon, "lat": lat, "crs": crs, "time": time, "id": id, "errors": errors}
    return checked_chunks(frames, repr(str(path)), options, read)


def check_chunksize(chunksize: Any) -> int:
    if isinstance(chunksize, bool) or not isinstance(chunksize, int | np.integer):
        msg = f"chunksize must be a whole number of rows, got {chunksize!r}."
        raise TypeError(msg)
    if chunksize < 1:
        msg = f"chunksize must be at least 1 row, got {chunksize}."
        raise ValueError(msg)
    return int(chunksize)


def checked_chunks(
    frames: Iterator[pd.DataFrame],
    source: str,
    options: dict[str, Any],
    read: Callable[..., gpd.GeoDataFrame],
) -> Iterator[gpd.GeoDataFrame]:
    """Each raw chunk through ``read`` (:func:`gridgeo.io.read_reports`), whole-file rows."""
    offset = 0
    for number, frame in enumerate(frames):
        try:
            out = read(frame, **options)
        except GridgeoError as err:
            rows = f"rows {offset:,}–{offset + len(frame) - 1:,}"
            msg = (
                f"{source}, chunk {number} ({rows}; row numbers below count from the "
                f"chunk's first row): {err}"
            )
            raise type(err)(msg) from err
        if options["id"] is None:
            out.index = pd.RangeIndex(offset, offset + len(out))
        out["coord_issue"] = _global_rows(out["coord_issue"], offset)
        logger.debug("%s: chunk %d, rows %d-%d", source, number, offset, offset + len(out) - 1)
        offset += len(out)
        yield out
