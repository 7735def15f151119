"""Make saved folium pages work without the internet.

Government networks are often cut off from the internet, so every page gridgeo writes must
open and work offline. gridgeo ships the web assets its maps need (Leaflet, Leaflet.markercluster,
Leaflet.heat, and folium's defaults: jQuery, Bootstrap, Font Awesome, Bootstrap 3 glyphicons,
Leaflet.awesome-markers) in ``gridgeo/_data/web`` (versions and licences in its
``MANIFEST.json``; fetched once from the npm registry by ``scripts/fetch_web_assets.sh``).

:func:`bundle_html` replaces the CDN links of a rendered folium page by those files, either
inlined (``mode="inline"``: ``<script>``/``<style>`` elements, images and fonts as ``data:``
URIs, one self-contained file) or copied into a ``gridgeo_web`` folder beside the page
(``mode="beside"``). Only the assets the page uses are included: Leaflet always, a plugin when
the page links it, and folium's defaults only when the page's own code uses them (jQuery when it
calls ``$(``/``jQuery``, the marker icon assets when it draws ``folium.Icon`` markers).

:func:`localise_html` is the older option: point the links at a folder laid out like
``node_modules`` (``npm install --prefix ./web leaflet@1.9.4 ...``) or at an intranet URL
prefix serving that layout. Only Leaflet itself (and Leaflet.markercluster / Leaflet.heat when
the page uses them) is required there; folium's other default assets are left out of the page,
with a log message, when they are absent from a local folder. The Bootstrap 3 glyphicons and
folium's marker-rotation stylesheet have no npm package and are dropped in that mode.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gridgeo.errors import InputFileError

logger = logging.getLogger(__name__)

__all__ = [
    "ASSETS",
    "MODES",
    "WEB_DIR",
    "bundle_html",
    "is_url_prefix",
    "localise_html",
    "manifest",
    "required_files",
]


@dataclass(frozen=True)
class _Asset:
    pattern: re.Pattern[str]
    local: str | None  # path inside a node_modules folder; None = no npm copy, drop the tag
    required: bool  # missing from a local folder -> error (True) or drop the tag (False)
    bundle: str | None = None  # path inside gridgeo/_data/web (None: generated or dropped)
    use: str = "linked"  # when bundle_html includes it: see _USES


def _rx(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE)


# Matched against the full URL of every <script src> and <link href> in the page.
ASSETS: tuple[_Asset, ...] = (
    _Asset(
        _rx(r"/leaflet@[^/]+/dist/leaflet\.js$"),
        "leaflet/dist/leaflet.js",
        True,
        "leaflet/dist/leaflet.js",
    ),
    _Asset(
        _rx(r"/leaflet@[^/]+/dist/leaflet\.css$"),
        "leaflet/dist/leaflet.css",
        True,
        "leaflet/dist/leaflet.css",
    ),
    _Asset(
        _rx(r"leaflet\.markercluster.*/leaflet\.markercluster(-src)?\.js$"),
        "leaflet.markercluster/dist/leaflet.markercluster.js",
        True,
        "leaflet.markercluster/dist/leaflet.markercluster.js",
    ),
    _Asset(
        _rx(r"leaflet\.markercluster.*/MarkerCluster\.Default\.css$"),
        "leaflet.markercluster/dist/MarkerCluster.Default.css",
        True,
        "leaflet.markercluster/dist/MarkerCluster.Default.css",
    ),
    _Asset(
        _rx(r"leaflet\.markercluster.*/MarkerCluster\.css$"),
        "leaflet.markercluster/dist/MarkerCluster.css",
        True,
        "leaflet.markercluster/dist/MarkerCluster.css",
    ),
    _Asset(
        _rx(r"/leaflet[_.-]heat(\.min)?\.js$"),
        "leaflet.heat/dist/leaflet-heat.js",
        True,
        "leaflet.heat/dist/leaflet-heat.js",
    ),
    _Asset(
        _rx(r"/jquery-[0-9.]+(\.min)?\.js$"),
        "jquery/dist/jquery.min.js",
        False,
        "jquery/dist/jquery.min.js",
        "jquery",
    ),
    _Asset(
        _rx(r"/bootstrap@5[^/]*/dist/js/bootstrap\.bundle(\.min)?\.js$"),
        "bootstrap/dist/js/bootstrap.bundle.min.js",
        False,
        "bootstrap/dist/js/bootstrap.bundle.min.js",
        "bootstrap",
    ),
    _Asset(
        _rx(r"/bootstrap@5[^/]*/dist/css/bootstrap(\.min)?\.css$"),
        "bootstrap/dist/css/bootstrap.min.css",
        False,
        "bootstrap/dist/css/bootstrap.min.css",
        "bootstrap",
    ),
    _Asset(
        _rx(r"fontawesome-free@[^/]+/css/all(\.min)?\.css$"),
        "@fortawesome/fontawesome-free/css/all.min.css",
        False,
        "fontawesome-free/css/all.min.css",
        "fontawesome",
    ),
    _Asset(
        _rx(r"awesome-markers.*/leaflet\.awesome-markers(\.min)?\.js$"),
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.js",
        False,
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.js",
        "markers",
    ),
    _Asset(
        _rx(r"awesome-markers.*/leaflet\.awesome-markers\.css$"),
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.css",
        False,
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.css",
        "markers",
    ),
    _Asset(
        _rx(r"/bootstrap-glyphicons\.css$"),
        None,
        False,
        "glyphicons/dist/css/glyphicons.css",
        "glyphicons",
    ),
    _Asset(_rx(r"/leaflet\.awesome\.rotate(\.min)?\.css$"), None, False, None, "rotate"),
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


# --------------------------------------------------------------------------- bundled assets

WEB_DIR = Path(__file__).resolve().parents[1] / "_data" / "web"
BESIDE_FOLDER = "gridgeo_web"
MODES = ("inline", "beside", "cdn")

_URL = re.compile(r"url\(\s*(['\"]?)(?P<ref>[^'\")]+)\1\s*\)")
_MIME = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
}


def _uses(body: str) -> set[str]:
    """Which optional asset groups the page's own code (links removed) needs."""
    markers = "L.AwesomeMarkers" in body
    uses = {"linked"}
    if markers:
        uses |= {"markers", "rotate", "fontawesome", "bootstrap"}
    if re.search(r"\bjQuery\b|\$\(", body):
        uses.add("jquery")
    if re.search(r"\bdata-bs-|\bbootstrap\.", body):
        uses.add("bootstrap")
    if re.search(r"\bfa-[a-z]|[\"' ]fa[srb]?[\"' ]", body):
        uses.add("fontawesome")
    if "glyphicon" in body:
        uses.add("glyphicons")
    return uses


