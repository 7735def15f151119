"""Profile keys, column names, value checks with line numbers, and yes/no values (private)."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridgeo.calendar import WorkCalendar
from gridgeo.errors import ColumnError, ProfileError
from gridgeo.io._flags import parse_flags

#: profile column key -> gridgeo's standard column name
COLUMN_NAMES: dict[str, str] = {
    "id": "report_id",
    "lon": "lng",
    "lat": "lat",
    "reported": "reported_at",
    "filed": "filed_at",
    "dispatched": "dispatched_at",
    "disposed": "disposed_at",
    "closed": "closed_at",
    "category": "category_code",
    "category_name": "class_name",
    "subcategory_name": "name",
    "kind": "kind",
    "source": "source",
    "severity": "severity",
    "status": "case_status",
    "department": "case_department",
    "extended": "extended",
    "new_deadline": "new_deadline",
    "reopened": "reopened",
    "description": "description",
    "address": "address",
}
#: the demo export's columns (``gridgeo demo`` writes ``reports_export.csv``)
DEMO_COLUMNS: dict[str, str] = {
    "id": "report_id",
    "lon": "lng",
    "lat": "lat",
    "reported": "reported_at",
    "filed": "filed_at",
    "dispatched": "dispatched_at",
    "disposed": "disposed_at",
    "closed": "closed_at",
    "category": "category_code",
    "category_name": "class_name",
    "subcategory_name": "name",
    "kind": "kind",
    "source": "source",
    "severity": "severity",
    "extended": "extended",
    "reopened": "reopened",
    "description": "description",
    "address": "address",
}
_TIME_KEYS = ("reported", "filed", "dispatched", "disposed", "closed", "new_deadline")
_SYSTEMS = ("wgs84", "gcj02", "bd09", "cgcs2000")

_DEFAULT_YES = ("是", "Y", "y", "yes", "Yes", "YES", "true", "True", "TRUE", "1")
_DEFAULT_NO = ("否", "N", "n", "no", "No", "NO", "false", "False", "FALSE", "0")

# table -> key -> kind; kinds are checked by _check_value
_SCHEMA: dict[str, dict[str, str]] = {
    "city": {"name": "str", "admin_code": "digits"},
    "reports": {"file": "path", "encoding": "str", "crs": "crs"},
    "columns": dict.fromkeys(COLUMN_NAMES, "str"),
    "flags": {"yes": "strlist", "no": "strlist"},
    "calendar": {
        "working_hours": "hours",
        "weekend": "weekdays",
        "holidays": "dates",
        "workdays": "dates",
        "calendar_time": "bool",
    },
    "categories": {"file": "path"},
    "layers": {
        "boundary": "path",
        "boundary_crs": "crs",
        "streets": "path",
        "communities": "path",
        "plan": "path",
    },
    "grids": {
        "n": "posint",
        "tolerance": "fraction",
        "weight": "str",
        "cell_area": "posfloat",
        "seed": "int",
    },
    "thresholds": {
        "snap_m": "nonneg",
        "walk_distance_m": "posfloat",
        "per_worker": "posfloat",
        "red_count": "nonneg",
        "yellow_count_quantile": "percent",
    },
    "output": {"folder": "path", "lang": "lang"},
}


# ------------------------------------------------------------------------- yes / no values
def parse_yes_no(
    values: pd.Series, *, yes: Sequence[str], no: Sequence[str], column: str
) -> pd.Series:
    """Turn a column of yes/no texts into a nullable boolean Series with the profile's values.

    The reading is gridgeo's one yes/no parser (:func:`gridgeo.io.parse_flags`) with the
    profile's ``[flags] yes``/``no`` spellings; empty cells are ``<NA>``; a value in neither
    list raises :class:`ColumnError` naming the column, the rows and the values.
    """
    flags, bad = parse_flags(values, true_values=yes, false_values=no, name=column)
    if bad.any():
        rows = np.flatnonzero(bad)[:5]
        shown = ", ".join(f"row {i}: {str(values.iloc[i]).strip()!r}" for i in rows)
        msg = (
            f"column {column!r} holds value(s) that are neither yes nor no ({shown}); add them "
            "to [flags] yes = [...] or no = [...] in the profile."
        )
        raise ColumnError(msg)
    return flags


# ---------------------------------------------------------------------------- validation
def _line_of(text: str, table: str, key: str | None = None) -> int | None:
    """1-based line of ``key`` in ``[table]`` (or of the table header), None if not found."""
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
        if header:
            current = header.group(1).strip()
            if key is None and current == table:
                return number
            continue
        if key is not None and current == table:
            name = re.match(r"^[\"']?([^\"'=\s]+)[\"']?\s*=", stripped)
            if name and name.group(1) == key:
                return number
    return None


class _Checker:
    def __init__(self, text: str, source: str, base: Path) -> None:
        self.text, self.source, self.base = text, source, base

    def fail(self, table: str, key: str | None, problem: str) -> ProfileError:
        line = _line_of(self.text, table, key)
        where = f"[{table}] {key}" if key else f"[{table}]"
        at = f" (line {line})" if line else ""
        return ProfileError(f"{self.source}: {where}{at}: {problem}")

    def unknown(self, table: str | None, key: str, valid: Sequence[str]) -> ProfileError:
        close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; valid: {', '.join(valid)}"
        if table is None:
            line = _line_of(self.text, key)
            at = f" (line {line})" if line else ""
            return ProfileError(f"{self.source}: unknown table [{key}]{at}{hint}")
        return self.fail(table, key, f"unknown key {key!r}{hint}")

    def value(self, table: str, key: str, kind: str, value: Any) -> Any:  # noqa: C901
        def bad(expected: str) -> ProfileError:
            return self.fail(table, key, f"expected {expected}, got {value!r}")

        if kind == "str":
            if not isinstance(value, str):
                raise bad("a text in quotes")
            return value
        if kind == "digits":
            if not (isinstance(value, str) and value.isdigit() and len(value) == 6):
                raise bad('a 6-digit admin code in quotes, e.g. "441302"')
            return value
        if kind == "path":
            if not isinstance(value, str):
                raise bad("a file path in quotes")
            return None if value == "" else (self.base / value)
        if kind == "crs":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str):
                low = value.strip().lower().replace("-", "").replace("_", "")
                if low in _SYSTEMS:
                    return low
                if re.fullmatch(r"epsg:\d{4,5}", low):
                    return value.upper()
            raise bad(f"one of {', '.join(_SYSTEMS)}, an EPSG code like 4547 or 'EPSG:4547'")
        if kind == "strlist":
            if not (isinstance(value, list) and all(isinstance(v, str | int) for v in value)):
                raise bad('a list of texts, e.g. ["是", "Y", "1"]')
            return tuple(str(v) for v in value)
        if kind == "hours":
            ok = isinstance(value, list) and all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(t, str) for t in p)
                for p in value
            )
            if not ok:
                raise bad('a list of ["HH:MM", "HH:MM"] pairs, e.g. [["08:30", "12:00"]]')
            pairs = tuple((a, b) for a, b in value)
            try:
                WorkCalendar(hours=pairs)
            except ValueError as err:
                raise self.fail(table, key, str(err)) from None
            return pairs
        if kind == "weekdays":
            if not (isinstance(value, list) and all(v in range(7) for v in value)):
                raise bad("a list of weekday numbers 0-6 (Monday = 0), e.g. [5, 6]")
            return tuple(int(v) for v in value)
        if kind == "dates":
            if not isinstance(value, list):
                raise bad('a list of dates, e.g. [2026-10-01, "2026-10-02"]')
            out = []
            for v in value:
                if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
                    out.append(v)
                    continue
                try:
                    out.append(dt.date.fromisoformat(str(v)))
                except ValueError:
                    raise self.fail(table, key, f"{v!r} is not a date YYYY-MM-DD") from None
            return tuple(out)
        if kind == "bool":
            if not isinstance(value, bool):
                raise bad("true or false")
            return value
        if kind in ("int", "posint"):
            if not isinstance(value, int) or isinstance(value, bool):
                raise bad("a whole number")
            if kind == "posint" and value < 1:
                raise bad("a whole number >= 1")
            return value
        if kind in ("posfloat", "nonneg", "fraction", "percent"):
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise bad("a number")
            limits = {
                "posfloat": (0.0, float("inf"), False),
                "nonneg": (0.0, float("inf"), True),
                "fraction": (0.0, 1.0, False),
                "percent": (0.0, 100.0, False),
            }[kind]
            low, high, closed = limits
            if not ((value >= low if closed else value > low) and value <= high):
                raise bad(f"a number in {'[' if closed else '('}{low:g}, {high:g}]")
            return float(value)
        if kind == "lang":
            if value not in ("zh", "en"):
                raise bad('"zh" or "en"')
            return value
        raise AssertionError(kind)  # pragma: no cover
