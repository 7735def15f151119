"""Grid plans as files: one GeoPackage holds everything a plan is made of.

Layers and tables of a plan file (the public face is :func:`gridgeo.grids.save_plan` and
:func:`gridgeo.grids.load_plan`):

==================== =====================================================================
``cells``            the plan's cells with ``grid_code``, plus ``gridgeo_cell_weight`` (the
                     weight each cell counted with) and ``gridgeo_index`` (the index label)
``grids``            one polygon per grid with its measures
``summary``          the balance summary for people: ``measure``, ``value``
``out_of_tolerance`` grids outside the tolerance with the reason
``history``          the edits since the plan was built, one row each (``step``, ``edit``,
                     ``details`` as JSON)
``gridgeo_plan``     ``key``/``value`` rows: format version, the build options
                     (``settings``), the summary, column types and the index, as JSON
==================== =====================================================================

Writing is atomic (a temporary file beside the target, renamed at the end) and
reproducible: the same plan gives a byte-identical file (rows in plan order, the
GeoPackage's ``last_change`` pinned with GDAL's ``OGR_CURRENT_DATE``, no timestamps).

This module does not import the plan classes; :mod:`gridgeo.grids` builds them from the parts
returned by :func:`read_plan`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from gridgeo.errors import InputFileError
from gridgeo.io._atomic import atomic_path

FORMAT = "gridgeo-plan-1"
WEIGHT_COLUMN = "gridgeo_cell_weight"
INDEX_COLUMN = "gridgeo_index"
META_LAYER = "gridgeo_plan"
FIXED_DATE = "2000-01-01T00:00:00.000Z"
_SUMMARY_SCALARS = (
    "n_grids",
    "target",
    "mean",
    "cv",
    "max_over_mean",
    "min_over_mean",
    "tolerance",
    "mean_polsby_popper",
)


@contextmanager
def reproducible_gpkg() -> Iterator[None]:
    """Pin the GeoPackage ``last_change`` timestamp while writing, then restore the option."""
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def _plain(value: Any) -> Any:
    """Python scalars (and lists) for JSON; NaN and NA become None."""
    if isinstance(value, np.ndarray | list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _frame_json(df: pd.DataFrame) -> dict[str, Any]:
    return {
        "columns": [str(c) for c in df.columns],
        "dtypes": [str(t) for t in df.dtypes],
        "rows": [[_plain(v) for v in row] for row in df.itertuples(index=False)],
    }


def _frame_from_json(data: dict[str, Any]) -> pd.DataFrame:
    columns = data["columns"]
    rows = data["rows"]
    out = pd.DataFrame({c: [r[i] for r in rows] for i, c in enumerate(columns)}, columns=columns)
    for col, dtype in zip(columns, data["dtypes"], strict=True):
        out[col] = out[col].astype(dtype)
    return out


def _index_info(index: pd.Index) -> dict[str, Any]:
    if isinstance(index, pd.RangeIndex):
        return {
            "kind": "range",
            "start": index.start,
            "stop": index.stop,
            "step": index.step,
            "name": index.name,
        }
    return {"kind": "values", "dtype": str(index.dtype), "name": index.name}


def _restore_index(info: dict[str, Any], values: pd.Series | None, n: int) -> pd.Index:
    if info["kind"] == "range":
        return pd.RangeIndex(info["start"], info["stop"], info["step"], name=info["name"])
    assert values is not None
    return pd.Index(values.to_numpy(), name=info["name"]).astype(info["dtype"])


def _check_target(path: Path) -> None:
    if path.suffix.lower() != ".gpkg":
        msg = f"cannot save a plan to {str(path)!r}: plans are GeoPackage files; use a .gpkg name."
        raise InputFileError(msg)
    if not path.parent.is_dir():
        msg = f"cannot save a plan to {str(path)!r}: folder {str(path.parent)!r} does not exist."
        raise InputFileError(msg)


def write_plan(plan: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``plan`` (a GridPlan) to one GeoPackage at ``path``, atomically."""
    target = Path(path)
    _check_target(target)
    cells = plan.cells
    for reserved in (WEIGHT_COLUMN, INDEX_COLUMN):
        if reserved in cells.columns:
            msg = f"the plan's cells have a column {reserved!r}, a name the plan file reserves."
            raise InputFileError(msg)
    index_info = _index_info(cells.index)
    frame = cells.copy()
    frame[WEIGHT_COLUMN] = plan.cell_weight.reindex(cells.index).to_numpy(dtype=float)
    if index_info["kind"] == "values":
        frame[INDEX_COLUMN] = cells.index.to_numpy()
    frame = frame.reset_index(drop=True)
    s = plan.summary
    summary_rows = pd.DataFrame(
        {
            "measure": list(_SUMMARY_SCALARS),
            "value": [float(getattr(s, k)) for k in _SUMMARY_SCALARS],
        }
    )
    history = list(plan.settings.get("history", ()))
    history_rows = pd.DataFrame(
        {
            "step": np.arange(1, len(history) + 1, dtype=np.int64),
            "edit": [str(h.get("edit", "")) for h in history],
            "details": [json.dumps(_plain_dict(h), ensure_ascii=False) for h in history],
        }
    )
    meta = {
        "format": FORMAT,
        "settings": _plain_dict(plan.settings),
        "summary": {
            **{k: _plain(getattr(s, k)) for k in _SUMMARY_SCALARS},
            "out_of_tolerance": _frame_json(s.out_of_tolerance),
            "islands": _frame_json(s.islands),
            "non_contiguous": list(s.non_contiguous),
            "notes": list(s.notes),
        },
        "cells": {
            "index": index_info,
            "dtypes": {str(c): str(t) for c, t in cells.dtypes.items() if c != cells.geometry.name},
            "geometry": cells.geometry.name,
            "order": [str(c) for c in cells.columns],
            "weight_name": plan.cell_weight.name,
        },
        "grids": {
            "dtypes": {
                str(c): str(t)
                for c, t in plan.grids.dtypes.items()
                if c != plan.grids.geometry.name
            },
            "geometry": plan.grids.geometry.name,
            "order": [str(c) for c in plan.grids.columns],
        },
    }
    meta_rows = pd.DataFrame(
        {
            "key": list(meta),
            "value": [json.dumps(v, ensure_ascii=False, sort_keys=True) for v in meta.values()],
        }
    )
    out_rows = s.out_of_tolerance.copy()
    out_rows["grid_code"] = out_rows["grid_code"].astype(str)
    tables: list[tuple[str, pd.DataFrame]] = [
        ("cells", frame),
        ("grids", plan.grids.reset_index(drop=True)),
        ("summary", summary_rows),
        ("out_of_tolerance", pd.DataFrame(out_rows)),
        ("history", history_rows),
        (META_LAYER, meta_rows),
    ]
    try:
        with reproducible_gpkg(), atomic_path(target) as tmp:
            for name, table in tables:
                options: dict[str, Any] = {"driver": "GPKG", "layer": name}
                if isinstance(table, gpd.GeoDataFrame):
                    options["promote_to_multi"] = False
                pyogrio.write_dataframe(table, tmp, **options)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.FieldError) as err:
        msg = f"could not save the plan to {str(target)!r}: {err}. Nothing was written."
        raise InputFileError(msg) from err
    return target


