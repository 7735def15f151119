"""The report's sections: spatial coverage, workload, rankings, warnings, headline, period."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgeo._validate import require_columns
from gridgeo.calendar import WorkCalendar
from gridgeo.coverage import _kpi


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
