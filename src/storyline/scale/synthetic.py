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

__all__ = ["variants", "write_corpus"]


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
