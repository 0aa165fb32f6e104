"""Fitting what placement learns from labelled data, so every fitted number can be refitted elsewhere.

The event decision is a logistic regression over the similarity views (``linking.EVENT_MODELS``).
It is fitted by replaying a labelled set in arrival order against the *gold* clusters' running
profiles, with the same online document frequencies as placement: every gold cluster active within
the event window is a candidate, labelled 1 when it is the article's own. One model per regime of
available views (embedding yes/no x entities yes/no), the missing view masked, so a language the
embedder or NER does not cover gets a model fitted for exactly the evidence it has.

The same function ships the defaults (``benchmarks/stories_train.py``) and refits per fold in
``evaluate.evaluate_folds``, so the figures reported for it come from data it did not see.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Mapping, Sequence

import numpy as np

from storyline.model import Article
from storyline.stories.linking import CROSS_SCRIPT_SHIFT, EVENT_MODELS, PlacementConfig, event_vector
from storyline.stories.similarity import DocFreq, Profile, day_gap, features, pair_parts

__all__ = ["Models", "fit_event_models", "replay_rows", "rank_accuracy"]

Models = dict[tuple[bool, bool], tuple[float, ...]]
Row = tuple[int, int, dict, float]  # (article index, is own cluster, view parts, day gap)


def replay_rows(articles: Sequence[Article], labels: Mapping[str, str], config: PlacementConfig) -> list[Row]:
    """Candidate (article, gold cluster) pairs in arrival order, as placement would meet them."""
    df, profiles, rows = DocFreq(), {}, []
    for i, article in enumerate(articles):
        f = features(article)
        df.add(list(f.words) + list(f.anchors) + list(f.entities))
        own = labels[article.id]
        for key, profile in profiles.items():
            if f.date and profile.last and (f.date - profile.last).days > config.event_window_days:
                continue
            rows.append((i, int(key == own), pair_parts(f, profile, df), day_gap(f.date, profile.first, profile.last)))
        profiles.setdefault(own, Profile()).add(f, config.profile_terms)
    return rows


def _regime_matrix(rows: Sequence[Row], has_emb: bool, has_ent: bool, scale: float) -> np.ndarray:
    parts = [dict(p, embedding=p["embedding"] if has_emb else None, entities=p["entities"] if has_ent else 0.0)
             for _, _, p, _ in rows]  # fmt: skip
    return np.array([event_vector(p, gap, scale, has_ent) for p, (_, _, _, gap) in zip(parts, rows)])


def fit_event_models(articles: Sequence[Article], labels: Mapping[str, str],
                     config: PlacementConfig | None = None) -> Models:
    """One logistic regression per regime of views, fitted on ``articles`` labelled by gold cluster.

    Regimes without an embedding keep the shipped cross-script intercept shift (an English-only set
    cannot teach how far anchors across scripts fall below same-language words); a training set with
    no positive pair for a regime keeps the shipped model for it.
    """
    from sklearn.linear_model import LogisticRegression

    config = config or PlacementConfig()
    rows = replay_rows(articles, labels, config)
    y = np.array([r[1] for r in rows])
    models: Models = dict(EVENT_MODELS)
    if len(set(y.tolist())) < 2:
        return models
    for has_emb in (True, False):
        for has_ent in (True, False):
            x = _regime_matrix(rows, has_emb, has_ent, config.event_time_scale)
            model = LogisticRegression(C=10.0, max_iter=5000).fit(x, y)
            coef = [round(float(c), 3) for c in model.coef_[0]]
            intercept = float(model.intercept_[0])
            if not has_emb:  # the shipped shift of the boundary for anchors across scripts
                intercept += CROSS_SCRIPT_SHIFT
            models[(has_emb, has_ent)] = (*coef, round(intercept, 3))
    return models


def rank_accuracy(rows: Sequence[Row], scores: Sequence[float]) -> float:
    """Share of articles with an open own cluster whose own cluster scores highest."""
    by: dict[int, list] = defaultdict(list)
    for (i, y, _, _), s in zip(rows, scores):
        by[i].append((s, y))
    tops = [max(v)[1] for v in by.values() if any(y for _, y in v)]
    return sum(tops) / max(1, len(tops))
