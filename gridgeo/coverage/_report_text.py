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
    "group": ("分组", "Group"),
    "class_name": ("类别", "Class"),
    "department": ("部门", "Department"),
    "source": ("来源", "Source"),
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


#: why a section is empty or was not computed: key -> (zh, en); ``{arg}`` is filled in
_NOTES = {
    "no_stations": (
        "未计算：未提供服务站点（stations），不评价15分钟生活圈覆盖。",
        "Not computed: no service stations were given (stations=).",
    ),
    "no_patrols": (
        "未计算：未提供巡查轨迹（patrols）。",
        "Not computed: no patrol tracks were given (patrols=).",
    ),
    "no_hotspots": (
        "未计算：未提供热点预警结果（hotspots）。",
        "Not computed: no hotspot warnings were given (hotspots=).",
    ),
    "no_warnings": (
        "本期没有单元网格达到预警规则。",
        "No cell met a warning rule in this period.",
    ),
    "no_grids": (
        "未计算：没有责任网格（grids 或单元网格的 grid_code）。",
        "Not computed: no responsibility grids (grids= or a grid_code on the cells).",
    ),
    "missing_column": (
        "未计算：案件表中没有“{arg}”列。",
        "Not computed: the cases have no column '{arg}'.",
    ),
    "no_due": (
        "本期没有应结案的案件，无法排名。",
        "No case was due in the period: nothing to rank.",
    ),
    "no_squads": (
        "未计算：没有带中队（squad）列的责任网格。",
        "Not computed: no grids with a 'squad' column were given.",
    ),
    "no_communities": (
        "未计算：责任网格没有社区名称（community_name）列。",
        "Not computed: the grids have no 'community_name' column.",
    ),
    "no_problems": (
        "所有时间和是/否值均可识别。",
        "Every time and yes/no value could be read.",
    ),
    "no_cases": (
        "本期没有立案的案件。",
        "No case was filed in the period.",
    ),
}

#: values shown to people, per column: value -> (zh, en)
_VALUES = {
    "flag": {"red": ("红旗", "red flag"), "yellow": ("黄旗", "yellow flag")},
    "warning": {"red": ("红色", "red"), "yellow": ("黄色", "yellow"), "blue": ("蓝色", "blue")},
    "value": {"network": ("路网距离", "network"), "straight line": ("直线距离", "straight line")},
    "problem": {
        "unreadable time": ("无法识别的时间", "unreadable time"),
        "unreadable yes/no": ("无法识别的是/否值", "unreadable yes/no"),
    },
    "group": {"all": ("全部", "all"), "(none)": ("（未填）", "(none)")},
}


def _note(code: str, i: int) -> str:
    """The sentence for a note code ``key`` or ``key:arg``."""
    key, _, arg = code.partition(":")
    return _NOTES[key][i].format(arg=arg)


def _value(col: str, value: Any, i: int) -> Any:
    table = _VALUES.get(col)
    if table is None or not isinstance(value, str) or value not in table:
        return value
    return table[value][i]


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
    """Headers, measure names and fixed values in language ``i`` (numbers kept)."""
    out = frame.copy()
    if "measure" in out.columns:
        out["measure"] = [_label(str(m), i) for m in out["measure"]]
    for col in out.columns:
        if col in _VALUES:
            out[col] = [_value(col, v, i) for v in out[col]]
    return out.rename(columns={k: v[i] for k, v in _HEADERS.items()})


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


_LEVEL_NAMES = {"red": ("红色", "Red"), "yellow": ("黄色", "Yellow"), "blue": ("蓝色", "Blue")}


def _rule_sentences(rules: Any, warnings: pd.DataFrame | None, i: int) -> list[str]:
    """One sentence per warning level: its rules and how many cells met them."""
    if rules is None:
        return []
    out = []
    for level in ("red", "yellow", "blue"):
        parts = []
        bins = tuple(getattr(rules, f"{level}_bins", ()) or ())
        patterns = tuple(getattr(rules, f"{level}_patterns", ()) or ())
        count = getattr(rules, f"{level}_count", None)
        quantile = getattr(rules, f"{level}_count_quantile", None)
        z = getattr(rules, f"{level}_z", None)
        if bins:
            b = ", ".join(str(x) for x in bins)
            parts.append(f"Gi* 热点等级 gi_bin ∈ {{{b}}}" if i == 0 else f"Gi* gi_bin in {{{b}}}")
        if patterns:
            p = "、".join(patterns) if i == 0 else ", ".join(patterns)
            parts.append(f"时空模式为 {p}" if i == 0 else f"space-time pattern {p}")
        if count is not None:
            parts.append(f"案件数 ≥ {count:g}" if i == 0 else f"reports >= {count:g}")
        if quantile is not None:
            parts.append(
                f"案件数高于非零单元的第 {quantile:g} 百分位"
                if i == 0
                else f"reports above the {quantile:g}th percentile of non-zero cells"
            )
        if z is not None:
            parts.append(f"Gi* z ≥ {z:g}" if i == 0 else f"Gi* z >= {z:g}")
        n = 0
        if warnings is not None and "warning" in warnings.columns:
            n = int((warnings["warning"] == level).sum())
        name = _LEVEL_NAMES[level][i]
        if not parts:
            rule = "不使用" if i == 0 else "not used"
        else:
            rule = ("，或".join(parts)) if i == 0 else " or ".join(parts)
        tail = f"（本期 {n} 个单元）" if i == 0 else f" ({n} cells this period)"
        out.append(f"{name}预警：{rule}{tail}" if i == 0 else f"{name}: {rule}{tail}")
    return out
