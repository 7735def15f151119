"""DB11 cell codes: ordering rule, sequence numbers and stable re-coding after a redraw.

Private helpers behind :func:`gridgeo.cells.code` and :func:`gridgeo.cells.recode`.

Ordering rule (documented in :func:`gridgeo.cells.code`)
--------------------------------------------------------
For each cell take the centroid ``(x, y)`` in the metric CRS, rounded to the centimetre.
With a row height ``h`` (metres), the cell's *row band* is ``floor(y / h)``. Cells are
numbered inside each community by band from north to south (descending band), then west to
east (ascending ``x``), then north to south inside the band (descending ``y``), then by input
position. Rounding to the centimetre makes the order insensitive to coordinate noise far
below a centimetre (reprojection round trips, re-noding), except for the vanishingly rare
centroid that sits within that noise of a rounding boundary.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import shapely

from gridgeo._validate import rows_preview
from gridgeo.errors import CodingError, ColumnError

CODE_PARTS = {"admin_code": 6, "street_code": 3, "community_code": 3}
NEST_COLUMNS = ("admin_code", "street_code", "street_name", "community_code", "community_name")
_DIGITS = re.compile(r"^\d+$")
_CODE_RE = re.compile(r"^\d{15}$")
MAX_SEQUENCE = 999


def normalise_part(values: pd.Series, column: str, width: int, name: str) -> pd.Series:
    """Return ``values`` as zero-padded digit strings of ``width``; raise on bad values."""
    missing = values.isna().to_numpy()
    if missing.any():
        msg = (
            f"{name} column {column!r} is empty in row(s) {rows_preview(values.index[missing])}. "
            "Every cell needs its nesting codes: build cells with nest=communities, or drop "
            "/ fill the cells that lie outside every community."
        )
        raise ColumnError(msg)
    text = values.map(_as_digits)
    bad = ~text.map(lambda s: bool(_DIGITS.match(s)) and len(s) <= width).to_numpy(dtype=bool)
    if bad.any():
        first = values[bad].iloc[0]
        msg = (
            f"{name} column {column!r} must hold codes of at most {width} digits, but row(s) "
            f"{rows_preview(values.index[bad])} hold e.g. {first!r}. Fix the codes in the "
            "communities layer (GB/T 2260 admin code: 6 digits; street and community: 3)."
        )
        raise ColumnError(msg)
    return text.str.zfill(width)


def _as_digits(value: object) -> str:
    if isinstance(value, bool):
        return "x"
    if isinstance(value, int | np.integer):
        return str(int(value)) if value >= 0 else "x"
    if isinstance(value, float | np.floating):
        return str(int(value)) if float(value).is_integer() and value >= 0 else "x"
    return str(value).strip()


def default_row_height(areas: np.ndarray) -> float:
    """Row height used when none is given: the median cell side, rounded to the metre."""
    sides = np.sqrt(np.asarray(areas, dtype=float))
    sides = sides[np.isfinite(sides) & (sides > 0)]
    if len(sides) == 0:
        return 100.0
    return float(max(1, round(float(np.median(sides)))))


def order_keys(geoms: np.ndarray, row_height: float) -> tuple[np.ndarray, ...]:
    """Sort keys (least significant first, for ``np.lexsort``) implementing the ordering rule."""
    xy = shapely.get_coordinates(shapely.centroid(geoms))
    x = np.round(xy[:, 0], 2)
    y = np.round(xy[:, 1], 2)
    band = np.floor(y / row_height)
    position = np.arange(len(geoms))
    return position, -y, x, -band


def sequence(prefix: np.ndarray, geoms: np.ndarray, row_height: float) -> np.ndarray:
    """Return 1-based sequence numbers inside each prefix group, following the ordering rule."""
    keys = order_keys(geoms, row_height)
    order = np.lexsort((*keys, prefix))
    seq = np.empty(len(prefix), dtype=np.int64)
    sorted_prefix = prefix[order]
    start = np.r_[True, sorted_prefix[1:] != sorted_prefix[:-1]] if len(order) else order
    group_start = np.maximum.accumulate(np.where(start, np.arange(len(order)), 0))
    seq[order] = np.arange(len(order)) - group_start + 1
    return seq


def check_capacity(prefix: np.ndarray, last: np.ndarray, names: pd.Series | None = None) -> None:
    """Raise :class:`CodingError` when a community would need sequence numbers above 999."""
    over = last > MAX_SEQUENCE
    if not over.any():
        return
    frame = pd.DataFrame({"prefix": prefix[over], "last": last[over]})
    worst = frame.groupby("prefix")["last"].max().sort_values(ascending=False)
    listed = ", ".join(f"{p} (needs {n})" for p, n in worst.head(5).items())
    msg = (
        f"cell codes allow at most {MAX_SEQUENCE} cells per community (3-digit sequence), but "
        f"community prefix(es) {listed} need more. Use larger cells (target_area=/size=), "
        "or split the community into several communities with their own codes."
    )
    raise CodingError(msg)


def split_codes(codes: pd.Series, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Split 15-digit codes into 12-digit prefixes and integer sequences; raise on bad codes."""
    text = codes.astype("string")
    bad = ~text.fillna("").str.fullmatch(r"\d{15}").to_numpy(dtype=bool)
    if bad.any():
        msg = (
            f"{name} column 'cell_code' must hold 15-digit codes, but row(s) "
            f"{rows_preview(codes.index[bad])} do not (e.g. {codes[bad].iloc[0]!r}). "
            "Code the cells first with gridgeo.cells.code()."
        )
        raise CodingError(msg)
    arr = text.to_numpy(dtype=object).astype(str)
    prefix = np.array([c[:12] for c in arr], dtype=object)
    seq = np.array([int(c[12:]) for c in arr], dtype=np.int64)
    return prefix, seq


