"""Excel output of the coverage report (private): one formatted sheet per section.

Every sheet has a frozen, filterable header row, column widths fitted to the text, rates
and shares as percentages (numbers stay numbers), and headers, measure names and fixed
values in the report's language. Text that a spreadsheet would run as a formula (starting
with ``=``, ``+``, ``-`` or ``@``) is written as text, never as a formula.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridgeo.coverage._report_text import _HEADERS, _flat, _is_share, _note, _translate

__all__ = ["FORMULA_PREFIXES", "write_workbook"]

#: leading characters that make a spreadsheet cell a formula
FORMULA_PREFIXES = ("=", "+", "-", "@")
_MAX_WIDTH = 60


def _width(value: Any) -> int:
    """Display width: East Asian wide characters count twice."""
    text = str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def write_workbook(
    path: Path,
    sections: Mapping[str, pd.DataFrame],
    *,
    titles: Mapping[str, str],
    notes: Mapping[str, str],
    i: int,
) -> None:
    """Write the sections to ``path`` (an ``.xlsx`` file, written by the caller atomically)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="F3F3F3")
    percent_of = {v[i]: _is_share(k) for k, v in _HEADERS.items()}
    used: set[str] = set()
    for name, frame in sections.items():
        sheet_name = titles[name][:31].replace("/", "-")
        while sheet_name in used:
            sheet_name = sheet_name[:29] + "_"
        used.add(sheet_name)
        ws = book.create_sheet(sheet_name)
        flat = _flat(frame)
        if flat.empty or len(flat.columns) == 0:
            reason = _note(notes[name], i) if name in notes else ""
            ws.append([reason or ("无数据" if i == 0 else "No data")])
            ws.column_dimensions["A"].width = min(_MAX_WIDTH, _width(ws["A1"].value) + 2)
            continue
        shares_by_row = (
            [_is_share(str(m)) for m in flat["measure"]] if "measure" in flat.columns else None
        )
        shown = _translate(flat, i)
        columns = [str(c) for c in shown.columns]
        ws.append(columns)
        for cell in ws[1]:
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(vertical="center")
        widths = [_width(c) for c in columns]
        value_col = columns.index(_HEADERS["value"][i]) if "value" in flat.columns else -1
        for r, row in enumerate(shown.itertuples(index=False), start=2):
            for c, raw in enumerate(row):
                value = _cell_value(raw)
                cell = ws.cell(row=r, column=c + 1, value=value)
                if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
                    cell.data_type = "s"  # text, not a formula
                    cell.quotePrefix = True
                if isinstance(value, int | float) and not isinstance(value, bool):
                    share = percent_of.get(columns[c], False)
                    if c == value_col and shares_by_row is not None:
                        share = shares_by_row[r - 2]
                    if share:
                        cell.number_format = "0.00%"
                        width = 8
                    else:
                        cell.number_format = "#,##0" if float(value).is_integer() else "#,##0.00"
                        width = len(f"{value:,.2f}")
                else:
                    width = _width(value) if value is not None else 0
                widths[c] = max(widths[c], width)
        for c, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(c)].width = min(_MAX_WIDTH, w + 2)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
    book.save(path)
