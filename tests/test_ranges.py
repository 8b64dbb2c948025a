"""Date ranges in the store's time zone, daylight-saving days included."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fastimport import ranges
from fastimport.errors import ConfigError

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC


def test_today_is_the_local_day_in_utc() -> None:
    now = dt.datetime(2026, 5, 16, 22, 30, tzinfo=UTC)  # already the 17th in Paris (UTC+2)
    rng = ranges.today(PARIS, now)
    assert rng.start == dt.datetime(2026, 5, 16, 22, 0, tzinfo=UTC)
    assert rng.end == dt.datetime(2026, 5, 17, 22, 0, tzinfo=UTC)
    assert rng.field == "created"


def test_spring_forward_day_is_23_hours_long() -> None:
    rng = ranges.explicit("2026-03-29", "2026-03-29", PARIS)
    assert rng.end - rng.start == dt.timedelta(hours=23)
    assert rng.start == dt.datetime(2026, 3, 28, 23, 0, tzinfo=UTC)


def test_fall_back_day_is_25_hours_long() -> None:
    rng = ranges.explicit("2026-10-25", "2026-10-25", PARIS)
    assert rng.end - rng.start == dt.timedelta(hours=25)


def test_yesterday_and_week_start_on_monday() -> None:
    now = dt.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # a Sunday
    assert ranges.yesterday(PARIS, now).start == dt.datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
    week = ranges.this_week(PARIS, now)
    assert week.start.astimezone(PARIS).date() == dt.date(2026, 11, 16)
    assert week.start.astimezone(PARIS).weekday() == 0


def test_iso_datetimes_with_and_without_offset() -> None:
    rng = ranges.explicit("2026-05-16T09:30", "2026-05-16T10:00:00+00:00", PARIS)
    assert rng.start == dt.datetime(2026, 5, 16, 7, 30, tzinfo=UTC)
    assert rng.end == dt.datetime(2026, 5, 16, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("since", "until"), [("16/05/2026", None), ("2026-05-17", "2026-05-16")])
def test_bad_ranges_are_refused_in_plain_words(since: str, until: str | None) -> None:
    with pytest.raises(ConfigError) as err:
        ranges.explicit(since, until, PARIS)
    assert "--since" in str(err.value) or "before it starts" in str(err.value)


def test_incremental_goes_back_by_the_overlap() -> None:
    mark = dt.datetime(2026, 5, 16, 8, 0, tzinfo=UTC)
    now = dt.datetime(2026, 5, 16, 12, 0, tzinfo=UTC)
    rng = ranges.incremental(mark, dt.timedelta(minutes=10), PARIS, now)
    assert rng.field == "modified"
    assert rng.start == mark - dt.timedelta(minutes=10)
    assert rng.end > now
