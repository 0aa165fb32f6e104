"""A larger corpus with real story structure, generated from the shipped Wikinews sample (tests, benchmarks).

Variant ``v`` of each article leaves out one of its paragraphs (so its text, id and content hash differ)
and is dated ``v × shift_days`` later, so each variant round retells the sample's stories in its own,
later stretch of time: the stories repeat, the input grows, and every window boundary is crossed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Iterator

__all__ = ["archive", "variants", "write_archive", "write_corpus"]


def variants(source: Path, copies: int, shift_days: int = 1200, dateline: bool = False) -> Iterator[dict]:
    """``dateline``: each variant's text opens with its own date (otherwise variants of a short article,
    which has few paragraphs to leave out, repeat each other's text and are dropped as re-posts)."""
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    for v in range(copies):
        for row in rows:
            paragraphs = [p for p in row["text"].split("\n\n") if p.strip()]
            if v and len(paragraphs) > 2:
                drop = 1 + (v % (len(paragraphs) - 1))
                paragraphs = paragraphs[:drop] + paragraphs[drop + 1 :]
            published = row.get("published")
            if published:
                published = (dt.date.fromisoformat(published) + dt.timedelta(days=v * shift_days)).isoformat()
            if dateline and published:
                paragraphs = [f"{published.replace('-', '/')} {row.get('title') or ''}".strip(), *paragraphs[1:]]
            yield {**row, "id": f"{row['id']}-v{v}", "published": published, "text": "\n\n".join(paragraphs)}


def write_corpus(source: Path, target: Path, copies: int, shift_days: int = 1200, dateline: bool = False) -> int:
    """Write ``copies`` variant rounds of ``source`` (JSONL) to ``target``; returns the number of rows."""
    n = 0
    with open(target, "w", encoding="utf-8") as handle:
        for row in variants(source, copies, shift_days, dateline):
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


# the human-labelled cluster sets whose articles an archive retells (read from ``../shared/eval`` at run time)
ARCHIVE_SETS = ("duc2004_clusters.jsonl", "duc2007_update_clusters.jsonl", "multiling2011_clusters.jsonl",
                "timeline17_storylines.jsonl", "crisis_es_threads.jsonl")


def _lead(text: str, chars: int) -> str:
    """The opening of an article up to the last sentence end within ``chars`` (whole text if shorter): the
    archive keeps real text but at a tenth of the enrichment cost, so 100,000 articles fit one machine."""
    text = " ".join(text.split())
    if len(text) <= chars:
        return text
    cut = max(text.rfind(end, 0, chars) for end in (". ", "? ", "! ", '." '))
    return text[: cut + 1] if cut > chars // 3 else text[:chars]


def archive(eval_dir: Path, n: int, start: dt.date = dt.date(1990, 1, 1), seed: int = 20261205,
            lead_chars: int = 700, span_days: int = 365, gap_days: int = 401) -> Iterator[dict]:
    """``n`` articles of a long archive retold from human-labelled clusters (``ARCHIVE_SETS``), in rounds.

    Each round retells every cluster once: the cluster keeps its articles' order and relative dates
    (squeezed into ``span_days`` when longer) and starts on a seeded random day of the round's first
    ``gap_days``. Rounds are ``2 × gap_days + span_days`` apart, so a cluster's retelling starts more than
    ``gap_days`` after its previous one ended (past the 400-day story window: a new story, not a chain),
    and each round's clusters overlap in time as the originals did not always. Each article is its ``lead_chars`` lead opened by its new date, so copies
    differ in text and content hash (they are marked near-duplicates, which only records them). The
    ``gold`` field is the cluster (set/cluster/round) for BCubed against the labels.
    """
    import random

    clusters = []
    for name in ARCHIVE_SETS:
        path = eval_dir / name
        if not path.exists():
            continue
        for line in filter(str.strip, path.read_text(encoding="utf-8").split("\n")):  # not splitlines: texts hold U+2028
            c = json.loads(line)
            docs = [d for d in c["docs"] if d.get("date") and d.get("text")]
            docs.sort(key=lambda d: (d["date"], d["doc_id"]))
            if docs:
                clusters.append((f"{name.split('_')[0]}/{c['cluster_id']}", docs))
    if not clusters:
        raise FileNotFoundError(f"none of {', '.join(ARCHIVE_SETS)} is in {eval_dir}: the archive retells them")
    rng = random.Random(seed)
    made, rnd = 0, 0
    while made < n:
        base = start + dt.timedelta(days=rnd * (2 * gap_days + span_days))
        for key, docs in clusters:
            first = dt.date.fromisoformat(docs[0]["date"][:10])
            span = (dt.date.fromisoformat(docs[-1]["date"][:10]) - first).days
            squeeze = min(1.0, span_days / span) if span else 1.0
            opening = base + dt.timedelta(days=rng.randrange(gap_days))
            for d in docs:
                if made >= n:
                    return
                day = opening + dt.timedelta(days=int((dt.date.fromisoformat(d["date"][:10]) - first).days * squeeze))
                stamp = day.isoformat()
                yield {"id": f"{key}/{d['doc_id']}/r{rnd}", "title": d.get("headline") or None, "published": stamp,
                       "text": f"{stamp.replace('-', '/')} {_lead(d['text'], lead_chars)}", "gold": f"{key}/r{rnd}"}
                made += 1
        rnd += 1


def write_archive(eval_dir: Path, target: Path, n: int, **options) -> int:
    """Write ``archive(eval_dir, n, **options)`` to ``target`` (JSONL) in date order; returns the rows written."""
    rows = sorted(archive(eval_dir, n, **options), key=lambda r: (r["published"], r["id"]))
    with open(target, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)
