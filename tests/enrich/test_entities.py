"""Entities: canonical names, the registry, real spaCy models on the seeds, languages without a model.

Degraded seeds are restored first with ``storyline.normalize.restore.restore``, as the pipeline does.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storyline.enrich.canonical import EntityRegistry, clean_name, name_key
from storyline.enrich.entities import EntityExtractor, _to_doc, ner_input
from storyline.model import Article, EntityType, Sentence
from storyline.normalize.restore import restore

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "examples" / "seeds"  # shipped copies of ../shared/seeds and ../shared/samples
SAMPLES = ROOT / "examples" / "wikinews" / "wikinews_en.jsonl"
P, O, L = EntityType.PERSON, EntityType.ORGANISATION, EntityType.PLACE


# ---------------------------------------------------------------- helpers
def make_article(text: str, *, language: str | None = "en", name: str = "a", marker: str = "") -> Article:
    original = marker + text
    return Article(
        id=name,
        text=text,
        original_text=original,
        origin=name,
        content_hash=name,
        ingested_at=dt.datetime(2026, 1, 1),
        language=language,
        text_offset=len(marker),
    )


def seed(prefix: str) -> Article:
    files = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not files:
        pytest.skip(f"seed {prefix} not found under {SEEDS}")
    original = files[0].read_text()
    marker = re.match(r"\s*date \d{4}-\d{2}-\d{2}\s", original)  # ingest strips this stamp
    cut = marker.end() if marker else 0
    article = make_article(original[cut:], name=files[0].name, marker=original[:cut])
    restore(article)
    return article


def names(article: Article, etype: EntityType | None = None) -> set[str]:
    return {m.canonical for m in article.entities if etype is None or m.type is etype}


# ---------------------------------------------------------------- canonical names
@pytest.mark.parametrize(
    ("surface", "etype", "expected"),
    [
        ("U.S. envoy Zalmay Khalilzad", P, "Zalmay Khalilzad"),
        ("u s envoy zalmay khalilzad", P, "zalmay khalilzad"),
        ("President Donald Trump's", P, "Donald Trump"),
        ("Army Gen Austin Scott Miller", P, "Austin Scott Miller"),
        ("mullah Abdul Ghani Baradar", P, "Abdul Ghani Baradar"),
        ("Khalilzad s Tweeted", P, "Khalilzad"),
        ("the Taliban", O, "Taliban"),
        ("Bank of England", O, "Bank of England"),
        ("President", P, "President"),  # nothing but a title: kept, not emptied
        ("Marine Le Pen", P, "Marine Le Pen"),
        ("former Prime Minister Theresa May", P, "Theresa May"),
    ],
)
def test_clean_name(surface: str, etype: EntityType, expected: str) -> None:
    assert clean_name(surface, etype) == expected


def test_name_key_collapses_spelling_variants() -> None:
    assert {name_key(s) for s in ["U.S.", "u s", "U S", "US", "u.s"]} == {"us"}
    assert name_key("King's Cross") == name_key("king s cross") == "kings cross"
    assert name_key("al-Qaeda") == name_key("Al Qaeda") == "al qaeda"
    assert name_key("Călin Popescu-Tăriceanu") == "calin popescu tariceanu"


@pytest.mark.parametrize("surface", ["u s", "U S", "U.S.", "US", "United States", "the U.S.", "USA"])
@pytest.mark.parametrize("etype", [L, O])
def test_united_states_aliases(surface: str, etype: EntityType) -> None:
    registry = EntityRegistry()
    assert registry.resolve(surface, etype) == ("United States", L)


def test_america_is_the_country_only_as_a_place() -> None:
    registry = EntityRegistry()
    assert registry.canonical("America", L) == "United States"
    assert registry.canonical("America", P) == "America"
    assert registry.canonical("U.K.", L) == registry.canonical("Britain", L) == "United Kingdom"
    assert registry.canonical("U.N.", O) == "United Nations"


def test_surname_links_to_the_one_full_name_known() -> None:
    registry = EntityRegistry()
    assert registry.canonical("U.S. envoy Zalmay Khalilzad", P) == "Zalmay Khalilzad"
    assert registry.canonical("khalilzad", P) == "Zalmay Khalilzad"
    assert registry.canonical("Khalilzad", O) == "Zalmay Khalilzad"  # a mislabel still links
    registry.canonical("John Smith", P)
    registry.canonical("Jane Smith", P)
    assert registry.canonical("Smith", P) == "Smith"  # two candidates: no guess


def test_surname_seen_first_is_absorbed_by_the_full_name() -> None:
    registry = EntityRegistry()
    assert registry.canonical("Baradar", P) == "Baradar"
    assert registry.canonical("Abdul Ghani Baradar", P) == "Abdul Ghani Baradar"
    assert registry.canonical("Baradar", P) == "Abdul Ghani Baradar"
    assert [e.canonical for e in registry.entities()] == ["Abdul Ghani Baradar"]


def test_group_plural_is_the_same_group() -> None:
    registry = EntityRegistry()
    assert registry.canonical("Afghan", EntityType.GROUP) == registry.canonical("Afghans", EntityType.GROUP) == "Afghan"
    assert registry.canonical("Afghans", O) == "Afghan"  # the alias is learned now, whatever the label


def test_majority_type_wins() -> None:
    registry = EntityRegistry()
    registry.canonical("Hamid Karzai", O)
    registry.canonical("Hamid Karzai", P)
    registry.canonical("Hamid Karzai", P)
    assert registry.type_of("hamid karzai") is P


_SURFACES = ["Zalmay Khalilzad", "khalilzad", "Khalilzad", "U.S.", "Taliban", "Doha", "Baradar",
             "Abdul Ghani Baradar", "Ghani", "Ashraf Ghani", "Afghans", "Afghan", "Pompeo", "Mike Pompeo", "Kabul"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from(_SURFACES), st.sampled_from([P, O, L, EntityType.GROUP])),
                         max_size=8), max_size=6))
def test_incremental_rows_equal_the_whole_table(tmp_path_factory, batches) -> None:
    """Writing only each batch's changed aliases leaves the store equal to a rewrite of the whole table,
    through surname absorption and majority-type changes (which touch rows of names not mentioned)."""
    from storyline.store import Store

    registry = EntityRegistry()
    with Store(tmp_path_factory.mktemp("reg") / "s.db") as store:
        for batch in batches:
            for surface, etype in batch:
                registry.canonical(surface, etype)
            store.update_entity_rows(*registry.take_changes())
            assert sorted(store.entity_rows()) == registry.to_rows()
        assert EntityRegistry.from_rows(store.entity_rows()).take_changes() == ([], [])


def test_incremental_rows_follow_a_majority_type_change(tmp_path) -> None:
    """An alias row carries its name's majority type: a flip rewrites rows of aliases not mentioned again."""
    from storyline.store import Store

    registry = EntityRegistry()
    with Store(tmp_path / "s.db") as store:
        registry.add("Kabul", L, "kabul city")
        store.update_entity_rows(*registry.take_changes())
        registry.add("Kabul", O)
        registry.add("Kabul", O)
        keys, rows = registry.take_changes()
        assert "kabul city" in keys
        store.update_entity_rows(keys, rows)
        registry.add("Ghani", P)
        store.update_entity_rows(*registry.take_changes())
        registry.add("Ashraf Ghani", P)  # the bare surname is absorbed into the full name
        store.update_entity_rows(*registry.take_changes())
        assert sorted(store.entity_rows()) == registry.to_rows()
        assert ("kabul city", "Kabul", "organisation", 0) in registry.to_rows()


