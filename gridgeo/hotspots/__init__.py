"""Where and when problems concentrate: counts, kernel density, Gi* hot spots, trends, warnings.

* :func:`counts` — reports per cell or grid (by category/source, by time bin), with rates.
* :func:`kde` — kernel density surface (:class:`DensitySurface`): PNG overlay, contours.
* :func:`gistar` — Getis-Ord Gi* hot and cold spots with ArcGIS-style ``gi_bin`` and FDR.
* :func:`incremental_morans` — global Moran's I by distance band (the "optimized" band).
* :func:`emerging` — space-time Gi* and Emerging Hot Spot categories (:class:`EmergingHotspots`).
* :func:`warnings` — blue / yellow / red warning levels with reasons (:class:`WarningRules`).
* :func:`time_profile` — counts by hour of day x weekday.

Only reports whose ``status`` is ``"assigned"`` or ``"snapped"`` are counted (when the
column exists).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm import tqdm

from gridgeo._validate import (
    require_columns,
    require_crs,
    require_geodataframe,
    require_geom_types,
    require_metric,
    require_nonempty,
    require_positive,
    require_unique,
)
from gridgeo.errors import ColumnError, EmptyInputError
from gridgeo.hotspots import _emerging, _gistar, _kde, _warnings

__all__ = [
    "DensitySurface",
    "EmergingHotspots",
    "WarningRules",
    "count_chunks",
    "counts",
    "emerging",
    "gistar",
    "incremental_morans",
    "kde",
    "time_profile",
    "warnings",
]

logger = logging.getLogger(__name__)

COUNTED_STATUS = ("assigned", "snapped")


# --------------------------------------------------------------------------- helpers
def _counted(assigned: pd.DataFrame, name: str) -> pd.DataFrame:
    if not isinstance(assigned, pd.DataFrame):
        msg = f"{name} must be a (Geo)DataFrame of assigned reports, got {type(assigned).__name__}."
        raise TypeError(msg)
    if "status" in assigned.columns:
        return assigned.loc[assigned["status"].isin(COUNTED_STATUS)]
    return assigned


def _key_of(layer: pd.DataFrame, key: str | None, name: str) -> str:
    if key is not None:
        require_columns(layer, [key], name, params={key: "key"})
        return key
    for k in ("cell_code", "grid_code"):
        if k in layer.columns:
            return k
    msg = f"{name} has neither 'cell_code' nor 'grid_code'; pass key='<your code column>'."
    raise ColumnError(msg)


def _areas_km2(layer: gpd.GeoDataFrame) -> np.ndarray:
    if "area_m2" in layer.columns:
        return layer["area_m2"].to_numpy(dtype=np.float64) / 1e6
    require_crs(layer, "cells")
    crs = _kde.metric_crs(layer)
    geo = layer.geometry if crs is layer.crs else layer.geometry.to_crs(crs)
    return geo.area.to_numpy() / 1e6


def _rates(out: pd.DataFrame, area_km2: np.ndarray, population: np.ndarray | None) -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        out["per_km2"] = np.where(area_km2 > 0, out["count"] / area_km2, np.nan)
        if population is not None:
            out["per_1000"] = np.where(population > 0, out["count"] / population * 1000, np.nan)


# --------------------------------------------------------------------------- counts
def counts(
    assigned: pd.DataFrame,
    cells: gpd.GeoDataFrame,
    *,
    by: str | None = None,
    freq: str | None = None,
    key: str | None = None,
    time: str = "reported_at",
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Count reports per cell or grid, with rates per km² and per 1,000 residents.

    Parameters
    ----------
    assigned : DataFrame
        Assigned reports with the code column ``key`` (and ``status``: only ``"assigned"`` and
        ``"snapped"`` rows are counted when the column exists).
    cells : GeoDataFrame
        Cells (``cell_code``) or grids (``grid_code``); rows keep their index and order.
    by : str, optional
        A report column (``"category_code"``, ``"source"``...): adds one ``count_<value>``
        column per value (wide form).
    freq : str, optional
        Pandas period alias (``"D"``, ``"W"``, ``"M"``, ``"Q"``): return the long table
        ``key, period, [by,] count, per_km2, per_1000`` with every cell x period present
        (zeros included) instead of the layer. ``period`` is the period's start time.
    key : str, optional
        Code column joining reports to ``cells``; default ``cell_code`` if ``cells`` has it,
        else ``grid_code``.
    time : str
        Report time column, used with ``freq``.

    Returns
    -------
    GeoDataFrame or DataFrame
        Without ``freq``: a copy of ``cells`` with ``count`` (0 where no report), optional
        ``count_<value>`` columns, ``per_km2`` (area from ``area_m2`` or the geometry in a
        metric CRS) and ``per_1000`` (when ``cells`` has ``population``; NaN where it is 0).
        With ``freq``: a long DataFrame (see ``freq``).

    Raises
    ------
    ColumnError
        A required column is missing, or times cannot be parsed.
    DuplicateIdError
        The codes in ``cells`` are not unique.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> cells = gpd.GeoDataFrame({"cell_code": ["a", "b"]},
    ...                          geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
    ...                          crs="EPSG:4547")
    >>> reps = pd.DataFrame({"cell_code": ["a", "a", "b"],
    ...                      "status": ["assigned", "snapped", "outside"]})
    >>> counts(reps, cells)[["cell_code", "count", "per_km2"]]
      cell_code  count  per_km2
    0         a      2    200.0
    1         b      0      0.0
    """
    cells = require_geodataframe(cells, "cells")
    key = _key_of(cells, key, "cells")
    require_unique(cells[key], key, "cells")
    rep = _counted(assigned, "assigned")
    require_columns(
        rep,
        [key] + ([by] if by else []),
        "assigned",
        params={key: "key", **({by: "by"} if by else {})},
    )
    known = rep[key].isin(cells[key])
    if (~known).any():
        logger.warning("%d counted reports have a %s not in cells; ignored", (~known).sum(), key)
    rep = rep.loc[known]
    area = _areas_km2(cells)
    pop = cells["population"].to_numpy(dtype=np.float64) if "population" in cells else None
    codes = pd.Index(cells[key])
    if freq is None:
        out = cells.copy()
        pos = codes.get_indexer(rep[key])
        out["count"] = np.bincount(pos, minlength=len(cells)).astype(np.int64)
        if by is not None:
            for value, grp in rep.groupby(by, sort=True):
                gpos = codes.get_indexer(grp[key])
                out[f"count_{value}"] = np.bincount(gpos, minlength=len(cells)).astype(np.int64)
        _rates(out, area, pop)
        return out
    t = _emerging.parse_times(rep, time, "assigned")
    out = _emerging.period_counts(rep, t, freq=freq, key=key, codes=codes, by=by)
    at = codes.get_indexer(out[key])
    _rates(out, area[at], None if pop is None else pop[at])
    return out


