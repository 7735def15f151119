"""HTML rendering and figures of the coverage report (self-contained: CSS inline, PNGs embedded)."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


logger = logging.getLogger(__name__)

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em;
color:#222;max-width:1200px}
h1{font-size:1.6em;border-bottom:3px solid #c0392b;padding-bottom:.3em}
h2{font-size:1.2em;margin-top:2em;color:#2c3e50}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.headline td{font-size:1.05em}.flag-red{background:#fdecea}.flag-yellow{background:#fff8e1}
.warn-red{color:#c0392b;font-weight:bold}.warn-yellow{color:#b7950b;font-weight:bold}
.warn-blue{color:#2e86c1;font-weight:bold}img{max-width:100%}
.note{color:#666;font-size:.85em}
"""

_MAX_ROWS = 300


def render(
    rep: Any,
    *,
    titles: dict[str, str],
    tables: dict[str, pd.DataFrame],
    figures: dict[str, str],
    headline: dict[str, str],
    lang: str,
) -> str:
    """The whole report as one HTML string; every cell value is escaped."""
    zh = lang == "zh"
    start, end = (t.strftime("%Y-%m-%d") for t in rep.period)
    title = "网格化城市管理覆盖报告" if zh else "Grid management coverage report"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if zh else "en"}"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{'统计期' if zh else 'Period'}: {start} – {end}</p>",
        _headline_table(headline),
    ]
    if "map" in figures:
        parts.append(f'<img alt="coverage map" src="data:image/png;base64,{figures["map"]}">')
    for key, frame in tables.items():
        parts.append(f"<h2>{html.escape(titles[key])}</h2>")
        if key.startswith("kpi_grid") and "kpi" in figures:
            parts.append(f'<img alt="KPI chart" src="data:image/png;base64,{figures["kpi"]}">')
        parts.append(_table(frame, zh))
    parts.append(
        '<p class="note">gridgeo · '
        + (
            "本报告为离线单文件，无需联网即可打开。"
            if zh
            else "Self-contained file; opens offline."
        )
        + "</p></body></html>"
    )
    return "\n".join(parts)


def _headline_table(headline: dict[str, str]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in headline.items()
    )
    return f'<table class="headline">{rows}</table>'


def _table(frame: pd.DataFrame, zh: bool) -> str:
    if frame.empty:
        return f"<p class='note'>{'无数据' if zh else 'No data for this section.'}</p>"
    shown = frame.head(_MAX_ROWS)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    body = []
    flag_col = next((c for c in shown.columns if c in ("flag", "旗帜", "Flag")), None)
    warn_col = next((c for c in shown.columns if c in ("warning", "预警", "Warning")), None)
    for _, row in shown.iterrows():
        flag = str(row[flag_col]) if flag_col else ""
        cls = f' class="flag-{html.escape(flag)}"' if flag in ("red", "yellow") else ""
        cells = []
        for col, value in row.items():
            text = html.escape(str(value))
            if col == warn_col and value in ("red", "yellow", "blue"):
                text = f'<span class="warn-{html.escape(str(value))}">{text}</span>'
            cells.append(f"<td>{text}</td>")
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    more = (
        f"<p class='note'>… {len(frame) - _MAX_ROWS} more rows in the Excel file.</p>"
        if len(frame) > _MAX_ROWS
        else ""
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    wanted = ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "Source Han", "SimHei", "PingFang")
    for font in font_manager.fontManager.ttflist:
        if any(w in font.name for w in wanted):
            return font.name
    return None


def _setup_fonts() -> bool:
    import matplotlib as mpl

    name = _cjk_font()
    if name:
        mpl.rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
        mpl.rcParams["axes.unicode_minus"] = False
        return True
    return False


def coverage_figure(rep: Any, i: int) -> Figure | None:
    """Map of cells: service coverage, never-patrolled cells and grid outlines."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    cjk = _setup_fonts()
    zh = i == 0 and cjk
    cells = rep.layers["cells"]
    fig = Figure(figsize=(8, 7))
    ax = fig.add_subplot()
    colour = np.where(
        cells.get("service_covered", pd.Series(True, index=cells.index)).to_numpy(),
        "#a9dfbf",
        "#f5b7b1",
    )
    cells.plot(ax=ax, color=colour, edgecolor="white", linewidth=0.3)
    unvisited = rep.layers.get("unvisited")
    if unvisited is not None and len(unvisited):
        unvisited.plot(ax=ax, facecolor="none", edgecolor="#7d3c98", hatch="///", linewidth=0)
    if "grids" in rep.layers:
        rep.layers["grids"].boundary.plot(ax=ax, color="#2c3e50", linewidth=0.8)
    handles = [
        Patch(color="#a9dfbf", label="步行可达服务站" if zh else "within walking distance"),
        Patch(color="#f5b7b1", label="服务盲区" if zh else "outside walking distance"),
        Patch(
            facecolor="none",
            edgecolor="#7d3c98",
            hatch="///",
            label="未巡查" if zh else "never patrolled",
        ),
    ]
    ax.legend(handles=handles, loc="lower left", fontsize=8)
    ax.set_axis_off()
    ax.set_title("服务与巡查覆盖" if zh else "Service and patrol coverage")
    return fig


def kpi_figure(rep: Any, i: int) -> Figure | None:
    """Bar chart of on-time closure rate per grid, with the overall rate."""
    from matplotlib.figure import Figure

    cjk = _setup_fonts()
    zh = i == 0 and cjk
    kpi = rep.sections["kpi_grid"]
    kpi = kpi[kpi["due"] > 0]
    if kpi.empty:
        return None
    rate = kpi["on_time_closure_rate"].sort_values()
    fig = Figure(figsize=(9, 3.2))
    ax = fig.add_subplot()
    colours = np.where(rate < 0.9, "#e67e22", "#27ae60")
    ax.bar(range(len(rate)), rate.to_numpy() * 100, color=colours)
    ax.set_xticks(range(len(rate)), [str(x)[-5:] for x in rate.index], rotation=90, fontsize=6)
    ax.set_ylabel("按期结案率 %" if zh else "on-time closure %")
    ax.axhline(90, color="#7f8c8d", linestyle="--", linewidth=0.8)
    ax.set_ylim(0, 100)
    fig.tight_layout()
    return fig
