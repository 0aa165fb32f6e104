"""Article-pair similarity against SemEval-2022 Task 8 ratings, as the product computes it.

Both texts of every pair are ingested and enriched through the pipeline (each in the language the set
gives it), and each pair is scored by the query layer's ``similarity``: the score ``storyline similar``
ranks by. Placement is not run: the similarity does not depend on it, and 2,500 unrelated texts would
only cost time. Nothing is fitted on this set, so the figure is out of sample.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from storyline.evaluation.data import pair_rows
from storyline.evaluation.product import enrich_set
from storyline.evaluation.scores import pearson
from storyline.model import Document
from storyline.normalize.clean import language_code
from storyline.queries import Queries
from storyline.store import Store

__all__ = ["evaluate_pairs"]


def evaluate_pairs(csv_path: str | os.PathLike, limit: int | None = None) -> dict[str, Any]:
    """Pearson of the product's pair similarity with the 'Overall' rating (negated: positive = agreeing).

    Ratings run 1 (very similar) .. 4 (very dissimilar). A text the pipeline rejects (empty) or could
    not embed scores 0 and is counted in ``unscored``.
    """
    rows = pair_rows(csv_path, limit)
    name = Path(csv_path).name
    documents = [Document(text=row.get(f"text{side}") or "", origin=f"{name}:{i + 2}:{side}",
                          language=language_code(row.get(f"lang{side}")))
                 for i, row in enumerate(rows) for side in (1, 2)]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="storyline-pairs-") as tmp:
        enriched = enrich_set("pairs", documents, Path(tmp) / "pairs.db")
        with Store(enriched.path) as store:
            ask = Queries(store)
            scores: list[float | None] = []
            for i in range(len(rows)):
                a, b = (enriched.stored.get(f"{name}:{i + 2}:{side}") for side in (1, 2))
                scores.append(ask.similarity(a, b) if a and b else None)
    seconds = time.perf_counter() - start
    gold = [-float(r["Overall"]) for r in rows]
    values = [s if s is not None else 0.0 for s in scores]
    by_lang: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for row, s, g in zip(rows, values, gold):
        pair = f"{row.get('lang1')}-{row.get('lang2')}"
        by_lang[pair][0].append(s)
        by_lang[pair][1].append(g)
    return {
        "file": str(csv_path), "pairs": len(rows), "unscored": sum(s is None for s in scores),
        "pearson": round(pearson(values, gold), 4),
        "pearson_by_language": {k: round(pearson(*v), 3) for k, v in sorted(by_lang.items()) if len(v[0]) >= 20},
        "similarity": "Queries.similarity (embedding cosine, as `storyline similar` ranks)",
        "fitted_on": {"procedure": "nothing fitted on this set (pre-trained embedder)", "sets": [], "in_sample": False},
        "seconds": round(seconds, 1),
    }
