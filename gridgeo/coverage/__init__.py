"""Coverage reports: spatial coverage, workload and staffing, case KPIs, service and patrol
coverage, warnings and rankings — as HTML, Excel and data.

:func:`report` builds a :class:`CoverageReport`; each section is a DataFrame (with geometries
where it maps). KPI definitions are in :mod:`gridgeo.coverage._kpi` and repeated in :func:`report`.
"""

from __future__ import annotations

import base64
import html
import io as _io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgeo._validate import (
    require_columns,
    require_crs,
    require_geodataframe,
    require_positive,
)
from gridgeo.calendar import CalendarYearWarning, WorkCalendar
from gridgeo.categories import default_categories
from gridgeo.coverage import _kpi
from gridgeo.coverage._network import network_distance, straight_distance
from gridgeo.coverage._report_text import (
    _TITLES,
    _display,
    _flat,
    _fmt,
    _label,
    _lang,
    _note,
    _plain,
    _rule_sentences,
)
from gridgeo.crs import local_crs
from gridgeo.io._atomic import atomic_path

__all__ = [
    "CalendarYearWarning",
    "CoverageReport",
    "WorkCalendar",
    "patrol_coverage",
    "report",
    "service_coverage",
]

logger = logging.getLogger(__name__)

SECTIONS = (
    "spatial",
    "workload",
    "kpi_grid",
    "kpi_department",
    "kpi_category",
    "kpi_source",
    "service",
    "patrol",
    "warnings",
    "ranking",
    "workload_community",
    "ranking_squad",
    "data_problems",
)


