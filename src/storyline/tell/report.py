"""Story reports: one plain dict per story, rendered as self-contained HTML, Markdown or JSON.

A report may also list threads (the long-running coverage its stories belong to): plain dicts as the query
layer's thread rows, each with ``story_list`` (its stories' rows); they come before the stories and link to them.

``story_data`` builds the dict from Articles (the lead's store code can build the same dict from
stored rows); the renderers only read dicts and lists of str/int/float, so they never touch records.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from storyline.model import Article, Story, citation_label, to_dict
from storyline.tell.actors import actors, sources
from storyline.tell.novelty import whats_new_each
from storyline.tell.summary import summarize
from storyline.tell.timeline import build_timeline
from storyline.tell.titles import article_title, headline

__all__ = ["anchor", "render_html", "render_json", "render_markdown", "safe_href", "story_data"]


def safe_href(url: Any) -> str | None:
    """The URL if it is an absolute http(s) URL with a host, else None.

    Stored URLs come from whoever wrote the feed or file: ``javascript:``, ``data:`` or ``file:`` must
    never become a link, in the report or in the web pages (which use this too).
    """
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or any(ord(c) < 32 or c.isspace() for c in text):
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return text




def anchor(article_id: str) -> str:
    """The HTML id of an article's entry; citations link to ``#`` + this."""
    return "a-" + re.sub(r"[^A-Za-z0-9_-]", "_", article_id)


def story_data(
    articles: Sequence[Article], story: Story | None = None, *, title: str | None = None,
    max_words: int = 250, reader_language: str = "en", max_dates: int | None = None,
    query: str | None = None, whats_new_per_article: int = 3, outlets: Sequence[str] = (),
) -> dict[str, Any]:
    """Everything a report shows for one story, as plain JSON-ready data. ``outlets``: every outlet name the
    store knows (credits, not actors: ``tell.actors``); untitled articles carry ``titles.article_title``."""
    ordered = sorted(articles, key=lambda a: (a.published or dt.date.max, a.id))
    each = whats_new_each(ordered, max_sentences=whats_new_per_article)
    new = {a.id: [to_dict(s) for s in each[a.id]] for a in ordered[1:]}
    dated = [a.published for a in ordered if a.published]
    return {
        "reader_language": reader_language,
        "id": story.id if story else (ordered[0].story_id if ordered and ordered[0].story_id else "story"),
        "title": title or headline(ordered) or (story.title if story else None),
        "first_date": min(dated).isoformat() if dated else None,
        "last_date": max(dated).isoformat() if dated else None,
        "articles": [{"id": a.id, "title": article_title(a.title, a.display_text), "source": a.source, "url": a.url,
                      "published": a.published.isoformat() if a.published else None,
                      "language": a.language, "duplicate_of": a.duplicate_of} for a in ordered],
        "timeline": [to_dict(e) for e in build_timeline(ordered, max_dates=max_dates)],
        "summary": [to_dict(s) for s in summarize(ordered, max_words, query, reader_language)],
        "whats_new": new,
        "actors": [to_dict(a) for a in actors(ordered, outlets=outlets)],
        "sources": to_dict(sources(ordered)),
    }


