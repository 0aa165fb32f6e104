"""What keeps the server safe to expose: body limits, the write token, safe links, response headers, and
what never leaves the server (file paths, characters XML cannot carry)."""

from __future__ import annotations

import hmac
import re
from typing import Any

from storyline.tell.report import safe_href

__all__ = ["BodyLimit", "HeadAsGet", "safe_href", "token_ok", "SECURITY_HEADERS", "public_origin", "public", "xml_text"]

# pages load only their own vendored CSS/JS; nothing from elsewhere, no inline script, no framing
SECURITY_HEADERS = {
    "content-security-policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_LOCATOR = re.compile(r"(?::\d+|\[\d+\]|#\d+)$")  # a line, record or row number after the file (ingest's origins)
# XML 1.0 allows tab, newline, carriage return and U+0020 up, less surrogates and U+FFFE/U+FFFF
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def token_ok(configured: str | None, authorization: str | None) -> bool:
    """A ``Bearer`` header that matches the configured token (constant-time compare)."""
    if not configured or not authorization:
        return False
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), configured.encode())


def public_origin(origin: Any) -> Any:
    """Where an article came from, without the server's directories: a file's name (and its line/record
    number), a URL or an ``api:`` id as stored. The CLI keeps full paths; the HTTP API and pages show this."""
    if not isinstance(origin, str) or _URL.match(origin) or origin.startswith("api:"):
        return origin
    locator = _LOCATOR.search(origin)
    path = origin[: locator.start()] if locator else origin
    name = re.split(r"[\\/]", path.rstrip("\\/"))[-1] or path
    return name + (locator.group(0) if locator else "")


def public(data: Any) -> Any:
    """``data`` (JSON-ready) with every ``origin`` value made public (see ``public_origin``)."""
    if isinstance(data, dict):
        return {k: public_origin(v) if k == "origin" else public(v) for k, v in data.items()}
    if isinstance(data, list):
        return [public(v) for v in data]
    return data


def xml_text(value: Any) -> str:
    """``value`` as text XML 1.0 can carry: control characters, lone surrogates and U+FFFE/U+FFFF become
    U+FFFD (a feed URL or a stored field may hold them; one of them makes a whole feed unreadable)."""
    return _NOT_XML.sub("\ufffd", "" if value is None else str(value))


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is answered 413, declared or chunked.

    A body without a Content-Length (chunked) is read here, up to the limit, before the app sees it: a
    limit enforced while the app reads would surface inside the framework's body parsing as a 400.
    """

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.limit:
                await _too_large(send, self.limit)
                return
            await self.app(scope, receive, send)
            return
        chunks, seen, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await _too_large(send, self.limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Any, limit: int) -> None:
    body = f'{{"detail":"request body over {limit} bytes: send at most {limit} bytes (fewer or smaller articles)"}}'.encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class HeadAsGet:
    """ASGI middleware: ``HEAD`` is answered as ``GET`` without the body (RFC 9110), for every page, feed
    and API read, so link checkers and monitors get the real status and headers, not 405."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: dict) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
