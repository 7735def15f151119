"""Crosswalk between two grid systems (shared area and each side's share for every pair), and
the conflict list built from it."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gridgeo.fusion._base import (
    check_number,
    geoms_codes,
    grid_layer,
    in_crs,
    table_html,
    target_crs,
)
from gridgeo.grids import GridPlan

logger = logging.getLogger("gridgeo.fusion")

_POLYGONAL = (3, 6)  # Polygon, MultiPolygon


@dataclass(frozen=True, eq=False)
class Crosswalk:
    """Every overlapping pair of grids of two systems, with shared area and shares.

    Attributes
    ----------
    table : GeoDataFrame
        One row per pair kept: ``a_code``, ``b_code``, ``area_m2`` (shared area),
        ``share_of_a`` (``area_m2`` / the A grid's covered area), ``share_of_b`` (likewise for
        B); geometry = the shared piece, in :attr:`crs`. Rows sorted by A then B input order.
        Per grid, the shares sum to 1 over the part of the grid the other system covers.
    a_grids, b_grids : GeoDataFrame
        One row per grid of each system, in input order: ``code``, ``area_m2`` (the whole
        grid), ``covered_m2`` (the part in kept pairs), ``covered_share`` (their ratio),
        ``n_partners`` (kept pairs); geometry = the grid in :attr:`crs`.
    n_slivers : int
        Pairs whose shared area was above 0 but below ``tolerance_m2`` (dropped).
    sliver_area_m2 : float
        Their total area.
    tolerance_m2 : float
        The sliver tolerance used.
    names : tuple of str
        Names of the two systems (for messages and reports).
    crs : pyproj.CRS
        The metric CRS the areas were computed in (pieces are in it too).
    """

    table: gpd.GeoDataFrame
    a_grids: gpd.GeoDataFrame
    b_grids: gpd.GeoDataFrame
    n_slivers: int
    sliver_area_m2: float
    tolerance_m2: float
    names: tuple[str, str]
    crs: CRS

    def to_frame(self) -> pd.DataFrame:
        """The crosswalk table without geometries (a plain DataFrame)."""
        return pd.DataFrame(self.table.drop(columns="geometry"))

    def conflicts(self, *, min_share: float = 0.05) -> Conflicts:
        """Conflicts of this crosswalk; see :func:`gridgeo.fusion.conflicts`."""
        return conflicts_of(self, min_share=min_share)

    def __repr__(self) -> str:
        a, b = self.names
        return (
            f"Crosswalk({a}: {len(self.a_grids)} grids × {b}: {len(self.b_grids)} grids -> "
            f"{len(self.table)} pairs, {self.n_slivers} slivers < {self.tolerance_m2:g} m² "
            f"dropped ({self.sliver_area_m2:.3g} m²), CRS EPSG:{self.crs.to_epsg()})"
        )

    def _repr_html_(self) -> str:
        return f"<b>{html.escape(repr(self))}</b>" + table_html(self.to_frame())


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal part of each geometry (an intersection may add lines/points)."""
    out = np.asarray(geoms, dtype=object).copy()
    types = shapely.get_type_id(out)
    for k in np.flatnonzero(~np.isin(types, _POLYGONAL)):
        parts = shapely.get_parts(out[k])
        parts = parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)]
        polys = np.concatenate([shapely.get_parts(p) for p in parts]) if len(parts) else parts
        out[k] = (
            shapely.multipolygons(polys)
            if len(polys) > 1
            else (polys[0] if len(polys) else shapely.Polygon())
        )
    return out


