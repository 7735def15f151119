"""Getis-Ord Gi*, FDR, ArcGIS-style bins and Moran's I bands for :mod:`gridgeo.hotspots` (private).

Inputs are validated by the public functions; everything here works on positions ``0..n-1``.

* :func:`gistar_z` — analytic Gi* z-scores from neighbourhood sums (esda ``G_Local``, star).
* :func:`bh` — Benjamini-Hochberg adjusted p-values.
* :func:`bins` — ArcGIS Pro's ``Gi_Bin`` (±3, ±2, ±1 at 0.01, 0.05, 0.10).
* :func:`weights_for` — lattice kernel or sparse weights for a cell layer.
* :func:`local_gi` — Gi* z and p (analytic or by permutation) with islands set to NaN.
* :func:`moran_bands` / :func:`choose_band` — incremental global Moran's I by distance band.
* :func:`check_options` — validation of the ``neighbours`` / ``permutations`` options.
"""

from __future__ import annotations

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
    "bh",
    "bins",
    "centroids",
    "check_options",
    "choose_band",
    "gistar_z",
    "local_gi",
    "moran_bands",
    "weights_for",
]


def check_options(neighbours: str | float, permutations: int) -> None:
    """Raise ValueError for a bad ``neighbours`` or ``permutations`` option of ``gistar``."""
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


def local_gi(
    cells: gpd.GeoDataFrame,
    y: np.ndarray,
    neighbours: str | float,
    permutations: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Gi* ``(z, p, island, path)``; islands (no neighbour) get NaN z and p.

    ``p`` is two-sided (analytic, or the doubled directed permutation pseudo p-value capped
    at 1); ``path`` is ``"lattice"`` or ``"sparse"``.
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
    if permutations:
        larger = _weights.permutation_counts(y, s, k, int(permutations), seed)
        lower = permutations - larger
        p = np.minimum(1.0, 2.0 * (np.minimum(larger, lower) + 1) / (permutations + 1))
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
