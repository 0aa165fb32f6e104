"""Events and stories: candidate search, similarity, online placement, near-duplicates, evaluation."""

from storyline.stories.linking import PlacementConfig
from storyline.stories.placement import StoryPlacer
from storyline.stories.similarity import pair_similarity

__all__ = ["PlacementConfig", "StoryPlacer", "pair_similarity"]
