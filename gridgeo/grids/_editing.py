"""Plan edits and diffs (private; public names live in :mod:`gridgeo.grids`).

:func:`move`, :func:`merge`, :func:`split`, :func:`rename`, :func:`renumber` return an
:class:`EditResult` (the new plan and its :func:`diff` against the old one); every edit checks
contiguity and nesting before it changes anything.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

from gridgeo._validate import (
    rows_preview,
)
from gridgeo.crs import to_metric
from gridgeo.errors import PlanError
from gridgeo.grids import _diff as _grids_diff
from gridgeo.grids import _partition
from gridgeo.grids._build import build  # noqa: F401 - the examples build plans
from gridgeo.grids._plan import (
    EditResult,
    GridDiff,
    GridPlan,
    assemble,
    check_contiguous,
    check_plan,
    metric_geoms,
    number_grids,
    row_height,
    sub_graph,
)

logger = logging.getLogger("gridgeo.grids")


# ----------------------------------------------------------------------------- editing
def _grid_exists(plan: GridPlan, code: Any, what: str) -> str:
    code = str(code)
    if code not in set(plan.grids["grid_code"].tolist()):
        msg = f"{what} {code!r} is not a grid of this plan; see plan.grids['grid_code']."
        raise PlanError(msg)
    return code


def _cell_positions(plan: GridPlan, cells: Any) -> np.ndarray:
    labels = [cells] if isinstance(cells, str | int | np.integer) else list(cells)
    if not labels:
        msg = "cells is empty; pass at least one cell code (or index label)."
        raise ValueError(msg)
    table = plan.cells
    keys = table["cell_code"] if "cell_code" in table.columns else table.index.to_series()
    lookup = pd.Series(np.arange(len(table)), index=pd.Index(keys.astype(str)))
    missing = [x for x in labels if str(x) not in lookup.index]
    if missing:
        what = "cell_code" if "cell_code" in table.columns else "index label"
        msg = f"cell(s) {rows_preview(missing)} not found: match them by {what}."
        raise PlanError(msg)
    return lookup.loc[[str(x) for x in labels]].to_numpy()


def _reassemble(plan: GridPlan, codes: np.ndarray, edit: dict[str, Any]) -> GridPlan:
    cells = plan.cells.drop(columns="grid_code")
    existing = set(codes.tolist())
    locked = {c for c in plan.settings.get("locked", ()) if c in existing}
    # settings["history"]: append-only tuple of the edits since build, one JSON-able dict each
    history = (*plan.settings.get("history", ()), edit)
    settings = {**plan.settings, "locked": tuple(sorted(locked)), "history": history}
    return assemble(
        cells,
        codes,
        plan.cell_weight.to_numpy(dtype=float),
        metric_geoms(cells),
        settings,
        locked=locked,
        islands=plan.summary.islands,
        notes=plan.summary.notes,
    )


def _refuse_broken(plan: GridPlan, codes: np.ndarray, grids: set[str], action: str) -> None:
    broken = check_contiguous(
        metric_geoms(plan.cells), codes, float(plan.settings["snap"]), only=grids
    )
    if broken:
        msg = (
            f"{action} refused: grid(s) {', '.join(broken)} would not be contiguous (their "
            "cells would not all be linked by shared edges). Move whole connected groups of "
            "cells, or cells on the boundary between the two grids."
        )
        raise PlanError(msg)


def _codes_of(plan: GridPlan) -> np.ndarray:
    return plan.cells["grid_code"].to_numpy(dtype=object).astype(str)


def _move_entry(cells: Any, to: str) -> dict[str, Any]:
    labels = [cells] if isinstance(cells, str | int | np.integer) else list(cells)
    return {"edit": "move", "cells": [str(c) for c in labels], "to": to}


def move(plan: GridPlan, cells: Hashable | Sequence[Hashable], to: str) -> EditResult:
    """Move cells to another grid, refusing moves that break contiguity or nesting.

    Parameters
    ----------
    plan : GridPlan
        The plan to edit (not modified).
    cells : str or list
        Cell codes (matched on ``plan.cells['cell_code']``; on the index when the plan has
        no ``cell_code`` column).
    to : str
        Code of the receiving grid.

    Returns
    -------
    EditResult
        ``.plan`` (new plan; both grids keep their codes) and ``.changes`` (a
        :class:`GridDiff`). Unpacks as ``plan, changes``.

    Raises
    ------
    PlanError
        Unknown cell or grid; a cell in another community (nesting); a grid left empty
        (use :func:`merge`); a grid that would stop being contiguous.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> cells = gpd.GeoDataFrame(
    ...     {"cell_code": [f"441302001001{i:03d}" for i in range(1, 5)],
    ...      "admin_code": "441302", "street_code": "001", "community_code": "001"},
    ...     geometry=[box(x, 0, x + 100, 100) for x in range(0, 400, 100)],
    ...     crs="EPSG:4547",
    ... )
    >>> plan = build(cells, n=2, progress=False)
    >>> plan.cells["grid_code"].str[-3:].tolist()
    ['001', '001', '002', '002']
    >>> new, changes = move(plan, "441302001001003", to="441302001001001")
    >>> new.grids["n_cells"].tolist()
    [3, 1]
    >>> move(plan, "441302001001004", to="441302001001001")
    Traceback (most recent call last):
    ...
    gridgeo.errors.PlanError: move refused: grid(s) 441302001001001 would not be contiguous ...
    """
    check_plan(plan)
    to = _grid_exists(plan, to, "to")
    pos = _cell_positions(plan, cells)
    codes = _codes_of(plan)
    labels = plan.cells.index[pos]
    if plan.settings["nest"] is not None:
        wrong = [lab for lab, p in zip(labels, pos, strict=True) if codes[p][:12] != to[:12]]
        if wrong:
            msg = (
                f"move refused: cell(s) {rows_preview(wrong)} lie in another "
                f"{plan.settings['nest']} than grid {to} (prefix {to[:12]}); grids must nest "
                f"in one {plan.settings['nest']}."
            )
            raise PlanError(msg)
    new = codes.copy()
    new[pos] = to
    donors = set(codes[pos].tolist()) - {to}
    emptied = sorted(d for d in donors if not (new == d).any())
    if emptied:
        msg = (
            f"move refused: grid(s) {', '.join(emptied)} would be left without cells; "
            f"use merge(plan, {to!r}, {emptied[0]!r}) to merge grids."
        )
        raise PlanError(msg)
    _refuse_broken(plan, new, donors | {to}, "move")
    out = _reassemble(plan, new, _move_entry(cells, to))
    return EditResult(out, diff(plan, out))


def merge(plan: GridPlan, a: str, b: str) -> EditResult:
    """Merge grid ``b`` into grid ``a`` (the result keeps code ``a``).

    Parameters
    ----------
    plan : GridPlan
        The plan to edit (not modified).
    a, b : str
        Codes of two different grids that share an edge and lie in the same community (or
        street, following the plan's ``nest``).

    Returns
    -------
    EditResult
        New plan and changes.

    Raises
    ------
    PlanError
        Unknown grid, same grid twice, different communities, or grids that do not touch.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> codes = {"admin_code": "441302", "street_code": "001", "community_code": "001"}
    >>> squares = [box(x, 0, x + 100, 100) for x in range(0, 400, 100)]
    >>> cells = gpd.GeoDataFrame(geometry=squares, crs="EPSG:4547").assign(**codes)
    >>> plan = build(cells, n=4, progress=False)
    >>> res = merge(plan, "441302001001001", "441302001001002")
    >>> res.plan.grids["n_cells"].tolist(), res.changes.removed
    ([2, 1, 1], ('441302001001002',))
    """
    check_plan(plan)
    a = _grid_exists(plan, a, "a")
    b = _grid_exists(plan, b, "b")
    if a == b:
        msg = f"merge needs two different grids, got {a!r} twice."
        raise PlanError(msg)
    if plan.settings["nest"] is not None and a[:12] != b[:12]:
        msg = (
            f"merge refused: grids {a} and {b} are in different {plan.settings['nest']}s "
            f"({a[:12]} vs {b[:12]}); grids must nest in one {plan.settings['nest']}."
        )
        raise PlanError(msg)
    codes = _codes_of(plan)
    new = np.where(codes == b, a, codes)
    _refuse_broken(plan, new, {a}, f"merge of {a} and {b} (they share no edge)")
    out = _reassemble(plan, new, {"edit": "merge", "a": a, "b": b})
    return EditResult(out, diff(plan, out))


def split(plan: GridPlan, grid: str, k: int = 2, *, seed: int = 0) -> EditResult:
    """Split one grid into ``k`` balanced, contiguous parts.

    The part with the most cells keeps the grid's code; the others take the lowest free
    numbers in the community, in W→E / N→S order.

    Parameters
    ----------
    plan : GridPlan
        The plan to edit (not modified).
    grid : str
        Code of the grid to split.
    k : int
        Number of parts (at least 2, at most the grid's number of cells).
    seed : int
        Random seed of the partition.

    Returns
    -------
    EditResult
        New plan and changes.

    Raises
    ------
    PlanError
        Unknown grid or fewer cells than ``k``.
    ValueError
        ``k`` below 2.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> codes = {"admin_code": "441302", "street_code": "001", "community_code": "001"}
    >>> squares = [box(x, 0, x + 100, 100) for x in range(0, 600, 100)]
    >>> cells = gpd.GeoDataFrame(geometry=squares, crs="EPSG:4547").assign(**codes)
    >>> plan = build(cells, n=1, progress=False)
    >>> res = split(plan, "441302001001001", 3)
    >>> res.plan.grids["n_cells"].tolist(), res.changes.added
    ([2, 2, 2], ('441302001001002', '441302001001003'))
    """
    check_plan(plan)
    grid = _grid_exists(plan, grid, "grid")
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 2:
        msg = f"k must be a whole number of parts >= 2, got {k!r}."
        raise ValueError(msg)
    codes = _codes_of(plan)
    pos = np.flatnonzero(codes == grid)
    if len(pos) < k:
        msg = f"grid {grid} has {len(pos)} cell(s), too few to split into {k} grids."
        raise PlanError(msg)
    geoms_m = metric_geoms(plan.cells)
    w = plan.cell_weight.to_numpy(dtype=float)
    graph = sub_graph(geoms_m, pos, w, float(plan.settings["snap"]))
    rng = np.random.default_rng([int(seed), 1_000_003])
    part = _partition.partition(graph, int(k), rng, tolerance=float(plan.settings["tolerance"]))
    sizes = np.bincount(part, minlength=k)
    keep = int(np.argmax(sizes))
    others = [p for p in range(k) if p != keep]
    taken: dict[str, set[int]] = {}
    for c in set(codes.tolist()):
        taken.setdefault(c[:12], set()).add(int(c[12:]))
    points = shapely.point_on_surface(
        np.array([shapely.union_all(geoms_m[pos[part == p]]) for p in others], dtype=object)
    )
    h = row_height(plan.grids["area_m2"].to_numpy())
    nums = number_grids(np.array([grid[:12]] * len(others), dtype=object), points, h, taken)
    new = codes.copy()
    for p, num in zip(others, nums, strict=True):
        new[pos[part == p]] = f"{grid[:12]}{int(num):03d}"
    out = _reassemble(plan, new, {"edit": "split", "grid": grid, "k": int(k), "seed": int(seed)})
    return EditResult(out, diff(plan, out))


def rename(plan: GridPlan, mapping: Mapping[str, str]) -> EditResult:
    """Give grids new codes, ``{old_code: new_code}``; cells stay where they are.

    New codes must be 15 digits, keep the grid's 12-digit community prefix, and be unique.

    Raises
    ------
    PlanError
        Unknown grid, malformed code, changed prefix, or a code used twice.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> codes = {"admin_code": "441302", "street_code": "001", "community_code": "001"}
    >>> squares = [box(x, 0, x + 100, 100) for x in range(0, 200, 100)]
    >>> cells = gpd.GeoDataFrame(geometry=squares, crs="EPSG:4547").assign(**codes)
    >>> plan = build(cells, n=2, progress=False)
    >>> rename(plan, {"441302001001002": "441302001001050"}).changes.renamed
    {'441302001001002': '441302001001050'}
    """
    check_plan(plan)
    if not isinstance(mapping, Mapping):
        msg = "mapping must be a dict {old_code: new_code}."
        raise TypeError(msg)
    table = {_grid_exists(plan, old, "grid"): str(new) for old, new in mapping.items()}
    for old, new_code in table.items():
        if not (len(new_code) == 15 and new_code.isdigit()):
            msg = f"new code {new_code!r} for grid {old} must be 15 digits."
            raise PlanError(msg)
        if new_code[:12] != old[:12]:
            msg = (
                f"new code {new_code} for grid {old} changes the community prefix "
                f"{old[:12]}; a grid code must start with its community's 12 digits."
            )
            raise PlanError(msg)
    final = [table.get(c, c) for c in plan.grids["grid_code"].tolist()]
    dup = sorted({c for c in final if final.count(c) > 1})
    if dup:
        msg = f"rename would give several grids the code(s) {', '.join(dup)}."
        raise PlanError(msg)
    codes = _codes_of(plan)
    new = np.array([table.get(c, c) for c in codes], dtype=object)
    out = _reassemble(plan, new, {"edit": "rename", "mapping": dict(sorted(table.items()))})
    return EditResult(out, diff(plan, out))


def renumber(plan: GridPlan) -> EditResult:
    """Renumber every grid 001, 002, … per community in W→E / N→S order (see module doc).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> codes = {"admin_code": "441302", "street_code": "001", "community_code": "001"}
    >>> squares = [box(x, 0, x + 100, 100) for x in range(0, 200, 100)]
    >>> cells = gpd.GeoDataFrame(geometry=squares, crs="EPSG:4547").assign(**codes)
    >>> plan = rename(build(cells, n=2, progress=False), {"441302001001001": "441302001001009"})
    >>> renumber(plan.plan).changes.renamed
    {'441302001001009': '441302001001001'}
    """
    check_plan(plan)
    grids = to_metric(plan.grids)
    old = plan.grids["grid_code"].to_numpy(dtype=object).astype(str)
    prefixes = np.array([c[:12] for c in old], dtype=object)
    points = shapely.point_on_surface(np.asarray(grids.geometry.values, dtype=object))
    nums = number_grids(prefixes, points, row_height(plan.grids["area_m2"].to_numpy()), {})
    table = {o: f"{p}{int(n):03d}" for o, p, n in zip(old, prefixes, nums, strict=True)}
    codes = _codes_of(plan)
    new = np.array([table[c] for c in codes], dtype=object)
    out = _reassemble(plan, new, {"edit": "renumber"})
    return EditResult(out, diff(plan, out))


# ----------------------------------------------------------------------------- diff
def diff(old: GridPlan, new: GridPlan) -> GridDiff:
    """Compare two plans of the same cells, matched by code whatever the row order.

    Cells are matched by ``cell_code`` when both plans have that column (else by the cells'
    index), grids by ``grid_code``; reordering rows changes nothing. A grid whose cells are
    exactly those of an old grid under another code is *renamed* (its cells do not count as
    moved). The result maps directly: ``d.cells`` (moved cells) and ``d.changed_grids``
    (grids added, removed, renamed or changed) are GeoDataFrames.

    Parameters
    ----------
    old, new : GridPlan
        Plans of the same cells (same index labels).

    Returns
    -------
    GridDiff
        Moved cells with ``grid_old``/``grid_new``, per-grid status and weight change,
        added/removed/renamed grids; geometries for mapping.

    Raises
    ------
    PlanError
        The plans do not hold the same cells (by ``cell_code``, or by index without it).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> codes = {"admin_code": "441302", "street_code": "001", "community_code": "001"}
    >>> squares = [box(x, 0, x + 100, 100) for x in range(0, 400, 100)]
    >>> cells = gpd.GeoDataFrame(geometry=squares, crs="EPSG:4547").assign(**codes)
    >>> a = build(cells, n=2, progress=False)
    >>> b = build(cells, n=4, progress=False)
    >>> d = diff(a, b)
    >>> len(d.cells), d.added
    (3, ('441302001001003', '441302001001004'))
    """
    check_plan(old, "old")
    check_plan(new, "new")
    return _grids_diff.diff(old, new)
