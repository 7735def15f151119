"""Tests of gridgeo.io (layers, reports, PostGIS guard) and gridgeo.io._atomic."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from geopandas.testing import assert_geodataframe_equal
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Geod
from shapely import LineString, Point, Polygon

from gridgeo import io as gio
from gridgeo.crs import convert
from gridgeo.errors import (
    ColumnError,
    CoordinateError,
    CRSError,
    DuplicateIdError,
    EncodingError,
    InputFileError,
    OptionalDependencyError,
)
from gridgeo.io import _layers
from gridgeo.io._atomic import atomic_fileset, atomic_path, write_bytes_atomic, write_text_atomic

GEOD = Geod(ellps="WGS84")


# --- fixtures ------------------------------------------------------------------------------


def _layer(crs: int = 4490) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {
            "name": ["东城街道", "West Lake", "西湖社区"],
            "population": [12000, 3400, 560],
            "area_km2": [1.25, 0.5, 3.75],
        },
        geometry=[
            Polygon([(114.40, 23.10), (114.41, 23.10), (114.41, 23.11), (114.40, 23.11)]),
            Polygon([(114.42, 23.10), (114.43, 23.10), (114.43, 23.12)]),
            Polygon([(114.44, 23.11), (114.45, 23.11), (114.45, 23.13), (114.44, 23.13)]),
        ],
        crs=4490,
    )
    return gdf.to_crs(crs)


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- layers: round trips -----------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet", ".geojson", ".json", ".shp"])
@pytest.mark.parametrize("crs", [4490, 4547])
def test_round_trip_every_format(tmp_path: Path, suffix: str, crs: int) -> None:
    layer = _layer(crs)
    path = gio.write_layer(layer, tmp_path / f"cells{suffix}")
    back = gio.read_layer(path)
    assert back.crs.equals(layer.crs)
    assert list(back.columns) == list(layer.columns)
    # Integers come back as 64-bit and shapefiles orient rings clockwise: compare values.
    assert_geodataframe_equal(
        back, layer, check_dtype=False, check_less_precise=True, normalize=True
    )
    assert back["name"].tolist() == layer["name"].tolist()


def test_geopackage_keeps_other_layers(tmp_path: Path) -> None:
    path = tmp_path / "city.gpkg"
    gio.write_layer(_layer(), path, layer="cells")
    gio.write_layer(_layer().iloc[:1], path, layer="grids")
    gio.write_layer(_layer().iloc[:2], path, layer="cells")  # replace one layer only
    assert sorted(pyogrio.list_layers(path)[:, 0]) == ["cells", "grids"]
    assert len(gio.read_layer(path, layer="cells")) == 2
    assert len(gio.read_layer(path, layer="grids")) == 1
    with pytest.raises(InputFileError, match=r"holds 2 layers.*'cells'.*layer="):
        gio.read_layer(path)
    with pytest.raises(InputFileError, match=r"no layer 'roads'.*'cells'"):
        gio.read_layer(path, layer="roads")


def test_named_index_is_written_as_column(tmp_path: Path) -> None:
    layer = _layer().set_index("name")
    back = gio.read_layer(gio.write_layer(layer, tmp_path / "a.gpkg"))
    assert back["name"].tolist() == ["东城街道", "West Lake", "西湖社区"]
    assert isinstance(back.index, pd.RangeIndex)


def test_empty_layer_round_trip(tmp_path: Path) -> None:
    empty = _layer().iloc[:0]
    for suffix in (".gpkg", ".shp", ".geojson", ".parquet"):
        back = gio.read_layer(gio.write_layer(empty, tmp_path / f"empty{suffix}"))
        assert len(back) == 0
        assert back.crs.equals(empty.crs)


def test_input_not_modified(tmp_path: Path) -> None:
    layer = _layer().set_index("name")
    before = layer.copy()
    gio.write_layer(layer, tmp_path / "a.shp", encoding="GBK")
    assert_geodataframe_equal(layer, before)


# --- layers: encodings ---------------------------------------------------------------------


def _chinese_layer() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "社区名称": ["东城社区", "西湖社区", "龙丰街道"],
            "网格数": [3, 5, 8],
            "备注": ["", "新建", None],
        },
        geometry=[Point(114.41, 23.11), Point(114.42, 23.12), Point(114.43, 23.13)],
        crs=4490,
    )


def test_gbk_shapefile_round_trip(tmp_path: Path) -> None:
    layer = _chinese_layer()
    path = gio.write_layer(layer, tmp_path / "communities.shp", encoding="GBK")
    assert (tmp_path / "communities.cpg").read_text().strip().upper() == "GBK"
    raw = (tmp_path / "communities.dbf").read_bytes()
    assert "东城社区".encode("gbk") in raw
    assert "社区名称".encode("gbk") in raw
    assert "东城社区".encode() not in raw
    back = gio.read_layer(path)
    assert list(back.columns) == ["社区名称", "网格数", "备注", "geometry"]
    assert back["社区名称"].tolist() == ["东城社区", "西湖社区", "龙丰街道"]
    # Oracle: geopandas told the encoding reads the same thing.
    oracle = gpd.read_file(path, encoding="gbk")
    assert_geodataframe_equal(back, oracle)


def test_gbk_shapefile_without_cpg_is_detected(tmp_path: Path) -> None:
    path = gio.write_layer(_chinese_layer(), tmp_path / "c.shp", encoding="GBK")
    (tmp_path / "c.cpg").unlink()
    # GDAL alone would read Latin-1 mojibake here.
    assert pyogrio.read_dataframe(path)["社区名称".encode("gbk").decode("latin-1")].size == 3
    back = gio.read_layer(path)
    assert back["社区名称"].tolist() == ["东城社区", "西湖社区", "龙丰街道"]
    forced = gio.read_layer(path, encoding="GB18030")
    assert forced["备注"].tolist() == back["备注"].tolist()


def test_utf8_shapefile_without_cpg_is_detected(tmp_path: Path) -> None:
    layer = _chinese_layer().rename(columns={"社区名称": "名称"})  # 6 bytes in UTF-8
    with pytest.raises(ColumnError, match="'社区名称' is 12 bytes in utf-8"):
        gio.write_layer(_chinese_layer(), tmp_path / "u.shp")
    path = gio.write_layer(layer, tmp_path / "u.shp")
    assert (tmp_path / "u.cpg").read_text().strip().upper() in {"UTF-8", "UTF8"}
    (tmp_path / "u.cpg").unlink()
    assert gio.read_layer(path)["名称"].tolist() == ["东城社区", "西湖社区", "龙丰街道"]


def test_wrong_forced_encoding_raises(tmp_path: Path) -> None:
    path = gio.write_layer(_chinese_layer(), tmp_path / "c.shp", encoding="GBK")
    with pytest.raises(EncodingError, match=r"c\.shp.*encoding="):
        gio.read_layer(path, encoding="utf-8")
    with pytest.raises(EncodingError, match="unknown encoding"):
        gio.read_layer(path, encoding="no-such-codec")


def test_gbk_write_refuses_unencodable_and_long_names(tmp_path: Path) -> None:
    layer = _chinese_layer()
    emoji = layer.assign(备注=["ok", "🙂", "x"])
    with pytest.raises(EncodingError, match=r"row 1.*GB18030"):
        gio.write_layer(emoji, tmp_path / "e.shp", encoding="GBK")
    long_name = layer.rename(columns={"社区名称": "社区名称很长的字段"})
    with pytest.raises(ColumnError, match=r"10 bytes.*GeoPackage"):
        gio.write_layer(long_name, tmp_path / "e.shp", encoding="GBK")
    too_long = layer.assign(备注=["a" * 255, "b", "c"])
    with pytest.raises(ColumnError, match=r"'备注' row 0 holds 255 bytes.*at most 254"):
        gio.write_layer(too_long, tmp_path / "e.shp", encoding="GBK")
    assert _files(tmp_path) == []
    with pytest.raises(InputFileError, match="Shapefiles only"):
        gio.write_layer(layer, tmp_path / "e.gpkg", encoding="GBK")


def test_zipped_shapefile(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    gio.write_layer(_chinese_layer(), src / "posts.shp", encoding="GBK")
    (src / "posts.cpg").unlink()
    archive = tmp_path / "posts.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in src.iterdir():
            zf.write(part, f"export/{part.name}")
    back = gio.read_layer(archive)
    assert back["社区名称"].tolist() == ["东城社区", "西湖社区", "龙丰街道"]
    assert back.crs.to_epsg() == 4490
    assert gio.read_layer(archive, layer="posts").shape == back.shape
    with pytest.raises(InputFileError, match=r"no layer 'roads'.*'posts'"):
        gio.read_layer(archive, layer="roads")


def test_short_gbk_text_that_is_valid_utf8_is_not_mojibake(tmp_path: Path) -> None:
    # "一位" in GBK is the bytes D2 BB CE BB, which are also valid UTF-8 ("һλ").
    assert "一位".encode("gbk").decode("utf-8") == "һλ"
    layer = gpd.GeoDataFrame({"名": ["一位"]}, geometry=[Point(114.4, 23.1)], crs=4490)
    path = gio.write_layer(layer, tmp_path / "m.shp", encoding="GBK")
    (tmp_path / "m.cpg").unlink()
    assert gio.read_layer(path)["名"].tolist() == ["一位"]
    csv = tmp_path / "m.csv"
    csv.write_bytes("lng,lat,备注\n114.4,23.1,一位\n".encode("gbk"))
    assert gio.read_reports(csv)["备注"].tolist() == ["一位"]


@pytest.mark.parametrize(
    ("cpg", "expected"),
    [
        ("UTF-8", "utf-8"),
        ("GBK", "gb18030"),
        ("936", "gb18030"),
        ("ANSI 936", "gb18030"),
        ("1252", "cp1252"),
        ("klingon", None),
    ],
)
def test_cpg_names(cpg: str, expected: str | None) -> None:
    from gridgeo.io._encoding import cpg_encoding

    assert cpg_encoding(cpg) == expected


def test_cpg_file_is_trusted(tmp_path: Path) -> None:
    path = gio.write_layer(_chinese_layer(), tmp_path / "c.shp", encoding="GBK")
    (tmp_path / "c.cpg").write_text("936", encoding="ascii")
    assert gio.read_layer(path)["社区名称"].iloc[0] == "东城社区"


# --- layers: errors ------------------------------------------------------------------------


def test_read_layer_errors(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"nope\.gpkg.*does not exist.*GeoPackage"):
        gio.read_layer(tmp_path / "nope.gpkg")
    (tmp_path / "a.dwg").write_bytes(b"x")
    with pytest.raises(InputFileError, match=r"'\.dwg'.*Supported formats: GeoPackage"):
        gio.read_layer(tmp_path / "a.dwg")
    (tmp_path / "broken.gpkg").write_bytes(b"not a geopackage at all")
    with pytest.raises(InputFileError, match=r"broken\.gpkg.*corrupt.*Supported formats"):
        gio.read_layer(tmp_path / "broken.gpkg")
    (tmp_path / "broken.geojson").write_text("{", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"broken\.geojson"):
        gio.read_layer(tmp_path / "broken.geojson")
    pd.DataFrame({"lng": [1.0], "lat": [2.0]}).to_parquet(tmp_path / "table.parquet")
    with pytest.raises(InputFileError, match=r"without GeoParquet.*read_reports"):
        gio.read_layer(tmp_path / "table.parquet")
    gio.write_layer(_layer(), tmp_path / "a.geojson")
    with pytest.raises(InputFileError, match=r"layer='x'.*only GeoPackage"):
        gio.read_layer(tmp_path / "a.geojson", layer="x")


def test_write_layer_errors(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="does not exist"):
        gio.write_layer(_layer(), tmp_path / "missing" / "a.gpkg")
    with pytest.raises(InputFileError, match=r"'\.kml'"):
        gio.write_layer(_layer(), tmp_path / "a.kml")
    with pytest.raises(TypeError, match="GeoDataFrame"):
        gio.write_layer(pd.DataFrame({"a": [1]}), tmp_path / "a.gpkg")  # type: ignore[arg-type]


# --- atomic writes -------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp"])
def test_failed_write_leaves_nothing_and_keeps_old_file(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / f"cells{suffix}"
    gio.write_layer(_layer(), target, encoding="GBK" if suffix == ".shp" else None)
    before = {name: (tmp_path / name).read_bytes() for name in _files(tmp_path)}

    def half_write(frame: gpd.GeoDataFrame, tmp: Path, **options: object) -> None:
        pyogrio.write_dataframe(frame.iloc[:1], tmp, **options)  # a real partial file ...
        raise RuntimeError("disk full")  # ... then the writer dies

    monkeypatch.setattr(_layers, "_write_ogr", half_write)
    with pytest.raises(RuntimeError, match="disk full"):
        gio.write_layer(_layer().iloc[:2], target)
    assert {name: (tmp_path / name).read_bytes() for name in _files(tmp_path)} == before
    assert len(gio.read_layer(target)) == 3

    fresh = tmp_path / "sub"
    fresh.mkdir()
    with pytest.raises(RuntimeError, match="disk full"):
        gio.write_layer(_layer(), fresh / f"new{suffix}")
    assert _files(fresh) == []


def test_failed_parquet_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = gio.write_layer(_layer(), tmp_path / "a.parquet")
    before = target.read_bytes()

    def half_write(self: gpd.GeoDataFrame, path: Path, **kwargs: object) -> None:
        Path(path).write_bytes(b"PAR1 half")
        raise OSError("disk full")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_parquet", half_write)
    with pytest.raises(OSError, match="disk full"):
        gio.write_layer(_layer(), target)
    assert target.read_bytes() == before
    assert _files(tmp_path) == ["a.parquet"]


def test_invalid_data_write_fails_cleanly(tmp_path: Path) -> None:
    # GDAL writes the first point, then refuses the polygon: a real mid-write failure.
    mixed = gpd.GeoDataFrame(
        {"a": [1, 2]}, geometry=[Point(0, 0), Polygon([(0, 0), (1, 0), (1, 1)])], crs=4326
    )
    with pytest.raises(InputFileError, match=r"mixed\.shp.*non-point.*Nothing was written"):
        gio.write_layer(mixed, tmp_path / "mixed.shp")
    bad = _layer().assign(payload=[{"a": 1}, [1, 2], "x"])
    for suffix in (".gpkg", ".geojson", ".shp"):
        with pytest.raises(ColumnError, match="'payload' row 0 holds a dict"):
            gio.write_layer(bad, tmp_path / f"bad{suffix}")
    assert _files(tmp_path) == []


def test_shapefile_rewrite_removes_stale_sidecars(tmp_path: Path) -> None:
    target = tmp_path / "a.shp"
    gio.write_layer(_layer(), target, encoding="GBK")
    (tmp_path / "a.qix").write_bytes(b"old spatial index")
    gio.write_layer(_layer().iloc[:1], target)
    assert _files(tmp_path) == ["a.cpg", "a.dbf", "a.prj", "a.shp", "a.shx"]
    assert (tmp_path / "a.cpg").read_text().strip().upper() in {"UTF-8", "UTF8"}
    assert len(gio.read_layer(target)) == 1


def test_atomic_helpers(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    write_text_atomic(target, "<p>旧</p>")
    with pytest.raises(ValueError, match="boom"), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise ValueError("boom")
    assert target.read_text(encoding="utf-8") == "<p>旧</p>"
    assert _files(tmp_path) == ["report.html"]
    with pytest.raises(FileNotFoundError, match="produced no file"), atomic_path(target):
        pass
    assert write_bytes_atomic(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    with pytest.raises(ValueError, match="boom"), atomic_fileset(tmp_path / "z.shp") as tmp:
        tmp.write_bytes(b"x")
        raise ValueError("boom")
    assert _files(tmp_path) == ["b.bin", "report.html"]


# --- reports: inputs -------------------------------------------------------------------------


def _reports_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "report_id": ["R001", "R002", "R003", "R004"],
            "lng": [114.4150, 114.4201, 114.4303, 114.4411],
            "lat": [23.1102, 23.1155, 23.1209, 23.1301],
            "kind": ["暴露垃圾", "井盖缺失", "占道经营", "路灯不亮"],
            "reported_at": [
                "2026/3/5 8:07",
                "2026-03-05 08:07:00",
                "2026年3月6日 9时15分",
                "46087.5",
            ],
        }
    )


def _check_points(result: gpd.GeoDataFrame, table: pd.DataFrame) -> None:
    assert (result["coord_status"] == "ok").all()
    assert (result["coord_issue"] == "").all()
    np.testing.assert_allclose(result.geometry.x, table["lng"].astype(float))
    np.testing.assert_allclose(result.geometry.y, table["lat"].astype(float))


def test_read_reports_dataframe_keeps_rows_columns_and_input() -> None:
    table = _reports_table()
    before = table.copy()
    result = gio.read_reports(table)
    pd.testing.assert_frame_equal(table, before)
    assert list(result.columns) == [*table.columns, "coord_status", "coord_issue", "geometry"]
    assert isinstance(result.index, pd.RangeIndex)
    assert result.crs.to_epsg() == 4326
    _check_points(result, table)
    pd.testing.assert_frame_equal(pd.DataFrame(result[list(table.columns)]), table)


@pytest.mark.parametrize("kind", ["csv_utf8", "csv_bom", "csv_gbk", "xlsx", "parquet"])
def test_read_reports_files(tmp_path: Path, kind: str) -> None:
    table = _reports_table()
    if kind.startswith("csv"):
        path = tmp_path / "reports.csv"
        encoding = {"csv_utf8": "utf-8", "csv_bom": "utf-8-sig", "csv_gbk": "gbk"}[kind]
        table.to_csv(path, index=False, encoding=encoding)
    elif kind == "xlsx":
        path = tmp_path / "reports.xlsx"
        table.to_excel(path, index=False)
    else:
        path = tmp_path / "reports.parquet"
        table.to_parquet(path)
    result = gio.read_reports(path, id="report_id", time="reported_at")
    assert list(result.index) == ["R001", "R002", "R003", "R004"]
    assert result.columns[0] == "report_id"  # BOM does not leak into the first name
    assert result["kind"].tolist() == table["kind"].tolist()
    _check_points(result, table)
    assert result["reported_at"].tolist() == [
        pd.Timestamp("2026-03-05 08:07"),
        pd.Timestamp("2026-03-05 08:07"),
        pd.Timestamp("2026-03-06 09:15"),
        pd.Timestamp("2026-03-06 12:00"),
    ]


def test_gbk_csv_matches_pandas_oracle(tmp_path: Path) -> None:
    path = tmp_path / "excel_export.csv"
    _reports_table().to_csv(path, index=False, encoding="gbk")
    result = gio.read_reports(path)
    oracle = pd.read_csv(path, encoding="gbk")
    pd.testing.assert_frame_equal(pd.DataFrame(result[list(oracle.columns)]), oracle)


def test_csv_encoding_errors(tmp_path: Path) -> None:
    path = tmp_path / "weird.csv"
    path.write_bytes(b"lng,lat,note\n114.4,23.1,\xff\x30\n")
    with pytest.raises(EncodingError, match=r"weird\.csv.*encoding="):
        gio.read_reports(path)
    gbk = tmp_path / "gbk.csv"
    _reports_table().to_csv(gbk, index=False, encoding="gbk")
    with pytest.raises(EncodingError, match=r"gbk\.csv.*encoding='GBK'"):
        gio.read_reports(gbk, encoding="utf-8")
    assert gio.read_reports(gbk, encoding="GBK")["kind"].iloc[0] == "暴露垃圾"


def test_read_reports_geojson_uses_geometry(tmp_path: Path) -> None:
    table = _reports_table()
    layer = gpd.GeoDataFrame(
        table.drop(columns=["lng", "lat"]),
        geometry=gpd.points_from_xy(table["lng"], table["lat"]),
        crs=4326,
    )
    layer.loc[2, "geometry"] = None
    layer.loc[3, "geometry"] = LineString([(114.0, 23.0), (114.1, 23.1)])
    path = gio.write_layer(layer, tmp_path / "reports.geojson")
    result = gio.read_reports(path, lon="ignored", lat="ignored")
    assert result["coord_status"].tolist() == ["ok", "ok", "missing_coords", "invalid_coords"]
    assert result["coord_issue"].iloc[3] == "row 3: geometry is a LineString, not a Point"
    assert result.geometry.iloc[0].equals(Point(114.4150, 23.1102))
    # GeoParquet and GeoDataFrame inputs go the same way.
    from_parquet = gio.read_reports(gio.write_layer(layer, tmp_path / "r.parquet"))
    from_frame = gio.read_reports(layer)
    for other in (from_parquet, from_frame):
        assert other["coord_status"].tolist() == result["coord_status"].tolist()
        assert other.geometry.iloc[1].equals(result.geometry.iloc[1])


def test_read_reports_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"missing\.csv.*does not exist.*CSV"):
        gio.read_reports(tmp_path / "missing.csv")
    (tmp_path / "a.xls").write_bytes(b"x")
    with pytest.raises(InputFileError, match=r"'\.xls'.*Excel \(\.xlsx"):
        gio.read_reports(tmp_path / "a.xls")
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
    with pytest.raises(InputFileError, match=r"bad\.xlsx"):
        gio.read_reports(tmp_path / "bad.xlsx")
    with pytest.raises(TypeError, match="file path or a pandas DataFrame"):
        gio.read_reports([1, 2])  # type: ignore[arg-type]


# --- reports: coordinates ---------------------------------------------------------------------


def test_each_kind_of_bad_coordinate(caplog: pytest.LogCaptureFixture) -> None:
    table = pd.DataFrame(
        {
            "lng": [
                114.41,
                np.nan,
                "",
                "N/A",
                "null",
                "abc",
                0,
                114.42,
                23.1,
                200.0,
                np.inf,
                114.43,
            ],
            "lat": [23.11, 23.1, 23.1, 23.1, 23.1, 23.1, 0, 123.4, 114.4, 23.1, 23.1, "23.12 "],
        }
    )
    with caplog.at_level(logging.WARNING, logger="gridgeo.io"):
        result = gio.read_reports(table)
    status = result["coord_status"].tolist()
    assert status == [
        "ok",
        *["missing_coords"] * 4,
        *["invalid_coords"] * 6,
        "ok",
    ]
    issues = result["coord_issue"].tolist()
    assert issues[0] == "" and issues[-1] == ""
    assert issues[1] == "row 1: lng is missing"
    assert issues[3] == "row 3: lng is missing"
    assert issues[5] == "row 5: lng='abc' is not a number"
    assert (
        issues[6]
        == "row 6: lng=0, lat=0 is 'null island' (0, 0), a missing position stored as zeros"
    )
    assert issues[7] == "row 7: lat=123.4 out of range [-90, 90]"
    assert issues[8] == (
        "row 8: lat=114.4 out of range [-90, 90]; "
        "lng=23.1, lat=114.4 look swapped (lng and lat the wrong way round)"
    )
    assert issues[9] == "row 9: lng=200 out of range [-180, 180]"
    assert issues[10] == "row 10: lng=inf, lat=23.1 is not finite"
    geoms = result.geometry
    assert geoms.iloc[0].equals(Point(114.41, 23.11)) and geoms.iloc[11].equals(
        Point(114.43, 23.12)
    )
    assert geoms.iloc[1:11].isna().all()
    assert len(result) == len(table)
    summary = [r.getMessage() for r in caplog.records if r.name == "gridgeo.io"]
    assert summary == [
        "the reports table: 10 of 12 rows flagged (4 missing_coords, 6 invalid_coords); "
        "see coord_status/coord_issue"
    ]


def test_swap_outside_china_uses_latitude_range() -> None:
    table = pd.DataFrame({"lng": [2.35, 2.36, 48.86], "lat": [48.85, 48.87, 2.35]})
    assert gio.read_reports(table)["coord_status"].tolist() == ["ok", "ok", "ok"]
    table = pd.DataFrame({"lng": [-74.0, -74.1, 40.7], "lat": [40.7, 40.8, -174.0]})
    result = gio.read_reports(table)
    assert result["coord_status"].tolist() == ["ok", "ok", "invalid_coords"]
    assert "look swapped" in result["coord_issue"].iloc[2]


def test_whole_column_swap_raises() -> None:
    table = pd.DataFrame(
        {"lng": [23.11, 23.12, 23.13, 114.4], "lat": [114.41, 114.42, 114.43, 23.1]}
    )
    with pytest.raises(CoordinateError, match=r"look swapped.*3 of 4.*lon='lat', lat='lng'"):
        gio.read_reports(table)
    # Passing them the other way round works (one row then looks swapped).
    fixed = gio.read_reports(table, lon="lat", lat="lng")
    assert fixed["coord_status"].tolist() == ["ok", "ok", "ok", "invalid_coords"]


def test_errors_raise_names_rows_columns_values() -> None:
    table = pd.DataFrame({"x_lng": [114.4, 114.5, 114.6], "y_lat": [23.1, 123.4, None]})
    with pytest.raises(
        CoordinateError, match=r"2 row\(s\).*'x_lng'/'y_lat'.*row 1: y_lat=123\.4.*row 2"
    ):
        gio.read_reports(table, lon="x_lng", lat="y_lat", errors="raise")
    with pytest.raises(ValueError, match="errors='ignore'"):
        gio.read_reports(table, lon="x_lng", lat="y_lat", errors="ignore")


def test_missing_column_suggests_candidates() -> None:
    table = pd.DataFrame({"编号": [1], "经度": [114.4], "纬度": [23.1]})
    with pytest.raises(
        ColumnError, match=r"lon='lng'.*Did you mean lon='经度'.*lat='纬度'.*'编号'"
    ):
        gio.read_reports(table)
    assert gio.read_reports(table, lon="经度", lat="纬度")["coord_status"].iloc[0] == "ok"
    with pytest.raises(ColumnError, match=r"time='when'.*Available columns"):
        gio.read_reports(table, lon="经度", lat="纬度", time="when")
    with pytest.raises(ColumnError, match="same column"):
        gio.read_reports(table, lon="经度", lat="经度")


# --- reports: coordinate systems -------------------------------------------------------------


def test_gcj02_input_is_converted() -> None:
    # Tiananmen: GCJ-02 (116.397546, 39.908954) is WGS 84 (116.391305, 39.907553).
    table = pd.DataFrame({"lng": [116.397546], "lat": [39.908954]})
    result = gio.read_reports(table, crs="gcj02")
    assert result.crs.to_epsg() == 4326
    point = result.geometry.iloc[0]
    assert point.x == pytest.approx(116.391305, abs=2e-6)
    assert point.y == pytest.approx(39.907553, abs=2e-6)
    moved = GEOD.inv(116.397546, 39.908954, point.x, point.y)[2]
    assert 300 < moved < 800
    assert result["lng"].iloc[0] == 116.397546  # original column kept as given


def test_bd09_and_cgcs2000() -> None:
    lon, lat = convert(116.391305, 39.907553, "wgs84", "bd09")
    bd = gio.read_reports(pd.DataFrame({"lng": [lon], "lat": [lat]}), crs="bd09")
    assert bd.geometry.iloc[0].x == pytest.approx(116.391305, abs=1e-6)
    cg = gio.read_reports(pd.DataFrame({"lng": [114.4], "lat": [23.1]}), crs="CGCS2000")
    assert cg.crs.to_epsg() == 4490
    assert cg.geometry.iloc[0].equals(Point(114.4, 23.1))


def test_geometry_input_crs_rules(tmp_path: Path) -> None:
    gcj = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(116.397546, 39.908954)], crs=4326)
    converted = gio.read_reports(gcj, crs="gcj02")
    assert converted.geometry.iloc[0].x == pytest.approx(116.391305, abs=2e-6)
    wrong_zone = gio.read_reports(gcj.to_crs(4539))  # Gauss-Krüger 90E: far outside its zone
    assert "outside the area of use" in wrong_zone["coord_issue"].iloc[0]
    projected = gcj.to_crs(4548)  # CGCS2000 Gauss-Krüger 117E
    path = gio.write_layer(projected, tmp_path / "p.geojson")
    result = gio.read_reports(path)  # default crs= means "use the file's CRS"
    assert result.crs.to_epsg() == 4548
    assert result["coord_status"].tolist() == ["ok"]
    swapped = gpd.GeoDataFrame(
        {"n": [1, 2]}, geometry=[Point(23.1, 114.4), Point(23.2, 114.5)], crs=4326
    )
    with pytest.raises(CoordinateError, match=r"point coordinates.*look swapped"):
        gio.read_reports(swapped)


def test_projected_xy_columns() -> None:
    table = pd.DataFrame(
        {"x": [540979.0, 541500.0, 2555668.0, 0.0], "y": [2555668.0, 2556000.0, 540979.0, 0.0]}
    )
    result = gio.read_reports(table, lon="x", lat="y", crs=4547)
    assert result.crs.to_epsg() == 4547
    assert result["coord_status"].tolist() == ["ok", "ok", "invalid_coords", "invalid_coords"]
    assert "look swapped" in result["coord_issue"].iloc[2]
    assert result.geometry.iloc[0].equals(Point(540979.0, 2555668.0))
    with pytest.raises(CRSError, match=r"crs='mars'.*gcj02"):
        gio.read_reports(table, lon="x", lat="y", crs="mars")


# --- reports: ids and times ---------------------------------------------------------------------


def test_duplicate_ids() -> None:
    table = _reports_table().assign(report_id=["R1", "R2", "R1", "R2"])
    with pytest.raises(DuplicateIdError, match=r"'R1', 'R2'.*report_id"):
        gio.read_reports(table, id="report_id")
    table = _reports_table().assign(report_id=["R1", None, "R3", "R4"])
    with pytest.raises(ColumnError, match=r"empty in row\(s\) 1"):
        gio.read_reports(table, id="report_id")


def test_id_becomes_index_and_stays_column(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    _reports_table().assign(report_id=["007", "008", "009", "010"]).to_csv(path, index=False)
    result = gio.read_reports(path, id="report_id")
    assert list(result.index) == ["007", "008", "009", "010"]  # leading zeros kept
    assert result["report_id"].tolist() == ["007", "008", "009", "010"]
    bad = pd.DataFrame({"rid": ["A", "B"], "lng": [114.4, None], "lat": [23.1, 23.1]})
    assert gio.read_reports(bad, id="rid")["coord_issue"]["B"] == "row 1 (id 'B'): lng is missing"


def test_time_parsing_formats() -> None:
    values = [
        "2026/3/5 8:07",
        "2026-03-05 08:07:00",
        "2026.03.05",
        "2026年3月5日 8时7分",
        "20260305",
        46086.3375,
        pd.Timestamp("2026-03-05 08:07"),
        None,
        "",
    ]
    table = pd.DataFrame({"lng": [114.4] * 9, "lat": [23.1] * 9, "t": values})
    result = gio.read_reports(table, time="t")
    expected = [pd.Timestamp("2026-03-05 08:07")] * 2 + [pd.Timestamp("2026-03-05")]
    expected += [pd.Timestamp("2026-03-05 08:07"), pd.Timestamp("2026-03-05")]
    expected += [pd.Timestamp("2026-03-05 08:06"), pd.Timestamp("2026-03-05 08:07")]
    assert result["t"].iloc[:7].tolist() == expected
    assert result["t"].iloc[7:].isna().all()
    assert pd.api.types.is_datetime64_any_dtype(result["t"])
    assert (result["coord_issue"] == "").all()


_TIME_SAMPLES = [
    "2026/3/5 8:07",
    " 2026-03-05 08:07:00 ",
    "2026-03-05\t08:07",
    "2026-03-05 08:07:",
    "2026年3月5日",
    "2026年3月5日 8点7分30秒",
    "20260305",
    "20260305080700",
    "46086.3375",
    "1e5",
    "inf",
    "-3",
    "N/A",
    "",
    "昨天",
    "2026-02-30",
    "2026-03-05T08:07:00.250",
    None,
]


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        (_TIME_SAMPLES, "str"),
        ([46086.3375, 20260305, 20260305080700, -1.0, np.nan, 3e6], "float64"),
        ([*_TIME_SAMPLES, 46086.5, pd.Timestamp("2026-03-05 08:07", tz="Asia/Shanghai")], object),
        ([*_TIME_SAMPLES, True], object),
    ],
    ids=["texts", "numbers", "mixed", "with-bool"],
)
def test_fast_time_parsing_matches_slow_twin(values: list[object], dtype: object) -> None:
    from gridgeo.io._reports import parse_times, parse_times_slow

    column = pd.Series(values, dtype=dtype)
    fast, fast_bad = parse_times(column)
    slow, slow_bad = parse_times_slow(column)
    pd.testing.assert_series_equal(fast, slow)
    np.testing.assert_array_equal(fast_bad, slow_bad)
    assert fast_bad.any() and (~fast_bad).any()


_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H时", "%Y%m%d", "%Y.%m.%d"]


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.tuples(
                st.datetimes(
                    min_value=pd.Timestamp("1990-01-01"), max_value=pd.Timestamp("2100-01-01")
                ),
                st.sampled_from(_FORMATS),
            ).map(lambda pair: pair[0].strftime(pair[1])),
            st.text(max_size=6),
            st.floats(-10, 2e7).map(str),
        ),
        max_size=15,
    )
)
def test_time_parsing_twins_agree_on_random_text(values: list[str | None]) -> None:
    from gridgeo.io._reports import parse_times, parse_times_slow

    column = pd.Series(values, dtype=object)
    fast, fast_bad = parse_times(column)
    slow, slow_bad = parse_times_slow(column)
    pd.testing.assert_series_equal(fast, slow)
    np.testing.assert_array_equal(fast_bad, slow_bad)
    assert not fast_bad[column.isna().to_numpy()].any()


def test_nul_text_is_an_unparseable_time_in_both_twins() -> None:
    # found by hypothesis: pandas parses a lone NUL to NaT without an error
    from gridgeo.io._reports import parse_times, parse_times_slow

    column = pd.Series(["\x00", "2026-03-05 08:07"], dtype=object)
    for parse in (parse_times, parse_times_slow):
        times, bad = parse(column)
        assert bad.tolist() == [True, False]
        assert pd.isna(times.iloc[0])


def test_unparseable_times() -> None:
    table = pd.DataFrame(
        {"lng": [114.4, 114.5, None], "lat": [23.1, 23.2, 23.3], "t": ["2026-03-05", "昨天", "x"]}
    )
    result = gio.read_reports(table, time="t")
    assert pd.isna(result["t"].iloc[1])
    assert result["coord_status"].tolist() == ["ok", "ok", "missing_coords"]
    assert result["coord_issue"].iloc[1] == "row 1: t='昨天' is not a date/time (set to NaT)"
    assert result["coord_issue"].iloc[2] == (
        "row 2: lng is missing; row 2: t='x' is not a date/time (set to NaT)"
    )
    with pytest.raises(ColumnError, match=r"'t'.*row 1: t='昨天'"):
        gio.read_reports(table.iloc[:2], time="t", errors="raise")


def test_empty_reports_table() -> None:
    result = gio.read_reports(pd.DataFrame({"lng": [], "lat": []}))
    assert len(result) == 0
    assert list(result.columns) == ["lng", "lat", "coord_status", "coord_issue", "geometry"]


@given(
    st.lists(
        st.tuples(
            st.one_of(st.floats(allow_nan=True), st.sampled_from(["", "N/A", "x", "1e400"])),
            st.one_of(st.floats(allow_nan=True), st.sampled_from(["", "null", "?"])),
        ),
        max_size=30,
    )
)
def test_never_drops_rows(rows: list[tuple[object, object]]) -> None:
    table = pd.DataFrame(rows, columns=["lng", "lat"], dtype=object)
    try:
        result = gio.read_reports(table)
    except CoordinateError as err:  # only allowed for a whole-column swap
        assert "look swapped" in str(err)
        return
    assert len(result) == len(table)
    ok = result["coord_status"] == "ok"
    assert set(result["coord_status"]) <= {"ok", "missing_coords", "invalid_coords"}
    assert result.geometry[ok].notna().all() and result.geometry[~ok].isna().all()
    assert ((result["coord_issue"] == "") == ok).all()


# --- PostGIS guard ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "params", "match"),
    [
        ("SELECT * FROM reports WHERE kind = 'event'", None, "quoted literal"),
        ("SELECT * FROM reports WHERE id = %s", None, "placeholders"),
        ("SELECT * FROM reports WHERE id = {rid}", None, "placeholders"),
        ("SELECT 1; DROP TABLE reports", None, "more than one statement"),
        ("SELECT * FROM reports WHERE id = :rid", None, r"missing values for \['rid'\]"),
        ("SELECT * FROM reports", {"rid": 1}, r"unused params \['rid'\]"),
    ],
)
def test_read_postgis_refuses_formatted_sql(sql: str, params: dict | None, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        gio.read_postgis(sql, None, params=params)


def test_read_postgis_needs_sqlalchemy() -> None:
    try:
        import sqlalchemy  # noqa: F401
    except ImportError:
        with pytest.raises(OptionalDependencyError, match=r"gridgeo\[postgis\]"):
            gio.read_postgis(
                "SELECT geom::geometry, id FROM reports WHERE id = :rid;", None, params={"rid": 3}
            )
    else:  # pragma: no cover - sqlalchemy is not installed in this environment
        pytest.skip("sqlalchemy installed; the missing-dependency path cannot be exercised")


# --- the one time parser (issue 14) ----------------------------------------------------------


def test_iso_offsets_epochs_and_chinese_formats_are_read_in_local_time() -> None:
    # Every one of these is 2026-03-02 08:05 in Shanghai; before issue 14 the ISO ones,
    # "20260302 080500" and the epochs were NaT.
    values = [
        "2026-03-02T08:05:00+08:00",
        "2026-03-02T00:05:00Z",
        "2026-03-02 00:05:00 UTC",
        "2026-03-01T19:05:00-05:00",
        "2026-03-02T02:35:00+0230",
        "2026年3月2日 8时5分",
        "2026/3/2 8:05",
        "20260302 080500",
        "20260302080500",
        1772409900,
        "1772409900000",
        pd.Timestamp("2026-03-02 00:05", tz="UTC"),
    ]
    parsed = gio.parse_times(pd.Series(values, dtype=object, name="reported_at"))
    assert parsed.times.tolist() == [pd.Timestamp("2026-03-02 08:05")] * len(values)
    assert parsed.n_unreadable == 0 and not parsed.unreadable.any()
    utc = gio.parse_times(pd.Series(values[:2], name="t"), tz="UTC").times
    assert utc.tolist() == [pd.Timestamp("2026-03-02 00:05")] * 2
    wall = gio.parse_times(pd.Series(["2026-03-02T08:05:00+05:00"]), tz=None).times
    assert wall.tolist() == [pd.Timestamp("2026-03-02 03:05")]


def test_excel_serial_and_mixed_formats_in_one_column() -> None:
    column = pd.Series([46083.5, "2026-03-02", "2026/3/2 8:05", 1772409900.0, None, "无"])
    times = gio.parse_times(column, name="t").times
    assert times.tolist()[:4] == [
        pd.Timestamp("2026-03-02 12:00"),
        pd.Timestamp("2026-03-02"),
        pd.Timestamp("2026-03-02 08:05"),
        pd.Timestamp("2026-03-02 08:05"),
    ]
    assert times.iloc[4:].isna().all()


def test_tz_aware_datetime_column_is_converted_not_kept() -> None:
    column = pd.Series(pd.to_datetime(["2026-03-02 00:05"]).tz_localize("UTC"), name="t")
    for parse in (_reports_parse_times(), _reports_parse_times_slow()):
        times, bad = parse(column)
        assert times.dtype == "datetime64[ns]" and times.dt.tz is None
        assert times.tolist() == [pd.Timestamp("2026-03-02 08:05")] and not bad.any()


def _reports_parse_times():
    from gridgeo.io._reports import parse_times

    return parse_times


def _reports_parse_times_slow():
    from gridgeo.io._reports import parse_times_slow

    return parse_times_slow


def test_unreadable_times_are_named_raised_or_reported() -> None:
    column = pd.Series(["2026-03-02", "昨天", "2026-02-30", None, "2026-03-02T08:05+99:00"])
    with pytest.raises(ColumnError, match=r"3 value\(s\) of 'values'.*row 1: values='昨天'"):
        gio.parse_times(column)
    reported = gio.parse_times(column.rename("t"), errors="report", name="受理时间")
    assert reported.issues == (
        "row 1: 受理时间='昨天'",
        "row 2: 受理时间='2026-02-30'",
        "row 4: 受理时间='2026-03-02T08:05+99:00'",
    )
    assert reported.unreadable.tolist() == [False, True, True, False, True]
    assert "3 unreadable" in repr(reported) and "&#x27;" in reported._repr_html_()
    labelled = gio.parse_times(pd.Series(["x"], index=["r7"]), errors="report")
    assert labelled.issues == ("row 0 (index 'r7'): values='x'",)
    with pytest.raises(ValueError, match="tz='Mars/Olympus'"):
        gio.parse_times(column, tz="Mars/Olympus")
    with pytest.raises(ValueError, match="errors='flag'"):
        gio.parse_times(column, errors="flag")
    with pytest.raises(TypeError, match="one column"):
        gio.parse_times(pd.DataFrame({"t": column}))


def test_read_reports_times_with_offsets_tz_and_several_columns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    table = pd.DataFrame(
        {
            "lng": [114.4, 114.5],
            "lat": [23.1, 23.2],
            "filed": ["2026-03-02T00:05:00Z", "2026-03-02T08:05:00+08:00"],
            "closed": [46083.5, "later"],
        }
    )
    with caplog.at_level(logging.WARNING, logger="gridgeo.io._reports"):
        result = gio.read_reports(table, time=["filed", "closed"])
    assert result["filed"].tolist() == [pd.Timestamp("2026-03-02 08:05")] * 2
    assert result["closed"].iloc[0] == pd.Timestamp("2026-03-02 12:00")
    assert result["coord_issue"].iloc[1] == "row 1: closed='later' is not a date/time (set to NaT)"
    assert "1 value(s) of column 'closed' are not dates/times" in caplog.text
    utc = gio.read_reports(table, time="filed", tz="UTC")
    assert utc["filed"].tolist() == [pd.Timestamp("2026-03-02 00:05")] * 2
    with pytest.raises(ColumnError, match=r"time='nope' is not a column"):
        gio.read_reports(table, time=["filed", "nope"])


_OFFSETS = ["Z", "+08:00", "-05:00", "+0530", " UTC", "+99:00", "+08"]


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.tuples(
                st.datetimes(
                    min_value=pd.Timestamp("1990-01-01"), max_value=pd.Timestamp("2100-01-01")
                ),
                st.sampled_from(["%Y-%m-%dT%H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M:%S.%f"]),
                st.sampled_from(_OFFSETS),
            ).map(lambda t: t[0].strftime(t[1]) + t[2]),
            st.floats(9e8, 5e12).map(str),
            st.integers(946_684_800, 4_102_444_799),
            st.text(alphabet="0123456789:-TZ+ ", max_size=12),
        ),
        max_size=12,
    ),
    st.sampled_from(["Asia/Shanghai", "UTC", None]),
)
def test_time_parsing_twins_agree_with_offsets_and_epochs(values: list[object], tz) -> None:
    from gridgeo.io._reports import parse_times, parse_times_slow

    column = pd.Series(values, dtype=object)
    fast, fast_bad = parse_times(column, tz=tz)
    slow, slow_bad = parse_times_slow(column, tz=tz)
    pd.testing.assert_series_equal(fast, slow)
    np.testing.assert_array_equal(fast_bad, slow_bad)
    texts = pd.Series([v for v in values if isinstance(v, str)], dtype=object)
    fast_t, bad_t = parse_times(texts, tz=tz)
    slow_t, slow_bad_t = parse_times_slow(texts, tz=tz)
    pd.testing.assert_series_equal(fast_t, slow_t)
    np.testing.assert_array_equal(bad_t, slow_bad_t)


def test_offset_time_matches_pandas_oracle() -> None:
    texts = ["2026-03-02T08:05:00+08:00", "2026-03-01T19:05:00-05:00", "2026-03-02T00:05:00Z"]
    oracle = pd.to_datetime(pd.Series(texts), format="ISO8601", utc=True)
    expected = oracle.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None).astype("datetime64[ns]")
    pd.testing.assert_series_equal(gio.parse_times(pd.Series(texts)).times, expected)


# --- encodings and codes (issue 14) ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "lng,lat,名称\n114.4,23.1,北京路 Ø 10°\n",
        "lng,lat,名称,备注\n114.4,23.1,社区°,垃圾\n",  # read as GB18030 mojibake before
        "lng,lat,note\n114.4,23.1,Ø 10°\n",
        "a\n°\n",
    ],
    ids=["chinese-and-latin", "chinese-words-and-degree", "latin-only", "degree-only"],
)
def test_valid_utf8_is_always_read_as_utf8(tmp_path: Path, text: str) -> None:
    # Before issue 14 a UTF-8 file whose only non-ASCII text was "Ø"/"°" came back as GB18030
    # mojibake ("脴", "掳").
    path = tmp_path / "r.csv"
    path.write_bytes(text.encode("utf-8"))
    expected = pd.read_csv(path, encoding="utf-8")
    if "lng" in text:
        got = gio.read_reports(path)
        assert got[expected.columns[-1]].tolist() == expected.iloc[:, -1].tolist()
    from gridgeo.io._encoding import detect_encoding

    assert detect_encoding([text.encode()], complete=True) == "utf-8"


def test_utf8_shapefile_with_degree_sign_is_not_gbk(tmp_path: Path) -> None:
    layer = gpd.GeoDataFrame({"note": ["Ø 10°"]}, geometry=[Point(114.4, 23.1)], crs=4490)
    path = gio.write_layer(layer, tmp_path / "d.shp")
    (tmp_path / "d.cpg").unlink()
    assert gio.read_layer(path)["note"].tolist() == ["Ø 10°"]


def test_big5_is_detected_by_evidence(tmp_path: Path) -> None:
    text = "lng,lat,名稱\n114.4,23.1,臺北市中正區\n114.5,23.2,網格員與社區\n"
    path = tmp_path / "b.csv"
    path.write_bytes(text.encode("big5"))
    assert gio.read_reports(path)["名稱"].tolist() == ["臺北市中正區", "網格員與社區"]
    gbk = tmp_path / "g.csv"
    gbk.write_bytes("lng,lat,名称\n114.4,23.1,东城区网格管理中心\n".encode("gbk"))
    assert gio.read_reports(gbk)["名称"].tolist() == ["东城区网格管理中心"]


def test_ambiguous_encoding_raises_with_candidates(tmp_path: Path) -> None:
    # "一" in GBK is D2 BB, which is also the UTF-8 of the Cyrillic "һ": both readings plausible
    path = tmp_path / "a.csv"
    path.write_bytes("lng,lat,n\n114.4,23.1,一\n".encode("gbk"))
    with pytest.raises(EncodingError, match=r"a\.csv.*UTF-8, GB18030.*encoding="):
        gio.read_reports(path)
    assert gio.read_reports(path, encoding="GBK")["n"].tolist() == ["一"]
    latin = tmp_path / "l.csv"
    latin.write_bytes("lng,lat,n\n114.4,23.1,café crème brûlée\n".encode("cp1252"))
    with pytest.raises(EncodingError, match=r"l\.csv.*not UTF-8.*cp1252"):
        gio.read_reports(latin)


@pytest.mark.parametrize(
    ("ldid", "codec", "text"),
    [
        (0x4D, "gbk", "一位"),
        (0x78, "big5", "臺北"),
        (0x4F, "big5", "臺北"),
        (0xC9, "cp1251", "Мир"),
    ],
)
def test_dbase_language_driver_id_is_honoured(
    tmp_path: Path, ldid: int, codec: str, text: str
) -> None:
    layer = gpd.GeoDataFrame({"n": [text]}, geometry=[Point(114.4, 23.1)], crs=4490)
    path = gio.write_layer(layer, tmp_path / "l.shp", encoding=codec)
    (tmp_path / "l.cpg").unlink()
    dbf = bytearray((tmp_path / "l.dbf").read_bytes())
    dbf[29] = ldid
    (tmp_path / "l.dbf").write_bytes(bytes(dbf))
    assert gio.read_layer(path)["n"].tolist() == [text]


def test_ldid_that_does_not_decode_is_ignored() -> None:
    from gridgeo.io._encoding import ldid_encoding

    assert ldid_encoding(0x4D, ["网格".encode("gbk")]) == "gb18030"
    assert ldid_encoding(0x03, ["Ø".encode()]) is None  # valid UTF-8 beats a default Latin id
    assert ldid_encoding(0x57, ["网格".encode("gbk")]) is None  # "ANSI" says nothing
    assert ldid_encoding(0x4F, [b"\xff\xff"]) is None


def test_codes_keep_leading_zeros_in_csv_and_excel(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "lng": [114.4, 114.5, 114.6],
            "lat": [23.1, 23.2, 23.3],
            "street_code": ["001", "002", "010"],
            "phone": ["013912345678", "13912345678", None],
            "long_id": ["4401060010010010012", "4401060010010010013", "1"],
            "count": [1, 2, 3],
            "plain": ["10", "20", "30"],
        }
    )
    csv = tmp_path / "r.csv"
    table.to_csv(csv, index=False)
    xlsx = tmp_path / "r.xlsx"
    table.to_excel(xlsx, index=False)
    for path in (csv, xlsx):
        got = gio.read_reports(path)
        assert got["street_code"].tolist() == ["001", "002", "010"], path.suffix
        assert got["phone"].iloc[:2].tolist() == ["013912345678", "13912345678"]
        assert got["long_id"].iloc[0] == "4401060010010010012"
        assert got["count"].tolist() == [1, 2, 3]
        assert pd.api.types.is_float_dtype(got["lng"])
    # text that is not code-like keeps pandas' types
    assert gio.read_reports(csv)["plain"].tolist() == [10, 20, 30]


# --- geometry and CRS guards (issue 14) ---------------------------------------------------------


def _shapefile(tmp_path: Path, n: int = 3) -> Path:
    layer = gpd.GeoDataFrame(
        {"n": list(range(n))}, geometry=[Point(114.4 + i / 100, 23.1) for i in range(n)], crs=4490
    )
    return gio.write_layer(layer, tmp_path / "p.shp")


@pytest.mark.parametrize("part", [".shx", ".dbf"])
def test_shapefile_with_a_missing_part_names_it(tmp_path: Path, part: str) -> None:
    path = _shapefile(tmp_path)
    path.with_suffix(part).unlink()
    with pytest.raises(InputFileError, match=rf"p\.shp' is incomplete: \{part} missing"):
        gio.read_layer(path)


@pytest.mark.parametrize(("part", "cut"), [(".shp", 10), (".dbf", 5), (".shx", 8)])
def test_truncated_shapefile_is_named(tmp_path: Path, part: str, cut: int) -> None:
    path = _shapefile(tmp_path)
    target = path.with_suffix(part)
    target.write_bytes(target.read_bytes()[:-cut])
    with pytest.raises(InputFileError, match=rf"p\.shp' is truncated.*\{part} is cut short"):
        gio.read_layer(path)


def test_shapefile_parts_from_different_copies(tmp_path: Path) -> None:
    path = _shapefile(tmp_path, 3)
    other = _shapefile(tmp_path / "x" if (tmp_path / "x").mkdir() is None else tmp_path, 5)
    path.with_suffix(".dbf").write_bytes(other.with_suffix(".dbf").read_bytes())
    with pytest.raises(InputFileError, match=r"\.dbf holds 5 records but \.shx indexes 3"):
        gio.read_layer(path)


def test_truncated_shapefile_in_zip(tmp_path: Path) -> None:
    path = _shapefile(tmp_path)
    archive = tmp_path / "p.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in (".shp", ".dbf", ".prj"):
            zf.write(path.with_suffix(part), f"p{part}")
    with pytest.raises(InputFileError, match=r"p\.zip!p\.shp' is incomplete: \.shx missing"):
        gio.read_layer(archive)


def test_corrupt_shape_record_is_a_row_without_geometry(tmp_path: Path, caplog) -> None:
    path = _shapefile(tmp_path)
    data = bytearray(path.read_bytes())
    data[100 + 8] = 0x55  # shape type of the first record: 85 is no shapefile type
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="gridgeo.io"):
        back = gio.read_layer(path)
    assert back.geometry.isna().tolist() == [True, False, False]
    assert "p.shp: 1 row(s) have no geometry (missing or empty): rows 0" in caplog.text


def _projected_points(xs: list[float], ys: list[float], crs: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"n": range(len(xs))}, geometry=gpd.points_from_xy(xs, ys), crs=crs)


@pytest.mark.parametrize(
    ("xs", "ys", "crs", "match"),
    [
        ([540979.0], [2555668.0], 4490, r"row 0 x=540979.*not a longitude/latitude"),
        ([114.41, 114.42], [23.1, 23.2], 4547, r"look like longitude/latitude degrees.*4490"),
        ([38_540_979.0], [2555668.0], 4547, r"zone prefix 38.*EPSG:4526"),
        ([540979.0], [2555668.0], 4526, r"no zone prefix.*zone number 38.*EPSG:4547"),
        ([39_540_979.0], [2555668.0], 4526, r"carry zone prefix 39.*zone 38.*EPSG:4527"),
    ],
    ids=["metres-as-4490", "degrees-as-4547", "prefix-as-cm", "cm-as-prefix", "wrong-zone"],
)
def test_coordinates_that_cannot_be_in_the_declared_crs(
    tmp_path: Path, xs: list[float], ys: list[float], crs: int, match: str
) -> None:
    path = tmp_path / "pts.gpkg"
    pyogrio.write_dataframe(_projected_points(xs, ys, crs), path)
    with pytest.raises(CRSError, match=rf"pts\.gpkg.*{match}"):
        gio.read_layer(path)


def test_read_reports_refuses_degrees_under_projected_crs() -> None:
    table = pd.DataFrame({"x": [114.41, 114.42], "y": [23.1, 23.2]})
    with pytest.raises(CRSError, match=r"'x'/'y'.*crs=4547.*row 0.*degrees"):
        gio.read_reports(table, lon="x", lat="y", crs=4547)
    prefixed = pd.DataFrame({"x": [38_540_979.0], "y": [2555668.0]})
    with pytest.raises(CRSError, match=r"zone prefix 38.*EPSG:4526"):
        gio.read_reports(prefixed, lon="x", lat="y", crs=4547)
    assert gio.read_reports(prefixed, lon="x", lat="y", crs=4526)["coord_status"].iloc[0] == "ok"


def test_empty_geometries_are_rows_not_a_crash(tmp_path: Path, caplog) -> None:
    layer = gpd.GeoDataFrame(
        {"n": [1, 2, 3]}, geometry=[Point(114.4, 23.1), Point(), None], crs=4490
    )
    path = tmp_path / "e.gpkg"
    pyogrio.write_dataframe(layer, path)
    with caplog.at_level(logging.WARNING, logger="gridgeo.io"):
        back = gio.read_layer(path)
    assert len(back) == 3 and "2 row(s) have no geometry" in caplog.text
    geojson = tmp_path / "e.geojson"
    pyogrio.write_dataframe(layer, geojson)
    for source in (back, geojson):
        reports = gio.read_reports(source)
        assert reports["coord_status"].tolist() == ["ok", "missing_coords", "missing_coords"]


# --- safe outputs (issue 14) -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp", ".parquet"])
def test_written_files_take_the_umask_or_the_old_mode(tmp_path: Path, suffix: str) -> None:
    old = os.umask(0o027)
    try:
        target = gio.write_layer(_layer(), tmp_path / f"a{suffix}")
        text = write_text_atomic(tmp_path / "a.html", "<p>ok</p>")
    finally:
        os.umask(old)
    for path in tmp_path.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path.name
    target.chmod(0o604)
    text.chmod(0o600)
    gio.write_layer(_layer(), target)
    write_text_atomic(text, "<p>new</p>")
    assert stat.S_IMODE(target.stat().st_mode) == 0o604
    assert stat.S_IMODE(text.stat().st_mode) == 0o600


def test_geojson_name_is_the_file_name_not_the_temporary(tmp_path: Path) -> None:
    target = gio.write_layer(_layer(), tmp_path / "网格.geojson")
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["name"] == "网格"
    assert ".tmp" not in target.read_text(encoding="utf-8")


_SIGTERM_CHILD = """
import pathlib, signal, sys, time
from gridgeo.io._atomic import atomic_fileset, atomic_path
folder = pathlib.Path(sys.argv[1])
if sys.argv[2] == "chain":
    def mine(signum, frame):
        (folder / "previous-handler-ran").touch()
        sys.exit(3)
    signal.signal(signal.SIGTERM, mine)
