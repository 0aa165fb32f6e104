"""Events, stories (and any later level) against human-labelled clusters, on the product path.

Every figure places the set with ``Pipeline.place`` on a store the pipeline enriched (``product``), and
says how the numbers placement used were obtained (``fitted_on``): the shipped settings (in sample for
the sets they were fitted on), folds over a set's gold clusters, or leave-one-set-out.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from storyline.evaluation.data import load_cluster_documents
from storyline.evaluation.fit import SHIPPED_FITTED_ON, choose_event_threshold, fit_event_models, replay_rows
from storyline.evaluation import product
from storyline.evaluation.product import EnrichedSet, enrich_set, place_set
from storyline.evaluation.scores import bcubed
from storyline.model import Document
from storyline.store import Store
from storyline.stories.linking import PlacementConfig

__all__ = ["FOLD_GRID", "Runner", "evaluate_clusters", "evaluate_folds", "leave_one_set_out", "score", "shipped_fitted_on"]

Runner = Callable[[Sequence[Document]], dict[str, tuple[str, str]]]  # another engine: origin -> (event, story)
# the placement fields a fold chooses by placing its training articles (the event model and threshold are
# fitted without placing); small on purpose: each value is one placement per fold
FOLD_GRID: dict[str, tuple[Any, ...]] = {"event_merge_margin": (0.3, 0.4, 0.5)}


def score(pred: Mapping[str, str], gold: Mapping[str, str], over: Iterable[str] | None = None) -> dict[str, Any]:
    p, r, f = bcubed(dict(pred), dict(gold), over)
    return {"clusters": len({pred[k] for k in gold if k in pred}), "bcubed_precision": round(p, 4),
            "bcubed_recall": round(r, 4), "bcubed_f1": round(f, 4)}


def shipped_fitted_on(path: str | os.PathLike, fields: Iterable[str] = tuple(SHIPPED_FITTED_ON)) -> dict[str, Any]:
    """What the shipped settings were fitted on, and whether ``path`` is among those sets (in sample)."""
    name = Path(path).name
    sets = sorted({s for f in fields for s in SHIPPED_FITTED_ON.get(f, ())})
    return {"procedure": "shipped settings (stories.linking)", "sets": sets,
            "per_field": {f: list(SHIPPED_FITTED_ON[f]) for f in fields if f in SHIPPED_FITTED_ON},
            "in_sample": name in sets}


def _enriched(path: str | os.PathLike, workdir: Path, degrade: bool, languages: Iterable[str] | None,
              enriched: EnrichedSet | None) -> tuple[EnrichedSet, dict[str, str]]:
    documents, gold = load_cluster_documents(path, degrade_text=degrade, languages=languages)
    if not documents:
        raise ValueError(f"{path}: no documents (languages={languages!r}); check the file and the filter")
    if enriched is None:
        enriched = enrich_set(Path(path).stem, documents, workdir / f"{Path(path).stem}-enriched.db")
    return enriched, gold


def _articles(enriched: EnrichedSet, ids: Iterable[str]):
    with Store(enriched.path) as store:
        articles = store.get_articles(sorted(set(ids)))
    articles.sort(key=lambda a: (a.published is None, str(a.published or ""), a.id))  # track's order
    return articles


def evaluate_clusters(
    path: str | os.PathLike,
    level: str = "event",  # noqa: A002 - shadowing is fine here: the CLI option's name
    degrade: bool = False,
    languages: Iterable[str] | None = None,
    runner: Runner | None = None,
    config: PlacementConfig | None = None,
    enriched: EnrichedSet | None = None,
) -> dict[str, Any]:
    """BCubed of the clusters ``track`` forms from a labelled file (all levels scored, ``level`` reported).

    The set goes through the pipeline on a temporary store (or ``enriched``, a store made once by
    ``product.enrich_set``), placed with ``config`` (the shipped settings by default); ``runner``
    replaces the whole path with another engine (the Spark batch job).
    """
    product.level(level)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="storyline-eval-") as tmp:
        if runner is not None:
            documents, gold = load_cluster_documents(path, degrade_text=degrade, languages=languages)
            placed = runner(documents)
            by_level = {name: {o: ids[i] for o, ids in placed.items()} for i, name in enumerate(("event", "story"))}
        else:
            enriched, gold = _enriched(path, Path(tmp), degrade, languages, enriched)
            wanted = {enriched.stored[o] for o in gold if o in enriched.stored}
            by_level = place_set(enriched, tmp, config, levels=tuple(product.LEVELS), only=wanted)
    if level not in by_level:
        raise ValueError(f"level {level!r} is not produced by this engine (it gives {', '.join(by_level)})")
    seconds = time.perf_counter() - start
    fields = [f.name for f in dataclasses.fields(PlacementConfig)
              if config is not None and getattr(config, f.name) != getattr(PlacementConfig(), f.name)]
    fitted = shipped_fitted_on(path)
    if fields:
        fitted["overridden"] = {f: getattr(config, f) for f in fields}
    result = {"file": str(path), "level": level, "degraded": degrade,
              "languages": sorted(languages) if languages else None,
              "articles": len(gold), "gold_clusters": len(set(gold.values())),
              **score(by_level[level], gold), "levels": {name: score(pred, gold) for name, pred in by_level.items()},
              "fitted_on": fitted, "seconds": round(seconds, 1)}
    return result


def _fold_of(clusters: Iterable[str], folds: int) -> dict[str, int]:
    """Gold clusters dealt round-robin into folds, in sorted order: disjoint, deterministic."""
    return {c: i % folds for i, c in enumerate(sorted(set(clusters)))}


def _grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    keys = sorted(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def evaluate_folds(
    path: str | os.PathLike,
    folds: int = 5,
    level: str = "event",  # noqa: A002
    degrade: bool = False,
    languages: Iterable[str] | None = None,
    config: PlacementConfig | None = None,
    grid: Mapping[str, Sequence[Any]] | None = None,
    enriched: EnrichedSet | None = None,
) -> dict[str, Any]:
    """Cross-validated BCubed: everything placement fits is refitted without each fold's gold clusters.

    Per fold, on the other folds' clusters only: the event model (``fit.fit_event_models``), the event
    threshold read off it (``fit.choose_event_threshold``), then each ``grid`` field (PlacementConfig
    names; the event merge margin by default) chosen by placing the training articles alone and taking
    the best BCubed F1 at ``level``. Then every article is placed with what the fold chose, and BCubed is
    averaged over the held-out fold's articles only, against clusters that still hold every article.
    The cross-script shift is kept as shipped: a fold of one set rarely holds pairs across scripts.
    """
    product.level(level)
    grid = FOLD_GRID if grid is None else grid
    base = config or PlacementConfig()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="storyline-folds-") as tmp:
        enriched, gold = _enriched(path, Path(tmp), degrade, languages, enriched)
        fold_of = _fold_of(gold.values(), folds)
        if len(set(fold_of.values())) < 2:
            raise ValueError(f"{path}: {len(fold_of)} gold clusters cannot make {folds} folds; use fewer folds")
        label: dict[str, str] = {}
        for origin, cluster in gold.items():  # a re-post keeps its first cluster
            if origin in enriched.stored:
                label.setdefault(enriched.stored[origin], cluster)
        articles = _articles(enriched, label)
        results = []
        for k in sorted(set(fold_of.values())):
            train = [a for a in articles if fold_of[label[a.id]] != k]
            rows = replay_rows(train, label, base)
            models = fit_event_models(train, label, base)
            threshold, accuracy = choose_event_threshold(rows, models, base)
            fitted = dataclasses.replace(base, event_models=tuple(sorted(models.items())), event_threshold=threshold)
            train_gold = {o: c for o, c in gold.items() if fold_of[c] != k}
            train_ids = {a.id for a in train}
            tried = []
            for values in _grid(grid):
                candidate = dataclasses.replace(fitted, **values)
                pred = place_set(enriched, tmp, candidate, levels=(level,), only=train_ids, tag=f"fold{k}-fit")[level]
                tried.append((score(pred, train_gold)["bcubed_f1"], values))
            best_f1, chosen = max(tried, key=lambda t: t[0]) if tried else (None, {})
            final = dataclasses.replace(fitted, **chosen)
            pred = place_set(enriched, tmp, final, levels=(level,), tag=f"fold{k}")[level]
            held = [origin for origin, cluster in gold.items() if fold_of[cluster] == k]
            results.append({"fold": k, "held_out_clusters": sum(1 for c in fold_of.values() if c == k),
                            "articles": len(held), **score(pred, gold, over=held),
                            "fitted": {"event_threshold": threshold, "train_decision_accuracy": round(accuracy, 4),
                                       **chosen, "train_bcubed_f1": best_f1}})
    mean = {m: round(statistics.fmean(r[m] for r in results), 4)
            for m in ("bcubed_precision", "bcubed_recall", "bcubed_f1")}
    return {
        "file": str(path), "level": level, "degraded": degrade,
        "languages": sorted(languages) if languages else None, "folds": len(results),
        "fitted_on": {"procedure": f"{len(results)} folds over gold clusters", "sets": [Path(path).name],
                      "per_fold": "event model, event threshold (read off the model) and "
                                  f"{', '.join(sorted(grid)) or 'nothing else'} (by placing the training articles) "
                                  "fitted on the other folds' clusters; cross-script shift as shipped",
                      "in_sample": False},
        "articles": len(gold), "gold_clusters": len(set(gold.values())), **mean, "per_fold": results,
        "seconds": round(time.perf_counter() - start, 1),
    }


def leave_one_set_out(
    sets: Mapping[str, tuple[EnrichedSet, Mapping[str, str]]],
    grid: Mapping[str, Sequence[Any]],
    level: str = "story",  # noqa: A002
    config: PlacementConfig | None = None,
    subsets: Mapping[str, tuple[str, Iterable[str]]] | None = None,
    workdir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Out-of-sample figures for placement fields fitted across sets: for each set held out, the ``grid``
    values (PlacementConfig fields, all combinations) with the best mean BCubed F1 on the OTHER sets, and
    the held-out set's figure at those values.

    ``sets``: name -> (enriched store, gold by origin). ``subsets``: name -> (parent set, origins) scored
    at the values chosen without their parent (MultiLing ar+en+fr inside all seven languages).
    """
    product.level(level)
    base = config or PlacementConfig()
    combos = _grid(grid)
    subsets = subsets or {}
    in_sample: dict[str, list[float]] = {name: [] for name in sets}
    with tempfile.TemporaryDirectory(prefix="storyline-loso-", dir=workdir) as tmp:
        for i, values in enumerate(combos):
            for name, (enriched, gold) in sets.items():
                pred = place_set(enriched, tmp, dataclasses.replace(base, **values), levels=(level,), tag=f"g{i}")[level]
                in_sample[name].append(score(pred, gold)["bcubed_f1"])
        held_out: dict[str, Any] = {}
        for held in sets:
            others = [s for s in sets if s != held]
            best = max(range(len(combos)), key=lambda g: (statistics.fmean(in_sample[s][g] for s in others), -g))
            held_out[held] = {"bcubed_f1": in_sample[held][best], "chosen": combos[best],
                              "fitted_on": {"procedure": "leave one set out", "sets": others, "in_sample": False}}
        for name, (parent, origins) in subsets.items():
            enriched, gold = sets[parent]
            chosen = held_out[parent]["chosen"]
            sub_gold = {o: gold[o] for o in origins if o in gold}
            wanted = {enriched.stored[o] for o in sub_gold if o in enriched.stored}
            pred = place_set(enriched, tmp, dataclasses.replace(base, **chosen), levels=(level,), only=wanted,
                             tag="subset")[level]
            held_out[name] = {**score(pred, sub_gold), "chosen": chosen,
                              "fitted_on": {"procedure": "leave one set out (its parent set held out)",
                                            "sets": [s for s in sets if s != parent], "in_sample": False}}
    best_all = max(range(len(combos)), key=lambda g: (statistics.fmean(v[g] for v in in_sample.values()), -g))
    return {"level": level, "grid": {k: list(v) for k, v in grid.items()},
            "in_sample": {name: dict(zip([str(c) for c in combos], v)) for name, v in in_sample.items()},
            "held_out": held_out,
            "held_out_mean_f1": round(statistics.fmean(held_out[s]["bcubed_f1"] for s in sets), 4),
            "best_on_all_sets": combos[best_all],
            "fitted_on": {"procedure": "leave one set out", "sets": list(sets), "in_sample": False}}
