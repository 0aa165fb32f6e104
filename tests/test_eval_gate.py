"""Quality gate, in the spirit of trafilatura's ``tests/eval_gate.py``.

Runs the ``storyline eval`` harnesses (the same code path as ``track``, on a fresh temporary store) over
``../shared/eval`` and fails when a score drops below its floor. Floors are pinned a little under the
figures measured when they were set (see the README's figures table and the issue notes); they are only
ever raised. Skips with a clear message where ``../shared/eval`` is absent.
"""

from __future__ import annotations

import json

import pytest

from storyline.cli.evaluate import pipeline_runner

pytestmark = pytest.mark.slow

# metric floors: measured value minus a small margin for platform noise (BLAS, thread timing do not
# change results, so the margin only absorbs deliberate, reviewed trade-offs)
FLOORS = {
    # events: DUC 2004 cross-validated (event model refitted without each fold's topics; --folds 5)
    "duc2004_event_f1": 0.81,  # measured 0.816 out of sample (0.819 before NER stopped reading the registry; in-sample 0.839; TF-IDF single-pass 0.80)
    "duc2004_degraded_gap": 0.02,  # degraded copies score like the clean originals
    # stories: the event model is fitted on DUC only, the story threshold (0.24) on all four story sets;
    # out-of-sample figures are leave-one-set-out (benchmarks/stories_oos.py: threshold chosen on the
    # other sets). Floors sit at those figures, never below an earlier floor.
    "duc2004_story_f1": 0.68,  # earlier floor; full run 0.754, leave-one-set-out 0.505 (kept, not lowered)
    "timeline17_story_f1": 0.885,  # leave-one-set-out 0.890 (the threshold chosen on the others is 0.24)
    "multiling_arenfr_story_f1": 0.89,  # 0.904 at the threshold chosen without MultiLing (0.22); full run 0.897
    "multiling_all_story_f1": 0.79,  # leave-one-set-out 0.801 (full run 0.809)
    "wikiref_story_f1": 0.82,  # leave-one-set-out 0.832
    "semeval_pearson": 0.70,  # measured 0.708 (weights chosen on this dev set: in sample)
    # Timelines: OUT OF SAMPLE since issue 10 — leave-one-topic-out over Timeline17's 4 topics
    # (`storyline eval timelines DIR --folds 4`), each timeline scored with weights fitted on the other
    # topics. The floors before (0.135 / 0.040 / 0.62) pinned in-sample figures (weights chosen on all
    # 10 timelines); these replace them and are higher still.
    "timeline17_ar1_f1": 0.145,  # measured 0.1493 out of sample (news-tls DATEWISE 0.120)
    "timeline17_ar2_f1": 0.050,  # measured 0.0532 out of sample (DATEWISE 0.035)
    # measured 0.6864 out of sample with the text-less records dropped as track drops them (0.7061 when
    # they were counted; the landed floor before was 0.56, in-sample); see README "Timelines fold by fold"
    "timeline17_date_f1": 0.68,
    "timeline17_weakest_topic_ar1_f1": 0.10,  # measured 0.1086 (BP oil spill, held out)
    "duc2007_update_rouge2": 0.10,  # measured 0.1054 (0.1028 before issue 10), F1 at 250 words, in-sample
    # DUC 2007 update at the task's own 100 words, weights fitted on MultiLing English (out of sample)
    "duc2007_update_100w_rouge2_recall": 0.085,  # measured 0.0899 (in-sample weights: 0.0948)
    "multiling_en_rouge2": 0.19,  # measured 0.204, weights fitted on DUC 2007 (out of sample)
}


def _report(name: str, result: dict) -> None:
    print(f"\n[eval-gate] {name}: {json.dumps(result)}")


def test_duc2004_events_cross_validated(shared_eval):
    from storyline.stories.evaluate import evaluate_folds

    path = shared_eval / "duc2004_clusters.jsonl"
    clean = evaluate_folds(path, folds=5, level="event")
    degraded = evaluate_folds(path, folds=5, level="event", degrade=True)
    _report("duc2004 clean, 5 folds", clean)
    _report("duc2004 degraded, 5 folds", degraded)
    assert clean["articles"] == 500 and clean["folds"] == 5
    assert clean["bcubed_f1"] >= FLOORS["duc2004_event_f1"]
    assert abs(clean["bcubed_f1"] - degraded["bcubed_f1"]) <= FLOORS["duc2004_degraded_gap"]


