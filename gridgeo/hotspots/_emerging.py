"""Mann-Kendall trend test and Emerging Hot Spot categories (private, used by hotspots).

The category rules follow the definitions of ArcGIS Pro's *Emerging Hot Spot Analysis*;
they are written out in :data:`PATTERN_RULES` and in :func:`gridgeo.hotspots.emerging`.
:func:`analyse` runs the space-time Gi*, the trends and the classification on a count cube.
Time handling shared by the public functions lives here too: :func:`parse_times` reads a
report time column, :func:`period_counts` builds the cell x period count table (the cube in
long form) and :func:`check_options` validates the space-time neighbourhood options.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats

from gridgeo._validate import require_columns
from gridgeo.errors import ColumnError
from gridgeo.hotspots import _gistar, _weights

__all__ = [
    "PATTERNS",
    "PATTERN_RULES",
    "analyse",
    "check_options",
    "classify",
    "mann_kendall",
    "mann_kendall_slow",
    "parse_times",
    "period_counts",
    "spacetime_sums",
]

#: code -> name. Positive codes are hot-spot patterns, negative the cold mirrors, 0 none.
PATTERNS: dict[int, str] = {
    0: "no pattern",
    1: "new hot spot",
    2: "consecutive hot spot",
    3: "intensifying hot spot",
    4: "persistent hot spot",
    5: "diminishing hot spot",
    6: "sporadic hot spot",
    7: "oscillating hot spot",
    8: "historical hot spot",
    -1: "new cold spot",
    -2: "consecutive cold spot",
    -3: "intensifying cold spot",
    -4: "persistent cold spot",
    -5: "diminishing cold spot",
    -6: "sporadic cold spot",
    -7: "oscillating cold spot",
    -8: "historical cold spot",
}

PATTERN_RULES = """\
A bin is *hot* when its space-time Gi* z > 0 and its p-value (FDR-adjusted when fdr=True)
is <= alpha; *cold* when z < 0 and p <= alpha. T is the number of time bins and
"most" means at least `share` (default 90 %) of the T bins. The trend is the Mann-Kendall
test of the cell's Gi* z-series, significant when its two-sided p < trend_alpha. Rules
are tried in this order, the first that matches wins (cold spots mirror them, with hot and
cold swapped and "increasing" meaning z becoming more negative):

* intensifying: hot in the last bin, hot in most bins, significant upward trend.
* persistent:   hot in the last bin, hot in most bins, no significant trend.
* diminishing:  hot in the last bin, hot in most bins, significant downward trend.
* new:          hot in the last bin and in no earlier bin.
* consecutive:  hot in an uninterrupted run of >= 2 bins ending with the last bin, never hot
                before that run, and hot in fewer than most bins.
* oscillating:  hot in the last bin, cold in at least one earlier bin, fewer than most hot.
* sporadic:     hot in the last bin, on-and-off hot before, never cold, fewer than most hot.
* historical:   not hot in the last bin, but hot in most bins.
* no pattern:   none of the above (for hot and for cold).

