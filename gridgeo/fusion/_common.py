"""Common base: the overlay of any number of grid systems into base cells."""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gridgeo.errors import CodingError
from gridgeo.fusion._base import (
    check_names,
    check_number,
    coverage_union,
    geoms_codes,
    grid_layer,
    in_crs,
    table_html,
    target_crs,
)
from gridgeo.fusion._crosswalk import polygonal
from gridgeo.grids import GridPlan

logger = logging.getLogger("gridgeo.fusion")

#: Precision grid (metres) of the overlay: coordinates are snap-rounded to it so that the
#: pieces of separate intersections and differences fit together without hairline gaps.
GRID_SIZE = 1e-6
#: Pieces below this area (m²) are rounding noise of the overlay, not cells.
NOISE_M2 = 1e-6
NEST = ("admin_code", "street_code", "community_code")
_RESERVED = {
    "cell_code",
    "grid_code",
    "area_m2",
    "geometry",
    *NEST,
    "street_name",
    "community_name",
}


@dataclass(frozen=True, eq=False)
class CommonBase:
    """Base cells from which every grid system is rebuilt as a union of cells.

    Attributes
    ----------
    cells : GeoDataFrame
        One row per base cell, in :attr:`crs`: ``cell_code``, one column per system (named
        by :attr:`names`) with the code of the grid the cell lies in (missing where the
        system does not cover it), the nesting columns when coded DB11, ``area_m2``.
    names : tuple of str
        The systems' column names.
    merged : DataFrame
        Per system: ``system``, ``slivers_merged`` (slivers whose grid in this system
        differed from the receiving cell's), ``area_reassigned_m2`` (their area: how far the
        rebuilt system can differ from the original, 0 when nothing was merged).
    n_slivers_merged : int
        Cells below ``min_area`` merged into a neighbour.
    min_area : float
        Sliver threshold in m².
    coding : str
        ``"DB11"`` (15-digit cell codes in the communities of the nesting system) or
        ``"sequence"`` (6-digit numbers in W→E / N→S order over the whole base).
    crs : pyproj.CRS
        Metric CRS of the cells.
    """

    cells: gpd.GeoDataFrame
    names: tuple[str, ...]
    merged: pd.DataFrame
    n_slivers_merged: int
    min_area: float
    coding: str
    crs: CRS

    def rebuild(self, name: str) -> gpd.GeoDataFrame:
        """One system rebuilt as the union of its cells: ``grid_code``, ``n_cells``, geometry.

        Raises
        ------
        KeyError
            ``name`` is not one of :attr:`names`.
        """
        if name not in self.names:
            msg = f"{name!r} is not a system of this base; use one of {list(self.names)}."
            raise KeyError(msg)
        cells = self.cells[self.cells[name].notna()]
        groups = cells.groupby(name, sort=True)
        geoms = [coverage_union(g.geometry.to_numpy()) for _, g in groups]
        return gpd.GeoDataFrame(
            {
                "grid_code": pd.array(list(groups.groups.keys()), dtype="str"),
                "n_cells": groups.size().to_numpy(),
            },
            geometry=geoms,
            crs=self.crs,
        )

    def __repr__(self) -> str:
        per = ", ".join(f"{n}: {self.cells[n].nunique()} grids" for n in self.names)
        return (
            f"CommonBase({len(self.cells)} cells ({self.coding} codes) from {per}; "
            f"{self.n_slivers_merged} slivers < {self.min_area:g} m² merged)"
        )

    def _repr_html_(self) -> str:
        return (
            f"<b>{html.escape(repr(self))}</b>" + table_html(self.merged) + table_html(self.cells)
        )


