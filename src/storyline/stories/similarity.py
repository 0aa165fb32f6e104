"""How alike an article is to another article, an event or a story.

Several weak views of a text are combined, because no single one survives everything news throws
at us: the multilingual embedding knows meaning across languages but blurs neighbouring happenings;
TF-IDF words separate neighbours sharply but only within a language; *anchors* (numbers and
consonant skeletons of transliterated words: "London", "لندن", "Λονδίνο" and "लन्दन" all become
``lndn``) bridge scripts where the embedding model is weak (Czech, Greek, Hebrew, Hindi); canonical
entities, weighted by rarity, name who and where. All lexical views are case- and punctuation-folded
so degraded (lowercased, unpunctuated) copies score like clean ones. Document frequencies are
learnt online, so nothing here needs a corpus prepared beforehand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections import Counter
from typing import Iterable, Mapping

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from unidecode import unidecode

from storyline.model import Article

__all__ = [
    "Features",
    "DocFreq",
    "view_cosines",
    "embedding_cosines",
    "Profile",
    "features",
    "document_terms",
    "day_gap",
    "pair_parts",
]

_WORD = re.compile(r"[a-z]+|[0-9]+")
_DATE_MARKER = re.compile(r"\bdate \d{4}-\d{2}-\d{2}\b")
# Words so common across news that they only add noise; IDF removes the rest.
_STOP = frozenset(ENGLISH_STOP_WORDS) | frozenset(
    "said says say told year years new also would could like just one two three mr mrs ms "
    "les des une est que qui dans pour par sur avec pas plus ont ete sont aux der die das und "
    "den dem des ein eine ist nicht mit von fur auf del los las por con una para como".split()
)
_SKELETON_DROP = str.maketrans("", "", "aeiouyhwv'")
_PHONETIC = (("ph", "f"), ("ck", "k"), ("c", "k"), ("q", "k"), ("x", "ks"), ("z", "s"), ("j", "g"))
# Languages the multilingual USE v3 was trained on; for others its vectors are noise that makes every
# article of that language look alike, so the embedding view is left out for them.
EMBEDDING_LANGUAGES = frozenset("ar de en es fr it ja ko nl pl pt ru th tr zh".split())
_LEAD_CHARS = 600  # title + lead: where the news is told, and what the embedding sees


@dataclasses.dataclass(slots=True)
class Features:
    """What the similarity views need from one article, computed once."""

    embedding: np.ndarray | None
    words: Counter[str]  # folded words of the whole text (title counted twice)
    anchors: Counter[str]  # numbers and consonant skeletons: the language-independent view
    entities: Counter[str]  # canonical entity keys
    places: Counter[str]  # gazetteer place ids (any language)
    date: dt.date | None
    language: str | None
    cache: dict = dataclasses.field(default_factory=dict)  # view -> (docs seen, weights, norm)

    def weighted(self, view: str, df: DocFreq) -> tuple[dict[str, float], float]:
        """TF-IDF of a view (``core:<view>``: linear counts, see ``core_tfidf``), cached per IDF state."""
        hit = self.cache.get(view)
        if hit is None or hit[0] != (id(df), df.epoch):
            hit = self.cache[view] = ((id(df), df.epoch), *_weigh(self, view, df))
        return hit[1], hit[2]


def _fold(text: str) -> str:
    return unidecode(text).lower()


def skeleton(word: str) -> str:
    """Consonant skeleton of a transliterated word, so spellings across scripts meet."""
    for old, new in _PHONETIC:
        word = word.replace(old, new)
    word = word.translate(_SKELETON_DROP)
    out = []
    for ch in word:
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out)


def _views(text: str) -> tuple[Counter[str], Counter[str]]:
    words: Counter[str] = Counter()
    anchors: Counter[str] = Counter()
    for token in _WORD.findall(_fold(text)):
        if token.isdigit():
            if len(token) >= 2:
                anchors["#" + (token.lstrip("0") or "0")] += 1
            continue
        if len(token) < 3 or token in _STOP:
            continue
        words[token] += 1
        sk = skeleton(token)
        if len(sk) >= 3:
            anchors[sk] += 1
    return words, anchors


def entity_keys(article: Article) -> Counter[str]:
    """Canonical entity keys, folded so transliterations of one name meet."""
    keys: Counter[str] = Counter()
    for mention in article.entities:
        keys["@" + _fold(mention.canonical).strip()] += 1
    return keys


def features(article: Article) -> Features:
    body = _DATE_MARKER.sub(" ", article.display_text)
    title = article.title or ""
    words, anchors = _views(f"{title}\n{title}\n{body}")
    entities = entity_keys(article)
    no_ner = not entities
    for place, count in article.places.items():  # gazetteer ids meet across languages and scripts
        anchors["^" + place] += count
        if no_ner:  # no NER model for this language: the places it names are its entities
            entities["^" + place] += count
    language = (article.language or "").lower()[:2] or None
    if article.models.get("embedding"):  # the embedder that made the vector says which languages it knows
        from storyline.enrich.embed import embedding_usable

        usable = embedding_usable(article)
    else:  # a vector of unknown origin: the default embedder's (USE's) languages
        usable = language is None or language in EMBEDDING_LANGUAGES
    return Features(
        embedding=article.embedding if usable else None,
        words=words,
        anchors=anchors,
        entities=entities,
        places=Counter(article.places),
        date=article.published,
        language=article.language,
    )


def document_terms(item: "Features | Profile") -> list[str]:
    """What one document counts for in the document frequencies: its words, anchors and entities."""
    return list(item.words) + list(item.anchors) + list(item.entities)


class DocFreq:
    """Document frequencies learnt online; ``idf`` is smooth so unseen terms weigh most.

    IDF is read from a snapshot of the counts, refreshed whenever the documents grew by a tenth (and
    one): weights computed for a cluster stay valid until the next refresh, so they can be cached,
    and since refreshes happen at counts fixed by the stream, a placer resumed from the store (which
    keeps the counts and the snapshot) weighs exactly as one that never stopped.
    """

    def __init__(self) -> None:
        self.docs = 0
        self.counts: Counter[str] = Counter()
        self.idf_docs = 0
        self.idf_counts: dict[str, int] = {}
        self.epoch = 0  # bumps at each snapshot: what caches of weights are keyed by
        self.added: Counter[str] = Counter()  # since the last ``take_changes``
        self._snapshot_changed = False
        self._idf_memo: tuple[int, dict[str, float]] = (-1, {})  # (epoch, term -> idf): one log per term per snapshot

    def add(self, terms: Iterable[str]) -> None:
        unique = set(terms)
        self.docs += 1
        self.counts.update(unique)
        self.added.update(unique)
        if self.docs >= self._refresh_at(self.idf_docs):
            self.idf_docs, self.idf_counts = self.docs, dict(self.counts)
            self.epoch += 1
            self._snapshot_changed = True

    @staticmethod
    def _refresh_at(idf_docs: int) -> float:
        return 1.1 * idf_docs + 1

    @classmethod
    def refreshes(cls, upto: int) -> list[int]:
        """The document counts (up to ``upto``) at which ``add`` takes its IDF snapshots. They depend on the
        count alone, so the frequencies a placer holds after any number of documents can be rebuilt from
        the documents' terms without replaying the placement (the Spark job does, per time window)."""
        out: list[int] = []
        last = 0
        while (nxt := max(last + 1, math.ceil(cls._refresh_at(last)))) <= upto:
            out.append(nxt)
            last = nxt
        return out

    def idf_memo(self) -> dict[str, float]:
        """The idf values computed so far under the current snapshot (term -> idf), so each term's logarithm
        is taken once per snapshot; hot loops read it directly and call ``idf`` only for missing terms."""
        if self._idf_memo[0] != self.epoch:  # every change of the snapshot bumps the epoch
            self._idf_memo = (self.epoch, {})
        return self._idf_memo[1]

    def idf(self, term: str) -> float:
        memo = self.idf_memo()
        value = memo.get(term)
        if value is None:
            value = memo[term] = math.log((self.idf_docs + 1) / (self.idf_counts.get(term, 0) + 1)) + 1.0
        return value

    def take_changes(self) -> tuple[int, dict[str, int], tuple[int, dict[str, int]] | None]:
        """(docs, counts added, the snapshot if it changed) since the last call: what a store must add."""
        added, self.added = dict(self.added), Counter()
        snapshot = (self.idf_docs, self.idf_counts) if self._snapshot_changed else None
        self._snapshot_changed = False
        return self.docs, added, snapshot

    def use_snapshot(self, idf_docs: int, idf_counts: Mapping[str, int]) -> None:
        """Weigh by the IDF snapshot the stream holds further on, from now on (cached weights go: a new
        epoch). For a batch cut short of where the stream's batch ends: ``StoryPlacer.place_batch``."""
        self.idf_docs, self.idf_counts = idf_docs, dict(idf_counts)
        self.epoch += 1
        self._snapshot_changed = True

    @classmethod
    def restore(cls, docs: int, counts: dict[str, int], idf_docs: int, idf_counts: dict[str, int]) -> "DocFreq":
        df = cls()
        df.docs, df.counts, df.idf_docs, df.idf_counts = docs, Counter(counts), idf_docs, dict(idf_counts)
        df.epoch = 1
        return df


