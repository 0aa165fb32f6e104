"""Watching RSS/Atom feeds: conditional polls, backoff, each new item's page fetched and ingested.

A feed is polled with its last ETag / Last-Modified, so an unchanged feed costs one 304 and nothing else.
Items already seen (by id or link, remembered in the store) are never fetched again. A feed that is down or
malformed is reported, retried later with a growing delay, and never stops the others. Feeds are parsed from
bytes that ``SafeFetcher`` fetched: feedparser itself never touches the network.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from xml.sax import SAXException
from pathlib import Path
from typing import Any, Callable, Sequence

from storyline.fetch.safe import FetchError, SafeFetcher, fetch_document
from storyline.model import Document, Rejection

__all__ = ["FeedState", "PollResult", "Watcher", "parse_every", "read_feed_list"]

Submit = Callable[[Sequence[Document | Rejection]], list[dict[str, Any]]]
MAX_SEEN = 5000  # item keys remembered per feed
MAX_BACKOFF = 24 * 3600.0  # a failing feed is still tried at least once a day


def parse_every(text: str) -> float:
    """'30s', '10m', '1h', '1d' or plain seconds → seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text or "")
    if not match:
        raise ValueError(f"--every expects e.g. 30s, 10m, 1h, got {text!r}")
    value = float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    if value <= 0:
        raise ValueError(f"--every must be positive, got {text!r}")
    return value


def read_feed_list(arguments: Sequence[str]) -> list[str]:
    """Feed URLs from the arguments: URLs as they are, OPML files expanded to their xmlUrl outlines."""
    urls: list[str] = []
    for arg in arguments:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", arg):
            urls.append(arg)
            continue
        path = Path(arg)
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as exc:
            raise ValueError(f"{arg}: not a feed URL and not a readable OPML file ({exc})") from None
        found = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
        if not found:
            raise ValueError(f"{arg}: OPML file without any outline xmlUrl")
        urls.extend(found)
    return list(dict.fromkeys(urls))


