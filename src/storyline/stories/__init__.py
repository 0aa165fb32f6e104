"""Events and stories: candidate search, similarity, online placement, near-duplicates."""

from storyline.stories.linking import PlacementConfig
from storyline.stories.placement import StoryPlacer

__all__ = ["PlacementConfig", "StoryPlacer"]
