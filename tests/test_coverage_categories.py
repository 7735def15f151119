"""The category table: standard top classes, time basis, sources; a city's codes mapped."""

from __future__ import annotations

import pandas as pd
import pytest

from gridgeo.categories import (
    STANDARD_CLASSES,
    default_categories,
    load,
    map_to_standard,
)
from gridgeo.errors import ColumnError

TABLE = default_categories()


def test_top_classes_are_the_standard_ones() -> None:
    classes = TABLE.groupby(["kind", "class_code"])["class_name"].unique()
    for (kind, code), names in classes.items():
        assert list(names) == [STANDARD_CLASSES[(kind, code)][0]]
    components = {c: n for (k, c), (n, _) in STANDARD_CLASSES.items() if k == "component"}
    events = {c: n for (k, c), (n, _) in STANDARD_CLASSES.items() if k == "event"}
    assert components == {
        "01": "公用设施", "02": "道路交通", "03": "市容环境",
        "04": "园林绿化", "05": "房屋土地", "06": "其他设施",
    }  # fmt: skip
    assert events == {
        "01": "市容环境", "02": "宣传广告", "03": "施工管理",
        "04": "突发事件", "05": "街面秩序", "06": "其他事件",
    }  # fmt: skip
    # every standard class has at least one sub-class; codes carry kind and class
    assert set(classes.index) == set(STANDARD_CLASSES)
    for code, row in TABLE.iterrows():
        assert code[0] == ("C" if row["kind"] == "component" else "E")
        assert code[1:3] == row["class_code"]


def test_every_category_has_deadline_basis_and_source() -> None:
    assert (TABLE["deadline"] > 0).all()
    assert TABLE["deadline_source"].str.len().gt(0).all()
    assert set(TABLE["subclass_origin"]) == {"gridgeo"}
    emergency = TABLE["class_code"].eq("04") & TABLE["kind"].eq("event")
    assert set(TABLE.loc[emergency, "time_basis"]) == {"calendar"}
    assert set(TABLE.loc[~emergency, "time_basis"]) == {"working"}
    assert TABLE.loc["E0403", "name"] == "燃气泄漏"  # gas leak: 1 calendar hour
    assert (TABLE.loc["E0403", "deadline"], TABLE.loc["E0403", "deadline_unit"]) == (1.0, "hours")


def test_csv_header_cites_sources() -> None:
    from importlib.resources import files

    text = files("gridgeo").joinpath("_data/categories.csv").read_text(encoding="utf-8")
    head = "".join(line for line in text.splitlines() if line.startswith("#"))
    for source in ("CJ/T 214-2007", "GB/T 30428.2", "CJ/T 315-2009"):
        assert source in head


def test_load_city_table_with_comment_header(tmp_path) -> None:
    path = tmp_path / "city.csv"
    path.write_text(
        "# 某市 立案结案标准 2024\n"
        "code,kind,name,department,deadline,deadline_unit\n"
        "0102,event,暴露垃圾,环卫所,2,working_hours\n"
        "0401,event,井盖缺失,市政所,1,hours\n",
        encoding="utf-8",
    )
    city = load(path)
    assert city.loc["0102", "time_basis"] == "working"
    assert city.loc["0401", "time_basis"] == "calendar"
    assert set(city["subclass_origin"]) == {"city"}


def test_map_city_codes_to_standard_classes() -> None:
    city = pd.DataFrame(
        {
            "code": ["0102", "0401", "110105040100012", "1101050201000123", "E0503", "9901", "x"],
            "kind": ["event", "event", "component", "component", "event", "event", None],
            "class_name": ["", "", "", "", "", "创卫专项", ""],
        }
    )
    m = map_to_standard(city)
    got = dict(zip(m.table["code"], m.table["class_name"], strict=True))
    assert got == {
        "0102": "市容环境",
        "0401": "突发事件",
        "110105040100012": "",  # 15 digits: not a form we know
        "1101050201000123": "道路交通",  # admin 110105 + class 02
        "E0503": "街面秩序",
        "9901": "",  # class 99 is not a standard class
        "x": "",
    }
    assert m.unmapped == ("110105040100012", "9901", "x")
    assert "3 unmapped" in repr(m) and "<pre>" in m._repr_html_()


def test_map_by_class_name_and_alias() -> None:
    city = pd.DataFrame(
        {
            "code": ["a", "b", "c", "d"],
            "class_name": ["交通设施", "市容环境设施", "扩展事件", "园林绿化"],
            "kind": ["component", "component", "event", "component"],
        }
    )
    m = map_to_standard(city)
    assert m.table["class_code"].tolist() == ["02", "03", "06", "04"]
    assert m.unmapped == ()


def test_numeric_codes_need_a_kind() -> None:
    m = map_to_standard(pd.Series(["0102", "0401"]))
    assert m.unmapped == ("0102", "0401")
    m = map_to_standard(pd.Series(["0102", "0401"]), kind="component")
    assert m.table["class_name"].tolist() == ["公用设施", "园林绿化"]
    with pytest.raises(ColumnError, match="kind must be"):
        map_to_standard(pd.Series(["0102"]), kind="thing")
    with pytest.raises(ColumnError):
        map_to_standard(pd.DataFrame({"nope": [1]}))


def test_default_table_maps_to_itself() -> None:
    m = map_to_standard(TABLE)
    assert m.unmapped == ()
    assert m.table.set_index("code")["class_code"].equals(TABLE["class_code"].rename_axis("code"))
