"""The one query layer: every read question the CLI, the Python API, the HTTP API and the web pages ask.

All four ways in call ``Queries`` and none of them reads the store itself, so a listing, a story page and
``storyline story --json`` can never disagree. Answers are plain JSON-ready dicts and lists.

Listings and filters run over a light in-memory index (``queries.index``: one row per article, event and
story, no text or vectors) rebuilt only when the store changed (``Store.version``). What is expensive to
tell (timeline, summary, actors, sources, what's new) is prepared by the writer when a cluster's membership
changes (``prepare_views``, stored by ``store.views`` keyed by kind and id with the membership's version) and
only read here; a store without prepared views, or a question with other parameters, is computed on read and
cached per story and per set of member articles (``queries.reads``). The defaults all four share are in
``queries.defaults``.
"""

from storyline.queries.defaults import (DEFAULT_DATES, DEFAULT_WORDS, DELIVERY_SECONDS, GROWTH_HOURS, MAX_PAGE,
                                        SIMILAR_POOL, VIEW_DATES, VIEW_FORMAT)
from storyline.queries.index import Filters, NotFound, readable_anchors, story_title, thread_title, top_entities
from storyline.queries.reads import Queries

__all__ = ["Filters", "Queries", "NotFound", "story_title", "thread_title", "readable_anchors", "top_entities",
           "GROWTH_HOURS", "DELIVERY_SECONDS", "DEFAULT_DATES", "DEFAULT_WORDS", "MAX_PAGE", "SIMILAR_POOL",
           "VIEW_DATES", "VIEW_FORMAT"]
