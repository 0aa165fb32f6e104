"""A guarded HTTP client (httpx): scheme and address checks on every hop, timeouts, size limits.

Why so careful: URLs come from feeds and API callers, i.e. from strangers. Without these checks a feed
item pointing at ``http://169.254.169.254/`` or ``http://localhost:6379/`` would make Storyline read the
cloud metadata service or a local database and store the answer as an article (SSRF).

Known limit: httpx resolves the name again when it connects, so a DNS answer that changes between the
check and the connection (rebinding within the TTL) is not caught; the checked addresses are logged.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import socket
import time
from typing import Callable
from urllib.parse import urljoin, urlsplit

import httpx

from storyline.model import Document, Rejection

__all__ = ["FetchError", "FetchResult", "SafeFetcher", "fetch_document", "MAX_BYTES", "TIMEOUT"]

MAX_BYTES = 5 * 1024 * 1024  # one page or feed
TIMEOUT = 15.0  # seconds, connect and each read
TOTAL_TIMEOUT = 60.0  # seconds for a whole response, redirects included: a page dripping bytes is cut off here
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # no URL carries these raw; httpx dies on them
MAX_REDIRECTS = 5
USER_AGENT = "Storyline/0.1 (+https://github.com/storyline; news story tracker)"
METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}

Resolver = Callable[[str, int], list[str]]


class FetchError(Exception):
    """A URL that was refused or could not be fetched; the message names the URL and why."""


@dataclasses.dataclass(frozen=True)
class FetchResult:
    url: str  # after redirects
    status: int
    content: bytes
    content_type: str
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def _refused(address: str) -> str | None:
    """Why this address must not be fetched, or None when it is a public (global) address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for label, test in (("loopback", ip.is_loopback), ("link-local (cloud metadata)", ip.is_link_local),
                        ("private", ip.is_private), ("multicast", ip.is_multicast),
                        ("unspecified", ip.is_unspecified), ("reserved", ip.is_reserved)):
        if test:
            return label
    if not ip.is_global:
        return "not a public address"
    return None


class SafeFetcher:
    """GET with every hop checked: http(s) only, public addresses only (unless ``allow_private``)."""

    def __init__(self, *, allow_private: bool = False, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES,
                 resolver: Resolver | None = None, client: httpx.Client | None = None,
                 total_timeout: float = TOTAL_TIMEOUT) -> None:
        self.allow_private = allow_private
        self.max_bytes = max_bytes
        self.total_timeout = total_timeout
        self.resolver = resolver or _resolve
        self.client = client or httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False,
                                             headers={"User-Agent": USER_AGENT})

    def check(self, url: str) -> None:
        """Raise FetchError unless ``url`` may be fetched (scheme, then every address its host resolves to)."""
        bad = _CONTROL.search(url)
        if bad:
            raise FetchError(f"{url!r}: not a valid URL (a control character, "
                             f"{bad.group()!r}, at position {bad.start()})")
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError as exc:
            raise FetchError(f"{url}: not a valid URL ({exc})") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(f"{url}: only http and https URLs are fetched, not {scheme or 'a relative URL'}:")
        if not host:
            raise FetchError(f"{url}: no host in the URL")
        if self.allow_private:
            return
        if host.lower().rstrip(".") in METADATA_HOSTS:
            raise FetchError(f"{url}: refused, {host} is a cloud metadata service (use --allow-private to override)")
        try:
            addresses = self.resolver(host, port or (443 if scheme == "https" else 80))
        except (OSError, UnicodeError) as exc:
            raise FetchError(f"{url}: cannot resolve {host} ({exc})") from None
        if not addresses:
            raise FetchError(f"{url}: {host} has no address")
        for address in addresses:
            why = _refused(address)
            if why:
                raise FetchError(f"{url}: refused, {host} is {address}, a {why} address "
                                 "(use --allow-private to fetch from your own network)")

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET ``url`` (conditional when ``etag``/``last_modified`` are given), following checked redirects."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        deadline = time.monotonic() + self.total_timeout
        for _ in range(MAX_REDIRECTS + 1):
            self.check(current)
            try:
                with self.client.stream("GET", current, headers=headers) as response:
                    if response.status_code == 304:
                        return FetchResult(current, 304, b"", "", etag, last_modified)
                    if response.status_code in (301, 302, 303, 307, 308):
                        target = response.headers.get("location")
                        if not target:
                            raise FetchError(f"{current}: redirect without a Location")
                        current = urljoin(current, target)
                        continue
                    if response.status_code >= 400:
                        raise FetchError(f"{current}: HTTP {response.status_code}")
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > self.max_bytes:
                        raise FetchError(f"{current}: {declared} bytes, over the {self.max_bytes}-byte limit")
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body.extend(chunk)
                        if len(body) > self.max_bytes:
                            raise FetchError(f"{current}: over the {self.max_bytes}-byte limit")
                        if time.monotonic() > deadline:  # each read has its own timeout; the whole has this
                            raise FetchError(f"{current}: not received within {self.total_timeout:g} s "
                                             f"({len(body)} bytes so far); given up")
                    return FetchResult(current, response.status_code, bytes(body),
                                       response.headers.get("content-type", ""), response.headers.get("etag"),
                                       response.headers.get("last-modified"))
            except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as exc:  # InvalidURL is no HTTPError; idna raises UnicodeError
                raise FetchError(f"{current}: {type(exc).__name__}: {exc}") from None
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def close(self) -> None:
        self.client.close()


def fetch_document(url: str, fetcher: SafeFetcher) -> Document | Rejection:
    """One web page → a Document (trafilatura: main text, title, date, site), or a Rejection saying why."""
    from storyline.ingest.decode import decode_bytes
    from storyline.ingest.fields import FieldMap
    from storyline.ingest.formats import read_html

    try:
        result = fetcher.get(url)
        text, _ = decode_bytes(result.content)
    except FetchError as exc:
        return Rejection(url, str(exc))
    except ValueError as exc:  # undecodable bytes
        return Rejection(url, f"cannot decode the page: {exc}")
    item = next(iter(read_html(text, url, FieldMap())), Rejection(url, "no article text found in the page"))
    if isinstance(item, Document):
        item.url = item.url if item.url and item.url.startswith(("http://", "https://")) else result.url
    return item
