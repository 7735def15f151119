"""The one time parser of gridgeo: report times, KPIs, hotspots and profiles all use it.

Rules (the same in the vectorised :func:`parse_times` and the value-by-value
:func:`parse_times_slow`, which the tests hold equal):

* missing values (None, NaN, ``""``, ``"N/A"``, ``"无"`` …) become NaT and are *not* unreadable;
* datetimes are kept; time-zone-aware ones are converted to the local zone ``tz`` and made naive;
* text: ``2026-03-02 08:05:00``, ``2026/3/2 8:05``, ``2026.03.02``, ``2026年3月2日 8时5分``,
  ``20260302``, ``20260302 080500``, ``20260302080500``, ``2026-03-02T08:05:00.250``; an ISO 8601
  offset or ``Z``/``UTC`` at the end (``2026-03-02T08:05:00+08:00``, ``…T00:05:00Z``) converts the
  time to ``tz``;
* numbers (or numeric text): whole ``yyyymmdd``/``yyyymmddHHMMSS`` of years 1900–2099 are compact
  dates; 1–109 574 are Excel serial days (1900-01-01 … 2199-12-31, local wall time); Unix epochs in
  seconds or milliseconds of the years 2000–2099 are UTC instants converted to ``tz``;
* dates outside the years 1900–2199, containers and bytes are unreadable as well;
* anything else is *unreadable*: NaT plus a True in the returned mask, never silently NaT.

The public entry point is :func:`gridgeo.io.parse_times`; :func:`parse_times` here keeps the
``(times, unreadable mask)`` signature used inside gridgeo.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gridgeo._validate import rows_preview
from gridgeo.errors import ColumnError

__all__ = ["MISSING_TOKENS", "ParsedTimes", "parse_time_value", "parse_times", "parse_times_slow"]

DEFAULT_TZ = "Asia/Shanghai"

# Values that mean "no value" in exported tables (compared lower-case, stripped).
MISSING_TOKENS = frozenset(
    {"", "n/a", "na", "nan", "null", "none", "nil", "-", "--", "#n/a", "无", "空", "缺失"}
)

_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S.%f",
    "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
    "%Y%m%d%H%M%S",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d %H%M%S",
    "%Y%m%dT%H%M%S",
    "%Y%m%d %H%M",
    "%Y%m%d",
)
# What each format leaves when its directives are removed: its literal characters.
_FORMAT_SKELETONS = {fmt: re.sub("%[A-Za-z]", "", fmt) for fmt in _TIME_FORMATS}
_DIGITS = re.compile(r"\d")
_CN_TIME = (
    ("年", "-"),
    ("月", "-"),
    ("日", " "),
    ("号", " "),
    ("时", ":"),
    ("点", ":"),
    ("分", ":"),
    ("秒", ""),
    ("：", ":"),
    ("／", "/"),
)
# Texts that _normalise_time_text would change (it is the identity on all others).
_NEEDS_NORMALISING = "[年月日号时点分秒：／]|\\s\\s|[^\\S ]|[:\\-]$|: | :"
# A UTC offset after a clock time: "…08:05:00+08:00", "…08:05+0800", "…00:05:00Z", "… UTC".
_OFFSET = re.compile(
    r"^(?P<local>.*[:T]\d{2}(?:\.\d+)?)\s*(?P<off>Z|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?)$"
)
# Cheap supersets of the two patterns above, run by pyarrow (RE2, in C++) over a whole column
# so that the exact Python patterns only see the few texts that may match: any character
# outside printable ASCII covers the Chinese characters and every non-space whitespace.
_MAYBE_ODD = r"[^\x20-\x7e]|  |[:\-]$|: | :"
_MAYBE_OFFSET = r"(?:Z|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?)$"
_EXCEL_ORIGIN = pd.Timestamp("1899-12-30")
# Years a date may have (a text format that gives another year does not match; a datetime
# of another year is unreadable).
_YEARS = (1900, 2199)
# Values that are never a time (and that pandas cannot test for NaN one by one).
_CONTAINERS = (list, tuple, dict, set, frozenset, np.ndarray, bytes, bytearray)
# Excel serial days accepted: 1900-01-01 .. 2199-12-31.
_SERIAL_RANGE = (1.0, 109_574.0)
# Whole numbers read as compact dates: yyyymmdd and yyyymmddHHMMSS of years 1900–2099.
_COMPACT = ((19_000_000, 20_999_999), (19_000_000_000_000, 20_999_999_999_999))
# Unix epochs of 2000-01-01 .. 2099-12-31 (UTC), in seconds and in milliseconds.
_EPOCH_S = (946_684_800.0, 4_102_444_800.0)
_EPOCH_MS = (_EPOCH_S[0] * 1000, _EPOCH_S[1] * 1000)


def check_tz(tz: str | None) -> str | None:
    """Return ``tz`` if pandas knows the zone; raise ``ValueError`` naming it otherwise."""
    if tz is None:
        return None
    try:
        pd.Timestamp("2026-01-01", tz=tz)
    except (ValueError, TypeError, KeyError) as err:
        msg = f"tz={tz!r} is not a time zone; use an IANA name such as 'Asia/Shanghai' or 'UTC'."
        raise ValueError(msg) from err
    return tz


def _normalise_time_text(text: str) -> str:
    out = text.strip()
    for old, new in _CN_TIME:
        out = out.replace(old, new)
    out = " ".join(out.split())
    return out.rstrip(":-").replace(": ", ":").replace(" :", ":")


def _offset_minutes(off: str) -> float:
    """Minutes east of UTC for ``Z``/``UTC``/``+08:00``/``-0530``/``+08``; NaN if impossible."""
    if off in ("Z", "UTC", "GMT"):
        return 0.0
    digits = off[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 14 or minutes > 59:
        return float("nan")
    return (hours * 60 + minutes) * (1.0 if off[0] == "+" else -1.0)


def _to_local(utc: pd.Timestamp, tz: str | None) -> pd.Timestamp:
    if tz is None or pd.isna(utc):
        return utc
    return utc.tz_localize("UTC").tz_convert(tz).tz_localize(None)


def _to_local_many(utc: np.ndarray, tz: str | None) -> np.ndarray:
    if tz is None or len(utc) == 0:
        return utc
    index = pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(tz).tz_localize(None)
    return index.to_numpy("datetime64[ns]")


# --- the rules, one value at a time: the obviously correct twin -------------------------


def _epoch(number: float, unit: str) -> pd.Timestamp:
    return pd.to_datetime(np.array([number]), unit=unit).round("ms")[0]


def _number_rule(number: float) -> tuple[str, Any]:
    """``("text", compact)``, ``("time", local)``, ``("utc", stamp)`` or ``("bad", None)``."""
    as_text = f"{number:.0f}" if np.isfinite(number) and float(number).is_integer() else ""
    if len(as_text) in (8, 14) and as_text[:2] in ("19", "20"):
        return "text", as_text  # 20260305 or 20260305080700
    if _SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]:
        return "time", (_EXCEL_ORIGIN + pd.Timedelta(days=number)).round("s")
    if _EPOCH_S[0] <= number < _EPOCH_S[1]:
        return "utc", _epoch(number, "s")
    if _EPOCH_MS[0] <= number < _EPOCH_MS[1]:
        return "utc", _epoch(number, "ms")
    return "bad", None


def _format_rule(text: str) -> Any:
    for fmt in _TIME_FORMATS:
        try:
            stamp = pd.to_datetime(text, format=fmt)
        except ValueError:
            continue
        # pandas reads some junk (a lone NUL) as NaT, not as an error
        if not pd.isna(stamp) and _YEARS[0] <= stamp.year <= _YEARS[1]:
            return stamp
    return None


def _text_rule(text: str, tz: str | None) -> Any:
    match = _OFFSET.match(text)
    if match is None:
        return _format_rule(text)
    minutes = _offset_minutes(match["off"])
    local = _format_rule(match["local"])
    if local is None or np.isnan(minutes):
        return None
    return _to_local(local - pd.Timedelta(minutes=minutes), tz)


def _to_float(text: str) -> float | None:
    try:
        return float(pd.to_numeric(text))
    except (ValueError, TypeError):
        return None


def parse_time_value(value: Any, *, tz: str | None = DEFAULT_TZ) -> tuple[Any, bool]:
    """Parse one value: ``(Timestamp or NaT, unreadable)``. See the module docstring."""
    if isinstance(value, _CONTAINERS):
        return pd.NaT, True
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return pd.NaT, False
    if isinstance(value, pd.Timestamp | np.datetime64) or hasattr(value, "timetuple"):
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None:
            stamp = (stamp.tz_convert(tz) if tz else stamp).tz_localize(None)
        if not _YEARS[0] <= stamp.year <= _YEARS[1]:
            return pd.NaT, True
        return stamp, False
    if isinstance(value, bool | np.bool_):
        return pd.NaT, True
    if isinstance(value, int | float | np.integer | np.floating):
        kind, result = _number_rule(float(value))
    elif isinstance(value, str):
        stripped = value.strip()
        if stripped.lower() in MISSING_TOKENS:
            return pd.NaT, False
        number = _to_float(stripped)
        if number is None:
            kind, result = "text", _normalise_time_text(stripped)
        else:
            kind, result = _number_rule(number)
    else:
        kind, result = "text", str(value)
    if kind == "time":
        return result, False
    if kind == "utc":
        return _to_local(result, tz), False
    if kind == "bad":
        return pd.NaT, True
    stamp = _text_rule(result, tz)
    return (pd.NaT, True) if stamp is None else (stamp, False)


def parse_times_slow(
    values: pd.Series, *, tz: str | None = DEFAULT_TZ
) -> tuple[pd.Series, np.ndarray]:
    """Element-by-element :func:`parse_times`, for tests."""
    tz = check_tz(tz)
    pairs = [parse_time_value(v, tz=tz) for v in values.astype(object).to_numpy()]
    stamps = [p[0] for p in pairs]
    bad = np.array([p[1] for p in pairs], dtype=bool)
    out = pd.Series(pd.to_datetime(pd.Series(stamps, dtype=object)).to_numpy("datetime64[ns]"))
    return pd.Series(out.to_numpy(), index=values.index, name=values.name), bad


# --- vectorised ------------------------------------------------------------------------


def _numbers_to_times(
    numbers: np.ndarray, tz: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised :func:`_number_rule`: ``(times, compact mask, bad mask)``."""
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(numbers) & (numbers == np.floor(numbers))
        compact = np.zeros(len(numbers), dtype=bool)
        for low, high in _COMPACT:
            compact |= whole & (numbers >= low) & (numbers <= high)
        serial = ~compact & (numbers >= _SERIAL_RANGE[0]) & (numbers <= _SERIAL_RANGE[1])
        seconds = (numbers >= _EPOCH_S[0]) & (numbers < _EPOCH_S[1])
        millis = (numbers >= _EPOCH_MS[0]) & (numbers < _EPOCH_MS[1])
    times = np.full(len(numbers), np.datetime64("NaT"), dtype="datetime64[ns]")
    if serial.any():
        days = pd.to_timedelta(numbers[serial], unit="D")
        times[serial] = (_EXCEL_ORIGIN + days).round("s").to_numpy("datetime64[ns]")
    for mask, unit in ((seconds, "s"), (millis, "ms")):
        if mask.any():
            utc = pd.to_datetime(numbers[mask], unit=unit).round("ms").to_numpy("datetime64[ns]")
            times[mask] = _to_local_many(utc, tz)
    return times, compact, ~compact & ~serial & ~seconds & ~millis


