"""Snap one grid system's boundaries onto another's, keeping it a valid coverage."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gridgeo.errors import CoverageError
from gridgeo.fusion._base import (
    check_number,
    coverage_union,
    geoms_codes,
    grid_layer,
    in_crs,
    table_html,
    target_crs,
)
from gridgeo.fusion._crosswalk import _pairs_fast
from gridgeo.grids import GridPlan

logger = logging.getLogger("gridgeo.fusion")

#: Pieces with a mean width below this (metres) are floating-point noise of intersecting
#: boundaries that coincide (or differ by micrometres after a datum round trip), not slivers.
NOISE_WIDTH = 1e-3


@dataclass(frozen=True, eq=False)
class Alignment:
    """System A with its boundaries snapped onto system B.

    Attributes
    ----------
    grids : GeoDataFrame
        A's rows (same index and columns) with the aligned geometries, in :attr:`crs`.
    moves : DataFrame
        One row per A grid, in input order: ``code``, ``moved_vertices`` (vertices of the
        original grid on a sliver it gained or lost: there its boundary now follows B),
        ``added_vertices`` (vertices of the aligned grid that the original lacked: B
        vertices taken over, new nodes),
        ``max_shift_m`` (Hausdorff distance between the original and the aligned grid),
        ``area_change_m2``.
    valid_coverage : bool
        ``shapely.coverage_is_valid`` of the aligned grids (no overlaps, matching edges).
    overlap_m2 : float
        Σ grid areas − area of their union (0 for a coverage without overlaps).
    holes_before, holes_after : int
        Interior rings (gaps) of the union of A before and after: alignment adds none.
    slivers_before, slivers_after : int
        A×B pieces thinner than the tolerance (mean width ``2·area/perimeter < tolerance``)
        but at least 1 mm wide (narrower ones are floating-point noise of coincident
        boundaries) before and after alignment.
    collapsed : tuple of str
        Codes of grids narrower than the tolerance that vanished (their area went to their
        neighbours); normally empty.
    tolerance : float
        Snapping distance in metres.
    crs : pyproj.CRS
        The metric CRS of the work and of :attr:`grids`.
    """

    grids: gpd.GeoDataFrame
    moves: pd.DataFrame
    valid_coverage: bool
    overlap_m2: float
    holes_before: int
    holes_after: int
    slivers_before: int
    slivers_after: int
    collapsed: tuple[str, ...]
    tolerance: float
    crs: CRS

    def __repr__(self) -> str:
        moved = int((self.moves["moved_vertices"] > 0).sum())
        return (
            f"Alignment({len(self.grids)} grids, {moved} changed, "
            f"{int(self.moves['moved_vertices'].sum())} vertices moved within "
            f"{self.tolerance:g} m; slivers {self.slivers_before} -> {self.slivers_after}; "
            f"valid coverage: {self.valid_coverage})"
        )

    def _repr_html_(self) -> str:
        changed = self.moves[self.moves["moved_vertices"] > 0]
        return f"<b>{html.escape(repr(self))}</b>" + table_html(changed)


def _segments(geoms: np.ndarray) -> np.ndarray:
    """Every boundary segment of the polygons as a 2-point LineString."""
    parts = shapely.get_parts(shapely.boundary(geoms))
    coords, ring_of = shapely.get_coordinates(parts, return_index=True)
    same = ring_of[1:] == ring_of[:-1]
    return shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))


def _connectors(src: np.ndarray, dst: np.ndarray, tol: float) -> np.ndarray:
    """Segments from each boundary vertex of ``src`` to the nearest point of ``dst``'s
    boundary, for vertices within ``tol`` of it (and not on it)."""
    xy = np.unique(shapely.get_coordinates(shapely.boundary(src)), axis=0)
    pts = shapely.points(xy)
    segs = _segments(dst)
    (p, k), dist = shapely.STRtree(segs).query_nearest(
        pts, max_distance=tol, return_distance=True, all_matches=False
    )
    go = dist > 0
    p, k = p[go], k[go]
    near = shapely.line_interpolate_point(segs[k], shapely.line_locate_point(segs[k], pts[p]))
    return shapely.linestrings(
        np.stack([xy[p], shapely.get_coordinates(near)], axis=1).reshape(-1, 2, 2)
    )


def _faces(ga: np.ndarray, gb: np.ndarray, tol: float) -> np.ndarray:
    """Faces of the noded union of both systems' boundaries (one valid coverage), cut across
    every sliver at each vertex of either system (short connectors to the other boundary)."""
    lines = np.concatenate(
        [
            shapely.boundary(ga),
            shapely.boundary(gb),
            _connectors(ga, gb, tol),
            _connectors(gb, ga, tol),
        ]
    )
    noded = shapely.union_all(lines)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    return faces[shapely.area(faces) > 0]


def _label(faces: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Position of the grid holding each face, -1 for none.

    The grid holding most of the face's area (at least half of it): robust for faces only
    millimetres wide, where an interior point can sit on the boundary numerically.
    """
    out = np.full(len(faces), -1, dtype=np.int64)
    f, g = shapely.STRtree(geoms).query(faces, predicate="intersects")
    shared = shapely.area(shapely.intersection(faces[f], geoms[g]))
    order = np.lexsort((g, -shared, f))
    f, g, shared = f[order], g[order], shared[order]
    first = np.r_[True, f[1:] != f[:-1]] if len(f) else np.zeros(0, dtype=bool)
    f, g, shared = f[first], g[first], shared[first]
    inside = shared * 2 >= shapely.area(faces[f])
    out[f[inside]] = g[inside]
    return out


