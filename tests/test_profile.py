"""City profiles: loading, validation messages that name the key, reading an export."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gridgeo as gg
from gridgeo.errors import ColumnError, InputFileError, ProfileError
from gridgeo.profile import (
    COLUMN_NAMES,
    DEMO_COLUMNS,
    Profile,
    guess_columns,
    parse_yes_no,
    template,
    template_from_sample,
)


def _write(tmp_path, text, name="city.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_gg_profile_is_the_class():
    assert gg.Profile is Profile


def test_template_loads_and_paths_are_relative_to_the_profile(tmp_path):
    folder = tmp_path / "conf"
    folder.mkdir()
    path = _write(folder, template())
    p = Profile.load(path)
    assert p.reports_file == folder / "reports_export.csv"
    assert p.plan == folder / "plan.gpkg"
    assert p.output == folder / "gridgeo_out"
    assert p.columns["lon"] == "lng" and p.crs == "gcj02"
    assert p.grids["n"] == 40 and p.thresholds["yellow_count_quantile"] == 99.0
    assert p.calendar is not None and p.calendar.hours_per_day == 7.0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            '[columns]\nlon = "x"\nlong = "y"\n',
            r"\[columns\] long \(line 3\): unknown key 'long'; did you mean 'lon'\?",
        ),
        ('[colums]\nlon = "x"\n', r"unknown table \[colums\] \(line 1\); did you mean 'columns'\?"),
        ('[grids]\nn = "forty"\n', r"\[grids\] n \(line 2\): expected a whole number, got 'forty'"),
        ("[grids]\nn = 0\n", r"\[grids\] n \(line 2\): expected a whole number >= 1"),
        ("[grids]\ntolerance = 1.5\n", r"\[grids\] tolerance .*expected a number in \(0, 1\]"),
        ('[reports]\ncrs = "gcj"\n', r"\[reports\] crs \(line 2\): expected one of wgs84, gcj02"),
        (
            '[calendar]\nholidays = ["2026-13-01"]\n',
            r"\[calendar\] holidays .*'2026-13-01' is not a date",
        ),
        (
            '[calendar]\nworking_hours = [["14:00", "12:00"]]\n',
            r"\[calendar\] working_hours .*increasing",
        ),
        ('[flags]\nyes = ["1"]\nno = ["1"]\n', r"\[flags\] no .*both yes and no"),
        ('[output]\nlang = "fr"\n', r"\[output\] lang .*\"zh\" or \"en\""),
        ("[grids\nn = 3\n", r"not valid TOML"),
    ],
)
def test_profile_errors_name_the_key_and_line(tmp_path, text, match):
    with pytest.raises(ProfileError, match=match):
        Profile.load(_write(tmp_path, text))


def test_missing_profile_says_how_to_make_one(tmp_path):
    with pytest.raises(InputFileError, match="gridgeo init"):
        Profile.load(tmp_path / "nope.toml")


def test_crs_accepts_systems_and_epsg():
    assert Profile.from_text('[reports]\ncrs = "BD-09"\n').crs == "bd09"
    assert Profile.from_text("[reports]\ncrs = 4547\n").crs == 4547
    assert Profile.from_text('[reports]\ncrs = "epsg:4547"\n').crs == "EPSG:4547"


def test_calendar_time_turns_the_calendar_off():
    assert Profile.from_text("[calendar]\ncalendar_time = true\n").calendar is None


def test_guess_columns_chinese_and_english():
    header = [
        "案件编号",
        "经度",
        "纬度",
        "上报时间",
        "立案时间",
        "大类",
        "小类",
        "案件来源",
        "是否延期",
    ]
    guessed = guess_columns(header)
    assert guessed == {
        "id": "案件编号",
        "lon": "经度",
        "lat": "纬度",
        "reported": "上报时间",
        "filed": "立案时间",
        "category_name": "大类",
        "subcategory_name": "小类",
        "source": "案件来源",
        "extended": "是否延期",
    }
    assert guess_columns(["Case_ID", "Longitude", "Latitude"]) == {
        "id": "Case_ID",
        "lon": "Longitude",
        "lat": "Latitude",
    }


def test_parse_yes_no_row_by_row_twin():
    values = pd.Series(["是", "否", None, "Y", "n", 1, 0.0, ""])
    yes, no = ("是", "Y", "1"), ("否", "n", "0")
    got = parse_yes_no(values, yes=yes, no=no, column="c")
    expected = []
    for v in values:
        text = "" if v is None else str(int(v)) if isinstance(v, float) else str(v)
        expected.append(pd.NA if text == "" else text in yes)
    assert got.tolist() == expected
    with pytest.raises(ColumnError, match=r"column 'c' .*row 1: '也许'.*\[flags\]"):
        parse_yes_no(pd.Series(["是", "也许"]), yes=yes, no=no, column="c")


@pytest.fixture(scope="module")
def export():
    return gg.datasets.demo_reports(300, seed=3)


def test_read_reports_gbk_chinese_headers(tmp_path, export):
    zh = export.rename(
        columns={
            "report_id": "案件编号",
            "lng": "经度",
            "lat": "纬度",
            "reported_at": "上报时间",
            "filed_at": "立案时间",
            "closed_at": "结案时间",
            "category_code": "小类代码",
            "class_name": "大类",
            "source": "案件来源",
            "extended": "是否延期",
        }
    )
    zh["是否延期"] = zh["是否延期"].map({True: "是", False: "否"})
    zh["案件状态"] = "已结案"
    sample = tmp_path / "cases.csv"
    zh.to_csv(sample, index=False, encoding="gbk")
    text, guessed = template_from_sample(sample)
    assert guessed["lon"] == "经度" and guessed["status"] == "案件状态"
    assert 'encoding = "gbk"' in text and 'file = "cases.csv"' in text
    p = Profile.load(_write(tmp_path, text))
    out = p.read_reports()
    assert out.index.tolist() == export["report_id"].tolist()
    for col in ("report_id", "reported_at", "filed_at", "closed_at", "category_code", "class_name"):
        assert col in out.columns, col
    assert out["case_status"].eq("已结案").all() and "status" not in out.columns
    assert out["extended"].dtype == bool
    assert out["extended"].tolist() == export["extended"].tolist()
    assert pd.api.types.is_datetime64_any_dtype(out["closed_at"])
    expected = pd.to_datetime(export["closed_at"]).tolist()
    assert [a if pd.notna(a) else None for a in out["closed_at"]] == [
        b if pd.notna(b) else None for b in expected
    ]
    # straight into the coverage KPIs
    assert out.crs.to_epsg() == 4326


def test_category_names_become_codes(export):
    table = export[["report_id", "lng", "lat", "name"]].copy()
    p = Profile(columns={"id": "report_id", "lon": "lng", "lat": "lat", "category": "name"})
    out = p.read_reports(table)
    assert out["category_code"].tolist() == export["category_code"].tolist()


def test_missing_mapped_column_names_the_key(export):
    p = Profile(columns={**DEMO_COLUMNS, "status": "案件状态"})
    with pytest.raises(ColumnError, match=r"\[columns\] status = '案件状态': not a column"):
        p.read_reports(export)


def test_reopened_yes_no_and_counts(export):
    p = Profile(columns={"lon": "lng", "lat": "lat", "reopened": "r"})
    out = p.read_reports(export[["lng", "lat"]].assign(r=["是", "否"] * 150))
    assert out["reopened"].tolist() == [1, 0] * 150
    out = p.read_reports(export[["lng", "lat"]].assign(r=[2, 0] * 150))
    assert out["reopened"].tolist() == [2, 0] * 150


def test_no_export_named():
    with pytest.raises(ProfileError, match=r"\[reports\] file"):
        Profile().read_reports()


def test_repr_and_html_escape():
    p = Profile(columns={"lon": "<b>", "lat": "lat"})
    assert "Profile(" in repr(p)
    assert "<b>" not in p._repr_html_().replace("<b>Profile</b>", "")


_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(COLUMN_NAMES)), _names, min_size=0, max_size=6))
def test_template_round_trips_any_column_names(columns):
    # quotes, backslashes, control characters and CJK all survive the TOML template
    loaded = Profile.from_text(template(columns=columns)).columns
    for key, name in columns.items():
        assert loaded[key] == name


def test_template_from_sample_round_trips_guesses(tmp_path):
    header = ["编号", "经度", "纬度", "上报时间", "结案时间", "案件状态", "处置部门"]
    sample = tmp_path / "s.xlsx"
    pd.DataFrame(columns=header).to_excel(sample, index=False)
    text, guessed = template_from_sample(sample)
    assert Profile.from_text(text).columns == {
        "id": "编号",
        "lon": "经度",
        "lat": "纬度",
        "reported": "上报时间",
        "closed": "结案时间",
        "status": "案件状态",
        "department": "处置部门",
    }
    assert guessed["department"] == "处置部门"
