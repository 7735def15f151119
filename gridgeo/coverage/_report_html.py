"""HTML rendering and figures of the coverage report (self-contained: CSS inline, PNGs embedded).

The page is rendered from a Jinja2 template with autoescaping on; gridgeo's own is
``gridgeo/_data/templates/report.html.j2`` (:func:`default_template`), which an office can copy
to set its title, logo and footer and pass as ``CoverageReport.to_html(template=...)``.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gridgeo.errors import InputFileError

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
.note{color:#666;font-size:.85em}.logo{height:3em;float:right}
"""

_MAX_ROWS = 300
_TEMPLATE = "report.html.j2"


def default_template() -> Path:
    """Path of the packaged Jinja2 template (copy it to make an office's own)."""
    return Path(str(files("gridgeo").joinpath("_data", "templates", _TEMPLATE)))


def _logo_uri(logo: str | Path | None) -> str:
    if logo is None or logo == "":
        return ""
    text = str(logo)
    if text.startswith("data:image/"):
        return text
    path = Path(logo)
    if not path.is_file():
        msg = f"logo file {path} does not exist; pass the path of a PNG, JPEG or SVG image."
        raise InputFileError(msg)
    kind = mimetypes.guess_type(path.name)[0] or ""
    if not kind.startswith("image/"):
        msg = f"logo file {path} is not an image (PNG, JPEG, GIF or SVG)."
        raise InputFileError(msg)
    return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _environment(template: str | Path | None) -> tuple[Any, str]:
    import jinja2

    path = default_template() if template is None else Path(template)
    if not path.is_file():
        msg = f"report template {path} does not exist; copy gridgeo's own: {default_template()}."
        raise InputFileError(msg)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(path.parent)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env, path.name


def render(
    rep: Any,
    *,
    titles: dict[str, str],
    tables: dict[str, pd.DataFrame],
    notes: dict[str, str],
    figures: dict[str, str],
    figure_note: str,
    headline: dict[str, str],
    rules: list[str],
    lang: str,
    template: str | Path | None = None,
    title: str | None = None,
    logo: str | Path | None = None,
    footer: str = "",
) -> str:
    """The whole report as one HTML string from a Jinja2 template (autoescaped)."""
    import jinja2

    zh = lang == "zh"
    start, end = (t.strftime("%Y-%m-%d") for t in rep.period)
    sections = []
    for key, frame in tables.items():
        rows, more = _rows(frame, zh)
        sections.append(
            {
                "key": key,
                "title": titles[key],
                "note": notes.get(key, ""),
                "columns": [str(c) for c in frame.columns],
                "rows": rows,
                "more": more,
                "figure": figures.get("kpi", "") if key == "kpi_grid" else "",
                "figure_alt": "按期结案率图" if zh else "On-time closure chart",
            }
        )
    context = {
        "lang": lang,
        "html_lang": "zh-CN" if zh else "en",
        "title": title or ("网格化城市管理覆盖报告" if zh else "Grid management coverage report"),
        "logo": _logo_uri(logo),
        "footer": footer,
        "generated_by": (
            "gridgeo · 本报告为离线单文件，无需联网即可打开。"
            if zh
            else "gridgeo · Self-contained file; opens offline."
        ),
        "period_label": "统计期" if zh else "Period",
        "period": f"{start} – {end}",
        "headline": list(headline.items()),
        "map_figure": figures.get("map", ""),
        "map_alt": "覆盖地图" if zh else "Coverage map",
        "figure_note": figure_note,
        "sections": sections,
        "rules_title": "预警规则" if zh else "Warning rules",
        "rules": rules,
        "css": _CSS,
    }
    env, name = _environment(template)
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as err:
        msg = f"report template {name} failed: {err}; start from gridgeo's own template."
        raise InputFileError(msg) from err