with atomic_path(folder / "out.geojson") as tmp, atomic_fileset(folder / "s.shp") as shp:
    tmp.write_text("half")
    shp.write_text("half")
    (folder / "ready").touch()
    time.sleep(120)
"""


@pytest.mark.parametrize("previous", ["default", "chain"])
def test_sigterm_mid_write_removes_temporaries(tmp_path: Path, previous: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", _SIGTERM_CHILD, str(tmp_path), previous])
    try:
        for _ in range(1200):
            if (tmp_path / "ready").exists() or child.poll() is not None:
                break
            time.sleep(0.05)
        assert (tmp_path / "ready").exists()
        child.send_signal(signal.SIGTERM)
        code = child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert _files(tmp_path) == (
        ["previous-handler-ran", "ready"] if previous == "chain" else ["ready"]
    )
    assert code == (3 if previous == "chain" else -signal.SIGTERM)


_GPKG_CHILD = """
import os, pathlib, sys, time
import geopandas as gpd
from shapely import Point
from gridgeo import io as gio
from gridgeo.io import _layers
target, layer, go = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
folder = pathlib.Path(target).parent
if layer == "a":  # the slow writer: pauses between copying the file and writing its layer
    real = _layers._write_ogr
    def slow(frame, tmp, **options):
        (folder / "a-copied").touch()
        for _ in range(1200):
            if go.exists():
                break
            time.sleep(0.05)
        real(frame, tmp, **options)
    _layers._write_ogr = slow
