"""The long archive the Spark benchmark runs: real labelled text, retold in rounds that never chain."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest

from storyline.scale.synthetic import archive

EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"


@pytest.mark.skipif(not (EVAL / "duc2004_clusters.jsonl").exists(), reason=f"research data absent: {EVAL}")
def test_an_archive_is_reproducible_and_a_cluster_retold_starts_after_the_story_window():
    rows = list(archive(EVAL, 6000))
    assert rows == list(archive(EVAL, 6000))  # same seed, same archive
    assert len(rows) == 6000 and len({r["id"] for r in rows}) == 6000
    copies: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        copies[r["id"].rsplit("/r", 1)[0]].add(r["text"])
    assert all(len(texts) == sum(r["id"].startswith(k + "/r") for r in rows) for k, texts in copies.items()
               if len(texts) > 1)  # each copy of an article opens with its own date
    spans: dict[str, list[dt.date]] = defaultdict(list)
    for r in rows:
        spans[r["gold"]].append(dt.date.fromisoformat(r["published"]))
    by_cluster: dict[str, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for gold, days in spans.items():
        by_cluster[gold.rsplit("/r", 1)[0]].append((min(days), max(days)))
    retold = [sorted(v) for v in by_cluster.values() if len(v) > 1]
    assert retold  # 6,000 rows pass the ~2,600 of one round
    for (_, end), (start, _) in (pair for spans_ in retold for pair in zip(spans_, spans_[1:])):
        assert (start - end).days > 400  # past the story window: a retelling is a new story, not a chain


def test_an_archive_without_the_labelled_sets_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        next(archive(tmp_path, 10))
