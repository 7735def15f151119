"""Tests for gridgeo.crs: WGS 84 / GCJ-02 / BD-09 / CGCS2000 conversions and layer helpers."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal, assert_geoseries_equal
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod
from shapely import LineString, MultiPolygon, Point, Polygon

from gridgeo import crs as gcrs
from gridgeo.crs import SYSTEMS, convert, from_declared, local_crs, to_metric, to_system
from gridgeo.crs._china import china_region, inside_china, inside_china_slow
from gridgeo.errors import CoordinateError, CRSError, GridgeoError

GEOD = Geod(ellps="WGS84")
CM = 0.01  # metres


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres (pyproj Geod, WGS 84)."""
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(*map(np.asarray, (lon1, lat1, lon2, lat2)))
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# ---------------------------------------------------------------------------------------------
# Published reference pairs (facts from other projects' tests/docs, cited per pair)
# ---------------------------------------------------------------------------------------------

# (src, dst, input lon/lat, expected lon/lat, tolerance in degrees, source)
REFERENCE_PAIRS = [
    # wandergis/coordtransform README example results, repeated as exact asserts in
    # dromara/hutool CoordinateUtilTest (hutool-core/src/test/java/.../CoordinateUtilTest.java).
    ("wgs84", "gcj02", (116.404, 39.915), (116.41024449916938, 39.91640428150164), 1e-9, "ct"),
    ("wgs84", "bd09", (116.404, 39.915), (116.41662724378733, 39.922699552216216), 1e-9, "ct"),
    ("gcj02", "bd09", (116.404, 39.915), (116.41036949371029, 39.92133699351022), 1e-9, "ct"),
    # coordtransform's BD-09 -> GCJ-02 is the closed-form approximation (a few cm off the exact
    # inverse computed here), hence 1e-6 degrees.
    ("bd09", "gcj02", (116.404, 39.915), (116.39762729119315, 39.90865673957631), 1e-6, "ct"),
    # hutool CoordinateUtilTest.wgs84toBd09Test2, checked there against tool.lu/coordinate.
    (
        "wgs84",
        "bd09",
        (122.99395597, 44.99804071),
        (123.00636516028885, 45.0063690918959),
        1e-9,
        "hutool",
    ),
    # hujiulong/gcoord test/unit/crs/GCJ02.spec.js (asserted to 5 decimals there).
    ("gcj02", "wgs84", (123.0, 45.0), (122.99395597, 44.99804071), 1e-6, "gcoord"),
    ("gcj02", "bd09", (123.0, 45.0), (123.00636499, 45.00636899), 1e-7, "gcoord"),
    # pyxis / geotool (Rust + Python) test constants: one WGS 84 point near Shanghai with its
    # GCJ-02 and BD-09 images; they use slightly different constants (8e-8 degrees apart).
    (
        "wgs84",
        "gcj02",
        (121.0917077, 30.6107779),
        (121.09626935575027, 30.608604331756705),
        1e-6,
        "pyxis",
    ),
    (
        "wgs84",
        "bd09",
        (121.0917077, 30.6107779),
        (121.10271732371203, 30.61484572185035),
        1e-6,
        "pyxis",
    ),
    (
        "gcj02",
        "wgs84",
        (121.09626935575027, 30.608604331756705),
        (121.0917077, 30.6107779),
        1e-6,
        "pyxis",
    ),
    # Tiananmen Square as widely published: WGS 84 (116.391305, 39.907553) <-> GCJ-02
    # (116.397545, 39.908956) (quoted to about 2e-6 degrees).
    ("wgs84", "gcj02", (116.391305, 39.907553), (116.397545, 39.908956), 3e-6, "tiananmen"),
    # A second published Tiananmen pair (geosys test_wgs84): GCJ-02 (116.397555, 39.906961)
    # <-> WGS 84 (116.391314, 39.905560).
    ("gcj02", "wgs84", (116.397555, 39.906961), (116.391314, 39.905560), 1e-6, "geosys"),
    # Baidu's JS API demos centre their maps on Tiananmen at BD-09 (116.404, 39.915), only to
    # 3 decimals.
    ("wgs84", "bd09", (116.391305, 39.907553), (116.404, 39.915), 1e-3, "baidu demo"),
]


