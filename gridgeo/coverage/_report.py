"""The coverage report: :class:`CoverageReport` (HTML, Excel, data) and :func:`report`."""

from __future__ import annotations

import base64
import html
import io as _io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gridgeo._validate import (
    plan_layers,
    require_columns,
    require_crs,
    require_geodataframe,
    require_positive,
)
from gridgeo.calendar import WorkCalendar
from gridgeo.categories import default_categories
from gridgeo.coverage import _kpi
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
from gridgeo.coverage._sections import (
    _by_community,
    _default_calendar,
    _grid_of_cell,
    _headline,
    _period,
    _spatial,
    _squad_ranking,
    _warnings,
    _workload,
)
from gridgeo.coverage._service import patrol_coverage, service_coverage
from gridgeo.crs import local_crs
from gridgeo.io._atomic import atomic_path

logger = logging.getLogger("gridgeo.coverage")


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


def _inputs(cells: Any, grids: Any, assigned: Any) -> tuple[Any, Any, Any]:
    """``(cells, grids, assigned)``, also from ``report(plan, assigned)``."""
    if assigned is None and not isinstance(cells, pd.DataFrame):
        grids, assigned = None, grids  # report(plan, assigned)
    cells, grids = plan_layers(cells, grids, "cells")
    if assigned is None:
        msg = "report() needs the assigned reports: report(cells, grids, assigned)."
        raise TypeError(msg)
    return cells, grids, assigned


def report(
    cells: gpd.GeoDataFrame | Any,
    grids: gpd.GeoDataFrame | pd.DataFrame | None,
    assigned: gpd.GeoDataFrame | pd.DataFrame | None = None,
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
    cells : GeoDataFrame or GridPlan
        Base cells with ``cell_code`` (and ``grid_code`` when they come from a grid plan), or a
        :class:`gridgeo.grids.GridPlan`: then ``report(plan, assigned)`` takes its cells and
        grids.
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
    cells, grids, assigned = _inputs(cells, grids, assigned)
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
