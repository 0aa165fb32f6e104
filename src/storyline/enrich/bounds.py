"""What one article may cost enrichment, and quarantine for the articles that cost more.

An article over a bound is stored but never placed, with its reason in its problems (``quarantine_reason``),
so one record can only ever harm itself: the pipeline (``Pipeline.enrich``) applies these bounds and counts
what it quarantined.
"""

from __future__ import annotations

import dataclasses

from storyline.model import Article

__all__ = ["QUARANTINE", "EnrichBounds", "oversized", "quarantine", "quarantine_reason"]


@dataclasses.dataclass(frozen=True)
class EnrichBounds:
    """What one article may cost enrichment before it is quarantined (stored, never placed, its reason on it).

    Every stage is linear in the text once symbol runs are cut (``normalize.clean.model_text``), so the size
    bound bounds each stage's time; ``stage_seconds`` catches what is slow anyway (checked after each
    per-article stage: it cannot interrupt one); ``tries`` bounds what never finishes: a batch whose process
    died (killed, out of memory, stopped by the server's watchdog) that many times is retried one article
    at a time, and an article alone that many times is quarantined, so it cannot block a restart.
    """

    max_chars: int = 2_000_000  # characters of text (news articles: under ~100,000; each stage caps its own work)
    stage_seconds: float = 60.0  # CPU seconds one article may spend in restore, dates or places
    tries: int = 2

    def __post_init__(self) -> None:
        if self.max_chars < 1 or self.stage_seconds <= 0 or self.tries < 1:
            raise ValueError(f"enrichment bounds must be positive, got {self}")


QUARANTINE = "quarantined: "


def quarantine_reason(article: Article) -> str | None:
    """Why enrichment quarantined the article (``EnrichBounds``), or None."""
    return next((p[len(QUARANTINE):] for p in article.problems if p.startswith(QUARANTINE)), None)


def quarantine(article: Article, reason: str) -> None:
    if quarantine_reason(article) is None:
        article.problems.append(QUARANTINE + reason)


def oversized(batch: list[Article], bounds: EnrichBounds) -> list[Article]:
    """Quarantine (before any stage reads them) the articles whose text is over ``bounds.max_chars``;
    returns the others."""
    kept = []
    for article in batch:
        if len(article.text) > bounds.max_chars:
            quarantine(article, f"its text has {len(article.text):,} characters, over the enrichment bound of "
                                 f"{bounds.max_chars:,} (PipelineConfig.bounds.max_chars); it is stored, not enriched")
        else:
            kept.append(article)
    return kept
