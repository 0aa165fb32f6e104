"""Fit the event-membership model shipped in ``storyline.stories.linking.EVENT_MODELS``.

    .venv/bin/python benchmarks/stories_train.py [--db /tmp/slq2/duc.db] [--set duc2004_clusters.jsonl]

Trains on ONE labelled set (DUC 2004 by default; the others stay for validation). Articles are
replayed in arrival order against the *gold* clusters' running profiles (with the same online
document frequencies as placement); every active cluster within the event window is a candidate,
labelled 1 when it is the article's own cluster. One logistic regression is fitted per regime of
available views (embedding yes/no x entities yes/no), masking the missing view, so a language the
embedder or NER does not cover gets a model fitted for exactly the evidence it has. Prints the
coefficients to paste into ``linking.py``, and the ranking accuracy of the true cluster.

``--db`` takes a store already enriched by the pipeline (ingest + enrich); without it the set is
enriched here on a temporary store (a few minutes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from storyline.normalize.clean import clean
from storyline.pipeline import Pipeline
from storyline.store import Store
from storyline.stories.evaluate import load_cluster_documents
from storyline.stories.linking import PlacementConfig, event_vector
from storyline.stories.similarity import DocFreq, Profile, day_gap, features, pair_parts

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"


def _articles(set_path: Path, db: str | None):
    docs, gold = load_cluster_documents(set_path)
    with tempfile.TemporaryDirectory() as tmp, Store(db or Path(tmp) / "train.db") as store:
        if db is None:
            pipeline = Pipeline(store)
            pipeline.ingest_documents(docs)
            pipeline.enrich()
        articles = list(store.articles())
    now = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    label: dict[str, str] = {}
    by_hash = {a.content_hash: a.id for a in articles}
    for d in docs:  # an article stored once for two clusters keeps its first label
        probe = clean(d, now=now)
        label.setdefault(probe.id if probe.id in {a.id for a in articles} else by_hash.get(probe.content_hash), gold[d.origin])
    articles = [a for a in articles if a.id in label]
    articles.sort(key=lambda a: (a.published is None, str(a.published or "")))
    return articles, label


def pair_rows(articles, label, config: PlacementConfig):
    """(article index, is own cluster, parts, gap) for every active gold cluster, in arrival order."""
    df, profiles, rows = DocFreq(), {}, []
    for i, article in enumerate(articles):
        f = features(article)
        df.add(list(f.words) + list(f.anchors) + list(f.entities))
        own = label[article.id]
        for key, p in profiles.items():
            if f.date and p.last and (f.date - p.last).days > config.event_window_days:
                continue
            rows.append((i, int(key == own), pair_parts(f, p, df), day_gap(f.date, p.first, p.last)))
        profiles.setdefault(own, Profile()).add(f, config.profile_terms)
    return rows


def rank_accuracy(rows, scores) -> float:
    """Share of articles with an open own cluster whose own cluster scores highest."""
    by: dict[int, list] = defaultdict(list)
    for (i, y, _, _), s in zip(rows, scores):
        by[i].append((s, y))
    tops = [max(v)[1] for v in by.values() if any(y for _, y in v)]
    return sum(tops) / max(1, len(tops))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="duc2004_clusters.jsonl")
    parser.add_argument("--db", default=None, help="a store already enriched with this set")
    args = parser.parse_args()
    path = EVAL / args.set
    if not path.exists():
        print(f"{path} not found; nothing to train on", file=sys.stderr)
        return 0
    config = PlacementConfig()
    articles, label = _articles(path, args.db)
    rows = pair_rows(articles, label, config)
    y = np.array([r[1] for r in rows])
    print(f"{len(articles)} articles, {len(rows)} candidate pairs, {int(y.sum())} positive")
    for has_emb in (True, False):
        for has_ent in (True, False):
            parts = [dict(p, embedding=p["embedding"] if has_emb else None, entities=p["entities"] if has_ent else 0.0)
                     for _, _, p, _ in rows]  # fmt: skip
            x = np.array([event_vector(p, g, config.event_time_scale, has_ent) for p, (_, _, _, g) in zip(parts, rows)])
            model = LogisticRegression(C=10.0, max_iter=5000).fit(x, y)
            coef = [round(float(c), 3) for c in model.coef_[0]] + [round(float(model.intercept_[0]), 3)]
            acc = rank_accuracy(rows, model.decision_function(x))
            print(f"    ({has_emb}, {has_ent}): {tuple(coef)},  # rank accuracy {acc:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
