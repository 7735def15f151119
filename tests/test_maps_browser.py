"""Open every kind of map gridgeo writes in headless Chromium with the network cut off.

Each page is opened from ``file://`` with every other request aborted (and counted as a
failure): the maps must work from the assets gridgeo ships. The tests find the layers in the
layer control, the legends, a tooltip and a popup, and check that HTML/script payloads in layer
names, legend titles and report text are shown as text and never run.

Needs Debian's ``chromium`` (``apt-get install -y chromium``, found through
``GRIDGEO_CHROMIUM``) and the playwright package; never ``playwright install``. Skipped locally
when one is missing, failed under CI (``CI=true``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

from gridgeo import maps

pytestmark = pytest.mark.browser

ALERT_IMG = "<img src=x onerror=alert(1)>"
ALERT_SCRIPT = "<script>alert(2)</script>"
PWN_IMG = '<img src=y onerror="window.__pwned=3">'
PWN_SCRIPT = "<script>window.__pwned=1</script>"
X0, Y0 = 541_000.0, 2_555_000.0  # EPSG:4547, near 114.4E 23.1N (Huizhou)


def _layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    grids = gpd.GeoDataFrame(
        {
            "grid_code": [f"441302001001{k:03d}" for k in range(1, 7)],
            "community_name": ["桥东社区", PWN_IMG, "桥东社区", "江北社区", "江北社区", "江北社区"],
            "weight": [12.5, 9.0, 14.2, 11.1, 10.4, 8.8],
            "n_cells": [9] * 6,
        },
        geometry=[
            box(X0 + i * 600, Y0 + j * 600, X0 + (i + 1) * 600, Y0 + (j + 1) * 600)
            for j in range(2)
            for i in range(3)
        ],
        crs="EPSG:4547",
    )
    cells = gpd.GeoDataFrame(
        {"cell_code": [f"441302001001{k:03d}" for k in range(54)]},
        geometry=[
            box(X0 + i * 200, Y0 + j * 200, X0 + (i + 1) * 200, Y0 + (j + 1) * 200)
            for j in range(6)
            for i in range(9)
        ],
        crs="EPSG:4547",
    )
    rng = np.random.default_rng(3)
    z = rng.normal(0, 2, len(cells))
    z[0], z[1] = 3.5, 2.2  # at least one red and one yellow warning
    cells["count"] = rng.poisson(5, len(cells))
    cells["gi_z"] = z
    cells["gi_p"] = np.clip(np.exp(-np.abs(z)), 0, 1)
    cells["gi_bin"] = np.sign(z).astype(int) * np.digitize(np.abs(z), [1.645, 1.96, 2.576])
    cells["warning"] = np.where(z > 2.6, "red", np.where(z > 2.0, "yellow", ""))
    cells["warning_reason"] = np.where(cells["warning"] != "", "3 周连续上升 " + ALERT_IMG, "")
    reports = gpd.GeoDataFrame(
        {
            "class_name": ["暴露垃圾", "井盖破损", "占道经营"],
            "reported_at": pd.to_datetime(
                ["2024-05-01 08:00", "2024-05-02 09:30", "2024-05-03 17:45"]
            ),
            "status": ["assigned", "snapped", "assigned"],
            "description": [PWN_SCRIPT + ALERT_SCRIPT, ALERT_IMG, "路口东侧"],
            "address": ["惠城区", "江北", "河南岸"],
        },
        geometry=[
            Point(X0 + 300, Y0 + 300),
            Point(X0 + 1500, Y0 + 900),
            Point(X0 + 900, Y0 + 1000),
        ],
        crs="EPSG:4547",
    )
    return grids, cells, reports


def _heat_points(n: int = 3000) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(5)
    return gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(rng.normal(X0 + 900, 250, n), rng.normal(Y0 + 600, 200, n)),
        crs="EPSG:4547",
    )


@contextmanager
def _open(
    path: Path, launch: dict[str, Any], *, tiles: str | None = None
) -> Iterator[tuple[Any, list[str]]]:
    """Open ``path`` (file://) with all other requests aborted; yield (page, problems).

    Requests to the ``tiles`` host (the basemap, the one allowed outside resource) are aborted
    too but not counted as problems.
    """
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**launch)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.on(
                "console",
                lambda msg: (
                    problems.append(f"console {msg.type}: {msg.text}")
                    if msg.type in {"error", "warning"} and not (tiles and "ERR_FAILED" in msg.text)
                    else None
                ),
            )
            page.on("pageerror", lambda err: problems.append(f"page error: {err}"))

            def is_tile(url: str) -> bool:
                return tiles is not None and tiles in url

            page.on(
                "requestfailed",
                lambda req: None if is_tile(req.url) else problems.append(f"failed: {req.url}"),
            )
            page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))

            def only_local(route: Any) -> None:
                url = route.request.url
                if url.startswith(("file://", "data:")):
                    route.continue_()
                else:
                    if not is_tile(url):
                        problems.append(f"outside request: {url}")
                    route.abort()

            page.route("**/*", only_local)
            page.goto(path.as_uri())
            page.wait_for_selector(".leaflet-control-layers", timeout=60_000)
            page.wait_for_load_state("networkidle")
            yield page, problems
            assert page.evaluate("() => window.__pwned") is None
            assert page.locator("img[src='x'], img[src='y']").count() == 0
            keep = os.environ.get("GRIDGEO_SCREENSHOT_DIR")
            if keep:
                page.screenshot(path=str(Path(keep) / f"maps_browser_{path.stem}.png"))
        finally:
            browser.close()


def _layer_labels(page: Any) -> str:
    return " | ".join(page.locator(".leaflet-control-layers label").all_inner_texts())


def _click_feature(page: Any, lonlat: tuple[float, float]) -> str:
    """Click the map at ``lonlat`` and return the popup text."""
    map_id = page.evaluate("() => document.querySelector('.folium-map').id")
    xy = page.evaluate(
        f"() => {{ const p = window['{map_id}'].latLngToContainerPoint("
        f"[{lonlat[1]}, {lonlat[0]}]); return [p.x, p.y]; }}"
    )
    frame = page.locator(".folium-map").bounding_box()
    page.mouse.move(frame["x"] + xy[0], frame["y"] + xy[1])
    page.wait_for_selector(".leaflet-tooltip", timeout=30_000)
    page.mouse.click(frame["x"] + xy[0], frame["y"] + xy[1])
    page.wait_for_selector(".leaflet-popup-content", timeout=30_000)
    return "\n".join(page.locator(".leaflet-popup-content").all_inner_texts())


def _centre(gdf: gpd.GeoDataFrame, i: int) -> tuple[float, float]:
    p = gdf.to_crs(4326).geometry.iloc[i].representative_point()
    return (p.x, p.y)


def _assert_offline_page(page_path: Path) -> None:
    text = page_path.read_text(encoding="utf-8")
    for host in ("cdn.jsdelivr", "cdnjs", "code.jquery", "netdna", "unpkg"):
        assert host not in text, host


def test_grid_map_offline(tmp_path: Path, chromium_launch: dict) -> None:
    grids, cells, _ = _layers()
    grids[ALERT_SCRIPT] = ["居民", "商务", "居民", "单位", "商务", "居民"]
    m = maps.grid_map(grids, cells=cells, column=ALERT_SCRIPT, basemap="none", name=ALERT_IMG)
    out = maps.save_map(m, tmp_path / "grid_map.html")
    _assert_offline_page(out)
    with _open(out, chromium_launch) as (page, problems):
        assert ALERT_IMG in _layer_labels(page) and "Cells" in _layer_labels(page)
        background = page.evaluate(
            "() => getComputedStyle(document.querySelector('.leaflet-container')).backgroundColor"
        )
        assert background == "rgb(244, 243, 238)"  # the plain background of basemap="none"
        legend = page.locator(".gridgeo-legend")
        assert legend.count() == 1 and legend.first.is_visible()
        assert ALERT_SCRIPT in legend.first.inner_text() and "单位" in legend.first.inner_text()
        popup = _click_feature(page, _centre(grids, 1))
        assert "441302001001002" in popup and PWN_IMG in popup
    assert not problems, problems


def test_heatmap_offline(tmp_path: Path, chromium_launch: dict) -> None:
    m = maps.heatmap(_heat_points(), basemap="none", name=PWN_SCRIPT)
    out = maps.save_map(m, tmp_path / "heatmap.html")
    _assert_offline_page(out)
    with _open(out, chromium_launch) as (page, problems):
        assert PWN_SCRIPT in _layer_labels(page)
        width = page.evaluate(
            "() => { const im = document.querySelector('img.leaflet-image-layer');"
            " return im && im.complete ? im.naturalWidth : 0; }"
        )
        assert width > 100
        assert "km²" in page.locator(".gridgeo-legend").inner_text()
        page.locator(".leaflet-control-layers label", has_text="window.__pwned").locator(
            "input"
        ).uncheck()
        assert page.locator("img.leaflet-image-layer").count() == 0
    assert not problems, problems


def test_hotspot_map_offline(tmp_path: Path, chromium_launch: dict) -> None:
    _, cells, _ = _layers()
    m = maps.hotspot_map(cells, basemap="none")
    out = maps.save_map(m, tmp_path / "hotspot_map.html")
    with _open(out, chromium_launch) as (page, problems):
        labels = _layer_labels(page)
        assert "Hot spots" in labels and "Warnings" in labels
        legends = " ".join(page.locator(".gridgeo-legend").all_inner_texts())
        assert "Gi*" in legends and "red 预警" in legends
        page.locator(".leaflet-control-layers label", has_text="Warnings").locator(
            "input"
        ).uncheck()
        popup = _click_feature(page, _centre(cells, 0))
        assert "441302001001000" in popup and "3.50" in popup
        assert ALERT_IMG in popup  # the warning reason, shown as text
    assert not problems, problems


def test_reports_map_offline(tmp_path: Path, chromium_launch: dict) -> None:
    _, _, reports = _layers()
    m = maps.reports_map(reports, basemap="none", name=ALERT_SCRIPT)
    out = maps.save_map(m, tmp_path / "reports_map.html")
    with _open(out, chromium_launch) as (page, problems):
        assert ALERT_SCRIPT in _layer_labels(page)
        assert "status" in page.locator(".gridgeo-legend").inner_text()
        page.wait_for_selector("path.gridgeo-report", timeout=30_000)
        popups = []
        for k in range(page.locator("path.gridgeo-report").count()):
            page.locator("path.gridgeo-report").nth(k).click(force=True)
            page.wait_for_selector(".leaflet-popup-content", timeout=30_000)
            popups += page.locator(".leaflet-popup-content").all_inner_texts()
        joined = "\n".join(popups)
        assert PWN_SCRIPT + ALERT_SCRIPT in joined and ALERT_IMG in joined  # shown as text
        assert "暴露垃圾" in joined and "2024-05-01" in joined and "assigned" in joined
    assert not problems, problems


def test_demo_style_map_beside_assets_fits_the_district(
    tmp_path: Path, chromium_launch: dict
) -> None:
    grids, cells, reports = _layers()
    far = reports.iloc[:1].copy()
    far["geometry"] = [Point(X0 + 40_000, Y0 + 30_000)]  # an outlying report, 50 km away
    far.index = [99]
    reports = pd.concat([reports, far])
    m = maps.grid_map(grids, cells=cells, basemap="none")
    m = maps.heatmap(_heat_points(), m=m)
    m = maps.hotspot_map(cells, m=m)
    m = maps.reports_map(reports, m=m)
    out = maps.save_map(m, tmp_path / "map.html", assets="beside")
    _assert_offline_page(out)
    assert (tmp_path / "gridgeo_web/leaflet/dist/leaflet.js").is_file()
    assert (tmp_path / "gridgeo_web/leaflet/LICENSE").is_file()
    with _open(out, chromium_launch) as (page, problems):
        labels = _layer_labels(page)
        for name in ("Grids", "Cells", "Heat", "Hot spots", "Warnings", "Reports"):
            assert name in labels, (name, labels)
        assert page.locator(".gridgeo-legend").count() >= 4
        assert page.locator(".leaflet-control-scale").is_visible()
        map_id = page.evaluate("() => document.querySelector('.folium-map').id")
        view = page.evaluate(f"() => window['{map_id}'].getBounds().toBBoxString()")
        w, s, e, n = (float(v) for v in view.split(","))
        gw, gs, ge, gn = grids.to_crs(4326).total_bounds
        assert w <= gw and s <= gs and e >= ge and n >= gn  # the district is in view...
        fp = far.to_crs(4326).geometry.iloc[0]
        assert not (w <= fp.x <= e and s <= fp.y <= n)  # ...and the outlier is not
        assert (e - w) < 4 * (ge - gw)  # fitted to it, not zoomed out
        for label in ("Hot spots", "Warnings", "Heat"):
            page.locator(".leaflet-control-layers label", has_text=label).locator("input").uncheck()
        popup = _click_feature(page, _centre(grids, 4))
        assert "441302001001005" in popup and "江北社区" in popup
        shot = tmp_path / "map.png"
        page.screenshot(path=str(shot))
        keep = os.environ.get("GRIDGEO_SCREENSHOT_DIR")
        if keep:
            shutil.copy(shot, Path(keep) / "maps_browser.png")
    assert not problems, problems
    assert shot.stat().st_size > 20_000


def test_folium_icon_markers_work_offline(tmp_path: Path, chromium_launch: dict) -> None:
    """folium's own markers (awesome-markers, Font Awesome, glyphicons) use shipped assets."""
    import folium

    grids, _, _ = _layers()
    m = maps.grid_map(grids, basemap="none")
    lon, lat = _centre(grids, 0)
    folium.Marker([lat, lon], icon=folium.Icon(icon="info-sign"), popup="glyph").add_to(m)
    folium.Marker(
        [lat + 0.003, lon], icon=folium.Icon(icon="house", prefix="fa", angle=45), popup="fa"
    ).add_to(m)
    folium.Marker([lat - 0.003, lon], popup="plain").add_to(m)  # Leaflet's default image
    out = maps.save_map(m, tmp_path / "icons.html")
    _assert_offline_page(out)
    with _open(out, chromium_launch) as (page, problems):
        assert page.locator(".awesome-marker i").count() == 2
        plain = page.evaluate(
            "() => [...document.querySelectorAll('img.leaflet-marker-icon')]"
            ".map(i => i.complete ? i.naturalWidth : 0)"
        )
        assert plain and all(w > 0 for w in plain), plain
        page.wait_for_function("() => document.fonts.status === 'loaded'")
        families = page.evaluate(
            "() => [...document.querySelectorAll('.awesome-marker i')]"
            ".map(i => getComputedStyle(i).fontFamily)"
        )
        assert any("Glyphicons" in f for f in families), families
        assert any("Font Awesome" in f for f in families), families
        loaded = page.evaluate(
            "() => [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"
        )
        assert any("Glyphicons" in f for f in loaded) and any("Font Awesome" in f for f in loaded)
        rotation = page.evaluate(
            "() => getComputedStyle(document.querySelector('.fa-rotate-45')).transform"
        )
        assert rotation not in ("none", "")
    assert not problems, problems


@pytest.mark.slow
def test_demo_map_works_offline(tmp_path: Path, chromium_launch: dict) -> None:
    """The demo's own map.html (OpenStreetMap tiles, blocked here) shows every layer."""
    from gridgeo.cli import _demo

    result = _demo.run_demo(tmp_path / "demo", n_reports=3000, progress=False)
    out = result.files["interactive map (HTML)"]
    _assert_offline_page(out)
    grids = gpd.read_file(tmp_path / "demo" / "cells_grids.gpkg", layer="grids")
    with _open(out, chromium_launch, tiles="tile.openstreetmap.org") as (page, problems):
        labels = _layer_labels(page)
        for name in ("Grids", "Cells", "Hot spots", "Reports"):
            assert name in labels, (name, labels)
        assert page.locator(".gridgeo-legend").count() >= 2
        map_id = page.evaluate("() => document.querySelector('.folium-map').id")
        view = page.evaluate(f"() => window['{map_id}'].getBounds().toBBoxString()")
        w, s, e, n = (float(v) for v in view.split(","))
        gw, gs, ge, gn = grids.to_crs(4326).total_bounds
        assert w <= gw and s <= gs and e >= ge and n >= gn
        assert (e - w) < 4 * (ge - gw)  # fitted to the district
        for label in ("Hot spots", "Warnings", "Reports"):
            box_ = page.locator(".leaflet-control-layers label", has_text=label)
            if box_.count():
                box_.locator("input").uncheck()
        popup = _click_feature(page, _centre(grids, 0))
        assert str(grids["grid_code"].iloc[0]) in popup
    assert not problems, problems