@dataclasses.dataclass
class FeedState:
    """What is remembered about one feed between polls (and between runs, in the store's state table)."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    seen: list[str] = dataclasses.field(default_factory=list)
    failures: int = 0
    next_poll: float = 0.0
    last_error: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, url: str, raw: str | None) -> "FeedState":
        if not raw:
            return cls(url)
        data = json.loads(raw)
        return cls(**{k: v for k, v in data.items() if k in {f.name for f in dataclasses.fields(cls)}} | {"url": url})


@dataclasses.dataclass
class PollResult:
    url: str
    not_modified: bool = False
    items: int = 0  # entries in the feed
    new: int = 0  # entries not seen before
    pages: int = 0  # pages fetched
    answers: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # ingest answer per new item
    problems: list[str] = dataclasses.field(default_factory=list)
    error: str | None = None  # the feed itself could not be read


def _entry_key(entry: Any) -> str | None:
    return entry.get("id") or entry.get("link") or entry.get("title")


class Watcher:
    """Polls feeds every ``every`` seconds and submits new items (``submit`` answers each, like POST /articles)."""

    def __init__(self, feeds: Sequence[str], every: float, fetcher: SafeFetcher,
                 load_state: Callable[[str], str | None] | None = None,
                 save_state: Callable[[str, str], None] | None = None,
                 report: Callable[[PollResult], None] | None = None) -> None:
        self.every = every
        self.fetcher = fetcher
        self.load_state = load_state
        self.save_state = save_state
        self.report = report
        self.states = {url: FeedState(url) for url in feeds}
        self.attach(load_state, save_state)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def attach(self, load_state: Callable[[str], str | None] | None,
               save_state: Callable[[str, str], None] | None) -> None:
        """Remember feed state (ETag, seen items, backoff) through these, and pick up what was remembered."""
        self.load_state, self.save_state = load_state, save_state
        if load_state:
            self.states = {url: FeedState.from_json(url, load_state(f"feed:{url}")) for url in self.states}

    # --- one feed ----------------------------------------------------------------------------
    def poll(self, url: str, submit: Submit) -> PollResult:
        """Poll one feed now; never raises (a failure is in the result and delays the next poll)."""
        import feedparser

        state = self.states[url]
        result = PollResult(url)
        try:
            fetched = self.fetcher.get(url, etag=state.etag, last_modified=state.last_modified)
            if fetched.not_modified:
                result.not_modified = True
            else:
                feed = feedparser.parse(fetched.content)
                if feed.bozo and (not feed.entries or isinstance(feed.get("bozo_exception"), SAXException)):
                    # broken XML: feedparser's loose guesses are not trusted; the feed is retried later
                    raise FetchError(f"{url}: malformed feed ({feed.get('bozo_exception', 'unparseable')})")
                result.items = len(feed.entries)
                self._take_new(state, feed, result, submit)
                state.etag, state.last_modified = fetched.etag, fetched.last_modified
            state.failures, state.last_error = 0, None
            state.next_poll = time.time() + self.every
        except Exception as exc:  # noqa: BLE001 - one feed's failure never stops the others
            state.failures += 1
            state.last_error = result.error = str(exc)
            state.next_poll = time.time() + min(self.every * 2 ** state.failures, MAX_BACKOFF)
        if self.save_state:
            self.save_state(f"feed:{url}", state.to_json())
        if self.report:
            self.report(result)
        return result

    def _take_new(self, state: FeedState, feed: Any, result: PollResult, submit: Submit) -> None:
        seen = set(state.seen)
        site = feed.feed.get("title") if hasattr(feed, "feed") else None
        fresh = [e for e in feed.entries if (_entry_key(e) or "") not in seen and _entry_key(e)]
        result.new = len(fresh)
        documents: list[Document | Rejection] = []
        for entry in fresh:
            documents.append(self._document(entry, site, state.url, result))
        if documents:
            result.answers = submit(documents)
        for entry in fresh:
            state.seen.append(_entry_key(entry))
        state.seen = state.seen[-MAX_SEEN:]

    def _document(self, entry: Any, site: str | None, feed_url: str, result: PollResult) -> Document | Rejection:
        """The item's page through trafilatura; the feed's own text when the page cannot be had."""
        link = entry.get("link")
        page: Document | Rejection = Rejection(feed_url, "the item has no link")
        if link:
            page = fetch_document(link, self.fetcher)
            result.pages += 1
        if isinstance(page, Document):
            page.title = page.title or entry.get("title")
            page.source = site or page.source
            page.source_id = _entry_key(entry)
            if not page.published and (entry.get("published") or entry.get("updated")):
                from storyline.model import DateProvenance

                page.published = entry.get("published") or entry.get("updated")
                page.published_provenance = DateProvenance.METADATA
            return page
        result.problems.append(page.reason)
        summary = " ".join(p.get("value", "") for p in entry.get("content", [])) or entry.get("summary", "")
        text = re.sub(r"<[^>]+>", " ", summary).strip()
        if not text:
            return Rejection(link or feed_url, f"page not fetched ({page.reason}) and the feed item has no text")
        return Document(text=text, origin=link or feed_url, title=entry.get("title"), source=site, url=link,
                        source_id=_entry_key(entry), published=entry.get("published") or entry.get("updated"))

    # --- all feeds ---------------------------------------------------------------------------
    def poll_due(self, submit: Submit, now: float | None = None) -> list[PollResult]:
        """Poll every feed whose time has come (all of them on the first call)."""
        now = time.time() if now is None else now
        return [self.poll(url, submit) for url, state in self.states.items() if state.next_poll <= now]

    def run(self, submit: Submit, rounds: int | None = None) -> None:
        """Poll until stopped (or for ``rounds`` rounds), sleeping until the next feed is due."""
        done = 0
        while not self._stop.is_set() and (rounds is None or done < rounds):
            self.poll_due(submit)
            done += 1
            if rounds is not None and done >= rounds:
                break
            wait = max(1.0, min(s.next_poll for s in self.states.values()) - time.time()) if self.states else self.every
            self._stop.wait(wait)

    def start(self, submit: Submit) -> None:
        """Poll in a background thread (``storyline serve --watch``)."""
        self._thread = threading.Thread(target=self.run, args=(submit,), name="storyline-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
