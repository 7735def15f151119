"""Interactive map of two grid systems and their conflicts (multi-grid fusion, 多网合一)."""

from __future__ import annotations

import html
import json
import os
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from gridgeo.fusion import Conflicts, Crosswalk
from gridgeo.fusion._base import grid_layer
from gridgeo.grids import GridPlan
from gridgeo.maps._interactive import (
    _add_geojson,
    _escaped,
    _finish,
    _Legend,
    _legend_html,
    _rounded,
    _start,
    _system_of,
    _to_lonlat,
)

__all__ = ["fusion_map"]

COLOURS = {"a": "#1f5fbf", "b": "#e07b00", "split": "#d62728", "uncovered": "#7b3fb5"}


def _outline(m: folium.Map, layer: gpd.GeoDataFrame, code: str, name: str, colour: str) -> None:
    ll = _to_lonlat(layer, _system_of(m))
    _add_geojson(
        m,
        ll,
        colours=None,
        tooltip={name: _escaped(ll[code])},
        name=name,
        line=colour,
        weight=2.2,
    )


def _conflict_layer(m: folium.Map, table: gpd.GeoDataFrame, name: str) -> None:
    ll = _rounded(_to_lonlat(table, _system_of(m)))
    labels = {
        "system": "系统 System",
        "code": "网格 Grid",
        "kind": "类型 Kind",
        "conflict_area_m2": "冲突面积 m²",
        "reason": "原因 Reason",
    }
    props = pd.DataFrame(
        {
            f"p{k}": _escaped(ll[col], ",.0f" if col.endswith("_m2") else None)
            for k, col in enumerate(labels)
        }
    )
    props["_fill"] = [COLOURS.get(str(k), "#d62728") for k in ll["kind"]]
    frame = gpd.GeoDataFrame(props, geometry=list(ll.geometry.values), crs=4326)
    data = json.loads(frame.to_json(drop_id=False))
    fields = [f"p{k}" for k in range(len(labels))]
    aliases = [html.escape(v) for v in labels.values()]

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        fill = feature["properties"]["_fill"]
        return {"fillColor": fill, "fillOpacity": 0.6, "color": fill, "weight": 0.8}

    folium.GeoJson(
        data,
        name=name,
        style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=fields[:4], aliases=aliases[:4]),
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases, max_width=360),
    ).add_to(m)


def fusion_map(
    crosswalk_or_conflicts: Crosswalk | Conflicts,
    a: gpd.GeoDataFrame | GridPlan,
    b: gpd.GeoDataFrame | GridPlan,
    *,
    a_code: str = "grid_code",
    b_code: str = "grid_code",
    min_share: float = 0.05,
    basemap: str = "osm",
    tianditu_token: str | None = None,
    tile_system: str = "wgs84",
    offline: str | os.PathLike[str] | None = None,
) -> folium.Map:
    """Map two grid systems outlined in two colours, with their conflicts filled.

    Parameters
    ----------
    crosswalk_or_conflicts : Crosswalk or Conflicts
        From :func:`gridgeo.fusion.crosswalk` (its conflicts at ``min_share`` are drawn) or
        :func:`gridgeo.fusion.conflicts`.
    a, b : GeoDataFrame or GridPlan
        The two systems (GCJ-02-marked layers are converted, as in the crosswalk).
    a_code, b_code : str
        Code columns, shown in the tooltips.
    min_share : float
        Conflict threshold when a crosswalk is given.
    basemap, tianditu_token, tile_system, offline
        As in :func:`gridgeo.maps.grid_map`.

    Returns
    -------
    folium.Map
        Layers: system A outlines (blue), system B outlines (orange), conflicts filled (red:
        split, purple: uncovered) with escaped tooltips and popups giving the reason.

    Raises
    ------
    TypeError
        The first argument is neither a Crosswalk nor Conflicts.
    GridgeoError
        Bad layers, as in :func:`gridgeo.fusion.crosswalk`; unknown basemap.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from gridgeo.fusion import conflicts
    >>> a = gpd.GeoDataFrame({"grid_code": ["a<1>"]}, geometry=[box(400_000, 2_550_000,
    ...                      400_200, 2_550_100)], crs=4547)
    >>> b = gpd.GeoDataFrame({"grid_code": ["b1", "b2"]},
    ...                      geometry=[box(400_000, 2_550_000, 400_100, 2_550_100),
    ...                                box(400_100, 2_550_000, 400_200, 2_550_100)], crs=4547)
    >>> page = fusion_map(conflicts(a, b), a, b, basemap="none").get_root().render()
    >>> "a<1>" not in page and r"a\\u0026lt;1\\u0026gt;" in page  # escaped, then JSON
    True
    """
    if isinstance(crosswalk_or_conflicts, Crosswalk):
        found = crosswalk_or_conflicts.conflicts(min_share=min_share)
    elif isinstance(crosswalk_or_conflicts, Conflicts):
        found = crosswalk_or_conflicts
    else:
        msg = (
            "crosswalk_or_conflicts must be a Crosswalk or Conflicts from gridgeo.fusion, got "
            f"{type(crosswalk_or_conflicts).__name__}."
        )
        raise TypeError(msg)
    la = grid_layer(a, "a", a_code)
    lb = grid_layer(b, "b", b_code)
    name_a, name_b = found.names
    m = _start(None, basemap, tianditu_token, offline, tile_system)
    # layer names go into the layer control as HTML
    _outline(m, la, a_code, html.escape(name_a), COLOURS["a"])
    _outline(m, lb, b_code, html.escape(name_b), COLOURS["b"])
    if len(found.table):
        _conflict_layer(m, found.table, "冲突 Conflicts")
    legend = _legend_html(
        "多网合一 Fusion",
        [
            (COLOURS["a"], f"{name_a} (outline)"),
            (COLOURS["b"], f"{name_b} (outline)"),
            (COLOURS["split"], "split 跨网格"),
            (COLOURS["uncovered"], "uncovered 未覆盖"),
        ],
    )
    _Legend(legend).add_to(m)
    bounds = _to_lonlat(pd.concat([la.to_crs(4326), lb.to_crs(4326)]), _system_of(m))
    return _finish(m, bounds.total_bounds)
