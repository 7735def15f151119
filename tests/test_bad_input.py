"""Bad inputs, one test per row of docs/errors.md, plus the issue-14 regressions.

Each catalogue row is a :class:`Row`: a function that feeds gridgeo the bad input, the
gridgeo error class it must raise (None for rows where gridgeo repairs or reports instead),
and the texts the message must contain (the file, column, row or value at fault).
``test_catalogue_matches_docs`` keeps docs/errors.md and this table in step.
"""

from __future__ import annotations

import errno
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely import Point, Polygon, box

import gridgeo as gg
from gridgeo import errors
from gridgeo import io as gio
from gridgeo.io import _layers
from gridgeo.io._atomic import write_text_atomic

CRS_GK = "EPSG:4547"
X0, Y0 = 500_000.0, 2_550_000.0
DOCS = Path(__file__).resolve().parents[1] / "docs" / "errors.md"
OWNED = "owned by issue 15/16/13 work"


@pytest.fixture(scope="module")
def net() -> gpd.GeoDataFrame:
    cells = [
        box(X0 + i * 100, Y0 + j * 100, X0 + i * 100 + 100, Y0 + j * 100 + 100)
        for j in range(3)
        for i in range(3)
    ]
    codes = [f"C{k:02d}" for k in range(9)]
    return gpd.GeoDataFrame({"cell_code": codes}, geometry=cells, crs=CRS_GK)


# --- the catalogue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One row of docs/errors.md."""

    run: Callable[[Path], Any]
    error: type[BaseException] | None
    names: tuple[str, ...]
    xfail: str = ""


def _points(crs: Any = 4490, n: int = 2) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"n": range(n)}, geometry=[Point(114.4 + i / 100, 23.1) for i in range(n)], crs=crs
    )


def _cells(n: int = 4) -> gpd.GeoDataFrame:
    geoms = [box(X0 + i * 100, Y0, X0 + i * 100 + 100, Y0 + 100) for i in range(n)]
    return gpd.GeoDataFrame(
        {
            "cell_code": [f"441302001001{i + 1:03d}" for i in range(n)],
            "admin_code": "441302",
            "street_code": "001",
            "community_code": "001",
        },
        geometry=geoms,
        crs=CRS_GK,
    )


def _csv(tmp: Path, text: str, encoding: str = "utf-8", name: str = "r.csv") -> Path:
    path = tmp / name
    path.write_bytes(text.encode(encoding))
    return path


def _reports(**columns: Any) -> pd.DataFrame:
    base = {"lng": [114.40, 114.41], "lat": [23.10, 23.11]}
    return pd.DataFrame({**base, **columns})


def _issue(result: gpd.GeoDataFrame, row: int = 1) -> str:
    return str(result["coord_issue"].iloc[row])


def _gbk_shapefile(tmp: Path, name: str = "c.shp") -> Path:
    layer = gpd.GeoDataFrame({"名称": ["东城社区"]}, geometry=[Point(114.4, 23.1)], crs=4490)
    path = gio.write_layer(layer, tmp / name, encoding="GBK")
    path.with_suffix(".cpg").unlink()
    return path


