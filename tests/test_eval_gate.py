"""Quality gate, in the spirit of trafilatura's ``tests/eval_gate.py``.

Runs the out-of-sample procedures of ``storyline.evaluation`` itself (folds over DUC 2004's topics,
leave-one-set-out over the story sets, leave-one-topic-out over Timeline17, summary weights fitted on
the other file) on ``track``'s path, and fails when a figure drops below its floor. Each set is enriched
once per test session (``enriched``) and only re-placed per fitted setting. Floors equal the measured
out-of-sample figures (README, "Figures"); the few in-sample ones say so in their name. Without
``../shared/eval`` a local run skips with a line saying so and CI (``CI=true``) fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

FLOORS = {
    # events: DUC 2004, 5 folds over topics; per fold the event model, event threshold and merge margin are
    # fitted on the other folds' topics. Measured 0.8198 on main with every branch of this round merged
    # (0.8204 on the evaluation branch alone; landed floor before: 0.81); degraded 0.8265
    "duc2004_event_f1": 0.8198,
    "duc2004_degraded_gap": 0.02,  # a tolerance, not a figure: degraded copies score like the clean originals
    # stories: leave one set out, story threshold chosen on the other two story-level sets from 0.16-0.32
    # over the story-level sets only (DUC topics, MultiLing, WikiRef); Timeline17 is scored as threads below
    "duc2004_story_f1": 0.6456,  # measured (0.20 chosen without DUC)
    "multiling_all_story_f1": 0.7281,  # 0.28 chosen without MultiLing
    "multiling_arenfr_story_f1": 0.8554,  # at the threshold chosen without MultiLing
    "wikiref_story_f1": 0.8342,
    # threads: leave one set out over the three thread-level sets, thread threshold chosen on the other two
    # (0.2-0.5); each set placed once on the product path, the linker's input replayed per threshold
    "timeline17_thread_f1": 0.9015,
    "crisis_es_thread_f1": 0.6654,
    "multiling_all_thread_f1": 0.7852,
    # arrival order: BCubed F1 of DUC 2004 placed in daily deliveries / shuffled within each week (deliveries of
    # 1-4 articles) against one run in date order (evaluation.arrival); nothing fitted; measured 2026-12-04
    # 0.9626 / 0.9205 / 0.8919 and 0.9392 / 0.8830 / 0.8295 (event / story / thread)
    "duc2004_daily_vs_one_run": {"event": 0.962, "story": 0.920, "thread": 0.891},
    "duc2004_shuffled_week_vs_one_run": {"event": 0.939, "story": 0.883, "thread": 0.829},
    "semeval_pearson": 0.7116,  # embedding cosine (Queries.similarity); nothing fitted on SemEval: out of sample
    # timelines of the built story, leave-one-topic-out over Timeline17's 4 topics, scored by ROUGE-1.5.5
    # (oracle story 0.1469 / 0.0500 / 0.6864); "python_" floors where only tilse's Python ROUGE runs
    # measured on main after the merges (the evaluation branch alone: 0.1506 / 0.0516 / 0.7048 / 0.1099;
    # Python ROUGE 0.1464 / 0.0488 / 0.7048 / 0.1068); landed floors before: 0.145 / 0.050 / 0.68 / 0.10
    # issue 19 (whole sentences, furniture, stories' language stop words) measured 0.1548 / 0.0557 / 0.7048 /
    # 0.1126, Python 0.1472 / 0.0500 / 0.7048 / 0.1053 on its branch; with restore's fix for quoted speech on
    # merged main (69 of Timeline17's articles split by the rules instead of the boundary model's fragments)
    # 0.1534 / 0.0556 / 0.7048 / 0.1117, Python 0.1461 / 0.0500 / 0.7048 / 0.1048: the floors are those, above
    # every landed floor (0.1504 / 0.0524 / 0.7048 / 0.1095; Python 0.1435 / 0.0475 / 0.7048 / 0.1042)
    "timeline17_ar1_f1": 0.1534,
    "timeline17_ar2_f1": 0.0556,
    "timeline17_date_f1": 0.7048,
    "timeline17_weakest_topic_ar1_f1": 0.1117,  # BP oil spill, held out
    "python_timeline17_ar1_f1": 0.1461,
    "python_timeline17_ar2_f1": 0.0500,
    "python_timeline17_date_f1": 0.7048,
    "python_timeline17_weakest_topic_ar1_f1": 0.1048,
    # summaries of the built story (the oracle story beside it in the reports); position and longest fitted on
    # the other file, the other weights shipped (set on both files: partly in sample)
    # measured on main after the merges: 0.0853 (the evaluation branch alone 0.0892; landed floor 0.085)
    "duc2007_update_100w_rouge2_recall": 0.0853,  # oracle story 0.0899
    # MultiLing: 0.1997 until issue 19, whose summaries no longer show fragments or headline lines: the
    # Iran crew cluster (M004) lost "if sailors and marines not released by Iran within days" and "UK naval
    # crew describe their capture ..." for whole sentences, 0.1812 -> 0.1784, and with it the set 0.1993.
    # The one floor this round lowers, by 0.0004, for a rule the issue asks for (see the closing note)
    "multiling_en_rouge2": 0.1993,  # F1; oracle story 0.2035
    "in_sample_duc2007_update_250w_rouge2": 0.0947,  # F1 of the built story, shipped weights set on this file: in sample
    # the landed floor (0.10, F1 at 250 words on the gold cluster's articles) kept on the oracle story: 0.1053
    "in_sample_duc2007_update_250w_oracle_rouge2": 0.10,
}
STORY_SETS = {  # name: (file, languages); the gold clusters are TDT-like stories or topics (MultiLing: both levels)
    "duc": ("duc2004_clusters.jsonl", None),
    "ml7": ("multiling2011_clusters.jsonl", None),
    "wikiref": ("wikiref220.jsonl", None),
}


def _report(name: str, result: dict) -> None:
    print(f"\n[eval-gate] {name}: {json.dumps(result)}")


class _Enriched:
    """Each labelled set enriched once per session through the pipeline, shared by every test."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.root, self.folder, self.made = root, folder, {}

    def __call__(self, file: str, degrade: bool = False, languages=None):
        from storyline.evaluation.data import load_cluster_documents
        from storyline.evaluation.product import enrich_set

        key = (file, degrade, tuple(sorted(languages or ())))
        documents, gold = load_cluster_documents(self.root / file, degrade_text=degrade, languages=languages)
        if key not in self.made:
            name = Path(file).stem + ("-degraded" if degrade else "") + "".join(f"-{x}" for x in key[2])
            self.made[key] = enrich_set(name, documents, self.folder / f"{name}.db")
        return self.made[key], gold


