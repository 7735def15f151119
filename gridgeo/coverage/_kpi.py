"""Case KPIs of digital urban management, computed on a workday calendar (private).

The definitions are written out, with worked examples, in ``docs/kpis.md``; this module
implements them. In short (one row of input = one case; period ``[start, end)``):

deadline
    Counted from dispatch (``dispatched_at``; from filing when the case was never
    dispatched), ``deadline`` ``deadline_unit`` of the case's category: working hours/days
    on the calendar, or calendar hours/days. An approved extension is a new deadline in the
    column ``extended_deadline``; where it is set it replaces the computed deadline.
立案数 filed
    ``start <= filed_at < end``.
应结案数 due
    Filed, and (deadline ``< end`` or closed ``< end``): cases closed early are due.
结案数 closed / 按期结案数 closed on time
    Filed and closed ``< end`` / and also closed ``<= deadline``.
处置数 disposed / 按期处置数
    Due and disposed ``< end`` / and also disposed ``<= deadline``.
rates
    结案率 closed / due, 按期结案率 closed on time / due, 处置率 disposed / due,
    按期处置率 disposed on time / due; 返工率 and 延期率 over filed.
超期未结 overdue now
    Filed, not closed at ``now`` (closed_at missing or after ``now``), deadline ``< now``.
返工/重派 rework
    ``reopened`` is yes (或 a count above 0).
平均处置时长 mean handling time
    ``disposed_at - start`` in working hours (calendar hours for calendar-time categories),
    over filed cases disposed before ``end``.

Unreadable times and yes/no values are never silently missing: :func:`case_table` lists
each of them (row, column, value) in its second result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gridgeo.calendar import WorkCalendar
from gridgeo.errors import ColumnError
from gridgeo.io._flags import parse_flags
from gridgeo.io._reports import parse_times

TIME_COLUMNS = (
    "reported_at",
    "filed_at",
    "dispatched_at",
    "disposed_at",
    "closed_at",
    "extended_deadline",
)
FLAG_COLUMNS = ("reopened", "extended")
PROBLEM_COLUMNS = ("row", "column", "value", "problem")

KPI_COLUMNS = (
    "filed",
    "due",
    "closed",
    "closure_rate",
    "closed_on_time",
    "on_time_closure_rate",
    "disposed",
    "disposal_rate",
    "disposed_on_time",
    "on_time_disposal_rate",
    "mean_acceptance_h",
    "median_acceptance_h",
    "mean_handling_h",
    "median_handling_h",
    "rework",
    "rework_rate",
    "extended",
    "extension_rate",
    "open_now",
    "overdue_now",
)


def _problems(cases: pd.DataFrame, col: str, mask: np.ndarray, problem: str) -> list[dict]:
    mask = np.asarray(mask, dtype=bool)
    rows = cases.index[mask]
    values = cases[col].to_numpy()[mask]
    return [
        {"row": r, "column": col, "value": str(v), "problem": problem}
        for r, v in zip(rows, values, strict=True)
    ]


def _reopened(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``reopened`` as yes/no or as a count of reopenings; ``(flag, bad)``."""
    numbers = pd.to_numeric(values, errors="coerce")
    is_bool = np.array([isinstance(v, bool | np.bool_) for v in values], dtype=bool)
    is_num = numbers.notna().to_numpy(dtype=bool) & ~is_bool
    flags, bad = parse_flags(values, name="reopened")
    flag = flags.fillna(False).to_numpy(dtype=bool)
    flag = np.where(is_num, numbers.fillna(0).to_numpy() > 0, flag)
    return flag, bad & ~is_num


