"""Private helpers of :func:`gridgeo.grids.build`: input checks, allocation, grid codes."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm.auto import tqdm

from gridgeo import _adjacency
from gridgeo._validate import (
    require_columns,
    require_crs,
    require_geodataframe,
    require_geom_types,
    require_nonempty,
    require_unique,
    require_valid,
    rows_preview,
)
from gridgeo.errors import ColumnError, PlanError
from gridgeo.grids import _bisect as _grids_bisect
from gridgeo.grids import _partition
from gridgeo.grids._plan import (
    GridPlan,
    assemble,
    cell_prefix,
    metric_geoms,
    number_grids,
    row_height,
)

logger = logging.getLogger("gridgeo.grids")


# ----------------------------------------------------------------------------- validation
def check_cells(cells: Any, name: str) -> gpd.GeoDataFrame:
    require_geodataframe(cells, name)
    require_nonempty(cells, name)
    require_crs(cells, name)
    require_geom_types(cells, ["Polygon", "MultiPolygon"], name)
    require_valid(cells, name)
    require_unique(cells.index, "index labels", name)
    if "cell_code" in cells.columns:
        require_unique(cells["cell_code"], "cell_code values", name)
    return cells


def cell_weights(cells: gpd.GeoDataFrame, weight: str | None, geoms_m: np.ndarray) -> np.ndarray:
    if weight is None:
        return np.asarray(shapely.area(geoms_m), dtype=float)
    if not isinstance(weight, str):
        msg = f"weight must be a column name or None (area), got {type(weight).__name__}."
        raise TypeError(msg)
    require_columns(cells, [weight], "cells", params={weight: "weight"})
    values = pd.to_numeric(cells[weight], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        msg = (
            f"cells column {weight!r} (weight) must hold finite numbers >= 0, but row(s) "
            f"{rows_preview(cells.index[bad])} do not. Fill missing workloads with 0 or "
            "drop those cells."
        )
        raise ColumnError(msg)
    return values


def check_options(n: Any, target: Any, nest: Any, tolerance: Any, seed: Any, snap: Any) -> None:
    if (n is None) == (target is None):
        msg = "pass exactly one of n= (number of grids) or target= (weight per grid)."
        raise ValueError(msg)
    if n is not None and (not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1):
        msg = f"n must be a positive whole number of grids, got {n!r}."
        raise ValueError(msg)
    if target is not None and not (
        isinstance(target, int | float | np.number) and np.isfinite(target) and target > 0
    ):
        msg = f"target must be a positive weight per grid, got {target!r}."
        raise ValueError(msg)
    if nest not in ("community", "street", None):
        msg = f"within must be 'community', 'street' or None, got {nest!r}."
        raise ValueError(msg)
    if not (isinstance(tolerance, int | float) and 0 < tolerance < 1):
        msg = f"tolerance must be a fraction between 0 and 1 (0.10 = ±10 %), got {tolerance!r}."
        raise ValueError(msg)
    if not isinstance(seed, int | np.integer) or seed < 0:
        msg = f"seed must be a non-negative integer, got {seed!r}."
        raise ValueError(msg)
    if not (isinstance(snap, int | float) and np.isfinite(snap) and snap >= 0):
        msg = f"snap must be a distance >= 0 in metres, got {snap!r}."
        raise ValueError(msg)


def old_codes(cells: pd.DataFrame) -> np.ndarray | None:
    if "grid_code" not in cells.columns:
        return None
    return cells["grid_code"].astype("string").fillna("").to_numpy(dtype=object).astype(str)


def locked_mask(cells: pd.DataFrame, locked: Any, old: np.ndarray | None) -> np.ndarray:
    if locked is None:
        return np.zeros(len(cells), dtype=bool)
    if isinstance(locked, str) or not isinstance(locked, Iterable):
        msg = "locked must be a list of grid codes, e.g. locked=['441302001001001']."
        raise TypeError(msg)
    codes = [str(c) for c in locked]
    if old is None:
        msg = (
            "locked= needs the cells' current grids: pass plan.cells (which has a 'grid_code' "
            "column) so the locked grids can be found."
        )
        raise PlanError(msg)
    unknown = sorted(set(codes) - set(old.tolist()))
    if unknown:
        msg = f"locked grid(s) {rows_preview(unknown)} are not in cells['grid_code']."
        raise PlanError(msg)
    return np.isin(old, codes)


def island_parts(
    units: list[np.ndarray], prefix: np.ndarray, w: np.ndarray, index: pd.Index
) -> tuple[pd.DataFrame, list[str]]:
    by_prefix: dict[str, list[np.ndarray]] = {}
    for u in units:
        by_prefix.setdefault(prefix[u[0]], []).append(u)
    rows = []
    for p, parts in by_prefix.items():
        biggest = max(range(len(parts)), key=lambda q: (len(parts[q]), -int(parts[q][0])))
        for q, u in enumerate(parts):
            if q != biggest:
                rows.append((p, len(u), float(w[u].sum()), list(index[u])))
    frame = pd.DataFrame(rows, columns=["prefix", "n_cells", "weight", "cells"])
    notes = []
    if rows:
        notes.append(
            f"{len(rows)} island part(s) (cells with no rook neighbour path to the rest of "
            "their community) form grids of their own; see summary.islands."
        )
        logger.info("%d island parts form their own grids", len(rows))
    return frame, notes


def unit_graphs(
    units: list[np.ndarray],
    i: np.ndarray,
    j: np.ndarray,
    length: np.ndarray,
    w: np.ndarray,
    geoms_m: np.ndarray,
) -> Iterator[_partition.Graph]:
    """Rook graph of each unit from the layer's neighbour pairs (no second overlay).

    Gives the same graph as ``_gridplan.sub_graph(geoms_m, pos, w, snap)`` for ascending
    ``pos``: the pairs inside the unit, in the same order.
    """
    m = len(w)
    unit_of = np.full(m, -1, dtype=np.int64)
    loc = np.zeros(m, dtype=np.int64)
    for u, pos in enumerate(units):
        unit_of[pos] = u
        loc[pos] = np.arange(len(pos))
    same = (unit_of[i] >= 0) & (unit_of[i] == unit_of[j])
    i, j, length = i[same], j[same], length[same]
    order = np.argsort(unit_of[i], kind="stable")
    i, j, length = i[order], j[order], length[order]
    bounds = np.searchsorted(unit_of[i], np.arange(len(units) + 1))
    xy = shapely.get_coordinates(shapely.centroid(geoms_m))
    for u, pos in enumerate(units):
        sl = slice(bounds[u], bounds[u + 1])
        nbrs, lens = _adjacency.neighbour_lists(len(pos), loc[i[sl]], loc[j[sl]], length[sl])
        yield _partition.Graph(nbrs, lens, np.asarray(w, dtype=float)[pos], xy[pos])


def overlap_notes(geoms_m: np.ndarray, index: pd.Index) -> list[str]:
    """A note (and a warning in the log) naming cells whose interiors overlap."""
    tree = shapely.STRtree(geoms_m)
    a, b = tree.query(geoms_m, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    bad = ~shapely.touches(geoms_m[a], geoms_m[b])
    if not bad.any():
        return []
    a, b = a[bad], b[bad]
    area = shapely.area(shapely.intersection(geoms_m[a], geoms_m[b]))
    real = area > 1e-6
    if not real.any():
        return []
    rows = sorted({*index[a[real]].tolist(), *index[b[real]].tolist()}, key=str)
    note = (
        f"{int(real.sum())} pair(s) of cells overlap ({float(area[real].sum()):,.1f} m² in all; "
        f"rows {rows_preview(rows)}): their weight counts twice. Check them with "
        "gridgeo.cells.validate(cells) and fix the cell layer."
    )
    logger.warning(note)
    return [note]


def split_islands(
    units: list[np.ndarray], prefix: np.ndarray, islands: str
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Units that get grids, and island parts that will join a grid (``islands="join"``)."""
    if islands not in ("own", "join"):
        msg = f"islands must be 'own' (grids of their own) or 'join', got {islands!r}."
        raise ValueError(msg)
    if islands == "own":
        return units, []
    by_prefix: dict[str, list[np.ndarray]] = {}
    for u in units:
        by_prefix.setdefault(prefix[u[0]], []).append(u)
    main, joining = [], []
    for parts in by_prefix.values():
        biggest = max(range(len(parts)), key=lambda q: (len(parts[q]), -int(parts[q][0])))
        for q, u in enumerate(parts):
            (main if q == biggest else joining).append(u)
    main.sort(key=lambda u: (prefix[u[0]], int(u[0])))
    return main, joining


