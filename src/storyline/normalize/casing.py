"""Case restoration for lowercased (or all-capitals) English text, one sentence at a time.

Uses the ``truecase`` package's model (n-gram casing statistics from Brown, Reuters and others) but
not its tokenizer: ``truecase.get_true_case`` calls NLTK's punkt-based ``word_tokenize``, whose data is
not installed, and its detokenizer would change the text's length. Tokens are made here and only the
case of each original character is changed, so the result always has the input's length and offsets
stay valid.

Nor its decoder: ``TrueCaser.get_true_case_from_tokens`` walks each word's casings in *set* order and
keeps the first of tied scores, so the output followed ``PYTHONHASHSEED``. ``Caser`` makes the same
choice deterministically and faster: every casing of a word shares the four denominators of truecase's
score, so the best casing is the one with the largest product of the four (integer) numerators,
compared exactly; ties go to the casing more frequent overall, then to the smaller string. The choice
depends only on (previous cased token, word, next word), so it is cached.
"""

from __future__ import annotations

import functools
import re
import string

__all__ = ["Caser", "load_caser", "load_truecaser", "truecase_into"]

_TOKEN = re.compile(r"[^\W_]+|[^\w\s]")
_CLITICS = frozenset({"s", "t", "d", "m"})


_PSEUDO = 5  # truecase's pseudo-count
_CACHE_LIMIT = 1_000_000  # cached (prev, word, next) choices before the cache is cleared


@functools.lru_cache(maxsize=1)
def load_truecaser():
    """The truecase model (~3.5 s and ~550 MB to load; loaded once, only when needed)."""
    import truecase

    return truecase.get_truecaser()


class Caser:
    """truecase's n-gram casing choice, with a deterministic tie-break and a per-context cache."""

    def __init__(self, model) -> None:
        self.uni = model.uni_dist
        self.back = model.backward_bi_dist
        self.fwd = model.forward_bi_dist
        self.tri = model.trigram_dist
        self.lookup = model.word_casing_lookup
        self._casings: dict[str, tuple[str, ...]] = {}
        self._best: dict[tuple[str | None, str, str | None], str] = {}

    def casings(self, word: str) -> tuple[str, ...] | None:
        """A lowercase word's known casings, most frequent first (ties: smaller string); None if unknown."""
        hit = self._casings.get(word)
        if hit is None:
            found = self.lookup.get(word)
            if found is None:
                return None
            uni = self.uni
            hit = tuple(sorted(found, key=lambda c: (-uni.get(c, 0), c)))
            self._casings[word] = hit
        return hit

    def best(self, prev: str | None, word: str, nxt: str | None) -> str:
        """The casing of ``word`` (lowercase, known) that truecase scores highest in this context."""
        key = (prev, word, nxt)
        hit = self._best.get(key)
        if hit is not None:
            return hit
        uni, back, fwd, tri = self.uni.get, self.back.get, self.fwd.get, self.tri.get
        best, best_score = "", -1
        for cand in self.casings(word) or (word,):
            score = uni(cand, 0) + _PSEUDO
            if prev is not None:
                score *= back(prev + "_" + cand, 0) + _PSEUDO
            if nxt is not None:
                score *= fwd(cand + "_" + nxt, 0) + _PSEUDO
                if prev is not None:
                    score *= tri(prev + "_" + cand + "_" + nxt, 0) + _PSEUDO
            if score > best_score:
                best, best_score = cand, score
        if len(self._best) >= _CACHE_LIMIT:
            self._best.clear()
        self._best[key] = best
        return best

    def true_case(self, tokens: list[str]) -> list[str]:
        """Same contract as ``get_true_case_from_tokens(tokens, "title")`` without its set-order ties."""
        out: list[str] = []
        n = len(tokens)
        for i, token in enumerate(tokens):
            if token in string.punctuation or token.isdigit():
                out.append(token)
                continue
            word = token.lower()
            casings = self.casings(word)
            if casings is None:
                out.append(word.title())
                continue
            if len(casings) == 1:
                out.append(casings[0])
            else:
                prev = out[i - 1] if i > 0 else None
                nxt = tokens[i + 1].lower() if i + 1 < n else None
                out.append(self.best(prev, word, nxt))
            if i == 0:
                out[0] = out[0].capitalize()
        return out


@functools.lru_cache(maxsize=1)
def load_caser() -> Caser:
    """The deterministic, caching decoder over the truecase model (loaded once)."""
    return Caser(load_truecaser())


def _apply(chars: list[str], start: int, cased: str) -> None:
    """Copy ``cased``'s letter case onto ``chars[start:start+len(cased)]`` where letters agree."""
    for k, ch in enumerate(cased):
        orig = chars[start + k]
        if (
            orig != ch
            and orig.lower() == ch.lower()
            and len(ch) == 1
            and len(orig) == 1
        ):
            chars[start + k] = ch


def _fix_initials(tokens: list[str], cased: list[str]) -> list[str]:
    """Stripped initialisms ("u s", "u n") and middle initials ("george w bush") in capitals.

    Runs of two or more single letters are initialisms; a lone letter between two capitalised
    words is an initial. "a" alone is the article and stays as it is; a lone s/t/d/m after a word is
    what is left of an apostrophe ("khalilzad s", "don t").
    """
    out = list(cased)
    n = len(tokens)
    single = [len(t) == 1 and t.isalpha() for t in tokens]
    for i in range(n):
        if not single[i]:
            continue
        if tokens[i] in _CLITICS and not (i > 0 and single[i - 1]):
            continue  # "taliban s", "don t", "i d": a stripped apostrophe, not an initial
        in_run = (i > 0 and single[i - 1]) or (i + 1 < n and single[i + 1])
        between_names = (
            0 < i < n - 1
            and out[i - 1][:1].isupper()
            and out[i + 1][:1].isupper()
            and tokens[i] != "a"
        )
        if (in_run and tokens[i] != "a") or between_names or tokens[i] == "i":
            out[i] = tokens[i].upper()
    return out


def truecase_into(chars: list[str], text: str, start: int, end: int) -> None:
    """Restore case of one sentence ``text[start:end]`` in place in ``chars`` (a list of text's chars).

    The sentence's first word is capitalised; out-of-vocabulary words come out title-cased, which is
    right for most unseen names (Khalilzad, Baradar) and wrong for rare common words.
    """
    spans = [m.span() for m in _TOKEN.finditer(text, start, end)]
    if not spans:
        return
    tokens = [text[a:b].lower() for a, b in spans]
    cased = load_caser().true_case(tokens)
    if len(cased) != len(
        tokens
    ):  # never expected; keep the text rather than misalign it
        return
    cased = _fix_initials(tokens, cased)
    for k, tok in enumerate(cased):
        if tokens[k][:1].isalpha():
            cased[k] = tok[:1].upper() + tok[1:]
            break
    for (a, b), tok in zip(spans, cased):
        if len(tok) == b - a:
            _apply(chars, a, tok)
