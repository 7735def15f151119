"""A fused grid plan drawn on the common base, never crossing chosen old boundaries."""

from __future__ import annotations

import dataclasses
import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from gridgeo.errors import CodingError
from gridgeo.fusion._base import table_html
from gridgeo.fusion._common import NEST, CommonBase
from gridgeo.grids import GridPlan, build, renumber

logger = logging.getLogger("gridgeo.fusion")


@dataclass(frozen=True, eq=False)
class FusedPlan:
    """One new grid system on the common base, and how the old systems fare.

    Attributes
    ----------
    plan : GridPlan
        The new plan; its ``cells`` are the base cells (with the old systems' columns).
    survivors : DataFrame
        One row per old system: ``system``, ``respected`` (its boundaries were kept),
        ``n_grids``, ``unchanged`` (old grids whose cells are exactly the cells of one new
        grid), ``share_unchanged``, ``split`` (old grids whose cells lie in several new
        grids).
    respect : tuple of str
        The systems whose boundaries no new grid crosses.
    n_groups : int
        Number of boundary groups (cells with the same grid in every respected system).
    """

    plan: GridPlan
    survivors: pd.DataFrame
    respect: tuple[str, ...]
    n_groups: int

    def __repr__(self) -> str:
        kept = ", ".join(
            f"{r.system}: {r.unchanged}/{r.n_grids} unchanged"
            for r in self.survivors.itertuples(index=False)
        )
        return (
            f"FusedPlan({len(self.plan.grids)} grids in {self.n_groups} boundary groups, "
            f"respecting {list(self.respect)}; {kept})"
        )

    def _repr_html_(self) -> str:
        return (
            f"<b>{html.escape(repr(self))}</b>"
            + table_html(self.survivors)
            + self.plan.summary._repr_html_()
        )


def survivors(cells: pd.DataFrame, new: str, old: Sequence[str]) -> pd.DataFrame:
    """Per old system, how many grids are exactly one new grid (same cells)."""
    rows = []
    for name in old:
        sel = cells[name].notna().to_numpy()
        pairs = pd.DataFrame(
            {"o": cells.loc[sel, name].astype(str).to_numpy(), "n": cells.loc[sel, new].to_numpy()}
        )
        size_o = pairs.groupby("o").size()
        size_n = cells.groupby(new).size()
        cross = pairs.groupby(["o", "n"]).size().reset_index(name="k")
        whole = (cross["k"].to_numpy() == size_o.loc[cross["o"]].to_numpy()) & (
            cross["k"].to_numpy() == size_n.loc[cross["n"]].to_numpy()
        )
        n_new = cross.groupby("o").size()
        rows.append(
            {
                "system": name,
                "n_grids": len(size_o),
                "unchanged": int(whole.sum()),
                "share_unchanged": float(whole.sum() / len(size_o)) if len(size_o) else 0.0,
                "split": int((n_new > 1).sum()),
            }
        )
    return pd.DataFrame(rows)


