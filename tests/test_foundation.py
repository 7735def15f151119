"""Tests of the package skeleton: errors, shared validation, category table, lazy imports."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, Point, Polygon, box

import gridgeo as gg
from gridgeo import _validate as v
from gridgeo import errors
from gridgeo.categories import default_categories, load


def test_version_and_lazy_modules() -> None:
    assert gg.__version__ != "0.0.0+unknown"
    assert gg.errors is errors
    assert "cells" in dir(gg)
    assert gg.crs.local_crs((114.3, 23.0, 114.5, 23.2)).to_epsg() == 4547
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        gg.nope  # noqa: B018


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (errors.CRSError, ValueError),
        (errors.GeometryError, ValueError),
        (errors.ColumnError, ValueError),
        (errors.CoordinateError, ValueError),
        (errors.EmptyInputError, ValueError),
        (errors.DuplicateIdError, ValueError),
        (errors.InputFileError, OSError),
        (errors.EncodingError, OSError),
        (errors.CodingError, ValueError),
        (errors.PlanError, ValueError),
        (errors.CoverageError, ValueError),
        (errors.BasemapError, ValueError),
        (errors.OptionalDependencyError, ImportError),
    ],
)
def test_errors_inherit_builtin(cls: type[Exception], builtin: type[Exception]) -> None:
    assert issubclass(cls, errors.GridgeoError)
    assert issubclass(cls, builtin)


def _layer(geoms: list, crs: str | None = "EPSG:4547") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": range(len(geoms))}, geometry=geoms, crs=crs)


def test_require_geodataframe_and_nonempty() -> None:
    with pytest.raises(TypeError, match="cells must be a geopandas GeoDataFrame, got DataFrame"):
        v.require_geodataframe(pd.DataFrame({"a": [1]}), "cells")
    with pytest.raises(errors.EmptyInputError, match="reports is empty"):
        v.require_nonempty(_layer([]), "reports")


def test_require_columns_names_missing_and_present() -> None:
    df = pd.DataFrame({"lng": [1.0], "lat": [2.0]})
    with pytest.raises(errors.ColumnError, match=r"missing column\(s\) 'lon'.*lng, lat"):
        v.require_columns(df, ["lon", "lat"], "reports")


def test_require_crs_and_metric() -> None:
    with pytest.raises(errors.CRSError, match="cells has no CRS"):
        v.require_crs(_layer([box(0, 0, 1, 1)], crs=None), "cells")
    with pytest.raises(errors.CRSError, match="not a metric projected CRS"):
        v.require_metric(_layer([box(114, 23, 114.1, 23.1)], crs="EPSG:4326"), "cells")
    v.require_metric(_layer([box(0, 0, 1, 1)]), "cells")


def test_require_geom_types_and_valid() -> None:
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    layer = _layer([box(0, 0, 1, 1), Point(0, 0), LineString([(0, 0), (1, 1)])])
    with pytest.raises(errors.GeometryError, match=r"row\(s\) 1, 2 are LineString, Point"):
        v.require_geom_types(layer, ["Polygon", "MultiPolygon"], "cells")
    with pytest.raises(errors.GeometryError, match="missing or empty geometries in row"):
        v.require_geom_types(_layer([box(0, 0, 1, 1), None]), ["Polygon"], "cells")
    with pytest.raises(
        errors.GeometryError, match=r"invalid geometries in row\(s\) 1 .*make_valid"
    ):
        v.require_valid(_layer([box(0, 0, 1, 1), bowtie]), "cells")


def test_require_unique_and_same_crs_and_positive() -> None:
    with pytest.raises(errors.DuplicateIdError, match="duplicate cell codes: 'a'"):
        v.require_unique(pd.Series(["a", "b", "a", "a"]), "cell codes", "cells")
    a = _layer([box(0, 0, 1, 1)])
    b = _layer([box(0, 0, 1, 1)], crs="EPSG:4326")
    with pytest.raises(errors.CRSError, match="reproject one"):
        v.require_same_crs(a, b, ("cells", "grids"))
    for bad in (0, -1, float("nan"), "10"):
        with pytest.raises(ValueError, match="size must be a positive number"):
            v.require_positive(bad, "size")  # type: ignore[arg-type]
    v.require_positive(np.float64(2.5), "size")


def test_rows_preview_truncates() -> None:
    assert v.rows_preview(range(8)) == "0, 1, 2, 3, 4 (and 3 more)"


def test_optional_import_message() -> None:
    with pytest.raises(errors.OptionalDependencyError, match=r"pip install 'gridgeo\[postgis\]'"):
        v.optional_import("surely_not_a_module_gridgeo", "postgis")


def test_default_categories_table() -> None:
    table = default_categories()
    assert table.index.is_unique
    assert set(table["kind"]) == {"event", "component"}
    emergency = table["class_name"].eq("突发事件") & table["kind"].eq("event")
    # emergencies run on calendar time, everything else on working time
    assert set(table.loc[emergency, "deadline_unit"]) == {"hours"}
    assert set(table.loc[~emergency, "deadline_unit"]) <= {"working_hours", "working_days"}
    # exposed garbage must be handled within 4 working hours
    assert table.loc["E0101", "name"] == "暴露垃圾"
    assert table.loc["E0101", "deadline"] == 4.0
    assert table.loc["E0303", "deadline"] == 20.0  # illegal construction: 20 working days
    table.loc["E0101", "deadline"] = 99  # a copy: the cached default is unchanged
    assert default_categories().loc["E0101", "deadline"] == 4.0


def test_load_city_table_csv_gbk(tmp_path) -> None:
    path = tmp_path / "cats.csv"
    pd.DataFrame(
        {
            "code": ["A1", "A2"],
            "kind": ["event", "component"],
            "name": ["占道经营", "井盖"],
            "department": ["城管局", "水务局"],
            "deadline": [2, 3],
            "deadline_unit": ["working_hours", "working_days"],
        }
    ).to_csv(path, index=False, encoding="gbk")
    table = load(path)
    assert table.loc["A1", "name"] == "占道经营"
    assert table.loc["A2", "department_en"] == "水务局"
    assert not table["ownerless_possible"].any()


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"kind": ["case"]}, errors.ColumnError, "'kind' must be 'event' or 'component'"),
        ({"deadline_unit": ["weeks"]}, errors.ColumnError, "'deadline_unit' must be one of"),
        ({"deadline": [-1]}, errors.ColumnError, "'deadline' must be a positive number"),
    ],
)
def test_load_rejects_bad_values(change: dict, error: type, match: str) -> None:
    base = {
        "code": ["X"],
        "kind": ["event"],
        "name": ["x"],
        "department": ["d"],
        "deadline": [1],
        "deadline_unit": ["days"],
    }
    base.update(change)
    with pytest.raises(error, match=match):
        load(pd.DataFrame(base))


def test_load_rejects_duplicates_and_missing_file(tmp_path) -> None:
    df = pd.DataFrame(
        {
            "code": ["X", "X"],
            "kind": ["event"] * 2,
            "name": ["x"] * 2,
            "department": ["d"] * 2,
            "deadline": [1, 1],
            "deadline_unit": ["days"] * 2,
        }
    )
    with pytest.raises(errors.DuplicateIdError, match="duplicate category codes: 'X'"):
        load(df)
    with pytest.raises(errors.InputFileError, match="does not exist"):
        load(tmp_path / "nope.csv")


def test_web_mercator_is_not_metric() -> None:
    merc = _layer([box(1_600_000, 6_600_000, 1_600_100, 6_600_100)], crs="EPSG:3857")
    with pytest.raises(errors.CRSError, match="Web Mercator distorts"):
        v.require_metric(merc, "cells")
    assert gg.crs.to_metric(merc).crs.to_epsg() == 32633  # UTM at ~14.4E, 50.9N
    assert v.is_metric(gg.crs.local_crs((114.3, 23.0, 114.5, 23.2)))  # Gauss-Kruger is true
    utm = _layer([box(0, 0, 1, 1)], crs="EPSG:32650")
    assert gg.crs.to_metric(utm) is utm
