"""Write a crosswalk and its conflicts as GeoPackage and CSV files (atomically)."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gridgeo.errors import InputFileError
from gridgeo.fusion._crosswalk import Crosswalk, conflicts_of, crosswalk
from gridgeo.grids import GridPlan
from gridgeo.io import write_layer
from gridgeo.io._atomic import atomic_path


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    table = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig")
    return path


def write(
    result_or_inputs: Crosswalk | tuple[gpd.GeoDataFrame | GridPlan, gpd.GeoDataFrame | GridPlan],
    out_dir: str | os.PathLike[str],
    *,
    min_share: float = 0.05,
    tolerance_m2: float = 1.0,
    a_code: str = "grid_code",
    b_code: str = "grid_code",
    names: tuple[str, str] = ("A", "B"),
) -> dict[str, Path]:
    """Write the crosswalk and the conflicts of two systems to ``out_dir``.

    Files (each written atomically: a temporary file in the folder, then renamed):

    ``crosswalk.gpkg`` (layer ``crosswalk``) and ``crosswalk.csv``
        The crosswalk table; the GeoPackage holds the shared pieces.
    ``conflicts.gpkg`` (layer ``conflicts``) and ``conflicts.csv``
        The ranked conflicts with their reasons; the GeoPackage holds the areas in conflict.

    CSV files are UTF-8 with a byte-order mark (Excel opens Chinese text correctly) and
    carry no geometry. Geometries are in the crosswalk's metric CRS.

    Parameters
    ----------
    result_or_inputs : Crosswalk or (a, b)
        A crosswalk, or the two systems to cross (GeoDataFrames or GridPlans).
    out_dir : str or PathLike
        Output folder; created if missing.
    min_share : float, default 0.05
        Threshold of :func:`conflicts`.
    tolerance_m2, a_code, b_code, names
        As in :func:`crosswalk` (used only when the two systems are given).

    Returns
    -------
    dict
        ``{"crosswalk_gpkg", "crosswalk_csv", "conflicts_gpkg", "conflicts_csv"}`` → path.

    Raises
    ------
    TypeError
        ``result_or_inputs`` is neither a Crosswalk nor a pair of systems.
    InputFileError
        ``out_dir`` exists but is not a folder, or a file cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> a = gpd.GeoDataFrame({"grid_code": ["a1"]}, geometry=[box(0, 0, 200, 100)], crs=4547)
    >>> b = gpd.GeoDataFrame({"grid_code": ["b1", "b2"]},
    ...                      geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=4547)
    >>> files = write((a, b), tempfile.mkdtemp())
    >>> sorted(p.name for p in files.values())
    ['conflicts.csv', 'conflicts.gpkg', 'crosswalk.csv', 'crosswalk.gpkg']
    """
    if isinstance(result_or_inputs, Crosswalk):
        cw = result_or_inputs
    elif isinstance(result_or_inputs, tuple | list) and len(result_or_inputs) == 2:
        a, b = result_or_inputs
        cw = crosswalk(a, b, tolerance_m2=tolerance_m2, a_code=a_code, b_code=b_code, names=names)
    else:
        msg = (
            "result_or_inputs must be a Crosswalk or a pair (a, b) of grid systems, got "
            f"{type(result_or_inputs).__name__}."
        )
        raise TypeError(msg)
    found = conflicts_of(cw, min_share=min_share)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        msg = f"out_dir {str(out)!r} exists and is not a folder; pass a folder path."
        raise InputFileError(msg)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        msg = f"cannot create the output folder {str(out)!r}: {err}"
        raise InputFileError(msg) from err
    return {
        "crosswalk_gpkg": write_layer(cw.table, out / "crosswalk.gpkg", layer="crosswalk"),
        "crosswalk_csv": _write_csv(cw.table, out / "crosswalk.csv"),
        "conflicts_gpkg": write_layer(found.table, out / "conflicts.gpkg", layer="conflicts"),
        "conflicts_csv": _write_csv(found.table, out / "conflicts.csv"),
    }
