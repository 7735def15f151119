"""Tests of gridgeo.datasets: the bundled demo district, demo reports and patrol tracks."""

from __future__ import annotations

import importlib.resources
import importlib.util
import itertools
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridgeo import datasets
from gridgeo.categories import default_categories
from gridgeo.crs import convert

COLUMNS = {
    "district": ["admin_code", "name"],
    "subdistricts": ["admin_code", "street_code", "street_name"],
    "communities": [
        "admin_code",
        "street_code",
        "street_name",
        "community_code",
        "community_name",
        "population",
    ],
    "streets": ["name", "kind", "width_m"],
    "rivers": ["name", "width_m"],
    "landuse": ["landuse"],
    "stations": ["name", "kind"],
    "pois": ["name", "kind"],
}
GEOM = {
    "district": "Polygon",
    "subdistricts": "Polygon",
    "communities": "Polygon",
    "streets": "LineString",
    "rivers": "LineString",
    "landuse": "Polygon",
    "stations": "Point",
    "pois": "Point",
}


@pytest.fixture(scope="module")
def city() -> datasets.DemoCity:
    return datasets.demo_city()


@pytest.fixture(scope="module")
def reports() -> pd.DataFrame:
    return datasets.demo_reports(20_000, seed=3)


def test_file_is_small_and_packaged() -> None:
    path = importlib.resources.files("gridgeo.demo_data") / "demo_city.gpkg"
    assert path.is_file()
    assert path.stat().st_size < 2_000_000


@pytest.mark.parametrize("layer", list(COLUMNS))
def test_layers_crs_columns_types(city: datasets.DemoCity, layer: str) -> None:
    gdf = getattr(city, layer)
    assert isinstance(gdf, gpd.GeoDataFrame)
    assert gdf.crs.to_epsg() == 4547
    assert list(gdf.columns) == [*COLUMNS[layer], "geometry"]
    assert len(gdf) > 0
    assert set(gdf.geom_type) == {GEOM[layer]}
    assert gdf.is_valid.all()
    for col in COLUMNS[layer]:
        if col in {"population"}:
            assert gdf[col].dtype == np.int64
        elif col == "width_m":
            assert gdf[col].dtype == np.float64
        else:
            assert pd.api.types.is_string_dtype(gdf[col])


def test_generator_reproduces_packaged_file(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "make_demo_data.py"
    spec = importlib.util.spec_from_file_location("make_demo_data", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "demo_city.gpkg"
    module.write(module.build(), out)
    packaged = importlib.resources.files("gridgeo.demo_data") / "demo_city.gpkg"
    assert out.read_bytes() == Path(str(packaged)).read_bytes()


def test_location_and_size(city: datasets.DemoCity) -> None:
    lon, lat = city.district.to_crs(4326).geometry.iloc[0].centroid.coords[0]
    assert abs(lon - 114.41) < 0.01
    assert abs(lat - 23.11) < 0.01
    minx, miny, maxx, maxy = city.district.total_bounds
    assert 3500 < maxx - minx < 5000
    assert 3000 < maxy - miny < 4500
    poly = city.district.geometry.iloc[0]
    assert poly.area < 0.9 * shapely.envelope(poly).area  # not a rectangle
    assert len(poly.exterior.coords) > 50


def test_counts_and_kinds(city: datasets.DemoCity) -> None:
    assert len(city.district) == 1
    assert 2 <= len(city.subdistricts) <= 3
    assert 10 <= len(city.communities) <= 14
    assert set(city.streets["kind"]) == {"arterial", "secondary", "lane"}
    assert (city.streets["kind"] == "lane").sum() > 300
    assert 8 <= len(city.stations) <= 14
    assert 35 <= len(city.pois) <= 45
    assert {"market", "school", "hospital", "mall", "bus_hub", "construction"} <= set(
        city.pois["kind"]
    )
    assert set(city.landuse["landuse"]) == {
        "residential",
        "commercial",
        "institutional",
        "industrial",
        "green",
        "water",
    }
    assert city.communities["population"].between(3000, 15000).all()


def test_codes(city: datasets.DemoCity) -> None:
    comm = city.communities
    assert comm["admin_code"].str.fullmatch(r"\d{6}").all()
    assert comm["street_code"].str.fullmatch(r"\d{3}").all()
    assert comm["community_code"].str.fullmatch(r"\d{3}").all()
    assert not comm.duplicated(["street_code", "community_code"]).any()
    assert not comm["community_name"].duplicated().any()
    assert set(comm["street_code"]) == set(city.subdistricts["street_code"])
    for _, group in comm.groupby("street_code"):
        codes = sorted(group["community_code"])
        assert codes == [f"{i:03d}" for i in range(1, len(codes) + 1)]
    assert (comm["admin_code"] == city.district["admin_code"].iloc[0]).all()


def _assert_tiles(parts: gpd.GeoSeries, whole: object) -> None:
    union = shapely.union_all(parts.values)
    assert abs(union.area - whole.area) <= 1e-6 * whole.area
    assert abs(parts.area.sum() - whole.area) <= 1e-6 * whole.area  # so no overlaps
    assert shapely.symmetric_difference(union, whole).area <= 1e-6 * whole.area


def test_communities_tile_district_and_nest(city: datasets.DemoCity) -> None:
    district = city.district.geometry.iloc[0]
    _assert_tiles(city.communities.geometry, district)
    _assert_tiles(city.subdistricts.geometry, district)
    for _, sub in city.subdistricts.iterrows():
        mine = city.communities[city.communities["street_code"] == sub["street_code"]]
        _assert_tiles(mine.geometry, sub.geometry)
        assert (mine["street_name"] == sub["street_name"]).all()
    # pairwise overlaps are only shared edges
    geoms = city.communities.geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[pair]], geoms[right[pair]]))
    assert overlap.max() < 1e-3


