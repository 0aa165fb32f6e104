"""The records every stage reads and writes.

Stages talk to each other only through these types, so a stage can be replaced without the others
noticing. Records are plain dataclasses: cheap to build, easy to serialise (see ``to_dict``), and
free of behaviour beyond small derived properties.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import StrEnum
from typing import Any, Mapping

import numpy as np

__all__ = [
    "DateProvenance",
    "Granularity",
    "EntityType",
    "Document",
    "Rejection",
    "Sentence",
    "Restoration",
    "EntityMention",
    "Entity",
    "DateMention",
    "Article",
    "Event",
    "Story",
    "Thread",
    "Link",
    "Citation",
    "citation_label",
    "SummarySentence",
    "TimelineEntry",
    "to_dict",
    "follow_redirects",
    "DATE_FLOOR",
    "FUTURE_SKEW",
    "date_doubt",
    "distrust_date",
]


class DateProvenance(StrEnum):
    """Where an article's publication date came from; ingest time is deliberately not one of them."""

    METADATA = "metadata"  # a field of the source record (json/csv/feed)
    TEXT_MARKER = "text marker"  # an inline stamp such as " date 2020-01-16 " removed from the text
    HTML = "html"  # the page's own metadata, read by trafilatura
    FILE_NAME = "file name"  # a date in the file's name (2020-01-16_story.txt)
    INFERRED = "inferred"  # inferred from the text (explicit years, spans); see ``date_evidence``
    STORY = "story"  # taken from the dated story the article joined
    UNDATED = "undated"  # nothing says when it was published (yet)
    # a date the source gave that cannot be true (after its ingest time, or before DATE_FLOOR): kept in
    # ``date_evidence`` but not used; the article is placed as undated (by its text's evidence if it has any)
    UNTRUSTED = "untrusted"


DATE_FLOOR = dt.date(1800, 1, 1)  # no news article is older; a 0001-01-01 is a placeholder, not a date
FUTURE_SKEW = dt.timedelta(days=2)  # time zones and clocks put a real date at most this far past its ingest


def date_doubt(date: dt.date, now: dt.datetime) -> str | None:
    """Why a publication date cannot be true (after ``now``, the ingest time, beyond ``FUTURE_SKEW``, or
    before ``DATE_FLOOR``), else None. Such a date must not place an article or move "now" for others."""
    if date < DATE_FLOOR:
        return f"before {DATE_FLOOR.isoformat()}"
    latest = (now + FUTURE_SKEW).date()
    if date > latest:
        return f"after the ingest time {now.date().isoformat()} (more than {FUTURE_SKEW.days} days ahead)"
    return None


def distrust_date(article: "Article") -> bool:
    """Apply ``date_doubt`` to an article read back from a store written before dates were judged (a
    0001-01-01 stored as published crashed enrichment): such a date becomes evidence, provenance
    ``untrusted``, the article undated. True when it changed the article."""
    if article.published is None or date_doubt(article.published, article.ingested_at) is None:
        return False
    article.date_evidence = article.date_evidence or article.published.isoformat()
    article.published, article.published_provenance = None, DateProvenance.UNTRUSTED
    return True


