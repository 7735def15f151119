"""Character-encoding detection for CSV files and shapefile attribute tables (.dbf).

Chinese offices save CSV from Excel in GBK and shapefiles from older GIS software in GBK, often
without a ``.cpg`` file saying so. The rule, by evidence rather than by guessing:

1. a byte-order mark, a ``.cpg`` file, or a dBase language driver id (byte 29 of the .dbf)
   whose code page decodes the bytes strictly, names the encoding;
2. bytes that decode strictly as UTF-8 are UTF-8 (``Ø``, ``°`` and Chinese text alike); the one
   exception is text whose UTF-8 reading is a mix of scripts no table holds (``"һλ"``, which
   is GBK ``"一位"``) while a Chinese reading is plausible;
3. otherwise GB18030 (a superset of GBK/GB2312) and Big5 are decoded strictly and scored by
   the share of their characters that are common (in GB2312, or in Big5's frequent block);
   the plausible one (share >= 0.8) with the higher share wins, GB18030 on a tie;
4. when no reading is plausible, or a valid single-script UTF-8 reading (``"һ"``) and a Chinese
   reading are both plausible, :class:`~gridgeo.errors.EncodingError` lists the candidates and
   says how to pass ``encoding=``.
"""

from __future__ import annotations

import codecs
import logging
import re
import struct
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gridgeo.errors import ColumnError, EncodingError

__all__ = [
    "check_shapefile_fields",
    "check_storable",
    "codec_name",
    "cpg_encoding",
    "dbf_samples",
    "detect_encoding",
    "ldid_encoding",
    "plausibility",
]

logger = logging.getLogger(__name__)

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
# dBase language driver ids (byte 29 of the header) and their code pages, as written by
# ArcGIS and dBase (GDAL's shapefile driver reads the same table). 0x57 ("ANSI", the system
# code page: GBK on Chinese Windows) and 0 (not set) say nothing and are ignored.
_LDID_CODECS = {
    0x01: "cp437",
    0x02: "cp850",
    0x03: "cp1252",
    0x13: "cp932",
    0x4D: FALLBACK,
    0x4E: "cp949",
    0x4F: "cp950",
    0x50: "cp874",
    0x64: "cp852",
    0x65: "cp866",
    0x78: "cp950",
    0x79: "cp949",
    0x7A: FALLBACK,
    0x7B: "cp932",
    0x7C: "cp874",
    0x7D: "cp1255",
    0x7E: "cp1256",
    0xC8: "cp1250",
    0xC9: "cp1251",
    0xCA: "cp1254",
    0xCB: "cp1253",
}
# Single-byte code pages decode almost any bytes, so they are only trusted when the bytes are
# not valid multi-byte UTF-8 (some tools stamp them by default).
_SINGLE_BYTE = {"cp437", "cp850", "cp852", "cp866", "cp874", "cp1250", "cp1251", "cp1252"}
_SINGLE_BYTE |= {"cp1253", "cp1254", "cp1255", "cp1256"}
# Legacy Chinese candidates and how messages name them.
_LEGACY = {FALLBACK: "GB18030 (GBK)", "cp950": "Big5"}
_PLAUSIBLE = 0.8
# Characters scored per reading (a prefix is enough evidence; decoding checks everything).
_SCORE_CHARS = 2_000_000
# Characters UTF-8 writes with two bytes: the only ones that are not plainly UTF-8 text.
_TWO_BYTE = re.compile("[\u0080-\u07ff]")
# UTF-8 characters from U+0250 to U+07FF, by script, for the "mix of scripts" test.
_SCRIPTS = (
    (0x0250, 0x036F, "IPA/combining"),
    (0x0370, 0x03FF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0700, 0x07FF, "Syriac/Thaana/NKo"),
)


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


def _utf8_kind(text: str) -> str:
    """``"plain"``, ``"script"`` (one non-Latin script below U+0800) or ``"mixed"``.

    Plain: ASCII, Latin letters and signs (U+00A0–U+024F: ``Ø``, ``°``, ``é``) and anything
    from U+0800 up (Chinese, punctuation, symbols). GBK bytes that happen to be valid UTF-8
    decode to two-byte characters only, usually scattered over several scripts (``"һλ"``).
    """
    scripts = set()
    for char in set(_TWO_BYTE.findall(text)):
        code = ord(char)
        if 0xA0 <= code <= 0x24F:
            continue
        if code < 0xA0:
            return "mixed"  # C1 control characters are never text
        scripts.add(next(name for low, high, name in _SCRIPTS if low <= code <= high))
    if not scripts:
        return "plain"
    return "script" if len(scripts) == 1 else "mixed"