def tfidf(terms: Mapping[str, float], df: DocFreq) -> tuple[dict[str, float], float]:
    """Log-scaled TF times the current IDF, and the vector's norm."""
    memo, idf = df.idf_memo(), df.idf  # an idf is at least 1.0, so a missing one is the only falsy read
    weights = {t: (1 + math.log(v) if v >= 1 else v) * (memo.get(t) or idf(t)) for t, v in terms.items() if v > 0}
    return weights, math.sqrt(sum(w * w for w in weights.values()))


def core_tfidf(terms: Mapping[str, float], df: DocFreq) -> tuple[dict[str, float], float]:
    """Linear counts times the current IDF: a cluster's core (what most members carry) dominates.

    Log-scaled counts (``tfidf``) flatten a story's core into its periphery; for story links the core
    is what must match, so what one chained-in event brought stays small.
    """
    memo, idf = df.idf_memo(), df.idf
    weights = {t: v * (memo.get(t) or idf(t)) for t, v in terms.items() if v > 0}
    return weights, math.sqrt(sum(w * w for w in weights.values()))


def _weigh(item: "Features | Profile", view: str, df: DocFreq) -> tuple[dict[str, float], float]:
    if view.startswith("core:"):
        return core_tfidf(getattr(item, view[5:]), df)
    return tfidf(getattr(item, view), df)