def _rotate_css(body: str) -> str:
    """folium's ``fa-rotate-<angle>`` marker classes (its rotate stylesheet is not on npm)."""
    angles = sorted({int(a) for a in re.findall(r"\bfa-rotate-(\d{1,3})\b", body)})
    return "".join(f".fa-rotate-{a}{{transform:rotate({a}deg)}}" for a in angles if a <= 360)


def _data_uri(path: Path) -> str:
    import base64

    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(css_path: Path) -> str:
    """The stylesheet with every ``url()`` to a shipped file replaced by a ``data:`` URI.

    References to files gridgeo does not ship (legacy .eot/.ttf/.svg fonts after a woff2 one,
    Font Awesome's brand icons) become an empty ``data:`` URI, so no request ever leaves the
    page.
    """

    def repl(match: re.Match[str]) -> str:
        ref = match.group("ref")
        if ref.startswith("data:"):
            return match.group(0)
        target = (css_path.parent / ref.split("?")[0].split("#")[0]).resolve()
        if target.is_file() and target.is_relative_to(WEB_DIR):
            return f'url("{_data_uri(target)}")'
        return 'url("data:,")'

    return _URL.sub(repl, css_path.read_text(encoding="utf-8"))


def _default_icon_js() -> str:
    """Leaflet finds its default marker images through a stylesheet URL, which an inlined
    stylesheet does not have: give it the images as ``data:`` URIs instead."""
    images = WEB_DIR / "leaflet" / "dist" / "images"
    urls = {
        "iconUrl": _data_uri(images / "marker-icon.png"),
        "iconRetinaUrl": _data_uri(images / "marker-icon-2x.png"),
        "shadowUrl": _data_uri(images / "marker-shadow.png"),
    }
    return (
        f"<script>L.Icon.Default.mergeOptions({json.dumps(urls)});"
        "L.Icon.Default.include({_getIconUrl: L.Icon.prototype._getIconUrl});</script>"
    )


