"""Static figures (matplotlib, Agg); the grid signboards are in ``_signboards.py``.

Public functions are re-exported from :mod:`gridgeo.maps`.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib as mpl
import matplotlib.colors
import matplotlib.font_manager
import matplotlib.image
import matplotlib.lines
import numpy as np
import pandas as pd
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from pyproj import CRS

from gridgeo._fonts import cjk_font
from gridgeo._validate import (
    plan_layers,
    require_columns,
    require_crs,
    require_geodataframe,
    require_geom_types,
    require_nonempty,
)
from gridgeo.errors import ColumnError, InputFileError
from gridgeo.maps._density import (
    EMERGING_COLOURS,
    GI_COLOURS,
    QUALITATIVE,
    greedy_colours,
    raster_points,
)
from gridgeo.maps._labels import place_labels, short_labels

logger = logging.getLogger(__name__)

# ArcGIS-style Gi* palette: hot 99/95/90 %, not significant, cold 90/95/99 %.

_GI_TEXT = {
    3: ("热点 99%置信度", "Hot spot 99%"),
    2: ("热点 95%置信度", "Hot spot 95%"),
    1: ("热点 90%置信度", "Hot spot 90%"),
    0: ("不显著", "Not significant"),
    -1: ("冷点 90%置信度", "Cold spot 90%"),
    -2: ("冷点 95%置信度", "Cold spot 95%"),
    -3: ("冷点 99%置信度", "Cold spot 99%"),
}


# --------------------------------------------------------------------------- fonts, furniture

# cjk_font finds a CJK font even when matplotlib's font cache predates it (gridgeo._fonts)


def _t(zh: str, en: str) -> str:
    return zh if cjk_font() else en


def _safe(text: Any) -> str:
    """User text for matplotlib: CJK replaced by '?' when no CJK font is installed."""
    s = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    if cjk_font():
        return s
    return "".join(ch if ord(ch) < 0x2E80 else "?" for ch in s)


def _rc() -> Any:  # a dict for mpl.rc_context; never written to the global rcParams
    families = ["DejaVu Sans"] + ([cjk_font()] if cjk_font() else [])
    # a list of concrete families, not "sans-serif": matplotlib only falls back across the
    # families named in font.family
    return {"font.family": families, "axes.unicode_minus": False}


def nice_length(span: float) -> float:
    """Largest 1, 2 or 5 × 10^k not above a fifth of ``span`` (scale bar length)."""
    target = span / 5.0
    if not target > 0:
        return 1.0
    base = 10.0 ** math.floor(math.log10(target))
    return max(m * base for m in (1, 2, 5) if m * base <= target)


def _scale_bar(ax: Any) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length(x1 - x0)
    left, bottom, height = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0), 0.012 * (y1 - y0)
    for k in range(4):
        ax.add_patch(
            Rectangle(
                (left + k * length / 4, bottom),
                length / 4,
                height,
                facecolor="black" if k % 2 == 0 else "white",
                edgecolor="black",
                linewidth=0.6,
                zorder=10,
            )
        )
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    for x, text in ((left, "0"), (left + length, label)):
        ax.text(
            x,
            bottom + 1.8 * height,
            text,
            ha="center",
            va="bottom",
            fontsize=8,
            zorder=10,
            bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1},
        )


def _north_arrow(ax: Any) -> None:
    ax.annotate(
        "N",
        xy=(0.94, 0.965),
        xytext=(0.94, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=12,
        fontweight="bold",
        arrowprops={"facecolor": "black", "width": 4, "headwidth": 11, "headlength": 10},
    )


def _frame(ax: Any, title: str | None) -> None:
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    if title:
        ax.set_title(_safe(title), fontsize=13, parse_math=False)
    _scale_bar(ax)
    _north_arrow(ax)


def _metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    from gridgeo.crs import to_metric

    return to_metric(gdf)


def _check(gdf: Any, name: str, kinds: Sequence[str], columns: Sequence[str] = ()) -> None:
    require_geodataframe(gdf, name)
    require_nonempty(gdf, name)
    require_columns(gdf, list(columns), name)
    require_crs(gdf, name)
    require_geom_types(gdf, kinds, name)


_POLY = ("Polygon", "MultiPolygon")


# --------------------------------------------------------------------------- figures


def plot_grids(
    grids: gpd.GeoDataFrame,
    *,
    cells: gpd.GeoDataFrame | None = None,
    column: str | None = None,
    labels: bool = True,
    title: str | None = None,
    figsize: tuple[float, float] = (8.0, 8.0),
) -> Figure:
    """Static map of responsibility grids, with legend, north arrow and scale bar.

    Parameters
    ----------
    grids : GeoDataFrame
        Grid polygons (any CRS; drawn in the local metric CRS) with ``grid_code``.
    cells : GeoDataFrame, optional
        Base cells drawn as thin lines.
    column : str, optional
        Colour by this column (numeric: colour bar; text: legend). By default neighbouring
        grids get different colours.
    labels : bool, default True
        Write the grid number (last three digits of ``grid_code``) in each grid.
    title : str, optional
        Figure title.
    figsize : tuple, default (8, 8)
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ColumnError, CRSError, GeometryError
        Bad input layer.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> grids = gpd.GeoDataFrame({"grid_code": ["441302001001001", "441302001001002"]},
    ...     geometry=[box(0, 0, 500, 500), box(500, 0, 1000, 500)], crs="EPSG:4547")
    >>> fig = plot_grids(grids, title="demo")
    >>> len(fig.axes)
    1
    """
    if not isinstance(grids, pd.DataFrame) and hasattr(grids, "cells"):  # a GridPlan
        plan_cells, grids = plan_layers(grids, None, "grids")
        cells = plan_cells if cells is None else cells
    _check(grids, "grids", _POLY, ["grid_code"])
    if column is not None:
        require_columns(grids, [column], "grids")
    layer = _metric(grids)
    with mpl.rc_context(_rc()):
        fig = Figure(figsize=figsize)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        handles: list[Any] = []
        if column is None:
            idx = greedy_colours(layer.geometry.values)
            layer.plot(
                ax=ax,
                color=[QUALITATIVE[i % len(QUALITATIVE)] for i in idx],
                edgecolor="#333333",
                linewidth=1.2,
            )
            handles.append(
                Patch(
                    facecolor=QUALITATIVE[0],
                    edgecolor="#333333",
                    label=_t("责任网格", "Responsibility grid"),
                )
            )
        else:
            handles += _plot_column(fig, ax, layer, column)
        if cells is not None:
            _check(cells, "cells", _POLY)
            cells.to_crs(layer.crs).boundary.plot(ax=ax, color="#666666", linewidth=0.3)
            handles.append(
                mpl.lines.Line2D(
                    [], [], color="#666666", linewidth=0.6, label=_t("单元网格", "Base cell")
                )
            )
        ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9)
        _frame(ax, title if title is not None else _t("责任网格划分", "Responsibility grids"))
        if labels:
            codes = layer["grid_code"].astype(str).map(_safe)
            place_labels(ax, layer.geometry.values, short_labels(codes))
    return fig


def _plot_column(fig: Figure, ax: Any, layer: gpd.GeoDataFrame, column: str) -> list[Any]:
    values = layer[column]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        layer.plot(ax=ax, column=column, cmap="YlGnBu", edgecolor="#333333", linewidth=0.8)
        mappable = ax.collections[-1]
        fig.colorbar(mappable, ax=ax, shrink=0.6, label=_safe(column))
        return []
    cats = list(pd.unique(values.astype(str)))
    palette = {c: QUALITATIVE[i % len(QUALITATIVE)] for i, c in enumerate(cats)}
    layer.plot(
        ax=ax, color=[palette[c] for c in values.astype(str)], edgecolor="#333333", linewidth=0.8
    )
    return [Patch(facecolor=palette[c], edgecolor="#333333", label=_safe(c)) for c in cats[:12]]


def plot_hotspots(
    hot: gpd.GeoDataFrame,
    *,
    field: str = "gi_bin",
    grids: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (8.0, 8.0),
) -> Figure:
    """Static Gi* hot spot map (or emerging categories) with legend, north arrow, scale bar.

    Parameters
    ----------
    hot : GeoDataFrame
        Cell polygons with ``gi_bin`` (−3…3) or ``category``.
    field : {"gi_bin", "category"}
        What to colour by.
    grids : GeoDataFrame, optional
        Grid outlines drawn on top.
    title : str, optional
        Figure title.
    figsize : tuple, default (8, 8)
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ColumnError, CRSError, GeometryError
        Bad input layer or ``gi_bin`` values outside −3…3.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> hot = gpd.GeoDataFrame({"gi_bin": [3, 0, -3]},
    ...     geometry=[box(i * 100, 0, i * 100 + 100, 100) for i in range(3)], crs="EPSG:4547")
    >>> len(plot_hotspots(hot).axes[0].get_legend().get_texts())
    3
    """
    if field not in {"gi_bin", "category"}:
        msg = f"field must be 'gi_bin' or 'category', got {field!r}."
        raise ColumnError(msg)
    _check(hot, "hot", _POLY, [field])
    layer = _metric(hot)
    with mpl.rc_context(_rc()):
        fig = Figure(figsize=figsize)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        if field == "gi_bin":
            bins = pd.to_numeric(layer["gi_bin"], errors="coerce")
            if not bins.isin(list(GI_COLOURS)).all():
                msg = "hot column 'gi_bin' must hold integers −3…3; compute it with gistar."
                raise ColumnError(msg)
            keys = bins.astype(int).tolist()
            colours = [GI_COLOURS[k] for k in keys]
            handles = [
                Patch(facecolor=GI_COLOURS[k], edgecolor="#999999", label=_t(*_GI_TEXT[k]))
                for k in sorted(set(keys), reverse=True)
            ]
        else:
            cats = layer["category"].fillna("no pattern detected").astype(str).str.lower()
            colours = [EMERGING_COLOURS.get(c, "#bdbdbd") for c in cats]
            handles = [
                Patch(
                    facecolor=EMERGING_COLOURS.get(c, "#bdbdbd"),
                    edgecolor="#999999",
                    label=_safe(c),
                )
                for c in pd.unique(cats)
            ]
        layer.plot(ax=ax, color=colours, edgecolor="#bbbbbb", linewidth=0.2)
        if grids is not None:
            _check(grids, "grids", _POLY)
            grids.to_crs(layer.crs).boundary.plot(ax=ax, color="#222222", linewidth=0.9)
        ax.legend(
            handles=handles,
            loc="lower right",
            fontsize=8,
            framealpha=0.9,
            title=_t("Gi* 热点分析", "Gi* hot spots"),
        )
        _frame(ax, title if title is not None else _t("案件热点分布", "Report hot spots"))
    return fig


def plot_heatmap(
    data: Any,
    *,
    column: str | None = None,
    resolution: int = 400,
    radius: float | None = None,
    cmap: str = "YlOrRd",
    outline: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (8.0, 8.0),
) -> Figure:
    """Static density map of points, a density surface, or per-cell counts.

    Parameters
    ----------
    data : GeoDataFrame or surface
        Points (optional weights in ``column``), polygons with counts in ``column``
        (default ``"count"``), or an object with ``array`` (north-up), ``bounds``, ``crs``.
    column : str, optional
        Weights or counts column.
    resolution : int, default 400
        Pixels along the longer side for points.
    radius : float, optional
        Smoothing sigma in metres for points (default: half Silverman's rule of thumb,
        at least 1.5 pixels).
    cmap : str, default "YlOrRd"
        Colour map.
    outline : GeoDataFrame, optional
        Polygons (district, grids) drawn as outlines on top.
    title : str, optional
        Figure title.
    figsize : tuple, default (8, 8)
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ColumnError, CRSError, GeometryError
        Bad input.

    Examples
    --------
    >>> import geopandas as gpd
    >>> rng = np.random.default_rng(1)
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(
    ...     rng.normal(400_000, 300, 500), rng.normal(2_550_000, 300, 500)), crs="EPSG:4547")
    >>> plot_heatmap(pts).axes[0].images[0].get_array().shape[1] > 100
    True
    """
    with mpl.rc_context(_rc()):
        fig = Figure(figsize=figsize)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        target = _draw_density(fig, ax, data, column, resolution, radius, cmap)
        if outline is not None:
            _check(outline, "outline", _POLY)
            outline.to_crs(target).boundary.plot(ax=ax, color="#333333", linewidth=0.6)
        _frame(ax, title if title is not None else _t("案件密度", "Report density"))
    return fig


def _draw_density(
    fig: Figure,
    ax: Any,
    data: Any,
    column: str | None,
    resolution: int,
    radius: float | None,
    cmap: str,
) -> CRS:
    if not isinstance(data, gpd.GeoDataFrame) and all(
        hasattr(data, a) for a in ("array", "bounds", "crs")
    ):
        arr = np.asarray(data.array, dtype=float)
        minx, miny, maxx, maxy = map(float, data.bounds)
        image = ax.imshow(
            np.ma.masked_invalid(arr), extent=(minx, maxx, miny, maxy), cmap=cmap, origin="upper"
        )
        fig.colorbar(image, ax=ax, shrink=0.6, label=_t("密度", "density"))
        return CRS.from_user_input(data.crs)
    _check(data, "data", ("Point", *_POLY))
    layer = _metric(data)
    if set(layer.geom_type) & set(_POLY):
        col = column or "count"
        require_columns(layer, [col], "data")
        layer.plot(ax=ax, column=col, cmap=cmap, edgecolor="#999999", linewidth=0.2)
        fig.colorbar(ax.collections[-1], ax=ax, shrink=0.6, label=_safe(col))
        return layer.crs
    if column is not None:
        require_columns(layer, [column], "data")
    geoms = layer.geometry.values
    x, y = np.asarray(shapely.get_x(geoms)), np.asarray(shapely.get_y(geoms))
    w = np.ones(len(x)) if column is None else pd.to_numeric(layer[column], errors="coerce")
    w = np.asarray(w, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(w)
    grid, (x0, y0, x1, y1), pixel = raster_points(x[ok], y[ok], w[ok], resolution, radius)
    density = grid / (pixel * pixel / 1e6)
    masked = np.ma.masked_less_equal(density, density.max() * 0.01)
    image = ax.imshow(masked, extent=(x0, x1, y0, y1), cmap=cmap, origin="upper")
    fig.colorbar(image, ax=ax, shrink=0.6, label=_t("案件/平方公里", "reports per km²"))
    return layer.crs


def save_figure(
    fig: Figure, path: str | os.PathLike[str], *, dpi: int = 200, tight: bool = True
) -> Path:
    """Write a figure atomically; the format follows the suffix (``.png``, ``.pdf``, ``.svg``).

    The file gets the user's normal permissions (umask). Chinese text is drawn with an
    installed CJK font (see :mod:`gridgeo._fonts`) without changing global matplotlib settings.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure from this module.
    path : str or path
        Output file; its folder must exist.
    dpi : int, default 200
        Resolution for raster formats.
    tight : bool, default True
        Crop the page to the drawn content (``bbox_inches="tight"``); False keeps the
        figure size (signboards keep their A4 page).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    InputFileError
        The folder does not exist, the target is a folder, the file cannot be written
        (permissions, full disk), or the suffix is not a format matplotlib writes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> fig = Figure()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_figure(fig, pathlib.Path(tmp) / "a.png").stat().st_size > 0
    True
    """
    from gridgeo.io._atomic import atomic_path

    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    if fmt not in canvas.get_supported_filetypes():
        msg = f"cannot write {target}: use a .png, .pdf or .svg suffix."
        raise InputFileError(msg)
    if not target.parent.is_dir():
        msg = f"cannot write {target}: folder {target.parent} does not exist; create it first."
        raise InputFileError(msg)
    if target.is_dir():
        msg = f"cannot write {target}: it is a folder; give a file name such as map.png."
        raise InputFileError(msg)
    extra: dict[str, Any] = {"bbox_inches": "tight", "pad_inches": 0.08} if tight else {}
    try:
        with atomic_path(target) as tmp, mpl.rc_context(_rc()):
            fig.savefig(tmp, format=fmt, dpi=dpi, **extra)
    except OSError as exc:
        msg = f"cannot write {target}: {exc.strerror or exc}; check the folder's permissions/space."
        raise InputFileError(msg) from exc
    return target
