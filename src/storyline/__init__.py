"""Storyline: track news stories across outlets, languages and months.

``storyline.open(db)`` gives the Python API (see ``storyline.session``); the command line is ``storyline``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storyline.session import Storyline

__all__ = ["open"]


def open(db: Any = None, config: Any = None) -> "Storyline":  # noqa: A001 - storyline.open(db), as the README shows
    """Open (or create) a store and return a ``Storyline``: ``.track(paths)``, ``.stories()``, ``.story(id)``, …"""
    from storyline.session import open_store

    return open_store(db, config)
