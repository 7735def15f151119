"""Multi-grid fusion (多网合一): crosswalks, conflicts, alignment, a common base, transfers.

Several departments (urban management, social governance 综治, sanitation, parks, police)
each draw their own grids over the same district. This module compares and merges them:

:func:`crosswalk`
    Shared area and each side's share for every overlapping pair of grids of two systems.
:func:`conflicts`
    Grids split across several grids of the other system, or partly uncovered by it.
:func:`align`
    Snap near-coincident boundaries of one system onto another, keeping a valid coverage.
:func:`common_base`
    The overlay of any number of systems into base cells from which each system is
    rebuilt exactly as a union of cells.
:func:`transfer`
    Move counts and rates from one system to another, area-weighted or exactly by
    re-counting the reports.
:func:`fused_plan`
    One new grid system drawn on the common base that never crosses chosen boundaries, and
    how many grids of every old system survive unchanged.
:func:`write`
    Crosswalk and conflicts as GeoPackage and CSV files.

All areas are in m², computed in one metric CRS (:func:`gridgeo.crs.local_crs`). Layers
marked as GCJ-02/BD-09 by :func:`gridgeo.crs.to_system` are converted to WGS 84 first.
"""

from __future__ import annotations

from gridgeo.fusion._align import Alignment, align
from gridgeo.fusion._common import CommonBase, common_base
from gridgeo.fusion._crosswalk import Conflicts, Crosswalk, conflicts, crosswalk
from gridgeo.fusion._plan import FusedPlan, fused_plan
from gridgeo.fusion._transfer import transfer
from gridgeo.fusion._write import write

__all__ = [
    "Alignment",
    "CommonBase",
    "Conflicts",
    "Crosswalk",
    "FusedPlan",
    "align",
    "common_base",
    "conflicts",
    "crosswalk",
    "fused_plan",
    "transfer",
    "write",
]
