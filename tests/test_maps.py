"""Tests for gridgeo.maps: interactive maps, GCJ-02 shift, escaping, offline pages, figures."""

from __future__ import annotations

import html
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import matplotlib.image as mimage
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely import Point, box

from gridgeo import _fonts, maps
from gridgeo.crs import convert
from gridgeo.errors import (
    ColumnError,
    CRSError,
    DuplicateIdError,
    GeometryError,
    GridgeoError,
    InputFileError,
)
from gridgeo.maps import _assets as _offline
from gridgeo.maps import _density, _static

X0, Y0 = 541_000.0, 2_555_000.0  # EPSG:4547 near 114.4E 23.1N


def _grids(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "grid_code": [f"441302001001{k:03d}" for k in range(1, n + 1)],
            "community_name": ["桥东社区"] * n,
            "weight": np.arange(1.0, n + 1),
            "n_cells": [4] * n,
        },
        geometry=[box(X0 + i * 500, Y0, X0 + (i + 1) * 500, Y0 + 500) for i in range(n)],
        crs="EPSG:4547",
        index=pd.Index([10 * k for k in range(n)], name="gid"),
    )


def _cells() -> gpd.GeoDataFrame:
    cells = gpd.GeoDataFrame(
        {"cell_code": [f"441302001001{k:03d}" for k in range(6)]},
        geometry=[box(X0 + i * 250, Y0, X0 + (i + 1) * 250, Y0 + 250) for i in range(6)],
        crs="EPSG:4547",
    )
    cells["gi_bin"] = [3, 2, 0, 0, -1, -3]
    cells["gi_z"] = [3.1, 2.0, 0.1, -0.3, -1.7, -2.9]
    cells["gi_p"] = [0.001, 0.04, 0.9, 0.7, 0.09, 0.003]
    cells["count"] = [30, 20, 5, 4, 1, 0]
    cells["warning"] = ["red", "yellow", "", "", "", "blue"]
    cells["warning_reason"] = ["<script>bad()</script>", "rising", "", "", "", "low"]
    return cells


def _geojson_coords(page: str) -> np.ndarray:
    """All polygon vertices of the first GeoJSON layer embedded in a folium page."""
    match = re.search(r"_add\((\{\"features\".*?\})\);\n", page)
    assert match is not None
    data = json.loads(match.group(1))
    coords = [xy for f in data["features"] for ring in f["geometry"]["coordinates"] for xy in ring]
    return np.array(coords)


# --------------------------------------------------------------------------- GCJ-02


def test_amap_shifts_overlays_into_gcj02() -> None:
    grids = _grids()
    osm = _geojson_coords(maps.grid_map(grids, basemap="osm").get_root().render())
    amap = _geojson_coords(maps.grid_map(grids, basemap="amap").get_root().render())
    exact = np.array(
        [xy for g in grids.to_crs(4326).geometry for xy in g.exterior.coords], dtype=float
    )
    np.testing.assert_allclose(osm, exact, atol=1e-6)  # OSM: plain WGS 84
    lon, lat = convert(exact[:, 0], exact[:, 1], "wgs84", "gcj02")
    np.testing.assert_allclose(amap, np.column_stack([lon, lat]), atol=1e-6)
    # the shift is the visible 300-700 m a GCJ-02 basemap would otherwise show
    dx = (amap[:, 0] - osm[:, 0]) * 111_320 * np.cos(np.radians(osm[:, 1]))
    dy = (amap[:, 1] - osm[:, 1]) * 110_574
    assert np.all((np.hypot(dx, dy) > 200) & (np.hypot(dx, dy) < 800))


def test_amap_heat_and_markers_shifted() -> None:
    rng = np.random.default_rng(0)
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(rng.normal(X0, 300, 500), rng.normal(Y0, 300, 500)),
        crs="EPSG:4547",
    )
    wgs = _density.density_from_points(
        pts, weights=None, system="wgs84", resolution=64, radius=None
    )
    gcj = _density.density_from_points(
        pts, weights=None, system="gcj02", resolution=64, radius=None
    )
    w, s, _, _ = wgs.bounds_lonlat
    lon, lat = convert(w, s, "wgs84", "gcj02")
    # the GCJ-02 offset is almost constant over a few km: the image moves by it (to ~1 m; the
    # pixel grid, ~30 m here, is laid out afresh from the shifted points)
    assert gcj.bounds_lonlat[0] == pytest.approx(float(lon), abs=1e-5)
    assert gcj.bounds_lonlat[1] == pytest.approx(float(lat), abs=1e-5)
    assert abs(gcj.bounds_lonlat[0] - w) > 3e-3  # ...and that offset is hundreds of metres
    page = maps.reports_map(pts.iloc[:3], basemap="amap").get_root().render()
    row = re.search(r"var rows = (\[\[.*?\]\]);", page)
    assert row is not None
    first = json.loads(row.group(1))[0]
    p = pts.iloc[:1].to_crs(4326).geometry.iloc[0]
    glon, glat = convert(p.x, p.y, "wgs84", "gcj02")
    assert first[:2] == pytest.approx([float(glat), float(glon)], abs=1e-6)


