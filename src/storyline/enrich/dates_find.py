"""Candidate date spans: a regex pass that finds what dateparser should look at.

dateparser's ``search_dates`` tries every n-gram and is slow and generous ("after 18 years of" → 2037).
Here a handful of compiled patterns built from dateparser's own locale data (month and weekday names,
relative phrases) pick the few spans that can be dates; each is then parsed by ``dateparser`` with the
language pinned. False hits the patterns would let through (the verb "may", counts such as "2000
troops", times of day) are filtered here, where the surrounding words are still at hand.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator

from dateparser.languages.loader import default_loader

__all__ = ["MAX_SCAN_CHARS", "Candidate", "Lexicon", "find_candidates", "lexicon", "tense_of"]

MAX_SCAN_CHARS = 300_000  # longer texts are scanned up to here: no news article is longer, hostile input is

_MONTH_KEYS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december")
_WEEKDAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_EN_MONTHS = {"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
              "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
              "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
              "dec": 12}
# Month words that are also common English words: accepted only with a day or year, or after a preposition.
_EN_AMBIGUOUS = {"may", "march", "mar", "jan", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "apr", "feb"}
_EN_VERB_BEFORE = {"i", "you", "we", "they", "he", "she", "it", "who", "which", "that", "this", "there", "to",
                   "will", "would", "could", "should", "might", "must", "can", "not", "also", "still", "and",
                   "or", "but", "never", "people", "others", "officials"}
_EN_MONTH_PREPS = {"in", "since", "until", "till", "by", "from", "through", "throughout", "during", "before",
                   "after", "last", "next", "this", "of", "between", "and", "to", "or", "early", "late", "mid"}
_EN_SAFE_PREPS = {"in", "since", "until", "till", "by", "from", "through", "throughout", "during", "last",
                  "next", "early", "late", "mid", "of"}
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
                 "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100}
# A four-digit number before one of these is a count, not a year.
_COUNT_NOUNS = {
    "people", "persons", "troops", "soldiers", "men", "women", "children", "kids", "dollars", "euros", "pounds",
    "yen", "yuan", "rupees", "km", "kilometres", "kilometers", "miles", "metres", "meters", "feet", "foot",
    "ft", "tons", "tonnes", "kg", "kilograms", "lbs", "cases", "deaths", "dead", "homes", "houses", "votes",
    "jobs", "workers", "employees", "barrels", "gallons", "litres", "liters", "units", "copies", "words",
    "points", "hours", "hrs", "minutes", "seconds", "days", "weeks", "months", "years", "gmt", "utc", "bst",
    "edt", "est", "cet", "pst", "am", "pm", "h", "calories", "acres", "hectares", "students", "patients",
    "delegates", "members", "residents", "refugees", "fighters", "police", "officers", "staff", "seats", "beds",
    "vehicles", "cars", "planes", "ships", "families", "flights", "tests", "doses", "birds", "animals",
    "percent", "per", "cent", "million", "billion", "thousand"
}
_NUMBER_LABELS = {"no", "number", "nos", "flight", "route", "room", "page", "pages", "article", "resolution",
                  "chapter", "section", "model", "version", "highway", "bus", "apartment", "suite", "box",
                  "code", "pin", "reference", "ref", "id", "rule"}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclasses.dataclass(frozen=True, slots=True)
class Lexicon:
    """The words one language writes dates with, and the patterns compiled from them.

    ``trigger`` finds the few places a date can start (a month or weekday word, a digit, a relative word);
    the anchored patterns in ``at`` are tried only there, which is ~20x faster than scanning the text once
    per pattern.
    """

    language: str
    months: dict[str, int]
    trigger: re.Pattern[str]
    at: dict[str, re.Pattern[str]]
    before: dict[str, re.Pattern[str]]
    relative_units: dict[str, str]  # relative phrase -> day / month / year
    date_order: str  # DMY / MDY / YMD, for numeric dates
    english: bool


@dataclasses.dataclass(slots=True)
class Candidate:
    """A span that looks like a date, with the parts the pattern saw (offsets into the scanned text)."""

    start: int
    end: int
    kind: str  # "date" (calendar parts), "relative" (needs an anchor), "weekday"
    day: int | None = None
    month: int | None = None
    year: int | None = None
    core: str = ""  # what dateparser parses (modifiers and prepositions removed)
    direction: int = 0  # -1 "last ...", +1 "next ...", 0 unsaid
    unit: str | None = None  # relative: day/month/year

    @property
    def rank(self) -> int:
        return sum(x is not None for x in (self.day, self.month, self.year)) + (self.kind == "date")


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


_D = r"(?P<d>3[01]|[12][0-9]|0?[1-9])(?![0-9])(?:st|nd|rd|th|er|e|º|ª)?\b\.?"
_Y = r"(?P<y>(?:19|20)[0-9]{2})(?![0-9])"
_SEP = r"\s*,?\s*"
_MOD = (r"(?:(?:the\s+)?(?:end|beginning|start|middle|turn|first\s+half|second\s+half|first\s+week|last\s+week)"
        r"\s+of\s+|(?:early|mid|late)[\s-]*)$")


def _compile(months: dict[str, int], weekdays: list[str], relatives: list[str], english: bool
             ) -> tuple[re.Pattern[str], dict[str, re.Pattern[str]], dict[str, re.Pattern[str]]]:
    m = rf"(?P<m>{_alt(list(months))})\b\.?"
    de = r"(?:\s*(?:de|del|di|van|of)\s+|\s*,?\s*)" if not english else r"\s*,?\s*(?:of\s+)?"
    at = {
        "md": rf"{m}\s*{_D}(?:{_SEP}{_Y})?",
        "my": rf"{m}{de}{_Y}",
        "dm": rf"{_D}\s*(?:of\s+|de\s+|di\s+)?{m}(?:{de if not english else _SEP}{_Y})?",
        "iso": r"(?P<y>(?:19|20)[0-9]{2})[-/.](?P<mo>0?[1-9]|1[0-2])[-/.](?P<d>0?[1-9]|[12][0-9]|3[01])(?![0-9])",
        "num": r"(?P<a>[0-3]?[0-9])[/.](?P<b>[0-3]?[0-9])[/.](?P<y>(?:19|20)[0-9]{2})(?![0-9])",
        "year": rf"{_Y}\b(?![%]|[.:,][0-9]|-[0-9]{{2}}-)",
        "m": rf"(?P<m>{_alt(list(months))})\b",
        "cjk": r"(?P<y>(?:19|20)[0-9]{2})\s*[年년]\s*(?P<mo>0?[1-9]|1[0-2])\s*[月월](?:\s*(?P<d>0?[1-9]|[12][0-9]|3[01])\s*[日号일])?",
    }
    before = {"wd": rf"(?:{_alt(weekdays)})\b\.?\s*,?\s*(?:the\s+)?$", "mod": _MOD}
    parts = [rf"(?P<rel>{_alt(relatives)})(?!\w)"] if relatives else []
    parts += [rf"(?P<mon>{_alt(list(months))})\b"]
    if english:
        days = _alt(weekdays)
        at["reldir"] = rf"(?P<dir>last|next|this|past|coming)\s+(?P<u>month|year|{days})\b"
        before["ago"] = rf"\b(?P<n>[0-9]{{1,3}}|{_alt(list(_NUMBER_WORDS))})\s+(?P<u>days?|months?|years?)\s+$"
        parts += [r"(?P<dir>last|next|this|past|coming)\b", rf"(?P<wd>{days})(?P<pl>s)?\b", r"(?P<ago>ago)\b"]
    # digits may follow CJK characters directly ("在2020年"), so they get their own, looser boundary
    trigger = re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")|(?P<dig>(?<![0-9a-z])[0-9])")
    return trigger, {k: re.compile(v) for k, v in at.items()}, {k: re.compile(v) for k, v in before.items()}


_EN_RELATIVE = ["yesterday", "today", "tonight", "tomorrow", "day before yesterday", "this morning",
                "this afternoon", "this evening", "last night"]


@functools.lru_cache(maxsize=64)
def lexicon(language: str | None) -> Lexicon:
    """The date words of ``language`` (dateparser's locale data); English for None. Raises KeyError when
    dateparser has no such locale."""
    lang = (language or "en").lower().split("-")[0].split("_")[0]
    info = default_loader.get_locale(lang).info  # raises for unknown locales
    english = lang == "en"
    if english:
        months, weekdays, order = dict(_EN_MONTHS), list(_WEEKDAY_KEYS), "MDY"
        units = dict.fromkeys(_EN_RELATIVE, "day")
    else:
        months = {w.lower().rstrip("."): i + 1 for i, k in enumerate(_MONTH_KEYS) for w in info.get(k, [])
                  if len(w.rstrip(".")) > 1 and not w[:1].isdigit()}
        weekdays = sorted({w.lower() for k in _WEEKDAY_KEYS for w in info.get(k, []) if len(w) > 2})
        units = {" ".join(p.lower().split()): unit.group(1) for key, ps in (info.get("relative-type") or {}).items()
                 if (unit := re.fullmatch(r"(?:in )?[012] (day|month|year)(?: ago)?", key)) for p in ps}
        order = str(info.get("date_order", "DMY"))
    trigger, at, before = _compile(months, weekdays, list(units), english)
    return Lexicon(lang, months, trigger, at, before, units, order, english)


def _words_before(text: str, start: int, n: int) -> list[str]:
    return [w.lower() for w in _WORD.findall(text[max(0, start - 12 * n):start])][-n:]


def _words_after(text: str, end: int, n: int) -> list[str]:
    return [w.lower() for w in _WORD.findall(text[end:end + 12 * n])][:n]


def _month_ok(text: str, pos: int, word: str, with_day: bool, with_year: bool, lex: Lexicon) -> bool:
    """English month words that double as verbs or abbreviations need a day, a year, or a preposition."""
    if not lex.english or word not in _EN_AMBIGUOUS:
        return True
    before = _words_before(text, pos, 1)
    if before and before[0] in _EN_VERB_BEFORE and word in ("may", "march", "mar"):
        return False
    if text[pos].isupper() and (with_day or with_year):
        return True  # "May 5" in cased text; lowercased text needs a preposition below
    if with_year:
        return True
    if with_day and word not in ("may", "march", "mar"):
        return True
    return bool(before) and (before[0] in _EN_SAFE_PREPS or before[0] in ("the", "on", "to", "between"))


def _year_ok(text: str, start: int, end: int) -> bool:
    """A four-digit number is a year unless the words around say it counts or labels something."""
    after = _words_after(text, end, 1)
    if after and after[0] in _COUNT_NOUNS:
        return False
    before = _words_before(text, start, 1)
    if before and (before[0] in _NUMBER_LABELS or before[0].isdigit()):
        return False  # "flight 2011", "3 2000" (a spaced thousands group)
    return text[max(0, start - 1):start] not in ("#", "$", "£", "€", "-", "/", ".", ",", ":")


def _back(lex: Lexicon, name: str, low: str, pos: int, reach: int = 40) -> int | None:
    """Where a prefix such as a weekday or "the end of" ending at ``pos`` starts, if there is one."""
    m = lex.before[name].search(low, max(0, pos - reach), pos)
    return m.start() if m else None


def _calendar(name: str, m: re.Match[str], low: str, text: str, lex: Lexicon) -> Candidate | None:
    g = m.groupdict()
    word = (g.get("m") or "").rstrip(".").strip()
    month = lex.months.get(word) if word else None
    if word and month is None:
        return None
    day = int(g["d"]) if g.get("d") else None
    year = int(g["y"]) if g.get("y") else None
    if word and not _month_ok(text, m.start("m"), word, day is not None, year is not None, lex):
        return None
    start, direction = m.start(), 0
    if name in ("md", "dm"):
        wd = _back(lex, "wd", low, start, 16)
        start = start if wd is None else wd
    elif name in ("my", "m") and lex.english:
        mod = _back(lex, "mod", low, start)
        pre = _words_before(low, start if mod is None else mod, 1)
        if name == "m":
            if mod is None and not (pre and pre[0] in _EN_MONTH_PREPS
                                    and (word not in ("may", "march") or pre[0] in _EN_SAFE_PREPS)):
                return None
            direction = {"last": -1, "next": 1}.get(pre[0] if pre else "", 0)
            if direction:
                start = low.rfind(pre[0], 0, start)
        start = start if mod is None else mod
    core = " ".join(str(x) for x in (day, word, year) if x is not None)
    return Candidate(start, m.end(), "date", day, month, year, core, direction)


def _numeric(name: str, m: re.Match[str], text: str, lex: Lexicon) -> Candidate | None:
    g = m.groupdict()
    if name in ("iso", "cjk"):
        if not g.get("d"):
            return Candidate(m.start(), m.end(), "date", None, int(g["mo"]), int(g["y"]), f"{g['y']}-{int(g['mo']):02d}")
        return Candidate(m.start(), m.end(), "date", int(g["d"]), int(g["mo"]), int(g["y"]),
                         f"{g['y']}-{int(g['mo']):02d}-{int(g['d']):02d}")
    if name == "num":
        a, b = int(g["a"]), int(g["b"])
        month, day = (a, b) if lex.date_order.startswith("M") else (b, a)
        if month > 12 and day <= 12:
            month, day = day, month
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None
        return Candidate(m.start(), m.end(), "date", day, month, int(g["y"]),
                         f"{g['y']}-{month:02d}-{day:02d}")
    if not _year_ok(text, m.start(), m.end()):
        return None
    return Candidate(m.start(), m.end(), "date", None, None, int(g["y"]), g["y"])


def _at(lex: Lexicon, low: str, text: str, t: re.Match[str]) -> Iterator[Candidate]:
    """Every candidate that can start at trigger ``t``."""
    pos, kind = t.start(), t.lastgroup
    if kind == "mon":
        for name in ("md", "my", "m"):
            m = lex.at[name].match(low, pos)
            if m and (c := _calendar(name, m, low, text, lex)):
                yield c
    elif kind == "dig":
        m = lex.at["dm"].match(low, pos)
        if m and (c := _calendar("dm", m, low, text, lex)):
            yield c
        for name in ("iso", "num", "cjk", "year"):
            m = lex.at[name].match(low, pos)
            if m and (c := _numeric(name, m, text, lex)):
                yield c
    elif kind == "rel":
        core = " ".join(t.group("rel").split())
        yield Candidate(pos, t.end(), "relative", core=core, unit=lex.relative_units.get(core, "day"))
    elif kind == "dir":
        m = lex.at["reldir"].match(low, pos)
        if m:
            unit = m.group("u")
            direction = {"last": -1, "past": -1, "next": 1, "coming": 1}.get(m.group("dir"), 0)
            core = " ".join(m.group(0).split()).replace("past ", "last ").replace("coming ", "next ")
            if unit in ("month", "year") and m.group("dir") in ("past", "coming"):
                return  # "the past year" is the last twelve months, not a calendar year
            if unit in ("month", "year"):
                yield Candidate(pos, m.end(), "relative", core=core, direction=direction, unit=unit)
            else:
                yield Candidate(pos, m.end(), "weekday", core=core, direction=direction, unit="day")
    elif kind == "wd" and not t.group("pl"):  # "on mondays" is a habit, not a date
        yield Candidate(pos, t.end(), "weekday", core=t.group("wd"), unit="day")
    elif kind == "ago":
        m = lex.before["ago"].search(low, max(0, pos - 30), pos)
        if m:
            n = m.group("n")
            count = int(n) if n.isdigit() else _NUMBER_WORDS[n]
            unit = m.group("u").rstrip("s")
            yield Candidate(m.start(), t.end(), "relative", core=f"{count} {unit} ago", direction=-1, unit=unit)


def _lower(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)  # keep offsets ("İ")


def find_candidates(text: str, lex: Lexicon) -> list[Candidate]:
    """Non-overlapping candidate spans in reading order; where two overlap the one with more date parts
    (then the longer) wins, so "tuesday, january 14, 2020" is one day rather than a weekday and a year."""
    text = text[:MAX_SCAN_CHARS]
    low = _lower(text)
    raw = [c for t in lex.trigger.finditer(low) for c in _at(lex, low, text, t)]
    cands = sorted(raw, key=lambda c: (-c.rank, -(c.end - c.start), c.start))
    taken: list[Candidate] = []
    occupied = bytearray(len(text) + 1)
    for c in cands:
        if any(occupied[c.start:c.end]):
            continue
        taken.append(c)
        occupied[c.start:c.end] = b"\x01" * (c.end - c.start)
    return sorted(taken, key=lambda c: c.start)


_FUTURE = {
    "will", "would", "shall", "ll", "next", "upcoming", "scheduled", "due", "expected", "expects", "plan",
    "plans", "planned", "deadline", "until", "till", "coming", "ahead", "slated", "aims", "aim", "hopes",
    "target", "targets", "set", "could"
}
_PAST = {
    "was", "were", "had", "did", "ago", "last", "earlier", "since", "began", "begun", "killed", "said", "held",
    "took", "happened", "previous", "previously", "former", "died", "occurred", "started", "launched",
    "announced", "reported", "founded", "born"
}


def tense_of(text: str, start: int, end: int) -> int:
    """+1 when the words around a span speak of the future ("will", "deadline"), -1 of the past ("was",
    "ago"), 0 when they say nothing; decides which year a bare month-day falls in."""
    words = _words_before(text, start, 6) + _words_after(text, end, 3)
    score = sum(w in _FUTURE for w in words) - sum(w in _PAST for w in words)
    return (score > 0) - (score < 0)
