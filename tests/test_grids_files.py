"""Grid plans as files: load(save(plan)) == plan, reproducible bytes, atomic, clear errors."""

from __future__ import annotations

import dataclasses
import hashlib

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely import box

import gridgeo as gg
from gridgeo.errors import InputFileError
from gridgeo.grids import build, load_plan, merge, rename, save_plan, split


def _cells(index=None):
    """Two communities; the second has an island (a detached square) so islands is not empty."""
    geoms, comm = [], []
    for y in range(0, 400, 100):
        for x in range(0, 400, 100):
            geoms.append(box(x, y, x + 100, y + 100))
            comm.append("001")
    for x in range(600, 800, 100):
        geoms.append(box(x, 0, x + 100, 100))
        comm.append("002")
    geoms.append(box(1000, 0, 1100, 100))  # island of community 002
    comm.append("002")
    cells = gpd.GeoDataFrame(
        {"admin_code": "441302", "street_code": "001", "community_code": comm},
        geometry=geoms,
        crs="EPSG:4547",
    )
    cells["load"] = [float(i % 5 + 1) for i in range(len(cells))]
    cells["名称"] = [f"单元{i}" for i in range(len(cells))]
    cells = gg.cells.code(cells)
    if index is not None:
        cells.index = index(len(cells))
    return cells


def assert_plans_equal(a, b):
    assert_geodataframe_equal(a.cells, b.cells, check_index_type=True)
    assert_geodataframe_equal(a.grids, b.grids, check_index_type=True)
    pd.testing.assert_series_equal(a.cell_weight, b.cell_weight)
    assert a.settings == b.settings
    for f in dataclasses.fields(a.summary):
        x, y = getattr(a.summary, f.name), getattr(b.summary, f.name)
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y)
        else:
            assert x == y, f.name


@pytest.mark.parametrize(
    "index",
    [
        None,
        lambda n: pd.Index([f"c{i}" for i in range(n)], name="cell"),
        lambda n: range(100, 100 + n),
    ],
    ids=["range", "text", "ints"],
)
def test_round_trip_after_edits(tmp_path, index):
    plan = build(_cells(index), n=6, weight="load", progress=False)
    assert len(plan.summary.islands) == 1
    codes = plan.grids["grid_code"].tolist()
    plan = merge(plan, codes[0], codes[1]).plan
    plan = split(plan, codes[0], 2).plan
    plan = rename(plan, {codes[2]: codes[2][:12] + "050"}).plan
    path = plan.save(tmp_path / "plan.gpkg")
    again = load_plan(path)
    assert_plans_equal(plan, again)
    assert [h["edit"] for h in again.settings["history"]] == ["merge", "split", "rename"]
    # the loaded plan can be edited further and saved again
    edited = split(again, codes[3], 2).plan
    assert len(edited.settings["history"]) == 4
    assert_plans_equal(load_plan(save_plan(edited, tmp_path / "b.gpkg")), edited)


def test_plan_file_layers_and_history_table(tmp_path):
    plan = merge(
        build(_cells(), n=6, progress=False),
        *build(_cells(), n=6, progress=False).grids["grid_code"].tolist()[:2],
    ).plan
    path = save_plan(plan, tmp_path / "plan.gpkg")
    layers = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    assert layers == ["cells", "grids", "summary", "out_of_tolerance", "history", "gridgeo_plan"]
    history = pyogrio.read_dataframe(path, layer="history")
    assert history["edit"].tolist() == ["merge"] and history["step"].tolist() == [1]
    summary = pyogrio.read_dataframe(path, layer="summary").set_index("measure")["value"]
    assert summary["cv"] == pytest.approx(plan.summary.cv)
    # readable as plain layers too
    assert len(gg.io.read_layer(path, layer="grids")) == len(plan.grids)


def test_same_plan_same_bytes(tmp_path):
    plan = build(_cells(), n=6, progress=False)
    a = save_plan(plan, tmp_path / "a.gpkg")
    b = save_plan(load_plan(a), tmp_path / "b.gpkg")
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def test_failed_save_leaves_old_file_and_no_temporary(tmp_path):
    plan = build(_cells(), n=6, progress=False)
    path = save_plan(plan, tmp_path / "plan.gpkg")
    before = path.read_bytes()
    bad = dataclasses.replace(plan, cells=plan.cells.assign(gridgeo_index=1))
    with pytest.raises(InputFileError, match="reserves"):
        save_plan(bad, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.gpkg"]


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        load_plan(tmp_path / "none.gpkg")
    other = tmp_path / "layers.gpkg"
    gg.io.write_layer(_cells(), other, layer="cells")
    with pytest.raises(InputFileError, match="not a gridgeo plan file"):
        load_plan(other)
    with pytest.raises(InputFileError, match="GeoPackage"):
        save_plan(build(_cells(), n=6, progress=False), tmp_path / "plan.shp")


def test_stable_codes_from_a_saved_plan(tmp_path):
    plan = build(_cells(), n=6, progress=False)
    old = load_plan(plan.save(tmp_path / "old.gpkg"))
    again = build(old.cells, n=6, progress=False)
    assert again.grids["grid_code"].tolist() == plan.grids["grid_code"].tolist()
