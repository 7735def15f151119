"""Exceptions raised by gridgeo.

Every user-facing failure raises a subclass of :class:`GridgeoError`. Each subclass also
inherits the matching built-in exception, so callers can catch either the gridgeo class or
the built-in one they already handle::

    try:
        gg.io.read_reports("reports.csv", lon="lng", lat="lat")
    except gg.errors.CoordinateError as err:   # or: except ValueError
        print(err)

Messages name the file, column or row at fault and say how to fix it.
"""

from __future__ import annotations

__all__ = [
    "BasemapError",
    "CRSError",
    "CodingError",
    "ColumnError",
    "CoordinateError",
    "CoverageError",
    "DuplicateIdError",
    "EmptyInputError",
    "EncodingError",
    "GeometryError",
    "GridgeoError",
    "InputFileError",
    "OptionalDependencyError",
    "PlanError",
    "ProfileError",
]


class GridgeoError(Exception):
    """Base class of every error gridgeo raises on purpose."""


class CRSError(GridgeoError, ValueError):
    """A layer has no CRS, an unknown CRS, or a CRS unfit for the operation."""


class GeometryError(GridgeoError, ValueError):
    """Invalid, empty or wrongly typed geometries."""


class ColumnError(GridgeoError, ValueError):
    """A required column is missing or holds values of the wrong kind."""


class CoordinateError(GridgeoError, ValueError):
    """Longitude/latitude values that are missing, out of range, zero or swapped."""


class EmptyInputError(GridgeoError, ValueError):
    """A layer or table that must have rows has none."""


class DuplicateIdError(GridgeoError, ValueError):
    """Identifiers or codes that must be unique are repeated."""


class InputFileError(GridgeoError, OSError):
    """A file that cannot be read or written: missing, unsupported format, corrupt."""


class EncodingError(InputFileError):
    """A text or attribute file whose character encoding could not be decoded."""


class CodingError(GridgeoError, ValueError):
    """Cell or grid codes that cannot be assigned (for example more than 999 in a community)."""


class PlanError(GridgeoError, ValueError):
    """A grid plan that cannot be built or an edit that would break its rules."""


class BasemapError(GridgeoError, ValueError):
    """An unknown basemap, a missing Tianditu token or an unusable map option."""


class CoverageError(GridgeoError, ValueError):
    """Cells or grids that do not cover the area they must cover."""


class OptionalDependencyError(GridgeoError, ImportError):
    """An optional dependency needed for this feature is not installed."""


class ProfileError(GridgeoError, ValueError):
    """A city profile (TOML) with invalid syntax, an unknown key or a bad value."""
