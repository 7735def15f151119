"""Interactive maps (folium) and static figures (matplotlib) of grids, hotspots and reports.

Every interactive function takes its data first and returns a :class:`folium.Map`; pass
``m=`` to add the layers to an existing map instead of making a new one::

    m = gg.maps.grid_map(grids, basemap="amap")
    m = gg.maps.hotspot_map(hot, m=m)
    m = gg.maps.reports_map(reports, m=m)
    gg.maps.save_map(m, "city.html")  # one file that opens without the internet

Inputs may be in any CRS; they are converted to longitude/latitude for Leaflet. With the Amap
(Gaode) basemap, whose tiles are drawn in GCJ-02, overlay geometry is shifted into GCJ-02 on
the fly (:func:`gridgeo.crs.to_system`) so that nothing looks 300–500 m off.

Basemaps: ``"osm"`` (OpenStreetMap), ``"amap"`` (Gaode, GCJ-02), ``"tianditu"`` (天地图, needs
``tianditu_token``), ``"none"`` (plain background) or any tile URL template containing
``{x}``, ``{y}`` and ``{z}`` (city intranet tile servers); ``tile_system="gcj02"`` marks a
custom server whose tiles are in GCJ-02.

Every text that came from data (descriptions, addresses, names, codes) is HTML-escaped before
it reaches a tooltip or popup.

Static figures (:func:`plot_grids`, :func:`plot_hotspots`, :func:`plot_heatmap`) and printable
grid signboards (:func:`signboards`) are drawn with matplotlib's Agg backend.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgeo._validate import (
    require_columns,
    require_crs,
    require_geodataframe,
    require_geom_types,
    require_nonempty,
)
from gridgeo.errors import InputFileError
from gridgeo.maps import _density
from gridgeo.maps._assets import localise_html
from gridgeo.maps._density import (
    EMERGING_COLOURS,
    GI_COLOURS,
    STATUS_COLOURS,
    WARNING_COLOURS,
    DensityGrid,
    density_from_points,
    density_from_surface,
    greedy_colours,
    ramp_colours,
    rgba_image_png,
)
from gridgeo.maps._interactive import (
    BasemapError,
    _add_geojson,
    _escaped,
    _finish,
    _layer_name,
    _Legend,
    _legend_html,
    _popup_columns,
    _popup_html,
    _ramp_legend,
    _ReportLayer,
    _start,
    _system_of,
    _to_lonlat,
)
from gridgeo.maps._static import (
    plot_grids,
    plot_heatmap,
    plot_hotspots,
    save_figure,
    signboards,
)

logger = logging.getLogger(__name__)

__all__ = [
    "BasemapError",
    "grid_map",
    "heatmap",
    "hotspot_map",
    "plot_grids",
    "plot_heatmap",
    "plot_hotspots",
    "reports_map",
    "save_figure",
    "save_map",
    "signboards",
]

_POLYGONS = ("Polygon", "MultiPolygon")
# --------------------------------------------------------------------------- map plumbing


# --------------------------------------------------------------------------- public maps


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


def heatmap(
    data: Any,
    *,
    m: folium.Map | None = None,
    column: str | None = None,
    resolution: int = 512,
    radius: float | None = None,
    cmap: str = "YlOrRd",
    opacity: float = 0.8,
    basemap: str = "osm",
    tianditu_token: str | None = None,
    tile_system: str = "wgs84",
    offline: str | os.PathLike[str] | None = None,
    name: str = "密度 Heat",
) -> folium.Map:
    """Draw report density: raw points aggregated first, a KDE surface, or per-cell counts.

    Unlike ``folium.plugins.HeatMap``, which embeds every point in the page, raw points are
    binned into at most ``resolution`` × ``resolution`` pixels (NumPy ``histogram2d`` in
    Web Mercator), smoothed with a Gaussian kernel of ``radius`` metres and embedded as one
    PNG image: one million reports give a page of a few hundred kilobytes.

    Parameters
    ----------
    data : GeoDataFrame or density surface
        Points (one report each; ``column`` gives optional weights); polygons with a numeric
        ``column`` (per-cell counts, drawn as a choropleth); or a surface object with
        ``array`` (2-D, first row = north), ``bounds`` (minx, miny, maxx, maxy) and ``crs``,
        such as the result of :func:`gridgeo.hotspots.kde`.
    m : folium.Map, optional
        Add to this map.
    column : str, optional
        Weight column for points; value column for polygons (default ``"count"``).
    resolution : int, default 512
        Pixels along the longer side of the image built from points or a surface.
    radius : float, optional
        Smoothing radius (Gaussian sigma) in metres for points; default half of
        Silverman's rule-of-thumb bandwidth, at least 1.5 pixels.
    cmap : str, default "YlOrRd"
        Matplotlib colour map name.
    opacity : float, default 0.8
        Maximum opacity of the image or choropleth.
    basemap, tianditu_token, tile_system, offline, name
        As in :func:`grid_map`.

    Returns
    -------
    folium.Map

    Raises
    ------
    ColumnError, GeometryError, CRSError
        Bad input layer.

    Examples
    --------
    >>> import geopandas as gpd
    >>> rng = np.random.default_rng(0)
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(
    ...     114.4 + rng.normal(0, 0.01, 1000), 23.1 + rng.normal(0, 0.01, 1000)), crs=4326)
    >>> "data:image/png;base64" in heatmap(pts, basemap="none").get_root().render()
    True
    """
    _layer_name(name)
    if not 16 <= int(resolution) <= 4096:
        msg = f"resolution must be between 16 and 4096 pixels, got {resolution!r}."
        raise BasemapError(msg)
    if radius is not None and not (np.isfinite(radius) and radius > 0):
        msg = f"radius must be a positive number of metres, got {radius!r}."
        raise BasemapError(msg)
    if not isinstance(data, gpd.GeoDataFrame) and all(
        hasattr(data, a) for a in ("array", "bounds", "crs")
    ):
        m = _start(m, basemap, tianditu_token, offline, tile_system)
        grid = density_from_surface(data, system=_system_of(m), resolution=int(resolution))
        return _add_density(m, grid, cmap, opacity, name, "密度 density")
    require_geodataframe(data, "data")
    require_nonempty(data, "data")
    require_crs(data, "data")
    require_geom_types(data, ("Point", *_POLYGONS), "data")
    kinds = set(data.geom_type)
    if kinds & set(_POLYGONS):
        require_geom_types(data, _POLYGONS, "data")
        return _count_choropleth(
            data,
            column or "count",
            m,
            cmap,
            opacity,
            basemap,
            tianditu_token,
            tile_system,
            offline,
            name,
        )
    if column is not None:
        require_columns(data, [column], "data", params={column: "column"})
    m = _start(m, basemap, tianditu_token, offline, tile_system)
    weights = None if column is None else pd.to_numeric(data[column], errors="coerce")
    grid = density_from_points(
        data, weights=weights, system=_system_of(m), resolution=int(resolution), radius=radius
    )
    return _add_density(m, grid, cmap, opacity, name, "每平方公里 per km²")


def _count_choropleth(
    data: gpd.GeoDataFrame,
    column: str,
    m: folium.Map | None,
    cmap: str,
    opacity: float,
    basemap: str,
    token: str | None,
    tile_system: str,
    offline: str | os.PathLike[str] | None,
    name: str,
) -> folium.Map:
    from gridgeo.errors import ColumnError

    require_columns(data, [column], "data", params={column: "column"})
    values = pd.to_numeric(data[column], errors="coerce")
    if values.isna().all():
        msg = f"data column {column!r} must be numeric (per-cell counts); it has no numbers."
        raise ColumnError(msg)
    m = _start(m, basemap, token, offline, tile_system)
    ll = _to_lonlat(data, _system_of(m))
    colours, lo, hi = ramp_colours(values.to_numpy(dtype=float), cmap)
    tip = {"案件 " + column: _escaped(values, "g")}
    if "cell_code" in ll:
        tip = {"单元 cell": _escaped(ll["cell_code"]), **tip}
    _add_geojson(
        m,
        ll,
        colours=colours,
        tooltip=tip,
        name=name,
        line="#888888",
        weight=0.3,
        fill_opacity=opacity,
    )
    _Legend(_ramp_legend(column, _density.ramp_stops(cmap), f"{lo:g}", f"{hi:g}")).add_to(m)
    return _finish(m, ll.total_bounds)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _add_density(
    m: folium.Map, grid: DensityGrid, cmap: str, opacity: float, name: str, unit: str
) -> folium.Map:
    rgba, vmax = _density.colourise(grid.values, cmap, opacity)
    url = "data:image/png;base64," + rgba_image_png(rgba)
    w, s, e, n = grid.bounds_lonlat
    folium.raster_layers.ImageOverlay(
        url,
        bounds=[[s, w], [n, e]],
        name=_layer_name(name),
        pixelated=False,
        className="gridgeo-heat",
    ).add_to(m)
    _Legend(_ramp_legend(unit, _density.ramp_stops(cmap), "0", f"≥ {_fmt(vmax)}")).add_to(m)
    return _finish(m, (w, s, e, n), area=False)


def reports_map(
    reports: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    cluster: bool = True,
    columns: dict[str, str] | None = None,
    max_reports: int = 100_000,
    basemap: str = "osm",
    tianditu_token: str | None = None,
    tile_system: str = "wgs84",
    offline: str | os.PathLike[str] | None = None,
    name: str = "案件 Reports",
) -> folium.Map:
    r"""Draw reports as (clustered) circle markers with an escaped popup.

    The popup shows the category, time, status and description (and the address, when a
    column ``address`` exists); every value is HTML-escaped, so a description such as
    ``<script>…</script>`` is shown as text and never runs. Markers are coloured by
    ``status``. Reports without a geometry are skipped (logged).

    Parameters
    ----------
    reports : GeoDataFrame
        Point reports in any CRS.
    m : folium.Map, optional
        Add to this map.
    cluster : bool, default True
        Group nearby markers with Leaflet.markercluster.
    columns : dict, optional
        Override which column fills each popup line, e.g. ``{"category": "kind",
        "time": "filed_at"}``. Keys: ``category``, ``time``, ``status``, ``description``.
        By default the first present of ``class_name``/``category``/``category_code``/
        ``kind``, ``reported_at``/``time``/``filed_at``, ``status``/``coord_status`` and
        ``description`` is used.
    max_reports : int, default 100000
        Refuse more points than this (each marker is embedded); use :func:`heatmap` instead.
    basemap, tianditu_token, tile_system, offline, name
        As in :func:`grid_map`.

    Returns
    -------
    folium.Map

    Raises
    ------
    ColumnError
        A column named in ``columns`` does not exist.
    BasemapError
        More than ``max_reports`` reports.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> reports = gpd.GeoDataFrame({"description": ["<b>bad</b> manhole"]},
    ...     geometry=[Point(114.4, 23.1)], crs=4326)
    >>> page = reports_map(reports, basemap="none").get_root().render()
    >>> "<b>bad</b>" in page  # escaped (and JSON-encoded, so & is written \u0026)
    False
    >>> "&lt;b&gt;bad&lt;/b&gt; manhole" in page.replace("\\u0026", "&")
    True
    """
    _layer_name(name)
    require_geodataframe(reports, "reports")
    require_crs(reports, "reports")
    cols = _popup_columns(reports, columns)
    geoms = reports.geometry.values
    present = ~np.asarray(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if (~present).any():
        logger.info("reports_map: %d report(s) without coordinates skipped", (~present).sum())
    pts = reports.loc[present]
    require_nonempty(pts, "reports (with coordinates)")
    require_geom_types(pts, ("Point",), "reports")
    if len(pts) > max_reports:
        msg = (
            f"reports has {len(pts)} points, more than max_reports={max_reports}; every marker "
            "is embedded in the page. Use gridgeo.maps.heatmap for large sets, or raise "
            "max_reports."
        )
        raise BasemapError(msg)
    m = _start(m, basemap, tianditu_token, offline, tile_system)
    ll = _to_lonlat(
        pts[list(cols.values())].set_geometry(pts.geometry.values, crs=pts.crs), _system_of(m)
    )
    lon = np.round(shapely.get_x(ll.geometry.values), 6)
    lat = np.round(shapely.get_y(ll.geometry.values), 6)
    popups = _popup_html(ll, cols)
    status = ll[cols["status"]].astype(str).tolist() if "status" in cols else [""] * len(ll)
    colours = [STATUS_COLOURS.get(s, "#3b7dd8") for s in status]
    rows = [list(r) for r in zip(lat.tolist(), lon.tolist(), popups, colours, strict=True)]
    _ReportLayer(rows, cluster=cluster, name=name).add_to(m)
    used = [s for s in STATUS_COLOURS if s in set(status)]
    if used:
        _Legend(_legend_html("状态 status", [(STATUS_COLOURS[s], s) for s in used])).add_to(m)
    return _finish(m, ll.total_bounds, area=False)


def save_map(
    m: folium.Map,
    path: str | os.PathLike[str],
    *,
    assets: str = "inline",
    offline: str | os.PathLike[str] | None = None,
) -> Path:
    """Write the map to an HTML file that works without the internet.

    The JavaScript and CSS the page needs (Leaflet, Leaflet.markercluster for clustered
    reports, and folium's defaults when the page uses them) ship with gridgeo and are put in
    the page, so it opens on a machine with no network. Only basemap tiles are fetched from
    their server: choose ``basemap="none"`` or an intranet tile URL on such machines; without
    tiles the page still shows every layer, legend, tooltip and popup. The file is written
    atomically with the user's normal permissions (umask).

    Parameters
    ----------
    m : folium.Map
        A map from this module (or any folium map).
    path : str or path
        Output ``.html`` file; its folder must exist.
    assets : {"inline", "beside", "cdn"}, default "inline"
        ``"inline"``: one self-contained file (scripts, styles, images and fonts inside).
        ``"beside"``: the files are copied into a ``gridgeo_web`` folder next to the page and
        linked relatively (several pages share it; move them together). ``"cdn"``: link the
        public CDNs as folium does (needs the internet).
    offline : str or path, optional
        Older option, taking precedence over ``assets``: load the assets from this local
        folder laid out like ``node_modules`` or from this URL prefix (defaults to the
        ``offline=`` given when the map was made). ``leaflet/dist/leaflet.js`` and
        ``leaflet.css`` are required there; ``leaflet.markercluster/dist/`` when reports
        are clustered; ``leaflet.heat/dist/leaflet-heat.js`` for folium's ``HeatMap``.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    InputFileError
        The folder does not exist, the target is a folder, the file cannot be written
        (permissions, full disk), or the ``offline`` folder lacks a required asset.
    ValueError
        ``assets`` is not one of the three modes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> grids = gpd.GeoDataFrame({"grid_code": ["1"]}, geometry=[box(114, 23, 114.01, 23.01)],
    ...     crs=4326)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = save_map(grid_map(grids, basemap="none"), pathlib.Path(tmp) / "map.html")
    ...     page = out.read_text(encoding="utf-8")
    >>> "cdn.jsdelivr.net" in page, "L.map(" in page
    (False, True)
    """
    from gridgeo.io._atomic import write_text_atomic
    from gridgeo.maps._assets import MODES, bundle_html

    if not isinstance(m, folium.Map):
        msg = f"m must be a folium.Map, got {type(m).__name__}."
        raise TypeError(msg)
    if assets not in MODES:
        msg = f"assets must be one of {MODES}, got {assets!r}."
        raise ValueError(msg)
    target = Path(path)
    if not target.parent.is_dir():
        msg = f"cannot write {target}: folder {target.parent} does not exist; create it first."
        raise InputFileError(msg)
    if target.is_dir():
        msg = f"cannot write {target}: it is a folder; give a file name such as map.html."
        raise InputFileError(msg)
    offline = offline if offline is not None else getattr(m, "_gridgeo_offline", None)
    page = m.get_root().render()
    try:
        if offline is not None:
            page = localise_html(page, offline, page_dir=target.parent.resolve())
        else:
            page = bundle_html(page, mode=assets, page_dir=target.parent)
        return write_text_atomic(target, page)
    except InputFileError:
        raise
    except OSError as exc:
        msg = f"cannot write {target}: {exc.strerror or exc}; check the folder's permissions/space."
        raise InputFileError(msg) from exc
