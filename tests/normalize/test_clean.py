import datetime as dt

import pytest

from storyline.model import DateProvenance, Document
from storyline.normalize.clean import clean, detect_language, find_date_marker, parse_date


def doc(text: str, **kw) -> Document:
    return Document(text=text, origin="test.txt", **kw)


@pytest.mark.parametrize(
    "text, expected",
    [
        (" date 2020-01-16 \"Peace for our people\" he said.", "2020-01-16"),
        ("Date: 2019-08-07\nKabul was shaken by a blast.", "2019-08-07"),
        ("Published: January 16, 2020\nThe talks resumed.", "2020-01-16"),
        ("published on 16 January 2020 - The talks resumed in Doha.", "2020-01-16"),
        ("2020-01-16T08:30:00Z The talks resumed in Doha.", "2020-01-16"),
        ("2020-01-16\nThe talks resumed in Doha.", "2020-01-16"),
        ("The talks resumed in Doha.\n2020-01-16", "2020-01-16"),
        ("The talks resumed in Doha. Published: 2020-01-16", "2020-01-16"),
    ],
)
def test_marker_variants_become_the_date_and_leave_the_text(text, expected):
    article = clean(doc(text))
    assert article.published == dt.date.fromisoformat(expected)
    assert article.published_provenance is DateProvenance.TEXT_MARKER
    assert expected[:4] not in article.text
    assert article.original_text.strip() == text.strip()


def test_dates_inside_the_text_are_not_markers():
    text = "The attack on August 7, 2019 killed 14 people, officials said on Friday."
    assert find_date_marker(text) is None
    article = clean(doc(text))
    assert article.published is None and article.published_provenance is DateProvenance.UNDATED
    assert article.text == text


def test_metadata_date_wins_over_marker_but_marker_is_removed():
    article = clean(doc(" date 2020-01-16 Talks resumed.", published="2020-01-18", published_provenance=DateProvenance.METADATA))
    assert article.published == dt.date(2020, 1, 18)
    assert article.published_provenance is DateProvenance.METADATA
    assert article.text == "Talks resumed."


def test_text_offset_maps_back_to_original():
    article = clean(doc(" date 2020-01-16 \"Peace for our people\""))
    assert article.original_text[article.text_offset :].startswith(article.text)


def test_relative_or_garbage_dates_are_not_guessed():
    assert parse_date("yesterday") is None
    assert parse_date("not a date") is None
    assert parse_date("2020-02-30") is None
    assert parse_date("Thu, 16 Jan 2020 08:00:00 GMT") == dt.date(2020, 1, 16)


def test_language_detection_is_deterministic():
    text = "Le président a annoncé hier une nouvelle réforme des retraites en France."
    assert detect_language(text)[0] == "fr"
    assert detect_language(text) == detect_language(text)
    assert detect_language("12345 !!!")[0] is None


def test_id_is_scoped_source_id_or_stable_text_hash():
    a = clean(doc("Same text here.", source_id="AP-1", source="AP"))
    assert a.source_id == "AP-1" and a.id == clean(doc("Other text.", source_id="AP-1", source="AP")).id
    assert a.id != clean(doc("Same text here.", source_id="AP-1", source="Reuters")).id  # scoped by source
    # without a source name the file scopes it
    assert clean(doc("x y z.", source_id="1", scope="a.json")).id != clean(doc("x y z.", source_id="1", scope="b.json")).id
    assert clean(doc("Text.", source_id="   ")).source_id is None  # a blank id is no id
    b, c = clean(doc("Same   text here.")), clean(doc("same text here."))
    assert b.id == c.id and b.content_hash == c.content_hash


@pytest.mark.parametrize("hint, code", [("en", "en"), ("en-US", "en"), ("fr_FR", "fr"), ("English", "en"),
                                        ("Greek", "el"), ("czech", "cs"), ("klingon", None), ("", None)])
def test_language_hints_become_iso_codes(hint, code):
    from storyline.normalize.clean import language_code

    assert language_code(hint) == code


def test_unrecognised_language_hint_falls_back_to_detection():
    text = "Le président a annoncé hier une nouvelle réforme des retraites en France."
    assert clean(doc(text, language="Greek")).language == "el"
    assert clean(doc(text, language="klingon")).language == "fr"