def _unique_codes(codes: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Make per-group grid codes unique inside each 12-digit prefix (numbers 001, 002, …)."""
    frame = pd.DataFrame({"c": codes, "g": group, "p": [c[:12] for c in codes]})
    keys = frame.drop_duplicates(["g", "c"]).sort_values(["p", "g", "c"], kind="stable")
    keys["num"] = keys.groupby("p").cumcount() + 1
    if (keys["num"] > 999).any():
        msg = "the fused plan would need more than 999 grids in one community; use fewer grids."
        raise CodingError(msg)
    keys["new"] = keys["p"] + keys["num"].map("{:03d}".format)
    table = keys.set_index(["g", "c"])["new"]
    return table.loc[list(zip(group, codes, strict=True))].to_numpy(dtype=object).astype(str)


def fused_plan(
    base: CommonBase,
    *,
    n: int | None = None,
    target: float | None = None,
    respect: Sequence[str] = (),
    weight: str | None = None,
    tolerance: float = 0.10,
    seed: int = 0,
) -> FusedPlan:
    """Draw one new grid system on the common base that never crosses chosen old boundaries.

    Cells are grouped by their grids in the ``respect`` systems (cells outside a respected
    system form their own groups). :func:`gridgeo.grids.build` cannot nest in an arbitrary
    column (only in community/street), so each group is built on its own with the same
    weight per grid, ``target`` (``total weight / n`` when ``n`` is given; the number of
    grids then follows the groups' weights and may differ slightly from ``n``). When the
    base is DB11-coded, grids also nest in communities. The groups' grids are numbered
    together (W→E, N→S per community, :func:`gridgeo.grids.renumber`) into one
    :class:`~gridgeo.grids.GridPlan`.

    Parameters
    ----------
    base : CommonBase
        From :func:`common_base`.
    n : int, optional
        About how many grids in total.
    target : float, optional
        Weight per grid instead of ``n``.
    respect : list of str
        System names (columns of ``base.cells``) whose boundaries the new grids keep.
    weight : str, optional
        Numeric column of ``base.cells`` with each cell's workload; area when omitted.
    tolerance, seed
        As in :func:`gridgeo.grids.build`.

    Returns
    -------
    FusedPlan
        ``.plan`` and ``.survivors`` (per old system: grids surviving unchanged).

    Raises
    ------
    TypeError
        ``base`` is not a CommonBase.
    ValueError
        Unknown system in ``respect``; neither or both of ``n`` and ``target``.
    ColumnError
        ``weight`` is not a column of ``base.cells`` (or holds bad values).
    PlanError, CodingError
        As raised by :func:`gridgeo.grids.build`; more than 999 grids in one community.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from gridgeo.fusion import common_base
    >>> sq = [box(x, y, x + 100, y + 100) for y in (0, 100) for x in range(0, 400, 100)]
    >>> a = gpd.GeoDataFrame({"grid_code": ["a1", "a1", "a1", "a1", "a2", "a2", "a2", "a2"]},
    ...                      geometry=sq, crs=4547).dissolve("grid_code").reset_index()
    >>> b = gpd.GeoDataFrame({"grid_code": ["b1", "b2"]},
    ...                      geometry=[box(0, 0, 200, 200), box(200, 0, 400, 200)], crs=4547)
    >>> base = common_base(a, b)
    >>> fused = fused_plan(base, n=4, respect=["A", "B"])
    >>> len(fused.plan.grids), fused.survivors["unchanged"].tolist()
    (4, [0, 0])
    """
    if not isinstance(base, CommonBase):
        msg = f"base must be a CommonBase from gridgeo.fusion.common_base(), got {type(base)}."
        raise TypeError(msg)
    respect = [respect] if isinstance(respect, str) else list(respect)
    unknown = [r for r in respect if r not in base.names]
    if unknown:
        msg = f"respect names unknown system(s) {unknown}; the base has {list(base.names)}."
        raise ValueError(msg)
    if (n is None) == (target is None):
        msg = "pass exactly one of n= (about how many grids) or target= (weight per grid)."
        raise ValueError(msg)
    cells = base.cells.set_index("cell_code", drop=False)
    cells.index.name = None
    if weight is None:
        w_total = float(shapely.area(cells.geometry.values).sum())
    else:
        w_total = (
            float(pd.to_numeric(cells[weight], errors="coerce").sum())
            if (weight in cells.columns)
            else np.nan
        )
    if target is None:
        if not (isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 1):
            msg = f"n must be a positive whole number of grids, got {n!r}."
            raise ValueError(msg)
        target = w_total / int(n) if np.isfinite(w_total) else 1.0
    nest = "community" if all(c in cells.columns for c in NEST) else None
    key = (
        cells[respect].astype("string").fillna("<none>").agg("|".join, axis=1)
        if respect
        else pd.Series("", index=cells.index)
    )
    codes = np.empty(len(cells), dtype=object)
    groups = key.groupby(key, sort=True).groups
    for members in groups.values():
        pos = cells.index.get_indexer(members)
        part = build(
            cells.iloc[pos].drop(columns=list(base.names)),
            target=target,
            weight=weight,
            within=nest,
            tolerance=tolerance,
            seed=seed,
            progress=False,
        )
        codes[pos] = part.cells["grid_code"].to_numpy(dtype=object)
    group_id = key.map({k: i for i, k in enumerate(groups)}).to_numpy()
    unique = _unique_codes(codes.astype(str), group_id)
    whole = build(
        cells.assign(grid_code=unique),
        n=len(set(unique.tolist())),
        weight=weight,
        within=nest,
        tolerance=tolerance,
        locked=sorted(set(unique.tolist())),
        progress=False,
    )
    plan = _unlocked(whole, float(target))
    plan = renumber(plan).plan
    report = survivors(plan.cells, "grid_code", base.names)
    report.insert(1, "respected", report["system"].isin(respect))
    return FusedPlan(plan=plan, survivors=report, respect=tuple(respect), n_groups=len(groups))


def _unlocked(plan: GridPlan, target: float) -> GridPlan:
    """The combined plan with the grids no longer marked as locked and the real target."""
    grids = plan.grids.assign(locked=False)
    dev = grids["weight"].to_numpy(dtype=float) / target - 1
    tol = float(plan.settings["tolerance"])
    grids["deviation"] = dev
    grids["in_tolerance"] = np.abs(dev) <= tol + 1e-12
    out = grids.loc[~grids["in_tolerance"], ["grid_code", "weight", "deviation"]].copy()
    out["reason"] = (
        "drawn inside one group of respected boundaries whose weight does not divide evenly"
    )
    summary = dataclasses.replace(
        plan.summary, target=target, out_of_tolerance=out.reset_index(drop=True)
    )
    settings = {**plan.settings, "locked": (), "target": target}
    return dataclasses.replace(plan, grids=grids, summary=summary, settings=settings)