def match_cells(
    new_geoms: np.ndarray,
    new_prefix: np.ndarray,
    old_geoms: np.ndarray,
    old_prefix: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, list[list[int]]]:
    """Match new cells to old ones.

    Returns ``kept`` (old position or -1 per new cell), ``best`` (the best overlap measure
    ``min(share of new, share of old)`` per new cell) and, per new cell, the old positions it
    overlaps by at least 1 % of its own area.
    """
    n = len(new_geoms)
    kept = np.full(n, -1, dtype=np.int64)
    best = np.zeros(n)
    touched: list[list[int]] = [[] for _ in range(n)]
    if n == 0 or len(old_geoms) == 0:
        return kept, best, touched
    tree = shapely.STRtree(old_geoms)
    src, dst = tree.query(new_geoms, predicate="intersects")
    inter = shapely.area(shapely.intersection(new_geoms[src], old_geoms[dst]))
    a_new = shapely.area(new_geoms)[src]
    a_old = shapely.area(old_geoms)[dst]
    with np.errstate(divide="ignore", invalid="ignore"):
        share_new = np.where(a_new > 0, inter / a_new, 0.0)
        share_old = np.where(a_old > 0, inter / a_old, 0.0)
    measure = np.minimum(share_new, share_old)
    np.maximum.at(best, src, measure)
    for i, j in zip(src[share_new >= 0.01].tolist(), dst[share_new >= 0.01].tolist(), strict=True):
        touched[i].append(j)
    candidate = (measure >= threshold) & (new_prefix[src] == old_prefix[dst])
    order = np.argsort(-measure[candidate], kind="stable")
    used_old: set[int] = set()
    for i, j in zip(src[candidate][order].tolist(), dst[candidate][order].tolist(), strict=True):
        if kept[i] == -1 and j not in used_old:
            kept[i] = j
            used_old.add(j)
    return kept, best, touched


def is_code(value: object) -> bool:
    """True for a 15-digit code string."""
    return isinstance(value, str) and bool(_CODE_RE.match(value))


def next_free(prefixes: np.ndarray, used: dict[str, int]) -> np.ndarray:
    """First sequence number above every used one, per prefix (1 for unseen communities)."""
    return np.array([used.get(p, 0) + 1 for p in prefixes], dtype=np.int64)


def highest_used(prefix: np.ndarray, seq: np.ndarray) -> dict[str, int]:
    """Highest sequence number used per prefix."""
    out: dict[str, int] = {}
    for p, s in zip(prefix.tolist(), seq.tolist(), strict=True):
        if s > out.get(p, -math.inf):
            out[p] = int(s)
    return out
