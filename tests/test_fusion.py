"""gridgeo.fusion: crosswalks, conflicts, alignment, common base, transfers, fused plans."""

from __future__ import annotations

import csv
import html

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

import gridgeo as gg
from gridgeo.errors import (
    ColumnError,
    CoverageError,
    CRSError,
    DuplicateIdError,
    EmptyInputError,
    GeometryError,
    InputFileError,
)
from gridgeo.fusion import _crosswalk

CRS = "EPSG:4547"


# --------------------------------------------------------------------------- systems
@pytest.fixture(scope="module")
def cells():
    city = gg.datasets.demo_city()
    blocks = gg.cells.blocks(
        city.district, barriers=[city.streets, city.rivers], nest=city.communities
    )
    return gg.cells.code(blocks)


@pytest.fixture(scope="module")
def urban(cells):
    """Urban management: 40 grids nested in communities."""
    return gg.grids.build(cells, n=40, progress=False)


@pytest.fixture(scope="module")
def police(cells):
    """Police beats: the same street blocks grouped another way, nested in streets."""
    return gg.grids.build(cells, n=25, within="street", seed=3, progress=False)


def _shift(layer: gpd.GeoDataFrame, dx: float, dy: float) -> gpd.GeoDataFrame:
    out = layer[["grid_code", "geometry"]].copy()
    out["geometry"] = out.geometry.translate(dx, dy)
    return out


