"""Plans as files (private; :func:`save_plan` and :func:`load_plan` are in :mod:`gridgeo.grids`).

The GeoPackage layout is written and read by :mod:`gridgeo.grids._files`; this module turns
what it reads back into the plan objects.
"""

from __future__ import annotations

import os
from pathlib import Path

from gridgeo.grids import _files
from gridgeo.grids._build import build  # noqa: F401 - the examples build plans
from gridgeo.grids._editing import merge  # noqa: F401 - the examples edit plans
from gridgeo.grids._plan import BalanceSummary, GridPlan, check_plan

__all__ = ["load_plan", "save_plan"]


def save_plan(plan: GridPlan, path: str | os.PathLike[str]) -> Path:
    """Save a plan to one GeoPackage: cells, grids, balance summary, edit history, options.

    A planner can stop on Friday and go on on Monday: :func:`load_plan` gives back the same
    plan (cells, grids, summary, settings with the history of edits). Layers: ``cells``,
    ``grids``, ``summary``, ``out_of_tolerance``, ``history`` and ``gridgeo_plan`` (the build
    options and the rest as JSON); see :mod:`gridgeo.grids._files`. The write is atomic and
    the same plan gives a byte-identical file.

    Parameters
    ----------
    plan : GridPlan
        The plan to save.
    path : str or PathLike
        A ``.gpkg`` file; its folder must exist. An existing file is replaced.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputFileError
        Not a ``.gpkg`` name, missing folder, or the write failed (nothing is written).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> codes = {"admin_code": "441302", "street_code": "001", "community_code": "001"}
    >>> squares = [box(x, 0, x + 100, 100) for x in range(0, 400, 100)]
    >>> cells = gpd.GeoDataFrame(geometry=squares, crs="EPSG:4547").assign(**codes)
    >>> plan = merge(build(cells, n=4, progress=False), "441302001001001", "441302001001002").plan
    >>> path = save_plan(plan, pathlib.Path(tempfile.mkdtemp()) / "plan.gpkg")
    >>> again = load_plan(path)
    >>> again.grids["n_cells"].tolist(), [h["edit"] for h in again.settings["history"]]
    ([2, 1, 1], ['merge'])
    """
    check_plan(plan)
    return _files.write_plan(plan, path)


def load_plan(path: str | os.PathLike[str]) -> GridPlan:
    """Load a plan saved by :func:`save_plan` (or ``GridPlan.save``).

    Parameters
    ----------
    path : str or PathLike
        The plan's GeoPackage.

    Returns
    -------
    GridPlan
        Equal to the saved plan: cells (index, columns and types), grids, summary, cell
        weights and settings, including ``settings["history"]``.

    Raises
    ------
    InputFileError
        Missing file, not a GeoPackage, or a GeoPackage that is not a gridgeo plan.

    Examples
    --------
    >>> load_plan("missing.gpkg")
    Traceback (most recent call last):
    ...
    gridgeo.errors.InputFileError: cannot load a plan from 'missing.gpkg': the file does not ...
    """
    parts = _files.read_plan(path)
    summary = BalanceSummary(**parts.pop("summary"))
    return GridPlan(summary=summary, **parts)
