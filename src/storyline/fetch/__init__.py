"""Fetching from the web: a guarded HTTP client, one page → Document, and feed watching.

Everything that leaves the machine goes through ``SafeFetcher``: http(s) only, and no loopback, private,
link-local or cloud-metadata address (checked after DNS resolution and again on every redirect) unless the
user said ``--allow-private``; every response is cut at a size limit and every request has a timeout.
"""

from storyline.fetch.safe import FetchError, FetchResult, SafeFetcher, fetch_document

__all__ = ["FetchError", "FetchResult", "SafeFetcher", "fetch_document"]
