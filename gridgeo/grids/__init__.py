"""Responsibility grids (责任网格): build balanced contiguous grids from base cells, edit, compare.

The field rule for drawing grids is 地域相近、规模适度、利益相关、方便管理: contiguous and compact,
balanced in workload, inside one community, easy to walk. :func:`build` groups base cells into
grids that are

* **rook-contiguous** (cells share an edge of positive length, not just a corner),
* **nested** in one community (``within="community"``) or one street (``within="street"``),
* **covering**: every cell belongs to exactly one grid,
* **balanced**: each grid's weight within ``±tolerance`` of the target wherever the cells
  allow it (the summary names the grids where it does not, and why), then **compact**.

Planners then edit the plan (:func:`move`, :func:`merge`, :func:`split`, :func:`rename`,
:func:`renumber`, :func:`rebalance`; each returns an :class:`EditResult`) with the help of
:func:`neighbours` and :func:`border_cells`, compare plans (:func:`diff`), type the grids from
land use (:func:`classify`) and size the teams (:func:`staffing`). :func:`coding_zones` groups
the cells of a district without communities into zones of at most 999 cells so that
:func:`gridgeo.cells.code` can give them 15-digit codes.

Grid codes
----------
``grid_code`` = the community's 12 digits (admin 6 + street 3 + community 3; community
``000`` when ``within="street"``, street and community ``000000`` when ``within=None``) + a 3-digit
grid number. Numbers follow the cell-code ordering rule on each grid's representative point
(``point_on_surface``): row bands ``floor(y / h)`` from north to south, west to east inside a
band, with ``h`` the median grid side (square root of the median grid area, rounded to the
metre). Codes are *stable*: when the input cells carry a ``grid_code`` column (an earlier
plan), a new grid that holds more than half of an old grid's cells in the same community keeps
that old code; the other grids take the lowest free numbers in the order above.

Islands
-------
A community whose cells are not all rook-connected (a cell that is a MultiPolygon part or an
enclave, a community cut by a river with no shared edge) is split into connected *parts*. Each
part gets at least one grid of its own, so every grid stays contiguous; parts other than the
largest of their community are reported in ``plan.summary.islands``. When that forces more
grids than ``n``, the count is raised and a note says so.
"""

from __future__ import annotations

import logging

from gridgeo.grids._build import build
from gridgeo.grids._edit import border_cells, neighbours, rebalance
from gridgeo.grids._editing import diff, merge, move, rename, renumber, split
from gridgeo.grids._persist import load_plan, save_plan
from gridgeo.grids._plan import BalanceSummary, EditResult, GridDiff, GridPlan
from gridgeo.grids._staffing import DEFAULT_TYPES, classify, staffing
from gridgeo.grids._zones import coding_zones

__all__ = [
    "DEFAULT_TYPES",
    "BalanceSummary",
    "EditResult",
    "GridDiff",
    "GridPlan",
    "border_cells",
    "build",
    "classify",
    "coding_zones",
    "diff",
    "load_plan",
    "merge",
    "move",
    "neighbours",
    "rebalance",
    "rename",
    "renumber",
    "save_plan",
    "split",
    "staffing",
]

logger = logging.getLogger(__name__)