def join_nearest(
    labels: np.ndarray, joining: list[np.ndarray], prefix: np.ndarray, geoms_m: np.ndarray
) -> None:
    """Give each island part the label of the nearest labelled cell of its community."""
    for part in joining:
        same = np.flatnonzero((labels >= 0) & (prefix == prefix[part[0]]))
        if len(same) == 0:  # pragma: no cover - the community's largest part has grids
            continue
        tree = shapely.STRtree(geoms_m[same])
        near = tree.query_nearest(shapely.union_all(geoms_m[part]), all_matches=False)
        labels[part] = labels[same[int(np.atleast_1d(near)[-1])]]


def allocate_grids(
    units: list[np.ndarray],
    prefix: np.ndarray,
    w: np.ndarray,
    n: int | None,
    target: float | None,
    n_locked: int,
    notes: list[str],
) -> list[int]:
    caps = [len(u) for u in units]
    totals = [float(w[u].sum()) for u in units]
    if target is not None:
        return [
            _partition.k_for_target(t, float(target), c) for t, c in zip(totals, caps, strict=True)
        ]
    assert n is not None
    free_n = int(n) - n_locked
    groups = len({prefix[u[0]] for u in units})
    if free_n < groups:
        msg = (
            f"n={n} is too small: {n_locked} locked grid(s) and {groups} community group(s) "
            f"with free cells, each needing at least one grid. Pass n >= {n_locked + groups}, "
            "or nest by street (within='street') or not at all (within=None)."
        )
        raise PlanError(msg)
    if free_n > sum(caps):
        msg = (
            f"n={n} is too large: only {sum(caps)} free cells for {free_n} new grids. "
            "Use a smaller n or smaller cells."
        )
        raise PlanError(msg)
    if free_n < len(units):
        notes.append(
            f"n raised from {n} to {n_locked + len(units)}: {len(units)} separate community "
            "parts each need a grid of their own to keep grids contiguous."
        )
        logger.warning(notes[-1])
        free_n = len(units)
    return _partition.allocate(totals, caps, free_n)


