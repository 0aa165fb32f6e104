"""Sentences as the unit every `tell` function selects from, plus the shared text vectors.

Each unit keeps the article id and the sentence index so whatever is shown can always be cited.
Vectors are TF-IDF over the story's own sentences: cheap, deterministic, and good at telling apart
sentences of one story, where a general-purpose embedding finds everything "about the same thing".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import re
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from storyline.enrich.tokens import language_stop_words
from storyline.model import Article, Citation, SummarySentence

_WORD = re.compile(r"\w+", re.UNICODE)
_END = re.compile(r"[.!?\"'\u201d\u2019)\]]\s*$")
_LETTERS_WORD = re.compile(r"\b[^\W\d_]{2,}\b", re.UNICODE)
# "WASHINGTON | Wed Jun 9 , 2010 7:18 pm EDT WASHINGTON (Reuters) - ..." : a wire dateline, not content
_DATELINE = re.compile(
    r"^.{0,160}?(?:\(|-LRB-\s*)[A-Z][\w .&]{0,24}?(?:\)|\s*-RRB-)\s*(?:-{1,2}|\u2014|\u2013)\s+(?=\S)"
)
# "Wednesday , May 26 , 2010 ; 7:59 PM" / "Susan Watts | 18:00 UK time , Saturday , 25 April 2009"
_STAMP = re.compile(
    r"^(?:[^|]{0,40}\|\s*)?(?:\d{1,2}[:.]\d\d[^,;]{0,12}[,;]?\s*)?(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\s*,?\s*)?"
    r"(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2}\s*,?\s*\d{4}|\d{1,2}\s+[A-Z][a-z]{2,8}\s+\d{4})"
    r"(?:\s*[;,]?\s*\d{1,2}[:.]\d\d\s*(?:[AaPp]\.?[Mm]\.?)?(?:\s*(?:[ECMP][SD]T|BST|GMT|UTC|CES?T|ET)\b)?)?\s*[;,|-]*\s*"
)
# "Republicans escalate criticism Tuesday , May 25 , 2010 ; 6:20 PM Republican criticism ...": a web
# headline and its time stamp glued to the lead; the lead starts after the stamp
_GLUED_STAMP = re.compile(
    r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\s*,\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2}\s*,\s*\d{4}\s*[;,]\s*"
    r"\d{1,2}[:.]\d\d\s*[AaPp]\.?[Mm]\.?\s*"
)
_PLACE = re.compile(r"[A-Z][A-Z.'-]+(?: [A-Z][A-Z.'-]+){0,3}(?: ?, [A-Z][A-Za-z.]+)? ?(?:--|\u2014|\u2013) ?")
_BOILER = re.compile(r"\||\bReport abuse\b|\bPosted by\b|\bClick here\b|\bwrote\s*:|\bAll rights reserved\b|\bRead more\b", re.IGNORECASE)
# photo captions, credits and gallery links: they describe a picture, not what happened
_CAPTION = re.compile(
    r"\bAP Photo\b|\bPhotograph\s*:|\bPhoto credits?\b|\bGetty Images\b|\bframe grab\b|\bfile photo\b|"
    r"\bIn this (?:\w+ )?(?:image|photo|picture)\b|\bimage taken from video\b|\bpictured\b|--\s*(?:photos|video)\b|"
    r"\bvideo\s*:",
    re.IGNORECASE,
)
# scraped page furniture that names itself: update stamps, player and comment notices, share/subscribe lines
_FURNITURE = re.compile(
    r"\b(?:Page )?last updated\b|\bJavaScript\b|\bFlash player\b|\bmedia is not available\b|"
    r"\bcomments? (?:may|will) be (?:published|edited)\b|\bmay edit your comments\b|\bShare this\b|"
    r"\bSubscribe\b|\bFollow us\b|\bTodos los derechos\b|\bSuscr[ií]b|"
    r"\bRecibe el bolet[ií]n\b|\bLo m[aá]s (?:visto|le[ií]do)\b|\bVer lista completa\b|\bTous droits\b",
    re.IGNORECASE,
)
# markup left by a scraper: wiki templates and file names, tags, entities, links, handles and hashtags
_MARKUP = re.compile(
    r"\.(?:svg|png|jpe?g|gif|webp)\b|\{\{|\}\}|\[\[|\]\]|</?[A-Za-z][^>]{0,80}>|&[a-z]{2,8};|&#\d+;|"
    r"https?://|\bwww\.|(?<![\w.])@\w{2,}|(?<![\w&])#[^\W\d]\w+",
    re.IGNORECASE,
)
_PHOTO = re.compile(r"\b(?:Foto|Fotos|Imagen|Photo|Image)\s*(?::|\(|/|\bcaption\b|\bcopyright\b)|\(\+\s*Fotos?\)",
                    re.IGNORECASE)
_FIELD = re.compile(r"(?:^|\s)[A-Z][\w']*(?: [a-z][\w']*){0,3} ?:\s")  # "Born :", "Also known as :" in a fact box
_OPENING = re.compile(r"^[\"'\u201c\u2018\u00ab\u00bf\u00a1(\[`]*\s*(?:[^\W\d_]|\d)", re.UNICODE)
# typesetting codes of wire copy ("&UR; Oprah Winfrey &LR;", "&QL;"): dropped, the words around them kept
_WIRE_CODE = re.compile(r"&(?:[A-Z]{2}|AMP|LT|GT);")
# a list item's mark ("- ", "-- " left of a dateline, "_ " in wire copy): the item itself may be a sentence
_BULLET = re.compile(r"^(?:(?:-{1,2}|_|[\u2013\u2014\u2022*\u00b7])\s+)+")
_BRACKETS = (("(", ")"), ("[", "]"), ("-LRB-", "-RRB-"), ("\u00ab", "\u00bb"))
_STOP = frozenset(ENGLISH_STOP_WORDS) | {"said", "says", "say", "told", "mr", "mrs", "ms"}


@dataclasses.dataclass(slots=True)
class Unit:
    """One candidate sentence of one article."""

    article_id: str
    index: int  # index into Article.sentences
    text: str
    language: str | None
    published: dt.date | None
    position: int  # rank among the article's usable sentences (0 = lead)
    words: int
    source: str | None = None  # the article's outlet
    furniture: bool = False  # a recurring line kept for the term statistics only (``keep_furniture``): never shown

    def citation(self) -> Citation:
        """This sentence as a citation that names its outlet and date."""
        return Citation(self.article_id, self.index, self.source,
                        self.published.isoformat() if self.published else None)

    def cite(self, score: float = 0.0, also: Sequence["Unit"] = ()) -> SummarySentence:
        cites = [self.citation()] + [u.citation() for u in also]
        return SummarySentence(
            text=self.text,
            citations=cites,
            language=self.language,
            score=round(float(score), 6),
            date=self.published.isoformat() if self.published else None,
        )


def check_sentences(article: Article) -> None:
    """Tell stages select sentences; an article with text but none cannot be cited."""
    if article.text.strip() and not article.sentences:
        raise ValueError(
            f"Article {article.id!r} ({article.origin}) has text but no sentences: run "
            "storyline.normalize.restore.restore on it before building timelines or summaries."
        )


def strip_dateline(text: str) -> str:
    """Drop a leading wire dateline; the rest of the sentence is still the article's own words."""
    return text[dateline_length(text):]


