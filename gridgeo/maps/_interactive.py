"""folium plumbing for gridgeo.maps: basemaps, legends, escaped GeoJSON layers, report markers."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster
from jinja2 import Template

from gridgeo._validate import require_columns
from gridgeo.errors import BasemapError, ColumnError

_AMAP = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
_TIANDITU = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}"
    "&TILEROW={{y}}&TILECOL={{x}}&tk={token}"
)
_SYSTEMS = ("wgs84", "gcj02")


def _system_of(m: folium.Map) -> str:
    return str(getattr(m, "_gridgeo_system", "wgs84"))


def _tile_layers(basemap: str, token: str | None, tile_system: str) -> tuple[list[Any], str]:
    if not isinstance(basemap, str):
        msg = f"basemap must be a string, got {type(basemap).__name__}."
        raise BasemapError(msg)
    key = basemap.strip().lower()
    if key in {"osm", "openstreetmap"}:
        return [folium.TileLayer("OpenStreetMap", name="OpenStreetMap")], "wgs84"
    if key in {"amap", "gaode", "autonavi"}:
        attr = "&copy; AutoNavi 高德地图"
        layer = folium.TileLayer(_AMAP, attr=attr, name="高德 Amap", subdomains="1234")
        return [layer], "gcj02"
    if key == "tianditu":
        if not token:
            msg = (
                "basemap='tianditu' needs tianditu_token='<your key>' (get a free key at "
                "console.tianditu.gov.cn), or choose basemap='osm', 'amap' or 'none'."
            )
            raise BasemapError(msg)
        attr = "&copy; 天地图 Tianditu"
        layers = [
            folium.TileLayer(
                _TIANDITU.format(layer=lay, token=token),
                attr=attr,
                name=label,
                subdomains="01234567",
                overlay=overlay,
                max_zoom=18,
            )
            for lay, label, overlay in (("vec", "天地图 Tianditu", False), ("cva", "注记", True))
        ]
        return layers, "wgs84"
    if key == "none":
        return [], "wgs84"
    if all(part in basemap for part in ("{x}", "{y}", "{z}")):
        if tile_system not in _SYSTEMS:
            msg = f"tile_system must be one of {_SYSTEMS}, got {tile_system!r}."
            raise BasemapError(msg)
        layer = folium.TileLayer(basemap, attr="custom tiles", name="Basemap")
        return [layer], tile_system
    msg = (
        f"unknown basemap {basemap!r}: use 'osm', 'amap', 'tianditu', 'none' or a tile URL "
        "template with {x}, {y} and {z} (e.g. 'http://tiles.city.gov/{z}/{x}/{y}.png')."
    )
    raise BasemapError(msg)


def _start(
    m: folium.Map | None,
    basemap: str,
    token: str | None,
    offline: str | os.PathLike[str] | None,
    tile_system: str,
) -> folium.Map:
    """Return ``m`` or a new map with the basemap; remember the coordinate system and offline."""
    if m is not None:
        if not isinstance(m, folium.Map):
            msg = f"m must be a folium.Map returned by a gridgeo.maps function, got {type(m)}."
            raise TypeError(msg)
        if offline is not None:
            m._gridgeo_offline = offline  # type: ignore[attr-defined]
        return m
    layers, system = _tile_layers(basemap, token, tile_system)
    m = folium.Map(location=(0.0, 0.0), zoom_start=2, tiles=None, control_scale=True)
    m.options["maxZoom"] = 19  # Leaflet.markercluster needs it; folium only sets it on tiles
    for layer in layers:
        layer.add_to(m)
    if not layers:
        # html prefix: wins over leaflet.css, which the page loads after this element
        css = "<style>html .leaflet-container{background:#f4f3ee}</style>"
        m.get_root().header.add_child(folium.Element(css), name="gridgeo_plain_background")  # type: ignore[attr-defined]
    m._gridgeo_system = system  # type: ignore[attr-defined]
    m._gridgeo_offline = offline  # type: ignore[attr-defined]
    m._gridgeo_bounds = None  # type: ignore[attr-defined]
    m._gridgeo_area_bounds = None  # type: ignore[attr-defined]
    m._gridgeo_point_bounds = None  # type: ignore[attr-defined]
    return m


def _union(old: Sequence[float] | None, new: Sequence[float] | None) -> tuple | None:
    if new is None or not np.all(np.isfinite(new)):
        return None if old is None else tuple(old)
    if old is None:
        return tuple(float(b) for b in new)
    return (
        min(old[0], new[0]),
        min(old[1], new[1]),
        max(old[2], new[2]),
        max(old[3], new[3]),
    )


def _finish(m: folium.Map, bounds: Sequence[float] | None, *, area: bool = True) -> folium.Map:
    """Fit the map and keep one layer control as the last child.

    The map opens fitted to the polygon layers (grids, cells, hot spots): the district, not an
    outlying report. Point layers (reports, density images) only set the view of a map that
    has no polygon layer.
    """
    key = "_gridgeo_area_bounds" if area else "_gridgeo_point_bounds"
    setattr(m, key, _union(getattr(m, key, None), bounds))
    final = getattr(m, "_gridgeo_area_bounds", None) or getattr(m, "_gridgeo_point_bounds", None)
    m._gridgeo_bounds = final  # type: ignore[attr-defined]
    for name in ("_gridgeo_fit", "_gridgeo_control"):
        child = getattr(m, name, None)
        if child is not None:
            m._children.pop(child.get_name(), None)
    if final is not None:
        w, s, e, n = final
        fit = folium.FitBounds([(s, w), (n, e)], padding=(10, 10))
        m.add_child(fit)
        m._gridgeo_fit = fit  # type: ignore[attr-defined]
        m.location = [(s + n) / 2, (w + e) / 2]
    control = folium.LayerControl(collapsed=False)
    m.add_child(control)
    m._gridgeo_control = control  # type: ignore[attr-defined]
    return m


def _layer_name(name: Any) -> str:
    """A layer name for the layer control, which shows it as HTML: escaped text."""
    if not isinstance(name, str):
        msg = f"name must be a string (the layer's label), got {type(name).__name__}."
        raise BasemapError(msg)
    return html.escape(name)


def _to_lonlat(gdf: gpd.GeoDataFrame, system: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` in lon/lat of the map's coordinate system (shifted for GCJ-02 tiles).

    A layer declared GCJ-02/BD-09 (:func:`gridgeo.crs.declare`) is first made real.
    """
    from gridgeo import crs as ggcrs

    if system == "wgs84":
        return ggcrs.real(gdf).to_crs(4326)
    return ggcrs.to_system(gdf, system)


