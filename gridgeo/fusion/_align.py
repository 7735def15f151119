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
    geoms_codes,
    grid_layer,
    in_crs,
    table_html,
    target_crs,
)
from gridgeo.fusion._crosswalk import _pairs_fast
from gridgeo.grids import GridPlan

logger = logging.getLogger("gridgeo.fusion")


@dataclass(frozen=True, eq=False)
class Alignment:
    """System A with its boundaries snapped onto system B.

    Attributes
    ----------
    grids : GeoDataFrame
        A's rows (same index and columns) with the aligned geometries, in :attr:`crs`.
    moves : DataFrame
        One row per A grid, in input order: ``code``, ``moved_vertices`` (vertices of the
        original grid that are no longer vertices of the aligned one: moved or merged),
        ``added_vertices`` (new vertices: B vertices taken over, new nodes),
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
        before and after alignment.
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
    """Every boundary segment of the polygons as a 2-point LineString (unique)."""
    rings = shapely.get_parts(shapely.get_rings(shapely.get_parts(geoms)))
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[1:] == ring_of[:-1]
    start, end = coords[:-1][same], coords[1:][same]
    seg = np.round(np.hstack([start, end]), 9)
    flip = (seg[:, 0] > seg[:, 2]) | ((seg[:, 0] == seg[:, 2]) & (seg[:, 1] > seg[:, 3]))
    seg[flip] = seg[flip][:, [2, 3, 0, 1]]
    seg = np.unique(seg, axis=0)
    return shapely.linestrings(seg.reshape(-1, 2, 2))


def _snap_vertices(lines: object, ref_points: np.ndarray, ref_segs: np.ndarray, tol: float):
    """Move each vertex of ``lines`` to the nearest B vertex within ``tol``, else onto the
    nearest B segment within ``tol``; vertices already on B stay exactly where they are.

    A vertex moves as a function of its coordinates only, so a vertex shared by two grids
    moves the same way in both.
    """
    v_tree = shapely.STRtree(ref_points)
    s_tree = shapely.STRtree(ref_segs)

    def move(xy: np.ndarray) -> np.ndarray:
        out = xy.copy()
        pts = shapely.points(xy)
        (src, dst), dist = v_tree.query_nearest(pts, max_distance=tol, return_distance=True)
        src, first = np.unique(src, return_index=True)
        dst, dist = dst[first], dist[first]
        go = dist > 0
        out[src[go]] = shapely.get_coordinates(ref_points[dst[go]])
        rest = np.setdiff1d(np.arange(len(xy)), src)
        if len(rest):
            (s2, d2), dist2 = s_tree.query_nearest(
                pts[rest], max_distance=tol, return_distance=True
            )
            s2, first2 = np.unique(s2, return_index=True)
            d2, dist2 = d2[first2], dist2[first2]
            go2 = dist2 > 0
            seg = ref_segs[d2[go2]]
            at = shapely.line_locate_point(seg, pts[rest][s2[go2]])
            out[rest[s2[go2]]] = shapely.get_coordinates(shapely.line_interpolate_point(seg, at))
        return out

    return shapely.transform(lines, move)


def _thin_pieces(ga: np.ndarray, gb: np.ndarray, tol: float) -> int:
    _, _, pieces = _pairs_fast(ga, gb)
    area = shapely.area(pieces)
    perim = shapely.length(pieces)
    thin = (area > 0) & (2 * area < tol * np.maximum(perim, 1e-300))
    return int(thin.sum())


def _holes(geoms: np.ndarray) -> int:
    union = shapely.union_all(geoms)
    return int(shapely.get_num_interior_rings(shapely.get_parts(union)).sum())


def _vertex_changes(old: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    def table(geoms: np.ndarray) -> pd.DataFrame:
        xy, idx = shapely.get_coordinates(geoms, return_index=True)
        return pd.DataFrame({"g": idx, "x": xy[:, 0], "y": xy[:, 1]}).drop_duplicates()

    t_old, t_new = table(old), table(new)
    both = t_old.merge(t_new, on=["g", "x", "y"], how="outer", indicator=True)
    n = len(old)
    moved = np.bincount(both.loc[both["_merge"] == "left_only", "g"], minlength=n)
    added = np.bincount(both.loc[both["_merge"] == "right_only", "g"], minlength=n)
    return moved.astype(np.int64), added.astype(np.int64)


def _faces_to_grids(ga: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Grid position of each face, -1 for faces that are holes of A.

    A face at least half inside A goes to the grid it overlaps most. A face mostly in one of
    A's holes stays a hole. Any other face (a small loop left by snapping) goes to the
    neighbouring face's grid with the longest shared edge, so snapping opens no gap.
    """
    owner = np.full(len(faces), -1, dtype=np.int64)
    if len(faces) == 0:
        return owner
    fi, gi = shapely.STRtree(ga).query(faces, predicate="intersects")
    shared = shapely.area(shapely.intersection(faces[fi], ga[gi]))
    frame = pd.DataFrame({"f": fi, "g": gi, "s": shared})
    inside = frame.groupby("f")["s"].sum()
    best = frame.sort_values(["f", "s", "g"], ascending=[True, False, True]).drop_duplicates("f")
    best = best.set_index("f")
    keep = inside.loc[best.index].to_numpy() * 2 >= shapely.area(faces[best.index.to_numpy()])
    owner[best.index.to_numpy()[keep]] = best["g"].to_numpy()[keep]
    union = shapely.get_parts(shapely.union_all(ga))
    rings, of = shapely.get_rings(union, return_index=True)
    first = np.r_[True, of[1:] != of[:-1]]  # each polygon's exterior ring comes first
    holes = shapely.polygons(rings[~first])
    left = np.flatnonzero(owner < 0)
    if len(left) and len(holes):
        in_hole = shapely.area(shapely.intersection(faces[left], shapely.union_all(holes)))
        left = left[in_hole * 2 < shapely.area(faces[left])]
    tree = shapely.STRtree(faces)
    while len(left):
        done = []
        for f in left.tolist():
            nb = tree.query(faces[f], predicate="intersects")
            nb = nb[owner[nb] >= 0]
            if len(nb) == 0:
                continue
            edge = shapely.length(
                shapely.intersection(shapely.boundary(faces[nb]), shapely.boundary(faces[f]))
            )
            if edge.max() > 0:
                owner[f] = owner[nb[int(np.argmax(edge))]]
                done.append(f)
        if not done:
            break
        left = np.setdiff1d(left, done)
    return owner


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

    1. A's boundaries are merged into one noded linework, so an edge shared by two A grids
       exists once and moves once.
    2. Every vertex of that linework moves to the nearest B vertex within ``tolerance``;
       failing one, onto the nearest point of a B edge within ``tolerance``.
    3. B vertices within ``tolerance`` of an A edge are inserted into it (``shapely.snap``).
    4. The linework is noded and polygonized; each face goes to the A grid it overlaps most
       (faces mostly outside A, such as A's holes, are left out), and each grid is the union
       of its faces.

    Because the grids are rebuilt from the faces of one linework, the result has no
    overlaps and no new gaps; the result reports ``shapely.coverage_is_valid``, the overlap
    area and the holes of the union before and after.

    Parameters
    ----------
    a : GeoDataFrame or GridPlan
        The system to move: a valid coverage (no overlaps; check with
        ``shapely.coverage_is_valid``).
    b : GeoDataFrame or GridPlan
        The reference system (not moved).
    tolerance : float
        Largest vertex move in metres (> 0). Keep it below half the narrowest grid width.
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
    lines = shapely.union_all(shapely.boundary(ga))
    ref_points = shapely.points(np.unique(shapely.get_coordinates(shapely.boundary(gb)), axis=0))
    ref_segs = _segments(gb)
    moved = _snap_vertices(lines, ref_points, ref_segs, tol)
    moved = shapely.snap(moved, shapely.multipoints(ref_points), tol)
    noded = shapely.union_all(shapely.get_parts(moved))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = faces[shapely.area(faces) > 0]
    owner = _faces_to_grids(ga, faces)
    new = np.empty(len(ga), dtype=object)
    collapsed = []
    for g in range(len(ga)):
        mine = faces[owner == g]
        if len(mine) == 0:
            new[g] = shapely.Polygon()
            collapsed.append(str(ca[g]))
        else:
            new[g] = shapely.coverage_union_all(mine) if len(mine) > 1 else mine[0]
    if collapsed:
        logger.warning("align: %d grid(s) narrower than the tolerance vanished", len(collapsed))
    n_moved, n_added = _vertex_changes(ga, new)
    alive = ~shapely.is_empty(new)
    overlap = float(shapely.area(new[alive]).sum() - shapely.area(shapely.union_all(new[alive])))
    out = in_crs(la, crs).copy()
    out = out.set_geometry(gpd.GeoSeries(new, index=out.index, crs=crs))
    moves = pd.DataFrame(
        {
            "code": pd.array(ca.astype(str), dtype="str"),
            "moved_vertices": n_moved,
            "added_vertices": n_added,
            "max_shift_m": np.where(alive, shapely.hausdorff_distance(ga, new), np.nan),
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
