"""Tests for gridgeo.assignment: statuses, the boundary rule, engines, routing, duplicates, Dask."""

from __future__ import annotations

import math
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import Point, Polygon, box

import gridgeo as gg
from gridgeo.assignment import LevelRules, flag_duplicates, route, summary
from gridgeo.assignment._engines import CellLocator, contains_shifted_exact
from gridgeo.errors import ColumnError, CRSError, DuplicateIdError, GeometryError

CRS_GK = "EPSG:4547"  # CGCS2000 GK zone 114E
X0, Y0 = 500_000.0, 2_550_000.0


def fishnet(nx: int = 10, ny: int = 10, size: float = 100.0, x0: float = X0, y0: float = Y0):
    geoms, codes, grids = [], [], []
    for j in range(ny):
        for i in range(nx):
            geoms.append(
                box(x0 + i * size, y0 + j * size, x0 + (i + 1) * size, y0 + (j + 1) * size)
            )
            codes.append(f"C{j:02d}{i:02d}")
            grids.append(f"G{j // 5}{i // 5}")
    return gpd.GeoDataFrame({"cell_code": codes, "grid_code": grids}, geometry=geoms, crs=CRS_GK)


def voronoi_cells(n: int = 60, seed: int = 0, side: float = 1000.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    square = box(0, 0, side, side)
    seeds = shapely.multipoints(rng.uniform(0, side, (n, 2)))
    parts = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=square))
    return shapely.intersection(parts, square)


@pytest.fixture(scope="module")
def net() -> gpd.GeoDataFrame:
    return fishnet()


# ---------------------------------------------------------------------------------------------
# statuses and the result frame
# ---------------------------------------------------------------------------------------------
def _status_reports() -> gpd.GeoDataFrame:
    geoms = [
        Point(X0 + 50, Y0 + 50),  # assigned
        Point(X0 - 5, Y0 + 50),  # 5 m west of the fishnet: snapped with tolerance 10
        Point(X0 - 500, Y0 + 50),  # outside
        Point(math.inf, Y0),  # invalid
        None,  # missing
        Point(X0 + 1000, Y0 + 1000),  # the fishnet's NE corner: covered by one cell only
    ]
    return gpd.GeoDataFrame(
        {"name": list("abcdef"), "category_code": ["E0101"] * 6},
        geometry=geoms,
        index=[10, 3, 7, 99, 5, 1],
        crs=CRS_GK,
    )


def test_every_status_order_index_crs(net):
    reports = _status_reports()
    before = reports.copy()
    out = gg.assign(reports, net, tolerance=10)
    assert out["status"].astype(str).tolist() == [
        "assigned",
        "snapped",
        "outside",
        "invalid_coords",
        "missing_coords",
        "assigned",
    ]
    assert out.index.tolist() == [10, 3, 7, 99, 5, 1]
    assert out.crs == reports.crs
    assert out["name"].tolist() == list("abcdef")
    assert out.geometry.equals(reports.geometry)
    assert out["cell_code"].tolist()[:2] == ["C0000", "C0000"]
    assert out["cell_code"].iloc[5] == "C0909" and out["grid_code"].iloc[5] == "G11"
    assert out["distance_m"].iloc[0] == 0 and out["distance_m"].iloc[1] == pytest.approx(5)
    assert np.isnan(out["distance_m"].iloc[2])
    assert pd.isna(out["cell_code"].iloc[2]) and pd.isna(out["grid_code"].iloc[4])
    assert out["reason"].iloc[0] == "" and all(out["reason"].iloc[1:5].str.len() > 5)
    counts = out.attrs["status_counts"]
    assert counts == {
        "assigned": 2,
        "snapped": 1,
        "outside": 1,
        "invalid_coords": 1,
        "missing_coords": 1,
    }
    assert summary(out).to_dict() == counts
    pd.testing.assert_frame_equal(reports, before)  # input untouched


def test_tolerance_zero_means_outside(net):
    out = gg.assign(_status_reports(), net)
    assert out["status"].iloc[1] == "outside"


def test_module_is_callable_both_spellings(net):
    reports = _status_reports()
    a = gg.assign(reports, net, tolerance=10)
    b = gg.assignment.assign(reports, net, tolerance=10)
    pd.testing.assert_frame_equal(a, b)
    assert callable(gg.assign) and callable(gg.assignment.route)


