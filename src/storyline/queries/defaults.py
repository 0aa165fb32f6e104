"""The defaults every way in shares (CLI, Python API, HTTP API, pages), so all four give the same answer."""

from __future__ import annotations

# "new" and "fastest-growing": original articles that arrived after the reader's last visit, or by default
# within GROWTH_HOURS of the newest arrival, and later than the delivery that opened their story (arrivals
# within DELIVERY_SECONDS of the story's first; a bulk import stamps all it stores at one instant), so an
# import makes stories, not growth
GROWTH_HOURS = 24
DELIVERY_SECONDS = 60
MAX_PAGE = 200  # largest page any listing returns
# The one default of every way in (CLI, Python API, HTTP API, pages), so all four give the same answer:
DEFAULT_DATES: int | None = None  # None: the story decides how many dates (tell.timeline: knee and months covered)
DEFAULT_WORDS = 120  # words of a story's or thread's summary
# What a prepared view answers: those defaults. Other parameters are computed on read.
VIEW_WORDS, VIEW_LANGUAGE = DEFAULT_WORDS, "en"
VIEW_DATES: tuple[int | None, ...] = (DEFAULT_DATES,)
# what a view holds and how it was told: a store's views prepared under another format are told again
VIEW_FORMAT = "tell-2"  # tell-2: citations name outlet and date, background dates, furniture filtered
VIEW_NEW = 5  # what's-new sentences per article an article page shows
SIMILAR_POOL = 20_000  # articles nearest in date that ``similar`` compares (one 20,000 x 512 matrix product)
