"""gridgeo: grid-based city management (网格化城市管理) in Python.

Cut a district into base cells, group them into workload-balanced responsibility grids,
assign geotagged reports to cells and grids, and produce hotspot maps and coverage reports.

Submodules are imported lazily, on first use, so ``import gridgeo`` stays fast::

    >>> import gridgeo as gg
    >>> gg.__version__ >= "0.1"
    True
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from gridgeo import errors

try:
    __version__ = version("gridgeo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

_SUBMODULES = (
    "assignment",
    "calendar",
    "categories",
    "cells",
    "coverage",
    "crs",
    "datasets",
    "fusion",
    "grids",
    "hotspots",
    "io",
    "maps",
    "profile",
)
_FUNCTIONS = {"assign": "gridgeo.assignment", "Profile": "gridgeo.profile"}

__all__ = ["Profile", "__version__", "assign", "errors", *_SUBMODULES]

if TYPE_CHECKING:  # pragma: no cover
    from gridgeo import (  # noqa: F401
        assignment,
        calendar,
        categories,
        cells,
        coverage,
        crs,
        datasets,
        fusion,
        grids,
        hotspots,
        io,
        maps,
        profile,
    )
    from gridgeo.assignment import assign
    from gridgeo.profile import Profile


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f"gridgeo.{name}")
        globals()[name] = module
        return module
    if name in _FUNCTIONS:
        func = getattr(importlib.import_module(_FUNCTIONS[name]), name)
        globals()[name] = func
        return func
    msg = f"module 'gridgeo' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES) | set(_FUNCTIONS))