def test_coord_status_and_issue_from_reader(net):
    reports = gpd.GeoDataFrame(
        {
            "coord_status": ["ok", "invalid_coords", "missing_coords"],
            "coord_issue": ["", "lat 123.4 out of range", "empty lng"],
        },
        geometry=[Point(X0 + 1, Y0 + 1), None, None],
        crs=CRS_GK,
    )
    out = gg.assign(reports, net)
    assert out["status"].astype(str).tolist() == ["assigned", "invalid_coords", "missing_coords"]
    assert out["reason"].tolist() == ["", "lat 123.4 out of range", "empty lng"]


def test_empty_and_all_invalid(net):
    empty = gpd.GeoDataFrame({"category_code": []}, geometry=[], crs=CRS_GK)
    out = gg.assign(empty, net)
    assert len(out) == 0 and "cell_code" in out.columns and summary(out).sum() == 0
    bad = gpd.GeoDataFrame(
        geometry=[None, Point(math.nan, 1.0), shapely.LineString([(0, 0), (1, 1)])], crs=CRS_GK
    )
    out = gg.assign(bad, net)
    assert out["status"].astype(str).tolist() == [
        "missing_coords",
        "invalid_coords",
        "invalid_coords",
    ]
    assert out["reason"].iloc[2] == "geometry is not a point"
    assert out.attrs["status_counts"]["assigned"] == 0


def test_reports_in_other_crs_are_reprojected(net):
    centre = gpd.GeoSeries([Point(X0 + 250, Y0 + 750)], crs=CRS_GK).to_crs(4326)
    reports = gpd.GeoDataFrame(geometry=centre.values, crs=4326)
    out = gg.assign(reports, net)
    assert out["cell_code"].iloc[0] == "C0702" and out.crs.to_epsg() == 4326


def test_out_of_range_lonlat_is_invalid(net):
    reports = gpd.GeoDataFrame(geometry=[Point(200.0, 30.0)], crs=4326)
    assert gg.assign(reports, net)["status"].iloc[0] == "invalid_coords"


def test_gcj02_declared_input():
    from gridgeo.crs import convert

    cells = fishnet(nx=20, ny=20, size=100.0)
    centres = cells.geometry.centroid.to_crs(4326)
    lon, lat = convert(centres.x.to_numpy(), centres.y.to_numpy(), "wgs84", "gcj02")
    reports = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    out = gg.assign(reports, cells, crs="gcj02")
    assert (out["cell_code"].to_numpy() == cells["cell_code"].to_numpy()).all()
    naive = gg.assign(reports, cells)  # GCJ-02 taken as WGS 84: shifted by hundreds of metres
    assert (naive["cell_code"].to_numpy() != cells["cell_code"].to_numpy()).mean() > 0.5


def test_bad_inputs_raise_gridgeo_errors(net):
    reports = _status_reports()
    with pytest.raises(ColumnError, match="cell_code"):
        gg.assign(reports, net.drop(columns="cell_code"))
    with pytest.raises(DuplicateIdError):
        gg.assign(reports, net.assign(cell_code="same"))
    with pytest.raises(ValueError, match="tolerance"):
        gg.assign(reports, net, tolerance=-1)
    with pytest.raises(ValueError, match="engine"):
        gg.assign(reports, net, engine="magic")
    with pytest.raises(CRSError, match="crs must be"):
        gg.assign(reports, net, crs="mars")
    with pytest.raises(TypeError, match="GeoDataFrame"):
        gg.assign(pd.DataFrame({"a": [1]}), net)
    with pytest.raises(CRSError):
        gg.assign(reports.set_crs(None, allow_override=True), net)
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    with pytest.raises(GeometryError, match="invalid"):
        gg.assign(reports, gpd.GeoDataFrame({"cell_code": ["x"]}, geometry=[bowtie], crs=CRS_GK))
    with pytest.raises(TypeError, match="grids"):
        gg.assign(reports, net, grids=42)


