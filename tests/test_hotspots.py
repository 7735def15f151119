"""Tests for gridgeo.hotspots (oracles: esda/libpysal, scipy)."""

from __future__ import annotations

import warnings as pywarnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from scipy import stats
from shapely import box

from gridgeo import hotspots as hs
from gridgeo.errors import ColumnError, CRSError, EmptyInputError
from gridgeo.hotspots import _emerging, _gistar, _kde, _weights

CRS = "EPSG:4547"


def fishnet(nx: int, ny: int, size: float = 100.0, x0: float = 500_000.0, y0: float = 2.5e6):
    geoms = [
        box(x0 + i * size, y0 + j * size, x0 + (i + 1) * size, y0 + (j + 1) * size)
        for j in range(ny)
        for i in range(nx)
    ]
    codes = [f"441302001001{k:03d}" if k < 1000 else f"c{k}" for k in range(nx * ny)]
    return gpd.GeoDataFrame({"cell_code": codes}, geometry=geoms, crs=CRS)


def voronoi_cells(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    pts = shapely.points(rng.uniform(0, 3000, (n, 2)))
    env = box(0, 0, 3000, 3000)
    vor = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=env))
    vor = shapely.intersection(vor, env)
    return gpd.GeoDataFrame(
        {"cell_code": [f"v{i}" for i in range(len(vor))]}, geometry=vor, crs=CRS
    )


