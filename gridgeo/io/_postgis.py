"""PostgreSQL/PostGIS reading and writing behind the ``gridgeo.io`` PostGIS functions.

Safety rules, all enforced here:

* **Values are bound parameters**, never text in the SQL: catalogue look-ups use
  ``:schema``/``:table`` parameters, user queries must use ``:name`` placeholders.
* **Identifiers are checked, then quoted.** Schema, table and column names must be plain
  names (letters, digits, ``_``; not starting with a digit; at most 63 bytes) and are then
  quoted by SQLAlchemy (``sqlalchemy.table``/``column``), never formatted into SQL. A name
  such as ``reports; DROP TABLE x; --`` or one holding a quote is refused before any
  statement runs.
* **Writes are one transaction.** All tables of a call are written inside one transaction
  (a savepoint when the caller's connection already has one open): either every table is
  written or none is, and a failure leaves existing tables as they were.

Needs ``pip install 'gridgeo[postgis]'`` (SQLAlchemy 2, psycopg 3, GeoAlchemy2).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd

from gridgeo._validate import optional_import, require_geodataframe
from gridgeo.errors import ColumnError, CRSError, InputFileError

logger = logging.getLogger(__name__)

IF_EXISTS = ("fail", "replace", "append")
_MAX_NAME_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1; longer names are silently truncated
_NAME = re.compile(r"[^\W\d]\w*")

# --- user SQL (read_postgis) ------------------------------------------------------------

_LITERAL = re.compile(r"'(?:[^']|'')*'|\$\$")
_FORMAT_MARKERS = re.compile(r"%s|%\(\w+\)s|\{\w*\}")
_BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def check_sql(sql: Any, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Refuse SQL with literals, format markers or several statements; match the params."""
    if not isinstance(sql, str):
        msg = f"sql must be a string with :name placeholders, got {type(sql).__name__}."
        raise TypeError(msg)
    if _LITERAL.search(sql):
        msg = (
            "sql contains a quoted literal; values must be passed as bound parameters, not "
            'formatted into the SQL text. Write e.g. "SELECT * FROM reports WHERE kind = :kind" '
            "with params={'kind': 'event'}."
        )
        raise ValueError(msg)
    if _FORMAT_MARKERS.search(sql):
        msg = (
            "sql contains %s / %(name)s / {name} placeholders; use :name placeholders with "
            "params={...} (SQLAlchemy text() bound parameters)."
        )
        raise ValueError(msg)
    body = sql.strip().rstrip(";")
    if ";" in body:
        msg = "sql holds more than one statement; pass a single SELECT."
        raise ValueError(msg)
    params = dict(params or {})
    needed = set(_BIND.findall(body))
    missing = sorted(needed - set(params))
    extra = sorted(set(params) - needed)
    if missing or extra:
        msg = (
            f"sql placeholders and params do not match: missing values for "
            f"{missing or 'none'}, unused params {extra or 'none'}."
        )
        raise ValueError(msg)
    return params


def read_query(
    sql: str, con: Any, *, geom_col: str, params: Mapping[str, Any] | None
) -> gpd.GeoDataFrame:
    """See :func:`gridgeo.io.read_postgis`."""
    bound = check_sql(sql, params)
    sa = optional_import("sqlalchemy", "postgis")
    statement = sa.text(sql)
    with _reading(con, sa) as conn:
        try:
            return gpd.read_postgis(statement, conn, geom_col=geom_col, params=bound)
        except sa.exc.SQLAlchemyError as err:
            msg = f"the database refused the query: {_db_message(err)}. Check the SQL."
            raise InputFileError(msg) from err
        except KeyError as err:
            msg = f"geom_col={geom_col!r} is not a column of the query result; name the geometry."
            raise ColumnError(msg) from err


# --- names and connections --------------------------------------------------------------


def check_name(name: Any, what: str) -> str:
    """Return ``name`` if it is a plain PostgreSQL name, else raise naming the problem."""
    if not isinstance(name, str):
        msg = f"{what} must be a string naming a database object, got {type(name).__name__}."
        raise TypeError(msg)
    if not _NAME.fullmatch(name) or len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        msg = (
            f"{what}={name!r} is not a plain PostgreSQL name. Use letters, digits and "
            f"underscores, not starting with a digit, at most {_MAX_NAME_BYTES} bytes "
            "(e.g. 'reports_2026' or '网格_2026'). gridgeo quotes every name it sends, but "
            "refuses spaces, quotes, dots, semicolons and dashes so that a typo or an "
            "injection attempt cannot name another object. Nothing was read or written."
        )
        raise InputFileError(msg)
    return name


