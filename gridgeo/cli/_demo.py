"""The end-to-end demo behind ``gridgeo demo --out DIR``.

Runs the whole chain on the bundled demo district with the same public functions a user would
call, and writes files a person can open:

1. street-bounded base cells, coded (DB11) and validated;
2. synthetic reports written as a GCJ-02 CSV export and read back through ``gridgeo.io``;
3. workload per cell from a first assignment, then balanced responsibility grids;
4. every report assigned to a cell, a grid, a department and a response level;
5. counts, Getis-Ord Gi* hotspots and three-colour warnings;
6. an interactive map, static PNGs, and the coverage report (HTML + Excel).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from gridgeo.io._atomic import atomic_path

logger = logging.getLogger(__name__)

_STEPS = ("cells", "reports", "grids", "assign", "hotspots", "maps", "report")


@dataclass
class DemoResult:
    """Files written by the demo and a few headline figures."""

    out: Path
    files: dict[str, Path] = field(default_factory=dict)
    figures: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def describe(self) -> str:
        """Human summary: every file written, then the headline figures."""
        lines = [f"gridgeo demo wrote {len(self.files)} files to {self.out}:"]
        width = max((len(k) for k in self.files), default=0)
        for label, path in self.files.items():
            size = path.stat().st_size if path.exists() else 0
            lines.append(f"  {label:<{width}}  {path}  ({size / 1024:,.0f} KiB)")
        lines.append("figures:")
        lines += [f"  {k}: {v}" for k, v in self.figures.items()]
        lines.append(f"done in {self.seconds:.1f} s")
        return "\n".join(lines)


def run_demo(
    out: Path,
    *,
    n_reports: int = 20_000,
    seed: int = 0,
    n_grids: int = 40,
    lang: str = "zh",
    progress: bool = True,
) -> DemoResult:
    """Run the demo chain and return what it wrote (see the module docstring)."""
    from gridgeo import assignment as assign_mod
    from gridgeo import cells as cells_mod
    from gridgeo import coverage, datasets, grids, hotspots, io, maps

    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = DemoResult(out=out)
    bar = tqdm(total=len(_STEPS), desc="gridgeo demo", unit="step", disable=not progress)
    city = datasets.demo_city()

    # 1. base cells: street blocks nested in communities, coded and validated
    bar.set_postfix_str("base cells")
    cells = cells_mod.blocks(
        city.district, barriers=[city.streets, city.rivers], nest=city.communities
    )
    cells = cells_mod.code(cells)
    check = cells_mod.validate(cells, city.district)
    result.figures["base cells"] = f"{len(cells)} street blocks, validation ok: {check.ok}"
    bar.update()

    # 2. reports: the CSV export a case system gives, read back with validation
    bar.set_postfix_str("reports")
    raw = datasets.demo_reports(n_reports, seed=seed)
    csv_in = out / "reports_export.csv"
    with atomic_path(csv_in) as tmp:
        raw.to_csv(tmp, index=False, encoding="utf-8-sig")
    result.files["reports (input CSV, GCJ-02)"] = csv_in
    reports = io.read_reports(
        csv_in, lon="lng", lat="lat", crs="gcj02", time="reported_at", id="report_id"
    )
    bar.update()

    # 3. workload per cell, then balanced responsibility grids
    bar.set_postfix_str("grids")
    first = assign_mod.assign(reports, cells, duplicates=False)
    load = first.loc[first["status"] == "assigned"].groupby("cell_code", observed=True).size()
    cells = cells.assign(load=cells["cell_code"].map(load).fillna(0).astype(float) + 1.0)
    plan = grids.build(cells, n=n_grids, weight="load", progress=False)
    result.figures["responsibility grids"] = (
        f"{len(plan.grids)} grids, workload CV {plan.summary.cv:.2f}"
    )
    layers = out / "cells_grids.gpkg"
    io.write_layer(plan.cells, layers, layer="cells")
    io.write_layer(plan.grids, layers, layer="grids")
    result.files["cells + grids (GeoPackage)"] = layers
    bar.update()

    # 4. assignment to cells, grids, departments and response levels
    bar.set_postfix_str("assign")
    assigned = assign_mod.assign(reports, plan.cells)
    counts = assign_mod.summary(assigned)
    result.figures["reports"] = ", ".join(f"{k} {v}" for k, v in counts.items())
    parquet = out / "assigned_reports.parquet"
    io.write_layer(assigned, parquet)
    result.files["assigned reports (GeoParquet)"] = parquet
    csv_out = out / "assigned_reports.csv"
    with atomic_path(csv_out) as tmp:
        pd.DataFrame(assigned.drop(columns=assigned.geometry.name)).to_csv(
            tmp, index=False, encoding="utf-8-sig"
        )
    result.files["assigned reports (CSV)"] = csv_out
    bar.update()

    # 5. hotspots and warnings
    bar.set_postfix_str("hotspots")
    per_cell = hotspots.counts(assigned, plan.cells)
    hot = hotspots.warnings(hotspots.gistar(per_cell, "count"), lang=lang)
    n_hot = int((hot["gi_bin"] > 0).sum())
    n_red = int((hot["warning"] == "red").sum())
    result.figures["hotspots"] = f"{n_hot} hot cells (Gi*, FDR), {n_red} red warnings"
    bar.update()

    # 6. maps
    bar.set_postfix_str("maps")
    m = maps.grid_map(plan.grids, cells=plan.cells)
    m = maps.hotspot_map(hot, m=m)
    m = maps.reports_map(assigned.head(3000), m=m)
    html_map = out / "map.html"
    maps.save_map(m, html_map)
    result.files["interactive map (HTML)"] = html_map
    png = out / "hotspots.png"
    maps.save_figure(maps.plot_hotspots(hot, grids=plan.grids), png)
    result.files["hotspot figure (PNG)"] = png
    grid_png = out / "grids.png"
    maps.save_figure(maps.plot_grids(plan.grids, cells=plan.cells), grid_png)
    result.files["grid figure (PNG)"] = grid_png
    bar.update()

    # 7. coverage report
    bar.set_postfix_str("report")
    rep = coverage.report(
        plan.cells,
        plan.grids,
        assigned,
        area=city.district,
        stations=city.stations,
        streets=city.streets,
        patrols=datasets.demo_patrols(),
        hotspots=hot,
    )
    report_html = out / "coverage_report.html"
    rep.to_html(report_html, lang=lang)
    result.files["coverage report (HTML)"] = report_html
    report_xlsx = out / "coverage_report.xlsx"
    rep.to_excel(report_xlsx, lang=lang)
    result.files["coverage report (Excel)"] = report_xlsx
    bar.update()
    bar.close()
    result.seconds = time.perf_counter() - started
    return result
