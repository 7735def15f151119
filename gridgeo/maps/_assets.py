"""Rewrite the CDN asset links of a folium page to a local folder or URL prefix.

Government networks are often cut off from the internet, so a saved map must be able to load
Leaflet and its plugins from a folder next to the page or from an intranet web server. The
folder layout is the one ``npm install`` produces (a ``node_modules`` folder), so::

    npm install --prefix ./web leaflet@1.9.4 leaflet.markercluster@1.5.3 leaflet.heat@0.2.0 \\
        jquery@3.7.1 bootstrap@5.2.3 @fortawesome/fontawesome-free@6.2.0 \\
        leaflet.awesome-markers@2.0.5

gives a folder ``./web/node_modules`` that can be passed as ``offline=``. Only Leaflet itself
(and Leaflet.markercluster / Leaflet.heat when the page uses them) is required; folium's other
default assets (jQuery, Bootstrap, Font Awesome, awesome-markers) are left out of the page, with
a log message, when they are absent from a local folder. Two folium assets have no npm
package (Bootstrap 3 glyphicons and folium's marker-rotation stylesheet): offline pages drop
them, so ``folium.Icon(prefix="glyphicon")`` and rotated icons are unavailable offline.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from gridgeo.errors import InputFileError

logger = logging.getLogger(__name__)

__all__ = ["ASSETS", "is_url_prefix", "localise_html", "required_files"]


@dataclass(frozen=True)
class _Asset:
    pattern: re.Pattern[str]
    local: str | None  # path inside the offline folder; None = no offline copy, drop the tag
    required: bool  # missing from a local folder -> error (True) or drop the tag (False)


def _rx(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE)


# Matched against the full URL of every <script src> and <link href> in the page.
ASSETS: tuple[_Asset, ...] = (
    _Asset(_rx(r"/leaflet@[^/]+/dist/leaflet\.js$"), "leaflet/dist/leaflet.js", True),
    _Asset(_rx(r"/leaflet@[^/]+/dist/leaflet\.css$"), "leaflet/dist/leaflet.css", True),
    _Asset(
        _rx(r"leaflet\.markercluster.*/leaflet\.markercluster(-src)?\.js$"),
        "leaflet.markercluster/dist/leaflet.markercluster.js",
        True,
    ),
    _Asset(
        _rx(r"leaflet\.markercluster.*/MarkerCluster\.Default\.css$"),
        "leaflet.markercluster/dist/MarkerCluster.Default.css",
        True,
    ),
    _Asset(
        _rx(r"leaflet\.markercluster.*/MarkerCluster\.css$"),
        "leaflet.markercluster/dist/MarkerCluster.css",
        True,
    ),
    _Asset(_rx(r"/leaflet[_.-]heat(\.min)?\.js$"), "leaflet.heat/dist/leaflet-heat.js", True),
    _Asset(_rx(r"/jquery-[0-9.]+(\.min)?\.js$"), "jquery/dist/jquery.min.js", False),
    _Asset(
        _rx(r"/bootstrap@5[^/]*/dist/js/bootstrap\.bundle(\.min)?\.js$"),
        "bootstrap/dist/js/bootstrap.bundle.min.js",
        False,
    ),
    _Asset(
        _rx(r"/bootstrap@5[^/]*/dist/css/bootstrap(\.min)?\.css$"),
        "bootstrap/dist/css/bootstrap.min.css",
        False,
    ),
    _Asset(
        _rx(r"fontawesome-free@[^/]+/css/all(\.min)?\.css$"),
        "@fortawesome/fontawesome-free/css/all.min.css",
        False,
    ),
    _Asset(
        _rx(r"awesome-markers.*/leaflet\.awesome-markers(\.min)?\.js$"),
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.js",
        False,
    ),
    _Asset(
        _rx(r"awesome-markers.*/leaflet\.awesome-markers\.css$"),
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.css",
        False,
    ),
    _Asset(_rx(r"/bootstrap-glyphicons\.css$"), None, False),
    _Asset(_rx(r"/leaflet\.awesome\.rotate(\.min)?\.css$"), None, False),
)

_TAG = re.compile(
    r"<script\b[^>]*?\bsrc=\"(?P<src>https?://[^\"]+)\"[^>]*>\s*</script>"
    r"|<link\b[^>]*?\bhref=\"(?P<href>https?://[^\"]+)\"[^>]*?/?>",
    re.IGNORECASE,
)


def is_url_prefix(offline: str | os.PathLike[str]) -> bool:
    """True when ``offline`` is a URL prefix (``http://``, ``https://``, ``/`` …) not a folder."""
    text = os.fspath(offline)
    return bool(re.match(r"^[a-z][a-z0-9+.-]*://", text, re.IGNORECASE))


def required_files(html: str) -> list[str]:
    """Return the local paths (inside the offline folder) that ``html`` needs."""
    needed = []
    for match in _TAG.finditer(html):
        asset = _match_asset(match.group("src") or match.group("href"))
        if asset is not None and asset.local is not None and asset.required:
            needed.append(asset.local)
    return needed


def _match_asset(url: str) -> _Asset | None:
    for asset in ASSETS:
        if asset.pattern.search(url):
            return asset
    return None


def _folder_url(folder: Path, page_dir: Path) -> str:
    try:
        rel = os.path.relpath(folder, page_dir)
    except ValueError:  # another drive on Windows: no relative path exists
        return folder.resolve().as_uri()
    return quote(Path(rel).as_posix())


def localise_html(html: str, offline: str | os.PathLike[str], *, page_dir: Path) -> str:
    """Point every known CDN asset of ``html`` at ``offline``.

    Parameters
    ----------
    html : str
        A rendered folium page.
    offline : str or path
        A local folder laid out like ``node_modules`` or a URL prefix serving that layout.
    page_dir : Path
        Folder the page will be written to; local folders are linked relative to it.

    Returns
    -------
    str
        The page with CDN links replaced (or dropped, see the module docstring).

    Raises
    ------
    InputFileError
        ``offline`` is a local folder that does not exist or lacks a required file.
    """
    if is_url_prefix(offline):
        base = os.fspath(offline).rstrip("/")
        folder = None
    else:
        folder = Path(offline)
        if not folder.is_dir():
            msg = (
                f"offline={os.fspath(offline)!r} is not a folder. Pass the node_modules folder "
                "that holds leaflet/dist/leaflet.js (see gridgeo.maps.save_map), or an URL "
                "prefix such as 'http://intranet/web/'."
            )
            raise InputFileError(msg)
        base = _folder_url(folder, page_dir).rstrip("/")
    missing: list[str] = []
    leftover: list[str] = []

    def replace(match: re.Match[str]) -> str:
        url = match.group("src") or match.group("href")
        asset = _match_asset(url)
        if asset is None:
            leftover.append(url)
            return match.group(0)
        if asset.local is None:
            logger.info("offline page: dropping %s (no offline copy exists)", url)
            return ""
        if folder is not None and not (folder / asset.local).is_file():
            if asset.required:
                missing.append(asset.local)
                return match.group(0)
            logger.info("offline page: %s not in %s, leaving it out", asset.local, folder)
            return ""
        return match.group(0).replace(url, f"{base}/{asset.local}")

    out = _TAG.sub(replace, html)
    if missing:
        msg = (
            f"offline folder {os.fspath(offline)!r} lacks {', '.join(sorted(set(missing)))}. "
            "Install the web assets there, e.g. `npm install --prefix <dir> leaflet@1.9.4 "
            "leaflet.markercluster@1.5.3 leaflet.heat@0.2.0` and pass <dir>/node_modules."
        )
        raise InputFileError(msg)
    for url in leftover:
        logger.warning("offline page still loads %s from the internet", url)
    return out
