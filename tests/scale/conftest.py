"""What the batch job's tests share: the driver functions' reading of a pass, which the rolling scan must equal."""

from __future__ import annotations

from typing import Callable, Mapping

import pytest

from storyline.scale.resolve import WindowPlacement, context_targets, final_records, resolve_ids
from storyline.scale.rolling import partition_digest


def _driver(placements: Mapping[int, WindowPlacement], windows, event_days=30, story_days=400) -> dict:
    """What the job's driver made of a pass: the scan's rows, from ``resolve_ids``, ``context_targets`` and
    ``final_records`` over every piece at once."""
    resolution = resolve_ids(placements)
    targets = context_targets(placements, resolution.before, windows, event_days, story_days)
    views = {t: resolution.before(t) for t in windows}
    out = {"target": set(), "map": set(resolution.mapping.items())}
    for (w, kind, raw), ts in targets.items():
        for t in ts:
            out["target"].add((w, kind, raw, t, *(views[t][(w, raw)] if kind == "event" else (None, None))))
    sources: dict = {}
    events, stories = final_records(placements, resolution.mapping, sources)
    out["event"] = {(repr(e), *sources[("event", e.id)]) for e in events}
    out["story"] = {(repr(s), *sources[("story", s.id)]) for s in stories}
    moved = {a for p in placements.values() for a in p.moved}
    out["moved"] = {(a, resolution.article_event[a], resolution.event_story.get(resolution.article_event[a]))
                    for a in moved if a in resolution.article_event}
    out["partition"] = partition_digest((a, e, resolution.event_story.get(e)) for a, e in resolution.article_event.items())
    return out



@pytest.fixture
def driver() -> Callable[..., dict]:
    return _driver
