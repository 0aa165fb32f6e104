"""Restoration of degraded text: seeds 000 (lowercased, unpunctuated) and 003 (punctuated), hostile input."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from storyline.model import Article
from storyline.normalize import restore, restore_batch
from storyline.normalize.boundaries import default_model_path, load_model, strip_text
from storyline.normalize.detokenize import detokenize_in_place
from storyline.normalize.segment import segment_punctuated

SEEDS = Path(__file__).resolve().parents[2] / "examples" / "seeds"  # shipped copies of ../shared/seeds


def make_article(text: str, ident: str = "t1", language: str | None = None) -> Article:
    return Article(
        id=ident,
        text=text,
        original_text=text,
        origin=f"test:{ident}",
        content_hash=hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
        ingested_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        language=language,
    )


def seed(prefix: str) -> str:
    files = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not files:
        pytest.skip(f"seed {prefix} not found under {SEEDS}")
    return files[0].read_text(encoding="utf-8")


def check_invariants(art: Article) -> None:
    assert art.restored_text is not None
    assert len(art.restored_text) == len(art.text)
    # only letter case may change, and PTB bracket/quote tokens within their own span
    assert art.restored_text.lower() == detokenize_in_place(art.text).lower()
    prev_end = 0
    for s in art.sentences:
        assert prev_end <= s.start < s.end <= len(art.text)
        assert s.text == art.restored_text[s.start : s.end]
        prev_end = s.end


@pytest.fixture(scope="module")
def seed000() -> Article:
    art = make_article(seed("000"), "seed000")
    restore(art)
    return art


def test_seed000_flags_and_sentences(seed000: Article) -> None:
    check_invariants(seed000)
    r = seed000.restoration
    assert r.lowercased and r.unpunctuated and r.case_restored and r.boundaries_restored
    assert r.segmenter == load_model().name
    words = len(seed000.text.split())
    assert (
        15 <= len(seed000.sentences) <= words / 5
    )  # many sentences, none absurdly short on average
    assert all(s.text[:1].isupper() or s.text[:1].isdigit() for s in seed000.sentences)


def test_seed000_names_capitalised(seed000: Article) -> None:
    text = seed000.restored_text or ""
    for name in (
        "Khalilzad",
        "Taliban",
        "Doha",
        "Qatar",
        "Zalmay",
        "Kabul",
        "Afghanistan",
    ):
        assert name in text, name
    assert "khalilzad" not in text and "taliban" not in text


def test_seed003_unchanged_and_split_where_expected() -> None:
    text = seed("003")
    art = make_article(text, "seed003")
    restore(art)
    check_invariants(art)
    assert art.restored_text == text
    assert not art.restoration.lowercased and not art.restoration.unpunctuated
    starts = [s.text for s in art.sentences]
    for opening in (
        "\"That's why we insist",
        "A ceasefire, he added",
        "Trump's collapse of talks",
        "But it also provided",
        "Mullah Abdul Ghani Baradar, the Taliban deputy",
    ):
        assert any(s.startswith(opening) for s in starts), opening
    assert all(
        not s.startswith(("Abdul", "Ghani", '"')) or s.startswith('"That')
        for s in starts
    )


def test_quoted_speech_is_punctuated_text_split_by_the_rules() -> None:
    """A stop before an opening quote ends a sentence: an article of quoted speech ("said Air. "They ...")
    read as unpunctuated went to the boundary model, which cut "(RM), arrived ..." into fragments
    (MultiLing 2011's Royal Navy article; 69 of Timeline17's 400 storyline articles)."""
    quote = ('"We made a conscious decision not to engage and do as they asked," said Air. "They boarded our '
             'boats, removed our weapons and steered the boats towards the shore while we waited for orders '
             'from the ship that never came because the radio link had failed that morning." ')
    text = ("The fifteen navy crew, eight from the Royal Navy (RN) and seven from the Royal Marines (RM), arrived "
            "by helicopter at the base on Thursday. " + quote * 4)
    art = make_article(text, "quoted")
    restore(art)
    check_invariants(art)
    assert not art.restoration.unpunctuated
    assert art.sentences[0].text.endswith("(RM), arrived by helicopter at the base on Thursday.")
    assert all(s.text[0] in "\"T" for s in art.sentences)


def test_punctuated_rules_handle_abbreviations() -> None:
    text = "Dr. Smith met Gen. Miller on Jan. 5 in the U.S. capital. He left at 3 p.m. on Friday.\n\nHeadline"
    spans = segment_punctuated(text)
    assert [text[a:b] for a, b in spans] == [
        "Dr. Smith met Gen. Miller on Jan. 5 in the U.S. capital.",
        "He left at 3 p.m. on Friday.",
        "Headline",
    ]
    text2 = "Troops stayed in the U.S. The talks went on."
    assert [text2[a:b] for a, b in segment_punctuated(text2)] == [
        "Troops stayed in the U.S.",
        "The talks went on.",
    ]


HOSTILE = [
    "",
    "   \n\n  ",
    "word",
    "a",
    "!!!???...",
    "Привет мир. 你好世界。 مرحبا بالعالم hello world",
    "lone surrogate \ud800 and nul \x00 inside text",
    "ǅemal İstanbul ß straße ﬁnance ΣΑΣ",
    "THE PRESIDENT SAID ON MONDAY THAT THE TALKS WOULD RESUME. OFFICIALS IN KABUL AGREED.",
    "x" * 200_000,
    "la guerre continue dans le pays selon les responsables le gouvernement a annoncé mardi une "
    "nouvelle série de mesures pour les habitants de la région du nord " * 3,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_inputs_keep_length(text: str) -> None:
    art = make_article(text, "hostile")
    restore(art)
    check_invariants(art)


def test_all_caps_is_restored() -> None:
    art = make_article(HOSTILE[8], "caps")
    restore(art)
    check_invariants(art)
    assert art.restoration.lowercased and art.restoration.case_restored
    assert "Kabul" in (art.restored_text or "") and "the talks" in (
        art.restored_text or ""
    )


def test_non_english_lowercase_is_skipped_and_recorded() -> None:
    art = make_article(HOSTILE[10], "fr", language="fr")
    restore(art)
    check_invariants(art)
    assert art.restored_text == art.text
    assert not art.restoration.case_restored and not art.restoration.boundaries_restored
    assert any("English only" in p for p in art.problems)


def test_megabyte_on_one_line_is_capped_and_recorded() -> None:
    text = "the war goes on and the talks continue " * 27_000  # ~1 MB, no punctuation
    art = make_article(text, "big")
    restore(art)
    check_invariants(art)
    assert len(art.sentences) > 1000
    assert any("rest cut every" in p for p in art.problems)


def test_deterministic() -> None:
    text = strip_text(seed("003"))
    a, b = make_article(text, "d1"), make_article(text, "d2")
    restore(a)
    restore_batch([make_article("Some other text. It is fine.", "x"), b])
    assert a.restored_text == b.restored_text
    assert [(s.start, s.end) for s in a.sentences] == [
        (s.start, s.end) for s in b.sentences
    ]
    assert a.restoration == b.restoration


def test_shipped_model_loads() -> None:
    path = default_model_path()
    assert path.is_file() and path.stat().st_size < 5_000_000
    model = load_model()
    assert model.weights.shape == (1 << model.bits,)
    assert 0.0 < model.threshold < 1.0 and model.min_words >= 1
    assert len(model.stats.hashes) > 10_000
    words = "the talks ended on monday the taliban said they would return".split()  # noqa: SIM905
    probs = model.probabilities(words)
    assert probs.shape == (10,) and ((probs >= 0) & (probs <= 1)).all()


def test_lowercased_punctuated_text() -> None:
    text = "the talks ended on monday. officials in kabul said they would return. the taliban agreed."
    art = make_article(text, "lowerpunct")
    restore(art)
    check_invariants(art)
    assert art.restoration.lowercased and not art.restoration.unpunctuated
    assert [s.text.split()[0] for s in art.sentences] == ["The", "Officials", "The"]
    assert "Kabul" in (art.restored_text or "") and "Taliban" in (
        art.restored_text or ""
    )


_HASH_SEED_RUN = """
import hashlib, sys
from storyline.enrich.entities import EntityExtractor, EntityRegistry
from storyline.model import Document
from storyline.normalize import restore
from storyline.normalize.clean import clean
article = clean(Document(text=open(sys.argv[1], encoding="utf-8").read(), origin="seed000"))
restore(article)
extractor = EntityExtractor(EntityRegistry())
extractor.extract([article])
print(hashlib.sha1(repr((article.restored_text, article.sentences, article.entities,
                         extractor.registry.to_rows())).encode()).hexdigest())
"""


def test_seed000_same_output_whatever_the_hash_seed() -> None:
    """Restoration + entities must not follow set order: truecase keeps casings in sets, and
    PYTHONHASHSEED=3 once flipped a tie on seed 000 (seeds 1 and 3 differed)."""
    import os
    import subprocess
    import sys

    files = sorted(SEEDS.glob("000_*.txt"))
    if not files:
        pytest.skip(f"seed 000 not found under {SEEDS}")
    runs = [
        subprocess.Popen([sys.executable, "-c", _HASH_SEED_RUN, str(files[0])], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONHASHSEED": hash_seed})
        for hash_seed in ("1", "3")
    ]
    outputs = []
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err[-2000:]
        outputs.append(out.strip().splitlines()[-1])
    assert outputs[0] == outputs[1], "restore + entities on seed 000 depend on PYTHONHASHSEED"


def test_boundary_quality_floor_on_heldout_wikinews() -> None:
    """The shipped model must keep its measured quality on the 20 Wikinews articles it never saw
    (events 8-9; F1 0.617 when shipped): a retrain or feature change that drops below 0.58 fails here
    instead of surfacing later as worse summaries."""
    from storyline.normalize.boundaries import word_spans
    from storyline.normalize.train_boundaries import default_samples, held_out, prf

    samples = default_samples()
    if not samples.is_file():
        pytest.skip(f"Wikinews sample {samples} not found")
    golds = held_out(samples)
    arts = [make_article(" ".join(g.words), f"held{i}") for i, g in enumerate(golds)]
    restore_batch(arts)
    preds = []
    for art, g in zip(arts, golds):
        assert art.restoration.boundaries_restored, art.id
        ends = {b: i for i, (_, b) in enumerate(word_spans(art.text))}
        preds.append({ends[s.end] for s in art.sentences if ends.get(s.end, len(g.words) - 1) < len(g.words) - 1})
    p, r, f1 = prf(zip(preds, (g.gaps for g in golds)))
    assert f1 >= 0.58, f"held-out boundary F1 {f1:.3f} (P={p:.3f} R={r:.3f}) fell below 0.58"