# --------------------------------------------------------------------------- kde
@dataclass(frozen=True, repr=False)
class DensitySurface:
    """A kernel density raster (reports per km²) with its georeferencing.

    ``array[row, col]``: row 0 is the northern edge. ``transform`` is the affine 6-tuple
    ``(pixel, 0, west, 0, -pixel, north)`` (rasterio / GDAL order ``a, b, c, d, e, f``).
    Pixels outside ``area`` are NaN.
    """

    array: np.ndarray
    transform: tuple[float, float, float, float, float, float]
    crs: Any
    bounds: tuple[float, float, float, float]
    bandwidth: float
    pixel: float
    kernel: str
    n_points: int

    def __repr__(self) -> str:
        r, c = self.array.shape
        mx = float(np.nanmax(self.array)) if np.isfinite(self.array).any() else 0.0
        return (
            f"DensitySurface({r}x{c} px of {self.pixel:g} m, {self.kernel} bandwidth "
            f"{self.bandwidth:.0f} m, {self.n_points} points, max {mx:.1f}/km²)"
        )

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>"

    def bounds_latlon(self) -> list[list[float]]:
        """``[[south, west], [north, east]]`` in WGS 84, as folium's ImageOverlay wants.

        Examples
        --------
        >>> import numpy as np
        >>> s = DensitySurface(np.zeros((1, 1)), (100.0, 0.0, 500000.0, 0.0, -100.0, 2.5e6),
        ...                    "EPSG:4547", (500000.0, 2499900.0, 500100.0, 2.5e6),
        ...                    100.0, 100.0, "quartic", 0)
        >>> [[round(v, 3) for v in pair] for pair in s.bounds_latlon()]
        [[22.597, 114.0], [22.598, 114.001]]
        """
        return _kde.bounds_latlon(self.bounds, self.crs)

    def to_png(self, path: Any, *, cmap: str = "YlOrRd", opacity: float = 0.8) -> None:
        """Write the surface as an RGBA PNG (transparent where density is ~0 or NaN).

        Written atomically (temporary file in the same folder, then ``os.replace``).
        """
        _kde.write_png(self.array, path, cmap, opacity)

    def contours(self, levels: int | list[float] = 5) -> gpd.GeoDataFrame:
        """Filled contour bands as polygons: columns ``level_min``, ``level_max``, geometry.

        ``levels`` is a number of bands between 0 (exclusive) and the maximum, or explicit
        band edges in reports per km². Bands with no area are omitted.
        """
        return _kde.contour_bands(self.array, self.transform, self.crs, levels)


