"""KPIs of the coverage report against an independent row-by-row twin written from docs/kpis.md.

The twin below loops over rows in plain Python and follows the written definitions; it
shares nothing with ``gridgeo.coverage._kpi`` except the work calendar (tested on its own against a
minute-by-minute twin in test_calendar.py).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

from gridgeo import coverage
from gridgeo.calendar import WorkCalendar
from gridgeo.categories import default_categories
from gridgeo.coverage import _kpi
from gridgeo.io._flags import parse_flags

CATS = default_categories()
CAL = WorkCalendar(holidays=["2026-03-05"], workdays=["2026-03-08"])
PERIOD = (pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-09"))
NOW = pd.Timestamp("2026-03-07 12:00")
# one category per time basis: working hours, working days, calendar hours (emergency), and a
# long deadline (illegal construction) that often ends after the period
CODES = {
    "E0101": (4.0, "working_hours"),
    "E0102": (1.0, "working_days"),
    "E0303": (20.0, "working_days"),
    "E0403": (1.0, "hours"),
}
YES = ["是", "有", "Y", "yes", "已", " TRUE ", 1]
NO = ["否", "无", "N", "no", "未", "false", 0]
GRIDS = ["G1", "G2", "G3"]


# ----------------------------------------------------------------------------- the twin
def _yes(value: object) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value > 0
    return str(value).strip().lower() in {"是", "有", "y", "yes", "已", "true", "1"}


def _missing(t: object) -> bool:
    return t is None or pd.isna(t)


def _twin_deadline(row: dict, calendar: WorkCalendar | None) -> pd.Timestamp | None:
    if not _missing(row.get("extended_deadline")):
        return pd.Timestamp(row["extended_deadline"])
    start = row["dispatched_at"] if not _missing(row["dispatched_at"]) else row["filed_at"]
    if _missing(start):
        return None
    amount, unit = CATS.loc[row["category_code"], ["deadline", "deadline_unit"]]
    if calendar is None:
        unit = {"working_hours": "hours", "working_days": "days"}.get(unit, unit)
    if unit == "hours":
        return pd.Timestamp(start) + pd.Timedelta(hours=amount)
    if unit == "days":
        return pd.Timestamp(start) + pd.Timedelta(days=amount)
    return calendar.add(pd.DatetimeIndex([start]), amount, unit)[0]


def _hours(a, b, working: bool, calendar: WorkCalendar | None) -> float:
    if working and calendar is not None:
        return calendar.working_minutes(pd.DatetimeIndex([a]), pd.DatetimeIndex([b]))[0] / 60
    return (pd.Timestamp(b) - pd.Timestamp(a)).total_seconds() / 3600


def twin(rows: list[dict], calendar: WorkCalendar | None, period, now) -> dict:
    """The indicators of docs/kpis.md, one case at a time."""
    start, end = period
    n = dict.fromkeys(
        [
            *("filed", "due", "closed", "closed_on_time", "disposed", "disposed_on_time"),
            *("rework", "extended", "open_now", "overdue_now"),
        ],
        0,
    )
    handling = []
    for row in rows:
        filed = row["filed_at"]
        if _missing(filed) or not (start <= filed < end):
            continue
        n["filed"] += 1
        deadline = _twin_deadline(row, calendar)
        closed = row["closed_at"]
        disposed = row["disposed_at"]
        closed_by_end = not _missing(closed) and closed < end
        is_due = (deadline is not None and deadline < end) or closed_by_end
        if is_due:
            n["due"] += 1
            if closed_by_end:
                n["closed"] += 1
                if deadline is not None and closed <= deadline:
                    n["closed_on_time"] += 1
            if not _missing(disposed) and disposed < end:
                n["disposed"] += 1
                if deadline is not None and disposed <= deadline:
                    n["disposed_on_time"] += 1
        if _yes(row.get("reopened")):
            n["rework"] += 1
        if _yes(row.get("extended")) or not _missing(row.get("extended_deadline")):
            n["extended"] += 1
        if _missing(closed) or closed > now:
            n["open_now"] += 1
            if deadline is not None and deadline < now:
                n["overdue_now"] += 1
        clock = row["dispatched_at"] if not _missing(row["dispatched_at"]) else filed
        if not _missing(disposed) and disposed < end:
            working = CODES[row["category_code"]][1].startswith("working")
            handling.append(_hours(clock, disposed, working, calendar))
    due = n["due"] or float("nan")
    filed_n = n["filed"] or float("nan")
    n["closure_rate"] = n["closed"] / due
    n["on_time_closure_rate"] = n["closed_on_time"] / due
    n["disposal_rate"] = n["disposed"] / due
    n["on_time_disposal_rate"] = n["disposed_on_time"] / due
    n["rework_rate"] = n["rework"] / filed_n
    n["extension_rate"] = n["extended"] / filed_n
    n["mean_handling_h"] = sum(handling) / len(handling) if handling else float("nan")
    return n


# ----------------------------------------------------------------------- generated tables
_base = pd.Timestamp("2026-02-27")
_minutes = st.integers(min_value=0, max_value=15 * 24 * 60 // 10).map(
    lambda m: _base + pd.Timedelta(minutes=10 * m)
)
_gap = st.integers(min_value=0, max_value=5 * 24 * 6).map(lambda m: pd.Timedelta(minutes=10 * m))
_maybe_gap = st.one_of(st.none(), _gap)


@st.composite
def case_rows(draw: st.DrawFn) -> list[dict]:
    rows = []
    for _ in range(draw(st.integers(min_value=0, max_value=14))):
        filed = draw(st.one_of(st.none(), _minutes, _minutes))
        t0 = filed if filed is not None else _base
        dispatched = draw(_maybe_gap)
        dispatched_at = None if dispatched is None else t0 + dispatched
        clock = dispatched_at or t0
        disposed = draw(_maybe_gap)
        disposed_at = None if disposed is None else clock + disposed
        closed = draw(_maybe_gap)
        closed_at = None if closed is None else (disposed_at or clock) + closed
        extended_at = draw(st.one_of(st.none(), st.none(), _gap))
        rows.append(
            {
                # the long deadline twice as often: early closures before a far deadline
                "category_code": draw(st.sampled_from([*CODES, "E0303"])),
                "grid_code": draw(st.sampled_from(GRIDS)),
                "reported_at": t0 - draw(_gap) / 10,
                "filed_at": filed,
                "dispatched_at": dispatched_at,
                "disposed_at": disposed_at,
                "closed_at": closed_at,
                "extended_deadline": None if extended_at is None else clock + extended_at,
                "extended": draw(st.sampled_from([*YES, *NO, None])),
                "reopened": draw(st.sampled_from([*YES, *NO, None, 2])),
                "status": "assigned",
            }
        )
    return rows


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(case_rows_columns()))
    for col in ("reported_at", "filed_at", "dispatched_at", "disposed_at", "closed_at"):
        frame[col] = pd.to_datetime(frame[col])
    frame["extended_deadline"] = pd.to_datetime(frame["extended_deadline"])
    return frame


def case_rows_columns() -> tuple[str, ...]:
    return (
        "category_code",
        "grid_code",
        "reported_at",
        "filed_at",
        "dispatched_at",
        "disposed_at",
        "closed_at",
        "extended_deadline",
        "extended",
        "reopened",
        "status",
    )


_CELLS = gpd.GeoDataFrame(
    {"cell_code": ["c1", "c2", "c3"], "grid_code": GRIDS},
    geometry=[box(i * 100, 0, i * 100 + 100, 100) for i in range(3)],
    crs=3857,
)
_COMPARED = (
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
    "closure_rate",
    "on_time_closure_rate",
    "disposal_rate",
    "on_time_disposal_rate",
    "rework_rate",
    "extension_rate",
    "mean_handling_h",
)


def _assert_same(got: pd.Series, want: dict, label: str) -> None:
    for key in _COMPARED:
        g, w = float(got[key]), float(want[key])
        assert (math.isnan(g) and math.isnan(w)) or g == pytest.approx(w, abs=1e-9), (
            f"{label}: {key} report {g} twin {w}"
        )


def _compare_kpis(rows: list[dict], calendar: WorkCalendar | None) -> None:
    frame = _frame(rows)
    table, problems = _kpi.case_table(frame, CATS, calendar=calendar)
    assert problems.empty
    per_grid = _kpi.kpis(table, frame["grid_code"], period=PERIOD, now=NOW)
    overall = _kpi.kpis(table, None, period=PERIOD, now=NOW).iloc[0]
    _assert_same(overall, twin(rows, calendar, PERIOD, NOW), "all")
    for grid in GRIDS:
        want = twin([r for r in rows if r["grid_code"] == grid], calendar, PERIOD, NOW)
        if want["filed"]:
            _assert_same(per_grid.loc[grid], want, grid)
        else:
            assert grid not in per_grid.index


@settings(max_examples=100, deadline=None)
@given(case_rows(), st.booleans())
def test_kpis_equal_row_by_row_twin(rows: list[dict], working_calendar: bool) -> None:
    _compare_kpis(rows, CAL if working_calendar else None)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(case_rows())
def test_kpis_equal_twin_on_thousands_of_tables(rows: list[dict]) -> None:
    _compare_kpis(rows, CAL)


@settings(max_examples=25, deadline=None)
@given(case_rows())
def test_coverage_report_kpis_equal_twin(rows: list[dict]) -> None:
    frame = _frame(rows)
    rep = coverage.report(_CELLS, None, frame, period=PERIOD, calendar=CAL, now=NOW)
    kpi = rep["kpi_grid"]
    for grid in GRIDS:
        want = twin([r for r in rows if r["grid_code"] == grid], CAL, PERIOD, NOW)
        if want["filed"]:
            _assert_same(kpi.loc[grid], want, grid)
    overall = twin(rows, CAL, PERIOD, NOW)
    if overall["filed"]:
        assert rep.headline["due"] == overall["due"]
        assert rep.headline["closed"] == overall["closed"]


# ------------------------------------------------------ known answers that pin each definition
T = pd.Timestamp("2026-03-02 09:00")  # Monday, 09:00
H = pd.Timedelta(hours=1)


def _one(**cols) -> pd.Series:
    base = {
        "category_code": "E0101",  # 4 working hours
        "reported_at": T,
        "filed_at": T,
        "dispatched_at": T,
        "disposed_at": pd.NaT,
        "closed_at": pd.NaT,
    }
    base.update(cols)
    n = max(len(v) if isinstance(v, list) else 1 for v in base.values())
    frame = pd.DataFrame({k: v if isinstance(v, list) else [v] * n for k, v in base.items()})
    for col in ("reported_at", "filed_at", "dispatched_at", "disposed_at", "closed_at"):
        frame[col] = pd.to_datetime(frame[col])
    table, _ = _kpi.case_table(frame, CATS, calendar=CAL)
    return _kpi.kpis(table, None, period=PERIOD, now=NOW).iloc[0]


def test_closure_rate_is_over_due_not_filed() -> None:
    # two filed: one closed, one open with a deadline after the period end (not due)
    late = CATS.loc["E0303", "deadline"]  # illegal construction: many working days
    assert late >= 10
    k = _one(
        category_code=["E0101", "E0303"],
        closed_at=[T + H, pd.NaT],
        filed_at=[T, T],
        dispatched_at=[T, T],
        reported_at=[T, T],
        disposed_at=[T + H, pd.NaT],
    )
    assert (k["filed"], k["due"], k["closed"]) == (2, 1, 1)
    assert k["closure_rate"] == 1.0  # closed / filed would give 0.5


def test_on_time_rate_is_over_due_not_closed() -> None:
    # due: one closed on time, one open past its deadline
    k = _one(closed_at=[T + H, pd.NaT], filed_at=[T, T], dispatched_at=[T, T], reported_at=[T, T])
    assert (k["due"], k["closed"], k["closed_on_time"]) == (2, 1, 1)
    assert k["on_time_closure_rate"] == 0.5  # over closed would give 1.0


def test_early_closed_case_is_due() -> None:
    # deadline after the period end, but closed within it: due and closed
    k = _one(category_code="E0303", closed_at=T + H, disposed_at=T + H)
    assert (k["due"], k["closed"], k["closure_rate"]) == (1, 1, 1.0)


def test_deadline_starts_at_dispatch_not_filing() -> None:
    # filed Monday 09:00, dispatched Monday 14:00; 4 working hours -> Tuesday 09:00 (from
    # filing it would be Monday 15:00); closed Monday 16:00 is on time
    k = _one(dispatched_at=T + 5 * H, closed_at=T + 7 * H)
    assert k["closed_on_time"] == 1


def test_extension_replaces_deadline() -> None:
    frame = pd.DataFrame(
        {
            "category_code": ["E0101"],
            "filed_at": [T],
            "dispatched_at": [T],
            "extended": ["是"],
            "extended_deadline": ["2026-03-04 10:00"],
        }
    )
    table, problems = _kpi.case_table(frame, CATS, calendar=CAL)
    assert problems.empty
    assert table["deadline"].iloc[0] == pd.Timestamp("2026-03-04 10:00")
    assert table["standard_deadline"].iloc[0] == pd.Timestamp("2026-03-02 15:00")


def test_emergency_runs_on_calendar_time() -> None:
    friday = pd.Timestamp("2026-03-06 17:20")
    for code in ("E0403",):
        frame = pd.DataFrame({"category_code": [code], "filed_at": [friday]})
        table, _ = _kpi.case_table(frame, CATS, calendar=CAL)
        assert table["deadline"].iloc[0] == friday + pd.Timedelta(hours=1)


def test_unreadable_times_and_flags_are_named_by_row() -> None:
    frame = pd.DataFrame(
        {
            "category_code": ["E0101"] * 3,
            "filed_at": ["2026-03-02 09:00", "not a time", "2026-03-02 10:00"],
            "closed_at": [None, None, "yesterday-ish"],
            "reopened": ["否", "也许", 2],
        },
        index=["a", "b", "c"],
    )
    table, problems = _kpi.case_table(frame, CATS, calendar=CAL)
    got = sorted(zip(problems["row"], problems["column"], problems["value"], strict=True))
    assert got == [
        ("b", "filed_at", "not a time"),
        ("b", "reopened", "也许"),
        ("c", "closed_at", "yesterday-ish"),
    ]
    assert table["reopened"].tolist() == [False, False, True]


def test_report_lists_unreadable_values() -> None:
    frame = pd.DataFrame(
        {
            "category_code": ["E0101"] * 2,
            "grid_code": ["G1", "G2"],
            "filed_at": ["2026-03-02 09:00", "??"],
            "extended": ["是", "maybe"],
            "status": ["assigned"] * 2,
        }
    )
    rep = coverage.report(_CELLS, None, frame, period=PERIOD, calendar=CAL)
    problems = rep["data_problems"]
    assert problems[["row", "column"]].values.tolist() == [[1, "filed_at"], [1, "extended"]]
    assert rep.headline["unreadable_values"] == 2


def test_parse_flags_defaults_and_options() -> None:
    values = pd.Series(["是", "否", "有", "无", "Y", "n", " Yes ", "FALSE", "1", 0, "已", "未"])
    flags, bad = parse_flags(values)
    assert flags.tolist() == [True, False] * 6 and not bad.any()
    flags, bad = parse_flags(pd.Series(["ok", "ko", ""]), true_values=["OK"], false_values=["ko"])
    assert flags.tolist() == [True, False, pd.NA] and not bad.any()
    assert values.tolist()[0] == "是"  # input untouched
    flags, bad = parse_flags(pd.Series([np.nan, None, "-", "hmm"]))
    assert flags.isna().all() and bad.tolist() == [False, False, False, True]


_flag_values = st.sampled_from(
    [*YES, *NO, None, float("nan"), "", " 是 ", "maybe", True, False, 2, "YES", "n/a", "-"]
)


@given(st.lists(_flag_values, max_size=30))
def test_parse_flags_equals_per_value_rule(values: list) -> None:
    from gridgeo.io._flags import FALSE_VALUES, TRUE_VALUES, _read_one

    yes = {str(v).strip().lower() for v in TRUE_VALUES}
    no = {str(v).strip().lower() for v in FALSE_VALUES}
    series = pd.Series(values, dtype=object)
    flags, bad = parse_flags(series)
    want = [_read_one(v, yes, no) for v in values]
    assert flags.tolist() == [{0: pd.NA, 1: True, 2: False, 3: pd.NA}[w] for w in want]
    assert bad.tolist() == [w == 3 for w in want]
