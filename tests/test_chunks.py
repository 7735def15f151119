"""Chunked read -> assign -> counts equals one pass (gridgeo.io.iter_reports & co.)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

import gridgeo as gg
from gridgeo import io as gio
from gridgeo.assignment import LevelRules
from gridgeo.errors import ColumnError, EncodingError, InputFileError

N_REPORTS = 20_000
CHUNK = 3_000


@pytest.fixture(scope="module")
def plan() -> gg.grids.GridPlan:
    city = gg.datasets.demo_city()
    cells = gg.cells.code(gg.cells.fishnet(city.district, 250, nest=city.communities))
    return gg.grids.build(cells, n=30, progress=False)


@pytest.fixture(scope="module")
def reports_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    table = gg.datasets.demo_reports(N_REPORTS, seed=7)
    # points outside the district (outside/snapped statuses) and an unparseable time
    table.loc[[5, 4_000, 12_345], ["lng", "lat"]] = [[114.0, 23.0], [115.0, 22.5], [113.9, 23.2]]
    table["reported_at"] = table["reported_at"].astype(str)
    table.loc[[7, 9_001], "reported_at"] = ["yesterday", "2026-13-45"]
    path = tmp_path_factory.mktemp("chunks") / "reports.csv"
    table.to_csv(path, index=False)
    return path


READ = {"crs": "gcj02", "time": "reported_at"}
ASSIGN = {"tolerance": 50.0, "duplicates": False, "rules": LevelRules(repeat_count=0)}


def test_iter_reports_equals_one_pass(reports_csv: Path) -> None:
    one = gio.read_reports(reports_csv, **READ)
    chunks = list(gio.iter_reports(reports_csv, chunksize=CHUNK, **READ))
    assert [len(c) for c in chunks] == [CHUNK] * 6 + [N_REPORTS - 6 * CHUNK]
    both = pd.concat(chunks)
    # row labels in coord_issue count from the file's first row, as in one pass
    assert (one["coord_issue"] != "").sum() > 100
    assert one.loc[9_001, "coord_issue"].startswith("row 9001: reported_at=")
    pd.testing.assert_frame_equal(both, one)


def test_iter_reports_with_ids_keeps_the_id_index(reports_csv: Path) -> None:
    one = gio.read_reports(reports_csv, id="report_id", **READ)
    both = pd.concat(gio.iter_reports(reports_csv, chunksize=CHUNK, id="report_id", **READ))
    pd.testing.assert_frame_equal(both, one)
    assert "(id " in both.loc[both["coord_issue"] != "", "coord_issue"].iloc[-1]


def test_chunked_pipeline_equals_one_pass(reports_csv: Path, plan: gg.grids.GridPlan) -> None:
    one = gg.assign(gio.read_reports(reports_csv, **READ), plan, **ASSIGN)
    chunks = list(
        gg.assignment.assign_chunks(
            gio.iter_reports(reports_csv, chunksize=CHUNK, **READ), plan, **ASSIGN
        )
    )
    both = pd.concat(chunks)
    statuses = set(one["status"].astype(str))
    assert {"assigned", "snapped", "outside", "invalid_coords", "missing_coords"} <= statuses
    for column in ("status", "cell_code", "grid_code", "reason", "department", "level"):
        assert both[column].astype(object).equals(one[column].astype(object)), column
    np.testing.assert_array_equal(both["distance_m"], one["distance_m"])
    # counts: per cell and per grid, with a by= breakdown
    for layer in (plan.cells, plan.grids):
        expected = gg.hotspots.counts(one, layer, by="source")
        got = gg.hotspots.count_chunks(iter(chunks), layer, by="source")
        pd.testing.assert_frame_equal(got, expected)
        assert got["count"].sum() == one["status"].isin(["assigned", "snapped"]).sum()
    summed = gg.hotspots.count_chunks(chunks, plan.cells).attrs["status_counts"]
    assert summed == one.attrs["status_counts"]


def _count_slow(frames: list[pd.DataFrame], codes: list[str]) -> dict[str, int]:
    """Row by row: how many counted reports name each cell."""
    out = dict.fromkeys(codes, 0)
    for frame in frames:
        for code, status in zip(frame["cell_code"], frame["status"], strict=True):
            if status in ("assigned", "snapped") and code in out:
                out[code] += 1
    return out


def test_count_chunks_matches_a_row_by_row_count(plan: gg.grids.GridPlan) -> None:
    codes = plan.cells["cell_code"].tolist()
    rng = np.random.default_rng(1)
    frames = []
    for size in (0, 7, 300, 1):
        frames.append(
            pd.DataFrame(
                {
                    "cell_code": rng.choice([*codes[:20], "not-a-cell"], size),
                    "status": rng.choice(["assigned", "snapped", "outside"], size),
                }
            )
        )
    got = gg.hotspots.count_chunks(frames, plan.cells)
    assert dict(zip(got["cell_code"], got["count"], strict=True)) == _count_slow(frames, codes)


def test_assign_chunks_checks_cells_at_once() -> None:
    bad = gpd.GeoDataFrame({"code": ["A"]}, geometry=[box(0, 0, 1, 1)], crs=4547)
    with pytest.raises(ColumnError, match="cell_code"):
        gg.assignment.assign_chunks([], bad)
    with pytest.raises(TypeError, match="iterable"):
        gg.assignment.assign_chunks(gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=4547), bad)
    with pytest.raises(TypeError, match="one frame"):
        gg.hotspots.count_chunks(pd.DataFrame({"cell_code": []}), bad)


def test_iter_reports_parquet_equals_csv(reports_csv: Path, tmp_path: Path) -> None:
    table = pd.read_csv(reports_csv, dtype={"reported_at": str})
    path = tmp_path / "reports.parquet"
    table.to_parquet(path)
    one = gio.read_reports(path, **READ)
    both = pd.concat(gio.iter_reports(path, chunksize=CHUNK, **READ))
    pd.testing.assert_frame_equal(both, one)


def test_iter_reports_gbk(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    rows = "\n".join(f"{114.4 + i / 1000},23.1,城东区{i}号" for i in range(50))
    path.write_bytes(f"lng,lat,地址\n{rows}\n".encode("gbk"))
    both = pd.concat(gio.iter_reports(path, chunksize=7))
    assert both["地址"].iloc[49] == "城东区49号"
    assert list(both.index) == list(range(50))


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "error", "match"),
    [
        ("r.xlsx", b"", {"chunksize": 5}, InputFileError, "Supported: CSV"),
        ("missing.csv", None, {"chunksize": 5}, InputFileError, "does not exist"),
        ("r.csv", b"lng,lat\n1,2\n", {"chunksize": 0}, ValueError, "at least 1"),
        ("r.csv", b"lng,lat\n1,2\n", {"chunksize": 2.5}, TypeError, "whole number"),
        (
            "r.csv",
            b"lng,lat\n\xff\xfe\xfa,2\n",
            {"chunksize": 5},
            EncodingError,
            "cannot tell the encoding",
        ),
        ("r.csv", b"x,y\n1,2\n", {"chunksize": 5}, ColumnError, r"chunk 0 \(rows 0–0"),
    ],
)
def test_iter_reports_bad_input(
    tmp_path: Path, name: str, content: bytes | None, kwargs: dict, error: type, match: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=match):
        list(gio.iter_reports(path, **kwargs))


def test_iter_reports_later_chunk_that_does_not_decode(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    head = "".join(f"{114.4},23.1,plain{i}\n" for i in range(200_000))
    path.write_bytes(b"lng,lat,note\n" + head.encode() + "城东".encode("gbk") + b",23.1,x\n")
    with pytest.raises(EncodingError, match=r"after row .*pass encoding="):
        list(gio.iter_reports(path, chunksize=50_000))
