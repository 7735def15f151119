"""Plans compared by code, coding zones, and the editing aids (neighbours, border cells,
rebalance, islands joining their community's nearest grid)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely import box

from gridgeo import cells as gc
from gridgeo import grids
from gridgeo.errors import ColumnError, PlanError

CODES = {"admin_code": "441302", "street_code": "001", "community_code": "001"}


def squares(nx_: int, ny: int, size: float = 100.0) -> gpd.GeoDataFrame:
    geoms = [
        box(x * size, y * size, (x + 1) * size, (y + 1) * size)
        for y in range(ny)
        for x in range(nx_)
    ]
    frame = gpd.GeoDataFrame(geometry=geoms, crs="EPSG:4547").assign(**CODES)
    frame["load"] = np.arange(len(frame)) % 7 + 1.0
    return gc.code(frame)


def test_diff_on_shuffled_rows_moves_nothing() -> None:
    cells = squares(12, 10)
    plan = grids.build(cells, n=8, weight="load", progress=False)
    # the same cells in another row order with a fresh index (as read back from a file)
    shuffled = cells.sample(frac=1.0, random_state=3).reset_index(drop=True)
    again = grids.build(shuffled, n=8, weight="load", progress=False)
    same = plan.cells.set_index("cell_code")["grid_code"]
    other = again.cells.set_index("cell_code")["grid_code"].reindex(same.index)
    d = grids.diff(plan, again)
    moved_by_hand = int((same != other).sum())
    assert len(d.cells) <= moved_by_hand  # renames do not count as moves
    # identical plan, rows shuffled and re-indexed: nothing moved, nothing changed
    perm = np.random.default_rng(2).permutation(len(plan.cells))
    permuted = grids.GridPlan(
        grids=plan.grids.sample(frac=1.0, random_state=1).reset_index(drop=True),
        cells=plan.cells.iloc[perm].reset_index(drop=True),
        summary=plan.summary,
        cell_weight=plan.cell_weight.iloc[perm].reset_index(drop=True),
        settings=plan.settings,
    )
    d = grids.diff(plan, permuted)
    assert len(d.cells) == 0
    assert (d.grids["status"] == "unchanged").all()
    assert len(d.changed_grids) == 0 and d.added == () and d.removed == ()


def test_diff_is_mappable() -> None:
    cells = squares(6, 4)
    a = grids.build(cells, n=2, weight="load", progress=False)
    b = grids.build(cells, n=3, weight="load", progress=False)
    d = grids.diff(a, b)
    assert isinstance(d.cells, gpd.GeoDataFrame) and d.cells.crs == cells.crs
    assert isinstance(d.changed_grids, gpd.GeoDataFrame) and len(d.changed_grids) > 0
    assert set(d.cells["cell_code"]) <= set(cells["cell_code"])
    # by hand: cells whose grid differs, after renames
    assert len(d.cells) > 0


def test_diff_refuses_different_cells() -> None:
    cells = squares(4, 3)
    a = grids.build(cells, n=2, progress=False)
    b = grids.build(cells.iloc[:-1], n=2, progress=False)
    with pytest.raises(PlanError, match="cell_code"):
        grids.diff(a, b)


def test_coding_zones_code_a_district_without_communities() -> None:
    frame = gpd.GeoDataFrame(
        geometry=[
            box(x, y, x + 50, y + 50) for x in range(0, 2500, 50) for y in range(0, 2000, 50)
        ],
        crs="EPSG:4547",
    )  # 2,000 cells: more than one community's 999
    zoned = gc.coding_zones(frame, admin_code="441302")
    sizes = zoned.groupby("community_code").size()
    assert sizes.max() <= 999 and len(sizes) == 3
    assert frame.columns.tolist() == ["geometry"]  # input untouched
    coded = gc.code(zoned)
    assert coded["cell_code"].str.fullmatch(r"441302001\d{6}").all()
    assert coded["cell_code"].is_unique
    # zones are contiguous: each zone's union is one polygon
    assert (zoned.dissolve("community_code").geom_type == "Polygon").all()
    small = gc.coding_zones(frame, admin_code="441302", max_cells=150)
    assert small.groupby("community_code").size().max() <= 150
    with pytest.raises(ColumnError, match="community_code"):
        gc.coding_zones(zoned)
    with pytest.raises(ColumnError, match="admin_code"):
        gc.coding_zones(frame)
    with pytest.raises(ValueError, match="max_cells"):
        gc.coding_zones(frame, admin_code="441302", max_cells=1000)