def kde(
    assigned: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame,
    *,
    bandwidth: float | None = None,
    pixel: float | None = None,
    kernel: str = "quartic",
) -> DensitySurface:
    """Kernel density of reports on a raster covering ``area``.

    Points are binned to pixels and convolved with the kernel by FFT (no per-point loop).

    Parameters
    ----------
    assigned : GeoDataFrame
        Report points (only ``assigned``/``snapped`` rows when ``status`` exists).
    area : GeoDataFrame
        Polygons of the study area: the raster covers their bounds; pixels whose centre is
        outside are NaN.
    bandwidth : float, optional
        Kernel bandwidth in metres: the search radius of the ``"quartic"`` kernel or the
        standard deviation of the ``"gaussian"`` one (truncated at 4 sigma). Default: the
        spatial Silverman rule ``0.9 * min(SD, sqrt(1/ln 2) * Dm) * n**-0.2`` (SD: standard
        distance, Dm: median distance to the mean centre), as ArcGIS Pro's Kernel Density.
    pixel : float, optional
        Pixel size in metres; default the longer side of the area / 400, at least 1 m.
    kernel : {"quartic", "gaussian"}
        Kernel shape; both integrate to one point.

    Returns
    -------
    DensitySurface
        Reports per km², in ``area``'s CRS if metric, else in ``gridgeo.crs.local_crs``.

    Raises
    ------
    EmptyInputError
        No counted report or no area.
    CRSError
        A layer has no CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box, Point
    >>> area = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs="EPSG:4547")
    >>> pts = gpd.GeoDataFrame(geometry=[Point(500, 500), Point(520, 480)], crs="EPSG:4547")
    >>> surf = kde(pts, area, bandwidth=200, pixel=50)
    >>> surf.array.shape, round(float(surf.array.sum() * 0.05**2), 1)
    ((20, 20), 2.0)
    """
    if kernel not in {"quartic", "gaussian"}:
        msg = f"kernel must be 'quartic' or 'gaussian', got {kernel!r}."
        raise ValueError(msg)
    area = require_geodataframe(area, "area")
    require_nonempty(area, "area")
    require_crs(area, "area")
    pts = require_geodataframe(_counted(assigned, "assigned"), "assigned")
    require_crs(pts, "assigned")
    require_nonempty(pts, "assigned (counted rows)")
    require_geom_types(pts, ["Point"], "assigned")
    crs = _kde.metric_crs(area)
    area_m = area.to_crs(crs)
    xy = shapely.get_coordinates(pts.to_crs(crs).geometry.values)
    if bandwidth is None:
        bandwidth = _kde.default_bandwidth(xy) if len(xy) > 1 else 0.0
        if not bandwidth > 0:
            msg = "cannot derive a bandwidth from fewer than 2 distinct points; pass bandwidth=."
            raise ValueError(msg)
    require_positive(bandwidth, "bandwidth")
    w, s, e, n = map(float, area_m.total_bounds)
    if pixel is None:
        pixel = max(1.0, max(e - w, n - s) / 400.0)
    require_positive(pixel, "pixel")
    dens, transform, bounds = _kde.surface(xy, area_m, pixel, float(bandwidth), kernel)
    return DensitySurface(
        array=dens,
        transform=transform,
        crs=crs,
        bounds=bounds,
        bandwidth=float(bandwidth),
        pixel=float(pixel),
        kernel=kernel,
        n_points=len(xy),
    )


# --------------------------------------------------------------------------- Gi*
def incremental_morans(
    cells: gpd.GeoDataFrame,
    value: str,
    *,
    distances: list[float] | None = None,
    n_bands: int = 10,
) -> pd.DataFrame:
    """Global Moran's I of ``value`` for increasing distance bands (binary weights).

    Default bands: start at the largest nearest-neighbour distance between cell centroids
    (every cell has a neighbour), increase by the mean nearest-neighbour distance, ``n_bands``
    bands. z-scores are under the normality assumption (esda ``Moran(...).z_norm``).

    Returns
    -------
    DataFrame
        ``distance``, ``moran_i``, ``z``, ``n_pairs`` and ``peak`` (True at local maxima of z).

    Examples
    --------
    >>> import geopandas as gpd, numpy as np
    >>> from shapely import box
    >>> g = [box(x, y, x + 100, y + 100) for y in range(0, 500, 100) for x in range(0, 500, 100)]
    >>> cells = gpd.GeoDataFrame({"v": np.arange(25.0)}, geometry=g, crs="EPSG:4547")
    >>> incremental_morans(cells, "v", n_bands=3)["distance"].tolist()
    [100.0, 200.0, 300.0]
    """
    cells = require_geodataframe(cells, "cells")
    require_metric(cells, "cells")
    require_columns(cells, [value], "cells", params={value: "value"})
    xy = _gistar.centroids(cells)
    y = cells[value].to_numpy(dtype=np.float64)
    return _gistar.moran_bands(xy, y, distances, n_bands)