def _pairs_fast(ga: np.ndarray, gb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate pairs (A position, B position) and their intersections, vectorised."""
    tree = shapely.STRtree(gb)
    ia, ib = tree.query(ga, predicate="intersects")
    order = np.lexsort((ib, ia))
    ia, ib = ia[order], ib[order]
    pieces = shapely.intersection(ga[ia], gb[ib])
    return ia.astype(np.int64), ib.astype(np.int64), pieces


def _pairs_slow(ga: np.ndarray, gb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-by-row twin of :func:`_pairs_fast`: every pair tested, one intersection each."""
    ia, ib, pieces = [], [], []
    for i, ga_i in enumerate(ga):
        for j, gb_j in enumerate(gb):
            if ga_i.intersects(gb_j):
                ia.append(i)
                ib.append(j)
                pieces.append(ga_i.intersection(gb_j))
    return (
        np.asarray(ia, dtype=np.int64),
        np.asarray(ib, dtype=np.int64),
        np.asarray(pieces, dtype=object),
    )


def _grid_table(
    codes: np.ndarray, geoms: np.ndarray, pos: np.ndarray, shared: np.ndarray, crs: CRS
) -> gpd.GeoDataFrame:
    area = shapely.area(geoms)
    covered = np.bincount(pos, weights=shared, minlength=len(codes))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(area > 0, covered / area, 0.0)
    return gpd.GeoDataFrame(
        {
            "code": pd.array(codes.astype(str), dtype="str"),
            "area_m2": area,
            "covered_m2": covered,
            "covered_share": share,
            "n_partners": np.bincount(pos, minlength=len(codes)).astype(np.int64),
        },
        geometry=list(geoms),
        crs=crs,
    )


def build_crosswalk(
    a: Any,
    b: Any,
    *,
    tolerance_m2: float,
    a_code: str,
    b_code: str,
    names: tuple[str, str],
    slow: bool = False,
) -> Crosswalk:
    """Validated crosswalk; ``slow=True`` runs the row-by-row twin (tests only)."""
    tol = check_number(tolerance_m2, "tolerance_m2")
    la = grid_layer(a, "a", a_code)
    lb = grid_layer(b, "b", b_code)
    crs = target_crs(la)
    ga, ca = geoms_codes(in_crs(la, crs), a_code)
    gb, cb = geoms_codes(in_crs(lb, crs), b_code)
    ia, ib, pieces = (_pairs_slow if slow else _pairs_fast)(ga, gb)
    area = shapely.area(pieces) if len(pieces) else np.zeros(0)
    keep = (area >= tol) & (area > 0)
    sliver = (area > 0) & ~keep
    sliver_area = float(area[sliver].sum())
    ia, ib, area, pieces = ia[keep], ib[keep], area[keep], polygonal(pieces[keep])
    a_tab = _grid_table(ca, ga, ia, area, crs)
    b_tab = _grid_table(cb, gb, ib, area, crs)
    cov_a = a_tab["covered_m2"].to_numpy()[ia]
    cov_b = b_tab["covered_m2"].to_numpy()[ib]
    table = gpd.GeoDataFrame(
        {
            "a_code": pd.array(ca[ia].astype(str), dtype="str"),
            "b_code": pd.array(cb[ib].astype(str), dtype="str"),
            "area_m2": area,
            "share_of_a": area / cov_a if len(area) else area,
            "share_of_b": area / cov_b if len(area) else area,
        },
        geometry=list(pieces),
        crs=crs,
    )
    if len(table) == 0:
        logger.warning("crosswalk: the two systems share no area above %g m²", tol)
    return Crosswalk(
        table=table,
        a_grids=a_tab,
        b_grids=b_tab,
        n_slivers=int(sliver.sum()),
        sliver_area_m2=sliver_area,
        tolerance_m2=tol,
        names=names,
        crs=crs,
    )


def crosswalk(
    a: gpd.GeoDataFrame | GridPlan,
    b: gpd.GeoDataFrame | GridPlan,
    *,
    tolerance_m2: float = 1.0,
    a_code: str = "grid_code",
    b_code: str = "grid_code",
    names: tuple[str, str] = ("A", "B"),
) -> Crosswalk:
    """Shared area and each side's share for every overlapping pair of grids of two systems.

    Both systems are brought into one metric CRS (A's own when it is metric, else
    :func:`gridgeo.crs.local_crs` of A); a layer marked GCJ-02/BD-09 by
    :func:`gridgeo.crs.to_system` is first converted to real WGS 84 coordinates. Candidate
    pairs come from one bulk STRtree query and their intersections from one vectorised
    ``shapely.intersection`` call.

    For a pair ``(i, j)`` with shared area ``s_ij``:

    * pairs with ``s_ij < tolerance_m2`` are slivers: dropped, counted in ``n_slivers``;
    * ``share_of_a = s_ij / Σ_j s_ij`` over the kept pairs of grid ``i`` (so the shares of
      every A grid sum to 1 over its covered area), and ``share_of_b`` likewise.

    Parameters
    ----------
    a, b : GeoDataFrame or GridPlan
        The two grid systems (a plan stands for its ``grids``): Polygon/MultiPolygon layers
        with a CRS and a unique code column. Any CRSs.
    tolerance_m2 : float, default 1.0
        Pairs sharing less than this area (m²) are slivers and dropped. 0 keeps every pair
        with a positive shared area.
    a_code, b_code : str, default "grid_code"
        The code column of each system.
    names : tuple of str, default ("A", "B")
        Names of the two systems used in messages and conflict reasons.

    Returns
    -------
    Crosswalk
        ``.table`` (``a_code``, ``b_code``, ``area_m2``, ``share_of_a``, ``share_of_b``,
        pieces), per-grid tables ``.a_grids``/``.b_grids`` and the sliver counts.

    Raises
    ------
    TypeError
        ``a`` or ``b`` is not a GeoDataFrame or GridPlan.
    EmptyInputError, CRSError, ColumnError, GeometryError, DuplicateIdError
        An empty layer, no CRS, a missing or empty code column, non-polygons or invalid
        geometries, repeated codes.
    ValueError
        A negative ``tolerance_m2``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> a = gpd.GeoDataFrame({"grid_code": ["a1", "a2"]},
    ...                      geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=4547)
    >>> b = gpd.GeoDataFrame({"grid_code": ["b1"]}, geometry=[box(50, 0, 200, 100)], crs=4547)
    >>> cw = crosswalk(a, b)
    >>> cw.to_frame().round(3).values.tolist()
    [['a1', 'b1', 5000.0, 1.0, 0.333], ['a2', 'b1', 10000.0, 1.0, 0.667]]
    >>> cw.a_grids["covered_share"].tolist()
    [0.5, 1.0]
    """
    if not (isinstance(names, tuple | list) and len(names) == 2):
        msg = f"names must be a pair of system names, e.g. ('城管', '综治'), got {names!r}."
        raise ValueError(msg)
    return build_crosswalk(
        a,
        b,
        tolerance_m2=tolerance_m2,
        a_code=a_code,
        b_code=b_code,
        names=(str(names[0]), str(names[1])),
    )


# ------------------------------------------------------------------------- conflicts
COLUMNS = (
    "rank",
    "system",
    "code",
    "kind",
    "other_system",
    "partners",
    "n_partners",
    "main_partner",
    "main_share",
    "grid_area_m2",
    "conflict_area_m2",
    "conflict_share",
    "reason",
)


@dataclass(frozen=True, eq=False)
class Conflicts:
    """Grids of one system that the other system splits or leaves uncovered.

    Attributes
    ----------
    table : GeoDataFrame
        One row per conflict, ranked by ``conflict_area_m2`` (largest first): ``rank``,
        ``system`` (name of the grid's system), ``code``, ``kind`` (``"split"`` or
        ``"uncovered"``), ``other_system``, ``partners`` (codes of the other system's grids
        holding at least ``min_share`` of it, largest first, joined by ``;``), ``n_partners``,
        ``main_partner`` and ``main_share`` (the largest one), ``grid_area_m2``,
        ``conflict_area_m2``, ``conflict_share`` (conflict area / grid area), ``reason``
        (a sentence); geometry = the area in conflict, in the crosswalk's metric CRS.
    min_share : float
        The threshold used.
    names : tuple of str
        The two systems' names.
    """

    table: gpd.GeoDataFrame
    min_share: float
    names: tuple[str, str]

    def __repr__(self) -> str:
        t = self.table
        counts = ", ".join(
            f"{n} {k} in {s}"
            for (s, k), n in t.groupby(["system", "kind"], sort=True).size().items()
        )
        area = float(t["conflict_area_m2"].sum()) if len(t) else 0.0
        return (
            f"Conflicts({len(t)} between {self.names[0]} and {self.names[1]} at min_share "
            f"{self.min_share:g}: {counts or 'none'}; {area:,.0f} m² in conflict)"
        )

    def _repr_html_(self) -> str:
        return f"<b>{html.escape(repr(self))}</b>" + table_html(self.table)


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _side(cw: Crosswalk, side: int, min_share: float) -> list[dict[str, object]]:
    me, other = cw.names[side], cw.names[1 - side]
    mine, theirs = ("a_code", "b_code") if side == 0 else ("b_code", "a_code")
    share_col = "share_of_a" if side == 0 else "share_of_b"
    grids = cw.a_grids if side == 0 else cw.b_grids
    t = cw.table
    order = np.lexsort((-t["area_m2"].to_numpy(), t[mine].to_numpy(dtype=object).astype(str)))
    t = t.iloc[order]
    by_code = dict(list(t.groupby(mine, sort=False)))
    rows: list[dict[str, object]] = []
    for g in grids.itertuples(index=False):
        code, area, covered = str(g.code), float(g.area_m2), float(g.covered_m2)
        pieces = by_code.get(code)
        if pieces is not None and len(pieces):
            shares = pieces[share_col].to_numpy(dtype=float)
            codes = pieces[theirs].to_numpy(dtype=object).astype(str)
            big = shares >= min_share
            main, main_share = codes[0], float(shares[0])
            partners = ";".join(codes[big])
            if big.sum() >= 2:
                rest = pieces.geometry.to_numpy()[1:]
                out_area = float(pieces["area_m2"].to_numpy()[1:].sum())
                listed = ", ".join(
                    f"{c} ({_pct(s)})" for c, s in zip(codes[big], shares[big], strict=True)
                )
                reason = (
                    f"{me} grid {code} is split across {int(big.sum())} {other} grids: {listed}; "
                    f"{out_area:,.0f} m² lie outside its main {other} grid {main}"
                )
                rows.append(
                    _row(
                        me,
                        code,
                        "split",
                        other,
                        partners,
                        int(big.sum()),
                        main,
                        main_share,
                        area,
                        out_area,
                        reason,
                        shapely.union_all(rest),
                    )
                )
        else:
            main, main_share, partners = "", 0.0, ""
        missing = area - covered
        if area > 0 and missing / area > min_share:
            covered_geom = (
                shapely.union_all(pieces.geometry.to_numpy()) if pieces is not None else None
            )
            hole = (
                g.geometry if covered_geom is None else shapely.difference(g.geometry, covered_geom)
            )
            reason = (
                f"{_pct(missing / area)} of {me} grid {code} ({missing:,.0f} m²) lies in no "
                f"{other} grid"
            )
            rows.append(
                _row(
                    me,
                    code,
                    "uncovered",
                    other,
                    partners,
                    len(partners.split(";")) if partners else 0,
                    main,
                    main_share,
                    area,
                    missing,
                    reason,
                    hole,
                )
            )
    return rows


def _row(
    system: str,
    code: str,
    kind: str,
    other: str,
    partners: str,
    n_partners: int,
    main: str,
    main_share: float,
    area: float,
    conflict: float,
    reason: str,
    geom: object,
) -> dict[str, object]:
    return {
        "system": system,
        "code": code,
        "kind": kind,
        "other_system": other,
        "partners": partners,
        "n_partners": n_partners,
        "main_partner": main,
        "main_share": main_share,
        "grid_area_m2": area,
        "conflict_area_m2": conflict,
        "conflict_share": conflict / area if area > 0 else 0.0,
        "reason": reason,
        "geometry": geom,
    }


def conflicts_of(cw: Crosswalk, *, min_share: float = 0.05) -> Conflicts:
    """Conflicts in both directions of a crosswalk (see :func:`gridgeo.fusion.conflicts`)."""
    if not isinstance(cw, Crosswalk):
        msg = f"expected a Crosswalk from gridgeo.fusion.crosswalk(), got {type(cw).__name__}."
        raise TypeError(msg)
    ok = isinstance(min_share, int | float | np.number) and not isinstance(min_share, bool)
    if not (ok and 0 < float(min_share) < 1):
        msg = f"min_share must be a fraction between 0 and 1 (0.05 = 5 %), got {min_share!r}."
        raise ValueError(msg)
    rows = _side(cw, 0, float(min_share)) + _side(cw, 1, float(min_share))
    frame = pd.DataFrame(rows, columns=[*COLUMNS[1:], "geometry"])
    frame = frame.sort_values(
        ["conflict_area_m2", "system", "code", "kind"],
        ascending=[False, True, True, True],
        kind="stable",
    ).reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1, dtype=np.int64))
    for col in ("system", "code", "kind", "other_system", "partners", "main_partner", "reason"):
        frame[col] = frame[col].astype("str")
    table = gpd.GeoDataFrame(frame, geometry="geometry", crs=cw.crs)
    return Conflicts(table=table, min_share=float(min_share), names=cw.names)


