"""The steps behind the commands, and the nightly and weekly jobs of ``gridgeo run``.

Each step calls the public API, the same functions a notebook or script would call; the
commands in :mod:`gridgeo.cli._commands` only parse arguments, check outputs and list files.

Jobs (``gridgeo run --profile city.toml``):

``--day 2026-03-02`` (nightly)
    reports of that day → ``assigned_reports.parquet``, ``gistar.csv`` (Gi* per cell),
    ``warnings.csv`` (blue/yellow/red cells), ``heatmap.html``; in ``<output>/daily/<day>/``.
``--week 2026-W10`` or ``--week 2026-03-02`` (any day of the ISO week; weekly)
    cases filed that week → ``coverage_report.html``/``.xlsx``, ``kpi_grid.csv``,
    ``assigned_reports.parquet``, ``gistar.csv``, ``warnings.csv``; in
    ``<output>/weekly/<year>-W<week>/``.

A job writes into a hidden temporary folder renamed into place at the end, so an interrupted
run leaves either nothing or the previous complete output. The plan named in the profile is
loaded, or built from the profile's layers and saved there when missing.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from tqdm.auto import tqdm

from gridgeo.cli._output import Written, job_folder, write_csv, write_table
from gridgeo.errors import ColumnError, GridgeoError, InputFileError, ProfileError

logger = logging.getLogger("gridgeo.cli")

HOT_COLUMNS = ("cell_code", "grid_code", "count", "gi_z", "gi_p", "gi_bin")
_LEVEL_ORDER = {"red": 0, "yellow": 1, "blue": 2}


# ------------------------------------------------------------------------------ layers
def read_layer(
    path: Path, system: Any = None, *, what: str = "layer", layer: str | None = None
) -> gpd.GeoDataFrame:
    """Read a layer declared in ``system`` (GCJ-02/BD-09 lon/lat become real coordinates)."""
    from gridgeo import io

    gdf = io.read_layer(path, layer=layer, crs=system)
    if len(gdf) == 0:
        msg = f"{what} {str(path)!r} has no features; check the file."
        raise InputFileError(msg)
    return gdf


def make_cells(
    boundary: Path,
    *,
    system: Any = None,
    streets: Path | None = None,
    communities: Path | None = None,
    cell_area: float = 10_000.0,
    admin_code: str | None = None,
) -> gpd.GeoDataFrame:
    """Coded base cells: street blocks when ``streets`` is given, else a square fishnet."""
    from gridgeo import cells as cells_mod

    district = read_layer(boundary, system, what="boundary")
    nest = read_layer(communities, system, what="communities") if communities else None
    if streets is not None:
        barriers = read_layer(streets, system, what="streets")
        cells = cells_mod.blocks(district, barriers=[barriers], nest=nest, target_area=cell_area)
    else:
        cells = cells_mod.fishnet(district, math.sqrt(cell_area), nest=nest)
    if nest is not None and {"admin_code", "street_code", "community_code"} <= set(cells.columns):
        return cells_mod.code(cells)
    code = admin_code
    if code is None and "admin_code" in district.columns:
        code = str(district["admin_code"].iloc[0])
    if code is None:
        msg = (
            "cell codes need a 6-digit district code: pass --admin-code 441302 (or "
            "[city] admin_code in the profile), or --communities with admin_code, street_code "
            "and community_code columns."
        )
        raise ColumnError(msg)
    return cells_mod.code(cells, admin_code=code)


def read_cells(path: Path) -> gpd.GeoDataFrame:
    """Cells from a cells file (layer ``cells`` of a GeoPackage when there is one)."""
    import pyogrio

    from gridgeo import io

    if Path(path).suffix.lower() == ".gpkg" and Path(path).is_file():
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        layer = "cells" if "cells" in names else None
        return io.read_layer(path, layer=layer)
    return io.read_layer(path)


def cells_with_old_codes(cells: gpd.GeoDataFrame, old: Any) -> gpd.GeoDataFrame:
    """Copy each cell's ``grid_code`` from an older plan (matched on ``cell_code``)."""
    if "cell_code" not in cells.columns:
        msg = "--from needs cells with a 'cell_code' column to match them with the old plan."
        raise ColumnError(msg)
    codes = old.cells.set_index("cell_code")["grid_code"]
    out = cells.drop(columns="grid_code", errors="ignore")
    matched = out["cell_code"].astype(str).map(codes)
    if matched.notna().sum() == 0:
        msg = (
            "no cell of the input matches a cell_code of the old plan (--from); are they "
            "cells of the same district?"
        )
        raise ColumnError(msg)
    out["grid_code"] = matched.astype("string").fillna("").astype(str)
    return out