def _db_message(err: BaseException) -> str:
    orig = getattr(err, "orig", None)
    text = str(orig if orig is not None else err).strip()
    return " ".join(text.split())[:500]


def _engine_for(con: Any, sa: Any) -> tuple[Any, bool]:
    """``(engine or connection, owned)``: a URL string gets its own short-lived engine."""
    if isinstance(con, str):
        try:
            return sa.create_engine(con), True
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as err:
            msg = (
                f"cannot use the database URL: {err}. Write it like "
                "'postgresql+psycopg://user@host:5432/dbname'."
            )
            raise InputFileError(msg) from err
    if isinstance(con, sa.engine.Engine | sa.engine.Connection):
        return con, False
    msg = (
        "con must be a SQLAlchemy Engine or Connection, or a database URL such as "
        f"'postgresql+psycopg://user@host/dbname'; got {type(con).__name__}."
    )
    raise TypeError(msg)


@contextlib.contextmanager
def _reading(con: Any, sa: Any) -> Iterator[Any]:
    """A connection for reading (the caller's own, or a new one closed afterwards)."""
    target, owned = _engine_for(con, sa)
    try:
        if isinstance(target, sa.engine.Connection):
            yield target
            return
        try:
            conn = target.connect()
        except sa.exc.SQLAlchemyError as err:
            msg = f"cannot connect to the database: {_db_message(err)}."
            raise InputFileError(msg) from err
        with conn:
            yield conn
    finally:
        if owned:
            target.dispose()


@contextlib.contextmanager
def _transaction(con: Any, sa: Any) -> Iterator[Any]:
    """One transaction (or a savepoint inside the caller's open transaction)."""
    target, owned = _engine_for(con, sa)
    try:
        if isinstance(target, sa.engine.Connection):
            scope = target.begin_nested() if target.in_transaction() else target.begin()
            with scope:
                yield target
            return
        try:
            conn = target.connect()
        except sa.exc.SQLAlchemyError as err:
            msg = f"cannot connect to the database: {_db_message(err)}."
            raise InputFileError(msg) from err
        with conn, conn.begin():
            yield conn
    finally:
        if owned:
            target.dispose()


# --- catalogue look-ups (bound parameters only) -----------------------------------------


def _schema_exists(conn: Any, sa: Any, schema: str) -> bool:
    sql = sa.text("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = :schema")
    return conn.execute(sql, {"schema": schema}).first() is not None


def _table_names(conn: Any, sa: Any, schema: str) -> list[str]:
    sql = sa.text(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = :schema "
        "ORDER BY table_name"
    )
    return [row[0] for row in conn.execute(sql, {"schema": schema})]


def _columns(conn: Any, sa: Any, schema: str, table: str) -> list[str]:
    sql = sa.text(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = :schema AND table_name = :table ORDER BY ordinal_position"
    )
    return [row[0] for row in conn.execute(sql, {"schema": schema, "table": table})]


def _geometry_columns(conn: Any, sa: Any, schema: str, table: str) -> dict[str, int]:
    """``{column: srid}`` of the table's PostGIS geometry columns."""
    sql = sa.text(
        "SELECT f_geometry_column, srid FROM geometry_columns "
        "WHERE f_table_schema = :schema AND f_table_name = :table"
    )
    try:
        with conn.begin_nested():
            rows = conn.execute(sql, {"schema": schema, "table": table}).all()
    except sa.exc.ProgrammingError as err:
        msg = (
            f"the database has no PostGIS (geometry_columns is missing: {_db_message(err)}). "
            "Run CREATE EXTENSION postgis; as its owner."
        )
        raise InputFileError(msg) from err
    return {str(name): int(srid) for name, srid in rows}


def _require_table(conn: Any, sa: Any, schema: str, table: str) -> list[str]:
    """The table's columns; raise when the schema or table does not exist."""
    if not _schema_exists(conn, sa, schema):
        msg = f"schema {schema!r} does not exist in the database; check schema=."
        raise InputFileError(msg)
    columns = _columns(conn, sa, schema, table)
    if not columns:
        names = _table_names(conn, sa, schema)
        shown = ", ".join(map(repr, names[:30])) or "none"
        msg = f"table {schema}.{table} does not exist. Tables in schema {schema!r}: {shown}."
        raise InputFileError(msg)
    return columns


def _select(sa: Any, schema: str, table: str, columns: Sequence[str], order_by: Any) -> Any:
    statement = sa.select(*[sa.column(c) for c in columns]).select_from(
        sa.table(table, schema=schema)
    )
    if order_by:
        statement = statement.order_by(*[sa.column(c) for c in order_by])
    return statement


