"""Responsibility grids (责任网格): build balanced contiguous grids from base cells, edit, compare.

The field rule for drawing grids is 地域相近、规模适度、利益相关、方便管理: contiguous and compact,
balanced in workload, inside one community, easy to walk. :func:`build` groups base cells into
grids that are

* **rook-contiguous** (cells share an edge of positive length, not just a corner),
* **nested** in one community (``nest="community"``) or one street (``nest="street"``),
* **covering**: every cell belongs to exactly one grid,
* **balanced**: each grid's weight within ``±tolerance`` of the target wherever the cells
  allow it (the summary names the grids where it does not, and why), then **compact**.

Planners then edit the plan (:func:`move`, :func:`merge`, :func:`split`, :func:`rename`,
:func:`renumber`; each returns an :class:`EditResult`), compare plans (:func:`diff`), type the
grids from land use (:func:`classify`) and size the teams (:func:`staffing`).

Grid codes
----------
``grid_code`` = the community's 12 digits (admin 6 + street 3 + community 3; community
``000`` when ``nest="street"``, street and community ``000000`` when ``nest=None``) + a 3-digit
grid number. Numbers follow the cell-code ordering rule on each grid's representative point
(``point_on_surface``): row bands ``floor(y / h)`` from north to south, west to east inside a
band, with ``h`` the median grid side (square root of the median grid area, rounded to the
metre). Codes are *stable*: when the input cells carry a ``grid_code`` column (an earlier
plan), a new grid that holds more than half of an old grid's cells in the same community keeps
that old code; the other grids take the lowest free numbers in the order above.

Islands
-------
A community whose cells are not all rook-connected (a cell that is a MultiPolygon part or an
enclave, a community cut by a river with no shared edge) is split into connected *parts*. Each
part gets at least one grid of its own, so every grid stays contiguous; parts other than the
largest of their community are reported in ``plan.summary.islands``. When that forces more
grids than ``n``, the count is raised and a note says so.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm.auto import tqdm

from gridgeo import _adjacency
from gridgeo._validate import (
    rows_preview,
)
from gridgeo.crs import to_metric
from gridgeo.errors import PlanError
from gridgeo.grids import _files, _partition
from gridgeo.grids._build import (
    allocate_grids,
    cell_weights,
    check_cells,
    check_options,
    grid_codes,
    island_parts,
    locked_mask,
    old_codes,
)
from gridgeo.grids._plan import (
    BalanceSummary,
    EditResult,
    GridDiff,
    GridPlan,
    assemble,
    cell_prefix,
    check_contiguous,
    check_plan,
    metric_geoms,
    number_grids,
    row_height,
    sub_graph,
)
from gridgeo.grids._staffing import DEFAULT_TYPES, classify, staffing

__all__ = [
    "DEFAULT_TYPES",
    "BalanceSummary",
    "EditResult",
    "GridDiff",
    "GridPlan",
    "build",
    "classify",
    "diff",
    "load_plan",
    "merge",
    "move",
    "rename",
    "renumber",
    "save_plan",
    "split",
    "staffing",
]

logger = logging.getLogger(__name__)

Nest = Literal["community", "street"] | None


# ----------------------------------------------------------------------------- build
def build(
    cells: gpd.GeoDataFrame,
    n: int | None = None,
    *,
    target: float | None = None,
    weight: str | None = None,
    nest: Nest = "community",
    tolerance: float = 0.10,
    seed: int = 0,
    locked: Sequence[str] | None = None,
    snap: float = 0.0,
    progress: bool = True,
) -> GridPlan:
    """Group base cells into balanced, contiguous, nested responsibility grids.

    Each community (or street, or the whole layer) is split into rook-connected parts; the
    grids are shared out among the parts so that the variance of grid weights is smallest
    (at least one grid per part; Huntington-Hill rule), or ``round(part weight / target)``
    grids each with ``target``. Each part is then cut into its grids by seeded region growth
    and a local search that moves boundary cells and re-splits pairs of neighbouring grids
    (see :mod:`gridgeo.grids._partition`): balance first, then compactness (shorter boundaries).

    Parameters
    ----------
    cells : GeoDataFrame
        Base cells (Polygon/MultiPolygon, unique index), with the nesting columns
        ``admin_code``, ``street_code``, ``community_code`` required by ``nest``. A
        ``grid_code`` column (from an earlier plan) makes codes stable and enables ``locked``.
    n : int, optional
        Number of grids in total, locked grids included.
    target : float, optional
        Weight per grid instead of ``n``.
    weight : str, optional
        Numeric column with each cell's workload (report count, population, street length…);
        area in m² when omitted.
    nest : {"community", "street", None}
        Grids stay inside one community (admin+street+community code), one street, or
        anywhere (``None``).
    tolerance : float
        Allowed relative deviation of a grid's weight from the target (0.10 = ±10 %).
    seed : int
        Random seed; the same seed and input give the same plan.
    locked : list of str, optional
        Grid codes in ``cells['grid_code']`` whose cells are kept exactly as they are.
    snap : float
        Snapping tolerance in metres for adjacency on real data with slivers and gaps: cells
        whose boundaries run within ``snap`` of each other for more than ``3 * snap`` are
        neighbours. 0 means exact shared edges.
    progress : bool
        Show a progress bar over the community parts.

    Returns
    -------
    GridPlan
        ``.grids``, ``.cells`` (with ``grid_code``), ``.summary`` (balance report).

    Raises
    ------
    ValueError
        Bad ``n``, ``target``, ``nest``, ``tolerance``, ``seed`` or ``snap``.
    ColumnError
        Missing nesting or weight column, or bad values in it.
    GeometryError, CRSError, DuplicateIdError
        Invalid cells, no CRS, repeated index labels or cell codes.
    PlanError
        ``n`` smaller than the number of communities or larger than the number of cells;
        unknown locked grids.
    CodingError
        More than 999 grids in one community.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> codes = {"admin_code": "441302", "street_code": "001", "community_code": "001"}
    >>> cells = gpd.GeoDataFrame(
    ...     geometry=[box(x, y, x + 100, y + 100) for y in range(0, 400, 100)
    ...               for x in range(0, 400, 100)],
    ...     crs="EPSG:4547",
    ... ).assign(**codes)
    >>> plan = build(cells, n=4, progress=False)
    >>> plan.grids["n_cells"].tolist()
    [4, 4, 4, 4]
    >>> plan.grids["grid_code"].iloc[0]
    '441302001001001'
    >>> round(plan.summary.cv, 3)
    0.0
    """
    check_options(n, target, nest, tolerance, seed, snap)
    check_cells(cells, "cells")
    prefix = cell_prefix(cells, nest, "cells")
    geoms_m = metric_geoms(cells)
    w = cell_weights(cells, weight, geoms_m)
    old = old_codes(cells)
    is_locked = locked_mask(cells, locked, old)
    locked_codes = set(old[is_locked].tolist()) if old is not None else set()
    m = len(cells)

    i, j, _ = _adjacency.rook_pairs(geoms_m, snap=snap)
    free = ~is_locked
    keep = (prefix[i] == prefix[j]) & free[i] & free[j]
    comp = _adjacency.components(m, i[keep], j[keep])
    free_pos = np.flatnonzero(free)
    units = [g.to_numpy() for _, g in pd.Series(free_pos).groupby(comp[free_pos], sort=False)]
    units.sort(key=lambda u: (prefix[u[0]], int(u[0])))
    islands, notes = island_parts(units, prefix, w, cells.index)

    k = allocate_grids(units, prefix, w, n, target, len(locked_codes), notes)
    n_total = sum(k) + len(locked_codes)
    goal = float(target) if target is not None else float(w.sum()) / n_total

    labels = np.full(m, -1, dtype=np.int64)
    next_label = 0
    for u, (pos, ku) in enumerate(
        tqdm(list(zip(units, k, strict=True)), desc="grids", disable=not progress, leave=False)
    ):
        graph = sub_graph(geoms_m, pos, w, snap)
        rng = np.random.default_rng([int(seed), u])
        part = _partition.partition(graph, ku, rng, tolerance=tolerance)
        labels[pos] = part + next_label
        next_label += ku
    codes = grid_codes(labels, prefix, geoms_m, old, is_locked)
    settings = {
        "weight": weight,
        "nest": nest,
        "tolerance": float(tolerance),
        "target": goal,
        "snap": float(snap),
        "locked": tuple(sorted(locked_codes)),
    }
    return assemble(
        cells, codes, w, geoms_m, settings, locked=locked_codes, islands=islands, notes=notes
    )


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
    """Compare two plans of the same cells.

    Cells are matched by the cells' index. A grid whose cells are exactly those of an old
    grid under another code is *renamed* (its cells do not count as moved).

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
        The plans do not hold the same cells.

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
    if not old.cells.index.sort_values().equals(new.cells.index.sort_values()):
        only = old.cells.index.symmetric_difference(new.cells.index)
        msg = (
            f"old and new plans hold different cells (e.g. {rows_preview(only)}); diff "
            "compares plans of the same cells, matched by index."
        )
        raise PlanError(msg)
    old_code = old.cells["grid_code"].astype(str)
    new_code = new.cells["grid_code"].astype(str).reindex(old.cells.index)
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
    weight = new.cell_weight.reindex(old.cells.index)
    cols = {"grid_old": old_code[moved], "grid_new": new_code[moved], "weight": weight[moved]}
    if "cell_code" in old.cells.columns:
        cols = {"cell_code": old.cells["cell_code"][moved], **cols}
    cells = gpd.GeoDataFrame(cols, geometry=old.cells.geometry[moved], crs=old.cells.crs)

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
    grids = gpd.GeoDataFrame(rows, geometry="geometry", crs=new.grids.crs)
    added = tuple(grids.loc[grids["status"] == "added", "grid_code"].tolist())
    removed = tuple(grids.loc[grids["status"] == "removed", "grid_code"].tolist())
    return GridDiff(cells=cells, grids=grids, added=added, removed=removed, renamed=renamed)