@pytest.mark.parametrize(
    ("src", "dst", "given", "expected", "tol", "source"),
    REFERENCE_PAIRS,
    ids=[f"{p[5]}:{p[0]}->{p[1]}" for p in REFERENCE_PAIRS],
)
def test_published_reference_pairs(src, dst, given, expected, tol, source):
    lon, lat = convert(given[0], given[1], src, dst)
    assert abs(lon - expected[0]) <= tol
    assert abs(lat - expected[1]) <= tol


def test_one_step_inverse_of_other_libraries_is_metres_off_ours_is_exact():
    # coordtransform's gcj02towgs84(116.404, 39.915) = (116.39775550083061, 39.91359571849836)
    # is a one-step approximation; ours is iterated: its forward image hits the input.
    lon, lat = convert(116.404, 39.915, "gcj02", "wgs84")
    assert metres(lon, lat, 116.39775550083061, 39.91359571849836) < 5.0
    back = convert(lon, lat, "wgs84", "gcj02")
    assert metres(*back, 116.404, 39.915) < CM


# ---------------------------------------------------------------------------------------------
# Inside / outside China
# ---------------------------------------------------------------------------------------------

OUTSIDE = {
    "Hanoi": (105.8542, 21.0285),
    "Seoul": (126.9780, 37.5665),
    "Pyongyang": (125.7625, 39.0392),
    "Ulaanbaatar": (106.9057, 47.8864),
    "Kathmandu": (85.3240, 27.7172),
    "Almaty": (76.8512, 43.2220),
    "Tokyo": (139.6917, 35.6895),
    "Hong Kong": (114.1694, 22.3193),
    "Macau": (113.5439, 22.1987),
    "Taipei": (121.5654, 25.0330),
    "Kinmen": (118.3171, 24.4492),
    "Paris": (2.3522, 48.8566),
    "New York": (-74.0060, 40.7128),
    "Vladivostok": (131.8855, 43.1155),
    "Blagoveshchensk": (127.5266, 50.2907),
}
INSIDE = {
    "Beijing": (116.3913, 39.9075),
    "Urumqi": (87.6168, 43.8256),
    "Lhasa": (91.1409, 29.6456),
    "Harbin": (126.6424, 45.7567),
    "Kashgar": (75.9897, 39.4704),
    "Sanya": (109.5119, 18.2528),
    "Mohe": (122.5386, 52.9723),
    "Shanghai": (121.4737, 31.2304),
    "Shenzhen Futian": (114.0553, 22.5213),
    "Zhuhai": (113.5767, 22.2707),
    "Dandong": (124.3545, 40.0003),
    "Xiamen": (118.0894, 24.4798),
}


@pytest.mark.parametrize("city", sorted(OUTSIDE))
def test_outside_china_unchanged_exactly(city):
    lon, lat = OUTSIDE[city]
    assert convert(lon, lat, "wgs84", "gcj02") == (lon, lat)
    assert convert(lon, lat, "gcj02", "wgs84") == (lon, lat)


@pytest.mark.parametrize("city", sorted(INSIDE))
def test_inside_china_offset_100_to_800_m(city):
    lon, lat = INSIDE[city]
    glon, glat = convert(lon, lat, "wgs84", "gcj02")
    assert 100 < metres(lon, lat, glon, glat) < 800


def test_rectangle_shortcut_would_be_wrong_for_the_neighbours():
    # These cities are all inside the popular (72.004-137.8347, 0.8293-55.8271) box.
    for city in ("Hanoi", "Seoul", "Pyongyang", "Ulaanbaatar", "Kathmandu", "Hong Kong"):
        lon, lat = OUTSIDE[city]
        assert 72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271
        assert not inside_china(np.array(lon), np.array(lat))


def test_region_is_valid_and_small():
    region = china_region()
    assert region.is_valid
    assert region.geom_type == "MultiPolygon"
    assert 1_000 < shapely.get_num_coordinates(region) < 20_000
    minx, miny, maxx, maxy = region.bounds
    assert 73 < minx < 74 and 18 < miny < 19 and 134 < maxx < 135.5 and 53 < maxy < 54