def test_composed_map_keeps_the_basemap_system() -> None:
    m = maps.grid_map(_grids(), basemap="amap")
    page = maps.hotspot_map(_cells(), m=m).get_root().render()
    assert "autonavi" in page
    assert m._gridgeo_system == "gcj02"


# --------------------------------------------------------------------------- escaping


PAYLOADS = ["<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=2">']


def _reports() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "class_name": ["暴露垃圾", "<b>cat</b>"],
            "reported_at": pd.to_datetime(["2024-05-01 08:00", "2024-05-02 09:30"]),
            "status": ["assigned", "snapped"],
            "description": PAYLOADS,
            "address": ["惠城区 & 江北", "x"],
        },
        geometry=[Point(X0 + 10, Y0 + 10), Point(X0 + 900, Y0 + 400)],
        crs="EPSG:4547",
    )


def _decoded(page: str) -> str:
    """The page with JSON's \\uXXXX escapes decoded (what the browser's JS engine sees)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)


def test_report_popups_are_escaped() -> None:
    reports = _reports()
    before = reports.copy()
    page = _decoded(maps.reports_map(reports, basemap="none").get_root().render())
    for payload in PAYLOADS:
        assert payload not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;" in page
    assert "&lt;b&gt;cat&lt;/b&gt;" in page and "惠城区 &amp; 江北" in page
    assert "2024-05-01 08:00:00" in page and "assigned" in page
    pd.testing.assert_frame_equal(reports, before)  # input untouched


def test_tooltips_are_escaped() -> None:
    grids = _grids()
    grids.loc[10, "community_name"] = PAYLOADS[1]
    staff = pd.DataFrame(
        {"grid_code": [grids["grid_code"].iloc[0]], "role": ["网格长"], "name": [PAYLOADS[0]]}
    )
    page = _decoded(maps.grid_map(grids, staff=staff, basemap="none").get_root().render())
    hot = _decoded(maps.hotspot_map(_cells(), basemap="none").get_root().render())
    assert PAYLOADS[0] not in page and PAYLOADS[1] not in page
    assert "&lt;img src=x" in page and "网格长 &lt;script&gt;" in page
    assert "<script>bad()</script>" not in hot and "&lt;script&gt;bad()" in hot


# --------------------------------------------------------------------------- map structure


def test_composition_one_layer_control_last_and_fit_bounds() -> None:
    m = maps.grid_map(_grids(), cells=_cells(), basemap="none")
    m = maps.hotspot_map(_cells(), m=m)
    m = maps.heatmap(_cells(), m=m, column="count")
    m = maps.reports_map(_reports(), m=m)
    page = m.get_root().render()
    assert page.count("L.control.layers(") == 1
    assert page.count(".fitBounds(") == 1
    # the control is created after every layer it lists
    assert page.rindex("L.control.layers(") > page.rindex("markerClusterGroup(")
    names = list(m._children)
    assert names[-1].startswith("layer_control")
    assert page.count("gridgeo-legend") >= 3
    assert "L.control.scale()" in page
    w, s, e, n = m._gridgeo_bounds
    ll = _grids().to_crs(4326).total_bounds
    assert w <= ll[0] and s <= ll[1] and e >= ll[2] and n >= ll[3]


def test_grid_map_column_styles_and_legend() -> None:
    grids = _grids(4)
    page = maps.grid_map(grids, column="weight", basemap="none").get_root().render()
    assert "linear-gradient" in page
    grids["kind"] = ["居民", "商务", "居民", "单位"]
    page = maps.grid_map(grids, column="kind", basemap="none").get_root().render()
    assert "居民" in _decoded(page) and "单位" in _decoded(page)


def test_hotspot_map_emerging_categories() -> None:
    cells = _cells()
    cells["category"] = [
        "new hot spot",
        "intensifying cold spot",
        None,
        "",
        "x",
        "sporadic hot spot",
    ]
    page = maps.hotspot_map(cells, field="category", basemap="none").get_root().render()
    assert _density.EMERGING_COLOURS["new hot spot"] in page
    assert _density.EMERGING_COLOURS["intensifying cold spot"] in page


def test_hotspot_palette_is_the_conventional_one() -> None:
    assert _density.GI_COLOURS[3] == "#d62f27" and _density.GI_COLOURS[-3] == "#4575b5"
    page = maps.hotspot_map(_cells(), basemap="none").get_root().render()
    for k in (3, 2, -1, -3):
        assert _density.GI_COLOURS[k] in page
    assert "预警" in _decoded(page)  # warning layer and legend


@pytest.mark.parametrize(
    ("basemap", "token", "needle"),
    [
        ("osm", None, "tile.openstreetmap.org"),
        ("amap", None, "autonavi.com"),
        ("tianditu", "abc123", "tk=abc123"),
        ("http://10.1.2.3/tiles/{z}/{x}/{y}.png", None, "10.1.2.3/tiles"),
    ],
)
def test_basemaps(basemap: str, token: str | None, needle: str) -> None:
    page = maps.grid_map(_grids(), basemap=basemap, tianditu_token=token).get_root().render()
    assert needle in page


def test_basemap_errors() -> None:
    with pytest.raises(maps.BasemapError, match="tianditu_token"):
        maps.grid_map(_grids(), basemap="tianditu")
    with pytest.raises(maps.BasemapError, match="unknown basemap"):
        maps.grid_map(_grids(), basemap="google")
    with pytest.raises(ValueError, match="tile_system"):
        maps.grid_map(_grids(), basemap="http://x/{z}/{x}/{y}.png", tile_system="bd")


def test_bad_inputs_raise_gridgeo_errors() -> None:
    with pytest.raises(ColumnError, match="grid_code"):
        maps.grid_map(_grids().drop(columns="grid_code"))
    with pytest.raises(CRSError):
        maps.grid_map(_grids().set_crs(None, allow_override=True))
    with pytest.raises(GeometryError):
        maps.grid_map(gpd.GeoDataFrame({"grid_code": ["1"]}, geometry=[Point(0, 0)], crs=4326))
    bad = _cells()
    bad["gi_bin"] = [5, 0, 0, 0, 0, 0]
    with pytest.raises(ColumnError, match="gi_bin"):
        maps.hotspot_map(bad)
    with pytest.raises(maps.BasemapError, match="max_reports"):
        maps.reports_map(_reports(), max_reports=1)
    with pytest.raises(ColumnError, match="nope"):
        maps.reports_map(_reports(), columns={"description": "nope"})
    with pytest.raises(ColumnError, match="count"):
        maps.heatmap(_grids())
    with pytest.raises(TypeError, match="GeoDataFrame"):
        maps.heatmap(pd.DataFrame({"a": [1]}))
    with pytest.raises(GridgeoError):
        maps.heatmap(_cells(), column="count", resolution=3)


def test_reports_without_coordinates_are_skipped() -> None:
    reports = _reports()
    reports.loc[len(reports)] = ["x", pd.Timestamp("2024-05-03"), "missing_coords", "d", "a", None]
    page = maps.reports_map(reports, basemap="none").get_root().render()
    rows = json.loads(re.search(r"var rows = (\[\[.*?\]\]);", page).group(1))
    assert len(rows) == 2


# --------------------------------------------------------------------------- density


@given(
    st.lists(
        st.tuples(st.floats(-50, 150), st.floats(-50, 150), st.floats(0, 5)),
        min_size=1,
        max_size=60,
    )
)
def test_bin_points_fast_equals_slow(points: list[tuple[float, float, float]]) -> None:
    x, y, w = (np.array(v, dtype=float) for v in zip(*points, strict=True))
    fast = _density.bin_points(x, y, w, 0.0, 0.0, 10.0, (10, 10))
    slow = _density.bin_points_slow(x, y, w, 0.0, 0.0, 10.0, (10, 10))
    np.testing.assert_array_equal(fast, slow)


def test_bin_points_matches_numpy_histogram2d() -> None:
    rng = np.random.default_rng(1)
    x, y, w = rng.uniform(0, 100, 5000), rng.uniform(0, 80, 5000), rng.uniform(0, 2, 5000)
    fast = _density.bin_points(x, y, w, 0.0, 0.0, 4.0, (25, 20))
    ref, _, _ = np.histogram2d(
        x, y, bins=[np.arange(0, 101, 4.0), np.arange(0, 81, 4.0)], weights=w
    )
    np.testing.assert_allclose(fast, ref, rtol=1e-12)


def test_heat_image_conserves_the_number_of_reports() -> None:
    rng = np.random.default_rng(2)
    n = 20_000
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(rng.normal(X0, 800, n), rng.normal(Y0, 500, n)),
        crs="EPSG:4547",
    )
    grid = _density.density_from_points(
        pts, weights=None, system="wgs84", resolution=256, radius=None
    )
    w, s, e, n_ = grid.bounds_lonlat
    mx0, _my0 = _density._merc(np.array([w]), np.array([s]))
    mx1, my1 = _density._merc(np.array([e]), np.array([n_]))
    pixel = float(mx1[0] - mx0[0]) / grid.values.shape[1]
    rows = my1[0] - (np.arange(grid.values.shape[0]) + 0.5) * pixel
    lat = np.radians(_density._unmerc(np.zeros_like(rows), rows)[1])
    total = (grid.values * ((pixel * np.cos(lat)) ** 2 / 1e6)[:, None]).sum()
    assert total == pytest.approx(n, rel=0.01)
    assert grid.values.shape[0] <= 300 and grid.values.shape[1] <= 300


@dataclass(frozen=True)
class _Surface:
    array: np.ndarray
    bounds: tuple[float, float, float, float]
    crs: str


def test_surface_is_warped_north_up() -> None:
    arr = np.zeros((40, 60))
    arr[:20] = 5.0  # northern half
    surf = _Surface(arr, (X0, Y0, X0 + 3000, Y0 + 2000), "EPSG:4547")
    grid = _density.density_from_surface(surf, system="wgs84", resolution=128)
    vals = grid.values
    h = vals.shape[0]
    assert np.nanmean(vals[: h // 4]) == pytest.approx(5.0, abs=0.01)
    assert np.nanmean(vals[-h // 4 :]) == pytest.approx(0.0, abs=0.01)
    ll = gpd.GeoSeries([box(*surf.bounds)], crs=surf.crs).to_crs(4326).total_bounds
    assert grid.bounds_lonlat[0] == pytest.approx(ll[0], abs=1e-4)
    assert grid.bounds_lonlat[3] == pytest.approx(ll[3], abs=1e-4)
    page = maps.heatmap(surf, basemap="none").get_root().render()
    assert "data:image/png;base64," in page


# --------------------------------------------------------------------------- offline


def _fake_assets(root: Path, files: list[str]) -> Path:
    for f in files:
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        (root / f).write_text("/* asset */")
    return root


CORE = ["leaflet/dist/leaflet.js", "leaflet/dist/leaflet.css"]
CLUSTER = [
    "leaflet.markercluster/dist/leaflet.markercluster.js",
    "leaflet.markercluster/dist/MarkerCluster.css",
    "leaflet.markercluster/dist/MarkerCluster.Default.css",
]


def test_offline_local_folder_relative_links(tmp_path: Path) -> None:
    assets = _fake_assets(tmp_path / "web", CORE + CLUSTER)
    m = maps.reports_map(_reports(), basemap="none", offline=assets)
    out = maps.save_map(m, tmp_path / "map.html")
    page = out.read_text(encoding="utf-8")
    srcs = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page)
    assert srcs and all(s.startswith("web/") for s in srcs), srcs
    assert "web/leaflet.markercluster/dist/leaflet.markercluster.js" in srcs
    assert "https://" not in "".join(srcs)
    assert not list(tmp_path.glob("*.tmp"))


def test_offline_url_prefix_rewrites_every_cdn() -> None:
    import folium
    from folium.plugins import HeatMap

    m = folium.Map()
    HeatMap([[23.1, 114.4, 1.0]]).add_to(m)
    page = _offline.localise_html(
        m.get_root().render(), "http://intranet/web/", page_dir=Path.cwd()
    )
    srcs = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page)
    assert srcs and all(s.startswith("http://intranet/web/") for s in srcs), srcs
    assert "http://intranet/web/leaflet.heat/dist/leaflet-heat.js" in srcs
    assert "glyphicons" not in page  # no offline copy exists: dropped


def test_offline_missing_required_asset(tmp_path: Path) -> None:
    assets = _fake_assets(tmp_path / "web", CORE)  # no markercluster
    m = maps.reports_map(_reports(), basemap="none")
    with pytest.raises(InputFileError, match="markercluster"):
        maps.save_map(m, tmp_path / "map.html", offline=assets)
    with pytest.raises(InputFileError, match="not a folder"):
        maps.save_map(m, tmp_path / "map.html", offline=tmp_path / "nothing")
    with pytest.raises(InputFileError, match="does not exist"):
        maps.save_map(m, tmp_path / "no" / "map.html")
    assert not (tmp_path / "map.html").exists()


_REMOTE = re.compile(r'<(?:script|link)\b[^>]*(?:src|href)="https?://', re.IGNORECASE)


def _composed() -> object:
    m = maps.grid_map(_grids(), cells=_cells(), basemap="none")
    m = maps.hotspot_map(_cells(), m=m)
    return maps.reports_map(_reports(), m=m)


def test_save_map_inlines_shipped_assets_by_default(tmp_path: Path) -> None:
    out = maps.save_map(_composed(), tmp_path / "map.html")
    page = out.read_text(encoding="utf-8")
    assert not _REMOTE.search(page)
    assert "<!-- leaflet 1.9.4 (BSD-2-Clause) -->" in page
    assert "leaflet.markercluster 1.5.3" in page  # clustered reports
    # folium's defaults that the page does not use are left out
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()
    assert "Font Awesome" not in page and "glyphicon" not in page
    # stylesheet images are data: URIs, no relative url() left
    styles = "".join(re.findall(r"<style>(.*?)</style>", page, re.DOTALL))
    assert "url(" in styles and not re.search(r"url\((?!\"?data:)", styles)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html"]


def test_save_map_beside_copies_assets_once(tmp_path: Path) -> None:
    out = maps.save_map(_composed(), tmp_path / "a.html", assets="beside")
    page = out.read_text(encoding="utf-8")
    srcs = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page)
    assert "gridgeo_web/leaflet/dist/leaflet.js" in srcs
    assert all(s.startswith("gridgeo_web/") for s in srcs), srcs
    web = tmp_path / "gridgeo_web"
    for folder in ("leaflet", "leaflet.markercluster"):
        assert any(
            p.name.upper().startswith(("LICEN", "MIT-LICEN")) for p in (web / folder).iterdir()
        )
    assert (web / "leaflet/dist/images/layers.png").is_file()
    stamp = (web / "leaflet/dist/leaflet.js").stat().st_mtime_ns
    maps.save_map(_composed(), tmp_path / "b.html", assets="beside")
    assert (web / "leaflet/dist/leaflet.js").stat().st_mtime_ns == stamp  # shared, not rewritten


def test_save_map_cdn_only_when_asked(tmp_path: Path) -> None:
    page = maps.save_map(_composed(), tmp_path / "m.html", assets="cdn").read_text("utf-8")
    assert "https://cdn.jsdelivr.net/npm/leaflet@" in page
    with pytest.raises(ValueError, match="assets"):
        maps.save_map(_composed(), tmp_path / "m.html", assets="online")
    with pytest.raises(InputFileError, match="is a folder"):
        maps.save_map(_composed(), tmp_path)


def test_unknown_cdn_asset_is_kept_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    page = '<script src="https://example.org/plugin.js"></script><p>x</p>'
    with caplog.at_level("WARNING"):
        out = _offline.bundle_html(page, mode="inline", page_dir=Path.cwd())
    assert out == page and "example.org/plugin.js" in caplog.text


def test_inlined_script_cannot_close_its_element() -> None:
    assert _offline._script_text('a="</script><!--"') == 'a="<\\/script><\\!--"'
    assert _offline._script_text("b='</SCRIPT>'") == "b='<\\/SCRIPT>'"


def test_shipped_assets_match_their_manifest() -> None:
    import hashlib

    manifest = _offline.manifest()
    listed = set()
    for folder, info in manifest.items():
        assert info["license"].split(" ")[0] in {"MIT", "BSD-2-Clause", "OFL-1.1"}, folder
        assert info["tarball"].startswith("https://registry.npmjs.org/"), folder
        assert any("LICEN" in name.upper() for name in info["files"]), folder
        for name, digest in info["files"].items():
            path = _offline.WEB_DIR / folder / name
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, path
            listed.add(path)
    on_disk = {p for p in _offline.WEB_DIR.rglob("*") if p.is_file() and p.name != "MANIFEST.json"}
    assert on_disk == listed
    for asset in _offline.ASSETS:  # every asset a page can need is shipped
        assert asset.bundle is None or (_offline.WEB_DIR / asset.bundle).is_file()
    assert sum(p.stat().st_size for p in on_disk) < 1_600_000


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_outputs_take_the_users_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        html_out = maps.save_map(maps.grid_map(_grids(), basemap="none"), tmp_path / "m.html")
        png = maps.save_figure(maps.plot_grids(_grids()), tmp_path / "g.png", dpi=30)
        beside = maps.save_map(
            maps.grid_map(_grids(), basemap="none"), tmp_path / "b.html", assets="beside"
        )
    finally:
        os.umask(old)
    expected = 0o666 & ~umask
    assert stat.S_IMODE(html_out.stat().st_mode) == expected
    assert stat.S_IMODE(png.stat().st_mode) == expected
    assert stat.S_IMODE(beside.stat().st_mode) == expected
    js = tmp_path / "gridgeo_web/leaflet/dist/leaflet.js"
    assert stat.S_IMODE(js.stat().st_mode) == expected


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_unwritable_folder_raises_a_gridgeo_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(InputFileError, match=r"m\.html"):
            maps.save_map(maps.grid_map(_grids(), basemap="none"), folder / "m.html")
        with pytest.raises(InputFileError, match=r"g\.png"):
            maps.save_figure(maps.plot_grids(_grids()), folder / "g.png", dpi=20)
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


def test_write_errors_name_the_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from gridgeo.io import _atomic

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_atomic, "write_text_atomic", full)
    with pytest.raises(InputFileError, match=r"m\.html: No space left"):
        maps.save_map(maps.grid_map(_grids(), basemap="none"), tmp_path / "m.html")
    (tmp_path / "g.png").mkdir()
    with pytest.raises(InputFileError, match="is a folder"):
        maps.save_figure(maps.plot_grids(_grids()), tmp_path / "g.png")


PAYLOAD_NAMES = ["<img src=x onerror=alert(1)>", "<script>alert(2)</script>"]


@pytest.mark.parametrize("payload", PAYLOAD_NAMES)
def test_layer_names_and_legend_titles_are_escaped(payload: str) -> None:
    grids = _grids()
    grids[payload] = ["居民", payload, "单位"]
    pts = gpd.GeoDataFrame(geometry=[Point(X0 + 100, Y0 + 100)] * 5, crs="EPSG:4547")
    m = maps.grid_map(grids, column=payload, basemap="none", name=payload + " 1")
    m = maps.hotspot_map(_cells(), m=m, name=payload + " 2")
    m = maps.heatmap(pts, m=m, name=payload + " 3")
    cells = _cells().rename(columns={"count": payload})
    m = maps.heatmap(cells, m=m, column=payload, name=payload + " 4")
    m = maps.reports_map(_reports(), m=m, name=payload + " 5")
    page = _decoded(m.get_root().render())
    assert payload not in page
    escaped = html.escape(payload)
    control = page[page.index("_layers = {") :]
    for k in range(1, 6):  # the layer control's labels (Leaflet writes them as HTML)
        assert f'"{escaped} {k}"' in control
    legends = [json.loads(f'"{t}"') for t in re.findall(r'div.innerHTML = "(.*?)";', page)]
    assert f"<b>{escaped}</b>" in legends[0]  # grid_map legend title (the column)
    assert f"{escaped}</div>" in legends[0]  # ...and the value in its items
    assert any(f"<b>{escaped}</b><span" in text for text in legends)  # the count ramp
    with pytest.raises(maps.BasemapError, match="name"):
        maps.grid_map(_grids(), name=3)  # type: ignore[arg-type]


def test_map_fits_the_polygon_layers_not_outlying_reports() -> None:
    reports = _reports()
    reports.loc[5] = ["x", pd.Timestamp("2024-05-03"), "outside", "far", "a", Point(X0 + 5e4, Y0)]
    m = maps.grid_map(_grids(), basemap="none")
    m = maps.reports_map(reports, m=m)
    m = maps.heatmap(reports, m=m)
    w, s, e, n = m._gridgeo_bounds
    np.testing.assert_allclose((w, s, e, n), _grids().to_crs(4326).total_bounds)
    alone = maps.reports_map(reports, basemap="none")  # no polygons: fit the points
    assert alone._gridgeo_bounds[2] > _grids().to_crs(4326).total_bounds[2] + 0.3


def test_heat_page_stays_small_for_many_points() -> None:
    rng = np.random.default_rng(4)
    n = 200_000
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(rng.normal(X0, 3000, n), rng.normal(Y0, 3000, n)),
        crs="EPSG:4547",
    )
    page = maps.heatmap(pts, basemap="none").get_root().render()
    assert len(page.encode()) < 3_000_000


# --------------------------------------------------------------------------- static figures


def _png_stats(path: Path) -> tuple[tuple[int, ...], float, int]:
    img = mimage.imread(path)
    rgb = (img[..., :3] * 255).astype(int)
    colours = len(np.unique(rgb.reshape(-1, 3) @ np.array([65536, 256, 1])))
    return img.shape, float(rgb.std()), colours


def test_static_pngs_have_size_and_content(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(rng.normal(X0 + 700, 200, 800), rng.normal(Y0 + 250, 150, 800)),
        crs="EPSG:4547",
    )
    figs = {
        "grids": maps.plot_grids(_grids(), cells=_cells(), title="网格 $a$ 划分"),
        "grids_col": maps.plot_grids(_grids(), column="weight"),
        "hot": maps.plot_hotspots(_cells(), grids=_grids()),
        "heat": maps.plot_heatmap(pts, outline=_grids()),
        "counts": maps.plot_heatmap(_cells(), column="count"),
    }
    for name, fig in figs.items():
        out = maps.save_figure(fig, tmp_path / f"{name}.png", dpi=80)
        shape, spread, colours = _png_stats(out)
        assert max(shape[:2]) >= 400 and min(shape[:2]) >= 150, name
        assert spread > 10 and colours > 20, name  # not blank
    assert not list(tmp_path.glob(".*"))


def _cjk_installed() -> bool:
    """A CJK font file exists on this machine, whatever matplotlib's cache says."""
    return any(_fonts.has_cjk_glyphs(f) for f in _fonts._candidate_files())


