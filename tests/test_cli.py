"""The ``gridgeo`` command line, run as a user would: ``python -m gridgeo ...`` in a folder of
files the tests build (a GCJ-02 boundary from Amap and a GBK case export with Chinese headers).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import gridgeo as gg
from gridgeo.cli import main

ROOT = Path(__file__).resolve().parents[1]
ZH = {
    "report_id": "案件编号",
    "lng": "经度",
    "lat": "纬度",
    "reported_at": "上报时间",
    "filed_at": "立案时间",
    "dispatched_at": "派遣时间",
    "disposed_at": "处置时间",
    "closed_at": "结案时间",
    "category_code": "小类代码",
    "class_name": "大类",
    "name": "小类",
    "source": "案件来源",
    "extended": "是否延期",
}
COMMANDS = ("init", "cells", "grids", "assign", "hotspots", "map", "report", "run", "demo", "fuse")


def gridgeo(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "gridgeo", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


def ok(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    return run.stdout


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A city's own files: GCJ-02 GeoJSON layers and a GBK CSV with Chinese headers."""
    folder = tmp_path_factory.mktemp("city")
    city = gg.datasets.demo_city()
    for name, layer in (("district", city.district), ("communities", city.communities)):
        gcj = gg.crs.to_system(layer.to_crs(4326), "gcj02")
        gcj.to_file(folder / f"{name}_gcj02.geojson", driver="GeoJSON")
    raw = gg.datasets.demo_reports(2500, seed=4, start="2026-01-05", end="2026-03-15")
    zh = raw.rename(columns=ZH)
    zh["是否延期"] = zh["是否延期"].map({True: "是", False: "否"})
    zh.to_csv(folder / "cases.csv", index=False, encoding="gbk")
    return folder