@dataclass(frozen=True)
class CoverageReport:
    """The weekly coverage report: one DataFrame per section, plus layers to map.

    Attributes
    ----------
    sections : dict of str to DataFrame
        ``spatial``, ``workload``, ``kpi_grid``, ``kpi_department``, ``kpi_category``,
        ``kpi_source``, ``service``, ``patrol``, ``warnings``, ``ranking`` (empty where the
        input for a section was not given).
    layers : dict of str to GeoDataFrame
        ``cells`` (with service and patrol flags), ``grids``, ``gaps``, ``overlaps``,
        ``uncovered`` (cells outside walking distance), ``unvisited`` (cells never patrolled).
    period : tuple of Timestamp
        The reporting period ``[start, end)``.
    headline : dict
        The key figures shown first.
    notes : dict of str to str
        Why a section is empty or was not computed (a note code per section, shown in the
        report's language), e.g. ``{"service": "no_stations"}``.
    warning_rules : WarningRules or None
        The three-colour warning rules, stated in the report.
    """

    sections: dict[str, pd.DataFrame]
    layers: dict[str, gpd.GeoDataFrame]
    period: tuple[pd.Timestamp, pd.Timestamp]
    headline: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    warning_rules: Any = None

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.sections[name]

    def __repr__(self) -> str:
        start, end = (t.strftime("%Y-%m-%d") for t in self.period)
        lines = [f"CoverageReport {start} .. {end}"]
        lines += [f"  {k}: {_fmt(v, k)}" for k, v in self.headline.items()]
        filled = [k for k, v in self.sections.items() if len(v)]
        lines.append(f"  sections: {', '.join(filled)}")
        if self.notes:
            lines.append(f"  empty or not computed: {', '.join(self.notes)}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
            f"<td>{html.escape(_fmt(v, k))}</td></tr>"
            for k, v in self.headline.items()
        )
        start, end = (t.strftime("%Y-%m-%d") for t in self.period)
        return f"<b>CoverageReport</b> {start} .. {end}<table>{rows}</table>"

    def to_dict(self) -> dict[str, Any]:
        """Plain data: headline figures and each section as a list of records.

        Examples
        --------
        >>> rep = _tiny_report()
        >>> sorted(rep.to_dict())
        ['headline', 'notes', 'period', 'sections']
        """
        return {
            "period": [t.isoformat() for t in self.period],
            "headline": {k: _plain(v) for k, v in self.headline.items()},
            "notes": {k: _note(v, 1) for k, v in self.notes.items()},
            "sections": {
                k: [{c: _plain(x) for c, x in r.items()} for r in _flat(v).to_dict("records")]
                for k, v in self.sections.items()
            },
        }

    def to_excel(self, path: str | Path, *, lang: str = "zh") -> Path:
        """Write one formatted sheet per section, atomically.

        Headers, measure names and fixed values are in ``lang``; rates and shares are
        percentages (numbers, formatted ``0.00%``); the header row is frozen and filterable;
        columns are as wide as their text. An empty section's sheet says why it is empty.
        Text starting with ``=``, ``+``, ``-`` or ``@`` is stored as text, never as a formula.

        Parameters
        ----------
        path : str or Path
            The ``.xlsx`` file to write.
        lang : {"zh", "en"}
            Language of sheet names, headers and values.

        Returns
        -------
        Path
            The file written.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = _tiny_report().to_excel(pathlib.Path(tempfile.mkdtemp()) / "r.xlsx", lang="en")
        >>> p.exists()
        True
        """
        from gridgeo.coverage._report_excel import write_workbook

        i = _lang(lang)
        path = Path(path)
        titles = {k: v[i] for k, v in _TITLES.items()}
        with atomic_path(path) as tmp:
            write_workbook(tmp, self.sections, titles=titles, notes=self.notes, i=i)
        return path

    def to_html(
        self,
        path: str | Path,
        *,
        lang: str = "zh",
        template: str | Path | None = None,
        title: str | None = None,
        logo: str | Path | None = None,
        footer: str = "",
    ) -> Path:
        """Write one self-contained HTML file (tables and embedded PNG figures), atomically.

        The page is rendered from a Jinja2 template with autoescaping: every text value is
        HTML-escaped and nothing is loaded from the internet. The whole report, figures
        included, is in one language; when no Chinese font is installed a Chinese report
        leaves the figures out and says so.

        Parameters
        ----------
        path : str or Path
            The ``.html`` file to write.
        lang : {"zh", "en"}
            Language of titles, headers, values and figures.
        template : str or Path, optional
            An office's own copy of gridgeo's template
            (:func:`gridgeo.coverage._report_html.default_template`).
        title : str, optional
            Title of the page (default "网格化城市管理覆盖报告").
        logo : str or Path, optional
            An image file embedded at the top of the page.
        footer : str
            Text at the bottom of the page (e.g. the office's name).

        Returns
        -------
        Path
            The file written.

        Raises
        ------
        InputFileError
            The template or logo cannot be read, or the template fails.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = _tiny_report().to_html(pathlib.Path(tempfile.mkdtemp()) / "r.html", lang="en")
        >>> "Case KPIs by grid" in p.read_text(encoding="utf-8")
        True
        """
        from gridgeo.coverage._report_html import has_cjk_font, render

        i = _lang(lang)
        titles = {k: v[i] for k, v in _TITLES.items()}
        tables = {k: _display(v, i) for k, v in self.sections.items()}
        notes = {k: _note(v, i) for k, v in self.notes.items()}
        if i == 0 and not has_cjk_font():
            figures: dict[str, str] = {}
            figure_note = "未安装中文字体，本报告不含图表（安装 Noto Sans CJK 后可生成）。"
        else:
            figures, figure_note = _figures(self, i), ""
        headline = {_label(k, i): _fmt(v, k) for k, v in self.headline.items()}
        text = render(
            self,
            titles=titles,
            tables=tables,
            notes=notes,
            figures=figures,
            figure_note=figure_note,
            headline=headline,
            rules=_rule_sentences(self.warning_rules, self.sections.get("warnings"), i),
            lang=lang,
            template=template,
            title=title,
            logo=logo,
            footer=footer,
        )
        path = Path(path)
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return path


