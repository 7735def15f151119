"""Move counts and rates from one grid system to another through a crosswalk."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from gridgeo._validate import (
    require_columns,
    require_crs,
    require_geodataframe,
    require_unique,
    rows_preview,
)
from gridgeo.errors import ColumnError, GeometryError
from gridgeo.fusion._crosswalk import Crosswalk

logger = logging.getLogger("gridgeo.fusion")


def _columns(values: pd.DataFrame, cols: Sequence[str], what: str) -> list[str]:
    if isinstance(cols, str):
        cols = [cols]
    cols = list(cols)
    require_columns(values, cols, "values")
    for c in cols:
        num = pd.to_numeric(values[c], errors="coerce")
        bad = num.isna() & values[c].notna()
        if bad.any():
            msg = (
                f"values column {c!r} ({what}) must hold numbers, but row(s) "
                f"{rows_preview(values.index[bad.to_numpy()])} do not."
            )
            raise ColumnError(msg)
    return cols


def _source_side(cw: Crosswalk, direction: str) -> tuple[str, str, str, pd.DataFrame, pd.DataFrame]:
    if direction == "a_to_b":
        return "a_code", "b_code", "share_of_a", cw.a_grids, cw.b_grids
    if direction == "b_to_a":
        return "b_code", "a_code", "share_of_b", cw.b_grids, cw.a_grids
    msg = f"direction must be 'a_to_b' or 'b_to_a', got {direction!r}."
    raise ValueError(msg)


def _area_weighted(
    values: pd.DataFrame,
    cw: Crosswalk,
    code: str,
    extensive: list[str],
    intensive: list[str],
    direction: str,
) -> pd.DataFrame:
    src_col, dst_col, _, src_grids, dst_grids = _source_side(cw, direction)
    src_codes = src_grids["code"].to_numpy(dtype=object).astype(str)
    dst_codes = dst_grids["code"].to_numpy(dtype=object).astype(str)
    keys = values[code].astype(str)
    unknown = sorted(set(keys) - set(src_codes))
    if unknown:
        msg = (
            f"values column {code!r} holds code(s) {rows_preview(unknown)} that are not grids "
            f"of the crosswalk's source system ({direction}); check the direction or the codes."
        )
        raise ColumnError(msg)
    src_pos = pd.Series(np.arange(len(src_codes)), index=src_codes)
    dst_pos = pd.Series(np.arange(len(dst_codes)), index=dst_codes)
    t = cw.table
    i = src_pos.loc[t[src_col].astype(str)].to_numpy()
    j = dst_pos.loc[t[dst_col].astype(str)].to_numpy()
    shared = sparse.csr_matrix(
        (t["area_m2"].to_numpy(dtype=float), (i, j)), shape=(len(src_codes), len(dst_codes))
    )
    row = np.asarray(shared.sum(axis=1)).ravel()
    col = np.asarray(shared.sum(axis=0)).ravel()
    rows_w = sparse.diags(1.0 / np.where(row > 0, row, 1.0)) @ shared  # shares of the source
    cols_w = shared @ sparse.diags(1.0 / np.where(col > 0, col, 1.0))  # shares of the target
    lookup = values.assign(_k=keys.to_numpy()).set_index("_k")
    out = pd.DataFrame({"grid_code": pd.array(dst_codes, dtype="str")})
    for c in extensive:
        v = pd.to_numeric(lookup[c], errors="coerce").reindex(src_codes).fillna(0.0).to_numpy()
        out[c] = rows_w.T @ v
    for c in intensive:
        v = pd.to_numeric(lookup[c], errors="coerce").reindex(src_codes).fillna(0.0).to_numpy()
        est = cols_w.T @ v
        out[c] = np.where(col > 0, est, np.nan)
    return out


def _recount(
    reports: gpd.GeoDataFrame, cw: Crosswalk, direction: str, report_code: str | None
) -> pd.DataFrame:
    src_col, dst_col, _, _, dst_grids = _source_side(cw, direction)
    require_geodataframe(reports, "reports")
    require_crs(reports, "reports")
    if report_code is not None:
        require_columns(reports, [report_code], "reports")
    geoms = np.asarray(reports.geometry.values, dtype=object)
    located = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = shapely.get_type_id(geoms)
    bad = located & (types != 0)
    if bad.any():
        msg = (
            f"reports must hold Point geometries (or none for unlocated reports), but row(s) "
            f"{rows_preview(reports.index[bad])} do not."
        )
        raise GeometryError(msg)
    pts = reports[located]
    if not pts.crs.equals(cw.crs):
        pts = pts.to_crs(cw.crs)
    pieces = np.asarray(cw.table.geometry.values, dtype=object)
    p, k = shapely.STRtree(pieces).query(
        np.asarray(pts.geometry.values, dtype=object), predicate="intersects"
    )
    if report_code is not None:
        own = pts[report_code].astype(str).to_numpy(dtype=object)[p]
        ok = own == cw.table[src_col].astype(str).to_numpy(dtype=object)[k]
        p, k = p[ok], k[ok]
    # a point on the edge between two pieces counts once: in the first piece (A, then B order)
    order = np.lexsort((k, p))
    p, k = p[order], k[order]
    first = np.r_[True, p[1:] != p[:-1]] if len(p) else np.zeros(0, dtype=bool)
    p, k = p[first], k[first]
    dst_codes = dst_grids["code"].to_numpy(dtype=object).astype(str)
    dst_pos = pd.Series(np.arange(len(dst_codes)), index=dst_codes)
    j = dst_pos.loc[cw.table[dst_col].astype(str).to_numpy()[k]].to_numpy()
    out = pd.DataFrame(
        {
            "grid_code": pd.array(dst_codes, dtype="str"),
            "count": np.bincount(j, minlength=len(dst_codes)).astype(np.int64),
        }
    )
    out.attrs["n_reports"] = len(reports)
    out.attrs["n_unlocated"] = int((~located).sum())
    out.attrs["n_outside"] = len(pts) - len(p)
    return out


def transfer(
    values: pd.DataFrame | None,
    crosswalk: Crosswalk,
    *,
    extensive: Sequence[str] = (),
    intensive: Sequence[str] = (),
    code: str = "grid_code",
    how: Literal["area", "reports"] = "area",
    reports: gpd.GeoDataFrame | None = None,
    report_code: str | None = None,
    direction: Literal["a_to_b", "b_to_a"] = "a_to_b",
) -> pd.DataFrame:
    """Move figures from the grids of one system to the grids of another.

    ``how="area"`` (area-weighted interpolation over the crosswalk's shared areas
    ``s_ij`` between source grid ``i`` and target grid ``j``):

    * extensive figures (counts, population): ``y_j = Σ_i v_i · s_ij / Σ_j' s_ij'``; each
      source total is shared out over the part of the grid the target system covers, so
      totals are kept wherever the source is covered;
    * intensive figures (rates, densities): ``y_j = Σ_i v_i · s_ij / Σ_i' s_i'j``, the
      area-weighted mean over the target's covered part (NaN for a target with no overlap).

    These are the formulas of tobler's ``area_interpolate`` with ``allocate_total=True``.
    Missing values count as 0, as in tobler.

    ``how="reports"`` re-counts the reports exactly: each located report counts in the
    target grid of the crosswalk piece it lies in (a report on the edge between two pieces
    counts once, in the first piece in A-then-B order). With ``report_code`` (the reports'
    source grid column, from :func:`gridgeo.assign.assign`) only pieces of that source grid
    are considered, so the count follows the assignment on shared edges.

    Parameters
    ----------
    values : DataFrame or None
        One row per source grid with ``code`` and the figures (``how="area"``); ``None``
        with ``how="reports"``.
    crosswalk : Crosswalk
        From :func:`crosswalk`.
    extensive, intensive : list of str
        Columns of ``values`` to move as counts / as rates.
    code : str, default "grid_code"
        Source grid code column of ``values``.
    how : {"area", "reports"}
        Area-weighted, or exact re-count of ``reports``.
    reports : GeoDataFrame, optional
        Point reports (rows without geometry are counted as unlocated), any CRS.
    report_code : str, optional
        Column of ``reports`` holding the source grid code.
    direction : {"a_to_b", "b_to_a"}
        Which system of the crosswalk is the source.

    Returns
    -------
    DataFrame
        One row per target grid (``grid_code``, in crosswalk order) with the moved columns,
        or ``count`` for ``how="reports"`` (``attrs``: ``n_reports``, ``n_unlocated``,
        ``n_outside`` = located reports in no piece).

    Raises
    ------
    ValueError
        Unknown ``how``/``direction``, no columns to move, or ``reports`` missing/extra.
    ColumnError, DuplicateIdError
        Missing or non-numeric columns, codes unknown to the crosswalk, repeated codes.
    GeometryError
        Reports that are not points.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box, Point
    >>> a = gpd.GeoDataFrame({"grid_code": ["a1", "a2"]},
    ...                      geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=4547)
    >>> b = gpd.GeoDataFrame({"grid_code": ["b1", "b2"]},
    ...                      geometry=[box(0, 0, 50, 100), box(50, 0, 200, 100)], crs=4547)
    >>> from gridgeo.fusion import crosswalk
    >>> cw = crosswalk(a, b)
    >>> figures = pd.DataFrame({"grid_code": ["a1", "a2"], "cases": [10, 4], "rate": [1.0, 3.0]})
    >>> transfer(figures, cw, extensive=["cases"], intensive=["rate"]).round(4).values.tolist()
    [['b1', 5.0, 1.0], ['b2', 9.0, 2.3333]]
    >>> pts = gpd.GeoDataFrame(geometry=[Point(10, 10), Point(60, 10), Point(160, 10)], crs=4547)
    >>> transfer(None, cw, how="reports", reports=pts)["count"].tolist()
    [1, 2]
    """
    if not isinstance(crosswalk, Crosswalk):
        msg = f"crosswalk must be a Crosswalk from gridgeo.fusion.crosswalk(), got {crosswalk!r}."
        raise TypeError(msg)
    _source_side(crosswalk, direction)
    if how == "reports":
        if reports is None:
            msg = "how='reports' needs reports= (the assigned point reports to re-count)."
            raise ValueError(msg)
        return _recount(reports, crosswalk, direction, report_code)
    if how != "area":
        msg = f"how must be 'area' or 'reports', got {how!r}."
        raise ValueError(msg)
    if reports is not None:
        msg = "reports= is only used with how='reports'; pass how='reports' to re-count them."
        raise ValueError(msg)
    if not isinstance(values, pd.DataFrame):
        msg = f"values must be a DataFrame with {code!r} and the figures, got {type(values)}."
        raise TypeError(msg)
    require_columns(values, [code], "values")
    require_unique(values[code].astype(str), f"{code!r} values", "values")
    ext = _columns(values, extensive, "extensive")
    inten = _columns(values, intensive, "intensive")
    if not ext and not inten:
        msg = "nothing to transfer: name columns in extensive= (counts) or intensive= (rates)."
        raise ValueError(msg)
    return _area_weighted(values, crosswalk, code, ext, inten, direction)