def core_cosine(a: "Features | Profile", b: "Features | Profile", view: str, df: DocFreq) -> float:
    """Cosine of two items' ``view`` weighted by linear counts (cached on each item)."""
    return _cosine(a.weighted("core:" + view, df), b.weighted("core:" + view, df))


def _cosine(a: tuple[dict[str, float], float], b: tuple[dict[str, float], float]) -> float:
    (wa, na), (wb, nb) = a, b
    if not na or not nb:
        return 0.0
    # only shared terms add anything; fsum makes the result independent of the order they come in
    return math.fsum(wa[t] * wb[t] for t in wa.keys() & wb.keys()) / (na * nb)



def day_gap(date: dt.date | None, first: dt.date | None, last: dt.date | None) -> float:
    """Days between a date and a [first, last] span; 0 inside it or when either is unknown."""
    if date is None or first is None or last is None:
        return 0.0
    if date < first:
        return float((first - date).days)
    if date > last:
        return float((date - last).days)
    return 0.0


@dataclasses.dataclass(slots=True)
class Profile:
    """The running summary of a cluster (event or story) that new members are compared with.

    Term views keep summed term frequencies (log-scaled when weighed), pruned to the strongest terms so memory stays bounded.
    """

    embedding_sum: np.ndarray | None = None
    words: Counter[str] = dataclasses.field(default_factory=Counter)
    anchors: Counter[str] = dataclasses.field(default_factory=Counter)
    entities: Counter[str] = dataclasses.field(default_factory=Counter)
    places: Counter[str] = dataclasses.field(default_factory=Counter)
    size: int = 0
    first: dt.date | None = None
    last: dt.date | None = None
    version: int = 0
    cache: dict = dataclasses.field(default_factory=dict)  # view -> (version, docs, weights, norm)

    def weighted(self, view: str, df: DocFreq) -> tuple[dict[str, float], float]:
        """TF-IDF of a view, recomputed when the profile changed or the IDF snapshot moved on."""
        hit = self.cache.get(view)
        if hit is None or hit[0] != self.version or hit[1] != (id(df), df.epoch):
            hit = self.cache[view] = (self.version, (id(df), df.epoch), *_weigh(self, view, df))
        return hit[2], hit[3]

    @property
    def centroid(self) -> np.ndarray | None:
        if self.embedding_sum is None:
            return None
        norm = float(np.linalg.norm(self.embedding_sum))
        return self.embedding_sum / norm if norm > 0 else self.embedding_sum

    def add(self, f: Features, cap: int = 400) -> None:
        if f.embedding is not None:
            emb = np.asarray(f.embedding, dtype=np.float32)
            self.embedding_sum = emb.copy() if self.embedding_sum is None else self.embedding_sum + emb
        for mine, theirs in ((self.words, f.words), (self.anchors, f.anchors), (self.entities, f.entities),
                             (self.places, f.places)):
            mine.update(theirs)
            if len(mine) > cap:
                for term, _ in mine.most_common()[cap:]:
                    del mine[term]
        self.size += 1
        self.version += 1
        if f.date is not None:
            self.first = f.date if self.first is None else min(self.first, f.date)
            self.last = f.date if self.last is None else max(self.last, f.date)

    def without(self, f: Features) -> "Profile":
        """A copy with one member taken out (for leave-one-out scoring and moves).

        Approximate where pruning already dropped a term of ``f``; dates keep their span.
        """
        out = Profile(size=max(0, self.size - 1), first=self.first, last=self.last, version=0)
        if self.embedding_sum is not None:
            out.embedding_sum = self.embedding_sum - f.embedding if f.embedding is not None else self.embedding_sum.copy()
        for name in ("words", "anchors", "entities", "places"):
            mine: Counter[str] = getattr(self, name).copy()
            theirs: Counter[str] = getattr(f, name)
            for term, count in theirs.items():
                if term in mine:
                    left = mine[term] - count
                    if left > 0:
                        mine[term] = left
                    else:
                        del mine[term]
            setattr(out, name, mine)
        return out

    def absorb(self, other: "Profile", cap: int = 400) -> None:
        if other.embedding_sum is not None:
            self.embedding_sum = (
                other.embedding_sum.copy() if self.embedding_sum is None else self.embedding_sum + other.embedding_sum
            )
        for mine, theirs in ((self.words, other.words), (self.anchors, other.anchors), (self.entities, other.entities),
                             (self.places, other.places)):
            mine.update(theirs)
            if len(mine) > cap:
                for term, _ in mine.most_common()[cap:]:
                    del mine[term]
        self.size += other.size
        self.version += 1
        for d in (other.first, other.last):
            if d is not None:
                self.first = d if self.first is None else min(self.first, d)
                self.last = d if self.last is None else max(self.last, d)