def test_community_boundaries_follow_streets_or_river(city: datasets.DemoCity) -> None:
    network = shapely.union_all(
        np.concatenate(
            [
                city.streets.geometry.values,
                city.rivers.geometry.values,
                city.district.boundary.values,
            ]
        )
    )
    edges = shapely.union_all(city.communities.boundary.values)
    on_network = shapely.intersection(edges, network.buffer(0.01)).length
    assert on_network / edges.length > 0.98


def test_landuse_covers_district(city: datasets.DemoCity) -> None:
    district = city.district.geometry.iloc[0]
    _assert_tiles(city.landuse.geometry, district)


def test_streets_form_blocks(city: datasets.DemoCity) -> None:
    lines = np.concatenate(
        [
            city.streets.geometry.values,
            city.rivers.geometry.values,
            city.communities.boundary.values,
        ]
    )
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(lines))))
    area = shapely.area(faces)
    district = city.district.geometry.iloc[0]
    assert abs(area.sum() - district.area) < 1e-3 * district.area
    typical = (area >= 5_000) & (area <= 30_000)
    assert len(faces) > 500
    assert typical.mean() > 0.6
    assert np.median(area) > 5_000


def test_streets_are_messy_like_real_data(city: datasets.DemoCity) -> None:
    lines = city.streets.geometry.values
    ends = shapely.points(
        np.concatenate([shapely.get_coordinates(shapely.get_point(lines, i)) for i in (0, -1)])
    )
    owner = np.concatenate([np.arange(len(lines))] * 2)
    tree = shapely.STRtree(lines)
    near_i, near_l = tree.query(ends, predicate="dwithin", distance=2.5)
    other = owner[near_i] != near_l
    d = shapely.distance(ends[near_i[other]], lines[near_l[other]])
    touching = np.zeros(len(ends), bool)
    touching[near_i[other][d < 1e-6]] = True
    gap = np.zeros(len(ends), bool)
    gap[near_i[other][(d > 0.4) & (d < 2.1)]] = True
    undershoots = gap & ~touching
    dangles = ~touching & ~gap
    assert undershoots.sum() >= 3
    assert dangles.sum() > 20  # dead ends
    # overshoots: a line that crosses another and stops 0.5-2 m past it
    crossings = tree.query(lines, predicate="crosses")
    assert crossings.shape[1] >= 3