def grid_codes(
    labels: np.ndarray,
    prefix: np.ndarray,
    geoms_m: np.ndarray,
    old: np.ndarray | None,
    locked_mask: np.ndarray,
) -> np.ndarray:
    """Grid code of every cell: locked and inherited codes kept, the rest numbered."""
    codes = np.empty(len(labels), dtype=object)
    if old is not None:
        codes[locked_mask] = old[locked_mask]
    new = labels >= 0
    taken: dict[str, set[int]] = {}
    for c in set(codes[locked_mask].tolist()):
        taken.setdefault(c[:12], set()).add(int(c[12:]))
    inherited: dict[int, str] = {}
    if old is not None:
        frame = pd.DataFrame({"lab": labels[new], "old": old[new]})
        frame = frame[frame["old"].str.fullmatch(r"\d{15}")]
        size = frame.groupby("old").size()
        pairs = frame.groupby(["lab", "old"]).size().reset_index(name="n")
        pairs = pairs[pairs["n"].to_numpy() * 2 > size.loc[pairs["old"]].to_numpy()]
        pairs = pairs.sort_values(["lab", "n", "old"], ascending=[True, False, True])
        lab_prefix = pd.Series(prefix[new], index=labels[new]).groupby(level=0).first()
        for lab, code in zip(pairs["lab"], pairs["old"], strict=True):
            lab = int(lab)
            if lab in inherited or code[:12] != lab_prefix[lab]:
                continue
            if int(code[12:]) in taken.get(code[:12], set()):
                continue
            inherited[lab] = code
            taken.setdefault(code[:12], set()).add(int(code[12:]))
    fresh = sorted(set(labels[new].tolist()) - set(inherited))
    if fresh:
        pos_of = pd.Series(np.flatnonzero(new)).groupby(labels[new]).apply(list)
        unions = np.array([shapely.union_all(geoms_m[pos_of[lab]]) for lab in fresh], dtype=object)
        points = shapely.point_on_surface(unions)
        h = row_height(np.array([shapely.area(geoms_m[pos_of[lab]]).sum() for lab in pos_of.index]))
        fresh_prefix = np.array([prefix[pos_of[lab][0]] for lab in fresh], dtype=object)
        numbers = number_grids(fresh_prefix, points, h, taken)
        for lab, p, num in zip(fresh, fresh_prefix, numbers, strict=True):
            inherited[lab] = f"{p}{int(num):03d}"
    mapped = pd.Series(inherited)
    codes[new] = mapped.loc[labels[new]].to_numpy()
    return codes.astype(str)


Nest = Literal["community", "street"] | None


def _level(within: Nest, nest: Any) -> Nest:
    """The nesting level from ``within=``, or from ``nest=`` (a communities layer, or the
    former level spelling)."""
    if nest is None:
        return within
    if isinstance(nest, pd.DataFrame):
        require_columns(nest, ["admin_code", "street_code", "community_code"], "nest (communities)")
        return "community"
    if nest in ("community", "street"):
        warnings.warn(
            f"grids.build(nest={nest!r}) is the former spelling; use within={nest!r} "
            "(nest= names a communities layer everywhere in gridgeo).",
            FutureWarning,
            stacklevel=3,
        )
        return nest
    msg = (
        f"nest must be a communities layer (GeoDataFrame); got {nest!r}. For the nesting level "
        "use within='community', 'street' or None."
    )
    if isinstance(nest, str):
        raise ValueError(msg)
    raise TypeError(msg)


