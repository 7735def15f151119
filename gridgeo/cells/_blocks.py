"""Street-block cells: polygonise barrier lines, merge slivers, split large blocks.

Private engine behind :func:`gridgeo.cells.blocks`. Everything here works on plain shapely
arrays in one metric CRS; the public wrapper validates inputs and builds the GeoDataFrame.

Algorithm
---------
1. **Linework.** Barrier lines (streets, rivers, railways, polygon outlines), the district
   boundary and the community boundaries are clipped to the district's envelope and noded
   (``shapely.union_all`` splits every line at every crossing).
2. **Snapping.** A *dangle* is a line end that touches nothing else. When another line lies
   within ``snap`` metres of a dangle (an undershooting street that stops short of the street
   it should meet), a connector from the dangle to the nearest point of that line is added.
   Overshooting ends need no fix: the short stub past the crossing bounds no face and is ignored
   by polygonisation, like every other dead end.
3. **Polygonise** the noded linework into faces and keep the faces inside the district. Faces
   tile the district: the district boundary is part of the linework.
4. **Nest.** Each face takes the community containing its ``point_on_surface``.
5. **Merge slivers.** A face below ``min_area`` (or, optionally, thinner than ``min_width``
   on average) is merged into the neighbour *of the same
   community* with which it shares the longest edge; repeated until no sliver can merge. Faces
   outside every community merge into any neighbour.
6. **Split** faces above ``max_area`` into ``k = round(area / target_area)`` parts: cut across the
   long axis of the minimum rotated rectangle (the cut is parallel to its short side) at the
   offset where the area on one side is ``floor(k/2)/k`` of the whole (regula falsi on the
   offset, vectorised over all faces being cut), then recurse on both sides. Cuts are
   straight and about as short as the block is wide; parts are similar in size.
7. Non-convex blocks can fall apart into several pieces under a straight cut; pieces are
   exploded and small ones merged again as in step 5.
8. The cells are noded into an exact coverage with ``shapely.coverage_clean``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import Geometry

logger = logging.getLogger(__name__)

_BISECT_STEPS = 60
_MAX_SPLIT_DEPTH = 24


@dataclass(frozen=True)
class BlockParams:
    """Options of the block engine (validated by the public wrapper)."""

    snap: float
    min_area: float
    target_area: float
    max_area: float
    min_width: float = 0.0


def _line_parts(geoms: np.ndarray) -> np.ndarray:
    """Return every LineString part of ``geoms`` (polygons contribute their boundaries)."""
    if len(geoms) == 0:
        return np.empty(0, dtype=object)
    geoms = np.asarray(geoms, dtype=object)
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])
    geoms = geoms.copy()
    if polygonal.any():
        geoms[polygonal] = shapely.boundary(geoms[polygonal])
    parts = shapely.get_parts(geoms)
    parts = shapely.get_parts(parts)  # GeometryCollection / MultiLineString -> parts
    keep = np.isin(shapely.get_type_id(parts), [1, 2]) & ~shapely.is_empty(parts)
    parts = parts[keep]
    rings = shapely.get_type_id(parts) == 2
    if rings.any():
        parts[rings] = shapely.linestrings(shapely.get_coordinates(parts[rings]))
    return parts


def _node(lines: np.ndarray) -> np.ndarray:
    """Node lines: split at every crossing and touching, merge duplicates."""
    if len(lines) == 0:
        return lines
    noded = shapely.union_all(lines)
    return _line_parts(np.array([noded], dtype=object))


def _connectors(edges: np.ndarray, snap: float) -> np.ndarray:
    """Return short connectors from dangling line ends to the nearest other edge within ``snap``."""
    if snap <= 0 or len(edges) == 0:
        return np.empty(0, dtype=object)
    starts = shapely.get_point(edges, 0)
    ends = shapely.get_point(edges, -1)
    ends_xy = np.vstack([shapely.get_coordinates(starts), shapely.get_coordinates(ends)])
    owner = np.concatenate([np.arange(len(edges)), np.arange(len(edges))])
    _, inverse, counts = np.unique(ends_xy, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    dangling = counts[inverse] == 1
    if not dangling.any():
        return np.empty(0, dtype=object)
    d_idx = np.flatnonzero(dangling)
    d_pts = shapely.points(ends_xy[d_idx])
    d_own = owner[d_idx]
    tree = shapely.STRtree(edges)
    src, dst = tree.query(d_pts, predicate="dwithin", distance=snap)
    # Exclude the dangle's own edge. A stub overshooting a crossing by less than ``snap`` may
    # link back to the street it crossed; that adds at most a tiny face, merged as a sliver.
    ok = dst != d_own[src]
    src, dst = src[ok], dst[ok]
    if len(src) == 0:
        return np.empty(0, dtype=object)
    dist = shapely.distance(d_pts[src], edges[dst])
    order = np.lexsort((dst, dist, src))
    src, dst = src[order], dst[order]
    first = np.r_[True, src[1:] != src[:-1]]
    src, dst = src[first], dst[first]
    links = shapely.shortest_line(d_pts[src], edges[dst])
    keep = shapely.length(links) > 0
    logger.debug("snapping: %d connectors for %d dangles", int(keep.sum()), len(d_idx))
    return links[keep]


def faces(
    district: Geometry, barriers: np.ndarray, community_geoms: np.ndarray, snap: float
) -> np.ndarray:
    """Polygonise barriers + district and community boundaries into faces inside ``district``."""
    minx, miny, maxx, maxy = district.bounds
    pad = max(snap * 2.0, 1.0)
    box = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    lines = _line_parts(np.asarray(barriers, dtype=object))
    if len(lines):
        lines = _line_parts(shapely.clip_by_rect(lines, *box))
    lines = np.concatenate(
        [
            lines,
            _line_parts(np.array([district], dtype=object)),
            _line_parts(shapely.clip_by_rect(np.asarray(community_geoms, dtype=object), *box))
            if len(community_geoms)
            else np.empty(0, dtype=object),
        ]
    )
    edges = _node(lines)
    links = _connectors(edges, snap)
    if len(links):
        edges = _node(np.concatenate([edges, links]))
    polys = shapely.get_parts(shapely.polygonize(edges))
    if len(polys) == 0:
        return polys
    inner = shapely.point_on_surface(polys)
    shapely.prepare(district)
    inside = shapely.contains(district, inner) & (shapely.area(polys) > 0)
    return polys[inside]


def nest_index(geoms: np.ndarray, community_geoms: np.ndarray) -> np.ndarray:
    """Return, for each geometry, the position of the community holding it, or -1."""
    result = np.full(len(geoms), -1, dtype=np.int64)
    if len(community_geoms) == 0 or len(geoms) == 0:
        return result
    pts = shapely.point_on_surface(geoms)
    tree = shapely.STRtree(community_geoms)
    src, dst = tree.query(pts, predicate="within")
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    first = np.r_[True, src[1:] != src[:-1]] if len(src) else np.zeros(0, bool)
    result[src[first]] = dst[first]
    return result


def _find(parent: np.ndarray, i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        parent[i], i = root, parent[i]
    return root


def _shared_edges(geoms: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i in idx, j) of polygons sharing an edge, with the shared length."""
    tree = shapely.STRtree(geoms)
    src, dst = tree.query(geoms[idx], predicate="intersects")
    src = idx[src]
    ok = src != dst
    src, dst = src[ok], dst[ok]
    if len(src) == 0:
        return src, dst, np.zeros(0)
    bnd = shapely.boundary(geoms)
    shared = shapely.length(shapely.intersection(bnd[src], bnd[dst]))
    ok = shared > 0
    return src[ok], dst[ok], shared[ok]