def _rounded(gdf: gpd.GeoDataFrame, decimals: int = 6) -> gpd.GeoDataFrame:
    """Round coordinates to ``decimals`` (1e-6 degree ≈ 0.1 m) to keep pages small."""
    geoms = shapely.transform(gdf.geometry.values, lambda xy: np.round(xy, decimals))
    return gdf.set_geometry(geoms, crs=gdf.crs)


def _escaped(values: pd.Series, fmt: str | None = None) -> list[str]:
    """Format and HTML-escape values for tooltips; missing values become an empty string."""
    out = []
    for value in values.tolist():
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            out.append("")
        elif fmt is not None and isinstance(value, int | float | np.number):
            out.append(html.escape(format(value, fmt)))
        else:
            out.append(html.escape(str(value)))
    return out


class _Legend(MacroElement):  # type: ignore[misc]
    """A Leaflet control in a map corner holding legend HTML (already escaped)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create('div', 'gridgeo-legend');
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        {% macro header(this, kwargs) %}
        <style>
        .gridgeo-legend {background: rgba(255,255,255,0.92); padding: 6px 9px; font: 12px/1.35
          "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; border-radius: 4px;
          box-shadow: 0 1px 4px rgba(0,0,0,.35); max-height: 45vh; overflow-y: auto;}
        .gridgeo-legend b {display: block; margin-bottom: 3px;}
        .gridgeo-legend i {display: inline-block; width: 14px; height: 12px;
          margin-right: 5px; vertical-align: -1px; border: 1px solid #777;}
        .gridgeo-legend .ramp {display: block; width: 150px; height: 10px; border: 1px solid #777;}
        </style>
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, position: str = "bottomright") -> None:
        super().__init__()
        self._name = "GridgeoLegend"
        self.html = html_text
        self.position = position


def _legend_html(title: str, items: Sequence[tuple[str, str]], extra: str = "") -> str:
    rows = "".join(
        f'<div><i style="background:{colour}"></i>{html.escape(label)}</div>'
        for colour, label in items
    )
    return f"<b>{html.escape(title)}</b>{rows}{extra}"


def _ramp_legend(title: str, colours: Sequence[str], vmin: str, vmax: str) -> str:
    stops = ", ".join(colours)
    return (
        f"<b>{html.escape(title)}</b>"
        f'<span class="ramp" style="background: linear-gradient(to right, {stops})"></span>'
        f'<div style="display:flex;justify-content:space-between"><span>{html.escape(vmin)}'
        f"</span><span>{html.escape(vmax)}</span></div>"
    )


def _add_geojson(
    m: folium.Map,
    layer: gpd.GeoDataFrame,
    *,
    colours: Sequence[str] | None,
    tooltip: dict[str, list[str]],
    name: str,
    line: str = "#333333",
    weight: float = 1.0,
    fill_opacity: float | Sequence[float] = 0.55,
    show: bool = True,
    popup: bool = True,
) -> None:
    """Add polygons with per-feature colours and an escaped tooltip table (also shown as a
    popup on click, from the same feature properties)."""
    n = len(layer)
    # ASCII property names (labels go to the tooltip aliases) and feature ids, which folium's
    # style mapper needs
    labels = list(tooltip)
    aliases = [html.escape(f) for f in labels]
    fields = [f"t{k}" for k in range(len(labels))]
    props = pd.DataFrame(dict(zip(fields, tooltip.values(), strict=True)), index=range(n))
    fills = list(colours) if colours is not None else ["none"] * n
    opac = [float(fill_opacity)] * n if np.isscalar(fill_opacity) else list(fill_opacity)  # type: ignore[arg-type]
    props["_fill"] = fills
    props["_op"] = opac if colours is not None else [0.0] * n
    frame = gpd.GeoDataFrame(props, geometry=list(_rounded(layer).geometry.values), crs=4326)
    data = json.loads(frame.to_json(drop_id=False))

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        p = feature["properties"]
        return {
            "fillColor": p["_fill"],
            "fillOpacity": p["_op"],
            "color": line,
            "weight": weight,
        }

    folium.GeoJson(
        data,
        name=_layer_name(name),
        style_function=style,
        highlight_function=lambda _f: {"weight": weight + 2, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases) if fields else None,
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases) if fields and popup else None,
        show=show,
    ).add_to(m)


_REPORT_JS = """
function (row) {
    var marker = L.circleMarker([row[0], row[1]], {radius: 6, color: '#222', weight: 1,
        fillColor: row[3], fillOpacity: 0.9, className: 'gridgeo-report'});
    marker.bindPopup(row[2], {maxWidth: 320});
    return marker;
}
"""


class _ReportLayer(JSCSSMixin, folium.map.Layer):  # type: ignore[misc]
    """Circle markers built in the browser from compact rows, optionally clustered."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function(){
            var make = {{ this.callback }};
            var rows = {{ this.rows|tojson }};
            var group = {% if this.cluster %}L.markerClusterGroup({{ this.options|tojson }})
                        {% else %}L.featureGroup(){% endif %};
            for (var i = 0; i < rows.length; i++) { make(rows[i]).addTo(group); }
            group.addTo({{ this._parent.get_name() }});
            return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, rows: list[list[Any]], *, cluster: bool, name: str) -> None:
        super().__init__(name=_layer_name(name), overlay=True, control=True, show=True)
        self._name = "GridgeoReports"
        self.rows = rows
        self.cluster = cluster
        self.callback = _REPORT_JS
        self.options = {"maxClusterRadius": 50, "spiderfyOnMaxZoom": True}
        if cluster:
            self.default_js = list(MarkerCluster.default_js)
            self.default_css = list(MarkerCluster.default_css)


