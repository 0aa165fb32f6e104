"""Restore what degraded copies lost: sentence boundaries and letter case.

``restore(article)`` fills ``restored_text`` (same length as ``text``; only letter case changes, Penn
Treebank bracket and quote tokens become the characters they stand for within their own span
(``detokenize.py``), and runs of symbols past ``clean.MAX_SYMBOL_RUN`` become spaces, so every offset into
``text`` stays valid), ``sentences`` and ``restoration``. Punctuated text goes
through spaCy's sentencizer; text without punctuation through Storyline's boundary model
(``boundaries.py``); lowercased or all-capitals English text through truecase (``casing.py``).
Nothing here raises on odd input: what could not be done is written to ``article.problems``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from storyline.model import Article, Restoration, Sentence
from storyline.normalize.boundaries import (
    Tagged,
    _word_hash,
    load_model,
    tag_words_batch,
    word_spans,
)
from storyline.normalize.casing import truecase_into
from storyline.normalize.detokenize import detokenize_in_place
from storyline.normalize.clean import model_text
from storyline.normalize.segment import (
    SEGMENTER_NAME,
    segment_punctuated_batch,
    split_paragraphs,
)

__all__ = [
    "MAX_MODEL_WORDS",
    "MAX_SEGMENT_CHARS",
    "TextProfile",
    "profile",
    "restore",
    "restore_batch",
]

MAX_MODEL_WORDS = 30_000  # words given to the boundary model and truecase; the rest is chunked plainly
MAX_SEGMENT_CHARS = 2_000_000  # characters given to the punctuated segmenter
_FALLBACK_WORDS = 30  # sentence length used past the caps
_TERMINATOR = re.compile(r"[.!?…。！？]+(?=[\s\"'”’)\]]|$)")
_STOP_THEN_SPACE = re.compile(r"[.!?…。！？][\"'”’)\]]*\s")
_LONG_RUN = 35  # words without a terminator before a run counts as unpunctuated


def _is_break(gap: str) -> bool:
    """Whether the characters between two words end a sentence for sure: a line break, or a stop (with any
    closing quotes or brackets) followed by a space, wherever it sits in the gap: ``said Air. "They`` ends
    a sentence as ``said Air. They`` does. Not the dots inside "u.s" or "3.5"."""
    return "\n" in gap or _STOP_THEN_SPACE.search(gap) is not None


@dataclass(frozen=True, slots=True)
class TextProfile:
    """What is wrong with a text, measured cheaply (one pass of regexes and counts)."""

    n_words: int
    lowercased: bool
    all_caps: bool
    unpunctuated: bool
    english_like: (
        float | None
    )  # share of words known to the English statistics (measured only
    # when something English-only may be needed: case or boundary restoration)


def _english_share(text: str, spans: list[tuple[int, int]], sample: int = 400) -> float:
    if not spans:
        return 0.0
    stats = load_model().stats
    step = max(1, len(spans) // sample)
    words = [text[a:b].lower() for a, b in spans[::step]]
    h = np.fromiter((_word_hash(w) for w in words), dtype=np.uint64, count=len(words))
    pos = np.minimum(np.searchsorted(stats.hashes, h), len(stats.hashes) - 1)
    return float(np.mean(stats.hashes[pos] == h))


def profile(text: str, spans: list[tuple[int, int]] | None = None) -> TextProfile:
    """Detect lowercased, all-capitals and unpunctuated text.

    Lowercased: under 0.4% of cased letters are capitals (normal English prose has ~3%). All caps:
    over 80%. Unpunctuated: fewer than one sentence terminator per 50 words, or at least half of the
    words in runs longer than 35 words with no terminator or line break.
    """
    spans = word_spans(text) if spans is None else spans
    n = len(spans)
    upper = sum(map(str.isupper, text))
    lower = sum(map(str.islower, text))
    cased = upper + lower
    lowercased = cased > 0 and upper / cased < 0.004
    all_caps = cased >= 10 and upper / cased > 0.8
    unpunctuated = False
    if n >= 8:
        terminators = len(_TERMINATOR.findall(text))
        run = long_words = 0
        prev_end = 0
        for a, b in spans:
            if _is_break(text[prev_end:a]):
                long_words += run if run > _LONG_RUN else 0
                run = 0
            run += 1
            prev_end = b
        long_words += run if run > _LONG_RUN else 0
        unpunctuated = (n >= 20 and terminators * 50 < n) or long_words * 2 >= n
    needs_english = lowercased or all_caps or unpunctuated
    share = _english_share(text, spans) if needs_english else None
    return TextProfile(n, lowercased, all_caps, unpunctuated, share)


def _model_words(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[a:b].lower() for a, b in spans[:MAX_MODEL_WORDS]]


def _model_segments(
    text: str, spans: list[tuple[int, int]], problems: list[str], tagged: Tagged | None = None
) -> list[tuple[int, int]]:
    """Sentence spans of unpunctuated text from the boundary model (surviving stops/line breaks kept)."""
    model = load_model()
    head = spans[:MAX_MODEL_WORDS]
    words = _model_words(text, spans)
    forced = np.zeros(max(0, len(head) - 1), dtype=bool)
    for i in range(len(head) - 1):
        if _is_break(text[head[i][1] : head[i + 1][0]]):
            forced[i] = True
    gaps = (
        model.boundaries(words, forced, tagged)
        if len(words) >= 2
        else np.zeros(0, dtype=np.int64)
    )
    cuts = [0, *(int(g) + 1 for g in gaps), len(head)]
    for k in range(len(head), len(spans), _FALLBACK_WORDS):
        cuts.append(min(len(spans), k + _FALLBACK_WORDS))
    if len(spans) > len(head):
        problems.append(
            f"normalize.restore: {len(spans)} words without punctuation; boundaries predicted for the "
            f"first {MAX_MODEL_WORDS}, the rest cut every {_FALLBACK_WORDS} words"
        )
    return [
        (spans[a][0], spans[b - 1][1]) for a, b in itertools.pairwise(cuts) if b > a
    ]


def _whole_or_paragraphs(text: str) -> list[tuple[int, int]]:
    return split_paragraphs(text)


def _decide(article: Article, prof: TextProfile) -> tuple[bool, bool, list[str]]:
    """(use boundary model, restore case, problems) for this article's language and profile."""
    problems: list[str] = []
    lang = (article.language or "").lower()
    english = lang.startswith("en") if lang else (prof.english_like or 0.0) >= 0.5
    needs_case = prof.lowercased or prof.all_caps
    restore_case = needs_case and english and prof.n_words > 0
    use_model = prof.unpunctuated and english
    if needs_case and not english:
        problems.append(
            f"normalize.restore: case not restored for {article.id}: truecase covers English only "
            f"(language {lang or 'unknown'}, {prof.english_like or 0.0:.0%} of words known English)"
        )
    if prof.unpunctuated and not english:
        problems.append(
            f"normalize.restore: sentence boundaries not restored for {article.id}: the boundary model "
            "is English only; paragraphs used as sentences"
        )
    if prof.all_caps and restore_case:
        problems.append(
            f"normalize.restore: {article.id} is in capitals; case restored as for lowercased text"
        )
    return use_model, restore_case, problems