def test_demo_city_returns_copies_and_unpacks() -> None:
    a = datasets.demo_city()
    a.communities.loc[0, "population"] = -1
    b = datasets.demo_city()
    assert b.communities.loc[0, "population"] > 0
    district, streets, communities = b
    assert district is b.district and streets is b.streets and communities is b.communities
    assert "城东区" in repr(b) and "communities: 12" in repr(b)
    assert "<table>" in b._repr_html_()
    with pytest.raises(AttributeError):
        b.district = None  # type: ignore[misc]


def test_reports_columns_and_ids(reports: pd.DataFrame) -> None:
    assert list(reports.columns) == list(datasets.REPORT_COLUMNS)
    assert type(reports) is pd.DataFrame
    assert len(reports) == 20_000
    assert reports["report_id"].is_unique
    assert reports["report_id"].str.fullmatch(r"R\d{6}").all()
    assert reports["reported_at"].is_monotonic_increasing
    assert reports["reported_at"].min() >= pd.Timestamp("2026-01-01")
    assert reports["reported_at"].max() < pd.Timestamp("2026-04-01")
    assert reports["severity"].isin([1, 2, 3]).all()
    assert reports["reopened"].dtype == np.int64 and reports["reopened"].max() >= 1
    assert reports["extended"].dtype == bool and 0.02 < reports["extended"].mean() < 0.1


def test_reports_categories(reports: pd.DataFrame) -> None:
    table = default_categories()
    assert reports["category_code"].isin(table.index).all()
    cat = table.loc[reports["category_code"]]
    assert (cat["kind"].to_numpy() == reports["kind"].to_numpy()).all()
    assert (cat["name"].to_numpy() == reports["name"].to_numpy()).all()
    assert (cat["class_name"].to_numpy() == reports["class_name"].to_numpy()).all()
    # the table's weights drive the frequencies: the heaviest class is among the top ones
    top = reports["category_code"].value_counts().index[:5]
    assert "E0101" in top


def test_reports_sources(reports: pd.DataFrame) -> None:
    assert set(reports["source"]) == set(datasets.SOURCES)
    assert len(datasets.SOURCES) == 9
    share = reports["source"].value_counts(normalize=True)
    assert 0.40 < share["监督员"] < 0.50
    assert share.idxmax() == "监督员"


def test_reports_times_ordered(reports: pd.DataFrame) -> None:
    stages = ["reported_at", "filed_at", "dispatched_at", "disposed_at", "closed_at"]
    for a, b in itertools.pairwise(stages):
        both = reports[a].notna() & reports[b].notna()
        assert (reports.loc[both, a] <= reports.loc[both, b]).all(), (a, b)
        # a later stage is never reached without the earlier one
        assert not (reports[a].isna() & reports[b].notna()).any()
    assert reports["closed_at"].isna().sum() > 0  # still open at the end
    assert reports["closed_at"].notna().mean() > 0.9


def test_reports_some_late_relative_to_deadline(reports: pd.DataFrame) -> None:
    table = default_categories()
    cat = table.loc[reports["category_code"]]
    hours = cat["deadline_unit"].eq("working_hours").to_numpy()
    late = (reports["disposed_at"] - reports["dispatched_at"]).dt.total_seconds() / 3600
    # working-hour deadlines: a disposal taking 3x the deadline in calendar time and more
    # than a day is late on any calendar
    over = (late.to_numpy() > 3 * cat["deadline"].to_numpy()) & (late.to_numpy() > 48) & hours
    assert over.sum() > 10


def test_reports_daily_and_weekly_rhythm(reports: pd.DataFrame) -> None:
    hour = reports["reported_at"].dt.hour
    assert (hour.between(2, 4)).mean() < 0.02
    assert (hour.between(8, 10)).mean() > 0.15
    assert (hour.between(18, 21)).mean() > 0.15
    vending = reports["category_code"].isin(["E0501", "E0505"])
    assert hour[vending].between(17, 22).mean() > hour[~vending].between(17, 22).mean() + 0.15
    weekday = reports["reported_at"].dt.day_of_week
    per_day = reports.groupby([reports["reported_at"].dt.date, weekday]).size()
    by_wd = per_day.groupby(level=1).mean()
    assert by_wd[6] < by_wd[0]


