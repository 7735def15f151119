"""Routing (监管分离), response levels and duplicate flagging for :mod:`gridgeo.assignment`.

Public names are re-exported by :mod:`gridgeo.assignment`; import them from there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridgeo._validate import require_columns, rows_preview
from gridgeo.errors import ColumnError

logger = logging.getLogger(__name__)

GRID_OWNER = "网格责任单位"
GRID_OWNER_EN = "grid owner"
_TRUE = {"true", "1", "yes", "y", "是", "有"}


@dataclass(frozen=True)
class LevelRules:
    """Rules for the three-level response (三级网格): 3 grid, 2 squad (中队), 1 departments.

    The level of a report starts at ``default`` and is then lowered (made more serious) by
    each rule that applies, in this order: severity, class, explicit category levels, repeats.

    Parameters
    ----------
    default : int
        Level when no rule applies (3: settled on the spot by grid workers).
    squad_severity : int or None
        Reports with ``severity >= squad_severity`` go at least to level 2.
    departments_severity : int or None
        Reports with ``severity >= departments_severity`` go to level 1.
    departments_classes : tuple of (kind, class_code)
        Category classes handled by departments together (level 1); by default the event
        class ``04`` 突发事件 (emergencies).
    levels : mapping
        ``{category_code: level}`` fixed levels that override the rules above.
    repeat_count, repeat_days : int, float
        When a report is at least the ``repeat_count``-th non-duplicate report of the same
        category in the same cell within ``repeat_days`` days (itself included), it is
        escalated one level (3 → 2, 2 → 1). ``repeat_count=0`` disables the rule.

    Examples
    --------
    >>> LevelRules(squad_severity=2, repeat_count=0)
    LevelRules(default=3, squad_severity=2, departments_severity=None, ...)
    """

    default: int = 3
    squad_severity: int | None = 3
    departments_severity: int | None = None
    departments_classes: tuple[tuple[str, str], ...] = (("event", "04"),)
    levels: Mapping[str, int] = field(default_factory=dict)
    repeat_count: int = 3
    repeat_days: float = 7.0

    def __post_init__(self) -> None:
        bad = [v for v in (self.default, *self.levels.values()) if v not in (1, 2, 3)]
        if bad:
            msg = f"LevelRules: levels must be 1, 2 or 3, got {bad}."
            raise ValueError(msg)
        if self.repeat_count < 0 or not self.repeat_days > 0:
            msg = (
                "LevelRules: repeat_count must be >= 0 and repeat_days > 0, got "
                f"{self.repeat_count} and {self.repeat_days}."
            )
            raise ValueError(msg)

    def __repr__(self) -> str:
        return (
            f"LevelRules(default={self.default}, squad_severity={self.squad_severity}, "
            f"departments_severity={self.departments_severity}, ...)"
        )

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{k}</td><td>{v!r}</td></tr>" for k, v in self.__dict__.items())
        return f"<table><caption>LevelRules</caption>{rows}</table>"


def category_table(categories: Any) -> pd.DataFrame:
    """Resolve the ``categories`` option into a category table indexed by code."""
    from gridgeo.categories import default_categories, load

    if categories is None:
        return default_categories()
    if isinstance(categories, pd.DataFrame | str | Path):
        return load(categories)
    if isinstance(categories, Mapping):
        table = default_categories()
        for code, dept in categories.items():
            code = str(code)
            if code not in table.index:
                table.loc[code] = {c: table[c].iloc[0] for c in table.columns} | {
                    "name": code,
                    "name_en": code,
                    "ownerless_possible": False,
                    "class_code": "",
                    "kind": "event",
                }
            table.loc[code, "department"] = str(dept)
            table.loc[code, "department_en"] = str(dept)
        return table
    msg = (
        "categories must be None, a category table (DataFrame or CSV/Excel path) or a dict "
        f"{{category_code: department}}; got {type(categories).__name__}."
    )
    raise TypeError(msg)


def _owner_known(values: pd.Series) -> np.ndarray:
    obj = values.astype(object).to_numpy()
    known = np.zeros(len(obj), dtype=bool)
    for k, v in enumerate(obj):
        if isinstance(v, bool | np.bool_):
            known[k] = bool(v)
        elif isinstance(v, int | float | np.number) and not pd.isna(v):
            known[k] = v != 0
        elif isinstance(v, str):
            known[k] = v.strip().lower() in _TRUE
    return known


def route(
    assigned: pd.DataFrame,
    *,
    categories: pd.DataFrame | Mapping[str, str] | str | Path | None = None,
    rules: LevelRules | None = None,
    owners: Mapping[str, str] | None = None,
    category_col: str = "category_code",
    severity_col: str = "severity",
    time_col: str = "reported_at",
    owner_col: str = "owner_known",
) -> pd.DataFrame:
    """Give each report its disposal department and response level (监管分离).

    Department: the category's ``department`` from the table. **Ownerless components**: when
    the reports have an ``owner_col`` column and a row's value is not true (False, 0, "否",
    missing) for a category with ``ownerless_possible``, the report goes to its grid's
    default owner: ``owners[grid_code]`` (the grids' ``owner`` column), else
    ``"网格责任单位(<grid_code>)"``. Without an ``owner_col`` column owners are assumed known.
    Unknown category codes get an empty department (logged). Level: see :class:`LevelRules`.

    Parameters
    ----------
    assigned : DataFrame
        Reports, normally the output of :func:`gridgeo.assignment.assign` (``grid_code``,
        ``cell_code`` and ``duplicate_of`` are used when present).
    categories : DataFrame, dict, path or None
        Category table (see :func:`gridgeo.categories.load`), or ``{code: department}``
        overrides of the default table; None for the default table.
    rules : LevelRules, optional
        Response level rules; ``LevelRules()`` by default.
    owners : mapping, optional
        ``{grid_code: owner}`` default owners of the grids.
    category_col, severity_col, time_col, owner_col : str
        Column names; severity, time and owner columns are optional.

    Returns
    -------
    DataFrame
        A copy of ``assigned`` with ``department``, ``department_en`` (str) and ``level``
        (Int8) columns.

    Raises
    ------
    ColumnError
        ``category_col`` is missing.
    TypeError
        ``categories`` or ``rules`` of the wrong kind.

    Examples
    --------
    >>> import pandas as pd
    >>> reports = pd.DataFrame({"category_code": ["E0101", "C0101", "E0401"],
    ...                         "owner_known": [True, False, True],
    ...                         "grid_code": ["G1", "G1", "G2"]})
    >>> out = route(reports)
    >>> out["department"].tolist(), out["level"].tolist()
    (['环卫处', '网格责任单位(G1)', '市政工程处'], [3, 3, 1])
    >>> route(reports, categories={"E0101": "街道办"})["department"].iloc[0]
    '街道办'
    """
    require_columns(assigned, [category_col], "assigned", params={category_col: "category_col"})
    rules = LevelRules() if rules is None else rules
    if not isinstance(rules, LevelRules):
        msg = f"rules must be a gridgeo.assignment.LevelRules, got {type(rules).__name__}."
        raise TypeError(msg)
    table = category_table(categories)
    owners = dict(owners or {})
    out = assigned.copy()
    raw = out[category_col]
    # work on the distinct codes, then expand: millions of rows, a few dozen categories
    code_idx, uniq = pd.factorize(raw.astype(object).where(raw.notna(), None))
    uniq = pd.Index([str(c).strip() for c in uniq], dtype=object)
    rows_u = table.reindex(uniq)
    unknown = pd.isna(rows_u["department"].to_numpy())
    if unknown.any() and (np.isin(code_idx, np.flatnonzero(unknown))).any():
        logger.warning(
            "category codes not in the table (%s); their department is left empty",
            rows_preview(uniq[unknown]),
        )
    dept_names = [*rows_u["department"].astype(object), *rows_u["department_en"].astype(object)]
    n_u = len(uniq)
    dept_code = np.where(code_idx >= 0, code_idx, -1).astype(np.int64)
    dept_en_code = np.where(code_idx >= 0, code_idx + n_u, -1).astype(np.int64)
    if owner_col in out.columns:
        ownerless_u = rows_u["ownerless_possible"].fillna(False).astype(bool).to_numpy()
        hit = np.flatnonzero(
            (code_idx >= 0) & ownerless_u[np.maximum(code_idx, 0)] & ~_owner_known(out[owner_col])
        )
        grid = out["grid_code"] if "grid_code" in out.columns else pd.Series(pd.NA, index=out.index)
        for k in hit:
            gc = grid.iloc[k]
            if pd.isna(gc):
                name, name_en = GRID_OWNER, GRID_OWNER_EN
            else:
                name = owners.get(str(gc), f"{GRID_OWNER}({gc})")
                name_en = owners.get(str(gc), f"{GRID_OWNER_EN} ({gc})")
            dept_names += [name, name_en]
            dept_code[k], dept_en_code[k] = len(dept_names) - 2, len(dept_names) - 1
    names = np.asarray(dept_names, dtype=object)
    for col, idx in (("department", dept_code), ("department_en", dept_en_code)):
        values = np.where(idx >= 0, names[np.maximum(idx, 0)] if len(names) else None, None)
        out[col] = pd.array(np.where(pd.isna(values), None, values), dtype="str")
    codes = pd.Series(
        np.where(code_idx >= 0, uniq.to_numpy()[np.maximum(code_idx, 0)], None),
        index=out.index,
        dtype=object,
    )
    rows = rows_u.iloc[np.maximum(code_idx, 0)] if n_u else rows_u.reindex(codes.to_numpy())
    rows = rows.where(np.repeat((code_idx >= 0)[:, None], rows.shape[1], axis=1)) if n_u else rows
    out["level"] = pd.array(_levels(out, codes, rows, rules, severity_col, time_col), dtype="Int8")
    return out


def _levels(
    frame: pd.DataFrame,
    codes: pd.Series,
    rows: pd.DataFrame,
    rules: LevelRules,
    severity_col: str,
    time_col: str,
) -> np.ndarray:
    n = len(frame)
    level = np.full(n, rules.default, dtype=np.int64)
    if severity_col in frame.columns:
        sev = pd.to_numeric(frame[severity_col], errors="coerce").to_numpy(dtype=float)
        if rules.squad_severity is not None:
            level = np.where(sev >= rules.squad_severity, np.minimum(level, 2), level)
        if rules.departments_severity is not None:
            level = np.where(sev >= rules.departments_severity, 1, level)
    if rules.departments_classes:
        pairs = set(rules.departments_classes)
        kind = rows["kind"].astype(object).to_numpy()
        cls = rows["class_code"].astype(object).to_numpy()
        hit = np.array([(k, c) in pairs for k, c in zip(kind, cls, strict=True)], dtype=bool)
        level = np.where(hit, 1, level)
    for code, lv in rules.levels.items():
        level = np.where(codes.to_numpy() == str(code), lv, level)
    if rules.repeat_count > 0 and {"cell_code", time_col} <= set(frame.columns):
        rep = _repeats(frame, codes, time_col, rules.repeat_days)
        level = np.where(rep >= rules.repeat_count, np.maximum(level - 1, 1), level)
    return level


def _repeats(frame: pd.DataFrame, codes: pd.Series, time_col: str, days: float) -> np.ndarray:
    """Non-duplicate reports of the same category and cell in the ``days`` up to each report."""
    n = len(frame)
    out = np.zeros(n, dtype=np.int64)
    t = _as_ns(frame[time_col])
    cell = frame["cell_code"]
    ok = cell.notna().to_numpy() & codes.notna().to_numpy() & (t != np.iinfo(np.int64).min)
    if "duplicate_of" in frame.columns:
        ok &= frame["duplicate_of"].isna().to_numpy()
    pos = np.flatnonzero(ok)
    if len(pos) == 0:
        return out
    key = pd.factorize(
        pd.Series(cell.to_numpy(dtype=object)[pos]) + "\x00" + codes.to_numpy(dtype=object)[pos]
    )[0]
    tt = t[pos]
    order = np.lexsort((np.arange(len(pos)), tt, key))
    k_s, t_s = key[order], tt[order]
    window = int(days * 86_400e9)
    # rows with the same key and time in (t - window, t]: binary search on (key, time)
    lo = np.searchsorted(_composite(k_s, t_s), _composite(k_s, t_s - window), side="right")
    count = np.arange(len(order)) - lo + 1
    out[pos[order]] = count
    return out


def _composite(key: np.ndarray, t: np.ndarray) -> np.ndarray:
    # lexicographic (key, t) as a structured view sorted like the lexsort above
    rec = np.empty(len(key), dtype=[("k", np.int64), ("t", np.int64)])
    rec["k"], rec["t"] = key, t
    return rec


def _as_ns(values: pd.Series) -> np.ndarray:
    t = pd.to_datetime(values, errors="coerce")
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    return t.to_numpy(dtype="datetime64[ns]").astype(np.int64)


# --------------------------------------------------------------------------------------------
# duplicates
# --------------------------------------------------------------------------------------------
def duplicates_xy(
    frame: pd.DataFrame,
    x: np.ndarray,
    y: np.ndarray,
    *,
    distance: float,
    minutes: float,
    category_col: str,
    time_col: str,
) -> pd.Series:
    """Core of :func:`flag_duplicates` on metric coordinates ``x``, ``y`` (NaN = skip)."""
    for value, name in ((distance, "duplicate distance"), (minutes, "duplicate minutes")):
        if not (isinstance(value, int | float | np.number) and np.isfinite(value) and value > 0):
            msg = f"{name} must be a positive number, got {value!r}."
            raise ValueError(msg)
    n = len(frame)
    result = np.full(n, -1, dtype=np.int64)
    t = _as_ns(frame[time_col])
    cat = frame[category_col]
    ok = np.isfinite(x) & np.isfinite(y) & (t != np.iinfo(np.int64).min) & cat.notna().to_numpy()
    pos = np.flatnonzero(ok)
    if len(pos) > 1:
        dup = _greedy_duplicates(
            x[pos],
            y[pos],
            t[pos],
            pd.factorize(cat.to_numpy(dtype=object)[pos])[0],
            distance,
            minutes,
        )
        hit = dup >= 0
        result[pos[hit]] = pos[dup[hit]]
    labels = frame.index.to_numpy()
    values = np.where(result >= 0, labels[np.maximum(result, 0)], None)
    dtype: Any = "Int64" if pd.api.types.is_integer_dtype(frame.index) else object
    return pd.Series(values, index=frame.index, name="duplicate_of").astype(dtype)


def _greedy_duplicates(
    x: np.ndarray,
    y: np.ndarray,
    t: np.ndarray,
    cat: np.ndarray,
    distance: float,
    minutes: float,
) -> np.ndarray:
    """Earliest earlier *first* report within the window for each report, or -1."""
    m = len(x)
    window = round(minutes * 60e9)
    t_rel = (t - t.min()).astype(float) / (minutes * 60e9)
    pts = np.column_stack([x / distance, y / distance, t_rel, cat * 4.0])
    from scipy.spatial import cKDTree  # imported here: scipy.spatial costs 0.3 s to import

    pairs = cKDTree(pts).query_pairs(r=1.0 + 1e-9, p=np.inf, output_type="ndarray")
    dup = np.full(m, -1, dtype=np.int64)
    if len(pairs) == 0:
        return dup
    i, j = pairs[:, 0], pairs[:, 1]
    keep = (cat[i] == cat[j]) & (np.abs(t[i] - t[j]) <= window)
    keep &= np.hypot(x[i] - x[j], y[i] - y[j]) <= distance
    i, j = i[keep], j[keep]
    if len(i) == 0:  # near in the KD-tree's box metric, but none within the real window
        return dup
    rank = np.empty(m, dtype=np.int64)
    rank[np.lexsort((np.arange(m), t))] = np.arange(m)
    early = np.where(rank[i] < rank[j], i, j)
    late = np.where(rank[i] < rank[j], j, i)
    order = np.lexsort((rank[early], rank[late]))
    early, late = early[order], late[order]
    primary = np.ones(m, dtype=bool)
    starts = np.flatnonzero(np.r_[True, late[1:] != late[:-1]])
    ends = np.r_[starts[1:], len(late)]
    for s, e in zip(starts, ends, strict=True):
        j = late[s]
        for k in range(s, e):
            if primary[early[k]]:
                dup[j] = early[k]
                primary[j] = False
                break
    return dup


def flag_duplicates(
    reports: pd.DataFrame,
    *,
    distance: float = 50.0,
    minutes: float = 60.0,
    category_col: str = "category_code",
    time_col: str = "reported_at",
) -> pd.Series:
    """Flag probable duplicate reports (flagged, never removed).

    Reports are taken in time order (ties: input order). A report is a *duplicate* of the
    earliest *first* report (a report that is not itself a duplicate) of the same category
    at most ``distance`` metres away and at most ``minutes`` earlier; otherwise it is a first
    report. Rows without a point, time or category are never flagged.

    Parameters
    ----------
    reports : GeoDataFrame
        Point reports with a CRS (distances are measured in a local metric CRS).
    distance : float
        Metres.
    minutes : float
        Time window after a first report.
    category_col, time_col : str
        Category code and report time columns.

    Returns
    -------
    pandas.Series
        ``duplicate_of``: index label of the first report, ``<NA>`` for first reports and
        unflagged rows; aligned to ``reports.index``.

    Raises
    ------
    ColumnError
        A column is missing.
    CRSError
        ``reports`` has no CRS.
    ValueError
        ``distance`` or ``minutes`` not positive.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import Point
    >>> r = gpd.GeoDataFrame({"category_code": ["E0101"] * 3,
    ...     "reported_at": pd.to_datetime(["2026-03-05 08:00", "2026-03-05 08:20",
    ...                                     "2026-03-05 11:00"])},
    ...     geometry=[Point(0, 0), Point(30, 0), Point(0, 10)], crs="EPSG:4547")
    >>> flag_duplicates(r).tolist()
    [<NA>, 0, <NA>]
    """
    import shapely

    from gridgeo._validate import require_crs, require_geodataframe
    from gridgeo.crs import to_metric

    require_geodataframe(reports, "reports")
    require_crs(reports, "reports")
    require_columns(
        reports,
        [category_col, time_col],
        "reports",
        params={category_col: "category_col", time_col: "time_col"},
    )
    geoms = reports.geometry.values
    good = ~np.asarray(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    good &= np.asarray(shapely.get_type_id(geoms)) == 0
    if "coord_status" in reports.columns:
        good &= (reports["coord_status"].astype(object) == "ok").to_numpy()
    if "status" in reports.columns:
        good &= np.isin(reports["status"].astype(object), ["assigned", "snapped", "outside"])
    x = np.full(len(reports), np.nan)
    y = np.full(len(reports), np.nan)
    if good.any():
        sub = reports.loc[good, [reports.geometry.name]]
        if reports.crs.is_geographic:
            xs, ys = shapely.get_x(sub.geometry.values), shapely.get_y(sub.geometry.values)
            fine = (np.abs(xs) <= 180) & (np.abs(ys) <= 90)
            good[np.flatnonzero(good)[~fine]] = False
            sub = sub[fine]
        if len(sub):
            metric = to_metric(sub)
            x[good] = shapely.get_x(metric.geometry.values)
            y[good] = shapely.get_y(metric.geometry.values)
    try:
        return duplicates_xy(
            reports,
            x,
            y,
            distance=distance,
            minutes=minutes,
            category_col=category_col,
            time_col=time_col,
        )
    except TypeError as err:  # pragma: no cover - exotic time columns
        msg = f"reports column {time_col!r} cannot be read as times ({err})."
        raise ColumnError(msg) from err