def _fishnet_system(seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    squares = [box(x, y, x + 50, y + 50) for y in range(0, 300, 50) for x in range(0, 300, 50)]
    frame = gpd.GeoDataFrame(
        {"grid_code": [f"g{k}" for k in rng.integers(0, 4, len(squares))]},
        geometry=squares,
        crs=CRS,
    )
    out = frame.dissolve("grid_code").reset_index().explode(index_parts=False)
    out["grid_code"] = [f"{c}_{k}" for k, c in enumerate(out["grid_code"])]
    return out.reset_index(drop=True)


_MM = st.integers(-900, 900).map(lambda v: v / 1000)  # shifts in millimetres


@pytest.fixture(scope="module")
def hairline(urban):
    """The urban grids redrawn 0.4 m off: hairline slivers against the original."""
    return _shift(urban.grids, 0.4, -0.3)


@pytest.fixture(scope="module")
def gcj_police(police):
    """The police beats as an Amap export: GCJ-02 lon/lat with 6 decimals (~0.1 m), marked."""
    ll = police.grids[["grid_code", "geometry"]].to_crs(4326)

    def to_gcj(xy):
        lon, lat = gg.crs.convert(xy[:, 0], xy[:, 1], "wgs84", "gcj02")
        return np.round(np.column_stack([lon, lat]), 6)

    out = ll.set_geometry(shapely.transform(ll.geometry.values, to_gcj), crs=4326)
    out.attrs["coordinate_system"] = "gcj02"
    return out


@pytest.fixture(scope="module")
def holey(urban):
    """Urban grids with a lake cut out of one grid (a hole) and two far grids sharing a code
    (an island)."""
    g = urban.grids[["grid_code", "geometry"]].copy().reset_index(drop=True)
    areas = g.area.to_numpy()
    big = int(np.argmax(areas))
    lake = shapely.buffer(shapely.point_on_surface(g.geometry.iloc[big]), 120.0)
    lake = shapely.intersection(lake, g.geometry.iloc[big].buffer(-30))
    g.loc[big, "geometry"] = g.geometry.iloc[big].difference(lake)
    first = g.geometry.iloc[0]
    far = int(np.argmax(g.distance(first).to_numpy()))
    g.loc[0, "geometry"] = shapely.union(first, g.geometry.iloc[far])
    g = g.drop(index=far).reset_index(drop=True)
    assert g.geometry.iloc[0].geom_type == "MultiPolygon"
    assert shapely.get_num_interior_rings(g.geometry.iloc[big - (big > far)]) == 1
    return g, float(shapely.area(lake))


def _snapshot(layer):
    return layer.copy(deep=True)


# --------------------------------------------------------------------------- crosswalk
def _shares_sum_to_one(cw):
    t = cw.table
    for col, share in (("a_code", "share_of_a"), ("b_code", "share_of_b")):
        sums = t.groupby(col)[share].sum().to_numpy()
        np.testing.assert_allclose(sums, 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("other", ["police", "hairline", "gcj_police", "holey"])
def test_crosswalk_shares_sum_to_one(urban, other, request):
    b = request.getfixturevalue(other)
    b = b[0] if isinstance(b, tuple) else b
    cw = gg.fusion.crosswalk(urban, b)
    _shares_sum_to_one(cw)
    assert cw.crs.to_epsg() == 4547
    assert (cw.table["area_m2"] >= cw.tolerance_m2).all()
    covered = cw.table.groupby("a_code")["area_m2"].sum()
    a = cw.a_grids.set_index("code")
    np.testing.assert_allclose(covered.to_numpy(), a.loc[covered.index, "covered_m2"])


def test_crosswalk_fast_equals_slow_twin(urban, hairline):
    args = {"tolerance_m2": 0.5, "a_code": "grid_code", "b_code": "grid_code", "names": ("A", "B")}
    fast = _crosswalk.build_crosswalk(urban, hairline, **args)
    slow = _crosswalk.build_crosswalk(urban, hairline, slow=True, **args)
    pd.testing.assert_frame_equal(fast.to_frame(), slow.to_frame(), check_exact=True)
    assert shapely.equals_exact(fast.table.geometry.values, slow.table.geometry.values, 0).all()
    assert (fast.n_slivers, fast.sliver_area_m2) == (slow.n_slivers, slow.sliver_area_m2)
    pd.testing.assert_frame_equal(fast.a_grids, slow.a_grids, check_exact=True)


def test_crosswalk_matches_geopandas_overlay(urban, police):
    cw = gg.fusion.crosswalk(urban, police, tolerance_m2=0)
    peer = gpd.overlay(
        urban.grids[["grid_code", "geometry"]],
        police.grids[["grid_code", "geometry"]],
        how="intersection",
        keep_geom_type=True,
    )
    peer = peer.assign(area=peer.area).groupby(["grid_code_1", "grid_code_2"])["area"].sum()
    peer = peer[peer > 0]
    ours = cw.table.set_index(["a_code", "b_code"])["area_m2"]
    assert set(ours.index) == set(peer.index)
    np.testing.assert_allclose(ours.loc[peer.index].to_numpy(), peer.to_numpy(), rtol=1e-9)


def test_crosswalk_share_is_over_covered_area_not_grid_area():
    # a1 is half covered by B: its share in b1 is 1 (covered area), not 0.5 (grid area)
    a = gpd.GeoDataFrame(
        {"grid_code": ["a1", "a2"]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=CRS
    )
    b = gpd.GeoDataFrame(
        {"code": ["b1", "b2"]}, geometry=[box(50, 0, 130, 100), box(130, 0, 300, 100)], crs=CRS
    )
    cw = gg.fusion.crosswalk(a, b, b_code="code")
    got = cw.to_frame().set_index(["a_code", "b_code"])
    assert got.loc[("a1", "b1"), "share_of_a"] == 1.0
    assert got.loc[("a2", "b1"), "share_of_a"] == pytest.approx(0.3)
    assert got.loc[("a2", "b1"), "share_of_b"] == pytest.approx(3000 / 8000)
    assert cw.b_grids["covered_share"].round(6).tolist() == [1.0, round(7000 / 17000, 6)]


def test_crosswalk_counts_hairline_slivers(urban, hairline):
    everything = gg.fusion.crosswalk(urban, hairline, tolerance_m2=0)
    cw = gg.fusion.crosswalk(urban, hairline, tolerance_m2=200.0)
    assert cw.n_slivers > 0
    assert len(cw.table) + cw.n_slivers == len(everything.table)
    total = everything.table["area_m2"].sum()
    assert cw.table["area_m2"].sum() + cw.sliver_area_m2 == pytest.approx(total, rel=1e-12)
    same = cw.table[cw.table["a_code"] == cw.table["b_code"]]
    assert len(same) == 40 and (same["share_of_a"] > 0.99).all()


def test_crosswalk_gcj02_copy_equals_the_original(urban, police, gcj_police):
    ref = gg.fusion.crosswalk(urban, police).to_frame().set_index(["a_code", "b_code"])
    got = gg.fusion.crosswalk(urban, gcj_police).to_frame().set_index(["a_code", "b_code"])
    big = ref[ref["area_m2"] > 100].index
    assert set(big) <= set(got.index)
    # 6-decimal lon/lat moves vertices by up to ~0.06 m: areas agree to a few 1e-4
    np.testing.assert_allclose(
        got.loc[big, "area_m2"].to_numpy(), ref.loc[big, "area_m2"].to_numpy(), rtol=2e-3
    )
    # without the marker the same coordinates are read as WGS 84: hundreds of metres off
    unmarked = gcj_police.copy()
    unmarked.attrs = {}
    off = gg.fusion.crosswalk(urban, unmarked).to_frame().set_index(["a_code", "b_code"])
    assert not np.allclose(off.reindex(big)["area_m2"].fillna(0), ref.loc[big, "area_m2"], 1e-2)


def test_crosswalk_other_crs_and_plan_inputs(urban, police):
    ref = gg.fusion.crosswalk(urban.grids, police.grids).to_frame()
    wgs = gg.fusion.crosswalk(urban, police.grids.to_crs(4326)).to_frame()
    assert len(wgs) == len(ref)
    np.testing.assert_allclose(wgs["area_m2"], ref["area_m2"], rtol=1e-6, atol=1e-3)
    # A in lon/lat: the work is done in its local metric CRS (the same zone here)
    lonlat = gg.fusion.crosswalk(urban.grids.to_crs(4326), police)
    assert lonlat.crs.to_epsg() == 4547


def test_crosswalk_does_not_modify_inputs(urban, gcj_police):
    a, b = _snapshot(urban.grids), _snapshot(gcj_police)
    gg.fusion.crosswalk(urban.grids, gcj_police)
    gg.fusion.conflicts(urban.grids, gcj_police)
    gg.fusion.align(urban.grids, gcj_police, tolerance=0.5)
    gg.fusion.common_base(urban.grids, gcj_police)
    pd.testing.assert_frame_equal(a, urban.grids)
    pd.testing.assert_frame_equal(b, gcj_police)
    assert gcj_police.attrs["coordinate_system"] == "gcj02"


def _squares():
    return gpd.GeoDataFrame(
        {"grid_code": ["a1", "a2"]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=CRS
    )


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        (lambda g: g.drop(columns="grid_code"), ColumnError, "'grid_code'"),
        (lambda g: g.assign(grid_code=["a1", "a1"]), DuplicateIdError, "'a1'"),
        (lambda g: g.assign(grid_code=["a1", None]), ColumnError, "row(s) 1"),
        (lambda g: g.set_crs(None, allow_override=True), CRSError, "b has no CRS"),
        (lambda g: g.iloc[:0], EmptyInputError, "b is empty"),
        (lambda g: g.set_geometry(g.centroid), GeometryError, "Polygon"),
        (
            lambda g: g.set_geometry(
                [shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), box(0, 0, 1, 1)]
            ),
            GeometryError,
            "invalid",
        ),
        (lambda g: "not a layer", TypeError, "GeoDataFrame"),
    ],
)
def test_crosswalk_validates_b(change, error, words):
    with pytest.raises(error, match=None) as info:
        gg.fusion.crosswalk(_squares(), change(_squares()))
    assert words in str(info.value)


def test_crosswalk_option_errors():
    with pytest.raises(ValueError, match="tolerance_m2"):
        gg.fusion.crosswalk(_squares(), _squares(), tolerance_m2=-1)
    with pytest.raises(ValueError, match="names"):
        gg.fusion.crosswalk(_squares(), _squares(), names=("only one",))
    with pytest.raises(ColumnError, match="'code'"):
        gg.fusion.crosswalk(_squares(), _squares(), a_code="code")


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 50), dx=_MM, dy=_MM)
def test_crosswalk_invariants(seed, dx, dy):
    a = _fishnet_system(seed)
    b = _shift(_fishnet_system(seed + 1), dx, dy)
    args = {"tolerance_m2": 0.5, "a_code": "grid_code", "b_code": "grid_code", "names": ("A", "B")}
    fast = _crosswalk.build_crosswalk(a, b, **args)
    slow = _crosswalk.build_crosswalk(a, b, slow=True, **args)
    pd.testing.assert_frame_equal(fast.to_frame(), slow.to_frame(), check_exact=True)
    _shares_sum_to_one(fast)
    # kept pairs and slivers together hold the whole overlap of the two systems
    overlap = shapely.area(
        shapely.intersection(
            shapely.union_all(a.geometry.values), shapely.union_all(b.geometry.values)
        )
    )
    kept = fast.table["area_m2"].sum() + fast.sliver_area_m2
    assert kept == pytest.approx(overlap, rel=1e-9)


