"""The bundled demo district, and generators of demo reports and patrol tracks.

The demo district "城东区" (admin code 441308) is fictional: about 13 km² near lon 114.41,
lat 23.11 in southern China, stored in EPSG:4547 (CGCS2000 / 3-degree Gauss-Krüger CM 114E).
It has 3 subdistricts (街道), 12 communities (社区), an irregular street network, a river,
land use, service stations and points of interest. ``data/README.md`` describes every layer;
``scripts/make_demo_data.py`` regenerates it.

>>> from gridgeo.datasets import demo_city
>>> district, streets, communities = demo_city()
>>> len(communities), communities.crs.to_epsg()
(12, 4547)
"""

from __future__ import annotations

import html
import itertools
import logging
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib.resources import files
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyogrio import read_dataframe
from pyproj import Transformer
from shapely.geometry import LineString

from gridgeo.datasets import _reports as _gen
from gridgeo.errors import InputFileError

__all__ = ["DemoCity", "demo_city", "demo_patrols", "demo_reports"]

LOG = logging.getLogger(__name__)

LAYERS = (
    "district",
    "subdistricts",
    "communities",
    "streets",
    "rivers",
    "landuse",
    "stations",
    "pois",
)
REPORT_COLUMNS = (
    "report_id",
    "lng",
    "lat",
    "reported_at",
    "kind",
    "category_code",
    "class_name",
    "name",
    "source",
    "severity",
    "description",
    "address",
    "filed_at",
    "dispatched_at",
    "disposed_at",
    "closed_at",
    "reopened",
    "extended",
)
SOURCES = _gen.SOURCES
EMERGING_HOTSPOTS = tuple(_gen.EMERGING)
MALFORMED_KINDS = _gen.MALFORMED_KINDS


@dataclass(frozen=True, eq=False)
class DemoCity:
    """The demo district's layers, all GeoDataFrames in EPSG:4547.

    Unpacks as ``district, streets, communities = demo_city()``.

    Attributes
    ----------
    district : GeoDataFrame
        One polygon; ``admin_code``, ``name``.
    subdistricts : GeoDataFrame
        Streets (街道) tiling the district; ``admin_code``, ``street_code``, ``street_name``.
    communities : GeoDataFrame
        Communities (社区) tiling the subdistricts; the shared nesting columns and
        ``population``.
    streets : GeoDataFrame
        LineStrings; ``name``, ``kind`` (arterial/secondary/lane), ``width_m``.
    rivers : GeoDataFrame
        River centreline; ``name``, ``width_m``.
    landuse : GeoDataFrame
        Polygons covering the district; ``landuse``.
    stations : GeoDataFrame
        Points; ``name``, ``kind`` (liaison_station/service_station).
    pois : GeoDataFrame
        Points that attract reports; ``name``, ``kind``.
    """

    district: gpd.GeoDataFrame
    subdistricts: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    rivers: gpd.GeoDataFrame
    landuse: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    pois: gpd.GeoDataFrame

    def __iter__(self) -> Any:
        """Yield ``(district, streets, communities)``."""
        return iter((self.district, self.streets, self.communities))

    def _summary(self) -> list[tuple[str, str]]:
        rows = []
        for f in fields(self):
            gdf = getattr(self, f.name)
            kinds = ""
            if "kind" in gdf.columns:
                counts = gdf["kind"].value_counts()
                kinds = ", ".join(f"{k} {v}" for k, v in counts.items())
            rows.append((f.name, f"{len(gdf)}" + (f" ({kinds})" if kinds else "")))
        return rows

    def _title(self) -> str:
        d = self.district.iloc[0]
        area = float(self.district.area.sum()) / 1e6
        return f"{d['name']} {d['admin_code']}, {area:.2f} km², EPSG:{self.district.crs.to_epsg()}"

    def __repr__(self) -> str:
        body = "; ".join(f"{name}: {text}" for name, text in self._summary())
        return f"DemoCity({self._title()}; {body})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{html.escape(t)}</td></tr>"
            for n, t in self._summary()
        )
        return (
            f"<b>DemoCity</b> {html.escape(self._title())}"
            f"<table><tr><th>layer</th><th>features</th></tr>{rows}</table>"
        )