@pytest.fixture(scope="session")
def enriched(shared_eval, tmp_path_factory):
    return _Enriched(shared_eval, tmp_path_factory.mktemp("enriched"))


def test_duc2004_events_cross_validated(shared_eval, enriched):
    from storyline.evaluation.stories import evaluate_folds

    path = shared_eval / "duc2004_clusters.jsonl"
    clean = evaluate_folds(path, folds=5, level="event", enriched=enriched(path.name)[0])
    degraded = evaluate_folds(path, folds=5, level="event", degrade=True, enriched=enriched(path.name, True)[0])
    _report("duc2004 clean, 5 folds", clean)
    _report("duc2004 degraded, 5 folds", degraded)
    assert clean["articles"] == 500 and clean["folds"] == 5 and clean["fitted_on"]["in_sample"] is False
    assert clean["bcubed_f1"] >= FLOORS["duc2004_event_f1"]
    assert abs(clean["bcubed_f1"] - degraded["bcubed_f1"]) <= FLOORS["duc2004_degraded_gap"]


def test_stories_leave_one_set_out(shared_eval, enriched):
    from storyline.evaluation.data import load_cluster_documents
    from storyline.evaluation.stories import leave_one_set_out

    sets = {name: enriched(file, languages=languages) for name, (file, languages) in STORY_SETS.items()}
    ml3 = load_cluster_documents(shared_eval / "multiling2011_clusters.jsonl", languages=["ar", "en", "fr"])[1]
    result = leave_one_set_out(sets, {"story_threshold": (0.16, 0.20, 0.24, 0.28, 0.32)}, level="story",
                               subsets={"ml3": ("ml7", ml3)})
    _report("stories, leave one set out", result)
    held = result["held_out"]
    assert held["duc"]["bcubed_f1"] >= FLOORS["duc2004_story_f1"]
    assert held["ml7"]["bcubed_f1"] >= FLOORS["multiling_all_story_f1"]
    assert held["ml3"]["bcubed_f1"] >= FLOORS["multiling_arenfr_story_f1"]
    assert held["wikiref"]["bcubed_f1"] >= FLOORS["wikiref_story_f1"]


