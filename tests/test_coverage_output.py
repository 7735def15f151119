"""Coverage report output: what was not computed, one language, Excel formatting, templates."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely import Point, box

from gridgeo import coverage
from gridgeo.coverage._report_html import default_template
from gridgeo.errors import InputFileError

T0 = pd.Timestamp("2026-03-02 09:00")
PERIOD = ("2026-03-01", "2026-03-08")


def _inputs():
    cells = gpd.GeoDataFrame(
        {"cell_code": [f"c{i}" for i in range(4)], "grid_code": ["G1", "G1", "G2", "G2"]},
        geometry=[box(i * 100, 0, i * 100 + 100, 100) for i in range(4)],
        crs=3857,
    )
    cases = pd.DataFrame(
        {
            "status": ["assigned"] * 4,
            "grid_code": ["G1", "G1", "G2", "G2"],
            "department": ['=HYPERLINK("http://x","点我")', "环卫处", "+1", "@sum"],
            "category_code": ["E0101"] * 4,
            "class_name": ["市容环境"] * 4,
            "source": ["-2", "app", "app", "app"],
            "filed_at": [T0] * 4,
            "dispatched_at": [T0] * 4,
            "closed_at": [T0 + pd.Timedelta(hours=h) for h in (1, 2, 30, 3)],
        }
    )
    return cells, cases


def test_no_stations_and_no_patrols_are_stated_not_painted(tmp_path) -> None:
    cells, cases = _inputs()
    rep = coverage.report(cells, None, cases, period=PERIOD)
    assert rep.notes["service"] == "no_stations" and rep.notes["patrol"] == "no_patrols"
    assert "service_covered" not in rep.layers["cells"].columns
    from gridgeo.coverage._report_html import coverage_figure

    fig = coverage_figure(rep, 0)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["服务覆盖：未计算（无服务站点）"]  # no green "covered", no patrol entry
    page = rep.to_html(tmp_path / "r.html", lang="zh").read_text(encoding="utf-8")
    assert "未计算：未提供服务站点" in page and "未计算：未提供巡查轨迹" in page
    en = rep.to_html(tmp_path / "e.html", lang="en").read_text(encoding="utf-8")
    assert "Not computed: no service stations" in en
    fig_en = coverage_figure(rep, 1)
    assert [t.get_text() for t in fig_en.axes[0].get_legend().get_texts()] == [
        "service coverage: not computed"
    ]


def test_patrol_legend_only_with_patrols() -> None:
    cells, cases = _inputs()
    gps = gpd.GeoDataFrame(
        {"worker_id": [1, 1], "time": [T0, T0 + pd.Timedelta(minutes=5)]},
        geometry=[Point(10, 10), Point(20, 10)],
        crs=3857,
    )
    stations = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=3857)
    rep = coverage.report(cells, None, cases, period=PERIOD, patrols=gps, stations=stations)
    from gridgeo.coverage._report_html import coverage_figure

    labels = [t.get_text() for t in coverage_figure(rep, 0).axes[0].get_legend().get_texts()]
    assert labels == ["步行可达服务站", "服务盲区", "未巡查"]


def test_one_language_per_report(tmp_path) -> None:
    cells, cases = _inputs()
    rep = coverage.report(cells, None, cases, period=PERIOD, stations=None)
    zh = rep.to_html(tmp_path / "zh.html", lang="zh").read_text(encoding="utf-8")
    for english in ("No data", "more rows", "Self-contained", "coverage map", "straight line"):
        assert english not in zh
    en = rep.to_html(tmp_path / "en.html", lang="en").read_text(encoding="utf-8")
    assert "统计期" not in en and "未计算" not in en


def test_excel_percentages_widths_frozen_filters_and_chinese_keys(tmp_path) -> None:
    from openpyxl import load_workbook

    cells, cases = _inputs()
    stations = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=3857)
    rep = coverage.report(cells, None, cases, period=PERIOD, stations=stations)
    path = rep.to_excel(tmp_path / "r.xlsx", lang="zh")
    book = load_workbook(path)
    ws = book["案件指标（按网格）"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["网格编码", "立案数", "应结案数", "结案数"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == ws.dimensions
    col = header.index("按期结案率") + 1
    cell = ws.cell(row=3, column=col)  # G2: one of two closed on time
    assert cell.number_format == "0.00%" and cell.value == pytest.approx(0.5)
    assert ws.column_dimensions["A"].width >= 10
    service = book["15分钟生活圈服务覆盖"]
    rows = {r[0].value: r[1] for r in service.iter_rows(min_row=2)}
    assert rows["单元可达率"].number_format == "0.00%"
    assert rows["计算方法"].value == "直线距离"
    # no English key anywhere in a Chinese workbook's headers and measure names
    for sheet in book.worksheets:
        first = [c.value for c in sheet[1]]
        assert all(not str(v).isascii() or str(v) in ("Gi* z值",) for v in first if v), first
        if first and first[0] == "指标":
            assert all(not str(r[0].value).isascii() for r in sheet.iter_rows(min_row=2))
    # a section that was not computed says why
    patrol = book["巡查覆盖"]
    assert patrol["A1"].value.startswith("未计算")


def test_excel_text_that_looks_like_a_formula_stays_text(tmp_path) -> None:
    from openpyxl import load_workbook

    cells, cases = _inputs()
    rep = coverage.report(cells, None, cases, period=PERIOD)
    path = rep.to_excel(tmp_path / "r.xlsx", lang="en")
    ws = load_workbook(path)["Case KPIs by department"]
    values = {c.value: c for c in ws["A"][1:]}
    link = values['=HYPERLINK("http://x","点我")']
    assert link.data_type == "s"
    for text in ("+1", "@sum"):
        assert values[text].data_type == "s"
    source = {c.value: c for c in load_workbook(path)["Case KPIs by source"]["A"][1:]}
    assert source["-2"].data_type == "s"
    # and pandas reads them back as the same text
    back = pd.read_excel(path, sheet_name="Case KPIs by department")
    assert '=HYPERLINK("http://x","点我")' in back.iloc[:, 0].tolist()


def test_html_from_an_office_template(tmp_path) -> None:
    cells, cases = _inputs()
    rep = coverage.report(cells, None, cases, period=PERIOD)
    own = tmp_path / "office.html.j2"
    text = default_template().read_text(encoding="utf-8")
    own.write_text(text.replace("<h1>", "<h1 class='office'>"), encoding="utf-8")
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 20)
    page = rep.to_html(
        tmp_path / "r.html",
        template=own,
        title="某区<周报>",
        logo=logo,
        footer="某区城市管理局 & 指挥中心",
    ).read_text(encoding="utf-8")
    assert "<h1 class='office'>某区&lt;周报&gt;</h1>" in page
    assert "data:image/png;base64," in page and 'class="logo"' in page
    assert "某区城市管理局 &amp; 指挥中心" in page
    with pytest.raises(InputFileError, match="does not exist"):
        rep.to_html(tmp_path / "x.html", template=tmp_path / "missing.j2")
    with pytest.raises(InputFileError, match="logo"):
        rep.to_html(tmp_path / "x.html", logo=tmp_path / "nope.png")
    bad = tmp_path / "bad.j2"
    bad.write_text("{{ no_such_variable }}", encoding="utf-8")
    with pytest.raises(InputFileError, match="failed"):
        rep.to_html(tmp_path / "x.html", template=bad)
    assert not (tmp_path / "x.html").exists()


def test_report_states_warning_rules(tmp_path) -> None:
    cells, cases = _inputs()
    hot = cells.assign(warning=["red", "", "yellow", ""], warning_reason=["a", "", "b", ""])
    rep = coverage.report(cells, None, cases, period=PERIOD, hotspots=hot)
    page = rep.to_html(tmp_path / "r.html", lang="zh").read_text(encoding="utf-8")
    assert "预警规则" in page
    assert "红色预警：Gi* 热点等级 gi_bin ∈ {3}" in page and "（本期 1 个单元）" in page
    en = rep.to_html(tmp_path / "e.html", lang="en").read_text(encoding="utf-8")
    assert "Red: Gi* gi_bin in {3}" in en
