"""The case category table: event (事件) and component (部件) classes, departments, deadlines.

gridgeo ships a default table whose top classes (大类) and their two-digit codes follow the
national classification of city management components and events (CJ/T 214-2007 城市市政综合
监管信息系统 管理部件和事件分类、编码及数据要求; national counterpart GB/T 30428.2 数字化城市
管理信息系统 第2部分：管理部件和事件):

* components: 01 公用设施, 02 道路交通, 03 市容环境, 04 园林绿化, 05 房屋土地, 06 其他设施;
* events: 01 市容环境, 02 宣传广告, 03 施工管理, 04 突发事件, 05 街面秩序, 06 其他事件.

Codes are ``"C"``/``"E"`` + class (2 digits) + sub-class (2 digits). The sub-classes (小类),
their numbers, departments and deadlines are gridgeo's own (``subclass_origin = "gridgeo"``):
every city has its own list, so load it with :func:`load`, and map a city's codes onto the
standard classes with :func:`map_to_standard`. Sources and what could not be verified are in
``docs/categories.md``.

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
    Working units count on the workday calendar; plain units on calendar time (emergencies).
time_basis : {"working", "calendar"}
    Derived from ``deadline_unit``.
deadline_source : str
    Where the deadline comes from.
subclass_origin : str
    ``"gridgeo"`` for gridgeo's own sub-classes, ``"city"`` (default of :func:`load`) or a
    standard's number.
ownerless_possible : bool
    Components that may have no known owner (无主部件) and then fall back to the grid owner.
weight : float
    Relative frequency, used only to generate demo reports.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import pandas as pd

from gridgeo._validate import require_columns, require_unique
from gridgeo.errors import ColumnError, InputFileError

__all__ = [
    "COLUMNS",
    "DEADLINE_UNITS",
    "STANDARD_CLASSES",
    "StandardMapping",
    "default_categories",
    "load",
    "map_to_standard",
]

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

#: the standard top classes: (kind, class_code) -> (class_name, class_name_en)
STANDARD_CLASSES = {
    ("component", "01"): ("公用设施", "Public utilities"),
    ("component", "02"): ("道路交通", "Road traffic"),
    ("component", "03"): ("市容环境", "City appearance"),
    ("component", "04"): ("园林绿化", "Landscaping and greenery"),
    ("component", "05"): ("房屋土地", "Buildings and land"),
    ("component", "06"): ("其他设施", "Other facilities"),
    ("event", "01"): ("市容环境", "City appearance"),
    ("event", "02"): ("宣传广告", "Advertising"),
    ("event", "03"): ("施工管理", "Construction"),
    ("event", "04"): ("突发事件", "Emergencies"),
    ("event", "05"): ("街面秩序", "Street order"),
    ("event", "06"): ("其他事件", "Other events"),
}
_TIME_BASIS = {
    "working_hours": "working",
    "working_days": "working",
    "hours": "calendar",
    "days": "calendar",
}
#: other names cities use for the standard classes
_ALIASES = {
    ("component", "交通设施"): "02",
    ("component", "道路交通设施"): "02",
    ("component", "市容环境设施"): "03",
    ("component", "环境卫生设施"): "03",
    ("component", "园林绿化设施"): "04",
    ("component", "房屋土地设施"): "05",
    ("component", "其他部件"): "06",
    ("component", "扩展部件"): "06",
    ("event", "扩展事件"): "06",
    ("event", "其它事件"): "06",
    ("component", "公共设施"): "01",
}


@lru_cache(maxsize=1)
def _default() -> pd.DataFrame:
    path = files("gridgeo").joinpath("_data/categories.csv")
    with path.open("r", encoding="utf-8") as fh:
        table = _read_csv_text(fh.read())
    return _normalise(table, "the default category table")


def _read_csv_text(text: str) -> pd.DataFrame:
    """Read CSV text whose first lines may be ``#`` comments (sources of the table)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    body = "\n".join(lines[start:])
    return pd.read_csv(io.StringIO(body), dtype={"code": str, "class_code": str})


