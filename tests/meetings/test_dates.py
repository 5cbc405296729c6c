"""Reading dates, times, zones and durations as typed; showing them per language and zone, DST-correct."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.dates import (
    add_months,
    duration,
    format_span,
    format_when,
    local_datetime,
    parse_date,
    parse_time,
)
from handlers.errors import UserError
from handlers.i18n import use_locale
from handlers.zones import match_zone, parse_zone


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2027-02-15", date(2027, 2, 15)), ("15/02/2027", date(2027, 2, 15)), ("15-2-27", date(2027, 2, 15)),
     ("1.3.2027", date(2027, 3, 1)), ("29/02/2028", date(2028, 2, 29))],
)
def test_dates_iso_and_day_first(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [("31/02/2027", "28"), ("2027-02-29", "28"), ("2027-13-01", "13"), ("mañana", "2027-02-15"), ("02/31/2027", "31")],
)
def test_impossible_dates_are_explained(text: str, says: str) -> None:
    with use_locale("en"), pytest.raises(UserError) as error:
        parse_date(text)
    assert says in error.value.markup


def test_times_are_24_hour() -> None:
    assert [parse_time(t) for t in ("15:00", "9:30", "15h", "15h30", "15.30", "00:00")] == [
        time(15), time(9, 30), time(15), time(15, 30), time(15, 30), time(0),
    ]
    for bad in ("25:00", "15:60", "3pm", "quince"):
        with pytest.raises(UserError):
            parse_time(bad)


def find_zone(text: str) -> str | None:
    return match_zone(text).zone


def test_zones_by_name_case_accent_and_city() -> None:
    assert find_zone("America/Bogota") == "America/Bogota"
    assert find_zone("america/bogota") == "America/Bogota"
    assert find_zone("Bogotá") == "America/Bogota"
    assert find_zone("Asuncion") == "America/Asuncion"
    assert find_zone("utc") == "UTC"
    assert find_zone("Mars/Olympus") is None
    with use_locale("en"), pytest.raises(UserError) as error:
        parse_zone("America/Bogata")
    assert "America/Bogota" in error.value.markup


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("7d", 604800), ("1h", 3600), ("30m", 1800), ("2w", 1209600), ("1d12h", 129600), ("3 días", 259200),
     ("2 horas", 7200), ("1 semana", 604800)],
)
def test_durations(text: str, seconds: int) -> None:
    assert duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "7", "d", "7x", "7d junk", "-1h"])
def test_not_durations(text: str) -> None:
    assert duration(text) is None


def test_a_time_skipped_by_daylight_saving_is_refused() -> None:
    with use_locale("en"), pytest.raises(UserError) as error:
        local_datetime(date(2027, 3, 14), time(2, 30), "America/New_York")
    assert "does not exist" in error.value.markup
    with pytest.raises(UserError):  # Chile: 24:00 -> 01:00 on the first Sunday of September
        local_datetime(date(2027, 9, 5), time(0, 30), "America/Santiago")


def test_an_ambiguous_time_is_the_first_one() -> None:
    instant = local_datetime(date(2027, 11, 7), time(1, 30), "America/New_York")
    assert instant.utcoffset() == timedelta(hours=-4)  # still daylight time


@pytest.mark.parametrize(
    ("zone", "start", "months", "utc_hours"),
    [
        ("America/Santiago", datetime(2027, 2, 15, 15), 3, (18, 19)),  # -03 summer -> -04 winter
        ("America/Santiago", datetime(2027, 8, 15, 15), 3, (19, 18)),  # -04 -> -03
        ("America/New_York", datetime(2027, 2, 15, 15), 3, (20, 19)),  # EST -> EDT
        ("America/Asuncion", datetime(2024, 2, 15, 15), 3, (18, 19)),  # -03 -> -04 (before 2024's change)
        ("America/Bogota", datetime(2027, 2, 15, 15), 3, (20, 20)),  # no DST
    ],
)
def test_three_months_later_same_wall_time_across_dst(
    zone: str, start: datetime, months: int, utc_hours: tuple[int, int]
) -> None:
    first = local_datetime(start.date(), start.time(), zone)
    later = add_months(start, months, zone)
    assert later.replace(tzinfo=None) == start.replace(month=start.month + months)
    assert (first.astimezone(UTC).hour, later.astimezone(UTC).hour) == utc_hours


def test_month_ends_are_clamped_without_drift() -> None:
    anchor = datetime(2026, 11, 30, 10)
    assert add_months(anchor, 3, "America/Bogota").date() == date(2027, 2, 28)
    assert add_months(anchor, 6, "America/Bogota").date() == date(2027, 5, 30)


def test_when_in_each_language_and_zone() -> None:
    instant = datetime(2027, 2, 16, 20, 0, tzinfo=UTC)
    with use_locale("es"):
        assert format_when(instant, "America/Bogota") == "martes, 16 de febrero de 2027, 15:00 (hora de Colombia)"
        assert format_when(instant, "America/Santiago") == "martes, 16 de febrero de 2027, 17:00 (hora de Chile)"
    with use_locale("en"):
        assert format_when(instant, "America/New_York") == "Tuesday, February 16, 2027, 3:00\u202fPM (Eastern Time)"
        assert format_when(instant, "UTC").endswith("8:00\u202fPM (UTC)")
    july = datetime(2027, 7, 16, 20, 0, tzinfo=UTC)
    with use_locale("es"):
        assert format_when(july, "America/Santiago").startswith("viernes, 16 de julio de 2027, 16:00")
    assert ZoneInfo("America/Santiago").utcoffset(july.replace(tzinfo=None)) == timedelta(hours=-4)


def test_spans_read_naturally() -> None:
    with use_locale("en"):
        assert format_span(timedelta(days=7)) == "7 days"
        assert format_span(timedelta(days=6, hours=23, minutes=59, seconds=30)) == "7 days"
        assert format_span(timedelta(days=1, hours=2)) == "1 day and 2 hours"
        assert format_span(timedelta(minutes=59, seconds=50)) == "1 hour"
        assert format_span(timedelta(minutes=30)) == "30 minutes"
    with use_locale("es"):
        assert format_span(timedelta(hours=1)) == "1 hora"
        assert format_span(timedelta(days=2, hours=3)) == "2 días y 3 horas"
