"""Readers for the labelled sets in ``../shared/eval``: each record becomes the ``Document`` a user would
ingest (its own language when the set says it, else detected as ``track`` detects it).

Nothing here cleans, enriches or places: the evaluations hand these Documents to the pipeline.
"""

from __future__ import annotations

import csv
import datetime as dt
import glob
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from storyline.model import DateProvenance, Document
from storyline.normalize.clean import language_code

__all__ = ["cluster_documents", "cluster_language", "degrade", "load_cluster_documents", "pair_rows",
           "read_clusters", "reference_timelines", "timeline17_topics", "topic_documents", "topic_of"]

_PUNCT = re.compile(r"[^\w\s]|_", re.UNICODE)


def degrade(text: str, date: str | None) -> str:
    """The text the way the seeds arrive: lowercased, punctuation gone, a `` date YYYY-MM-DD `` stamp first."""
    body = " ".join(_PUNCT.sub(" ", text.lower()).split())
    return f" date {date} {body}" if date else body


def load_cluster_documents(
    path: str | os.PathLike, *, degrade_text: bool = False, languages: Iterable[str] | None = None
) -> tuple[list[Document], dict[str, str]]:
    """Documents in arrival order (date, then id) and the gold cluster of each (by ``origin``).

    Handles both shapes in ``../shared/eval``: one cluster per line with ``docs``, or one doc per line
    with ``topic`` (WikiRef220).
    """
    wanted = {language_code(x) or x.lower() for x in languages} if languages else None
    rows: list[tuple[str, str, Document]] = []
    gold: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            docs = record.get("docs")
            if docs is None:  # one document per line
                docs, cluster = [record], record.get("topic") or record.get("cluster_id")
            else:
                cluster = record["cluster_id"]
            lang = language_code(record.get("language"))
            if wanted is not None and (lang or "en") not in wanted:
                continue
            for doc in docs:
                doc_id = str(doc.get("doc_id"))
                origin = f"{Path(path).name}:{number}:{doc_id}"
                date = doc.get("date") or None
                title = doc.get("headline") or doc.get("title") or None
                text = doc.get("text") or ""
                if degrade_text:
                    text = degrade(f"{title}\n{text}" if title and not text.startswith(title) else text, date)
                    document = Document(text=text, origin=origin, language=lang)
                else:
                    document = Document(text=text, origin=origin, title=title, published=date, language=lang)
                document.source_id = doc_id
                rows.append((date or "9999", origin, document))
                gold[origin] = str(cluster)
    rows.sort(key=lambda row: (row[0], row[1]))
    return [row[2] for row in rows], gold


def read_clusters(path: str | os.PathLike) -> list[dict[str, Any]]:
    """DUC/MultiLing-style JSONL: one cluster a line, with ``docs`` and (for summaries) ``summaries``."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"cluster file {str(path)!r} not found (expected DUC-style JSONL)")
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def cluster_language(cluster: dict[str, Any]) -> str:
    return language_code(cluster.get("language")) or "en"


def cluster_documents(cluster: dict[str, Any]) -> list[Document]:
    """A cluster's records as Documents, in the cluster's own language (MultiLing says which)."""
    lang = cluster_language(cluster)
    return [Document(text=d.get("text") or "", origin=f"{cluster['cluster_id']}#{d['doc_id']}",
                     title=d.get("headline") or None, source=d.get("source"),
                     source_id=f"{cluster['cluster_id']}/{d['doc_id']}",
                     published=(d.get("date") or "")[:10] or None,
                     published_provenance=DateProvenance.METADATA, language=lang)
            for d in cluster["docs"]]


def topic_of(name: str) -> str:
    """Timeline17 folders are ``TOPIC_OUTLET`` (``bpoil_bbc``): timelines of one topic share a fold."""
    return name.split("_", 1)[0]


def timeline17_topics(root: str | os.PathLike) -> list[str]:
    if not os.path.isdir(root):
        raise FileNotFoundError(f"timeline directory {str(root)!r} not found (expected Timeline17 layout: "
                                "TOPIC/articles.json + TOPIC/*.timeline.json)")
    return sorted(d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, "articles.json")))


def topic_documents(root: str | os.PathLike, topic: str) -> list[Document]:
    """One Timeline17 folder's articles as Documents (publication date from ``dct``; language detected
    unless the record names one, as in the crisis sets)."""
    path = os.path.join(root, topic, "articles.json")
    with open(path, encoding="utf-8") as fh:
        records = json.load(fh)
    outlet = topic.split("_", 1)[1] if "_" in topic else None
    return [Document(text=r.get("text") or "", origin=f"{path}#{r['uid']}", source=outlet, source_id=str(r["uid"]),
                     published=(r.get("dct") or "")[:10] or None, published_provenance=DateProvenance.METADATA,
                     language=language_code(r.get("language")))
            for r in records]


def reference_timelines(root: str | os.PathLike, topic: str) -> Iterator[tuple[str, dict[dt.date, list[str]]]]:
    for path in sorted(glob.glob(os.path.join(root, topic, "*.timeline.json"))):
        with open(path, encoding="utf-8") as fh:
            items = json.load(fh)
        tl: dict[dt.date, list[str]] = {}
        for item in items:
            text = item["text"]
            sents = text if isinstance(text, list) else [s for s in re.split(r"\s{2,}", text) if s.strip()]
            tl.setdefault(dt.date.fromisoformat(item["date"][:10]), []).extend(s.strip() for s in sents)
        yield os.path.basename(path), tl


def pair_rows(csv_path: str | os.PathLike, limit: int | None = None) -> list[dict[str, str]]:
    """SemEval-2022 Task 8 rows that carry an Overall rating (1 very similar .. 4 very dissimilar)."""
    with open(csv_path, encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if (r.get("Overall") or "").strip()]
    return rows[:limit] if limit else rows
