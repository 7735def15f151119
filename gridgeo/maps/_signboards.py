"""Printable grid signboards, 网格责任公示牌 (private; public in :mod:`gridgeo.maps`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import matplotlib as mpl
import matplotlib.colors
import matplotlib.font_manager
import matplotlib.image
import matplotlib.lines
import pandas as pd
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from tqdm import tqdm

from gridgeo._validate import (
    require_columns,
)
from gridgeo.errors import ColumnError
from gridgeo.maps._static import _POLY, _check, _frame, _metric, _rc, _safe, _t, save_figure

logger = logging.getLogger("gridgeo.maps._static")  # the name before the split


# --------------------------------------------------------------------------- signboards


def _staff_rows(grids: gpd.GeoDataFrame, staff: pd.DataFrame | None) -> dict[str, list[tuple]]:
    if staff is None:
        col = next((c for c in ("staff", "workers") if c in grids), None)
        if col is None:
            return {}
        return {
            str(g): [("", _safe(v), "")]
            for g, v in zip(grids["grid_code"], grids[col], strict=True)
        }
    if not isinstance(staff, pd.DataFrame):
        msg = f"staff must be a pandas DataFrame, got {type(staff).__name__}."
        raise TypeError(msg)
    require_columns(staff, ["grid_code", "role", "name", "phone"], "staff")
    unknown = set(staff["grid_code"].astype(str)) - set(grids["grid_code"].astype(str))
    if unknown:
        logger.warning("staff lists grid codes not in grids: %s", sorted(unknown)[:5])
    out: dict[str, list[tuple]] = {}
    for g, r, n, p in staff[["grid_code", "role", "name", "phone"]].itertuples(index=False):
        out.setdefault(str(g), []).append((_safe(r), _safe(n), _safe(p)))
    return out


def signboards(
    grids: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame | None = None,
    *,
    staff: pd.DataFrame | None = None,
    hotline: str = "12345",
    out_dir: str | os.PathLike[str],
    formats: Sequence[str] = ("png", "pdf"),
    dpi: int = 150,
    progress: bool = False,
) -> list[Path]:
    """Print one A4 grid responsibility signboard (网格责任公示牌) per grid.

    Each page shows the title, the grid on a plain background (neighbouring grids in grey,
    base cells as thin lines), north arrow and scale bar, the grid code and community, the
    responsible workers (role, name, phone) and the supervision hotline.

    Parameters
    ----------
    grids : GeoDataFrame
        Grid polygons with ``grid_code``; ``community_name`` is printed when present.
    cells : GeoDataFrame, optional
        Base cells drawn inside the grid.
    staff : DataFrame, optional
        The city's table with ``grid_code``, ``role``, ``name``, ``phone``. Without it a
        ``staff`` or ``workers`` text column of ``grids`` is printed.
    hotline : str, default "12345"
        Supervision hotline.
    out_dir : str or path
        Folder for the files (created if missing), named ``<grid_code>.<format>``.
    formats : sequence of str, default ("png", "pdf")
        File formats.
    dpi : int, default 150
        PNG resolution.
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    list of Path
        The written files, grid by grid.

    Raises
    ------
    ColumnError
        Missing ``grid_code`` or staff columns.
    DuplicateIdError
        Repeated grid codes.

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely import box
    >>> grids = gpd.GeoDataFrame({"grid_code": ["441302001001001"]},
    ...     geometry=[box(0, 0, 500, 400)], crs="EPSG:4547")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [p.name for p in signboards(grids, out_dir=tmp, formats=("png",), dpi=30)]
    ['441302001001001.png']
    """
    from gridgeo._validate import require_unique

    _check(grids, "grids", _POLY, ["grid_code"])
    require_unique(grids["grid_code"].astype(str), "grid_code", "grids")
    bad = [f for f in formats if f not in {"png", "pdf", "svg"}]
    if bad or not formats:
        msg = f"formats must be a non-empty list of 'png', 'pdf', 'svg'; got {list(formats)}."
        raise ColumnError(msg)
    people = _staff_rows(grids, staff)
    layer = _metric(grids)
    cell_layer = None
    if cells is not None:
        _check(cells, "cells", _POLY)
        cell_layer = cells.to_crs(layer.crs)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for pos in tqdm(range(len(layer)), disable=not progress, desc="signboards"):
        fig = _signboard(layer, pos, cell_layer, people, str(hotline))
        code = str(layer["grid_code"].iloc[pos])
        safe_name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in code)
        written += [
            save_figure(fig, folder / f"{safe_name}.{fmt}", dpi=dpi, tight=False) for fmt in formats
        ]
    return written


def _signboard(
    layer: gpd.GeoDataFrame,
    pos: int,
    cells: gpd.GeoDataFrame | None,
    people: dict[str, list[tuple]],
    hotline: str,
) -> Figure:
    row = layer.iloc[pos]
    code = str(row["grid_code"])
    with mpl.rc_context(_rc()):
        fig = Figure(figsize=(8.27, 11.69))  # A4 portrait
        FigureCanvasAgg(fig)
        fig.patch.set_facecolor("white")
        fig.add_artist(
            Rectangle(
                (0.03, 0.02),
                0.94,
                0.96,
                transform=fig.transFigure,
                fill=False,
                edgecolor="#b22222",
                linewidth=3,
            )
        )
        fig.text(
            0.5,
            0.94,
            _t("网格责任公示牌", "Grid Responsibility Board"),
            ha="center",
            va="center",
            fontsize=30,
            fontweight="bold",
            color="#b22222",
        )
        community = _safe(row["community_name"]) if "community_name" in layer else ""
        sub = f"{_t('网格编码', 'Grid code')}: {code}"
        if community:
            sub += f"    {_t('所属社区', 'Community')}: {community}"
        fig.text(0.5, 0.895, sub, ha="center", va="center", fontsize=13, parse_math=False)
        ax = fig.add_axes((0.08, 0.36, 0.84, 0.50))
        geom = row.geometry
        minx, miny, maxx, maxy = geom.bounds
        pad = 0.12 * max(maxx - minx, maxy - miny, 1.0)
        view = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
        near = layer.iloc[layer.sindex.query(view, predicate="intersects")]
        near.plot(ax=ax, color="#eeeeee", edgecolor="#aaaaaa", linewidth=0.8)
        if cells is not None:
            inside = cells.iloc[cells.sindex.query(geom, predicate="intersects")]
            inside.boundary.plot(ax=ax, color="#999999", linewidth=0.4)
        gpd.GeoSeries([geom], crs=layer.crs).plot(
            ax=ax, facecolor="#fde0c5", edgecolor="#b22222", linewidth=2.2, alpha=0.8
        )
        ax.set_xlim(minx - pad, maxx + pad)
        ax.set_ylim(miny - pad, maxy + pad)
        _frame(ax, None)
        _worker_table(fig, people.get(code, []))
        fig.text(
            0.5,
            0.06,
            f"{_t('监督电话', 'Supervision hotline')}: {_safe(hotline)}",
            ha="center",
            va="center",
            fontsize=18,
            fontweight="bold",
            color="#b22222",
            parse_math=False,
        )
    return fig


def _worker_table(fig: Figure, rows: list[tuple]) -> None:
    fig.text(
        0.08,
        0.325,
        _t("网格责任人员", "Responsible workers"),
        fontsize=15,
        fontweight="bold",
        va="center",
    )
    if not rows:
        fig.text(0.08, 0.29, _t("（未登记）", "(none registered)"), fontsize=12, va="center")
        return
    shown = rows[:10]
    header = (_t("职务", "Role"), _t("姓名", "Name"), _t("电话", "Phone"))
    xs = (0.08, 0.38, 0.62)
    for x, text in zip(xs, header, strict=True):
        fig.text(x, 0.29, text, fontsize=12, fontweight="bold", va="center", color="#555555")
    for k, person in enumerate(shown):
        y = 0.29 - 0.021 * (k + 1)
        for x, text in zip(xs, person, strict=True):
            fig.text(x, y, text, fontsize=12, va="center", parse_math=False)
    if len(rows) > len(shown):
        more = f"… {_t('另有', 'and')} {len(rows) - len(shown)} {_t('人', 'more')}"
        fig.text(0.08, 0.29 - 0.021 * (len(shown) + 1), more, fontsize=11, va="center")