def _common(char: str, codec: str) -> bool:
    if codec == FALLBACK:
        try:
            char.encode("gb2312")
        except UnicodeEncodeError:
            return False
        return True
    try:
        encoded = char.encode(codec)
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and 0xA1 <= encoded[0] <= 0xC6  # Big5 symbols + frequent hanzi


def plausibility(text: str, codec: str) -> float:
    """Share of the non-ASCII characters of ``text`` that are common in ``codec`` (0–1)."""
    counts = Counter(c for c in text[:_SCORE_CHARS] if ord(c) > 0x7F)
    total = sum(counts.values())
    if not total:
        return 1.0
    return sum(n for char, n in counts.items() if _common(char, codec)) / total


def _label(codec: str) -> str:
    return _LEGACY.get(codec, "UTF-8" if codec == "utf-8" else codec)


def detect_encoding(
    samples: list[bytes], *, complete: bool = False, source: str = "the file", how: str = ""
) -> str:
    """Python codec of byte ``samples`` of text, by the evidence rules of the module docstring.

    ``complete=True`` when the samples are whole texts (a file), not cut-off field values.
    ``how`` is the call to show in messages, e.g. ``"read_reports(path, encoding='big5')"``.
    Raises :class:`EncodingError` naming the candidates when the evidence does not decide.
    """
    samples = [s for s in samples if not s.isascii()]
    if not samples:
        return "utf-8"
    as_utf8 = _decode_all(samples, "utf-8", complete=complete)
    kind = _utf8_kind(as_utf8) if as_utf8 is not None else ""
    if kind == "plain":
        return "utf-8"
    readings = {}
    for codec in _LEGACY:
        text = _decode_all(samples, codec, complete=complete)
        if text is not None:
            readings[codec] = plausibility(text, codec)
    plausible = {c: v for c, v in readings.items() if v >= _PLAUSIBLE}
    hint = how or "encoding='GBK' (or 'utf-8', 'big5')"
    if kind == "script" and plausible:
        names = ", ".join(["UTF-8", *map(_label, plausible)])
        msg = (
            f"cannot tell the encoding of {source}: its text is valid UTF-8 but also plausible "
            f"Chinese (candidates: {names}). Pass it explicitly, e.g. {hint}."
        )
        raise EncodingError(msg)
    if kind and not plausible:
        return "utf-8"
    if plausible:
        best = max(plausible, key=lambda c: (plausible[c], c == FALLBACK))
        tied = [c for c in plausible if c != best and plausible[c] == plausible[best]]
        if tied:
            logger.info(
                "%s: text reads as %s and as %s equally well; using %s (pass encoding= if wrong)",
                source,
                _label(best),
                ", ".join(map(_label, tied)),
                _label(best),
            )
        return best
    shown = ", ".join(f"{_label(c)} (only {v:.0%} common characters)" for c, v in readings.items())
    why = f"and its Chinese readings look wrong: {shown}" if shown else "GB18030 or Big5"
    msg = (
        f"cannot tell the encoding of {source}: it is not UTF-8, {why}. Pass the right "
        f"encoding, e.g. {hint} (Western European text: encoding='cp1252')."
    )
    raise EncodingError(msg)


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


def ldid_encoding(ldid: int, samples: list[bytes] | None = None) -> str | None:
    """Codec named by a dBase language driver id, or None (unknown, 0, "ANSI").

    With ``samples``, the id is only trusted when its codec decodes them strictly, and a
    single-byte code page only when the bytes are not valid UTF-8 multi-byte text.
    """
    codec = _LDID_CODECS.get(ldid)
    if codec is None or samples is None:
        return codec
    samples = [s for s in samples if not s.isascii()]
    if not samples:
        return codec
    if _decode_all(samples, codec) is None:
        return None
    if codec in _SINGLE_BYTE and _decode_all(samples, "utf-8") is not None:
        return None
    return codec


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
                f"GBK) and cannot be written to {str(path)!r}. Rename it, or write a "
                "GeoPackage (.gpkg), which has no such limit."
            )
            raise ColumnError(msg)
        values = gdf[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        _check_text_values(values, str(column), codec, path)


def _check_text_values(values: pd.Series, column: str, codec: str, path: Path) -> None:
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
                f"encoded in {codec} for {str(path)!r}; write with encoding='GB18030' or "
                "'utf-8'."
            )
            raise EncodingError(msg) from err
        if size > _DBF_TEXT_BYTES:
            sizes[value] = size
    if sizes:
        value, size = next(iter(sizes.items()))
        position = int(np.flatnonzero(raw == value)[0])
        msg = (
            f"column {column!r} row {position} holds {size} bytes of text for {str(path)!r}; "
            "Shapefile "
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
                    f"{path.suffix} files such as {str(path)!r} cannot store. Convert the "
                    "column to text first, e.g. "
                    f"gdf[{column!r}].map(json.dumps), or write GeoParquet (.parquet)."
                )
                raise ColumnError(msg)
