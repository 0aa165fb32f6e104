"""One reader per input format; each turns decoded text into Documents or Rejections.

Readers never raise for bad records: a malformed JSON line or CSV row becomes a Rejection naming the
line, and the rest of the file goes on.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from typing import Any, Callable, Iterator, Mapping

from storyline.ingest.fields import FieldMap
from storyline.model import DateProvenance, Document, Rejection

__all__ = ["READERS", "record_to_document", "read_txt", "read_html", "read_json", "read_jsonl", "read_jsonl_line", "read_csv",
           "read_feed", "sniff_format"]

Item = Document | Rejection
Reader = Callable[[str, str, FieldMap], Iterator[Item]]

_FILE_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)")


def date_from_name(name: str) -> str | None:
    """A YYYY-MM-DD (or YYYYMMDD) date in a file name, e.g. ``2020-01-16_kabul.txt``."""
    match = _FILE_DATE.search(name)
    return "-".join(match.groups()) if match else None


def read_txt(text: str, origin: str, fields: FieldMap) -> Iterator[Item]:
    if not text.strip():
        yield Rejection(origin, "empty file")
        return
    name = origin.rsplit("/", 1)[-1]
    published = date_from_name(name)
    yield Document(
        text=text,
        origin=origin,
        published=published,
        published_provenance=DateProvenance.FILE_NAME if published else DateProvenance.UNDATED,
    )


# A start tag of more than this many characters is cut to its name: one tag with 50,000 attributes cost
# trafilatura 108 s; real pages' longest tags (inline SVG paths, data-URIs in src) stay far below.
_LONG_TAG = re.compile(r"<([A-Za-z][\w:-]{0,64})[^<>]{8192,}>")


def read_html(text: str, origin: str, fields: FieldMap) -> Iterator[Item]:
    import trafilatura

    text = _LONG_TAG.sub(r"<\1>", text)
    extracted = trafilatura.bare_extraction(
        text, with_metadata=True, include_comments=False, favor_precision=True, deduplicate=False
    )
    if extracted is None:
        yield Rejection(origin, "no article text found in the HTML page")
        return
    data = extracted.as_dict() if hasattr(extracted, "as_dict") else dict(extracted)
    body = (data.get("text") or "").strip()
    if not body:
        yield Rejection(origin, "no article text found in the HTML page")
        return
    yield Document(
        text=body,
        origin=origin,
        title=data.get("title") or None,
        source=data.get("sitename") or data.get("hostname") or None,
        url=data.get("url") or None,
        published=data.get("date") or None,
        published_provenance=DateProvenance.HTML,
        language=data.get("language") or None,
        author=data.get("author") or None,
    )


_TEXT_KEYS = ("rendered", "text", "value", "#text", "name", "raw")


def _text_of(value: Mapping) -> str | None:
    """The text inside an object such as WordPress's ``{"rendered": "…"}``."""
    return next((value[key] for key in _TEXT_KEYS if isinstance(value.get(key), str)), None)


def _scalar(value: Any) -> str | None:
    """A field's value as text. Objects such as WordPress's ``{"rendered": "…"}`` give their one text;
    any other object or a boolean gives None rather than its Python repr."""
    if isinstance(value, Mapping):
        for key in _TEXT_KEYS:
            if isinstance(value.get(key), (str, int, float)) and not isinstance(value.get(key), bool):
                return str(value[key])
        return None
    if value is None or isinstance(value, bool) or isinstance(value, (list, tuple)):
        return None
    return str(value)


def record_to_document(record: Any, origin: str, fields: FieldMap) -> Item:
    if not isinstance(record, Mapping):
        return Rejection(origin, f"expected a JSON object, got {type(record).__name__}")
    raw = fields.pick(record, "text")
    text = raw if isinstance(raw, str) else _text_of(raw) if isinstance(raw, Mapping) else None  # a number is no text
    if text is not None and "<" in text and isinstance(raw, Mapping):
        text = _html_to_text(text)  # {"rendered": "<p>…</p>"}
    if not isinstance(text, str) or not text.strip():
        known = ", ".join(fields.names["text"])
        return Rejection(origin, f"no text field (looked for: {known}; map yours with --field text=NAME)")

    def opt(field: str) -> str | None:
        value = _scalar(fields.pick(record, field))
        return value if value is None or value.strip() else None

    return Document(
        text=text,
        origin=origin,
        title=opt("title"),
        source=opt("source"),
        url=opt("url"),
        source_id=opt("id"),
        published=opt("published"),
        published_provenance=DateProvenance.METADATA,
        language=opt("language"),
        author=opt("author"),
    )


def _json_problem(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno} column {exc.colno}: {exc.msg}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)  # e.g. an integer of more than 4,300 digits


