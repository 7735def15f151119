"""The batch subcommands: ``report`` (weekly coverage report), ``run`` (the nightly or weekly
job of a city profile, for cron) and ``demo`` (the whole chain on the demo district)."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from gridgeo.cli import _jobs
from gridgeo.cli._app import cli, common
from gridgeo.cli._commands import (
    FILE,
    OUT_DIR,
    _finish,
    _profile,
    _read_assigned,
    _system,
    examples,
)
from gridgeo.cli._output import Settings, Written, refuse_existing, write_csv
from gridgeo.errors import GridgeoError

_DEMO_FILES = (
    "reports_export.csv",
    "cells_grids.gpkg",
    "assigned_reports.parquet",
    "assigned_reports.csv",
    "map.html",
    "hotspots.png",
    "grids.png",
    "coverage_report.html",
    "coverage_report.xlsx",
)


def _date(value: str | None, option: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        return pd.Timestamp(value)
    except ValueError:
        msg = f"{value!r} is not a date; write it as YYYY-MM-DD."
        raise click.BadParameter(msg, param_hint=f"'{option}'") from None


# ------------------------------------------------------------------------------ report
@cli.command(
    epilog=examples(
        "gridgeo report assigned_reports.parquet plan.gpkg --profile city.toml \\\n"
        "    --start 2026-03-02 --end 2026-03-09 --out report_w10"
    ),
)
@click.argument("assigned", type=FILE)
@click.argument("plan_file", metavar="PLAN", type=FILE)
@click.option("--profile", type=FILE, help="City profile: calendar, categories, thresholds.")
@click.option("--boundary", type=FILE, help="District boundary: spatial coverage against it.")
@click.option("--crs", "system", help="Coordinates of --boundary (e.g. gcj02).")
@click.option("--start", help="First day of the period (default: first filing).")
@click.option("--end", help="Day after the period (default: last filing).")
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Report language (default zh).")
@click.option("--out", type=OUT_DIR, default=Path("report"), show_default=True)
@common
def report(
    assigned: Path,
    plan_file: Path,
    profile: Path | None,
    boundary: Path | None,
    system: str | None,
    start: str | None,
    end: str | None,
    lang: str | None,
    out: Path,
    settings: Settings,
) -> None:
    """The coverage report (HTML + Excel) of ASSIGNED reports on a PLAN.

    Writes OUT/coverage_report.html, OUT/coverage_report.xlsx and OUT/kpi_grid.csv.
    """
    from gridgeo import coverage
    from gridgeo import grids as grids_mod

    names = ("coverage_report.html", "coverage_report.xlsx", "kpi_grid.csv")
    refuse_existing([out / n for n in names], overwrite=settings.overwrite)
    a, b = _date(start, "--start"), _date(end, "--end")
    if (a is None) != (b is None):
        msg = "give both --start and --end, or neither."
        raise click.UsageError(msg)
    prof = _profile(profile)
    table = _read_assigned(assigned)
    plan = grids_mod.load_plan(plan_file)
    area = _jobs.read_layer(boundary, _system(system), what="boundary") if boundary else None
    language = lang or (prof.lang if prof is not None else "zh")
    thresholds = prof.thresholds if prof is not None else {}
    rep = coverage.report(
        plan.cells,
        plan.grids,
        table,
        area=area,
        period=(a, b) if a is not None else None,
        categories=prof.categories() if prof is not None else None,
        calendar=prof.calendar if prof is not None else "default",
        walk_distance=float(thresholds.get("walk_distance_m", 1000.0)),
        per_worker=float(thresholds.get("per_worker", 150.0)),
    )
    out.mkdir(parents=True, exist_ok=True)
    written = Written()
    written.add("coverage report (HTML)", rep.to_html(out / names[0], lang=language))
    written.add("coverage report (Excel)", rep.to_excel(out / names[1], lang=language))
    kpi = rep.sections["kpi_grid"].reset_index()
    written.add("KPIs per grid (CSV)", write_csv(kpi, out / names[2]))
    _finish("gridgeo report", written)


# --------------------------------------------------------------------------------- run
@cli.command(
    epilog=examples(
        "gridgeo run --profile city.toml --day 2026-03-02",
        "gridgeo run --profile city.toml --week 2026-W10",
        "# cron, 02:00 every night (arguments only; --log for a log file):",
        "0 2 * * * gridgeo run --profile /srv/city/gridgeo.toml \\\n"
        "    --day $(date -d yesterday +\\%F) --overwrite --log /var/log/gridgeo.log",
    ),
)
@click.option("--profile", type=FILE, required=True, help="The city profile (TOML).")
@click.option("--day", help="Nightly job for this day (YYYY-MM-DD): heatmap, Gi*, warnings.")
@click.option("--week", help="Weekly job: 2026-W10 or any day of the week: coverage report.")
@click.option("--out", type=OUT_DIR, help="Output folder (default: the profile's [output]).")
@common
def run(
    profile: Path,
    day: str | None,
    week: str | None,
    out: Path | None,
    settings: Settings,
) -> None:
    """Run the whole chain from a city profile, for one day or one week.

    Reads the profile's case export, loads the grid plan (or builds it from the profile's
    layers and saves it), assigns the reports of the period, finds hotspots and writes the
    nightly or weekly outputs into OUTPUT/daily/<day>/ or OUTPUT/weekly/<year>-W<week>/.
    Data files are byte-identical on a rerun; an interrupted run leaves no partial folder.
    """
    from gridgeo.profile import Profile

    if (day is None) == (week is None):
        msg = "give --day YYYY-MM-DD (nightly) or --week 2026-W10 (weekly), one of them."
        raise click.UsageError(msg)
    period = _jobs.day_period(day) if day is not None else _jobs.week_period(week or "")
    prof = Profile.load(profile)
    base = out if out is not None else prof.output
    refuse_existing([base / period.kind / period.label], overwrite=settings.overwrite)
    written = _jobs.run_job(
        prof, period, out=out, overwrite=settings.overwrite, progress=settings.progress
    )
    _finish(f"gridgeo run {period.label}", written)


# -------------------------------------------------------------------------------- demo
@cli.command(epilog=examples("gridgeo demo --out demo_out --reports 5000 --lang en"))
@click.option("--out", type=OUT_DIR, required=True, help="Output folder (created).")
@click.option(
    "--reports",
    "n_reports",
    type=click.IntRange(min=1),
    default=20_000,
    show_default=True,
    help="Number of demo reports.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--grids",
    "n_grids",
    type=click.IntRange(min=1),
    default=40,
    show_default=True,
    help="Number of responsibility grids.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Report language.",
)
@common
def demo(out: Path, n_reports: int, seed: int, n_grids: int, lang: str, settings: Settings) -> None:
    """Run the whole chain on the bundled demo district and list the files it wrote.

    Cells, grids, assignment of synthetic reports (written as reports_export.csv, the example
    case export), hotspots, maps and the coverage report.
    """
    from gridgeo.cli._demo import run_demo

    refuse_existing([out / n for n in _DEMO_FILES], overwrite=settings.overwrite)
    if out.exists() and not out.is_dir():
        msg = f"--out {out} is a file; give a folder."
        raise GridgeoError(msg)
    result = run_demo(
        out,
        n_reports=n_reports,
        seed=seed,
        n_grids=n_grids,
        lang=lang,
        progress=settings.progress,
    )
    click.echo(result.describe())
