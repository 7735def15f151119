"""Clean nested lattices (private; used by :func:`gridgeo.cells.fishnet` and ``hexagons``).

* :func:`check_degrees` — coordinates that look like degrees under a CRS declared in metres
  (cells of 0.0004 m²) are refused with the fix.
* :func:`refuse_too_many` — the number of cells (and the memory) is estimated from the
  district's bounding box before any geometry is made; beyond ``max_cells`` the call stops
  with the numbers and a suggestion instead of running out of memory.
* :func:`fit_count` — the cell size that gives about ``n`` cells over the district.
* :func:`merge_small` — pieces below ``min_area`` (community boundaries cut lattice cells into
  slivers; pieces outside every community are slivers of a boundary mismatch) merge into the
  neighbour of the same community with which they share the longest edge; a piece outside
  every community merges into any neighbour. The merged cell keeps the neighbour's lattice
  attributes (row/col, H3 id).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np
import shapely
from pyproj import CRS

from gridgeo.cells import _blocks
from gridgeo.errors import CRSError, GeometryError

__all__ = [
    "BYTES_PER_CELL",
    "DEFAULT_MAX_CELLS",
    "check_degrees",
    "fit_count",
    "merge_small",
    "merge_small_slow",
    "refuse_too_many",
]

logger = logging.getLogger("gridgeo.cells")

DEFAULT_MAX_CELLS = 5_000_000
BYTES_PER_CELL = 600  # lattice polygon + clipping + table row, measured on fishnet (about)


def check_degrees(bounds: tuple[float, float, float, float], crs: CRS, name: str) -> None:
    """Refuse a layer in a metric CRS whose coordinates look like longitude/latitude."""
    minx, miny, maxx, maxy = bounds
    looks_deg = minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90
    # a district under 100 m² is no district: degrees read as metres (0.03° → 0.03 m)
    if crs.is_projected and looks_deg and (maxx - minx) * (maxy - miny) < 100:
        msg = (
            f"{name} has coordinates that look like degrees (x {minx:.4f}…{maxx:.4f}, "
            f"y {miny:.4f}…{maxy:.4f}) but its CRS {crs.name!r} is in metres, so the whole "
            f"district would be {(maxx - minx) * (maxy - miny):.4g} m². Declare the real CRS: "
            f"{name} = {name}.set_crs('EPSG:4326', allow_override=True) (or the CRS the "
            "coordinates were surveyed in)."
        )
        raise CRSError(msg)


def refuse_too_many(
    bounds: tuple[float, float, float, float],
    district_area: float,
    cell_area: float,
    max_cells: int,
    what: str,
) -> int:
    """Estimated number of cells; raise :class:`GeometryError` beyond ``max_cells``."""
    minx, miny, maxx, maxy = bounds
    side = math.sqrt(cell_area)
    in_box = math.ceil((maxx - minx) / side + 1) * math.ceil((maxy - miny) / side + 1)
    cells = max(1, round(district_area / cell_area))
    # the lattice over the bounding box is built first: a thin diagonal district makes
    # far more lattice cells than cells, so it has a (looser) limit of its own
    if cells > max_cells or in_box > 4 * max_cells:
        mem = in_box * BYTES_PER_CELL / 1e9
        fit = math.sqrt(district_area / max_cells)
        msg = (
            f"{what} would make about {cells:,} cells ({in_box:,} lattice cells over the "
            f"district's bounding box, about {mem:.1f} GB while building), more than "
            f"max_cells={max_cells:,}. Use larger cells (a side of at least {fit:,.0f} m keeps "
            f"under the limit), or raise the limit with max_cells={max(cells, in_box // 4):,} "
            "if the machine has the memory."
        )
        raise GeometryError(msg)
    return cells


def fit_count(
    n: int, district_area: float, count: Callable[[float], int], *, tries: int = 12
) -> float:
    """Cell area whose lattice gives the count nearest ``n`` (``count(cell_area)``)."""
    cell_area = district_area / n
    best = (math.inf, cell_area)
    for _ in range(tries):
        got = count(cell_area)
        best = min(best, (abs(got - n), cell_area))
        if got == n or got == 0:
            break
        cell_area *= got / n
    return best[1]


def _roots(
    geoms: np.ndarray, comm: np.ndarray, small: np.ndarray, areas: np.ndarray
) -> np.ndarray | None:
    src, dst, shared = _blocks._shared_edges(geoms, small)
    eligible = (comm[src] == comm[dst]) | (comm[src] == -1)
    src, dst, shared = src[eligible], dst[eligible], shared[eligible]
    if len(src) == 0:
        return None
    order = np.lexsort((dst, -areas[dst], -np.round(shared, 6), src))
    src, dst = src[order], dst[order]
    first = np.r_[True, src[1:] != src[:-1]]
    parent = np.arange(len(geoms))
    for i, j in zip(src[first].tolist(), dst[first].tolist(), strict=True):
        ri, rj = _blocks._find(parent, i), _blocks._find(parent, j)
        if ri != rj:
            parent[ri] = rj
    return np.array([_blocks._find(parent, i) for i in range(len(geoms))])


def merge_small(
    geoms: np.ndarray, comm: np.ndarray, min_area: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge pieces below ``min_area`` into their neighbour with the longest shared edge.

    Returns the new geometries, their community positions and, for each, the position of
    the input piece whose attributes it keeps (the receiving neighbour).
    """
    geoms = np.asarray(geoms, dtype=object)
    comm = np.asarray(comm, dtype=np.int64)
    rep = np.arange(len(geoms))
    if min_area <= 0 or len(geoms) < 2:
        return geoms, comm, rep
    for _ in range(50):
        areas = shapely.area(geoms)
        small = np.flatnonzero(areas < min_area)
        if len(small) == 0:
            break
        roots = _roots(geoms, comm, small, areas)
        if roots is None:
            break
        uniq, first = np.unique(roots, return_index=True)
        keep = uniq[np.argsort(first, kind="stable")]
        before = len(geoms)
        geoms, comm = _blocks._dissolve(geoms, comm, roots)
        rep = rep[keep]
        if len(geoms) == before:  # pragma: no cover - defensive
            break
    left = int((shapely.area(geoms) < min_area).sum())
    if left:
        logger.info("%d cell(s) below min_area have no neighbour in their community", left)
    return geoms, comm, rep