def _slivers(geoms: np.ndarray, min_area: float, min_width: float) -> np.ndarray:
    """Positions of polygons below ``min_area`` or thinner than ``min_width`` (2·area/perimeter)."""
    areas = shapely.area(geoms)
    small = areas < min_area
    if min_width > 0:
        perimeter = shapely.length(geoms)
        width = np.where(perimeter > 0, 2.0 * areas / np.where(perimeter > 0, perimeter, 1), 0)
        small |= width < min_width
    return np.flatnonzero(small)


def merge_small(
    geoms: np.ndarray, comm: np.ndarray, min_area: float, min_width: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Merge slivers into their same-community neighbour with the longest shared edge.

    Slivers are polygons below ``min_area`` or, when ``min_width > 0``, whose mean width
    ``2 · area / perimeter`` is below ``min_width`` (strips between dual carriageways).
    Returns the new geometries and their community positions. Slivers without an eligible
    neighbour (a whole community smaller than ``min_area``) are kept and logged.
    """
    geoms = np.asarray(geoms, dtype=object)
    comm = np.asarray(comm, dtype=np.int64)
    if (min_area <= 0 and min_width <= 0) or len(geoms) < 2:
        return geoms, comm
    for _ in range(50):
        areas = shapely.area(geoms)
        small = _slivers(geoms, min_area, min_width)
        if len(small) == 0:
            break
        src, dst, shared = _shared_edges(geoms, small)
        eligible = (comm[src] == comm[dst]) | (comm[src] == -1)
        src, dst, shared = src[eligible], dst[eligible], shared[eligible]
        if len(src) == 0:
            break
        # Longest shared edge first; ties broken by the larger neighbour, then position.
        order = np.lexsort((dst, -areas[dst], -np.round(shared, 6), src))
        src, dst = src[order], dst[order]
        first = np.r_[True, src[1:] != src[:-1]]
        parent = np.arange(len(geoms))
        for i, j in zip(src[first].tolist(), dst[first].tolist(), strict=True):
            ri, rj = _find(parent, i), _find(parent, j)
            if ri != rj:
                parent[ri] = rj
        roots = np.array([_find(parent, i) for i in range(len(geoms))])
        before = len(geoms)
        geoms, comm = _dissolve(geoms, comm, roots)
        if len(geoms) == before:  # pragma: no cover - defensive
            break
    left = len(_slivers(geoms, min_area, min_width))
    if left:
        logger.info("%d sliver(s) have no neighbour in their community to merge into", left)
    return geoms, comm


def _dissolve(
    geoms: np.ndarray, comm: np.ndarray, roots: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Union polygons sharing a root; keep the order of first appearance of each root."""
    uniq, first, inverse = np.unique(roots, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    out_geoms = np.empty(len(uniq), dtype=object)
    out_comm = np.empty(len(uniq), dtype=np.int64)
    for rank, u in enumerate(order):
        members = np.flatnonzero(inverse == u)
        if len(members) == 1:
            out_geoms[rank] = geoms[members[0]]
        else:
            merged = shapely.union_all(geoms[members])
            if merged.geom_type not in ("Polygon", "MultiPolygon"):
                merged = _polygonal(merged)
            out_geoms[rank] = merged
        out_comm[rank] = comm[uniq[u]]
    return out_geoms, out_comm


def _polygonal(geom: Geometry) -> Geometry:
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), [3, 6])]
    return shapely.union_all(parts)


