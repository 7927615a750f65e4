"""The seed corpus: valid, unique, with the promised mix of regions, languages, gender and SDGs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from ingest.language import detect_language
from ingest.pipeline import Parsed, parse_paths
from kb.settings import Settings

CORPUS = Path(__file__).parents[1] / "corpus"
REGIONS = {"Africa", "Asia-Pacific", "Europe", "Latin America and the Caribbean", "Middle East", "North America"}


@pytest.fixture(scope="module")
def corpus():
    items = list(parse_paths([CORPUS], Settings()))
    rejected = [i.line() for i in items if not isinstance(i, Parsed)]
    assert rejected == [], rejected
    return [i.record for i in items]


def test_ids_are_unique(corpus):
    counts = Counter(r.id for r in corpus)
    assert [i for i, n in counts.items() if n > 1] == []


def test_practice_counts_regions_and_gender(corpus):
    practices = [r for r in corpus if r.kind == "practice"]
    assert len(practices) >= 250
    assert len({(r.city, r.country) for r in practices}) >= 120
    assert {r.region for r in practices} == REGIONS
    assert sum(r.gender_perspective for r in practices) >= 60
    assert all(5 in r.sdgs for r in practices if r.gender_perspective)
    for r in practices:
        words = len((r.description or "").split())
        assert 120 <= words <= 300, (r.id, words)
        assert r.city and r.country and r.sdgs and r.topics, r.id


def test_language_mix(corpus):
    practices = [r for r in corpus if r.kind == "practice"]
    languages = Counter(r.language for r in practices)
    assert sum(n for lang, n in languages.items() if lang != "en") >= 0.35 * len(practices)
    assert languages["es"] >= 40 and languages["fr"] >= 40
    assert all(languages[lang] > 0 for lang in ("pt", "ca", "de", "it"))


def test_declared_language_agrees_with_langdetect(corpus):
    disagree = [r.id for r in corpus if detect_language(f"{r.title}. {r.text()}") != r.language]
    assert len(disagree) <= 0.05 * len(corpus), disagree


def test_every_sdg_is_present(corpus):
    assert {s for r in corpus for s in r.sdgs} == set(range(1, 18))


def test_publications(corpus):
    publications = [r for r in corpus if r.kind == "publication"]
    assert len(publications) >= 15 and sum(p.gender_perspective for p in publications) >= 8
    assert {p.language for p in publications} >= {"en", "fr", "es"}
    assert all(p.url for p in publications)


def test_readme_is_generated_from_the_records():
    import runpy

    render = runpy.run_path(str(CORPUS / "make_readme.py"))["render"]
    assert (CORPUS / "README.md").read_text() == render(), "run: python corpus/make_readme.py"


def test_queries_reference_existing_records(corpus):
    path = CORPUS.parent / "bench" / "corpus_queries.jsonl"
    if not path.exists():
        pytest.skip("no queries file yet")
    ids = {r.id for r in corpus}
    queries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert len(queries) >= 120
    assert all(set(q["relevant"]) <= ids for q in queries)
    languages = Counter(q["language"] for q in queries)
    assert min(languages["en"], languages["fr"], languages["es"]) >= 30