def clustered_values(cells: gpd.GeoDataFrame, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = shapely.get_coordinates(cells.centroid.values)
    centre = c.mean(axis=0)
    d = np.hypot(*(c - centre).T)
    return rng.poisson(0.5 + 8 * np.exp(-((d / 400) ** 2)))


def reports_in(cells: gpd.GeoDataFrame, per_cell: np.ndarray, start="2024-01-01", seed=0):
    rng = np.random.default_rng(seed)
    idx = np.repeat(np.arange(len(cells)), per_cell)
    pts = shapely.get_coordinates(cells.centroid.values)[idx] + rng.uniform(-20, 20, (len(idx), 2))
    times = pd.Timestamp(start) + pd.to_timedelta(rng.uniform(0, 90 * 24, len(idx)), unit="h")
    return gpd.GeoDataFrame(
        {
            "cell_code": cells["cell_code"].to_numpy()[idx],
            "grid_code": "441302001001001",
            "status": rng.choice(["assigned", "snapped", "outside"], len(idx), p=[0.8, 0.1, 0.1]),
            "reported_at": times,
            "category_code": rng.choice(["0101", "0203"], len(idx)),
            "source": "app",
        },
        geometry=shapely.points(pts),
        crs=CRS,
    )


def esda_gstar(y, w_sparse, permutations=0, seed=1):
    import esda
    import libpysal

    w = libpysal.weights.WSP(sp.csr_matrix(w_sparse)).to_W(silence_warnings=True)
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")  # esda's "alternative" DeprecationWarning
        return esda.G_Local(
            np.asarray(y, dtype=float),
            w,
            transform="B",
            star=True,
            permutations=permutations,
            seed=seed,
        )


# ------------------------------------------------------------------ weights
@pytest.mark.parametrize("kind", ["queen", "rook"])
@pytest.mark.parametrize("maker", ["fishnet", "voronoi"])
def test_contiguity_equals_libpysal(kind, maker):
    import libpysal

    cells = fishnet(13, 9) if maker == "fishnet" else voronoi_cells(400)
    ours = _weights.contiguity(np.asarray(cells.geometry.values), kind)
    cls = libpysal.weights.Queen if kind == "queen" else libpysal.weights.Rook
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        theirs = cls.from_dataframe(cells, use_index=False, silence_warnings=True).sparse
    assert (ours != theirs).nnz == 0


def test_distance_band_equals_libpysal():
    import libpysal

    cells = voronoi_cells(300, seed=3)
    xy = shapely.get_coordinates(cells.centroid.values)
    ours = _weights.distance_band(xy, 350.0)
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        theirs = libpysal.weights.DistanceBand(xy, 350.0, binary=True, silence_warnings=True)
    assert (ours != theirs.sparse).nnz == 0


@pytest.mark.parametrize("neighbours", ["queen", "rook", 250.0])
def test_lattice_path_equals_sparse_path(neighbours):
    cells = fishnet(17, 11).drop(index=[0, 5, 40])  # holes in the lattice are allowed
    geoms = np.asarray(cells.geometry.values)
    lat = _weights.detect_lattice(geoms)
    assert lat is not None
    y = clustered_values(cells).astype(float)
    s1, k1 = _weights.lattice_sums(lat, y, _weights.lattice_kernel(lat, neighbours))
    if isinstance(neighbours, str):
        w = _weights.contiguity(geoms, neighbours)
    else:
        w = _weights.distance_band(shapely.get_coordinates(shapely.centroid(geoms)), neighbours)
    s2, k2 = _weights.sparse_sums(w, y)
    np.testing.assert_array_equal(k1, k2)
    np.testing.assert_allclose(s1, s2, rtol=0, atol=1e-9)
    assert (_weights.lattice_to_sparse(lat, _weights.lattice_kernel(lat, neighbours)) != w).nnz == 0


def test_lattice_rejects_irregular_cells():
    assert _weights.detect_lattice(np.asarray(voronoi_cells(50).geometry.values)) is None
    cells = fishnet(4, 4)
    cells.loc[3, "geometry"] = box(500_300, 2.5e6, 500_400, 2.5e6 + 90)
    assert _weights.detect_lattice(np.asarray(cells.geometry.values)) is None


# ------------------------------------------------------------------ Gi*
@pytest.mark.parametrize("maker", ["fishnet", "voronoi"])
@pytest.mark.parametrize("neighbours", ["queen", "rook", 300.0])
def test_gistar_analytic_matches_esda(maker, neighbours):
    cells = fishnet(25, 20) if maker == "fishnet" else voronoi_cells(500, seed=2)
    cells = cells.assign(count=clustered_values(cells))
    out = hs.gistar(cells, "count", neighbours=neighbours)
    geoms = np.asarray(cells.geometry.values)
    if isinstance(neighbours, str):
        w = _weights.contiguity(geoms, neighbours)
    else:
        w = _weights.distance_band(shapely.get_coordinates(shapely.centroid(geoms)), neighbours)
    ref = esda_gstar(cells["count"], w)
    ok = np.isfinite(out["gi_z"].to_numpy())
    assert ok.all()
    np.testing.assert_allclose(out["gi_z"], ref.Zs, rtol=0, atol=1e-9)
    np.testing.assert_allclose(out["gi_p"], 2 * ref.p_norm, rtol=0, atol=1e-9)
    assert out.attrs["gistar"]["path"] == ("lattice" if maker == "fishnet" else "sparse")


def test_gistar_keeps_input_and_bins_follow_fdr():
    cells = fishnet(20, 20).set_index(pd.Index(np.arange(400) * 3 + 7))
    cells["count"] = clustered_values(cells)
    before = cells.copy()
    out = hs.gistar(cells, "count", fdr=True)
    raw = hs.gistar(cells, "count", fdr=False)
    pd.testing.assert_frame_equal(cells, before)
    assert out.index.equals(cells.index) and out.crs == cells.crs
    q = stats.false_discovery_control(out["gi_p"].to_numpy(), method="bh")
    np.testing.assert_allclose(out["gi_p_fdr"], q, rtol=1e-12)
    expected = np.sign(out["gi_z"]) * np.select([q <= 0.01, q <= 0.05, q <= 0.1], [3, 2, 1], 0)
    np.testing.assert_array_equal(out["gi_bin"], expected)
    p = raw["gi_p"].to_numpy()
    expected_raw = np.sign(raw["gi_z"]) * np.select([p <= 0.01, p <= 0.05, p <= 0.1], [3, 2, 1], 0)
    np.testing.assert_array_equal(raw["gi_bin"], expected_raw)
    assert (np.abs(out["gi_bin"]) <= np.abs(raw["gi_bin"])).all()
    assert (out["gi_bin"] == 3).any() and (out["gi_bin"] <= 0).any()


def test_bh_matches_scipy_with_nan():
    rng = np.random.default_rng(4)
    p = rng.uniform(0, 0.2, 200) ** 2
    p[[3, 50]] = np.nan
    ours = _gistar.bh(p)
    ok = np.isfinite(p)
    np.testing.assert_allclose(ours[ok], stats.false_discovery_control(p[ok]), rtol=1e-12)
    assert np.isnan(ours[~ok]).all()


def _slow_permutation_counts(y, s, k, permutations, seed):
    """Twin: per-cell loop over the same shared draws."""
    n = len(y)
    kp = (np.rint(k) - 1).astype(int)
    width = kp.max() + 1
    rng = np.random.default_rng(seed)
    draws = [rng.choice(n, size=width, replace=False) for _ in range(permutations)]
    larger = np.zeros(n, dtype=int)
    for i in range(n):
        obs = s[i] - y[i]
        for d in draws:
            others = [j for j in d if j != i][: kp[i]]
            larger[i] += y[others].sum() >= obs
    return larger


def test_permutation_counts_equal_slow_twin():
    cells = voronoi_cells(60, seed=5)
    y = clustered_values(cells).astype(float)
    w = _weights.contiguity(np.asarray(cells.geometry.values))
    s, k = _weights.sparse_sums(w, y)
    fast = _weights.permutation_counts(y, s, k, 99, seed=3)
    np.testing.assert_array_equal(fast, _slow_permutation_counts(y, s, k, 99, seed=3))


def test_permutation_pvalues_agree_with_esda_in_distribution():
    cells = voronoi_cells(400, seed=6)
    rng = np.random.default_rng(1)
    cells["v"] = clustered_values(cells) + rng.uniform(0, 1, len(cells))  # no ties
    out = hs.gistar(cells, "v", permutations=999, seed=2)
    w = _weights.contiguity(np.asarray(cells.geometry.values))
    ref = np.minimum(1.0, 2 * esda_gstar(cells["v"], w, permutations=999, seed=1).p_sim)
    assert np.corrcoef(out["gi_p"], ref)[0, 1] > 0.97
    assert np.abs(out["gi_p"] - ref).mean() < 0.04
    assert stats.ks_2samp(out["gi_p"], ref).pvalue > 0.01
    # analytic and permutation inference mostly agree on the significant cells
    sig = out["gi_p"] < 0.01
    assert sig.any() and (hs.gistar(cells, "v")["gi_p"][sig] < 0.05).mean() > 0.8


def test_pseudo_p_formula_on_known_counts():
    # p = min(1, 2 * (min(#sim >= obs, #sim <= obs) + 1) / (P + 1)), ties in both tails
    at_least = np.array([99, 0, 3, 60, 99, 10])
    at_most = np.array([0, 99, 97, 50, 99, 89])  # 4th: 11 ties; 5th: all tied (constant)
    p = _gistar.pseudo_p(at_least, at_most, 99)
    np.testing.assert_array_equal(p, [0.02, 0.02, 0.08, 1.0, 1.0, 0.22])
    # one-sided-tie formulas give other answers on the tied cases
    old = np.minimum(1.0, 2.0 * (np.minimum(at_least, 99 - at_least) + 1) / 100)
    assert old[4] == 0.02 and p[4] == 1.0


def _slow_at_most(y, s, k, permutations, seed):
    """Twin: per-cell loop counting simulated neighbour sums <= the observed one."""
    n = len(y)
    kp = (np.rint(k) - 1).astype(int)
    width = kp.max() + 1
    rng = np.random.default_rng(seed)
    draws = [rng.choice(n, size=width, replace=False) for _ in range(permutations)]
    smaller = np.zeros(n, dtype=int)
    for i in range(n):
        obs = s[i] - y[i]
        for d in draws:
            others = [j for j in d if j != i][: kp[i]]
            smaller[i] += y[others].sum() <= obs
    return smaller


def test_permutation_p_counts_ties_toward_both_tails():
    cells = fishnet(7, 7)
    y = np.zeros(49)
    y[[0, 1, 7, 8, 30]] = [3, 2, 2, 1, 1]
    cells["count"] = y
    with pytest.warns(_gistar.SparseValuesWarning, match="zero"):
        out = hs.gistar(cells, "count", permutations=99, seed=4, fdr=False)
    w = _weights.contiguity(np.asarray(cells.geometry.values))
    s, k = _weights.sparse_sums(w, y)
    ge = _slow_permutation_counts(y, s, k, 99, seed=4)
    le = _slow_at_most(y, s, k, 99, seed=4)
    assert ((ge + le) > 99).any()  # there are ties
    want = np.minimum(1.0, 2 * (np.minimum(ge, le) + 1) / 100)
    np.testing.assert_array_equal(out["gi_p"].to_numpy(), want)


def _sparse_counts(nx=20, ny=20, seed=0):
    cells = fishnet(nx, ny)
    rng = np.random.default_rng(seed)
    y = np.zeros(nx * ny)
    hot = [r * nx + c for r in range(3) for c in range(3)]
    y[hot] = rng.integers(4, 9, len(hot))
    y[rng.choice(nx * ny, 15, replace=False)] += 1
    cells["count"] = y
    return cells


@pytest.mark.parametrize("null", ["values", "multinomial"])
def test_sparse_counts_no_cold_spot_among_empty_cells(null):
    cells = _sparse_counts()
    y = cells["count"].to_numpy()
    w = _weights.contiguity(np.asarray(cells.geometry.values))
    s, _ = _weights.sparse_sums(w, y)
    empty_area = s == 0  # the cell and all its neighbours are empty
    assert empty_area.sum() > 200
    with pytest.warns() if null == "values" else pywarnings.catch_warnings():
        out = hs.gistar(
            cells, "count", permutations=499 if null == "values" else 0, null=null, fdr=False
        )
    assert (out["gi_bin"][empty_area] >= 0).all()
    assert (out["gi_p"][empty_area] > 0.10).all()
    assert (out["gi_bin"].iloc[[0, 1, 20, 21]] > 0).all()  # the cluster is still hot


def test_constant_input_gives_p_one():
    cells = fishnet(6, 6).assign(count=3)
    for kwargs in ({}, {"permutations": 99}, {"null": "multinomial"}):
        out = hs.gistar(cells, "count", **kwargs)
        assert (out["gi_p"] == 1.0).all(), kwargs
        assert (out["gi_bin"] == 0).all()


def test_multinomial_p_equals_binomial_sums():
    from math import comb

    cells = _sparse_counts(8, 8, seed=2)
    y = cells["count"].to_numpy()
    w = _weights.contiguity(np.asarray(cells.geometry.values))
    s, k = _weights.sparse_sums(w, y)
    fast = _gistar.multinomial_p(y, s, k)
    n, total = len(y), int(y.sum())
    for i in range(n):
        trials, q, obs = total - int(y[i]), (k[i] - 1) / (n - 1), int(s[i] - y[i])
        pmf = [comb(trials, x) * q**x * (1 - q) ** (trials - x) for x in range(trials + 1)]
        upper, lower = sum(pmf[obs:]), sum(pmf[: obs + 1])
        assert fast[i] == pytest.approx(min(1.0, 2 * min(upper, lower)), rel=1e-9, abs=1e-12)


def test_multinomial_null_matches_simulated_report_placement():
    # under the null the p-values of a cell are (conservatively) uniform: P(p <= a) <= a
    cells = fishnet(6, 6)
    w = _weights.contiguity(np.asarray(cells.geometry.values))
    rng = np.random.default_rng(0)
    hits = 0
    trials = 400
    for _ in range(trials):
        y = np.bincount(rng.integers(0, 36, 30), minlength=36).astype(float)
        s, k = _weights.sparse_sums(w, y)
        hits += _gistar.multinomial_p(y, s, k)[14] <= 0.05
    assert hits / trials <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / trials)


