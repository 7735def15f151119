"""Reports to base cells and responsibility grids, then to departments and response levels.

The public face of report assignment. :func:`assign` (also ``gg.assign`` at the top level)
puts every report in a cell and a grid or gives the reason why not; :func:`route` sends it to
the department that must fix it (监管分离) and a response level; :func:`flag_duplicates` marks
probable repeats; :func:`summary` counts statuses. The parts live beside this file:

- ``_assign.py`` — :func:`assign` and :func:`summary`; ``_prepare.py`` — the cells checked and
  indexed once, their grid codes, the options; ``_frame.py`` — the core for one frame
  (coordinate status, reprojection, snapping, result columns); ``_scale.py`` — the Dask path
  and chunked runs (:func:`assign_chunks`);
- ``_engines.py`` — the point-in-polygon engines (fishnet, STRtree) and their exact twin;
  ``_rule.py`` — the boundary rule in exact arithmetic; ``_raster.py`` — the label raster;
- ``_routing.py`` — routing, response levels (:class:`LevelRules`) and duplicate flags.

    >>> import gridgeo as gg
    >>> gg.assign is gg.assignment.assign
    True
"""

from __future__ import annotations

from gridgeo.assignment._assign import ENGINES, STATUSES, assign, assign_chunks, summary
from gridgeo.assignment._routing import LevelRules, flag_duplicates, route

__all__ = [
    "ENGINES",
    "STATUSES",
    "LevelRules",
    "assign",
    "assign_chunks",
    "flag_duplicates",
    "route",
    "summary",
]
