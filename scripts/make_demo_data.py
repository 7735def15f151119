"""Generate the bundled demo district ``data/demo_city.gpkg`` (deterministic, fixed seed).

The district is fictional: an irregular area of about 14 km² placed near lon 114.41, lat 23.11
(southern China), stored in EPSG:4547 (CGCS2000 / 3-degree Gauss-Krüger CM 114E, metres).
Everything is built with NumPy and shapely from a fixed seed; running the script again writes
a file with the same layers, rows and coordinates (GeoPackage timestamps are pinned too).

Usage::

    python scripts/make_demo_data.py            # writes data/demo_city.gpkg
    python scripts/make_demo_data.py --out /tmp/x.gpkg --plot /tmp/x.png

How it is built:

1. district boundary: a super-ellipse with low-frequency harmonics and small jitter;
2. a meandering river (centreline + 60 m width) with riverside roads on both banks;
3. five gently curved arterials and eight secondary roads (smoothed control polylines);
4. the "superblocks" between them are filled with lanes: a local grid rotated to the
   superblock's orientation, irregular spacing (60–170 m), staggered cross lanes, some dropped,
   some dead ends, plus cul-de-sacs;
5. all lines are noded together on a 1 mm grid so junctions share exact vertices; then a few
   lanes are made to overshoot or undershoot their junction by 0.5–2 m, as in real data;
6. superblocks are grouped into 12 communities inside 3 subdistricts (the river and an
   arterial separate the subdistricts), so community boundaries follow roads and the river;
7. land use per block, stations and points of interest are placed in matching blocks.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon

LOG = logging.getLogger("make_demo_data")

SEED = 20260101
CRS = "EPSG:4547"
CENTRE_LONLAT = (114.41, 23.11)
GRID = 0.001  # noding precision, metres
ADMIN_CODE = "441308"  # fictional: not assigned in GB/T 2260 (Huizhou prefix 4413)
DISTRICT_NAME = "城东区"
RIVER_WIDTH = 60.0
RIVERSIDE_OFFSET = 58.0

OUT_DEFAULT = Path(__file__).resolve().parents[1] / "data" / "demo_city.gpkg"


def _origin() -> tuple[float, float]:
    tr = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    x, y = tr.transform(*CENTRE_LONLAT)
    return round(x, 0), round(y, 0)


X0, Y0 = _origin()


# --------------------------------------------------------------------------------------
# geometry helpers (local coordinates, metres, origin at the district centre)


def _chaikin(points: np.ndarray, iterations: int = 4) -> np.ndarray:
    """Smooth an open polyline with Chaikin's corner cutting (ends kept)."""
    pts = np.asarray(points, dtype=float)
    for _ in range(iterations):
        q = 0.75 * pts[:-1] + 0.25 * pts[1:]
        r = 0.25 * pts[:-1] + 0.75 * pts[1:]
        mid = np.empty((2 * len(q), 2))
        mid[0::2] = q
        mid[1::2] = r
        pts = np.vstack([pts[:1], mid, pts[-1:]])
    return pts


def _line(points: np.ndarray, *, smooth: bool = True, tolerance: float = 0.3) -> LineString:
    pts = _chaikin(points) if smooth else np.asarray(points, dtype=float)
    pts = pts + np.array([X0, Y0])
    return shapely.simplify(LineString(pts), tolerance)


def _boundary(rng: np.random.Generator) -> Polygon:
    theta = np.linspace(0, 2 * np.pi, 241)[:-1]
    a, b, n = 2050.0, 1800.0, 3.2
    c, s = np.cos(theta), np.sin(theta)
    r = 1.0 / ((np.abs(c) / a) ** n + (np.abs(s) / b) ** n) ** (1 / n)
    wobble = np.zeros_like(theta)
    for k, amp in ((2, 0.06), (3, 0.07), (4, 0.03), (5, 0.045), (7, 0.03), (11, 0.015)):
        wobble += amp * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    jitter = np.convolve(rng.normal(0, 0.012, theta.size + 4), np.ones(5) / 5, mode="valid")
    r = r * (1 + wobble + jitter)
    pts = np.column_stack([r * c, r * s]) + np.array([X0, Y0])
    poly = Polygon(pts)
    return shapely.set_precision(shapely.simplify(poly, 1.0), GRID)


