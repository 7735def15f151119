"""PostGIS round trips against a real, throw-away PostgreSQL cluster.

The ``postgis`` fixture runs ``initdb`` + ``pg_ctl`` in a temporary folder, listening only on
a Unix socket there, creates the postgis extension and removes everything afterwards. As
root (CI containers) the server runs as the ``postgres`` user (``GRIDGEO_PG_USER`` to choose
another), since PostgreSQL refuses to run as root. Binaries: ``GRIDGEO_PG_BINDIR``, else the
newest ``/usr/lib/postgresql/*/bin``, else ``initdb`` on the PATH. When no server can start
the tests skip with the reason, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import Point, box

import gridgeo as gg
from gridgeo import io as gio
from gridgeo.errors import (
    ColumnError,
    CRSError,
    GridgeoError,
    InputFileError,
    OptionalDependencyError,
)


# --------------------------------------------------------------------------- the cluster
def _bindir() -> tuple[Path | None, str]:
    given = os.environ.get("GRIDGEO_PG_BINDIR")
    if given:
        if not (Path(given) / "initdb").exists():
            return None, f"GRIDGEO_PG_BINDIR={given!r} holds no initdb"
        return Path(given), ""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent, ""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent, ""
    return (
        None,
        "PostgreSQL is not installed (apt-get install -y postgresql postgresql-NN-postgis-3)",
    )


def _run_as() -> tuple[dict[str, Any], str]:
    """subprocess options to run the server as a non-root user when we are root."""
    if os.geteuid() != 0:
        return {}, ""
    name = os.environ.get("GRIDGEO_PG_USER", "postgres")
    try:
        user = pwd.getpwnam(name)
    except KeyError:
        return {}, f"running as root and there is no user {name!r} to run PostgreSQL"
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}, ""


class Cluster:
    def __init__(self) -> None:
        self.folder: Path | None = None
        self.bindir: Path | None = None
        self.as_user: dict[str, Any] = {}
        self.started = False

    def start(self) -> str:
        """Start the server; return its SQLAlchemy URL or raise RuntimeError with the reason."""
        self.bindir, problem = _bindir()
        if problem:
            raise RuntimeError(problem)
        self.as_user, problem = _run_as()
        if problem:
            raise RuntimeError(problem)
        # a short path: Unix socket paths are limited to ~107 bytes
        self.folder = Path(tempfile.mkdtemp(prefix="ggpg-", dir="/tmp"))
        if self.as_user:
            os.chown(self.folder, self.as_user["user"], self.as_user["group"])
        data = self.folder / "data"
        self._run("initdb", "-D", str(data), "-U", "gridgeo", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "-N")  # fmt: skip
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.folder}' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c shared_buffers=32MB -c max_connections=20 -c max_parallel_workers_per_gather=0 "
            "-c dynamic_shared_memory_type=mmap"  # containers often have a tiny /dev/shm
        )
        log = self.folder / "server.log"
        self._run("pg_ctl", "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60",
                  "start")  # fmt: skip
        self.started = True
        return f"postgresql+psycopg://gridgeo@/postgres?host={self.folder}"

    def _run(self, tool: str, *args: str) -> None:
        assert self.bindir is not None and self.folder is not None
        done = subprocess.run(
            [str(self.bindir / tool), *args],
            capture_output=True,
            text=True,
            cwd=self.folder,
            timeout=120,
            check=False,
            **self.as_user,
        )
        if done.returncode:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed: {done.stderr.strip()[-2000:]} {tail}")

    def stop(self) -> None:
        if self.started and self.folder is not None:
            try:
                self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")
            except (RuntimeError, subprocess.TimeoutExpired) as err:
                print(f"could not stop the test cluster: {err}", file=sys.stderr)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgis(in_ci: bool) -> Iterator[Any]:
    """A SQLAlchemy engine on a fresh PostGIS database (skips locally, fails in CI)."""

    def unavailable(reason: str) -> None:
        if in_ci:
            pytest.fail(f"PostGIS tests cannot run in CI: {reason}")
        pytest.skip(f"no PostGIS test server: {reason}")

    try:
        import geoalchemy2  # noqa: F401
        import psycopg  # noqa: F401
        import sqlalchemy as sa
    except ImportError as err:
        unavailable(f"{err.name} is not installed (pip install 'gridgeo[postgis]')")
    cluster = Cluster()
    try:
        url = cluster.start()
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except sa.exc.SQLAlchemyError as err:
        cluster.stop()
        hint = "is PostGIS installed? apt-get install -y postgresql-NN-postgis-3"
        unavailable(f"{' '.join(str(err).split())[:300]} ({hint})")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as err:
        cluster.stop()
        unavailable(str(err))
    try:
        yield engine
    finally:
        engine.dispose()
        cluster.stop()


@pytest.fixture
def db(postgis: Any) -> Iterator[Any]:
    """The engine, with a fresh schema ``t`` (dropped after the test)."""
    import sqlalchemy as sa

    with postgis.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS t CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA t"))
    yield postgis
    with postgis.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS t CASCADE"))


def _tables(engine: Any, schema: str = "t") -> list[str]:
    import sqlalchemy as sa

    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :s "
                "ORDER BY 1"
            ),
            {"s": schema},
        )
        return [r[0] for r in rows]


def _copy_rows(table: Any, conn: Any, keys: list[str], rows: Any) -> None:
    """pandas ``to_sql`` method: COPY the rows (much faster than INSERT for 100,000 rows)."""
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    quote = conn.dialect.identifier_preparer.quote
    target = f"{quote(table.schema)}.{quote(table.name)}"
    columns = ", ".join(quote(k) for k in keys)
    sql = f"COPY {target} ({columns}) FROM STDIN WITH CSV"  # names quoted just above
    with conn.connection.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(buffer.getvalue())


# --------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def plan() -> gg.grids.GridPlan:
    city = gg.datasets.demo_city()
    cells = gg.cells.code(gg.cells.fishnet(city.district, 300, nest=city.communities))
    return gg.grids.build(cells, n=20, progress=False)


def _same_layer(got: gpd.GeoDataFrame, expected: gpd.GeoDataFrame) -> None:
    assert got.crs == expected.crs
    assert list(got.columns) == list(expected.columns)
    for column in expected.columns:
        if column == expected.geometry.name:
            assert got.geometry.geom_equals_exact(expected.geometry, 0).all()
        else:
            a, b = got[column], expected[column]
            assert a.astype(object).tolist() == b.astype(object).tolist(), column


# --------------------------------------------------------------------------- round trips
def test_plan_round_trip(db: Any, plan: gg.grids.GridPlan) -> None:
    names = gio.write_plan_postgis(plan, db, schema="t")
    assert names == ("t.cells", "t.grids")
    cells = gio.read_postgis_layer("cells", db, schema="t", order_by="cell_code")
    grids = gio.read_postgis_layer("grids", db, schema="t", order_by="grid_code")
    _same_layer(cells, plan.cells.sort_values("cell_code").reset_index(drop=True))
    _same_layer(grids, plan.grids.sort_values("grid_code").reset_index(drop=True))
    # the plan read back assigns reports exactly as the plan itself
    reports = gg.datasets.demo_reports(2_000, seed=5)
    points = gio.read_reports(reports, crs="gcj02")
    a = gg.assign(points, plan, duplicates=False)
    b = gg.assign(points, cells.assign(grid_code=cells["grid_code"]), duplicates=False)
    assert a["cell_code"].astype(object).equals(b["cell_code"].astype(object))
    assert a["grid_code"].astype(object).equals(b["grid_code"].astype(object))


@pytest.mark.slow
def test_reports_round_trip_100k(db: Any, plan: gg.grids.GridPlan, tmp_path: Path) -> None:
    """100,000 reports: CSV export -> table -> read_postgis_reports == read_reports(CSV)."""
    five = [gg.datasets.demo_reports(20_000, seed=11)] * 5  # 100,000 rows, faster to make
    table = pd.concat(five, ignore_index=True)
    table["report_id"] = [f"R{i:06d}" for i in range(len(table))]
    table["seq"] = np.arange(len(table))
    path = tmp_path / "reports.csv"
    table.to_csv(path, index=False)
    raw = pd.read_csv(path, dtype={"reported_at": str, "report_id": str}, low_memory=False)
    with db.begin() as conn:
        raw.to_sql("reports", conn, schema="t", index=False, method=_copy_rows)
    read = {"crs": "gcj02", "time": "reported_at", "id": "report_id"}
    expected = gio.read_reports(path, **read)
    got = gio.read_postgis_reports("reports", db, schema="t", order_by="seq", **read)
    assert len(got) == 100_000
    pd.testing.assert_frame_equal(got, expected)
    assert set(got["coord_status"]) == {"ok", "missing_coords", "invalid_coords"}
    # assigned reports go back as a table and come back whole
    hits = gg.assign(got, plan, duplicates=False)
    gio.write_postgis(hits.drop(columns=["reason"]), "assigned", db, schema="t")
    back = gio.read_postgis_layer("assigned", db, schema="t", order_by="seq")
    ok = hits["status"].isin(["assigned", "snapped", "outside"]).to_numpy()
    assert back["status"].tolist() == hits["status"].astype(str).tolist()
    assert (
        back["cell_code"].fillna("").tolist()
        == hits["cell_code"].astype(object).fillna("").tolist()
    )
    assert shapely.equals_exact(back.geometry.values[ok], hits.geometry.values[ok], 0).all()
    assert back.geometry[~ok].isna().all()


def test_reports_in_chunks_equal_one_pass(db: Any, plan: gg.grids.GridPlan, tmp_path: Path) -> None:
    """20,000 reports from a table in chunks of 3,000: same reports, cells and counts."""
    table = gg.datasets.demo_reports(20_000, seed=12)
    table["seq"] = np.arange(len(table))
    path = tmp_path / "reports.csv"
    table.to_csv(path, index=False)
    raw = pd.read_csv(path, dtype={"reported_at": str, "report_id": str}, low_memory=False)
    with db.begin() as conn:
        raw.to_sql("reports", conn, schema="t", index=False)
    read = {"crs": "gcj02", "time": "reported_at"}
    one = gio.read_reports(path, **read)
    chunks = gio.iter_postgis_reports(
        "reports", db, schema="t", chunksize=3_000, order_by="seq", **read
    )
    both = list(chunks)
    assert [len(c) for c in both] == [3_000] * 6 + [2_000]
    pd.testing.assert_frame_equal(pd.concat(both), one)
    options = {"duplicates": False, "rules": gg.assignment.LevelRules(repeat_count=0)}
    hits = gg.assign(one, plan, **options)
    counted = gg.hotspots.count_chunks(
        gg.assignment.assign_chunks(both, plan, **options), plan.cells
    )
    pd.testing.assert_frame_equal(counted, gg.hotspots.counts(hits, plan.cells))
    with_ids = gio.iter_postgis_reports(
        "reports", db, schema="t", chunksize=7_000, order_by="seq", id="report_id", **read
    )
    expected = gio.read_reports(path, id="report_id", **read)
    pd.testing.assert_frame_equal(pd.concat(list(with_ids)), expected)


def test_reports_from_a_geometry_column(db: Any) -> None:
    points = gpd.GeoDataFrame(
        {"report_id": [1, 2, 3], "kind": ["a", "b", "c"]},
        geometry=[Point(114.41, 23.11), None, Point(23.1, 114.4)],
        crs=4326,
    )
    gio.write_postgis(points, "pts", db, schema="t")
    got = gio.read_postgis_reports(
        "pts", db, schema="t", geom_col="geometry", id="report_id", order_by="report_id"
    )
    expected = gio.read_reports(points.astype({"report_id": str}), id="report_id")
    pd.testing.assert_frame_equal(got, expected)
    assert got["coord_status"].tolist() == ["ok", "missing_coords", "invalid_coords"]


# ------------------------------------------------------------------- if_exists, transactions
def test_if_exists(db: Any, plan: gg.grids.GridPlan) -> None:
    gio.write_plan_postgis(plan, db, schema="t")
    with pytest.raises(InputFileError, match=r"t\.cells, t\.grids already exist"):
        gio.write_plan_postgis(plan, db, schema="t")
    half = plan.cells.iloc[:10]
    gio.write_postgis(half, "cells", db, schema="t", if_exists="replace")
    assert len(gio.read_postgis_layer("cells", db, schema="t")) == 10
    gio.write_postgis(half, "cells", db, schema="t", if_exists="append")
    assert len(gio.read_postgis_layer("cells", db, schema="t")) == 20
    with pytest.raises(CRSError, match="differs"):
        gio.write_postgis(half.to_crs(4326), "cells", db, schema="t", if_exists="append")
    assert len(gio.read_postgis_layer("cells", db, schema="t")) == 20
    with pytest.raises(ValueError, match="if_exists='upsert'"):
        gio.write_postgis(half, "cells", db, schema="t", if_exists="upsert")


def test_plan_write_is_all_or_nothing(db: Any, plan: gg.grids.GridPlan) -> None:
    import sqlalchemy as sa

    # an existing grids table with other columns: appending the plan's grids fails ...
    with db.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t.grids (only_this integer)"))
    # if_exists="fail": one existing table is enough to write nothing
    with pytest.raises(InputFileError, match=r"t\.grids already exist.*Nothing was written"):
        gio.write_plan_postgis(plan, db, schema="t")
    assert _tables(db) == ["grids"]
    with pytest.raises(InputFileError, match=r"could not write table t\.grids.*Nothing"):
        gio.write_plan_postgis(plan, db, schema="t", if_exists="append")
    # ... and the cells written before it in the same call are rolled back
    assert _tables(db) == ["grids"]
    # replace: a failure in the second table keeps the first table's old rows
    gio.write_postgis(plan.cells.iloc[:3], "cells", db, schema="t")
    bad = plan.grids.assign(note="NUL \x00 is not storable in PostgreSQL text")
    with pytest.raises(GridgeoError):
        gio.write_plan_postgis(
            gg.grids.GridPlan(bad, plan.cells, plan.summary, plan.cell_weight),
            db,
            schema="t",
            if_exists="replace",
        )
    assert len(gio.read_postgis_layer("cells", db, schema="t")) == 3
    with db.connect() as conn:
        cols = conn.execute(sa.text("SELECT * FROM t.grids")).keys()
    assert list(cols) == ["only_this"]


def test_write_inside_the_callers_transaction(db: Any, plan: gg.grids.GridPlan) -> None:
    with db.connect() as conn, conn.begin() as outer:
        gio.write_postgis(plan.grids, "g1", conn, schema="t")
        assert "g1" in [r[0] for r in conn.execute(__import__("sqlalchemy").text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 't'"))]  # fmt: skip
        outer.rollback()  # the caller decides: nothing stays
    assert _tables(db) == []


def test_url_string_and_missing_objects(db: Any, plan: gg.grids.GridPlan) -> None:
    url = db.url.render_as_string(hide_password=False)
    gio.write_postgis(plan.grids, "g", url, schema="t")
    assert len(gio.read_postgis_layer("g", url, schema="t")) == len(plan.grids)
    with pytest.raises(InputFileError, match=r"table t\.nope does not exist.*'g'"):
        gio.read_postgis_layer("nope", db, schema="t")
    with pytest.raises(InputFileError, match="schema 'nope' does not exist"):
        gio.read_postgis_layer("g", db, schema="nope")
    with pytest.raises(InputFileError, match="schema 'nope' does not exist"):
        gio.write_postgis(plan.grids, "g", db, schema="nope")
    with pytest.raises(ColumnError, match="no_col"):
        gio.read_postgis_layer("g", db, schema="t", order_by="no_col")
    with pytest.raises(ColumnError, match="not a PostGIS geometry column"):
        gio.read_postgis_layer("g", db, schema="t", geom_col="grid_code")
    with pytest.raises(InputFileError, match="cannot connect"):
        gio.read_postgis_layer("g", "postgresql+psycopg://nobody@/x?host=/nonexistent")


def test_read_postgis_query_with_bound_values(db: Any, plan: gg.grids.GridPlan) -> None:
    gio.write_postgis(plan.grids, "grids", db, schema="t")
    code = plan.grids["grid_code"].iloc[3]
    got = gio.read_postgis(
        "SELECT * FROM t.grids WHERE grid_code = :code", db, geom_col="geometry",
        params={"code": code},
    )  # fmt: skip
    assert got["grid_code"].tolist() == [code] and got.crs == plan.grids.crs
    # a value that looks like SQL is only a value
    none = gio.read_postgis(
        "SELECT * FROM t.grids WHERE grid_code = :code", db, geom_col="geometry",
        params={"code": "x' OR '1'='1"},
    )  # fmt: skip
    assert len(none) == 0


# --------------------------------------------------------------------------- injection
INJECTIONS = [
    "reports; DROP TABLE t.keep; --",
    'reports"; DROP TABLE t.keep; --',
    "reports' OR '1'='1",
    'a"b',
    "t.keep",
    "keep--",
    "",
    " keep",
    "1keep",
    "x" * 64,
]


@pytest.mark.parametrize("name", INJECTIONS)
def test_injection_in_names_is_refused_and_touches_nothing(
    db: Any, plan: gg.grids.GridPlan, name: str
) -> None:
    gio.write_postgis(plan.grids.iloc[:2], "keep", db, schema="t")
    calls = [
        lambda: gio.write_postgis(plan.grids, name, db, schema="t", if_exists="replace"),
        lambda: gio.write_postgis(plan.grids, "ok", db, schema=name, if_exists="replace"),
        lambda: gio.write_plan_postgis(plan, db, schema="t", grids_table=name),
        lambda: gio.read_postgis_layer(name, db, schema="t"),
        lambda: gio.read_postgis_layer("keep", db, schema=name),
        lambda: gio.read_postgis_layer("keep", db, schema="t", geom_col=name),
        lambda: gio.read_postgis_layer("keep", db, schema="t", order_by=[name]),
        lambda: gio.read_postgis_reports(name, db, schema="t"),
    ]
    for call in calls:
        with pytest.raises(InputFileError, match="not a plain PostgreSQL name"):
            call()
    assert _tables(db) == ["keep"]
    assert len(gio.read_postgis_layer("keep", db, schema="t")) == 2


def test_unusual_but_plain_names_are_quoted(db: Any, plan: gg.grids.GridPlan) -> None:
    for name in ("网格_2026", "Grids", "select", "user"):
        gio.write_postgis(plan.grids.iloc[:2], name, db, schema="t")
        assert len(gio.read_postgis_layer(name, db, schema="t")) == 2
    assert _tables(db) == sorted(["Grids", "select", "user", "网格_2026"])


@settings(max_examples=40, deadline=None)
@given(name=st.one_of(st.from_regex(r"[^\W\d]\w{0,62}", fullmatch=True), st.text(max_size=70)))
def test_any_name_is_refused_or_names_exactly_one_table(postgis: Any, name: str) -> None:
    """Invariant: a name is refused (nothing created) or creates exactly that table."""
    import sqlalchemy as sa

    layer = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(114.4, 23.1)], crs=4326)
    with postgis.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS h CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA h"))
    try:
        gio.write_postgis(layer, name, postgis, schema="h")
    except InputFileError as err:
        assert "not a plain PostgreSQL name" in str(err)
        assert _tables(postgis, "h") == []
    else:
        assert _tables(postgis, "h") == [name]
        assert gio.read_postgis_layer(name, postgis, schema="h")["n"].tolist() == [1]


# --------------------------------------------------------------------------- without a server
def test_argument_errors_need_no_server() -> None:
    grids = gpd.GeoDataFrame({"g": [1]}, geometry=[box(0, 0, 1, 1)])
    with pytest.raises(CRSError, match="no CRS"):
        gio.write_postgis(grids, "g", "postgresql+psycopg://h/db")
    with pytest.raises(CRSError, match="no EPSG code"):
        gio.write_postgis(grids.set_crs("+proj=tmerc +lon_0=114"), "g", "postgresql+psycopg://h/db")
    with pytest.raises(TypeError, match="con must be"):
        gio.read_postgis_layer("g", 42)
    with pytest.raises(TypeError, match="plan must be"):
        gio.write_plan_postgis(grids, "postgresql+psycopg://h/db")
    with pytest.raises(InputFileError, match="database URL"):
        gio.read_postgis_layer("g", "not a url")


def test_missing_sqlalchemy_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    with pytest.raises(OptionalDependencyError, match=r"gridgeo\[postgis\]"):
        gio.read_postgis_layer("g", "postgresql+psycopg://h/db")
