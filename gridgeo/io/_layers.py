"""Layers: :func:`read_layer` and :func:`write_layer` (the public face is :mod:`gridgeo.io`).

GeoPackage (``.gpkg``, several layers per file), GeoParquet (``.parquet``), GeoJSON
(``.geojson``/``.json``) and ESRI Shapefile (``.shp``; zipped shapefiles ``.zip`` for reading),
with the format table at the top; shapefile encodings through :mod:`gridgeo.io._encoding`,
writes through :mod:`gridgeo.io._atomic`. The helpers shared with the report reader
(:mod:`gridgeo.io._read`) live here too.
"""

from __future__ import annotations

import codecs
import logging
import os
import shutil
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from gridgeo._validate import plan_layers, require_geodataframe
from gridgeo.errors import (
    ColumnError,
    CoordinateError,
    CRSError,
    EncodingError,
    InputFileError,
)
from gridgeo.io import _encoding
from gridgeo.io import _guards as _io_guards
from gridgeo.io._atomic import atomic_fileset, atomic_path, file_lock

# the messages are logged under the package's name, as before the split
logger = logging.getLogger("gridgeo.io")

PathLike = str | os.PathLike[str]

_LAYER_KINDS = {
    ".gpkg": "gpkg",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".geojson": "geojson",
    ".json": "geojson",
    ".shp": "shp",
    ".zip": "zip",
}
_LAYER_FORMATS = (
    "GeoPackage (.gpkg), GeoParquet (.parquet), GeoJSON (.geojson, .json), "
    "ESRI Shapefile (.shp; zipped .zip for reading)"
)
_OGR_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
)


# --- layers ------------------------------------------------------------------------------


def _kind(path: Path, kinds: Mapping[str, str], formats: str, what: str) -> str:
    kind = kinds.get(path.suffix.lower())
    if kind is None:
        msg = (
            f"cannot {what} {str(path)!r}: unknown file extension {path.suffix or '(none)'!r}. "
            f"Supported formats: {formats}."
        )
        raise InputFileError(msg)
    return kind


def _require_file(path: Path, formats: str) -> None:
    if not path.is_file():
        where = "is a folder, not a file" if path.is_dir() else "does not exist"
        msg = f"cannot read {str(path)!r}: the file {where}. Supported formats: {formats}."
        raise InputFileError(msg)


def _unreadable(path: PathLike, err: BaseException, formats: str) -> InputFileError:
    msg = (
        f"cannot read {str(path)!r}: {err}. The file may be corrupt or not in the format its "
        f"extension says. Supported formats: {formats}."
    )
    return InputFileError(msg)


def _check_no_layer(layer: str | None, path: Path) -> None:
    if layer is not None:
        msg = (
            f"layer={layer!r} was given for {str(path)!r}, but only GeoPackage files and zip "
            "archives hold several layers; drop layer= for this file."
        )
        raise InputFileError(msg)


def _pick_layer(path: Path, names: list[str], layer: str | None) -> str:
    if layer is None:
        if len(names) == 1:
            return names[0]
        if not names:
            msg = f"{str(path)!r} holds no layers."
            raise InputFileError(msg)
        msg = (
            f"{str(path)!r} holds {len(names)} layers ({', '.join(map(repr, names))}); "
            "choose one with layer=."
        )
        raise InputFileError(msg)
    if layer not in names:
        msg = (
            f"{str(path)!r} has no layer {layer!r}; its layers are "
            f"{', '.join(map(repr, names))}. Pass one of them as layer=."
        )
        raise InputFileError(msg)
    return layer


def _shapefile_encoding(dbf: bytes, cpg: str | None, source: str) -> str:
    """Python codec of a shapefile's attribute table (see the module docstring)."""
    if cpg is not None:
        named = _encoding.cpg_encoding(cpg)
        if named is not None:
            return named
        logger.warning("%s: .cpg names unknown encoding %r; detecting it instead", source, cpg)
    samples, ldid = _encoding.dbf_samples(dbf)
    from_ldid = _encoding.ldid_encoding(ldid, samples)
    if from_ldid is not None:
        return from_ldid
    return _encoding.detect_encoding(
        samples,
        source=f"the attributes of {source!r}",
        how="read_layer(path, encoding='GBK') (or 'utf-8', 'big5'), or a .cpg file naming it",
    )


def _user_codec(encoding: str, source: str) -> str:
    try:
        return _encoding.codec_name(encoding)
    except LookupError as err:
        msg = f"unknown encoding={encoding!r} for {source!r}; use e.g. 'utf-8', 'GBK' or 'GB18030'."
        raise EncodingError(msg) from err


