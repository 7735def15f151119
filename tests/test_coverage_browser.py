"""Open the coverage report HTML in headless Chromium: it renders, loads nothing from outside,
shows its embedded figures, and text from reports cannot run as script.

Needs Debian's ``chromium`` (found via ``GRIDGEO_CHROMIUM``); skipped locally without it and
failing under CI (``CI=true``).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import Point, box

from gridgeo import coverage

pytestmark = pytest.mark.browser


def test_report_html_opens_offline_in_chromium(tmp_path: Path, chromium_launch: dict) -> None:
    from playwright.sync_api import sync_playwright

    cells = gpd.GeoDataFrame(
        {"cell_code": [f"c{i}" for i in range(6)], "grid_code": ["G1"] * 3 + ["G2"] * 3},
        geometry=[box(i * 100, 0, i * 100 + 100, 100) for i in range(6)],
        crs="EPSG:4547",
    )
    grids = cells.dissolve("grid_code").reset_index()[["grid_code", "geometry"]]
    grids["community_name"] = ['<img src=x onerror="window.__pwned=1">', "西社区"]
    grids["workers"] = [3, 2]
    t = pd.Timestamp("2026-03-02 09:00")
    cases = pd.DataFrame(
        {
            "status": ["assigned"] * 4,
            "grid_code": ["G1", "G1", "G2", "G2"],
            "cell_code": ["c0", "c1", "c3", "c4"],
            "department": ["<script>window.__pwned=2</script>"] * 4,
            "category_code": ["E0101"] * 4,
            "class_name": ["市容环境"] * 4,
            "source": ["app"] * 4,
            "reported_at": [t] * 4,
            "filed_at": [t] * 4,
            "dispatched_at": [t] * 4,
            "disposed_at": [t + pd.Timedelta(hours=h) for h in (1, 2, 3, 30)],
            "closed_at": [t + pd.Timedelta(hours=h) for h in (2, 3, 4, 31)],
        }
    )
    rep = coverage.report(
        cells,
        grids,
        cases,
        area=gpd.GeoDataFrame(geometry=[box(0, 0, 600, 100)], crs="EPSG:4547"),
        stations=gpd.GeoDataFrame(geometry=[Point(0, 50)], crs="EPSG:4547"),
        walk_distance=300,
        period=("2026-03-01", "2026-03-08"),
    )
    page_path = rep.to_html(tmp_path / "report.html", lang="zh")
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(**chromium_launch)
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_path.as_uri())
        page.wait_for_load_state("load")
        images = page.eval_on_selector_all(
            "img", "els => els.map(e => e.complete && e.naturalWidth > 0)"
        )
        pwned = page.evaluate("window.__pwned")
        tables = page.eval_on_selector_all("table", "els => els.length")
        body = page.inner_text("body")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    outside = [u for u in requests if not u.startswith(("file://", "data:"))]
    assert outside == []
    assert errors == []
    assert images and all(images)  # the embedded PNG map and chart decode
    assert pwned is None
    assert tables >= 5
    assert "按期结案率" in body
    assert "<script>window.__pwned=2</script>" in body  # shown as text
    print(f"screenshot: {tmp_path / 'report.png'}")
