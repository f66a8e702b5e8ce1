"""The period of a report: ?from=&to= as the analytics API reads them."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

DEFAULT_PERIOD_DAYS = 30


class InvalidPeriodError(ValueError):
    """`from`/`to` are not dates, or `from` is after `to`. The message is safe to show."""


def parse_period(raw_from: str | None, raw_to: str | None) -> tuple[datetime, datetime]:
    """Parse ?from=&to= (dates or ISO datetimes, UTC). Default: the last 30 days. Raises InvalidPeriodError."""
    end = _parse_bound(raw_to, "to", end_of_day=True) if raw_to else timezone.now()
    start = _parse_bound(raw_from, "from", end_of_day=False) if raw_from else _days_before(end, DEFAULT_PERIOD_DAYS)
    if start > end:
        raise InvalidPeriodError("`from` must not be after `to`.")
    return start, end


def _parse_bound(value: str, name: str, *, end_of_day: bool) -> datetime:
    try:
        day = parse_date(value)  # first: parse_datetime also reads a bare date, as midnight
        moment = None if day else parse_datetime(value)
    except ValueError:
        moment = day = None
    if moment is None and day is None:
        raise InvalidPeriodError(f"`{name}` must be a date (YYYY-MM-DD) or an ISO 8601 date-time, not {value[:40]!r}.")
    if moment is None:
        moment = datetime.combine(day, time.max if end_of_day else time.min)
    moment = moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)
    try:
        # In UTC: the database compares in UTC (0001-01-01T00:00+01:00 is before year 1), and PostgreSQL
        # refuses offsets beyond ±15:59 that Python accepts (a 500 for ?from=...+21:55 otherwise).
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidPeriodError(f"`{name}` is out of range: it must fall between the years 1 and 9999 in UTC.") from None


def _days_before(moment: datetime, days: int) -> datetime:
    try:
        return moment - timedelta(days=days)
    except OverflowError:  # ?to= in the first days of year 1
        return datetime.min.replace(tzinfo=UTC)