def _plain_dict(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain_dict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_dict(v) for v in value]
    return _plain(value)


def _restore_dtypes(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    for col, dtype in dtypes.items():
        if col in frame.columns and str(frame[col].dtype) != dtype:
            frame[col] = frame[col].astype(dtype)
    return frame


def _restore_settings(settings: dict[str, Any]) -> dict[str, Any]:
    out = dict(settings)
    for key in ("locked", "history"):
        if key in out:
            out[key] = tuple(out[key])
    return out


def read_plan(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a plan file; return the parts of a GridPlan (``summary`` as a dict of fields)."""
    source = Path(path)
    if not source.is_file():
        msg = (
            f"cannot load a plan from {str(source)!r}: the file does not exist. Save one with "
            "plan.save(path) or `gridgeo grids`."
        )
        raise InputFileError(msg)
    try:
        names = [str(n) for n in pyogrio.list_layers(source)[:, 0]]
    except pyogrio.errors.DataSourceError as err:
        msg = f"cannot load a plan from {str(source)!r}: not a GeoPackage ({err})."
        raise InputFileError(msg) from err
    if META_LAYER not in names or "cells" not in names or "grids" not in names:
        msg = (
            f"{str(source)!r} is not a gridgeo plan file (no {META_LAYER!r} table); save "
            "plans with gridgeo.grids.save_plan or `gridgeo grids`."
        )
        raise InputFileError(msg)
    meta_rows = pyogrio.read_dataframe(source, layer=META_LAYER)
    meta = {k: json.loads(v) for k, v in zip(meta_rows["key"], meta_rows["value"], strict=True)}
    if meta.get("format") != FORMAT:
        msg = (
            f"{str(source)!r} is a plan file of format {meta.get('format')!r}; this gridgeo "
            f"reads {FORMAT!r}."
        )
        raise InputFileError(msg)
    cinfo = meta["cells"]
    cells = pyogrio.read_dataframe(source, layer="cells")
    weight = cells.pop(WEIGHT_COLUMN).to_numpy(dtype=float)
    values = cells.pop(INDEX_COLUMN) if INDEX_COLUMN in cells.columns else None
    index = _restore_index(cinfo["index"], values, len(cells))
    cells.index = index
    cells = cells.rename_geometry(cinfo["geometry"]) if cinfo["geometry"] != "geometry" else cells
    cells = _restore_dtypes(cells, cinfo["dtypes"])
    cells = cells[cinfo["order"]]
    ginfo = meta["grids"]
    grids = pyogrio.read_dataframe(source, layer="grids")
    if ginfo["geometry"] != "geometry":
        grids = grids.rename_geometry(ginfo["geometry"])
    grids = _restore_dtypes(grids, ginfo["dtypes"])
    grids = grids[ginfo["order"]]
    sm = meta["summary"]
    summary = {k: sm[k] for k in _SUMMARY_SCALARS}
    summary["n_grids"] = int(summary["n_grids"])
    summary["out_of_tolerance"] = _frame_from_json(sm["out_of_tolerance"])
    summary["islands"] = _frame_from_json(sm["islands"])
    summary["non_contiguous"] = tuple(sm["non_contiguous"])
    summary["notes"] = tuple(sm["notes"])
    return {
        "grids": grids,
        "cells": cells,
        "summary": summary,
        "cell_weight": pd.Series(weight, index=index, name=cinfo["weight_name"]),
        "settings": _restore_settings(meta["settings"]),
    }