def _zip_member(path: Path, layer: str | None) -> tuple[str, str]:
    """Return the ``/vsizip/`` path of the shapefile inside a zip and its encoding source."""
    try:
        with zipfile.ZipFile(path) as archive:
            shps = [n for n in archive.namelist() if n.lower().endswith(".shp")]
            stems = [Path(n).stem for n in shps]
            chosen = shps[stems.index(_pick_layer(path, stems, layer))]
    except zipfile.BadZipFile as err:
        raise _unreadable(path, err, _LAYER_FORMATS) from err
    return f"/vsizip/{path.resolve().as_posix()}/{chosen}", chosen


def _zip_encoding(path: Path, member: str) -> str:
    base = member[: -len(".shp")]
    with zipfile.ZipFile(path) as archive:
        names = {n.lower(): n for n in archive.namelist()}
        dbf_name = names.get(base.lower() + ".dbf")
        cpg_name = names.get(base.lower() + ".cpg")
        dbf = archive.read(dbf_name) if dbf_name else b""
        cpg = archive.read(cpg_name).decode("ascii", "replace") if cpg_name else None
    return _shapefile_encoding(dbf, cpg, f"{path}!{member}")


def _file_encoding(path: Path) -> str:
    dbf_path = next(
        (p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None
    )
    cpg_path = next(
        (p for p in (path.with_suffix(".cpg"), path.with_suffix(".CPG")) if p.exists()), None
    )
    dbf = dbf_path.read_bytes() if dbf_path else b""
    cpg = cpg_path.read_text(encoding="ascii", errors="replace") if cpg_path else None
    return _shapefile_encoding(dbf, cpg, str(path))


def _read_ogr(source: str, layer: str | None, encoding: str | None, path: Path) -> gpd.GeoDataFrame:
    try:
        return pyogrio.read_dataframe(source, layer=layer, encoding=encoding)
    except UnicodeDecodeError as err:
        msg = (
            f"cannot decode the attributes of {str(path)!r} as {encoding}: {err.reason} at byte "
            f"{err.start}. Pass the right encoding, e.g. read_layer(path, encoding='GBK') or "
            "encoding='utf-8'."
        )
        raise EncodingError(msg) from err
    except (*_OGR_ERRORS, OSError, shapely.errors.GEOSException) as err:
        raise _unreadable(path, err, _LAYER_FORMATS) from err


def read_layer(
    path: PathLike,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read a vector layer from a GeoPackage, GeoParquet, GeoJSON or Shapefile.

    Parameters
    ----------
    path : str or PathLike
        ``.gpkg``, ``.parquet``, ``.geojson``/``.json``, ``.shp``, or a ``.zip`` holding
        a shapefile (in any folder of the archive).
    layer : str, optional
        Layer name in a GeoPackage, or shapefile name (without ``.shp``) in a zip. Required
        when the file holds more than one.
    encoding : str, optional
        Shapefile attribute encoding (``"GBK"``, ``"utf-8"``, ``"big5"``…). By default it is
        taken from the ``.cpg`` file, else from the dBase language id (when that code page
        decodes the text), else detected: valid UTF-8 is UTF-8; otherwise GB18030 (a
        superset of GBK) or Big5, whichever strict reading has more common characters. See
        docs/errors.md.
    crs : str, int or pyproj.CRS, optional
        What the coordinates are, declared once, as in :func:`read_reports`: ``"gcj02"``
        (Amap/Tencent) or ``"bd09"`` (Baidu) lon/lat are converted to real WGS 84 coordinates
        (EPSG:4326); ``"wgs84"``, ``"cgcs2000"`` or any CRS pyproj understands (``4547``)
        replaces whatever CRS the file states. Default: the file's own CRS.

    Returns
    -------
    GeoDataFrame
        With a RangeIndex and the file's CRS. Empty layers are returned empty.

    Raises
    ------
    InputFileError
        Missing or unreadable file, unknown extension, missing or ambiguous ``layer``, a
        shapefile whose ``.shx``/``.dbf`` is missing, cut short or from another copy.
    EncodingError
        Shapefile text that cannot be decoded, or whose encoding is ambiguous (the candidates
        are listed); pass ``encoding=``.
    CRSError
        Coordinates that cannot be in the declared CRS: beyond ±180/±90 under a geographic
        CRS, degrees under a projected one, Gauss-Krüger eastings whose zone prefix does not
        match the EPSG code. The message names the row and the CRS to use.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "posts.shp"
    >>> posts = gpd.GeoDataFrame({"名称": ["东城驿站"]}, geometry=[Point(114.4, 23.1)], crs=4490)
    >>> _ = write_layer(posts, path, encoding="GBK")
    >>> back = read_layer(path)
    >>> back.loc[0, "名称"], back.crs.to_epsg()
    ('东城驿站', 4490)
    """
    path = Path(path)
    kind = _kind(path, _LAYER_KINDS, _LAYER_FORMATS, "read")
    _require_file(path, _LAYER_FORMATS)
    codec = _user_codec(encoding, str(path)) if encoding is not None else None
    if codec is not None and kind not in {"shp", "zip"} and codec != "utf-8":
        msg = (
            f"encoding={encoding!r} applies to Shapefiles only; {path.suffix} files are "
            "always UTF-8. Drop encoding=."
        )
        raise InputFileError(msg)
    gdf = _read_layer_kind(path, kind, layer, codec)
    if crs is not None:
        gdf = _declared(gdf, crs, path)
    _io_guards.guard_layer(gdf, str(path))
    return gdf


def _declared(gdf: gpd.GeoDataFrame, crs: Any, path: Path) -> gpd.GeoDataFrame:
    """The layer read from ``path`` in the coordinate system the caller declared."""
    from gridgeo.crs import from_declared

    try:
        return from_declared(gdf, crs)
    except (CRSError, CoordinateError) as err:
        msg = f"{str(path)!r} read with crs={crs!r}: {err}"
        raise type(err)(msg) from err


def _read_layer_kind(
    path: Path, kind: str, layer: str | None, codec: str | None
) -> gpd.GeoDataFrame:
    if kind == "parquet":
        _check_no_layer(layer, path)
        try:
            return gpd.read_parquet(path)
        except ValueError as err:
            if "geo" in str(err).lower() and "metadata" in str(err).lower():
                msg = (
                    f"{str(path)!r} is a Parquet table without GeoParquet geometry metadata; "
                    "read lon/lat tables with gridgeo.io.read_reports(path, lon=..., lat=...)."
                )
                raise InputFileError(msg) from err
            raise _unreadable(path, err, _LAYER_FORMATS) from err
        except (OSError, shapely.errors.GEOSException) as err:
            raise _unreadable(path, err, _LAYER_FORMATS) from err
    if kind == "zip":
        source, member = _zip_member(path, layer)
        _io_guards.check_zip_parts(path, member)
        return _read_ogr(source, None, codec or _zip_encoding(path, member), path)
    if kind == "shp":
        _check_no_layer(layer, path)
        _io_guards.check_file_parts(path)
        return _read_ogr(str(path), None, codec or _file_encoding(path), path)
    if kind == "gpkg":
        try:
            names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        except (pyogrio.errors.DataSourceError, OSError) as err:
            raise _unreadable(path, err, _LAYER_FORMATS) from err
        return _read_ogr(str(path), _pick_layer(path, names, layer), None, path)
    _check_no_layer(layer, path)
    return _read_ogr(str(path), None, None, path)


def _frame_for_writing(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Named index levels become columns (unless already there); unnamed ones are dropped."""
    names = [n for n in gdf.index.names if n is not None]
    if names and len(names) == gdf.index.nlevels and not set(names) & set(gdf.columns):
        return gdf.reset_index()
    return gdf.reset_index(drop=True)


def _write_codec(encoding: str | None, source: str) -> str:
    """Exact Python codec for writing (``GBK`` stays GBK, unlike the reading superset)."""
    if encoding is None:
        return "utf-8"
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return _user_codec(encoding, source)


def _write_ogr(frame: gpd.GeoDataFrame, tmp: Path, **options: Any) -> None:
    pyogrio.write_dataframe(frame, tmp, **options)


def write_layer(
    gdf: gpd.GeoDataFrame,
    path: PathLike,
    *,
    layer: str | None = None,
    encoding: str | None = None,
) -> Path:
    """Write a layer to a GeoPackage, GeoParquet, GeoJSON or Shapefile, atomically.

    The data is written to a temporary file (a temporary folder for a shapefile and its
    sidecars) in the target's folder and renamed into place, so a failed write leaves no
    partial file and the previous file untouched. Writing a layer into an existing GeoPackage
    keeps its other layers and replaces the layer of the same name.

    Parameters
    ----------
    gdf : GeoDataFrame or GridPlan
        The layer. A named index is written as a column; an unnamed one is dropped. A
        :class:`gridgeo.grids.GridPlan` writes its ``cells`` and ``grids`` as two layers of a
        GeoPackage (:func:`gridgeo.grids.save_plan` also keeps its summary and history).
    path : str or PathLike
        ``.gpkg``, ``.parquet``, ``.geojson``/``.json`` or ``.shp``. The folder must exist.
    layer : str, optional
        GeoPackage layer name; defaults to the file name without extension.
    encoding : str, optional
        Shapefile attribute encoding, e.g. ``"GBK"`` for older Chinese GIS software; a
        ``.cpg`` file naming it is written. Default UTF-8. Other formats are always UTF-8.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputFileError
        Unknown extension, missing folder, target is a folder, no permission, disk full, or
        the writer failed (the message names the target and says why).
    ColumnError
        A Shapefile field name over 10 bytes or a text value over 254 bytes.
    EncodingError
        Text that cannot be represented in ``encoding``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pts = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[Point(0, 1), Point(2, 3)], crs=4326)
    >>> write_layer(pts, folder / "city.gpkg", layer="posts").name
    'city.gpkg'
    >>> read_layer(folder / "city.gpkg", layer="posts")["n"].tolist()
    [1, 2]
    """
    if not isinstance(gdf, pd.DataFrame) and hasattr(gdf, "cells"):
        return _write_plan_layers(gdf, Path(path), encoding)
    require_geodataframe(gdf, "gdf")
    target = Path(path)
    kind = _kind(target, _LAYER_KINDS, _LAYER_FORMATS, "write")
    if kind == "zip":
        msg = f"cannot write {str(target)!r}: write the shapefile as .shp, then zip it."
        raise InputFileError(msg)
    if not target.parent.is_dir():
        msg = f"cannot write {str(target)!r}: folder {str(target.parent)!r} does not exist."
        raise InputFileError(msg)
    if target.is_dir():
        msg = f"cannot write {str(target)!r}: it is a folder; give a file name inside it."
        raise InputFileError(msg)
    codec = _write_codec(encoding, str(target)) if encoding is not None else None
    if kind != "shp" and codec not in (None, "utf-8"):
        msg = f"encoding={encoding!r} applies to Shapefiles only; {target.suffix} is UTF-8."
        raise InputFileError(msg)
    if kind != "gpkg":
        _check_no_layer(layer, target)
    frame = _frame_for_writing(gdf)
    if kind != "parquet":
        _encoding.check_storable(frame, target)
    try:
        if kind == "shp":
            _encoding.check_shapefile_fields(frame, codec or "utf-8", target)
            with atomic_fileset(target) as tmp:
                _write_ogr(frame, tmp, driver="ESRI Shapefile", encoding=encoding or "UTF-8")
        elif kind == "parquet":
            with atomic_path(target) as tmp:
                frame.to_parquet(tmp, index=False)
        elif kind == "gpkg":
            # the lock keeps a second process from replacing the file with a copy taken
            # before our layer was added (a lost layer)
            with file_lock(target), atomic_path(target) as tmp:
                if target.exists():
                    shutil.copyfile(target, tmp)
                _write_ogr(frame, tmp, driver="GPKG", layer=layer or target.stem)
        else:
            with atomic_path(target) as tmp:
                # the layer name is the GeoJSON "name" member; default would be the temp name
                _write_ogr(frame, tmp, driver="GeoJSON", layer=target.stem)
    except _OGR_ERRORS as err:
        msg = f"could not write {str(target)!r}: {err}. Nothing was written."
        raise InputFileError(msg) from err
    except (ValueError, TypeError) as err:
        if isinstance(err, ColumnError | EncodingError):
            raise
        msg = (
            f"could not write {str(target)!r}: {err}. Nothing was written; check the column "
            "types (lists, dicts and mixed types cannot be stored)."
        )
        raise InputFileError(msg) from err
    return target


def _write_plan_layers(plan: Any, path: Path, encoding: str | None) -> Path:
    """A grid plan's ``cells`` and ``grids`` as two layers of one GeoPackage."""
    cells, grids = plan_layers(plan, None, "gdf")
    if path.suffix.lower() != ".gpkg":
        msg = (
            f"{str(path)!r}: a grid plan has two layers (cells and grids) and needs a GeoPackage "
            "(.gpkg); or write plan.grids / plan.cells, or save it whole with "
            "gridgeo.grids.save_plan(plan, path)."
        )
        raise InputFileError(msg)
    write_layer(cells, path, layer="cells", encoding=encoding)
    return write_layer(grids, path, layer="grids", encoding=encoding)
