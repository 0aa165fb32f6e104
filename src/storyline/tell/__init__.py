"""Telling a story: dated timeline, cited summary, what each article added, actors and sources.

Pure functions over enriched Articles (sentences from normalize, dates/entities from enrich); no
store access. ``report`` turns the results into plain dicts and renders HTML, Markdown and JSON;
``storyline.evaluation`` measures them (Timeline17 with tilse, DUC/MultiLing with rouge-score).
"""

from storyline.tell.actors import Actor, SourceReport, actors, sources
from storyline.tell.novelty import update_summary, whats_new
from storyline.tell.report import render_html, render_json, render_markdown, story_data
from storyline.tell.summary import SummaryWeights, summarize
from storyline.tell.timeline import TimelineWeights, build_timeline

__all__ = [
    "Actor",
    "SourceReport",
    "SummaryWeights",
    "TimelineWeights",
    "actors",
    "build_timeline",
    "render_html",
    "render_json",
    "render_markdown",
    "sources",
    "story_data",
    "summarize",
    "update_summary",
    "whats_new",
]
