"""Quality figures for the tell stage, computed through the same functions users call.

* ``evaluate_timelines``: Timeline17-format topics, scored as news-tls does (tilse's alignment-based
  many-to-one ROUGE-1/2 F1 and date F1). Each reference timeline gets a generated one with the same
  number of dates and sentences per date, restricted to the reference's time span.
* ``evaluate_summaries``: DUC-style JSONL clusters, ROUGE-1/2 F1 (rouge-score, stemming). Clusters
  ``…-B``/``…-C`` of one ``parent_topic`` are summarised as what is new given the earlier batches;
  F1 is averaged over the human summaries of a cluster.

tilse calls the bundled ROUGE-1.5.5 Perl script, which needs XML::Parser
(Debian/Ubuntu: ``apt-get install libxml-parser-perl``).
"""

from __future__ import annotations

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
from storyline.tell.summary import summarize
from storyline.tell.timeline import build_timeline

__all__ = ["evaluate_summaries", "evaluate_timelines"]


def _date_f1(pred: set[dt.date], ref: set[dt.date]) -> float:
    shared = len(pred & ref)
    if not shared:
        return 0.0
    p, r = shared / len(pred), shared / len(ref)
    return 2 * p * r / (p + r)


def evaluate_timelines(
    directory: str,
    *,
    topics: Sequence[str] | None = None,
    limit: int | None = None,
    enrich: Enricher | None = None,
    details: bool = False,
) -> dict[str, Any]:
    """Mean alignment ROUGE-1/2 F1 and date F1 over every reference timeline under ``directory``.

    ``topics`` picks subfolders by name, ``limit`` keeps the first N topics (quick runs).
    """
    from tilse.data.timelines import GroundTruth, Timeline
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
    evaluator = rouge.TimelineRougeEvaluator(measures=["rouge_1", "rouge_2"])
    rows = []
    for topic in names:
        articles = load_topic(directory, topic, enrich)
        for ref_name, ref in reference_timelines(directory, topic):
            n_dates = len(ref)
            per_date = max(1, round(sum(len(s) for s in ref.values()) / n_dates))
            entries = build_timeline(articles, max_dates=n_dates, sentences_per_date=per_date,
                                     start=min(ref), end=max(ref))
            pred = {dt.date.fromisoformat(e.date): [s.text for s in e.sentences] for e in entries}
            scores = {"rouge_1": {"f_score": 0.0}, "rouge_2": {"f_score": 0.0}}
            if pred:
                scores = evaluator.evaluate_align_date_content_costs_many_to_one(
                    Timeline(pred), GroundTruth([Timeline(ref)]))
            rows.append({
                "topic": topic, "timeline": ref_name, "dates": n_dates, "sentences_per_date": per_date,
                "ar1_f1": float(scores["rouge_1"]["f_score"]), "ar2_f1": float(scores["rouge_2"]["f_score"]),
                "date_f1": _date_f1(set(pred), set(ref)),
            })
    out: dict[str, Any] = {"timelines": len(rows)}
    for key in ("ar1_f1", "ar2_f1", "date_f1"):
        out[key] = round(statistics.fmean(r[key] for r in rows), 4) if rows else 0.0
    if details:
        out["per_timeline"] = rows
    return out


def _word_limit(cluster: dict[str, Any], default: int | None) -> int:
    for key in ("max_words", "words", "length", "summary_words"):
        if isinstance(cluster.get(key), int):
            return int(cluster[key])
    return default or 250


def evaluate_summaries(
    path: str,
    *,
    language: str | None = "en",
    max_words: int | None = None,
    limit: int | None = None,
    enrich: Enricher | None = None,
    details: bool = False,
) -> dict[str, Any]:
    """Mean ROUGE-1/2 F1 (rouge-score, Porter stemming) of summaries against human summaries.

    Only clusters in ``language`` are scored (None: all). The word limit is the cluster's own
    (``max_words``) when it states one, else ``max_words``, else 250.
    """
    from rouge_score import rouge_scorer

    enrich = enrich or default_enricher()
    clusters = [c for c in read_clusters(path)
                if language is None or cluster_language(c) == language]
    if limit is not None:
        clusters = clusters[:limit]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)
    earlier: dict[str, list] = {}
    rows = []
    for cluster in sorted(clusters, key=lambda c: c["cluster_id"]):
        articles = cluster_articles(cluster, enrich)
        limit_words = _word_limit(cluster, max_words)
        query = cluster.get("narrative") or None
        topic = cluster.get("parent_topic")
        before = earlier.get(topic, []) if topic else []
        lang = cluster_language(cluster)
        if before:
            sents = update_summary(articles, before, max_words=limit_words, query=query, reader_language=lang)
        else:
            sents = summarize(articles, max_words=limit_words, query=query, reader_language=lang)
        if topic:
            earlier[topic] = before + articles
        refs = [s["text"] if isinstance(s, dict) else str(s) for s in cluster.get("summaries", [])]
        if not refs:
            continue
        text = "\n".join(s.text for s in sents)
        r1 = statistics.fmean(scorer.score(ref, text)["rouge1"].fmeasure for ref in refs)
        r2 = statistics.fmean(scorer.score(ref, text)["rouge2"].fmeasure for ref in refs)
        rows.append({"cluster": cluster["cluster_id"], "update": bool(before), "words": len(text.split()),
                     "rouge1_f1": r1, "rouge2_f1": r2})
    out: dict[str, Any] = {"clusters": len(rows)}
    for key in ("rouge1_f1", "rouge2_f1"):
        out[key] = round(statistics.fmean(r[key] for r in rows), 4) if rows else 0.0
    if details:
        out["per_cluster"] = rows
    return out