@pytest.fixture
def need_cjk(in_ci: bool) -> None:
    """Skip without a CJK font locally; under CI (CI=true) a missing font is a failure."""
    if not _cjk_installed():
        if in_ci:
            pytest.fail("no CJK font installed in CI: apt-get install fonts-noto-cjk")
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")


@pytest.fixture
def stale_font_cache(monkeypatch: pytest.MonkeyPatch):
    """matplotlib's font list as built before the CJK fonts were installed."""
    from matplotlib import font_manager as fm

    fm.fontManager.ttflist  # noqa: B018 - the cache is loaded
    kept = [
        f
        for f in fm.fontManager.ttflist
        if not _fonts._glyphs_cached(str(f.fname), int(getattr(f, "index", 0) or 0))
    ]
    monkeypatch.setattr(fm.fontManager, "ttflist", kept)
    fm.fontManager._findfont_cached.cache_clear()
    _fonts.cjk_font.cache_clear()
    yield
    _fonts.cjk_font.cache_clear()
    fm.fontManager._findfont_cached.cache_clear()


def test_cjk_font_is_found_and_used(need_cjk: None) -> None:
    name = _static.cjk_font()
    assert name in _fonts.PREFERRED or name is not None
    assert "CJK" in name or "WenQuanYi" in name or "Han" in name or "Hei" in name


