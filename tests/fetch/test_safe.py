"""The fetcher refuses what it must (schemes, private addresses, redirects there) and limits what it reads."""

from __future__ import annotations

import httpx
import pytest

from storyline.fetch import FetchError, SafeFetcher, fetch_document
from storyline.model import Document, Rejection


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)", "gopher://x",
    "http://127.0.0.1/", "http://127.0.0.1:8000/admin", "http://localhost/", "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://10.0.0.8/", "http://192.168.1.1/", "http://172.16.0.1/",
    "http://0.0.0.0/", "http://100.100.100.200/", "http://[fd00:ec2::254]/", "http://metadata.google.internal/",
])
def test_refuses_non_http_and_non_public_addresses(url):
    fetcher = SafeFetcher()
    with pytest.raises(FetchError) as refused:
        fetcher.get(url)
    assert url.split("/")[0] in str(refused.value) or "refused" in str(refused.value)


def test_redirect_to_a_private_address_is_refused_at_the_hop():
    """A public page answering 302 → 169.254.169.254: the second hop is checked and never requested."""
    asked: list[str] = []

    def network(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    resolver = {"news.example": ["93.184.216.34"]}
    fetcher = SafeFetcher(client=httpx.Client(transport=httpx.MockTransport(network)),
                          resolver=lambda host, port: resolver.get(host) or [host])
    with pytest.raises(FetchError, match="169.254.169.254.*link-local"):
        fetcher.get("http://news.example/story")
    assert asked == ["http://news.example/story"]


def test_redirect_to_private_on_a_real_local_server(site):
    """With --allow-private the redirect is followed; the default refuses the local server outright."""
    with pytest.raises(FetchError, match="loopback"):
        SafeFetcher().get(f"{site.base}/to-metadata")
    assert site.hits[f"/to-metadata"] == 0


def test_size_limit_and_page_to_document(site):
    with pytest.raises(FetchError, match="limit"):
        SafeFetcher(allow_private=True, max_bytes=10_000).get(f"{site.base}/big")
    doc = fetch_document(f"{site.base}/pages/0.html", SafeFetcher(allow_private=True))
    assert isinstance(doc, Document) and "Duisburg" in doc.text and doc.title.startswith("Flooding")
    assert doc.url == f"{site.base}/pages/0.html" and doc.published and doc.published.startswith("2024-03-04")
    refused = fetch_document(f"{site.base}/pages/0.html", SafeFetcher())
    assert isinstance(refused, Rejection) and "loopback" in refused.reason
    missing = fetch_document(f"{site.base}/nope", SafeFetcher(allow_private=True))
    assert isinstance(missing, Rejection) and "404" in missing.reason
