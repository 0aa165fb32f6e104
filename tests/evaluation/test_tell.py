"""Timelines and summaries of the stories Storyline builds, on tiny hand-made sets."""

from __future__ import annotations

import json

import pytest

from storyline.evaluation.scores import PERL_ROUGE, PYTHON_ROUGE, SUMMARY_ROUGE, perl_rouge_problem
from storyline.evaluation.tell import TIMELINE_GRID, evaluate_summaries, evaluate_timelines

pytest.importorskip("tilse", reason="the evaluations need the eval extra: pip install -e '.[eval]'")

DOC = ("The city council approved the new river bridge on Monday after two years of debate. "
       "Construction will start in March and cost 40 million euros. "
       "Opponents said the money should have gone to schools instead.")


def test_evaluate_summaries_on_a_tiny_cluster(tmp_path):
    path = tmp_path / "c.jsonl"
    rows = [
        {"cluster_id": "T1-A", "parent_topic": "T1", "docs": [{"doc_id": "d1", "date": "2021-03-01", "text": DOC}],
         "summaries": [{"text": DOC}]},
        {"cluster_id": "T1-B", "parent_topic": "T1", "docs": [
            {"doc_id": "d2", "date": "2021-03-09", "text": DOC + " The mayor resigned on Friday over a funding scandal."}],
         "summaries": [{"text": "The mayor resigned on Friday over a funding scandal."}]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    out = evaluate_summaries(str(path), details=True)
    assert out["clusters"] == 2 and out["scorer"] == SUMMARY_ROUGE and out["fitted_on"]["in_sample"] is True
    first, update = out["per_cluster"]
    assert first["built_story"]["rouge2_f1"] > 0.9  # the summary is the document
    assert first["word_limit"] == update["word_limit"] == 100  # DUC 2007 update batches ask for 100 words
    for view in ("built_story", "oracle_story"):  # only the new sentence is reported
        assert update["update"] and update[view]["rouge2_f1"] > 0.5, view


def test_evaluate_timelines_names_a_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        evaluate_timelines(str(tmp_path / "nope"))


def _tiny_timeline17(root):
    """Two topics (``flood_*``, ``quake_*``), one outlet each: articles naming days, and a reference."""
    for topic, thing, place in (("flood_wire", "flood", "Porto"), ("quake_wire", "earthquake", "Quito")):
        folder = root / topic
        folder.mkdir()
        arts, ref = [], []
        for k, day in enumerate(("2021-03-01", "2021-03-05", "2021-03-09")):
            for j in range(3):
                arts.append({"uid": f"{topic}-{k}-{j}", "dct": day, "text":
                             f"The {thing} in {place} on {day} forced {100 * (k + 1) + j} families from their homes. "
                             f"Rescue teams in {place} worked through the night of {day} after the {thing}. "
                             f"Officials said on {day} that aid for the {thing} would reach {place} within days."})
            ref.append({"date": day, "text": f"The {thing} forced {100 * (k + 1)} families from their homes in {place}."})
        (folder / "articles.json").write_text(json.dumps(arts), encoding="utf-8")
        (folder / "wire.timeline.json").write_text(json.dumps(ref), encoding="utf-8")


def test_evaluate_timelines_in_folds_scores_each_topic_held_out(tmp_path):
    _tiny_timeline17(tmp_path)
    out = evaluate_timelines(str(tmp_path), folds=2, details=True)
    assert out["timelines"] == 2 and [f["held_out"] for f in out["folds"]] == ["flood", "quake"]
    for fold in out["folds"]:
        assert any(fold["fitted"]["topic"] == w.topic for w in TIMELINE_GRID)
    assert {r["fold"] for r in out["per_timeline"]} == {"flood", "quake"}
    assert out["date_f1"] == 1.0 and out["ar1_f1"] > 0.3  # three days named by three articles each
    assert out["oracle_story"]["date_f1"] == 1.0
    assert set(out["per_topic"]) == {"flood", "quake"} and out["weakest_topic_ar1_f1"] > 0.3
    assert out["fitted_on"]["in_sample"] is False and "folds" in out["fitted_on"]["procedure"]
    assert out["scorer"] == (PERL_ROUGE if perl_rouge_problem() is None else PYTHON_ROUGE)
    with pytest.raises(ValueError, match="between 2 and the number of topics"):
        evaluate_timelines(str(tmp_path), folds=3)


def test_evaluate_summaries_fits_on_another_file_and_reports_recall(tmp_path):
    rows = [{"cluster_id": f"T{i}", "docs": [{"doc_id": "d1", "date": "2021-03-01", "text": DOC}],
             "summaries": [{"text": DOC}]} for i in range(2)]
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps(rows[0]), encoding="utf-8")
    b.write_text(json.dumps(rows[1]), encoding="utf-8")
    out = evaluate_summaries(str(a), fit_on=str(b), details=True)
    assert out["fitted_on"]["sets"] == ["b.jsonl"] and out["fitted_on"]["clusters"] == 1
    assert out["rouge2_recall"] > 0.9 and out["per_cluster"][0]["word_limit"] == 250


def test_evaluate_timelines_of_another_set_with_the_shipped_weights_is_out_of_sample(tmp_path):
    """The shipped weights were chosen on Timeline17; on any other set (the Spanish crises) they are not
    fitted there. ``stores`` keeps each topic's enriched store, so a second run reads the same answer."""
    sets = tmp_path / "crisis_es_timelines"
    sets.mkdir()
    _tiny_timeline17(sets)
    first = evaluate_timelines(str(sets), stores=tmp_path / "stores")
    assert first["fitted_on"]["in_sample"] is False and first["timelines"] == 2
    assert sorted(p.name for p in (tmp_path / "stores").glob("*-enriched.db")) == ["flood_wire-enriched.db",
                                                                                   "quake_wire-enriched.db"]
    again = evaluate_timelines(str(sets), stores=tmp_path / "stores")
    assert {k: again[k] for k in ("ar1_f1", "ar2_f1", "date_f1")} == {k: first[k] for k in ("ar1_f1", "ar2_f1", "date_f1")}
