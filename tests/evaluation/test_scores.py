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