def dateline_length(text: str) -> int:
    """Characters of a leading dateline (0 if none): an all-caps place, then "(Agency) -"."""
    cut = 0
    glued = _GLUED_STAMP.search(text, 0, 240)
    if glued and len(text) - glued.end() > 20:
        cut = glued.end()
    stamp = _STAMP.match(text, cut)
    if stamp and len(text) - stamp.end() > 20 and re.search(r"[:;|]|day\b", stamp.group(0)):
        cut = stamp.end()
    place = _PLACE.match(text, cut)
    if place and len(text) - place.end() > 20:
        cut = place.end()
    m = _DATELINE.match(text[cut:])
    if m and len(text) - cut - m.end() > 20 and re.search(r"\b[A-Z]{3,}\b", text[cut: cut + m.end()]):
        cut += m.end()
    return cut


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def content_words(text: str, stop: frozenset[str] = _STOP) -> list[str]:
    return [w for w in words(text) if w not in stop and not w.isdigit() and len(w) > 1]


@functools.lru_cache(maxsize=64)
def stop_words(languages: frozenset[str]) -> frozenset[str]:
    """English's stop words plus those of every other language given (spaCy's lists; none for a language
    spaCy lacks). Function words ("de", "la", "que") otherwise dominate a Spanish story's vectors."""
    out = set(_STOP)
    for lang in sorted({(code or "").split("-")[0].lower() for code in languages} - {"", "en"}):
        out |= language_stop_words(lang)
    return frozenset(out)