# --------------------------------------------------------------------------- conflicts
def _moved_plan(plan):
    """The plan with one boundary cell of a grid moved to its neighbour: a built-in conflict."""
    cells = plan.cells
    for code in plan.grids["grid_code"]:
        mine = cells[cells["grid_code"] == code]
        for _, cell in mine.iterrows():
            touching = cells[
                (cells["grid_code"] != code)
                & (cells["grid_code"].str[:12] == code[:12])
                & (cells.geometry.intersection(cell.geometry).length > 1)
            ]
            if touching.empty:
                continue
            try:
                new, _ = gg.grids.move(plan, cell["cell_code"], to=touching["grid_code"].iloc[0])
            except gg.errors.PlanError:
                continue
            return new, code, touching["grid_code"].iloc[0], float(cell.geometry.area)
    raise AssertionError("no movable cell")


def test_conflicts_find_the_built_in_split(urban):
    moved, donor, receiver, area = _moved_plan(urban)
    share = area / float(urban.grids.set_index("grid_code").loc[donor, "area_m2"])
    found = gg.fusion.conflicts(urban, moved, min_share=share / 2, names=("old", "new"))
    t = found.table
    assert len(t) == 2
    rows = {(r.system, r.code): r for r in t.itertuples()}
    old = rows[("old", donor)]
    assert old.kind == "split" and old.n_partners == 2
    assert old.partners.split(";") == [donor, receiver] and old.main_partner == donor
    assert old.conflict_area_m2 == pytest.approx(area, rel=1e-9)
    assert (
        donor in old.reason and receiver in old.reason and "split across 2 new grids" in old.reason
    )
    new = rows[("new", receiver)]
    assert new.kind == "split" and new.conflict_area_m2 == pytest.approx(area, rel=1e-9)
    assert shapely.area(t.geometry).round(3).tolist() == [round(area, 3)] * 2
    # above the cell's share nothing is in conflict
    assert len(gg.fusion.conflicts(urban, moved, min_share=min(0.99, share * 1.5)).table) == 0