def test_duc2004_neighbouring_stories_stay_apart(shared_eval):
    from storyline.stories.evaluate import evaluate_clusters

    result = evaluate_clusters(shared_eval / "duc2004_clusters.jsonl", level="story", runner=pipeline_runner)
    _report("duc2004 as stories", result)
    assert result["bcubed_f1"] >= FLOORS["duc2004_story_f1"]


def test_timeline17_stories(shared_eval):
    from storyline.stories.evaluate import evaluate_clusters

    result = evaluate_clusters(shared_eval / "timeline17_storylines.jsonl", level="story", runner=pipeline_runner)
    _report("timeline17 stories", result)
    assert result["bcubed_f1"] >= FLOORS["timeline17_story_f1"]


def test_multiling_cross_language(shared_eval):
    from storyline.stories.evaluate import evaluate_clusters

    result = evaluate_clusters(shared_eval / "multiling2011_clusters.jsonl", level="story",
                               languages=["ar", "en", "fr"], runner=pipeline_runner)
    _report("multiling ar+en+fr", result)
    assert result["bcubed_f1"] >= FLOORS["multiling_arenfr_story_f1"]


def test_multiling_all_languages(shared_eval):
    from storyline.stories.evaluate import evaluate_clusters

    result = evaluate_clusters(shared_eval / "multiling2011_clusters.jsonl", level="story", runner=pipeline_runner)
    _report("multiling 7 languages", result)
    assert result["bcubed_f1"] >= FLOORS["multiling_all_story_f1"]


def test_wikiref_topics(shared_eval):
    from storyline.stories.evaluate import evaluate_clusters

    result = evaluate_clusters(shared_eval / "wikiref220.jsonl", level="story", runner=pipeline_runner)
    _report("wikiref220 topics", result)
    assert result["bcubed_f1"] >= FLOORS["wikiref_story_f1"]


def test_semeval_pairs(shared_eval):
    from storyline.stories.evaluate import evaluate_pairs

    result = evaluate_pairs(shared_eval / "semeval2022_pairs_dev.csv")
    _report("semeval pairs", result)
    assert result["pearson"] >= FLOORS["semeval_pearson"]


def test_timeline17_timelines(shared_eval):
    from storyline.tell.evaluate import evaluate_timelines

    result = evaluate_timelines(str(shared_eval / "timeline17"), folds=4)
    _report("timeline17 timelines, leave-one-topic-out", result)
    assert result["timelines"] == 10 and len(result["folds"]) == 4
    assert result["ar1_f1"] >= FLOORS["timeline17_ar1_f1"]
    assert result["ar2_f1"] >= FLOORS["timeline17_ar2_f1"]
    assert result["date_f1"] >= FLOORS["timeline17_date_f1"]
    assert result["weakest_topic_ar1_f1"] >= FLOORS["timeline17_weakest_topic_ar1_f1"]


def test_summaries(shared_eval):
    from storyline.tell.evaluate import evaluate_summaries

    duc, multi = str(shared_eval / "duc2007_update_clusters.jsonl"), str(shared_eval / "multiling2011_clusters.jsonl")
    update = evaluate_summaries(duc, max_words=250)
    official = evaluate_summaries(duc, fit_on=multi)
    multiling = evaluate_summaries(multi, fit_on=duc)
    _report("duc2007 update summaries, 250 words", update)
    _report("duc2007 update summaries, 100 words, fitted on MultiLing", official)
    _report("multiling english summaries, fitted on DUC 2007", multiling)
    assert update["rouge2_f1"] >= FLOORS["duc2007_update_rouge2"]
    assert official["rouge2_recall"] >= FLOORS["duc2007_update_100w_rouge2_recall"]
    assert multiling["rouge2_f1"] >= FLOORS["multiling_en_rouge2"]
