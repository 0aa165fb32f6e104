"""Actors are who acts: outlets, news agencies and time zones are credits; titles fold into the name; a place
the gazetteer or the text marks as a place is never a person."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from storyline.enrich.credits import is_credit, outlet_keys, time_zone_codes
from storyline.enrich.entities import EntityExtractor, _plausible
from storyline.model import Article, EntityMention, EntityType
from storyline.normalize.restore import restore
from storyline.tell.actors import actors


def test_agencies_time_zones_and_outlets_are_credits() -> None:
    for name in ("AP", "The Associated Press", "AFP", "Agence France-Presse", "Reuters", "Xinhua", "UTC", "GMT", "BST", "EST"):
        assert is_credit(name), name
    outlets = outlet_keys(["bbc", "guardian", "foxnews", "Wikinews", "www.washingtonpost.com"])
    for name in ("BBC", "BBC News", "The Guardian", "Fox News", "Wikinews", "Washington Post"):
        assert is_credit(name, outlets), name
    for name in ("Barack Obama", "BP", "Port-au-Prince", "Haiti", "Tour de France", "Est", "Guardian Angels"):
        assert not is_credit(name, outlets), name
    assert not is_credit("BBC")  # an outlet only where some source is that outlet
    assert {"UTC", "GMT", "CEST", "PST"} <= time_zone_codes()


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return EntityExtractor()


def extract(extractor: EntityExtractor, text: str, source: str | None = None) -> Article:
    article = Article(id="t", text=text, original_text=text, origin="test", content_hash="t",
                      ingested_at=dt.datetime(2026, 1, 1), language="en", source=source)
    restore(article)
    extractor.extract([article])
    return article


def test_credits_are_not_extracted(extractor: EntityExtractor) -> None:
    text = ("PARIS (AFP) - Doctor Conrad Murray told Agence France-Presse at 09:44 UTC that Wikinews reporter "
            "Diego Grez had spoken to the BBC about Barack Obama.")
    article = extract(extractor, text, source="Wikinews")
    found = {m.canonical for m in article.entities}
    assert {"Conrad Murray", "Diego Grez", "Barack Obama"} <= found
    assert not found & {"AFP", "Agence France-Presse", "UTC", "Wikinews", "Doctor Conrad Murray"}, found
    assert "BBC" in found  # named in a Wikinews article, the BBC is not its byline
    for caption in ("Photograph : Reuters Barack Obama spoke in Chicago on Monday .",  # NER: "Reuters Barack Obama"
                    "AFP Barack Obama said on Monday that BP would pay.",
                    "Photograph: Jason Reed/Reuters Barack Obama said on Monday that BP would pay."):
        mentions = extract(extractor, caption).entities
        assert "Barack Obama" in {m.canonical for m in mentions}, caption
        assert not [m for m in mentions if re.search(r"Reuters|AFP", m.canonical + m.surface)], caption


def test_honorifics_fold_into_the_name(extractor: EntityExtractor) -> None:
    text = ("Doctor Conrad Murray arrived in court on Monday. Dr. Conrad Murray denied the charge, and "
            "Mr Conrad Murray's lawyers said Professor Jane Smith would testify.")
    people = {m.canonical for m in extract(extractor, text).entities if m.type is EntityType.PERSON}
    assert "Conrad Murray" in people and "Jane Smith" in people
    assert not [p for p in people if p.split()[0].rstrip(".") in ("Doctor", "Dr", "Mr", "Professor")], people
    assert not _plausible("dr") and not _plausible("president") and _plausible("conrad murray")  # a bare title is no name


def test_places_are_not_people(extractor: EntityExtractor) -> None:
    text = ("The earthquake was centered 28 kilometers south of Pichilemu. Wikinews investigated the "
            "reconstruction of Pichilemu, Chile. In Pichilemu, the power went out. Paris was calm. "
            "Tony Hayward said Hayward would stay, and Jackson's lawyer spoke.")
    article = extract(extractor, text)
    types = {(m.canonical, m.type) for m in article.entities}
    assert ("Pichilemu", EntityType.PERSON) not in types and ("Pichilemu", EntityType.PLACE) in types
    assert ("Paris", EntityType.PERSON) not in types
    assert ("Tony Hayward", EntityType.PERSON) in types  # "Hayward" alone is his surname here
    assert ("Tony Hayward", EntityType.PLACE) not in types and ("Hayward", EntityType.PLACE) not in types


def story_article(aid: str, source: str, names: list[tuple[str, EntityType]]) -> Article:
    text = " ".join(n for n, _ in names) + "."
    mentions, pos = [], 0
    for name, etype in names:
        start = text.index(name, pos)
        mentions.append(EntityMention(name, etype, name, start, start + len(name)))
        pos = start + len(name)
    return Article(id=aid, text=text, original_text=text, origin="t", content_hash=aid,
                   ingested_at=dt.datetime(2026, 1, 1), source=source, published=dt.date(2010, 1, 12),
                   entities=mentions)


def test_actors_leave_out_credits_stored_before() -> None:
    """Entities stored before extraction dropped credits still do not show as actors."""
    O, P, L = EntityType.ORGANISATION, EntityType.PERSON, EntityType.PLACE
    members = [
        story_article("a", "bbc", [("BBC", O), ("Port-au-Prince", L), ("UTC", O), ("René Préval", P)]),
        story_article("b", "Wikinews", [("Wikinews", O), ("AFP", O), ("Port-au-Prince", L), ("CNN", O)]),
    ]
    names = [a.canonical for a in actors(members)]
    assert names[0] == "Port-au-Prince" and "René Préval" in names and "CNN" in names
    assert not {"BBC", "UTC", "Wikinews", "AFP"} & set(names)
    assert "CNN" not in [a.canonical for a in actors(members, outlets=["CNN"])]  # every outlet the store knows
