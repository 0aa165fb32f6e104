"""Measure event/story placement against human-labelled clusters, and pair similarity against ratings.

The data lives outside the repository (``../shared/eval``); these functions read it at run time. The
articles go through the same path as ``storyline track`` when a ``runner`` is given (the pipeline on
a fresh store); without one they are cleaned, embedded and placed here directly, which is what the
benchmarks use while iterating.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from storyline.model import Article, Document
from storyline.normalize.clean import language_code

__all__ = [
    "bcubed",
    "degrade",
    "load_cluster_documents",
    "evaluate_clusters",
    "evaluate_folds",
    "evaluate_pairs",
    "embed_articles",
    "place_articles",
]

Runner = Callable[[Sequence[Document]], dict[str, tuple[str, str]]]  # doc origin -> (event id, story id)


def bcubed(pred: dict[str, str], gold: dict[str, str], over: Iterable[str] | None = None) -> tuple[float, float, float]:
    """BCubed precision, recall and F1 over the items of ``gold`` (Amigó et al. 2009).

    Items missing from ``pred`` count as singletons, so dropping an article never helps. ``over``
    averages over those items only (a held-out fold), while clusters still hold every item, so a
    held-out article wrongly joined with training articles still costs precision.
    """
    if not gold:
        raise ValueError("bcubed: gold is empty; nothing to score")
    pred = {k: pred.get(k, f"\0missing:{k}") for k in gold}
    by_pred: dict[str, set[str]] = defaultdict(set)
    by_gold: dict[str, set[str]] = defaultdict(set)
    for item in gold:
        by_pred[pred[item]].add(item)
        by_gold[gold[item]].add(item)
    items = list(gold) if over is None else [i for i in over if i in gold]
    if not items:
        raise ValueError("bcubed: no item to average over")
    p = r = 0.0
    for item in items:
        same = len(by_pred[pred[item]] & by_gold[gold[item]])
        p += same / len(by_pred[pred[item]])
        r += same / len(by_gold[gold[item]])
    p, r = p / len(items), r / len(items)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


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
            language = record.get("language")
            lang = language_code(language)
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


def embed_articles(articles: Sequence[Article], cache_dir: str | os.PathLike | None = None) -> None:
    """Embed (title + lead, as enrichment does) every article lacking a vector; ``cache_dir`` keeps
    vectors across runs, keyed by the text embedded."""
    from storyline.enrich.embed import USEEmbedder, article_input

    todo = [a for a in articles if a.embedding is None]
    if not todo:
        return
    texts = [article_input(a) for a in todo]
    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    cache = Path(cache_dir) if cache_dir else None
    vectors: dict[str, np.ndarray] = {}
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        for key in keys:
            file = cache / f"{key}.npy"
            if file.exists():
                vectors[key] = np.load(file)
    missing = sorted({k: t for k, t in zip(keys, texts) if k not in vectors}.items())
    if missing:
        encoded = USEEmbedder().embed_texts([t for _, t in missing])
        for (key, _), vec in zip(missing, encoded):
            vectors[key] = np.asarray(vec, dtype=np.float32)
            if cache is not None:
                np.save(cache / f"{key}.npy", vectors[key])
    for a, key in zip(todo, keys):
        a.embedding = vectors[key]


def place_articles(
    documents: Sequence[Document], cache_dir: str | os.PathLike | None = None, config=None
) -> dict[str, tuple[str, str]]:
    """The direct path: clean, embed, place in order. Returns origin -> (event id, story id)."""
    from storyline.normalize.clean import clean
    from storyline.model import follow_redirects
    from storyline.stories.placement import StoryPlacer

    now = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    articles = [clean(d, now=now) for d in documents]
    for d, a in zip(documents, articles):
        if d.language and not a.language:
            a.language = d.language
    embed_articles(articles, cache_dir)
    placer = StoryPlacer(config)
    for i in range(0, len(articles), 256):  # the pipeline's batch size: place, then refine
        placer.place_batch(articles[i : i + 256])
    moved = placer.moved()
    for a in articles:
        a.event_id, a.story_id = moved.get(a.id, (a.event_id, a.story_id))
    redirects = placer.redirects()
    return {a.origin: (follow_redirects(redirects, a.event_id), follow_redirects(redirects, a.story_id))
            for a in articles}


def evaluate_clusters(
    path: str | os.PathLike,
    level: str = "event",
    degrade: bool = False,  # noqa: A002 - the CLI flag's name
    languages: Iterable[str] | None = None,
    runner: Runner | None = None,
    cache_dir: str | os.PathLike | None = None,
    config=None,
) -> dict:
    """BCubed of the events (or stories) formed from a labelled cluster file, placed in date order."""
    if level not in ("event", "story"):
        raise ValueError(f"evaluate_clusters: level must be 'event' or 'story', got {level!r}")
    documents, gold = load_cluster_documents(path, degrade_text=degrade, languages=languages)
    if not documents:
        raise ValueError(f"{path}: no documents (languages={languages!r}); check the file and the filter")
    start = time.perf_counter()
    placed = runner(documents) if runner is not None else place_articles(documents, cache_dir, config)
    seconds = time.perf_counter() - start
    pred = {origin: ids[0 if level == "event" else 1] for origin, ids in placed.items()}
    p, r, f = bcubed(pred, gold)
    return {
        "file": str(path), "level": level, "degraded": degrade,
        "languages": sorted(languages) if languages else None,
        "articles": len(gold), "gold_clusters": len(set(gold.values())),
        "clusters": len(set(pred.values())),
        "bcubed_precision": round(p, 4), "bcubed_recall": round(r, 4), "bcubed_f1": round(f, 4),
        "articles_per_second": round(len(gold) / seconds, 2) if seconds > 0 else None,
    }  # fmt: skip


def _fold_of(clusters: Sequence[str], folds: int) -> dict[str, int]:
    """Gold clusters dealt round-robin into folds, in sorted order: disjoint, deterministic."""
    return {c: i % folds for i, c in enumerate(sorted(set(clusters)))}


def evaluate_folds(
    path: str | os.PathLike,
    folds: int = 5,
    level: str = "event",
    degrade: bool = False,  # noqa: A002 - the CLI flag's name
    languages: Iterable[str] | None = None,
    config=None,
) -> dict:
    """Cross-validated BCubed: the event model is refitted without each fold's gold clusters.

    The set is ingested and enriched once through the pipeline. For each fold the event model
    (``stories.fit``) is fitted on the other folds' clusters, then every article is placed through
    ``Pipeline.place`` on a copy of the enriched store with that model; BCubed is averaged over the
    held-out fold's articles only, against clusters that still hold every article (so the held-out
    ones meet all the hard negatives the full set has). No figure here comes from a model that saw
    its fold's labels.
    """
    import dataclasses
    import shutil
    import tempfile

    from storyline.pipeline import Pipeline, PipelineConfig
    from storyline.store import Store
    from storyline.stories.fit import fit_event_models
    from storyline.stories.linking import PlacementConfig

    if level not in ("event", "story"):
        raise ValueError(f"evaluate_folds: level must be 'event' or 'story', got {level!r}")
    documents, gold = load_cluster_documents(path, degrade_text=degrade, languages=languages)
    fold_of = _fold_of(list(gold.values()), folds)
    if len(set(fold_of.values())) < 2:
        raise ValueError(f"{path}: {len(fold_of)} gold clusters cannot make {folds} folds; use fewer folds")
    base = config or PlacementConfig()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="storyline-folds-") as tmp:
        enriched = Path(tmp) / "enriched.db"
        with Store(enriched) as store:
            pipeline = Pipeline(store)
            report = pipeline.ingest_documents(documents)
            pipeline.enrich()
            articles = store.get_articles(sorted(set(report.stored.values())))
        label: dict[str, str] = {}
        for origin, key in report.stored.items():  # a re-post keeps its first cluster
            label.setdefault(key, gold[origin])
        articles.sort(key=lambda a: (a.published is None, str(a.published or ""), a.id))
        results = []
        for k in sorted(set(fold_of.values())):
            train = [a for a in articles if a.id in label and fold_of[label[a.id]] != k]
            models = fit_event_models(train, label, base)
            placement = dataclasses.replace(base, event_models=tuple(sorted(models.items())))
            db = Path(tmp) / f"fold{k}.db"
            shutil.copyfile(enriched, db)
            with Store(db) as store:
                Pipeline(store, PipelineConfig(placement=placement)).place()
                placed = {a.id: a for a in store.get_articles([a.id for a in articles])}
                ids = {}
                for key, a in placed.items():
                    record = store.get_event(a.event_id) if level == "event" else store.get_story(a.story_id)
                    ids[key] = record.id if record else (a.event_id if level == "event" else a.story_id)
            pred = {origin: ids.get(key, f"\0{origin}") for origin, key in report.stored.items()}
            held = [origin for origin, cluster in gold.items() if fold_of[cluster] == k]
            p, r, f = bcubed(pred, gold, over=held)
            results.append({"fold": k, "held_out_clusters": sum(1 for c in fold_of.values() if c == k),
                            "articles": len(held), "bcubed_precision": round(p, 4),
                            "bcubed_recall": round(r, 4), "bcubed_f1": round(f, 4)})  # fmt: skip
    seconds = time.perf_counter() - start
    mean = {m: round(float(np.mean([r[m] for r in results])), 4) for m in ("bcubed_precision", "bcubed_recall", "bcubed_f1")}
    return {
        "file": str(path), "level": level, "degraded": degrade,
        "languages": sorted(languages) if languages else None, "folds": len(results),
        "fitted": "event model refitted per fold on the other folds' gold clusters",
        "articles": len(gold), "gold_clusters": len(set(gold.values())), **mean, "per_fold": results,
        "seconds": round(seconds, 1),
    }  # fmt: skip


def _pearson(x: Sequence[float], y: Sequence[float]) -> float:
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xa.std() == 0 or ya.std() == 0:
        return 0.0
    return float(np.corrcoef(xa, ya)[0, 1])


def evaluate_pairs(
    csv_path: str | os.PathLike, cache_dir: str | os.PathLike | None = None, limit: int | None = None
) -> dict:
    """Pearson of ``pair_similarity`` with the SemEval-2022 Task 8 'Overall' rating.

    Ratings run 1 (very similar) .. 4 (very dissimilar), so they are negated: positive = agreeing.
    """
    from storyline.normalize.clean import clean
    from storyline.stories.similarity import pair_similarity

    with open(csv_path, encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if (r.get("Overall") or "").strip()]
    if limit:
        rows = rows[:limit]
    now = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    left, right = [], []
    for i, row in enumerate(rows):
        for side, out in ((1, left), (2, right)):
            text = row.get(f"text{side}") or ""
            doc = Document(text=text, origin=f"{Path(csv_path).name}:{i + 2}:{side}", language=row.get(f"lang{side}"))
            out.append(clean(doc, now=now))
    start = time.perf_counter()
    embed_articles(left + right, cache_dir)
    scores = [pair_similarity(a, b) for a, b in zip(left, right)]
    seconds = time.perf_counter() - start
    gold = [-float(r["Overall"]) for r in rows]
    by_lang: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for row, s, g in zip(rows, scores, gold):
        pair = f"{row.get('lang1')}-{row.get('lang2')}"
        by_lang[pair][0].append(s)
        by_lang[pair][1].append(g)
    return {
        "file": str(csv_path), "pairs": len(rows), "pearson": round(_pearson(scores, gold), 4),
        "pearson_by_language": {k: round(_pearson(*v), 3) for k, v in sorted(by_lang.items()) if len(v[0]) >= 20},
        "pairs_per_second": round(len(rows) / seconds, 2) if seconds > 0 else None,
    }  # fmt: skip
