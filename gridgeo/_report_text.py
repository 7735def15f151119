"""Labels and value formatting for the coverage report's HTML, Excel and dict outputs (private)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

_TITLES = {
    "spatial": ("空间覆盖", "Spatial coverage"),
    "workload": ("工作量与人员配置", "Workload and staffing"),
    "kpi_grid": ("案件指标（按网格）", "Case KPIs by grid"),
    "kpi_department": ("案件指标（按部门）", "Case KPIs by department"),
    "kpi_category": ("案件指标（按类别）", "Case KPIs by category"),
    "kpi_source": ("案件指标（按来源）", "Case KPIs by source"),
    "service": ("15分钟生活圈服务覆盖", "Service coverage (15-minute life circle)"),
    "patrol": ("巡查覆盖", "Patrol coverage"),
    "warnings": ("三色预警", "Three-colour warnings"),
    "ranking": ("网格排名（红旗/黄旗）", "Grid ranking (red/yellow flags)"),
    "workload_community": ("社区工作量", "Workload by community"),
    "ranking_squad": ("中队排名（红旗/黄旗）", "Squad ranking (red/yellow flags)"),
    "data_problems": ("无法识别的数据", "Unreadable values"),
}

_HEADERS = {
    "measure": ("指标", "Measure"),
    "value": ("数值", "Value"),
    "grid_code": ("网格编码", "Grid code"),
    "community_name": ("社区", "Community"),
    "cells": ("单元网格数", "Base cells"),
    "area_km2": ("面积(km²)", "Area (km²)"),
    "reports": ("案件数", "Reports"),
    "workers": ("网格员", "Workers"),
    "reports_per_worker": ("人均案件", "Reports per worker"),
    "load_ratio": ("负荷/均值", "Load / mean"),
    "overloaded": ("超负荷", "Overloaded"),
    "filed": ("立案数", "Filed"),
    "due": ("应结案数", "Due"),
    "closed": ("结案数", "Closed"),
    "closure_rate": ("结案率", "Closure rate"),
    "closed_on_time": ("按期结案数", "Closed on time"),
    "on_time_closure_rate": ("按期结案率", "On-time closure rate"),
    "disposed": ("处置数", "Disposed"),
    "disposal_rate": ("处置率", "Disposal rate"),
    "disposed_on_time": ("按期处置数", "Disposed on time"),
    "on_time_disposal_rate": ("按期处置率", "On-time disposal rate"),
    "mean_acceptance_h": ("平均受理时长(h)", "Mean acceptance (h)"),
    "median_acceptance_h": ("受理时长中位数(h)", "Median acceptance (h)"),
    "mean_handling_h": ("平均处置时长(h)", "Mean handling (h)"),
    "median_handling_h": ("处置时长中位数(h)", "Median handling (h)"),
    "rework": ("返工数", "Rework"),
    "rework_rate": ("返工率", "Rework rate"),
    "extended": ("延期数", "Extended"),
    "extension_rate": ("延期率", "Extension rate"),
    "open_now": ("未结案", "Open now"),
    "overdue_now": ("超期未结", "Overdue now"),
    "rank": ("名次", "Rank"),
    "flag": ("旗帜", "Flag"),
    "grids": ("网格数", "Grids"),
    "squad": ("中队", "Squad"),
    "cell_code": ("单元网格编码", "Cell code"),
    "distance_m": ("距离(m)", "Distance (m)"),
    "covered": ("覆盖", "Covered"),
    "population": ("人口", "Population"),
    "date": ("日期", "Date"),
    "shift": ("班次", "Shift"),
    "cells_visited": ("巡查单元数", "Cells visited"),
    "share_visited": ("巡查覆盖率", "Share visited"),
    "minutes": ("巡查分钟", "Minutes"),
    "warning": ("预警", "Warning"),
    "warning_reason": ("原因", "Reason"),
    "count": ("案件数", "Reports"),
    "gi_z": ("Gi* z值", "Gi* z"),
    "gi_bin": ("热点等级", "Hotspot class"),
    "row": ("行", "Row"),
    "column": ("列", "Column"),
    "problem": ("问题", "Problem"),
}


_MEASURES = {
    "district_km2": ("辖区面积(km²)", "District area (km²)"),
    "covered_by_cells_share": ("单元网格覆盖率", "Share covered by cells"),
    "covered_by_grids_share": ("责任网格覆盖率", "Share covered by grids"),
    "cells_area_km2": ("单元网格面积(km²)", "Cell area (km²)"),
    "gaps_m2": ("缝隙面积(m²)", "Gaps (m²)"),
    "overlaps_m2": ("重叠面积(m²)", "Overlaps (m²)"),
    "cells_ok": ("单元网格校验通过", "Cells valid"),
    "cells_without_grid": ("未归属网格的单元", "Cells without grid"),
    "grids": ("责任网格数", "Grids"),
    "grids_without_staff": ("无人员网格", "Grids without staff"),
    "cells_covered": ("可达单元数", "Cells covered"),
    "share_cells_covered": ("单元可达率", "Share of cells covered"),
    "walk_distance_m": ("步行距离(m)", "Walking distance (m)"),
    "method": ("计算方法", "Method"),
    "median_distance_m": ("距离中位数(m)", "Median distance (m)"),
    "population_covered_share": ("人口可达率", "Share of population covered"),
    "red_warnings": ("红色预警数", "Red warnings"),
    "unreadable_values": ("无法识别的值", "Unreadable values"),
}


def _lang(lang: str) -> int:
    if lang not in ("zh", "en"):
        msg = f"lang must be 'zh' or 'en', got {lang!r}."
        raise ValueError(msg)
    return 0 if lang == "zh" else 1


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(frame).copy()
    if isinstance(out, gpd.GeoDataFrame) or "geometry" in out.columns:
        out = pd.DataFrame(out.drop(columns=["geometry"], errors="ignore"))
    if out.index.name is not None or not isinstance(out.index, pd.RangeIndex):
        out = out.reset_index()
        if "index" in out.columns and out["index"].equals(pd.Series(range(len(out)))):
            out = out.drop(columns="index")
    return out


def _translate(frame: pd.DataFrame, i: int) -> pd.DataFrame:
    return frame.rename(columns={k: v[i] for k, v in _HEADERS.items()})


def _is_share(key: str) -> bool:
    return "rate" in key or "share" in key


def _fmt(value: Any, key: str = "") -> str:
    """Format one value for people: rates and shares as percentages, counts as integers."""
    if isinstance(value, bool | np.bool_):
        return "✓" if value else "✗"
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return "–"
        if _is_share(key):
            return f"{value:.2%}"
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return str(value)


def _display(frame: pd.DataFrame, i: int) -> pd.DataFrame:
    """A section as strings for HTML: formatted by column, measures and headers translated."""
    flat = _flat(frame)
    out = pd.DataFrame(index=flat.index)
    for col in flat.columns:
        if col == "value" and "measure" in flat.columns:
            out[col] = [_fmt(v, str(k)) for k, v in zip(flat["measure"], flat[col], strict=True)]
        else:
            out[col] = [_fmt(v, str(col)) for v in flat[col]]
    if "measure" in out.columns:
        out["measure"] = [_label(m, i) for m in flat["measure"]]
    return _translate(out, i)


def _label(key: str, i: int) -> str:
    return _HEADERS.get(key, _MEASURES.get(key, (key, key)))[i]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
