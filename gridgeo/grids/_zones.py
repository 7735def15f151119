"""Coding zones for a district without a community layer (private; ``grids.coding_zones``)."""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np

from gridgeo._validate import (
    require_crs,
    require_geodataframe,
    require_geom_types,
    require_nonempty,
    require_unique,
    require_valid,
)
from gridgeo.errors import ColumnError, PlanError
from gridgeo.grids._build import build

__all__ = ["coding_zones"]

logger = logging.getLogger("gridgeo.grids")

_FILL = 0.9  # zones aim at 90 % of max_cells so that balanced zones stay under it


def coding_zones(
    cells: gpd.GeoDataFrame,
    *,
    max_cells: int = 999,
    admin_code: str | int | None = None,
    street_code: str | int = "001",
    seed: int = 0,
    snap: float = 0.0,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Group cells into compact, contiguous coding zones of at most ``max_cells`` cells.

    DB11 cell codes number cells inside a community with three digits (at most 999 cells).
    A district without a community layer (or with more cells than that) can still be coded:
    the zones take the community's place in the code. They are made by
    :func:`gridgeo.grids.build` with every cell weighing 1 (balanced cell counts, rook
    contiguity, compact), nested in streets when the cells carry ``street_code``, and
    numbered 001, 002, … west to east and north to south. Then :func:`gridgeo.cells.code`
    gives every cell its 15-digit code.

    Parameters
    ----------
    cells : GeoDataFrame
        Cells without ``community_code`` (any CRS).
    max_cells : int
        Largest number of cells in a zone (999 for 3-digit sequence numbers).
    admin_code : str or int, optional
        The 6-digit district code, when the cells have no ``admin_code`` column.
    street_code : str or int
        Street code for cells without a ``street_code`` column. Default ``"001"``.
    seed : int
        Random seed of the grid builder.
    snap : float
        Adjacency tolerance in metres (see :func:`gridgeo.grids.build`).
    progress : bool
        Show the grid builder's progress bar.

    Returns
    -------
    GeoDataFrame
        A copy with ``admin_code``, ``street_code`` and ``community_code`` (the zone number;
        ``community_name`` is empty for new zones) ready for :func:`gridgeo.cells.code`.

    Raises
    ------
    ColumnError
        The cells already have ``community_code``, or no ``admin_code`` column or argument.
    ValueError
        ``max_cells`` not a whole number from 1 to 999.
    PlanError
        A street would need more than 999 zones.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from gridgeo import cells as gc
    >>> from gridgeo import grids
    >>> squares = [box(x, y, x + 100, y + 100) for x in range(0, 3000, 100)
    ...            for y in range(0, 3000, 100)]
    >>> district = gpd.GeoDataFrame(geometry=squares, crs="EPSG:4547")
    >>> zoned = grids.coding_zones(district, admin_code="441302", max_cells=300)
    >>> sizes = zoned.groupby("community_code").size()
    >>> len(sizes), int(sizes.max()) <= 300
    (4, True)
    >>> coded = gc.code(zoned)
    >>> bool(coded["cell_code"].str.startswith("441302001").all())
    True
    >>> bool(coded["cell_code"].is_unique)
    True
    """
    require_geodataframe(cells, "cells")
    require_nonempty(cells, "cells")
    require_crs(cells, "cells")
    require_geom_types(cells, ["Polygon", "MultiPolygon"], "cells")
    require_valid(cells, "cells")
    require_unique(cells.index, "index labels", "cells")
    if not (isinstance(max_cells, int | np.integer) and not isinstance(max_cells, bool)) or not (
        1 <= max_cells <= 999
    ):
        msg = f"max_cells must be a whole number from 1 to 999, got {max_cells!r}."
        raise ValueError(msg)
    if "community_code" in cells.columns:
        msg = (
            "cells already have a 'community_code' column: code them with cells.code(), or "
            "drop the column (cells.drop(columns='community_code')) to make coding zones."
        )
        raise ColumnError(msg)
    if "admin_code" not in cells.columns and admin_code is None:
        msg = "cells have no 'admin_code' column: pass admin_code='441302' (6 digits)."
        raise ColumnError(msg)
    out = cells.copy()
    if "admin_code" not in out.columns:
        out["admin_code"] = str(admin_code)
    if "street_code" not in out.columns:
        out["street_code"] = str(street_code)
    work = out.assign(community_code="000", _one=1.0)
    per_street = work.groupby(["admin_code", "street_code"]).size()
    n = int(sum(math.ceil(s / (_FILL * max_cells)) for s in per_street))
    for _ in range(20):
        plan = build(
            work, n=n, weight="_one", within="street", seed=seed, snap=snap, progress=progress
        )
        over = int((plan.grids["n_cells"] > max_cells).sum())
        if not over:
            break
        n += over
    else:  # pragma: no cover - each round adds a zone per oversized zone
        msg = f"could not keep every coding zone under {max_cells} cells; use smaller max_cells."
        raise PlanError(msg)
    out["community_code"] = plan.cells["grid_code"].str[12:15].to_numpy()
    if "community_name" not in out.columns:
        out["community_name"] = ""
    logger.info("coding zones: %d zones of at most %d cells", len(plan.grids), max_cells)
    return out