posts = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(114.4, 23.1)], crs=4490)
(folder / f"{layer}-ready").touch()
gio.write_layer(posts, target, layer=layer)
"""


def test_two_processes_adding_layers_to_one_geopackage_lose_none(tmp_path: Path) -> None:
    # Without the lock, b copies the file, adds its layer and renames it into place while a
    # waits; then a renames its own copy (taken before b) over it and layer b is lost.
    target = gio.write_layer(_layer(), tmp_path / "city.gpkg", layer="base")
    go = tmp_path / "go"

    def start(layer: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", _GPKG_CHILD, str(target), layer, str(go)])

    slow = start("a")
    fast = None
    try:
        for _ in range(1200):
            if (tmp_path / "a-copied").exists() or slow.poll() is not None:
                break
            time.sleep(0.05)
        fast = start("b")
        for _ in range(1200):
            if (tmp_path / "b-ready").exists() or fast.poll() is not None:
                break
            time.sleep(0.05)
        with contextlib.suppress(subprocess.TimeoutExpired):
            fast.wait(timeout=2)  # finishes at once without a lock; blocks on it with one
        go.touch()
        assert slow.wait(timeout=120) == 0
        assert fast.wait(timeout=120) == 0
    finally:
        for proc in (slow, fast):
            if proc is not None and proc.poll() is None:
                proc.kill()
    layers = sorted(str(n) for n in pyogrio.list_layers(target)[:, 0])
    assert layers == ["a", "b", "base"]
    assert not list(tmp_path.glob(".city*"))


def _enospc(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp"])
def test_disk_full_raises_naming_the_target(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_layers, "_write_ogr", _enospc)
    with pytest.raises(InputFileError, match=rf"a\{suffix}'.*No space left.*disk is full"):
        gio.write_layer(_layer(), tmp_path / f"a{suffix}")
    assert _files(tmp_path) == []


def test_disk_full_in_text_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fsync", _enospc)
    with pytest.raises(InputFileError, match=r"report\.html'.*disk is full"):
        write_text_atomic(tmp_path / "report.html", "<p>x</p>")
    assert _files(tmp_path) == []


def test_target_is_a_folder_or_in_a_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "a.gpkg").mkdir()
    with pytest.raises(InputFileError, match=r"a\.gpkg'.*is a folder"):
        gio.write_layer(_layer(), tmp_path / "a.gpkg")
    (tmp_path / "r.html").mkdir()
    with pytest.raises(InputFileError, match=r"r\.html'.*is a folder"):
        write_text_atomic(tmp_path / "r.html", "x")
    with pytest.raises(InputFileError, match=r"nowhere/r\.html'.*does not exist"):
        write_text_atomic(tmp_path / "nowhere" / "r.html", "x")


def test_read_only_folder_raises_naming_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, target: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(InputFileError, match=r"a\.parquet'.*Permission denied.*no permission"):
        gio.write_layer(_layer(), tmp_path / "a.parquet")
    assert _files(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_really_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(InputFileError, match=r"ro/a\.geojson'"):
            gio.write_layer(_layer(), folder / "a.geojson")
    finally:
        folder.chmod(0o755)


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet="0123456789:-+/.TZ UTC年月日时分\u3000\t\x1c\xa0٠١２", max_size=22),
            st.sampled_from(["2026-03-02T08:05:00+08:00", "2026-03-02\u300008:05", "٢٠٢٦"]),
        ),
        max_size=12,
    )
)
def test_time_twins_agree_on_unicode_space_and_digits(values: list[str | None]) -> None:
    # the fast path pre-filters with ASCII-only RE2 patterns; Python's \\s and \\d are Unicode
    from gridgeo.io._reports import parse_times, parse_times_slow

    column = pd.Series(values, dtype=object)
    fast, fast_bad = parse_times(column)
    slow, slow_bad = parse_times_slow(column)
    pd.testing.assert_series_equal(fast, slow)
    np.testing.assert_array_equal(fast_bad, slow_bad)


def test_datetimes_out_of_range_and_containers_are_unreadable_in_both_twins() -> None:
    from gridgeo.io._reports import parse_times, parse_times_slow

    stamps = np.array(["0001-01-01", "2026-03-02T08:05", "NaT"], dtype="datetime64[us]")
    column = pd.Series(stamps, name="t")
    mixed = pd.Series([[1], b"\xff", pd.Timestamp("1500-01-01"), "2026-03-02"], dtype=object)
    for values in (column, mixed):
        fast, fast_bad = parse_times(values)
        slow, slow_bad = parse_times_slow(values)
        pd.testing.assert_series_equal(fast, slow)
        np.testing.assert_array_equal(fast_bad, slow_bad)
    assert parse_times(column)[1].tolist() == [True, False, False]
    assert parse_times(mixed)[1].tolist() == [True, True, True, False]


@pytest.mark.parametrize("suffix", [".shp", ".geojson", ".gpkg"])
def test_codes_keep_leading_zeros_in_layers(tmp_path: Path, suffix: str) -> None:
    layer = gpd.GeoDataFrame(
        {"street": ["001", "010"], "cell": ["441302001001001", "441302001001002"]},
        geometry=[Point(114.4, 23.1), Point(114.5, 23.2)],
        crs=4490,
    )
    back = gio.read_layer(gio.write_layer(layer, tmp_path / f"c{suffix}"))
    assert back["street"].tolist() == ["001", "010"]
    assert back["cell"].tolist() == ["441302001001001", "441302001001002"]
    if suffix == ".geojson":
        reports = gio.read_reports(tmp_path / "c.geojson")
        assert reports["street"].tolist() == ["001", "010"]


def test_read_reports_iso_times_with_offset_or_z_are_not_nat() -> None:
    # issue 14: these became NaT (with a note only) before
    table = pd.DataFrame(
        {
            "lng": [114.4, 114.5],
            "lat": [23.1, 23.2],
            "t": ["2026-03-02T08:05:00+08:00", "2026-03-02T00:05:00Z"],
        }
    )
    result = gio.read_reports(table, time="t")
    assert result["t"].tolist() == [pd.Timestamp("2026-03-02 08:05")] * 2
    assert (result["coord_issue"] == "").all()