def gistar(
    cells: gpd.GeoDataFrame,
    value: str,
    *,
    neighbours: str | float = "queen",
    permutations: int = 0,
    fdr: bool = True,
    seed: int = 0,
    null: str = "values",
) -> gpd.GeoDataFrame:
    """Getis-Ord Gi* hot and cold spots of ``cells[value]``.

    Binary weights with the cell itself included (Gi*, ``star=True``). The analytic z-score
    is esda's ``G_Local(y, w, transform="B", star=True).Zs``: with ``S_i`` the sum of ``y``
    over the neighbourhood of ``i`` (self included), ``k_i`` its size, ``n`` cells, mean
    ``m`` and population variance ``v`` of ``y``::

        G_i = S_i / sum(y);  E = k_i / n;  Var = k_i (n - k_i) / ((n - 1) n²) * v / m²
        z_i = (G_i - E) / sqrt(Var)

    ``gi_p`` is two-sided:

    * analytic (default): ``2 * (1 - Phi(|z|))`` (twice esda's one-sided ``p_norm``);
    * ``permutations > 0``: conditional randomisation (each cell keeps its value, its
      neighbours are drawn from the other cells), folded pseudo p-value with **ties counted
      toward both tails**: ``min(1, 2 * (min(#sim >= obs, #sim <= obs) + 1) / (P + 1))``.
      Without ties this is twice esda's "directed" ``p_sim``; with ties (sparse counts) an
      empty cell among empty neighbours is not a cold spot, and a constant ``value`` gives
      p = 1. Permutations share one set of random draws across cells, as esda does. When
      most values are zero a :class:`~gridgeo.hotspots._gistar.SparseValuesWarning` is raised;
    * ``null="multinomial"`` (for counts): exact p under random placement of the reports:
      given the cell's own count, each other report falls in any other cell with equal
      probability, so the neighbours' sum is Binomial(N - y_i, (k_i - 1) / (n - 1));
      ``p = min(1, 2 * min(P(X >= obs), P(X <= obs)))``. No permutations are drawn.

    ``gi_bin`` follows ArcGIS Pro's Gi_Bin: ±3, ±2, ±1 when the p-value is <= 0.01, 0.05,
    0.10 (sign of z), else 0. With ``fdr=True`` the p-values compared are the
    Benjamini-Hochberg adjusted ones (``gi_p_fdr``, equal to
    ``scipy.stats.false_discovery_control(gi_p)``); a cell is significant at a level exactly
    when BH at that false discovery rate rejects it. ``gi_z``/``gi_p`` are never adjusted.

    Islands (cells with no neighbour) get ``gi_z``/``gi_p`` NaN and ``gi_bin`` 0 and are left
    out of the FDR correction: a one-cell neighbourhood is not a cluster. A constant
    ``value`` gives z 0, p 1 everywhere.

    Regular fishnets (axis-aligned rectangles of one size on one lattice; missing lattice
    positions allowed) are computed by 2-D correlation on a raster; any other cells use a
    sparse weights matrix. Both give the same numbers.

    Parameters
    ----------
    cells : GeoDataFrame
        Polygons with the numeric column ``value`` (e.g. the output of :func:`counts`).
    value : str
        Column analysed.
    neighbours : "queen", "rook", "optimized" or float
        Queen (shared vertex) or rook (shared edge) contiguity, a distance band in metres
        between centroids (``<=``), or ``"optimized"``: the distance of the first peak of
        :func:`incremental_morans` z-scores (if there is none, the band with the largest z),
        as ArcGIS's Optimized Hot Spot Analysis does. The band used is logged and stored in
        ``result.attrs["gistar"]``.
    permutations : int
        0 for analytic p-values; else the number of conditional permutations (e.g. 999).
    fdr : bool
        Apply the False Discovery Rate correction to ``gi_bin``.
    seed : int
        Random seed of the permutations.
    null : {"values", "multinomial"}
        Null hypothesis of the p-values: ``"values"`` (analytic or permutations of the
        values) or ``"multinomial"`` (exact, for non-negative integer counts).

    Returns
    -------
    GeoDataFrame
        A copy of ``cells`` with ``gi_z``, ``gi_p``, ``gi_p_fdr`` and ``gi_bin``.

    Raises
    ------
    ColumnError
        ``value`` is missing or not numeric / has NaN.
    CRSError
        A distance band on cells without a metric CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> g = [box(x, y, x + 100, y + 100) for y in range(0, 1000, 100) for x in range(0, 1000, 100)]
    >>> v = [9 if (x < 3 and y < 3) else 0 for y in range(10) for x in range(10)]
    >>> cells = gpd.GeoDataFrame({"count": v}, geometry=g, crs="EPSG:4547")
    >>> out = gistar(cells, "count")
    >>> int(out["gi_bin"].iloc[11]), round(float(out["gi_z"].iloc[11]), 2)
    (3, 9.95)
    """
    cells = require_geodataframe(cells, "cells")
    require_nonempty(cells, "cells")
    require_columns(cells, [value], "cells", params={value: "value"})
    if not pd.api.types.is_numeric_dtype(cells[value]) or cells[value].isna().any():
        msg = f"cells column {value!r} must be numeric without NaN; fill missing values with 0."
        raise ColumnError(msg)
    _gistar.check_options(neighbours, permutations, null)
    if null == "multinomial" and ((cells[value] < 0).any() or (cells[value] % 1 != 0).any()):
        msg = f"null='multinomial' needs counts: cells column {value!r} has negative or "
        msg += "non-integer values; use null='values'."
        raise ColumnError(msg)
    if not isinstance(neighbours, str) or neighbours == "optimized":
        require_metric(cells, "cells")
    else:
        require_geom_types(cells, ["Polygon", "MultiPolygon"], "cells")
    info: dict[str, Any] = {
        "neighbours": neighbours,
        "permutations": permutations,
        "fdr": fdr,
        "null": null,
    }
    if neighbours == "optimized":
        neighbours, peak_found = _gistar.choose_band(incremental_morans(cells, value))
        info["distance_m"] = neighbours
        info["peak_found"] = peak_found
        logger.info("optimized Gi* distance band: %.1f m (peak=%s)", neighbours, peak_found)
    y = cells[value].to_numpy(dtype=np.float64)
    z, p, island, info["path"] = _gistar.local_gi(cells, y, neighbours, permutations, seed, null)
    if island.any():
        logger.warning("%d cells have no neighbour; their Gi* is NaN", int(island.sum()))
    q = _gistar.bh(p)
    out = cells.copy()
    out["gi_z"] = z
    out["gi_p"] = p
    out["gi_p_fdr"] = q
    out["gi_bin"] = _gistar.bins(z, q if fdr else p)
    out.attrs["gistar"] = info
    return out


