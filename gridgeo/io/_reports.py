"""Private helpers of :func:`gridgeo.io.read_reports`: coordinate checks and time parsing.

Every row gets a status: ``ok``, ``missing_coords`` or ``invalid_coords``, and a short issue
text naming the row and the value. Nothing is dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as PyprojCRSError

from gridgeo._gc import gc_paused
from gridgeo._validate import require_unique, rows_preview
from gridgeo.errors import ColumnError, CoordinateError, CRSError
from gridgeo.io._times import MISSING_TOKENS, parse_times

# the one time parser lives in _io_times; these names stay importable from here
from gridgeo.io._times import parse_time_value as parse_time_value
from gridgeo.io._times import parse_times_slow as parse_times_slow

logger = logging.getLogger(__name__)

OK, MISSING, INVALID = "ok", "missing_coords", "invalid_coords"

# Mainland China and its seas, for the swapped-coordinate heuristic only: lon 73–136, lat 3–54.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)
# Degrees of slack around a projected CRS's area of use (cities straddle zone edges).
AREA_MARGIN = 3.0


@dataclass
class Checked:
    """Result of :func:`check_coordinates`, aligned to the rows (by position)."""

    x: np.ndarray
    y: np.ndarray
    status: np.ndarray
    issue: np.ndarray
    column_swap: str  # non-empty: most rows look swapped, explanation for the error


def _fmt(value: Any) -> str:
    """Format a raw cell value for an issue message (``123.4``, ``'abc'``)."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int | float | np.number):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return repr(value)


def to_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(numbers, missing, not_numeric)`` for a column of coordinates.

    Missing: NaN, None, empty or placeholder strings (``"N/A"``, ``"null"``…). Not numeric:
    any other value that does not parse as a number (``"23.1abc"``, ``True``).
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        n = len(values)
        return np.full(n, np.nan), np.asarray(values.isna()), np.asarray(values.notna())
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        return numbers, np.isnan(numbers), np.zeros(len(numbers), dtype=bool)
    raw = values.astype(object).to_numpy()
    missing = np.asarray(pd.isna(raw), dtype=bool)
    is_text = np.array([isinstance(v, str) for v in raw], dtype=bool)
    if is_text.any():
        tokens = np.array([v.strip().lower() in MISSING_TOKENS for v in raw[is_text]], dtype=bool)
        missing[np.flatnonzero(is_text)[tokens]] = True
    candidates = np.where(missing, None, raw)
    stripped = [v.strip() if isinstance(v, str) else v for v in candidates]
    bools = np.array([isinstance(v, bool | np.bool_) for v in stripped], dtype=bool)
    numbers = pd.to_numeric(pd.Series(stripped, dtype=object), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan, copy=True
    )
    numbers[bools] = np.nan
    not_numeric = ~missing & np.isnan(numbers)
    return numbers, missing, not_numeric


def _in_china(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x >= CHINA_LON[0]) & (x <= CHINA_LON[1]) & (y >= CHINA_LAT[0]) & (y <= CHINA_LAT[1])


