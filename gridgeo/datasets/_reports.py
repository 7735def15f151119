"""Private generators behind :func:`gridgeo.datasets.demo_reports` and ``demo_patrols``.

Everything is vectorised with NumPy/shapely; a seed fixes every draw. Times are built as
``int64`` seconds since the Unix epoch and converted to ``datetime64[ns]`` at the end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

SOURCES = (
    "监督员",
    "12345热线",
    "市民APP",
    "视频监控",
    "微信公众号",
    "领导交办",
    "媒体曝光",
    "巡查",
    "其他",
)
# share of each source for events and components (inspectors find most components)
_SOURCE_P = {
    "event": np.array([0.40, 0.22, 0.10, 0.10, 0.07, 0.02, 0.01, 0.05, 0.03]),
    "component": np.array([0.56, 0.12, 0.10, 0.04, 0.06, 0.01, 0.005, 0.09, 0.025]),
}
_H = np.arange(24)


def _profile(*peaks: tuple[float, float, float], floor: float = 0.0) -> np.ndarray:
    """Hour-of-day weights: a floor plus Gaussian peaks (centre hour, width, height)."""
    w = np.full(24, floor)
    for centre, width, height in peaks:
        w = w + height * np.exp(-0.5 * ((_H + 0.5 - centre) / width) ** 2)
    return w


_DAYTIME = (_H >= 7) & (_H <= 21)
_HOURS = {  # hour-of-day profile per source (same order as SOURCES)
    "监督员": _profile((9.5, 1.5, 1.0), (15.5, 1.5, 0.9), (19.5, 1.0, 0.4)) * _DAYTIME,
    "12345热线": _profile((10.0, 1.5, 1.0), (20.0, 1.5, 0.8), floor=0.03),
    "市民APP": _profile((8.0, 1.0, 0.8), (12.5, 1.0, 0.4), (20.0, 1.8, 1.0), floor=0.04),
    "视频监控": _profile((8.0, 1.5, 0.6), (19.5, 2.0, 1.0), floor=0.25),
    "微信公众号": _profile((8.5, 1.2, 0.7), (21.0, 1.5, 1.0), floor=0.04),
    "领导交办": _profile((10.0, 1.2, 1.0), (15.5, 1.2, 0.8)) * _DAYTIME,
    "媒体曝光": _profile((11.0, 2.5, 1.0), floor=0.02),
    "巡查": _profile((9.5, 1.2, 0.8), (15.5, 1.2, 0.7), (20.5, 1.0, 0.9)) * _DAYTIME,
    "其他": _profile((10.0, 2.0, 1.0), (16.0, 2.0, 0.8), floor=0.05),
}
# illegal vending, shop-front trading and open-air barbecue happen in the evening
_EVENING_CODES = ("E0501", "E0502", "E0505")
_EVENING = _profile((19.5, 1.8, 3.0), (7.0, 0.8, 0.8), floor=0.6)

POI_WEIGHT = {
    "market": 3.0,
    "night_market": 2.0,
    "school": 1.5,
    "bus_hub": 1.5,
    "mall": 1.2,
    "construction": 1.2,
    "hospital": 1.0,
    "park": 0.8,
}
POI_SIGMA = {
    "market": 40.0,
    "night_market": 35.0,
    "school": 60.0,
    "bus_hub": 50.0,
    "mall": 80.0,
    "construction": 45.0,
    "hospital": 70.0,
    "park": 120.0,
}
# emerging hotspots: report rate grows over the period (name: start fraction, final factor)
EMERGING = {"南湖夜市": (0.0, 6.0), "江南新城工地": (0.35, 8.0)}
# category boosts per context, by class prefix (E04 = street order events ...)
_BOOST = {
    "market": {"E01": 3.0, "E04": 3.0, "E02": 1.5},
    "night_market": {"E04": 5.0, "E01": 2.0, "E06": 2.0},
    "school": {"E04": 2.0, "C02": 2.0, "E02": 2.0},
    "bus_hub": {"E04": 2.0, "C02": 3.0, "E01": 1.5},
    "mall": {"E04": 2.0, "E02": 2.0, "C03": 2.0},
    "construction": {"E03": 8.0, "E01": 2.0},
    "hospital": {"E04": 3.0},
    "park": {"C04": 4.0, "C05": 2.0, "E01": 1.5},
    "street": {"C01": 2.0, "C02": 2.0, "E04": 1.5, "E03": 1.2},
    "area": {},
}
_WEEKDAY = np.array([1.15, 1.0, 1.0, 1.0, 1.05, 0.8, 0.7])
_SPRING_FESTIVAL = (np.datetime64("2026-02-15"), np.datetime64("2026-02-23"))

# working-time clock: Monday-Friday 08:00-18:00 (no public holidays)
_MONDAY = np.int64(4 * 86400)  # 1970-01-05 was a Monday
_WORKDAY = np.int64(10 * 3600)
_START = np.int64(8 * 3600)

_TEMPLATES = (
    "{place}附近{name}，请尽快处理",
    "{place}有{name}问题",
    "市民反映{place}{name}，影响通行",
    "{place}{name}，已拍照上报",
    "巡查发现：{place}{name}",
    "{place}门口{name}，多次出现",
)
_UNSAFE_TEMPLATES = (  # text from the public: must be escaped in HTML output
    "{place}<b>{name}</b>问题反复出现 & 无人管理",
    "{name}严重!! <script>alert('x')</script> 地点：{place}",
    "{place} A&B栋之间{name}",
    "“{name}” > 3天未处理，{place}",
)


def to_work(t: np.ndarray) -> np.ndarray:
    """Seconds since the epoch -> working seconds (Mon-Fri 08:00-18:00) since a Monday."""
    e = t - _MONDAY
    day = e // 86400
    weekday = day % 7
    sod = e % 86400
    in_week = np.where(
        weekday >= 5, 5 * _WORKDAY, weekday * _WORKDAY + np.clip(sod - _START, 0, _WORKDAY)
    )
    return (day // 7) * 5 * _WORKDAY + in_week


def from_work(w: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_work` (the start of the working second)."""
    week, r = np.divmod(w, 5 * _WORKDAY)
    weekday, s = np.divmod(r, _WORKDAY)
    return _MONDAY + week * 7 * 86400 + weekday * 86400 + _START + s