def pair_parts(a: Features | Profile, b: Features | Profile, df: DocFreq) -> dict[str, float]:
    """The separate similarity views of two items (article features or cluster profiles)."""
    ea = a.centroid if isinstance(a, Profile) else a.embedding
    eb = b.centroid if isinstance(b, Profile) else b.embedding
    parts: dict[str, float | None] = {"embedding": float(np.dot(ea, eb)) if ea is not None and eb is not None else None}
    for view in ("words", "anchors", "entities"):
        parts[view] = _cosine(a.weighted(view, df), b.weighted(view, df))
    return parts


def view_cosines(items: list[Features], view: str, df: DocFreq) -> np.ndarray:
    """Every pairwise cosine of one TF-IDF view (``pair_parts``' numbers, as one sparse product).

    A checkpoint split compares all members of an event with each other; pair by pair in Python that is
    most of placement's time once events reach hundreds of members.
    """
    from scipy.sparse import csr_matrix

    vocabulary: dict[str, int] = {}
    rows, cols, values = [], [], []
    for i, item in enumerate(items):
        weights, norm = item.weighted(view, df)
        if not norm:
            continue
        for term, weight in weights.items():
            rows.append(i)
            cols.append(vocabulary.setdefault(term, len(vocabulary)))
            values.append(weight / norm)
    matrix = csr_matrix((values, (rows, cols)), shape=(len(items), max(1, len(vocabulary))), dtype=np.float64)
    return (matrix @ matrix.T).toarray()


def embedding_cosines(items: list[Features]) -> np.ndarray:
    """Every pairwise dot product of the items' (unit) embeddings; NaN where either has none."""
    n = len(items)
    known = [i for i, item in enumerate(items) if item.embedding is not None]
    out = np.full((n, n), np.nan)
    if known:
        vectors = np.stack([np.asarray(items[i].embedding, dtype=np.float64) for i in known])
        out[np.ix_(known, known)] = vectors @ vectors.T
    return out
