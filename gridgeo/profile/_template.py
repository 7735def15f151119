"""Profile templates and column guessing from an export's header (private)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from gridgeo.errors import InputFileError
from gridgeo.profile._schema import COLUMN_NAMES, DEMO_COLUMNS

PathLike = str | os.PathLike[str]

# Header synonyms (lower case, no spaces) used by guess_columns, most specific first.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("案件编号", "案卷编号", "案件号", "工单号", "编号", "report_id", "case_id", "id"),
    "lon": ("经度", "x坐标", "lng", "lon", "long", "longitude", "x"),
    "lat": ("纬度", "y坐标", "lat", "latitude", "y"),
    "reported": ("上报时间", "发现时间", "受理时间", "reported_at", "report_time", "reported"),
    "filed": ("立案时间", "filed_at", "filed", "registered_at"),
    "dispatched": ("派遣时间", "派单时间", "dispatched_at", "dispatched"),
    "disposed": ("处置时间", "处置完成时间", "处理时间", "disposed_at", "disposed"),
    "closed": ("结案时间", "办结时间", "closed_at", "closed"),
    "category": ("小类代码", "小类编码", "类别代码", "category_code", "category"),
    "category_name": ("大类", "大类名称", "class_name", "category_name"),
    "subcategory_name": ("小类", "小类名称", "subcategory", "subcategory_name"),
    "kind": ("案件类型", "类型", "kind", "type"),
    "source": ("案件来源", "来源", "source"),
    "severity": ("紧急程度", "严重程度", "severity", "priority"),
    "status": ("案件状态", "状态", "status"),
    "department": ("处置部门", "责任部门", "承办部门", "department", "dept"),
    "extended": ("是否延期", "延期", "extended", "extension"),
    "new_deadline": ("延期后期限", "新期限", "new_deadline"),
    "reopened": ("是否返工", "返工", "返工次数", "reopened", "rework"),
    "description": ("问题描述", "描述", "description"),
    "address": ("地址", "位置", "address"),
}


# ----------------------------------------------------------------------- template, guess
def guess_columns(header: Sequence[str]) -> dict[str, str]:
    """Guess profile column keys from an export's header (Chinese and English synonyms).

    Parameters
    ----------
    header : sequence of str
        Column names of the export.

    Returns
    -------
    dict
        Profile key → column name, for the columns recognised (each column used once).

    Examples
    --------
    >>> guess_columns(["案件编号", "经度", "纬度", "上报时间", "备注"])
    {'id': '案件编号', 'lon': '经度', 'lat': '纬度', 'reported': '上报时间'}
    """
    norm = {re.sub(r"[\s_\-（）()]", "", str(h)).lower(): str(h) for h in header}
    used: set[str] = set()
    out: dict[str, str] = {}
    for key, names in _SYNONYMS.items():
        for name in names:
            column = norm.get(re.sub(r"[\s_\-]", "", name).lower())
            if column is not None and column not in used:
                out[key] = column
                used.add(column)
                break
    return out


def read_header(path: PathLike) -> list[str]:
    """Column names of a case export (CSV in UTF-8 or GBK, Excel, Parquet), read cheaply.

    Raises
    ------
    InputFileError
        Missing file, another format, or a CSV header that is neither UTF-8 nor GBK.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_bytes("编号,经度\\n1,114.4\\n".encode("gbk"))
    >>> read_header(p)
    ['编号', '经度']
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        msg = f"cannot read {str(path)!r}: the file does not exist."
        raise InputFileError(msg)
    if suffix in (".xlsx", ".xlsm"):
        return [str(c) for c in pd.read_excel(path, nrows=0).columns]
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return [str(c) for c in pq.read_schema(path).names]
    if suffix not in (".csv", ".txt"):
        msg = (
            f"cannot read {str(path)!r}: use a CSV (.csv, .txt), Excel (.xlsx) or Parquet "
            "(.parquet) case export."
        )
        raise InputFileError(msg)
    with path.open("rb") as fh:
        raw = fh.readline().rstrip(b"\r\n")
    for codec in ("utf-8-sig", "gb18030"):
        try:
            first = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        return [h.strip().strip('"') for h in first.split(",")]
    msg = f"cannot read {str(path)!r}: its header is neither UTF-8 nor GBK text."
    raise InputFileError(msg)


def _guess_encoding(path: Path) -> str:
    if path.suffix.lower() not in (".csv", ".txt"):
        return ""
    raw = path.read_bytes()[:65536]
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "gbk"
    return ""