def report(
    cells: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame | None,
    assigned: gpd.GeoDataFrame | pd.DataFrame,
    *,
    area: gpd.GeoDataFrame | None = None,
    stations: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    patrols: gpd.GeoDataFrame | None = None,
    period: tuple[Any, Any] | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    categories: pd.DataFrame | None = None,
    calendar: WorkCalendar | str | None = "default",
    staff: pd.DataFrame | None = None,
    walk_distance: float = 1000.0,
    per_worker: float = 150.0,
    now: Any = None,
    warning_rules: Any = None,
) -> CoverageReport:
    """Build the coverage report.

    Parameters
    ----------
    cells : GeoDataFrame
        Base cells with ``cell_code`` (and ``grid_code`` when they come from a grid plan).
    grids : GeoDataFrame or None
        Responsibility grids with ``grid_code``; optional ``workers``/``staff`` column.
    assigned : DataFrame
        Reports from :func:`gridgeo.assign` (``cell_code``, ``grid_code``, ``status``,
        ``department``, ``category_code``, ``source`` and the case timestamps).
    area : GeoDataFrame, optional
        The district: spatial coverage is measured against it.
    stations : GeoDataFrame, optional
        Service stations (points): the 15-minute life-circle section.
    streets : GeoDataFrame, optional
        Street lines: service distance is measured along them (else straight line).
    patrols : GeoDataFrame, optional
        GPS points with ``worker_id`` and ``time`` (or lines): the patrol section.
    period : (start, end), optional
        Reporting period ``[start, end)``; default: the span of ``filed_at``.
    hotspots : GeoDataFrame, optional
        Output of :func:`gridgeo.hotspots.warnings` (``warning``, ``warning_reason``).
    categories : DataFrame, optional
        Category table with deadlines; default :func:`gridgeo.categories.default_categories`.
    calendar : WorkCalendar, None or "default"
        Workday calendar for deadlines and durations; ``None`` counts calendar time.
        ``"default"``: :meth:`WorkCalendar.china` (State Council holidays and make-up working
        days) for a district in mainland China, else weekends only. Office hours are set on
        the calendar (``WorkCalendar.china(hours=...)``).
    staff : DataFrame, optional
        ``grid_code`` and a row per worker; overrides a ``workers`` column on ``grids``.
    walk_distance : float
        Metres that count as within a 15-minute walk (default 1,000 m).
    per_worker : float
        Reports per worker in the period above which a grid is flagged overloaded.
    now : datetime, optional
        "Now" for open and overdue cases; default the period end.
    warning_rules : gridgeo.hotspots.WarningRules, optional
        The rules that made ``hotspots``' warnings, stated in the report (default: the
        default rules of :func:`gridgeo.hotspots.warnings`).

    Returns
    -------
    CoverageReport

    Raises
    ------
    ColumnError, CRSError, GeometryError
        Inputs missing required columns or CRS.

    Notes
    -----
    KPI definitions (full text in ``docs/kpis.md``): a case is *due* when filed in the period
    and its deadline falls before the period end, or it is already closed; closure rate =
    closed / due (911 of 972 = 93.72 %); on-time closure rate = closed by the deadline / due
    (737 of 972 = 75.82 %).
    Deadlines run from dispatch, in the category's working hours or days on the calendar
    (calendar hours for emergencies); an approved new deadline (``extended_deadline``)
    replaces the computed one. Unreadable times and yes/no values are listed by row in the
    ``data_problems`` section.

    Examples
    --------
    >>> rep = _tiny_report()
    >>> rep.sections["kpi_grid"].loc["G1", "on_time_closure_rate"]
    np.float64(0.5)
    """
    require_geodataframe(cells, "cells")
    require_crs(cells, "cells")
    require_columns(cells, ["cell_code"], "cells")
    require_positive(walk_distance, "walk_distance")
    cats = default_categories() if categories is None else categories
    cal = _default_calendar(cells) if isinstance(calendar, str) else calendar
    metric = local_crs(cells)
    mcells = cells.to_crs(metric)
    grid_of_cell = _grid_of_cell(cells, grids)
    ok = assigned["status"].isin(["assigned", "snapped"]) if "status" in assigned else True
    cases = assigned[ok] if not isinstance(ok, bool) else assigned
    table, problems = _kpi.case_table(cases, cats, calendar=cal)
    period_ts = _period(period, table)
    now_ts = pd.Timestamp(now) if now is not None else period_ts[1]

    sections: dict[str, pd.DataFrame] = {}
    notes: dict[str, str] = {}
    layers: dict[str, gpd.GeoDataFrame] = {"cells": mcells}
    spatial, gaps, overlaps = _spatial(mcells, grids, area, grid_of_cell, staff)
    sections["spatial"] = spatial
    layers["gaps"], layers["overlaps"] = gaps, overlaps
    if grids is not None:
        layers["grids"] = grids.to_crs(metric)
    sections["workload"] = _workload(mcells, grids, cases, grid_of_cell, staff, per_worker)
    for key, col in (
        ("kpi_grid", "grid_code"),
        ("kpi_department", "department"),
        ("kpi_category", "class_name"),
        ("kpi_source", "source"),
    ):
        by = cases[col] if col in cases.columns else None
        sections[key] = (
            _kpi.kpis(table, by, period=period_ts, now=now_ts)
            if by is not None
            else pd.DataFrame(columns=_kpi.KPI_COLUMNS)
        )
        if by is None:
            notes[key] = f"missing_column:{col}"
        elif sections[key].empty:
            notes[key] = "no_cases"
    if stations is not None:
        service, uncovered = service_coverage(
            mcells, stations, streets=streets, walk_distance=walk_distance
        )
        sections["service"] = service
        layers["uncovered"] = uncovered
        layers["cells"] = layers["cells"].assign(
            service_covered=~layers["cells"]["cell_code"].isin(uncovered["cell_code"])
        )
    else:
        sections["service"] = pd.DataFrame(columns=["measure", "value"])
        notes["service"] = "no_stations"
    if patrols is not None:
        patrol, unvisited = patrol_coverage(mcells, patrols, grid_of_cell=grid_of_cell)
        sections["patrol"] = patrol
        layers["unvisited"] = unvisited
    else:
        sections["patrol"] = pd.DataFrame(columns=["date", "cells_visited", "share_visited"])
        notes["patrol"] = "no_patrols"
    sections["warnings"] = _warnings(hotspots)
    if sections["warnings"].empty:
        notes["warnings"] = "no_hotspots" if hotspots is None else "no_warnings"
    sections["ranking"] = (
        _kpi.rank(sections["kpi_grid"]) if len(sections["kpi_grid"]) else pd.DataFrame()
    )
    sections["workload_community"] = _by_community(sections["workload"])
    sections["ranking_squad"] = _squad_ranking(grids, cases, table, period_ts, now_ts)
    sections["data_problems"] = problems
    if sections["workload"].empty:
        notes["workload"] = "no_grids"
    if sections["ranking"].empty:
        notes["ranking"] = notes.get("kpi_grid", "no_due")
    if sections["workload_community"].empty:
        notes["workload_community"] = notes.get("workload", "no_communities")
    if sections["ranking_squad"].empty:
        notes["ranking_squad"] = "no_squads"
    if problems.empty:
        notes["data_problems"] = "no_problems"
    overall = _kpi.kpis(table, None, period=period_ts, now=now_ts)
    headline = _headline(spatial, overall, sections)
    if hotspots is not None and warning_rules is None:
        from gridgeo.hotspots import WarningRules

        warning_rules = WarningRules()
    return CoverageReport(
        sections=sections,
        layers=layers,
        period=period_ts,
        headline=headline,
        notes=notes,
        warning_rules=warning_rules,
    )