def reports_load(cells: gpd.GeoDataFrame, reports: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cells with ``load`` = reports assigned to each cell + 1 (the demo's workload)."""
    from gridgeo.assignment import assign

    first = assign(reports, cells, duplicates=False)
    ok = first["status"] == "assigned"
    counts = first.loc[ok].groupby("cell_code", observed=True).size()
    return cells.assign(load=cells["cell_code"].map(counts).fillna(0).astype(float) + 1.0)


# ------------------------------------------------------------------------------ steps
def assign_reports(reports: gpd.GeoDataFrame, plan: Any, *, profile: Any = None) -> Any:
    """Assign reports to the plan's cells and grids (snapping and categories from profile)."""
    from gridgeo.assignment import assign

    snap = float(profile.thresholds.get("snap_m", 0.0)) if profile is not None else 0.0
    categories = profile.categories() if profile is not None else None
    return assign(reports, plan, tolerance=snap, categories=categories)


def warning_rules(profile: Any = None) -> Any:
    from gridgeo.hotspots import WarningRules

    if profile is None:
        return WarningRules()
    t = profile.thresholds
    return WarningRules(
        red_count=t.get("red_count"),
        yellow_count_quantile=t.get("yellow_count_quantile", 99.0),
    )


def hotspot_tables(
    assigned: gpd.GeoDataFrame, plan: Any, *, lang: str = "zh", profile: Any = None
) -> dict[str, Any]:
    """Gi* per cell (``hot``), its table (``gistar``), the warned cells (``warnings``)."""
    from gridgeo import hotspots

    per_cell = hotspots.counts(assigned, plan.cells)
    if int(per_cell["count"].sum()) == 0 or per_cell["count"].nunique() < 2:
        logger.warning("too few reports for Gi* hotspots; every cell is left at gi_bin 0")
        hot = per_cell.assign(gi_z=0.0, gi_p=1.0, gi_bin=0)
    else:
        hot = hotspots.gistar(per_cell, "count")
    hot = hotspots.warnings(hot, rules=warning_rules(profile), lang=lang)
    cols = [c for c in HOT_COLUMNS if c in hot.columns]
    table = pd.DataFrame(hot[cols]).sort_values("cell_code", kind="mergesort")
    warned = pd.DataFrame(hot.loc[hot["warning"] != "", [*cols, "warning", "warning_reason"]])
    warned = warned.assign(_o=warned["warning"].map(_LEVEL_ORDER))
    warned = warned.sort_values(["_o", "cell_code"], kind="mergesort").drop(columns="_o")
    return {"hot": hot, "gistar": table, "warnings": warned}


def emerging_table(assigned: gpd.GeoDataFrame, plan: Any) -> pd.DataFrame | None:
    """Emerging hot spot patterns per cell (weekly bins), or None with too few weeks."""
    from gridgeo import hotspots

    times = pd.to_datetime(assigned.get("reported_at"), errors="coerce")
    if times is None or times.notna().sum() == 0:
        return None
    weeks = times.dt.to_period("W").nunique()
    if weeks < 4:
        logger.warning("emerging hot spots need reports over 4 weeks or more; skipped")
        return None
    result = hotspots.emerging(assigned, plan.cells, freq="W")
    cols = [
        c
        for c in (
            "cell_code",
            "grid_code",
            "pattern",
            "trend_z",
            "trend_p",
            "n_hot",
            "n_cold",
            "count",
        )
        if c in result.cells.columns
    ]
    return pd.DataFrame(result.cells[cols]).sort_values("cell_code", kind="mergesort")


def hotspot_map(plan: Any, assigned: gpd.GeoDataFrame, hot: gpd.GeoDataFrame | None) -> Any:
    """Grids, the report heatmap and (when given) the Gi* cells on one interactive map."""
    from gridgeo import maps

    m = maps.grid_map(plan.grids)
    ok = assigned[assigned["status"].isin(["assigned", "snapped"])]
    if len(ok):
        m = maps.heatmap(ok, m=m)
    if hot is not None:
        m = maps.hotspot_map(hot, m=m)
    return m


# ------------------------------------------------------------------------------ jobs
@dataclass(frozen=True)
class Period:
    """A job's period ``[start, end)`` and its folder name."""

    kind: str
    start: pd.Timestamp
    end: pd.Timestamp
    label: str


def day_period(text: str) -> Period:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        msg = f"--day {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-02."
        raise GridgeoError(msg) from None
    start = pd.Timestamp(day)
    return Period("daily", start, start + pd.Timedelta(days=1), day.isoformat())


def week_period(text: str) -> Period:
    match = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text.strip(), flags=re.IGNORECASE)
    try:
        if match:
            monday = dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        else:
            day = dt.date.fromisoformat(text)
            monday = day - dt.timedelta(days=day.weekday())
    except ValueError:
        msg = f"--week {text!r} is not a week; write 2026-W10 (ISO week) or a date 2026-03-02."
        raise GridgeoError(msg) from None
    year, week, _ = monday.isocalendar()
    start = pd.Timestamp(monday)
    return Period("weekly", start, start + pd.Timedelta(days=7), f"{year}-W{week:02d}")


def _require(profile: Any, attr: str, key: str) -> Path:
    value = getattr(profile, attr)
    if value is None:
        msg = f"profile {profile.path}: {key} is not set; the job needs it."
        raise ProfileError(msg)
    if not Path(value).exists():
        msg = f"profile {profile.path}: {key} = {str(value)!r} does not exist."
        raise InputFileError(msg)
    return Path(value)


def ensure_plan(profile: Any, reports: gpd.GeoDataFrame, written: Written) -> Any:
    """The profile's plan: loaded when the file exists, else built and saved there."""
    from gridgeo import grids

    if profile.plan is not None and Path(profile.plan).is_file():
        logger.info("loading the grid plan %s", profile.plan)
        return grids.load_plan(profile.plan)
    if profile.plan is None:
        msg = f"profile {profile.path}: [layers] plan is not set; name the plan's .gpkg file."
        raise ProfileError(msg)
    boundary = _require(profile, "boundary", "[layers] boundary")
    logger.info("no plan at %s: building one from %s", profile.plan, boundary)
    g = profile.grids
    cells = make_cells(
        boundary,
        system=profile.boundary_crs,
        streets=profile.streets,
        communities=profile.communities,
        cell_area=float(g.get("cell_area", 10_000.0)),
        admin_code=profile.admin_code,
    )
    weight = g.get("weight", "reports")
    if weight == "reports":
        cells, weight = reports_load(cells, reports), "load"
    elif weight == "area":
        weight = None
    plan = grids.build(
        cells,
        n=int(g.get("n", 40)),
        weight=weight,
        tolerance=float(g.get("tolerance", 0.10)),
        seed=int(g.get("seed", 0)),
        progress=False,
    )
    written.add("grid plan (GeoPackage)", grids.save_plan(plan, profile.plan))
    return plan


def _in_period(reports: gpd.GeoDataFrame, period: Period, column: str) -> gpd.GeoDataFrame:
    times = pd.to_datetime(reports[column], errors="coerce")
    if period.kind == "weekly" and "filed_at" in reports.columns:
        times = pd.to_datetime(reports["filed_at"], errors="coerce").fillna(times)
    keep = (times >= period.start) & (times < period.end)
    return reports[keep.to_numpy()]


def run_job(
    profile: Any,
    period: Period,
    *,
    out: Path | None,
    overwrite: bool,
    progress: bool,
) -> Written:
    """Run the nightly or weekly job of ``profile`` for ``period``; return the files."""
    base = Path(out) if out is not None else Path(profile.output)
    final = base / period.kind / period.label
    written = Written()
    steps = tqdm(total=4, desc=f"gridgeo run {period.label}", unit="step", disable=not progress)
    with job_folder(final, overwrite=overwrite) as tmp:
        steps.set_postfix_str("reports")
        reports = profile.read_reports()
        plan = ensure_plan(profile, reports, written)
        chosen = _in_period(reports, period, "reported_at")
        logger.info("%d of %d reports fall in %s", len(chosen), len(reports), period.label)
        steps.update()
        steps.set_postfix_str("assign")
        assigned = assign_reports(chosen, plan, profile=profile)
        files: list[tuple[str, str]] = []
        write_table(assigned, tmp / "assigned_reports.parquet")
        files.append(("assigned reports (GeoParquet)", "assigned_reports.parquet"))
        steps.update()
        steps.set_postfix_str("hotspots")
        tables = hotspot_tables(assigned, plan, lang=profile.lang, profile=profile)
        write_csv(tables["gistar"], tmp / "gistar.csv")
        files.append(("Gi* per cell (CSV)", "gistar.csv"))
        write_csv(tables["warnings"], tmp / "warnings.csv")
        files.append(("warnings (CSV)", "warnings.csv"))
        steps.update()
        steps.set_postfix_str("outputs")
        if period.kind == "daily":
            from gridgeo import maps

            maps.save_map(hotspot_map(plan, assigned, tables["hot"]), tmp / "heatmap.html")
            files.append(("heatmap (HTML)", "heatmap.html"))
        else:
            files += _weekly_report(profile, plan, assigned, tables, period, tmp)
        steps.update()
        steps.close()
    for label, name in files:
        written.add(label, final / name)
    return written


def _weekly_report(
    profile: Any, plan: Any, assigned: Any, tables: dict[str, Any], period: Period, tmp: Path
) -> list[tuple[str, str]]:
    from gridgeo import coverage

    area = None
    if profile.boundary is not None and Path(profile.boundary).is_file():
        area = read_layer(Path(profile.boundary), profile.boundary_crs, what="boundary")
    t = profile.thresholds
    rep = coverage.report(
        plan.cells,
        plan.grids,
        assigned,
        area=area,
        period=(period.start, period.end),
        hotspots=tables["hot"],
        categories=profile.categories(),
        calendar=profile.calendar,
        walk_distance=float(t.get("walk_distance_m", 1000.0)),
        per_worker=float(t.get("per_worker", 150.0)),
    )
    rep.to_html(tmp / "coverage_report.html", lang=profile.lang)
    rep.to_excel(tmp / "coverage_report.xlsx", lang=profile.lang)
    kpi = rep.sections["kpi_grid"].reset_index()
    write_csv(kpi, tmp / "kpi_grid.csv")
    return [
        ("coverage report (HTML)", "coverage_report.html"),
        ("coverage report (Excel)", "coverage_report.xlsx"),
        ("KPIs per grid (CSV)", "kpi_grid.csv"),
    ]