_TEMPLATE_HEAD = """\
# gridgeo city profile. Paths are relative to this file. Check it with:
#   gridgeo run --profile {name} --day 2026-03-02
# Every key is optional; delete what you do not need.

[city]
name = "{city}"
# admin_code = "441302"            # 6-digit district code (GB/T 2260)

[reports]
file = "{file}"                    # the case export: CSV (UTF-8 or GBK), Excel or Parquet
encoding = "{encoding}"            # "" detects UTF-8 / GBK; or "gbk", "utf-8"
crs = "gcj02"                      # wgs84 | gcj02 (Amap, WeChat) | bd09 (Baidu) | cgcs2000 | 4547

[columns]                          # the export's column names (delete rows it does not have)
"""

_TEMPLATE_TAIL = """
[flags]                            # values that mean yes / no in flag columns
yes = ["是", "Y", "y", "1", "true"]
no = ["否", "N", "n", "0", "false"]

[calendar]                         # for deadlines in working hours / days
working_hours = [["08:30", "12:00"], ["14:00", "17:30"]]
weekend = [5, 6]                   # Monday = 0
holidays = ["2026-01-01", "2026-10-01"]
workdays = []                      # make-up working days (调休) on a weekend
calendar_time = false              # true: count plain hours and days

[categories]
file = ""                          # "" = gridgeo's default table; or "categories.csv"

[layers]
boundary = "district.geojson"      # the district boundary
boundary_crs = "gcj02"             # declare GCJ-02 / BD-09 lon/lat layers
streets = ""                       # streets for street-bounded cells ("" = square cells)
communities = ""                   # community polygons for nesting and codes
plan = "plan.gpkg"                 # the grid plan; built and saved here when missing

[grids]
n = 40                             # number of responsibility grids
tolerance = 0.10                   # allowed deviation from the mean workload
weight = "reports"                 # "reports" (cases per cell), "area" or a cells column
cell_area = 10000                  # m² per base cell
seed = 0

[thresholds]
snap_m = 30                        # reports this close outside the district are snapped in
walk_distance_m = 1000             # 15-minute walk for service coverage
per_worker = 150                   # reports per worker per period before overload
yellow_count_quantile = 99         # yellow warning above this percentile of counts

[output]
folder = "gridgeo_out"
lang = "zh"                        # zh | en
"""


def template(
    *,
    name: str = "gridgeo.toml",
    columns: Mapping[str, str] | None = None,
    reports_file: str = "reports_export.csv",
    encoding: str = "",
    city: str = "",
) -> str:
    """Return the text of a commented profile template.

    Parameters
    ----------
    name : str
        The profile's file name (shown in the comment on how to check it).
    columns : dict, optional
        Profile key → export column; keys not given are written commented out. Default: the
        column names of the demo export (``gridgeo demo`` writes ``reports_export.csv``).
    reports_file, encoding, city : str
        Values for ``[reports] file``, ``[reports] encoding`` and ``[city] name``.

    Returns
    -------
    str
        TOML text that :meth:`Profile.from_text` accepts.

    Examples
    --------
    >>> from gridgeo.profile import Profile
    >>> text = template(columns={"lon": "经度", "lat": "纬度"})
    >>> Profile.from_text(text).columns["lat"]
    '纬度'
    """
    if columns is None:
        columns = DEMO_COLUMNS
    lines = [
        _TEMPLATE_HEAD.format(
            name=name, city=_toml_text(city), file=_toml_text(reports_file), encoding=encoding
        )
    ]
    for key in COLUMN_NAMES:
        if key in columns:
            lines.append(f"{key} = {_toml_quote(columns[key])}\n")
        else:
            lines.append(f'# {key} = ""\n')
    lines.append(_TEMPLATE_TAIL)
    return "".join(lines)


def _toml_text(value: str) -> str:
    return _toml_quote(value)[1:-1]


def _toml_quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def template_from_sample(
    path: PathLike, *, name: str = "gridgeo.toml", reports_file: str | None = None
) -> tuple[str, dict[str, str]]:
    """Template text with the columns guessed from a sample export's header.

    Returns the text and the guessed ``{key: column}`` mapping.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_bytes("案件编号,经度,纬度,上报时间\\nA1,114.4,23.1,2026-03-02\\n".encode("gbk"))
    >>> text, guessed = template_from_sample(p)
    >>> guessed["lon"], 'encoding = "gbk"' in text
    ('经度', True)
    """
    sample = Path(path)
    guessed = guess_columns(read_header(sample))
    text = template(
        name=name,
        columns=guessed,
        reports_file=sample.name if reports_file is None else reports_file,
        encoding=_guess_encoding(sample),
    )
    return text, guessed