def _log(run: Callable[[], Any], logger: str) -> str:
    """Run and return what ``logger`` logged at WARNING and above."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Keep(level=logging.WARNING)
    target = logging.getLogger(logger)
    target.addHandler(handler)
    try:
        run()
    finally:
        target.removeHandler(handler)
    return " | ".join(records)


def _enospc(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def _write_with(tmp: Path, name: str, patch: tuple[Any, str, Any]) -> Any:
    owner, attr, value = patch
    old = getattr(owner, attr)
    setattr(owner, attr, value)
    try:
        return gio.write_layer(_points(), tmp / name)
    finally:
        setattr(owner, attr, old)


def _big_fishnet(tmp: Path) -> Any:
    area = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 10_000, Y0 + 10_000)], crs=CRS_GK)
    return gg.cells.fishnet(area, 0.001)


def _degree_cells(tmp: Path) -> str:
    cells = gpd.GeoDataFrame(
        {"cell_code": ["1"]}, geometry=[box(114.40, 23.10, 114.42, 23.12)], crs=CRS_GK
    )
    result = gg.cells.validate(cells)
    assert not result.ok, "a 0.0004 m² cell of degree coordinates under EPSG:4547 passes"
    return repr(result)


def _excel_formula(tmp: Path) -> str:
    import openpyxl

    from gridgeo.coverage import CoverageReport

    text = '=HYPERLINK("http://example.invalid","click")'
    frame = pd.DataFrame({"warning_reason": [text]})
    rep = CoverageReport(sections={"warnings": frame}, layers={}, period=(None, None))
    path = rep.to_excel(tmp / "r.xlsx", lang="en")
    cell = openpyxl.load_workbook(path).worksheets[0]["A2"]
    assert cell.data_type == "s" and cell.value == text, "stored as a live formula"
    return f"warning_reason {cell.value}"


def _map_name(tmp: Path) -> str:
    grids = gpd.GeoDataFrame(
        {"grid_code": ["g1"]}, geometry=[box(114.4, 23.1, 114.41, 23.11)], crs=4326
    )
    page = gg.maps.grid_map(grids, name="<b>网格</b><script>x()</script>").get_root().render()
    # Leaflet's layer control shows the name with innerHTML: JSON escapes do not protect it
    shown = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), page)
    assert "<script>x()</script>" not in shown, "layer name reaches the page as HTML"
    return shown


def _gpkg_two_layers(tmp: Path) -> Any:
    gio.write_layer(_points(), tmp / "t.gpkg", layer="a")
    gio.write_layer(_points(), tmp / "t.gpkg", layer="b")
    return gio.read_layer(tmp / "t.gpkg")


def _truncate(tmp: Path, part: str) -> Any:
    path = gio.write_layer(_points(n=3), tmp / "p.shp")
    target = path.with_suffix(part)
    target.write_bytes(target.read_bytes()[:-10])
    return gio.read_layer(path)


def _missing_part(tmp: Path) -> Any:
    path = gio.write_layer(_points(), tmp / "p.shp")
    path.with_suffix(".dbf").unlink()
    return gio.read_layer(path)


def _layer_crs(tmp: Path, xs: list[float], ys: list[float], crs: int) -> Any:
    layer = gpd.GeoDataFrame({"n": range(len(xs))}, geometry=gpd.points_from_xy(xs, ys), crs=crs)
    pyogrio.write_dataframe(layer, tmp / "pts.gpkg")
    return gio.read_layer(tmp / "pts.gpkg")


def _empty_in_layer(tmp: Path) -> str:
    layer = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[Point(114.4, 23.1), Point()], crs=4490)
    pyogrio.write_dataframe(layer, tmp / "e.gpkg")
    text = _log(lambda: gio.read_layer(tmp / "e.gpkg"), "gridgeo")
    assert len(gio.read_layer(tmp / "e.gpkg")) == 2
    return text


def _assign_empty(tmp: Path) -> str:
    reports = gpd.GeoDataFrame(geometry=[Point()], crs=CRS_GK)
    out = gg.assign(reports, _cells())
    assert out["status"].astype(str).tolist() == ["missing_coords"]
    return f"row 0 {out['status'].iloc[0]} {out['reason'].iloc[0]}"


def _assign_overlap(tmp: Path) -> str:
    cells = _cells(2)
    cells = pd.concat([cells, cells.iloc[:1].assign(cell_code="X")], ignore_index=True)
    reports = gpd.GeoDataFrame(geometry=[Point(X0 + 50, Y0 + 50)], crs=CRS_GK)
    return _log(lambda: gg.assign(reports, cells), "gridgeo")


def _times(values: list[Any], **options: Any) -> Any:
    return gio.parse_times(pd.Series(values, name="reported_at"), **options)


def _plan() -> Any:
    return gg.grids.build(_cells(4), n=2, progress=False)


def _flag_rows(tmp: Path, table: pd.DataFrame, row: int = 1, **options: Any) -> str:
    result = gio.read_reports(table, **options)
    assert result["coord_status"].iloc[row] != "ok"
    return f"{result['coord_status'].iloc[row]}: {_issue(result, row)}"


def _time_flag(tmp: Path) -> str:
    result = gio.read_reports(_reports(t=["2026-03-02", "昨天"]), time="t")
    assert pd.isna(result["t"].iloc[1])
    return _issue(result)


ROWS: dict[str, Row] = {
    # encodings
    "ENC-01": Row(
        lambda t: (
            gio.read_reports(_csv(t, "lng,lat,名称\n114.4,23.1,东城社区\n", "gbk"))["名称"]
            .iloc[0]
            .replace("东城社区", "read as GB18030: r.csv 名称")
        ),
        None,
        ("r.csv", "名称"),
    ),
    "ENC-02": Row(
        lambda t: (
            "note: " + gio.read_reports(_csv(t, "lng,lat,note\n114.4,23.1,Ø 10°\n"))["note"][0]
        ),
        None,
        ("note: Ø 10°",),
    ),
    "ENC-03": Row(
        lambda t: gio.read_reports(_csv(t, "lng,lat,n\n114.4,23.1,一\n", "gbk")),
        errors.EncodingError,
        ("r.csv", "UTF-8, GB18030", "encoding="),
    ),
    "ENC-04": Row(
        lambda t: gio.read_reports(_csv(t, "lng,lat,n\n114.4,23.1,café\n", "cp1252")),
        errors.EncodingError,
        ("r.csv", "not UTF-8", "cp1252"),
    ),
    "ENC-05": Row(
        lambda t: gio.read_reports(
            _csv(t, "lng,lat,n\n114.4,23.1,东城\n", "gbk"), encoding="utf-8"
        ),
        errors.EncodingError,
        ("r.csv", "as utf-8", "at byte", "GBK"),
    ),
    "ENC-06": Row(
        lambda t: gio.read_reports(_csv(t, "lng,lat\n1,2\n"), encoding="klingon"),
        errors.EncodingError,
        ("klingon", "r.csv"),
    ),
    "ENC-07": Row(
        lambda t: "名称=" + gio.read_layer(_gbk_shapefile(t))["名称"].iloc[0] + " c.shp",
        None,
        ("名称=东城社区", "c.shp"),
    ),
    "ENC-08": Row(
        lambda t: gio.read_layer(_gbk_shapefile(t), encoding="utf-8"),
        errors.EncodingError,
        ("c.shp", "encoding="),
    ),
    "ENC-09": Row(
        lambda t: gio.write_layer(_points().assign(备注=["ok", "🙂"]), t / "e.shp", encoding="GBK"),
        errors.EncodingError,
        ("'备注'", "row 1", "e.shp"),
    ),
    "ENC-10": Row(
        lambda t: gio.read_layer(gio.write_layer(_points(), t / "a.gpkg"), encoding="GBK"),
        errors.InputFileError,
        ("encoding='GBK'", "Shapefiles only"),
    ),
    # times
    "TIME-01": Row(
        lambda t: (
            str(_times(["2026-03-02T00:05:00Z", "2026-03-02T08:05:00+08:00"]).times[0])
            + " reported_at"
        ),
        None,
        ("2026-03-02 08:05:00", "reported_at"),
    ),
    "TIME-02": Row(
        lambda t: str(_times([46083.5, 1772409900]).times.tolist()) + " reported_at",
        None,
        ("2026-03-02 12:00:00", "2026-03-02 08:05:00"),
    ),
    "TIME-03": Row(
        lambda t: _times(["2026-03-02", "昨天"]),
        errors.ColumnError,
        ("'reported_at'", "row 1", "'昨天'"),
    ),
    "TIME-04": Row(
        lambda t: " ".join(_times(["2026-02-30", "x"], errors="report").issues),
        None,
        ("row 0: reported_at='2026-02-30'", "row 1: reported_at='x'"),
    ),
    "TIME-05": Row(
        lambda t: gio.read_reports(_reports(t=["2026-03-02", "昨天"]), time="t", errors="raise"),
        errors.ColumnError,
        ("column 't'", "row 1", "'昨天'"),
    ),
    "TIME-06": Row(_time_flag, None, ("row 1", "t='昨天'", "set to NaT")),
    "TIME-07": Row(
        lambda t: _times(["2026-03-02"], tz="Asia/Beijing"),
        ValueError,
        ("tz='Asia/Beijing'", "Asia/Shanghai"),
    ),
    "TIME-08": Row(
        lambda t: gio.read_reports(_reports(), time="受理时间"),
        errors.ColumnError,
        ("time='受理时间'", "'lng'"),
    ),
    # coordinates
    "XY-01": Row(
        lambda t: _flag_rows(t, _reports(lng=[114.4, None])), None, ("row 1", "lng is missing")
    ),
    "XY-02": Row(
        lambda t: _flag_rows(t, _reports(lat=[23.1, "23.1abc"])),
        None,
        ("row 1", "lat='23.1abc' is not a number"),
    ),
    "XY-03": Row(
        lambda t: _flag_rows(t, _reports(lat=[23.1, 123.4])),
        None,
        ("row 1", "lat=123.4 out of range"),
    ),
    "XY-04": Row(
        lambda t: _flag_rows(t, _reports(lng=[114.4, 0.0], lat=[23.1, 0.0])),
        None,
        ("row 1", "null island"),
    ),
    "XY-05": Row(
        lambda t: _flag_rows(t, _reports(lng=[114.4, float("inf")])),
        None,
        ("row 1", "not finite"),
    ),
    "XY-06": Row(
        lambda t: gio.read_reports(_reports(lng=[23.1, 23.2], lat=[114.4, 114.5])),
        errors.CoordinateError,
        ("look swapped", "lon='lat'", "lat='lng'"),
    ),
    "XY-07": Row(
        lambda t: gio.read_reports(_reports(lat=[23.1, 123.4]), errors="raise"),
        errors.CoordinateError,
        ("row 1", "'lng'/'lat'", "lat=123.4"),
    ),
    "XY-08": Row(
        lambda t: gio.read_reports(pd.DataFrame({"经度": [114.4], "lat": [23.1]})),
        errors.ColumnError,
        ("lon='lng'", "lon='经度'"),
    ),
    "XY-09": Row(
        lambda t: gio.read_reports(_reports(), lon="lat", lat="lat"),
        errors.ColumnError,
        ("'lat'", "two columns"),
    ),
    "XY-10": Row(
        lambda t: gio.read_reports(
            _reports().rename(columns={"lng": "x", "lat": "y"}), lon="x", lat="y", crs=4547
        ),
        errors.CRSError,
        ("'x'/'y'", "row 0", "degrees"),
    ),
    "XY-11": Row(
        lambda t: gio.read_reports(
            pd.DataFrame({"x": [38_540_979.0], "y": [2555668.0]}), lon="x", lat="y", crs=4547
        ),
        errors.CRSError,
        ("row 0", "zone prefix 38", "EPSG:4526"),
    ),
    # CRS
    "CRS-01": Row(
        lambda t: _layer_crs(t, [540979.0], [2555668.0], 4490),
        errors.CRSError,
        ("pts.gpkg", "row 0", "not a longitude/latitude"),
    ),
    "CRS-02": Row(
        lambda t: _layer_crs(t, [114.41], [23.1], 4547),
        errors.CRSError,
        ("pts.gpkg", "row 0", "degrees"),
    ),
    "CRS-03": Row(
        lambda t: _layer_crs(t, [540979.0], [2555668.0], 4526),
        errors.CRSError,
        ("pts.gpkg", "no zone prefix", "EPSG:4547"),
    ),
    "CRS-04": Row(
        lambda t: gio.read_reports(_reports(), crs="mars"),
        errors.CRSError,
        ("crs='mars'", "gcj02", "4547"),
    ),
    "CRS-05": Row(
        lambda t: gg.assign(gpd.GeoDataFrame(geometry=[Point(X0, Y0)]), _cells()),
        errors.CRSError,
        ("reports has no CRS", "set_crs"),
    ),
    "CRS-06": Row(
        lambda t: gg.cells.fishnet(gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)]), 100),
        errors.CRSError,
        ("area has no CRS", "EPSG:4547"),
    ),
    # geometries
    "GEOM-01": Row(_assign_empty, None, ("row 0", "missing_coords", "no coordinates")),
    "GEOM-02": Row(_empty_in_layer, None, ("e.gpkg", "1 row(s) have no geometry", "rows 1")),
    "GEOM-03": Row(
        lambda t: _flag_rows(
            t,
            gpd.GeoDataFrame(
                geometry=[Point(114.4, 23.1), box(114.4, 23.1, 114.5, 23.2)], crs=4326
            ),
        ),
        None,
        ("row 1", "geometry is a Polygon, not a Point"),
    ),
    "GEOM-04": Row(
        lambda t: gg.cells.fishnet(
            gpd.GeoDataFrame(
                geometry=[
                    Polygon([(X0, Y0), (X0 + 1e3, Y0 + 1e3), (X0 + 1e3, Y0), (X0, Y0 + 1e3)])
                ],
                crs=CRS_GK,
            ),
            100,
        ),
        errors.GeometryError,
        ("area", "row(s) 0", "Self-intersection", "make_valid"),
    ),
    "GEOM-05": Row(
        lambda t: gg.assign(_points(CRS_GK), _cells().set_geometry(_cells().centroid)),
        errors.GeometryError,
        ("cells", "Polygon or MultiPolygon", "row(s) 0"),
    ),
    "GEOM-06": Row(_assign_overlap, None, ("1 pair(s) of cells overlap", "'441302001001001'/'X'")),
    "GEOM-07": Row(
        lambda t: repr(
            gg.cells.validate(
                gpd.GeoDataFrame(
                    {"cell_code": ["a", "b"]},
                    geometry=[box(0, 0, 100, 100), box(50, 0, 150, 100)],
                    crs=CRS_GK,
                )
            )
        ),
        None,
        ("ok=False", "overlaps: 1 (5,000.00 m²)"),
    ),
    # sizes
    "SIZE-01": Row(_big_fishnet, errors.GridgeoError, ("cells", "GB", "max_cells=")),
    "SIZE-02": Row(
        lambda t: gg.cells.fishnet(
            gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 10, Y0 + 10)], crs=CRS_GK), -5
        ),
        ValueError,
        ("size", "-5"),
    ),
    "SIZE-03": Row(_degree_cells, None, ("ok=False",)),
    # columns
    "COL-01": Row(
        lambda t: gio.read_reports(_reports(rid=["A", "A"]), id="rid"),
        errors.DuplicateIdError,
        ("'rid'", "'A'"),
    ),
    "COL-02": Row(
        lambda t: gio.read_reports(_reports(rid=["A", None]), id="rid"),
        errors.ColumnError,
        ("'rid'", "row(s) 1"),
    ),
    "COL-03": Row(
        lambda t: (
            "street_code "
            + str(
                gio.read_reports(_csv(t, "lng,lat,street_code\n114.4,23.1,001\n114.5,23.2,010\n"))[
                    "street_code"
                ].tolist()
            )
        ),
        None,
        ("street_code", "['001', '010']"),
    ),
    "COL-04": Row(
        lambda t: gio.write_layer(
            _points().assign(社区名称很长的字段=1), t / "a.shp", encoding="GBK"
        ),
        errors.ColumnError,
        ("'社区名称很长的字段'", "10 bytes", "a.shp"),
    ),
    "COL-05": Row(
        lambda t: gio.write_layer(_points().assign(note=["a" * 300, "b"]), t / "a.shp"),
        errors.ColumnError,
        ("'note'", "row 0", "254"),
    ),
    "COL-06": Row(
        lambda t: gio.write_layer(_points().assign(tags=[["a"], ["b"]]), t / "a.geojson"),
        errors.ColumnError,
        ("'tags'", "row 0", "list", "a.geojson"),
    ),
    "COL-07": Row(
        lambda t: gg.assign(_points(CRS_GK), _cells().drop(columns="cell_code")),
        errors.ColumnError,
        ("cells", "'cell_code'"),
    ),
    "COL-08": Row(
        lambda t: gg.assign(_points(CRS_GK), _cells().assign(cell_code="same")),
        errors.DuplicateIdError,
        ("cell_code", "'same'"),
    ),
    # plans
    "PLAN-01": Row(
        lambda t: gg.grids.move(_plan(), "441302001001001", "NOPE"),
        errors.PlanError,
        ("'NOPE'", "not a grid"),
    ),
    "PLAN-02": Row(
        lambda t: gg.grids.move(_plan(), "999", _plan().grids["grid_code"].iloc[0]),
        errors.PlanError,
        ("'999'", "not found"),
    ),
    "PLAN-03": Row(
        lambda t: gg.grids.build(_cells(4).drop(columns="community_code"), n=2, progress=False),
        errors.ColumnError,
        ("'community_code'",),
    ),
    # files
    "FILE-01": Row(
        lambda t: gio.read_layer(t / "nope.gpkg"),
        errors.InputFileError,
        ("nope.gpkg", "does not exist"),
    ),
    "FILE-02": Row(
        lambda t: gio.read_reports(_csv(t, "x", name="r.dbx")),
        errors.InputFileError,
        ("r.dbx", "'.dbx'", "Supported formats"),
    ),
    "FILE-03": Row(
        lambda t: gio.read_layer(_gpkg_two_layers(t)),
        errors.InputFileError,
        ("t.gpkg", "2 layers", "'a', 'b'", "layer="),
    ),
    "FILE-04": Row(_missing_part, errors.InputFileError, ("p.shp", ".dbf missing")),
    "FILE-05": Row(
        lambda t: _truncate(t, ".shp"), errors.InputFileError, ("p.shp", ".shp is cut short")
    ),
    "FILE-06": Row(
        lambda t: gio.read_layer(_csv(t, "not a geopackage", name="b.gpkg")),
        errors.InputFileError,
        ("b.gpkg", "corrupt"),
    ),
    "FILE-07": Row(
        lambda t: (
            pd.DataFrame({"lng": [1.0]}).to_parquet(t / "a.parquet"),
            gio.read_layer(t / "a.parquet"),
        ),
        errors.InputFileError,
        ("a.parquet", "read_reports"),
    ),
    "FILE-08": Row(
        lambda t: gio.read_postgis("SELECT * FROM reports WHERE kind = 'event'", None),
        ValueError,
        ("quoted literal", "params="),
    ),
    # outputs
    "OUT-01": Row(
        lambda t: _write_with(t, "a.gpkg", (_layers, "_write_ogr", _enospc)),
        errors.InputFileError,
        ("a.gpkg", "disk is full"),
    ),
    "OUT-02": Row(
        lambda t: ((t / "d.gpkg").mkdir(), gio.write_layer(_points(), t / "d.gpkg")),
        errors.InputFileError,
        ("d.gpkg", "is a folder"),
    ),
    "OUT-03": Row(
        lambda t: write_text_atomic(t / "missing" / "r.html", "x"),
        errors.InputFileError,
        ("missing", "does not exist"),
    ),
    "OUT-04": Row(
        lambda t: _write_with(
            t,
            "a.parquet",
            (
                Path,
                "replace",
                lambda *a: (_ for _ in ()).throw(
                    PermissionError(errno.EACCES, "Permission denied")
                ),
            ),
        ),
        errors.InputFileError,
        ("a.parquet", "no permission"),
    ),
    "OUT-05": Row(
        lambda t: gio.write_layer(_points(), t / "a.kml"),
        errors.InputFileError,
        ("a.kml", "'.kml'"),
    ),
    "OUT-06": Row(_map_name, None, ("&lt;script&gt;x()",)),
    "OUT-07": Row(_excel_formula, None, ("warning_reason",)),
}


def _param(key: str, row: Row) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=row.xfail)] if row.xfail else []
    return pytest.param(key, row, id=key, marks=marks)


@pytest.mark.parametrize(("key", "row"), [_param(k, r) for k, r in ROWS.items()])
def test_catalogue_row(key: str, row: Row, tmp_path: Path) -> None:
    if row.error is None:
        message = str(row.run(tmp_path))
    else:
        with pytest.raises(row.error) as info:
            row.run(tmp_path)
        assert isinstance(info.value, errors.GridgeoError | ValueError), key
        message = str(info.value)
    for name in row.names:
        assert name in message, f"{key}: {name!r} not in {message!r}"


def test_catalogue_matches_docs() -> None:
    documented = re.findall(r"^\| ([A-Z]+-\d\d) \|", DOCS.read_text(encoding="utf-8"), re.M)
    assert len(documented) >= 40
    assert documented == list(ROWS), "docs/errors.md rows and ROWS differ"


# --- assign ------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["fishnet", "raster", "strtree", "exact"])
@pytest.mark.parametrize("with_none", [False, True])
def test_empty_points_are_missing_coords_not_a_crash(net, engine, with_none):
    # shapely 2 refuses get_x on an empty point; the docs promise missing_coords
    geoms = [Point(X0 + 50, Y0 + 50), Point(), shapely.from_wkt("POINT EMPTY")]
    geoms += [None] if with_none else []
    reports = gpd.GeoDataFrame({"a": range(len(geoms))}, geometry=geoms, crs=CRS_GK)
    out = gg.assign(reports, net, engine=engine)
    expected = ["assigned", "missing_coords", "missing_coords"]
    expected += ["missing_coords"] if with_none else []
    assert out["status"].astype(str).tolist() == expected
    assert out["reason"].iloc[1] == "no coordinates"


def test_overlapping_cells_are_reported_by_assign(net, caplog):
    overlapping = pd.concat(
        [
            net,
            gpd.GeoDataFrame(
                {"cell_code": ["X"]}, geometry=[box(X0 + 50, Y0, X0 + 150, Y0 + 100)], crs=CRS_GK
            ),
        ],
        ignore_index=True,
    )
    reports = gpd.GeoDataFrame(geometry=[Point(X0 + 75, Y0 + 50)], crs=CRS_GK)
    with caplog.at_level(logging.WARNING, logger="gridgeo.assign"):
        out = gg.assign(reports, overlapping)
    assert out.attrs["overlapping_cells"] == [("C00", "X", 5000.0), ("C01", "X", 5000.0)]
    assert "2 pair(s) of cells overlap: 'C00'/'X' (5000)" in caplog.text
    assert gg.assign(reports, net).attrs["overlapping_cells"] == []


@given(
    st.lists(
        st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(1, 6), st.integers(1, 6)),
        min_size=1,
        max_size=12,
    )
)
def test_overlap_pairs_equal_the_pairwise_twin(boxes):
    from gridgeo.assignment._overlaps import overlapping_pairs, overlapping_pairs_slow

    geoms = np.array([box(x, y, x + w, y + h) for x, y, w, h in boxes], dtype=object)
    fast = overlapping_pairs(geoms)
    slow = overlapping_pairs_slow(geoms)
    order = np.lexsort((fast[1], fast[0]))
    for got, want in zip((fast[0][order], fast[1][order], fast[2][order]), slow, strict=True):
        np.testing.assert_array_equal(got, want)


_ANY = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**20), 10**20),
    st.booleans(),
    st.text(max_size=8),
    st.datetimes(),
    st.lists(st.integers(), max_size=2),
    st.just(pd.NaT),
    st.just(b"\xff\x00"),
)


@given(st.lists(st.tuples(_ANY, _ANY, _ANY), min_size=1, max_size=8))
def test_read_reports_never_leaks_a_raw_error(rows):
    table = pd.DataFrame(rows, columns=["lng", "lat", "t"], dtype=object)
    try:
        result = gio.read_reports(table, time="t")
    except errors.GridgeoError:
        return
    assert len(result) == len(table)
    assert set(result["coord_status"]) <= {"ok", "missing_coords", "invalid_coords"}
