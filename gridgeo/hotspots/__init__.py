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
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gridgeo._validate import (
    require_columns,
    require_geodataframe,
    require_geom_types,
    require_metric,
    require_nonempty,
    require_unique,
)
from gridgeo.errors import ColumnError, EmptyInputError
from gridgeo.hotspots import _emerging, _gistar
from gridgeo.hotspots._counts import count_chunks, counts, time_profile
from gridgeo.hotspots._density import DensitySurface, kde
from gridgeo.hotspots._warnings import WarningRules, warnings

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