# ---------------------------------------------------------------------------------------------
# grids
# ---------------------------------------------------------------------------------------------
def test_grids_from_polygons_and_plan(net):
    cells = net.drop(columns="grid_code")
    west = box(X0, Y0, X0 + 500, Y0 + 1000)
    east = box(X0 + 500, Y0, X0 + 1000, Y0 + 1000)
    grids = gpd.GeoDataFrame(
        {"grid_code": ["W", "E"], "owner": ["西片责任单位", "东片责任单位"]},
        geometry=[west, east],
        crs=CRS_GK,
    ).to_crs(4326)
    reports = gpd.GeoDataFrame(
        {"category_code": ["C0101", "C0101"], "owner_known": [False, True]},
        geometry=[Point(X0 + 10, Y0 + 10), Point(X0 + 990, Y0 + 10)],
        crs=CRS_GK,
    )
    out = gg.assign(reports, cells, grids)
    assert out["grid_code"].tolist() == ["W", "E"]
    assert out["department"].tolist() == ["西片责任单位", "水务公司"]
    plan = SimpleNamespace(
        cells=pd.DataFrame({"cell_code": net["cell_code"], "grid_code": "P" + net["grid_code"]})
    )
    out = gg.assign(reports, cells, plan)
    assert out["grid_code"].tolist() == ["PG00", "PG01"]
    assert out["department"].iloc[0] == "网格责任单位(PG00)"


def test_a_grid_plan_stands_for_cells_and_grids(net):
    cells = net.drop(columns="grid_code")
    nest = {"admin_code": "110101", "street_code": "001", "community_code": "001"}
    plan = gg.grids.build(cells.assign(**nest), n=2, progress=False)
    reports = gpd.GeoDataFrame(
        geometry=[Point(X0 + 10, Y0 + 10), Point(X0 + 990, Y0 + 990)], crs=CRS_GK
    )
    via_plan = gg.assign(reports, plan)
    explicit = gg.assign(reports, plan.cells.drop(columns="grid_code"), plan)
    pd.testing.assert_frame_equal(via_plan, explicit)
    assert via_plan["grid_code"].notna().all()
    with pytest.raises(TypeError, match="leave grids=None"):
        gg.assign(reports, plan, plan.grids)


# ---------------------------------------------------------------------------------------------
# the boundary rule
# ---------------------------------------------------------------------------------------------
def _half_open(x: np.ndarray, y: np.ndarray, n: int = 10, size: float = 100.0) -> list:
    """Oracle for the fishnet: [x0, x1) x [y0, y1), the outer east/north edges closed."""
    out = []
    for u, v in zip(x, y, strict=True):
        i, j = math.floor((u - X0) / size), math.floor((v - Y0) / size)
        if u == X0 + n * size:
            i = n - 1
        if v == Y0 + n * size:
            j = n - 1
        out.append(f"C{j:02d}{i:02d}" if 0 <= i < n and 0 <= j < n else None)
    return out


@pytest.mark.parametrize("engine", ["fishnet", "raster", "strtree", "exact"])
def test_fishnet_edges_and_vertices_follow_half_open_rule(net, engine):
    k = np.arange(0, 11) * 100.0
    gx, gy = np.meshgrid(X0 + k, Y0 + np.r_[k, k[:-1] + 50])  # vertices and edge midpoints
    x, y = gx.ravel(), gy.ravel()
    reports = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=CRS_GK)
    out = gg.assign(reports, net, engine=engine)
    expected = _half_open(x, y)
    assert (
        out["cell_code"].astype(object).where(out["cell_code"].notna(), None).tolist() == expected
    )
    # a 4-cell vertex goes to the north-eastern cell, a vertical edge to the eastern cell
    probe = gpd.GeoDataFrame(
        geometry=[Point(X0 + 300, Y0 + 200), Point(X0 + 300, Y0 + 250)], crs=CRS_GK
    )
    assert gg.assign(probe, net, engine=engine)["cell_code"].tolist() == ["C0203", "C0203"]


