"""Does placement cost stay flat as the store grows? The real ``StoryPlacer`` on a long synthetic stream.

    python benchmarks/placement_growth.py [--n 100000] [--per-day 100] [--batch 256]

``benchmarks/stories.py`` times a minimal loop around the candidate index at 1M stored; this runs the
real placer (event model, refinement, checkpoint splits, story average link, expiry) as ``track`` does:
batches of 256, each followed by ``changes()`` (what a store writes), ``forget_frozen()`` and the thread
linker's ``update`` over the changed stories (timed apart: ``threads_ms_per_article``). So the work
left per article depends on what is open (the event and story windows), and the question is whether it
also depends on how much was placed before. Embedding and NER are not run: articles carry synthetic unit
vectors, entities and ~120-word texts drawn from event, story and background vocabularies.

Stream: ``--per-day`` articles a day (100,000 articles at 100 a day span about 2.7 years, so stories
leave the 400-day story window from about 40,000 on and the held records should level off there); events
of 5-20 articles over up to 6 days, 2-12 events a story over up to 60 days. Printed per tenth of the stream: articles placed so far,
CPU ms per article of ``place`` (p50 and p99 per article) and of the whole batch (refine and expiry
included), the thread linker's CPU ms per article, events, stories and threads still held in memory, and this
process's resident memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import resource
import time
from collections import Counter

import numpy as np

from storyline.model import Article, EntityMention, EntityType
from storyline.pipeline import place_batches
from storyline.stories.placement import StoryPlacer
from storyline.stories.threads import ThreadLinker

DIM = 512
DAY0 = dt.date(2020, 1, 1)
SEED = 20261201
VOCAB = 40_000


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


class Stream:
    """Articles in date order, made lazily: story -> events -> articles, as in ``benchmarks/stories.py``."""

    def __init__(self, n: int, per_day: int, seed: int = SEED) -> None:
        self.rng = np.random.default_rng(seed)
        self.n, self.per_day = n, per_day
        rng = self.rng
        plan: list[tuple[int, int, int]] = []  # (day, event, story)
        event = story = 0
        days = max(1, n // per_day)
        while len(plan) < n:
            start = int(rng.integers(0, days))
            for _ in range(int(rng.integers(2, 13))):
                event_start = start + int(rng.integers(0, 60))
                for _ in range(int(rng.integers(5, 21))):
                    plan.append((event_start + int(rng.integers(0, 7)), event, story))
                event += 1
            story += 1
        plan = sorted(plan[:n])
        self.plan = plan
        self.story_topic = _unit(rng.standard_normal((story, DIM), dtype=np.float32))
        story_of = np.zeros(event, dtype=np.int64)  # events cut off by ``n`` keep story 0: never used
        for _, e, s in plan:
            story_of[e] = s
        noise = rng.standard_normal((event, DIM), dtype=np.float32) / np.sqrt(DIM)
        self.event_center = _unit(self.story_topic[story_of] + noise)  # cos ~0.7 to its story's topic
        self.event_words = np.minimum(rng.zipf(1.2, (event, 8)), VOCAB - 1)
        self.story_words = np.minimum(rng.zipf(1.2, (story, 8)), VOCAB - 1)
        self.event_entities = np.minimum(rng.zipf(1.3, (event, 3)), 50_000)
        self.story_entities = np.minimum(rng.zipf(1.3, (story, 2)), 50_000)

    def article(self, i: int) -> Article:
        day, event, story = self.plan[i]
        rng = np.random.default_rng([SEED, i])
        words = [f"w{w}" for w in self.event_words[event]] * 4 + [f"w{w}" for w in self.story_words[story]] * 3
        words += [f"w{w}" for w in np.minimum(rng.zipf(1.1, 64), VOCAB - 1)]
        rng.shuffle(words)
        text = " ".join(words) + "."
        names = [f"Person{e}" for e in self.event_entities[event][: 2 + i % 2]] + [f"Place{e}" for e in self.story_entities[story]]
        entities = [EntityMention(canonical=name, type=EntityType.PERSON, surface=name, start=0, end=1) for name in names]
        vector = _unit(self.event_center[event] + rng.standard_normal(DIM).astype(np.float32) / np.sqrt(DIM))
        key = f"{i:08d}"
        return Article(id=key, text=text, original_text=text, origin=key, content_hash=key,
                       ingested_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), title=" ".join(words[:8]),
                       language="en", published=DAY0 + dt.timedelta(days=day), entities=entities,
                       embedding=vector.astype(np.float32), models={"embedding": "usem3"})


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def run(n: int, per_day: int, batch: int) -> list[dict]:
    stream = Stream(n, per_day)
    placer = StoryPlacer()
    place = placer.place
    costs: list[float] = []

    def timed(article: Article):
        clock = time.thread_time()
        link = place(article)
        costs.append(time.thread_time() - clock)
        return link

    placer.place = timed  # type: ignore[method-assign]  # place_batch calls self.place: time each article
    rows: list[dict] = []
    tenth = max(batch, n // 10)
    window_costs: list[float] = []
    window_batch: list[float] = []
    window_threads: list[float] = []
    linker = ThreadLinker()
    times: Counter[str] = Counter()

    def batches():
        for lo in range(0, n, batch):
            yield [stream.article(i) for i in range(lo, min(n, lo + batch))]

    gc.collect()
    done = 0
    for articles, _, _ in place_batches(placer, batches(), times=times):  # the pipeline's own loop
        clock = time.thread_time()
        _, stories = placer.changes()
        placer.forget_frozen()
        window_batch.append((times.pop("placement", 0.0) + time.thread_time() - clock) / len(articles))
        clock = time.thread_time()
        linker.update(stories)  # threads, as Pipeline._save_placed links them after each batch
        window_threads.append((time.thread_time() - clock) / len(articles))
        window_costs.extend(costs)
        costs.clear()
        done += len(articles)
        if done % tenth < batch or done == n:
            ms = np.array(window_costs) * 1e3
            rows.append({"placed": done, "place_ms_p50": round(float(np.percentile(ms, 50)), 2),
                         "place_ms_p99": round(float(np.percentile(ms, 99)), 2),
                         "batch_ms_per_article": round(1e3 * float(np.mean(window_batch)), 2),
                         "events_held": sum(not e.merged_into for e in placer.events()),
                         "stories_held": sum(not s.merged_into for s in placer.stories()),
                         "threads_ms_per_article": round(1e3 * float(np.mean(window_threads)), 3),
                         "threads_held": len(linker.threads()),
                         "redirects": len(placer.redirects()),
                         "rss_mb": round(_rss_mb())})
            print(" ".join(f"{k}={v}" for k, v in rows[-1].items()), flush=True)
            window_costs, window_batch, window_threads = [], [], []
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--per-day", type=int, default=100)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    rows = run(args.n, args.per_day, args.batch)
    first, last = rows[0], rows[-1]
    print(f"last tenth / first tenth: place p50 {last['place_ms_p50'] / first['place_ms_p50']:.2f}, "
          f"p99 {last['place_ms_p99'] / first['place_ms_p99']:.2f}, batch {last['batch_ms_per_article'] / first['batch_ms_per_article']:.2f}; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