A pattern about the last bin (new ... sporadic, hot or cold) wins over a historical one,
e.g. a cell hot in 9 of 10 bins and cold in the last is an oscillating cold spot.
"""


def mann_kendall(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall trend test on every row of ``x`` (cells x time), vectorised.

    ``S = sum_{i<j} sign(x_j - x_i)``;
    ``Var(S) = [T(T-1)(2T+5) - sum_g t_g(t_g-1)(2t_g+5)] / 18`` with ``t_g`` the size of
    each group of tied values; ``Z = (S - 1)/sqrt(Var)`` for ``S > 0``, ``(S + 1)/sqrt(Var)``
    for ``S < 0``, 0 for ``S = 0`` (continuity correction); two-sided ``p = 2 (1 - Phi(|Z|))``.
    Rows containing NaN give NaN. Returns ``(S, Var, Z, p)``.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    n, t = x.shape
    s = np.zeros(n)
    for d in range(1, t):
        s += np.sign(x[:, d:] - x[:, :-d]).sum(axis=1)
    xs = np.sort(x, axis=1)
    starts = np.ones((n, t), dtype=bool)
    starts[:, 1:] = xs[:, 1:] != xs[:, :-1]
    group = np.cumsum(starts, axis=1) - 1 + (np.arange(n) * t)[:, None]
    sizes = np.bincount(group.ravel(), minlength=n * t).astype(np.float64)
    term = sizes * (sizes - 1) * (2 * sizes + 5)
    ties = term.reshape(n, t).sum(axis=1)
    var = (t * (t - 1) * (2 * t + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    z = np.where(var > 0, z, 0.0)
    p = 2 * stats.norm.sf(np.abs(z))
    bad = np.isnan(x).any(axis=1)
    for a in (s, var, z, p):
        a[bad] = np.nan
    return s, var, z, p


def mann_kendall_slow(series: Any) -> tuple[float, float, float, float]:
    """Obviously-correct twin of :func:`mann_kendall` for one series (double loop)."""
    x = [float(v) for v in series]
    t = len(x)
    s = 0.0
    for i in range(t):
        for j in range(i + 1, t):
            s += (x[j] > x[i]) - (x[j] < x[i])
    counts: dict[float, int] = {}
    for v in x:
        counts[v] = counts.get(v, 0) + 1
    ties = sum(c * (c - 1) * (2 * c + 5) for c in counts.values())
    var = (t * (t - 1) * (2 * t + 5) - ties) / 18.0
    if s > 0:
        z = (s - 1) / var**0.5
    elif s < 0:
        z = (s + 1) / var**0.5
    else:
        z = 0.0
    return s, var, z, float(2 * stats.norm.sf(abs(z)))


def spacetime_sums(
    spatial_sum: np.ndarray,
    cube: np.ndarray,
    k_spatial: np.ndarray,
    window: int,
    mode: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Space-time neighbourhood sums and cardinalities for a cube (cells x bins).

    ``spatial_sum[:, t]`` is the spatial Gi* sum (self included) of bin ``t``. ``mode="cell"``:
    neighbours are the spatial neighbours in the same bin plus the same cell in each of the
    ``window`` previous bins. ``mode="cylinder"``: the spatial neighbourhood (self included)
    in the same bin and in each of the ``window`` previous bins (ArcGIS Pro's layout).
    """
    n, t = cube.shape
    s = spatial_sum.copy()
    k = np.repeat(k_spatial[:, None], t, axis=1).astype(np.float64)
    src = cube if mode == "cell" else spatial_sum
    step = np.ones(n) if mode == "cell" else k_spatial
    for d in range(1, window + 1):
        if d >= t:
            break
        s[:, d:] += src[:, :-d]
        k[:, d:] += step[:, None]
    return s, k


def classify(
    hot: np.ndarray,
    cold: np.ndarray,
    trend_z: np.ndarray,
    trend_p: np.ndarray,
    *,
    share: float = 0.9,
    trend_alpha: float = 0.05,
) -> np.ndarray:
    """Pattern code (-8..8, see :data:`PATTERNS`) per row of boolean ``hot``/``cold`` bins."""
    hot = np.asarray(hot, dtype=bool)
    cold = np.asarray(cold, dtype=bool)
    n, t = hot.shape
    found = []
    tz = np.nan_to_num(np.asarray(trend_z, dtype=np.float64))
    sig = np.nan_to_num(np.asarray(trend_p, dtype=np.float64), nan=1.0) < trend_alpha
    for sign, a, b in ((1, hot, cold), (-1, cold, hot)):
        up = sig & (sign * tz > 0)
        down = sig & (sign * tz < 0)
        n_a = a.sum(axis=1)
        most = n_a >= share * t - 1e-9
        final = a[:, -1]
        run = np.cumprod(a[:, ::-1], axis=1).sum(axis=1)
        before_run = (n_a - run) > 0
        other_before = b[:, :-1].any(axis=1)
        rules = [
            (final & most & up, 3),
            (final & most & ~up & ~down, 4),
            (final & most & down, 5),
            (final & (n_a == 1), 1),
            (final & (run >= 2) & ~before_run & ~most, 2),
            (final & other_before & ~most, 7),
            (final & ~other_before & ~most, 6),
            (~final & most, 8),
        ]
        chosen = np.zeros(n, dtype=np.int64)
        for mask, value in reversed(rules):
            chosen = np.where(mask, value, chosen)
        found.append(chosen)
    hot_c, cold_c = found
    # a pattern about the last bin (1..7) wins over a historical one (8)
    code = np.zeros(n, dtype=np.int64)
    code = np.where(cold_c == 8, -8, code)
    code = np.where(hot_c == 8, 8, code)
    code = np.where((cold_c > 0) & (cold_c < 8), -cold_c, code)
    code = np.where((hot_c > 0) & (hot_c < 8), hot_c, code)
    return code