def test_duc2004_in_daily_deliveries_and_shuffled_within_a_week(enriched, tmp_path):
    """The order-independence promise on DUC 2004 (README, Guarantees): the tolerance is measured, not fitted."""
    from storyline.evaluation.arrival import agreement

    result = agreement(enriched("duc2004_clusters.jsonl")[0], tmp_path, orders=("daily", "shuffled within a week"))
    _report("duc2004 arrival orders vs one run", result)
    for order, key in (("daily", "duc2004_daily_vs_one_run"), ("shuffled within a week", "duc2004_shuffled_week_vs_one_run")):
        for level, floor in FLOORS[key].items():
            assert result[order][level] >= floor, (order, level)


THREAD_SETS = {  # name: (file, languages); the gold clusters are long-running coverage of one situation
    "timeline17": ("timeline17_storylines.jsonl", None),
    "crisis": ("crisis_es_threads.jsonl", None),
    "ml7": ("multiling2011_clusters.jsonl", None),
}


def test_threads_leave_one_set_out(enriched):
    from storyline.evaluation.threads import thread_leave_one_set_out

    sets = {name: enriched(file, languages=languages) for name, (file, languages) in THREAD_SETS.items()}
    result = thread_leave_one_set_out(sets)
    _report("threads, leave one set out", result)
    held = result["held_out"]
    assert held["timeline17"]["bcubed_f1"] >= FLOORS["timeline17_thread_f1"]
    assert held["crisis"]["bcubed_f1"] >= FLOORS["crisis_es_thread_f1"]
    assert held["ml7"]["bcubed_f1"] >= FLOORS["multiling_all_thread_f1"]


def test_semeval_pairs(shared_eval):
    from storyline.evaluation.pairs import evaluate_pairs

    result = evaluate_pairs(shared_eval / "semeval2022_pairs_dev.csv")
    _report("semeval pairs", result)
    assert result["pearson"] >= FLOORS["semeval_pearson"]


def test_timeline17_timelines(shared_eval):
    from storyline.evaluation.scores import PERL_ROUGE
    from storyline.evaluation.tell import evaluate_timelines

    result = evaluate_timelines(shared_eval / "timeline17", folds=4)
    _report("timeline17 timelines, leave-one-topic-out", result)
    assert result["timelines"] == 10 and len(result["folds"]) == 4 and result["fitted_on"]["in_sample"] is False
    prefix = "" if result["scorer"] == PERL_ROUGE else "python_"
    assert result["ar1_f1"] >= FLOORS[f"{prefix}timeline17_ar1_f1"]
    assert result["ar2_f1"] >= FLOORS[f"{prefix}timeline17_ar2_f1"]
    assert result["date_f1"] >= FLOORS[f"{prefix}timeline17_date_f1"]
    assert result["weakest_topic_ar1_f1"] >= FLOORS[f"{prefix}timeline17_weakest_topic_ar1_f1"]
    python = result["python_rouge"]  # the Python ROUGE's figures are checked wherever the test runs
    assert python["ar1_f1"] >= FLOORS["python_timeline17_ar1_f1"]
    assert python["ar2_f1"] >= FLOORS["python_timeline17_ar2_f1"]
    assert python["weakest_topic_ar1_f1"] >= FLOORS["python_timeline17_weakest_topic_ar1_f1"]


def test_summaries(shared_eval):
    from storyline.evaluation.tell import evaluate_summaries

    duc, multi = shared_eval / "duc2007_update_clusters.jsonl", shared_eval / "multiling2011_clusters.jsonl"
    official = evaluate_summaries(duc, fit_on=multi)
    multiling = evaluate_summaries(multi, fit_on=duc)
    update = evaluate_summaries(duc, max_words=250)
    _report("duc2007 update summaries, 100 words, fitted on MultiLing", official)
    _report("multiling english summaries, fitted on DUC 2007", multiling)
    _report("duc2007 update summaries, 250 words, shipped weights (in sample)", update)
    assert official["rouge2_recall"] >= FLOORS["duc2007_update_100w_rouge2_recall"]
    assert multiling["rouge2_f1"] >= FLOORS["multiling_en_rouge2"]
    assert update["rouge2_f1"] >= FLOORS["in_sample_duc2007_update_250w_rouge2"]
    assert update["oracle_story"]["rouge2_f1"] >= FLOORS["in_sample_duc2007_update_250w_oracle_rouge2"]
