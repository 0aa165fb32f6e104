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
    assert first["word_limit"] == update["word_limit"] == 100  # DUC 2007 update batches ask for 100 words
    assert update["update"] and update["rouge2_f1"] > 0.5  # only the new sentence is reported


def test_evaluate_timelines_names_a_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        evaluate_timelines(str(tmp_path / "nope"))


def test_evaluate_timelines_says_what_to_install_when_rouge_cannot_run(tmp_path, monkeypatch):
    (tmp_path / "topic").mkdir()
    (tmp_path / "topic" / "articles.json").write_text("[]")
    monkeypatch.setattr("shutil.which", lambda name: None)  # no perl at all
    with pytest.raises(RuntimeError, match="libxml-parser-perl"):
        evaluate_timelines(str(tmp_path), enrich=lambda articles: articles)


@pytest.mark.slow
def test_timeline17_quality_floor(shared_eval):
    out = evaluate_timelines(str(shared_eval / "timeline17"), topics=["H1N1_guardian", "haiti_bbc"])
    assert out["timelines"] == 2
    assert out["date_f1"] >= 0.6 and out["ar1_f1"] >= 0.12 and out["ar2_f1"] >= 0.03


@pytest.mark.slow
def test_duc2007_update_quality_floor(shared_eval):
    out = evaluate_summaries(str(shared_eval / "duc2007_update_clusters.jsonl"), max_words=250)
    assert out["clusters"] == 30 and out["rouge2_f1"] >= 0.095


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
                             f"Rescue teams in {place} worked through the night after the {thing}. "
                             f"Officials said aid for the {thing} would reach {place} within days."})
            ref.append({"date": day, "text": f"The {thing} forced {100 * (k + 1)} families from their homes in {place}."})
        (folder / "articles.json").write_text(json.dumps(arts), encoding="utf-8")
        (folder / "wire.timeline.json").write_text(json.dumps(ref), encoding="utf-8")


def test_evaluate_timelines_in_folds_scores_each_topic_held_out(tmp_path):
    from storyline.tell.evaluate import TIMELINE_GRID

    _tiny_timeline17(tmp_path)
    out = evaluate_timelines(str(tmp_path), folds=2, details=True)
    assert out["timelines"] == 2 and [f["held_out"] for f in out["folds"]] == ["flood", "quake"]
    for fold in out["folds"]:
        assert any(fold["fitted"]["topic"] == w.topic for w in TIMELINE_GRID)
    assert {r["fold"] for r in out["per_timeline"]} == {"flood", "quake"}
    assert out["date_f1"] == 1.0 and out["ar1_f1"] > 0.3  # three days named by three articles each
    assert set(out["per_topic"]) == {"flood", "quake"} and out["weakest_topic_ar1_f1"] > 0.3
    with pytest.raises(ValueError, match="between 2 and the number of topics"):
        evaluate_timelines(str(tmp_path), folds=3)


def test_evaluate_summaries_fits_on_another_file_and_reports_recall(tmp_path):
    rows = [{"cluster_id": f"T{i}", "docs": [{"doc_id": "d1", "date": "2021-03-01", "text": DOC}],
             "summaries": [{"text": DOC}]} for i in range(2)]
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps(rows[0]), encoding="utf-8")
    b.write_text(json.dumps(rows[1]), encoding="utf-8")
    out = evaluate_summaries(str(a), fit_on=str(b), details=True)
    assert out["fitted_on"]["file"] == str(b) and out["fitted_on"]["clusters"] == 1
    assert out["rouge2_recall"] > 0.9 and out["per_cluster"][0]["word_limit"] == 250