def _river() -> LineString:
    x = np.linspace(-2700, 2700, 28)
    y = -250 + 0.12 * x + 260 * np.sin(2 * np.pi * x / 3400 + 0.6) + 60 * np.sin(x / 310)
    return _line(np.column_stack([x, y]))


def _curve(x0: float, y0: float, x1: float, y1: float, amp: float, phase: float) -> np.ndarray:
    t = np.linspace(0, 1, 14)
    x = x0 + (x1 - x0) * t
    y = y0 + (y1 - y0) * t
    nx, ny = -(y1 - y0), (x1 - x0)
    norm = np.hypot(nx, ny)
    bend = amp * np.sin(np.pi * t * 1.6 + phase)
    return np.column_stack([x + bend * nx / norm, y + bend * ny / norm])


# name, points: arterials run across the whole district, secondaries between arterials.
ARTERIALS = [
    ("东江大道", _curve(-2600, 640, 2600, 760, 70, 0.3), 40.0),
    ("惠民大道", _curve(-720, 2300, -560, -2300, 60, 1.2), 36.0),
    ("云山路", _curve(820, 2300, 1020, -2300, 80, 2.0), 32.0),
    ("南湖路", _curve(-2600, -1180, 2600, -920, 60, 0.8), 32.0),
    ("演达大道", _curve(-2600, 1500, 2600, -1900, 90, 0.2), 36.0),
]
SECONDARIES = [
    ("学府路", _curve(-2600, 1320, 2600, 1420, 40, 1.0), 20.0),
    ("荔园路", _curve(-1560, 2300, -1460, -2300, 50, 0.4), 18.0),
    ("桥东路", _curve(60, 2300, 160, -2300, 45, 2.4), 18.0),
    ("金山路", _curve(1740, 2300, 1640, -2300, 40, 1.7), 18.0),
    ("新村路", _curve(-2600, 120, -560, 230, 30, 0.9), 16.0),
    ("长湖路", _curve(-2600, -1650, 2600, -1500, 40, 0.1), 16.0),
    ("鹅岭路", _curve(1000, 150, 2600, 250, 30, 0.5), 16.0),
    ("文昌路", _curve(-560, -600, 2600, -620, 40, 2.2), 16.0),
]


def _node(lines: list[LineString]) -> np.ndarray:
    """Node a set of lines on the precision grid; return the noded 2-point-or-more pieces."""
    merged = shapely.union_all(np.asarray(lines, dtype=object), grid_size=GRID)
    parts = shapely.get_parts(merged)
    return parts[shapely.get_type_id(parts) == 1]


def _superblocks(boundary: Polygon, frame_lines: list[LineString]) -> np.ndarray:
    pieces = _node([boundary.exterior, *frame_lines])
    faces = shapely.get_parts(shapely.polygonize(pieces))
    inside = shapely.within(shapely.point_on_surface(faces), boundary)
    return faces[inside]


def _orientation(face: Polygon) -> float:
    """Angle (radians) of the long side of the face's minimum rotated rectangle."""
    rect = np.asarray(shapely.minimum_rotated_rectangle(face).exterior.coords)
    d = np.diff(rect[:3], axis=0)
    i = int(np.argmax(np.hypot(d[:, 0], d[:, 1])))
    return float(np.arctan2(d[i, 1], d[i, 0]))


