"""The house plan: layer contracts, no import cycles, the package list, one vocabulary."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import Point

import gridgeo as gg
from gridgeo.crs import convert
from gridgeo.errors import ColumnError

ROOT = Path(__file__).resolve().parents[1]
LINT = shutil.which("lint-imports")
need_lint = pytest.mark.skipif(LINT is None, reason="import-linter is not installed")


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(cwd), "PATH": str(Path(sys.executable).parent)}
    return subprocess.run(
        [str(LINT), "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@need_lint
def test_layer_contracts_are_kept():
    run = _lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "broken" not in run.stdout.lower().split("contracts:")[-1].replace("0 broken", "")


@need_lint
@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("cells/_codes.py", "from gridgeo import maps", "faces > rendering"),
        ("crs/__init__.py", "from gridgeo import cells", "faces > rendering"),
        ("hotspots/_kde.py", "import gridgeo.cli", "nothing imports the CLI"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, contract):
    shutil.copytree(ROOT / "gridgeo", tmp_path / "gridgeo", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "gridgeo" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", "utf-8")
    run = _lint(tmp_path)
    assert run.returncode != 0, run.stdout
    assert f"{contract}" in run.stdout and "BROKEN" in run.stdout


def test_no_import_cycles_anywhere():
    grimp = pytest.importorskip("grimp")
    nx = pytest.importorskip("networkx")
    graph = grimp.build_graph("gridgeo")
    g = nx.DiGraph()
    for m in graph.modules:
        for imported in graph.find_modules_directly_imported_by(m):
            if m != "gridgeo":  # the root's lazy loader lists every subpackage for type checkers
                g.add_edge(m, imported)
    cycles = list(nx.simple_cycles(g))
    assert cycles == [], cycles[:5]


def test_every_subpackage_is_installed():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(conf["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "gridgeo").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert on_disk <= listed, sorted(on_disk - listed)


def test_star_import_and_every_all_name_exists():
    namespace: dict[str, object] = {}
    exec("from gridgeo import *", namespace)
    assert callable(namespace["assign"])
    for name in gg.__all__:
        obj = getattr(gg, name)
        for inner in getattr(obj, "__all__", []):
            assert hasattr(obj, inner), f"gridgeo.{name}.__all__ lists missing {inner!r}"


def test_assign_is_a_plain_function():
    assert type(gg.assign).__name__ == "function"
    assert gg.assign is gg.assignment.assign
    assert importlib.import_module("gridgeo.assignment").__class__.__name__ == "module"


# --------------------------------------------------------------------------- one vocabulary
def _cells(n: int = 5, size: float = 200.0) -> gpd.GeoDataFrame:
    square = Point(114.40, 23.10).buffer(n * size / 2 / 100_000, cap_style="square")
    area = gpd.GeoDataFrame(geometry=[square], crs=4326).to_crs(4547)
    return gg.cells.code(gg.cells.fishnet(area, size=size), admin_code="441302")


def _gcj_layer(points_wgs: gpd.GeoSeries) -> gpd.GeoDataFrame:
    lon, lat = convert(points_wgs.x.to_numpy(), points_wgs.y.to_numpy(), "wgs84", "gcj02")
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat))  # no CRS: raw app output


def test_gcj02_declared_once_is_honoured_by_assign_and_to_metric():
    cells = _cells(8, 150.0)
    centres = cells.geometry.representative_point().to_crs(4326)
    amap = gg.crs.declare(_gcj_layer(centres), "gcj02")  # declared once
    hits = gg.assign(amap, cells)
    assert (hits["cell_code"].to_numpy() == cells["cell_code"].to_numpy()).all()
    metric = gg.crs.to_metric(amap)
    expected = centres.to_crs(metric.crs)
    assert float(metric.distance(expected, align=False).max()) < 0.01
    # the plain (undeclared) reading lands hundreds of metres off: the declaration matters
    plain = gg.crs.to_metric(amap.set_crs(4326, allow_override=True).copy().pipe(_strip))
    assert float(plain.distance(expected, align=False).median()) > 100


def _strip(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    gdf.attrs.clear()
    return gdf


def test_cells_declared_gcj02_are_honoured_by_assign():
    cells = _cells().to_crs(4326)
    centres = cells.geometry.representative_point()
    lon, lat = convert(centres.x.to_numpy(), centres.y.to_numpy(), "wgs84", "gcj02")
    reports = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    gcj_cells = gg.crs.to_system(cells, "gcj02")  # cells drawn on an Amap basemap
    hits = gg.assign(gg.crs.declare(reports, "gcj02"), gcj_cells)
    assert (hits["cell_code"].to_numpy() == cells["cell_code"].to_numpy()).all()


def test_coords_keyword_is_a_deprecated_alias():
    cells = _cells(3, 100.0)
    pts = cells.geometry.representative_point().to_crs(4326)
    lon, lat = convert(pts.x.to_numpy(), pts.y.to_numpy(), "wgs84", "gcj02")
    reports = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    with pytest.warns(FutureWarning, match="crs="):
        old = gg.assign(reports, cells, coords="gcj02")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = gg.assign(reports, cells, crs="gcj02")
    assert np.array_equal(old["cell_code"].to_numpy(), new["cell_code"].to_numpy())
    with pytest.raises(TypeError, match="crs= only"):
        gg.assign(reports, cells, crs="gcj02", coords="gcj02")


def test_missing_column_message_names_a_real_parameter():
    cells = _cells(3, 100.0)
    with pytest.raises(ColumnError, match=r"pass value='<your column>'"):
        gg.hotspots.gistar(cells, "count")
    with pytest.raises(ColumnError, match=r"rename your column to 'cell_code'"):
        gg.assign(
            gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=cells.crs), cells.drop(columns="cell_code")
        )


def test_read_layer_takes_the_same_crs_keyword(tmp_path):
    cells = _cells(4, 200.0)
    wgs = cells.to_crs(4326)
    amap = gg.crs.to_system(wgs, "gcj02")
    amap.attrs.clear()  # as an Amap export arrives: GCJ-02 numbers, no declaration
    path = tmp_path / "cells_gcj02.geojson"
    amap.to_file(path, driver="GeoJSON")
    back = gg.io.read_layer(path, crs="gcj02")
    assert back.crs.to_epsg() == 4326
    expected = gg.crs.from_declared(amap, "gcj02")
    gap = shapely.hausdorff_distance(back.geometry.values, expected.geometry.values)
    assert float(gap.max()) < 1e-9
    # and it lands on the right cells (centroids of the real cells)
    hits = gg.assign(back.assign(geometry=back.geometry.representative_point()), cells)
    assert (hits["cell_code"].to_numpy() == cells["cell_code"].to_numpy()).all()
    with pytest.raises(gg.errors.CRSError, match=r"cells_gcj02\.geojson"):
        gg.io.read_layer(path, crs="mars")


def test_nest_names_a_communities_layer_and_within_the_level():
    city = gg.datasets.demo_city()
    cells = gg.cells.code(gg.cells.fishnet(city.district, size=600, nest=city.communities))
    by_level = gg.grids.build(cells, n=15, within="community", progress=False)
    by_layer = gg.grids.build(cells, n=15, nest=city.communities, progress=False)
    assert by_layer.cells["grid_code"].equals(by_level.cells["grid_code"])
    with pytest.warns(FutureWarning, match="within='street'"):
        old = gg.grids.build(cells, n=8, nest="street", progress=False)
    new = gg.grids.build(cells, n=8, within="street", progress=False)
    assert old.cells["grid_code"].equals(new.cells["grid_code"])
    with pytest.raises(TypeError, match="within="):
        gg.grids.build(cells, n=8, nest=42, progress=False)
    with pytest.raises(ColumnError, match="community_code"):
        gg.grids.build(cells, n=8, nest=city.district, progress=False)


def test_maps_honour_a_declared_layer():
    cells = _cells(3, 200.0)
    wgs = cells.to_crs(4326)
    wgs = wgs.assign(grid_code=wgs["cell_code"])
    amap = gg.crs.to_system(wgs, "gcj02")  # declared GCJ-02 (attrs), as drawn on Amap tiles
    page = gg.maps.grid_map(amap, basemap="none").get_root().render()
    x0 = wgs.geometry.iloc[0].exterior.coords[0][0]
    gx = amap.geometry.iloc[0].exterior.coords[0][0]
    assert f"{x0:.5f}" in page and f"{gx:.5f}" not in page  # drawn where it really is


def test_a_plan_is_accepted_where_cells_and_grids_are(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    city = gg.datasets.demo_city()
    cells = gg.cells.code(gg.cells.fishnet(city.district, size=600, nest=city.communities))
    plan = gg.grids.build(cells, n=15, progress=False)
    raw = gg.datasets.demo_reports(400, seed=1)
    reports = gg.io.read_reports(raw, lon="lng", lat="lat", crs="gcj02", time="reported_at")
    hits = gg.assign(reports, plan)
    by_plan = gg.hotspots.counts(hits, plan)
    assert by_plan["count"].equals(gg.hotspots.counts(hits, plan.cells)["count"])
    rep_plan = gg.coverage.report(plan, hits, calendar=None)
    rep_layers = gg.coverage.report(plan.cells, plan.grids, hits, calendar=None)
    assert rep_plan.sections["workload"].equals(rep_layers.sections["workload"])
    page = gg.maps.grid_map(plan, basemap="none").get_root().render()
    assert plan.grids["grid_code"].iloc[0] in page
    assert gg.maps.plot_grids(plan) is not None
    path = gg.io.write_layer(plan, tmp_path / "plan.gpkg")
    assert len(gg.io.read_layer(path, layer="grids")) == len(plan.grids)
    assert len(gg.io.read_layer(path, layer="cells")) == len(plan.cells)
    with pytest.raises(gg.errors.InputFileError, match="GeoPackage"):
        gg.io.write_layer(plan, tmp_path / "plan.geojson")