def service_coverage(
    cells: gpd.GeoDataFrame,
    stations: gpd.GeoDataFrame,
    *,
    streets: gpd.GeoDataFrame | None = None,
    walk_distance: float = 1000.0,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Share of cells (and population) within walking distance of a service station.

    Distance runs from each cell's representative point to the nearest station, along the
    street network when ``streets`` is given (see :mod:`gridgeo.coverage._network`), else straight.

    Parameters
    ----------
    cells : GeoDataFrame
        Cells with ``cell_code``; optional ``population``.
    stations : GeoDataFrame
        Points.
    streets : GeoDataFrame, optional
        Lines of the walkable network.
    walk_distance : float
        Metres counted as covered.

    Returns
    -------
    (DataFrame, GeoDataFrame)
        Summary rows (``measure``, ``value``) and the uncovered cells with ``distance_m``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box, Point
    >>> cells = gpd.GeoDataFrame({"cell_code": ["a", "b"]},
    ...     geometry=[box(0, 0, 100, 100), box(2000, 0, 2100, 100)], crs=3857)
    >>> st = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=3857)
    >>> summary, uncovered = service_coverage(cells, st, walk_distance=500)
    >>> uncovered["cell_code"].tolist()
    ['b']
    """
    require_geodataframe(stations, "stations")
    require_crs(stations, "stations")
    metric = cells.crs if cells.crs.is_projected else local_crs(cells)
    mc = cells.to_crs(metric)
    origins = mc.geometry.representative_point().values
    st = stations.to_crs(metric).geometry.values
    if len(st) == 0:
        dist = np.full(len(mc), np.inf)
    elif streets is not None and len(streets):
        dist = network_distance(streets.to_crs(metric).geometry.values, origins, st)
    else:
        dist = straight_distance(origins, st)
    covered = dist <= walk_distance
    rows = [
        ("cells", len(mc)),
        ("cells_covered", int(covered.sum())),
        ("share_cells_covered", float(covered.mean()) if len(mc) else np.nan),
        ("walk_distance_m", walk_distance),
        ("method", "network" if streets is not None else "straight line"),
        ("median_distance_m", float(np.median(dist[np.isfinite(dist)])) if len(dist) else np.nan),
    ]
    if "population" in mc.columns:
        pop = pd.to_numeric(mc["population"], errors="coerce").fillna(0).to_numpy()
        rows.append(("population_covered_share", float(pop[covered].sum() / max(pop.sum(), 1))))
    summary = pd.DataFrame(rows, columns=["measure", "value"])
    uncovered = mc.loc[~covered, ["cell_code", mc.geometry.name]].assign(distance_m=dist[~covered])
    return summary, uncovered


def patrol_coverage(
    cells: gpd.GeoDataFrame,
    patrols: gpd.GeoDataFrame,
    *,
    grid_of_cell: pd.Series | None = None,
    max_gap_minutes: float = 10.0,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Cells visited per day (and shift), cells never visited, minutes per grid.

    GPS points (``worker_id``, ``time``; optional ``shift``) are located in cells; the time to a
    worker's next point (capped at ``max_gap_minutes``) counts for the cell of the current point.
    Track lines mark every cell they cross as visited (no minutes).

    Parameters
    ----------
    cells : GeoDataFrame
        Cells with ``cell_code``.
    patrols : GeoDataFrame
        Points with ``worker_id`` and ``time``, or lines.
    grid_of_cell : Series, optional
        ``grid_code`` by ``cell_code``, for minutes per grid.
    max_gap_minutes : float
        Longer gaps between two fixes are not counted as patrol time.

    Returns
    -------
    (DataFrame, GeoDataFrame)
        Per-day rows (``date``, ``shift``, ``cells_visited``, ``share_visited``; minutes per
        grid as rows with ``grid_code``) and the never-visited cells.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box, Point
    >>> cells = gpd.GeoDataFrame({"cell_code": ["a", "b"]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=3857)
    >>> times = pd.to_datetime(["2026-03-02 09:00", "2026-03-02 09:05"])
    >>> gps = gpd.GeoDataFrame({"worker_id": [1, 1], "time": times},
    ...     geometry=[Point(5, 5), Point(6, 6)], crs=3857)
    >>> daily, never = patrol_coverage(cells, gps)
    >>> never["cell_code"].tolist(), float(daily["share_visited"].iloc[0])
    (['b'], 0.5)
    """
    require_geodataframe(patrols, "patrols")
    require_crs(patrols, "patrols")
    tracks = patrols.to_crs(cells.crs)
    tree = shapely.STRtree(cells.geometry.values)
    geoms = tracks.geometry.values
    is_point = shapely.get_type_id(geoms) == 0
    codes = cells["cell_code"].to_numpy()
    visited: set[str] = set()
    rows: list[dict[str, Any]] = []
    if (~is_point).any():
        _, hit = tree.query(geoms[~is_point], predicate="intersects")
        visited.update(codes[hit])
    if is_point.any():
        require_columns(tracks, ["worker_id", "time"], "patrols")
        pts = tracks[is_point].copy()
        src, hit = tree.query(pts.geometry.values, predicate="intersects")
        cell = np.full(len(pts), None, dtype=object)
        first = np.unique(src, return_index=True)[1]
        cell[src[first]] = codes[hit[first]]
        pts["cell_code"] = cell
        pts["time"] = pd.to_datetime(pts["time"])
        pts = pts.sort_values(["worker_id", "time"], kind="mergesort")
        nxt = pts.groupby("worker_id")["time"].shift(-1)
        gap = (nxt - pts["time"]).dt.total_seconds().div(60).clip(upper=max_gap_minutes)
        pts["minutes"] = gap.fillna(0.0)
        pts["date"] = pts["time"].dt.strftime("%Y-%m-%d")
        if "shift" not in pts.columns:
            pts["shift"] = "all"
        inside = pts[pts["cell_code"].notna()]
        visited.update(inside["cell_code"])
        for (day, shift), g in inside.groupby(["date", "shift"], sort=True):
            n = g["cell_code"].nunique()
            rows.append(
                {
                    "date": day,
                    "shift": shift,
                    "cells_visited": n,
                    "share_visited": n / len(cells),
                    "minutes": float(g["minutes"].sum()),
                }
            )
        if grid_of_cell is not None:
            per_grid = inside.groupby(inside["cell_code"].map(grid_of_cell))["minutes"].sum()
            rows += [
                {"date": "period", "shift": "all", "grid_code": g, "minutes": float(m)}
                for g, m in per_grid.items()
            ]
    if not rows and visited:
        rows.append(
            {
                "date": "period",
                "shift": "all",
                "cells_visited": len(visited),
                "share_visited": len(visited) / len(cells),
            }
        )
    never = cells.loc[~cells["cell_code"].isin(visited), ["cell_code", cells.geometry.name]]
    return pd.DataFrame(rows), never