def analyse(
    cells: gpd.GeoDataFrame,
    y: np.ndarray,
    neighbours: str | float,
    *,
    window: int,
    mode: str,
    alpha: float,
    fdr: bool,
    share: float,
    trend_alpha: float,
) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray, dict[str, float]]:
    """Emerging hot spots of the count cube ``y`` (cells x bins, rows in ``cells`` order).

    Returns ``(cells with pattern columns, Gi* z, two-sided p, total-count trend)``.
    """
    t = y.shape[1]
    w, lat, kernel = _gistar.weights_for(cells, neighbours)
    if lat is not None and kernel is not None:
        cols = [_weights.lattice_sums(lat, y[:, j], kernel) for j in range(t)]
        spatial = np.column_stack([c[0] for c in cols])
        k_sp = cols[0][1]
    else:
        assert w is not None
        spatial = w @ y + y
        k_sp = np.diff(w.indptr).astype(np.float64) + 1.0
    s, k = spacetime_sums(spatial, y, k_sp, window, mode)
    zf = _gistar.gistar_z(y.ravel(), s.ravel(), k.ravel()).reshape(y.shape)
    pf = 2.0 * stats.norm.sf(np.abs(zf))
    q = _gistar.bh(pf.ravel()).reshape(pf.shape) if fdr else pf
    hot = (zf > 0) & (q <= alpha)
    cold = (zf < 0) & (q <= alpha)
    _, _, tz, tp = mann_kendall(zf)
    code = classify(hot, cold, tz, tp, share=share, trend_alpha=trend_alpha)
    out = cells.copy()
    out["pattern"] = pd.Series(code, index=out.index).map(PATTERNS).astype("str")
    out["pattern_code"] = code
    out["trend_z"] = tz
    out["trend_p"] = tp
    out["n_hot"] = hot.sum(axis=1)
    out["n_cold"] = cold.sum(axis=1)
    out["count"] = y.sum(axis=1).astype(np.int64)
    ts, tv, tzz, tpp = mann_kendall(y.sum(axis=0)[None, :])
    trend = {"S": float(ts[0]), "var": float(tv[0]), "z": float(tzz[0]), "p": float(tpp[0])}
    return out, zf, pf, trend


def check_options(time_step_window: Any, time_neighbours: Any) -> None:
    """Raise ValueError for a bad ``time_neighbours`` or ``time_step_window``."""
    if time_neighbours not in {"cell", "cylinder"}:
        msg = f"time_neighbours must be 'cell' or 'cylinder', got {time_neighbours!r}."
        raise ValueError(msg)
    if not (isinstance(time_step_window, int) and time_step_window >= 0):
        msg = f"time_step_window must be an integer >= 0, got {time_step_window!r}."
        raise ValueError(msg)


def parse_times(df: pd.DataFrame, time: str, name: str) -> pd.Series:
    """Column ``time`` of ``df`` as naive date-times (wall-clock time kept); ColumnError if bad."""
    require_columns(df, [time], name, params={time: "time"})
    try:
        t = pd.to_datetime(df[time])
    except (ValueError, TypeError) as err:
        msg = (
            f"{name} column {time!r} cannot be read as date-times ({err}); "
            "fix the values or pass time='<column>'."
        )
        raise ColumnError(msg) from err
    if t.dt.tz is not None:
        t = t.dt.tz_localize(None)
    if t.isna().any():
        rows = ", ".join(map(str, df.index[t.isna()][:5]))
        msg = f"{name} column {time!r} has missing times in row(s) {rows}; drop or fill them."
        raise ColumnError(msg)
    return t


def period_counts(
    rep: pd.DataFrame, t: pd.Series, *, freq: str, key: str, codes: pd.Index, by: str | None
) -> pd.DataFrame:
    """Long table ``key, period, [by,] count``: every code x period (x value), zeros included.

    ``t`` are the report times (:func:`parse_times`); ``period`` is the period's start time.
    """
    try:
        periods = t.dt.to_period(freq)
    except ValueError as err:
        msg = f"freq={freq!r} is not a pandas period alias; use 'D', 'W', 'M' or 'Q'."
        raise ValueError(msg) from err
    if len(periods):
        span = pd.period_range(periods.min(), periods.max(), freq=periods.dt.freq)
    else:
        span = pd.PeriodIndex([], freq=freq)
    levels: list[Any] = [codes, span]
    names = [key, "period"]
    group_cols = [rep[key], periods]
    if by is not None:
        levels.append(pd.Index(sorted(rep[by].dropna().unique())))
        names.append(by)
        group_cols.append(rep[by])
    full = pd.MultiIndex.from_product(levels, names=names)
    grouped = pd.Series(1, index=rep.index).groupby(group_cols).sum()
    grouped.index.names = names
    out = grouped.reindex(full, fill_value=0).rename("count").reset_index()
    out["count"] = out["count"].astype(np.int64)
    out["period"] = out["period"].dt.start_time
    return out
