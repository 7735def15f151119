"""Plan comparison keyed on codes (private; :func:`gridgeo.grids.diff`).

Cells are matched by ``cell_code`` when both plans carry it (unique and filled), otherwise by
the cells' index; grids by ``grid_code``. Row order never matters.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from gridgeo._validate import rows_preview
from gridgeo.errors import PlanError
from gridgeo.grids._plan import GridDiff, GridPlan

__all__ = ["cell_keys", "diff"]


def cell_keys(old: GridPlan, new: GridPlan) -> tuple[pd.Index, pd.Index, str]:
    """Keys of the old and new plans' cells and what they are (``cell_code``/``index``)."""

    def codes(plan: GridPlan) -> pd.Index | None:
        if "cell_code" not in plan.cells.columns:
            return None
        keys = pd.Index(plan.cells["cell_code"].astype("string").fillna("").str.strip())
        if (keys == "").any() or not keys.is_unique:
            return None
        return keys

    ko, kn = codes(old), codes(new)
    if ko is not None and kn is not None:
        return ko, kn, "cell_code"
    return old.cells.index, new.cells.index, "index"


def diff(old: GridPlan, new: GridPlan) -> GridDiff:
    """See :func:`gridgeo.grids.diff`."""
    ko, kn, what = cell_keys(old, new)
    if not ko.sort_values().equals(kn.sort_values()):
        only = ko.symmetric_difference(kn)
        msg = (
            f"old and new plans hold different cells (e.g. {rows_preview(only)}); diff "
            f"compares plans of the same cells, matched by {what}."
        )
        raise PlanError(msg)
    old_code = pd.Series(old.cells["grid_code"].astype(str).to_numpy(), index=ko)
    new_code = pd.Series(new.cells["grid_code"].astype(str).to_numpy(), index=kn).reindex(ko)
    pairs = pd.DataFrame({"o": old_code.to_numpy(), "n": new_code.to_numpy()})
    size_o = pairs.groupby("o").size()
    size_n = pairs.groupby("n").size()
    cross = pairs.groupby(["o", "n"]).size().reset_index(name="k")
    whole = cross[
        (cross["k"].to_numpy() == size_o.loc[cross["o"]].to_numpy())
        & (cross["k"].to_numpy() == size_n.loc[cross["n"]].to_numpy())
    ]
    same = dict(zip(whole["o"], whole["n"], strict=True))
    renamed = {o: n for o, n in same.items() if o != n}
    mapped = old_code.map(lambda c: same.get(c, c))
    moved = (mapped != new_code).to_numpy()
    weight = pd.Series(new.cell_weight.to_numpy(), index=kn).reindex(ko).to_numpy()
    cols = {
        "grid_old": old_code.to_numpy()[moved],
        "grid_new": new_code.to_numpy()[moved],
        "weight": weight[moved],
    }
    if "cell_code" in old.cells.columns:
        cols = {"cell_code": old.cells["cell_code"].to_numpy()[moved], **cols}
    cells = gpd.GeoDataFrame(
        cols,
        geometry=old.cells.geometry.values[moved],
        index=old.cells.index[moved],
        crs=old.cells.crs,
    )
    grids = _grid_rows(old, new, same, renamed)
    added = tuple(grids.loc[grids["status"] == "added", "grid_code"].tolist())
    removed = tuple(grids.loc[grids["status"] == "removed", "grid_code"].tolist())
    return GridDiff(cells=cells, grids=grids, added=added, removed=removed, renamed=renamed)


def _grid_rows(
    old: GridPlan, new: GridPlan, same: dict[str, str], renamed: dict[str, str]
) -> gpd.GeoDataFrame:
    og = old.grids.set_index("grid_code")
    ng = new.grids.set_index("grid_code")
    rows = []
    reverse = {n: o for o, n in renamed.items()}
    for code in sorted(set(og.index) | set(ng.index)):
        in_o, in_n = code in og.index, code in ng.index
        if in_n and code in reverse:
            status, src = "renamed", reverse[code]
        elif in_o and code in renamed and not in_n:
            continue  # shown under its new code
        elif in_o and in_n:
            status, src = ("unchanged" if same.get(code) == code else "changed"), code
        else:
            status, src = ("added", "") if in_n else ("removed", code)
        w_old = float(og.at[src, "weight"]) if src in og.index else 0.0
        w_new = float(ng.at[code, "weight"]) if in_n else 0.0
        rows.append(
            {
                "grid_code": code,
                "status": status,
                "renamed_from": src if status == "renamed" else "",
                "weight_old": w_old,
                "weight_new": w_new,
                "weight_change": w_new - w_old,
                "n_cells_old": int(og.at[src, "n_cells"]) if src in og.index else 0,
                "n_cells_new": int(ng.at[code, "n_cells"]) if in_n else 0,
                "geometry": ng.at[code, "geometry"] if in_n else og.at[src, "geometry"],
            }
        )
    if not rows:
        return gpd.GeoDataFrame(
            {"grid_code": [], "status": []}, geometry=np.array([], dtype=object), crs=new.grids.crs
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=new.grids.crs)