def default_categories() -> pd.DataFrame:
    """Return a copy of gridgeo's default category table (46 sub-classes).

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
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return _read_csv_text(raw.decode(encoding))
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
    table["class_code"] = table["class_code"].fillna("").astype(str).str.strip()
    table["time_basis"] = table["deadline_unit"].map(_TIME_BASIS)
    if "deadline_source" not in table.columns:
        table["deadline_source"] = label
    if "subclass_origin" not in table.columns:
        table["subclass_origin"] = "city"
    if "ownerless_possible" not in table.columns:
        table["ownerless_possible"] = False
    table["ownerless_possible"] = table["ownerless_possible"].astype(bool)
    if "weight" not in table.columns:
        table["weight"] = 1.0
    table["weight"] = pd.to_numeric(table["weight"], errors="coerce").fillna(1.0)
    return table.set_index("code", drop=True)


@dataclass(frozen=True)
class StandardMapping:
    """A city's category codes mapped onto the standard top classes.

    Attributes
    ----------
    table : DataFrame
        One row per distinct input code: ``code``, ``kind``, ``class_code``, ``class_name``
        (the standard class; empty when unmapped) and ``how`` (the rule that mapped it).
    unmapped : tuple of str
        The codes that could not be mapped.
    """

    table: pd.DataFrame
    unmapped: tuple[str, ...]

    def __repr__(self) -> str:
        shown = ", ".join(self.unmapped[:10]) + (" ..." if len(self.unmapped) > 10 else "")
        return (
            f"StandardMapping({len(self.table)} codes, {len(self.table) - len(self.unmapped)} "
            f"mapped, {len(self.unmapped)} unmapped{': ' + shown if self.unmapped else ''})"
        )

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>" + self.table.to_html(escape=True)


def _class_from(code: str, kind: str | None) -> tuple[str | None, str | None, str]:
    """``(kind, class_code, how)`` read from a code's own form, or Nones."""
    text = code.strip()
    letter = re.fullmatch(r"([CEce])(\d{2})(\d{2,})", text)
    if letter:
        k = "component" if letter.group(1).upper() == "C" else "event"
        return k, letter.group(2), "C/E prefix + class digits"
    digits = re.sub(r"\D", "", text)
    if kind is None:
        return None, None, ""
    if len(text) == len(digits):
        if len(digits) in (4, 6):  # class + sub-class (+ detail)
            return kind, digits[:2], "class + sub-class digits"
        if len(digits) in (10, 16):  # admin code (6) + class + sub-class (+ serial)
            return kind, digits[6:8], "admin code + class digits"
        if len(digits) == 2:
            return kind, digits, "class digits"
    return None, None, ""


def map_to_standard(
    table: pd.DataFrame | pd.Series,
    *,
    kind: str | None = None,
    code_col: str = "code",
) -> StandardMapping:
    """Map a city's category codes (or class names) onto the standard top classes.

    A code is mapped, in this order, by: a gridgeo-style code (``C``/``E`` + class + sub-class
    digits); the class name or a common alias of it (``class_name`` column, e.g. 交通设施 →
    02 道路交通, 扩展事件 → 06 其他事件); a ``class_code`` column that is a standard class;
    the digits of a numeric code (4 or 6 digits: class first; 10 or 16 digits: a 6-digit
    administrative code then the class). Numeric codes need the kind (``kind=`` or a ``kind``
    column), since events and components share class numbers. Codes left over are reported
    in ``unmapped``; nothing is guessed.

    Parameters
    ----------
    table : DataFrame or Series
        A city's category table (``code``; optional ``kind``, ``class_code``,
        ``class_name``) or a Series of codes.
    kind : {"event", "component"}, optional
        The kind of every code when the table has no ``kind`` column.
    code_col : str
        Column of the codes.

    Returns
    -------
    StandardMapping

    Raises
    ------
    ColumnError
        ``code_col`` is missing or ``kind`` is not ``"event"``/``"component"``.

    Examples
    --------
    >>> import pandas as pd
    >>> city = pd.DataFrame({"code": ["0102", "0401", "9901"], "kind": "event",
    ...                      "class_name": ["市容环境", "突发事件", "创卫专项"]})
    >>> m = map_to_standard(city)
    >>> m.table["class_name"].tolist(), m.unmapped
    (['市容环境', '突发事件', ''], ('9901',))
    """
    if kind is not None and kind not in ("event", "component"):
        msg = f"kind must be 'event' or 'component', got {kind!r}."
        raise ColumnError(msg)
    frame = table.to_frame(code_col) if isinstance(table, pd.Series) else table
    if isinstance(table, pd.DataFrame) and table.index.name == code_col:
        frame = table.reset_index()
    require_columns(frame, [code_col], "the city's category table")
    frame = frame.drop_duplicates(code_col)
    rows = []
    for rec in frame.to_dict("records"):
        code = "" if pd.isna(rec[code_col]) else str(rec[code_col]).strip()
        k = rec.get("kind") if isinstance(rec.get("kind"), str) else kind
        k_found, cls, how = _class_from(code, k)
        name = str(rec.get("class_name") or "").strip()
        if cls is None and k is not None and name:
            by_name = {v[0]: c for (kk, c), v in STANDARD_CLASSES.items() if kk == k}
            cls = by_name.get(name) or _ALIASES.get((k, name))
            how = "class name" if cls else ""
            k_found = k if cls else None
        given = str(rec.get("class_code") or "").strip().zfill(2)
        if cls is None and k is not None and (k, given) in STANDARD_CLASSES:
            k_found, cls, how = k, given, "class_code column"
        if cls is not None and (k_found, cls) not in STANDARD_CLASSES:
            k_found, cls, how = None, None, ""
        std = STANDARD_CLASSES.get((k_found, cls), ("", ""))[0] if cls else ""
        rows.append(
            {
                "code": code,
                "kind": k_found or k or "",
                "class_code": cls or "",
                "class_name": std,
                "how": how,
            }
        )
    out = pd.DataFrame(rows, columns=["code", "kind", "class_code", "class_name", "how"])
    unmapped = tuple(out.loc[out["class_code"] == "", "code"])
    return StandardMapping(table=out, unmapped=unmapped)
