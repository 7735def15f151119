"""Bad inputs, one test per row of docs/errors.md, plus the issue-14 regressions.

Each catalogue test asserts the gridgeo error class (or the documented repair) and that the
message names the column, row or file at fault.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from shapely import Point, box

import gridgeo as gg

CRS_GK = "EPSG:4547"
X0, Y0 = 500_000.0, 2_550_000.0


@pytest.fixture(scope="module")
def net() -> gpd.GeoDataFrame:
    cells = [
        box(X0 + i * 100, Y0 + j * 100, X0 + i * 100 + 100, Y0 + j * 100 + 100)
        for j in range(3)
        for i in range(3)
    ]
    codes = [f"C{k:02d}" for k in range(9)]
    return gpd.GeoDataFrame({"cell_code": codes}, geometry=cells, crs=CRS_GK)


# --- assign ------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["fishnet", "raster", "strtree", "exact"])
@pytest.mark.parametrize("with_none", [False, True])
def test_empty_points_are_missing_coords_not_a_crash(net, engine, with_none):
    # shapely 2 refuses get_x on an empty point; the docs promise missing_coords
    geoms = [Point(X0 + 50, Y0 + 50), Point(), shapely.from_wkt("POINT EMPTY")]
    geoms += [None] if with_none else []
    reports = gpd.GeoDataFrame({"a": range(len(geoms))}, geometry=geoms, crs=CRS_GK)
    out = gg.assign(reports, net, engine=engine)
    expected = ["assigned", "missing_coords", "missing_coords"]
    expected += ["missing_coords"] if with_none else []
    assert out["status"].astype(str).tolist() == expected
    assert out["reason"].iloc[1] == "no coordinates"
