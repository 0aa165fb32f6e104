"""Extractive, cited summaries of a story (optionally focused on a question).

Sentences are scored by centrality (cosine with the story's TF-IDF centroid), by position (news
puts the essentials first), and by similarity with the query when one is given; maximal marginal
relevance then picks them under the word budget, so each new sentence must add something.
Sentences in the reader's language are used when they can fill the budget; other languages fill
in otherwise, each sentence saying its language.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from storyline.model import Article, SummarySentence
from storyline.tell._units import Unit, all_units, also_citing, centroid, tfidf

__all__ = ["SummaryWeights", "summarize"]


@dataclasses.dataclass(frozen=True, slots=True)
class SummaryWeights:
    """Tuning knobs. ``position``, ``query``, ``mmr``, ``duplicate`` and ``history`` were set on DUC 2007
    update and MultiLing 2011 English together (in-sample for both); ``storyline eval summaries FILE
    --fit-on OTHER`` re-chooses ``position`` and ``longest`` from ``evaluation.tell.SUMMARY_GRID`` on one set and
    reports the other, for figures out of sample."""

    position: float = 0.15  # weight of the lead bonus 1/(1+position)
    query: float = 0.5  # weight of similarity with the query (relative to the best match)
    mmr: float = 0.85  # relevance vs. novelty trade-off in MMR
    duplicate: float = 0.6  # cosine above which a sentence counts as already said
    also_cited: float = 0.8  # cosine above which another article "says the same" (extra citation)
    history: float = 1.0  # weight of similarity with earlier articles (update summaries)
    # a sentence may fill at most this share of the word budget (fitted on DUC 2007 update, 100-word
    # budgets, where one 70-word sentence crowds out the rest; MultiLing's 250 words cannot tell 0.4 from 1)
    longest: float = 0.4


DEFAULT_WEIGHTS = SummaryWeights()
# words that say what to do, not what about ("Describe ...", "Provide details on ..."): not query content
_ASKING = re.compile(
    r"\b(?:describe|discuss|summari[sz]e|provide|give|note|report(?:ed)? on|include|including|identify|explain|"
    r"details?|information|highlights|various|main|important|what|who|when|where|why|how)\b",
    re.IGNORECASE,
)


def query_content(query: str) -> str:
    """The topic words of a request, without its instructions."""
    return " ".join(_ASKING.sub(" ", query).split())


def pick_language_pool(units: list[Unit], reader_language: str | None, max_words: int) -> list[Unit]:
    """The reader's language alone when it has enough to say; everything otherwise."""
    if not reader_language:
        return units
    own = [u for u in units if (u.language or "").split("-")[0] == reader_language]
    if own and sum(u.words for u in own) >= max_words:
        return own
    return sorted(units, key=lambda u: (u.language != reader_language,))  # stable: order kept


def base_scores(units: list[Unit], matrix: sparse.csr_matrix, query_vec: np.ndarray | None,
                reader_language: str | None, w: SummaryWeights) -> np.ndarray:
    central = np.asarray(matrix @ centroid(matrix)).ravel()
    pos = np.array([1.0 / (1.0 + u.position) for u in units], dtype=np.float32)
    score = central + w.position * pos
    if query_vec is not None:
        qsim = np.asarray(matrix @ query_vec).ravel()
        top = float(qsim.max()) if qsim.size else 0.0
        score = score + w.query * (qsim / top if top > 0 else qsim)  # scale-free: short or long queries
    if reader_language:
        other = np.array([(u.language or reader_language) != reader_language for u in units])
        score = np.where(other, score * 0.5, score)
    return score


def mmr_select(
    units: list[Unit], matrix: sparse.csr_matrix, score: np.ndarray, max_words: int,
    w: SummaryWeights, history: sparse.csr_matrix | None = None,
) -> list[int]:
    """Greedy MMR under a word budget; ties broken by unit order (determinism)."""
    n = len(units)
    red = np.zeros(n, dtype=np.float32)
    if history is not None and history.shape[0]:
        red = np.asarray((matrix @ history.T).max(axis=1).todense()).ravel() * w.history
    chosen: list[int] = []
    used = 0
    alive = np.array([not u.furniture for u in units], dtype=bool)  # furniture weighs terms, is never shown
    while alive.any():
        mmr = w.mmr * score - (1 - w.mmr) * red
        mmr = np.where(alive, mmr, -np.inf)
        best = int(np.argmax(mmr))
        alive[best] = False
        if red[best] > w.duplicate or used + units[best].words > max_words:
            continue
        chosen.append(best)
        used += units[best].words
        if max_words - used < 5:
            break
        sim = np.asarray((matrix @ matrix[best].T).todense()).ravel()
        red = np.maximum(red, sim)
    return chosen


def cite_selected(units: list[Unit], matrix: sparse.csr_matrix, chosen: list[int],
                  score: np.ndarray, w: SummaryWeights) -> list[SummarySentence]:
    """Chronological order; each sentence also cites other articles that say nearly the same."""
    order = sorted(chosen, key=lambda i: (units[i].published or dt.date.max, units[i].article_id, units[i].index))
    return [units[i].cite(score[i], also_citing(units, matrix, i, w.also_cited)) for i in order]


def summarize(
    articles: Sequence[Article],
    max_words: int = 250,
    query: str | None = None,
    reader_language: str | None = "en",
    *,
    weights: SummaryWeights | None = None,
) -> list[SummarySentence]:
    """An extractive summary of at most ``max_words`` words, every sentence cited."""
    return summarize_units(all_units(articles, keep_furniture=True), max_words, query, reader_language, weights=weights)


def summarize_units(
    units: list[Unit], max_words: int, query: str | None, reader_language: str | None,
    *, weights: SummaryWeights | None = None, history: list[Unit] | None = None,
) -> list[SummarySentence]:
    weights = weights or DEFAULT_WEIGHTS
    units = [u for u in units if u.words <= weights.longest * max_words] or units
    units = pick_language_pool(units, reader_language, max_words)
    if not units:
        return []
    texts = [u.text for u in units]
    hist_texts = [u.text for u in history or []]
    fit = texts + hist_texts + ([query] if query else [])
    langs = {u.language for u in units + (history or [])}
    matrix = tfidf(texts, fit_on=fit, languages=langs)
    query_vec = None
    if query:
        q = tfidf([query], fit_on=fit, languages=langs)
        query_vec = np.asarray(q.todense()).ravel()
    hist = tfidf(hist_texts, fit_on=fit, languages=langs) if hist_texts else None
    score = base_scores(units, matrix, query_vec, reader_language, weights)
    chosen = mmr_select(units, matrix, score, max_words, weights, hist)
    return cite_selected(units, matrix, chosen, score, weights)

