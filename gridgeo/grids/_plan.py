"""Grid-plan result objects and shared plumbing (private; public names live in gridgeo.grids).

Holds the frozen result dataclasses (:class:`GridPlan`, :class:`BalanceSummary`,
:class:`EditResult`, :class:`GridDiff`), input preparation, the dissolve of cells into grid
polygons with their measures, the balance summary with reasons, grid numbering and the
contiguity check shared by :func:`gridgeo.grids.build` and the editing functions.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgeo import _adjacency
from gridgeo._validate import require_columns
from gridgeo.cells._codes import CODE_PARTS, NEST_COLUMNS, normalise_part
from gridgeo.crs import to_metric
from gridgeo.errors import CodingError
from gridgeo.grids._partition import Graph

NEST_KEYS: dict[str | None, tuple[str, ...]] = {
    "community": ("admin_code", "street_code", "community_code"),
    "street": ("admin_code", "street_code"),
    None: (),
}
MAX_NUMBER = 999


# --------------------------------------------------------------------------- result objects
def _table_html(df: pd.DataFrame, limit: int = 10) -> str:
    if df is None or len(df) == 0:
        return "<p><i>none</i></p>"
    shown = pd.DataFrame(df).drop(columns="geometry", errors="ignore").head(limit)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
        for row in shown.itertuples(index=False)
    )
    more = f"<p>… {len(df) - limit} more</p>" if len(df) > limit else ""
    return f"<table><tr>{head}</tr>{rows}</table>{more}"


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value)


@dataclass(frozen=True, eq=False)
class BalanceSummary:
    """How balanced a plan is.

    Attributes
    ----------
    n_grids : int
        Number of grids.
    target : float
        Target weight per grid: ``total / n`` when built with ``n``, else the given ``target``.
        Edits keep the plan's target.
    mean, cv, max_over_mean, min_over_mean : float
        Mean grid weight, coefficient of variation (population standard deviation / mean),
        and the heaviest and lightest grid relative to the mean.
    tolerance : float
        Allowed relative deviation from the target.
    out_of_tolerance : DataFrame
        ``grid_code``, ``weight``, ``deviation`` (weight / target − 1) and ``reason`` for every
        grid outside ``±tolerance``.
    islands : DataFrame
        Connected parts of a community other than its largest: ``prefix``, ``n_cells``,
        ``weight``, ``cells`` (input index labels). Each forms its own grid(s).
    non_contiguous : tuple of str
        Grids that are not rook-contiguous (always empty for plans made by gridgeo).
    mean_polsby_popper : float
        Mean Polsby-Popper compactness ``4πA/P²`` of the grids (1 for a disc).
    notes : tuple of str
        Anything the planner should know (grid count raised for islands, …).
    """

    n_grids: int
    target: float
    mean: float
    cv: float
    max_over_mean: float
    min_over_mean: float
    tolerance: float
    out_of_tolerance: pd.DataFrame
    islands: pd.DataFrame
    non_contiguous: tuple[str, ...]
    mean_polsby_popper: float
    notes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"BalanceSummary({self.n_grids} grids, target {self.target:.4g}, CV {self.cv:.3f}, "
            f"max/mean {self.max_over_mean:.2f}, {len(self.out_of_tolerance)} outside "
            f"±{self.tolerance:.0%}, {len(self.islands)} islands, "
            f"mean Polsby-Popper {self.mean_polsby_popper:.3f})"
        )

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (
            f"<b>{html.escape(repr(self))}</b>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "<p>Grids outside tolerance:</p>"
            + _table_html(self.out_of_tolerance)
        )


@dataclass(frozen=True, eq=False)
class GridPlan:
    """A responsibility-grid plan.

    Attributes
    ----------
    grids : GeoDataFrame
        One row per grid (dissolved cells), sorted by ``grid_code``: ``grid_code``, the nesting
        columns, ``weight``, ``n_cells``, ``area_m2``, ``polsby_popper``, ``deviation``
        (weight / target − 1), ``in_tolerance``, ``locked``; in the cells' CRS.
    cells : GeoDataFrame
        The input cells (same index, CRS and columns) with a ``grid_code`` column.
    summary : BalanceSummary
        Balance report.
    cell_weight : Series
        The weight each cell counted with (the ``weight`` column, or area in m²).
    settings : dict
        ``weight``, ``nest``, ``tolerance``, ``target``, ``snap``: what edits need to re-check;
        ``locked``; ``history``: a tuple, appended to by every edit (move, merge, split,
        rename, renumber, rebalance), of one dict per edit such as
        ``{"edit": "merge", "a": ..., "b": ...}``
        (absent on a plan fresh from :func:`gridgeo.grids.build`).
    """

    grids: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    summary: BalanceSummary
    cell_weight: pd.Series
    settings: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"GridPlan({len(self.cells)} cells -> {self.summary!r})"

    def _repr_html_(self) -> str:
        return (
            f"<p><b>GridPlan</b>: {len(self.cells)} cells in {len(self.grids)} grids</p>"
            + self.summary._repr_html_()
        )

    def save(self, path: Any) -> Any:
        """Save the plan to one GeoPackage; see :func:`gridgeo.grids.save_plan`."""
        from gridgeo.grids._files import write_plan

        return write_plan(self, path)

    def plot(self, *, column: str = "deviation", ax: Any = None, cmap: str = "RdYlBu_r") -> Any:
        """Draw the grids coloured by ``column`` over their base cells (matplotlib).

        Parameters
        ----------
        column : str
            A column of :attr:`grids` (default ``deviation``, weight / target − 1).
        ax : matplotlib Axes, optional
            Where to draw; a new figure when omitted.
        cmap : str
            Matplotlib colour map.

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import gridgeo as gg
        >>> city = gg.datasets.demo_city()
        >>> cells = gg.cells.code(gg.cells.fishnet(city.district, size=600, nest=city.communities))
        >>> ax = gg.grids.build(cells, n=15).plot()
        >>> ax.get_title()
        'deviation'
        """
        import matplotlib.pyplot as plt

        require_columns(self.grids, [column], "plan.grids", params={column: "column"})
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 8))
        self.cells.boundary.plot(ax=ax, color="#999999", linewidth=0.3)
        self.grids.plot(column=column, ax=ax, cmap=cmap, legend=True, alpha=0.8)
        self.grids.boundary.plot(ax=ax, color="#222222", linewidth=0.9)
        ax.set_title(column)
        ax.set_axis_off()
        return ax

    def explore(self, *, column: str = "deviation") -> Any:
        """An interactive folium map of the grids (``GeoDataFrame.explore``), popups per grid.

        Parameters
        ----------
        column : str
            A column of :attr:`grids` to colour by.

        Returns
        -------
        folium.Map

        Examples
        --------
        >>> import gridgeo as gg
        >>> city = gg.datasets.demo_city()
        >>> cells = gg.cells.code(gg.cells.fishnet(city.district, size=600, nest=city.communities))
        >>> m = gg.grids.build(cells, n=15).explore()
        >>> type(m).__name__
        'Map'
        """
        require_columns(self.grids, [column], "plan.grids", params={column: "column"})
        shown = self.grids.drop(columns=["locked"], errors="ignore")
        return shown.explore(column=column, cmap="RdYlBu_r", tooltip=["grid_code", column])


@dataclass(frozen=True, eq=False)
class GridDiff:
    """What changed between two plans of the same cells.

    Attributes
    ----------
    cells : GeoDataFrame
        Cells whose grid changed (renames excluded): input index, ``cell_code`` if present,
        ``grid_old``, ``grid_new``, ``weight``, geometry.
    grids : GeoDataFrame
        Every grid of either plan: ``grid_code``, ``status`` (``unchanged``, ``changed``,
        ``added``, ``removed``, ``renamed``), ``renamed_from``, ``weight_old``, ``weight_new``,
        ``weight_change``, ``n_cells_old``, ``n_cells_new``; geometry of the new grid (the old
        one for removed grids).
    added, removed : tuple of str
        Grid codes only in the new / only in the old plan (renames excluded).
    renamed : dict
        ``old_code -> new_code`` for grids with the same cells under another code.
    """

    cells: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    added: tuple[str, ...]
    removed: tuple[str, ...]
    renamed: dict[str, str]

    def __repr__(self) -> str:
        changed = int((self.grids["status"] == "changed").sum())
        return (
            f"GridDiff({len(self.cells)} cells moved, {changed} grids changed, "
            f"{len(self.added)} added, {len(self.removed)} removed, {len(self.renamed)} renamed)"
        )

    @property
    def changed_grids(self) -> gpd.GeoDataFrame:
        """Grids added, removed, renamed or changed (a GeoDataFrame ready to map)."""
        return self.grids[self.grids["status"] != "unchanged"]

    def _repr_html_(self) -> str:
        return f"<b>{html.escape(repr(self))}</b>" + _table_html(self.changed_grids)


@dataclass(frozen=True, eq=False)
class EditResult:
    """A new plan and what the edit changed; unpacks as ``plan, changes = move(...)``."""

    plan: GridPlan
    changes: GridDiff

    def __iter__(self) -> Iterator[Any]:
        return iter((self.plan, self.changes))

    def __repr__(self) -> str:
        return f"EditResult({self.changes!r})"

    def _repr_html_(self) -> str:
        return self.changes._repr_html_() + self.plan.summary._repr_html_()


# --------------------------------------------------------------------------- preparation
def code_part(values: pd.Series, column: str, name: str) -> np.ndarray:
    """Zero-padded digit strings of a nesting-code column; raise :class:`ColumnError`."""
    return (
        normalise_part(values, column, CODE_PARTS[column], name).to_numpy(dtype=object).astype(str)
    )


def cell_prefix(cells: pd.DataFrame, nest: str | None, name: str) -> np.ndarray:
    """The 12-digit prefix (admin + street + community) each cell's grid code starts with."""
    keys = NEST_KEYS[nest]
    require_columns(cells, keys, name)
    n = len(cells)
    admin = (
        code_part(cells["admin_code"], "admin_code", name)
        if "admin_code" in keys
        else np.full(n, "000000", dtype=object)
    )
    if nest is None and "admin_code" in cells.columns:
        codes = code_part(cells["admin_code"], "admin_code", name)
        if len(set(codes.tolist())) == 1:
            admin = codes
    street = (
        code_part(cells["street_code"], "street_code", name)
        if "street_code" in keys
        else np.full(n, "000", dtype=object)
    )
    community = (
        code_part(cells["community_code"], "community_code", name)
        if "community_code" in keys
        else np.full(n, "000", dtype=object)
    )
    return np.array([a + s + c for a, s, c in zip(admin, street, community, strict=True)], object)


