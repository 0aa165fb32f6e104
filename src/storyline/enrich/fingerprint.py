"""MinHash fingerprints of article text, for near-duplicate detection (syndicated copies, re-posts).

Shingles are built from case- and punctuation-folded words, so a scraped, lowercased, unpunctuated copy
of an article gets the same fingerprint as the original.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
from datasketch import MinHash

from storyline.model import Article

__all__ = ["NUM_PERM", "SHINGLE", "shingles", "fingerprint", "fingerprint_articles", "jaccard"]

NUM_PERM = 128
SHINGLE = 3  # words per shingle
_SEED = 1  # fixed: fingerprints must compare across runs and machines
_WORD = re.compile(r"\w+", re.UNICODE)
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=_SEED)


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    words = _WORD.findall(text.casefold())
    if len(words) < size:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}


def fingerprint(text: str) -> np.ndarray:
    """MinHash hash values (uint64, NUM_PERM of them)."""
    sketch = _TEMPLATE.copy()
    items = shingles(text)
    if items:
        sketch.update_batch(list(items))
    return sketch.hashvalues.astype(np.uint64)


def fingerprint_articles(articles: Sequence[Article]) -> None:
    for article in articles:
        if article.fingerprint is None:
            article.fingerprint = fingerprint(article.text)
            article.models["fingerprint"] = f"minhash-{NUM_PERM}x{SHINGLE}w"


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two fingerprints."""
    return float(np.mean(a == b))
