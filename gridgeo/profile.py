"""City profile: one TOML file that describes a city's own data, set once, used by every step.

A profile (``gridgeo.toml``) names the columns of the city's case export, its coordinate
system and encoding, the values that mean yes and no, the workday calendar, the category
table, the layers (district boundary, streets, communities, the saved grid plan), grid targets,
thresholds and the output folder. ``gridgeo init`` writes a commented template (and guesses the
column names from a sample export); ``gridgeo run --profile city.toml`` and the Python API
(:meth:`Profile.load`, ``gg.Profile``) read it.

Paths in a profile are relative to the profile file. Every key is checked: an unknown key, a
wrong type or a bad value raises :class:`gridgeo.errors.ProfileError` naming the key and its line,
with the closest valid key when the name looks mistyped.

Column names after :meth:`Profile.read_reports` (what :func:`gridgeo.coverage.report` expects):

============== ===========================================================================
profile key    column in the result
============== ===========================================================================
id             ``report_id`` (also the index)
lon, lat       ``lng``, ``lat`` (the geometry is built from them)
reported       ``reported_at`` (and ``filed``/``dispatched``/``disposed``/``closed`` → ``*_at``)
category       ``category_code`` (a sub-class code, or a sub-class name of the category table)
category_name  ``class_name`` (top class, 大类); ``subcategory_name`` → ``name`` (小类)
kind, source, severity, description, address   the same names
status         ``case_status`` (``status`` is the assignment status written by ``gg.assign``)
department     ``case_department`` (``department`` is the routed disposal department)
extended       ``extended`` (bool, from the yes/no values); ``new_deadline`` (datetime)
reopened       ``reopened`` (a count: numbers kept, yes/no values → 1/0)
============== ===========================================================================
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridgeo.calendar import WorkCalendar
from gridgeo.errors import ColumnError, InputFileError, ProfileError

__all__ = [
    "COLUMN_NAMES",
    "DEMO_COLUMNS",
    "Profile",
    "guess_columns",
    "parse_yes_no",
    "template",
    "template_from_sample",
]

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

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

# Header synonyms (lower case, no spaces) used by guess_columns, most specific first.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("案件编号", "案卷编号", "案件号", "工单号", "编号", "report_id", "case_id", "id"),
    "lon": ("经度", "x坐标", "lng", "lon", "long", "longitude", "x"),
    "lat": ("纬度", "y坐标", "lat", "latitude", "y"),
    "reported": ("上报时间", "发现时间", "受理时间", "reported_at", "report_time", "reported"),
    "filed": ("立案时间", "filed_at", "filed", "registered_at"),
    "dispatched": ("派遣时间", "派单时间", "dispatched_at", "dispatched"),
    "disposed": ("处置时间", "处置完成时间", "处理时间", "disposed_at", "disposed"),
    "closed": ("结案时间", "办结时间", "closed_at", "closed"),
    "category": ("小类代码", "小类编码", "类别代码", "category_code", "category"),
    "category_name": ("大类", "大类名称", "class_name", "category_name"),
    "subcategory_name": ("小类", "小类名称", "subcategory", "subcategory_name"),
    "kind": ("案件类型", "类型", "kind", "type"),
    "source": ("案件来源", "来源", "source"),
    "severity": ("紧急程度", "严重程度", "severity", "priority"),
    "status": ("案件状态", "状态", "status"),
    "department": ("处置部门", "责任部门", "承办部门", "department", "dept"),
    "extended": ("是否延期", "延期", "extended", "extension"),
    "new_deadline": ("延期后期限", "新期限", "new_deadline"),
    "reopened": ("是否返工", "返工", "返工次数", "reopened", "rework"),
    "description": ("问题描述", "描述", "description"),
    "address": ("地址", "位置", "address"),
}

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
    """Turn a column of yes/no texts into a nullable boolean Series (temporary helper).

    Stand-in for the shared ``gridgeo._flags.parse_flags``: empty cells are ``<NA>``; a value
    in neither list raises :class:`ColumnError` naming the column, the rows and the values.
    """
    yes_set = {str(v).strip() for v in yes}
    no_set = {str(v).strip() for v in no}
    raw = values.astype(object).to_numpy()
    missing = np.asarray(pd.isna(raw), dtype=bool)
    text = np.array([_flag_text(v) for v in raw], dtype=object).astype(str)
    text[missing] = ""
    is_yes = np.isin(text, list(yes_set))
    is_no = np.isin(text, list(no_set))
    empty = missing | (text == "")
    bad = ~(is_yes | is_no | empty)
    if bad.any():
        rows = np.flatnonzero(bad)[:5]
        shown = ", ".join(f"row {i}: {str(text[i])!r}" for i in rows)
        msg = (
            f"column {column!r} holds value(s) that are neither yes nor no ({shown}); add them "
            "to [flags] yes = [...] or no = [...] in the profile."
        )
        raise ColumnError(msg)
    out = pd.array(np.where(is_yes, True, False), dtype="boolean")
    out[empty] = pd.NA
    return pd.Series(out, index=values.index, name=values.name)


def _flag_text(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


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


# ------------------------------------------------------------------------------- Profile
@dataclass(frozen=True)
class Profile:
    """A city's settings, read from a TOML profile (see the module docstring).

    Build one with :meth:`load`; every attribute has a default, so ``Profile()`` describes the
    demo export (``lng``/``lat`` in GCJ-02, ``report_id``, ``reported_at``…).

    Attributes
    ----------
    path : Path or None
        The profile file (relative paths in it are resolved against its folder).
    name : str
        City or district name (report titles).
    admin_code : str or None
        6-digit district code used when coding cells that carry none.
    reports_file : Path or None
        The case export read by ``gridgeo run``.
    encoding : str or None
        CSV encoding; None detects UTF-8/GBK.
    crs : str or int
        Coordinate system of the export: ``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000`` or EPSG.
    columns : dict
        Profile column key → the export's column name (keys in :data:`COLUMN_NAMES`).
    yes, no : tuple of str
        Values that mean yes and no in flag columns (``extended``, ``reopened``).
    calendar : WorkCalendar or None
        Working hours, weekend, holidays, make-up days; None counts calendar time.
    categories_file : Path or None
        The city's category table (:func:`gridgeo.categories.load`); None uses the default.
    boundary, streets, communities, plan : Path or None
        Layers: the district, streets for street-bounded cells, communities for nesting,
        the saved grid plan (GeoPackage, :func:`gridgeo.grids.save_plan`).
    boundary_crs : str or int or None
        Declared system of the layers when their coordinates are GCJ-02/BD-09 lon/lat.
    grids : dict
        ``n``, ``tolerance``, ``weight``, ``cell_area``, ``seed`` for building grids.
    thresholds : dict
        ``snap_m``, ``walk_distance_m``, ``per_worker``, ``red_count``,
        ``yellow_count_quantile``.
    output : Path
        Output folder of ``gridgeo run``.
    lang : str
        Language of reports and warnings (``zh`` or ``en``).
    """

    path: Path | None = None
    name: str = ""
    admin_code: str | None = None
    reports_file: Path | None = None
    encoding: str | None = None
    crs: str | int = "gcj02"
    columns: Mapping[str, str] = field(
        default_factory=lambda: {
            "id": "report_id",
            "lon": "lng",
            "lat": "lat",
            "reported": "reported_at",
        }
    )
    yes: tuple[str, ...] = _DEFAULT_YES
    no: tuple[str, ...] = _DEFAULT_NO
    calendar: WorkCalendar | None = field(default_factory=WorkCalendar)
    categories_file: Path | None = None
    boundary: Path | None = None
    boundary_crs: str | int | None = None
    streets: Path | None = None
    communities: Path | None = None
    plan: Path | None = None
    grids: Mapping[str, Any] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    output: Path = Path("gridgeo_out")
    lang: str = "zh"

    def __repr__(self) -> str:
        where = str(self.path) if self.path else "defaults"
        cols = ", ".join(f"{k}={v!r}" for k, v in self.columns.items())
        return f"Profile({where}; {self.crs}; columns: {cols})"

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
            for k, v in self.columns.items()
        )
        head = html.escape(str(self.path) if self.path else "default profile")
        return (
            f"<p><b>Profile</b> {head} — {html.escape(str(self.crs))}</p>"
            f"<table><tr><th>key</th><th>export column</th></tr>{rows}</table>"
        )

    # -- reading ----------------------------------------------------------------------
    @classmethod
    def load(cls, path: PathLike) -> Profile:
        """Read and validate a TOML profile.

        Parameters
        ----------
        path : str or PathLike
            The profile file (``gridgeo.toml``). Relative paths inside it are relative to it.

        Returns
        -------
        Profile

        Raises
        ------
        InputFileError
            The file does not exist or cannot be read.
        ProfileError
            Invalid TOML, an unknown table or key (the closest valid one is suggested), or a
            value of the wrong type; the message names the key and its line.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "city.toml"
        >>> _ = p.write_text('[reports]\\ncrs = "gcj02"\\n[columns]\\nlon = "经度"\\n',
        ...                  encoding="utf-8")
        >>> Profile.load(p).columns["lon"]
        '经度'
        >>> _ = p.write_text('[columns]\\nlong = "经度"\\n', encoding="utf-8")
        >>> Profile.load(p)
        Traceback (most recent call last):
        ...
        gridgeo.errors.ProfileError: ...: [columns] long (line 2): unknown key 'long'; did ...
        """
        file = Path(path)
        if not file.is_file():
            where = "is a folder" if file.is_dir() else "does not exist"
            msg = (
                f"cannot read profile {str(file)!r}: it {where}. Write one with "
                "`gridgeo init` (or `gridgeo init --from-sample export.csv`)."
            )
            raise InputFileError(msg)
        try:
            text = file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as err:
            msg = f"cannot read profile {str(file)!r}: it is not UTF-8 text ({err.reason})."
            raise ProfileError(msg) from None
        return cls.from_text(text, source=str(file), base=file.parent, path=file)

    @classmethod
    def from_text(
        cls,
        text: str,
        *,
        source: str = "profile",
        base: PathLike = ".",
        path: PathLike | None = None,
    ) -> Profile:
        """Validate profile TOML ``text`` (see :meth:`load`); paths are relative to ``base``.

        Examples
        --------
        >>> Profile.from_text('[grids]\\nn = 40\\n').grids["n"]
        40
        """
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            msg = f"{source}: not valid TOML: {err}."
            raise ProfileError(msg) from None
        check = _Checker(text, source, Path(base))
        values: dict[str, dict[str, Any]] = {}
        for table, content in data.items():
            if table not in _SCHEMA:
                raise check.unknown(None, table, list(_SCHEMA))
            if not isinstance(content, dict):
                msg = f"{source}: {table!r} must be a table written [{table}]."
                raise ProfileError(msg)
            kinds = _SCHEMA[table]
            for key, value in content.items():
                if key not in kinds:
                    raise check.unknown(table, key, list(kinds))
                values.setdefault(table, {})[key] = check.value(table, key, kinds[key], value)
        return cls._from_values(values, check, None if path is None else Path(path))

    @classmethod
    def _from_values(
        cls, v: dict[str, dict[str, Any]], check: _Checker, path: Path | None
    ) -> Profile:
        default = cls()
        columns = dict(default.columns)
        columns.update(v.get("columns", {}))
        for key in ("lon", "lat"):
            if not columns.get(key):
                raise check.fail("columns", key, "must name the export's column")
        flags = v.get("flags", {})
        yes, no = flags.get("yes", default.yes), flags.get("no", default.no)
        both = sorted(set(yes) & set(no))
        if both:
            raise check.fail("flags", "no", f"value(s) {both} are listed as both yes and no")
        cal_v = v.get("calendar", {})
        calendar = None
        if not cal_v.get("calendar_time", False):
            calendar = WorkCalendar(
                hours=cal_v.get("working_hours", WorkCalendar.hours),
                weekend=cal_v.get("weekend", WorkCalendar.weekend),
                holidays=frozenset(cal_v.get("holidays", ())),
                workdays=frozenset(cal_v.get("workdays", ())),
            )
        reports, layers, output = v.get("reports", {}), v.get("layers", {}), v.get("output", {})
        city = v.get("city", {})
        return cls(
            path=path,
            name=city.get("name", ""),
            admin_code=city.get("admin_code"),
            reports_file=reports.get("file"),
            encoding=reports.get("encoding") or None,
            crs=reports.get("crs", default.crs),
            columns=columns,
            yes=yes,
            no=no,
            calendar=calendar,
            categories_file=v.get("categories", {}).get("file"),
            boundary=layers.get("boundary"),
            boundary_crs=layers.get("boundary_crs"),
            streets=layers.get("streets"),
            communities=layers.get("communities"),
            plan=layers.get("plan"),
            grids=dict(v.get("grids", {})),
            thresholds=dict(v.get("thresholds", {})),
            output=output.get("folder") or check.base / default.output,
            lang=output.get("lang", default.lang),
        )

    # -- using ------------------------------------------------------------------------
    def categories(self) -> pd.DataFrame:
        """The category table: the profile's file, or gridgeo's default table.

        Examples
        --------
        >>> len(Profile().categories()) > 0
        True
        """
        from gridgeo import categories

        if self.categories_file is None:
            return categories.default_categories()
        return categories.load(self.categories_file)

    def read_reports(self, path: PathLike | pd.DataFrame | None = None) -> Any:
        """Read a case export with this profile's columns, system and encoding.

        Calls :func:`gridgeo.io.read_reports`, parses every time column, turns yes/no flags
        into booleans and renames the mapped columns to gridgeo's standard names (module
        docstring), so the result goes straight to :func:`gridgeo.assign` and
        :func:`gridgeo.coverage.report`. Columns not in the profile are kept as they are.

        Parameters
        ----------
        path : str, PathLike or DataFrame, optional
            The export; default the profile's ``[reports] file``.

        Returns
        -------
        GeoDataFrame
            As :func:`gridgeo.io.read_reports`, with standard column names.

        Raises
        ------
        ProfileError
            No ``path`` and no ``[reports] file`` in the profile.
        ColumnError
            A mapped column is missing from the export, or a flag value is neither yes nor no.
        InputFileError, EncodingError, CoordinateError, DuplicateIdError
            As :func:`gridgeo.io.read_reports`.

        Examples
        --------
        >>> import pandas as pd
        >>> export = pd.DataFrame({"编号": ["A1", "A2"], "经度": [114.41, 114.42],
        ...     "纬度": [23.11, 23.12], "是否延期": ["是", "否"]})
        >>> profile = Profile(crs="wgs84",
        ...     columns={"id": "编号", "lon": "经度", "lat": "纬度", "extended": "是否延期"})
        >>> out = profile.read_reports(export)
        >>> out["report_id"].tolist(), out["extended"].tolist()
        (['A1', 'A2'], [True, False])
        """
        from gridgeo import io

        source = path if path is not None else self.reports_file
        if source is None:
            msg = (
                'no case export given: pass a file, or set [reports] file = "..." in the '
                f"profile {self.path or ''}".rstrip()
                + "."
            )
            raise ProfileError(msg)
        cols = {k: c for k, c in self.columns.items() if c}
        table = source
        if not isinstance(source, pd.DataFrame):
            table = io.read_reports(
                source,
                lon=cols["lon"],
                lat=cols["lat"],
                crs=self.crs,
                time=cols.get("reported"),
                id=cols.get("id"),
                encoding=self.encoding,
            )
        else:
            table = io.read_reports(
                source,
                lon=cols["lon"],
                lat=cols["lat"],
                crs=self.crs,
                time=cols.get("reported"),
                id=cols.get("id"),
            )
        missing = {k: c for k, c in cols.items() if c not in table.columns}
        if missing:
            shown = ", ".join(f"{k} = {c!r}" for k, c in missing.items())
            avail = ", ".join(map(repr, map(str, table.columns[:30])))
            msg = (
                f"[columns] {shown}: not a column of the export. Available columns: {avail}. "
                "Fix the name in the profile, or remove the key."
            )
            raise ColumnError(msg)
        return self._standardise(table, cols)

    def _standardise(self, table: Any, cols: dict[str, str]) -> Any:
        from gridgeo.io._reports import parse_times

        out = table.copy()
        for key in _TIME_KEYS:
            if key in cols and key != "reported":
                out[cols[key]], _bad = parse_times(out[cols[key]])
        if "extended" in cols:
            out[cols["extended"]] = (
                parse_yes_no(
                    out[cols["extended"]], yes=self.yes, no=self.no, column=cols["extended"]
                )
                .fillna(False)
                .astype(bool)
            )
        if "reopened" in cols:
            raw = out[cols["reopened"]]
            numbers = pd.to_numeric(raw, errors="coerce")
            if numbers.notna().sum() < raw.notna().sum():
                flags = parse_yes_no(raw, yes=self.yes, no=self.no, column=cols["reopened"])
                numbers = flags.astype("Int64").astype(float)
            out[cols["reopened"]] = numbers.fillna(0).astype(int)
        if "category" in cols:
            out[cols["category"]] = self._category_codes(out[cols["category"]], cols["category"])
        rename = {c: COLUMN_NAMES[k] for k, c in cols.items() if c != COLUMN_NAMES[k]}
        clash = sorted(set(rename.values()) & (set(out.columns) - set(rename)))
        if clash:
            keep = {name: f"{name}_original" for name in clash}
            out = out.rename(columns=keep)
        return out.rename(columns=rename)

    def _category_codes(self, values: pd.Series, column: str) -> pd.Series:
        table = self.categories()
        text = values.astype("string").str.strip()
        known = text.isin(table.index)
        if known.all() or text.isna().all():
            return text
        by_name = pd.Series(table.index.to_numpy(), index=table["name"].to_numpy())
        by_name = by_name[~by_name.index.duplicated()]
        mapped = text.where(known, text.map(by_name))
        unknown = sorted(text[mapped.isna() & text.notna()].unique())[:5]
        if unknown:
            logger.warning(
                "column %r: %d value(s) are neither codes nor sub-class names of the category "
                "table (e.g. %s); they are kept as they are",
                column,
                int((mapped.isna() & text.notna()).sum()),
                ", ".join(unknown),
            )
            mapped = mapped.fillna(text)
        return mapped


# ----------------------------------------------------------------------- template, guess
def guess_columns(header: Sequence[str]) -> dict[str, str]:
    """Guess profile column keys from an export's header (Chinese and English synonyms).

    Parameters
    ----------
    header : sequence of str
        Column names of the export.

    Returns
    -------
    dict
        Profile key → column name, for the columns recognised (each column used once).

    Examples
    --------
    >>> guess_columns(["案件编号", "经度", "纬度", "上报时间", "备注"])
    {'id': '案件编号', 'lon': '经度', 'lat': '纬度', 'reported': '上报时间'}
    """
    norm = {re.sub(r"[\s_\-（）()]", "", str(h)).lower(): str(h) for h in header}
    used: set[str] = set()
    out: dict[str, str] = {}
    for key, names in _SYNONYMS.items():
        for name in names:
            column = norm.get(re.sub(r"[\s_\-]", "", name).lower())
            if column is not None and column not in used:
                out[key] = column
                used.add(column)
                break
    return out


def _read_header(path: Path) -> list[str]:
    suffix = path.suffix.lower()
    if not path.is_file():
        msg = f"cannot read sample {str(path)!r}: the file does not exist."
        raise InputFileError(msg)
    if suffix in (".xlsx", ".xlsm"):
        return [str(c) for c in pd.read_excel(path, nrows=0).columns]
    if suffix not in (".csv", ".txt"):
        msg = f"cannot read sample {str(path)!r}: use a CSV (.csv, .txt) or Excel (.xlsx) file."
        raise InputFileError(msg)
    raw = path.read_bytes()[:65536]
    for codec in ("utf-8-sig", "gb18030"):
        try:
            first = raw.decode(codec).splitlines()[0] if raw else ""
        except UnicodeDecodeError:
            continue
        return [h.strip().strip('"') for h in first.split(",")]
    msg = f"cannot read sample {str(path)!r}: its header is neither UTF-8 nor GBK text."
    raise InputFileError(msg)


def _guess_encoding(path: Path) -> str:
    if path.suffix.lower() not in (".csv", ".txt"):
        return ""
    raw = path.read_bytes()[:65536]
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "gbk"
    return ""


_TEMPLATE_HEAD = """\
# gridgeo city profile. Paths are relative to this file. Check it with:
#   gridgeo run --profile {name} --day 2026-03-02
# Every key is optional; delete what you do not need.