def read_json(text: str, origin: str, fields: FieldMap) -> Iterator[Item]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        yield Rejection(origin, f"malformed JSON at {_json_problem(exc)}")
        return
    if isinstance(data, Mapping):
        for key in ("articles", "items", "docs", "data", "results"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    records = data if isinstance(data, list) else [data]
    for number, record in enumerate(records, 1):
        yield record_to_document(record, f"{origin}[{number}]" if len(records) > 1 else origin, fields)


def read_jsonl(text: str, origin: str, fields: FieldMap) -> Iterator[Item]:
    for number, line in enumerate(text.splitlines(), 1):
        item = read_jsonl_line(line, origin, number, fields)
        if item is not None:
            yield item


def read_jsonl_line(line: str, origin: str, number: int, fields: FieldMap) -> Item | None:
    """Line ``number`` of JSONL file ``origin`` as a Document or a Rejection; None for a blank line.
    Shared by the whole-text reader above and the line-by-line stream in ``ingest``, so a line reads the
    same whichever way its file was read."""
    if not line.strip():
        return None
    where = f"{origin}:{number}"
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:
        return Rejection(where, f"malformed JSON line ({_json_problem(exc)})")
    return record_to_document(record, where, fields)


def read_csv(text: str, origin: str, fields: FieldMap) -> Iterator[Item]:
    csv.field_size_limit(64 * 1024 * 1024)
    sample = text[:4096]
    try:  # only the delimiter is sniffed: the Sniffer's quoting guesses on a few rows are often wrong
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=csv.excel, delimiter=delimiter)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        yield Rejection(f"{origin}:1", f"malformed CSV header: {exc}")
        return
    if not header:
        yield Rejection(origin, "CSV file has no header row")
        return
    rows = 0
    try:
        for row in reader:
            where = f"{origin}:{reader.line_num}"
            rows += 1
            if None in row:  # more cells than header names
                yield Rejection(where, f"CSV row has {len(reader.fieldnames) + len(row[None])} cells, header has {len(reader.fieldnames)}")
                continue
            yield record_to_document(row, where, fields)
    except csv.Error as exc:
        yield Rejection(f"{origin}:{reader.line_num}", f"malformed CSV: {exc}")
        return
    if rows == 0:
        yield Rejection(origin, "CSV file has a header row and no rows")


def read_feed(text: str, origin: str, fields: FieldMap) -> Iterator[Item]:
    import feedparser

    # the text is decoded already: an encoding="UTF-16" declaration would make the parser decode it again
    feed = feedparser.parse(_XML_ENCODING.sub(r"\1", text, count=1))
    if feed.bozo and not feed.entries:
        yield Rejection(origin, f"malformed feed: {feed.get('bozo_exception', 'unparseable')}")
        return
    if not feed.entries:
        kind = "a feed with no items" if feed.get("version") else "not an RSS, Atom or RDF feed"
        yield Rejection(origin, f"{kind}; nothing to read")
        return
    site = _feed_text(feed.feed, "title") if hasattr(feed, "feed") else None
    for number, entry in enumerate(feed.entries, 1):
        where = f"{origin}#{number}"
        parts = entry.get("content") or ([entry["summary_detail"]] if entry.get("summary_detail") else [])
        body = " ".join(_detail_text(part) for part in parts) or entry.get("summary", "")
        if not body.strip():
            yield Rejection(where, "feed entry has no text")
            continue
        yield Document(
            text=body,
            origin=where,
            title=_feed_text(entry, "title"),
            source=site,
            url=entry.get("link"),
            source_id=entry.get("id"),
            published=entry.get("published") or entry.get("updated"),
            published_provenance=DateProvenance.METADATA,
            author=entry.get("author"),
        )


_TAG = re.compile(r"<[A-Za-z/!?]")
_XML_ENCODING = re.compile(r"\A(\s*<\?xml[^>]*?)\s+encoding\s*=\s*[\"'][^\"']*[\"']")


def _html_to_text(markup: str) -> str:
    """Text of an HTML fragment, entities decoded once (feeds carry HTML-escaped text: AT&amp;T)."""
    if _TAG.search(markup):
        import trafilatura

        extracted = trafilatura.extract(_LONG_TAG.sub(r"<\1>", markup))
        if extracted:
            return extracted
        markup = re.sub(r"<[^>]*>", " ", markup)
    return html.unescape(markup)


def _detail_text(detail: Mapping) -> str:
    value = detail.get("value", "") or ""
    return _html_to_text(value) if "html" in (detail.get("type") or "") else value


def _feed_text(record: Mapping, field: str) -> str | None:
    detail = record.get(f"{field}_detail")
    value = _detail_text(detail) if detail else record.get(field)
    return value or None


def sniff_format(text: str) -> str:
    """Guess a format from content, for stdin and extension-less input."""
    head = text.lstrip()[:512].lower()
    if head.startswith("{"):
        first = text.lstrip().split("\n", 1)[0]
        try:
            json.loads(first)
            return "jsonl"
        except (ValueError, RecursionError):
            return "json"
    if head.startswith("["):
        return "json"
    if head.startswith("<?xml") and ("<rss" in head or "<feed" in head) or head.startswith(("<rss", "<feed")):
        return "feed"
    if head.startswith(("<!doctype html", "<html")):
        return "html"
    return "txt"


READERS: dict[str, Reader] = {
    "txt": read_txt,
    "html": read_html,
    "json": read_json,
    "jsonl": read_jsonl,
    "csv": read_csv,
    "feed": read_feed,
}