def _sample_rows(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Vectorised categorical draw: ``cum`` rows are cumulative probabilities."""
    idx = (u[:, None] > cum).sum(axis=1)
    return np.minimum(idx, cum.shape[1] - 1)


def _uniform_in(poly: object, k: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = shapely.bounds(poly)
    out = np.empty((0, 2))
    while len(out) < k:
        m = max(64, 2 * (k - len(out)))
        xy = np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)])
        out = np.vstack([out, xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]])
    return out[:k]


def day_weights(days: np.ndarray) -> np.ndarray:
    """Relative report volume per calendar day: weekly rhythm, Spring Festival dip, trend."""
    weekday = ((days.astype("int64") - 4) % 7).astype(int)
    w = _WEEKDAY[weekday].copy()
    holiday = (days >= _SPRING_FESTIVAL[0]) & (days <= _SPRING_FESTIVAL[1])
    w[holiday] *= 0.5
    w *= np.linspace(1.0, 1.1, len(days))
    return w / w.sum()


def locations(
    ctx: np.ndarray, day_frac: np.ndarray, city: dict, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw EPSG:4547 points: ctx 0 near POIs, 1 along main streets, 2 uniform.

    Returns (xy, context label, POI index or -1).
    """
    n = len(ctx)
    district = city["district"].geometry.iloc[0]
    pois = city["pois"]
    xy = np.empty((n, 2))
    label = np.full(n, "area", dtype=object)
    poi_idx = np.full(n, -1)
    # near POIs, with time-dependent weights for the emerging hotspots
    sel = np.flatnonzero(ctx == 0)
    base = pois["kind"].map(POI_WEIGHT).to_numpy(float)
    grow = np.ones((len(sel), len(pois)))
    for name, (t0, factor) in EMERGING.items():
        j = np.flatnonzero(pois["name"].to_numpy() == name)
        if len(j):
            f = np.clip((day_frac[sel] - t0) / (1 - t0), 0, 1)
            grow[:, j[0]] = np.where(day_frac[sel] < t0, 0.05, 1 + (factor - 1) * f)
    w = base[None, :] * grow
    cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    pick = _sample_rows(cum, rng.uniform(size=len(sel)))
    pxy = shapely.get_coordinates(pois.geometry.values)
    sigma = pois["kind"].map(POI_SIGMA).to_numpy(float)
    xy[sel] = pxy[pick] + rng.normal(size=(len(sel), 2)) * sigma[pick, None]
    label[sel] = pois["kind"].to_numpy()[pick]
    poi_idx[sel] = pick
    # along arterials and secondary roads
    sel = np.flatnonzero(ctx == 1)
    streets = city["streets"]
    main = streets[streets["kind"].isin(["arterial", "secondary"])]
    lines = main.geometry.to_numpy()
    w = shapely.length(lines) * np.where(main["kind"].to_numpy() == "arterial", 2.0, 1.0)
    j = rng.choice(len(lines), size=len(sel), p=w / w.sum())
    pts = shapely.line_interpolate_point(lines[j], rng.uniform(size=len(sel)), normalized=True)
    spread = main["width_m"].to_numpy(float)[j] / 3 + 3
    xy[sel] = shapely.get_coordinates(pts) + rng.normal(size=(len(sel), 2)) * spread[:, None]
    label[sel] = "street"
    # uniform, and anything that fell outside the district
    out = (ctx == 2) | ~shapely.contains_xy(district, xy[:, 0], xy[:, 1])
    xy[out] = _uniform_in(district, int(out.sum()), rng)
    label[out & (ctx == 2)] = "area"
    return xy, label, poi_idx


def outside_points(district: object, k_edge: int, k_far: int, rng: np.random.Generator):
    """Points 10-30 m outside the boundary (GPS error) and 2-20 km away."""
    ring = shapely.get_exterior_ring(district)
    centre = shapely.get_coordinates(shapely.centroid(district))[0]
    edge = np.empty((0, 2))
    while len(edge) < k_edge:
        m = 2 * (k_edge - len(edge)) + 8
        s = rng.uniform(0, shapely.length(ring), m)
        a = shapely.get_coordinates(shapely.line_interpolate_point(ring, s - 1.0))
        b = shapely.get_coordinates(shapely.line_interpolate_point(ring, s + 1.0))
        p = (a + b) / 2
        t = (b - a) / np.hypot(*(b - a).T)[:, None]
        normal = np.column_stack([t[:, 1], -t[:, 0]])
        flip = np.sign(((p - centre) * normal).sum(axis=1))
        cand = p + normal * flip[:, None] * rng.uniform(10, 30, m)[:, None]
        d = shapely.distance(district, shapely.points(cand))
        edge = np.vstack([edge, cand[(d >= 10) & (d <= 30)]])
    ang = rng.uniform(0, 2 * np.pi, k_far)
    r = rng.uniform(2000, 20000, k_far) + 3000
    far = centre + np.column_stack([np.cos(ang), np.sin(ang)]) * r[:, None]
    return edge[:k_edge], far


def categories_for(label: np.ndarray, table: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Category code per report: the table's weights, boosted by the place's context."""
    codes = table.index.to_numpy()
    prefix = np.array([c[:3] for c in codes])
    weight = table["weight"].to_numpy(float)
    out = np.empty(len(label), dtype=object)
    for ctx in sorted(set(label.tolist())):
        sel = np.flatnonzero(label == ctx)
        boost = np.ones(len(codes))
        for key, factor in _BOOST.get(ctx, {}).items():
            boost[prefix == key] *= factor
        p = weight * boost
        out[sel] = rng.choice(codes, size=len(sel), p=p / p.sum())
    return out


def hours_for(source: np.ndarray, code: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Hour of day per report from the source's rhythm; vending in the evening."""
    hours = np.empty(len(source), dtype=np.int64)
    evening = np.isin(code, _EVENING_CODES)
    for s in SOURCES:
        for ev in (False, True):
            sel = np.flatnonzero((source == s) & (evening == ev))
            if len(sel) == 0:
                continue
            w = _HOURS[s] * (_EVENING if ev else 1.0)
            hours[sel] = rng.choice(24, size=len(sel), p=w / w.sum())
    return hours


def lognormal(rng: np.random.Generator, median: float, sigma: float, size: int) -> np.ndarray:
    return median * np.exp(rng.normal(0.0, sigma, size))


def describe(place: np.ndarray, name: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Short Chinese descriptions; about 1 in 100 carries HTML-special characters."""
    n = len(place)
    unsafe = rng.uniform(size=n) < 0.01
    t = rng.integers(0, len(_TEMPLATES), n)
    tu = rng.integers(0, len(_UNSAFE_TEMPLATES), n)
    return np.array(
        [
            (_UNSAFE_TEMPLATES[b] if u else _TEMPLATES[a]).format(place=p, name=m)
            for a, b, u, p, m in zip(t, tu, unsafe, place, name, strict=True)
        ],
        dtype=object,
    )


MALFORMED_KINDS = ("nan_lng", "empty_lat", "zero", "swapped", "lat_out_of_range", "not_a_number")


def malform(lng: np.ndarray, lat: np.ndarray, rng: np.random.Generator):
    """Return object arrays with about 0.5 % malformed rows (every kind at least once)."""
    n = len(lng)
    k = min(n, max(len(MALFORMED_KINDS), round(0.005 * n)))
    rows = np.sort(rng.choice(n, size=k, replace=False))
    kinds = np.array(MALFORMED_KINDS)[rng.permutation(np.arange(k) % len(MALFORMED_KINDS))]
    lng_o = lng.astype(object)
    lat_o = lat.astype(object)
    for r, kind in zip(rows, kinds, strict=True):
        if kind == "nan_lng":
            lng_o[r] = np.nan
        elif kind == "empty_lat":
            lat_o[r] = ""
        elif kind == "zero":
            lng_o[r], lat_o[r] = 0.0, 0.0
        elif kind == "swapped":
            lng_o[r], lat_o[r] = lat[r], lng[r]
        elif kind == "lat_out_of_range":
            lat_o[r] = round(float(lat[r]) * 10, 6)
        else:
            lng_o[r], lat_o[r] = "N/A", "N/A"
    return lng_o, lat_o, rows, kinds


def street_walk(lines: np.ndarray, length: float, rng: np.random.Generator) -> np.ndarray:
    """A random walk of about ``length`` metres on a noded street graph; returns vertices."""
    ends = np.round(
        shapely.get_coordinates(
            np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1)])
        ),
        2,
    )
    _, node = np.unique(ends, axis=0, return_inverse=True)
    node = node.ravel()
    a, b = node[: len(lines)], node[len(lines) :]
    adj: dict[int, list[tuple[int, int]]] = {}
    for e, (u, v) in enumerate(zip(a, b, strict=True)):
        adj.setdefault(int(u), []).append((e, int(v)))
        adj.setdefault(int(v), []).append((e, int(u)))
    coords = [shapely.get_coordinates(g) for g in lines]
    cur = int(a[rng.integers(len(lines))])
    prev_edge = -1
    path = [ends[np.flatnonzero(node == cur)[0]]]
    walked = 0.0
    while walked < length:
        options = [(e, v) for e, v in adj[cur] if e != prev_edge] or adj[cur]
        e, v = options[int(rng.integers(len(options)))]
        xy = coords[e] if a[e] == cur else coords[e][::-1]
        path.append(xy[1:])
        walked += float(np.hypot(*np.diff(xy, axis=0).T).sum())
        prev_edge, cur = e, v
    return np.vstack([np.atleast_2d(p) for p in path])