def test_null_option_errors():
    cells = fishnet(3, 3).assign(v=[0.5] * 9)
    with pytest.raises(ValueError, match="null must be one of"):
        hs.gistar(cells, "v", null="poisson")
    with pytest.raises(ColumnError, match="needs counts"):
        hs.gistar(cells, "v", null="multinomial")


def test_islands_and_constant_values():
    cells = fishnet(5, 5)
    island = gpd.GeoDataFrame({"cell_code": ["far"]}, geometry=[box(0, 0, 100, 100)], crs=CRS)
    both = pd.concat([cells, island], ignore_index=True)
    both["count"] = np.arange(len(both))
    out = hs.gistar(both, "count")
    assert np.isnan(out["gi_z"].iloc[-1]) and out["gi_bin"].iloc[-1] == 0
    assert np.isfinite(out["gi_z"].iloc[:-1]).all()
    flat = hs.gistar(cells.assign(count=3), "count")
    assert (flat["gi_z"] == 0).all() and (flat["gi_bin"] == 0).all()


def test_optimized_band_and_moran_oracle():
    import esda
    import libpysal

    cells = fishnet(30, 30)
    cells["count"] = clustered_values(cells)
    inc = hs.incremental_morans(cells, "count")
    xy = shapely.get_coordinates(cells.centroid.values)
    d = float(inc["distance"].iloc[2])
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        w = libpysal.weights.DistanceBand(xy, d, binary=True, silence_warnings=True)
        mi = esda.Moran(cells["count"].to_numpy(float), w, transformation="B", permutations=0)
    assert inc["moran_i"].iloc[2] == pytest.approx(mi.I, abs=1e-12)
    assert inc["z"].iloc[2] == pytest.approx(mi.z_norm, abs=1e-9)
    out = hs.gistar(cells, "count", neighbours="optimized")
    band = out.attrs["gistar"]["distance_m"]
    assert 100 <= band <= 1000
    assert (out["gi_bin"] == 3).sum() > 10


