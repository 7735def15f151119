"""Workday calendar: vectorised working-time clock against a minute-by-minute slow twin."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridgeo.calendar import CalendarYearWarning, WorkCalendar

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


# ---------------------------------------------------- the Chinese calendar (chinesecalendar)
CHINA = WorkCalendar.china()


def test_china_national_day_spring_festival_and_makeup_saturday() -> None:
    days = pd.to_datetime(
        [
            "2026-10-01",  # National Day (Thursday)
            "2026-10-07",  # last day of the Golden Week (Wednesday)
            "2026-10-08",  # back to work
            "2026-10-10",  # make-up working Saturday
            "2026-09-20",  # make-up working Sunday
            "2026-02-17",  # Spring Festival (Tuesday)
            "2026-02-23",  # Spring Festival break (Monday)
            "2026-02-14",  # make-up working Saturday before Spring Festival
            "2026-02-28",  # make-up working Saturday after it
            "2026-03-07",  # an ordinary Saturday
        ]
    )
    assert CHINA.is_workday(days).tolist() == [
        False, False, True, True, True, False, False, True, True, False,
    ]  # fmt: skip


def test_china_deadline_skips_golden_week_and_counts_makeup_saturday() -> None:
    start = pd.to_datetime(["2026-09-30 16:30", "2026-10-09 16:30"])
    due = CHINA.add(start, [2, 1], ["working_hours", "working_days"])
    # 1 h on Sep 30, holidays Oct 1-7, 1 h on Oct 8; Friday + 1 working day = make-up Saturday
    assert [str(t) for t in due] == ["2026-10-08 09:30:00", "2026-10-10 16:30:00"]
    # the same on a calendar that knows no holidays would be Oct 1 09:30
    assert str(WorkCalendar().add(start[:1], 2, "working_hours")[0]) == "2026-10-01 09:30:00"


def test_china_spring_festival_working_minutes() -> None:
    a = pd.to_datetime(["2026-02-13 17:00"])  # Friday before the make-up Saturday
    b = pd.to_datetime(["2026-02-24 09:30"])  # first working day after the break
    # 30 min Friday + 7 h on Saturday Feb 14 + 1 h on Feb 24
    assert CHINA.working_minutes(a, b).tolist() == [30 + 7 * 60 + 60]


def test_year_not_covered_warns_naming_the_year() -> None:
    late = pd.to_datetime([f"{max(CHINA.years) + 1}-01-05 10:00"])
    with pytest.warns(CalendarYearWarning, match=str(max(CHINA.years) + 1)):
        CHINA.add(late, 4, "working_hours")
    with pytest.warns(CalendarYearWarning, match="2003"):
        CHINA.is_workday(pd.to_datetime(["2003-05-01"]))
    # a deadline that runs into an unknown year warns as well
    with pytest.warns(CalendarYearWarning, match=str(max(CHINA.years) + 1)):
        CHINA.add(pd.to_datetime([f"{max(CHINA.years)}-12-31 16:00"]), 4, "working_hours")


def test_china_working_hours_are_settable() -> None:
    cal = WorkCalendar.china(hours=(("09:00", "12:00"), ("13:00", "18:00")))
    assert cal.hours_per_day == 8.0
    assert cal.years == CHINA.years and cal.holidays == CHINA.holidays
    start = pd.to_datetime(["2026-03-02 17:00"])
    assert str(cal.add(start, 2, "working_hours")[0]) == "2026-03-03 10:00:00"
    assert "chinesecalendar" in repr(cal)


def test_chinese_dates_come_from_the_library() -> None:
    import chinese_calendar

    assert CHINA.holidays == frozenset(chinese_calendar.holidays)
    assert CHINA.workdays == frozenset(chinese_calendar.workdays)
    sample = pd.date_range("2025-01-01", "2026-10-31", freq="D")
    want = [chinese_calendar.is_workday(d.date()) for d in sample]
    assert CHINA.is_workday(sample).tolist() == want


def test_report_default_calendar_is_chinese_in_china_only() -> None:
    import geopandas as gpd
    from shapely import box

    from gridgeo import coverage

    beijing = gpd.GeoDataFrame(geometry=[box(116.39, 39.90, 116.40, 39.91)], crs=4326)
    paris = gpd.GeoDataFrame(geometry=[box(2.35, 48.85, 2.36, 48.86)], crs=4326)
    assert coverage._default_calendar(beijing).holidays == CHINA.holidays
    assert coverage._default_calendar(paris.to_crs(3857)).holidays == frozenset()
