"""Checks behind :func:`gridgeo.cells.validate` and the result objects of the cells module."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gridgeo.cells._codes import NEST_COLUMNS

_POLYGONAL = (3, 6)


@dataclass(frozen=True, repr=False)
class CellValidation:
    """What :func:`gridgeo.cells.validate` found. ``ok`` is True only when every list is empty
    and the covered area equals the district area to ``1e-6`` relative.

    Attributes
    ----------
    invalid : GeoDataFrame
        Cells with a missing, empty, non-polygonal or invalid geometry; column ``reason``.
    overlaps : GeoDataFrame
        Overlapping parts: ``cell_a``, ``cell_b`` (index labels), ``area_m2``, geometry.
    gaps : GeoDataFrame
        Parts of the district no cell covers (or holes in the cells' union): ``area_m2``.
    slivers : GeoDataFrame
        Cells below ``min_area`` (only checked when ``min_area`` is given): ``area_m2``.
    not_nested : DataFrame
        Cells not inside one community: ``reason`` and ``share`` (largest share in one).
    duplicate_codes : DataFrame
        Rows whose ``cell_code`` is repeated: ``cell_code``.
    covered_area : float
        Area of the union of the cells, in m².
    area : float
        Area of the district (or of the cells' union, without a district), in m².
    crs_problem : str
        Why the coordinates cannot be in the layer's CRS (degrees under a CRS in metres), or
        empty.
    ok : bool
    """

    invalid: gpd.GeoDataFrame
    overlaps: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    slivers: gpd.GeoDataFrame
    not_nested: pd.DataFrame
    duplicate_codes: pd.DataFrame
    covered_area: float
    area: float
    ok: bool
    n_cells: int = 0
    sliver_threshold: float | None = None
    nesting_checked: bool = True
    crs_problem: str = ""

    def _lines(self) -> list[tuple[str, str]]:
        def areas(df: pd.DataFrame) -> str:
            if len(df) == 0:
                return "0"
            return f"{len(df)} ({df['area_m2'].sum():,.2f} m²)"

        share = self.covered_area / self.area * 100 if self.area > 0 else float("nan")
        slivers = (
            "not checked (pass min_area=)"
            if self.sliver_threshold is None
            else f"{len(self.slivers)} below {self.sliver_threshold:,.0f} m²"
        )
        crs = [("CRS", self.crs_problem)] if self.crs_problem else []
        return [
            *crs,
            ("cells", f"{self.n_cells:,}"),
            ("invalid geometries", str(len(self.invalid))),
            ("overlaps", areas(self.overlaps)),
            ("gaps", areas(self.gaps)),
            ("slivers", slivers),
            (
                "not nested in one community",
                str(len(self.not_nested))
                if self.nesting_checked
                else "not checked (pass nest= or add the nesting columns)",
            ),
            ("duplicate codes", str(len(self.duplicate_codes))),
            (
                "covered / district area",
                f"{self.covered_area:,.1f} / {self.area:,.1f} m² ({share:.6f} %)",
            ),
        ]

    def __repr__(self) -> str:
        body = "\n".join(f"  {k}: {v}" for k, v in self._lines())
        return f"CellValidation(ok={self.ok})\n{body}"

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.ok else "#cf222e"
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self._lines()
        )
        status = "ok" if self.ok else "problems found"
        return (
            f"<div><b>CellValidation: <span style='color:{colour}'>{status}</span></b>"
            f"<table>{rows}</table></div>"
        )


@dataclass(frozen=True, repr=False)
class Recoding:
    """Result of :func:`gridgeo.cells.recode`; unpacks as ``cells, changes = recode(...)``.

    Attributes
    ----------
    cells : GeoDataFrame
        The new cells with ``cell_code``.
    changes : DataFrame
        One row per new cell and per retired code: ``cell_code``, ``status`` (``kept``,
        ``changed``, ``new``, ``retired``), ``old_codes`` (old codes the cell overlaps by at least
        1 % of its area, comma-separated), ``overlap`` (best ``min(share of new, share of old)``)
        and ``new_index`` (index label in ``cells``, missing for retired codes).
    """

    cells: gpd.GeoDataFrame
    changes: pd.DataFrame

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return iter((self.cells, self.changes))

    def counts(self) -> dict[str, int]:
        """Number of rows per status."""
        counts = self.changes["status"].value_counts()
        return {s: int(counts.get(s, 0)) for s in ("kept", "changed", "new", "retired")}

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v}" for k, v in self.counts().items())
        return f"Recoding({len(self.cells)} cells: {parts})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>"
            for k, v in self.counts().items()
        )
        return f"<div><b>Recoding of {len(self.cells)} cells</b><table>{rows}</table></div>"


def _empty_gdf(crs: CRS | None, columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=crs)


def invalid_rows(geoms: np.ndarray) -> np.ndarray:
    """Reason per geometry ('' when fine)."""
    reasons = np.full(len(geoms), "", dtype=object)
    missing = shapely.is_missing(geoms)
    reasons[missing] = "missing geometry"
    empty = ~missing & shapely.is_empty(geoms)
    reasons[empty] = "empty geometry"
    rest = ~missing & ~empty
    wrong = rest & ~np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    reasons[wrong] = "not a polygon"
    check = np.flatnonzero(rest & ~wrong)
    valid = shapely.is_valid(geoms[check])
    for k in check[~valid]:
        reasons[k] = shapely.is_valid_reason(geoms[k])
    return reasons


def overlaps(
    geoms: np.ndarray, index: pd.Index, tol: float, crs: CRS | None, out_crs: CRS | None
) -> gpd.GeoDataFrame:
    """Pairwise overlaps with area above ``tol``."""
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    inter = shapely.intersection(geoms[a], geoms[b])
    area = shapely.area(inter)
    big = area > tol
    if not big.any():
        return _empty_gdf(out_crs, ["cell_a", "cell_b", "area_m2"])
    frame = gpd.GeoDataFrame(
        {"cell_a": index[a[big]], "cell_b": index[b[big]], "area_m2": area[big]},
        geometry=inter[big],
        crs=crs,
    )
    return frame.to_crs(out_crs) if out_crs is not None and crs is not None else frame


def gaps(
    union: shapely.Geometry,
    district: shapely.Geometry | None,
    tol: float,
    crs: CRS | None,
    out_crs: CRS | None,
) -> gpd.GeoDataFrame:
    """Parts of the district not covered (or holes of the union without a district)."""
    if district is not None:
        missing = shapely.difference(district, union)
        parts = shapely.get_parts(missing)
    else:
        polys = shapely.get_parts(union)
        polys = polys[shapely.get_type_id(polys) == 3]
        holes = [
            shapely.Polygon(shapely.get_interior_ring(p, k))
            for p in polys
            for k in range(shapely.get_num_interior_rings(p))
        ]
        parts = np.array(holes, dtype=object)
    if len(parts):
        parts = parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)]
    area = shapely.area(parts) if len(parts) else np.zeros(0)
    big = area > tol
    if not big.any():
        return _empty_gdf(out_crs, ["area_m2"])
    frame = gpd.GeoDataFrame({"area_m2": area[big]}, geometry=parts[big], crs=crs)
    return frame.to_crs(out_crs) if out_crs is not None and crs is not None else frame


def nesting(
    geoms: np.ndarray,
    cells: pd.DataFrame,
    nest_geoms: np.ndarray | None,
    nest_frame: pd.DataFrame | None,
    tolerance: float,
) -> pd.DataFrame:
    """Cells not inside one community (within ``tolerance`` of their area)."""
    n = len(geoms)
    reasons = np.full(n, "", dtype=object)
    share = np.full(n, np.nan)
    has_cols = [c for c in ("admin_code", "street_code", "community_code") if c in cells.columns]
    if has_cols:
        text = cells[has_cols].astype("string").fillna("")
        null = (text.apply(lambda col: col.str.strip()) == "").any(axis=1).to_numpy()
        reasons[null] = "missing nesting codes"
    if nest_geoms is not None and nest_frame is not None:
        tree = shapely.STRtree(nest_geoms)
        usable = np.flatnonzero(invalid_rows(geoms) == "")
        src, dst = tree.query(geoms[usable], predicate="intersects")
        src = usable[src]
        inter = shapely.area(shapely.intersection(geoms[src], nest_geoms[dst]))
        area = shapely.area(geoms)
        frac = np.where(area[src] > 0, inter / np.where(area[src] > 0, area[src], 1), 0)
        best = np.full(n, -1, dtype=np.int64)
        share[:] = 0.0
        order = np.lexsort((dst, -frac, src))
        first = np.r_[True, src[order][1:] != src[order][:-1]] if len(order) else order
        best[src[order][first]] = dst[order][first]
        share[src[order][first]] = frac[order][first]
        share[np.setdiff1d(np.arange(n), usable)] = np.nan  # invalid: listed in `invalid`
        low = (share < 1 - tolerance) & (reasons == "")
        reasons[low] = "crosses a community boundary or lies outside every community"
        if len(has_cols) == 3:
            # missing codes compare as "" (they are reported above, never a pandas NA error)
            codes = cells[has_cols].astype("string").fillna("").to_numpy(dtype=object)
            ref = nest_frame[has_cols].astype("string").fillna("").to_numpy(dtype=object)
            ok_best = best >= 0
            mismatch = np.zeros(n, dtype=bool)
            mismatch[ok_best] = (codes[ok_best] != ref[best[ok_best]]).any(axis=1)
            mismatch &= reasons == ""
            reasons[mismatch] = "nesting codes differ from the community holding the cell"
    elif not has_cols:
        return pd.DataFrame({"reason": pd.Series([], dtype=str), "share": []})
    bad = reasons != ""
    return pd.DataFrame(
        {"reason": pd.array(reasons[bad], dtype=str), "share": share[bad]},
        index=cells.index[bad],
    )


def duplicates(cells: pd.DataFrame) -> pd.DataFrame:
    """Rows whose ``cell_code`` appears more than once."""
    if "cell_code" not in cells.columns:
        return pd.DataFrame({"cell_code": pd.Series([], dtype=str)})
    codes = cells["cell_code"]
    present = codes.notna() & (codes.astype("string").fillna("").str.strip() != "")
    dup = present & codes.duplicated(keep=False)
    return pd.DataFrame({"cell_code": codes[dup]})


__all__ = ["NEST_COLUMNS", "CellValidation", "Recoding"]