def test_gistar_errors():
    cells = fishnet(3, 3)
    with pytest.raises(ColumnError, match="'nope'"):
        hs.gistar(cells, "nope")
    with pytest.raises(ColumnError, match="numeric"):
        hs.gistar(cells.assign(v=["a"] * 9), "v")
    with pytest.raises(ValueError, match="neighbours"):
        hs.gistar(cells.assign(v=1), "v", neighbours="bishop")
    with pytest.raises(CRSError):
        hs.gistar(cells.to_crs(4326).assign(v=1), "v", neighbours=200.0)


# ------------------------------------------------------------------ counts / profile
def test_counts_wide_long_and_rates():
    cells = fishnet(4, 3)
    cells["population"] = [0] + [500] * 11
    per = np.arange(12) % 4
    rep = reports_in(cells, per)
    out = hs.counts(rep, cells, by="category_code")
    ok = rep[rep["status"].isin(["assigned", "snapped"])]
    exp = ok.groupby("cell_code").size().reindex(cells["cell_code"], fill_value=0)
    np.testing.assert_array_equal(out["count"], exp.to_numpy())
    assert (out["count_0101"] + out["count_0203"] == out["count"]).all()
    np.testing.assert_allclose(out["per_km2"], out["count"] / 0.01)
    assert np.isnan(out["per_1000"].iloc[0])
    np.testing.assert_allclose(out["per_1000"].iloc[1:], out["count"].iloc[1:] / 500 * 1000)
    long = hs.counts(rep, cells, freq="M")
    assert len(long) == 12 * long["period"].nunique()
    assert (
        long.groupby("cell_code")["count"].sum().reindex(cells["cell_code"]).tolist()
        == exp.tolist()
    )
    grids = gpd.GeoDataFrame(
        {"grid_code": ["441302001001001"]}, geometry=[cells.union_all()], crs=CRS
    )
    assert hs.counts(rep, grids)["count"].iloc[0] == len(ok)
    with pytest.raises(ColumnError, match="category"):
        hs.counts(rep.drop(columns="category_code"), cells, by="category_code")