def test_conflicts_ranked_by_area_with_reasons(urban, police):
    found = gg.fusion.conflicts(urban, police, names=("城管", "公安"))
    t = found.table
    assert len(t) > 10
    assert t["rank"].tolist() == list(range(1, len(t) + 1))
    assert (np.diff(t["conflict_area_m2"].to_numpy()) <= 0).all()
    assert set(t["system"]) == {"城管", "公安"} and set(t["kind"]) == {"split"}
    assert t["reason"].str.contains("split across").all()
    np.testing.assert_allclose(shapely.area(t.geometry.values), t["conflict_area_m2"], rtol=1e-9)
    # the independent rule: a grid is split when >= 2 partners hold >= 5 % of it
    cw = gg.fusion.crosswalk(urban, police)
    big = cw.table[cw.table["share_of_a"] >= 0.05].groupby("a_code").size()
    expected = set(big[big >= 2].index)
    assert set(t.loc[t["system"] == "城管", "code"]) == expected


def test_conflicts_report_uncovered_parts(urban, holey):
    layer, lake = holey
    found = gg.fusion.conflicts(urban, layer, min_share=0.01)
    hole = found.table[found.table["kind"] == "uncovered"]
    assert len(hole) == 1 and hole["system"].iloc[0] == "A"
    assert hole["conflict_area_m2"].iloc[0] == pytest.approx(lake, rel=1e-6)
    assert "lies in no B grid" in hole["reason"].iloc[0]


def test_conflicts_options_and_reprs(urban, police):
    with pytest.raises(ValueError, match="min_share"):
        gg.fusion.conflicts(urban, police, min_share=1.5)
    cw = gg.fusion.crosswalk(urban, police, names=("<b>x</b>", "B"))
    found = cw.conflicts()
    assert "<b>x</b>" not in found._repr_html_().replace("<b>Conflicts", "")
    assert "Conflicts(" in repr(found) and "Crosswalk(" in repr(cw)
    assert "&lt;b&gt;x&lt;/b&gt;" in cw._repr_html_()


# --------------------------------------------------------------------------- align
def _coverage_ok(res, before):
    geoms = res.grids.geometry.values
    assert res.valid_coverage and bool(shapely.coverage_is_valid(geoms))
    assert res.overlap_m2 == pytest.approx(0, abs=1e-6)
    union = shapely.union_all(geoms)
    assert shapely.area(geoms).sum() == pytest.approx(shapely.area(union), rel=1e-12)
    assert res.holes_after == res.holes_before == before


def test_align_hairline_copy_onto_original(urban, hairline):
    res = gg.fusion.align(hairline, urban, tolerance=1.0)
    _coverage_ok(res, 0)
    assert res.slivers_before > 0 and res.slivers_after == 0
    assert (res.moves["moved_vertices"] > 0).all()
    assert (res.moves["max_shift_m"] <= 1.0 + 1e-9).all()
    cw = gg.fusion.crosswalk(res.grids, urban, tolerance_m2=1e-4)
    assert len(cw.table) == 40 and (cw.table["a_code"] == cw.table["b_code"]).all()
    assert res.grids.index.equals(hairline.index)
    assert "Alignment(" in repr(res) and res._repr_html_()


def test_align_keeps_holes_and_islands(holey, hairline):
    layer, _ = holey
    res = gg.fusion.align(layer, hairline, tolerance=1.0)
    _coverage_ok(res, 1)
    assert res.grids.geometry.iloc[0].geom_type == "MultiPolygon"
    assert res.collapsed == ()


