"""Near-duplicate groups over real MinHash fingerprints (storyline.enrich.fingerprint)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from storyline.enrich.fingerprint import fingerprint
from storyline.stories.duplicates import NearDuplicates

ORIGINAL = (
    "The city council of Springfield voted on Tuesday to close the old steel mill by the end of the year, "
    "citing pollution complaints from residents. Mayor Jane Doe said the decision was difficult but "
    "necessary, and promised retraining programmes for the 400 workers who will lose their jobs. "
    "Union leaders called the vote a betrayal and announced a protest for next week."
)
OTHER = (
    "Heavy rain flooded parts of the northern valley overnight, forcing hundreds of families to leave "
    "their homes. Emergency services rescued a dozen people stranded on rooftops, and the regional "
    "government declared a state of emergency as rivers continued to rise on Wednesday morning."
)


def _scraped(text: str) -> str:
    """What a careless scraper delivers: lowercased, punctuation stripped."""
    return re.sub(r"[^\w\s]", "", text.lower())


def test_lowercased_unpunctuated_copy_joins_original() -> None:
    dups = NearDuplicates()
    assert dups.find("a", fingerprint(ORIGINAL)) is None
    assert dups.find("b", fingerprint(_scraped(ORIGINAL))) == "a"
    assert len(dups) == 2


def test_different_article_is_new() -> None:
    dups = NearDuplicates()
    dups.find("a", fingerprint(ORIGINAL))
    assert dups.find("c", fingerprint(OTHER)) is None
    assert dups.leader("c") == "c"


def test_lightly_edited_copy_found_but_half_copy_not() -> None:
    dups = NearDuplicates(threshold=0.8)
    dups.find("a", fingerprint(ORIGINAL))
    edited = ORIGINAL.replace("next week", "next Monday")
    assert dups.find("b", fingerprint(edited)) == "a"
    half = ORIGINAL[: len(ORIGINAL) // 2] + " " + OTHER
    assert dups.find("h", fingerprint(half)) is None


def test_leader_is_earliest_and_stable_after_its_removal() -> None:
    dups = NearDuplicates()
    fp = fingerprint(ORIGINAL)
    assert dups.find("first", fp) is None
    assert dups.find("second", fp) == "first"
    dups.remove("first")
    assert len(dups) == 1
    # the group keeps its name: a later copy still reports the original leader
    assert dups.find("third", fp) == "first"
    assert dups.find("second", fp) == "first"  # re-asking answers from memory


def test_same_input_same_groups() -> None:
    texts = [ORIGINAL, OTHER, _scraped(OTHER), _scraped(ORIGINAL), ORIGINAL]
    runs = []
    for _ in range(2):
        dups = NearDuplicates()
        runs.append([dups.find(f"k{i}", fingerprint(t)) for i, t in enumerate(texts)])
    assert runs[0] == runs[1] == [None, None, "k1", "k0", "k0"]


def test_wrong_fingerprint_length_is_named() -> None:
    with pytest.raises(ValueError, match="'x'.*fingerprint"):
        NearDuplicates().find("x", np.zeros(5, dtype=np.uint64))


def test_capacity_forgets_the_earliest_keys() -> None:
    """A long-running process stays bounded: beyond ``capacity`` the earliest keys go, and a copy of one
    of them is no longer caught, while a copy of a kept one still is."""
    texts = [f"{ORIGINAL} story number {i} " + " ".join(f"word{i}x{j}" for j in range(60)) for i in range(5)]
    dups = NearDuplicates(capacity=3)
    for i, text in enumerate(texts):
        assert dups.find(f"k{i}", fingerprint(text)) is None
    assert len(dups) == 3 and "k0" not in dups and "k1" not in dups and "k4" in dups
    assert dups.find("copy0", fingerprint(texts[0])) is None
    assert dups.find("copy4", fingerprint(texts[4])) == "k4"
    with pytest.raises(ValueError, match="capacity"):
        NearDuplicates(capacity=0)