# ----------------------------------------------------------------------------- build
def build(
    cells: gpd.GeoDataFrame,
    n: int | None = None,
    *,
    target: float | None = None,
    weight: str | None = None,
    within: Nest = "community",
    nest: Any = None,
    tolerance: float = 0.10,
    seed: int = 0,
    locked: Sequence[str] | None = None,
    snap: float = 0.0,
    islands: Literal["own", "join"] = "own",
    progress: bool = True,
) -> GridPlan:
    """Group base cells into balanced, contiguous, nested responsibility grids.

    Each community (or street, or the whole layer) is split into rook-connected parts; the
    grids are shared out among the parts so that the variance of grid weights is smallest
    (at least one grid per part; Huntington-Hill rule), or ``round(part weight / target)``
    grids each with ``target``. A part needing many grids is first cut by recursive
    bisection (straight sweeps across its long axis, kept connected, weights in proportion to
    the grids on each side) into pieces of a few grids; each piece is cut into its grids by
    seeded region growth and a local search that moves boundary cells and re-splits pairs of
    neighbouring grids, and the same moves then polish the borders between pieces (see
    :mod:`gridgeo.grids._bisect` and :mod:`gridgeo.grids._partition`): balance first, then
    compactness (shorter boundaries). Time grows about linearly with the number of cells.

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
    within : {"community", "street", None}
        Grids stay inside one community (admin+street+community code), one street, or
        anywhere (``None``).
    nest : GeoDataFrame, optional
        The communities layer, as in :mod:`gridgeo.cells` (``nest=communities``): grids stay
        inside its communities, whose codes the cells must carry (same as
        ``within="community"``). A level name here (``nest="street"``) is the former spelling
        of ``within=`` and gives a ``FutureWarning``.
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
    islands : {"own", "join"}
        Island parts of a community (see the module notes) form grids of their own
        (``"own"``), or join the nearest grid of their community (``"join"``; those grids
        are then in several pieces and listed in ``summary.non_contiguous``).
    progress : bool
        Show a progress bar counting the grids as they are drawn.

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
    nest = _level(within, nest)
    check_options(n, target, nest, tolerance, seed, snap)
    check_cells(cells, "cells")
    prefix = cell_prefix(cells, nest, "cells")
    geoms_m = metric_geoms(cells)
    w = cell_weights(cells, weight, geoms_m)
    old = old_codes(cells)
    is_locked = locked_mask(cells, locked, old)
    locked_codes = set(old[is_locked].tolist()) if old is not None else set()
    m = len(cells)

    i, j, shared = _adjacency.rook_pairs(geoms_m, snap=snap)
    free = ~is_locked
    keep = (prefix[i] == prefix[j]) & free[i] & free[j]
    comp = _adjacency.components(m, i[keep], j[keep])
    free_pos = np.flatnonzero(free)
    units = [g.to_numpy() for _, g in pd.Series(free_pos).groupby(comp[free_pos], sort=False)]
    units.sort(key=lambda u: (prefix[u[0]], int(u[0])))
    island_rows, notes = island_parts(units, prefix, w, cells.index)
    notes += overlap_notes(geoms_m, cells.index)
    units, joining = split_islands(units, prefix, islands)

    k = allocate_grids(units, prefix, w, n, target, len(locked_codes), notes)
    n_total = sum(k) + len(locked_codes)
    goal = float(target) if target is not None else float(w.sum()) / n_total

    labels = np.full(m, -1, dtype=np.int64)
    next_label = 0
    with tqdm(total=sum(k), desc="grids", unit="grid", disable=not progress, leave=False) as bar:
        graphs = unit_graphs(units, i, j, shared, w, geoms_m)
        for u, (pos, ku, graph) in enumerate(zip(units, k, graphs, strict=True)):
            rng = np.random.default_rng([int(seed), u])
            part = _grids_bisect.hierarchical(
                graph, ku, rng, tolerance=tolerance, on_done=bar.update
            )
            labels[pos] = part + next_label
            next_label += ku
    join_nearest(labels, joining, prefix, geoms_m)
    if joining:
        notes = [x for x in notes if "of their own" not in x]
        notes.append(f"{len(joining)} island part(s) joined the nearest grid of their community.")
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
        cells,
        codes,
        w,
        geoms_m,
        settings,
        locked=locked_codes,
        islands=island_rows,
        notes=notes,
        pairs=(i, j),
    )