def _rows(frame: pd.DataFrame, zh: bool) -> tuple[list[dict[str, Any]], str]:
    if frame.empty:
        return [], ""
    shown = frame.head(_MAX_ROWS)
    flag_col = next((c for c in shown.columns if c in ("flag", "旗帜", "Flag")), None)
    warn_col = next((c for c in shown.columns if c in ("warning", "预警", "Warning")), None)
    flag_class = {"红旗": "red", "黄旗": "yellow", "red flag": "red", "yellow flag": "yellow"}
    warn_class = {"红色": "red", "黄色": "yellow", "蓝色": "blue", "red": "red"}
    warn_class |= {"yellow": "yellow", "blue": "blue"}
    rows = []
    for _, row in shown.iterrows():
        flag = flag_class.get(str(row[flag_col]), "") if flag_col else ""
        cells = []
        for col, value in row.items():
            level = warn_class.get(str(value), "") if col == warn_col else ""
            cells.append({"text": str(value), "cls": f"warn-{level}" if level else ""})
        rows.append({"cls": f"flag-{flag}" if flag else "", "cells": cells})
    more = ""
    if len(frame) > _MAX_ROWS:
        left = len(frame) - _MAX_ROWS
        more = f"另有 {left} 行见 Excel 文件。" if zh else f"… {left} more rows in the Excel file."
    return rows, more


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    wanted = ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "Source Han", "SimHei", "PingFang")
    for font in font_manager.fontManager.ttflist:
        if any(w in font.name for w in wanted):
            return font.name
    return None


def has_cjk_font() -> bool:
    """Whether matplotlib can draw Chinese text (a CJK font is installed)."""
    return _cjk_font() is not None


def _setup_fonts() -> bool:
    import matplotlib as mpl

    name = _cjk_font()
    if name:
        mpl.rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
        mpl.rcParams["axes.unicode_minus"] = False
        return True
    return False


def coverage_figure(rep: Any, i: int) -> Figure | None:
    """Map of cells: service coverage (if computed), never-patrolled cells (if computed), grids.

    Without stations the cells are drawn neutral and the legend says service coverage was not
    computed; without patrol tracks there is no patrol legend. Labels are in the report's
    language (``i`` 0 = Chinese, 1 = English).
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    _setup_fonts()
    zh = i == 0
    cells = rep.layers["cells"]
    fig = Figure(figsize=(8, 7))
    ax = fig.add_subplot()
    handles = []
    if "service_covered" in cells.columns:
        colour = np.where(cells["service_covered"].to_numpy(), "#a9dfbf", "#f5b7b1")
        handles += [
            Patch(color="#a9dfbf", label="步行可达服务站" if zh else "within walking distance"),
            Patch(color="#f5b7b1", label="服务盲区" if zh else "outside walking distance"),
        ]
    else:
        colour = np.full(len(cells), "#e5e7e9")
        handles.append(
            Patch(
                color="#e5e7e9",
                label="服务覆盖：未计算（无服务站点）" if zh else "service coverage: not computed",
            )
        )
    cells.plot(ax=ax, color=colour, edgecolor="white", linewidth=0.3)
    unvisited = rep.layers.get("unvisited")
    if unvisited is not None:
        if len(unvisited):
            unvisited.plot(ax=ax, facecolor="none", edgecolor="#7d3c98", hatch="///", linewidth=0)
        handles.append(
            Patch(
                facecolor="none",
                edgecolor="#7d3c98",
                hatch="///",
                label="未巡查" if zh else "never patrolled",
            )
        )
    if "grids" in rep.layers:
        rep.layers["grids"].boundary.plot(ax=ax, color="#2c3e50", linewidth=0.8)
    ax.legend(handles=handles, loc="lower left", fontsize=8)
    ax.set_axis_off()
    parts = ["服务覆盖" if zh else "Service coverage"]
    if unvisited is not None:
        parts.append("巡查覆盖" if zh else "patrol coverage")
    ax.set_title(("与" if zh else " and ").join(parts))
    return fig


def kpi_figure(rep: Any, i: int) -> Figure | None:
    """Bar chart of on-time closure rate per grid, with the overall rate."""
    from matplotlib.figure import Figure

    _setup_fonts()
    zh = i == 0
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
