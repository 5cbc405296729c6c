"""Typed countries: either language, any case or accents, short names, typos; outside LAC said so."""

from __future__ import annotations

import pytest

from handlers.countries import LAC, countries_sorted, country_name, find_country
from handlers.i18n import use_locale


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("México", "MX"),
        ("mexico", "MX"),
        ("MEXICO", "MX"),
        ("Brasil", "BR"),
        ("Brazil", "BR"),
        ("Perú", "PE"),
        ("peru", "PE"),
        ("Haití", "HT"),
        ("RD", "DO"),
        ("Rep. Dominicana", "DO"),
        ("Dominica", "DM"),
        ("St Lucia", "LC"),
        ("Santa Lucía", "LC"),
        ("Saint Kitts & Nevis", "KN"),
        ("Trinidad", "TT"),
        ("Trinidad y Tobago", "TT"),
        ("San Vicente", "VC"),
        ("El Salvador", "SV"),
        ("Colmbia", "CO"),
        ("Venezula", "VE"),
        ("Equador", "EC"),
        ("mx", "MX"),
        ("  Chile  ", "CL"),
    ],
)
def test_lac_countries_are_recognised(typed: str, code: str) -> None:
    assert find_country(typed).code == code


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("EEUU", "US"),
        ("Estados Unidos", "US"),
        ("USA", "US"),
        ("España", "ES"),
        ("Canada", "CA"),
        ("Francia", "FR"),
    ],
)
def test_countries_outside_the_region_are_named(typed: str, code: str) -> None:
    match = find_country(typed)
    assert match.code is None and match.outside == code


@pytest.mark.parametrize("typed", ["", "Narnia", "xx", "<b>México</b>x", "a" * 5000])
def test_unknown_countries(typed: str) -> None:
    assert find_country(typed).code is None


def test_names_are_localized_and_sorted() -> None:
    assert len(LAC) == 33
    with use_locale("es"):
        names = [name for _code, name in countries_sorted()]
        assert country_name("BR") == "Brasil" and "Belice" in names
    assert names.index("Belice") < names.index("Bolivia") < names.index("Perú") < names.index("Uruguay")
    assert country_name("BR", "en") == "Brazil"
