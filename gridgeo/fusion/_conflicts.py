"""Conflict list between two grid systems, built from their crosswalk."""

from __future__ import annotations

import html
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgeo.fusion._base import table_html
from gridgeo.fusion._crosswalk import Crosswalk
from gridgeo.grids import GridPlan

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
    from gridgeo.fusion._crosswalk import crosswalk

    cw = crosswalk(a, b, tolerance_m2=tolerance_m2, a_code=a_code, b_code=b_code, names=names)
    return conflicts_of(cw, min_share=min_share)