def test_reports_text_needs_escaping(reports: pd.DataFrame) -> None:
    text = reports["description"]
    assert text.str.contains("<b>", regex=False).any()
    assert text.str.contains("&", regex=False).any()
    assert text.str.len().between(4, 80).all()
    assert reports["address"].str.fullmatch(r".+\d+号").all()


def test_reports_deterministic() -> None:
    a = datasets.demo_reports(3000, seed=5)
    b = datasets.demo_reports(3000, seed=5)
    pd.testing.assert_frame_equal(a, b)
    c = datasets.demo_reports(3000, seed=6)
    assert not a["lng"].equals(c["lng"])


def _clean_xy(reports: pd.DataFrame) -> np.ndarray:
    lng = pd.to_numeric(reports["lng"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(reports["lat"], errors="coerce").to_numpy(float)
    ok = np.isfinite(lng) & np.isfinite(lat) & (np.abs(lat) <= 90) & (lng > 100) & (lat > 10)
    lon_w, lat_w = convert(lng[ok], lat[ok], "gcj02", "wgs84")
    pts = gpd.GeoSeries(gpd.points_from_xy(lon_w, lat_w), crs=4326).to_crs(4547)
    return shapely.get_coordinates(pts.values)


def test_reports_malformed_rows(reports: pd.DataFrame) -> None:
    lng, lat = reports["lng"], reports["lat"]
    assert lng.dtype == object and lat.dtype == object
    n_lng = pd.to_numeric(lng, errors="coerce")
    n_lat = pd.to_numeric(lat, errors="coerce")
    kinds = {
        "nan_lng": lng.map(lambda v: isinstance(v, float) and np.isnan(v)),
        "empty_lat": lat.eq(""),
        "zero": n_lng.eq(0) & n_lat.eq(0),
        "swapped": n_lng.between(20, 30) & n_lat.between(110, 120),
        "lat_out_of_range": n_lat.abs().gt(90) & n_lng.between(110, 120),
        "not_a_number": lng.eq("N/A") & lat.eq("N/A"),
    }
    assert set(kinds) == set(datasets.MALFORMED_KINDS)
    counts = {k: int(v.sum()) for k, v in kinds.items()}
    assert all(c >= 1 for c in counts.values()), counts
    total = sum(counts.values())
    assert 0.003 * len(reports) <= total <= 0.007 * len(reports)
    clean = datasets.demo_reports(2000, seed=3, malformed=False)
    assert clean["lng"].dtype == np.float64 and clean["lat"].dtype == np.float64
    assert clean["lng"].notna().all()


def test_reports_gcj02_offset(reports: pd.DataFrame, city: datasets.DemoCity) -> None:
    """Coordinates are GCJ-02: read as WGS 84 they land hundreds of metres off."""
    lng = pd.to_numeric(reports["lng"], errors="coerce")
    lat = pd.to_numeric(reports["lat"], errors="coerce")
    ok = _clean_mask(reports)
    as_wgs = gpd.GeoSeries(gpd.points_from_xy(lng[ok], lat[ok]), crs=4326).to_crs(4547)
    right = _clean_xy(reports)
    shift = np.hypot(*(shapely.get_coordinates(as_wgs.values) - right).T)
    assert 200 < np.median(shift) < 800


def test_reports_spatial_pattern(reports: pd.DataFrame, city: datasets.DemoCity) -> None:
    xy = _clean_xy(reports)
    district = city.district.geometry.iloc[0]
    inside = shapely.contains_xy(district, xy[:, 0], xy[:, 1])
    assert inside.mean() > 0.99
    dist = shapely.distance(district, shapely.points(xy[~inside]))
    assert ((dist >= 9.9) & (dist <= 30.1)).sum() >= 0.002 * len(reports)  # GPS error
    assert (dist > 1000).sum() >= 0.0005 * len(reports)  # far away
    # density within 100 m of a market is several times the district mean
    markets = city.pois[city.pois["kind"] == "market"].geometry.values
    zone = shapely.union_all(shapely.buffer(markets, 100))
    in_zone = shapely.contains_xy(zone, xy[:, 0], xy[:, 1]).sum()
    ratio = (in_zone / zone.area) / (inside.sum() / district.area)
    assert ratio > 4
    # and along arterials more than in the district on average
    art = city.streets[city.streets["kind"] == "arterial"].geometry.values
    band = shapely.intersection(shapely.union_all(shapely.buffer(art, 25)), district)
    on_band = shapely.contains_xy(band, xy[:, 0], xy[:, 1]).sum()
    assert (on_band / band.area) / (inside.sum() / district.area) > 2


def test_reports_emerging_hotspot(reports: pd.DataFrame, city: datasets.DemoCity) -> None:
    xy = _clean_xy(reports)
    ok = _clean_mask(reports)
    month = reports.loc[ok, "reported_at"].dt.month.to_numpy()
    overall = (month == 3).sum() / (month == 1).sum()  # about 1: the district as a whole
    assert overall < 1.3
    for name in datasets.EMERGING_HOTSPOTS:
        poi = city.pois.geometry[city.pois["name"] == name].iloc[0]
        near = np.hypot(xy[:, 0] - poi.x, xy[:, 1] - poi.y) < 100
        first, last = (near & (month == 1)).sum(), (near & (month == 3)).sum()
        assert last > 2 * max(first, 1) * overall, (name, first, last)


def _clean_mask(reports: pd.DataFrame) -> np.ndarray:
    lng = pd.to_numeric(reports["lng"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(reports["lat"], errors="coerce").to_numpy(float)
    return np.isfinite(lng) & np.isfinite(lat) & (np.abs(lat) <= 90) & (lng > 100) & (lat > 10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "n must be an integer"),
        ({"n": 2.5}, "n must be an integer"),
        ({"start": "not a date"}, "start must be a date"),
        ({"start": "2026-03-01", "end": "2026-02-01"}, "must not be before"),
        ({"seed": -1}, "seed must be"),
    ],
)
def test_reports_bad_arguments(kwargs: dict, match: str) -> None:
    args = {"n": 10, **kwargs}
    n = args.pop("n")
    with pytest.raises(ValueError, match=re.escape(match)):
        datasets.demo_reports(n, **args)


def test_reports_small_n_and_custom_period() -> None:
    r = datasets.demo_reports(7, start="2026-05-01", end="2026-05-01", seed=2)
    assert len(r) == 7 and r["report_id"].is_unique
    assert (r["reported_at"].dt.date == pd.Timestamp("2026-05-01").date()).all()


def test_patrols(city: datasets.DemoCity) -> None:
    fixes = datasets.demo_patrols(workers=12, seed=1)
    assert isinstance(fixes, gpd.GeoDataFrame)
    assert list(fixes.columns) == ["worker_id", "street_code", "community_code", "time", "geometry"]
    assert fixes.crs.to_epsg() == 4547
    assert fixes["worker_id"].nunique() == 12
    assert fixes["time"].dt.date.eq(pd.Timestamp("2026-03-02").date()).all()
    assert fixes["time"].dt.hour.between(8, 18).all()
    assert not fixes["time"].dt.hour.eq(13).any()  # lunch break
    # walking along streets: within GPS noise of the network
    streets = shapely.union_all(city.streets.geometry.values)
    d = shapely.distance(streets, fixes.geometry.values)
    assert np.median(d) < 8 and np.quantile(d, 0.99) < 25
    # walking speed: median step of a 30 s interval is a walk, not a drive
    for _, track in fixes.groupby("worker_id"):
        step = track.geometry.distance(track.geometry.shift()).iloc[1:]
        assert 15 < step.median() < 50
    # some communities are never visited
    visited = set(zip(fixes["street_code"], fixes["community_code"], strict=True))
    allc = set(
        zip(city.communities["street_code"], city.communities["community_code"], strict=True)
    )
    assert 0 < len(allc - visited) < len(allc)
    again = datasets.demo_patrols(workers=12, seed=1)
    pd.testing.assert_frame_equal(pd.DataFrame(fixes), pd.DataFrame(again))


def test_patrols_bad_arguments() -> None:
    with pytest.raises(ValueError, match="workers"):
        datasets.demo_patrols(workers=0)
    with pytest.raises(ValueError, match="day"):
        datasets.demo_patrols(day="someday")