class Granularity(StrEnum):
    """How precise a resolved date is; a month-day has no settled year yet."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    MONTH_DAY = "month-day"


class EntityType(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"
    PLACE = "place"
    GROUP = "group"  # nationalities, religious or political groups (spaCy NORP)
    EVENT = "event"
    OTHER = "other"


@dataclasses.dataclass(slots=True)
class Document:
    """One raw record as a source gave it, before any cleaning.

    ``origin`` names the file (and line/row) so every later message can point at it.
    """

    text: str
    origin: str
    title: str | None = None
    source: str | None = None  # outlet / site name
    url: str | None = None
    source_id: str | None = None  # the source's own id for the article, if any
    published: str | None = None  # raw date string from metadata, parsed by normalize
    published_provenance: DateProvenance = DateProvenance.METADATA
    language: str | None = None  # a hint from the source, checked by normalize
    author: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    scope: str | None = None  # the file or stream the record came from; scopes ``source_id`` without a source


@dataclasses.dataclass(slots=True)
class Rejection:
    """Input that could not become a Document, and why (shown to the user, never raised)."""

    origin: str
    reason: str


@dataclasses.dataclass(slots=True)
class Sentence:
    """A sentence as a span of ``Article.text`` (offsets are character positions, end exclusive)."""

    start: int
    end: int
    text: str  # restored text of the span (case restored where the original was lowercased)


@dataclasses.dataclass(slots=True)
class Restoration:
    """What normalize found wrong with the text and what it did about it."""

    lowercased: bool = False
    unpunctuated: bool = False
    case_restored: bool = False
    boundaries_restored: bool = False
    segmenter: str = ""  # which model or rule produced the sentence boundaries
    detokenized: bool = False  # Penn Treebank bracket/quote tokens rewritten in ``restored_text`` (in place)


@dataclasses.dataclass(slots=True)
class EntityMention:
    """One mention of an entity; offsets index ``Article.original_text``."""

    canonical: str
    type: EntityType
    surface: str
    start: int
    end: int
    sentence: int = -1


@dataclasses.dataclass(slots=True)
class Entity:
    """One real-world thing within the store, with every name it was seen under."""

    canonical: str
    type: EntityType
    aliases: list[str] = dataclasses.field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.type.value}:{self.canonical.lower()}"


@dataclasses.dataclass(slots=True)
class DateMention:
    """A date mentioned in the text, resolved against an anchor.

    ``resolved`` is ISO-like at its granularity: ``2019-08-07`` (day), ``2020-11`` (month),
    ``2020`` (year) or ``--08-07`` (month-day: the year is not settled yet).
    """

    surface: str
    start: int  # offset in Article.original_text
    end: int
    resolved: str
    granularity: Granularity
    sentence: int = -1
    anchor: str | None = None  # ISO date the mention was resolved against, if any
    anchor_provenance: str | None = None  # provenance of that anchor

    @property
    def is_partial(self) -> bool:
        return self.granularity is Granularity.MONTH_DAY


@dataclasses.dataclass(slots=True)
class Article:
    """A cleaned article and everything the stages learn about it.

    ``text`` is ``original_text`` with inline metadata (date stamps) removed; it starts at
    ``original_text[text_offset:]`` so offsets into ``text`` map back by adding ``text_offset``.
    """

    id: str
    text: str
    original_text: str
    origin: str
    content_hash: str
    ingested_at: dt.datetime
    title: str | None = None
    source: str | None = None
    url: str | None = None
    author: str | None = None
    source_id: str | None = None  # the source's own id (unique only within that source; ``id`` is scoped)
    language: str | None = None
    language_confidence: float = 0.0
    published: dt.date | None = None
    published_provenance: DateProvenance = DateProvenance.UNDATED
    date_evidence: str | None = None  # the text or field the date was read from
    text_offset: int = 0
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    # --- normalize ---
    restored_text: str | None = None  # same length as ``text``; case restored, PTB tokens undone in place
    sentences: list[Sentence] = dataclasses.field(default_factory=list)
    restoration: Restoration = dataclasses.field(default_factory=Restoration)
    # --- enrich ---
    entities: list[EntityMention] = dataclasses.field(default_factory=list)
    dates: list[DateMention] = dataclasses.field(default_factory=list)
    places: dict[str, int] = dataclasses.field(default_factory=dict)  # place id ("geo:EG") -> mentions, any language
    embedding: np.ndarray | None = None  # float32, L2-normalised
    fingerprint: np.ndarray | None = None  # MinHash hash values (uint64)
    models: dict[str, str] = dataclasses.field(default_factory=dict)  # stage -> model that ran
    problems: list[str] = dataclasses.field(default_factory=list)  # what could not be done, and why
    # --- stories ---
    event_id: str | None = None
    story_id: str | None = None
    duplicate_of: str | None = None  # near-duplicate group leader
    # the thread of its story: a story may move between threads, so this is read through the story, not stored
    thread_id: str | None = None

    @property
    def display_text(self) -> str:
        """Text to show and to feed models: restored where restoration ran."""
        return self.restored_text if self.restored_text is not None else self.text


@dataclasses.dataclass(slots=True)
class Event:
    """Articles that report the same happening within days."""

    id: str
    story_id: str | None
    article_ids: list[str]
    first_date: dt.date | None
    last_date: dt.date | None
    centroid: np.ndarray | None = None
    entity_counts: dict[str, int] = dataclasses.field(default_factory=dict)
    title: str | None = None
    merged_into: str | None = None
    # running term profile (prefix "w:" folded words, "a:" numbers/skeletons) so placement can resume
    terms: dict[str, float] = dataclasses.field(default_factory=dict)
    size: int = 0  # members the running profile was built from (placement resumes from it exactly)
    embedding_sum: np.ndarray | None = None  # the running, unnormalised sum behind ``centroid``
    # the profile terms the placer last indexed it under (``Cluster.index_terms``), so a restored placer finds it as before
    index_terms: list[str] | None = None


@dataclasses.dataclass(slots=True)
class Story:
    """A seminal event and what directly follows from it, over weeks or months (the TDT unit)."""

    id: str
    event_ids: list[str]
    first_date: dt.date | None
    last_date: dt.date | None
    centroid: np.ndarray | None = None
    entity_counts: dict[str, int] = dataclasses.field(default_factory=dict)
    title: str | None = None
    merged_into: str | None = None
    terms: dict[str, float] = dataclasses.field(default_factory=dict)  # as ``Event.terms``
    size: int = 0  # as ``Event.size``
    embedding_sum: np.ndarray | None = None  # as ``Event.embedding_sum``
    index_terms: list[str] | None = None  # as ``Event.index_terms``
    thread_id: str | None = None  # the long-running thread the story belongs to (follow redirects)


@dataclasses.dataclass(slots=True)
class Thread:
    """The long-running coverage of one situation (a war, an epidemic, a trial) over months or years.

    A thread is made of stories and is anchored on what they are about: ``anchors`` are the
    language-independent keys (gazetteer place ids, folded actor names) its stories are mainly about,
    summed over its member stories with their weights, so Spanish, French and English coverage of one
    crisis meet on the same keys.
    """

    id: str
    story_ids: list[str]
    first_date: dt.date | None
    last_date: dt.date | None
    centroid: np.ndarray | None = None
    anchors: dict[str, float] = dataclasses.field(default_factory=dict)
    title: str | None = None
    merged_into: str | None = None
    size: int = 0  # articles in its stories when it was last written
    embedding_sum: np.ndarray | None = None


@dataclasses.dataclass(slots=True)
class Link:
    """Why an article was placed where it was (score and the parts it was made of)."""

    article_id: str
    event_id: str
    score: float
    parts: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(slots=True)
class Citation:
    """Where a told sentence comes from: an article and the index of one of its ``sentences``, with the
    article's outlet and publication day, so a reader sees who said it and when without opening it."""

    article_id: str
    sentence: int
    source: str | None = None
    date: str | None = None  # ISO day the article was published