# ----------------------------------------------------------------------------- files
def save_plan(plan: GridPlan, path: str | os.PathLike[str]) -> Path:
    """Save a plan to one GeoPackage: cells, grids, balance summary, edit history, options.

    A planner can stop on Friday and go on on Monday: :func:`load_plan` gives back the same
    plan (cells, grids, summary, settings with the history of edits). Layers: ``cells``,
    ``grids``, ``summary``, ``out_of_tolerance``, ``history`` and ``gridgeo_plan`` (the build
    options and the rest as JSON); see :mod:`gridgeo.grids._files`. The write is atomic and
    the same plan gives a byte-identical file.

    Parameters
    ----------
    plan : GridPlan
        The plan to save.
    path : str or PathLike
        A ``.gpkg`` file; its folder must exist. An existing file is replaced.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputFileError
        Not a ``.gpkg`` name, missing folder, or the write failed (nothing is written).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> codes = {"admin_code": "441302", "street_code": "001", "community_code": "001"}
    >>> squares = [box(x, 0, x + 100, 100) for x in range(0, 400, 100)]
    >>> cells = gpd.GeoDataFrame(geometry=squares, crs="EPSG:4547").assign(**codes)
    >>> plan = merge(build(cells, n=4, progress=False), "441302001001001", "441302001001002").plan
    >>> path = save_plan(plan, pathlib.Path(tempfile.mkdtemp()) / "plan.gpkg")
    >>> again = load_plan(path)
    >>> again.grids["n_cells"].tolist(), [h["edit"] for h in again.settings["history"]]
    ([2, 1, 1], ['merge'])
    """
    check_plan(plan)
    return _files.write_plan(plan, path)


def load_plan(path: str | os.PathLike[str]) -> GridPlan:
    """Load a plan saved by :func:`save_plan` (or ``GridPlan.save``).

    Parameters
    ----------
    path : str or PathLike
        The plan's GeoPackage.

    Returns
    -------
    GridPlan
        Equal to the saved plan: cells (index, columns and types), grids, summary, cell
        weights and settings, including ``settings["history"]``.

    Raises
    ------
    InputFileError
        Missing file, not a GeoPackage, or a GeoPackage that is not a gridgeo plan.

    Examples
    --------
    >>> load_plan("missing.gpkg")
    Traceback (most recent call last):
    ...
    gridgeo.errors.InputFileError: cannot load a plan from 'missing.gpkg': the file does not ...
    """
    parts = _files.read_plan(path)
    summary = BalanceSummary(**parts.pop("summary"))
    return GridPlan(summary=summary, **parts)