def line_key(text: str) -> str:
    """A sentence as its words alone (case, spacing, quotes and punctuation dropped): recurring lines compare equal."""
    return " ".join(words(text))


def furniture_lines(articles: Sequence[Article]) -> frozenset[str]:
    """Sentences (``line_key``) found verbatim in articles of three or more different days.

    A page's furniture ("Last updated at 15:44 GMT", "Recibe el boletín de Internacional", a blog's
    standing blurb) is printed on every page of its site, whatever the day; reporting is written once and
    at most copied by other outlets the same day, or quoted by one follow-up. Three days is the smallest
    count that tells the two apart; nothing is fitted (in ML-Crisis's Spanish articles, 540 of 791 carry
    lines that recur in three or more articles). Near-duplicate articles (``duplicate_of``) are not
    counted, and an undated article counts as a day of its own.
    """
    days: dict[str, set[str]] = {}
    for art in articles:
        if art.duplicate_of:
            continue
        day = art.published.isoformat() if art.published else f"undated:{art.id}"
        for key in {line_key(s.text) for s in art.sentences}:
            if key:
                days.setdefault(key, set()).add(day)
    return frozenset(k for k, d in days.items() if len(d) >= 3)


def whole_sentence(text: str, punctuated: bool, cased: bool) -> bool:
    """A sentence a reader can take on its own: it opens as a sentence opens (in cased text: a capital, a
    digit or an opening quote), ends as one ends (in punctuated text), and closes every bracket it opens.
    "RM), arrived by helicopter ..." and "if sailors and marines not released ..." are fragments."""
    if punctuated and not _END.search(text):
        return False
    opening = _OPENING.match(text)
    if opening is None or (cased and opening.group(0)[-1].islower()):
        return False
    return all(text.count(a) == text.count(b) for a, b in _BRACKETS)


@functools.lru_cache(maxsize=131_072)  # a story of 1,400 articles has ~40,000 sentences, read by three views
def not_reporting(text: str) -> bool:
    """Captions, credits, page furniture, markup and fact boxes ("Born : August 29 , 1958 ... Also known as :
    ..."): text about the page, a picture or a person's card, not about what happened.

    Cached: a story's articles are cut into units again for each view (timeline, summary, what's new) and
    each time the story changes, and these six patterns cost ~45 us a sentence, more than the rest of it."""
    return bool(_BOILER.search(text) or _CAPTION.search(text) or _PHOTO.search(text) or _FURNITURE.search(text)
                or _MARKUP.search(text) or len(_FIELD.findall(text)) >= 2)


