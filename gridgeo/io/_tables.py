"""Reading report tables (CSV, Excel) without losing codes: ``001`` stays ``"001"``.

pandas reads a column of digits as numbers, so district codes, grid codes, report numbers
and phone numbers lose their leading zeros (``"001"`` → ``1``) and ids longer than 15 digits
lose digits. Here a column stays text when any of its values is *code-like*: digits with a
leading zero (``"007"``, not ``"0"`` or ``"0.5"``) or 16 digits and more. Other columns get
pandas' usual types, so coordinates and counts are still numbers.

CSV: the table is parsed once with types. Only when the text holds a field starting with a
zero digit or a run of 16+ digits (a quick scan) are the columns that came out as whole numbers
(the only ones that can have lost something) read again as text, in one pass, and kept as text
when code-like. Excel: cells are read as stored (text cells stay text), then each column gets
the narrowest type that holds all its values.
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["CODE_LIKE", "is_code_like", "read_csv_keep_codes", "read_excel_keep_codes"]

logger = logging.getLogger(__name__)

# Digits with a leading zero, or 16 digits and more (beyond float64's exact integers).
CODE_LIKE = r"^[ \t]*(?:[+-]?0[0-9]+|[0-9]{16,})[ \t]*$"
# A field that may be code-like somewhere in a CSV text (a superset of CODE_LIKE fields).
_MAYBE_CODES = re.compile(r"(?:^|[,;\t\"])\s*[+-]?0\d|\d{16}", re.MULTILINE)


def is_code_like(values: pd.Series) -> bool:
    """True when any text value of ``values`` would change if read as a number."""
    text = pa.array(values.dropna().astype(str).to_numpy(dtype=object), type=pa.large_string())
    return bool(pc.any(pc.match_substring_regex(text, CODE_LIKE)).as_py())


def _whole_numbers(column: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(column.dtype):
        return False
    if pd.api.types.is_integer_dtype(column.dtype):
        return True
    if pd.api.types.is_float_dtype(column.dtype):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        finite = values[np.isfinite(values)]
        return len(finite) > 0 and bool((finite == np.floor(finite)).all())
    return False


def read_csv_keep_codes(
    text: str, text_columns: list[str], *, data: bytes | None = None
) -> pd.DataFrame:
    """``pd.read_csv`` of decoded ``text``; ``text_columns`` and code-like columns stay text.

    ``data``, when given, is ``text`` encoded as UTF-8 (pandas parses bytes much faster).
    """

    def source() -> io.StringIO | io.BytesIO:
        return io.StringIO(text) if data is None else io.BytesIO(data)

    header = pd.read_csv(source(), nrows=0).columns
    dtype = {c: str for c in text_columns if c in header}
    table = pd.read_csv(source(), dtype=dtype, low_memory=False)
    suspects = [i for i, c in enumerate(table.columns) if _whole_numbers(table.iloc[:, i])]
    if not suspects or _MAYBE_CODES.search(text) is None:
        return table
    texts = pd.read_csv(source(), usecols=suspects, dtype=str)
    for position in suspects:
        name = table.columns[position]
        as_text = texts.iloc[:, texts.columns.get_loc(name)]
        if is_code_like(as_text):
            logger.info("column %r holds codes with leading zeros; kept as text", name)
            table.isetitem(position, as_text.array)
    return table


def read_excel_keep_codes(path: Path) -> pd.DataFrame:
    """First sheet of an Excel file; text cells stay text, numeric columns become numbers."""
    raw = pd.read_excel(path, sheet_name=0, dtype=object)
    return raw.infer_objects()
