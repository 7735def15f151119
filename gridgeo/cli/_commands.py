"""The subcommands of ``gridgeo``. Each checks its outputs before any work, calls the steps in
:mod:`gridgeo.cli._jobs` and prints every file it wrote."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from gridgeo.cli import _jobs
from gridgeo.cli._app import cli, common
from gridgeo.cli._output import (
    Settings,
    Written,
    refuse_existing,
    require_folder,
    write_csv,
    write_table,
)
from gridgeo.errors import InputFileError

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
OUT_FILE = click.Path(dir_okay=False, path_type=Path)
OUT_DIR = click.Path(file_okay=False, path_type=Path)
SYSTEM_HELP = "wgs84, gcj02 (Amap, WeChat), bd09 (Baidu), cgcs2000 or an EPSG code like 4547"


def examples(*commands: str) -> str:
    """An epilog click prints as written (``\\b`` stops its rewrapping)."""
    title = "Example:" if len(commands) == 1 else "Examples:"
    lines = "\n".join(f"  {line}" for c in commands for line in c.split("\n"))
    return f"\b\n{title}\n{lines}"


def _system(value: str | None) -> Any:
    if value is None:
        return None
    low = value.strip().lower().replace("-", "").replace("_", "")
    if low in ("wgs84", "gcj02", "bd09", "cgcs2000"):
        return low
    if low.isdigit():
        return int(low)
    if low.startswith("epsg:") and low[5:].isdigit():
        return int(low[5:])
    msg = f"{value!r} is not a coordinate system; use {SYSTEM_HELP}."
    raise click.BadParameter(msg, param_hint="'--crs'")


def _finish(title: str, written: Written, extra: list[str] | None = None) -> None:
    click.echo(written.describe(title))
    for line in extra or []:
        click.echo(line)


def _profile(path: Path | None) -> Any:
    from gridgeo.profile import Profile

    return Profile.load(path) if path is not None else None


def _suffix(path: Path, allowed: tuple[str, ...], option: str) -> None:
    if path.suffix.lower() not in allowed:
        msg = f"{path} must end in {', '.join(allowed)}."
        raise click.BadParameter(msg, param_hint=f"'{option}'")


# -------------------------------------------------------------------------------- init
@cli.command(
    epilog=examples("gridgeo init city.toml --from-sample exports/cases_2026-03.csv"),
)
@click.argument("profile", default="gridgeo.toml", type=OUT_FILE)
@click.option(
    "--from-sample",
    "sample",
    type=FILE,
    help="A case export (CSV or Excel): its header gives the column names and encoding.",
)
@common
def init(profile: Path, sample: Path | None, settings: Settings) -> None:
    """Write a commented city profile (TOML) to PROFILE (default gridgeo.toml)."""
    from gridgeo.io._atomic import write_text_atomic
    from gridgeo.profile import template, template_from_sample

    refuse_existing([profile], overwrite=settings.overwrite)
    require_folder(profile)
    extra = []
    if sample is not None:
        rel = os.path.relpath(sample.resolve(), profile.resolve().parent)
        text, guessed = template_from_sample(sample, name=profile.name, reports_file=rel)
        extra.append(
            f"columns recognised in {sample.name}: "
            + ", ".join(f"{k}={v}" for k, v in guessed.items())
            if guessed
            else "no column recognised"
        )
    else:
        text = template(name=profile.name)
    written = Written()
    written.add("city profile (TOML)", write_text_atomic(profile, text))
    extra.append(f"edit it, then: gridgeo run --profile {profile} --day YYYY-MM-DD")
    _finish("gridgeo init", written, extra)


# ------------------------------------------------------------------------------- cells
@cli.command(
    epilog=examples(
        "gridgeo cells district.geojson --crs gcj02 --streets streets.gpkg \\\n"
        "    --communities communities.gpkg --out cells.gpkg",
        "gridgeo cells district.gpkg --admin-code 441302 --cell-area 10000",
    ),
)
@click.argument("boundary", type=FILE)
@click.option("--crs", "system", help=f"Coordinates of the input layers: {SYSTEM_HELP}.")
@click.option("--streets", type=FILE, help="Street lines: cells follow them (street blocks).")
@click.option("--communities", type=FILE, help="Community polygons with their codes (nesting).")
@click.option(
    "--cell-area",
    type=click.FloatRange(min=1, min_open=False),
    default=10_000.0,
    show_default=True,
    help="Target cell area in m² (square cells of this area without --streets).",
)
@click.option("--admin-code", help="6-digit district code when there are no communities.")
@click.option("--out", type=OUT_FILE, default=Path("cells.gpkg"), show_default=True)
@common
def cells(
    boundary: Path,
    system: str | None,
    streets: Path | None,
    communities: Path | None,
    cell_area: float,
    admin_code: str | None,
    out: Path,
    settings: Settings,
) -> None:
    """Cut the district BOUNDARY into coded base cells (15-digit DB11 codes)."""
    from gridgeo import cells as cells_mod
    from gridgeo import io
    from gridgeo.grids._files import reproducible_gpkg
    from gridgeo.io._atomic import atomic_path

    _suffix(out, (".gpkg",), "--out")
    refuse_existing([out], overwrite=settings.overwrite)
    require_folder(out)
    made = _jobs.make_cells(
        boundary,
        system=_system(system),
        streets=streets,
        communities=communities,
        cell_area=cell_area,
        admin_code=admin_code,
    )
    check = cells_mod.validate(made, _jobs.read_layer(boundary, _system(system)))
    with reproducible_gpkg(), atomic_path(out) as tmp:  # replaces an older file whole
        io.write_layer(made, tmp, layer="cells")
    written = Written()
    written.add("base cells (GeoPackage, layer cells)", out)
    _finish("gridgeo cells", written, [f"{len(made)} cells; validation ok: {check.ok}"])


# ------------------------------------------------------------------------------- grids
@cli.command(
    epilog=examples(
        "gridgeo grids cells.gpkg --n 40 --out plan.gpkg",
        "gridgeo grids cells.gpkg --n 42 --from plan_2025.gpkg \\\n"
        "    --locked 441302001001003 --out plan_2026.gpkg",
    ),
)
@click.argument("cells_file", metavar="CELLS", type=FILE)
@click.option("--n", type=click.IntRange(min=1), help="Number of grids (default 40).")
@click.option("--target", type=click.FloatRange(min=0, min_open=True), help="Weight per grid.")
@click.option("--weight", help="Cells column with each cell's workload (default: area).")
@click.option(
    "--tolerance", type=click.FloatRange(0, 1, min_open=True), default=0.10, show_default=True
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--locked", multiple=True, help="Grid code kept as it is (repeatable).")
@click.option(
    "--from",
    "old",
    type=FILE,
    help="An older plan (.gpkg): unchanged grids keep their codes; needed for --locked.",
)
@click.option("--out", type=OUT_FILE, default=Path("plan.gpkg"), show_default=True)
@common
def grids(
    cells_file: Path,
    n: int | None,
    target: float | None,
    weight: str | None,
    tolerance: float,
    seed: int,
    locked: tuple[str, ...],
    old: Path | None,
    out: Path,
    settings: Settings,
) -> None:
    """Group base CELLS into balanced responsibility grids; save the plan (one GeoPackage)."""
    from gridgeo import grids as grids_mod

    _suffix(out, (".gpkg",), "--out")
    if n is not None and target is not None:
        msg = "give --n or --target, not both."
        raise click.UsageError(msg)
    refuse_existing([out], overwrite=settings.overwrite)
    require_folder(out)
    table = _jobs.read_cells(cells_file)
    if old is not None:
        table = _jobs.cells_with_old_codes(table, grids_mod.load_plan(old))
    if n is None and target is None:
        n = 40
    plan = grids_mod.build(
        table,
        n=n,
        target=target,
        weight=weight,
        tolerance=tolerance,
        seed=seed,
        locked=list(locked) or None,
        progress=settings.progress,
    )
    written = Written()
    written.add("grid plan (GeoPackage)", grids_mod.save_plan(plan, out))
    _finish("gridgeo grids", written, [repr(plan.summary)])


# ------------------------------------------------------------------------------ assign
@cli.command(
    epilog=examples(
        "gridgeo assign cases.csv plan.gpkg --profile city.toml --out assigned.parquet",
        "gridgeo assign reports_export.csv plan.gpkg --crs gcj02 --lon lng --lat lat \\\n"
        "    --out assigned.csv",
    ),
)
@click.argument("reports", type=FILE)
@click.argument("plan_file", metavar="PLAN", type=FILE)
@click.option("--profile", type=FILE, help="City profile: columns, system, encoding, flags.")
@click.option("--lon", help="Longitude column (default: the profile's, else lng).")
@click.option("--lat", help="Latitude column (default: the profile's, else lat).")
@click.option("--id", "id_col", help="Report id column (default report_id when present).")
@click.option("--time", "time_col", help="Report time column (default reported_at).")
@click.option(
    "--crs",
    "system",
    help=f"Coordinates of the export: {SYSTEM_HELP}. Default: the profile's, else gcj02.",
)
@click.option("--encoding", help="CSV encoding (default: detect UTF-8 / GBK).")
@click.option(
    "--out",
    type=OUT_FILE,
    default=Path("assigned_reports.parquet"),
    show_default=True,
    help="Output: .parquet (GeoParquet), .gpkg or .csv.",
)
@common
def assign(
    reports: Path,
    plan_file: Path,
    profile: Path | None,
    lon: str | None,
    lat: str | None,
    id_col: str | None,
    time_col: str | None,
    system: str | None,
    encoding: str | None,
    out: Path,
    settings: Settings,
) -> None:
    """Assign every report in REPORTS to a cell, a grid, a department and a level."""
    import dataclasses

    from gridgeo import grids as grids_mod
    from gridgeo.assignment import summary
    from gridgeo.profile import Profile, read_header

    _suffix(out, (".parquet", ".gpkg", ".csv"), "--out")
    refuse_existing([out], overwrite=settings.overwrite)
    require_folder(out)
    if profile is not None:
        prof = Profile.load(profile)
    else:  # the demo export's names when present
        header = read_header(reports)
        known = {"id": "report_id", "reported": "reported_at"}
        prof = Profile(
            columns={"lon": "lng", "lat": "lat", **{k: c for k, c in known.items() if c in header}}
        )
    columns = dict(prof.columns)
    given = {"lon": lon, "lat": lat, "id": id_col, "reported": time_col}
    columns.update({key: value for key, value in given.items() if value is not None})
    changes: dict[str, Any] = {"columns": columns}
    if system is not None:
        changes["crs"] = _system(system)
    if encoding is not None:
        changes["encoding"] = encoding
    prof = dataclasses.replace(prof, **changes)
    table = prof.read_reports(reports)
    plan = grids_mod.load_plan(plan_file)
    assigned = _jobs.assign_reports(table, plan, profile=prof)
    written = Written()
    written.add("assigned reports", write_table(assigned, out))
    counts = summary(assigned)
    _finish("gridgeo assign", written, [", ".join(f"{k} {v}" for k, v in counts.items())])


def _read_assigned(path: Path) -> Any:
    from gridgeo import io

    if path.suffix.lower() not in (".parquet", ".gpkg", ".geojson", ".json"):
        msg = (
            f"cannot read assigned reports from {path}: use the .parquet or .gpkg written by "
            "`gridgeo assign` (CSV has no geometry)."
        )
        raise InputFileError(msg)
    table = io.read_layer(path)
    if "status" not in table.columns or "cell_code" not in table.columns:
        msg = f"{path} has no status/cell_code columns: write it with `gridgeo assign` first."
        raise InputFileError(msg)
    return table


# ---------------------------------------------------------------------------- hotspots
@cli.command(
    epilog=examples("gridgeo hotspots assigned_reports.parquet plan.gpkg --out hotspots"),
)
@click.argument("assigned", type=FILE)
@click.argument("plan_file", metavar="PLAN", type=FILE)
@click.option("--profile", type=FILE, help="City profile: warning thresholds, language.")
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Language of warning reasons.")
@click.option("--out", type=OUT_DIR, default=Path("hotspots"), show_default=True)
@common
def hotspots(
    assigned: Path,
    plan_file: Path,
    profile: Path | None,
    lang: str | None,
    out: Path,
    settings: Settings,
) -> None:
    """Gi* hotspots per cell, emerging hot spots and blue/yellow/red warnings, and a map.

    Writes OUT/gistar.csv, OUT/warnings.csv, OUT/emerging.csv (with 4 weeks of reports or
    more) and OUT/hotspots.html.
    """
    from gridgeo import grids as grids_mod
    from gridgeo import maps

    names = ("gistar.csv", "warnings.csv", "emerging.csv", "hotspots.html")
    refuse_existing([out / n for n in names], overwrite=settings.overwrite)
    prof = _profile(profile)
    table = _read_assigned(assigned)
    plan = grids_mod.load_plan(plan_file)
    language = lang or (prof.lang if prof is not None else "zh")
    tables = _jobs.hotspot_tables(table, plan, lang=language, profile=prof)
    trends = _jobs.emerging_table(table, plan)
    out.mkdir(parents=True, exist_ok=True)
    written = Written()
    written.add("Gi* per cell (CSV)", write_csv(tables["gistar"], out / "gistar.csv"))
    written.add("warnings (CSV)", write_csv(tables["warnings"], out / "warnings.csv"))
    if trends is not None:
        written.add("emerging hot spots (CSV)", write_csv(trends, out / "emerging.csv"))
    else:  # an older run's table would be taken for this one's
        (out / "emerging.csv").unlink(missing_ok=True)
    m = _jobs.hotspot_map(plan, table, tables["hot"])
    written.add("hotspot map (HTML)", maps.save_map(m, out / "hotspots.html"))
    n_hot = int((tables["gistar"]["gi_bin"] > 0).sum())
    _finish("gridgeo hotspots", written, [f"{n_hot} hot cells, {len(tables['warnings'])} warned"])


# --------------------------------------------------------------------------------- map
@cli.command(
    "map",
    epilog=examples("gridgeo map plan.gpkg --reports assigned_reports.parquet --out map.html"),
)
@click.argument("plan_file", metavar="PLAN", type=FILE)
@click.option("--reports", type=FILE, help="Assigned reports: a heatmap and clustered points.")
@click.option("--out", type=OUT_FILE, default=Path("map.html"), show_default=True)
@common
def map_(plan_file: Path, reports: Path | None, out: Path, settings: Settings) -> None:
    """Interactive map (HTML) of the plan's grids and cells, with reports when given."""
    from gridgeo import grids as grids_mod
    from gridgeo import maps

    _suffix(out, (".html", ".htm"), "--out")
    refuse_existing([out], overwrite=settings.overwrite)
    require_folder(out)
    plan = grids_mod.load_plan(plan_file)
    m = maps.grid_map(plan.grids, cells=plan.cells)
    if reports is not None:
        table = _read_assigned(reports)
        m = _jobs.hotspot_map(plan, table, None) if len(table) else m
        ok = table[table["status"].isin(["assigned", "snapped"])]
        m = maps.reports_map(ok.head(5000), m=m) if len(ok) else m
    written = Written()
    written.add("interactive map (HTML)", maps.save_map(m, out))
    _finish("gridgeo map", written)