def test_time_profile():
    rep = pd.DataFrame(
        {
            "reported_at": ["2024-05-06 08:10", "2024-05-06 08:50", "2024-05-12 23:59"],
            "grid_code": ["g1", "g2", "g1"],
            "status": ["assigned", "assigned", "snapped"],
        }
    )
    long = hs.time_profile(rep, by="grid_code")
    assert len(long) == 2 * 7 * 24 and long["count"].sum() == 3
    wide = hs.time_profile(rep, pivot=True)
    assert wide.loc[8, "Mon"] == 2 and wide.loc[23, "Sun"] == 1 and wide.to_numpy().sum() == 3
    with pytest.raises(ColumnError, match="reported_at"):
        hs.time_profile(rep.drop(columns="reported_at"))


# ------------------------------------------------------------------ KDE
@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_kde_fft_equals_direct_sum(kernel):
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 1000, (40, 2))
    args = (xy, (0.0, 1000.0), 25.0, (40, 40), 150.0, kernel)
    fast = _kde.density_fft(*args)
    slow = _kde.density_direct(*args)
    np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-9 * slow.max())


def test_kde_surface_png_contours(tmp_path):
    area = gpd.GeoDataFrame(geometry=[box(0, 0, 2000, 1000)], crs=CRS)
    rng = np.random.default_rng(8)
    pts = gpd.GeoDataFrame(geometry=shapely.points(rng.normal([600, 500], 80, (300, 2))), crs=CRS)
    surf = hs.kde(pts, area, pixel=20)
    assert surf.array.shape == (50, 100)
    assert surf.bandwidth == pytest.approx(
        _kde.default_bandwidth(shapely.get_coordinates(pts.geometry.values))
    )
    total = np.nansum(surf.array) * (0.02**2)
    assert total == pytest.approx(300, rel=0.02)
    (row, col) = np.unravel_index(np.nanargmax(surf.array), surf.array.shape)
    assert abs(col * 20 + 10 - 600) <= 60 and abs(1000 - (row * 20 + 10) - 500) <= 60
    png = tmp_path / "kde.png"
    surf.to_png(png)
    import matplotlib.image as mimage

    img = mimage.imread(png)
    assert img.shape == (50, 100, 4) and img[..., 3].min() == 0 and img[..., 3].max() > 0
    (s, w), (n, e) = surf.bounds_latlon()
    assert s < n and w < e
    cont = surf.contours(4)
    assert len(cont) >= 3 and cont.crs == surf.crs and cont.is_valid.all()
    assert shapely.Point(600, 500).within(cont.iloc[-1].geometry)
    assert "DensitySurface" in repr(surf)