def _area_test(crs: CRS) -> Any:
    """Return ``inside(x, y) -> bool array`` for a projected CRS's area of use, or None."""
    area = crs.area_of_use
    if area is None:
        return None
    transformer = Transformer.from_crs(crs, 4326, always_xy=True)
    w, s, e, n = area.west, area.south, area.east, area.north

    def inside(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            lon, lat = transformer.transform(x, y, errcheck=False)
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        ok = np.isfinite(lon) & np.isfinite(lat)
        return (
            ok
            & (lon >= w - AREA_MARGIN)
            & (lon <= e + AREA_MARGIN)
            & (lat >= s - AREA_MARGIN)
            & (lat <= n + AREA_MARGIN)
        )

    return inside


def _swap_flags(
    x: np.ndarray, y: np.ndarray, usable: np.ndarray, crs: CRS
) -> tuple[np.ndarray, np.ndarray, str]:
    """Per-row "looks swapped" and "outside area" flags, and the rule used (for messages)."""
    n = len(x)
    swapped = np.zeros(n, dtype=bool)
    outside = np.zeros(n, dtype=bool)
    if crs.is_geographic:
        china_as_is = usable & _in_china(x, y)
        china_swapped = usable & _in_china(y, x)
        n_usable = int(usable.sum())
        if n_usable and china_as_is.sum() + china_swapped.sum() >= 0.5 * n_usable:
            swapped = china_swapped
            rule = "China: lon 73–136, lat 3–54"
        else:
            swapped = usable & (np.abs(y) > 90) & (np.abs(y) <= 180) & (np.abs(x) <= 90)
            rule = "|lat| > 90"
        return swapped, outside, rule
    inside = _area_test(crs)
    if inside is None:
        return swapped, outside, ""
    as_is = inside(x, y)
    flipped = inside(y, x)
    swapped = usable & ~as_is & flipped
    outside = usable & ~as_is & ~flipped
    return swapped, outside, "area of use of the CRS"


def check_coordinates(
    raw_x: pd.Series,
    raw_y: pd.Series,
    *,
    names: tuple[str, str],
    crs: CRS,
    labels: list[str],
) -> Checked:
    """Classify every row's coordinates; see :func:`gridgeo.io.read_reports` for the rules."""
    xn, yn = names
    x, x_missing, x_text = to_numbers(raw_x)
    y, y_missing, y_text = to_numbers(raw_y)
    raw_xv = raw_x.astype(object).to_numpy()
    raw_yv = raw_y.astype(object).to_numpy()
    n = len(x)
    status = np.full(n, OK, dtype=object)
    issue = np.full(n, "", dtype=object)
    missing = x_missing | y_missing
    not_numeric = ~missing & (x_text | y_text)
    numeric = ~missing & ~not_numeric
    with np.errstate(invalid="ignore"):
        infinite = numeric & ~(np.isfinite(x) & np.isfinite(y))
        zero = numeric & ~infinite & (x == 0) & (y == 0)
    usable = numeric & ~infinite & ~zero
    swapped, outside, rule = _swap_flags(x, y, usable, crs)
    geographic = crs.is_geographic
    with np.errstate(invalid="ignore"):
        lat_range = usable & geographic & (np.abs(y) > 90)
        lon_range = usable & geographic & (np.abs(x) > 180)

    n_usable = int(usable.sum())
    column_swap = ""
    if n_usable and swapped.sum() > 0.5 * n_usable:
        column_swap = (
            f"{int(swapped.sum())} of {n_usable} rows with coordinates look swapped "
            f"({rule}); first: {labels[int(np.flatnonzero(swapped)[0])]}: "
            f"{xn}={_fmt(x[swapped][0])}, {yn}={_fmt(y[swapped][0])}"
        )

    bad = missing | not_numeric | infinite | zero | swapped | outside | lat_range | lon_range
    for i in np.flatnonzero(bad):
        label = labels[i]
        if missing[i]:
            status[i] = MISSING
            gone = [nm for nm, m in ((xn, x_missing[i]), (yn, y_missing[i])) if m]
            verb = "is" if len(gone) == 1 else "are"
            issue[i] = f"{label}: {' and '.join(gone)} {verb} missing"
            continue
        status[i] = INVALID
        if not_numeric[i]:
            texts = [
                f"{nm}={_fmt(raw)} is not a number"
                for nm, raw, t in ((xn, raw_xv[i], x_text[i]), (yn, raw_yv[i], y_text[i]))
                if t
            ]
            issue[i] = f"{label}: {'; '.join(texts)}"
            continue
        pair = f"{xn}={_fmt(x[i])}, {yn}={_fmt(y[i])}"
        parts = []
        if infinite[i]:
            parts.append(f"{pair} is not finite")
        elif zero[i]:
            parts.append(f"{pair} is 'null island' (0, 0), a missing position stored as zeros")
        else:
            if lat_range[i]:
                parts.append(f"{yn}={_fmt(y[i])} out of range [-90, 90]")
            if lon_range[i]:
                parts.append(f"{xn}={_fmt(x[i])} out of range [-180, 180]")
            if swapped[i]:
                parts.append(f"{pair} look swapped ({xn} and {yn} the wrong way round)")
            elif outside[i]:
                parts.append(f"{pair} lies outside the area of use of {crs.name}; check crs=")
        issue[i] = f"{label}: {'; '.join(parts)}"
    return Checked(x=x, y=y, status=status, issue=issue, column_swap=column_swap)


def geometry_coordinates(
    geoms: np.ndarray, labels: list[str]
) -> tuple[pd.Series, pd.Series, np.ndarray, np.ndarray]:
    """Point coordinates of a geometry array, plus missing and wrong-type masks and issues.

    Returns ``(x, y, wrong_type, issue)``; ``x``/``y`` are NaN where the geometry is missing,
    empty or not a Point.
    """
    n = len(geoms)
    missing = np.asarray(shapely.is_missing(geoms) | shapely.is_empty(geoms), dtype=bool)
    types = np.asarray(shapely.get_type_id(geoms))
    wrong = ~missing & (types != 0)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    points = ~missing & ~wrong
    x[points] = shapely.get_x(geoms[points])
    y[points] = shapely.get_y(geoms[points])
    issue = np.full(n, "", dtype=object)
    for i in np.flatnonzero(wrong):
        issue[i] = f"{labels[i]}: geometry is a {geoms[i].geom_type}, not a Point"
    return pd.Series(x), pd.Series(y), wrong, issue


# --- read_reports steps ------------------------------------------------------------

_LON_HINTS = ("lng", "lon", "long", "longitude", "x", "经度", "东经")
_LAT_HINTS = ("lat", "latitude", "y", "纬度", "北纬")


def candidates(columns: list[str], hints: tuple[str, ...]) -> list[str]:
    found = []
    for column in columns:
        key = str(column).strip().lower()
        if key in hints or any(len(h) > 1 and h in key for h in hints):
            found.append(column)
    return found


def require_coordinate_columns(df: pd.DataFrame, lon: str, lat: str, source: str) -> None:
    columns = [str(c) for c in df.columns]
    if lon == lat:
        msg = f"lon and lat name the same column {lon!r} in {source}; pass two columns."
        raise ColumnError(msg)
    missing = [(arg, name) for arg, name in (("lon", lon), ("lat", lat)) if name not in df.columns]
    if not missing:
        return
    parts = []
    for arg, name in missing:
        hints = candidates(columns, _LON_HINTS if arg == "lon" else _LAT_HINTS)
        hint = f" Did you mean {arg}={hints[0]!r}?" if hints else ""
        parts.append(f"{arg}={name!r} is not a column of {source}.{hint}")
    shown = ", ".join(map(repr, columns[:30])) + (" …" if len(columns) > 30 else "")
    msg = f"{' '.join(parts)} Available columns: {shown}."
    raise ColumnError(msg)


def resolve_crs(crs: Any, file_crs: CRS | None) -> tuple[CRS, str | None]:
    """Return the output CRS and the Chinese system to convert from (gcj02/bd09) if any."""
    from gridgeo import crs as gcrs

    if isinstance(crs, str):
        try:
            system = gcrs._normalise_system(crs, "crs")
        except CRSError:
            system = None
        if system is not None:
            if system == "wgs84" and file_crs is not None:
                return file_crs, None  # the file says what it is; crs= was left at default
            epsg = 4490 if system == "cgcs2000" else 4326
            return CRS.from_epsg(epsg), system if system in {"gcj02", "bd09"} else None
    try:
        return CRS.from_user_input(crs), None
    except PyprojCRSError as err:
        msg = (
            f"crs={crs!r} is not understood; use 'wgs84', 'gcj02', 'bd09', 'cgcs2000', or an "
            "EPSG code such as 4547 for projected x/y columns (CGCS2000 Gauss-Krüger 114E)."
        )
        raise CRSError(msg) from err


def row_labels(n: int, ids: pd.Series | None) -> list[str]:
    if ids is None:
        return [f"row {i}" for i in range(n)]
    return [f"row {i} (id {v!r})" for i, v in enumerate(ids.tolist())]


def parse_time_column(
    out: pd.DataFrame, time: str, errors: str, labels: list[str], source: str, tz: str | None
) -> np.ndarray:
    """Parse ``out[time]`` in place with the one time parser; return a note per row."""
    times, bad = parse_times(out[time], tz=tz)
    notes = np.full(len(out), "", dtype=object)
    if bad.any():
        raw = out[time].astype(object).to_numpy()
        rows = [f"{labels[i]}: {time}={raw[i]!r}" for i in np.flatnonzero(bad)]
        if errors == "raise":
            msg = (
                f"column {time!r} of {source} has {len(rows)} value(s) that are not "
                f"dates/times: {rows_preview(rows)}. Use formats like '2026-03-05 08:07:00', "
                "'2026/3/5 8:07' or ISO 8601 with an offset, or pass errors='flag' to keep "
                "them as NaT with a note in coord_issue."
            )
            raise ColumnError(msg)
        for i in np.flatnonzero(bad):
            notes[i] = f"{labels[i]}: {time}={raw[i]!r} is not a date/time (set to NaT)"
        logger.warning(
            "%s: %d value(s) of column %r are not dates/times (set to NaT, noted in "
            "coord_issue): %s",
            source,
            len(rows),
            time,
            rows_preview(rows),
        )
    out[time] = times
    return notes


def check_ids(ids: pd.Series, id_column: str, source: str) -> None:
    if ids.isna().any():
        rows = np.flatnonzero(ids.isna().to_numpy())
        msg = (
            f"id column {id_column!r} of {source} is empty in row(s) {rows_preview(rows)}; "
            "fill it or drop id=."
        )
        raise ColumnError(msg)
    require_unique(ids, f"ids in column {id_column!r}", source)


def check_rows(
    out: pd.DataFrame,
    geometry: gpd.GeoSeries | None,
    lon: str,
    lat: str,
    out_crs: CRS,
    labels: list[str],
) -> tuple[Checked, tuple[str, str]]:
    if geometry is None:
        checked = check_coordinates(
            out[lon], out[lat], names=(lon, lat), crs=out_crs, labels=labels
        )
        return checked, (lon, lat)
    geoms = np.asarray(geometry.array, dtype=object)
    gx, gy, wrong, wrong_issue = geometry_coordinates(geoms, labels)
    checked = check_coordinates(gx, gy, names=("lon", "lat"), crs=out_crs, labels=labels)
    checked.status[wrong] = INVALID
    checked.issue[wrong] = wrong_issue[wrong]
    return checked, ("lon", "lat")


def raise_for_bad_rows(
    checked: Checked,
    names: tuple[str, str],
    source: str,
    errors: str,
    *,
    from_geometry: bool,
) -> None:
    if checked.column_swap:
        if from_geometry:
            msg = (
                f"the point coordinates of {source} look swapped (latitude stored as x): "
                f"{checked.column_swap}. Fix the file's axis order."
            )
        else:
            msg = (
                f"the coordinate columns of {source} look swapped: {checked.column_swap}. "
                f"Pass them the other way round: lon={names[1]!r}, lat={names[0]!r}."
            )
        raise CoordinateError(msg)
    bad = np.flatnonzero(checked.status != OK)
    if errors == "raise" and len(bad):
        shown = "; ".join(checked.issue[bad[:5]])
        more = f" (and {len(bad) - 5} more rows)" if len(bad) > 5 else ""
        msg = (
            f"{len(bad)} row(s) of {source} have bad coordinates in {names[0]!r}/{names[1]!r}: "
            f"{shown}{more}. Fix them, or pass errors='flag' to keep and mark them."
        )
        raise CoordinateError(msg)


def join_notes(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Row-wise ``"a; b"`` of two object arrays of notes (empty notes left out)."""
    out = np.asarray(first, dtype=object).copy()
    for i in np.flatnonzero(np.asarray(second, dtype=object) != ""):
        out[i] = f"{out[i]}; {second[i]}" if out[i] else second[i]
    return out


def assemble(
    out: pd.DataFrame,
    checked: Checked,
    notes: np.ndarray,
    out_crs: CRS,
    convert_from: str | None,
    source: str,
) -> gpd.GeoDataFrame:
    ok = checked.status == OK
    x, y = checked.x[ok], checked.y[ok]
    if convert_from is not None and ok.any():
        from gridgeo.crs import convert

        x, y = convert(x, y, convert_from, "wgs84")
    points = np.full(len(out), None, dtype=object)
    if ok.any():
        with gc_paused():
            points[ok] = shapely.points(x, y)
    issue = join_notes(checked.issue, notes)
    replaced = [c for c in ("coord_status", "coord_issue", "geometry") if c in out.columns]
    if replaced:
        logger.info("%s: replacing existing column(s) %s", source, replaced)
        out = out.drop(columns=replaced)
    out["coord_status"] = pd.array(checked.status.astype(str), dtype="str")
    out["coord_issue"] = pd.array(np.asarray(issue, dtype=object).astype(str), dtype="str")
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(points, crs=out_crs), crs=out_crs)