[city]
name = "{city}"
# admin_code = "441302"            # 6-digit district code (GB/T 2260)

[reports]
file = "{file}"                    # the case export: CSV (UTF-8 or GBK), Excel or Parquet
encoding = "{encoding}"            # "" detects UTF-8 / GBK; or "gbk", "utf-8"
crs = "gcj02"                      # wgs84 | gcj02 (Amap, WeChat) | bd09 (Baidu) | cgcs2000 | 4547

[columns]                          # the export's column names (delete rows it does not have)
"""

_TEMPLATE_TAIL = """
[flags]                            # values that mean yes / no in flag columns
yes = ["是", "Y", "y", "1", "true"]
no = ["否", "N", "n", "0", "false"]

[calendar]                         # for deadlines in working hours / days
working_hours = [["08:30", "12:00"], ["14:00", "17:30"]]
weekend = [5, 6]                   # Monday = 0
holidays = ["2026-01-01", "2026-10-01"]
workdays = []                      # make-up working days (调休) on a weekend
calendar_time = false              # true: count plain hours and days

[categories]
file = ""                          # "" = gridgeo's default table; or "categories.csv"

[layers]
boundary = "district.geojson"      # the district boundary
boundary_crs = "gcj02"             # declare GCJ-02 / BD-09 lon/lat layers
streets = ""                       # streets for street-bounded cells ("" = square cells)
communities = ""                   # community polygons for nesting and codes
plan = "plan.gpkg"                 # the grid plan; built and saved here when missing