def _script_text(text: str) -> str:
    # a literal "</script" (or "<!--") inside inlined JS would end the element early
    text = re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)
    return text.replace("<!--", "<\\!--")


@functools.cache
def manifest() -> dict[str, Any]:
    """The shipped packages: folder -> package, version, license, tarball, files (sha256)."""
    return dict(json.loads((WEB_DIR / "MANIFEST.json").read_text(encoding="utf-8")))


def _label(bundle: str) -> str:
    info = manifest()[bundle.split("/", 1)[0]]
    return f"<!-- {info['package']} {info['version']} ({info['license']}) -->"


def _copy_beside(folder: str, page_dir: Path) -> None:
    """Copy one shipped package folder to ``page_dir/gridgeo_web/<folder>`` (unchanged files
    are left alone)."""
    from gridgeo.io._atomic import write_bytes_atomic

    src = WEB_DIR / folder
    for f in sorted(p for p in src.rglob("*") if p.is_file()):
        out = page_dir / BESIDE_FOLDER / folder / f.relative_to(src)
        data = f.read_bytes()
        if out.is_file() and out.read_bytes() == data:
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(out, data)


def bundle_html(html: str, *, mode: str, page_dir: Path) -> str:
    """Replace the CDN links of a folium page by gridgeo's shipped copies.

    Parameters
    ----------
    html : str
        A rendered folium page.
    mode : {"inline", "beside", "cdn"}
        Inline the assets, copy them into ``page_dir/gridgeo_web``, or leave the page as is.
    page_dir : Path
        Folder the page will be written to (``mode="beside"`` copies files there).

    Returns
    -------
    str
        The page; links to assets gridgeo does not ship are kept (and logged as a warning).

    Raises
    ------
    ValueError
        Unknown ``mode``.
    """
    if mode not in MODES:
        msg = f"assets must be one of {MODES}, got {mode!r}."
        raise ValueError(msg)
    if mode == "cdn":
        return html
    body = _TAG.sub("", html)
    uses = _uses(body)
    done: set[str] = set()
    foreign: list[str] = []

    def replace(match: re.Match[str]) -> str:
        url = match.group("src") or match.group("href")
        asset = _match_asset(url)
        if asset is None:
            foreign.append(url)
            return match.group(0)
        if asset.use not in uses:
            return ""
        key = asset.bundle or asset.use
        if key in done:  # folium may link one library twice (two plugin versions)
            return ""
        done.add(key)
        if asset.bundle is None:  # the generated rotate stylesheet
            css = _rotate_css(body)
            return f"<style>{css}</style>" if css else ""
        path = WEB_DIR / asset.bundle
        is_js = path.suffix == ".js"
        if mode == "beside":
            _copy_beside(asset.bundle.split("/", 1)[0], page_dir)
            ref = quote(f"{BESIDE_FOLDER}/{asset.bundle}")
            if is_js:
                return f'<script src="{ref}"></script>'
            return f'<link rel="stylesheet" href="{ref}"/>'
        label = _label(asset.bundle)
        if is_js:
            code = _script_text(path.read_text(encoding="utf-8"))
            extra = _default_icon_js() if asset.bundle == "leaflet/dist/leaflet.js" else ""
            return f"{label}<script>{code}</script>{extra}"
        css = re.sub(r"</(style)", r"<\\/\1", _inline_css(path), flags=re.IGNORECASE)
        return f"{label}<style>{css}</style>"

    out = _TAG.sub(replace, html)
    for url in foreign:
        logger.warning("page still loads %s from the internet (gridgeo does not ship it)", url)
    return out