def test_cjk_font_found_although_the_font_cache_predates_it(
    need_cjk: None, stale_font_cache: None, tmp_path: Path
) -> None:
    from matplotlib import font_manager as fm

    assert not any("CJK" in f.name for f in fm.fontManager.ttflist)  # really stale
    name = _fonts.cjk_font()
    assert name is not None and name in {f.name for f in fm.fontManager.ttflist}
    fig = maps.plot_grids(_grids(), title="网格划分 桥东社区")
    assert fig.axes[0].get_title() == "网格划分 桥东社区"  # not replaced by '?'
    # a missing glyph would be a UserWarning, an error under filterwarnings=error
    maps.save_figure(fig, tmp_path / "zh.png", dpi=40)
    maps.save_figure(maps.plot_hotspots(_cells()), tmp_path / "hot.pdf")


def test_cjk_context_serves_report_charts(
    need_cjk: None, stale_font_cache: None, tmp_path: Path
) -> None:
    """A chart made outside gridgeo.maps (the report's bar charts) draws Chinese tick labels,
    which matplotlib creates only when drawing, inside cjk_context."""
    from matplotlib.figure import Figure

    with _fonts.cjk_context() as name:
        assert name is not None
        fig = Figure(figsize=(4, 2))
        ax = fig.add_subplot()
        ax.bar(range(3), [90, 95, 80])
        ax.set_xticks(range(3), ["桥东社区", "江北社区", "河南岸"])
        ax.set_ylabel("按期结案率 %")
        fig.savefig(tmp_path / "kpi.png", dpi=40)  # a missing glyph would raise here
    label = _fonts.font_properties(size=9)
    assert name in label.get_family() and label.get_size() == 9