def _halfplanes(
    centre: np.ndarray, u: np.ndarray, v: np.ndarray, t: np.ndarray, reach: np.ndarray
) -> np.ndarray:
    """Polygons covering ``{p : (p - centre)·u <= t}`` within ``reach`` of the centre."""
    a = centre + u * t[:, None] - v * reach[:, None]
    b = centre + u * t[:, None] + v * reach[:, None]
    c = centre - u * reach[:, None] + v * reach[:, None]
    d = centre - u * reach[:, None] - v * reach[:, None]
    ring = np.stack([a, b, c, d, a], axis=1)
    return shapely.polygons(ring)


def _axes(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Centre, long-axis unit vector, short-axis unit vector and reach of each polygon."""
    rect = shapely.oriented_envelope(geoms)
    ring = shapely.get_exterior_ring(rect)
    xy, owner = shapely.get_coordinates(ring, return_index=True)
    start = np.searchsorted(owner, np.arange(len(geoms)))
    p0, p1, p2, p3 = (xy[start + k] for k in range(4))
    e1 = p1 - p0
    e2 = p2 - p1
    l1 = np.hypot(e1[:, 0], e1[:, 1])
    l2 = np.hypot(e2[:, 0], e2[:, 1])
    long_vec = np.where((l1 >= l2)[:, None], e1, e2)
    norm = np.hypot(long_vec[:, 0], long_vec[:, 1])
    norm[norm == 0] = 1.0
    u = long_vec / norm[:, None]
    v = np.stack([-u[:, 1], u[:, 0]], axis=1)
    centre = (p0 + p1 + p2 + p3) / 4.0
    reach = (l1 + l2) * 2.0 + 1.0
    return centre, u, v, reach


def _cut(geoms: np.ndarray, fraction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut each polygon across its long axis so ``fraction`` of its area lies on one side.

    The area on the low side of the cut grows monotonically with the cut's offset ``t``; the
    offset is found by regula falsi with the Illinois modification (a few vectorised
    overlays instead of the ~40 of plain bisection), to 1e-7 of the polygon's area.
    """
    centre, u, v, reach = _axes(geoms)
    coords = [shapely.get_coordinates(g) for g in geoms]
    lo = np.array([((c - m) @ d).min() for c, m, d in zip(coords, centre, u, strict=True)])
    hi = np.array([((c - m) @ d).max() for c, m, d in zip(coords, centre, u, strict=True)])
    total = shapely.area(geoms)
    goal = total * fraction
    f_lo, f_hi = -goal, total - goal
    t = (lo + hi) / 2.0
    side = np.zeros(len(geoms), dtype=np.int8)
    active = np.ones(len(geoms), dtype=bool)
    for _ in range(_BISECT_STEPS):
        k = np.flatnonzero(active)
        if len(k) == 0:
            break
        denom = f_hi[k] - f_lo[k]
        guess = np.where(
            denom > 0, (lo[k] * f_hi[k] - hi[k] * f_lo[k]) / np.where(denom > 0, denom, 1), 0
        )
        inside = (guess > lo[k]) & (guess < hi[k])
        t[k] = np.where(inside, guess, (lo[k] + hi[k]) / 2.0)
        half = _halfplanes(centre[k], u[k], v[k], t[k], reach[k])
        f = shapely.area(shapely.intersection(geoms[k], half)) - goal[k]
        done = (np.abs(f) <= 1e-7 * total[k]) | (hi[k] - lo[k] <= 1e-9 * (1 + np.abs(hi[k])))
        below = f < 0
        kb, ka = k[below], k[~below]
        lo[kb], f_lo[kb] = t[kb], f[below]
        f_hi[kb] = np.where(side[kb] == -1, f_hi[kb] / 2.0, f_hi[kb])
        side[kb] = -1
        hi[ka], f_hi[ka] = t[ka], f[~below]
        f_lo[ka] = np.where(side[ka] == 1, f_lo[ka] / 2.0, f_lo[ka])
        side[ka] = 1
        active[k[done]] = False
    half = _halfplanes(centre, u, v, t, reach)
    return shapely.intersection(geoms, half), shapely.difference(geoms, half)


def _polygon_parts(geoms: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    parts, where = shapely.get_parts(geoms, return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)
    return parts[keep], owners[where[keep]]


def split_large(
    geoms: np.ndarray, comm: np.ndarray, target_area: float, max_area: float
) -> tuple[np.ndarray, np.ndarray]:
    """Split polygons above ``max_area`` into compact parts of about ``target_area``.

    A polygon to split gets ``k = max(2, round(area / target_area))`` parts: it is cut at
    ``floor(k/2)/k`` of its area and each side is split again into its share of the ``k`` parts.
    A side that a non-convex cut breaks into pieces gets ``round(area / target_area)`` per piece.
    """
    geoms = np.asarray(geoms, dtype=object)
    comm = np.asarray(comm, dtype=np.int64)
    areas = shapely.area(geoms)
    todo_k = np.where(areas > max_area, np.maximum(2, np.round(areas / target_area)), 1)
    done_g: list[np.ndarray] = []
    done_c: list[np.ndarray] = []
    todo_g, todo_c = geoms, comm
    for _depth in range(_MAX_SPLIT_DEPTH):
        areas = shapely.area(todo_g)
        too_big = areas > max_area
        todo_k = np.where(
            too_big & (todo_k < 2), np.maximum(2, np.round(areas / target_area)), todo_k
        )
        cut = todo_k >= 2
        done_g.append(todo_g[~cut])
        done_c.append(todo_c[~cut])
        if not cut.any():
            todo_g = todo_g[:0]
            break
        g, c, k = todo_g[cut], todo_c[cut], todo_k[cut]
        k_left = np.floor(k / 2.0)
        left, right = _cut(g, k_left / k)
        sides = np.concatenate([left, right])
        parts, where = _polygon_parts(sides, np.arange(len(sides)))
        side_k = np.concatenate([k_left, k - k_left])[where]
        n_parts = np.bincount(where, minlength=len(sides))[where]
        by_area = np.maximum(1, np.round(shapely.area(parts) / target_area))
        todo_k = np.where(n_parts == 1, side_k, by_area)
        todo_g, todo_c = parts, np.concatenate([c, c])[where]
    if len(todo_g):  # pragma: no cover - defensive
        logger.warning("%d block(s) still to split after %d levels", len(todo_g), _MAX_SPLIT_DEPTH)
        done_g.append(todo_g)
        done_c.append(todo_c)
    return np.concatenate(done_g), np.concatenate(done_c)


def build(
    district: Geometry,
    barriers: np.ndarray,
    community_geoms: np.ndarray,
    params: BlockParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Run the whole block pipeline; return cell polygons and their community positions."""
    polys = faces(district, barriers, community_geoms, params.snap)
    comm = nest_index(polys, community_geoms)
    logger.info("polygonised %d faces", len(polys))
    polys, comm = merge_small(polys, comm, params.min_area, params.min_width)
    n_before = len(polys)
    polys, comm = split_large(polys, comm, params.target_area, params.max_area)
    if len(polys) == n_before:  # nothing split: polygonised faces and their unions are noded
        return polys, comm
    polys, comm = _polygon_parts(polys, comm)
    polys, comm = merge_small(polys, comm, params.min_area, params.min_width)
    return clean_coverage(polys), comm


def clean_coverage(geoms: np.ndarray) -> np.ndarray:
    """Make shared edges bit-identical (``shapely.coverage_clean``, GEOS >= 3.14).

    A straight cut ends on its block's boundary at a computed point that the neighbour across
    that edge does not have, so edges meet in T-junctions with femtometre gaps; cleaning
    nodes them so that the cells form an exact polygonal coverage. Cells that cleaning would
    empty (none in practice) are kept as they were.
    """
    if len(geoms) == 0 or not hasattr(shapely, "coverage_clean"):
        return geoms
    cleaned = np.asarray(shapely.coverage_clean(geoms), dtype=object)
    bad = shapely.is_empty(cleaned) | ~np.isin(shapely.get_type_id(cleaned), [3, 6])
    cleaned[bad] = geoms[bad]
    return cleaned


def faces_naive(district: Geometry, barriers: np.ndarray) -> np.ndarray:
    """Slow obviously-correct twin of :func:`faces` without snapping: difference with buffers.

    Used by the tests only: cutting the district by thin buffers of the barriers leaves
    one polygon per face (shrunk by ``eps``).
    """
    lines = _line_parts(np.asarray(barriers, dtype=object))
    eps = 1e-3
    cut = shapely.difference(district, shapely.union_all(shapely.buffer(lines, eps)))
    parts = shapely.get_parts(cut)
    return parts[shapely.area(parts) > 0]
