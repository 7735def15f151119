"""Workday calendar: vectorised working-time clock against a minute-by-minute slow twin."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridgeo.calendar import WorkCalendar

CAL = WorkCalendar(holidays=["2026-10-01", "2026-10-02"], workdays=["2026-10-10"])


def _slow_working_minutes(cal: WorkCalendar, a: pd.Timestamp, b: pd.Timestamp) -> float:
    """Count working minutes one minute at a time (obviously correct, slow)."""
    periods = [(int(x[:2]) * 60 + int(x[3:]), int(y[:2]) * 60 + int(y[3:])) for x, y in cal.hours]
    sign = 1.0
    if b < a:
        a, b, sign = b, a, -1.0
    days = pd.date_range(a.normalize(), b.normalize(), freq="D")
    workday = dict(zip(days.date, cal.is_workday(days), strict=True))
    total = 0
    t = a.floor("min").to_pydatetime()
    end = b.to_pydatetime()
    step = dt.timedelta(minutes=1)
    while t < end:
        if workday[t.date()]:
            m = t.hour * 60 + t.minute
            total += any(p0 <= m < p1 for p0, p1 in periods)
        t += step
    return sign * total


minute_times = st.datetimes(
    min_value=dt.datetime(2026, 9, 25), max_value=dt.datetime(2026, 10, 14)
).map(lambda d: pd.Timestamp(d).floor("min"))


@given(minute_times, minute_times)
def test_working_minutes_equals_slow_twin(a: pd.Timestamp, b: pd.Timestamp) -> None:
    fast = CAL.working_minutes(pd.DatetimeIndex([a]), pd.DatetimeIndex([b]))[0]
    assert fast == _slow_working_minutes(CAL, a, b)


@given(minute_times, st.integers(min_value=1, max_value=60 * 30))
def test_deadline_is_earliest_time_with_enough_working_time(
    start: pd.Timestamp, minutes: int
) -> None:
    due = CAL.add(pd.DatetimeIndex([start]), minutes / 60, "working_hours")[0]
    assert CAL.working_minutes(pd.DatetimeIndex([start]), pd.DatetimeIndex([due]))[0] == minutes
    one_less = due - pd.Timedelta(minutes=1)
    if one_less >= start:
        assert (
            CAL.working_minutes(pd.DatetimeIndex([start]), pd.DatetimeIndex([one_less]))[0]
            < minutes
        )


def test_holiday_makeup_day_and_units() -> None:
    assert CAL.is_workday(pd.to_datetime(["2026-10-01", "2026-10-10", "2026-10-11"])).tolist() == [
        False,
        True,
        False,
    ]
    start = pd.to_datetime(["2026-09-30 10:00"] * 4)
    due = CAL.add(start, [2, 1, 5, 3], ["working_days", "working_hours", "hours", "days"])
    assert [str(x) for x in due] == [
        "2026-10-06 10:00:00",  # Thu/Fri holidays, weekend: Mon + Tue
        "2026-09-30 11:00:00",
        "2026-09-30 15:00:00",
        "2026-10-03 10:00:00",
    ]


def test_missing_times_give_nat_and_nan() -> None:
    start = pd.to_datetime(pd.Series(["2026-09-30 10:00", None]))
    due = CAL.add(start, 4, "working_hours")
    assert pd.isna(due[1]) and not pd.isna(due[0])
    minutes = CAL.working_minutes(start, start + pd.Timedelta(hours=1))
    assert minutes[0] == 60 and np.isnan(minutes[1])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hours": (("09:00", "08:00"),)}, "increasing"),
        ({"hours": (("25:00", "26:00"),)}, "not a time of day"),
        ({"hours": ()}, "at least one"),
    ],
)
def test_bad_calendar(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        WorkCalendar(**kwargs)


def test_bad_unit() -> None:
    with pytest.raises(ValueError, match="'weeks' is not one of"):
        CAL.add(pd.to_datetime(["2026-09-30"]), 1, "weeks")