def test_align_gcj02_copy_back_onto_the_beats(police, gcj_police):
    res = gg.fusion.align(gcj_police, police, tolerance=0.5)
    _coverage_ok(res, 0)
    assert res.crs.to_epsg() == 4547
    assert res.slivers_before > 0 and res.slivers_after == 0
    # the rounding slivers are gone: each beat overlaps only itself (beyond 0.01 m²)
    before = gg.fusion.crosswalk(gcj_police, police, tolerance_m2=0.01)
    cw = gg.fusion.crosswalk(res.grids, police, tolerance_m2=0.01)
    assert len(before.table) > 25
    assert len(cw.table) == 25 and (cw.table["a_code"] == cw.table["b_code"]).all()


def test_align_refuses_overlapping_grids():
    a = gpd.GeoDataFrame(
        {"grid_code": ["a1", "a2"]}, geometry=[box(0, 0, 110, 100), box(100, 0, 200, 100)], crs=CRS
    )
    with pytest.raises(CoverageError, match="not a valid coverage"):
        gg.fusion.align(a, _squares(), tolerance=1.0)
    with pytest.raises(ValueError, match="tolerance"):
        gg.fusion.align(_squares(), _squares(), tolerance=0)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 50), dx=_MM, dy=_MM)
def test_align_invariants(seed, dx, dy):
    b = _fishnet_system(seed)
    a = _shift(_fishnet_system(seed + 1), dx, dy)
    res = gg.fusion.align(a, b, tolerance=1.0)
    _coverage_ok(res, res.holes_before)
    assert res.slivers_after == 0
    assert (res.moves["max_shift_m"] <= np.hypot(dx, dy) + 1e-9).all()


# --------------------------------------------------------------------------- common base
def _rebuild_error(base, name, original):
    rebuilt = base.rebuild(name).set_index("grid_code")
    orig = original.to_crs(base.crs).set_index("grid_code")
    assert set(rebuilt.index) == set(orig.index)
    diff = shapely.symmetric_difference(
        rebuilt.geometry.values, orig.loc[rebuilt.index].geometry.values
    )
    return shapely.area(diff)


def test_common_base_rebuilds_every_system_exactly(urban, police, holey, gcj_police):
    layer, _ = holey
    shifted = _shift(police.grids, 7.0, -4.0)
    systems = {"urban": urban.grids, "police": gcj_police, "shifted": shifted, "holey": layer}
    base = gg.fusion.common_base(*systems.values(), names=list(systems), min_area=0)
    assert base.n_slivers_merged == 0 and (base.merged["area_reassigned_m2"] == 0).all()
    for name, original in systems.items():
        if name == "police":  # the GCJ-02 copy, back in real coordinates
            original = gg.crs.from_declared(original, "gcj02")
        err = _rebuild_error(base, name, original)
        assert err.max() < 1e-3, name  # m², for grids of ~300,000 m²
    geoms = base.cells.geometry.values
    assert shapely.area(geoms).sum() == pytest.approx(shapely.area(shapely.union_all(geoms)))
    assert base.cells["cell_code"].is_unique and base.coding == "sequence"
    assert base.cells["cell_code"].str.fullmatch(r"\d{6}").all()


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 50), dx=_MM, dy=_MM)
def test_common_base_rebuild_invariant(seed, dx, dy):
    a = _fishnet_system(seed)
    b = _shift(_fishnet_system(seed + 1), dx, dy)
    base = gg.fusion.common_base(a, b, min_area=0)
    for name, original in (("A", a), ("B", b)):
        assert _rebuild_error(base, name, original).max() < 1e-6
    geoms = base.cells.geometry.values
    assert shapely.area(geoms).sum() == pytest.approx(shapely.area(shapely.union_all(geoms)))


def test_common_base_matches_geopandas_union_overlay(urban, police):
    base = gg.fusion.common_base(urban, police, names=["u", "p"], min_area=0)
    ours = base.cells.groupby(["u", "p"])["area_m2"].sum()
    peer = gpd.overlay(
        urban.grids[["grid_code", "geometry"]],
        police.grids[["grid_code", "geometry"]],
        how="union",
        keep_geom_type=True,
    )
    peer = peer.assign(a=peer.area).groupby(["grid_code_1", "grid_code_2"])["a"].sum()
    peer = peer[peer > 1e-6]
    assert set(ours.index) == set(peer.index)
    np.testing.assert_allclose(ours.loc[peer.index].to_numpy(), peer.to_numpy(), rtol=1e-7)


