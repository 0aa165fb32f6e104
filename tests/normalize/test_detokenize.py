"""Penn Treebank text (``-LRB-``, ``` `` ```, ``''``, ``do n't``) read as prose, and language identification
kept to languages it tells apart (tokenised English is English, never Extremaduran or Nigerian Pidgin)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storyline.model import Document
from storyline.normalize import restore
from storyline.normalize.clean import (
    DETECTED_LANGUAGES,
    MIN_LANGUAGE_CONFIDENCE,
    clean,
    detect_language,
    guess_language,
)
from storyline.normalize.detokenize import detokenize, detokenize_in_place, is_tokenized

# Written for these tests in the style of Reuters/AP copy as tokenised research corpora carry it.
TOKENISED = (
    "By Anna Reed , Health Editor WASHINGTON | Mon Mar 2 , 2009 4:23 pm EST WASHINGTON -LRB- Reuters -RRB- - "
    "The World Health Organization -LRB- WHO -RRB- said on Monday it was `` very concerned '' about the "
    "outbreak , and the Centers for Disease Control -LRB- CDC -RRB- said it did n't expect a vaccine soon . "
    "`` We 're watching it closely , '' a spokesman said ."
)
PTB = re.compile(r"-[LR][RSC]B-|``|''", re.IGNORECASE)


def test_in_place_keeps_every_other_character_where_it_was() -> None:
    out = detokenize_in_place(TOKENISED)
    assert len(out) == len(TOKENISED) and not PTB.search(out)
    assert "(WHO)" in out and "(Reuters)" in out and '"very concerned"' in out
    for i, (a, b) in enumerate(zip(TOKENISED, out)):
        if a != b:  # only token characters and the one space beside a token change
            token = PTB.search(TOKENISED, max(0, i - 6))
            assert token is not None and token.start() - 1 <= i < token.end() + 1, (i, TOKENISED[i - 8 : i + 8])


PIECES = ["-LRB-", "-RRB-", "-lcb-", "``", "''", "`", " ", " ", "a", "Bc", ",", "\n"]


@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_in_place_moves_nothing_on_any_mix(text: str) -> None:
    out = detokenize_in_place(text)
    assert len(out) == len(text)
    touched = set()
    for token in re.finditer(r"(?<!\S)(?:-[LR][RSC]B-|``|''|`)(?!\S)", text, re.IGNORECASE):
        touched.update(range(token.start() - 1, token.end() + 1))  # the token and the space beside it
    assert all(a == b for i, (a, b) in enumerate(zip(text, out)) if i not in touched)
    if not touched:
        assert out is text  # untouched text is not even copied


def test_reading_form() -> None:
    assert detokenize(TOKENISED).startswith("By Anna Reed, Health Editor WASHINGTON | Mon Mar 2, 2009")
    assert '(Reuters) - The World Health Organization (WHO) said on Monday it was "very concerned" about the outbreak,' in detokenize(TOKENISED)
    assert "didn't expect a vaccine soon." in detokenize(TOKENISED)
    assert detokenize(TOKENISED).endswith('"We\'re watching it closely," a spokesman said.')
    assert detokenize("Plain prose, as written (no tokens).") == "Plain prose, as written (no tokens)."


def test_escaped_slash_and_star() -> None:
    text = "Photograph : Gerald Herbert\\/AP and\\/or 5 \\* 3"
    assert detokenize(text) == "Photograph: Gerald Herbert/AP and/or 5 * 3"
    out = detokenize_in_place(text)
    assert out == "Photograph : Gerald Herbert /AP and /or 5  * 3" and len(out) == len(text)


def test_detects_tokenised_text_only() -> None:
    assert is_tokenized(TOKENISED)
    assert is_tokenized("He said it was n't over , and that he 's staying .")
    assert not is_tokenized("He said it wasn't over, and that he's staying (for now).")


def test_restore_reads_tokens_as_prose_and_keeps_offsets() -> None:
    from tests.normalize.test_restore import check_invariants, make_article

    article = make_article(TOKENISED, "ptb", "en")
    restore(article)
    check_invariants(article)
    assert article.restoration.detokenized
    assert not PTB.search(article.restored_text)
    assert not any(PTB.search(s.text) for s in article.sentences)
    plain = make_article("No tokens here. None at all.", "plain", "en")
    restore(plain)
    assert plain.restored_text == plain.text and not plain.restoration.detokenized


def doc(text: str, **kw) -> Document:
    return Document(text=text, origin="test", **kw)


def test_tokenised_english_is_english() -> None:
    # its 120-character head (byline and dateline) was "pcm" (p 0.14) before the restriction: now English,
    # unsure (left unknown, with a note), never another language
    assert guess_language(TOKENISED[:120])[0] in ("en", None)
    for cut in (200, 400, len(TOKENISED)):
        assert detect_language(TOKENISED[:cut])[0] == "en"
    article = clean(doc(TOKENISED))
    assert article.language == "en" and article.language_confidence >= MIN_LANGUAGE_CONFIDENCE
    assert article.problems == []


# One news sentence per language the project reads (written for this test).
SENTENCES = {
    "en": "The government announced on Tuesday that the new law will take effect next month.",
    "fr": "Le gouvernement a annoncé mardi que la nouvelle loi entrera en vigueur le mois prochain.",
    "es": "El gobierno anunció el martes que la nueva ley entrará en vigor el próximo mes.",
    "it": "Il governo ha annunciato martedì che la nuova legge entrerà in vigore il mese prossimo.",
    "de": "Die Regierung kündigte am Dienstag an, dass das neue Gesetz im nächsten Monat in Kraft tritt.",
    "pt": "O governo anunciou na terça-feira que a nova lei entrará em vigor no próximo mês.",
    "nl": "De regering heeft dinsdag aangekondigd dat de nieuwe wet volgende maand van kracht wordt.",
    "pl": "Rząd ogłosił we wtorek, że nowa ustawa wejdzie w życie w przyszłym miesiącu.",
    "cs": "Vláda v úterý oznámila, že nový zákon vstoupí v platnost příští měsíc.",
    "ru": "Правительство объявило во вторник, что новый закон вступит в силу в следующем месяце.",
    "el": "Η κυβέρνηση ανακοίνωσε την Τρίτη ότι ο νέος νόμος θα τεθεί σε ισχύ τον επόμενο μήνα.",
    "ar": "أعلنت الحكومة يوم الثلاثاء أن القانون الجديد سيدخل حيز التنفيذ الشهر المقبل.",
    "he": "הממשלה הודיעה ביום שלישי כי החוק החדש ייכנס לתוקף בחודש הבא.",
    "hi": "सरकार ने मंगलवार को घोषणा की कि नया कानून अगले महीने से लागू होगा।",
    "tr": "Hükümet salı günü yeni yasanın gelecek ay yürürlüğe gireceğini açıkladı.",
    "zh": "政府周二宣布，新法律将于下个月生效。",
    "ja": "政府は火曜日、新しい法律が来月施行されると発表した。",
}


@pytest.mark.parametrize("code", sorted(SENTENCES))
def test_languages_the_project_reads_stay_detectable(code: str) -> None:
    assert code in DETECTED_LANGUAGES
    assert detect_language(SENTENCES[code])[0] == code


def test_embedder_and_ner_languages_are_all_detectable() -> None:
    from storyline.enrich.embed import EMBEDDERS
    from storyline.enrich.entities import MODELS

    for embedder in EMBEDDERS.values():
        assert (getattr(embedder, "languages", None) or frozenset()) <= DETECTED_LANGUAGES
    assert set(MODELS) <= DETECTED_LANGUAGES


def test_unsure_guess_is_left_unknown_with_a_note() -> None:
    text = "Ok ok. Bla bla bla, si si, no no."
    code, prob, note = guess_language(text)
    if prob >= MIN_LANGUAGE_CONFIDENCE:
        pytest.fail(f"expected an unsure guess for {text!r}, got {code} at {prob}")
    assert code is None and "language unsure" in note
    article = clean(doc(text))
    assert article.language is None and len(article.problems) == 1 and "language unsure" in article.problems[0]
    hinted = clean(doc(text, language="es"))
    assert hinted.language == "es" and hinted.problems == []


def test_no_words_no_language_and_no_note() -> None:
    assert guess_language("12345 !!! 2020-01-01") == (None, 0.0, None)
