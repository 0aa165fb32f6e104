"""Serving: the HTTP API and the web pages (FastAPI + Jinja2) over the query layer, and the background writer."""

from storyline.serve.app import create_app

__all__ = ["create_app"]