def _edges(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of faces sharing an edge of positive length, and that length."""
    i, j = shapely.STRtree(faces).query(faces, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(faces[i]), shapely.boundary(faces[j]))
    )
    keep = shared > 0
    return i[keep], j[keep], shared[keep]


def _relabel(faces: np.ndarray, la: np.ndarray, lb: np.ndarray, tol: float) -> np.ndarray:
    """A label of every face after snapping (rule in :func:`align`)."""
    area = shapely.area(faces)
    perim = shapely.length(shapely.boundary(faces))
    thin = 2 * area < tol * perim
    la = la.copy()
    if not thin.any():
        return la
    i, j, shared = _edges(faces)
    nb_from = np.concatenate([i, j])
    nb_to = np.concatenate([j, i])
    nb_len = np.concatenate([shared, shared])
    same_b = lb[nb_from] == lb[nb_to]
    nb_from, nb_to, nb_len = nb_from[same_b], nb_to[same_b], nb_len[same_b]
    fixed = ~thin
    while True:
        ok = thin[nb_from] & ~fixed[nb_from] & fixed[nb_to]
        if not ok.any():
            break
        frame = pd.DataFrame({"f": nb_from[ok], "t": nb_to[ok], "s": nb_len[ok]})
        best = frame.sort_values(["f", "s", "t"], ascending=[True, False, True])
        best = best.drop_duplicates("f")
        f = best["f"].to_numpy()
        la[f] = la[best["t"].to_numpy()]
        fixed[f] = True
    # a thin strip of A outside B with no neighbour outside B: A follows B's outer edge
    outside = thin & ~fixed & (lb < 0)
    la[outside] = -1
    return la


def _thin_pieces(ga: np.ndarray, gb: np.ndarray, tol: float) -> int:
    _, _, pieces = _pairs_fast(ga, gb)
    area = shapely.area(pieces)
    perim = shapely.length(pieces)
    width = 2 * area / np.maximum(perim, 1e-300)
    thin = (width >= NOISE_WIDTH) & (width < tol)
    return int(thin.sum())


def _holes(geoms: np.ndarray) -> int:
    union = shapely.union_all(geoms)
    return int(shapely.get_num_interior_rings(shapely.get_parts(union)).sum())


def _vertex_changes(
    old: np.ndarray, new: np.ndarray, faces: np.ndarray, before: np.ndarray, after: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per grid: original vertices on a face it gained or lost, and vertices it gained."""
    n = len(old)
    xy, idx = shapely.get_coordinates(old, return_index=True)
    t_old = pd.DataFrame({"g": idx, "x": xy[:, 0], "y": xy[:, 1]}).drop_duplicates()
    moved = np.zeros(n, dtype=np.int64)
    changed = np.flatnonzero(before != after)
    if len(changed):
        pts = shapely.points(t_old[["x", "y"]].to_numpy())
        p, f = shapely.STRtree(faces[changed]).query(pts, predicate="dwithin", distance=1e-9)
        g = t_old["g"].to_numpy()[p]
        mine = (before[changed][f] == g) | (after[changed][f] == g)
        hit = np.unique(p[mine])
        moved = np.bincount(t_old["g"].to_numpy()[hit], minlength=n).astype(np.int64)
    xy, idx = shapely.get_coordinates(new, return_index=True)
    t_new = pd.DataFrame({"g": idx, "x": xy[:, 0], "y": xy[:, 1]}).drop_duplicates()
    both = t_new.merge(t_old, on=["g", "x", "y"], how="left", indicator=True)
    added = np.bincount(both.loc[both["_merge"] == "left_only", "g"], minlength=n)
    return moved, added.astype(np.int64)


def align(
    a: gpd.GeoDataFrame | GridPlan,
    b: gpd.GeoDataFrame | GridPlan,
    *,
    tolerance: float,
    a_code: str = "grid_code",
    b_code: str = "grid_code",
) -> Alignment:
    """Snap near-coincident boundaries of A onto B, keeping A a valid coverage.

    Method (all in one metric CRS):

    1. The boundaries of A and B, plus a short connector from every vertex of either system
       to the nearest point of the other's boundary when within ``tolerance`` (so slivers are
       cut at every vertex), are noded together and polygonized into *faces*, one valid
       coverage; each face is labelled with the A grid and the B grid holding most of its
       area (at least half; else none).
    2. A face is *thin* when its mean width ``2 · area / perimeter`` is below ``tolerance``:
       a hairline sliver between an A boundary and a nearby B boundary.
    3. Each thin face takes the A grid of the neighbouring face (sharing an edge of positive
       length) that lies in the **same B grid** (or, like it, in none), choosing the longest
       shared edge; thin faces whose neighbours are thin too follow once those are settled.
       A thin face outside B with no such neighbour (A overhanging B's outer edge by a
       hairline) leaves A. Other faces keep their A grid.
    4. Each A grid is the union of its faces.

    So where an A boundary runs within ``tolerance`` of a B boundary it now follows the B
    boundary exactly; elsewhere A is unchanged. Because every grid is a union of faces of
    one coverage, the result has no overlaps and no new gaps (hairline gaps inside A are
    filled). The result reports ``shapely.coverage_is_valid``, the overlap area and the
    holes of the union before and after.

    Parameters
    ----------
    a : GeoDataFrame or GridPlan
        The system to move: a valid coverage (no overlaps; check with
        ``shapely.coverage_is_valid``).
    b : GeoDataFrame or GridPlan
        The reference system (not moved).
    tolerance : float
        Width in metres (> 0) below which a face between the two systems' boundaries is a
        sliver to remove. Keep it below the narrowest grid width.
    a_code, b_code : str, default "grid_code"
        Code columns.

    Returns
    -------
    Alignment
        ``.grids`` (A aligned), ``.moves`` (per-grid moved/added vertex counts, largest
        shift, area change) and the coverage checks.

    Raises
    ------
    CoverageError
        A is not a valid coverage (its grids overlap or their shared edges do not match).
    ValueError
        ``tolerance`` not a positive number.
    GridgeoError
        Bad inputs, as in :func:`crosswalk`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> a = gpd.GeoDataFrame({"grid_code": ["a1", "a2"]},
    ...                      geometry=[box(0, 0, 100.4, 100), box(100.4, 0, 200, 100)], crs=4547)
    >>> b = gpd.GeoDataFrame({"grid_code": ["b1", "b2"]},
    ...                      geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=4547)
    >>> res = align(a, b, tolerance=1.0)
    >>> res.grids.area.round(6).tolist(), res.moves["moved_vertices"].tolist()
    ([10000.0, 10000.0], [2, 2])
    >>> res.valid_coverage, res.slivers_before, res.slivers_after
    (True, 1, 0)
    """
    tol = check_number(tolerance, "tolerance", positive=True)
    la = grid_layer(a, "a", a_code)
    lb = grid_layer(b, "b", b_code)
    crs = target_crs(la)
    ga, ca = geoms_codes(in_crs(la, crs), a_code)
    gb, _ = geoms_codes(in_crs(lb, crs), b_code)
    if not bool(shapely.coverage_is_valid(ga)):
        msg = (
            "a is not a valid coverage: some grids overlap or their shared edges do not match "
            "vertex for vertex (shapely.coverage_is_valid is False). Clean it first, e.g. "
            "a.set_geometry(shapely.coverage_clean(a.geometry.values))."
        )
        raise CoverageError(msg)
    faces = _faces(ga, gb, tol)
    first_owner = _label(faces, ga)
    owner = _relabel(faces, first_owner, _label(faces, gb), tol)
    new = np.empty(len(ga), dtype=object)
    collapsed = []
    order = np.argsort(owner, kind="stable")
    pos, start = np.unique(owner[order], return_index=True)
    members = dict(zip(pos.tolist(), np.split(order, start[1:]), strict=True))
    for g in range(len(ga)):
        mine = faces[members.get(g, np.zeros(0, dtype=np.int64))]
        if len(mine) == 0:
            new[g] = shapely.Polygon()
            collapsed.append(str(ca[g]))
        else:
            new[g] = coverage_union(mine)
    if collapsed:
        logger.warning("align: %d grid(s) narrower than the tolerance vanished", len(collapsed))
    n_moved, n_added = _vertex_changes(ga, new, faces, first_owner, owner)
    alive = ~shapely.is_empty(new)
    overlap = float(shapely.area(new[alive]).sum() - shapely.area(shapely.union_all(new[alive])))
    out = in_crs(la, crs).copy()
    out = out.set_geometry(gpd.GeoSeries(new, index=out.index, crs=crs))
    shift = np.full(len(ga), np.nan)
    with np.errstate(all="ignore"):  # shifts of denormal size divide by zero inside GEOS
        shift[alive] = shapely.hausdorff_distance(ga[alive], new[alive])
    moves = pd.DataFrame(
        {
            "code": pd.array(ca.astype(str), dtype="str"),
            "moved_vertices": n_moved,
            "added_vertices": n_added,
            "max_shift_m": shift,
            "area_change_m2": shapely.area(new) - shapely.area(ga),
        }
    )
    return Alignment(
        grids=out,
        moves=moves,
        valid_coverage=bool(shapely.coverage_is_valid(new[alive])),
        overlap_m2=max(overlap, 0.0),
        holes_before=_holes(ga),
        holes_after=_holes(new[alive]),
        slivers_before=_thin_pieces(ga, gb, tol),
        slivers_after=_thin_pieces(new[alive], gb, tol),
        collapsed=tuple(collapsed),
        tolerance=tol,
        crs=crs,
    )