def test_common_base_db11_codes_from_the_nested_system(urban, police):
    base = gg.fusion.common_base(urban, police, names=["u", "p"])
    assert base.coding == "DB11"
    codes = base.cells["cell_code"]
    assert codes.str.fullmatch(r"\d{15}").all() and codes.is_unique
    assert (codes.str[:12] == base.cells["u"].str[:12]).all()
    assert "CommonBase(" in repr(base) and base._repr_html_()


def test_common_base_sliver_rule():
    a = gpd.GeoDataFrame(
        {"grid_code": ["a1", "a2"]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=CRS
    )
    b1 = shapely.union(box(0, 0, 100, 100), box(100, 0, 100.2, 50))
    b2 = shapely.difference(box(100, 0, 200, 100), box(100, 0, 100.2, 50))
    b = gpd.GeoDataFrame({"grid_code": ["b1", "b2"]}, geometry=[b1, b2], crs=CRS)
    kept = gg.fusion.common_base(a, b, min_area=0)
    assert len(kept.cells) == 3
    # the 10 m² sliver (a2, b1) touches (a1, b1) along 50 m and (a2, b2) along 50.2 m: both
    # agree with it in one system, so the longer edge wins and B loses 10 m² to b2
    base = gg.fusion.common_base(a, b, min_area=50)
    assert len(base.cells) == 2 and base.n_slivers_merged == 1
    assert sorted(zip(base.cells["A"], base.cells["B"], strict=True)) == [
        ("a1", "b1"),
        ("a2", "b2"),
    ]
    merged = base.merged.set_index("system")
    assert merged.loc["A", "slivers_merged"] == 0
    assert merged.loc["B", "area_reassigned_m2"] == pytest.approx(10.0)
    assert _rebuild_error(base, "A", a).max() < 1e-6
    assert _rebuild_error(base, "B", b).sum() == pytest.approx(2 * 10.0)


def test_common_base_sliver_rule_prefers_agreement_over_edge():
    # a third system C puts the sliver with a1: (a1, b1, c1) now agrees with it in B and C
    a = gpd.GeoDataFrame(
        {"grid_code": ["a1", "a2"]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=CRS
    )
    b1 = shapely.union(box(0, 0, 100, 100), box(100, 0, 100.2, 50))
    b2 = shapely.difference(box(100, 0, 200, 100), box(100, 0, 100.2, 50))
    b = gpd.GeoDataFrame({"grid_code": ["b1", "b2"]}, geometry=[b1, b2], crs=CRS)
    c = gpd.GeoDataFrame({"grid_code": ["c1", "c2"]}, geometry=[b1, b2], crs=CRS)
    base = gg.fusion.common_base(a, b, c, min_area=50)
    assert sorted(map(tuple, base.cells[["A", "B", "C"]].to_numpy().tolist())) == [
        ("a1", "b1", "c1"),
        ("a2", "b2", "c2"),
    ]
    merged = base.merged.set_index("system")
    assert merged.loc["A", "area_reassigned_m2"] == pytest.approx(10.0)
    assert merged.loc["B", "slivers_merged"] == 0


def test_common_base_option_errors():
    with pytest.raises(ValueError, match="at least two"):
        gg.fusion.common_base(_squares())
    with pytest.raises(ValueError, match="clash"):
        gg.fusion.common_base(_squares(), _squares(), names=["cell_code", "x"])
    with pytest.raises(ValueError, match="distinct"):
        gg.fusion.common_base(_squares(), _squares(), names=["x", "x"])
    with pytest.raises(ColumnError, match=r"systems\[1\]"):
        gg.fusion.common_base(_squares(), _squares().rename(columns={"grid_code": "c"}))
    with pytest.raises(KeyError, match="not a system"):
        gg.fusion.common_base(_squares(), _squares()).rebuild("Z")


# --------------------------------------------------------------------------- transfer
def _transfer_slow(values, cw, extensive, intensive):
    """Row-by-row twin of the area-weighted formulas."""
    t = cw.to_frame()
    v = values.set_index("grid_code")
    rows = []
    for target in cw.b_grids["code"]:
        row = {"grid_code": target}
        mine = t[t["b_code"] == target]
        for c in extensive:
            total = 0.0
            for r in mine.itertuples():
                covered = t.loc[t["a_code"] == r.a_code, "area_m2"].sum()
                total += v.at[r.a_code, c] * r.area_m2 / covered
            row[c] = total
        for c in intensive:
            den = mine["area_m2"].sum()
            num = sum(v.at[r.a_code, c] * r.area_m2 for r in mine.itertuples())
            row[c] = num / den if den > 0 else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def figures(urban):
    rng = np.random.default_rng(7)
    n = len(urban.grids)
    return pd.DataFrame(
        {
            "grid_code": urban.grids["grid_code"].to_numpy(),
            "cases": rng.integers(0, 200, n).astype(float),
            "rate": rng.uniform(0, 5, n),
        }
    )


def test_transfer_area_equals_row_by_row_twin(urban, police, figures):
    cw = gg.fusion.crosswalk(urban, police)
    got = gg.fusion.transfer(figures, cw, extensive=["cases"], intensive=["rate"])
    want = _transfer_slow(figures, cw, ["cases"], ["rate"])
    np.testing.assert_allclose(got["cases"], want["cases"], rtol=1e-12)
    np.testing.assert_allclose(got["rate"], want["rate"], rtol=1e-12)
    assert got["cases"].sum() == pytest.approx(figures["cases"].sum(), rel=1e-12)


def test_transfer_area_matches_tobler(urban, police, figures):
    from tobler.area_weighted import area_interpolate

    cw = gg.fusion.crosswalk(urban, police, tolerance_m2=0)
    got = gg.fusion.transfer(figures, cw, extensive=["cases"], intensive=["rate"])
    src = urban.grids[["grid_code", "geometry"]].merge(figures, on="grid_code")
    peer = area_interpolate(
        src, police.grids[["geometry"]], extensive_variables=["cases"], intensive_variables=["rate"]
    )
    # tobler stores the shared areas as float32: estimates agree to ~1e-7 relative
    np.testing.assert_allclose(got["cases"], peer["cases"], rtol=1e-6)
    np.testing.assert_allclose(got["rate"], peer["rate"], rtol=1e-6)


@pytest.fixture(scope="module")
def points(urban):
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = urban.grids.total_bounds
    xy = rng.uniform([minx, miny], [maxx, maxy], size=(4000, 2))
    pts = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=urban.grids.crs)
    inside = pts.within(shapely.union_all(urban.grids.geometry.values))
    pts = pts[inside].reset_index(drop=True)
    missing = gpd.GeoDataFrame(geometry=[None, None], crs=urban.grids.crs)
    return pd.concat([pts, missing], ignore_index=True)


def test_transfer_exact_equals_spatial_join_recount(urban, police, points):
    cw = gg.fusion.crosswalk(urban, police, tolerance_m2=0)
    got = gg.fusion.transfer(None, cw, how="reports", reports=points.to_crs(4326))
    located = points[points.geometry.notna()]
    joined = gpd.sjoin(located, police.grids[["grid_code", "geometry"]], predicate="within")
    peer = joined.groupby("grid_code").size().reindex(got["grid_code"], fill_value=0)
    assert got["count"].tolist() == peer.tolist()
    assert got.attrs["n_unlocated"] == 2 and got.attrs["n_outside"] == 0
    assert got["count"].sum() == len(located)


def test_transfer_exact_follows_the_assignment(urban, police, points):
    located = points[points.geometry.notna()].reset_index(drop=True)
    own = gpd.sjoin(located, urban.grids[["grid_code", "geometry"]], predicate="within")
    reports = located.assign(grid_code=own["grid_code"].reindex(located.index).to_numpy())
    cw = gg.fusion.crosswalk(urban, police, tolerance_m2=0)
    got = gg.fusion.transfer(None, cw, how="reports", reports=reports, report_code="grid_code")
    plain = gg.fusion.transfer(None, cw, how="reports", reports=reports)
    assert got["count"].tolist() == plain["count"].tolist()


def test_transfer_area_equals_exact_when_systems_nest(urban, points):
    # communities: urban grids nest in them, so moving counts by area is exact
    comm = urban.grids.dissolve("community_code").reset_index()[["community_code", "geometry"]]
    counts = gpd.sjoin(points.dropna(), urban.grids[["grid_code", "geometry"]], predicate="within")
    values = (
        (counts.groupby("grid_code").size().reindex(urban.grids["grid_code"], fill_value=0))
        .rename("n")
        .reset_index()
    )
    cw = gg.fusion.crosswalk(urban, comm, b_code="community_code")
    by_area = gg.fusion.transfer(values, cw, extensive=["n"])
    exact = gg.fusion.transfer(None, cw, how="reports", reports=points)
    np.testing.assert_allclose(by_area["n"], exact["count"], rtol=1e-9)


def test_transfer_errors(urban, police, figures):
    cw = gg.fusion.crosswalk(urban, police)
    with pytest.raises(ValueError, match="nothing to transfer"):
        gg.fusion.transfer(figures, cw)
    with pytest.raises(ColumnError, match="'nope'"):
        gg.fusion.transfer(figures, cw, extensive=["nope"])
    with pytest.raises(ColumnError, match="not grids"):
        gg.fusion.transfer(figures, cw, extensive=["cases"], direction="b_to_a")
    bad = figures.assign(cases=["x"] * len(figures))
    with pytest.raises(ColumnError, match="must hold numbers"):
        gg.fusion.transfer(bad, cw, extensive=["cases"])
    with pytest.raises(ValueError, match="needs reports"):
        gg.fusion.transfer(None, cw, how="reports")
    with pytest.raises(ValueError, match="how must be"):
        gg.fusion.transfer(figures, cw, how="magic", extensive=["cases"])
    with pytest.raises(GeometryError, match="Point"):
        gg.fusion.transfer(None, cw, how="reports", reports=urban.grids)


# --------------------------------------------------------------------------- fused plan
@pytest.fixture(scope="module")
def base(cells, urban, police):
    blocks = cells[["cell_code", "geometry"]]
    return gg.fusion.common_base(
        urban,
        police,
        blocks,
        names=["urban", "police", "blocks"],
        codes=["grid_code"] * 2 + ["cell_code"],
    )


def test_fused_plan_never_crosses_respected_boundaries(base):
    fused = gg.fusion.fused_plan(base, n=45, respect=["police"])
    cells = fused.plan.cells
    per_grid = cells.groupby("grid_code")["police"].nunique()
    assert (per_grid == 1).all()
    assert not fused.plan.summary.non_contiguous
    assert (
        cells["grid_code"].is_unique is False and cells["grid_code"].str.fullmatch(r"\d{15}").all()
    )
    s = fused.survivors.set_index("system")
    assert s.loc["police", "respected"] and not s.loc["urban", "respected"]
    assert "FusedPlan(" in repr(fused) and fused._repr_html_()


def test_fused_plan_survivors_count(base):
    # one grid per group of urban grids: every urban grid survives unchanged
    fused = gg.fusion.fused_plan(base, target=1e12, respect=["urban"])
    s = fused.survivors.set_index("system")
    assert s.loc["urban", "unchanged"] == s.loc["urban", "n_grids"] == 40
    assert s.loc["urban", "split"] == 0
    # the independent count for police: grids equal to exactly one new grid
    new_of = fused.plan.cells.groupby("police")["grid_code"].agg(set)
    sizes = fused.plan.cells.groupby("grid_code").size()
    own = fused.plan.cells.groupby("police").size()
    same = sum(
        1 for p, codes in new_of.items() if len(codes) == 1 and sizes[next(iter(codes))] == own[p]
    )
    assert s.loc["police", "unchanged"] == same


def test_fused_plan_errors(base):
    with pytest.raises(ValueError, match="unknown system"):
        gg.fusion.fused_plan(base, n=10, respect=["parks"])
    with pytest.raises(ValueError, match="exactly one"):
        gg.fusion.fused_plan(base)
    with pytest.raises(TypeError, match="CommonBase"):
        gg.fusion.fused_plan("base", n=3)


# --------------------------------------------------------------------------- files and map
def test_write_files(tmp_path, urban, police):
    out = tmp_path / "fuse"
    files = gg.fusion.write((urban, police), out, names=("城管", "公安"))
    assert sorted(p.name for p in out.iterdir()) == [
        "conflicts.csv",
        "conflicts.gpkg",
        "crosswalk.csv",
        "crosswalk.gpkg",
    ]
    cw = gg.io.read_layer(files["crosswalk_gpkg"], layer="crosswalk")
    assert len(cw) == len(gg.fusion.crosswalk(urban, police).table)
    with files["conflicts_csv"].open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["rank"] == "1" and "公安" in {r["system"] for r in rows}
    assert "geometry" not in rows[0]
    again = gg.fusion.write(gg.fusion.crosswalk(urban, police), out)
    assert again.keys() == files.keys()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputFileError, match="not a folder"):
        gg.fusion.write((urban, police), tmp_path / "file")
    with pytest.raises(TypeError, match="Crosswalk or a pair"):
        gg.fusion.write(urban, out)


def test_fusion_map_escapes_and_draws_both_systems(urban):
    fusion_map = gg.maps.fusion_map

    evil = urban.grids[["grid_code", "geometry"]].copy()
    evil.loc[evil.index[0], "grid_code"] = "<script>alert(1)</script>"
    moved, *_ = _moved_plan(urban)
    m = fusion_map(gg.fusion.crosswalk(evil, moved, names=("<i>A</i>", "B")), evil, moved)
    page = m.get_root().render()
    assert "<script>alert(1)</script>" not in page and "<i>A</i>" not in page
    # escaped, then JSON-encoded by folium (& as \u0026)
    assert html.escape("<i>A</i>").replace("&", "\\u0026") in page
    assert "#1f5fbf" in page and "#e07b00" in page
    with pytest.raises(TypeError, match="Crosswalk or Conflicts"):
        fusion_map(urban, urban, urban)
