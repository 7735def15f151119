"""Plans compared by code, coding zones, and the editing aids (neighbours, border cells,
rebalance, islands joining their community's nearest grid)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

from gridgeo import cells as gc
from gridgeo import grids
from gridgeo.errors import ColumnError, PlanError
from gridgeo.grids import _editing

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
    zoned = grids.coding_zones(frame, admin_code="441302")
    sizes = zoned.groupby("community_code").size()
    assert sizes.max() <= 999 and len(sizes) == 3
    assert frame.columns.tolist() == ["geometry"]  # input untouched
    coded = gc.code(zoned)
    assert coded["cell_code"].str.fullmatch(r"441302001\d{6}").all()
    assert coded["cell_code"].is_unique
    # zones are contiguous: each zone's union is one polygon
    assert (zoned.dissolve("community_code").geom_type == "Polygon").all()
    small = grids.coding_zones(frame, admin_code="441302", max_cells=150)
    assert small.groupby("community_code").size().max() <= 150
    with pytest.raises(ColumnError, match="community_code"):
        grids.coding_zones(zoned)
    with pytest.raises(ColumnError, match="admin_code"):
        grids.coding_zones(frame)
    with pytest.raises(ValueError, match="max_cells"):
        grids.coding_zones(frame, admin_code="441302", max_cells=1000)


# ----------------------------------------------------------------------------- editing aids
def test_neighbours_and_border_cells_against_geometry() -> None:
    cells = squares(6, 4)
    plan = grids.build(cells, n=4, weight="load", progress=False)
    codes = plan.grids["grid_code"].tolist()
    unions = plan.grids.set_index("grid_code").geometry
    for g in codes:
        nb = grids.neighbours(plan, g)
        # independent: grids whose unions share a boundary of positive length
        expected = {
            h
            for h in codes
            if h != g and unions[g].boundary.intersection(unions[h].boundary).length > 0
        }
        assert set(nb["grid_code"]) == expected
        for h, m in zip(nb["grid_code"], nb["shared_m"], strict=True):
            assert m == pytest.approx(unions[g].boundary.intersection(unions[h].boundary).length)
        border = grids.border_cells(plan, g)
        mine = plan.cells[plan.cells["grid_code"] == g]
        others = plan.cells[plan.cells["grid_code"] != g].geometry.union_all()
        touching = mine[mine.geometry.boundary.intersection(others.boundary).length > 0]
        assert set(border.index) == set(touching.index)
        assert border["to_grid"].isin(expected).all()
    with pytest.raises(PlanError, match="not a grid"):
        grids.neighbours(plan, "441302001001999")


def unbalanced(nx_: int = 8, ny: int = 4) -> grids.GridPlan:
    """Two grids in a strip, the west one far heavier than the east one."""
    cells = squares(nx_, ny).assign(load=1.0)
    plan = grids.build(cells, n=2, weight="load", progress=False)
    west = plan.cells.geometry.centroid.x < 200
    codes = np.where(west, "441302001001002", "441302001001001")
    return _editing._reassemble(plan, codes, {"edit": "test"})


def test_rebalance_evens_out_with_few_moves() -> None:
    plan = unbalanced()
    chosen = plan.grids["grid_code"].tolist()
    w = plan.grids["weight"].to_numpy()
    res = grids.rebalance(plan, grids=chosen)
    w2 = res.plan.grids["weight"].to_numpy()
    assert w2.std() / w2.mean() < w.std() / w.mean()
    assert w2.std() / w2.mean() <= 0.10
    assert res.plan.summary.non_contiguous == ()
    # each move shifts one cell of weight 1: the fewest is half the difference (8 of 24/8)
    assert len(res.changes.cells) == (w.max() - w.min()) / 2 - int(0.1 * w.mean())
    # grids not chosen stay as they were; no-op when already balanced
    again = grids.rebalance(res.plan, grids=chosen)
    assert len(again.changes.cells) == 0


@pytest.mark.parametrize(("nx_", "ny", "tol"), [(4, 2, 0.0), (5, 2, 0.2), (3, 3, 0.15)])
def test_rebalance_moves_equal_brute_force_fewest(nx_: int, ny: int, tol: float) -> None:
    from gridgeo.grids import _edit as _grids_edit

    plan = unbalanced(nx_, ny)
    chosen = plan.grids["grid_code"].tolist()
    fewest = _grids_edit.fewest_moves_slow(plan, chosen, tol)
    res = grids.rebalance(plan, grids=chosen, tolerance=tol)
    assert fewest is not None
    assert len(res.changes.cells) == fewest


def test_rebalance_keeps_nesting_and_rejects_bad_input() -> None:
    cells = squares(8, 4)
    cells = gc.code(
        cells.assign(community_code=np.where(cells.geometry.centroid.x < 400, "001", "002")).drop(
            columns="cell_code"
        )
    )
    plan = grids.build(cells, n=4, weight="load", progress=False)
    res = grids.rebalance(plan, grids=plan.grids["grid_code"].tolist())
    out = res.plan.cells
    assert (
        out["grid_code"].str[:12] == out["admin_code"] + out["street_code"] + out["community_code"]
    ).all()
    with pytest.raises(PlanError, match="at least two"):
        grids.rebalance(plan, grids=[plan.grids["grid_code"].iloc[0]])
    with pytest.raises(ValueError, match="tolerance"):
        grids.rebalance(plan, grids=plan.grids["grid_code"].tolist(), tolerance=2)


def test_islands_join_nearest_grid_of_their_community() -> None:
    cells = squares(6, 3)
    # an island: a detached square of the same community east of the block
    island = gpd.GeoDataFrame(geometry=[box(800, 0, 900, 100)], crs=cells.crs).assign(
        **CODES, load=5.0
    )
    cells = gc.code(
        gpd.GeoDataFrame(
            pd.concat([cells.drop(columns="cell_code"), island], ignore_index=True), crs=cells.crs
        )
    )
    own = grids.build(cells, n=3, weight="load", progress=False)
    assert len(own.grids) == 3 and len(own.summary.islands) == 1
    joined = grids.build(cells, n=3, weight="load", islands="join", progress=False)
    assert len(joined.grids) == 3
    codes = joined.cells["grid_code"]
    island_code = codes.iloc[-1]
    # nearest grid: the one holding the block's cell nearest to the island
    nearest = joined.cells.geometry.iloc[:-1].distance(island.geometry.iloc[0]).idxmin()
    assert island_code == codes.loc[nearest]
    assert joined.summary.non_contiguous == (island_code,)
    assert any("joined" in n for n in joined.summary.notes)
    with pytest.raises(ValueError, match="islands"):
        grids.build(cells, n=3, islands="merge", progress=False)  # type: ignore[arg-type]


def test_build_reports_overlapping_cells() -> None:
    cells = squares(4, 2)
    overlapping = cells.copy()
    overlapping.loc[overlapping.index[1], "geometry"] = box(50, 0, 200, 100)  # over cell 0
    plan = grids.build(overlapping, n=2, progress=False)
    note = [n for n in plan.summary.notes if "overlap" in n]
    assert len(note) == 1 and "rows 0, 1" in note[0] and "5,000.0 m²" in note[0]
    clean = grids.build(cells, n=2, progress=False)
    assert not any("overlap" in n for n in clean.summary.notes)
