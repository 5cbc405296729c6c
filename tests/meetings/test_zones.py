"""Issue 12 item 6 (and issue 11's non-canonical zones): `/zona` by IANA name, city or country,
in Spanish or English, with or without accents; several zones are a question."""

from __future__ import annotations

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from handlers.errors import UserError
from handlers.i18n import use_locale
from handlers.zones import match_zone, parse_zone
from tests.meetings.conftest import text_of


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("America/Bogota", "America/Bogota"),
        ("america/bogota", "America/Bogota"),
        ("Quito", "America/Guayaquil"),
        ("America/Quito", "America/Guayaquil"),
        ("Ciudad de México", "America/Mexico_City"),
        ("ciudad de mexico", "America/Mexico_City"),
        ("Mexico City", "America/Mexico_City"),
        ("Brasília", "America/Sao_Paulo"),
        ("Perú", "America/Lima"),
        ("Peru", "America/Lima"),
        ("República Dominicana", "America/Santo_Domingo"),
        ("Dominican Republic", "America/Santo_Domingo"),
        ("Haití", "America/Port-au-Prince"),
        ("Asuncion", "America/Asuncion"),
        ("Nueva York", "America/New_York"),
        ("Tokio", "Asia/Tokyo"),
        ("America/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("utc", "UTC"),
    ],
)
def test_a_zone_city_or_country_resolves(text: str, zone: str) -> None:
    assert match_zone(text).zone == zone


def test_a_country_with_several_zones_is_a_question() -> None:
    for name in ("Ecuador", "ecuador"):
        assert set(match_zone(name).choices) == {"America/Guayaquil", "Pacific/Galapagos"}
    mexico = match_zone("México").choices
    assert mexico[0] == "America/Mexico_City" and "America/Tijuana" in mexico
    assert match_zone("Brazil").choices == match_zone("Brasil").choices


@pytest.mark.parametrize("text", ["Factory", "posix/America/Bogota", "right/UTC", "Etc/GMT+5", "Mars/Olympus", ""])
def test_non_canonical_and_unknown_zones_are_refused(text: str) -> None:
    assert match_zone(text).zone is None
    with use_locale("en"), pytest.raises(UserError):
        parse_zone(text)


async def test_zona_by_city_and_by_country(app: App, console: ConsoleAdapter) -> None:
    done = text_of(await console.ask("/zona Ciudad de México", user_id="ana"))
    assert "America/Mexico_City" in done
    [question] = await console.ask("/zona Ecuador", user_id="ana")
    commands = [button.command for row in question.buttons for button in row]
    assert commands == ["/zona America/Guayaquil", "/zona Pacific/Galapagos"]
    assert [b.label for row in question.buttons for b in row] == ["Guayaquil", "Galápagos"]
    assert "America/Guayaquil" in text_of(await console.ask(commands[0], user_id="ana"))
    refused = text_of(await console.ask("/zona Factory", user_id="ana"))
    assert "Factory" in refused and "America/Mexico_City" not in refused
    assert "America/Guayaquil" in text_of(await console.ask("/zona", user_id="ana"))
