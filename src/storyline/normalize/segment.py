"""Sentence boundaries for text that still has its punctuation.

A rule-based splitter in the style of spaCy's ``sentencizer`` but without the tokenizer, which was the
cost: on 500-word DUC articles the spaCy blank pipeline + sentencizer ran at ~110 articles/s, pysbd at
~100, this at several thousand (``benchmarks/boundaries.py`` prints both and their agreement).

A sentence ends at ``. ! ? …`` (plus closing quotes/brackets) followed by a space and a word that can
open a sentence (capital, digit, opening quote). It does not end after titles and other abbreviations
that precede a name or number ("Dr. Smith", "Jan. 5", "No. 3"), after single initials ("George W.
Bush"), nor after dotted initialisms ("U.S.", "a.m.") unless the next word is a typical sentence
opener ("... in the U.S. The talks"). Blank lines are hard boundaries (headlines, datelines).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "SEGMENTER_NAME",
    "segment_punctuated",
    "segment_punctuated_batch",
    "split_paragraphs",
]

SEGMENTER_NAME = "storyline-rules-v1"

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_CANDIDATE = re.compile(r"(?:[.!?…]+|[。！？]+)[\"'”’»)\]]*(?=\s+|$)")
_NEXT = re.compile(r"\s+([\"'“‘«(\[`]*)(\S*)")
_INITIALISM = re.compile(r"^(?:[A-Za-z]\.){2,}$")
# Abbreviations that precede a name, number or place: a full stop after them never ends a sentence.
_NEVER_END = frozenset(
    """mr mrs ms messrs dr prof gen lt col maj capt sgt cpl adm gov sen rep rev hon pres supt cmdr
    brig insp det fr st mt ft no nos vol pp art sec fig jan feb mar apr jun jul aug sep sept oct nov dec
    ala ariz ark calif colo conn del fla ga ill ind kan kans ky la md mass mich minn miss mo mont neb
    nebr nev okla ore pa tenn va vt wash wis wyo vs v cf approx est""".split()  # noqa: SIM905
)
# Abbreviations that may also end a sentence: split only when a typical opener follows.
_MAY_END = frozenset("inc corp co ltd jr sr bros etc al plc llc".split())  # noqa: SIM905
_OPENERS = frozenset(
    """the a an he she it they we i you this that these those there but and in on at after before when
    while his her its their our however meanwhile officials police yet so if as some many most no one
    two three according earlier later last under despite since for still other both""".split()  # noqa: SIM905
)


def split_paragraphs(
    text: str, start: int = 0, end: int | None = None
) -> list[tuple[int, int]]:
    """Spans of ``text[start:end]`` between blank lines, trimmed of surrounding whitespace."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _BLANK_LINE.finditer(text, start, end):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, end))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def _last_token(text: str, start: int, stop: int) -> str:
    """The whitespace-delimited token ending at ``stop`` (the one carrying the full stop)."""
    k = stop
    while k > start and not text[k - 1].isspace():
        k -= 1
    return text[k:stop]


def _ends_here(text: str, start: int, m: re.Match[str], end: int, cased: bool) -> bool:
    nxt = _NEXT.match(text, m.end(), end)
    if nxt is None:
        return True
    opener, word = nxt.group(1), nxt.group(2)
    first = word[:1]
    if cased and not (
        first.isupper()
        or first.isdigit()
        or (opener and first.isalpha())
        or not first.isalpha()
    ):
        return False  # lower-case continuation: "e.g. the", "5 p.m. local time"
    punct = m.group(0)
    if not punct.startswith("."):
        return True
    token = _last_token(text, start, m.start() + 1)  # e.g. "U.S." or "Dr."
    bare = token.strip("\"'“‘«([`").rstrip(".").lower()
    if bare in _NEVER_END:
        return False
    opener_next = word.strip("\"'”’,;:").lower() in _OPENERS
    if len(bare) == 1 and bare.isalpha():
        return opener_next  # an initial ("George W. Bush") unless an opener follows ("Plan B. The")
    if _INITIALISM.match(token.strip("\"'“‘«([`")) or bare in _MAY_END:
        return opener_next
    return True


def _split_paragraph(
    text: str, start: int, end: int, cased: bool
) -> list[tuple[int, int]]:
    out = []
    pos = start
    for m in _CANDIDATE.finditer(text, start, end):
        if m.end() <= pos or not _ends_here(text, start, m, end, cased):
            continue
        out.append((pos, m.end()))
        nxt = m.end()
        while nxt < end and text[nxt].isspace():
            nxt += 1
        pos = nxt
    if pos < end:
        out.append((pos, end))
    return [(a, b) for a, b in out if b > a]


def segment_punctuated(text: str, cased: bool = True) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of one punctuated text; end exclusive, whitespace trimmed.

    ``cased=False`` (lowercased or all-capitals text): the next word's case is no evidence, so a
    stop ends a sentence whatever follows, abbreviations aside.
    """
    spans: list[tuple[int, int]] = []
    for a, b in split_paragraphs(text):
        spans.extend(_split_paragraph(text, a, b, cased))
    return spans


def segment_punctuated_batch(
    texts: Iterable[str], cased: Iterable[bool] | None = None
) -> list[list[tuple[int, int]]]:
    """``segment_punctuated`` for each text (kept for a batch-shaped API; rules need no batching)."""
    texts = list(texts)
    flags = list(cased) if cased is not None else [True] * len(texts)
    return [segment_punctuated(t, c) for t, c in zip(texts, flags)]