# --------------------------------------------------------------------------- emerging
@dataclass(frozen=True, repr=False)
class EmergingHotspots:
    """Result of :func:`emerging`.

    ``cells``: copy of the cells with ``pattern``, ``pattern_code`` (-8..8), ``trend_z``,
    ``trend_p`` (Mann-Kendall of the cell's Gi* z series), ``n_hot``, ``n_cold``, ``count``.
    ``z``/``p``: space-time Gi* z and two-sided p per cell (rows, cell codes) x bin (columns,
    bin start times). ``cube``: report counts, same shape. ``trend``: Mann-Kendall of the
    total count per bin (``S``, ``var``, ``z``, ``p``).
    """

    cells: gpd.GeoDataFrame
    z: pd.DataFrame
    p: pd.DataFrame
    cube: pd.DataFrame
    trend: dict[str, float] = field(default_factory=dict)

    def summary(self) -> pd.Series:
        """Number of cells per pattern."""
        return self.cells["pattern"].value_counts()

    def __repr__(self) -> str:
        top = ", ".join(f"{k}: {v}" for k, v in self.summary().items() if k != "no pattern")
        return (
            f"EmergingHotspots({self.cube.shape[0]} cells x {self.cube.shape[1]} bins; "
            f"{top or 'no pattern anywhere'}; total trend z={self.trend.get('z', np.nan):.2f})"
        )

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>" + self.summary().to_frame().to_html()