def _rotate(xy: np.ndarray, angle: float, centre: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    rel = xy - centre
    return np.column_stack([c * rel[:, 0] - s * rel[:, 1], s * rel[:, 0] + c * rel[:, 1]]) + centre


def _spacings(rng: np.random.Generator, lo: float, hi: float, length: float, a: float, b: float):
    """Positions between lo and hi with gaps drawn from U(a, b), none closer than a to the ends."""
    pos = []
    x = lo + rng.uniform(a, b)
    while x < hi - a * 0.8:
        pos.append(x)
        x += rng.uniform(a, b)
    return pos


def _lanes(face: Polygon, rng: np.random.Generator) -> list[tuple[LineString, bool]]:
    """Lanes filling one superblock: (line, is_dead_end) pairs, before clipping to the face."""
    if face.area < 12_000:
        return []
    angle = _orientation(face) + rng.normal(0, 0.05)
    centre = np.array(face.centroid.coords[0])
    local = shapely.transform(face, lambda xy: _rotate(xy, -angle, centre))
    minx, miny, maxx, maxy = local.bounds
    rows = [miny, *_spacings(rng, miny, maxy, maxy - miny, 75, 165), maxy]
    out: list[tuple[LineString, bool]] = []
    for y in rows[1:-1]:  # long lanes, full width, a gentle wiggle
        xs = np.array([minx - 20, (minx + maxx) / 2 + rng.normal(0, 30), maxx + 20])
        ys = y + np.array([rng.normal(0, 4), rng.normal(0, 6), rng.normal(0, 4)])
        out.append((np.column_stack([xs, ys]), False))
    for y_lo, y_hi in itertools.pairwise(rows):  # staggered cross lanes per strip
        for x in _spacings(rng, minx, maxx, maxx - minx, 65, 170):
            u = rng.uniform()
            if u < 0.07:
                continue  # dropped: two blocks merge
            slant = rng.normal(0, 10)
            top = y_hi + 8
            dead = u > 0.92
            if dead:  # dead end: stops inside the strip
                top = y_lo + (y_hi - y_lo) * rng.uniform(0.4, 0.75)
            out.append((np.array([[x - slant, y_lo - 8], [x + slant, top]]), dead))
    return [(LineString(_rotate(xy, angle, centre)), dead) for xy, dead in out]


# --------------------------------------------------------------------------------------
# the street network

_DIGITS = "零一二三四五六七八九"


def _cn_number(n: int) -> str:
    """Chinese numeral for 1..99 (一, 十, 十一, 二十三)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + ("" if ones == 0 else _DIGITS[ones])


LANE_PREFIXES = [
    "荔枝",
    "榕树",
    "桂花",
    "紫薇",
    "凤凰",
    "新村",
    "老街",
    "花园",
    "兴华",
    "永安",
    "长寿",
    "和平",
    "民乐",
    "富民",
    "同德",
    "阳光",
    "金湖",
    "银岗",
    "丰湖",
    "水门",
    "上塘",
    "下埔",
    "东平",
    "西湖",
    "南坛",
    "北门",
    "仁和",
    "新岭",
    "麦地",
    "龙湖",
    "翠园",
    "莲塘",
    "石井",
    "竹园",
    "梅岭",
    "松岗",
    "柏林",
    "樟园",
    "杨柳",
    "桃源",
    "李屋",
    "陈屋",
    "黄屋",
    "刘屋",
    "罗屋",
    "叶屋",
    "曾屋",
    "何屋",
    "吴屋",
    "张屋",
    "文华",
    "振兴",
    "光明",
    "建设",
    "团结",
    "胜利",
    "红星",
    "红旗",
    "前进",
    "幸福",
    "安居",
    "乐业",
    "吉祥",
    "如意",
    "丰收",
    "秀水",
]


def _noded_network(sources: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Node all source lines; drop short dangles; return pieces and the source index of each."""
    geoms = np.array([s["geometry"] for s in sources], dtype=object)
    pieces = _node(list(geoms))
    for _ in range(4):
        starts = shapely.get_point(pieces, 0)
        ends = shapely.get_point(pieces, -1)
        xy = np.round(shapely.get_coordinates(np.concatenate([starts, ends])), 3)
        _, inv, counts = np.unique(xy, axis=0, return_inverse=True, return_counts=True)
        deg = counts[inv.ravel()]
        dangle = (deg[: len(pieces)] == 1) | (deg[len(pieces) :] == 1)
        drop = dangle & (shapely.length(pieces) < 12.0)
        if not drop.any():
            break
        pieces = _node(list(pieces[~drop]))
    tree = shapely.STRtree(geoms)
    mids = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    idx = tree.query_nearest(mids, return_distance=False, all_matches=False)
    return pieces, idx[1]


def _merge(pieces: np.ndarray) -> list[LineString]:
    merged = shapely.line_merge(shapely.multilinestrings(pieces))
    return list(shapely.get_parts(merged))


def _messy(streets: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Make 8 lanes overshoot and 8 undershoot their end junction by 0.5-2 m."""
    streets = streets.copy()
    lanes = streets.index[(streets["kind"] == "lane") & (streets.length > 60)].to_numpy()
    others = shapely.STRtree(streets.geometry.values)
    chosen = rng.choice(lanes, size=40, replace=False)
    done = 0
    for i in chosen:
        line = streets.geometry.loc[i]
        coords = np.asarray(line.coords)
        end = Point(coords[-1])
        hits = others.query(end.buffer(0.01))
        if len(hits) < 2:  # dead end: nothing to overshoot
            continue
        d = coords[-1] - coords[-2]
        seg = float(np.hypot(*d))
        delta = rng.uniform(0.5, 2.0)
        over = done % 2 == 0
        if not over and seg < delta + 5:
            continue
        step = delta if over else -delta
        coords[-1] = coords[-1] + d / seg * step
        streets.loc[i, "geometry"] = shapely.set_precision(LineString(coords), GRID)
        done += 1
        if done == 16:
            break
    return streets


def _frame(rng: np.random.Generator) -> tuple[Polygon, LineString, list[dict]]:
    boundary = _boundary(rng)
    river = _river()
    sources: list[dict] = [
        {"geometry": boundary.exterior, "name": "", "kind": "boundary", "width_m": 0.0},
        {"geometry": river, "name": "东新河", "kind": "river", "width_m": RIVER_WIDTH},
    ]
    for name, off in (("滨江北路", RIVERSIDE_OFFSET), ("滨江南路", -RIVERSIDE_OFFSET)):
        line = shapely.offset_curve(river, off)
        sources.append({"geometry": line, "name": name, "kind": "secondary", "width_m": 16.0})
    for kind, table in (("arterial", ARTERIALS), ("secondary", SECONDARIES)):
        for name, pts, width in table:
            sources.append({"geometry": _line(pts), "name": name, "kind": kind, "width_m": width})
    return boundary, river, sources


def _lane_sources(
    boundary: Polygon, river: LineString, frame: list[dict], rng: np.random.Generator
) -> tuple[np.ndarray, list[dict]]:
    superblocks = _superblocks(boundary, [s["geometry"] for s in frame[1:]])
    strip = shapely.buffer(river, RIVERSIDE_OFFSET + 1.0)
    order = np.lexsort(
        (
            shapely.get_x(shapely.centroid(superblocks)),
            -np.round(shapely.get_y(shapely.centroid(superblocks)), -2),
        )
    )
    superblocks = superblocks[order]
    lanes: list[dict] = []
    for k, face in enumerate(superblocks):
        if shapely.intersects(face, river) or shapely.within(face, strip):
            continue
        prefix = LANE_PREFIXES[k % len(LANE_PREFIXES)]
        clip = face.buffer(0.5)
        n_street, n_lane = 0, 0
        for line, dead in _lanes(face, rng):
            part = shapely.intersection(line, clip)
            for piece in shapely.get_parts(part):
                if piece.length < 15:
                    continue
                if dead or piece.length < 250 or n_street >= 3:
                    n_lane += 1
                    name = f"{prefix}{_cn_number(min(n_lane, 99))}巷"
                else:
                    n_street += 1
                    name = f"{prefix}{'街' if n_street == 1 else _cn_number(n_street) + '街'}"
                lanes.append(
                    {
                        "geometry": piece,
                        "name": name,
                        "kind": "lane",
                        "width_m": float(rng.choice([4.0, 5.0, 6.0, 7.0, 8.0])),
                    }
                )
    return superblocks, lanes


def _streets_layer(
    sources: list[dict], pieces: np.ndarray, src: np.ndarray, district: Polygon
) -> gpd.GeoDataFrame:
    rows = []
    inside = shapely.within(shapely.line_interpolate_point(pieces, 0.5, normalized=True), district)
    for s in np.unique(src):
        meta = sources[s]
        if meta["kind"] in {"boundary", "river"}:
            continue
        sel = (src == s) & inside
        if not sel.any():
            continue
        attrs = {k: meta[k] for k in ("name", "kind", "width_m")}
        rows.extend(attrs | {"geometry": part} for part in _merge(pieces[sel]))
    streets = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    kind_order = streets["kind"].map({"arterial": 0, "secondary": 1, "lane": 2})
    streets = streets.assign(_k=kind_order).sort_values(["_k", "name"], kind="stable")
    return streets.drop(columns="_k").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# administrative layers

STREETS_ADMIN = (("001", "东湖街道"), ("002", "云山街道"), ("003", "江南街道"))
COMMUNITY_NAMES = {
    "001": ("东湖", "学府", "荔园", "新村"),
    "002": ("云山", "金山", "鹅岭", "滨江"),
    "003": ("江南", "南湖", "长湖", "文昌"),
}


def _kmeans(xy: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    centres = [xy[int(np.argmax(w))]]
    for _ in range(k - 1):  # farthest-point initialisation (deterministic)
        d = np.min([np.hypot(*(xy - c).T) for c in centres], axis=0)
        centres.append(xy[int(np.argmax(d * w**0.5))])
    c = np.array(centres)
    for _ in range(50):
        label = np.argmin(((xy[:, None, :] - c[None]) ** 2).sum(-1), axis=1)
        new = np.array(
            [np.average(xy[label == j], axis=0, weights=w[label == j]) for j in range(k)]
        )
        if np.allclose(new, c):
            break
        c = new
    return label


def _contiguous(groups: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Reassign faces so each group's union is one polygon (to the longest shared border)."""
    groups = groups.copy()
    for _ in range(10):
        changed = False
        for g in np.unique(groups):
            members = np.flatnonzero(groups == g)
            parts = shapely.get_parts(shapely.union_all(faces[members], grid_size=GRID))
            if len(parts) == 1:
                continue
            keep = parts[int(np.argmax(shapely.area(parts)))]
            for i in members:
                if shapely.intersects(shapely.point_on_surface(faces[i]), keep):
                    continue
                shared = shapely.length(
                    shapely.intersection(faces[i].boundary, shapely.boundary(faces), grid_size=GRID)
                )
                shared[groups == g] = -1
                groups[i] = groups[int(np.argmax(shared))]
                changed = True
        if not changed:
            break
    return groups


def _side(line: LineString, points: np.ndarray) -> np.ndarray:
    """+1 where points lie left of ``line`` (in its direction), -1 where right."""
    s = shapely.line_locate_point(line, points)
    a = shapely.get_coordinates(shapely.line_interpolate_point(line, np.maximum(s - 2, 0)))
    b = shapely.get_coordinates(shapely.line_interpolate_point(line, s + 2))
    p = shapely.get_coordinates(points)
    cross = (b[:, 0] - a[:, 0]) * (p[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (p[:, 0] - a[:, 0])
    return np.where(cross > 0, 1, -1)


def _admin(
    faces: np.ndarray, superblocks: np.ndarray, river: LineString, divider: LineString
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray]:
    """Subdistricts and communities from superblocks; returns (subdistricts, communities, face
    community index)."""
    sb_pt = shapely.point_on_surface(superblocks)
    north = _side(river, sb_pt) > 0
    east = _side(divider, sb_pt) > 0
    street_of_sb = np.where(north, np.where(east, 1, 0), 2)
    comm_of_sb = np.zeros(len(superblocks), dtype=int)
    xy = shapely.get_coordinates(shapely.centroid(superblocks))
    area = shapely.area(superblocks)
    for s in range(3):
        sel = np.flatnonzero(street_of_sb == s)
        comm_of_sb[sel] = s * 4 + _kmeans(xy[sel], area[sel], 4)
    comm_of_sb = _contiguous(comm_of_sb, superblocks)
    tree = shapely.STRtree(superblocks)
    pairs = tree.query(shapely.point_on_surface(faces), predicate="within")
    sb_of_face = np.full(len(faces), -1)
    sb_of_face[pairs[0]] = pairs[1]
    if (sb_of_face < 0).any():
        msg = "a block lies in no superblock"
        raise RuntimeError(msg)
    comm_of_face = comm_of_sb[sb_of_face]
    rows = []
    for c in np.unique(comm_of_face):
        geom = shapely.union_all(faces[comm_of_face == c], grid_size=GRID)
        rows.append({"_c": c, "_s": c // 4, "geometry": geom})
    comm = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    comm = comm.sort_values(["_s", "_c"]).reset_index(drop=True)
    cxy = shapely.get_coordinates(shapely.centroid(comm.geometry.values))
    order = np.lexsort((cxy[:, 0], -np.round(cxy[:, 1] / 400), comm["_s"].to_numpy()))
    comm = comm.iloc[order].reset_index(drop=True)
    comm["admin_code"] = ADMIN_CODE
    comm["street_code"] = [STREETS_ADMIN[s][0] for s in comm["_s"]]
    comm["street_name"] = [STREETS_ADMIN[s][1] for s in comm["_s"]]
    comm["community_code"] = (comm.groupby("_s").cumcount() + 1).map("{:03d}".format)
    comm["community_name"] = [
        COMMUNITY_NAMES[sc][int(cc) - 1] + "社区"
        for sc, cc in zip(comm["street_code"], comm["community_code"], strict=True)
    ]
    remap = dict(zip(comm["_c"], comm.index, strict=True))
    face_comm = np.array([remap[c] for c in comm_of_face])
    comm = comm.drop(columns=["_c", "_s"])
    subs = comm.dissolve(by=["admin_code", "street_code", "street_name"], as_index=False)[
        ["admin_code", "street_code", "street_name", "geometry"]
    ]
    subs["geometry"] = shapely.union_all(
        np.asarray([[g] for g in subs.geometry.values], dtype=object), grid_size=GRID, axis=1
    )
    return subs, comm, np.column_stack([face_comm, sb_of_face])


# --------------------------------------------------------------------------------------
# land use, points of interest, stations

POI_PLAN = (  # kind, count, landuse of its block (None: keep), names
    ("market", 9, None, "东湖 学府 荔园 新村 云山 金山 江南 南湖 长湖", "{}农贸市场"),
    (
        "school",
        8,
        "institutional",
        "城东第一小学 城东第二小学 云山中学 东湖小学 江南实验学校 学府中学 南湖小学 金山幼儿园",
        "{}",
    ),
    ("hospital", 3, "institutional", "城东区人民医院 城东区中医院 城东区妇幼保健院", "{}"),
    ("mall", 4, "commercial", "江城广场 云山购物中心 东江天地 南湖商业街", "{}"),
    (
        "bus_hub",
        5,
        None,
        "城东公交总站 演达大道公交枢纽 云山路公交站场 南湖公交总站 滨江公交站场",
        "{}",
    ),
    ("construction", 5, None, "金湖地块 荔园旧改 江南新城 文昌路管网改造 鹅岭安置房", "{}工地"),
    ("park", 3, "green", "滨江公园 金山公园 荔园公园", "{}"),
    ("night_market", 3, None, "学府路夜市 新村夜市 南湖夜市", "{}"),
)


def _spread(
    candidates: np.ndarray,
    xy: np.ndarray,
    k: int,
    rng: np.random.Generator,
    taken: list[np.ndarray],
) -> list[int]:
    """Pick k candidates far from each other and from points already taken."""
    chosen: list[int] = []
    pool = list(candidates)
    first = int(rng.choice(pool))
    placed = [*taken]
    for _ in range(k):
        if not placed:
            pick = first
        else:
            d = np.min([np.hypot(*(xy[pool] - p).T) for p in placed], axis=0)
            d = d * rng.uniform(0.7, 1.0, len(pool))
            pick = pool[int(np.argmax(d))]
        chosen.append(pick)
        placed.append(xy[pick])
        pool.remove(pick)
    return chosen


def _landuse_and_points(
    faces: np.ndarray,
    face_comm: np.ndarray,
    streets: gpd.GeoDataFrame,
    river: LineString,
    comm: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray]:
    n = len(faces)
    area = shapely.area(faces)
    pts = shapely.point_on_surface(faces)
    xy = shapely.get_coordinates(pts)
    rel = xy - np.array([X0, Y0])
    use = np.full(n, "residential", dtype=object)
    strip = shapely.within(faces, shapely.buffer(river, RIVERSIDE_OFFSET + 1.0))
    arterial = shapely.union_all(streets.geometry[streets["kind"] == "arterial"].values)
    near_art = shapely.dwithin(faces, arterial, 1.0)
    u = rng.uniform(size=n)
    use[(rel[:, 0] > 900) & (rel[:, 1] < -950) & (u < 0.85)] = "industrial"
    central = np.hypot(rel[:, 0] - 300, rel[:, 1] + 100) < 1300
    use[near_art & central & (rng.uniform(size=n) < 0.55)] = "commercial"
    use[(rng.uniform(size=n) < 0.04) & (area > 6000)] = "green"
    use[(rng.uniform(size=n) < 0.03) & (area > 6000)] = "institutional"
    use[strip] = "green"
    poi_rows, taken = [], []
    ok = (~strip) & (area > 7000) & (area < 40000)
    for kind, count, lu, names, pattern in POI_PLAN:
        if kind == "mall":
            cand = np.flatnonzero(ok & (use == "commercial"))
        elif kind in {"bus_hub", "night_market"}:
            cand = np.flatnonzero(ok & near_art & (use != "industrial"))
        elif kind == "construction":
            cand = np.flatnonzero(ok & (use != "green"))
        else:
            cand = np.flatnonzero(ok & (use == "residential"))
        picks = _spread(cand, xy, count, rng, taken if kind != "construction" else [])
        for name, i in zip(names.split(), picks, strict=True):
            if lu is not None:
                use[i] = lu
            # bus hubs and night markets sit at the street edge of their block
            geom = pts[i]
            if kind in {"bus_hub", "night_market"}:
                edge = shapely.shortest_line(arterial, faces[i].boundary)
                geom = shapely.line_interpolate_point(edge, 1.0, normalized=True)
                geom = shapely.line_interpolate_point(shapely.shortest_line(geom, pts[i]), 12.0)
            poi_rows.append({"name": pattern.format(name), "kind": kind, "geometry": geom})
        taken.extend(xy[picks])
        ok[picks] = False
    pois = gpd.GeoDataFrame(poi_rows, geometry="geometry", crs=CRS)
    pois["geometry"] = shapely.set_precision(pois.geometry.values, 0.01)
    # land use polygons: water cut out of the river strip, then same-use blocks of a
    # community dissolved and split into contiguous parts
    water = shapely.buffer(river, RIVER_WIDTH / 2, quad_segs=4)
    parts, uses, comms = [], [], []
    for i in range(n):
        if strip[i]:
            for g, lu in (
                (shapely.intersection(faces[i], water, grid_size=GRID), "water"),
                (shapely.difference(faces[i], water, grid_size=GRID), "green"),
            ):
                parts.append(g)
                uses.append(lu)
                comms.append(face_comm[i])
        else:
            parts.append(faces[i])
            uses.append(use[i])
            comms.append(face_comm[i])
    lu_df = gpd.GeoDataFrame({"landuse": uses, "_c": comms}, geometry=parts, crs=CRS)
    lu_df = lu_df.dissolve(by=["_c", "landuse"], as_index=False)
    lu_df["geometry"] = [
        shapely.union_all(shapely.get_parts(g), grid_size=GRID) for g in lu_df.geometry.values
    ]
    lu_df = lu_df.explode(index_parts=False)
    lu_df = lu_df[shapely.area(lu_df.geometry.values) > 1.0]
    lu_df = lu_df[["landuse", "geometry"]].reset_index(drop=True)
    # stations: liaison stations in most communities, plus a few service posts
    st_rows = []
    resid = np.flatnonzero(~strip & (area > 5000))
    for k, row in comm.iterrows():
        if k in (4, 9):  # two communities without their own station (coverage gaps)
            continue
        cand = resid[face_comm[resid] == k]
        cxy = np.array(row.geometry.centroid.coords[0])
        i = cand[int(np.argmin(np.hypot(*(xy[cand] - cxy).T)))]
        st_rows.append(
            {
                "name": f"{row['community_name']}城管工作联络站",
                "kind": "liaison_station",
                "geometry": pts[i],
            }
        )
    for name, poi in (
        ("滨江城管驿站", "滨江公园"),
        ("江城广场城管服务站", "江城广场"),
        ("城东公交总站城管服务站", "城东公交总站"),
    ):
        p = pois.geometry[pois["name"] == poi].iloc[0]
        st_rows.append(
            {
                "name": name,
                "kind": "service_station",
                "geometry": shapely.Point(p.x + 25.0, p.y - 15.0),
            }
        )
    stations = gpd.GeoDataFrame(st_rows, geometry="geometry", crs=CRS)
    stations["geometry"] = shapely.set_precision(stations.geometry.values, 0.01)
    return lu_df, pois, stations, use


# --------------------------------------------------------------------------------------
# assembly and output


def build(seed: int = SEED) -> dict[str, gpd.GeoDataFrame]:
    """Build every layer of the demo district in memory."""
    rng = np.random.default_rng(seed)
    boundary, river, frame = _frame(rng)
    superblocks, lanes = _lane_sources(boundary, river, frame, rng)
    sources = frame + lanes
    pieces, src = _noded_network(sources)
    district_geom = shapely.get_parts(shapely.polygonize(pieces[src == 0]))[0]
    inside = shapely.within(
        shapely.line_interpolate_point(pieces, 0.5, normalized=True), district_geom
    )
    faces = shapely.get_parts(shapely.polygonize(pieces[inside | (src == 0)]))
    streets = _streets_layer(sources, pieces, src, district_geom)
    divider = next(s["geometry"] for s in sources if s["name"] == "桥东路")
    subs, comm, face_idx = _admin(faces, superblocks, river, divider)
    landuse, pois, stations, use = _landuse_and_points(
        faces, face_idx[:, 0], streets, river, comm, rng
    )
    resid = np.bincount(
        face_idx[:, 0], weights=shapely.area(faces) * (use == "residential"), minlength=len(comm)
    )
    density = rng.uniform(0.006, 0.014, len(comm))  # people per m² of residential land
    comm["population"] = np.clip(np.round(resid * density, -1), 3000, 15000).astype("int64")
    streets = _messy(streets, rng)
    river_pieces = pieces[(src == 1) & inside]
    rivers = gpd.GeoDataFrame(
        {"name": ["东新河"], "width_m": [RIVER_WIDTH]},
        geometry=[shapely.line_merge(shapely.multilinestrings(river_pieces))],
        crs=CRS,
    )
    district = gpd.GeoDataFrame(
        {"admin_code": [ADMIN_CODE], "name": [DISTRICT_NAME]}, geometry=[district_geom], crs=CRS
    )
    return {
        "district": district,
        "subdistricts": subs,
        "communities": comm,
        "streets": streets,
        "rivers": rivers,
        "landuse": landuse,
        "stations": stations,
        "pois": pois,
    }


def write(layers: dict[str, gpd.GeoDataFrame], out: Path) -> None:
    """Write the layers to one GeoPackage atomically, with pinned timestamps."""
    out.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2026-01-01T00:00:00.000Z"})
    fd, tmp = tempfile.mkstemp(suffix=".gpkg", dir=out.parent)
    os.close(fd)
    Path(tmp).unlink()
    try:
        for name, gdf in layers.items():
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG")
        Path(tmp).replace(out)
    finally:
        if Path(tmp).exists():
            Path(tmp).unlink()
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def plot(layers: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    """Save a quick-look map of the district."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {
        "residential": "#f3e3c3",
        "commercial": "#f2a3a3",
        "institutional": "#c7b3e6",
        "industrial": "#c9c9c9",
        "green": "#b9e0a5",
        "water": "#9ec9ef",
    }
    fig, ax = plt.subplots(figsize=(13, 11))
    lu = layers["landuse"]
    lu.plot(ax=ax, color=lu["landuse"].map(colours), edgecolor="none")
    s = layers["streets"]
    for kind, lw, col in (
        ("lane", 0.4, "#777777"),
        ("secondary", 1.5, "#e8a000"),
        ("arterial", 2.6, "#d04040"),
    ):
        s[s["kind"] == kind].plot(ax=ax, linewidth=lw, color=col)
    layers["rivers"].plot(ax=ax, linewidth=2, color="#3a78c8")
    layers["communities"].boundary.plot(ax=ax, linewidth=1.2, color="#333399", linestyle="--")
    layers["subdistricts"].boundary.plot(ax=ax, linewidth=2.5, color="#222266")
    p = layers["pois"]
    p.plot(
        ax=ax,
        column="kind",
        markersize=40,
        legend=True,
        categorical=True,
        cmap="tab10",
        edgecolor="k",
        zorder=5,
    )
    layers["stations"].plot(ax=ax, marker="^", color="black", markersize=60, zorder=6)
    for _, row in layers["communities"].iterrows():
        c = row.geometry.representative_point()
        ax.annotate(
            row["community_code"] + "\n" + row["street_code"], (c.x, c.y), fontsize=8, ha="center"
        )
    ax.set_title("demo_city (EPSG:4547)")
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DEFAULT)
    parser.add_argument("--plot", type=Path, default=None, help="also save a PNG quick look")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    layers = build()
    write(layers, args.out)
    for name, gdf in layers.items():
        LOG.info("%-13s %5d features", name, len(gdf))
    LOG.info("wrote %s (%.0f kB)", args.out, args.out.stat().st_size / 1024)
    if args.plot:
        plot(layers, args.plot)


if __name__ == "__main__":
    main()
