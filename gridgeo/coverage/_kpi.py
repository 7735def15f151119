"""Case KPIs of digital urban management, computed on a workday calendar.

Definitions (one row of input = one case; times are the case's own timestamps):

deadline
    ``start + allowed time`` where ``start`` is the dispatch time (``dispatched_at``; the
    filing time when the case was never dispatched) and the allowed time comes from the
    category table (``deadline`` in ``deadline_unit``: working hours/days on the calendar, or
    calendar hours/days). A case with an extension granted (``extended``) gets the allowed time
    twice.
due (应结案数)
    Cases filed (立案) in the period whose deadline falls before the period end, plus cases
    filed in the period and already closed by its end (a case closed early is due too).
closed (结案数)
    Due cases with ``closed_at`` before the period end.
closure rate (结案率)
    closed / due.
on-time closure rate (按期结案率)
    due cases closed no later than their deadline / due. (911 of 972 → 93.72 %.)
disposal rate (处置率), on-time disposal rate (按期处置率)
    The same with ``disposed_at`` instead of ``closed_at``.
acceptance time (受理时长)
    ``filed_at - reported_at``, in working hours when the calendar is used.
handling time (处置时长)
    ``disposed_at - dispatched_at`` (working hours).
rework (返工)
    Cases with ``reopened > 0``; extension (延期): cases with ``extended``.
open / overdue now
    Filed in the period, not closed at ``now``; overdue when also past their deadline.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gridgeo.calendar import WorkCalendar
from gridgeo.errors import ColumnError

TIME_COLUMNS = ("reported_at", "filed_at", "dispatched_at", "disposed_at", "closed_at")

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


def case_table(
    cases: pd.DataFrame,
    categories: pd.DataFrame,
    *,
    calendar: WorkCalendar | None,
    category_col: str = "category_code",
) -> pd.DataFrame:
    """Per-case times, deadline and working durations (hours), on the input index."""
    missing = [c for c in (category_col, "filed_at") if c not in cases.columns]
    if missing:
        msg = (
            f"case KPIs need the column(s) {missing} in the assigned reports "
            "(category code and filing time); rename your columns or pass category_col=."
        )
        raise ColumnError(msg)
    out = pd.DataFrame(index=cases.index)
    for col in TIME_COLUMNS:
        out[col] = pd.to_datetime(cases[col], errors="coerce") if col in cases.columns else pd.NaT
    code = cases[category_col].astype("string")
    known = code.isin(categories.index)
    if (~known & code.notna()).any():
        bad = sorted(code[~known & code.notna()].unique())[:5]
        msg = (
            f"category code(s) {bad} of column {category_col!r} are not in the category table; "
            "load the city's table with gridgeo.categories.load() and pass categories=."
        )
        raise ColumnError(msg)
    amount = code.map(categories["deadline"]).astype(float).to_numpy()
    unit = code.map(categories["deadline_unit"]).fillna("days").astype(object).to_numpy()
    extended = (
        cases["extended"].fillna(False).astype(bool).to_numpy()
        if "extended" in cases.columns
        else np.zeros(len(cases), bool)
    )
    amount = np.where(extended, amount * 2, amount)
    start = out["dispatched_at"].fillna(out["filed_at"])
    has_start = start.notna().to_numpy() & np.isfinite(amount)
    deadline = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    if has_start.any():
        cal = calendar or WorkCalendar()
        units = unit[has_start]
        if calendar is None:  # calendar time only
            units = np.where(units == "working_hours", "hours", units)
            units = np.where(units == "working_days", "days", units)
        deadline[has_start] = np.asarray(cal.add(start[has_start], amount[has_start], units))
    out["deadline"] = deadline
    out["extended"] = extended
    out["reopened"] = (
        pd.to_numeric(cases["reopened"], errors="coerce").fillna(0).to_numpy()
        if "reopened" in cases.columns
        else 0
    )

    def hours(a: pd.Series, b: pd.Series) -> np.ndarray:
        if calendar is None:
            return ((b - a).dt.total_seconds() / 3600.0).to_numpy()
        return calendar.working_minutes(a, b) / 60.0

    out["acceptance_h"] = hours(out["reported_at"], out["filed_at"])
    out["handling_h"] = hours(out["dispatched_at"].fillna(out["filed_at"]), out["disposed_at"])
    return out


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
    closed_by_end = t["closed_at"].notna() & (t["closed_at"] < end)
    disposed_by_end = t["disposed_at"].notna() & (t["disposed_at"] < end)
    due = (t["deadline"].notna() & (t["deadline"] < end)) | closed_by_end
    flags = pd.DataFrame(
        {
            "filed": True,
            "due": due,
            "closed": due & closed_by_end,
            "closed_on_time": due & closed_by_end & (t["closed_at"] <= t["deadline"]),
            "disposed": due & disposed_by_end,
            "disposed_on_time": due & disposed_by_end & (t["disposed_at"] <= t["deadline"]),
            "rework": t["reopened"] > 0,
            "extended": t["extended"].astype(bool),
            "open_now": t["closed_at"].isna() | (t["closed_at"] > now),
        },
        index=t.index,
    )
    flags["overdue_now"] = flags["open_now"] & (t["deadline"] < now)
    keys = by.loc[t.index] if by is not None else pd.Series("all", index=t.index)
    keys = keys.astype("string").fillna("(none)")
    grouped = flags.groupby(keys.to_numpy(), sort=True).sum()
    durations = t[["acceptance_h", "handling_h"]].groupby(keys.to_numpy(), sort=True)
    grouped["mean_acceptance_h"] = durations["acceptance_h"].mean()
    grouped["median_acceptance_h"] = durations["acceptance_h"].median()
    grouped["mean_handling_h"] = durations["handling_h"].mean()
    grouped["median_handling_h"] = durations["handling_h"].median()
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
