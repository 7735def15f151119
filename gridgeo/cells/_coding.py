"""DB11 cell codes: :func:`code` and :func:`recode` (stable codes after a redraw)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgeo._validate import (
    require_columns,
    require_crs,
    require_geom_types,
    require_nonempty,
    require_positive,
)
from gridgeo.cells import _codes as _cellcode
from gridgeo.cells._checks import Recoding
from gridgeo.cells._codes import CODE_PARTS
from gridgeo.cells._inputs import _POLYGONS, _frame, _quiet_fp
from gridgeo.cells._lattices import fishnet  # noqa: F401 - used by the examples
from gridgeo.crs import to_metric
from gridgeo.errors import ColumnError


# --------------------------------------------------------------------------- codes
def _prepare_codes(
    cells: Any, name: str, admin_code: str | int | None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray]:
    """Validated copy with normalised nesting codes, its metric twin and the 12-digit prefixes."""
    frame = _frame(cells, name)
    require_nonempty(frame, name)
    require_crs(frame, name)
    require_geom_types(frame, _POLYGONS, name)
    out = frame.copy()
    missing = [c for c in CODE_PARTS if c not in out.columns]
    if missing and admin_code is None:
        msg = (
            f"{name} is missing the nesting column(s) {', '.join(map(repr, missing))} that "
            "cell codes are built from. Build the cells with nest=communities (blocks(), "
            "fishnet(), hexagons()), add the columns, or pass admin_code='XXXXXX' to code() "
            "to number un-nested cells under street '001' and community '001'."
        )
        raise ColumnError(msg)
    defaults = {"admin_code": admin_code, "street_code": "001", "community_code": "001"}
    for col in missing:
        out[col] = str(defaults[col])
    for col in ("street_name", "community_name"):
        if col not in out.columns and missing:
            out[col] = ""
    for col, width in CODE_PARTS.items():
        out[col] = _cellcode.normalise_part(out[col], col, width, name)
    prefix = (out["admin_code"] + out["street_code"] + out["community_code"]).to_numpy(dtype=object)
    return out, to_metric(out), prefix


@_quiet_fp
def code(
    cells: gpd.GeoDataFrame,
    *,
    scheme: Literal["DB11"] = "DB11",
    admin_code: str | int | None = None,
    row_height: float | None = None,
) -> gpd.GeoDataFrame:
    """Give every cell a 15-digit DB11 code, numbered inside each community W→E, N→S.

    ``cell_code`` = 6-digit admin division (GB/T 2260) + 3-digit street + 3-digit community +
    3-digit sequence. The sequence follows this exact ordering rule inside each community:

    1. take each cell's centroid ``(x, y)`` in the metric CRS, rounded to the centimetre;
    2. its row band is ``floor(y / row_height)``;
    3. order by band from north to south, then ``x`` west to east, then ``y`` north to south,
       then by row position; number ``001, 002, …``.

    The order is deterministic and insensitive to coordinate noise below a centimetre.

    Parameters
    ----------
    cells : GeoDataFrame
        Cells with ``admin_code``, ``street_code`` and ``community_code`` (as built with
        ``nest=``); integer codes are zero-padded.
    scheme : {"DB11"}
        The coding rule; only the Beijing DB11 unit-grid rule is implemented.
    admin_code : str or int, optional
        Fills ``admin_code`` when the column is missing; ``street_code`` and
        ``community_code`` then default to ``"001"`` (and the names to ``""``).
    row_height : float, optional
        Height of the row bands in metres. Default: the median cell side
        ``sqrt(area)``, rounded to the metre (100 m for 万米 cells).

    Returns
    -------
    GeoDataFrame
        A copy with ``cell_code`` (and the code columns as zero-padded strings).

    Raises
    ------
    ColumnError
        Nesting columns missing (without ``admin_code``), empty, or not digit codes.
    CodingError
        More than 999 cells in one community.
    ValueError
        Unknown ``scheme`` or a bad ``row_height``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> district = gpd.GeoSeries([box(0, 0, 200, 200)], crs="EPSG:4547")
    >>> coded = code(fishnet(district, 100), admin_code="110105")
    >>> coded["cell_code"].tolist()
    ['110105001001001', '110105001001002', '110105001001003', '110105001001004']
    """
    if scheme != "DB11":
        msg = f"scheme must be 'DB11' (the only coding rule implemented), got {scheme!r}."
        raise ValueError(msg)
    if row_height is not None:
        require_positive(row_height, "row_height")
    out, metric, prefix = _prepare_codes(cells, "cells", admin_code)
    geoms = np.asarray(metric.geometry.values, dtype=object)
    height = row_height or _cellcode.default_row_height(shapely.area(geoms))
    seq = _cellcode.sequence(prefix, geoms, float(height))
    _cellcode.check_capacity(prefix, seq)
    out["cell_code"] = pd.array(
        [p + f"{s:03d}" for p, s in zip(prefix, seq, strict=True)], dtype=str
    )
    return out


@_quiet_fp
def recode(
    new_cells: gpd.GeoDataFrame,
    old_cells: gpd.GeoDataFrame,
    *,
    threshold: float = 0.95,
    retired: Iterable[str] | None = None,
    admin_code: str | int | None = None,
    row_height: float | None = None,
) -> Recoding:
    """Code redrawn cells so that unchanged cells keep their old codes.

    A new cell *keeps* the code of an old cell in the same community when the two are
    essentially the same: their intersection covers at least ``threshold`` of **both** areas.
    Other new cells get fresh sequence numbers in their community, above every number used by
    the old cells and ``retired`` (so retired codes are never reused), in the order of
    :func:`code`. A new cell is ``changed`` when it overlaps old cells by at least 1 % of its
    area, else ``new``; old codes no new cell keeps are ``retired``.

    Parameters
    ----------
    new_cells : GeoDataFrame
        The redrawn cells with nesting columns (as for :func:`code`).
    old_cells : GeoDataFrame
        The previous cells with ``cell_code``; any CRS.
    threshold : float
        Overlap share (0.5–1] for a cell to keep its code. Default 0.95.
    retired : iterable of str, optional
        Codes retired by earlier redraws; their sequence numbers are never reused either.
    admin_code : str or int, optional
        As in :func:`code`, for un-nested cells.
    row_height : float, optional
        As in :func:`code`, for ordering the fresh codes.

    Returns
    -------
    Recoding
        ``cells`` (copy of ``new_cells`` with ``cell_code``) and ``changes`` (one row per new
        cell and per retired code); unpack with ``cells, changes = recode(...)``.

    Raises
    ------
    ColumnError, CodingError
        Missing nesting columns, bad old codes, or more than 999 cells in a community.
    ValueError
        ``threshold`` outside (0.5, 1].

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> old = code(fishnet(gpd.GeoSeries([box(0, 0, 200, 100)], crs=4547), 100), admin_code=1)
    >>> new = fishnet(gpd.GeoSeries([box(0, 0, 300, 100)], crs=4547), 100)
    >>> cells, changes = recode(new, old, admin_code=1)
    >>> cells["cell_code"].str[-3:].tolist(), changes["status"].tolist()
    (['001', '002', '003'], ['kept', 'kept', 'new'])
    """
    if not (isinstance(threshold, int | float) and 0.5 < threshold <= 1):
        msg = f"threshold must be a share in (0.5, 1], got {threshold!r}."
        raise ValueError(msg)
    if row_height is not None:
        require_positive(row_height, "row_height")
    out, metric, prefix = _prepare_codes(new_cells, "new_cells", admin_code)
    old = _frame(old_cells, "old_cells")
    require_crs(old, "old_cells")
    require_columns(old, ["cell_code"], "old_cells")
    old_prefix, old_seq = _cellcode.split_codes(old["cell_code"], "old_cells")
    old_codes = old["cell_code"].astype(str).to_numpy(dtype=object)
    new_geoms = np.asarray(metric.geometry.values, dtype=object)
    old_geoms = np.asarray(old.to_crs(metric.crs).geometry.values, dtype=object)
    kept, best, touched = _cellcode.match_cells(
        new_geoms, prefix, old_geoms, old_prefix, float(threshold)
    )
    used_prefix, used_seq = old_prefix, old_seq
    if retired is not None:
        r = pd.Series(list(retired), dtype=str)
        r_prefix, r_seq = _cellcode.split_codes(r, "retired")
        used_prefix = np.concatenate([used_prefix, r_prefix])
        used_seq = np.concatenate([used_seq, r_seq])
    highest = _cellcode.highest_used(used_prefix, used_seq)
    fresh = np.flatnonzero(kept < 0)
    codes = np.empty(len(out), dtype=object)
    codes[kept >= 0] = old_codes[kept[kept >= 0]]
    if len(fresh):
        height = row_height or _cellcode.default_row_height(shapely.area(new_geoms))
        seq = _cellcode.sequence(prefix[fresh], new_geoms[fresh], float(height))
        seq = seq - 1 + _cellcode.next_free(prefix[fresh], highest)
        _cellcode.check_capacity(prefix[fresh], seq)
        codes[fresh] = [p + f"{s:03d}" for p, s in zip(prefix[fresh], seq, strict=True)]
    out["cell_code"] = pd.array(codes, dtype=str)
    status = np.where(kept >= 0, "kept", np.where([len(t) > 0 for t in touched], "changed", "new"))
    kept_set = set(kept[kept >= 0].tolist())
    gone = [j for j in range(len(old_codes)) if j not in kept_set]
    changes = pd.DataFrame(
        {
            "cell_code": pd.array(list(codes) + [old_codes[j] for j in gone], dtype=str),
            "status": pd.array(list(status) + ["retired"] * len(gone), dtype=str),
            "old_codes": pd.array(
                [",".join(sorted(old_codes[t])) for t in touched] + [old_codes[j] for j in gone],
                dtype=str,
            ),
            "overlap": np.concatenate([best, np.full(len(gone), np.nan)]),
            "new_index": pd.array(list(out.index) + [None] * len(gone), dtype=object),
        }
    )
    return Recoding(cells=out, changes=changes)