def test_figures_leave_global_matplotlib_settings_alone(tmp_path: Path) -> None:
    import matplotlib as mpl

    keys = ("font.family", "font.sans-serif", "axes.unicode_minus", "savefig.bbox")
    before = {k: mpl.rcParams[k] for k in keys}
    with mpl.rc_context({"font.family": ["serif"]}):
        fig = maps.plot_grids(_grids(), title="网格")
        maps.save_figure(fig, tmp_path / "a.png", dpi=30)
        with _fonts.cjk_context():
            pass
        assert list(mpl.rcParams["font.family"]) == ["serif"]
    assert {k: mpl.rcParams[k] for k in keys} == before


def _labelled_grids() -> gpd.GeoDataFrame:
    """Two communities, each numbering its grids 001, 002, ...; one L-shaped grid."""
    geoms, codes = [], []
    for c, community in enumerate(("001", "002")):
        for k in range(8):
            i, j = k % 4, k // 4 + 2 * c
            geoms.append(box(X0 + i * 300, Y0 + j * 300, X0 + (i + 1) * 300, Y0 + (j + 1) * 300))
            codes.append(f"441302001{community}{k + 1:03d}")
    ell = box(X0 + 1200, Y0, X0 + 1800, Y0 + 150).union(box(X0 + 1650, Y0, X0 + 1800, Y0 + 1200))
    geoms.append(ell)
    codes.append("441302001002009")
    return gpd.GeoDataFrame({"grid_code": codes}, geometry=geoms, crs="EPSG:4547")


