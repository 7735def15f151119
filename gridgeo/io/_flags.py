"""The single yes/no parser of gridgeo: 是/否, 有/无, Y/N, yes/no, true/false, 1/0, 已/未 ...

Case tables from city systems write yes/no columns (``reopened``, ``extended``, 是否延期 ...)
in many ways. :func:`parse_flags` turns such a column into a nullable boolean Series and a
mask of the values it could not read, so callers can name those rows instead of guessing.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from gridgeo.errors import ColumnError

__all__ = ["FALSE_VALUES", "MISSING_VALUES", "TRUE_VALUES", "parse_flags"]

#: values read as True (compared after stripping whitespace and lower-casing)
TRUE_VALUES = (
    "是", "有", "已", "已延期", "已返工", "对", "真", "√", "✓",
    "y", "yes", "t", "true", "1", "1.0", "on",
)  # fmt: skip
#: values read as False
FALSE_VALUES = (
    "否", "无", "未", "没有", "不是", "错", "假", "×", "✗",
    "n", "no", "f", "false", "0", "0.0", "off",
)  # fmt: skip
#: values read as missing (not counted as unreadable)
MISSING_VALUES = ("", "nan", "none", "null", "na", "n/a", "nat", "-", "--", "—", "<na>")


def _norm(values: Iterable[object]) -> set[str]:
    return {str(v).strip().lower() for v in values}


def parse_flags(
    values: pd.Series,
    *,
    true_values: Iterable[object] = TRUE_VALUES,
    false_values: Iterable[object] = FALSE_VALUES,
    name: str | None = None,
) -> tuple[pd.Series, np.ndarray]:
    """Read a yes/no column; return ``(flags, bad)``.

    Values are compared after ``str(v).strip().lower()``, so ``" Yes "``, ``"YES"`` and
    ``"yes"`` are the same. Python and NumPy booleans are taken as they are; missing values
    (None, NaN, empty text, ``"-"`` ...) become ``<NA>`` and are not counted as bad.

    Parameters
    ----------
    values : Series
        The column to read. It is not modified.
    true_values, false_values : iterable
        Spellings of yes and no. The defaults accept 是/否, 有/无, 已/未, Y/N, yes/no,
        true/false, T/F, 1/0, on/off, √/×.
    name : str, optional
        Column name used in error messages (default ``values.name``).

    Returns
    -------
    flags : Series
        Nullable ``boolean`` Series on the input index.
    bad : numpy.ndarray
        Boolean mask of the values that are neither yes, no nor missing (their flag is
        ``<NA>``).

    Raises
    ------
    ColumnError
        ``values`` is not a Series, or a spelling is both a yes and a no.

    Examples
    --------
    >>> import pandas as pd
    >>> flags, bad = parse_flags(pd.Series(["是", " N ", None, "有", "maybe"]))
    >>> flags.tolist(), bad.tolist()
    ([True, False, <NA>, True, <NA>], [False, False, False, False, True])
    """
    label = name or (str(values.name) if getattr(values, "name", None) is not None else "flags")
    if not isinstance(values, pd.Series):
        msg = f"{label}: expected a pandas Series of yes/no values, got {type(values).__name__}."
        raise ColumnError(msg)
    yes, no = _norm(true_values), _norm(false_values)
    both = sorted(yes & no)
    if both:
        msg = f"{label}: {both} given both as a yes and as a no value; pass disjoint lists."
        raise ColumnError(msg)
    raw = values.astype(object).to_numpy()
    # each distinct value is read once (_read_one), then broadcast back to the rows
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    read = [_read_one(v, yes, no) for v in uniques]
    state = np.array([*read, 0], dtype=np.int8)[codes]  # code -1 (NA) -> the last: missing
    out = np.full(len(raw), None, dtype=object)
    out[state == 1] = True
    out[state == 2] = False
    bad = state == 3
    flags = pd.Series(pd.array(out, dtype="boolean"), index=values.index, name=values.name)
    return flags, bad


def _read_one(v: object, yes: set[str], no: set[str]) -> int:
    """0 missing, 1 yes, 2 no, 3 unreadable (the obviously-correct per-value rule)."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return 0
    if isinstance(v, bool | np.bool_):
        return 1 if v else 2
    if isinstance(v, float | np.floating) and float(v).is_integer():
        v = int(v)  # a numeric 0/1 column read as floats (Excel, CSV with blanks): 1.0 is "1"
    text = str(v).strip().lower()
    if text in yes:
        return 1
    if text in no:
        return 2
    return 0 if text in MISSING_VALUES else 3