def units_of(article: Article, min_words: int = 6, max_words: int = 70,
             furniture: frozenset[str] = frozenset(), keep_furniture: bool = False) -> list[Unit]:
    """The article's sentences that can stand alone in a summary: whole sentences (not fragments, not
    run-ons), never captions, furniture (``not_reporting``, or a line of ``furniture``) or markup.

    ``keep_furniture``: a line of ``furniture`` is kept, marked ``furniture``, in its place: a caller that
    weighs terms over the story's text (a summary's TF-IDF) sees what the articles say, and shows none of it.
    Dropping it would move every other sentence's weights (on DUC 2007 one byline, recurring on three days,
    changed a cluster's summary)."""
    check_sentences(article)
    out: list[Unit] = []
    ends = [bool(_END.search(s.text)) for s in article.sentences]
    punctuated = bool(ends) and sum(ends) >= 0.5 * len(ends)
    starts = [s.text.lstrip("\"'\u201c\u2018\u00ab\u00bf\u00a1([`")[:1] for s in article.sentences]
    letters = [c for c in starts if c.isalpha()]
    cased = bool(letters) and sum(c.isupper() for c in letters) >= 0.5 * len(letters)
    for i, sent in enumerate(article.sentences):
        if punctuated and not ends[i]:
            continue  # headlines, captions and link text in an otherwise punctuated article
        text = _BULLET.sub("", " ".join(_WIRE_CODE.sub(" ", sent.text).split()))
        if len(out) == 0 or i == 0:
            text = strip_dateline(text)
        if not_reporting(text):
            continue  # page furniture (comment threads, link lists, captions, markup), not reporting
        recurring = bool(furniture) and line_key(sent.text) in furniture
        if recurring and not keep_furniture:
            continue  # a line printed on three or more days: a byline, a site's standing blurb
        if not whole_sentence(text, punctuated, cased):
            continue
        n = len(text.split())
        if n < min_words or n > max_words or len(_LETTERS_WORD.findall(text)) < min_words:
            continue
        if text.endswith(("?", ":")):
            continue  # questions and lead-ins say nothing on their own
        out.append(Unit(article.id, i, text, article.language, article.published, len(out), n, article.source,
                        recurring))
    return out


def all_units(articles: Sequence[Article], furniture: frozenset[str] | None = None, keep_furniture: bool = False,
              **kw: int) -> list[Unit]:
    """Every article's units, earliest article first; ``furniture`` defaults to ``furniture_lines(articles)``
    (``keep_furniture``: see ``units_of``)."""
    lines = furniture_lines(articles) if furniture is None else furniture
    units: list[Unit] = []
    for art in sorted(articles, key=article_order):
        units.extend(units_of(art, furniture=lines, keep_furniture=keep_furniture, **kw))
    return units


def article_order(article: Article) -> tuple[str, str]:
    """Earliest first, ties by id: every selection walks articles in this order (determinism)."""
    return (article.published.isoformat() if article.published else "9999", article.id)


def _analyzer(text: str, stop: frozenset[str] = _STOP) -> list[str]:
    toks = content_words(text, stop)
    return toks + [f"{a} {b}" for a, b in itertools.pairwise(toks)]


def tfidf(texts: Sequence[str], fit_on: Sequence[str] | None = None,
          languages: Iterable[str | None] = ()) -> sparse.csr_matrix:
    """L2-normalised TF-IDF rows (unigrams + bigrams of content words; ``languages``: those of the texts,
    whose stop words are left out too)."""
    stop = stop_words(frozenset(code for code in languages if code))
    vec = TfidfVectorizer(analyzer=functools.partial(_analyzer, stop=stop), sublinear_tf=True, norm="l2",
                          dtype=np.float32)
    if fit_on is None:
        return vec.fit_transform(list(texts)).tocsr()  # one pass of the analyzer, not two
    vec.fit(list(fit_on))
    return vec.transform(list(texts)).tocsr()


def centroid(matrix: sparse.csr_matrix, weights: np.ndarray | None = None) -> np.ndarray:
    vec = np.asarray(matrix.T @ weights if weights is not None else matrix.sum(axis=0)).ravel()
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else vec


def also_citing(units: list[Unit], matrix: sparse.csr_matrix, i: int, threshold: float, limit: int = 5) -> list[Unit]:
    """Units of other articles carrying (nearly) the same sentence as unit ``i``."""
    sims = np.asarray((matrix @ matrix[i].T).todense()).ravel()
    seen = {units[i].article_id}
    out = []
    for j in np.flatnonzero(sims >= threshold):
        if units[j].article_id not in seen and not units[j].furniture:
            seen.add(units[j].article_id)
            out.append(units[j])
    return out[:limit]