def _test_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(70, 140, n)
    lat = rng.uniform(15, 56, n)
    # Points close to the boundary: jitter the region's vertices by up to ~1 km.
    ring = shapely.get_coordinates(shapely.boundary(china_region()))
    pick = ring[rng.integers(0, len(ring), n // 2)]
    near = pick + rng.normal(scale=0.01, size=pick.shape)
    lon = np.concatenate([lon, near[:, 0], [np.nan, 116.0, np.nan]])
    lat = np.concatenate([lat, near[:, 1], [39.9, np.nan, np.nan]])
    return lon, lat


def test_inside_china_fast_equals_slow_twin():
    lon, lat = _test_points(6_000, seed=7)
    fast = inside_china(lon, lat)
    assert fast.any() and not fast.all()
    np.testing.assert_array_equal(fast, inside_china_slow(lon, lat))


def test_inside_china_grid_path_equals_slow_twin():
    from gridgeo.crs import _china

    minx, miny, maxx, maxy = china_region().bounds
    lon, lat = _test_points(4_000, seed=5)
    # add points exactly on the grid's cell edges and corners
    ex = minx + _china._CELL * np.arange(0, 60)
    ey = miny + _china._CELL * np.arange(0, 60)
    lon = np.concatenate([lon, ex, np.full(60, 116.4), ex])
    lat = np.concatenate([lat, np.full(60, 39.9), ey, ey])
    box = (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)
    lon, lat = lon[box], lat[box]
    grid = _china._inside_by_grid(lon, lat)
    np.testing.assert_array_equal(grid, inside_china_slow(lon, lat))
    classes = _china._grid()
    assert (classes == _china._INSIDE).any() and (classes == _china._OUTSIDE).any()


def test_inside_china_large_input_uses_grid_and_matches_contains_xy():
    rng = np.random.default_rng(9)
    lon = rng.uniform(72, 136, 120_000)
    lat = rng.uniform(17, 55, 120_000)
    np.testing.assert_array_equal(
        inside_china(lon, lat), shapely.contains_xy(china_region(), lon, lat)
    )


def test_inside_china_keeps_shape():
    lon = np.array([[116.39, 2.35], [121.47, 114.17]])
    lat = np.array([[39.91, 48.86], [31.23, 22.32]])
    assert inside_china(lon, lat).tolist() == [[True, False], [True, False]]


# ---------------------------------------------------------------------------------------------
# Vectorised conversion vs the per-point twin
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "dst"), [("wgs84", "gcj02"), ("gcj02", "wgs84"), ("wgs84", "bd09"), ("bd09", "wgs84")]
)
def test_convert_fast_equals_slow_twin(src, dst):
    lon, lat = _test_points(1_000, seed=11)
    fast_lon, fast_lat = convert(lon, lat, src, dst)
    slow = np.array(
        [gcrs._convert_point_slow(x, y, src, dst) for x, y in zip(lon, lat, strict=True)]
    )
    # Same algorithm; NumPy's and libm's sin/cos may differ in the last bit, and the inverse
    # iterations stop independently below 1 mm, so agree to 1e-9 degree (0.1 mm).
    np.testing.assert_allclose(fast_lon, slow[:, 0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(fast_lat, slow[:, 1], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(np.isnan(fast_lon), np.isnan(slow[:, 0]))


# ---------------------------------------------------------------------------------------------
# Round trips (hypothesis)
# ---------------------------------------------------------------------------------------------

lon_in_box = st.floats(73.0, 135.5, allow_nan=False)
lat_in_box = st.floats(18.0, 53.6, allow_nan=False)
RT = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


@RT
@given(lon_in_box, lat_in_box)
def test_round_trip_inside_china(lon, lat):
    assume(inside_china(np.array(lon), np.array(lat)))
    # within ~1.5 km of the border the offset can carry a point across it (tested below)
    assume(shapely.distance(china_region().boundary, Point(lon, lat)) > 0.015)
    for system in ("gcj02", "bd09"):
        slon, slat = convert(lon, lat, "wgs84", system)
        blon, blat = convert(slon, slat, system, "wgs84")
        assert metres(lon, lat, blon, blat) < CM
        # and the other way round: treat (lon, lat) as shifted coordinates
        wlon, wlat = convert(lon, lat, system, "wgs84")
        flon, flat = convert(wlon, wlat, "wgs84", system)
        assert metres(lon, lat, flon, flat) < CM


def _boundary_vertices() -> np.ndarray:
    return shapely.get_coordinates(shapely.boundary(china_region()))


@RT
@given(st.integers(0, 10**9), st.floats(-0.2, 0.2), st.floats(-0.2, 0.2))
def test_round_trip_near_the_border(i, dx, dy):
    ring = _boundary_vertices()
    lon, lat = ring[i % len(ring)] + (dx, dy)
    assume(abs(lat) < 89)
    region = china_region()
    # beyond ~1.5 km from the border the offset cannot carry a point across it
    assume(shapely.distance(region.boundary, Point(lon, lat)) > 0.015)
    for system in ("gcj02", "bd09"):
        slon, slat = convert(lon, lat, "wgs84", system)
        blon, blat = convert(slon, slat, system, "wgs84")
        assert metres(lon, lat, blon, blat) < CM


@RT
@given(st.floats(-179, 179, allow_nan=False), st.floats(-85, 85, allow_nan=False))
def test_round_trip_anywhere_bd09(lon, lat):
    blon, blat = convert(lon, lat, "wgs84", "bd09")
    wlon, wlat = convert(blon, blat, "bd09", "wgs84")
    assert metres(lon, lat, wlon, wlat) < CM


def test_border_strip_rule_is_documented_behaviour():
    # Near the border, GCJ-02 -> WGS 84 removes the offset when either point is inside China.
    lon, lat = _test_points(4_000, seed=3)
    ok = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[ok], lat[ok]
    wlon, wlat = convert(lon, lat, "gcj02", "wgs84")
    shifted = (wlon != lon) | (wlat != lat)
    expected = inside_china(lon, lat) | inside_china(wlon, wlat)
    np.testing.assert_array_equal(shifted, expected)


# ---------------------------------------------------------------------------------------------
# Shapes, NaN, names, errors
# ---------------------------------------------------------------------------------------------


def test_scalar_in_scalar_out():
    lon, lat = convert(116.391305, 39.907553, "wgs84", "gcj02")
    assert np.ndim(lon) == 0 and np.ndim(lat) == 0
    assert isinstance(float(lon), float)


@pytest.mark.parametrize("shape", [(5,), (2, 3), (1, 4, 2), (0,)])
def test_keeps_shape(shape):
    rng = np.random.default_rng(0)
    lon = rng.uniform(110, 120, shape)
    lat = rng.uniform(25, 40, shape)
    for dst in ("gcj02", "bd09", "cgcs2000"):
        out_lon, out_lat = convert(lon, lat, "wgs84", dst)
        assert out_lon.shape == shape and out_lat.shape == shape


def test_lists_and_integers_accepted_and_input_not_modified():
    lon = np.array([116.0, 121.0])
    lat = np.array([40.0, 31.0])
    before = lon.copy(), lat.copy()
    convert(lon, lat, "wgs84", "bd09")
    np.testing.assert_array_equal(lon, before[0])
    np.testing.assert_array_equal(lat, before[1])
    a = convert([116, 121], [40, 31], "wgs84", "gcj02")
    b = convert(lon, lat, "wgs84", "gcj02")
    np.testing.assert_array_equal(a[0], b[0])


def test_nan_in_nan_out_without_warnings():
    lon = np.array([np.nan, 116.4, np.nan, 2.35])
    lat = np.array([39.9, np.nan, np.nan, 48.86])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for src, dst in [
            ("wgs84", "gcj02"),
            ("gcj02", "wgs84"),
            ("wgs84", "bd09"),
            ("bd09", "wgs84"),
            ("bd09", "cgcs2000"),
        ]:
            out_lon, out_lat = convert(lon, lat, src, dst)
            assert np.isnan(out_lon[:3]).all() and np.isnan(out_lat[:3]).all()
            assert np.isfinite(out_lon[3]) and np.isfinite(out_lat[3])


def test_cgcs2000_is_identity_to_wgs84():
    lon, lat = np.array([116.4, 2.35]), np.array([39.9, 48.86])
    out = convert(lon, lat, "cgcs2000", "wgs84")
    np.testing.assert_array_equal(out[0], lon)
    np.testing.assert_array_equal(out[1], lat)
    via = convert(lon, lat, "cgcs2000", "gcj02")
    direct = convert(lon, lat, "wgs84", "gcj02")
    np.testing.assert_array_equal(via[0], direct[0])


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("WGS84", "wgs84"),
        ("wgs-84", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("epsg:4490", "cgcs2000"),
        ("GCJ-02", "gcj02"),
        ("gcj_02", "gcj02"),
        ("BD-09", "bd09"),
        ("CGCS2000", "cgcs2000"),
    ],
)
def test_system_aliases(name, canonical):
    a = convert(116.4, 39.9, "wgs84", name)
    b = convert(116.4, 39.9, "wgs84", canonical)
    assert a == b


def test_same_system_is_identity():
    for s in SYSTEMS:
        assert convert(116.4, 39.9, s, s) == (116.4, 39.9)


def test_unknown_system_lists_names():
    with pytest.raises(CRSError, match=r"dst='mars'.*'wgs84', 'gcj02', 'bd09', 'cgcs2000'"):
        convert(116.4, 39.9, "wgs84", "mars")
    with pytest.raises(CRSError, match="src=4326"):
        convert(116.4, 39.9, 4326, "gcj02")


def test_non_numeric_raises_coordinate_error():
    with pytest.raises(CoordinateError, match=r"lon must hold numbers.*to_numeric"):
        convert(["116.4", "abc"], [39.9, 39.9], "wgs84", "gcj02")
    with pytest.raises(CoordinateError, match="lat must hold real numbers"):
        convert([116.4], [True], "wgs84", "gcj02")


def test_mismatched_shapes_raise_value_error():
    with pytest.raises(ValueError, match=r"same shape.*\(3,\) and \(2,\)"):
        convert(np.zeros(3), np.zeros(2), "wgs84", "gcj02")


def test_out_of_range_and_swapped_and_inf():
    with pytest.raises(CoordinateError, match="look swapped"):
        convert(39.9, 116.4, "wgs84", "gcj02")
    with pytest.raises(CoordinateError, match=r"position\(s\) 1; .*reprojected"):
        convert([116.4, 500_000.0], [39.9, 4_400_000.0], "gcj02", "wgs84")
    with pytest.raises(CoordinateError, match="Infinite"):
        convert([np.inf], [39.9], "wgs84", "bd09")
    assert issubclass(CoordinateError, GridgeoError)


# ---------------------------------------------------------------------------------------------
# Layers: from_declared / to_system
# ---------------------------------------------------------------------------------------------


def _layer(crs=None) -> gpd.GeoDataFrame:
    poly = Polygon([(116.38, 39.90), (116.40, 39.90), (116.40, 39.92), (116.38, 39.92)])
    return gpd.GeoDataFrame(
        {"name": ["pt", "line", "poly", "multi", "missing", "empty"]},
        geometry=[
            Point(116.391305, 39.907553),
            LineString([(116.30, 39.90), (116.50, 39.95), (2.35, 48.86)]),
            poly,
            MultiPolygon([poly, Polygon([(121.4, 31.2), (121.5, 31.2), (121.5, 31.3)])]),
            None,
            Point(),
        ],
        index=[10, 20, 30, 40, 50, 60],
        crs=crs,
    )


def test_from_declared_gcj02_all_geometry_types():
    layer = _layer()
    before = layer.copy()
    out = from_declared(layer, "gcj02")
    assert_geodataframe_equal(layer, before)  # input untouched
    assert out.crs.equals(CRS.from_epsg(4326))
    assert list(out.index) == list(layer.index)
    assert list(out.columns) == list(layer.columns)
    assert out.geometry.iloc[4] is None and out.geometry.iloc[5].is_empty
    # every vertex equals the array conversion
    src = shapely.get_coordinates(layer.geometry.values)
    dst = shapely.get_coordinates(out.geometry.values)
    exp = np.column_stack(convert(src[:, 0], src[:, 1], "gcj02", "wgs84"))
    np.testing.assert_array_equal(dst, exp)
    # Paris vertex of the line is outside China: unchanged
    assert out.geometry.iloc[1].coords[2] == (2.35, 48.86)


def test_from_declared_keeps_z():
    layer = gpd.GeoDataFrame(geometry=[Point(116.39, 39.9, 50.0), Point(116.4, 39.91)])
    out = from_declared(layer, "bd09")
    assert out.geometry.iloc[0].has_z and out.geometry.iloc[0].z == 50.0
    assert not out.geometry.iloc[1].has_z


@pytest.mark.parametrize(
    ("system", "epsg"), [("wgs84", 4326), ("CGCS2000", 4490), ("EPSG:4490", 4490)]
)
def test_from_declared_label_only(system, epsg):
    layer = _layer()
    out = from_declared(layer, system)
    assert out.crs.to_epsg() == epsg
    assert_geoseries_equal(out.geometry, layer.geometry.set_crs(epsg), check_less_precise=False)


def test_from_declared_pyproj_crs():
    layer = gpd.GeoDataFrame(geometry=[Point(500_000, 4_400_000)])
    out = from_declared(layer, CRS.from_epsg(4547))
    assert out.crs.to_epsg() == 4547
    assert out.geometry.iloc[0].equals(layer.geometry.iloc[0])
    with pytest.raises(CoordinateError, match=r"row\(s\) 0 .*outside lon"):
        from_declared(layer, "EPSG:4326")


def test_from_declared_errors():
    with pytest.raises(CRSError, match=r"projected CRS .*declared as gcj02"):
        from_declared(_layer().iloc[:1].set_crs(4326).to_crs(4547), "gcj02")
    with pytest.raises(CRSError, match="neither one of 'wgs84'"):
        from_declared(_layer(), "mars-coordinates")
    metres_layer = gpd.GeoDataFrame(
        geometry=[Point(116.4, 39.9), Point(450_000, 4_400_000)], index=["a", "b"]
    )
    with pytest.raises(CoordinateError, match=r"row\(s\) 'b'"):
        from_declared(metres_layer, "gcj02")
    with pytest.raises(TypeError, match="GeoDataFrame"):
        from_declared(metres_layer.geometry, "gcj02")


def test_from_declared_accepts_geographic_label_on_gcj_data():
    # Shifted data mislabelled EPSG:4326 (very common) is converted and relabelled.
    out = from_declared(_layer(crs=4326), "gcj02")
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[0].distance(Point(116.391305, 39.907553)) > 1e-3


@pytest.mark.parametrize("system", ["gcj02", "bd09", "wgs84", "cgcs2000"])
def test_to_system_round_trip(system):
    layer = _layer(crs=4326).to_crs(4547)  # projected metres in, any geometry type
    shifted = to_system(layer, system)
    assert shifted.attrs["coordinate_system"] == system
    assert shifted.crs.to_epsg() == (4490 if system == "cgcs2000" else 4326)
    assert list(shifted.index) == list(layer.index)
    back = from_declared(shifted, system).to_crs(4547)
    assert "coordinate_system" not in back.attrs
    a = shapely.get_coordinates(layer.geometry.values)
    b = shapely.get_coordinates(back.geometry.values)
    assert np.abs(a - b).max() < CM  # metres, in EPSG:4547


def test_to_system_moves_points_as_convert_does():
    layer = _layer(crs=4326)
    out = to_system(layer, "gcj02")
    x, y = convert(116.391305, 39.907553, "wgs84", "gcj02")
    assert out.geometry.iloc[0].coords[0] == (x, y)


def test_to_system_on_already_shifted_layer_and_mismatched_declaration():
    amap = to_system(_layer(crs=4326), "gcj02")
    baidu = to_system(amap, "bd09")  # undoes GCJ-02 first
    direct = to_system(_layer(crs=4326), "bd09")
    np.testing.assert_allclose(
        shapely.get_coordinates(baidu.geometry.values),
        shapely.get_coordinates(direct.geometry.values),
        atol=1e-9,
    )
    with pytest.raises(CRSError, match=r"marked .*'gcj02'"):
        from_declared(amap, "bd09")


def test_to_system_errors():
    with pytest.raises(CRSError, match="has no CRS"):
        to_system(_layer(), "gcj02")
    with pytest.raises(CRSError, match="'wgs84', 'gcj02'"):
        to_system(_layer(crs=4326), "EPSG:3857")


# ---------------------------------------------------------------------------------------------
# local_crs / to_metric (the lead's examples, kept)
# ---------------------------------------------------------------------------------------------


def test_local_crs_examples():
    assert local_crs((114.3, 23.0, 114.5, 23.2)).to_epsg() == 4547
    assert local_crs((2.2, 48.8, 2.4, 48.9)).to_epsg() == 32631
    pts = gpd.GeoDataFrame(geometry=[Point(114.4, 23.1)], crs=4326)
    assert to_metric(pts).crs.to_epsg() == 4547