def _overlay(
    p: np.ndarray, labels: np.ndarray, g: np.ndarray, codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Union overlay of pieces ``p`` (with label rows) and grids ``g`` (one new label)."""
    ip, ig = shapely.STRtree(g).query(p, predicate="intersects")
    inter = polygonal(shapely.intersection(p[ip], g[ig], grid_size=GRID_SIZE))
    keep = shapely.area(inter) > NOISE_M2
    out_geoms = [inter[keep]]
    new_col = np.full(len(p), None, dtype=object)
    out_labels = [np.column_stack([labels[ip[keep]], codes[ig[keep]]])]
    # what of each piece lies in no grid of g, and what of each grid lies in no piece
    for src, dst, src_geoms, dst_geoms in ((ip, ig, p, g), (ig, ip, g, p)):
        order = np.argsort(src, kind="stable")
        pos, start = np.unique(src[order], return_index=True)
        partners = np.split(dst[order], start[1:]) if len(pos) else []
        covered = np.array(
            [shapely.union_all(dst_geoms[js], grid_size=GRID_SIZE) for js in partners],
            dtype=object,
        )
        rest = src_geoms.copy()
        if len(pos):
            rest[pos] = polygonal(shapely.difference(src_geoms[pos], covered, grid_size=GRID_SIZE))
        keep = shapely.area(rest) > NOISE_M2
        out_geoms.append(rest[keep])
        if src_geoms is p:
            out_labels.append(np.column_stack([labels[keep], new_col[keep]]))
        else:
            empty = np.full((int(keep.sum()), labels.shape[1]), None, dtype=object)
            out_labels.append(np.column_stack([empty, codes[keep]]))
    return np.concatenate(out_geoms), np.vstack(out_labels)


def _explode(geoms: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    parts, idx = shapely.get_parts(geoms, return_index=True)
    keep = shapely.area(parts) > NOISE_M2
    return parts[keep], labels[idx[keep]]


def _merge_slivers(
    geoms: np.ndarray, labels: np.ndarray, min_area: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merge cells below ``min_area`` into a neighbour (rule in :func:`common_base`)."""
    geoms, labels = geoms.copy(), labels.copy()
    alive = np.ones(len(geoms), dtype=bool)
    k = labels.shape[1]
    n_merged = np.zeros(k, dtype=np.int64)
    moved_area = np.zeros(k)
    stuck: set[int] = set()
    while True:
        area = shapely.area(geoms)
        cand = np.flatnonzero(alive & (area < min_area))
        cand = np.array([c for c in cand if c not in stuck], dtype=np.int64)
        if len(cand) == 0:
            break
        s = int(cand[np.lexsort((cand, area[cand]))[0]])
        nbrs = np.flatnonzero(alive & shapely.intersects(geoms, geoms[s]))
        nbrs = nbrs[nbrs != s]
        edge = shapely.length(
            shapely.intersection(shapely.boundary(geoms[nbrs]), shapely.boundary(geoms[s]))
        )
        nbrs, edge = nbrs[edge > 0], edge[edge > 0]
        if len(nbrs) == 0:
            stuck.add(s)
            continue
        agree = np.array(
            [sum(labels[n, c] == labels[s, c] for c in range(k)) for n in nbrs.tolist()]
        )
        best = int(nbrs[np.lexsort((nbrs, -edge, -agree))[0]])
        differs = np.array([labels[best, c] != labels[s, c] for c in range(k)])
        n_merged += differs
        moved_area += differs * area[s]
        geoms[best] = shapely.union(geoms[best], geoms[s], grid_size=GRID_SIZE)
        alive[s] = False
    return geoms[alive], labels[alive], n_merged, moved_area


def _reading_order(geoms: np.ndarray) -> np.ndarray:
    """Positions in the cell-code reading order: bands of the median cell side N→S, W→E."""
    xy = np.round(shapely.get_coordinates(shapely.centroid(geoms)), 2)
    sides = np.sqrt(shapely.area(geoms))
    h = float(max(1, round(float(np.median(sides))))) if len(sides) else 100.0
    band = np.floor(xy[:, 1] / h)
    return np.lexsort((np.arange(len(geoms)), -xy[:, 1], xy[:, 0], -band))


def _nesting_system(layers: list[gpd.GeoDataFrame], labels: np.ndarray) -> int | None:
    for s, layer in enumerate(layers):
        if all(c in layer.columns for c in NEST) and all(x is not None for x in labels[:, s]):
            return s
    return None


def _code_cells(
    cells: gpd.GeoDataFrame, layers: list[gpd.GeoDataFrame], codes: Sequence[str], names: list[str]
) -> tuple[gpd.GeoDataFrame, str]:
    from gridgeo.cells import code as db11

    labels = cells[names].to_numpy(dtype=object)
    labels = np.where(pd.isna(labels), None, labels)
    s = _nesting_system(layers, labels)
    if s is not None:
        lookup = layers[s].assign(_k=layers[s][codes[s]].astype(str)).set_index("_k")
        extra = [c for c in ("street_name", "community_name") if c in lookup.columns]
        nest = lookup.loc[cells[names[s]].astype(str), [*NEST, *extra]]
        with_nest = cells.assign(**{c: nest[c].to_numpy() for c in [*NEST, *extra]})
        try:
            coded = db11(with_nest)
        except CodingError as err:
            logger.info("common_base: DB11 coding impossible (%s); using sequence codes", err)
        else:
            return coded, "DB11"
    order = _reading_order(np.asarray(cells.geometry.values, dtype=object))
    seq = np.empty(len(cells), dtype=np.int64)
    seq[order] = np.arange(1, len(cells) + 1)
    out = cells.copy()
    out["cell_code"] = pd.array([f"{n:06d}" for n in seq], dtype="str")
    return out, "sequence"


def common_base(
    *systems: gpd.GeoDataFrame | GridPlan,
    names: Sequence[str] | None = None,
    codes: str | Sequence[str] = "grid_code",
    min_area: float = 1.0,
) -> CommonBase:
    """Overlay grid systems into base cells from which each system is rebuilt exactly.

    The systems are brought into the metric CRS of the first (its own if metric, else
    :func:`gridgeo.crs.local_crs`) and overlaid one after the other (union overlay: pieces
    covered by only some systems are kept, their other columns missing), with coordinates
    snap-rounded to a 1 µm grid so separate intersections fit together. Every piece is cut
    into its connected parts; each part is a base cell.

    **Sliver rule.** While a cell smaller than ``min_area`` has a neighbour sharing an edge
    of positive length, the smallest such cell is merged into the neighbour that (1) lies in
    the same grid in the most systems, then (2) shares the longest edge with it, then (3)
    comes first. Where the receiving cell lies in another grid of a system, that system's
    rebuilt grids differ from the original by the sliver's area; :attr:`CommonBase.merged`
    reports it per system (``min_area=0`` merges nothing and rebuilds every system exactly,
    to the 1 µm rounding). Slivers with no edge neighbour stay.

    **Codes.** When a system has the nesting columns ``admin_code``, ``street_code`` and
    ``community_code`` and covers every cell, the cells take those columns from its grids and
    are coded with :func:`gridgeo.cells.code` (15-digit DB11 codes). Otherwise (or when a
    community would need more than 999 codes) ``cell_code`` is a 6-digit sequence over the
    whole base in the same reading order: row bands of the median cell side from north to
    south, west to east inside a band.

    Parameters
    ----------
    *systems : GeoDataFrame or GridPlan
        Two or more grid systems (Polygon/MultiPolygon layers with a CRS and unique codes).
    names : list of str, optional
        Column name of each system in the result; default ``"A"``, ``"B"``, ….
    codes : str or list of str, default "grid_code"
        Code column of every system, or one per system.
    min_area : float, default 1.0
        Cells below this area (m²) are slivers and merged as above; 0 keeps them all.

    Returns
    -------
    CommonBase
        ``.cells`` with ``cell_code``, one column per system, ``area_m2``; ``.rebuild(name)``.

    Raises
    ------
    ValueError
        Fewer than two systems, bad ``names``/``codes`` or a negative ``min_area``.
    GridgeoError
        Bad inputs, as in :func:`crosswalk` (the messages name ``systems[i]``).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> a = gpd.GeoDataFrame({"grid_code": ["a1", "a2"]},
    ...                      geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=4547)
    >>> b = gpd.GeoDataFrame({"grid_code": ["b1", "b2"]},
    ...                      geometry=[box(0, 0, 50, 100), box(50, 0, 200, 100)], crs=4547)
    >>> base = common_base(a, b, names=["urban", "police"])
    >>> base.cells[["cell_code", "urban", "police", "area_m2"]].values.tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [['000001', 'a1', 'b1', 5000.0], ['000002', 'a1', 'b2', 5000.0],
     ['000003', 'a2', 'b2', 10000.0]]
    >>> base.rebuild("police")["n_cells"].tolist()
    [1, 2]
    """
    if len(systems) < 2:
        msg = f"common_base needs at least two grid systems, got {len(systems)}."
        raise ValueError(msg)
    k = len(systems)
    names = check_names(names, k, [chr(ord("A") + i) if i < 26 else f"S{i}" for i in range(k)])
    clash = sorted(set(names) & _RESERVED)
    if clash:
        msg = f"names {clash} clash with the result's own columns; choose other system names."
        raise ValueError(msg)
    code_cols = [codes] * k if isinstance(codes, str) else list(codes)
    if len(code_cols) != k:
        msg = f"codes must be one column name or one per system ({k}), got {codes!r}."
        raise ValueError(msg)
    min_a = check_number(min_area, "min_area")
    pairs = enumerate(zip(systems, code_cols, strict=True))
    layers = [grid_layer(s, f"systems[{i}]", c) for i, (s, c) in pairs]
    crs = target_crs(layers[0])
    geoms, labels = None, None
    for layer, col in zip(layers, code_cols, strict=True):
        g, c = geoms_codes(in_crs(layer, crs), col)
        g = shapely.set_precision(g, GRID_SIZE)
        if geoms is None:
            geoms, labels = g, c.reshape(-1, 1)
        else:
            geoms, labels = _overlay(geoms, labels, g, c)
    geoms, labels = _explode(geoms, labels)
    n_merged = np.zeros(k, dtype=np.int64)
    moved = np.zeros(k)
    n_before = len(geoms)
    if min_a > 0:
        geoms, labels, n_merged, moved = _merge_slivers(geoms, labels, min_a)
    data = {n: pd.array(labels[:, s], dtype="str") for s, n in enumerate(names)}
    cells = gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs)
    cells["area_m2"] = shapely.area(geoms)
    cells, coding = _code_cells(cells, layers, code_cols, names)
    front = ["cell_code", *names]
    cells = cells[front + [c for c in cells.columns if c not in front]]
    cells = cells.sort_values("cell_code", kind="stable").reset_index(drop=True)
    merged = pd.DataFrame(
        {"system": names, "slivers_merged": n_merged, "area_reassigned_m2": moved}
    )
    return CommonBase(
        cells=cells,
        names=tuple(names),
        merged=merged,
        n_slivers_merged=n_before - len(geoms),
        min_area=min_a,
        coding=coding,
        crs=crs,
    )