_CANDIDATES = {
    "category": ("class_name", "category", "category_code", "kind"),
    "time": ("reported_at", "time", "filed_at"),
    "status": ("status", "coord_status"),
    "description": ("description", "address"),
}


def _popup_columns(reports: gpd.GeoDataFrame, columns: dict[str, str] | None) -> dict[str, str]:

    columns = dict(columns or {})
    unknown = set(columns) - set(_CANDIDATES)
    if unknown:
        msg = f"columns keys must be among {sorted(_CANDIDATES)}; got {sorted(unknown)}."
        raise ColumnError(msg)
    require_columns(reports, list(columns.values()), "reports")
    out = {}
    for key, names in _CANDIDATES.items():
        if key in columns:
            out[key] = columns[key]
        else:
            found = next((c for c in names if c in reports.columns), None)
            if found is not None:
                out[key] = found
    if "address" in reports.columns and out.get("description") != "address":
        out["address"] = "address"
    return out


def _popup_html(ll: gpd.GeoDataFrame, cols: dict[str, str]) -> list[str]:
    parts = {key: _escaped(ll[col]) for key, col in cols.items()}
    labels = {"time": "时间", "status": "状态", "address": "地址", "description": "描述"}
    out = []
    for i in range(len(ll)):
        lines = []
        if "category" in parts:
            lines.append(f"<b>{parts['category'][i] or '—'}</b>")
        for key in ("time", "status", "address", "description"):
            if key in parts:
                lines.append(f"{labels[key]}: {parts[key][i]}")  # noqa: PERF401
        out.append("<br>".join(lines) or "—")
    return out
