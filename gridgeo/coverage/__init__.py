"""Coverage reports: spatial coverage, workload and staffing, case KPIs, service and patrol
coverage, warnings and rankings — as HTML, Excel and data.

:func:`report` builds a :class:`CoverageReport`; each section is a DataFrame (with geometries
where it maps). KPI definitions are in :mod:`gridgeo.coverage._kpi` and repeated in :func:`report`.
"""

from __future__ import annotations

import logging

from gridgeo.calendar import CalendarYearWarning, WorkCalendar
from gridgeo.coverage._report import CoverageReport, report
from gridgeo.coverage._sections import _default_calendar  # noqa: F401 - tests use it here
from gridgeo.coverage._service import patrol_coverage, service_coverage

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