def test_registry_round_trip() -> None:
    registry = EntityRegistry()
    for surface, etype in [
        ("Zalmay Khalilzad", P), ("khalilzad", O), ("U.S.", O), ("Taliban", O), ("Taliban", P),
        ("Taliban", O), ("Doha", L), ("Baradar", P), ("Abdul Ghani Baradar", P),
    ]:
        registry.canonical(surface, etype)
    rows = registry.to_rows()
    again = EntityRegistry.from_rows(reversed(rows))
    assert again.to_rows() == rows
    assert again.entities() == registry.entities()
    assert again.canonical("KHALILZAD", P) == "Zalmay Khalilzad"
    assert again.canonical("baradar", P) == "Abdul Ghani Baradar"
    assert again.type_of("Taliban") is O
    with pytest.raises(ValueError, match="own key"):
        EntityRegistry.from_rows([("khalilzad", "Zalmay Khalilzad", "person", 3)])


# ---------------------------------------------------------------- extraction with real models
@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return EntityExtractor()


def test_offsets_sentences_and_model(extractor: EntityExtractor) -> None:
    text = "U.S. envoy Zalmay Khalilzad met Taliban leaders in Doha, Qatar. Khalilzad said talks went well."
    article = make_article(text, marker=" date 2020-01-16 ")
    article.sentences = [Sentence(0, 63, text[:63]), Sentence(64, len(text), text[64:])]
    extractor.extract([article])
    assert article.models["entities"].startswith("spacy:en_core_web_sm")
    for m in article.entities:
        assert article.original_text[m.start : m.end] == m.surface
    khalilzad = [m for m in article.entities if m.canonical == "Zalmay Khalilzad"]
    assert [m.sentence for m in khalilzad] == [0, 1] and all(m.type is P for m in khalilzad)
    assert {"United States", "Taliban", "Doha", "Qatar"} <= names(article)