def metric_geoms(cells: gpd.GeoDataFrame) -> np.ndarray:
    """Cell geometries in a metric CRS (the layer's own when it already is one)."""
    return np.asarray(to_metric(cells).geometry.values, dtype=object)


def sub_graph(
    geoms: np.ndarray, positions: Sequence[int] | np.ndarray, weights: np.ndarray, snap: float
) -> Graph:
    """Rook graph of the cells at ``positions`` (local ids follow the given order)."""
    pos = np.asarray(positions, dtype=np.int64)
    i, j, s = _adjacency.rook_pairs(geoms[pos], snap=snap)
    nbrs, lens = _adjacency.neighbour_lists(len(pos), i, j, s)
    xy = shapely.get_coordinates(shapely.centroid(geoms[pos]))
    return Graph(nbrs, lens, np.asarray(weights, dtype=float)[pos], xy)


def check_contiguous(
    geoms: np.ndarray,
    codes: np.ndarray,
    snap: float,
    only: set[str] | None = None,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[str, ...]:
    """Grid codes whose cells are not rook-connected.

    ``pairs`` are the layer's rook pairs ``(i, j)`` when already known (with ``only=None``).
    """
    sel = np.arange(len(codes)) if only is None else np.flatnonzero(np.isin(codes, list(only)))
    if len(sel) == 0:
        return ()
    if pairs is not None and only is None:
        i, j = pairs
    else:
        i, j, _ = _adjacency.rook_pairs(geoms[sel], snap=snap)
    same = codes[sel][i] == codes[sel][j]
    comp = _adjacency.components(len(sel), i[same], j[same])
    per = pd.Series(comp).groupby(codes[sel]).nunique()
    return tuple(sorted(per.index[per.to_numpy() > 1].astype(str)))


# --------------------------------------------------------------------------- numbering
def row_height(areas: np.ndarray) -> float:
    """Median grid side rounded to the metre (at least 1 m)."""
    sides = np.sqrt(np.asarray(areas, dtype=float))
    sides = sides[np.isfinite(sides) & (sides > 0)]
    return float(max(1, round(float(np.median(sides))))) if len(sides) else 100.0


def order_of(points: np.ndarray, h: float) -> np.ndarray:
    """Positions of ``points`` in W→E / N→S reading order with row bands of height ``h``."""
    xy = shapely.get_coordinates(points)
    x, y = np.round(xy[:, 0], 2), np.round(xy[:, 1], 2)
    band = np.floor(y / h)
    return np.lexsort((np.arange(len(x)), -y, x, -band))


def number_grids(
    prefixes: np.ndarray, points: np.ndarray, h: float, taken: Mapping[str, set[int]]
) -> np.ndarray:
    """Lowest free grid numbers per prefix, handed out in reading order."""
    out = np.zeros(len(prefixes), dtype=np.int64)
    used = {p: set(v) for p, v in taken.items()}
    for pos in order_of(points, h):
        p = prefixes[pos]
        have = used.setdefault(p, set())
        num = 1
        while num in have:
            num += 1
        if num > MAX_NUMBER:
            msg = (
                f"community prefix {p} would need more than {MAX_NUMBER} grids (3-digit grid "
                "numbers); use fewer grids (n=/target=) or nest by community."
            )
            raise CodingError(msg)
        have.add(num)
        out[pos] = num
    return out


# --------------------------------------------------------------------------- assembly
def _reason(
    code: str,
    weight: float,
    target: float,
    tol: float,
    locked: bool,
    heaviest: tuple[Any, float],
    community: tuple[float, int, int],
) -> str:
    label, cell_w = heaviest
    comm_w, comm_k, comm_m = community
    upper = target * (1 + tol)
    if locked:
        return "locked by the planner"
    if weight > upper and cell_w > upper:
        return f"single cell heavier than target: cell {label!r} weighs {cell_w:.4g} > {upper:.4g}"
    avg = comm_w / max(comm_k, 1)
    if abs(avg / target - 1) > tol:
        return (
            f"community {code[:12]} weighs {comm_w:.4g}: its {comm_k} grid(s) average "
            f"{avg:.4g}, outside ±{tol:.0%} of {target:.4g} whatever the drawing"
        )
    if comm_m < 2 * comm_k:
        return f"community {code[:12]} has {comm_m} cells for {comm_k} grids (too coarse)"
    return "cells too coarse: no contiguous boundary change brings it within tolerance"


def assemble(
    cells: gpd.GeoDataFrame,
    codes: np.ndarray,
    weights: np.ndarray,
    geoms_m: np.ndarray,
    settings: dict[str, Any],
    *,
    locked: set[str] = frozenset(),  # type: ignore[assignment]
    islands: pd.DataFrame | None = None,
    notes: Sequence[str] = (),
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> GridPlan:
    """Dissolve cells into grids, measure them and summarise the balance.

    ``pairs`` are the layer's rook pairs ``(i, j)`` when the caller has them already.
    """
    codes = np.asarray(codes).astype(str)
    out_cells = cells.copy()
    out_cells["grid_code"] = pd.Series(codes, index=cells.index, dtype="str")
    frame = pd.DataFrame({"code": codes, "w": weights, "pos": np.arange(len(codes))})
    groups = frame.groupby("code", sort=True)
    grid_codes = np.array(list(groups.groups.keys()), dtype=object).astype(str)
    members = [g["pos"].to_numpy() for _, g in groups]
    geom_in = np.asarray(cells.geometry.values, dtype=object)
    union_in = np.array([shapely.union_all(geom_in[m]) for m in members], dtype=object)
    same = to_metric(cells) is cells
    union_m = (
        union_in
        if same
        else np.array([shapely.union_all(geoms_m[m]) for m in members], dtype=object)
    )
    area = shapely.area(union_m)
    perim = shapely.length(shapely.boundary(union_m))
    pp = np.where(perim > 0, 4 * math.pi * area / np.maximum(perim, 1e-300) ** 2, 0.0)
    gw = groups["w"].sum().to_numpy(dtype=float)
    target = float(settings["target"])
    tol = float(settings["tolerance"])
    dev = gw / target - 1 if target > 0 else np.zeros(len(gw))
    data: dict[str, Any] = {"grid_code": pd.array(grid_codes, dtype="str")}
    first = [m[0] for m in members]
    for col in carried_columns(cells, settings["nest"]):
        data[col] = cells[col].to_numpy()[first]
    data.update(
        weight=gw,
        n_cells=np.array([len(m) for m in members], dtype=np.int64),
        area_m2=area,
        polsby_popper=pp,
        deviation=dev,
        in_tolerance=np.abs(dev) <= tol + 1e-12,
        locked=np.isin(grid_codes, list(locked)),
    )
    grids = gpd.GeoDataFrame(data, geometry=list(union_in), crs=cells.crs)
    summary = _summary(grids, members, weights, cells.index, settings, islands, notes)
    non_contig = check_contiguous(geoms_m, codes, float(settings["snap"]), pairs=pairs)
    if non_contig:
        summary = _replace(summary, non_contiguous=non_contig)
    return GridPlan(
        grids=grids,
        cells=out_cells,
        summary=summary,
        cell_weight=pd.Series(weights, index=cells.index, name="weight"),
        settings=dict(settings),
    )


def carried_columns(cells: pd.DataFrame, nest: str | None) -> list[str]:
    """Nesting columns copied from the cells to their grid (constant inside a grid)."""
    keep = {
        "community": NEST_COLUMNS,
        "street": ("admin_code", "street_code", "street_name"),
        None: (),
    }[nest]
    return [c for c in keep if c in cells.columns]


def _replace(summary: BalanceSummary, **changes: Any) -> BalanceSummary:
    from dataclasses import replace

    return replace(summary, **changes)


def _summary(
    grids: gpd.GeoDataFrame,
    members: list[np.ndarray],
    weights: np.ndarray,
    index: pd.Index,
    settings: dict[str, Any],
    islands: pd.DataFrame | None,
    notes: Sequence[str],
) -> BalanceSummary:
    gw = grids["weight"].to_numpy(dtype=float)
    target, tol = float(settings["target"]), float(settings["tolerance"])
    mean = float(gw.mean())
    prefix = grids["grid_code"].str.slice(0, 12).to_numpy(dtype=object)
    comm = pd.DataFrame({"p": prefix, "w": gw, "m": grids["n_cells"].to_numpy()})
    comm_stats = comm.groupby("p").agg(w=("w", "sum"), k=("w", "size"), m=("m", "sum"))
    rows = []
    for pos in np.flatnonzero(~grids["in_tolerance"].to_numpy(dtype=bool)):
        mem = members[pos]
        heavy = mem[int(np.argmax(weights[mem]))]
        cs = comm_stats.loc[prefix[pos]]
        code = str(grids["grid_code"].iloc[pos])
        reason = _reason(
            code,
            gw[pos],
            target,
            tol,
            bool(grids["locked"].iloc[pos]),
            (index[heavy], float(weights[heavy])),
            (float(cs["w"]), int(cs["k"]), int(cs["m"])),
        )
        rows.append((code, gw[pos], float(grids["deviation"].iloc[pos]), reason))
    out = pd.DataFrame(rows, columns=["grid_code", "weight", "deviation", "reason"])
    if islands is None:
        islands = pd.DataFrame(columns=["prefix", "n_cells", "weight", "cells"])
    return BalanceSummary(
        n_grids=len(grids),
        target=target,
        mean=mean,
        cv=float(gw.std() / mean) if mean > 0 else 0.0,
        max_over_mean=float(gw.max() / mean) if mean > 0 else 1.0,
        min_over_mean=float(gw.min() / mean) if mean > 0 else 1.0,
        tolerance=tol,
        out_of_tolerance=out,
        islands=islands,
        non_contiguous=(),
        mean_polsby_popper=float(grids["polsby_popper"].mean()),
        notes=tuple(notes),
    )


def check_plan(plan: Any, name: str = "plan") -> GridPlan:
    """Return ``plan`` if it is a :class:`GridPlan`, else raise a TypeError naming ``name``."""
    if not isinstance(plan, GridPlan):
        msg = f"{name} must be a GridPlan from gridgeo.grids.build(), got {type(plan).__name__}."
        raise TypeError(msg)
    return plan
