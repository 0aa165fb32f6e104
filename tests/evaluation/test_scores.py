"""BCubed on hand-checkable cases, and the degraded form the seeds arrive in."""

from __future__ import annotations

import pytest

from storyline.evaluation.data import degrade
from storyline.evaluation.scores import bcubed


def test_perfect_clustering_scores_one():
    gold = {"a": "x", "b": "x", "c": "y"}
    assert bcubed({"a": "1", "b": "1", "c": "2"}, gold) == (1.0, 1.0, 1.0)


def test_all_in_one_cluster_has_full_recall_low_precision():
    gold = {"a": "x", "b": "x", "c": "y", "d": "y"}
    p, r, f = bcubed({k: "one" for k in gold}, gold)
    assert (p, r) == (0.5, 1.0)
    assert f == pytest.approx(2 / 3)


def test_singletons_have_full_precision_low_recall():
    gold = {"a": "x", "b": "x", "c": "x", "d": "y"}
    p, r, _ = bcubed({k: k for k in gold}, gold)
    assert p == 1.0
    assert r == pytest.approx((1 / 3 * 3 + 1) / 4)


def test_missing_prediction_counts_as_singleton():
    gold = {"a": "x", "b": "x"}
    assert bcubed({"a": "1"}, gold)[1] == pytest.approx(0.5)


def test_empty_gold_is_an_error():
    with pytest.raises(ValueError):
        bcubed({}, {})


def test_degrade_matches_seed_shape():
    assert degrade("U.S. and Taliban: close to peace!", "2020-01-16") == " date 2020-01-16 u s and taliban close to peace"


def test_a_missing_extra_is_named_with_its_install_line():
    from storyline.evaluation.scores import require_extra

    require_extra("json")  # present: nothing to say
    with pytest.raises(RuntimeError, match=r"pip install 'storyline\[eval\]'") as raised:
        require_extra("json", "storyline_no_such_module")
    assert "storyline_no_such_module" in str(raised.value) and "json," not in str(raised.value)


def test_eval_stories_on_the_command_line_reports_what_it_was_fitted_on(tmp_path):
    import json

    from typer.testing import CliRunner

    from storyline.cli import app

    pytest.importorskip("tilse", reason="storyline eval needs the eval extra")
    rows = [{"cluster_id": topic, "docs": [{"doc_id": f"{topic}{i}", "date": f"2021-03-0{i + 1}",
                                            "text": f"The {topic} in {place} on day {i} moved families, officials said."}
                                           for i in range(3)]}
            for topic, place in (("flood", "Porto"), ("election", "Quito"))]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "stories", str(path), "--level", "story", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["articles"] == 6 and out["fitted_on"]["procedure"].startswith("shipped") and set(out["levels"]) >= {"event", "story"}
    bad = CliRunner().invoke(app, ["eval", "stories", str(path), "--level", "galaxy"])
    assert bad.exit_code == 2 and "--level must be one of" in bad.output and "galaxy" in bad.output
