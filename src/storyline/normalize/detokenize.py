"""Undo Penn Treebank tokenisation: ``-LRB- AP -RRB-``, ``` `` ``` and ``''`` quotes, ``do n't``, ``word ,``.

Research corpora (Timeline17, parts of DUC and TDT) ship their text tokenised. Models read it badly: spaCy
took "-LRB-" for part of a name ("Curfew -LRB-", "-RRB- -RRB-" as actors), language identification mistook
English for Extremaduran, and sentences and titles showed the tokens to readers.

Two forms, because the project keeps every offset of ``Article.restored_text`` equal to the offset of the
same character in ``Article.text`` (and so, through ``text_offset``, in ``original_text``):

- ``detokenize_in_place`` rewrites each bracket and quote *token* within its own span, padded with spaces
  ("-LRB-" becomes "    (", "``" becomes ' "'), so nothing moves: restore uses it for the text models read.
  Spaces before punctuation and split contractions ("Jackson 's", "do n't") stay where they are; spaCy
  splits "Jackson's" and "don't" into the same tokens, so they change nothing for the models.
- ``detokenize`` is the reading form (titles, language identification): brackets and quotes restored and
  joined, contractions and punctuation glued, runs of spaces folded. Offsets into it mean nothing.
"""

from __future__ import annotations

import re

__all__ = ["detokenize", "detokenize_in_place", "is_tokenized"]

# PTB's escapes for brackets, as whole tokens; lower case too (lowercased corpora keep them).
_BRACKETS = {"-lrb-": "(", "-rrb-": ")", "-lsb-": "[", "-rsb-": "]", "-lcb-": "{", "-rcb-": "}"}
_OPENING = frozenset("([{")
_TOKEN = re.compile(r"(?<!\S)(?:-[lr][rsc]b-|``|''|`)(?!\S)", re.IGNORECASE)
# Signs of tokenised text beyond the bracket tokens: a contraction or clitic split off, a space before a comma.
_SPLIT = re.compile(r"\w (?:n't|'s|'re|'ve|'ll|'d|'m)\b|\w [,;:]", re.IGNORECASE)


def _char(token: str) -> str:
    """The character a PTB bracket or quote token stands for."""
    low = token.lower()
    if low in _BRACKETS:
        return _BRACKETS[low]
    return {"``": '"', "''": '"'}.get(token, "'")  # a lone backquote is PTB's opening single quote


def _opens(token: str) -> bool:
    return token in ("``", "`") or _BRACKETS.get(token.lower(), ")") in _OPENING


# A token with the one space that parts it from its word: "-LRB- AP" and "AP -RRB-" (the token's own side).
_GLUED = re.compile(r"(?<!\S)(?P<open>-l[rsc]b-|``|`) (?=\S)|(?<=\S) (?P<close>-r[rsc]b-|'')(?!\S)|" + _TOKEN.pattern,
                    re.IGNORECASE)


def _in_place(match: re.Match[str]) -> str:
    """Same length: the character takes the place of the space next to its word ("-LRB- AP" -> "     (AP"),
    the token's own characters become spaces; a token with no word beside it keeps the character in its span."""
    opening, closing = match.group("open"), match.group("close")
    if opening:
        return " " * len(opening) + _char(opening)
    if closing:
        return _char(closing) + " " * len(closing)
    token = match.group(0).strip()
    char = _char(token)
    padded = char.rjust(len(token)) if _opens(token) else char.ljust(len(token))
    return match.group(0).replace(token, padded)


_ESCAPED = re.compile(r"\\([/*])")  # PTB escapes "/" and "*" with a backslash: "Herbert\/AP", "and\/or"


def detokenize_in_place(text: str) -> str:
    """``text`` with PTB bracket and quote tokens as the characters they stand for, each next to its word
    ("Health -LRB- WHO -RRB- said" -> "Health      (WHO)      said"); same length, and every character that
    is not part of a token keeps its position (see the module docstring); PTB's escaped "\\/" and "\\*" become
    " /" and " *". Text without tokens or escapes is returned unchanged (the same object)."""
    if "\\" in text:
        text = _ESCAPED.sub(r" \1", text)  # the escaped character stays next to the word that follows it
    if not _TOKEN.search(text):
        return text
    return _GLUED.sub(_in_place, text)


def is_tokenized(text: str, sample: int = 4000) -> bool:
    """Whether ``text`` looks PTB-tokenised: a bracket or quote token, or at least two split clitics or
    spaced commas in its first ``sample`` characters (clean prose has none)."""
    head = text[:sample]
    return bool(_TOKEN.search(head)) or len(_SPLIT.findall(head)) >= 2


_GLUE_LEFT = re.compile(r"(?<=\w) +(?=(?:n't|'s|'re|'ve|'ll|'d|'m)\b)|(?<=\S) +(?=[,.;:!?%)\]}](?:[\s\"')\]}]|$))",
                        re.IGNORECASE)
_GLUE_RIGHT = re.compile(r"(?<=[(\[{$])\s+")
_QUOTE_OPEN = re.compile(r"(?<!\S)``\s*")
_QUOTE_CLOSE = re.compile(r"\s*''(?!\S)")


def detokenize(text: str) -> str:
    """The reading form of tokenised text: "NEW ORLEANS -LRB- AP -RRB- -- Obama 's plan , he said ``
    works ''" -> 'NEW ORLEANS (AP) -- Obama's plan, he said "works"'. Spaces are folded to one."""
    out = _QUOTE_OPEN.sub(' "', _ESCAPED.sub(r"\1", text))
    out = _QUOTE_CLOSE.sub('" ', out)
    out = _TOKEN.sub(lambda m: _char(m.group(0)), out)
    out = " ".join(out.split())
    out = _GLUE_RIGHT.sub("", out)
    return _GLUE_LEFT.sub("", out).strip()
