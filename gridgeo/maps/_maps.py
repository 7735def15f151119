"""Interactive maps of grids and hot spots (private; public in :mod:`gridgeo.maps`).

:func:`grid_map` (responsibility grids, base cells, staff) and :func:`hotspot_map` (Gi* bins,
emerging trends, warnings), drawn with folium through :mod:`gridgeo.maps._interactive`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from gridgeo._validate import (
    plan_layers,
    require_columns,
    require_crs,
    require_geodataframe,
    require_geom_types,
    require_nonempty,
)
from gridgeo.maps import _density
from gridgeo.maps._density import (
    EMERGING_COLOURS,
    GI_COLOURS,
    WARNING_COLOURS,
    greedy_colours,
    ramp_colours,
)
from gridgeo.maps._interactive import (
    BasemapError,
    _add_geojson,
    _escaped,
    _finish,
    _layer_name,
    _Legend,
    _legend_html,
    _ramp_legend,
    _start,
    _system_of,
    _to_lonlat,
)

logger = logging.getLogger("gridgeo.maps")

_POLYGONS = ("Polygon", "MultiPolygon")


def grid_map(
    grids: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    column: str | None = None,
    cells: gpd.GeoDataFrame | None = None,
    staff: pd.DataFrame | None = None,
    basemap: str = "osm",
    tianditu_token: str | None = None,
    tile_system: str = "wgs84",
    offline: str | os.PathLike[str] | None = None,
    name: str = "网格 Grids",
) -> folium.Map:
    """Draw responsibility grids (and optionally base cells) on an interactive map.

    Parameters
    ----------
    grids : GeoDataFrame
        Polygons with ``grid_code``; ``community_name``, ``weight``, ``n_cells`` and
        ``staff``/``workers`` are shown in the tooltip when present. Any CRS.
    m : folium.Map, optional
        Add the layers to this map instead of a new one.
    column : str, optional
        Colour grids by this column (numeric: colour ramp; text: one colour per value).
        By default neighbouring grids get different colours.
    cells : GeoDataFrame, optional
        Base cells drawn as thin outlines under the grids, with ``cell_code`` tooltips.
    staff : DataFrame, optional
        Staff table with ``grid_code``, ``role``, ``name`` (``phone`` not shown on maps).
    basemap : str, default "osm"
        ``"osm"``, ``"amap"``, ``"tianditu"``, ``"none"`` or a tile URL template.
    tianditu_token : str, optional
        Key for ``basemap="tianditu"``.
    tile_system : {"wgs84", "gcj02"}, default "wgs84"
        Coordinate system of a custom tile URL.
    offline : str or path, optional
        Older option: a ``node_modules``-style asset folder or URL prefix that
        :func:`save_map` links instead of inlining the assets shipped with gridgeo.
    name : str
        Layer name in the layer control (plain text: it is HTML-escaped).

    Returns
    -------
    folium.Map

    Raises
    ------
    ColumnError
        ``grid_code`` or ``column`` is missing, or ``staff`` lacks its columns.
    CRSError, GeometryError, BasemapError
        No CRS, non-polygon geometries, unknown basemap.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> grids = gpd.GeoDataFrame(
    ...     {"grid_code": ["441302001001001", "441302001001002"], "weight": [3.0, 5.0]},
    ...     geometry=[box(400_000, 2_550_000, 400_500, 2_550_500),
    ...               box(400_500, 2_550_000, 401_000, 2_550_500)],
    ...     crs="EPSG:4547",
    ... )
    >>> m = grid_map(grids, basemap="none")
    >>> "441302001001002" in m.get_root().render()
    True
    """
    _layer_name(name)  # a string, checked before any work
    if not isinstance(grids, pd.DataFrame) and hasattr(grids, "cells"):  # a GridPlan
        plan_cells, grids = plan_layers(grids, None, "grids")
        cells = plan_cells if cells is None else cells
    layer = _check_polygons(grids, "grids", ["grid_code"])
    if column is not None:
        require_columns(grids, [column], "grids", params={column: "column"})
    m = _start(m, basemap, tianditu_token, offline, tile_system)
    system = _system_of(m)
    if cells is not None:
        cell_layer = _check_polygons(cells, "cells", [])
        cl = _to_lonlat(cell_layer, system)
        tip = {"cell": _escaped(cl["cell_code"])} if "cell_code" in cl else {}
        _add_geojson(
            m, cl, colours=None, tooltip=tip, name="单元网格 Cells", line="#777777", weight=0.5
        )
    ll = _to_lonlat(layer, system)
    colours, legend = _grid_colours(ll, column)
    _add_geojson(
        m,
        ll,
        colours=colours,
        tooltip=_grid_tooltip(ll, staff),
        name=name,
        weight=1.6,
        fill_opacity=0.45,
    )
    if legend:
        _Legend(legend).add_to(m)
    return _finish(m, ll.total_bounds)


def _check_polygons(gdf: Any, name: str, columns: list[str]) -> gpd.GeoDataFrame:
    require_geodataframe(gdf, name)
    require_nonempty(gdf, name)
    require_columns(gdf, columns, name)
    require_crs(gdf, name)
    require_geom_types(gdf, _POLYGONS, name)
    return gdf


def _grid_colours(ll: gpd.GeoDataFrame, column: str | None) -> tuple[list[str], str]:
    if column is None:
        idx = greedy_colours(ll.geometry.values)
        return [_density.QUALITATIVE[i % len(_density.QUALITATIVE)] for i in idx], ""
    values = ll[column]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        colours, lo, hi = ramp_colours(values.to_numpy(dtype=float), "YlGnBu")
        legend = _ramp_legend(column, _density.ramp_stops("YlGnBu"), f"{lo:g}", f"{hi:g}")
        return colours, legend
    cats = pd.unique(values.astype(str))
    palette = {c: _density.QUALITATIVE[i % len(_density.QUALITATIVE)] for i, c in enumerate(cats)}
    items = [(palette[c], c) for c in cats[:12]]
    extra = f"<div>… {len(cats) - 12} more</div>" if len(cats) > 12 else ""
    return [palette[c] for c in values.astype(str)], _legend_html(column, items, extra)


def _grid_tooltip(ll: gpd.GeoDataFrame, staff: pd.DataFrame | None) -> dict[str, list[str]]:
    tip = {"网格 grid": _escaped(ll["grid_code"])}
    if "community_name" in ll:
        tip["社区 community"] = _escaped(ll["community_name"])
    if "weight" in ll:
        tip["工作量 workload"] = _escaped(ll["weight"], ".3g")
    if "n_cells" in ll:
        tip["单元 cells"] = _escaped(ll["n_cells"])
    if staff is not None:
        require_columns(staff, ["grid_code", "name"], "staff")
        labels = staff.assign(
            _who=staff["name"].astype(str)
            if "role" not in staff
            else staff["role"].astype(str) + " " + staff["name"].astype(str)
        )
        names = labels.groupby(labels["grid_code"].astype(str))["_who"].agg("、".join)
        tip["人员 staff"] = _escaped(ll["grid_code"].astype(str).map(names))
    else:
        for col in ("staff", "workers"):
            if col in ll:
                tip["人员 staff"] = _escaped(ll[col])
                break
    return tip


_GI_LABELS = {
    3: "热点 Hot spot, 99% confidence",
    2: "热点 Hot spot, 95%",
    1: "热点 Hot spot, 90%",
    0: "不显著 Not significant",
    -1: "冷点 Cold spot, 90%",
    -2: "冷点 Cold spot, 95%",
    -3: "冷点 Cold spot, 99% confidence",
}


def hotspot_map(
    hot: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    field: str = "gi_bin",
    basemap: str = "osm",
    tianditu_token: str | None = None,
    tile_system: str = "wgs84",
    offline: str | os.PathLike[str] | None = None,
    name: str = "热点 Hot spots",
) -> folium.Map:
    """Draw Getis-Ord Gi* hot and cold spots (or emerging hot spot categories).

    Cells are coloured with the conventional diverging palette (reds for hot spots at 90, 95
    and 99 % confidence, blues for cold spots, pale for not significant) and a legend. When
    a ``warning`` column holds ``blue``/``yellow``/``red``, those cells also get a coloured
    outline layer with the ``warning_reason`` in the tooltip.

    Parameters
    ----------
    hot : GeoDataFrame
        Cell polygons with ``gi_bin`` (−3…3); ``count``, ``gi_z``, ``gi_p``, ``category``,
        ``warning``, ``warning_reason`` and ``cell_code`` appear in the tooltip when present.
    m : folium.Map, optional
        Add to this map.
    field : {"gi_bin", "category"}
        Colour by confidence bin, or by emerging hot spot category (``"new hot spot"``,
        ``"intensifying cold spot"`` …).
    basemap, tianditu_token, tile_system, offline, name
        As in :func:`grid_map`.

    Returns
    -------
    folium.Map

    Raises
    ------
    ColumnError
        ``field`` is missing, or ``gi_bin`` holds values outside −3…3.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> hot = gpd.GeoDataFrame({"gi_bin": [3, 0, -2]},
    ...     geometry=[box(114 + i / 100, 23, 114.01 + i / 100, 23.01) for i in range(3)],
    ...     crs=4326)
    >>> html_text = hotspot_map(hot, basemap="none").get_root().render()
    >>> GI_COLOURS[3] in html_text and "Cold spot, 95%" in html_text
    True
    """
    from gridgeo.errors import ColumnError

    _layer_name(name)
    if field not in {"gi_bin", "category"}:
        msg = f"field must be 'gi_bin' or 'category', got {field!r}."
        raise BasemapError(msg)
    layer = _check_polygons(hot, "hot", [field])
    m = _start(m, basemap, tianditu_token, offline, tile_system)
    ll = _to_lonlat(layer, _system_of(m))
    if field == "gi_bin":
        bins = pd.to_numeric(ll["gi_bin"], errors="coerce")
        bad = ~bins.isin(list(GI_COLOURS))
        if bad.any():
            msg = (
                f"hot column 'gi_bin' must hold integers −3…3; rows {list(hot.index[bad][:5])} "
                "do not. Compute it with gridgeo.hotspots.gistar."
            )
            raise ColumnError(msg)
        keys = bins.astype(int).tolist()
        colours = [GI_COLOURS[k] for k in keys]
        opacity = [0.25 if k == 0 else 0.75 for k in keys]
        present = sorted(set(keys), reverse=True)
        legend = _legend_html("Gi* 热点分析", [(GI_COLOURS[k], _GI_LABELS[k]) for k in present])
    else:
        cats = ll["category"].fillna("no pattern detected").astype(str).str.lower()
        colours = [EMERGING_COLOURS.get(c, "#bdbdbd") for c in cats]
        opacity = [0.2 if c in {"no pattern detected", ""} else 0.75 for c in cats]
        present = list(pd.unique(cats))
        legend = _legend_html(
            "时空热点 Emerging", [(EMERGING_COLOURS.get(c, "#bdbdbd"), c) for c in present]
        )
    tip: dict[str, list[str]] = {}
    for col, label, fmt in (
        ("cell_code", "单元 cell", None),
        ("count", "案件 reports", None),
        ("gi_z", "Gi* z", ".2f"),
        ("gi_p", "p", ".3f"),
        ("category", "类别 category", None),
        ("warning", "预警 warning", None),
        ("warning_reason", "原因 reason", None),
    ):
        if col in ll:
            tip[label] = _escaped(ll[col], fmt)
    _add_geojson(
        m,
        ll,
        colours=colours,
        tooltip=tip,
        name=name,
        line="#666666",
        weight=0.4,
        fill_opacity=opacity,
    )
    _Legend(legend).add_to(m)
    if "warning" in ll:
        _add_warnings(m, ll)
    return _finish(m, ll.total_bounds)


def _add_warnings(m: folium.Map, ll: gpd.GeoDataFrame) -> None:
    level = ll["warning"].fillna("").astype(str).str.lower()
    keep = level.isin(list(WARNING_COLOURS)).to_numpy()
    if not keep.any():
        return
    sub = ll.loc[keep]
    levels = level[keep].tolist()
    tip = {"预警 warning": _escaped(level[keep])}
    if "warning_reason" in sub:
        tip["原因 reason"] = _escaped(sub["warning_reason"])
    group = folium.FeatureGroup(name="预警 Warnings").add_to(m)
    for lev, colour in WARNING_COLOURS.items():
        mask = [x == lev for x in levels]
        if any(mask):
            part = sub.loc[mask]
            _add_geojson(
                group,  # type: ignore[arg-type]
                part,
                colours=None,
                tooltip={
                    k: [v for v, keep_it in zip(vals, mask, strict=True) if keep_it]
                    for k, vals in tip.items()
                },
                name=f"warning {lev}",
                line=colour,
                weight=3.0,
            )
    items = [(c, f"{k} 预警") for k, c in WARNING_COLOURS.items() if k in set(levels)]
    _Legend(_legend_html("三色预警 Warnings", items)).add_to(m)