def _order_columns(
    order_by: str | Sequence[str] | None, columns: list[str], where: str
) -> list[str]:
    if order_by is None:
        return []
    names = [order_by] if isinstance(order_by, str) else list(order_by)
    for name in names:
        check_name(name, "order_by")
    missing = [n for n in names if n not in columns]
    if missing:
        msg = f"order_by column(s) {missing} are not columns of {where}; columns: {columns}."
        raise ColumnError(msg)
    return names


# --- reading tables ---------------------------------------------------------------------


def read_table(
    table: str,
    con: Any,
    *,
    schema: str,
    geom_col: str | None,
    order_by: str | Sequence[str] | None,
    geometry: bool,
) -> pd.DataFrame:
    """Read a table: a GeoDataFrame (``geometry=True``) or its non-geometry columns."""
    _check_names(table, schema, geom_col)
    sa = optional_import("sqlalchemy", "postgis")
    with _reading(con, sa) as conn:
        statement, geom_col, srid = _plan_read(
            conn, sa, table, schema, geom_col, order_by, geometry
        )
        return next(_fetch(conn, sa, statement, geom_col, srid, None, f"table {schema}.{table}"))


def iter_table(
    table: str,
    con: Any,
    *,
    schema: str,
    geom_col: str | None,
    order_by: str | Sequence[str] | None,
    chunksize: int,
) -> Iterator[pd.DataFrame]:
    """:func:`read_table` in chunks of ``chunksize`` rows, through a server-side cursor."""
    _check_names(table, schema, geom_col)
    sa = optional_import("sqlalchemy", "postgis")
    return _chunks(table, con, sa, schema, geom_col, order_by, chunksize)


def _chunks(
    table: str,
    con: Any,
    sa: Any,
    schema: str,
    geom_col: str | None,
    order_by: str | Sequence[str] | None,
    chunksize: int,
) -> Iterator[pd.DataFrame]:
    geometry = geom_col is not None
    where = f"table {schema}.{table}"
    with _reading(con, sa) as conn:
        statement, column, srid = _plan_read(conn, sa, table, schema, geom_col, order_by, geometry)
        statement = statement.execution_options(stream_results=True, max_row_buffer=chunksize)
        yield from _fetch(conn, sa, statement, column, srid, chunksize, where)


def _check_names(table: str, schema: str, geom_col: str | None) -> None:
    check_name(table, "table")
    check_name(schema, "schema")
    if geom_col is not None:
        check_name(geom_col, "geom_col")


def _plan_read(
    conn: Any,
    sa: Any,
    table: str,
    schema: str,
    geom_col: str | None,
    order_by: str | Sequence[str] | None,
    geometry: bool,
) -> tuple[Any, str | None, int]:
    """The SELECT to run, the geometry column to parse (None: none) and its SRID."""
    where = f"table {schema}.{table}"
    columns = _require_table(conn, sa, schema, table)
    geoms = _geometry_columns(conn, sa, schema, table)
    order = _order_columns(order_by, columns, where)
    if geometry:
        geom_col = _pick_geometry(geom_col, geoms, columns, where)
    skipped = [c for c in geoms if c != geom_col]
    if skipped:
        logger.info("%s: geometry column(s) %s not read", where, skipped)
    selected = [c for c in columns if c not in skipped]
    statement = _select(sa, schema, table, selected, order)
    return statement, geom_col, geoms.get(geom_col, 0) if geom_col else 0


def _fetch(
    conn: Any,
    sa: Any,
    statement: Any,
    geom_col: str | None,
    srid: int,
    chunksize: int | None,
    where: str,
) -> Iterator[pd.DataFrame]:
    """Yield the whole result (``chunksize=None``) or its chunks."""
    try:
        if geom_col is None:
            frames = pd.read_sql(statement, conn, chunksize=chunksize)
        else:
            frames = gpd.read_postgis(statement, conn, geom_col=geom_col, chunksize=chunksize)
        for frame in [frames] if chunksize is None else frames:
            if geom_col is not None and frame.crs is None and srid > 0:
                frame = frame.set_crs(srid)
            yield frame
    except sa.exc.SQLAlchemyError as err:
        msg = f"could not read {where}: {_db_message(err)}."
        raise InputFileError(msg) from err


def _pick_geometry(
    geom_col: str | None, geoms: dict[str, int], columns: list[str], where: str
) -> str:
    if geom_col is not None:
        if geom_col not in columns:
            msg = f"geom_col={geom_col!r} is not a column of {where}; columns: {columns}."
            raise ColumnError(msg)
        if geom_col not in geoms:
            msg = f"column {geom_col!r} of {where} is not a PostGIS geometry column."
            raise ColumnError(msg)
        return geom_col
    if len(geoms) == 1:
        return next(iter(geoms))
    if not geoms:
        msg = (
            f"{where} has no PostGIS geometry column. Read lon/lat tables with "
            "gridgeo.io.read_postgis_reports, or name the column with geom_col=."
        )
        raise ColumnError(msg)
    msg = f"{where} has several geometry columns {sorted(geoms)}; choose one with geom_col=."
    raise ColumnError(msg)