def test_kde_errors():
    area = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs=CRS)
    with pytest.raises(EmptyInputError):
        hs.kde(gpd.GeoDataFrame(geometry=[], crs=CRS), area)
    with pytest.raises(ValueError, match="kernel"):
        hs.kde(gpd.GeoDataFrame(geometry=[shapely.Point(1, 1)], crs=CRS), area, kernel="box")


# ------------------------------------------------------------------ Mann-Kendall
def test_mann_kendall_textbook_example():
    # "A Mann-Kendall Example (By Hand)", J. Little, College of the Holy Cross:
    # S = 54, V = 14*13*33/18 - 2*1*9/18, Z = 2.9058, one-sided p = 0.0018.
    x = [12.9, 14.8, 13.2, 15.7, 13.8, 15.6, 12.9, 11.0, 17.3, 15.9, 19.0, 18.3, 20.1, 21.7]
    s, var, z, p = _emerging.mann_kendall(np.array([x]))
    assert s[0] == 54
    assert var[0] == pytest.approx(14 * 13 * 33 / 18 - 2 * 1 * 9 / 18)
    assert z[0] == pytest.approx(2.9058, abs=1e-4)
    assert p[0] / 2 == pytest.approx(0.0018, abs=1e-4)
    assert _emerging.mann_kendall_slow(x) == pytest.approx((s[0], var[0], z[0], p[0]))


def test_mann_kendall_vectorised_matches_slow_and_scipy():
    rng = np.random.default_rng(9)
    x = rng.integers(0, 4, (50, 12)).astype(float)  # many ties
    s, var, z, p = _emerging.mann_kendall(x)
    t = np.arange(12)
    for i in range(50):
        assert _emerging.mann_kendall_slow(x[i]) == pytest.approx((s[i], var[i], z[i], p[i]))
        if var[i] > 0:
            tau = stats.kendalltau(t, x[i])  # same S and tie-corrected variance, no continuity
            zs = s[i] / np.sqrt(var[i])
            assert 2 * stats.norm.sf(abs(zs)) == pytest.approx(tau.pvalue, rel=1e-9)


# ------------------------------------------------------------------ emerging categories
def _series(pattern: str) -> np.ndarray:
    return np.array([c == "H" for c in pattern]), np.array([c == "C" for c in pattern])


