"""Grid labels on static maps: short, unambiguous, inside their grid, never overlapping."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

logger = logging.getLogger(__name__)

__all__ = ["place_labels", "short_labels"]


def short_labels(codes: pd.Series) -> list[str]:
    """The shortest unambiguous grid labels: the 3-digit grid number when it is unique,
    else community and grid number (``"2-001"``: community 002, grid 001), else street,
    community and grid number (``"1-2-001"``), and so on up to the whole code.

    Examples
    --------
    >>> short_labels(pd.Series(["441302001001001", "441302001001002"]))
    ['001', '002']
    >>> short_labels(pd.Series(["441302001001001", "441302001002001"]))
    ['1-001', '2-001']
    >>> short_labels(pd.Series(["441302001001001", "441302002001001"]))
    ['1-1-001', '2-1-001']
    """
    text = [str(c) for c in codes]
    longest = max((len(t) for t in text), default=0)
    for k in range(3, longest + 1):
        tails = [t[-k:] for t in text]
        if len(set(tails)) == len(tails):
            break
    else:
        return text  # repeated codes: nothing shorter can tell them apart
    if k == longest:
        return text
    if k > 3:
        k = min(longest, 3 * math.ceil(k / 3))  # whole 3-digit parts: street-community-grid
        return [
            "-".join([*(_part(t[-j - 3 : -j]) for j in range(k - 3, 0, -3)), t[-3:]]) for t in text
        ]
    return tails


def _part(chunk: str) -> str:
    """A 3-digit code part without its leading zeros ("002" -> "2"); other text unchanged."""
    return str(int(chunk)) if chunk.isdigit() else chunk


def _label_points(geom: Any) -> list[tuple[float, float]]:
    """Candidate anchors inside the polygon: pole of inaccessibility, representative point,
    centroid (when inside)."""
    out = []
    try:
        circle = shapely.maximum_inscribed_circle(geom, tolerance=0)
        centre = shapely.get_point(circle, 0)
        out.append((centre.x, centre.y))
    except (AttributeError, shapely.errors.GEOSException):  # shapely < 2.1
        pass
    rep = geom.representative_point()
    out.append((rep.x, rep.y))
    cen = geom.centroid
    if geom.contains(cen):
        out.append((cen.x, cen.y))
    return list(dict.fromkeys(out))


def _with_leader(
    ax: Any,
    anchor: tuple[float, float],
    label: str,
    fontsize: float,
    placed: list[np.ndarray],
    write: Any,
) -> tuple[Any, np.ndarray] | None:
    """Put a crowded label in the nearest free spot around its polygon, with a leader line."""
    px, py = ax.transData.transform(anchor)
    probe, box = write(*anchor, label, fontsize)
    probe.remove()
    step = (box[3] - box[1]) * 1.2
    frame = ax.get_window_extent()
    to_data = ax.transData.inverted()
    for ring in (1.5, 2.5, 3.5, 5.0):
        for angle in np.radians(np.arange(0, 360, 30)):
            x, y = px + ring * step * np.cos(angle), py + ring * step * np.sin(angle)
            dx, dy = to_data.transform((x, y))
            text, box = write(dx, dy, label, fontsize)
            inside = frame.x0 <= box[0] and box[2] <= frame.x1
            inside = inside and frame.y0 <= box[1] and box[3] <= frame.y1
            if inside and not _overlaps(box, placed):
                ax.annotate(
                    "",
                    xy=anchor,
                    xytext=(dx, dy),
                    arrowprops={"arrowstyle": "-", "linewidth": 0.6, "color": "#333333"},
                    zorder=5,
                )
                return text, box
            text.remove()
    return None


def _overlaps(box: np.ndarray, placed: list[np.ndarray]) -> bool:
    if not placed:
        return False
    other = np.asarray(placed)
    return bool(
        np.any(
            (box[0] < other[:, 2])
            & (other[:, 0] < box[2])
            & (box[1] < other[:, 3])
            & (other[:, 1] < box[3])
        )
    )


def _furniture(ax: Any, renderer: Any) -> list[np.ndarray]:
    """Screen boxes of what is already drawn on top of the map: legend, texts (north arrow,
    scale bar labels) and high patches (the scale bar)."""
    artists = [*ax.texts, *(p for p in ax.patches if p.get_zorder() >= 5)]
    if ax.get_legend() is not None:
        artists.append(ax.get_legend())
    out = []
    for artist in artists:
        ext = artist.get_window_extent(renderer)
        out.append(np.array([ext.x0, ext.y0, ext.x1, ext.y1]))
    return out


def place_labels(
    ax: Any, geoms: np.ndarray, labels: Sequence[str], *, size: float | None = None
) -> list[Any]:
    """Write one label per polygon, inside it, without two labels overlapping.

    Large polygons are labelled first. Each label tries the polygon's pole of inaccessibility,
    representative point and centroid at the full size, then at 80 % and 65 %; the first
    spot that is inside the polygon and free wins, else the first free spot, else the pole at
    the smallest size with a leader line to the nearest free spot around it (else it
    stays on its pole, logged). The legend, north arrow and scale bar count as taken.
    Returns the text artists in input order.
    """
    import matplotlib.patheffects as pe

    fig = ax.figure
    ax.apply_aspect()
    renderer = fig.canvas.get_renderer()
    base = size if size is not None else (9.0 if len(geoms) <= 40 else 6.0)
    to_data = ax.transData.inverted()
    halo = [pe.withStroke(linewidth=2.2, foreground="white")]
    placed: list[np.ndarray] = _furniture(ax, renderer)
    texts: list[Any] = [None] * len(geoms)
    crowded = 0

    def write(x: float, y: float, label: str, fontsize: float) -> tuple[Any, np.ndarray]:
        text = ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=fontsize,
            parse_math=False,
            zorder=6,
            path_effects=halo,
        )
        ext = text.get_window_extent(renderer)
        return text, np.array([ext.x0, ext.y0, ext.x1, ext.y1])

    for i in np.argsort(-shapely.area(np.asarray(geoms)), kind="stable"):
        geom = geoms[i]
        spots = _label_points(geom)
        chosen = None
        spill = None  # free of other labels but reaching out of its polygon
        for scale in (1.0, 0.8, 0.65):
            for x, y in spots:
                text, box = write(x, y, labels[i], base * scale)
                free = not _overlaps(box, placed)
                if free:
                    (dx0, dy0), (dx1, dy1) = to_data.transform([box[:2], box[2:]])
                    if geom.contains(shapely.box(dx0, dy0, dx1, dy1)):
                        chosen = (text, box)
                        break
                    if spill is None:
                        spill = (text, box)
                        continue
                text.remove()
            if chosen is not None:
                break
        if chosen is None:
            chosen = spill
        elif spill is not None:
            spill[0].remove()
        if chosen is None:
            chosen = _with_leader(ax, spots[0], labels[i], base * 0.65, placed, write)
        if chosen is None:
            crowded += 1
            chosen = write(*spots[0], labels[i], base * 0.65)
        texts[i] = chosen[0]
        placed.append(chosen[1])
    if crowded:
        logger.info(
            "%d grid label(s) overlap a neighbour: enlarge figsize to separate them", crowded
        )
    return texts