def _finish(
    article: Article,
    prof: TextProfile,
    sents: list[tuple[int, int]],
    segmenter: str,
    use_model: bool,
    restore_case: bool,
    spans: list[tuple[int, int]],
    text: str,
) -> None:
    """``text``: the article's text as the models read it (``detokenize_in_place``), same length."""
    restored = text
    if restore_case:
        chars = list(text)
        limit = (
            spans[MAX_MODEL_WORDS - 1][1] if len(spans) > MAX_MODEL_WORDS else len(text)
        )
        for a, b in sents:
            if a >= limit:
                article.problems.append(
                    f"normalize.restore: case restored for the first {MAX_MODEL_WORDS} words only"
                )
                break
            truecase_into(chars, text, a, min(b, limit))
        restored = "".join(chars)
        if len(restored) != len(text):  # guard the invariant whatever the casing did
            restored = text
    shown = article.restored_text = model_text(restored)  # no symbol run the models' cost would square
    article.sentences = [Sentence(a, b, shown[a:b]) for a, b in sents]
    article.restoration = Restoration(
        lowercased=prof.lowercased or prof.all_caps,
        unpunctuated=prof.unpunctuated,
        case_restored=restore_case and restored != text,
        boundaries_restored=use_model,
        segmenter=segmenter,
        detokenized=text is not article.text,
    )