def case_table(
    cases: pd.DataFrame,
    categories: pd.DataFrame,
    *,
    calendar: WorkCalendar | None,
    category_col: str = "category_code",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-case times, deadline and durations (hours) on the input index, plus the problems.

    Returns ``(table, problems)``: ``problems`` has one row per unreadable value
    (``row``, ``column``, ``value``, ``problem``).
    """
    missing = [c for c in (category_col, "filed_at") if c not in cases.columns]
    if missing:
        msg = (
            f"case KPIs need the column(s) {missing} in the assigned reports "
            "(category code and filing time); rename your columns or pass category_col=."
        )
        raise ColumnError(msg)
    problems: list[dict] = []
    out = pd.DataFrame(index=cases.index)
    for col in TIME_COLUMNS:
        if col not in cases.columns:
            out[col] = pd.Series(pd.NaT, index=cases.index, dtype="datetime64[ns]")
            continue
        times, bad = parse_times(cases[col])
        out[col] = pd.to_datetime(times).astype("datetime64[ns]")
        problems += _problems(cases, col, np.asarray(bad, dtype=bool), "unreadable time")
    code = cases[category_col].astype("string")
    known = code.isin(categories.index)
    if (~known & code.notna()).any():
        bad_codes = sorted(code[~known & code.notna()].unique())[:5]
        msg = (
            f"category code(s) {bad_codes} of column {category_col!r} are not in the category "
            "table; load the city's table with gridgeo.categories.load() and pass categories=."
        )
        raise ColumnError(msg)
    amount = code.map(categories["deadline"]).astype(float).to_numpy()
    unit = code.map(categories["deadline_unit"]).fillna("days").astype(object).to_numpy()
    if calendar is None:  # calendar time only
        unit = np.where(unit == "working_hours", "hours", unit)
        unit = np.where(unit == "working_days", "days", unit)
    working = np.isin(unit, ["working_hours", "working_days"])
    start = out["dispatched_at"].fillna(out["filed_at"])
    has_start = start.notna().to_numpy() & np.isfinite(amount)
    deadline = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    if has_start.any():
        cal = calendar or WorkCalendar()
        due_at = cal.add(start[has_start], amount[has_start], unit[has_start])
        deadline[has_start] = np.asarray(due_at)
    new = out["extended_deadline"]
    out["standard_deadline"] = deadline
    out["deadline"] = new.where(new.notna(), deadline)
    extended = new.notna().to_numpy().copy()
    if "extended" in cases.columns:
        flags, bad = parse_flags(cases["extended"], name="extended")
        extended |= flags.fillna(False).to_numpy(dtype=bool)
        problems += _problems(cases, "extended", bad, "unreadable yes/no")
    out["extended"] = extended
    if "reopened" in cases.columns:
        reopened, bad = _reopened(cases["reopened"])
        problems += _problems(cases, "reopened", bad, "unreadable yes/no")
    else:
        reopened = np.zeros(len(cases), dtype=bool)
    out["reopened"] = reopened
    out["working_time"] = working

    def hours(a: pd.Series, b: pd.Series) -> np.ndarray:
        plain = ((b - a).dt.total_seconds() / 3600.0).to_numpy()
        if calendar is None:
            return plain
        return np.where(working, calendar.working_minutes(a, b) / 60.0, plain)

    out["acceptance_h"] = hours(out["reported_at"], out["filed_at"])
    out["handling_h"] = hours(start, out["disposed_at"])
    frame = pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS))
    return out, frame


def kpis(
    table: pd.DataFrame,
    by: pd.Series | None,
    *,
    period: tuple[pd.Timestamp, pd.Timestamp],
    now: pd.Timestamp,
) -> pd.DataFrame:
    """KPIs per group of ``by`` (one row ``"all"`` when ``by`` is None)."""
    start, end = period
    filed = table["filed_at"].between(start, end, inclusive="left")
    t = table[filed]
    closed_by_end = (t["closed_at"] < end).fillna(False)
    disposed_by_end = (t["disposed_at"] < end).fillna(False)
    due = (t["deadline"] < end).fillna(False) | closed_by_end
    closed_in_time = (t["closed_at"] <= t["deadline"]).fillna(False)
    disposed_in_time = (t["disposed_at"] <= t["deadline"]).fillna(False)
    flags = pd.DataFrame(
        {
            "filed": True,
            "due": due,
            "closed": due & closed_by_end,
            "closed_on_time": due & closed_by_end & closed_in_time,
            "disposed": due & disposed_by_end,
            "disposed_on_time": due & disposed_by_end & disposed_in_time,
            "rework": t["reopened"].astype(bool),
            "extended": t["extended"].astype(bool),
            "open_now": ~(t["closed_at"] <= now).fillna(False),
        },
        index=t.index,
    )
    flags["overdue_now"] = flags["open_now"] & (t["deadline"] < now).fillna(False)
    keys = by.loc[t.index] if by is not None else pd.Series("all", index=t.index)
    keys = keys.astype("string").fillna("(none)")
    grouped = flags.groupby(keys.to_numpy(), sort=True).sum()
    if by is None:  # always one row, also when nothing was filed
        grouped = grouped.reindex(["all"], fill_value=0)
    durations = t[["acceptance_h", "handling_h"]].copy()
    durations.loc[~disposed_by_end.to_numpy(), "handling_h"] = np.nan
    by_key = durations.groupby(keys.to_numpy(), sort=True)
    grouped["mean_acceptance_h"] = by_key["acceptance_h"].mean()
    grouped["median_acceptance_h"] = by_key["acceptance_h"].median()
    grouped["mean_handling_h"] = by_key["handling_h"].mean()
    grouped["median_handling_h"] = by_key["handling_h"].median()
    due_n = grouped["due"].replace(0, np.nan)
    grouped["closure_rate"] = grouped["closed"] / due_n
    grouped["on_time_closure_rate"] = grouped["closed_on_time"] / due_n
    grouped["disposal_rate"] = grouped["disposed"] / due_n
    grouped["on_time_disposal_rate"] = grouped["disposed_on_time"] / due_n
    filed_n = grouped["filed"].replace(0, np.nan)
    grouped["rework_rate"] = grouped["rework"] / filed_n
    grouped["extension_rate"] = grouped["extended"] / filed_n
    int_cols = [
        "filed",
        "due",
        "closed",
        "closed_on_time",
        "disposed",
        "disposed_on_time",
        "rework",
        "extended",
        "open_now",
        "overdue_now",
    ]
    grouped[int_cols] = grouped[int_cols].astype(int)
    grouped.index.name = by.name if by is not None and by.name else "group"
    return grouped[list(KPI_COLUMNS)]


def rank(
    kpi: pd.DataFrame,
    *,
    keys: Sequence[str] = ("on_time_closure_rate", "closure_rate"),
    share: float = 0.1,
) -> pd.DataFrame:
    """Rank groups by KPIs: the best ``share`` get a red flag (红旗), the worst a yellow one."""
    ranked = kpi[kpi["due"] > 0].sort_values(list(keys), ascending=False, kind="mergesort")
    ranked = ranked.assign(rank=np.arange(1, len(ranked) + 1), flag="")
    k = max(1, round(len(ranked) * share)) if len(ranked) >= 3 else 0
    if k:
        ranked.iloc[:k, ranked.columns.get_loc("flag")] = "red"
        ranked.iloc[-k:, ranked.columns.get_loc("flag")] = "yellow"
    return ranked