def test_short_labels_are_unambiguous() -> None:
    from gridgeo.maps._labels import short_labels

    assert short_labels(_grids()["grid_code"]) == ["001", "002", "003"]
    codes = _labelled_grids()["grid_code"]
    labels = short_labels(codes)
    assert len(set(labels)) == len(labels)
    assert labels[0] == "1-001" and labels[8] == "2-001"
    assert short_labels(pd.Series(["A7", "B7"])) == ["A7", "B7"]
    assert short_labels(pd.Series(["x1001", "y1001"])) == ["x1001", "y1001"]


@given(
    st.lists(
        st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 12)),
        min_size=1,
        max_size=40,
        unique=True,
    )
)
def test_short_labels_tell_unique_codes_apart(parts: list[tuple[int, int, int]]) -> None:
    from gridgeo.maps._labels import short_labels

    codes = pd.Series([f"441302{s:03d}{c:03d}{g:03d}" for s, c, g in parts])
    labels = short_labels(codes)
    assert len(set(labels)) == len(labels)
    assert all(label.endswith(code[-3:]) for label, code in zip(labels, codes, strict=True))
    assert max(len(label) for label in labels) <= 9  # never the 15-digit code here


def test_grid_labels_sit_inside_their_grid_and_never_overlap() -> None:
    from gridgeo.maps._labels import short_labels

    grids = _labelled_grids()
    fig = maps.plot_grids(grids, figsize=(5, 5))
    ax = fig.axes[0]
    wanted = short_labels(grids["grid_code"])
    texts = [t for t in ax.texts if t.get_text() in set(wanted)]
    assert sorted(t.get_text() for t in texts) == sorted(wanted)  # each once
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts]
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            assert not boxes[a].overlaps(boxes[b]), (texts[a].get_text(), texts[b].get_text())
    legend = ax.get_legend().get_window_extent(renderer)
    assert not any(b.overlaps(legend) for b in boxes)
    for t in texts:
        geom = grids.geometry.iloc[wanted.index(t.get_text())]
        assert geom.contains(Point(t.get_position())), t.get_text()
    ell_label = next(t for t in texts if t.get_text() == "2-009")
    assert not grids.geometry.iloc[-1].centroid.equals(Point(ell_label.get_position()))