def citation_label(citation: Citation | Mapping[str, Any]) -> str:
    """What a citation marker reads, in every view: the outlet and the day ("reuters, 2010-06-09"), never a
    bare number. Takes the record or its dict (what the read layer answers)."""
    get = citation.get if isinstance(citation, Mapping) else lambda k: getattr(citation, k, None)
    return f'{get("source") or "unknown outlet"}, {get("date") or "undated"}'


@dataclasses.dataclass(slots=True)
class SummarySentence:
    """A sentence shown to the reader (timeline, summary, what's new), always with its sources.

    The first citation is the sentence shown; the others are articles that carry (nearly) the same
    sentence, so a reader sees how widely a claim was reported.
    """

    text: str
    citations: list[Citation]
    language: str | None = None
    score: float = 0.0
    date: str | None = None  # ISO date of the cited article's publication, if known


@dataclasses.dataclass(slots=True)
class TimelineEntry:
    """One dated step of a story: a resolved day and the sentences that say what happened then."""

    date: str  # ISO day, e.g. 2010-04-20
    sentences: list[SummarySentence]
    score: float = 0.0  # how strongly the articles point at this date
    article_count: int = 0  # articles that mention or were published on this date
    background: bool = False  # before the story's first article: named by its text as what led up to it


def follow_redirects(redirects: Mapping[str, str], key: str) -> str:
    """The id a merged event or story became, through any chain of merges (a cycle stops where it closes).

    Ids handed out stay valid after merges: placement, the store, the read layer and the Spark job all
    follow them the same way.
    """
    seen = set()
    while key in redirects and key not in seen:
        seen.add(key)
        key = redirects[key]
    return key


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_dict(record: Any, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A JSON-ready dict of a record (enums as values, dates as ISO strings, arrays as lists)."""
    out = _plain(record)
    for key in drop:
        out.pop(key, None)
    return out
