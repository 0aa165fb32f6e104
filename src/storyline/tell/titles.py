"""Titles a reader can scan: an untitled article's from its first sentence, a cluster's headline.

Before, an untitled article showed as its 16-hex id and a story without titles as a list of entities
("Taliban, United States, Afghan"). One rule each, used by every view (CLI, API, pages, feeds, report):

- ``article_title``: the source's title, else the first whole sentence of the text's opening
  (``OPENING_CHARS``, what the read layer's index keeps), read detokenised, without a leading date or
  "Last updated at 15:44 GMT" stamp, cut at a word boundary with "…" past ``MAX_TITLE_CHARS``.
- ``headline``: for any cluster of articles (event, story, thread): the title of the most central member
  (nearest the centroid when one is given and members carry embeddings; else the one whose words the
  most members share), else the most central member's ``article_title``. Names keep their casing.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from storyline.normalize.detokenize import detokenize
from storyline.normalize.segment import segment_punctuated

__all__ = ["MAX_TITLE_CHARS", "OPENING_CHARS", "article_title", "headline"]

OPENING_CHARS = 200  # the opening the read layer's index holds (``Store.article_index_rows``)
MAX_TITLE_CHARS = 110  # a headline's length on a card; longer sentences are cut at a word boundary
_STAMP = re.compile(
    r"^(?:(?:\d{1,2}\s+[A-Z][a-z]+\s+\d{4}|[A-Z][a-z]+\s+\d{1,2},?\s+\d{4}|\d{4}[-/]\d{2}[-/]\d{2})\s*)?"
    r"(?:Last updated at \d{1,2}[:.]\d{2}\s*[A-Z]{2,4}\s*(?:Help\s+)?)?")
_WORD = re.compile(r"[^\W\d_]{3,}")
_STOP = frozenset("""the and for with that this from have has had was were are its his her their they them said says
will would been into after over about more than when what which while where who also not but one two new
les des une pour dans sur par est qui que del los las por para con una que""".split())  # noqa: SIM905


class _Member(Protocol):
    title: str | None
    duplicate_of: str | None


def _reading(text: str) -> str:
    text = detokenize(text)  # harmless on prose; on tokenised text also "crisis ?" -> "crisis?"
    return _STAMP.sub("", text, count=1).strip()


def _trim(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:-–—") + "…"


def article_title(title: str | None, text: str) -> str:
    """The article's title: its own, else its opening's first whole sentence (see the module docstring).
    Empty only when the article has neither title nor text."""
    if title and title.strip():
        return " ".join(title.split())
    return _title_of_opening(text[:OPENING_CHARS])


@functools.lru_cache(maxsize=16_384)
def _title_of_opening(text: str) -> str:
    """Cached: listings and search results title every untitled article they show on each request, and
    detokenizing and segmenting an opening costs ~1 ms."""
    opening = _reading(text)
    spans = segment_punctuated(opening)
    first = opening[spans[0][0] : spans[0][1]] if spans else opening
    return _trim(first)


def _terms(text: str) -> set[str]:
    return {w for w in (m.group().casefold() for m in _WORD.finditer(text)) if w not in _STOP}


def _text_of(member: object) -> str:
    text = getattr(member, "display_text", None)
    return text if isinstance(text, str) else str(getattr(member, "opening", "") or "")


def headline(members: Sequence[_Member], centroid: np.ndarray | None = None) -> str:
    """The headline of a cluster (event, story or thread) of ``members``: Articles, or any rows with
    ``title``, ``duplicate_of`` and ``display_text`` (or ``opening``), and ``embedding`` for the centroid rule.

    The most central member's own title; if no member has one, the most central member's ``article_title``
    (its lead sentence). Central: nearest ``centroid`` by cosine when it is given and every candidate carries
    an embedding of its size; else the member whose title-and-opening words are shared by the most members
    (mean share over its words). Near-duplicates are not candidates. Ties go to the earlier member. Empty
    only when no member has a title or text."""
    originals = [m for m in members if not m.duplicate_of] or list(members)
    if not originals:
        return ""
    titled = [m for m in originals if m.title and m.title.strip()]
    pool = titled or originals
    labels = [article_title(m.title, _text_of(m)) for m in pool]
    best = _nearest(pool, centroid)
    if best is None:
        bags = [_terms(f"{m.title or ''} {_text_of(m)[:OPENING_CHARS]}") for m in originals]
        share = Counter(t for bag in bags for t in bag)
        scores = []
        for label in labels:
            words = _terms(label)
            scores.append(sum(share[w] for w in words) / len(words) if words else 0.0)
        best = max(range(len(pool)), key=lambda i: (scores[i], -i))
    return labels[best]


def _nearest(pool: Sequence[_Member], centroid: np.ndarray | None) -> int | None:
    if centroid is None:
        return None
    vectors = [getattr(m, "embedding", None) for m in pool]
    if any(v is None or np.shape(v) != np.shape(centroid) for v in vectors):
        return None
    matrix = np.stack([np.asarray(v, dtype=np.float32) for v in vectors])
    norms = np.linalg.norm(matrix, axis=1) * (float(np.linalg.norm(centroid)) or 1.0)
    scores = matrix @ np.asarray(centroid, dtype=np.float32) / np.where(norms > 0, norms, 1.0)
    return int(max(range(len(pool)), key=lambda i: (round(float(scores[i]), 6), -i)))
