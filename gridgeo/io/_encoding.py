"""Character-encoding detection for CSV files and shapefile attribute tables (.dbf).

Chinese offices save CSV from Excel in GBK and shapefiles from older GIS software in GBK, often
without a ``.cpg`` file saying so. The rule here: a byte-order mark or ``.cpg`` wins; otherwise
UTF-8 if the bytes decode as UTF-8 and do not look like mojibake; otherwise GB18030 (a superset
of GBK and GB2312) if they decode as that; otherwise give up and ask for ``encoding=``.
"""

from __future__ import annotations

import codecs
import re
import struct
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gridgeo.errors import ColumnError, EncodingError

__all__ = [
    "check_shapefile_fields",
    "check_storable",
    "choose_encoding",
    "codec_name",
    "cpg_encoding",
    "dbf_samples",
    "looks_like_mojibake",
]

FALLBACK = "gb18030"

# Code pages written in .cpg files by ArcGIS, QGIS and GDAL, mapped to Python codecs.
_CPG_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "65001": "utf-8",
    "936": FALLBACK,
    "ansi936": FALLBACK,
    "cp936": FALLBACK,
    "gbk": FALLBACK,
    "gb2312": FALLBACK,
    "gb18030": FALLBACK,
    "54936": FALLBACK,
    "950": "cp950",
    "big5": "cp950",
    "88591": "latin-1",
    "1252": "cp1252",
}
# dBase language driver ids (byte 29 of the header) that mean a Chinese code page.
_LDID_CHINESE = {0x4D, 0x7A}
_LDID_BIG5 = {0x4E, 0x78}

# Characters that show up when GBK bytes happen to decode as UTF-8 (or Latin-1 text is shown
# as UTF-8): Latin-1 supplement, Latin Extended, IPA, combining marks, Greek, Cyrillic…
_MOJIBAKE = re.compile("[\u0080-\u07ff]")
# What Chinese attribute text is made of besides ASCII: CJK ideographs, CJK and full-width
# punctuation, the rare extension-A ideographs.
_CHINESE = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u2010-\u2027]")


def codec_name(encoding: str) -> str:
    """Return the Python codec for a user or .cpg encoding label; raise LookupError if unknown."""
    key = re.sub(r"[\s_]", "", encoding.strip().lower())
    if key in _CPG_ALIASES:
        return _CPG_ALIASES[key]
    if key.isdigit():
        key = f"cp{key}"
    return codecs.lookup(key).name


def cpg_encoding(text: str) -> str | None:
    """Python codec named by the content of a .cpg file, or None when it is not understood."""
    try:
        return codec_name(text) if text.strip() else None
    except LookupError:
        return None


def _decode_all(samples: list[bytes], encoding: str, *, complete: bool = False) -> str | None:
    """Decode each sample strictly (a trailing cut-off character is tolerated); None on failure.

    Shapefile writers cut text at the field width in bytes, sometimes inside a character, so
    the last incomplete sequence of each sample is ignored rather than counted as an error,
    unless ``complete`` (a whole file, which must end on a character boundary).
    """
    parts = []
    for sample in samples:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            parts.append(decoder.decode(sample, final=complete))
        except UnicodeDecodeError:
            return None
    return "".join(parts)


def looks_like_mojibake(as_utf8: str, as_fallback: str | None) -> bool:
    """True when UTF-8 text looks like misread GBK: odd accented letters where GBK gives Chinese."""
    if as_fallback is None or not _MOJIBAKE.search(as_utf8):
        return False
    non_ascii = [c for c in as_fallback if ord(c) > 0x7F]
    if not non_ascii:
        return False
    chinese = sum(1 for c in non_ascii if _CHINESE.match(c))
    return chinese / len(non_ascii) > 0.9


def choose_encoding(samples: list[bytes], *, complete: bool = False) -> str | None:
    """Pick ``"utf-8"`` or GB18030 for byte samples of text; None when neither decodes them.

    ``complete=True`` when the samples are whole texts (a file), not cut-off field values.
    """
    samples = [s for s in samples if not s.isascii()]
    if not samples:
        return "utf-8"
    as_utf8 = _decode_all(samples, "utf-8", complete=complete)
    as_gb = _decode_all(samples, FALLBACK, complete=complete)
    if as_utf8 is not None and not looks_like_mojibake(as_utf8, as_gb):
        return "utf-8"
    if as_gb is not None:
        return FALLBACK
    return None