@pytest.mark.parametrize(
    ("bins", "trend_z", "expected"),
    [
        ("..........", 0.0, "no pattern"),
        (".........H", 0.0, "new hot spot"),
        ("C........H", 0.0, "new hot spot"),
        (".......HHH", 0.0, "consecutive hot spot"),
        ("HHHHHHHHHH", 3.0, "intensifying hot spot"),
        ("HHHHHHHHHH", 0.5, "persistent hot spot"),
        (".HHHHHHHHH", 0.0, "persistent hot spot"),
        ("HHHHHHHHHH", -3.0, "diminishing hot spot"),
        ("H..H...H.H", 0.0, "sporadic hot spot"),
        ("H.C..H..HH", 0.0, "oscillating hot spot"),
        ("HHHHHHHHH.", 0.0, "historical hot spot"),
        (".........C", 0.0, "new cold spot"),
        ("........CC", 0.0, "consecutive cold spot"),
        ("CCCCCCCCCC", -3.0, "intensifying cold spot"),
        ("CCCCCCCCCC", 0.0, "persistent cold spot"),
        ("CCCCCCCCCC", 3.0, "diminishing cold spot"),
        ("C...C..C.C", 0.0, "sporadic cold spot"),
        ("C..H....CC", 0.0, "oscillating cold spot"),
        ("CCCCCCCCC.", 0.0, "historical cold spot"),
        ("HHHHHHHHHC", 0.0, "new cold spot"),  # last-bin pattern beats historical
        ("HHHHHHHCHC", 0.0, "oscillating cold spot"),
    ],
)
def test_emerging_categories(bins, trend_z, expected):
    hot, cold = _series(bins)
    tp = 2 * stats.norm.sf(abs(trend_z))
    code = _emerging.classify(hot[None, :], cold[None, :], np.array([trend_z]), np.array([tp]))
    assert _emerging.PATTERNS[int(code[0])] == expected


def test_emerging_end_to_end():
    cells = fishnet(12, 12)
    codes = cells["cell_code"].to_numpy()
    weeks = pd.date_range("2024-01-01", periods=14, freq="W-MON")
    rng = np.random.default_rng(10)

    def block(r, c):
        return [codes[(r + i) * 12 + c + j] for i in range(3) for j in range(3)]

    grow, hist, new = block(1, 1), block(7, 1), block(7, 8)
    rows = []
    for w, day in enumerate(weeks):
        for c in codes:
            rows += [(c, day)] * int(rng.poisson(1))
        for c in grow:  # a growing 3x3 cluster
            rows += [(c, day)] * (3 + w)
        for c in hist if w < 13 else new:  # one cluster stops, another starts in the last week
            rows += [(c, day)] * (8 if w < 13 else 12)
    rep = pd.DataFrame(rows, columns=["cell_code", "reported_at"]).assign(status="assigned")
    res = hs.emerging(rep, cells, freq="W")
    pat = res.cells.set_index("cell_code")["pattern"]
    assert pat[grow[4]] == "intensifying hot spot"
    assert pat[hist[4]] == "historical hot spot"
    assert pat[new[4]] == "new hot spot"
    assert res.cube.shape == (144, 14) and res.cube.to_numpy().sum() == len(rep)
    assert res.trend["z"] > 0
    assert "EmergingHotspots" in repr(res)
    cyl = hs.emerging(rep, cells, freq="W", time_neighbours="cylinder")
    assert cyl.cells.set_index("cell_code")["pattern"][grow[4]].endswith("hot spot")
    with pytest.raises(ValueError, match="time bins"):
        hs.emerging(rep.assign(reported_at=weeks[0]), cells, freq="W")


# ------------------------------------------------------------------ warnings
def test_warnings_levels_and_reasons():
    df = pd.DataFrame(
        {
            "gi_bin": [3, 2, 1, 0, 0, 0],
            "count": [5, 4, 3, 50, 1, 0],
            "pattern": [
                "no pattern",
                "no pattern",
                "no pattern",
                "no pattern",
                "new hot spot",
                "no pattern",
            ],
        }
    )
    out = hs.warnings(df)
    assert out["warning"].tolist() == ["red", "yellow", "blue", "yellow", "red", ""]
    assert "99 %" in out["warning_reason"].iloc[0]
    assert "new hot spot" in out["warning_reason"].iloc[4]
    assert "percentile" in out["warning_reason"].iloc[3]
    zh = hs.warnings(df, lang="zh")
    assert "置信度" in zh["warning_reason"].iloc[0]
    custom = hs.warnings(df, rules=hs.WarningRules(red_count=40, yellow_count_quantile=None))
    assert custom["warning"].iloc[3] == "red"
    with pytest.raises(ColumnError):
        hs.warnings(pd.DataFrame({"x": [1]}))