def emerging(
    assigned: pd.DataFrame,
    cells: gpd.GeoDataFrame,
    *,
    freq: str = "W",
    time: str = "reported_at",
    neighbours: str | float = "queen",
    time_step_window: int = 1,
    time_neighbours: str = "cell",
    alpha: float = 0.05,
    fdr: bool = True,
    share: float = 0.9,
    trend_alpha: float = 0.05,
) -> EmergingHotspots:
    """Emerging hot spots: space-time Gi* per time bin, Mann-Kendall trends, categories.

    1. Cube: counted reports per cell (``cell_code``) x time bin (``freq`` period alias,
       every bin from the first to the last report, zeros included).
    2. Space-time Gi* for every bin, binary weights, mean and variance over the whole cube
       (``n = cells x bins``). Neighbourhood of (cell, bin): the cell and its spatial
       ``neighbours`` in the same bin, plus — ``time_neighbours="cell"`` (default) — the
       same cell in each of the ``time_step_window`` previous bins, or —
       ``"cylinder"`` (ArcGIS Pro's layout) — the whole spatial neighbourhood in those bins.
    3. Mann-Kendall trend test (tie-corrected) on each cell's series of Gi* z-scores.
    4. Categories (below), bins being hot/cold when ``p <= alpha`` (BH-adjusted over the
       whole cube when ``fdr=True``).

    Category rules (ArcGIS Pro's Emerging Hot Spot Analysis definitions):

    """
    cells = require_geodataframe(cells, "cells")
    require_nonempty(cells, "cells")
    require_columns(cells, ["cell_code"], "cells")
    require_unique(cells["cell_code"], "cell_code", "cells")
    _emerging.check_options(time_step_window, time_neighbours)
    long = counts(assigned, cells, freq=freq, time=time, key="cell_code")
    if long.empty:
        msg = "assigned has no counted report (status 'assigned' or 'snapped') in these cells."
        raise EmptyInputError(msg)
    cube = long.pivot(index="cell_code", columns="period", values="count")
    cube = cube.reindex(pd.Index(cells["cell_code"]))
    t = cube.shape[1]
    if t < 3:
        msg = (
            f"emerging() needs at least 3 time bins (ArcGIS recommends 10); the reports span "
            f"{t} bin(s) of freq={freq!r}. Use a shorter freq such as 'D' or 'W'."
        )
        raise ValueError(msg)
    if t < 10:
        logger.warning("only %d time bins; trends are weak with fewer than 10", t)
    y = cube.to_numpy(dtype=np.float64)
    if not isinstance(neighbours, str):
        require_metric(cells, "cells")
    out, zf, pf, trend = _emerging.analyse(
        cells,
        y,
        neighbours,
        window=time_step_window,
        mode=time_neighbours,
        alpha=alpha,
        fdr=fdr,
        share=share,
        trend_alpha=trend_alpha,
    )
    return EmergingHotspots(
        cells=out,
        z=pd.DataFrame(zf, index=cube.index, columns=cube.columns),
        p=pd.DataFrame(pf, index=cube.index, columns=cube.columns),
        cube=cube.astype(np.int64),
        trend=trend,
    )


emerging.__doc__ = (
    (emerging.__doc__ or "")
    + "\n".join("    " + line if line else "" for line in _emerging.PATTERN_RULES.splitlines())
    + """

    Parameters
    ----------
    assigned : DataFrame
        Assigned reports with ``cell_code``, ``status`` and the ``time`` column.
    cells : GeoDataFrame
        Cells with unique ``cell_code``.
    freq : str
        Time bin, a pandas period alias (``"D"``, ``"W"``, ``"M"``).
    time : str
        Report time column.
    neighbours : "queen", "rook" or float
        Spatial neighbours (see :func:`gistar`).
    time_step_window : int
        Number of previous bins in the neighbourhood (0: purely spatial per bin).
    time_neighbours : {"cell", "cylinder"}
        Which cells of the previous bins are neighbours (see step 2).
    alpha : float
        Significance level of a hot/cold bin.
    fdr : bool
        Benjamini-Hochberg over all bins of the cube before comparing with ``alpha``.
    share : float
        The "most bins" share (0.9 in ArcGIS).
    trend_alpha : float
        Significance level of the Mann-Kendall trend.

    Returns
    -------
    EmergingHotspots

    Raises
    ------
    ColumnError
        Missing ``cell_code`` or time column, unreadable times.
    EmptyInputError
        No counted report.
    ValueError
        Fewer than 3 time bins, or a bad option.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> g = [box(x, y, x + 100, y + 100) for y in range(0, 700, 100) for x in range(0, 700, 100)]
    >>> cells = gpd.GeoDataFrame({"cell_code": [f"c{i:02d}" for i in range(49)]},
    ...                          geometry=g, crs="EPSG:4547")
    >>> days = pd.date_range("2024-01-01", periods=12, freq="W-MON")
    >>> hot = ["c08", "c09", "c10", "c15", "c16", "c17", "c22", "c23", "c24"]
    >>> rows = [(c, d) for i, d in enumerate(days) for c in hot for _ in range(6 + i)]
    >>> rows += [(f"c{i:02d}", d) for d in days for i in range(0, 49, 5)]
    >>> rep = pd.DataFrame(rows, columns=["cell_code", "reported_at"]).assign(status="assigned")
    >>> res = emerging(rep, cells, freq="W")
    >>> res.cells.set_index("cell_code").loc["c16", "pattern"]
    'intensifying hot spot'
"""
)