def restore_batch(articles: Iterable[Article]) -> None:
    """Restore many articles (the batch form: one call, models loaded once).

    Never raises: if the batch fails, each article is retried alone, and one that still fails
    keeps its text with paragraphs as sentences (reason in ``problems``).
    """
    articles = list(articles)
    noted = [len(a.problems) for a in articles]
    try:
        _restore_all(articles)
    except Exception:  # noqa: BLE001 - a broken article must not stop the pipeline
        for art, n in zip(articles, noted):
            del art.problems[n:]
            try:
                _restore_all([art])
            except Exception as error:  # noqa: BLE001
                _fallback(art, error)


def _restore_all(articles: list[Article]) -> None:
    plans = []
    punctuated: list[int] = []
    for i, art in enumerate(articles):
        text = art.text or ""
        if art.text is None:
            art.text = ""
        text = detokenize_in_place(text)
        spans = word_spans(text)
        prof = profile(text, spans)
        use_model, restore_case, problems = _decide(art, prof)
        art.problems.extend(problems)
        plans.append((prof, spans, use_model, restore_case, text))
        if not use_model and not prof.unpunctuated:
            punctuated.append(i)
    texts = []
    for i in punctuated:
        text = plans[i][4]
        if len(text) > MAX_SEGMENT_CHARS:
            articles[i].problems.append(
                f"normalize.restore: {articles[i].id} has {len(text)} characters; sentences split "
                f"for the first {MAX_SEGMENT_CHARS} only"
            )
            text = text[:MAX_SEGMENT_CHARS]
        texts.append(text)
    cased = [not (plans[i][0].lowercased or plans[i][0].all_caps) for i in punctuated]
    seg = dict(zip(punctuated, segment_punctuated_batch(texts, cased)))
    modelled = [i for i, plan in enumerate(plans) if plan[2] and len(plan[1]) >= 2]
    modelled_set = set(modelled)
    tagged = iter(())  # one lazy tagger stream over the batch, consumed in article order
    if modelled and load_model().tagger:
        tagged = tag_words_batch(_model_words(plans[i][4], plans[i][1]) for i in modelled)
    for i, (art, (prof, spans, use_model, restore_case, text)) in enumerate(
        zip(articles, plans)
    ):
        if use_model:
            sents, name = (
                _model_segments(text, spans, art.problems, next(tagged, None) if i in modelled_set else None),
                load_model().name,
            )
        elif i in seg:
            sents, name = seg[i], SEGMENTER_NAME
            if len(text) > MAX_SEGMENT_CHARS:
                rest = split_paragraphs(text, MAX_SEGMENT_CHARS)
                sents = sents + rest
        else:
            sents, name = _whole_or_paragraphs(text), "paragraphs"
        _finish(art, prof, sents, name, use_model, restore_case, spans, text)


def restore(article: Article) -> None:
    """Fill ``restored_text``, ``sentences`` and ``restoration`` of one article (never raises)."""
    restore_batch([article])


def _fallback(article: Article, error: Exception) -> None:
    """Leave the article usable when restoration itself broke: original text, paragraphs."""
    text = model_text(article.text or "")
    article.restored_text = text
    article.sentences = [Sentence(a, b, text[a:b]) for a, b in split_paragraphs(text)]
    article.restoration = Restoration(segmenter="paragraphs")
    article.problems.append(
        f"normalize.restore: restoration failed for {article.id} ({type(error).__name__}: {error}); "
        "text kept as is, paragraphs used as sentences"
    )
