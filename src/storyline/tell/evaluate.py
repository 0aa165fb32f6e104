"""Quality figures for the tell stage, computed through the same functions users call.

* ``evaluate_timelines``: Timeline17-format topics, scored as news-tls does (tilse's alignment-based
  many-to-one ROUGE-1/2 F1 and date F1). Each reference timeline gets a generated one with the same
  number of dates and sentences per date, restricted to the reference's time span. With ``folds``,
  the one fitted knob (``TimelineWeights.topic``) is chosen from ``TIMELINE_GRID`` on the other
  topics and every timeline is scored only when its topic is held out (leave-one-topic-out for
  Timeline17's four topics), so the figures are out of sample.
* ``evaluate_summaries``: DUC-style JSONL clusters, ROUGE-1/2 recall and F1 (rouge-score, stemming;
  DUC's official tables report recall). Clusters ``…-B``/``…-C`` of one ``parent_topic`` are
  summarised as what is new given the earlier batches; scores are averaged over the human summaries
  of a cluster. With ``fit_on`` (another cluster file), the weights are chosen from ``SUMMARY_GRID``
  on that file and reported on this one.

tilse calls the bundled ROUGE-1.5.5 Perl script, which needs XML::Parser
(Debian/Ubuntu: ``apt-get install libxml-parser-perl``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
from collections.abc import Sequence
from typing import Any

from storyline.tell._evaldata import (
    Enricher,
    cluster_articles,
    cluster_language,
    default_enricher,
    load_topic,
    read_clusters,
    reference_timelines,
    timeline17_topics,
)
from storyline.tell.novelty import update_summary
from storyline.tell.summary import SummaryWeights, summarize
from storyline.tell.timeline import TimelineWeights, build_timeline

__all__ = ["SUMMARY_GRID", "TIMELINE_GRID", "evaluate_summaries", "evaluate_timelines", "topic_of"]

# Candidate values of the fitted knobs; evaluations with folds / fit_on choose among them on training
# data only. Kept small on purpose: a fold has three topics to fit on.
TIMELINE_GRID: tuple[TimelineWeights, ...] = tuple(TimelineWeights(topic=t) for t in (0.0, 0.5, 1.0, 2.0))
SUMMARY_GRID: tuple[SummaryWeights, ...] = tuple(
    SummaryWeights(position=p, longest=s) for s in (0.4, 1.0) for p in (0.15, 0.5))
_METRICS = ("ar1_f1", "ar2_f1", "date_f1")


def _date_f1(pred: set[dt.date], ref: set[dt.date]) -> float:
    shared = len(pred & ref)
    if not shared:
        return 0.0
    p, r = shared / len(pred), shared / len(ref)
    return 2 * p * r / (p + r)


def topic_of(name: str) -> str:
    """Timeline17 folders are ``TOPIC_OUTLET`` (``bpoil_bbc``): timelines of one topic share a fold."""
    return name.split("_", 1)[0]


def _score_timeline(evaluator: Any, articles: list, ref: dict[dt.date, list[str]],
                    weights: TimelineWeights) -> dict[str, float]:
    from tilse.data.timelines import GroundTruth, Timeline

    n_dates = len(ref)
    per_date = max(1, round(sum(len(s) for s in ref.values()) / n_dates))
    entries = build_timeline(articles, max_dates=n_dates, sentences_per_date=per_date,
                             start=min(ref), end=max(ref), weights=weights)
    pred = {dt.date.fromisoformat(e.date): [s.text for s in e.sentences] for e in entries}
    scores = {"rouge_1": {"f_score": 0.0}, "rouge_2": {"f_score": 0.0}}
    if pred:
        scores = evaluator.evaluate_align_date_content_costs_many_to_one(Timeline(pred), GroundTruth([Timeline(ref)]))
    return {"dates": n_dates, "sentences_per_date": per_date, "ar1_f1": float(scores["rouge_1"]["f_score"]),
            "ar2_f1": float(scores["rouge_2"]["f_score"]), "date_f1": _date_f1(set(pred), set(ref))}


def _means(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    return {k: round(statistics.fmean(r[k] for r in rows), 4) if rows else 0.0 for k in _METRICS}


def _assign_folds(topics: list[str], k: int) -> list[list[str]]:
    if not 2 <= k <= len(topics):
        raise ValueError(f"--folds must be between 2 and the number of topics ({len(topics)}: {topics}), got {k}")
    return [topics[i::k] for i in range(k)]


def _check_rouge_perl() -> None:
    """Fail before hours of enrichment, with the fix, when ROUGE-1.5.5 cannot run (tilse only says
    "Rouge returned a non-zero error code" once every timeline is built)."""
    import shutil
    import subprocess

    perl = shutil.which("perl")
    if perl is None or subprocess.run([perl, "-MXML::Parser", "-e1"], capture_output=True).returncode != 0:
        raise RuntimeError("timeline evaluation needs ROUGE-1.5.5, a Perl script that needs Perl's XML::Parser: "
                           "install it (Debian/Ubuntu: apt-get install libxml-parser-perl; .ci/run does) and run again")


def evaluate_timelines(
    directory: str,
    *,
    topics: Sequence[str] | None = None,
    limit: int | None = None,
    enrich: Enricher | None = None,
    details: bool = False,
    folds: int | None = None,
    grid: Sequence[TimelineWeights] = TIMELINE_GRID,
    weights: TimelineWeights = TimelineWeights(),
) -> dict[str, Any]:
    """Mean alignment ROUGE-1/2 F1 and date F1 over every reference timeline under ``directory``.

    ``topics`` picks subfolders by name, ``limit`` keeps the first N folders (quick runs). Without
    ``folds`` every timeline is scored with ``weights`` (the defaults, themselves chosen by folds).
    With ``folds=K`` the topics (``topic_of``) are split into K groups; for each group the grid value
    with the best mean AR-1 + AR-2 F1 on the *other* groups (fast: tilse's Python ROUGE) is used to
    score the group's timelines (ROUGE-1.5.5), so every reported figure is out of sample.
    """
    from tilse.evaluation import rouge

    enrich = enrich or default_enricher()
    names = timeline17_topics(directory)
    if topics:
        missing = sorted(set(topics) - set(names))
        if missing:
            raise ValueError(f"topics {missing} not under {directory!r}; available: {names}")
        names = [n for n in names if n in set(topics)]
    if limit is not None:
        names = names[:limit]
    _check_rouge_perl()
    official = rouge.TimelineRougeEvaluator(measures=["rouge_1", "rouge_2"])
    loaded = [(topic, ref_name, ref, articles)
              for topic in names for articles in [load_topic(directory, topic, enrich)]
              for ref_name, ref in reference_timelines(directory, topic)]
    rows: list[dict[str, Any]] = []
    out: dict[str, Any] = {}
    if folds is None:
        for topic, ref_name, ref, articles in loaded:
            rows.append({"topic": topic, "timeline": ref_name, **_score_timeline(official, articles, ref, weights)})
    else:
        fast = rouge.TimelineRougeEvaluator(measures=["rouge_1", "rouge_2"], rouge_computation="reimpl")
        fit = [[_score_timeline(fast, articles, ref, w) for _, _, ref, articles in loaded] for w in grid]
        fold_rows = []
        for held in _assign_folds(sorted({topic_of(t) for t in names}), folds):
            train = [i for i, item in enumerate(loaded) if topic_of(item[0]) not in held]
            test = [i for i, item in enumerate(loaded) if topic_of(item[0]) in held]

            def objective(g: int, train: list[int] = train) -> float:
                return statistics.fmean(fit[g][i]["ar1_f1"] + fit[g][i]["ar2_f1"] for i in train)

            best = max(range(len(grid)), key=lambda g: (objective(g), -g))
            held_rows = []
            for i in test:
                topic, ref_name, ref, articles = loaded[i]
                held_rows.append({"topic": topic, "timeline": ref_name, "fold": ",".join(held),
                                  **_score_timeline(official, articles, ref, grid[best])})
            rows.extend(held_rows)
            fold_rows.append({"held_out": ",".join(held), "fitted": dataclasses.asdict(grid[best]),
                              "train_objective": round(objective(best), 4), "timelines": len(held_rows),
                              **_means(held_rows)})
        out["folds"] = fold_rows
        by_topic = {t: _means([r for r in rows if topic_of(r["topic"]) == t]) for t in sorted({topic_of(r["topic"]) for r in rows})}
        out["per_topic"] = by_topic
        out["topic_macro"] = {k: round(statistics.fmean(v[k] for v in by_topic.values()), 4) for k in _METRICS}
        out["weakest_topic_ar1_f1"] = min(v["ar1_f1"] for v in by_topic.values())
    result: dict[str, Any] = {"timelines": len(rows), **_means(rows), **out}
    if details:
        result["per_timeline"] = rows
    return result


def word_limit(cluster: dict[str, Any], default: int | None = None) -> int:
    """The length the request asks for: the cluster's own limit, else the task's.

    DUC 2007's update task asks for 100-word summaries of each batch (clusters with a
    ``parent_topic``); DUC 2005-2007's main task and MultiLing 2011 ask for 250 words.
    ``default`` (the caller's ``--words``) overrides both task rules.
    """
    for key in ("max_words", "words", "length", "summary_words"):
        if isinstance(cluster.get(key), int):
            return int(cluster[key])
    if default:
        return default
    return 100 if cluster.get("parent_topic") else 250


def request_query(cluster: dict[str, Any]) -> str | None:
    """The question a cluster's request asks: its title and narrative (DUC topics), or none."""
    parts = [str(cluster[k]).strip() for k in ("title", "narrative") if cluster.get(k)]
    return " ".join(p for p in parts if p) or None


def _summary_rows(clusters: list[dict[str, Any]], enrich: Enricher, max_words: int | None,
                  weights: SummaryWeights, scorer: Any, cache: dict[str, list]) -> list[dict[str, Any]]:
    earlier: dict[str, list] = {}
    rows = []
    for cluster in sorted(clusters, key=lambda c: c["cluster_id"]):
        cid = cluster["cluster_id"]
        if cid not in cache:
            cache[cid] = cluster_articles(cluster, enrich)
        articles = cache[cid]
        limit_words = word_limit(cluster, max_words)
        query = request_query(cluster)
        topic = cluster.get("parent_topic")
        before = earlier.get(topic, []) if topic else []
        lang = cluster_language(cluster)
        if before:
            sents = update_summary(articles, before, max_words=limit_words, query=query, reader_language=lang,
                                   weights=weights)
        else:
            sents = summarize(articles, max_words=limit_words, query=query, reader_language=lang, weights=weights)
        if topic:
            earlier[topic] = before + articles
        refs = [s["text"] if isinstance(s, dict) else str(s) for s in cluster.get("summaries", [])]
        if not refs:
            continue
        text = "\n".join(s.text for s in sents)
        scores = [scorer.score(ref, text) for ref in refs]
        rows.append({"cluster": cid, "update": bool(before), "words": len(text.split()), "word_limit": limit_words,
                     "rouge1_f1": statistics.fmean(s["rouge1"].fmeasure for s in scores),
                     "rouge2_f1": statistics.fmean(s["rouge2"].fmeasure for s in scores),
                     "rouge1_recall": statistics.fmean(s["rouge1"].recall for s in scores),
                     "rouge2_recall": statistics.fmean(s["rouge2"].recall for s in scores)})
    return rows


def _select_clusters(path: str, language: str | None, limit: int | None) -> list[dict[str, Any]]:
    clusters = [c for c in read_clusters(path) if language is None or cluster_language(c) == language]
    return clusters[:limit] if limit is not None else clusters


def evaluate_summaries(
    path: str,
    *,
    language: str | None = "en",
    max_words: int | None = None,
    limit: int | None = None,
    enrich: Enricher | None = None,
    details: bool = False,
    fit_on: str | None = None,
    grid: Sequence[SummaryWeights] = SUMMARY_GRID,
    weights: SummaryWeights | None = None,
) -> dict[str, Any]:
    """Mean ROUGE-1/2 recall and F1 (rouge-score, Porter stemming) against the human summaries.

    Only clusters in ``language`` are scored (None: all). The word limit is the request's
    (``word_limit``) unless ``max_words`` says otherwise. With ``fit_on`` (another cluster file,
    same language filter), the ``grid`` value with the best ROUGE-2 recall there is used here.
    """
    from rouge_score import rouge_scorer

    enrich = enrich or default_enricher()
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)
    out: dict[str, Any] = {}
    if fit_on is not None:
        train = _select_clusters(fit_on, language, None)
        cache: dict[str, list] = {}
        fits = [statistics.fmean(r["rouge2_recall"] for r in _summary_rows(train, enrich, max_words, w, scorer, cache))
                for w in grid]
        best = max(range(len(grid)), key=lambda g: (fits[g], -g))
        weights = grid[best]
        out["fitted_on"] = {"file": fit_on, "clusters": len(train), "weights": dataclasses.asdict(weights),
                            "rouge2_recall": round(fits[best], 4)}
    rows = _summary_rows(_select_clusters(path, language, limit), enrich, max_words,
                         weights or SummaryWeights(), scorer, {})
    result: dict[str, Any] = {"clusters": len(rows)}
    for key in ("rouge1_f1", "rouge2_f1", "rouge1_recall", "rouge2_recall"):
        result[key] = round(statistics.fmean(r[key] for r in rows), 4) if rows else 0.0
    result.update(out)
    if details:
        result["per_cluster"] = rows
    return result
