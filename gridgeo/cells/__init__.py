"""Base cells (单元网格): fishnet squares, hexagons and street blocks; DB11 codes; validation.

Base cells are the atoms of grid management: every report, responsibility grid and statistic
hangs on them. This module makes them three ways, codes them and proves that they cover the
district exactly:

- :func:`fishnet` — squares of a given side, clipped to the district;
- :func:`hexagons` — planar hexagons of a given area, or H3 cells;
- :func:`blocks` — street-bounded cells: barrier lines polygonised into blocks, slivers merged,
  large blocks split into compact parts of about ``target_area`` (the classic 万米单元网格);
- :func:`code` — 15-digit DB11 codes (admin 6 + street 3 + community 3 + sequence 3); a
  district without a community layer first gets coding zones from
  :func:`gridgeo.grids.coding_zones`;
- :func:`recode` — stable codes after a redraw: unchanged cells keep their codes;
- :func:`validate` — invalid geometries, overlaps, gaps, slivers, nesting and duplicate codes.

Every function accepts layers in any CRS; geometry work happens in the local metric CRS
(:func:`gridgeo.crs.local_crs`) and results are returned in the district's own CRS with
``area_m2`` always in square metres. Cells carry the nesting columns of the communities layer
(``admin_code``, ``street_code``, ``street_name``, ``community_code``, ``community_name``).
"""

from __future__ import annotations

import logging

from gridgeo.cells import _codes as _cellcode  # noqa: F401 - tests reach it as cells._cellcode
from gridgeo.cells._checks import CellValidation, Recoding
from gridgeo.cells._codes import NEST_COLUMNS
from gridgeo.cells._coding import code, recode
from gridgeo.cells._lattices import fishnet, hexagons
from gridgeo.cells._streets import blocks
from gridgeo.cells._validation import validate
from gridgeo.crs import to_metric  # noqa: F401 - tests reach it as cells.to_metric

__all__ = [
    "NEST_COLUMNS",
    "CellValidation",
    "Recoding",
    "blocks",
    "code",
    "fishnet",
    "hexagons",
    "recode",
    "validate",
]

logger = logging.getLogger(__name__)