def test_saved_figures_are_cropped_to_content(tmp_path: Path) -> None:
    strip = _grids(6)  # 3000 m x 500 m: a square figure would be mostly blank
    fig = maps.plot_grids(strip, title="strip")
    tight = _png_stats(maps.save_figure(fig, tmp_path / "t.png", dpi=50))[0]
    full = _png_stats(maps.save_figure(fig, tmp_path / "f.png", dpi=50, tight=False))[0]
    assert full[:2] == (400, 400)
    assert tight[0] < 0.6 * full[0]  # the blank bands above and below are gone
    img = mimage.imread(tmp_path / "t.png")[..., :3]
    inked_rows = (img.min(axis=(1, 2)) < 0.9).mean()
    assert inked_rows > 0.8  # only the 0.08-inch pad is blank


def test_figures_fall_back_without_cjk_font(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(_static, "cjk_font", lambda: None)
    fig = maps.plot_grids(_grids(), title="桥东社区 grids")
    assert fig.axes[0].get_title() == "???? grids"
    maps.save_figure(fig, tmp_path / "a.png", dpi=50)  # no missing-glyph warning (= error)


def test_signboards_png_and_pdf(tmp_path: Path) -> None:
    grids = _grids(2)
    staff = pd.DataFrame(
        {
            "grid_code": [grids["grid_code"].iloc[0]] * 2 + ["999"],
            "role": ["网格长", "网格员", "x"],
            "name": ["张三", "李 $x$ 四", "王五"],
            "phone": ["138 0000 0000", "139", "1"],
        }
    )
    files = maps.signboards(
        grids, _cells(), staff=staff, hotline="0752-12345", out_dir=tmp_path / "boards", dpi=40
    )
    assert [f.name for f in files] == [
        "441302001001001.png",
        "441302001001001.pdf",
        "441302001001002.png",
        "441302001001002.pdf",
    ]
    assert files[1].read_bytes().startswith(b"%PDF")
    shape, spread, _ = _png_stats(files[0])
    assert shape[0] > shape[1]  # A4 portrait
    assert spread > 10
    with pytest.raises(DuplicateIdError):
        maps.signboards(pd.concat([grids, grids]), out_dir=tmp_path)
    with pytest.raises(ColumnError, match="phone"):
        maps.signboards(grids, staff=staff.drop(columns="phone"), out_dir=tmp_path)


@pytest.mark.parametrize(("span", "length"), [(10_000, 2000), (900, 100), (4_999, 500), (37, 5)])
def test_scale_bar_length(span: float, length: float) -> None:
    assert _static.nice_length(span) == length


def test_greedy_colours_differ_between_neighbours() -> None:
    cells = gpd.GeoDataFrame(
        geometry=[box(i, j, i + 1, j + 1) for i in range(5) for j in range(5)], crs="EPSG:4547"
    )
    colour = _density.greedy_colours(cells.geometry.values)
    left, right = cells.sindex.query(cells.geometry.values, predicate="intersects")
    assert all(colour[a] != colour[b] for a, b in zip(left, right, strict=True) if a != b)
    assert colour.max() < len(_density.QUALITATIVE)
