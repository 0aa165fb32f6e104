"""Fit the event-membership model shipped in ``storyline.stories.linking.EVENT_MODELS``.

    .venv/bin/python benchmarks/stories_train.py [--db /tmp/slq2/duc.db] [--set duc2004_clusters.jsonl]

Trains on ONE labelled set (DUC 2004 by default; the others stay for validation). Articles are
replayed in arrival order against the *gold* clusters' running profiles (with the same online
document frequencies as placement); every active cluster within the event window is a candidate,
labelled 1 when it is the article's own cluster. One logistic regression is fitted per regime of
available views (embedding yes/no x entities yes/no), masking the missing view, so a language the
embedder or NER does not cover gets a model fitted for exactly the evidence it has. Prints the
coefficients to paste into ``linking.py``, and the ranking accuracy of the true cluster.

``--db`` keeps the enriched store (``evaluation.product.open_enriched``: made by the pipeline once, reused
after); without it the set is enriched here on a temporary store (a few minutes).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from storyline.evaluation.data import load_cluster_documents
from storyline.evaluation.fit import fit_event_models, rank_accuracy, replay_rows
from storyline.evaluation.product import open_enriched
from storyline.store import Store
from storyline.stories.linking import PlacementConfig, event_probability

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"


def _articles(set_path: Path, db: str | None):
    """The set's articles as the pipeline enriched them, in track's order, each labelled by its gold cluster."""
    docs, gold = load_cluster_documents(set_path)
    with tempfile.TemporaryDirectory() as tmp:
        enriched = open_enriched(set_path.stem, docs, db or Path(tmp) / "train.db")
        label: dict[str, str] = {}
        for origin, key in enriched.stored.items():  # an article stored once for two clusters keeps its first label
            label.setdefault(key, gold[origin])
        with Store(enriched.path) as store:
            articles = store.get_articles(sorted(label))
    articles.sort(key=lambda a: (a.published is None, str(a.published or ""), a.id))
    return articles, label


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
    rows = replay_rows(articles, label, config)
    print(f"{len(articles)} articles, {len(rows)} candidate pairs, {sum(r[1] for r in rows)} positive")
    models = fit_event_models(articles, label, config)
    for regime, coef in sorted(models.items(), reverse=True):
        has_ent = regime[1]
        scores = [event_probability(dict(p, embedding=p["embedding"] if regime[0] else None), gap,
                                    config.event_time_scale, has_ent, models) for _, _, p, gap in rows]  # fmt: skip
        print(f"    {regime}: {coef},  # rank accuracy {rank_accuracy(rows, scores):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
