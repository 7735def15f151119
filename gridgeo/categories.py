"""The case category table: event (事件) and component (部件) classes, departments, deadlines.

gridgeo ships a default table modelled on the national classification of digital urban
management (components: 公用设施, 交通设施, 市容环境设施, 园林绿化设施, 其他设施; events:
市容环境, 宣传广告, 施工管理, 街面秩序, 突发事件, 其他事件). Sub-class codes are gridgeo's
own (``C0101`` for components, ``E0101`` for events). Every city has its own list: load it
with :func:`load` from a CSV or Excel file or a DataFrame with the same columns.

Columns
-------
code : str
    Unique sub-class code, e.g. ``"E0101"``.
kind : {"event", "component"}
class_code, class_name, class_name_en : str
    Top class (大类).
name, name_en : str
    Sub-class (小类) in Chinese and English.
department, department_en : str
    Department responsible for disposal (处置部门), used for routing (监管分离).
deadline : float
    Handling deadline, in ``deadline_unit``.
deadline_unit : {"working_hours", "working_days", "hours", "days"}
    Working units count on the workday calendar; plain units on calendar time.
ownerless_possible : bool
    Components that may have no known owner (无主部件) and then fall back to the grid owner.
weight : float
    Relative frequency, used only to generate demo reports.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import pandas as pd

from gridgeo._validate import require_columns, require_unique
from gridgeo.errors import ColumnError, InputFileError

__all__ = ["COLUMNS", "DEADLINE_UNITS", "default_categories", "load"]

COLUMNS = (
    "code",
    "kind",
    "class_code",
    "class_name",
    "class_name_en",
    "name",
    "name_en",
    "department",
    "department_en",
    "deadline",
    "deadline_unit",
)
DEADLINE_UNITS = ("working_hours", "working_days", "hours", "days")


@lru_cache(maxsize=1)
def _default() -> pd.DataFrame:
    path = files("gridgeo").joinpath("_data/categories.csv")
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype={"code": str, "class_code": str})
    return _normalise(table, "the default category table")


def default_categories() -> pd.DataFrame:
    """Return a copy of gridgeo's default category table (44 sub-classes).

    Returns
    -------
    pandas.DataFrame
        One row per sub-class, indexed by ``code``; columns as in the module docstring.

    Examples
    --------
    >>> from gridgeo.categories import default_categories
    >>> table = default_categories()
    >>> row = table.loc["E0101"]
    >>> row["name"], float(row["deadline"]), row["deadline_unit"]
    ('暴露垃圾', 4.0, 'working_hours')
    """
    return _default().copy()


def load(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Load and validate a city's own category table.

    Parameters
    ----------
    source : str, Path or DataFrame
        A CSV (UTF-8 or GBK) or Excel file, or a DataFrame, with at least the columns
        ``code, kind, name, department, deadline, deadline_unit``. Missing optional columns
        (English names, classes) are filled from ``name``/``department``.

    Returns
    -------
    pandas.DataFrame
        The validated table indexed by ``code``.

    Raises
    ------
    ColumnError
        A required column is missing or a value is not allowed.
    DuplicateIdError
        A code appears twice.
    InputFileError
        The file cannot be read.

    Examples
    --------
    >>> import pandas as pd
    >>> from gridgeo.categories import load
    >>> table = load(pd.DataFrame({"code": ["X1"], "kind": ["event"], "name": ["占道"],
    ...     "department": ["城管"], "deadline": [2], "deadline_unit": ["working_hours"]}))
    >>> table.loc["X1", "name_en"]
    '占道'
    """
    if isinstance(source, pd.DataFrame):
        table = source.copy()
        label = "the category table"
    else:
        path = Path(source)
        label = f"category file {path}"
        table = _read_table(path)
    return _normalise(table, label)


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        msg = f"category file {path} does not exist."
        raise InputFileError(msg)
    if path.suffix.lower() in {".xlsx", ".xls"}:
        return pd.read_excel(path, dtype={"code": str, "class_code": str})
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, dtype={"code": str, "class_code": str}, encoding=encoding)
        except UnicodeDecodeError:
            continue
    msg = f"category file {path} is neither UTF-8 nor GBK text; save it as UTF-8 CSV."
    raise InputFileError(msg)


def _normalise(table: pd.DataFrame, label: str) -> pd.DataFrame:
    if table.index.name == "code":
        table = table.reset_index()
    require_columns(
        table, ["code", "kind", "name", "department", "deadline", "deadline_unit"], label
    )
    table = table.copy()
    table["code"] = table["code"].astype(str).str.strip()
    require_unique(table["code"], "category codes", label)
    bad_kind = ~table["kind"].isin(["event", "component"])
    if bad_kind.any():
        rows = table.loc[bad_kind, "code"].tolist()[:5]
        msg = f"{label}: column 'kind' must be 'event' or 'component' (codes {rows})."
        raise ColumnError(msg)
    bad_unit = ~table["deadline_unit"].isin(DEADLINE_UNITS)
    if bad_unit.any():
        rows = table.loc[bad_unit, "code"].tolist()[:5]
        msg = f"{label}: column 'deadline_unit' must be one of {DEADLINE_UNITS} (codes {rows})."
        raise ColumnError(msg)
    deadline = pd.to_numeric(table["deadline"], errors="coerce")
    if deadline.isna().any() or (deadline <= 0).any():
        rows = table.loc[deadline.isna() | (deadline <= 0), "code"].tolist()[:5]
        msg = f"{label}: column 'deadline' must be a positive number (codes {rows})."
        raise ColumnError(msg)
    table["deadline"] = deadline.astype(float)
    for col, fallback in (
        ("name_en", "name"),
        ("department_en", "department"),
        ("class_code", None),
        ("class_name", None),
        ("class_name_en", None),
    ):
        if col not in table.columns:
            table[col] = table[fallback] if fallback else ""
    if "ownerless_possible" not in table.columns:
        table["ownerless_possible"] = False
    table["ownerless_possible"] = table["ownerless_possible"].astype(bool)
    if "weight" not in table.columns:
        table["weight"] = 1.0
    table["weight"] = pd.to_numeric(table["weight"], errors="coerce").fillna(1.0)
    return table.set_index("code", drop=True)
