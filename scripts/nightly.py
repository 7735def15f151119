r"""Nightly job through the Python API: one day's reports → Gi* table, warnings CSV, heatmap.

The same job as ``gridgeo run --profile city.toml --day 2026-03-02``, written out with the
public functions so it can be adapted. The profile names the case export, its columns and
coordinate system, and the saved grid plan (``gridgeo grids`` or ``plan.save(path)``)::

    python scripts/nightly.py city.toml 2026-03-02

cron (02:00 every night, yesterday's reports)::

    0 2 * * * cd /srv/city && python scripts/nightly.py city.toml $(date -d yesterday +\%F)
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

import gridgeo as gg


def nightly(profile_path: str, day: str) -> list[Path]:
    profile = gg.Profile.load(profile_path)
    start = pd.Timestamp(day)
    reports = profile.read_reports()
    today = reports[
        (reports["reported_at"] >= start) & (reports["reported_at"] < start + pd.Timedelta(days=1))
    ]
    plan = gg.grids.load_plan(profile.plan)
    hits = gg.assign(
        today,
        plan,
        tolerance=profile.thresholds.get("snap_m", 0.0),
        categories=profile.categories(),
    )
    counts = gg.hotspots.counts(hits, plan.cells)
    hot = gg.hotspots.warnings(gg.hotspots.gistar(counts, "count"), lang=profile.lang)

    out = Path(profile.output) / "nightly" / start.date().isoformat()
    out.mkdir(parents=True, exist_ok=True)
    columns = ["cell_code", "grid_code", "count", "gi_z", "gi_p", "gi_bin"]
    table = pd.DataFrame(hot[columns]).sort_values("cell_code")
    table.to_csv(out / "gistar.csv", index=False, encoding="utf-8-sig")
    warned = pd.DataFrame(hot.loc[hot["warning"] != "", [*columns, "warning", "warning_reason"]])
    warned.sort_values("cell_code").to_csv(out / "warnings.csv", index=False, encoding="utf-8-sig")
    m = gg.maps.grid_map(plan.grids)
    m = gg.maps.heatmap(hits[hits["status"].isin(["assigned", "snapped"])], m=m)
    gg.maps.save_map(gg.maps.hotspot_map(hot, m=m), out / "heatmap.html")
    return [out / "gistar.csv", out / "warnings.csv", out / "heatmap.html"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", help="the city profile (TOML)")
    parser.add_argument("day", help="YYYY-MM-DD")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for path in nightly(args.profile, args.day):
        print(path)