# --------------------------------------------------------------------------- warnings
@dataclass(frozen=True)
class WarningRules:
    """Rules for the three-colour warning (any matching rule raises that level).

    For each level: ``*_bins`` gi_bin values, ``*_patterns`` emerging patterns, ``*_count``
    an absolute count threshold (``count >= value``), ``*_count_quantile`` a percentile of the
    non-zero counts (``count >`` that percentile), ``*_z`` a gi_z threshold (``>=``). ``None``
    or an empty tuple disables a rule. Columns absent from the input are skipped.
    """

    red_bins: tuple[int, ...] = (3,)
    red_patterns: tuple[str, ...] = (
        "intensifying hot spot",
        "persistent hot spot",
        "new hot spot",
    )
    red_count: float | None = None
    red_count_quantile: float | None = None
    red_z: float | None = None
    yellow_bins: tuple[int, ...] = (2,)
    yellow_patterns: tuple[str, ...] = ("diminishing hot spot", "oscillating hot spot")
    yellow_count: float | None = None
    yellow_count_quantile: float | None = 90.0
    yellow_z: float | None = None
    blue_bins: tuple[int, ...] = (1,)
    blue_patterns: tuple[str, ...] = ("sporadic hot spot", "consecutive hot spot")
    blue_count: float | None = None
    blue_count_quantile: float | None = None
    blue_z: float | None = None


def warnings(
    hot: pd.DataFrame,
    *,
    rules: WarningRules | None = None,
    lang: str = "en",
) -> pd.DataFrame:
    """Three-colour warning level per cell or grid, with the reasons.

    The highest level whose rules match wins (red > yellow > blue); ``warning_reason`` joins
    the reasons of that level with ``"; "``. Cells matching no rule get ``""`` in both.

    Parameters
    ----------
    hot : DataFrame
        Cells or grids with any of ``gi_bin``, ``gi_z``, ``count`` (from :func:`gistar` /
        :func:`counts`) and ``pattern`` (from :func:`emerging`).
    rules : WarningRules, optional
        Defaults: red = gi_bin 3 or an intensifying / persistent / new hot spot; yellow =
        gi_bin 2, a diminishing / oscillating hot spot, or a count above the 90th percentile
        of the non-zero counts; blue = gi_bin 1 or a sporadic / consecutive hot spot.
    lang : {"en", "zh"}
        Language of ``warning_reason``.

    Returns
    -------
    DataFrame
        A copy of ``hot`` with ``warning`` (``"red"``, ``"yellow"``, ``"blue"`` or ``""``) and
        ``warning_reason``.

    Raises
    ------
    ColumnError
        None of ``gi_bin``, ``gi_z``, ``count``, ``pattern`` is present.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"gi_bin": [3, 1, 0], "count": [9, 2, 0]})
    >>> warnings(df, rules=WarningRules(yellow_count_quantile=None))["warning"].tolist()
    ['red', 'blue', '']
    """
    if not isinstance(hot, pd.DataFrame):
        msg = f"hot must be a DataFrame, got {type(hot).__name__}."
        raise TypeError(msg)
    if not {"gi_bin", "gi_z", "count", "pattern"} & set(hot.columns):
        msg = (
            "hot has none of the columns gi_bin, gi_z, count, pattern; pass the output of "
            "gistar(), counts() or emerging().cells."
        )
        raise ColumnError(msg)
    if lang not in _warnings.REASONS:
        msg = f"lang must be 'en' or 'zh', got {lang!r}."
        raise ValueError(msg)
    level, reason = _warnings.evaluate(hot, rules or WarningRules(), lang)
    out = hot.copy()
    out["warning"] = pd.array(level, dtype="str")
    out["warning_reason"] = pd.array(reason, dtype="str")
    return out


# --------------------------------------------------------------------------- time profile
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def time_profile(
    assigned: pd.DataFrame,
    *,
    by: str | None = None,
    time: str = "reported_at",
    pivot: bool = False,
) -> pd.DataFrame:
    """Counted reports by hour of day x weekday (the "when" of a hot spot).

    Parameters
    ----------
    assigned : DataFrame
        Reports with the ``time`` column (only ``assigned``/``snapped`` when ``status`` exists).
    by : str, optional
        Group column, e.g. ``"grid_code"`` or ``"category_code"``.
    time : str
        Time column (local time; time zones are dropped, keeping the wall-clock time).
    pivot : bool
        False: long table ``[by,] weekday (0 = Monday), hour, count`` with all 7 x 24
        combinations. True: hours as rows (``[by,] hour``) and ``Mon``..``Sun`` columns.

    Returns
    -------
    DataFrame

    Raises
    ------
    ColumnError
        Missing or unreadable time / ``by`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> rep = pd.DataFrame({"reported_at": ["2024-05-06 08:10", "2024-05-06 08:50"]})
    >>> time_profile(rep, pivot=True).loc[8, "Mon"]
    np.int64(2)
    """
    rep = _counted(assigned, "assigned")
    if by is not None:
        require_columns(rep, [by], "assigned", params={by: "by"})
    t = _emerging.parse_times(rep, time, "assigned")
    frame = pd.DataFrame({"weekday": t.dt.day_of_week.to_numpy(), "hour": t.dt.hour.to_numpy()})
    keys = ["weekday", "hour"]
    levels: list[Any] = [range(7), range(24)]
    if by is not None:
        frame.insert(0, by, rep[by].to_numpy())
        keys = [by, *keys]
        levels = [sorted(frame[by].dropna().unique()), *levels]
    full = pd.MultiIndex.from_product(levels, names=keys)
    long = frame.groupby(keys).size().reindex(full, fill_value=0).rename("count").reset_index()
    long["count"] = long["count"].astype(np.int64)
    if not pivot:
        return long
    idx = [by, "hour"] if by is not None else ["hour"]
    wide = long.pivot_table(index=idx, columns="weekday", values="count", aggfunc="sum")
    wide.columns = [_WEEKDAYS[int(c)] for c in wide.columns]
    return wide.astype(np.int64)


