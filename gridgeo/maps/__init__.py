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

from gridgeo.maps._fusion import fusion_map
from gridgeo.maps._interactive import BasemapError
from gridgeo.maps._maps import grid_map, hotspot_map
from gridgeo.maps._points import heatmap, reports_map
from gridgeo.maps._save import save_map
from gridgeo.maps._signboards import signboards
from gridgeo.maps._static import plot_grids, plot_heatmap, plot_hotspots, save_figure

logger = logging.getLogger(__name__)

__all__ = [
    "BasemapError",
    "fusion_map",
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
