"""Small synthetic stories: articles with sentences, resolved dates and entities already set."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from storyline.model import (
    Article,
    DateMention,
    EntityMention,
    EntityType,
    Granularity,
    Sentence,
    SummarySentence,
)

_ISO = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def article(aid: str, published: str | None, sentences: list[str], *, source: str = "Wire",
            language: str = "en", entities: list[tuple[str, EntityType]] = (), duplicate_of: str | None = None,
            title: str | None = None) -> Article:
    """Sentences joined by spaces; any ISO date written in a sentence becomes a DAY DateMention."""
    text, spans, dates = "", [], []
    for i, s in enumerate(sentences):
        start = len(text)
        text += s
        spans.append(Sentence(start, len(text), s))
        for m in _ISO.finditer(s):
            dates.append(DateMention(m.group(1), start + m.start(), start + m.end(), m.group(1),
                                     Granularity.DAY, i, published))
        text += " "
    ents = []
    for name, typ in entities:
        pos = text.find(name)
        if pos >= 0:
            ents.append(EntityMention(name, typ, name, pos, pos + len(name)))
    return Article(
        id=aid, text=text, original_text=text, origin=f"test:{aid}", content_hash=f"h-{aid}",
        ingested_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), title=title or f"Title {aid}",
        source=source, language=language, published=dt.date.fromisoformat(published) if published else None,
        sentences=spans, dates=dates, entities=ents, duplicate_of=duplicate_of,
    )


SPILL = [
    ("s1", "2010-04-21", "Reuters", [
        "An explosion on the Deepwater Horizon drilling rig on 2010-04-20 killed eleven workers in the Gulf of Mexico.",
        "The rig, operated for BP, burned for hours before the coast guard arrived.",
        "Officials said the cause of the blast was not yet known to investigators.",
    ]),
    ("s2", "2010-04-22", "AP", [
        "The Deepwater Horizon rig sank on 2010-04-22 after burning for two days in the Gulf.",
        "Eleven workers have been missing since the explosion on 2010-04-20 on the platform.",
        "BP said it was working with the coast guard to contain any leaking oil.",
    ]),
    ("s3", "2010-05-27", "BBC", [
        "BP started the top kill operation on 2010-05-26 to plug the leaking well with heavy mud.",
        "Engineers pumped drilling fluid into the well for three days without stopping the flow.",
        "The explosion on 2010-04-20 had left oil gushing into the sea ever since.",
    ]),
    ("s4", "2010-07-16", "Reuters", [
        "BP said on 2010-07-15 that a new cap had stopped the oil flowing from the well for the first time.",
        "President Obama called the capping of the well a positive sign but urged caution.",
        "Fishermen along the coast of Louisiana remained worried about their livelihoods this summer.",
    ]),
    ("s5", "2010-07-16", "AP", [
        "The leaking well was capped on 2010-07-15, BP said, halting the flow of oil after 86 days.",
        "Scientists will monitor pressure readings to make sure the cap holds under the seabed.",
    ]),
]


@pytest.fixture
def spill() -> list[Article]:
    ents = [("BP", EntityType.ORGANISATION), ("Deepwater Horizon", EntityType.OTHER),
            ("Obama", EntityType.PERSON), ("Gulf of Mexico", EntityType.PLACE)]
    return [article(a, p, s, source=src, entities=ents) for a, p, src, s in SPILL]


def assert_cited(sentences: list[SummarySentence], articles: list[Article]) -> None:
    """Every shown sentence is (part of) the cited sentence of a cited article."""
    by_id = {a.id: a for a in articles}
    assert sentences
    for s in sentences:
        assert s.citations, s
        for c in s.citations[:1]:
            art = by_id[c.article_id]
            source = " ".join(art.sentences[c.sentence].text.split())
            assert s.text in source, (s.text, source)
        for c in s.citations:
            assert c.article_id in by_id and 0 <= c.sentence < len(by_id[c.article_id].sentences)
