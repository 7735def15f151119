"""Getis-Ord Gi*, FDR, ArcGIS-style bins and Moran's I bands for :mod:`gridgeo.hotspots` (private).

Inputs are validated by the public functions; everything here works on positions ``0..n-1``.

* :func:`gistar_z` — analytic Gi* z-scores from neighbourhood sums (esda ``G_Local``, star).
* :func:`bh` — Benjamini-Hochberg adjusted p-values.
* :func:`bins` — ArcGIS Pro's ``Gi_Bin`` (±3, ±2, ±1 at 0.01, 0.05, 0.10).
* :func:`weights_for` — lattice kernel or sparse weights for a cell layer.
* :func:`local_gi` — Gi* z and p (analytic, by permutation, or the exact multinomial null for
  counts) with islands set to NaN.
* :func:`pseudo_p` — the two-sided permutation p-value with ties counted toward both tails.
* :func:`multinomial_p` — exact two-sided p-value of the neighbourhood sum of counts.
* :func:`moran_bands` / :func:`choose_band` — incremental global Moran's I by distance band.
* :func:`check_options` — validation of the ``neighbours`` / ``permutations`` options.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy import stats

from gridgeo._validate import require_positive
from gridgeo.hotspots import _weights

__all__ = [
    "LEVELS",
    "NULLS",
    "SparseValuesWarning",
    "bh",
    "bins",
    "centroids",
    "check_options",
    "choose_band",
    "gistar_z",
    "local_gi",
    "moran_bands",
    "multinomial_p",
    "pseudo_p",
    "weights_for",
]

#: null hypotheses of the Gi* significance test
NULLS = ("values", "multinomial")


class SparseValuesWarning(UserWarning):
    """Most analysed values are zero: permutation p-values are dominated by ties.

    With mostly-zero counts, many simulated neighbourhood sums equal the observed one; gridgeo
    counts those ties toward both tails (so empty areas are not called cold spots), which
    makes the test conservative and coarse. For report counts, ``null="multinomial"`` gives
    exact p-values under random placement of the reports.
    """


def check_options(neighbours: str | float, permutations: int, null: str = "values") -> None:
    """Raise ValueError for a bad ``neighbours``, ``permutations`` or ``null`` of ``gistar``."""
    if null not in NULLS:
        msg = f"null must be one of {NULLS}, got {null!r}."
        raise ValueError(msg)
    if isinstance(neighbours, str) and neighbours not in {"queen", "rook", "optimized"}:
        msg = f"neighbours must be 'queen', 'rook', 'optimized' or metres; got {neighbours!r}."
        raise ValueError(msg)
    if not isinstance(neighbours, str):
        require_positive(neighbours, "neighbours")
    if not (isinstance(permutations, int | np.integer) and permutations >= 0):
        msg = f"permutations must be an integer >= 0, got {permutations!r}."
        raise ValueError(msg)


#: (gi_bin level, largest p-value of that level)
LEVELS = ((3, 0.01), (2, 0.05), (1, 0.10))


def gistar_z(y: np.ndarray, s: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Analytic Gi* z (esda ``G_Local(star=True)``, binary weights): see ``hotspots.gistar``."""
    n = len(y)
    total = y.sum()
    mean = total / n
    var = (y**2).sum() / n - mean**2
    with np.errstate(divide="ignore", invalid="ignore"):
        g = s / total
        expected = k / n
        v = k * (n - k) / (n - 1) / n**2 * var / mean**2
        z = (g - expected) / np.sqrt(v)
    return np.where(np.isfinite(z), z, 0.0)


def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN kept, excluded from the count)."""
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    q = p[ok]
    m = len(q)
    if m == 0:
        return out
    order = np.argsort(q)
    ranked = q[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def bins(z: np.ndarray, p: np.ndarray) -> np.ndarray:
    """ArcGIS-style ``gi_bin``: sign of ``z`` times the level whose alpha ``p`` meets."""
    level = np.zeros(len(z), dtype=np.int64)
    for lv, alpha in reversed(LEVELS):
        level = np.where(np.nan_to_num(p, nan=1.0) <= alpha, lv, level)
    return (np.sign(np.nan_to_num(z)) * level).astype(np.int64)


def weights_for(
    cells: gpd.GeoDataFrame, neighbours: str | float
) -> tuple[sp.csr_matrix | None, _weights.Lattice | None, np.ndarray | None]:
    """Either ``(None, lattice, kernel)`` for a regular fishnet or ``(w, None, None)``."""
    geoms = cells.geometry.values
    lat = _weights.detect_lattice(np.asarray(geoms))
    if lat is not None:
        return None, lat, _weights.lattice_kernel(lat, neighbours)
    if neighbours in {"queen", "rook"}:
        return _weights.contiguity(np.asarray(geoms), str(neighbours)), None, None
    xy = shapely.get_coordinates(shapely.centroid(np.asarray(geoms)))
    return _weights.distance_band(xy, float(neighbours)), None, None


def centroids(cells: gpd.GeoDataFrame) -> np.ndarray:
    """Centroid coordinates of the cells, shape ``(n, 2)``."""
    return shapely.get_coordinates(shapely.centroid(np.asarray(cells.geometry.values)))


def pseudo_p(at_least: np.ndarray, at_most: np.ndarray, permutations: int) -> np.ndarray:
    """Two-sided permutation p-value with ties counted toward both tails.

    ``at_least`` = #simulated statistics ``>=`` the observed one, ``at_most`` = #``<=``
    (a tie is in both). The folded pseudo p-value is::

        p = min(1, 2 * (min(at_least, at_most) + 1) / (P + 1))

    (the +1 counts the observed statistic as one of the ``P + 1`` equally likely values;
    Davison & Hinkley 1997, eq. 4.11, doubled for two sides). Without ties ``at_most = P -
    at_least`` and this is twice esda's "directed" ``p_sim``. A constant input ties every
    simulation on both sides: p = 1.
    """
    smaller_tail = np.minimum(at_least, at_most).astype(np.float64)
    return np.minimum(1.0, 2.0 * (smaller_tail + 1.0) / (permutations + 1.0))


def multinomial_p(y: np.ndarray, s: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Exact two-sided p of the neighbourhood sum of counts under random placement.

    Null hypothesis for report counts: given cell ``i``'s own count ``y_i``, each of the other
    ``N - y_i`` reports fell in one of the other ``n - 1`` cells with equal probability. The
    neighbours' sum ``S_i - y_i`` is then Binomial(``N - y_i``, ``(k_i - 1) / (n - 1)``), and

        p = min(1, 2 * min(P(X >= obs), P(X <= obs)))

    ties again counting toward both tails. Zeros are kept as data: an empty cell whose
    neighbours are empty is significant only if that is improbable given ``N``.
    """
    n = len(y)
    total = y.sum()
    trials = np.rint(total - y)
    prob = np.clip((k - 1.0) / max(n - 1, 1), 0.0, 1.0)
    observed = np.rint(s - y)
    upper = stats.binom.sf(observed - 1, trials, prob)  # P(X >= obs)
    lower = stats.binom.cdf(observed, trials, prob)  # P(X <= obs)
    return np.minimum(1.0, 2.0 * np.minimum(upper, lower))