def test_tokenised_text_yields_no_bracket_entities(extractor: EntityExtractor) -> None:
    """Penn Treebank brackets and quotes ("-LRB- WHO -RRB-", "``") were read as parts of names ("World Health
    Organization -LRB- WHO", "RRB"); restore rewrites them in place, so names and offsets come out clean."""
    text = ("NEW ORLEANS -LRB- AP -RRB- -- The World Health Organization -LRB- WHO -RRB- and the "
            "Department of Health -LRB- DH -RRB- said the curfew in Port-au-Prince -LRB- Haiti -RRB- would end . "
            "`` It is over , '' said Doctor Conrad Murray -LRB- pictured -RRB- . Photograph : Charles Dharapak\\/AP")
    article = make_article(text, marker=" date 2010-01-16 ")
    restore(article)
    extractor.extract([article])
    found = names(article)
    assert {"World Health Organization", "Department of Health", "Port-au-Prince", "Charles Dharapak"} <= found
    assert not [n for n in found if re.search(r"[()`'/\\]|\b[LR][RCS]B\b", n, re.I)], found
    for m in article.entities:
        assert article.original_text[m.start : m.end] == m.surface
        assert m.surface == m.surface.strip() and not re.search(r"-[LR][RCS]B-|``|''", m.surface)


def test_no_model_language_reports_a_problem(extractor: EntityExtractor) -> None:
    article = make_article("Zalman Khalilzad jednal s Talibanem v Dauhá.", language="cs")
    extractor.extract([article])
    extractor.extract([article])
    assert article.entities == [] and "entities" not in article.models
    assert [p for p in article.problems if "no spaCy model for language 'cs'" in p] == article.problems
    assert len(article.problems) == 1


def test_unknown_language_says_english_was_assumed(extractor: EntityExtractor) -> None:
    article = make_article("Angela Merkel visited Paris.", language=None)
    extractor.extract([article])
    assert "Angela Merkel" in names(article, P)
    assert article.problems == ["entities: language unknown; the English model was used"]


def test_french_model(extractor: EntityExtractor) -> None:
    article = make_article("Emmanuel Macron a rencontré Angela Merkel à Berlin.", language="fr")
    extractor.extract([article])
    assert "fr_core_news_sm" in article.models["entities"]
    assert {"Emmanuel Macron", "Angela Merkel"} <= names(article, P) and "Berlin" in names(article, L)