def test_fan_of_six_triangles_meeting_at_a_vertex():
    ring = np.array([(1, 0), (0.5, 1), (-0.5, 1), (-1, 0), (-0.5, -1), (0.5, -1)], dtype=float)
    tris = [Polygon([(0, 0), tuple(ring[k]), tuple(ring[(k + 1) % 6])]) for k in range(6)]
    cells = gpd.GeoDataFrame(
        {"cell_code": [f"T{k}" for k in range(6)]}, geometry=tris[::-1], crs=CRS_GK
    )
    reports = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(0.5, 0), Point(-0.5, 0)], crs=CRS_GK)
    for engine in ("strtree", "raster", "exact"):
        out = gg.assign(reports, cells, engine=engine)
        # (ε, ε²) from the centre is in the first triangle (T5); (-0.5, 0) goes north
        assert out["cell_code"].tolist() == ["T5", "T5", "T3"], engine  # reversed order


def test_exact_rational_rule_matches_shapely_for_interior_points():
    cells = voronoi_cells(30, seed=3)
    rng = np.random.default_rng(4)
    for x, y in rng.uniform(0, 1000, (200, 2)):
        covering = [k for k, g in enumerate(cells) if g.contains(Point(x, y))]
        assert len(covering) == 1
        assert contains_shifted_exact(cells[covering[0]], x, y)


_VOR = voronoi_cells(80, seed=11)
_VOR_COORDS = shapely.get_coordinates(_VOR)
_VOR_MIDS = (_VOR_COORDS[:-1] + _VOR_COORDS[1:]) / 2
_NET = fishnet(8, 8, 125.0, 0.0, 0.0)
_CLIPPED = shapely.intersection(_NET.geometry.values, Point(500, 500).buffer(480, 8))
_CLIPPED = _CLIPPED[~shapely.is_empty(_CLIPPED)]


def _point_strategy(coords: np.ndarray, mids: np.ndarray, lo: float, hi: float):
    return st.one_of(
        st.tuples(st.floats(lo, hi), st.floats(lo, hi)),
        st.sampled_from([tuple(c) for c in coords]),
        st.sampled_from([tuple(c) for c in mids]),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_point_strategy(_VOR_COORDS, _VOR_MIDS, -20.0, 1020.0), min_size=1, max_size=40))
def test_fast_engines_equal_exact_on_voronoi(points):
    xy = np.asarray(points, dtype=float)
    loc = CellLocator(_VOR)
    exact = loc.locate(xy[:, 0], xy[:, 1], "exact")
    for engine in ("strtree", "raster"):
        np.testing.assert_array_equal(loc.locate(xy[:, 0], xy[:, 1], engine), exact)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        _point_strategy(
            shapely.get_coordinates(_CLIPPED),
            np.arange(0, 1001, 62.5)[:, None].repeat(2, 1),
            -10.0,
            1010.0,
        ),
        min_size=1,
        max_size=40,
    )
)
def test_fishnet_engine_equals_exact_on_clipped_fishnet(points):
    xy = np.asarray(points, dtype=float)
    loc = CellLocator(_CLIPPED)
    assert loc.fishnet is not None
    exact = loc.locate(xy[:, 0], xy[:, 1], "exact")
    for engine in ("fishnet", "strtree", "raster"):
        np.testing.assert_array_equal(loc.locate(xy[:, 0], xy[:, 1], engine), exact)


def test_raster_engine_with_fine_raster_equals_exact():
    loc = CellLocator(_VOR)
    raster = loc.raster(10_000_000)  # force a fine raster: most points resolved by lookup
    assert (raster.codes > 0).mean() > 0.8
    rng = np.random.default_rng(5)
    xy = np.vstack([rng.uniform(-10, 1010, (3000, 2)), _VOR_COORDS, _VOR_MIDS])
    np.testing.assert_array_equal(
        loc.locate(xy[:, 0], xy[:, 1], "raster"), loc.locate(xy[:, 0], xy[:, 1], "exact")
    )
    # points on edges, away from vertices, are decided by the one-segment pixels themselves
    decided = raster.lookup(_VOR_MIDS[:, 0], _VOR_MIDS[:, 1]) != -1
    assert decided.mean() > 0.5


def _mixed_orientation_cells() -> np.ndarray:
    # a 3 x 3 fishnet with a hole in the middle cell, a cell inside the hole, some rings
    # reversed (shapely does not normalise orientation), and a gap (no cell) in one corner
    cells = [
        box(i * 10.0, j * 10.0, (i + 1) * 10.0, (j + 1) * 10.0) for i in range(3) for j in range(3)
    ]
    cells[4] = Polygon(cells[4].exterior.coords, [box(13, 13, 17, 17).exterior.coords[::-1]])
    cells.append(box(13, 13, 17, 17))
    cells = [shapely.reverse(c) if k % 2 else c for k, c in enumerate(cells)]
    del cells[8]
    return np.asarray(cells, dtype=object)


