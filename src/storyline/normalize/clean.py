"""Document → Article: clean the text, lift inline metadata out of it, settle date, language and id.

Scraped and exported news often carries its metadata inside the text: a `` date 2020-01-16 `` stamp before
the first sentence, a ``Published: …`` line, an ISO time stamp as the last line. Such a marker is the
publication date (provenance ``text marker``) and is not part of the story, so it is removed; the
original text is kept untouched beside the cleaned one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata

from storyline.model import DATE_FLOOR, FUTURE_SKEW, Article, DateProvenance, Document, date_doubt
from storyline.normalize.detokenize import detokenize, is_tokenized

__all__ = ["DATE_FLOOR", "FUTURE_SKEW", "EmptyArticle", "clean", "date_doubt", "clean_text", "safe_text", "scoped_id",
           "record_scope", "find_date_marker", "parse_date", "detect_language", "guess_language", "DETECTED_LANGUAGES",
           "MIN_LANGUAGE_CONFIDENCE", "language_code", "text_key", "model_text", "MAX_SYMBOL_RUN"]

_ISO = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})?)?"
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WORDY = (
    rf"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
    rf"(?:{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS},?\s+\d{{4}})"
    rf"(?:,?\s+\d{{1,2}}:\d{{2}}(?:\s*[ap]\.?m\.?)?(?:\s+[A-Z]{{2,4}})?)?"
)
_SLASHED = r"\d{4}/\d{1,2}/\d{1,2}"
_ANY_DATE = rf"(?:{_ISO}|{_SLASHED}|{_WORDY})"
_KEYWORD = r"(?:date|dated|published(?:\s+on|\s+at)?|posted(?:\s+on)?|updated(?:\s+on)?|pubdate|publication\s+date)"

# keyword + date at the start: " date 2020-01-16 Peace…", "Published: Jan 16, 2020\n…"
_START_KEYWORD = re.compile(rf"\A\s*{_KEYWORD}\s*[:=\-–]?\s*(?P<date>{_ANY_DATE})\s*[|:\-–]?\s*", re.I)
# a bare ISO date(-time) opening the text: "2020-01-16T08:00Z Kabul, …"
_START_ISO = re.compile(rf"\A\s*(?P<date>{_ISO})(?:\s*[|:\-–]\s*|\s+)(?=\S)", re.I)
# a first line that is nothing but a date
_START_LINE = re.compile(rf"\A\s*(?:{_KEYWORD}\s*[:=\-–]?\s*)?(?P<date>{_ANY_DATE})\s*\n", re.I)
# a text that is nothing but a (keyword and) date: all of it is the stamp
_ONLY_DATE = re.compile(rf"\A\s*(?:{_KEYWORD}\s*[:=\-–]?\s*)?(?P<date>{_ANY_DATE})\s*\.?\s*\Z", re.I)
_END_KEYWORD = re.compile(rf"\s*[|\-–]?\s*{_KEYWORD}\s*[:=\-–]?\s*(?P<date>{_ANY_DATE})\s*\.?\s*\Z", re.I)
_END_LINE = re.compile(rf"\n\s*(?:{_KEYWORD}\s*[:=\-–]?\s*)?(?P<date>{_ANY_DATE})\s*\Z", re.I)

# Line breaks in all their Unicode spellings (form feed, NEL, line/paragraph separator) become "\n" and every
# other white space one " ", so the patterns below see only " " and "\n": a pattern whose \s could match a
# run of exotic white space both ways backtracked in cubic time ('News. ' + '\f' * 2000 took 179 s).
_NEWLINES = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\ufeff\ufffe\uffff]")
_SPACES = re.compile(r"(?:[^\S\n]|\u200b)+")
_BLANKS = re.compile(r"\n(?: *\n){2,}")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_MARKER_WINDOW = 240  # characters at the end of a text searched for a closing date stamp (stamps are short)


def safe_text(text: str) -> str:
    """The text with lone surrogates (from broken JSON escapes or undecodable file names) as U+FFFD.

    SQLite stores UTF-8, which cannot carry a lone surrogate: one such title used to fail its whole batch.
    """
    return _SURROGATES.sub("\ufffd", text)


def clean_text(text: str) -> str:
    """Unicode NFC, no control characters, normalised newlines and runs of spaces; nothing else changes."""
    text = _NEWLINES.sub("\n", safe_text(text))
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text))
    return _BLANKS.sub("\n\n", _SPACES.sub(" ", text))


# A run of punctuation or symbols (emoji included) longer than this is cut for the models: spaCy's tokenizer
# splits such a run one character at a time, re-reading the rest each time, so its cost grows with the square
# of the run (20 KB of "!" took 44.7 s of NER in the server; 30,000 took 106 s in `track`).
MAX_SYMBOL_RUN = 16
_SYMBOL_RUN = re.compile(rf"(?:[^\w\s]|_){{{MAX_SYMBOL_RUN + 1},}}")


def model_text(text: str) -> str:
    """The text as the models read it: each run of punctuation or symbols past ``MAX_SYMBOL_RUN`` characters
    becomes spaces, so no model's cost grows faster than the text (linear time, one regex pass).

    Same length as ``text``, so every offset found in it is an offset in ``text``; runs of at most
    ``MAX_SYMBOL_RUN`` ("...", "?!", an emoji family, a "-----" rule) are left as they are.
    """
    return _SYMBOL_RUN.sub(lambda m: m.group()[:MAX_SYMBOL_RUN] + " " * (len(m.group()) - MAX_SYMBOL_RUN), text)


_ISO_WEEK = re.compile(r"(\d{4})-?W(\d{2})-?([1-7])\b")


def parse_date(raw: str | None) -> dt.date | None:
    """A calendar date from a metadata or marker string; ``None`` when it is not one (never guesses 'today')."""
    if not raw:
        return None
    raw = str(raw).strip()
    if len(raw) > 80 or raw.startswith(("-", "+")):
        return None  # not a date field (or a signed year such as -0044, which a calendar date cannot hold)
    week = _ISO_WEEK.match(raw)
    if week:
        try:
            return dt.date.fromisocalendar(*(int(g) for g in week.groups()))
        except ValueError:
            return None
    match = re.match(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", raw)
    if match:
        try:
            return dt.date(*(int(g) for g in match.groups()))
        except ValueError:
            return None
    import dateparser

    parsed = dateparser.parse(
        raw,
        settings={"REQUIRE_PARTS": ["day", "month", "year"], "RETURN_AS_TIMEZONE_AWARE": False,
                  "PREFER_DATES_FROM": "past", "RELATIVE_BASE": dt.datetime(2000, 1, 1)},
    )
    if parsed is None or not re.search(r"\d{4}", raw):
        return None  # relative expressions ("yesterday") have no meaning without an anchor
    return parsed.date()


def find_date_marker(text: str) -> tuple[dt.date, str, int, int] | None:
    """(date, marker text, start, end) of an inline date stamp at the start or end of ``text``."""
    for pattern in (_ONLY_DATE, _START_KEYWORD, _START_LINE, _START_ISO):
        match = pattern.match(text)
        if match:
            date = parse_date(match.group("date"))
            if date is not None:
                return date, match.group(0).strip(), match.start(), match.end()
    # closing stamps are searched in the tail only: a search over the whole text is quadratic
    cut = max(0, len(text.rstrip()) - _MARKER_WINDOW)
    for pattern in (_END_KEYWORD, _END_LINE):
        match = pattern.search(text, cut)
        if match:
            date = parse_date(match.group("date"))
            if date is not None:
                return date, match.group(0).strip(), match.start(), match.end()
    return None


_IDENTIFIER = None
_LANGUAGE_SAMPLE = 400  # characters; langid's accuracy is flat beyond a few hundred
_LETTER = re.compile(r"[^\W\d_]")
_THREE_LETTERS = re.compile(r"[^\W\d_](?:.*?[^\W\d_]){2}", re.S)
# Below this probability (among ``DETECTED_LANGUAGES``) the guess is not taken: the language stays unknown
# and a note says so. Chosen on the dev sets (MultiLing 7 languages, Spanish ML-Crisis, DUC 2004, Timeline17,
# WikiRef, SemEval-2022 dev; 5,172 texts, in sample): 10 guesses were wrong, 2 of them under 0.7; of the
# 5,162 right ones none was under 0.7 and 0.1% under 0.9.
MIN_LANGUAGE_CONFIDENCE = 0.7


def detect_language(text: str) -> tuple[str | None, float]:
    """Language code and probability; the code is None when the text has no words or the guess is unsure.

    py3langid (langid.py's naive Bayes model, shipped in its wheel) is deterministic and ~20x faster
    than langdetect, which keeps plain ingest above 1,000 articles/s. Its 0.4 model tells 142 languages
    apart, many of them close kin of big ones that news hardly uses (Extremaduran, Nigerian Pidgin,
    Ligurian): on short or tokenised English it answered ``ext`` and ``pcm``. It is restricted to
    ``DETECTED_LANGUAGES``, and tokenised text is read detokenised.
    """
    return guess_language(text)[:2]


def guess_language(text: str) -> tuple[str | None, float, str | None]:
    """(code or None, probability, why the code is None): ``detect_language`` with its reason."""
    global _IDENTIFIER
    sample = text[: _LANGUAGE_SAMPLE * 2]
    if not _THREE_LETTERS.search(sample[:_LANGUAGE_SAMPLE]):  # a text may open with a long run of symbols: sample from its first letter
        first = _LETTER.search(text)
        sample = _SYMBOL_RUN.sub(" ", text[first.start() : first.start() + _LANGUAGE_SAMPLE * 2]) if first else ""
    sample = (detokenize(sample) if is_tokenized(sample) else sample)[:_LANGUAGE_SAMPLE]
    if not _THREE_LETTERS.search(sample):
        return None, 0.0, None
    if _IDENTIFIER is None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.set_languages(sorted(DETECTED_LANGUAGES))
        _IDENTIFIER = identifier
    lang, prob = _IDENTIFIER.classify(sample)
    prob = round(float(prob), 3)
    if prob < MIN_LANGUAGE_CONFIDENCE:
        return None, prob, (f"normalize.clean: language unsure (best guess {lang!r} at p={prob:.2f}, under "
                            f"{MIN_LANGUAGE_CONFIDENCE}); left unknown: give the source's language field to settle it")
    return lang, prob, None


_LANGUAGE_NAMES = {
    "arabic": "ar", "chinese": "zh", "czech": "cs", "danish": "da", "dutch": "nl", "english": "en",
    "finnish": "fi", "french": "fr", "german": "de", "greek": "el", "hebrew": "he", "hindi": "hi",
    "hungarian": "hu", "indonesian": "id", "italian": "it", "japanese": "ja", "korean": "ko",
    "norwegian": "no", "persian": "fa", "polish": "pl", "portuguese": "pt", "romanian": "ro",
    "russian": "ru", "spanish": "es", "swedish": "sv", "thai": "th", "turkish": "tr", "ukrainian": "uk",
    "urdu": "ur", "vietnamese": "vi",
}  # fmt: skip
# The languages detection chooses among: those the project reads (its evaluation sets, the embedder's 16,
# the NER models) and a few more big news languages, each told apart reliably from the others on news text.
DETECTED_LANGUAGES = frozenset(_LANGUAGE_NAMES.values())
_LANGUAGE_TAG = re.compile(r"([a-z]{2,3})(?:[-_][a-z0-9]+)*")


def language_code(hint: str | None) -> str | None:
    """ISO 639-1 code for a source's language field: "en", "en-US", "fr_FR", "English", "Greek" → en/fr/el.

    None when the hint is not recognised, so the text's own language is detected instead of guessed.
    """
    if not hint:
        return None
    value = str(hint).strip().lower()
    if value in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[value]
    match = _LANGUAGE_TAG.fullmatch(value)
    return match.group(1) if match and len(match.group(1)) == 2 else None


def text_key(text: str) -> str:
    """The text as it is compared for identity: whitespace and case folded."""
    return " ".join(text.casefold().split())


class EmptyArticle(ValueError):
    """Nothing is left of a record once cleaned (it held only a date stamp, control characters or blanks)."""


def _field(value: object) -> str | None:
    """A metadata field as clean one-line text; None when blank."""
    if value is None:
        return None
    text = " ".join(clean_text(str(value)).split())
    return text or None


def scoped_id(source_id: str, scope: str) -> str:
    """The stored id of an article that has its source's own id: that id is only unique within its source.

    Two feeds (or files) that both number their articles "1" must not collide, so the id is a hash of the
    scope (the source's name, else the file it came from) and the source's id; the source's id is kept
    beside it (``Article.source_id``) and ``show`` finds an article by either.
    """
    return hashlib.sha1(f"{scope}\x00{source_id}".encode("utf-8")).hexdigest()[:16]


def _article_id(source_id: str | None, scope: str, key: str) -> str:
    if source_id:
        return scoped_id(source_id, scope)
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def record_scope(document: Document) -> str:
    """What a source id is unique within: the named source, else the file (or stream) of the record."""
    return _field(document.source) or safe_text(document.scope or document.origin)


def _publication_date(document: Document, marker: tuple[dt.date, str] | None, now: dt.datetime,
                      ) -> tuple[dt.date | None, DateProvenance, str | None, list[str]]:
    """(date, provenance, evidence, notes): the metadata date, else the text marker's, each only when it
    can be true. A metadata value that is no date, or a date that cannot be true, is never used silently:
    a note says what was ignored (the ingest report shows it and it stays among the article's problems).
    An untrusted date leaves the article undated (provenance ``untrusted``, the raw value as evidence),
    so enrichment infers its date from the text, as for any undated article."""
    notes: list[str] = []
    raw = _field(document.published)
    candidates: list[tuple[dt.date, DateProvenance, str | None]] = []
    meta_date = parse_date(document.published)
    if meta_date is not None:
        candidates.append((meta_date, document.published_provenance, raw))
    elif raw:
        shown = raw if len(raw) <= 80 else raw[:77] + "..."
        notes.append(f"published: {shown!r} is not a date (with day, month and year); the article is stored undated "
                     "(its date is inferred from its text when the text allows)")
    if marker is not None:
        candidates.append((marker[0], DateProvenance.TEXT_MARKER, marker[1]))
    untrusted: str | None = None
    for date, provenance, evidence in candidates:
        doubt = date_doubt(date, now)
        if doubt is None:
            return date, provenance, evidence, notes
        notes.append(f"published: {date.isoformat()} ({provenance.value}: {evidence!r}) is {doubt}: not trusted")
        untrusted = untrusted or evidence
    if untrusted is not None:
        notes[-1] += "; the article is placed as undated (its date is inferred from its text when the text allows)"
        return None, DateProvenance.UNTRUSTED, untrusted, notes
    return None, DateProvenance.UNDATED, None, notes


def clean(document: Document, now: dt.datetime | None = None) -> Article:
    """Build the Article for a Document. Metadata dates win over text markers; markers are removed either way."""
    original = clean_text(document.text)
    text, offset = original, 0
    marker = find_date_marker(original)
    marker_date = None
    if marker:
        marker_date, marker_text, start, end = marker
        if start == 0:
            text, offset = original[end:], end
        else:
            text = original[:start]
        evidence_marker = marker_text
    stripped = text.strip()
    offset += len(text) - len(text.lstrip())
    text = stripped

    now = now or dt.datetime.now(dt.timezone.utc)
    published, provenance, evidence, notes = _publication_date(
        document, (marker_date, evidence_marker) if marker_date is not None else None, now)

    if not text:
        raise EmptyArticle("no text left once cleaned (the record holds only a date stamp, control characters or blanks)")
    title = _field(document.title)
    hinted = language_code(document.language)
    language, confidence, unsure = (hinted, 1.0, None) if hinted else guess_language(f"{title or ''}\n{text}")
    key = text_key(text)
    source_id = _field(document.source_id)
    return Article(
        id=_article_id(source_id, record_scope(document), key),
        text=text,
        original_text=original,
        origin=safe_text(document.origin),
        content_hash=hashlib.sha256(key.encode("utf-8")).hexdigest(),
        ingested_at=now,
        title=title,
        source=_field(document.source),
        url=_field(document.url),
        author=_field(document.author),
        source_id=source_id,
        language=language,
        language_confidence=confidence,
        published=published,
        published_provenance=provenance,
        date_evidence=evidence,
        text_offset=offset,
        extra=dict(document.extra),
        problems=notes + ([unsure] if unsure else []),
    )
