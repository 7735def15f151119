"""Pause Python's cyclic garbage collector around bulk creation of shapely objects (private)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while creating many shapely objects.

    Every few hundred new objects trigger a collection that, now and then, walks every live
    object: with 10 million report points alive that costs a second for nothing, because
    geometries hold no references and cannot form cycles.

    Examples
    --------
    >>> import gc, shapely
    >>> with gc_paused():
    ...     points = shapely.points([[0.0, 0.0], [1.0, 1.0]])
    ...     paused = not gc.isenabled()
    >>> paused, gc.isenabled()
    (True, True)
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
