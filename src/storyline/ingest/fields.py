"""Which field of a JSON object or CSV row holds which part of an article.

Sources name their fields differently (``headline`` vs ``title``, ``dct`` vs ``published``); the defaults
cover the common names and ``--field text=body`` overrides one of them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

__all__ = ["FieldMap", "DEFAULT_FIELDS", "parse_field_options"]

DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "doc_id", "uid", "guid", "article_id"),
    "title": ("title", "headline", "heading"),
    "text": ("text", "body", "content", "article", "maintext", "story"),
    "published": ("published", "date", "dct", "pubdate", "published_at", "publish_date", "datetime", "time"),
    "source": ("source", "outlet", "site", "sitename", "publisher", "domain"),
    "url": ("url", "link", "href"),
    "language": ("language", "lang"),
    "author": ("author", "authors", "byline"),
}


@dataclasses.dataclass(frozen=True, slots=True)
class FieldMap:
    """Candidate names for each article field, tried in order (case-insensitive)."""

    names: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=lambda: dict(DEFAULT_FIELDS))

    def pick(self, record: Mapping[str, Any], field: str) -> Any:
        lowered = {str(k).lower(): v for k, v in record.items()}
        for name in self.names.get(field, ()):
            value = lowered.get(name.lower())
            if value not in (None, ""):
                if isinstance(value, list):  # authors lists, multi-valued CSV cells
                    value = ", ".join(str(v) for v in value if v)
                return value
        return None

    def with_overrides(self, overrides: Mapping[str, str]) -> "FieldMap":
        names = dict(self.names)
        for field, name in overrides.items():
            if field not in DEFAULT_FIELDS:
                raise ValueError(f"unknown field {field!r} in --field; known: {', '.join(DEFAULT_FIELDS)}")
            names[field] = (name,)
        return FieldMap(names)


def parse_field_options(options: list[str] | None) -> FieldMap:
    """``["text=body", "published=pub_date"]`` → a FieldMap with those names first."""
    overrides: dict[str, str] = {}
    for option in options or []:
        field, sep, name = option.partition("=")
        if not sep or not field.strip() or not name.strip():
            raise ValueError(f"--field expects FIELD=NAME (e.g. text=body), got {option!r}")
        overrides[field.strip()] = name.strip()
    return FieldMap().with_overrides(overrides)
