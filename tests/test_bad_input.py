"""Bad inputs, one test per row of docs/errors.md, plus the issue-14 regressions.

Each catalogue test asserts the gridgeo error class (or the documented repair) and that the
message names the column, row or file at fault.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
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


def test_overlapping_cells_are_reported_by_assign(net, caplog):
    overlapping = pd.concat(
        [
            net,
            gpd.GeoDataFrame(
                {"cell_code": ["X"]}, geometry=[box(X0 + 50, Y0, X0 + 150, Y0 + 100)], crs=CRS_GK
            ),
        ],
        ignore_index=True,
    )
    reports = gpd.GeoDataFrame(geometry=[Point(X0 + 75, Y0 + 50)], crs=CRS_GK)
    with caplog.at_level(logging.WARNING, logger="gridgeo.assign"):
        out = gg.assign(reports, overlapping)
    assert out.attrs["overlapping_cells"] == [("C00", "X", 5000.0), ("C01", "X", 5000.0)]
    assert "2 pair(s) of cells overlap: 'C00'/'X' (5000)" in caplog.text
    assert gg.assign(reports, net).attrs["overlapping_cells"] == []


@given(
    st.lists(
        st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(1, 6), st.integers(1, 6)),
        min_size=1,
        max_size=12,
    )
)
def test_overlap_pairs_equal_the_pairwise_twin(boxes):
    from gridgeo._assign_overlaps import overlapping_pairs, overlapping_pairs_slow

    geoms = np.array([box(x, y, x + w, y + h) for x, y, w, h in boxes], dtype=object)
    fast = overlapping_pairs(geoms)
    slow = overlapping_pairs_slow(geoms)
    order = np.lexsort((fast[1], fast[0]))
    for got, want in zip((fast[0][order], fast[1][order], fast[2][order]), slow, strict=True):
        np.testing.assert_array_equal(got, want)