def render_json(stories: Sequence[dict[str, Any]], threads: Sequence[dict[str, Any]] | None = None) -> str:
    out: dict[str, Any] = {"stories": list(stories)}
    if threads is not None:
        out["threads"] = list(threads)
    return json.dumps(out, ensure_ascii=False, indent=2, sort_keys=True)


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
.story{margin-bottom:4em}.meta{color:#666;font-size:.9em}
.cite{font-size:.75em;vertical-align:super;margin-left:.15em;text-decoration:none;color:#06c}
.lang{font-size:.7em;color:#fff;background:#888;border-radius:3px;padding:0 .3em;margin-right:.3em}
ol.tl{list-style:none;padding-left:0}ol.tl li{border-left:3px solid #06c;padding:.2em .8em;margin:.4em 0}
ol.tl time{font-weight:600;display:block}
table{border-collapse:collapse;font-size:.9em}td,th{border-bottom:1px solid #eee;padding:.2em .6em;text-align:left}
.arts li{margin:.3em 0}.arts li:target{background:#fff6c8}.new{color:#555;font-size:.9em;margin:.2em 0 .2em 1em}
svg{width:100%;height:auto;background:#fafafa;border:1px solid #eee}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


_LINKABLE = re.compile(r"https?://[^\s<>\"']+\Z", re.I)


def safe_url(url: Any) -> str | None:
    """The URL when it is an http(s) address; None otherwise (``javascript:``, ``data:``, ``file:``…),
    so a stored URL can never run script or open something local from the report."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    return url if _LINKABLE.match(url) else None


def _sentence_html(sent: dict[str, Any], known: set[str], reader: str | None = None) -> str:
    """Cited sentence; its language is tagged when it is not the reader's."""
    lang = sent.get("language")
    lang = f'<span class="lang">{_e(lang)}</span>' if lang and lang != reader else ""
    cites = []
    for c in sent.get("citations", []):
        aid = c["article_id"]
        if aid in known:
            cites.append(f'<a class="cite" href="#{anchor(aid)}" title="{_e(aid)}, sentence {int(c["sentence"]) + 1}">'
                         f'[{_e(citation_label(c))}]</a>')
    return f'{lang}{_e(sent["text"])}{"".join(cites)}'


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def chart_geometry(story: dict[str, Any], width: int = 900, height: int = 170, pad: int = 40,
                   gutter: int = 100) -> dict[str, Any] | None:
    """Where the timeline chart draws things: bars of articles per day and dots for the timeline's dates.

    The axis is the coverage (the first to the last article's day). Timeline dates outside it (background
    the text names, such as a 1958 birth date, or a day announced ahead) sit apart in a ``gutter`` at
    that end, so they cannot squeeze the story into one edge. The report and the web pages draw this.
    """
    per_day = {d: n for d, n in (story.get("sources") or {}).get("per_day", {}).items() if _day(d)}
    entries = [(e["date"], _day(e["date"])) for e in story.get("timeline", []) if _day(e["date"])]
    covered = sorted(_day(d) for d in per_day) or sorted(d for _, d in entries)
    if not covered:
        return None
    first, last = covered[0], covered[-1]
    before = sorted((d, s) for s, d in entries if d < first)
    after = sorted((d, s) for s, d in entries if d > last)
    left, right = pad + (gutter if before else 0), width - pad - (gutter if after else 0)
    span = max(1, (last - first).days)
    base = height - 30

    def x(day: dt.date) -> float:
        return round(left + (day - first).days / span * (right - left), 1)

    def apart(items: list[tuple[dt.date, str]], start: float, side: str) -> list[dict[str, Any]]:
        step = (gutter - 20) / len(items) if items else 0
        return [{"x": round(start + 10 + (i + 0.5) * step, 1), "date": s, "side": side} for i, (_, s) in enumerate(items)]

    top = max(per_day.values(), default=1)
    bars = [{"x": x(_day(d)) - 2, "h": round(80 * n / top, 1), "y": round(base - 80 * n / top, 1), "day": d, "n": n}
            for d, n in sorted(per_day.items())]
    dots = [{"x": x(d), "date": s} for s, d in entries if first <= d <= last]
    labels = [{"x": x(first), "text": first.isoformat()}]
    if last != first:
        labels.append({"x": x(last), "text": last.isoformat()})
    if before:  # centred over its dots, clear of the axis's first day
        labels.append({"x": pad + (gutter - 20) / 2, "text": "before"})
    if after:
        labels.append({"x": width - pad - (gutter - 20) / 2, "text": "after"})
    return {"width": width, "height": height, "pad": pad, "base": base, "left": left, "right": right,
            "first": first.isoformat(), "last": last.isoformat(), "bars": bars, "dots": dots,
            "apart": apart(before, pad - 10, "before") + apart(after, right + 10, "after"), "labels": labels}


def _svg_timeline(story: dict[str, Any]) -> str:
    """Articles per day as bars, timeline entries as dots, on the coverage's time axis (``chart_geometry``)."""
    g = chart_geometry(story, height=160)
    if g is None:
        return ""
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {g["width"]} {g["height"]}" role="img" '
              f'aria-label="timeline of {_e(story.get("title"))}">'),
             f'<line class="axis" x1="{g["left"]}" y1="{g["base"]}" x2="{g["right"]}" y2="{g["base"]}" stroke="#999"/>']
    for b in g["bars"]:
        parts.append(f'<rect class="bar" x="{b["x"]}" y="{b["y"]}" width="3" height="{b["h"]}" '
                     f'fill="#bcd"><title>{_e(b["day"])}: {b["n"]} articles</title></rect>')
    for d in g["dots"]:
        parts.append(f'<a href="#tl-{_e(story["id"])}-{_e(d["date"])}"><circle class="entry" cx="{d["x"]}" '
                     f'cy="{g["base"]}" r="5" fill="#06c"><title>{_e(d["date"])}</title></circle></a>')
    for d in g["apart"]:
        parts.append(f'<a href="#tl-{_e(story["id"])}-{_e(d["date"])}"><circle class="entry apart" cx="{d["x"]}" '
                     f'cy="{g["base"]}" r="5" fill="#fff" stroke="#06c" stroke-width="2"><title>{_e(d["date"])} '
                     f'({_e(d["side"])} the coverage)</title></circle></a>')
    for lab in g["labels"]:
        parts.append(f'<text x="{lab["x"]}" y="{g["height"] - 10}" font-size="11" text-anchor="middle">{_e(lab["text"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _story_html(story: dict[str, Any]) -> str:
    known = {a["id"] for a in story.get("articles", [])}
    reader = story.get("reader_language")
    sid = _e(story["id"])
    out = [f'<section class="story" id="story-{sid}"><h1>{_e(story.get("title") or story["id"])}</h1>',
           (f'<p class="meta">{_e(story.get("first_date"))} – {_e(story.get("last_date"))} · '
            f'{len(known)} articles</p>'), _svg_timeline(story)]
    if story.get("summary"):
        out.append("<h2>Summary</h2><p>" + " ".join(_sentence_html(s, known, reader) for s in story["summary"]) + "</p>")
    if story.get("timeline"):
        out.append('<h2>Timeline</h2><ol class="tl">')
        for e in story["timeline"]:
            body = " ".join(_sentence_html(s, known, reader) for s in e["sentences"])
            bg = ' <span class="bg">background, before the first article</span>' if e.get("background") else ""
            out.append(f'<li id="tl-{sid}-{_e(e["date"])}" class="entry"><time datetime="{_e(e["date"])}">'
                       f'{_e(e["date"])}</time>{bg}{body}</li>')
        out.append("</ol>")
    if story.get("actors"):
        out.append("<h2>Actors</h2><table><tr><th>Actor</th><th>Type</th><th>Articles</th><th>Mentions</th>"
                   "<th>First seen</th><th>Last seen</th></tr>")
        for a in story["actors"]:
            out.append(f'<tr><td>{_e(a["canonical"])}</td><td>{_e(a["type"])}</td><td>{a["articles"]}</td>'
                       f'<td>{a["mentions"]}</td><td>{_e(a["first_seen"])}</td><td>{_e(a["last_seen"])}</td></tr>')
        out.append("</table>")
    src = story.get("sources") or {}
    if src.get("outlets"):
        first = ", ".join(f'<a href="#{anchor(r["article_id"])}">{_e(r["outlet"])}</a>' for r in src.get("first_reports", []))
        out.append("<h2>Sources</h2><p>First reported by: " + (first or "unknown") + "</p><table>"
                   + "".join(f"<tr><td>{_e(k)}</td><td>{v}</td></tr>" for k, v in src["outlets"].items()) + "</table>")
        groups = [g for g in src.get("duplicate_groups", []) if len(g) > 1]
        if groups:
            out.append("<p>Near-duplicate groups: " + "; ".join(
                ", ".join(f'<a href="#{anchor(a)}">{_e(a)}</a>' if a in known else _e(a) for a in g) for g in groups) + "</p>")
    out.append('<h2>Articles</h2><ol class="arts">')
    for a in story.get("articles", []):
        href = safe_href(a.get("url"))
        link = (f'<a href="{_e(href)}" rel="noopener noreferrer nofollow">{_e(a.get("title") or a["id"])}</a>' if href
                else _e(a.get("title") or a["id"]))
        out.append(f'<li id="{anchor(a["id"])}" class="article"><b>{link}</b> <span class="meta">{_e(a.get("source"))} · '
                   f'{_e(a.get("published"))} · {_e(a.get("language"))} · {_e(a["id"])}</span>')
        for s in story.get("whats_new", {}).get(a["id"], []):
            out.append(f'<div class="new">new: {_sentence_html(s, known, reader)}</div>')
        out.append("</li>")
    out.append("</ol></section>")
    return "\n".join(out)


def _threads_html(threads: Sequence[dict[str, Any]], reported: set[str]) -> str:
    """Each thread with its stories over time; a story in the report links to its section."""
    out = ['<section class="threads" id="threads"><h1>Threads</h1>']
    for t in threads:
        about = ", ".join(list(t.get("places", []))[:4] + list(t.get("actors", []))[:3])
        out.append(f'<h2 id="thread-{_e(t["id"])}">{_e(t.get("display_title") or t["id"])}</h2>'
                   f'<p class="meta">{_e(t.get("first_date"))} – {_e(t.get("last_date"))} · {len(t.get("story_list", []))} '
                   f'stories · {_e(t.get("articles"))} articles · {_e(", ".join(t.get("languages", [])))} · {_e(about)}</p>'
                   '<ol class="tl">')
        for s in t.get("story_list", []):
            name = _e(s.get("display_title") or s["id"])
            link = f'<a href="#story-{_e(s["id"])}">{name}</a>' if s["id"] in reported else name
            out.append(f'<li><time datetime="{_e(s.get("first_date"))}">{_e(s.get("first_date"))} – '
                       f'{_e(s.get("last_date"))}</time>{link} <span class="meta">{_e(s.get("articles"))} articles</span></li>')
        out.append("</ol>")
    out.append("</section>")
    return "\n".join(out)


def render_html(stories: Sequence[dict[str, Any]] | dict[str, Any], title: str = "Storyline report",
                threads: Sequence[dict[str, Any]] | None = None) -> str:
    """One self-contained page (inline CSS and SVG, no scripts, no external resources); ``threads`` first."""
    if isinstance(stories, dict):
        stories = [stories]
    body = "\n".join(_story_html(s) for s in stories)
    if threads:
        body = _threads_html(threads, {s["id"] for s in stories}) + "\n" + body
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>'
            f'<body>\n{body}\n</body></html>\n')


# --------------------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~])")


def md(value: Any) -> str:
    """Stored text as literal Markdown: special characters backslash-escaped, one line (a title cannot
    open a heading, a link, raw HTML or a table cell of its own)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(("" if value is None else str(value)).split()))


def _footnote(article_id: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(article_id))


def _sentence_md(sent: dict[str, Any], reader: str | None = None) -> str:
    cites = "".join(f'[^{_footnote(c["article_id"])}]' for c in sent.get("citations", [])[:3])
    lang = f'({md(sent["language"])}) ' if sent.get("language") and sent["language"] != reader else ""
    return f'{lang}{md(sent["text"])} {cites}'.rstrip()


def _threads_md(threads: Sequence[dict[str, Any]]) -> list[str]:
    out = ["# Threads", ""]
    for t in threads:
        span = f'{t.get("first_date")} – {t.get("last_date")}, {len(t.get("story_list", []))} stories, {t.get("articles")} articles'
        out += [f'## {md(t.get("display_title") or t["id"])}', "", md(span), ""]
        out += [f'- {md(s.get("first_date"))} – {md(s.get("last_date"))}: {md(s.get("display_title") or s["id"])} '
                f'({s.get("articles")} articles)' for s in t.get("story_list", [])] + [""]
    return out


def render_markdown(stories: Sequence[dict[str, Any]] | dict[str, Any],
                    threads: Sequence[dict[str, Any]] | None = None) -> str:
    if isinstance(stories, dict):
        stories = [stories]
    out: list[str] = _threads_md(threads) if threads else []
    for s in stories:
        reader = s.get("reader_language")
        span = f'{s.get("first_date")} – {s.get("last_date")}, {len(s.get("articles", []))} articles'
        out += [f'# {md(s.get("title") or s["id"])}', "", md(span), ""]
        if s.get("summary"):
            out += ["## Summary", "", " ".join(_sentence_md(x, reader) for x in s["summary"]), ""]
        if s.get("timeline"):
            out += ["## Timeline", ""] + [f'- **{e["date"]}** ' + " ".join(_sentence_md(x, reader) for x in e["sentences"])
                                          for e in s["timeline"]] + [""]
        if s.get("actors"):
            out += ["## Actors", "", "| actor | type | articles | first seen | last seen |", "|---|---|---|---|---|"]
            out += [f'| {md(a["canonical"])} | {md(a["type"])} | {a["articles"]} | {a["first_seen"]} | {a["last_seen"]} |'
                    for a in s["actors"]] + [""]
        src = s.get("sources") or {}
        if src.get("outlets"):
            out += ["## Sources", ""] + [f"- {md(k)}: {v}" for k, v in src["outlets"].items()] + [""]
        out += [f'[^{_footnote(a["id"])}]: {md(a.get("title"))} — {md(a.get("source"))}, {md(a.get("published"))}'
                f'{" <" + safe_url(a.get("url")) + ">" if safe_url(a.get("url")) else ""}' for a in s.get("articles", [])] + [""]
    return "\n".join(out)