def dbf_samples(data: bytes, *, max_records: int = 200_000) -> tuple[list[bytes], int]:
    """Return the non-ASCII byte strings of a .dbf (field names, text values) and its LDID.

    Only character fields (type ``C``) are scanned, field by field, so binary fields and
    field boundaries never produce false decoding errors. At most ``max_records`` records are
    scanned; distinct values only.
    """
    if len(data) < 32:
        return [], 0
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    ldid = data[29]
    samples: list[bytes] = []
    fields: list[tuple[int, int]] = []
    offset = 1  # each record starts with a deletion flag byte
    pos = 32
    while pos + 32 <= min(header_len, len(data)) and data[pos] != 0x0D:
        descriptor = data[pos : pos + 32]
        name = descriptor[:11].split(b"\x00", 1)[0]
        samples.append(name)
        length = descriptor[16]
        if descriptor[11:12] == b"C":
            length += descriptor[17] << 8  # FoxPro/Clipper long text fields
            fields.append((offset, length))
        offset += length
        pos += 32
    n = min(n_records, max_records, max(0, (len(data) - header_len) // max(record_len, 1)))
    if n and fields and record_len:
        block = np.frombuffer(data, dtype=np.uint8, count=n * record_len, offset=header_len)
        rows = block.reshape(n, record_len)
        for start, length in fields:
            column = rows[:, start : start + length]
            high = (column > 0x7F).any(axis=1)
            if high.any():
                values = {bytes(r).rstrip(b" \x00") for r in column[high]}
                samples.extend(values)
    return samples, ldid


def ldid_encoding(ldid: int) -> str | None:
    """Codec named by a dBase language driver id, for the Chinese code pages only."""
    if ldid in _LDID_CHINESE:
        return FALLBACK
    if ldid in _LDID_BIG5:
        return "cp950"
    return None


# --- what a .dbf can hold ----------------------------------------------------------------

_DBF_NAME_BYTES = 10
_DBF_TEXT_BYTES = 254
_NOT_STORABLE = (dict, list, tuple, set, frozenset, np.ndarray)


def check_shapefile_fields(gdf: gpd.GeoDataFrame, codec: str, path: Path) -> None:
    """Refuse what a .dbf would silently truncate or cannot encode."""
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    for column in columns:
        try:
            encoded = str(column).encode(codec)
        except UnicodeEncodeError as err:
            msg = (
                f"column name {column!r} cannot be written to {str(path)!r} in {codec}; "
                "use encoding='utf-8' or rename the column."
            )
            raise EncodingError(msg) from err
        if len(encoded) > _DBF_NAME_BYTES:
            msg = (
                f"column name {column!r} is {len(encoded)} bytes in {codec}, but Shapefile "
                f"field names hold at most {_DBF_NAME_BYTES} bytes (5 Chinese characters in "
                "GBK). Rename it, or write a GeoPackage (.gpkg), which has no such limit."
            )
            raise ColumnError(msg)
        values = gdf[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        _check_text_values(values, str(column), codec)


def _check_text_values(values: pd.Series, column: str, codec: str) -> None:
    """Refuse text a .dbf cannot hold; only distinct non-ASCII values are encoded one by one."""
    raw = values.to_numpy(dtype=object)
    distinct = [v for v in pd.unique(raw) if isinstance(v, str)]
    sizes = {}
    for value in distinct:
        if value.isascii():
            if len(value) > _DBF_TEXT_BYTES:
                sizes[value] = len(value)
            continue
        try:
            size = len(value.encode(codec))
        except UnicodeEncodeError as err:
            position = int(np.flatnonzero(raw == value)[0])
            msg = (
                f"column {column!r} row {position} holds {value[:40]!r}, which cannot be "
                f"encoded in {codec}; write with encoding='GB18030' or 'utf-8'."
            )
            raise EncodingError(msg) from err
        if size > _DBF_TEXT_BYTES:
            sizes[value] = size
    if sizes:
        value, size = next(iter(sizes.items()))
        position = int(np.flatnonzero(raw == value)[0])
        msg = (
            f"column {column!r} row {position} holds {size} bytes of text; Shapefile "
            f"text fields hold at most {_DBF_TEXT_BYTES} bytes. Write a GeoPackage "
            "(.gpkg) instead, or shorten the text."
        )
        raise ColumnError(msg)


def check_storable(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Refuse containers in attribute columns, which OGR formats would store as their repr."""
    for column in frame.columns:
        if column == frame.geometry.name or not pd.api.types.is_object_dtype(frame[column]):
            continue
        values = frame[column].to_numpy(dtype=object)
        for position, value in enumerate(values):
            if isinstance(value, _NOT_STORABLE):
                msg = (
                    f"column {column!r} row {position} holds a {type(value).__name__}, which "
                    f"{path.suffix} files cannot store. Convert the column to text first, e.g. "
                    f"gdf[{column!r}].map(json.dumps), or write GeoParquet (.parquet)."
                )
                raise ColumnError(msg)