# ---------------------------------------------------------------------------- sections
def _default_calendar(cells: gpd.GeoDataFrame) -> WorkCalendar:
    """The Chinese calendar for a district in mainland China, else weekends only."""
    from gridgeo.crs._china import inside_china

    if cells.empty:
        return WorkCalendar()
    minx, miny, maxx, maxy = cells.total_bounds
    centre = shapely.Point((minx + maxx) / 2, (miny + maxy) / 2)
    lonlat = gpd.GeoSeries([centre], crs=cells.crs).to_crs(4326).iloc[0]
    china = bool(inside_china(np.array([lonlat.x]), np.array([lonlat.y]))[0])
    return WorkCalendar.china() if china else WorkCalendar()


def _grid_of_cell(cells: gpd.GeoDataFrame, grids: gpd.GeoDataFrame | None) -> pd.Series | None:
    if "grid_code" in cells.columns:
        return pd.Series(cells["grid_code"].to_numpy(), index=cells["cell_code"].to_numpy())
    if grids is None:
        return None
    require_columns(grids, ["grid_code"], "grids")
    pts = cells.geometry.representative_point().to_crs(grids.crs)
    tree = shapely.STRtree(grids.geometry.values)
    src, hit = tree.query(pts.values, predicate="within")
    out = pd.Series(None, index=cells["cell_code"].to_numpy(), dtype=object)
    out.iloc[src] = grids["grid_code"].to_numpy()[hit]
    return out


