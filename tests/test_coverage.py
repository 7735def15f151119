"""Coverage report: KPIs with known answers, service and patrol coverage, HTML and Excel."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, Point, box

from gridgeo import coverage
from gridgeo.calendar import WorkCalendar
from gridgeo.categories import default_categories
from gridgeo.coverage import _kpi
from gridgeo.errors import ColumnError

CATS = default_categories()
T0 = pd.Timestamp("2026-03-02 09:00")  # a Monday
H = pd.Timedelta(hours=1)


def _cases(n: int, **cols) -> pd.DataFrame:
    base = {
        "category_code": ["E0101"] * n,  # exposed garbage: 4 working hours
        "reported_at": [T0] * n,
        "filed_at": [T0] * n,
        "dispatched_at": [T0] * n,
        "disposed_at": [T0 + H] * n,
        "closed_at": [T0 + 2 * H] * n,
        "grid_code": ["G1"] * n,
        "status": ["assigned"] * n,
    }
    base.update(cols)
    return pd.DataFrame(base)


PERIOD = (pd.Timestamp("2026-03-01"), pd.Timestamp("2026-04-01"))


def _kpis(cases: pd.DataFrame, calendar: WorkCalendar | None = None, now=None) -> pd.Series:
    table, _ = _kpi.case_table(cases, CATS, calendar=calendar or WorkCalendar())
    return _kpi.kpis(table, None, period=PERIOD, now=now or PERIOD[1]).iloc[0]


def test_published_monthly_bulletin_996_972_911_737() -> None:
    # a city's published December figures: 立案 996, 应结案 972, 结案 911 (结案率 93.72 %),
    # 按期结案 737 (按期结案率 75.82 %). Rebuilt case by case: 24 filed cases are neither
    # closed nor past their deadline (not due), 61 due cases are open past their deadline,
    # 174 were closed late and 737 on time.
    long_deadline = CATS.loc["E0303"]  # illegal construction: 20 working days
    assert long_deadline["deadline"] >= 20
    codes = ["E0303"] * 24 + ["E0101"] * 972
    closed = [pd.NaT] * 24 + [T0 + 2 * H] * 737 + [T0 + 30 * H] * 174 + [pd.NaT] * 61
    cases = _cases(996, category_code=codes, closed_at=closed, disposed_at=closed)
    period = (PERIOD[0], T0 + 48 * H)
    table, _ = _kpi.case_table(cases, CATS, calendar=WorkCalendar())
    k = _kpi.kpis(table, None, period=period, now=period[1]).iloc[0]
    assert (k["filed"], k["due"], k["closed"], k["closed_on_time"]) == (996, 972, 911, 737)
    assert round(k["closure_rate"] * 100, 2) == 93.72
    assert round(k["on_time_closure_rate"] * 100, 2) == 75.82
    assert k["overdue_now"] == 61


def test_open_late_reopened_extended_and_missing_times() -> None:
    cases = _cases(
        5,
        closed_at=[T0 + 2 * H, T0 + 48 * H, pd.NaT, pd.NaT, T0 + 2 * H],
        disposed_at=[T0 + H, T0 + 47 * H, pd.NaT, pd.NaT, T0 + H],
        reopened=[0, 1, 0, 0, 0],
        extended=["否", "否", "", "是", "N"],
        extended_deadline=[pd.NaT, pd.NaT, pd.NaT, T0 + 25 * H, pd.NaT],
        filed_at=[T0, T0, T0, T0, pd.NaT],  # the last one was never filed
    )
    now = T0 + 24 * H
    k = _kpis(cases, now=now)
    assert k["filed"] == 4  # never-filed case is not in the period's cases
    # case 3 (open, deadline 4 working h) is due and overdue; case 4 (new deadline Tuesday
    # 10:00, before the period end) also due
    assert k["due"] == 4
    assert k["closed"] == 2  # case 2 closed after 'now' but before period end counts as closed
    assert k["closed_on_time"] == 1
    assert k["rework"] == 1 and k["extended"] == 1
    assert k["open_now"] == 3  # cases 2 (closed later), 3, 4
    # case 4's approved new deadline (Tuesday 10:00) is after 'now' (Tuesday 09:00)
    assert k["overdue_now"] == 2


def test_deadline_counts_working_hours_over_weekend() -> None:
    friday = pd.Timestamp("2026-03-06 16:00")
    cases = _cases(
        2,
        filed_at=[friday] * 2,
        dispatched_at=[friday] * 2,
        reported_at=[friday] * 2,
        closed_at=[pd.Timestamp("2026-03-09 10:30"), pd.Timestamp("2026-03-09 11:30")],
    )
    table, _ = _kpi.case_table(cases, CATS, calendar=WorkCalendar())
    assert str(table["deadline"].iloc[0]) == "2026-03-09 11:00:00"  # 1.5 h Fri + 2.5 h Mon
    k = _kpi.kpis(table, None, period=PERIOD, now=PERIOD[1]).iloc[0]
    assert k["closed_on_time"] == 1
    # calendar time: the deadline is Friday 20:00
    table_cal, _ = _kpi.case_table(cases, CATS, calendar=None)
    assert str(table_cal["deadline"].iloc[0]) == "2026-03-06 20:00:00"


def test_unknown_category_and_missing_columns() -> None:
    with pytest.raises(ColumnError, match=r"\['ZZ'\].*gridgeo.categories.load"):
        _kpi.case_table(_cases(1, category_code=["ZZ"]), CATS, calendar=None)
    with pytest.raises(ColumnError, match="filed_at"):
        _kpi.case_table(_cases(1).drop(columns="filed_at"), CATS, calendar=None)


def test_ranking_flags_best_and_worst() -> None:
    kpi = pd.DataFrame(
        {"due": [10] * 10, "on_time_closure_rate": np.linspace(0.5, 0.95, 10), "closure_rate": 1.0},
        index=[f"G{i}" for i in range(10)],
    )
    ranked = _kpi.rank(kpi)
    assert ranked.index[0] == "G9" and ranked["flag"].iloc[0] == "red"
    assert ranked.index[-1] == "G0" and ranked["flag"].iloc[-1] == "yellow"
    assert (ranked["flag"] == "").sum() == 8


def test_service_coverage_network_differs_from_straight_line() -> None:
    # a river between cell b and the station: 300 m straight, 2.3 km around by the bridge
    cells = gpd.GeoDataFrame(
        {"cell_code": ["a", "b"], "population": [100, 300]},
        geometry=[box(-50, -50, 50, 50), box(-50, 250, 50, 350)],
        crs=3857,
    )
    station = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=3857)
    streets = gpd.GeoDataFrame(
        geometry=[
            LineString([(0, 0), (1000, 0), (1000, 300), (0, 300)]),  # the only way across
        ],
        crs=3857,
    )
    _, unc_s = coverage.service_coverage(cells, station, walk_distance=1000)
    network, unc_n = coverage.service_coverage(cells, station, streets=streets, walk_distance=1000)
    assert unc_s.empty
    assert unc_n["cell_code"].tolist() == ["b"]
    assert unc_n["distance_m"].iloc[0] == pytest.approx(2300, abs=1)
    share = dict(zip(network["measure"], network["value"], strict=True))
    assert share["population_covered_share"] == pytest.approx(0.25)


def test_network_distance_parallel_edges_not_summed() -> None:
    from gridgeo.coverage._network import network_distance

    line = LineString([(0, 0), (100, 0)])
    d = network_distance(np.array([line, line]), np.array([Point(100, 0)]), np.array([Point(0, 0)]))
    assert d[0] == pytest.approx(100)


def test_patrol_coverage_points_and_minutes() -> None:
    cells = gpd.GeoDataFrame(
        {"cell_code": ["a", "b", "c"], "grid_code": ["G1", "G1", "G2"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)],
        crs=3857,
    )
    times = pd.to_datetime(
        ["2026-03-02 09:00", "2026-03-02 09:05", "2026-03-02 09:45", "2026-03-03 09:00"]
    )
    gps = gpd.GeoDataFrame(
        {"worker_id": [1, 1, 1, 2], "time": times},
        geometry=[Point(10, 10), Point(150, 10), Point(160, 10), Point(10, 10)],
        crs=3857,
    )
    grid_of_cell = pd.Series(["G1", "G1", "G2"], index=["a", "b", "c"])
    daily, never = coverage.patrol_coverage(cells, gps, grid_of_cell=grid_of_cell)
    assert never["cell_code"].tolist() == ["c"]
    day1 = daily[daily["date"] == "2026-03-02"].iloc[0]
    assert day1["cells_visited"] == 2 and day1["share_visited"] == pytest.approx(2 / 3)
    # 5 min in a, then a 40-min gap capped at 10 min in b
    assert day1["minutes"] == pytest.approx(15)
    per_grid = daily[daily["date"] == "period"].set_index("grid_code")["minutes"]
    assert per_grid["G1"] == pytest.approx(15)


def _report(tmp_path) -> coverage.CoverageReport:
    cells = gpd.GeoDataFrame(
        {"cell_code": [f"c{i}" for i in range(4)], "grid_code": ["G1", "G1", "G2", "G2"]},
        geometry=[box(i * 100, 0, i * 100 + 100, 100) for i in range(4)],
        crs=3857,
    )
    grids = cells.dissolve("grid_code").reset_index()[["grid_code", "geometry"]]
    grids["workers"] = [2, 0]
    grids["community_name"] = ["东<b>社区</b>", "西社区"]
    grids["squad"] = ["一中队", "二中队"]
    cases = _cases(
        6,
        grid_code=["G1", "G1", "G1", "G2", "G2", "G2"],
        cell_code=["c0", "c1", "c1", "c2", "c3", "c3"],
        department=["环卫处"] * 6,
        source=["<script>alert(1)</script>"] * 6,
        class_name=["市容环境"] * 6,
    )
    hot = cells.assign(warning=["red", "", "blue", ""], warning_reason=["x", "", "y", ""])
    return coverage.report(
        cells,
        grids,
        cases,
        area=gpd.GeoDataFrame(geometry=[box(0, 0, 400, 100)], crs=3857),
        stations=gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=3857),
        period=PERIOD,
        hotspots=hot,
        walk_distance=250,
    )


def test_report_sections_html_excel(tmp_path) -> None:
    rep = _report(tmp_path)
    spatial = dict(zip(rep["spatial"]["measure"], rep["spatial"]["value"], strict=True))
    assert spatial["covered_by_cells_share"] == pytest.approx(1.0)
    assert spatial["grids_without_staff"] == 1
    work = rep["workload"].set_index("grid_code")
    assert work.loc["G2", "overloaded"] and work.loc["G1", "reports"] == 3
    assert rep["warnings"]["warning"].tolist() == ["red", "blue"]
    community = rep["workload_community"].set_index("community_name")
    assert community.loc["西社区", "reports"] == 3 and community.loc["西社区", "grids"] == 1
    squads = rep["ranking_squad"]
    assert set(squads.index) == {"一中队", "二中队"} and squads["due"].sum() == 6
    assert "CoverageReport" in repr(rep) and "<table>" in rep._repr_html_()
    page = rep.to_html(tmp_path / "r.html", lang="en").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "东&lt;b&gt;社区&lt;/b&gt;" in page
    assert "http://" not in page and "https://" not in page
    assert "data:image/png;base64," in page
    zh = rep.to_html(tmp_path / "zh.html", lang="zh").read_text(encoding="utf-8")
    assert "按期结案率" in zh
    xlsx = rep.to_excel(tmp_path / "r.xlsx", lang="en")
    sheets = pd.read_excel(xlsx, sheet_name=None)
    assert len(sheets) == len(rep.sections)
    back = sheets["Case KPIs by grid"]
    assert back["Due"].tolist() == rep["kpi_grid"]["due"].tolist()
    assert back["On-time closure rate"].tolist() == pytest.approx(
        rep["kpi_grid"]["on_time_closure_rate"].tolist()
    )
    d = rep.to_dict()
    assert d["sections"]["kpi_grid"][0]["due"] == 3


def test_failed_write_leaves_no_file(tmp_path, monkeypatch) -> None:
    rep = _report(tmp_path)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("gridgeo.coverage._report_html.render", boom)
    with pytest.raises(RuntimeError):
        rep.to_html(tmp_path / "x.html")
    assert list(tmp_path.iterdir()) == []
