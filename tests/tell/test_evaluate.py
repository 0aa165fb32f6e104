from __future__ import annotations

import json

import pytest

from storyline.tell.evaluate import evaluate_summaries, evaluate_timelines

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
    assert out["clusters"] == 2 and set(out) >= {"rouge1_f1", "rouge2_f1"}
    first, update = out["per_cluster"]
    assert first["rouge2_f1"] > 0.9  # the summary is the document
    assert update["update"] and update["rouge2_f1"] > 0.5  # only the new sentence is reported


def test_evaluate_timelines_names_a_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        evaluate_timelines(str(tmp_path / "nope"))


@pytest.mark.slow
def test_timeline17_quality_floor(shared_eval):
    out = evaluate_timelines(str(shared_eval / "timeline17"), topics=["H1N1_guardian", "haiti_bbc"])
    assert out["timelines"] == 2
    assert out["date_f1"] >= 0.6 and out["ar1_f1"] >= 0.12 and out["ar2_f1"] >= 0.03


@pytest.mark.slow
def test_duc2007_update_quality_floor(shared_eval):
    out = evaluate_summaries(str(shared_eval / "duc2007_update_clusters.jsonl"))
    assert out["clusters"] == 30 and out["rouge2_f1"] >= 0.095