def test_sentence_stops_for_the_model_map_back() -> None:
    text = "khalilzad met baradar in doha the talks ended"
    article = make_article(text)
    article.sentences = [Sentence(0, 29, text[:29]), Sentence(30, len(text), text[30:])]
    fed, inserted = ner_input(article)
    assert fed == text[:29] + "." + text[29:] and inserted == [29]
    assert [_to_doc(p, inserted) for p in (0, 28, 29, 30)] == [0, 28, 30, 31]
    article.sentences[0] = Sentence(0, 30, text[:30])  # a span that ends in a space gets the stop at the word
    assert ner_input(article) == (fed, inserted)
    article.restored_text = "Khalilzad met Baradar in Doha. The talks ended" [: len(text)]
    assert ner_input(article)[1] == []  # already punctuated: nothing added


def test_seeds_share_canonical_names() -> None:
    how = "storyline.normalize.restore"
    first, second = seed("000"), seed("003")
    extractor = EntityExtractor(EntityRegistry())
    extractor.extract([first, second])
    people = names(first, P)
    for expected in ["Zalmay Khalilzad", "Abdul Ghani Baradar", "Austin Scott Miller", "Ashraf Ghani", "John Sopko"]:
        assert expected in people, f"{expected} missing from seed 000 ({how}): {sorted(people)}"
    for expected in ["Taliban", "Doha", "Qatar", "Kabul", "United States"]:
        assert expected in names(first), f"{expected} missing from seed 000 ({how})"
    assert {"Zalmay Khalilzad", "Abdul Ghani Baradar"} <= names(second, P)
    assert second.entities[0].start >= second.text_offset
    for article in (first, second):
        for m in article.entities:
            assert article.original_text[m.start : m.end] == m.surface


_RUN = """
import hashlib, sys
sys.path.insert(0, {tests!r})
from test_entities import EntityExtractor, EntityRegistry, make_article, seed
articles = [seed("003"), make_article("Khalilzad met Baradar in Doha on Monday. The U.N. said so.", name="b")]
extractor = EntityExtractor(EntityRegistry())
extractor.extract(articles)
print(hashlib.sha1(repr(([a.entities for a in articles], extractor.registry.to_rows())).encode()).hexdigest())
"""


def test_deterministic_across_hash_seeds() -> None:
    """Same input, same output, even when Python's string hashing (set order) changes."""
    import os
    import subprocess
    import sys

    code = _RUN.format(tests=str(Path(__file__).parent))
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        outputs.add(done.stdout.strip().splitlines()[-1])
    assert len(outputs) == 1


# ---------------------------------------------------------------- quality on degraded text
@pytest.mark.slow
def test_degraded_wikinews_keeps_most_entities() -> None:
    """Floor: degraded copies keep >= 0.62 of the clean canonical entity set (mean recall), Jaccard >= 0.46.

    Measured 0.69 / 0.52 with the stand-in restoration (benchmarks/entities.py); bare NER on the
    restored text (no sentence stops, no known-name matching) measured 0.65 / 0.49. The floor sits
    0.07 under the measurement to absorb changes in restoration; it catches broken restoration or
    canonicalisation, not the last few points (the seed test pins those).
    """
    if not SAMPLES.exists():
        pytest.skip(f"{SAMPLES} not found")
    how = "storyline.normalize.restore"
    records = [json.loads(line) for line in SAMPLES.read_text().splitlines()]
    clean = [make_article(r["text"], name=r["id"]) for r in records]
    degraded = [make_article(" ".join(re.sub(r"[^\w\s]|_", " ", r["text"].lower()).split()), name=r["id"]) for r in records]
    for article in degraded:
        restore(article)
    start = time.perf_counter()
    EntityExtractor(EntityRegistry()).extract(clean)
    EntityExtractor(EntityRegistry()).extract(degraded)
    elapsed = time.perf_counter() - start
    recalls, jaccards = [], []
    for a, b in zip(clean, degraded):
        ref, got = {name_key(m.canonical) for m in a.entities}, {name_key(m.canonical) for m in b.entities}
        if ref:
            recalls.append(len(ref & got) / len(ref))
            jaccards.append(len(ref & got) / len(ref | got))
    recall, jaccard = sum(recalls) / len(recalls), sum(jaccards) / len(jaccards)
    print(f"{how}: recall {recall:.3f} jaccard {jaccard:.3f} ({2 * len(records) / elapsed:.1f} articles/s)")
    assert recall >= 0.62 and jaccard >= 0.46, f"{how}: recall {recall:.3f}, jaccard {jaccard:.3f}"


