"""Cell checks: :func:`validate` (invalid, overlaps, gaps, slivers, nesting, codes)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gridgeo._validate import require_crs, require_nonempty
from gridgeo.cells import _checks as _cellcheck
from gridgeo.cells import _cleanup as _cells_lattice
from gridgeo.cells._checks import CellValidation
from gridgeo.cells._codes import CODE_PARTS
from gridgeo.cells._inputs import _district, _frame, _nest, _quiet_fp
from gridgeo.cells._lattices import fishnet  # noqa: F401 - used by the examples
from gridgeo.crs import to_metric
from gridgeo.errors import CRSError


# --------------------------------------------------------------------------- validation
@_quiet_fp
def validate(
    cells: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    *,
    nest: gpd.GeoDataFrame | None = None,
    min_area: float | None = None,
    nest_tolerance: float = 0.01,
) -> CellValidation:
    """Check that cells are valid, do not overlap, cover the district and nest in communities.

    Parameters
    ----------
    cells : GeoDataFrame
        The cells (any CRS); ``cell_code`` and nesting columns are checked when present.
    area : GeoDataFrame or GeoSeries, optional
        The district the cells must cover. Without it, gaps are the holes of the cells' union.
    nest : GeoDataFrame, optional
        Communities: each cell must lie in one of them (up to ``nest_tolerance`` of its area)
        and carry that community's codes.
    min_area : float, optional
        Cells below it (m²) are slivers. Without it slivers are not checked.
    nest_tolerance : float
        Share of a cell's area allowed outside its community. Default 0.01.

    Returns
    -------
    CellValidation
        Lists of problems; ``ok`` only when all are empty and the covered area equals the
        district area to 1e-6 relative. Overlaps and gaps smaller than
        ``max(1e-6 m², 1e-9 × area)`` are floating-point noise and not listed.

    Raises
    ------
    TypeError, CRSError, GeometryError, EmptyInputError, ColumnError
        Bad ``cells``, ``area`` or ``nest`` layers.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> district = gpd.GeoSeries([box(0, 0, 300, 200)], crs="EPSG:4547")
    >>> validate(fishnet(district, 100), district).ok
    True
    >>> validate(fishnet(district, 100).iloc[1:], district).gaps["area_m2"].tolist()
    [10000.0]
    """
    frame = _frame(cells, "cells")
    require_nonempty(frame, "cells")
    require_crs(frame, "cells")
    if min_area is not None and not (isinstance(min_area, int | float) and min_area >= 0):
        msg = f"min_area must be a number >= 0 or None, got {min_area!r}."
        raise ValueError(msg)
    crs_problem = ""
    try:
        _cells_lattice.check_degrees(
            tuple(frame.total_bounds), CRS.from_user_input(frame.crs), "cells"
        )
    except CRSError as err:
        crs_problem = str(err)
    metric = to_metric(frame)
    district = None
    if area is not None:
        district, area_crs, _ = _district(area)
        if not CRS.from_user_input(area_crs).equals(metric.crs):
            district = gpd.GeoSeries([district], crs=area_crs).to_crs(metric.crs).iloc[0]
    nest_geoms, nest_attrs = _nest(nest, metric.crs) if nest is not None else (None, None)
    geoms = np.asarray(metric.geometry.values, dtype=object)
    reasons = _cellcheck.invalid_rows(geoms)
    bad = reasons != ""
    invalid = gpd.GeoDataFrame(
        {"reason": pd.array(reasons[bad], dtype=str)},
        geometry=frame.geometry.values[bad],
        index=frame.index[bad],
        crs=frame.crs,
    )
    good = geoms[~bad]
    union = shapely.union_all(good) if len(good) else shapely.Polygon()
    ref_area = float(shapely.area(district)) if district is not None else float(union.area)
    tol = max(1e-6, 1e-9 * ref_area)
    overlaps = _cellcheck.overlaps(good, frame.index[~bad], tol, metric.crs, frame.crs)
    gaps = _cellcheck.gaps(union, district, tol, metric.crs, frame.crs)
    area_m2 = shapely.area(geoms)
    small = (area_m2 < min_area) & ~bad if min_area is not None else np.zeros(len(geoms), bool)
    slivers = gpd.GeoDataFrame(
        {"area_m2": area_m2[small]},
        geometry=frame.geometry.values[small],
        index=frame.index[small],
        crs=frame.crs,
    )
    not_nested = _cellcheck.nesting(geoms, frame, nest_geoms, nest_attrs, nest_tolerance)
    dups = _cellcheck.duplicates(frame)
    covered = float(union.area)
    ok = (
        not crs_problem
        and not bad.any()
        and len(overlaps) == 0
        and len(gaps) == 0
        and len(slivers) == 0
        and len(not_nested) == 0
        and len(dups) == 0
        and abs(covered - ref_area) <= 1e-6 * ref_area
    )
    return CellValidation(
        invalid=invalid,
        overlaps=overlaps,
        gaps=gaps,
        slivers=slivers,
        not_nested=not_nested,
        duplicate_codes=dups,
        covered_area=covered,
        area=ref_area,
        ok=bool(ok),
        n_cells=len(frame),
        sliver_threshold=None if min_area is None else float(min_area),
        nesting_checked=nest is not None or any(c in frame.columns for c in CODE_PARTS),
        crs_problem=crs_problem,
    )