[grids]
n = 40                             # number of responsibility grids
tolerance = 0.10                   # allowed deviation from the mean workload
weight = "reports"                 # "reports" (cases per cell), "area" or a cells column
cell_area = 10000                  # m² per base cell
seed = 0

[thresholds]
snap_m = 30                        # reports this close outside the district are snapped in
walk_distance_m = 1000             # 15-minute walk for service coverage
per_worker = 150                   # reports per worker per period before overload
yellow_count_quantile = 90         # yellow warning above this percentile of counts

[output]
folder = "gridgeo_out"
lang = "zh"                        # zh | en
"""


def template(
    *,
    name: str = "gridgeo.toml",
    columns: Mapping[str, str] | None = None,
    reports_file: str = "reports_export.csv",
    encoding: str = "",
    city: str = "",
) -> str:
    """Return the text of a commented profile template.

    Parameters
    ----------
    name : str
        The profile's file name (shown in the comment on how to check it).
    columns : dict, optional
        Profile key → export column; keys not given are written commented out. Default: the
        column names of the demo export (``gridgeo demo`` writes ``reports_export.csv``).
    reports_file, encoding, city : str
        Values for ``[reports] file``, ``[reports] encoding`` and ``[city] name``.

    Returns
    -------
    str
        TOML text that :meth:`Profile.from_text` accepts.

    Examples
    --------
    >>> text = template(columns={"lon": "经度", "lat": "纬度"})
    >>> Profile.from_text(text).columns["lat"]
    '纬度'
    """
    if columns is None:
        columns = DEMO_COLUMNS
    lines = [
        _TEMPLATE_HEAD.format(
            name=name, city=_toml_text(city), file=_toml_text(reports_file), encoding=encoding
        )
    ]
    for key in COLUMN_NAMES:
        if key in columns:
            lines.append(f"{key} = {_toml_quote(columns[key])}\n")
        else:
            lines.append(f'# {key} = ""\n')
    lines.append(_TEMPLATE_TAIL)
    return "".join(lines)


def _toml_text(value: str) -> str:
    return _toml_quote(value)[1:-1]


def _toml_quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def template_from_sample(
    path: PathLike, *, name: str = "gridgeo.toml", reports_file: str | None = None
) -> tuple[str, dict[str, str]]:
    """Template text with the columns guessed from a sample export's header.

    Returns the text and the guessed ``{key: column}`` mapping.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_bytes("案件编号,经度,纬度,上报时间\\nA1,114.4,23.1,2026-03-02\\n".encode("gbk"))
    >>> text, guessed = template_from_sample(p)
    >>> guessed["lon"], 'encoding = "gbk"' in text
    ('经度', True)
    """
    sample = Path(path)
    guessed = guess_columns(_read_header(sample))
    text = template(
        name=name,
        columns=guessed,
        reports_file=sample.name if reports_file is None else reports_file,
        encoding=_guess_encoding(sample),
    )
    return text, guessed