@pytest.fixture(scope="module")
def chain(work) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every step of the chain, run once: init, cells, grids (twice), assign, hotspots, map,
    report."""
    runs = {}
    runs["init"] = gridgeo("init", "city.toml", "--from-sample", "cases.csv", cwd=work)
    runs["cells"] = gridgeo(
        "cells", "district_gcj02.geojson", "--crs", "gcj02",
        "--communities", "communities_gcj02.geojson", "--cell-area", "40000",
        "--out", "cells.gpkg", cwd=work,
    )  # fmt: skip
    runs["grids"] = gridgeo("grids", "cells.gpkg", "--n", "20", "--out", "plan.gpkg", cwd=work)
    runs["grids --from"] = gridgeo(
        "grids", "cells.gpkg", "--n", "20", "--from", "plan.gpkg", "--locked",
        "441308001001001", "--out", "plan2.gpkg", cwd=work,
    )  # fmt: skip
    # a second department's grids over the same district, exported from Amap (GCJ-02, no CRS)
    beats = gg.grids.build(
        gg.io.read_layer(work / "cells.gpkg", layer="cells"), n=12, within="street", seed=3,
        progress=False,
    ).grids[["grid_code", "geometry"]]  # fmt: skip
    gcj = gg.crs.to_system(beats.to_crs(4326), "gcj02").rename(columns={"grid_code": "警务区"})
    gcj.to_file(work / "beats_gcj02.geojson", driver="GeoJSON")
    runs["fuse"] = gridgeo(
        "fuse", "plan.gpkg", "beats_gcj02.geojson", "--crs-b", "gcj02", "--code-b", "警务区",
        "--names", "城管", "公安", "--out", "fusion", cwd=work,
    )  # fmt: skip
    runs["assign"] = gridgeo(
        "assign", "cases.csv", "plan.gpkg", "--profile", "city.toml", "--out", "assigned.parquet",
        cwd=work,
    )  # fmt: skip
    runs["hotspots"] = gridgeo(
        "hotspots", "assigned.parquet", "plan.gpkg", "--out", "hot", cwd=work
    )
    runs["map"] = gridgeo(
        "map", "plan.gpkg", "--reports", "assigned.parquet", "--out", "map.html", cwd=work
    )
    runs["report"] = gridgeo(
        "report", "assigned.parquet", "plan.gpkg", "--profile", "city.toml", "--start",
        "2026-03-02", "--end", "2026-03-09", "--boundary", "district_gcj02.geojson", "--crs",
        "gcj02", "--out", "report", cwd=work,
    )  # fmt: skip
    return runs


EXPECTED = {
    "init": ["city.toml"],
    "cells": ["cells.gpkg"],
    "grids": ["plan.gpkg"],
    "grids --from": ["plan2.gpkg"],
    "assign": ["assigned.parquet"],
    "hotspots": ["hot/gistar.csv", "hot/warnings.csv", "hot/emerging.csv", "hot/hotspots.html"],
    "map": ["map.html"],
    "report": ["report/coverage_report.html", "report/coverage_report.xlsx", "report/kpi_grid.csv"],
    "fuse": [
        "fusion/crosswalk.gpkg",
        "fusion/crosswalk.csv",
        "fusion/conflicts.gpkg",
        "fusion/conflicts.csv",
        "fusion/fusion_map.html",
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("step", list(EXPECTED))
def test_each_step_writes_and_lists_its_files(chain, work, step):
    out = ok(chain[step])
    for name in EXPECTED[step]:
        path = work / name
        assert path.is_file() and path.stat().st_size > 0, name
        assert str(Path(name)) in out, f"{name} not listed:\n{out}"


@pytest.mark.slow
def test_chain_results_are_right(chain, work):
    profile = gg.Profile.load(work / "city.toml")
    assert profile.columns["lon"] == "经度" and profile.encoding == "gbk"
    cells = gg.io.read_layer(work / "cells.gpkg", layer="cells")
    assert cells["cell_code"].str.len().eq(15).all()
    # cells were made from real (WGS 84) coordinates, not the GCJ-02 ones
    district = gg.datasets.demo_city().district
    metric = cells.to_crs(district.crs)
    assert abs(metric.union_all().area - district.union_all().area) / district.area.sum() < 0.01
    assert metric.union_all().symmetric_difference(district.union_all()).area < 0.01 * (
        district.area.sum()
    )
    plan = gg.grids.load_plan(work / "plan.gpkg")
    assert len(plan.grids) == 20
    again = gg.grids.load_plan(work / "plan2.gpkg")
    assert "441308001001001" in set(again.grids["grid_code"])
    assert again.grids.set_index("grid_code").loc["441308001001001", "locked"]
    assigned = gg.io.read_layer(work / "assigned.parquet")
    assert len(assigned) == 2500
    assert {"status", "grid_code", "reported_at", "filed_at", "category_code"} <= set(
        assigned.columns
    )
    assert assigned["status"].isin(["assigned", "snapped"]).mean() > 0.98
    gistar = pd.read_csv(work / "hot/gistar.csv", dtype={"cell_code": str})
    assert gistar["cell_code"].is_monotonic_increasing and len(gistar) == len(cells)
    # fuse: the GCJ-02 beats were declared once and land on the same cells as the plan
    cw = pd.read_csv(work / "fusion/crosswalk.csv", dtype=str)
    share = cw.astype({"share_of_a": float}).groupby("a_code")["share_of_a"].sum()
    assert len(share) == 20 and ((share - 1).abs() < 1e-6).all()
    page = (work / "fusion/fusion_map.html").read_text(encoding="utf-8")
    assert "城管" in page or "\\u57ce\\u7ba1" in page  # the system names reach the map


# --------------------------------------------------------------------------- bad input
BAD = {
    "init": (["init", "x.toml", "--from-sample", "district_gcj02.geojson"], "CSV"),
    "cells": (["cells", "cases.csv", "--out", "c.gpkg"], "unknown file extension"),
    "grids": (["grids", "cells.gpkg", "--n", "100000", "--out", "p.gpkg"], "100000"),
    "assign": (["assign", "cases.csv", "plan.gpkg", "--out", "a.parquet"], "lon='lng'"),
    "hotspots": (["hotspots", "cases.csv", "plan.gpkg", "--out", "h"], "gridgeo assign"),
    "map": (["map", "cells.gpkg", "--out", "m.html"], "not a gridgeo plan file"),
    "report": (
        ["report", "assigned.parquet", "plan.gpkg", "--start", "2026-03-02", "--out", "r2"],
        "--end",
    ),
    "run": (["run", "--profile", "bad.toml", "--day", "2026-03-02"], "[grids] nn (line 2)"),
    "demo": (["demo", "--out", "d", "--reports", "0"], "--reports"),
    "fuse": (["fuse", "plan.gpkg", "cases.csv", "--out", "f2"], "cases.csv"),
}


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_bad_input_gives_one_line_and_no_traceback(chain, work, command):
    (work / "bad.toml").write_text("[grids]\nnn = 3\n", encoding="utf-8")
    args, fragment = BAD[command]
    run = gridgeo(*args, cwd=work)
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert "error" in lines[0] and fragment in lines[0], lines[0]


@pytest.mark.slow
def test_profile_error_names_the_key_with_a_suggestion(work):
    (work / "typo.toml").write_text('[columns]\nlongitude = "经度"\n', encoding="utf-8")
    run = gridgeo("run", "--profile", "typo.toml", "--day", "2026-03-02", cwd=work)
    assert run.returncode == 2
    assert "[columns] longitude (line 2): unknown key 'longitude'" in run.stderr
    assert "did you mean 'lon'" in run.stderr or "valid:" in run.stderr


@pytest.mark.slow
def test_refuses_to_overwrite_before_working_then_overwrites(chain, work):
    before = sha(work / "plan.gpkg")
    run = gridgeo("grids", "cells.gpkg", "--n", "7", "--out", "plan.gpkg", cwd=work)
    assert run.returncode == 2 and "refusing to overwrite" in run.stderr
    assert "--overwrite" in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert sha(work / "plan.gpkg") == before
    ok(gridgeo("grids", "cells.gpkg", "--n", "20", "--out", "plan.gpkg", "--overwrite", cwd=work))
    assert sha(work / "plan.gpkg") == before  # same input, same bytes


@pytest.mark.slow
def test_debug_shows_the_traceback(work):
    run = gridgeo("cells", "cases.csv", "--out", "c.gpkg", "--debug", cwd=work)
    assert run.returncode != 0
    assert "Traceback" in run.stderr and "InputFileError" in run.stderr


# --------------------------------------------------------------------------------- run
def _profile(work: Path, name: str, plan: str) -> Path:
    text, _ = gg.profile.template_from_sample(work / "cases.csv", name=name)
    text = (
        text.replace('boundary = "district.geojson"', 'boundary = "district_gcj02.geojson"')
        .replace('communities = ""', 'communities = "communities_gcj02.geojson"')
        .replace('plan = "plan.gpkg"', f'plan = "{plan}"')
        .replace("n = 40", "n = 12")
        .replace("cell_area = 10000", "cell_area = 60000")
        .replace('folder = "gridgeo_out"', f'folder = "out_{name[:-5]}"')
    )
    path = work / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.slow
def test_nightly_run_is_idempotent_and_logs(work):
    _profile(work, "nightly.toml", "nightly_plan.gpkg")
    first = ok(gridgeo("run", "--profile", "nightly.toml", "--day", "2026-03-02", "--log",
                       "logs/nightly.log", cwd=work))  # fmt: skip
    assert "nightly_plan.gpkg" in first  # built from the profile's layers and saved
    day = work / "out_nightly/daily/2026-03-02"
    names = ["assigned_reports.parquet", "gistar.csv", "warnings.csv", "heatmap.html"]
    assert sorted(p.name for p in day.iterdir()) == sorted(names)
    hashes = {n: sha(day / n) for n in names[:3]}
    hashes["plan"] = sha(work / "nightly_plan.gpkg")
    refused = gridgeo("run", "--profile", "nightly.toml", "--day", "2026-03-02", cwd=work)
    assert refused.returncode == 2 and "refusing to overwrite" in refused.stderr
    ok(gridgeo("run", "--profile", "nightly.toml", "--day", "2026-03-02", "--overwrite", cwd=work))
    assert {n: sha(day / n) for n in names[:3]} | {"plan": sha(work / "nightly_plan.gpkg")} == (
        hashes
    )
    log = (work / "logs/nightly.log").read_text(encoding="utf-8")
    assert "building one" in log and "reports fall in 2026-03-02" in log
    assert not [p for p in day.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_weekly_run_writes_the_report(work):
    _profile(work, "weekly.toml", "weekly_plan.gpkg")
    out = ok(gridgeo("run", "--profile", "weekly.toml", "--week", "2026-03-04", cwd=work))
    week = work / "out_weekly/weekly/2026-W10"
    for name in ("coverage_report.html", "coverage_report.xlsx", "kpi_grid.csv", "gistar.csv"):
        assert (week / name).stat().st_size > 0 and name in out
    kpi = pd.read_csv(week / "kpi_grid.csv")
    assert kpi["filed"].sum() > 0


def test_interrupted_job_leaves_no_folder(tmp_path, monkeypatch):
    from gridgeo.cli import _jobs

    profile = gg.Profile(
        reports_file=tmp_path / "r.csv", plan=tmp_path / "p.gpkg", output=tmp_path / "out"
    )
    gg.datasets.demo_reports(50, seed=1).to_csv(tmp_path / "r.csv", index=False)

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_jobs, "ensure_plan", stop)
    with pytest.raises(KeyboardInterrupt):
        _jobs.run_job(profile, _jobs.day_period("2026-03-02"), out=None, overwrite=False,
                      progress=False)  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "out/daily").iterdir()) == []


@pytest.mark.parametrize(
    ("text", "label"),
    [("2026-W10", "2026-W10"), ("2026-03-04", "2026-W10"), ("2026w1", "2026-W01")],
)
def test_week_argument(text, label):
    from gridgeo.cli._jobs import week_period

    period = week_period(text)
    assert period.label == label and period.start.weekday() == 0
    assert period.end - period.start == pd.Timedelta(days=7)


# -------------------------------------------------------------------------------- help
@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_a_real_example(command, capsys):
    assert main([command, "--help"]) == 0
    text = capsys.readouterr().out
    assert "Example" in text and f"gridgeo {command}" in text


def test_python_dash_m_and_version(tmp_path):
    run = gridgeo("--version", cwd=tmp_path)
    assert ok(run).startswith("gridgeo, version")
    run = gridgeo("nosuchcommand", cwd=tmp_path)
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_demo_lists_its_files(tmp_path):
    out = ok(gridgeo("demo", "--out", "demo_out", "--reports", "600", "--grids", "12",
                     cwd=tmp_path))  # fmt: skip
    for name in ("reports_export.csv", "cells_grids.gpkg", "map.html", "coverage_report.xlsx"):
        assert (tmp_path / "demo_out" / name).is_file() and name in out
    refused = gridgeo("demo", "--out", "demo_out", "--reports", "600", cwd=tmp_path)
    assert refused.returncode == 2 and "refusing to overwrite" in refused.stderr


@pytest.mark.slow
def test_scripts_call_the_api(chain, work):
    profile = _profile(work, "scripts.toml", "plan.gpkg")
    for script, day in (("nightly.py", "2026-03-02"), ("weekly.py", "2026-03-04")):
        run = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / script), str(profile), day],
            cwd=work,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        for line in run.stdout.splitlines():
            assert Path(line).stat().st_size > 0


def test_no_arguments_shows_the_overview(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "gridgeo run --profile" in out and "demo" in out
