"""Overlapping base cells, found cheaply enough to check on every :func:`gridgeo.assign` call.

The fast assignment engines assume cells do not overlap; a report in an overlap would go to
one of the cells without a word. Candidate pairs are the cells whose bounding boxes share an
area (not just an edge: the squares of a fishnet never qualify), and only those pairs get an
exact intersection. Above ``max_pairs`` candidates the exact step is skipped and the log says
so (``gridgeo.cells.validate`` checks every pair).
"""

from __future__ import annotations

import logging

import numpy as np
import shapely

__all__ = ["overlapping_pairs"]

logger = logging.getLogger(__name__)

# Intersections smaller than this share of the smaller cell are rounding, not overlaps.
_RELATIVE = 1e-9


def _candidates(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    left, right = shapely.STRtree(geoms).query(geoms)
    keep = left < right
    left, right = left[keep], right[keep]
    b = shapely.bounds(geoms)
    width = np.minimum(b[left, 2], b[right, 2]) - np.maximum(b[left, 0], b[right, 0])
    height = np.minimum(b[left, 3], b[right, 3]) - np.maximum(b[left, 1], b[right, 1])
    shared = (width > 0) & (height > 0)
    return left[shared], right[shared]


def overlapping_pairs(
    geoms: np.ndarray, *, max_pairs: int = 50_000
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(i, j, area)`` of cell pairs whose interiors overlap; None when not checked.

    Exact for the pairs checked: the intersection area must exceed a billionth of the
    smaller cell.
    """
    left, right = _candidates(geoms)
    if len(left) > max_pairs:
        logger.info(
            "cells: %d pairs of cells have overlapping bounding boxes; the overlap check was "
            "skipped (run gridgeo.cells.validate(cells) to check every pair)",
            len(left),
        )
        return None
    if len(left) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    area = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    real = area > _RELATIVE * smaller
    return left[real], right[real], area[real]


def overlapping_pairs_slow(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair, one by one: the obviously correct twin of :func:`overlapping_pairs`."""
    out: list[tuple[int, int, float]] = []
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            area = geoms[i].intersection(geoms[j]).area
            if area > _RELATIVE * min(geoms[i].area, geoms[j].area):
                out.append((i, j, area))
    if not out:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    i, j, a = zip(*out, strict=True)
    return np.array(i), np.array(j), np.array(a)
