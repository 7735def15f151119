"""PostGIS: the public PostGIS functions of :mod:`gridgeo.io`.

Checked names, bound values and transactions are in :mod:`gridgeo.io._postgis` (imported on
first use, so the optional dependencies are needed only then); reports read from a table go
through :func:`gridgeo.io.read_reports` like a CSV export.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import geopandas as gpd

from gridgeo.io._read import read_reports


def read_postgis(
    sql: str,
    con: Any,
    *,
    geom_col: str = "geom",
    params: Mapping[str, Any] | None = None,
) -> gpd.GeoDataFrame:
    """Run a parameterised SQL query against PostGIS and return a GeoDataFrame.

    Values are never formatted into the SQL text: write ``:name`` placeholders and pass
    ``params={"name": value}``; they are sent as SQLAlchemy ``text()`` bound parameters.
    SQL containing quoted literals, ``%s``/``{}`` format markers or several statements is
    refused. Needs the optional dependencies: ``pip install 'gridgeo[postgis]'``.

    Parameters
    ----------
    sql : str
        One SELECT statement with ``:name`` placeholders.
    con : sqlalchemy Engine or Connection, or str
        The database connection, or a URL such as ``"postgresql+psycopg://user@host/db"``.
    geom_col : str
        Geometry column of the result (WKB/EWKB; its SRID gives the CRS).
    params : mapping, optional
        Values for every placeholder, and nothing else.

    Returns
    -------
    GeoDataFrame

    Raises
    ------
    ValueError
        Literal values or format markers in ``sql``, or placeholders and ``params`` that do not
        match.
    OptionalDependencyError
        SQLAlchemy is not installed.
    ColumnError
        ``geom_col`` is not in the result.
    InputFileError
        The database refused the query (its message is included).

    Examples
    --------
    >>> read_postgis("SELECT * FROM reports WHERE kind = 'event'", None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: sql contains a quoted literal; values must be passed as bound parameters, ...
    """
    from gridgeo.io import _postgis

    return _postgis.read_query(sql, con, geom_col=geom_col, params=params)


def read_postgis_layer(
    table: str,
    con: Any,
    *,
    schema: str = "public",
    geom_col: str | None = None,
    order_by: str | Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read a PostGIS table as a GeoDataFrame (cells, grids, communities...).

    The schema, table and column names are checked (plain names only) and quoted; catalogue
    look-ups use bound parameters. The CRS comes from the geometry column's SRID. Needs
    ``pip install 'gridgeo[postgis]'``; see ``docs/postgis.md``.

    Parameters
    ----------
    table : str
        Table (or view) name: letters, digits and ``_``, not starting with a digit.
    con : sqlalchemy Engine or Connection, or str
        The database, or its URL (``"postgresql+psycopg://user@host:5432/dbname"``).
    schema : str
        Schema of the table.
    geom_col : str, optional
        Geometry column to read; required when the table has several. Other geometry
        columns are not read.
    order_by : str or list of str, optional
        Columns to sort the rows by; by default the order the server returns.

    Returns
    -------
    GeoDataFrame
        With a RangeIndex and the SRID's CRS.

    Raises
    ------
    InputFileError
        Unsafe name, missing schema or table, no PostGIS, connection or query failure.
    ColumnError
        No (or an ambiguous, or an unknown) geometry column; unknown ``order_by`` column.
    OptionalDependencyError
        SQLAlchemy/psycopg are not installed.
    TypeError
        ``con`` is not an Engine, Connection or URL.

    Examples
    --------
    >>> read_postgis_layer("cells; DROP TABLE grids; --", "postgresql+psycopg://h/db")
    Traceback (most recent call last):
    ...
    gridgeo.errors.InputFileError: table='cells; DROP TABLE grids; --' is not a plain ...
    """
    from gridgeo.io import _postgis

    return _postgis.read_table(
        table, con, schema=schema, geom_col=geom_col, order_by=order_by, geometry=True
    )


def read_postgis_reports(
    table: str,
    con: Any,
    *,
    schema: str = "public",
    lon: str = "lng",
    lat: str = "lat",
    crs: Any = "wgs84",
    time: str | None = None,
    id: str | None = None,
    errors: str = "flag",
    geom_col: str | None = None,
    order_by: str | Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read reports from a PostgreSQL/PostGIS table, checked like :func:`read_reports`.

    The result is what :func:`read_reports` returns for a CSV export of the same rows:
    the same columns plus ``coord_status``, ``coord_issue`` and point ``geometry``, the same
    statuses and messages, ready for :func:`gridgeo.assign`. Values of the ``id`` column
    become text, as they are when read from a CSV.

    Parameters
    ----------
    table : str
        Table (or view) name: letters, digits and ``_``, not starting with a digit.
    con : sqlalchemy Engine or Connection, or str
        The database, or its URL (``"postgresql+psycopg://user@host:5432/dbname"``).
    schema : str
        Schema of the table.
    lon, lat, crs, time, id, errors
        As for :func:`read_reports`. ``lon``/``lat`` are ignored with ``geom_col``.
    geom_col : str, optional
        Read the points from this PostGIS geometry column (its SRID gives the CRS) instead
        of ``lon``/``lat`` columns. Without it, geometry columns are not read.
    order_by : str or list of str, optional
        Columns to sort the rows by (row numbers in ``coord_issue`` follow this order);
        by default the order the server returns.

    Returns
    -------
    GeoDataFrame
        As :func:`read_reports`.

    Raises
    ------
    InputFileError
        Unsafe name, missing schema or table, connection or query failure.
    ColumnError, CoordinateError, DuplicateIdError, CRSError
        As for :func:`read_reports`.
    OptionalDependencyError
        SQLAlchemy/psycopg are not installed.

    Examples
    --------
    >>> read_postgis_reports("reports", "postgresql+psycopg://h/db", schema='x"; --')
    Traceback (most recent call last):
    ...
    gridgeo.errors.InputFileError: schema='x"; --' is not a plain PostgreSQL name. ...
    """
    from gridgeo.io import _postgis

    _postgis.check_name(table, "table")
    _postgis.check_name(schema, "schema")
    frame = _postgis.read_table(
        table,
        con,
        schema=schema,
        geom_col=geom_col,
        order_by=order_by,
        geometry=geom_col is not None,
    )
    if id is not None and id in frame.columns:
        frame[id] = frame[id].astype("str")  # as read_reports reads a CSV's id column
    return read_reports(frame, lon=lon, lat=lat, crs=crs, time=time, id=id, errors=errors)


def iter_postgis_reports(
    table: str,
    con: Any,
    *,
    chunksize: int,
    schema: str = "public",
    lon: str = "lng",
    lat: str = "lat",
    crs: Any = "wgs84",
    time: str | None = None,
    id: str | None = None,
    errors: str = "flag",
    geom_col: str | None = None,
    order_by: str | Sequence[str] | None = None,
) -> Iterator[gpd.GeoDataFrame]:
    """Read reports from a PostgreSQL/PostGIS table in chunks, through a server-side cursor.

    :func:`read_postgis_reports` for tables too large for memory, as :func:`iter_reports`
    is for files: each chunk is checked by :func:`read_reports`, the index continues from
    chunk to chunk (or is the ``id`` column) and ``row N`` in ``coord_issue`` counts from
    the first row of the table; the same per-chunk caveats apply. Feed the chunks to
    :func:`gridgeo.assignment.assign_chunks`. The connection stays open until the iterator is
    exhausted or closed.

    Parameters
    ----------
    table, con, schema, lon, lat, crs, time, id, errors, geom_col
        As for :func:`read_postgis_reports`.
    chunksize : int
        Rows per chunk (rows fetched from the server at a time).
    order_by : str or list of str, optional
        Columns to sort the rows by; pass one (e.g. the id) so that runs are repeatable.

    Returns
    -------
    iterator of GeoDataFrame
        Names and ``chunksize`` are checked at once; the table when iteration starts.

    Raises
    ------
    InputFileError, ColumnError, CoordinateError, DuplicateIdError, CRSError
        As for :func:`read_postgis_reports`; errors of a chunk name its rows.
    OptionalDependencyError
        SQLAlchemy/psycopg are not installed.
    TypeError, ValueError
        ``chunksize`` is not a positive whole number.

    Examples
    --------
    >>> iter_postgis_reports("reports", "postgresql+psycopg://h/db", chunksize=0)
    Traceback (most recent call last):
    ...
    ValueError: chunksize must be at least 1 row, got 0.
    """
    from gridgeo.io import _chunks, _postgis

    size = _chunks.check_chunksize(chunksize)
    frames = _postgis.iter_table(
        table, con, schema=schema, geom_col=geom_col, order_by=order_by, chunksize=size
    )
    if id is not None:
        frames = (f.assign(**{id: f[id].astype("str")}) if id in f else f for f in frames)
    options = {"lon": lon, "lat": lat, "crs": crs, "time": time, "id": id, "errors": errors}
    return _chunks.checked_chunks(frames, f"table {schema}.{table}", options, read_reports)


def write_postgis(
    gdf: gpd.GeoDataFrame,
    table: str,
    con: Any,
    *,
    schema: str = "public",
    if_exists: str = "fail",
) -> str:
    """Write a layer (cells, grids, assigned reports...) to a PostGIS table, in one transaction.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer, with a CRS that has an EPSG code (it becomes the SRID). A named index is
        written as a column; an unnamed one is dropped. Categorical columns are written as
        their values.
    table : str
        Table name: letters, digits and ``_``, not starting with a digit.
    con : sqlalchemy Engine or Connection, or str
        The database, or its URL. With a Connection that is inside a transaction the write
        is a savepoint of it (the caller commits); otherwise it is committed here.
    schema : str
        An existing schema.
    if_exists : {"fail", "replace", "append"}
        When the table exists: refuse (nothing written), drop and recreate it, or add rows
        (the columns and SRID must match).

    Returns
    -------
    str
        ``"schema.table"``.

    Raises
    ------
    InputFileError
        Unsafe name, missing schema, existing table with ``if_exists="fail"``, or the
        database refused the write (nothing written).
    CRSError
        No CRS, a CRS without EPSG code, or an SRID that differs from the table's on append.
    ColumnError
        Column names that are not text or longer than 63 bytes.
    ValueError
        Unknown ``if_exists``.
    OptionalDependencyError
        SQLAlchemy, psycopg or GeoAlchemy2 are not installed.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> pts = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=4326)
    >>> write_postgis(pts, "posts", "postgresql+psycopg://h/db", if_exists="merge")
    Traceback (most recent call last):
    ...
    ValueError: if_exists='merge' is not allowed; use 'fail', 'replace' or 'append'.
    """
    from gridgeo.io import _postgis

    layers = [(gdf, table, "gdf", "table")]
    _postgis.write_tables(layers, con, schema=schema, if_exists=if_exists)
    return f"{schema}.{table}"


def write_plan_postgis(
    plan: Any,
    con: Any,
    *,
    schema: str = "public",
    cells_table: str = "cells",
    grids_table: str = "grids",
    if_exists: str = "fail",
) -> tuple[str, str]:
    """Write a grid plan's cells and grids to two PostGIS tables, all or nothing.

    Both tables are written in one transaction: if either write fails, neither table is
    created or changed. Read them back with :func:`read_postgis_layer`.

    Parameters
    ----------
    plan : GridPlan
        A :func:`gridgeo.grids.build` result (anything with ``.cells`` and ``.grids``
        GeoDataFrames).
    con : sqlalchemy Engine or Connection, or str
        The database, or its URL (see :func:`write_postgis` for transactions).
    schema : str
        An existing schema.
    cells_table, grids_table : str
        Table names.
    if_exists : {"fail", "replace", "append"}
        As for :func:`write_postgis`; with ``"fail"`` nothing is written if either exists.

    Returns
    -------
    tuple of str
        ``("schema.cells_table", "schema.grids_table")``.

    Raises
    ------
    TypeError
        ``plan`` has no ``cells``/``grids`` GeoDataFrames.
    InputFileError, CRSError, ColumnError, ValueError, OptionalDependencyError
        As for :func:`write_postgis`.

    Examples
    --------
    >>> write_plan_postgis(object(), "postgresql+psycopg://h/db")
    Traceback (most recent call last):
    ...
    TypeError: plan must be a grid plan with .cells and .grids GeoDataFrames, got object.
    """
    from gridgeo.io import _postgis

    cells, grids = getattr(plan, "cells", None), getattr(plan, "grids", None)
    if not isinstance(cells, gpd.GeoDataFrame) or not isinstance(grids, gpd.GeoDataFrame):
        msg = (
            "plan must be a grid plan with .cells and .grids GeoDataFrames, got "
            f"{type(plan).__name__}."
        )
        raise TypeError(msg)
    layers = [
        (cells, cells_table, "plan.cells", "cells_table"),
        (grids, grids_table, "plan.grids", "grids_table"),
    ]
    _postgis.write_tables(layers, con, schema=schema, if_exists=if_exists)
    return f"{schema}.{cells_table}", f"{schema}.{grids_table}"
