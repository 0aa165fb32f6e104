"""Canonical entity names: one name per real-world thing, across articles and across the store.

Names arrive in many shapes ("U.S. envoy Zalmay Khalilzad", "khalilzad", "u s", "America"), so a
name is first cleaned (titles, roles, possessives, punctuation) and reduced to a *key*: lowercase
ASCII words. Keys, not surfaces, are what the registry compares. A small curated table covers the
abbreviations too common and too varied to learn (US/UK/UN/EU/NATO...); everything else is learned
from the articles themselves, e.g. a surname links to the one full name already known.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from unidecode import unidecode

from storyline.model import Entity, EntityType

__all__ = ["EntityRegistry", "RegistryRow", "clean_name", "curated", "name_key", "trim_lowercase_edges"]

# (alias_key, canonical, type value, mentions seen under that type)
RegistryRow = tuple[str, str, str, int]

# Words that precede a name without being part of it. Lowercase, without dots.
TITLES = frozenset(
    """
    mr mrs ms miss mx dr prof professor sir dame lord lady madam president vice presidentelect
    premier chancellor pm prime minister ministers secretary envoy ambassador special representative
    spokesman spokeswoman spokesperson adviser advisor senator sen rep congressman congresswoman
    governor gov mayor councillor general gen lt lieutenant col colonel maj major capt captain cmdr
    commander adm admiral sgt sergeant cpl corporal pvt brig brigadier marshal army navy chief
    deputy acting former late then interim head leader director chairman chairwoman chair ceo cfo
    founder negotiator inspector judge attorney prosecutor officer detective emir mullah imam
    ayatollah cardinal bishop archbishop reverend rev rabbi pastor striker coach manager midfielder
    defender goalkeeper doctor mister messrs madame monsieur mme mlle herr frau senor senora hon honourable
    honorable rt excellency the
    """.split()  # noqa: SIM905 - a word list reads better as text
)  # Not king/queen/pope/prince/sheikh/marine: part of how those people are named ("Marine Le Pen").
_NAME_PARTICLES = frozenset({"al", "el", "bin", "ibn", "van", "von", "de", "der", "den", "la", "le", "da", "di", "du", "del"})
_POSSESSIVE = re.compile(r"(?:['\u2019]s?|(?<=[^\W\d_]{2})\s+s)$", re.IGNORECASE)  # "Trump's", degraded "trump s"
_INNER_POSSESSIVE = re.compile(r"(?<=[^\W\d_]{2})(?:['\u2019]s|\s+s)\s+(?=\w)")
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*", re.UNICODE)

# Curated aliases: canonical name, type, alias keys (compact form for spelled-out letters: "u s" -> "us").
# "america" is a place only; acronyms are trusted whatever label the model gave them.
_CURATED: tuple[tuple[str, EntityType, tuple[str, ...]], ...] = (
    ("United States", EntityType.PLACE, ("us", "usa", "united states", "united states of america", "america")),
    ("United Kingdom", EntityType.PLACE, ("uk", "britain", "great britain", "united kingdom")),
    ("United Nations", EntityType.ORGANISATION, ("un", "united nations", "the united nations")),
    ("European Union", EntityType.ORGANISATION, ("eu", "european union")),
    ("NATO", EntityType.ORGANISATION, ("nato", "north atlantic treaty organization", "north atlantic treaty organisation")),
    ("Soviet Union", EntityType.PLACE, ("ussr", "soviet union")),
    ("United Arab Emirates", EntityType.PLACE, ("uae", "united arab emirates")),
    ("Islamic State", EntityType.ORGANISATION, ("isis", "isil", "islamic state", "daesh")),
    ("al-Qaeda", EntityType.ORGANISATION, ("al qaeda", "al qaida", "alqaeda", "qaeda")),
    ("CIA", EntityType.ORGANISATION, ("cia", "central intelligence agency")),
    ("FBI", EntityType.ORGANISATION, ("fbi", "federal bureau of investigation")),
    ("World Health Organization", EntityType.ORGANISATION, ("world health organization", "world health organisation")),
    ("International Monetary Fund", EntityType.ORGANISATION, ("imf", "international monetary fund")),
    ("North Korea", EntityType.PLACE, ("dprk", "north korea")),
    ("South Korea", EntityType.PLACE, ("south korea", "republic of korea")),
)
_CURATED_INDEX: dict[str, tuple[str, EntityType]] = {
    alias: (name, etype) for name, etype, aliases in _CURATED for alias in aliases
}
_PLACE_ONLY = frozenset({"america"})  # "America" the continent/brand is not always the country
_TYPE_RANK = {t: i for i, t in enumerate(EntityType)}  # the fixed order that breaks ties between types


@functools.lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """Lowercase ASCII words; a run of single letters collapses ("u s a" and "U.S.A." -> "usa").

    Cached: naming looks up a few hundred candidate names an article, most of them seen before (a third of
    the ordered naming step's time went here)."""
    text = unidecode(name).lower().replace(".", "").replace("'", "").replace("\u2019", "")
    words = re.findall(r"[a-z0-9]+", text)
    out: list[str] = []
    run: list[str] = []
    for word in words + [""]:
        if word == "s" and not run and out and len(out[-1]) > 1:
            out[-1] += "s"  # degraded possessive: "king s cross" is "King's Cross"
            continue
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        if run:
            out.append("".join(run))
            run = []
        if word:
            out.append(word)
    return " ".join(out)


def curated(key: str, etype: EntityType) -> tuple[str, EntityType] | None:
    """The curated canonical name and type for a key, if the table knows it."""
    hit = _CURATED_INDEX.get(key)
    if hit is None or (key in _PLACE_ONLY and etype not in (EntityType.PLACE, EntityType.ORGANISATION)):
        return None
    return hit


def _words_with_spans(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


@functools.lru_cache(maxsize=1 << 16)
def clean_name(surface: str, etype: EntityType) -> str:
    """The name without leading articles/titles/roles, possessives and stray punctuation (cached, as
    ``name_key``: the same surfaces come back article after article).

    Leading words are dropped only while they are titles or curated country names, so
    "U.S. envoy Zalmay Khalilzad" -> "Zalmay Khalilzad" but a name made only of such words stays.
    """
    text = " ".join(surface.split()).strip(" \t\"'`.,;:!?()[]{}\u201c\u201d\u2018\u2019-")
    if etype is EntityType.PERSON:
        text = _INNER_POSSESSIVE.split(text, maxsplit=1)[0]  # degraded "khalilzad s tweeted"
    text = _POSSESSIVE.sub("", text).strip(" .,;:-")
    words = _words_with_spans(text)
    if not words:
        return text
    start = 0
    strip_titles = etype is EntityType.PERSON
    while start < len(words) - 1:
        low = unidecode(words[start][0]).lower().replace(".", "")
        if low == "the" or (strip_titles and low in TITLES):
            start += 1
            continue
        if strip_titles and _leading_country(words, start):
            start = _leading_country(words, start)
            continue
        break
    text = text[words[start][1]:] if start else text
    if etype is not EntityType.PERSON and text.lower().startswith("the ") and len(words) > 1:
        text = text[4:]
    return text.strip(" .,;:-")


def trim_lowercase_edges(text: str) -> str:
    """Drop lowercase words at either edge of a name that has capitals ("U s public" -> "U s").

    Restored or clean text capitalises names, so a lowercase edge word is a run-on from the
    sentence; name particles ("al", "de", "of") stay when inside.
    """
    words = _words_with_spans(text)
    if not any(w[:1].isupper() for w, _, _ in words):
        return text
    first, last = 0, len(words)
    while last - first > 1 and words[last - 1][0].islower() and len(words[last - 1][0]) > 1:
        last -= 1
    while last - first > 1 and words[first][0].islower() and words[first][0] not in _NAME_PARTICLES:
        first += 1
    while last - first > 1 and words[last - 1][0].lower() in _NAME_PARTICLES | {"of", "and"}:
        last -= 1
    return text[words[first][1] : words[last - 1][2]]


def _leading_country(words: list[tuple[str, int, int]], start: int) -> int:
    """Index after a curated country abbreviation starting at ``start`` (``U S`` envoy), else 0."""
    for stop in range(min(len(words) - 1, start + 3), start, -1):
        key = name_key(" ".join(w for w, _, _ in words[start:stop]))
        hit = _CURATED_INDEX.get(key)
        if hit and hit[1] is EntityType.PLACE:
            return stop
    return 0


def display_form(name: str) -> str:
    """How a newly seen name is shown: all-lowercase or all-uppercase input gets name casing."""
    if name.islower() or (name.isupper() and len(name) > 4 and " " in name):
        words = name.split()
        return " ".join(
            w.lower() if i and w.lower() in _NAME_PARTICLES else w[:1].upper() + w[1:].lower()
            for i, w in enumerate(words)
        )
    return name


class EntityRegistry:
    """The store-wide table of canonical names, learned incrementally and serialised as rows.

    Aliases are keyed by ``name_key`` and are type-independent, so a person the model once
    labelled ORG still resolves to the same name; each canonical name keeps per-type mention
    counts and reports its majority type. Invariant: every alias points at exactly one name, and
    every name's own key points at itself.
    """

    def __init__(self) -> None:
        self._alias: dict[str, str] = {}  # alias key -> canonical key
        self._names: dict[str, str] = {}  # canonical key -> canonical name (display form)
        self._types: dict[str, Counter[EntityType]] = defaultdict(Counter)  # canonical key -> counts
        self._suffixes: dict[str, set[str]] = defaultdict(set)  # person name suffix key -> canonical keys
        self._alias_log: list[str] = []  # alias keys in the order they were learned
        self._members: dict[str, set[str]] = defaultdict(set)  # canonical key -> alias keys pointing at it
        self._changed: set[str] = set()  # alias keys whose rows differ from the last ``take_changes``

    def _point(self, alias: str, ckey: str) -> None:
        old = self._alias.get(alias)
        if old is None:
            self._alias_log.append(alias)
        elif old != ckey:
            self._members[old].discard(alias)
        self._alias[alias] = ckey
        self._members[ckey].add(alias)
        self._changed.add(alias)

    # ---------- lookups ----------
    def canonical(self, surface: str, type: EntityType) -> str:
        """The canonical name for a mention, learning it (and its alias) when it is new."""
        return self.resolve(surface, type)[0]

    def resolve(self, surface: str, etype: EntityType, *, learn: bool = True) -> tuple[str, EntityType]:
        """Canonical name and the type it should carry (curated tables may override the model)."""
        cleaned = clean_name(surface, etype)
        key = name_key(cleaned)
        trimmed = trim_lowercase_edges(cleaned)
        if trimmed != cleaned and key not in self._alias and curated(key, etype) is None:
            tkey = name_key(trimmed)
            if curated(tkey, etype) is not None:
                cleaned, key = trimmed, tkey  # "U s public": the known name inside a run-on
        if not key:
            return cleaned or surface, etype
        hit = curated(key, etype)
        if hit is not None:
            name, etype = hit
        else:
            name = self.lookup(key, etype) or self._group_variant(key, etype) or display_form(cleaned)
            ckey = name_key(name)
            if ckey != key and ckey.endswith(" " + key) and self._is_person(ckey):
                etype = EntityType.PERSON  # a surname of a known person is that person, whatever the label
        if learn:
            self.add(name, etype, None if key in _PLACE_ONLY else key)
        return name, etype

    def lookup(self, key: str, etype: EntityType) -> str | None:
        """A known canonical name for an alias key, or for a person's surname when unambiguous."""
        known = self._alias.get(key)
        if known is not None:
            return self._names[known]
        if etype in (EntityType.PERSON, EntityType.ORGANISATION):
            return self.unique_full_name(key)
        return None

    def _group_variant(self, key: str, etype: EntityType) -> str | None:
        """A group known in the singular or plural ("Afghans" and "Afghan" are one group)."""
        if etype is not EntityType.GROUP:
            return None
        other = key[:-1] if key.endswith("s") else key + "s"
        ckey = self._alias.get(other)
        return self._names[ckey] if ckey is not None and self._majority(ckey) is EntityType.GROUP else None

    def known(self, key: str) -> str | None:
        """The canonical name an alias key points at, without surname guessing."""
        ckey = self._alias.get(key)
        return None if ckey is None else self._names[ckey]

    def alias_keys_since(self, position: int) -> list[str]:
        """Alias keys learned after the first ``position`` (lets callers index new aliases only)."""
        return self._alias_log[position:]

    def unique_full_name(self, key: str) -> str | None:
        """The one longer person name ending in ``key`` (``baradar`` -> ``Abdul Ghani Baradar``)."""
        owners = {c for c in self._suffixes.get(key, ()) if c in self._names and self._is_person(c)}
        if len(owners) != 1:
            return None
        return self._names[next(iter(owners))]

    def _is_person(self, ckey: str) -> bool:
        return self._majority(ckey) is EntityType.PERSON

    def _majority(self, ckey: str) -> EntityType:
        counts = self._types.get(ckey)
        if not counts:
            return EntityType.OTHER
        return max(counts, key=lambda t: (counts[t], -_TYPE_RANK[t]))

    def type_of(self, canonical: str) -> EntityType:
        """Majority type over every mention; ties broken by a fixed order so results are stable."""
        return self._majority(name_key(canonical))

    def __contains__(self, alias: str) -> bool:
        return name_key(alias) in self._alias

    def __len__(self) -> int:
        return len(self._names)

    def aliases(self) -> dict[str, str]:
        """Every alias key and the canonical name it resolves to."""
        return {alias: self._names[ckey] for alias, ckey in self._alias.items()}

    def entities(self) -> list[Entity]:
        """One Entity per canonical name, sorted, with its majority type and alias keys."""
        by_name: dict[str, list[str]] = defaultdict(list)
        for alias, ckey in self._alias.items():
            by_name[ckey].append(alias)
        return [
            Entity(canonical=name, type=self._majority(ckey), aliases=sorted(by_name[ckey]))
            for ckey, name in sorted(self._names.items())
        ]

    # ---------- learning ----------
    def add(self, canonical: str, etype: EntityType, alias_key: str | None = None, count: int = 1) -> None:
        """Record ``count`` mentions of ``canonical`` (seen as ``alias_key``) typed ``etype``."""
        ckey = name_key(canonical)
        if not ckey:
            return
        if ckey not in self._names:
            self._names[ckey] = canonical
        self._point(ckey, ckey)
        if alias_key and alias_key not in self._alias:
            self._point(alias_key, ckey)
        before = self._majority(ckey)
        self._types[ckey][etype] += count
        if self._majority(ckey) is not before:  # every alias row carries the name's majority type
            self._changed.update(self._members[ckey])
        words = ckey.split()
        if etype is EntityType.PERSON and len(words) > 1:
            for i in range(1, len(words)):
                self._suffixes[" ".join(words[i:])].add(ckey)
            for i in range(1, len(words)):
                self._absorb_stub(" ".join(words[i:]))

    def _absorb_stub(self, suffix: str) -> None:
        """A bare surname learned earlier merges into the one full name that now ends in it."""
        if suffix not in self._names or not self._is_person(suffix):
            return
        full = self.unique_full_name(suffix)
        if full is None:
            return
        fkey = name_key(full)
        self._types[fkey].update(self._types.pop(suffix))
        del self._names[suffix]
        for alias in sorted(self._members.pop(suffix, ())):
            self._point(alias, fkey)
        self._changed.update(self._members[fkey])  # counts and perhaps the majority type moved

    # ---------- serialisation ----------
    def to_rows(self) -> list[RegistryRow]:
        """Rows (alias key, canonical, type, mentions), sorted; ``from_rows`` rebuilds the registry.

        A name's own key carries one row per type with its mention count; other aliases carry
        one row with the majority type and count 0 (they only point).
        """
        rows: list[RegistryRow] = []
        for ckey, name in self._names.items():
            for etype, count in self._types[ckey].items():
                rows.append((ckey, name, etype.value, count))
        for alias, ckey in self._alias.items():
            if alias != ckey:
                rows.append((alias, self._names[ckey], self._majority(ckey).value, 0))
        return sorted(rows)

    def rows_of(self, alias: str) -> list[RegistryRow]:
        """The rows ``to_rows`` holds for one alias key (none for a key never learned)."""
        ckey = self._alias.get(alias)
        if ckey is None:
            return []
        if alias == ckey:
            return sorted((ckey, self._names[ckey], etype.value, count) for etype, count in self._types[ckey].items())
        return [(alias, self._names[ckey], self._majority(ckey).value, 0)]

    def take_changes(self) -> tuple[list[str], list[RegistryRow]]:
        """The alias keys changed since the last call and their rows now, and forget them.

        The store replaces those keys' rows only, so a batch writes what it learned rather than the whole
        table (rewriting everything made the write volume grow with the square of the corpus).
        Replacing each key's rows with ``rows_of`` keeps the stored table equal to ``to_rows()``.
        """
        keys = sorted(self._changed)
        self._changed = set()
        return keys, [row for key in keys for row in self.rows_of(key)]

    @classmethod
    def from_rows(cls, rows: Iterable[Iterable[object]]) -> EntityRegistry:
        """Rebuild from ``to_rows`` output (rows read back from the store, in any order)."""
        registry = cls()
        parsed = sorted((str(a), str(c), EntityType(str(t)), int(n)) for a, c, t, n in rows)  # type: ignore[misc]
        for alias, name, etype, count in parsed:
            ckey = name_key(name)
            if alias != ckey and count:
                raise ValueError(f"registry row {alias!r} -> {name!r}: only a name's own key carries counts")
            registry._names.setdefault(ckey, name)
            registry._point(alias, ckey)
            if count:
                registry._types[ckey][etype] += count
        registry._changed = set()  # what was read back is what the store holds
        for ckey in registry._names:
            words = ckey.split()
            if registry._types[ckey].get(EntityType.PERSON) and len(words) > 1:
                for i in range(1, len(words)):
                    registry._suffixes[" ".join(words[i:])].add(ckey)
        return registry
