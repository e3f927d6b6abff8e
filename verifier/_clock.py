"""Clock arithmetic at the ends of the calendar: `now ± skew` and UTC renderings that never overflow.

A caller may verify as of any aware datetime (year 1 or year 9999) with any tolerance, and a token may carry
any dateTimeStamp with an offset; `datetime` raises OverflowError past 0001-01-01 and 9999-12-31, and the
verifier answers with a result, never an exception (CONVENTIONS: results, not exceptions).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

# The first and last instants a datetime can hold: the calendar's ends at the most extreme offsets allowed
# (strictly within ±24 h). Every representable aware datetime lies between them, so a comparison against a
# sum clamped to them answers as the true, unrepresentable, sum would.
_FIRST = datetime.min.replace(tzinfo=timezone(timedelta(hours=24) - timedelta(microseconds=1)))
_LAST = datetime.max.replace(tzinfo=timezone(timedelta(microseconds=1) - timedelta(hours=24)))
_ZERO = timedelta(0)


def clamped_add(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, or the first/last instant a datetime can hold when the sum falls off the calendar.

    Only aware times are clamped: a naive `moment` is a caller's error, reported as it always was.
    """
    try:
        return moment + delta
    except OverflowError:
        if moment.tzinfo is None:
            raise
        return _LAST if delta > _ZERO else _FIRST


def clamped_sub(moment: datetime, delta: timedelta) -> datetime:
    """`moment - delta`, clamped the same way (not `clamped_add(moment, -delta)`: `-timedelta.max` overflows)."""
    try:
        return moment - delta
    except OverflowError:
        if moment.tzinfo is None:
            raise
        return _FIRST if delta > _ZERO else _LAST


def in_utc(moment: datetime) -> datetime:
    """`moment` in UTC; one that is not representable in UTC (0001-01-01T00:00:00+09:00) keeps its offset."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return moment
