"""A local news site on 127.0.0.1: an RSS feed with ETag support, article pages, a broken feed, redirects."""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

STORIES = [
    ("2024-03-04", "Flooding closes the Rhine port of Duisburg",
     "Flooding closed the Rhine port of Duisburg on Monday after days of heavy rain across western Germany, "
     "the port authority said. Barges were held at their moorings as the river rose above the shipping mark. "
     "Officials in North Rhine-Westphalia said the water was expected to peak on Tuesday evening."),
    ("2024-03-05", "Rhine floodwater peaks at Duisburg",
     "Floodwater on the Rhine peaked at Duisburg on Tuesday evening, the port authority said, and shipping "
     "is expected to resume later this week. Emergency services in North Rhine-Westphalia evacuated two "
     "riverside streets in the city overnight as a precaution."),
    ("2024-03-07", "Duisburg port reopens after Rhine flood",
     "The Rhine port of Duisburg reopened on Thursday as the floodwater receded, the port authority said. "
     "The first barges left in the morning and officials in North Rhine-Westphalia began to count the cost "
     "of the flooding to riverside businesses."),
]


def page(n: int) -> bytes:
    date, title, text = STORIES[n]
    paragraphs = "".join(f"<p>{s.strip()}.</p>" for s in text.split(". ") if s.strip())
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="article:published_time" content="{date}T09:00:00Z">'
            f'<meta property="og:site_name" content="Rhine Courier"></head><body><article><h1>{title}</h1>'
            f"{paragraphs}</article></body></html>").encode()


class Site:
    def __init__(self) -> None:
        self.items = 2  # how many STORIES the feed lists
        self.hits: Counter[str] = Counter()
        self.stopping = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>{STORIES[i][1]}</title><link>{self.base}/pages/{i}.html</link><guid>story-{i}</guid>"
            f"<pubDate>{STORIES[i][0]}</pubDate><description>{STORIES[i][1]}.</description></item>"
            for i in range(self.items))
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Rhine Courier</title>'
                f"<link>{self.base}/</link><description>news</description>{items}</channel></rss>").encode()

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: bytes = b"", kind: str = "text/html", **headers: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                site.hits[self.path] += 1
                if self.path == "/feed.xml":
                    etag = f'"v{site.items}"'
                    if self.headers.get("If-None-Match") == etag:
                        return self._send(304, ETag=etag)
                    return self._send(200, site.feed(), "application/rss+xml", ETag=etag)
                if self.path == "/down.xml":
                    return self._send(503, b"down for maintenance")
                if self.path == "/malformed.xml":
                    return self._send(200, b"<rss><channel><item><title>unclosed", "application/rss+xml")
                if self.path.startswith("/pages/"):
                    return self._send(200, page(int(self.path.split("/")[-1].split(".")[0])))
                if self.path == "/to-metadata":
                    return self._send(302, Location="http://169.254.169.254/latest/meta-data/")
                if self.path == "/big":
                    return self._send(200, b"x" * 100_000)
                if self.path == "/drip":  # a byte every 0.2 s, each read on time, the whole never done
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    for _ in range(3000):  # bounded: 10 minutes at most, ended sooner by the client leaving
                        if site.stopping.wait(0.2):
                            return
                        try:
                            self.wfile.write(b"x")
                            self.wfile.flush()
                        except OSError:
                            return
                    return
                if self.path == "/badlink.xml":  # one item whose link holds a DEL, one good item
                    items = (f"<item><title>Bad link</title><link>http://93.184.216.34/a\x7fb</link><guid>bad</guid>"
                             f"<description>A short text about the Rhine port of Duisburg.</description></item>"
                             f"<item><title>{STORIES[0][1]}</title><link>{site.base}/pages/0.html</link>"
                             f"<guid>story-0</guid><pubDate>{STORIES[0][0]}</pubDate></item>")
                    return self._send(200, (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Rhine</title>'
                                            f"<link>{site.base}/</link><description>news</description>{items}"
                                            "</channel></rss>").encode(), "application/rss+xml")
                return self._send(404, b"not found")

        return Handler

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    running = Site()
    yield running
    running.close()
