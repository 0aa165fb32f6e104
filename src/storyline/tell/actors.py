"""Who is in a story and who reported it: actors, outlets, first reporters, coverage, duplicates."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from storyline.enrich.credits import is_credit, outlet_keys
from storyline.model import Article, EntityType
from storyline.tell.titles import article_title

__all__ = ["Actor", "SourceReport", "actors", "sources"]


@dataclasses.dataclass(slots=True)
class Actor:
    """An entity of the story, with how much and when it was talked about."""

    canonical: str
    type: EntityType
    mentions: int
    articles: int
    first_seen: str | None  # ISO publication date of the first article naming it
    last_seen: str | None
    first_article: str | None  # id of that article
    outlets: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(slots=True)
class SourceReport:
    """How the story was covered."""

    outlets: dict[str, int]  # outlet -> articles (ties: by name)
    first_reports: list[dict[str, str | None]]  # earliest article(s) of the story with outlet and date
    per_day: dict[str, int]  # ISO day -> articles
    per_week: dict[str, int]  # ISO week (2010-W16) -> articles
    languages: dict[str, int]
    duplicate_groups: list[list[str]]  # leader first, then its near-duplicates
    undated: int = 0


def _outlet(article: Article) -> str:
    return article.source or "(unknown outlet)"


def actors(articles: Sequence[Article], top: int | None = 20,
           types: Sequence[EntityType] | None = None, outlets: Iterable[str] = ()) -> list[Actor]:
    """Main entities, most mentioned first; counted once per near-duplicate group (no echo inflation).

    Outlets (the articles' own ``source`` values and ``outlets``, e.g. every source the store holds), news
    agencies and time zone codes are credits, not actors (``enrich.credits``): left out, also where they
    were stored before extraction learned to drop them."""
    credits = outlet_keys([*(a.source for a in articles), *outlets])
    verdict: dict[tuple[str, EntityType], bool] = {}
    mentions: Counter[tuple[str, EntityType]] = Counter()
    where: dict[tuple[str, EntityType], list[Article]] = defaultdict(list)
    for art in sorted(articles, key=lambda a: (a.published or dt.date.max, a.id)):
        if art.duplicate_of:
            continue
        seen: set[tuple[str, EntityType]] = set()
        for ent in art.entities:
            if types and ent.type not in types:
                continue
            key = (ent.canonical, ent.type)
            if key not in verdict:
                verdict[key] = is_credit(ent.canonical, credits)
            if verdict[key]:
                continue
            mentions[key] += 1
            if key not in seen:
                seen.add(key)
                where[key].append(art)
    ranked = sorted(mentions, key=lambda k: (-len(where[k]), -mentions[k], k[0].lower(), k[1].value))
    out = []
    for key in ranked[:top] if top is not None else ranked:
        arts = where[key]
        dated = [a.published for a in arts if a.published]
        out.append(Actor(
            canonical=key[0], type=key[1], mentions=mentions[key], articles=len(arts),
            first_seen=min(dated).isoformat() if dated else None,
            last_seen=max(dated).isoformat() if dated else None,
            first_article=arts[0].id,
            outlets=sorted({_outlet(a) for a in arts}),
        ))
    return out


def sources(articles: Sequence[Article]) -> SourceReport:
    outlets = Counter(_outlet(a) for a in articles)
    dated = sorted((a for a in articles if a.published), key=lambda a: (a.published, a.id))
    first_reports: list[dict[str, str | None]] = []
    if dated:
        first_day = dated[0].published
        first_reports = [{"article_id": a.id, "outlet": _outlet(a), "date": a.published.isoformat(),
                          "title": article_title(a.title, a.display_text)} for a in dated if a.published == first_day]
    per_day = Counter(a.published.isoformat() for a in dated)
    per_week = Counter(f"{a.published.isocalendar().year}-W{a.published.isocalendar().week:02d}" for a in dated)
    groups: dict[str, list[str]] = defaultdict(list)
    ids = {a.id for a in articles}
    for a in sorted(articles, key=lambda a: a.id):
        if a.duplicate_of:
            groups[a.duplicate_of].append(a.id)
    dup = [[lead] + members for lead, members in sorted(groups.items()) if lead in ids or members]
    return SourceReport(
        outlets=dict(sorted(outlets.items(), key=lambda kv: (-kv[1], kv[0]))),
        first_reports=first_reports,
        per_day=dict(sorted(per_day.items())),
        per_week=dict(sorted(per_week.items())),
        languages=dict(sorted(Counter(a.language or "und" for a in articles).items(), key=lambda kv: (-kv[1], kv[0]))),
        duplicate_groups=dup,
        undated=len(articles) - len(dated),
    )
