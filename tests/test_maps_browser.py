"""Open a generated offline map in headless Chromium and check that it really works.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and the Leaflet web assets from
the npm registry in a ``node_modules`` folder::

    npm install --prefix build/web_assets leaflet@1.9.4 leaflet.markercluster@1.5.3 \\
        leaflet.heat@0.2.0

The test finds them through ``GRIDGEO_CHROMIUM`` (default ``/usr/bin/chromium``) and
``GRIDGEO_LEAFLET_DIR`` (default ``build/web_assets/node_modules`` in the repository). When
one is missing the test is skipped locally and fails under CI (``CI=true``).
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

from gridgeo import maps

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
ASSETS = Path(os.environ.get("GRIDGEO_LEAFLET_DIR", REPO / "build/web_assets/node_modules"))
PAYLOAD_SCRIPT = "<script>window.__pwned=1</script>"
PAYLOAD_IMG = '<img src=x onerror="window.__pwned=2">'
PAYLOAD_TIP = '<img src=y onerror="window.__pwned=3">'
X0, Y0 = 541_000.0, 2_555_000.0  # EPSG:4547, near 114.4E 23.1N (Huizhou)


def _leaflet_problems() -> list[str]:
    if (ASSETS / "leaflet/dist/leaflet.js").is_file():
        return []
    return [
        f"no Leaflet assets in {ASSETS} (npm install --prefix build/web_assets "
        "leaflet@1.9.4 leaflet.markercluster@1.5.3 leaflet.heat@0.2.0, or set "
        "GRIDGEO_LEAFLET_DIR)"
    ]


def _layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    grids = gpd.GeoDataFrame(
        {
            "grid_code": [f"441302001001{k:03d}" for k in range(1, 7)],
            "community_name": [
                "桥东社区",
                PAYLOAD_TIP,
                "桥东社区",
                "江北社区",
                "江北社区",
                "江北社区",
            ],
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
    cells["gi_z"] = z
    cells["gi_p"] = np.clip(np.exp(-np.abs(z)), 0, 1)
    cells["gi_bin"] = np.sign(z).astype(int) * np.digitize(np.abs(z), [1.645, 1.96, 2.576])
    cells["warning"] = np.where(z > 2.6, "red", np.where(z > 2.0, "yellow", ""))
    cells["warning_reason"] = np.where(cells["warning"] != "", "3 周连续上升 <b>x</b>", "")
    reports = gpd.GeoDataFrame(
        {
            "class_name": ["暴露垃圾", "井盖破损", "占道经营"],
            "reported_at": pd.to_datetime(
                ["2024-05-01 08:00", "2024-05-02 09:30", "2024-05-03 17:45"]
            ),
            "status": ["assigned", "snapped", "assigned"],
            "description": [PAYLOAD_SCRIPT, PAYLOAD_IMG, "路口东侧"],
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


@pytest.fixture
def server(tmp_path: Path):
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_offline_map_renders_and_is_safe(
    tmp_path: Path, server: str, need_tools, chromium_launch: dict
) -> None:
    need_tools(_leaflet_problems())
    from playwright.sync_api import sync_playwright

    (tmp_path / "web").symlink_to(ASSETS, target_is_directory=True)
    (tmp_path / "favicon.ico").write_bytes(b"")
    grids, cells, reports = _layers()
    rng = np.random.default_rng(5)
    heat_pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(
            rng.normal(X0 + 900, 250, 3000), rng.normal(Y0 + 600, 200, 3000)
        ),
        crs="EPSG:4547",
    )
    m = maps.grid_map(grids, cells=cells, basemap="none", offline=tmp_path / "web")
    m = maps.heatmap(heat_pts, m=m)
    m = maps.hotspot_map(cells, m=m)
    m = maps.reports_map(reports, m=m)
    page_path = maps.save_map(m, tmp_path / "map.html")
    html_text = page_path.read_text(encoding="utf-8")
    assert "cdn.jsdelivr" not in html_text and "cdnjs" not in html_text

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**chromium_launch)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.on(
                "console",
                lambda msg: (
                    problems.append(f"console {msg.type}: {msg.text}")
                    if msg.type == "error"
                    else None
                ),
            )
            page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
            page.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))
            page.on(
                "response",
                lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
            )

            def only_local(route) -> None:
                url = route.request.url
                if url.startswith((server, "data:")):
                    route.continue_()
                else:
                    problems.append(f"external request: {url}")
                    route.abort()

            page.route("**/*", only_local)
            page.goto(f"{server}/map.html")
            page.wait_for_selector("path.gridgeo-report", timeout=15_000)
            page.wait_for_load_state("networkidle")

            n_paths = page.locator("svg path.leaflet-interactive").count()
            assert n_paths >= len(grids) + len(cells) + len(reports)
            heat_width = page.evaluate(
                "() => { const im = document.querySelector('img.leaflet-image-layer');"
                " return im ? im.naturalWidth : 0; }"
            )
            assert heat_width > 0
            legends = page.locator(".gridgeo-legend")
            assert legends.count() >= 3
            assert legends.first.is_visible()
            assert page.locator(".leaflet-control-layers").is_visible()
            assert page.locator(".leaflet-control-scale").is_visible()

            popups = []
            for k in range(page.locator("path.gridgeo-report").count()):
                page.locator("path.gridgeo-report").nth(k).click(force=True)
                page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
                popups += page.locator(".leaflet-popup-content").all_inner_texts()
            joined = "\n".join(popups)
            assert PAYLOAD_SCRIPT in joined  # shown as text
            assert PAYLOAD_IMG in joined
            assert "暴露垃圾" in joined and "2024-05-01" in joined and "assigned" in joined

            # hide the layers above the grids through the layer control, then hover the grid
            # whose community name is a payload: the tooltip shows it as text
            for label in ("Hot spots", "Warnings"):
                page.locator(".leaflet-control-layers label", has_text=label).locator(
                    "input"
                ).uncheck()
            assert page.locator("svg path.leaflet-interactive").count() < n_paths
            map_id = page.evaluate("() => document.querySelector('.folium-map').id")
            centre = grids.to_crs(4326).geometry.iloc[1].centroid
            xy = page.evaluate(
                f"() => {{ const p = window['{map_id}'].latLngToContainerPoint("
                f"[{centre.y}, {centre.x}]); return [p.x, p.y]; }}"
            )
            box_ = page.locator(".folium-map").bounding_box()
            page.mouse.move(box_["x"] + xy[0], box_["y"] + xy[1])
            page.wait_for_selector(".leaflet-tooltip", timeout=5_000)
            tips = " ".join(page.locator(".leaflet-tooltip").all_inner_texts())
            assert PAYLOAD_TIP in tips

            assert page.evaluate("() => window.__pwned") is None
            assert page.locator("img[src='x'], img[src='y']").count() == 0
            page.mouse.move(5, 5)
            page.keyboard.press("Escape")
            shot = tmp_path / "map.png"
            page.screenshot(path=str(shot))
            print(f"screenshot: {shot}")
            keep = os.environ.get("GRIDGEO_SCREENSHOT_DIR")
            if keep:
                shutil.copy(shot, Path(keep) / "maps_browser.png")
        finally:
            browser.close()
    assert not problems, problems
    assert shot.stat().st_size > 20_000