# --------------------------------------------------------------------------- chunked counts
def count_chunks(
    chunks: Iterable[pd.DataFrame],
    cells: gpd.GeoDataFrame,
    *,
    by: str | None = None,
    key: str | None = None,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Count reports per cell or grid over chunks of assigned reports, one chunk at a time.

    The same table as :func:`counts` without ``freq`` on all the chunks together (``count``,
    ``count_<value>`` with ``by``, ``per_km2``, ``per_1000``), built by summing per-chunk
    counts, so only one chunk is in memory at a time. Pair it with
    :func:`gridgeo.io.iter_reports` and :func:`gridgeo.assignment.assign_chunks` for files of
    tens of millions of reports.

    Parameters
    ----------
    chunks : iterable of DataFrame
        Assigned report chunks (``status`` and the code column ``key``); consumed once.
    cells : GeoDataFrame
        Cells (``cell_code``) or grids (``grid_code``).
    by, key : str, optional
        As for :func:`counts`.
    progress : bool
        Show a progress bar over the chunks.

    Returns
    -------
    GeoDataFrame
        A copy of ``cells`` with the count columns; ``attrs["status_counts"]`` sums the
        chunks' status counts (from :func:`gridgeo.assignment.assign_chunks`).

    Raises
    ------
    TypeError
        ``chunks`` is a single frame.
    ColumnError
        A chunk lacks ``status``-filtered code column ``key`` or ``by``.
    DuplicateIdError
        The codes in ``cells`` are not unique.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> cells = gpd.GeoDataFrame({"cell_code": ["a", "b"]},
    ...                          geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
    ...                          crs="EPSG:4547")
    >>> one = pd.DataFrame({"cell_code": ["a", "b"], "status": ["assigned", "outside"]})
    >>> two = pd.DataFrame({"cell_code": ["a"], "status": ["snapped"]})
    >>> count_chunks([one, two], cells)[["cell_code", "count"]]
      cell_code  count
    0         a      2
    1         b      0
    """
    if isinstance(chunks, pd.DataFrame):
        msg = (
            "chunks must be an iterable of assigned report frames, not one frame; use "
            "gridgeo.hotspots.counts(assigned, cells) for a single frame."
        )
        raise TypeError(msg)
    cells = require_geodataframe(cells, "cells")
    key = _key_of(cells, key, "cells")
    require_unique(cells[key], key, "cells")
    codes = pd.Index(cells[key])
    total = np.zeros(len(cells), dtype=np.int64)
    per_value: dict[Any, np.ndarray] = {}
    statuses: dict[str, int] = {}
    unknown = 0
    for number, chunk in enumerate(tqdm(chunks, desc="count", unit="chunk", disable=not progress)):
        for status, n in (chunk.attrs.get("status_counts") or {}).items():
            statuses[status] = statuses.get(status, 0) + int(n)
        rep = _counted(chunk, f"chunk {number}")
        require_columns(rep, [key] + ([by] if by else []), f"chunk {number}")
        pos = codes.get_indexer(rep[key])
        known = pos >= 0
        unknown += int((~known).sum())
        total += np.bincount(pos[known], minlength=len(cells))
        if by is not None:  # as counts(): one column per value, over the known rows
            for value, grp in rep.loc[known].groupby(by, sort=False):
                add = np.bincount(codes.get_indexer(grp[key]), minlength=len(cells))
                per_value[value] = per_value.get(value, 0) + add
    if unknown:
        logger.warning("%d counted reports have a %s not in cells; ignored", unknown, key)
    out = cells.copy()
    out["count"] = total
    for value in sorted(per_value):
        out[f"count_{value}"] = per_value[value].astype(np.int64)
    pop = cells["population"].to_numpy(dtype=np.float64) if "population" in cells else None
    _rates(out, _areas_km2(cells), pop)
    out.attrs["status_counts"] = statuses
    return out
