r"""Weekly job through the Python API: the coverage report (HTML + Excel) of one ISO week.

The same job as ``gridgeo run --profile city.toml --week 2026-W10``, written out with the
public functions so it can be adapted::

    python scripts/weekly.py city.toml 2026-03-02     # any day of the week

cron (Monday 06:00, last week)::

    0 6 * * 1 cd /srv/city && python scripts/weekly.py city.toml $(date -d '7 days ago' +\%F)
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

import gridgeo as gg


def weekly(profile_path: str, day: str) -> list[Path]:
    profile = gg.Profile.load(profile_path)
    start = pd.Timestamp(day).normalize()
    start -= pd.Timedelta(days=start.weekday())  # Monday
    end = start + pd.Timedelta(days=7)
    reports = profile.read_reports()
    filed = reports["filed_at"] if "filed_at" in reports else reports["reported_at"]
    week = reports[(filed >= start) & (filed < end)]
    plan = gg.grids.load_plan(profile.plan)
    hits = gg.assign(week, plan, categories=profile.categories())
    hot = gg.hotspots.warnings(
        gg.hotspots.gistar(gg.hotspots.counts(hits, plan.cells), "count"), lang=profile.lang
    )
    report = gg.coverage.report(
        plan.cells,
        plan.grids,
        hits,
        period=(start, end),
        hotspots=hot,
        categories=profile.categories(),
        calendar=profile.calendar,
    )
    year, number, _ = start.isocalendar()
    out = Path(profile.output) / "weekly_api" / f"{year}-W{number:02d}"
    out.mkdir(parents=True, exist_ok=True)
    return [
        report.to_html(out / "coverage_report.html", lang=profile.lang),
        report.to_excel(out / "coverage_report.xlsx", lang=profile.lang),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", help="the city profile (TOML)")
    parser.add_argument("day", help="any day of the week, YYYY-MM-DD")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for path in weekly(args.profile, args.day):
        print(path)