def _workers(grids: gpd.GeoDataFrame | None, staff: pd.DataFrame | None) -> pd.Series | None:
    if staff is not None:
        require_columns(staff, ["grid_code"], "staff")
        return staff.groupby("grid_code").size()
    if grids is not None:
        for col in ("workers", "staff"):
            if col in grids.columns:
                return pd.Series(
                    pd.to_numeric(grids[col], errors="coerce").to_numpy(),
                    index=grids["grid_code"].to_numpy(),
                )
    return None


def _spatial(
    cells: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame | None,
    area: gpd.GeoDataFrame | None,
    grid_of_cell: pd.Series | None,
    staff: pd.DataFrame | None,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    from gridgeo import cells as cells_mod

    district = area.to_crs(cells.crs) if area is not None else None
    check = cells_mod.validate(cells, district)
    cell_area = float(cells.area.sum())
    union_area = float(shapely.union_all(cells.geometry.values).area)
    rows: list[tuple[str, Any]] = []
    if district is not None:
        total = float(shapely.union_all(district.geometry.values).area)
        rows += [("district_km2", total / 1e6), ("covered_by_cells_share", union_area / total)]
        if grids is not None:
            g_union = shapely.union_all(grids.to_crs(cells.crs).geometry.values)
            rows.append(("covered_by_grids_share", float(g_union.area) / total))
    rows += [
        ("cells", len(cells)),
        ("cells_area_km2", cell_area / 1e6),
        ("gaps_m2", float(check.gaps.area.sum()) if len(check.gaps) else 0.0),
        ("overlaps_m2", float(check.overlaps.area.sum()) if len(check.overlaps) else 0.0),
        ("cells_ok", bool(check.ok)),
    ]
    if grid_of_cell is not None:
        rows.append(("cells_without_grid", int(grid_of_cell.isna().sum())))
    if grids is not None:
        rows.append(("grids", len(grids)))
        workers = _workers(grids, staff)
        if workers is not None:
            unstaffed = grids["grid_code"].map(workers).fillna(0) <= 0
            rows.append(("grids_without_staff", int(unstaffed.sum())))
    frame = pd.DataFrame(rows, columns=["measure", "value"])
    return frame, _as_gdf(check.gaps, cells.crs), _as_gdf(check.overlaps, cells.crs)


def _as_gdf(obj: Any, crs: Any) -> gpd.GeoDataFrame:
    if isinstance(obj, gpd.GeoDataFrame):
        return obj
    return gpd.GeoDataFrame(geometry=[], crs=crs)


def _workload(
    cells: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame | None,
    cases: pd.DataFrame,
    grid_of_cell: pd.Series | None,
    staff: pd.DataFrame | None,
    per_worker: float,
) -> pd.DataFrame:
    if grid_of_cell is None:
        return pd.DataFrame()
    frame = pd.DataFrame(
        {"grid_code": grid_of_cell.to_numpy(), "area": cells.area.to_numpy() / 1e6}
    )
    out = frame.groupby("grid_code").agg(cells=("area", "size"), area_km2=("area", "sum"))
    counts = cases.groupby("grid_code").size() if "grid_code" in cases else pd.Series(dtype=int)
    out["reports"] = out.index.map(counts).fillna(0).astype(int)
    if grids is not None and "community_name" in grids.columns:
        out["community_name"] = out.index.map(grids.set_index("grid_code")["community_name"])
    workers = _workers(grids, staff)
    if workers is not None:
        out["workers"] = out.index.map(workers).fillna(0)
        out["reports_per_worker"] = out["reports"] / out["workers"].replace(0, np.nan)
        out["overloaded"] = (out["reports_per_worker"] > per_worker) | (out["workers"] == 0)
    mean = out["reports"].mean()
    out["load_ratio"] = out["reports"] / mean if mean else np.nan
    out.attrs["cv"] = float(out["reports"].std(ddof=0) / mean) if mean else np.nan
    out.attrs["max_over_mean"] = float(out["reports"].max() / mean) if mean else np.nan
    return out.reset_index()


def _by_community(workload: pd.DataFrame) -> pd.DataFrame:
    """Workload summed per community: grids, cells, area, reports, workers, reports per worker."""
    if workload.empty or "community_name" not in workload.columns:
        return pd.DataFrame()
    sums = {"cells": "sum", "area_km2": "sum", "reports": "sum", "grid_code": "size"}
    if "workers" in workload.columns:
        sums["workers"] = "sum"
    out = workload.groupby("community_name", sort=True).agg(sums)
    out = out.rename(columns={"grid_code": "grids"})
    if "workers" in out.columns:
        out["reports_per_worker"] = out["reports"] / out["workers"].replace(0, np.nan)
    return out.reset_index()


def _squad_ranking(
    grids: gpd.GeoDataFrame | None,
    cases: pd.DataFrame,
    table: pd.DataFrame,
    period: tuple[pd.Timestamp, pd.Timestamp],
    now: pd.Timestamp,
) -> pd.DataFrame:
    """KPIs and red/yellow flags per enforcement squad (中队), from a ``squad`` column on grids."""
    if grids is None or "squad" not in grids.columns or "grid_code" not in cases.columns:
        return pd.DataFrame()
    squad_of = pd.Series(grids["squad"].to_numpy(), index=grids["grid_code"].to_numpy())
    by = cases["grid_code"].astype(object).map(squad_of).rename("squad")
    return _kpi.rank(_kpi.kpis(table, by, period=period, now=now))


def _warnings(hot: gpd.GeoDataFrame | None) -> pd.DataFrame:
    if hot is None or "warning" not in hot.columns:
        return pd.DataFrame(columns=["warning", "warning_reason"])
    levels = {"red": 0, "yellow": 1, "blue": 2}
    keep = hot[hot["warning"].isin(list(levels))]
    cols = [
        c
        for c in ("cell_code", "grid_code", "warning", "warning_reason", "count", "gi_z", "gi_bin")
        if c in keep.columns
    ]
    order = keep["warning"].map(levels)
    return pd.DataFrame(keep.loc[order.sort_values(kind="mergesort").index, cols]).reset_index(
        drop=True
    )


def _headline(
    spatial: pd.DataFrame, overall: pd.DataFrame, sections: dict[str, pd.DataFrame]
) -> dict[str, Any]:
    head: dict[str, Any] = dict(zip(spatial["measure"], spatial["value"], strict=True))
    if len(overall):
        row = overall.iloc[0]
        for k in ("filed", "due", "closed", "closure_rate", "on_time_closure_rate", "overdue_now"):
            head[k] = row[k]
    svc = sections.get("service")
    if svc is not None and len(svc):
        head.update(
            {
                k: v
                for k, v in zip(svc["measure"], svc["value"], strict=True)
                if k.startswith(("share", "population"))
            }
        )
    problems = sections.get("data_problems")
    if problems is not None and len(problems):
        head["unreadable_values"] = len(problems)
    warn = sections.get("warnings")
    if warn is not None and len(warn):
        head["red_warnings"] = int((warn["warning"] == "red").sum())
    return head


def _period(
    period: tuple[Any, Any] | None, table: pd.DataFrame
) -> tuple[pd.Timestamp, pd.Timestamp]:
    if period is not None:
        start, end = (pd.Timestamp(p) for p in period)
        if end <= start:
            msg = f"period end {end} must be after its start {start}."
            raise ValueError(msg)
        return start, end
    filed = table["filed_at"].dropna()
    if filed.empty:
        today = pd.Timestamp.today().normalize()
        return today, today + pd.Timedelta(days=1)
    return filed.min().normalize(), filed.max().normalize() + pd.Timedelta(days=1)


def _figures(rep: CoverageReport, i: int) -> dict[str, str]:
    from gridgeo.coverage._report_html import coverage_figure, kpi_figure

    out: dict[str, str] = {}
    for key, fn in (("map", coverage_figure), ("kpi", kpi_figure)):
        try:
            fig = fn(rep, i)
        except (ValueError, KeyError) as err:  # a section without data: no figure
            logger.info("coverage report: no %s figure (%s)", key, err)
            continue
        if fig is None:
            continue
        buf = _io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        out[key] = base64.b64encode(buf.getvalue()).decode("ascii")
    return out


def _tiny_report() -> CoverageReport:
    """A two-grid example report for the doctests."""
    from shapely import Point, box

    cells = gpd.GeoDataFrame(
        {"cell_code": ["c1", "c2"], "grid_code": ["G1", "G2"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
        crs=3857,
    )
    t = pd.Timestamp("2026-03-02 09:00")
    h = pd.Timedelta(hours=1)
    reports = pd.DataFrame(
        {
            "status": ["assigned"] * 3,
            "grid_code": ["G1", "G1", "G2"],
            "cell_code": ["c1", "c1", "c2"],
            "department": ["环卫处"] * 3,
            "category_code": ["E0101"] * 3,
            "source": ["app"] * 3,
            "reported_at": [t, t, t],
            "filed_at": [t, t, t],
            "dispatched_at": [t, t, t],
            "disposed_at": [t + h, t + 6 * h, t + h],
            "closed_at": [t + 2 * h, t + 7 * h, t + 2 * h],
        }
    )
    st = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=3857)
    return report(cells, None, reports, stations=st, period=("2026-03-01", "2026-03-08"))