_MIXED_ORIENT = _mixed_orientation_cells()
_MO_COORDS = shapely.get_coordinates(_MIXED_ORIENT)
_MO_MIDS = (_MO_COORDS[:-1] + _MO_COORDS[1:]) / 2


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_point_strategy(_MO_COORDS, _MO_MIDS, -2.0, 32.0), min_size=1, max_size=40))
def test_raster_one_segment_pixels_follow_ring_orientation_and_holes(points):
    xy = np.asarray(points, dtype=float)
    loc = CellLocator(_MIXED_ORIENT)
    loc.raster(10_000_000)  # fine pixels: most edge points fall in one-segment pixels
    exact = loc.locate(xy[:, 0], xy[:, 1], "exact")
    np.testing.assert_array_equal(loc.locate(xy[:, 0], xy[:, 1], "raster"), exact)


def _tiny_and_huge_cells() -> np.ndarray:
    # Voronoi cells of 6 far-apart seeds (huge) and 40 seeds packed in a 4 x 4 box (tiny)
    rng = np.random.default_rng(21)
    seeds = np.vstack([rng.uniform(0, 1000, (6, 2)), rng.uniform(498, 502, (40, 2))])
    square = box(0, 0, 1000, 1000)
    parts = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=square)
    )
    return shapely.intersection(parts, square)


_MIXED = _tiny_and_huge_cells()
_MIXED_COORDS = shapely.get_coordinates(_MIXED)
_MIXED_MIDS = (_MIXED_COORDS[:-1] + _MIXED_COORDS[1:]) / 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 10**9),
    st.lists(
        st.one_of(
            _point_strategy(_MIXED_COORDS, _MIXED_MIDS, -10.0, 1010.0),
            st.tuples(st.floats(496.0, 504.0), st.floats(496.0, 504.0)),  # among the tiny cells
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_raster_resolution_from_point_count_equals_exact(n_points, points):
    # the pixel size follows the point count (coarse: tiny cells inside one pixel; fine: huge
    # cells span many pixels); points on edges and vertices must still follow the exact rule
    xy = np.asarray(points, dtype=float)
    loc = CellLocator(_MIXED)
    raster = loc.raster(n_points)
    assert raster.nx * raster.ny >= 1
    exact = loc.locate(xy[:, 0], xy[:, 1], "exact")
    np.testing.assert_array_equal(loc.locate(xy[:, 0], xy[:, 1], "raster"), exact)


def test_large_coordinates_boundary_is_exact():
    # GK coordinates with a 38-million false easting: epsilon-based rules break here
    cells = fishnet(4, 4, 0.5, 38_500_000.123, 4_400_000.321)
    x = np.array([38_500_000.123 + 0.5, 38_500_000.123 + 0.5])
    y = np.array([4_400_000.321 + 0.5, 4_400_000.321 + 0.75])
    loc = CellLocator(cells.geometry.values)
    for engine in ("fishnet", "strtree", "raster", "exact"):
        assert loc.locate(x, y, engine).tolist() == [5, 5]


# ---------------------------------------------------------------------------------------------
# routing and levels
# ---------------------------------------------------------------------------------------------
def _routing_reports() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "category_code": ["E0101", "C0101", "C0101", "E0401", "E0501", "XXXX", None],
            "severity": [1, 1, 1, 1, 3, 1, 1],
            "owner_known": [True, False, True, True, True, True, True],
            "grid_code": ["G1", "G1", "G1", "G2", "G2", "G2", pd.NA],
        }
    )


def test_route_defaults():
    out = route(_routing_reports())
    assert out["department"].tolist()[:5] == [
        "环卫处",
        "网格责任单位(G1)",
        "水务公司",
        "市政工程处",
        "城管执法局",
    ]
    assert pd.isna(out["department"].iloc[5]) and pd.isna(out["department"].iloc[6])
    assert out["level"].tolist() == [3, 3, 3, 1, 2, 3, 3]
    assert out["department_en"].iloc[0] == "Sanitation department"


