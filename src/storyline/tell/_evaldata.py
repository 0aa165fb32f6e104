"""Readers for the evaluation corpora, turning their records into enriched Articles.

Enrichment goes through the same stage functions the pipeline uses (normalize's sentence
restoration, enrich's date resolution), so the figures measure what users get.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

from storyline.model import Article, DateProvenance, Document
from storyline.normalize.clean import EmptyArticle, clean, language_code

Enricher = Callable[[list[Article]], None]  # fills sentences and dates of the articles in place

_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def default_enricher() -> Enricher:
    """The pipeline's own sentence and date stages; fails with the missing module named."""
    try:
        from storyline.enrich.dates import enrich_dates
        from storyline.normalize.restore import restore_batch
    except ImportError as exc:  # pragma: no cover - depends on sibling stages being present
        raise RuntimeError(
            f"evaluation needs storyline.normalize.restore and storyline.enrich.dates ({exc}); "
            "pass enrich=... to use another sentence/date enricher"
        ) from exc

    def enrich(articles: list[Article]) -> None:
        restore_batch(articles)
        for art in articles:
            enrich_dates(art)

    return enrich


def make_article(uid: str, text: str, origin: str, published: str | None, language: str = "en",
                 source: str | None = None, title: str | None = None) -> Article | None:
    """The Article ``track`` would make of this record: through ``normalize.clean``, as ingest does.

    None for a record ingest would reject as empty (Timeline17 holds some articles without text).
    """
    document = Document(text=text, origin=origin, title=title, source=source, source_id=uid,
                        published=published[:10] if published else None,
                        published_provenance=DateProvenance.METADATA, language=language)
    try:
        return clean(document, now=_EPOCH)
    except EmptyArticle:
        return None


def timeline17_topics(root: str) -> list[str]:
    if not os.path.isdir(root):
        raise FileNotFoundError(f"timeline directory {root!r} not found (expected Timeline17 layout: "
                                "TOPIC/articles.json + TOPIC/*.timeline.json)")
    return sorted(d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, "articles.json")))


def load_topic(root: str, topic: str, enrich: Enricher) -> list[Article]:
    path = os.path.join(root, topic, "articles.json")
    with open(path, encoding="utf-8") as fh:
        records = json.load(fh)
    made = (make_article(str(r["uid"]), r["text"], f"{path}#{r['uid']}", r.get("dct")) for r in records)
    arts = [a for a in made if a is not None]
    enrich(arts)
    return arts


def reference_timelines(root: str, topic: str) -> Iterator[tuple[str, dict[dt.date, list[str]]]]:
    for path in sorted(glob.glob(os.path.join(root, topic, "*.timeline.json"))):
        with open(path, encoding="utf-8") as fh:
            items = json.load(fh)
        tl: dict[dt.date, list[str]] = {}
        for item in items:
            text = item["text"]
            sents = text if isinstance(text, list) else [s for s in re.split(r"\s{2,}", text) if s.strip()]
            tl.setdefault(dt.date.fromisoformat(item["date"][:10]), []).extend(s.strip() for s in sents)
        yield os.path.basename(path), tl


def read_clusters(path: str) -> list[dict[str, Any]]:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"cluster file {path!r} not found (expected DUC-style JSONL)")
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def cluster_language(cluster: dict[str, Any]) -> str:
    return language_code(cluster.get("language")) or "en"


def cluster_articles(cluster: dict[str, Any], enrich: Enricher) -> list[Article]:
    lang = cluster_language(cluster)
    made = (make_article(f"{cluster['cluster_id']}/{d['doc_id']}", d["text"], f"{cluster['cluster_id']}#{d['doc_id']}",
                         d.get("date"), lang, d.get("source"), d.get("headline")) for d in cluster["docs"])
    out = [a for a in made if a is not None]
    enrich(out)
    return out
