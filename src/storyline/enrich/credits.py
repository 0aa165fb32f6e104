"""Names that credit a report rather than act in it: outlets, news agencies, time zones.

"(AP)", "Photograph: Gerald Herbert/AP", "By Peter Bowes, BBC News", "Wikinews' Diego Grez reported", "09:44
UTC": NER labels these names, and they then headed actor lists and story labels and linked unrelated stories
through the wire that carried them. Three rules, no ad-hoc blacklist:

- an outlet: a name equal to a ``source`` field value (the article's own, or any the store holds, compared
  without spaces, dots and a ".com"/"news" tail: "foxnews" is Fox News, "bbc" is BBC News);
- a news agency: the wire services below, which credit copy in every outlet's text;
- a time zone: an abbreviation the IANA time zone database uses (``zoneinfo``: UTC, GMT, BST, EST, ...),
  written in capitals as such codes are.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable

from storyline.enrich.canonical import name_key

__all__ = ["NEWS_AGENCIES", "is_credit", "outlet_keys", "time_zone_codes"]

# Wire services whose names credit copy ("(AP)", "AFP/Getty", "Reuters reported"); each with its spellings.
NEWS_AGENCIES: dict[str, tuple[str, ...]] = {
    "Associated Press": ("AP", "Associated Press", "The Associated Press"),
    "Agence France-Presse": ("AFP", "Agence France-Presse", "Agence France Presse"),
    "Reuters": ("Reuters", "Thomson Reuters"),
    "United Press International": ("UPI", "United Press International"),
    "Deutsche Presse-Agentur": ("dpa", "Deutsche Presse-Agentur"),
    "Press Association": ("Press Association", "PA Media"),
    "EFE": ("EFE", "Agencia EFE"),
    "ANSA": ("ANSA",),
    "Xinhua": ("Xinhua", "Xinhua News Agency"),
    "Kyodo": ("Kyodo", "Kyodo News"),
    "TASS": ("TASS", "ITAR-TASS"),
    "RIA Novosti": ("RIA Novosti",),
    "Anadolu Agency": ("Anadolu Agency",),
    "Yonhap": ("Yonhap",),
    "Europa Press": ("Europa Press",),
}
_AGENCY_KEYS = frozenset(name_key(alias) for aliases in NEWS_AGENCIES.values() for alias in aliases)
_TAIL = re.compile(r"(?:\s*(?:com|co uk|org|net|online|news))+$")


@functools.lru_cache(maxsize=1)
def time_zone_codes() -> frozenset[str]:
    """Alphabetic abbreviations of every IANA zone in winter and summer (about 50: UTC, GMT, BST, CEST, EST...)."""
    import zoneinfo

    codes = {"UTC", "GMT"}  # also where the system carries no time zone database
    for zone in zoneinfo.available_timezones():
        try:
            tz = zoneinfo.ZoneInfo(zone)
        except (OSError, ValueError):
            continue
        for month in (1, 7):
            code = dt.datetime(2020, month, 1, tzinfo=tz).tzname()
            if code and code.isalpha() and len(code) >= 3:
                codes.add(code)
    return frozenset(codes)


def _compact(key: str) -> str:
    return _TAIL.sub("", key).replace(" ", "")


def outlet_keys(sources: Iterable[str | None]) -> frozenset[str]:
    """Compact keys of outlet names ("The Guardian", "guardian", "FoxNews.com" -> "guardian", "foxnews")."""
    keys = set()
    for source in sources:
        key = name_key(re.sub(r"^(?:https?://)?(?:www\.)?", "", source or "", flags=re.I))
        key = _compact(key[4:] if key.startswith("the ") else key)
        if key:
            keys.add(key)
    return frozenset(keys)


def is_credit(name: str, outlets: frozenset[str] = frozenset()) -> bool:
    """Whether ``name`` (a surface or canonical name) is a news agency, a time zone code or one of ``outlets``
    (``outlet_keys``), and so names who reported or when, not who acted."""
    bare = name.strip()
    if bare in time_zone_codes():
        return True
    key = name_key(bare)
    if key.startswith("the "):
        key = key[4:]
    return key in _AGENCY_KEYS or (bool(outlets) and _compact(key) in outlets)