def conflicts(
    a: gpd.GeoDataFrame | GridPlan,
    b: gpd.GeoDataFrame | GridPlan,
    *,
    min_share: float = 0.05,
    tolerance_m2: float = 1.0,
    a_code: str = "grid_code",
    b_code: str = "grid_code",
    names: tuple[str, str] = ("A", "B"),
) -> Conflicts:
    """List the grids of each system that the other system splits or leaves uncovered.

    From the :func:`crosswalk` of ``a`` and ``b``, in both directions:

    * **split**: a grid of which at least two grids of the other system each hold
      ``share >= min_share`` (shares over its covered area). The area in conflict is the
      covered area outside its largest partner, ``covered − max_j s_ij``: what would have to
      move for the grid to nest in one grid of the other system. Geometry: those pieces.
    * **uncovered**: a grid of which more than ``min_share`` of its area lies in no grid of
      the other system. The area in conflict is that part; geometry: that part.

    Rows are ranked by area in conflict, largest first; each has a reason in words.

    Parameters
    ----------
    a, b : GeoDataFrame or GridPlan
        The two grid systems; see :func:`crosswalk`.
    min_share : float, default 0.05
        Share above which a partner counts (0 < min_share < 1).
    tolerance_m2, a_code, b_code, names
        As in :func:`crosswalk`.

    Returns
    -------
    Conflicts
        ``.table``: one ranked row per conflict with geometry and ``reason``.

    Raises
    ------
    ValueError
        ``min_share`` outside (0, 1).
    GridgeoError
        Bad inputs, as in :func:`crosswalk`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> a = gpd.GeoDataFrame({"grid_code": ["a1"]}, geometry=[box(0, 0, 200, 100)], crs=4547)
    >>> b = gpd.GeoDataFrame({"grid_code": ["b1", "b2"]},
    ...                      geometry=[box(0, 0, 150, 100), box(150, 0, 300, 100)], crs=4547)
    >>> found = conflicts(a, b)
    >>> found.table[["system", "code", "kind", "conflict_area_m2"]].values.tolist()
    [['B', 'b2', 'uncovered', 10000.0], ['A', 'a1', 'split', 5000.0]]
    >>> print(found.table["reason"].iloc[1])  # doctest: +NORMALIZE_WHITESPACE
    A grid a1 is split across 2 B grids: b1 (75 %), b2 (25 %);
    5,000 m² lie outside its main B grid b1
    """
    cw = crosswalk(a, b, tolerance_m2=tolerance_m2, a_code=a_code, b_code=b_code, names=names)
    return conflicts_of(cw, min_share=min_share)