def test_route_overrides_and_rules():
    reports = _routing_reports()
    out = route(
        reports,
        categories={"E0101": "街道办", "XXXX": "其他部门"},
        owners={"G1": "一号网格站"},
        rules=LevelRules(squad_severity=None, departments_classes=(), levels={"E0101": 2}),
    )
    assert out["department"].tolist()[:2] == ["街道办", "一号网格站"]
    assert out["department"].iloc[5] == "其他部门"
    assert out["level"].tolist() == [2, 3, 3, 3, 3, 3, 3]
    table = gg.categories.default_categories()
    table.loc["E0101", "department"] = "环境卫生中心"
    assert route(reports, categories=table)["department"].iloc[0] == "环境卫生中心"
    no_owner_col = route(reports.drop(columns="owner_known"))
    assert no_owner_col["department"].iloc[1] == "水务公司"
    with pytest.raises(ColumnError):
        route(reports.drop(columns="category_code"))
    with pytest.raises(ValueError, match="levels"):
        LevelRules(default=4)


def test_repeats_escalate_one_level():
    t = pd.to_datetime(["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-20", "2026-03-03"])
    reports = pd.DataFrame(
        {
            "category_code": ["E0101"] * 5,
            "severity": [1, 1, 3, 1, 1],
            "cell_code": ["A", "A", "A", "A", "B"],
            "reported_at": t,
        }
    )
    out = route(reports, rules=LevelRules(repeat_count=3, repeat_days=7))
    assert out["level"].tolist() == [3, 3, 1, 3, 3]  # 3rd in 7 days: severity 2 -> 1


# ---------------------------------------------------------------------------------------------
# duplicates
# ---------------------------------------------------------------------------------------------
def _duplicates_brute(x, y, t, cat, labels, distance, minutes):
    order = sorted(range(len(x)), key=lambda k: (t[k], k))
    first: list[int] = []
    out = [None] * len(x)
    for j in order:
        for i in first:  # first reports, earliest first
            if (
                cat[i] == cat[j]
                and 0 <= (t[j] - t[i]).total_seconds() <= minutes * 60
                and math.hypot(x[i] - x[j], y[i] - y[j]) <= distance
            ):
                out[j] = labels[i]
                break
        else:
            first.append(j)
    return out


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_flag_duplicates_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 60
    x = rng.integers(0, 8, n) * 20.0
    y = rng.integers(0, 4, n) * 25.0
    t = pd.Timestamp("2026-03-05") + pd.to_timedelta(rng.integers(0, 12, n) * 15, unit="min")
    cat = rng.choice(["E0101", "E0401"], n)
    labels = [f"r{k}" for k in range(n)]
    reports = gpd.GeoDataFrame(
        {"category_code": cat, "reported_at": t},
        geometry=gpd.points_from_xy(X0 + x, Y0 + y),
        crs=CRS_GK,
        index=labels,
    )
    got = flag_duplicates(reports, distance=50, minutes=60)
    expected = _duplicates_brute(x, y, list(t), cat, labels, 50, 60)
    assert [None if pd.isna(v) else v for v in got] == expected


def test_flag_duplicates_near_in_the_box_but_not_in_the_window():
    # 40 m apart on both axes: inside the KD-tree's box (50 m per axis) but 56.6 m away, so no
    # pair survives the exact check (this used to raise IndexError)
    reports = gpd.GeoDataFrame(
        {"category_code": ["E0101", "E0101"], "reported_at": pd.to_datetime(["2026-03-05"] * 2)},
        geometry=[Point(X0, Y0), Point(X0 + 40, Y0 + 40)],
        crs=CRS_GK,
    )
    got = flag_duplicates(reports, distance=50, minutes=60)
    assert got.isna().all()


def test_assign_flags_duplicates_and_keeps_rows(net):
    t = pd.to_datetime(["2026-03-05 08:00", "2026-03-05 08:30", "2026-03-05 08:40"])
    reports = gpd.GeoDataFrame(
        {"category_code": ["E0101"] * 3, "reported_at": t},
        geometry=[Point(X0 + 10, Y0 + 10), Point(X0 + 30, Y0 + 10), Point(X0 + 900, Y0 + 900)],
        crs=CRS_GK,
    )
    out = gg.assign(reports, net)
    assert len(out) == 3 and out["duplicate_of"].tolist()[1] == 0
    assert pd.isna(out["duplicate_of"].iloc[0]) and pd.isna(out["duplicate_of"].iloc[2])
    assert gg.assign(reports, net, duplicates=False)["duplicate_of"].isna().all()


