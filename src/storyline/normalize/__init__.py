"""Cleaning, language, truecasing and sentence boundaries (see the modules for each concern)."""

from storyline.normalize.restore import TextProfile, profile, restore, restore_batch

__all__ = ["TextProfile", "profile", "restore", "restore_batch"]