# --- writing ----------------------------------------------------------------------------


def _frame_for_writing(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Named index levels become columns (unless already there); unnamed ones are dropped."""
    names = [n for n in gdf.index.names if n is not None]
    if names and len(names) == gdf.index.nlevels and not set(names) & set(gdf.columns):
        return gdf.reset_index()
    return gdf.reset_index(drop=True)


def _storable(frame: gpd.GeoDataFrame, table: str) -> gpd.GeoDataFrame:
    """Categorical columns as their values; check that column names are strings."""
    bad = [c for c in frame.columns if not isinstance(c, str)]
    if bad:
        msg = f"cannot write table {table!r}: column names {bad} are not text; rename them."
        raise ColumnError(msg)
    long = [c for c in frame.columns if len(c.encode("utf-8")) > _MAX_NAME_BYTES]
    if long:
        msg = (
            f"cannot write table {table!r}: column names {long} are longer than "
            f"{_MAX_NAME_BYTES} bytes, which PostgreSQL would cut short; rename them."
        )
        raise ColumnError(msg)
    out = frame.copy(deep=False)
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(out[column].cat.categories.dtype)
    return out


def write_tables(
    layers: Sequence[tuple[gpd.GeoDataFrame, str, str, str]],
    con: Any,
    *,
    schema: str,
    if_exists: str,
) -> None:
    """Write ``(frame, table, frame argument, table argument)`` layers in one transaction."""
    check_name(schema, "schema")
    if if_exists not in IF_EXISTS:
        msg = f"if_exists={if_exists!r} is not allowed; use 'fail', 'replace' or 'append'."
        raise ValueError(msg)
    frames = []
    for gdf, table, what, table_arg in layers:
        require_geodataframe(gdf, what)
        check_name(table, table_arg)
        if gdf.crs is None:
            msg = f"{what} has no CRS; set one (gdf.set_crs(...)) so the table gets an SRID."
            raise CRSError(msg)
        if gdf.crs.to_epsg() is None:
            msg = (
                f"the CRS of {what} has no EPSG code, so PostGIS cannot store its SRID; "
                "reproject it to an EPSG CRS (e.g. gdf.to_crs(4547)) first."
            )
            raise CRSError(msg)
        frames.append((_storable(_frame_for_writing(gdf), table), table))
    tables = [t for _, t in frames]
    if len(set(tables)) != len(tables):
        msg = f"the same table name is given twice: {tables}; use distinct names."
        raise ValueError(msg)
    optional_import("geoalchemy2", "postgis")
    sa = optional_import("sqlalchemy", "postgis")
    with _transaction(con, sa) as conn:
        if not _schema_exists(conn, sa, schema):
            msg = (
                f"schema {schema!r} does not exist in the database; create it "
                f"(CREATE SCHEMA) or pass another schema=. Nothing was written."
            )
            raise InputFileError(msg)
        existing = set(_table_names(conn, sa, schema))
        clash = [t for t in tables if t in existing]
        if if_exists == "fail" and clash:
            msg = (
                f"table(s) {', '.join(f'{schema}.{t}' for t in clash)} already exist; pass "
                "if_exists='replace' to overwrite or 'append' to add rows. Nothing was written."
            )
            raise InputFileError(msg)
        for frame, table in frames:
            _write_one(frame, table, conn, sa, schema=schema, if_exists=if_exists)
    logger.info("wrote %s to schema %s", ", ".join(tables), schema)


def _write_one(
    frame: gpd.GeoDataFrame, table: str, conn: Any, sa: Any, *, schema: str, if_exists: str
) -> None:
    where = f"{schema}.{table}"
    dbapi_error = getattr(conn.dialect, "loaded_dbapi", conn.dialect.dbapi).Error
    try:
        frame.to_postgis(table, conn, schema=schema, if_exists=if_exists, index=False)
    except (sa.exc.SQLAlchemyError, dbapi_error) as err:  # COPY runs on the DBAPI connection
        msg = f"could not write table {where}: {_db_message(err)}. Nothing was written."
        raise InputFileError(msg) from err
    except ValueError as err:
        if "CRS" in str(err):
            msg = f"cannot append to {where}: {err} Reproject the layer. Nothing was written."
            raise CRSError(msg) from err
        msg = f"could not write table {where}: {err}. Nothing was written."
        raise InputFileError(msg) from err
