"""Case restoration for lowercased (or all-capitals) English text, one sentence at a time.

Uses the ``truecase`` package's model (n-gram casing statistics from Brown, Reuters and others) but
not its tokenizer: ``truecase.get_true_case`` calls NLTK's punkt-based ``word_tokenize``, whose data is
not installed, and its detokenizer would change the text's length. Tokens are made here, truecased
with ``get_true_case_from_tokens`` and only the case of each original character is changed, so the
result always has the input's length and offsets stay valid.
"""

from __future__ import annotations

import functools
import re

__all__ = ["load_truecaser", "truecase_into"]

_TOKEN = re.compile(r"[^\W_]+|[^\w\s]")
_CLITICS = frozenset({"s", "t", "d", "m"})


@functools.lru_cache(maxsize=1)
def load_truecaser():
    """The truecase model (~3.5 s and ~550 MB to load; loaded once, only when needed)."""
    import truecase

    return truecase.get_truecaser()


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
    cased = load_truecaser().get_true_case_from_tokens(
        tokens, out_of_vocabulary_token_option="title"
    )
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
