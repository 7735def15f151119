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

import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gridgeo.calendar import WorkCalendar
from gridgeo.errors import ColumnError, InputFileError, ProfileError
from gridgeo.profile._schema import (
    _DEFAULT_NO,
    _DEFAULT_YES,
    _SCHEMA,
    _TIME_KEYS,
    COLUMN_NAMES,
    DEMO_COLUMNS,
    _Checker,
    parse_yes_no,
)
from gridgeo.profile._template import (
    guess_columns,
    read_header,
    template,
    template_from_sample,
)

__all__ = [
    "COLUMN_NAMES",
    "DEMO_COLUMNS",
    "Profile",
    "guess_columns",
    "parse_yes_no",
    "read_header",
    "template",
    "template_from_sample",
]

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


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
