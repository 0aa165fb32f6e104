"""Scores that decide membership, and the cluster bookkeeping shared by events and stories.

An article joins an event when it reports the same happening: it must agree with the event on
meaning (embedding), on specifics (rare words, names, numbers) and be close in time. An event joins a
story when it continues the thread: the same actors and places and topic, with gaps of months
allowed, so the story score leans on specifics rather than on time. Neighbouring stories that share
generic vocabulary (protests, regime, rebels) stay apart because words are IDF-weighted and the
profile keeps each story's own rare terms.
"""

from __future__ import annotations

import dataclasses
import math

from storyline.stories.similarity import DocFreq, Features, Profile, day_gap, pair_parts

__all__ = ["PlacementConfig", "Cluster", "event_score", "story_score"]


@dataclasses.dataclass(frozen=True, slots=True)
class PlacementConfig:
    """Thresholds and weights; the defaults are calibrated on DUC 2004 and checked on other sets."""

    event_threshold: float = 0.30
    story_threshold: float = 0.22
    event_window_days: int = 30  # an event is a candidate this long after its last article
    story_window_days: int = 400  # a story stays open this long after its last event
    event_time_scale: float = 10.0  # days; the time penalty grows with log(1 + gap / scale)
    story_time_scale: float = 90.0
    time_weight: float = 0.05
    w_embedding: float = 0.35
    w_lexical: float = 0.65  # max of words and anchors: words within a language, anchors across
    lexical_only_scale: float = 2.5  # lexical score -> combined scale when there is no embedding
    w_entities: float = 0.0  # added only when both sides have entities (renormalised)
    merge_margin: float = 0.20  # clusters merge when their profiles score this far above the threshold
    candidates: int = 20
    profile_terms: int = 400
    expire_every: int = 256  # articles between expiry sweeps of the candidate indexes


@dataclasses.dataclass(slots=True)
class Cluster:
    """The working state of an event or story: id, profile, members, and the parent it belongs to."""

    id: str
    profile: Profile
    members: list[str]
    parent: str | None = None
    title: str | None = None


def _combine(parts: dict[str, float], gap: float, scale: float, config: PlacementConfig) -> float:
    lexical = max(parts["words"], parts["anchors"])
    if parts["embedding"] is None:  # a language the embedder does not know: specifics alone decide
        score = config.lexical_only_scale * lexical
    else:
        score = config.w_embedding * max(parts["embedding"], 0.0) + config.w_lexical * lexical
    if parts["entities"] > 0 and config.w_entities > 0:
        score = (score + config.w_entities * parts["entities"]) / (1 + config.w_entities)
    return score - config.time_weight * math.log1p(gap / scale)


def event_score(item: Features | Profile, event: Profile, df: DocFreq, config: PlacementConfig) -> tuple[float, dict]:
    parts = pair_parts(item, event, df)
    date = item.date if isinstance(item, Features) else item.last
    gap = day_gap(date, event.first, event.last)
    if isinstance(item, Profile) and item.first is not None and event.first is not None:
        gap = min(gap, day_gap(item.first, event.first, event.last))
    parts["gap_days"] = gap
    return _combine(parts, gap, config.event_time_scale, config), parts


def story_score(item: Profile, story: Profile, df: DocFreq, config: PlacementConfig) -> tuple[float, dict]:
    parts = pair_parts(item, story, df)
    gap = min(day_gap(item.first, story.first, story.last), day_gap(item.last, story.first, story.last))
    parts["gap_days"] = gap
    return _combine(parts, gap, config.story_time_scale, config), parts