def _parses(text: str, fmt: str) -> bool:
    try:
        pd.to_datetime(text, format=fmt)
    except ValueError:
        return False
    return True


def _skeletons(texts: pd.Series) -> np.ndarray:
    """Each text without its digits (any script: pandas' strptime reads Unicode digits)."""
    array = pa.array(texts.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    out = pc.replace_substring_regex(array, "[0-9]", "").to_numpy(zero_copy_only=False)
    out = np.asarray(out, dtype=object)
    wide = _maybe(texts, "[^\\x00-\\x7f]")
    out[wide] = [_DIGITS.sub("", t) for t in texts.to_numpy(dtype=object)[wide]]
    return out


def _formats_to_times(texts: pd.Series) -> np.ndarray:
    """Vectorised :func:`_format_rule`; the formats of the first value are tried first.

    A format is only tried on texts whose literal characters (the text without digits) are
    the format's own: strptime cannot match anything else, and trying 20 formats on every
    text of a mixed column is what made it slow.
    """
    parsed = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[ns]")
    if len(texts) == 0:
        return parsed.to_numpy(copy=True)
    first = texts.iloc[0]
    order = [f for f in _TIME_FORMATS if _parses(first, f)] + list(_TIME_FORMATS)
    skeletons = None
    for fmt in dict.fromkeys(order):
        left = parsed.isna()
        if not left.any():
            break
        if skeletons is None and fmt != order[0]:  # one format read the others: sort them
            skeletons = pd.Series(pd.NA, index=texts.index, dtype=object)
            skeletons[left] = _skeletons(texts[left])
        if skeletons is not None:
            left &= (skeletons == _FORMAT_SKELETONS[fmt]).to_numpy(dtype=bool, na_value=False)
            if not left.any():
                continue
        attempt = pd.to_datetime(texts[left], format=fmt, errors="coerce")
        years = attempt.dt.year
        attempt = attempt.where((years >= _YEARS[0]) & (years <= _YEARS[1]))
        parsed[left] = attempt.astype("datetime64[ns]")
    return parsed.to_numpy(copy=True)


def _maybe(texts: pd.Series, pattern: str) -> np.ndarray:
    """Where ``pattern`` (RE2 syntax) matches, by pyarrow; False for missing values."""
    array = pa.array(texts.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    found = pc.match_substring_regex(array, pattern)
    return np.asarray(found.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _texts_to_times(texts: pd.Series, tz: str | None) -> np.ndarray:
    """Vectorised :func:`_text_rule` (texts already normalised)."""
    maybe = _maybe(texts, _MAYBE_OFFSET)
    parts = texts[maybe].str.extract(_OFFSET)
    has_offset = np.zeros(len(texts), dtype=bool)
    has_offset[maybe] = parts["off"].notna().to_numpy()
    if not has_offset.any():
        return _formats_to_times(texts)
    local_parts = np.asarray(texts.to_numpy(dtype=object), dtype=object).copy()
    local_parts[maybe] = np.where(
        parts["off"].notna().to_numpy(), parts["local"].to_numpy(dtype=object), local_parts[maybe]
    )
    local = pd.Series(local_parts, index=texts.index, dtype=object)
    times = _formats_to_times(local)
    offsets = np.full(len(texts), np.nan)
    offs = parts["off"].to_numpy(dtype=object)[parts["off"].notna().to_numpy()]
    offsets[has_offset] = [_offset_minutes(o) for o in offs]
    shift = has_offset & ~np.isnat(times)
    bad = shift & np.isnan(offsets)
    shift &= ~bad
    utc = times[shift] - (offsets[shift] * 60).astype("timedelta64[s]")
    times[shift] = _to_local_many(utc, tz)
    times[bad] = np.datetime64("NaT")
    return times


def _aware_to_local(values: pd.Series, tz: str | None) -> tuple[pd.Series, np.ndarray]:
    """A datetime column as naive local ``datetime64[ns]``; years outside _YEARS are bad."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = (values.dt.tz_convert(tz) if tz else values).dt.tz_localize(None)
    years = values.dt.year.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(years) & ((years < _YEARS[0]) | (years > _YEARS[1]))
    kept = values.where(~bad) if bad.any() else values
    return kept.astype("datetime64[ns]"), bad


def parse_times(values: pd.Series, *, tz: str | None = DEFAULT_TZ) -> tuple[pd.Series, np.ndarray]:
    """Parse a column to naive ``datetime64[ns]`` local times; return ``(times, unreadable)``.

    See the module docstring for the rules. Missing values become NaT and are not counted as
    unreadable. Same result as :func:`parse_times_slow`, vectorised for datetime, numeric and
    all-text columns.
    """
    tz = check_tz(tz)
    n = len(values)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return _aware_to_local(values, tz)
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        texts = pd.Series(np.full(n, None, dtype=object))
        todo = np.zeros(n, dtype=bool)
    elif pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        stripped = pd.Series(values.astype(object).to_numpy(), dtype=object).str.strip()
        missing = stripped.isna().to_numpy() | stripped.str.lower().isin(MISSING_TOKENS).to_numpy()
        # no number is written with ':' or '/': only the other texts go through to_numeric
        numeric = ~missing & ~_maybe(stripped, "[:/]")
        numbers = np.full(n, np.nan)
        numbers[numeric] = pd.to_numeric(stripped[numeric], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        # "nan"/"inf" texts are numbers to float() as well
        todo = ~missing & np.isnan(numbers)
        texts = stripped.where(todo)
        maybe = todo & _maybe(texts, _MAYBE_ODD)
        odd = maybe.copy()
        odd[maybe] = texts[maybe].str.contains(_NEEDS_NORMALISING, regex=True, na=False).to_numpy()
        texts[odd] = texts[odd].map(_normalise_time_text)
    else:
        return parse_times_slow(values, tz=tz)
    times, compact, bad = _numbers_to_times(numbers, tz)
    bad &= ~np.isnan(numbers)
    if compact.any():
        texts[compact] = [f"{v:.0f}" for v in numbers[compact]]
        todo |= compact
    if todo.any():
        times[todo] = _texts_to_times(texts[todo], tz)
        bad |= todo & np.isnat(times)
    return pd.Series(times, index=values.index, name=values.name), bad


# --- the public wrapper ----------------------------------------------------------------


@dataclass(frozen=True)
class ParsedTimes:
    """Result of :func:`gridgeo.io.parse_times`.

    Attributes
    ----------
    times : pandas.Series
        Naive ``datetime64[ns]`` local times, same index and name as the input; NaT for
        missing and for unreadable values.
    unreadable : pandas.Series
        Boolean, same index: True where a value was present but is not a date/time.
    issues : tuple of str
        One message per unreadable value, naming the row and the value.
    """

    times: pd.Series
    unreadable: pd.Series
    issues: tuple[str, ...]

    @property
    def n_unreadable(self) -> int:
        """Number of values that are present but not dates/times."""
        return len(self.issues)

    def __repr__(self) -> str:
        shown = "; ".join(self.issues[:3]) + (" …" if len(self.issues) > 3 else "")
        return (
            f"ParsedTimes({len(self.times)} values, {int(self.times.notna().sum())} times, "
            f"{self.n_unreadable} unreadable{': ' + shown if shown else ''})"
        )

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(text)}</li>" for text in self.issues[:20])
        more = f"<li>… {len(self.issues) - 20} more</li>" if len(self.issues) > 20 else ""
        return (
            f"<p>ParsedTimes: {len(self.times)} values, {int(self.times.notna().sum())} times, "
            f"{self.n_unreadable} unreadable</p>" + (f"<ul>{items}{more}</ul>" if items else "")
        )


def describe_unreadable(values: pd.Series, bad: np.ndarray, name: str) -> tuple[str, ...]:
    """``row 3 (index 'a'): t='昨天'`` for every unreadable value (rows counted from 0)."""
    raw = values.astype(object).to_numpy()
    index = values.index
    plain = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    out = []
    for i in np.flatnonzero(bad):
        where = f"row {i}" if plain else f"row {i} (index {index[i]!r})"
        out.append(f"{where}: {name}={raw[i]!r}")
    return tuple(out)


def parse_times_public(
    values: Any, *, tz: str | None = DEFAULT_TZ, errors: str = "raise", name: str | None = None
) -> ParsedTimes:
    """Parse dates/times in any of the formats found in case exports; see gridgeo.io."""
    if errors not in ("raise", "report"):
        msg = f"errors={errors!r} is not allowed; use 'raise' or 'report'."
        raise ValueError(msg)
    if isinstance(values, pd.DataFrame) or not pd.api.types.is_list_like(values):
        msg = (
            f"values must be a pandas Series or a list of values, got {type(values).__name__}; "
            "pass one column, e.g. parse_times(table['reported_at'])."
        )
        raise TypeError(msg)
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    label = name or (str(series.name) if series.name is not None else "values")
    times, bad = parse_times(series, tz=tz)
    issues = describe_unreadable(series, bad, label)
    if issues and errors == "raise":
        msg = (
            f"{len(issues)} value(s) of {label!r} are not dates/times: {rows_preview(issues)}. "
            "Use formats like '2026-03-05 08:07:00', '2026/3/5 8:07', '2026年3月5日 8时7分', "
            "ISO 8601 with an offset, Excel serial days or Unix seconds; or pass "
            "errors='report' to get them as NaT with the list of rows."
        )
        raise ColumnError(msg)
    return ParsedTimes(
        times=times, unreadable=pd.Series(bad, index=series.index, name=series.name), issues=issues
    )
