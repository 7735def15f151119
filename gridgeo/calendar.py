"""Workday calendar for case deadlines: working hours, working days, weekends and holidays.

Deadlines in digital urban management are counted in **working hours** or **working days**
(the usual rule of city case systems). The calendar counts working time as a piecewise-linear
clock ``W(t)``: minutes of
working time from a reference day to ``t``. It advances only during the office hours of working
days. Then, for arrays of timestamps, vectorised:

* elapsed working time between ``a`` and ``b`` is ``W(b) - W(a)``;
* a deadline ``amount`` working hours after ``start`` is the earliest ``t`` with
  ``W(t) = W(start) + amount`` (a case filed after hours starts counting next morning);
* one working day equals the calendar's daily working hours (7 h by default), so
  "2 working days" after Monday 10:00 is Wednesday 10:00 when no holiday intervenes.

Weekends, public holidays and make-up working days (调休: a Saturday or Sunday that is worked)
are configurable. :meth:`WorkCalendar.china` takes them from the maintained ``chinesecalendar``
package (module ``chinese_calendar``), which lists the State Council's public holidays *and*
make-up working days year by year. A date in a year the calendar does not know raises a
:class:`CalendarYearWarning` naming the year; that year is then counted with weekends only.
Calendar time (``"hours"``, ``"days"``) simply adds a timedelta.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd

__all__ = ["CalendarYearWarning", "WorkCalendar"]


class CalendarYearWarning(UserWarning):
    """A date falls in a year whose public holidays and make-up working days are not known.

    Deadlines and working times in that year are counted with weekends only (no holidays),
    which can be wrong by days around Spring Festival and National Day. Update the
    ``chinesecalendar`` package, or pass the year's ``holidays=`` and ``workdays=``.
    """


_MIN_PER_DAY = 24 * 60


def _to_minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    value = int(hours) * 60 + int(minutes)
    if not 0 <= value <= _MIN_PER_DAY:
        msg = f"office hour {hhmm!r} is not a time of day (HH:MM between 00:00 and 24:00)."
        raise ValueError(msg)
    return value


@dataclass(frozen=True)
class WorkCalendar:
    """Office hours, weekends and holidays for counting working time.

    Parameters
    ----------
    hours : tuple of (start, end) pairs
        Office periods of a working day as ``"HH:MM"`` strings, in order, not overlapping.
        Default: 08:30–12:00 and 14:00–17:30 (7 working hours).
    weekend : tuple of int
        Weekdays that are not worked (Monday = 0). Default Saturday and Sunday.
    holidays : iterable of dates
        Public holidays (not worked even on a weekday).
    workdays : iterable of dates
        Make-up working days (调休) that are worked although they fall on a weekend.
    years : iterable of int, optional
        Years for which ``holidays`` and ``workdays`` are complete. Dates in other years raise
        a :class:`CalendarYearWarning`. None (default): no check.
    source : str
        Where the holidays come from (shown in reports).

    Examples
    --------
    >>> cal = WorkCalendar(holidays=["2026-10-01"])
    >>> cal.hours_per_day
    7.0
    >>> start = pd.to_datetime(["2026-09-30 16:30"])
    >>> str(cal.add(start, 4, "working_hours")[0])  # 1 h today, holiday, 3 h on Friday
    '2026-10-02 11:30:00'
    """

    hours: tuple[tuple[str, str], ...] = (("08:30", "12:00"), ("14:00", "17:30"))
    weekend: tuple[int, ...] = (5, 6)
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)
    years: frozenset[int] | None = None
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", _as_dates(self.holidays))
        object.__setattr__(self, "workdays", _as_dates(self.workdays))
        if self.years is not None:
            object.__setattr__(self, "years", frozenset(int(y) for y in self.years))
        bounds = [(_to_minutes(a), _to_minutes(b)) for a, b in self.hours]
        last = 0
        for a, b in bounds:
            if a < last or b <= a:
                msg = f"office hours {self.hours} must be increasing, non-overlapping periods."
                raise ValueError(msg)
            last = b
        if not bounds:
            msg = "a work calendar needs at least one office period."
            raise ValueError(msg)

    @classmethod
    def china(
        cls,
        *,
        hours: tuple[tuple[str, str], ...] = (("08:30", "12:00"), ("14:00", "17:30")),
    ) -> WorkCalendar:
        """The mainland-China calendar: State Council holidays and make-up working days.

        Holidays and 调休 working days come from the ``chinesecalendar`` package (a core
        dependency of gridgeo), which covers the years the State Council has announced
        (2004 up to the year of the installed release). Dates in other years raise a
        :class:`CalendarYearWarning` naming the year.

        Parameters
        ----------
        hours : tuple of (start, end) pairs
            Office periods of a working day (``"HH:MM"``); default 08:30–12:00, 14:00–17:30.

        Returns
        -------
        WorkCalendar

        Examples
        --------
        >>> cal = WorkCalendar.china()
        >>> days = pd.to_datetime(["2026-10-01", "2026-10-10", "2026-02-17"])
        >>> cal.is_workday(days).tolist()  # National Day, make-up Saturday, Spring Festival
        [False, True, False]
        """
        holidays, workdays, years, version = _chinese_dates()
        return cls(
            hours=hours,
            holidays=holidays,
            workdays=workdays,
            years=years,
            source=f"chinesecalendar {version} (State Council holiday notices)",
        )

    def __repr__(self) -> str:
        hours = ", ".join(f"{a}–{b}" for a, b in self.hours)
        years = f"{min(self.years)}–{max(self.years)}" if self.years else "unchecked"
        return (
            f"WorkCalendar(hours={hours}; weekend={self.weekend}; {len(self.holidays)} holidays, "
            f"{len(self.workdays)} make-up workdays; years {years}"
            + (f"; {self.source})" if self.source else ")")
        )

    def _check_years(self, *times: pd.DatetimeIndex) -> None:
        if self.years is None:
            return
        seen: set[int] = set()
        for t in times:
            valid = t[~t.isna()]
            seen.update(int(y) for y in np.unique(valid.year))
        unknown = sorted(seen - self.years)
        if unknown:
            known = f"{min(self.years)}–{max(self.years)}" if self.years else "none"
            msg = (
                f"public holidays and make-up working days of {unknown} are not known to this "
                f"calendar (known: {known}; {self.source or 'user-given'}); those years are "
                "counted with weekends only. Update chinesecalendar, or pass the year's "
                "holidays= and workdays= to WorkCalendar."
            )
            warnings.warn(msg, CalendarYearWarning, stacklevel=3)

    # -- the piecewise-linear day clock -------------------------------------------------
    @property
    def _knots(self) -> tuple[np.ndarray, np.ndarray]:
        """Minute-of-day knots and the working minutes reached at each knot."""
        xs, ys, acc = [0.0], [0.0], 0.0
        for a, b in self.hours:
            start, end = _to_minutes(a), _to_minutes(b)
            xs += [start, end]
            ys += [acc, acc + end - start]
            acc += end - start
        xs.append(_MIN_PER_DAY)
        ys.append(acc)
        return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)

    @property
    def hours_per_day(self) -> float:
        """Working hours in one working day."""
        return float(self._knots[1][-1] / 60.0)

    def is_workday(self, dates: Iterable[dt.date] | pd.DatetimeIndex) -> np.ndarray:
        """Boolean array: is each date a working day?

        Examples
        --------
        >>> WorkCalendar().is_workday(pd.to_datetime(["2026-11-20", "2026-11-21"])).tolist()
        [True, False]
        """
        days = pd.DatetimeIndex(
            pd.to_datetime(list(dates) if not isinstance(dates, pd.DatetimeIndex) else dates)
        ).normalize()
        self._check_years(days)
        return self._is_workday(days)

    def _is_workday(self, days: pd.DatetimeIndex) -> np.ndarray:
        work = ~np.isin(days.day_of_week, self.weekend)
        if self.holidays:
            work &= ~days.isin(pd.DatetimeIndex(sorted(self.holidays)))
        if self.workdays:
            work |= days.isin(pd.DatetimeIndex(sorted(self.workdays)))
        return np.asarray(work)

    def _table(
        self, times: pd.DatetimeIndex, extra_days: int
    ) -> tuple[pd.Timestamp, np.ndarray, np.ndarray]:
        valid = times[~times.isna()]
        first = (valid.min() if len(valid) else pd.Timestamp("2000-01-01")).normalize()
        last = (valid.max() if len(valid) else first).normalize()
        first -= pd.Timedelta(days=1)
        days = pd.date_range(first, last + pd.Timedelta(days=extra_days + 2), freq="D")
        work = self._is_workday(days)
        per_day = np.where(work, self._knots[1][-1], 0.0)
        cumulative = np.concatenate([[0.0], np.cumsum(per_day)])
        return first, work, cumulative

    def _clock(
        self, times: pd.DatetimeIndex, first: pd.Timestamp, work: np.ndarray, cumulative: np.ndarray
    ) -> np.ndarray:
        out = np.full(len(times), np.nan)
        ok = ~np.asarray(times.isna())
        t = times[ok]
        day = np.asarray((t.normalize() - first).days, dtype=int)
        minute = np.asarray((t - t.normalize()).total_seconds(), dtype=float) / 60.0
        xs, ys = self._knots
        within = np.where(work[day], np.interp(minute, xs, ys), 0.0)
        out[ok] = cumulative[day] + within
        return out

    def working_minutes(
        self, start: pd.Series | pd.DatetimeIndex, end: pd.Series | pd.DatetimeIndex
    ) -> np.ndarray:
        """Working minutes between ``start`` and ``end`` (NaN where either is missing).

        Negative when ``end`` is before ``start``.

        Examples
        --------
        >>> cal = WorkCalendar()
        >>> a = pd.to_datetime(["2026-11-20 17:00"])   # a Friday
        >>> b = pd.to_datetime(["2026-11-23 09:00"])   # the next Monday
        >>> cal.working_minutes(a, b).tolist()
        [60.0]
        """
        a = pd.DatetimeIndex(pd.to_datetime(start))
        b = pd.DatetimeIndex(pd.to_datetime(end))
        both = a.append(b)
        self._check_years(both)
        first, work, cumulative = self._table(both, 0)
        return self._clock(b, first, work, cumulative) - self._clock(a, first, work, cumulative)

    def add(
        self,
        start: pd.Series | pd.DatetimeIndex,
        amount: float | np.ndarray,
        unit: str | np.ndarray,
    ) -> pd.DatetimeIndex:
        """Deadlines ``amount`` ``unit`` after ``start``.

        Parameters
        ----------
        start : datetimes
            When the clock starts (e.g. the filing time).
        amount : float or array
            How much time is allowed.
        unit : str or array of str
            ``"working_hours"``, ``"working_days"``, ``"hours"`` or ``"days"``.

        Returns
        -------
        pandas.DatetimeIndex
            The deadlines (NaT where ``start`` is missing).

        Examples
        --------
        >>> cal = WorkCalendar()
        >>> s = pd.to_datetime(["2026-11-20 16:00", "2026-11-20 16:00"])
        >>> [str(t) for t in cal.add(s, [4, 1], ["working_hours", "days"])]
        ['2026-11-23 11:00:00', '2026-11-21 16:00:00']
        """
        s = pd.DatetimeIndex(pd.to_datetime(start))
        n = len(s)
        amounts = np.broadcast_to(np.asarray(amount, dtype=float), (n,))
        units = np.broadcast_to(np.asarray(unit, dtype=object), (n,))
        bad = ~np.isin(units, ["working_hours", "working_days", "hours", "days"])
        if bad.any():
            msg = (
                f"deadline unit {units[bad][0]!r} is not one of "
                "working_hours, working_days, hours, days."
            )
            raise ValueError(msg)
        per_unit = np.select(
            [units == "working_hours", units == "working_days", units == "hours"],
            [60.0, self._knots[1][-1], 60.0],
            _MIN_PER_DAY,
        )
        minutes = amounts * per_unit
        calendar = np.isin(units, ["hours", "days"])
        result = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        calendar_times = s + pd.to_timedelta(np.where(calendar, minutes, 0.0), unit="min")
        result[calendar] = np.asarray(calendar_times)[calendar]
        working = ~calendar & ~np.asarray(s.isna())
        if working.any():
            span = int(np.nanmax(minutes[working]) / max(self._knots[1][-1], 1.0) * 2) + 30
            first, work, cumulative = self._table(s, span + 14)
            target = self._clock(s[working], first, work, cumulative) + minutes[working]
            due = self._inverse(target, first, work, cumulative)
            result[working] = np.maximum(due, np.asarray(s[working], dtype="datetime64[ns]"))
            self._check_years(s[working], pd.DatetimeIndex(result[working]))
        return pd.DatetimeIndex(result)

    def _inverse(
        self, target: np.ndarray, first: pd.Timestamp, work: np.ndarray, cumulative: np.ndarray
    ) -> np.ndarray:
        # day d holds targets with cumulative[d] < W <= cumulative[d+1]; that range is
        # non-empty only on working days, so d is always a working day.
        day = np.clip(np.searchsorted(cumulative, target, side="left") - 1, 0, len(work) - 1)
        xs, ys = self._knots
        within = target - cumulative[day]
        # earliest minute reaching 'within': interpolate on the strictly increasing parts
        minute = np.empty_like(within)
        for i in range(1, len(xs)):
            seg = (within > ys[i - 1]) & (within <= ys[i]) & (ys[i] > ys[i - 1])
            frac = (within[seg] - ys[i - 1]) / (ys[i] - ys[i - 1])
            minute[seg] = xs[i - 1] + frac * (xs[i] - xs[i - 1])
        minute[within <= 0] = 0.0  # only for a zero amount; clamped to the start by add()
        base = np.datetime64(first.to_datetime64(), "ns") + day.astype("timedelta64[D]")
        return base + np.round(minute * 60e9).astype("timedelta64[ns]")


def _as_dates(values: Iterable) -> frozenset[dt.date]:
    return frozenset(pd.Timestamp(v).date() for v in values)


@cache
def _chinese_dates() -> tuple[frozenset[dt.date], frozenset[dt.date], frozenset[int], str]:
    """Holidays, make-up working days, covered years and version of ``chinesecalendar``."""
    import chinese_calendar

    holidays = frozenset(chinese_calendar.holidays)
    workdays = frozenset(chinese_calendar.workdays)
    years = frozenset(d.year for d in holidays)
    version = str(getattr(chinese_calendar, "__version__", "?"))
    return holidays, workdays, years, version
