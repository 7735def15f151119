"""Saving an interactive map as one HTML file (private; public as :func:`gridgeo.maps.save_map`)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import folium

from gridgeo.errors import InputFileError
from gridgeo.maps._assets import localise_html
from gridgeo.maps._maps import grid_map  # noqa: F401 - used by the examples

logger = logging.getLogger("gridgeo.maps")


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