@lru_cache(maxsize=1)
def _layers() -> dict[str, gpd.GeoDataFrame]:
    path = files("gridgeo.demo_data") / "demo_city.gpkg"
    if not path.is_file():
        msg = (
            f"the demo data file {path} is missing; reinstall gridgeo or regenerate it with "
            "'python scripts/make_demo_data.py'."
        )
        raise InputFileError(msg)
    return {name: read_dataframe(str(path), layer=name) for name in LAYERS}


def demo_city() -> DemoCity:
    """Load the bundled demo district.

    Returns
    -------
    DemoCity
        Frozen dataclass of GeoDataFrames (EPSG:4547): ``district``, ``subdistricts``,
        ``communities``, ``streets``, ``rivers``, ``landuse``, ``stations``, ``pois``. Each call
        returns fresh copies; the file is read once per process.

    Raises
    ------
    InputFileError
        The packaged file is missing.

    Examples
    --------
    >>> city = demo_city()
    >>> city.communities[["street_code", "community_code", "community_name"]].iloc[0].tolist()
    ['001', '001', '东湖社区']
    >>> sorted(city.streets["kind"].unique())
    ['arterial', 'lane', 'secondary']
    """
    layers = _layers()
    return DemoCity(**{name: layers[name].copy() for name in LAYERS})


def _check_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        msg = f"{name} must be an integer >= {minimum}, got {value!r}."
        raise ValueError(msg)
    return int(value)