def local_gi(
    cells: gpd.GeoDataFrame,
    y: np.ndarray,
    neighbours: str | float,
    permutations: int,
    seed: int,
    null: str = "values",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Gi* ``(z, p, island, path)``; islands (no neighbour) get NaN z and p.

    ``p`` is two-sided: analytic (``permutations == 0`` and ``null == "values"``), the
    permutation pseudo p-value of :func:`pseudo_p`, or the exact :func:`multinomial_p`
    (``null == "multinomial"``, counts). ``path`` is ``"lattice"`` or ``"sparse"``.
    """
    w, lat, kernel = weights_for(cells, neighbours)
    if lat is not None and kernel is not None:
        s, k = _weights.lattice_sums(lat, y, kernel)
        path = "lattice"
    else:
        assert w is not None
        s, k = _weights.sparse_sums(w, y)
        path = "sparse"
    z = gistar_z(y, s, k)
    island = k <= 1
    if null == "multinomial":
        p = multinomial_p(y, s, k)
    elif permutations:
        if (y == 0).mean() > 0.5:
            msg = (
                f"{(y == 0).mean():.0%} of the values are zero: permutation p-values are "
                "dominated by ties (counted toward both tails, so they are conservative); "
                "for report counts use null='multinomial'."
            )
            warnings.warn(msg, SparseValuesWarning, stacklevel=3)
        at_least = _weights.permutation_counts(y, s, k, int(permutations), seed)
        # the same draws on -y count the simulations <= the observed sum (negation is exact)
        at_most = _weights.permutation_counts(-y, -s, k, int(permutations), seed)
        p = pseudo_p(at_least, at_most, int(permutations))
    else:
        p = 2.0 * stats.norm.sf(np.abs(z))
    z = np.where(island, np.nan, z)
    p = np.where(island, np.nan, p)
    return z, p, island, path


def moran_bands(
    xy: np.ndarray, y: np.ndarray, distances: list[float] | None, n_bands: int
) -> pd.DataFrame:
    """Global Moran's I table (``distance, moran_i, z, n_pairs, peak``) by distance band."""
    from scipy.spatial import cKDTree

    if distances is None:
        nn = cKDTree(xy).query(xy, k=2)[0][:, 1]
        distances = [float(nn.max() + i * nn.mean()) for i in range(n_bands)]
    n = len(y)
    zc = y - y.mean()
    rows = []
    for d in distances:
        w = _weights.distance_band(xy, d)
        s0 = float(w.nnz)
        if s0 == 0:
            rows.append((d, np.nan, np.nan, 0))
            continue
        i_val = n / s0 * float(zc @ (w @ zc)) / float(zc @ zc)
        k = np.diff(w.indptr).astype(np.float64)
        s1, s2 = 2.0 * s0, float((4.0 * k**2).sum())
        ei = -1.0 / (n - 1)
        vi = (n * n * s1 - n * s2 + 3 * s0 * s0) / ((n * n - 1) * s0 * s0) - ei * ei
        rows.append((d, i_val, (i_val - ei) / np.sqrt(vi), int(s0 // 2)))
    out = pd.DataFrame(rows, columns=["distance", "moran_i", "z", "n_pairs"])
    z = out["z"].to_numpy()
    prev = np.r_[-np.inf, z[:-1]]
    nxt = np.r_[z[1:], -np.inf]
    out["peak"] = (
        (z > prev) & (z >= nxt) & (np.arange(len(z)) > 0) & (np.arange(len(z)) < len(z) - 1)
    )
    return out


def choose_band(inc: pd.DataFrame) -> tuple[float, bool]:
    """``(distance, peak_found)``: the first z peak of :func:`moran_bands`, else the max z."""
    peaks = inc.loc[inc["peak"]]
    row = peaks.iloc[0] if len(peaks) else inc.loc[inc["z"].idxmax()]
    return float(row["distance"]), bool(len(peaks))