# ---------------------------------------------------------------------------------------------
# Dask
# ---------------------------------------------------------------------------------------------
def _many_reports(cells: gpd.GeoDataFrame, n: int, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = cells.total_bounds
    x = rng.uniform(minx - 50, maxx + 50, n)
    y = rng.uniform(miny - 50, maxy + 50, n)
    x[::37] = np.round(x[::37] / 100) * 100  # some points exactly on edges
    geoms = list(gpd.points_from_xy(x, y))
    geoms[5] = None
    cats = rng.choice(gg.categories.default_categories().index.to_numpy(), n)
    return gpd.GeoDataFrame(
        {
            "category_code": cats,
            "severity": rng.integers(1, 4, n),
            "reported_at": pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(n), unit="D"),
        },
        geometry=geoms,
        crs=CRS_GK,
    )


def test_dask_without_cluster_equals_in_memory(net):
    dask_geopandas = pytest.importorskip("dask_geopandas")
    reports = _many_reports(net, 400)
    expected = gg.assign(reports, net, tolerance=20)
    got = gg.assign(dask_geopandas.from_geopandas(reports, npartitions=3), net, tolerance=20)
    got = got.compute(scheduler="sync")
    _assert_same_result(got, expected)


def _assert_same_result(got: gpd.GeoDataFrame, expected: gpd.GeoDataFrame) -> None:
    # dask turns the *input's* string columns into pyarrow strings; our columns must match exactly
    for col in ("cell_code", "grid_code", "status", "distance_m", "level", "duplicate_of"):
        assert got[col].dtype == expected[col].dtype, col
    assert (got["status"] != "missing_coords").sum() > 300
    pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(expected), check_dtype=False)


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # distributed closes its sockets late
def test_dask_localcluster_two_workers_equals_in_memory(net):
    dask_geopandas = pytest.importorskip("dask_geopandas")
    distributed = pytest.importorskip("distributed")
    reports = _many_reports(net, 600, seed=1)
    expected = gg.assign(reports, net, tolerance=20)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        ddf = dask_geopandas.from_geopandas(reports, npartitions=4)
        got = gg.assign(ddf, net, tolerance=20).compute()
        assert len(client.scheduler_info()["workers"]) == 2
    _assert_same_result(got, expected)


def _tiny_cells_far_from_origin() -> np.ndarray:
    # 10 cm Voronoi cells at Gauss-Krüger coordinates with the 38-million false easting and
    # millimetre pixels: ulp(3.8e7) ≈ 7e-9 m would be 4e-6 pixel, above the 1e-6 margin, if
    # x - x0 were not exact (it is, for x within a factor 2 of x0: Sterbenz)
    rng = np.random.default_rng(3)
    x0, y0 = 38_500_000.123, 4_400_000.321
    seeds = rng.uniform(0, 1, (60, 2)) + np.array([x0, y0])
    square = box(x0, y0, x0 + 1, y0 + 1)
    parts = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=square)
    )
    return shapely.intersection(parts, square)


_FAR = _tiny_cells_far_from_origin()
_FAR_COORDS = shapely.get_coordinates(_FAR)
_FAR_MIDS = (_FAR_COORDS[:-1] + _FAR_COORDS[1:]) / 2


def test_raster_with_millimetre_pixels_at_large_coordinates_equals_exact():
    loc = CellLocator(_FAR)
    raster = loc.raster(10_000_000)  # the finest raster: pixels of about 2 mm
    assert raster.size < 0.005
    rng = np.random.default_rng(8)
    lo = _FAR_COORDS.min(axis=0)
    xy = np.vstack([lo + rng.uniform(-0.01, 1.01, (2000, 2)), _FAR_COORDS, _FAR_MIDS])
    np.testing.assert_array_equal(
        loc.locate(xy[:, 0], xy[:, 1], "raster"), loc.locate(xy[:, 0], xy[:, 1], "exact")
    )