def _check_date(value: object, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as err:
        msg = f"{name} must be a date like '2026-01-01', got {value!r}."
        raise ValueError(msg) from err
    if ts is pd.NaT or ts.tzinfo is not None:
        msg = f"{name} must be a naive local date like '2026-01-01', got {value!r}."
        raise ValueError(msg)
    return ts.normalize()


@lru_cache(maxsize=1)
def _to_lonlat() -> Transformer:
    return Transformer.from_crs("EPSG:4547", "EPSG:4326", always_xy=True)


def demo_reports(
    n: int = 5000,
    *,
    start: str = "2026-01-01",
    end: str = "2026-03-31",
    seed: int = 0,
    malformed: bool = True,
) -> pd.DataFrame:
    """Generate reports (cases) in the demo district, as a case system would export them.

    Parameters
    ----------
    n : int, default 5000
        Number of reports.
    start, end : str, default "2026-01-01", "2026-03-31"
        First and last day (inclusive) on which reports are made.
    seed : int, default 0
        Random seed; the same seed gives the identical table.
    malformed : bool, default True
        Spoil about 0.5 % of the coordinates, every kind of
        :data:`MALFORMED_KINDS` at least once: NaN longitude, empty latitude, (0, 0),
        swapped lng/lat, latitude out of range, and the string ``"N/A"``. Then ``lng`` and
        ``lat`` are object columns; with ``False`` they are float64.

    Returns
    -------
    pandas.DataFrame
        One row per report, sorted by ``reported_at``, with the columns of
        :data:`REPORT_COLUMNS`: ``report_id`` (``"R000001"``...), ``lng``/``lat`` in GCJ-02
        (as from Amap or WeChat), ``reported_at``, ``kind``, ``category_code`` (from
        :func:`gridgeo.categories.default_categories`), ``class_name``, ``name``, ``source``
        (Chinese label, one of :data:`SOURCES`), ``severity`` (1-3), ``description``
        (free text from the public: may contain ``<``, ``>`` and ``&``), ``address``,
        ``filed_at``, ``dispatched_at``, ``disposed_at``, ``closed_at`` (NaT when not reached
        by the end of ``end``), ``reopened`` (count) and ``extended`` (deadline extended).

    Raises
    ------
    ValueError
        ``n`` is not a positive integer, a date cannot be read, or ``end`` is before ``start``.

    Notes
    -----
    About 60 % of reports cluster around points of interest (Gaussian spread 35-120 m by
    kind: markets, night markets, schools, bus hubs, malls, construction sites, hospitals,
    parks), 30 % lie along arterial and secondary streets and 10 % anywhere in the district;
    about 0.3 % lie 10-30 m outside the boundary (GPS error) and 0.1 % kilometres away. Daily
    rhythm by source (morning and evening peaks, vending in the evening), weekly rhythm, a
    Spring Festival dip, and two emerging hotspots (:data:`EMERGING_HOTSPOTS`, a night market
    whose rate grows six-fold and a construction site that starts a third into the period).
    Deadlines run on a Monday-Friday 08:00-18:00 working clock; about 7 % of cases are
    disposed after their deadline, 5 % get an extension, 3 % are reopened.

    Examples
    --------
    >>> reports = demo_reports(1000, seed=1)
    >>> reports.shape
    (1000, 18)
    >>> reports["report_id"].iloc[0], reports["lng"].dtype
    ('R000001', dtype('O'))
    >>> clean = demo_reports(200, malformed=False)
    >>> bool(clean["lng"].between(114, 115).all()), str(clean["lng"].dtype)
    (True, 'float64')
    """
    n = _check_int(n, "n", 1)
    seed = _check_int(seed, "seed", 0)
    t0 = _check_date(start, "start")
    t1 = _check_date(end, "end") + pd.Timedelta(days=1)
    if t1 <= t0:
        msg = f"end ({end!r}) must not be before start ({start!r})."
        raise ValueError(msg)
    from gridgeo.categories import default_categories
    from gridgeo.crs import convert

    layers = _layers()
    table = default_categories()
    rng = np.random.default_rng(seed)
    days = np.arange(t0.to_datetime64(), t1.to_datetime64(), np.timedelta64(1, "D")).astype(
        "datetime64[D]"
    )
    day = rng.choice(len(days), size=n, p=_gen.day_weights(days))
    day_frac = (day + 0.5) / len(days)
    ctx = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    xy, label, poi_idx = _gen.locations(ctx, day_frac, layers, rng)
    # a few points just outside the boundary and far away
    district = layers["district"].geometry.iloc[0]
    k_edge, k_far = max(1, round(0.003 * n)), max(1, round(0.001 * n))
    spoil = rng.choice(n, size=min(n, k_edge + k_far), replace=False)
    edge, far = _gen.outside_points(district, k_edge, k_far, rng)
    xy[spoil] = np.vstack([edge, far])[: len(spoil)]
    # what, who, when
    code = _gen.categories_for(label, table, rng)
    cat = table.loc[code]
    kind = cat["kind"].to_numpy()
    source = np.empty(n, dtype=object)
    for k in ("event", "component"):
        sel = np.flatnonzero(kind == k)
        p = _gen._SOURCE_P[k]
        source[sel] = rng.choice(np.array(SOURCES, dtype=object), size=len(sel), p=p / p.sum())
    hour = _gen.hours_for(source, code, rng)
    base = days.astype("datetime64[s]").astype("int64")[day]
    reported = base + hour * 3600 + rng.integers(0, 3600, n)
    severity = rng.choice([1, 2, 3], size=n, p=[0.6, 0.3, 0.1])
    urgent = np.char.startswith(code.astype(str), "E05")
    severity[urgent] = rng.choice([1, 2, 3], size=int(urgent.sum()), p=[0.1, 0.4, 0.5])
    times = _timeline(reported, source, cat, urgent, rng)
    # where, in words and in GCJ-02
    address, road = _addresses(xy, layers["streets"], rng)
    place = np.where(
        (poi_idx >= 0) & (rng.uniform(size=n) < 0.6),
        layers["pois"]["name"].to_numpy(dtype=object)[np.maximum(poi_idx, 0)],
        road,
    )
    description = _gen.describe(place, cat["name"].to_numpy(dtype=object), rng)
    lon, lat = _to_lonlat().transform(xy[:, 0], xy[:, 1])
    lng, lat = convert(lon, lat, "wgs84", "gcj02")
    lng, lat = np.round(lng, 6), np.round(lat, 6)
    order = np.argsort(reported, kind="stable")
    width = max(6, len(str(n)))
    frame = pd.DataFrame(
        {
            "report_id": [f"R{i:0{width}d}" for i in range(1, n + 1)],
            "lng": lng[order],
            "lat": lat[order],
            "reported_at": _dt(reported[order]),
            "kind": kind[order],
            "category_code": code[order],
            "class_name": cat["class_name"].to_numpy()[order],
            "name": cat["name"].to_numpy()[order],
            "source": source[order],
            "severity": severity[order].astype("int64"),
            "description": description[order],
            "address": address[order],
            **{k: _dt(v[order], limit=t1) for k, v in times.items() if k.endswith("_at")},
            "reopened": times["reopened"][order].astype("int64"),
            "extended": times["extended"][order].astype(bool),
        }
    )
    for col in ("kind", "category_code", "class_name", "name", "source", "description", "address"):
        frame[col] = frame[col].astype("str")
    _cascade_nat(frame)
    if malformed:
        bad = np.random.default_rng([seed, 7])
        lng_o, lat_o, _, _ = _gen.malform(frame["lng"].to_numpy(), frame["lat"].to_numpy(), bad)
        frame["lng"] = pd.Series(lng_o, dtype=object)
        frame["lat"] = pd.Series(lat_o, dtype=object)
    return frame[list(REPORT_COLUMNS)]


def _dt(seconds: np.ndarray, limit: pd.Timestamp | None = None) -> pd.Series:
    values = seconds.astype("datetime64[s]").astype("datetime64[ns]")
    out = pd.Series(values)
    if limit is not None:
        out = out.where(out < limit)
    return out


def _cascade_nat(frame: pd.DataFrame) -> None:
    """A stage not reached makes every later stage not reached."""
    stages = ["filed_at", "dispatched_at", "disposed_at", "closed_at"]
    for a, b in itertools.pairwise(stages):
        frame.loc[frame[a].isna(), b] = pd.NaT


def _timeline(
    reported: np.ndarray,
    source: np.ndarray,
    cat: pd.DataFrame,
    urgent: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Filing, dispatch, disposal and closure times (int seconds) with realistic delays."""
    n = len(reported)
    quick = np.isin(source, ["监督员", "巡查", "视频监控"])
    filed = reported + np.minimum(
        np.where(quick, _gen.lognormal(rng, 480, 0.7, n), _gen.lognormal(rng, 1500, 0.8, n)),
        48 * 3600,
    ).astype(np.int64)
    dispatch_delay = _gen.lognormal(rng, 900, 0.8, n).astype(np.int64)
    dispatched = np.where(
        urgent, filed + dispatch_delay // 3, _gen.from_work(_gen.to_work(filed) + dispatch_delay)
    )
    unit = cat["deadline_unit"].to_numpy()
    deadline = cat["deadline"].to_numpy(float)
    working = np.isin(unit, ["working_hours", "working_days"])
    seconds = deadline * np.select(
        [unit == "working_hours", unit == "working_days", unit == "hours"],
        [3600.0, float(_gen._WORKDAY), 3600.0],
        86400.0,
    )
    ratio = _gen.lognormal(rng, 0.35, 0.7, n)
    extended = rng.uniform(size=n) < 0.05
    ratio[extended] *= rng.uniform(1.5, 4.0, int(extended.sum()))
    handle = (seconds * ratio).astype(np.int64)
    disposed = np.where(
        working, _gen.from_work(_gen.to_work(dispatched) + handle), dispatched + handle
    )
    check = _gen.lognormal(rng, 2400, 0.9, n).astype(np.int64)
    closed = _gen.from_work(_gen.to_work(disposed) + check)
    u = rng.uniform(size=n)
    reopened = np.where(u < 0.005, 2, np.where(u < 0.03, 1, 0))
    redo = (seconds * _gen.lognormal(rng, 0.5, 0.5, n)).astype(np.int64) + check
    closed = _gen.from_work(_gen.to_work(closed) + reopened * redo)
    stuck = rng.uniform(size=n) < 0.007  # ownerless or disputed: never disposed
    never = reported + np.int64(100 * 365 * 86400)  # beyond any period: becomes NaT
    disposed = np.where(stuck, never, disposed)
    closed = np.where(stuck, never, closed)
    return {
        "filed_at": filed,
        "dispatched_at": dispatched,
        "disposed_at": disposed,
        "closed_at": closed,
        "reopened": reopened,
        "extended": extended,
    }


def _addresses(
    xy: np.ndarray, streets: gpd.GeoDataFrame, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """'<street><number>号' from the nearest named street, and the street name."""
    lines = streets.geometry.to_numpy()
    pts = shapely.points(xy)
    tree = shapely.STRtree(lines)
    near = np.full(len(xy), -1)
    found = tree.query_nearest(pts, max_distance=250.0, all_matches=False)
    near[found[0]] = found[1]
    rest = np.flatnonzero(near < 0)  # far outside the district: search without a limit
    if len(rest):
        near[rest] = tree.query_nearest(pts[rest], all_matches=False)[1]
    names = streets["name"].to_numpy(dtype=object)[near]
    along = shapely.line_locate_point(lines[near], pts)
    number = 2 * (along // 20).astype(np.int64) + 1 + rng.integers(0, 2, len(xy))
    address = np.array([f"{s}{k}号" for s, k in zip(names, number, strict=True)], dtype=object)
    return address, names


@lru_cache(maxsize=1)
def _street_pieces() -> np.ndarray:
    """The demo streets noded into junction-to-junction pieces."""
    lines = _layers()["streets"].geometry.to_numpy()
    merged = shapely.union_all(lines, grid_size=0.001)
    parts = shapely.get_parts(merged)
    return parts[shapely.get_type_id(parts) == 1]


def demo_patrols(*, day: str = "2026-03-02", workers: int = 12, seed: int = 0) -> gpd.GeoDataFrame:
    """Generate GPS fixes of grid workers walking the demo streets during one day's shifts.

    Each worker patrols the streets of one community (two communities, ``"002-001"`` and
    ``"003-002"``, have nobody, and a random walk never covers every lane, so some cells are
    never visited), 08:00-12:00 and 14:30-18:00, at about 1.1 m/s with short stops; one fix
    every 30 s with about 4 m of GPS noise.

    Parameters
    ----------
    day : str, default "2026-03-02"
        The date of the shift.
    workers : int, default 12
        Number of grid workers (1-99).
    seed : int, default 0
        Random seed; the same seed gives identical tracks.

    Returns
    -------
    GeoDataFrame
        One row per fix, EPSG:4547: ``worker_id`` (``"W01"``...), ``street_code``,
        ``community_code``, ``time`` (datetime64[ns]), ``geometry`` (Point).

    Raises
    ------
    ValueError
        ``workers`` is not an integer between 1 and 99, or ``day`` cannot be read.

    Examples
    --------
    >>> fixes = demo_patrols(workers=2)
    >>> sorted(fixes["worker_id"].unique())
    ['W01', 'W02']
    >>> str(fixes["time"].min())
    '2026-03-02 08:00:00'
    """
    workers = _check_int(workers, "workers", 1)
    if workers > 99:
        msg = f"workers must be an integer between 1 and 99, got {workers}."
        raise ValueError(msg)
    seed = _check_int(seed, "seed", 0)
    date = _check_date(day, "day")
    rng = np.random.default_rng([seed, 11])
    comm = _layers()["communities"]
    pieces = _street_pieces()
    mids = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    staffed = [i for i in range(len(comm)) if i not in (4, 9)]
    shifts = ((8 * 3600, 12 * 3600), (14 * 3600 + 1800, 18 * 3600))
    frames = []
    for w in range(workers):
        row = comm.iloc[staffed[w % len(staffed)]]
        mine = pieces[shapely.contains(row.geometry, mids)]
        for a, b in shifts:
            t = np.arange(a, b + 1, 30)
            speed = rng.uniform(0.9, 1.3) * (rng.uniform(size=len(t)) > 0.12)
            dist = np.concatenate([[0.0], np.cumsum(speed[1:] * 30.0)])
            path = LineString(_gen.street_walk(mine, float(dist[-1]) + 50.0, rng))
            pts = shapely.get_coordinates(shapely.line_interpolate_point(path, dist))
            pts = pts + rng.normal(0.0, 4.0, pts.shape)
            frames.append(
                pd.DataFrame(
                    {
                        "worker_id": f"W{w + 1:02d}",
                        "street_code": row["street_code"],
                        "community_code": row["community_code"],
                        "time": date + pd.to_timedelta(t, unit="s"),
                        "x": pts[:, 0],
                        "y": pts[:, 1],
                    }
                )
            )
    table = pd.concat(frames, ignore_index=True)
    geometry = gpd.points_from_xy(table.pop("x"), table.pop("y"), crs="EPSG:4547")
    table["time"] = table["time"].astype("datetime64[ns]")
    return gpd.GeoDataFrame(table, geometry=geometry)
