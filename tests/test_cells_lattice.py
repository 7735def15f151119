"""Nested lattices on real boundaries: small pieces merged, every cell coded, size by count,
refusals before building too many cells, degree-looking coordinates, validate never crashes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import box

import gridgeo as gg
from gridgeo import cells
from gridgeo.cells import _cleanup as _cells_lattice
from gridgeo.errors import CRSError, GeometryError

GK = "EPSG:4547"


@pytest.fixture(scope="module")
def lonlat_city() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The demo district and its 12 communities in lon/lat (boundaries no longer match
    exactly once reprojected: the real-data case that left 1e-8 m² cells)."""
    city = gg.datasets.demo_city()
    return city.district.to_crs(4326), city.communities.to_crs(4326)


@pytest.mark.parametrize(("maker", "size"), [(cells.fishnet, 150.0), (cells.hexagons, 150.0**2)])
def test_nested_lattice_on_lonlat_boundary(maker, size, lonlat_city) -> None:
    district, communities = lonlat_city
    c = maker(district, size, nest=communities)
    cell_area = size**2 if maker is cells.fishnet else size
    assert c.crs.equals(GK)  # the local metric CRS: not reprojected back unless asked
    assert shapely.is_valid(c.geometry.values).all()
    assert (c["area_m2"] >= cell_area / 10).all()  # no piece under the default minimum
    assert c["community_code"].notna().all()
    coded = cells.code(c)
    assert coded["cell_code"].str.fullmatch(r"\d{15}").all()
    report = cells.validate(coded, district, nest=communities, min_area=cell_area / 10)
    assert report.ok, report
    # on request, back in lon/lat and still valid
    back = maker(district, size, nest=communities, output_crs="input")
    assert back.crs.equals(district.crs)
    assert shapely.is_valid(back.geometry.values).all()
    assert len(back) == len(c)


def test_min_area_is_settable(lonlat_city) -> None:
    district, communities = lonlat_city
    loose = cells.fishnet(district, 150, nest=communities, min_area=0)
    strict = cells.fishnet(district, 150, nest=communities, min_area=150**2 / 2)
    assert loose["area_m2"].min() < 150**2 / 10
    assert strict["area_m2"].min() >= 150**2 / 2
    assert len(strict) < len(loose)
    assert strict["area_m2"].sum() == pytest.approx(loose["area_m2"].sum(), rel=1e-9)


def test_small_pieces_join_longest_edge_in_same_community() -> None:
    """Twin check: vectorised merge against the one-at-a-time loop (small pieces apart)."""
    rng = np.random.default_rng(3)
    big = [box(x, y, x + 100, y + 100) for x in range(0, 500, 100) for y in range(0, 300, 100)]
    comm = [int(x >= 200) for x in range(0, 500, 100) for y in range(0, 300, 100)]
    # cut thin strips off some squares; a strip keeps its square's community or none (-1)
    geoms, owner = [], []
    for g, c in zip(big, comm, strict=True):
        if rng.random() < 0.4:
            x0, y0, x1, y1 = g.bounds
            cut = x0 + rng.uniform(3, 12)
            geoms += [box(x0, y0, cut, y1), box(cut, y0, x1, y1)]
            owner += [c if rng.random() < 0.7 else -1, c]
        else:
            geoms.append(g)
            owner.append(c)
    geoms_a, owner_a = np.array(geoms, dtype=object), np.array(owner)
    fast_g, fast_c, rep = _cells_lattice.merge_small(geoms_a, owner_a, 1500.0)
    slow_g, slow_c = _cells_lattice.merge_small_slow(geoms_a, owner_a, 1500.0)
    key = lambda gs, cs: sorted(  # noqa: E731
        (round(g.area, 6), tuple(np.round(g.centroid.coords[0], 6)), int(c))
        for g, c in zip(gs, cs, strict=True)
    )
    assert key(fast_g, fast_c) == key(slow_g, slow_c)
    assert (shapely.area(fast_g) >= 1500).all()
    assert len(rep) == len(fast_g)


def test_target_count_instead_of_size() -> None:
    district = gpd.GeoSeries(
        [shapely.Polygon([(0, 0), (6000, -500), (7800, 3600), (5400, 6600), (-900, 3000)])],
        crs=GK,
    )
    for maker in (cells.fishnet, cells.hexagons):
        c = maker(district, n=1528)
        assert abs(len(c) - 1528) <= 0.01 * 1528
    with pytest.raises(ValueError, match="exactly one of"):
        cells.fishnet(district, 100, n=10)
    with pytest.raises(ValueError, match="exactly one of"):
        cells.fishnet(district)


def test_refuses_too_many_cells_before_building() -> None:
    district = gpd.GeoSeries([box(0, 0, 40_000, 40_000)], crs=GK)
    with pytest.raises(GeometryError, match=r"max_cells=.*larger cells"):
        cells.fishnet(district, 1.0)  # 1.6 billion squares: refused, not built
    with pytest.raises(GeometryError, match="max_cells=1,000"):
        cells.hexagons(district, 1_000_000, max_cells=1_000)
    assert len(cells.fishnet(district, 2000, max_cells=400)) == 400


def test_degree_coordinates_under_metric_crs() -> None:
    wrong = gpd.GeoSeries([box(114.30, 23.00, 114.33, 23.03)], crs=GK)
    with pytest.raises(CRSError, match=r"look like degrees.*set_crs\('EPSG:4326'"):
        cells.fishnet(wrong, 100)
    with pytest.raises(CRSError, match="look like degrees"):
        cells.hexagons(wrong, 10_000)


def test_validate_reports_missing_codes_instead_of_crashing(lonlat_city) -> None:
    district, communities = lonlat_city
    shrunk = communities.to_crs(GK).assign(geometry=lambda f: f.buffer(-3)).to_crs(4326)
    c = cells.fishnet(district, 200, nest=shrunk, min_area=0)
    assert c["community_code"].isna().any()  # cells outside every (shrunk) community
    c["cell_code"] = None
    c.loc[c.index[:3], "cell_code"] = "441302001001001"
    report = cells.validate(c, district, nest=shrunk)
    assert not report.ok
    assert (report.not_nested["reason"] == "missing nesting codes").any()
    assert len(report.duplicate_codes) == 3  # missing codes are not duplicates
    blank = cells.validate(c.assign(cell_code=""), district, nest=shrunk)
    assert len(blank.duplicate_codes) == 0


def test_validate_reports_overlaps() -> None:
    c = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100), box(50, 0, 150, 100)], crs=GK)
    report = cells.validate(c)
    assert len(report.overlaps) == 1 and not report.ok
