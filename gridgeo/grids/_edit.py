"""Editing aids for planners (private; re-exported by :mod:`gridgeo.grids`).

* :func:`neighbours` — the grids sharing an edge with a grid, with the shared length;
* :func:`border_cells` — a grid's cells that touch another grid;
* :func:`rebalance` — greedy moves of border cells among chosen grids, each the move that
  lowers the squared deviation from their mean weight most, kept contiguous and nested,
  stopping as soon as every chosen grid is within tolerance (or nothing improves);
  :func:`fewest_moves_slow` is the brute-force twin used by the tests on tiny plans.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from gridgeo import _adjacency
from gridgeo.errors import PlanError
from gridgeo.grids._partition import Graph, _Search
from gridgeo.grids._plan import EditResult, GridPlan, check_plan, metric_geoms

__all__ = ["border_cells", "fewest_moves_slow", "neighbours", "rebalance"]


def _codes(plan: GridPlan) -> np.ndarray:
    return plan.cells["grid_code"].to_numpy(dtype=object).astype(str)


def _known(plan: GridPlan, grid: object, what: str = "grid") -> str:
    code = str(grid)
    if code not in set(plan.grids["grid_code"].astype(str)):
        msg = f"{what} {code!r} is not a grid of this plan; see plan.grids['grid_code']."
        raise PlanError(msg)
    return code


def _pairs(plan: GridPlan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _adjacency.rook_pairs(metric_geoms(plan.cells), snap=float(plan.settings["snap"]))


def neighbours(plan: GridPlan, grid: str) -> pd.DataFrame:
    """Grids sharing an edge with ``grid``.

    Parameters
    ----------
    plan : GridPlan
        The plan.
    grid : str
        A grid code of the plan.

    Returns
    -------
    DataFrame
        One row per neighbouring grid, longest shared boundary first: ``grid_code``,
        ``shared_m`` (length of the shared boundary in metres), ``same_community`` (whether
        cells could move between the two under the plan's nesting), ``weight``.

    Raises
    ------
    PlanError
        Unknown grid.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from gridgeo import grids
    >>> codes = {"admin_code": "441302", "street_code": "001", "community_code": "001"}
    >>> sq = [box(x, 0, x + 100, 100) for x in range(0, 600, 100)]
    >>> plan = grids.build(gpd.GeoDataFrame(geometry=sq, crs="EPSG:4547").assign(**codes),
    ...                    n=3, progress=False)
    >>> grids.neighbours(plan, "441302001001002")["grid_code"].tolist()
    ['441302001001001', '441302001001003']
    """
    check_plan(plan)
    grid = _known(plan, grid)
    codes = _codes(plan)
    i, j, length = _pairs(plan)
    a, b = codes[i], codes[j]
    mine = (a == grid) != (b == grid)
    other = np.where(a[mine] == grid, b[mine], a[mine])
    shared = pd.Series(length[mine]).groupby(other).sum()
    weight = plan.grids.set_index("grid_code")["weight"]
    nested = plan.settings["nest"] is not None
    out = pd.DataFrame(
        {
            "grid_code": shared.index.astype(str),
            "shared_m": shared.to_numpy(dtype=float),
            "same_community": [not nested or c[:12] == grid[:12] for c in shared.index],
            "weight": weight.reindex(shared.index).to_numpy(dtype=float),
        }
    )
    return out.sort_values(["shared_m", "grid_code"], ascending=[False, True]).reset_index(
        drop=True
    )


def border_cells(plan: GridPlan, grid: str) -> gpd.GeoDataFrame:
    """Cells of ``grid`` that share an edge with another grid (candidates for a move).

    Parameters
    ----------
    plan : GridPlan
        The plan.
    grid : str
        A grid code of the plan.

    Returns
    -------
    GeoDataFrame
        Rows of ``plan.cells`` (same index) with ``to_grid`` (the neighbouring grid sharing
        the longest edge with the cell) and ``shared_m`` (that length in metres).

    Raises
    ------
    PlanError
        Unknown grid.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from gridgeo import grids
    >>> codes = {"admin_code": "441302", "street_code": "001", "community_code": "001"}
    >>> sq = [box(x, 0, x + 100, 100) for x in range(0, 600, 100)]
    >>> plan = grids.build(gpd.GeoDataFrame(geometry=sq, crs="EPSG:4547").assign(**codes),
    ...                    n=2, progress=False)
    >>> grids.border_cells(plan, "441302001001001")["to_grid"].tolist()
    ['441302001001002']
    """
    check_plan(plan)
    grid = _known(plan, grid)
    codes = _codes(plan)
    i, j, length = _pairs(plan)
    cell = np.r_[i, j]
    other = np.r_[j, i]
    shared = np.r_[length, length]
    keep = (codes[cell] == grid) & (codes[other] != grid)
    frame = pd.DataFrame({"cell": cell[keep], "to": codes[other[keep]], "m": shared[keep]})
    per = frame.groupby(["cell", "to"], as_index=False)["m"].sum()
    per = per.sort_values(["cell", "m", "to"], ascending=[True, False, True])
    best = per.drop_duplicates("cell")
    out = plan.cells.iloc[best["cell"].to_numpy()].copy()
    out["to_grid"] = best["to"].to_numpy().astype(str)
    out["shared_m"] = best["m"].to_numpy(dtype=float)
    return out


def _selection(plan: GridPlan, chosen: Sequence[str]) -> tuple[list[str], np.ndarray, Graph]:
    if isinstance(chosen, str) or len(chosen) < 2:
        msg = "grids must list at least two grid codes, e.g. grids=['441302001001001', ...]."
        raise PlanError(msg)
    names = sorted({_known(plan, g) for g in chosen})
    codes = _codes(plan)
    pos = np.flatnonzero(np.isin(codes, names))
    geoms = metric_geoms(plan.cells)
    i, j, length = _adjacency.rook_pairs(geoms[pos], snap=float(plan.settings["snap"]))
    if plan.settings["nest"] is not None:  # cells move only inside their community
        same = np.array(
            [codes[pos[a]][:12] == codes[pos[b]][:12] for a, b in zip(i, j, strict=True)]
        )
        i, j, length = (i[same], j[same], length[same]) if len(i) else (i, j, length)
    nbrs, lens = _adjacency.neighbour_lists(len(pos), i, j, length)
    w = plan.cell_weight.to_numpy(dtype=float)[pos]
    g = Graph(nbrs, lens, w, np.zeros((len(pos), 2)))
    return names, pos, g


def _best_move(st: _Search, t: float) -> tuple[float, int, int] | None:
    """The single move that lowers Σ (w_r − t)² most: ``(gain, cell, to)``."""
    best: tuple[float, int, int] | None = None
    for c in range(st.g.m):
        a = st.lab[c]
        if len(st.members[a]) <= 1:
            continue
        wc = float(st.g.w[c])
        for b in sorted({st.lab[v] for v in st.g.nbrs[c]} - {a}):
            old = (st.rw[a] - t) ** 2 + (st.rw[b] - t) ** 2
            new = (st.rw[a] - wc - t) ** 2 + (st.rw[b] + wc - t) ** 2
            gain = old - new
            key = (gain, -c, -b)
            better = best is None or key > (best[0], -best[1], -best[2])
            if gain > 1e-12 * t * t and better and st.connected_without(a, c):
                best = (gain, c, b)
    return best


def _within(rw: Sequence[float], t: float, tol: float) -> bool:
    return all(abs(r - t) <= tol * t + 1e-12 for r in rw)


def rebalance(
    plan: GridPlan,
    *,
    grids: Sequence[str],
    tolerance: float | None = None,
    max_moves: int | None = None,
) -> EditResult:
    """Even out the weights of chosen neighbouring grids by moving few border cells.

    Among the chosen grids only, the move of one border cell that lowers the squared
    deviation from their mean weight most is made, again and again, until every chosen grid
    is within ``tolerance`` of that mean (or no move improves). Moves keep every grid
    contiguous, never empty it, and stay inside one community under the plan's nesting.
    Grids not chosen are not touched; codes are kept.

    Parameters
    ----------
    plan : GridPlan
        The plan to edit (not modified).
    grids : list of str
        Codes of two or more neighbouring grids.
    tolerance : float, optional
        Relative deviation from the chosen grids' mean weight to reach; default the plan's.
    max_moves : int, optional
        Stop after this many moves.

    Returns
    -------
    EditResult
        New plan and changes (``changes.cells`` lists the moved cells).

    Raises
    ------
    PlanError
        Fewer than two grids, or an unknown grid.
    ValueError
        Bad ``tolerance`` or ``max_moves``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from gridgeo import grids
    >>> codes = {"admin_code": "441302", "street_code": "001", "community_code": "001"}
    >>> sq = [box(x, 0, x + 100, 100) for x in range(0, 600, 100)]
    >>> cells = gpd.GeoDataFrame(geometry=sq, crs="EPSG:4547").assign(**codes)
    >>> plan, _ = grids.move(grids.build(cells, n=2, progress=False), [3], to="441302001001001")
    >>> plan.grids["n_cells"].tolist()
    [4, 2]
    >>> res = grids.rebalance(plan, grids=["441302001001001", "441302001001002"])
    >>> res.plan.grids["n_cells"].tolist(), len(res.changes.cells)
    ([3, 3], 1)
    """
    from gridgeo.grids._editing import _reassemble, diff

    check_plan(plan)
    tol = float(plan.settings["tolerance"]) if tolerance is None else tolerance
    if not (isinstance(tol, int | float) and 0 <= tol < 1):
        msg = f"tolerance must be a fraction from 0 to 1, got {tolerance!r}."
        raise ValueError(msg)
    if max_moves is not None and (not isinstance(max_moves, int) or max_moves < 0):
        msg = f"max_moves must be a whole number >= 0 or None, got {max_moves!r}."
        raise ValueError(msg)
    names, pos, g = _selection(plan, grids)
    codes = _codes(plan)
    lab = [names.index(c) for c in codes[pos]]
    t = float(g.w.sum()) / len(names)
    st = _Search(g, lab, len(names), t, tol)
    moves = 0
    while (max_moves is None or moves < max_moves) and not _within(st.rw, t, tol):
        best = _best_move(st, t)
        if best is None:
            break
        st.move(best[1], best[2])
        moves += 1
    new = codes.copy()
    new[pos] = np.array(names, dtype=object)[np.array(st.lab, dtype=np.int64)]
    if moves == 0:
        return EditResult(plan, diff(plan, plan))
    entry = {"edit": "rebalance", "grids": sorted(names), "moves": moves}
    out = _reassemble(plan, new, entry)
    return EditResult(out, diff(plan, out))


def fewest_moves_slow(plan: GridPlan, grids: Sequence[str], tolerance: float) -> int | None:
    """Brute-force twin: fewest single-cell moves bringing every chosen grid within
    ``tolerance`` of their mean weight (breadth-first over all plans; tiny plans only).
    ``None`` when no sequence of contiguous, non-emptying moves reaches it."""
    names, pos, g = _selection(plan, grids)
    start = tuple(names.index(c) for c in _codes(plan)[pos])
    t = float(g.w.sum()) / len(names)
    k = len(names)

    def weights(lab: tuple[int, ...]) -> list[float]:
        return [float(g.w[[c for c in range(g.m) if lab[c] == r]].sum()) for r in range(k)]

    def connected(lab: tuple[int, ...], r: int) -> bool:
        mem = [c for c in range(g.m) if lab[c] == r]
        if not mem:
            return False
        seen, todo = {mem[0]}, [mem[0]]
        while todo:
            u = todo.pop()
            for v in g.nbrs[u]:
                if lab[v] == r and v not in seen:
                    seen.add(v)
                    todo.append(v)
        return len(seen) == len(mem)

    seen_states = {start}
    queue = deque([(start, 0)])
    while queue:
        lab, depth = queue.popleft()
        if _within(weights(lab), t, tolerance):
            return depth
        for c in range(g.m):
            for b in {lab[v] for v in g.nbrs[c]} - {lab[c]}:
                nxt = tuple(b if x == c else lab[x] for x in range(g.m))
                if nxt in seen_states or not connected(nxt, lab[c]):
                    continue
                seen_states.add(nxt)
                queue.append((nxt, depth + 1))
    return None