def test_worker_processes_give_the_same_result() -> None:
    texts = [f"Angela Merkel met Emmanuel Macron in Paris on day {i}. Merkel left for Berlin." for i in range(16)]
    results = []
    for workers in (1, 2):
        articles = [make_article(t, name=str(i)) for i, t in enumerate(texts)]
        EntityExtractor(EntityRegistry(), batch_size=4, n_process=workers).extract(articles)
        results.append([a.entities for a in articles])
    assert results[0] == results[1] and {"Angela Merkel", "Paris"} <= {m.canonical for m in results[0][0]}


def test_lead_then_only_sentences_with_new_names() -> None:
    """NER reads the lead and later sentences naming someone new; known names later are still matched."""
    lead = "Angela Merkel met Emmanuel Macron in Paris on Monday. " * 3
    filler = "The talks went on for hours and ended late in the evening. " * 6
    tail = "Afterwards Merkel flew home. Later, Olaf Scholz spoke to reporters in Hamburg."
    text = lead + filler + tail
    ends = [m.end() for m in re.finditer(r"\. ", text)] + [len(text)]
    article = make_article(text)
    article.restored_text = text
    article.sentences = [Sentence(a, b, text[a:b]) for a, b in zip([0, *ends[:-1]], ends)]
    extractor = EntityExtractor(EntityRegistry(), lead_chars=len(lead))
    extractor.model("en")
    plan = extractor._plan(article, text, [], frozenset(extractor.model("en").Defaults.stop_words))
    assert plan.segments[0] == (0, len(lead))
    assert [text[a:b].strip() for a, b in plan.segments[1:]] == ["Later, Olaf Scholz spoke to reporters in Hamburg."]
    extractor.extract([article])
    found = {(m.canonical, m.start) for m in article.entities}
    assert ("Angela Merkel", text.index("Merkel flew")) in found  # known surname, matched without NER
    assert {"Olaf Scholz", "Hamburg", "Emmanuel Macron", "Paris"} <= {m.canonical for m in article.entities}
    for m in article.entities:
        assert article.original_text[m.start : m.end] == m.surface


def test_lead_only_matches_full_text_on_the_seeds() -> None:
    """On seed 000 (degraded) the lead plan finds every name that NER over the whole text finds."""
    results = []
    for lead_chars in (None, 1000):
        article = seed("000")
        EntityExtractor(EntityRegistry(), lead_chars=lead_chars).extract([article])
        results.append({m.canonical for m in article.entities})
    assert results[0] == results[1]


def test_numpy_products_give_the_entities_blis_gives() -> None:
    """The model's products run through numpy on one BLAS thread (``numpy_gemm``, the default, ~25% less NER
    CPU); on 30 Wikinews articles every entity (name, type, offsets) is the one thinc's blis gives."""
    from thinc.api import NumpyOps

    if not SAMPLES.exists():
        pytest.skip(f"{SAMPLES} not found")
    records = [json.loads(line) for line in SAMPLES.read_text().splitlines()[:30]]
    results = []
    for numpy_gemm in (False, True):
        articles = [make_article(r["text"], name=r["id"]) for r in records]
        extractor = EntityExtractor(EntityRegistry(), lead_chars=None, numpy_gemm=numpy_gemm)
        extractor.extract(articles)
        ops = {type(node.ops).__name__ + ("+blis" if getattr(node.ops, "use_blis", False) else "")
               for node in extractor.model("en").get_pipe("ner").model.walk()}
        assert ops == ({"NumpyOps"} if numpy_gemm else {"NumpyOps+blis"})
        results.append([a.entities for a in articles])
    assert sum(len(e) for e in results[0]) > 300 and results[0] == results[1]
