"""Interactive maps of reports (private; public in :mod:`gridgeo.maps`).

:func:`heatmap` (a density image or counts per cell) and :func:`reports_map` (report points
with escaped popups), drawn with folium through :mod:`gridgeo.maps._interactive`.
"""

from __future__ import annotations

import logging
import os
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
from gridgeo.maps import _density
from gridgeo.maps._density import (
    STATUS_COLOURS,
    DensityGrid,
    density_from_points,
    density_from_surface,
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
from gridgeo.maps._maps import _POLYGONS

logger = logging.getLogger("gridgeo.maps")


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