def merge_small_slow(
    geoms: np.ndarray, comm: np.ndarray, min_area: float
) -> tuple[np.ndarray, np.ndarray]:
    """Twin of :func:`merge_small`: one piece at a time, smallest first, plain loops.

    Gives the same cells when no two small pieces touch each other (each small piece then
    has one receiving neighbour, whatever the order).
    """
    cells = [(g, int(c)) for g, c in zip(geoms, comm, strict=True)]
    while True:
        areas = [g.area for g, _ in cells]
        order = sorted(range(len(cells)), key=lambda i: (areas[i], i))
        done = True
        for i in order:
            if areas[i] >= min_area:
                break
            gi, ci = cells[i]
            best = None
            for j, (gj, cj) in enumerate(cells):
                if j == i or not (ci == -1 or cj == ci):
                    continue
                shared = gi.boundary.intersection(gj.boundary).length
                key = (round(shared, 6), gj.area, -j)
                if shared > 0 and (best is None or key > best[0]):
                    best = (key, j)
            if best is None:
                continue
            j = best[1]
            cells[j] = (shapely.union_all([cells[j][0], gi]), cells[j][1])
            del cells[i]
            done = False
            break
        if done:
            break
    return np.array([g for g, _ in cells], dtype=object), np.array([c for _, c in cells])


def check_options(
    size: object, n: object, size_name: str, min_area: object, max_cells: object, output_crs: object
) -> None:
    """Validate the lattice options shared by ``fishnet`` and ``hexagons``."""
    if (size is None) == (n is None):
        msg = f"pass exactly one of {size_name}= (cell size) or n= (about how many cells)."
        raise ValueError(msg)
    if n is not None and (not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1):
        msg = f"n must be a positive whole number of cells, got {n!r}."
        raise ValueError(msg)
    if min_area is not None and not (
        isinstance(min_area, int | float) and math.isfinite(min_area) and min_area >= 0
    ):
        msg = f"min_area must be a number of m² >= 0 or None (a tenth of a cell), got {min_area!r}."
        raise ValueError(msg)
    if not isinstance(max_cells, int | np.integer) or isinstance(max_cells, bool) or max_cells < 1:
        msg = f"max_cells must be a positive whole number, got {max_cells!r}."
        raise ValueError(msg)
    if output_crs not in ("metric", "input"):
        msg = f"output_crs must be 'metric' or 'input', got {output_crs!r}."
        raise ValueError(msg)


def count_cells(lattice: np.ndarray, district: shapely.Geometry) -> int:
    """Lattice cells meeting the district (the count before nesting and merging)."""
    shapely.prepare(district)
    return int(shapely.intersects(lattice, district).sum())


def clean(
    geoms: np.ndarray,
    comm: np.ndarray | None,
    extra: dict[str, np.ndarray],
    min_area: float | None,
    cell_area: float,
    nested: bool,
) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
    """Merge small pieces (default below a tenth of a cell when nested, else none)."""
    limit = (cell_area / 10.0 if nested else 0.0) if min_area is None else float(min_area)
    if limit <= 0:
        return geoms, comm, extra
    c = comm if comm is not None else np.full(len(geoms), -1, dtype=np.int64)
    geoms, c, rep = merge_small(geoms, c, limit)
    outside = int((c < 0).sum()) if comm is not None else 0
    if outside:
        logger.warning(
            "%d cell(s) lie outside every community and stay without nesting codes; fix the "
            "communities layer so that it covers the district",
            outside,
        )
    return (
        geoms,
        (c if comm is not None else None),
        {k: np.asarray(v)[rep] for k, v in extra.items()},
    )
